/* IBackgroundCopyJob .. IBackgroundCopyJob5 and IBackgroundCopyJobHttpOptions .. 3: one COM
 * object per client reference to a job.  The methods check their arguments here and leave the
 * job's data, its lock and its state to the engine (behaviour.md §2 for the rules).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stddef.h>
#include <stdlib.h>

#include "qmgr_private.h"

DEFAULT_DEBUG_CHANNEL(qmgr);

/* String limits in characters, without the terminator unless said (behaviour.md §2.2). */
#define MAX_DISPLAY_NAME        256
#define MAX_DESCRIPTION         1024
#define MAX_PROXY_LIST          4000
#define MAX_NOTIFY_PARAMETERS   4000
#define MAX_CUSTOM_HEADERS      16384   /* with the terminator */
#define MAX_CERT_STORE_NAME     256     /* with the terminator */

#define MIN_RETRY_DELAY         5       /* behaviour.md §4.2: smaller values are raised */

#define VALID_NOTIFY_FLAGS (BG_NOTIFY_JOB_TRANSFERRED | BG_NOTIFY_JOB_ERROR | BG_NOTIFY_DISABLE \
        | BG_NOTIFY_JOB_MODIFICATION | BG_NOTIFY_FILE_TRANSFERRED \
        | BG_NOTIFY_FILE_RANGES_TRANSFERRED)
#define VALID_PEER_CACHING_FLAGS (BG_JOB_ENABLE_PEERCACHING_CLIENT \
        | BG_JOB_ENABLE_PEERCACHING_SERVER | BG_JOB_DISABLE_BRANCH_CACHE)
#define VALID_SECURITY_FLAGS (BG_SSL_ENABLE_CRL_CHECK | BG_SSL_IGNORE_CERT_CN_INVALID \
        | BG_SSL_IGNORE_CERT_DATE_INVALID | BG_SSL_IGNORE_UNKNOWN_CA \
        | BG_SSL_IGNORE_CERT_WRONG_USAGE | BG_HTTP_REDIRECT_POLICY_MASK \
        | BG_HTTP_REDIRECT_POLICY_ALLOW_HTTPS_TO_HTTP)

struct job
{
    IBackgroundCopyJob5 IBackgroundCopyJob5_iface;  /* Job..Job5: each derives from the last */
    IBackgroundCopyJobHttpOptions3 IBackgroundCopyJobHttpOptions3_iface;
    LONG refcount;
    struct engine_job *engine_job;                  /* one reference; the data and its lock */
};

static inline struct job *impl_from_IBackgroundCopyJob5(IBackgroundCopyJob5 *iface)
{
    return CONTAINING_RECORD(iface, struct job, IBackgroundCopyJob5_iface);
}

static inline struct job *impl_from_IBackgroundCopyJobHttpOptions3(
        IBackgroundCopyJobHttpOptions3 *iface)
{
    return CONTAINING_RECORD(iface, struct job, IBackgroundCopyJobHttpOptions3_iface);
}

/* malloc'd copy of an optional string: NULL stays NULL. */
static HRESULT copy_string(const WCHAR *src, WCHAR **dst)
{
    *dst = NULL;
    if (!src) return S_OK;
    *dst = _wcsdup(src);
    return *dst ? S_OK : E_OUTOFMEMORY;
}

/* behaviour.md §9.2: the owner changes its job, and so may an administrator; then the job lock
 * for the change, as engine_job_lock_for_change(). */
static HRESULT lock_for_change(struct job *job, struct job_props **props)
{
    HRESULT hr;

    *props = NULL;
    hr = security_check_job_access(job->engine_job, FALSE);
    if (FAILED(hr)) return hr;
    return engine_job_lock_for_change(job->engine_job, props);
}

/* Replaces the string property at offset field of struct job_props; NULL clears it. */
static HRESULT replace_string(struct job *job, size_t field, const WCHAR *value)
{
    struct job_props *props;
    WCHAR *copy, **slot, *old;
    HRESULT hr;

    hr = copy_string(value, &copy);
    if (FAILED(hr)) return hr;
    hr = lock_for_change(job, &props);
    if (FAILED(hr))
    {
        free(copy);
        return hr;
    }
    slot = (WCHAR **)((char *)props + field);
    old = *slot;
    *slot = copy;
    engine_job_commit(job->engine_job);
    free(old);
    return S_OK;
}

/* [out] copy of the string property at offset field of struct job_props; an unset one reads
 * as fallback. */
static HRESULT get_string(struct job *job, size_t field, const WCHAR *fallback, WCHAR **out)
{
    struct job_props *props;
    const WCHAR *value;
    HRESULT hr;

    props = engine_job_lock(job->engine_job);
    value = *(WCHAR **)((char *)props + field);
    hr = cotask_strdup(value ? value : fallback, out);
    engine_job_unlock(job->engine_job);
    return hr;
}

static const WCHAR *default_http_method(BG_JOB_TYPE type)
{
    return type == BG_JOB_TYPE_DOWNLOAD ? L"GET" : L"BITS_POST";
}

/* An HTTP method is a token (RFC 9110): ASCII letters, digits and a few marks. */
static BOOL is_http_token(const WCHAR *str)
{
    if (!*str) return FALSE;
    for (; *str; str++)
    {
        WCHAR lower = *str | 0x20;

        if ((*str >= '0' && *str <= '9') || (lower >= 'a' && lower <= 'z')) continue;
        if (!wcschr(L"!#$%&'*+-.^_`|~", *str)) return FALSE;
    }
    return TRUE;
}

static HRESULT job_query(struct job *job, REFIID riid, void **out)
{
    TRACE("job %p, riid %s, out %p\n", job, debugstr_guid(riid), out);
    if (!out) return E_POINTER;
    if (IsEqualGUID(riid, &IID_IUnknown) || IsEqualGUID(riid, &IID_IBackgroundCopyJob)
            || IsEqualGUID(riid, &IID_IBackgroundCopyJob2)
            || IsEqualGUID(riid, &IID_IBackgroundCopyJob3)
            || IsEqualGUID(riid, &IID_IBackgroundCopyJob4)
            || IsEqualGUID(riid, &IID_IBackgroundCopyJob5))
        *out = &job->IBackgroundCopyJob5_iface;
    else if (IsEqualGUID(riid, &IID_IBackgroundCopyJobHttpOptions)
            || IsEqualGUID(riid, &IID_IBackgroundCopyJobHttpOptions2)
            || IsEqualGUID(riid, &IID_IBackgroundCopyJobHttpOptions3))
        *out = &job->IBackgroundCopyJobHttpOptions3_iface;
    else if (IsEqualGUID(riid, &IID_IBitsTokenOptions))    /* a tear-off, AddRef'd */
        return token_options_create((IUnknown *)&job->IBackgroundCopyJob5_iface,
                                    job->engine_job, out);
    else
    {
        *out = NULL;
        WARN("unsupported interface %s\n", debugstr_guid(riid));
        return E_NOINTERFACE;
    }
    IUnknown_AddRef((IUnknown *)*out);
    return S_OK;
}

static HRESULT WINAPI job_QueryInterface(IBackgroundCopyJob5 *iface, REFIID riid, void **out)
{
    return job_query(impl_from_IBackgroundCopyJob5(iface), riid, out);
}

static ULONG WINAPI job_AddRef(IBackgroundCopyJob5 *iface)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);
    ULONG refcount = InterlockedIncrement(&job->refcount);

    TRACE("job %p, refcount %lu\n", job, refcount);
    return refcount;
}

static ULONG WINAPI job_Release(IBackgroundCopyJob5 *iface)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);
    ULONG refcount = InterlockedDecrement(&job->refcount);

    TRACE("job %p, refcount %lu\n", job, refcount);
    if (!refcount)
    {
        engine_job_release(job->engine_job);
        free(job);
    }
    return refcount;
}

