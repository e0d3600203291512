/* bitsadmin: job life cycle and listing commands, wire-and-tools.md §3.3 "Job lifecycle" and
 * "Listing / monitoring", with the outputs of §3.4.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "bitsadmin.h"

#define DEFAULT_MONITOR_REFRESH 5

int cmd_create(struct context *ctx, const struct command *cmd, int argc, WCHAR **argv)
{
    BG_JOB_TYPE type = BG_JOB_TYPE_DOWNLOAD;
    IBackgroundCopyJob *job;
    WCHAR id_text[40];
    GUID id;
    HRESULT hr;

    (void)cmd;
    if (argc == 2)
    {
        if (is_switch(argv[0], L"/DOWNLOAD"))
            type = BG_JOB_TYPE_DOWNLOAD;
        else if (is_switch(argv[0], L"/UPLOAD"))
            type = BG_JOB_TYPE_UPLOAD;
        else if (is_switch(argv[0], L"/UPLOAD-REPLY"))
            type = BG_JOB_TYPE_UPLOAD_REPLY;
        else
            return usage_error(L"Invalid job type '%ls'; use /DOWNLOAD, /UPLOAD or /UPLOAD-REPLY.",
                               argv[0]);
        argv++;
    }
    hr = IBackgroundCopyManager_CreateJob(ctx->manager, argv[0], type, &id, &job);
    if (FAILED(hr)) return report_failure(ctx, L"create job", hr);
    IBackgroundCopyJob_Release(job);
    StringFromGUID2(&id, id_text, ARRAYSIZE(id_text));
    if (output_is_raw())
        output(L"%ls\n", id_text);
    else
        output(L"Created job %ls.\n", id_text);
    return 0;
}

/* Options of /LIST, /MONITOR and /RESET; FALSE after reporting an unknown one. */
static BOOL parse_list_options(int argc, WCHAR **argv, BOOL *all_users, BOOL *verbose,
                               ULONG *refresh, int *ret)
{
    int i;

    for (i = 0; i < argc; i++)
    {
        if (is_switch(argv[i], L"/ALLUSERS"))
            *all_users = TRUE;
        else if (verbose && is_switch(argv[i], L"/VERBOSE"))
            *verbose = TRUE;
        else if (refresh && is_switch(argv[i], L"/REFRESH") && i + 1 < argc)
        {
            if (!parse_ulong(argv[++i], refresh) || !*refresh)
            {
                *ret = usage_error(L"Invalid refresh interval '%ls'.", argv[i]);
                return FALSE;
            }
        }
        else
        {
            *ret = usage_error(L"Invalid argument '%ls'.", argv[i]);
            return FALSE;
        }
    }
    return TRUE;
}

/* Prints the visible jobs, as lines or verbose blocks, and "Listed N job(s)." */
static int list_jobs(struct context *ctx, BOOL all_users, BOOL verbose)
{
    const WCHAR *action = L"get job properties";
    IEnumBackgroundCopyJobs *jobs;
    IBackgroundCopyJob *job;
    unsigned int count = 0;
    HRESULT hr;

    hr = IBackgroundCopyManager_EnumJobs(ctx->manager, all_users ? BG_JOB_ENUM_ALL_USERS : 0,
                                         &jobs);
    if (FAILED(hr)) return report_failure(ctx, L"enumerate jobs", hr);
    while (IEnumBackgroundCopyJobs_Next(jobs, 1, &job, NULL) == S_OK)
    {
        if (verbose)
        {
            hr = print_job_verbose(ctx, job, &action);
            if (SUCCEEDED(hr)) output(L"\n");
        }
        else
        {
            hr = print_job_line(job);
        }
        IBackgroundCopyJob_Release(job);
        if (FAILED(hr)) break;
        count++;
    }
    IEnumBackgroundCopyJobs_Release(jobs);
    if (FAILED(hr)) return report_failure(ctx, action, hr);
    if (!output_is_raw()) output(L"Listed %u job(s).\n", count);
    return 0;
}

int cmd_list(struct context *ctx, const struct command *cmd, int argc, WCHAR **argv)
{
    BOOL all_users = FALSE, verbose = FALSE;
    int ret;

    (void)cmd;
    if (!parse_list_options(argc, argv, &all_users, &verbose, NULL, &ret)) return ret;
    return list_jobs(ctx, all_users, verbose);
}

/* Redraws the job list every few seconds until Ctrl+C ends the process; on a console in
 * place, elsewhere one list after another. */
