/* AddFile/AddFileSet validation and IBackgroundCopyFile..File6 before any transfer
 * (behaviour.md §2.1, §2.2, §7.2, §7.3).
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#include "util.h"

/* An http URL of exactly LEN characters whose path segments stay far below MAX_PATH. */
static WCHAR *make_url(size_t len)
{
    static const WCHAR prefix[] = L"http://example.invalid/";
    WCHAR *url = make_string(prefix, 'u', len);
    size_t i;

    if (!url) return NULL;
    for (i = ARRAY_SIZE(prefix) - 1 + 100; i < len - 1; i += 100) url[i] = '/';
    return url;
}

static void check_file_count(IBackgroundCopyJob *job, ULONG expected, int line)
{
    BG_JOB_PROGRESS progress;
    ULONG count;
    HRESULT hr;

    count = count_job_files(job);
    ok_(__FILE__, line)(count == expected, "EnumFiles counts %lu files, expected %lu\n", count,
            expected);
    memset(&progress, 0xcc, sizeof(progress));
    hr = IBackgroundCopyJob_GetProgress(job, &progress);
    ok_(__FILE__, line)(hr == S_OK && progress.FilesTotal == expected,
            "GetProgress: %#lx, FilesTotal %lu, expected %lu\n", hr, progress.FilesTotal,
            expected);
}
#define check_file_count(job, expected) check_file_count(job, expected, __LINE__)

