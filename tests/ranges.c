/* Downloads of parts of a file: IBackgroundCopyJob3::AddFileWithRanges and its argument rules,
 * IBackgroundCopyFile2::GetFileRanges, what the local file holds and how progress counts, the
 * errors of a ranged transfer; and the on-demand downloads of BITS 10.1 (Job5
 * BITS_JOB_PROPERTY_ON_DEMAND_MODE, IBackgroundCopyFile6, IBackgroundCopyCallback3).  Sources:
 * behaviour.md §2.2 "Ranges", §4.1, §6, §7.2-7.4, §8; wire-and-tools.md §1.3-1.4; the Learn
 * pages of those methods.  Transfers use the test server of server.h.
 *
 * MaxRangesPerFile binds callers who are not administrators (behaviour.md §8).  Run by an
 * administrator, the unit starts itself again as "ranges child" under its own token with
 * BUILTIN\Administrators made deny-only, as the limits unit does; the child checks the limit
 * and exits with its number of failures.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#include "util.h"

#define TRANSFER_TIMEOUT 15000  /* ms for a few small files from 127.0.0.1 */
#define STALL_TIMEOUT 15000     /* ms until a response has reached its stall offset */
#define GUARD_TIMEOUT 20000     /* a stalled name is released at the latest after this */
#define CALLBACK_TIMEOUT 10000  /* ms for a notification (they come at most every 500 ms) */
#define CHILD_TIMEOUT 60000
#define POLICY_KEY L"Software\\Policies\\Microsoft\\Windows\\BITS"
#define DEFAULT_MAX_RANGES 500  /* MaxRangesPerFile without policy [doc] */
#define NOWHERE L"http://example.invalid/ranges/file.bin"

static BOOL start_server(void)
{
    if (server_start()) return TRUE;
    skip("the test server does not start\n");
    return FALSE;
}

/* AddFileWithRanges through the job's IBackgroundCopyJob3; E_NOINTERFACE, after a win_skip(),
 * without it. */
static HRESULT add_ranges(IBackgroundCopyJob *job, const WCHAR *remote, const WCHAR *local,
        DWORD count, BG_FILE_RANGE *ranges)
{
    IBackgroundCopyJob3 *job3;
    HRESULT hr;

    hr = IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJob3, (void **)&job3);
    if (FAILED(hr))
    {
        win_skip("no IBackgroundCopyJob3: %#lx\n", hr);
        return E_NOINTERFACE;
    }
    hr = IBackgroundCopyJob3_AddFileWithRanges(job3, remote, local, count, ranges);
    IBackgroundCopyJob3_Release(job3);
    return hr;
}

/* AddFileWithRanges of the server's "/file/SPEC"; reports a failure. */
static HRESULT add_server_ranges_at(IBackgroundCopyJob *job, const char *spec,
        const WCHAR *local, DWORD count, BG_FILE_RANGE *ranges, int line)
{
    WCHAR *url = server_file_url(spec);
    HRESULT hr;

    ok_(__FILE__, line)(url != NULL, "no URL for %s\n", spec);
    if (!url) return E_FAIL;
    hr = add_ranges(job, url, local, count, ranges);
    ok_(__FILE__, line)(hr == S_OK, "AddFileWithRanges(%s, %lu ranges): %#lx\n", spec, count,
            hr);
    CoTaskMemFree(url);
    return hr;
}
#define add_server_ranges(job, spec, local, count, ranges) \
    add_server_ranges_at(job, spec, local, count, ranges, __LINE__)

/* The bytes RANGE stands for in a remote file of SIZE bytes. */
static UINT64 range_length(const BG_FILE_RANGE *range, UINT64 size)
{
    if (range->Length != BG_LENGTH_TO_EOF) return range->Length;
    return size > range->InitialOffset ? size - range->InitialOffset : 0;
}

static UINT64 ranges_length(const BG_FILE_RANGE *ranges, DWORD count, UINT64 size)
{
    UINT64 total = 0;
    DWORD i;

    for (i = 0; i < count; i++) total += range_length(&ranges[i], size);
    return total;
}

static BOOL read_file(const WCHAR *path, BYTE **data, UINT64 *size)
{
    LARGE_INTEGER length;
    DWORD got;
    HANDLE file;
    BOOL ret = FALSE;

    *data = NULL;
    *size = 0;
    file = CreateFileW(path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL,
            OPEN_EXISTING, 0, NULL);
    if (file == INVALID_HANDLE_VALUE) return FALSE;
    if (GetFileSizeEx(file, &length) && length.QuadPart < (64 << 20))
    {
        *size = length.QuadPart;
        *data = malloc(*size ? (size_t)*size : 1);
        ret = *data && ReadFile(file, *data, (DWORD)*size, &got, NULL) && got == *size;
    }
    CloseHandle(file);
    if (!ret)
    {
        free(*data);
        *data = NULL;
    }
    return ret;
}

/* behaviour.md §2.2 [doc]: the local file is the requested ranges of the server's NAME (SIZE
 * bytes) one after the other, in the order given. */
static void check_concatenation_at(const WCHAR *path, const char *name, UINT64 size,
        const BG_FILE_RANGE *ranges, DWORD count, int line)
{
    UINT64 length, expected = ranges_length(ranges, count, size), pos = 0, n;
    BYTE *data;
    DWORD i;

    if (!read_file(path, &data, &length))
    {
        ok_(__FILE__, line)(0, "cannot read %s: %lu\n", wine_dbgstr_w(path), GetLastError());
        return;
    }
    ok_(__FILE__, line)(length == expected, "%s has %s bytes, expected %s\n",
            wine_dbgstr_w(path), wine_dbgstr_longlong(length), wine_dbgstr_longlong(expected));
    for (i = 0; i < count && length == expected; i++)
    {
        n = range_length(&ranges[i], size);
        ok_(__FILE__, line)(server_compare(name, 0, ranges[i].InitialOffset, data + pos,
                (size_t)n), "range %lu (%s, %s) is not at %s of the local file\n", i,
                wine_dbgstr_longlong(ranges[i].InitialOffset),
                wine_dbgstr_longlong(ranges[i].Length), wine_dbgstr_longlong(pos));
        pos += n;
    }
    free(data);
}
#define check_concatenation(path, name, size, ranges, count) \
    check_concatenation_at(path, name, size, ranges, count, __LINE__)

static int compare_offsets(const void *a, const void *b)
{
    const BG_FILE_RANGE *x = a, *y = b;

    if (x->InitialOffset != y->InitialOffset) return x->InitialOffset < y->InitialOffset ? -1 : 1;
    return 0;
}

/* IBackgroundCopyFile2::GetFileRanges of FILE: COUNT ranges equal to EXPECTED, or S_FALSE with
 * 0 and NULL when COUNT is 0 [doc].  The ranges are those given [doc]; the order is not
 * written down, so sorted by offset is accepted as broken(). */
static void check_file_ranges_at(IBackgroundCopyFile *file, const BG_FILE_RANGE *expected,
        DWORD count, int line)
{
    BG_FILE_RANGE *ranges = (BG_FILE_RANGE *)0xdeadbeef, *sorted;
    IBackgroundCopyFile2 *file2;
    BOOL same, sorted_same = FALSE;
    DWORD got = 0xdead, i;
    HRESULT hr;

    hr = IBackgroundCopyFile_QueryInterface(file, &IID_IBackgroundCopyFile2, (void **)&file2);
    if (FAILED(hr))
    {
        win_skip("no IBackgroundCopyFile2: %#lx\n", hr);
        return;
    }
    hr = IBackgroundCopyFile2_GetFileRanges(file2, &got, &ranges);
    IBackgroundCopyFile2_Release(file2);
    if (!count)
    {
        ok_(__FILE__, line)(hr == S_FALSE && !got && !ranges, "GetFileRanges: %#lx, %lu, %p\n",
                hr, got, ranges);
        if (ranges != (BG_FILE_RANGE *)0xdeadbeef) CoTaskMemFree(ranges);
        return;
    }
    ok_(__FILE__, line)(hr == S_OK && got == count, "GetFileRanges: %#lx, %lu ranges, expected "
            "%lu\n", hr, got, count);
    if (hr != S_OK || got != count || !ranges) return;
    same = !memcmp(ranges, expected, count * sizeof(*ranges));
    if (!same && (sorted = malloc(count * sizeof(*sorted))))
    {
        memcpy(sorted, expected, count * sizeof(*sorted));
        qsort(sorted, count, sizeof(*sorted), compare_offsets);
        sorted_same = !memcmp(ranges, sorted, count * sizeof(*ranges));
        free(sorted);
    }
    ok_(__FILE__, line)(same || broken(sorted_same), "GetFileRanges: not the ranges given\n");
    for (i = 0; !same && i < count; i++)
        trace("range %lu: %s, %s\n", i, wine_dbgstr_longlong(ranges[i].InitialOffset),
                wine_dbgstr_longlong(ranges[i].Length));
    CoTaskMemFree(ranges);
}
static void check_job_file_ranges_at(IBackgroundCopyJob *job, ULONG index,
        const BG_FILE_RANGE *expected, DWORD count, int line)
{
    IBackgroundCopyFile *file = get_job_file(job, index);

    ok_(__FILE__, line)(file != NULL, "no file %lu\n", index);
    if (!file) return;
    check_file_ranges_at(file, expected, count, line);
    IBackgroundCopyFile_Release(file);
}
#define check_job_file_ranges(job, index, expected, count) \
    check_job_file_ranges_at(job, index, expected, count, __LINE__)

