/* Client notifications (behaviour.md §6): IBackgroundCopyCallback JobTransferred, JobError and
 * JobModification, IBackgroundCopyCallback2 FileTransferred, IBackgroundCopyCallback3
 * FileRangesTransferred, and the notify command line.
 *
 * The engine only marks a job (notify_job_event(), notify_job_modified(), under its lock) and
 * wakes the notifier.  NOTIFY_THREADS threads of the multithreaded apartment then look at the
 * job's state and call the client with no lock held; one thread at a time serves a job, so its
 * notifications arrive in order.  What is due follows from the job's state, not from a list of
 * past events, so an interface or command line registered after the event still hears of it
 * (§6.2), and a failure simply leaves the notification due:
 *
 * - FileRangesTransferred with the spans of an on-demand file filled since the last one
 *   (engine_take_fresh_ranges()), at most once per the job's notification interval while the
 *   job transfers, at once when it stopped (before its own callback); a failure loses them,
 *   as a JobModification is lost;
 * - FileTransferred for each transferred file (for an upload-reply job, its file once the
 *   reply is in), in job order, before the job's own callback;
 * - JobTransferred while TRANSFERRED, JobError while ERROR, once per entry into the state;
 * - JobModification after other changes, at most once per the job's notification interval.
 *
 * Targets, in order (§6.3, §6.6): the interface from SetNotifyInterface; the object activated
 * from the NOTIFICATION_CLSID property; the command line.  A target that is gone (disconnected
 * proxy) is dropped and the next one tried.  A callback that fails is called again after the
 * job's MinimumRetryDelay, unless a command line is set: that then takes over for the event.  A
 * command line that exits with a non-zero code runs again after MinimumRetryDelay while the job
 * still is in the state it was started for (§6.7).
 *
 * Across a restart: the store keeps whether the job's TRANSFERRED or ERROR was notified
 * (engine_job_notified()), and a loaded job whose notification was not delivered gets it
 * again, from the CLSID or the command line, since interfaces do not survive (§6.5).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdlib.h>

#include "qmgr_private.h"

DEFAULT_DEBUG_CHANNEL(qmgr);

/* behaviour.md §5.2 allows four callbacks in flight per user; we allow four in all. */
#define NOTIFY_THREADS      4
#define PROCESS_POLL_MS     500
#define MAX_SLEEP_MS        30000
#define SHUTDOWN_WAIT_MS    5000

/* A job the notifier has to look at. */
struct entry
{
    struct engine_job *job;     /* one reference */
    ULONGLONG due;              /* clock_ticks() from which it is looked at */
    BOOL busy;                  /* a thread serves it */
    BOOL again;                 /* marked again while busy */
};

static struct
{
    CRITICAL_SECTION cs;        /* guards entries, count and capacity */
    struct entry *entries;
    ULONG count;
    ULONG capacity;
    HANDLE wake;                /* auto-reset: an entry may be due */
    HANDLE stop;                /* manual-reset: the threads end */
    HANDLE threads[NOTIFY_THREADS];
    ULONG thread_count;
} notifier;

static INIT_ONCE notifier_once = INIT_ONCE_STATIC_INIT;

enum action_kind
{
    ACTION_NONE,
    ACTION_RANGES,              /* FileRangesTransferred */
    ACTION_FILE,                /* FileTransferred */
    ACTION_JOB,                 /* JobTransferred or JobError, by the state */
    ACTION_MODIFICATION,        /* JobModification */
    ACTION_CMDLINE,             /* the notify command line, for the state */
};

/* Where an interface target came from, to drop the right one when it is gone. */
enum target_source
{
    TARGET_INTERFACE,           /* props->notify_iface */
    TARGET_CLSID_OBJECT,        /* notify->clsid_callback */
    TARGET_ACTIVATE,            /* none yet: activate the CLSID */
};