/* behaviour.md §2.2, remote and local names. */
static void test_AddFile(void)
{
    WCHAR *local, *local2, *remote, *url, *bad;
    IBackgroundCopyJob *job;
    ULONG count = 0;
    HRESULT hr;

    job = create_job(L"addfile", BG_JOB_TYPE_DOWNLOAD, NULL);
    if (!job) return;
    local = temp_path(L"addfile-local.txt");
    remote = temp_path(L"addfile-remote.txt");

    /* Accepted remote forms [doc][test]; the remote need not exist. */
    hr = IBackgroundCopyJob_AddFile(job, L"http://example.invalid/dir/file.txt", local);
    ok(hr == S_OK, "AddFile(http): %#lx\n", hr);
    if (hr == S_OK) count++;
    local2 = temp_path(L"addfile-https.txt");
    hr = IBackgroundCopyJob_AddFile(job, L"https://example.invalid/file.txt", local2);
    ok(hr == S_OK, "AddFile(https): %#lx\n", hr);
    if (hr == S_OK) count++;
    CoTaskMemFree(local2);
    local2 = temp_path(L"addfile-path.txt");
    hr = IBackgroundCopyJob_AddFile(job, remote, local2);
    ok(hr == S_OK, "AddFile(local path as remote): %#lx\n", hr);
    if (hr == S_OK) count++;
    CoTaskMemFree(local2);
    url = CoTaskMemAlloc((wcslen(remote) + 8) * sizeof(WCHAR));
    wcscpy(url, L"file://");
    wcscat(url, remote);
    local2 = temp_path(L"addfile-fileurl.txt");
    hr = IBackgroundCopyJob_AddFile(job, url, local2);
    ok(hr == S_OK, "AddFile(%s): %#lx\n", wine_dbgstr_w(url), hr);
    if (hr == S_OK) count++;
    CoTaskMemFree(local2);
    CoTaskMemFree(url);
    local2 = temp_path(L"addfile-unc.txt");
    hr = IBackgroundCopyJob_AddFile(job, L"\\\\server.invalid\\share\\file.txt", local2);
    ok(hr == S_OK, "AddFile(UNC): %#lx\n", hr);
    if (hr == S_OK) count++;
    CoTaskMemFree(local2);
    check_file_count(job, count);

    /* Refused remotes [doc]: other schemes, empty, over 2200 characters, a segment over
     * MAX_PATH. */
    local2 = temp_path(L"addfile-refused.txt");
    hr = IBackgroundCopyJob_AddFile(job, L"ftp://example.invalid/file.txt", local2);
    ok(hr == E_INVALIDARG, "AddFile(ftp): %#lx\n", hr);
    hr = IBackgroundCopyJob_AddFile(job, L"", local2);
    ok(hr == E_INVALIDARG, "AddFile(empty remote): %#lx\n", hr);
    bad = make_url(2201);
    hr = IBackgroundCopyJob_AddFile(job, bad, local2);
    ok(hr == E_INVALIDARG, "AddFile(2201-character URL): %#lx\n", hr);
    CoTaskMemFree(bad);
    bad = make_string(L"http://example.invalid/", 's', 23 + MAX_PATH + 1);
    hr = IBackgroundCopyJob_AddFile(job, bad, local2);
    ok(hr == E_INVALIDARG, "AddFile(%u-character segment): %#lx\n", MAX_PATH + 1, hr);
    CoTaskMemFree(bad);
    check_file_count(job, count);

    /* ... but 2200 characters are fine. */
    bad = make_url(2200);
    hr = IBackgroundCopyJob_AddFile(job, bad, local2);
    ok(hr == S_OK, "AddFile(2200-character URL): %#lx\n", hr);
    if (hr == S_OK) count++;
    CoTaskMemFree(bad);
    CoTaskMemFree(local2);

    /* Refused local names [doc]: relative, wildcards, streams, \\?\, longer than MAX_PATH. */
    hr = IBackgroundCopyJob_AddFile(job, L"http://example.invalid/a.txt", L"relative.txt");
    ok(hr == E_INVALIDARG, "AddFile(relative local path): %#lx\n", hr);
    hr = IBackgroundCopyJob_AddFile(job, L"http://example.invalid/a.txt", L"..\\up.txt");
    ok(hr == E_INVALIDARG, "AddFile(..\\ local path): %#lx\n", hr);
    local2 = temp_path(L"wild*.txt");
    hr = IBackgroundCopyJob_AddFile(job, L"http://example.invalid/a.txt", local2);
    ok(hr == E_INVALIDARG, "AddFile(%s): %#lx\n", wine_dbgstr_w(local2), hr);
    CoTaskMemFree(local2);
    local2 = temp_path(L"stream.txt:alternate");
    hr = IBackgroundCopyJob_AddFile(job, L"http://example.invalid/a.txt", local2);
    ok(hr == E_INVALIDARG, "AddFile(%s): %#lx\n", wine_dbgstr_w(local2), hr);
    CoTaskMemFree(local2);
    url = temp_path(L"prefixed.txt");
    local2 = CoTaskMemAlloc((wcslen(url) + 5) * sizeof(WCHAR));
    wcscpy(local2, L"\\\\?\\");
    wcscat(local2, url);
    hr = IBackgroundCopyJob_AddFile(job, L"http://example.invalid/a.txt", local2);
    ok(hr == E_INVALIDARG, "AddFile(%s): %#lx\n", wine_dbgstr_w(local2), hr);
    CoTaskMemFree(local2);
    CoTaskMemFree(url);
    bad = make_string(temp_dir(), 'l', MAX_PATH + 10);
    hr = IBackgroundCopyJob_AddFile(job, L"http://example.invalid/a.txt", bad);
    ok(hr == E_INVALIDARG, "AddFile(%u-character local path): %#lx\n", MAX_PATH + 10, hr);
    CoTaskMemFree(bad);

    /* NULL, refused by the service or by the proxy. */
    local2 = temp_path(L"addfile-null.txt");
    hr = IBackgroundCopyJob_AddFile(job, NULL, local2);
    ok(hr == E_INVALIDARG || hr == HRESULT_NULL_REF, "AddFile(NULL remote): %#lx\n", hr);
    CoTaskMemFree(local2);
    hr = IBackgroundCopyJob_AddFile(job, L"http://example.invalid/a.txt", NULL);
    ok(hr == E_INVALIDARG || hr == HRESULT_NULL_REF, "AddFile(NULL local): %#lx\n", hr);

    /* Gap G4: the same local name twice; E_INVALIDARG recommended [inferred]. */
    hr = IBackgroundCopyJob_AddFile(job, L"http://example.invalid/again.txt", local);
    ok(hr == E_INVALIDARG || broken(hr == S_OK), "AddFile(same local name): %#lx\n", hr);
    if (hr == S_OK) count++;
    /* Gap G5: a missing directory, refused at AddFile [inferred]. */
    local2 = temp_path(L"no-such-directory\\file.txt");
    hr = IBackgroundCopyJob_AddFile(job, L"http://example.invalid/a.txt", local2);
    ok(hr == E_INVALIDARG || hr == HRESULT_FROM_WIN32(ERROR_PATH_NOT_FOUND) || broken(hr == S_OK),
            "AddFile(missing directory): %#lx\n", hr);
    if (hr == S_OK) count++;
    CoTaskMemFree(local2);

    /* Failed calls added nothing. */
    check_file_count(job, count);

    CoTaskMemFree(remote);
    CoTaskMemFree(local);
    cancel_job(job);
}

