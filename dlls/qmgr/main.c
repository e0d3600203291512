/* DLL entry points of qmgr.dll: registration of the BITS service and of every
 * BackgroundCopyManager class under the BITS AppID, and the class factory.
 *
 * COM reaches the manager through the service: each CLSID names the AppID, whose LocalService
 * value makes COM start service BITS, and service.c registers the class objects.  There is
 * no InprocServer32 or LocalServer32 key, as on Windows.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#include "qmgr_private.h"

DEFAULT_DEBUG_CHANNEL(qmgr);

HINSTANCE qmgr_instance;

static const WCHAR service_name[] = L"BITS";
static const WCHAR service_display_name[] = L"Background Intelligent Transfer Service";
static const WCHAR service_description[] =
    L"Transfers files in the background, using idle network bandwidth, and keeps the "
    L"transfers going across restarts.";
static const WCHAR appid[] = L"{69AD4AEE-51BE-439b-A92C-86AE490E8B30}";

const struct manager_class manager_classes[MANAGER_CLASS_COUNT] =
{
    { &CLSID_BackgroundCopyManager, L"BackgroundCopyManager" },
    { &CLSID_BackgroundCopyManager1_5, L"BackgroundCopyManager1_5" },
    { &CLSID_BackgroundCopyManager2_0, L"BackgroundCopyManager2_0" },
    { &CLSID_BackgroundCopyManager2_5, L"BackgroundCopyManager2_5" },
    { &CLSID_BackgroundCopyManager3_0, L"BackgroundCopyManager3_0" },
    { &CLSID_BackgroundCopyManager4_0, L"BackgroundCopyManager4_0" },
    { &CLSID_BackgroundCopyManager5_0, L"BackgroundCopyManager5_0" },
    { &CLSID_BackgroundCopyManager10_1, L"BackgroundCopyManager10_1" },
    { &CLSID_BackgroundCopyManager10_2, L"BackgroundCopyManager10_2" },
    { &CLSID_BackgroundCopyManager10_3, L"BackgroundCopyManager10_3" },
};

/* The class factory: a static object, every instance is the service's one manager. */
static HRESULT WINAPI factory_QueryInterface(IClassFactory *iface, REFIID riid, void **out)
{
    TRACE("riid %s, out %p\n", debugstr_guid(riid), out);
    if (!out) return E_POINTER;
    if (IsEqualGUID(riid, &IID_IUnknown) || IsEqualGUID(riid, &IID_IClassFactory))
    {
        *out = iface;
        return S_OK;
    }
    *out = NULL;
    WARN("unsupported interface %s\n", debugstr_guid(riid));
    return E_NOINTERFACE;
}

static ULONG WINAPI factory_AddRef(IClassFactory *iface)
{
    (void)iface;
    return 2;
}

static ULONG WINAPI factory_Release(IClassFactory *iface)
{
    (void)iface;
    return 1;
}

static HRESULT WINAPI factory_CreateInstance(IClassFactory *iface, IUnknown *outer, REFIID riid,
                                             void **out)
{
    (void)iface;
    TRACE("outer %p, riid %s, out %p\n", outer, debugstr_guid(riid), out);
    if (!out) return E_POINTER;
    *out = NULL;
    if (outer) return CLASS_E_NOAGGREGATION;
    return manager_query(riid, out);
}

static HRESULT WINAPI factory_LockServer(IClassFactory *iface, BOOL lock)
{
    (void)iface;
    TRACE("lock %d\n", lock);
    return S_OK;
}

static const IClassFactoryVtbl factory_vtbl =
{
    factory_QueryInterface,
    factory_AddRef,
    factory_Release,
    factory_CreateInstance,
    factory_LockServer,
};

IClassFactory manager_factory = { &factory_vtbl };

static BOOL is_manager_class(REFCLSID clsid)
{
    unsigned int i;

    for (i = 0; i < MANAGER_CLASS_COUNT; i++)
        if (IsEqualGUID(clsid, manager_classes[i].clsid)) return TRUE;
    return FALSE;
}