/* Parses a Range header "bytes=a-b,c-,-n" of a request for a file of SIZE bytes into at most
 * MAX [first, last] spans; returns how many, -1 when it is none or malformed. */
static int parse_range_header(const char *value, UINT64 size, UINT64 (*spans)[2], int max)
{
    const char *p = value + 6;
    char *end;
    int count = 0;

    if (strncmp(value, "bytes=", 6)) return -1;
    while (*p)
    {
        while (*p == ' ' || *p == ',') p++;
        if (!*p) break;
        if (count == max) return -1;
        if (*p == '-')
        {
            UINT64 n = strtoull(p + 1, &end, 10);

            if (end == p + 1 || !n) return -1;
            spans[count][0] = n < size ? size - n : 0;
            spans[count][1] = size - 1;
        }
        else
        {
            spans[count][0] = strtoull(p, &end, 10);
            if (end == p || *end != '-') return -1;
            p = end + 1;
            if (*p >= '0' && *p <= '9')
            {
                spans[count][1] = strtoull(p, &end, 10);
                if (spans[count][1] >= size) spans[count][1] = size - 1;
            }
            else
            {
                spans[count][1] = size - 1;
                end = (char *)p;
            }
        }
        p = end;
        if (*p && *p != ',' && *p != ' ') return -1;
        count++;
    }
    return count;
}

/* Whether every byte of [first, last] lies in one of the requested ranges. */
static BOOL is_requested(UINT64 first, UINT64 last, const BG_FILE_RANGE *ranges, DWORD count,
        UINT64 size)
{
    UINT64 pos = first, end;
    DWORD i;

    while (pos <= last)
    {
        for (i = 0; i < count; i++)
        {
            end = ranges[i].InitialOffset + range_length(&ranges[i], size);
            if (ranges[i].InitialOffset <= pos && pos < end) break;
        }
        if (i == count) return FALSE;
        pos = end;
    }
    return TRUE;
}

/* wire-and-tools.md §1.4 [doc]: a file added with ranges is fetched by those ranges only;
 * every GET of PATH asks for requested bytes and nothing else. */
static void check_requests_at(const char *path, UINT64 size, const BG_FILE_RANGE *ranges,
        DWORD count, int line)
{
    struct server_request request;
    UINT64 spans[32][2];
    unsigned int i, gets = 0;
    int n, j;

    for (i = 0; server_log_get(path, i, &request); i++)
    {
        if (strcmp(request.method, "GET")) continue;
        gets++;
        n = parse_range_header(request.range, size, spans, ARRAY_SIZE(spans));
        ok_(__FILE__, line)(n > 0, "GET with Range \"%s\"\n", request.range);
        for (j = 0; j < n; j++)
            ok_(__FILE__, line)(is_requested(spans[j][0], spans[j][1], ranges, count, size),
                    "Range %s asks for bytes %s-%s, which were not requested\n", request.range,
                    wine_dbgstr_longlong(spans[j][0]), wine_dbgstr_longlong(spans[j][1]));
    }
    ok_(__FILE__, line)(gets > 0, "no GET of %s\n", path);
}
#define check_requests(path, size, ranges, count) \
    check_requests_at(path, size, ranges, count, __LINE__)

#define resume_and_wait(job, expected) resume_job_and_wait(job, expected, TRANSFER_TIMEOUT, NULL)

/* behaviour.md §2.2, §4.1 [doc]: a fatal error of the remote file, the job in ERROR. */
static void check_remote_error_at(IBackgroundCopyJob *job, HRESULT expected, int line)
{
    BG_ERROR_CONTEXT context;
    HRESULT code;

    if (!resume_job_and_wait_at(job, BG_JOB_STATE_ERROR, TRANSFER_TIMEOUT, NULL, __FILE__, line))
        return;
    ok_(__FILE__, line)(get_job_error(job, &context, &code), "no error object\n");
    ok_(__FILE__, line)(code == expected, "error %#lx, expected %#lx\n", code, expected);
    ok_(__FILE__, line)(context == BG_ERROR_CONTEXT_REMOTE_FILE, "context %d\n", context);
}
#define check_remote_error(job, expected) check_remote_error_at(job, expected, __LINE__)

static void check_progress_at(IBackgroundCopyJob *job, UINT64 total, UINT64 transferred,
        int line)
{
    BG_JOB_PROGRESS progress;
    BG_FILE_PROGRESS file;
    HRESULT hr;

    ok_(__FILE__, line)(get_file_progress(job, 0, &file), "no file progress\n");
    ok_(__FILE__, line)(file.BytesTotal == total && file.BytesTransferred == transferred,
            "file: %s of %s bytes, expected %s of %s\n",
            wine_dbgstr_longlong(file.BytesTransferred), wine_dbgstr_longlong(file.BytesTotal),
            wine_dbgstr_longlong(transferred), wine_dbgstr_longlong(total));
    memset(&progress, 0xcc, sizeof(progress));
    hr = IBackgroundCopyJob_GetProgress(job, &progress);
    ok_(__FILE__, line)(hr == S_OK, "GetProgress: %#lx\n", hr);
    ok_(__FILE__, line)(progress.BytesTotal == total && progress.BytesTransferred == transferred,
            "job: %s of %s bytes, expected %s of %s\n",
            wine_dbgstr_longlong(progress.BytesTransferred),
            wine_dbgstr_longlong(progress.BytesTotal), wine_dbgstr_longlong(transferred),
            wine_dbgstr_longlong(total));
}
#define check_progress(job, total, transferred) \
    check_progress_at(job, total, transferred, __LINE__)

/* ---- A client's IBackgroundCopyCallback3 (the one of util.h stops at Callback2) ---- */

#define RECORDED_RANGES_MAX 256

struct ranges_callback
{
    IBackgroundCopyCallback3 IBackgroundCopyCallback3_iface;
    LONG refcount;
    CRITICAL_SECTION cs;        /* guards the fields below */
    HANDLE event;               /* manual reset, set after every call */
    LONG transferred;           /* JobTransferred calls */
    LONG errors;                /* JobError calls */
    LONG range_calls;           /* FileRangesTransferred calls */
    BOOL bad_call;              /* one came without job or file, or with no ranges */
    GUID job_id;                /* of the last FileRangesTransferred */
    WCHAR file[MAX_PATH];       /* its file's local name */
    DWORD range_count;          /* every range reported; ranges[] keeps the first ones */
    BG_FILE_RANGE ranges[RECORDED_RANGES_MAX];
};

static inline struct ranges_callback *impl_from_IBackgroundCopyCallback3(
        IBackgroundCopyCallback3 *iface)
{
    return CONTAINING_RECORD(iface, struct ranges_callback, IBackgroundCopyCallback3_iface);
}

static HRESULT WINAPI ranges_callback_QueryInterface(IBackgroundCopyCallback3 *iface,
        REFIID riid, void **out)
{
    if (IsEqualGUID(riid, &IID_IUnknown) || IsEqualGUID(riid, &IID_IBackgroundCopyCallback)
            || IsEqualGUID(riid, &IID_IBackgroundCopyCallback2)
            || IsEqualGUID(riid, &IID_IBackgroundCopyCallback3))
    {
        *out = iface;
        IBackgroundCopyCallback3_AddRef(iface);
        return S_OK;
    }
    *out = NULL;
    return E_NOINTERFACE;
}

static ULONG WINAPI ranges_callback_AddRef(IBackgroundCopyCallback3 *iface)
{
    return InterlockedIncrement(&impl_from_IBackgroundCopyCallback3(iface)->refcount);
}

static ULONG WINAPI ranges_callback_Release(IBackgroundCopyCallback3 *iface)
{
    struct ranges_callback *callback = impl_from_IBackgroundCopyCallback3(iface);
    ULONG refcount = InterlockedDecrement(&callback->refcount);

    if (!refcount)
    {
        CloseHandle(callback->event);
        DeleteCriticalSection(&callback->cs);
        free(callback);
    }
    return refcount;
}

