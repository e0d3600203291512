/* Wine-only tests of parts of files across a restart of the service (dlls/qmgr/engine.c,
 * http.c, store.c): the store keeps the ranges of AddFileWithRanges and an on-demand file's
 * spans, so a restarted service fetches only what is still missing.  They stop and start the
 * service of the prefix they run in, so they never run on Windows or beside other units.
 * tests/wine/rangesrestart.sh runs them:
 *
 *     rangesresume    a file of AddFileWithRanges stopped in its second range goes on after
 *                     the restart from the byte it had reached, and its local file is its
 *                     ranges one after the other
 *     ondemandresume  an on-demand file stopped in the second span asked for keeps what it had
 *                     filled, fetches the rest of that span after the restart and waits in
 *                     SUSPENDED; asked for everything, it becomes the whole remote file
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#include "bitsctl.h"

#define WAIT_MS         60000
#define STALL_MS        20000

/* bitsctl_restart()'s BETWEEN: the server lets the held transfer go on, with nobody left
 * to hear it. */
static void release_held(void *name)
{
    server_release(name);
}


/* How many GETs of PATH had a Range that starts with FIRST. */
static unsigned int count_gets(const char *path, const char *first)
{
    struct server_request request;
    unsigned int i, count = 0;

    for (i = 0; server_log_get(path, i, &request); i++)
        if (!strcmp(request.method, "GET") && !strncmp(request.range, first, strlen(first)))
            count++;
    return count;
}

static IBackgroundCopyFile6 *get_file6(IBackgroundCopyJob *job)
{
    IBackgroundCopyFile *file = get_job_file(job, 0);
    IBackgroundCopyFile6 *file6 = NULL;
    HRESULT hr;

    if (!file) return NULL;
    hr = IBackgroundCopyFile_QueryInterface(file, &IID_IBackgroundCopyFile6, (void **)&file6);
    ok(hr == S_OK, "no IBackgroundCopyFile6: %#lx\n", hr);
    IBackgroundCopyFile_Release(file);
    return file6;
}

/* Whether GetFilledFileRanges has [offset, offset + length) in one of its ranges. */
static BOOL is_filled(IBackgroundCopyFile6 *file6, UINT64 offset, UINT64 length)
{
    BG_FILE_RANGE *ranges = NULL;
    BOOL found = FALSE;
    DWORD count = 0, i;
    HRESULT hr;

    hr = IBackgroundCopyFile6_GetFilledFileRanges(file6, &count, &ranges);
    ok(hr == S_OK, "GetFilledFileRanges: %#lx\n", hr);
    for (i = 0; SUCCEEDED(hr) && i < count; i++)
        if (ranges[i].InitialOffset <= offset
                && offset + length <= ranges[i].InitialOffset + ranges[i].Length)
            found = TRUE;
    CoTaskMemFree(ranges);
    return found;
}

/* ---- rangesresume ---- */

START_TEST(rangesresume)
{
    static const char name[] = "restart-ranges";
    BG_FILE_RANGE ranges[] = { { 60000, 20000 }, { 1000, 1000 } };
    IBackgroundCopyJob3 *job3 = NULL;
    IBackgroundCopyJob *job = NULL;
    BG_FILE_PROGRESS progress;
    WCHAR *dir, *path = NULL, *url = NULL;
    BYTE buffer[21000];
    DWORD got = 0;
    HANDLE file;
    GUID id;
    HRESULT hr;

    if (!server_start()) return;
    if (!bits_test_init()) return;
    server_log_clear();
    dir = make_test_dir(L"rangesresume");
    path = dir ? dir_file(dir, L"ranges.bin") : NULL;
    url = server_file_url("restart-ranges?size=100000&stall=65000");
    job = path && url ? create_transfer_job(L"ranges resume", &id) : NULL;
    if (!job) goto done;
    hr = IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJob3, (void **)&job3);
    ok(hr == S_OK, "QueryInterface(Job3): %#lx\n", hr);
    if (FAILED(hr)) goto done;
    hr = IBackgroundCopyJob3_AddFileWithRanges(job3, url, path, ARRAY_SIZE(ranges), ranges);
    ok(hr == S_OK, "AddFileWithRanges: %#lx\n", hr);
    IBackgroundCopyJob3_Release(job3);
    hr = IBackgroundCopyJob_Resume(job);
    ok(hr == S_OK, "Resume: %#lx\n", hr);
    if (!server_wait_stalled(name, STALL_MS) || !wait_for_file_bytes(job, 0, 5000, STALL_MS))
    {
        ok(0, "the first range was not held; state %d\n", get_job_state(job));
        goto done;
    }

    if (!bitsctl_restart(&job, &id, 1, release_held, (void *)name)) goto done;
    ok(wait_for_state(job, BG_JOB_STATE_TRANSFERRED, WAIT_MS), "state %d\n", get_job_state(job));
    ok(get_file_progress(job, 0, &progress) && progress.BytesTotal == 21000
            && progress.BytesTransferred == 21000, "progress %s of %s\n",
            wine_dbgstr_longlong(progress.BytesTransferred),
            wine_dbgstr_longlong(progress.BytesTotal));
    /* The restarted service asks for the rest of the range it was in, not for all of it. */
    ok(count_gets("/file/restart-ranges", "bytes=60000-") == 1, "%u GETs from 60000\n",
            count_gets("/file/restart-ranges", "bytes=60000-"));
    ok(count_gets("/file/restart-ranges", "bytes=65000-") >= 1, "no GET from 65000\n");
    hr = IBackgroundCopyJob_Complete(job);
    ok(hr == S_OK, "Complete: %#lx\n", hr);
    file = CreateFileW(path, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL);
    ok(file != INVALID_HANDLE_VALUE, "no local file: %lu\n", GetLastError());
    if (file != INVALID_HANDLE_VALUE)
    {
        ok(ReadFile(file, buffer, sizeof(buffer), &got, NULL) && got == sizeof(buffer)
                && GetFileSize(file, NULL) == sizeof(buffer), "%lu bytes\n", got);
        ok(server_compare(name, 0, 60000, buffer, 20000)
                && server_compare(name, 0, 1000, buffer + 20000, 1000),
                "the local file is not the ranges in their order\n");
        CloseHandle(file);
    }