static void test_AddFileSet(void)
{
    BG_FILE_INFO files[3];
    WCHAR *locals[4];
    IBackgroundCopyJob *job;
    unsigned int i;
    HRESULT hr;

    job = create_job(L"addfileset", BG_JOB_TYPE_DOWNLOAD, NULL);
    if (!job) return;
    locals[0] = temp_path(L"set-0.txt");
    locals[1] = temp_path(L"set-1.txt");
    locals[2] = temp_path(L"set-2.txt");
    locals[3] = temp_path(L"set-3.txt");

    files[0].RemoteName = (WCHAR *)L"http://example.invalid/set-0.txt";
    files[0].LocalName = locals[0];
    files[1].RemoteName = (WCHAR *)L"http://example.invalid/set-1.txt";
    files[1].LocalName = locals[1];
    hr = IBackgroundCopyJob_AddFileSet(job, 2, files);
    ok(hr == S_OK, "AddFileSet(2): %#lx\n", hr);
    check_file_count(job, 2);

    /* One bad element and none is added [inferred for errors other than
     * BG_E_TOO_MANY_FILES, behaviour.md §2.1]. */
    files[0].RemoteName = (WCHAR *)L"http://example.invalid/set-2.txt";
    files[0].LocalName = locals[2];
    files[1].RemoteName = (WCHAR *)L"http://example.invalid/set-3.txt";
    files[1].LocalName = (WCHAR *)L"relative.txt";
    files[2].RemoteName = (WCHAR *)L"http://example.invalid/set-4.txt";
    files[2].LocalName = locals[3];
    hr = IBackgroundCopyJob_AddFileSet(job, 3, files);
    ok(hr == E_INVALIDARG, "AddFileSet with a relative local path: %#lx\n", hr);
    check_file_count(job, 2);
    files[1].RemoteName = (WCHAR *)L"ftp://example.invalid/set-3.txt";
    files[1].LocalName = locals[3];
    hr = IBackgroundCopyJob_AddFileSet(job, 2, files);
    ok(hr == E_INVALIDARG, "AddFileSet with an ftp URL: %#lx\n", hr);
    check_file_count(job, 2);

    /* NULL names inside the array reach the service, which refuses them. */
    files[0].RemoteName = NULL;
    files[0].LocalName = locals[2];
    hr = IBackgroundCopyJob_AddFileSet(job, 1, files);
    ok(hr == E_INVALIDARG || hr == HRESULT_NULL_REF, "AddFileSet(NULL remote): %#lx\n", hr);
    files[0].RemoteName = (WCHAR *)L"http://example.invalid/set-5.txt";
    files[0].LocalName = NULL;
    hr = IBackgroundCopyJob_AddFileSet(job, 1, files);
    ok(hr == E_INVALIDARG || hr == HRESULT_NULL_REF, "AddFileSet(NULL local): %#lx\n", hr);
    hr = IBackgroundCopyJob_AddFileSet(job, 1, NULL);
    ok(hr == E_INVALIDARG || hr == HRESULT_NULL_REF, "AddFileSet(1, NULL): %#lx\n", hr);
    /* An empty set: a no-op or E_INVALIDARG, unknown (behaviour.md §2.2). */
    files[0].LocalName = locals[2];
    hr = IBackgroundCopyJob_AddFileSet(job, 0, files);
    ok(hr == S_OK || hr == E_INVALIDARG, "AddFileSet(0): %#lx\n", hr);
    check_file_count(job, 2);

    for (i = 0; i < ARRAY_SIZE(locals); i++) CoTaskMemFree(locals[i]);
    cancel_job(job);
}