/* behaviour.md §2.2: every name is checked before the engine adds all of them or none. */
static HRESULT WINAPI job_AddFileSet(IBackgroundCopyJob5 *iface, ULONG count, BG_FILE_INFO *files)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);
    BG_JOB_TYPE type = engine_job_type(job->engine_job);
    HRESULT hr;
    ULONG i;

    TRACE("job %p, count %lu, files %p\n", job, count, files);
    if (!files) return E_INVALIDARG;
    for (i = 0; i < count; i++)
    {
        TRACE("%s -> %s\n", debugstr_w(files[i].RemoteName), debugstr_w(files[i].LocalName));
        hr = file_check_remote_name(files[i].RemoteName, type);
        if (SUCCEEDED(hr)) hr = file_check_local_name(files[i].LocalName);
        if (FAILED(hr)) return hr;
    }
    hr = security_check_job_access(job->engine_job, FALSE);
    if (FAILED(hr)) return hr;
    return engine_add_files(job->engine_job, count, files);
}

static HRESULT WINAPI job_AddFile(IBackgroundCopyJob5 *iface, LPCWSTR remote, LPCWSTR local)
{
    BG_FILE_INFO file = { (WCHAR *)remote, (WCHAR *)local };

    TRACE("job %p, remote %s, local %s\n", impl_from_IBackgroundCopyJob5(iface), debugstr_w(remote),
          debugstr_w(local));
    return job_AddFileSet(iface, 1, &file);
}

static HRESULT WINAPI job_EnumFiles(IBackgroundCopyJob5 *iface, IEnumBackgroundCopyFiles **out)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);

    TRACE("job %p, out %p\n", job, out);
    if (!out) return E_INVALIDARG;
    return enum_files_create(job->engine_job, out);
}

/* behaviour.md §3.3: returns at once; a transfer in progress stops soon after. */
static HRESULT WINAPI job_Suspend(IBackgroundCopyJob5 *iface)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);
    HRESULT hr;

    TRACE("job %p\n", job);
    hr = security_check_job_access(job->engine_job, FALSE);
    if (FAILED(hr)) return hr;
    return engine_suspend_job(job->engine_job);
}

/* behaviour.md §3.4. */
static HRESULT WINAPI job_Resume(IBackgroundCopyJob5 *iface)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);
    HRESULT hr;

    TRACE("job %p\n", job);
    hr = security_check_job_access(job->engine_job, FALSE);
    if (FAILED(hr)) return hr;
    return engine_resume_job(job->engine_job);
}

static HRESULT WINAPI job_Cancel(IBackgroundCopyJob5 *iface)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);
    HRESULT hr;

    TRACE("job %p\n", job);
    hr = security_check_job_access(job->engine_job, FALSE);
    if (FAILED(hr)) return hr;
    return engine_cancel_job(job->engine_job);
}

/* behaviour.md §3.1 and the seed: the engine renames the files. */
static HRESULT WINAPI job_Complete(IBackgroundCopyJob5 *iface)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);
    HRESULT hr;

    TRACE("job %p\n", job);
    hr = security_check_job_access(job->engine_job, FALSE);
    if (FAILED(hr)) return hr;
    return engine_complete_job(job->engine_job);
}

static HRESULT WINAPI job_GetId(IBackgroundCopyJob5 *iface, GUID *id)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);

    TRACE("job %p, id %p\n", job, id);
    if (!id) return E_INVALIDARG;
    *id = *engine_job_id(job->engine_job);
    return S_OK;
}

static HRESULT WINAPI job_GetType(IBackgroundCopyJob5 *iface, BG_JOB_TYPE *type)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);

    TRACE("job %p, type %p\n", job, type);
    if (!type) return E_INVALIDARG;
    *type = engine_job_type(job->engine_job);
    return S_OK;
}

static HRESULT WINAPI job_GetProgress(IBackgroundCopyJob5 *iface, BG_JOB_PROGRESS *progress)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);

    TRACE("job %p, progress %p\n", job, progress);
    if (!progress) return E_INVALIDARG;
    engine_job_progress(job->engine_job, progress);
    return S_OK;
}

static HRESULT WINAPI job_GetTimes(IBackgroundCopyJob5 *iface, BG_JOB_TIMES *times)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);

    TRACE("job %p, times %p\n", job, times);
    if (!times) return E_INVALIDARG;
    engine_job_times(job->engine_job, times);
    return S_OK;
}

static HRESULT WINAPI job_GetState(IBackgroundCopyJob5 *iface, BG_JOB_STATE *state)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);

    TRACE("job %p, state %p\n", job, state);
    if (!state) return E_INVALIDARG;
    *state = engine_job_state(job->engine_job);
    return S_OK;
}

/* behaviour.md §4.3: BG_E_ERROR_INFORMATION_UNAVAILABLE while the job has no error. */
static HRESULT WINAPI job_GetError(IBackgroundCopyJob5 *iface, IBackgroundCopyError **error)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);
    struct job_error info;
    HRESULT hr;

    TRACE("job %p, error %p\n", job, error);
    if (!error) return E_INVALIDARG;
    *error = NULL;
    hr = engine_job_error(job->engine_job, &info);
    if (FAILED(hr)) return hr;
    return error_create(job->engine_job, &info, error);
}

static HRESULT WINAPI job_GetOwner(IBackgroundCopyJob5 *iface, LPWSTR *owner)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);
    HRESULT hr;

    TRACE("job %p, owner %p\n", job, owner);
    if (!owner) return E_INVALIDARG;
    engine_job_lock(job->engine_job);
    hr = cotask_strdup(engine_job_owner(job->engine_job)->sid_string, owner);
    engine_job_unlock(job->engine_job);
    return hr;
}

static HRESULT WINAPI job_SetDisplayName(IBackgroundCopyJob5 *iface, LPCWSTR name)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);

    TRACE("job %p, name %s\n", job, debugstr_w(name));
    if (!name) return E_INVALIDARG;
    if (wcslen(name) > MAX_DISPLAY_NAME) return BG_E_STRING_TOO_LONG;
    return replace_string(job, offsetof(struct job_props, display_name), name);
}

static HRESULT WINAPI job_GetDisplayName(IBackgroundCopyJob5 *iface, LPWSTR *name)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);

    TRACE("job %p, name %p\n", job, name);
    if (!name) return E_INVALIDARG;
    return get_string(job, offsetof(struct job_props, display_name), NULL, name);
}

static HRESULT WINAPI job_SetDescription(IBackgroundCopyJob5 *iface, LPCWSTR description)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);

    TRACE("job %p, description %s\n", job, debugstr_w(description));
    if (!description) return E_INVALIDARG;
    if (wcslen(description) > MAX_DESCRIPTION) return BG_E_STRING_TOO_LONG;
    return replace_string(job, offsetof(struct job_props, description), description);
}

static HRESULT WINAPI job_GetDescription(IBackgroundCopyJob5 *iface, LPWSTR *description)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);

    TRACE("job %p, description %p\n", job, description);
    if (!description) return E_INVALIDARG;
    return get_string(job, offsetof(struct job_props, description), L"", description);
}

static HRESULT WINAPI job_SetPriority(IBackgroundCopyJob5 *iface, BG_JOB_PRIORITY priority)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);
    struct job_props *props;
    HRESULT hr;

    TRACE("job %p, priority %u\n", job, priority);
    if ((unsigned int)priority > BG_JOB_PRIORITY_LOW) return E_NOTIMPL;
    hr = lock_for_change(job, &props);
    if (FAILED(hr)) return hr;
    /* A custom HTTP method pins the job to the foreground. */
    if (props->http_method && priority != BG_JOB_PRIORITY_FOREGROUND)
    {
        engine_job_unlock(job->engine_job);
        return BG_E_NOT_SUPPORTED_WITH_CUSTOM_HTTP_METHOD;
    }
    props->priority = priority;
    engine_job_commit(job->engine_job);
    return S_OK;
}