HRESULT WINAPI DllGetClassObject(REFCLSID clsid, REFIID riid, void **out)
{
    TRACE("clsid %s, riid %s, out %p\n", debugstr_guid(clsid), debugstr_guid(riid), out);
    if (!out) return E_POINTER;
    *out = NULL;
    if (!is_manager_class(clsid)) return CLASS_E_CLASSNOTAVAILABLE;
    return IClassFactory_QueryInterface(&manager_factory, riid, out);
}

HRESULT WINAPI DllCanUnloadNow(void)
{
    /* The service keeps the manager for its whole life. */
    return S_FALSE;
}

static HRESULT set_string(HKEY key, const WCHAR *name, DWORD type, const WCHAR *value)
{
    LSTATUS status = RegSetValueExW(key, name, 0, type, (const BYTE *)value,
                                    (lstrlenW(value) + 1) * sizeof(WCHAR));
    return HRESULT_FROM_WIN32(status);
}

/* Creates or replaces HKCR\<path> with a default value and, when name is given, one named
 * string value. */
static HRESULT write_class_key(const WCHAR *path, const WCHAR *text, const WCHAR *name,
                               const WCHAR *value)
{
    LSTATUS status;
    HRESULT hr;
    HKEY key;

    status = RegCreateKeyExW(HKEY_CLASSES_ROOT, path, 0, NULL, 0, KEY_WRITE, NULL, &key, NULL);
    if (status) return HRESULT_FROM_WIN32(status);
    hr = set_string(key, NULL, REG_SZ, text);
    if (SUCCEEDED(hr) && name) hr = set_string(key, name, REG_SZ, value);
    RegCloseKey(key);
    return hr;
}

static void guid_to_string(const GUID *guid, WCHAR *buffer)
{
    StringFromGUID2(guid, buffer, 39);
}

static HRESULT register_classes(void)
{
    WCHAR path[64], clsid[39];
    unsigned int i;
    HRESULT hr;

    lstrcpyW(path, L"AppID\\");
    lstrcatW(path, appid);
    hr = write_class_key(path, service_display_name, L"LocalService", service_name);
    for (i = 0; SUCCEEDED(hr) && i < MANAGER_CLASS_COUNT; i++)
    {
        guid_to_string(manager_classes[i].clsid, clsid);
        lstrcpyW(path, L"CLSID\\");
        lstrcatW(path, clsid);
        hr = write_class_key(path, manager_classes[i].name, L"AppID", appid);
    }
    return hr;
}

/* Adds BITS to svchost's netsvcs group (a REG_MULTI_SZ list) unless it is there already. */
static HRESULT add_to_svchost_group(void)
{
    static const WCHAR svchost_key[] = L"Software\\Microsoft\\Windows NT\\CurrentVersion\\Svchost";
    WCHAR list[4096];
    DWORD size = sizeof(list) - 2 * sizeof(WCHAR), type;
    const WCHAR *entry;
    LSTATUS status;
    HKEY key;
    WCHAR *end;

    status = RegCreateKeyExW(HKEY_LOCAL_MACHINE, svchost_key, 0, NULL, 0, KEY_READ | KEY_WRITE,
                             NULL, &key, NULL);
    if (status) return HRESULT_FROM_WIN32(status);
    memset(list, 0, sizeof(list));
    status = RegQueryValueExW(key, L"netsvcs", NULL, &type, (BYTE *)list, &size);
    if (status == ERROR_FILE_NOT_FOUND || (!status && type != REG_MULTI_SZ))
        memset(list, 0, sizeof(list));
    else if (status)
    {
        RegCloseKey(key);
        return HRESULT_FROM_WIN32(status);
    }
    for (entry = list; *entry; entry += lstrlenW(entry) + 1)
    {
        if (!lstrcmpiW(entry, service_name))
        {
            RegCloseKey(key);
            return S_OK;
        }
    }
    end = (WCHAR *)entry;
    if ((size_t)(end - list) + ARRAYSIZE(service_name) + 1 > ARRAYSIZE(list))
    {
        RegCloseKey(key);
        return HRESULT_FROM_WIN32(ERROR_MORE_DATA);
    }
    lstrcpyW(end, service_name);
    end += ARRAYSIZE(service_name);
    *end++ = 0;
    status = RegSetValueExW(key, L"netsvcs", 0, REG_MULTI_SZ, (const BYTE *)list,
                            (DWORD)((end - list) * sizeof(WCHAR)));
    RegCloseKey(key);
    return HRESULT_FROM_WIN32(status);
}

