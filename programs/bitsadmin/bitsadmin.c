/* bitsadmin: command-line front end of BITS, as described in wire-and-tools.md §3.  It uses only
 * the public COM API of the service, so it runs against Windows' BITS as well as ours.  This
 * file holds the global switches, the banner and usage text, the command table, job lookup by
 * GUID or display name, and the "Unable to <action> - 0x%08X" failure lines.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <wchar.h>

#include "bitsadmin.h"

static const struct command commands[] =
{
    { L"/LIST", 0, 2, cmd_list, NULL, 0 },
    { L"/MONITOR", 0, 3, cmd_monitor, NULL, 0 },
    { L"/RESET", 0, 1, cmd_reset, NULL, 0 },
    { L"/TRANSFER", 3, -1, cmd_transfer, NULL, 0 },
    { L"/CREATE", 1, 2, cmd_create, NULL, 0 },
    { L"/INFO", 1, 2, NULL, op_info, 0 },
    { L"/ADDFILE", 3, 3, NULL, op_addfile, 0 },
    { L"/ADDFILESET", 2, 2, NULL, op_addfileset, 0 },
    { L"/ADDFILEWITHRANGES", 4, 4, NULL, op_addfilewithranges, 0 },
    { L"/REPLACEREMOTEPREFIX", 3, 3, NULL, op_replaceremoteprefix, 0 },
    { L"/LISTFILES", 1, 1, NULL, op_listfiles, 0 },
    { L"/SUSPEND", 1, 1, NULL, op_suspend, 0 },
    { L"/RESUME", 1, 1, NULL, op_resume, 0 },
    { L"/CANCEL", 1, 1, NULL, op_cancel, 0 },
    { L"/COMPLETE", 1, 1, NULL, op_complete, 0 },
    { L"/TAKEOWNERSHIP", 1, 1, NULL, op_takeownership, 0 },
    { L"/GETTYPE", 1, 1, NULL, op_gettype, 0 },
    { L"/GETACLFLAGS", 1, 1, NULL, op_getacl, 0 },
    { L"/SETACLFLAGS", 2, 2, NULL, op_setacl, 0 },
    { L"/GETBYTESTOTAL", 1, 1, NULL, op_getprogressfield, 0 },
    { L"/GETBYTESTRANSFERRED", 1, 1, NULL, op_getprogressfield, 1 },
    { L"/GETFILESTOTAL", 1, 1, NULL, op_getprogressfield, 2 },
    { L"/GETFILESTRANSFERRED", 1, 1, NULL, op_getprogressfield, 3 },
    { L"/GETPROGRESS", 1, 1, NULL, op_getprogress, 0 },
    { L"/GETCREATIONTIME", 1, 1, NULL, op_gettimefield, 0 },
    { L"/GETMODIFICATIONTIME", 1, 1, NULL, op_gettimefield, 1 },
    { L"/GETCOMPLETIONTIME", 1, 1, NULL, op_gettimefield, 2 },
    { L"/GETSTATE", 1, 1, NULL, op_getstate, 0 },
    { L"/GETERROR", 1, 1, NULL, op_geterror, 0 },
    { L"/GETERRORCOUNT", 1, 1, NULL, op_geterrorcount, 0 },
    { L"/GETOWNER", 1, 1, NULL, op_getowner, 0 },
    { L"/GETDISPLAYNAME", 1, 1, NULL, op_getdisplayname, 0 },
    { L"/SETDISPLAYNAME", 2, 2, NULL, op_setdisplayname, 0 },
    { L"/GETDESCRIPTION", 1, 1, NULL, op_getdescription, 0 },
    { L"/SETDESCRIPTION", 2, 2, NULL, op_setdescription, 0 },
    { L"/GETPRIORITY", 1, 1, NULL, op_getpriority, 0 },
    { L"/SETPRIORITY", 2, 2, NULL, op_setpriority, 0 },
    { L"/GETNOTIFYFLAGS", 1, 1, NULL, op_getnotifyflags, 0 },
    { L"/SETNOTIFYFLAGS", 2, 2, NULL, op_setnotifyflags, 0 },
    { L"/GETNOTIFYINTERFACE", 1, 1, NULL, op_getnotifyinterface, 0 },
    { L"/GETNOTIFYCMDLINE", 1, 1, NULL, op_getnotifycmdline, 0 },
    { L"/SETNOTIFYCMDLINE", 2, 3, NULL, op_setnotifycmdline, 0 },
    { L"/GETMINRETRYDELAY", 1, 1, NULL, op_getminretrydelay, 0 },
    { L"/SETMINRETRYDELAY", 2, 2, NULL, op_setminretrydelay, 0 },
    { L"/GETNOPROGRESSTIMEOUT", 1, 1, NULL, op_getnoprogresstimeout, 0 },
    { L"/SETNOPROGRESSTIMEOUT", 2, 2, NULL, op_setnoprogresstimeout, 0 },
    { L"/GETMAXDOWNLOADTIME", 1, 1, NULL, op_getmaxdownloadtime, 0 },
    { L"/SETMAXDOWNLOADTIME", 2, 2, NULL, op_setmaxdownloadtime, 0 },
    { L"/GETPROXYUSAGE", 1, 1, NULL, op_getproxyfield, 0 },
    { L"/GETPROXYLIST", 1, 1, NULL, op_getproxyfield, 1 },
    { L"/GETPROXYBYPASSLIST", 1, 1, NULL, op_getproxyfield, 2 },
    { L"/SETPROXYSETTINGS", 2, 4, NULL, op_setproxysettings, 0 },
    { L"/SETCREDENTIALS", 5, 5, NULL, op_setcredentials, 0 },
    { L"/REMOVECREDENTIALS", 3, 3, NULL, op_removecredentials, 0 },
    { L"/GETREPLYFILENAME", 1, 1, NULL, op_getreplyfilename, 0 },
    { L"/SETREPLYFILENAME", 2, 2, NULL, op_setreplyfilename, 0 },
    { L"/GETREPLYPROGRESS", 1, 1, NULL, op_getreplyprogress, 0 },
    { L"/GETREPLYDATA", 1, 1, NULL, op_getreplydata, 0 },
    { L"/GETCUSTOMHEADERS", 1, 1, NULL, op_getcustomheaders, 0 },
    { L"/SETCUSTOMHEADERS", 2, -1, NULL, op_setcustomheaders, 0 },
    { L"/MAKECUSTOMHEADERSWRITEONLY", 1, 1, NULL, op_makecustomheaderswriteonly, 0 },
    { L"/GETSECURITYFLAGS", 1, 1, NULL, op_getsecurityflags, 0 },
    { L"/SETSECURITYFLAGS", 2, 2, NULL, op_setsecurityflags, 0 },
    { L"/GETCLIENTCERTIFICATE", 1, 1, NULL, op_getclientcertificate, 0 },
    { L"/SETCLIENTCERTIFICATEBYID", 4, 4, NULL, op_setclientcertificatebyid, 0 },
    { L"/SETCLIENTCERTIFICATEBYNAME", 4, 4, NULL, op_setclientcertificatebyname, 0 },
    { L"/REMOVECLIENTCERTIFICATE", 1, 1, NULL, op_removeclientcertificate, 0 },
    { L"/GETPEERCACHINGFLAGS", 1, 1, NULL, op_getpeercachingflags, 0 },
    { L"/SETPEERCACHINGFLAGS", 2, 2, NULL, op_setpeercachingflags, 0 },
    { L"/GETOWNERINTEGRITYLEVEL", 1, 1, NULL, op_getownerintegritylevel, 0 },
    { L"/GETOWNERELEVATIONSTATE", 1, 1, NULL, op_getownerelevationstate, 0 },
    { L"/GETTEMPORARYNAME", 2, 2, NULL, op_gettemporaryname, 0 },
    { L"/GETVALIDATIONSTATE", 2, 2, NULL, op_getvalidationstate, 0 },
    { L"/SETVALIDATIONSTATE", 3, 3, NULL, op_setvalidationstate, 0 },
    { L"/GETTRANSFERPOLICY", 1, 1, NULL, op_gettransferpolicy, 0 },
    { L"/SETTRANSFERPOLICY", 2, -1, NULL, op_settransferpolicy, 0 },
    { L"/GETHTTPMETHOD", 1, 1, NULL, op_gethttpmethod, 0 },
    { L"/SETHTTPMETHOD", 2, 2, NULL, op_sethttpmethod, 0 },
    { L"/PEERCACHING", 1, 3, cmd_peercaching, NULL, 0 },
    { L"/CACHE", 1, 3, cmd_cache, NULL, 0 },
    { L"/PEERS", 1, 1, cmd_peers, NULL, 0 },
    /* Known to Windows' bitsadmin but not offered here: they fail with E_NOTIMPL. */
    { L"/UTIL", 0, -1, NULL, NULL, 0 },
    { L"/SETHELPERTOKEN", 0, -1, NULL, NULL, 0 },
    { L"/SETHELPERTOKENFLAGS", 0, -1, NULL, NULL, 0 },
    { L"/GETHELPERTOKENSID", 0, -1, NULL, NULL, 0 },
    { L"/GETHELPERTOKENFLAGS", 0, -1, NULL, NULL, 0 },
};

