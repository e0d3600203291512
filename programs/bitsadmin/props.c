/* bitsadmin: the property getters and setters of wire-and-tools.md §3.3.  A getter prints the
 * bare value on a line (also with /RAWRETURN); a setter confirms with "<Property> set to
 * <value>." [inferred], which /RAWRETURN leaves out.  Properties of the newer interfaces are
 * reached by QueryInterface on the job; where the service lacks one, the command fails with
 * its HRESULT.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "bitsadmin.h"

#define MAX_CUSTOM_HEADERS_LENGTH 16384

/* Names accepted for enumerations: the bitsadmin keyword for each value. */
static BOOL parse_name(const WCHAR *text, const WCHAR *const *names, unsigned int count,
                       unsigned int *value)
{
    unsigned int i;

    for (i = 0; i < count; i++)
    {
        if (names[i] && !_wcsicmp(text, names[i]))
        {
            *value = i;
            return TRUE;
        }
    }
    return FALSE;
}

BOOL parse_priority(const WCHAR *text, BG_JOB_PRIORITY *priority)
{
    static const WCHAR *const names[] = { L"FOREGROUND", L"HIGH", L"NORMAL", L"LOW" };
    unsigned int value;

    if (!parse_name(text, names, ARRAYSIZE(names), &value)) return FALSE;
    *priority = value;
    return TRUE;
}

/* wire-and-tools.md §3.3 /SETACLFLAGS: letters o, g, d and s; a number is taken as well. */
BOOL parse_acl_flags(const WCHAR *text, DWORD *flags)
{
    ULONG value;

    if (parse_ulong(text, &value))
    {
        *flags = value;
        return TRUE;
    }
    for (*flags = 0; *text; text++)
    {
        switch (towlower(*text))
        {
        case 'o': *flags |= BG_COPY_FILE_OWNER; break;
        case 'g': *flags |= BG_COPY_FILE_GROUP; break;
        case 'd': *flags |= BG_COPY_FILE_DACL; break;
        case 's': *flags |= BG_COPY_FILE_SACL; break;
        default: return FALSE;
        }
    }
    return TRUE;
}

static int print_ulong(struct context *ctx, const WCHAR *action, HRESULT hr, ULONG value)
{
    if (FAILED(hr)) return report_failure(ctx, action, hr);
    output(L"%lu\n", value);
    return 0;
}

static int print_flags(struct context *ctx, const WCHAR *action, HRESULT hr, ULONG value)
{
    if (FAILED(hr)) return report_failure(ctx, action, hr);
    output(L"0x%lX\n", value);
    return 0;
}

/* Prints a string the service allocated, NULL for none, and frees it. */
static int print_string(struct context *ctx, const WCHAR *action, HRESULT hr, WCHAR *value)
{
    if (FAILED(hr))
    {
        CoTaskMemFree(value);
        return report_failure(ctx, action, hr);
    }
    output(L"%ls\n", value ? value : L"NULL");
    CoTaskMemFree(value);
    return 0;
}

/* The end of a setter: the failure line, or the confirmation. */
static int set_done(struct context *ctx, const WCHAR *action, HRESULT hr,
                    const WCHAR *format, ...)
{
    WCHAR text[1024];
    va_list args;

    if (FAILED(hr)) return report_failure(ctx, action, hr);
    if (output_is_raw()) return 0;
    va_start(args, format);
    _vsnwprintf(text, ARRAYSIZE(text), format, args);
    va_end(args);
    text[ARRAYSIZE(text) - 1] = 0;
    output(L"%ls\n", text);
    return 0;
}

static int bad_number(const WCHAR *text)
{
    return usage_error(L"Invalid number '%ls'.", text);
}

int op_getacl(struct context *ctx, const struct command *cmd, IBackgroundCopyJob *job,
              int argc, WCHAR **argv)
{
    IBackgroundCopyJob3 *job3;
    WCHAR letters[8];
    DWORD flags = 0;
    HRESULT hr;

    (void)cmd;
    (void)argc;
    (void)argv;
    hr = IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJob3, (void **)&job3);
    if (SUCCEEDED(hr))
    {
        hr = IBackgroundCopyJob3_GetFileACLFlags(job3, &flags);
        IBackgroundCopyJob3_Release(job3);
    }
    if (FAILED(hr)) return report_failure(ctx, L"get ACL flags", hr);
    format_acl_flags(flags, letters, ARRAYSIZE(letters));
    output(L"%ls\n", letters);
    return 0;
}

int op_setacl(struct context *ctx, const struct command *cmd, IBackgroundCopyJob *job,
              int argc, WCHAR **argv)
{
    IBackgroundCopyJob3 *job3;
    WCHAR letters[8];
    DWORD flags;
    HRESULT hr;

    (void)cmd;
    (void)argc;
    if (!parse_acl_flags(argv[0], &flags))
        return usage_error(L"Invalid ACL flags '%ls'; use any of o, g, d and s.", argv[0]);
    hr = IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJob3, (void **)&job3);
    if (SUCCEEDED(hr))
    {
        hr = IBackgroundCopyJob3_SetFileACLFlags(job3, flags);
        IBackgroundCopyJob3_Release(job3);
    }
    format_acl_flags(flags, letters, ARRAYSIZE(letters));
    return set_done(ctx, L"set ACL flags", hr, L"ACL flags set to '%ls'.", letters);
}

static int print_progress_field(struct context *ctx, IBackgroundCopyJob *job, unsigned int field)
{
    BG_JOB_PROGRESS progress;
    WCHAR buffer[24];
    HRESULT hr;

    hr = IBackgroundCopyJob_GetProgress(job, &progress);
    if (FAILED(hr)) return report_failure(ctx, L"get progress", hr);
    switch (field)
    {
    case 0: output(L"%ls\n", format_size(progress.BytesTotal, buffer, ARRAYSIZE(buffer))); break;
    case 1:
        output(L"%ls\n", format_size(progress.BytesTransferred, buffer, ARRAYSIZE(buffer)));
        break;
    case 2: output(L"%lu\n", progress.FilesTotal); break;
    default: output(L"%lu\n", progress.FilesTransferred); break;
    }
    return 0;
}

/* /GETBYTESTOTAL, /GETBYTESTRANSFERRED, /GETFILESTOTAL, /GETFILESTRANSFERRED (cmd->field). */
int op_getprogressfield(struct context *ctx, const struct command *cmd, IBackgroundCopyJob *job,
                        int argc, WCHAR **argv)
{
    (void)argc;
    (void)argv;
    return print_progress_field(ctx, job, cmd->field);
}