/* One notification to deliver, decided under the job lock. */
struct action
{
    enum action_kind kind;
    BG_JOB_STATE state;
    ULONG serial;
    IUnknown *target;           /* counted; NULL with TARGET_ACTIVATE */
    enum target_source source;
    GUID clsid;
    struct job_file *file;      /* ACTION_FILE, ACTION_RANGES */
    ULONG file_index;
    BG_FILE_RANGE *ranges;      /* ACTION_RANGES, malloc'd */
    DWORD range_count;
    WCHAR *program;             /* ACTION_CMDLINE, malloc'd */
    WCHAR *parameters;
    BOOL has_program;           /* a command line could take over after a failure */
    ULONG retry_delay;          /* seconds */
};

static BOOL CALLBACK init_notifier(INIT_ONCE *once, void *param, void **context)
{
    (void)once; (void)param; (void)context;
    InitializeCriticalSection(&notifier.cs);
    return TRUE;
}

/* Notifier lock held. */
static struct entry *find_entry(struct engine_job *job)
{
    ULONG i;

    for (i = 0; i < notifier.count; i++)
        if (notifier.entries[i].job == job) return &notifier.entries[i];
    return NULL;
}

/* Any lock may be held: the job is looked at soon. */
static void post(struct engine_job *job)
{
    struct entry *entry;

    EnterCriticalSection(&notifier.cs);
    entry = find_entry(job);
    if (entry)
    {
        if (entry->busy) entry->again = TRUE;
        else entry->due = 0;
    }
    else
    {
        if (notifier.count == notifier.capacity)
        {
            ULONG capacity = max(16, notifier.capacity * 2);
            struct entry *entries = realloc(notifier.entries, capacity * sizeof(*entries));

            if (!entries)
            {
                LeaveCriticalSection(&notifier.cs);
                ERR("out of memory, a notification is lost\n");
                return;
            }
            notifier.entries = entries;
            notifier.capacity = capacity;
        }
        entry = &notifier.entries[notifier.count++];
        memset(entry, 0, sizeof(*entry));
        entry->job = job;
        engine_job_addref(job);
    }
    LeaveCriticalSection(&notifier.cs);
    if (notifier.wake) SetEvent(notifier.wake);
}

void notify_job_event(struct engine_job *job)
{
    post(job);
}

void notify_job_modified(struct engine_job *job, BOOL settings)
{
    struct job_props *props = engine_job_lock(job);
    struct job_notify *notify = engine_job_notify(job);
    BOOL wanted = (props->notify_flags & BG_NOTIFY_JOB_MODIFICATION)
            && !(props->notify_flags & BG_NOTIFY_DISABLE);
    BOOL was_due = notify->modified;

    if (wanted) notify->modified = TRUE;
    if (settings) notify->retry_at = 0;
    engine_job_unlock(job);
    /* While a JobModification is due, the job is posted already. */
    if (settings || (wanted && !was_due)) post(job);
}

void notify_job_restored(struct engine_job *job, BOOL delivered)
{
    struct job_notify *notify = engine_job_notify(job);
    BG_JOB_STATE state;
    ULONG serial;

    state = engine_job_event(job, &serial);
    if (delivered) notify->delivered_serial = serial;
    else if (state == BG_JOB_STATE_TRANSFERRED || state == BG_JOB_STATE_ERROR)
    {
        /* The serials start again with the service: any other value is not delivered, nor
         * handed to the command line, so the CLSID comes first again. */
        notify->delivered_serial = notify->cmdline_serial = serial - 1;
        post(job);
    }
}

void notify_free_job(struct job_notify *notify)
{
    if (notify->clsid_callback) IUnknown_Release(notify->clsid_callback);
    if (notify->process) CloseHandle(notify->process);
    memset(notify, 0, sizeof(*notify));
}

static void free_action(struct action *action)
{
    if (action->target) IUnknown_Release(action->target);
    free(action->ranges);
    free(action->program);
    free(action->parameters);
    memset(action, 0, sizeof(*action));
}

/* behaviour.md §6.7: jobs of service accounts never run a command line. */
static BOOL is_service_account(PSID sid)
{
    return sid && (IsWellKnownSid(sid, WinLocalSystemSid) || IsWellKnownSid(sid, WinLocalServiceSid)
                   || IsWellKnownSid(sid, WinNetworkServiceSid));
}

static ULONGLONG min_time(ULONGLONG a, ULONGLONG b)
{
    if (!a) return b;
    if (!b) return a;
    return a < b ? a : b;
}

