/* Upload and upload-reply jobs against the BITS upload server inside this process (server.h):
 * creation, the one-file rule, progress, the packets on the wire and the bytes the server
 * gets, the reply (its file, GetReplyData, GetReplyProgress, Get/SetReplyFileName), Complete,
 * Cancel and Suspend in flight, and the answers a BITS server gives when something goes wrong
 * (behaviour.md §1-§4, §7.3, §3.1-§3.4; wire-and-tools.md §2; [MC-BUP]; Learn pages of
 * IBackgroundCopyJob2).  Only the public COM API, so it runs unchanged on Windows.
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#include "util.h"

#define UPLOAD_TIMEOUT 30000    /* ms for an upload of a few hundred KiB to 127.0.0.1 */
#define LARGE_TIMEOUT 120000    /* ms for several MiB */
#define RETRY_TIMEOUT 60000     /* ms for an upload with a retry after MinimumRetryDelay */
#define STALL_TIMEOUT 20000     /* ms until a fragment is held by the server */
#define PACKET_TIMEOUT 30000    /* ms for a packet that follows a state change */
#define GUARD_TIMEOUT 30000     /* a stalled name is released at the latest after this */
#define RETRY_DELAY 5           /* s, the smallest MinimumRetryDelay (behaviour.md §4.2) */
#define REPLY_DATA_MAX 1048576  /* GetReplyData keeps replies up to 1 MB in memory [doc] */

static BOOL start_server(void)
{
    if (server_start()) return TRUE;
    skip("the test server does not start\n");
    return FALSE;
}

/* Writes SIZE bytes of the server's content of NAME (server_fill) to PATH. */
static BOOL write_source(const WCHAR *path, const char *name, UINT64 size)
{
    BYTE *buffer = malloc(65536);
    UINT64 offset = 0;
    DWORD n, written;
    HANDLE file;
    BOOL ret = FALSE;

    if (!buffer) return FALSE;
    file = CreateFileW(path, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
    if (file == INVALID_HANDLE_VALUE)
    {
        trace("cannot create %s: error %lu\n", wine_dbgstr_w(path), GetLastError());
        free(buffer);
        return FALSE;
    }
    for (;;)
    {
        if (offset == size)
        {
            ret = TRUE;
            break;
        }
        n = size - offset < 65536 ? (DWORD)(size - offset) : 65536;
        server_fill(name, offset, buffer, n);
        if (!WriteFile(file, buffer, n, &written, NULL) || written != n) break;
        offset += n;
    }
    CloseHandle(file);
    free(buffer);
    return ret;
}

/* DIR\LOCAL filled with SIZE bytes of NAME's content; CoTaskMemAlloc'd, NULL after a failure
 * report. */
static WCHAR *make_source(const WCHAR *dir, const WCHAR *local, const char *name, UINT64 size)
{
    WCHAR *path = dir_file(dir, local);

    if (path && write_source(path, name, size)) return path;
    ok(0, "cannot write the upload source %s\n", wine_dbgstr_w(path));
    CoTaskMemFree(path);
    return NULL;
}

/* The test server's "/upload/SPEC" ("name?options"). */
static const WCHAR *upload_url(const char *spec, WCHAR *buffer, size_t len)
{
    char path[SERVER_TARGET_MAX];

    snprintf(path, sizeof(path), "/upload/%s", spec);
    return server_url(path, buffer, len);
}

/* A uniquely named job of TYPE with the one file LOCAL to "/upload/SPEC"; NULL after a
 * failure report. */
static IBackgroundCopyJob *create_upload_job(const WCHAR *tag, BG_JOB_TYPE type,
        const char *spec, const WCHAR *local, GUID *id)
{
    IBackgroundCopyJob *job;
    WCHAR url[SERVER_TARGET_MAX + 32];
    HRESULT hr;

    job = create_job(tag, type, id);
    if (!job || !local) goto failed;
    if (!upload_url(spec, url, ARRAY_SIZE(url)))
    {
        ok(0, "no URL for %s\n", spec);
        goto failed;
    }
    hr = IBackgroundCopyJob_AddFile(job, url, local);
    ok(hr == S_OK, "AddFile(%s, %s): %#lx\n", wine_dbgstr_w(url), wine_dbgstr_w(local), hr);
    if (hr == S_OK) return job;
failed:
    cancel_job(job);
    return NULL;
}

static IBackgroundCopyJob2 *get_job2(IBackgroundCopyJob *job)
{
    IBackgroundCopyJob2 *job2 = NULL;
    HRESULT hr;

    hr = IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJob2, (void **)&job2);
    ok(hr == S_OK && job2, "QueryInterface(IBackgroundCopyJob2): %#lx\n", hr);
    return job2;
}

#define resume_and_wait(job, expected, timeout) resume_job_and_wait(job, expected, timeout, NULL)

/* Resumes the job and waits until the server holds a fragment of NAME (stall=), or until the
 * job is in a state it does not leave by itself, so that a job that never sends one does not
 * cost the timeout. */
static BOOL resume_stalled_at(IBackgroundCopyJob *job, const char *name, int line)
{
    BG_ERROR_CONTEXT context = BG_ERROR_CONTEXT_NONE;
    HRESULT hr, code = S_OK;
    ULONGLONG deadline;
    BG_JOB_STATE state;

    hr = IBackgroundCopyJob_Resume(job);
    ok_(__FILE__, line)(hr == S_OK, "Resume: %#lx\n", hr);
    deadline = GetTickCount64() + STALL_TIMEOUT;
    for (;;)
    {
        if (server_wait_stalled(name, 100)) return TRUE;
        state = get_job_state(job);
        if (state == BG_JOB_STATE_ERROR || state == BG_JOB_STATE_TRANSFERRED
                || state == BG_JOB_STATE_SUSPENDED || state == BG_JOB_STATE_ACKNOWLEDGED
                || state == BG_JOB_STATE_CANCELLED || GetTickCount64() >= deadline)
            break;
    }
    get_job_error(job, &context, &code);
    ok_(__FILE__, line)(0, "no fragment held by the server; state %d, error %#lx, context %d\n",
            state, code, context);
    return FALSE;
}
#define resume_stalled(job, name) resume_stalled_at(job, name, __LINE__)

/* Uploads with MinimumRetryDelay at RETRY_DELAY: the server's answers need no retry delay,
 * but a low one keeps a client that waits anyway in time.  FALSE when the job did not reach
 * TRANSFERRED; else the Close-Session is checked too. */
static BOOL upload_retrying_at(IBackgroundCopyJob *job, const char *name, int line)
{
    IBackgroundCopyJob_SetMinimumRetryDelay(job, RETRY_DELAY);
    if (!resume_job_and_wait_at(job, BG_JOB_STATE_TRANSFERRED, RETRY_TIMEOUT, NULL, __FILE__,
            line))
        return FALSE;
    ok_(__FILE__, line)(server_packet_wait(name, "Close-Session", 1, PACKET_TIMEOUT),
            "no Close-Session\n");
    return TRUE;
}
#define upload_retrying(job, name) upload_retrying_at(job, name, __LINE__)

static void check_complete_at(IBackgroundCopyJob *job, int line)
{
    HRESULT hr = IBackgroundCopyJob_Complete(job);

    ok_(__FILE__, line)(hr == S_OK, "Complete: %#lx\n", hr);
    ok_(__FILE__, line)(get_job_state(job) == BG_JOB_STATE_ACKNOWLEDGED, "state %d after "
            "Complete\n", get_job_state(job));
}
#define check_complete(job) check_complete_at(job, __LINE__)

static void check_error_at(IBackgroundCopyJob *job, HRESULT code, BG_ERROR_CONTEXT context,
        int line)
{
    BG_ERROR_CONTEXT got_context;
    HRESULT got_code;

    ok_(__FILE__, line)(get_job_error(job, &got_context, &got_code), "no error object\n");
    ok_(__FILE__, line)(got_code == code && got_context == context,
            "error %#lx, context %d; expected %#lx, context %d\n", got_code, got_context, code,
            context);
}
#define check_error(job, code, context) check_error_at(job, code, context, __LINE__)

/* Whether the space-separated LIST holds TOKEN, case-insensitively. */
static BOOL list_has(const char *list, const char *token)
{
    size_t len = strlen(token), n;

    while (*list)
    {
        list += strspn(list, " \t");
        n = strcspn(list, " \t");
        if (n == len && !_strnicmp(list, token, len)) return TRUE;
        list += n;
    }
    return FALSE;
}

/* The packets of one clean upload of SIZE bytes from a file named CONTENT_NAME: an optional
 * Ping, one Create-Session offering the BITS 1.5 upload protocol, Fragments answered 200 that
 * cover [0, SIZE) in order with "bytes a-b/SIZE", then one Close-Session, all in the session
 * the server gave (wire-and-tools.md §2.4, §2.5; Learn "Fragment": Content-Name on the first
 * fragment, [MC-BUP] 4.1: on Create-Session). */
