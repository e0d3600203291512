/* Wine-only tests of time and Group Policy (behaviour.md §8): JobInactivityTimeout through the
 * service's debug clock skew (HKLM\Software\Wine\BITS ClockSkewSeconds, clock.c), and the policy
 * values a client can observe.  They change machine-wide registry values and move the
 * service's clock by months, so they run in a Wine prefix of their own (tests/wine/clock.sh),
 * never on Windows, and never beside other units.
 *
 * The service reads the skew on its scheduler passes, at most once a second; a pass runs
 * whenever a job's settings change.  wait_for_skew() therefore changes a throwaway job until
 * the service stamps it with the skewed time, so that the pass that checks inactivity with the
 * new time has run.  Under Wine every caller is an administrator, which the per-user limits
 * exempt: those tests can show the exemption only, and say so.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#include "../util.h"

#define SKEW_KEY        L"Software\\Wine\\BITS"
#define SKEW_VALUE      L"ClockSkewSeconds"
#define POLICY_KEY      L"Software\\Policies\\Microsoft\\Windows\\BITS"
#define DAY             (24 * 60 * 60)
#define CHECK_INTERVAL  30          /* s: the scheduler passes at least this often (engine.c) */
#define SKEW_TIMEOUT    15000       /* ms for the service to take a new skew */
#define STATE_TIMEOUT   10000       /* ms for a local copy, or for the service's Cancel */
#define FILETIME_SECOND 10000000ll
#define ALIVE_WATCH     2000        /* ms to watch a job that should stay */

static BOOL set_dword(const WCHAR *path, const WCHAR *name, const DWORD *value)
{
    HKEY key;
    LONG status;

    status = RegCreateKeyExW(HKEY_LOCAL_MACHINE, path, 0, NULL, 0, KEY_SET_VALUE, NULL, &key,
            NULL);
    if (status) return FALSE;
    if (value) status = RegSetValueExW(key, name, 0, REG_DWORD, (const BYTE *)value,
            sizeof(*value));
    else
    {
        status = RegDeleteValueW(key, name);
        if (status == ERROR_FILE_NOT_FOUND) status = ERROR_SUCCESS;
    }
    RegCloseKey(key);
    return !status;
}

static void set_policy(const WCHAR *name, DWORD value)
{
    ok(set_dword(POLICY_KEY, name, &value), "cannot set policy %s\n", wine_dbgstr_w(name));
}

static void clear_policy(const WCHAR *name)
{
    ok(set_dword(POLICY_KEY, name, NULL), "cannot clear policy %s\n", wine_dbgstr_w(name));
}

/* Moves the service's clock to now + seconds and returns once it has: a new job is stamped
 * with the skewed time, and a pass of the scheduler (inactivity included) ran with it. */
static BOOL wait_for_skew(LONG seconds)
{
    DWORD value = (DWORD)seconds, start = GetTickCount();
    LONGLONG expected, created;
    IBackgroundCopyJob *job;
    BG_JOB_TIMES times;
    FILETIME now;

    if (!set_dword(SKEW_KEY, SKEW_VALUE, seconds ? &value : NULL))
    {
        ok(0, "cannot set the skew\n");
        return FALSE;
    }
    while (GetTickCount() - start < SKEW_TIMEOUT)
    {
        job = create_job(L"clock-poke", BG_JOB_TYPE_DOWNLOAD, NULL);
        if (!job) return FALSE;
        GetSystemTimeAsFileTime(&now);
        expected = filetime_to_u64(&now) + seconds * FILETIME_SECOND;
        created = 0;
        if (IBackgroundCopyJob_GetTimes(job, &times) == S_OK)
            created = filetime_to_u64(&times.CreationTime);
        /* Wakes the scheduler, which re-reads the skew. */
        IBackgroundCopyJob_SetDescription(job, L"poke");
        cancel_job(job);
        if (created > expected - 60 * FILETIME_SECOND && created < expected + 60 * FILETIME_SECOND)
            return TRUE;
        Sleep(250);     /* polling interval: the service re-reads at most once a second */
    }
    ok(0, "the service did not take a skew of %ld s\n", seconds);
    return FALSE;
}

