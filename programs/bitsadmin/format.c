/* bitsadmin: names of BITS values and the multi-line views of a job (wire-and-tools.md §3.4):
 * the /LIST line, the /INFO /VERBOSE block, file lines, the error block and the /TRANSFER
 * progress block.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "bitsadmin.h"
#include <sddl.h>

const WCHAR *state_name(BG_JOB_STATE state)
{
    static const WCHAR *const names[] =
    {
        L"QUEUED", L"CONNECTING", L"TRANSFERRING", L"SUSPENDED", L"ERROR", L"TRANSIENT_ERROR",
        L"TRANSFERRED", L"ACKNOWLEDGED", L"CANCELLED",
    };

    return (unsigned int)state < ARRAYSIZE(names) ? names[state] : L"UNKNOWN";
}

const WCHAR *type_name(BG_JOB_TYPE type)
{
    static const WCHAR *const names[] = { L"DOWNLOAD", L"UPLOAD", L"UPLOAD-REPLY" };

    return (unsigned int)type < ARRAYSIZE(names) ? names[type] : L"UNKNOWN";
}

const WCHAR *priority_name(BG_JOB_PRIORITY priority)
{
    static const WCHAR *const names[] = { L"FOREGROUND", L"HIGH", L"NORMAL", L"LOW" };

    return (unsigned int)priority < ARRAYSIZE(names) ? names[priority] : L"UNKNOWN";
}

const WCHAR *proxy_usage_name(BG_JOB_PROXY_USAGE usage)
{
    static const WCHAR *const names[] = { L"PRECONFIG", L"NO_PROXY", L"OVERRIDE", L"AUTODETECT" };

    return (unsigned int)usage < ARRAYSIZE(names) ? names[usage] : L"UNKNOWN";
}

/* The mandatory-label RIDs of winnt.h, by name; others in hexadecimal. */
const WCHAR *integrity_level_name(ULONG level, WCHAR *buffer, size_t size)
{
    static const struct
    {
        ULONG level;
        const WCHAR *name;
    }
    levels[] =
    {
        { SECURITY_MANDATORY_UNTRUSTED_RID, L"UNTRUSTED" },
        { SECURITY_MANDATORY_LOW_RID, L"LOW" },
        { SECURITY_MANDATORY_MEDIUM_RID, L"MEDIUM" },
        { SECURITY_MANDATORY_HIGH_RID, L"HIGH" },
        { SECURITY_MANDATORY_SYSTEM_RID, L"SYSTEM" },
        { SECURITY_MANDATORY_PROTECTED_PROCESS_RID, L"PROTECTED PROCESS" },
    };
    unsigned int i;

    for (i = 0; i < ARRAYSIZE(levels); i++)
        if (levels[i].level == level) return levels[i].name;
    _snwprintf(buffer, size, L"0x%lX", level);
    buffer[size - 1] = 0;
    return buffer;
}

/* wire-and-tools.md §3.3: BG_SIZE_UNKNOWN prints as UNKNOWN. */
const WCHAR *format_size(UINT64 size, WCHAR *buffer, size_t count)
{
    if (size == BG_SIZE_UNKNOWN) return L"UNKNOWN";
    _snwprintf(buffer, count, L"%I64u", size);
    buffer[count - 1] = 0;
    return buffer;
}

/* wire-and-tools.md §3.3: local time in the user's short date and time formats; a time never
 * set (all zero) prints as UNKNOWN. */
const WCHAR *format_time(const FILETIME *time, WCHAR *buffer, size_t count)
{
    WCHAR date[80], clock[80];
    SYSTEMTIME utc, local;

    if ((!time->dwLowDateTime && !time->dwHighDateTime) || !FileTimeToSystemTime(time, &utc))
        return L"UNKNOWN";
    if (!SystemTimeToTzSpecificLocalTime(NULL, &utc, &local)) local = utc;
    if (!GetDateFormatW(LOCALE_USER_DEFAULT, DATE_SHORTDATE, &local, NULL, date,
                        ARRAYSIZE(date)))
        date[0] = 0;
    if (!GetTimeFormatW(LOCALE_USER_DEFAULT, 0, &local, NULL, clock, ARRAYSIZE(clock)))
        clock[0] = 0;
    _snwprintf(buffer, count, L"%ls %ls", date, clock);
    buffer[count - 1] = 0;
    return buffer;
}