static void check_clean_packets_at(const char *name, UINT64 size, const char *content_name,
        int line)
{
    unsigned int i, creates = 0, fragments = 0, closes = 0, others = 0;
    char session[SERVER_VALUE_MAX] = "", first_name[SERVER_VALUE_MAX] = "";
    char create_name[SERVER_VALUE_MAX] = "";
    struct server_packet packet;
    BOOL closed = FALSE;
    UINT64 next = 0;

    for (i = 0; server_packet_get(name, NULL, i, &packet); i++)
    {
        if (!_stricmp(packet.type, "Ping")) continue;
        if (!_stricmp(packet.type, "Create-Session"))
        {
            creates++;
            ok_(__FILE__, line)(list_has(packet.protocols, SERVER_PROTOCOL_UPLOAD),
                    "BITS-Supported-Protocols %s\n", packet.protocols);
            ok_(__FILE__, line)(packet.status == 200, "Create-Session answered %u\n",
                    packet.status);
            strcpy(session, packet.session);
            strcpy(create_name, packet.content_name);
        }
        else if (!_stricmp(packet.type, "Fragment"))
        {
            winetest_push_context("fragment %u", fragments);
            ok_(__FILE__, line)(!strcmp(packet.session, session) && !closed,
                    "in session %s after %s\n", packet.session, session);
            ok_(__FILE__, line)(packet.has_range && packet.first == next
                    && packet.total == size && !_strnicmp(packet.content_range, "bytes ", 6),
                    "Content-Range %s, expected from %s of %s\n", packet.content_range,
                    wine_dbgstr_longlong(next), wine_dbgstr_longlong(size));
            ok_(__FILE__, line)(packet.status == 200 && packet.body_read == packet.body_length,
                    "answered %u, %s of %s bytes\n", packet.status,
                    wine_dbgstr_longlong(packet.body_read),
                    wine_dbgstr_longlong(packet.body_length));
            if (!fragments) strcpy(first_name, packet.content_name);
            if (packet.has_range) next = packet.last + 1;
            fragments++;
            winetest_pop_context();
        }
        else if (!_stricmp(packet.type, "Close-Session"))
        {
            closes++;
            closed = TRUE;
            ok_(__FILE__, line)(!strcmp(packet.session, session) && packet.status == 200,
                    "Close-Session in %s answered %u\n", packet.session, packet.status);
            ok_(__FILE__, line)(next == size, "Close-Session after %s of %s bytes\n",
                    wine_dbgstr_longlong(next), wine_dbgstr_longlong(size));
        }
        else others++;
    }
    ok_(__FILE__, line)(creates == 1 && closes == 1 && !others, "%u Create-Session, %u "
            "Close-Session, %u other packets\n", creates, closes, others);
    ok_(__FILE__, line)(fragments >= 1 && next == size, "%u fragments up to %s of %s\n",
            fragments, wine_dbgstr_longlong(next), wine_dbgstr_longlong(size));
    ok_(__FILE__, line)(!strcmp(first_name, content_name) || !strcmp(create_name, content_name),
            "Content-Name %s on the first fragment, %s on Create-Session; expected %s\n",
            first_name, create_name, content_name);
}
#define check_clean_packets(name, size, content_name) \
    check_clean_packets_at(name, size, content_name, __LINE__)

/* The server holds exactly the local file under NAME, and no session is left open. */
static void check_uploaded_at(const char *name, const WCHAR *path, int line)
{
    struct server_upload state;

    ok_(__FILE__, line)(server_upload_verify(name, path), "the server's %s is not %s\n", name,
            wine_dbgstr_w(path));
    server_upload_state(name, &state);
    ok_(__FILE__, line)(state.commits == 1, "%u files committed\n", state.commits);
    ok_(__FILE__, line)(!state.open, "%u sessions left open\n", state.open);
}
#define check_uploaded(name, path) check_uploaded_at(name, path, __LINE__)

/* Counts NAME's packets of TYPE answered with STATUS. */
static unsigned int count_answered(const char *name, const char *type, unsigned int status)
{
    struct server_packet packet;
    unsigned int i, count = 0;

    for (i = 0; server_packet_get(name, type, i, &packet); i++)
        if (packet.status == status) count++;
    return count;
}

/* ---------------------------------------------------------------------------------------- */

/* behaviour.md §0.1, §1.1, §7.3: both upload types are created SUSPENDED, empty, and keep
 * their type; an empty job cannot be resumed [doc]. */
static void test_create(void)
{
    static const BG_JOB_TYPE types[] = { BG_JOB_TYPE_UPLOAD, BG_JOB_TYPE_UPLOAD_REPLY };
    BG_JOB_PROGRESS progress;
    IBackgroundCopyJob *job;
    BG_JOB_TYPE type;
    unsigned int i;
    HRESULT hr;

    for (i = 0; i < ARRAY_SIZE(types); i++)
    {
        winetest_push_context("type %d", types[i]);
        job = create_job(L"upload-create", types[i], NULL);
        if (job)
        {
            type = 0xdead;
            hr = IBackgroundCopyJob_GetType(job, &type);
            ok(hr == S_OK && type == types[i], "GetType: %#lx, %d\n", hr, type);
            ok(get_job_state(job) == BG_JOB_STATE_SUSPENDED, "state %d\n", get_job_state(job));
            memset(&progress, 0xcc, sizeof(progress));
            hr = IBackgroundCopyJob_GetProgress(job, &progress);
            ok(hr == S_OK && !progress.BytesTotal && !progress.BytesTransferred
                    && !progress.FilesTotal && !progress.FilesTransferred,
                    "GetProgress: %#lx, %s of %s bytes, %lu of %lu files\n", hr,
                    wine_dbgstr_longlong(progress.BytesTransferred),
                    wine_dbgstr_longlong(progress.BytesTotal), progress.FilesTransferred,
                    progress.FilesTotal);
            hr = IBackgroundCopyJob_Resume(job);
            ok(hr == BG_E_EMPTY, "Resume of an empty job: %#lx\n", hr);
            ok(get_job_state(job) == BG_JOB_STATE_SUSPENDED, "state %d\n", get_job_state(job));
            cancel_job(job);
        }
        winetest_pop_context();
    }
}

/* behaviour.md §2.2 file count, §2.1 (AddFileWithRanges, SetRemoteName, ReplaceRemotePrefix
 * are E_NOTIMPL for upload types [doc]); Learn AddFile: "Upload jobs can only contain one
 * file". */
static void test_AddFile(void)
{
    static const BG_JOB_TYPE types[] = { BG_JOB_TYPE_UPLOAD, BG_JOB_TYPE_UPLOAD_REPLY };
    WCHAR *dir, *source, *source2, url[SERVER_TARGET_MAX + 32], url2[SERVER_TARGET_MAX + 32];
    IBackgroundCopyJob3 *job3;
    IBackgroundCopyFile2 *file2;
    IBackgroundCopyFile *file;
    IBackgroundCopyJob *job;
    BG_FILE_RANGE range = { 0, 10 };
    BG_FILE_INFO files[2];
    unsigned int i;
    HRESULT hr;

    if (!start_server()) return;
    dir = make_test_dir(L"upload-addfile");
    source = make_source(dir, L"a.bin", "upload-addfile-a", 1000);
    source2 = make_source(dir, L"b.bin", "upload-addfile-b", 1000);
    if (!source || !source2 || !upload_url("upload-addfile-a", url, ARRAY_SIZE(url))
            || !upload_url("upload-addfile-b", url2, ARRAY_SIZE(url2)))
        goto done;
    for (i = 0; i < ARRAY_SIZE(types); i++)
    {
        winetest_push_context("type %d", types[i]);
        job = create_job(L"upload-addfile", types[i], NULL);
        if (!job)
        {
            winetest_pop_context();
            continue;
        }
        files[0].RemoteName = url;
        files[0].LocalName = source;
        files[1].RemoteName = url2;
        files[1].LocalName = source2;
        hr = IBackgroundCopyJob_AddFileSet(job, 2, files);
        ok(hr == BG_E_TOO_MANY_FILES, "AddFileSet(2): %#lx\n", hr);
        ok(count_job_files(job) == 0, "%lu files after a refused set\n", count_job_files(job));
        hr = IBackgroundCopyJob_AddFile(job, url, source);
        ok(hr == S_OK, "AddFile: %#lx\n", hr);
        hr = IBackgroundCopyJob_AddFile(job, url2, source2);
        ok(hr == BG_E_TOO_MANY_FILES, "second AddFile: %#lx\n", hr);
        hr = IBackgroundCopyJob_AddFileSet(job, 1, files + 1);
        ok(hr == BG_E_TOO_MANY_FILES, "AddFileSet(1) on a job with a file: %#lx\n", hr);
        ok(count_job_files(job) == 1, "%lu files\n", count_job_files(job));

        if (SUCCEEDED(IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJob3,
                (void **)&job3)))
        {
            hr = IBackgroundCopyJob3_AddFileWithRanges(job3, url2, source2, 1, &range);
            ok(hr == E_NOTIMPL, "AddFileWithRanges: %#lx\n", hr);
            hr = IBackgroundCopyJob3_ReplaceRemotePrefix(job3, L"http://", L"https://");
            ok(hr == E_NOTIMPL, "ReplaceRemotePrefix: %#lx\n", hr);
            IBackgroundCopyJob3_Release(job3);
        }
        else win_skip("no IBackgroundCopyJob3\n");
        file = get_job_file(job, 0);
        if (file && SUCCEEDED(IBackgroundCopyFile_QueryInterface(file, &IID_IBackgroundCopyFile2,
                (void **)&file2)))
        {
            hr = IBackgroundCopyFile2_SetRemoteName(file2, url2);
            ok(hr == E_NOTIMPL, "SetRemoteName: %#lx\n", hr);
            IBackgroundCopyFile2_Release(file2);
        }
        else win_skip("no IBackgroundCopyFile2\n");
        if (file) IBackgroundCopyFile_Release(file);
        cancel_job(job);
        winetest_pop_context();
    }
