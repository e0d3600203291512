/* IEnumBackgroundCopyJobs and IEnumBackgroundCopyFiles: snapshots taken when the enumerator is
 * made, so later changes to the queue or the job do not show (behaviour.md §11).  Both share
 * one cursor implementation over a counted list of COM objects, which clones share too.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdlib.h>

#include "qmgr_private.h"

DEFAULT_DEBUG_CHANNEL(qmgr);

/* The objects an enumerator hands out; never changes once made. */
struct snapshot
{
    LONG refcount;
    ULONG count;
    IUnknown *items[];
};

/* Position of one enumerator in a snapshot. */
struct cursor
{
    CRITICAL_SECTION cs;        /* guards position */
    struct snapshot *snapshot;  /* one reference */
    ULONG position;
};

static struct snapshot *create_snapshot(ULONG count)
{
    struct snapshot *snapshot;

    snapshot = calloc(1, sizeof(*snapshot) + count * sizeof(*snapshot->items));
    if (!snapshot) return NULL;
    snapshot->refcount = 1;
    return snapshot;
}

static void release_snapshot(struct snapshot *snapshot)
{
    ULONG i;

    if (InterlockedDecrement(&snapshot->refcount)) return;
    for (i = 0; i < snapshot->count; i++) IUnknown_Release(snapshot->items[i]);
    free(snapshot);
}

static void init_cursor(struct cursor *cursor, struct snapshot *snapshot, ULONG position)
{
    InitializeCriticalSection(&cursor->cs);
    InterlockedIncrement(&snapshot->refcount);
    cursor->snapshot = snapshot;
    cursor->position = position;
}

static void destroy_cursor(struct cursor *cursor)
{
    release_snapshot(cursor->snapshot);
    DeleteCriticalSection(&cursor->cs);
}

/* behaviour.md §11: S_OK only when all celt items came; fetched may be NULL only for one. */
static HRESULT cursor_next(struct cursor *cursor, ULONG celt, IUnknown **items, ULONG *fetched)
{
    struct snapshot *snapshot = cursor->snapshot;
    ULONG count, i;

    if (!items || (!fetched && celt != 1)) return E_INVALIDARG;
    EnterCriticalSection(&cursor->cs);
    count = min(celt, snapshot->count - cursor->position);
    for (i = 0; i < count; i++)
    {
        items[i] = snapshot->items[cursor->position + i];
        IUnknown_AddRef(items[i]);
    }
    cursor->position += count;
    LeaveCriticalSection(&cursor->cs);
    if (fetched) *fetched = count;
    return count == celt ? S_OK : S_FALSE;
}

static HRESULT cursor_skip(struct cursor *cursor, ULONG celt)
{
    ULONG count;

    EnterCriticalSection(&cursor->cs);
    count = min(celt, cursor->snapshot->count - cursor->position);
    cursor->position += count;
    LeaveCriticalSection(&cursor->cs);
    return count == celt ? S_OK : S_FALSE;
}

static void cursor_reset(struct cursor *cursor)
{
    EnterCriticalSection(&cursor->cs);
    cursor->position = 0;
    LeaveCriticalSection(&cursor->cs);
}

static ULONG cursor_position(struct cursor *cursor)
{
    ULONG position;

    EnterCriticalSection(&cursor->cs);
    position = cursor->position;
    LeaveCriticalSection(&cursor->cs);
    return position;
}

struct job_enum
{
    IEnumBackgroundCopyJobs IEnumBackgroundCopyJobs_iface;
    LONG refcount;
    struct cursor cursor;
};

static HRESULT create_job_enum(struct snapshot *snapshot, ULONG position,
                               IEnumBackgroundCopyJobs **out);

static inline struct job_enum *impl_from_IEnumBackgroundCopyJobs(IEnumBackgroundCopyJobs *iface)
{
    return CONTAINING_RECORD(iface, struct job_enum, IEnumBackgroundCopyJobs_iface);
}

