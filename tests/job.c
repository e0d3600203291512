/* IBackgroundCopyJob..Job5 and the HttpOptions interfaces on a job that never transfers:
 * defaults, round trips and argument checks of every property (behaviour.md §1.1, §2, §6.4,
 * §6.5, §6.7, §7.1, §7.4, §7.5, §9.1), the interfaces a job answers to, and Cancel.
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#include "util.h"

/* QueryInterface that tolerates a missing interface on older Windows (win_skip, which fails
 * on Wine).  Returns the interface or NULL. */
static void *query(void *iface, REFIID riid, const char *name)
{
    void *out = NULL;
    HRESULT hr;

    hr = IUnknown_QueryInterface((IUnknown *)iface, riid, &out);
    if (hr == E_NOINTERFACE)
    {
        win_skip("%s not supported\n", name);
        return NULL;
    }
    ok(hr == S_OK, "QueryInterface(%s): %#lx\n", name, hr);
    ok(hr != S_OK || out != NULL, "QueryInterface(%s) returned NULL\n", name);
    return SUCCEEDED(hr) ? out : NULL;
}

static void check_state(IBackgroundCopyJob *job, BG_JOB_STATE expected, int line)
{
    BG_JOB_STATE state = 0xdead;
    HRESULT hr;

    hr = IBackgroundCopyJob_GetState(job, &state);
    ok_(__FILE__, line)(hr == S_OK, "GetState: %#lx\n", hr);
    ok_(__FILE__, line)(state == expected, "state %d, expected %d\n", state, expected);
}
#define check_state(job, expected) check_state(job, expected, __LINE__)

/* A client's callback object: the service only stores it here, it never calls it. */
struct callback
{
    IBackgroundCopyCallback IBackgroundCopyCallback_iface;
    LONG refcount;
};

static inline struct callback *impl_from_IBackgroundCopyCallback(IBackgroundCopyCallback *iface)
{
    return CONTAINING_RECORD(iface, struct callback, IBackgroundCopyCallback_iface);
}

static HRESULT WINAPI callback_QueryInterface(IBackgroundCopyCallback *iface, REFIID riid,
        void **out)
{
    if (IsEqualGUID(riid, &IID_IUnknown) || IsEqualGUID(riid, &IID_IBackgroundCopyCallback))
    {
        *out = iface;
        IBackgroundCopyCallback_AddRef(iface);
        return S_OK;
    }
    *out = NULL;
    return E_NOINTERFACE;
}

static ULONG WINAPI callback_AddRef(IBackgroundCopyCallback *iface)
{
    return InterlockedIncrement(&impl_from_IBackgroundCopyCallback(iface)->refcount);
}

static ULONG WINAPI callback_Release(IBackgroundCopyCallback *iface)
{
    return InterlockedDecrement(&impl_from_IBackgroundCopyCallback(iface)->refcount);
}

static HRESULT WINAPI callback_JobTransferred(IBackgroundCopyCallback *iface,
        IBackgroundCopyJob *job)
{
    (void)iface;
    (void)job;
    return S_OK;
}

static HRESULT WINAPI callback_JobError(IBackgroundCopyCallback *iface, IBackgroundCopyJob *job,
        IBackgroundCopyError *error)
{
    (void)iface;
    (void)job;
    (void)error;
    return S_OK;
}

static HRESULT WINAPI callback_JobModification(IBackgroundCopyCallback *iface,
        IBackgroundCopyJob *job, DWORD reserved)
{
    (void)iface;
    (void)job;
    (void)reserved;
    return S_OK;
}

static const IBackgroundCopyCallbackVtbl callback_vtbl =
{
    callback_QueryInterface,
    callback_AddRef,
    callback_Release,
    callback_JobTransferred,
    callback_JobError,
    callback_JobModification,
};

static void test_defaults(void)
{
    ULONG value, ref;
    BG_JOB_PRIORITY priority = 0xdead;
    BG_JOB_PROXY_USAGE usage = 0xdead;
    BG_JOB_PROGRESS progress;
    IBackgroundCopyError *error;
    IBackgroundCopyJob *job;
    WCHAR *list, *bypass, *description;
    IUnknown *unk;
    HRESULT hr;

    job = create_job(L"defaults", BG_JOB_TYPE_DOWNLOAD, NULL);
    if (!job) return;

    /* behaviour.md §1.1 [test]. */
    check_state(job, BG_JOB_STATE_SUSPENDED);
    memset(&progress, 0xcc, sizeof(progress));
    hr = IBackgroundCopyJob_GetProgress(job, &progress);
    ok(hr == S_OK, "GetProgress: %#lx\n", hr);
    ok(progress.BytesTotal == 0 && progress.BytesTransferred == 0 && progress.FilesTotal == 0
            && progress.FilesTransferred == 0, "progress %s %s %lu %lu\n",
            wine_dbgstr_longlong(progress.BytesTotal),
            wine_dbgstr_longlong(progress.BytesTransferred), progress.FilesTotal,
            progress.FilesTransferred);
    value = 0xdead;
    hr = IBackgroundCopyJob_GetNotifyFlags(job, &value);
    ok(hr == S_OK, "GetNotifyFlags: %#lx\n", hr);
    ok(value == (BG_NOTIFY_JOB_TRANSFERRED | BG_NOTIFY_JOB_ERROR), "notify flags %#lx\n", value);
    unk = (IUnknown *)0xdeadbeef;
    hr = IBackgroundCopyJob_GetNotifyInterface(job, &unk);
    ok(hr == S_OK, "GetNotifyInterface: %#lx\n", hr);
    ok(unk == NULL, "notify interface %p\n", unk);

    /* behaviour.md §7.1. */
    hr = IBackgroundCopyJob_GetPriority(job, &priority);
    ok(hr == S_OK, "GetPriority: %#lx\n", hr);
    ok(priority == BG_JOB_PRIORITY_NORMAL, "priority %d\n", priority);
    value = 0xdead;
    hr = IBackgroundCopyJob_GetMinimumRetryDelay(job, &value);
    ok(hr == S_OK, "GetMinimumRetryDelay: %#lx\n", hr);
    ok(value == 600, "minimum retry delay %lu\n", value);
    value = 0xdead;
    hr = IBackgroundCopyJob_GetNoProgressTimeout(job, &value);
    ok(hr == S_OK, "GetNoProgressTimeout: %#lx\n", hr);
    ok(value == 1209600, "no-progress timeout %lu\n", value);
    /* [inferred] A job that never ran has no errors. */
    value = 0xdead;
    hr = IBackgroundCopyJob_GetErrorCount(job, &value);
    ok(hr == S_OK, "GetErrorCount: %#lx\n", hr);
    ok(value == 0, "error count %lu\n", value);
    list = bypass = NULL;
    hr = IBackgroundCopyJob_GetProxySettings(job, &usage, &list, &bypass);
    ok(hr == S_OK, "GetProxySettings: %#lx\n", hr);
    ok(usage == BG_JOB_PROXY_USAGE_PRECONFIG, "proxy usage %d\n", usage);
    ok(list == NULL && bypass == NULL, "proxy lists %s, %s\n", wine_dbgstr_w(list),
            wine_dbgstr_w(bypass));
    CoTaskMemFree(list);
    CoTaskMemFree(bypass);
    /* The default description is empty [inferred: "" rather than NULL]. */
    description = NULL;
    hr = IBackgroundCopyJob_GetDescription(job, &description);
    ok(hr == S_OK, "GetDescription: %#lx\n", hr);
    ok((description && !description[0]) || broken(!description), "description %s\n",
            wine_dbgstr_w(description));
    CoTaskMemFree(description);

    /* behaviour.md §4.3 [test]: no error object without an error. */
    error = (IBackgroundCopyError *)0xdeadbeef;
    hr = IBackgroundCopyJob_GetError(job, &error);
    ok(hr == BG_E_ERROR_INFORMATION_UNAVAILABLE, "GetError: %#lx\n", hr);
    ok(error == NULL, "GetError returned %p\n", error);

    /* behaviour.md §3.4 [test]: Resume needs files; §3.3: Suspend on SUSPENDED is a no-op. */
    hr = IBackgroundCopyJob_Resume(job);
    ok(hr == BG_E_EMPTY, "Resume: %#lx\n", hr);
    check_state(job, BG_JOB_STATE_SUSPENDED);
    hr = IBackgroundCopyJob_Suspend(job);
    ok(hr == S_OK, "Suspend: %#lx\n", hr);
    check_state(job, BG_JOB_STATE_SUSPENDED);

    hr = IBackgroundCopyJob_Cancel(job);
    ok(hr == S_OK, "Cancel: %#lx\n", hr);
    ref = IBackgroundCopyJob_Release(job);
    ok(ref == 0, "Release returned %lu\n", ref);
}