/* wire-and-tools.md §3.2: three lines and a blank one, which scripts skip by count; the third
 * names this project, not Microsoft. */
static const WCHAR banner[] =
    L"BITSADMIN version 3.0\n"
    L"BITS administration utility.\n"
    L"Clean-room BITS for Wine and ReactOS, LGPL-2.1-or-later.\n"
    L"\n";

static const WCHAR usage[] =
    L"USAGE: BITSADMIN [/RAWRETURN] [/WRAP | /NOWRAP] command\n"
    L"A <job> is a job's GUID in braces or its display name; where several jobs have\n"
    L"the name, give the GUID.  NULL stands for an empty value.\n"
    L"\n"
    L"/HELP or /?                            Shows this text\n"
    L"/RAWRETURN                             Prints bare values only, for scripts\n"
    L"/WRAP, /NOWRAP                         Wraps long lines, or not\n"
    L"\n"
    L"/LIST    [/ALLUSERS] [/VERBOSE]        Lists jobs\n"
    L"/MONITOR [/ALLUSERS] [/REFRESH sec]    Shows the job list until Ctrl+C\n"
    L"/RESET   [/ALLUSERS]                   Cancels every job\n"
    L"/TRANSFER <name> [/DOWNLOAD | /UPLOAD] [/PRIORITY priority] [/ACLFLAGS flags]\n"
    L"          [/DYNAMIC] <remote> <local> [<remote> <local> ...]\n"
    L"                                       Creates a job, transfers its files,\n"
    L"                                       waits and completes it\n"
    L"/CREATE [/DOWNLOAD | /UPLOAD | /UPLOAD-REPLY] <name>\n"
    L"                                       Creates a job (a download by default)\n"
    L"/INFO <job> [/VERBOSE]                 Shows a job\n"
    L"/ADDFILE <job> <remote> <local>        Adds a file; <local> is an absolute path\n"
    L"/ADDFILESET <job> <textfile>           Adds files listed one per line as\n"
    L"                                       \"<remote> <local>\"; '#' starts a comment\n"
    L"/ADDFILEWITHRANGES <job> <remote> <local> <offset:length,...>\n"
    L"                                       Adds parts of a file; a length may be\n"
    L"                                       eof\n"
    L"/REPLACEREMOTEPREFIX <job> <old> <new> Changes the start of remote names\n"
    L"/LISTFILES <job>                       Lists a job's files\n"
    L"/SUSPEND <job>                         Suspends a job\n"
    L"/RESUME <job>                          Queues a job for transfer\n"
    L"/CANCEL <job>                          Cancels a job, deletes its temp files\n"
    L"/COMPLETE <job>                        Completes a job: its files appear\n"
    L"/TAKEOWNERSHIP <job>                   Makes the caller the job's owner\n"
    L"\n"
    L"/GETTYPE <job>                         /GETSTATE <job>\n"
    L"/GETBYTESTOTAL <job>                   /GETBYTESTRANSFERRED <job>\n"
    L"/GETFILESTOTAL <job>                   /GETFILESTRANSFERRED <job>\n"
    L"/GETPROGRESS <job>                     /GETERROR <job>\n"
    L"/GETERRORCOUNT <job>                   /GETOWNER <job>\n"
    L"/GETCREATIONTIME <job>                 /GETMODIFICATIONTIME <job>\n"
    L"/GETCOMPLETIONTIME <job>               /GETNOTIFYINTERFACE <job>\n"
    L"/GETOWNERINTEGRITYLEVEL <job>          /GETOWNERELEVATIONSTATE <job>\n"
    L"/GETREPLYPROGRESS <job>                /GETREPLYDATA <job>\n"
    L"/GETTEMPORARYNAME <job> <file index>   /GETVALIDATIONSTATE <job> <file index>\n"
    L"/SETVALIDATIONSTATE <job> <file index> TRUE|FALSE\n"
    L"\n"
    L"/GETDISPLAYNAME <job>                  /SETDISPLAYNAME <job> <name>\n"
    L"/GETDESCRIPTION <job>                  /SETDESCRIPTION <job> <text>\n"
    L"/GETPRIORITY <job>                     /SETPRIORITY <job> <priority>\n"
    L"    priority: FOREGROUND, HIGH, NORMAL or LOW\n"
    L"/GETNOTIFYFLAGS <job>                  /SETNOTIFYFLAGS <job> <flags>\n"
    L"    flags: 1 transferred, 2 error, 4 disable, 8 modification; add them up\n"
    L"/GETNOTIFYCMDLINE <job>\n"
    L"/SETNOTIFYCMDLINE <job> <program> [parameters]\n"
    L"    the parameters start with the program name again; NULL removes the command\n"
    L"/GETMINRETRYDELAY <job>                /SETMINRETRYDELAY <job> <seconds>\n"
    L"/GETNOPROGRESSTIMEOUT <job>            /SETNOPROGRESSTIMEOUT <job> <seconds>\n"
    L"/GETMAXDOWNLOADTIME <job>              /SETMAXDOWNLOADTIME <job> <seconds>\n"
    L"/GETPROXYUSAGE <job>                   /GETPROXYLIST <job>\n"
    L"/GETPROXYBYPASSLIST <job>\n"
    L"/SETPROXYSETTINGS <job> PRECONFIG | AUTODETECT | NO_PROXY\n"
    L"/SETPROXYSETTINGS <job> OVERRIDE <proxy list> <bypass list>\n"
    L"/SETCREDENTIALS <job> SERVER|PROXY <scheme> <user> <password>\n"
    L"/REMOVECREDENTIALS <job> SERVER|PROXY <scheme>\n"
    L"    scheme: BASIC, DIGEST, NTLM, NEGOTIATE or PASSPORT\n"
    L"/GETACLFLAGS <job>                     /SETACLFLAGS <job> <flags>\n"
    L"    flags: any of o (owner), g (group), d (DACL), s (SACL)\n"
    L"/GETREPLYFILENAME <job>                /SETREPLYFILENAME <job> <path>\n"
    L"/GETCUSTOMHEADERS <job>                /SETCUSTOMHEADERS <job> <header> ...\n"
    L"/MAKECUSTOMHEADERSWRITEONLY <job>\n"
    L"/GETSECURITYFLAGS <job>                /SETSECURITYFLAGS <job> <flags>\n"
    L"/GETPEERCACHINGFLAGS <job>             /SETPEERCACHINGFLAGS <job> <flags>\n"
    L"/GETHTTPMETHOD <job>                   /SETHTTPMETHOD <job> <verb>\n"
    L"/GETTRANSFERPOLICY <job>               /SETTRANSFERPOLICY <job> <state> ...\n"
    L"/GETCLIENTCERTIFICATE <job>            /REMOVECLIENTCERTIFICATE <job>\n"
    L"/SETCLIENTCERTIFICATEBYID <job> <store location> <store name> <hex SHA-1 hash>\n"
    L"/SETCLIENTCERTIFICATEBYNAME <job> <store location> <store name> <subject name>\n"
    L"\n"
    L"/PEERCACHING /HELP, /CACHE /HELP, /PEERS /HELP\n"
    L"                                       The BITS 3.0 peer cache of the computer\n"
    L"                                       (deprecated since BITS 4.0)\n"
    L"\n"
    L"Not available in this version: /UTIL and the helper token commands.\n";

