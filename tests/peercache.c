/* IBitsPeerCacheAdministration: reached by QueryInterface on every manager class from
 * BackgroundCopyManager3_0 on, and deprecated since BITS 4.0, whose interface page says "all
 * of the API methods will return S_FALSE"; the pages of IEnumBitsPeerCacheRecords and
 * IEnumBitsPeers say the same.  So every method answers S_FALSE whoever calls, no Set changes
 * what the getters give, and the enumerators are empty.  What the getters give with S_FALSE
 * is not documented: the defaults of the BITS 3.0 method pages are expected [inferred], 1 % of
 * the disk, 90 days and peer caching off.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#include "util.h"

#define DAY 86400

static IBitsPeerCacheAdministration *get_cache(IBackgroundCopyManager *manager)
{
    IBitsPeerCacheAdministration *cache = NULL;
    HRESULT hr;

    hr = IBackgroundCopyManager_QueryInterface(manager, &IID_IBitsPeerCacheAdministration,
            (void **)&cache);
    ok(hr == S_OK && cache, "QI(IBitsPeerCacheAdministration): %#lx\n", hr);
    return SUCCEEDED(hr) ? cache : NULL;
}

/* The interface page: QueryInterface on the manager, whichever class made it (BITS 3.0 and
 * later); one object with the manager. */
static void test_QueryInterface(void)
{
    static const CLSID *const classes[] =
    {
        &CLSID_BackgroundCopyManager3_0, &CLSID_BackgroundCopyManager4_0,
        &CLSID_BackgroundCopyManager5_0, &CLSID_BackgroundCopyManager10_1,
        &CLSID_BackgroundCopyManager10_2, &CLSID_BackgroundCopyManager10_3,
    };
    IBitsPeerCacheAdministration *cache, *cache2;
    IBackgroundCopyManager *manager, *manager2;
    IBackgroundCopyJob *job;
    IUnknown *unk;
    unsigned int i;
    HRESULT hr;

    for (i = 0; i < ARRAY_SIZE(classes); i++)
    {
        winetest_push_context("%s", wine_dbgstr_guid(classes[i]));
        hr = CoCreateInstance(classes[i], NULL, CLSCTX_LOCAL_SERVER,
                &IID_IBackgroundCopyManager, (void **)&manager);
        ok(hr == S_OK, "CoCreateInstance: %#lx\n", hr);
        if (FAILED(hr))
        {
            winetest_pop_context();
            continue;
        }
        cache = get_cache(manager);
        if (cache)
        {
            ok(same_object((IUnknown *)cache, (IUnknown *)manager), "not the manager object\n");
            manager2 = NULL;
            hr = IBitsPeerCacheAdministration_QueryInterface(cache, &IID_IBackgroundCopyManager,
                    (void **)&manager2);
            ok(hr == S_OK && manager2, "QI(IBackgroundCopyManager): %#lx\n", hr);
            if (manager2) IBackgroundCopyManager_Release(manager2);
            cache2 = NULL;
            hr = IBitsPeerCacheAdministration_QueryInterface(cache,
                    &IID_IBitsPeerCacheAdministration, (void **)&cache2);
            ok(hr == S_OK && cache2, "QI(IBitsPeerCacheAdministration): %#lx\n", hr);
            if (cache2) IBitsPeerCacheAdministration_Release(cache2);
            unk = NULL;
            hr = IBitsPeerCacheAdministration_QueryInterface(cache, &IID_IUnknown,
                    (void **)&unk);
            ok(hr == S_OK && unk, "QI(IUnknown): %#lx\n", hr);
            if (unk) IUnknown_Release(unk);
            job = (IBackgroundCopyJob *)0xdeadbeef;
            hr = IBitsPeerCacheAdministration_QueryInterface(cache, &IID_IBackgroundCopyJob,
                    (void **)&job);
            ok(hr == E_NOINTERFACE && !job, "QI(IBackgroundCopyJob): %#lx, %p\n", hr, job);
            IBitsPeerCacheAdministration_Release(cache);
        }
        IBackgroundCopyManager_Release(manager);
        winetest_pop_context();
    }
}

