/* Helpers shared by the conformance units (see util.h).
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#include "util.h"

#include <sddl.h>

IBackgroundCopyManager *test_manager;

static LONG job_counter;
static WCHAR name_prefix[96];
static WCHAR temp_directory[MAX_PATH];

const WCHAR *job_name_prefix(void)
{
    if (!name_prefix[0])
        swprintf(name_prefix, ARRAY_SIZE(name_prefix), L"bits-conformance %hs %lu.",
                winetest_unit_name, GetCurrentProcessId());
    return name_prefix;
}

void make_job_name(const WCHAR *tag, WCHAR *name, size_t size)
{
    swprintf(name, size, L"%ls%ld %ls", job_name_prefix(), InterlockedIncrement(&job_counter),
            tag);
}

BOOL bits_test_init(void)
{
    HRESULT hr;

    hr = CoInitializeEx(NULL, COINIT_MULTITHREADED);
    ok(hr == S_OK || hr == S_FALSE, "CoInitializeEx: %#lx\n", hr);
    hr = CoCreateInstance(&CLSID_BackgroundCopyManager, NULL, CLSCTX_LOCAL_SERVER,
            &IID_IBackgroundCopyManager, (void **)&test_manager);
    if (FAILED(hr))
    {
        /* The manager unit reports this as a failure; the others only skip. */
        skip("BITS is not available: CoCreateInstance returned %#lx\n", hr);
        test_manager = NULL;
        CoUninitialize();
        return FALSE;
    }
    return TRUE;
}

static void remove_temp_dir(void)
{
    WIN32_FIND_DATAW data;
    WCHAR pattern[MAX_PATH + 4], path[MAX_PATH * 2];
    HANDLE find;

    if (!temp_directory[0]) return;
    swprintf(pattern, ARRAY_SIZE(pattern), L"%ls*", temp_directory);
    find = FindFirstFileW(pattern, &data);
    if (find != INVALID_HANDLE_VALUE)
    {
        do
        {
            if (data.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) continue;
            swprintf(path, ARRAY_SIZE(path), L"%ls%ls", temp_directory, data.cFileName);
            SetFileAttributesW(path, FILE_ATTRIBUTE_NORMAL);
            DeleteFileW(path);
        } while (FindNextFileW(find, &data));
        FindClose(find);
    }
    RemoveDirectoryW(temp_directory);
    temp_directory[0] = 0;
}

void bits_test_cleanup(void)
{
    unsigned int count;

    if (test_manager)
    {
        count = sweep_jobs();
        if (count) trace("cancelled %u job(s) left behind\n", count);
        IBackgroundCopyManager_Release(test_manager);
        test_manager = NULL;
    }
    remove_temp_dir();
    CoUninitialize();
}

IBackgroundCopyJob *create_job(const WCHAR *tag, BG_JOB_TYPE type, GUID *id)
{
    IBackgroundCopyJob *job = NULL;
    WCHAR name[256];
    GUID guid;
    HRESULT hr;

    make_job_name(tag, name, ARRAY_SIZE(name));
    hr = IBackgroundCopyManager_CreateJob(test_manager, name, type, &guid, &job);
    ok(hr == S_OK, "CreateJob(%s, type %d): %#lx\n", wine_dbgstr_w(name), type, hr);
    if (FAILED(hr)) return NULL;
    ok(job != NULL, "CreateJob(%s) returned no job\n", wine_dbgstr_w(name));
    if (id) *id = guid;
    return job;
}

void cancel_job(IBackgroundCopyJob *job)
{
    HRESULT hr;

    if (!job) return;
    hr = IBackgroundCopyJob_Cancel(job);
    if (hr != S_OK && hr != BG_E_INVALID_STATE) trace("Cancel: %#lx\n", hr);
    IBackgroundCopyJob_Release(job);
}

static BOOL has_prefix(const WCHAR *str, const WCHAR *prefix)
{
    return str && !wcsncmp(str, prefix, wcslen(prefix));
}

