/* Credentials (behaviour.md §9.5, wire-and-tools.md §1.9; Learn: IBackgroundCopyJob2::
 * SetCredentials, RemoveCredentials): the checks of the arguments, and HTTP authentication
 * against the test server, which asks for Basic credentials when a file's spec has
 * "auth=USER:PASS" (server.h).
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#include "util.h"

#define TRANSFER_TIMEOUT 15000  /* ms for a small file from 127.0.0.1 */
#define USER_MAX 300            /* BG_BASIC_CREDENTIALS: longest user name */
#define PASSWORD_MAX 65536      /* ... and password */

static IBackgroundCopyJob2 *get_job2(IBackgroundCopyJob *job)
{
    IBackgroundCopyJob2 *job2 = NULL;
    HRESULT hr;

    if (!job) return NULL;
    hr = IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJob2, (void **)&job2);
    if (FAILED(hr)) win_skip("no IBackgroundCopyJob2: %#lx\n", hr);
    return job2;
}

static HRESULT set_credentials(IBackgroundCopyJob2 *job2, BG_AUTH_TARGET target,
        BG_AUTH_SCHEME scheme, const WCHAR *user, const WCHAR *password)
{
    BG_AUTH_CREDENTIALS credentials;

    memset(&credentials, 0, sizeof(credentials));
    credentials.Target = target;
    credentials.Scheme = scheme;
    credentials.Credentials.Basic.UserName = (WCHAR *)user;
    credentials.Credentials.Basic.Password = (WCHAR *)password;
    return IBackgroundCopyJob2_SetCredentials(job2, &credentials);
}

