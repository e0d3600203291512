/* Helpers shared by the conformance units: COM and manager setup, uniquely named jobs that are
 * always cancelled, temporary paths, the caller's identity, and a few string helpers.  Only
 * the public BITS COM API is used, so everything also runs on Windows.
 *
 * Job names are "bits-conformance UNIT PID.N TAG": unique per process, and a unit's cleanup
 * cancels any job of its own prefix that a failed test left behind.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#ifndef BITS_TESTS_UTIL_H
#define BITS_TESTS_UTIL_H

#define COBJMACROS
#define CONST_VTABLE
#include <stdio.h>
#include <stdlib.h>
#include <wchar.h>
#include <windows.h>
#include <objbase.h>

#include "bits.h"
#include "bits10_3.h"
#include "bitsmsg.h"

#include "test.h"

/* What a MIDL/widl proxy returns when a [ref] pointer argument is NULL: the call never
 * reaches the service. */
#define HRESULT_NULL_REF HRESULT_FROM_WIN32(RPC_X_NULL_REF_POINTER)

/* The manager of the current unit, set by bits_test_init(). */
extern IBackgroundCopyManager *test_manager;

/* Initialises COM (multithreaded apartment) and creates the manager with CLSCTX_LOCAL_SERVER.
 * Returns FALSE, after a skip(), when BITS is not available; the unit then returns. */
BOOL bits_test_init(void);
/* Cancels leftover jobs of this unit, removes the temporary directory, releases the manager
 * and uninitialises COM. */
void bits_test_cleanup(void);

/* Writes a unique display name for TAG (see above) to NAME, which holds SIZE characters. */
void make_job_name(const WCHAR *tag, WCHAR *name, size_t size);
/* The prefix shared by every job name of this process and unit. */
const WCHAR *job_name_prefix(void);
/* Creates a uniquely named job; reports a failure and returns NULL when CreateJob fails.  ID
 * may be NULL. */
IBackgroundCopyJob *create_job(const WCHAR *tag, BG_JOB_TYPE type, GUID *id);
/* Cancels JOB whatever its state and releases it; NULL is allowed. */
void cancel_job(IBackgroundCopyJob *job);
/* Cancels every job of this unit still in the queue; returns how many it found. */
unsigned int sweep_jobs(void);
/* Whether the manager's EnumJobs(0) lists the job with ID. */
BOOL job_is_listed(const GUID *id);

/* The unit's temporary directory (created on first use) and a full path inside it.  The
 * returned path is CoTaskMemAlloc'd. */
const WCHAR *temp_dir(void);
WCHAR *temp_path(const WCHAR *name);
/* The same path for the unit running in process PID (a parent or child); nothing is created. */
WCHAR *process_temp_path(DWORD pid, const WCHAR *name);
BOOL write_test_file(const WCHAR *path, const char *data);

/* A CoTaskMemAlloc'd string of COUNT copies of C, optionally after PREFIX (which counts
 * towards COUNT); the result has exactly COUNT characters. */
WCHAR *make_string(const WCHAR *prefix, WCHAR c, size_t count);

/* The calling process' user SID as "S-1-5-...", LocalAlloc'd; NULL on failure. */
WCHAR *get_user_sid_string(void);
/* Whether the caller is in BUILTIN\Administrators with that group enabled (elevated). */
BOOL is_admin(void);
/* The integrity RID and elevation of the caller's token; FALSE when not available. */
BOOL get_token_integrity(ULONG *level);
BOOL get_token_elevation(BOOL *elevated);

/* Starts this executable again as "EXE ARGS", ARGS beginning with a unit's name ("limits child
 * files 2"), and checks that it started, that it finished within timeout_ms (else it is
 * terminated) and that it exited with 0: a child unit exits with its number of failures.
 * RESTRICTED starts it with this process' token with BUILTIN\Administrators deny-only: the
 * same user, no administrator.  Returns the exit code, or -1 after a failure report. */
