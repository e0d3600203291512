/* IBackgroundCopyJob::Complete, sentence by sentence (seed 000; behaviour.md §3.1, §7.3, §10).
 * Each sentence of the documentation, in our words, and the test_Complete_* test checking it:
 *
 *  S1  Complete ends the job and keeps its files on the client.   ends_job_and_saves_files
 *  S2  It may also return the error of a failed rename.           rename_fails_destination_locked
 *  S3  S_OK: every file was transferred.                          S_OK_all_files_transferred
 *  S4  BG_S_PARTIAL_COMPLETE: only some files were transferred.   partial_third_of_five
 *  S5  BG_S_UNABLE_TO_DELETE_FILES: completed, but a temporary
 *      file could not be deleted.                                 unable_to_delete_files
 *  S6  A download must not be CANCELLED or ACKNOWLEDGED.          after_Cancel, twice
 *  S7  An upload must be TRANSFERRED.                             upload_not_transferred
 *  S8  Downloaded files are not available before Complete.        files_not_available_before_
 *                                                                 Complete
 *  S9  Call Complete once BITS has transferred the files.         S_OK_all_files_transferred
 *  S10 Complete renames the temporary files to their final names
 *      and takes the job out of the queue.                        renames_and_removes_job
 *  S11 The server renames an upload at its last fragment, so
 *      downloads need the network and uploads do not.             download_needs_no_server
 *  S12 TRANSFERRED means every file was transferred;
 *  S13 GetState tells the state.                                  TRANSFERRED_means_all_files
 *  S14 A callback can learn that all files are transferred.       JobTransferred_notification
 *  S15 Neither Complete nor Cancel within 90 days (policy
 *      JobInactivityTimeout): the service cancels the job;
 *  S16 its downloaded files and reply file are then unavailable,
 *      files already uploaded are not affected.                   (see below)
 *  S17 The job leaves the queue on S_OK and BG_S_PARTIAL_COMPLETE. removes_job_on_S_OK_and_partial
 *  S18 It stays in the queue when a temporary file could not be
 *      renamed;                                                   rename_fails_* (all three)
 *  S19 the files renamed are available to the user;               rename_fails_* (all three)
 *  S20 it stays TRANSFERRED until the application fixes the
 *      problem and calls Complete again, or Cancel;               rename_fails_destination_locked,
 *                                                                 _directory_removed (Complete),
 *                                                                 _read_only_destination (Cancel)
 *  S21 BG_FILE_PROGRESS.Completed tells which were not renamed.   rename_fails_* (all three)
 *  S22 A download may be completed at any time of its transfer;   during_transfer_any_time
 *  S23 only files transferred before the call are kept;           partial_third_of_five
 *  S24 e.g. during the third of five files, the first two.        partial_third_of_five
 *  S25 BytesTransferred against BytesTotal of a file's progress
 *      tells whether it was transferred.                          file_progress_tells_transferred
 *  S26 An upload can be completed only when TRANSFERRED.          upload_only_when_TRANSFERRED
 *  S27 BITS does not protect the files against third parties;
 *  S28 clients may check them after Complete.                     client_can_check_integrity
 *  S29 The files belong to the caller of Complete, e.g. an
 *      administrator completing another user's job.               owner_is_caller
 *  S30 BITS 1.2 and earlier: they belong to the job's owner.      (not implemented: we are 1.5+)
 *
 * S15 and S16 are no conformance test: ninety days cannot pass here.  The Wine-only clock tests
 * of the next issue (tests/wine/, with the service's test clock) cover them;
 * test_Cancel_instead_of_Complete_discards_files checks the part a client can see: a cancelled
 * TRANSFERRED job leaves no downloaded file behind.
 *
 * Downloads come from the in-process test server (server.h), each test with its own job,
 * server names and directory.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#include "util.h"

#include <sddl.h>

#define MAX_FILES 5
#define TRANSFER_TIMEOUT 15000  /* ms for a few small files from 127.0.0.1 */
#define STALL_TIMEOUT 15000     /* ms until a response has reached its stall offset */
#define GUARD_TIMEOUT 20000     /* a stalled name is released at the latest after this */

/* A download job of files served by the test server, each into DIR\fileN.bin. */
struct download
{
    IBackgroundCopyJob *job;
    GUID id;
    WCHAR *dir;
    unsigned int count;
    char names[MAX_FILES][64];              /* the server's names of the files */
    UINT64 sizes[MAX_FILES];
    WCHAR *locals[MAX_FILES];
    IBackgroundCopyFile *files[MAX_FILES];  /* taken before Complete, usable after it */
};

/* Creates the job of COUNT files "TAG-N", file N with sizes[N] bytes and the extra server
 * options options[N] ("stall=100"; NULL or a NULL entry for none).  FALSE after a failure
 * report; end_download() cleans up in any case. */
static BOOL begin_download(struct download *dl, const char *tag, unsigned int count,
        const UINT64 *sizes, const char *const *options)
{
    WCHAR wide[64], local[32];
    char spec[256];
    unsigned int i;

    memset(dl, 0, sizeof(*dl));
    if (!server_start())
    {
        skip("the test server does not start\n");
        return FALSE;
    }
    swprintf(wide, ARRAY_SIZE(wide), L"%hs", tag);
    dl->dir = make_test_dir(wide);
    dl->job = create_transfer_job(wide, &dl->id);
    if (!dl->dir || !dl->job) return FALSE;
    for (i = 0; i < count && i < MAX_FILES; i++)
    {
        snprintf(dl->names[i], sizeof(dl->names[i]), "%s-%u", tag, i);
        dl->sizes[i] = sizes[i];
        snprintf(spec, sizeof(spec), "%s?size=%llu%s%s", dl->names[i],
                (unsigned long long)sizes[i],
                options && options[i] ? "&" : "", options && options[i] ? options[i] : "");
        swprintf(local, ARRAY_SIZE(local), L"file%u.bin", i);
        dl->locals[i] = dir_file(dl->dir, local);
        if (FAILED(add_server_file(dl->job, spec, dl->locals[i]))) return FALSE;
        dl->files[i] = get_job_file(dl->job, i);
        ok(dl->files[i] != NULL, "no file %u\n", i);
        if (!dl->files[i]) return FALSE;
        dl->count++;
    }
    return TRUE;
}

static void end_download(struct download *dl)
{
    unsigned int i;

    cancel_job(dl->job);
    for (i = 0; i < MAX_FILES; i++)
    {
        if (dl->files[i]) IBackgroundCopyFile_Release(dl->files[i]);
        CoTaskMemFree(dl->locals[i]);
    }
    remove_test_dir(dl->dir);
    memset(dl, 0, sizeof(*dl));
}

