/* Service control for the Wine-only units (see bitsctl.h).
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#include "bitsctl.h"

#define SERVICE_WAIT_MS     30000
#define RECONNECT_WAIT_MS   30000

static SC_HANDLE open_bits(DWORD access)
{
    SC_HANDLE manager, service;

    manager = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT);
    if (!manager) return NULL;
    service = OpenServiceW(manager, L"BITS", access);
    CloseServiceHandle(manager);
    return service;
}

static BOOL query(SC_HANDLE service, SERVICE_STATUS_PROCESS *status)
{
    DWORD size;

    return QueryServiceStatusEx(service, SC_STATUS_PROCESS_INFO, (BYTE *)status,
            sizeof(*status), &size);
}

/* Polls until the service is in STATE; FALSE after SERVICE_WAIT_MS. */
static BOOL wait_state(SC_HANDLE service, DWORD state)
{
    ULONGLONG deadline = GetTickCount64() + SERVICE_WAIT_MS;
    SERVICE_STATUS_PROCESS status;

    do
    {
        if (query(service, &status) && status.dwCurrentState == state) return TRUE;
        Sleep(20);
    } while (GetTickCount64() < deadline);
    trace("service state %lu, waited for %lu\n", status.dwCurrentState, state);
    return FALSE;
}

DWORD bitsctl_pid(void)
{
    SC_HANDLE service = open_bits(SERVICE_QUERY_STATUS);
    SERVICE_STATUS_PROCESS status;
    DWORD pid = 0;

    if (!service) return 0;
    if (query(service, &status) && status.dwCurrentState != SERVICE_STOPPED)
        pid = status.dwProcessId;
    CloseServiceHandle(service);
    return pid;
}

BOOL bitsctl_stop(void)
{
    SC_HANDLE service = open_bits(SERVICE_STOP | SERVICE_QUERY_STATUS);
    SERVICE_STATUS status;
    BOOL ret;

    if (!service) return FALSE;
    if (!ControlService(service, SERVICE_CONTROL_STOP, &status)
            && GetLastError() != ERROR_SERVICE_NOT_ACTIVE)
        trace("ControlService(STOP): error %lu\n", GetLastError());
    ret = wait_state(service, SERVICE_STOPPED);
    CloseServiceHandle(service);
    return ret;
}

BOOL bitsctl_start(void)
{
    SC_HANDLE service = open_bits(SERVICE_START | SERVICE_QUERY_STATUS);
    BOOL ret;

    if (!service) return FALSE;
    if (!StartServiceW(service, 0, NULL) && GetLastError() != ERROR_SERVICE_ALREADY_RUNNING)
        trace("StartService: error %lu\n", GetLastError());
    ret = wait_state(service, SERVICE_RUNNING);
    CloseServiceHandle(service);
    return ret;
}

BOOL bitsctl_kill(void)
{
    SC_HANDLE service = open_bits(SERVICE_QUERY_STATUS);
    SERVICE_STATUS_PROCESS status;
    HANDLE process = NULL;
    BOOL ret = FALSE;

    if (!service) return FALSE;
    if (query(service, &status) && status.dwCurrentState != SERVICE_STOPPED && status.dwProcessId)
        process = OpenProcess(PROCESS_TERMINATE | SYNCHRONIZE, FALSE, status.dwProcessId);
    if (process)
    {
        ret = TerminateProcess(process, 1)
                && WaitForSingleObject(process, SERVICE_WAIT_MS) == WAIT_OBJECT_0;
        CloseHandle(process);
    }
    if (ret) ret = wait_state(service, SERVICE_STOPPED);
    CloseServiceHandle(service);
    return ret;
}

BOOL bitsctl_reconnect(void)
{
    ULONGLONG deadline = GetTickCount64() + RECONNECT_WAIT_MS;
    HRESULT hr;

    /* A proxy of the dead process is leaked on purpose: releasing it may wait for RPC. */
    test_manager = NULL;
    do
    {
        hr = CoCreateInstance(&CLSID_BackgroundCopyManager, NULL, CLSCTX_LOCAL_SERVER,
                &IID_IBackgroundCopyManager, (void **)&test_manager);
        if (SUCCEEDED(hr)) return TRUE;
        Sleep(100);
    } while (GetTickCount64() < deadline);
    trace("CoCreateInstance: %#lx\n", hr);
    test_manager = NULL;
    return FALSE;
}

void bitsctl_entry_path(const GUID *id, const WCHAR *suffix, WCHAR *path)
{
    WCHAR dir[MAX_PATH], guid[40];

    ExpandEnvironmentStringsW(L"%ALLUSERSPROFILE%\\Microsoft\\Network\\Downloader", dir,
            ARRAY_SIZE(dir));
    StringFromGUID2(id, guid, ARRAY_SIZE(guid));
    swprintf(path, MAX_PATH, L"%ls\\job-%ls%ls", dir, guid, suffix);
}

BOOL bitsctl_is_disconnect(HRESULT hr)
{
    return hr == RPC_E_DISCONNECTED || hr == RPC_E_SERVER_DIED || hr == RPC_E_SERVER_DIED_DNE
            || hr == CO_E_OBJNOTCONNECTED || hr == RPC_E_CALL_REJECTED
            || hr == HRESULT_FROM_WIN32(RPC_S_SERVER_UNAVAILABLE)
            || hr == HRESULT_FROM_WIN32(RPC_S_CALL_FAILED)
            || hr == HRESULT_FROM_WIN32(RPC_S_CALL_FAILED_DNE)
            || hr == HRESULT_FROM_WIN32(RPC_S_UNKNOWN_IF)
            || hr == HRESULT_FROM_WIN32(ERROR_BROKEN_PIPE);
}
