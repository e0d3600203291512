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

/* This process' token with BUILTIN\Administrators deny-only; NULL after a failure report. */
static HANDLE create_restricted_token(void)
{
    BYTE sid[SECURITY_MAX_SID_SIZE];
    SID_AND_ATTRIBUTES disable;
    HANDLE token, restricted = NULL;
    DWORD size = sizeof(sid);

    if (!OpenProcessToken(GetCurrentProcess(), TOKEN_DUPLICATE | TOKEN_QUERY
            | TOKEN_ASSIGN_PRIMARY, &token))
    {
        ok(0, "OpenProcessToken: %lu\n", GetLastError());
        return NULL;
    }
    if (!CreateWellKnownSid(WinBuiltinAdministratorsSid, NULL, sid, &size))
        ok(0, "CreateWellKnownSid: %lu\n", GetLastError());
    else
    {
        disable.Sid = sid;
        disable.Attributes = 0;
        if (!CreateRestrictedToken(token, 0, 1, &disable, 0, NULL, 0, NULL, &restricted))
        {
            ok(0, "CreateRestrictedToken: %lu\n", GetLastError());
            restricted = NULL;
        }
    }
    CloseHandle(token);
    return restricted;
}

LONG run_child_process(const WCHAR *args, BOOL restricted, DWORD timeout_ms)
{
    PROCESS_INFORMATION pi;
    STARTUPINFOW si;
    WCHAR exe[MAX_PATH], *cmdline;
    HANDLE token = NULL;
    DWORD code = 0, wait, error;
    BOOL started;
    size_t len;

    if (!GetModuleFileNameW(NULL, exe, ARRAY_SIZE(exe)))
    {
        ok(0, "GetModuleFileName: %lu\n", GetLastError());
        return -1;
    }
    if (restricted)
    {
        token = create_restricted_token();
        if (!token) return -1;
    }
    len = wcslen(exe) + wcslen(args) + 4;
    cmdline = malloc(len * sizeof(WCHAR));
    if (!cmdline)
    {
        ok(0, "out of memory for the command line\n");
        if (token) CloseHandle(token);
        return -1;
    }
    swprintf(cmdline, len, L"\"%ls\" %ls", exe, args);

    memset(&si, 0, sizeof(si));
    si.cb = sizeof(si);
    si.dwFlags = STARTF_USESTDHANDLES;
    si.hStdInput = GetStdHandle(STD_INPUT_HANDLE);
    si.hStdOutput = GetStdHandle(STD_OUTPUT_HANDLE);
    si.hStdError = GetStdHandle(STD_ERROR_HANDLE);
    SetHandleInformation(si.hStdOutput, HANDLE_FLAG_INHERIT, HANDLE_FLAG_INHERIT);
    SetHandleInformation(si.hStdError, HANDLE_FLAG_INHERIT, HANDLE_FLAG_INHERIT);
    fflush(stdout);
    if (token)
        started = CreateProcessAsUserW(token, exe, cmdline, NULL, NULL, TRUE, 0, NULL, NULL, &si,
                &pi);
    else
        started = CreateProcessW(exe, cmdline, NULL, NULL, TRUE, 0, NULL, NULL, &si, &pi);
    error = started ? 0 : GetLastError();
    ok(started, "%s(%s): %lu\n", token ? "CreateProcessAsUser" : "CreateProcess",
            wine_dbgstr_w(cmdline), error);
    if (token) CloseHandle(token);
    free(cmdline);
    if (!started) return -1;

    wait = WaitForSingleObject(pi.hProcess, timeout_ms);
    ok(wait == WAIT_OBJECT_0, "child %s did not finish within %lu s\n", wine_dbgstr_w(args),
            timeout_ms / 1000);
    if (wait != WAIT_OBJECT_0)
    {
        TerminateProcess(pi.hProcess, 255);
        WaitForSingleObject(pi.hProcess, 5000);
    }
    else
    {
        GetExitCodeProcess(pi.hProcess, &code);
        ok(code == 0, "child %s reported %lu failures\n", wine_dbgstr_w(args), code);
    }
    CloseHandle(pi.hThread);
    CloseHandle(pi.hProcess);
    return wait == WAIT_OBJECT_0 ? (LONG)code : -1;
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

/* ---- Transfers ---- */

BG_JOB_STATE get_job_state(IBackgroundCopyJob *job)
{
    BG_JOB_STATE state;

    if (FAILED(IBackgroundCopyJob_GetState(job, &state))) return (BG_JOB_STATE)-1;
    return state;
}

static BOOL state_is_stable(BG_JOB_STATE state)
{
    return state == BG_JOB_STATE_SUSPENDED || state == BG_JOB_STATE_ERROR
            || state == BG_JOB_STATE_TRANSFERRED || state == BG_JOB_STATE_ACKNOWLEDGED
            || state == BG_JOB_STATE_CANCELLED || state == (BG_JOB_STATE)-1;
}

BG_JOB_STATE wait_for_state_seen(IBackgroundCopyJob *job, BG_JOB_STATE state, DWORD timeout_ms,
        DWORD *seen)
{
    ULONGLONG deadline = GetTickCount64() + timeout_ms;
    BG_JOB_STATE current;

    if (seen) *seen = 0;
    for (;;)
    {
        current = get_job_state(job);
        if (seen && (unsigned int)current <= BG_JOB_STATE_CANCELLED) *seen |= 1u << current;
        if (current == state || state_is_stable(current) || GetTickCount64() >= deadline)
            return current;
        Sleep(20);
    }
}

BOOL wait_for_state(IBackgroundCopyJob *job, BG_JOB_STATE state, DWORD timeout_ms)
{
    return wait_for_state_seen(job, state, timeout_ms, NULL) == state;
}

BOOL resume_job_and_wait_at(IBackgroundCopyJob *job, BG_JOB_STATE expected, DWORD timeout_ms,
        DWORD *seen, const char *file, int line)
{
    BG_ERROR_CONTEXT context = BG_ERROR_CONTEXT_NONE;
    HRESULT hr, code = S_OK;
    BG_JOB_STATE state;

    hr = IBackgroundCopyJob_Resume(job);
    ok_(file, line)(hr == S_OK, "Resume: %#lx\n", hr);
    if (hr != S_OK) return FALSE;
    state = wait_for_state_seen(job, expected, timeout_ms, seen);
    if (state != expected) get_job_error(job, &context, &code);
    ok_(file, line)(state == expected, "state %d, expected %d; error %#lx, context %d\n", state,
            expected, code, context);
    return state == expected;
}

BOOL get_file_progress(IBackgroundCopyJob *job, ULONG index, BG_FILE_PROGRESS *progress)
{
    IBackgroundCopyFile *file = get_job_file(job, index);
    HRESULT hr;

    memset(progress, 0, sizeof(*progress));
    if (!file) return FALSE;
    hr = IBackgroundCopyFile_GetProgress(file, progress);
    IBackgroundCopyFile_Release(file);
    return hr == S_OK;
}

BOOL wait_for_file_bytes(IBackgroundCopyJob *job, ULONG index, UINT64 bytes, DWORD timeout_ms)
{
    ULONGLONG deadline = GetTickCount64() + timeout_ms;
    BG_FILE_PROGRESS progress;

    for (;;)
    {
        if (get_file_progress(job, index, &progress) && progress.BytesTransferred >= bytes
                && progress.BytesTransferred != BG_SIZE_UNKNOWN)
            return TRUE;
        if (GetTickCount64() >= deadline) return FALSE;
        Sleep(20);
    }
}

WCHAR *get_temporary_name(IBackgroundCopyJob *job, ULONG index)
{
    IBackgroundCopyFile *file = get_job_file(job, index);
    IBackgroundCopyFile3 *file3 = NULL;
    WCHAR *name = NULL;

    if (!file) return NULL;
    if (SUCCEEDED(IBackgroundCopyFile_QueryInterface(file, &IID_IBackgroundCopyFile3,
            (void **)&file3)))
    {
        if (FAILED(IBackgroundCopyFile3_GetTemporaryName(file3, &name))) name = NULL;
        IBackgroundCopyFile3_Release(file3);
    }
    IBackgroundCopyFile_Release(file);
    return name;
}

BOOL get_job_error(IBackgroundCopyJob *job, BG_ERROR_CONTEXT *context, HRESULT *code)
{
    IBackgroundCopyError *error = NULL;
    HRESULT hr;

    *context = BG_ERROR_CONTEXT_NONE;
    *code = S_OK;
    if (FAILED(IBackgroundCopyJob_GetError(job, &error)) || !error) return FALSE;
    hr = IBackgroundCopyError_GetError(error, context, code);
    IBackgroundCopyError_Release(error);
    return hr == S_OK;
}

IBackgroundCopyJob *create_transfer_job(const WCHAR *tag, GUID *id)
{
    IBackgroundCopyJob *job = create_job(tag, BG_JOB_TYPE_DOWNLOAD, id);
    HRESULT hr;

    if (!job) return NULL;
    hr = IBackgroundCopyJob_SetPriority(job, BG_JOB_PRIORITY_FOREGROUND);
    ok(hr == S_OK, "SetPriority(FOREGROUND): %#lx\n", hr);
    return job;
}

WCHAR *server_file_url(const char *spec)
{
    char path[SERVER_TARGET_MAX];
    WCHAR buffer[SERVER_TARGET_MAX + 64], *url;
    size_t len;

    snprintf(path, sizeof(path), "/file/%s", spec);
    if (!server_url(path, buffer, ARRAY_SIZE(buffer))) return NULL;
    len = wcslen(buffer) + 1;
    url = CoTaskMemAlloc(len * sizeof(WCHAR));
    if (url) memcpy(url, buffer, len * sizeof(WCHAR));
    return url;
}

HRESULT add_server_file(IBackgroundCopyJob *job, const char *spec, const WCHAR *local)
{
    WCHAR *url = server_file_url(spec);
    HRESULT hr;

    ok(url != NULL, "no URL for %s: is the server running?\n", spec);
    if (!url) return E_FAIL;
    hr = IBackgroundCopyJob_AddFile(job, url, local);
    ok(hr == S_OK, "AddFile(%s, %s): %#lx\n", wine_dbgstr_w(url), wine_dbgstr_w(local), hr);
    CoTaskMemFree(url);
    return hr;
}

WCHAR *dir_file(const WCHAR *dir, const WCHAR *name)
{
    size_t len = wcslen(dir) + wcslen(name) + 1;
    WCHAR *path = CoTaskMemAlloc(len * sizeof(WCHAR));

    if (path) swprintf(path, len, L"%ls%ls", dir, name);
    return path;
}

WCHAR *make_test_dir(const WCHAR *name)
{
    WCHAR *dir = CoTaskMemAlloc((wcslen(temp_dir()) + wcslen(name) + 2) * sizeof(WCHAR));

    if (!dir) return NULL;
    swprintf(dir, wcslen(temp_dir()) + wcslen(name) + 2, L"%ls%ls\\", temp_dir(), name);
    if (!CreateDirectoryW(dir, NULL) && GetLastError() != ERROR_ALREADY_EXISTS)
        trace("cannot create %s: error %lu\n", wine_dbgstr_w(dir), GetLastError());
    return dir;
}

/* Deletes everything in DIR (ending in a backslash) and DIR itself. */
static void delete_tree(const WCHAR *dir)
{
    WIN32_FIND_DATAW data;
    WCHAR pattern[MAX_PATH + 4], path[MAX_PATH * 2];
    HANDLE find;

    swprintf(pattern, ARRAY_SIZE(pattern), L"%ls*", dir);
    find = FindFirstFileW(pattern, &data);
    if (find != INVALID_HANDLE_VALUE)
    {
        do
        {
            if (!wcscmp(data.cFileName, L".") || !wcscmp(data.cFileName, L"..")) continue;
            if (data.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY)
            {
                swprintf(path, ARRAY_SIZE(path), L"%ls%ls\\", dir, data.cFileName);
                delete_tree(path);
                continue;
            }
            swprintf(path, ARRAY_SIZE(path), L"%ls%ls", dir, data.cFileName);
            SetFileAttributesW(path, FILE_ATTRIBUTE_NORMAL);
            if (!DeleteFileW(path))
                trace("cannot delete %s: error %lu\n", wine_dbgstr_w(path), GetLastError());
        } while (FindNextFileW(find, &data));
        FindClose(find);
    }
    SetFileAttributesW(dir, FILE_ATTRIBUTE_NORMAL);
    RemoveDirectoryW(dir);
}

void remove_test_dir(WCHAR *dir)
{
    if (!dir) return;
    delete_tree(dir);
    CoTaskMemFree(dir);
}

BOOL file_exists(const WCHAR *path)
{
    return path && GetFileAttributesW(path) != INVALID_FILE_ATTRIBUTES;
}

unsigned int count_files(const WCHAR *dir, const WCHAR *pattern)
{
    WIN32_FIND_DATAW data;
    WCHAR path[MAX_PATH * 2];
    unsigned int count = 0;
    HANDLE find;

    swprintf(path, ARRAY_SIZE(path), L"%ls%ls", dir, pattern);
    find = FindFirstFileW(path, &data);
    if (find == INVALID_HANDLE_VALUE) return 0;
    do
    {
        if (!(data.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY)) count++;
    } while (FindNextFileW(find, &data));
    FindClose(find);
    return count;
}

const char *dir_listing(const WCHAR *dir)
{
    WIN32_FIND_DATAW data;
    WCHAR path[MAX_PATH * 2], list[512];
    size_t len = 0;
    HANDLE find;

    list[0] = 0;
    swprintf(path, ARRAY_SIZE(path), L"%ls*", dir);
    find = FindFirstFileW(path, &data);
    if (find == INVALID_HANDLE_VALUE) return wine_dbgstr_w(list);
    do
    {
        if (data.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) continue;
        len += swprintf(list + len, ARRAY_SIZE(list) - len, L"%ls%ls", len ? L", " : L"",
                data.cFileName);
        if (len >= ARRAY_SIZE(list) - MAX_PATH) break;
    } while (FindNextFileW(find, &data));
    FindClose(find);
    return wine_dbgstr_w(list);
}

struct stall_guard
{
    char name[SERVER_TARGET_MAX];
    HANDLE stop;
    HANDLE thread;
};

static DWORD WINAPI stall_guard_thread(void *arg)
{
    struct stall_guard *guard = arg;

    WaitForSingleObject(guard->stop, INFINITE);
    server_release(guard->name);
    return 0;
}

/* The thread waits for the event; a timer sets it, so that the release happens at the latest
 * after timeout_ms. */
struct stall_guard *stall_guard_begin(const char *name, DWORD timeout_ms)
{
    struct stall_guard *guard = calloc(1, sizeof(*guard));

    if (!guard) return NULL;
    snprintf(guard->name, sizeof(guard->name), "%s", name);
    guard->stop = CreateWaitableTimerW(NULL, TRUE, NULL);
    if (guard->stop)
    {
        LARGE_INTEGER due;

        due.QuadPart = -(LONGLONG)timeout_ms * 10000;
        SetWaitableTimer(guard->stop, &due, 0, NULL, NULL, FALSE);
        guard->thread = CreateThread(NULL, 0, stall_guard_thread, guard, 0, NULL);
    }
    if (!guard->thread)
    {
        if (guard->stop) CloseHandle(guard->stop);
        free(guard);
        return NULL;
    }
    return guard;
}

void stall_guard_end(struct stall_guard *guard)
{
    LARGE_INTEGER now;

    if (!guard) return;
    now.QuadPart = -1;
    SetWaitableTimer(guard->stop, &now, 0, NULL, NULL, FALSE);
    WaitForSingleObject(guard->thread, INFINITE);
    CloseHandle(guard->thread);
    CloseHandle(guard->stop);
    free(guard);
}

static inline struct test_callback *impl_from_IBackgroundCopyCallback2(
        IBackgroundCopyCallback2 *iface)
{
    return CONTAINING_RECORD(iface, struct test_callback, IBackgroundCopyCallback2_iface);
}

static HRESULT WINAPI test_callback_QueryInterface(IBackgroundCopyCallback2 *iface, REFIID riid,
        void **out)
{
    if (IsEqualGUID(riid, &IID_IUnknown) || IsEqualGUID(riid, &IID_IBackgroundCopyCallback)
            || IsEqualGUID(riid, &IID_IBackgroundCopyCallback2))
    {
        *out = iface;
        IBackgroundCopyCallback2_AddRef(iface);
        return S_OK;
    }
    *out = NULL;
    return E_NOINTERFACE;
}

static ULONG WINAPI test_callback_AddRef(IBackgroundCopyCallback2 *iface)
{
    return InterlockedIncrement(&impl_from_IBackgroundCopyCallback2(iface)->refcount);
}

static ULONG WINAPI test_callback_Release(IBackgroundCopyCallback2 *iface)
{
    struct test_callback *callback = impl_from_IBackgroundCopyCallback2(iface);
    ULONG refcount = InterlockedDecrement(&callback->refcount);

    if (!refcount)
    {
        CloseHandle(callback->event);
        DeleteCriticalSection(&callback->cs);
        free(callback);
    }
    return refcount;
}

static void local_name_of(IBackgroundCopyFile *file, WCHAR *out, size_t len)
{
    WCHAR *name = NULL;

    out[0] = 0;
    if (file && SUCCEEDED(IBackgroundCopyFile_GetLocalName(file, &name)) && name)
    {
        wcsncpy(out, name, len - 1);
        out[len - 1] = 0;
        CoTaskMemFree(name);
    }
}

/* Fills the common part of CALL from JOB; the service's objects are asked before the lock. */
static void begin_call(struct callback_call *call, enum callback_kind kind,
        IBackgroundCopyJob *job, BOOL ask_state)
{
    memset(call, 0, sizeof(*call));
    call->kind = kind;
    call->state = (BG_JOB_STATE)-1;
    call->time = GetTickCount64();
    if (!job) return;
    if (FAILED(IBackgroundCopyJob_GetId(job, &call->job_id))) call->job_id = GUID_NULL;
    if (ask_state) call->state = get_job_state(job);
}

static HRESULT end_call(struct test_callback *callback, struct callback_call *call)
{
    EnterCriticalSection(&callback->cs);
    call->returned = S_OK;
    if (call->kind == CALLBACK_JOB_TRANSFERRED && callback->fail_transferred > 0)
    {
        callback->fail_transferred--;
        call->returned = E_FAIL;
    }
    if (callback->call_count < CALLBACK_CALLS_MAX) callback->calls[callback->call_count] = *call;
    callback->call_count++;
    callback->counts[call->kind]++;
    SetEvent(callback->event);
    LeaveCriticalSection(&callback->cs);
    return call->returned;
}

static HRESULT WINAPI test_callback_JobTransferred(IBackgroundCopyCallback2 *iface,
        IBackgroundCopyJob *job)
{
    struct callback_call call;

    begin_call(&call, CALLBACK_JOB_TRANSFERRED, job, TRUE);
    return end_call(impl_from_IBackgroundCopyCallback2(iface), &call);
}

static HRESULT WINAPI test_callback_JobError(IBackgroundCopyCallback2 *iface,
        IBackgroundCopyJob *job, IBackgroundCopyError *error)
{
    IBackgroundCopyFile *file = NULL;
    struct callback_call call;

    begin_call(&call, CALLBACK_JOB_ERROR, job, TRUE);
    call.file_hr = E_POINTER;
    if (error)
    {
        if (FAILED(IBackgroundCopyError_GetError(error, &call.context, &call.code)))
            call.code = S_OK;
        call.file_hr = IBackgroundCopyError_GetFile(error, &file);
        if (SUCCEEDED(call.file_hr) && file)
        {
            local_name_of(file, call.file, ARRAY_SIZE(call.file));
            IBackgroundCopyFile_Release(file);
        }
    }
    return end_call(impl_from_IBackgroundCopyCallback2(iface), &call);
}

static HRESULT WINAPI test_callback_JobModification(IBackgroundCopyCallback2 *iface,
        IBackgroundCopyJob *job, DWORD reserved)
{
    struct callback_call call;

    (void)reserved;
    begin_call(&call, CALLBACK_JOB_MODIFICATION, job, FALSE);
    return end_call(impl_from_IBackgroundCopyCallback2(iface), &call);
}

static HRESULT WINAPI test_callback_FileTransferred(IBackgroundCopyCallback2 *iface,
        IBackgroundCopyJob *job, IBackgroundCopyFile *file)
{
    struct callback_call call;

    begin_call(&call, CALLBACK_FILE_TRANSFERRED, job, TRUE);
    local_name_of(file, call.file, ARRAY_SIZE(call.file));
    return end_call(impl_from_IBackgroundCopyCallback2(iface), &call);
}

static const IBackgroundCopyCallback2Vtbl test_callback_vtbl =
{
    test_callback_QueryInterface,
    test_callback_AddRef,
    test_callback_Release,
    /* IBackgroundCopyCallback */
    test_callback_JobTransferred,
    test_callback_JobError,
    test_callback_JobModification,
    /* IBackgroundCopyCallback2 */
    test_callback_FileTransferred,
};

struct test_callback *test_callback_create(void)
{
    struct test_callback *callback = calloc(1, sizeof(*callback));

    if (!callback) return NULL;
    callback->IBackgroundCopyCallback2_iface.lpVtbl = &test_callback_vtbl;
    callback->refcount = 1;
    callback->event = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (!callback->event)
    {
        free(callback);
        return NULL;
    }
    InitializeCriticalSection(&callback->cs);
    return callback;
}

IUnknown *test_callback_unknown(struct test_callback *callback)
{
    return (IUnknown *)&callback->IBackgroundCopyCallback2_iface;
}

void test_callback_release(struct test_callback *callback)
{
    if (callback) IBackgroundCopyCallback2_Release(&callback->IBackgroundCopyCallback2_iface);
}

LONG test_callback_count(struct test_callback *callback, enum callback_kind kind)
{
    LONG count;

    EnterCriticalSection(&callback->cs);
    count = callback->counts[kind];
    LeaveCriticalSection(&callback->cs);
    return count;
}

BOOL test_callback_wait(struct test_callback *callback, enum callback_kind kind, LONG count,
        DWORD timeout_ms)
{
    ULONGLONG deadline = GetTickCount64() + timeout_ms, now;

    for (;;)
    {
        ResetEvent(callback->event);
        if (test_callback_count(callback, kind) >= count) return TRUE;
        now = GetTickCount64();
        if (now >= deadline) return FALSE;
        WaitForSingleObject(callback->event, (DWORD)(deadline - now));
    }
}

BOOL test_callback_get_call(struct test_callback *callback, unsigned int index,
        struct callback_call *out)
{
    BOOL found;

    EnterCriticalSection(&callback->cs);
    found = index < callback->call_count && index < CALLBACK_CALLS_MAX;
    if (found) *out = callback->calls[index];
    LeaveCriticalSection(&callback->cs);
    return found;
}

BOOL test_callback_find_call(struct test_callback *callback, enum callback_kind kind,
        unsigned int index, struct callback_call *out)
{
    struct callback_call call;
    unsigned int i;

    for (i = 0; test_callback_get_call(callback, i, &call); i++)
    {
        if (call.kind != kind) continue;
        if (!index--)
        {
            *out = call;
            return TRUE;
        }
    }
    return FALSE;
}
