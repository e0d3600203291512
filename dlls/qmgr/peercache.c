/* IBitsPeerCacheAdministration: the BITS 3.0 peer cache of the machine, reached by
 * QueryInterface on the manager and part of the same object.  Its interface page says it "is
 * deprecated in BITS 4.0, and all of the API methods will return S_FALSE", and this BITS is
 * measured against Windows 10 and 11 (BITS 10.3): so every method answers S_FALSE and changes
 * nothing, for any caller, with no settings to keep.  S_FALSE is a success code, so the getters still give the
 * defaults their BITS 3.0 pages document, GetRecord a NULL record and the Enum methods a valid
 * empty enumerator (enum.c), for callers that only test SUCCEEDED().
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#include "qmgr_private.h"

DEFAULT_DEBUG_CHANNEL(qmgr);

#define DEFAULT_CACHE_SIZE  1           /* percent of the disk: SetMaximumCacheSize page */
#define DEFAULT_CONTENT_AGE 7776000     /* seconds, 90 days: SetMaximumContentAge page */
#define DEFAULT_FLAGS       0           /* peer caching off until enabled: Administering the
                                         * Peer Cache page */

struct peer_cache
{
    IBitsPeerCacheAdministration IBitsPeerCacheAdministration_iface;
    LONG refcount;          /* informational: the object is static, like the manager */
};

static inline struct peer_cache *impl_from_IBitsPeerCacheAdministration(
        IBitsPeerCacheAdministration *iface)
{
    return CONTAINING_RECORD(iface, struct peer_cache, IBitsPeerCacheAdministration_iface);
}

/* The answer of a getter: the default, and S_FALSE.  Only an in-process caller can pass NULL;
 * the proxy refuses it. */
static HRESULT get_default(DWORD *value, DWORD def)
{
    if (!value) return E_INVALIDARG;
    *value = def;
    return S_FALSE;
}

static HRESULT WINAPI peer_cache_QueryInterface(IBitsPeerCacheAdministration *iface, REFIID riid,
                                                void **out)
{
    TRACE("cache %p, riid %s, out %p\n", impl_from_IBitsPeerCacheAdministration(iface),
          debugstr_guid(riid), out);
    return manager_query(riid, out);
}

static ULONG WINAPI peer_cache_AddRef(IBitsPeerCacheAdministration *iface)
{
    struct peer_cache *cache = impl_from_IBitsPeerCacheAdministration(iface);
    ULONG refcount = InterlockedIncrement(&cache->refcount);

    TRACE("cache %p, refcount %lu\n", cache, refcount);
    return refcount;
}

static ULONG WINAPI peer_cache_Release(IBitsPeerCacheAdministration *iface)
{
    struct peer_cache *cache = impl_from_IBitsPeerCacheAdministration(iface);
    ULONG refcount = InterlockedDecrement(&cache->refcount);

    TRACE("cache %p, refcount %lu\n", cache, refcount);
    return refcount;
}

static HRESULT WINAPI peer_cache_GetMaximumCacheSize(IBitsPeerCacheAdministration *iface,
                                                     DWORD *percent)
{
    TRACE("cache %p, percent %p\n", impl_from_IBitsPeerCacheAdministration(iface), percent);
    return get_default(percent, DEFAULT_CACHE_SIZE);
}

static HRESULT WINAPI peer_cache_SetMaximumCacheSize(IBitsPeerCacheAdministration *iface,
                                                     DWORD percent)
{
    TRACE("cache %p, percent %lu\n", impl_from_IBitsPeerCacheAdministration(iface), percent);
    return S_FALSE;
}

static HRESULT WINAPI peer_cache_GetMaximumContentAge(IBitsPeerCacheAdministration *iface,
                                                      ULONG *seconds)
{
    TRACE("cache %p, seconds %p\n", impl_from_IBitsPeerCacheAdministration(iface), seconds);
    return get_default(seconds, DEFAULT_CONTENT_AGE);
}

static HRESULT WINAPI peer_cache_SetMaximumContentAge(IBitsPeerCacheAdministration *iface,
                                                      ULONG seconds)
{
    TRACE("cache %p, seconds %lu\n", impl_from_IBitsPeerCacheAdministration(iface), seconds);
    return S_FALSE;
}