/* Resume, then wait for STATE; reports a failure when another state is reached. */
static BOOL run_download(struct download *dl, BG_JOB_STATE expected, int line)
{
    BG_ERROR_CONTEXT context = BG_ERROR_CONTEXT_NONE;
    HRESULT hr, code = S_OK;
    BG_JOB_STATE state;

    hr = IBackgroundCopyJob_Resume(dl->job);
    ok_(__FILE__, line)(hr == S_OK, "Resume: %#lx\n", hr);
    if (hr != S_OK) return FALSE;
    state = wait_for_state_seen(dl->job, expected, TRANSFER_TIMEOUT, NULL);
    if (state != expected) get_job_error(dl->job, &context, &code);
    ok_(__FILE__, line)(state == expected, "state %d, expected %d; error %#lx, context %d\n",
            state, expected, code, context);
    return state == expected;
}
#define run_download(dl, expected) run_download(dl, expected, __LINE__)

/* Resume, then wait until file INDEX is stalled by the server after STALL bytes. */
static BOOL run_until_stalled(struct download *dl, unsigned int index, UINT64 stall, int line)
{
    HRESULT hr;
    BOOL ret;

    hr = IBackgroundCopyJob_Resume(dl->job);
    ok_(__FILE__, line)(hr == S_OK, "Resume: %#lx\n", hr);
    if (hr != S_OK) return FALSE;
    ret = server_wait_stalled(dl->names[index], STALL_TIMEOUT);
    ok_(__FILE__, line)(ret, "file %u never stalled; state %d\n", index,
            get_job_state(dl->job));
    if (!ret) return FALSE;
    /* The bytes before the stall are on their way; progress shows them once written. */
    ret = wait_for_file_bytes(dl->job, index, stall, STALL_TIMEOUT);
    ok_(__FILE__, line)(ret, "file %u: the %s bytes before the stall never arrived\n", index,
            wine_dbgstr_longlong(stall));
    return ret;
}
#define run_until_stalled(dl, index, stall) run_until_stalled(dl, index, stall, __LINE__)

static BG_FILE_PROGRESS file_progress(struct download *dl, unsigned int index)
{
    BG_FILE_PROGRESS progress;
    HRESULT hr;

    memset(&progress, 0xcc, sizeof(progress));
    hr = IBackgroundCopyFile_GetProgress(dl->files[index], &progress);
    ok(hr == S_OK, "file %u: GetProgress: %#lx\n", index, hr);
    return progress;
}

static void check_saved(struct download *dl, unsigned int index, int line)
{
    ok_(__FILE__, line)(server_verify_file(dl->locals[index], dl->names[index], dl->sizes[index]),
            "file %u (%s) is not the server's file\n", index, wine_dbgstr_w(dl->locals[index]));
}
#define check_saved(dl, index) check_saved(dl, index, __LINE__)

static void check_absent(struct download *dl, unsigned int index, int line)
{
    ok_(__FILE__, line)(!file_exists(dl->locals[index]), "file %u (%s) exists\n", index,
            wine_dbgstr_w(dl->locals[index]));
}
#define check_absent(dl, index) check_absent(dl, index, __LINE__)

static void check_completed(struct download *dl, unsigned int index, BOOL expected, int line)
{
    BG_FILE_PROGRESS progress = file_progress(dl, index);

    ok_(__FILE__, line)(progress.Completed == expected, "file %u: Completed %d, expected %d\n",
            index, progress.Completed, expected);
}
#define check_completed(dl, index, expected) check_completed(dl, index, expected, __LINE__)

static void check_state_at(IBackgroundCopyJob *job, BG_JOB_STATE expected, int line)
{
    BG_JOB_STATE state = get_job_state(job);

    ok_(__FILE__, line)(state == expected, "state %d, expected %d\n", state, expected);
}
#define check_state(job, expected) check_state_at(job, expected, __LINE__)

/* The job left the queue: ACKNOWLEDGED, unknown to GetJob and EnumJobs (behaviour.md §3.1 7). */
static void check_removed(struct download *dl, int line)
{
    IBackgroundCopyJob *job = (IBackgroundCopyJob *)0xdeadbeef;
    HRESULT hr;

    check_state_at(dl->job, BG_JOB_STATE_ACKNOWLEDGED, line);
    hr = IBackgroundCopyManager_GetJob(test_manager, &dl->id, &job);
    ok_(__FILE__, line)(hr == BG_E_NOT_FOUND, "GetJob: %#lx\n", hr);
    if (SUCCEEDED(hr) && job) IBackgroundCopyJob_Release(job);
    ok_(__FILE__, line)(!job_is_listed(&dl->id), "EnumJobs still lists the job\n");
}
#define check_removed(dl) check_removed(dl, __LINE__)

/* The job is still in the queue, TRANSFERRED. */
static void check_still_queued(struct download *dl, int line)
{
    IBackgroundCopyJob *job = NULL;
    HRESULT hr;

    check_state_at(dl->job, BG_JOB_STATE_TRANSFERRED, line);
    hr = IBackgroundCopyManager_GetJob(test_manager, &dl->id, &job);
    ok_(__FILE__, line)(hr == S_OK && job, "GetJob: %#lx\n", hr);
    if (SUCCEEDED(hr) && job) IBackgroundCopyJob_Release(job);
    ok_(__FILE__, line)(job_is_listed(&dl->id), "EnumJobs does not list the job\n");
}
#define check_still_queued(dl) check_still_queued(dl, __LINE__)

/* S1: the job ends and its files are on disk. */
static void test_Complete_ends_job_and_saves_files(void)
{
    static const UINT64 sizes[] = { 5000 };
    struct download dl;
    HRESULT hr;

    if (begin_download(&dl, "complete-ends", 1, sizes, NULL) && run_download(&dl,
            BG_JOB_STATE_TRANSFERRED))
    {
        hr = IBackgroundCopyJob_Complete(dl.job);
        ok(hr == S_OK, "Complete: %#lx\n", hr);
        check_removed(&dl);
        check_saved(&dl, 0);
    }
    end_download(&dl);
}

/* S3, S9: Complete after a transfer of every file gives S_OK, exactly. */
static void test_Complete_S_OK_all_files_transferred(void)
{
    static const UINT64 sizes[] = { 1, 65536, 200000 };
    struct download dl;
    unsigned int i;
    HRESULT hr;

    if (begin_download(&dl, "complete-s-ok", 3, sizes, NULL)
            && run_download(&dl, BG_JOB_STATE_TRANSFERRED))
    {
        hr = IBackgroundCopyJob_Complete(dl.job);
        ok(hr == S_OK, "Complete: %#lx\n", hr);
        check_state(dl.job, BG_JOB_STATE_ACKNOWLEDGED);
        for (i = 0; i < dl.count; i++)
        {
            check_saved(&dl, i);
            check_completed(&dl, i, TRUE);
        }
        /* Nothing else is left in the directory: no temporary file. */
        ok(count_files(dl.dir, L"*") == dl.count, "files in the directory: %s\n",
                dir_listing(dl.dir));
    }
    end_download(&dl);
}

/* S2, S18-S21: a destination held open without sharing cannot be replaced.  Complete returns
 * the rename error and the job stays TRANSFERRED in the queue; the other files are there and
 * Completed; once the handle is closed, a second Complete finishes the job. */