static HRESULT counted(struct ranges_callback *callback, LONG *counter)
{
    EnterCriticalSection(&callback->cs);
    (*counter)++;
    SetEvent(callback->event);
    LeaveCriticalSection(&callback->cs);
    return S_OK;
}

static HRESULT WINAPI ranges_callback_JobTransferred(IBackgroundCopyCallback3 *iface,
        IBackgroundCopyJob *job)
{
    struct ranges_callback *callback = impl_from_IBackgroundCopyCallback3(iface);

    (void)job;
    return counted(callback, &callback->transferred);
}

static HRESULT WINAPI ranges_callback_JobError(IBackgroundCopyCallback3 *iface,
        IBackgroundCopyJob *job, IBackgroundCopyError *error)
{
    struct ranges_callback *callback = impl_from_IBackgroundCopyCallback3(iface);

    (void)job;
    (void)error;
    return counted(callback, &callback->errors);
}

static HRESULT WINAPI ranges_callback_JobModification(IBackgroundCopyCallback3 *iface,
        IBackgroundCopyJob *job, DWORD reserved)
{
    (void)iface;
    (void)job;
    (void)reserved;
    return S_OK;
}

static HRESULT WINAPI ranges_callback_FileTransferred(IBackgroundCopyCallback3 *iface,
        IBackgroundCopyJob *job, IBackgroundCopyFile *file)
{
    (void)iface;
    (void)job;
    (void)file;
    return S_OK;
}

static HRESULT WINAPI ranges_callback_FileRangesTransferred(IBackgroundCopyCallback3 *iface,
        IBackgroundCopyJob *job, IBackgroundCopyFile *file, DWORD count,
        const BG_FILE_RANGE *ranges)
{
    struct ranges_callback *callback = impl_from_IBackgroundCopyCallback3(iface);
    WCHAR *name = NULL;
    GUID id = GUID_NULL;
    DWORD i;

    /* The service's objects are asked before the lock. */
    if (job && FAILED(IBackgroundCopyJob_GetId(job, &id))) id = GUID_NULL;
    if (file && FAILED(IBackgroundCopyFile_GetLocalName(file, &name))) name = NULL;
    EnterCriticalSection(&callback->cs);
    if (!job || !file || !count || !ranges) callback->bad_call = TRUE;
    callback->job_id = id;
    callback->file[0] = 0;
    if (name) lstrcpynW(callback->file, name, ARRAY_SIZE(callback->file));
    for (i = 0; ranges && i < count; i++, callback->range_count++)
        if (callback->range_count < RECORDED_RANGES_MAX)
            callback->ranges[callback->range_count] = ranges[i];
    callback->range_calls++;
    SetEvent(callback->event);
    LeaveCriticalSection(&callback->cs);
    CoTaskMemFree(name);
    return S_OK;
}

static const IBackgroundCopyCallback3Vtbl ranges_callback_vtbl =
{
    ranges_callback_QueryInterface,
    ranges_callback_AddRef,
    ranges_callback_Release,
    /* IBackgroundCopyCallback */
    ranges_callback_JobTransferred,
    ranges_callback_JobError,
    ranges_callback_JobModification,
    /* IBackgroundCopyCallback2 */
    ranges_callback_FileTransferred,
    /* IBackgroundCopyCallback3 */
    ranges_callback_FileRangesTransferred,
};

static struct ranges_callback *ranges_callback_create(void)
{
    struct ranges_callback *callback = calloc(1, sizeof(*callback));