#define check_defaults(cache) check_defaults_(__LINE__, cache)
static void check_defaults_(int line, IBitsPeerCacheAdministration *cache)
{
    DWORD size = 0xdeadbeef, flags = 0xdeadbeef;
    ULONG age = 0xdeadbeef;
    HRESULT hr;

    hr = IBitsPeerCacheAdministration_GetMaximumCacheSize(cache, &size);
    ok_(__FILE__, line)(hr == S_FALSE, "GetMaximumCacheSize: %#lx\n", hr);
    ok_(__FILE__, line)(size == 1, "cache size %lu\n", size);
    hr = IBitsPeerCacheAdministration_GetMaximumContentAge(cache, &age);
    ok_(__FILE__, line)(hr == S_FALSE, "GetMaximumContentAge: %#lx\n", hr);
    ok_(__FILE__, line)(age == 90 * DAY, "content age %lu\n", age);
    hr = IBitsPeerCacheAdministration_GetConfigurationFlags(cache, &flags);
    ok_(__FILE__, line)(hr == S_FALSE, "GetConfigurationFlags: %#lx\n", hr);
    ok_(__FILE__, line)(flags == 0, "flags %#lx\n", flags);
}

/* Values in and out of the BITS 3.0 ranges alike: S_FALSE, and nothing changes. */
static void test_settings(IBitsPeerCacheAdministration *cache)
{
    static const DWORD sizes[] = { 80, 42, 0, 81 };
    static const ULONG ages[] = { DAY, 120 * DAY, 0, ~0u };
    static const DWORD flags[] =
    {
        BG_ENABLE_PEERCACHING_CLIENT | BG_ENABLE_PEERCACHING_SERVER, BG_DISABLE_BRANCH_CACHE,
        0, 0x100,
    };
    unsigned int i;
    HRESULT hr;

    check_defaults(cache);
    for (i = 0; i < ARRAY_SIZE(sizes); i++)
    {
        hr = IBitsPeerCacheAdministration_SetMaximumCacheSize(cache, sizes[i]);
        ok(hr == S_FALSE, "SetMaximumCacheSize(%lu): %#lx\n", sizes[i], hr);
    }
    for (i = 0; i < ARRAY_SIZE(ages); i++)
    {
        hr = IBitsPeerCacheAdministration_SetMaximumContentAge(cache, ages[i]);
        ok(hr == S_FALSE, "SetMaximumContentAge(%lu): %#lx\n", ages[i], hr);
    }
    for (i = 0; i < ARRAY_SIZE(flags); i++)
    {
        hr = IBitsPeerCacheAdministration_SetConfigurationFlags(cache, flags[i]);
        ok(hr == S_FALSE, "SetConfigurationFlags(%#lx): %#lx\n", flags[i], hr);
    }
    check_defaults(cache);
}

/* No record to get; the methods that would change the cache or the peer list answer S_FALSE
 * for anyone, with no administrator check. */
static void test_changes(IBitsPeerCacheAdministration *cache)
{
    IBitsPeerCacheRecord *record;
    HRESULT hr;
    GUID id;

    hr = CoCreateGuid(&id);
    ok(hr == S_OK, "CoCreateGuid: %#lx\n", hr);
    record = (IBitsPeerCacheRecord *)0xdeadbeef;
    hr = IBitsPeerCacheAdministration_GetRecord(cache, &id, &record);
    ok(hr == S_FALSE, "GetRecord: %#lx\n", hr);
    ok(!record, "GetRecord returned %p\n", record);
    hr = IBitsPeerCacheAdministration_DeleteRecord(cache, &id);
    ok(hr == S_FALSE, "DeleteRecord: %#lx\n", hr);
    hr = IBitsPeerCacheAdministration_DeleteUrl(cache, L"http://example.invalid/peercache");
    ok(hr == S_FALSE, "DeleteUrl: %#lx\n", hr);
    hr = IBitsPeerCacheAdministration_ClearRecords(cache);
    ok(hr == S_FALSE, "ClearRecords: %#lx\n", hr);
    hr = IBitsPeerCacheAdministration_ClearPeers(cache);
    ok(hr == S_FALSE, "ClearPeers: %#lx\n", hr);
    hr = IBitsPeerCacheAdministration_DiscoverPeers(cache);
    ok(hr == S_FALSE, "DiscoverPeers: %#lx\n", hr);
}

