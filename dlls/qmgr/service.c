/* The BITS service: ServiceMain, run by svchost, publishes the manager class objects for
 * every BackgroundCopyManager CLSID until the service control manager stops it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#include "qmgr_private.h"

DEFAULT_DEBUG_CHANNEL(qmgr);

static SERVICE_STATUS_HANDLE status_handle;
static SERVICE_STATUS status;
static HANDLE stop_event;

static void set_service_state(DWORD state, DWORD exit_code)
{
    status.dwServiceType = SERVICE_WIN32_SHARE_PROCESS;
    status.dwCurrentState = state;
    status.dwControlsAccepted = state == SERVICE_RUNNING
        ? SERVICE_ACCEPT_STOP | SERVICE_ACCEPT_SHUTDOWN : 0;
    status.dwWin32ExitCode = exit_code;
    status.dwServiceSpecificExitCode = 0;
    status.dwCheckPoint = 0;
    status.dwWaitHint = state == SERVICE_RUNNING || state == SERVICE_STOPPED ? 0 : 10000;
    if (!SetServiceStatus(status_handle, &status))
        WARN("SetServiceStatus(%lu) failed, error %lu\n", state, GetLastError());
}

static DWORD WINAPI service_handler(DWORD control, DWORD event_type, void *event_data,
                                    void *context)
{
    (void)event_type; (void)event_data; (void)context;
    TRACE("control %lu\n", control);
    switch (control)
    {
    case SERVICE_CONTROL_STOP:
    case SERVICE_CONTROL_SHUTDOWN:
        set_service_state(SERVICE_STOP_PENDING, NO_ERROR);
        SetEvent(stop_event);
        return NO_ERROR;
    case SERVICE_CONTROL_INTERROGATE:
        return NO_ERROR;
    default:
        return ERROR_CALL_NOT_IMPLEMENTED;
    }
}

/* Registers the class factory for every manager CLSID; on failure revokes what it did. */
static HRESULT register_class_objects(DWORD *cookies)
{
    unsigned int i;
    HRESULT hr = S_OK;

    for (i = 0; i < MANAGER_CLASS_COUNT; i++)
    {
        hr = CoRegisterClassObject(manager_classes[i].clsid, (IUnknown *)&manager_factory,
                                   CLSCTX_LOCAL_SERVER, REGCLS_MULTIPLEUSE, &cookies[i]);
        if (FAILED(hr))
        {
            ERR("cannot register %s, hr %#lx\n", debugstr_guid(manager_classes[i].clsid), hr);
            break;
        }
    }
    if (FAILED(hr))
        while (i--) CoRevokeClassObject(cookies[i]);
    return hr;
}

/* ---- Pinned interface registrations: a workaround for Wine's rpcrt4 ----
 *
 * Wine's COM registers an interface with RPC when the first stub of that IID appears in the
 * process and unregisters it, waiting for the calls on it to end, when the last one goes.
 * That wait (RpcServerUnregisterIf) can miss the wake-up of a call that ends at the same
 * moment and then never returns: a client that releases, say, its last file enumerator right
 * after a call on it hangs for good, and so does the service's RPC thread.  It was seen under
 * load in the restart torture.  So the service keeps one stub of every interface it serves
 * for as long as it runs: the registrations never drop to zero.  The stubs belong to the
 * anchor below, marshalled table-strong and never unmarshalled, so nobody can call it; on
 * Windows this costs a few stubs and changes nothing. */

#define ANCHOR_SLOTS    64      /* more than the longest vtable, IBackgroundCopyJob5's */

struct anchor_vtbl
{
    IUnknownVtbl unknown;
    /* Never called: no client has an interface pointer of the anchor. */
    HRESULT (STDMETHODCALLTYPE *methods[ANCHOR_SLOTS])(void *iface);
};

struct anchor
{
    const struct anchor_vtbl *vtbl;
};

static const IID *const pinned_iids[] =
{
    /* A client's proxy manager asks for IUnknown too (RemQueryInterface): its stub goes with
     * the client's last release like any other. */
    &IID_IUnknown,
    &IID_IBackgroundCopyManager,
    &IID_IBackgroundCopyJob, &IID_IBackgroundCopyJob2, &IID_IBackgroundCopyJob3,
    &IID_IBackgroundCopyJob4, &IID_IBackgroundCopyJob5,
    &IID_IBackgroundCopyJobHttpOptions, &IID_IBackgroundCopyJobHttpOptions2,
    &IID_IBackgroundCopyJobHttpOptions3,
    &IID_IBackgroundCopyFile, &IID_IBackgroundCopyFile2, &IID_IBackgroundCopyFile3,
    &IID_IBackgroundCopyFile4, &IID_IBackgroundCopyFile5, &IID_IBackgroundCopyFile6,
    &IID_IEnumBackgroundCopyJobs, &IID_IEnumBackgroundCopyFiles, &IID_IBackgroundCopyError,
    &IID_IBitsTokenOptions,
};