int cmd_monitor(struct context *ctx, const struct command *cmd, int argc, WCHAR **argv)
{
    ULONG refresh = DEFAULT_MONITOR_REFRESH;
    BOOL all_users = FALSE;
    int ret;

    (void)cmd;
    if (!parse_list_options(argc, argv, &all_users, NULL, &refresh, &ret)) return ret;
    output_block_begin();
    for (;;)
    {
        /* wire-and-tools.md §3.3 /MONITOR */
        output(L"MONITORING BACKGROUND COPY MANAGER(%lu second refresh)\n", refresh);
        ret = list_jobs(ctx, all_users, FALSE);
        if (ret) return ret;
        if (!output_is_console()) output(L"\n");
        output_flush();
        /* The refresh interval the user asked for; nothing waits on the service here. */
        Sleep(refresh * 1000);
        if (output_is_console()) output_block_rewind();
    }
}

/* wire-and-tools.md §3.3 /RESET: "{GUID} canceled." per job, then "N out of M jobs canceled."
 * The exit code is the first failure, if any. */
int cmd_reset(struct context *ctx, const struct command *cmd, int argc, WCHAR **argv)
{
    IEnumBackgroundCopyJobs *jobs;
    IBackgroundCopyJob *job;
    unsigned int total = 0, canceled = 0;
    WCHAR id_text[40], action[64];
    BOOL all_users = FALSE;
    int ret = 0, failure;
    GUID id;
    HRESULT hr;

    (void)cmd;
    if (!parse_list_options(argc, argv, &all_users, NULL, NULL, &ret)) return ret;
    hr = IBackgroundCopyManager_EnumJobs(ctx->manager, all_users ? BG_JOB_ENUM_ALL_USERS : 0,
                                         &jobs);
    if (FAILED(hr)) return report_failure(ctx, L"enumerate jobs", hr);
    while (IEnumBackgroundCopyJobs_Next(jobs, 1, &job, NULL) == S_OK)
    {
        total++;
        wcscpy(action, L"cancel job");
        hr = IBackgroundCopyJob_GetId(job, &id);
        if (SUCCEEDED(hr))
        {
            StringFromGUID2(&id, id_text, ARRAYSIZE(id_text));
            _snwprintf(action, ARRAYSIZE(action), L"cancel job %ls", id_text);
            hr = IBackgroundCopyJob_Cancel(job);
        }
        IBackgroundCopyJob_Release(job);
        if (FAILED(hr))
        {
            failure = report_failure(ctx, action, hr);
            if (!ret) ret = failure;
            continue;
        }
        canceled++;
        if (!output_is_raw()) output(L"%ls canceled.\n", id_text);
    }
    IEnumBackgroundCopyJobs_Release(jobs);
    if (!output_is_raw()) output(L"%u out of %u jobs canceled.\n", canceled, total);
    return ret;
}

int op_addfile(struct context *ctx, const struct command *cmd, IBackgroundCopyJob *job,
               int argc, WCHAR **argv)
{
    HRESULT hr;

    (void)cmd;
    (void)argc;
    hr = IBackgroundCopyJob_AddFile(job, argv[0], argv[1]);
    if (FAILED(hr)) return report_failure(ctx, L"add file", hr);
    if (!output_is_raw()) output(L"Added %ls -> %ls to job.\n", argv[0], argv[1]);
    return 0;
}

/* The text of a file set: UTF-16 with its BOM, UTF-8 (with or without BOM), else the ANSI
 * code page.  Returns a malloc'ed string. */
