/* Durable job queue (wire-and-tools.md §4.4): one file per live job, written to a temporary
 * name, flushed, then renamed over the old one, so a crash at any moment leaves either the
 * previous version or the new one, never a mix.  Only the engine calls this file, and only
 * its saver thread writes (engine.c), so no two writes of one entry ever race.
 *
 * Why one file per job rather than an append-only journal: a save costs a write, a flush and
 * a rename (about 0.6 ms here) instead of an fsync'd append (about 0.2 ms), but there is no
 * compaction, no replay, and a damaged entry costs one job, never the queue.  Saves are rare
 * anyway: the engine saves on client calls and state changes, and batches byte progress
 * (engine.c, PROGRESS_SAVE_*), since the temporary files hold the bytes and the engine
 * resumes from their real size.
 *
 * Where: %ALLUSERSPROFILE%\Microsoft\Network\Downloader (created when missing), that is the
 * common application data folder (C:\ProgramData), asked of the shell: a service's environment
 * is whatever services.exe started with, and Wine's has ALLUSERSPROFILE=C:\users\Public in a
 * freshly made prefix but C:\ProgramData later, which would lose the queue.
 *
 *     job-{GUID}.bits      the entry of a live job (not ACKNOWLEDGED or CANCELLED)
 *     job-{GUID}.tmp       a save in progress; removed at start, since the rename never came
 *     job-{GUID}.bits.bad  an entry that could not be read, set aside at start and kept
 *     job-{GUID}.final     empty: the job became final but its entry could not be removed
 *                          (another process holds it open without FILE_SHARE_DELETE); the
 *                          entry is never loaded while this exists, and both go at the next
 *                          chance (store_delete(), at start or by the engine's retries)
 *
 * The directory is the service's own: created, and corrected at every start, with a protected
 * DACL that gives full control to LocalSystem and BUILTIN\Administrators only, inherited by
 * the entries, so no other user can read a job's settings or forge an entry.  Under Wine,
 * whose services run as the user, that user is an administrator and the DACL becomes mode
 * 0770 on the Unix directory.
 *
 * Format, all integers little-endian:
 *
 *     offset  size  header
 *     0       8     magic "BITSJOB" and 0x1a
 *     8       4     format version, STORE_VERSION (1); another one is set aside
 *     12      4     header size, 32
 *     16      4     payload size in bytes: the file is exactly header + payload
 *     20      4     CRC-32 of the payload (IEEE 802.3, reflected polynomial 0xEDB88320)
 *     24      8     save counter of the job, for diagnostics
 *
 * The payload is a list of fields, each a 32-bit tag, a 32-bit length in bytes and that many
 * bytes.  A reader skips tags it does not know (so a version may gain optional fields), but a
 * known tag with the wrong length, a field running past the end, or a required field missing
 * makes the entry damaged.  Values: u32 and u64 integers, GUIDs (16 bytes as in memory),
 * FILETIMEs (u64), and strings as UTF-16LE without terminator (length even, at most
 * STORE_MAX_STRING characters; an absent field is a NULL string).  Job fields (T_*):
 *
 *     ID guid (required, must match the file name), TYPE u32, STATE u32, COMMITTING u32 (a
 *     Complete had saved its intent: the load finishes it), OWNER_SID bytes (required, a valid
 *     SID), INTEGRITY u32 hr + u32 level, ELEVATION u32 hr + u32 elevated, TIMES 3 FILETIMEs
 *     (creation, modification, transfer completion), ERROR_COUNT u32, ERROR u32 code + u32
 *     context + u32 file index (~0: none), PROTOCOL string, ACTIVE_MS u64, REPLY_PROGRESS
 *     u64 total + u64 transferred, COMMITTER bytes (a valid SID, only with COMMITTING: the
 *     caller of that Complete, who gets the files the load saves; without it, the owner),
 *     NOTIFIED u32 (only in TRANSFERRED or ERROR: the notification of this entry into the
 *     state was delivered, so the load does not deliver it again, behaviour.md §6.7), then
 *     for upload jobs (struct upload_session, struct job_reply; each absent when unset) the
 *     upload session: UPLOAD_SESSION string (BITS-Session-Id), UPLOAD_HOST string
 *     (BITS-Host-Id) and UPLOAD_HOST_TIMEOUT u32 (its fallback timeout in seconds, ~0:
 *     never), and the reply: REPLY_URL, REPLY_TEMP and REPLY_VALIDATOR strings, REPLY_TIME
 *     FILETIME; then one tag per struct job_props member but notify_iface (callbacks are not
 *     persistent, behaviour.md §6; CERT is has + location + by_hash + 20-byte hash;
 *     HELPER_TOKEN_FLAGS, tag 72, absent when 0: the helper token itself is never saved),
 *     then one FILE per file in job order.  The bytes of an upload that the server acknowledged are
 *     the transferred size of its FILE.
 *
 * FILE holds a nested field list: REMOTE and LOCAL strings (required), TEMP string, SIZES u64
 * total + u64 transferred, FLAGS u32 (1 completed, 2 validated), VALIDATOR string,
 * REMOTE_TIME FILETIME, and from tag 16 on the parts of a file (struct job_file), each absent
 * when empty, as arrays of u64 offset + u64 length: RANGES (those of AddFileWithRanges, in the
 * caller's order; the bytes transferred say how far they got, one after the other), and for an
 * on-demand file (the job's ON_DEMAND u32, tag 64) FILLED and WANTED (sorted spans that do not
 * touch) and POSITION u64.  At most STORE_MAX_RANGES ranges an array.
 *
 * CREDENTIAL (tag 80, one per credential SetCredentials set) holds a nested field list:
 * TARGET and SCHEME u32 (required, valid BG_AUTH_TARGET and BG_AUTH_SCHEME values), USER
 * string, PASSWORD bytes: the UTF-16LE password sealed with CryptProtectData for the machine,
 * so the entry never holds it in clear text.  A password that does not unseal (an entry
 * copied from another machine) drops that credential, not the job.  A job has at most STORE_MAX_FILES files and an entry at most
 * STORE_MAX_SIZE bytes: every string is bounded already (job.c, file.c).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdlib.h>

#include "qmgr_private.h"
#include <aclapi.h>
#include <dpapi.h>
#include <sddl.h>
#include <shlobj.h>

DEFAULT_DEBUG_CHANNEL(qmgr);

#define STORE_VERSION       1
#define HEADER_SIZE         32
#define STORE_MAX_STRING    32768           /* characters; custom headers are the longest */
#define STORE_MAX_RANGES    (1u << 20)      /* ranges in one array: 16 MB */
#define STORE_MAX_SIZE      (256u << 20)    /* STORE_MAX_FILES files of bounded names fit */
#define STORE_DIR           L"\\Microsoft\\Network\\Downloader"
#define GUID_CHARS          39              /* "{...}" and the terminator */
/* The directory's DACL (see above): protected; LocalSystem and Administrators, full control,
 * inherited by objects and containers. */
#define STORE_SDDL          L"D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)"

static const BYTE magic[8] = { 'B', 'I', 'T', 'S', 'J', 'O', 'B', 0x1a };

