/* Two client processes and the service: what one client does to a job, the other sees
 * (behaviour.md §1.1, §9.2), and every kind of value crossing the proxy/stub on the way:
 * strings, GUIDs, structures, enumerators and each interface version.
 *
 * The unit starts this executable again as "crossprocess child PID GUID NAME NEW-JOB-NAME";
 * the child works on the parent's job, then exits with its number of failures, which the
 * parent checks.  Both print to the same output.
 *
 * The parent also checks that every [out] string of the API arrives non-NULL: widl 7 and 8
 * generate interpreted proxies that lose such strings (DESIGN.md, "widl bug").
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#include "util.h"

#define CHILD_TIMEOUT_MS 120000

static const WCHAR parent_description[] = L"description set by the parent";
static const WCHAR child_description[] = L"description set by the child";
static const WCHAR renamed_suffix[] = L" (renamed by the child)";
static const WCHAR parent_remote[] = L"http://example.invalid/crossprocess/parent.txt";
static const WCHAR child_remotes[2][48] =
{
    L"http://example.invalid/crossprocess/child-0.txt",
    L"http://example.invalid/crossprocess/child-1.txt",
};
static const WCHAR parent_local_name[] = L"cross-parent.txt";
static const WCHAR child_local_names[2][24] = { L"cross-child-0.txt", L"cross-child-1.txt" };

static WCHAR *concat(const WCHAR *a, const WCHAR *b)
{
    size_t len = wcslen(a) + wcslen(b) + 1;
    WCHAR *str = CoTaskMemAlloc(len * sizeof(WCHAR));

    if (str) swprintf(str, len, L"%ls%ls", a, b);
    return str;
}

static WCHAR *to_wide(const char *str)
{
    int len = MultiByteToWideChar(CP_ACP, 0, str, -1, NULL, 0);
    WCHAR *wide = CoTaskMemAlloc(len * sizeof(WCHAR));

    if (wide) MultiByteToWideChar(CP_ACP, 0, str, -1, wide, len);
    return wide;
}

/* Checks an [out] string: S_OK, not NULL, and equal to EXPECT unless EXPECT is NULL. */
static void check_out_string(HRESULT hr, WCHAR *str, const WCHAR *expect, const char *what,
        int line)
{
    ok_(__FILE__, line)(hr == S_OK, "%s: %#lx\n", what, hr);
    ok_(__FILE__, line)(str != NULL, "%s returned a NULL string\n", what);
    if (expect)
        ok_(__FILE__, line)(str_equal(str, expect), "%s returned %s, expected %s\n", what,
                wine_dbgstr_w(str), wine_dbgstr_w(expect));
    CoTaskMemFree(str);
}
#define check_out_string(hr, str, expect, what) check_out_string(hr, str, expect, what, __LINE__)