/* wire-and-tools.md §3.3 /GETACLFLAGS: letters o g d s; an empty string for none. */
void format_acl_flags(DWORD flags, WCHAR *buffer, size_t count)
{
    static const struct
    {
        DWORD flag;
        WCHAR letter;
    }
    letters[] =
    {
        { BG_COPY_FILE_OWNER, 'o' }, { BG_COPY_FILE_GROUP, 'g' },
        { BG_COPY_FILE_DACL, 'd' }, { BG_COPY_FILE_SACL, 's' },
    };
    size_t len = 0;
    unsigned int i;

    for (i = 0; i < ARRAYSIZE(letters) && len + 1 < count; i++)
        if (flags & letters[i].flag) buffer[len++] = letters[i].letter;
    buffer[len] = 0;
}

/* GetOwner gives a SID string; users read DOMAIN\user, when the account is known. */
void format_owner(const WCHAR *sid_string, WCHAR *buffer, DWORD count)
{
    WCHAR name[256], domain[256];
    DWORD name_len = ARRAYSIZE(name), domain_len = ARRAYSIZE(domain);
    SID_NAME_USE use;
    PSID sid;
    BOOL found;

    _snwprintf(buffer, count, L"%ls", sid_string);
    buffer[count - 1] = 0;
    if (!ConvertStringSidToSidW(sid_string, &sid)) return;
    found = LookupAccountSidW(NULL, sid, name, &name_len, domain, &domain_len, &use);
    LocalFree(sid);
    if (!found) return;
    if (domain[0])
        _snwprintf(buffer, count, L"%ls\\%ls", domain, name);
    else
        _snwprintf(buffer, count, L"%ls", name);
    buffer[count - 1] = 0;
}

/* Removes trailing white space and line ends, and joins the lines of a message with spaces. */
void trim_text(WCHAR *text)
{
    size_t len = wcslen(text), i;

    while (len && iswspace(text[len - 1])) text[--len] = 0;
    for (i = 0; i < len; i++)
        if (text[i] == '\r' || text[i] == '\n') text[i] = ' ';
}

static void format_percent(const BG_JOB_PROGRESS *progress, WCHAR *buffer, size_t count)
{
    buffer[0] = 0;
    if (progress->BytesTotal == BG_SIZE_UNKNOWN) return;
    _snwprintf(buffer, count, L" (%I64u%%)", progress->BytesTotal
               ? progress->BytesTransferred * 100 / progress->BytesTotal
               : (UINT64)(progress->FilesTransferred == progress->FilesTotal ? 100 : 0));
    buffer[count - 1] = 0;
}

/* wire-and-tools.md §3.4:
 * {GUID} '<display name>' <STATE> <files done> / <files total> <bytes done> / <bytes total> */
HRESULT print_job_line(IBackgroundCopyJob *job)
{
    WCHAR id_text[40], done[24], total[24], *name;
    BG_JOB_PROGRESS progress;
    BG_JOB_STATE state;
    GUID id;
    HRESULT hr;

    hr = IBackgroundCopyJob_GetId(job, &id);
    if (FAILED(hr)) return hr;
    hr = IBackgroundCopyJob_GetState(job, &state);
    if (FAILED(hr)) return hr;
    hr = IBackgroundCopyJob_GetProgress(job, &progress);
    if (FAILED(hr)) return hr;
    hr = IBackgroundCopyJob_GetDisplayName(job, &name);
    if (FAILED(hr)) return hr;
    StringFromGUID2(&id, id_text, ARRAYSIZE(id_text));
    output(L"%ls '%ls' %ls %lu / %lu %ls / %ls\n", id_text, name, state_name(state),
           progress.FilesTransferred, progress.FilesTotal,
           format_size(progress.BytesTransferred, done, ARRAYSIZE(done)),
           format_size(progress.BytesTotal, total, ARRAYSIZE(total)));
    CoTaskMemFree(name);
    return S_OK;
}