done:
    CoTaskMemFree(source2);
    CoTaskMemFree(source);
    remove_test_dir(dir);
}

/* behaviour.md §2.2 local name: the upload source must exist and be readable, checked at
 * AddFile [inferred] or when the job runs, where it is a fatal LOCAL_FILE error; the server
 * gets nothing. */
static void test_missing_source(void)
{
    static const char name[] = "upload-missing";
    WCHAR *dir, *path, url[SERVER_TARGET_MAX + 32];
    struct server_upload state;
    IBackgroundCopyJob *job;
    BG_ERROR_CONTEXT context;
    HRESULT hr, code;

    if (!start_server()) return;
    dir = make_test_dir(L"upload-missing");
    path = dir_file(dir, L"missing.bin");
    if (!path || !upload_url(name, url, ARRAY_SIZE(url))) goto done;

    /* never there */
    job = create_job(L"upload-missing", BG_JOB_TYPE_UPLOAD, NULL);
    if (job)
    {
        hr = IBackgroundCopyJob_AddFile(job, url, path);
        ok(hr == HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND) || hr == E_INVALIDARG
                || broken(hr == S_OK), "AddFile of a missing source: %#lx\n", hr);
        if (hr == S_OK && resume_and_wait(job, BG_JOB_STATE_ERROR, UPLOAD_TIMEOUT))
        {
            ok(get_job_error(job, &context, &code) && context == BG_ERROR_CONTEXT_LOCAL_FILE
                    && FAILED(code), "error %#lx, context %d\n", code, context);
        }
        cancel_job(job);
    }

    /* there at AddFile, gone at Resume */
    ok(write_test_file(path, "gone soon\n"), "cannot write %s\n", wine_dbgstr_w(path));
    job = create_upload_job(L"upload-missing-later", BG_JOB_TYPE_UPLOAD, name, path, NULL);
    if (job)
    {
        ok(DeleteFileW(path), "cannot delete the source: %lu\n", GetLastError());
        if (resume_and_wait(job, BG_JOB_STATE_ERROR, UPLOAD_TIMEOUT))
        {
            ok(get_job_error(job, &context, &code), "no error object\n");
            ok(context == BG_ERROR_CONTEXT_LOCAL_FILE && FAILED(code), "error %#lx, context %d\n",
                    code, context);
        }
        server_upload_state(name, &state);
        ok(!state.committed, "the server has a file\n");
    }
    cancel_job(job);
done:
    CoTaskMemFree(path);
    remove_test_dir(dir);
}

/* The happy path: a few hundred KiB reach TRANSFERRED, the server has them byte for byte,
 * the packets follow the protocol; progress counts the upload file [doc, BG_JOB_PROGRESS];
 * the file is Completed once uploaded, without Complete [doc, behaviour.md §3.1]; Complete
 * needs no network (the server committed the file at the last fragment) and acknowledges. */
static void test_upload(void)
{
    static const char name[] = "upload-one";
    static const UINT64 size = 300 * 1024 + 7;
    struct server_upload state;
    BG_JOB_PROGRESS progress;
    BG_FILE_PROGRESS file;
    IBackgroundCopyJob *job;
    WCHAR *dir, *path;
    unsigned int packets;
    DWORD seen = 0;
    HRESULT hr;

    if (!start_server()) return;
    dir = make_test_dir(L"upload-one");
    path = make_source(dir, L"source.bin", "upload-one-src", size);
    job = create_upload_job(L"upload-one", BG_JOB_TYPE_UPLOAD, name, path, NULL);
    if (!job) goto done;

    /* before the transfer: one file, nothing moved, size known or not yet */
    memset(&progress, 0xcc, sizeof(progress));
    hr = IBackgroundCopyJob_GetProgress(job, &progress);
    ok(hr == S_OK && progress.FilesTotal == 1 && !progress.FilesTransferred
            && !progress.BytesTransferred
            && (progress.BytesTotal == size || progress.BytesTotal == BG_SIZE_UNKNOWN),
            "GetProgress before: %#lx, %s of %s bytes, %lu of %lu files\n", hr,
            wine_dbgstr_longlong(progress.BytesTransferred),
            wine_dbgstr_longlong(progress.BytesTotal), progress.FilesTransferred,
            progress.FilesTotal);
    ok(get_file_progress(job, 0, &file) && !file.Completed && !file.BytesTransferred,
            "file progress before: %s bytes, completed %d\n",
            wine_dbgstr_longlong(file.BytesTransferred), file.Completed);

    if (!resume_job_and_wait(job, BG_JOB_STATE_TRANSFERRED, UPLOAD_TIMEOUT, &seen))
        goto done;
    ok(!(seen & ((1u << BG_JOB_STATE_ERROR) | (1u << BG_JOB_STATE_TRANSIENT_ERROR))),
            "states seen %#lx\n", seen);
    memset(&progress, 0xcc, sizeof(progress));
    hr = IBackgroundCopyJob_GetProgress(job, &progress);
    ok(hr == S_OK && progress.BytesTotal == size && progress.BytesTransferred == size
            && progress.FilesTotal == 1 && progress.FilesTransferred == 1,
            "GetProgress: %#lx, %s of %s bytes, %lu of %lu files\n", hr,
            wine_dbgstr_longlong(progress.BytesTransferred),
            wine_dbgstr_longlong(progress.BytesTotal), progress.FilesTransferred,
            progress.FilesTotal);
    ok(get_file_progress(job, 0, &file) && file.BytesTotal == size
            && file.BytesTransferred == size && file.Completed, "file progress: %s of %s "
            "bytes, completed %d\n", wine_dbgstr_longlong(file.BytesTransferred),
            wine_dbgstr_longlong(file.BytesTotal), file.Completed);

    /* the file is on the server before Complete, in one clean session */
    ok(server_packet_wait(name, "Close-Session", 1, PACKET_TIMEOUT), "no Close-Session\n");
    check_uploaded(name, path);
    check_clean_packets(name, size, "source.bin");
    server_upload_state(name, &state);
    ok(state.sessions == 1 && state.closed == 1 && !state.cancelled, "%u sessions, %u closed, "
            "%u cancelled\n", state.sessions, state.closed, state.cancelled);

    packets = server_packet_count(name, NULL);
    check_complete(job);
    ok(server_packet_count(name, NULL) == packets, "Complete sent %u packets\n",
            server_packet_count(name, NULL) - packets);
    ok(server_verify_file(path, "upload-one-src", size), "the source changed\n");
    hr = IBackgroundCopyJob_Complete(job);
    ok(hr == BG_E_INVALID_STATE, "second Complete: %#lx\n", hr);
done:
    cancel_job(job);
    CoTaskMemFree(path);
    remove_test_dir(dir);
}

/* [MC-BUP] 3.1.5.1 (wire-and-tools.md §2.6): a 401 is answered with the job's credentials
 * and the packet sent again; without them, or when they are refused, the job fails with
 * BG_E_HTTP_ERROR_401 (Learn, SetCredentials). */
