/* IBitsTokenOptions (bits4_0.h): a job's helper token and its usage flags, as Windows 10 1607
 * and later document them.  The interface is the job's (QueryInterface of any job interface);
 * the flags start at 0 and take BG_TOKEN_LOCAL_FILE | BG_TOKEN_NETWORK; SetHelperToken takes
 * the token of the COM client, which needs a proxy blanket at impersonate level; the SID of
 * its user is what GetHelperTokenSid returns (NULL when none); ClearHelperToken drops the
 * token and keeps the flags.  Rights: an administrator, or the job's owner as long as no
 * helper token with BUILTIN\Administrators enabled is involved (older versions wanted an
 * administrator: broken()).
 *
 * Run by an administrator, the unit starts this executable again as "tokenopts child TEST"
 * under its own token with BUILTIN\Administrators deny-only (the same user, so the owner of
 * the parent's jobs, but no administrator), as limits.c does.  What needs a second account
 * (a job of another user) is not checked.  Left open by the documentation, and asserted as
 * this project infers it: E_INVALIDARG for unknown flag bits and BG_E_INVALID_STATE for the
 * setters in a final state.  That the token does not survive a restart of the service, and
 * the flags do, is Wine-only: tests/wine/tokenrestart.c.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#include "util.h"

#define CHILD_TIMEOUT_MS 60000
#define VALID_FLAGS (BG_TOKEN_LOCAL_FILE | BG_TOKEN_NETWORK)

static IBitsTokenOptions *get_token_options_at(IUnknown *job, const char *file, int line)
{
    IBitsTokenOptions *options = NULL;
    HRESULT hr;

    hr = IUnknown_QueryInterface(job, &IID_IBitsTokenOptions, (void **)&options);
    ok_(file, line)(hr == S_OK, "QueryInterface(IBitsTokenOptions): %#lx\n", hr);
    ok_(file, line)(hr != S_OK || options != NULL, "no interface returned\n");
    return SUCCEEDED(hr) ? options : NULL;
}
#define get_token_options(job) get_token_options_at((IUnknown *)(job), __FILE__, __LINE__)

/* SetHelperToken remarks: the proxy blanket must allow impersonation, and dynamic cloaking
 * lets the service see a thread token as the client's identity. */
static void set_blanket_at(IBitsTokenOptions *options, DWORD level, const char *file, int line)
{
    HRESULT hr;

    hr = CoSetProxyBlanket((IUnknown *)options, RPC_C_AUTHN_DEFAULT, RPC_C_AUTHZ_DEFAULT,
            COLE_DEFAULT_PRINCIPAL, RPC_C_AUTHN_LEVEL_DEFAULT, level, COLE_DEFAULT_AUTHINFO,
            EOAC_DYNAMIC_CLOAKING);
    /* Wine's proxies have no IClientSecurity::SetBlanket yet (a stub: E_NOTIMPL). */
    todo_wine ok_(file, line)(hr == S_OK, "CoSetProxyBlanket(level %lu): %#lx\n", level, hr);
}
#define set_blanket(options, level) set_blanket_at(options, level, __FILE__, __LINE__)

static void expect_flags_at(IBitsTokenOptions *options, DWORD expect, const char *file, int line)
{
    DWORD flags = 0xdeadbeef;
    HRESULT hr;

    hr = IBitsTokenOptions_GetHelperTokenFlags(options, &flags);
    ok_(file, line)(hr == S_OK, "GetHelperTokenFlags: %#lx\n", hr);
    ok_(file, line)(flags == expect, "flags %#lx, expected %#lx\n", flags, expect);
}
#define expect_flags(options, expect) expect_flags_at(options, expect, __FILE__, __LINE__)

/* GetHelperTokenSid: S_OK, with the SID string of EXPECT's user, or NULL when EXPECT is. */
static void expect_sid_at(IBitsTokenOptions *options, const WCHAR *expect, const char *file,
        int line)
{
    WCHAR *sid = (WCHAR *)0xdeadbeef;
    HRESULT hr;

    hr = IBitsTokenOptions_GetHelperTokenSid(options, &sid);
    ok_(file, line)(hr == S_OK, "GetHelperTokenSid: %#lx\n", hr);
    if (hr != S_OK) return;
    ok_(file, line)(str_equal(sid, expect), "helper token SID %s, expected %s\n",
            wine_dbgstr_w(sid), wine_dbgstr_w(expect));
    CoTaskMemFree(sid);
}
#define expect_sid(options, expect) expect_sid_at(options, expect, __FILE__, __LINE__)

