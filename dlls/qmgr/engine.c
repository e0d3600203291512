/* The job queue and every job's data: the engine owns them, and it is the only place a job's
 * state changes (behaviour.md §1).  The COM files validate arguments, then call in here; the
 * engine calls no interface itself (notify.c does, on its own threads).
 *
 * Lifetime: a job is counted.  The queue holds one reference while the job is live (not
 * ACKNOWLEDGED or CANCELLED); every COM object, snapshot, worker and pending notification holds
 * one more.  A final job leaves the queue at once but its data stays readable while referenced
 * (behaviour.md §0.3).
 *
 * Transfers: one scheduler thread decides which QUEUED jobs run (behaviour.md §5.1: FOREGROUND
 * first, then HIGH, NORMAL, LOW; round robin by time slice within a priority) and starts one
 * worker thread per running job, at most MAX_ACTIVE_JOBS at once.  A worker moves the files of
 * its job strictly in order through transport_download(), unlocked, and takes the job lock only
 * to read what it needs and to record results.  A client's Suspend, Resume, Cancel or Complete
 * never waits for a worker: it changes the job under its lock, bumps job->generation and aborts
 * the transport; a worker whose generation is stale records nothing more about the job's state.
 * The scheduler also runs the timers: MinimumRetryDelay and NoProgressTimeout (§4.2).
 *
 * Parts of files (behaviour.md §2.2, §7.2): a file of AddFileWithRanges keeps its ranges, and
 * its temporary file is them one after the other, so its bytes transferred say how far each
 * range got, as for any other file.  An on-demand file (Job5 ON_DEMAND_MODE) has the remote
 * layout instead, with sets of spans filled and still wanted (RequestFileRanges); its runs go
 * to http_fill(), and a job whose wanted spans are in but not every byte is SUSPENDED.
 *
 * Locking (STYLE.md): queue.cs is the manager-level lock and comes first; then at most one
 * job's cs; notify.c's lock may be taken under either.  Job locks are recursive, so the
 * self-locking getters also work with the lock held.  No file or network I/O happens under
 * either lock.
 *
 * Every change of a job's state goes through set_state(), and every other change of its data
 * through touch() or engine_job_commit(): both mark the job for the saver (see "Persistence"
 * below), which keeps the queue on disk through store.c.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#include <assert.h>
#include <stdlib.h>

#include "qmgr_private.h"
#include <sddl.h>

DEFAULT_DEBUG_CHANNEL(qmgr);

/* Defaults of a new job: behaviour.md §7.1, §7.4 and §6.4. */
#define DEFAULT_RETRY_DELAY             600
#define DEFAULT_NO_PROGRESS_TIMEOUT     1209600
#define DEFAULT_MAX_DOWNLOAD_TIME       7776000
#define DEFAULT_NOTIFICATION_INTERVAL   500
#define DEFAULT_NOTIFY_FLAGS            (BG_NOTIFY_JOB_TRANSFERRED | BG_NOTIFY_JOB_ERROR)

/* Scheduling (behaviour.md §5.1, gap G25): the time slice is undocumented; five minutes lets a
 * big job run long enough between turns and still keeps small ones from starving. */
#define MAX_ACTIVE_JOBS         4
#define TIME_SLICE_MS           (5 * 60 * 1000)
#define MAX_SLEEP_MS            30000   /* the scheduler looks at the clock at least this often */
#define SHUTDOWN_WAIT_MS        30000   /* for workers to notice the service stopping */
/* How long Cancel and Complete wait for an aborted transfer to let go of its temporary file
 * before they delete it; transports return within about 100 ms of an abort. */
#define ABORT_WAIT_MS           2000

struct run;

struct engine_job
{
    LONG refcount;
    GUID id;                        /* id and type never change */
    BG_JOB_TYPE type;
    CRITICAL_SECTION cs;            /* guards every field below */
    BG_JOB_STATE state;
    ULONG serial;                   /* counts state changes, for the notifier */
    LONG generation;                /* bumped by every client call that stops a worker */
    struct job_owner owner;
    FILETIME creation_time;
    FILETIME modification_time;
    FILETIME completion_time;       /* zero until the job is TRANSFERRED */
    ULONG error_count;
    BOOL has_error;                 /* error is valid (behaviour.md §4.3) */
    struct job_error error;
    ULONGLONG queued_at;            /* clock_ticks() when it last became QUEUED: round robin */
    ULONGLONG retry_at;             /* TRANSIENT_ERROR: when to try again */
    BOOL stalled;                   /* a transient error happened, and no progress since */
    ULONGLONG stalled_since;        /* clock_ticks() of that first transient error */
    BOOL running;                   /* a worker thread owns the job's transfers */
    LONG run_generation;            /* the generation the worker was started for */
    BOOL yield;                     /* the scheduler wants the worker to requeue the job */
    ULONGLONG slice_start;          /* clock_ticks() when the worker started */
    ULONGLONG active_ms;            /* time in CONNECTING/TRANSFERRING since the last Resume,
                                     * without the running worker's */
    BOOL committing;                /* a Complete is renaming files, unlocked */
    PSID committer;                 /* malloc'd: the caller of that Complete, or NULL */
    struct run *active;             /* the transfer in flight, for transport_abort() */
    BG_JOB_REPLY_PROGRESS reply_progress;   /* upload-reply jobs */
    struct job_reply reply;                 /* upload-reply jobs */
    struct upload_session session;          /* upload jobs */
    ULONGLONG host_down_since;              /* upload jobs: see struct transfer */
    struct job_props props;
    struct helper_token helper;     /* IBitsTokenOptions; not persistent, never saved */
    struct job_notify notify;       /* notify.c's */
    ULONG notified_serial;          /* the TRANSFERRED or ERROR whose notification was done */
    struct job_file **files;
    ULONG file_count;
    ULONG file_capacity;
    /* Persistence.  changes counts changes of what the store keeps; the saver's fields are
     * guarded by saver.cs, the others by cs. */
    ULONG changes;
    BOOL save_due;                  /* marked for the saver, not serialized since */
    BOOL detached;                  /* the engine stopped: the job is no longer saved */
    UINT64 unsaved_bytes;           /* bytes transferred since the last serialization */
    ULONGLONG progress_saved_at;    /* clock_ticks() of the last serialization */
    ULONGLONG saves;                /* saver thread only: numbers the entries written */
    ULONG saved;                    /* saver.cs: changes the store holds */
    ULONG attempted;                /* saver.cs: changes the last save tried to write */
    HRESULT save_hr;                /* saver.cs: how that went */
    BOOL listed;                    /* saver.cs: in the saver's list */
    struct engine_job *next_listed; /* saver.cs */
};

/* What a run does: download a file, or a step of an upload job (wire-and-tools.md §2.5): send
 * the file, download the reply (upload-reply jobs), close the session. */
enum run_kind
{
    RUN_NONE,
    RUN_DOWNLOAD,
    RUN_SEND,
    RUN_REPLY,
    RUN_CLOSE,
};

/* One transport_download() or transport_upload() for one file by a worker (or for a Cancel:
 * see cancel_session()).  Counted, so that a client call can abort it after leaving the job
 * lock while the worker finishes. */
struct run
{
    LONG refcount;
    struct engine_job *job;         /* the worker's reference */
    HANDLE done;                    /* manual-reset: the worker closed the temporary file */
    LONG generation;
    enum run_kind kind;
    struct job_file *file;
    BOOL random;                    /* an on-demand file: http_fill() */
    BG_FILE_RANGE *ranges;          /* malloc'd: the transfer's ranges */
    WCHAR *local_name;              /* malloc'd copies, valid without the lock: for a reply the
                                     * reply file name and the reply's temporary file */
    WCHAR *temp_name;
    struct transfer transfer;       /* its strings point into the copies below */
    WCHAR *remote_name;
    WCHAR *custom_headers;
    WCHAR *http_method;
    WCHAR *proxy_list;
    WCHAR *proxy_bypass_list;
    struct job_credential credentials[AUTH_TARGETS][AUTH_SCHEMES];
};