static void test_DisplayName(void)
{
    IBackgroundCopyJob *job;
    WCHAR *name, *value;
    HRESULT hr;

    job = create_job(L"displayname", BG_JOB_TYPE_DOWNLOAD, NULL);
    if (!job) return;

    name = make_string(job_name_prefix(), 'r', 40);
    hr = IBackgroundCopyJob_SetDisplayName(job, name);
    ok(hr == S_OK, "SetDisplayName: %#lx\n", hr);
    value = NULL;
    hr = IBackgroundCopyJob_GetDisplayName(job, &value);
    ok(hr == S_OK, "GetDisplayName: %#lx\n", hr);
    ok(str_equal(value, name), "display name %s, expected %s\n", wine_dbgstr_w(value),
            wine_dbgstr_w(name));
    CoTaskMemFree(value);
    CoTaskMemFree(name);

    /* 256 characters fit [doc]. */
    name = make_string(job_name_prefix(), 'n', 256);
    hr = IBackgroundCopyJob_SetDisplayName(job, name);
    ok(hr == S_OK, "SetDisplayName(256 characters): %#lx\n", hr);
    value = NULL;
    hr = IBackgroundCopyJob_GetDisplayName(job, &value);
    ok(hr == S_OK, "GetDisplayName: %#lx\n", hr);
    ok(str_equal(value, name), "display name %s\n", wine_dbgstr_w(value));
    CoTaskMemFree(value);
    CoTaskMemFree(name);

    /* One more is refused and changes nothing: BG_E_STRING_TOO_LONG [doc], E_INVALIDARG is
     * also mentioned by the docs (gap G6). */
    name = make_string(job_name_prefix(), 'x', 257);
    hr = IBackgroundCopyJob_SetDisplayName(job, name);
    ok(hr == BG_E_STRING_TOO_LONG || broken(hr == E_INVALIDARG),
            "SetDisplayName(257 characters): %#lx\n", hr);
    value = NULL;
    IBackgroundCopyJob_GetDisplayName(job, &value);
    ok(value && value[wcslen(job_name_prefix())] == 'n', "refused name stored: %s\n",
            wine_dbgstr_w(value));
    CoTaskMemFree(value);
    CoTaskMemFree(name);

    /* NULL: E_INVALIDARG [doc, gap G22], unless the proxy refuses it first. */
    hr = IBackgroundCopyJob_SetDisplayName(job, NULL);
    ok(hr == E_INVALIDARG || hr == HRESULT_NULL_REF, "SetDisplayName(NULL): %#lx\n", hr);

    cancel_job(job);
}

static void test_Description(void)
{
    IBackgroundCopyJob *job;
    WCHAR *text, *value;
    HRESULT hr;

    job = create_job(L"description", BG_JOB_TYPE_DOWNLOAD, NULL);
    if (!job) return;

    hr = IBackgroundCopyJob_SetDescription(job, L"A description\twith a tab");
    ok(hr == S_OK, "SetDescription: %#lx\n", hr);
    value = NULL;
    hr = IBackgroundCopyJob_GetDescription(job, &value);
    ok(hr == S_OK, "GetDescription: %#lx\n", hr);
    ok(str_equal(value, L"A description\twith a tab"), "description %s\n", wine_dbgstr_w(value));
    CoTaskMemFree(value);

    /* An empty description is accepted (gap G22) and reads back empty. */
    hr = IBackgroundCopyJob_SetDescription(job, L"");
    ok(hr == S_OK, "SetDescription(\"\"): %#lx\n", hr);
    value = NULL;
    hr = IBackgroundCopyJob_GetDescription(job, &value);
    ok(hr == S_OK, "GetDescription: %#lx\n", hr);
    ok((value && !value[0]) || broken(!value), "description %s\n", wine_dbgstr_w(value));
    CoTaskMemFree(value);

    /* Up to 1024 characters [doc]. */
    text = make_string(NULL, 'd', 1024);
    hr = IBackgroundCopyJob_SetDescription(job, text);
    ok(hr == S_OK, "SetDescription(1024 characters): %#lx\n", hr);
    value = NULL;
    hr = IBackgroundCopyJob_GetDescription(job, &value);
    ok(hr == S_OK, "GetDescription: %#lx\n", hr);
    ok(str_equal(value, text), "description of %u characters\n",
            value ? (unsigned int)wcslen(value) : 0);
    CoTaskMemFree(value);
    CoTaskMemFree(text);

    /* behaviour.md §2.2 [doc]: BG_E_STRING_TOO_LONG beyond; gap G6 allows E_INVALIDARG. */
    text = make_string(NULL, 'e', 1025);
    hr = IBackgroundCopyJob_SetDescription(job, text);
    ok(hr == BG_E_STRING_TOO_LONG || broken(hr == E_INVALIDARG),
            "SetDescription(1025 characters): %#lx\n", hr);
    value = NULL;
    IBackgroundCopyJob_GetDescription(job, &value);
    ok(value && value[0] == 'd', "refused description stored: %s\n", wine_dbgstr_w(value));
    CoTaskMemFree(value);
    CoTaskMemFree(text);

    hr = IBackgroundCopyJob_SetDescription(job, NULL);
    ok(hr == E_INVALIDARG || hr == HRESULT_NULL_REF, "SetDescription(NULL): %#lx\n", hr);

    cancel_job(job);
}

static void test_Priority(void)
{
    BG_JOB_PRIORITY priority, value;
    IBackgroundCopyJob *job;
    HRESULT hr;

    job = create_job(L"priority", BG_JOB_TYPE_DOWNLOAD, NULL);
    if (!job) return;

    for (priority = BG_JOB_PRIORITY_FOREGROUND; priority <= BG_JOB_PRIORITY_LOW; priority++)
    {
        hr = IBackgroundCopyJob_SetPriority(job, priority);
        ok(hr == S_OK, "SetPriority(%d): %#lx\n", priority, hr);
        value = 0xdead;
        hr = IBackgroundCopyJob_GetPriority(job, &value);
        ok(hr == S_OK, "GetPriority: %#lx\n", hr);
        ok(value == priority, "priority %d, expected %d\n", value, priority);
    }

    /* Undefined values: E_NOTIMPL [doc], E_INVALIDARG would be the other guess (gap G10). */
    hr = IBackgroundCopyJob_SetPriority(job, BG_JOB_PRIORITY_LOW + 1);
    ok(hr == E_NOTIMPL || broken(hr == E_INVALIDARG), "SetPriority(4): %#lx\n", hr);
    value = 0xdead;
    IBackgroundCopyJob_GetPriority(job, &value);
    ok(value == BG_JOB_PRIORITY_LOW, "priority changed to %d\n", value);

    cancel_job(job);
}

static void test_NotifyFlags(void)
{
    IBackgroundCopyJob *job;
    ULONG value;
    HRESULT hr;

    job = create_job(L"notifyflags", BG_JOB_TYPE_DOWNLOAD, NULL);
    if (!job) return;

    /* behaviour.md §6.4 [test]: the five flags of BITS 3.0. */
    hr = IBackgroundCopyJob_SetNotifyFlags(job, 0x1f);
    ok(hr == S_OK, "SetNotifyFlags(0x1f): %#lx\n", hr);
    value = 0;
    IBackgroundCopyJob_GetNotifyFlags(job, &value);
    ok(value == 0x1f, "notify flags %#lx\n", value);

    /* DISABLE alone, and no flag at all. */
    hr = IBackgroundCopyJob_SetNotifyFlags(job, BG_NOTIFY_DISABLE);
    ok(hr == S_OK, "SetNotifyFlags(BG_NOTIFY_DISABLE): %#lx\n", hr);
    value = 0;
    IBackgroundCopyJob_GetNotifyFlags(job, &value);
    ok(value == BG_NOTIFY_DISABLE, "notify flags %#lx\n", value);
    hr = IBackgroundCopyJob_SetNotifyFlags(job, 0);
    ok(hr == S_OK, "SetNotifyFlags(0): %#lx\n", hr);
    value = 0xdead;
    IBackgroundCopyJob_GetNotifyFlags(job, &value);
    ok(value == 0, "notify flags %#lx\n", value);

    /* BG_NOTIFY_FILE_RANGES_TRANSFERRED arrived with BITS 10.1. */
    hr = IBackgroundCopyJob_SetNotifyFlags(job, 0x3f);
    ok(hr == S_OK || broken(hr == E_NOTIMPL), "SetNotifyFlags(0x3f): %#lx\n", hr);

    /* Undefined bits: E_NOTIMPL [doc] (gap G9), flags unchanged [inferred]. */
    IBackgroundCopyJob_SetNotifyFlags(job, BG_NOTIFY_JOB_ERROR);
    hr = IBackgroundCopyJob_SetNotifyFlags(job, 0x40);
    ok(hr == E_NOTIMPL || broken(hr == E_INVALIDARG), "SetNotifyFlags(0x40): %#lx\n", hr);
    hr = IBackgroundCopyJob_SetNotifyFlags(job, 0x80000003);
    ok(hr == E_NOTIMPL || broken(hr == E_INVALIDARG), "SetNotifyFlags(0x80000003): %#lx\n", hr);
    value = 0;
    IBackgroundCopyJob_GetNotifyFlags(job, &value);
    ok(value == BG_NOTIFY_JOB_ERROR, "notify flags changed to %#lx\n", value);

    cancel_job(job);
}

/* Static: the service may release its proxy, and so our object, after the test returns. */
static struct callback callback = { { &callback_vtbl }, 1 };
static IUnknown *const callback_unknown = (IUnknown *)&callback.IBackgroundCopyCallback_iface;