/* The interface page: QueryInterface of the job; every job interface answers it, and the
 * result belongs to the job. */
static void test_QueryInterface(void)
{
    static const IID *const job_iids[] =
    {
        &IID_IBackgroundCopyJob, &IID_IBackgroundCopyJob2, &IID_IBackgroundCopyJob3,
        &IID_IBackgroundCopyJob4, &IID_IBackgroundCopyJob5, &IID_IBackgroundCopyJobHttpOptions,
    };
    IBackgroundCopyJob *job = create_job(L"tokenopts-qi", BG_JOB_TYPE_DOWNLOAD, NULL), *back;
    IBitsTokenOptions *options, *again;
    IUnknown *iface;
    unsigned int i;
    HRESULT hr;

    if (!job) return;
    options = get_token_options(job);
    if (!options)
    {
        cancel_job(job);
        return;
    }
    ok(same_object((IUnknown *)options, (IUnknown *)job), "not the job's interface\n");
    hr = IBitsTokenOptions_QueryInterface(options, &IID_IBackgroundCopyJob, (void **)&back);
    ok(hr == S_OK, "QueryInterface(IBackgroundCopyJob) of the options: %#lx\n", hr);
    if (SUCCEEDED(hr))
    {
        ok(same_object((IUnknown *)back, (IUnknown *)job), "another job\n");
        IBackgroundCopyJob_Release(back);
    }
    hr = IBitsTokenOptions_QueryInterface(options, &IID_IBitsTokenOptions, (void **)&again);
    ok(hr == S_OK, "QueryInterface(IBitsTokenOptions) of the options: %#lx\n", hr);
    if (SUCCEEDED(hr)) IBitsTokenOptions_Release(again);

    for (i = 0; i < ARRAY_SIZE(job_iids); i++)
    {
        winetest_push_context("iid %u", i);
        iface = NULL;
        hr = IBackgroundCopyJob_QueryInterface(job, job_iids[i], (void **)&iface);
        ok(hr == S_OK, "QueryInterface: %#lx\n", hr);
        if (SUCCEEDED(hr))
        {
            again = get_token_options(iface);
            if (again)
            {
                ok(same_object((IUnknown *)again, (IUnknown *)job), "not the job's interface\n");
                IBitsTokenOptions_Release(again);
            }
            IUnknown_Release(iface);
        }
        winetest_pop_context();
    }
    IBitsTokenOptions_Release(options);
    cancel_job(job);
}

/* SetHelperTokenFlags / GetHelperTokenFlags: 0 at first, any combination of the two flags,
 * 0 again to stop using the token ("Helper Tokens for BITS Transfer Jobs"); no token needed
 * to set them.  Other bits: the pages name no error (E_INVALIDARG inferred). */
static void test_flags(void)
{
    static const DWORD invalid[] = { 0x4, 0x8 | BG_TOKEN_LOCAL_FILE, 0x80000000, ~0u };
    static const DWORD valid[] =
    {
        BG_TOKEN_LOCAL_FILE, BG_TOKEN_NETWORK, BG_TOKEN_LOCAL_FILE | BG_TOKEN_NETWORK, 0,
    };
    IBackgroundCopyJob *job = create_job(L"tokenopts-flags", BG_JOB_TYPE_DOWNLOAD, NULL);
    IBitsTokenOptions *options;
    unsigned int i;
    HRESULT hr;

    if (!job) return;
    options = get_token_options(job);
    if (!options)
    {
        cancel_job(job);
        return;
    }
    expect_flags(options, 0);
    expect_sid(options, NULL);
    for (i = 0; i < ARRAY_SIZE(valid); i++)
    {
        hr = IBitsTokenOptions_SetHelperTokenFlags(options, valid[i]);
        ok(hr == S_OK, "SetHelperTokenFlags(%#lx): %#lx\n", valid[i], hr);
        expect_flags(options, valid[i]);
    }
    hr = IBitsTokenOptions_SetHelperTokenFlags(options, BG_TOKEN_NETWORK);
    ok(hr == S_OK, "SetHelperTokenFlags: %#lx\n", hr);
    for (i = 0; i < ARRAY_SIZE(invalid); i++)
    {
        hr = IBitsTokenOptions_SetHelperTokenFlags(options, invalid[i]);
        ok(hr == E_INVALIDARG || broken(hr == S_OK) /* not documented */,
                "SetHelperTokenFlags(%#lx): %#lx\n", invalid[i], hr);
        if (FAILED(hr)) expect_flags(options, BG_TOKEN_NETWORK);
        else IBitsTokenOptions_SetHelperTokenFlags(options, BG_TOKEN_NETWORK);
    }
    expect_sid(options, NULL);
    IBitsTokenOptions_Release(options);
    cancel_job(job);
}

