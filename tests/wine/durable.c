/* Wine-only tests of the job store's durability gaps (dlls/qmgr/store.c, engine.c, notify.c):
 * they stop and start the service of the prefix they run in, hold, read and write its store
 * files, so they never run on Windows or beside other units.  tests/wine/durable.sh runs them:
 *
 *     finaldelete    the entry of a cancelled or completed job that another process held open
 *                    goes once the handle is closed, and such a job never comes back after a
 *                    restart while its entry is still held
 *     storeacl       the store's directory allows LocalSystem and Administrators only, after
 *                    a start that found it open to everyone and after a start that made it,
 *                    and the service still writes there
 *     commitowner    a Complete interrupted after it saved its intent (an entry this unit
 *                    writes itself) is finished at load, the files given to the saved caller;
 *                    a malformed caller makes the entry damaged
 *     notifyrestart  a TRANSFERRED notification whose command line failed runs again after a
 *                    restart; one whose command line succeeded does not
 *     notifycmd      not a test: the notify command line of notifyrestart, which appends a
 *                    line to a file and exits with the code given
 *     credentials    SetCredentials' credentials survive a restart and still answer the
 *                    server's challenge; the entry never holds the password in clear text
 *
 * commitowner and notifyrestart know the entry format of store.c (version 1): its header, its
 * tag-length-value fields and the tag numbers below.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#include "bitsctl.h"

#include <aclapi.h>
#include <sddl.h>

#define WAIT_MS         60000
#define RETRY_WAIT_MS   30000   /* the saver retries every 5 s */

/* store.c's tags (enum tag there). */
enum
{
    T_ID = 1, T_TYPE = 2, T_STATE = 3, T_COMMITTING = 4, T_OWNER_SID = 5, T_COMMITTER = 14,
    T_NOTIFIED = 15, T_DISPLAY_NAME = 32, T_FILE = 96,
    F_REMOTE = 1, F_LOCAL = 2, F_TEMP = 3, F_SIZES = 4, F_FLAGS = 5,
};

#define HEADER_SIZE 32
#define INHERIT_FLAGS (OBJECT_INHERIT_ACE | CONTAINER_INHERIT_ACE | INHERIT_ONLY_ACE)

static BOOL entry_exists(const GUID *id, const WCHAR *suffix)
{
    WCHAR path[MAX_PATH];

    bitsctl_entry_path(id, suffix, path);
    return GetFileAttributesW(path) != INVALID_FILE_ATTRIBUTES;
}

/* Polls until the job's entry and tombstone are gone; FALSE after timeout_ms. */
static BOOL wait_entry_gone(const GUID *id, DWORD timeout_ms)
{
    ULONGLONG deadline = GetTickCount64() + timeout_ms;

    for (;;)
    {
        if (!entry_exists(id, L".bits") && !entry_exists(id, L".final")) return TRUE;
        if (GetTickCount64() >= deadline) return FALSE;
        Sleep(200);
    }
}

static void store_dir(WCHAR *dir)
{
    bitsctl_entry_path(&GUID_NULL, L"", dir);
    *wcsrchr(dir, '\\') = 0;
}

static BOOL job_found(const GUID *id)
{
    IBackgroundCopyJob *job = NULL;
    HRESULT hr;

    hr = IBackgroundCopyManager_GetJob(test_manager, id, &job);
    if (job) IBackgroundCopyJob_Release(job);
    ok(hr == S_OK || hr == BG_E_NOT_FOUND, "GetJob: %#lx\n", hr);
    return hr == S_OK;
}

/* Opens the entry as another program might: without FILE_SHARE_DELETE. */
static HANDLE hold_entry(const GUID *id)
{
    WCHAR path[MAX_PATH];

    bitsctl_entry_path(id, L".bits", path);
    return CreateFileW(path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL,
            OPEN_EXISTING, 0, NULL);
}

/* ---- finaldelete ---- */

static void test_final_delete_retried(void)
{
    IBackgroundCopyJob *cancelled, *completed;
    HANDLE held[2];
    GUID ids[2];
    HRESULT hr;
    int i;

    cancelled = create_job(L"held cancelled", BG_JOB_TYPE_DOWNLOAD, &ids[0]);
    completed = create_job(L"held completed", BG_JOB_TYPE_DOWNLOAD, &ids[1]);
    if (!cancelled || !completed) goto done;
    for (i = 0; i < 2; i++)
    {
        held[i] = hold_entry(&ids[i]);
        ok(held[i] != INVALID_HANDLE_VALUE, "cannot open entry %d: error %lu\n", i,
                GetLastError());
    }
    hr = IBackgroundCopyJob_Cancel(cancelled);
    ok(hr == S_OK, "Cancel: %#lx\n", hr);
    hr = IBackgroundCopyJob_Complete(completed);
    ok(hr == S_OK, "Complete: %#lx\n", hr);
    for (i = 0; i < 2; i++)
    {
        ok(!job_found(&ids[i]), "job %d still queued\n", i);
        ok(entry_exists(&ids[i], L".bits"), "entry %d gone while held open\n", i);
        if (held[i] != INVALID_HANDLE_VALUE) CloseHandle(held[i]);
    }
    for (i = 0; i < 2; i++)
        ok(wait_entry_gone(&ids[i], RETRY_WAIT_MS), "entry %d stays after the handle closed\n",
                i);
done:
    if (cancelled) IBackgroundCopyJob_Release(cancelled);
    if (completed) IBackgroundCopyJob_Release(completed);
}