/* Learn, SetCredentials: the documented failures; every scheme and both targets are taken. */
static void test_SetCredentials_arguments(void)
{
    IBackgroundCopyJob *job = create_job(L"credentials-args", BG_JOB_TYPE_DOWNLOAD, NULL);
    IBackgroundCopyJob2 *job2 = get_job2(job);
    WCHAR *long_user, *long_password;
    unsigned int target, scheme;
    HRESULT hr;

    if (!job2) goto done;
    for (target = BG_AUTH_TARGET_SERVER; target <= BG_AUTH_TARGET_PROXY; target++)
        for (scheme = BG_AUTH_SCHEME_BASIC; scheme <= BG_AUTH_SCHEME_PASSPORT; scheme++)
        {
            hr = set_credentials(job2, target, scheme, L"user", L"secret");
            ok(hr == S_OK, "target %u scheme %u: %#lx\n", target, scheme, hr);
        }
    /* Setting a pair again replaces it. */
    hr = set_credentials(job2, BG_AUTH_TARGET_SERVER, BG_AUTH_SCHEME_BASIC, L"other", L"word");
    ok(hr == S_OK, "replacing: %#lx\n", hr);

    hr = set_credentials(job2, 0, BG_AUTH_SCHEME_BASIC, L"user", L"secret");
    ok(hr == BG_E_INVALID_AUTH_TARGET, "target 0: %#lx\n", hr);
    hr = set_credentials(job2, BG_AUTH_TARGET_PROXY + 1, BG_AUTH_SCHEME_BASIC, L"user", L"secret");
    ok(hr == BG_E_INVALID_AUTH_TARGET, "target 3: %#lx\n", hr);
    hr = set_credentials(job2, BG_AUTH_TARGET_SERVER, 0, L"user", L"secret");
    ok(hr == BG_E_INVALID_AUTH_SCHEME, "scheme 0: %#lx\n", hr);
    hr = set_credentials(job2, BG_AUTH_TARGET_SERVER, BG_AUTH_SCHEME_PASSPORT + 1, L"user",
            L"secret");
    ok(hr == BG_E_INVALID_AUTH_SCHEME, "scheme 6: %#lx\n", hr);

    /* Basic and Digest need both members; NTLM with neither means the logged-on user. */
    hr = set_credentials(job2, BG_AUTH_TARGET_SERVER, BG_AUTH_SCHEME_BASIC, NULL, L"secret");
    ok(hr == E_INVALIDARG, "Basic without a user: %#lx\n", hr);
    hr = set_credentials(job2, BG_AUTH_TARGET_SERVER, BG_AUTH_SCHEME_BASIC, L"user", NULL);
    ok(hr == E_INVALIDARG, "Basic without a password: %#lx\n", hr);
    hr = set_credentials(job2, BG_AUTH_TARGET_PROXY, BG_AUTH_SCHEME_DIGEST, NULL, NULL);
    ok(hr == E_INVALIDARG, "Digest without both: %#lx\n", hr);
    hr = set_credentials(job2, BG_AUTH_TARGET_SERVER, BG_AUTH_SCHEME_NTLM, NULL, NULL);
    ok(hr == S_OK, "implicit NTLM: %#lx\n", hr);
    hr = set_credentials(job2, BG_AUTH_TARGET_PROXY, BG_AUTH_SCHEME_NEGOTIATE, NULL, NULL);
    ok(hr == S_OK, "implicit Negotiate: %#lx\n", hr);

    /* The limits of BG_BASIC_CREDENTIALS, terminator not counted. */
    long_user = make_string(L"", 'u', USER_MAX);
    long_password = make_string(L"", 'p', PASSWORD_MAX);
    hr = set_credentials(job2, BG_AUTH_TARGET_SERVER, BG_AUTH_SCHEME_BASIC, long_user, L"secret");
    ok(hr == S_OK, "user of %u characters: %#lx\n", USER_MAX, hr);
    hr = set_credentials(job2, BG_AUTH_TARGET_SERVER, BG_AUTH_SCHEME_BASIC, L"user", long_password);
    ok(hr == S_OK, "password of %u characters: %#lx\n", PASSWORD_MAX, hr);
    CoTaskMemFree(long_user);
    CoTaskMemFree(long_password);
    long_user = make_string(L"", 'u', USER_MAX + 1);
    long_password = make_string(L"", 'p', PASSWORD_MAX + 1);
    hr = set_credentials(job2, BG_AUTH_TARGET_SERVER, BG_AUTH_SCHEME_BASIC, long_user, L"secret");
    ok(hr == BG_E_USERNAME_TOO_LARGE, "user of %u characters: %#lx\n", USER_MAX + 1, hr);
    hr = set_credentials(job2, BG_AUTH_TARGET_SERVER, BG_AUTH_SCHEME_BASIC, L"user", long_password);
    ok(hr == BG_E_PASSWORD_TOO_LARGE, "password of %u characters: %#lx\n", PASSWORD_MAX + 1, hr);
    CoTaskMemFree(long_user);
    CoTaskMemFree(long_password);

    hr = IBackgroundCopyJob2_Cancel(job2);
    ok(hr == S_OK, "Cancel: %#lx\n", hr);
    hr = set_credentials(job2, BG_AUTH_TARGET_SERVER, BG_AUTH_SCHEME_BASIC, L"user", L"secret");
    ok(hr == BG_E_INVALID_STATE, "after Cancel: %#lx\n", hr);
    hr = IBackgroundCopyJob2_RemoveCredentials(job2, BG_AUTH_TARGET_SERVER, BG_AUTH_SCHEME_BASIC);
    ok(hr == BG_E_INVALID_STATE, "RemoveCredentials after Cancel: %#lx\n", hr);
done:
    if (job2) IBackgroundCopyJob2_Release(job2);
    cancel_job(job);
}

/* RemoveCredentials: the same checks of target and scheme; a pair that was never set is
 * S_FALSE [behaviour.md §2: inferred]. */
static void test_RemoveCredentials(void)
{
    IBackgroundCopyJob *job = create_job(L"credentials-remove", BG_JOB_TYPE_DOWNLOAD, NULL);
    IBackgroundCopyJob2 *job2 = get_job2(job);
    HRESULT hr;

    if (!job2) goto done;
    hr = IBackgroundCopyJob2_RemoveCredentials(job2, BG_AUTH_TARGET_SERVER, BG_AUTH_SCHEME_BASIC);
    ok(hr == S_FALSE || broken(hr == S_OK), "nothing to remove: %#lx\n", hr);
    hr = set_credentials(job2, BG_AUTH_TARGET_SERVER, BG_AUTH_SCHEME_BASIC, L"user", L"secret");
    ok(hr == S_OK, "SetCredentials: %#lx\n", hr);
    hr = IBackgroundCopyJob2_RemoveCredentials(job2, BG_AUTH_TARGET_PROXY, BG_AUTH_SCHEME_BASIC);
    ok(hr == S_FALSE || broken(hr == S_OK), "other target: %#lx\n", hr);
    hr = IBackgroundCopyJob2_RemoveCredentials(job2, BG_AUTH_TARGET_SERVER, BG_AUTH_SCHEME_DIGEST);
    ok(hr == S_FALSE || broken(hr == S_OK), "other scheme: %#lx\n", hr);
    hr = IBackgroundCopyJob2_RemoveCredentials(job2, BG_AUTH_TARGET_SERVER, BG_AUTH_SCHEME_BASIC);
    ok(hr == S_OK, "RemoveCredentials: %#lx\n", hr);
    hr = IBackgroundCopyJob2_RemoveCredentials(job2, BG_AUTH_TARGET_SERVER, BG_AUTH_SCHEME_BASIC);
    ok(hr == S_FALSE || broken(hr == S_OK), "removed twice: %#lx\n", hr);

    hr = IBackgroundCopyJob2_RemoveCredentials(job2, 0, BG_AUTH_SCHEME_BASIC);
    ok(hr == BG_E_INVALID_AUTH_TARGET, "target 0: %#lx\n", hr);
    hr = IBackgroundCopyJob2_RemoveCredentials(job2, BG_AUTH_TARGET_SERVER,
            BG_AUTH_SCHEME_PASSPORT + 1);
    ok(hr == BG_E_INVALID_AUTH_SCHEME, "scheme 6: %#lx\n", hr);
done:
    if (job2) IBackgroundCopyJob2_Release(job2);
    cancel_job(job);
}

