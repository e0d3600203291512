/* IBackgroundCopyManager: the one manager object of the service.  Each call asks security.c who
 * its client is, so jobs belong to the user who created them and only administrators see other
 * users' jobs (behaviour.md §9).  The object also answers IBitsPeerCacheAdministration, which
 * peercache.c implements; the two forward QueryInterface to each other.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdlib.h>

#include "qmgr_private.h"

DEFAULT_DEBUG_CHANNEL(qmgr);

#define MAX_DISPLAY_NAME 256    /* behaviour.md §2.2 */

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
    /* BITS 3.0: the peer cache's administration is one more interface of the manager. */
    if (IsEqualGUID(riid, &IID_IBitsPeerCacheAdministration)) return peercache_query(out);
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

    hr = security_get_owner(&owner);
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
    hr = security_get_caller(&sid, &admin);
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
    hr = security_get_caller(&sid, &admin);
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