/* EnumRecords and EnumPeers: S_FALSE too, yet a usable enumerator; the two enumerators have
 * the same methods and the same note, so one body checks both: empty, and S_FALSE from every
 * method, Skip(0), Reset and Clone included. */
#define DEFINE_TEST_ENUM(method, iface, item) \
static void test_##method(IBitsPeerCacheAdministration *cache, const IID *other) \
{ \
    iface *enumerator = NULL, *clone = NULL; \
    item *items[2] = { NULL, NULL }; \
    ULONG count = 0xdead, fetched = 0xdead; \
    IUnknown *unk = NULL; \
    HRESULT hr; \
\
    hr = IBitsPeerCacheAdministration_##method(cache, &enumerator); \
    ok(hr == S_FALSE && enumerator, #method ": %#lx, %p\n", hr, enumerator); \
    if (!enumerator) return; \
    hr = iface##_GetCount(enumerator, &count); \
    ok(hr == S_FALSE && count == 0, "GetCount: %#lx, %lu\n", hr, count); \
    hr = iface##_Next(enumerator, 1, items, &fetched); \
    ok(hr == S_FALSE && fetched == 0, "Next(1): %#lx, fetched %lu\n", hr, fetched); \
    hr = iface##_Next(enumerator, 1, items, NULL); \
    ok(hr == S_FALSE, "Next(1, NULL): %#lx\n", hr); \
    fetched = 0xdead; \
    hr = iface##_Next(enumerator, 2, items, &fetched); \
    ok(hr == S_FALSE && fetched == 0, "Next(2): %#lx, fetched %lu\n", hr, fetched); \
    ok(!items[0] && !items[1], "Next gave %p, %p\n", items[0], items[1]); \
    hr = iface##_Skip(enumerator, 0); \
    ok(hr == S_FALSE, "Skip(0): %#lx\n", hr); \
    hr = iface##_Skip(enumerator, 1); \
    ok(hr == S_FALSE, "Skip(1): %#lx\n", hr); \
    hr = iface##_Reset(enumerator); \
    ok(hr == S_FALSE, "Reset: %#lx\n", hr); \
    hr = iface##_Clone(enumerator, &clone); \
    ok(hr == S_FALSE && clone, "Clone: %#lx, %p\n", hr, clone); \
    if (clone) \
    { \
        count = 0xdead; \
        hr = iface##_GetCount(clone, &count); \
        ok(hr == S_FALSE && count == 0, "clone GetCount: %#lx, %lu\n", hr, count); \
        iface##_Release(clone); \
    } \
    hr = iface##_QueryInterface(enumerator, &IID_IUnknown, (void **)&unk); \
    ok(hr == S_OK && unk, "QI(IUnknown): %#lx\n", hr); \
    if (unk) IUnknown_Release(unk); \
    unk = (IUnknown *)0xdeadbeef; \
    hr = iface##_QueryInterface(enumerator, other, (void **)&unk); \
    ok(hr == E_NOINTERFACE && !unk, "QI(the other enumerator): %#lx, %p\n", hr, unk); \
    iface##_Release(enumerator); \
}

DEFINE_TEST_ENUM(EnumRecords, IEnumBitsPeerCacheRecords, IBitsPeerCacheRecord)
DEFINE_TEST_ENUM(EnumPeers, IEnumBitsPeers, IBitsPeer)

START_TEST(peercache)
{
    IBitsPeerCacheAdministration *cache;

    if (!bits_test_init()) return;
    test_QueryInterface();
    cache = get_cache(test_manager);
    if (cache)
    {
        test_settings(cache);
        test_changes(cache);
        test_EnumRecords(cache, &IID_IEnumBitsPeers);
        test_EnumPeers(cache, &IID_IEnumBitsPeerCacheRecords);
        IBitsPeerCacheAdministration_Release(cache);
    }
    bits_test_cleanup();
}