static void test_upload_credentials(void)
{
    static const char name[] = "upload-auth";
    static const UINT64 size = 70000;
    BG_AUTH_CREDENTIALS credentials;
    IBackgroundCopyJob2 *job2 = NULL;
    IBackgroundCopyJob *job;
    WCHAR *dir, *path;
    HRESULT hr;

    if (!start_server()) return;
    dir = make_test_dir(L"upload-auth");
    path = make_source(dir, L"source.bin", "upload-auth-src", size);
    job = create_upload_job(L"upload-auth", BG_JOB_TYPE_UPLOAD, "upload-auth?auth=dave:up10ad",
            path, NULL);
    if (!job || !(job2 = get_job2(job))) goto done;
    if (!resume_and_wait(job, BG_JOB_STATE_ERROR, UPLOAD_TIMEOUT)) goto done;
    check_error(job, BG_E_HTTP_ERROR_401, BG_ERROR_CONTEXT_REMOTE_FILE);

    memset(&credentials, 0, sizeof(credentials));
    credentials.Target = BG_AUTH_TARGET_SERVER;
    credentials.Scheme = BG_AUTH_SCHEME_BASIC;
    credentials.Credentials.Basic.UserName = (WCHAR *)L"dave";
    credentials.Credentials.Basic.Password = (WCHAR *)L"wrong";
    hr = IBackgroundCopyJob2_SetCredentials(job2, &credentials);
    ok(hr == S_OK, "SetCredentials: %#lx\n", hr);
    if (!resume_and_wait(job, BG_JOB_STATE_ERROR, UPLOAD_TIMEOUT)) goto done;
    check_error(job, BG_E_HTTP_ERROR_401, BG_ERROR_CONTEXT_REMOTE_FILE);

    credentials.Credentials.Basic.Password = (WCHAR *)L"up10ad";
    hr = IBackgroundCopyJob2_SetCredentials(job2, &credentials);
    ok(hr == S_OK, "SetCredentials: %#lx\n", hr);
    if (!resume_and_wait(job, BG_JOB_STATE_TRANSFERRED, UPLOAD_TIMEOUT)) goto done;
    check_uploaded(name, path);
    check_complete(job);
done:
    if (job2) IBackgroundCopyJob2_Release(job2);
    cancel_job(job);
    CoTaskMemFree(path);
    remove_test_dir(dir);
}

/* Several MiB: as many fragments as the client likes, in order, byte for byte. */
static void test_upload_large(void)
{
    static const char name[] = "upload-large";
    static const UINT64 size = (6u << 20) + 12345;
    IBackgroundCopyJob *job;
    WCHAR *dir, *path;

    if (!start_server()) return;
    dir = make_test_dir(L"upload-large");
    path = make_source(dir, L"large.bin", "upload-large-src", size);
    job = create_upload_job(L"upload-large", BG_JOB_TYPE_UPLOAD, name, path, NULL);
    if (job && resume_and_wait(job, BG_JOB_STATE_TRANSFERRED, LARGE_TIMEOUT))
    {
        ok(server_packet_wait(name, "Close-Session", 1, PACKET_TIMEOUT), "no Close-Session\n");
        check_uploaded(name, path);
        check_clean_packets(name, size, "large.bin");
        /* the fragment size is the client's choice; the spec's (wire-and-tools.md §2.8,
         * [inferred]) starts at 64 KiB */
        ok(server_packet_count(name, "Fragment") > 1
                || broken(server_packet_count(name, "Fragment") == 1), "%u fragments\n",
                server_packet_count(name, "Fragment"));
        check_complete(job);
    }
    cancel_job(job);
    CoTaskMemFree(path);
    remove_test_dir(dir);
}

/* wire-and-tools.md §2.5: a zero-byte file has no valid Content-Range; the spec makes the
 * client refuse it at AddFile with E_INVALIDARG [inferred].  A client that takes it must give
 * the server an empty file. */
static void test_upload_empty(void)
{
    static const char name[] = "upload-empty";
    WCHAR *dir, *path, url[SERVER_TARGET_MAX + 32];
    IBackgroundCopyJob *job;
    BYTE *data;
    UINT64 size = 1;
    HRESULT hr;

    if (!start_server()) return;
    dir = make_test_dir(L"upload-empty");
    path = make_source(dir, L"empty.bin", "upload-empty-src", 0);
    job = create_job(L"upload-empty", BG_JOB_TYPE_UPLOAD, NULL);
    if (!job || !path || !upload_url(name, url, ARRAY_SIZE(url))) goto done;
    hr = IBackgroundCopyJob_AddFile(job, url, path);
    ok(hr == E_INVALIDARG || broken(hr == S_OK), "AddFile of an empty file: %#lx\n", hr);
    if (hr != S_OK)
    {
        ok(count_job_files(job) == 0, "%lu files\n", count_job_files(job));
        goto done;
    }
    if (resume_and_wait(job, BG_JOB_STATE_TRANSFERRED, UPLOAD_TIMEOUT))
    {
        ok(server_upload_data(name, &data, &size) && !size, "the server has %s bytes\n",
                wine_dbgstr_longlong(size));
        free(data);
        check_complete(job);
    }
done:
    cancel_job(job);
    CoTaskMemFree(path);
    remove_test_dir(dir);
}

/* ---------------------------------------------------------------------------------------- */
/* Upload-reply */

/* Learn IBackgroundCopyJob2::GetReplyData, GetReplyProgress, GetReplyFileName,
 * SetReplyFileName: E_NOTIMPL for DOWNLOAD and UPLOAD jobs [doc] (SetReplyFileName:
 * behaviour.md §2.1 [inferred]); on an upload-reply job before the transfer: no reply yet
 * (BytesTotal BG_SIZE_UNKNOWN [doc]), no reply data outside TRANSFERRED (BG_E_INVALID_STATE
 * [doc]), no reply file name before a file is added (NULL [doc]). */
static void test_reply_methods(void)
{
    static const BG_JOB_TYPE types[] = { BG_JOB_TYPE_DOWNLOAD, BG_JOB_TYPE_UPLOAD };
    IBackgroundCopyJob2 *job2;
    IBackgroundCopyJob *job;
    BG_JOB_REPLY_PROGRESS reply;
    WCHAR *dir, *path, *name, *long_name;
    UINT64 length;
    unsigned int i;
    byte *buffer;
    HRESULT hr;

    dir = make_test_dir(L"upload-reply-methods");
    path = dir_file(dir, L"reply.txt");
    for (i = 0; i < ARRAY_SIZE(types); i++)
    {
        winetest_push_context("type %d", types[i]);
        job = create_job(L"upload-reply-methods", types[i], NULL);
        job2 = job ? get_job2(job) : NULL;
        if (job2)
        {
            memset(&reply, 0xcc, sizeof(reply));
            hr = IBackgroundCopyJob2_GetReplyProgress(job2, &reply);
            ok(hr == E_NOTIMPL, "GetReplyProgress: %#lx\n", hr);
            buffer = (byte *)0xdeadbeef;
            length = 0xdead;
            hr = IBackgroundCopyJob2_GetReplyData(job2, &buffer, &length);
            ok(hr == E_NOTIMPL, "GetReplyData: %#lx\n", hr);
            name = (WCHAR *)0xdeadbeef;
            hr = IBackgroundCopyJob2_GetReplyFileName(job2, &name);
            ok(hr == E_NOTIMPL, "GetReplyFileName: %#lx\n", hr);
            if (SUCCEEDED(hr)) CoTaskMemFree(name);
            hr = IBackgroundCopyJob2_SetReplyFileName(job2, path);
            ok(hr == E_NOTIMPL || broken(FAILED(hr)), "SetReplyFileName: %#lx\n", hr);
            IBackgroundCopyJob2_Release(job2);
        }
        cancel_job(job);
        winetest_pop_context();
    }

    job = create_job(L"upload-reply-methods", BG_JOB_TYPE_UPLOAD_REPLY, NULL);
    job2 = job ? get_job2(job) : NULL;
    if (job2)
    {
        name = (WCHAR *)0xdeadbeef;
        hr = IBackgroundCopyJob2_GetReplyFileName(job2, &name);
        ok(hr == S_OK && !name, "GetReplyFileName without file: %#lx, %s\n", hr,
                hr == S_OK ? wine_dbgstr_w(name) : "");
        if (hr == S_OK) CoTaskMemFree(name);
        memset(&reply, 0xcc, sizeof(reply));
        hr = IBackgroundCopyJob2_GetReplyProgress(job2, &reply);
        ok(hr == S_OK && reply.BytesTotal == BG_SIZE_UNKNOWN && !reply.BytesTransferred,
                "GetReplyProgress: %#lx, %s of %s bytes\n", hr,
                wine_dbgstr_longlong(reply.BytesTransferred),
                wine_dbgstr_longlong(reply.BytesTotal));
        hr = IBackgroundCopyJob2_GetReplyProgress(job2, NULL);
        ok(hr == E_INVALIDARG || hr == HRESULT_NULL_REF, "GetReplyProgress(NULL): %#lx\n", hr);
        buffer = (byte *)0xdeadbeef;
        length = 0xdead;
        hr = IBackgroundCopyJob2_GetReplyData(job2, &buffer, &length);
        ok(hr == BG_E_INVALID_STATE, "GetReplyData while SUSPENDED: %#lx\n", hr);

        /* Set/GetReplyFileName; NULL and "" let BITS choose [doc] */
        hr = IBackgroundCopyJob2_SetReplyFileName(job2, path);
        ok(hr == S_OK, "SetReplyFileName: %#lx\n", hr);
        name = NULL;
        hr = IBackgroundCopyJob2_GetReplyFileName(job2, &name);
        ok(hr == S_OK && str_equal(name, path), "GetReplyFileName: %#lx, %s\n", hr,
                wine_dbgstr_w(name));
        CoTaskMemFree(name);
        hr = IBackgroundCopyJob2_SetReplyFileName(job2, L"relative.txt");
        ok(hr == E_INVALIDARG, "SetReplyFileName(relative): %#lx\n", hr);
        long_name = make_string(L"C:\\", L'a', MAX_PATH + 1);
        hr = IBackgroundCopyJob2_SetReplyFileName(job2, long_name);
        ok(hr == E_INVALIDARG, "SetReplyFileName(%u chars): %#lx\n", MAX_PATH + 1, hr);
        CoTaskMemFree(long_name);
        hr = IBackgroundCopyJob2_SetReplyFileName(job2, L"");
        ok(hr == S_OK, "SetReplyFileName(\"\"): %#lx\n", hr);
        hr = IBackgroundCopyJob2_SetReplyFileName(job2, NULL);
        ok(hr == S_OK, "SetReplyFileName(NULL): %#lx\n", hr);
        IBackgroundCopyJob2_Release(job2);
    }
    cancel_job(job);
    CoTaskMemFree(path);
    remove_test_dir(dir);
}

