/* Who calls, and what they may do (behaviour.md §9): the caller's identity from the COM call,
 * the owner of a new job, the access checks of the job methods, the exemption from the Group
 * Policy limits (§8), and the identity the file work of Complete and Cancel runs under, so that
 * the files Complete saves belong to its caller (the seed: "the owner of the file is the user
 * who made the call").
 *
 * The caller is whoever the service impersonates during the call.  Wine (8) gives a COM call no
 * context to impersonate (CoImpersonateClient returns RPC_E_CALL_COMPLETE), and an impersonation
 * that set no thread token would tell as little; there the caller is identified by the token of
 * the process at the other end of the RPC call.  A client whose token has BUILTIN\Administrators
 * deny-only is then not an administrator, as on Windows.  Only when that process cannot be found
 * or opened does the service take its own token, which makes the caller an administrator.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdlib.h>

#include "qmgr_private.h"
#include <rpcdcep.h>
#include <sddl.h>

DEFAULT_DEBUG_CHANNEL(qmgr);

/* A token of PROCESS's primary token at that level: identification, as CheckTokenMembership
 * needs, or impersonation for a helper token. */
static HRESULT duplicate_process_token(HANDLE process, SECURITY_IMPERSONATION_LEVEL level,
                                       HANDLE *token)
{
    HANDLE process_token;
    DWORD error;
    BOOL ok;

    *token = NULL;
    if (!OpenProcessToken(process, TOKEN_QUERY | TOKEN_DUPLICATE, &process_token))
        return HRESULT_FROM_WIN32(GetLastError());
    ok = DuplicateToken(process_token, level, token);
    error = GetLastError();
    CloseHandle(process_token);
    if (ok) return S_OK;
    *token = NULL;
    return HRESULT_FROM_WIN32(error);
}

/* The token of the process that made the RPC call this thread is serving, for when COM
 * impersonation tells nothing (Wine).  The client waits for the reply, so the process is still
 * there.  HRESULT_FROM_WIN32(RPC_S_NO_CALL_ACTIVE) when the thread serves no call. */
static HRESULT open_client_process_token(SECURITY_IMPERSONATION_LEVEL level, HANDLE *token)
{
    RPC_BINDING_HANDLE call;
    RPC_STATUS status;
    HANDLE process;
    ULONG pid;
    HRESULT hr;

    *token = NULL;
    call = I_RpcGetCurrentCallHandle();
    if (!call) return HRESULT_FROM_WIN32(RPC_S_NO_CALL_ACTIVE);
    status = I_RpcBindingInqLocalClientPID(call, &pid);
    if (status != RPC_S_OK) return HRESULT_FROM_WIN32(status);
    process = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid);
    if (!process) return HRESULT_FROM_WIN32(GetLastError());
    hr = duplicate_process_token(process, level, token);
    CloseHandle(process);
    TRACE("client process %04lx, hr %#lx\n", pid, hr);
    return hr;
}

/* The caller's token at that level when COM impersonation tells nothing: the client process's,
 * or the service's own when there is none. */
static HRESULT open_client_or_service_token(SECURITY_IMPERSONATION_LEVEL level, HANDLE *token)
{
    HRESULT hr;

    hr = open_client_process_token(level, token);
    if (SUCCEEDED(hr)) return S_OK;
    /* Wine runs the service as the client's user, so the service's token names the right
     * user, but it is an administrator's. */
    if (hr != HRESULT_FROM_WIN32(RPC_S_NO_CALL_ACTIVE))
        WARN("no token of the client process, hr %#lx: taking the service's\n", hr);
    return duplicate_process_token(GetCurrentProcess(), level, token);
}

/* The token of the client of the current COM call, at least at identification level, as
 * CheckTokenMembership needs.  Outside a call (a client in the service's own process, or the
 * service itself) it is the process's token. */