static void test_final_delete_restart(void)
{
    IBackgroundCopyJob *jobs[2];
    HANDLE held[2];
    GUID ids[2];
    HRESULT hr;
    int i;

    jobs[0] = create_job(L"held over restart", BG_JOB_TYPE_DOWNLOAD, &ids[0]);
    jobs[1] = create_job(L"held completed over restart", BG_JOB_TYPE_DOWNLOAD, &ids[1]);
    if (!jobs[0] || !jobs[1])
    {
        for (i = 0; i < 2; i++) if (jobs[i]) IBackgroundCopyJob_Release(jobs[i]);
        return;
    }
    hr = IBackgroundCopyJob_SetDescription(jobs[0], L"must not come back");
    ok(hr == S_OK, "SetDescription: %#lx\n", hr);
    for (i = 0; i < 2; i++) held[i] = hold_entry(&ids[i]);
    ok(held[0] != INVALID_HANDLE_VALUE && held[1] != INVALID_HANDLE_VALUE,
            "cannot open the entries: error %lu\n", GetLastError());
    hr = IBackgroundCopyJob_Cancel(jobs[0]);
    ok(hr == S_OK, "Cancel: %#lx\n", hr);
    hr = IBackgroundCopyJob_Complete(jobs[1]);
    ok(hr == S_OK, "Complete: %#lx\n", hr);

    /* Twice: the start that finds the entries still held must not load them either. */
    if (!bitsctl_restart(jobs, NULL, 2, NULL, NULL)) goto done;
    if (!bitsctl_restart(NULL, NULL, 0, NULL, NULL)) goto done;
    for (i = 0; i < 2; i++)
    {
        ok(!job_found(&ids[i]), "job %d came back after the restart\n", i);
        ok(!job_is_listed(&ids[i]), "job %d is listed after the restart\n", i);
    }
done:
    for (i = 0; i < 2; i++)
    {
        if (held[i] != INVALID_HANDLE_VALUE) CloseHandle(held[i]);
        if (jobs[i]) IBackgroundCopyJob_Release(jobs[i]);
    }
    for (i = 0; i < 2; i++)
        ok(wait_entry_gone(&ids[i], RETRY_WAIT_MS), "entry %d stays after the handle closed\n",
                i);
}

START_TEST(finaldelete)
{
    if (!bits_test_init()) return;
    test_final_delete_retried();
    test_final_delete_restart();
    bits_test_cleanup();
}

/* ---- storeacl ---- */

static PSID well_known_sid(WELL_KNOWN_SID_TYPE type, BYTE *buffer)
{
    DWORD size = SECURITY_MAX_SID_SIZE;

    if (!CreateWellKnownSid(type, NULL, buffer, &size)) return NULL;
    return buffer;
}

static PSID get_user_sid(void)
{
    TOKEN_USER *user;
    HANDLE token;
    DWORD size = 0;
    PSID sid = NULL;

    if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token)) return NULL;
    GetTokenInformation(token, TokenUser, NULL, 0, &size);
    user = malloc(size);
    if (user && GetTokenInformation(token, TokenUser, user, size, &size))
    {
        sid = malloc(GetLengthSid(user->User.Sid));
        if (sid) CopySid(GetLengthSid(user->User.Sid), sid, user->User.Sid);
    }
    free(user);
    CloseHandle(token);
    return sid;
}

static const char *debugstr_sid(PSID sid)
{
    static char buffer[4][128];
    static LONG next;
    char *out = buffer[InterlockedIncrement(&next) % 4];
    WCHAR *text;

    if (!sid || !ConvertSidToStringSidW(sid, &text)) return "(null)";
    snprintf(out, 128, "%ls", text);
    LocalFree(text);
    return out;
}

/* The directory allows LocalSystem and Administrators only, inherited by what it holds.
 * Windows reads back exactly that, protected.  Wine keeps a DACL as mode bits and reads back
 * LocalSystem, the owner (the Unix user, an administrator) and Everyone for "other" bits: then
 * no Everyone may appear. */
