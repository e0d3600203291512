/* Declarations shared between the files of qmgr.dll.  Each struct belongs to one file; the
 * others use its functions.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#ifndef QMGR_PRIVATE_H
#define QMGR_PRIVATE_H

#define COBJMACROS
#define CONST_VTABLE    /* our vtables are static const */
#include <string.h>
#include <wchar.h>
#include <windows.h>
#include <objbase.h>
#include "bits10_3.h"
#include "debug.h"

/* main.c */
extern HINSTANCE qmgr_instance;
struct manager_class
{
    const CLSID *clsid;     /* CLSID_BackgroundCopyManager, then every versioned one */
    const WCHAR *name;
};
#define MANAGER_CLASS_COUNT 10
extern const struct manager_class manager_classes[MANAGER_CLASS_COUNT];
extern IClassFactory manager_factory;   /* static; CreateInstance gives the manager */

/* manager.c: the one manager object of the service.  Returns the requested interface of it
 * (IUnknown, IBackgroundCopyManager, ...), AddRef'd.  Safe from any thread. */
HRESULT manager_query(REFIID riid, void **out);

/* Builds the [out] copy of a string: CoTaskMemAlloc'd, as every BITS getter returns them.  A NULL
 * source gives S_OK and NULL. */
static inline HRESULT cotask_strdup(const WCHAR *src, WCHAR **out)
{
    size_t size;

    *out = NULL;
    if (!src) return S_OK;
    size = (wcslen(src) + 1) * sizeof(WCHAR);
    *out = CoTaskMemAlloc(size);
    if (!*out) return E_OUTOFMEMORY;
    memcpy(*out, src, size);
    return S_OK;
}

/* clock.c: the one source of time (DESIGN.md).  clock_now() is the wall clock of BG_JOB_TIMES;
 * clock_ticks() is monotonic milliseconds for every timer.  Both follow the debug skew described
 * in clock.c, which clock_refresh() re-reads (at most once a second). */
void clock_now(FILETIME *time);
ULONGLONG clock_ticks(void);
void clock_refresh(void);

/* engine.c: the job queue and every job's data and state; the only place a state changes.  COM
 * glue validates arguments and calls these functions; the engine implements no interface.  Lock
 * order: the queue lock (the manager-level lock of STYLE.md), then at most one job lock, then
 * the notifier's own lock (notify.c), which is never held while calling out.  Job locks are
 * recursive, so the self-locking getters may be called with the lock held.
 *
 * None of the calls below waits for a transfer: Suspend, Cancel and Complete mark the job, bump
 * its generation and abort the transport; the worker notices the new generation and stops. */

/* The user a job belongs to, captured from the creator's token (behaviour.md §9.1).  A query
 * the token could not answer keeps its failure, which the getter returns. */
struct job_owner
{
    PSID sid;                   /* malloc'd */
    WCHAR *sid_string;          /* malloc'd, "S-1-5-..." */
    HRESULT integrity_hr;
    ULONG integrity_level;      /* mandatory label RID, e.g. SECURITY_MANDATORY_MEDIUM_RID */
    HRESULT elevation_hr;
    BOOL elevated;
};

/* IBackgroundCopyJob2::SetCredentials (behaviour.md §9.5): one credential per target and
 * scheme, indexed [Target - 1][Scheme - 1].  User and password are NULL together for the
 * implicit credentials of NTLM, Negotiate and Passport (the logged-on user). */
#define AUTH_TARGETS    2       /* BG_AUTH_TARGET_SERVER, BG_AUTH_TARGET_PROXY */
#define AUTH_SCHEMES    5       /* BG_AUTH_SCHEME_BASIC .. BG_AUTH_SCHEME_PASSPORT */
struct job_credential
{
    BOOL set;
    WCHAR *user;
    WCHAR *password;
};

/* What a client sets on a job (IBackgroundCopyJob..Job5, JobHttpOptions..3).  job.c checks the
 * values and writes them between engine_job_lock_for_change() and engine_job_commit(); the
 * engine owns the memory.  Strings are malloc'd, NULL when not set. */