/* Not a Windows command: the FILES and BYTES fields of the /TRANSFER block in one line. */
int op_getprogress(struct context *ctx, const struct command *cmd, IBackgroundCopyJob *job,
                   int argc, WCHAR **argv)
{
    WCHAR done[24], total[24];
    BG_JOB_PROGRESS progress;
    HRESULT hr;

    (void)cmd;
    (void)argc;
    (void)argv;
    hr = IBackgroundCopyJob_GetProgress(job, &progress);
    if (FAILED(hr)) return report_failure(ctx, L"get progress", hr);
    output(L"FILES: %lu / %lu BYTES: %ls / %ls\n", progress.FilesTransferred, progress.FilesTotal,
           format_size(progress.BytesTransferred, done, ARRAYSIZE(done)),
           format_size(progress.BytesTotal, total, ARRAYSIZE(total)));
    return 0;
}

static int print_time_field(struct context *ctx, IBackgroundCopyJob *job, unsigned int field)
{
    const FILETIME *time;
    BG_JOB_TIMES times;
    WCHAR buffer[100];
    HRESULT hr;

    hr = IBackgroundCopyJob_GetTimes(job, &times);
    if (FAILED(hr)) return report_failure(ctx, L"get times", hr);
    if (field == 0)
        time = &times.CreationTime;
    else if (field == 1)
        time = &times.ModificationTime;
    else
        time = &times.TransferCompletionTime;
    output(L"%ls\n", format_time(time, buffer, ARRAYSIZE(buffer)));
    return 0;
}

/* /GETCREATIONTIME, /GETMODIFICATIONTIME, /GETCOMPLETIONTIME (cmd->field). */
int op_gettimefield(struct context *ctx, const struct command *cmd, IBackgroundCopyJob *job,
                    int argc, WCHAR **argv)
{
    (void)argc;
    (void)argv;
    return print_time_field(ctx, job, cmd->field);
}

int op_gettype(struct context *ctx, const struct command *cmd, IBackgroundCopyJob *job,
               int argc, WCHAR **argv)
{
    BG_JOB_TYPE type;
    HRESULT hr;

    (void)cmd;
    (void)argc;
    (void)argv;
    hr = IBackgroundCopyJob_GetType(job, &type);
    if (FAILED(hr)) return report_failure(ctx, L"get type", hr);
    output(L"%ls\n", type_name(type));
    return 0;
}

int op_getstate(struct context *ctx, const struct command *cmd, IBackgroundCopyJob *job,
                int argc, WCHAR **argv)
{
    BG_JOB_STATE state;
    HRESULT hr;

    (void)cmd;
    (void)argc;
    (void)argv;
    hr = IBackgroundCopyJob_GetState(job, &state);
    if (FAILED(hr)) return report_failure(ctx, L"get state", hr);
    output(L"%ls\n", state_name(state));
    return 0;
}

int op_geterror(struct context *ctx, const struct command *cmd, IBackgroundCopyJob *job,
                int argc, WCHAR **argv)
{
    IBackgroundCopyError *error;
    HRESULT hr, code;

    (void)cmd;
    (void)argc;
    (void)argv;
    hr = IBackgroundCopyJob_GetError(job, &error);
    if (FAILED(hr)) return report_failure(ctx, L"get error", hr);
    hr = print_error(ctx, error, &code);
    IBackgroundCopyError_Release(error);
    if (FAILED(hr)) return report_failure(ctx, L"get error", hr);
    return 0;
}

int op_geterrorcount(struct context *ctx, const struct command *cmd, IBackgroundCopyJob *job,
                     int argc, WCHAR **argv)
{
    ULONG count = 0;
    HRESULT hr;

    (void)cmd;
    (void)argc;
    (void)argv;
    hr = IBackgroundCopyJob_GetErrorCount(job, &count);
    return print_ulong(ctx, L"get error count", hr, count);
}

int op_getowner(struct context *ctx, const struct command *cmd, IBackgroundCopyJob *job,
                int argc, WCHAR **argv)
{
    WCHAR *sid, owner[300];
    HRESULT hr;

    (void)cmd;
    (void)argc;
    (void)argv;
    hr = IBackgroundCopyJob_GetOwner(job, &sid);
    if (FAILED(hr)) return report_failure(ctx, L"get owner", hr);
    format_owner(sid, owner, ARRAYSIZE(owner));
    CoTaskMemFree(sid);
    output(L"%ls\n", owner);
    return 0;
}

int op_getdisplayname(struct context *ctx, const struct command *cmd, IBackgroundCopyJob *job,
                      int argc, WCHAR **argv)
{
    WCHAR *name = NULL;
    HRESULT hr;

    (void)cmd;
    (void)argc;
    (void)argv;
    hr = IBackgroundCopyJob_GetDisplayName(job, &name);
    return print_string(ctx, L"get display name", hr, name);
}

int op_setdisplayname(struct context *ctx, const struct command *cmd, IBackgroundCopyJob *job,
                      int argc, WCHAR **argv)
{
    HRESULT hr;

    (void)cmd;
    (void)argc;
    hr = IBackgroundCopyJob_SetDisplayName(job, argv[0]);
    return set_done(ctx, L"set display name", hr, L"Display name set to '%ls'.", argv[0]);
}

int op_getdescription(struct context *ctx, const struct command *cmd, IBackgroundCopyJob *job,
                      int argc, WCHAR **argv)
{
    WCHAR *description = NULL;
    HRESULT hr;

    (void)cmd;
    (void)argc;
    (void)argv;
    hr = IBackgroundCopyJob_GetDescription(job, &description);
    return print_string(ctx, L"get description", hr, description);
}

int op_setdescription(struct context *ctx, const struct command *cmd, IBackgroundCopyJob *job,
                      int argc, WCHAR **argv)
{
    HRESULT hr;

    (void)cmd;
    (void)argc;
    hr = IBackgroundCopyJob_SetDescription(job, argv[0]);
    return set_done(ctx, L"set description", hr, L"Description set to '%ls'.", argv[0]);
}

int op_getpriority(struct context *ctx, const struct command *cmd, IBackgroundCopyJob *job,
                   int argc, WCHAR **argv)
{
    BG_JOB_PRIORITY priority;
    HRESULT hr;

    (void)cmd;
    (void)argc;
    (void)argv;
    hr = IBackgroundCopyJob_GetPriority(job, &priority);
    if (FAILED(hr)) return report_failure(ctx, L"get priority", hr);
    output(L"%ls\n", priority_name(priority));
    return 0;
}

