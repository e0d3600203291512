/* IEnumBackgroundCopyJobs and IEnumBackgroundCopyFiles: Next, Skip, Reset, Clone, GetCount
 * and Release (behaviour.md §11).  Other processes of this user may own jobs too, so the job
 * enumerator is checked against its own count and for the jobs created here.
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#include "util.h"

#define JOB_COUNT 3
#define FILE_COUNT 3

static BOOL get_job_id(IBackgroundCopyJob *job, GUID *id)
{
    return job && SUCCEEDED(IBackgroundCopyJob_GetId(job, id));
}

static void test_job_enumerator(void)
{
    IBackgroundCopyJob *jobs[JOB_COUNT], *job, **array;
    IEnumBackgroundCopyJobs *enumerator, *clone;
    GUID ids[JOB_COUNT], *order, id, second;
    unsigned int found[JOB_COUNT] = {0};
    ULONG count = 0, fetched, i, j, ref;
    HRESULT hr;

    for (i = 0; i < JOB_COUNT; i++)
        jobs[i] = create_job(L"enum", BG_JOB_TYPE_DOWNLOAD, &ids[i]);
    if (!jobs[0] || !jobs[1] || !jobs[2]) goto done;

    hr = IBackgroundCopyManager_EnumJobs(test_manager, 0, &enumerator);
    ok(hr == S_OK, "EnumJobs: %#lx\n", hr);
    if (FAILED(hr)) goto done;
    hr = IEnumBackgroundCopyJobs_GetCount(enumerator, &count);
    ok(hr == S_OK, "GetCount: %#lx\n", hr);
    ok(count >= JOB_COUNT, "GetCount %lu, created %u\n", count, JOB_COUNT);
    order = calloc(count + 1, sizeof(*order));
    array = calloc(count + 5, sizeof(*array));

    /* One at a time with NULL pceltFetched [test], each of our jobs exactly once. */
    for (i = 0; i < count; i++)
    {
        job = NULL;
        hr = IEnumBackgroundCopyJobs_Next(enumerator, 1, &job, NULL);
        ok(hr == S_OK, "Next %lu: %#lx\n", i, hr);
        if (hr != S_OK) break;
        ok(get_job_id(job, &order[i]), "GetId of job %lu failed\n", i);
        for (j = 0; j < JOB_COUNT; j++)
            if (IsEqualGUID(&order[i], &ids[j])) found[j]++;
        IBackgroundCopyJob_Release(job);
    }
    for (j = 0; j < JOB_COUNT; j++)
        ok(found[j] == 1, "job %lu enumerated %u times\n", j, found[j]);
    job = (IBackgroundCopyJob *)0xdeadbeef;
    hr = IEnumBackgroundCopyJobs_Next(enumerator, 1, &job, NULL);
    ok(hr == S_FALSE, "Next past the end: %#lx\n", hr);

    /* Reset rewinds to the same order [test; same order inferred for a snapshot]. */
    hr = IEnumBackgroundCopyJobs_Reset(enumerator);
    ok(hr == S_OK, "Reset: %#lx\n", hr);
    job = NULL;
    fetched = 0xdead;
    hr = IEnumBackgroundCopyJobs_Next(enumerator, 1, &job, &fetched);
    ok(hr == S_OK && fetched == 1, "Next(1): %#lx, fetched %lu\n", hr, fetched);
    ok(get_job_id(job, &id) && IsEqualGUID(&id, &order[0]), "first job after Reset is %s\n",
            wine_dbgstr_guid(&id));
    if (job) IBackgroundCopyJob_Release(job);

    /* Several at a time: S_OK when all came, S_FALSE and the real number when fewer. */
    IEnumBackgroundCopyJobs_Reset(enumerator);
    fetched = 0xdead;
    hr = IEnumBackgroundCopyJobs_Next(enumerator, 2, array, &fetched);
    ok(hr == S_OK && fetched == 2, "Next(2): %#lx, fetched %lu\n", hr, fetched);
    for (i = 0; i < 2 && hr == S_OK; i++)
    {
        ok(get_job_id(array[i], &id) && IsEqualGUID(&id, &order[i]), "job %lu is %s\n", i,
                wine_dbgstr_guid(&id));
        IBackgroundCopyJob_Release(array[i]);
    }
    IEnumBackgroundCopyJobs_Reset(enumerator);
    fetched = 0xdead;
    hr = IEnumBackgroundCopyJobs_Next(enumerator, count + 5, array, &fetched);
    ok(hr == S_FALSE, "Next(count + 5): %#lx\n", hr);
    ok(fetched == count, "Next(count + 5) fetched %lu of %lu\n", fetched, count);
    for (i = 0; i < fetched && i < count; i++)
    {
        ok(array[i] != NULL, "job %lu is NULL\n", i);
        if (array[i]) IBackgroundCopyJob_Release(array[i]);
    }
    fetched = 0xdead;
    hr = IEnumBackgroundCopyJobs_Next(enumerator, 1, &job, &fetched);
    ok(hr == S_FALSE && fetched == 0, "Next at the end: %#lx, fetched %lu\n", hr, fetched);

    /* celt > 1 needs pceltFetched: "not S_OK" [test]; E_INVALIDARG as for files [inferred]. */
    IEnumBackgroundCopyJobs_Reset(enumerator);
    hr = IEnumBackgroundCopyJobs_Next(enumerator, 2, array, NULL);
    ok(hr == E_INVALIDARG || broken(hr != S_OK), "Next(2, NULL): %#lx\n", hr);

    /* Skip [test]. */
    IEnumBackgroundCopyJobs_Reset(enumerator);
    hr = IEnumBackgroundCopyJobs_Skip(enumerator, count);
    ok(hr == S_OK, "Skip(count): %#lx\n", hr);
    hr = IEnumBackgroundCopyJobs_Skip(enumerator, 1);
    ok(hr == S_FALSE, "Skip past the end: %#lx\n", hr);
    IEnumBackgroundCopyJobs_Reset(enumerator);
    hr = IEnumBackgroundCopyJobs_Skip(enumerator, count + 1);
    ok(hr == S_FALSE, "Skip(count + 1): %#lx\n", hr);
    IEnumBackgroundCopyJobs_Reset(enumerator);
    hr = IEnumBackgroundCopyJobs_Skip(enumerator, 1);
    ok(hr == S_OK, "Skip(1): %#lx\n", hr);

    /* A clone starts where its original is and moves on its own [inferred]. */
    clone = NULL;
    hr = IEnumBackgroundCopyJobs_Clone(enumerator, &clone);
    ok(hr == S_OK && clone, "Clone: %#lx\n", hr);
    if (clone)
    {
        fetched = 0;
        hr = IEnumBackgroundCopyJobs_GetCount(clone, &fetched);
        ok(hr == S_OK && fetched == count, "clone GetCount: %#lx, %lu\n", hr, fetched);
        job = NULL;
        hr = IEnumBackgroundCopyJobs_Next(clone, 1, &job, NULL);
        ok(hr == S_OK, "clone Next: %#lx\n", hr);
        ok(get_job_id(job, &second) && IsEqualGUID(&second, &order[1]),
                "clone starts at %s, expected the second job %s\n", wine_dbgstr_guid(&second),
                wine_dbgstr_guid(&order[1]));
        if (job) IBackgroundCopyJob_Release(job);
        IEnumBackgroundCopyJobs_Skip(clone, 1);
        job = NULL;
        hr = IEnumBackgroundCopyJobs_Next(enumerator, 1, &job, NULL);
        ok(hr == S_OK, "Next: %#lx\n", hr);
        ok(get_job_id(job, &id) && IsEqualGUID(&id, &order[1]),
                "the clone moved the original to %s\n", wine_dbgstr_guid(&id));
        if (job) IBackgroundCopyJob_Release(job);
        ref = IEnumBackgroundCopyJobs_Release(clone);
        ok(ref == 0, "clone Release returned %lu\n", ref);
    }

    /* [test] */
    ref = IEnumBackgroundCopyJobs_Release(enumerator);
    ok(ref == 0, "Release returned %lu\n", ref);
    free(order);
    free(array);