static void check_store_dacl_(int line, const WCHAR *dir)
{
    BYTE system_buffer[SECURITY_MAX_SID_SIZE], admins_buffer[SECURITY_MAX_SID_SIZE];
    PSID system = well_known_sid(WinLocalSystemSid, system_buffer);
    PSID admins = well_known_sid(WinBuiltinAdministratorsSid, admins_buffer);
    SECURITY_DESCRIPTOR_CONTROL control = 0;
    PSECURITY_DESCRIPTOR sd;
    BOOL has_system = FALSE, has_admins = FALSE;
    PSID owner, user = get_user_sid();
    ACCESS_ALLOWED_ACE *ace;
    DWORD error, revision, i;
    ACL *dacl = NULL;

    error = GetNamedSecurityInfoW(dir, SE_FILE_OBJECT,
            OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION, &owner, NULL, &dacl, NULL, &sd);
    ok_(__FILE__, line)(!error, "GetNamedSecurityInfo: error %lu\n", error);
    if (error) goto done;
    GetSecurityDescriptorControl(sd, &control, &revision);
    ok_(__FILE__, line)(dacl != NULL, "no DACL: everyone has full access\n");
    for (i = 0; dacl && i < dacl->AceCount; i++)
    {
        PSID sid;

        if (!GetAce(dacl, i, (void **)&ace)) break;
        sid = &ace->SidStart;
        if (ace->Header.AceType == ACCESS_DENIED_ACE_TYPE) continue;
        ok_(__FILE__, line)(ace->Header.AceType == ACCESS_ALLOWED_ACE_TYPE, "ACE %lu: type %u\n",
                i, ace->Header.AceType);
        if (EqualSid(sid, system))
        {
            has_system = TRUE;
            ok_(__FILE__, line)(ace->Mask == FILE_ALL_ACCESS, "LocalSystem: access %#lx\n",
                    ace->Mask);
            ok_(__FILE__, line)((ace->Header.AceFlags & INHERIT_FLAGS)
                    == (OBJECT_INHERIT_ACE | CONTAINER_INHERIT_ACE),
                    "LocalSystem: flags %#x\n", ace->Header.AceFlags);
        }
        else if (EqualSid(sid, admins)) has_admins = TRUE;
        else
            ok_(__FILE__, line)(winetest_platform_is_wine && user && EqualSid(sid, user)
                    && owner && EqualSid(owner, user),
                    "ACE %lu allows %#lx to %s\n", i, ace->Mask, debugstr_sid(sid));
    }
    ok_(__FILE__, line)(has_system, "no ACE for LocalSystem\n");
    if (!winetest_platform_is_wine)
    {
        ok_(__FILE__, line)(has_admins, "no ACE for Administrators\n");
        ok_(__FILE__, line)(control & SE_DACL_PROTECTED, "DACL not protected: %#x\n", control);
    }
    LocalFree(sd);
done:
    free(user);
}
#define check_store_dacl(dir) check_store_dacl_(__LINE__, dir)

/* Opens the directory to everyone, as an older service left it. */
static BOOL open_to_everyone(const WCHAR *dir)
{
    EXPLICIT_ACCESS_W access;
    WCHAR path[MAX_PATH];
    ACL *acl = NULL;
    DWORD error;

    memset(&access, 0, sizeof(access));
    access.grfAccessPermissions = FILE_ALL_ACCESS;
    access.grfAccessMode = SET_ACCESS;
    access.grfInheritance = SUB_CONTAINERS_AND_OBJECTS_INHERIT;
    access.Trustee.TrusteeForm = TRUSTEE_IS_NAME;
    access.Trustee.TrusteeType = TRUSTEE_IS_WELL_KNOWN_GROUP;
    access.Trustee.ptstrName = (WCHAR *)L"Everyone";
    error = SetEntriesInAclW(1, &access, NULL, &acl);
    ok(!error, "SetEntriesInAcl: error %lu\n", error);
    if (error) return FALSE;
    wcscpy(path, dir);
    error = SetNamedSecurityInfoW(path, SE_FILE_OBJECT,
            DACL_SECURITY_INFORMATION | UNPROTECTED_DACL_SECURITY_INFORMATION, NULL, NULL, acl,
            NULL);
    ok(!error, "SetNamedSecurityInfo: error %lu\n", error);
    LocalFree(acl);
    return !error;
}