static HRESULT open_caller_token(HANDLE *token)
{
    DWORD error;
    HRESULT hr;
    BOOL ok;

    *token = NULL;
    hr = CoImpersonateClient();
    if (SUCCEEDED(hr))
    {
        ok = OpenThreadToken(GetCurrentThread(), TOKEN_QUERY, TRUE, token);
        error = GetLastError();
        hr = CoRevertToSelf();
        if (FAILED(hr))
        {
            ERR("cannot stop impersonating, hr %#lx\n", hr);
            if (ok) CloseHandle(*token);
            *token = NULL;
            return hr;
        }
        if (ok) return S_OK;
        if (error != ERROR_NO_TOKEN) return HRESULT_FROM_WIN32(error);
        TRACE("impersonation gave no token\n");
    }
    else if (hr != RPC_E_CALL_COMPLETE && hr != CO_E_NOTINITIALIZED)
    {
        ERR("cannot impersonate the client, hr %#lx\n", hr);
        return hr;
    }
    else TRACE("no COM call to impersonate, hr %#lx\n", hr);

    return open_client_or_service_token(SecurityIdentification, token);
}

/* One class of token information, in a malloc'd block. */
static HRESULT query_token(HANDLE token, TOKEN_INFORMATION_CLASS class, void **info)
{
    DWORD size = 0;
    HRESULT hr;

    *info = NULL;
    if (!GetTokenInformation(token, class, NULL, 0, &size)
            && GetLastError() != ERROR_INSUFFICIENT_BUFFER)
        return HRESULT_FROM_WIN32(GetLastError());
    *info = malloc(max(size, 1));
    if (!*info) return E_OUTOFMEMORY;
    if (GetTokenInformation(token, class, *info, size, &size)) return S_OK;
    hr = HRESULT_FROM_WIN32(GetLastError());
    free(*info);
    *info = NULL;
    return hr;
}

static HRESULT get_token_user(HANDLE token, PSID *sid)
{
    TOKEN_USER *user;
    DWORD size;
    HRESULT hr;

    *sid = NULL;
    hr = query_token(token, TokenUser, (void **)&user);
    if (FAILED(hr)) return hr;
    size = GetLengthSid(user->User.Sid);
    *sid = malloc(size);
    if (!*sid) hr = E_OUTOFMEMORY;
    else if (!CopySid(size, *sid, user->User.Sid))
    {
        hr = HRESULT_FROM_WIN32(GetLastError());
        free(*sid);
        *sid = NULL;
    }
    free(user);
    return hr;
}

/* Membership of an elevated token in Administrators: what lets a caller act for every user. */
static HRESULT is_token_admin(HANDLE token, BOOL *admin)
{
    BYTE sid[SECURITY_MAX_SID_SIZE];
    DWORD size = sizeof(sid);

    *admin = FALSE;
    if (!CreateWellKnownSid(WinBuiltinAdministratorsSid, NULL, sid, &size)
            || !CheckTokenMembership(token, sid, admin))
        return HRESULT_FROM_WIN32(GetLastError());
    return S_OK;
}

/* behaviour.md §8: LocalSystem, LocalService and NetworkService are service accounts. */
static BOOL is_service_account(PSID sid)
{
    static const WELL_KNOWN_SID_TYPE services[] =
    {
        WinLocalSystemSid, WinLocalServiceSid, WinNetworkServiceSid,
    };
    unsigned int i;

    for (i = 0; i < ARRAYSIZE(services); i++)
        if (IsWellKnownSid(sid, services[i])) return TRUE;
    return FALSE;
}

HRESULT security_get_caller(PSID *sid, BOOL *admin)
{
    HANDLE token;
    HRESULT hr;

    *sid = NULL;
    *admin = FALSE;
    hr = open_caller_token(&token);
    if (FAILED(hr)) return hr;
    hr = get_token_user(token, sid);
    if (SUCCEEDED(hr)) hr = is_token_admin(token, admin);
    CloseHandle(token);
    if (FAILED(hr))
    {
        free(*sid);
        *sid = NULL;
    }
    return hr;
}

/* behaviour.md §8: the limits do not apply to administrators and service accounts.  A caller
 * whose token cannot be read gets the limits. */
BOOL security_caller_exempt(void)
{
    BOOL admin, exempt;
    PSID sid;
    HRESULT hr;

    hr = security_get_caller(&sid, &admin);
    if (FAILED(hr))
    {
        WARN("cannot tell who calls, hr %#lx: limits apply\n", hr);
        return FALSE;
    }
    exempt = admin || is_service_account(sid);
    free(sid);
    TRACE("%s\n", exempt ? "exempt" : "limited");
    return exempt;
}