    if (!callback) return NULL;
    callback->IBackgroundCopyCallback3_iface.lpVtbl = &ranges_callback_vtbl;
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

static void ranges_callback_release(struct ranges_callback *callback)
{
    if (callback) IBackgroundCopyCallback3_Release(&callback->IBackgroundCopyCallback3_iface);
}

/* Waits until *COUNTER (a field of CALLBACK) is at least COUNT; FALSE after timeout_ms. */
static BOOL ranges_callback_wait(struct ranges_callback *callback, const LONG *counter,
        LONG count, DWORD timeout_ms)
{
    ULONGLONG deadline = GetTickCount64() + timeout_ms, now;
    LONG value;

    for (;;)
    {
        ResetEvent(callback->event);
        EnterCriticalSection(&callback->cs);
        value = *counter;
        LeaveCriticalSection(&callback->cs);
        if (value >= count) return TRUE;
        now = GetTickCount64();
        if (now >= deadline) return FALSE;
        WaitForSingleObject(callback->event, (DWORD)(deadline - now));
    }
}

/* ---- AddFileWithRanges: arguments and job types ---- */

/* behaviour.md §2.1, §2.2 "Ranges" [doc]: the rules of the Ranges argument.  A refused call
 * adds nothing. */
static void test_AddFileWithRanges_ranges(void)
{
    static const struct
    {
        const char *what;
        DWORD count;
        BG_FILE_RANGE ranges[3];
        HRESULT expected;
        BOOL inferred;          /* Windows may take it and find out at the transfer */
    }
    tests[] =
    {
        { "offset BG_LENGTH_TO_EOF", 1, { { BG_LENGTH_TO_EOF, 10 } }, BG_E_INVALID_RANGE, FALSE },
        { "second offset BG_LENGTH_TO_EOF", 2, { { 0, 10 }, { BG_LENGTH_TO_EOF, 1 } },
                BG_E_INVALID_RANGE, FALSE },
        { "both BG_LENGTH_TO_EOF", 1, { { BG_LENGTH_TO_EOF, BG_LENGTH_TO_EOF } },
                BG_E_INVALID_RANGE, FALSE },
        { "overlap", 2, { { 0, 100 }, { 50, 100 } }, BG_E_OVERLAPPING_RANGES, FALSE },
        { "duplicate", 2, { { 10, 10 }, { 10, 10 } }, BG_E_OVERLAPPING_RANGES, FALSE },
        { "overlap out of order", 3, { { 500, 100 }, { 1000, 1 }, { 0, 501 } },
                BG_E_OVERLAPPING_RANGES, FALSE },
        { "inside another", 2, { { 100, 1000 }, { 200, 10 } }, BG_E_OVERLAPPING_RANGES, FALSE },
        /* to the end of the file takes every later offset [inferred] */
        { "after a range to EOF", 2, { { 100, BG_LENGTH_TO_EOF }, { 500, 10 } },
                BG_E_OVERLAPPING_RANGES, TRUE },
        { "before a range to EOF", 2, { { 500, 10 }, { 100, BG_LENGTH_TO_EOF } },
                BG_E_OVERLAPPING_RANGES, TRUE },
    };
    static const struct
    {
        const char *what;
        DWORD count;
        BG_FILE_RANGE ranges[3];
    }
    valid[] =
    {
        { "one range", 1, { { 0, 1 } } },
        { "length BG_LENGTH_TO_EOF", 1, { { 100, BG_LENGTH_TO_EOF } } },
        /* the example of the Learn page: not sorted, the local file follows this order */
        { "not sorted", 3, { { 100, 100 }, { 900, 100 }, { 400, 100 } } },
        { "touching", 2, { { 0, 100 }, { 100, 100 } } },
        { "touching backwards", 3, { { 200, 100 }, { 100, 100 }, { 0, 100 } } },
        { "range to EOF last by offset", 2, { { 5000, BG_LENGTH_TO_EOF }, { 0, 10 } } },
    };
    BG_FILE_RANGE ranges[3], reversed[2] = { { 100, 5 }, { 100, 0 } };
    WCHAR *local, *path, name[32];
    IBackgroundCopyJob *job;
    ULONG files = 0;
    unsigned int i;
    HRESULT hr;

    job = create_job(L"ranges-args", BG_JOB_TYPE_DOWNLOAD, NULL);
    if (!job) return;
    local = temp_path(L"ranges-args.bin");

    /* [doc] RangeCount 0: E_INVALIDARG. */
    ranges[0].InitialOffset = 0;
    ranges[0].Length = 10;
    hr = add_ranges(job, NOWHERE, local, 0, ranges);
    if (hr == E_NOINTERFACE) goto done;
    ok(hr == E_INVALIDARG, "no ranges: %#lx\n", hr);
    ok(count_job_files(job) == 0, "%lu files\n", count_job_files(job));

    for (i = 0; i < ARRAY_SIZE(tests); i++)
    {
        winetest_push_context("%s", tests[i].what);
        swprintf(name, ARRAY_SIZE(name), L"ranges-bad-%u.bin", i);
        path = temp_path(name);
        memcpy(ranges, tests[i].ranges, sizeof(ranges));
        hr = add_ranges(job, NOWHERE, path, tests[i].count, ranges);
        ok(hr == tests[i].expected || broken(tests[i].inferred && hr == S_OK),
                "got %#lx, expected %#lx\n", hr, tests[i].expected);
        if (hr == S_OK) files++;
        ok(count_job_files(job) == files, "%lu files\n", count_job_files(job));
        CoTaskMemFree(path);
        winetest_pop_context();
    }

    /* [doc] "Ranges are sorted by offset, not by length": the same offset with the longer
     * range first is refused.  The bitsadmin page says the opposite order is the refused one
     * (and this one its workaround), hence broken(). */
    hr = add_ranges(job, NOWHERE, local, 2, reversed);
    ok(hr == BG_E_OVERLAPPING_RANGES || broken(hr == S_OK), "(100, 5), (100, 0): %#lx\n", hr);
    if (hr == S_OK) files++;
    ok(count_job_files(job) == files, "%lu files\n", count_job_files(job));

    for (i = 0; i < ARRAY_SIZE(valid); i++)
    {
        winetest_push_context("%s", valid[i].what);
        swprintf(name, ARRAY_SIZE(name), L"ranges-args-%u.bin", i);
        path = temp_path(name);
        memcpy(ranges, valid[i].ranges, sizeof(ranges));
        hr = add_ranges(job, NOWHERE, path, valid[i].count, ranges);
        ok(hr == S_OK, "got %#lx\n", hr);
        if (hr == S_OK) files++;
        ok(count_job_files(job) == files, "%lu files, expected %lu\n", count_job_files(job),
                files);
        CoTaskMemFree(path);
        winetest_pop_context();
    }

done:
    cancel_job(job);
    CoTaskMemFree(local);
}

/* behaviour.md §2.2 [doc]: the remote and local names follow AddFile's rules, and ranges need
 * HTTP or HTTPS (BITS 3.0 and later take no SMB source for them); a final job takes no file. */
static void test_AddFileWithRanges_names(void)
{
    BG_FILE_RANGE range = { 0, 10 };
    WCHAR *local, *source, url[MAX_PATH + 16], *unc;
    const WCHAR *remotes[4];
    IBackgroundCopyJob *job;
    unsigned int i;
    HRESULT hr;

    job = create_job(L"ranges-names", BG_JOB_TYPE_DOWNLOAD, NULL);
    if (!job) return;
    local = temp_path(L"ranges-names.bin");
    source = temp_path(L"ranges-names-source.bin");
    write_test_file(source, "0123456789abcdef");
    swprintf(url, ARRAY_SIZE(url), L"file://%ls", source);
    unc = make_string(L"\\\\127.0.0.1\\share\\", L'x', 24);
    remotes[0] = source;            /* a drive-letter path is SMB too [doc] */
    remotes[1] = url;
    remotes[2] = unc;
    remotes[3] = L"ftp://example.invalid/ranges.bin";

    for (i = 0; i < ARRAY_SIZE(remotes); i++)
    {
        hr = add_ranges(job, remotes[i], local, 1, &range);
        if (hr == E_NOINTERFACE) goto done;
        ok(hr == E_INVALIDARG, "remote %s: %#lx\n", wine_dbgstr_w(remotes[i]), hr);
    }
    /* [doc] a relative local name */
    hr = add_ranges(job, NOWHERE, L"ranges-names.bin", 1, &range);
    ok(hr == E_INVALIDARG, "relative local name: %#lx\n", hr);
    ok(count_job_files(job) == 0, "%lu files\n", count_job_files(job));

    hr = add_ranges(job, L"https://example.invalid/ranges/names.bin", local, 1, &range);
    ok(hr == S_OK, "https: %#lx\n", hr);
    ok(count_job_files(job) == 1, "%lu files\n", count_job_files(job));

    /* [doc] not in CANCELLED (nor ACKNOWLEDGED) */
    hr = IBackgroundCopyJob_Cancel(job);
    ok(hr == S_OK, "Cancel: %#lx\n", hr);
    hr = add_ranges(job, NOWHERE, local, 1, &range);
    ok(hr == BG_E_INVALID_STATE, "after Cancel: %#lx\n", hr);

done:
    cancel_job(job);
    CoTaskMemFree(unc);
    DeleteFileW(source);
    CoTaskMemFree(source);
    CoTaskMemFree(local);
}

/* behaviour.md §2.1 [doc]: upload and upload-reply jobs get E_NOTIMPL and no file; their file
 * has no ranges: GetFileRanges gives S_FALSE, 0 and NULL [doc]. */
static void test_AddFileWithRanges_upload(void)
{
    static const BG_JOB_TYPE types[] = { BG_JOB_TYPE_UPLOAD, BG_JOB_TYPE_UPLOAD_REPLY };
    BG_FILE_RANGE range = { 0, 4 };
    IBackgroundCopyJob *job;
    WCHAR *source;
    unsigned int i;
    HRESULT hr;

    source = temp_path(L"ranges-upload.txt");
    write_test_file(source, "some bytes to upload");
    for (i = 0; i < ARRAY_SIZE(types); i++)
    {
        winetest_push_context("type %d", types[i]);
        job = create_job(L"ranges-upload", types[i], NULL);
        if (job)
        {
            hr = add_ranges(job, L"http://example.invalid/upload/ranges", source, 1, &range);
            ok(hr == E_NOTIMPL || hr == E_NOINTERFACE, "AddFileWithRanges: %#lx\n", hr);
            ok(count_job_files(job) == 0, "%lu files\n", count_job_files(job));
            hr = IBackgroundCopyJob_AddFile(job, L"http://example.invalid/upload/ranges", source);
            ok(hr == S_OK, "AddFile: %#lx\n", hr);
            if (hr == S_OK) check_job_file_ranges(job, 0, NULL, 0);
            cancel_job(job);
        }
        winetest_pop_context();
    }
    DeleteFileW(source);
    CoTaskMemFree(source);
}

/* behaviour.md §7.2 [doc]: GetFileRanges gives the ranges of AddFileWithRanges, count and
 * values; a file of AddFile has none (S_FALSE, 0, NULL). */
static void test_GetFileRanges(void)
{
    BG_FILE_RANGE ranges[] =
    {
        { 900, 100 }, { 100, 100 }, { 400, 50 }, { 2000, BG_LENGTH_TO_EOF }, { 1500, 1 },
    };
    WCHAR *plain, *ranged;
    IBackgroundCopyJob *job;
    HRESULT hr;

    job = create_job(L"ranges-get", BG_JOB_TYPE_DOWNLOAD, NULL);
    if (!job) return;
    plain = temp_path(L"ranges-get-plain.bin");
    ranged = temp_path(L"ranges-get-ranged.bin");
    hr = IBackgroundCopyJob_AddFile(job, L"http://example.invalid/ranges/plain.bin", plain);
    ok(hr == S_OK, "AddFile: %#lx\n", hr);
    hr = add_ranges(job, NOWHERE, ranged, ARRAY_SIZE(ranges), ranges);
    ok(hr == S_OK || hr == E_NOINTERFACE, "AddFileWithRanges: %#lx\n", hr);
    if (hr == S_OK)
    {
        ok(count_job_files(job) == 2, "%lu files\n", count_job_files(job));
        check_job_file_ranges(job, 0, NULL, 0);
        check_job_file_ranges(job, 1, ranges, ARRAY_SIZE(ranges));
        /* Each call gives a copy of its own. */
        check_job_file_ranges(job, 1, ranges, ARRAY_SIZE(ranges));
    }
    cancel_job(job);
    CoTaskMemFree(plain);
    CoTaskMemFree(ranged);
}

/* ---- Transfers ---- */

/* A FOREGROUND job of one ranged file of the server into DIR\LOCAL; *path receives the local
 * path.  NULL after a failure report. */
static IBackgroundCopyJob *create_ranges_job(const WCHAR *tag, const char *spec,
        const WCHAR *dir, const WCHAR *local, WCHAR **path, BG_FILE_RANGE *ranges, DWORD count)
{
    IBackgroundCopyJob *job;

    *path = dir_file(dir, local);
    job = create_transfer_job(tag, NULL);
    if (job && add_server_ranges(job, spec, *path, count, ranges) != S_OK)
    {
        cancel_job(job);
        job = NULL;
    }
    return job;
}

/* behaviour.md §2.2, the example of the Learn page [doc]: remote bytes 100-199, 900-999 and
 * 400-499 make a local file of 300 bytes in that order; progress counts those bytes only
 * (§7.3), the requests ask for nothing else (wire-and-tools.md §1.4) and the ranges stay. */
static void test_transfer_in_given_order(void)
{
    BG_FILE_RANGE ranges[] = { { 100, 100 }, { 900, 100 }, { 400, 100 } };
    static const char name[] = "ranges-order";
    IBackgroundCopyJob *job;
    WCHAR *dir, *path;

    if (!start_server()) return;
    dir = make_test_dir(L"ranges-order");
    job = create_ranges_job(L"ranges-order", "ranges-order?size=1000", dir, L"order.bin", &path,
            ranges, ARRAY_SIZE(ranges));
    if (job && resume_and_wait(job, BG_JOB_STATE_TRANSFERRED))
    {
        check_progress(job, 300, 300);
        check_job_file_ranges(job, 0, ranges, ARRAY_SIZE(ranges));
        check_requests("/file/ranges-order", 1000, ranges, ARRAY_SIZE(ranges));
        ok(IBackgroundCopyJob_Complete(job) == S_OK, "Complete failed\n");
        check_concatenation(path, name, 1000, ranges, ARRAY_SIZE(ranges));
    }
    cancel_job(job);
    CoTaskMemFree(path);
    remove_test_dir(dir);
}

/* [doc] A length of BG_LENGTH_TO_EOF runs to the end of the remote file, wherever it is in the
 * list; BytesTotal counts it once the size is known. */
static void test_transfer_to_eof(void)
{
    BG_FILE_RANGE ranges[] = { { 0, 10 }, { 4000, BG_LENGTH_TO_EOF }, { 2000, 500 } };
    IBackgroundCopyJob *job;
    WCHAR *dir, *path;

    if (!start_server()) return;
    dir = make_test_dir(L"ranges-eof");
    job = create_ranges_job(L"ranges-eof", "ranges-eof?size=5000", dir, L"eof.bin", &path,
            ranges, ARRAY_SIZE(ranges));
    if (job && resume_and_wait(job, BG_JOB_STATE_TRANSFERRED))
    {
        check_progress(job, 1510, 1510);
        check_requests("/file/ranges-eof", 5000, ranges, ARRAY_SIZE(ranges));
        ok(IBackgroundCopyJob_Complete(job) == S_OK, "Complete failed\n");
        check_concatenation(path, "ranges-eof", 5000, ranges, ARRAY_SIZE(ranges));
    }
    cancel_job(job);
    CoTaskMemFree(path);
    remove_test_dir(dir);
}

/* Many ranges of all sizes in no order (one byte, a range crossing 64 KiB, one of several
 * hundred KiB), next to a file that is one range of everything and a file of AddFile: each
 * file gets what it asked for. */
static void test_transfer_many_ranges(void)
{
    BG_FILE_RANGE many[] =
    {
        { 700000, 299999 }, { 5, 1 }, { 65000, 70000 }, { 1, 1 }, { 300000, 12345 },
        { 999999, 1 }, { 200000, 4096 }, { 10, 990 }, { 150000, 1 }, { 500000, 100000 },
        { 140000, 9999 }, { 3, 1 },
    };
    BG_FILE_RANGE whole[] = { { 0, BG_LENGTH_TO_EOF } };
    WCHAR *dir, *path_many = NULL, *path_whole = NULL, *path_plain = NULL;
    BG_JOB_PROGRESS progress;
    IBackgroundCopyJob *job;
    UINT64 total;
    HRESULT hr;

    if (!start_server()) return;
    dir = make_test_dir(L"ranges-many");
    job = create_ranges_job(L"ranges-many", "ranges-many?size=1000000", dir, L"many.bin",
            &path_many, many, ARRAY_SIZE(many));
    if (!job) goto done;
    path_whole = dir_file(dir, L"whole.bin");
    path_plain = dir_file(dir, L"plain.bin");
    if (add_server_ranges(job, "ranges-whole?size=70000", path_whole, 1, whole) != S_OK
            || FAILED(add_server_file(job, "ranges-plain?size=3000", path_plain)))
        goto done;
    if (!resume_and_wait(job, BG_JOB_STATE_TRANSFERRED)) goto done;

    total = ranges_length(many, ARRAY_SIZE(many), 1000000) + 70000 + 3000;
    memset(&progress, 0xcc, sizeof(progress));
    hr = IBackgroundCopyJob_GetProgress(job, &progress);
    ok(hr == S_OK && progress.BytesTotal == total && progress.BytesTransferred == total
            && progress.FilesTotal == 3 && progress.FilesTransferred == 3,
            "%#lx: %s of %s bytes, expected %s; %lu of %lu files\n", hr,
            wine_dbgstr_longlong(progress.BytesTransferred),
            wine_dbgstr_longlong(progress.BytesTotal), wine_dbgstr_longlong(total),
            progress.FilesTransferred, progress.FilesTotal);
    check_job_file_ranges(job, 0, many, ARRAY_SIZE(many));
    check_job_file_ranges(job, 1, whole, 1);
    check_job_file_ranges(job, 2, NULL, 0);
    check_requests("/file/ranges-many", 1000000, many, ARRAY_SIZE(many));
    ok(IBackgroundCopyJob_Complete(job) == S_OK, "Complete failed\n");
    check_concatenation(path_many, "ranges-many", 1000000, many, ARRAY_SIZE(many));
    ok(server_verify_file(path_whole, "ranges-whole", 70000), "the whole file differs\n");
    ok(server_verify_file(path_plain, "ranges-plain", 3000), "the plain file differs\n");

done:
    cancel_job(job);
    CoTaskMemFree(path_many);
    CoTaskMemFree(path_whole);
    CoTaskMemFree(path_plain);
    remove_test_dir(dir);
}

/* behaviour.md §7.3 [doc]: with ranges, BytesTotal is the sum of their lengths, not the size of
 * the remote file, while the transfer runs too. */
static void test_progress_during_transfer(void)
{
    BG_FILE_RANGE ranges[] = { { 1000, 1000 }, { 60000, 2000 } };
    static const char name[] = "ranges-progress";
    struct stall_guard *guard = NULL;
    IBackgroundCopyJob *job;
    BG_JOB_PROGRESS progress;
    BG_FILE_PROGRESS file;
    WCHAR *dir, *path;
    HRESULT hr;

    if (!start_server()) return;
    dir = make_test_dir(L"ranges-progress");
    job = create_ranges_job(L"ranges-progress", "ranges-progress?size=100000&stall=61000", dir,
            L"progress.bin", &path, ranges, ARRAY_SIZE(ranges));
    if (!job) goto done;
    guard = stall_guard_begin(name, GUARD_TIMEOUT);
    hr = IBackgroundCopyJob_Resume(job);
    ok(hr == S_OK, "Resume: %#lx\n", hr);
    ok(server_wait_stalled(name, STALL_TIMEOUT), "never stalled\n");
    ok(wait_for_file_bytes(job, 0, 1000, STALL_TIMEOUT), "the first range never arrived\n");

    ok(get_file_progress(job, 0, &file), "no file progress\n");
    ok(file.BytesTotal == 3000 && file.BytesTransferred >= 1000 && file.BytesTransferred < 3000
            && !file.Completed, "stalled: %s of %s bytes, completed %d\n",
            wine_dbgstr_longlong(file.BytesTransferred), wine_dbgstr_longlong(file.BytesTotal),
            file.Completed);
    memset(&progress, 0xcc, sizeof(progress));
    hr = IBackgroundCopyJob_GetProgress(job, &progress);
    ok(hr == S_OK && progress.BytesTotal == 3000 && progress.FilesTransferred == 0,
            "stalled: %#lx, job %s of %s bytes, %lu files\n", hr,
            wine_dbgstr_longlong(progress.BytesTransferred),
            wine_dbgstr_longlong(progress.BytesTotal), progress.FilesTransferred);

    server_release(name);
    ok(wait_for_state(job, BG_JOB_STATE_TRANSFERRED, TRANSFER_TIMEOUT), "state %d\n",
            get_job_state(job));
    check_progress(job, 3000, 3000);
    ok(IBackgroundCopyJob_Complete(job) == S_OK, "Complete failed\n");
    check_concatenation(path, name, 100000, ranges, ARRAY_SIZE(ranges));

done:
    stall_guard_end(guard);
    server_release(name);
    cancel_job(job);
    CoTaskMemFree(path);
    remove_test_dir(dir);
}

/* behaviour.md §2.2, §4.1 [doc]: a range outside the remote file is a fatal error of the remote
 * file, BG_E_INVALID_RANGE; so is one partly outside.  Nothing reaches the local name. */
static void test_range_beyond_eof(void)
{
    static const struct
    {
        const char *what;
        const char *spec;
        DWORD count;
        BG_FILE_RANGE ranges[2];
    }
    tests[] =
    {
        { "partly", "ranges-beyond-1?size=1000", 2, { { 100, 50 }, { 990, 20 } } },
        { "at the end", "ranges-beyond-2?size=1000", 2, { { 100, 50 }, { 1000, 10 } } },
        { "far", "ranges-beyond-3?size=1000", 1, { { 5000, 10 } } },
        { "to EOF after it", "ranges-beyond-4?size=1000", 1, { { 2000, BG_LENGTH_TO_EOF } } },
    };
    BG_FILE_RANGE ranges[2];
    IBackgroundCopyJob *job;
    WCHAR *dir, *path;
    unsigned int i;

    if (!start_server()) return;
    dir = make_test_dir(L"ranges-beyond");
    for (i = 0; i < ARRAY_SIZE(tests); i++)
    {
        winetest_push_context("%s", tests[i].what);
        memcpy(ranges, tests[i].ranges, sizeof(ranges));
        job = create_ranges_job(L"ranges-beyond", tests[i].spec, dir, L"beyond.bin", &path,
                ranges, tests[i].count);
        if (job)
        {
            check_remote_error(job, BG_E_INVALID_RANGE);
            cancel_job(job);
            ok(!file_exists(path), "the local file exists\n");
        }
        CoTaskMemFree(path);
        winetest_pop_context();
        if (!job) break;
    }
    remove_test_dir(dir);
}

/* behaviour.md §2.2, wire-and-tools.md §1.3 [doc]: a server that ignores Range (200 with the
 * whole body, "Accept-Ranges: none") cannot serve ranges: BG_E_INSUFFICIENT_RANGE_SUPPORT. */
static void test_server_without_ranges(void)
{
    BG_FILE_RANGE ranges[] = { { 100, 50 }, { 500, 50 } };
    IBackgroundCopyJob *job;
    WCHAR *dir, *path;

    if (!start_server()) return;
    dir = make_test_dir(L"ranges-norange");
    job = create_ranges_job(L"ranges-norange", "ranges-norange?size=1000&norange", dir,
            L"norange.bin", &path, ranges, ARRAY_SIZE(ranges));
    if (job)
    {
        check_remote_error(job, BG_E_INSUFFICIENT_RANGE_SUPPORT);
        cancel_job(job);
        ok(!file_exists(path), "the local file exists\n");
    }
    CoTaskMemFree(path);
    remove_test_dir(dir);
}

/* Whether the Range header VALUE lists two ranges that overlap or touch: a server that
 * coalesces answers them as one part. */
static BOOL range_header_mergeable(const char *value, UINT64 size)
{
    UINT64 spans[32][2];
    int n, i, j;

    n = parse_range_header(value, size, spans, ARRAY_SIZE(spans));
    for (i = 0; i < n; i++)
        for (j = 0; j < n; j++)
            if (i != j && spans[i][0] <= spans[j][0] && spans[j][0] <= spans[i][1] + 1)
                return TRUE;
    return FALSE;
}

/* behaviour.md §2.2 [doc]: BITS does not support a server that merges ranges it was asked for
 * in one request: BG_E_INVALID_SERVER_RESPONSE.  The ranges touch, so a client that asks for
 * them in one Range header meets the merge; one that asks otherwise gets its bytes. */
static void test_server_merging_ranges(void)
{
    BG_FILE_RANGE ranges[] = { { 100, 100 }, { 200, 100 }, { 600, 50 }, { 0, 10 } };
    struct server_request request;
    BG_ERROR_CONTEXT context;
    IBackgroundCopyJob *job;
    WCHAR *dir, *path;
    BG_JOB_STATE state;
    BOOL merged = FALSE;
    unsigned int i;
    HRESULT code;

    if (!start_server()) return;
    dir = make_test_dir(L"ranges-merge");
    job = create_ranges_job(L"ranges-merge", "ranges-merge?size=1000&coalesce", dir,
            L"merge.bin", &path, ranges, ARRAY_SIZE(ranges));
    if (!job) goto done;
    ok(IBackgroundCopyJob_Resume(job) == S_OK, "Resume failed\n");
    state = wait_for_state_seen(job, BG_JOB_STATE_TRANSFERRED, TRANSFER_TIMEOUT, NULL);
    for (i = 0; server_log_get("/file/ranges-merge", i, &request); i++)
        if (!strcmp(request.method, "GET") && request.status == 206
                && range_header_mergeable(request.range, 1000))
            merged = TRUE;
    if (merged)
    {
        ok(state == BG_JOB_STATE_ERROR, "state %d after a merged answer\n", state);
        /* The context is not written down for this one. */
        ok(get_job_error(job, &context, &code) && code == BG_E_INVALID_SERVER_RESPONSE,
                "error %#lx, context %d\n", code, context);
    }
    else
    {
        ok(state == BG_JOB_STATE_TRANSFERRED, "state %d\n", state);
        if (state == BG_JOB_STATE_TRANSFERRED)
        {
            ok(IBackgroundCopyJob_Complete(job) == S_OK, "Complete failed\n");
            check_concatenation(path, "ranges-merge", 1000, ranges, ARRAY_SIZE(ranges));
        }
    }

done:
    cancel_job(job);
    CoTaskMemFree(path);
    remove_test_dir(dir);
}

/* ---- IBackgroundCopyFile6 and on-demand jobs (BITS 10.1) ---- */

static IBackgroundCopyFile6 *get_file6(IBackgroundCopyJob *job, ULONG index)
{
    IBackgroundCopyFile *file = get_job_file(job, index);
    IBackgroundCopyFile6 *file6 = NULL;
    HRESULT hr;

    ok(file != NULL, "no file %lu\n", index);
    if (!file) return NULL;
    hr = IBackgroundCopyFile_QueryInterface(file, &IID_IBackgroundCopyFile6, (void **)&file6);
    IBackgroundCopyFile_Release(file);
    if (FAILED(hr))
    {
        win_skip("no IBackgroundCopyFile6: %#lx\n", hr);
        return NULL;
    }
    return file6;
}

/* Whether [offset, offset + length) lies in one of RANGES. */
static BOOL ranges_cover(const BG_FILE_RANGE *ranges, DWORD count, UINT64 offset,
        UINT64 length)
{
    DWORD i;

    for (i = 0; i < count; i++)
        if (ranges[i].InitialOffset <= offset
                && offset + length <= ranges[i].InitialOffset + ranges[i].Length)
            return TRUE;
    return FALSE;
}

/* GetFilledFileRanges [doc]: S_OK and the ranges downloaded, merged as far as possible and
 * sorted by offset, inside a file of SIZE bytes.  Returns them (CoTaskMemFree) or NULL. */
static BG_FILE_RANGE *get_filled_at(IBackgroundCopyFile6 *file6, UINT64 size, DWORD *count,
        int line)
{
    BG_FILE_RANGE *ranges = NULL;
    DWORD i;
    HRESULT hr;

    *count = 0xdead;
    hr = IBackgroundCopyFile6_GetFilledFileRanges(file6, count, &ranges);
    ok_(__FILE__, line)(hr == S_OK, "GetFilledFileRanges: %#lx\n", hr);
    if (hr != S_OK)
    {
        *count = 0;
        return NULL;
    }
    ok_(__FILE__, line)(ranges || !*count, "%lu ranges at NULL\n", *count);
    if (!ranges) *count = 0;
    for (i = 0; i < *count && ranges; i++)
    {
        ok_(__FILE__, line)(ranges[i].Length && ranges[i].Length != BG_LENGTH_TO_EOF
                && ranges[i].InitialOffset + ranges[i].Length <= size,
                "filled range %lu: %s, %s\n", i, wine_dbgstr_longlong(ranges[i].InitialOffset),
                wine_dbgstr_longlong(ranges[i].Length));
        if (i)
            ok_(__FILE__, line)(ranges[i - 1].InitialOffset + ranges[i - 1].Length
                    < ranges[i].InitialOffset, "filled ranges %lu and %lu are not sorted and "
                    "merged: %s, %s and %s\n", i - 1, i,
                    wine_dbgstr_longlong(ranges[i - 1].InitialOffset),
                    wine_dbgstr_longlong(ranges[i - 1].Length),
                    wine_dbgstr_longlong(ranges[i].InitialOffset));
    }
    return ranges;
}
#define get_filled(file6, size, count) get_filled_at(file6, size, count, __LINE__)

/* [doc] File6 is for download jobs over HTTP(S) that could be on demand: an upload job gets
 * BG_E_RANDOM_ACCESS_NOT_SUPPORTED from its three methods, a download job from an SMB source
 * from UpdateDownloadPosition; ON_DEMAND_MODE is a download job's property. */
static void test_File6_requirements(void)
{
    BG_FILE_RANGE range = { 0, 4 }, *ranges;
    BITS_JOB_PROPERTY_VALUE value;
    IBackgroundCopyFile6 *file6;
    IBackgroundCopyJob5 *job5;
    IBackgroundCopyJob *job;
    WCHAR *source, *local, url[MAX_PATH + 16];
    DWORD count;
    HRESULT hr;

    source = temp_path(L"ranges-file6-source.txt");
    local = temp_path(L"ranges-file6-local.txt");
    write_test_file(source, "some bytes to upload");

    job = create_job(L"ranges-file6-upload", BG_JOB_TYPE_UPLOAD, NULL);
    if (!job) goto done;
    hr = IBackgroundCopyJob_AddFile(job, L"http://example.invalid/upload/ranges", source);
    ok(hr == S_OK, "AddFile: %#lx\n", hr);
    if (hr == S_OK && (file6 = get_file6(job, 0)))
    {
        hr = IBackgroundCopyFile6_UpdateDownloadPosition(file6, 0);
        ok(hr == BG_E_RANDOM_ACCESS_NOT_SUPPORTED, "UpdateDownloadPosition: %#lx\n", hr);
        hr = IBackgroundCopyFile6_RequestFileRanges(file6, 1, &range);
        ok(hr == BG_E_RANDOM_ACCESS_NOT_SUPPORTED, "RequestFileRanges: %#lx\n", hr);
        ranges = NULL;
        hr = IBackgroundCopyFile6_GetFilledFileRanges(file6, &count, &ranges);
        ok(hr == BG_E_RANDOM_ACCESS_NOT_SUPPORTED, "GetFilledFileRanges: %#lx\n", hr);
        CoTaskMemFree(ranges);
        IBackgroundCopyFile6_Release(file6);
    }
    if (SUCCEEDED(IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJob5,
            (void **)&job5)))
    {
        /* behaviour.md §7.4: the code is [inferred] from the SDK's names. */
        value.Enable = TRUE;
        hr = IBackgroundCopyJob5_SetProperty(job5, BITS_JOB_PROPERTY_ON_DEMAND_MODE, value);
        ok(hr == BG_E_PROPERTY_SUPPORTED_FOR_DOWNLOAD_JOBS_ONLY || broken(FAILED(hr)),
                "SetProperty(ON_DEMAND_MODE) of an upload job: %#lx\n", hr);
        IBackgroundCopyJob5_Release(job5);
    }
    else win_skip("no IBackgroundCopyJob5\n");
    cancel_job(job);

