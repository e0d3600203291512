/* The job queue and every job's data: the engine owns them, and it is the only place a job's
 * state changes (behaviour.md §1).  The COM files validate arguments, then call in here; the
 * only interface this file calls is the client's notify interface, released with its job.
 *
 * Lifetime: a job is counted.  The queue holds one reference while the job is live (not
 * ACKNOWLEDGED or CANCELLED); every COM object and snapshot holds one more.  A final job leaves
 * the queue at once but its data stays readable while referenced (behaviour.md §0.3).
 *
 * Locking (STYLE.md): queue.cs is the manager-level lock and comes first; then at most one
 * job's cs.  Job locks are recursive, so the self-locking getters also work with the lock held.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#include <assert.h>
#include <stdlib.h>

#include "qmgr_private.h"

DEFAULT_DEBUG_CHANNEL(qmgr);

/* Defaults of a new job: behaviour.md §7.1, §7.4 and §6.4. */
#define DEFAULT_RETRY_DELAY             600
#define DEFAULT_NO_PROGRESS_TIMEOUT     1209600
#define DEFAULT_MAX_DOWNLOAD_TIME       7776000
#define DEFAULT_NOTIFICATION_INTERVAL   500
#define DEFAULT_NOTIFY_FLAGS            (BG_NOTIFY_JOB_TRANSFERRED | BG_NOTIFY_JOB_ERROR)

struct engine_job
{
    LONG refcount;
    GUID id;                        /* id and type never change */
    BG_JOB_TYPE type;
    CRITICAL_SECTION cs;            /* guards every field below */
    BG_JOB_STATE state;
    struct job_owner owner;
    FILETIME creation_time;
    FILETIME modification_time;
    FILETIME completion_time;       /* zero until the job is TRANSFERRED */
    ULONG error_count;
    BG_JOB_REPLY_PROGRESS reply_progress;   /* upload-reply jobs */
    struct job_props props;
    struct job_file **files;
    ULONG file_count;
    ULONG file_capacity;
};

static struct
{
    CRITICAL_SECTION cs;            /* guards the three fields below */
    struct engine_job **jobs;       /* the live jobs, each holding the queue's reference */
    ULONG count;
    ULONG capacity;
} queue;

static INIT_ONCE queue_once = INIT_ONCE_STATIC_INIT;

static const char *debugstr_state(BG_JOB_STATE state)
{
    static const char *const names[] =
    {
        "QUEUED", "CONNECTING", "TRANSFERRING", "SUSPENDED", "ERROR", "TRANSIENT_ERROR",
        "TRANSFERRED", "ACKNOWLEDGED", "CANCELLED",
    };
    return (unsigned int)state < ARRAYSIZE(names) ? names[state] : "?";
}

static inline BOOL job_lock_held(const struct engine_job *job)
{
    return job->cs.OwningThread == ULongToHandle(GetCurrentThreadId());
}

static BOOL is_final(BG_JOB_STATE state)
{
    return state == BG_JOB_STATE_ACKNOWLEDGED || state == BG_JOB_STATE_CANCELLED;
}

/* Wall-clock time of the job's BG_JOB_TIMES. */
static void get_time(FILETIME *time)
{
    GetSystemTimeAsFileTime(time);
}

/* The one place a job's state changes.  Job lock held. */
static void set_state(struct engine_job *job, BG_JOB_STATE state)
{
    assert(job_lock_held(job));
    TRACE("job %s: %s -> %s\n", debugstr_guid(&job->id), debugstr_state(job->state),
          debugstr_state(state));
    job->state = state;
    get_time(&job->modification_time);
}

static BOOL CALLBACK init_queue(INIT_ONCE *once, void *param, void **context)
{
    (void)once; (void)param; (void)context;
    InitializeCriticalSection(&queue.cs);
    return TRUE;
}

/* Called by ServiceMain before it publishes the class objects; a service restarted in the same
 * process calls it again. */
HRESULT engine_init(void)
{
    TRACE("\n");
    InitOnceExecuteOnce(&queue_once, init_queue, NULL, NULL);
    return S_OK;
}