static HRESULT WINAPI job_enum_QueryInterface(IEnumBackgroundCopyJobs *iface, REFIID riid,
                                              void **out)
{
    struct job_enum *job_enum = impl_from_IEnumBackgroundCopyJobs(iface);

    TRACE("enum %p, riid %s, out %p\n", job_enum, debugstr_guid(riid), out);
    if (!out) return E_POINTER;
    if (IsEqualGUID(riid, &IID_IUnknown) || IsEqualGUID(riid, &IID_IEnumBackgroundCopyJobs))
    {
        *out = &job_enum->IEnumBackgroundCopyJobs_iface;
        IEnumBackgroundCopyJobs_AddRef(iface);
        return S_OK;
    }
    *out = NULL;
    WARN("unsupported interface %s\n", debugstr_guid(riid));
    return E_NOINTERFACE;
}

static ULONG WINAPI job_enum_AddRef(IEnumBackgroundCopyJobs *iface)
{
    struct job_enum *job_enum = impl_from_IEnumBackgroundCopyJobs(iface);
    ULONG refcount = InterlockedIncrement(&job_enum->refcount);

    TRACE("enum %p, refcount %lu\n", job_enum, refcount);
    return refcount;
}

static ULONG WINAPI job_enum_Release(IEnumBackgroundCopyJobs *iface)
{
    struct job_enum *job_enum = impl_from_IEnumBackgroundCopyJobs(iface);
    ULONG refcount = InterlockedDecrement(&job_enum->refcount);

    TRACE("enum %p, refcount %lu\n", job_enum, refcount);
    if (!refcount)
    {
        destroy_cursor(&job_enum->cursor);
        free(job_enum);
    }
    return refcount;
}

static HRESULT WINAPI job_enum_Next(IEnumBackgroundCopyJobs *iface, ULONG celt,
                                    IBackgroundCopyJob **jobs, ULONG *fetched)
{
    struct job_enum *job_enum = impl_from_IEnumBackgroundCopyJobs(iface);

    TRACE("enum %p, celt %lu, jobs %p, fetched %p\n", job_enum, celt, jobs, fetched);
    return cursor_next(&job_enum->cursor, celt, (IUnknown **)jobs, fetched);
}

static HRESULT WINAPI job_enum_Skip(IEnumBackgroundCopyJobs *iface, ULONG celt)
{
    struct job_enum *job_enum = impl_from_IEnumBackgroundCopyJobs(iface);

    TRACE("enum %p, celt %lu\n", job_enum, celt);
    return cursor_skip(&job_enum->cursor, celt);
}

static HRESULT WINAPI job_enum_Reset(IEnumBackgroundCopyJobs *iface)
{
    struct job_enum *job_enum = impl_from_IEnumBackgroundCopyJobs(iface);

    TRACE("enum %p\n", job_enum);
    cursor_reset(&job_enum->cursor);
    return S_OK;
}

static HRESULT WINAPI job_enum_Clone(IEnumBackgroundCopyJobs *iface, IEnumBackgroundCopyJobs **out)
{
    struct job_enum *job_enum = impl_from_IEnumBackgroundCopyJobs(iface);

    TRACE("enum %p, out %p\n", job_enum, out);
    if (!out) return E_INVALIDARG;
    return create_job_enum(job_enum->cursor.snapshot, cursor_position(&job_enum->cursor), out);
}

static HRESULT WINAPI job_enum_GetCount(IEnumBackgroundCopyJobs *iface, ULONG *count)
{
    struct job_enum *job_enum = impl_from_IEnumBackgroundCopyJobs(iface);

    TRACE("enum %p, count %p\n", job_enum, count);
    if (!count) return E_INVALIDARG;
    *count = job_enum->cursor.snapshot->count;
    return S_OK;
}

static const IEnumBackgroundCopyJobsVtbl job_enum_vtbl =
{
    job_enum_QueryInterface,
    job_enum_AddRef,
    job_enum_Release,
    /* IEnumBackgroundCopyJobs */
    job_enum_Next,
    job_enum_Skip,
    job_enum_Reset,
    job_enum_Clone,
    job_enum_GetCount,
};