/* SetHelperToken takes the caller's token; GetHelperTokenSid names its user (the SID that
 * GetTokenInformation gives); ClearHelperToken drops it and keeps the flags, and may be called
 * again.  A new token replaces the old one. */
static void test_helper_token(void)
{
    IBackgroundCopyJob *job = create_job(L"tokenopts-token", BG_JOB_TYPE_DOWNLOAD, NULL);
    WCHAR *user = get_user_sid_string();
    IBitsTokenOptions *options;
    HRESULT hr;

    ok(user != NULL, "no user SID\n");
    if (!job) goto done;
    options = get_token_options(job);
    if (!options) goto done;
    set_blanket(options, RPC_C_IMP_LEVEL_IMPERSONATE);

    hr = IBitsTokenOptions_SetHelperTokenFlags(options, BG_TOKEN_LOCAL_FILE);
    ok(hr == S_OK, "SetHelperTokenFlags: %#lx\n", hr);
    hr = IBitsTokenOptions_SetHelperToken(options);
    ok(hr == S_OK, "SetHelperToken: %#lx\n", hr);
    expect_sid(options, user);
    expect_flags(options, BG_TOKEN_LOCAL_FILE);
    hr = IBitsTokenOptions_SetHelperToken(options);
    ok(hr == S_OK, "SetHelperToken again: %#lx\n", hr);
    expect_sid(options, user);

    hr = IBitsTokenOptions_ClearHelperToken(options);
    ok(hr == S_OK, "ClearHelperToken: %#lx\n", hr);
    expect_sid(options, NULL);
    expect_flags(options, BG_TOKEN_LOCAL_FILE);
    hr = IBitsTokenOptions_ClearHelperToken(options);
    ok(hr == S_OK, "ClearHelperToken without a token: %#lx\n", hr);
    expect_sid(options, NULL);

    hr = IBitsTokenOptions_SetHelperToken(options);
    ok(hr == S_OK, "SetHelperToken after the clear: %#lx\n", hr);
    expect_sid(options, user);
    hr = IBitsTokenOptions_SetHelperTokenFlags(options, 0);
    ok(hr == S_OK, "SetHelperTokenFlags(0): %#lx\n", hr);
    expect_sid(options, user);
    IBitsTokenOptions_Release(options);

    /* The token is the job's, not the interface pointer's. */
    options = get_token_options(job);
    if (options)
    {
        expect_sid(options, user);
        IBitsTokenOptions_Release(options);
    }
done:
    LocalFree(user);
    cancel_job(job);
}

/* SetHelperToken's return values: CO_E_FAILEDTOIMPERSONATE when the client's COM settings
 * allow no impersonation (the example "Adding a Helper Token" says E_ACCESSDENIED). */
static void test_identify_level(void)
{
    IBackgroundCopyJob *job = create_job(L"tokenopts-identify", BG_JOB_TYPE_DOWNLOAD, NULL);
    IBitsTokenOptions *options;
    HRESULT hr;

    if (!job) return;
    options = get_token_options(job);
    if (!options)
    {
        cancel_job(job);
        return;
    }
    set_blanket(options, RPC_C_IMP_LEVEL_IDENTIFY);
    hr = IBitsTokenOptions_SetHelperToken(options);
    /* Wine gives the service no impersonation of its client (README): it cannot tell. */
    todo_wine ok(hr == CO_E_FAILEDTOIMPERSONATE || broken(hr == E_ACCESSDENIED),
            "SetHelperToken at identify level: %#lx\n", hr);
    if (FAILED(hr)) expect_sid(options, NULL);
    IBitsTokenOptions_Release(options);
    cancel_job(job);
}

/* behaviour.md §0.3: a final job takes no changes (not on the IBitsTokenOptions pages: the
 * setters' BG_E_INVALID_STATE is inferred); the getters still answer. */