struct job_props
{
    WCHAR *display_name;
    WCHAR *description;             /* NULL reads as "" */
    BG_JOB_PRIORITY priority;
    ULONG notify_flags;
    IUnknown *notify_iface;         /* counted; whoever replaces it releases the old one */
    ULONG retry_delay;              /* MinimumRetryDelay, seconds */
    ULONG no_progress_timeout;      /* seconds */
    BG_JOB_PROXY_USAGE proxy_usage;
    WCHAR *proxy_list;
    WCHAR *proxy_bypass_list;
    WCHAR *notify_program;
    WCHAR *notify_parameters;
    WCHAR *reply_file_name;         /* upload-reply jobs only */
    DWORD file_acl_flags;
    DWORD peer_caching_flags;
    ULONG max_download_time;        /* seconds */
    DWORD cost_flags;               /* Job5 properties from here */
    GUID notify_clsid;
    BOOL dynamic_content;
    BOOL high_performance;
    UINT64 max_download_size;
    BG_AUTH_TARGET stored_credentials;  /* 0 when not enabled */
    struct job_credential credentials[AUTH_TARGETS][AUTH_SCHEMES];  /* Job2 SetCredentials */
    DWORD notification_interval;    /* milliseconds */
    BOOL on_demand;                 /* ON_DEMAND_MODE: see struct job_file */
    WCHAR *custom_headers;          /* HttpOptions from here */
    BOOL headers_write_only;
    ULONG security_flags;
    WCHAR *http_method;             /* NULL: the default of the job type */
    BOOL has_certificate;           /* the client certificate, found by hash or by subject */
    BG_CERT_STORE_LOCATION cert_location;
    WCHAR *cert_store_name;
    BOOL cert_by_hash;
    BYTE cert_hash[20];             /* SHA-1 thumbprint */
    WCHAR *cert_subject;
    DWORD helper_token_flags;       /* IBitsTokenOptions: saved, unlike the token (tokenopts.c) */
};

/* One file of a job.  Only engine.c writes these fields; others read them under the job lock.
 * A file lives as long as its job. */
struct job_file
{
    WCHAR *remote_name;
    WCHAR *local_name;
    WCHAR *temp_name;               /* NULL until a transfer creates the temporary file */
    UINT64 bytes_total;             /* BG_SIZE_UNKNOWN until the size is known */
    UINT64 bytes_transferred;       /* bytes valid in the temporary file */
    BOOL completed;                 /* download: renamed by Complete; upload: sent */
    BOOL validated;                 /* content accepted through File3::SetValidationState */
    WCHAR validator[128];           /* the transport's ETag or Last-Modified, "" if none */
    FILETIME remote_time;           /* of the remote file, given to the local file at Complete */
    WCHAR *response_headers;        /* malloc'd head of the last HTTP response, NULL before one */
    /* Job3::AddFileWithRanges (behaviour.md §2.2): the ranges as given, malloc'd; NULL for the
     * whole file.  The temporary file holds them one after the other, in that order, so
     * bytes_transferred alone says how far each range got, and bytes_total is their sum. */
    BG_FILE_RANGE *ranges;
    DWORD range_count;
    /* On-demand files (those of a job in Job5 ON_DEMAND_MODE without the ranges above): the
     * temporary file has the remote layout; filled are the spans in it (sorted, merged,
     * malloc'd), whose sum is bytes_transferred, and bytes_total is the remote size.  wanted
     * are the spans RequestFileRanges asked for that are not filled yet (sorted, merged); fresh
     * those filled since the last FileRangesTransferred (notify.c takes them).  position is
     * UpdateDownloadPosition's offset, where the missing spans are fetched from first. */
    BG_FILE_RANGE *filled;
    DWORD filled_count;
    BG_FILE_RANGE *wanted;
    DWORD wanted_count;
    BG_FILE_RANGE *fresh;
    DWORD fresh_count;
    UINT64 position;
};

/* An upload job's session with its BITS server (wire-and-tools.md §2.6, §2.9).  The engine
 * keeps it and the store saves it, so that an upload goes on in its session after a restart. */
#define UPLOAD_SESSION_MAX  128     /* characters with the terminator: [MC-BUP] ids have <= 100 */
#define UPLOAD_HOST_MAX     256     /* a host name has at most 253 */
struct upload_session
{
    WCHAR id[UPLOAD_SESSION_MAX];   /* BITS-Session-Id; "" without an open session */
    WCHAR host[UPLOAD_HOST_MAX];    /* BITS-Host-Id the packets go to; "" for the URL's host */
    ULONG host_timeout;             /* BITS-Host-Id-Fallback-Timeout in seconds, ~0u: never */
};

/* The reply of an upload-reply job (wire-and-tools.md §2.10): downloaded into a temporary file
 * beside the reply file name, which Complete renames (behaviour.md §10).  Only engine.c writes
 * it; strings are malloc'd, NULL when unset.  Its progress is the job's reply progress. */
struct job_reply
{
    WCHAR *url;                     /* BITS-Reply-URL; NULL before the upload ended, or when the
                                     * server named no reply (an empty one) */
    WCHAR *temp_name;               /* NULL until the reply's transfer creates it */
    WCHAR validator[128];           /* as struct job_file's, for the reply URL */
    FILETIME remote_time;
};

/* The error of a job (behaviour.md §4.3, §4.4): what IBackgroundCopyError reports. */
struct job_error
{
    HRESULT code;
    BG_ERROR_CONTEXT context;
    struct job_file *file;          /* NULL when the error concerns no file */
    const WCHAR *protocol;          /* static "http", "https", "file"; NULL when none */
};