static HRESULT create_job_enum(struct snapshot *snapshot, ULONG position,
                               IEnumBackgroundCopyJobs **out)
{
    struct job_enum *job_enum;

    *out = NULL;
    job_enum = calloc(1, sizeof(*job_enum));
    if (!job_enum) return E_OUTOFMEMORY;
    job_enum->IEnumBackgroundCopyJobs_iface.lpVtbl = &job_enum_vtbl;
    job_enum->refcount = 1;
    init_cursor(&job_enum->cursor, snapshot, position);
    TRACE("created enum %p, %lu jobs\n", job_enum, snapshot->count);
    *out = &job_enum->IEnumBackgroundCopyJobs_iface;
    return S_OK;
}

HRESULT enum_jobs_create(struct engine_job **jobs, ULONG count, IEnumBackgroundCopyJobs **out)
{
    struct snapshot *snapshot;
    IBackgroundCopyJob *job;
    HRESULT hr = S_OK;
    ULONG i;

    *out = NULL;
    snapshot = create_snapshot(count);
    if (!snapshot) return E_OUTOFMEMORY;
    for (i = 0; i < count; i++)
    {
        hr = job_create(jobs[i], &job);
        if (FAILED(hr)) break;
        snapshot->items[snapshot->count++] = (IUnknown *)job;
    }
    if (SUCCEEDED(hr)) hr = create_job_enum(snapshot, 0, out);
    release_snapshot(snapshot);
    return hr;
}

struct file_enum
{
    IEnumBackgroundCopyFiles IEnumBackgroundCopyFiles_iface;
    LONG refcount;
    struct cursor cursor;
};

static HRESULT create_file_enum(struct snapshot *snapshot, ULONG position,
                                IEnumBackgroundCopyFiles **out);

static inline struct file_enum *impl_from_IEnumBackgroundCopyFiles(IEnumBackgroundCopyFiles *iface)
{
    return CONTAINING_RECORD(iface, struct file_enum, IEnumBackgroundCopyFiles_iface);
}

static HRESULT WINAPI file_enum_QueryInterface(IEnumBackgroundCopyFiles *iface, REFIID riid,
                                               void **out)
{
    struct file_enum *file_enum = impl_from_IEnumBackgroundCopyFiles(iface);

    TRACE("enum %p, riid %s, out %p\n", file_enum, debugstr_guid(riid), out);
    if (!out) return E_POINTER;
    if (IsEqualGUID(riid, &IID_IUnknown) || IsEqualGUID(riid, &IID_IEnumBackgroundCopyFiles))
    {
        *out = &file_enum->IEnumBackgroundCopyFiles_iface;
        IEnumBackgroundCopyFiles_AddRef(iface);
        return S_OK;
    }
    *out = NULL;
    WARN("unsupported interface %s\n", debugstr_guid(riid));
    return E_NOINTERFACE;
}

static ULONG WINAPI file_enum_AddRef(IEnumBackgroundCopyFiles *iface)
{
    struct file_enum *file_enum = impl_from_IEnumBackgroundCopyFiles(iface);
    ULONG refcount = InterlockedIncrement(&file_enum->refcount);

    TRACE("enum %p, refcount %lu\n", file_enum, refcount);
    return refcount;
}

static ULONG WINAPI file_enum_Release(IEnumBackgroundCopyFiles *iface)
{
    struct file_enum *file_enum = impl_from_IEnumBackgroundCopyFiles(iface);
    ULONG refcount = InterlockedDecrement(&file_enum->refcount);

    TRACE("enum %p, refcount %lu\n", file_enum, refcount);
    if (!refcount)
    {
        destroy_cursor(&file_enum->cursor);
        free(file_enum);
    }
    return refcount;
}