static void test_NotifyInterface(void)
{
    IBackgroundCopyJob *job;
    IUnknown *unk;
    HRESULT hr;

    job = create_job(L"notifyinterface", BG_JOB_TYPE_DOWNLOAD, NULL);
    if (!job) return;

    hr = IBackgroundCopyJob_SetNotifyInterface(job, callback_unknown);
    ok(hr == S_OK, "SetNotifyInterface: %#lx\n", hr);
    /* The service holds a proxy; unmarshalled back in this apartment it is our object. */
    unk = NULL;
    hr = IBackgroundCopyJob_GetNotifyInterface(job, &unk);
    ok(hr == S_OK, "GetNotifyInterface: %#lx\n", hr);
    ok(unk != NULL, "GetNotifyInterface returned NULL\n");
    ok(same_object(unk, callback_unknown),
            "GetNotifyInterface returned %p, not the callback %p\n", unk, &callback);
    if (unk) IUnknown_Release(unk);

    /* NULL clears [doc]. */
    hr = IBackgroundCopyJob_SetNotifyInterface(job, NULL);
    ok(hr == S_OK, "SetNotifyInterface(NULL): %#lx\n", hr);
    unk = (IUnknown *)0xdeadbeef;
    hr = IBackgroundCopyJob_GetNotifyInterface(job, &unk);
    ok(hr == S_OK, "GetNotifyInterface: %#lx\n", hr);
    ok(unk == NULL, "GetNotifyInterface after clearing returned %p\n", unk);

    /* behaviour.md §6.5 [test]: not once the job is final. */
    hr = IBackgroundCopyJob_SetNotifyInterface(job, callback_unknown);
    ok(hr == S_OK, "SetNotifyInterface: %#lx\n", hr);
    hr = IBackgroundCopyJob_Cancel(job);
    ok(hr == S_OK, "Cancel: %#lx\n", hr);
    hr = IBackgroundCopyJob_SetNotifyInterface(job, callback_unknown);
    ok(hr == BG_E_INVALID_STATE, "SetNotifyInterface after Cancel: %#lx\n", hr);
    IBackgroundCopyJob_Release(job);
}

static void test_RetryDelay_and_Timeouts(void)
{
    IBackgroundCopyJob *job;
    ULONG value;
    HRESULT hr;

    job = create_job(L"delays", BG_JOB_TYPE_DOWNLOAD, NULL);
    if (!job) return;

    hr = IBackgroundCopyJob_SetMinimumRetryDelay(job, 3600);
    ok(hr == S_OK, "SetMinimumRetryDelay(3600): %#lx\n", hr);
    value = 0;
    IBackgroundCopyJob_GetMinimumRetryDelay(job, &value);
    ok(value == 3600, "minimum retry delay %lu\n", value);
    hr = IBackgroundCopyJob_SetMinimumRetryDelay(job, 5);
    ok(hr == S_OK, "SetMinimumRetryDelay(5): %#lx\n", hr);
    value = 0;
    IBackgroundCopyJob_GetMinimumRetryDelay(job, &value);
    ok(value == 5, "minimum retry delay %lu\n", value);
    /* Values below 5 s are raised to 5 s without an error [doc]; whether the stored value is
     * raised too is gap G7. */
    hr = IBackgroundCopyJob_SetMinimumRetryDelay(job, 1);
    ok(hr == S_OK, "SetMinimumRetryDelay(1): %#lx\n", hr);
    value = 0;
    IBackgroundCopyJob_GetMinimumRetryDelay(job, &value);
    ok(value == 5 || broken(value == 1), "minimum retry delay %lu after setting 1\n", value);
    hr = IBackgroundCopyJob_SetMinimumRetryDelay(job, 0);
    ok(hr == S_OK, "SetMinimumRetryDelay(0): %#lx\n", hr);
    value = 0xdead;
    IBackgroundCopyJob_GetMinimumRetryDelay(job, &value);
    ok(value == 5 || broken(value == 0), "minimum retry delay %lu after setting 0\n", value);

    /* Any value, 0 meaning no retries [doc]. */
    hr = IBackgroundCopyJob_SetNoProgressTimeout(job, 120);
    ok(hr == S_OK, "SetNoProgressTimeout(120): %#lx\n", hr);
    value = 0;
    IBackgroundCopyJob_GetNoProgressTimeout(job, &value);
    ok(value == 120, "no-progress timeout %lu\n", value);
    hr = IBackgroundCopyJob_SetNoProgressTimeout(job, 0);
    ok(hr == S_OK, "SetNoProgressTimeout(0): %#lx\n", hr);
    value = 0xdead;
    IBackgroundCopyJob_GetNoProgressTimeout(job, &value);
    ok(value == 0, "no-progress timeout %lu\n", value);

    cancel_job(job);
}

static void check_proxy(IBackgroundCopyJob *job, BG_JOB_PROXY_USAGE usage, const WCHAR *list,
        const WCHAR *bypass, int line)
{
    BG_JOB_PROXY_USAGE got_usage = 0xdead;
    WCHAR *got_list = (WCHAR *)0xdeadbeef, *got_bypass = (WCHAR *)0xdeadbeef;
    HRESULT hr;

    hr = IBackgroundCopyJob_GetProxySettings(job, &got_usage, &got_list, &got_bypass);
    ok_(__FILE__, line)(hr == S_OK, "GetProxySettings: %#lx\n", hr);
    if (FAILED(hr)) return;
    ok_(__FILE__, line)(got_usage == usage && str_equal(got_list, list)
            && str_equal(got_bypass, bypass), "proxy settings %d %s %s, expected %d %s %s\n",
            got_usage, wine_dbgstr_w(got_list), wine_dbgstr_w(got_bypass), usage,
            wine_dbgstr_w(list), wine_dbgstr_w(bypass));
    CoTaskMemFree(got_list);
    CoTaskMemFree(got_bypass);
}
#define check_proxy(job, usage, list, bypass) check_proxy(job, usage, list, bypass, __LINE__)

/* behaviour.md §2.1 SetProxySettings row and §12 item 22. */
static void test_ProxySettings(void)
{
    IBackgroundCopyJob *job;
    WCHAR *big;
    HRESULT hr;

    job = create_job(L"proxy", BG_JOB_TYPE_DOWNLOAD, NULL);
    if (!job) return;

    hr = IBackgroundCopyJob_SetProxySettings(job, BG_JOB_PROXY_USAGE_OVERRIDE,
            L"http://proxy.invalid:8080", L"<local>;*.example.invalid");
    ok(hr == S_OK, "SetProxySettings(OVERRIDE): %#lx\n", hr);
    check_proxy(job, BG_JOB_PROXY_USAGE_OVERRIDE, L"http://proxy.invalid:8080",
            L"<local>;*.example.invalid");
    /* The bypass list is optional with OVERRIDE. */
    hr = IBackgroundCopyJob_SetProxySettings(job, BG_JOB_PROXY_USAGE_OVERRIDE,
            L"proxy.invalid:3128", NULL);
    ok(hr == S_OK, "SetProxySettings(OVERRIDE, no bypass list): %#lx\n", hr);
    check_proxy(job, BG_JOB_PROXY_USAGE_OVERRIDE, L"proxy.invalid:3128", NULL);
    /* The lists are checked only when the job runs [doc]. */
    hr = IBackgroundCopyJob_SetProxySettings(job, BG_JOB_PROXY_USAGE_OVERRIDE,
            L"not a proxy list !", NULL);
    ok(hr == S_OK, "SetProxySettings(OVERRIDE, odd list): %#lx\n", hr);

    /* Usages without lists drop them [inferred]. */
    hr = IBackgroundCopyJob_SetProxySettings(job, BG_JOB_PROXY_USAGE_NO_PROXY, NULL, NULL);
    ok(hr == S_OK, "SetProxySettings(NO_PROXY): %#lx\n", hr);
    check_proxy(job, BG_JOB_PROXY_USAGE_NO_PROXY, NULL, NULL);
    hr = IBackgroundCopyJob_SetProxySettings(job, BG_JOB_PROXY_USAGE_AUTODETECT, NULL, NULL);
    ok(hr == S_OK, "SetProxySettings(AUTODETECT): %#lx\n", hr);
    check_proxy(job, BG_JOB_PROXY_USAGE_AUTODETECT, NULL, NULL);
    hr = IBackgroundCopyJob_SetProxySettings(job, BG_JOB_PROXY_USAGE_PRECONFIG, NULL, NULL);
    ok(hr == S_OK, "SetProxySettings(PRECONFIG): %#lx\n", hr);
    check_proxy(job, BG_JOB_PROXY_USAGE_PRECONFIG, NULL, NULL);

    /* [doc] E_INVALIDARG: no list with OVERRIDE, a list with the other usages. */
    hr = IBackgroundCopyJob_SetProxySettings(job, BG_JOB_PROXY_USAGE_OVERRIDE, NULL, NULL);
    ok(hr == E_INVALIDARG, "SetProxySettings(OVERRIDE, NULL, NULL): %#lx\n", hr);
    hr = IBackgroundCopyJob_SetProxySettings(job, BG_JOB_PROXY_USAGE_OVERRIDE, NULL, L"<local>");
    ok(hr == E_INVALIDARG, "SetProxySettings(OVERRIDE, NULL, bypass): %#lx\n", hr);
    hr = IBackgroundCopyJob_SetProxySettings(job, BG_JOB_PROXY_USAGE_PRECONFIG, L"x", NULL);
    ok(hr == E_INVALIDARG, "SetProxySettings(PRECONFIG, list): %#lx\n", hr);
    hr = IBackgroundCopyJob_SetProxySettings(job, BG_JOB_PROXY_USAGE_PRECONFIG, NULL, L"y");
    ok(hr == E_INVALIDARG, "SetProxySettings(PRECONFIG, bypass): %#lx\n", hr);
    hr = IBackgroundCopyJob_SetProxySettings(job, BG_JOB_PROXY_USAGE_NO_PROXY, L"x", NULL);
    ok(hr == E_INVALIDARG, "SetProxySettings(NO_PROXY, list): %#lx\n", hr);
    hr = IBackgroundCopyJob_SetProxySettings(job, BG_JOB_PROXY_USAGE_AUTODETECT, L"x", L"y");
    ok(hr == E_INVALIDARG, "SetProxySettings(AUTODETECT, lists): %#lx\n", hr);
    /* [doc] E_NOTIMPL for an undefined usage. */
    hr = IBackgroundCopyJob_SetProxySettings(job, BG_JOB_PROXY_USAGE_AUTODETECT + 1, NULL, NULL);
    ok(hr == E_NOTIMPL, "SetProxySettings(4): %#lx\n", hr);
    hr = IBackgroundCopyJob_SetProxySettings(job, 5, L"x", NULL);
    ok(hr == E_NOTIMPL || broken(hr == E_INVALIDARG), "SetProxySettings(5, list): %#lx\n", hr);
    check_proxy(job, BG_JOB_PROXY_USAGE_PRECONFIG, NULL, NULL);

    /* Over-long lists.  behaviour.md says 4000 characters, the message text of
     * interfaces.md §8.1 says 32000: both must refuse 32001. */
    big = make_string(L"proxy", 'p', 32001);
    hr = IBackgroundCopyJob_SetProxySettings(job, BG_JOB_PROXY_USAGE_OVERRIDE, big, NULL);
    ok(hr == BG_E_PROXY_LIST_TOO_LARGE, "SetProxySettings(32001-character list): %#lx\n", hr);
    hr = IBackgroundCopyJob_SetProxySettings(job, BG_JOB_PROXY_USAGE_OVERRIDE, L"proxy", big);
    ok(hr == BG_E_PROXY_BYPASS_LIST_TOO_LARGE, "SetProxySettings(32001-character bypass): %#lx\n",
            hr);
    CoTaskMemFree(big);
    big = make_string(L"proxy", 'p', 4001);
    hr = IBackgroundCopyJob_SetProxySettings(job, BG_JOB_PROXY_USAGE_OVERRIDE, big, NULL);
    ok(hr == BG_E_PROXY_LIST_TOO_LARGE || broken(hr == S_OK),
            "SetProxySettings(4001-character list): %#lx\n", hr);
    hr = IBackgroundCopyJob_SetProxySettings(job, BG_JOB_PROXY_USAGE_OVERRIDE, L"proxy", big);
    ok(hr == BG_E_PROXY_BYPASS_LIST_TOO_LARGE || broken(hr == S_OK),
            "SetProxySettings(4001-character bypass): %#lx\n", hr);
    CoTaskMemFree(big);
    big = make_string(L"proxy", 'p', 4000);
    hr = IBackgroundCopyJob_SetProxySettings(job, BG_JOB_PROXY_USAGE_OVERRIDE, big, big);
    ok(hr == S_OK, "SetProxySettings(4000-character lists): %#lx\n", hr);
    check_proxy(job, BG_JOB_PROXY_USAGE_OVERRIDE, big, big);
    CoTaskMemFree(big);

    cancel_job(job);
}