static HRESULT read_text_file(const WCHAR *path, WCHAR **text)
{
    LARGE_INTEGER size;
    DWORD read;
    HANDLE file;
    BYTE *data;
    UINT codepage = CP_UTF8;
    int len, offset = 0;
    HRESULT hr = S_OK;

    *text = NULL;
    file = CreateFileW(path, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING,
                       FILE_ATTRIBUTE_NORMAL, NULL);
    if (file == INVALID_HANDLE_VALUE) return HRESULT_FROM_WIN32(GetLastError());
    if (!GetFileSizeEx(file, &size))
    {
        hr = HRESULT_FROM_WIN32(GetLastError());
        CloseHandle(file);
        return hr;
    }
    if (size.QuadPart > 16 * 1024 * 1024)
    {
        CloseHandle(file);
        return HRESULT_FROM_WIN32(ERROR_FILE_TOO_LARGE);
    }
    data = malloc(size.LowPart + 2);
    if (!data)
    {
        CloseHandle(file);
        return E_OUTOFMEMORY;
    }
    if (!ReadFile(file, data, size.LowPart, &read, NULL)) hr = HRESULT_FROM_WIN32(GetLastError());
    CloseHandle(file);
    if (FAILED(hr)) goto done;

    if (read >= 2 && data[0] == 0xff && data[1] == 0xfe)
    {
        len = (read - 2) / sizeof(WCHAR);
        *text = malloc((len + 1) * sizeof(WCHAR));
        if (!*text)
        {
            hr = E_OUTOFMEMORY;
            goto done;
        }
        memcpy(*text, data + 2, len * sizeof(WCHAR));
        (*text)[len] = 0;
        goto done;
    }
    if (read >= 3 && data[0] == 0xef && data[1] == 0xbb && data[2] == 0xbf) offset = 3;
    len = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, (char *)data + offset,
                              read - offset, NULL, 0);
    if (!len && read > (DWORD)offset)
    {
        codepage = CP_ACP;
        len = MultiByteToWideChar(codepage, 0, (char *)data + offset, read - offset, NULL, 0);
    }
    *text = malloc((len + 1) * sizeof(WCHAR));
    if (!*text)
    {
        hr = E_OUTOFMEMORY;
        goto done;
    }
    MultiByteToWideChar(codepage, 0, (char *)data + offset, read - offset, *text, len);
    (*text)[len] = 0;
done:
    free(data);
    return hr;
}

/* Cuts the next name from *pos: a run of non-blanks, or a "quoted" run that may hold
 * blanks.  Returns NULL at the end of the line. */
static WCHAR *next_token(WCHAR **pos)
{
    WCHAR *start, *end;

    start = *pos + wcsspn(*pos, L" \t");
    if (!*start) return NULL;
    if (*start == '"')
    {
        start++;
        end = wcschr(start, '"');
        if (!end) end = start + wcslen(start);
    }
    else
    {
        end = start + wcscspn(start, L" \t");
    }
    *pos = *end ? end + 1 : end;
    *end = 0;
    return start;
}

/* wire-and-tools.md §3.3 /ADDFILESET: one "<remote> <local>" per line, '#' lines are
 * comments; the whole set is read first, then added with a single AddFileSet. */
int op_addfileset(struct context *ctx, const struct command *cmd, IBackgroundCopyJob *job,
                  int argc, WCHAR **argv)
{
    WCHAR *text, *line, *next, *pos, *extra;
    unsigned int count = 0, size = 0, number = 0;
    BG_FILE_INFO *files = NULL, *grown, empty = { NULL, NULL };
    int ret = 0;
    HRESULT hr;

    (void)cmd;
    (void)argc;
    hr = read_text_file(argv[0], &text);
    if (FAILED(hr)) return report_failure(ctx, L"read file set", hr);
    for (line = text; line; line = next)
    {
        next = wcschr(line, '\n');
        if (next) *next++ = 0;
        number++;
        line[wcscspn(line, L"\r")] = 0;
        pos = line + wcsspn(line, L" \t");
        if (!*pos || *pos == '#') continue;
        if (count == size)
        {
            size = size ? size * 2 : 16;
            grown = realloc(files, size * sizeof(*files));
            if (!grown)
            {
                ret = report_failure(ctx, L"read file set", E_OUTOFMEMORY);
                goto done;
            }
            files = grown;
        }
        files[count].RemoteName = next_token(&pos);
        files[count].LocalName = next_token(&pos);
        extra = next_token(&pos);
        if (!files[count].LocalName || extra)
        {
            ret = usage_error(L"Line %u of %ls: expected a remote name and a local name.",
                              number, argv[0]);
            goto done;
        }
        count++;
    }
    /* The set is a [ref] array for the proxy: not NULL, even when empty. */
    hr = IBackgroundCopyJob_AddFileSet(job, count, files ? files : &empty);
    if (FAILED(hr))
        ret = report_failure(ctx, L"add file set", hr);
    else if (!output_is_raw())
        output(L"Added %u file(s) to job.\n", count);
done:
    free(files);
    free(text);
    return ret;
}

/* wire-and-tools.md §3.3: "off:len,off:len,...", where a length may be eof.  Returns a
 * malloc'ed array, or NULL when the list is not of that form. */