int op_setpriority(struct context *ctx, const struct command *cmd, IBackgroundCopyJob *job,
                   int argc, WCHAR **argv)
{
    BG_JOB_PRIORITY priority;
    HRESULT hr;

    (void)cmd;
    (void)argc;
    if (!parse_priority(argv[0], &priority))
        return usage_error(L"Invalid priority '%ls'; use FOREGROUND, HIGH, NORMAL or LOW.",
                           argv[0]);
    hr = IBackgroundCopyJob_SetPriority(job, priority);
    return set_done(ctx, L"set priority", hr, L"Priority set to %ls.", priority_name(priority));
}

/* wire-and-tools.md §3.3: flags print in hexadecimal in our bitsadmin. */
int op_getnotifyflags(struct context *ctx, const struct command *cmd, IBackgroundCopyJob *job,
                      int argc, WCHAR **argv)
{
    ULONG flags = 0;
    HRESULT hr;

    (void)cmd;
    (void)argc;
    (void)argv;
    hr = IBackgroundCopyJob_GetNotifyFlags(job, &flags);
    return print_flags(ctx, L"get notification flags", hr, flags);
}

int op_setnotifyflags(struct context *ctx, const struct command *cmd, IBackgroundCopyJob *job,
                      int argc, WCHAR **argv)
{
    ULONG flags;
    HRESULT hr;

    (void)cmd;
    (void)argc;
    if (!parse_ulong(argv[0], &flags)) return bad_number(argv[0]);
    hr = IBackgroundCopyJob_SetNotifyFlags(job, flags);
    return set_done(ctx, L"set notification flags", hr, L"Notification flags set to 0x%lX.",
                    flags);
}

int op_getnotifyinterface(struct context *ctx, const struct command *cmd,
                          IBackgroundCopyJob *job, int argc, WCHAR **argv)
{
    IUnknown *notify = NULL;
    HRESULT hr;

    (void)cmd;
    (void)argc;
    (void)argv;
    hr = IBackgroundCopyJob_GetNotifyInterface(job, &notify);
    if (FAILED(hr)) return report_failure(ctx, L"get notification interface", hr);
    output(L"%ls\n", notify ? L"REGISTERED" : L"UNREGISTERED");
    if (notify) IUnknown_Release(notify);
    return 0;
}

/* '<program>' '<parameters>' (NULL for no parameters), or none. */
int op_getnotifycmdline(struct context *ctx, const struct command *cmd,
                        IBackgroundCopyJob *job, int argc, WCHAR **argv)
{
    WCHAR *program = NULL, *parameters = NULL;
    IBackgroundCopyJob2 *job2;
    HRESULT hr;

    (void)cmd;
    (void)argc;
    (void)argv;
    hr = IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJob2, (void **)&job2);
    if (SUCCEEDED(hr))
    {
        hr = IBackgroundCopyJob2_GetNotifyCmdLine(job2, &program, &parameters);
        IBackgroundCopyJob2_Release(job2);
    }
    if (FAILED(hr)) return report_failure(ctx, L"get notification command line", hr);
    if (!program)
        output(L"none\n");
    else if (!parameters)
        output(L"'%ls' NULL\n", program);
    else
        output(L"'%ls' '%ls'\n", program, parameters);
    CoTaskMemFree(program);
    CoTaskMemFree(parameters);
    return 0;
}

int op_setnotifycmdline(struct context *ctx, const struct command *cmd,
                        IBackgroundCopyJob *job, int argc, WCHAR **argv)
{
    const WCHAR *program = null_arg(argv[0]), *parameters = argc > 1 ? null_arg(argv[1]) : NULL;
    IBackgroundCopyJob2 *job2;
    HRESULT hr;

    (void)cmd;
    hr = IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJob2, (void **)&job2);
    if (SUCCEEDED(hr))
    {
        hr = IBackgroundCopyJob2_SetNotifyCmdLine(job2, program, parameters);
        IBackgroundCopyJob2_Release(job2);
    }
    if (!program)
        return set_done(ctx, L"set notification command line", hr,
                        L"Notification command line removed.");
    if (!parameters)
        return set_done(ctx, L"set notification command line", hr,
                        L"Notification command line set to '%ls' NULL.", program);
    return set_done(ctx, L"set notification command line", hr,
                    L"Notification command line set to '%ls' '%ls'.", program, parameters);
}

int op_getminretrydelay(struct context *ctx, const struct command *cmd, IBackgroundCopyJob *job,
                        int argc, WCHAR **argv)
{
    ULONG seconds = 0;
    HRESULT hr;

    (void)cmd;
    (void)argc;
    (void)argv;
    hr = IBackgroundCopyJob_GetMinimumRetryDelay(job, &seconds);
    return print_ulong(ctx, L"get minimum retry delay", hr, seconds);
}

int op_setminretrydelay(struct context *ctx, const struct command *cmd, IBackgroundCopyJob *job,
                        int argc, WCHAR **argv)
{
    ULONG seconds;
    HRESULT hr;

    (void)cmd;
    (void)argc;
    if (!parse_ulong(argv[0], &seconds)) return bad_number(argv[0]);
    hr = IBackgroundCopyJob_SetMinimumRetryDelay(job, seconds);
    return set_done(ctx, L"set minimum retry delay", hr,
                    L"Minimum retry delay set to %lu seconds.", seconds);
}

int op_getnoprogresstimeout(struct context *ctx, const struct command *cmd,
                            IBackgroundCopyJob *job, int argc, WCHAR **argv)
{
    ULONG seconds = 0;
    HRESULT hr;

    (void)cmd;
    (void)argc;
    (void)argv;
    hr = IBackgroundCopyJob_GetNoProgressTimeout(job, &seconds);
    return print_ulong(ctx, L"get no progress timeout", hr, seconds);
}

int op_setnoprogresstimeout(struct context *ctx, const struct command *cmd,
                            IBackgroundCopyJob *job, int argc, WCHAR **argv)
{
    ULONG seconds;
    HRESULT hr;

    (void)cmd;
    (void)argc;
    if (!parse_ulong(argv[0], &seconds)) return bad_number(argv[0]);
    hr = IBackgroundCopyJob_SetNoProgressTimeout(job, seconds);
    return set_done(ctx, L"set no progress timeout", hr,
                    L"No progress timeout set to %lu seconds.", seconds);
}

int op_getmaxdownloadtime(struct context *ctx, const struct command *cmd,
                          IBackgroundCopyJob *job, int argc, WCHAR **argv)
{
    IBackgroundCopyJob4 *job4;
    ULONG seconds = 0;
    HRESULT hr;

    (void)cmd;
    (void)argc;
    (void)argv;
    hr = IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJob4, (void **)&job4);
    if (SUCCEEDED(hr))
    {
        hr = IBackgroundCopyJob4_GetMaximumDownloadTime(job4, &seconds);
        IBackgroundCopyJob4_Release(job4);
    }
    return print_ulong(ctx, L"get maximum download time", hr, seconds);
}

