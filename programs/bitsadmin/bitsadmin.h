/* bitsadmin: declarations shared by the command groups.  Commands return the process exit code
 * (wire-and-tools.md §3.5): 0 on success, the failing HRESULT on failure, EXIT_USAGE for
 * command-line mistakes.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#ifndef BITSADMIN_H
#define BITSADMIN_H

#define COBJMACROS
#include <windows.h>
#include "bits10_3.h"

#define EXIT_USAGE 1

struct context
{
    IBackgroundCopyManager *manager;
};

struct command
{
    const WCHAR *name;
    int min_args, max_args;     /* arguments after the command name; max_args -1: no limit */
    /* The whole command; argv starts after the command name. */
    int (*run)(struct context *ctx, const struct command *cmd, int argc, WCHAR **argv);
    /* A command on one job: argv[0] of the command names the job, which is opened for it;
     * argc and argv here are what follows the job. */
    int (*job_op)(struct context *ctx, const struct command *cmd, IBackgroundCopyJob *job,
                  int argc, WCHAR **argv);
    unsigned int field;         /* which value a shared job_op prints (op_get*field) */
};

/* output.c: all text goes through here; '\n' ends a line, '\r' is dropped. */
void output_init(BOOL raw, int wrap);
BOOL output_is_raw(void);
BOOL output_is_console(void);
void output(const WCHAR *format, ...);
void output_flush(void);
void output_block_begin(void);
void output_block_rewind(void);

/* bitsadmin.c */
int usage_error(const WCHAR *format, ...);
int report_failure(struct context *ctx, const WCHAR *action, HRESULT hr);
WCHAR *describe_hresult(struct context *ctx, HRESULT hr);
int open_job(struct context *ctx, const WCHAR *name, IBackgroundCopyJob **job);
BOOL is_switch(const WCHAR *arg, const WCHAR *name);
const WCHAR *null_arg(const WCHAR *arg);
BOOL parse_ulong(const WCHAR *text, ULONG *value);
BOOL parse_uint64(const WCHAR *text, UINT64 *value);
DWORD user_language(void);

/* format.c */
const WCHAR *state_name(BG_JOB_STATE state);
const WCHAR *type_name(BG_JOB_TYPE type);
const WCHAR *priority_name(BG_JOB_PRIORITY priority);
const WCHAR *proxy_usage_name(BG_JOB_PROXY_USAGE usage);
const WCHAR *integrity_level_name(ULONG level, WCHAR *buffer, size_t size);
const WCHAR *format_size(UINT64 size, WCHAR *buffer, size_t count);
const WCHAR *format_time(const FILETIME *time, WCHAR *buffer, size_t count);
void format_acl_flags(DWORD flags, WCHAR *buffer, size_t count);
void format_owner(const WCHAR *sid, WCHAR *buffer, DWORD count);
void trim_text(WCHAR *text);
HRESULT print_job_line(IBackgroundCopyJob *job);
HRESULT print_job_verbose(struct context *ctx, IBackgroundCopyJob *job, const WCHAR **action);
HRESULT print_file_line(IBackgroundCopyFile *file, const WCHAR *indent);
HRESULT print_error(struct context *ctx, IBackgroundCopyError *error, HRESULT *code);
HRESULT print_progress_block(IBackgroundCopyJob *job, BG_JOB_STATE *state,
                             BG_JOB_PROGRESS *progress);

/* jobs.c */
int cmd_create(struct context *ctx, const struct command *cmd, int argc, WCHAR **argv);
int cmd_list(struct context *ctx, const struct command *cmd, int argc, WCHAR **argv);
int cmd_monitor(struct context *ctx, const struct command *cmd, int argc, WCHAR **argv);
int cmd_reset(struct context *ctx, const struct command *cmd, int argc, WCHAR **argv);
int op_addfile(struct context *ctx, const struct command *cmd, IBackgroundCopyJob *job,
               int argc, WCHAR **argv);
int op_addfileset(struct context *ctx, const struct command *cmd, IBackgroundCopyJob *job,
                  int argc, WCHAR **argv);
int op_addfilewithranges(struct context *ctx, const struct command *cmd,
                         IBackgroundCopyJob *job, int argc, WCHAR **argv);
int op_replaceremoteprefix(struct context *ctx, const struct command *cmd,
                           IBackgroundCopyJob *job, int argc, WCHAR **argv);
int op_listfiles(struct context *ctx, const struct command *cmd, IBackgroundCopyJob *job,
                 int argc, WCHAR **argv);