/* behaviour.md §9.1: the owner of a new job is whoever calls CreateJob.  Integrity level and
 * elevation are kept as the failure when the token cannot tell them. */
HRESULT security_get_owner(struct job_owner *owner)
{
    TOKEN_MANDATORY_LABEL *label;
    TOKEN_ELEVATION elevation;
    WCHAR *sid_string;
    HANDLE token;
    DWORD size;
    HRESULT hr;

    memset(owner, 0, sizeof(*owner));
    hr = open_caller_token(&token);
    if (FAILED(hr)) return hr;
    hr = get_token_user(token, &owner->sid);
    if (SUCCEEDED(hr) && !ConvertSidToStringSidW(owner->sid, &sid_string))
        hr = HRESULT_FROM_WIN32(GetLastError());
    if (SUCCEEDED(hr))
    {
        owner->sid_string = _wcsdup(sid_string);
        LocalFree(sid_string);
        if (!owner->sid_string) hr = E_OUTOFMEMORY;
    }
    if (FAILED(hr))
    {
        CloseHandle(token);
        engine_free_owner(owner);
        return hr;
    }

    owner->integrity_hr = query_token(token, TokenIntegrityLevel, (void **)&label);
    if (SUCCEEDED(owner->integrity_hr))
    {
        UCHAR count = *GetSidSubAuthorityCount(label->Label.Sid);

        owner->integrity_level = count ? *GetSidSubAuthority(label->Label.Sid, count - 1) : 0;
        free(label);
    }
    else WARN("no integrity level, hr %#lx\n", owner->integrity_hr);
    if (GetTokenInformation(token, TokenElevation, &elevation, sizeof(elevation), &size))
        owner->elevated = !!elevation.TokenIsElevated;
    else
    {
        owner->elevation_hr = HRESULT_FROM_WIN32(GetLastError());
        WARN("no elevation state, hr %#lx\n", owner->elevation_hr);
    }
    CloseHandle(token);
    return S_OK;
}

/* behaviour.md §9.2: the owner may change its job, and so may an administrator unless the
 * change is one only the owner may make (credentials, custom headers). */
HRESULT security_check_job_access(struct engine_job *job, BOOL owner_only)
{
    BOOL admin;
    PSID sid;
    HRESULT hr;

    hr = security_get_caller(&sid, &admin);
    if (FAILED(hr)) return hr;
    if (!engine_job_owned_by(job, sid) && (owner_only || !admin))
    {
        WARN("job %s: access denied to a %s\n", debugstr_guid(engine_job_id(job)),
             admin ? "non-owner" : "non-owner non-administrator");
        hr = E_ACCESSDENIED;
    }
    free(sid);
    return hr;
}

HRESULT security_check_admin(void)
{
    BOOL admin;
    PSID sid;
    HRESULT hr;

    hr = security_get_caller(&sid, &admin);
    if (FAILED(hr)) return hr;
    free(sid);
    return admin ? S_OK : E_ACCESSDENIED;
}

/* behaviour.md §9.4 and the seed: the file work of Complete and Cancel runs as their caller.
 * Outside a COM call (the service cancelling an inactive job) there is no one to impersonate
 * and the work runs as the service. */
void security_begin_file_work(struct file_work *work)
{
    HRESULT hr;

    memset(work, 0, sizeof(*work));
    hr = CoImpersonateClient();
    if (SUCCEEDED(hr))
    {
        work->impersonating = TRUE;
        if (!OpenThreadToken(GetCurrentThread(), TOKEN_QUERY, TRUE, &work->token))
        {
            TRACE("impersonation gave no token, error %lu\n", GetLastError());
            work->token = NULL;
        }
    }
    else if (hr != RPC_E_CALL_COMPLETE && hr != CO_E_NOTINITIALIZED)
        ERR("cannot impersonate the client, hr %#lx: working as the service\n", hr);
    if (!work->token)
    {
        /* Wine: the thread stays the service, which runs as the client's Unix user; whose the
         * files become is told by the client's process token. */
        hr = open_client_process_token(SecurityIdentification, &work->token);
        if (hr == HRESULT_FROM_WIN32(RPC_S_NO_CALL_ACTIVE))
            TRACE("no client: working as the service\n");
        else if (FAILED(hr)) WARN("no token of the client process, hr %#lx\n", hr);
    }
    if (!work->token && !OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &work->token))
    {
        WARN("no token, error %lu: files keep the owner the system gives them\n",
             GetLastError());
        work->token = NULL;
    }
}