/* One file of the test server that wants Basic credentials USER:PASS; *path gets the local
 * path. */
static IBackgroundCopyJob *create_auth_job(const WCHAR *tag, const char *spec, const WCHAR *dir,
        WCHAR **path)
{
    IBackgroundCopyJob *job = create_transfer_job(tag, NULL);

    *path = dir_file(dir, L"secret.bin");
    if (job && FAILED(add_server_file(job, spec, *path)))
    {
        cancel_job(job);
        job = NULL;
    }
    return job;
}

/* Resumes the job and waits for TRANSFERRED or ERROR; returns the state, and the error. */
static BG_JOB_STATE run_job(IBackgroundCopyJob *job, HRESULT *code, BG_ERROR_CONTEXT *context)
{
    BG_JOB_STATE state;
    HRESULT hr;

    *code = S_OK;
    *context = BG_ERROR_CONTEXT_NONE;
    hr = IBackgroundCopyJob_Resume(job);
    ok(hr == S_OK, "Resume: %#lx\n", hr);
    state = wait_for_state(job, BG_JOB_STATE_TRANSFERRED, TRANSFER_TIMEOUT)
            ? BG_JOB_STATE_TRANSFERRED : get_job_state(job);
    if (state == BG_JOB_STATE_ERROR) get_job_error(job, context, code);
    return state;
}

/* Learn, SetCredentials: a server asking for credentials the job does not have puts the job
 * in ERROR with BG_E_HTTP_ERROR_401; with them set, Resume downloads the file. */