/* The whole upload-reply (wire-and-tools.md §2.10, behaviour.md §3.1): the server's reply URL
 * is downloaded before Close-Session, into the reply file name that was set; TRANSFERRED only
 * once the reply is in; GetReplyProgress and GetReplyData tell it [doc]; the reply file
 * appears at Complete, not before [doc]; GetReplyData works after Complete too [doc]. */
static void test_reply(void)
{
    static const char name[] = "upload-reply";
    static const char reply_name[] = "upload-reply.reply";
    static const UINT64 size = 100000, reply_size = 2000;
    WCHAR *dir, *path, *reply_path, *other, *got = NULL;
    struct server_request request;
    struct server_packet packet;
    BG_JOB_REPLY_PROGRESS reply;
    IBackgroundCopyJob2 *job2 = NULL;
    IBackgroundCopyJob *job;
    int close_index = -1, get_index = -1, i;
    char type[SERVER_VALUE_MAX], spec[64], target[SERVER_TARGET_MAX];
    UINT64 length;
    byte *buffer;
    HRESULT hr;

    if (!start_server()) return;
    server_log_clear();
    dir = make_test_dir(L"upload-reply");
    path = make_source(dir, L"request.bin", "upload-reply-src", size);
    reply_path = dir_file(dir, L"answer.bin");
    other = dir_file(dir, L"other.bin");
    snprintf(spec, sizeof(spec), "%s?reply=%llu", name, (unsigned long long)reply_size);
    job = create_upload_job(L"upload-reply", BG_JOB_TYPE_UPLOAD_REPLY, spec, path, NULL);
    job2 = job ? get_job2(job) : NULL;
    if (!job2) goto done;
    hr = IBackgroundCopyJob2_SetReplyFileName(job2, reply_path);
    ok(hr == S_OK, "SetReplyFileName: %#lx\n", hr);
    if (!resume_and_wait(job, BG_JOB_STATE_TRANSFERRED, UPLOAD_TIMEOUT)) goto done;

    memset(&reply, 0xcc, sizeof(reply));
    hr = IBackgroundCopyJob2_GetReplyProgress(job2, &reply);
    ok(hr == S_OK && reply.BytesTotal == reply_size && reply.BytesTransferred == reply_size,
            "GetReplyProgress: %#lx, %s of %s bytes\n", hr,
            wine_dbgstr_longlong(reply.BytesTransferred), wine_dbgstr_longlong(reply.BytesTotal));
    buffer = NULL;
    length = 0;
    hr = IBackgroundCopyJob2_GetReplyData(job2, &buffer, &length);
    ok(hr == S_OK && buffer && length == reply_size
            && server_compare(reply_name, 0, 0, buffer, (size_t)length),
            "GetReplyData: %#lx, %s bytes\n", hr, wine_dbgstr_longlong(length));
    CoTaskMemFree(buffer);
    hr = IBackgroundCopyJob2_GetReplyFileName(job2, &got);
    ok(hr == S_OK && str_equal(got, reply_path), "GetReplyFileName: %#lx, %s\n", hr,
            wine_dbgstr_w(got));
    CoTaskMemFree(got);
    /* too late to change the name: the reply is in (Learn SetReplyFileName) */
    hr = IBackgroundCopyJob2_SetReplyFileName(job2, other);
    ok(hr == BG_E_INVALID_STATE, "SetReplyFileName when TRANSFERRED: %#lx\n", hr);
    ok(!file_exists(reply_path), "the reply file is there before Complete\n");

    /* the server side: the upload, the reply fetched, then Close-Session */
    ok(server_packet_wait(name, "Close-Session", 1, PACKET_TIMEOUT), "no Close-Session\n");
    check_uploaded(name, path);
    check_clean_packets(name, size, "request.bin");
    ok(server_packet_get(name, "Fragment", server_packet_count(name, "Fragment") - 1, &packet)
            && packet.reply_url[0], "the last fragment was not answered with a reply URL\n");
    snprintf(target, sizeof(target), "/file/%s", reply_name);
    for (i = 0; server_log_get(NULL, i, &request); i++)
    {
        if (!strcmp(request.method, "GET") && !strncmp(request.target, target, strlen(target)))
            get_index = i;
        if (!strcmp(request.method, "BITS_POST")
                && server_log_header(NULL, i, "BITS-Packet-Type", type, sizeof(type))
                && !_stricmp(type, "Close-Session"))
            close_index = i;
    }
    ok(get_index >= 0, "the reply was not fetched with GET\n");
    ok(close_index > get_index, "Close-Session (request %d) before the reply GET (%d)\n",
            close_index, get_index);

    check_complete(job);
    ok(server_verify_file(reply_path, reply_name, reply_size), "the reply file is not the "
            "reply\n");
    buffer = NULL;
    length = 0;
    hr = IBackgroundCopyJob2_GetReplyData(job2, &buffer, &length);
    ok(hr == S_OK && length == reply_size && buffer
            && server_compare(reply_name, 0, 0, buffer, (size_t)length),
            "GetReplyData after Complete: %#lx, %s bytes\n", hr, wine_dbgstr_longlong(length));
    CoTaskMemFree(buffer);
    ok(!file_exists(other), "a file under the refused name\n");
done:
    if (job2) IBackgroundCopyJob2_Release(job2);
    cancel_job(job);
    CoTaskMemFree(other);
    CoTaskMemFree(reply_path);
    CoTaskMemFree(path);
    remove_test_dir(dir);
}

/* Learn SetReplyFileName: without a name BITS generates one, in the directory of the upload
 * file; GetReplyFileName then returns it; the file appears at Complete. */
static void test_reply_default_name(void)
{
    static const char name[] = "upload-reply-default";
    static const char reply_name[] = "upload-reply-default.reply";
    WCHAR *dir, *path, *got = NULL;
    IBackgroundCopyJob2 *job2 = NULL;
    IBackgroundCopyJob *job;
    size_t dir_len;
    HRESULT hr;

    if (!start_server()) return;
    dir = make_test_dir(L"upload-reply-default");
    path = make_source(dir, L"request.bin", "upload-reply-default-src", 5000);
    job = create_upload_job(L"upload-reply-default", BG_JOB_TYPE_UPLOAD_REPLY,
            "upload-reply-default?reply=700", path, NULL);
    job2 = job ? get_job2(job) : NULL;
    if (!job2 || !resume_and_wait(job, BG_JOB_STATE_TRANSFERRED, UPLOAD_TIMEOUT)) goto done;
    hr = IBackgroundCopyJob2_GetReplyFileName(job2, &got);
    ok(hr == S_OK && got, "GetReplyFileName: %#lx\n", hr);
    if (!got) goto done;
    dir_len = wcslen(dir);
    ok(!_wcsnicmp(got, dir, dir_len) && got[dir_len] && !wcschr(got + dir_len, '\\'),
            "reply file %s, not in %s\n", wine_dbgstr_w(got), wine_dbgstr_w(dir));
    ok(_wcsicmp(got, path), "the reply file is the upload file\n");
    check_complete(job);
    ok(server_verify_file(got, reply_name, 700), "the reply file is not the reply\n");
    ok(server_verify_file(path, "upload-reply-default-src", 5000), "the upload file changed\n");
    ok(server_upload_verify(name, path), "the server's upload differs\n");
done:
    CoTaskMemFree(got);
    if (job2) IBackgroundCopyJob2_Release(job2);
    cancel_job(job);
    CoTaskMemFree(path);
    remove_test_dir(dir);
}