int op_setmaxdownloadtime(struct context *ctx, const struct command *cmd,
                          IBackgroundCopyJob *job, int argc, WCHAR **argv)
{
    IBackgroundCopyJob4 *job4;
    ULONG seconds;
    HRESULT hr;

    (void)cmd;
    (void)argc;
    if (!parse_ulong(argv[0], &seconds)) return bad_number(argv[0]);
    hr = IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJob4, (void **)&job4);
    if (SUCCEEDED(hr))
    {
        hr = IBackgroundCopyJob4_SetMaximumDownloadTime(job4, seconds);
        IBackgroundCopyJob4_Release(job4);
    }
    return set_done(ctx, L"set maximum download time", hr,
                    L"Maximum download time set to %lu seconds.", seconds);
}

/* Prints one of the proxy settings: 0 usage, 1 list, 2 bypass list. */
static int print_proxy_field(struct context *ctx, IBackgroundCopyJob *job, unsigned int field)
{
    WCHAR *proxies = NULL, *bypass = NULL;
    BG_JOB_PROXY_USAGE usage;
    HRESULT hr;

    hr = IBackgroundCopyJob_GetProxySettings(job, &usage, &proxies, &bypass);
    if (FAILED(hr)) return report_failure(ctx, L"get proxy settings", hr);
    if (field == 0)
        output(L"%ls\n", proxy_usage_name(usage));
    else if (field == 1)
        output(L"%ls\n", proxies ? proxies : L"NULL");
    else
        output(L"%ls\n", bypass ? bypass : L"NULL");
    CoTaskMemFree(proxies);
    CoTaskMemFree(bypass);
    return 0;
}

/* /GETPROXYUSAGE, /GETPROXYLIST, /GETPROXYBYPASSLIST (cmd->field). */
int op_getproxyfield(struct context *ctx, const struct command *cmd, IBackgroundCopyJob *job,
                     int argc, WCHAR **argv)
{
    (void)argc;
    (void)argv;
    return print_proxy_field(ctx, job, cmd->field);
}

/* wire-and-tools.md §3.3: OVERRIDE takes a proxy list and a bypass list (NULL allowed); the
 * other usages take nothing more. */
int op_setproxysettings(struct context *ctx, const struct command *cmd,
                        IBackgroundCopyJob *job, int argc, WCHAR **argv)
{
    static const WCHAR *const names[] = { L"PRECONFIG", L"NO_PROXY", L"OVERRIDE", L"AUTODETECT" };
    const WCHAR *proxies = NULL, *bypass = NULL;
    unsigned int usage;
    HRESULT hr;

    (void)cmd;
    if (!parse_name(argv[0], names, ARRAYSIZE(names), &usage))
        return usage_error(L"Invalid proxy usage '%ls'; use PRECONFIG, AUTODETECT, NO_PROXY or "
                           L"OVERRIDE.", argv[0]);
    if (usage == BG_JOB_PROXY_USAGE_OVERRIDE)
    {
        if (argc != 3) return usage_error(L"Invalid number of arguments.");
        proxies = null_arg(argv[1]);
        bypass = null_arg(argv[2]);
    }
    else if (argc != 1)
    {
        return usage_error(L"Invalid number of arguments.");
    }
    hr = IBackgroundCopyJob_SetProxySettings(job, usage, proxies, bypass);
    return set_done(ctx, L"set proxy settings", hr, L"Proxy usage set to %ls.",
                    proxy_usage_name(usage));
}

static BOOL parse_auth(const WCHAR *target_text, const WCHAR *scheme_text,
                       BG_AUTH_TARGET *target, BG_AUTH_SCHEME *scheme)
{
    static const WCHAR *const targets[] = { NULL, L"SERVER", L"PROXY" };
    static const WCHAR *const schemes[] =
    {
        NULL, L"BASIC", L"DIGEST", L"NTLM", L"NEGOTIATE", L"PASSPORT",
    };
    unsigned int value;

    if (!parse_name(target_text, targets, ARRAYSIZE(targets), &value)) return FALSE;
    *target = value;
    if (!parse_name(scheme_text, schemes, ARRAYSIZE(schemes), &value)) return FALSE;
    *scheme = value;
    return TRUE;
}

int op_setcredentials(struct context *ctx, const struct command *cmd, IBackgroundCopyJob *job,
                      int argc, WCHAR **argv)
{
    BG_AUTH_CREDENTIALS credentials;
    IBackgroundCopyJob2 *job2;
    HRESULT hr;

    (void)cmd;
    (void)argc;
    memset(&credentials, 0, sizeof(credentials));
    if (!parse_auth(argv[0], argv[1], &credentials.Target, &credentials.Scheme))
        return usage_error(L"Invalid target or scheme; use SERVER or PROXY, and BASIC, DIGEST, "
                           L"NTLM, NEGOTIATE or PASSPORT.");
    credentials.Credentials.Basic.UserName = (WCHAR *)null_arg(argv[2]);
    credentials.Credentials.Basic.Password = (WCHAR *)null_arg(argv[3]);
    hr = IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJob2, (void **)&job2);
    if (SUCCEEDED(hr))
    {
        hr = IBackgroundCopyJob2_SetCredentials(job2, &credentials);
        IBackgroundCopyJob2_Release(job2);
    }
    SecureZeroMemory(argv[3], wcslen(argv[3]) * sizeof(WCHAR));
    return set_done(ctx, L"set credentials", hr, L"Credentials set.");
}

int op_removecredentials(struct context *ctx, const struct command *cmd,
                         IBackgroundCopyJob *job, int argc, WCHAR **argv)
{
    IBackgroundCopyJob2 *job2;
    BG_AUTH_TARGET target;
    BG_AUTH_SCHEME scheme;
    HRESULT hr;

    (void)cmd;
    (void)argc;
    if (!parse_auth(argv[0], argv[1], &target, &scheme))
        return usage_error(L"Invalid target or scheme; use SERVER or PROXY, and BASIC, DIGEST, "
                           L"NTLM, NEGOTIATE or PASSPORT.");
    hr = IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJob2, (void **)&job2);
    if (SUCCEEDED(hr))
    {
        hr = IBackgroundCopyJob2_RemoveCredentials(job2, target, scheme);
        IBackgroundCopyJob2_Release(job2);
    }
    return set_done(ctx, L"remove credentials", hr, L"Credentials removed.");
}

int op_getreplyfilename(struct context *ctx, const struct command *cmd,
                        IBackgroundCopyJob *job, int argc, WCHAR **argv)
{
    IBackgroundCopyJob2 *job2;
    WCHAR *name = NULL;
    HRESULT hr;

    (void)cmd;
    (void)argc;
    (void)argv;
    hr = IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJob2, (void **)&job2);
    if (SUCCEEDED(hr))
    {
        hr = IBackgroundCopyJob2_GetReplyFileName(job2, &name);
        IBackgroundCopyJob2_Release(job2);
    }
    return print_string(ctx, L"get reply file name", hr, name);
}

