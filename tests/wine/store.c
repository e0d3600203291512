/* Wine-only tests of the durable job queue (dlls/qmgr/store.c): they stop, start and kill the
 * service of the prefix they run in, and read and damage its store files, so they never run on
 * Windows or beside other units.  tests/wine/restart.sh runs them in order:
 *
 *     restart          jobs in every reachable state survive "net stop"/"net start" and a
 *                      killed service process; a running transfer continues byte-identical
 *     killall_prepare  the same jobs, left for "wineserver -k" (restart.sh kills the prefix)
 *     killall_verify   ... and found again afterwards, then finished
 *     badentry         damaged store entries are set aside as *.bad; the others load
 *     torture          at least TORTURE_KILLS kills at random moments of creation, transfer,
 *                      Complete and Cancel, with the whole queue checked after each restart
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#include "bitsctl.h"

#define TRANSFER_WAIT_MS    60000
#define TORTURE_KILLS       55
#define TORTURE_MAX_JOBS    6

/* What a client saw of a job, to compare after a restart. */
struct snapshot
{
    GUID id;
    BG_JOB_STATE state;
    BG_JOB_PRIORITY priority;
    ULONG notify_flags;
    ULONG retry_delay;
    ULONG no_progress_timeout;
    ULONG error_count;
    WCHAR *display_name;
    WCHAR *description;
    WCHAR *program;
    WCHAR *parameters;
    BG_JOB_PROGRESS progress;
    BG_JOB_TIMES times;
    ULONG file_count;
    WCHAR *remote[4];
    WCHAR *local[4];
    BG_FILE_PROGRESS file_progress[4];
    BOOL has_error;
    BG_ERROR_CONTEXT context;
    HRESULT code;
    WCHAR *protocol;
    WCHAR *error_file;
};

static void free_snapshot(struct snapshot *snap)
{
    ULONG i;

    CoTaskMemFree(snap->display_name);
    CoTaskMemFree(snap->description);
    CoTaskMemFree(snap->program);
    CoTaskMemFree(snap->parameters);
    CoTaskMemFree(snap->protocol);
    CoTaskMemFree(snap->error_file);
    for (i = 0; i < snap->file_count && i < ARRAY_SIZE(snap->remote); i++)
    {
        CoTaskMemFree(snap->remote[i]);
        CoTaskMemFree(snap->local[i]);
    }
    memset(snap, 0, sizeof(*snap));
}

static void take_snapshot(IBackgroundCopyJob *job, struct snapshot *snap)
{
    IBackgroundCopyJob2 *job2;
    IBackgroundCopyError *error;
    IBackgroundCopyFile *file, *error_file;
    HRESULT hr;
    ULONG i;

    memset(snap, 0, sizeof(*snap));
    IBackgroundCopyJob_GetId(job, &snap->id);
    IBackgroundCopyJob_GetState(job, &snap->state);
    IBackgroundCopyJob_GetPriority(job, &snap->priority);
    IBackgroundCopyJob_GetNotifyFlags(job, &snap->notify_flags);
    IBackgroundCopyJob_GetMinimumRetryDelay(job, &snap->retry_delay);
    IBackgroundCopyJob_GetNoProgressTimeout(job, &snap->no_progress_timeout);
    IBackgroundCopyJob_GetErrorCount(job, &snap->error_count);
    IBackgroundCopyJob_GetDisplayName(job, &snap->display_name);
    IBackgroundCopyJob_GetDescription(job, &snap->description);
    IBackgroundCopyJob_GetProgress(job, &snap->progress);
    IBackgroundCopyJob_GetTimes(job, &snap->times);
    hr = IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJob2, (void **)&job2);
    if (SUCCEEDED(hr))
    {
        IBackgroundCopyJob2_GetNotifyCmdLine(job2, &snap->program, &snap->parameters);
        IBackgroundCopyJob2_Release(job2);
    }
    snap->file_count = count_job_files(job);
    for (i = 0; i < snap->file_count && i < ARRAY_SIZE(snap->remote); i++)
    {
        file = get_job_file(job, i);
        if (!file) continue;
        IBackgroundCopyFile_GetRemoteName(file, &snap->remote[i]);
        IBackgroundCopyFile_GetLocalName(file, &snap->local[i]);
        IBackgroundCopyFile_GetProgress(file, &snap->file_progress[i]);
        IBackgroundCopyFile_Release(file);
    }
    hr = IBackgroundCopyJob_GetError(job, &error);
    if (SUCCEEDED(hr))
    {
        snap->has_error = TRUE;
        IBackgroundCopyError_GetError(error, &snap->context, &snap->code);
        IBackgroundCopyError_GetProtocol(error, &snap->protocol);
        if (SUCCEEDED(IBackgroundCopyError_GetFile(error, &error_file)))
        {
            IBackgroundCopyFile_GetLocalName(error_file, &snap->error_file);
            IBackgroundCopyFile_Release(error_file);
        }
        IBackgroundCopyError_Release(error);
    }
}

static BOOL is_action_state(BG_JOB_STATE state)
{
    return state == BG_JOB_STATE_QUEUED || state == BG_JOB_STATE_CONNECTING
            || state == BG_JOB_STATE_TRANSFERRING || state == BG_JOB_STATE_TRANSIENT_ERROR;
}

/* Compares a job after a restart with what was seen before.  A job that was transferring may
 * be in any action state, or done, with at least as many bytes as before. */