static void test_Complete_rename_fails_destination_locked(void)
{
    static const UINT64 sizes[] = { 1000, 2000, 3000 };
    BG_FILE_PROGRESS progress;
    struct download dl;
    HANDLE locked = INVALID_HANDLE_VALUE;
    DWORD written;
    HRESULT hr;

    if (!begin_download(&dl, "complete-locked", 3, sizes, NULL)) goto done;
    if (!run_download(&dl, BG_JOB_STATE_TRANSFERRED)) goto done;
    /* Now the destination of the second file exists and is held open without any sharing. */
    locked = CreateFileW(dl.locals[1], GENERIC_READ | GENERIC_WRITE, 0, NULL, CREATE_ALWAYS,
            FILE_ATTRIBUTE_NORMAL, NULL);
    ok(locked != INVALID_HANDLE_VALUE, "cannot create %s: %lu\n", wine_dbgstr_w(dl.locals[1]),
            GetLastError());
    if (locked == INVALID_HANDLE_VALUE) goto done;
    WriteFile(locked, "locked\n", 7, &written, NULL);

    hr = IBackgroundCopyJob_Complete(dl.job);
    /* behaviour.md §3.1: the rename error itself; which one Windows gives for a destination
     * open without FILE_SHARE_DELETE is not documented, so both are accepted. */
    ok(hr == HRESULT_FROM_WIN32(ERROR_SHARING_VIOLATION)
            || hr == HRESULT_FROM_WIN32(ERROR_ACCESS_DENIED),
            "Complete with a locked destination: %#lx\n", hr);
    if (SUCCEEDED(hr)) goto done;
    check_still_queued(&dl);
    check_completed(&dl, 0, TRUE);
    check_saved(&dl, 0);
    check_completed(&dl, 1, FALSE);
    /* The files after the failed one: BITS renames all it can [inferred, behaviour.md §3.1
     * step 5]; Windows might stop at the first failure instead. */
    progress = file_progress(&dl, 2);
    ok(progress.Completed || broken(!progress.Completed), "file 2 not renamed\n");
    if (progress.Completed) check_saved(&dl, 2);
    else check_absent(&dl, 2);
    /* The locked file was not touched. */
    progress = file_progress(&dl, 1);
    ok(progress.BytesTransferred == 2000 && progress.BytesTotal == 2000,
            "file 1 progress %s of %s\n", wine_dbgstr_longlong(progress.BytesTransferred),
            wine_dbgstr_longlong(progress.BytesTotal));

    /* Fixed: Complete again, and every file is there, the locked one replaced. */
    CloseHandle(locked);
    locked = INVALID_HANDLE_VALUE;
    hr = IBackgroundCopyJob_Complete(dl.job);
    ok(hr == S_OK, "second Complete: %#lx\n", hr);
    check_removed(&dl);
    check_saved(&dl, 0);
    check_saved(&dl, 1);
    check_saved(&dl, 2);
    check_completed(&dl, 1, TRUE);
    check_completed(&dl, 2, TRUE);
    ok(count_files(dl.dir, L"*") == 3, "files in the directory: %s\n", dir_listing(dl.dir));

done:
    if (locked != INVALID_HANDLE_VALUE) CloseHandle(locked);
    end_download(&dl);
}

/* S18-S21 with the destination directory gone: the temporary file went with it, so the
 * rename fails until the directory is back. */
static void test_Complete_rename_fails_directory_removed(void)
{
    static const UINT64 sizes[] = { 1500, 2500 };
    WCHAR *sub_a = NULL, *sub_b = NULL, *moved = NULL, *path;
    struct download dl;
    unsigned int i;
    WCHAR spec_w[32];
    char spec[128];
    HRESULT hr;

    memset(&dl, 0, sizeof(dl));
    if (!server_start())
    {
        skip("the test server does not start\n");
        return;
    }
    /* Two files in two directories of their own: dir\a\ and dir\b\. */
    dl.dir = make_test_dir(L"complete-dir-removed");
    dl.job = create_transfer_job(L"complete-dir-removed", &dl.id);
    if (!dl.dir || !dl.job) goto done;
    sub_a = dir_file(dl.dir, L"a\\");
    sub_b = dir_file(dl.dir, L"b\\");
    moved = dir_file(dl.dir, L"b-moved");
    CreateDirectoryW(sub_a, NULL);
    CreateDirectoryW(sub_b, NULL);
    for (i = 0; i < 2; i++)
    {
        snprintf(dl.names[i], sizeof(dl.names[i]), "complete-dir-removed-%u", i);
        dl.sizes[i] = sizes[i];
        snprintf(spec, sizeof(spec), "%s?size=%llu", dl.names[i],
                (unsigned long long)sizes[i]);
        swprintf(spec_w, ARRAY_SIZE(spec_w), L"file%u.bin", i);
        dl.locals[i] = dir_file(i ? sub_b : sub_a, spec_w);
        if (FAILED(add_server_file(dl.job, spec, dl.locals[i]))) goto done;
        dl.files[i] = get_job_file(dl.job, i);
        if (!dl.files[i]) goto done;
        dl.count++;
    }
    if (!run_download(&dl, BG_JOB_STATE_TRANSFERRED)) goto done;

    /* Move dir\b away (the temporary file inside goes with it); Windows refuses while the
     * service still has a file in it open. */
    path = CoTaskMemAlloc((wcslen(sub_b) + 1) * sizeof(WCHAR));
    wcscpy(path, sub_b);
    path[wcslen(path) - 1] = 0;
    if (!MoveFileW(path, moved))
    {
        skip("cannot move %s away: error %lu\n", wine_dbgstr_w(path), GetLastError());
        CoTaskMemFree(path);
        goto done;
    }
    hr = IBackgroundCopyJob_Complete(dl.job);
    ok(hr == HRESULT_FROM_WIN32(ERROR_PATH_NOT_FOUND)
            || hr == HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND),
            "Complete without the directory: %#lx\n", hr);
    if (SUCCEEDED(hr))
    {
        MoveFileW(moved, path);
        CoTaskMemFree(path);
        goto done;
    }
    check_still_queued(&dl);
    check_completed(&dl, 0, TRUE);
    check_saved(&dl, 0);
    check_completed(&dl, 1, FALSE);

    ok(MoveFileW(moved, path), "cannot move the directory back: %lu\n", GetLastError());
    CoTaskMemFree(path);
    hr = IBackgroundCopyJob_Complete(dl.job);
    ok(hr == S_OK, "Complete with the directory back: %#lx\n", hr);
    check_removed(&dl);
    check_saved(&dl, 0);
    check_saved(&dl, 1);
    check_completed(&dl, 1, TRUE);

done:
    CoTaskMemFree(sub_a);
    CoTaskMemFree(sub_b);
    CoTaskMemFree(moved);
    end_download(&dl);
}

/* S18-S21 ending with Cancel (S20): a read-only destination cannot be replaced; Cancel then
 * ends the job, keeps the file already renamed and deletes the temporary one. */