/* Every [out] LPWSTR * of the interfaces, through the proxy. */
static void test_out_strings(void)
{
    static const WCHAR program[] = L"C:\\windows\\system32\\cmd.exe";
    static const WCHAR params[] = L"cmd.exe /c exit 0";
    static const WCHAR headers[] = L"X-Cross: process\r\n";
    IBackgroundCopyJobHttpOptions2 *options2;
    IBackgroundCopyJobHttpOptions *options;
    IBackgroundCopyJob2 *job2;
    IBackgroundCopyJob *job, *reply_job;
    IBackgroundCopyFile *file;
    BG_JOB_PROXY_USAGE usage;
    WCHAR *str, *str2, *local, *reply, *sid;
    WCHAR name[256];
    HRESULT hr;
    GUID id;

    make_job_name(L"out strings", name, ARRAY_SIZE(name));
    job = NULL;
    hr = IBackgroundCopyManager_CreateJob(test_manager, name, BG_JOB_TYPE_DOWNLOAD, &id, &job);
    ok(hr == S_OK, "CreateJob: %#lx\n", hr);
    if (FAILED(hr)) return;

    str = NULL;
    hr = IBackgroundCopyJob_GetDisplayName(job, &str);
    check_out_string(hr, str, name, "GetDisplayName");
    hr = IBackgroundCopyJob_SetDescription(job, parent_description);
    ok(hr == S_OK, "SetDescription: %#lx\n", hr);
    str = NULL;
    hr = IBackgroundCopyJob_GetDescription(job, &str);
    check_out_string(hr, str, parent_description, "GetDescription");
    sid = get_user_sid_string();
    str = NULL;
    hr = IBackgroundCopyJob_GetOwner(job, &str);
    check_out_string(hr, str, sid, "GetOwner");
    LocalFree(sid);

    hr = IBackgroundCopyJob_SetProxySettings(job, BG_JOB_PROXY_USAGE_OVERRIDE,
            L"proxy.invalid:8080", L"<local>");
    ok(hr == S_OK, "SetProxySettings: %#lx\n", hr);
    str = str2 = NULL;
    hr = IBackgroundCopyJob_GetProxySettings(job, &usage, &str, &str2);
    check_out_string(hr, str, L"proxy.invalid:8080", "GetProxySettings list");
    check_out_string(hr, str2, L"<local>", "GetProxySettings bypass list");

    local = temp_path(L"out-strings.txt");
    hr = IBackgroundCopyJob_AddFile(job, parent_remote, local);
    ok(hr == S_OK, "AddFile: %#lx\n", hr);
    if ((file = get_job_file(job, 0)))
    {
        str = NULL;
        hr = IBackgroundCopyFile_GetRemoteName(file, &str);
        check_out_string(hr, str, parent_remote, "GetRemoteName");
        str = NULL;
        hr = IBackgroundCopyFile_GetLocalName(file, &str);
        check_out_string(hr, str, local, "GetLocalName");
        IBackgroundCopyFile_Release(file);
    }
    else
        ok(0, "no file in the job\n");
    CoTaskMemFree(local);

    if (SUCCEEDED(IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJob2, (void **)&job2)))
    {
        hr = IBackgroundCopyJob2_SetNotifyCmdLine(job2, program, params);
        ok(hr == S_OK, "SetNotifyCmdLine: %#lx\n", hr);
        str = str2 = NULL;
        hr = IBackgroundCopyJob2_GetNotifyCmdLine(job2, &str, &str2);
        check_out_string(hr, str, program, "GetNotifyCmdLine program");
        check_out_string(hr, str2, params, "GetNotifyCmdLine parameters");
        hr = IBackgroundCopyJob2_SetNotifyCmdLine(job2, NULL, NULL);
        ok(hr == S_OK, "SetNotifyCmdLine(NULL, NULL): %#lx\n", hr);
        IBackgroundCopyJob2_Release(job2);
    }
    else
        win_skip("IBackgroundCopyJob2 not supported\n");

    if (SUCCEEDED(IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJobHttpOptions,
            (void **)&options)))
    {
        hr = IBackgroundCopyJobHttpOptions_SetCustomHeaders(options, headers);
        ok(hr == S_OK, "SetCustomHeaders: %#lx\n", hr);
        str = NULL;
        hr = IBackgroundCopyJobHttpOptions_GetCustomHeaders(options, &str);
        check_out_string(hr, str, headers, "GetCustomHeaders");
        IBackgroundCopyJobHttpOptions_Release(options);
    }
    else
        win_skip("IBackgroundCopyJobHttpOptions not supported\n");

    if (SUCCEEDED(IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJobHttpOptions2,
            (void **)&options2)))
    {
        str = NULL;
        hr = IBackgroundCopyJobHttpOptions2_GetHttpMethod(options2, &str);
        check_out_string(hr, str, L"GET", "GetHttpMethod");
        IBackgroundCopyJobHttpOptions2_Release(options2);
    }
    else
        win_skip("IBackgroundCopyJobHttpOptions2 not supported\n");

    str = NULL;
    hr = IBackgroundCopyManager_GetErrorDescription(test_manager, BG_E_NOT_FOUND,
            LANGIDFROMLCID(GetThreadLocale()), &str);
    check_out_string(hr, str, NULL, "GetErrorDescription");

    /* Reply file name of an upload-reply job [doc]. */
    reply_job = create_job(L"out strings reply", BG_JOB_TYPE_UPLOAD_REPLY, NULL);
    if (reply_job)
    {
        if (SUCCEEDED(IBackgroundCopyJob_QueryInterface(reply_job, &IID_IBackgroundCopyJob2,
                (void **)&job2)))
        {
            reply = temp_path(L"out-strings-reply.txt");
            hr = IBackgroundCopyJob2_SetReplyFileName(job2, reply);
            ok(hr == S_OK, "SetReplyFileName: %#lx\n", hr);
            str = NULL;
            hr = IBackgroundCopyJob2_GetReplyFileName(job2, &str);
            check_out_string(hr, str, reply, "GetReplyFileName");
            CoTaskMemFree(reply);
            IBackgroundCopyJob2_Release(job2);
        }
        cancel_job(reply_job);
    }

    cancel_job(job);
}