void security_end_file_work(struct file_work *work)
{
    HRESULT hr;

    if (work->token) CloseHandle(work->token);
    if (work->impersonating)
    {
        hr = CoRevertToSelf();
        if (FAILED(hr)) ERR("cannot stop impersonating, hr %#lx\n", hr);
    }
    memset(work, 0, sizeof(*work));
}

/* The seed: a file Complete saved belongs to its caller.  A rename keeps the owner of the
 * temporary file, which the service created, so the owner is set here when it differs (under
 * Wine it is the caller's already: GetFileSecurityW reports the process user).  A failure is
 * logged and leaves the file, saved, with the owner it has: Complete has renamed it already
 * and cannot take that back. */
static void set_file_owner(PSID user, const WCHAR *path)
{
    SECURITY_DESCRIPTOR *sd = NULL, new_sd;
    BOOL defaulted;
    DWORD size = 0;
    HRESULT hr = S_OK;
    PSID owner;

    if (!user) return;
    if (!GetFileSecurityW(path, OWNER_SECURITY_INFORMATION, NULL, 0, &size)
            && GetLastError() != ERROR_INSUFFICIENT_BUFFER)
    {
        hr = HRESULT_FROM_WIN32(GetLastError());
        goto done;
    }
    sd = malloc(max(size, 1));
    if (!sd)
    {
        hr = E_OUTOFMEMORY;
        goto done;
    }
    if (!GetFileSecurityW(path, OWNER_SECURITY_INFORMATION, sd, size, &size)
            || !GetSecurityDescriptorOwner(sd, &owner, &defaulted))
    {
        hr = HRESULT_FROM_WIN32(GetLastError());
        goto done;
    }
    if (owner && EqualSid(owner, user)) goto done;
    TRACE("giving %s to its caller\n", debugstr_w(path));
    if (!InitializeSecurityDescriptor(&new_sd, SECURITY_DESCRIPTOR_REVISION)
            || !SetSecurityDescriptorOwner(&new_sd, user, FALSE)
            || !SetFileSecurityW(path, OWNER_SECURITY_INFORMATION, &new_sd))
        hr = HRESULT_FROM_WIN32(GetLastError());

done:
    if (FAILED(hr)) WARN("%s keeps its owner, hr %#lx\n", debugstr_w(path), hr);
    free(sd);
}

void security_give_file(struct file_work *work, const WCHAR *path)
{
    PSID user;
    HRESULT hr;

    if (!work->token) return;
    hr = get_token_user(work->token, &user);
    if (FAILED(hr))
    {
        WARN("%s keeps its owner: no token user, hr %#lx\n", debugstr_w(path), hr);
        return;
    }
    set_file_owner(user, path);
    free(user);
}

/* Making another user the owner of a file takes SeRestorePrivilege, which the service's
 * account holds but has not enabled: it is enabled for this thread only, in an impersonation
 * of the service itself, so the process token stays as it was.  FALSE when that cannot be
 * done; the thread is then not impersonating. */
static BOOL begin_restore_privilege(void)
{
    TOKEN_PRIVILEGES privileges;
    HANDLE token;
    BOOL ok;

    if (!ImpersonateSelf(SecurityImpersonation)) return FALSE;
    ok = OpenThreadToken(GetCurrentThread(), TOKEN_ADJUST_PRIVILEGES, TRUE, &token);
    if (ok)
    {
        privileges.PrivilegeCount = 1;
        privileges.Privileges[0].Attributes = SE_PRIVILEGE_ENABLED;
        /* AdjustTokenPrivileges succeeds with ERROR_NOT_ALL_ASSIGNED when it is not held. */
        ok = LookupPrivilegeValueW(NULL, L"SeRestorePrivilege", &privileges.Privileges[0].Luid)
                && AdjustTokenPrivileges(token, FALSE, &privileges, 0, NULL, NULL)
                && GetLastError() == ERROR_SUCCESS;
        CloseHandle(token);
    }
    if (!ok) RevertToSelf();
    return ok;
}