/* Everyone's read access, as Wine and Windows both report it. */
static BOOL everyone_allowed(const WCHAR *dir)
{
    BYTE buffer[SECURITY_MAX_SID_SIZE];
    PSID everyone = well_known_sid(WinWorldSid, buffer);
    PSECURITY_DESCRIPTOR sd;
    ACCESS_ALLOWED_ACE *ace;
    BOOL found = FALSE;
    ACL *dacl = NULL;
    DWORD i;

    if (GetNamedSecurityInfoW(dir, SE_FILE_OBJECT, DACL_SECURITY_INFORMATION, NULL, NULL, &dacl,
            NULL, &sd))
        return FALSE;
    if (!dacl) found = TRUE;
    for (i = 0; dacl && i < dacl->AceCount; i++)
        if (GetAce(dacl, i, (void **)&ace) && ace->Header.AceType == ACCESS_ALLOWED_ACE_TYPE
                && EqualSid(&ace->SidStart, everyone))
            found = TRUE;
    LocalFree(sd);
    return found;
}

/* Removes the store's directory when it holds no entry, so that the start makes it. */
static void remove_empty_store(void *context)
{
    WCHAR pattern[MAX_PATH + 4], path[MAX_PATH * 2];
    const WCHAR *dir = context;
    WIN32_FIND_DATAW data;
    BOOL entries = FALSE;
    HANDLE find;

    swprintf(pattern, ARRAY_SIZE(pattern), L"%ls\\*", dir);
    find = FindFirstFileW(pattern, &data);
    if (find != INVALID_HANDLE_VALUE)
    {
        do
        {
            if (data.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) continue;
            if (wcsstr(data.cFileName, L".bits") && !wcsstr(data.cFileName, L".bad"))
                entries = TRUE;
        } while (FindNextFileW(find, &data));
        FindClose(find);
    }
    if (entries)
    {
        skip("the store holds jobs of others: not removing it\n");
        return;
    }
    find = FindFirstFileW(pattern, &data);
    if (find != INVALID_HANDLE_VALUE)
    {
        do
        {
            if (data.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) continue;
            swprintf(path, ARRAY_SIZE(path), L"%ls\\%ls", dir, data.cFileName);
            DeleteFileW(path);
        } while (FindNextFileW(find, &data));
        FindClose(find);
    }
    ok(RemoveDirectoryW(dir), "cannot remove %s: error %lu\n", wine_dbgstr_w(dir),
            GetLastError());
}

/* The service can still save, change and remove an entry there. */
static void check_store_writable(void)
{
    IBackgroundCopyJob *job;
    GUID id;
    HRESULT hr;

    job = create_job(L"store acl", BG_JOB_TYPE_DOWNLOAD, &id);
    if (!job) return;
    ok(entry_exists(&id, L".bits"), "no entry for the new job\n");
    hr = IBackgroundCopyJob_SetDescription(job, L"saved again");
    ok(hr == S_OK, "SetDescription: %#lx\n", hr);
    hr = IBackgroundCopyJob_Cancel(job);
    ok(hr == S_OK, "Cancel: %#lx\n", hr);
    ok(!entry_exists(&id, L".bits"), "entry of the cancelled job stays\n");
    IBackgroundCopyJob_Release(job);
}

START_TEST(storeacl)
{
    WCHAR dir[MAX_PATH];

    if (!bits_test_init()) return;
    store_dir(dir);
    /* An existing directory open to everyone is corrected at start. */
    if (open_to_everyone(dir))
    {
        ok(everyone_allowed(dir), "Everyone was not given access\n");
        if (bitsctl_restart(NULL, NULL, 0, NULL, NULL))
        {
            ok(!everyone_allowed(dir), "Everyone keeps access\n");
            check_store_dacl(dir);
            check_store_writable();
        }
    }
    /* A directory the service makes. */
    if (test_manager && bitsctl_restart(NULL, NULL, 0, remove_empty_store, dir))
    {
        ok(GetFileAttributesW(dir) != INVALID_FILE_ATTRIBUTES, "no store directory\n");
        check_store_dacl(dir);
        check_store_writable();
    }
    bits_test_cleanup();
}

/* ---- commitowner: entries written by hand ---- */

struct blob
{
    BYTE data[8192];
    DWORD size;
};

static void put_bytes(struct blob *blob, const void *data, DWORD size)
{
    if (blob->size + size > sizeof(blob->data)) return;
    memcpy(blob->data + blob->size, data, size);
    blob->size += size;
}

static void put_u32_raw(struct blob *blob, DWORD value)
{
    BYTE bytes[4] = { value, value >> 8, value >> 16, value >> 24 };

    put_bytes(blob, bytes, 4);
}

static void put_field(struct blob *blob, DWORD tag, const void *data, DWORD size)
{
    put_u32_raw(blob, tag);
    put_u32_raw(blob, size);
    put_bytes(blob, data, size);
}

static void put_u32(struct blob *blob, DWORD tag, DWORD value)
{
    put_u32_raw(blob, tag);
    put_u32_raw(blob, 4);
    put_u32_raw(blob, value);
}

static void put_string(struct blob *blob, DWORD tag, const WCHAR *str)
{
    put_field(blob, tag, str, wcslen(str) * sizeof(WCHAR));
}