/* notify.c's bookkeeping for one job, kept in the job and guarded by its lock; only notify.c
 * reads or writes it.  A "serial" numbers the job's state changes (engine_job_event()). */
struct job_notify
{
    ULONG delivered_serial;         /* the TRANSFERRED or ERROR whose notification is done */
    ULONG files_notified;           /* leading files whose FileTransferred is done */
    ULONG cmdline_serial;           /* the callback failed for it: the command line takes over */
    BOOL modified;                  /* a JobModification is due */
    ULONGLONG last_modification;    /* clock_ticks() of the last JobModification sent */
    ULONGLONG last_ranges;          /* clock_ticks() of the last FileRangesTransferred sent */
    ULONGLONG retry_at;             /* clock_ticks() before which a failure is not retried */
    HANDLE process;                 /* the notify command line while it runs */
    ULONG process_serial;           /* what that process was started for */
    IUnknown *clsid_callback;       /* activated from the job's NOTIFICATION_CLSID */
};

struct engine_job;

/* ServiceMain calls engine_init() before it registers the class objects and engine_shutdown()
 * after it revoked them; nothing else in the engine works before engine_init().  They start and
 * stop the scheduler, the transfer workers and the notifier. */
HRESULT engine_init(void);
void engine_shutdown(void);
void engine_free_owner(struct job_owner *owner);
/* Frees a credential's strings (the password wiped first) and marks it not set. */
void engine_clear_credential(struct job_credential *credential);
/* Creates a SUSPENDED job in the queue and returns a reference to it; consumes owner. */
HRESULT engine_create_job(const WCHAR *name, BG_JOB_TYPE type, struct job_owner *owner,
                          struct engine_job **job);
/* Returns a reference to the queued job with that id, or BG_E_NOT_FOUND. */
HRESULT engine_find_job(const GUID *id, struct engine_job **job);
/* Snapshot of the queued jobs of one owner (NULL: of every user), each referenced. */
HRESULT engine_list_jobs(PSID owner, struct engine_job ***jobs, ULONG *count);
void engine_free_job_list(struct engine_job **jobs, ULONG count);
void engine_job_addref(struct engine_job *job);
void engine_job_release(struct engine_job *job);

const GUID *engine_job_id(const struct engine_job *job);
BG_JOB_TYPE engine_job_type(const struct engine_job *job);
BG_JOB_STATE engine_job_state(struct engine_job *job);
BOOL engine_job_owned_by(struct engine_job *job, PSID sid);
void engine_job_times(struct engine_job *job, BG_JOB_TIMES *times);
void engine_job_progress(struct engine_job *job, BG_JOB_PROGRESS *progress);
void engine_job_reply_progress(struct engine_job *job, BG_JOB_REPLY_PROGRESS *progress);
ULONG engine_job_error_count(struct engine_job *job);
ULONG engine_job_file_count(struct engine_job *job);
/* Job lock held: every byte of the file is in (download) or acknowledged (upload). */
BOOL engine_file_transferred(const struct job_file *file);
/* Job lock held, for notify.c: FileTransferred is due for the file (behaviour.md §6.2). */
BOOL engine_file_arrived(struct engine_job *job, const struct job_file *file);
/* Job lock held: an upload-reply job's reply file name can no longer change. */
BOOL engine_reply_started(struct engine_job *job);
/* Job2::GetReplyData: the reply of an upload-reply job, CoTaskMemAlloc'd (NULL when empty);
 * BG_E_TOO_LARGE (and the size) above 1 MB; BG_E_INVALID_STATE before TRANSFERRED. */
HRESULT engine_reply_data(struct engine_job *job, BYTE **data, UINT64 *size);
/* Snapshot of the job's files in job order (malloc'd array; the files live as long as the job). */
HRESULT engine_job_files(struct engine_job *job, struct job_file ***files, ULONG *count);
/* Job lock held: the file at that index in job order, or NULL past the last one. */
struct job_file *engine_job_file(struct engine_job *job, ULONG index);
/* The job's current error, or BG_E_ERROR_INFORMATION_UNAVAILABLE when it has none. */
HRESULT engine_job_error(struct engine_job *job, struct job_error *error);

/* Enters the job lock and returns the job's properties, for reading. */
struct job_props *engine_job_lock(struct engine_job *job);
void engine_job_unlock(struct engine_job *job);
/* Job lock held: the owner, valid until the lock is left. */
const struct job_owner *engine_job_owner(struct engine_job *job);
/* Job lock held (from engine_job_lock_for_change()): TakeOwnership's new owner replaces the old
 * one, which is returned in *owner for the caller to free once the lock is left. */
void engine_job_swap_owner(struct engine_job *job, struct job_owner *owner);
/* Enters the job lock for a change; BG_E_INVALID_STATE (and no lock) in a final state.  End with
 * engine_job_commit(), which stamps the modification time and tells the notifier, or
 * engine_job_unlock() when nothing changed. */
