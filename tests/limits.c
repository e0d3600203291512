/* What a caller who is not an administrator gets: no other users' jobs, no TakeOwnership
 * (behaviour.md §9.2, §9.3), and the Group Policy limits MaxJobsPerUser, MaxJobsPerMachine and
 * MaxFilesPerJob (§8), from which administrators are exempt.
 *
 * Run by an administrator, the unit starts this executable again as "limits child TEST LIMIT"
 * under its own token with BUILTIN\Administrators made deny-only; the child exits with its
 * number of failures.  The parent writes the policy values the child's test needs, puts back
 * what was there afterwards, and checks that it is itself exempt from them.  Run by anyone
 * else, the unit checks the access rules on itself and skips the rest.
 *
 * Other units may run at the same time as the same user and create and cancel jobs; the job
 * limits count those too.  So a limit of N must refuse the child's own N+1-th job at the
 * latest, and no check depends on how many jobs there are.  Those units, administrators, are
 * not limited.  Windows may read policy only at a Group Policy refresh: a limit that does not
 * apply there yet is broken().
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#include "util.h"

#define CHILD_TIMEOUT_MS 60000
#define POLICY_KEY L"Software\\Policies\\Microsoft\\Windows\\BITS"
#define JOB_LIMIT 2     /* small, in the documented range (1 and up) of every limit */
#define FILE_LIMIT 2
#define MAX_JOBS 8      /* jobs one test holds at a time */

/* One policy value the test sets, and what was there before, to put back. */
struct policy_value
{
    const WCHAR *name;
    DWORD value;
    BOOL read;              /* what was there is known: present, type, size, saved */
    BOOL present;
    DWORD type, size;
    BYTE saved[256];
};

/* Writes the values under the policy key; FALSE after a failure report.  *CREATED tells
 * whether the key is new. */
static BOOL set_policy(struct policy_value *values, unsigned int count, BOOL *created)
{
    DWORD disposition;
    unsigned int i;
    LONG status;
    HKEY key;

    status = RegCreateKeyExW(HKEY_LOCAL_MACHINE, POLICY_KEY, 0, NULL, 0,
            KEY_QUERY_VALUE | KEY_SET_VALUE, NULL, &key, &disposition);
    ok(status == ERROR_SUCCESS, "cannot open the policy key: %ld\n", status);
    if (status != ERROR_SUCCESS) return FALSE;
    *created = disposition == REG_CREATED_NEW_KEY;
    for (i = 0; i < count; i++)
    {
        values[i].size = sizeof(values[i].saved);
        status = RegQueryValueExW(key, values[i].name, NULL, &values[i].type, values[i].saved,
                &values[i].size);
        ok(status == ERROR_SUCCESS || status == ERROR_FILE_NOT_FOUND,
                "cannot read policy %s: %ld\n", wine_dbgstr_w(values[i].name), status);
        if (status != ERROR_SUCCESS && status != ERROR_FILE_NOT_FOUND) break;
        values[i].read = TRUE;
        values[i].present = status == ERROR_SUCCESS;
        status = RegSetValueExW(key, values[i].name, 0, REG_DWORD, (BYTE *)&values[i].value,
                sizeof(values[i].value));
        ok(status == ERROR_SUCCESS, "cannot set policy %s: %ld\n",
                wine_dbgstr_w(values[i].name), status);
        if (status != ERROR_SUCCESS) break;
    }
    RegCloseKey(key);
    return i == count;
}