/* behaviour.md §2.2 file count: an upload job takes one file, and nothing of a refused set. */
static void test_upload_file_count(void)
{
    static const BG_JOB_TYPE types[] = { BG_JOB_TYPE_UPLOAD, BG_JOB_TYPE_UPLOAD_REPLY };
    BG_FILE_INFO files[2];
    IBackgroundCopyJob *job;
    WCHAR *source, *source2, *missing;
    unsigned int i;
    HRESULT hr;

    source = temp_path(L"upload-source.txt");
    source2 = temp_path(L"upload-source2.txt");
    missing = temp_path(L"upload-missing.txt");
    ok(write_test_file(source, "upload source\n"), "cannot create %s\n", wine_dbgstr_w(source));
    ok(write_test_file(source2, "second upload source\n"), "cannot create %s\n",
            wine_dbgstr_w(source2));

    for (i = 0; i < ARRAY_SIZE(types); i++)
    {
        winetest_push_context("type %d", types[i]);

        job = create_job(L"upload set", types[i], NULL);
        if (job)
        {
            files[0].RemoteName = (WCHAR *)L"http://example.invalid/upload/a";
            files[0].LocalName = source;
            files[1].RemoteName = (WCHAR *)L"http://example.invalid/upload/b";
            files[1].LocalName = source2;
            hr = IBackgroundCopyJob_AddFileSet(job, 2, files);
            ok(hr == BG_E_TOO_MANY_FILES, "AddFileSet(2): %#lx\n", hr);
            check_file_count(job, 0);
            hr = IBackgroundCopyJob_AddFileSet(job, 1, files);
            ok(hr == S_OK, "AddFileSet(1): %#lx\n", hr);
            hr = IBackgroundCopyJob_AddFileSet(job, 1, files + 1);
            ok(hr == BG_E_TOO_MANY_FILES, "AddFileSet on a job with a file: %#lx\n", hr);
            check_file_count(job, 1);
            cancel_job(job);
        }

        job = create_job(L"upload", types[i], NULL);
        if (job)
        {
            hr = IBackgroundCopyJob_AddFile(job, L"http://example.invalid/upload/c", source);
            ok(hr == S_OK, "AddFile: %#lx\n", hr);
            hr = IBackgroundCopyJob_AddFile(job, L"http://example.invalid/upload/d", source2);
            ok(hr == BG_E_TOO_MANY_FILES, "second AddFile: %#lx\n", hr);
            check_file_count(job, 1);
            cancel_job(job);
        }

        /* The upload source is checked at AddFile [inferred], or only when the job runs. */
        job = create_job(L"upload missing", types[i], NULL);
        if (job)
        {
            hr = IBackgroundCopyJob_AddFile(job, L"http://example.invalid/upload/e", missing);
            ok(hr == HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND) || hr == E_INVALIDARG
                    || broken(hr == S_OK), "AddFile(missing source): %#lx\n", hr);
            cancel_job(job);
        }
        winetest_pop_context();
    }

    /* Upload-reply jobs need HTTP: no SMB [inferred E_INVALIDARG]. */
    job = create_job(L"upload-reply smb", BG_JOB_TYPE_UPLOAD_REPLY, NULL);
    if (job)
    {
        hr = IBackgroundCopyJob_AddFile(job, L"\\\\server.invalid\\share\\reply", source);
        ok(hr == E_INVALIDARG || broken(hr == S_OK), "AddFile(UNC) on upload-reply: %#lx\n", hr);
        cancel_job(job);
    }

    CoTaskMemFree(missing);
    CoTaskMemFree(source2);
    CoTaskMemFree(source);
}

