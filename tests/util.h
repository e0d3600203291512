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

#endif /* BITS_TESTS_UTIL_H */