/* wire-and-tools.md §3.4 file line:
 * <bytes done> / <bytes total|UNKNOWN> <WORKING|COMPLETED> <remote> -> <local> */
HRESULT print_file_line(IBackgroundCopyFile *file, const WCHAR *indent)
{
    WCHAR done[24], total[24], *remote, *local;
    BG_FILE_PROGRESS progress;
    HRESULT hr;

    hr = IBackgroundCopyFile_GetProgress(file, &progress);
    if (FAILED(hr)) return hr;
    hr = IBackgroundCopyFile_GetRemoteName(file, &remote);
    if (FAILED(hr)) return hr;
    hr = IBackgroundCopyFile_GetLocalName(file, &local);
    if (FAILED(hr))
    {
        CoTaskMemFree(remote);
        return hr;
    }
    output(L"%ls%ls / %ls %ls %ls -> %ls\n", indent,
           format_size(progress.BytesTransferred, done, ARRAYSIZE(done)),
           format_size(progress.BytesTotal, total, ARRAYSIZE(total)),
           progress.Completed ? L"COMPLETED" : L"WORKING", remote, local);
    CoTaskMemFree(remote);
    CoTaskMemFree(local);
    return S_OK;
}

/* One of the error object's texts in the user's language, else in US English; NULL if the
 * service has none.  Returns a CoTaskMemAlloc'ed string. */
static WCHAR *error_text(IBackgroundCopyError *error, BOOL context)
{
    DWORD languages[2] = { user_language(), MAKELANGID(LANG_ENGLISH, SUBLANG_ENGLISH_US) };
    WCHAR *text = NULL;
    unsigned int i;
    HRESULT hr;

    for (i = 0; i < ARRAYSIZE(languages); i++)
    {
        if (context)
            hr = IBackgroundCopyError_GetErrorContextDescription(error, languages[i], &text);
        else
            hr = IBackgroundCopyError_GetErrorDescription(error, languages[i], &text);
        if (SUCCEEDED(hr) && text)
        {
            trim_text(text);
            return text;
        }
    }
    return NULL;
}

/* behaviour.md §4.4: the text of an error context is the message of these codes, which the
 * manager describes too when the error object cannot. */
static HRESULT context_message(BG_ERROR_CONTEXT context)
{
    static const HRESULT messages[] =
    {
        BG_S_ERROR_CONTEXT_NONE,
        BG_E_ERROR_CONTEXT_UNKNOWN,
        BG_E_ERROR_CONTEXT_GENERAL_QUEUE_MANAGER,
        BG_E_ERROR_CONTEXT_QUEUE_MANAGER_NOTIFICATION,
        BG_E_ERROR_CONTEXT_LOCAL_FILE,
        BG_E_ERROR_CONTEXT_REMOTE_FILE,
        BG_E_ERROR_CONTEXT_GENERAL_TRANSPORT,
        BG_E_ERROR_CONTEXT_REMOTE_APPLICATION,
        BG_E_ERROR_CONTEXT_SERVER_CERTIFICATE_CALLBACK,
    };

    if ((unsigned int)context < ARRAYSIZE(messages)) return messages[context];
    return BG_E_ERROR_CONTEXT_UNKNOWN;
}

/* wire-and-tools.md §3.4 error block:
 *   ERROR FILE:    <remote> -> <local>          (when the error concerns a file)
 *   ERROR CODE:    0x%08X - <description>
 *   ERROR CONTEXT: 0x%08X - <context description>
 * Returns the job's error code in *code. */
