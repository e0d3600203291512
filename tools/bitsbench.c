/* bitsbench: times one BITS download.  Creates a job for URL -> PATH, resumes it, polls the
 * state until TRANSFERRED (or ERROR), completes it and prints one line:
 *   bytes=<n> seconds=<s> mbps=<MB/s>
 * With --calls N it times COM calls instead, N of each, and prints one line of microseconds
 * per call:
 *   getstate=<us> setdescription=<us> createcancel=<us>
 * GetState only reads; SetDescription changes the job (ours checks the caller and saves the
 * job before it returns); CreateJob plus Cancel is a job's whole life.
 * The same program runs against Wine's builtin BITS and ours, so tools/bench compares the
 * services and nothing else.   SPDX-License-Identifier: LGPL-2.1-or-later */

#define COBJMACROS
#include <stdio.h>
#include <windows.h>
#include "bits.h"

static double now_us(void)
{
    LARGE_INTEGER counter, freq;

    QueryPerformanceFrequency(&freq);
    QueryPerformanceCounter(&counter);
    return (double)counter.QuadPart * 1e6 / freq.QuadPart;
}

/* --calls N: the cost of a call as a client sees it, averaged over N calls. */
static int time_calls(IBackgroundCopyManager *manager, int count)
{
    double start, getstate, setdescription, createcancel;
    IBackgroundCopyJob *job, *temp;
    BG_JOB_STATE state;
    WCHAR text[32];
    HRESULT hr;
    GUID id;
    int i;

    hr = IBackgroundCopyManager_CreateJob(manager, L"bitsbench calls", BG_JOB_TYPE_DOWNLOAD, &id,
                                          &job);
    if (FAILED(hr))
    {
        fprintf(stderr, "CreateJob: %#lx\n", hr);
        return 1;
    }
    start = now_us();
    for (i = 0; i < count && SUCCEEDED(hr); i++) hr = IBackgroundCopyJob_GetState(job, &state);
    getstate = (now_us() - start) / count;
    start = now_us();
    for (i = 0; i < count && SUCCEEDED(hr); i++)
    {
        swprintf(text, ARRAYSIZE(text), L"call %d", i);
        hr = IBackgroundCopyJob_SetDescription(job, text);
    }
    setdescription = (now_us() - start) / count;
    start = now_us();
    for (i = 0; i < count && SUCCEEDED(hr); i++)
    {
        hr = IBackgroundCopyManager_CreateJob(manager, L"bitsbench call", BG_JOB_TYPE_DOWNLOAD,
                                              &id, &temp);
        if (FAILED(hr)) break;
        hr = IBackgroundCopyJob_Cancel(temp);
        IBackgroundCopyJob_Release(temp);
    }
    createcancel = (now_us() - start) / count;
    IBackgroundCopyJob_Cancel(job);
    IBackgroundCopyJob_Release(job);
    if (FAILED(hr))
    {
        fprintf(stderr, "calls failed: %#lx\n", hr);
        return 1;
    }
    printf("getstate=%.1f setdescription=%.1f createcancel=%.1f\n", getstate, setdescription,
           createcancel);
    return 0;
}

int wmain(int argc, WCHAR **argv)
{
    IBackgroundCopyManager *manager;
    LARGE_INTEGER start, end, freq;
    BG_JOB_STATE state = BG_JOB_STATE_SUSPENDED;
    BG_JOB_PROGRESS progress = { 0 };
    IBackgroundCopyJob *job;
    double seconds;
    HRESULT hr;
    GUID id;

    if (argc != 3)
    {
        fprintf(stderr, "usage: bitsbench URL LOCAL-PATH | bitsbench --calls N\n");
        return 2;
    }
    CoInitializeEx(NULL, COINIT_MULTITHREADED);
    hr = CoCreateInstance(&CLSID_BackgroundCopyManager, NULL, CLSCTX_LOCAL_SERVER,
                          &IID_IBackgroundCopyManager, (void **)&manager);
    if (FAILED(hr))
    {
        fprintf(stderr, "CoCreateInstance: %#lx\n", hr);
        return 1;
    }
    if (!wcscmp(argv[1], L"--calls"))
    {
        int ret = time_calls(manager, max(_wtoi(argv[2]), 1));

        IBackgroundCopyManager_Release(manager);
        CoUninitialize();
        return ret;
    }
    hr = IBackgroundCopyManager_CreateJob(manager, L"bitsbench", BG_JOB_TYPE_DOWNLOAD, &id, &job);
    if (SUCCEEDED(hr)) hr = IBackgroundCopyJob_AddFile(job, argv[1], argv[2]);
    if (SUCCEEDED(hr)) hr = IBackgroundCopyJob_SetPriority(job, BG_JOB_PRIORITY_FOREGROUND);
    if (FAILED(hr))
    {
        fprintf(stderr, "job setup: %#lx\n", hr);
        return 1;
    }
    QueryPerformanceFrequency(&freq);
    QueryPerformanceCounter(&start);
    hr = IBackgroundCopyJob_Resume(job);
    while (SUCCEEDED(hr))
    {
        hr = IBackgroundCopyJob_GetState(job, &state);
        if (FAILED(hr) || state == BG_JOB_STATE_TRANSFERRED || state == BG_JOB_STATE_ERROR
                || state == BG_JOB_STATE_TRANSIENT_ERROR)
            break;
        Sleep(5);
    }
    QueryPerformanceCounter(&end);
    IBackgroundCopyJob_GetProgress(job, &progress);
    if (FAILED(hr) || state != BG_JOB_STATE_TRANSFERRED)
    {
        fprintf(stderr, "transfer failed: hr %#lx, state %d\n", hr, state);
        IBackgroundCopyJob_Cancel(job);
        return 1;
    }
    hr = IBackgroundCopyJob_Complete(job);
    if (FAILED(hr)) fprintf(stderr, "Complete: %#lx\n", hr);
    seconds = (double)(end.QuadPart - start.QuadPart) / freq.QuadPart;
    printf("bytes=%llu seconds=%.3f mbps=%.1f\n", progress.BytesTransferred, seconds,
           progress.BytesTransferred / seconds / 1e6);
    IBackgroundCopyJob_Release(job);
    IBackgroundCopyManager_Release(manager);
    CoUninitialize();
    return FAILED(hr);
}