/* Job lock held.  Fills in the interface to call: the registered one, the object activated from
 * the CLSID, or the CLSID to activate.  FALSE when there is none. */
static BOOL pick_target(const struct job_props *props, struct job_notify *notify,
                        struct action *action)
{
    if (props->notify_iface)
    {
        action->target = props->notify_iface;
        action->source = TARGET_INTERFACE;
    }
    else if (notify->clsid_callback)
    {
        action->target = notify->clsid_callback;
        action->source = TARGET_CLSID_OBJECT;
    }
    else if (!IsEqualGUID(&props->notify_clsid, &GUID_NULL))
    {
        action->clsid = props->notify_clsid;
        action->source = TARGET_ACTIVATE;
        return TRUE;
    }
    else return FALSE;
    IUnknown_AddRef(action->target);
    return TRUE;
}

/* Whether a target exists, without taking it. */
static BOOL has_target(const struct job_props *props, const struct job_notify *notify)
{
    return props->notify_iface || notify->clsid_callback
            || !IsEqualGUID(&props->notify_clsid, &GUID_NULL);
}

/* Job lock held.  The notification due now for the job, in the order the file comment gives,
 * in *action; returns when to look again (0: only when posted again). */
static ULONGLONG plan(struct engine_job *job, struct action *action)
{
    struct job_props *props = engine_job_lock(job);
    struct job_notify *notify = engine_job_notify(job);
    ULONGLONG now = clock_ticks(), next = 0;
    BOOL waiting = now < notify->retry_at, file_due = FALSE, job_due;
    ULONG flags = props->notify_flags;
    BG_FILE_RANGE *ranges;
    struct job_file *file;
    BG_JOB_STATE state;
    DWORD range_count;
    ULONG serial;

    memset(action, 0, sizeof(*action));
    state = engine_job_event(job, &serial);
    action->state = state;
    action->serial = serial;
    action->retry_delay = props->retry_delay;
    action->has_program = props->notify_program
            && !is_service_account(engine_job_owner(job)->sid);
    if (state == BG_JOB_STATE_ACKNOWLEDGED || state == BG_JOB_STATE_CANCELLED
            || (flags & BG_NOTIFY_DISABLE) || !(flags & BG_NOTIFY_FILE_RANGES_TRANSFERRED)
            || !has_target(props, notify))
    {
        /* Nobody to tell of the spans filled so far. */
        while (engine_take_fresh_ranges(job, &ranges, &range_count)) free(ranges);
    }
    if (state == BG_JOB_STATE_ACKNOWLEDGED || state == BG_JOB_STATE_CANCELLED
            || (flags & BG_NOTIFY_DISABLE))
    {
        notify->modified = FALSE;
        goto done;
    }

    /* Learn FileRangesTransferred: the spans since the last call, at the pace of JobModification
     * (BITS_JOB_PROPERTY_MINIMUM_NOTIFICATION_INTERVAL_MS) while more are coming. */
    if (engine_take_fresh_ranges(job, NULL, NULL))
    {
        ULONGLONG when = notify->last_ranges + props->notification_interval;

        if (notify->last_ranges && now < when && (state == BG_JOB_STATE_QUEUED
                || state == BG_JOB_STATE_CONNECTING || state == BG_JOB_STATE_TRANSFERRING))
            next = when;
        else
        {
            action->file = engine_take_fresh_ranges(job, &action->ranges, &action->range_count);
            notify->last_ranges = now;
            action->kind = ACTION_RANGES;
            pick_target(props, notify, action);
            goto done;
        }
    }

    if (flags & BG_NOTIFY_FILE_TRANSFERRED)
    {
        file = engine_job_file(job, notify->files_notified);
        file_due = file && engine_file_arrived(job, file);
    }
    if (file_due && has_target(props, notify))
    {
        if (waiting) next = min_time(next, notify->retry_at);
        else
        {
            action->kind = ACTION_FILE;
            action->file = file;
            action->file_index = notify->files_notified;
            pick_target(props, notify, action);
            goto done;
        }
    }

    job_due = notify->delivered_serial != serial
            && ((state == BG_JOB_STATE_TRANSFERRED && (flags & BG_NOTIFY_JOB_TRANSFERRED))
                || (state == BG_JOB_STATE_ERROR && (flags & BG_NOTIFY_JOB_ERROR)));
    /* Through an interface, FileTransferred comes first; a command line does not wait. */
    if (job_due && !(file_due && has_target(props, notify)))
    {
        if (notify->process) next = min_time(next, now + PROCESS_POLL_MS);
        else if (waiting) next = min_time(next, notify->retry_at);
        else if ((notify->cmdline_serial == serial || !has_target(props, notify))
                 && action->has_program)
        {
            action->kind = ACTION_CMDLINE;
            action->program = _wcsdup(props->notify_program);
            if (props->notify_parameters) action->parameters = _wcsdup(props->notify_parameters);
            if (!action->program || (props->notify_parameters && !action->parameters))
            {
                notify->retry_at = now + action->retry_delay * 1000ull;
                next = min_time(next, notify->retry_at);
                free_action(action);
            }
            goto done;
        }
        else if (notify->cmdline_serial != serial && pick_target(props, notify, action))
        {
            action->kind = ACTION_JOB;
            goto done;
        }
    }

    if (notify->modified)
    {
        ULONGLONG when = notify->last_modification + props->notification_interval;

        if (!(flags & BG_NOTIFY_JOB_MODIFICATION) || !has_target(props, notify))
            notify->modified = FALSE;   /* §6.2: may be dropped; nobody to tell anyway */
        else if (notify->last_modification && now < when) next = min_time(next, when);
        else
        {
            notify->modified = FALSE;
            notify->last_modification = now;
            action->kind = ACTION_MODIFICATION;
            pick_target(props, notify, action);
        }
    }

done:
    engine_job_unlock(job);
    return next;
}