static void check_snapshot_(int line, const struct snapshot *before, const struct snapshot *after)
{
    ULONG i;

    ok_(__FILE__, line)(IsEqualGUID(&before->id, &after->id), "id %s, was %s\n",
            wine_dbgstr_guid(&after->id), wine_dbgstr_guid(&before->id));
    if (is_action_state(before->state))
        ok_(__FILE__, line)(is_action_state(after->state)
                || after->state == BG_JOB_STATE_TRANSFERRED, "state %u, was %u\n",
                after->state, before->state);
    else
        ok_(__FILE__, line)(after->state == before->state, "state %u, was %u\n", after->state,
                before->state);
    ok_(__FILE__, line)(after->priority == before->priority, "priority %u, was %u\n",
            after->priority, before->priority);
    ok_(__FILE__, line)(after->notify_flags == before->notify_flags, "notify flags %#lx\n",
            after->notify_flags);
    ok_(__FILE__, line)(after->retry_delay == before->retry_delay, "retry delay %lu\n",
            after->retry_delay);
    ok_(__FILE__, line)(after->no_progress_timeout == before->no_progress_timeout,
            "no progress timeout %lu\n", after->no_progress_timeout);
    ok_(__FILE__, line)(after->error_count == before->error_count, "error count %lu, was %lu\n",
            after->error_count, before->error_count);
    ok_(__FILE__, line)(str_equal(after->display_name, before->display_name), "name %s\n",
            wine_dbgstr_w(after->display_name));
    ok_(__FILE__, line)(str_equal(after->description, before->description), "description %s\n",
            wine_dbgstr_w(after->description));
    ok_(__FILE__, line)(str_equal(after->program, before->program), "program %s\n",
            wine_dbgstr_w(after->program));
    ok_(__FILE__, line)(str_equal(after->parameters, before->parameters), "parameters %s\n",
            wine_dbgstr_w(after->parameters));
    ok_(__FILE__, line)(!memcmp(&after->times.CreationTime, &before->times.CreationTime,
            sizeof(FILETIME)), "creation time changed\n");
    ok_(__FILE__, line)(after->file_count == before->file_count, "%lu files, was %lu\n",
            after->file_count, before->file_count);
    for (i = 0; i < after->file_count && i < before->file_count && i < 4; i++)
    {
        const BG_FILE_PROGRESS *a = &after->file_progress[i], *b = &before->file_progress[i];

        ok_(__FILE__, line)(str_equal(after->remote[i], before->remote[i]), "remote %s\n",
                wine_dbgstr_w(after->remote[i]));
        ok_(__FILE__, line)(str_equal(after->local[i], before->local[i]), "local %s\n",
                wine_dbgstr_w(after->local[i]));
        ok_(__FILE__, line)(a->BytesTransferred >= b->BytesTransferred
                && (a->BytesTotal == BG_SIZE_UNKNOWN || a->BytesTransferred <= a->BytesTotal),
                "file %lu: %s of %s bytes, was %s\n", i, wine_dbgstr_longlong(a->BytesTransferred),
                wine_dbgstr_longlong(a->BytesTotal), wine_dbgstr_longlong(b->BytesTransferred));
        if (!is_action_state(before->state))
            ok_(__FILE__, line)(a->BytesTransferred == b->BytesTransferred
                    && a->BytesTotal == b->BytesTotal && a->Completed == b->Completed,
                    "file %lu: %s of %s bytes, was %s of %s\n", i,
                    wine_dbgstr_longlong(a->BytesTransferred), wine_dbgstr_longlong(a->BytesTotal),
                    wine_dbgstr_longlong(b->BytesTransferred),
                    wine_dbgstr_longlong(b->BytesTotal));
    }
    ok_(__FILE__, line)(after->has_error == before->has_error || is_action_state(before->state),
            "has error %d, was %d\n", after->has_error, before->has_error);
    if (after->has_error && before->has_error)
    {
        ok_(__FILE__, line)(after->code == before->code && after->context == before->context,
                "error %#lx context %u, was %#lx context %u\n", after->code, after->context,
                before->code, before->context);
        ok_(__FILE__, line)(str_equal(after->protocol, before->protocol), "protocol %s\n",
                wine_dbgstr_w(after->protocol));
        ok_(__FILE__, line)(str_equal(after->error_file, before->error_file), "error file %s\n",
                wine_dbgstr_w(after->error_file));
    }
}
#define check_snapshot(a, b) check_snapshot_(__LINE__, a, b)

static IBackgroundCopyJob *get_job(const GUID *id, HRESULT *result)
{
    IBackgroundCopyJob *job = NULL;
    HRESULT hr;

    hr = IBackgroundCopyManager_GetJob(test_manager, id, &job);
    if (result) *result = hr;
    return SUCCEEDED(hr) ? job : NULL;
}

static BOOL entry_exists(const GUID *id, const WCHAR *suffix)
{
    WCHAR path[MAX_PATH];

    bitsctl_entry_path(id, suffix, path);
    return GetFileAttributesW(path) != INVALID_FILE_ATTRIBUTES;
}

/* The properties a client may set, so that the restart checks compare them. */
static void set_properties(IBackgroundCopyJob *job, const WCHAR *description)
{
    IBackgroundCopyJob2 *job2;
    HRESULT hr;

    hr = IBackgroundCopyJob_SetDescription(job, description);
    ok(hr == S_OK, "SetDescription: %#lx\n", hr);
    hr = IBackgroundCopyJob_SetNotifyFlags(job, BG_NOTIFY_JOB_TRANSFERRED | BG_NOTIFY_DISABLE);
    ok(hr == S_OK, "SetNotifyFlags: %#lx\n", hr);
    hr = IBackgroundCopyJob_SetMinimumRetryDelay(job, 77);
    ok(hr == S_OK, "SetMinimumRetryDelay: %#lx\n", hr);
    hr = IBackgroundCopyJob_SetNoProgressTimeout(job, 8888);
    ok(hr == S_OK, "SetNoProgressTimeout: %#lx\n", hr);
    hr = IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJob2, (void **)&job2);
    ok(hr == S_OK, "QueryInterface(Job2): %#lx\n", hr);
    if (FAILED(hr)) return;
    hr = IBackgroundCopyJob2_SetNotifyCmdLine(job2, L"C:\\windows\\system32\\cmd.exe",
            L"cmd.exe /c rem persisted");
    ok(hr == S_OK, "SetNotifyCmdLine: %#lx\n", hr);
    IBackgroundCopyJob2_Release(job2);
}

/* The jobs of the restart units, one per reachable state. */
enum { J_SUSPENDED, J_RUNNING, J_DONE, J_ERROR, J_PARTIAL, J_COUNT };

struct restart_jobs
{
    IBackgroundCopyJob *job[J_COUNT];
    struct snapshot snap[J_COUNT];
    WCHAR *dir;
};

static const char *const slow_spec = "store-slow?size=3000000&slow=500000";
static const char *const partial_spec = "store-partial?size=1000000&slow=200000";