static void check_cmdline(IBackgroundCopyJob2 *job2, const WCHAR *program, const WCHAR *params,
        int line)
{
    WCHAR *got_program = (WCHAR *)0xdeadbeef, *got_params = (WCHAR *)0xdeadbeef;
    HRESULT hr;

    hr = IBackgroundCopyJob2_GetNotifyCmdLine(job2, &got_program, &got_params);
    ok_(__FILE__, line)(hr == S_OK, "GetNotifyCmdLine: %#lx\n", hr);
    if (FAILED(hr)) return;
    ok_(__FILE__, line)(str_equal(got_program, program) && str_equal(got_params, params),
            "command line %s %s, expected %s %s\n", wine_dbgstr_w(got_program),
            wine_dbgstr_w(got_params), wine_dbgstr_w(program), wine_dbgstr_w(params));
    CoTaskMemFree(got_program);
    CoTaskMemFree(got_params);
}
#define check_cmdline(job2, program, params) check_cmdline(job2, program, params, __LINE__)

/* behaviour.md §6.7. */
static void test_NotifyCmdLine(void)
{
    static const WCHAR program[] = L"C:\\windows\\system32\\cmd.exe";
    static const WCHAR params[] = L"cmd.exe /c exit 0";
    WCHAR *got_program, *got_params, *big;
    IBackgroundCopyJob2 *job2;
    IBackgroundCopyJob *job;
    HRESULT hr;

    job = create_job(L"cmdline", BG_JOB_TYPE_DOWNLOAD, NULL);
    if (!job) return;
    job2 = query(job, &IID_IBackgroundCopyJob2, "IBackgroundCopyJob2");
    if (!job2)
    {
        cancel_job(job);
        return;
    }

    /* None by default: NULL strings [inferred]. */
    got_program = got_params = NULL;
    hr = IBackgroundCopyJob2_GetNotifyCmdLine(job2, &got_program, &got_params);
    ok(hr == S_OK, "GetNotifyCmdLine: %#lx\n", hr);
    ok((!got_program || broken(got_program && !got_program[0]))
            && (!got_params || broken(got_params && !got_params[0])),
            "default command line %s %s\n", wine_dbgstr_w(got_program), wine_dbgstr_w(got_params));
    if (SUCCEEDED(hr))
    {
        CoTaskMemFree(got_program);
        CoTaskMemFree(got_params);
    }

    hr = IBackgroundCopyJob2_SetNotifyCmdLine(job2, program, params);
    ok(hr == S_OK, "SetNotifyCmdLine: %#lx\n", hr);
    check_cmdline(job2, program, params);
    hr = IBackgroundCopyJob2_SetNotifyCmdLine(job2, program, NULL);
    ok(hr == S_OK, "SetNotifyCmdLine(program, NULL): %#lx\n", hr);
    check_cmdline(job2, program, NULL);
    /* Both NULL remove it. */
    hr = IBackgroundCopyJob2_SetNotifyCmdLine(job2, NULL, NULL);
    ok(hr == S_OK, "SetNotifyCmdLine(NULL, NULL): %#lx\n", hr);
    check_cmdline(job2, NULL, NULL);
    /* Parameters without a program [inferred E_INVALIDARG]. */
    hr = IBackgroundCopyJob2_SetNotifyCmdLine(job2, NULL, params);
    ok(hr == E_INVALIDARG, "SetNotifyCmdLine(NULL, params): %#lx\n", hr);
    check_cmdline(job2, NULL, NULL);

    /* Limits [doc]: the program MAX_PATH, the parameters 4000 characters. */
    big = make_string(L"C:\\", 'p', MAX_PATH + 1);
    hr = IBackgroundCopyJob2_SetNotifyCmdLine(job2, big, NULL);
    ok(hr == BG_E_STRING_TOO_LONG, "SetNotifyCmdLine(%u-character program): %#lx\n",
            MAX_PATH + 1, hr);
    CoTaskMemFree(big);
    big = make_string(L"cmd.exe ", 'a', 4001);
    hr = IBackgroundCopyJob2_SetNotifyCmdLine(job2, program, big);
    ok(hr == BG_E_STRING_TOO_LONG, "SetNotifyCmdLine(4001-character parameters): %#lx\n", hr);
    CoTaskMemFree(big);
    big = make_string(L"cmd.exe ", 'a', 4000);
    hr = IBackgroundCopyJob2_SetNotifyCmdLine(job2, program, big);
    ok(hr == S_OK, "SetNotifyCmdLine(4000-character parameters): %#lx\n", hr);
    check_cmdline(job2, program, big);
    CoTaskMemFree(big);
    hr = IBackgroundCopyJob2_SetNotifyCmdLine(job2, NULL, NULL);
    ok(hr == S_OK, "SetNotifyCmdLine(NULL, NULL): %#lx\n", hr);

    IBackgroundCopyJob2_Release(job2);
    cancel_job(job);
}