static HRESULT WINAPI job_GetPriority(IBackgroundCopyJob5 *iface, BG_JOB_PRIORITY *priority)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);

    TRACE("job %p, priority %p\n", job, priority);
    if (!priority) return E_INVALIDARG;
    *priority = engine_job_lock(job->engine_job)->priority;
    engine_job_unlock(job->engine_job);
    return S_OK;
}

static HRESULT WINAPI job_SetNotifyFlags(IBackgroundCopyJob5 *iface, ULONG flags)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);
    struct job_props *props;
    HRESULT hr;

    TRACE("job %p, flags %#lx\n", job, flags);
    if (flags & ~VALID_NOTIFY_FLAGS) return E_NOTIMPL;
    hr = lock_for_change(job, &props);
    if (FAILED(hr)) return hr;
    props->notify_flags = flags;
    engine_job_commit(job->engine_job);
    return S_OK;
}

static HRESULT WINAPI job_GetNotifyFlags(IBackgroundCopyJob5 *iface, ULONG *flags)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);

    TRACE("job %p, flags %p\n", job, flags);
    if (!flags) return E_INVALIDARG;
    *flags = engine_job_lock(job->engine_job)->notify_flags;
    engine_job_unlock(job->engine_job);
    return S_OK;
}

/* The old interface is released after the lock is left: it may live in the client. */
static HRESULT WINAPI job_SetNotifyInterface(IBackgroundCopyJob5 *iface, IUnknown *callback)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);
    struct job_props *props;
    IUnknown *old;
    HRESULT hr;

    TRACE("job %p, callback %p\n", job, callback);
    if (callback) IUnknown_AddRef(callback);
    hr = lock_for_change(job, &props);
    if (FAILED(hr))
    {
        if (callback) IUnknown_Release(callback);
        return hr;
    }
    old = props->notify_iface;
    props->notify_iface = callback;
    engine_job_commit(job->engine_job);
    if (old) IUnknown_Release(old);
    return S_OK;
}

static HRESULT WINAPI job_GetNotifyInterface(IBackgroundCopyJob5 *iface, IUnknown **callback)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);

    TRACE("job %p, callback %p\n", job, callback);
    if (!callback) return E_INVALIDARG;
    *callback = engine_job_lock(job->engine_job)->notify_iface;
    if (*callback) IUnknown_AddRef(*callback);
    engine_job_unlock(job->engine_job);
    return S_OK;
}

static HRESULT WINAPI job_SetMinimumRetryDelay(IBackgroundCopyJob5 *iface, ULONG seconds)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);
    struct job_props *props;
    HRESULT hr;

    TRACE("job %p, seconds %lu\n", job, seconds);
    hr = lock_for_change(job, &props);
    if (FAILED(hr)) return hr;
    props->retry_delay = max(seconds, MIN_RETRY_DELAY);
    engine_job_commit(job->engine_job);
    return S_OK;
}

static HRESULT WINAPI job_GetMinimumRetryDelay(IBackgroundCopyJob5 *iface, ULONG *seconds)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);

    TRACE("job %p, seconds %p\n", job, seconds);
    if (!seconds) return E_INVALIDARG;
    *seconds = engine_job_lock(job->engine_job)->retry_delay;
    engine_job_unlock(job->engine_job);
    return S_OK;
}

static HRESULT WINAPI job_SetNoProgressTimeout(IBackgroundCopyJob5 *iface, ULONG seconds)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);
    struct job_props *props;
    HRESULT hr;

    TRACE("job %p, seconds %lu\n", job, seconds);
    hr = lock_for_change(job, &props);
    if (FAILED(hr)) return hr;
    props->no_progress_timeout = seconds;
    engine_job_commit(job->engine_job);
    return S_OK;
}

static HRESULT WINAPI job_GetNoProgressTimeout(IBackgroundCopyJob5 *iface, ULONG *seconds)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);

    TRACE("job %p, seconds %p\n", job, seconds);
    if (!seconds) return E_INVALIDARG;
    *seconds = engine_job_lock(job->engine_job)->no_progress_timeout;
    engine_job_unlock(job->engine_job);
    return S_OK;
}

static HRESULT WINAPI job_GetErrorCount(IBackgroundCopyJob5 *iface, ULONG *count)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);

    TRACE("job %p, count %p\n", job, count);
    if (!count) return E_INVALIDARG;
    *count = engine_job_error_count(job->engine_job);
    return S_OK;
}

/* behaviour.md §2.1: only OVERRIDE takes lists, and it needs the proxy list. */
static HRESULT WINAPI job_SetProxySettings(IBackgroundCopyJob5 *iface, BG_JOB_PROXY_USAGE usage,
                                           const WCHAR *list, const WCHAR *bypass)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);
    WCHAR *list_copy = NULL, *bypass_copy = NULL;  /* after the swap: the old lists */
    struct job_props *props;
    HRESULT hr;

    TRACE("job %p, usage %u, list %s, bypass %s\n", job, usage, debugstr_w(list),
          debugstr_w(bypass));
    if ((unsigned int)usage > BG_JOB_PROXY_USAGE_AUTODETECT) return E_NOTIMPL;
    if (usage == BG_JOB_PROXY_USAGE_OVERRIDE)
    {
        if (!list || !*list) return E_INVALIDARG;
    }
    else if (list || bypass) return E_INVALIDARG;
    if (list && wcslen(list) > MAX_PROXY_LIST) return BG_E_PROXY_LIST_TOO_LARGE;
    if (bypass && wcslen(bypass) > MAX_PROXY_LIST) return BG_E_PROXY_BYPASS_LIST_TOO_LARGE;

    hr = copy_string(list, &list_copy);
    if (SUCCEEDED(hr)) hr = copy_string(bypass, &bypass_copy);
    if (SUCCEEDED(hr)) hr = lock_for_change(job, &props);
    if (SUCCEEDED(hr))
    {
        WCHAR *old_list = props->proxy_list, *old_bypass = props->proxy_bypass_list;

        props->proxy_usage = usage;
        props->proxy_list = list_copy;
        props->proxy_bypass_list = bypass_copy;
        engine_job_commit(job->engine_job);
        list_copy = old_list;
        bypass_copy = old_bypass;
    }
    free(list_copy);
    free(bypass_copy);
    return hr;
}

static HRESULT WINAPI job_GetProxySettings(IBackgroundCopyJob5 *iface, BG_JOB_PROXY_USAGE *usage,
                                           LPWSTR *list, LPWSTR *bypass)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);
    struct job_props *props;
    HRESULT hr;

    TRACE("job %p, usage %p, list %p, bypass %p\n", job, usage, list, bypass);
    if (list) *list = NULL;
    if (bypass) *bypass = NULL;
    if (!usage || !list || !bypass) return E_INVALIDARG;
    props = engine_job_lock(job->engine_job);
    *usage = props->proxy_usage;
    hr = cotask_strdup(props->proxy_list, list);
    if (SUCCEEDED(hr)) hr = cotask_strdup(props->proxy_bypass_list, bypass);
    engine_job_unlock(job->engine_job);
    if (FAILED(hr))
    {
        CoTaskMemFree(*list);
        *list = NULL;
    }
    return hr;
}

/* behaviour.md §9.3: an administrator makes the job its own; what only the old owner's context
 * could use goes: credentials (and the use of stored ones), client certificate, custom headers,
 * notify command line.  Anyone else gets E_ACCESSDENIED, the owner too [doc]; an administrator's
 * call on its own job changes nothing [inferred].  Whether the new owner can reach the temporary
 * files (BG_E_NEW_OWNER_NO_FILE_ACCESS) and has the same drive mappings
 * (BG_E_NEW_OWNER_DIFF_MAPPING) is not checked: the service does its file work as itself. */