/* Puts back what set_policy() found, as far as it got. */
static void restore_policy(struct policy_value *values, unsigned int count, BOOL created)
{
    HKEY key = NULL;
    unsigned int i;
    LONG status;

    for (i = 0; i < count && values[i].read; i++)
    {
        if (!key)
        {
            status = RegOpenKeyExW(HKEY_LOCAL_MACHINE, POLICY_KEY, 0, KEY_SET_VALUE, &key);
            ok(status == ERROR_SUCCESS, "cannot open the policy key: %ld\n", status);
            if (status != ERROR_SUCCESS) return;
        }
        if (values[i].present)
            status = RegSetValueExW(key, values[i].name, 0, values[i].type, values[i].saved,
                    values[i].size);
        else
        {
            status = RegDeleteValueW(key, values[i].name);
            if (status == ERROR_FILE_NOT_FOUND) status = ERROR_SUCCESS;
        }
        ok(status == ERROR_SUCCESS, "cannot restore policy %s: %ld\n",
                wine_dbgstr_w(values[i].name), status);
    }
    if (key) RegCloseKey(key);
    if (created)
    {
        status = RegDeleteKeyW(HKEY_LOCAL_MACHINE, POLICY_KEY);
        ok(status == ERROR_SUCCESS, "cannot delete the policy key: %ld\n", status);
    }
}

/* Runs "limits child TEST LIMIT" as a non-administrator and checks that it had no failures. */
static void run_child(const char *test, unsigned int limit)
{
    WCHAR args[64];

    swprintf(args, ARRAY_SIZE(args), L"limits child %hs %u", test, limit);
    run_child_process(args, TRUE, CHILD_TIMEOUT_MS);
}

static HRESULT try_create_job(const WCHAR *tag, IBackgroundCopyJob **job)
{
    WCHAR name[256];
    GUID id;

    *job = NULL;
    make_job_name(tag, name, ARRAY_SIZE(name));
    return IBackgroundCopyManager_CreateJob(test_manager, name, BG_JOB_TYPE_DOWNLOAD, &id, job);
}

/* Creates jobs until CreateJob fails, LIMIT + 1 at most, and returns the last result.  The
 * caller cancels the *COUNT jobs in JOBS. */
static HRESULT create_jobs(const WCHAR *tag, unsigned int limit, IBackgroundCopyJob **jobs,
        unsigned int *count)
{
    HRESULT hr = S_OK;

    for (*count = 0; *count <= limit && *count < MAX_JOBS; (*count)++)
    {
        hr = try_create_job(tag, &jobs[*count]);
        if (FAILED(hr)) break;
    }
    return hr;
}

static void cancel_jobs(IBackgroundCopyJob **jobs, unsigned int count)
{
    unsigned int i;

    for (i = 0; i < count; i++) cancel_job(jobs[i]);
}

/* Adds COUNT files named from FIRST on; returns what AddFile or AddFileSet returned. */
static HRESULT add_files(IBackgroundCopyJob *job, unsigned int first, unsigned int count)
{
    BG_FILE_INFO info[FILE_LIMIT + 1];
    WCHAR remote[64], name[32];
    unsigned int i;
    HRESULT hr;

    if (count > ARRAY_SIZE(info)) return E_UNEXPECTED;
    for (i = 0; i < count; i++)
    {
        swprintf(remote, ARRAY_SIZE(remote), L"http://example.invalid/limits/%u", first + i);
        swprintf(name, ARRAY_SIZE(name), L"limits-%u.bin", first + i);
        info[i].RemoteName = CoTaskMemAlloc((wcslen(remote) + 1) * sizeof(WCHAR));
        if (info[i].RemoteName) wcscpy(info[i].RemoteName, remote);
        info[i].LocalName = temp_path(name);
    }
    if (count == 1) hr = IBackgroundCopyJob_AddFile(job, info[0].RemoteName, info[0].LocalName);
    else hr = IBackgroundCopyJob_AddFileSet(job, count, info);
    for (i = 0; i < count; i++)
    {
        CoTaskMemFree(info[i].RemoteName);
        CoTaskMemFree(info[i].LocalName);
    }
    return hr;
}

/* ---- The child: a non-administrator ---- */

/* behaviour.md §9.2, gap G19: only an administrator enumerates every user's jobs; §9.3: only an
 * administrator takes ownership, of its own job too. */
