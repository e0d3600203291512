/* Notifications through a client's IBackgroundCopyCallback2 (behaviour.md §6.1-§6.5): which
 * method is called when, with what, under which notify flags, and again after a failure.
 * The callback object lives in this process; the service calls it through the proxy, so the
 * calls arrive on RPC threads of this multithreaded apartment (util.c, test_callback).
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#include "util.h"

#define TRANSFER_TIMEOUT 15000  /* ms for a few small files from 127.0.0.1 */
#define QUIET_TIME 1000         /* ms without a call that should not come at all */

/* A download job of COUNT server files "TAG-N?size=SIZE[&OPTIONS]" into DIR, with CALLBACK
 * registered and FLAGS set (unless FLAGS is -1, the default). */
static IBackgroundCopyJob *create_notified_job(const char *tag, unsigned int count, UINT64 size,
        const char *options, const WCHAR *dir, struct test_callback *callback, LONG flags,
        GUID *id)
{
    IBackgroundCopyJob *job;
    WCHAR wide[64], local[32], *path;
    char spec[256];
    unsigned int i;
    HRESULT hr;

    swprintf(wide, ARRAY_SIZE(wide), L"%hs", tag);
    job = create_transfer_job(wide, id);
    if (!job) return NULL;
    for (i = 0; i < count; i++)
    {
        snprintf(spec, sizeof(spec), "%s-%u?size=%llu%s%s", tag, i, (unsigned long long)size,
                options ? "&" : "", options ? options : "");
        swprintf(local, ARRAY_SIZE(local), L"file%u.bin", i);
        path = dir_file(dir, local);
        hr = add_server_file(job, spec, path);
        CoTaskMemFree(path);
        if (FAILED(hr)) goto failed;
    }
    if (flags != -1)
    {
        hr = IBackgroundCopyJob_SetNotifyFlags(job, (ULONG)flags);
        ok(hr == S_OK, "SetNotifyFlags(%#lx): %#lx\n", flags, hr);
        if (FAILED(hr)) goto failed;
    }
    if (callback)
    {
        hr = IBackgroundCopyJob_SetNotifyInterface(job, test_callback_unknown(callback));
        ok(hr == S_OK, "SetNotifyInterface: %#lx\n", hr);
        if (FAILED(hr)) goto failed;
    }
    return job;

failed:
    cancel_job(job);
    return NULL;
}

static BOOL start(struct test_callback **callback, WCHAR **dir, const WCHAR *name)
{
    *callback = NULL;
    *dir = NULL;
    if (!server_start())
    {
        skip("the test server does not start\n");
        return FALSE;
    }
    *callback = test_callback_create();
    ok(*callback != NULL, "no callback object\n");
    if (!*callback) return FALSE;
    *dir = make_test_dir(name);
    return *dir != NULL;
}

static void finish(IBackgroundCopyJob *job, struct test_callback *callback, WCHAR *dir)
{
    /* Cancel drops the service's reference to the callback: release ours after it. */
    cancel_job(job);
    test_callback_release(callback);
    remove_test_dir(dir);
}

static void check_no_calls(struct test_callback *callback, enum callback_kind kind,
        const char *what, int line)
{
    LONG count = test_callback_count(callback, kind);

    ok_(__FILE__, line)(!count, "%s called %ld times\n", what, count);
}
#define check_no_calls(callback, kind) check_no_calls(callback, kind, #kind, __LINE__)

/* §6.2: JobTransferred when the job enters TRANSFERRED, with the default flags
 * (TRANSFERRED | ERROR); nothing else without its flag. */
static void test_JobTransferred(void)
{
    struct test_callback *callback;
    struct callback_call call;
    IBackgroundCopyJob *job = NULL;
    WCHAR *dir;
    HRESULT hr;
    GUID id;

    if (!start(&callback, &dir, L"notify-transferred")) goto done;
    job = create_notified_job("notify-transferred", 2, 5000, NULL, dir, callback, -1, &id);
    if (!job) goto done;
    hr = IBackgroundCopyJob_Resume(job);
    ok(hr == S_OK, "Resume: %#lx\n", hr);
    ok(test_callback_wait(callback, CALLBACK_JOB_TRANSFERRED, 1, TRANSFER_TIMEOUT),
            "no JobTransferred; state %d\n", get_job_state(job));
    if (test_callback_find_call(callback, CALLBACK_JOB_TRANSFERRED, 0, &call))
    {
        ok(IsEqualGUID(&call.job_id, &id), "called for job %s\n",
                wine_dbgstr_guid(&call.job_id));
        ok(call.state == BG_JOB_STATE_TRANSFERRED, "state %d during the call\n", call.state);
        hr = IBackgroundCopyJob_Complete(job);
        ok(hr == S_OK, "Complete: %#lx\n", hr);
    }
    check_no_calls(callback, CALLBACK_JOB_ERROR);
    check_no_calls(callback, CALLBACK_JOB_MODIFICATION);
    check_no_calls(callback, CALLBACK_FILE_TRANSFERRED);

done:
    finish(job, callback, dir);
}

