/* The security model (behaviour.md §9): the owner of a job, who sees which jobs, TakeOwnership,
 * and the owner of the files Complete saves (the seed).  One account only: what needs a second
 * user (another user's job, a non-administrator's TakeOwnership of it) is skipped; limits.c
 * checks what the same user gets without administrator rights.
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#include "util.h"
#include <sddl.h>

#define TRANSFER_TIMEOUT 15000  /* ms for a few small files from 127.0.0.1 */

/* The caller's token user, malloc'd. */
static TOKEN_USER *get_token_user(void)
{
    TOKEN_USER *user = NULL;
    HANDLE token;
    DWORD size = 0;

    if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token)) return NULL;
    GetTokenInformation(token, TokenUser, NULL, 0, &size);
    if (size) user = malloc(size);
    if (user && !GetTokenInformation(token, TokenUser, user, size, &size))
    {
        free(user);
        user = NULL;
    }
    CloseHandle(token);
    return user;
}

/* The owner of a file as "S-1-5-...", LocalAlloc'd; NULL when it cannot be read. */
static WCHAR *file_owner(const WCHAR *path)
{
    SECURITY_DESCRIPTOR *sd;
    WCHAR *str = NULL;
    BOOL defaulted;
    DWORD size = 0;
    PSID owner;

    GetFileSecurityW(path, OWNER_SECURITY_INFORMATION, NULL, 0, &size);
    if (!size || !(sd = malloc(size))) return NULL;
    if (GetFileSecurityW(path, OWNER_SECURITY_INFORMATION, sd, size, &size)
            && GetSecurityDescriptorOwner(sd, &owner, &defaulted) && owner
            && !ConvertSidToStringSidW(owner, &str))
        str = NULL;
    free(sd);
    return str;
}

/* behaviour.md §9.1: the owner is the creator, as a SID string. */
static void test_GetOwner(void)
{
    IBackgroundCopyJob *job = create_job(L"security-owner", BG_JOB_TYPE_DOWNLOAD, NULL);
    WCHAR *owner = NULL, *user = get_user_sid_string();
    HRESULT hr;

    ok(user != NULL, "no user SID\n");
    if (!job) goto done;
    hr = IBackgroundCopyJob_GetOwner(job, &owner);
    ok(hr == S_OK, "GetOwner: %#lx\n", hr);
    ok(str_equal(owner, user), "owner %s, caller %s\n", wine_dbgstr_w(owner),
            wine_dbgstr_w(user));
done:
    CoTaskMemFree(owner);
    LocalFree(user);
    cancel_job(job);
}

/* behaviour.md §9.2: the owner finds its job by id and in EnumJobs(0); BG_JOB_ENUM_ALL_USERS
 * takes an administrator (gap G19: E_ACCESSDENIED otherwise). */
static void test_visibility(void)
{
    IEnumBackgroundCopyJobs *jobs = NULL;
    IBackgroundCopyJob *job, *found = NULL, *listed;
    BOOL seen = FALSE;
    GUID id, listed_id;
    HRESULT hr;

    job = create_job(L"security-visible", BG_JOB_TYPE_DOWNLOAD, &id);
    if (!job) return;
    hr = IBackgroundCopyManager_GetJob(test_manager, &id, &found);
    ok(hr == S_OK, "GetJob of an own job: %#lx\n", hr);
    if (found) IBackgroundCopyJob_Release(found);
    ok(job_is_listed(&id), "own job not in EnumJobs(0)\n");

    hr = IBackgroundCopyManager_EnumJobs(test_manager, BG_JOB_ENUM_ALL_USERS, &jobs);
    if (!is_admin())
    {
        ok(hr == E_ACCESSDENIED, "EnumJobs(ALL_USERS) by a non-administrator: %#lx\n", hr);
        if (jobs) IEnumBackgroundCopyJobs_Release(jobs);
        cancel_job(job);
        return;
    }
    ok(hr == S_OK, "EnumJobs(ALL_USERS) by an administrator: %#lx\n", hr);
    while (jobs && IEnumBackgroundCopyJobs_Next(jobs, 1, &listed, NULL) == S_OK)
    {
        if (IBackgroundCopyJob_GetId(listed, &listed_id) == S_OK && IsEqualGUID(&listed_id, &id))
            seen = TRUE;
        IBackgroundCopyJob_Release(listed);
    }
    ok(seen, "own job not in EnumJobs(ALL_USERS)\n");
    if (jobs) IEnumBackgroundCopyJobs_Release(jobs);
    cancel_job(job);
}