/* Called by ServiceMain after it revoked the class objects.  Drops the queue's references;
 * objects clients still hold keep their jobs readable.  The lock stays, since late calls may
 * still arrive. */
void engine_shutdown(void)
{
    struct engine_job **jobs;
    ULONG count, i;

    TRACE("\n");
    EnterCriticalSection(&queue.cs);
    jobs = queue.jobs;
    count = queue.count;
    queue.jobs = NULL;
    queue.count = queue.capacity = 0;
    LeaveCriticalSection(&queue.cs);
    for (i = 0; i < count; i++) engine_job_release(jobs[i]);
    free(jobs);
}

void engine_free_owner(struct job_owner *owner)
{
    free(owner->sid);
    free(owner->sid_string);
    memset(owner, 0, sizeof(*owner));
}

static void free_props(struct job_props *props)
{
    free(props->display_name);
    free(props->description);
    free(props->proxy_list);
    free(props->proxy_bypass_list);
    free(props->notify_program);
    free(props->notify_parameters);
    free(props->reply_file_name);
    free(props->custom_headers);
    free(props->http_method);
}

static void free_file(struct job_file *file)
{
    free(file->remote_name);
    free(file->local_name);
    free(file->temp_name);
    free(file);
}

static void destroy_job(struct engine_job *job)
{
    ULONG i;

    TRACE("job %s\n", debugstr_guid(&job->id));
    /* The last reference is gone, so no lock is held: safe for a release that crosses into the
     * client's process. */
    if (job->props.notify_iface) IUnknown_Release(job->props.notify_iface);
    for (i = 0; i < job->file_count; i++) free_file(job->files[i]);
    free(job->files);
    free_props(&job->props);
    engine_free_owner(&job->owner);
    DeleteCriticalSection(&job->cs);
    free(job);
}

void engine_job_addref(struct engine_job *job)
{
    InterlockedIncrement(&job->refcount);
}

void engine_job_release(struct engine_job *job)
{
    if (!InterlockedDecrement(&job->refcount)) destroy_job(job);
}

/* Queue lock held. */
static HRESULT queue_append(struct engine_job *job)
{
    if (queue.count == queue.capacity)
    {
        ULONG capacity = max(16, queue.capacity * 2);
        struct engine_job **jobs = realloc(queue.jobs, capacity * sizeof(*jobs));

        if (!jobs) return E_OUTOFMEMORY;
        queue.jobs = jobs;
        queue.capacity = capacity;
    }
    queue.jobs[queue.count++] = job;
    return S_OK;
}

/* Queue lock held.  Returns whether the job was queued; its reference passes to the caller. */
static BOOL queue_remove(struct engine_job *job)
{
    ULONG i;

    for (i = 0; i < queue.count; i++)
    {
        if (queue.jobs[i] != job) continue;
        memmove(&queue.jobs[i], &queue.jobs[i + 1], (queue.count - i - 1) * sizeof(*queue.jobs));
        queue.count--;
        return TRUE;
    }
    return FALSE;
}

static void init_props(struct job_props *props)
{
    props->priority = BG_JOB_PRIORITY_NORMAL;
    props->notify_flags = DEFAULT_NOTIFY_FLAGS;
    props->retry_delay = DEFAULT_RETRY_DELAY;
    props->no_progress_timeout = DEFAULT_NO_PROGRESS_TIMEOUT;
    props->proxy_usage = BG_JOB_PROXY_USAGE_PRECONFIG;
    props->max_download_time = DEFAULT_MAX_DOWNLOAD_TIME;
    /* The transfers follow no network cost policy, so the honest transfer policy is ALWAYS;
     * Windows' default depends on the version (behaviour.md G24). */
    props->cost_flags = BITS_JOB_TRANSFER_POLICY_ALWAYS;
    props->max_download_size = ~(UINT64)0;          /* no limit */
    props->notification_interval = DEFAULT_NOTIFICATION_INTERVAL;
}

HRESULT engine_create_job(const WCHAR *name, BG_JOB_TYPE type, struct job_owner *owner,
                          struct engine_job **out)
{
    struct engine_job *job;
    HRESULT hr;