/* §6.2: JobError when the job enters ERROR, with the error object of the job (§4.4). */
static void test_JobError(void)
{
    struct test_callback *callback;
    struct callback_call call;
    IBackgroundCopyJob *job = NULL;
    WCHAR *dir, *path = NULL;
    HRESULT hr;
    GUID id;

    if (!start(&callback, &dir, L"notify-error")) goto done;
    job = create_notified_job("notify-error", 1, 100, "status=404", dir, callback, -1, &id);
    if (!job) goto done;
    path = dir_file(dir, L"file0.bin");
    hr = IBackgroundCopyJob_Resume(job);
    ok(hr == S_OK, "Resume: %#lx\n", hr);
    ok(test_callback_wait(callback, CALLBACK_JOB_ERROR, 1, TRANSFER_TIMEOUT),
            "no JobError; state %d\n", get_job_state(job));
    if (test_callback_find_call(callback, CALLBACK_JOB_ERROR, 0, &call))
    {
        ok(IsEqualGUID(&call.job_id, &id), "called for job %s\n",
                wine_dbgstr_guid(&call.job_id));
        ok(call.state == BG_JOB_STATE_ERROR, "state %d during the call\n", call.state);
        ok(call.context == BG_ERROR_CONTEXT_REMOTE_FILE, "context %d\n", call.context);
        ok(call.code == BG_E_HTTP_ERROR_404, "code %#lx\n", call.code);
        ok(call.file_hr == S_OK && str_equal(call.file, path), "GetFile: %#lx, %s\n",
                call.file_hr, wine_dbgstr_w(call.file));
    }
    check_no_calls(callback, CALLBACK_JOB_TRANSFERRED);

done:
    CoTaskMemFree(path);
    finish(job, callback, dir);
}

/* §6.2: never JobError for a transient error. */
static void test_no_JobError_when_transient(void)
{
    struct test_callback *callback;
    IBackgroundCopyJob *job = NULL;
    WCHAR *dir;
    HRESULT hr;

    if (!start(&callback, &dir, L"notify-transient")) goto done;
    job = create_notified_job("notify-transient", 1, 100, "status=503", dir, callback, -1, NULL);
    if (!job) goto done;
    hr = IBackgroundCopyJob_Resume(job);
    ok(hr == S_OK, "Resume: %#lx\n", hr);
    ok(wait_for_state(job, BG_JOB_STATE_TRANSIENT_ERROR, TRANSFER_TIMEOUT), "state %d\n",
            get_job_state(job));
    ok(!test_callback_wait(callback, CALLBACK_JOB_ERROR, 1, QUIET_TIME),
            "JobError for a transient error\n");
    check_no_calls(callback, CALLBACK_JOB_TRANSFERRED);

done:
    finish(job, callback, dir);
}

/* §6.2: JobModification with its flag, for a property set and during a transfer; gap G15
 * leaves open how often, so only "at least once" is checked. */
static void test_JobModification(void)
{
    struct test_callback *callback;
    IBackgroundCopyJob *job = NULL;
    WCHAR *dir;
    LONG before;
    HRESULT hr;

    if (!start(&callback, &dir, L"notify-modification")) goto done;
    job = create_notified_job("notify-modification", 1, 20000, NULL, dir, callback,
            BG_NOTIFY_JOB_TRANSFERRED | BG_NOTIFY_JOB_MODIFICATION, NULL);
    if (!job) goto done;
    hr = IBackgroundCopyJob_SetDescription(job, L"modified");
    ok(hr == S_OK, "SetDescription: %#lx\n", hr);
    ok(test_callback_wait(callback, CALLBACK_JOB_MODIFICATION, 1, TRANSFER_TIMEOUT),
            "no JobModification for a property\n");
    before = test_callback_count(callback, CALLBACK_JOB_MODIFICATION);
    hr = IBackgroundCopyJob_Resume(job);
    ok(hr == S_OK, "Resume: %#lx\n", hr);
    ok(test_callback_wait(callback, CALLBACK_JOB_TRANSFERRED, 1, TRANSFER_TIMEOUT),
            "no JobTransferred; state %d\n", get_job_state(job));
    ok(test_callback_wait(callback, CALLBACK_JOB_MODIFICATION, before + 1, TRANSFER_TIMEOUT),
            "no JobModification during the transfer\n");
    check_no_calls(callback, CALLBACK_JOB_ERROR);
    check_no_calls(callback, CALLBACK_FILE_TRANSFERRED);

done:
    finish(job, callback, dir);
}