/* Failures that mean the client's object is gone, not that it refused (behaviour.md §6.3). */
static BOOL is_disconnected(HRESULT hr)
{
    return hr == RPC_E_DISCONNECTED || hr == CO_E_OBJNOTCONNECTED || hr == RPC_E_SERVER_DIED
            || hr == RPC_E_SERVER_DIED_DNE || hr == HRESULT_FROM_WIN32(RPC_S_SERVER_UNAVAILABLE)
            || hr == HRESULT_FROM_WIN32(RPC_S_CALL_FAILED)
            || hr == HRESULT_FROM_WIN32(RPC_S_CALL_FAILED_DNE);
}

/* No lock held.  Forgets a target that is gone, so the next one gets the notification. */
static void drop_target(struct engine_job *job, const struct action *action)
{
    struct job_props *props = engine_job_lock(job);
    struct job_notify *notify = engine_job_notify(job);
    IUnknown *old = NULL;

    WARN("job %s: dropping callback %p\n", debugstr_guid(engine_job_id(job)), action->target);
    if (action->source == TARGET_INTERFACE && props->notify_iface == action->target)
    {
        old = props->notify_iface;
        props->notify_iface = NULL;
    }
    else if (action->source == TARGET_CLSID_OBJECT && notify->clsid_callback == action->target)
    {
        old = notify->clsid_callback;
        notify->clsid_callback = NULL;
    }
    engine_job_unlock(job);
    if (old) IUnknown_Release(old);
}

/* No lock held.  The object for the job's NOTIFICATION_CLSID (§6.6), kept for later calls. */
static HRESULT activate(struct engine_job *job, struct action *action)
{
    struct job_notify *notify;
    IUnknown *object;
    HRESULT hr;

    hr = CoCreateInstance(&action->clsid, NULL, CLSCTX_LOCAL_SERVER, &IID_IUnknown,
                          (void **)&object);
    if (FAILED(hr))
    {
        WARN("cannot activate %s, hr %#lx\n", debugstr_guid(&action->clsid), hr);
        return hr;
    }
    engine_job_lock(job);
    notify = engine_job_notify(job);
    if (!notify->clsid_callback)
    {
        notify->clsid_callback = object;
        IUnknown_AddRef(object);
    }
    engine_job_unlock(job);
    action->target = object;
    action->source = TARGET_CLSID_OBJECT;
    return S_OK;
}