/* behaviour.md §11: EnumFiles lists the files in job order; §7.2 and §7.3 [test]. */
static void test_EnumFiles_order(void)
{
    static const WCHAR *remotes[] =
    {
        L"http://example.invalid/order/0.txt",
        L"http://example.invalid/order/1.txt",
        L"https://example.invalid/order/2.txt",
        L"http://example.invalid/order/3.txt",
        L"http://example.invalid/order/4.txt",
    };
    static const WCHAR *names[] = { L"order-0.txt", L"order-1.txt", L"order-2.txt",
            L"order-3.txt", L"order-4.txt" };
    WCHAR *locals[ARRAY_SIZE(names)], *str;
    IEnumBackgroundCopyFiles *files;
    IBackgroundCopyFile *file;
    IBackgroundCopyJob *job;
    BG_FILE_PROGRESS progress;
    BG_JOB_PROGRESS job_progress;
    BG_FILE_INFO set[2];
    ULONG i, count;
    HRESULT hr;

    job = create_job(L"order", BG_JOB_TYPE_DOWNLOAD, NULL);
    if (!job) return;
    for (i = 0; i < ARRAY_SIZE(names); i++) locals[i] = temp_path(names[i]);
    for (i = 0; i < 3; i++)
    {
        hr = IBackgroundCopyJob_AddFile(job, remotes[i], locals[i]);
        ok(hr == S_OK, "AddFile(%lu): %#lx\n", i, hr);
    }
    for (i = 0; i < 2; i++)
    {
        set[i].RemoteName = (WCHAR *)remotes[3 + i];
        set[i].LocalName = locals[3 + i];
    }
    hr = IBackgroundCopyJob_AddFileSet(job, 2, set);
    ok(hr == S_OK, "AddFileSet: %#lx\n", hr);

    /* Sizes are unknown until the job runs [doc]. */
    memset(&job_progress, 0xcc, sizeof(job_progress));
    hr = IBackgroundCopyJob_GetProgress(job, &job_progress);
    ok(hr == S_OK, "GetProgress: %#lx\n", hr);
    ok(job_progress.FilesTotal == 5 && job_progress.FilesTransferred == 0
            && job_progress.BytesTransferred == 0 && job_progress.BytesTotal == BG_SIZE_UNKNOWN,
            "job progress %s %s %lu %lu\n", wine_dbgstr_longlong(job_progress.BytesTotal),
            wine_dbgstr_longlong(job_progress.BytesTransferred), job_progress.FilesTotal,
            job_progress.FilesTransferred);

    hr = IBackgroundCopyJob_EnumFiles(job, &files);
    ok(hr == S_OK, "EnumFiles: %#lx\n", hr);
    if (FAILED(hr)) goto done;
    count = 0;
    hr = IEnumBackgroundCopyFiles_GetCount(files, &count);
    ok(hr == S_OK && count == ARRAY_SIZE(names), "GetCount: %#lx, %lu\n", hr, count);
    for (i = 0; i < ARRAY_SIZE(names); i++)
    {
        winetest_push_context("file %lu", i);
        file = NULL;
        hr = IEnumBackgroundCopyFiles_Next(files, 1, &file, NULL);
        ok(hr == S_OK, "Next: %#lx\n", hr);
        if (hr != S_OK)
        {
            winetest_pop_context();
            break;
        }
        str = NULL;
        hr = IBackgroundCopyFile_GetRemoteName(file, &str);
        ok(hr == S_OK, "GetRemoteName: %#lx\n", hr);
        ok(str_equal(str, remotes[i]), "remote name %s, expected %s\n", wine_dbgstr_w(str),
                wine_dbgstr_w(remotes[i]));
        CoTaskMemFree(str);
        str = NULL;
        hr = IBackgroundCopyFile_GetLocalName(file, &str);
        ok(hr == S_OK, "GetLocalName: %#lx\n", hr);
        ok(str_equal(str, locals[i]), "local name %s, expected %s\n", wine_dbgstr_w(str),
                wine_dbgstr_w(locals[i]));
        CoTaskMemFree(str);
        memset(&progress, 0xcc, sizeof(progress));
        hr = IBackgroundCopyFile_GetProgress(file, &progress);
        ok(hr == S_OK, "GetProgress: %#lx\n", hr);
        ok(progress.BytesTotal == BG_SIZE_UNKNOWN && progress.BytesTransferred == 0
                && progress.Completed == FALSE, "file progress %s %s %d\n",
                wine_dbgstr_longlong(progress.BytesTotal),
                wine_dbgstr_longlong(progress.BytesTransferred), progress.Completed);
        IBackgroundCopyFile_Release(file);
        winetest_pop_context();
    }
    file = (IBackgroundCopyFile *)0xdeadbeef;
    hr = IEnumBackgroundCopyFiles_Next(files, 1, &file, NULL);
    ok(hr == S_FALSE, "Next past the end: %#lx\n", hr);
    IEnumBackgroundCopyFiles_Release(files);

done:
    for (i = 0; i < ARRAY_SIZE(names); i++) CoTaskMemFree(locals[i]);
    cancel_job(job);
}