static struct
{
    CRITICAL_SECTION cs;            /* guards every field below */
    struct engine_job **jobs;       /* the live jobs, each holding the queue's reference */
    ULONG count;
    ULONG capacity;
    ULONG running;                  /* worker threads alive */
    BOOL stopping;
    HANDLE wake;                    /* auto-reset: the scheduler has something to look at */
    struct cancel *cancels;         /* Cancel-Sessions on their way, see cancel_session() */
    ULONG cancelling;               /* their threads alive */
    HANDLE thread;                  /* the scheduler */
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

/* The states a worker transfers in. */
static BOOL is_running_state(BG_JOB_STATE state)
{
    return state == BG_JOB_STATE_CONNECTING || state == BG_JOB_STATE_TRANSFERRING;
}

static void wake_scheduler(void)
{
    if (queue.wake) SetEvent(queue.wake);
}

/* Persistence (store.c, wire-and-tools.md §4.4).  Every change of what the store keeps marks
 * the job (mark_changed(), from touch() and set_state()), which lists it for the one saver
 * thread.  The saver serializes the job under its lock, memory only, then writes the entry
 * with no lock held, so no lock is ever held across I/O and the writes of a job never race.
 * A client's call leaves the job lock, then waits until the saver has written its change
 * (save_wait()): the change is on disk before the call returns.  Changes the service makes
 * itself (transfers, retries) are saved as soon as the saver gets to them, about a
 * millisecond later; a crash in between replays them (the job is queued again and finds its
 * bytes in the temporary file).  Byte progress marks the job only every PROGRESS_SAVE_MS or
 * PROGRESS_SAVE_BYTES: the temporary file holds the bytes, and a load resumes from its real
 * size.  A failed save is logged and tried again every SAVE_RETRY_MS.
 *
 * A final job's entry is removed instead.  When another process holds it open, store.c marks
 * it final (a tombstone: it will not load) and the saver keeps trying to remove it, every
 * SAVE_RETRY_MS, once more when it stops, and again at the next start, since the final job
 * has left the queue that the retries of other saves walk. */
#define PROGRESS_SAVE_MS        5000
#define PROGRESS_SAVE_BYTES     (64ull << 20)
#define SAVE_RETRY_MS           5000

static struct
{
    CRITICAL_SECTION cs;            /* a leaf lock, also taken under job locks: guards below */
    CONDITION_VARIABLE work;        /* a job was listed, or the saver should stop */
    CONDITION_VARIABLE done;        /* a save ended */
    struct engine_job *head;        /* jobs with changes to save, each referenced */
    struct engine_job *tail;
    BOOL running;                   /* the thread takes jobs */
    BOOL stopping;
    BOOL retry;                     /* a save failed: look at the queue again later */
    ULONGLONG retry_at;             /* clock_ticks() from which to, whatever else comes */
    GUID *deletes;                  /* final jobs whose entries are still to remove */
    ULONG delete_count;
    ULONG delete_capacity;
    HANDLE thread;
} saver;

/* Job lock held: the job has changes for the store. */
static void mark_changed(struct engine_job *job)
{
    assert(job_lock_held(job));
    job->changes++;
    job->save_due = TRUE;
    if (job->detached) return;
    EnterCriticalSection(&saver.cs);
    if (saver.running && !job->listed)
    {
        engine_job_addref(job);
        job->listed = TRUE;
        job->next_listed = NULL;
        if (saver.tail) saver.tail->next_listed = job;
        else saver.head = job;
        saver.tail = job;
        WakeConditionVariable(&saver.work);
    }
    LeaveCriticalSection(&saver.cs);
}

/* Job lock held.  behaviour.md §7.5: any change of the job is a modification. */
static void touch(struct engine_job *job)
{
    assert(job_lock_held(job));
    clock_now(&job->modification_time);
    mark_changed(job);
}

/* Job lock held.  The progress path's touch(): bytes moved from old to new in one file.  Saves
 * in batches; a file that started again is saved at once, so no stale validator outlives it. */
static void touch_progress(struct engine_job *job, UINT64 old, UINT64 new)
{
    assert(job_lock_held(job));
    clock_now(&job->modification_time);
    if (new < old)
    {
        mark_changed(job);
        return;
    }
    job->unsaved_bytes += new - old;
    if (!job->save_due && (job->unsaved_bytes >= PROGRESS_SAVE_BYTES
            || clock_ticks() - job->progress_saved_at >= PROGRESS_SAVE_MS))
        mark_changed(job);
}

/* ---- Spans: sorted sets of byte ranges that neither overlap nor touch (on-demand files) ----
 * Each span ends at InitialOffset + Length, at most ~0, which stands for the end of a file
 * whose size is not known yet. */

static UINT64 span_end(const BG_FILE_RANGE *span)
{
    return span->InitialOffset + span->Length;
}

static UINT64 spans_sum(const BG_FILE_RANGE *spans, DWORD count)
{
    UINT64 sum = 0;
    DWORD i;

    for (i = 0; i < count; i++) sum += spans[i].Length;
    return sum;
}

/* Adds [start, end) to the set, merged with the spans it overlaps or touches. */
static HRESULT spans_add(BG_FILE_RANGE **set, DWORD *count, UINT64 start, UINT64 end)
{
    BG_FILE_RANGE *spans = *set;
    DWORD first, last;

    if (start >= end) return S_OK;
    for (first = 0; first < *count && span_end(&spans[first]) < start; first++) ;
    for (last = first; last < *count && spans[last].InitialOffset <= end; last++) ;
    if (first == last)
    {
        if (!(spans = realloc(spans, (*count + 1) * sizeof(*spans)))) return E_OUTOFMEMORY;
        memmove(&spans[first + 1], &spans[first], (*count - first) * sizeof(*spans));
        (*count)++;
        *set = spans;
    }
    else
    {
        start = min(start, spans[first].InitialOffset);
        end = max(end, span_end(&spans[last - 1]));
        memmove(&spans[first + 1], &spans[last], (*count - last) * sizeof(*spans));
        *count -= last - first - 1;
    }
    spans[first].InitialOffset = start;
    spans[first].Length = end - start;
    return S_OK;
}

/* Takes [start, end) out of the set. */
static HRESULT spans_remove(BG_FILE_RANGE **set, DWORD *count, UINT64 start, UINT64 end)
{
    BG_FILE_RANGE *spans = *set;
    UINT64 first, last;
    DWORD i;

    for (i = 0; i < *count; i++)
    {
        first = spans[i].InitialOffset;
        last = span_end(&spans[i]);
        if (last <= start || first >= end) continue;
        if (first < start && last > end)
        {
            /* The middle goes: two spans remain. */
            if (!(spans = realloc(spans, (*count + 1) * sizeof(*spans)))) return E_OUTOFMEMORY;
            memmove(&spans[i + 2], &spans[i + 1], (*count - i - 1) * sizeof(*spans));
            (*count)++;
            *set = spans;
            spans[i].Length = start - first;
            spans[i + 1].InitialOffset = end;
            spans[i + 1].Length = last - end;
            return S_OK;
        }
        if (first < start) spans[i].Length = start - first;
        else if (last > end)
        {
            spans[i].InitialOffset = end;
            spans[i].Length = last - end;
        }
        else
        {
            memmove(&spans[i], &spans[i + 1], (*count - i - 1) * sizeof(*spans));
            (*count)--;
            i--;
        }
    }
    return S_OK;
}

static HRESULT save_wait(struct engine_job *job);
static HRESULT save_new_job(struct engine_job *job);
static void abort_cancels(void);
static struct run *create_run(struct engine_job *job, struct job_file *file, enum run_kind kind);
static HRESULT saver_start(void);
static void saver_stop(void);
static void load_jobs(void);
static void release_queue(void);

/* The one place a job's state changes.  Job lock held. */
static void set_state(struct engine_job *job, BG_JOB_STATE state)
{
    assert(job_lock_held(job));
    TRACE("job %s: %s -> %s\n", debugstr_guid(&job->id), debugstr_state(job->state),
          debugstr_state(state));
    job->state = state;
    job->serial++;
    touch(job);
    switch (state)
    {
    case BG_JOB_STATE_QUEUED:
        job->queued_at = clock_ticks();
        break;
    case BG_JOB_STATE_TRANSFERRING:
        job->has_error = FALSE;     /* behaviour.md §4.3: gone once data moves again */
        break;
    case BG_JOB_STATE_TRANSFERRED:
        clock_now(&job->completion_time);   /* behaviour.md §7.5 */
        break;
    default:
        break;
    }
    /* behaviour.md §6.2: entering ERROR or TRANSFERRED has its own callback instead of a
     * JobModification; final jobs have no one left to tell. */
    if (state == BG_JOB_STATE_TRANSFERRED || state == BG_JOB_STATE_ERROR)
        notify_job_event(job);
    else if (!is_final(state))
        notify_job_modified(job, FALSE);
}

/* Job lock held.  Records an error of a transfer and moves the job to TRANSIENT_ERROR or ERROR
 * by the rules of behaviour.md §4.1 and §4.2. */
static void set_error(struct engine_job *job, struct job_file *file, HRESULT code,
                      BG_ERROR_CONTEXT context, const WCHAR *protocol, BOOL transient)
{
    ULONGLONG now = clock_ticks(), delay, timeout;

    assert(job_lock_held(job));
    WARN("job %s: error %#lx, context %u, %s\n", debugstr_guid(&job->id), code, context,
         transient ? "transient" : "fatal");
    job->has_error = TRUE;
    job->error.code = code;
    job->error.context = context;
    /* Only errors about the local or the remote file name one (behaviour.md §4.4). */
    job->error.file = context == BG_ERROR_CONTEXT_LOCAL_FILE
            || context == BG_ERROR_CONTEXT_REMOTE_FILE ? file : NULL;
    job->error.protocol = protocol;
    job->error_count++;

    if (transient)
    {
        delay = job->props.retry_delay * 1000ull;
        timeout = job->props.no_progress_timeout * 1000ull;
        if (!job->stalled)
        {
            job->stalled = TRUE;
            job->stalled_since = now;
        }
        /* NoProgressTimeout 0, or a retry that would come after it, means no retry at all. */
        if (timeout && delay <= timeout && now - job->stalled_since < timeout)
        {
            job->retry_at = now + delay;
            set_state(job, BG_JOB_STATE_TRANSIENT_ERROR);
            return;
        }
    }
    set_state(job, BG_JOB_STATE_ERROR);
}

/* Job lock held: bytes moved, so the NoProgressTimeout window closes (behaviour.md §4.2). */
static void made_progress(struct engine_job *job)
{
    job->stalled = FALSE;
}

static BOOL CALLBACK init_queue(INIT_ONCE *once, void *param, void **context)
{
    (void)once; (void)param; (void)context;
    InitializeCriticalSection(&queue.cs);
    InitializeCriticalSection(&saver.cs);
    InitializeConditionVariable(&saver.work);
    InitializeConditionVariable(&saver.done);
    return TRUE;
}

static DWORD WINAPI scheduler_main(void *arg);

/* Called by ServiceMain before it publishes the class objects; a service restarted in the same
 * process calls it again. */
HRESULT engine_init(void)
{
    HRESULT hr;

    TRACE("\n");
    InitOnceExecuteOnce(&queue_once, init_queue, NULL, NULL);
    clock_refresh();
    queue.stopping = FALSE;
    queue.wake = CreateEventW(NULL, FALSE, FALSE, NULL);
    if (!queue.wake) return HRESULT_FROM_WIN32(GetLastError());
    hr = notify_init();
    if (FAILED(hr))
    {
        CloseHandle(queue.wake);
        queue.wake = NULL;
        return hr;
    }
    hr = saver_start();
    if (FAILED(hr))
    {
        notify_shutdown();
        CloseHandle(queue.wake);
        queue.wake = NULL;
        return hr;
    }
    /* Before the class objects exist, so no client sees a half-loaded queue. */
    load_jobs();
    queue.thread = CreateThread(NULL, 0, scheduler_main, NULL, 0, NULL);
    if (!queue.thread)
    {
        hr = HRESULT_FROM_WIN32(GetLastError());
        ERR("cannot start the scheduler, hr %#lx\n", hr);
        saver_stop();
        release_queue();
        notify_shutdown();
        CloseHandle(queue.wake);
        queue.wake = NULL;
        return hr;
    }
    return S_OK;
}

void engine_clear_credential(struct job_credential *credential)
{
    if (credential->password) SecureZeroMemory(credential->password,
                                               wcslen(credential->password) * sizeof(WCHAR));
    free(credential->user);
    free(credential->password);
    memset(credential, 0, sizeof(*credential));
}

static void free_credentials(struct job_credential credentials[AUTH_TARGETS][AUTH_SCHEMES])
{
    unsigned int target, scheme;

    for (target = 0; target < AUTH_TARGETS; target++)
        for (scheme = 0; scheme < AUTH_SCHEMES; scheme++)
            engine_clear_credential(&credentials[target][scheme]);
}

static void run_addref(struct run *run)
{
    InterlockedIncrement(&run->refcount);
}

static void run_release(struct run *run)
{
    if (InterlockedDecrement(&run->refcount)) return;
    free(run->ranges);
    free(run->local_name);
    free(run->temp_name);
    free(run->remote_name);
    free(run->custom_headers);
    free(run->http_method);
    free(run->proxy_list);
    free(run->proxy_bypass_list);
    free_credentials(run->credentials);
    free(run->transfer.final_url);
    free(run->transfer.response_headers);
    if (run->done) CloseHandle(run->done);
    free(run);
}

/* Job lock held.  The transfer in flight, referenced, for abort_run() once the lock is left. */
static struct run *grab_active(struct engine_job *job)
{
    assert(job_lock_held(job));
    if (job->active) run_addref(job->active);
    return job->active;
}

/* No lock held.  Makes the transfer stop soon and returns at once. */
static void abort_run(struct run *run)
{
    if (!run) return;
    TRACE("aborting %s\n", debugstr_w(run->remote_name));
    transport_abort(&run->transfer);
    run_release(run);
}

/* No lock held.  Aborts the transfer and waits, a little, for the worker to close the file:
 * only then does deleting it remove it at once (Wine, like Windows before POSIX semantics,
 * keeps a deleted file's name until its last handle is closed).  A transport that does not
 * stop in time leaves the deletion to the last close. */
static void stop_run(struct run *run)
{
    if (!run) return;
    TRACE("stopping %s\n", debugstr_w(run->remote_name));
    transport_abort(&run->transfer);
    if (WaitForSingleObject(run->done, ABORT_WAIT_MS) != WAIT_OBJECT_0)
        WARN("the transfer of %s does not stop\n", debugstr_w(run->remote_name));
    run_release(run);
}

/* Called by ServiceMain after it revoked the class objects: stops the scheduler, the workers
 * and the notifier, then drops the queue's references; objects clients still hold keep their
 * jobs readable.  The lock stays, since late calls may still arrive. */
void engine_shutdown(void)
{
    struct engine_job **jobs;
    struct run **runs;
    ULONG count, running, i, aborts = 0;
    ULONGLONG deadline;
    HANDLE wake;

    TRACE("\n");
    EnterCriticalSection(&queue.cs);
    queue.stopping = TRUE;
    abort_cancels();
    runs = calloc(max(queue.count, 1), sizeof(*runs));
    for (i = 0; runs && i < queue.count; i++)
    {
        EnterCriticalSection(&queue.jobs[i]->cs);
        runs[aborts] = grab_active(queue.jobs[i]);
        LeaveCriticalSection(&queue.jobs[i]->cs);
        if (runs[aborts]) aborts++;
    }
    LeaveCriticalSection(&queue.cs);

    wake_scheduler();
    if (queue.thread)
    {
        WaitForSingleObject(queue.thread, INFINITE);
        CloseHandle(queue.thread);
        queue.thread = NULL;
    }
    for (i = 0; i < aborts; i++) abort_run(runs[i]);
    free(runs);

    /* Workers check queue.stopping before each file, and their transports were aborted, as
     * were the Cancel-Sessions on their way. */
    deadline = GetTickCount64() + SHUTDOWN_WAIT_MS;
    for (;;)
    {
        EnterCriticalSection(&queue.cs);
        running = queue.running + queue.cancelling;
        LeaveCriticalSection(&queue.cs);
        if (!running) break;
        if (GetTickCount64() >= deadline)
        {
            ERR("%lu workers still running\n", running);
            break;
        }
        WaitForSingleObject(queue.wake, 100);
    }
    notify_shutdown();
    /* Last: the workers' final states are listed by now, and the saver writes them first. */
    saver_stop();

    EnterCriticalSection(&queue.cs);
    wake = queue.wake;
    queue.wake = NULL;
    jobs = queue.jobs;
    count = queue.count;
    queue.jobs = NULL;
    queue.count = queue.capacity = 0;
    LeaveCriticalSection(&queue.cs);
    for (i = 0; i < count; i++) engine_job_release(jobs[i]);
    free(jobs);
    CloseHandle(wake);
}

void engine_free_owner(struct job_owner *owner)
{
    free(owner->sid);
    free(owner->sid_string);
    memset(owner, 0, sizeof(*owner));
}

static void free_props(struct job_props *props)
{
    free_credentials(props->credentials);
    free(props->display_name);
    free(props->description);
    free(props->proxy_list);
    free(props->proxy_bypass_list);
    free(props->notify_program);
    free(props->notify_parameters);
    free(props->reply_file_name);
    free(props->custom_headers);
    free(props->http_method);
    free(props->cert_store_name);
    free(props->cert_subject);
}

static void free_reply(struct job_reply *reply)
{
    free(reply->url);
    free(reply->temp_name);
}

static void free_file(struct job_file *file)
{
    free(file->remote_name);
    free(file->local_name);
    free(file->temp_name);
    free(file->response_headers);
    free(file->ranges);
    free(file->filled);
    free(file->wanted);
    free(file->fresh);
    free(file);
}

static void destroy_job(struct engine_job *job)
{
    ULONG i;

    TRACE("job %s\n", debugstr_guid(&job->id));
    /* The last reference is gone, so no lock is held: safe for a release that crosses into the
     * client's process. */
    if (job->props.notify_iface) IUnknown_Release(job->props.notify_iface);
    notify_free_job(&job->notify);
    for (i = 0; i < job->file_count; i++) free_file(job->files[i]);
    free(job->files);
    free_reply(&job->reply);
    free_props(&job->props);
    security_free_helper_token(&job->helper);
    engine_free_owner(&job->owner);
    free(job->committer);
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

/* ---- Persistence: the saver thread and the load at start (see mark_changed()) ---- */

/* Job lock held.  The entry of the job, from a view of its data; memory only. */
static HRESULT serialize_job(struct engine_job *job, BYTE **data, DWORD *size)
{
    struct store_job view;
    ULONG i;

    memset(&view, 0, sizeof(view));
    view.id = job->id;
    view.type = job->type;
    view.state = job->state;
    view.committing = job->committing;
    view.committer = job->committer;
    view.notified = (job->state == BG_JOB_STATE_TRANSFERRED || job->state == BG_JOB_STATE_ERROR)
            && job->notified_serial == job->serial;
    view.owner = job->owner;
    view.creation_time = job->creation_time;
    view.modification_time = job->modification_time;
    view.completion_time = job->completion_time;
    view.error_count = job->error_count;
    view.has_error = job->has_error;
    view.error_code = job->error.code;
    view.error_context = job->error.context;
    view.error_file = STORE_NO_FILE;
    for (i = 0; job->error.file && i < job->file_count; i++)
        if (job->files[i] == job->error.file) view.error_file = i;
    view.error_protocol = job->error.protocol;
    view.active_ms = job->active_ms;
    view.reply_progress = job->reply_progress;
    view.session = job->session;
    view.reply = job->reply;
    view.props = job->props;
    view.files = job->files;
    view.file_count = job->file_count;
    return store_serialize(&view, ++job->saves, data, size);
}

/* Saver lock held: a failed save or removal is tried again SAVE_RETRY_MS from now. */
static void schedule_retry(void)
{
    if (saver.retry) return;
    saver.retry = TRUE;
    saver.retry_at = clock_ticks() + SAVE_RETRY_MS;
}

/* Saver lock held: whether the retries are due; a clock set back does not delay them. */
static BOOL retry_due(ULONGLONG now)
{
    return saver.retry && (now >= saver.retry_at || saver.retry_at - now > SAVE_RETRY_MS);
}

/* Any thread, no lock held: the entry of a final job is to be removed by the saver's
 * retries.  Without memory it stays until the next start, which removes it (or never loads a
 * tombstoned one). */
static void add_pending_delete(const GUID *id)
{
    GUID *deletes;
    ULONG i, capacity;

    EnterCriticalSection(&saver.cs);
    for (i = 0; i < saver.delete_count; i++)
        if (IsEqualGUID(&saver.deletes[i], id)) break;
    if (i == saver.delete_count && saver.delete_count == saver.delete_capacity)
    {
        capacity = max(8, saver.delete_capacity * 2);
        deletes = realloc(saver.deletes, capacity * sizeof(*deletes));
        if (deletes)
        {
            saver.deletes = deletes;
            saver.delete_capacity = capacity;
        }
    }
    if (i == saver.delete_count && saver.delete_count < saver.delete_capacity)
        saver.deletes[saver.delete_count++] = *id;
    else if (i == saver.delete_count)
        ERR("out of memory: the entry of job %s stays until the next start\n", debugstr_guid(id));
    schedule_retry();
    /* A saver asleep without a timeout takes the retry into account. */
    WakeConditionVariable(&saver.work);
    LeaveCriticalSection(&saver.cs);
}

/* Saver thread, no lock held: one more try at every pending removal. */
static void retry_deletes(void)
{
    GUID *ids;
    ULONG count, i, j;
    HRESULT hr;

    EnterCriticalSection(&saver.cs);
    count = saver.delete_count;
    ids = malloc(max(count, 1) * sizeof(*ids));
    if (ids) memcpy(ids, saver.deletes, count * sizeof(*ids));
    LeaveCriticalSection(&saver.cs);
    if (!ids) return;
    for (i = 0; i < count; i++)
    {
        hr = store_delete(&ids[i]);
        if (hr != S_OK) continue;
        TRACE("job %s: entry removed at last\n", debugstr_guid(&ids[i]));
        EnterCriticalSection(&saver.cs);
        for (j = 0; j < saver.delete_count; j++)
        {
            if (!IsEqualGUID(&saver.deletes[j], &ids[i])) continue;
            saver.deletes[j] = saver.deletes[--saver.delete_count];
            break;
        }
        LeaveCriticalSection(&saver.cs);
    }
    free(ids);
    EnterCriticalSection(&saver.cs);
    if (saver.delete_count) schedule_retry();
    LeaveCriticalSection(&saver.cs);
}

/* Saver thread, no lock held.  Writes the job's entry as it is now (removes it for a final
 * job), unless the store has it already. */
static void save_job(struct engine_job *job)
{
    BYTE *data = NULL;
    DWORD size = 0;
    ULONG changes;
    BOOL skip, final;
    HRESULT hr = S_OK;

    EnterCriticalSection(&job->cs);
    changes = job->changes;
    final = is_final(job->state);
    EnterCriticalSection(&saver.cs);
    skip = job->detached || job->saved == changes;
    LeaveCriticalSection(&saver.cs);
    if (!skip && !final) hr = serialize_job(job, &data, &size);
    job->save_due = FALSE;
    job->unsaved_bytes = 0;
    job->progress_saved_at = clock_ticks();
    LeaveCriticalSection(&job->cs);

    if (skip) hr = S_OK;
    else if (final)
    {
        hr = store_delete(&job->id);
        /* S_FALSE: marked final, so saved as far as a restart goes. */
        if (hr != S_OK) add_pending_delete(&job->id);
    }
    else if (SUCCEEDED(hr)) hr = store_write(&job->id, data, size);
    else ERR("job %s: cannot serialize, hr %#lx\n", debugstr_guid(&job->id), hr);
    free(data);

    EnterCriticalSection(&saver.cs);
    job->attempted = changes;
    job->save_hr = hr;
    if (SUCCEEDED(hr)) job->saved = changes;
    else schedule_retry();
    WakeAllConditionVariable(&saver.done);
    LeaveCriticalSection(&saver.cs);
}

/* Saver thread.  After a failed save: every queued job the store lags behind is listed again. */
static void relist_unsaved(void)
{
    ULONG i;

    EnterCriticalSection(&queue.cs);
    for (i = 0; i < queue.count; i++)
    {
        struct engine_job *job = queue.jobs[i];

        EnterCriticalSection(&job->cs);
        EnterCriticalSection(&saver.cs);
        if (job->saved != job->changes && !job->listed && saver.running && !job->detached)
        {
            engine_job_addref(job);
            job->listed = TRUE;
            job->next_listed = NULL;
            if (saver.tail) saver.tail->next_listed = job;
            else saver.head = job;
            saver.tail = job;
        }
        LeaveCriticalSection(&saver.cs);
        LeaveCriticalSection(&job->cs);
    }
    LeaveCriticalSection(&queue.cs);
}

static DWORD WINAPI saver_main(void *arg)
{
    struct engine_job *job;
    ULONGLONG now;
    BOOL stop, retry;

    (void)arg;
    TRACE("saver started\n");
    for (;;)
    {
        EnterCriticalSection(&saver.cs);
        now = clock_ticks();
        if (!saver.head && !saver.stopping && !retry_due(now))
            SleepConditionVariableCS(&saver.work, &saver.cs,
                                     saver.retry ? (DWORD)(saver.retry_at - now) : INFINITE);
        job = saver.head;
        if (job)
        {
            saver.head = job->next_listed;
            if (!saver.head) saver.tail = NULL;
            job->listed = FALSE;
        }
        /* Drained and asked to stop: nothing is listed from now on. */
        stop = !job && saver.stopping;
        if (stop) saver.running = FALSE;
        /* Due retries are not starved by saves that keep coming. */
        retry = !stop && retry_due(clock_ticks());
        if (retry) saver.retry = FALSE;
        LeaveCriticalSection(&saver.cs);
        if (stop)
        {
            retry_deletes();    /* the last chance before the next start */
            break;
        }
        if (retry)
        {
            relist_unsaved();
            retry_deletes();
        }
        if (!job) continue;
        save_job(job);
        engine_job_release(job);
    }
    EnterCriticalSection(&saver.cs);
    WakeAllConditionVariable(&saver.done);
    LeaveCriticalSection(&saver.cs);
    TRACE("saver stopped\n");
    return 0;
}

/* No lock held.  Waits until the store holds the job's changes so far: S_OK, or the failure
 * of the save (logged; the saver tries again).  Without a store, or once the engine stopped,
 * there is nothing to wait for. */
static HRESULT save_wait(struct engine_job *job)
{
    ULONG target;
    BOOL detached;
    HRESULT hr = S_OK;

    if (job_lock_held(job))
    {
        ERR("job %s: called under its lock, not waiting for the store\n", debugstr_guid(&job->id));
        return S_OK;
    }
    EnterCriticalSection(&job->cs);
    target = job->changes;
    detached = job->detached;
    LeaveCriticalSection(&job->cs);
    if (detached) return S_OK;
    EnterCriticalSection(&saver.cs);
    while (saver.running && (LONG)(job->attempted - target) < 0)
        SleepConditionVariableCS(&saver.done, &saver.cs, INFINITE);
    if (saver.running && (LONG)(job->saved - target) < 0) hr = job->save_hr;
    LeaveCriticalSection(&saver.cs);
    return hr;
}

/* engine_create_job(): a job no client knows yet is saved, or taken back out of the queue. */
static HRESULT save_new_job(struct engine_job *job)
{
    BOOL queued;
    HRESULT hr;

    EnterCriticalSection(&job->cs);
    mark_changed(job);
    LeaveCriticalSection(&job->cs);
    hr = save_wait(job);
    if (SUCCEEDED(hr)) return S_OK;
    ERR("job %s: not created, the store failed, hr %#lx\n", debugstr_guid(&job->id), hr);
    EnterCriticalSection(&queue.cs);
    EnterCriticalSection(&job->cs);
    job->detached = TRUE;
    LeaveCriticalSection(&job->cs);
    queued = queue_remove(job);
    LeaveCriticalSection(&queue.cs);
    if (queued) engine_job_release(job);
    engine_job_release(job);
    return hr;
}

/* Starts the saver.  Without a usable store directory the service still runs, unsaved (the
 * failure is logged); only a thread that cannot start fails the start. */
static HRESULT saver_start(void)
{
    HRESULT hr;

    EnterCriticalSection(&saver.cs);
    saver.stopping = FALSE;
    saver.retry = FALSE;
    saver.delete_count = 0;
    LeaveCriticalSection(&saver.cs);
    hr = store_init();
    if (FAILED(hr))
    {
        ERR("no job store, hr %#lx: jobs will not survive a restart\n", hr);
        return S_OK;
    }
    EnterCriticalSection(&saver.cs);
    saver.running = TRUE;
    LeaveCriticalSection(&saver.cs);
    saver.thread = CreateThread(NULL, 0, saver_main, NULL, 0, NULL);
    if (saver.thread) return S_OK;
    hr = HRESULT_FROM_WIN32(GetLastError());
    ERR("cannot start the saver, hr %#lx\n", hr);
    EnterCriticalSection(&saver.cs);
    saver.running = FALSE;
    LeaveCriticalSection(&saver.cs);
    return hr;
}

/* Writes what is listed, stops the saver, and detaches the queued jobs: objects clients still
 * hold no longer write the store, which a restarted engine owns. */
static void saver_stop(void)
{
    ULONG i;

    EnterCriticalSection(&saver.cs);
    saver.stopping = TRUE;
    WakeConditionVariable(&saver.work);
    LeaveCriticalSection(&saver.cs);
    if (saver.thread)
    {
        WaitForSingleObject(saver.thread, INFINITE);
        CloseHandle(saver.thread);
        saver.thread = NULL;
    }
    EnterCriticalSection(&saver.cs);
    /* The tombstones, or the entries themselves, tell the next start. */
    if (saver.delete_count) WARN("%lu entries of final jobs stay\n", saver.delete_count);
    free(saver.deletes);
    saver.deletes = NULL;
    saver.delete_count = saver.delete_capacity = 0;
    LeaveCriticalSection(&saver.cs);
    EnterCriticalSection(&queue.cs);
    for (i = 0; i < queue.count; i++)
    {
        EnterCriticalSection(&queue.jobs[i]->cs);
        queue.jobs[i]->detached = TRUE;
        LeaveCriticalSection(&queue.jobs[i]->cs);
    }
    LeaveCriticalSection(&queue.cs);
}

/* Drops the queue's references (a start that failed after load_jobs()). */
static void release_queue(void)
{
    struct engine_job **jobs;
    ULONG count, i;

    EnterCriticalSection(&queue.cs);
    jobs = queue.jobs;
    count = queue.count;
    queue.jobs = NULL;
    queue.count = queue.capacity = 0;
    LeaveCriticalSection(&queue.cs);
    for (i = 0; i < count; i++) engine_job_release(jobs[i]);
    free(jobs);
}

static void free_saved(struct store_job *saved)
{
    ULONG i;

    free(saved->owner.sid);
    free(saved->committer);
    free_reply(&saved->reply);
    free_props(&saved->props);
    for (i = 0; i < saved->file_count; i++) free_file(saved->files[i]);
    free(saved->files);
}

static BOOL file_exists(const WCHAR *path, UINT64 *size)
{
    WIN32_FILE_ATTRIBUTE_DATA data;

    if (!GetFileAttributesExW(path, GetFileExInfoStandard, &data)) return FALSE;
    if (size) *size = (UINT64)data.nFileSizeHigh << 32 | data.nFileSizeLow;
    return TRUE;
}

/* Loading: finish_commit() of an upload-reply job, whose one file to save is its reply. */
static HRESULT finish_reply_commit(struct engine_job *job, PSID caller)
{
    const WCHAR *name = job->props.reply_file_name;
    HRESULT hr;

    if (!name) return S_OK;
    if (!job->reply.temp_name || !file_exists(job->reply.temp_name, NULL))
    {
        /* The rename happened before the crash, maybe before the file was given away. */
        if (file_exists(name, NULL)) security_give_file_sid(caller, name);
        return S_OK;
    }
    hr = localfile_commit(job->reply.temp_name, name, &job->reply.remote_time);
    if (FAILED(hr))
    {
        ERR("rename to %s failed, hr %#lx\n", debugstr_w(name), hr);
        return hr;
    }
    security_give_file_sid(caller, name);
    free(job->reply.temp_name);
    job->reply.temp_name = NULL;
    return S_OK;
}

/* Loading.  behaviour.md §3.1 after a crash: a Complete whose intent was saved ends as it
 * would have: the files finished when it was called (the reply of an upload-reply job) are
 * renamed (or found renamed already), and given to its caller (the seed; the owner when an
 * older entry does not say who called), the others' temporary files deleted.  TRUE when the
 * job is ACKNOWLEDGED; a rename that fails leaves it TRANSFERRED with the renamed files
 * completed, as engine_complete_job() does. */
static BOOL finish_commit(struct engine_job *job)
{
    PSID caller = job->committer ? job->committer : job->owner.sid;
    HRESULT hr, rename_hr = S_OK;
    UINT64 size;
    ULONG i;

    if (job->type == BG_JOB_TYPE_UPLOAD_REPLY) rename_hr = finish_reply_commit(job, caller);
    for (i = 0; job->type == BG_JOB_TYPE_DOWNLOAD && i < job->file_count; i++)
    {
        struct job_file *file = job->files[i];
        BOOL finished = file->bytes_total != BG_SIZE_UNKNOWN;

        if (file->completed) continue;
        if (!file->temp_name || !file_exists(file->temp_name, &size))
        {
            /* The rename happened before the crash. */
            if (finished && file->bytes_transferred == file->bytes_total
                    && file_exists(file->local_name, NULL))
            {
                /* Maybe before it was given away. */
                security_give_file_sid(caller, file->local_name);
                file->completed = TRUE;
            }
            continue;
        }
        /* An on-demand file has its full size before it has every byte. */
        if (!finished || size != file->bytes_total
                || (job->props.on_demand && !file->ranges
                    && file->bytes_transferred != file->bytes_total))
        {
            hr = localfile_delete(file->temp_name);
            if (FAILED(hr)) WARN("cannot delete %s, hr %#lx\n", debugstr_w(file->temp_name), hr);
            continue;
        }
        hr = localfile_commit(file->temp_name, file->local_name, &file->remote_time);
        if (SUCCEEDED(hr))
        {
            security_give_file_sid(caller, file->local_name);
            file->bytes_transferred = size;
            file->completed = TRUE;
            continue;
        }
        ERR("rename to %s failed, hr %#lx\n", debugstr_w(file->local_name), hr);
        if (SUCCEEDED(rename_hr)) rename_hr = hr;
    }
    job->committing = FALSE;
    free(job->committer);
    job->committer = NULL;
    TRACE("job %s: Complete finished at load, hr %#lx\n", debugstr_guid(&job->id), rename_hr);
    return SUCCEEDED(rename_hr);
}

/* Loading: the bytes of a file (or of a reply) are those its temporary file really holds (the
 * store saves progress in batches); a missing one starts the file again.  Returns whether that
 * changed the file. */
static BOOL check_temp(WCHAR **temp_name, UINT64 total, UINT64 *transferred, WCHAR *validator)
{
    UINT64 size = 0;

    if (!*temp_name)
    {
        if (!*transferred) return FALSE;
        *transferred = 0;
        return TRUE;
    }
    if (!file_exists(*temp_name, &size))
    {
        WARN("%s is gone, the file starts again\n", debugstr_w(*temp_name));
        free(*temp_name);
        *temp_name = NULL;
        *transferred = 0;
        validator[0] = 0;
        return TRUE;
    }
    if (total != BG_SIZE_UNKNOWN && size > total) size = total;
    if (size == *transferred) return FALSE;
    TRACE("%s holds %I64u bytes, saved %I64u\n", debugstr_w(*temp_name), size, *transferred);
    *transferred = size;
    return TRUE;
}

/* Loading: check_temp() of an on-demand file, whose temporary file has the remote layout:
 * what the store says is filled, as far as the file reaches. */
static BOOL check_filled(struct job_file *file)
{
    UINT64 size = 0, transferred = file->bytes_transferred;

    if (!file->temp_name || !file_exists(file->temp_name, &size))
    {
        if (file->temp_name)
            WARN("%s is gone, the file starts again\n", debugstr_w(file->temp_name));
        free(file->temp_name);
        file->temp_name = NULL;
        file->filled_count = 0;
        file->validator[0] = 0;
    }
    else if (FAILED(spans_remove(&file->filled, &file->filled_count, size, ~(UINT64)0)))
        file->filled_count = 0;
    file->bytes_transferred = spans_sum(file->filled, file->filled_count);
    return file->bytes_transferred != transferred;
}

/* store_load()'s callback, before the scheduler runs: the job back in the queue, with the
 * same data.  Gap G27 [inferred]: jobs in an action state are QUEUED again (their transfers
 * resume from the bytes on disk); SUSPENDED, ERROR and TRANSFERRED stay; ErrorCount is kept.
 * Callbacks (interfaces) are not saved; the notify CLSID and command line are. */
static HRESULT restore_job(struct store_job *saved)
{
    struct engine_job *job;
    WCHAR *sid_string;
    BOOL changed = FALSE;
    HRESULT hr;
    ULONG i;

    job = calloc(1, sizeof(*job));
    if (!job)
    {
        free_saved(saved);
        return E_OUTOFMEMORY;
    }
    job->refcount = 1;
    job->id = saved->id;
    job->type = saved->type;
    job->state = saved->state;
    InitializeCriticalSection(&job->cs);
    job->owner = saved->owner;
    job->creation_time = saved->creation_time;
    job->modification_time = saved->modification_time;
    job->completion_time = saved->completion_time;
    job->error_count = saved->error_count;
    job->has_error = saved->has_error;
    job->error.code = saved->error_code;
    job->error.context = saved->error_context;
    job->error.file = saved->error_file < saved->file_count ? saved->files[saved->error_file]
                                                            : NULL;
    job->error.protocol = saved->error_protocol;
    job->active_ms = saved->active_ms;
    job->reply_progress = saved->reply_progress;
    job->session = saved->session;
    job->reply = saved->reply;
    job->props = saved->props;
    job->props.notify_iface = NULL;
    job->files = saved->files;
    job->file_count = job->file_capacity = saved->file_count;
    job->committing = saved->committing;
    job->committer = saved->committer;
    /* notify.c's serials start again at 0: the store says whether that entry was notified. */
    job->notified_serial = saved->notified ? job->serial : job->serial - 1;
    memset(saved, 0, sizeof(*saved));
    if (!ConvertSidToStringSidW(job->owner.sid, &sid_string))
    {
        hr = HRESULT_FROM_WIN32(GetLastError());
        destroy_job(job);
        return hr;
    }
    job->owner.sid_string = _wcsdup(sid_string);
    LocalFree(sid_string);
    if (!job->owner.sid_string)
    {
        destroy_job(job);
        return E_OUTOFMEMORY;
    }

    if (job->committing && job->type != BG_JOB_TYPE_UPLOAD && !is_final(job->state))
    {
        if (finish_commit(job))
        {
            hr = store_delete(&job->id);
            if (hr != S_OK) add_pending_delete(&job->id);
            destroy_job(job);
            return hr;
        }
        /* Entering TRANSFERRED is an event of its own (engine_complete_job()). */
        if (job->state != BG_JOB_STATE_TRANSFERRED) job->notified_serial = job->serial - 1;
        job->state = BG_JOB_STATE_TRANSFERRED;
        changed = TRUE;
    }
    job->committing = FALSE;
    free(job->committer);
    job->committer = NULL;
    if (is_final(job->state))
    {
        /* Its removal did not make it to disk. */
        hr = store_delete(&job->id);
        if (hr != S_OK) add_pending_delete(&job->id);
        destroy_job(job);
        return hr;
    }
    /* An upload's bytes are on the server, in the session the entry names. */
    for (i = 0; job->type == BG_JOB_TYPE_DOWNLOAD && i < job->file_count; i++)
    {
        struct job_file *file = job->files[i];

        if (file->completed) continue;
        if (job->props.on_demand && !file->ranges)
        {
            if (check_filled(file)) changed = TRUE;
        }
        else if (check_temp(&file->temp_name, file->bytes_total, &file->bytes_transferred,
                            file->validator))
            changed = TRUE;
    }
    if (job->type == BG_JOB_TYPE_UPLOAD_REPLY
            && check_temp(&job->reply.temp_name, job->reply_progress.BytesTotal,
                          &job->reply_progress.BytesTransferred, job->reply.validator))
        changed = TRUE;
    switch (job->state)
    {
    case BG_JOB_STATE_CONNECTING:
    case BG_JOB_STATE_TRANSFERRING:
    case BG_JOB_STATE_TRANSIENT_ERROR:
        job->state = BG_JOB_STATE_QUEUED;
        changed = TRUE;
        break;
    default:
        break;
    }
    job->queued_at = clock_ticks();
    job->progress_saved_at = clock_ticks();

    EnterCriticalSection(&queue.cs);
    hr = queue_append(job);
    LeaveCriticalSection(&queue.cs);
    if (FAILED(hr))
    {
        destroy_job(job);
        return hr;
    }
    TRACE("job %s: %s, %lu files\n", debugstr_guid(&job->id), debugstr_state(job->state),
          job->file_count);
    EnterCriticalSection(&job->cs);
    if (changed) mark_changed(job);
    else
    {
        EnterCriticalSection(&saver.cs);
        job->saved = job->attempted = job->changes;
        LeaveCriticalSection(&saver.cs);
    }
    notify_job_restored(job, job->notified_serial == job->serial);
    LeaveCriticalSection(&job->cs);
    return S_OK;
}

static int __cdecl compare_creation(const void *a, const void *b)
{
    const struct engine_job *job_a = *(struct engine_job *const *)a;
    const struct engine_job *job_b = *(struct engine_job *const *)b;

    return CompareFileTime(&job_a->creation_time, &job_b->creation_time);
}

/* engine_init(): the saved queue, in the order the jobs were created. */
static void load_jobs(void)
{
    BOOL running;
    HRESULT hr;

    EnterCriticalSection(&saver.cs);
    running = saver.running;
    LeaveCriticalSection(&saver.cs);
    if (!running) return;
    hr = store_load(restore_job, add_pending_delete);
    if (FAILED(hr)) ERR("cannot load the jobs, hr %#lx\n", hr);
    EnterCriticalSection(&queue.cs);
    if (queue.count) qsort(queue.jobs, queue.count, sizeof(*queue.jobs), compare_creation);
    LeaveCriticalSection(&queue.cs);
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

/* Queue lock held.  behaviour.md §8: the live jobs (final ones have left the queue) of the
 * owner, and of everyone, against MaxJobsPerUser and MaxJobsPerMachine. */
static HRESULT check_job_limits(const struct job_owner *owner, const struct policy *policy)
{
    ULONG mine = 0, i;

    for (i = 0; i < queue.count; i++)
        if (engine_job_owned_by(queue.jobs[i], owner->sid)) mine++;
    if (mine >= policy->jobs_per_user) return BG_E_TOO_MANY_JOBS_PER_USER;
    if (queue.count >= policy->jobs_per_machine) return BG_E_TOO_MANY_JOBS_PER_MACHINE;
    return S_OK;
}

HRESULT engine_create_job(const WCHAR *name, BG_JOB_TYPE type, struct job_owner *owner,
                          struct engine_job **out)
{
    struct engine_job *job;
    struct policy policy;
    BOOL exempt;
    HRESULT hr;

    *out = NULL;
    /* Before any lock: both read the registry or the caller's token. */
    policy_get(&policy);
    exempt = security_caller_exempt();
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
    clock_now(&job->creation_time);
    job->modification_time = job->creation_time;
    job->reply_progress.BytesTotal = BG_SIZE_UNKNOWN;   /* behaviour.md §7.1 */
    init_props(&job->props);
    job->props.max_download_time = policy.max_download_time;   /* behaviour.md §8 */
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
    hr = exempt ? S_OK : check_job_limits(&job->owner, &policy);
    if (SUCCEEDED(hr)) hr = queue_append(job);
    if (SUCCEEDED(hr)) engine_job_addref(job);
    LeaveCriticalSection(&queue.cs);
    if (FAILED(hr))
    {
        destroy_job(job);
        return hr;
    }
    hr = save_new_job(job);
    if (FAILED(hr)) return hr;
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

/* Job lock held.  The reply of an upload-reply job is whole in its temporary file. */
static BOOL reply_in(const struct engine_job *job)
{
    return job->reply.temp_name && job->reply_progress.BytesTotal != BG_SIZE_UNKNOWN
            && job->reply_progress.BytesTransferred == job->reply_progress.BytesTotal;
}

/* behaviour.md §6.2: FileTransferred is due for a downloaded file, and for the one file of an
 * upload-reply job once its reply is in; never for a plain upload. */
BOOL engine_file_arrived(struct engine_job *job, const struct job_file *file)
{
    assert(job_lock_held(job));
    if (job->type == BG_JOB_TYPE_DOWNLOAD) return engine_file_transferred(file);
    return job->type == BG_JOB_TYPE_UPLOAD_REPLY && reply_in(job);
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

/* Learn SetReplyFileName: the name is fixed once the reply's transfer began, which here is
 * when its temporary file was made beside it, and in TRANSFERRED. */
BOOL engine_reply_started(struct engine_job *job)
{
    assert(job_lock_held(job));
    return job->state == BG_JOB_STATE_TRANSFERRED || job->reply.temp_name;
}

#define REPLY_DATA_MAX  (1u << 20)      /* Learn GetReplyData: 1 MB */

/* behaviour.md §2.1 and Learn GetReplyData: the reply's temporary file in TRANSFERRED, the
 * reply file after Complete. */
HRESULT engine_reply_data(struct engine_job *job, BYTE **data, UINT64 *size)
{
    unsigned int attempt;
    WCHAR *path;
    HRESULT hr;

    *data = NULL;
    *size = 0;
    for (attempt = 0; attempt < 2; attempt++)
    {
        path = NULL;
        hr = S_OK;
        EnterCriticalSection(&job->cs);
        if (job->state == BG_JOB_STATE_TRANSFERRED && job->reply.temp_name)
            path = _wcsdup(job->reply.temp_name);
        else if (job->state == BG_JOB_STATE_ACKNOWLEDGED && job->props.reply_file_name)
            path = _wcsdup(job->props.reply_file_name);
        else hr = BG_E_INVALID_STATE;
        LeaveCriticalSection(&job->cs);
        if (FAILED(hr)) return hr;
        if (!path) return E_OUTOFMEMORY;
        hr = localfile_read(path, REPLY_DATA_MAX, data, size);
        free(path);
        /* Complete renamed the temporary file meanwhile: the reply file has it. */
        if (hr != HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND)) break;
    }
    return hr;
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

struct job_file *engine_job_file(struct engine_job *job, ULONG index)
{
    assert(job_lock_held(job));
    return index < job->file_count ? job->files[index] : NULL;
}

/* behaviour.md §4.3: the error lasts until Resume or until data moves again. */
HRESULT engine_job_error(struct engine_job *job, struct job_error *error)
{
    HRESULT hr = S_OK;

    memset(error, 0, sizeof(*error));
    EnterCriticalSection(&job->cs);
    if (job->has_error) *error = job->error;
    else hr = BG_E_ERROR_INFORMATION_UNAVAILABLE;
    LeaveCriticalSection(&job->cs);
    return hr;
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

void engine_job_swap_owner(struct engine_job *job, struct job_owner *owner)
{
    struct job_owner old;

    assert(job_lock_held(job));
    old = job->owner;
    job->owner = *owner;
    *owner = old;
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

/* behaviour.md §7.5 and §6.2: every change of a job's settings is a modification. */
void engine_job_commit(struct engine_job *job)
{
    assert(job_lock_held(job));
    touch(job);
    notify_job_modified(job, TRUE);
    LeaveCriticalSection(&job->cs);
    /* A change of priority may matter to the scheduler. */
    wake_scheduler();
    save_wait(job);
}

BG_JOB_STATE engine_job_event(struct engine_job *job, ULONG *serial)
{
    assert(job_lock_held(job));
    *serial = job->serial;
    return job->state;
}

struct job_notify *engine_job_notify(struct engine_job *job)
{
    assert(job_lock_held(job));
    return &job->notify;
}

/* Not a modification of the job (behaviour.md §7.5): only saved. */
void engine_job_notified(struct engine_job *job, ULONG serial)
{
    assert(job_lock_held(job));
    if (serial != job->serial || job->notified_serial == serial) return;
    job->notified_serial = serial;
    mark_changed(job);
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

/* Job lock not held.  Appends the new files, or none of them; on success the job owns them.
 * Gap G2: a TRANSFERRED job stays TRANSFERRED until Resume; a running one picks them up.
 * max_files is MaxFilesPerJob (behaviour.md §8), 0 for no limit. */
static HRESULT append_files(struct engine_job *job, struct job_file **added, ULONG count,
                            ULONG max_files)
{
    HRESULT hr = S_OK;
    ULONG i;

    EnterCriticalSection(&job->cs);
    if (is_final(job->state) || job->committing)
        hr = BG_E_INVALID_STATE;
    else if (job->type != BG_JOB_TYPE_DOWNLOAD && job->file_count + count > 1)
        hr = BG_E_TOO_MANY_FILES;
    else if (max_files && (count > max_files || job->file_count > max_files - count))
        hr = BG_E_TOO_MANY_FILES_IN_JOB;
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
    struct policy policy;
    HRESULT hr = S_OK;
    ULONG i, max_files;

    policy_get(&policy);
    max_files = security_caller_exempt() ? 0 : policy.files_per_job;
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
    if (SUCCEEDED(hr)) hr = append_files(job, added, count, max_files);
    if (FAILED(hr))
    {
        for (i = 0; i < count; i++)
            if (added[i]) free_file(added[i]);
    }
    free(added);
    return hr;
}

/* behaviour.md §2.2, §8: MaxRangesPerFile binds the callers MaxFilesPerJob binds. */
HRESULT engine_add_file_ranges(struct engine_job *job, const BG_FILE_INFO *info, DWORD count,
                               const BG_FILE_RANGE *ranges)
{
    struct job_file *file;
    struct policy policy;
    ULONG max_files = 0;
    HRESULT hr;

    hr = localfile_check_destination(info->LocalName);
    if (FAILED(hr)) return hr;
    if (!security_caller_exempt())
    {
        policy_get(&policy);
        if (count > policy.ranges_per_file) return BG_E_TOO_MANY_RANGES_IN_FILE;
        max_files = policy.files_per_job;
    }
    if (!(file = create_file(info))) return E_OUTOFMEMORY;
    if (!(file->ranges = malloc(count * sizeof(*ranges))))
    {
        free_file(file);
        return E_OUTOFMEMORY;
    }
    memcpy(file->ranges, ranges, count * sizeof(*ranges));
    file->range_count = count;
    hr = append_files(job, &file, 1, max_files);
    if (FAILED(hr)) free_file(file);
    return hr;
}

/* Job lock held: the file is transferred on demand (struct job_file). */
static BOOL is_random(struct engine_job *job, const struct job_file *file)
{
    assert(job_lock_held(job));
    return job->props.on_demand && !file->ranges;
}

BOOL engine_job_started(struct engine_job *job)
{
    ULONG i;

    assert(job_lock_held(job));
    if (job->active) return TRUE;
    for (i = 0; i < job->file_count; i++)
        if (job->files[i]->temp_name || job->files[i]->completed) return TRUE;
    return FALSE;
}

/* Job lock held.  The bytes of an on-demand file at [start, end) of its temporary file are in
 * (transfer_progress()): they count, are no longer wanted, and FileRangesTransferred is due. */
static void fill_span(struct engine_job *job, struct job_file *file, UINT64 start, UINT64 end)
{
    BOOL notify = !!(job->props.notify_flags & BG_NOTIFY_FILE_RANGES_TRANSFERRED);
    HRESULT hr;

    hr = spans_add(&file->filled, &file->filled_count, start, end);
    if (SUCCEEDED(hr)) hr = spans_remove(&file->wanted, &file->wanted_count, start, end);
    if (SUCCEEDED(hr) && notify) hr = spans_add(&file->fresh, &file->fresh_count, start, end);
    /* Bytes not recorded are only fetched again. */
    if (FAILED(hr)) WARN("cannot record bytes %I64u-%I64u, hr %#lx\n", start, end, hr);
    file->bytes_transferred = spans_sum(file->filled, file->filled_count);
    if (notify) notify_job_event(job);
}

struct job_file *engine_take_fresh_ranges(struct engine_job *job, BG_FILE_RANGE **ranges,
                                          DWORD *count)
{
    struct job_file *file;
    ULONG i;

    assert(job_lock_held(job));
    for (i = 0; i < job->file_count; i++)
    {
        file = job->files[i];
        if (!file->fresh_count) continue;
        if (!ranges) return file;
        *ranges = file->fresh;
        *count = file->fresh_count;
        file->fresh = NULL;
        file->fresh_count = 0;
        return file;
    }
    if (ranges)
    {
        *ranges = NULL;
        *count = 0;
    }
    return NULL;
}

/* Job lock held.  Learn File6: the file meets the requirements of an on-demand job. */
static HRESULT check_random_access(struct engine_job *job, const struct job_file *file)
{
    if (job->type != BG_JOB_TYPE_DOWNLOAD || file->ranges || job->props.dynamic_content
            || job->props.http_method
            || (_wcsnicmp(file->remote_name, L"http://", 7)
                && _wcsnicmp(file->remote_name, L"https://", 8)))
        return BG_E_RANDOM_ACCESS_NOT_SUPPORTED;
    return S_OK;
}

/* Only an on-demand file has a use for the position: the other files are fetched from their
 * first missing byte on, in order, so that their temporary file is one piece and a resume
 * needs no more than its size (behaviour.md §10). */
HRESULT engine_update_position(struct engine_job *job, struct job_file *file, UINT64 offset)
{
    struct job_props *props;
    HRESULT hr;

    hr = engine_job_lock_for_change(job, &props);
    if (FAILED(hr)) return hr;
    hr = check_random_access(job, file);
    if (FAILED(hr) || file->position == offset)
    {
        engine_job_unlock(job);
        return hr;
    }
    file->position = offset;
    engine_job_commit(job);
    return S_OK;
}

HRESULT engine_request_ranges(struct engine_job *job, struct job_file *file, DWORD count,
                              const BG_FILE_RANGE *ranges)
{
    struct job_props *props;
    UINT64 end;
    HRESULT hr;
    DWORD i;

    hr = engine_job_lock_for_change(job, &props);
    if (FAILED(hr)) return hr;
    hr = check_random_access(job, file);
    for (i = 0; SUCCEEDED(hr) && i < count; i++)
    {
        end = ranges[i].Length == BG_LENGTH_TO_EOF ? ranges[i].InitialOffset
                                                   : span_end(&ranges[i]);
        if (file->bytes_total != BG_SIZE_UNKNOWN && end > file->bytes_total)
            hr = BG_E_INVALID_RANGE;
    }
    if (FAILED(hr) || !is_random(job, file))
    {
        engine_job_unlock(job);
        return hr;
    }
    for (i = 0; SUCCEEDED(hr) && i < count; i++)
    {
        end = ranges[i].Length == BG_LENGTH_TO_EOF ? ~(UINT64)0 : span_end(&ranges[i]);
        if (file->bytes_total != BG_SIZE_UNKNOWN) end = min(end, file->bytes_total);
        hr = spans_add(&file->wanted, &file->wanted_count, ranges[i].InitialOffset, end);
    }
    /* [doc] what is there already is not fetched again. */
    for (i = 0; SUCCEEDED(hr) && i < file->filled_count; i++)
        hr = spans_remove(&file->wanted, &file->wanted_count, file->filled[i].InitialOffset,
                          span_end(&file->filled[i]));
    TRACE("job %s: %lu spans wanted, hr %#lx\n", debugstr_guid(&job->id), file->wanted_count, hr);
    engine_job_commit(job);
    return hr;
}

/* Job lock held.  The remote spans a file of AddFileWithRanges holds: its first transferred
 * bytes, taken range by range.  The one range that may run to the end of the file (it overlaps
 * any range after it) has what the total leaves to it. */
static HRESULT ranged_spans(const struct job_file *file, BG_FILE_RANGE **set, DWORD *count)
{
    UINT64 left = file->bytes_transferred, to_eof = file->bytes_total, length;
    const BG_FILE_RANGE *range;
    HRESULT hr = S_OK;
    DWORD i;

    if (!left) return S_OK;
    for (i = 0; i < file->range_count; i++)
        if (file->ranges[i].Length != BG_LENGTH_TO_EOF) to_eof -= file->ranges[i].Length;
    for (i = 0; SUCCEEDED(hr) && left && i < file->range_count; i++)
    {
        range = &file->ranges[i];
        length = min(left, range->Length == BG_LENGTH_TO_EOF ? to_eof : range->Length);
        hr = spans_add(set, count, range->InitialOffset, range->InitialOffset + length);
        left -= length;
    }
    return hr;
}

/* Job lock held.  The spans an on-demand file holds, or the first bytes of another one. */
static HRESULT filled_spans(struct engine_job *job, const struct job_file *file,
                            BG_FILE_RANGE **set, DWORD *count)
{
    HRESULT hr;

    hr = check_random_access(job, file);
    if (FAILED(hr)) return hr;
    if (!is_random(job, file)) return spans_add(set, count, 0, file->bytes_transferred);
    if (!file->filled_count) return S_OK;
    if (!(*set = malloc(file->filled_count * sizeof(**set)))) return E_OUTOFMEMORY;
    memcpy(*set, file->filled, file->filled_count * sizeof(**set));
    *count = file->filled_count;
    return S_OK;
}

HRESULT engine_filled_ranges(struct engine_job *job, struct job_file *file, DWORD *count,
                             BG_FILE_RANGE **ranges)
{
    BG_FILE_RANGE *spans = NULL;
    DWORD span_count = 0;
    HRESULT hr;

    *count = 0;
    *ranges = NULL;
    EnterCriticalSection(&job->cs);
    /* The bytes of a file of AddFileWithRanges, in the remote file's terms [inferred]. */
    if (file->ranges) hr = ranged_spans(file, &spans, &span_count);
    else hr = filled_spans(job, file, &spans, &span_count);
    LeaveCriticalSection(&job->cs);
    if (SUCCEEDED(hr) && span_count)
    {
        if (!(*ranges = CoTaskMemAlloc(span_count * sizeof(*spans)))) hr = E_OUTOFMEMORY;
        else
        {
            memcpy(*ranges, spans, span_count * sizeof(*spans));
            *count = span_count;
        }
    }
    free(spans);
    return hr;
}

/* A running transfer of the file keeps the name it started with; the next attempt takes the
 * new one (behaviour.md §2.1: the change takes effect at the next Resume). */
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

/* Same rule as engine_set_remote_name(): a transfer in flight keeps the name it started with.
 * The new names are made and checked under the lock (memory only) before any is stored. */
HRESULT engine_replace_remote_prefix(struct engine_job *job, const WCHAR *old_prefix,
                                     const WCHAR *new_prefix)
{
    size_t old_len = wcslen(old_prefix), new_len = wcslen(new_prefix), rest;
    struct job_props *props;
    WCHAR **names, *name;
    ULONG i, matched = 0;
    HRESULT hr;

    hr = engine_job_lock_for_change(job, &props);
    if (FAILED(hr)) return hr;
    names = calloc(max(job->file_count, 1), sizeof(*names));
    if (!names)
    {
        engine_job_unlock(job);
        return E_OUTOFMEMORY;
    }
    for (i = 0; i < job->file_count && SUCCEEDED(hr); i++)
    {
        name = job->files[i]->remote_name;
        if (wcsncmp(name, old_prefix, old_len)) continue;
        rest = wcslen(name + old_len);
        names[i] = malloc((new_len + rest + 1) * sizeof(WCHAR));
        if (!names[i])
        {
            hr = E_OUTOFMEMORY;
            break;
        }
        memcpy(names[i], new_prefix, new_len * sizeof(WCHAR));
        memcpy(names[i] + new_len, name + old_len, (rest + 1) * sizeof(WCHAR));
        hr = file_check_remote_name(names[i], job->type);
        matched++;
    }
    if (FAILED(hr) || !matched)
    {
        engine_job_unlock(job);
        for (i = 0; i < job->file_count; i++) free(names[i]);
        free(names);
        return FAILED(hr) ? hr : S_FALSE;
    }
    /* The array now takes the old names, to be freed once the lock is left. */
    for (i = 0; i < job->file_count; i++)
    {
        if (!names[i]) continue;
        name = job->files[i]->remote_name;
        job->files[i]->remote_name = names[i];
        names[i] = name;
    }
    TRACE("job %s: %lu remote names now start with %s\n", debugstr_guid(&job->id), matched,
          debugstr_w(new_prefix));
    i = job->file_count;
    engine_job_commit(job);
    while (i--) free(names[i]);
    free(names);
    return S_OK;
}

/* Only a peer could serve other content, and there is no peer caching: rejected content came
 * from the origin server, so the job stops in ERROR (behaviour.md §7.2).  The rejected bytes
 * go with their temporary file, so that no restart can take them for progress; the file
 * starts again from 0 at the next Resume. */
HRESULT engine_set_validation_state(struct engine_job *job, struct job_file *file, BOOL valid)
{
    struct job_props *props;
    struct run *run = NULL;
    const WCHAR *protocol;
    WCHAR *temp_name;
    HRESULT hr;

    hr = engine_job_lock_for_change(job, &props);
    if (FAILED(hr)) return hr;
    /* A file Complete saved is valid for good: Complete validates implicitly [doc]. */
    if (!engine_file_transferred(file) || (file->completed && !valid))
    {
        engine_job_unlock(job);
        return BG_E_INVALID_STATE;
    }
    if (valid)
    {
        file->validated = TRUE;
        engine_job_commit(job);
        return S_OK;
    }
    WARN("job %s: %s rejected by the client\n", debugstr_guid(&job->id),
         debugstr_w(file->remote_name));
    file->validated = FALSE;
    file->bytes_total = BG_SIZE_UNKNOWN;
    file->bytes_transferred = 0;
    file->validator[0] = 0;
    memset(&file->remote_time, 0, sizeof(file->remote_time));
    file->filled_count = file->fresh_count = 0;
    temp_name = file->temp_name;
    file->temp_name = NULL;
    protocol = !_wcsnicmp(file->remote_name, L"http", 4) ? L"http" : L"file";
    /* A worker busy with a later file stops: the job is in ERROR now. */
    job->generation++;
    run = grab_active(job);
    set_error(job, file, BG_E_VALIDATION_FAILED, BG_ERROR_CONTEXT_REMOTE_FILE, protocol, FALSE);
    LeaveCriticalSection(&job->cs);
    abort_run(run);
    save_wait(job);
    /* No run has it open: runs are for files still to transfer.  A file that stays is only
     * litter, which the next transfer does not use. */
    if (temp_name)
    {
        hr = localfile_delete(temp_name);
        if (FAILED(hr)) WARN("cannot delete %s, hr %#lx\n", debugstr_w(temp_name), hr);
        free(temp_name);
    }
    return S_OK;
}

/* Job lock held.  Whether the file has something to transfer: its missing bytes, or for an
 * on-demand file (Learn RequestFileRanges) the spans asked for, and its size, which tells
 * RequestFileRanges what lies past the end. */
static BOOL has_work(const struct engine_job *job, const struct job_file *file)
{
    if (file->completed) return FALSE;
    if (job->props.on_demand && !file->ranges)
        return file->bytes_total == BG_SIZE_UNKNOWN || file->wanted_count;
    return !engine_file_transferred(file);
}

/* Job lock held.  The first file with something to transfer, or NULL. */
static struct job_file *next_file(const struct engine_job *job)
{
    ULONG i;

    for (i = 0; i < job->file_count; i++)
        if (has_work(job, job->files[i])) return job->files[i];
    return NULL;
}

/* Job lock held.  Whether every file is in; only on-demand files can be short of it without
 * work to do. */
static BOOL all_transferred(const struct engine_job *job)
{
    ULONG i;

    for (i = 0; i < job->file_count; i++)
        if (!job->files[i]->completed && !engine_file_transferred(job->files[i])) return FALSE;
    return TRUE;
}

/* Job lock held.  behaviour.md §7.1, Learn SetReplyFileName: without a reply file name an
 * upload-reply job gets one at its first Resume, in the directory of the upload file.  Ours is
 * the upload file's name, the first eight hex digits of the job id, and ".reply", so that jobs
 * sending one file do not share a reply [our choice]. */
static HRESULT name_reply(struct engine_job *job)
{
    WCHAR *name, *base;
    const WCHAR *upload;
    size_t size;

    if (job->type != BG_JOB_TYPE_UPLOAD_REPLY || job->props.reply_file_name || !job->file_count)
        return S_OK;
    upload = job->files[0]->local_name;
    size = wcslen(upload) + 32;
    if (!(name = malloc(size * sizeof(WCHAR)))) return E_OUTOFMEMORY;
    swprintf(name, size, L"%ls.%08lx.reply", upload, job->id.Data1);
    if (wcslen(name) > MAX_PATH)
    {
        base = wcsrchr(name, '\\') + 1;
        swprintf(base, size - (base - name), L"BIT%08lX.reply", job->id.Data1);
    }
    TRACE("job %s: reply file %s\n", debugstr_guid(&job->id), debugstr_w(name));
    job->props.reply_file_name = name;
    return S_OK;
}

/* behaviour.md §3.4. */
HRESULT engine_resume_job(struct engine_job *job)
{
    HRESULT hr;

    EnterCriticalSection(&job->cs);
    if (is_final(job->state)) hr = BG_E_INVALID_STATE;
    else if (!job->file_count) hr = BG_E_EMPTY;
    else hr = name_reply(job);
    if (SUCCEEDED(hr))
    {
        switch (job->state)
        {
        case BG_JOB_STATE_TRANSFERRED:
            /* Only files added since bring it back to the queue [inferred]. */
            if (!next_file(job))
            {
                touch(job);
                break;
            }
            /* fall through */
        case BG_JOB_STATE_SUSPENDED:
        case BG_JOB_STATE_ERROR:
        case BG_JOB_STATE_TRANSIENT_ERROR:
            job->generation++;
            job->has_error = FALSE;     /* the task's rule: Resume clears the error */
            made_progress(job);         /* a new NoProgressTimeout window */
            job->active_ms = 0;         /* and a new MaximumDownloadTime */
            set_state(job, BG_JOB_STATE_QUEUED);
            break;
        default:                        /* already live: nothing to do */
            touch(job);
            break;
        }
    }
    LeaveCriticalSection(&job->cs);
    if (SUCCEEDED(hr))
    {
        wake_scheduler();
        save_wait(job);
    }
    TRACE("job %s: hr %#lx\n", debugstr_guid(&job->id), hr);
    return hr;
}

/* behaviour.md §3.3; gap G11: a TRANSFERRED job is suspended too. */
HRESULT engine_suspend_job(struct engine_job *job)
{
    struct run *run = NULL;
    HRESULT hr = S_OK;

    EnterCriticalSection(&job->cs);
    if (is_final(job->state)) hr = BG_E_INVALID_STATE;
    else if (job->state == BG_JOB_STATE_SUSPENDED) touch(job);
    else
    {
        job->generation++;
        run = grab_active(job);
        set_state(job, BG_JOB_STATE_SUSPENDED);
    }
    LeaveCriticalSection(&job->cs);
    abort_run(run);
    if (SUCCEEDED(hr)) save_wait(job);
    TRACE("job %s: hr %#lx\n", debugstr_guid(&job->id), hr);
    return hr;
}

/* Deletes a temporary file; one that is already gone is no failure. */
static BOOL delete_temp(const WCHAR *name)
{
    HRESULT hr = localfile_delete(name);

    if (SUCCEEDED(hr) || hr == HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND)
            || hr == HRESULT_FROM_WIN32(ERROR_PATH_NOT_FOUND))
        return TRUE;
    WARN("cannot delete %s, hr %#lx\n", debugstr_w(name), hr);
    return FALSE;
}

/* Job lock held.  Copies of the temporary names of the files not yet completed (so not owned
 * by the user yet), for deletion once the lock is left. */
static WCHAR **temp_names(const struct engine_job *job, ULONG *count)
{
    WCHAR **names = calloc(job->file_count + 1, sizeof(*names));
    ULONG i;

    *count = 0;
    if (!names) return NULL;
    for (i = 0; i < job->file_count; i++)
    {
        if (job->files[i]->completed || !job->files[i]->temp_name) continue;
        names[*count] = _wcsdup(job->files[i]->temp_name);
        if (names[*count]) (*count)++;
    }
    if (job->reply.temp_name)
    {
        names[*count] = _wcsdup(job->reply.temp_name);
        if (names[*count]) (*count)++;
    }
    return names;
}

/* behaviour.md §3.2: a cancelled upload's session is cancelled on the server too, so that it
 * drops what it holds; after the last fragment that cancels the reply, and the uploaded file
 * stays.  A thread of its own sends the Cancel-Session, so that Cancel does not wait for the
 * network; while the server cannot be reached it tries again every MinimumRetryDelay, for at
 * most a day or the NoProgressTimeout if that is shorter [doc].  Ours stops with the service
 * and is not saved [our limit]: after a restart the server drops the session when it expires
 * (wire-and-tools.md §2.7).  queue.cs guards the list. */
#define CANCEL_RETRY_MS     (24 * 60 * 60 * 1000ull)

struct cancel
{
    struct run *run;                /* with the job's settings and session */
    HANDLE stop;                    /* manual-reset: the engine stops */
    ULONGLONG deadline;             /* clock_ticks() after which no attempt starts */
    ULONGLONG delay;                /* milliseconds between attempts */
    struct cancel *next;
};

/* Queue lock held: every Cancel-Session stops soon. */
static void abort_cancels(void)
{
    struct cancel *cancel;

    for (cancel = queue.cancels; cancel; cancel = cancel->next)
    {
        SetEvent(cancel->stop);
        transport_abort(&cancel->run->transfer);
    }
}

static DWORD WINAPI cancel_main(void *arg)
{
    struct cancel *cancel = arg, **prev;
    struct run *run = cancel->run;
    struct engine_job *job = run->job;
    ULONGLONG now;
    HRESULT hr;

    for (;;)
    {
        hr = transport_upload(&run->transfer, UPLOAD_CANCEL);
        if (SUCCEEDED(hr) || hr == E_ABORT || !run->transfer.transient) break;
        now = clock_ticks();
        if (now >= cancel->deadline) break;
        WARN("job %s: Cancel-Session failed, hr %#lx; trying again\n", debugstr_guid(&job->id),
             hr);
        if (WaitForSingleObject(cancel->stop, (DWORD)min(cancel->delay, cancel->deadline - now))
                != WAIT_TIMEOUT)
            break;
    }
    if (FAILED(hr)) WARN("job %s: the server keeps its session, hr %#lx\n", debugstr_guid(&job->id),
                         hr);
    else TRACE("job %s: session cancelled\n", debugstr_guid(&job->id));
    EnterCriticalSection(&queue.cs);
    for (prev = &queue.cancels; *prev != cancel; prev = &(*prev)->next);
    *prev = cancel->next;
    queue.cancelling--;
    LeaveCriticalSection(&queue.cs);
    CloseHandle(cancel->stop);
    free(cancel);
    run_release(run);
    engine_job_release(job);
    return 0;
}

/* No lock held.  Starts the Cancel-Session of the run (created for the cancelled job, which
 * it holds a reference to), and takes both over. */
static void cancel_session(struct run *run, ULONG retry_delay, ULONG no_progress_timeout)
{
    struct engine_job *job = run->job;
    struct cancel *cancel = calloc(1, sizeof(*cancel));
    ULONGLONG limit = min(CANCEL_RETRY_MS, no_progress_timeout * 1000ull);
    HANDLE thread = NULL;

    run->transfer.progress = NULL;      /* nobody to tell: the job is final */
    if (cancel) cancel->stop = CreateEventW(NULL, TRUE, FALSE, NULL);
    EnterCriticalSection(&queue.cs);
    if (cancel && cancel->stop && !queue.stopping)
    {
        cancel->run = run;
        cancel->deadline = clock_ticks() + limit;
        cancel->delay = retry_delay * 1000ull;
        thread = CreateThread(NULL, 0, cancel_main, cancel, 0, NULL);
    }
    if (thread)
    {
        cancel->next = queue.cancels;
        queue.cancels = cancel;
        queue.cancelling++;
    }
    LeaveCriticalSection(&queue.cs);
    if (thread)
    {
        CloseHandle(thread);
        return;
    }
    WARN("job %s: no Cancel-Session, the server keeps the session until it expires\n",
         debugstr_guid(&job->id));
    if (cancel && cancel->stop) CloseHandle(cancel->stop);
    free(cancel);
    run_release(run);
    engine_job_release(job);
}

/* Deletes and frees what temp_names() returned; FALSE if some file stayed. */
static BOOL delete_temp_names(WCHAR **names, ULONG count)
{
    BOOL ret = TRUE;
    ULONG i;

    for (i = 0; i < count; i++)
    {
        if (!delete_temp(names[i])) ret = FALSE;
        free(names[i]);
    }
    free(names);
    return ret;
}

/* behaviour.md §3.2: the temporary files go, the files a failed Complete already renamed stay.
 * A Complete that is renaming files makes Cancel wait its turn: BG_E_INVALID_STATE. */
HRESULT engine_cancel_job(struct engine_job *job)
{
    struct run *run = NULL, *cancel = NULL;
    ULONG count = 0, retry_delay = 0, timeout = 0;
    struct file_work work;
    WCHAR **names = NULL;
    HRESULT hr = S_OK;
    BOOL queued = FALSE;

    EnterCriticalSection(&queue.cs);
    EnterCriticalSection(&job->cs);
    if (is_final(job->state) || job->committing) hr = BG_E_INVALID_STATE;
    else
    {
        job->generation++;
        run = grab_active(job);
        names = temp_names(job, &count);
        if (job->session.id[0] && job->file_count)
        {
            cancel = create_run(job, job->files[0], RUN_CLOSE);
            if (cancel) engine_job_addref(job);
            else WARN("out of memory: the server keeps the session until it expires\n");
            retry_delay = job->props.retry_delay;
            timeout = job->props.no_progress_timeout;
        }
        set_state(job, BG_JOB_STATE_CANCELLED);
    }
    LeaveCriticalSection(&job->cs);
    if (SUCCEEDED(hr)) queued = queue_remove(job);
    LeaveCriticalSection(&queue.cs);
    if (queued) engine_job_release(job);
    if (FAILED(hr)) return hr;

    /* The entry goes first: a crash after it leaves hidden temporary files at worst, never a
     * job that comes back without its bytes. */
    save_wait(job);
    stop_run(run);
    /* After the worker let go, so that the server sees no fragment after it. */
    if (cancel) cancel_session(cancel, retry_delay, timeout);
    /* The temporary files are opened with FILE_SHARE_DELETE, so a worker still holding one does
     * not stop this; a worker that creates one after this sees the new generation and deletes
     * it itself.  security.c: the deletions run as the caller (behaviour.md §9.3: an
     * administrator may lack access to the owner's files). */
    security_begin_file_work(&work);
    if (names && !delete_temp_names(names, count)) hr = BG_S_UNABLE_TO_DELETE_FILES;
    security_end_file_work(&work);
    TRACE("job %s: hr %#lx\n", debugstr_guid(&job->id), hr);
    return hr;
}

/* What Complete does with one file, decided under the lock, done after it. */
struct commit
{
    struct job_file *file;
    WCHAR *temp_name;           /* malloc'd; NULL when there is nothing on disk */
    WCHAR *local_name;          /* malloc'd; NULL when the file is dropped, not renamed */
    FILETIME remote_time;
};

static void free_commits(struct commit *commits, ULONG count)
{
    ULONG i;

    for (i = 0; i < count; i++)
    {
        free(commits[i].temp_name);
        free(commits[i].local_name);
    }
    free(commits);
}

/* Job lock held.  behaviour.md §3.1 step 3: a file is finished when all its bytes were in
 * before the call; the file in flight is not, even with its last byte written. */
static HRESULT plan_commits(struct engine_job *job, struct commit **out, ULONG *out_count,
                            BOOL *partial)
{
    struct job_file *in_flight = job->active ? job->active->file : NULL;
    struct commit *commits;
    ULONG i, count = 0;

    *out = NULL;
    *out_count = 0;
    *partial = FALSE;
    commits = calloc(max(job->file_count, 1), sizeof(*commits));
    if (!commits) return E_OUTOFMEMORY;
    for (i = 0; i < job->file_count; i++)
    {
        struct job_file *file = job->files[i];
        struct commit *commit = &commits[count];

        if (file->completed) continue;
        count++;
        commit->file = file;
        commit->remote_time = file->remote_time;
        if (file->temp_name)
        {
            commit->temp_name = _wcsdup(file->temp_name);
            if (!commit->temp_name) break;
        }
        if (file == in_flight || !engine_file_transferred(file) || !file->temp_name)
        {
            *partial = TRUE;
            continue;
        }
        commit->local_name = _wcsdup(file->local_name);
        if (!commit->local_name) break;
    }
    if (i < job->file_count)
    {
        free_commits(commits, count);
        return E_OUTOFMEMORY;
    }
    *out = commits;
    *out_count = count;
    return S_OK;
}

/* Job lock held.  Complete of an upload (behaviour.md §3.1): only once TRANSFERRED; the server
 * already has the file, so nothing is left to do here. */
static HRESULT complete_upload(struct engine_job *job)
{
    assert(job_lock_held(job));
    if (job->state != BG_JOB_STATE_TRANSFERRED) return BG_E_INVALID_STATE;
    set_state(job, BG_JOB_STATE_ACKNOWLEDGED);
    return S_OK;
}

/* Job lock held.  behaviour.md §3.1: Complete of an upload-reply job needs it TRANSFERRED, and
 * then saves its reply under the reply file name as a download's file is saved. */
static HRESULT plan_reply_commit(struct engine_job *job, struct commit **out, ULONG *count)
{
    struct commit *commit;

    *out = NULL;
    *count = 0;
    if (job->state != BG_JOB_STATE_TRANSFERRED) return BG_E_INVALID_STATE;
    if (!(commit = calloc(1, sizeof(*commit)))) return E_OUTOFMEMORY;
    *out = commit;
    if (!job->reply.temp_name || !job->props.reply_file_name) return S_OK;
    *count = 1;
    commit->temp_name = _wcsdup(job->reply.temp_name);
    commit->local_name = _wcsdup(job->props.reply_file_name);
    commit->remote_time = job->reply.remote_time;
    if (commit->temp_name && commit->local_name) return S_OK;
    free_commits(commit, 1);
    *out = NULL;
    *count = 0;
    return E_OUTOFMEMORY;
}

/* behaviour.md §3.1 and the seed: rename the files finished before the call, in job order,
 * replacing existing files; drop the others.  Gap G26: the in-flight file is dropped at once,
 * without waiting; gap G23: BG_S_UNABLE_TO_DELETE_FILES wins over BG_S_PARTIAL_COMPLETE, since
 * files left on disk show nowhere else while BG_FILE_PROGRESS.Completed tells what was kept. */
HRESULT engine_complete_job(struct engine_job *job)
{
    HRESULT hr, rename_hr = S_OK;
    struct commit *commits = NULL;
    struct file_work work;
    struct run *run = NULL;
    BOOL partial = FALSE, deleted = TRUE, queued = FALSE, admin;
    PSID caller = NULL;
    ULONG count = 0, i;

    /* Saved with the intent, so that files a load saves are the caller's too (the seed). */
    hr = security_get_caller(&caller, &admin);
    if (FAILED(hr)) WARN("cannot tell who completes, hr %#lx: a load gives the owner\n", hr);
    EnterCriticalSection(&queue.cs);
    EnterCriticalSection(&job->cs);
    if (is_final(job->state) || job->committing) hr = BG_E_INVALID_STATE;
    else if (job->type == BG_JOB_TYPE_UPLOAD) hr = complete_upload(job);
    else
    {
        if (job->type == BG_JOB_TYPE_UPLOAD_REPLY) hr = plan_reply_commit(job, &commits, &count);
        else hr = plan_commits(job, &commits, &count, &partial);
        if (SUCCEEDED(hr))
        {
            job->committing = TRUE;     /* saved: a load after a crash finishes the commit */
            free(job->committer);
            job->committer = caller;
            caller = NULL;
            mark_changed(job);
            job->generation++;
            run = grab_active(job);
        }
    }
    LeaveCriticalSection(&job->cs);
    if (SUCCEEDED(hr) && job->type == BG_JOB_TYPE_UPLOAD) queued = queue_remove(job);
    LeaveCriticalSection(&queue.cs);
    free(caller);
    if (queued) engine_job_release(job);
    if (SUCCEEDED(hr)) save_wait(job);
    if (FAILED(hr) || job->type == BG_JOB_TYPE_UPLOAD) return hr;

    stop_run(run);
    /* Unlocked: the scheduler leaves a committing job alone, and Cancel, Complete and AddFile
     * refuse it, so the files cannot change under us.  security.c: the file work runs as the
     * caller, and each saved file is given to the caller (the seed). */
    security_begin_file_work(&work);
    for (i = 0; i < count; i++)
    {
        if (!commits[i].local_name) continue;
        hr = localfile_commit(commits[i].temp_name, commits[i].local_name,
                              &commits[i].remote_time);
        if (FAILED(hr))
        {
            ERR("rename to %s failed, hr %#lx\n", debugstr_w(commits[i].local_name), hr);
            if (SUCCEEDED(rename_hr)) rename_hr = hr;
            free(commits[i].local_name);
            commits[i].local_name = NULL;
            commits[i].file = NULL;         /* neither completed nor to delete */
            continue;
        }
        /* The file is saved; an owner left as it was is only logged. */
        security_give_file(&work, commits[i].local_name);
    }
    /* On a failed rename the job stays, and so do the unfinished files: a later Complete
     * drops them, or a Resume transfers them. */
    for (i = 0; SUCCEEDED(rename_hr) && i < count; i++)
    {
        if (!commits[i].local_name && commits[i].temp_name && !delete_temp(commits[i].temp_name))
            deleted = FALSE;
    }
    security_end_file_work(&work);

    EnterCriticalSection(&queue.cs);
    EnterCriticalSection(&job->cs);
    for (i = 0; i < count; i++)
        if (commits[i].file && commits[i].local_name)
        {
            commits[i].file->completed = TRUE;
            commits[i].file->validated = TRUE;  /* Complete validates implicitly [doc] */
        }
    job->committing = FALSE;
    if (SUCCEEDED(rename_hr))
    {
        /* GetReplyData reads the reply file from now on. */
        free(job->reply.temp_name);
        job->reply.temp_name = NULL;
        set_state(job, BG_JOB_STATE_ACKNOWLEDGED);
        queued = queue_remove(job);
    }
    /* No second JobTransferred for a job that was TRANSFERRED already. */
    else if (job->state != BG_JOB_STATE_TRANSFERRED) set_state(job, BG_JOB_STATE_TRANSFERRED);
    else touch(job);
    LeaveCriticalSection(&job->cs);
    LeaveCriticalSection(&queue.cs);
    if (queued) engine_job_release(job);
    free_commits(commits, count);
    save_wait(job);

    if (FAILED(rename_hr)) hr = rename_hr;
    else if (!deleted) hr = BG_S_UNABLE_TO_DELETE_FILES;
    else if (partial) hr = BG_S_PARTIAL_COMPLETE;
    else hr = S_OK;
    TRACE("job %s: hr %#lx\n", debugstr_guid(&job->id), hr);
    return hr;
}

/* Job lock held.  Whether the worker still works for the job as it is now. */
static BOOL run_current(const struct engine_job *job, LONG generation)
{
    return job->generation == generation && !job->committing && is_running_state(job->state);
}

static BOOL is_upload_run(const struct run *run)
{
    return run->kind == RUN_SEND || run->kind == RUN_CLOSE;
}

/* Where the bytes of a run count: its file's fields, or for a reply the job's reply progress
 * and reply data.  The validators are alike (qmgr_private.h). */
struct counts
{
    UINT64 *total;
    UINT64 *transferred;
    WCHAR *validator;
    FILETIME *remote_time;
};

/* Job lock held. */
static void run_counts(struct engine_job *job, struct run *run, struct counts *counts)
{
    C_ASSERT(sizeof(job->reply.validator) == sizeof(run->file->validator));

    if (run->kind == RUN_REPLY)
    {
        counts->total = &job->reply_progress.BytesTotal;
        counts->transferred = &job->reply_progress.BytesTransferred;
        counts->validator = job->reply.validator;
        counts->remote_time = &job->reply.remote_time;
        return;
    }
    counts->total = &run->file->bytes_total;
    counts->transferred = &run->file->bytes_transferred;
    counts->validator = run->file->validator;
    counts->remote_time = &run->file->remote_time;
}

/* Job lock held.  Takes what an upload run learnt of its session, and the reply's URL; TRUE
 * when that changed the job. */
static BOOL record_session(struct engine_job *job, struct run *run)
{
    struct transfer *transfer = &run->transfer;
    BOOL changed = wcscmp(job->session.id, transfer->session.id)
            || wcscmp(job->session.host, transfer->session.host)
            || job->session.host_timeout != transfer->session.host_timeout;

    job->session = transfer->session;
    job->host_down_since = transfer->host_down_since;
    if (transfer->reply_url)
    {
        free(job->reply.url);
        job->reply.url = transfer->reply_url;
        transfer->reply_url = NULL;
        changed = TRUE;
    }
    return changed;
}

/* Job lock held.  Copies a transport's validator into a file's or a reply's. */
static void copy_validator(WCHAR *dst, const struct transfer *transfer)
{
    memcpy(dst, transfer->validator, sizeof(transfer->validator));
    dst[ARRAYSIZE(transfer->validator) - 1] = 0;
}

/* The transport's progress callback, on the worker thread: memory only (qmgr_private.h). */
static void transfer_progress(struct transfer *transfer)
{
    struct run *run = transfer->context;
    struct engine_job *job = run->job;
    struct counts counts;
    UINT64 old;

    EnterCriticalSection(&job->cs);
    if (run_current(job, run->generation))
    {
        run_counts(job, run, &counts);
        old = *counts.transferred;
        if (transfer->total != BG_SIZE_UNKNOWN) *counts.total = transfer->total;
        if (!run->random) *counts.transferred = transfer->transferred;
        else if (transfer->piece.Length)
            fill_span(job, run->file, transfer->piece.InitialOffset, span_end(&transfer->piece));
        if (*counts.transferred != old) made_progress(job);
        /* A save between two runs must pair the bytes with the validator they belong to. */
        if (wcscmp(counts.validator, transfer->validator))
            copy_validator(counts.validator, transfer);
        /* A new session is saved at once, so that a restart goes on in it. */
        if (is_upload_run(run) && record_session(job, run)) mark_changed(job);
        if (job->state == BG_JOB_STATE_CONNECTING) set_state(job, BG_JOB_STATE_TRANSFERRING);
        else
        {
            touch_progress(job, old, *counts.transferred);
            notify_job_modified(job, FALSE);
        }
    }
    LeaveCriticalSection(&job->cs);
}

static HRESULT copy_string(const WCHAR *src, WCHAR **dst)
{
    *dst = NULL;
    if (!src) return S_OK;
    *dst = _wcsdup(src);
    return *dst ? S_OK : E_OUTOFMEMORY;
}

/* The credentials a transfer answers challenges with; dst is empty, and stays so on failure. */
static HRESULT copy_credentials(const struct job_credential src[AUTH_TARGETS][AUTH_SCHEMES],
                                struct job_credential dst[AUTH_TARGETS][AUTH_SCHEMES])
{
    unsigned int target, scheme;
    HRESULT hr = S_OK;

    for (target = 0; target < AUTH_TARGETS; target++)
        for (scheme = 0; scheme < AUTH_SCHEMES && SUCCEEDED(hr); scheme++)
        {
            dst[target][scheme].set = src[target][scheme].set;
            hr = copy_string(src[target][scheme].user, &dst[target][scheme].user);
            if (SUCCEEDED(hr))
                hr = copy_string(src[target][scheme].password, &dst[target][scheme].password);
        }
    if (FAILED(hr)) free_credentials(dst);
    return hr;
}

/* Job lock held.  The ranges of a download run: those of AddFileWithRanges, or the spans an
 * on-demand file still wants, from the download position on, then those before it. */
static HRESULT set_run_ranges(struct engine_job *job, struct run *run)
{
    const struct job_file *file = run->file;
    const BG_FILE_RANGE *wanted = file->wanted;
    struct transfer *transfer = &run->transfer;
    DWORD count, first, i, n = 0;
    UINT64 position = file->position;

    run->random = is_random(job, file);
    count = run->random ? file->wanted_count : file->range_count;
    if (count && !(run->ranges = malloc((count + 1) * sizeof(*run->ranges))))
        return E_OUTOFMEMORY;
    if (!run->random)
    {
        if (count) memcpy(run->ranges, file->ranges, count * sizeof(*run->ranges));
        n = count;
    }
    else
    {
        for (first = 0; first < count && span_end(&wanted[first]) <= position; first++) ;
        for (i = first; i < count; i++) run->ranges[n++] = wanted[i];
        for (i = 0; i < first; i++) run->ranges[n++] = wanted[i];
        if (first < count && wanted[first].InitialOffset < position)
        {
            /* The span the position is in: its start comes last. */
            run->ranges[0].InitialOffset = position;
            run->ranges[0].Length = span_end(&wanted[first]) - position;
            run->ranges[n].InitialOffset = wanted[first].InitialOffset;
            run->ranges[n++].Length = position - wanted[first].InitialOffset;
        }
        transfer->random = TRUE;
        transfer->had_data = file->filled_count != 0;
        transfer->offset = transfer->transferred = 0;
    }
    transfer->ranges = run->ranges;
    transfer->range_count = n;
    return S_OK;
}

/* Job lock held.  A run of that kind for the file: copies of everything the transfer needs.
 * A reply run has the reply file name as its local name, and the reply's URL and temporary
 * file. */
static struct run *create_run(struct engine_job *job, struct job_file *file, enum run_kind kind)
{
    const struct job_props *props = &job->props;
    struct run *run = calloc(1, sizeof(*run));
    struct transfer *transfer;
    struct counts counts;
    HRESULT hr;

    if (!run) return NULL;
    run->refcount = 1;
    run->done = CreateEventW(NULL, TRUE, FALSE, NULL);
    run->job = job;
    run->generation = job->generation;
    run->kind = kind;
    run->file = file;
    if (kind == RUN_REPLY)
    {
        hr = copy_string(props->reply_file_name, &run->local_name);
        if (SUCCEEDED(hr)) hr = copy_string(job->reply.temp_name, &run->temp_name);
        if (SUCCEEDED(hr)) hr = copy_string(job->reply.url, &run->remote_name);
    }
    else
    {
        hr = copy_string(file->local_name, &run->local_name);
        if (SUCCEEDED(hr)) hr = copy_string(file->temp_name, &run->temp_name);
        if (SUCCEEDED(hr)) hr = copy_string(file->remote_name, &run->remote_name);
    }
    /* Uploads send BITS_POST, and fetch their reply with GET (wire-and-tools.md §2.10). */
    if (SUCCEEDED(hr) && kind == RUN_DOWNLOAD)
        hr = copy_string(props->http_method, &run->http_method);
    if (SUCCEEDED(hr)) hr = copy_string(props->custom_headers, &run->custom_headers);
    if (SUCCEEDED(hr)) hr = copy_string(props->proxy_list, &run->proxy_list);
    if (SUCCEEDED(hr)) hr = copy_string(props->proxy_bypass_list, &run->proxy_bypass_list);
    if (SUCCEEDED(hr)) hr = copy_credentials(props->credentials, run->credentials);
    if (SUCCEEDED(hr) && !run->done) hr = HRESULT_FROM_WIN32(GetLastError());
    if (FAILED(hr))
    {
        run_release(run);
        return NULL;
    }
    run_counts(job, run, &counts);
    transfer = &run->transfer;
    transfer->remote_name = run->remote_name;
    transfer->temp_file = INVALID_HANDLE_VALUE;
    transfer->offset = *counts.transferred;
    transfer->known_size = *counts.total;
    memcpy(transfer->validator, counts.validator, sizeof(transfer->validator));
    transfer->custom_headers = run->custom_headers;
    transfer->credentials = run->credentials;
    transfer->http_method = run->http_method;
    transfer->proxy_usage = props->proxy_usage;
    transfer->proxy_list = run->proxy_list;
    transfer->proxy_bypass_list = run->proxy_bypass_list;
    transfer->security_flags = props->security_flags;
    transfer->progress = transfer_progress;
    transfer->context = run;
    transfer->total = *counts.total;
    transfer->transferred = *counts.transferred;
    if (kind == RUN_DOWNLOAD && FAILED(set_run_ranges(job, run)))
    {
        run_release(run);
        return NULL;
    }
    if (is_upload_run(run))
    {
        transfer->local_name = run->local_name;
        transfer->foreground = props->priority == BG_JOB_PRIORITY_FOREGROUND;
        transfer->session = job->session;
        transfer->host_down_since = job->host_down_since;
    }
    return run;
}

/* Job lock held.  The worker leaves a job it was asked to give up (time slice, pre-emption,
 * service stop) in the queue for later. */
static BOOL requeue_if_asked(struct engine_job *job)
{
    if (!job->yield && !queue.stopping) return FALSE;
    TRACE("job %s: giving up its turn\n", debugstr_guid(&job->id));
    set_state(job, BG_JOB_STATE_QUEUED);
    return TRUE;
}

/* Job lock held.  What an upload job does next (wire-and-tools.md §2.5): send its file, fetch
 * the reply of an upload-reply job, then close the session.  A session the server forgot is
 * closed too: its Close-Session only learns that. */
static enum run_kind next_upload_step(const struct engine_job *job)
{
    if (!job->files[0]->completed) return RUN_SEND;
    if (job->type == BG_JOB_TYPE_UPLOAD_REPLY && !reply_in(job)) return RUN_REPLY;
    if (job->session.id[0]) return RUN_CLOSE;
    return RUN_NONE;
}

/* Job lock held.  The next run for the worker, or NULL when the worker is done: then the job
 * is TRANSFERRED, requeued, or no longer the worker's. */
static struct run *next_run(struct engine_job *job, LONG generation)
{
    struct job_file *file;
    enum run_kind kind;
    struct run *run;

    if (!run_current(job, generation) || requeue_if_asked(job)) return NULL;
    if (job->type == BG_JOB_TYPE_DOWNLOAD)
    {
        file = next_file(job);
        kind = file ? RUN_DOWNLOAD : RUN_NONE;
    }
    else
    {
        file = job->files[0];       /* Resume saw to it that there is one */
        kind = next_upload_step(job);
    }
    if (kind == RUN_NONE)
    {
        /* Learn RequestFileRanges: an on-demand job that has what was asked for but not every
         * byte waits in SUSPENDED for more requests. */
        if (job->type == BG_JOB_TYPE_DOWNLOAD && !all_transferred(job))
            set_state(job, BG_JOB_STATE_SUSPENDED);
        else set_state(job, BG_JOB_STATE_TRANSFERRED);
        return NULL;
    }
    /* SetReplyFileName(NULL) may have taken the name away since Resume. */
    run = kind != RUN_REPLY || SUCCEEDED(name_reply(job)) ? create_run(job, file, kind) : NULL;
    if (!run)
        set_error(job, file, E_OUTOFMEMORY, BG_ERROR_CONTEXT_GENERAL_QUEUE_MANAGER, NULL, TRUE);
    return run;
}

/* Local file failures that may go away on their own: retried, the others need the user. */
static BOOL is_transient_local(HRESULT hr)
{
    return hr == HRESULT_FROM_WIN32(ERROR_DISK_FULL)
            || hr == HRESULT_FROM_WIN32(ERROR_HANDLE_DISK_FULL)
            || hr == HRESULT_FROM_WIN32(ERROR_SHARING_VIOLATION)
            || hr == HRESULT_FROM_WIN32(ERROR_LOCK_VIOLATION)
            || hr == E_OUTOFMEMORY;
}

/* No lock held.  Creates the temporary file of the run's file or reply (behaviour.md §10: when
 * its transfer starts) and gives it to the job, or deletes it again if the job moved on. */
static HRESULT create_temp(struct run *run, HANDLE *handle)
{
    struct engine_job *job = run->job;
    WCHAR *temp_name, **slot;
    struct counts counts;
    HRESULT hr;
    BOOL keep;

    hr = localfile_create_temp(run->local_name, &temp_name, handle);
    if (FAILED(hr))
    {
        *handle = INVALID_HANDLE_VALUE;
        return hr;
    }
    TRACE("temporary file %s\n", debugstr_w(temp_name));
    free(run->temp_name);
    run->temp_name = NULL;
    EnterCriticalSection(&job->cs);
    keep = job->generation == run->generation;
    if (keep)
    {
        hr = copy_string(temp_name, &run->temp_name);
        slot = run->kind == RUN_REPLY ? &job->reply.temp_name : &run->file->temp_name;
        free(*slot);
        *slot = temp_name;
        run_counts(job, run, &counts);
        *counts.transferred = 0;
        counts.validator[0] = 0;
        if (run->kind == RUN_DOWNLOAD) run->file->filled_count = run->file->fresh_count = 0;
        touch(job);
    }
    LeaveCriticalSection(&job->cs);
    run->transfer.offset = 0;
    run->transfer.transferred = 0;
    run->transfer.validator[0] = 0;
    run->transfer.had_data = FALSE;
    if (keep)
    {
        /* Saved before any byte goes in, so no crash leaves a temporary file unknown. */
        save_wait(job);
        return hr;
    }
    CloseHandle(*handle);
    *handle = INVALID_HANDLE_VALUE;
    delete_temp(temp_name);
    free(temp_name);
    return E_ABORT;
}

/* No lock held.  The temporary file of the run, opened, and the offset to resume from. */
static HRESULT open_temp(struct run *run, HANDLE *handle)
{
    UINT64 size;
    HRESULT hr;

    *handle = INVALID_HANDLE_VALUE;
    if (!run->temp_name) return create_temp(run, handle);
    hr = localfile_open_temp(run->temp_name, handle, &size);
    if (hr == HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND))
    {
        WARN("%s is gone, starting the file again\n", debugstr_w(run->temp_name));
        return create_temp(run, handle);
    }
    if (FAILED(hr))
    {
        *handle = INVALID_HANDLE_VALUE;
        return hr;
    }
    if (size < run->transfer.offset)
    {
        WARN("%s holds %I64u bytes, not %I64u\n", debugstr_w(run->temp_name), size,
             run->transfer.offset);
        run->transfer.offset = run->transfer.transferred = size;
    }
    return S_OK;
}

/* Job lock held.  Keeps what the transport learnt, whatever the outcome. */
static void record_transfer(struct engine_job *job, struct run *run)
{
    struct transfer *transfer = &run->transfer;
    struct job_file *file = run->file;
    struct counts counts;

    run_counts(job, run, &counts);
    if (!run->random && transfer->transferred != *counts.transferred) made_progress(job);
    if (transfer->total != BG_SIZE_UNKNOWN) *counts.total = transfer->total;
    if (!run->random) *counts.transferred = transfer->transferred;
    else if (*counts.total != BG_SIZE_UNKNOWN
             && FAILED(spans_remove(&file->wanted, &file->wanted_count, *counts.total, ~(UINT64)0)))
        WARN("out of memory\n");   /* only a span past the end asked for again */
    copy_validator(counts.validator, transfer);
    if (is_upload_run(run)) record_session(job, run);
    else *counts.remote_time = transfer->remote_time;
    /* File5's HTTP_RESPONSE_HEADERS are of the file's own requests, not of the reply's. */
    if (transfer->response_headers && run->kind != RUN_REPLY)
    {
        free(file->response_headers);
        file->response_headers = transfer->response_headers;
        transfer->response_headers = NULL;
    }
    touch(job);
}

/* Job lock held.  behaviour.md §7.1: with BG_HTTP_REDIRECT_POLICY_ALLOW_REPORT the file takes
 * the URL the redirects ended at. */
static void record_redirect(struct engine_job *job, struct run *run)
{
    WCHAR *url = run->transfer.final_url;

    if (!url || (job->props.security_flags & BG_HTTP_REDIRECT_POLICY_MASK)
            != BG_HTTP_REDIRECT_POLICY_ALLOW_REPORT)
        return;
    free(run->file->remote_name);
    run->file->remote_name = url;
    run->transfer.final_url = NULL;
}

/* Job lock held.  What the worker does after the transport returned; FALSE when it stops
 * working on the job. */
static BOOL finish_run(struct engine_job *job, struct run *run, HRESULT hr)
{
    const struct transfer *transfer = &run->transfer;
    struct counts counts;

    if (job->generation != run->generation || job->committing)
    {
        /* A client stopped the job.  Suspend keeps the bytes; Cancel and Complete took the
         * files out of the worker's hands. */
        if (!is_final(job->state) && !job->committing) record_transfer(job, run);
        return FALSE;
    }
    if (!is_running_state(job->state)) return FALSE;
    record_transfer(job, run);
    if (SUCCEEDED(hr) && !run->random && transfer->total != BG_SIZE_UNKNOWN
            && transfer->transferred != transfer->total)
    {
        ERR("transport reported %I64u of %I64u bytes\n", transfer->transferred, transfer->total);
        set_error(job, run->file, E_UNEXPECTED, BG_ERROR_CONTEXT_GENERAL_TRANSPORT,
                  transfer->protocol, TRUE);
        return FALSE;
    }
    if (SUCCEEDED(hr))
    {
        made_progress(job);
        if (job->state == BG_JOB_STATE_CONNECTING) set_state(job, BG_JOB_STATE_TRANSFERRING);
        switch (run->kind)
        {
        case RUN_SEND:
            /* behaviour.md §3.1: an uploaded file is completed, without Complete. */
            run->file->completed = TRUE;
            TRACE("job %s: %s uploaded\n", debugstr_guid(&job->id), debugstr_w(run->remote_name));
            break;
        case RUN_CLOSE:
            TRACE("job %s: session closed\n", debugstr_guid(&job->id));
            break;
        default:
            if (run->random)
            {
                /* The spans asked for are in; the file may still miss others. */
                TRACE("job %s: %s filled\n", debugstr_guid(&job->id), debugstr_w(run->remote_name));
                if (engine_file_transferred(run->file)) notify_job_event(job);
                break;
            }
            /* A file without a known size ends where its data ended. */
            run_counts(job, run, &counts);
            *counts.total = *counts.transferred;
            if (run->kind == RUN_DOWNLOAD) record_redirect(job, run);
            TRACE("job %s: %s transferred\n", debugstr_guid(&job->id),
                  debugstr_w(run->remote_name));
            notify_job_event(job);      /* FileTransferred, for a file or a reply */
            break;
        }
        return TRUE;
    }
    if (hr == E_ABORT && requeue_if_asked(job)) return FALSE;
    if (hr == E_ABORT) set_error(job, run->file, hr, BG_ERROR_CONTEXT_GENERAL_TRANSPORT,
                                 transfer->protocol, TRUE);
    else set_error(job, run->file, hr, transfer->error_context, transfer->protocol,
                   transfer->transient);
    return FALSE;
}

/* Job lock held.  Whether the file's temporary file has no use any more: the job was
 * cancelled, or completed without it. */
static BOOL is_dropped(const struct engine_job *job, const struct job_file *file)
{
    return job->state == BG_JOB_STATE_CANCELLED
            || (job->state == BG_JOB_STATE_ACKNOWLEDGED && !file->completed);
}

/* No lock held.  Runs the transport of the run: an upload step, or a download into its
 * temporary file (a reply the server did not name is empty, and needs none). */
static HRESULT run_transport(struct run *run)
{
    switch (run->kind)
    {
    case RUN_SEND:
        return transport_upload(&run->transfer, UPLOAD_SEND);
    case RUN_CLOSE:
        return transport_upload(&run->transfer, UPLOAD_CLOSE);
    default:
        if (run->random) return http_fill(&run->transfer);
        if (run->remote_name) return transport_download(&run->transfer);
        run->transfer.total = run->transfer.transferred = 0;
        return S_OK;
    }
}

/* The worker's loop over the runs of a job: the files of a download job strictly in order
 * (behaviour.md §5.1), the steps of an upload job (next_upload_step()).  Returns when the job
 * is TRANSFERRED, in error, requeued, or changed by a client. */
static void transfer_files(struct engine_job *job, LONG generation)
{
    BOOL more = TRUE, drop;
    struct run *run;
    HANDLE handle;
    HRESULT hr;

    while (more)
    {
        /* From here on a client's Cancel or Complete can abort the run and wait for it. */
        EnterCriticalSection(&job->cs);
        run = next_run(job, generation);
        if (run)
        {
            run_addref(run);
            job->active = run;
        }
        LeaveCriticalSection(&job->cs);
        if (!run) break;

        handle = INVALID_HANDLE_VALUE;
        hr = is_upload_run(run) ? S_OK : open_temp(run, &handle);
        EnterCriticalSection(&job->cs);
        if (hr == E_ABORT || !run_current(job, generation)) more = FALSE;
        else if (FAILED(hr))
        {
            ERR("temporary file for %s: hr %#lx\n", debugstr_w(run->local_name), hr);
            set_error(job, run->file, hr, BG_ERROR_CONTEXT_LOCAL_FILE, NULL,
                      is_transient_local(hr));
            more = FALSE;
        }
        else if (requeue_if_asked(job)) more = FALSE;
        else run->transfer.temp_file = handle;
        LeaveCriticalSection(&job->cs);

        if (more)
        {
            TRACE("job %s: run %u, %s from %I64u\n", debugstr_guid(&job->id), run->kind,
                  debugstr_w(run->remote_name), run->transfer.offset);
            hr = run_transport(run);
            TRACE("job %s: transport hr %#lx\n", debugstr_guid(&job->id), hr);
        }
        if (handle != INVALID_HANDLE_VALUE) CloseHandle(handle);

        EnterCriticalSection(&job->cs);
        job->active = NULL;
        if (more) more = finish_run(job, run, hr);
        drop = is_dropped(job, run->file);
        LeaveCriticalSection(&job->cs);
        /* Cancel or Complete deletes it too, unless the wait for us timed out. */
        if (drop && run->temp_name) delete_temp(run->temp_name);
        SetEvent(run->done);
        run_release(run);       /* the active reference */
        run_release(run);
    }
}

/* One worker thread per running job; it owns a reference to the job. */
static DWORD WINAPI worker_main(void *arg)
{
    struct engine_job *job = arg;
    LONG generation;

    EnterCriticalSection(&job->cs);
    generation = job->run_generation;
    LeaveCriticalSection(&job->cs);

    transfer_files(job, generation);

    EnterCriticalSection(&queue.cs);
    EnterCriticalSection(&job->cs);
    if (job->run_generation == job->generation)
        job->active_ms += clock_ticks() - job->slice_start;
    job->running = FALSE;
    job->yield = FALSE;
    LeaveCriticalSection(&job->cs);
    queue.running--;
    LeaveCriticalSection(&queue.cs);
    wake_scheduler();
    engine_job_release(job);
    return 0;
}

static ULONGLONG min_time(ULONGLONG a, ULONGLONG b)
{
    return a < b ? a : b;
}

/* Queue and job locks held.  behaviour.md §4.2: retry after MinimumRetryDelay; ERROR once
 * NoProgressTimeout passed since the first transient error (keeping that error). */
static void run_timers(struct engine_job *job, ULONGLONG now, ULONGLONG *next)
{
    ULONGLONG timeout;

    if (job->state != BG_JOB_STATE_TRANSIENT_ERROR) return;
    timeout = job->props.no_progress_timeout * 1000ull;
    if (job->stalled && now - job->stalled_since >= timeout)
    {
        WARN("job %s: no progress for %lu s\n", debugstr_guid(&job->id),
             job->props.no_progress_timeout);
        set_state(job, BG_JOB_STATE_ERROR);
    }
    else if (now >= job->retry_at)
    {
        TRACE("job %s: retrying\n", debugstr_guid(&job->id));
        set_state(job, BG_JOB_STATE_QUEUED);
    }
    else
    {
        *next = min_time(*next, job->retry_at);
        if (job->stalled) *next = min_time(*next, job->stalled_since + timeout);
    }
}

/* Queue and job locks held.  behaviour.md §1.3: a job that spent more than its
 * MaximumDownloadTime in CONNECTING and TRANSFERRING since its last Resume fails; 0 sets no
 * limit [inferred].  Returns the transfer to abort, if any. */
static struct run *run_time_limit(struct engine_job *job, ULONGLONG now, ULONGLONG *next)
{
    ULONGLONG limit = job->props.max_download_time * 1000ull, spent;
    struct run *run;

    if (!job->running || !limit || !is_running_state(job->state)
            || job->run_generation != job->generation)
        return NULL;
    spent = job->active_ms + (now - job->slice_start);
    if (spent < limit)
    {
        *next = min_time(*next, now + (limit - spent));
        return NULL;
    }
    job->generation++;
    run = grab_active(job);
    set_error(job, NULL, BG_E_MAXDOWNLOAD_TIMEOUT, BG_ERROR_CONTEXT_GENERAL_QUEUE_MANAGER, NULL,
              FALSE);
    return run;
}

/* Queue and job locks held.  Whether a QUEUED job can be given to a worker. */
static BOOL is_waiting(const struct engine_job *job)
{
    return job->state == BG_JOB_STATE_QUEUED && !job->running && !job->committing;
}

/* Queue lock held.  Whether job a goes before job b: by priority, then in the order they were
 * queued (round robin, since a job whose slice ended is queued again). */
static BOOL goes_before(BG_JOB_PRIORITY a_priority, ULONGLONG a_time, BG_JOB_PRIORITY b_priority,
                        ULONGLONG b_time)
{
    if (a_priority != b_priority) return a_priority < b_priority;
    return a_time < b_time;
}

/* Queue lock held.  The waiting job to run next, or NULL. */
static struct engine_job *pick_waiting(BG_JOB_PRIORITY *priority)
{
    struct engine_job *best = NULL;
    ULONGLONG best_time = 0;
    ULONG i;

    *priority = BG_JOB_PRIORITY_LOW;
    for (i = 0; i < queue.count; i++)
    {
        struct engine_job *job = queue.jobs[i];

        EnterCriticalSection(&job->cs);
        if (is_waiting(job) && (!best || goes_before(job->props.priority, job->queued_at,
                                                     *priority, best_time)))
        {
            best = job;
            best_time = job->queued_at;
            *priority = job->props.priority;
        }
        LeaveCriticalSection(&job->cs);
    }
    return best;
}

/* Queue lock held.  behaviour.md §5.1: when every worker is busy, a job of lower priority gives
 * way to a waiting one at once, one of equal priority when its time slice is over.  Returns the
 * transfer to abort, if any. */
static struct run *preempt(BG_JOB_PRIORITY waiting, ULONGLONG now, ULONGLONG *next)
{
    struct engine_job *victim = NULL;
    BG_JOB_PRIORITY victim_priority = BG_JOB_PRIORITY_FOREGROUND;
    ULONGLONG victim_start = 0;
    struct run *run = NULL;
    ULONG i;

    for (i = 0; i < queue.count; i++)
    {
        struct engine_job *job = queue.jobs[i];

        EnterCriticalSection(&job->cs);
        /* The lowest priority, and of those the one that started first. */
        if (job->running && !job->yield && is_running_state(job->state)
                && job->props.priority >= waiting
                && (!victim || job->props.priority > victim_priority
                    || (job->props.priority == victim_priority && job->slice_start < victim_start)))
        {
            victim = job;
            victim_priority = job->props.priority;
            victim_start = job->slice_start;
        }
        LeaveCriticalSection(&job->cs);
    }
    if (!victim) return NULL;
    if (victim_priority == waiting && now - victim_start < TIME_SLICE_MS)
    {
        *next = min_time(*next, victim_start + TIME_SLICE_MS);
        return NULL;
    }
    EnterCriticalSection(&victim->cs);
    TRACE("job %s: pre-empted\n", debugstr_guid(&victim->id));
    victim->yield = TRUE;
    run = grab_active(victim);
    LeaveCriticalSection(&victim->cs);
    return run;
}

static ULONGLONG filetime_value(const FILETIME *time)
{
    return (ULONGLONG)time->dwHighDateTime << 32 | time->dwLowDateTime;
}

/* No lock held.  behaviour.md §8 and §3.2, gap G18: the service cancels a live job in any state
 * (SUSPENDED, ERROR and TRANSFERRED included) whose last activity is JobInactivityTimeout days
 * old, as Cancel would: temporary files deleted, files a failed Complete saved kept.  Activity
 * is whatever stamps ModificationTime (§7.5): a client's change of the job or of its files,
 * Suspend, Resume, byte progress, and every state change, the service's retries included.
 * Checked on every scheduler pass, so at least every MAX_SLEEP_MS and whenever the queue
 * changes; the time is clock_now()'s, which ClockSkewSeconds moves (clock.c). */
static void expire_inactive(void)
{
    struct engine_job **expired;
    ULONGLONG now, modified, limit;
    struct policy policy;
    ULONG count = 0, i;
    FILETIME time;
    HRESULT hr;

    policy_get(&policy);
    limit = policy.inactivity_days * 86400ull * 10000000;  /* FILETIME counts 100 ns */
    clock_now(&time);
    now = filetime_value(&time);
    EnterCriticalSection(&queue.cs);
    expired = malloc(max(queue.count, 1) * sizeof(*expired));
    for (i = 0; expired && i < queue.count; i++)
    {
        struct engine_job *job = queue.jobs[i];

        EnterCriticalSection(&job->cs);
        modified = filetime_value(&job->modification_time);
        if (!job->committing && now > modified && now - modified >= limit)
        {
            engine_job_addref(job);
            expired[count++] = job;
        }
        LeaveCriticalSection(&job->cs);
    }
    LeaveCriticalSection(&queue.cs);
    if (!expired)
    {
        WARN("out of memory: inactive jobs stay until the next pass\n");
        return;
    }
    for (i = 0; i < count; i++)
    {
        WARN("job %s: no activity for %lu days, cancelling it\n", debugstr_guid(&expired[i]->id),
             policy.inactivity_days);
        hr = engine_cancel_job(expired[i]);
        if (hr != S_OK) WARN("job %s: cancel gave %#lx\n", debugstr_guid(&expired[i]->id), hr);
        engine_job_release(expired[i]);
    }
    free(expired);
}

/* One look at the queue: inactive jobs, timers, new workers, pre-emption.  Returns when to look
 * again. */
static ULONGLONG schedule(void)
{
    struct engine_job *start[MAX_ACTIVE_JOBS], *job;
    struct run *victim = NULL, *expired[MAX_ACTIVE_JOBS], *run;
    ULONG count = 0, expired_count = 0, i;
    BG_JOB_PRIORITY priority;
    ULONGLONG now, next;
    HANDLE thread;

    clock_refresh();
    expire_inactive();
    now = clock_ticks();
    next = now + MAX_SLEEP_MS;
    EnterCriticalSection(&queue.cs);
    for (i = 0; i < queue.count; i++)
    {
        EnterCriticalSection(&queue.jobs[i]->cs);
        run_timers(queue.jobs[i], now, &next);
        /* Only jobs with a worker, at most MAX_ACTIVE_JOBS, have a transfer to abort. */
        run = run_time_limit(queue.jobs[i], now, &next);
        if (run) expired[expired_count++] = run;
        LeaveCriticalSection(&queue.jobs[i]->cs);
    }
    while (!queue.stopping && queue.running < MAX_ACTIVE_JOBS)
    {
        job = pick_waiting(&priority);
        if (!job) break;
        EnterCriticalSection(&job->cs);
        job->running = TRUE;
        job->yield = FALSE;
        job->run_generation = job->generation;
        job->slice_start = now;
        set_state(job, BG_JOB_STATE_CONNECTING);
        /* No transfer runs yet, so there is none to abort: this only sets the timer. */
        run = run_time_limit(job, now, &next);
        assert(!run);
        LeaveCriticalSection(&job->cs);
        engine_job_addref(job);
        queue.running++;
        start[count++] = job;
    }
    if (!queue.stopping && queue.running == MAX_ACTIVE_JOBS && pick_waiting(&priority))
        victim = preempt(priority, now, &next);
    LeaveCriticalSection(&queue.cs);

    abort_run(victim);
    for (i = 0; i < expired_count; i++) abort_run(expired[i]);
    for (i = 0; i < count; i++)
    {
        TRACE("job %s: starting\n", debugstr_guid(&start[i]->id));
        thread = CreateThread(NULL, 0, worker_main, start[i], 0, NULL);
        if (thread)
        {
            CloseHandle(thread);
            continue;
        }
        ERR("cannot start a worker, error %lu\n", GetLastError());
        EnterCriticalSection(&queue.cs);
        EnterCriticalSection(&start[i]->cs);
        start[i]->running = FALSE;
        if (start[i]->state == BG_JOB_STATE_CONNECTING) set_state(start[i], BG_JOB_STATE_QUEUED);
        LeaveCriticalSection(&start[i]->cs);
        queue.running--;
        LeaveCriticalSection(&queue.cs);
        engine_job_release(start[i]);
        next = min_time(next, now + 1000);
    }
    return next;
}

static DWORD WINAPI scheduler_main(void *arg)
{
    ULONGLONG next, now;
    BOOL stopping;

    (void)arg;
    TRACE("scheduler started\n");
    for (;;)
    {
        EnterCriticalSection(&queue.cs);
        stopping = queue.stopping;
        LeaveCriticalSection(&queue.cs);
        if (stopping) break;
        next = schedule();
        now = clock_ticks();
        WaitForSingleObject(queue.wake, next > now ? (DWORD)min(next - now, MAX_SLEEP_MS) : 0);
    }
    TRACE("scheduler stopped\n");
    return 0;
}

/* ---- Helper token (IBitsTokenOptions, tokenopts.c) ----
 * Kept with the job's data but outside its props: the token is not persistent, so the store
 * never sees it, and a restarted service has none (the usage flags, in the props, stay). */

const struct helper_token *engine_job_helper_token(struct engine_job *job)
{
    assert(job_lock_held(job));
    return &job->helper;
}

void engine_job_swap_helper_token(struct engine_job *job, struct helper_token *helper)
{
    struct helper_token old;

    assert(job_lock_held(job));
    old = job->helper;
    job->helper = *helper;
    *helper = old;
}