static void test_server_basic(void)
{
    static const char spec[] = "credentials-basic?size=20000&auth=alice:s3cret";
    IBackgroundCopyJob *job;
    IBackgroundCopyJob2 *job2 = NULL;
    BG_ERROR_CONTEXT context;
    WCHAR *dir, *path = NULL;
    BG_JOB_STATE state;
    char value[SERVER_VALUE_MAX];
    unsigned int i, count;
    BOOL challenged = FALSE;
    HRESULT hr, code;

    dir = make_test_dir(L"credentials-basic");
    job = create_auth_job(L"credentials-basic", spec, dir, &path);
    job2 = get_job2(job);
    if (!job2) goto done;

    state = run_job(job, &code, &context);
    ok(state == BG_JOB_STATE_ERROR, "without credentials: state %u\n", state);
    ok(code == BG_E_HTTP_ERROR_401, "error %#lx\n", code);
    ok(context == BG_ERROR_CONTEXT_REMOTE_FILE, "context %u\n", context);
    ok(!file_exists(path), "the destination exists\n");

    /* Credentials of the proxy are not the server's. */
    hr = set_credentials(job2, BG_AUTH_TARGET_PROXY, BG_AUTH_SCHEME_BASIC, L"alice", L"s3cret");
    ok(hr == S_OK, "SetCredentials(PROXY): %#lx\n", hr);
    state = run_job(job, &code, &context);
    ok(state == BG_JOB_STATE_ERROR && code == BG_E_HTTP_ERROR_401,
            "proxy credentials only: state %u, error %#lx\n", state, code);

    /* Wrong ones are refused by the server: ERROR again, not a loop. */
    hr = set_credentials(job2, BG_AUTH_TARGET_SERVER, BG_AUTH_SCHEME_BASIC, L"alice", L"wrong");
    ok(hr == S_OK, "SetCredentials: %#lx\n", hr);
    state = run_job(job, &code, &context);
    ok(state == BG_JOB_STATE_ERROR && code == BG_E_HTTP_ERROR_401,
            "wrong password: state %u, error %#lx\n", state, code);

    /* Learn: replace the credentials and Resume. */
    server_log_clear();
    hr = set_credentials(job2, BG_AUTH_TARGET_SERVER, BG_AUTH_SCHEME_BASIC, L"alice", L"s3cret");
    ok(hr == S_OK, "SetCredentials: %#lx\n", hr);
    state = run_job(job, &code, &context);
    ok(state == BG_JOB_STATE_TRANSFERRED, "state %u, error %#lx, context %u\n", state, code,
            context);
    count = server_log_count("/file/credentials-basic");
    ok(count >= 1, "no request reached the server\n");
    for (i = 0; i < count; i++)
    {
        struct server_request request;

        if (!server_log_get("/file/credentials-basic", i, &request)) continue;
        if (request.status == 401) challenged = TRUE;
        if (request.status / 100 == 2)
            ok(server_log_header("/file/credentials-basic", i, "Authorization", value,
                    sizeof(value)) && !strncmp(value, "Basic ", 6),
                    "request %u answered %u without Basic credentials\n", i, request.status);
    }
    /* wire-and-tools.md §1.9 [inferred]: Basic goes only in answer to a challenge. */
    ok(challenged || broken(!challenged), "credentials sent before the server asked\n");
    if (state == BG_JOB_STATE_TRANSFERRED)
    {
        hr = IBackgroundCopyJob_Complete(job);
        ok(hr == S_OK, "Complete: %#lx\n", hr);
        ok(server_verify_file(path, "credentials-basic", 20000), "wrong content\n");
    }
done:
    if (job2) IBackgroundCopyJob2_Release(job2);
    cancel_job(job);
    CoTaskMemFree(path);
    remove_test_dir(dir);
}

/* RemoveCredentials takes effect at the next request: the server asks again, the job fails. */
static void test_server_removed(void)
{
    static const char spec[] = "credentials-removed?size=5000&auth=bob:pw";
    IBackgroundCopyJob *job;
    IBackgroundCopyJob2 *job2 = NULL;
    BG_ERROR_CONTEXT context;
    WCHAR *dir, *path = NULL;
    BG_JOB_STATE state;
    HRESULT hr, code;

    dir = make_test_dir(L"credentials-removed");
    job = create_auth_job(L"credentials-removed", spec, dir, &path);
    job2 = get_job2(job);
    if (!job2) goto done;
    hr = set_credentials(job2, BG_AUTH_TARGET_SERVER, BG_AUTH_SCHEME_BASIC, L"bob", L"pw");
    ok(hr == S_OK, "SetCredentials: %#lx\n", hr);
    hr = IBackgroundCopyJob2_RemoveCredentials(job2, BG_AUTH_TARGET_SERVER, BG_AUTH_SCHEME_BASIC);
    ok(hr == S_OK, "RemoveCredentials: %#lx\n", hr);
    state = run_job(job, &code, &context);
    ok(state == BG_JOB_STATE_ERROR && code == BG_E_HTTP_ERROR_401,
            "state %u, error %#lx\n", state, code);

    /* Other schemes' credentials do not answer a Basic challenge [inferred]. */
    hr = set_credentials(job2, BG_AUTH_TARGET_SERVER, BG_AUTH_SCHEME_DIGEST, L"bob", L"pw");
    ok(hr == S_OK, "SetCredentials(DIGEST): %#lx\n", hr);
    state = run_job(job, &code, &context);
    ok((state == BG_JOB_STATE_ERROR && code == BG_E_HTTP_ERROR_401)
            || broken(state == BG_JOB_STATE_TRANSFERRED),
            "Digest credentials for a Basic challenge: state %u, error %#lx\n", state, code);
done:
    if (job2) IBackgroundCopyJob2_Release(job2);
    cancel_job(job);
    CoTaskMemFree(path);
    remove_test_dir(dir);
}

START_TEST(credentials)
{
    if (!bits_test_init()) return;
    test_SetCredentials_arguments();
    test_RemoveCredentials();
    if (server_start())
    {
        test_server_basic();
        test_server_removed();
        server_stop();
    }
    else skip("the test server does not start\n");
    bits_test_cleanup();
}