    job = create_job(L"ranges-file6-smb", BG_JOB_TYPE_DOWNLOAD, NULL);
    if (!job) goto done;
    swprintf(url, ARRAY_SIZE(url), L"file://%ls", source);
    hr = IBackgroundCopyJob_AddFile(job, url, local);
    ok(hr == S_OK, "AddFile(%s): %#lx\n", wine_dbgstr_w(url), hr);
    if (hr == S_OK && (file6 = get_file6(job, 0)))
    {
        hr = IBackgroundCopyFile6_UpdateDownloadPosition(file6, 0);
        ok(hr == BG_E_RANDOM_ACCESS_NOT_SUPPORTED, "UpdateDownloadPosition, SMB: %#lx\n", hr);
        IBackgroundCopyFile6_Release(file6);
    }
    cancel_job(job);

done:
    DeleteFileW(source);
    CoTaskMemFree(source);
    CoTaskMemFree(local);
}

/* [doc] File6 also serves a download job that is not on demand but could be (HTTP, ranges):
 * UpdateDownloadPosition succeeds, GetFilledFileRanges gives the part that has arrived while
 * it runs, everything once TRANSFERRED, as one merged range. */
static void test_File6_filled_ranges(void)
{
    static const char name[] = "ranges-filled";
    struct stall_guard *guard = NULL;
    IBackgroundCopyFile6 *file6 = NULL;
    IBackgroundCopyJob *job;
    BG_FILE_RANGE *filled;
    WCHAR *dir, *path;
    DWORD count;
    HRESULT hr;

    if (!start_server()) return;
    dir = make_test_dir(L"ranges-filled");
    path = dir_file(dir, L"filled.bin");
    job = create_transfer_job(L"ranges-filled", NULL);
    if (!job || FAILED(add_server_file(job, "ranges-filled?size=20000&stall=12000", path)))
        goto done;
    if (!(file6 = get_file6(job, 0))) goto done;
    guard = stall_guard_begin(name, GUARD_TIMEOUT);
    hr = IBackgroundCopyJob_Resume(job);
    ok(hr == S_OK, "Resume: %#lx\n", hr);
    ok(server_wait_stalled(name, STALL_TIMEOUT), "never stalled\n");
    ok(wait_for_file_bytes(job, 0, 12000, STALL_TIMEOUT), "the bytes before the stall never "
            "arrived\n");
    hr = IBackgroundCopyFile6_UpdateDownloadPosition(file6, 0);
    ok(hr == S_OK, "UpdateDownloadPosition: %#lx\n", hr);
    filled = get_filled(file6, 20000, &count);
    ok(count <= 1 && (!count || (filled[0].InitialOffset == 0 && filled[0].Length <= 12000)),
            "%lu filled ranges during the transfer, the first %s, %s\n", count,
            count ? wine_dbgstr_longlong(filled[0].InitialOffset) : "-",
            count ? wine_dbgstr_longlong(filled[0].Length) : "-");
    CoTaskMemFree(filled);

    server_release(name);
    ok(wait_for_state(job, BG_JOB_STATE_TRANSFERRED, TRANSFER_TIMEOUT), "state %d\n",
            get_job_state(job));
    filled = get_filled(file6, 20000, &count);
    ok(count == 1 && filled[0].InitialOffset == 0 && filled[0].Length == 20000,
            "%lu filled ranges when transferred\n", count);
    CoTaskMemFree(filled);

done:
    stall_guard_end(guard);
    server_release(name);
    if (file6) IBackgroundCopyFile6_Release(file6);
    cancel_job(job);
    CoTaskMemFree(path);
    remove_test_dir(dir);
}