static BOOL make_restart_jobs(struct restart_jobs *jobs, const WCHAR *dirname)
{
    WCHAR *path, *path2;
    HRESULT hr;

    memset(jobs, 0, sizeof(*jobs));
    jobs->dir = make_test_dir(dirname);
    if (!jobs->dir) return FALSE;

    /* SUSPENDED, two files never started, every settable property set. */
    jobs->job[J_SUSPENDED] = create_job(L"store suspended", BG_JOB_TYPE_DOWNLOAD, NULL);
    if (!jobs->job[J_SUSPENDED]) return FALSE;
    set_properties(jobs->job[J_SUSPENDED], L"suspended with files");
    hr = IBackgroundCopyJob_SetPriority(jobs->job[J_SUSPENDED], BG_JOB_PRIORITY_HIGH);
    ok(hr == S_OK, "SetPriority: %#lx\n", hr);
    path = dir_file(jobs->dir, L"suspended1.bin");
    path2 = dir_file(jobs->dir, L"suspended2.bin");
    add_server_file(jobs->job[J_SUSPENDED], "store-s1?size=100", path);
    add_server_file(jobs->job[J_SUSPENDED], "store-s2?size=200", path2);
    CoTaskMemFree(path);
    CoTaskMemFree(path2);

    /* TRANSFERRED. */
    jobs->job[J_DONE] = create_transfer_job(L"store transferred", NULL);
    if (!jobs->job[J_DONE]) return FALSE;
    set_properties(jobs->job[J_DONE], L"transferred");
    path = dir_file(jobs->dir, L"done.bin");
    add_server_file(jobs->job[J_DONE], "store-done?size=65536", path);
    CoTaskMemFree(path);
    hr = IBackgroundCopyJob_Resume(jobs->job[J_DONE]);
    ok(hr == S_OK, "Resume: %#lx\n", hr);

    /* ERROR after a 404. */
    jobs->job[J_ERROR] = create_transfer_job(L"store error", NULL);
    if (!jobs->job[J_ERROR]) return FALSE;
    set_properties(jobs->job[J_ERROR], L"error");
    path = dir_file(jobs->dir, L"missing.bin");
    add_server_file(jobs->job[J_ERROR], "store-missing?status=404", path);
    CoTaskMemFree(path);
    hr = IBackgroundCopyJob_Resume(jobs->job[J_ERROR]);
    ok(hr == S_OK, "Resume: %#lx\n", hr);

    /* SUSPENDED after some bytes. */
    jobs->job[J_PARTIAL] = create_transfer_job(L"store partial", NULL);
    if (!jobs->job[J_PARTIAL]) return FALSE;
    path = dir_file(jobs->dir, L"partial.bin");
    add_server_file(jobs->job[J_PARTIAL], partial_spec, path);
    CoTaskMemFree(path);
    hr = IBackgroundCopyJob_Resume(jobs->job[J_PARTIAL]);
    ok(hr == S_OK, "Resume: %#lx\n", hr);

    /* TRANSFERRING, slowly. */
    jobs->job[J_RUNNING] = create_transfer_job(L"store running", NULL);
    if (!jobs->job[J_RUNNING]) return FALSE;
    set_properties(jobs->job[J_RUNNING], L"running");
    path = dir_file(jobs->dir, L"running.bin");
    add_server_file(jobs->job[J_RUNNING], slow_spec, path);
    CoTaskMemFree(path);
    hr = IBackgroundCopyJob_Resume(jobs->job[J_RUNNING]);
    ok(hr == S_OK, "Resume: %#lx\n", hr);

    ok(wait_for_state(jobs->job[J_DONE], BG_JOB_STATE_TRANSFERRED, TRANSFER_WAIT_MS),
            "not TRANSFERRED: %u\n", get_job_state(jobs->job[J_DONE]));
    ok(wait_for_state(jobs->job[J_ERROR], BG_JOB_STATE_ERROR, TRANSFER_WAIT_MS),
            "not ERROR: %u\n", get_job_state(jobs->job[J_ERROR]));
    ok(wait_for_file_bytes(jobs->job[J_PARTIAL], 0, 100000, TRANSFER_WAIT_MS), "no bytes\n");
    hr = IBackgroundCopyJob_Suspend(jobs->job[J_PARTIAL]);
    ok(hr == S_OK, "Suspend: %#lx\n", hr);
    ok(wait_for_file_bytes(jobs->job[J_RUNNING], 0, 200000, TRANSFER_WAIT_MS), "no bytes\n");
    return TRUE;
}

static void snapshot_all(struct restart_jobs *jobs)
{
    unsigned int i;

    for (i = 0; i < J_COUNT; i++)
    {
        free_snapshot(&jobs->snap[i]);
        take_snapshot(jobs->job[i], &jobs->snap[i]);
    }
}

/* The service stopped or was killed: its proxies go before it starts again (bitsctl.h). */
static void drop_all(struct restart_jobs *jobs)
{
    unsigned int i;

    for (i = 0; i < J_COUNT; i++) bitsctl_drop(&jobs->job[i]);
    bitsctl_drop_manager();
}

/* After a restart: every job found by GetJob, as it was. */
static void check_all(struct restart_jobs *jobs, const char *how)
{
    struct snapshot after;
    HRESULT hr;
    unsigned int i;

    winetest_push_context("%s", how);
    for (i = 0; i < J_COUNT; i++)
    {
        winetest_push_context("job %u", i);
        jobs->job[i] = get_job(&jobs->snap[i].id, &hr);
        ok(hr == S_OK, "GetJob: %#lx\n", hr);
        if (jobs->job[i])
        {
            take_snapshot(jobs->job[i], &after);
            check_snapshot(&jobs->snap[i], &after);
            free_snapshot(&after);
            ok(entry_exists(&jobs->snap[i].id, L".bits"), "no store entry\n");
        }
        winetest_pop_context();
    }
    winetest_pop_context();
}

/* Completes a job whose single file must arrive byte-identical. */
static void finish_job(IBackgroundCopyJob *job, const char *name, UINT64 size)
{
    BG_FILE_PROGRESS progress;
    IBackgroundCopyFile *file;
    WCHAR *local = NULL;
    GUID id;
    HRESULT hr;

    if (!job) return;
    IBackgroundCopyJob_GetId(job, &id);
    ok(wait_for_state(job, BG_JOB_STATE_TRANSFERRED, TRANSFER_WAIT_MS), "not TRANSFERRED: %u\n",
            get_job_state(job));
    get_file_progress(job, 0, &progress);
    ok(progress.BytesTransferred == size, "%s bytes\n",
            wine_dbgstr_longlong(progress.BytesTransferred));
    file = get_job_file(job, 0);
    if (file)
    {
        IBackgroundCopyFile_GetLocalName(file, &local);
        IBackgroundCopyFile_Release(file);
    }
    hr = IBackgroundCopyJob_Complete(job);
    ok(hr == S_OK, "Complete: %#lx\n", hr);
    if (local) ok(server_verify_file(local, name, size), "%s differs\n", wine_dbgstr_w(local));
    CoTaskMemFree(local);
    ok(!entry_exists(&id, L".bits"), "the store keeps the ACKNOWLEDGED job\n");
}