    *out = NULL;
    job = calloc(1, sizeof(*job));
    if (!job)
    {
        engine_free_owner(owner);
        return E_OUTOFMEMORY;
    }
    job->refcount = 1;
    job->type = type;
    job->state = BG_JOB_STATE_SUSPENDED;    /* behaviour.md §1.1 */
    job->owner = *owner;
    memset(owner, 0, sizeof(*owner));
    InitializeCriticalSection(&job->cs);
    get_time(&job->creation_time);
    job->modification_time = job->creation_time;
    job->reply_progress.BytesTotal = BG_SIZE_UNKNOWN;   /* behaviour.md §7.1 */
    init_props(&job->props);
    job->props.display_name = _wcsdup(name);
    if (!job->props.display_name)
    {
        destroy_job(job);
        return E_OUTOFMEMORY;
    }
    hr = CoCreateGuid(&job->id);
    if (FAILED(hr))
    {
        destroy_job(job);
        return hr;
    }

    EnterCriticalSection(&queue.cs);
    hr = queue_append(job);
    if (SUCCEEDED(hr)) engine_job_addref(job);
    LeaveCriticalSection(&queue.cs);
    if (FAILED(hr))
    {
        destroy_job(job);
        return hr;
    }
    TRACE("job %s, type %u, name %s\n", debugstr_guid(&job->id), type, debugstr_w(name));
    *out = job;
    return S_OK;
}

HRESULT engine_find_job(const GUID *id, struct engine_job **out)
{
    ULONG i;

    *out = NULL;
    EnterCriticalSection(&queue.cs);
    for (i = 0; i < queue.count; i++)
    {
        if (!IsEqualGUID(&queue.jobs[i]->id, id)) continue;
        *out = queue.jobs[i];
        engine_job_addref(*out);
        break;
    }
    LeaveCriticalSection(&queue.cs);
    return *out ? S_OK : BG_E_NOT_FOUND;
}

HRESULT engine_list_jobs(PSID owner, struct engine_job ***out, ULONG *out_count)
{
    struct engine_job **jobs;
    ULONG count = 0, i;

    *out = NULL;
    *out_count = 0;
    EnterCriticalSection(&queue.cs);
    jobs = malloc(max(queue.count, 1) * sizeof(*jobs));
    if (!jobs)
    {
        LeaveCriticalSection(&queue.cs);
        return E_OUTOFMEMORY;
    }
    for (i = 0; i < queue.count; i++)
    {
        if (owner && !engine_job_owned_by(queue.jobs[i], owner)) continue;
        jobs[count] = queue.jobs[i];
        engine_job_addref(jobs[count++]);
    }
    LeaveCriticalSection(&queue.cs);
    *out = jobs;
    *out_count = count;
    return S_OK;
}

void engine_free_job_list(struct engine_job **jobs, ULONG count)
{
    ULONG i;

    for (i = 0; i < count; i++) engine_job_release(jobs[i]);
    free(jobs);
}

const GUID *engine_job_id(const struct engine_job *job)
{
    return &job->id;
}

BG_JOB_TYPE engine_job_type(const struct engine_job *job)
{
    return job->type;
}

BG_JOB_STATE engine_job_state(struct engine_job *job)
{
    BG_JOB_STATE state;

    EnterCriticalSection(&job->cs);
    state = job->state;
    LeaveCriticalSection(&job->cs);
    return state;
}

BOOL engine_job_owned_by(struct engine_job *job, PSID sid)
{
    BOOL ret;

    EnterCriticalSection(&job->cs);
    ret = EqualSid(job->owner.sid, sid);
    LeaveCriticalSection(&job->cs);
    return ret;
}

void engine_job_times(struct engine_job *job, BG_JOB_TIMES *times)
{
    EnterCriticalSection(&job->cs);
    times->CreationTime = job->creation_time;
    times->ModificationTime = job->modification_time;
    times->TransferCompletionTime = job->completion_time;
    LeaveCriticalSection(&job->cs);
}

/* Job lock held.  Every byte of the file is in (download) or sent (upload). */
BOOL engine_file_transferred(const struct job_file *file)
{
    return file->bytes_total != BG_SIZE_UNKNOWN && file->bytes_transferred == file->bytes_total;
}

