/* IBackgroundCopyManager: the one manager object of the service, and who its callers are.
 * Each call works out the identity of its client from the COM call, so jobs belong to the user
 * who created them and only administrators see other users' jobs (behaviour.md §9).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdlib.h>

#include "qmgr_private.h"
#include <sddl.h>

DEFAULT_DEBUG_CHANNEL(qmgr);

#define MAX_DISPLAY_NAME 256    /* behaviour.md §2.2 */

/* The token of the client of the current COM call, at least at identification level, as
 * CheckTokenMembership needs.  Outside a COM call (a client in the service's own process) it is
 * the process's token. */
static HRESULT open_caller_token(HANDLE *token)
{
    HANDLE process_token;
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
        /* Impersonation that sets no thread token leaves the thread as the service itself,
         * which is then also who the client is: Wine runs both as the same user. */
        WARN("impersonation gave no token, taking the process token\n");
    }
    else if (hr != RPC_E_CALL_COMPLETE)
    {
        ERR("cannot impersonate the client, hr %#lx\n", hr);
        return hr;
    }

    if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY | TOKEN_DUPLICATE, &process_token))
        return HRESULT_FROM_WIN32(GetLastError());
    ok = DuplicateToken(process_token, SecurityIdentification, token);
    error = GetLastError();
    CloseHandle(process_token);
    return ok ? S_OK : HRESULT_FROM_WIN32(error);
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

/* The caller's SID (malloc'd) and whether it is an administrator. */
static HRESULT get_caller(PSID *sid, BOOL *admin)
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

/* behaviour.md §9.1: the owner of a new job is whoever calls CreateJob.  Integrity level and
 * elevation are kept as the failure when the token cannot tell them. */
static HRESULT get_owner(struct job_owner *owner)
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

struct manager
{
    IBackgroundCopyManager IBackgroundCopyManager_iface;
    LONG refcount;          /* informational: the object is static */
};

static inline struct manager *impl_from_IBackgroundCopyManager(IBackgroundCopyManager *iface)
{
    return CONTAINING_RECORD(iface, struct manager, IBackgroundCopyManager_iface);
}

static HRESULT WINAPI manager_QueryInterface(IBackgroundCopyManager *iface, REFIID riid,
                                             void **out)
{
    struct manager *manager = impl_from_IBackgroundCopyManager(iface);

    TRACE("manager %p, riid %s, out %p\n", manager, debugstr_guid(riid), out);
    if (!out) return E_POINTER;
    if (IsEqualGUID(riid, &IID_IUnknown) || IsEqualGUID(riid, &IID_IBackgroundCopyManager))
    {
        *out = &manager->IBackgroundCopyManager_iface;
        IBackgroundCopyManager_AddRef(iface);
        return S_OK;
    }
    *out = NULL;
    WARN("unsupported interface %s\n", debugstr_guid(riid));
    return E_NOINTERFACE;
}

static ULONG WINAPI manager_AddRef(IBackgroundCopyManager *iface)
{
    struct manager *manager = impl_from_IBackgroundCopyManager(iface);
    ULONG refcount = InterlockedIncrement(&manager->refcount);

    TRACE("manager %p, refcount %lu\n", manager, refcount);
    return refcount;
}

static ULONG WINAPI manager_Release(IBackgroundCopyManager *iface)
{
    struct manager *manager = impl_from_IBackgroundCopyManager(iface);
    ULONG refcount = InterlockedDecrement(&manager->refcount);

    TRACE("manager %p, refcount %lu\n", manager, refcount);
    return refcount;
}