static DWORD crc32(const BYTE *data, DWORD size)
{
    DWORD crc = ~0u;
    int bit;

    while (size--)
    {
        crc ^= *data++;
        for (bit = 0; bit < 8; bit++) crc = crc & 1 ? 0xedb88320 ^ (crc >> 1) : crc >> 1;
    }
    return ~crc;
}

/* A download job in TRANSFERRED whose Complete saved its intent (COMMITTING) and its caller,
 * with one file of SIZE bytes in TEMP to become LOCAL. */
static BOOL write_committing_entry(const GUID *id, PSID owner, const void *committer,
        DWORD committer_size, const WCHAR *temp, const WCHAR *local, DWORD size)
{
    static const BYTE magic[8] = { 'B', 'I', 'T', 'S', 'J', 'O', 'B', 0x1a };
    struct blob entry = { { 0 }, 0 }, file = { { 0 }, 0 };
    WCHAR path[MAX_PATH], name[256];
    DWORD payload, written;
    HANDLE handle;
    BOOL ret;

    make_job_name(L"crafted commit", name, ARRAY_SIZE(name));
    put_string(&file, F_REMOTE, L"http://127.0.0.1:1/file/crafted");
    put_string(&file, F_LOCAL, local);
    put_string(&file, F_TEMP, temp);
    put_u32_raw(&file, F_SIZES);
    put_u32_raw(&file, 16);
    put_u32_raw(&file, size);
    put_u32_raw(&file, 0);
    put_u32_raw(&file, size);
    put_u32_raw(&file, 0);
    put_u32(&file, F_FLAGS, 0);

    entry.size = HEADER_SIZE;
    put_field(&entry, T_ID, id, sizeof(*id));
    put_u32(&entry, T_TYPE, BG_JOB_TYPE_DOWNLOAD);
    put_u32(&entry, T_STATE, BG_JOB_STATE_TRANSFERRED);
    put_u32(&entry, T_COMMITTING, 1);
    put_field(&entry, T_COMMITTER, committer, committer_size);
    put_field(&entry, T_OWNER_SID, owner, GetLengthSid(owner));
    put_string(&entry, T_DISPLAY_NAME, name);
    put_field(&entry, T_FILE, file.data, file.size);

    payload = entry.size - HEADER_SIZE;
    entry.size = 0;
    put_bytes(&entry, magic, sizeof(magic));
    put_u32_raw(&entry, 1);
    put_u32_raw(&entry, HEADER_SIZE);
    put_u32_raw(&entry, payload);
    put_u32_raw(&entry, crc32(entry.data + HEADER_SIZE, payload));
    put_u32_raw(&entry, 1);
    put_u32_raw(&entry, 0);

    bitsctl_entry_path(id, L".bits", path);
    handle = CreateFileW(path, GENERIC_WRITE, 0, NULL, CREATE_NEW, 0, NULL);
    ok(handle != INVALID_HANDLE_VALUE, "cannot create %s: error %lu\n", wine_dbgstr_w(path),
            GetLastError());
    if (handle == INVALID_HANDLE_VALUE) return FALSE;
    ret = WriteFile(handle, entry.data, HEADER_SIZE + payload, &written, NULL);
    ok(ret && written == HEADER_SIZE + payload, "cannot write %s: error %lu\n",
            wine_dbgstr_w(path), GetLastError());
    CloseHandle(handle);
    return ret;
}

struct crafted
{
    GUID id[2];
    PSID user;
    WCHAR *temp[2];
    WCHAR *local[2];
    BOOL written;
};

static const char crafted_data[] = "bytes of a Complete interrupted by a crash\n";

/* Between the stop and the start: one sound entry, one with a malformed caller. */
static void write_crafted(void *context)
{
    static const BYTE bad_sid[3] = { 1, 5, 0 };
    struct crafted *crafted = context;

    crafted->written = write_test_file(crafted->temp[0], crafted_data)
            && write_test_file(crafted->temp[1], crafted_data)
            && write_committing_entry(&crafted->id[0], crafted->user, crafted->user,
                    GetLengthSid(crafted->user), crafted->temp[0], crafted->local[0],
                    sizeof(crafted_data) - 1)
            && write_committing_entry(&crafted->id[1], crafted->user, bad_sid, sizeof(bad_sid),
                    crafted->temp[1], crafted->local[1], sizeof(crafted_data) - 1);
}

static PSID get_file_owner(const WCHAR *path, PSECURITY_DESCRIPTOR *sd)
{
    PSID owner = NULL;

    *sd = NULL;
    if (GetNamedSecurityInfoW(path, SE_FILE_OBJECT, OWNER_SECURITY_INFORMATION, &owner, NULL,
            NULL, NULL, sd))
        return NULL;
    return owner;
}