int op_setreplyfilename(struct context *ctx, const struct command *cmd,
                        IBackgroundCopyJob *job, int argc, WCHAR **argv)
{
    const WCHAR *name = null_arg(argv[0]);
    IBackgroundCopyJob2 *job2;
    HRESULT hr;

    (void)cmd;
    (void)argc;
    hr = IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJob2, (void **)&job2);
    if (SUCCEEDED(hr))
    {
        hr = IBackgroundCopyJob2_SetReplyFileName(job2, name);
        IBackgroundCopyJob2_Release(job2);
    }
    return set_done(ctx, L"set reply file name", hr, L"Reply file name set to %ls.",
                    name ? name : L"NULL");
}

/* wire-and-tools.md §3.3: "n / m" bytes of the reply. */
int op_getreplyprogress(struct context *ctx, const struct command *cmd,
                        IBackgroundCopyJob *job, int argc, WCHAR **argv)
{
    BG_JOB_REPLY_PROGRESS progress;
    IBackgroundCopyJob2 *job2;
    WCHAR done[24], total[24];
    HRESULT hr;

    (void)cmd;
    (void)argc;
    (void)argv;
    hr = IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJob2, (void **)&job2);
    if (SUCCEEDED(hr))
    {
        hr = IBackgroundCopyJob2_GetReplyProgress(job2, &progress);
        IBackgroundCopyJob2_Release(job2);
    }
    if (FAILED(hr)) return report_failure(ctx, L"get reply progress", hr);
    output(L"%ls / %ls\n", format_size(progress.BytesTransferred, done, ARRAYSIZE(done)),
           format_size(progress.BytesTotal, total, ARRAYSIZE(total)));
    return 0;
}

/* The reply as a hex dump: offset, 16 bytes in hexadecimal, the same as text. */
static void print_hex_dump(const BYTE *data, UINT64 length)
{
    WCHAR hex[16 * 3 + 1], text[16 + 1];
    UINT64 offset;
    unsigned int i;

    for (offset = 0; offset < length; offset += 16)
    {
        for (i = 0; i < 16; i++)
        {
            if (offset + i < length)
            {
                BYTE byte = data[offset + i];

                _snwprintf(hex + 3 * i, 4, L"%02X ", byte);
                text[i] = byte >= 0x20 && byte < 0x7f ? byte : '.';
            }
            else
            {
                wcscpy(hex + 3 * i, L"   ");
                text[i] = ' ';
            }
        }
        hex[16 * 3] = 0;
        text[16] = 0;
        output(L"%08I64X  %ls %ls\n", offset, hex, text);
    }
}

int op_getreplydata(struct context *ctx, const struct command *cmd, IBackgroundCopyJob *job,
                    int argc, WCHAR **argv)
{
    IBackgroundCopyJob2 *job2;
    BYTE *data = NULL;
    UINT64 length = 0;
    HRESULT hr;

    (void)cmd;
    (void)argc;
    (void)argv;
    hr = IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJob2, (void **)&job2);
    if (SUCCEEDED(hr))
    {
        hr = IBackgroundCopyJob2_GetReplyData(job2, &data, &length);
        IBackgroundCopyJob2_Release(job2);
    }
    if (FAILED(hr)) return report_failure(ctx, L"get reply data", hr);
    if (data) print_hex_dump(data, length);
    CoTaskMemFree(data);
    if (!output_is_raw()) output(L"%I64u byte(s) of reply data.\n", length);
    return 0;
}

/* Custom headers one per line, or NULL (GetCustomHeaders gives S_FALSE and NULL for none). */
int op_getcustomheaders(struct context *ctx, const struct command *cmd,
                        IBackgroundCopyJob *job, int argc, WCHAR **argv)
{
    IBackgroundCopyJobHttpOptions *options;
    WCHAR *headers = NULL, *line, *end;
    HRESULT hr;

    (void)cmd;
    (void)argc;
    (void)argv;
    hr = IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJobHttpOptions,
                                           (void **)&options);
    if (SUCCEEDED(hr))
    {
        hr = IBackgroundCopyJobHttpOptions_GetCustomHeaders(options, &headers);
        IBackgroundCopyJobHttpOptions_Release(options);
    }
    if (FAILED(hr)) return report_failure(ctx, L"get custom headers", hr);
    if (!headers || !headers[0]) output(L"NULL\n");
    for (line = headers; line && *line; line = end)
    {
        end = line + wcscspn(line, L"\r\n");
        if (end > line) output(L"%.*ls\n", (int)(end - line), line);
        end += wcsspn(end, L"\r\n");
    }
    CoTaskMemFree(headers);
    return 0;
}

/* wire-and-tools.md §3.3: each argument is a "Name: value" header; NULL alone clears them.
 * The service takes them as one string of CRLF-terminated lines. */
int op_setcustomheaders(struct context *ctx, const struct command *cmd,
                        IBackgroundCopyJob *job, int argc, WCHAR **argv)
{
    IBackgroundCopyJobHttpOptions *options;
    WCHAR *headers = NULL;
    size_t len = 0;
    HRESULT hr;
    int i;

    (void)cmd;
    if (argc > 1 || null_arg(argv[0]))
    {
        for (i = 0; i < argc; i++) len += wcslen(argv[i]) + 2;
        if (len >= MAX_CUSTOM_HEADERS_LENGTH)
            return report_failure(ctx, L"set custom headers", BG_E_STRING_TOO_LONG);
        headers = malloc((len + 1) * sizeof(WCHAR));
        if (!headers) return report_failure(ctx, L"set custom headers", E_OUTOFMEMORY);
        headers[0] = 0;
        for (i = 0; i < argc; i++)
        {
            wcscat(headers, argv[i]);
            wcscat(headers, L"\r\n");
        }
    }
    hr = IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJobHttpOptions,
                                           (void **)&options);
    if (SUCCEEDED(hr))
    {
        hr = IBackgroundCopyJobHttpOptions_SetCustomHeaders(options, headers);
        IBackgroundCopyJobHttpOptions_Release(options);
    }
    if (!headers)
        return set_done(ctx, L"set custom headers", hr, L"Custom headers removed.");
    free(headers);
    return set_done(ctx, L"set custom headers", hr, L"%d custom header(s) set.", argc);
}