static void test_Complete_rename_fails_read_only_destination(void)
{
    static const UINT64 sizes[] = { 1200, 3400 };
    struct download dl;
    HRESULT hr;

    if (!begin_download(&dl, "complete-read-only", 2, sizes, NULL)) goto done;
    if (!run_download(&dl, BG_JOB_STATE_TRANSFERRED)) goto done;
    /* Now a read-only file takes the second destination. */
    ok(write_test_file(dl.locals[1], "read-only\n"), "cannot create %s\n",
            wine_dbgstr_w(dl.locals[1]));
    SetFileAttributesW(dl.locals[1], FILE_ATTRIBUTE_READONLY);

    hr = IBackgroundCopyJob_Complete(dl.job);
    ok(hr == HRESULT_FROM_WIN32(ERROR_ACCESS_DENIED), "Complete onto a read-only file: %#lx\n",
            hr);
    if (SUCCEEDED(hr)) goto done;     /* the job is gone: nothing more to see */
    check_still_queued(&dl);
    check_completed(&dl, 0, TRUE);
    check_saved(&dl, 0);
    check_completed(&dl, 1, FALSE);
    ok(GetFileAttributesW(dl.locals[1]) & FILE_ATTRIBUTE_READONLY,
            "the destination is no longer read-only\n");

    hr = IBackgroundCopyJob_Cancel(dl.job);
    ok(hr == S_OK, "Cancel: %#lx\n", hr);
    check_state(dl.job, BG_JOB_STATE_CANCELLED);
    /* The renamed file belongs to the user now [inferred, behaviour.md §3.2]. */
    check_saved(&dl, 0);
    ok(count_files(dl.dir, L"*") == 2, "files in the directory: %s, expected the two "
            "destinations only\n", dir_listing(dl.dir));

done:
    end_download(&dl);
}

/* S4, S23, S24: five files, the third one stalled by the server: Complete keeps the first
 * two, drops the rest and says BG_S_PARTIAL_COMPLETE. */
static void test_Complete_partial_third_of_five(void)
{
    static const UINT64 sizes[] = { 2000, 3000, 100000, 4000, 5000 };
    static const char *const options[] = { NULL, NULL, "stall=40000", NULL, NULL };
    struct stall_guard *guard;
    BG_FILE_PROGRESS progress;
    struct download dl;
    unsigned int i;
    HRESULT hr;

    if (!begin_download(&dl, "complete-third-of-five", 5, sizes, options)) goto done;
    if (!run_until_stalled(&dl, 2, 40000)) goto done;
    check_state(dl.job, BG_JOB_STATE_TRANSFERRING);
    for (i = 0; i < 2; i++)
    {
        progress = file_progress(&dl, i);
        ok(progress.BytesTransferred == sizes[i] && progress.BytesTotal == sizes[i],
                "file %u: %s of %s bytes\n", i, wine_dbgstr_longlong(progress.BytesTransferred),
                wine_dbgstr_longlong(progress.BytesTotal));
    }
    /* Not available before Complete, even the finished ones. */
    for (i = 0; i < dl.count; i++) check_absent(&dl, i);

    /* Gap G26: Complete returns without waiting for the file in flight. */
    guard = stall_guard_begin(dl.names[2], GUARD_TIMEOUT);
    hr = IBackgroundCopyJob_Complete(dl.job);
    stall_guard_end(guard);
    ok(hr == BG_S_PARTIAL_COMPLETE, "Complete during the third file: %#lx\n", hr);
    check_removed(&dl);
    check_saved(&dl, 0);
    check_saved(&dl, 1);
    check_absent(&dl, 2);
    check_absent(&dl, 3);
    check_absent(&dl, 4);
    for (i = 0; i < dl.count; i++) check_completed(&dl, i, i < 2);
    ok(count_files(dl.dir, L"*") == 2, "files in the directory: %s\n", dir_listing(dl.dir));
    ok(!count_files(dl.dir, L"BIT*.tmp"), "temporary files left\n");
    /* The files after the third one were never asked for: files go one after the other. */
    ok(!server_log_count("/file/complete-third-of-five-3")
            && !server_log_count("/file/complete-third-of-five-4"),
            "the fourth or fifth file was requested\n");

done:
    server_release("complete-third-of-five-2");
    end_download(&dl);
}

/* S5: the temporary file of the unfinished file is held open without FILE_SHARE_DELETE, so
 * Complete cannot delete it; the job is completed all the same. */
static void test_Complete_unable_to_delete_files(void)
{
    static const UINT64 sizes[] = { 3000, 50000 };
    static const char *const options[] = { NULL, "stall=20000" };
    HANDLE temp_file = INVALID_HANDLE_VALUE;
    struct stall_guard *guard;
    struct download dl;
    WCHAR *temp = NULL;
    char buffer[4096];
    DWORD read = 0;
    HRESULT hr;

    if (!begin_download(&dl, "complete-undeletable", 2, sizes, options)) goto done;
    if (!run_until_stalled(&dl, 1, 20000)) goto done;
    temp = get_temporary_name(dl.job, 1);
    ok(temp != NULL, "no temporary name for the file in flight\n");
    if (!temp) goto done;
    /* Readers may open the temporary file with FILE_SHARE_WRITE while it downloads
     * (behaviour.md §10); without FILE_SHARE_DELETE nobody can delete it meanwhile. */
    temp_file = CreateFileW(temp, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL,
            OPEN_EXISTING, 0, NULL);
    ok(temp_file != INVALID_HANDLE_VALUE, "cannot open %s: %lu\n", wine_dbgstr_w(temp),
            GetLastError());
    if (temp_file == INVALID_HANDLE_VALUE) goto done;
    /* It holds what was received so far. */
    ok(ReadFile(temp_file, buffer, sizeof(buffer), &read, NULL) && read == sizeof(buffer)
            && server_compare(dl.names[1], 0, 0, buffer, read),
            "the temporary file does not start with the server's bytes (%lu read)\n", read);

    guard = stall_guard_begin(dl.names[1], GUARD_TIMEOUT);
    hr = IBackgroundCopyJob_Complete(dl.job);
    stall_guard_end(guard);
    /* Gap G23: both BG_S_PARTIAL_COMPLETE and this code apply.  We return the one that tells
     * about something left on disk, which the caller cannot learn otherwise (the partial
     * completion shows in BG_FILE_PROGRESS.Completed); Windows may prefer the other. */
    ok(hr == BG_S_UNABLE_TO_DELETE_FILES || broken(hr == BG_S_PARTIAL_COMPLETE),
            "Complete with an undeletable temporary file: %#lx\n", hr);
    check_removed(&dl);
    check_saved(&dl, 0);
    check_absent(&dl, 1);
    ok(file_exists(temp), "the temporary file was deleted after all\n");

done:
    if (temp_file != INVALID_HANDLE_VALUE) CloseHandle(temp_file);
    server_release("complete-undeletable-1");
    CoTaskMemFree(temp);
    end_download(&dl);
}