HRESULT print_error(struct context *ctx, IBackgroundCopyError *error, HRESULT *code)
{
    WCHAR *remote = NULL, *local = NULL, *text;
    BG_ERROR_CONTEXT context;
    IBackgroundCopyFile *file;
    HRESULT hr;

    hr = IBackgroundCopyError_GetError(error, &context, code);
    if (FAILED(hr)) return hr;
    if (SUCCEEDED(IBackgroundCopyError_GetFile(error, &file)) && file)
    {
        if (SUCCEEDED(IBackgroundCopyFile_GetRemoteName(file, &remote))
                && SUCCEEDED(IBackgroundCopyFile_GetLocalName(file, &local)))
            output(L"ERROR FILE:    %ls -> %ls\n", remote, local);
        CoTaskMemFree(remote);
        CoTaskMemFree(local);
        IBackgroundCopyFile_Release(file);
    }

    text = error_text(error, FALSE);
    if (text)
    {
        output(L"ERROR CODE:    0x%08lX - %ls\n", (unsigned long)*code, text);
        CoTaskMemFree(text);
    }
    else
    {
        WCHAR *description = describe_hresult(ctx, *code);

        output(L"ERROR CODE:    0x%08lX - %ls\n", (unsigned long)*code,
               description ? description : L"");
        free(description);
    }

    text = error_text(error, TRUE);
    if (text)
    {
        output(L"ERROR CONTEXT: 0x%08lX - %ls\n", (unsigned long)context, text);
        CoTaskMemFree(text);
    }
    else
    {
        WCHAR *description = describe_hresult(ctx, context_message(context));

        output(L"ERROR CONTEXT: 0x%08lX - %ls\n", (unsigned long)context,
               description ? description : L"");
        free(description);
    }
    return S_OK;
}

/* wire-and-tools.md §3.4 /TRANSFER progress block:
 *   DISPLAY: '<name>' TYPE: <type> STATE: <state>
 *   PRIORITY: <priority> FILES: <done> / <total> BYTES: <done> / <total> (<n>%) */
HRESULT print_progress_block(IBackgroundCopyJob *job, BG_JOB_STATE *state,
                             BG_JOB_PROGRESS *progress)
{
    WCHAR done[24], total[24], percent[16], *name;
    BG_JOB_PRIORITY priority;
    BG_JOB_TYPE type;
    HRESULT hr;

    hr = IBackgroundCopyJob_GetState(job, state);
    if (FAILED(hr)) return hr;
    hr = IBackgroundCopyJob_GetProgress(job, progress);
    if (FAILED(hr)) return hr;
    hr = IBackgroundCopyJob_GetType(job, &type);
    if (FAILED(hr)) return hr;
    hr = IBackgroundCopyJob_GetPriority(job, &priority);
    if (FAILED(hr)) return hr;
    hr = IBackgroundCopyJob_GetDisplayName(job, &name);
    if (FAILED(hr)) return hr;
    format_percent(progress, percent, ARRAYSIZE(percent));
    output(L"DISPLAY: '%ls' TYPE: %ls STATE: %ls\n", name, type_name(type), state_name(*state));
    output(L"PRIORITY: %ls FILES: %lu / %lu BYTES: %ls / %ls%ls\n", priority_name(priority),
           progress->FilesTransferred, progress->FilesTotal,
           format_size(progress->BytesTransferred, done, ARRAYSIZE(done)),
           format_size(progress->BytesTotal, total, ARRAYSIZE(total)), percent);
    CoTaskMemFree(name);
    return S_OK;
}

/* The properties of the verbose block that the job's newer interfaces hold. */
struct verbose_extras
{
    WCHAR acl[8];
    WCHAR *program, *parameters;    /* notify command line, CoTaskMemAlloc'ed */
    const WCHAR *integrity;
    WCHAR integrity_buffer[16];
    const WCHAR *elevated;
    DWORD peer_flags;
    BOOL have_peer_flags;
    WCHAR *headers;                 /* CoTaskMemAlloc'ed */
    BOOL have_headers;
};

/* Gathers what the newer interfaces offer; an interface this BITS lacks leaves its fields
 * UNKNOWN, a method that fails ends the command with its action in *action. */