int usage_error(const WCHAR *format, ...)
{
    WCHAR text[1024];
    va_list args;

    va_start(args, format);
    _vsnwprintf(text, ARRAYSIZE(text), format, args);
    va_end(args);
    text[ARRAYSIZE(text) - 1] = 0;
    output(L"%ls\n", text);
    return EXIT_USAGE;
}

/* The language of the user's interface; BITS answers ERROR_RESOURCE_LANG_NOT_FOUND for a
 * language it has no text in, and callers then try US English. */
DWORD user_language(void)
{
    return GetUserDefaultUILanguage();
}

static WCHAR *copy_text(const WCHAR *text)
{
    WCHAR *copy = malloc((wcslen(text) + 1) * sizeof(WCHAR));

    if (copy) wcscpy(copy, text);
    return copy;
}

/* The message for hr: the service's text (its own codes, then the system's), else the
 * system message table.  Returns a malloc'ed string with no trailing line end, or NULL. */
WCHAR *describe_hresult(struct context *ctx, HRESULT hr)
{
    DWORD languages[2] = { user_language(), MAKELANGID(LANG_ENGLISH, SUBLANG_ENGLISH_US) };
    WCHAR *text = NULL, *copy;
    unsigned int i;

    for (i = 0; ctx && ctx->manager && i < ARRAYSIZE(languages); i++)
    {
        DWORD language = languages[i];

        if (FAILED(IBackgroundCopyManager_GetErrorDescription(ctx->manager, hr, language,
                                                              &text)))
            continue;
        copy = text ? copy_text(text) : NULL;
        CoTaskMemFree(text);
        if (!copy) continue;
        trim_text(copy);
        return copy;
    }
    if (!FormatMessageW(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS
                        | FORMAT_MESSAGE_ALLOCATE_BUFFER, NULL, hr, 0, (WCHAR *)&text, 0, NULL)
            && HRESULT_FACILITY(hr) == FACILITY_WIN32)
        FormatMessageW(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS
                       | FORMAT_MESSAGE_ALLOCATE_BUFFER, NULL, HRESULT_CODE(hr), 0,
                       (WCHAR *)&text, 0, NULL);
    if (!text) return NULL;
    copy = copy_text(text);
    LocalFree(text);
    if (copy) trim_text(copy);
    return copy;
}