/* Job3 ACL flags, Job4 peer caching, download time and owner token facts. */
static void test_Job3_Job4_properties(void)
{
    IBackgroundCopyJob3 *job3;
    IBackgroundCopyJob4 *job4;
    IBackgroundCopyJob *job;
    ULONG level, token_level;
    BOOL elevated, token_elevated;
    DWORD flags;
    HRESULT hr;

    job = create_job(L"job3-job4", BG_JOB_TYPE_DOWNLOAD, NULL);
    if (!job) return;

    if ((job3 = query(job, &IID_IBackgroundCopyJob3, "IBackgroundCopyJob3")))
    {
        flags = 0xdead;
        hr = IBackgroundCopyJob3_GetFileACLFlags(job3, &flags);
        ok(hr == S_OK, "GetFileACLFlags: %#lx\n", hr);
        ok(flags == 0, "ACL flags %#lx\n", flags);
        hr = IBackgroundCopyJob3_SetFileACLFlags(job3, BG_COPY_FILE_ALL);
        ok(hr == S_OK, "SetFileACLFlags(BG_COPY_FILE_ALL): %#lx\n", hr);
        flags = 0;
        IBackgroundCopyJob3_GetFileACLFlags(job3, &flags);
        ok(flags == BG_COPY_FILE_ALL, "ACL flags %#lx\n", flags);
        /* [doc] An undefined bit is E_INVALIDARG, and nothing changes. */
        hr = IBackgroundCopyJob3_SetFileACLFlags(job3, 0x10);
        ok(hr == E_INVALIDARG, "SetFileACLFlags(0x10): %#lx\n", hr);
        hr = IBackgroundCopyJob3_SetFileACLFlags(job3, BG_COPY_FILE_OWNER | 0x100);
        ok(hr == E_INVALIDARG, "SetFileACLFlags(0x101): %#lx\n", hr);
        flags = 0;
        IBackgroundCopyJob3_GetFileACLFlags(job3, &flags);
        ok(flags == BG_COPY_FILE_ALL, "ACL flags changed to %#lx\n", flags);
        hr = IBackgroundCopyJob3_SetFileACLFlags(job3, BG_COPY_FILE_OWNER | BG_COPY_FILE_DACL);
        ok(hr == S_OK, "SetFileACLFlags(OWNER | DACL): %#lx\n", hr);
        flags = 0;
        IBackgroundCopyJob3_GetFileACLFlags(job3, &flags);
        ok(flags == (BG_COPY_FILE_OWNER | BG_COPY_FILE_DACL), "ACL flags %#lx\n", flags);
        hr = IBackgroundCopyJob3_SetFileACLFlags(job3, 0);
        ok(hr == S_OK, "SetFileACLFlags(0): %#lx\n", hr);
        IBackgroundCopyJob3_Release(job3);
    }

    if ((job4 = query(job, &IID_IBackgroundCopyJob4, "IBackgroundCopyJob4")))
    {
        /* [inferred] No peer caching flags on a new job. */
        flags = 0xdead;
        hr = IBackgroundCopyJob4_GetPeerCachingFlags(job4, &flags);
        ok(hr == S_OK, "GetPeerCachingFlags: %#lx\n", hr);
        ok(flags == 0, "peer caching flags %#lx\n", flags);
        hr = IBackgroundCopyJob4_SetPeerCachingFlags(job4, BG_JOB_DISABLE_BRANCH_CACHE);
        ok(hr == S_OK, "SetPeerCachingFlags(BG_JOB_DISABLE_BRANCH_CACHE): %#lx\n", hr);
        flags = 0;
        IBackgroundCopyJob4_GetPeerCachingFlags(job4, &flags);
        ok(flags == BG_JOB_DISABLE_BRANCH_CACHE, "peer caching flags %#lx\n", flags);
        /* An undefined bit: E_INVALIDARG [inferred], flags unchanged. */
        hr = IBackgroundCopyJob4_SetPeerCachingFlags(job4, 0x8);
        ok(hr == E_INVALIDARG || broken(hr == E_NOTIMPL), "SetPeerCachingFlags(8): %#lx\n", hr);
        flags = 0;
        IBackgroundCopyJob4_GetPeerCachingFlags(job4, &flags);
        ok(flags == BG_JOB_DISABLE_BRANCH_CACHE, "peer caching flags changed to %#lx\n", flags);
        hr = IBackgroundCopyJob4_SetPeerCachingFlags(job4, 0);
        ok(hr == S_OK, "SetPeerCachingFlags(0): %#lx\n", hr);

        /* 90 days unless the MaxDownloadTime policy says otherwise [doc]. */
        level = 0;
        hr = IBackgroundCopyJob4_GetMaximumDownloadTime(job4, &level);
        ok(hr == S_OK, "GetMaximumDownloadTime: %#lx\n", hr);
        ok(level == 7776000 || broken(level != 0), "maximum download time %lu\n", level);
        hr = IBackgroundCopyJob4_SetMaximumDownloadTime(job4, 3600);
        ok(hr == S_OK, "SetMaximumDownloadTime(3600): %#lx\n", hr);
        level = 0;
        IBackgroundCopyJob4_GetMaximumDownloadTime(job4, &level);
        ok(level == 3600, "maximum download time %lu\n", level);
        hr = IBackgroundCopyJob4_SetMaximumDownloadTime(job4, 0);
        ok(hr == S_OK, "SetMaximumDownloadTime(0): %#lx\n", hr);
        level = 0xdead;
        IBackgroundCopyJob4_GetMaximumDownloadTime(job4, &level);
        ok(level == 0, "maximum download time %lu\n", level);

        /* The creator's token [doc-derived]. */
        level = 0xdead;
        hr = IBackgroundCopyJob4_GetOwnerIntegrityLevel(job4, &level);
        ok(hr == S_OK, "GetOwnerIntegrityLevel: %#lx\n", hr);
        if (get_token_integrity(&token_level))
            ok(level == token_level, "owner integrity %#lx, token %#lx\n", level, token_level);
        elevated = 0xdead;
        hr = IBackgroundCopyJob4_GetOwnerElevationState(job4, &elevated);
        ok(hr == S_OK, "GetOwnerElevationState: %#lx\n", hr);
        if (get_token_elevation(&token_elevated))
            ok(!elevated == !token_elevated, "owner elevation %d, token %d\n", elevated,
                    token_elevated);
        IBackgroundCopyJob4_Release(job4);
    }

    cancel_job(job);
}

/* behaviour.md §9.1: the owner is the caller's user SID. */
static void test_Owner(void)
{
    IBackgroundCopyJob *job;
    WCHAR *owner = NULL, *sid;
    HRESULT hr;

    job = create_job(L"owner", BG_JOB_TYPE_DOWNLOAD, NULL);
    if (!job) return;
    hr = IBackgroundCopyJob_GetOwner(job, &owner);
    ok(hr == S_OK, "GetOwner: %#lx\n", hr);
    sid = get_user_sid_string();
    ok(sid != NULL, "cannot read the token's user SID\n");
    ok(str_equal(owner, sid), "owner %s, caller %s\n", wine_dbgstr_w(owner), wine_dbgstr_w(sid));
    LocalFree(sid);
    CoTaskMemFree(owner);
    cancel_job(job);
}

/* behaviour.md §7.5. */
static void test_Times(void)
{
    BG_JOB_TIMES times, later;
    FILETIME before, after;
    ULONGLONG creation, modification, slack = 10ull * 60 * 10000000;  /* 10 minutes */
    IBackgroundCopyJob *job;
    HRESULT hr;

    GetSystemTimeAsFileTime(&before);
    job = create_job(L"times", BG_JOB_TYPE_DOWNLOAD, NULL);
    if (!job) return;
    GetSystemTimeAsFileTime(&after);

    memset(&times, 0xcc, sizeof(times));
    hr = IBackgroundCopyJob_GetTimes(job, &times);
    ok(hr == S_OK, "GetTimes: %#lx\n", hr);
    creation = filetime_to_u64(&times.CreationTime);
    modification = filetime_to_u64(&times.ModificationTime);
    /* Same machine, same clock: only a sanity range, not a timing assertion. */
    ok(creation + slack >= filetime_to_u64(&before) && creation <= filetime_to_u64(&after) + slack,
            "creation time %s outside [%s, %s]\n", wine_dbgstr_longlong(creation),
            wine_dbgstr_longlong(filetime_to_u64(&before)),
            wine_dbgstr_longlong(filetime_to_u64(&after)));
    ok(creation <= modification, "creation %s after modification %s\n",
            wine_dbgstr_longlong(creation), wine_dbgstr_longlong(modification));
    /* [inferred] all zero until the job is transferred. */
    ok(!times.TransferCompletionTime.dwLowDateTime && !times.TransferCompletionTime.dwHighDateTime,
            "transfer completion time %s\n",
            wine_dbgstr_longlong(filetime_to_u64(&times.TransferCompletionTime)));

    /* A property change moves the modification time, never backwards. */
    hr = IBackgroundCopyJob_SetDescription(job, L"modified");
    ok(hr == S_OK, "SetDescription: %#lx\n", hr);
    memset(&later, 0xcc, sizeof(later));
    hr = IBackgroundCopyJob_GetTimes(job, &later);
    ok(hr == S_OK, "GetTimes: %#lx\n", hr);
    ok(filetime_to_u64(&later.CreationTime) == creation, "creation time changed\n");
    ok(filetime_to_u64(&later.ModificationTime) >= modification, "modification time went back\n");

    cancel_job(job);
}

/* The interfaces of a job object, and that they lead back to it. */
static void test_interfaces(void)
{
    static const struct
    {
        const IID *iid;
        const char *name;
    }
    interfaces[] =
    {
        { &IID_IBackgroundCopyJob2, "IBackgroundCopyJob2" },
        { &IID_IBackgroundCopyJob3, "IBackgroundCopyJob3" },
        { &IID_IBackgroundCopyJob4, "IBackgroundCopyJob4" },
        { &IID_IBackgroundCopyJob5, "IBackgroundCopyJob5" },
        { &IID_IBackgroundCopyJobHttpOptions, "IBackgroundCopyJobHttpOptions" },
        { &IID_IBackgroundCopyJobHttpOptions2, "IBackgroundCopyJobHttpOptions2" },
        { &IID_IBackgroundCopyJobHttpOptions3, "IBackgroundCopyJobHttpOptions3" },
    };
    static const struct
    {
        const IID *iid;
        const char *name;
    }
    foreign[] =
    {
        { &IID_IBackgroundCopyManager, "IBackgroundCopyManager" },
        { &IID_IBackgroundCopyFile, "IBackgroundCopyFile" },
        { &IID_IEnumBackgroundCopyJobs, "IEnumBackgroundCopyJobs" },
        { &IID_IBackgroundCopyCallback, "IBackgroundCopyCallback" },
        { &IID_IBackgroundCopyError, "IBackgroundCopyError" },
    };
    IBackgroundCopyJob *job, *back;
    IUnknown *unk, *other;
    GUID id, back_id;
    unsigned int i;
    HRESULT hr;

    job = create_job(L"interfaces", BG_JOB_TYPE_DOWNLOAD, &id);
    if (!job) return;

    unk = NULL;
    hr = IBackgroundCopyJob_QueryInterface(job, &IID_IUnknown, (void **)&unk);
    ok(hr == S_OK && unk, "QI(IUnknown): %#lx\n", hr);
    if (unk) IUnknown_Release(unk);
    back = NULL;
    hr = IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJob, (void **)&back);
    ok(hr == S_OK && back, "QI(IBackgroundCopyJob): %#lx\n", hr);
    if (back) IBackgroundCopyJob_Release(back);

    for (i = 0; i < ARRAY_SIZE(interfaces); i++)
    {
        winetest_push_context("%s", interfaces[i].name);
        unk = query(job, interfaces[i].iid, interfaces[i].name);
        if (unk)
        {
            ok(same_object(unk, (IUnknown *)job), "not the job's object\n");
            back = NULL;
            hr = IUnknown_QueryInterface(unk, &IID_IBackgroundCopyJob, (void **)&back);
            ok(hr == S_OK, "QI back to IBackgroundCopyJob: %#lx\n", hr);
            if (back)
            {
                memset(&back_id, 0, sizeof(back_id));
                hr = IBackgroundCopyJob_GetId(back, &back_id);
                ok(hr == S_OK && IsEqualGUID(&back_id, &id), "GetId through it: %#lx, %s\n",
                        hr, wine_dbgstr_guid(&back_id));
                IBackgroundCopyJob_Release(back);
            }
            /* Each interface reaches every other one. */
            other = NULL;
            hr = IUnknown_QueryInterface(unk, interfaces[(i + 1) % ARRAY_SIZE(interfaces)].iid,
                    (void **)&other);
            ok(hr == S_OK || broken(hr == E_NOINTERFACE), "QI to %s: %#lx\n",
                    interfaces[(i + 1) % ARRAY_SIZE(interfaces)].name, hr);
            if (other) IUnknown_Release(other);
            IUnknown_Release(unk);
        }
        winetest_pop_context();
    }

    for (i = 0; i < ARRAY_SIZE(foreign); i++)
    {
        unk = (IUnknown *)0xdeadbeef;
        hr = IBackgroundCopyJob_QueryInterface(job, foreign[i].iid, (void **)&unk);
        ok(hr == E_NOINTERFACE, "QI(%s): %#lx\n", foreign[i].name, hr);
        ok(unk == NULL, "QI(%s) failure left %p\n", foreign[i].name, unk);
    }

    cancel_job(job);
}