/* Learn GetReplyData: above 1 MB it returns BG_E_TOO_LARGE, sets the buffer to NULL and the
 * size to the reply's size; the reply file has it all. */
static void test_reply_too_large(void)
{
    static const char reply_name[] = "upload-reply-large.reply";
    static const UINT64 reply_size = 2 * REPLY_DATA_MAX;
    WCHAR *dir, *path, *reply_path;
    BG_JOB_REPLY_PROGRESS reply;
    IBackgroundCopyJob2 *job2 = NULL;
    IBackgroundCopyJob *job;
    char spec[64];
    UINT64 length;
    byte *buffer;
    HRESULT hr;

    if (!start_server()) return;
    dir = make_test_dir(L"upload-reply-large");
    path = make_source(dir, L"request.bin", "upload-reply-large-src", 3000);
    reply_path = dir_file(dir, L"answer.bin");
    snprintf(spec, sizeof(spec), "upload-reply-large?reply=%llu", (unsigned long long)reply_size);
    job = create_upload_job(L"upload-reply-large", BG_JOB_TYPE_UPLOAD_REPLY, spec, path, NULL);
    job2 = job ? get_job2(job) : NULL;
    if (!job2) goto done;
    hr = IBackgroundCopyJob2_SetReplyFileName(job2, reply_path);
    ok(hr == S_OK, "SetReplyFileName: %#lx\n", hr);
    if (!resume_and_wait(job, BG_JOB_STATE_TRANSFERRED, LARGE_TIMEOUT)) goto done;
    hr = IBackgroundCopyJob2_GetReplyProgress(job2, &reply);
    ok(hr == S_OK && reply.BytesTotal == reply_size && reply.BytesTransferred == reply_size,
            "GetReplyProgress: %#lx, %s of %s bytes\n", hr,
            wine_dbgstr_longlong(reply.BytesTransferred), wine_dbgstr_longlong(reply.BytesTotal));
    buffer = (byte *)0xdeadbeef;
    length = 0;
    hr = IBackgroundCopyJob2_GetReplyData(job2, &buffer, &length);
    ok(hr == BG_E_TOO_LARGE, "GetReplyData: %#lx\n", hr);
    ok(!buffer && length == reply_size, "buffer %p, length %s\n", buffer,
            wine_dbgstr_longlong(length));
    if (hr == S_OK) CoTaskMemFree(buffer);
    check_complete(job);
    ok(server_verify_file(reply_path, reply_name, reply_size), "the reply file is not the "
            "reply\n");
done:
    if (job2) IBackgroundCopyJob2_Release(job2);
    cancel_job(job);
    CoTaskMemFree(reply_path);
    CoTaskMemFree(path);
    remove_test_dir(dir);
}

/* Learn "Handling Server Application Errors": a server application's failure on the last
 * fragment has context REMOTE_APPLICATION and the server's code; 403 is fatal (4xx except 408
 * and 409); the upload part failed, so the reply never began: BytesTotal BG_SIZE_UNKNOWN
 * (behaviour.md §4.3 [doc]). */
static void test_reply_application_error(void)
{
    static const char name[] = "upload-reply-app";
    static const UINT64 size = 50000;
    WCHAR *dir, *path, *reply_path;
    BG_JOB_REPLY_PROGRESS reply;
    struct server_upload state;
    IBackgroundCopyJob2 *job2 = NULL;
    IBackgroundCopyJob *job;
    char spec[128];
    HRESULT hr;

    if (!start_server()) return;
    dir = make_test_dir(L"upload-reply-app");
    path = make_source(dir, L"request.bin", "upload-reply-app-src", size);
    reply_path = dir_file(dir, L"answer.bin");
    snprintf(spec, sizeof(spec), "%s?reply=100&fragment=403&at=%llu&code=0x80004005"
            "&context=0x7", name, (unsigned long long)size - 1);
    job = create_upload_job(L"upload-reply-app", BG_JOB_TYPE_UPLOAD_REPLY, spec, path, NULL);
    job2 = job ? get_job2(job) : NULL;
    if (!job2) goto done;
    IBackgroundCopyJob2_SetReplyFileName(job2, reply_path);
    if (!resume_and_wait(job, BG_JOB_STATE_ERROR, UPLOAD_TIMEOUT)) goto done;
    check_error(job, E_FAIL, BG_ERROR_CONTEXT_REMOTE_APPLICATION);
    memset(&reply, 0xcc, sizeof(reply));
    hr = IBackgroundCopyJob2_GetReplyProgress(job2, &reply);
    ok(hr == S_OK && reply.BytesTotal == BG_SIZE_UNKNOWN, "GetReplyProgress: %#lx, %s of %s "
            "bytes\n", hr, wine_dbgstr_longlong(reply.BytesTransferred),
            wine_dbgstr_longlong(reply.BytesTotal));
    hr = IBackgroundCopyJob_Complete(job);
    ok(hr == BG_E_INVALID_STATE, "Complete in ERROR: %#lx\n", hr);
    server_upload_state(name, &state);
    ok(!state.committed, "the server has a file\n");
    ok(!file_exists(reply_path), "a reply file\n");
done:
    if (job2) IBackgroundCopyJob2_Release(job2);
    cancel_job(job);
    CoTaskMemFree(reply_path);
    CoTaskMemFree(path);
    remove_test_dir(dir);
}

/* ---------------------------------------------------------------------------------------- */
/* Errors and recovery */

/* Create-Session refused (wire-and-tools.md §2.4, §2.11, §1.7): with BITS-Error-Code the job
 * reports that code, without it BG_E_HTTP_ERROR_<status>; context REMOTE_FILE; 403 and 404
 * are fatal (ERROR, JobError called), 409 and 500 transient.  The server never has a file. */
static void test_create_session_refused(void)
{
    static const struct
    {
        const char *options;
        HRESULT code;
        BG_JOB_STATE state;
    }
    tests[] =
    {
        { "create=404", BG_E_HTTP_ERROR_404, BG_JOB_STATE_ERROR },
        { "create=404&code=0x80070002", HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND),
                BG_JOB_STATE_ERROR },
        { "create=403&code=0x80070005", E_ACCESSDENIED, BG_JOB_STATE_ERROR },
        { "create=403", BG_E_HTTP_ERROR_403, BG_JOB_STATE_ERROR },
        { "create=409", BG_E_HTTP_ERROR_409, BG_JOB_STATE_TRANSIENT_ERROR },
        { "create=500&code=0x80004005", E_FAIL, BG_JOB_STATE_TRANSIENT_ERROR },
    };
    struct test_callback *callback = NULL;
    struct callback_call call;
    struct server_upload state;
    IBackgroundCopyError *error;
    IBackgroundCopyFile *file;
    IBackgroundCopyJob *job;
    WCHAR *dir, *path, *local;
    char name[64], spec[128];
    unsigned int i;
    GUID id;
    HRESULT hr;

    if (!start_server()) return;
    dir = make_test_dir(L"upload-refused");
    path = make_source(dir, L"refused.bin", "upload-refused-src", 20000);
    for (i = 0; i < ARRAY_SIZE(tests) && path; i++)
    {
        winetest_push_context("%s", tests[i].options);
        snprintf(name, sizeof(name), "upload-refused-%u", i);
        snprintf(spec, sizeof(spec), "%s?%s", name, tests[i].options);
        job = create_upload_job(L"upload-refused", BG_JOB_TYPE_UPLOAD, spec, path, &id);
        callback = tests[i].state == BG_JOB_STATE_ERROR ? test_callback_create() : NULL;
        if (job && callback)
        {
            hr = IBackgroundCopyJob_SetNotifyFlags(job, BG_NOTIFY_JOB_ERROR);
            ok(hr == S_OK, "SetNotifyFlags: %#lx\n", hr);
            hr = IBackgroundCopyJob_SetNotifyInterface(job, test_callback_unknown(callback));
            ok(hr == S_OK, "SetNotifyInterface: %#lx\n", hr);
        }
        if (job && resume_and_wait(job, tests[i].state, UPLOAD_TIMEOUT))
        {
            check_error(job, tests[i].code, BG_ERROR_CONTEXT_REMOTE_FILE);
            /* the error names the upload file [doc, IBackgroundCopyError::GetFile] */
            error = NULL;
            IBackgroundCopyJob_GetError(job, &error);
            file = NULL;
            if (error) IBackgroundCopyError_GetFile(error, &file);
            local = NULL;
            if (file) IBackgroundCopyFile_GetLocalName(file, &local);
            ok(str_equal(local, path), "error file %s\n", wine_dbgstr_w(local));
            CoTaskMemFree(local);
            if (file) IBackgroundCopyFile_Release(file);
            if (error) IBackgroundCopyError_Release(error);
            if (callback)
            {
                /* JobError fires for a fatal error [doc, behaviour.md §1.3] */
                ok(test_callback_wait(callback, CALLBACK_JOB_ERROR, 1, UPLOAD_TIMEOUT),
                        "no JobError\n");
                memset(&call, 0, sizeof(call));
                ok(test_callback_find_call(callback, CALLBACK_JOB_ERROR, 0, &call)
                        && IsEqualGUID(&call.job_id, &id) && call.code == tests[i].code
                        && call.context == BG_ERROR_CONTEXT_REMOTE_FILE,
                        "JobError: %#lx, context %d\n", call.code, call.context);
            }
            server_upload_state(name, &state);
            ok(!state.committed && !state.sessions, "committed %d, %u sessions\n",
                    state.committed, state.sessions);
            ok(!server_packet_count(name, "Fragment"), "fragments without a session\n");
        }
        cancel_job(job);
        if (callback) test_callback_release(callback);
        winetest_pop_context();
    }
    CoTaskMemFree(path);
    remove_test_dir(dir);
}