/* The range of the last request for a name: "bytes=N-" with N > 0 proves a resume. */
static UINT64 last_range_start(const char *path)
{
    char range[SERVER_VALUE_MAX];
    unsigned int count = server_log_count(path);

    if (!count || !server_log_range(path, count - 1, range, sizeof(range))) return 0;
    if (strncmp(range, "bytes=", 6)) return 0;
    return _strtoui64(range + 6, NULL, 10);
}

/* The cost of a durable change, seen by a client: SetDescription saves, GetDescription not. */
static void measure_save(IBackgroundCopyJob *job)
{
    LARGE_INTEGER freq, start, mid, end;
    WCHAR *text;
    int i, n = 200;

    QueryPerformanceFrequency(&freq);
    QueryPerformanceCounter(&start);
    for (i = 0; i < n; i++)
    {
        IBackgroundCopyJob_GetDescription(job, &text);
        CoTaskMemFree(text);
    }
    QueryPerformanceCounter(&mid);
    for (i = 0; i < n; i++) IBackgroundCopyJob_SetDescription(job, i & 1 ? L"odd" : L"even");
    QueryPerformanceCounter(&end);
    trace("GetDescription %.3f ms, SetDescription (saved) %.3f ms per call\n",
            (mid.QuadPart - start.QuadPart) * 1000.0 / freq.QuadPart / n,
            (end.QuadPart - mid.QuadPart) * 1000.0 / freq.QuadPart / n);
}

static void test_restart(void)
{
    struct restart_jobs jobs;
    IBackgroundCopyJob *job;
    unsigned int i;
    UINT64 before;
    HRESULT hr;

    if (!make_restart_jobs(&jobs, L"restart")) goto done;
    measure_save(jobs.job[J_SUSPENDED]);
    set_properties(jobs.job[J_SUSPENDED], L"suspended with files");

    /* net stop BITS, net start BITS */
    snapshot_all(&jobs);
    before = jobs.snap[J_RUNNING].progress.BytesTransferred;
    ok(bitsctl_stop(), "service does not stop\n");
    drop_all(&jobs);
    ok(bitsctl_start(), "service does not start\n");
    ok(bitsctl_reconnect(), "no manager\n");
    if (!test_manager) goto done;
    check_all(&jobs, "net stop");

    /* A killed service process. */
    ok(wait_for_file_bytes(jobs.job[J_RUNNING], 0, jobs.snap[J_RUNNING].progress.BytesTransferred
            + 200000, TRANSFER_WAIT_MS), "the transfer did not go on\n");
    snapshot_all(&jobs);
    before = jobs.snap[J_RUNNING].progress.BytesTransferred;
    ok(bitsctl_kill(), "service not killed\n");
    drop_all(&jobs);
    ok(bitsctl_recover(), "no service after the kill\n");
    if (!test_manager) goto done;
    check_all(&jobs, "kill");

    /* Everything finishes: the running transfer resumed where its bytes ended at the last
     * stop or kill. */
    finish_job(jobs.job[J_RUNNING], "store-slow", 3000000);
    ok(last_range_start("/file/store-slow") >= before, "last GET from %s, had %s\n",
            wine_dbgstr_longlong(last_range_start("/file/store-slow")),
            wine_dbgstr_longlong(before));
    hr = IBackgroundCopyJob_Resume(jobs.job[J_PARTIAL]);
    ok(hr == S_OK, "Resume: %#lx\n", hr);
    finish_job(jobs.job[J_PARTIAL], "store-partial", 1000000);
    ok(last_range_start("/file/store-partial") > 0, "the partial file started again\n");
    finish_job(jobs.job[J_DONE], "store-done", 65536);
    hr = IBackgroundCopyJob_Cancel(jobs.job[J_ERROR]);
    ok(hr == S_OK, "Cancel: %#lx\n", hr);
    hr = IBackgroundCopyJob_Cancel(jobs.job[J_SUSPENDED]);
    ok(hr == S_OK, "Cancel: %#lx\n", hr);
    for (i = 0; i < J_COUNT; i++)
    {
        ok(!entry_exists(&jobs.snap[i].id, L".bits"), "job %u: store entry left\n", i);
        job = get_job(&jobs.snap[i].id, &hr);
        ok(hr == BG_E_NOT_FOUND, "job %u: GetJob %#lx\n", i, hr);
        if (job) IBackgroundCopyJob_Release(job);
    }
done:
    for (i = 0; i < J_COUNT; i++)
    {
        if (jobs.job[i]) IBackgroundCopyJob_Release(jobs.job[i]);
        free_snapshot(&jobs.snap[i]);
    }
    remove_test_dir(jobs.dir);
}

START_TEST(restart)
{
    if (!server_start()) return;
    if (!bits_test_init()) return;
    test_restart();
    bits_test_cleanup();
    server_stop();
}

/* ---- wineserver -k: killall_prepare, then restart.sh kills the prefix, killall_verify ---- */

static void state_path(WCHAR *path)
{
    WCHAR dir[MAX_PATH];

    GetTempPathW(ARRAY_SIZE(dir), dir);
    swprintf(path, MAX_PATH, L"%lsbits-store-killall.txt", dir);
}

START_TEST(killall_prepare)
{
    struct restart_jobs jobs;
    WCHAR path[MAX_PATH], guid[40];
    unsigned int i;
    FILE *out;

    if (!server_start()) return;
    if (!bits_test_init()) return;
    if (make_restart_jobs(&jobs, L"killall"))
    {
        snapshot_all(&jobs);
        state_path(path);
        out = _wfopen(path, L"w");
        ok(out != NULL, "cannot write %s\n", wine_dbgstr_w(path));
        for (i = 0; out && i < J_COUNT; i++)
        {
            StringFromGUID2(&jobs.snap[i].id, guid, ARRAY_SIZE(guid));
            fprintf(out, "%ls %s %s\n", guid,
                    wine_dbgstr_longlong(jobs.snap[i].progress.BytesTransferred),
                    wine_dbgstr_longlong(jobs.snap[i].error_count));
        }
        if (out) fprintf(out, "%ls\n", jobs.dir);
        if (out) fclose(out);
        trace("%u jobs left for wineserver -k\n", J_COUNT);
    }
    /* No Release, no cleanup: the jobs and their directory must outlive this process. */
    server_stop();
}