HRESULT engine_job_lock_for_change(struct engine_job *job, struct job_props **props);
void engine_job_commit(struct engine_job *job);
/* Job lock held, for notify.c: the state and its serial, which changes with every state change,
 * and the notifier's bookkeeping. */
BG_JOB_STATE engine_job_event(struct engine_job *job, ULONG *serial);
struct job_notify *engine_job_notify(struct engine_job *job);
/* Job lock held, for notify.c: the TRANSFERRED or ERROR with that serial was notified; the
 * store keeps it, so that a restart does not notify it again. */
void engine_job_notified(struct engine_job *job, ULONG serial);

/* Appends all the files or none (names already checked by file.c). */
HRESULT engine_add_files(struct engine_job *job, ULONG count, const BG_FILE_INFO *files);
/* Job3::AddFileWithRanges: one file of those ranges (already checked by
 * file_check_ranges()), or BG_E_TOO_MANY_RANGES_IN_FILE above MaxRangesPerFile. */
HRESULT engine_add_file_ranges(struct engine_job *job, const BG_FILE_INFO *info, DWORD count,
                               const BG_FILE_RANGE *ranges);
/* Job lock held, for notify.c: the first file with ranges filled since the last call, which
 * it takes (malloc'd) unless ranges is NULL, or NULL. */
struct job_file *engine_take_fresh_ranges(struct engine_job *job, BG_FILE_RANGE **ranges,
                                          DWORD *count);
/* File6 (behaviour.md §7.2): BG_E_RANDOM_ACCESS_NOT_SUPPORTED unless the file could be on
 * demand (download, HTTP or HTTPS, no dynamic content or custom method, no ranges of
 * AddFileWithRanges).  RequestFileRanges: BG_E_INVALID_RANGE for a span past the end of the
 * file once its size is known; an on-demand file fetches the missing part at the next Resume,
 * other files get every byte anyway.  GetFilledFileRanges: sorted, merged, CoTaskMemAlloc'd. */
HRESULT engine_update_position(struct engine_job *job, struct job_file *file, UINT64 offset);
HRESULT engine_request_ranges(struct engine_job *job, struct job_file *file, DWORD count,
                              const BG_FILE_RANGE *ranges);
HRESULT engine_filled_ranges(struct engine_job *job, struct job_file *file, DWORD *count,
                             BG_FILE_RANGE **ranges);
/* Job lock held, for ON_DEMAND_MODE: whether a transfer of the job began (a file has a
 * temporary file, or a run is under way). */
BOOL engine_job_started(struct engine_job *job);
HRESULT engine_set_remote_name(struct engine_job *job, struct job_file *file, const WCHAR *name);
/* behaviour.md §2.1, Job3::ReplaceRemotePrefix: every remote name that starts with old_prefix
 * (case-sensitive) starts with new_prefix instead, in all files or in none.  S_FALSE when no name
 * matches; E_INVALIDARG when a new name breaks file_check_remote_name(); BG_E_INVALID_STATE in a
 * final state. */
HRESULT engine_replace_remote_prefix(struct engine_job *job, const WCHAR *old_prefix,
                                     const WCHAR *new_prefix);
/* behaviour.md §7.2, File3::SetValidationState: BG_E_INVALID_STATE in a final state or before
 * the file is transferred.  TRUE marks the content valid; FALSE starts the file again from 0
 * and puts the job in ERROR with BG_E_VALIDATION_FAILED. */
HRESULT engine_set_validation_state(struct engine_job *job, struct job_file *file, BOOL valid);
/* behaviour.md §3.4: QUEUED from SUSPENDED, ERROR, TRANSIENT_ERROR (error cleared) and from
 * TRANSFERRED with files still to transfer; BG_E_EMPTY without files. */
HRESULT engine_resume_job(struct engine_job *job);
/* behaviour.md §3.3: SUSPENDED from any live state; the transferred bytes are kept. */
HRESULT engine_suspend_job(struct engine_job *job);
/* behaviour.md §3.2: CANCELLED, out of the queue, temporary files deleted; S_OK,
 * BG_S_UNABLE_TO_DELETE_FILES, or BG_E_INVALID_STATE when already final. */
HRESULT engine_cancel_job(struct engine_job *job);
/* behaviour.md §3.1: renames the finished files, drops the others; S_OK,
 * BG_S_PARTIAL_COMPLETE, BG_S_UNABLE_TO_DELETE_FILES, BG_E_INVALID_STATE, or the failure of a
 * rename, which leaves the job TRANSFERRED with the renamed files completed. */
HRESULT engine_complete_job(struct engine_job *job);

/* store.c: the durable job queue (wire-and-tools.md §4.4), in the format its header describes.
 * Only the engine calls it.  A job as the store sees it: the engine fills one under the job
 * lock with pointers into its own data; store_load() gives malloc'd ones. */