static HRESULT WINAPI file_enum_Next(IEnumBackgroundCopyFiles *iface, ULONG celt,
                                     IBackgroundCopyFile **files, ULONG *fetched)
{
    struct file_enum *file_enum = impl_from_IEnumBackgroundCopyFiles(iface);

    TRACE("enum %p, celt %lu, files %p, fetched %p\n", file_enum, celt, files, fetched);
    return cursor_next(&file_enum->cursor, celt, (IUnknown **)files, fetched);
}

static HRESULT WINAPI file_enum_Skip(IEnumBackgroundCopyFiles *iface, ULONG celt)
{
    struct file_enum *file_enum = impl_from_IEnumBackgroundCopyFiles(iface);

    TRACE("enum %p, celt %lu\n", file_enum, celt);
    return cursor_skip(&file_enum->cursor, celt);
}

static HRESULT WINAPI file_enum_Reset(IEnumBackgroundCopyFiles *iface)
{
    struct file_enum *file_enum = impl_from_IEnumBackgroundCopyFiles(iface);

    TRACE("enum %p\n", file_enum);
    cursor_reset(&file_enum->cursor);
    return S_OK;
}

static HRESULT WINAPI file_enum_Clone(IEnumBackgroundCopyFiles *iface,
                                      IEnumBackgroundCopyFiles **out)
{
    struct file_enum *file_enum = impl_from_IEnumBackgroundCopyFiles(iface);

    TRACE("enum %p, out %p\n", file_enum, out);
    if (!out) return E_INVALIDARG;
    return create_file_enum(file_enum->cursor.snapshot, cursor_position(&file_enum->cursor), out);
}

static HRESULT WINAPI file_enum_GetCount(IEnumBackgroundCopyFiles *iface, ULONG *count)
{
    struct file_enum *file_enum = impl_from_IEnumBackgroundCopyFiles(iface);

    TRACE("enum %p, count %p\n", file_enum, count);
    if (!count) return E_INVALIDARG;
    *count = file_enum->cursor.snapshot->count;
    return S_OK;
}

static const IEnumBackgroundCopyFilesVtbl file_enum_vtbl =
{
    file_enum_QueryInterface,
    file_enum_AddRef,
    file_enum_Release,
    /* IEnumBackgroundCopyFiles */
    file_enum_Next,
    file_enum_Skip,
    file_enum_Reset,
    file_enum_Clone,
    file_enum_GetCount,
};

static HRESULT create_file_enum(struct snapshot *snapshot, ULONG position,
                                IEnumBackgroundCopyFiles **out)
{
    struct file_enum *file_enum;

    *out = NULL;
    file_enum = calloc(1, sizeof(*file_enum));
    if (!file_enum) return E_OUTOFMEMORY;
    file_enum->IEnumBackgroundCopyFiles_iface.lpVtbl = &file_enum_vtbl;
    file_enum->refcount = 1;
    init_cursor(&file_enum->cursor, snapshot, position);
    TRACE("created enum %p, %lu files\n", file_enum, snapshot->count);
    *out = &file_enum->IEnumBackgroundCopyFiles_iface;
    return S_OK;
}

HRESULT enum_files_create(struct engine_job *job, IEnumBackgroundCopyFiles **out)
{
    struct snapshot *snapshot;
    struct job_file **files;
    IBackgroundCopyFile *file;
    ULONG count, i;
    HRESULT hr;

    *out = NULL;
    hr = engine_job_files(job, &files, &count);
    if (FAILED(hr)) return hr;
    snapshot = create_snapshot(count);
    if (!snapshot)
    {
        free(files);
        return E_OUTOFMEMORY;
    }
    for (i = 0; i < count; i++)
    {
        hr = file_create(job, files[i], &file);
        if (FAILED(hr)) break;
        snapshot->items[snapshot->count++] = (IUnknown *)file;
    }
    free(files);
    if (SUCCEEDED(hr)) hr = create_file_enum(snapshot, 0, out);
    release_snapshot(snapshot);
    return hr;
}