enum tag
{
    T_ID = 1, T_TYPE, T_STATE, T_COMMITTING, T_OWNER_SID, T_INTEGRITY, T_ELEVATION, T_TIMES,
    T_ERROR_COUNT, T_ERROR, T_PROTOCOL, T_ACTIVE_MS, T_REPLY_PROGRESS, T_COMMITTER, T_NOTIFIED,
    T_UPLOAD_SESSION, T_UPLOAD_HOST, T_UPLOAD_HOST_TIMEOUT, T_REPLY_URL, T_REPLY_TEMP,
    T_REPLY_VALIDATOR, T_REPLY_TIME,
    T_DISPLAY_NAME = 32, T_DESCRIPTION, T_PRIORITY, T_NOTIFY_FLAGS, T_RETRY_DELAY,
    T_NO_PROGRESS_TIMEOUT, T_PROXY_USAGE, T_PROXY_LIST, T_PROXY_BYPASS_LIST, T_NOTIFY_PROGRAM,
    T_NOTIFY_PARAMETERS, T_REPLY_FILE_NAME, T_FILE_ACL_FLAGS, T_PEER_CACHING_FLAGS,
    T_MAX_DOWNLOAD_TIME, T_COST_FLAGS, T_NOTIFY_CLSID, T_DYNAMIC_CONTENT, T_HIGH_PERFORMANCE,
    T_MAX_DOWNLOAD_SIZE, T_STORED_CREDENTIALS, T_NOTIFICATION_INTERVAL, T_CUSTOM_HEADERS,
    T_HEADERS_WRITE_ONLY, T_SECURITY_FLAGS, T_HTTP_METHOD, T_CERT, T_CERT_STORE_NAME,
    T_CERT_SUBJECT,
    T_ON_DEMAND = 64,
    T_HELPER_TOKEN_FLAGS = 72,
    T_CREDENTIAL = 80,
    T_FILE = 96,
    F_REMOTE = 1, F_LOCAL, F_TEMP, F_SIZES, F_FLAGS, F_VALIDATOR, F_REMOTE_TIME,
    F_RANGES = 16, F_FILLED, F_WANTED, F_POSITION,
    C_TARGET = 1, C_SCHEME, C_USER, C_PASSWORD,
};

#define FILE_COMPLETED  1
#define FILE_VALIDATED  2

/* The static protocol names of struct job_error, so a loaded error points at one of them. */
static const WCHAR *const protocols[] = { L"http", L"https", L"file" };

/* The directory, set once by store_init() before the engine saves or loads anything. */
static WCHAR store_dir[MAX_PATH];
static DWORD crc_table[256];