#define STORE_NO_FILE   (~0u)
#define STORE_MAX_FILES 100000      /* files of one job an entry holds */
struct store_job
{
    GUID id;
    BG_JOB_TYPE type;
    BG_JOB_STATE state;
    BOOL committing;                /* a Complete had decided and was renaming files */
    PSID committer;                 /* with committing: its caller, whose the files become;
                                     * NULL when unknown */
    BOOL notified;                  /* TRANSFERRED or ERROR: that event was notified */
    struct job_owner owner;         /* sid_string is not stored */
    FILETIME creation_time;
    FILETIME modification_time;
    FILETIME completion_time;
    ULONG error_count;
    BOOL has_error;
    HRESULT error_code;
    BG_ERROR_CONTEXT error_context;
    ULONG error_file;               /* index in files, or STORE_NO_FILE */
    const WCHAR *error_protocol;    /* static, as in struct job_error */
    ULONGLONG active_ms;
    BG_JOB_REPLY_PROGRESS reply_progress;
    struct upload_session session;  /* upload jobs */
    struct job_reply reply;         /* upload-reply jobs */
    struct job_props props;         /* all but notify_iface, which is never stored */
    struct job_file **files;
    ULONG file_count;
};

/* Finds or creates the store's directory; before any other store call. */
HRESULT store_init(void);
/* Memory only, so callable under the job lock: the entry's bytes, malloc'd.  counter numbers
 * the saves of the job (diagnostics only). */
HRESULT store_serialize(const struct store_job *job, ULONGLONG counter, BYTE **data,
                        DWORD *size);
/* No lock held.  Replace the job's entry atomically (write, flush, rename). */
HRESULT store_write(const GUID *id, const BYTE *data, DWORD size);
/* No lock held.  Removes the entry of a job that became final: S_OK; S_FALSE when the entry
 * stays (held open by another process) but is marked final, so it will not load: call again
 * later to remove it; a failure when neither could be done. */
HRESULT store_delete(const GUID *id);
/* No lock held.  Calls restore for every readable entry; restore owns the job's memory
 * (owner.sid, committer, reply strings, props strings, files and their array) whatever it
 * returns.  Damaged
 * entries are renamed to *.bad, logged with ERR and skipped: S_OK unless the directory is
 * unreadable.  Entries marked final are not loaded: they are removed, or given to pending when
 * they cannot be yet (store_delete() later). */
HRESULT store_load(HRESULT (*restore)(struct store_job *job), void (*pending)(const GUID *id));

/* job.c: a new COM object for a queued job; takes its own reference on it. */
HRESULT job_create(struct engine_job *engine_job, IBackgroundCopyJob **out);

/* file.c */
HRESULT file_create(struct engine_job *job, struct job_file *file, IBackgroundCopyFile **out);
/* Argument rules of behaviour.md §2.2 for a remote name of a job of that type, and for a local
 * name: S_OK or E_INVALIDARG. */
HRESULT file_check_remote_name(const WCHAR *name, BG_JOB_TYPE type);
HRESULT file_check_local_name(const WCHAR *name);
/* behaviour.md §2.2, AddFileWithRanges: E_INVALIDARG without ranges, BG_E_INVALID_RANGE for an
 * offset of BG_LENGTH_TO_EOF or a range past 2^64, BG_E_OVERLAPPING_RANGES when two overlap. */
HRESULT file_check_ranges(DWORD count, const BG_FILE_RANGE *ranges);

/* notify.c: client notifications (behaviour.md §6), delivered by the notifier's own threads with
 * no lock held.  The engine calls the two notify_job_*() functions with the job lock held; they
 * only mark the job and wake a thread. */
HRESULT notify_init(void);
void notify_shutdown(void);
/* The job entered TRANSFERRED or ERROR, or a file of it was transferred, or ranges of an
 * on-demand file were (FileRangesTransferred, engine_take_fresh_ranges()). */
void notify_job_event(struct engine_job *job);
/* Something a JobModification reports happened; settings is TRUE for a client's change, which
 * also retries a failed notification at once (a new interface or command line may work). */
void notify_job_modified(struct engine_job *job, BOOL settings);
/* Job lock held: a job loaded from the store, whose TRANSFERRED or ERROR was notified before
 * the restart (delivered) or not yet, which is then delivered again (behaviour.md §6.7). */
void notify_job_restored(struct engine_job *job, BOOL delivered);
/* Frees what the job's bookkeeping holds; called when the job is destroyed, no lock held. */
void notify_free_job(struct job_notify *notify);

/* Transports (http.c, localfile.c, upload.c) move the bytes of one file of a job.  The engine's
 * worker thread calls them with no lock held and reads the result fields afterwards. */