static void check_headers(IBackgroundCopyJobHttpOptions *options, HRESULT expect_hr,
        const WCHAR *expect, int line)
{
    WCHAR *headers = NULL;
    HRESULT hr;

    hr = IBackgroundCopyJobHttpOptions_GetCustomHeaders(options, &headers);
    ok_(__FILE__, line)(hr == expect_hr, "GetCustomHeaders: %#lx, expected %#lx\n", hr,
            expect_hr);
    ok_(__FILE__, line)(str_equal(headers, expect), "custom headers %s, expected %s\n",
            wine_dbgstr_w(headers),
            wine_dbgstr_w(expect));
    CoTaskMemFree(headers);
}
#define check_headers(options, hr, expect) check_headers(options, hr, expect, __LINE__)

/* behaviour.md §7.1 CustomHeaders and SecurityFlags rows, §12 item 11. */
static void test_HttpOptions(void)
{
    IBackgroundCopyJobHttpOptions2 *options2;
    IBackgroundCopyJobHttpOptions *options;
    BG_JOB_PRIORITY priority;
    IBackgroundCopyJob *job;
    WCHAR *method, *big;
    ULONG flags;
    HRESULT hr;

    job = create_job(L"httpoptions", BG_JOB_TYPE_DOWNLOAD, NULL);
    if (!job) return;
    options = query(job, &IID_IBackgroundCopyJobHttpOptions, "IBackgroundCopyJobHttpOptions");
    if (!options)
    {
        cancel_job(job);
        return;
    }

    /* [test] No headers: S_FALSE and NULL; a set replaces, NULL clears. */
    check_headers(options, S_FALSE, NULL);
    hr = IBackgroundCopyJobHttpOptions_SetCustomHeaders(options, L"Wine: test\r\n");
    ok(hr == S_OK, "SetCustomHeaders: %#lx\n", hr);
    check_headers(options, S_OK, L"Wine: test\r\n");
    hr = IBackgroundCopyJobHttpOptions_SetCustomHeaders(options, L"X-One: 1\r\nX-Two: 2\r\n");
    ok(hr == S_OK, "SetCustomHeaders: %#lx\n", hr);
    check_headers(options, S_OK, L"X-One: 1\r\nX-Two: 2\r\n");
    hr = IBackgroundCopyJobHttpOptions_SetCustomHeaders(options, NULL);
    ok(hr == S_OK, "SetCustomHeaders(NULL): %#lx\n", hr);
    check_headers(options, S_FALSE, NULL);
    /* Far beyond the 16384-character limit [inferred from the documented limit]. */
    big = make_string(L"X-Long: ", 'h', 20000);
    big[19998] = '\r';
    big[19999] = '\n';
    hr = IBackgroundCopyJobHttpOptions_SetCustomHeaders(options, big);
    ok(hr == BG_E_STRING_TOO_LONG || broken(hr == E_INVALIDARG),
            "SetCustomHeaders(20000 characters): %#lx\n", hr);
    CoTaskMemFree(big);
    check_headers(options, S_FALSE, NULL);

    /* [test] Security flags start at 0 and 0 is accepted. */
    flags = 0xdead;
    hr = IBackgroundCopyJobHttpOptions_GetSecurityFlags(options, &flags);
    ok(hr == S_OK, "GetSecurityFlags: %#lx\n", hr);
    ok(flags == 0, "security flags %#lx\n", flags);
    hr = IBackgroundCopyJobHttpOptions_SetSecurityFlags(options, 0);
    ok(hr == S_OK, "SetSecurityFlags(0): %#lx\n", hr);
    hr = IBackgroundCopyJobHttpOptions_SetSecurityFlags(options,
            BG_SSL_IGNORE_UNKNOWN_CA | BG_SSL_ENABLE_CRL_CHECK | BG_HTTP_REDIRECT_POLICY_DISALLOW);
    ok(hr == S_OK, "SetSecurityFlags: %#lx\n", hr);
    flags = 0;
    IBackgroundCopyJobHttpOptions_GetSecurityFlags(options, &flags);
    ok(flags == (BG_SSL_IGNORE_UNKNOWN_CA | BG_SSL_ENABLE_CRL_CHECK
            | BG_HTTP_REDIRECT_POLICY_DISALLOW), "security flags %#lx\n", flags);
    /* [doc] E_NOTIMPL for what is not supported: 0x300 is no redirect policy. */
    hr = IBackgroundCopyJobHttpOptions_SetSecurityFlags(options,
            BG_HTTP_REDIRECT_POLICY_ALLOW_REPORT | BG_HTTP_REDIRECT_POLICY_DISALLOW);
    ok(hr == E_NOTIMPL || broken(hr == E_INVALIDARG), "SetSecurityFlags(0x300): %#lx\n", hr);
    flags = 0;
    IBackgroundCopyJobHttpOptions_GetSecurityFlags(options, &flags);
    ok(flags == (BG_SSL_IGNORE_UNKNOWN_CA | BG_SSL_ENABLE_CRL_CHECK
            | BG_HTTP_REDIRECT_POLICY_DISALLOW), "security flags changed to %#lx\n", flags);
    hr = IBackgroundCopyJobHttpOptions_SetSecurityFlags(options,
            BG_HTTP_REDIRECT_POLICY_ALLOW_REPORT | BG_HTTP_REDIRECT_POLICY_ALLOW_HTTPS_TO_HTTP);
    ok(hr == S_OK, "SetSecurityFlags(ALLOW_REPORT | ALLOW_HTTPS_TO_HTTP): %#lx\n", hr);

    /* No certificate to remove [inferred S_FALSE]. */
    hr = IBackgroundCopyJobHttpOptions_RemoveClientCertificate(options);
    ok(hr == S_FALSE || broken(hr == S_OK), "RemoveClientCertificate: %#lx\n", hr);

    if ((options2 = query(job, &IID_IBackgroundCopyJobHttpOptions2,
            "IBackgroundCopyJobHttpOptions2")))
    {
        /* [doc] GET for downloads; a custom method makes the job a foreground job. */
        method = NULL;
        hr = IBackgroundCopyJobHttpOptions2_GetHttpMethod(options2, &method);
        ok(hr == S_OK, "GetHttpMethod: %#lx\n", hr);
        ok(str_equal(method, L"GET"), "method %s\n", wine_dbgstr_w(method));
        CoTaskMemFree(method);
        hr = IBackgroundCopyJobHttpOptions2_SetHttpMethod(options2, L"POST");
        ok(hr == S_OK, "SetHttpMethod: %#lx\n", hr);
        method = NULL;
        hr = IBackgroundCopyJobHttpOptions2_GetHttpMethod(options2, &method);
        ok(hr == S_OK, "GetHttpMethod: %#lx\n", hr);
        ok(str_equal(method, L"POST"), "method %s\n", wine_dbgstr_w(method));
        CoTaskMemFree(method);
        priority = 0xdead;
        IBackgroundCopyJob_GetPriority(job, &priority);
        ok(priority == BG_JOB_PRIORITY_FOREGROUND, "priority %d with a custom method\n",
                priority);
        IBackgroundCopyJobHttpOptions2_Release(options2);
    }

    IBackgroundCopyJobHttpOptions_Release(options);
    cancel_job(job);

    /* [doc] BITS_POST for uploads. */
    job = create_job(L"httpoptions upload", BG_JOB_TYPE_UPLOAD, NULL);
    if (!job) return;
    if ((options2 = query(job, &IID_IBackgroundCopyJobHttpOptions2,
            "IBackgroundCopyJobHttpOptions2")))
    {
        method = NULL;
        hr = IBackgroundCopyJobHttpOptions2_GetHttpMethod(options2, &method);
        ok(hr == S_OK, "GetHttpMethod: %#lx\n", hr);
        ok(str_equal(method, L"BITS_POST"), "upload method %s\n", wine_dbgstr_w(method));
        CoTaskMemFree(method);
        IBackgroundCopyJobHttpOptions2_Release(options2);
    }
    cancel_job(job);
}

static HRESULT get_property(IBackgroundCopyJob5 *job5, BITS_JOB_PROPERTY_ID id,
        BITS_JOB_PROPERTY_VALUE *value)
{
    memset(value, 0xcc, sizeof(*value));
    return IBackgroundCopyJob5_GetProperty(job5, id, value);
}