/* behaviour.md §7.3: sums over the files; the total is unknown while any file's size is. */
void engine_job_progress(struct engine_job *job, BG_JOB_PROGRESS *progress)
{
    ULONG i;

    memset(progress, 0, sizeof(*progress));
    EnterCriticalSection(&job->cs);
    for (i = 0; i < job->file_count; i++)
    {
        const struct job_file *file = job->files[i];

        if (file->bytes_total == BG_SIZE_UNKNOWN) progress->BytesTotal = BG_SIZE_UNKNOWN;
        else if (progress->BytesTotal != BG_SIZE_UNKNOWN) progress->BytesTotal += file->bytes_total;
        progress->BytesTransferred += file->bytes_transferred;
        if (engine_file_transferred(file)) progress->FilesTransferred++;
    }
    progress->FilesTotal = job->file_count;
    LeaveCriticalSection(&job->cs);
}

void engine_job_reply_progress(struct engine_job *job, BG_JOB_REPLY_PROGRESS *progress)
{
    EnterCriticalSection(&job->cs);
    *progress = job->reply_progress;
    LeaveCriticalSection(&job->cs);
}

ULONG engine_job_error_count(struct engine_job *job)
{
    ULONG count;

    EnterCriticalSection(&job->cs);
    count = job->error_count;
    LeaveCriticalSection(&job->cs);
    return count;
}

ULONG engine_job_file_count(struct engine_job *job)
{
    ULONG count;

    EnterCriticalSection(&job->cs);
    count = job->file_count;
    LeaveCriticalSection(&job->cs);
    return count;
}

HRESULT engine_job_files(struct engine_job *job, struct job_file ***out, ULONG *out_count)
{
    struct job_file **files;

    *out = NULL;
    *out_count = 0;
    EnterCriticalSection(&job->cs);
    files = malloc(max(job->file_count, 1) * sizeof(*files));
    if (files)
    {
        memcpy(files, job->files, job->file_count * sizeof(*files));
        *out_count = job->file_count;
    }
    LeaveCriticalSection(&job->cs);
    if (!files) return E_OUTOFMEMORY;
    *out = files;
    return S_OK;
}

struct job_props *engine_job_lock(struct engine_job *job)
{
    EnterCriticalSection(&job->cs);
    return &job->props;
}

void engine_job_unlock(struct engine_job *job)
{
    LeaveCriticalSection(&job->cs);
}

const struct job_owner *engine_job_owner(struct engine_job *job)
{
    assert(job_lock_held(job));
    return &job->owner;
}

/* behaviour.md §2.1: a final job takes no changes. */
HRESULT engine_job_lock_for_change(struct engine_job *job, struct job_props **props)
{
    *props = NULL;
    EnterCriticalSection(&job->cs);
    if (is_final(job->state))
    {
        LeaveCriticalSection(&job->cs);
        return BG_E_INVALID_STATE;
    }
    *props = &job->props;
    return S_OK;
}

/* behaviour.md §7.5: every change of a job's settings counts as a modification. */
void engine_job_commit(struct engine_job *job)
{
    assert(job_lock_held(job));
    get_time(&job->modification_time);
    LeaveCriticalSection(&job->cs);
}

static struct job_file *create_file(const BG_FILE_INFO *info)
{
    struct job_file *file = calloc(1, sizeof(*file));

    if (!file) return NULL;
    file->remote_name = _wcsdup(info->RemoteName);
    file->local_name = _wcsdup(info->LocalName);
    file->bytes_total = BG_SIZE_UNKNOWN;
    if (file->remote_name && file->local_name) return file;
    free_file(file);
    return NULL;
}

/* Job lock held.  Whether a local name is already taken by one of the first count files of the
 * job or of the new ones (behaviour.md G4: one local file per job). */
static BOOL local_name_taken(const struct engine_job *job, struct job_file **added, ULONG count,
                             const WCHAR *name)
{
    ULONG i;

    for (i = 0; i < job->file_count; i++)
        if (!_wcsicmp(job->files[i]->local_name, name)) return TRUE;
    for (i = 0; i < count; i++)
        if (!_wcsicmp(added[i]->local_name, name)) return TRUE;
    return FALSE;
}