START_TEST(killall_verify)
{
    WCHAR path[MAX_PATH], guid[40], dir[MAX_PATH], *url;
    IBackgroundCopyJob *job[J_COUNT] = { 0 };
    IBackgroundCopyFile *file;
    IBackgroundCopyFile2 *file2;
    struct snapshot snap;
    char line[512], bytes[32], errors[32];
    GUID id[J_COUNT];
    UINT64 had[J_COUNT];
    unsigned int i;
    HRESULT hr;
    FILE *in;

    dir[0] = 0;
    if (!server_start()) return;
    if (!bits_test_init()) return;
    state_path(path);
    in = _wfopen(path, L"r");
    ok(in != NULL, "no state from killall_prepare\n");
    if (!in) goto done;
    for (i = 0; i < J_COUNT; i++)
    {
        if (!fgets(line, sizeof(line), in) || sscanf(line, "%38ls %31s %31s", guid, bytes,
                errors) != 3)
            break;
        CLSIDFromString(guid, &id[i]);
        had[i] = _strtoui64(bytes, NULL, 10);
    }
    ok(i == J_COUNT, "state file damaged\n");
    if (fgets(line, sizeof(line), in)) swprintf(dir, ARRAY_SIZE(dir), L"%hs", line);
    dir[wcscspn(dir, L"\r\n")] = 0;
    fclose(in);
    DeleteFileW(path);

    for (i = 0; i < J_COUNT; i++)
    {
        winetest_push_context("job %u", i);
        job[i] = get_job(&id[i], &hr);
        ok(hr == S_OK, "GetJob: %#lx\n", hr);
        if (job[i])
        {
            take_snapshot(job[i], &snap);
            ok(snap.progress.BytesTransferred >= had[i], "%s bytes, had %s\n",
                    wine_dbgstr_longlong(snap.progress.BytesTransferred),
                    wine_dbgstr_longlong(had[i]));
            if (i == J_SUSPENDED)
            {
                ok(snap.state == BG_JOB_STATE_SUSPENDED, "state %u\n", snap.state);
                ok(snap.file_count == 2, "%lu files\n", snap.file_count);
                ok(snap.priority == BG_JOB_PRIORITY_HIGH, "priority %u\n", snap.priority);
                ok(str_equal(snap.description, L"suspended with files"), "description %s\n",
                        wine_dbgstr_w(snap.description));
                ok(snap.retry_delay == 77 && snap.no_progress_timeout == 8888, "delays %lu %lu\n",
                        snap.retry_delay, snap.no_progress_timeout);
                ok(str_equal(snap.parameters, L"cmd.exe /c rem persisted"), "parameters %s\n",
                        wine_dbgstr_w(snap.parameters));
            }
            if (i == J_DONE) ok(snap.state == BG_JOB_STATE_TRANSFERRED, "state %u\n", snap.state);
            if (i == J_PARTIAL) ok(snap.state == BG_JOB_STATE_SUSPENDED, "state %u\n", snap.state);
            if (i == J_ERROR)
                ok(snap.state == BG_JOB_STATE_ERROR && snap.has_error
                        && snap.code == BG_E_HTTP_ERROR_404
                        && snap.context == BG_ERROR_CONTEXT_REMOTE_FILE
                        && str_equal(snap.protocol, L"http") && snap.error_file,
                        "state %u, error %#lx, context %u, protocol %s\n", snap.state, snap.code,
                        snap.context, wine_dbgstr_w(snap.protocol));
            if (i == J_RUNNING)
                ok(is_action_state(snap.state), "state %u\n", snap.state);
            free_snapshot(&snap);
        }
        winetest_pop_context();
    }

    /* The server of killall_prepare is gone: the same files from this process' server. */
    for (i = 0; i < J_COUNT; i++)
    {
        const char *spec = i == J_RUNNING ? slow_spec : partial_spec;

        if ((i != J_RUNNING && i != J_PARTIAL) || !job[i]) continue;
        hr = IBackgroundCopyJob_Suspend(job[i]);
        ok(hr == S_OK, "Suspend: %#lx\n", hr);
        file = get_job_file(job[i], 0);
        if (!file) continue;
        hr = IBackgroundCopyFile_QueryInterface(file, &IID_IBackgroundCopyFile2, (void **)&file2);
        ok(hr == S_OK, "QueryInterface(File2): %#lx\n", hr);
        url = server_file_url(spec);
        if (SUCCEEDED(hr)) hr = IBackgroundCopyFile2_SetRemoteName(file2, url);
        ok(hr == S_OK, "SetRemoteName: %#lx\n", hr);
        CoTaskMemFree(url);
        if (file2) IBackgroundCopyFile2_Release(file2);
        IBackgroundCopyFile_Release(file);
        hr = IBackgroundCopyJob_Resume(job[i]);
        ok(hr == S_OK, "Resume: %#lx\n", hr);
    }
    finish_job(job[J_RUNNING], "store-slow", 3000000);
    ok(last_range_start("/file/store-slow") >= had[J_RUNNING], "the transfer started again\n");
    finish_job(job[J_PARTIAL], "store-partial", 1000000);
    ok(last_range_start("/file/store-partial") > 0, "the partial file started again\n");
    finish_job(job[J_DONE], "store-done", 65536);
    for (i = 0; i < J_COUNT; i++)
        if (job[i]) cancel_job(job[i]);
    if (dir[0]) remove_test_dir(dir_file(dir, L""));
done:
    bits_test_cleanup();
    server_stop();
}

/* ---- Damaged entries ---- */

enum damage { D_GARBAGE, D_TRUNCATED, D_CHECKSUM, D_VERSION, D_EMPTY, D_NONE, D_COUNT };