/* wire-and-tools.md §3.4, failure lines: "Unable to <action> - 0x%08X" and the message; with
 * /RAWRETURN the bare code (§3.5).  Returns the exit code, which is hr. */
int report_failure(struct context *ctx, const WCHAR *action, HRESULT hr)
{
    WCHAR *text;

    if (output_is_raw())
    {
        output(L"0x%08lX\n", (unsigned long)hr);
        return (int)hr;
    }
    output(L"Unable to %ls - 0x%08lX\n", action, (unsigned long)hr);
    text = describe_hresult(ctx, hr);
    if (text) output(L"%ls\n", text);
    free(text);
    return (int)hr;
}

/* wire-and-tools.md §3.1: a GUID in braces names a job by id; anything else is an exact
 * display name among the caller's jobs, which must match exactly one of them. */
int open_job(struct context *ctx, const WCHAR *name, IBackgroundCopyJob **job)
{
    IEnumBackgroundCopyJobs *jobs;
    IBackgroundCopyJob *candidate;
    unsigned int matches = 0;
    WCHAR *display;
    GUID id;
    HRESULT hr;

    *job = NULL;
    if (name[0] == '{' && SUCCEEDED(IIDFromString(name, &id)))
    {
        hr = IBackgroundCopyManager_GetJob(ctx->manager, &id, job);
        if (FAILED(hr)) return report_failure(ctx, L"find job", hr);
        return 0;
    }

    hr = IBackgroundCopyManager_EnumJobs(ctx->manager, 0, &jobs);
    if (FAILED(hr)) return report_failure(ctx, L"enumerate jobs", hr);
    while (IEnumBackgroundCopyJobs_Next(jobs, 1, &candidate, NULL) == S_OK)
    {
        if (SUCCEEDED(IBackgroundCopyJob_GetDisplayName(candidate, &display)))
        {
            if (!wcscmp(display, name) && !matches++)
            {
                *job = candidate;
                IBackgroundCopyJob_AddRef(candidate);
            }
            CoTaskMemFree(display);
        }
        IBackgroundCopyJob_Release(candidate);
    }
    IEnumBackgroundCopyJobs_Release(jobs);

    if (!matches) return report_failure(ctx, L"find job", BG_E_NOT_FOUND);
    if (matches > 1)
    {
        IBackgroundCopyJob_Release(*job);
        *job = NULL;
        return usage_error(L"Ambiguous job name '%ls'; use the GUID.", name);
    }
    return 0;
}