int op_makecustomheaderswriteonly(struct context *ctx, const struct command *cmd,
                                  IBackgroundCopyJob *job, int argc, WCHAR **argv)
{
    IBackgroundCopyJobHttpOptions3 *options;
    HRESULT hr;

    (void)cmd;
    (void)argc;
    (void)argv;
    hr = IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJobHttpOptions3,
                                           (void **)&options);
    if (SUCCEEDED(hr))
    {
        hr = IBackgroundCopyJobHttpOptions3_MakeCustomHeadersWriteOnly(options);
        IBackgroundCopyJobHttpOptions3_Release(options);
    }
    return set_done(ctx, L"make custom headers write-only", hr,
                    L"Custom headers made write-only.");
}

int op_getsecurityflags(struct context *ctx, const struct command *cmd,
                        IBackgroundCopyJob *job, int argc, WCHAR **argv)
{
    IBackgroundCopyJobHttpOptions *options;
    ULONG flags = 0;
    HRESULT hr;

    (void)cmd;
    (void)argc;
    (void)argv;
    hr = IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJobHttpOptions,
                                           (void **)&options);
    if (SUCCEEDED(hr))
    {
        hr = IBackgroundCopyJobHttpOptions_GetSecurityFlags(options, &flags);
        IBackgroundCopyJobHttpOptions_Release(options);
    }
    return print_flags(ctx, L"get security flags", hr, flags);
}

int op_setsecurityflags(struct context *ctx, const struct command *cmd,
                        IBackgroundCopyJob *job, int argc, WCHAR **argv)
{
    IBackgroundCopyJobHttpOptions *options;
    ULONG flags;
    HRESULT hr;

    (void)cmd;
    (void)argc;
    if (!parse_ulong(argv[0], &flags)) return bad_number(argv[0]);
    hr = IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJobHttpOptions,
                                           (void **)&options);
    if (SUCCEEDED(hr))
    {
        hr = IBackgroundCopyJobHttpOptions_SetSecurityFlags(options, flags);
        IBackgroundCopyJobHttpOptions_Release(options);
    }
    return set_done(ctx, L"set security flags", hr, L"Security flags set to 0x%lX.", flags);
}

static const WCHAR *const store_locations[] =
{
    L"CURRENT_USER", L"LOCAL_MACHINE", L"CURRENT_SERVICE", L"SERVICES", L"USERS",
    L"CURRENT_USER_GROUP_POLICY", L"LOCAL_MACHINE_GROUP_POLICY", L"LOCAL_MACHINE_ENTERPRISE",
};

static BOOL parse_store_location(const WCHAR *text, BG_CERT_STORE_LOCATION *location)
{
    static const WCHAR prefix[] = L"BG_CERT_STORE_LOCATION_";
    unsigned int value;

    if (!_wcsnicmp(text, prefix, ARRAYSIZE(prefix) - 1)) text += ARRAYSIZE(prefix) - 1;
    if (!parse_name(text, store_locations, ARRAYSIZE(store_locations), &value)) return FALSE;
    *location = value;
    return TRUE;
}

int op_getclientcertificate(struct context *ctx, const struct command *cmd,
                            IBackgroundCopyJob *job, int argc, WCHAR **argv)
{
    WCHAR *store = NULL, *subject = NULL, hash_text[41];
    IBackgroundCopyJobHttpOptions *options;
    BG_CERT_STORE_LOCATION location = 0;
    BYTE *hash = NULL;
    unsigned int i;
    HRESULT hr;

    (void)cmd;
    (void)argc;
    (void)argv;
    hr = IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJobHttpOptions,
                                           (void **)&options);
    if (SUCCEEDED(hr))
    {
        hr = IBackgroundCopyJobHttpOptions_GetClientCertificate(options, &location, &store,
                                                                &hash, &subject);
        IBackgroundCopyJobHttpOptions_Release(options);
    }
    if (FAILED(hr)) return report_failure(ctx, L"get client certificate", hr);
    hash_text[0] = 0;
    for (i = 0; hash && i < 20; i++) _snwprintf(hash_text + 2 * i, 3, L"%02X", hash[i]);
    output(L"STORE LOCATION: %ls\n", (unsigned int)location < ARRAYSIZE(store_locations)
           ? store_locations[location] : L"UNKNOWN");
    output(L"STORE NAME: %ls\n", store ? store : L"NULL");
    output(L"CERTIFICATE ID: %ls\n", hash ? hash_text : L"NULL");
    output(L"SUBJECT NAME: %ls\n", subject ? subject : L"NULL");
    CoTaskMemFree(store);
    CoTaskMemFree(hash);
    CoTaskMemFree(subject);
    return 0;
}

/* The certificate's SHA-1 hash: 40 hexadecimal digits. */
static BOOL parse_hash(const WCHAR *text, BYTE hash[20])
{
    unsigned int i;

    if (wcslen(text) != 40) return FALSE;
    for (i = 0; i < 40; i++)
    {
        WCHAR c = towlower(text[i]);
        unsigned int digit;

        if (c >= '0' && c <= '9')
            digit = c - '0';
        else if (c >= 'a' && c <= 'f')
            digit = c - 'a' + 10;
        else
            return FALSE;
        if (i % 2)
            hash[i / 2] |= digit;
        else
            hash[i / 2] = digit << 4;
    }
    return TRUE;
}

int op_setclientcertificatebyid(struct context *ctx, const struct command *cmd,
                                IBackgroundCopyJob *job, int argc, WCHAR **argv)
{
    IBackgroundCopyJobHttpOptions *options;
    BG_CERT_STORE_LOCATION location;
    BYTE hash[20];
    HRESULT hr;

    (void)cmd;
    (void)argc;
    if (!parse_store_location(argv[0], &location))
        return usage_error(L"Invalid store location '%ls'.", argv[0]);
    if (!parse_hash(argv[2], hash))
        return usage_error(L"Invalid certificate id '%ls'; give 40 hexadecimal digits.",
                           argv[2]);
    hr = IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJobHttpOptions,
                                           (void **)&options);
    if (SUCCEEDED(hr))
    {
        hr = IBackgroundCopyJobHttpOptions_SetClientCertificateByID(options, location, argv[1],
                                                                    hash);
        IBackgroundCopyJobHttpOptions_Release(options);
    }
    return set_done(ctx, L"set client certificate", hr, L"Client certificate set.");
}

int op_setclientcertificatebyname(struct context *ctx, const struct command *cmd,
                                  IBackgroundCopyJob *job, int argc, WCHAR **argv)
{
    IBackgroundCopyJobHttpOptions *options;
    BG_CERT_STORE_LOCATION location;
    HRESULT hr;

    (void)cmd;
    (void)argc;
    if (!parse_store_location(argv[0], &location))
        return usage_error(L"Invalid store location '%ls'.", argv[0]);
    hr = IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJobHttpOptions,
                                           (void **)&options);
    if (SUCCEEDED(hr))
    {
        hr = IBackgroundCopyJobHttpOptions_SetClientCertificateByName(options, location,
                                                                      argv[1], argv[2]);
        IBackgroundCopyJobHttpOptions_Release(options);
    }
    return set_done(ctx, L"set client certificate", hr, L"Client certificate set.");
}