static BOOL damage_entry(const GUID *id, enum damage how)
{
    WCHAR path[MAX_PATH];
    BYTE data[4096];
    DWORD size = 0, i;
    HANDLE file;
    BOOL ret;

    bitsctl_entry_path(id, L".bits", path);
    file = CreateFileW(path, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING, 0, NULL);
    if (file == INVALID_HANDLE_VALUE) return FALSE;
    ret = ReadFile(file, data, sizeof(data), &size, NULL) && size > 64 && size < sizeof(data);
    switch (how)
    {
    case D_GARBAGE:
        for (i = 0; i < size; i++) data[i] = (BYTE)(i * 7 + 13);
        break;
    case D_TRUNCATED: size /= 2; break;
    case D_CHECKSUM: data[size - 3] ^= 0x55; break;
    case D_VERSION: data[8] = 99; break;
    case D_EMPTY: size = 0; break;
    default: break;
    }
    if (ret)
    {
        SetFilePointer(file, 0, NULL, FILE_BEGIN);
        ret = WriteFile(file, data, size, &size, NULL) && SetEndOfFile(file);
    }
    CloseHandle(file);
    return ret;
}

START_TEST(badentry)
{
    IBackgroundCopyJob *jobs[D_COUNT] = { 0 }, *job;
    struct snapshot before, after;
    WCHAR *dir, *path, name[32], bad[MAX_PATH];
    GUID ids[D_COUNT];
    unsigned int i;
    HRESULT hr;

    if (!server_start()) return;
    if (!bits_test_init()) return;
    memset(&before, 0, sizeof(before));
    dir = make_test_dir(L"badentry");
    for (i = 0; i < D_COUNT; i++)
    {
        jobs[i] = create_job(L"store damaged", BG_JOB_TYPE_DOWNLOAD, &ids[i]);
        if (!jobs[i]) goto done;
        set_properties(jobs[i], L"damaged or not");
        swprintf(name, ARRAY_SIZE(name), L"bad%u.bin", i);
        path = dir_file(dir, name);
        add_server_file(jobs[i], "store-bad?size=10", path);
        CoTaskMemFree(path);
    }
    take_snapshot(jobs[D_NONE], &before);

    ok(bitsctl_stop(), "service does not stop\n");
    for (i = 0; i < D_COUNT; i++) bitsctl_drop(&jobs[i]);
    bitsctl_drop_manager();
    for (i = 0; i < D_COUNT; i++)
        if (i != D_NONE) ok(damage_entry(&ids[i], i), "cannot damage entry %u\n", i);
    ok(bitsctl_start(), "the service does not start with damaged entries\n");
    ok(bitsctl_reconnect(), "no manager\n");

    for (i = 0; i < D_COUNT; i++)
    {
        winetest_push_context("damage %u", i);
        job = get_job(&ids[i], &hr);
        if (i == D_NONE)
        {
            ok(hr == S_OK, "GetJob: %#lx\n", hr);
            if (job)
            {
                take_snapshot(job, &after);
                check_snapshot(&before, &after);
                free_snapshot(&after);
            }
            ok(entry_exists(&ids[i], L".bits"), "the good entry is gone\n");
        }
        else
        {
            ok(hr == BG_E_NOT_FOUND, "GetJob: %#lx\n", hr);
            ok(!entry_exists(&ids[i], L".bits"), "the damaged entry stays\n");
            ok(entry_exists(&ids[i], L".bits.bad"), "the damaged entry is not set aside\n");
        }
        if (job) cancel_job(job);
        winetest_pop_context();
    }

    /* Set aside for good: a second start neither loads nor loses them. */
    ok(bitsctl_stop(), "service does not stop\n");
    bitsctl_drop_manager();
    ok(bitsctl_start(), "service does not start\n");
    ok(bitsctl_reconnect(), "no manager\n");
    for (i = 0; i < D_COUNT; i++)
    {
        job = get_job(&ids[i], &hr);
        ok(hr == BG_E_NOT_FOUND, "damage %u: GetJob %#lx\n", i, hr);
        if (job) IBackgroundCopyJob_Release(job);
        if (i != D_NONE) ok(entry_exists(&ids[i], L".bits.bad"), "damage %u: .bad gone\n", i);
        bitsctl_entry_path(&ids[i], L".bits.bad", bad);
        DeleteFileW(bad);
    }
done:
    free_snapshot(&before);
    remove_test_dir(dir);
    bits_test_cleanup();
    server_stop();
}

/* ---- Torture: kills at random moments, the queue checked after each restart ---- */

enum tstate { T_SUSPENDED, T_RESUMED, T_COMPLETED, T_CANCELLED };

struct tjob
{
    GUID id;
    IBackgroundCopyJob *job;        /* of the current service process */
    ULONG files;                    /* AddFileSet returned S_OK for them */
    ULONG adding;                   /* files of an AddFileSet that did not return */
    enum tstate state;              /* what the last call that returned made of it */
    BOOL pending;                   /* a call was cut by a kill: pending_state or state */
    enum tstate pending_state;
    WCHAR *local[3];
    char name[3][32];
    UINT64 size[3];
};

static struct
{
    struct tjob jobs[1024];
    unsigned int count;
    WCHAR *dir;
    unsigned int kills, checks, completed, cancelled, recovered, serial;
    unsigned int seed;
    unsigned int run;               /* in job names: this run's jobs, not a crashed one's */
    HANDLE killed;
    DWORD delay;
} t;

static unsigned int rnd(unsigned int n)
{
    t.seed = t.seed * 1103515245 + 12345;
    return (t.seed >> 16) % n;
}

static DWORD WINAPI killer_main(void *arg)
{
    (void)arg;
    Sleep(t.delay);
    if (!bitsctl_kill()) trace("kill failed\n");
    SetEvent(t.killed);
    return 0;
}

static BOOL is_live(const struct tjob *job)
{
    return job->state != T_COMPLETED && job->state != T_CANCELLED;
}

/* Returns FALSE when the call was cut: the service is being killed. */
static BOOL cut(HRESULT hr, const char *what)
{
    if (SUCCEEDED(hr)) return FALSE;
    if (!bitsctl_is_disconnect(hr)) ok(0, "%s: %#lx\n", what, hr);
    return TRUE;
}