/* An on-demand job (BITS_JOB_PROPERTY_ON_DEMAND_MODE, IBackgroundCopyFile6 [doc]): it fetches
 * the ranges asked for by RequestFileRanges, then is SUSPENDED while bytes are missing and
 * TRANSFERRED once it has all; GetFilledFileRanges shows what arrived, FileRangesTransferred
 * reports it; a range past the end of the file is BG_E_INVALID_RANGE; ranges may overlap what
 * is there. */
static void test_on_demand(void)
{
    BG_FILE_RANGE wanted[] = { { 50000, 100 }, { 1000, 2000 } };
    BG_FILE_RANGE outside = { 59990, 20 }, past = { 60000, 1 }, all = { 0, 60000 };
    static const char name[] = "ranges-ondemand";
    struct ranges_callback *callback = NULL;
    IBackgroundCopyFile6 *file6 = NULL;
    BITS_JOB_PROPERTY_VALUE value;
    IBackgroundCopyJob5 *job5 = NULL;
    BG_FILE_RANGE *filled = NULL;
    IBackgroundCopyJob *job;
    BG_JOB_STATE state;
    WCHAR *dir, *path;
    DWORD count = 0, i;
    GUID id;
    HRESULT hr;

    if (!start_server()) return;
    dir = make_test_dir(L"ranges-ondemand");
    path = dir_file(dir, L"ondemand.bin");
    job = create_transfer_job(L"ranges-ondemand", &id);
    if (!job || FAILED(add_server_file(job, "ranges-ondemand?size=60000", path))) goto done;
    if (!(file6 = get_file6(job, 0))) goto done;
    hr = IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJob5, (void **)&job5);
    ok(hr == S_OK, "no IBackgroundCopyJob5 next to IBackgroundCopyFile6: %#lx\n", hr);
    if (FAILED(hr)) goto done;
    memset(&value, 0, sizeof(value));
    value.Enable = TRUE;
    hr = IBackgroundCopyJob5_SetProperty(job5, BITS_JOB_PROPERTY_ON_DEMAND_MODE, value);
    ok(hr == S_OK, "SetProperty(ON_DEMAND_MODE): %#lx\n", hr);
    if (hr != S_OK) goto done;
    memset(&value, 0, sizeof(value));
    hr = IBackgroundCopyJob5_GetProperty(job5, BITS_JOB_PROPERTY_ON_DEMAND_MODE, &value);
    ok(hr == S_OK && value.Enable == TRUE, "GetProperty(ON_DEMAND_MODE): %#lx, %d\n", hr,
            value.Enable);

    callback = ranges_callback_create();
    ok(callback != NULL, "no callback object\n");
    if (!callback) goto done;
    hr = IBackgroundCopyJob_SetNotifyInterface(job,
            (IUnknown *)&callback->IBackgroundCopyCallback3_iface);
    ok(hr == S_OK, "SetNotifyInterface: %#lx\n", hr);
    hr = IBackgroundCopyJob_SetNotifyFlags(job, BG_NOTIFY_FILE_RANGES_TRANSFERRED
            | BG_NOTIFY_JOB_TRANSFERRED | BG_NOTIFY_JOB_ERROR);
    ok(hr == S_OK, "SetNotifyFlags: %#lx\n", hr);

    hr = IBackgroundCopyFile6_RequestFileRanges(file6, ARRAY_SIZE(wanted), wanted);
    ok(hr == S_OK, "RequestFileRanges: %#lx\n", hr);
    if (hr != S_OK) goto done;

    /* [doc] The requested ranges downloaded, bytes still missing: SUSPENDED. */
    hr = IBackgroundCopyJob_Resume(job);
    ok(hr == S_OK, "Resume: %#lx\n", hr);
    state = wait_for_state_seen(job, BG_JOB_STATE_SUSPENDED, TRANSFER_TIMEOUT, NULL);
    ok(state == BG_JOB_STATE_SUSPENDED, "state %d with the ranges asked for\n", state);
    if (state != BG_JOB_STATE_SUSPENDED) goto done;
    filled = get_filled(file6, 60000, &count);
    for (i = 0; i < ARRAY_SIZE(wanted); i++)
        ok(ranges_cover(filled, count, wanted[i].InitialOffset, wanted[i].Length),
                "range %s, %s not filled\n", wine_dbgstr_longlong(wanted[i].InitialOffset),
                wine_dbgstr_longlong(wanted[i].Length));
    ok(!ranges_cover(filled, count, 0, 60000), "the whole file is there\n");

    /* [doc] FileRangesTransferred tells what arrived, for this job and file. */
    ok(ranges_callback_wait(callback, &callback->range_calls, 1, CALLBACK_TIMEOUT),
            "no FileRangesTransferred\n");
    EnterCriticalSection(&callback->cs);
    if (callback->range_calls)
    {
        ok(!callback->bad_call, "a call without job, file or ranges\n");
        ok(IsEqualGUID(&callback->job_id, &id), "job %s\n", wine_dbgstr_guid(&callback->job_id));
        ok(!wcscmp(callback->file, path), "file %s\n", wine_dbgstr_w(callback->file));
        for (i = 0; i < callback->range_count && i < RECORDED_RANGES_MAX; i++)
            ok(callback->ranges[i].Length
                    && ranges_cover(filled, count, callback->ranges[i].InitialOffset,
                    callback->ranges[i].Length), "reported range %s, %s is not filled\n",
                    wine_dbgstr_longlong(callback->ranges[i].InitialOffset),
                    wine_dbgstr_longlong(callback->ranges[i].Length));
    }
    LeaveCriticalSection(&callback->cs);

    /* [doc] Any part outside the file: BG_E_INVALID_RANGE. */
    hr = IBackgroundCopyFile6_RequestFileRanges(file6, 1, &outside);
    ok(hr == BG_E_INVALID_RANGE, "RequestFileRanges across the end: %#lx\n", hr);
    hr = IBackgroundCopyFile6_RequestFileRanges(file6, 1, &past);
    ok(hr == BG_E_INVALID_RANGE, "RequestFileRanges past the end: %#lx\n", hr);

    hr = IBackgroundCopyFile6_UpdateDownloadPosition(file6, 30000);
    ok(hr == S_OK, "UpdateDownloadPosition: %#lx\n", hr);

    /* [doc] Overlapping what is there is allowed; with every byte, TRANSFERRED. */
    hr = IBackgroundCopyFile6_RequestFileRanges(file6, 1, &all);
    ok(hr == S_OK, "RequestFileRanges of everything: %#lx\n", hr);
    if (!resume_and_wait(job, BG_JOB_STATE_TRANSFERRED)) goto done;
    CoTaskMemFree(filled);
    filled = get_filled(file6, 60000, &count);
    ok(count == 1 && filled[0].InitialOffset == 0 && filled[0].Length == 60000,
            "%lu filled ranges when transferred\n", count);
    ok(ranges_callback_wait(callback, &callback->transferred, 1, CALLBACK_TIMEOUT),
            "no JobTransferred\n");
    ok(IBackgroundCopyJob_Complete(job) == S_OK, "Complete failed\n");
    ok(server_verify_file(path, name, 60000), "the file differs\n");