static HRESULT STDMETHODCALLTYPE anchor_QueryInterface(IUnknown *iface, REFIID riid, void **obj)
{
    unsigned int i;

    *obj = NULL;
    if (IsEqualGUID(riid, &IID_IUnknown)) *obj = iface;
    for (i = 0; i < ARRAYSIZE(pinned_iids); i++)
        if (IsEqualGUID(riid, pinned_iids[i])) *obj = iface;
    return *obj ? S_OK : E_NOINTERFACE;
}

/* The anchor is static: its references count nothing. */
static ULONG STDMETHODCALLTYPE anchor_AddRef(IUnknown *iface)
{
    (void)iface;
    return 2;
}

static ULONG STDMETHODCALLTYPE anchor_Release(IUnknown *iface)
{
    (void)iface;
    return 1;
}

static HRESULT STDMETHODCALLTYPE anchor_unexpected(void *iface)
{
    (void)iface;
    return E_UNEXPECTED;
}

static struct anchor_vtbl anchor_vtbl =
{
    { anchor_QueryInterface, anchor_AddRef, anchor_Release },
    { NULL },                   /* pin_interfaces() fills them */
};

static struct anchor anchor = { &anchor_vtbl };

/* Marshals the anchor table-strong for every served IID; what fails is only logged, since it
 * is a workaround. */
static void pin_interfaces(void)
{
    IStream *stream;
    unsigned int i;
    HRESULT hr;

    for (i = 0; i < ANCHOR_SLOTS; i++) anchor_vtbl.methods[i] = anchor_unexpected;
    for (i = 0; i < ARRAYSIZE(pinned_iids); i++)
    {
        hr = CreateStreamOnHGlobal(NULL, TRUE, &stream);
        if (SUCCEEDED(hr))
        {
            hr = CoMarshalInterface(stream, pinned_iids[i], (IUnknown *)&anchor, MSHCTX_LOCAL,
                                    NULL, MSHLFLAGS_TABLESTRONG);
            IStream_Release(stream);
        }
        if (FAILED(hr)) WARN("cannot pin %s, hr %#lx\n", debugstr_guid(pinned_iids[i]), hr);
    }
}

/* Drops the anchor's stubs; a disconnected stub does not unregister its interface. */
static void unpin_interfaces(void)
{
    HRESULT hr = CoDisconnectObject((IUnknown *)&anchor, 0);

    if (FAILED(hr)) WARN("cannot disconnect the anchor, hr %#lx\n", hr);
}

void WINAPI ServiceMain(DWORD argc, WCHAR **argv)
{
    DWORD cookies[MANAGER_CLASS_COUNT];
    HRESULT hr;

    (void)argc; (void)argv;
    TRACE("starting\n");
    status_handle = RegisterServiceCtrlHandlerExW(L"BITS", service_handler, NULL);
    if (!status_handle)
    {
        ERR("cannot register the control handler, error %lu\n", GetLastError());
        return;
    }
    set_service_state(SERVICE_START_PENDING, NO_ERROR);
    stop_event = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (!stop_event)
    {
        set_service_state(SERVICE_STOPPED, GetLastError());
        return;
    }

    hr = CoInitializeEx(NULL, COINIT_MULTITHREADED);
    if (FAILED(hr))
    {
        ERR("CoInitializeEx failed, hr %#lx\n", hr);
        set_service_state(SERVICE_STOPPED, ERROR_SERVICE_SPECIFIC_ERROR);
        CloseHandle(stop_event);
        return;
    }
    /* Clients are identified (and later impersonated) per call; svchost may have set process
     * security already, which is fine. */
    hr = CoInitializeSecurity(NULL, -1, NULL, NULL, RPC_C_AUTHN_LEVEL_DEFAULT,
                              RPC_C_IMP_LEVEL_IDENTIFY, NULL, EOAC_NONE, NULL);
    if (FAILED(hr) && hr != RPC_E_TOO_LATE)
        WARN("CoInitializeSecurity failed, hr %#lx; going on with process defaults\n", hr);

    hr = engine_init();
    if (SUCCEEDED(hr))
    {
        pin_interfaces();
        hr = register_class_objects(cookies);
        if (SUCCEEDED(hr))
        {
            unsigned int i;

            set_service_state(SERVICE_RUNNING, NO_ERROR);
            TRACE("running\n");
            WaitForSingleObject(stop_event, INFINITE);
            for (i = 0; i < MANAGER_CLASS_COUNT; i++) CoRevokeClassObject(cookies[i]);
        }
        unpin_interfaces();
        /* Before CoUninitialize: it releases the clients' callback proxies. */
        engine_shutdown();
    }
    CoUninitialize();
    CloseHandle(stop_event);
    stop_event = NULL;
    TRACE("stopped, hr %#lx\n", hr);
    set_service_state(SERVICE_STOPPED, SUCCEEDED(hr) ? NO_ERROR : ERROR_SERVICE_SPECIFIC_ERROR);
}