static void test_final_state(void)
{
    IBackgroundCopyJob *job = create_job(L"tokenopts-final", BG_JOB_TYPE_DOWNLOAD, NULL);
    WCHAR *user = get_user_sid_string();
    IBitsTokenOptions *options;
    HRESULT hr;

    if (!job) goto done;
    options = get_token_options(job);
    if (!options) goto done;
    set_blanket(options, RPC_C_IMP_LEVEL_IMPERSONATE);
    hr = IBitsTokenOptions_SetHelperTokenFlags(options, BG_TOKEN_NETWORK);
    ok(hr == S_OK, "SetHelperTokenFlags: %#lx\n", hr);
    hr = IBitsTokenOptions_SetHelperToken(options);
    ok(hr == S_OK, "SetHelperToken: %#lx\n", hr);
    hr = IBackgroundCopyJob_Cancel(job);
    ok(hr == S_OK, "Cancel: %#lx\n", hr);

    hr = IBitsTokenOptions_SetHelperTokenFlags(options, BG_TOKEN_LOCAL_FILE);
    ok(hr == BG_E_INVALID_STATE || broken(hr == S_OK), "SetHelperTokenFlags: %#lx\n", hr);
    if (hr == BG_E_INVALID_STATE) expect_flags(options, BG_TOKEN_NETWORK);
    hr = IBitsTokenOptions_SetHelperToken(options);
    ok(hr == BG_E_INVALID_STATE || broken(hr == S_OK), "SetHelperToken: %#lx\n", hr);
    hr = IBitsTokenOptions_ClearHelperToken(options);
    ok(hr == BG_E_INVALID_STATE || broken(hr == S_OK), "ClearHelperToken: %#lx\n", hr);
    if (hr == BG_E_INVALID_STATE) expect_sid(options, user);
    IBitsTokenOptions_Release(options);
done:
    LocalFree(user);
    cancel_job(job);
}

/* Whether the caller has the owner's rights of Windows 10 1607 (see above), told by
 * GetHelperTokenFlags on a job of its own; before 1607 a caller who is not an administrator
 * is refused. */
static BOOL owner_rules(void)
{
    IBackgroundCopyJob *job = create_job(L"tokenopts-probe", BG_JOB_TYPE_DOWNLOAD, NULL);
    IBitsTokenOptions *options;
    HRESULT hr = E_FAIL;
    DWORD flags;

    if (!job) return FALSE;
    options = get_token_options(job);
    if (options)
    {
        hr = IBitsTokenOptions_GetHelperTokenFlags(options, &flags);
        ok(hr == S_OK || broken(hr == E_ACCESSDENIED && !is_admin()) /* before 1607 */,
                "GetHelperTokenFlags: %#lx\n", hr);
        if (hr == E_ACCESSDENIED) win_skip("helper tokens need an administrator\n");
        IBitsTokenOptions_Release(options);
    }
    cancel_job(job);
    return hr == S_OK;
}

/* ---- The child: the same user, not an administrator ---- */

/* Since Windows 10 1607 the owner may use all five methods on its job, with a helper token
 * that has no Administrators SID enabled (its own); before, only an administrator could. */
static void child_own_job(void)
{
    IBackgroundCopyJob *job = create_job(L"tokenopts-child", BG_JOB_TYPE_DOWNLOAD, NULL);
    WCHAR *user = get_user_sid_string();
    IBitsTokenOptions *options;
    HRESULT hr;

    if (!job) goto done;
    options = get_token_options(job);
    if (!options) goto done;
    set_blanket(options, RPC_C_IMP_LEVEL_IMPERSONATE);
    expect_flags(options, 0);
    hr = IBitsTokenOptions_SetHelperTokenFlags(options, VALID_FLAGS);
    ok(hr == S_OK, "SetHelperTokenFlags: %#lx\n", hr);
    expect_flags(options, VALID_FLAGS);
    hr = IBitsTokenOptions_SetHelperToken(options);
    ok(hr == S_OK, "SetHelperToken: %#lx\n", hr);
    expect_sid(options, user);
    hr = IBitsTokenOptions_ClearHelperToken(options);
    ok(hr == S_OK, "ClearHelperToken: %#lx\n", hr);
    expect_sid(options, NULL);
    expect_flags(options, VALID_FLAGS);
    IBitsTokenOptions_Release(options);
done:
    LocalFree(user);
    cancel_job(job);
}

/* The parent's job holds the parent's helper token, with Administrators enabled.  The child
 * owns the job (same user) but is no administrator: it reads the flags and the SID, may not
 * change the flags while that token is set, and may replace the token with its own, after
 * which the flags are its to change. */