done:
    CoTaskMemFree(filled);
    if (file6) IBackgroundCopyFile6_Release(file6);
    if (job5) IBackgroundCopyJob5_Release(job5);
    cancel_job(job);
    ranges_callback_release(callback);
    CoTaskMemFree(path);
    remove_test_dir(dir);
}

/* ---- MaxRangesPerFile (behaviour.md §8 [doc]) ---- */

/* The limit for callers who are not administrators: the policy value, or 500 without one. */
static DWORD max_ranges_per_file(void)
{
    DWORD value = 0, size = sizeof(value);

    if (RegGetValueW(HKEY_LOCAL_MACHINE, POLICY_KEY, L"MaxRangesPerFile", RRF_RT_REG_DWORD, NULL,
            &value, &size) == ERROR_SUCCESS)
        return value;
    return DEFAULT_MAX_RANGES;
}

/* AddFileWithRanges of COUNT disjoint ranges to JOB. */
static HRESULT add_many_ranges(IBackgroundCopyJob *job, DWORD count, const WCHAR *name)
{
    BG_FILE_RANGE *ranges = malloc(count * sizeof(*ranges));
    WCHAR *local = temp_path(name);
    HRESULT hr = E_OUTOFMEMORY;
    DWORD i;

    if (ranges)
    {
        for (i = 0; i < count; i++)
        {
            ranges[i].InitialOffset = i * 10ull;
            ranges[i].Length = 5;
        }
        hr = add_ranges(job, NOWHERE, local, count, ranges);
    }
    free(ranges);
    CoTaskMemFree(local);
    return hr;
}