/* A transient refusal is retried by itself after MinimumRetryDelay [doc, behaviour.md §4.2],
 * with a new Create-Session, and the upload then succeeds. */
static void test_create_session_retry(void)
{
    static const char name[] = "upload-retry";
    struct server_packet first, second;
    IBackgroundCopyJob *job;
    WCHAR *dir, *path;
    ULONG delay = 0;
    HRESULT hr;

    if (!start_server()) return;
    dir = make_test_dir(L"upload-retry");
    path = make_source(dir, L"retry.bin", "upload-retry-src", 30000);
    job = create_upload_job(L"upload-retry", BG_JOB_TYPE_UPLOAD,
            "upload-retry?create=503&code=0x80004005&times=1", path, NULL);
    if (!job) goto done;
    hr = IBackgroundCopyJob_SetMinimumRetryDelay(job, RETRY_DELAY);
    ok(hr == S_OK, "SetMinimumRetryDelay: %#lx\n", hr);
    IBackgroundCopyJob_GetMinimumRetryDelay(job, &delay);
    ok(delay == RETRY_DELAY, "delay %lu\n", delay);
    if (!resume_and_wait(job, BG_JOB_STATE_TRANSIENT_ERROR, UPLOAD_TIMEOUT)) goto done;
    check_error(job, E_FAIL, BG_ERROR_CONTEXT_REMOTE_FILE);
    ok(wait_for_state(job, BG_JOB_STATE_TRANSFERRED, RETRY_TIMEOUT), "state %d\n",
            get_job_state(job));
    if (get_job_state(job) != BG_JOB_STATE_TRANSFERRED) goto done;
    ok(server_packet_wait(name, "Close-Session", 1, PACKET_TIMEOUT), "no Close-Session\n");
    check_uploaded(name, path);
    if (server_packet_get(name, "Create-Session", 0, &first)
            && server_packet_get(name, "Create-Session", 1, &second))
    {
        ok(first.status == 503 && second.status == 200, "answers %u, %u\n", first.status,
                second.status);
        ok(second.time - first.time >= RETRY_DELAY * 1000 - 500, "retried after %s ms\n",
                wine_dbgstr_longlong(second.time - first.time));
    }
    else ok(0, "fewer than two Create-Session\n");
    check_complete(job);
done:
    cancel_job(job);
    CoTaskMemFree(path);
    remove_test_dir(dir);
}

/* wire-and-tools.md §2.6, §2.11 ([MC-BUP] 3.1.5.1.7): BG_E_SESSION_NOT_FOUND is no error for
 * the job: the client creates a new session and uploads again, the server gets the file. */
static void test_session_not_found(void)
{
    static const char name[] = "upload-lost";
    static const UINT64 size = 300000;
    struct server_packet packet;
    struct server_upload state;
    IBackgroundCopyJob *job;
    WCHAR *dir, *path;
    unsigned int i;
    char spec[64];
    BOOL after_lost = FALSE;

    if (!start_server()) return;
    dir = make_test_dir(L"upload-lost");
    path = make_source(dir, L"lost.bin", "upload-lost-src", size);
    snprintf(spec, sizeof(spec), "%s?lose=%llu", name, (unsigned long long)size / 2);
    job = create_upload_job(L"upload-lost", BG_JOB_TYPE_UPLOAD, spec, path, NULL);
    if (!job) goto done;
    if (!upload_retrying(job, name)) goto done;
    ok(server_upload_verify(name, path), "the server's file differs\n");
    server_upload_state(name, &state);
    ok(state.sessions == 2 && state.commits == 1 && !state.open, "%u sessions, %u commits, "
            "%u open\n", state.sessions, state.commits, state.open);
    /* after the lost session, a Create-Session came before any other fragment */
    for (i = 0; server_packet_get(name, NULL, i, &packet); i++)
    {
        if (!after_lost && !_stricmp(packet.error_code, "0x8020001f"))
        {
            after_lost = TRUE;
            continue;
        }
        if (!after_lost || !_stricmp(packet.type, "Ping")) continue;
        ok(!_stricmp(packet.type, "Create-Session"), "%s after the lost session\n",
                packet.type);
        break;
    }
    ok(after_lost, "the session was never lost\n");
    check_complete(job);
done:
    cancel_job(job);
    CoTaskMemFree(path);
    remove_test_dir(dir);
}

/* Learn "Ack for Fragment", wire-and-tools.md §2.7, §2.8: a 416 is no error; the client goes
 * on from the BITS-Received-Content-Range of the answer, in the same session. */
static void test_range_resync(void)
{
    static const char name[] = "upload-rewind";
    static const UINT64 size = 1000000, rewind = 100000;
    struct server_packet packet;
    struct server_upload state;
    IBackgroundCopyJob *job;
    WCHAR *dir, *path;
    unsigned int i, count;
    char spec[64];

    if (!start_server()) return;
    dir = make_test_dir(L"upload-rewind");
    path = make_source(dir, L"rewind.bin", "upload-rewind-src", size);
    snprintf(spec, sizeof(spec), "%s?rewind=%llu", name, (unsigned long long)rewind);
    job = create_upload_job(L"upload-rewind", BG_JOB_TYPE_UPLOAD, spec, path, NULL);
    if (!job) goto done;
    if (!upload_retrying(job, name)) goto done;
    check_uploaded(name, path);
    server_upload_state(name, &state);
    ok(state.sessions == 1, "%u sessions\n", state.sessions);
    count = server_packet_count(name, "Fragment");
    for (i = 0; i < count; i++)
    {
        server_packet_get(name, "Fragment", i, &packet);
        if (packet.status == 416) break;
    }
    if (i == count)
    {
        /* no fragment started after the rewind offset */
        skip("the client sent %u fragment(s), none after byte %s\n", count,
                wine_dbgstr_longlong(rewind));
        goto complete;
    }
    ok(packet.has_received && packet.received == rewind, "416 with %s\n",
            wine_dbgstr_longlong(packet.received));
    ok(server_packet_get(name, "Fragment", i + 1, &packet) && packet.first == rewind,
            "after the 416: %s\n", packet.content_range);
complete:
    check_complete(job);
done:
    cancel_job(job);
    CoTaskMemFree(path);
    remove_test_dir(dir);
}

/* [MC-BUP] 3.1.5.1.7, wire-and-tools.md §2.6: a 413 makes the client send smaller fragments;
 * no error. */
static void test_fragment_too_large(void)
{
    static const char name[] = "upload-413";
    static const UINT64 size = 100000, limit = 8192;
    struct server_packet packet;
    IBackgroundCopyJob *job;
    WCHAR *dir, *path;
    unsigned int i;
    char spec[64];

    if (!start_server()) return;
    dir = make_test_dir(L"upload-413");
    path = make_source(dir, L"big.bin", "upload-413-src", size);
    snprintf(spec, sizeof(spec), "%s?maxfragment=%llu", name, (unsigned long long)limit);
    job = create_upload_job(L"upload-413", BG_JOB_TYPE_UPLOAD, spec, path, NULL);
    if (!job) goto done;
    if (!upload_retrying(job, name)) goto done;
    check_uploaded(name, path);
    for (i = 0; server_packet_get(name, "Fragment", i, &packet); i++)
        if (packet.status == 200)
            ok(packet.body_length <= limit, "fragment %s taken\n", packet.content_range);
    trace("%u fragments refused with 413, %u taken\n", count_answered(name, "Fragment", 413),
            count_answered(name, "Fragment", 200));
    check_complete(job);
done:
    cancel_job(job);
    CoTaskMemFree(path);
    remove_test_dir(dir);
}

/* A connection cut in a fragment is a transient error, retried after MinimumRetryDelay (or
 * at once); the client keeps its session and goes on from what the server acknowledged
 * (wire-and-tools.md §2.8 [doc]); the file is whole. */
