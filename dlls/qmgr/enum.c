/* IEnumBackgroundCopyJobs and IEnumBackgroundCopyFiles: snapshots taken when the enumerator is
 * made, so later changes to the queue or the job do not show (behaviour.md §11).  Both share
 * one cursor implementation over a counted list of COM objects, which clones share too.  The
 * deprecated peer cache's IEnumBitsPeerCacheRecords and IEnumBitsPeers, always empty, need
 * none of it.
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

/* The enumerators of the deprecated peer cache (peercache.c).  Their interface pages say what
 * the cache's says, "all of the API methods will return S_FALSE": they hold nothing, Next and
 * Skip give nothing, and Reset, Clone and GetCount answer S_FALSE as well.  One object type
 * serves both interfaces; each object answers the one it was made for. */
struct empty_enum
{
    IEnumBitsPeerCacheRecords IEnumBitsPeerCacheRecords_iface;
    IEnumBitsPeers IEnumBitsPeers_iface;
    const IID *iid;             /* the interface this object answers, of the two */
    LONG refcount;
};

static inline struct empty_enum *impl_from_IEnumBitsPeerCacheRecords(
        IEnumBitsPeerCacheRecords *iface)
{
    return CONTAINING_RECORD(iface, struct empty_enum, IEnumBitsPeerCacheRecords_iface);
}

static inline struct empty_enum *impl_from_IEnumBitsPeers(IEnumBitsPeers *iface)
{
    return CONTAINING_RECORD(iface, struct empty_enum, IEnumBitsPeers_iface);
}

static void *empty_enum_iface(struct empty_enum *empty)
{
    if (IsEqualGUID(empty->iid, &IID_IEnumBitsPeers)) return &empty->IEnumBitsPeers_iface;
    return &empty->IEnumBitsPeerCacheRecords_iface;
}

static HRESULT empty_enum_query(struct empty_enum *empty, REFIID riid, void **out)
{
    TRACE("enum %p, riid %s, out %p\n", empty, debugstr_guid(riid), out);
    if (!out) return E_POINTER;
    if (!IsEqualGUID(riid, &IID_IUnknown) && !IsEqualGUID(riid, empty->iid))
    {
        *out = NULL;
        WARN("unsupported interface %s\n", debugstr_guid(riid));
        return E_NOINTERFACE;
    }
    InterlockedIncrement(&empty->refcount);
    *out = empty_enum_iface(empty);
    return S_OK;
}

static ULONG empty_enum_addref(struct empty_enum *empty)
{
    ULONG refcount = InterlockedIncrement(&empty->refcount);

    TRACE("enum %p, refcount %lu\n", empty, refcount);
    return refcount;
}

static ULONG empty_enum_release(struct empty_enum *empty)
{
    ULONG refcount = InterlockedDecrement(&empty->refcount);

    TRACE("enum %p, refcount %lu\n", empty, refcount);
    if (!refcount) free(empty);
    return refcount;
}

/* Next, Skip and Reset: nothing to give, skip or rewind. */
static HRESULT empty_enum_move(struct empty_enum *empty, ULONG celt, void *items, ULONG *fetched)
{
    TRACE("enum %p, celt %lu, items %p, fetched %p\n", empty, celt, items, fetched);
    if (fetched) *fetched = 0;
    return S_FALSE;
}

static HRESULT empty_enum_clone(struct empty_enum *empty, void **out)
{
    TRACE("enum %p, out %p\n", empty, out);
    return enum_empty_create(empty->iid, out);
}

static HRESULT empty_enum_count(struct empty_enum *empty, ULONG *count)
{
    TRACE("enum %p, count %p\n", empty, count);
    if (!count) return E_INVALIDARG;
    *count = 0;
    return S_FALSE;
}

static HRESULT WINAPI record_enum_QueryInterface(IEnumBitsPeerCacheRecords *iface, REFIID riid,
                                                 void **out)
{
    return empty_enum_query(impl_from_IEnumBitsPeerCacheRecords(iface), riid, out);
}

static ULONG WINAPI record_enum_AddRef(IEnumBitsPeerCacheRecords *iface)
{
    return empty_enum_addref(impl_from_IEnumBitsPeerCacheRecords(iface));
}

static ULONG WINAPI record_enum_Release(IEnumBitsPeerCacheRecords *iface)
{
    return empty_enum_release(impl_from_IEnumBitsPeerCacheRecords(iface));
}