/* S6: not after Cancel. */
static void test_Complete_after_Cancel(void)
{
    static const UINT64 sizes[] = { 700 };
    struct download dl;
    HRESULT hr;

    if (begin_download(&dl, "complete-after-cancel", 1, sizes, NULL)
            && run_download(&dl, BG_JOB_STATE_TRANSFERRED))
    {
        hr = IBackgroundCopyJob_Cancel(dl.job);
        ok(hr == S_OK, "Cancel: %#lx\n", hr);
        hr = IBackgroundCopyJob_Complete(dl.job);
        ok(hr == BG_E_INVALID_STATE, "Complete after Cancel: %#lx\n", hr);
        check_state(dl.job, BG_JOB_STATE_CANCELLED);
        check_absent(&dl, 0);
    }
    end_download(&dl);
}

/* S6: not twice (ACKNOWLEDGED) [test]. */
static void test_Complete_twice(void)
{
    static const UINT64 sizes[] = { 900 };
    struct download dl;
    HRESULT hr;

    if (begin_download(&dl, "complete-twice", 1, sizes, NULL)
            && run_download(&dl, BG_JOB_STATE_TRANSFERRED))
    {
        hr = IBackgroundCopyJob_Complete(dl.job);
        ok(hr == S_OK, "Complete: %#lx\n", hr);
        hr = IBackgroundCopyJob_Complete(dl.job);
        ok(hr == BG_E_INVALID_STATE, "second Complete: %#lx\n", hr);
        hr = IBackgroundCopyJob_Cancel(dl.job);
        ok(hr == BG_E_INVALID_STATE, "Cancel after Complete: %#lx\n", hr);
        check_state(dl.job, BG_JOB_STATE_ACKNOWLEDGED);
        check_saved(&dl, 0);
    }
    end_download(&dl);
}

/* S7: a new upload job is SUSPENDED, not TRANSFERRED. */
static void test_Complete_upload_not_transferred(void)
{
    static const BG_JOB_TYPE types[] = { BG_JOB_TYPE_UPLOAD, BG_JOB_TYPE_UPLOAD_REPLY };
    IBackgroundCopyJob *job;
    WCHAR *source;
    unsigned int i;
    GUID id;
    HRESULT hr;

    source = temp_path(L"complete-upload-source.txt");
    ok(write_test_file(source, "upload\n"), "cannot create %s\n", wine_dbgstr_w(source));
    for (i = 0; i < ARRAY_SIZE(types); i++)
    {
        winetest_push_context("type %d", types[i]);
        job = create_job(L"complete-upload", types[i], &id);
        if (job)
        {
            /* Without a file, and with one. */
            hr = IBackgroundCopyJob_Complete(job);
            ok(hr == BG_E_INVALID_STATE, "Complete on an empty upload job: %#lx\n", hr);
            hr = IBackgroundCopyJob_AddFile(job, L"http://example.invalid/upload", source);
            ok(hr == S_OK, "AddFile: %#lx\n", hr);
            hr = IBackgroundCopyJob_Complete(job);
            ok(hr == BG_E_INVALID_STATE, "Complete on a SUSPENDED upload job: %#lx\n", hr);
            check_state(job, BG_JOB_STATE_SUSPENDED);
            ok(job_is_listed(&id), "the job left the queue\n");
            cancel_job(job);
        }
        winetest_pop_context();
    }
    DeleteFileW(source);
    CoTaskMemFree(source);
}

/* S26: not in the states an upload goes through before TRANSFERRED. */
static void test_Complete_upload_only_when_TRANSFERRED(void)
{
    IBackgroundCopyJob *job;
    WCHAR *source, *url;
    BG_JOB_STATE state;
    DWORD seen = 0;
    HRESULT hr;
    GUID id;

    if (!server_start())
    {
        skip("the test server does not start\n");
        return;
    }
    source = temp_path(L"complete-upload-running.txt");
    ok(write_test_file(source, "upload that cannot end\n"), "cannot create %s\n",
            wine_dbgstr_w(source));
    /* The test server is no BITS upload server: it refuses the upload (405). */
    url = server_file_url("complete-upload-running?size=10");
    job = create_job(L"complete-upload-running", BG_JOB_TYPE_UPLOAD, &id);
    if (job && url)
    {
        hr = IBackgroundCopyJob_AddFile(job, url, source);
        ok(hr == S_OK, "AddFile: %#lx\n", hr);
        hr = IBackgroundCopyJob_Resume(job);
        ok(hr == S_OK, "Resume: %#lx\n", hr);
        /* Complete in whatever state it is in first, then once it settled. */
        state = get_job_state(job);
        hr = IBackgroundCopyJob_Complete(job);
        ok(hr == BG_E_INVALID_STATE, "Complete in state %d: %#lx\n", state, hr);
        state = wait_for_state_seen(job, BG_JOB_STATE_ERROR, TRANSFER_TIMEOUT, &seen);
        ok(state != BG_JOB_STATE_TRANSFERRED && !(seen & (1u << BG_JOB_STATE_TRANSFERRED)),
                "an upload to a server that refuses it TRANSFERRED\n");
        hr = IBackgroundCopyJob_Complete(job);
        ok(hr == BG_E_INVALID_STATE, "Complete in state %d: %#lx\n", state, hr);
        ok(get_job_state(job) != BG_JOB_STATE_ACKNOWLEDGED, "the job was acknowledged\n");
        ok(job_is_listed(&id), "the job left the queue\n");
    }
    cancel_job(job);
    CoTaskMemFree(url);
    DeleteFileW(source);
    CoTaskMemFree(source);
}

/* S8: TRANSFERRED, every byte in, and still no destination file. */
static void test_Complete_files_not_available_before_Complete(void)
{
    static const UINT64 sizes[] = { 4096, 10000 };
    BG_FILE_PROGRESS progress;
    struct download dl;
    unsigned int i;
    HRESULT hr;

    if (begin_download(&dl, "complete-not-available", 2, sizes, NULL)
            && run_download(&dl, BG_JOB_STATE_TRANSFERRED))
    {
        for (i = 0; i < dl.count; i++)
        {
            winetest_push_context("file %u", i);
            check_absent(&dl, i);
            /* Every byte is in, but the file is not the user's yet [doc][test]. */
            progress = file_progress(&dl, i);
            ok(progress.BytesTransferred == sizes[i] && progress.BytesTotal == sizes[i],
                    "%s of %s bytes\n", wine_dbgstr_longlong(progress.BytesTransferred),
                    wine_dbgstr_longlong(progress.BytesTotal));
            ok(!progress.Completed, "Completed before Complete\n");
            winetest_pop_context();
        }
        hr = IBackgroundCopyJob_Complete(dl.job);
        ok(hr == S_OK, "Complete: %#lx\n", hr);
        for (i = 0; i < dl.count; i++)
        {
            check_saved(&dl, i);
            check_completed(&dl, i, TRUE);
        }
    }
    end_download(&dl);
}