static void child_admin_helper(const char *id_string)
{
    IBackgroundCopyJob *job = NULL;
    IBitsTokenOptions *options;
    WCHAR *user = get_user_sid_string(), wide[64];
    HRESULT hr;
    GUID id;

    MultiByteToWideChar(CP_ACP, 0, id_string, -1, wide, ARRAY_SIZE(wide));
    hr = CLSIDFromString(wide, &id);
    ok(hr == S_OK, "job id %s: %#lx\n", id_string, hr);
    if (FAILED(hr)) goto done;
    hr = IBackgroundCopyManager_GetJob(test_manager, &id, &job);
    ok(hr == S_OK, "GetJob: %#lx\n", hr);
    if (FAILED(hr)) goto done;
    options = get_token_options(job);
    if (!options) goto done;
    set_blanket(options, RPC_C_IMP_LEVEL_IMPERSONATE);
    expect_flags(options, BG_TOKEN_LOCAL_FILE);
    expect_sid(options, user);

    hr = IBitsTokenOptions_SetHelperTokenFlags(options, BG_TOKEN_NETWORK);
    ok(hr == E_ACCESSDENIED, "SetHelperTokenFlags over an administrator's token: %#lx\n", hr);
    expect_flags(options, BG_TOKEN_LOCAL_FILE);
    hr = IBitsTokenOptions_SetHelperToken(options);
    ok(hr == S_OK, "SetHelperToken: %#lx\n", hr);
    if (hr == S_OK)
    {
        hr = IBitsTokenOptions_SetHelperTokenFlags(options, BG_TOKEN_NETWORK);
        ok(hr == S_OK, "SetHelperTokenFlags over the own token: %#lx\n", hr);
        expect_flags(options, BG_TOKEN_NETWORK);
    }
    IBitsTokenOptions_Release(options);
done:
    if (job) IBackgroundCopyJob_Release(job);
    LocalFree(user);
}

static void child_main(int argc, char **argv)
{
    if (is_admin())
    {
        ok(0, "the child is an administrator\n");
        return;
    }
    if (argc < 4) ok(0, "child arguments missing\n");
    else if (!owner_rules()) return;
    else if (!strcmp(argv[3], "own")) child_own_job();
    else if (!strcmp(argv[3], "admin-helper") && argc >= 5) child_admin_helper(argv[4]);
    else ok(0, "unknown child test %s\n", argv[3]);
}

/* ---- The parent ---- */

/* An administrator sets its own token (Administrators enabled) on its job, then lets the
 * child work on it, and sees what the child left. */
static void test_admin_helper(void)
{
    IBitsTokenOptions *options;
    IBackgroundCopyJob *job;
    WCHAR *user = get_user_sid_string(), args[128], id_string[64];
    DWORD flags = 0;
    HRESULT hr;
    GUID id;

    job = create_job(L"tokenopts-admin", BG_JOB_TYPE_DOWNLOAD, &id);
    if (!job) goto done;
    options = get_token_options(job);
    if (!options) goto done;
    set_blanket(options, RPC_C_IMP_LEVEL_IMPERSONATE);
    hr = IBitsTokenOptions_SetHelperTokenFlags(options, BG_TOKEN_LOCAL_FILE);
    ok(hr == S_OK, "SetHelperTokenFlags: %#lx\n", hr);
    hr = IBitsTokenOptions_SetHelperToken(options);
    ok(hr == S_OK, "SetHelperToken: %#lx\n", hr);
    if (hr == S_OK)
    {
        StringFromGUID2(&id, id_string, ARRAY_SIZE(id_string));
        swprintf(args, ARRAY_SIZE(args), L"tokenopts child admin-helper %ls", id_string);
        if (run_child_process(args, TRUE, CHILD_TIMEOUT_MS) == 0)
        {
            hr = IBitsTokenOptions_GetHelperTokenFlags(options, &flags);
            ok(hr == S_OK, "GetHelperTokenFlags: %#lx\n", hr);
            ok(flags == BG_TOKEN_NETWORK || broken(flags == BG_TOKEN_LOCAL_FILE) /* before 1607 */,
                    "flags the child left: %#lx\n", flags);
            expect_sid(options, user);
        }
    }
    IBitsTokenOptions_Release(options);
done:
    LocalFree(user);
    cancel_job(job);
}

START_TEST(tokenopts)
{
    char **argv;
    int argc = winetest_get_mainargs(&argv);
    BOOL child = argc >= 3 && !strcmp(argv[2], "child");

    if (!bits_test_init())
    {
        /* A child that cannot reach BITS has checked nothing: that must not pass. */
        ok(!child, "the child cannot create the manager\n");
        return;
    }
    if (child) child_main(argc, argv);
    else if (is_admin() || owner_rules())
    {
        test_QueryInterface();
        test_flags();
        test_helper_token();
        test_identify_level();
        test_final_state();
        if (!is_admin()) skip("starting a non-administrator needs an administrator\n");
        else
        {
            run_child_process(L"tokenopts child own", TRUE, CHILD_TIMEOUT_MS);
            test_admin_helper();
        }
    }
    bits_test_cleanup();
}