static void child_access(void)
{
    IEnumBackgroundCopyJobs *jobs = NULL;
    IBackgroundCopyJob2 *job2 = NULL;
    IBackgroundCopyJob *job;
    WCHAR *owner = NULL, *user;
    GUID id;
    HRESULT hr;

    hr = IBackgroundCopyManager_EnumJobs(test_manager, BG_JOB_ENUM_ALL_USERS, &jobs);
    ok(hr == E_ACCESSDENIED, "EnumJobs(ALL_USERS): %#lx\n", hr);
    ok(!jobs, "EnumJobs(ALL_USERS) returned an enumerator\n");
    if (jobs) IEnumBackgroundCopyJobs_Release(jobs);
    jobs = NULL;
    hr = IBackgroundCopyManager_EnumJobs(test_manager, 0, &jobs);
    ok(hr == S_OK, "EnumJobs(0): %#lx\n", hr);
    if (jobs) IEnumBackgroundCopyJobs_Release(jobs);

    job = create_job(L"limits-take", BG_JOB_TYPE_DOWNLOAD, &id);
    if (!job) return;
    ok(job_is_listed(&id), "own job not in EnumJobs(0)\n");
    hr = IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJob2, (void **)&job2);
    if (FAILED(hr))
    {
        win_skip("no IBackgroundCopyJob2\n");
        cancel_job(job);
        return;
    }
    hr = IBackgroundCopyJob2_TakeOwnership(job2);
    ok(hr == E_ACCESSDENIED, "TakeOwnership of an own job: %#lx\n", hr);
    user = get_user_sid_string();
    hr = IBackgroundCopyJob2_GetOwner(job2, &owner);
    ok(hr == S_OK && str_equal(owner, user), "GetOwner: %#lx, %s, caller %s\n", hr,
            wine_dbgstr_w(owner), wine_dbgstr_w(user));
    CoTaskMemFree(owner);
    LocalFree(user);
    IBackgroundCopyJob2_Release(job2);
    cancel_job(job);
}

/* behaviour.md §8: MaxJobsPerUser and MaxJobsPerMachine; the caller's own jobs alone reach
 * LIMIT, so the next CreateJob fails at the latest. */
static void child_jobs(HRESULT expect, unsigned int limit)
{
    IBackgroundCopyJob *jobs[MAX_JOBS], *extra;
    unsigned int count;
    HRESULT hr;

    hr = create_jobs(L"limits-job", limit, jobs, &count);
    ok(hr == expect || broken(hr == S_OK) /* policy not refreshed yet */,
            "limit %u: %u jobs created, then %#lx, expected %#lx\n", limit, count, hr, expect);
    if (hr == expect)
    {
        /* Refused once, refused again while the jobs stay. */
        hr = try_create_job(L"limits-extra", &extra);
        ok(hr == expect, "CreateJob after the limit: %#lx\n", hr);
        ok(!extra, "CreateJob returned a job\n");
        cancel_job(extra);
    }
    cancel_jobs(jobs, count);
}

/* behaviour.md §8, §2.2: AddFile and AddFileSet past MaxFilesPerJob fail and add nothing. */
static void child_files(unsigned int limit)
{
    IBackgroundCopyJob *job;
    ULONG count;
    HRESULT hr;

    if (limit != FILE_LIMIT)
    {
        ok(0, "unexpected file limit %u\n", limit);
        return;
    }
    job = create_job(L"limits-files", BG_JOB_TYPE_DOWNLOAD, NULL);
    if (!job) return;
    hr = add_files(job, 0, 1);
    ok(hr == S_OK, "AddFile 1: %#lx\n", hr);
    hr = add_files(job, 1, FILE_LIMIT);
    ok(hr == BG_E_TOO_MANY_FILES_IN_JOB || broken(hr == S_OK),
            "AddFileSet crossing the limit: %#lx\n", hr);
    count = count_job_files(job);
    ok(count == 1 || broken(count == 1 + FILE_LIMIT), "%lu files after the AddFileSet\n", count);
    cancel_job(job);

    job = create_job(L"limits-files", BG_JOB_TYPE_DOWNLOAD, NULL);
    if (!job) return;
    hr = add_files(job, 0, FILE_LIMIT);
    ok(hr == S_OK, "AddFileSet up to the limit: %#lx\n", hr);
    hr = add_files(job, FILE_LIMIT, 1);
    ok(hr == BG_E_TOO_MANY_FILES_IN_JOB || broken(hr == S_OK), "AddFile past the limit: %#lx\n",
            hr);
    count = count_job_files(job);
    ok(count == FILE_LIMIT || broken(count == FILE_LIMIT + 1), "%lu files\n", count);
    cancel_job(job);
}