/* One more scheduler pass, with the current skew. */
static void poke(void)
{
    IBackgroundCopyJob *job = create_job(L"clock-poke", BG_JOB_TYPE_DOWNLOAD, NULL);

    if (!job) return;
    IBackgroundCopyJob_SetDescription(job, L"poke");
    cancel_job(job);
}

/* A download job of count local files into dir, TRANSFERRED: its temporary files are on disk,
 * hidden, until Complete or Cancel. */
static IBackgroundCopyJob *transferred_job(const WCHAR *tag, const WCHAR *dir, unsigned int count)
{
    IBackgroundCopyJob *job = create_transfer_job(tag, NULL);
    WCHAR name[32], *source, *dest;
    unsigned int i;
    HRESULT hr;

    if (!job) return NULL;
    for (i = 0; i < count; i++)
    {
        swprintf(name, ARRAY_SIZE(name), L"source%u.txt", i);
        source = dir_file(dir, name);
        swprintf(name, ARRAY_SIZE(name), L"dest%u.txt", i);
        dest = dir_file(dir, name);
        ok(write_test_file(source, "clock test data\n"), "cannot write the source\n");
        hr = IBackgroundCopyJob_AddFile(job, source, dest);
        ok(hr == S_OK, "AddFile: %#lx\n", hr);
        CoTaskMemFree(source);
        CoTaskMemFree(dest);
    }
    hr = IBackgroundCopyJob_Resume(job);
    ok(hr == S_OK, "Resume: %#lx\n", hr);
    ok(wait_for_state(job, BG_JOB_STATE_TRANSFERRED, STATE_TIMEOUT), "not transferred: %u\n",
            get_job_state(job));
    return job;
}

/* The job is still there, in state, during a while after one more scheduler pass: the absence
 * of a cancel can only be watched for some time. */
static void check_alive(IBackgroundCopyJob *job, BG_JOB_STATE state, const char *when)
{
    DWORD start = GetTickCount();

    poke();
    while (GetTickCount() - start < ALIVE_WATCH && get_job_state(job) == state) Sleep(100);
    ok(get_job_state(job) == state, "%s: state %u\n", when, get_job_state(job));
}

static void check_expired(IBackgroundCopyJob *job, const WCHAR *dir, const char *when)
{
    ok(wait_for_state(job, BG_JOB_STATE_CANCELLED, STATE_TIMEOUT), "%s: state %u\n", when,
            get_job_state(job));
    ok(!count_files(dir, L"BIT*.tmp"), "%s: temporary files left: %s\n", when, dir_listing(dir));
}

/* behaviour.md §8: 90 days without activity by default; checked at least every CHECK_INTERVAL.
 * A TRANSFERRED job counts like any live one (gap G18). */
static void test_inactivity_default(void)
{
    WCHAR *dir = make_test_dir(L"clock-default");
    IBackgroundCopyJob *job;

    clear_policy(L"JobInactivityTimeout");
    job = transferred_job(L"clock-default", dir, 1);
    ok(count_files(dir, L"BIT*.tmp") == 1, "no temporary file: %s\n", dir_listing(dir));
    if (job && wait_for_skew(89 * DAY))
        check_alive(job, BG_JOB_STATE_TRANSFERRED, "89 days");
    if (job && wait_for_skew(90 * DAY + CHECK_INTERVAL + 60))
        check_expired(job, dir, "90 days");
    wait_for_skew(0);
    cancel_job(job);
    remove_test_dir(dir);
}