struct transfer
{
    /* Set by the engine before transport_download(). */
    const WCHAR *remote_name;       /* http://, https://, file:// URL, UNC or local path */
    HANDLE temp_file;               /* the BIT*.tmp file, opened for read/write */
    UINT64 offset;                  /* bytes already valid in temp_file: resume from here */
    UINT64 known_size;              /* size learnt by an earlier attempt, or BG_SIZE_UNKNOWN */
    WCHAR validator[128];           /* ETag (or Last-Modified) seen by the earlier attempt, or "";
                                     * the transport updates it */
    const WCHAR *custom_headers;    /* HttpOptions: CRLF-separated, or NULL */
    /* SetCredentials' credentials, answered to a 401 or 407 challenge; may be NULL. */
    const struct job_credential (*credentials)[AUTH_SCHEMES];
    const WCHAR *http_method;       /* NULL: GET */
    BG_JOB_PROXY_USAGE proxy_usage;
    const WCHAR *proxy_list;
    const WCHAR *proxy_bypass_list;
    ULONG security_flags;           /* BG_SSL_* | BG_HTTP_REDIRECT_POLICY_* */
    volatile LONG abort;            /* set by transport_abort(): stop soon, result E_ABORT */
    /* Called on the worker thread after each write: must be cheap (no I/O, no COM). */
    void (*progress)(struct transfer *transfer);
    void *context;                  /* the engine's, for the progress callback */
    void *transport;                /* the transport's own state while it runs */
    /* Parts of a file, over HTTP only.  Without random, ranges are those of AddFileWithRanges:
     * temp_file holds them one after the other, in their order, and offset, known_size, total
     * and transferred count their bytes only.  With random (an on-demand file, http_fill()),
     * ranges are the spans to fetch, in that order, each written at its own offset of
     * temp_file, which has the remote layout: total is the remote size (known_size that of an
     * earlier attempt), transferred counts this call's bytes, and each write is reported to
     * progress in piece.  had_data: the file has bytes already, which a change of the remote
     * file makes BG_E_REMOTE_FILE_CHANGED instead of a fresh start. */
    const BG_FILE_RANGE *ranges;
    DWORD range_count;
    BOOL random;
    BOOL had_data;
    BG_FILE_RANGE piece;            /* set by the transport before progress, with random */

    /* Set by the transport. */
    UINT64 total;                   /* size of the remote file, BG_SIZE_UNKNOWN until known */
    UINT64 transferred;             /* bytes valid in temp_file */
    BOOL restarted;                 /* the remote file changed: temp_file was emptied, offset 0 */
    FILETIME remote_time;           /* Last-Modified or the source's write time; zero if none */
    WCHAR *final_url;               /* malloc'd URL after redirects, or NULL if none happened */
    HRESULT error;                  /* S_OK, E_ABORT, or the job's error code (BG_E_HTTP_ERROR_404,
                                     * HRESULT_FROM_WIN32(...), BG_E_...) */
    BG_ERROR_CONTEXT error_context; /* REMOTE_FILE, LOCAL_FILE, GENERAL_TRANSPORT... */
    BOOL transient;                 /* the error may go away: retry after MinimumRetryDelay */
    const WCHAR *protocol;          /* static "http", "https" or "file" */
    WCHAR *response_headers;        /* malloc'd: status line and header lines of the last HTTP
                                     * response as received, up to its empty line; NULL if none */

    /* Uploads (transport_upload()).  There offset is what the server acknowledged, known_size
     * and validator the size and last write time of the local file when it was first sent (a
     * change is an error), and total and transferred what they are for downloads. */
    const WCHAR *local_name;        /* the file to send */
    BOOL foreground;                /* the largest fragments from the start */
    struct upload_session session;  /* the session to go on in; the transport updates it */
    ULONGLONG host_down_since;      /* clock_ticks() since when the Host-Id cannot be reached,
                                     * 0 while it can; the transport updates it */
    WCHAR *reply_url;               /* set: malloc'd BITS-Reply-URL of the Ack that made the
                                     * upload whole, or NULL */
};

/* localfile.c.  Downloads remote_name into temp_file from offset on, by the transport its scheme
 * names, and returns transfer->error.  On return, whatever the outcome, temp_file holds exactly
 * transferred bytes; final_url (never freed here) is set when a redirect happened, whatever the
 * redirect policy.  An abort makes it return E_ABORT with context NONE. */
HRESULT transport_download(struct transfer *transfer);
/* From any thread, even after transport_download() returned: a running transport_download()
 * returns E_ABORT within about 100 ms.  It only sets transfer->abort. */
void transport_abort(struct transfer *transfer);

/* localfile.c: checks of a new file's local name, made as the caller: S_OK or the failure. */
HRESULT localfile_check_destination(const WCHAR *path);
HRESULT localfile_check_source(const WCHAR *path);
/* localfile.c: temporary files (behaviour.md §10).  create_temp makes a new hidden BITxxxx.tmp
 * in the directory of local_name (temp_name malloc'd); open_temp reopens one and gives its size.
 * Both share read, write and delete, so the files may be renamed or deleted while open. */