LONG run_child_process(const WCHAR *args, BOOL restricted, DWORD timeout_ms);

/* Whether two interface pointers belong to the same COM object (same IUnknown). */
BOOL same_object(IUnknown *a, IUnknown *b);

/* The file at INDEX in the job's file list, through EnumFiles; NULL on failure. */
IBackgroundCopyFile *get_job_file(IBackgroundCopyJob *job, ULONG index);
/* Number of files the job reports through EnumFiles/GetCount; (ULONG)-1 on failure. */
ULONG count_job_files(IBackgroundCopyJob *job);

/* FILETIME helpers. */
ULONGLONG filetime_to_u64(const FILETIME *ft);

/* String equality that tolerates NULL on either side (NULL equals only NULL). */
BOOL str_equal(const WCHAR *a, const WCHAR *b);

/* ---- Transfers: helpers of the complete, transfer and notify units ----
 * They use the in-process HTTP server of server.h; a unit that uses them calls server_start()
 * before its first transfer and server_stop() at its end. */

#include "server.h"

/* The job's state; (BG_JOB_STATE)-1 when GetState fails. */
BG_JOB_STATE get_job_state(IBackgroundCopyJob *job);
/* Polls the job until it is in STATE, or in another state it does not leave by itself
 * (SUSPENDED, ERROR, TRANSFERRED, ACKNOWLEDGED, CANCELLED), or timeout_ms have passed, and
 * returns the last state seen.  SEEN, when not NULL, receives a bit (1 << state) for every
 * state observed on the way. */
BG_JOB_STATE wait_for_state_seen(IBackgroundCopyJob *job, BG_JOB_STATE state, DWORD timeout_ms,
        DWORD *seen);
/* The same, TRUE when STATE was reached. */
BOOL wait_for_state(IBackgroundCopyJob *job, BG_JOB_STATE state, DWORD timeout_ms);
/* Resumes the job and waits for EXPECTED as wait_for_state_seen() does (SEEN may be NULL);
 * reports a failed Resume, or the state and error reached instead, at FILE:LINE.  TRUE when
 * the job is in EXPECTED. */
BOOL resume_job_and_wait_at(IBackgroundCopyJob *job, BG_JOB_STATE expected, DWORD timeout_ms,
        DWORD *seen, const char *file, int line);
#define resume_job_and_wait(job, expected, timeout_ms, seen) \
    resume_job_and_wait_at(job, expected, timeout_ms, seen, __FILE__, __LINE__)
/* Progress of the file at INDEX (EnumFiles order); FALSE when it cannot be read. */
BOOL get_file_progress(IBackgroundCopyJob *job, ULONG index, BG_FILE_PROGRESS *progress);
/* Polls until the file at INDEX has at least BYTES transferred; FALSE after timeout_ms. */
BOOL wait_for_file_bytes(IBackgroundCopyJob *job, ULONG index, UINT64 bytes, DWORD timeout_ms);
/* IBackgroundCopyFile3::GetTemporaryName of the file at INDEX; NULL when not available. */
WCHAR *get_temporary_name(IBackgroundCopyJob *job, ULONG index);
/* The context and code of the job's error object; FALSE when GetError fails. */
BOOL get_job_error(IBackgroundCopyJob *job, BG_ERROR_CONTEXT *context, HRESULT *code);
/* Creates a uniquely named download job at FOREGROUND priority, so that it starts at once
 * instead of waiting for idle bandwidth; NULL after a failure report. */
IBackgroundCopyJob *create_transfer_job(const WCHAR *tag, GUID *id);
/* AddFile of the test server's "/file/SPEC" (SPEC is a name and options: "a?size=10") to
 * LOCAL; reports a failure. */
HRESULT add_server_file(IBackgroundCopyJob *job, const char *spec, const WCHAR *local);
/* server_url() of "/file/SPEC" as a CoTaskMemAlloc'd string. */
WCHAR *server_file_url(const char *spec);