static BOOL get_file_id(const WCHAR *path, BY_HANDLE_FILE_INFORMATION *info)
{
    HANDLE file;
    BOOL ret;

    file = CreateFileW(path, FILE_READ_ATTRIBUTES,
            FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL, OPEN_EXISTING, 0, NULL);
    if (file == INVALID_HANDLE_VALUE) return FALSE;
    ret = GetFileInformationByHandle(file, info);
    CloseHandle(file);
    return ret;
}

/* S10: the destination is the temporary file renamed, and the job is gone. */
static void test_Complete_renames_and_removes_job(void)
{
    static const UINT64 sizes[] = { 30000 };
    BY_HANDLE_FILE_INFORMATION before, after;
    struct download dl;
    WCHAR *temp = NULL;
    BOOL have_id;
    HRESULT hr;

    if (begin_download(&dl, "complete-renames", 1, sizes, NULL)
            && run_download(&dl, BG_JOB_STATE_TRANSFERRED))
    {
        ok(job_is_listed(&dl.id), "the TRANSFERRED job is not listed\n");
        temp = get_temporary_name(dl.job, 0);
        ok(temp && file_exists(temp), "temporary file %s\n", wine_dbgstr_w(temp));
        have_id = temp && get_file_id(temp, &before);
        hr = IBackgroundCopyJob_Complete(dl.job);
        ok(hr == S_OK, "Complete: %#lx\n", hr);
        check_removed(&dl);
        check_saved(&dl, 0);
        ok(!file_exists(temp), "the temporary file is still there\n");
        /* The destination is the temporary file under its new name, not a copy. */
        if (have_id)
        {
            ok(get_file_id(dl.locals[0], &after), "no destination\n");
            ok(after.dwVolumeSerialNumber == before.dwVolumeSerialNumber
                    && after.nFileIndexHigh == before.nFileIndexHigh
                    && after.nFileIndexLow == before.nFileIndexLow,
                    "the destination is another file than the temporary one\n");
        }
    }
    CoTaskMemFree(temp);
    end_download(&dl);
}

/* S11, read as: the network part of a download is its transfer; Complete only renames what is
 * already on disk [inferred], so it works with the server gone.  The upload half needs a BITS
 * upload server, which the test server is not: the upload tests check it. */
static void test_Complete_download_needs_no_server(void)
{
    static const UINT64 sizes[] = { 6000, 7000 };
    struct download dl;
    HRESULT hr;

    if (begin_download(&dl, "complete-no-server", 2, sizes, NULL)
            && run_download(&dl, BG_JOB_STATE_TRANSFERRED))
    {
        server_stop();
        hr = IBackgroundCopyJob_Complete(dl.job);
        ok(hr == S_OK, "Complete without the server: %#lx\n", hr);
        check_removed(&dl);
        check_saved(&dl, 0);
        check_saved(&dl, 1);
        ok(server_start(), "the test server does not start again\n");
    }
    end_download(&dl);
}

/* S12, S13: when GetState says TRANSFERRED, every file has all its bytes. */
static void test_Complete_TRANSFERRED_means_all_files(void)
{
    static const UINT64 sizes[] = { 100, 20000, 3 };
    BG_FILE_PROGRESS progress;
    BG_JOB_PROGRESS job_progress;
    struct download dl;
    unsigned int i;
    HRESULT hr;

    if (begin_download(&dl, "complete-transferred-all", 3, sizes, NULL)
            && run_download(&dl, BG_JOB_STATE_TRANSFERRED))
    {
        memset(&job_progress, 0xcc, sizeof(job_progress));
        hr = IBackgroundCopyJob_GetProgress(dl.job, &job_progress);
        ok(hr == S_OK, "GetProgress: %#lx\n", hr);
        ok(job_progress.FilesTotal == 3 && job_progress.FilesTransferred == 3,
                "%lu of %lu files\n", job_progress.FilesTransferred, job_progress.FilesTotal);
        ok(job_progress.BytesTotal == 20103 && job_progress.BytesTransferred == 20103,
                "%s of %s bytes\n", wine_dbgstr_longlong(job_progress.BytesTransferred),
                wine_dbgstr_longlong(job_progress.BytesTotal));
        for (i = 0; i < dl.count; i++)
        {
            progress = file_progress(&dl, i);
            ok(progress.BytesTransferred == sizes[i] && progress.BytesTotal == sizes[i],
                    "file %u: %s of %s bytes\n", i,
                    wine_dbgstr_longlong(progress.BytesTransferred),
                    wine_dbgstr_longlong(progress.BytesTotal));
        }
        hr = IBackgroundCopyJob_Complete(dl.job);
        ok(hr == S_OK, "Complete: %#lx\n", hr);
    }
    end_download(&dl);
}

/* S14: JobTransferred comes when the job is TRANSFERRED, and Complete follows. */
static void test_Complete_JobTransferred_notification(void)
{
    static const UINT64 sizes[] = { 8000, 9000 };
    struct test_callback *callback;
    struct callback_call call;
    struct download dl;
    HRESULT hr;

    callback = test_callback_create();
    ok(callback != NULL, "no callback object\n");
    if (!callback) return;
    if (!begin_download(&dl, "complete-notified", 2, sizes, NULL)) goto done;
    hr = IBackgroundCopyJob_SetNotifyInterface(dl.job, test_callback_unknown(callback));
    ok(hr == S_OK, "SetNotifyInterface: %#lx\n", hr);
    hr = IBackgroundCopyJob_Resume(dl.job);
    ok(hr == S_OK, "Resume: %#lx\n", hr);
    ok(test_callback_wait(callback, CALLBACK_JOB_TRANSFERRED, 1, TRANSFER_TIMEOUT),
            "no JobTransferred; state %d\n", get_job_state(dl.job));
    if (test_callback_find_call(callback, CALLBACK_JOB_TRANSFERRED, 0, &call))
    {
        ok(IsEqualGUID(&call.job_id, &dl.id), "JobTransferred for job %s\n",
                wine_dbgstr_guid(&call.job_id));
        ok(call.state == BG_JOB_STATE_TRANSFERRED, "state %d during JobTransferred\n",
                call.state);
        hr = IBackgroundCopyJob_Complete(dl.job);
        ok(hr == S_OK, "Complete: %#lx\n", hr);
        check_saved(&dl, 0);
        check_saved(&dl, 1);
    }
    ok(!test_callback_count(callback, CALLBACK_JOB_ERROR), "JobError called\n");

done:
    end_download(&dl);
    test_callback_release(callback);
}

/* The client-visible half of S16: a TRANSFERRED job that is cancelled instead of completed
 * leaves nothing on disk. */