/* Interfaces of the job and of its first file, each used once through its own proxy. */
static void check_interfaces(IBackgroundCopyJob *job)
{
    BITS_JOB_PROPERTY_VALUE value;
    IBackgroundCopyJobHttpOptions3 *options3;
    IBackgroundCopyJobHttpOptions2 *options2;
    IBackgroundCopyJobHttpOptions *options;
    IBackgroundCopyJob2 *job2;
    IBackgroundCopyJob3 *job3;
    IBackgroundCopyJob4 *job4;
    IBackgroundCopyJob5 *job5;
    IBackgroundCopyFile *file;
    IBackgroundCopyFile2 *file2;
    IBackgroundCopyFile3 *file3;
    IBackgroundCopyFile4 *file4;
    IBackgroundCopyFile5 *file5;
    IBackgroundCopyFile6 *file6;
    BG_FILE_RANGE *ranges;
    UINT64 origin, peers;
    WCHAR *str, *str2;
    DWORD count;
    ULONG flags;
    BOOL peer;
    HRESULT hr;

    hr = IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJob2, (void **)&job2);
    ok(hr == S_OK, "QI(IBackgroundCopyJob2): %#lx\n", hr);
    if (SUCCEEDED(hr))
    {
        str = str2 = NULL;
        hr = IBackgroundCopyJob2_GetNotifyCmdLine(job2, &str, &str2);
        ok(hr == S_OK, "GetNotifyCmdLine: %#lx\n", hr);
        /* None set: NULL strings [inferred], maybe empty ones on Windows. */
        ok((!str || broken(!str[0])) && (!str2 || broken(!str2[0])),
                "GetNotifyCmdLine returned %s, %s\n", wine_dbgstr_w(str), wine_dbgstr_w(str2));
        CoTaskMemFree(str);
        CoTaskMemFree(str2);
        IBackgroundCopyJob2_Release(job2);
    }
    hr = IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJob3, (void **)&job3);
    ok(hr == S_OK, "QI(IBackgroundCopyJob3): %#lx\n", hr);
    if (SUCCEEDED(hr))
    {
        flags = 0xdead;
        hr = IBackgroundCopyJob3_GetFileACLFlags(job3, &flags);
        ok(hr == S_OK && flags == 0, "GetFileACLFlags: %#lx, %#lx\n", hr, flags);
        IBackgroundCopyJob3_Release(job3);
    }
    hr = IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJob4, (void **)&job4);
    ok(hr == S_OK, "QI(IBackgroundCopyJob4): %#lx\n", hr);
    if (SUCCEEDED(hr))
    {
        flags = 0;
        hr = IBackgroundCopyJob4_GetMaximumDownloadTime(job4, &flags);
        ok(hr == S_OK && flags != 0, "GetMaximumDownloadTime: %#lx, %lu\n", hr, flags);
        IBackgroundCopyJob4_Release(job4);
    }
    hr = IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJob5, (void **)&job5);
    ok(hr == S_OK || broken(hr == E_NOINTERFACE), "QI(IBackgroundCopyJob5): %#lx\n", hr);
    if (SUCCEEDED(hr))
    {
        memset(&value, 0xcc, sizeof(value));
        hr = IBackgroundCopyJob5_GetProperty(job5, BITS_JOB_PROPERTY_NOTIFICATION_CLSID, &value);
        ok(hr == S_OK && IsEqualGUID(&value.ClsID, &GUID_NULL),
                "GetProperty(NOTIFICATION_CLSID): %#lx, %s\n", hr, wine_dbgstr_guid(&value.ClsID));
        IBackgroundCopyJob5_Release(job5);
    }
    hr = IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJobHttpOptions,
            (void **)&options);
    ok(hr == S_OK, "QI(IBackgroundCopyJobHttpOptions): %#lx\n", hr);
    if (SUCCEEDED(hr))
    {
        flags = 0xdead;
        hr = IBackgroundCopyJobHttpOptions_GetSecurityFlags(options, &flags);
        ok(hr == S_OK && flags == 0, "GetSecurityFlags: %#lx, %#lx\n", hr, flags);
        IBackgroundCopyJobHttpOptions_Release(options);
    }
    hr = IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJobHttpOptions2,
            (void **)&options2);
    ok(hr == S_OK || broken(hr == E_NOINTERFACE), "QI(IBackgroundCopyJobHttpOptions2): %#lx\n",
            hr);
    if (SUCCEEDED(hr)) IBackgroundCopyJobHttpOptions2_Release(options2);
    hr = IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJobHttpOptions3,
            (void **)&options3);
    ok(hr == S_OK || broken(hr == E_NOINTERFACE), "QI(IBackgroundCopyJobHttpOptions3): %#lx\n",
            hr);
    if (SUCCEEDED(hr)) IBackgroundCopyJobHttpOptions3_Release(options3);

    file = get_job_file(job, 0);
    ok(file != NULL, "no file\n");
    if (!file) return;
    hr = IBackgroundCopyFile_QueryInterface(file, &IID_IBackgroundCopyFile2, (void **)&file2);
    ok(hr == S_OK, "QI(IBackgroundCopyFile2): %#lx\n", hr);
    if (SUCCEEDED(hr))
    {
        count = 0xdead;
        ranges = (BG_FILE_RANGE *)0xdeadbeef;
        hr = IBackgroundCopyFile2_GetFileRanges(file2, &count, &ranges);
        ok(hr == S_FALSE && count == 0 && !ranges, "GetFileRanges: %#lx, %lu, %p\n", hr, count,
                ranges);
        IBackgroundCopyFile2_Release(file2);
    }
    hr = IBackgroundCopyFile_QueryInterface(file, &IID_IBackgroundCopyFile3, (void **)&file3);
    ok(hr == S_OK, "QI(IBackgroundCopyFile3): %#lx\n", hr);
    if (SUCCEEDED(hr))
    {
        peer = 0xdead;
        hr = IBackgroundCopyFile3_IsDownloadedFromPeer(file3, &peer);
        ok(hr == S_OK && !peer, "IsDownloadedFromPeer: %#lx, %d\n", hr, peer);
        IBackgroundCopyFile3_Release(file3);
    }
    hr = IBackgroundCopyFile_QueryInterface(file, &IID_IBackgroundCopyFile4, (void **)&file4);
    ok(hr == S_OK, "QI(IBackgroundCopyFile4): %#lx\n", hr);
    if (SUCCEEDED(hr))
    {
        origin = peers = 0xdead;
        hr = IBackgroundCopyFile4_GetPeerDownloadStats(file4, &origin, &peers);
        ok(hr == S_OK && !origin && !peers, "GetPeerDownloadStats: %#lx, %s, %s\n", hr,
                wine_dbgstr_longlong(origin), wine_dbgstr_longlong(peers));
        IBackgroundCopyFile4_Release(file4);
    }
    hr = IBackgroundCopyFile_QueryInterface(file, &IID_IBackgroundCopyFile5, (void **)&file5);
    ok(hr == S_OK || broken(hr == E_NOINTERFACE), "QI(IBackgroundCopyFile5): %#lx\n", hr);
    if (SUCCEEDED(hr)) IBackgroundCopyFile5_Release(file5);
    hr = IBackgroundCopyFile_QueryInterface(file, &IID_IBackgroundCopyFile6, (void **)&file6);
    ok(hr == S_OK || broken(hr == E_NOINTERFACE), "QI(IBackgroundCopyFile6): %#lx\n", hr);
    if (SUCCEEDED(hr)) IBackgroundCopyFile6_Release(file6);
    IBackgroundCopyFile_Release(file);
}