static void test_dropped_connection(void)
{
    static const char name[] = "upload-drop";
    static const UINT64 size = 300000;
    struct server_upload state;
    IBackgroundCopyJob *job;
    WCHAR *dir, *path;
    char spec[64];

    if (!start_server()) return;
    dir = make_test_dir(L"upload-drop");
    path = make_source(dir, L"drop.bin", "upload-drop-src", size);
    snprintf(spec, sizeof(spec), "%s?drop=%llu", name, (unsigned long long)size / 3);
    job = create_upload_job(L"upload-drop", BG_JOB_TYPE_UPLOAD, spec, path, NULL);
    if (!job) goto done;
    if (!upload_retrying(job, name)) goto done;
    ok(server_upload_verify(name, path), "the server's file differs\n");
    ok(count_answered(name, "Fragment", 0) == 1, "%u fragments cut\n",
            count_answered(name, "Fragment", 0));
    server_upload_state(name, &state);
    ok(state.sessions == 1 && state.commits == 1 && !state.open, "%u sessions, %u commits, "
            "%u open\n", state.sessions, state.commits, state.open);
    check_complete(job);
done:
    cancel_job(job);
    CoTaskMemFree(path);
    remove_test_dir(dir);
}

/* behaviour.md §3.2: Cancel of an upload in flight returns at once, and BITS sends
 * Cancel-Session so that the server deletes its partial upload; nothing is committed. */
static void test_cancel_in_flight(void)
{
    static const char name[] = "upload-cancel";
    static const UINT64 size = 300000;
    struct server_packet create, cancel;
    struct server_upload state;
    struct stall_guard *guard;
    IBackgroundCopyJob *job;
    ULONGLONG start, elapsed;
    WCHAR *dir, *path;
    char spec[64];
    HRESULT hr;

    if (!start_server()) return;
    dir = make_test_dir(L"upload-cancel");
    path = make_source(dir, L"cancel.bin", "upload-cancel-src", size);
    snprintf(spec, sizeof(spec), "%s?stall=%llu", name, (unsigned long long)size / 2);
    job = create_upload_job(L"upload-cancel", BG_JOB_TYPE_UPLOAD, spec, path, NULL);
    if (!job) goto done;
    if (!resume_stalled(job, name)) goto done;

    guard = stall_guard_begin(name, GUARD_TIMEOUT);
    start = GetTickCount64();
    hr = IBackgroundCopyJob_Cancel(job);
    elapsed = GetTickCount64() - start;
    ok(hr == S_OK, "Cancel: %#lx\n", hr);
    ok(elapsed < 10000, "Cancel took %s ms\n", wine_dbgstr_longlong(elapsed));
    ok(get_job_state(job) == BG_JOB_STATE_CANCELLED, "state %d\n", get_job_state(job));
    ok(server_packet_wait(name, "Cancel-Session", 1, PACKET_TIMEOUT), "no Cancel-Session\n");
    stall_guard_end(guard);
    if (server_packet_get(name, "Create-Session", 0, &create)
            && server_packet_get(name, "Cancel-Session", 0, &cancel))
        ok(!strcmp(cancel.session, create.session) && cancel.status == 200,
                "Cancel-Session in %s answered %u; session %s\n", cancel.session, cancel.status,
                create.session);
    server_upload_state(name, &state);
    ok(!state.committed && !state.open && !state.pending && state.cancelled == 1,
            "committed %d, %u open, %s bytes pending, %u cancelled\n", state.committed,
            state.open, wine_dbgstr_longlong(state.pending), state.cancelled);
    ok(!server_packet_count(name, "Close-Session"), "Close-Session sent\n");
    ok(server_verify_file(path, "upload-cancel-src", size), "the source changed\n");
done:
    server_release(name);
    cancel_job(job);
    CoTaskMemFree(path);
    remove_test_dir(dir);
}

/* behaviour.md §3.3, wire-and-tools.md §2.8: Suspend stops the upload and keeps what was
 * done; Resume goes on in the same session (the client still has its Session-Id); the file
 * is whole. */
static void test_suspend_resume(void)
{
    static const char name[] = "upload-suspend";
    static const UINT64 size = 300000;
    struct server_upload state;
    struct stall_guard *guard;
    IBackgroundCopyJob *job;
    WCHAR *dir, *path;
    char spec[64];
    HRESULT hr;

    if (!start_server()) return;
    dir = make_test_dir(L"upload-suspend");
    path = make_source(dir, L"suspend.bin", "upload-suspend-src", size);
    snprintf(spec, sizeof(spec), "%s?stall=%llu", name, (unsigned long long)size / 2);
    job = create_upload_job(L"upload-suspend", BG_JOB_TYPE_UPLOAD, spec, path, NULL);
    if (!job) goto done;
    if (!resume_stalled(job, name)) goto done;

    guard = stall_guard_begin(name, GUARD_TIMEOUT);
    hr = IBackgroundCopyJob_Suspend(job);
    ok(hr == S_OK, "Suspend: %#lx\n", hr);
    ok(get_job_state(job) == BG_JOB_STATE_SUSPENDED, "state %d\n", get_job_state(job));
    stall_guard_end(guard);         /* the name does not stall again */
    ok(!server_packet_count(name, "Cancel-Session") && !server_packet_count(name,
            "Close-Session"), "the session was ended\n");

    if (!resume_and_wait(job, BG_JOB_STATE_TRANSFERRED, UPLOAD_TIMEOUT)) goto done;
    ok(server_packet_wait(name, "Close-Session", 1, PACKET_TIMEOUT), "no Close-Session\n");
    check_uploaded(name, path);
    server_upload_state(name, &state);
    ok(state.sessions == 1 && !state.cancelled, "%u sessions, %u cancelled\n", state.sessions,
            state.cancelled);
    check_complete(job);
done:
    server_release(name);
    cancel_job(job);
    CoTaskMemFree(path);
    remove_test_dir(dir);
}

/* Learn AddFile: a local file that changes during the upload is an error, context LOCAL_FILE
 * (BG_E_LOCAL_FILE_CHANGED, behaviour.md §4.1 [doc]); the server gets no file. */
static void test_source_changed(void)
{
    static const char name[] = "upload-changed";
    static const UINT64 size = 1000000;
    struct server_packet packet;
    struct server_upload state;
    struct stall_guard *guard;
    IBackgroundCopyJob *job;
    WCHAR *dir, *path;
    HANDLE file;
    DWORD written;
    char spec[64];

    if (!start_server()) return;
    dir = make_test_dir(L"upload-changed");
    path = make_source(dir, L"changed.bin", "upload-changed-src", size);
    snprintf(spec, sizeof(spec), "%s?stall=1", name);
    job = create_upload_job(L"upload-changed", BG_JOB_TYPE_UPLOAD, spec, path, NULL);
    if (!job) goto done;
    if (!resume_stalled(job, name)) goto done;

    /* a client that sent everything in the held fragment has nothing more to read */
    if (server_packet_get(name, "Fragment", server_packet_count(name, "Fragment") - 1, &packet)
            && packet.has_range && packet.last + 1 == size)
    {
        skip("the held fragment is the last one\n");
        goto done;
    }
    guard = stall_guard_begin(name, GUARD_TIMEOUT);
    file = CreateFileW(path, FILE_APPEND_DATA, FILE_SHARE_READ | FILE_SHARE_WRITE
            | FILE_SHARE_DELETE, NULL, OPEN_EXISTING, 0, NULL);
    if (file == INVALID_HANDLE_VALUE)
    {
        /* BITS may hold the source without write sharing: then it cannot change */
        ok(GetLastError() == ERROR_SHARING_VIOLATION, "cannot open the source: %lu\n",
                GetLastError());
        stall_guard_end(guard);
        skip("the source cannot be changed during the upload\n");
        goto done;
    }
    ok(WriteFile(file, "more", 4, &written, NULL), "cannot append: %lu\n", GetLastError());
    CloseHandle(file);
    server_release(name);
    stall_guard_end(guard);
    if (wait_for_state(job, BG_JOB_STATE_ERROR, UPLOAD_TIMEOUT))
        check_error(job, BG_E_LOCAL_FILE_CHANGED, BG_ERROR_CONTEXT_LOCAL_FILE);
    else ok(0, "state %d\n", get_job_state(job));
    server_upload_state(name, &state);
    ok(!state.committed, "the server committed a file\n");
done:
    server_release(name);
    cancel_job(job);
    CoTaskMemFree(path);
    remove_test_dir(dir);
}

START_TEST(upload)
{
    if (!bits_test_init()) return;
    test_create();
    test_AddFile();
    test_missing_source();
    test_upload();
    test_upload_credentials();
    test_upload_large();
    test_upload_empty();
    test_reply_methods();
    test_reply();
    test_reply_default_name();
    test_reply_too_large();
    test_reply_application_error();
    test_create_session_refused();
    test_create_session_retry();
    test_session_not_found();
    test_range_resync();
    test_fragment_too_large();
    test_dropped_connection();
    test_cancel_in_flight();
    test_suspend_resume();
    test_source_changed();
    server_stop();
    bits_test_cleanup();
}