int op_removeclientcertificate(struct context *ctx, const struct command *cmd,
                               IBackgroundCopyJob *job, int argc, WCHAR **argv)
{
    IBackgroundCopyJobHttpOptions *options;
    HRESULT hr;

    (void)cmd;
    (void)argc;
    (void)argv;
    hr = IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJobHttpOptions,
                                           (void **)&options);
    if (SUCCEEDED(hr))
    {
        hr = IBackgroundCopyJobHttpOptions_RemoveClientCertificate(options);
        IBackgroundCopyJobHttpOptions_Release(options);
    }
    return set_done(ctx, L"remove client certificate", hr, L"Client certificate removed.");
}

int op_getpeercachingflags(struct context *ctx, const struct command *cmd,
                           IBackgroundCopyJob *job, int argc, WCHAR **argv)
{
    IBackgroundCopyJob4 *job4;
    DWORD flags = 0;
    HRESULT hr;

    (void)cmd;
    (void)argc;
    (void)argv;
    hr = IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJob4, (void **)&job4);
    if (SUCCEEDED(hr))
    {
        hr = IBackgroundCopyJob4_GetPeerCachingFlags(job4, &flags);
        IBackgroundCopyJob4_Release(job4);
    }
    return print_flags(ctx, L"get peer caching flags", hr, flags);
}

int op_setpeercachingflags(struct context *ctx, const struct command *cmd,
                           IBackgroundCopyJob *job, int argc, WCHAR **argv)
{
    IBackgroundCopyJob4 *job4;
    ULONG flags;
    HRESULT hr;

    (void)cmd;
    (void)argc;
    if (!parse_ulong(argv[0], &flags)) return bad_number(argv[0]);
    hr = IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJob4, (void **)&job4);
    if (SUCCEEDED(hr))
    {
        hr = IBackgroundCopyJob4_SetPeerCachingFlags(job4, flags);
        IBackgroundCopyJob4_Release(job4);
    }
    return set_done(ctx, L"set peer caching flags", hr, L"Peer caching flags set to 0x%lX.",
                    flags);
}

int op_getownerintegritylevel(struct context *ctx, const struct command *cmd,
                              IBackgroundCopyJob *job, int argc, WCHAR **argv)
{
    IBackgroundCopyJob4 *job4;
    WCHAR buffer[16];
    ULONG level = 0;
    HRESULT hr;

    (void)cmd;
    (void)argc;
    (void)argv;
    hr = IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJob4, (void **)&job4);
    if (SUCCEEDED(hr))
    {
        hr = IBackgroundCopyJob4_GetOwnerIntegrityLevel(job4, &level);
        IBackgroundCopyJob4_Release(job4);
    }
    if (FAILED(hr)) return report_failure(ctx, L"get owner integrity level", hr);
    output(L"%ls\n", integrity_level_name(level, buffer, ARRAYSIZE(buffer)));
    return 0;
}

int op_getownerelevationstate(struct context *ctx, const struct command *cmd,
                              IBackgroundCopyJob *job, int argc, WCHAR **argv)
{
    IBackgroundCopyJob4 *job4;
    BOOL elevated = FALSE;
    HRESULT hr;

    (void)cmd;
    (void)argc;
    (void)argv;
    hr = IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJob4, (void **)&job4);
    if (SUCCEEDED(hr))
    {
        hr = IBackgroundCopyJob4_GetOwnerElevationState(job4, &elevated);
        IBackgroundCopyJob4_Release(job4);
    }
    if (FAILED(hr)) return report_failure(ctx, L"get owner elevation state", hr);
    output(L"%ls\n", elevated ? L"true" : L"false");
    return 0;
}

/* The job's file at a 0-based index, as IBackgroundCopyFile3; 0 or the exit code. */
static int open_file3(struct context *ctx, IBackgroundCopyJob *job, const WCHAR *index_text,
                      IBackgroundCopyFile3 **file3)
{
    IEnumBackgroundCopyFiles *files;
    IBackgroundCopyFile *file = NULL;
    ULONG index;
    HRESULT hr;

    *file3 = NULL;
    if (!parse_ulong(index_text, &index)) return bad_number(index_text);
    hr = IBackgroundCopyJob_EnumFiles(job, &files);
    if (FAILED(hr)) return report_failure(ctx, L"enumerate files", hr);
    hr = IEnumBackgroundCopyFiles_Skip(files, index);
    if (hr == S_OK) hr = IEnumBackgroundCopyFiles_Next(files, 1, &file, NULL);
    IEnumBackgroundCopyFiles_Release(files);
    if (FAILED(hr)) return report_failure(ctx, L"find file", hr);
    if (hr != S_OK) return usage_error(L"The job has no file %lu; files count from 0.", index);
    hr = IBackgroundCopyFile_QueryInterface(file, &IID_IBackgroundCopyFile3, (void **)file3);
    IBackgroundCopyFile_Release(file);
    if (FAILED(hr)) return report_failure(ctx, L"find file", hr);
    return 0;
}

int op_gettemporaryname(struct context *ctx, const struct command *cmd,
                        IBackgroundCopyJob *job, int argc, WCHAR **argv)
{
    IBackgroundCopyFile3 *file;
    WCHAR *name = NULL;
    HRESULT hr;
    int ret;

    (void)cmd;
    (void)argc;
    ret = open_file3(ctx, job, argv[0], &file);
    if (ret) return ret;
    hr = IBackgroundCopyFile3_GetTemporaryName(file, &name);
    IBackgroundCopyFile3_Release(file);
    return print_string(ctx, L"get temporary name", hr, name);
}

int op_getvalidationstate(struct context *ctx, const struct command *cmd,
                          IBackgroundCopyJob *job, int argc, WCHAR **argv)
{
    IBackgroundCopyFile3 *file;
    BOOL valid = FALSE;
    HRESULT hr;
    int ret;

    (void)cmd;
    (void)argc;
    ret = open_file3(ctx, job, argv[0], &file);
    if (ret) return ret;
    hr = IBackgroundCopyFile3_GetValidationState(file, &valid);
    IBackgroundCopyFile3_Release(file);
    if (FAILED(hr)) return report_failure(ctx, L"get validation state", hr);
    output(L"%ls\n", valid ? L"TRUE" : L"FALSE");
    return 0;
}