static BG_FILE_RANGE *parse_ranges(WCHAR *text, DWORD *count)
{
    BG_FILE_RANGE *ranges;
    WCHAR *item = text, *end, *colon;
    DWORD n = 1;
    WCHAR *p;

    for (p = text; *p; p++)
        if (*p == ',') n++;
    ranges = malloc(n * sizeof(*ranges));
    if (!ranges) return NULL;
    for (*count = 0; *count < n; (*count)++, item = end + 1)
    {
        end = item + wcscspn(item, L",");
        *end = 0;
        colon = wcschr(item, ':');
        if (!colon) break;
        *colon = 0;
        if (!parse_uint64(item, &ranges[*count].InitialOffset)) break;
        if (!_wcsicmp(colon + 1, L"eof"))
            ranges[*count].Length = BG_LENGTH_TO_EOF;
        else if (!parse_uint64(colon + 1, &ranges[*count].Length))
            break;
    }
    if (*count == n) return ranges;
    free(ranges);
    return NULL;
}

int op_addfilewithranges(struct context *ctx, const struct command *cmd,
                         IBackgroundCopyJob *job, int argc, WCHAR **argv)
{
    IBackgroundCopyJob3 *job3;
    BG_FILE_RANGE *ranges;
    DWORD count;
    HRESULT hr;

    (void)cmd;
    (void)argc;
    ranges = parse_ranges(argv[2], &count);
    if (!ranges)
        return usage_error(L"Invalid range list; use offset:length pairs separated by commas.");
    hr = IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJob3, (void **)&job3);
    if (SUCCEEDED(hr))
    {
        hr = IBackgroundCopyJob3_AddFileWithRanges(job3, argv[0], argv[1], count, ranges);
        IBackgroundCopyJob3_Release(job3);
    }
    free(ranges);
    if (FAILED(hr)) return report_failure(ctx, L"add file", hr);
    if (!output_is_raw()) output(L"Added %ls -> %ls to job.\n", argv[0], argv[1]);
    return 0;
}

/* The files whose remote name begins with prefix, compared as ReplaceRemotePrefix does:
 * case-sensitively (behaviour.md §2.1). */
static unsigned int count_prefixed(IBackgroundCopyJob *job, const WCHAR *prefix)
{
    IEnumBackgroundCopyFiles *files;
    IBackgroundCopyFile *file;
    unsigned int count = 0;
    WCHAR *remote;

    if (FAILED(IBackgroundCopyJob_EnumFiles(job, &files))) return 0;
    while (IEnumBackgroundCopyFiles_Next(files, 1, &file, NULL) == S_OK)
    {
        if (SUCCEEDED(IBackgroundCopyFile_GetRemoteName(file, &remote)))
        {
            if (!wcsncmp(remote, prefix, wcslen(prefix))) count++;
            CoTaskMemFree(remote);
        }
        IBackgroundCopyFile_Release(file);
    }
    IEnumBackgroundCopyFiles_Release(files);
    return count;
}

/* wire-and-tools.md §3.3: "N file(s) updated."; S_FALSE means no name matched. */
int op_replaceremoteprefix(struct context *ctx, const struct command *cmd,
                           IBackgroundCopyJob *job, int argc, WCHAR **argv)
{
    IBackgroundCopyJob3 *job3;
    unsigned int count;
    HRESULT hr;

    (void)cmd;
    (void)argc;
    hr = IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJob3, (void **)&job3);
    if (FAILED(hr)) return report_failure(ctx, L"replace remote prefix", hr);
    count = count_prefixed(job, argv[0]);
    hr = IBackgroundCopyJob3_ReplaceRemotePrefix(job3, argv[0], argv[1]);
    IBackgroundCopyJob3_Release(job3);
    if (FAILED(hr)) return report_failure(ctx, L"replace remote prefix", hr);
    if (hr == S_FALSE) count = 0;
    if (output_is_raw())
        output(L"%u\n", count);
    else
        output(L"%u file(s) updated.\n", count);
    return 0;
}