static void child_main(int argc, char **argv)
{
    unsigned int limit = argc > 4 ? strtoul(argv[4], NULL, 10) : 0;

    if (is_admin())
    {
        ok(0, "the child is an administrator\n");
        return;
    }
    if (argc < 5) ok(0, "child arguments missing\n");
    else if (!strcmp(argv[3], "access")) child_access();
    else if (!strcmp(argv[3], "jobs-per-user")) child_jobs(BG_E_TOO_MANY_JOBS_PER_USER, limit);
    else if (!strcmp(argv[3], "jobs-per-machine"))
        child_jobs(BG_E_TOO_MANY_JOBS_PER_MACHINE, limit);
    else if (!strcmp(argv[3], "files")) child_files(limit);
    else ok(0, "unknown child test %s\n", argv[3]);
}

/* ---- The parent: an administrator ---- */

/* behaviour.md §8: the job limits do not apply to administrators. */
static void check_exempt_jobs(unsigned int limit)
{
    IBackgroundCopyJob *jobs[MAX_JOBS];
    unsigned int count;
    HRESULT hr;

    hr = create_jobs(L"limits-exempt", limit, jobs, &count);
    ok(hr == S_OK && count == limit + 1, "limit %u: the administrator created %u jobs, then "
            "%#lx\n", limit, count, hr);
    cancel_jobs(jobs, count);
}

static void check_exempt_files(void)
{
    IBackgroundCopyJob *job = create_job(L"limits-exempt", BG_JOB_TYPE_DOWNLOAD, NULL);
    HRESULT hr;

    if (!job) return;
    hr = add_files(job, 0, FILE_LIMIT + 1);
    ok(hr == S_OK, "administrator's AddFileSet past the limit: %#lx\n", hr);
    ok(count_job_files(job) == FILE_LIMIT + 1, "%lu files\n", count_job_files(job));
    cancel_job(job);
}

static void test_jobs_per_user(void)
{
    struct policy_value values[] = { { .name = L"MaxJobsPerUser", .value = JOB_LIMIT } };
    BOOL created = FALSE;

    if (set_policy(values, ARRAY_SIZE(values), &created))
    {
        run_child("jobs-per-user", JOB_LIMIT);
        check_exempt_jobs(JOB_LIMIT);
    }
    restore_policy(values, ARRAY_SIZE(values), created);
}

/* The user limit is set high so that the machine's is the one the child meets, however many
 * jobs this user has elsewhere. */
static void test_jobs_per_machine(void)
{
    struct policy_value values[] =
    {
        { .name = L"MaxJobsPerMachine", .value = JOB_LIMIT },
        { .name = L"MaxJobsPerUser", .value = 10000 },
    };
    BOOL created = FALSE;

    if (set_policy(values, ARRAY_SIZE(values), &created))
    {
        run_child("jobs-per-machine", JOB_LIMIT);
        check_exempt_jobs(JOB_LIMIT);
    }
    restore_policy(values, ARRAY_SIZE(values), created);
}

static void test_files_per_job(void)
{
    struct policy_value values[] = { { .name = L"MaxFilesPerJob", .value = FILE_LIMIT } };
    BOOL created = FALSE;

    if (set_policy(values, ARRAY_SIZE(values), &created))
    {
        run_child("files", FILE_LIMIT);
        check_exempt_files();
    }
    restore_policy(values, ARRAY_SIZE(values), created);
}

START_TEST(limits)
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
    if (child) child_main(argc, argv);
    else if (!is_admin())
    {
        child_access();
        skip("setting policy and starting a non-administrator need an administrator\n");
    }
    else
    {
        run_child("access", 0);
        test_jobs_per_user();
        test_jobs_per_machine();
        test_files_per_job();
    }
    bits_test_cleanup();
}