/* behaviour.md §7.4. */
static void test_Job5_properties(void)
{
    static const GUID some_clsid =
            { 0x12345678, 0x9abc, 0x4def, { 0x80, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77 } };
    BITS_JOB_PROPERTY_VALUE value;
    IBackgroundCopyJob5 *job5;
    IBackgroundCopyJob *job;
    WCHAR *local;
    HRESULT hr;

    job = create_job(L"job5", BG_JOB_TYPE_DOWNLOAD, NULL);
    if (!job) return;
    job5 = query(job, &IID_IBackgroundCopyJob5, "IBackgroundCopyJob5");
    if (!job5)
    {
        cancel_job(job);
        return;
    }

    /* [test] COST_FLAGS takes a transfer policy; it reads back. */
    value.Dword = BITS_COST_STATE_TRANSFER_ALWAYS;
    hr = IBackgroundCopyJob5_SetProperty(job5, BITS_JOB_PROPERTY_ID_COST_FLAGS, value);
    ok(hr == S_OK, "SetProperty(COST_FLAGS, ALWAYS): %#lx\n", hr);
    hr = get_property(job5, BITS_JOB_PROPERTY_ID_COST_FLAGS, &value);
    ok(hr == S_OK, "GetProperty(COST_FLAGS): %#lx\n", hr);
    ok(value.Dword == BITS_COST_STATE_TRANSFER_ALWAYS, "cost flags %#lx\n", value.Dword);
    value.Dword = BITS_COST_STATE_TRANSFER_STANDARD;
    hr = IBackgroundCopyJob5_SetProperty(job5, BITS_JOB_PROPERTY_ID_COST_FLAGS, value);
    ok(hr == S_OK, "SetProperty(COST_FLAGS, STANDARD): %#lx\n", hr);
    hr = get_property(job5, BITS_JOB_PROPERTY_ID_COST_FLAGS, &value);
    ok(hr == S_OK && value.Dword == BITS_COST_STATE_TRANSFER_STANDARD, "cost flags %#lx, %#lx\n",
            hr, value.Dword);

    /* Defaults [doc]: no notification class, no dynamic content, not high performance. */
    hr = get_property(job5, BITS_JOB_PROPERTY_NOTIFICATION_CLSID, &value);
    ok(hr == S_OK, "GetProperty(NOTIFICATION_CLSID): %#lx\n", hr);
    ok(IsEqualGUID(&value.ClsID, &GUID_NULL), "notification CLSID %s\n",
            wine_dbgstr_guid(&value.ClsID));
    hr = get_property(job5, BITS_JOB_PROPERTY_DYNAMIC_CONTENT, &value);
    ok(hr == S_OK && value.Enable == FALSE, "GetProperty(DYNAMIC_CONTENT): %#lx, %d\n", hr,
            value.Enable);
    hr = get_property(job5, BITS_JOB_PROPERTY_HIGH_PERFORMANCE, &value);
    ok(hr == S_OK && value.Enable == FALSE, "GetProperty(HIGH_PERFORMANCE): %#lx, %d\n", hr,
            value.Enable);
    /* BITS 10.1 properties: 500 ms between notifications, no on-demand mode. */
    hr = get_property(job5, BITS_JOB_PROPERTY_MINIMUM_NOTIFICATION_INTERVAL_MS, &value);
    ok((hr == S_OK && value.Dword == 500) || broken(FAILED(hr)),
            "GetProperty(MINIMUM_NOTIFICATION_INTERVAL_MS): %#lx, %lu\n", hr, value.Dword);
    hr = get_property(job5, BITS_JOB_PROPERTY_ON_DEMAND_MODE, &value);
    ok((hr == S_OK && value.Enable == FALSE) || broken(FAILED(hr)),
            "GetProperty(ON_DEMAND_MODE): %#lx, %d\n", hr, value.Enable);

    /* Round trips of each union member: GUID, BOOL, UINT64, DWORD. */
    value.ClsID = some_clsid;
    hr = IBackgroundCopyJob5_SetProperty(job5, BITS_JOB_PROPERTY_NOTIFICATION_CLSID, value);
    ok(hr == S_OK, "SetProperty(NOTIFICATION_CLSID): %#lx\n", hr);
    hr = get_property(job5, BITS_JOB_PROPERTY_NOTIFICATION_CLSID, &value);
    ok(hr == S_OK && IsEqualGUID(&value.ClsID, &some_clsid), "notification CLSID %#lx, %s\n", hr,
            wine_dbgstr_guid(&value.ClsID));
    value.ClsID = GUID_NULL;
    hr = IBackgroundCopyJob5_SetProperty(job5, BITS_JOB_PROPERTY_NOTIFICATION_CLSID, value);
    ok(hr == S_OK, "SetProperty(NOTIFICATION_CLSID, GUID_NULL): %#lx\n", hr);
    hr = get_property(job5, BITS_JOB_PROPERTY_NOTIFICATION_CLSID, &value);
    ok(hr == S_OK && IsEqualGUID(&value.ClsID, &GUID_NULL), "notification CLSID %#lx, %s\n", hr,
            wine_dbgstr_guid(&value.ClsID));

    /* High performance is allowed before any file is added. */
    value.Enable = TRUE;
    hr = IBackgroundCopyJob5_SetProperty(job5, BITS_JOB_PROPERTY_HIGH_PERFORMANCE, value);
    ok(hr == S_OK, "SetProperty(HIGH_PERFORMANCE): %#lx\n", hr);
    hr = get_property(job5, BITS_JOB_PROPERTY_HIGH_PERFORMANCE, &value);
    ok(hr == S_OK && value.Enable == TRUE, "high performance %#lx, %d\n", hr, value.Enable);

    /* Allowed before the first Resume [doc]. */
    value.Uint64 = 0x123456789ull;
    hr = IBackgroundCopyJob5_SetProperty(job5, BITS_JOB_PROPERTY_MAX_DOWNLOAD_SIZE, value);
    ok(hr == S_OK, "SetProperty(MAX_DOWNLOAD_SIZE): %#lx\n", hr);
    hr = get_property(job5, BITS_JOB_PROPERTY_MAX_DOWNLOAD_SIZE, &value);
    ok(hr == S_OK && value.Uint64 == 0x123456789ull, "maximum download size %#lx, %s\n", hr,
            wine_dbgstr_longlong(value.Uint64));

    value.Dword = 1000;
    hr = IBackgroundCopyJob5_SetProperty(job5, BITS_JOB_PROPERTY_MINIMUM_NOTIFICATION_INTERVAL_MS,
            value);
    ok(hr == S_OK || broken(FAILED(hr)), "SetProperty(MINIMUM_NOTIFICATION_INTERVAL_MS): %#lx\n",
            hr);
    if (hr == S_OK)
    {
        hr = get_property(job5, BITS_JOB_PROPERTY_MINIMUM_NOTIFICATION_INTERVAL_MS, &value);
        ok(hr == S_OK && value.Dword == 1000, "notification interval %#lx, %lu\n", hr,
                value.Dword);
    }

    /* An id that does not exist: BG_E_UNKNOWN_PROPERTY_ID [inferred from the code's name]; a
     * proxy without a default arm for the union would fail with an RPC error instead. */
    value.Dword = 0;
    hr = IBackgroundCopyJob5_SetProperty(job5, 6, value);
    ok(hr == BG_E_UNKNOWN_PROPERTY_ID || broken(FAILED(hr)), "SetProperty(6): %#lx\n", hr);

    /* Once a file is in the job, high performance is frozen: BG_E_READ_ONLY_PROPERTY_AFTER_ADDFILE
     * [inferred from the code's name, behaviour.md §7.4]. */
    local = temp_path(L"job5-local.txt");
    hr = IBackgroundCopyJob_AddFile(job, L"http://example.invalid/job5.txt", local);
    ok(hr == S_OK, "AddFile: %#lx\n", hr);
    CoTaskMemFree(local);
    if (hr == S_OK)
    {
        value.Enable = FALSE;
        hr = IBackgroundCopyJob5_SetProperty(job5, BITS_JOB_PROPERTY_HIGH_PERFORMANCE, value);
        ok(hr == BG_E_READ_ONLY_PROPERTY_AFTER_ADDFILE || broken(FAILED(hr)),
                "SetProperty(HIGH_PERFORMANCE) after AddFile: %#lx\n", hr);
    }

    IBackgroundCopyJob5_Release(job5);
    cancel_job(job);

    /* Dynamic content is for downloads only [inferred from the code's name]. */
    job = create_job(L"job5 upload", BG_JOB_TYPE_UPLOAD, NULL);
    if (!job) return;
    if ((job5 = query(job, &IID_IBackgroundCopyJob5, "IBackgroundCopyJob5")))
    {
        value.Enable = TRUE;
        hr = IBackgroundCopyJob5_SetProperty(job5, BITS_JOB_PROPERTY_DYNAMIC_CONTENT, value);
        ok(hr == BG_E_PROPERTY_SUPPORTED_FOR_DOWNLOAD_JOBS_ONLY || broken(FAILED(hr)),
                "SetProperty(DYNAMIC_CONTENT) on an upload job: %#lx\n", hr);
        IBackgroundCopyJob5_Release(job5);
    }
    cancel_job(job);
}

