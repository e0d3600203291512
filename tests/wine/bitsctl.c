/* Service control for the Wine-only units (see bitsctl.h).
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#include "bitsctl.h"

#include <shlobj.h>

#define SERVICE_WAIT_MS     30000
#define RECONNECT_WAIT_MS   10000

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

/* Wine's services.exe may still call a killed service RUNNING and refuse to start it: then
 * StartService is tried again until the process is seen dead and the start goes through. */
static BOOL start_service(const WCHAR *name)
{
    ULONGLONG deadline = GetTickCount64() + SERVICE_WAIT_MS;
    SC_HANDLE manager, service;
    SERVICE_STATUS_PROCESS status;
    HANDLE process;
    BOOL ret = FALSE, alive;

    manager = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT);
    if (!manager) return FALSE;
    service = OpenServiceW(manager, name, SERVICE_START | SERVICE_QUERY_STATUS);
    CloseServiceHandle(manager);
    if (!service) return FALSE;
    do
    {
        if (StartServiceW(service, 0, NULL))
        {
            ret = wait_state(service, SERVICE_RUNNING);
            break;
        }
        if (GetLastError() != ERROR_SERVICE_ALREADY_RUNNING)
        {
            trace("StartService(%s): error %lu\n", wine_dbgstr_w(name), GetLastError());
            Sleep(100);
            continue;
        }
        alive = FALSE;
        if (query(service, &status) && status.dwProcessId)
        {
            process = OpenProcess(SYNCHRONIZE, FALSE, status.dwProcessId);
            if (process)
            {
                alive = WaitForSingleObject(process, 0) == WAIT_TIMEOUT;
                CloseHandle(process);
            }
        }
        if (alive)
        {
            ret = TRUE;
            break;
        }
        Sleep(100);
    } while (GetTickCount64() < deadline);
    CloseServiceHandle(service);
    return ret;
}

BOOL bitsctl_start(void)
{
    return start_service(L"BITS");
}

/* TerminateProcess of a service's process, found with QueryServiceStatusEx. */
static BOOL kill_service(const WCHAR *name)
{
    SC_HANDLE manager, service;
    SERVICE_STATUS_PROCESS status;
    HANDLE process = NULL;
    BOOL ret = FALSE;

    manager = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT);
    if (!manager) return FALSE;
    service = OpenServiceW(manager, name, SERVICE_QUERY_STATUS);
    CloseServiceHandle(manager);
    if (!service) return FALSE;
    if (query(service, &status) && status.dwCurrentState != SERVICE_STOPPED && status.dwProcessId)
        process = OpenProcess(PROCESS_TERMINATE | SYNCHRONIZE, FALSE, status.dwProcessId);
    if (process)
    {
        ret = TerminateProcess(process, 1)
                && WaitForSingleObject(process, SERVICE_WAIT_MS) == WAIT_OBJECT_0;
        CloseHandle(process);
    }
    CloseServiceHandle(service);
    return ret;
}

/* Wine 8's RpcSs keeps the class objects a dead process registered, first in its list, so
 * CoCreateInstance would go on reaching the killed process; a new RpcSs starts empty.  Wine's
 * services.exe also goes on calling the killed service RUNNING, but starts it again. */
BOOL bitsctl_kill(void)
{
    if (!kill_service(L"BITS")) return FALSE;
    if (!winetest_platform_is_wine) return TRUE;
    /* Its process may be gone already (an earlier kill that services.exe missed). */
    kill_service(L"RpcSs");
    return start_service(L"RpcSs");
}

/* Wine makes the OXID of a COM server's multithreaded apartment from its process id alone,
 * and its IPIDs from the process id, the thread id and a counter that starts again in every
 * process; Wine also reuses process ids at once.  A proxy of a dead service process kept
 * alive is then taken for an object of the next one: a new manager unmarshals into the dead
 * one's proxy (RPC_E_DISCONNECTED), and releasing the old proxy later removes a stub of the
 * new process while its client uses it (seen as a RemRelease that never returns).  So every
 * proxy is released while no service process runs: the release fails at once. */
void bitsctl_drop(void *proxy)
{
    IUnknown **unk = proxy;

    if (!*unk) return;
    IUnknown_Release(*unk);
    *unk = NULL;
}

void bitsctl_drop_manager(void)
{
    bitsctl_drop(&test_manager);
}

BOOL bitsctl_reconnect(void)
{
    ULONGLONG deadline = GetTickCount64() + RECONNECT_WAIT_MS;
    IBackgroundCopyJob *job;
    HRESULT hr;

    ok(!test_manager, "the manager of the old service process was not dropped\n");
    test_manager = NULL;
    do
    {
        hr = CoCreateInstance(&CLSID_BackgroundCopyManager, NULL, CLSCTX_LOCAL_SERVER,
                &IID_IBackgroundCopyManager, (void **)&test_manager);
        if (SUCCEEDED(hr))
        {
            /* A manager of a process that died meanwhile answers nothing. */
            hr = IBackgroundCopyManager_GetJob(test_manager, &GUID_NULL, &job);
            if (hr == BG_E_NOT_FOUND) return TRUE;
            trace("new manager answers %#lx, service process %04lx\n", hr, bitsctl_pid());
            if (!bitsctl_is_disconnect(hr)) return TRUE;
            bitsctl_drop_manager();
        }
        Sleep(100);
    } while (GetTickCount64() < deadline);
    trace("CoCreateInstance: %#lx\n", hr);
    test_manager = NULL;
    return FALSE;
}

BOOL bitsctl_restart(IBackgroundCopyJob **jobs, const GUID *ids, unsigned int count,
        void (*between)(void *context), void *context)
{
    unsigned int i;
    HRESULT hr;

    if (!bitsctl_stop())
    {
        ok(0, "the service does not stop\n");
        return FALSE;
    }
    for (i = 0; i < count; i++) bitsctl_drop(&jobs[i]);
    bitsctl_drop_manager();
    if (between) between(context);
    ok(bitsctl_start(), "the service does not start\n");
    ok(bitsctl_reconnect(), "no manager\n");
    if (!test_manager) return FALSE;
    for (i = 0; ids && i < count; i++)
    {
        hr = IBackgroundCopyManager_GetJob(test_manager, &ids[i], &jobs[i]);
        ok(hr == S_OK, "GetJob after the restart: %#lx\n", hr);
        if (FAILED(hr)) return FALSE;
    }
    return TRUE;
}

void bitsctl_entry_path(const GUID *id, const WCHAR *suffix, WCHAR *path)
{
    WCHAR dir[MAX_PATH], guid[40];

    if (FAILED(SHGetFolderPathW(NULL, CSIDL_COMMON_APPDATA, NULL, SHGFP_TYPE_CURRENT, dir)))
        wcscpy(dir, L"C:\\ProgramData");
    wcscat(dir, L"\\Microsoft\\Network\\Downloader");
    StringFromGUID2(id, guid, ARRAY_SIZE(guid));
    swprintf(path, MAX_PATH, L"%ls\\job-%ls%ls", dir, guid, suffix);
}

BOOL bitsctl_recover(void)
{
    if (bitsctl_start() && bitsctl_reconnect()) return TRUE;
    /* Wine's services.exe and RpcSs do not always recover from a killed service; a second
     * kill gives them a clean start. */
    trace("no service after the kill, killing it again\n");
    bitsctl_kill();
    return bitsctl_start() && bitsctl_reconnect();
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