/* Job lock held.  Room for count more files; the array only grows. */
static HRESULT reserve_files(struct engine_job *job, ULONG count)
{
    struct job_file **files;
    ULONG capacity;

    if (job->file_count + count <= job->file_capacity) return S_OK;
    capacity = max(job->file_count + count, job->file_capacity * 2);
    files = realloc(job->files, capacity * sizeof(*files));
    if (!files) return E_OUTOFMEMORY;
    job->files = files;
    job->file_capacity = capacity;
    return S_OK;
}

/* Job lock not held.  Appends the new files, or none of them; on success the job owns them. */
static HRESULT append_files(struct engine_job *job, struct job_file **added, ULONG count)
{
    HRESULT hr = S_OK;
    ULONG i;

    EnterCriticalSection(&job->cs);
    if (is_final(job->state))
        hr = BG_E_INVALID_STATE;
    else if (job->type != BG_JOB_TYPE_DOWNLOAD && job->file_count + count > 1)
        hr = BG_E_TOO_MANY_FILES;
    for (i = 0; SUCCEEDED(hr) && i < count; i++)
    {
        if (local_name_taken(job, added, i, added[i]->local_name))
        {
            WARN("local name %s used twice\n", debugstr_w(added[i]->local_name));
            hr = E_INVALIDARG;
        }
    }
    if (SUCCEEDED(hr)) hr = reserve_files(job, count);
    if (FAILED(hr) || !count)
    {
        LeaveCriticalSection(&job->cs);
        return hr;
    }
    memcpy(&job->files[job->file_count], added, count * sizeof(*added));
    job->file_count += count;
    engine_job_commit(job);
    return S_OK;
}

/* behaviour.md §2.2: all files or none.  Upload jobs take exactly one file. */
HRESULT engine_add_files(struct engine_job *job, ULONG count, const BG_FILE_INFO *info)
{
    struct job_file **added;
    HRESULT hr = S_OK;
    ULONG i;

    for (i = 0; SUCCEEDED(hr) && i < count; i++)
    {
        if (engine_job_type(job) == BG_JOB_TYPE_DOWNLOAD)
            hr = localfile_check_destination(info[i].LocalName);
        else
            hr = localfile_check_source(info[i].LocalName);
    }
    if (FAILED(hr)) return hr;

    added = calloc(max(count, 1), sizeof(*added));
    if (!added) return E_OUTOFMEMORY;
    for (i = 0; SUCCEEDED(hr) && i < count; i++)
    {
        added[i] = create_file(&info[i]);
        if (!added[i]) hr = E_OUTOFMEMORY;
    }
    if (SUCCEEDED(hr)) hr = append_files(job, added, count);
    if (FAILED(hr))
    {
        for (i = 0; i < count; i++)
            if (added[i]) free_file(added[i]);
    }
    free(added);
    return hr;
}

HRESULT engine_set_remote_name(struct engine_job *job, struct job_file *file, const WCHAR *name)
{
    struct job_props *props;
    WCHAR *copy = _wcsdup(name), *old;
    HRESULT hr;

    if (!copy) return E_OUTOFMEMORY;
    hr = engine_job_lock_for_change(job, &props);
    if (FAILED(hr))
    {
        free(copy);
        return hr;
    }
    old = file->remote_name;
    file->remote_name = copy;
    engine_job_commit(job);
    free(old);
    return S_OK;
}

/* behaviour.md §3.2. */
HRESULT engine_cancel_job(struct engine_job *job)
{
    HRESULT hr = S_OK;
    BOOL queued = FALSE;

    EnterCriticalSection(&queue.cs);
    EnterCriticalSection(&job->cs);
    if (is_final(job->state)) hr = BG_E_INVALID_STATE;
    else set_state(job, BG_JOB_STATE_CANCELLED);
    LeaveCriticalSection(&job->cs);
    if (SUCCEEDED(hr)) queued = queue_remove(job);
    LeaveCriticalSection(&queue.cs);
    if (queued) engine_job_release(job);
    return hr;
}