/* behaviour.md §9.3: an administrator takes the job; here it owns it already, so the owner
 * stays.  A final job cannot be taken. */
static void test_TakeOwnership(void)
{
    IBackgroundCopyJob *job = create_job(L"security-take", BG_JOB_TYPE_DOWNLOAD, NULL);
    WCHAR *owner = NULL, *user = get_user_sid_string();
    IBackgroundCopyJob2 *job2 = NULL;
    HRESULT hr;

    if (!job) goto done;
    hr = IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJob2, (void **)&job2);
    if (FAILED(hr))
    {
        win_skip("no IBackgroundCopyJob2\n");
        goto done;
    }
    if (!is_admin())
    {
        skip("TakeOwnership needs an administrator\n");
        goto done;
    }
    hr = IBackgroundCopyJob2_TakeOwnership(job2);
    ok(hr == S_OK, "TakeOwnership: %#lx\n", hr);
    hr = IBackgroundCopyJob2_GetOwner(job2, &owner);
    ok(hr == S_OK, "GetOwner: %#lx\n", hr);
    ok(str_equal(owner, user), "owner %s, caller %s\n", wine_dbgstr_w(owner),
            wine_dbgstr_w(user));

    hr = IBackgroundCopyJob2_Cancel(job2);
    ok(hr == S_OK, "Cancel: %#lx\n", hr);
    hr = IBackgroundCopyJob2_TakeOwnership(job2);
    ok(hr == BG_E_INVALID_STATE, "TakeOwnership of a cancelled job: %#lx\n", hr);
done:
    if (job2) IBackgroundCopyJob2_Release(job2);
    CoTaskMemFree(owner);
    LocalFree(user);
    cancel_job(job);
}

/* The seed: "the owner of the file is the user who made the call", for every file saved.  The
 * caller owns the job too; an administrator completing another user's job needs a second
 * account. */
static void test_Complete_file_owner(void)
{
    static const char *const specs[] = { "security-file-0?size=3000", "security-file-1?size=70" };
    WCHAR *dir, *locals[ARRAY_SIZE(specs)] = { NULL }, *user = NULL, *owner, name[16];
    IBackgroundCopyJob *job;
    TOKEN_USER *token_user;
    unsigned int i;
    HRESULT hr;

    if (!server_start())
    {
        skip("the test server does not start\n");
        return;
    }
    token_user = get_token_user();
    ok(token_user != NULL, "no token user\n");
    if (token_user && !ConvertSidToStringSidW(token_user->User.Sid, &user)) user = NULL;
    dir = make_test_dir(L"security-file");
    job = create_transfer_job(L"security-file", NULL);
    for (i = 0; dir && job && i < ARRAY_SIZE(specs); i++)
    {
        swprintf(name, ARRAY_SIZE(name), L"file%u.bin", i);
        locals[i] = dir_file(dir, name);
        if (FAILED(add_server_file(job, specs[i], locals[i]))) goto done;
    }
    if (!dir || !job) goto done;
    hr = IBackgroundCopyJob_Resume(job);
    ok(hr == S_OK, "Resume: %#lx\n", hr);
    if (!wait_for_state(job, BG_JOB_STATE_TRANSFERRED, TRANSFER_TIMEOUT))
    {
        ok(0, "not transferred: state %u\n", get_job_state(job));
        goto done;
    }
    hr = IBackgroundCopyJob_Complete(job);
    ok(hr == S_OK, "Complete: %#lx\n", hr);
    for (i = 0; i < ARRAY_SIZE(specs); i++)
    {
        owner = file_owner(locals[i]);
        ok(owner != NULL, "cannot read the owner of %s\n", wine_dbgstr_w(locals[i]));
        /* The user, not the token's default owner (BUILTIN\Administrators when elevated). */
        ok(str_equal(owner, user), "file %u: owner %s, caller %s\n", i, wine_dbgstr_w(owner),
                wine_dbgstr_w(user));
        LocalFree(owner);
    }
done:
    cancel_job(job);
    for (i = 0; i < ARRAY_SIZE(specs); i++) CoTaskMemFree(locals[i]);
    remove_test_dir(dir);
    LocalFree(user);
    free(token_user);
}

START_TEST(security)
{
    if (!bits_test_init()) return;
    test_GetOwner();
    test_visibility();
    test_TakeOwnership();
    test_Complete_file_owner();
    server_stop();
    bits_test_cleanup();
}