BOOL is_switch(const WCHAR *arg, const WCHAR *name)
{
    return !_wcsicmp(arg, name);
}

/* wire-and-tools.md §3.1: the literal NULL stands for no string. */
const WCHAR *null_arg(const WCHAR *arg)
{
    return _wcsicmp(arg, L"NULL") ? arg : NULL;
}

/* Decimal, or hexadecimal after 0x; the whole text must be the number. */
BOOL parse_uint64(const WCHAR *text, UINT64 *value)
{
    WCHAR *end;

    if (!*text || *text == '-' || *text == '+' || iswspace(*text)) return FALSE;
    if (text[0] == '0' && (text[1] == 'x' || text[1] == 'X'))
    {
        if (!iswxdigit(text[2])) return FALSE;
        *value = _wcstoui64(text + 2, &end, 16);
    }
    else
    {
        *value = _wcstoui64(text, &end, 10);
    }
    return !*end;
}

BOOL parse_ulong(const WCHAR *text, ULONG *value)
{
    UINT64 wide;

    if (!parse_uint64(text, &wide) || wide > 0xffffffff) return FALSE;
    *value = (ULONG)wide;
    return TRUE;
}

static const struct command *find_command(const WCHAR *name)
{
    unsigned int i;

    for (i = 0; i < ARRAYSIZE(commands); i++)
        if (is_switch(name, commands[i].name)) return &commands[i];
    return NULL;
}