unsigned int sweep_jobs(void)
{
    IEnumBackgroundCopyJobs *jobs;
    IBackgroundCopyJob *job;
    unsigned int count = 0;
    WCHAR *name;
    HRESULT hr;

    hr = IBackgroundCopyManager_EnumJobs(test_manager, 0, &jobs);
    if (FAILED(hr))
    {
        trace("EnumJobs for the cleanup: %#lx\n", hr);
        return 0;
    }
    while (IEnumBackgroundCopyJobs_Next(jobs, 1, &job, NULL) == S_OK)
    {
        name = NULL;
        if (SUCCEEDED(IBackgroundCopyJob_GetDisplayName(job, &name))
                && has_prefix(name, job_name_prefix()))
        {
            IBackgroundCopyJob_Cancel(job);
            count++;
        }
        CoTaskMemFree(name);
        IBackgroundCopyJob_Release(job);
    }
    IEnumBackgroundCopyJobs_Release(jobs);
    return count;
}

BOOL job_is_listed(const GUID *id)
{
    IEnumBackgroundCopyJobs *jobs;
    IBackgroundCopyJob *job;
    BOOL found = FALSE;
    GUID guid;

    if (FAILED(IBackgroundCopyManager_EnumJobs(test_manager, 0, &jobs))) return FALSE;
    while (!found && IEnumBackgroundCopyJobs_Next(jobs, 1, &job, NULL) == S_OK)
    {
        if (SUCCEEDED(IBackgroundCopyJob_GetId(job, &guid)) && IsEqualGUID(&guid, id))
            found = TRUE;
        IBackgroundCopyJob_Release(job);
    }
    IEnumBackgroundCopyJobs_Release(jobs);
    return found;
}

static void format_temp_dir(DWORD pid, WCHAR *dir, size_t size)
{
    WCHAR base[MAX_PATH];
    DWORD len;

    len = GetTempPathW(ARRAY_SIZE(base), base);
    if (!len || len >= ARRAY_SIZE(base) - 64) wcscpy(base, L"C:\\windows\\temp\\");
    swprintf(dir, size, L"%lsbits-conformance-%hs-%lu\\", base, winetest_unit_name, pid);
}

const WCHAR *temp_dir(void)
{
    if (temp_directory[0]) return temp_directory;
    format_temp_dir(GetCurrentProcessId(), temp_directory, ARRAY_SIZE(temp_directory));
    CreateDirectoryW(temp_directory, NULL);
    return temp_directory;
}

WCHAR *process_temp_path(DWORD pid, const WCHAR *name)
{
    WCHAR dir[MAX_PATH];
    size_t len;
    WCHAR *path;

    format_temp_dir(pid, dir, ARRAY_SIZE(dir));
    len = wcslen(dir) + wcslen(name) + 1;
    path = CoTaskMemAlloc(len * sizeof(WCHAR));
    if (path) swprintf(path, len, L"%ls%ls", dir, name);
    return path;
}

WCHAR *temp_path(const WCHAR *name)
{
    const WCHAR *dir = temp_dir();
    size_t len = wcslen(dir) + wcslen(name) + 1;
    WCHAR *path = CoTaskMemAlloc(len * sizeof(WCHAR));

    if (path) swprintf(path, len, L"%ls%ls", dir, name);
    return path;
}

BOOL write_test_file(const WCHAR *path, const char *data)
{
    HANDLE file;
    DWORD written;
    BOOL ret;

    file = CreateFileW(path, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
    if (file == INVALID_HANDLE_VALUE) return FALSE;
    ret = WriteFile(file, data, (DWORD)strlen(data), &written, NULL);
    CloseHandle(file);
    return ret;
}

WCHAR *make_string(const WCHAR *prefix, WCHAR c, size_t count)
{
    WCHAR *str = CoTaskMemAlloc((count + 1) * sizeof(WCHAR));
    size_t i = 0;

    if (!str) return NULL;
    if (prefix)
        for (; prefix[i] && i < count; i++) str[i] = prefix[i];
    for (; i < count; i++) str[i] = c;
    str[count] = 0;
    return str;
}

static void *get_token_info(TOKEN_INFORMATION_CLASS class)
{
    HANDLE token;
    DWORD size = 0;
    void *info = NULL;

    if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token)) return NULL;
    GetTokenInformation(token, class, NULL, 0, &size);
    if (size) info = malloc(size);
    if (info && !GetTokenInformation(token, class, info, size, &size))
    {
        free(info);
        info = NULL;
    }
    CloseHandle(token);
    return info;
}

