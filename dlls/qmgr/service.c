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
        hr = register_class_objects(cookies);
        if (SUCCEEDED(hr))
        {
            unsigned int i;

            set_service_state(SERVICE_RUNNING, NO_ERROR);
            TRACE("running\n");
            WaitForSingleObject(stop_event, INFINITE);
            for (i = 0; i < MANAGER_CLASS_COUNT; i++) CoRevokeClassObject(cookies[i]);
        }
        /* Before CoUninitialize: it releases the clients' callback proxies. */
        engine_shutdown();
    }
    CoUninitialize();
    CloseHandle(stop_event);
    stop_event = NULL;
    TRACE("stopped, hr %#lx\n", hr);
    set_service_state(SERVICE_STOPPED, SUCCEEDED(hr) ? NO_ERROR : ERROR_SERVICE_SPECIFIC_ERROR);
}