/* §6.2: FileTransferred once per file, in job order, all of them before JobTransferred. */
static void test_FileTransferred(void)
{
    struct test_callback *callback;
    struct callback_call call;
    IBackgroundCopyJob *job = NULL;
    WCHAR *dir, local[32], *path;
    unsigned int i, files = 0;
    BOOL transferred = FALSE;
    HRESULT hr;
    GUID id;

    if (!start(&callback, &dir, L"notify-files")) goto done;
    job = create_notified_job("notify-files", 3, 3000, NULL, dir, callback,
            BG_NOTIFY_JOB_TRANSFERRED | BG_NOTIFY_FILE_TRANSFERRED, &id);
    if (!job) goto done;
    hr = IBackgroundCopyJob_Resume(job);
    ok(hr == S_OK, "Resume: %#lx\n", hr);
    ok(test_callback_wait(callback, CALLBACK_JOB_TRANSFERRED, 1, TRANSFER_TIMEOUT),
            "no JobTransferred; state %d\n", get_job_state(job));
    ok(test_callback_count(callback, CALLBACK_FILE_TRANSFERRED) == 3,
            "FileTransferred called %ld times\n",
            test_callback_count(callback, CALLBACK_FILE_TRANSFERRED));
    for (i = 0; test_callback_get_call(callback, i, &call); i++)
    {
        if (call.kind == CALLBACK_JOB_TRANSFERRED) transferred = TRUE;
        if (call.kind != CALLBACK_FILE_TRANSFERRED) continue;
        winetest_push_context("call %u", i);
        ok(!transferred, "FileTransferred after JobTransferred\n");
        ok(IsEqualGUID(&call.job_id, &id), "called for job %s\n",
                wine_dbgstr_guid(&call.job_id));
        swprintf(local, ARRAY_SIZE(local), L"file%u.bin", files);
        path = dir_file(dir, local);
        ok(str_equal(call.file, path), "file %s, expected %s\n", wine_dbgstr_w(call.file),
                wine_dbgstr_w(path));
        CoTaskMemFree(path);
        files++;
        winetest_pop_context();
    }
    hr = IBackgroundCopyJob_Complete(job);
    ok(hr == S_OK, "Complete: %#lx\n", hr);

done:
    finish(job, callback, dir);
}

/* Runs a job of one file (or, with ERROR, one 404) to its end with FLAGS and checks that the
 * callback is never called. */
static void check_silent(const char *tag, ULONG flags, BOOL error)
{
    struct test_callback *callback;
    IBackgroundCopyJob *job = NULL;
    BG_JOB_STATE expected = error ? BG_JOB_STATE_ERROR : BG_JOB_STATE_TRANSFERRED;
    WCHAR *dir, wide[64];
    unsigned int i;
    HRESULT hr;

    swprintf(wide, ARRAY_SIZE(wide), L"%hs", tag);
    if (!start(&callback, &dir, wide)) goto done;
    job = create_notified_job(tag, 1, 4000, error ? "status=404" : NULL, dir, callback,
            (LONG)flags, NULL);
    if (!job) goto done;
    hr = IBackgroundCopyJob_Resume(job);
    ok(hr == S_OK, "Resume: %#lx\n", hr);
    ok(wait_for_state(job, expected, TRANSFER_TIMEOUT), "state %d\n", get_job_state(job));
    /* A notification would have been sent by now; give it some time to arrive. */
    Sleep(QUIET_TIME);
    for (i = 0; i < CALLBACK_KIND_COUNT; i++)
        ok(!test_callback_count(callback, i), "callback %u called %ld times\n", i,
                test_callback_count(callback, i));

done:
    finish(job, callback, dir);
}