START_TEST(commitowner)
{
    struct crafted crafted;
    PSECURITY_DESCRIPTOR sd;
    WCHAR *dir;
    PSID owner;
    char data[128];
    DWORD size;
    HANDLE file;
    int i;

    if (!bits_test_init()) return;
    memset(&crafted, 0, sizeof(crafted));
    dir = make_test_dir(L"commitowner");
    crafted.user = get_user_sid();
    ok(crafted.user != NULL, "no user SID\n");
    for (i = 0; i < 2; i++)
    {
        CoCreateGuid(&crafted.id[i]);
        crafted.temp[i] = dir_file(dir, i ? L"BIT2.tmp" : L"BIT1.tmp");
        crafted.local[i] = dir_file(dir, i ? L"damaged.txt" : L"committed.txt");
    }
    if (!dir || !crafted.user || !bitsctl_restart(NULL, NULL, 0, write_crafted, &crafted))
        goto done;
    ok(crafted.written, "entries not written\n");

    /* Finished at load: renamed, given to the saved caller, and the job gone. */
    ok(!job_found(&crafted.id[0]), "the completed job is queued\n");
    ok(!entry_exists(&crafted.id[0], L".bits"), "the completed job's entry stays\n");
    ok(!file_exists(crafted.temp[0]), "the temporary file stays\n");
    file = CreateFileW(crafted.local[0], GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0,
            NULL);
    ok(file != INVALID_HANDLE_VALUE, "no saved file: %s\n", dir_listing(dir));
    if (file != INVALID_HANDLE_VALUE)
    {
        ok(ReadFile(file, data, sizeof(data), &size, NULL) && size == sizeof(crafted_data) - 1
                && !memcmp(data, crafted_data, size), "the saved file differs\n");
        CloseHandle(file);
        owner = get_file_owner(crafted.local[0], &sd);
        ok(owner && EqualSid(owner, crafted.user), "owner %s, saved caller %s\n",
                debugstr_sid(owner), debugstr_sid(crafted.user));
        LocalFree(sd);
    }

    /* A caller that is no SID: the entry is damaged, set aside, its files left alone. */
    ok(!job_found(&crafted.id[1]), "the damaged job is queued\n");
    ok(!entry_exists(&crafted.id[1], L".bits"), "the damaged entry stays in place\n");
    ok(entry_exists(&crafted.id[1], L".bits.bad"), "the damaged entry is not set aside\n");
    ok(file_exists(crafted.temp[1]) && !file_exists(crafted.local[1]),
            "the damaged entry's Complete went on: %s\n", dir_listing(dir));
done:
    {
        WCHAR path[MAX_PATH];

        bitsctl_entry_path(&crafted.id[1], L".bits.bad", path);
        DeleteFileW(path);
    }
    for (i = 0; i < 2; i++)
    {
        CoTaskMemFree(crafted.temp[i]);
        CoTaskMemFree(crafted.local[i]);
    }
    free(crafted.user);
    remove_test_dir(dir);
    bits_test_cleanup();
}

/* ---- notifyrestart ---- */

/* The lines the notify command line appended to PATH. */
static unsigned int count_runs(const WCHAR *path)
{
    char data[4096];
    unsigned int count = 0;
    DWORD size = 0, i;
    HANDLE file;

    file = CreateFileW(path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
            NULL, OPEN_EXISTING, 0, NULL);
    if (file == INVALID_HANDLE_VALUE) return 0;
    ReadFile(file, data, sizeof(data), &size, NULL);
    CloseHandle(file);
    for (i = 0; i < size; i++) if (data[i] == '\n') count++;
    return count;
}

static BOOL wait_runs(const WCHAR *path, unsigned int count, DWORD timeout_ms)
{
    ULONGLONG deadline = GetTickCount64() + timeout_ms;

    while (count_runs(path) < count)
    {
        if (GetTickCount64() >= deadline) return FALSE;
        Sleep(200);
    }
    return TRUE;
}

/* Whether the job's entry says its notification was delivered (store.c's NOTIFIED). */
static BOOL entry_notified(const GUID *id)
{
    WCHAR path[MAX_PATH];
    BYTE data[16384];
    DWORD size = 0, at, tag, len;
    HANDLE file;

    bitsctl_entry_path(id, L".bits", path);
    file = CreateFileW(path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
            NULL, OPEN_EXISTING, 0, NULL);
    if (file == INVALID_HANDLE_VALUE) return FALSE;
    ReadFile(file, data, sizeof(data), &size, NULL);
    CloseHandle(file);
    for (at = HEADER_SIZE; at + 8 <= size; at += 8 + len)
    {
        memcpy(&tag, data + at, 4);
        memcpy(&len, data + at + 4, 4);
        if (tag == T_NOTIFIED) return TRUE;
    }
    return FALSE;
}