static void test_Cancel_instead_of_Complete_discards_files(void)
{
    static const UINT64 sizes[] = { 2222, 3333 };
    struct download dl;
    HRESULT hr;

    if (begin_download(&dl, "complete-cancelled-instead", 2, sizes, NULL)
            && run_download(&dl, BG_JOB_STATE_TRANSFERRED))
    {
        hr = IBackgroundCopyJob_Cancel(dl.job);
        ok(hr == S_OK, "Cancel: %#lx\n", hr);
        check_absent(&dl, 0);
        check_absent(&dl, 1);
        ok(!count_files(dl.dir, L"*"), "files left in the directory: %s\n",
                dir_listing(dl.dir));
    }
    end_download(&dl);
}

/* S17: after S_OK and after BG_S_PARTIAL_COMPLETE, GetJob and EnumJobs no longer know the
 * job. */
static void test_Complete_removes_job_on_S_OK_and_partial(void)
{
    static const UINT64 sizes[] = { 1234, 10 };
    static const char *const missing[] = { NULL, "status=404" };
    struct download dl;
    HRESULT hr;

    if (begin_download(&dl, "complete-removed-s-ok", 1, sizes, NULL)
            && run_download(&dl, BG_JOB_STATE_TRANSFERRED))
    {
        hr = IBackgroundCopyJob_Complete(dl.job);
        ok(hr == S_OK, "Complete: %#lx\n", hr);
        check_removed(&dl);
    }
    end_download(&dl);

    /* The second file is missing on the server: the job stops in ERROR after the first. */
    if (begin_download(&dl, "complete-removed-partial", 2, sizes, missing)
            && run_download(&dl, BG_JOB_STATE_ERROR))
    {
        hr = IBackgroundCopyJob_Complete(dl.job);
        ok(hr == BG_S_PARTIAL_COMPLETE, "Complete: %#lx\n", hr);
        check_removed(&dl);
        check_saved(&dl, 0);
        check_absent(&dl, 1);
    }
    end_download(&dl);
}

/* S22: in every state a download goes through. */
static void test_Complete_during_transfer_any_time(void)
{
    static const UINT64 one[] = { 60000 };
    static const char *const stall[] = { "stall=1000" };
    static const char *const slow[] = { "slow=20000" };
    static const char *const missing[] = { "status=404" };
    static const char *const failing[] = { "status=503" };
    struct stall_guard *guard;
    IBackgroundCopyJob *job;
    struct download dl;
    BOOL exists;
    HRESULT hr;

    /* Gap G13: no file finished, so "a subset" (none) is kept [inferred]; Windows might say
     * S_OK as there was nothing to keep. */

    /* SUSPENDED, never resumed. */
    if (begin_download(&dl, "complete-anytime-suspended", 1, one, NULL))
    {
        hr = IBackgroundCopyJob_Complete(dl.job);
        ok(hr == BG_S_PARTIAL_COMPLETE || broken(hr == S_OK), "Complete SUSPENDED: %#lx\n", hr);
        check_removed(&dl);
        check_absent(&dl, 0);
    }
    end_download(&dl);

    /* Right after Resume, while it starts and goes slowly: whatever Complete returns, the file
     * exists exactly when it says S_OK. */
    if (begin_download(&dl, "complete-anytime-starting", 1, one, slow))
    {
        hr = IBackgroundCopyJob_Resume(dl.job);
        ok(hr == S_OK, "Resume: %#lx\n", hr);
        hr = IBackgroundCopyJob_Complete(dl.job);
        ok(hr == BG_S_PARTIAL_COMPLETE || hr == S_OK, "Complete while starting: %#lx\n", hr);
        check_removed(&dl);
        exists = file_exists(dl.locals[0]);
        ok(exists == (hr == S_OK), "Complete returned %#lx, the file exists: %d\n", hr, exists);
        if (exists) check_saved(&dl, 0);
        ok(count_files(dl.dir, L"*") == (exists ? 1u : 0u), "files in the directory: %s\n",
                dir_listing(dl.dir));
    }
    end_download(&dl);

    /* TRANSFERRING, the file in flight. */
    if (begin_download(&dl, "complete-anytime-transferring", 1, one, stall)
            && run_until_stalled(&dl, 0, 1000))
    {
        check_state(dl.job, BG_JOB_STATE_TRANSFERRING);
        guard = stall_guard_begin(dl.names[0], GUARD_TIMEOUT);
        hr = IBackgroundCopyJob_Complete(dl.job);
        stall_guard_end(guard);
        ok(hr == BG_S_PARTIAL_COMPLETE || broken(hr == S_OK), "Complete TRANSFERRING: %#lx\n",
                hr);
        check_removed(&dl);
        check_absent(&dl, 0);
        ok(!count_files(dl.dir, L"*"), "files in the directory: %s\n", dir_listing(dl.dir));
    }
    server_release("complete-anytime-transferring-0");
    end_download(&dl);

    /* ERROR: only CANCELLED and ACKNOWLEDGED refuse Complete. */
    if (begin_download(&dl, "complete-anytime-error", 1, one, missing)
            && run_download(&dl, BG_JOB_STATE_ERROR))
    {
        hr = IBackgroundCopyJob_Complete(dl.job);
        ok(hr == BG_S_PARTIAL_COMPLETE || broken(hr == S_OK), "Complete in ERROR: %#lx\n", hr);
        check_removed(&dl);
        check_absent(&dl, 0);
    }
    end_download(&dl);

    /* TRANSIENT_ERROR: 503 is retried later (after the default 600 s). */
    if (begin_download(&dl, "complete-anytime-transient", 1, one, failing)
            && run_download(&dl, BG_JOB_STATE_TRANSIENT_ERROR))
    {
        hr = IBackgroundCopyJob_Complete(dl.job);
        ok(hr == BG_S_PARTIAL_COMPLETE || broken(hr == S_OK),
                "Complete in TRANSIENT_ERROR: %#lx\n", hr);
        check_removed(&dl);
        check_absent(&dl, 0);
    }
    end_download(&dl);

    /* Gap G12: a job without files has nothing missing [inferred S_OK]. */
    job = create_job(L"complete-anytime-empty", BG_JOB_TYPE_DOWNLOAD, NULL);
    if (job)
    {
        hr = IBackgroundCopyJob_Complete(job);
        ok(hr == S_OK, "Complete on an empty job: %#lx\n", hr);
        check_state(job, BG_JOB_STATE_ACKNOWLEDGED);
        cancel_job(job);
    }
}

/* S25: the files whose BytesTransferred equalled BytesTotal before Complete are exactly the
 * files kept. */