static HRESULT WINAPI job_TakeOwnership(IBackgroundCopyJob5 *iface)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);
    struct job_props *props;
    struct job_owner owner;
    WCHAR *freed[5];
    unsigned int i;
    HRESULT hr;

    TRACE("job %p\n", job);
    hr = security_get_owner(&owner);
    if (FAILED(hr)) return hr;
    hr = security_check_admin();
    if (SUCCEEDED(hr)) hr = engine_job_lock_for_change(job->engine_job, &props);
    if (FAILED(hr))
    {
        engine_free_owner(&owner);
        return hr;
    }
    /* Asked again under the lock: the owner may have changed meanwhile. */
    if (engine_job_owned_by(job->engine_job, owner.sid))
    {
        engine_job_unlock(job->engine_job);
        engine_free_owner(&owner);
        return S_OK;
    }
    TRACE("new owner %s\n", debugstr_w(owner.sid_string));
    engine_job_swap_owner(job->engine_job, &owner);
    freed[0] = props->custom_headers;
    freed[1] = props->notify_program;
    freed[2] = props->notify_parameters;
    freed[3] = props->cert_store_name;
    freed[4] = props->cert_subject;
    props->custom_headers = NULL;
    props->notify_program = props->notify_parameters = NULL;
    props->cert_store_name = props->cert_subject = NULL;
    props->has_certificate = FALSE;
    props->cert_by_hash = FALSE;
    memset(props->cert_hash, 0, sizeof(props->cert_hash));
    props->stored_credentials = 0;
    for (i = 0; i < AUTH_TARGETS * AUTH_SCHEMES; i++)
        engine_clear_credential(&props->credentials[i / AUTH_SCHEMES][i % AUTH_SCHEMES]);
    engine_job_commit(job->engine_job);
    for (i = 0; i < ARRAYSIZE(freed); i++) free(freed[i]);
    engine_free_owner(&owner);      /* the old one */
    return S_OK;
}

/* behaviour.md §6.7: both NULL remove the command line; parameters need a program. */
static HRESULT WINAPI job_SetNotifyCmdLine(IBackgroundCopyJob5 *iface, LPCWSTR program,
                                           LPCWSTR parameters)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);
    WCHAR *program_copy = NULL, *parameters_copy = NULL;  /* after the swap: the old ones */
    struct job_props *props;
    HRESULT hr;

    TRACE("job %p, program %s, parameters %s\n", job, debugstr_w(program),
          debugstr_w(parameters));
    if (!program && parameters) return E_INVALIDARG;
    if (program && wcslen(program) > MAX_PATH) return BG_E_STRING_TOO_LONG;
    if (parameters && wcslen(parameters) > MAX_NOTIFY_PARAMETERS) return BG_E_STRING_TOO_LONG;

    hr = copy_string(program, &program_copy);
    if (SUCCEEDED(hr)) hr = copy_string(parameters, &parameters_copy);
    if (SUCCEEDED(hr)) hr = lock_for_change(job, &props);
    if (SUCCEEDED(hr))
    {
        WCHAR *old_program = props->notify_program, *old_parameters = props->notify_parameters;

        props->notify_program = program_copy;
        props->notify_parameters = parameters_copy;
        engine_job_commit(job->engine_job);
        program_copy = old_program;
        parameters_copy = old_parameters;
    }
    free(program_copy);
    free(parameters_copy);
    return hr;
}

static HRESULT WINAPI job_GetNotifyCmdLine(IBackgroundCopyJob5 *iface, LPWSTR *program,
                                           LPWSTR *parameters)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);
    struct job_props *props;
    HRESULT hr;

    TRACE("job %p, program %p, parameters %p\n", job, program, parameters);
    if (program) *program = NULL;
    if (parameters) *parameters = NULL;
    if (!program || !parameters) return E_INVALIDARG;
    props = engine_job_lock(job->engine_job);
    hr = cotask_strdup(props->notify_program, program);
    if (SUCCEEDED(hr)) hr = cotask_strdup(props->notify_parameters, parameters);
    engine_job_unlock(job->engine_job);
    if (FAILED(hr))
    {
        CoTaskMemFree(*program);
        *program = NULL;
    }
    return hr;
}

/* The reply methods exist for upload-reply jobs only (behaviour.md §2.1). */
static HRESULT WINAPI job_GetReplyProgress(IBackgroundCopyJob5 *iface,
                                           BG_JOB_REPLY_PROGRESS *progress)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);

    TRACE("job %p, progress %p\n", job, progress);
    if (!progress) return E_INVALIDARG;
    if (engine_job_type(job->engine_job) != BG_JOB_TYPE_UPLOAD_REPLY) return E_NOTIMPL;
    engine_job_reply_progress(job->engine_job, progress);
    return S_OK;
}

/* Learn GetReplyData: in TRANSFERRED and after Complete; above 1 MB BG_E_TOO_LARGE, with the
 * length and no buffer. */
static HRESULT WINAPI job_GetReplyData(IBackgroundCopyJob5 *iface, byte **buffer, UINT64 *length)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);

    TRACE("job %p, buffer %p, length %p\n", job, buffer, length);
    if (buffer) *buffer = NULL;
    if (engine_job_type(job->engine_job) != BG_JOB_TYPE_UPLOAD_REPLY) return E_NOTIMPL;
    if (!buffer || !length) return E_INVALIDARG;
    return engine_reply_data(job->engine_job, buffer, length);
}

/* behaviour.md §2.2: NULL or "" lets the service choose the name; Learn SetReplyFileName: not
 * once the reply's transfer began. */
static HRESULT WINAPI job_SetReplyFileName(IBackgroundCopyJob5 *iface, LPCWSTR name)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);
    struct job_props *props;
    WCHAR *copy = NULL, *old;
    HRESULT hr;

    TRACE("job %p, name %s\n", job, debugstr_w(name));
    if (engine_job_type(job->engine_job) != BG_JOB_TYPE_UPLOAD_REPLY) return E_NOTIMPL;
    if (name && *name)
    {
        hr = file_check_local_name(name);
        if (FAILED(hr)) return hr;
        copy = _wcsdup(name);
        if (!copy) return E_OUTOFMEMORY;
    }
    hr = lock_for_change(job, &props);
    if (SUCCEEDED(hr) && engine_reply_started(job->engine_job))
    {
        engine_job_unlock(job->engine_job);
        hr = BG_E_INVALID_STATE;
    }
    if (FAILED(hr))
    {
        free(copy);
        return hr;
    }
    old = props->reply_file_name;
    props->reply_file_name = copy;
    engine_job_commit(job->engine_job);
    free(old);
    return S_OK;
}

static HRESULT WINAPI job_GetReplyFileName(IBackgroundCopyJob5 *iface, LPWSTR *name)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);

    TRACE("job %p, name %p\n", job, name);
    if (!name) return E_INVALIDARG;
    *name = NULL;
    if (engine_job_type(job->engine_job) != BG_JOB_TYPE_UPLOAD_REPLY) return E_NOTIMPL;
    return get_string(job, offsetof(struct job_props, reply_file_name), NULL, name);
}

/* Learn, SetCredentials: the limits of BG_BASIC_CREDENTIALS, terminators not counted. */
#define CREDENTIAL_USER_MAX     300
#define CREDENTIAL_PASSWORD_MAX 65536

static HRESULT check_auth_pair(BG_AUTH_TARGET target, BG_AUTH_SCHEME scheme)
{
    if ((unsigned int)target - 1 >= AUTH_TARGETS) return BG_E_INVALID_AUTH_TARGET;
    if ((unsigned int)scheme - 1 >= AUTH_SCHEMES) return BG_E_INVALID_AUTH_SCHEME;
    return S_OK;
}

