/* bitsadmin /TRANSFER: creates a job, adds the file pairs, resumes it and shows its progress
 * until it is TRANSFERRED (then completes it) or in ERROR (then cancels it), as in
 * wire-and-tools.md §3.3 and §3.4.  On a console the progress block is redrawn in place; when
 * stdout is redirected a new block is written whenever the job moved.  Ctrl+C ends the process
 * and leaves the job as it is.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "bitsadmin.h"

#define POLL_INTERVAL_MS 1000

struct transfer_options
{
    const WCHAR *name;
    BG_JOB_TYPE type;
    BOOL set_priority;
    BG_JOB_PRIORITY priority;
    BOOL set_acl;
    DWORD acl_flags;
    BOOL dynamic;
    int pairs;              /* number of <remote> <local> pairs at files */
    WCHAR **files;
};

static int parse_transfer_options(int argc, WCHAR **argv, struct transfer_options *options)
{
    int i;

    memset(options, 0, sizeof(*options));
    options->name = argv[0];
    options->type = BG_JOB_TYPE_DOWNLOAD;
    for (i = 1; i < argc && argv[i][0] == '/'; i++)
    {
        if (is_switch(argv[i], L"/DOWNLOAD"))
            options->type = BG_JOB_TYPE_DOWNLOAD;
        else if (is_switch(argv[i], L"/UPLOAD"))
            options->type = BG_JOB_TYPE_UPLOAD;
        else if (is_switch(argv[i], L"/DYNAMIC"))
            options->dynamic = TRUE;
        else if (is_switch(argv[i], L"/PRIORITY") && i + 1 < argc)
        {
            if (!parse_priority(argv[++i], &options->priority))
                return usage_error(L"Invalid priority '%ls'; use FOREGROUND, HIGH, NORMAL or "
                                   L"LOW.", argv[i]);
            options->set_priority = TRUE;
        }
        else if (is_switch(argv[i], L"/ACLFLAGS") && i + 1 < argc)
        {
            if (!parse_acl_flags(argv[++i], &options->acl_flags))
                return usage_error(L"Invalid ACL flags '%ls'; use any of o, g, d and s.",
                                   argv[i]);
            options->set_acl = TRUE;
        }
        else
        {
            return usage_error(L"Invalid argument '%ls'.", argv[i]);
        }
    }
    if (argc - i < 2 || (argc - i) % 2) return usage_error(L"Invalid number of arguments.");
    options->pairs = (argc - i) / 2;
    options->files = argv + i;
    return 0;
}

/* Applies the options and adds the files; on failure *action names the step. */
static HRESULT setup_job(IBackgroundCopyJob *job, const struct transfer_options *options,
                         const WCHAR **action)
{
    BITS_JOB_PROPERTY_VALUE value;
    IBackgroundCopyJob3 *job3;
    IBackgroundCopyJob5 *job5;
    HRESULT hr;
    int i;

    if (options->set_priority)
    {
        *action = L"set priority";
        hr = IBackgroundCopyJob_SetPriority(job, options->priority);
        if (FAILED(hr)) return hr;
    }
    if (options->set_acl)
    {
        *action = L"set ACL flags";
        hr = IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJob3, (void **)&job3);
        if (FAILED(hr)) return hr;
        hr = IBackgroundCopyJob3_SetFileACLFlags(job3, options->acl_flags);
        IBackgroundCopyJob3_Release(job3);
        if (FAILED(hr)) return hr;
    }
    if (options->dynamic)
    {
        *action = L"set dynamic content";
        hr = IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJob5, (void **)&job5);
        if (FAILED(hr)) return hr;
        memset(&value, 0, sizeof(value));
        value.Enable = TRUE;
        hr = IBackgroundCopyJob5_SetProperty(job5, BITS_JOB_PROPERTY_DYNAMIC_CONTENT, value);
        IBackgroundCopyJob5_Release(job5);
        if (FAILED(hr)) return hr;
    }
    *action = L"add file";
    for (i = 0; i < options->pairs; i++)
    {
        hr = IBackgroundCopyJob_AddFile(job, options->files[2 * i], options->files[2 * i + 1]);
        if (FAILED(hr)) return hr;
    }
    *action = L"resume job";
    return IBackgroundCopyJob_Resume(job);
}

/* Shows the job's error block (wire-and-tools.md §3.4); returns the job's error code, or the
 * failure to get it. */