static BOOL wait_notified(const GUID *id, DWORD timeout_ms)
{
    ULONGLONG deadline = GetTickCount64() + timeout_ms;

    while (!entry_notified(id))
    {
        if (GetTickCount64() >= deadline) return FALSE;
        Sleep(200);
    }
    return TRUE;
}

/* While the service is stopped: each command line ran once. */
static void count_both(void *context)
{
    WCHAR **markers = context;

    ok(count_runs(markers[0]) == 1 && count_runs(markers[1]) == 1, "runs %u and %u\n",
            count_runs(markers[0]), count_runs(markers[1]));
}

/* A job that runs "<this exe> notifycmd MARKER CODE" when TRANSFERRED. */
static IBackgroundCopyJob *create_notify_job(const WCHAR *tag, const char *spec,
        const WCHAR *local, const WCHAR *marker, int code, GUID *id)
{
    IBackgroundCopyJob2 *job2;
    IBackgroundCopyJob *job;
    WCHAR exe[MAX_PATH], parameters[3 * MAX_PATH];
    HRESULT hr;

    job = create_transfer_job(tag, id);
    if (!job) return NULL;
    add_server_file(job, spec, local);
    hr = IBackgroundCopyJob_SetNotifyFlags(job, BG_NOTIFY_JOB_TRANSFERRED);
    ok(hr == S_OK, "SetNotifyFlags: %#lx\n", hr);
    /* No second run before the restart. */
    hr = IBackgroundCopyJob_SetMinimumRetryDelay(job, 3600);
    ok(hr == S_OK, "SetMinimumRetryDelay: %#lx\n", hr);
    GetModuleFileNameW(NULL, exe, ARRAY_SIZE(exe));
    swprintf(parameters, ARRAY_SIZE(parameters), L"\"%ls\" notifycmd \"%ls\" %d", exe, marker,
            code);
    hr = IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJob2, (void **)&job2);
    ok(hr == S_OK, "QueryInterface(Job2): %#lx\n", hr);
    if (SUCCEEDED(hr))
    {
        hr = IBackgroundCopyJob2_SetNotifyCmdLine(job2, exe, parameters);
        ok(hr == S_OK, "SetNotifyCmdLine: %#lx\n", hr);
        IBackgroundCopyJob2_Release(job2);
    }
    hr = IBackgroundCopyJob_Resume(job);
    ok(hr == S_OK, "Resume: %#lx\n", hr);
    return job;
}

START_TEST(notifyrestart)
{
    IBackgroundCopyJob *jobs[2] = { 0 };
    WCHAR *dir, *markers[2] = { 0 }, *locals[2] = { 0 };
    ULONGLONG deadline;
    GUID ids[2];
    HRESULT hr;
    int i;

    if (!server_start()) return;
    if (!bits_test_init()) return;
    dir = make_test_dir(L"notifyrestart");
    if (!dir) goto done;
    markers[0] = dir_file(dir, L"failed.txt");
    markers[1] = dir_file(dir, L"handled.txt");
    locals[0] = dir_file(dir, L"failed.bin");
    locals[1] = dir_file(dir, L"handled.bin");
    /* [0]: the command line fails, so the notification stays due; [1]: it handles it. */
    jobs[0] = create_notify_job(L"notify fails", "durable-notify-0?size=1000", locals[0],
            markers[0], 1, &ids[0]);
    jobs[1] = create_notify_job(L"notify handled", "durable-notify-1?size=1000", locals[1],
            markers[1], 0, &ids[1]);
    if (!jobs[0] || !jobs[1]) goto done;
    for (i = 0; i < 2; i++)
    {
        ok(wait_for_state(jobs[i], BG_JOB_STATE_TRANSFERRED, WAIT_MS), "job %d: state %u\n", i,
                get_job_state(jobs[i]));
        ok(wait_runs(markers[i], 1, WAIT_MS), "job %d: the command line did not run\n", i);
    }
    /* The service saw the second one's exit code and saved the delivery. */
    ok(wait_notified(&ids[1], WAIT_MS), "the handled notification is not saved\n");
    ok(!entry_notified(&ids[0]), "the failed notification is saved as delivered\n");

    if (!bitsctl_restart(jobs, NULL, 2, count_both, markers)) goto done;
    ok(wait_runs(markers[0], 2, WAIT_MS), "the failed command line did not run again\n");
    /* Both were loaded together: a second run of the handled one would come about as soon. */
    deadline = GetTickCount64() + 3000;
    while (GetTickCount64() < deadline && count_runs(markers[1]) == 1) Sleep(200);
    ok(count_runs(markers[1]) == 1, "the handled command line ran %u times\n",
            count_runs(markers[1]));
    for (i = 0; i < 2; i++)
    {
        hr = IBackgroundCopyManager_GetJob(test_manager, &ids[i], &jobs[i]);
        ok(hr == S_OK, "job %d: GetJob %#lx\n", i, hr);
        if (SUCCEEDED(hr))
            ok(get_job_state(jobs[i]) == BG_JOB_STATE_TRANSFERRED, "job %d: state %u\n", i,
                    get_job_state(jobs[i]));
    }
done:
    for (i = 0; i < 2; i++)
    {
        cancel_job(jobs[i]);
        CoTaskMemFree(markers[i]);
        CoTaskMemFree(locals[i]);
    }
    remove_test_dir(dir);
    bits_test_cleanup();
    server_stop();
}