static void *query_file(IBackgroundCopyFile *file, REFIID riid, const char *name)
{
    void *out = NULL;
    HRESULT hr;

    hr = IBackgroundCopyFile_QueryInterface(file, riid, &out);
    if (hr == E_NOINTERFACE)
    {
        win_skip("%s not supported\n", name);
        return NULL;
    }
    ok(hr == S_OK && out, "QueryInterface(%s): %#lx\n", name, hr);
    return SUCCEEDED(hr) ? out : NULL;
}

static BOOL in_directory(const WCHAR *path, const WCHAR *sibling)
{
    const WCHAR *slash = wcsrchr(sibling, '\\');
    size_t len = slash ? (size_t)(slash - sibling + 1) : 0;

    return path && len && !wcsncmp(path, sibling, len) && !wcschr(path + len, '\\');
}

/* The File interfaces of a download file, and what they answer before a transfer. */
static void test_file_interfaces(void)
{
    static const struct
    {
        const IID *iid;
        const char *name;
    }
    interfaces[] =
    {
        { &IID_IBackgroundCopyFile2, "IBackgroundCopyFile2" },
        { &IID_IBackgroundCopyFile3, "IBackgroundCopyFile3" },
        { &IID_IBackgroundCopyFile4, "IBackgroundCopyFile4" },
        { &IID_IBackgroundCopyFile5, "IBackgroundCopyFile5" },
        { &IID_IBackgroundCopyFile6, "IBackgroundCopyFile6" },
    };
    IBackgroundCopyFile *file, *back;
    IBackgroundCopyFile2 *file2;
    IBackgroundCopyFile3 *file3;
    IBackgroundCopyFile4 *file4;
    IBackgroundCopyJob *job;
    BG_FILE_RANGE *ranges;
    UINT64 from_origin, from_peers;
    WCHAR *local, *str, *long_url;
    DWORD range_count;
    unsigned int i;
    IUnknown *unk;
    BOOL value;
    HRESULT hr;

    job = create_job(L"file interfaces", BG_JOB_TYPE_DOWNLOAD, NULL);
    if (!job) return;
    local = temp_path(L"interfaces.txt");
    hr = IBackgroundCopyJob_AddFile(job, L"http://example.invalid/interfaces.txt", local);
    ok(hr == S_OK, "AddFile: %#lx\n", hr);
    file = get_job_file(job, 0);
    ok(file != NULL, "no file\n");
    if (!file) goto done;

    for (i = 0; i < ARRAY_SIZE(interfaces); i++)
    {
        winetest_push_context("%s", interfaces[i].name);
        unk = query_file(file, interfaces[i].iid, interfaces[i].name);
        if (unk)
        {
            ok(same_object(unk, (IUnknown *)file), "not the file's object\n");
            back = NULL;
            hr = IUnknown_QueryInterface(unk, &IID_IBackgroundCopyFile, (void **)&back);
            ok(hr == S_OK && back, "QI back to IBackgroundCopyFile: %#lx\n", hr);
            if (back)
            {
                str = NULL;
                hr = IBackgroundCopyFile_GetLocalName(back, &str);
                ok(hr == S_OK && str_equal(str, local), "GetLocalName through it: %#lx, %s\n",
                        hr, wine_dbgstr_w(str));
                CoTaskMemFree(str);
                IBackgroundCopyFile_Release(back);
            }
            IUnknown_Release(unk);
        }
        winetest_pop_context();
    }
    unk = (IUnknown *)0xdeadbeef;
    hr = IBackgroundCopyFile_QueryInterface(file, &IID_IBackgroundCopyJob, (void **)&unk);
    ok(hr == E_NOINTERFACE && !unk, "QI(IBackgroundCopyJob): %#lx, %p\n", hr, unk);

    if ((file2 = query_file(file, &IID_IBackgroundCopyFile2, "IBackgroundCopyFile2")))
    {
        /* [doc] No ranges: S_FALSE, 0 and NULL. */
        range_count = 0xdead;
        ranges = (BG_FILE_RANGE *)0xdeadbeef;
        hr = IBackgroundCopyFile2_GetFileRanges(file2, &range_count, &ranges);
        ok(hr == S_FALSE, "GetFileRanges: %#lx\n", hr);
        ok(range_count == 0 && ranges == NULL, "GetFileRanges returned %lu ranges at %p\n",
                range_count, ranges);

        /* [doc] A new remote name, checked like AddFile's. */
        hr = IBackgroundCopyFile2_SetRemoteName(file2, L"http://example.invalid/renamed.txt");
        ok(hr == S_OK, "SetRemoteName: %#lx\n", hr);
        str = NULL;
        hr = IBackgroundCopyFile2_GetRemoteName(file2, &str);
        ok(hr == S_OK && str_equal(str, L"http://example.invalid/renamed.txt"),
                "GetRemoteName: %#lx, %s\n", hr, wine_dbgstr_w(str));
        CoTaskMemFree(str);
        hr = IBackgroundCopyFile2_SetRemoteName(file2, L"ftp://example.invalid/renamed.txt");
        ok(hr == E_INVALIDARG, "SetRemoteName(ftp): %#lx\n", hr);
        long_url = make_url(2201);
        hr = IBackgroundCopyFile2_SetRemoteName(file2, long_url);
        ok(hr == E_INVALIDARG, "SetRemoteName(2201 characters): %#lx\n", hr);
        CoTaskMemFree(long_url);
        hr = IBackgroundCopyFile2_SetRemoteName(file2, NULL);
        ok(hr == E_INVALIDARG || hr == HRESULT_NULL_REF, "SetRemoteName(NULL): %#lx\n", hr);
        str = NULL;
        IBackgroundCopyFile2_GetRemoteName(file2, &str);
        ok(str_equal(str, L"http://example.invalid/renamed.txt"), "remote name changed to %s\n",
                wine_dbgstr_w(str));
        CoTaskMemFree(str);
        IBackgroundCopyFile2_Release(file2);
    }

    if ((file3 = query_file(file, &IID_IBackgroundCopyFile3, "IBackgroundCopyFile3")))
    {
        /* No peers without peer caching [doc-derived]. */
        value = 0xdead;
        hr = IBackgroundCopyFile3_IsDownloadedFromPeer(file3, &value);
        ok(hr == S_OK && value == FALSE, "IsDownloadedFromPeer: %#lx, %d\n", hr, value);
        /* Nothing to validate before the file is transferred [inferred]. */
        hr = IBackgroundCopyFile3_SetValidationState(file3, TRUE);
        ok(hr == BG_E_INVALID_STATE || broken(FAILED(hr)), "SetValidationState: %#lx\n", hr);
        /* The temporary file, if it is named already, lies beside the destination
         * (behaviour.md §10; its BIT*.tmp pattern is gap G17). */
        str = NULL;
        hr = IBackgroundCopyFile3_GetTemporaryName(file3, &str);
        ok(FAILED(hr) || !str || in_directory(str, local), "GetTemporaryName: %#lx, %s\n", hr,
                wine_dbgstr_w(str));
        if (SUCCEEDED(hr)) CoTaskMemFree(str);
        IBackgroundCopyFile3_Release(file3);
    }

    if ((file4 = query_file(file, &IID_IBackgroundCopyFile4, "IBackgroundCopyFile4")))
    {
        /* [inferred] Zeros without peer caching. */
        from_origin = from_peers = 0xdead;
        hr = IBackgroundCopyFile4_GetPeerDownloadStats(file4, &from_origin, &from_peers);
        ok(hr == S_OK && from_origin == 0 && from_peers == 0,
                "GetPeerDownloadStats: %#lx, %s, %s\n", hr, wine_dbgstr_longlong(from_origin),
                wine_dbgstr_longlong(from_peers));
        IBackgroundCopyFile4_Release(file4);
    }

    /* File objects keep answering once their job is cancelled (gap G14). */
    hr = IBackgroundCopyJob_Cancel(job);
    ok(hr == S_OK, "Cancel: %#lx\n", hr);
    str = NULL;
    hr = IBackgroundCopyFile_GetLocalName(file, &str);
    ok(hr == S_OK && str_equal(str, local), "GetLocalName after Cancel: %#lx, %s\n", hr,
            wine_dbgstr_w(str));
    CoTaskMemFree(str);
    IBackgroundCopyFile_Release(file);

done:
    CoTaskMemFree(local);
    cancel_job(job);
}