static BOOL op_create(void)
{
    struct tjob *job = &t.jobs[t.count];
    BG_FILE_INFO info[3];
    WCHAR *urls[3] = { 0 }, name[64];
    char spec[96];
    ULONG n, i;
    HRESULT hr;

    if (t.count == ARRAY_SIZE(t.jobs)) return TRUE;
    swprintf(name, ARRAY_SIZE(name), L"torture %u", t.run);
    make_job_name(name, name, ARRAY_SIZE(name));
    hr = IBackgroundCopyManager_CreateJob(test_manager, name, BG_JOB_TYPE_DOWNLOAD, &job->id,
            &job->job);
    if (cut(hr, "CreateJob")) return FALSE;
    t.count++;
    hr = IBackgroundCopyJob_SetPriority(job->job, BG_JOB_PRIORITY_FOREGROUND);
    if (cut(hr, "SetPriority")) return FALSE;
    n = 1 + rnd(3);
    for (i = 0; i < n; i++)
    {
        swprintf(name, ARRAY_SIZE(name), L"t%u.bin", t.serial);
        snprintf(job->name[i], sizeof(job->name[i]), "torture%u", t.serial++);
        job->size[i] = 16384 + rnd(400000);
        snprintf(spec, sizeof(spec), "%s?size=%u&slow=2000000", job->name[i],
                (unsigned int)job->size[i]);
        urls[i] = server_file_url(spec);
        job->local[i] = dir_file(t.dir, name);
        info[i].RemoteName = urls[i];
        info[i].LocalName = job->local[i];
    }
    job->adding = n;
    hr = IBackgroundCopyJob_AddFileSet(job->job, n, info);
    for (i = 0; i < n; i++) CoTaskMemFree(urls[i]);
    if (cut(hr, "AddFileSet")) return FALSE;
    job->files = n;
    job->adding = 0;
    if (rnd(4) == 0) return TRUE;   /* some stay SUSPENDED for a while */
    job->pending = TRUE;
    job->pending_state = T_RESUMED;
    hr = IBackgroundCopyJob_Resume(job->job);
    if (cut(hr, "Resume")) return FALSE;
    job->pending = FALSE;
    job->state = T_RESUMED;
    return TRUE;
}

static void verify_files(struct tjob *job, BOOL present)
{
    ULONG i;

    for (i = 0; i < job->files; i++)
    {
        if (present)
            ok(server_verify_file(job->local[i], job->name[i], job->size[i]),
                    "%s is not the file\n", wine_dbgstr_w(job->local[i]));
        else
            ok(GetFileAttributesW(job->local[i]) == INVALID_FILE_ATTRIBUTES,
                    "%s exists\n", wine_dbgstr_w(job->local[i]));
        t.checks++;
    }
}

static BOOL op_step(void)
{
    struct tjob *job;
    BG_JOB_STATE state;
    HRESULT hr;
    unsigned int live = 0, i, pick;

    for (i = 0; i < t.count; i++) if (is_live(&t.jobs[i])) live++;
    if (live < TORTURE_MAX_JOBS && rnd(3) == 0) return op_create();
    if (!live) return op_create();
    pick = rnd(live);
    for (i = 0, job = NULL; i < t.count; i++)
        if (is_live(&t.jobs[i]) && !pick--) job = &t.jobs[i];
    hr = IBackgroundCopyJob_GetState(job->job, &state);
    if (cut(hr, "GetState")) return FALSE;
    if (rnd(8) == 0)
    {
        job->pending = TRUE;
        job->pending_state = T_CANCELLED;
        hr = IBackgroundCopyJob_Cancel(job->job);
        if (cut(hr, "Cancel")) return FALSE;
        job->pending = FALSE;
        job->state = T_CANCELLED;
        t.cancelled++;
        verify_files(job, FALSE);
        return TRUE;
    }
    if (state == BG_JOB_STATE_SUSPENDED && !job->files)
    {
        /* Its AddFileSet was cut: nothing to resume. */
        job->pending = TRUE;
        job->pending_state = T_CANCELLED;
        hr = IBackgroundCopyJob_Cancel(job->job);
        if (cut(hr, "Cancel")) return FALSE;
        job->pending = FALSE;
        job->state = T_CANCELLED;
        t.cancelled++;
        return TRUE;
    }
    if (state == BG_JOB_STATE_SUSPENDED)
    {
        job->pending = TRUE;
        job->pending_state = T_RESUMED;
        hr = IBackgroundCopyJob_Resume(job->job);
        if (cut(hr, "Resume")) return FALSE;
        job->pending = FALSE;
        job->state = T_RESUMED;
        return TRUE;
    }
    if (state == BG_JOB_STATE_TRANSFERRED)
    {
        job->pending = TRUE;
        job->pending_state = T_COMPLETED;
        hr = IBackgroundCopyJob_Complete(job->job);
        if (cut(hr, "Complete")) return FALSE;
        ok(hr == S_OK, "Complete: %#lx\n", hr);
        job->pending = FALSE;
        job->state = T_COMPLETED;
        t.completed++;
        verify_files(job, TRUE);
        return TRUE;
    }
    Sleep(5);
    return TRUE;
}

/* After a restart: a job the client saw is there, or gone exactly when it should be. */
static void check_job(struct tjob *job)
{
    BG_FILE_PROGRESS progress;
    BG_JOB_STATE state;
    IBackgroundCopyJob *found;
    WCHAR *temp;
    BOOL gone_ok, all_in = TRUE;
    ULONG files, i;
    HRESULT hr;

    found = get_job(&job->id, &hr);
    t.checks++;
    job->job = found;
    if (!is_live(job) && !job->pending)
    {
        ok(hr == BG_E_NOT_FOUND, "%s: final job back, %#lx\n", wine_dbgstr_guid(&job->id), hr);
        return;
    }
    gone_ok = job->pending && (job->pending_state == T_COMPLETED
            || job->pending_state == T_CANCELLED);
    if (!found)
    {
        ok(gone_ok && hr == BG_E_NOT_FOUND, "%s lost: %#lx\n", wine_dbgstr_guid(&job->id), hr);
        if (!gone_ok || hr != BG_E_NOT_FOUND) return;
        job->state = job->pending_state;
        job->pending = FALSE;
        if (job->state == T_COMPLETED)
        {
            /* The Complete had saved its intent: the load finished it. */
            t.recovered++;
            t.completed++;
            verify_files(job, TRUE);
        }
        else
        {
            t.cancelled++;
            verify_files(job, FALSE);
        }
        return;
    }

    files = count_job_files(found);
    if (job->adding)
    {
        ok(files == 0 || files == job->adding, "AddFileSet of %lu: %lu files\n", job->adding,
                files);
        job->files = files;
        job->adding = 0;
    }
    else ok(files == job->files, "%lu files, expected %lu\n", files, job->files);
    state = get_job_state(found);
    if (job->pending && job->pending_state == T_RESUMED)
        job->state = state == BG_JOB_STATE_SUSPENDED ? T_SUSPENDED : T_RESUMED;
    job->pending = FALSE;
    if (job->state == T_SUSPENDED)
        ok(state == BG_JOB_STATE_SUSPENDED, "state %u, expected SUSPENDED\n", state);
    else
        ok(is_action_state(state) || state == BG_JOB_STATE_TRANSFERRED, "state %u\n", state);
    for (i = 0; i < files && i < job->files; i++)
    {
        if (!get_file_progress(found, i, &progress)) continue;
        ok(!progress.Completed, "file %lu completed\n", i);
        ok(progress.BytesTransferred <= job->size[i], "file %lu: %s bytes of %s\n", i,
                wine_dbgstr_longlong(progress.BytesTransferred),
                wine_dbgstr_longlong(job->size[i]));
        if (progress.BytesTransferred != job->size[i]) all_in = FALSE;
        temp = get_temporary_name(found, i);
        if (progress.BytesTransferred && temp)
        {
            WIN32_FILE_ATTRIBUTE_DATA data;

            ok(GetFileAttributesExW(temp, GetFileExInfoStandard, &data)
                    && data.nFileSizeLow >= progress.BytesTransferred,
                    "temporary file %s smaller than %s bytes\n", wine_dbgstr_w(temp),
                    wine_dbgstr_longlong(progress.BytesTransferred));
        }
        CoTaskMemFree(temp);
        t.checks++;
    }
    if (state == BG_JOB_STATE_TRANSFERRED) ok(all_in, "TRANSFERRED with bytes missing\n");
    verify_files(job, FALSE);
}