/* Job lock for a change of the credentials: only their owner sets them (behaviour.md §9.5: "in
 * the context of the job's owner"), not even an administrator. */
static HRESULT lock_for_credentials(struct job *job, struct job_props **props)
{
    HRESULT hr;

    *props = NULL;
    hr = security_check_job_access(job->engine_job, TRUE);
    if (FAILED(hr)) return hr;
    return engine_job_lock_for_change(job->engine_job, props);
}

/* Learn, SetCredentials: one credential per target and scheme, replaced when set again, kept
 * for the job's life; Basic and Digest need a user name and a password, the other schemes take
 * neither for the logged-on user's credentials.  No method reads them back. */
static HRESULT WINAPI job_SetCredentials(IBackgroundCopyJob5 *iface,
                                         BG_AUTH_CREDENTIALS *credentials)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);
    struct job_credential *slot, value = { TRUE, NULL, NULL };
    const WCHAR *user, *password;
    struct job_props *props;
    HRESULT hr;

    TRACE("job %p, credentials %p\n", job, credentials);
    if (!credentials) return E_INVALIDARG;
    hr = check_auth_pair(credentials->Target, credentials->Scheme);
    if (FAILED(hr)) return hr;
    user = credentials->Credentials.Basic.UserName;
    password = credentials->Credentials.Basic.Password;
    TRACE("target %u, scheme %u, user %s\n", credentials->Target, credentials->Scheme,
          debugstr_w(user));
    if (user && wcslen(user) > CREDENTIAL_USER_MAX) return BG_E_USERNAME_TOO_LARGE;
    if (password && wcslen(password) > CREDENTIAL_PASSWORD_MAX) return BG_E_PASSWORD_TOO_LARGE;
    if ((credentials->Scheme == BG_AUTH_SCHEME_BASIC || credentials->Scheme == BG_AUTH_SCHEME_DIGEST)
            && (!user || !password))
        return E_INVALIDARG;
    if ((user && !(value.user = _wcsdup(user)))
            || (password && !(value.password = _wcsdup(password))))
    {
        engine_clear_credential(&value);
        return E_OUTOFMEMORY;
    }
    hr = lock_for_credentials(job, &props);
    if (FAILED(hr))
    {
        engine_clear_credential(&value);
        return hr;
    }
    slot = &props->credentials[credentials->Target - 1][credentials->Scheme - 1];
    engine_clear_credential(slot);
    *slot = value;
    engine_job_commit(job->engine_job);
    return S_OK;
}

/* Learn, RemoveCredentials: S_FALSE when the job has none for that target and scheme. */
static HRESULT WINAPI job_RemoveCredentials(IBackgroundCopyJob5 *iface, BG_AUTH_TARGET target,
                                            BG_AUTH_SCHEME scheme)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);
    struct job_credential *slot;
    struct job_props *props;
    HRESULT hr;

    TRACE("job %p, target %u, scheme %u\n", job, target, scheme);
    hr = check_auth_pair(target, scheme);
    if (FAILED(hr)) return hr;
    hr = lock_for_credentials(job, &props);
    if (FAILED(hr)) return hr;
    slot = &props->credentials[target - 1][scheme - 1];
    if (!slot->set)
    {
        engine_job_unlock(job->engine_job);
        return S_FALSE;
    }
    engine_clear_credential(slot);
    engine_job_commit(job->engine_job);
    return S_OK;
}

/* behaviour.md §2.1, §2.2: the new names follow the rules of AddFile; the search is
 * case-sensitive [doc]. */
static HRESULT WINAPI job_ReplaceRemotePrefix(IBackgroundCopyJob5 *iface, LPCWSTR old_prefix,
                                              LPCWSTR new_prefix)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);
    HRESULT hr;

    TRACE("job %p, old_prefix %s, new_prefix %s\n", job, debugstr_w(old_prefix),
          debugstr_w(new_prefix));
    /* behaviour.md §2.1: upload jobs have no remote prefix to replace. */
    if (engine_job_type(job->engine_job) != BG_JOB_TYPE_DOWNLOAD) return E_NOTIMPL;
    if (!old_prefix || !*old_prefix || !new_prefix || !*new_prefix) return E_INVALIDARG;
    hr = security_check_job_access(job->engine_job, FALSE);
    if (FAILED(hr)) return hr;
    return engine_replace_remote_prefix(job->engine_job, old_prefix, new_prefix);
}

static HRESULT WINAPI job_AddFileWithRanges(IBackgroundCopyJob5 *iface, LPCWSTR remote,
                                            LPCWSTR local, DWORD count, BG_FILE_RANGE *ranges)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);
    BG_FILE_INFO info = { (WCHAR *)remote, (WCHAR *)local };
    HRESULT hr;

    TRACE("job %p, remote %s, local %s, count %lu, ranges %p\n", job, debugstr_w(remote),
          debugstr_w(local), count, ranges);
    /* behaviour.md §2.1: ranges are for downloads only. */
    if (engine_job_type(job->engine_job) != BG_JOB_TYPE_DOWNLOAD) return E_NOTIMPL;
    hr = file_check_remote_name(remote, BG_JOB_TYPE_DOWNLOAD);
    if (FAILED(hr)) return hr;
    /* behaviour.md §2.2 [doc]: since BITS 3.0, HTTP and HTTPS only. */
    if (_wcsnicmp(remote, L"http://", 7) && _wcsnicmp(remote, L"https://", 8)) return E_INVALIDARG;
    hr = file_check_local_name(local);
    if (SUCCEEDED(hr)) hr = file_check_ranges(count, ranges);
    if (SUCCEEDED(hr)) hr = security_check_job_access(job->engine_job, FALSE);
    if (FAILED(hr)) return hr;
    return engine_add_file_ranges(job->engine_job, &info, count, ranges);
}

/* behaviour.md §2.1: the flags must be set before the job is TRANSFERRED. */
static HRESULT WINAPI job_SetFileACLFlags(IBackgroundCopyJob5 *iface, DWORD flags)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);
    struct job_props *props;
    HRESULT hr;

    TRACE("job %p, flags %#lx\n", job, flags);
    if (flags & ~BG_COPY_FILE_ALL) return E_INVALIDARG;
    hr = lock_for_change(job, &props);
    if (FAILED(hr)) return hr;
    if (engine_job_state(job->engine_job) == BG_JOB_STATE_TRANSFERRED)
    {
        engine_job_unlock(job->engine_job);
        return BG_E_INVALID_STATE;
    }
    props->file_acl_flags = flags;
    engine_job_commit(job->engine_job);
    return S_OK;
}

static HRESULT WINAPI job_GetFileACLFlags(IBackgroundCopyJob5 *iface, DWORD *flags)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);

    TRACE("job %p, flags %p\n", job, flags);
    if (!flags) return E_INVALIDARG;
    *flags = engine_job_lock(job->engine_job)->file_acl_flags;
    engine_job_unlock(job->engine_job);
    return S_OK;
}

static HRESULT WINAPI job_SetPeerCachingFlags(IBackgroundCopyJob5 *iface, DWORD flags)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);
    struct job_props *props;
    HRESULT hr;

    TRACE("job %p, flags %#lx\n", job, flags);
    if (flags & ~VALID_PEER_CACHING_FLAGS) return E_INVALIDARG;
    hr = lock_for_change(job, &props);
    if (FAILED(hr)) return hr;
    props->peer_caching_flags = flags;
    engine_job_commit(job->engine_job);
    return S_OK;
}

static HRESULT WINAPI job_GetPeerCachingFlags(IBackgroundCopyJob5 *iface, DWORD *flags)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);

    TRACE("job %p, flags %p\n", job, flags);
    if (!flags) return E_INVALIDARG;
    *flags = engine_job_lock(job->engine_job)->peer_caching_flags;
    engine_job_unlock(job->engine_job);
    return S_OK;
}