static HRESULT register_service(void)
{
    static const WCHAR image[] = L"%SystemRoot%\\system32\\svchost.exe -k netsvcs";
    static const WCHAR dll[] = L"%SystemRoot%\\system32\\qmgr.dll";
    static const WCHAR depends[] = L"RpcSs\0";
    SERVICE_DESCRIPTIONW description = { (WCHAR *)service_description };
    SC_HANDLE scm, service;
    LSTATUS status;
    HRESULT hr = S_OK;
    HKEY key;

    scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CREATE_SERVICE | SC_MANAGER_CONNECT);
    if (!scm) return HRESULT_FROM_WIN32(GetLastError());
    service = CreateServiceW(scm, service_name, service_display_name, SERVICE_ALL_ACCESS,
                             SERVICE_WIN32_SHARE_PROCESS, SERVICE_DEMAND_START,
                             SERVICE_ERROR_NORMAL, image, NULL, NULL, depends, NULL, NULL);
    if (!service && GetLastError() == ERROR_SERVICE_EXISTS)
    {
        service = OpenServiceW(scm, service_name, SERVICE_ALL_ACCESS);
        if (service && !ChangeServiceConfigW(service, SERVICE_WIN32_SHARE_PROCESS,
                                             SERVICE_NO_CHANGE, SERVICE_ERROR_NORMAL, image,
                                             NULL, NULL, depends, L"LocalSystem", NULL,
                                             service_display_name))
            hr = HRESULT_FROM_WIN32(GetLastError());
    }
    if (!service) hr = HRESULT_FROM_WIN32(GetLastError());
    else
    {
        if (!ChangeServiceConfig2W(service, SERVICE_CONFIG_DESCRIPTION, &description))
            WARN("cannot set the description, error %lu\n", GetLastError());
        CloseServiceHandle(service);
    }
    CloseServiceHandle(scm);
    if (FAILED(hr)) return hr;

    status = RegCreateKeyExW(HKEY_LOCAL_MACHINE,
                             L"System\\CurrentControlSet\\Services\\BITS\\Parameters", 0, NULL,
                             0, KEY_WRITE, NULL, &key, NULL);
    if (status) return HRESULT_FROM_WIN32(status);
    hr = set_string(key, L"ServiceDll", REG_EXPAND_SZ, dll);
    RegCloseKey(key);
    if (FAILED(hr)) return hr;

    /* svchost -k netsvcs runs the services listed in its group. */
    return add_to_svchost_group();
}

HRESULT WINAPI DllRegisterServer(void)
{
    HRESULT hr;

    TRACE("\n");
    hr = register_service();
    if (SUCCEEDED(hr)) hr = register_classes();
    if (FAILED(hr)) ERR("registration failed, hr %#lx\n", hr);
    return hr;
}

HRESULT WINAPI DllUnregisterServer(void)
{
    WCHAR path[64], clsid[39];
    SC_HANDLE scm, service;
    unsigned int i;

    TRACE("\n");
    for (i = 0; i < MANAGER_CLASS_COUNT; i++)
    {
        guid_to_string(manager_classes[i].clsid, clsid);
        lstrcpyW(path, L"CLSID\\");
        lstrcatW(path, clsid);
        RegDeleteTreeW(HKEY_CLASSES_ROOT, path);
    }
    lstrcpyW(path, L"AppID\\");
    lstrcatW(path, appid);
    RegDeleteTreeW(HKEY_CLASSES_ROOT, path);

    scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT);
    if (!scm) return HRESULT_FROM_WIN32(GetLastError());
    service = OpenServiceW(scm, service_name, DELETE);
    if (service)
    {
        if (!DeleteService(service)) WARN("cannot delete the service, error %lu\n", GetLastError());
        CloseServiceHandle(service);
    }
    CloseServiceHandle(scm);
    return S_OK;
}

BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, void *reserved)
{
    (void)reserved;
    if (reason == DLL_PROCESS_ATTACH)
    {
        qmgr_instance = instance;
        DisableThreadLibraryCalls(instance);
    }
    return TRUE;
}
