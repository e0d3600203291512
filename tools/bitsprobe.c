/* bitsprobe: shows which BITS answers on this system.  It creates the manager through every
 * BackgroundCopyManager CLSID, finds the process of service BITS and the qmgr.dll loaded in
 * it, prints that file's version resource, and lists the caller's jobs.  Exit code 0 when all
 * ten classes answer and the service runs our qmgr.dll, 1 otherwise.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#define COBJMACROS
#include <stdio.h>
#include <string.h>
#include <windows.h>
#include <tlhelp32.h>
#include "bits10_3.h"
#include "version.h"

static const struct
{
    const CLSID *clsid;
    const char *version;
}
classes[] =
{
    { &CLSID_BackgroundCopyManager10_3, "10.3" },
    { &CLSID_BackgroundCopyManager10_2, "10.2" },
    { &CLSID_BackgroundCopyManager10_1, "10.1" },
    { &CLSID_BackgroundCopyManager5_0, "5.0" },
    { &CLSID_BackgroundCopyManager4_0, "4.0" },
    { &CLSID_BackgroundCopyManager3_0, "3.0" },
    { &CLSID_BackgroundCopyManager2_5, "2.5" },
    { &CLSID_BackgroundCopyManager2_0, "2.0" },
    { &CLSID_BackgroundCopyManager1_5, "1.5" },
    { &CLSID_BackgroundCopyManager, "1.0" },
};

static const char *state_name(BG_JOB_STATE state)
{
    static const char *const names[] =
    {
        "QUEUED", "CONNECTING", "TRANSFERRING", "SUSPENDED", "ERROR", "TRANSIENT_ERROR",
        "TRANSFERRED", "ACKNOWLEDGED", "CANCELLED",
    };
    return (unsigned int)state < ARRAYSIZE(names) ? names[state] : "?";
}

static DWORD service_process_id(void)
{
    SERVICE_STATUS_PROCESS status;
    SC_HANDLE scm, service;
    DWORD size, pid = 0;

    scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT);
    if (!scm) return 0;
    service = OpenServiceW(scm, L"BITS", SERVICE_QUERY_STATUS);
    if (service)
    {
        if (QueryServiceStatusEx(service, SC_STATUS_PROCESS_INFO, (BYTE *)&status,
                                 sizeof(status), &size)
                && status.dwCurrentState == SERVICE_RUNNING)
            pid = status.dwProcessId;
        CloseServiceHandle(service);
    }
    CloseServiceHandle(scm);
    return pid;
}

/* Finds qmgr.dll among the modules of process pid; returns FALSE if it is not loaded. */
static BOOL find_module(DWORD pid, const WCHAR *name, WCHAR *path, DWORD size)
{
    MODULEENTRY32W module;
    HANDLE snapshot;
    BOOL found = FALSE;

    memset(&module, 0, sizeof(module));
    module.dwSize = sizeof(module);
    snapshot = CreateToolhelp32Snapshot(TH32CS_SNAPMODULE, pid);
    if (snapshot == INVALID_HANDLE_VALUE) return FALSE;
    if (Module32FirstW(snapshot, &module))
    {
        do
        {
            if (!lstrcmpiW(module.szModule, name))
            {
                lstrcpynW(path, module.szExePath, size);
                found = TRUE;
                break;
            }
        } while (Module32NextW(snapshot, &module));
    }
    CloseHandle(snapshot);
    return found;
}

/* Reads one string of the file's version resource (English, Unicode block) as UTF-8. */
static BOOL version_string(const WCHAR *path, const WCHAR *name, char *out, int size)
{
    WCHAR query[64];
    DWORD handle, len;
    UINT value_len;
    WCHAR *value;
    void *data;
    BOOL ok = FALSE;

    len = GetFileVersionInfoSizeW(path, &handle);
    if (!len || !(data = malloc(len))) return FALSE;
    swprintf(query, ARRAYSIZE(query), L"\\StringFileInfo\\040904B0\\%ls", name);
    if (GetFileVersionInfoW(path, 0, len, data)
            && VerQueryValueW(data, query, (void **)&value, &value_len) && value_len)
        ok = WideCharToMultiByte(CP_UTF8, 0, value, -1, out, size, NULL, NULL) > 0;
    free(data);
    return ok;
}