static HRESULT WINAPI job_GetOwnerIntegrityLevel(IBackgroundCopyJob5 *iface, ULONG *level)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);
    const struct job_owner *owner;
    HRESULT hr;

    TRACE("job %p, level %p\n", job, level);
    if (!level) return E_INVALIDARG;
    engine_job_lock(job->engine_job);
    owner = engine_job_owner(job->engine_job);
    hr = owner->integrity_hr;
    *level = SUCCEEDED(hr) ? owner->integrity_level : 0;
    engine_job_unlock(job->engine_job);
    return hr;
}

static HRESULT WINAPI job_GetOwnerElevationState(IBackgroundCopyJob5 *iface, BOOL *elevated)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);
    const struct job_owner *owner;
    HRESULT hr;

    TRACE("job %p, elevated %p\n", job, elevated);
    if (!elevated) return E_INVALIDARG;
    engine_job_lock(job->engine_job);
    owner = engine_job_owner(job->engine_job);
    hr = owner->elevation_hr;
    *elevated = SUCCEEDED(hr) && owner->elevated;
    engine_job_unlock(job->engine_job);
    return hr;
}

static HRESULT WINAPI job_SetMaximumDownloadTime(IBackgroundCopyJob5 *iface, ULONG seconds)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);
    struct job_props *props;
    HRESULT hr;

    TRACE("job %p, seconds %lu\n", job, seconds);
    hr = lock_for_change(job, &props);
    if (FAILED(hr)) return hr;
    props->max_download_time = seconds;
    engine_job_commit(job->engine_job);
    return S_OK;
}

static HRESULT WINAPI job_GetMaximumDownloadTime(IBackgroundCopyJob5 *iface, ULONG *seconds)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);

    TRACE("job %p, seconds %p\n", job, seconds);
    if (!seconds) return E_INVALIDARG;
    *seconds = engine_job_lock(job->engine_job)->max_download_time;
    engine_job_unlock(job->engine_job);
    return S_OK;
}

/* Job lock held for a change.  The restrictions of behaviour.md §7.4 that need no transfer. */
static HRESULT set_property(struct job *job, struct job_props *props, BITS_JOB_PROPERTY_ID id,
                            const BITS_JOB_PROPERTY_VALUE *value)
{
    BOOL download = engine_job_type(job->engine_job) == BG_JOB_TYPE_DOWNLOAD;

    switch (id)
    {
    case BITS_JOB_PROPERTY_ID_COST_FLAGS:
        props->cost_flags = value->Dword;
        return S_OK;
    case BITS_JOB_PROPERTY_NOTIFICATION_CLSID:
        props->notify_clsid = value->ClsID;
        return S_OK;
    case BITS_JOB_PROPERTY_DYNAMIC_CONTENT:
        if (!download) return BG_E_PROPERTY_SUPPORTED_FOR_DOWNLOAD_JOBS_ONLY;
        if (value->Enable && props->http_method) return BG_E_NOT_SUPPORTED_WITH_CUSTOM_HTTP_METHOD;
        props->dynamic_content = !!value->Enable;
        return S_OK;
    case BITS_JOB_PROPERTY_HIGH_PERFORMANCE:
        if (!download) return BG_E_PROPERTY_SUPPORTED_FOR_DOWNLOAD_JOBS_ONLY;
        if (engine_job_file_count(job->engine_job)) return BG_E_READ_ONLY_PROPERTY_AFTER_ADDFILE;
        props->high_performance = !!value->Enable;
        return S_OK;
    case BITS_JOB_PROPERTY_MAX_DOWNLOAD_SIZE:
        if (!download) return BG_E_PROPERTY_SUPPORTED_FOR_DOWNLOAD_JOBS_ONLY;
        if (!value->Uint64) return BG_E_MAX_DOWNLOAD_SIZE_INVALID_VALUE;
        props->max_download_size = value->Uint64;
        return S_OK;
    case BITS_JOB_PROPERTY_USE_STORED_CREDENTIALS:
        /* Stored credentials only ever go to proxies; 0 turns them off again. */
        if (value->Target == BG_AUTH_TARGET_SERVER)
            return BG_E_USE_STORED_CREDENTIALS_NOT_SUPPORTED;
        if (value->Target && value->Target != BG_AUTH_TARGET_PROXY) return E_INVALIDARG;
        props->stored_credentials = value->Target;
        return S_OK;
    case BITS_JOB_PROPERTY_MINIMUM_NOTIFICATION_INTERVAL_MS:
        props->notification_interval = value->Dword;
        return S_OK;
    case BITS_JOB_PROPERTY_ON_DEMAND_MODE:
        if (!download) return BG_E_PROPERTY_SUPPORTED_FOR_DOWNLOAD_JOBS_ONLY;
        if (!value->Enable == !props->on_demand) return S_OK;
        if (value->Enable && props->http_method) return BG_E_NOT_SUPPORTED_WITH_CUSTOM_HTTP_METHOD;
        /* Learn RequestFileRanges: an on-demand job has no dynamic content [doc]. */
        if (value->Enable && props->dynamic_content) return BG_E_RANDOM_ACCESS_NOT_SUPPORTED;
        /* The temporary files have the layout of the mode they started in [inferred]. */
        if (engine_job_started(job->engine_job)) return BG_E_READ_ONLY_PROPERTY_AFTER_RESUME;
        props->on_demand = !!value->Enable;
        return S_OK;
    default:
        WARN("unknown property %u\n", id);
        return BG_E_UNKNOWN_PROPERTY_ID;
    }
}

static HRESULT WINAPI job_SetProperty(IBackgroundCopyJob5 *iface, BITS_JOB_PROPERTY_ID id,
                                      BITS_JOB_PROPERTY_VALUE value)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);
    struct job_props *props;
    HRESULT hr;

    TRACE("job %p, id %u\n", job, id);
    hr = lock_for_change(job, &props);
    if (FAILED(hr)) return hr;
    hr = set_property(job, props, id, &value);
    if (SUCCEEDED(hr)) engine_job_commit(job->engine_job);
    else engine_job_unlock(job->engine_job);
    return hr;
}

static HRESULT WINAPI job_GetProperty(IBackgroundCopyJob5 *iface, BITS_JOB_PROPERTY_ID id,
                                      BITS_JOB_PROPERTY_VALUE *value)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);
    struct job_props *props;
    HRESULT hr = S_OK;

    TRACE("job %p, id %u, value %p\n", job, id, value);
    if (!value) return E_INVALIDARG;
    memset(value, 0, sizeof(*value));
    props = engine_job_lock(job->engine_job);
    switch (id)
    {
    case BITS_JOB_PROPERTY_ID_COST_FLAGS:
        value->Dword = props->cost_flags;
        break;
    case BITS_JOB_PROPERTY_NOTIFICATION_CLSID:
        value->ClsID = props->notify_clsid;
        break;
    case BITS_JOB_PROPERTY_DYNAMIC_CONTENT:
        value->Enable = props->dynamic_content;
        break;
    case BITS_JOB_PROPERTY_HIGH_PERFORMANCE:
        value->Enable = props->high_performance;
        break;
    case BITS_JOB_PROPERTY_MAX_DOWNLOAD_SIZE:
        value->Uint64 = props->max_download_size;
        break;
    case BITS_JOB_PROPERTY_USE_STORED_CREDENTIALS:
        value->Target = props->stored_credentials;
        break;
    case BITS_JOB_PROPERTY_MINIMUM_NOTIFICATION_INTERVAL_MS:
        value->Dword = props->notification_interval;
        break;
    case BITS_JOB_PROPERTY_ON_DEMAND_MODE:
        value->Enable = props->on_demand;
        break;
    default:
        WARN("unknown property %u\n", id);
        hr = BG_E_UNKNOWN_PROPERTY_ID;
        break;
    }
    engine_job_unlock(job->engine_job);
    return hr;
}