WCHAR *get_user_sid_string(void)
{
    TOKEN_USER *user = get_token_info(TokenUser);
    WCHAR *str = NULL;

    if (!user) return NULL;
    if (!ConvertSidToStringSidW(user->User.Sid, &str)) str = NULL;
    free(user);
    return str;
}

BOOL is_admin(void)
{
    SID_IDENTIFIER_AUTHORITY nt = {SECURITY_NT_AUTHORITY};
    PSID admins;
    BOOL member = FALSE;

    if (!AllocateAndInitializeSid(&nt, 2, SECURITY_BUILTIN_DOMAIN_RID, DOMAIN_ALIAS_RID_ADMINS,
            0, 0, 0, 0, 0, 0, &admins))
        return FALSE;
    if (!CheckTokenMembership(NULL, admins, &member)) member = FALSE;
    FreeSid(admins);
    return member;
}

BOOL get_token_integrity(ULONG *level)
{
    TOKEN_MANDATORY_LABEL *label = get_token_info(TokenIntegrityLevel);
    UCHAR count;

    if (!label) return FALSE;
    count = *GetSidSubAuthorityCount(label->Label.Sid);
    *level = count ? *GetSidSubAuthority(label->Label.Sid, count - 1) : 0;
    free(label);
    return count != 0;
}

BOOL get_token_elevation(BOOL *elevated)
{
    TOKEN_ELEVATION *elevation = get_token_info(TokenElevation);

    if (!elevation) return FALSE;
    *elevated = elevation->TokenIsElevated != 0;
    free(elevation);
    return TRUE;
}

BOOL same_object(IUnknown *a, IUnknown *b)
{
    IUnknown *unk_a = NULL, *unk_b = NULL;
    BOOL same;

    if (!a || !b) return FALSE;
    IUnknown_QueryInterface(a, &IID_IUnknown, (void **)&unk_a);
    IUnknown_QueryInterface(b, &IID_IUnknown, (void **)&unk_b);
    same = unk_a && unk_a == unk_b;
    if (unk_a) IUnknown_Release(unk_a);
    if (unk_b) IUnknown_Release(unk_b);
    return same;
}

IBackgroundCopyFile *get_job_file(IBackgroundCopyJob *job, ULONG index)
{
    IEnumBackgroundCopyFiles *files;
    IBackgroundCopyFile *file = NULL;
    HRESULT hr;

    hr = IBackgroundCopyJob_EnumFiles(job, &files);
    if (FAILED(hr)) return NULL;
    if (index) IEnumBackgroundCopyFiles_Skip(files, index);
    if (IEnumBackgroundCopyFiles_Next(files, 1, &file, NULL) != S_OK) file = NULL;
    IEnumBackgroundCopyFiles_Release(files);
    return file;
}

ULONG count_job_files(IBackgroundCopyJob *job)
{
    IEnumBackgroundCopyFiles *files;
    ULONG count = (ULONG)-1;

    if (FAILED(IBackgroundCopyJob_EnumFiles(job, &files))) return count;
    if (FAILED(IEnumBackgroundCopyFiles_GetCount(files, &count))) count = (ULONG)-1;
    IEnumBackgroundCopyFiles_Release(files);
    return count;
}

ULONGLONG filetime_to_u64(const FILETIME *ft)
{
    return ((ULONGLONG)ft->dwHighDateTime << 32) | ft->dwLowDateTime;
}

BOOL str_equal(const WCHAR *a, const WCHAR *b)
{
    if (!a || !b) return a == b;
    return !wcscmp(a, b);
}