static int list_jobs(IBackgroundCopyManager *manager)
{
    IEnumBackgroundCopyJobs *jobs;
    IBackgroundCopyJob *job;
    ULONG count = 0;
    HRESULT hr;

    hr = IBackgroundCopyManager_EnumJobs(manager, 0, &jobs);
    if (FAILED(hr))
    {
        printf("EnumJobs failed: %#lx\n", hr);
        return 1;
    }
    IEnumBackgroundCopyJobs_GetCount(jobs, &count);
    printf("jobs of this user: %lu\n", count);
    while (IEnumBackgroundCopyJobs_Next(jobs, 1, &job, NULL) == S_OK)
    {
        WCHAR *name = NULL, id_text[39];
        BG_JOB_STATE state = 0;
        GUID id;

        IBackgroundCopyJob_GetId(job, &id);
        IBackgroundCopyJob_GetState(job, &state);
        IBackgroundCopyJob_GetDisplayName(job, &name);
        StringFromGUID2(&id, id_text, ARRAYSIZE(id_text));
        printf("  %ls %-15s %ls\n", id_text, state_name(state), name ? name : L"");
        CoTaskMemFree(name);
        IBackgroundCopyJob_Release(job);
    }
    IEnumBackgroundCopyJobs_Release(jobs);
    return 0;
}

int main(void)
{
    IBackgroundCopyManager *manager = NULL;
    char product[256], file_version[64];
    const char *newest = NULL;
    unsigned int i, answered = 0;
    WCHAR path[MAX_PATH];
    int failures = 0;
    HRESULT hr;
    DWORD pid;

    hr = CoInitializeEx(NULL, COINIT_APARTMENTTHREADED);
    if (FAILED(hr))
    {
        printf("CoInitializeEx failed: %#lx\n", hr);
        return 1;
    }
    for (i = 0; i < ARRAYSIZE(classes); i++)
    {
        IBackgroundCopyManager *unk;

        hr = CoCreateInstance(classes[i].clsid, NULL, CLSCTX_LOCAL_SERVER,
                              &IID_IBackgroundCopyManager, (void **)&unk);
        if (FAILED(hr))
        {
            printf("BackgroundCopyManager %s: %#lx\n", classes[i].version, hr);
            continue;
        }
        answered++;
        if (!newest) newest = classes[i].version;
        if (manager) IBackgroundCopyManager_Release(unk);
        else manager = unk;
    }
    printf("BITS manager version: %s (%u of %u manager classes answer)\n",
           newest ? newest : "none", answered, (unsigned int)ARRAYSIZE(classes));
    if (answered != ARRAYSIZE(classes)) failures++;

    pid = service_process_id();
    if (!pid)
    {
        printf("service BITS is not running\n");
        failures++;
    }
    else if (!find_module(pid, L"qmgr.dll", path, ARRAYSIZE(path)))
    {
        printf("service BITS (process %lu) has no qmgr.dll loaded\n", pid);
        failures++;
    }
    else
    {
        if (!version_string(path, L"ProductName", product, sizeof(product)))
            strcpy(product, "(no product name)");
        if (!version_string(path, L"FileVersion", file_version, sizeof(file_version)))
            strcpy(file_version, "(no version)");
        printf("service BITS: process %lu runs %ls, %s %s\n", pid, path, product, file_version);
        if (strcmp(product, BITS_PRODUCT_NAME))
        {
            printf("that qmgr.dll is not ours\n");
            failures++;
        }
    }

    if (manager)
    {
        failures += list_jobs(manager);
        IBackgroundCopyManager_Release(manager);
    }
    CoUninitialize();
    return failures ? 1 : 0;
}
