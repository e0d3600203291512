/* Wine-only test of IBitsTokenOptions across a restart of the service (dlls/qmgr/tokenopts.c,
 * store.c): the helper token is not persistent (SetHelperToken's page: it lives for the
 * session), so a restarted service has none, while the usage flags are job data the store
 * keeps.  It stops and starts the service of the prefix it runs in, so it never runs on
 * Windows or beside other units.  tests/wine/tokenrestart.sh runs it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#include "bitsctl.h"

#define FLAGS (BG_TOKEN_LOCAL_FILE | BG_TOKEN_NETWORK)

static IBitsTokenOptions *get_options(IBackgroundCopyJob *job)
{
    IBitsTokenOptions *options = NULL;
    HRESULT hr;

    hr = IBackgroundCopyJob_QueryInterface(job, &IID_IBitsTokenOptions, (void **)&options);
    ok(hr == S_OK, "QueryInterface(IBitsTokenOptions): %#lx\n", hr);
    return SUCCEEDED(hr) ? options : NULL;
}

START_TEST(tokenrestart)
{
    IBitsTokenOptions *options = NULL;
    IBackgroundCopyJob *job = NULL;
    WCHAR *sid = NULL, *user;
    DWORD flags = 0;
    HRESULT hr;
    GUID id;

    if (!bits_test_init()) return;
    user = get_user_sid_string();
    job = create_job(L"token restart", BG_JOB_TYPE_DOWNLOAD, &id);
    if (!job) goto done;
    options = get_options(job);
    if (!options) goto done;
    hr = IBitsTokenOptions_SetHelperTokenFlags(options, FLAGS);
    ok(hr == S_OK, "SetHelperTokenFlags: %#lx\n", hr);
    hr = IBitsTokenOptions_SetHelperToken(options);
    ok(hr == S_OK, "SetHelperToken: %#lx\n", hr);
    hr = IBitsTokenOptions_GetHelperTokenSid(options, &sid);
    ok(hr == S_OK && str_equal(sid, user), "before: %#lx, SID %s\n", hr, wine_dbgstr_w(sid));
    CoTaskMemFree(sid);
    sid = NULL;

    /* A proxy of the running service: released as usual, before the stop. */
    IBitsTokenOptions_Release(options);
    options = NULL;
    if (!bitsctl_restart(&job, &id, 1, NULL, NULL)) goto done;
    options = get_options(job);
    if (!options) goto done;
    hr = IBitsTokenOptions_GetHelperTokenFlags(options, &flags);
    ok(hr == S_OK && flags == FLAGS, "flags after the restart: %#lx, %#lx\n", hr, flags);
    sid = (WCHAR *)0xdeadbeef;
    hr = IBitsTokenOptions_GetHelperTokenSid(options, &sid);
    ok(hr == S_OK && !sid, "token after the restart: %#lx, SID %s\n", hr,
            hr == S_OK ? wine_dbgstr_w(sid) : "?");
    if (hr == S_OK) CoTaskMemFree(sid);

done:
    if (options) IBitsTokenOptions_Release(options);
    cancel_job(job);
    LocalFree(user);
    bits_test_cleanup();
}