static int run_job_op(struct context *ctx, const struct command *cmd, int argc, WCHAR **argv)
{
    IBackgroundCopyJob *job;
    int ret;

    ret = open_job(ctx, argv[0], &job);
    if (ret) return ret;
    ret = cmd->job_op(ctx, cmd, job, argc - 1, argv + 1);
    IBackgroundCopyJob_Release(job);
    return ret;
}

static int run_command(const struct command *cmd, int argc, WCHAR **argv)
{
    struct context ctx = { NULL };
    HRESULT hr;
    int ret;

    if (argc < cmd->min_args || (cmd->max_args >= 0 && argc > cmd->max_args))
        return usage_error(L"Invalid number of arguments.");
    if (!cmd->run && !cmd->job_op)
    {
        if (output_is_raw())
            output(L"0x%08lX\n", (unsigned long)E_NOTIMPL);
        else
            output(L"%ls is not supported by this version of bitsadmin.\n", cmd->name);
        return (int)E_NOTIMPL;
    }

    hr = CoInitializeEx(NULL, COINIT_MULTITHREADED);
    if (FAILED(hr)) return report_failure(NULL, L"initialize COM", hr);
    /* The service acts as the caller on its files: it must be allowed to impersonate. */
    hr = CoInitializeSecurity(NULL, -1, NULL, NULL, RPC_C_AUTHN_LEVEL_CONNECT,
                              RPC_C_IMP_LEVEL_IMPERSONATE, NULL, EOAC_NONE, NULL);
    if (FAILED(hr))
    {
        ret = report_failure(NULL, L"initialize COM security", hr);
        goto done;
    }
    hr = CoCreateInstance(&CLSID_BackgroundCopyManager, NULL, CLSCTX_LOCAL_SERVER,
                          &IID_IBackgroundCopyManager, (void **)&ctx.manager);
    if (FAILED(hr))
    {
        ret = report_failure(NULL, L"connect to BITS", hr);
        goto done;
    }
    if (cmd->run)
        ret = cmd->run(&ctx, cmd, argc, argv);
    else
        ret = run_job_op(&ctx, cmd, argc, argv);
    IBackgroundCopyManager_Release(ctx.manager);
done:
    CoUninitialize();
    return ret;
}

int main(void)
{
    const struct command *cmd;
    BOOL raw = FALSE;
    int argc, wrap = -1, i, ret;
    WCHAR **argv;

    argv = CommandLineToArgvW(GetCommandLineW(), &argc);
    if (!argv) return (int)HRESULT_FROM_WIN32(GetLastError());
    for (i = 1; i < argc; i++)
    {
        if (is_switch(argv[i], L"/RAWRETURN"))
            raw = TRUE;
        else if (is_switch(argv[i], L"/WRAP"))
            wrap = 1;
        else if (is_switch(argv[i], L"/NOWRAP"))
            wrap = 0;
        else
            break;
    }
    output_init(raw, wrap);
    if (!raw) output(L"%ls", banner);

    if (i == argc)
    {
        output(L"%ls", usage);
        ret = EXIT_USAGE;
    }
    else if (is_switch(argv[i], L"/?") || is_switch(argv[i], L"/HELP"))
    {
        output(L"%ls", usage);
        ret = 0;
    }
    else
    {
        cmd = find_command(argv[i]);
        if (cmd)
            ret = run_command(cmd, argc - i - 1, argv + i + 1);
        else
        {
            output(L"Invalid command\n%ls", usage);
            ret = EXIT_USAGE;
        }
    }
    output_flush();
    LocalFree(argv);
    return ret;
}