int op_setvalidationstate(struct context *ctx, const struct command *cmd,
                          IBackgroundCopyJob *job, int argc, WCHAR **argv)
{
    static const WCHAR *const names[] = { L"FALSE", L"TRUE" };
    IBackgroundCopyFile3 *file;
    unsigned int valid;
    HRESULT hr;
    int ret;

    (void)cmd;
    (void)argc;
    if (!parse_name(argv[1], names, ARRAYSIZE(names), &valid))
        return usage_error(L"Invalid validation state '%ls'; use TRUE or FALSE.", argv[1]);
    ret = open_file3(ctx, job, argv[0], &file);
    if (ret) return ret;
    hr = IBackgroundCopyFile3_SetValidationState(file, valid);
    IBackgroundCopyFile3_Release(file);
    return set_done(ctx, L"set validation state", hr, L"Validation state set to %ls.",
                    names[valid]);
}

/* wire-and-tools.md §3.3 /SETTRANSFERPOLICY: cost states and the named policies, which are
 * unions of them (bits5_0.h). */
static const struct
{
    const WCHAR *name;
    DWORD flags;
    BOOL single;        /* one cost state, shown by /GETTRANSFERPOLICY */
}
cost_names[] =
{
    { L"Unrestricted", BITS_COST_STATE_UNRESTRICTED, TRUE },
    { L"Capped", BITS_COST_STATE_CAPPED_USAGE_UNKNOWN, TRUE },
    { L"BelowCap", BITS_COST_STATE_BELOW_CAP, TRUE },
    { L"NearCap", BITS_COST_STATE_NEAR_CAP, TRUE },
    { L"OverCapCharged", BITS_COST_STATE_OVERCAP_CHARGED, TRUE },
    { L"OverCapThrottled", BITS_COST_STATE_OVERCAP_THROTTLED, TRUE },
    { L"UsageBased", BITS_COST_STATE_USAGE_BASED, TRUE },
    { L"Roaming", BITS_COST_STATE_ROAMING, TRUE },
    { L"IgnoreCongestion", BITS_COST_OPTION_IGNORE_CONGESTION, TRUE },
    { L"PolicyUnrestricted", BITS_COST_STATE_TRANSFER_UNRESTRICTED, FALSE },
    { L"Standard", BITS_COST_STATE_TRANSFER_STANDARD, FALSE },
    { L"NoSurcharge", BITS_COST_STATE_TRANSFER_NO_SURCHARGE, FALSE },
    { L"NotRoaming", BITS_COST_STATE_TRANSFER_NOT_ROAMING, FALSE },
    { L"Always", BITS_COST_STATE_TRANSFER_ALWAYS, FALSE },
};

static HRESULT cost_flags(IBackgroundCopyJob *job, BOOL set, DWORD *flags)
{
    BITS_JOB_PROPERTY_VALUE value;
    IBackgroundCopyJob5 *job5;
    HRESULT hr;

    hr = IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJob5, (void **)&job5);
    if (FAILED(hr)) return hr;
    memset(&value, 0, sizeof(value));
    if (set)
    {
        value.Dword = *flags;
        hr = IBackgroundCopyJob5_SetProperty(job5, BITS_JOB_PROPERTY_ID_COST_FLAGS, value);
    }
    else
    {
        hr = IBackgroundCopyJob5_GetProperty(job5, BITS_JOB_PROPERTY_ID_COST_FLAGS, &value);
        *flags = value.Dword;
    }
    IBackgroundCopyJob5_Release(job5);
    return hr;
}

int op_gettransferpolicy(struct context *ctx, const struct command *cmd,
                         IBackgroundCopyJob *job, int argc, WCHAR **argv)
{
    DWORD flags = 0, rest;
    unsigned int i;
    HRESULT hr;

    (void)cmd;
    (void)argc;
    (void)argv;
    hr = cost_flags(job, FALSE, &flags);
    if (FAILED(hr)) return report_failure(ctx, L"get transfer policy", hr);
    rest = flags;
    for (i = 0; i < ARRAYSIZE(cost_names); i++)
    {
        if (!cost_names[i].single || !(flags & cost_names[i].flags)) continue;
        output(L"%ls ", cost_names[i].name);
        rest &= ~cost_names[i].flags;
    }
    if (rest) output(L"0x%lX ", rest);
    output(L"(0x%08lX)\n", flags);
    return 0;
}

int op_settransferpolicy(struct context *ctx, const struct command *cmd,
                         IBackgroundCopyJob *job, int argc, WCHAR **argv)
{
    WCHAR *token, *end;
    DWORD flags = 0;
    unsigned int i;
    HRESULT hr;
    int arg;

    (void)cmd;
    for (arg = 0; arg < argc; arg++)
    {
        for (token = argv[arg]; *token; token = end)
        {
            end = token + wcscspn(token, L", ");
            if (*end) *end++ = 0;
            if (!*token) continue;
            for (i = 0; i < ARRAYSIZE(cost_names); i++)
                if (!_wcsicmp(token, cost_names[i].name)) break;
            if (i == ARRAYSIZE(cost_names))
                return usage_error(L"Invalid cost state '%ls'.", token);
            flags |= cost_names[i].flags;
        }
    }
    hr = cost_flags(job, TRUE, &flags);
    return set_done(ctx, L"set transfer policy", hr, L"Transfer policy set to 0x%08lX.", flags);
}

int op_gethttpmethod(struct context *ctx, const struct command *cmd, IBackgroundCopyJob *job,
                     int argc, WCHAR **argv)
{
    IBackgroundCopyJobHttpOptions2 *options;
    WCHAR *method = NULL;
    HRESULT hr;

    (void)cmd;
    (void)argc;
    (void)argv;
    hr = IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJobHttpOptions2,
                                           (void **)&options);
    if (SUCCEEDED(hr))
    {
        hr = IBackgroundCopyJobHttpOptions2_GetHttpMethod(options, &method);
        IBackgroundCopyJobHttpOptions2_Release(options);
    }
    return print_string(ctx, L"get HTTP method", hr, method);
}

int op_sethttpmethod(struct context *ctx, const struct command *cmd, IBackgroundCopyJob *job,
                     int argc, WCHAR **argv)
{
    IBackgroundCopyJobHttpOptions2 *options;
    HRESULT hr;

    (void)cmd;
    (void)argc;
    hr = IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJobHttpOptions2,
                                           (void **)&options);
    if (SUCCEEDED(hr))
    {
        hr = IBackgroundCopyJobHttpOptions2_SetHttpMethod(options, argv[0]);
        IBackgroundCopyJobHttpOptions2_Release(options);
    }
    return set_done(ctx, L"set HTTP method", hr, L"HTTP method set to %ls.", argv[0]);
}