static void check_file(IBackgroundCopyFile *file, const WCHAR *remote, const WCHAR *local)
{
    BG_FILE_PROGRESS progress;
    WCHAR *str;
    HRESULT hr;

    str = NULL;
    hr = IBackgroundCopyFile_GetRemoteName(file, &str);
    check_out_string(hr, str, remote, "GetRemoteName");
    str = NULL;
    hr = IBackgroundCopyFile_GetLocalName(file, &str);
    check_out_string(hr, str, local, "GetLocalName");
    memset(&progress, 0xcc, sizeof(progress));
    hr = IBackgroundCopyFile_GetProgress(file, &progress);
    ok(hr == S_OK && progress.BytesTotal == BG_SIZE_UNKNOWN && progress.BytesTransferred == 0
            && !progress.Completed, "file GetProgress: %#lx, %s %s %d\n", hr,
            wine_dbgstr_longlong(progress.BytesTotal),
            wine_dbgstr_longlong(progress.BytesTransferred), progress.Completed);
}

/* The child: argv = exe, "crossprocess", "child", parent pid, job GUID, job name, new job name. */
static void child_main(int argc, char **argv)
{
    WCHAR *name, *new_name, *renamed, *guid_str, *sid, *str, *parent_local, *locals[2];
    IEnumBackgroundCopyFiles *files;
    IEnumBackgroundCopyJobs *jobs;
    IBackgroundCopyJob *job, *new_job, *listed;
    IBackgroundCopyFile *file;
    BG_JOB_PROGRESS progress;
    BG_JOB_TIMES times;
    BG_FILE_INFO set[2];
    BG_JOB_STATE state;
    BG_JOB_TYPE type;
    DWORD parent_pid;
    GUID id, got;
    ULONG count, i;
    BOOL seen;
    HRESULT hr;

    if (argc < 7)
    {
        ok(0, "child started with %d arguments\n", argc);
        return;
    }
    parent_pid = strtoul(argv[3], NULL, 10);
    guid_str = to_wide(argv[4]);
    name = to_wide(argv[5]);
    new_name = to_wide(argv[6]);
    hr = CLSIDFromString(guid_str, &id);
    ok(hr == S_OK, "cannot parse %s: %#lx\n", argv[4], hr);
    parent_local = process_temp_path(parent_pid, parent_local_name);
    locals[0] = process_temp_path(parent_pid, child_local_names[0]);
    locals[1] = process_temp_path(parent_pid, child_local_names[1]);

    /* The parent's job, found by its GUID [test: jobs are per user, not per process]. */
    job = NULL;
    hr = IBackgroundCopyManager_GetJob(test_manager, &id, &job);
    ok(hr == S_OK, "GetJob(%s): %#lx\n", wine_dbgstr_guid(&id), hr);
    if (FAILED(hr)) goto done;

    memset(&got, 0, sizeof(got));
    hr = IBackgroundCopyJob_GetId(job, &got);
    ok(hr == S_OK && IsEqualGUID(&got, &id), "GetId: %#lx, %s\n", hr, wine_dbgstr_guid(&got));
    type = 0xdead;
    hr = IBackgroundCopyJob_GetType(job, &type);
    ok(hr == S_OK && type == BG_JOB_TYPE_DOWNLOAD, "GetType: %#lx, %d\n", hr, type);
    state = 0xdead;
    hr = IBackgroundCopyJob_GetState(job, &state);
    ok(hr == S_OK && state == BG_JOB_STATE_SUSPENDED, "GetState: %#lx, %d\n", hr, state);
    str = NULL;
    hr = IBackgroundCopyJob_GetDisplayName(job, &str);
    check_out_string(hr, str, name, "GetDisplayName");
    str = NULL;
    hr = IBackgroundCopyJob_GetDescription(job, &str);
    check_out_string(hr, str, parent_description, "GetDescription");
    sid = get_user_sid_string();
    str = NULL;
    hr = IBackgroundCopyJob_GetOwner(job, &str);
    check_out_string(hr, str, sid, "GetOwner");
    LocalFree(sid);

    memset(&progress, 0xcc, sizeof(progress));
    hr = IBackgroundCopyJob_GetProgress(job, &progress);
    ok(hr == S_OK, "GetProgress: %#lx\n", hr);
    ok(progress.BytesTotal == BG_SIZE_UNKNOWN && progress.BytesTransferred == 0
            && progress.FilesTotal == 1 && progress.FilesTransferred == 0,
            "progress %s %s %lu %lu\n", wine_dbgstr_longlong(progress.BytesTotal),
            wine_dbgstr_longlong(progress.BytesTransferred), progress.FilesTotal,
            progress.FilesTransferred);
    memset(&times, 0xcc, sizeof(times));
    hr = IBackgroundCopyJob_GetTimes(job, &times);
    ok(hr == S_OK, "GetTimes: %#lx\n", hr);
    ok(filetime_to_u64(&times.CreationTime) && filetime_to_u64(&times.CreationTime)
            <= filetime_to_u64(&times.ModificationTime)
            && !filetime_to_u64(&times.TransferCompletionTime), "times %s %s %s\n",
            wine_dbgstr_longlong(filetime_to_u64(&times.CreationTime)),
            wine_dbgstr_longlong(filetime_to_u64(&times.ModificationTime)),
            wine_dbgstr_longlong(filetime_to_u64(&times.TransferCompletionTime)));

    /* The parent's file through a file enumerator. */
    hr = IBackgroundCopyJob_EnumFiles(job, &files);
    ok(hr == S_OK, "EnumFiles: %#lx\n", hr);
    if (SUCCEEDED(hr))
    {
        count = 0;
        hr = IEnumBackgroundCopyFiles_GetCount(files, &count);
        ok(hr == S_OK && count == 1, "GetCount: %#lx, %lu\n", hr, count);
        file = NULL;
        hr = IEnumBackgroundCopyFiles_Next(files, 1, &file, &count);
        ok(hr == S_OK && count == 1 && file, "Next: %#lx, %lu\n", hr, count);
        if (file)
        {
            check_file(file, parent_remote, parent_local);
            IBackgroundCopyFile_Release(file);
        }
        IEnumBackgroundCopyFiles_Release(files);
    }

    check_interfaces(job);

    /* Changes for the parent to see. */
    renamed = concat(name, renamed_suffix);
    hr = IBackgroundCopyJob_SetDisplayName(job, renamed);
    ok(hr == S_OK, "SetDisplayName: %#lx\n", hr);
    CoTaskMemFree(renamed);
    hr = IBackgroundCopyJob_SetDescription(job, child_description);
    ok(hr == S_OK, "SetDescription: %#lx\n", hr);
    for (i = 0; i < 2; i++)
    {
        set[i].RemoteName = (WCHAR *)child_remotes[i];
        set[i].LocalName = locals[i];
    }
    hr = IBackgroundCopyJob_AddFileSet(job, 2, set);
    ok(hr == S_OK, "AddFileSet: %#lx\n", hr);

    /* [test] A job of another process of this user is in EnumJobs(0). */
    seen = FALSE;
    hr = IBackgroundCopyManager_EnumJobs(test_manager, 0, &jobs);
    ok(hr == S_OK, "EnumJobs: %#lx\n", hr);
    if (SUCCEEDED(hr))
    {
        while (IEnumBackgroundCopyJobs_Next(jobs, 1, &listed, NULL) == S_OK)
        {
            if (SUCCEEDED(IBackgroundCopyJob_GetId(listed, &got)) && IsEqualGUID(&got, &id))
                seen = TRUE;
            IBackgroundCopyJob_Release(listed);
        }
        IEnumBackgroundCopyJobs_Release(jobs);
    }
    ok(seen, "the parent's job is not in EnumJobs(0)\n");

    /* A job for the parent to find; it outlives this process [doc]. */
    new_job = NULL;
    hr = IBackgroundCopyManager_CreateJob(test_manager, new_name, BG_JOB_TYPE_UPLOAD, &got,
            &new_job);
    ok(hr == S_OK, "CreateJob: %#lx\n", hr);
    if (new_job) IBackgroundCopyJob_Release(new_job);

    IBackgroundCopyJob_Release(job);
done:
    CoTaskMemFree(locals[0]);
    CoTaskMemFree(locals[1]);
    CoTaskMemFree(parent_local);
    CoTaskMemFree(new_name);
    CoTaskMemFree(name);
    CoTaskMemFree(guid_str);
}