/* behaviour.md §8: the policy sets the period; a suspended job is live too. */
static void test_inactivity_policy(void)
{
    WCHAR *dir = make_test_dir(L"clock-policy");
    IBackgroundCopyJob *job;
    HRESULT hr;

    set_policy(L"JobInactivityTimeout", 30);
    job = transferred_job(L"clock-policy", dir, 1);
    if (job)
    {
        hr = IBackgroundCopyJob_Suspend(job);
        ok(hr == S_OK, "Suspend: %#lx\n", hr);
    }
    if (job && wait_for_skew(29 * DAY))
        check_alive(job, BG_JOB_STATE_SUSPENDED, "29 days");
    if (job && wait_for_skew(30 * DAY + CHECK_INTERVAL + 60))
        check_expired(job, dir, "30 days");
    clear_policy(L"JobInactivityTimeout");
    wait_for_skew(0);
    cancel_job(job);
    remove_test_dir(dir);
}

/* behaviour.md §7.5: a change of a property is activity, and the count starts again. */
static void test_inactivity_activity(void)
{
    WCHAR *dir = make_test_dir(L"clock-activity");
    IBackgroundCopyJob *job;
    HRESULT hr;

    clear_policy(L"JobInactivityTimeout");
    job = transferred_job(L"clock-activity", dir, 1);
    if (job && wait_for_skew(60 * DAY))
    {
        hr = IBackgroundCopyJob_SetDescription(job, L"still wanted");
        ok(hr == S_OK, "SetDescription: %#lx\n", hr);
    }
    if (job && wait_for_skew(60 * DAY + 89 * DAY))
        check_alive(job, BG_JOB_STATE_TRANSFERRED, "89 days after the change");
    if (job && wait_for_skew(60 * DAY + 90 * DAY + CHECK_INTERVAL + 60))
        check_expired(job, dir, "90 days after the change");
    wait_for_skew(0);
    cancel_job(job);
    remove_test_dir(dir);
}

/* behaviour.md §3.2: the service's cancel keeps what a failed Complete saved.  The second
 * destination is held open without sharing, so its rename fails and the job stays. */
static void test_inactivity_keeps_saved_files(void)
{
    WCHAR *dir = make_test_dir(L"clock-saved"), *dest0 = dir_file(dir, L"dest0.txt");
    WCHAR *dest1 = dir_file(dir, L"dest1.txt");
    IBackgroundCopyJob *job;
    HANDLE lock;
    HRESULT hr;

    ok(write_test_file(dest1, "locked\n"), "cannot write %s\n", wine_dbgstr_w(dest1));
    job = transferred_job(L"clock-saved", dir, 2);
    lock = CreateFileW(dest1, GENERIC_READ, 0, NULL, OPEN_EXISTING, 0, NULL);
    ok(lock != INVALID_HANDLE_VALUE, "cannot lock %s\n", wine_dbgstr_w(dest1));
    if (job)
    {
        hr = IBackgroundCopyJob_Complete(job);
        ok(FAILED(hr), "Complete with a locked destination: %#lx\n", hr);
        ok(get_job_state(job) == BG_JOB_STATE_TRANSFERRED, "state %u\n", get_job_state(job));
    }
    CloseHandle(lock);
    ok(file_exists(dest0), "first file not saved\n");
    if (job && wait_for_skew(90 * DAY + CHECK_INTERVAL + 60))
    {
        check_expired(job, dir, "90 days");
        ok(file_exists(dest0), "the saved file was deleted\n");
        ok(file_exists(dest1), "the locked destination was deleted\n");
    }
    wait_for_skew(0);
    cancel_job(job);
    CoTaskMemFree(dest0);
    CoTaskMemFree(dest1);
    remove_test_dir(dir);
}

/* behaviour.md §8: MaxDownloadTime is the default of a new job's MaximumDownloadTime, which the
 * job may still change. */
