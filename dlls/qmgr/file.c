/* IBackgroundCopyFile .. IBackgroundCopyFile6: one COM object per file and client reference,
 * reading the file's data, which the engine keeps, under its job's lock.  Also the argument
 * rules for remote and local names that AddFile, AddFileSet and SetRemoteName share.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdlib.h>

#include "qmgr_private.h"

DEFAULT_DEBUG_CHANNEL(qmgr);

#define MAX_REMOTE_NAME 2200    /* behaviour.md §2.2 */

static BOOL has_prefix(const WCHAR *str, const WCHAR *prefix)
{
    return !_wcsnicmp(str, prefix, wcslen(prefix));
}

static BOOL is_separator(WCHAR c)
{
    return c == '\\' || c == '/';
}

/* Every part between separators fits in MAX_PATH characters (behaviour.md §2.2). */
static BOOL segments_fit(const WCHAR *name, const WCHAR *separators)
{
    size_t len;

    for (;;)
    {
        len = wcscspn(name, separators);
        if (len > MAX_PATH) return FALSE;
        if (!name[len]) return TRUE;
        name += len + 1;
    }
}

/* "C:\" or "C:/" */
static BOOL is_drive_path(const WCHAR *path)
{
    WCHAR letter = path[0] | 0x20;

    return letter >= 'a' && letter <= 'z' && path[1] == ':' && is_separator(path[2]);
}

/* "server\share\file..." after the two leading separators of a UNC path.  "?" or "." as the
 * server would make it a device path, which BITS does not take (behaviour.md §2.2). */
static BOOL is_share_path(const WCHAR *path)
{
    size_t server = wcscspn(path, L"\\/"), share;

    if (!server || !path[server]) return FALSE;
    if (server == 1 && (path[0] == '?' || path[0] == '.')) return FALSE;
    share = wcscspn(path + server + 1, L"\\/");
    return share && path[server + 1 + share] && path[server + 2 + share];
}

/* What follows the drive or the leading separators of a full path: no wildcards, no stream,
 * and a file, not a directory. */
static BOOL is_file_path_rest(const WCHAR *rest)
{
    const WCHAR *p;

    if (!*rest) return FALSE;
    for (p = rest; *p; p++)
        if (*p < 0x20 || wcschr(L"<>:\"|?*", *p)) return FALSE;
    return !is_separator(p[-1]) && segments_fit(rest, L"\\/");
}

/* A full path, with a drive or UNC, naming a file. */
static BOOL is_full_file_path(const WCHAR *path)
{
    if (is_drive_path(path)) return is_file_path_rest(path + 2);
    if (is_separator(path[0]) && is_separator(path[1]) && is_share_path(path + 2))
        return is_file_path_rest(path + 2);
    return FALSE;
}

/* The part of an http(s) URL after "scheme://": a host, and only characters that need no
 * escaping, since BITS does no escaping of its own (behaviour.md §2.2). */
static BOOL is_url_rest(const WCHAR *rest)
{
    size_t authority = wcscspn(rest, L"/?#");
    const WCHAR *p;

    if (!authority || rest[0] == ':' || rest[0] == '@') return FALSE;
    for (p = rest; *p; p++)
        if (*p <= ' ' || *p == 0x7f) return FALSE;
    return segments_fit(rest, L"/");
}

HRESULT file_check_remote_name(const WCHAR *name, BG_JOB_TYPE type)
{
    if (!name || !*name || wcslen(name) > MAX_REMOTE_NAME) return E_INVALIDARG;
    if (has_prefix(name, L"http://")) return is_url_rest(name + 7) ? S_OK : E_INVALIDARG;
    if (has_prefix(name, L"https://")) return is_url_rest(name + 8) ? S_OK : E_INVALIDARG;
    /* Uploads use the BITS upload protocol, which runs over HTTP only. */
    if (type != BG_JOB_TYPE_DOWNLOAD) return E_INVALIDARG;
    if (has_prefix(name, L"file://"))
    {
        name += 7;
        if (name[0] == '/' && is_drive_path(name + 1)) name++;     /* file:///C:/dir/file */
        if (!is_drive_path(name) && !is_separator(name[0]))         /* file://server/share/file */
            return is_share_path(name) && is_file_path_rest(name) ? S_OK : E_INVALIDARG;
    }
    return is_full_file_path(name) ? S_OK : E_INVALIDARG;
}