/* No lock held.  Makes the call an interface action stands for. */
static HRESULT call_target(struct engine_job *job, const struct action *action)
{
    IBackgroundCopyCallback3 *callback3 = NULL;
    IBackgroundCopyCallback2 *callback2 = NULL;
    IBackgroundCopyCallback *callback = NULL;
    IBackgroundCopyError *error = NULL;
    IBackgroundCopyFile *file = NULL;
    IBackgroundCopyJob *job_object;
    struct job_error info;
    HRESULT hr;

    hr = job_create(job, &job_object);
    if (FAILED(hr)) return hr;
    if (action->kind == ACTION_RANGES)
    {
        hr = IUnknown_QueryInterface(action->target, &IID_IBackgroundCopyCallback3,
                                     (void **)&callback3);
        if (SUCCEEDED(hr)) hr = file_create(job, action->file, &file);
        if (SUCCEEDED(hr))
        {
            TRACE("FileRangesTransferred %s, %lu ranges\n", debugstr_w(action->file->local_name),
                  action->range_count);
            hr = IBackgroundCopyCallback3_FileRangesTransferred(callback3, job_object, file,
                                                                action->range_count,
                                                                action->ranges);
        }
    }
    else if (action->kind == ACTION_FILE)
    {
        hr = IUnknown_QueryInterface(action->target, &IID_IBackgroundCopyCallback2,
                                     (void **)&callback2);
        if (SUCCEEDED(hr)) hr = file_create(job, action->file, &file);
        if (SUCCEEDED(hr))
        {
            TRACE("FileTransferred %s\n", debugstr_w(action->file->local_name));
            hr = IBackgroundCopyCallback2_FileTransferred(callback2, job_object, file);
        }
    }
    else
    {
        hr = IUnknown_QueryInterface(action->target, &IID_IBackgroundCopyCallback,
                                     (void **)&callback);
        if (SUCCEEDED(hr) && action->kind == ACTION_MODIFICATION)
        {
            TRACE("JobModification\n");
            hr = IBackgroundCopyCallback_JobModification(callback, job_object, 0);
        }
        else if (SUCCEEDED(hr) && action->state == BG_JOB_STATE_TRANSFERRED)
        {
            TRACE("JobTransferred\n");
            hr = IBackgroundCopyCallback_JobTransferred(callback, job_object);
        }
        else if (SUCCEEDED(hr))
        {
            hr = engine_job_error(job, &info);
            if (SUCCEEDED(hr)) hr = error_create(job, &info, &error);
            if (SUCCEEDED(hr))
            {
                TRACE("JobError %#lx\n", info.code);
                hr = IBackgroundCopyCallback_JobError(callback, job_object, error);
            }
        }
    }
    if (error) IBackgroundCopyError_Release(error);
    if (file) IBackgroundCopyFile_Release(file);
    if (callback3) IBackgroundCopyCallback3_Release(callback3);
    if (callback2) IBackgroundCopyCallback2_Release(callback2);
    if (callback) IBackgroundCopyCallback_Release(callback);
    IBackgroundCopyJob_Release(job_object);
    return hr;
}

/* No lock held.  Calls the client for an interface action and records the outcome. */
static void perform_call(struct engine_job *job, struct action *action)
{
    BOOL no_callback2 = FALSE, activated = action->source == TARGET_ACTIVATE;
    struct job_notify *notify;
    HRESULT hr = S_OK;

    if (activated) hr = activate(job, action);
    if (SUCCEEDED(hr))
    {
        hr = call_target(job, action);
        if (FAILED(hr)) WARN("job %s: callback failed, hr %#lx\n",
                             debugstr_guid(engine_job_id(job)), hr);
        if (is_disconnected(hr))
        {
            drop_target(job, action);
            /* The next target gets it at once; a fresh object that is gone already counts as
             * a failure, or activation would loop. */
            if (!activated) return;
        }
        /* A client without Callback2 cannot hear of files: not a failure. */
        no_callback2 = action->kind == ACTION_FILE && hr == E_NOINTERFACE;
    }
    /* §6.3: the result does not matter; Learn FileRangesTransferred: events may be lost. */
    if (action->kind == ACTION_MODIFICATION || action->kind == ACTION_RANGES) return;

    engine_job_lock(job);
    notify = engine_job_notify(job);
    if (SUCCEEDED(hr) || no_callback2 || (FAILED(hr) && action->has_program))
    {
        /* Done, or the command line takes over: the method is not called again (§6.3). */
        if (action->kind == ACTION_FILE && notify->files_notified == action->file_index)
            notify->files_notified++;
        else if (action->kind == ACTION_JOB && SUCCEEDED(hr))
        {
            notify->delivered_serial = action->serial;
            engine_job_notified(job, action->serial);
        }
        else if (action->kind == ACTION_JOB)
            notify->cmdline_serial = action->serial;
    }
    else notify->retry_at = clock_ticks() + action->retry_delay * 1000ull;
    engine_job_unlock(job);
}