done:
    for (i = 0; i < JOB_COUNT; i++) cancel_job(jobs[i]);
}

static BOOL file_is(IBackgroundCopyFile *file, const WCHAR *local)
{
    WCHAR *name = NULL;
    BOOL ret;

    if (!file || FAILED(IBackgroundCopyFile_GetLocalName(file, &name))) return FALSE;
    ret = str_equal(name, local);
    CoTaskMemFree(name);
    return ret;
}

static void test_file_enumerator(void)
{
    IEnumBackgroundCopyFiles *enumerator, *clone, *later;
    IBackgroundCopyFile *file, *array[FILE_COUNT + 2];
    WCHAR *locals[FILE_COUNT + 1];
    IBackgroundCopyJob *job;
    WCHAR name[32];
    ULONG count, fetched, i, ref;
    HRESULT hr;

    job = create_job(L"enum files", BG_JOB_TYPE_DOWNLOAD, NULL);
    if (!job) return;
    for (i = 0; i <= FILE_COUNT; i++)
    {
        swprintf(name, ARRAY_SIZE(name), L"enum-%lu.txt", i);
        locals[i] = temp_path(name);
    }
    for (i = 0; i < FILE_COUNT; i++)
    {
        hr = IBackgroundCopyJob_AddFile(job, L"http://example.invalid/enum.txt", locals[i]);
        ok(hr == S_OK, "AddFile %lu: %#lx\n", i, hr);
    }

    hr = IBackgroundCopyJob_EnumFiles(job, &enumerator);
    ok(hr == S_OK, "EnumFiles: %#lx\n", hr);
    if (FAILED(hr)) goto done;
    count = 0;
    hr = IEnumBackgroundCopyFiles_GetCount(enumerator, &count);
    ok(hr == S_OK && count == FILE_COUNT, "GetCount: %#lx, %lu\n", hr, count);

    /* [test] One at a time, in job order, then S_FALSE. */
    for (i = 0; i < FILE_COUNT; i++)
    {
        file = NULL;
        hr = IEnumBackgroundCopyFiles_Next(enumerator, 1, &file, NULL);
        ok(hr == S_OK, "Next %lu: %#lx\n", i, hr);
        ok(file_is(file, locals[i]), "file %lu out of order\n", i);
        if (file) IBackgroundCopyFile_Release(file);
    }
    hr = IEnumBackgroundCopyFiles_Next(enumerator, 1, &file, NULL);
    ok(hr == S_FALSE, "Next past the end: %#lx\n", hr);
    fetched = 0xdead;
    hr = IEnumBackgroundCopyFiles_Next(enumerator, 1, &file, &fetched);
    ok(hr == S_FALSE && fetched == 0, "Next(1) past the end: %#lx, fetched %lu\n", hr, fetched);

    hr = IEnumBackgroundCopyFiles_Reset(enumerator);
    ok(hr == S_OK, "Reset: %#lx\n", hr);
    fetched = 0xdead;
    file = NULL;
    hr = IEnumBackgroundCopyFiles_Next(enumerator, 1, &file, &fetched);
    ok(hr == S_OK && fetched == 1, "Next(1): %#lx, fetched %lu\n", hr, fetched);
    ok(file_is(file, locals[0]), "first file after Reset is another\n");
    if (file) IBackgroundCopyFile_Release(file);

    /* Two, then the one left: S_FALSE with the real number [test]. */
    IEnumBackgroundCopyFiles_Reset(enumerator);
    fetched = 0xdead;
    hr = IEnumBackgroundCopyFiles_Next(enumerator, 2, array, &fetched);
    ok(hr == S_OK && fetched == 2, "Next(2): %#lx, fetched %lu\n", hr, fetched);
    for (i = 0; i < 2 && hr == S_OK; i++)
    {
        ok(file_is(array[i], locals[i]), "file %lu out of order\n", i);
        IBackgroundCopyFile_Release(array[i]);
    }
    fetched = 0xdead;
    hr = IEnumBackgroundCopyFiles_Next(enumerator, 2, array, &fetched);
    ok(hr == S_FALSE && fetched == 1, "Next(2) with one left: %#lx, fetched %lu\n", hr, fetched);
    if (fetched == 1)
    {
        ok(file_is(array[0], locals[2]), "last file out of order\n");
        IBackgroundCopyFile_Release(array[0]);
    }
    IEnumBackgroundCopyFiles_Reset(enumerator);
    fetched = 0xdead;
    hr = IEnumBackgroundCopyFiles_Next(enumerator, FILE_COUNT + 2, array, &fetched);
    ok(hr == S_FALSE && fetched == FILE_COUNT, "Next(%u): %#lx, fetched %lu\n", FILE_COUNT + 2,
            hr, fetched);
    for (i = 0; i < fetched && i < FILE_COUNT; i++)
        if (array[i]) IBackgroundCopyFile_Release(array[i]);

    /* [test] */
    IEnumBackgroundCopyFiles_Reset(enumerator);
    hr = IEnumBackgroundCopyFiles_Next(enumerator, 2, array, NULL);
    ok(hr == E_INVALIDARG, "Next(2, NULL): %#lx\n", hr);

    /* Skip [test]. */
    IEnumBackgroundCopyFiles_Reset(enumerator);
    for (i = 0; i < FILE_COUNT; i++)
    {
        hr = IEnumBackgroundCopyFiles_Skip(enumerator, 1);
        ok(hr == S_OK, "Skip(1) %lu: %#lx\n", i, hr);
    }
    hr = IEnumBackgroundCopyFiles_Skip(enumerator, 1);
    ok(hr == S_FALSE, "Skip past the end: %#lx\n", hr);
    IEnumBackgroundCopyFiles_Reset(enumerator);
    hr = IEnumBackgroundCopyFiles_Skip(enumerator, FILE_COUNT + 1);
    ok(hr == S_FALSE, "Skip(%u): %#lx\n", FILE_COUNT + 1, hr);
    IEnumBackgroundCopyFiles_Reset(enumerator);
    hr = IEnumBackgroundCopyFiles_Skip(enumerator, FILE_COUNT);
    ok(hr == S_OK, "Skip(%u) after Reset: %#lx\n", FILE_COUNT, hr);

    /* Clone keeps the position and then moves independently [inferred]. */
    IEnumBackgroundCopyFiles_Reset(enumerator);
    IEnumBackgroundCopyFiles_Skip(enumerator, 2);
    clone = NULL;
    hr = IEnumBackgroundCopyFiles_Clone(enumerator, &clone);
    ok(hr == S_OK && clone, "Clone: %#lx\n", hr);
    if (clone)
    {
        count = 0;
        hr = IEnumBackgroundCopyFiles_GetCount(clone, &count);
        ok(hr == S_OK && count == FILE_COUNT, "clone GetCount: %#lx, %lu\n", hr, count);
        file = NULL;
        hr = IEnumBackgroundCopyFiles_Next(clone, 1, &file, NULL);
        ok(hr == S_OK && file_is(file, locals[2]), "clone Next: %#lx, not the third file\n", hr);
        if (file) IBackgroundCopyFile_Release(file);
        hr = IEnumBackgroundCopyFiles_Next(clone, 1, &file, NULL);
        ok(hr == S_FALSE, "clone Next past the end: %#lx\n", hr);
        IEnumBackgroundCopyFiles_Reset(clone);
        file = NULL;
        hr = IEnumBackgroundCopyFiles_Next(enumerator, 1, &file, NULL);
        ok(hr == S_OK && file_is(file, locals[2]), "original Next after the clone's: %#lx\n", hr);
        if (file) IBackgroundCopyFile_Release(file);
        ref = IEnumBackgroundCopyFiles_Release(clone);
        ok(ref == 0, "clone Release returned %lu\n", ref);
    }

    /* [test] A snapshot: a file added later shows only in a new enumerator. */
    hr = IBackgroundCopyJob_AddFile(job, L"http://example.invalid/enum.txt", locals[FILE_COUNT]);
    ok(hr == S_OK, "AddFile: %#lx\n", hr);
    count = 0;
    hr = IEnumBackgroundCopyFiles_GetCount(enumerator, &count);
    ok(hr == S_OK && count == FILE_COUNT, "old enumerator's count %lu\n", count);
    hr = IBackgroundCopyJob_EnumFiles(job, &later);
    ok(hr == S_OK, "EnumFiles: %#lx\n", hr);
    if (SUCCEEDED(hr))
    {
        count = 0;
        hr = IEnumBackgroundCopyFiles_GetCount(later, &count);
        ok(hr == S_OK && count == FILE_COUNT + 1, "new enumerator's count %lu\n", count);
        ref = IEnumBackgroundCopyFiles_Release(later);
        ok(ref == 0, "Release returned %lu\n", ref);
    }

    ref = IEnumBackgroundCopyFiles_Release(enumerator);
    ok(ref == 0, "Release returned %lu\n", ref);

done:
    for (i = 0; i <= FILE_COUNT; i++) CoTaskMemFree(locals[i]);
    cancel_job(job);
}

START_TEST(enum)
{
    if (!bits_test_init()) return;
    test_job_enumerator();
    test_file_enumerator();
    bits_test_cleanup();
}