/* A directory of the test's own inside the unit's temporary directory, ending in a backslash,
 * CoTaskMemAlloc'd; remove_test_dir() deletes it with everything in it (hidden and read-only
 * files too) and frees the string.  NULL is allowed. */
WCHAR *make_test_dir(const WCHAR *name);
void remove_test_dir(WCHAR *dir);
/* DIR (ending in a backslash) + NAME, CoTaskMemAlloc'd. */
WCHAR *dir_file(const WCHAR *dir, const WCHAR *name);
BOOL file_exists(const WCHAR *path);
/* Number of files (not directories) in DIR whose names match PATTERN ("*" for all). */
unsigned int count_files(const WCHAR *dir, const WCHAR *pattern);
/* The names of the files in DIR, for failure messages (a wine_dbgstr_w() string). */
const char *dir_listing(const WCHAR *dir);

/* Lets a stalled name of the test server go on after timeout_ms, so that a call that should
 * return at once but waits for the transfer cannot hang the unit; stall_guard_end() cancels
 * the timer and releases the name.  NULL is allowed in stall_guard_end(). */
struct stall_guard;
struct stall_guard *stall_guard_begin(const char *name, DWORD timeout_ms);
void stall_guard_end(struct stall_guard *guard);

/* A client's IBackgroundCopyCallback2 that records every call the service makes.  The service
 * calls it from its own process, so in this multithreaded apartment the calls arrive on RPC
 * threads; the object is reference counted and freed by its last Release. */
enum callback_kind
{
    CALLBACK_JOB_TRANSFERRED,
    CALLBACK_JOB_ERROR,
    CALLBACK_JOB_MODIFICATION,
    CALLBACK_FILE_TRANSFERRED,
    CALLBACK_KIND_COUNT
};

struct callback_call
{
    enum callback_kind kind;
    GUID job_id;                /* from the job passed in; GUID_NULL when GetId failed */
    BG_JOB_STATE state;         /* GetState during the call; -1 when not asked or failed */
    BG_ERROR_CONTEXT context;   /* JobError: GetError of the error passed in */
    HRESULT code;
    HRESULT file_hr;            /* JobError: what IBackgroundCopyError::GetFile returned */
    WCHAR file[MAX_PATH];       /* the local name of FileTransferred's or JobError's file */
    HRESULT returned;           /* what the call returned to the service */
    ULONGLONG time;             /* GetTickCount64() at the call */
};

#define CALLBACK_CALLS_MAX 64

struct test_callback
{
    IBackgroundCopyCallback2 IBackgroundCopyCallback2_iface;
    LONG refcount;
    CRITICAL_SECTION cs;        /* guards the fields below */
    HANDLE event;               /* manual reset, set after every call */
    LONG fail_transferred;      /* JobTransferred returns E_FAIL while this is above 0 */
    LONG counts[CALLBACK_KIND_COUNT];
    unsigned int call_count;    /* calls[] keeps the first CALLBACK_CALLS_MAX */
    struct callback_call calls[CALLBACK_CALLS_MAX];
};

/* A new object with one reference, owned by the caller; NULL on failure. */
struct test_callback *test_callback_create(void);
IUnknown *test_callback_unknown(struct test_callback *callback);
void test_callback_release(struct test_callback *callback);
LONG test_callback_count(struct test_callback *callback, enum callback_kind kind);
/* Waits until at least COUNT calls of KIND have returned; FALSE after timeout_ms. */
BOOL test_callback_wait(struct test_callback *callback, enum callback_kind kind, LONG count,
        DWORD timeout_ms);
/* Copies the INDEX-th call (all kinds, in arrival order); FALSE when there is none. */
BOOL test_callback_get_call(struct test_callback *callback, unsigned int index,
        struct callback_call *out);
/* The INDEX-th call of KIND; FALSE when there is none. */
BOOL test_callback_find_call(struct test_callback *callback, enum callback_kind kind,
        unsigned int index, struct callback_call *out);

#endif /* BITS_TESTS_UTIL_H */