static const IBackgroundCopyJob5Vtbl job_vtbl =
{
    job_QueryInterface,
    job_AddRef,
    job_Release,
    /* IBackgroundCopyJob */
    job_AddFileSet,
    job_AddFile,
    job_EnumFiles,
    job_Suspend,
    job_Resume,
    job_Cancel,
    job_Complete,
    job_GetId,
    job_GetType,
    job_GetProgress,
    job_GetTimes,
    job_GetState,
    job_GetError,
    job_GetOwner,
    job_SetDisplayName,
    job_GetDisplayName,
    job_SetDescription,
    job_GetDescription,
    job_SetPriority,
    job_GetPriority,
    job_SetNotifyFlags,
    job_GetNotifyFlags,
    job_SetNotifyInterface,
    job_GetNotifyInterface,
    job_SetMinimumRetryDelay,
    job_GetMinimumRetryDelay,
    job_SetNoProgressTimeout,
    job_GetNoProgressTimeout,
    job_GetErrorCount,
    job_SetProxySettings,
    job_GetProxySettings,
    job_TakeOwnership,
    /* IBackgroundCopyJob2 */
    job_SetNotifyCmdLine,
    job_GetNotifyCmdLine,
    job_GetReplyProgress,
    job_GetReplyData,
    job_SetReplyFileName,
    job_GetReplyFileName,
    job_SetCredentials,
    job_RemoveCredentials,
    /* IBackgroundCopyJob3 */
    job_ReplaceRemotePrefix,
    job_AddFileWithRanges,
    job_SetFileACLFlags,
    job_GetFileACLFlags,
    /* IBackgroundCopyJob4 */
    job_SetPeerCachingFlags,
    job_GetPeerCachingFlags,
    job_GetOwnerIntegrityLevel,
    job_GetOwnerElevationState,
    job_SetMaximumDownloadTime,
    job_GetMaximumDownloadTime,
    /* IBackgroundCopyJob5 */
    job_SetProperty,
    job_GetProperty,
};

static HRESULT WINAPI http_QueryInterface(IBackgroundCopyJobHttpOptions3 *iface, REFIID riid,
                                          void **out)
{
    return job_query(impl_from_IBackgroundCopyJobHttpOptions3(iface), riid, out);
}

static ULONG WINAPI http_AddRef(IBackgroundCopyJobHttpOptions3 *iface)
{
    struct job *job = impl_from_IBackgroundCopyJobHttpOptions3(iface);

    return IBackgroundCopyJob5_AddRef(&job->IBackgroundCopyJob5_iface);
}

static ULONG WINAPI http_Release(IBackgroundCopyJobHttpOptions3 *iface)
{
    struct job *job = impl_from_IBackgroundCopyJobHttpOptions3(iface);

    return IBackgroundCopyJob5_Release(&job->IBackgroundCopyJob5_iface);
}

/* Stores the client certificate (one per job) that the HTTPS transport is to present.  The
 * store and the certificate are looked up when a transfer needs them, not here. */
static HRESULT set_certificate(struct job *job, BG_CERT_STORE_LOCATION location,
                               const WCHAR *store, const BYTE *hash, const WCHAR *subject)
{
    WCHAR *store_copy, *subject_copy = NULL, *old_store, *old_subject;
    struct job_props *props;
    HRESULT hr;

    if ((unsigned int)location > BG_CERT_STORE_LOCATION_LOCAL_MACHINE_ENTERPRISE || !store)
        return E_INVALIDARG;
    if (wcslen(store) >= MAX_CERT_STORE_NAME) return BG_E_STRING_TOO_LONG;
    hr = copy_string(store, &store_copy);
    if (SUCCEEDED(hr)) hr = copy_string(subject, &subject_copy);
    if (SUCCEEDED(hr)) hr = lock_for_change(job, &props);
    if (FAILED(hr))
    {
        free(store_copy);
        free(subject_copy);
        return hr;
    }
    old_store = props->cert_store_name;
    old_subject = props->cert_subject;
    props->has_certificate = TRUE;
    props->cert_location = location;
    props->cert_store_name = store_copy;
    props->cert_subject = subject_copy;
    props->cert_by_hash = !!hash;
    if (hash) memcpy(props->cert_hash, hash, sizeof(props->cert_hash));
    else memset(props->cert_hash, 0, sizeof(props->cert_hash));
    engine_job_commit(job->engine_job);
    free(old_store);
    free(old_subject);
    return S_OK;
}

static HRESULT WINAPI http_SetClientCertificateByID(IBackgroundCopyJobHttpOptions3 *iface,
                                                    BG_CERT_STORE_LOCATION location,
                                                    LPCWSTR store, BYTE *hash)
{
    struct job *job = impl_from_IBackgroundCopyJobHttpOptions3(iface);

    TRACE("job %p, location %u, store %s, hash %p\n", job, location, debugstr_w(store), hash);
    if (!hash) return E_INVALIDARG;
    return set_certificate(job, location, store, hash, NULL);
}

static HRESULT WINAPI http_SetClientCertificateByName(IBackgroundCopyJobHttpOptions3 *iface,
                                                      BG_CERT_STORE_LOCATION location,
                                                      LPCWSTR store, LPCWSTR subject)
{
    struct job *job = impl_from_IBackgroundCopyJobHttpOptions3(iface);

    TRACE("job %p, location %u, store %s, subject %s\n", job, location, debugstr_w(store),
          debugstr_w(subject));
    if (!subject) return E_INVALIDARG;
    return set_certificate(job, location, store, NULL, subject);
}

/* S_FALSE when the job has no certificate [inferred]. */
static HRESULT WINAPI http_RemoveClientCertificate(IBackgroundCopyJobHttpOptions3 *iface)
{
    struct job *job = impl_from_IBackgroundCopyJobHttpOptions3(iface);
    WCHAR *old_store, *old_subject;
    struct job_props *props;
    HRESULT hr;

    TRACE("job %p\n", job);
    hr = lock_for_change(job, &props);
    if (FAILED(hr)) return hr;
    if (!props->has_certificate)
    {
        engine_job_unlock(job->engine_job);
        return S_FALSE;
    }
    old_store = props->cert_store_name;
    old_subject = props->cert_subject;
    props->has_certificate = FALSE;
    props->cert_store_name = props->cert_subject = NULL;
    props->cert_by_hash = FALSE;
    memset(props->cert_hash, 0, sizeof(props->cert_hash));
    engine_job_commit(job->engine_job);
    free(old_store);
    free(old_subject);
    return S_OK;
}

/* Documented: RPC_X_BAD_STUB_DATA when the job has no certificate.  The hash is NULL for a
 * certificate set by name, the subject NULL for one set by hash. */
static HRESULT WINAPI http_GetClientCertificate(IBackgroundCopyJobHttpOptions3 *iface,
                                                BG_CERT_STORE_LOCATION *location, LPWSTR *store,
                                                BYTE **hash, LPWSTR *subject)
{
    struct job *job = impl_from_IBackgroundCopyJobHttpOptions3(iface);
    struct job_props *props;
    HRESULT hr = S_OK;

    TRACE("job %p, location %p, store %p, hash %p, subject %p\n", job, location, store, hash,
          subject);
    if (store) *store = NULL;
    if (hash) *hash = NULL;
    if (subject) *subject = NULL;
    if (!location || !store || !hash || !subject) return E_INVALIDARG;
    props = engine_job_lock(job->engine_job);
    if (!props->has_certificate) hr = HRESULT_FROM_WIN32(RPC_X_BAD_STUB_DATA);
    if (SUCCEEDED(hr))
    {
        *location = props->cert_location;
        hr = cotask_strdup(props->cert_store_name, store);
    }
    if (SUCCEEDED(hr)) hr = cotask_strdup(props->cert_subject, subject);
    if (SUCCEEDED(hr) && props->cert_by_hash)
    {
        *hash = CoTaskMemAlloc(sizeof(props->cert_hash));
        if (*hash) memcpy(*hash, props->cert_hash, sizeof(props->cert_hash));
        else hr = E_OUTOFMEMORY;
    }
    engine_job_unlock(job->engine_job);
    if (FAILED(hr))
    {
        CoTaskMemFree(*store);
        CoTaskMemFree(*subject);
        *store = *subject = NULL;
    }
    return hr;
}