static HRESULT WINAPI peer_cache_GetConfigurationFlags(IBitsPeerCacheAdministration *iface,
                                                       DWORD *flags)
{
    TRACE("cache %p, flags %p\n", impl_from_IBitsPeerCacheAdministration(iface), flags);
    return get_default(flags, DEFAULT_FLAGS);
}

static HRESULT WINAPI peer_cache_SetConfigurationFlags(IBitsPeerCacheAdministration *iface,
                                                       DWORD flags)
{
    TRACE("cache %p, flags %#lx\n", impl_from_IBitsPeerCacheAdministration(iface), flags);
    return S_FALSE;
}

static HRESULT WINAPI peer_cache_EnumRecords(IBitsPeerCacheAdministration *iface,
                                             IEnumBitsPeerCacheRecords **out)
{
    TRACE("cache %p, out %p\n", impl_from_IBitsPeerCacheAdministration(iface), out);
    return enum_empty_create(&IID_IEnumBitsPeerCacheRecords, (void **)out);
}

static HRESULT WINAPI peer_cache_GetRecord(IBitsPeerCacheAdministration *iface, REFGUID id,
                                           IBitsPeerCacheRecord **record)
{
    TRACE("cache %p, id %s, record %p\n", impl_from_IBitsPeerCacheAdministration(iface),
          debugstr_guid(id), record);
    if (!record) return E_INVALIDARG;
    *record = NULL;
    return S_FALSE;
}

static HRESULT WINAPI peer_cache_ClearRecords(IBitsPeerCacheAdministration *iface)
{
    TRACE("cache %p\n", impl_from_IBitsPeerCacheAdministration(iface));
    return S_FALSE;
}

static HRESULT WINAPI peer_cache_DeleteRecord(IBitsPeerCacheAdministration *iface, REFGUID id)
{
    TRACE("cache %p, id %s\n", impl_from_IBitsPeerCacheAdministration(iface), debugstr_guid(id));
    return S_FALSE;
}

static HRESULT WINAPI peer_cache_DeleteUrl(IBitsPeerCacheAdministration *iface, LPCWSTR url)
{
    TRACE("cache %p, url %s\n", impl_from_IBitsPeerCacheAdministration(iface), debugstr_w(url));
    return S_FALSE;
}

static HRESULT WINAPI peer_cache_EnumPeers(IBitsPeerCacheAdministration *iface,
                                           IEnumBitsPeers **out)
{
    TRACE("cache %p, out %p\n", impl_from_IBitsPeerCacheAdministration(iface), out);
    return enum_empty_create(&IID_IEnumBitsPeers, (void **)out);
}

static HRESULT WINAPI peer_cache_ClearPeers(IBitsPeerCacheAdministration *iface)
{
    TRACE("cache %p\n", impl_from_IBitsPeerCacheAdministration(iface));
    return S_FALSE;
}

static HRESULT WINAPI peer_cache_DiscoverPeers(IBitsPeerCacheAdministration *iface)
{
    TRACE("cache %p\n", impl_from_IBitsPeerCacheAdministration(iface));
    return S_FALSE;
}

static const IBitsPeerCacheAdministrationVtbl peer_cache_vtbl =
{
    peer_cache_QueryInterface,
    peer_cache_AddRef,
    peer_cache_Release,
    /* IBitsPeerCacheAdministration */
    peer_cache_GetMaximumCacheSize,
    peer_cache_SetMaximumCacheSize,
    peer_cache_GetMaximumContentAge,
    peer_cache_SetMaximumContentAge,
    peer_cache_GetConfigurationFlags,
    peer_cache_SetConfigurationFlags,
    peer_cache_EnumRecords,
    peer_cache_GetRecord,
    peer_cache_ClearRecords,
    peer_cache_DeleteRecord,
    peer_cache_DeleteUrl,
    peer_cache_EnumPeers,
    peer_cache_ClearPeers,
    peer_cache_DiscoverPeers,
};

static struct peer_cache peer_cache = { { &peer_cache_vtbl }, 0 };

HRESULT peercache_query(void **out)
{
    *out = &peer_cache.IBitsPeerCacheAdministration_iface;
    IBitsPeerCacheAdministration_AddRef(&peer_cache.IBitsPeerCacheAdministration_iface);
    return S_OK;
}