static HRESULT WINAPI record_enum_Next(IEnumBitsPeerCacheRecords *iface, ULONG celt,
                                       IBitsPeerCacheRecord **records, ULONG *fetched)
{
    return empty_enum_move(impl_from_IEnumBitsPeerCacheRecords(iface), celt, records, fetched);
}

static HRESULT WINAPI record_enum_Skip(IEnumBitsPeerCacheRecords *iface, ULONG celt)
{
    return empty_enum_move(impl_from_IEnumBitsPeerCacheRecords(iface), celt, NULL, NULL);
}

static HRESULT WINAPI record_enum_Reset(IEnumBitsPeerCacheRecords *iface)
{
    return empty_enum_move(impl_from_IEnumBitsPeerCacheRecords(iface), 0, NULL, NULL);
}

static HRESULT WINAPI record_enum_Clone(IEnumBitsPeerCacheRecords *iface,
                                        IEnumBitsPeerCacheRecords **out)
{
    return empty_enum_clone(impl_from_IEnumBitsPeerCacheRecords(iface), (void **)out);
}

static HRESULT WINAPI record_enum_GetCount(IEnumBitsPeerCacheRecords *iface, ULONG *count)
{
    return empty_enum_count(impl_from_IEnumBitsPeerCacheRecords(iface), count);
}

static const IEnumBitsPeerCacheRecordsVtbl record_enum_vtbl =
{
    record_enum_QueryInterface,
    record_enum_AddRef,
    record_enum_Release,
    /* IEnumBitsPeerCacheRecords */
    record_enum_Next,
    record_enum_Skip,
    record_enum_Reset,
    record_enum_Clone,
    record_enum_GetCount,
};

static HRESULT WINAPI peer_enum_QueryInterface(IEnumBitsPeers *iface, REFIID riid, void **out)
{
    return empty_enum_query(impl_from_IEnumBitsPeers(iface), riid, out);
}

static ULONG WINAPI peer_enum_AddRef(IEnumBitsPeers *iface)
{
    return empty_enum_addref(impl_from_IEnumBitsPeers(iface));
}

static ULONG WINAPI peer_enum_Release(IEnumBitsPeers *iface)
{
    return empty_enum_release(impl_from_IEnumBitsPeers(iface));
}

static HRESULT WINAPI peer_enum_Next(IEnumBitsPeers *iface, ULONG celt, IBitsPeer **peers,
                                     ULONG *fetched)
{
    return empty_enum_move(impl_from_IEnumBitsPeers(iface), celt, peers, fetched);
}

static HRESULT WINAPI peer_enum_Skip(IEnumBitsPeers *iface, ULONG celt)
{
    return empty_enum_move(impl_from_IEnumBitsPeers(iface), celt, NULL, NULL);
}

static HRESULT WINAPI peer_enum_Reset(IEnumBitsPeers *iface)
{
    return empty_enum_move(impl_from_IEnumBitsPeers(iface), 0, NULL, NULL);
}

static HRESULT WINAPI peer_enum_Clone(IEnumBitsPeers *iface, IEnumBitsPeers **out)
{
    return empty_enum_clone(impl_from_IEnumBitsPeers(iface), (void **)out);
}

static HRESULT WINAPI peer_enum_GetCount(IEnumBitsPeers *iface, ULONG *count)
{
    return empty_enum_count(impl_from_IEnumBitsPeers(iface), count);
}

static const IEnumBitsPeersVtbl peer_enum_vtbl =
{
    peer_enum_QueryInterface,
    peer_enum_AddRef,
    peer_enum_Release,
    /* IEnumBitsPeers */
    peer_enum_Next,
    peer_enum_Skip,
    peer_enum_Reset,
    peer_enum_Clone,
    peer_enum_GetCount,
};

HRESULT enum_empty_create(REFIID iid, void **out)
{
    struct empty_enum *empty;

    if (!out) return E_INVALIDARG;
    *out = NULL;
    empty = calloc(1, sizeof(*empty));
    if (!empty) return E_OUTOFMEMORY;
    empty->IEnumBitsPeerCacheRecords_iface.lpVtbl = &record_enum_vtbl;
    empty->IEnumBitsPeers_iface.lpVtbl = &peer_enum_vtbl;
    empty->iid = IsEqualGUID(iid, &IID_IEnumBitsPeers) ? &IID_IEnumBitsPeers
            : &IID_IEnumBitsPeerCacheRecords;
    empty->refcount = 1;
    TRACE("created enum %p, %s\n", empty, debugstr_guid(empty->iid));
    *out = empty_enum_iface(empty);
    return S_FALSE;
}