static HRESULT get_verbose_extras(IBackgroundCopyJob *job, struct verbose_extras *extras,
                                  const WCHAR **action)
{
    IBackgroundCopyJobHttpOptions *options;
    IBackgroundCopyJob2 *job2;
    IBackgroundCopyJob3 *job3;
    IBackgroundCopyJob4 *job4;
    DWORD flags;
    ULONG level;
    BOOL elevated;
    HRESULT hr;

    wcscpy(extras->acl, L"UNKNOWN");
    extras->integrity = extras->elevated = L"UNKNOWN";
    if (SUCCEEDED(IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJob2,
                                                    (void **)&job2)))
    {
        hr = IBackgroundCopyJob2_GetNotifyCmdLine(job2, &extras->program, &extras->parameters);
        IBackgroundCopyJob2_Release(job2);
        *action = L"get notification command line";
        if (FAILED(hr)) return hr;
    }
    if (SUCCEEDED(IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJob3,
                                                    (void **)&job3)))
    {
        hr = IBackgroundCopyJob3_GetFileACLFlags(job3, &flags);
        IBackgroundCopyJob3_Release(job3);
        *action = L"get ACL flags";
        if (FAILED(hr)) return hr;
        format_acl_flags(flags, extras->acl, ARRAYSIZE(extras->acl));
    }
    if (SUCCEEDED(IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJob4,
                                                    (void **)&job4)))
    {
        *action = L"get owner integrity level";
        hr = IBackgroundCopyJob4_GetOwnerIntegrityLevel(job4, &level);
        if (SUCCEEDED(hr))
        {
            extras->integrity = integrity_level_name(level, extras->integrity_buffer,
                                                     ARRAYSIZE(extras->integrity_buffer));
            *action = L"get owner elevation state";
            hr = IBackgroundCopyJob4_GetOwnerElevationState(job4, &elevated);
        }
        if (SUCCEEDED(hr))
        {
            extras->elevated = elevated ? L"true" : L"false";
            *action = L"get peer caching flags";
            hr = IBackgroundCopyJob4_GetPeerCachingFlags(job4, &extras->peer_flags);
            extras->have_peer_flags = SUCCEEDED(hr);
        }
        IBackgroundCopyJob4_Release(job4);
        if (FAILED(hr)) return hr;
    }
    if (SUCCEEDED(IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJobHttpOptions,
                                                    (void **)&options)))
    {
        hr = IBackgroundCopyJobHttpOptions_GetCustomHeaders(options, &extras->headers);
        IBackgroundCopyJobHttpOptions_Release(options);
        *action = L"get custom headers";
        if (FAILED(hr)) return hr;
        extras->have_headers = TRUE;
    }
    return S_OK;
}

static void print_custom_headers(const struct verbose_extras *extras)
{
    const WCHAR *line, *end;

    if (!extras->have_headers)
    {
        output(L"CUSTOM HEADERS: UNKNOWN\n");
        return;
    }
    if (!extras->headers || !extras->headers[0])
    {
        output(L"CUSTOM HEADERS: NULL\n");
        return;
    }
    output(L"CUSTOM HEADERS:\n");
    for (line = extras->headers; *line; line = end)
    {
        end = line + wcscspn(line, L"\r\n");
        if (end > line) output(L"        %.*ls\n", (int)(end - line), line);
        end += wcsspn(end, L"\r\n");
    }
}

static HRESULT print_verbose_files(IBackgroundCopyJob *job, const WCHAR **action)
{
    IEnumBackgroundCopyFiles *files;
    IBackgroundCopyFile *file;
    HRESULT hr;

    *action = L"enumerate files";
    hr = IBackgroundCopyJob_EnumFiles(job, &files);
    if (FAILED(hr)) return hr;
    output(L"JOB FILES:\n");
    *action = L"get file information";
    while (IEnumBackgroundCopyFiles_Next(files, 1, &file, NULL) == S_OK)
    {
        hr = print_file_line(file, L"        ");
        IBackgroundCopyFile_Release(file);
        if (FAILED(hr)) break;
    }
    IEnumBackgroundCopyFiles_Release(files);
    return hr;
}