void security_give_file_sid(PSID user, const WCHAR *path)
{
    BOOL privileged = begin_restore_privilege();

    if (!privileged) TRACE("no restore privilege: setting the owner may fail\n");
    set_file_owner(user, path);
    if (privileged) RevertToSelf();
}

/* IBitsTokenOptions::SetHelperToken: the client's token, which the service impersonates (a
 * thread token when the client cloaks one).  The client must allow impersonation: a token at
 * identification level is refused with CO_E_FAILEDTOIMPERSONATE, as the method's page says.
 * Under Wine there is no such token and the client process's is taken. */
static HRESULT open_caller_impersonation_token(HANDLE *token)
{
    SECURITY_IMPERSONATION_LEVEL level;
    HANDLE thread_token;
    DWORD error, size;
    HRESULT hr;
    BOOL ok;

    *token = NULL;
    hr = CoImpersonateClient();
    if (SUCCEEDED(hr))
    {
        ok = OpenThreadToken(GetCurrentThread(), TOKEN_QUERY | TOKEN_DUPLICATE, TRUE,
                             &thread_token);
        error = GetLastError();
        hr = CoRevertToSelf();
        if (FAILED(hr))
        {
            ERR("cannot stop impersonating, hr %#lx\n", hr);
            if (ok) CloseHandle(thread_token);
            return hr;
        }
        if (ok)
        {
            if (!GetTokenInformation(thread_token, TokenImpersonationLevel, &level,
                                     sizeof(level), &size))
                hr = HRESULT_FROM_WIN32(GetLastError());
            else if (level < SecurityImpersonation)
            {
                WARN("the client allows impersonation level %u only\n", level);
                hr = CO_E_FAILEDTOIMPERSONATE;
            }
            else if (!DuplicateToken(thread_token, level, token))
            {
                hr = HRESULT_FROM_WIN32(GetLastError());
                *token = NULL;
            }
            CloseHandle(thread_token);
            return hr;
        }
        if (error != ERROR_NO_TOKEN) return HRESULT_FROM_WIN32(error);
        TRACE("impersonation gave no token\n");
    }
    else if (hr != RPC_E_CALL_COMPLETE && hr != CO_E_NOTINITIALIZED)
    {
        ERR("cannot impersonate the client, hr %#lx\n", hr);
        return hr;
    }
    else TRACE("no COM call to impersonate, hr %#lx\n", hr);
    return open_client_or_service_token(SecurityImpersonation, token);
}

HRESULT security_get_helper_token(struct helper_token *helper)
{
    WCHAR *sid_string;
    PSID sid;
    HRESULT hr;

    memset(helper, 0, sizeof(*helper));
    hr = open_caller_impersonation_token(&helper->token);
    if (FAILED(hr)) return hr;
    hr = get_token_user(helper->token, &sid);
    if (SUCCEEDED(hr))
    {
        if (!ConvertSidToStringSidW(sid, &sid_string)) hr = HRESULT_FROM_WIN32(GetLastError());
        else
        {
            helper->sid_string = _wcsdup(sid_string);
            LocalFree(sid_string);
            if (!helper->sid_string) hr = E_OUTOFMEMORY;
        }
        free(sid);
    }
    if (SUCCEEDED(hr)) hr = is_token_admin(helper->token, &helper->admin);
    if (FAILED(hr))
    {
        security_free_helper_token(helper);
        return hr;
    }
    TRACE("user %s, administrator %d\n", debugstr_w(helper->sid_string), helper->admin);
    return S_OK;
}

void security_free_helper_token(struct helper_token *helper)
{
    if (helper->token) CloseHandle(helper->token);
    free(helper->sid_string);
    memset(helper, 0, sizeof(*helper));
}