/* No lock held.  Starts the notify command line (§6.7); its exit is looked at later. */
static void perform_cmdline(struct engine_job *job, struct action *action)
{
    PROCESS_INFORMATION info;
    struct job_notify *notify;
    STARTUPINFOW startup;
    BOOL ok;

    memset(&startup, 0, sizeof(startup));
    startup.cb = sizeof(startup);
    TRACE("running %s %s\n", debugstr_w(action->program), debugstr_w(action->parameters));
    ok = CreateProcessW(action->program, action->parameters, NULL, NULL, FALSE, 0, NULL, NULL,
                        &startup, &info);
    if (!ok) WARN("cannot run %s, error %lu\n", debugstr_w(action->program), GetLastError());
    else CloseHandle(info.hThread);
    engine_job_lock(job);
    notify = engine_job_notify(job);
    if (ok)
    {
        notify->process = info.hProcess;
        notify->process_serial = action->serial;
    }
    else notify->retry_at = clock_ticks() + action->retry_delay * 1000ull;
    engine_job_unlock(job);
}

/* No lock held; only the thread serving the job touches notify->process.  Looks at a finished
 * command line: exit code 0 handled the event; otherwise it runs again after the retry delay
 * if the job is still where it was (§6.7). */
static void check_process(struct engine_job *job)
{
    struct job_notify *notify;
    struct job_props *props;
    DWORD code = STILL_ACTIVE;
    HANDLE process;
    ULONG serial;

    engine_job_lock(job);
    process = engine_job_notify(job)->process;
    engine_job_unlock(job);
    if (!process || (GetExitCodeProcess(process, &code) && code == STILL_ACTIVE)) return;

    TRACE("command line exited with %lu\n", code);
    props = engine_job_lock(job);
    notify = engine_job_notify(job);
    engine_job_event(job, &serial);
    if (!code)
    {
        notify->delivered_serial = notify->process_serial;
        engine_job_notified(job, notify->process_serial);
    }
    else if (serial == notify->process_serial)
        notify->retry_at = clock_ticks() + props->retry_delay * 1000ull;
    notify->process = NULL;
    engine_job_unlock(job);
    CloseHandle(process);
}

/* No lock held.  Delivers what is due for the job; returns when to look again (0: never). */
static ULONGLONG deliver(struct engine_job *job)
{
    struct action action;
    ULONGLONG next;

    for (;;)
    {
        check_process(job);
        next = plan(job, &action);
        switch (action.kind)
        {
        case ACTION_NONE:
            return next;
        case ACTION_CMDLINE:
            perform_cmdline(job, &action);
            break;
        default:
            perform_call(job, &action);
            break;
        }
        free_action(&action);
    }
}

/* Notifier lock held.  The first due entry that no thread serves, marked busy; *wait gets how
 * long until the next one is due otherwise. */
static struct engine_job *take_due(ULONGLONG now, DWORD *wait)
{
    ULONGLONG next = now + MAX_SLEEP_MS;
    struct engine_job *job = NULL;
    ULONG i;

    for (i = 0; i < notifier.count; i++)
    {
        struct entry *entry = &notifier.entries[i];

        if (entry->busy) continue;
        if (entry->due <= now && !job)
        {
            entry->busy = TRUE;
            job = entry->job;
        }
        else if (entry->due < next) next = entry->due;
    }
    *wait = next > now ? (DWORD)(next - now) : 0;
    return job;
}