/* The IBackgroundCopyJob properties of the verbose block; strings CoTaskMemAlloc'ed. */
struct verbose_basics
{
    GUID id;
    WCHAR *name, *sid, *description, *proxies, *bypass;
    BG_JOB_TYPE type;
    BG_JOB_STATE state;
    BG_JOB_PRIORITY priority;
    BG_JOB_PROGRESS progress;
    BG_JOB_TIMES times;
    BOOL notify_registered;
    ULONG notify_flags, delay, timeout, errors;
    BG_JOB_PROXY_USAGE usage;
};

static HRESULT get_verbose_basics(IBackgroundCopyJob *job, struct verbose_basics *basics)
{
    IUnknown *notify = NULL;
    HRESULT hr;

    hr = IBackgroundCopyJob_GetId(job, &basics->id);
    if (FAILED(hr)) return hr;
    hr = IBackgroundCopyJob_GetDisplayName(job, &basics->name);
    if (FAILED(hr)) return hr;
    hr = IBackgroundCopyJob_GetType(job, &basics->type);
    if (FAILED(hr)) return hr;
    hr = IBackgroundCopyJob_GetState(job, &basics->state);
    if (FAILED(hr)) return hr;
    hr = IBackgroundCopyJob_GetOwner(job, &basics->sid);
    if (FAILED(hr)) return hr;
    hr = IBackgroundCopyJob_GetPriority(job, &basics->priority);
    if (FAILED(hr)) return hr;
    hr = IBackgroundCopyJob_GetProgress(job, &basics->progress);
    if (FAILED(hr)) return hr;
    hr = IBackgroundCopyJob_GetTimes(job, &basics->times);
    if (FAILED(hr)) return hr;
    hr = IBackgroundCopyJob_GetNotifyInterface(job, &notify);
    if (FAILED(hr)) return hr;
    basics->notify_registered = notify != NULL;
    if (notify) IUnknown_Release(notify);
    hr = IBackgroundCopyJob_GetNotifyFlags(job, &basics->notify_flags);
    if (FAILED(hr)) return hr;
    hr = IBackgroundCopyJob_GetMinimumRetryDelay(job, &basics->delay);
    if (FAILED(hr)) return hr;
    hr = IBackgroundCopyJob_GetNoProgressTimeout(job, &basics->timeout);
    if (FAILED(hr)) return hr;
    hr = IBackgroundCopyJob_GetErrorCount(job, &basics->errors);
    if (FAILED(hr)) return hr;
    hr = IBackgroundCopyJob_GetProxySettings(job, &basics->usage, &basics->proxies,
                                             &basics->bypass);
    if (FAILED(hr)) return hr;
    return IBackgroundCopyJob_GetDescription(job, &basics->description);
}

/* Notification command line as '<program>' '<parameters>', or none when there is none. */
static void print_notify_cmdline(const struct verbose_extras *extras)
{
    if (!extras->program)
        output(L"NOTIFICATION COMMAND LINE: none\n");
    else if (!extras->parameters)
        output(L"NOTIFICATION COMMAND LINE: '%ls' NULL\n", extras->program);
    else
        output(L"NOTIFICATION COMMAND LINE: '%ls' '%ls'\n", extras->program, extras->parameters);
}

static const WCHAR *peer_flag(const struct verbose_extras *extras, DWORD flag)
{
    if (!extras->have_peer_flags) return L"UNKNOWN";
    return extras->peer_flags & flag ? L"true" : L"false";
}

/* wire-and-tools.md §3.4, the /INFO /VERBOSE block, in its order; the error block follows the
 * proxy line when the job is in ERROR or TRANSIENT_ERROR.  On failure *action names what
 * failed. */