/* Jobs whose CreateJob was cut: if they exist they are empty and SUSPENDED. */
static void check_unknown_jobs(void)
{
    IEnumBackgroundCopyJobs *jobs;
    IBackgroundCopyJob *job;
    WCHAR *name, prefix[32];
    GUID id;
    unsigned int i;
    BOOL known;
    HRESULT hr;

    hr = IBackgroundCopyManager_EnumJobs(test_manager, 0, &jobs);
    ok(hr == S_OK, "EnumJobs: %#lx\n", hr);
    if (FAILED(hr)) return;
    while (IEnumBackgroundCopyJobs_Next(jobs, 1, &job, NULL) == S_OK)
    {
        IBackgroundCopyJob_GetId(job, &id);
        for (i = 0, known = FALSE; i < t.count; i++)
            if (IsEqualGUID(&t.jobs[i].id, &id)) known = TRUE;
        name = NULL;
        IBackgroundCopyJob_GetDisplayName(job, &name);
        swprintf(prefix, ARRAY_SIZE(prefix), L" torture %u", t.run);
        if (!known && name && wcsstr(name, prefix))
        {
            ok(get_job_state(job) == BG_JOB_STATE_SUSPENDED && count_job_files(job) == 0,
                    "a job of a cut CreateJob is not empty\n");
            t.checks++;
            IBackgroundCopyJob_Cancel(job);
        }
        CoTaskMemFree(name);
        IBackgroundCopyJob_Release(job);
    }
    IEnumBackgroundCopyJobs_Release(jobs);
}

START_TEST(torture)
{
    HANDLE thread;
    unsigned int i, round;
    ULONGLONG start = GetTickCount64();
    HRESULT hr;

    if (!server_start()) return;
    if (!bits_test_init()) return;
    t.seed = t.run = GetTickCount();
    trace("seed %u\n", t.seed);
    /* Wine reuses process ids: a crashed earlier run may have left files in the directory. */
    remove_test_dir(make_test_dir(L"torture"));
    t.dir = make_test_dir(L"torture");
    t.killed = CreateEventW(NULL, TRUE, FALSE, NULL);
    for (round = 0; round < TORTURE_KILLS; round++)
    {
        ResetEvent(t.killed);
        t.delay = 20 + rnd(400);
        thread = CreateThread(NULL, 0, killer_main, NULL, 0, NULL);
        while (WaitForSingleObject(t.killed, 0) == WAIT_TIMEOUT && op_step());
        if (winetest_debug > 1) trace("round %u: waiting for the kill\n", round);
        WaitForSingleObject(thread, INFINITE);
        CloseHandle(thread);
        t.kills++;
        for (i = 0; i < t.count; i++) bitsctl_drop(&t.jobs[i].job);
        bitsctl_drop_manager();
        if (winetest_debug > 1) trace("round %u: restarting\n", round);
        if (!bitsctl_recover())
        {
            ok(0, "the service does not come back after kill %u\n", t.kills);
            break;
        }
        if (winetest_debug > 1) trace("kill %u after %lu ms\n", t.kills, t.delay);
        for (i = 0; i < t.count; i++) check_job(&t.jobs[i]);
        check_unknown_jobs();
        if (winetest_debug > 1) trace("round %u: checked\n", round);
    }

    /* The survivors finish and complete. */
    for (i = 0; test_manager && i < t.count; i++)
    {
        struct tjob *job = &t.jobs[i];

        if (!is_live(job) || !job->job) continue;
        if (!job->files)
        {
            cancel_job(job->job);
            continue;
        }
        IBackgroundCopyJob_Resume(job->job);
        ok(wait_for_state(job->job, BG_JOB_STATE_TRANSFERRED, TRANSFER_WAIT_MS), "state %u\n",
                get_job_state(job->job));
        hr = IBackgroundCopyJob_Complete(job->job);
        ok(hr == S_OK, "Complete: %#lx\n", hr);
        job->state = T_COMPLETED;
        t.completed++;
        verify_files(job, TRUE);
        IBackgroundCopyJob_Release(job->job);
    }
    trace("%u kills, %u checks: %u jobs created, %u completed (%u finished at load), "
            "%u cancelled, %.1f s\n", t.kills, t.checks, t.count, t.completed, t.recovered,
            t.cancelled, (GetTickCount64() - start) / 1000.0);
    ok(t.kills >= 50, "only %u kills\n", t.kills);
    for (i = 0; i < t.count; i++)
    {
        unsigned int j;

        for (j = 0; j < ARRAY_SIZE(t.jobs[i].local); j++) CoTaskMemFree(t.jobs[i].local[j]);
    }
    CloseHandle(t.killed);
    remove_test_dir(t.dir);
    bits_test_cleanup();
    server_stop();
}