/* behaviour.md §7.1: NULL removes the headers. */
static HRESULT WINAPI http_SetCustomHeaders(IBackgroundCopyJobHttpOptions3 *iface,
                                            LPCWSTR headers)
{
    struct job *job = impl_from_IBackgroundCopyJobHttpOptions3(iface);
    HRESULT hr;

    TRACE("job %p, headers %s\n", job, debugstr_w(headers));
    if (headers && wcslen(headers) >= MAX_CUSTOM_HEADERS) return BG_E_STRING_TOO_LONG;
    /* behaviour.md §9.2: only in the owner's context, not even an administrator's. */
    hr = security_check_job_access(job->engine_job, TRUE);
    if (FAILED(hr)) return hr;
    return replace_string(job, offsetof(struct job_props, custom_headers), headers);
}

/* S_FALSE and NULL when there are none; E_ACCESSDENIED once they were made write-only. */
static HRESULT WINAPI http_GetCustomHeaders(IBackgroundCopyJobHttpOptions3 *iface,
                                            LPWSTR *headers)
{
    struct job *job = impl_from_IBackgroundCopyJobHttpOptions3(iface);
    struct job_props *props;
    HRESULT hr;

    TRACE("job %p, headers %p\n", job, headers);
    if (!headers) return E_INVALIDARG;
    *headers = NULL;
    props = engine_job_lock(job->engine_job);
    if (props->headers_write_only) hr = E_ACCESSDENIED;
    else if (!props->custom_headers) hr = S_FALSE;
    else hr = cotask_strdup(props->custom_headers, headers);
    engine_job_unlock(job->engine_job);
    return hr;
}

/* behaviour.md §7.1: unknown flags and redirect policies are E_NOTIMPL. */
static HRESULT WINAPI http_SetSecurityFlags(IBackgroundCopyJobHttpOptions3 *iface, ULONG flags)
{
    struct job *job = impl_from_IBackgroundCopyJobHttpOptions3(iface);
    struct job_props *props;
    HRESULT hr;

    TRACE("job %p, flags %#lx\n", job, flags);
    if ((flags & ~VALID_SECURITY_FLAGS)
            || (flags & BG_HTTP_REDIRECT_POLICY_MASK) > BG_HTTP_REDIRECT_POLICY_DISALLOW)
        return E_NOTIMPL;
    hr = lock_for_change(job, &props);
    if (FAILED(hr)) return hr;
    props->security_flags = flags;
    engine_job_commit(job->engine_job);
    return S_OK;
}

static HRESULT WINAPI http_GetSecurityFlags(IBackgroundCopyJobHttpOptions3 *iface, ULONG *flags)
{
    struct job *job = impl_from_IBackgroundCopyJobHttpOptions3(iface);

    TRACE("job %p, flags %p\n", job, flags);
    if (!flags) return E_INVALIDARG;
    *flags = engine_job_lock(job->engine_job)->security_flags;
    engine_job_unlock(job->engine_job);
    return S_OK;
}

/* The default method of the job type changes nothing; any other pins the priority to
 * FOREGROUND and rules out dynamic content and on-demand mode. */
static HRESULT WINAPI http_SetHttpMethod(IBackgroundCopyJobHttpOptions3 *iface, LPCWSTR method)
{
    struct job *job = impl_from_IBackgroundCopyJobHttpOptions3(iface);
    struct job_props *props;
    WCHAR *copy, *old;
    HRESULT hr;

    TRACE("job %p, method %s\n", job, debugstr_w(method));
    if (!method || !is_http_token(method)) return E_INVALIDARG;
    copy = _wcsdup(method);
    if (!copy) return E_OUTOFMEMORY;
    hr = lock_for_change(job, &props);
    if (FAILED(hr))
    {
        free(copy);
        return hr;
    }
    if (!wcscmp(method, default_http_method(engine_job_type(job->engine_job))))
    {
        engine_job_unlock(job->engine_job);
        free(copy);
        return S_OK;
    }
    if (props->dynamic_content)
    {
        engine_job_unlock(job->engine_job);
        free(copy);
        return BG_E_NOT_SUPPORTED_WITH_CUSTOM_HTTP_METHOD;
    }
    old = props->http_method;
    props->http_method = copy;
    props->priority = BG_JOB_PRIORITY_FOREGROUND;
    engine_job_commit(job->engine_job);
    free(old);
    return S_OK;
}

static HRESULT WINAPI http_GetHttpMethod(IBackgroundCopyJobHttpOptions3 *iface, LPWSTR *method)
{
    struct job *job = impl_from_IBackgroundCopyJobHttpOptions3(iface);

    TRACE("job %p, method %p\n", job, method);
    if (!method) return E_INVALIDARG;
    return get_string(job, offsetof(struct job_props, http_method),
                      default_http_method(engine_job_type(job->engine_job)), method);
}

static HRESULT WINAPI http_SetServerCertificateValidationInterface(
        IBackgroundCopyJobHttpOptions3 *iface, IUnknown *callback)
{
    FIXME("job %p, callback %p: needs the transfer engine\n",
          impl_from_IBackgroundCopyJobHttpOptions3(iface), callback);
    return E_NOTIMPL;
}

/* Irreversible, and documented to always succeed, so it applies in any state. */
static HRESULT WINAPI http_MakeCustomHeadersWriteOnly(IBackgroundCopyJobHttpOptions3 *iface)
{
    struct job *job = impl_from_IBackgroundCopyJobHttpOptions3(iface);
    HRESULT hr;

    TRACE("job %p\n", job);
    hr = security_check_job_access(job->engine_job, FALSE);
    if (FAILED(hr)) return hr;
    engine_job_lock(job->engine_job)->headers_write_only = TRUE;
    engine_job_commit(job->engine_job);
    return S_OK;
}

static const IBackgroundCopyJobHttpOptions3Vtbl http_vtbl =
{
    http_QueryInterface,
    http_AddRef,
    http_Release,
    /* IBackgroundCopyJobHttpOptions */
    http_SetClientCertificateByID,
    http_SetClientCertificateByName,
    http_RemoveClientCertificate,
    http_GetClientCertificate,
    http_SetCustomHeaders,
    http_GetCustomHeaders,
    http_SetSecurityFlags,
    http_GetSecurityFlags,
    /* IBackgroundCopyJobHttpOptions2 */
    http_SetHttpMethod,
    http_GetHttpMethod,
    /* IBackgroundCopyJobHttpOptions3 */
    http_SetServerCertificateValidationInterface,
    http_MakeCustomHeadersWriteOnly,
};

HRESULT job_create(struct engine_job *engine_job, IBackgroundCopyJob **out)
{
    struct job *job;

    *out = NULL;
    job = calloc(1, sizeof(*job));
    if (!job) return E_OUTOFMEMORY;
    job->IBackgroundCopyJob5_iface.lpVtbl = &job_vtbl;
    job->IBackgroundCopyJobHttpOptions3_iface.lpVtbl = &http_vtbl;
    job->refcount = 1;
    job->engine_job = engine_job;
    engine_job_addref(engine_job);
    TRACE("created job %p for %s\n", job, debugstr_guid(engine_job_id(engine_job)));
    *out = (IBackgroundCopyJob *)&job->IBackgroundCopyJob5_iface;
    return S_OK;
}