HRESULT print_job_verbose(struct context *ctx, IBackgroundCopyJob *job, const WCHAR **action)
{
    WCHAR id_text[40], owner[300], done[24], total[24], created[100], modified[100];
    WCHAR completed[100];
    struct verbose_basics basics;
    struct verbose_extras extras;
    IBackgroundCopyError *error;
    HRESULT hr, code;

    memset(&basics, 0, sizeof(basics));
    memset(&extras, 0, sizeof(extras));
    *action = L"get job properties";
    hr = get_verbose_basics(job, &basics);
    if (SUCCEEDED(hr)) hr = get_verbose_extras(job, &extras, action);
    if (FAILED(hr)) goto done;

    StringFromGUID2(&basics.id, id_text, ARRAYSIZE(id_text));
    format_owner(basics.sid, owner, ARRAYSIZE(owner));
    output(L"GUID: %ls DISPLAY: '%ls'\n", id_text, basics.name);
    output(L"TYPE: %ls STATE: %ls OWNER: %ls\n", type_name(basics.type),
           state_name(basics.state), owner);
    output(L"PRIORITY: %ls FILES: %lu / %lu BYTES: %ls / %ls\n", priority_name(basics.priority),
           basics.progress.FilesTransferred, basics.progress.FilesTotal,
           format_size(basics.progress.BytesTransferred, done, ARRAYSIZE(done)),
           format_size(basics.progress.BytesTotal, total, ARRAYSIZE(total)));
    output(L"CREATION TIME: %ls MODIFICATION TIME: %ls\n",
           format_time(&basics.times.CreationTime, created, ARRAYSIZE(created)),
           format_time(&basics.times.ModificationTime, modified, ARRAYSIZE(modified)));
    output(L"COMPLETION TIME: %ls ACL FLAGS: %ls\n",
           format_time(&basics.times.TransferCompletionTime, completed, ARRAYSIZE(completed)),
           extras.acl);
    output(L"NOTIFY INTERFACE: %ls NOTIFICATION FLAGS: %lu\n",
           basics.notify_registered ? L"REGISTERED" : L"UNREGISTERED", basics.notify_flags);
    output(L"RETRY DELAY: %lu NO PROGRESS TIMEOUT: %lu ERROR COUNT: %lu\n", basics.delay,
           basics.timeout, basics.errors);
    output(L"PROXY USAGE: %ls PROXY LIST: %ls PROXY BYPASS LIST: %ls\n",
           proxy_usage_name(basics.usage), basics.proxies ? basics.proxies : L"NULL",
           basics.bypass ? basics.bypass : L"NULL");
    if (basics.state == BG_JOB_STATE_ERROR || basics.state == BG_JOB_STATE_TRANSIENT_ERROR)
    {
        *action = L"get error";
        hr = IBackgroundCopyJob_GetError(job, &error);
        if (FAILED(hr)) goto done;
        hr = print_error(ctx, error, &code);
        IBackgroundCopyError_Release(error);
        if (FAILED(hr)) goto done;
    }
    output(L"DESCRIPTION: %ls\n", basics.description);
    hr = print_verbose_files(job, action);
    if (FAILED(hr)) goto done;
    print_notify_cmdline(&extras);
    output(L"owner MIC integrity level: %ls\n", extras.integrity);
    output(L"owner elevated ?   %ls\n", extras.elevated);
    output(L"Peercaching flags\n");
    output(L"        Enable download from peers      :%ls\n",
           peer_flag(&extras, BG_ENABLE_PEERCACHING_CLIENT));
    output(L"        Enable serving to peers         :%ls\n",
           peer_flag(&extras, BG_ENABLE_PEERCACHING_SERVER));
    print_custom_headers(&extras);

done:
    CoTaskMemFree(basics.name);
    CoTaskMemFree(basics.sid);
    CoTaskMemFree(basics.description);
    CoTaskMemFree(basics.proxies);
    CoTaskMemFree(basics.bypass);
    CoTaskMemFree(extras.program);
    CoTaskMemFree(extras.parameters);
    CoTaskMemFree(extras.headers);
    return hr;
}