HRESULT file_check_local_name(const WCHAR *name)
{
    if (!name || wcslen(name) > MAX_PATH || !is_full_file_path(name)) return E_INVALIDARG;
    return S_OK;
}

/* Whether a range can lie in a file: its offset is not BG_LENGTH_TO_EOF and it ends before
 * 2^64 (a length of BG_LENGTH_TO_EOF runs to the end of the file). */
static BOOL range_valid(const BG_FILE_RANGE *range)
{
    return range->InitialOffset != BG_LENGTH_TO_EOF && (range->Length == BG_LENGTH_TO_EOF
            || range->Length <= ~(UINT64)0 - range->InitialOffset);
}

/* A range and where it was in the caller's array, for a stable sort by offset. */
struct indexed_range
{
    BG_FILE_RANGE range;
    DWORD index;
};

static int __cdecl compare_indexed_ranges(const void *a, const void *b)
{
    const struct indexed_range *x = a, *y = b;

    if (x->range.InitialOffset != y->range.InitialOffset)
        return x->range.InitialOffset < y->range.InitialOffset ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* behaviour.md §2.2 [doc]: the ranges are taken in offset order, as given among equal offsets,
 * so (100, 5) then (100, 0) overlap while (100, 0) then (100, 5) do not; a length of
 * BG_LENGTH_TO_EOF reaches every later offset [inferred]. */
HRESULT file_check_ranges(DWORD count, const BG_FILE_RANGE *ranges)
{
    struct indexed_range *sorted;
    BOOL overlap = FALSE;
    UINT64 end = 0;
    DWORD i;

    if (!count || !ranges) return E_INVALIDARG;
    for (i = 0; i < count; i++)
        if (!range_valid(&ranges[i])) return BG_E_INVALID_RANGE;
    if (!(sorted = malloc(count * sizeof(*sorted)))) return E_OUTOFMEMORY;
    for (i = 0; i < count; i++)
    {
        sorted[i].range = ranges[i];
        sorted[i].index = i;
    }
    qsort(sorted, count, sizeof(*sorted), compare_indexed_ranges);
    for (i = 0; i < count && !overlap; i++)
    {
        const BG_FILE_RANGE *range = &sorted[i].range;

        if (i && range->InitialOffset < end) overlap = TRUE;
        else if (range->Length == BG_LENGTH_TO_EOF) end = BG_LENGTH_TO_EOF;
        else end = range->InitialOffset + range->Length;
    }
    free(sorted);
    return overlap ? BG_E_OVERLAPPING_RANGES : S_OK;
}

struct file
{
    IBackgroundCopyFile6 IBackgroundCopyFile6_iface;
    LONG refcount;
    struct engine_job *job;         /* one reference, which keeps the file alive */
    struct job_file *file;          /* read under the job lock */
};

static inline struct file *impl_from_IBackgroundCopyFile6(IBackgroundCopyFile6 *iface)
{
    return CONTAINING_RECORD(iface, struct file, IBackgroundCopyFile6_iface);
}

static HRESULT WINAPI file_QueryInterface(IBackgroundCopyFile6 *iface, REFIID riid, void **out)
{
    struct file *file = impl_from_IBackgroundCopyFile6(iface);

    TRACE("file %p, riid %s, out %p\n", file, debugstr_guid(riid), out);
    if (!out) return E_POINTER;
    if (IsEqualGUID(riid, &IID_IUnknown) || IsEqualGUID(riid, &IID_IBackgroundCopyFile)
            || IsEqualGUID(riid, &IID_IBackgroundCopyFile2)
            || IsEqualGUID(riid, &IID_IBackgroundCopyFile3)
            || IsEqualGUID(riid, &IID_IBackgroundCopyFile4)
            || IsEqualGUID(riid, &IID_IBackgroundCopyFile5)
            || IsEqualGUID(riid, &IID_IBackgroundCopyFile6))
    {
        *out = &file->IBackgroundCopyFile6_iface;
        IBackgroundCopyFile6_AddRef(iface);
        return S_OK;
    }
    *out = NULL;
    WARN("unsupported interface %s\n", debugstr_guid(riid));
    return E_NOINTERFACE;
}

static ULONG WINAPI file_AddRef(IBackgroundCopyFile6 *iface)
{
    struct file *file = impl_from_IBackgroundCopyFile6(iface);
    ULONG refcount = InterlockedIncrement(&file->refcount);

    TRACE("file %p, refcount %lu\n", file, refcount);
    return refcount;
}

static ULONG WINAPI file_Release(IBackgroundCopyFile6 *iface)
{
    struct file *file = impl_from_IBackgroundCopyFile6(iface);
    ULONG refcount = InterlockedDecrement(&file->refcount);

    TRACE("file %p, refcount %lu\n", file, refcount);
    if (!refcount)
    {
        engine_job_release(file->job);
        free(file);
    }
    return refcount;
}

static HRESULT WINAPI file_GetRemoteName(IBackgroundCopyFile6 *iface, LPWSTR *out)
{
    struct file *file = impl_from_IBackgroundCopyFile6(iface);
    HRESULT hr;

    TRACE("file %p, out %p\n", file, out);
    if (!out) return E_INVALIDARG;
    engine_job_lock(file->job);
    hr = cotask_strdup(file->file->remote_name, out);
    engine_job_unlock(file->job);
    return hr;
}

static HRESULT WINAPI file_GetLocalName(IBackgroundCopyFile6 *iface, LPWSTR *out)
{
    struct file *file = impl_from_IBackgroundCopyFile6(iface);
    HRESULT hr;

    TRACE("file %p, out %p\n", file, out);
    if (!out) return E_INVALIDARG;
    engine_job_lock(file->job);
    hr = cotask_strdup(file->file->local_name, out);
    engine_job_unlock(file->job);
    return hr;
}

static HRESULT WINAPI file_GetProgress(IBackgroundCopyFile6 *iface, BG_FILE_PROGRESS *progress)
{
    struct file *file = impl_from_IBackgroundCopyFile6(iface);

    TRACE("file %p, progress %p\n", file, progress);
    if (!progress) return E_INVALIDARG;
    engine_job_lock(file->job);
    progress->BytesTotal = file->file->bytes_total;
    progress->BytesTransferred = file->file->bytes_transferred;
    progress->Completed = file->file->completed;
    engine_job_unlock(file->job);
    return S_OK;
}

static HRESULT WINAPI file_GetFileRanges(IBackgroundCopyFile6 *iface, DWORD *count,
                                         BG_FILE_RANGE **ranges)
{
    struct file *file = impl_from_IBackgroundCopyFile6(iface);

    DWORD size;
    HRESULT hr = S_OK;

    TRACE("file %p, count %p, ranges %p\n", file, count, ranges);
    if (ranges) *ranges = NULL;
    if (!count || !ranges) return E_INVALIDARG;
    *count = 0;
    engine_job_lock(file->job);
    if (file->file->ranges)
    {
        /* Learn GetFileRanges: the caller's own copy, freed with CoTaskMemFree. */
        size = file->file->range_count * sizeof(**ranges);
        if (!(*ranges = CoTaskMemAlloc(size))) hr = E_OUTOFMEMORY;
        else
        {
            memcpy(*ranges, file->file->ranges, size);
            *count = file->file->range_count;
        }
    }
    else hr = S_FALSE;      /* [doc] no ranges: S_FALSE, 0 and NULL */
    engine_job_unlock(file->job);
    return hr;
}

/* behaviour.md §2.1: not for uploads; takes effect at the next Resume. */
static HRESULT WINAPI file_SetRemoteName(IBackgroundCopyFile6 *iface, LPCWSTR name)
{
    struct file *file = impl_from_IBackgroundCopyFile6(iface);
    BG_JOB_TYPE type = engine_job_type(file->job);
    HRESULT hr;

    TRACE("file %p, name %s\n", file, debugstr_w(name));
    if (type != BG_JOB_TYPE_DOWNLOAD) return E_NOTIMPL;
    hr = file_check_remote_name(name, type);
    if (FAILED(hr)) return hr;
    return engine_set_remote_name(file->job, file->file, name);
}

static HRESULT WINAPI file_GetTemporaryName(IBackgroundCopyFile6 *iface, LPWSTR *out)
{
    struct file *file = impl_from_IBackgroundCopyFile6(iface);
    HRESULT hr;

    TRACE("file %p, out %p\n", file, out);
    if (!out) return E_INVALIDARG;
    engine_job_lock(file->job);
    hr = cotask_strdup(file->file->temp_name, out);
    engine_job_unlock(file->job);
    /* No temporary file exists before its transfer starts. */
    if (SUCCEEDED(hr) && !*out) hr = S_FALSE;
    return hr;
}

/* behaviour.md §2.1, §7.2: only a transferred file of a live job can be judged. */
static HRESULT WINAPI file_SetValidationState(IBackgroundCopyFile6 *iface, BOOL state)
{
    struct file *file = impl_from_IBackgroundCopyFile6(iface);

    TRACE("file %p, state %d\n", file, state);
    return engine_set_validation_state(file->job, file->file, !!state);
}

static HRESULT WINAPI file_GetValidationState(IBackgroundCopyFile6 *iface, BOOL *state)
{
    struct file *file = impl_from_IBackgroundCopyFile6(iface);

    TRACE("file %p, state %p\n", file, state);
    if (!state) return E_INVALIDARG;
    engine_job_lock(file->job);
    *state = file->file->validated;
    engine_job_unlock(file->job);
    return S_OK;
}

static HRESULT WINAPI file_IsDownloadedFromPeer(IBackgroundCopyFile6 *iface, BOOL *from_peer)
{
    struct file *file = impl_from_IBackgroundCopyFile6(iface);

    TRACE("file %p, from_peer %p\n", file, from_peer);
    if (!from_peer) return E_INVALIDARG;
    /* There is no peer caching: every byte comes from the origin server. */
    *from_peer = FALSE;
    return S_OK;
}

static HRESULT WINAPI file_GetPeerDownloadStats(IBackgroundCopyFile6 *iface, UINT64 *from_origin,
                                                UINT64 *from_peers)
{
    struct file *file = impl_from_IBackgroundCopyFile6(iface);

    TRACE("file %p, from_origin %p, from_peers %p\n", file, from_origin, from_peers);
    if (!from_origin || !from_peers) return E_INVALIDARG;
    /* Without peer caching whatever was downloaded came from the origin. */
    *from_origin = 0;
    *from_peers = 0;
    if (engine_job_type(file->job) != BG_JOB_TYPE_DOWNLOAD) return S_OK;
    engine_job_lock(file->job);
    *from_origin = file->file->bytes_transferred;
    engine_job_unlock(file->job);
    return S_OK;
}

/* behaviour.md §7.2: the one file property reports what a server said; nothing sets it. */
static HRESULT WINAPI file_SetProperty(IBackgroundCopyFile6 *iface, BITS_FILE_PROPERTY_ID id,
                                       BITS_FILE_PROPERTY_VALUE value)
{
    struct file *file = impl_from_IBackgroundCopyFile6(iface);

    (void)value;    /* no arm of the union is valid for an unknown id */
    TRACE("file %p, id %u\n", file, id);
    if (id == BITS_FILE_PROPERTY_ID_HTTP_RESPONSE_HEADERS) return BG_E_READ_ONLY_PROPERTY;
    return BG_E_UNKNOWN_PROPERTY_ID;
}

/* The headers are "" until an HTTP response came for the file [inferred: the docs name no
 * value for a file that had none]. */
static HRESULT WINAPI file_GetProperty(IBackgroundCopyFile6 *iface, BITS_FILE_PROPERTY_ID id,
                                       BITS_FILE_PROPERTY_VALUE *value)
{
    struct file *file = impl_from_IBackgroundCopyFile6(iface);
    HRESULT hr;

    TRACE("file %p, id %u, value %p\n", file, id, value);
    if (!value) return E_INVALIDARG;
    value->String = NULL;
    if (id != BITS_FILE_PROPERTY_ID_HTTP_RESPONSE_HEADERS) return BG_E_UNKNOWN_PROPERTY_ID;
    engine_job_lock(file->job);
    hr = cotask_strdup(file->file->response_headers ? file->file->response_headers : L"",
                       &value->String);
    engine_job_unlock(file->job);
    return hr;
}

/* File6 (behaviour.md §7.2): the three methods serve download jobs that could be on demand
 * [doc]; upload jobs get BG_E_RANDOM_ACCESS_NOT_SUPPORTED here, the engine checks the rest. */
static HRESULT WINAPI file_UpdateDownloadPosition(IBackgroundCopyFile6 *iface, UINT64 offset)
{
    struct file *file = impl_from_IBackgroundCopyFile6(iface);

    TRACE("file %p, offset %I64u\n", file, offset);
    if (engine_job_type(file->job) != BG_JOB_TYPE_DOWNLOAD) return BG_E_RANDOM_ACCESS_NOT_SUPPORTED;
    return engine_update_position(file->job, file->file, offset);
}

static HRESULT WINAPI file_RequestFileRanges(IBackgroundCopyFile6 *iface, DWORD count,
                                             const BG_FILE_RANGE *ranges)
{
    struct file *file = impl_from_IBackgroundCopyFile6(iface);
    DWORD i;

    TRACE("file %p, count %lu, ranges %p\n", file, count, ranges);
    if (engine_job_type(file->job) != BG_JOB_TYPE_DOWNLOAD) return BG_E_RANDOM_ACCESS_NOT_SUPPORTED;
    if (!count || !ranges) return E_INVALIDARG;
    /* [doc] they may overlap each other and what is there already. */
    for (i = 0; i < count; i++)
    {
        TRACE("%I64u, %I64d\n", ranges[i].InitialOffset, (INT64)ranges[i].Length);
        if (!range_valid(&ranges[i])) return BG_E_INVALID_RANGE;
    }
    return engine_request_ranges(file->job, file->file, count, ranges);
}

static HRESULT WINAPI file_GetFilledFileRanges(IBackgroundCopyFile6 *iface, DWORD *count,
                                               BG_FILE_RANGE **ranges)
{
    struct file *file = impl_from_IBackgroundCopyFile6(iface);

    TRACE("file %p, count %p, ranges %p\n", file, count, ranges);
    if (ranges) *ranges = NULL;
    if (!count || !ranges) return E_INVALIDARG;
    *count = 0;
    if (engine_job_type(file->job) != BG_JOB_TYPE_DOWNLOAD) return BG_E_RANDOM_ACCESS_NOT_SUPPORTED;
    return engine_filled_ranges(file->job, file->file, count, ranges);
}

static const IBackgroundCopyFile6Vtbl file_vtbl =
{
    file_QueryInterface,
    file_AddRef,
    file_Release,
    /* IBackgroundCopyFile */
    file_GetRemoteName,
    file_GetLocalName,
    file_GetProgress,
    /* IBackgroundCopyFile2 */
    file_GetFileRanges,
    file_SetRemoteName,
    /* IBackgroundCopyFile3 */
    file_GetTemporaryName,
    file_SetValidationState,
    file_GetValidationState,
    file_IsDownloadedFromPeer,
    /* IBackgroundCopyFile4 */
    file_GetPeerDownloadStats,
    /* IBackgroundCopyFile5 */
    file_SetProperty,
    file_GetProperty,
    /* IBackgroundCopyFile6 */
    file_UpdateDownloadPosition,
    file_RequestFileRanges,
    file_GetFilledFileRanges,
};

HRESULT file_create(struct engine_job *job, struct job_file *job_file, IBackgroundCopyFile **out)
{
    struct file *file;

    *out = NULL;
    file = calloc(1, sizeof(*file));
    if (!file) return E_OUTOFMEMORY;
    file->IBackgroundCopyFile6_iface.lpVtbl = &file_vtbl;
    file->refcount = 1;
    file->job = job;
    file->file = job_file;
    engine_job_addref(job);
    TRACE("created file %p\n", file);
    *out = (IBackgroundCopyFile *)&file->IBackgroundCopyFile6_iface;
    return S_OK;
}