/* behaviour.md §2.1, §3.2 and gaps G1 (setters in a final state) and G14 (getters). */
static void test_Cancel(void)
{
    BITS_JOB_PROPERTY_VALUE value;
    IBackgroundCopyJobHttpOptions *options;
    IBackgroundCopyJob2 *job2;
    IBackgroundCopyJob3 *job3;
    IBackgroundCopyJob4 *job4;
    IBackgroundCopyJob5 *job5;
    IEnumBackgroundCopyFiles *files;
    IBackgroundCopyJob *job, *found;
    BG_JOB_PROGRESS progress;
    BG_JOB_PRIORITY priority;
    BG_JOB_TYPE type;
    BG_JOB_TIMES times;
    WCHAR name[256], *str, *local;
    ULONG flags;
    GUID id, got_id;
    HRESULT hr;

    make_job_name(L"cancel", name, ARRAY_SIZE(name));
    job = NULL;
    hr = IBackgroundCopyManager_CreateJob(test_manager, name, BG_JOB_TYPE_DOWNLOAD, &id, &job);
    ok(hr == S_OK, "CreateJob: %#lx\n", hr);
    if (FAILED(hr)) return;
    hr = IBackgroundCopyJob_SetDescription(job, L"before cancel");
    ok(hr == S_OK, "SetDescription: %#lx\n", hr);

    hr = IBackgroundCopyJob_Cancel(job);
    ok(hr == S_OK, "Cancel: %#lx\n", hr);
    check_state(job, BG_JOB_STATE_CANCELLED);
    /* [test] */
    hr = IBackgroundCopyJob_Cancel(job);
    ok(hr == BG_E_INVALID_STATE, "second Cancel: %#lx\n", hr);
    ok(!job_is_listed(&id), "cancelled job still enumerated\n");

    /* [doc] State changes. */
    hr = IBackgroundCopyJob_Resume(job);
    ok(hr == BG_E_INVALID_STATE, "Resume: %#lx\n", hr);
    hr = IBackgroundCopyJob_Suspend(job);
    ok(hr == BG_E_INVALID_STATE, "Suspend: %#lx\n", hr);
    hr = IBackgroundCopyJob_Complete(job);
    ok(hr == BG_E_INVALID_STATE, "Complete: %#lx\n", hr);
    check_state(job, BG_JOB_STATE_CANCELLED);

    /* [doc] for each setter's page; [inferred] for AddFile (gap G1). */
    hr = IBackgroundCopyJob_SetDisplayName(job, L"after cancel");
    ok(hr == BG_E_INVALID_STATE, "SetDisplayName: %#lx\n", hr);
    hr = IBackgroundCopyJob_SetDescription(job, L"after cancel");
    ok(hr == BG_E_INVALID_STATE, "SetDescription: %#lx\n", hr);
    hr = IBackgroundCopyJob_SetPriority(job, BG_JOB_PRIORITY_HIGH);
    ok(hr == BG_E_INVALID_STATE, "SetPriority: %#lx\n", hr);
    hr = IBackgroundCopyJob_SetNotifyFlags(job, BG_NOTIFY_JOB_TRANSFERRED);
    ok(hr == BG_E_INVALID_STATE, "SetNotifyFlags: %#lx\n", hr);
    hr = IBackgroundCopyJob_SetMinimumRetryDelay(job, 60);
    ok(hr == BG_E_INVALID_STATE, "SetMinimumRetryDelay: %#lx\n", hr);
    hr = IBackgroundCopyJob_SetNoProgressTimeout(job, 60);
    ok(hr == BG_E_INVALID_STATE, "SetNoProgressTimeout: %#lx\n", hr);
    hr = IBackgroundCopyJob_SetProxySettings(job, BG_JOB_PROXY_USAGE_NO_PROXY, NULL, NULL);
    ok(hr == BG_E_INVALID_STATE, "SetProxySettings: %#lx\n", hr);
    local = temp_path(L"cancelled.txt");
    hr = IBackgroundCopyJob_AddFile(job, L"http://example.invalid/cancelled.txt", local);
    ok(hr == BG_E_INVALID_STATE, "AddFile: %#lx\n", hr);
    CoTaskMemFree(local);

    if ((job2 = query(job, &IID_IBackgroundCopyJob2, "IBackgroundCopyJob2")))
    {
        hr = IBackgroundCopyJob2_SetNotifyCmdLine(job2, L"C:\\windows\\system32\\cmd.exe", NULL);
        ok(hr == BG_E_INVALID_STATE, "SetNotifyCmdLine: %#lx\n", hr);
        IBackgroundCopyJob2_Release(job2);
    }
    if ((job3 = query(job, &IID_IBackgroundCopyJob3, "IBackgroundCopyJob3")))
    {
        hr = IBackgroundCopyJob3_SetFileACLFlags(job3, BG_COPY_FILE_OWNER);
        ok(hr == BG_E_INVALID_STATE, "SetFileACLFlags: %#lx\n", hr);
        IBackgroundCopyJob3_Release(job3);
    }
    if ((job4 = query(job, &IID_IBackgroundCopyJob4, "IBackgroundCopyJob4")))
    {
        hr = IBackgroundCopyJob4_SetPeerCachingFlags(job4, BG_JOB_DISABLE_BRANCH_CACHE);
        ok(hr == BG_E_INVALID_STATE, "SetPeerCachingFlags: %#lx\n", hr);
        hr = IBackgroundCopyJob4_SetMaximumDownloadTime(job4, 60);
        ok(hr == BG_E_INVALID_STATE, "SetMaximumDownloadTime: %#lx\n", hr);
        IBackgroundCopyJob4_Release(job4);
    }
    if ((job5 = query(job, &IID_IBackgroundCopyJob5, "IBackgroundCopyJob5")))
    {
        value.Dword = BITS_COST_STATE_TRANSFER_ALWAYS;
        hr = IBackgroundCopyJob5_SetProperty(job5, BITS_JOB_PROPERTY_ID_COST_FLAGS, value);
        ok(hr == BG_E_INVALID_STATE, "SetProperty: %#lx\n", hr);
        IBackgroundCopyJob5_Release(job5);
    }
    if ((options = query(job, &IID_IBackgroundCopyJobHttpOptions, "IBackgroundCopyJobHttpOptions")))
    {
        hr = IBackgroundCopyJobHttpOptions_SetCustomHeaders(options, L"X-Late: 1\r\n");
        ok(hr == BG_E_INVALID_STATE, "SetCustomHeaders: %#lx\n", hr);
        hr = IBackgroundCopyJobHttpOptions_SetSecurityFlags(options, BG_SSL_ENABLE_CRL_CHECK);
        ok(hr == BG_E_INVALID_STATE, "SetSecurityFlags: %#lx\n", hr);
        IBackgroundCopyJobHttpOptions_Release(options);
    }

    /* Getters keep answering with the last values (gap G14). */
    memset(&got_id, 0, sizeof(got_id));
    hr = IBackgroundCopyJob_GetId(job, &got_id);
    ok(hr == S_OK && IsEqualGUID(&got_id, &id), "GetId: %#lx, %s\n", hr,
            wine_dbgstr_guid(&got_id));
    type = 0xdead;
    hr = IBackgroundCopyJob_GetType(job, &type);
    ok(hr == S_OK && type == BG_JOB_TYPE_DOWNLOAD, "GetType: %#lx, %d\n", hr, type);
    str = NULL;
    hr = IBackgroundCopyJob_GetDisplayName(job, &str);
    ok(hr == S_OK && str_equal(str, name), "GetDisplayName: %#lx, %s\n", hr, wine_dbgstr_w(str));
    CoTaskMemFree(str);
    str = NULL;
    hr = IBackgroundCopyJob_GetDescription(job, &str);
    ok(hr == S_OK && str_equal(str, L"before cancel"), "GetDescription: %#lx, %s\n", hr,
            wine_dbgstr_w(str));
    CoTaskMemFree(str);
    str = NULL;
    hr = IBackgroundCopyJob_GetOwner(job, &str);
    ok(hr == S_OK && str && str[0] == 'S', "GetOwner: %#lx, %s\n", hr, wine_dbgstr_w(str));
    CoTaskMemFree(str);
    hr = IBackgroundCopyJob_GetProgress(job, &progress);
    ok(hr == S_OK && progress.FilesTotal == 0, "GetProgress: %#lx, %lu files\n", hr,
            progress.FilesTotal);
    hr = IBackgroundCopyJob_GetTimes(job, &times);
    ok(hr == S_OK, "GetTimes: %#lx\n", hr);
    priority = 0xdead;
    hr = IBackgroundCopyJob_GetPriority(job, &priority);
    ok(hr == S_OK && priority == BG_JOB_PRIORITY_NORMAL, "GetPriority: %#lx, %d\n", hr, priority);
    flags = 0xdead;
    hr = IBackgroundCopyJob_GetNotifyFlags(job, &flags);
    ok(hr == S_OK && flags == (BG_NOTIFY_JOB_TRANSFERRED | BG_NOTIFY_JOB_ERROR),
            "GetNotifyFlags: %#lx, %#lx\n", hr, flags);
    files = NULL;
    hr = IBackgroundCopyJob_EnumFiles(job, &files);
    ok(hr == S_OK, "EnumFiles: %#lx\n", hr);
    if (files) IEnumBackgroundCopyFiles_Release(files);

    /* The id is gone from the manager [doc/inferred]. */
    found = NULL;
    hr = IBackgroundCopyManager_GetJob(test_manager, &id, &found);
    ok(hr == BG_E_NOT_FOUND, "GetJob(cancelled): %#lx\n", hr);
    if (found) IBackgroundCopyJob_Release(found);

    IBackgroundCopyJob_Release(job);
}

START_TEST(job)
{
    if (!bits_test_init()) return;
    test_defaults();
    test_DisplayName();
    test_Description();
    test_Priority();
    test_NotifyFlags();
    test_NotifyInterface();
    test_RetryDelay_and_Timeouts();
    test_ProxySettings();
    test_NotifyCmdLine();
    test_Job3_Job4_properties();
    test_Owner();
    test_Times();
    test_interfaces();
    test_HttpOptions();
    test_Job5_properties();
    test_Cancel();
    bits_test_cleanup();
}