static void test_Complete_file_progress_tells_transferred(void)
{
    static const UINT64 sizes[] = { 4000, 50000, 6000 };
    static const char *const options[] = { NULL, "stall=10000", NULL };
    BG_FILE_PROGRESS before[3];
    struct stall_guard *guard;
    struct download dl;
    unsigned int i;
    BOOL finished;
    HRESULT hr;

    if (!begin_download(&dl, "complete-progress-tells", 3, sizes, options)) goto done;
    if (!run_until_stalled(&dl, 1, 10000)) goto done;
    for (i = 0; i < dl.count; i++) before[i] = file_progress(&dl, i);
    /* Done, in flight with its size known, not started with its size unknown (§7.3). */
    ok(before[0].BytesTransferred == 4000 && before[0].BytesTotal == 4000,
            "file 0: %s of %s bytes\n", wine_dbgstr_longlong(before[0].BytesTransferred),
            wine_dbgstr_longlong(before[0].BytesTotal));
    ok(before[1].BytesTransferred == 10000 && before[1].BytesTotal == 50000,
            "file 1: %s of %s bytes\n", wine_dbgstr_longlong(before[1].BytesTransferred),
            wine_dbgstr_longlong(before[1].BytesTotal));
    ok(before[2].BytesTransferred == 0 && before[2].BytesTotal == BG_SIZE_UNKNOWN,
            "file 2: %s of %s bytes\n", wine_dbgstr_longlong(before[2].BytesTransferred),
            wine_dbgstr_longlong(before[2].BytesTotal));

    guard = stall_guard_begin(dl.names[1], GUARD_TIMEOUT);
    hr = IBackgroundCopyJob_Complete(dl.job);
    stall_guard_end(guard);
    ok(hr == BG_S_PARTIAL_COMPLETE, "Complete: %#lx\n", hr);
    for (i = 0; i < dl.count; i++)
    {
        winetest_push_context("file %u", i);
        finished = before[i].BytesTotal != BG_SIZE_UNKNOWN
                && before[i].BytesTransferred == before[i].BytesTotal;
        ok(file_exists(dl.locals[i]) == finished, "saved %d, had %s of %s bytes\n",
                file_exists(dl.locals[i]), wine_dbgstr_longlong(before[i].BytesTransferred),
                wine_dbgstr_longlong(before[i].BytesTotal));
        if (finished) check_saved(&dl, i);
        check_completed(&dl, i, finished);
        winetest_pop_context();
    }

done:
    server_release("complete-progress-tells-1");
    end_download(&dl);
}

/* S27, S28: after Complete the file is the client's alone: no handle of the service keeps it,
 * and it can be read and checked. */
static void test_Complete_client_can_check_integrity(void)
{
    static const UINT64 sizes[] = { 12345 };
    struct download dl;
    HANDLE file;
    HRESULT hr;

    if (begin_download(&dl, "complete-integrity", 1, sizes, NULL)
            && run_download(&dl, BG_JOB_STATE_TRANSFERRED))
    {
        hr = IBackgroundCopyJob_Complete(dl.job);
        ok(hr == S_OK, "Complete: %#lx\n", hr);
        /* The service keeps no handle: the client can open it exclusively, and even change
         * or delete it. */
        file = CreateFileW(dl.locals[0], GENERIC_READ | GENERIC_WRITE | DELETE, 0, NULL,
                OPEN_EXISTING, 0, NULL);
        ok(file != INVALID_HANDLE_VALUE, "cannot open %s exclusively: %lu\n",
                wine_dbgstr_w(dl.locals[0]), GetLastError());
        if (file != INVALID_HANDLE_VALUE) CloseHandle(file);
        check_saved(&dl, 0);
    }
    end_download(&dl);
}

static WCHAR *token_sid_string(TOKEN_INFORMATION_CLASS class)
{
    BYTE buffer[512];
    WCHAR *str = NULL;
    HANDLE token;
    DWORD size;
    PSID sid;

    if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token)) return NULL;
    if (GetTokenInformation(token, class, buffer, sizeof(buffer), &size))
    {
        sid = class == TokenUser ? ((TOKEN_USER *)buffer)->User.Sid
                : ((TOKEN_OWNER *)buffer)->Owner;
        if (!ConvertSidToStringSidW(sid, &str)) str = NULL;
    }
    CloseHandle(token);
    return str;
}

static WCHAR *file_owner_string(const WCHAR *path)
{
    BYTE buffer[4096];
    WCHAR *str = NULL;
    BOOL defaulted;
    DWORD size;
    PSID owner;

    if (!GetFileSecurityW(path, OWNER_SECURITY_INFORMATION, (PSECURITY_DESCRIPTOR)buffer,
            sizeof(buffer), &size))
        return NULL;
    if (!GetSecurityDescriptorOwner((PSECURITY_DESCRIPTOR)buffer, &owner, &defaulted) || !owner)
        return NULL;
    if (!ConvertSidToStringSidW(owner, &str)) str = NULL;
    return str;
}

/* S29: the owner of the file is the caller.  Here the caller also owns the job; the case of an
 * administrator completing another user's job needs a second account (a Wine-only test).  S30
 * (BITS 1.2) is not what we implement (behaviour.md §3.1). */
static void test_Complete_owner_is_caller(void)
{
    static const UINT64 sizes[] = { 4321 };
    WCHAR *user, *token_owner, *owner = NULL;
    struct download dl;
    HRESULT hr;

    user = token_sid_string(TokenUser);
    token_owner = token_sid_string(TokenOwner);
    ok(user != NULL, "no user SID\n");
    if (begin_download(&dl, "complete-owner", 1, sizes, NULL)
            && run_download(&dl, BG_JOB_STATE_TRANSFERRED))
    {
        hr = IBackgroundCopyJob_Complete(dl.job);
        ok(hr == S_OK, "Complete: %#lx\n", hr);
        owner = file_owner_string(dl.locals[0]);
        ok(owner != NULL, "cannot read the owner of %s: %lu\n", wine_dbgstr_w(dl.locals[0]),
                GetLastError());
        /* The caller's user; an elevated administrator's files belong to the owner of the
         * token by default (BUILTIN\Administrators), which is the caller as well. */
        ok(str_equal(owner, user) || str_equal(owner, token_owner),
                "owner %s, caller %s (token owner %s)\n", wine_dbgstr_w(owner),
                wine_dbgstr_w(user), wine_dbgstr_w(token_owner));
    }
    end_download(&dl);
    LocalFree(owner);
    LocalFree(token_owner);
    LocalFree(user);
}

START_TEST(complete)
{
    if (!bits_test_init()) return;
    test_Complete_ends_job_and_saves_files();
    test_Complete_S_OK_all_files_transferred();
    test_Complete_rename_fails_destination_locked();
    test_Complete_rename_fails_directory_removed();
    test_Complete_rename_fails_read_only_destination();
    test_Complete_partial_third_of_five();
    test_Complete_unable_to_delete_files();
    test_Complete_after_Cancel();
    test_Complete_twice();
    test_Complete_upload_not_transferred();
    test_Complete_upload_only_when_TRANSFERRED();
    test_Complete_files_not_available_before_Complete();
    test_Complete_renames_and_removes_job();
    test_Complete_download_needs_no_server();
    test_Complete_TRANSFERRED_means_all_files();
    test_Complete_JobTransferred_notification();
    test_Cancel_instead_of_Complete_discards_files();
    test_Complete_removes_job_on_S_OK_and_partial();
    test_Complete_during_transfer_any_time();
    test_Complete_file_progress_tells_transferred();
    test_Complete_client_can_check_integrity();
    test_Complete_owner_is_caller();
    server_stop();
    bits_test_cleanup();
}