done:
    server_release(name);
    cancel_job(job);
    CoTaskMemFree(url);
    CoTaskMemFree(path);
    remove_test_dir(dir);
    bits_test_cleanup();
    server_stop();
}

/* ---- ondemandresume ---- */

START_TEST(ondemandresume)
{
    static const char name[] = "restart-ondemand";
    BG_FILE_RANGE wanted[] = { { 10000, 5000 }, { 50000, 5000 } }, all = { 0, 60000 };
    IBackgroundCopyFile6 *file6 = NULL;
    IBackgroundCopyJob *job = NULL;
    BITS_JOB_PROPERTY_VALUE value;
    IBackgroundCopyJob5 *job5;
    WCHAR *dir, *path = NULL;
    GUID id;
    HRESULT hr;

    if (!server_start()) return;
    if (!bits_test_init()) return;
    server_log_clear();
    dir = make_test_dir(L"ondemandresume");
    path = dir ? dir_file(dir, L"ondemand.bin") : NULL;
    job = path ? create_transfer_job(L"on-demand resume", &id) : NULL;
    if (!job || FAILED(add_server_file(job, "restart-ondemand?size=60000&stall=52000", path)))
        goto done;
    hr = IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJob5, (void **)&job5);
    ok(hr == S_OK, "QueryInterface(Job5): %#lx\n", hr);
    if (FAILED(hr)) goto done;
    memset(&value, 0, sizeof(value));
    value.Enable = TRUE;
    hr = IBackgroundCopyJob5_SetProperty(job5, BITS_JOB_PROPERTY_ON_DEMAND_MODE, value);
    ok(hr == S_OK, "SetProperty(ON_DEMAND_MODE): %#lx\n", hr);
    IBackgroundCopyJob5_Release(job5);
    if (!(file6 = get_file6(job))) goto done;
    hr = IBackgroundCopyFile6_RequestFileRanges(file6, ARRAY_SIZE(wanted), wanted);
    ok(hr == S_OK, "RequestFileRanges: %#lx\n", hr);
    IBackgroundCopyFile6_Release(file6);
    file6 = NULL;
    hr = IBackgroundCopyJob_Resume(job);
    ok(hr == S_OK, "Resume: %#lx\n", hr);
    if (!server_wait_stalled(name, STALL_MS) || !wait_for_file_bytes(job, 0, 7000, STALL_MS))
    {
        ok(0, "the second span was not held; state %d\n", get_job_state(job));
        goto done;
    }

    if (!bitsctl_restart(&job, &id, 1, release_held, (void *)name)) goto done;
    ok(wait_for_state(job, BG_JOB_STATE_SUSPENDED, WAIT_MS), "state %d\n", get_job_state(job));
    if (!(file6 = get_file6(job))) goto done;
    ok(is_filled(file6, 10000, 5000) && is_filled(file6, 50000, 5000)
            && !is_filled(file6, 0, 60000), "not the spans asked for\n");
    ok(count_gets("/file/restart-ondemand", "bytes=10000-") == 1, "%u GETs from 10000\n",
            count_gets("/file/restart-ondemand", "bytes=10000-"));
    ok(count_gets("/file/restart-ondemand", "bytes=52000-") >= 1, "no GET from 52000\n");

    hr = IBackgroundCopyFile6_RequestFileRanges(file6, 1, &all);
    ok(hr == S_OK, "RequestFileRanges: %#lx\n", hr);
    hr = IBackgroundCopyJob_Resume(job);
    ok(hr == S_OK, "Resume: %#lx\n", hr);
    ok(wait_for_state(job, BG_JOB_STATE_TRANSFERRED, WAIT_MS), "state %d\n", get_job_state(job));
    hr = IBackgroundCopyJob_Complete(job);
    ok(hr == S_OK, "Complete: %#lx\n", hr);
    ok(server_verify_file(path, name, 60000), "the file differs\n");
done:
    server_release(name);
    if (file6) IBackgroundCopyFile6_Release(file6);
    cancel_job(job);
    CoTaskMemFree(path);
    remove_test_dir(dir);
    bits_test_cleanup();
    server_stop();
}
