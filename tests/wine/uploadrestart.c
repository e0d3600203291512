/* Wine-only tests of uploads across a restart of the service (dlls/qmgr/upload.c, engine.c,
 * store.c): the store keeps an upload's session and the bytes the server acknowledged, and an
 * upload-reply job's reply, so a restarted service goes on where the stopped one was.  They
 * stop and start the service of the prefix they run in, so they never run on Windows or
 * beside other units.  tests/wine/uploadrestart.sh runs them:
 *
 *     uploadresume   an upload stopped with a fragment in flight goes on after the restart in
 *                    the same session, from the bytes the server acknowledged, not from 0
 *     replyresume    an upload-reply job stopped while its reply comes in fetches the rest of
 *                    the reply after the restart, then closes the session; the reply file is
 *                    whole after Complete
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#include "bitsctl.h"

#define WAIT_MS         60000
#define STALL_MS        20000

/* Writes SIZE bytes of the server's content of NAME to PATH. */
static BOOL write_source(const WCHAR *path, const char *name, UINT64 size)
{
    BYTE buffer[65536];
    UINT64 offset = 0;
    DWORD n, written;
    HANDLE file;
    BOOL ret = TRUE;

    file = CreateFileW(path, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
    if (file == INVALID_HANDLE_VALUE) return FALSE;
    while (ret && offset < size)
    {
        n = size - offset < sizeof(buffer) ? (DWORD)(size - offset) : sizeof(buffer);
        server_fill(name, offset, buffer, n);
        ret = WriteFile(file, buffer, n, &written, NULL) && written == n;
        offset += n;
    }
    CloseHandle(file);
    return ret;
}

/* A job of TYPE sending LOCAL to the server's "/upload/SPEC"; NULL after a failure report. */
static IBackgroundCopyJob *create_upload(const WCHAR *tag, BG_JOB_TYPE type, const char *spec,
        const WCHAR *local, GUID *id)
{
    WCHAR url[SERVER_TARGET_MAX + 32];
    char path[SERVER_TARGET_MAX];
    IBackgroundCopyJob *job;
    HRESULT hr;

    job = create_job(tag, type, id);
    if (!job) return NULL;
    snprintf(path, sizeof(path), "/upload/%s", spec);
    hr = server_url(path, url, ARRAY_SIZE(url)) ? IBackgroundCopyJob_AddFile(job, url, local)
            : E_FAIL;
    ok(hr == S_OK, "AddFile: %#lx\n", hr);
    /* A retry, should one be needed, comes soon. */
    if (SUCCEEDED(hr)) hr = IBackgroundCopyJob_SetMinimumRetryDelay(job, 5);
    if (SUCCEEDED(hr)) return job;
    cancel_job(job);
    return NULL;
}

/* bitsctl_restart()'s BETWEEN: the server lets the held transfer go on, with nobody left
 * to hear it. */
static void release_held(void *name)
{
    server_release(name);
}


/* ---- uploadresume ---- */

START_TEST(uploadresume)
{
    static const char name[] = "restart-upload";
    static const UINT64 size = 3000000;
    struct server_packet packet, create;
    struct server_upload state;
    IBackgroundCopyJob *job = NULL;
    UINT64 acknowledged = 0;
    WCHAR *dir, *path = NULL;
    unsigned int i, before;
    char spec[64];
    GUID id;
    HRESULT hr;

    if (!server_start()) return;
    if (!bits_test_init()) return;
    dir = make_test_dir(L"uploadresume");
    path = dir ? dir_file(dir, L"source.bin") : NULL;
    if (!path || !write_source(path, "restart-upload-src", size))
    {
        ok(0, "cannot write the source\n");
        goto done;
    }
    snprintf(spec, sizeof(spec), "%s?stall=%llu", name, (unsigned long long)size / 2);
    job = create_upload(L"upload resume", BG_JOB_TYPE_UPLOAD, spec, path, &id);
    if (!job) goto done;
    hr = IBackgroundCopyJob_Resume(job);
    ok(hr == S_OK, "Resume: %#lx\n", hr);
    if (!server_wait_stalled(name, STALL_MS))
    {
        ok(0, "no fragment held; state %d\n", get_job_state(job));
        goto done;
    }
    /* The fragments before the held one were acknowledged. */
    for (i = 0; server_packet_get(name, "Fragment", i, &packet); i++)
        if (packet.status == 200 && packet.has_received) acknowledged = packet.received;
    ok(acknowledged > 0, "nothing acknowledged before the held fragment\n");
    before = server_packet_count(name, "Fragment");

    if (!bitsctl_restart(&job, &id, 1, release_held, (void *)name)) goto done;
    ok(wait_for_state(job, BG_JOB_STATE_TRANSFERRED, WAIT_MS), "state %d\n", get_job_state(job));
    ok(server_packet_wait(name, "Close-Session", 1, WAIT_MS), "no Close-Session\n");
    ok(server_upload_verify(name, path), "the server's file differs\n");
    server_upload_state(name, &state);
    ok(state.sessions == 1 && state.commits == 1 && !state.open, "%u sessions, %u commits, "
            "%u open\n", state.sessions, state.commits, state.open);
    ok(server_packet_count(name, "Create-Session") == 1, "%u Create-Session\n",
            server_packet_count(name, "Create-Session"));
    /* The first fragment of the restarted service goes on from what the server had. */
    ok(server_packet_get(name, "Fragment", before, &packet) && packet.has_range
            && packet.first == acknowledged
            && server_packet_get(name, "Create-Session", 0, &create)
            && !strcmp(packet.session, create.session),
            "after the restart: %s in %s, expected from %s\n", packet.content_range,
            packet.session, wine_dbgstr_longlong(acknowledged));
    hr = IBackgroundCopyJob_Complete(job);
    ok(hr == S_OK, "Complete: %#lx\n", hr);
done:
    server_release(name);
    cancel_job(job);
    CoTaskMemFree(path);
    remove_test_dir(dir);
    bits_test_cleanup();
    server_stop();
}

/* ---- replyresume ---- */

/* Whether the log has a GET of the reply whose Range starts at a byte after 0. */
static BOOL reply_resumed(const char *target)
{
    struct server_request request;
    unsigned int i;

    for (i = 0; server_log_get(NULL, i, &request); i++)
    {
        if (strcmp(request.method, "GET") || strncmp(request.target, target, strlen(target)))
            continue;
        if (!strncmp(request.range, "bytes=", 6) && strncmp(request.range, "bytes=0-", 8))
            return TRUE;
    }
    return FALSE;
}

START_TEST(replyresume)
{
    static const char name[] = "restart-reply";
    static const char reply_name[] = "restart-reply.reply";
    static const UINT64 size = 50000, reply_size = 400000;
    IBackgroundCopyJob2 *job2 = NULL;
    IBackgroundCopyJob *job = NULL;
    WCHAR *dir, *path = NULL, *reply = NULL;
    BG_JOB_REPLY_PROGRESS progress;
    struct server_upload state;
    char spec[96], target[64];
    GUID id;
    HRESULT hr;

    if (!server_start()) return;
    if (!bits_test_init()) return;
    server_log_clear();
    dir = make_test_dir(L"replyresume");
    path = dir ? dir_file(dir, L"request.bin") : NULL;
    reply = dir ? dir_file(dir, L"answer.bin") : NULL;
    if (!path || !reply || !write_source(path, "restart-reply-src", size))
    {
        ok(0, "cannot write the source\n");
        goto done;
    }
    snprintf(spec, sizeof(spec), "%s?reply=%llu&replystall=%llu", name,
            (unsigned long long)reply_size, (unsigned long long)reply_size / 2);
    job = create_upload(L"reply resume", BG_JOB_TYPE_UPLOAD_REPLY, spec, path, &id);
    if (!job) goto done;
    hr = IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJob2, (void **)&job2);
    ok(hr == S_OK, "QueryInterface(Job2): %#lx\n", hr);
    if (FAILED(hr)) goto done;
    hr = IBackgroundCopyJob2_SetReplyFileName(job2, reply);
    ok(hr == S_OK, "SetReplyFileName: %#lx\n", hr);
    IBackgroundCopyJob2_Release(job2);
    hr = IBackgroundCopyJob_Resume(job);
    ok(hr == S_OK, "Resume: %#lx\n", hr);
    if (!server_wait_stalled(reply_name, STALL_MS))
    {
        ok(0, "the reply was not held; state %d\n", get_job_state(job));
        goto done;
    }
    ok(!server_packet_count(name, "Close-Session"), "Close-Session before the reply\n");

    if (!bitsctl_restart(&job, &id, 1, release_held, (void *)reply_name)) goto done;
    ok(wait_for_state(job, BG_JOB_STATE_TRANSFERRED, WAIT_MS), "state %d\n", get_job_state(job));
    snprintf(target, sizeof(target), "/file/%s", reply_name);
    ok(reply_resumed(target), "the reply was fetched from 0 again\n");
    ok(server_packet_wait(name, "Close-Session", 1, WAIT_MS), "no Close-Session\n");
    server_upload_state(name, &state);
    ok(state.sessions == 1 && state.commits == 1 && !state.open, "%u sessions, %u commits, "
            "%u open\n", state.sessions, state.commits, state.open);
    job2 = NULL;
    hr = IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJob2, (void **)&job2);
    if (SUCCEEDED(hr))
    {
        hr = IBackgroundCopyJob2_GetReplyProgress(job2, &progress);
        ok(hr == S_OK && progress.BytesTotal == reply_size
                && progress.BytesTransferred == reply_size, "GetReplyProgress: %#lx, %s of %s\n",
                hr, wine_dbgstr_longlong(progress.BytesTransferred),
                wine_dbgstr_longlong(progress.BytesTotal));
        IBackgroundCopyJob2_Release(job2);
    }
    hr = IBackgroundCopyJob_Complete(job);
    ok(hr == S_OK, "Complete: %#lx\n", hr);
    ok(server_verify_file(reply, reply_name, reply_size), "the reply file is not the reply\n");
done:
    server_release(reply_name);
    cancel_job(job);
    CoTaskMemFree(reply);
    CoTaskMemFree(path);
    remove_test_dir(dir);
    bits_test_cleanup();
    server_stop();
}