/* ---- credentials ---- */

/* How often the entry holds the bytes of TEXT (UTF-16LE, no terminator). */
static unsigned int entry_count(const GUID *id, const WCHAR *text)
{
    WCHAR path[MAX_PATH];
    size_t len = wcslen(text) * sizeof(WCHAR);
    unsigned int found = 0;
    BYTE *data = NULL;
    DWORD size = 0, i;
    HANDLE file;

    bitsctl_entry_path(id, L".bits", path);
    file = CreateFileW(path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
            NULL, OPEN_EXISTING, 0, NULL);
    ok(file != INVALID_HANDLE_VALUE, "cannot open the entry: %lu\n", GetLastError());
    if (file == INVALID_HANDLE_VALUE) return 0;
    size = GetFileSize(file, NULL);
    if (size != INVALID_FILE_SIZE && (data = malloc(size + 1))
            && ReadFile(file, data, size, &size, NULL))
        for (i = 0; i + len <= size; i++) if (!memcmp(data + i, text, len)) found++;
    free(data);
    CloseHandle(file);
    return found;
}

START_TEST(credentials)
{
    static const WCHAR password[] = L"pass-durable-7f3c";
    IBackgroundCopyJob2 *job2 = NULL;
    IBackgroundCopyJob *job = NULL;
    BG_AUTH_CREDENTIALS credentials;
    WCHAR *dir, *local = NULL;
    HRESULT hr;
    GUID id;

    if (!server_start()) return;
    if (!bits_test_init()) return;
    dir = make_test_dir(L"credentials");
    if (!dir) goto done;
    local = dir_file(dir, L"secret.bin");
    job = create_transfer_job(L"durable credentials", &id);
    if (!job) goto done;
    add_server_file(job, "durable-auth?size=30000&auth=carol:pass-durable-7f3c", local);
    hr = IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJob2, (void **)&job2);
    ok(hr == S_OK, "QueryInterface(Job2): %#lx\n", hr);
    if (FAILED(hr)) goto done;
    memset(&credentials, 0, sizeof(credentials));
    credentials.Target = BG_AUTH_TARGET_SERVER;
    credentials.Scheme = BG_AUTH_SCHEME_BASIC;
    credentials.Credentials.Basic.UserName = (WCHAR *)L"carol";
    credentials.Credentials.Basic.Password = (WCHAR *)password;
    hr = IBackgroundCopyJob2_SetCredentials(job2, &credentials);
    ok(hr == S_OK, "SetCredentials: %#lx\n", hr);
    IBackgroundCopyJob2_Release(job2);
    /* Once: in the remote name, where the test server's "auth=" option wants it. */
    ok(entry_count(&id, password) == 1, "the entry holds the password in clear text\n");
    ok(entry_count(&id, L"carol") == 2, "the entry does not hold the user name\n");

    if (!bitsctl_restart(&job, &id, 1, NULL, NULL)) goto done;
    hr = IBackgroundCopyJob_Resume(job);
    ok(hr == S_OK, "Resume: %#lx\n", hr);
    ok(wait_for_state(job, BG_JOB_STATE_TRANSFERRED, WAIT_MS), "state %u after the restart\n",
            get_job_state(job));
    hr = IBackgroundCopyJob_Complete(job);
    ok(hr == S_OK, "Complete: %#lx\n", hr);
    ok(server_verify_file(local, "durable-auth", 30000), "wrong content\n");
done:
    cancel_job(job);
    CoTaskMemFree(local);
    remove_test_dir(dir);
    bits_test_cleanup();
    server_stop();
}

/* The notify command line of notifyrestart: "notifycmd MARKER CODE" appends a line to MARKER
 * and exits with CODE, without the summary line of a unit. */
START_TEST(notifycmd)
{
    char **argv;
    HANDLE file;
    DWORD written;
    int argc = winetest_get_mainargs(&argv);

    if (argc < 4) return;
    file = CreateFileA(argv[2], FILE_APPEND_DATA, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL,
            OPEN_ALWAYS, 0, NULL);
    if (file != INVALID_HANDLE_VALUE)
    {
        WriteFile(file, "run\n", 4, &written, NULL);
        CloseHandle(file);
    }
    ExitProcess(atoi(argv[3]));
}