int op_info(struct context *ctx, const struct command *cmd, IBackgroundCopyJob *job,
            int argc, WCHAR **argv);
int op_resume(struct context *ctx, const struct command *cmd, IBackgroundCopyJob *job,
              int argc, WCHAR **argv);
int op_suspend(struct context *ctx, const struct command *cmd, IBackgroundCopyJob *job,
               int argc, WCHAR **argv);
int op_cancel(struct context *ctx, const struct command *cmd, IBackgroundCopyJob *job,
              int argc, WCHAR **argv);
int op_complete(struct context *ctx, const struct command *cmd, IBackgroundCopyJob *job,
                int argc, WCHAR **argv);
int op_takeownership(struct context *ctx, const struct command *cmd, IBackgroundCopyJob *job,
                     int argc, WCHAR **argv);

/* transfer.c */
int cmd_transfer(struct context *ctx, const struct command *cmd, int argc, WCHAR **argv);

/* peers.c: the peer-caching groups of wire-and-tools.md §3.6 */
int cmd_peercaching(struct context *ctx, const struct command *cmd, int argc, WCHAR **argv);
int cmd_cache(struct context *ctx, const struct command *cmd, int argc, WCHAR **argv);
int cmd_peers(struct context *ctx, const struct command *cmd, int argc, WCHAR **argv);

/* props.c: the /GET* and /SET* commands, one job_op each, and the parsers they share */
BOOL parse_priority(const WCHAR *text, BG_JOB_PRIORITY *priority);
BOOL parse_acl_flags(const WCHAR *text, DWORD *flags);
#define PROPERTY_OP(name) \
    int op_##name(struct context *ctx, const struct command *cmd, IBackgroundCopyJob *job, \
                  int argc, WCHAR **argv)
PROPERTY_OP(getacl);
PROPERTY_OP(setacl);
PROPERTY_OP(getprogressfield);
PROPERTY_OP(getprogress);
PROPERTY_OP(gettimefield);
PROPERTY_OP(gettype);
PROPERTY_OP(getstate);
PROPERTY_OP(geterror);
PROPERTY_OP(geterrorcount);
PROPERTY_OP(getowner);
PROPERTY_OP(getdisplayname);
PROPERTY_OP(setdisplayname);
PROPERTY_OP(getdescription);
PROPERTY_OP(setdescription);
PROPERTY_OP(getpriority);
PROPERTY_OP(setpriority);
PROPERTY_OP(getnotifyflags);
PROPERTY_OP(setnotifyflags);
PROPERTY_OP(getnotifyinterface);
PROPERTY_OP(getnotifycmdline);
PROPERTY_OP(setnotifycmdline);
PROPERTY_OP(getminretrydelay);
PROPERTY_OP(setminretrydelay);
PROPERTY_OP(getnoprogresstimeout);
PROPERTY_OP(setnoprogresstimeout);
PROPERTY_OP(getmaxdownloadtime);
PROPERTY_OP(setmaxdownloadtime);
PROPERTY_OP(getproxyfield);
PROPERTY_OP(setproxysettings);
PROPERTY_OP(setcredentials);
PROPERTY_OP(removecredentials);
PROPERTY_OP(getreplyfilename);
PROPERTY_OP(setreplyfilename);
PROPERTY_OP(getreplyprogress);
PROPERTY_OP(getreplydata);
PROPERTY_OP(getcustomheaders);
PROPERTY_OP(setcustomheaders);
PROPERTY_OP(makecustomheaderswriteonly);
PROPERTY_OP(getsecurityflags);
PROPERTY_OP(setsecurityflags);
PROPERTY_OP(getclientcertificate);
PROPERTY_OP(setclientcertificatebyid);
PROPERTY_OP(setclientcertificatebyname);
PROPERTY_OP(removeclientcertificate);
PROPERTY_OP(getpeercachingflags);
PROPERTY_OP(setpeercachingflags);
PROPERTY_OP(getownerintegritylevel);
PROPERTY_OP(getownerelevationstate);
PROPERTY_OP(gettemporaryname);
PROPERTY_OP(getvalidationstate);
PROPERTY_OP(setvalidationstate);
PROPERTY_OP(gettransferpolicy);
PROPERTY_OP(settransferpolicy);
PROPERTY_OP(gethttpmethod);
PROPERTY_OP(sethttpmethod);

#endif /* BITSADMIN_H */