/* The child, not an administrator: LIMIT ranges pass, one more is refused and adds nothing. */
static void child_max_ranges(void)
{
    DWORD limit = max_ranges_per_file();
    IBackgroundCopyJob *job = NULL;
    WCHAR name[256];
    HRESULT hr;
    GUID id;

    if (is_admin())
    {
        ok(0, "the child is an administrator\n");
        return;
    }
    if (!limit || limit > 100000)
    {
        skip("MaxRangesPerFile policy %lu\n", limit);
        return;
    }
    make_job_name(L"ranges-max", name, ARRAY_SIZE(name));
    hr = IBackgroundCopyManager_CreateJob(test_manager, name, BG_JOB_TYPE_DOWNLOAD, &id, &job);
    if (hr == BG_E_TOO_MANY_JOBS_PER_USER || hr == BG_E_TOO_MANY_JOBS_PER_MACHINE)
    {
        /* The limits unit may hold a job limit in force at this moment. */
        skip("CreateJob: %#lx\n", hr);
        return;
    }
    ok(hr == S_OK, "CreateJob: %#lx\n", hr);
    if (hr != S_OK) return;
    hr = add_many_ranges(job, limit, L"ranges-max-1.bin");
    ok(hr == S_OK, "%lu ranges: %#lx\n", limit, hr);
    hr = add_many_ranges(job, limit + 1, L"ranges-max-2.bin");
    ok(hr == BG_E_TOO_MANY_RANGES_IN_FILE, "%lu ranges: %#lx\n", limit + 1, hr);
    ok(count_job_files(job) == 1, "%lu files\n", count_job_files(job));
    cancel_job(job);
}

/* behaviour.md §8 [doc]: more ranges than MaxRangesPerFile are refused to a caller who is not an
 * administrator (the child); administrators are exempt. */
static void test_MaxRangesPerFile(void)
{
    DWORD limit = max_ranges_per_file();
    IBackgroundCopyJob *job;
    HRESULT hr;

    if (!is_admin())
    {
        child_max_ranges();
        return;
    }
    run_child_process(L"ranges child", TRUE, CHILD_TIMEOUT);
    if (!limit || limit > 100000) return;
    job = create_job(L"ranges-max-admin", BG_JOB_TYPE_DOWNLOAD, NULL);
    if (!job) return;
    hr = add_many_ranges(job, limit + 1, L"ranges-max-admin.bin");
    ok(hr == S_OK || hr == E_NOINTERFACE, "an administrator's %lu ranges: %#lx\n", limit + 1, hr);
    cancel_job(job);
}

START_TEST(ranges)
{
    char **argv;
    int argc = winetest_get_mainargs(&argv);
    BOOL child = argc >= 3 && !strcmp(argv[2], "child");

    if (!bits_test_init())
    {
        /* A child that cannot reach BITS has checked nothing: that must not pass. */
        ok(!child, "the child cannot create the manager\n");
        return;
    }
    if (child)
    {
        child_max_ranges();
        bits_test_cleanup();
        return;
    }
    test_AddFileWithRanges_ranges();
    test_AddFileWithRanges_names();
    test_AddFileWithRanges_upload();
    test_GetFileRanges();
    test_MaxRangesPerFile();
    test_transfer_in_given_order();
    test_transfer_to_eof();
    test_transfer_many_ranges();
    test_progress_during_transfer();
    test_range_beyond_eof();
    test_server_without_ranges();
    test_server_merging_ranges();
    test_File6_requirements();
    test_File6_filled_ranges();
    test_on_demand();
    server_stop();
    bits_test_cleanup();
}