HRESULT localfile_create_temp(const WCHAR *local_name, WCHAR **temp_name, HANDLE *file);
HRESULT localfile_open_temp(const WCHAR *temp_name, HANDLE *file, UINT64 *size);
/* Renames temp_name over local_name, unhides it and gives it remote_time (unless zero); only the
 * rename can fail, with HRESULT_FROM_WIN32 of its error. */
HRESULT localfile_commit(const WCHAR *temp_name, const WCHAR *local_name,
                         const FILETIME *remote_time);
/* S_OK also when the file is already gone. */
HRESULT localfile_delete(const WCHAR *temp_name);
/* The whole file, CoTaskMemAlloc'd (NULL when empty); BG_E_TOO_LARGE, with the size, when it
 * has more than limit bytes. */
HRESULT localfile_read(const WCHAR *path, UINT64 limit, BYTE **data, UINT64 *size);

/* upload.c: the BITS upload protocol ([MC-BUP], wire-and-tools.md §2), one step of an upload
 * job at a time, as transport_download() does a download (progress, abort, result fields).
 * UPLOAD_SEND opens a session unless transfer->session has one, and sends local_name from
 * offset on until the server has all of it (an empty file is closed at once); UPLOAD_CLOSE
 * and UPLOAD_CANCEL end the session.  The session left ends up in transfer->session. */
enum upload_step
{
    UPLOAD_SEND,
    UPLOAD_CLOSE,
    UPLOAD_CANCEL,
};
HRESULT transport_upload(struct transfer *transfer, enum upload_step step);

/* The transports behind transport_download(), and what they share (localfile.c). */
HRESULT http_download(struct transfer *transfer);       /* http.c: http:// and https:// */
/* http.c: the spans of an on-demand file (transfer->random), called instead of
 * transport_download(), with its result fields. */
HRESULT http_fill(struct transfer *transfer);
HRESULT localfile_download(struct transfer *transfer);  /* file://, UNC and local paths */
/* Records error, context and class in transfer and returns hr. */
HRESULT transfer_fail(struct transfer *transfer, HRESULT hr, BG_ERROR_CONTEXT context,
                      BOOL transient);
/* Whether a Win32 or WinHTTP error may go away by itself (behaviour.md §4.1). */
BOOL transfer_transient(DWORD error);
/* Appends to temp_file, counts the bytes in transferred, then calls progress. */
HRESULT transfer_write(struct transfer *transfer, const void *data, DWORD size);
/* Empties temp_file: transferred 0, restarted TRUE (the remote file changed). */
HRESULT transfer_restart(struct transfer *transfer);

/* http.c: the HTTP/1.1 client of the transports (our Winsock one for plain http:// without a
 * proxy, WinHTTP otherwise), for one worker thread.  A failure to talk to the server is
 * recorded in the transfer the client was made for (transfer_fail()); a status is the
 * caller's to judge. */
#define HTTP_STATUS_HRESULT(status) ((HRESULT)(0x80190000 | (status)))  /* BG_E_HTTP_ERROR_xxx */
struct http_response
{
    DWORD status;
    int minor;                      /* HTTP/1.<minor> */
    BOOL bad;                       /* a header we cannot read */
    UINT64 length;                  /* Content-Length, BG_SIZE_UNKNOWN when absent */
    BOOL has_range;                 /* Content-Range "bytes first-last/size" */
    BOOL unsatisfied;               /* Content-Range of a 416: only the size */
    UINT64 first, last, size;       /* size BG_SIZE_UNKNOWN when the server does not know it */
    BOOL encoded;                   /* a content or transfer coding we cannot undo */
    BOOL chunked;                   /* Transfer-Encoding: chunked */
    BOOL close;                     /* Connection: close */
    BOOL keep_alive;                /* Connection: keep-alive */
    char etag[128];
    char modified[64];
    char *location;                 /* malloc'd */
    char *head;                     /* malloc'd: the head as received, for http_header() */
};
struct http_conn;
void http_response_init(struct http_response *resp);
void http_response_clear(struct http_response *resp);
/* The value of the first header called name, blanks trimmed; FALSE when there is none or it
 * does not fit in size characters. */
BOOL http_header(const struct http_response *resp, const char *name, char *value, size_t size);
/* wire-and-tools.md §1.7: whether an HTTP status is a transient error. */
BOOL http_status_transient(DWORD status);
HRESULT http_conn_create(struct transfer *transfer, struct http_conn **conn);
void http_conn_free(struct http_conn *conn);
/* Sends method to url with CRLF-separated extra header lines (and the job's custom headers),
 * and with a body of size bytes unless body is NULL, then reads the head of the answer into
 * resp; redirects are not followed.  Call http_conn_end() when done with the answer. */