/* Finds the job named NAME in EnumJobs(0); returns it if there is exactly one. */
static IBackgroundCopyJob *find_job_by_name(const WCHAR *name, unsigned int *count)
{
    IEnumBackgroundCopyJobs *jobs;
    IBackgroundCopyJob *job, *found = NULL;
    WCHAR *str;

    *count = 0;
    if (FAILED(IBackgroundCopyManager_EnumJobs(test_manager, 0, &jobs))) return NULL;
    while (IEnumBackgroundCopyJobs_Next(jobs, 1, &job, NULL) == S_OK)
    {
        str = NULL;
        if (SUCCEEDED(IBackgroundCopyJob_GetDisplayName(job, &str)) && str_equal(str, name))
        {
            (*count)++;
            if (!found)
            {
                found = job;
                IBackgroundCopyJob_AddRef(found);
            }
        }
        CoTaskMemFree(str);
        IBackgroundCopyJob_Release(job);
    }
    IEnumBackgroundCopyJobs_Release(jobs);
    return found;
}

static void test_child(void)
{
    WCHAR name[256], new_name[256], guid_str[40], *args, *renamed, *str, *sid, *locals[3];
    const WCHAR *remotes[3];
    IEnumBackgroundCopyFiles *files;
    IBackgroundCopyJob *job, *new_job;
    IBackgroundCopyFile *file;
    BG_JOB_TYPE type;
    unsigned int count;
    ULONG fetched, i;
    size_t len;
    GUID id;
    HRESULT hr;

    make_job_name(L"parent job", name, ARRAY_SIZE(name));
    make_job_name(L"child job", new_name, ARRAY_SIZE(new_name));
    job = NULL;
    hr = IBackgroundCopyManager_CreateJob(test_manager, name, BG_JOB_TYPE_DOWNLOAD, &id, &job);
    ok(hr == S_OK, "CreateJob: %#lx\n", hr);
    if (FAILED(hr)) return;
    hr = IBackgroundCopyJob_SetDescription(job, parent_description);
    ok(hr == S_OK, "SetDescription: %#lx\n", hr);
    locals[0] = temp_path(parent_local_name);
    locals[1] = temp_path(child_local_names[0]);
    locals[2] = temp_path(child_local_names[1]);
    remotes[0] = parent_remote;
    remotes[1] = child_remotes[0];
    remotes[2] = child_remotes[1];
    hr = IBackgroundCopyJob_AddFile(job, parent_remote, locals[0]);
    ok(hr == S_OK, "AddFile: %#lx\n", hr);

    StringFromGUID2(&id, guid_str, ARRAY_SIZE(guid_str));
    len = wcslen(name) + wcslen(new_name) + 100;
    args = CoTaskMemAlloc(len * sizeof(WCHAR));
    swprintf(args, len, L"crossprocess child %lu %ls \"%ls\" \"%ls\"", GetCurrentProcessId(),
            guid_str, name, new_name);
    run_child_process(args, FALSE, CHILD_TIMEOUT_MS);
    CoTaskMemFree(args);

    /* What the child changed [test: shared queue]. */
    renamed = concat(name, renamed_suffix);
    str = NULL;
    hr = IBackgroundCopyJob_GetDisplayName(job, &str);
    check_out_string(hr, str, renamed, "GetDisplayName");
    CoTaskMemFree(renamed);
    str = NULL;
    hr = IBackgroundCopyJob_GetDescription(job, &str);
    check_out_string(hr, str, child_description, "GetDescription");
    hr = IBackgroundCopyJob_EnumFiles(job, &files);
    ok(hr == S_OK, "EnumFiles: %#lx\n", hr);
    if (SUCCEEDED(hr))
    {
        fetched = 0;
        hr = IEnumBackgroundCopyFiles_GetCount(files, &fetched);
        ok(hr == S_OK && fetched == 3, "GetCount: %#lx, %lu\n", hr, fetched);
        for (i = 0; i < 3; i++)
        {
            file = NULL;
            if (IEnumBackgroundCopyFiles_Next(files, 1, &file, NULL) != S_OK) break;
            winetest_push_context("file %lu", i);
            check_file(file, remotes[i], locals[i]);
            winetest_pop_context();
            IBackgroundCopyFile_Release(file);
        }
        IEnumBackgroundCopyFiles_Release(files);
    }

    /* The job the child created, owned by the same user. */
    new_job = find_job_by_name(new_name, &count);
    ok(count == 1, "found %u jobs named %s\n", count, wine_dbgstr_w(new_name));
    if (new_job)
    {
        type = 0xdead;
        hr = IBackgroundCopyJob_GetType(new_job, &type);
        ok(hr == S_OK && type == BG_JOB_TYPE_UPLOAD, "GetType: %#lx, %d\n", hr, type);
        sid = get_user_sid_string();
        str = NULL;
        hr = IBackgroundCopyJob_GetOwner(new_job, &str);
        check_out_string(hr, str, sid, "GetOwner");
        LocalFree(sid);
        hr = IBackgroundCopyJob_Cancel(new_job);
        ok(hr == S_OK, "Cancel of the child's job: %#lx\n", hr);
        IBackgroundCopyJob_Release(new_job);
    }

    hr = IBackgroundCopyJob_Cancel(job);
    ok(hr == S_OK, "Cancel: %#lx\n", hr);
    IBackgroundCopyJob_Release(job);
    for (i = 0; i < 3; i++) CoTaskMemFree(locals[i]);
}

START_TEST(crossprocess)
{
    char **argv;
    int argc = winetest_get_mainargs(&argv);

    if (!bits_test_init()) return;
    if (argc >= 3 && !strcmp(argv[2], "child"))
        child_main(argc, argv);
    else
    {
        test_out_strings();
        test_child();
    }
    bits_test_cleanup();
}