/* behaviour.md §1.1 and §2.2: the job starts SUSPENDED, owned by the caller. */
static HRESULT WINAPI manager_CreateJob(IBackgroundCopyManager *iface, LPCWSTR name,
                                        BG_JOB_TYPE type, GUID *id, IBackgroundCopyJob **job)
{
    struct engine_job *engine_job;
    struct job_owner owner;
    HRESULT hr;

    TRACE("manager %p, name %s, type %u, id %p, job %p\n", impl_from_IBackgroundCopyManager(iface),
          debugstr_w(name), type, id, job);
    if (id) memset(id, 0, sizeof(*id));
    if (job) *job = NULL;
    if (!name || wcslen(name) > MAX_DISPLAY_NAME || (unsigned int)type > BG_JOB_TYPE_UPLOAD_REPLY
            || !id || !job)
        return E_INVALIDARG;

    hr = get_owner(&owner);
    if (FAILED(hr)) return hr;
    hr = engine_create_job(name, type, &owner, &engine_job);
    if (FAILED(hr)) return hr;
    hr = job_create(engine_job, job);
    if (SUCCEEDED(hr)) *id = *engine_job_id(engine_job);
    else engine_cancel_job(engine_job);     /* the client never saw it; a new job cancels */
    engine_job_release(engine_job);
    return hr;
}

/* behaviour.md §11 and §9.2: final jobs are gone; other users' jobs need an administrator. */
static HRESULT WINAPI manager_GetJob(IBackgroundCopyManager *iface, REFGUID id,
                                     IBackgroundCopyJob **job)
{
    struct engine_job *engine_job;
    PSID sid;
    BOOL admin;
    HRESULT hr;

    TRACE("manager %p, id %s, job %p\n", impl_from_IBackgroundCopyManager(iface),
          debugstr_guid(id), job);
    if (!job) return E_INVALIDARG;
    *job = NULL;
    if (!id) return E_INVALIDARG;
    hr = engine_find_job(id, &engine_job);
    if (FAILED(hr)) return hr;
    hr = get_caller(&sid, &admin);
    if (SUCCEEDED(hr) && !admin && !engine_job_owned_by(engine_job, sid)) hr = E_ACCESSDENIED;
    if (SUCCEEDED(hr)) hr = job_create(engine_job, job);
    free(sid);
    engine_job_release(engine_job);
    return hr;
}

/* behaviour.md §11: a snapshot of the caller's jobs, or with BG_JOB_ENUM_ALL_USERS of every
 * user's, which takes an administrator (§9.2).  Undefined flags are E_NOTIMPL, as for the other
 * flag arguments (§2.2). */
static HRESULT WINAPI manager_EnumJobs(IBackgroundCopyManager *iface, DWORD flags,
                                       IEnumBackgroundCopyJobs **out)
{
    struct engine_job **jobs;
    ULONG count;
    PSID sid;
    BOOL admin;
    HRESULT hr;

    TRACE("manager %p, flags %#lx, out %p\n", impl_from_IBackgroundCopyManager(iface), flags,
          out);
    if (!out) return E_INVALIDARG;
    *out = NULL;
    if (flags & ~BG_JOB_ENUM_ALL_USERS) return E_NOTIMPL;
    hr = get_caller(&sid, &admin);
    if (FAILED(hr)) return hr;
    if ((flags & BG_JOB_ENUM_ALL_USERS) && !admin) hr = E_ACCESSDENIED;
    else hr = engine_list_jobs(flags & BG_JOB_ENUM_ALL_USERS ? NULL : sid, &jobs, &count);
    if (SUCCEEDED(hr))
    {
        hr = enum_jobs_create(jobs, count, out);
        engine_free_job_list(jobs, count);
    }
    free(sid);
    return hr;
}

static HRESULT WINAPI manager_GetErrorDescription(IBackgroundCopyManager *iface, HRESULT code,
                                                  DWORD language, LPWSTR *text)
{
    TRACE("manager %p, code %#lx, language %#lx, text %p\n",
          impl_from_IBackgroundCopyManager(iface), code, language, text);
    if (!text) return E_INVALIDARG;
    return error_describe(code, language, text);
}

static const IBackgroundCopyManagerVtbl manager_vtbl =
{
    manager_QueryInterface,
    manager_AddRef,
    manager_Release,
    /* IBackgroundCopyManager */
    manager_CreateJob,
    manager_GetJob,
    manager_EnumJobs,
    manager_GetErrorDescription,
};

static struct manager manager = { { &manager_vtbl }, 0 };

HRESULT manager_query(REFIID riid, void **out)
{
    return IBackgroundCopyManager_QueryInterface(&manager.IBackgroundCopyManager_iface, riid, out);
}