HRESULT http_conn_send(struct http_conn *conn, const WCHAR *url, const WCHAR *method,
                       const WCHAR *headers, const void *body, DWORD size,
                       struct http_response *resp);
void http_conn_end(struct http_conn *conn);

/* security.c: who calls and what they may do (behaviour.md §9).  Outside a COM call the caller
 * is the service itself. */
/* The caller's SID (malloc'd) and whether it is an administrator. */
HRESULT security_get_caller(PSID *sid, BOOL *admin);
/* The caller as the owner of a new job (engine_free_owner() frees it). */
HRESULT security_get_owner(struct job_owner *owner);
/* Administrators and service accounts are exempt from the limits of behaviour.md §8. */
BOOL security_caller_exempt(void);
/* S_OK when the caller owns the job, or is an administrator and owner_only is FALSE;
 * E_ACCESSDENIED otherwise.  No lock held. */
HRESULT security_check_job_access(struct engine_job *job, BOOL owner_only);
/* S_OK for an administrator, E_ACCESSDENIED otherwise. */
HRESULT security_check_admin(void);
/* The identity the file work of Complete and Cancel runs under: the caller's, impersonated
 * from begin to end (behaviour.md §9.4), or the service's outside a COM call.  No lock held
 * between the two calls; they pair on one thread. */
struct file_work
{
    BOOL impersonating;
    HANDLE token;           /* whose the files become; NULL when unknown */
};
void security_begin_file_work(struct file_work *work);
void security_end_file_work(struct file_work *work);
/* Between the two: makes the token's user the owner of a file Complete saved. */
void security_give_file(struct file_work *work, const WCHAR *path);
/* Outside any call (a Complete finished at load): makes the user of sid the owner of a file
 * Complete saved. */
void security_give_file_sid(PSID sid, const WCHAR *path);

/* policy.c: Group Policy limits (behaviour.md §8), read again on every call. */
struct policy
{
    ULONG inactivity_days;      /* JobInactivityTimeout */
    ULONG max_download_time;    /* seconds: the default of a new job's MaximumDownloadTime */
    ULONG jobs_per_user;
    ULONG jobs_per_machine;
    ULONG files_per_job;
    ULONG ranges_per_file;
};
void policy_get(struct policy *policy);

/* enum.c: snapshot enumerators; they take their own references. */
HRESULT enum_jobs_create(struct engine_job **jobs, ULONG count, IEnumBackgroundCopyJobs **out);
HRESULT enum_files_create(struct engine_job *job, IEnumBackgroundCopyFiles **out);

/* error.c: CoTaskMemAlloc'd text for any HRESULT (BITS codes in our words, others from the
 * system), in the language asked for. */
HRESULT error_describe(HRESULT code, DWORD language, WCHAR **text);
/* An IBackgroundCopyError for that error of the job, which it keeps referenced. */
HRESULT error_create(struct engine_job *job, const struct job_error *error,
                     IBackgroundCopyError **out);

/* Peer caching, BITS 3.0's and deprecated since 4.0: all its methods answer S_FALSE.
 * peercache.c: the manager's IBitsPeerCacheAdministration, AddRef'd; its QueryInterface is the
 * manager's (manager_query()). */
HRESULT peercache_query(void **out);
/* enum.c: a new empty IEnumBitsPeerCacheRecords or IEnumBitsPeers, by iid; S_FALSE, as every
 * method of theirs answers, or a failure. */
HRESULT enum_empty_create(REFIID iid, void **out);

/* IBitsTokenOptions (tokenopts.c): a job's helper token.  It lives with the engine's job, is
 * never saved, and is not used by the transfers yet. */
struct helper_token
{
    HANDLE token;           /* an impersonation token of the client's; NULL when none is set */
    WCHAR *sid_string;      /* malloc'd: its user, "S-1-5-..." */
    BOOL admin;             /* BUILTIN\Administrators is enabled in it */
};
/* security.c: the caller's token as a helper token (the service's own outside a COM call);
 * CO_E_FAILEDTOIMPERSONATE when the client's COM settings allow no impersonation. */
HRESULT security_get_helper_token(struct helper_token *helper);
void security_free_helper_token(struct helper_token *helper);
/* engine.c, job lock held: the job's helper token, valid until the lock is left. */
const struct helper_token *engine_job_helper_token(struct engine_job *job);
/* Job lock held (from engine_job_lock_for_change()): helper replaces the job's token, and gets
 * the old one for the caller to free (security_free_helper_token()) once the lock is left. */
void engine_job_swap_helper_token(struct engine_job *job, struct helper_token *helper);
/* tokenopts.c: a new IBitsTokenOptions of the job object job (which it keeps referenced) for
 * engine_job, with the rights of the caller of this QueryInterface. */
HRESULT token_options_create(IUnknown *job, struct engine_job *engine_job, void **out);

#endif /* QMGR_PRIVATE_H */