static HRESULT show_job_error(struct context *ctx, IBackgroundCopyJob *job, BOOL quiet)
{
    IBackgroundCopyError *error;
    BG_ERROR_CONTEXT context;
    HRESULT hr, code = S_OK;

    hr = IBackgroundCopyJob_GetError(job, &error);
    if (FAILED(hr))
    {
        if (!quiet) report_failure(ctx, L"get error", hr);
        return hr;
    }
    if (quiet)
        hr = IBackgroundCopyError_GetError(error, &context, &code);
    else
        hr = print_error(ctx, error, &code);
    IBackgroundCopyError_Release(error);
    if (FAILED(hr))
    {
        if (!quiet) report_failure(ctx, L"get error", hr);
        return hr;
    }
    return code;
}

/* What was shown last, so that a redirected output only grows when something changed. */
struct shown
{
    BOOL valid;
    BG_JOB_STATE state;
    BG_JOB_PROGRESS progress;
};

/* Draws the progress block (with the error lines while in TRANSIENT_ERROR); returns the
 * state in *state. */
static HRESULT show_progress(struct context *ctx, IBackgroundCopyJob *job, struct shown *shown,
                             BG_JOB_STATE *state)
{
    BG_JOB_PROGRESS progress;
    HRESULT hr;

    hr = IBackgroundCopyJob_GetState(job, state);
    if (FAILED(hr)) return hr;
    hr = IBackgroundCopyJob_GetProgress(job, &progress);
    if (FAILED(hr)) return hr;
    if (output_is_raw()) return S_OK;
    if (!output_is_console() && shown->valid && shown->state == *state
            && !memcmp(&shown->progress, &progress, sizeof(progress)))
        return S_OK;

    if (output_is_console() && shown->valid) output_block_rewind();
    output_block_begin();
    hr = print_progress_block(job, state, &progress);
    if (FAILED(hr)) return hr;
    if (*state == BG_JOB_STATE_TRANSIENT_ERROR) show_job_error(ctx, job, FALSE);
    output_flush();
    shown->valid = TRUE;
    shown->state = *state;
    shown->progress = progress;
    return S_OK;
}

/* Polls the job until it leaves the action states; returns the exit code. */
static int wait_for_job(struct context *ctx, IBackgroundCopyJob *job)
{
    struct shown shown = { FALSE };
    BG_JOB_STATE state;
    HRESULT hr, code;

    for (;;)
    {
        hr = show_progress(ctx, job, &shown, &state);
        if (FAILED(hr)) return report_failure(ctx, L"get job state", hr);
        switch (state)
        {
        case BG_JOB_STATE_TRANSFERRED:
            hr = IBackgroundCopyJob_Complete(job);
            if (FAILED(hr)) return report_failure(ctx, L"complete job", hr);
            if (!output_is_raw()) output(L"Transfer complete.\n");
            return 0;

        case BG_JOB_STATE_ERROR:
            code = show_job_error(ctx, job, output_is_raw());
            hr = IBackgroundCopyJob_Cancel(job);
            if (FAILED(hr)) report_failure(ctx, L"cancel job", hr);
            if (output_is_raw())
                output(L"0x%08lX\n", (unsigned long)code);
            else
                output(L"Unable to complete transfer.\n");
            return (int)code;

        case BG_JOB_STATE_ACKNOWLEDGED:
        case BG_JOB_STATE_CANCELLED:
            /* Completed or cancelled by someone else. */
            return report_failure(ctx, L"complete transfer", BG_E_INVALID_STATE);

        default:
            break;
        }
        /* The display's refresh rate, not a wait for the service: the job is polled. */
        Sleep(POLL_INTERVAL_MS);
    }
}

int cmd_transfer(struct context *ctx, const struct command *cmd, int argc, WCHAR **argv)
{
    struct transfer_options options;
    const WCHAR *action = L"create job";
    IBackgroundCopyJob *job;
    GUID id;
    HRESULT hr;
    int ret;

    (void)cmd;
    ret = parse_transfer_options(argc, argv, &options);
    if (ret) return ret;
    hr = IBackgroundCopyManager_CreateJob(ctx->manager, options.name, options.type, &id, &job);
    if (FAILED(hr)) return report_failure(ctx, action, hr);
    hr = setup_job(job, &options, &action);
    if (FAILED(hr))
    {
        ret = report_failure(ctx, action, hr);
        /* Leave no half-made job behind. */
        IBackgroundCopyJob_Cancel(job);
        IBackgroundCopyJob_Release(job);
        return ret;
    }
    ret = wait_for_job(ctx, job);
    IBackgroundCopyJob_Release(job);
    return ret;
}