/* File2::SetRemoteName is for downloads only [doc]. */
static void test_upload_SetRemoteName(void)
{
    IBackgroundCopyFile2 *file2;
    IBackgroundCopyFile *file;
    IBackgroundCopyJob *job;
    WCHAR *source;
    HRESULT hr;

    source = temp_path(L"upload-rename.txt");
    ok(write_test_file(source, "upload\n"), "cannot create %s\n", wine_dbgstr_w(source));
    job = create_job(L"upload rename", BG_JOB_TYPE_UPLOAD, NULL);
    if (job)
    {
        hr = IBackgroundCopyJob_AddFile(job, L"http://example.invalid/upload/rename", source);
        ok(hr == S_OK, "AddFile: %#lx\n", hr);
        file = get_job_file(job, 0);
        if (file && (file2 = query_file(file, &IID_IBackgroundCopyFile2, "IBackgroundCopyFile2")))
        {
            hr = IBackgroundCopyFile2_SetRemoteName(file2, L"http://example.invalid/upload/other");
            ok(hr == E_NOTIMPL, "SetRemoteName on an upload file: %#lx\n", hr);
            IBackgroundCopyFile2_Release(file2);
        }
        if (file) IBackgroundCopyFile_Release(file);
        cancel_job(job);
    }
    CoTaskMemFree(source);
}

START_TEST(file)
{
    if (!bits_test_init()) return;
    test_AddFile();
    test_AddFileSet();
    test_upload_file_count();
    test_EnumFiles_order();
    test_file_interfaces();
    test_upload_SetRemoteName();
    bits_test_cleanup();
}