/* §6.4: BG_NOTIFY_DISABLE silences every other flag. */
static void test_NOTIFY_DISABLE(void)
{
    static const ULONG all = BG_NOTIFY_JOB_TRANSFERRED | BG_NOTIFY_JOB_ERROR
            | BG_NOTIFY_JOB_MODIFICATION | BG_NOTIFY_FILE_TRANSFERRED;

    check_silent("notify-disable", all | BG_NOTIFY_DISABLE, FALSE);
    check_silent("notify-disable-error", all | BG_NOTIFY_DISABLE, TRUE);
}

/* §6.4: no flags, no notifications. */
static void test_no_flags(void)
{
    check_silent("notify-no-flags", 0, FALSE);
    check_silent("notify-no-flags-error", 0, TRUE);
}

/* §6.3, gap G16: a JobTransferred that fails is called again later, until it succeeds.  The
 * interval is not documented; we retry after MinimumRetryDelay [inferred], here the smallest
 * (5 s), and wait at most 25 s. */
static void test_JobTransferred_called_again_after_failure(void)
{
    struct test_callback *callback;
    struct callback_call first, second;
    IBackgroundCopyJob *job = NULL;
    WCHAR *dir;
    HRESULT hr;

    if (!start(&callback, &dir, L"notify-again")) goto done;
    callback->fail_transferred = 1;
    job = create_notified_job("notify-again", 1, 2000, NULL, dir, callback, -1, NULL);
    if (!job) goto done;
    hr = IBackgroundCopyJob_SetMinimumRetryDelay(job, 5);
    ok(hr == S_OK, "SetMinimumRetryDelay: %#lx\n", hr);
    hr = IBackgroundCopyJob_Resume(job);
    ok(hr == S_OK, "Resume: %#lx\n", hr);
    ok(test_callback_wait(callback, CALLBACK_JOB_TRANSFERRED, 1, TRANSFER_TIMEOUT),
            "no JobTransferred; state %d\n", get_job_state(job));
    ok(test_callback_wait(callback, CALLBACK_JOB_TRANSFERRED, 2, 25000),
            "JobTransferred not called again after E_FAIL\n");
    if (test_callback_find_call(callback, CALLBACK_JOB_TRANSFERRED, 0, &first)
            && test_callback_find_call(callback, CALLBACK_JOB_TRANSFERRED, 1, &second))
    {
        ok(first.returned == E_FAIL && second.returned == S_OK, "returned %#lx, then %#lx\n",
                first.returned, second.returned);
        ok(second.state == BG_JOB_STATE_TRANSFERRED, "state %d during the second call\n",
                second.state);
        /* Once it succeeded, no more calls. */
        ok(!test_callback_wait(callback, CALLBACK_JOB_TRANSFERRED, 3, QUIET_TIME),
                "JobTransferred called again after S_OK\n");
    }
    hr = IBackgroundCopyJob_Complete(job);
    ok(hr == S_OK, "Complete: %#lx\n", hr);

done:
    finish(job, callback, dir);
}

/* §6.2: an interface registered after the job is TRANSFERRED still gets JobTransferred. */
static void test_JobTransferred_late_registration(void)
{
    struct test_callback *callback;
    IBackgroundCopyJob *job = NULL;
    WCHAR *dir;
    HRESULT hr;

    if (!start(&callback, &dir, L"notify-late")) goto done;
    job = create_notified_job("notify-late", 1, 1500, NULL, dir, NULL, -1, NULL);
    if (!job) goto done;
    hr = IBackgroundCopyJob_Resume(job);
    ok(hr == S_OK, "Resume: %#lx\n", hr);
    if (!wait_for_state(job, BG_JOB_STATE_TRANSFERRED, TRANSFER_TIMEOUT))
    {
        ok(0, "state %d\n", get_job_state(job));
        goto done;
    }
    hr = IBackgroundCopyJob_SetNotifyInterface(job, test_callback_unknown(callback));
    ok(hr == S_OK, "SetNotifyInterface: %#lx\n", hr);
    ok(test_callback_wait(callback, CALLBACK_JOB_TRANSFERRED, 1, TRANSFER_TIMEOUT),
            "no JobTransferred after a late SetNotifyInterface\n");
    hr = IBackgroundCopyJob_Complete(job);
    ok(hr == S_OK, "Complete: %#lx\n", hr);

done:
    finish(job, callback, dir);
}

START_TEST(notify)
{
    if (!bits_test_init()) return;
    test_JobTransferred();
    test_JobError();
    test_no_JobError_when_transient();
    test_JobModification();
    test_FileTransferred();
    test_NOTIFY_DISABLE();
    test_no_flags();
    test_JobTransferred_called_again_after_failure();
    test_JobTransferred_late_registration();
    server_stop();
    bits_test_cleanup();
}