static void test_MaxDownloadTime_policy(void)
{
    IBackgroundCopyJob4 *job4 = NULL;
    IBackgroundCopyJob *job;
    ULONG seconds = 0;
    HRESULT hr;

    set_policy(L"MaxDownloadTime", 54000);
    job = create_job(L"clock-maxtime", BG_JOB_TYPE_DOWNLOAD, NULL);
    clear_policy(L"MaxDownloadTime");
    if (!job) return;
    hr = IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJob4, (void **)&job4);
    ok(hr == S_OK, "no IBackgroundCopyJob4: %#lx\n", hr);
    if (job4)
    {
        hr = IBackgroundCopyJob4_GetMaximumDownloadTime(job4, &seconds);
        ok(hr == S_OK && seconds == 54000, "policy default: %#lx, %lu\n", hr, seconds);
        hr = IBackgroundCopyJob4_SetMaximumDownloadTime(job4, 100);
        ok(hr == S_OK, "SetMaximumDownloadTime: %#lx\n", hr);
        hr = IBackgroundCopyJob4_GetMaximumDownloadTime(job4, &seconds);
        ok(hr == S_OK && seconds == 100, "after the change: %#lx, %lu\n", hr, seconds);
        IBackgroundCopyJob4_Release(job4);
    }
    cancel_job(job);

    job = create_job(L"clock-maxtime-default", BG_JOB_TYPE_DOWNLOAD, NULL);
    if (job && IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJob4,
            (void **)&job4) == S_OK)
    {
        hr = IBackgroundCopyJob4_GetMaximumDownloadTime(job4, &seconds);
        ok(hr == S_OK && seconds == 7776000, "without the policy: %#lx, %lu\n", hr, seconds);
        IBackgroundCopyJob4_Release(job4);
    }
    cancel_job(job);
}

/* behaviour.md §8: limits of one job per user and machine and one file per job.  An
 * administrator (every Wine caller) is exempt; a limited caller gets the errors. */
static void test_limits(void)
{
    IBackgroundCopyJob *first, *second;
    BOOL admin = is_admin();
    WCHAR *dir = make_test_dir(L"clock-limits"), *a = dir_file(dir, L"a.txt");
    WCHAR *b = dir_file(dir, L"b.txt"), name[128];
    GUID id;
    HRESULT hr;

    set_policy(L"MaxJobsPerUser", 1);
    set_policy(L"MaxJobsPerMachine", 1);
    set_policy(L"MaxFilesPerJob", 1);
    first = create_job(L"clock-limit-1", BG_JOB_TYPE_DOWNLOAD, NULL);
    make_job_name(L"clock-limit-2", name, ARRAY_SIZE(name));
    second = NULL;
    hr = IBackgroundCopyManager_CreateJob(test_manager, name, BG_JOB_TYPE_DOWNLOAD, &id, &second);
    if (admin) ok(hr == S_OK, "second job of an administrator: %#lx\n", hr);
    else ok(hr == BG_E_TOO_MANY_JOBS_PER_USER, "second job of a user: %#lx\n", hr);
    if (first)
    {
        ok(write_test_file(a, "a\n") && write_test_file(b, "b\n"), "cannot write sources\n");
        hr = IBackgroundCopyJob_AddFile(first, a, b);
        ok(hr == S_OK, "first file: %#lx\n", hr);
        hr = IBackgroundCopyJob_AddFile(first, b, a);
        if (admin) ok(hr == S_OK, "second file of an administrator: %#lx\n", hr);
        else ok(hr == BG_E_TOO_MANY_FILES_IN_JOB, "second file of a user: %#lx\n", hr);
    }
    clear_policy(L"MaxJobsPerUser");
    clear_policy(L"MaxJobsPerMachine");
    clear_policy(L"MaxFilesPerJob");
    cancel_job(first);
    cancel_job(second);
    CoTaskMemFree(a);
    CoTaskMemFree(b);
    remove_test_dir(dir);
}

START_TEST(clock)
{
    if (!winetest_platform_is_wine)
    {
        skip("moves the service's clock through a Wine-only debug value\n");
        return;
    }
    if (!bits_test_init()) return;
    wait_for_skew(0);
    test_MaxDownloadTime_policy();
    test_limits();
    test_inactivity_default();
    test_inactivity_policy();
    test_inactivity_activity();
    test_inactivity_keeps_saved_files();
    bits_test_cleanup();
}

const struct winetest_unit winetest_testlist[] =
{
    { "clock", func_clock },
    { NULL, NULL }
};