static BOOL CALLBACK init_crc_table(INIT_ONCE *once, void *param, void **context)
{
    DWORD i, j, c;

    (void)once; (void)param; (void)context;
    for (i = 0; i < 256; i++)
    {
        for (c = i, j = 0; j < 8; j++) c = c & 1 ? 0xedb88320 ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
    return TRUE;
}

static DWORD crc32(const BYTE *data, size_t size)
{
    static INIT_ONCE once = INIT_ONCE_STATIC_INIT;
    DWORD crc = ~0u;

    InitOnceExecuteOnce(&once, init_crc_table, NULL, NULL);
    while (size--) crc = crc_table[(crc ^ *data++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

/* Creates every missing directory of path. */
static HRESULT create_directories(WCHAR *path)
{
    WCHAR *p;
    DWORD error;

    for (p = path + 3; ; p++)   /* after "C:\" */
    {
        if (*p && *p != '\\') continue;
        if (*p) *p = 0;
        else p = NULL;
        if (!CreateDirectoryW(path, NULL) && ((error = GetLastError()) != ERROR_ALREADY_EXISTS
                || !(GetFileAttributesW(path) & FILE_ATTRIBUTE_DIRECTORY)))
        {
            if (p) *p = '\\';
            return HRESULT_FROM_WIN32(error == ERROR_ALREADY_EXISTS ? ERROR_DIRECTORY : error);
        }
        if (!p) return S_OK;
        *p = '\\';
    }
}

/* Whether the DACL of the directory is wanted, ACE for ACE, and protected. */
static BOOL has_dacl(const WCHAR *path, ACL *wanted)
{
    SECURITY_DESCRIPTOR_CONTROL control;
    PSECURITY_DESCRIPTOR sd;
    ACE_HEADER *ace, *wanted_ace;
    DWORD revision, i;
    ACL *dacl;
    BOOL same;

    if (GetNamedSecurityInfoW(path, SE_FILE_OBJECT, DACL_SECURITY_INFORMATION, NULL, NULL, &dacl,
                              NULL, &sd))
        return FALSE;
    same = GetSecurityDescriptorControl(sd, &control, &revision) && (control & SE_DACL_PROTECTED)
            && dacl && dacl->AceCount == wanted->AceCount;
    for (i = 0; same && i < wanted->AceCount; i++)
    {
        same = GetAce(dacl, i, (void **)&ace) && GetAce(wanted, i, (void **)&wanted_ace)
                && ace->AceSize == wanted_ace->AceSize && !memcmp(ace, wanted_ace, ace->AceSize);
    }
    LocalFree(sd);
    return same;
}

/* Creates the store's directory with the DACL of STORE_SDDL, or gives an existing one that
 * DACL; on Windows the change reaches the entries inside too.  Its parent exists. */
static HRESULT create_store_dir(WCHAR *path)
{
    SECURITY_ATTRIBUTES sa = { sizeof(sa), NULL, FALSE };
    PSECURITY_DESCRIPTOR sd;
    BOOL present, defaulted;
    DWORD error, attributes;
    HRESULT hr = S_OK;
    ACL *dacl;

    if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(STORE_SDDL, SDDL_REVISION_1, &sd,
                                                              NULL))
        return HRESULT_FROM_WIN32(GetLastError());
    sa.lpSecurityDescriptor = sd;
    error = CreateDirectoryW(path, &sa) ? ERROR_SUCCESS : GetLastError();
    attributes = GetFileAttributesW(path);
    if (error == ERROR_SUCCESS)
        TRACE("created %s\n", debugstr_w(path));
    else if (error != ERROR_ALREADY_EXISTS)
        hr = HRESULT_FROM_WIN32(error);
    else if (attributes == INVALID_FILE_ATTRIBUTES || !(attributes & FILE_ATTRIBUTE_DIRECTORY))
        hr = HRESULT_FROM_WIN32(ERROR_DIRECTORY);
    else if (!GetSecurityDescriptorDacl(sd, &present, &dacl, &defaulted) || !dacl)
        hr = E_UNEXPECTED;
    else if (!has_dacl(path, dacl))
    {
        /* Wine renders a DACL as mode bits and reads back other ACEs: it is set every time.
         * SetNamedSecurityInfoW also gives the entries inside the inherited ACEs; Wine's (8.0)
         * adds the parent's inheritable ACEs even to a protected DACL, which SetFileSecurityW,
         * setting the descriptor as given (protected by its control bits), takes back. */
        TRACE("setting the DACL of %s\n", debugstr_w(path));
        error = SetNamedSecurityInfoW(path, SE_FILE_OBJECT, DACL_SECURITY_INFORMATION
                                      | PROTECTED_DACL_SECURITY_INFORMATION, NULL, NULL, dacl,
                                      NULL);
        if (!error && !SetFileSecurityW(path, DACL_SECURITY_INFORMATION, sd))
            error = GetLastError();
        /* Still usable: a store others may read beats jobs that do not survive. */
        if (error) ERR("cannot restrict access to %s, error %lu\n", debugstr_w(path), error);
    }
    LocalFree(sd);
    return hr;
}

HRESULT store_init(void)
{
    WCHAR path[MAX_PATH];
    HRESULT hr;

    hr = SHGetFolderPathW(NULL, CSIDL_COMMON_APPDATA, NULL, SHGFP_TYPE_CURRENT, path);
    if (FAILED(hr) || path[1] != ':' || wcslen(path) + wcslen(STORE_DIR) > ARRAYSIZE(path) - 64)
    {
        ERR("no common application data folder, hr %#lx\n", hr);
        return FAILED(hr) ? hr : HRESULT_FROM_WIN32(ERROR_PATH_NOT_FOUND);
    }
    wcscat(path, STORE_DIR);
    /* The parents are shared folders: only the last one gets the store's DACL. */
    *wcsrchr(path, '\\') = 0;
    hr = create_directories(path);
    wcscat(path, wcsrchr(STORE_DIR, '\\'));
    if (SUCCEEDED(hr)) hr = create_store_dir(path);
    if (FAILED(hr))
    {
        ERR("cannot create %s, hr %#lx\n", debugstr_w(path), hr);
        return hr;
    }
    wcscpy(store_dir, path);
    TRACE("store in %s\n", debugstr_w(store_dir));
    return S_OK;
}

/* dir\job-{GUID}suffix */
static void entry_path(const GUID *id, const WCHAR *suffix, WCHAR *path, size_t size)
{
    WCHAR guid[GUID_CHARS];

    StringFromGUID2(id, guid, ARRAYSIZE(guid));
    swprintf(path, size, L"%ls\\job-%ls%ls", store_dir, guid, suffix);
}

/* ---- Writing ---------------------------------------------------------------------------- */

struct writer
{
    BYTE *data;
    size_t size;
    size_t capacity;
    BOOL failed;                    /* out of memory or too big: the whole save fails */
};

static BYTE *reserve(struct writer *w, size_t size)
{
    BYTE *data;
    size_t capacity;

    if (w->failed) return NULL;
    if (size > STORE_MAX_SIZE - w->size)
    {
        w->failed = TRUE;
        return NULL;
    }
    if (w->size + size > w->capacity)
    {
        capacity = max(w->capacity * 2, w->size + size);
        capacity = max(capacity, 4096);
        data = realloc(w->data, capacity);
        if (!data)
        {
            w->failed = TRUE;
            return NULL;
        }
        w->data = data;
        w->capacity = capacity;
    }
    data = w->data + w->size;
    w->size += size;
    return data;
}

static void put_bytes(struct writer *w, const void *data, size_t size)
{
    BYTE *dst = reserve(w, size);

    if (dst && size) memcpy(dst, data, size);
}

static void put_u32_raw(struct writer *w, DWORD value)
{
    BYTE bytes[4] = { value, value >> 8, value >> 16, value >> 24 };

    put_bytes(w, bytes, sizeof(bytes));
}

static void put_u64_raw(struct writer *w, UINT64 value)
{
    put_u32_raw(w, (DWORD)value);
    put_u32_raw(w, (DWORD)(value >> 32));
}

static void put_field(struct writer *w, DWORD tag, const void *data, size_t size)
{
    put_u32_raw(w, tag);
    put_u32_raw(w, (DWORD)size);
    put_bytes(w, data, size);
}

static void put_u32(struct writer *w, DWORD tag, DWORD value)
{
    put_u32_raw(w, tag);
    put_u32_raw(w, 4);
    put_u32_raw(w, value);
}

static void put_u32x2(struct writer *w, DWORD tag, DWORD a, DWORD b)
{
    put_u32_raw(w, tag);
    put_u32_raw(w, 8);
    put_u32_raw(w, a);
    put_u32_raw(w, b);
}

static void put_u64(struct writer *w, DWORD tag, UINT64 value)
{
    put_u32_raw(w, tag);
    put_u32_raw(w, 8);
    put_u64_raw(w, value);
}

static UINT64 filetime_u64(const FILETIME *time)
{
    return (UINT64)time->dwHighDateTime << 32 | time->dwLowDateTime;
}

static void put_string(struct writer *w, DWORD tag, const WCHAR *str)
{
    size_t len, i;

    if (!str) return;
    len = wcslen(str);
    if (len > STORE_MAX_STRING)
    {
        w->failed = TRUE;
        return;
    }
    put_u32_raw(w, tag);
    put_u32_raw(w, (DWORD)(len * 2));
    for (i = 0; i < len; i++)
    {
        BYTE bytes[2] = { str[i], str[i] >> 8 };
        put_bytes(w, bytes, 2);
    }
}

static void put_guid(struct writer *w, DWORD tag, const GUID *guid)
{
    put_field(w, tag, guid, sizeof(*guid));
}

/* Starts a nested field; returns where its length goes. */
static size_t begin_nested(struct writer *w, DWORD tag)
{
    put_u32_raw(w, tag);
    put_u32_raw(w, 0);
    return w->size - 4;
}

static void end_nested(struct writer *w, size_t length_at)
{
    DWORD len;

    if (w->failed) return;
    len = (DWORD)(w->size - length_at - 4);
    w->data[length_at] = len;
    w->data[length_at + 1] = len >> 8;
    w->data[length_at + 2] = len >> 16;
    w->data[length_at + 3] = len >> 24;
}

/* An array of ranges, each u64 offset + u64 length; nothing when empty. */
static void put_ranges(struct writer *w, DWORD tag, const BG_FILE_RANGE *ranges, DWORD count)
{
    DWORD i;

    if (!count) return;
    if (count > STORE_MAX_RANGES)
    {
        w->failed = TRUE;
        return;
    }
    put_u32_raw(w, tag);
    put_u32_raw(w, count * 16);
    for (i = 0; i < count; i++)
    {
        put_u64_raw(w, ranges[i].InitialOffset);
        put_u64_raw(w, ranges[i].Length);
    }
}

static void put_file(struct writer *w, const struct job_file *file)
{
    size_t at = begin_nested(w, T_FILE);

    put_string(w, F_REMOTE, file->remote_name);
    put_string(w, F_LOCAL, file->local_name);
    put_string(w, F_TEMP, file->temp_name);
    put_u32_raw(w, F_SIZES);
    put_u32_raw(w, 16);
    put_u64_raw(w, file->bytes_total);
    put_u64_raw(w, file->bytes_transferred);
    put_u32(w, F_FLAGS, (file->completed ? FILE_COMPLETED : 0)
            | (file->validated ? FILE_VALIDATED : 0));
    if (file->validator[0]) put_string(w, F_VALIDATOR, file->validator);
    put_u64(w, F_REMOTE_TIME, filetime_u64(&file->remote_time));
    put_ranges(w, F_RANGES, file->ranges, file->range_count);
    put_ranges(w, F_FILLED, file->filled, file->filled_count);
    put_ranges(w, F_WANTED, file->wanted, file->wanted_count);
    if (file->position) put_u64(w, F_POSITION, file->position);
    end_nested(w, at);
}

/* The credentials of SetCredentials, their passwords sealed (see the header). */
static void put_credentials(struct writer *w, const struct job_props *props)
{
    const struct job_credential *credential;
    DATA_BLOB clear, sealed;
    unsigned int target, scheme;
    size_t at;

    for (target = 0; target < AUTH_TARGETS; target++)
        for (scheme = 0; scheme < AUTH_SCHEMES; scheme++)
        {
            credential = &props->credentials[target][scheme];
            if (!credential->set) continue;
            at = begin_nested(w, T_CREDENTIAL);
            put_u32(w, C_TARGET, target + 1);
            put_u32(w, C_SCHEME, scheme + 1);
            put_string(w, C_USER, credential->user);
            if (credential->password)
            {
                clear.pbData = (BYTE *)credential->password;
                clear.cbData = (DWORD)(wcslen(credential->password) * sizeof(WCHAR));
                if (!CryptProtectData(&clear, L"BITS job credential", NULL, NULL, NULL,
                                      CRYPTPROTECT_UI_FORBIDDEN | CRYPTPROTECT_LOCAL_MACHINE,
                                      &sealed))
                {
                    ERR("cannot seal a password, error %lu\n", GetLastError());
                    w->failed = TRUE;
                    return;
                }
                put_field(w, C_PASSWORD, sealed.pbData, sealed.cbData);
                LocalFree(sealed.pbData);
            }
            end_nested(w, at);
        }
}

static void put_props(struct writer *w, const struct job_props *props)
{
    put_string(w, T_DISPLAY_NAME, props->display_name);
    put_string(w, T_DESCRIPTION, props->description);
    put_u32(w, T_PRIORITY, props->priority);
    put_u32(w, T_NOTIFY_FLAGS, props->notify_flags);
    put_u32(w, T_RETRY_DELAY, props->retry_delay);
    put_u32(w, T_NO_PROGRESS_TIMEOUT, props->no_progress_timeout);
    put_u32(w, T_PROXY_USAGE, props->proxy_usage);
    put_string(w, T_PROXY_LIST, props->proxy_list);
    put_string(w, T_PROXY_BYPASS_LIST, props->proxy_bypass_list);
    put_string(w, T_NOTIFY_PROGRAM, props->notify_program);
    put_string(w, T_NOTIFY_PARAMETERS, props->notify_parameters);
    put_string(w, T_REPLY_FILE_NAME, props->reply_file_name);
    put_u32(w, T_FILE_ACL_FLAGS, props->file_acl_flags);
    put_u32(w, T_PEER_CACHING_FLAGS, props->peer_caching_flags);
    put_u32(w, T_MAX_DOWNLOAD_TIME, props->max_download_time);
    put_u32(w, T_COST_FLAGS, props->cost_flags);
    put_guid(w, T_NOTIFY_CLSID, &props->notify_clsid);
    put_u32(w, T_DYNAMIC_CONTENT, props->dynamic_content);
    put_u32(w, T_HIGH_PERFORMANCE, props->high_performance);
    put_u64(w, T_MAX_DOWNLOAD_SIZE, props->max_download_size);
    put_u32(w, T_STORED_CREDENTIALS, props->stored_credentials);
    put_u32(w, T_NOTIFICATION_INTERVAL, props->notification_interval);
    put_string(w, T_CUSTOM_HEADERS, props->custom_headers);
    put_u32(w, T_HEADERS_WRITE_ONLY, props->headers_write_only);
    put_u32(w, T_SECURITY_FLAGS, props->security_flags);
    put_string(w, T_HTTP_METHOD, props->http_method);
    put_u32_raw(w, T_CERT);
    put_u32_raw(w, 12 + sizeof(props->cert_hash));
    put_u32_raw(w, props->has_certificate);
    put_u32_raw(w, props->cert_location);
    put_u32_raw(w, props->cert_by_hash);
    put_bytes(w, props->cert_hash, sizeof(props->cert_hash));
    put_string(w, T_CERT_STORE_NAME, props->cert_store_name);
    put_string(w, T_CERT_SUBJECT, props->cert_subject);
    if (props->on_demand) put_u32(w, T_ON_DEMAND, 1);
    if (props->helper_token_flags) put_u32(w, T_HELPER_TOKEN_FLAGS, props->helper_token_flags);
    put_credentials(w, props);
}

HRESULT store_serialize(const struct store_job *job, ULONGLONG counter, BYTE **out, DWORD *out_size)
{
    struct writer w = { 0 };
    ULONG i;
    DWORD crc, payload;

    *out = NULL;
    *out_size = 0;
    if (job->file_count > STORE_MAX_FILES) return BG_E_TOO_MANY_FILES_IN_JOB;
    reserve(&w, HEADER_SIZE);
    put_guid(&w, T_ID, &job->id);
    put_u32(&w, T_TYPE, job->type);
    put_u32(&w, T_STATE, job->state);
    if (job->committing) put_u32(&w, T_COMMITTING, 1);
    if (job->committing && job->committer)
        put_field(&w, T_COMMITTER, job->committer, GetLengthSid(job->committer));
    if (job->notified) put_u32(&w, T_NOTIFIED, 1);
    put_field(&w, T_OWNER_SID, job->owner.sid, GetLengthSid(job->owner.sid));
    put_u32x2(&w, T_INTEGRITY, job->owner.integrity_hr, job->owner.integrity_level);
    put_u32x2(&w, T_ELEVATION, job->owner.elevation_hr, job->owner.elevated);
    put_u32_raw(&w, T_TIMES);
    put_u32_raw(&w, 24);
    put_u64_raw(&w, filetime_u64(&job->creation_time));
    put_u64_raw(&w, filetime_u64(&job->modification_time));
    put_u64_raw(&w, filetime_u64(&job->completion_time));
    put_u32(&w, T_ERROR_COUNT, job->error_count);
    if (job->has_error)
    {
        put_u32_raw(&w, T_ERROR);
        put_u32_raw(&w, 12);
        put_u32_raw(&w, job->error_code);
        put_u32_raw(&w, job->error_context);
        put_u32_raw(&w, job->error_file);
        put_string(&w, T_PROTOCOL, job->error_protocol);
    }
    put_u64(&w, T_ACTIVE_MS, job->active_ms);
    put_u32_raw(&w, T_REPLY_PROGRESS);
    put_u32_raw(&w, 16);
    put_u64_raw(&w, job->reply_progress.BytesTotal);
    put_u64_raw(&w, job->reply_progress.BytesTransferred);
    if (job->session.id[0]) put_string(&w, T_UPLOAD_SESSION, job->session.id);
    if (job->session.host[0])
    {
        put_string(&w, T_UPLOAD_HOST, job->session.host);
        put_u32(&w, T_UPLOAD_HOST_TIMEOUT, job->session.host_timeout);
    }
    put_string(&w, T_REPLY_URL, job->reply.url);
    put_string(&w, T_REPLY_TEMP, job->reply.temp_name);
    if (job->reply.validator[0]) put_string(&w, T_REPLY_VALIDATOR, job->reply.validator);
    if (filetime_u64(&job->reply.remote_time))
        put_u64(&w, T_REPLY_TIME, filetime_u64(&job->reply.remote_time));
    put_props(&w, &job->props);
    for (i = 0; i < job->file_count; i++) put_file(&w, job->files[i]);
    if (w.failed)
    {
        free(w.data);
        return E_OUTOFMEMORY;
    }

    payload = (DWORD)(w.size - HEADER_SIZE);
    crc = crc32(w.data + HEADER_SIZE, payload);
    w.size = 0;
    put_bytes(&w, magic, sizeof(magic));
    put_u32_raw(&w, STORE_VERSION);
    put_u32_raw(&w, HEADER_SIZE);
    put_u32_raw(&w, payload);
    put_u32_raw(&w, crc);
    put_u64_raw(&w, counter);
    *out = w.data;
    *out_size = HEADER_SIZE + payload;
    return S_OK;
}

HRESULT store_write(const GUID *id, const BYTE *data, DWORD size)
{
    WCHAR path[MAX_PATH], temp[MAX_PATH];
    DWORD written;
    HANDLE file;
    HRESULT hr = S_OK;

    entry_path(id, L".bits", path, ARRAYSIZE(path));
    entry_path(id, L".tmp", temp, ARRAYSIZE(temp));
    file = CreateFileW(temp, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
    if (file == INVALID_HANDLE_VALUE)
    {
        hr = HRESULT_FROM_WIN32(GetLastError());
        ERR("cannot create %s, hr %#lx\n", debugstr_w(temp), hr);
        return hr;
    }
    /* The data must be on disk before the rename makes it the entry. */
    if (!WriteFile(file, data, size, &written, NULL) || written != size
            || !FlushFileBuffers(file))
        hr = HRESULT_FROM_WIN32(GetLastError() ? GetLastError() : ERROR_WRITE_FAULT);
    CloseHandle(file);
    if (SUCCEEDED(hr) && !MoveFileExW(temp, path, MOVEFILE_REPLACE_EXISTING
                                      | MOVEFILE_WRITE_THROUGH))
        hr = HRESULT_FROM_WIN32(GetLastError());
    if (FAILED(hr))
    {
        ERR("cannot save %s, hr %#lx\n", debugstr_w(path), hr);
        DeleteFileW(temp);
    }
    return hr;
}

/* The tombstone of a final job whose entry stays (see the header): empty, on disk before it
 * counts. */
static HRESULT write_tombstone(const WCHAR *path)
{
    HANDLE file;
    DWORD error;

    file = CreateFileW(path, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS,
                       FILE_ATTRIBUTE_NORMAL | FILE_FLAG_WRITE_THROUGH, NULL);
    if (file == INVALID_HANDLE_VALUE) return HRESULT_FROM_WIN32(GetLastError());
    error = FlushFileBuffers(file) ? ERROR_SUCCESS : GetLastError();
    CloseHandle(file);
    if (error == ERROR_SUCCESS) return S_OK;
    DeleteFileW(path);
    return HRESULT_FROM_WIN32(error);
}

HRESULT store_delete(const GUID *id)
{
    WCHAR path[MAX_PATH], tombstone[MAX_PATH];
    DWORD error;
    HRESULT hr;

    entry_path(id, L".bits", path, ARRAYSIZE(path));
    entry_path(id, L".final", tombstone, ARRAYSIZE(tombstone));
    error = DeleteFileW(path) ? ERROR_SUCCESS : GetLastError();
    if (error == ERROR_SUCCESS || error == ERROR_FILE_NOT_FOUND)
    {
        /* A tombstone left alone is harmless: the next start removes it. */
        if (!DeleteFileW(tombstone) && GetLastError() != ERROR_FILE_NOT_FOUND)
            WARN("cannot delete %s, error %lu\n", debugstr_w(tombstone), GetLastError());
        return S_OK;
    }
    if (GetFileAttributesW(tombstone) != INVALID_FILE_ATTRIBUTES) return S_FALSE;
    hr = write_tombstone(tombstone);
    if (SUCCEEDED(hr))
    {
        WARN("cannot delete %s, error %lu: marked final\n", debugstr_w(path), error);
        return S_FALSE;
    }
    ERR("cannot delete %s, error %lu, nor mark it final, hr %#lx\n", debugstr_w(path), error, hr);
    return HRESULT_FROM_WIN32(error);
}

/* ---- Reading ---------------------------------------------------------------------------- */

struct reader
{
    const BYTE *data;
    size_t left;
};

static DWORD get_u32_raw(const BYTE *p)
{
    return p[0] | p[1] << 8 | p[2] << 16 | (DWORD)p[3] << 24;
}

static UINT64 get_u64_raw(const BYTE *p)
{
    return get_u32_raw(p) | (UINT64)get_u32_raw(p + 4) << 32;
}

static void set_filetime(FILETIME *time, UINT64 value)
{
    time->dwLowDateTime = (DWORD)value;
    time->dwHighDateTime = (DWORD)(value >> 32);
}

/* The next field: FALSE at the end, or (with *bad) when it runs past the end. */
static BOOL next_field(struct reader *r, DWORD *tag, const BYTE **data, DWORD *size, BOOL *bad)
{
    if (!r->left) return FALSE;
    if (r->left < 8 || get_u32_raw(r->data + 4) > r->left - 8)
    {
        *bad = TRUE;
        return FALSE;
    }
    *tag = get_u32_raw(r->data);
    *size = get_u32_raw(r->data + 4);
    *data = r->data + 8;
    r->data += 8 + *size;
    r->left -= 8 + *size;
    return TRUE;
}

static HRESULT get_string(const BYTE *data, DWORD size, WCHAR **out)
{
    DWORD i;

    free(*out);             /* a repeated field: the last one wins */
    *out = NULL;
    if (size % 2 || size / 2 > STORE_MAX_STRING) return E_FAIL;
    *out = malloc(size + sizeof(WCHAR));
    if (!*out) return E_OUTOFMEMORY;
    for (i = 0; i < size / 2; i++) (*out)[i] = data[2 * i] | data[2 * i + 1] << 8;
    (*out)[size / 2] = 0;
    if (wcslen(*out) != size / 2) return E_FAIL;   /* no NUL inside */
    return S_OK;
}

/* A string field into an array of size characters, terminator included. */
static HRESULT get_fixed_string(const BYTE *data, DWORD size, WCHAR *out, size_t count)
{
    WCHAR *str = NULL;
    HRESULT hr;

    hr = get_string(data, size, &str);
    if (SUCCEEDED(hr) && wcslen(str) >= count) hr = E_FAIL;
    if (SUCCEEDED(hr)) wcscpy(out, str);
    free(str);
    return hr;
}

static HRESULT get_sid(const BYTE *data, DWORD size, PSID *out)
{
    free(*out);             /* a repeated field: the last one wins */
    *out = malloc(max(size, 1));
    if (!*out) return E_OUTOFMEMORY;
    memcpy(*out, data, size);
    if (size < 8 || !IsValidSid(*out) || GetLengthSid(*out) != size) return E_FAIL;
    return S_OK;
}

static void free_parsed_file(struct job_file *file)
{
    free(file->remote_name);
    free(file->local_name);
    free(file->temp_name);
    free(file->ranges);
    free(file->filled);
    free(file->wanted);
    free(file);
}

/* put_ranges()' field.  Sets of spans (filled, wanted) must be sorted, without empty spans,
 * and neither overlap nor touch. */
static HRESULT get_ranges(const BYTE *data, DWORD size, BOOL spans, BG_FILE_RANGE **out,
                          DWORD *count)
{
    BG_FILE_RANGE *ranges;
    DWORD i;

    free(*out);             /* a repeated field: the last one wins */
    *out = NULL;
    *count = 0;
    if (!size || size % 16 || size / 16 > STORE_MAX_RANGES) return E_FAIL;
    if (!(ranges = malloc(size))) return E_OUTOFMEMORY;
    *out = ranges;
    *count = size / 16;
    for (i = 0; i < *count; i++)
    {
        ranges[i].InitialOffset = get_u64_raw(data + 16 * i);
        ranges[i].Length = get_u64_raw(data + 16 * i + 8);
        if (!spans) continue;
        if (!ranges[i].Length || ranges[i].Length > ~(UINT64)0 - ranges[i].InitialOffset
                || (i && ranges[i].InitialOffset
                    <= ranges[i - 1].InitialOffset + ranges[i - 1].Length))
            return E_FAIL;
    }
    return S_OK;
}

static void free_parsed(struct store_job *job)
{
    struct job_props *props = &job->props;
    ULONG i;

    free(job->owner.sid);
    free(job->committer);
    free(job->reply.url);
    free(job->reply.temp_name);
    free(props->display_name);
    free(props->description);
    free(props->proxy_list);
    free(props->proxy_bypass_list);
    free(props->notify_program);
    free(props->notify_parameters);
    free(props->reply_file_name);
    free(props->custom_headers);
    free(props->http_method);
    free(props->cert_store_name);
    free(props->cert_subject);
    for (i = 0; i < AUTH_TARGETS * AUTH_SCHEMES; i++)
        engine_clear_credential(&props->credentials[i / AUTH_SCHEMES][i % AUTH_SCHEMES]);
    for (i = 0; i < job->file_count; i++) free_parsed_file(job->files[i]);
    free(job->files);
    memset(job, 0, sizeof(*job));
}

/* A sealed password (see the header) back in clear; FALSE when it does not unseal. */
static BOOL unseal_password(const BYTE *data, DWORD size, WCHAR **out)
{
    DATA_BLOB sealed = { size, (BYTE *)data }, clear;

    *out = NULL;
    if (!CryptUnprotectData(&sealed, NULL, NULL, NULL, NULL, CRYPTPROTECT_UI_FORBIDDEN, &clear))
        return FALSE;
    if (!(clear.cbData % sizeof(WCHAR)) && (*out = malloc(clear.cbData + sizeof(WCHAR))))
    {
        memcpy(*out, clear.pbData, clear.cbData);
        (*out)[clear.cbData / sizeof(WCHAR)] = 0;
    }
    SecureZeroMemory(clear.pbData, clear.cbData);
    LocalFree(clear.pbData);
    return *out != NULL;
}

static HRESULT parse_credential(const BYTE *data, DWORD size, struct job_props *props)
{
    struct job_credential value = { TRUE, NULL, NULL };
    struct reader r = { data, size };
    DWORD tag, len, target = 0, scheme = 0;
    BOOL bad = FALSE, sealed = FALSE, unsealed = TRUE;
    const BYTE *field;
    HRESULT hr = S_OK;

    while (SUCCEEDED(hr) && next_field(&r, &tag, &field, &len, &bad))
    {
        switch (tag)
        {
        case C_TARGET:
            if (len != 4) hr = E_FAIL;
            else target = get_u32_raw(field);
            break;
        case C_SCHEME:
            if (len != 4) hr = E_FAIL;
            else scheme = get_u32_raw(field);
            break;
        case C_USER: hr = get_string(field, len, &value.user); break;
        case C_PASSWORD:
            free(value.password);
            sealed = TRUE;
            unsealed = unseal_password(field, len, &value.password);
            break;
        default:
            break;
        }
    }
    if (SUCCEEDED(hr) && (bad || target - 1 >= AUTH_TARGETS || scheme - 1 >= AUTH_SCHEMES))
        hr = E_FAIL;
    if (SUCCEEDED(hr) && sealed && !unsealed)
    {
        WARN("a password of target %lu scheme %lu does not unseal: credential dropped\n",
             target, scheme);
        engine_clear_credential(&value);
        return S_OK;
    }
    if (FAILED(hr))
    {
        engine_clear_credential(&value);
        return hr;
    }
    engine_clear_credential(&props->credentials[target - 1][scheme - 1]);
    props->credentials[target - 1][scheme - 1] = value;
    return S_OK;
}

static HRESULT parse_file(const BYTE *data, DWORD size, struct job_file **out)
{
    struct reader r = { data, size };
    struct job_file *file;
    const BYTE *value;
    DWORD tag, len;
    BOOL bad = FALSE, sizes = FALSE;
    HRESULT hr = S_OK;

    *out = NULL;
    file = calloc(1, sizeof(*file));
    if (!file) return E_OUTOFMEMORY;
    while (SUCCEEDED(hr) && next_field(&r, &tag, &value, &len, &bad))
    {
        switch (tag)
        {
        case F_REMOTE: hr = get_string(value, len, &file->remote_name); break;
        case F_LOCAL: hr = get_string(value, len, &file->local_name); break;
        case F_TEMP: hr = get_string(value, len, &file->temp_name); break;
        case F_VALIDATOR:
            hr = get_fixed_string(value, len, file->validator, ARRAYSIZE(file->validator));
            break;
        case F_SIZES:
            if (len != 16) { hr = E_FAIL; break; }
            file->bytes_total = get_u64_raw(value);
            file->bytes_transferred = get_u64_raw(value + 8);
            sizes = TRUE;
            break;
        case F_FLAGS:
            if (len != 4) { hr = E_FAIL; break; }
            file->completed = !!(get_u32_raw(value) & FILE_COMPLETED);
            file->validated = !!(get_u32_raw(value) & FILE_VALIDATED);
            break;
        case F_REMOTE_TIME:
            if (len != 8) { hr = E_FAIL; break; }
            set_filetime(&file->remote_time, get_u64_raw(value));
            break;
        case F_RANGES:
            hr = get_ranges(value, len, FALSE, &file->ranges, &file->range_count);
            break;
        case F_FILLED:
            hr = get_ranges(value, len, TRUE, &file->filled, &file->filled_count);
            break;
        case F_WANTED:
            hr = get_ranges(value, len, TRUE, &file->wanted, &file->wanted_count);
            break;
        case F_POSITION:
            if (len != 8) { hr = E_FAIL; break; }
            file->position = get_u64_raw(value);
            break;
        default:
            break;
        }
    }
    if (SUCCEEDED(hr) && (bad || !sizes || !file->remote_name || !file->local_name
            || (file->bytes_total != BG_SIZE_UNKNOWN
                && file->bytes_transferred > file->bytes_total)))
        hr = E_FAIL;
    if (FAILED(hr))
    {
        free_parsed_file(file);
        return hr;
    }
    *out = file;
    return S_OK;
}

static HRESULT add_file(struct store_job *job, struct job_file *file)
{
    struct job_file **files;

    if (job->file_count == STORE_MAX_FILES) return E_FAIL;
    /* Grows by doubling: the count is a power of two when full. */
    if (!(job->file_count & (job->file_count - 1)))
    {
        files = realloc(job->files, max(job->file_count * 2, 1) * sizeof(*files));
        if (!files) return E_OUTOFMEMORY;
        job->files = files;
    }
    job->files[job->file_count++] = file;
    return S_OK;
}

/* A u32 field into a member of any 32-bit enum or integer type. */
#define GET_U32(member) \
    do { if (len != 4) hr = E_FAIL; else (member) = get_u32_raw(value); } while (0)

static HRESULT parse_payload(const BYTE *data, DWORD size, struct store_job *job)
{
    struct reader r = { data, size };
    struct job_props *props = &job->props;
    struct job_file *file;
    WCHAR *protocol = NULL;
    const BYTE *value;
    DWORD tag, len, i;
    BOOL bad = FALSE, has_id = FALSE, has_type = FALSE, has_state = FALSE;
    HRESULT hr = S_OK;

    job->error_file = STORE_NO_FILE;
    while (SUCCEEDED(hr) && next_field(&r, &tag, &value, &len, &bad))
    {
        switch (tag)
        {
        case T_ID:
            if (len != sizeof(GUID)) hr = E_FAIL;
            else memcpy(&job->id, value, sizeof(GUID));
            has_id = TRUE;
            break;
        case T_TYPE: GET_U32(job->type); has_type = TRUE; break;
        case T_STATE: GET_U32(job->state); has_state = TRUE; break;
        case T_COMMITTING: GET_U32(job->committing); break;
        case T_OWNER_SID: hr = get_sid(value, len, &job->owner.sid); break;
        case T_COMMITTER: hr = get_sid(value, len, &job->committer); break;
        case T_NOTIFIED: GET_U32(job->notified); break;
        case T_INTEGRITY:
            if (len != 8) { hr = E_FAIL; break; }
            job->owner.integrity_hr = get_u32_raw(value);
            job->owner.integrity_level = get_u32_raw(value + 4);
            break;
        case T_ELEVATION:
            if (len != 8) { hr = E_FAIL; break; }
            job->owner.elevation_hr = get_u32_raw(value);
            job->owner.elevated = !!get_u32_raw(value + 4);
            break;
        case T_TIMES:
            if (len != 24) { hr = E_FAIL; break; }
            set_filetime(&job->creation_time, get_u64_raw(value));
            set_filetime(&job->modification_time, get_u64_raw(value + 8));
            set_filetime(&job->completion_time, get_u64_raw(value + 16));
            break;
        case T_ERROR_COUNT: GET_U32(job->error_count); break;
        case T_ERROR:
            if (len != 12) { hr = E_FAIL; break; }
            job->has_error = TRUE;
            job->error_code = get_u32_raw(value);
            job->error_context = get_u32_raw(value + 4);
            job->error_file = get_u32_raw(value + 8);
            break;
        case T_PROTOCOL: hr = get_string(value, len, &protocol); break;
        case T_ACTIVE_MS:
            if (len != 8) hr = E_FAIL;
            else job->active_ms = get_u64_raw(value);
            break;
        case T_REPLY_PROGRESS:
            if (len != 16) { hr = E_FAIL; break; }
            job->reply_progress.BytesTotal = get_u64_raw(value);
            job->reply_progress.BytesTransferred = get_u64_raw(value + 8);
            break;
        case T_UPLOAD_SESSION:
            hr = get_fixed_string(value, len, job->session.id, ARRAYSIZE(job->session.id));
            break;
        case T_UPLOAD_HOST:
            hr = get_fixed_string(value, len, job->session.host, ARRAYSIZE(job->session.host));
            break;
        case T_UPLOAD_HOST_TIMEOUT: GET_U32(job->session.host_timeout); break;
        case T_REPLY_URL: hr = get_string(value, len, &job->reply.url); break;
        case T_REPLY_TEMP: hr = get_string(value, len, &job->reply.temp_name); break;
        case T_REPLY_VALIDATOR:
            hr = get_fixed_string(value, len, job->reply.validator,
                                  ARRAYSIZE(job->reply.validator));
            break;
        case T_REPLY_TIME:
            if (len != 8) hr = E_FAIL;
            else set_filetime(&job->reply.remote_time, get_u64_raw(value));
            break;
        case T_DISPLAY_NAME: hr = get_string(value, len, &props->display_name); break;
        case T_DESCRIPTION: hr = get_string(value, len, &props->description); break;
        case T_PRIORITY: GET_U32(props->priority); break;
        case T_NOTIFY_FLAGS: GET_U32(props->notify_flags); break;
        case T_RETRY_DELAY: GET_U32(props->retry_delay); break;
        case T_NO_PROGRESS_TIMEOUT: GET_U32(props->no_progress_timeout); break;
        case T_PROXY_USAGE: GET_U32(props->proxy_usage); break;
        case T_PROXY_LIST: hr = get_string(value, len, &props->proxy_list); break;
        case T_PROXY_BYPASS_LIST: hr = get_string(value, len, &props->proxy_bypass_list); break;
        case T_NOTIFY_PROGRAM: hr = get_string(value, len, &props->notify_program); break;
        case T_NOTIFY_PARAMETERS: hr = get_string(value, len, &props->notify_parameters); break;
        case T_REPLY_FILE_NAME: hr = get_string(value, len, &props->reply_file_name); break;
        case T_FILE_ACL_FLAGS: GET_U32(props->file_acl_flags); break;
        case T_PEER_CACHING_FLAGS: GET_U32(props->peer_caching_flags); break;
        case T_MAX_DOWNLOAD_TIME: GET_U32(props->max_download_time); break;
        case T_COST_FLAGS: GET_U32(props->cost_flags); break;
        case T_NOTIFY_CLSID:
            if (len != sizeof(GUID)) hr = E_FAIL;
            else memcpy(&props->notify_clsid, value, sizeof(GUID));
            break;
        case T_DYNAMIC_CONTENT: GET_U32(props->dynamic_content); break;
        case T_HIGH_PERFORMANCE: GET_U32(props->high_performance); break;
        case T_MAX_DOWNLOAD_SIZE:
            if (len != 8) hr = E_FAIL;
            else props->max_download_size = get_u64_raw(value);
            break;
        case T_STORED_CREDENTIALS: GET_U32(props->stored_credentials); break;
        case T_NOTIFICATION_INTERVAL: GET_U32(props->notification_interval); break;
        case T_CUSTOM_HEADERS: hr = get_string(value, len, &props->custom_headers); break;
        case T_HEADERS_WRITE_ONLY: GET_U32(props->headers_write_only); break;
        case T_SECURITY_FLAGS: GET_U32(props->security_flags); break;
        case T_HTTP_METHOD: hr = get_string(value, len, &props->http_method); break;
        case T_CERT:
            if (len != 12 + sizeof(props->cert_hash)) { hr = E_FAIL; break; }
            props->has_certificate = !!get_u32_raw(value);
            props->cert_location = get_u32_raw(value + 4);
            props->cert_by_hash = !!get_u32_raw(value + 8);
            memcpy(props->cert_hash, value + 12, sizeof(props->cert_hash));
            break;
        case T_CERT_STORE_NAME: hr = get_string(value, len, &props->cert_store_name); break;
        case T_CERT_SUBJECT: hr = get_string(value, len, &props->cert_subject); break;
        case T_ON_DEMAND: GET_U32(props->on_demand); break;
        case T_HELPER_TOKEN_FLAGS: GET_U32(props->helper_token_flags); break;
        case T_CREDENTIAL: hr = parse_credential(value, len, props); break;
        case T_FILE:
            hr = parse_file(value, len, &file);
            if (SUCCEEDED(hr))
            {
                hr = add_file(job, file);
                if (FAILED(hr)) free_parsed_file(file);
            }
            break;
        default:
            TRACE("skipping field %lu\n", tag);
            break;
        }
    }
    if (SUCCEEDED(hr) && protocol)
    {
        for (i = 0; i < ARRAYSIZE(protocols); i++)
            if (!wcscmp(protocol, protocols[i])) job->error_protocol = protocols[i];
    }
    free(protocol);
    if (FAILED(hr)) return hr;
    if (bad || !has_id || !has_type || !has_state || !job->owner.sid || !props->display_name
            || (unsigned int)job->type > BG_JOB_TYPE_UPLOAD_REPLY
            || (unsigned int)job->state > BG_JOB_STATE_CANCELLED
            || (unsigned int)props->priority > BG_JOB_PRIORITY_LOW
            || (job->has_error && job->error_file != STORE_NO_FILE
                && job->error_file >= job->file_count))
        return E_FAIL;
    return S_OK;
}

/* Reads and checks one entry; E_FAIL (with why, traced) when it is damaged. */
static HRESULT read_entry(const WCHAR *path, const GUID *expected, struct store_job *job)
{
    LARGE_INTEGER size;
    BYTE *data = NULL;
    DWORD got, payload;
    HANDLE file;
    HRESULT hr = E_FAIL;

    memset(job, 0, sizeof(*job));
    file = CreateFileW(path, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL);
    if (file == INVALID_HANDLE_VALUE) return HRESULT_FROM_WIN32(GetLastError());
    if (!GetFileSizeEx(file, &size))
        hr = HRESULT_FROM_WIN32(GetLastError());
    else if (size.QuadPart < HEADER_SIZE || size.QuadPart > STORE_MAX_SIZE)
        ERR("%s: %I64d bytes\n", debugstr_w(path), size.QuadPart);
    else if (!(data = malloc(size.LowPart)))
        hr = E_OUTOFMEMORY;
    else if (!ReadFile(file, data, size.LowPart, &got, NULL) || got != size.LowPart)
        hr = HRESULT_FROM_WIN32(GetLastError() ? GetLastError() : ERROR_HANDLE_EOF);
    else hr = S_OK;
    CloseHandle(file);
    if (FAILED(hr)) goto done;

    hr = E_FAIL;
    payload = get_u32_raw(data + 16);
    if (memcmp(data, magic, sizeof(magic)))
        ERR("%s: not a job entry\n", debugstr_w(path));
    else if (get_u32_raw(data + 8) != STORE_VERSION)
        ERR("%s: unknown version %lu\n", debugstr_w(path), get_u32_raw(data + 8));
    else if (get_u32_raw(data + 12) != HEADER_SIZE || payload != size.LowPart - HEADER_SIZE)
        ERR("%s: truncated or padded (%lu bytes of payload in %lu)\n", debugstr_w(path),
            payload, size.LowPart);
    else if (crc32(data + HEADER_SIZE, payload) != get_u32_raw(data + 20))
        ERR("%s: checksum mismatch\n", debugstr_w(path));
    else
    {
        hr = parse_payload(data + HEADER_SIZE, payload, job);
        if (hr == E_FAIL) ERR("%s: malformed fields\n", debugstr_w(path));
        else if (SUCCEEDED(hr) && !IsEqualGUID(&job->id, expected))
        {
            ERR("%s: holds job %s\n", debugstr_w(path), debugstr_guid(&job->id));
            hr = E_FAIL;
        }
    }
done:
    free(data);
    if (FAILED(hr)) free_parsed(job);
    return hr;
}

/* "job-{GUID}" + suffix, exactly; the GUID goes to id. */
static BOOL parse_entry_name(const WCHAR *name, const WCHAR *suffix, GUID *id)
{
    WCHAR guid[GUID_CHARS];
    size_t len = wcslen(name), suffix_len = wcslen(suffix);

    if (len != 4 + GUID_CHARS - 1 + suffix_len || _wcsnicmp(name, L"job-", 4)
            || _wcsicmp(name + len - suffix_len, suffix))
        return FALSE;
    memcpy(guid, name + 4, (GUID_CHARS - 1) * sizeof(WCHAR));
    guid[GUID_CHARS - 1] = 0;
    return SUCCEEDED(CLSIDFromString(guid, id));
}

/* Keeps a damaged entry for inspection, out of the way of later starts. */
static void set_aside(const WCHAR *path)
{
    WCHAR bad[MAX_PATH + 8];

    swprintf(bad, ARRAYSIZE(bad), L"%ls.bad", path);
    if (MoveFileExW(path, bad, MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH))
        ERR("damaged job entry set aside as %s\n", debugstr_w(bad));
    else
        ERR("damaged job entry %s, cannot set it aside, error %lu\n", debugstr_w(path),
            GetLastError());
}

HRESULT store_load(HRESULT (*restore)(struct store_job *job), void (*pending)(const GUID *id))
{
    WCHAR pattern[MAX_PATH], path[MAX_PATH];
    struct store_job job;
    WIN32_FIND_DATAW data;
    HANDLE find;
    GUID id;
    HRESULT hr;
    ULONG loaded = 0, damaged = 0;

    /* Final jobs whose entries stayed: removed now if they can be, never loaded. */
    swprintf(pattern, ARRAYSIZE(pattern), L"%ls\\job-*.final", store_dir);
    find = FindFirstFileW(pattern, &data);
    if (find != INVALID_HANDLE_VALUE)
    {
        do
        {
            if (!parse_entry_name(data.cFileName, L".final", &id)) continue;
            TRACE("job %s is final\n", debugstr_guid(&id));
            if (store_delete(&id) != S_OK) pending(&id);
        } while (FindNextFileW(find, &data));
        FindClose(find);
    }

    /* Saves that never reached their rename: the entry still holds the version before. */
    swprintf(pattern, ARRAYSIZE(pattern), L"%ls\\job-*.tmp", store_dir);
    find = FindFirstFileW(pattern, &data);
    if (find != INVALID_HANDLE_VALUE)
    {
        do
        {
            if (!parse_entry_name(data.cFileName, L".tmp", &id)) continue;
            swprintf(path, ARRAYSIZE(path), L"%ls\\%ls", store_dir, data.cFileName);
            TRACE("removing the unfinished save %s\n", debugstr_w(path));
            DeleteFileW(path);
        } while (FindNextFileW(find, &data));
        FindClose(find);
    }

    swprintf(pattern, ARRAYSIZE(pattern), L"%ls\\job-*.bits", store_dir);
    find = FindFirstFileW(pattern, &data);
    if (find == INVALID_HANDLE_VALUE) return S_OK;
    do
    {
        if (!parse_entry_name(data.cFileName, L".bits", &id)) continue;
        entry_path(&id, L".final", path, ARRAYSIZE(path));
        if (GetFileAttributesW(path) != INVALID_FILE_ATTRIBUTES) continue;
        swprintf(path, ARRAYSIZE(path), L"%ls\\%ls", store_dir, data.cFileName);
        hr = read_entry(path, &id, &job);
        if (hr == E_FAIL)
        {
            damaged++;
            set_aside(path);
            continue;
        }
        if (FAILED(hr))
        {
            /* Not the entry's fault (memory, sharing): leave it for the next start. */
            ERR("cannot read %s, hr %#lx\n", debugstr_w(path), hr);
            continue;
        }
        hr = restore(&job);
        if (FAILED(hr)) ERR("cannot restore job %s, hr %#lx\n", debugstr_guid(&id), hr);
        else loaded++;
    } while (FindNextFileW(find, &data));
    FindClose(find);
    TRACE("%lu jobs loaded, %lu damaged entries set aside\n", loaded, damaged);
    return S_OK;
}