/* Notifier lock held.  The thread is done with the job for now; returns the job's reference
 * when the entry goes. */
static struct engine_job *put_back(struct engine_job *job, ULONGLONG next)
{
    struct entry *entry = find_entry(job);

    entry->busy = FALSE;
    if (entry->again)
    {
        entry->again = FALSE;
        entry->due = 0;
        return NULL;
    }
    if (next)
    {
        entry->due = next;
        return NULL;
    }
    *entry = notifier.entries[--notifier.count];
    return job;
}

static DWORD WINAPI notify_main(void *arg)
{
    HANDLE handles[2] = { notifier.stop, notifier.wake };
    struct engine_job *job, *done;
    ULONGLONG next;
    DWORD wait;
    HRESULT hr;

    (void)arg;
    hr = CoInitializeEx(NULL, COINIT_MULTITHREADED);
    if (FAILED(hr)) ERR("CoInitializeEx failed, hr %#lx\n", hr);
    while (WaitForSingleObject(notifier.stop, 0) != WAIT_OBJECT_0)
    {
        EnterCriticalSection(&notifier.cs);
        job = take_due(clock_ticks(), &wait);
        LeaveCriticalSection(&notifier.cs);
        if (!job)
        {
            WaitForMultipleObjects(2, handles, FALSE, wait);
            continue;
        }
        SetEvent(notifier.wake);    /* another thread may take the next entry */
        next = deliver(job);
        EnterCriticalSection(&notifier.cs);
        done = put_back(job, next);
        LeaveCriticalSection(&notifier.cs);
        if (done) engine_job_release(done);
    }
    if (SUCCEEDED(hr)) CoUninitialize();
    return 0;
}

HRESULT notify_init(void)
{
    HRESULT hr = S_OK;
    ULONG i;

    InitOnceExecuteOnce(&notifier_once, init_notifier, NULL, NULL);
    notifier.wake = CreateEventW(NULL, FALSE, TRUE, NULL);
    notifier.stop = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (!notifier.wake || !notifier.stop)
    {
        hr = HRESULT_FROM_WIN32(GetLastError());
        notify_shutdown();
        return hr;
    }
    for (i = 0; i < NOTIFY_THREADS; i++)
    {
        notifier.threads[i] = CreateThread(NULL, 0, notify_main, NULL, 0, NULL);
        if (!notifier.threads[i])
        {
            hr = HRESULT_FROM_WIN32(GetLastError());
            ERR("cannot start a notification thread, hr %#lx\n", hr);
            notify_shutdown();
            return hr;
        }
        notifier.thread_count++;
    }
    return S_OK;
}

/* Stops the threads, waiting a little for calls into clients in progress; a thread stuck in a
 * client that does not answer is left behind with its job. */
void notify_shutdown(void)
{
    struct engine_job **jobs;
    ULONG count, i, kept = 0, released = 0;
    DWORD ret = WAIT_OBJECT_0;

    if (notifier.stop) SetEvent(notifier.stop);
    if (notifier.thread_count)
        ret = WaitForMultipleObjects(notifier.thread_count, notifier.threads, TRUE,
                                     SHUTDOWN_WAIT_MS);
    if (ret == WAIT_TIMEOUT) ERR("a notification call into a client does not return\n");
    for (i = 0; i < notifier.thread_count; i++) CloseHandle(notifier.threads[i]);
    notifier.thread_count = 0;

    EnterCriticalSection(&notifier.cs);
    count = notifier.count;
    jobs = calloc(max(count, 1), sizeof(*jobs));
    for (i = 0; jobs && i < count; i++)
    {
        if (notifier.entries[i].busy) notifier.entries[kept++] = notifier.entries[i];
        else jobs[released++] = notifier.entries[i].job;
    }
    if (jobs) notifier.count = kept;
    LeaveCriticalSection(&notifier.cs);
    for (i = 0; i < released; i++) engine_job_release(jobs[i]);
    free(jobs);

    if (notifier.wake) CloseHandle(notifier.wake);
    if (notifier.stop) CloseHandle(notifier.stop);
    notifier.wake = notifier.stop = NULL;
}