/* wire-and-tools.md §3.4: a file line each, then "Listed N file(s)." */
int op_listfiles(struct context *ctx, const struct command *cmd, IBackgroundCopyJob *job,
                 int argc, WCHAR **argv)
{
    IEnumBackgroundCopyFiles *files;
    IBackgroundCopyFile *file;
    unsigned int count = 0;
    HRESULT hr;

    (void)cmd;
    (void)argc;
    (void)argv;
    hr = IBackgroundCopyJob_EnumFiles(job, &files);
    if (FAILED(hr)) return report_failure(ctx, L"enumerate files", hr);
    while (IEnumBackgroundCopyFiles_Next(files, 1, &file, NULL) == S_OK)
    {
        hr = print_file_line(file, L"");
        IBackgroundCopyFile_Release(file);
        if (FAILED(hr)) break;
        count++;
    }
    IEnumBackgroundCopyFiles_Release(files);
    if (FAILED(hr)) return report_failure(ctx, L"get file information", hr);
    if (!output_is_raw()) output(L"Listed %u file(s).\n", count);
    return 0;
}

int op_info(struct context *ctx, const struct command *cmd, IBackgroundCopyJob *job,
            int argc, WCHAR **argv)
{
    const WCHAR *action = L"get job properties";
    HRESULT hr;

    (void)cmd;
    if (argc && !is_switch(argv[0], L"/VERBOSE"))
        return usage_error(L"Invalid argument '%ls'.", argv[0]);
    if (argc)
        hr = print_job_verbose(ctx, job, &action);
    else
        hr = print_job_line(job);
    if (FAILED(hr)) return report_failure(ctx, action, hr);
    return 0;
}

int op_resume(struct context *ctx, const struct command *cmd, IBackgroundCopyJob *job,
              int argc, WCHAR **argv)
{
    HRESULT hr;

    (void)cmd;
    (void)argc;
    (void)argv;
    hr = IBackgroundCopyJob_Resume(job);
    if (FAILED(hr)) return report_failure(ctx, L"resume job", hr);
    if (!output_is_raw()) output(L"Job resumed.\n");
    return 0;
}

int op_suspend(struct context *ctx, const struct command *cmd, IBackgroundCopyJob *job,
               int argc, WCHAR **argv)
{
    HRESULT hr;

    (void)cmd;
    (void)argc;
    (void)argv;
    hr = IBackgroundCopyJob_Suspend(job);
    if (FAILED(hr)) return report_failure(ctx, L"suspend job", hr);
    if (!output_is_raw()) output(L"Job suspended.\n");
    return 0;
}

/* A success other than S_OK (BG_S_PARTIAL_COMPLETE, BG_S_UNABLE_TO_DELETE_FILES) is shown
 * with its code and text, in the shape of a failure line [inferred]. */
static void report_success(struct context *ctx, const WCHAR *done, HRESULT hr)
{
    WCHAR *text;

    if (output_is_raw()) return;
    if (hr == S_OK)
    {
        output(L"%ls.\n", done);
        return;
    }
    output(L"%ls - 0x%08lX\n", done, (unsigned long)hr);
    text = describe_hresult(ctx, hr);
    if (text) output(L"%ls\n", text);
    free(text);
}

int op_cancel(struct context *ctx, const struct command *cmd, IBackgroundCopyJob *job,
              int argc, WCHAR **argv)
{
    HRESULT hr;

    (void)cmd;
    (void)argc;
    (void)argv;
    hr = IBackgroundCopyJob_Cancel(job);
    if (FAILED(hr)) return report_failure(ctx, L"cancel job", hr);
    report_success(ctx, L"Job canceled", hr);
    return 0;
}

/* behaviour.md §3.1: BG_S_PARTIAL_COMPLETE keeps only the files that had finished. */
int op_complete(struct context *ctx, const struct command *cmd, IBackgroundCopyJob *job,
                int argc, WCHAR **argv)
{
    HRESULT hr;

    (void)cmd;
    (void)argc;
    (void)argv;
    hr = IBackgroundCopyJob_Complete(job);
    if (FAILED(hr)) return report_failure(ctx, L"complete job", hr);
    if (hr == BG_S_PARTIAL_COMPLETE)
        report_success(ctx, L"Job partially completed", hr);
    else
        report_success(ctx, L"Job completed", hr);
    return 0;
}

int op_takeownership(struct context *ctx, const struct command *cmd, IBackgroundCopyJob *job,
                     int argc, WCHAR **argv)
{
    HRESULT hr;

    (void)cmd;
    (void)argc;
    (void)argv;
    hr = IBackgroundCopyJob_TakeOwnership(job);
    if (FAILED(hr)) return report_failure(ctx, L"take ownership", hr);
    if (!output_is_raw()) output(L"Took ownership of job.\n");
    return 0;
}
