/* The test framework behind test.h, and main() of the conformance executable.
 *
 *     conformance.exe                  runs every unit of testlist.c, each in a child process
 *     conformance.exe UNIT [ARGS...]   runs one unit in this process
 *     conformance.exe --list           prints the unit names
 *
 * The exit code is the number of failures, capped at 255.  Running each unit in its own
 * process keeps a crash or a hang in one unit from hiding the results of the others; the
 * per-unit deadline is WINETEST_TIMEOUT seconds (default 600).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#include <fcntl.h>
#include <io.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

#define MAX_CONTEXTS 16
#define CONTEXT_LEN 160
#define DBGSTR_COUNT 16
#define DBGSTR_LEN 512
#define MESSAGE_LEN 8192

struct thread_data
{
    const char *file;               /* location of the current check */
    int line;
    unsigned int todo_level;        /* one bit per nested todo_if(); the low bit is innermost */
    int todo_do_loop;               /* makes the todo_if() for-loop body run exactly once */
    unsigned int context_count;
    char contexts[MAX_CONTEXTS][CONTEXT_LEN];
    unsigned int next_dbgstr;
    char dbgstr[DBGSTR_COUNT][DBGSTR_LEN];
};

int winetest_platform_is_wine;
int winetest_debug = 1;
const char *winetest_unit_name = "conformance";

static int report_success;
static int main_argc;
static char **main_argv;
static DWORD tls_index = TLS_OUT_OF_INDEXES;
static CRITICAL_SECTION output_cs;

/* Shared by every thread of the process. */
static LONG successes;
static LONG failures;
static LONG todo_count;
static LONG skip_count;

static struct thread_data *get_thread_data(void)
{
    struct thread_data *data = TlsGetValue(tls_index);

    if (!data)
    {
        data = calloc(1, sizeof(*data));
        if (!data)
        {
            fputs("test.c: out of memory\n", stderr);
            ExitProcess(255);
        }
        data->file = "unknown";
        TlsSetValue(tls_index, data);
    }
    return data;
}

static const char *base_name(const char *path)
{
    const char *p, *name = path;

    for (p = path; *p; p++)
        if (*p == '/' || *p == '\\') name = p + 1;
    return name;
}

/* Prints "file:line: <kind><contexts><message>" as one write, so that lines of several
 * threads or processes sharing the output never interleave within a line. */
static void print_message(struct thread_data *data, const char *kind, const char *fmt,
        va_list args)
{
    char buffer[MESSAGE_LEN];
    size_t len;
    unsigned int i;
    int n;

    n = snprintf(buffer, sizeof(buffer), "%s:%d: %s", base_name(data->file), data->line, kind);
    len = n < 0 ? 0 : (size_t)n;
    for (i = 0; i < data->context_count && len < sizeof(buffer); i++)
    {
        n = snprintf(buffer + len, sizeof(buffer) - len, "%s: ", data->contexts[i]);
        if (n > 0) len += n;
    }
    if (len < sizeof(buffer))
        vsnprintf(buffer + len, sizeof(buffer) - len, fmt, args);
    buffer[sizeof(buffer) - 1] = 0;

    EnterCriticalSection(&output_cs);
    fputs(buffer, stdout);
    fflush(stdout);
    LeaveCriticalSection(&output_cs);
}

static void print_raw(const char *fmt, ...) WINETEST_PRINTF_ATTR(1, 2);
static void print_raw(const char *fmt, ...)
{
    char buffer[MESSAGE_LEN];
    va_list args;

    va_start(args, fmt);
    vsnprintf(buffer, sizeof(buffer), fmt, args);
    va_end(args);
    buffer[sizeof(buffer) - 1] = 0;

    EnterCriticalSection(&output_cs);
    fputs(buffer, stdout);
    fflush(stdout);
    LeaveCriticalSection(&output_cs);
}

void winetest_set_location(const char *file, int line)
{
    struct thread_data *data = get_thread_data();

    data->file = file;
    data->line = line;
}

static int winetest_vok(int condition, const char *fmt, va_list args)
{
    struct thread_data *data = get_thread_data();

    if (data->todo_level)
    {
        if (condition)
        {
            print_message(data, "Test succeeded inside todo block: ", fmt, args);
            InterlockedIncrement(&failures);
            return 1;
        }
        if (winetest_debug > 0) print_message(data, "Test marked todo: ", fmt, args);
        InterlockedIncrement(&todo_count);
        return 0;
    }
    if (!condition)
    {
        print_message(data, "Test failed: ", fmt, args);
        InterlockedIncrement(&failures);
        return 0;
    }
    if (report_success) print_message(data, "Test succeeded: ", fmt, args);
    InterlockedIncrement(&successes);
    return 1;
}

int winetest_ok(int condition, const char *fmt, ...)
{
    va_list args;
    int ret;

    va_start(args, fmt);
    ret = winetest_vok(condition, fmt, args);
    va_end(args);
    return ret;
}

int winetest_ok_at(const char *file, int line, int condition, const char *fmt, ...)
{
    va_list args;
    int ret;

    winetest_set_location(file, line);
    va_start(args, fmt);
    ret = winetest_vok(condition, fmt, args);
    va_end(args);
    return ret;
}

void winetest_trace_at(const char *file, int line, const char *fmt, ...)
{
    va_list args;

    if (winetest_debug <= 0) return;
    winetest_set_location(file, line);
    va_start(args, fmt);
    print_message(get_thread_data(), "", fmt, args);
    va_end(args);
}

void winetest_skip_at(const char *file, int line, const char *fmt, ...)
{
    va_list args;

    winetest_set_location(file, line);
    va_start(args, fmt);
    print_message(get_thread_data(), "Tests skipped: ", fmt, args);
    va_end(args);
    InterlockedIncrement(&skip_count);
}

/* A missing interface or feature is an acceptable skip on (older) Windows, but a failure on
 * Wine, where our implementation is expected to provide it. */
void winetest_win_skip_at(const char *file, int line, const char *fmt, ...)
{
    va_list args;

    winetest_set_location(file, line);
    va_start(args, fmt);
    if (winetest_platform_is_wine)
        winetest_vok(0, fmt, args);
    else
    {
        print_message(get_thread_data(), "Tests skipped: ", fmt, args);
        InterlockedIncrement(&skip_count);
    }
    va_end(args);
}

int winetest_is_broken(int condition)
{
    return !winetest_platform_is_wine && condition;
}

void winetest_push_context(const char *fmt, ...)
{
    struct thread_data *data = get_thread_data();
    va_list args;

    if (data->context_count < MAX_CONTEXTS)
    {
        va_start(args, fmt);
        vsnprintf(data->contexts[data->context_count], CONTEXT_LEN, fmt, args);
        va_end(args);
        data->contexts[data->context_count][CONTEXT_LEN - 1] = 0;
    }
    data->context_count++;
}

void winetest_pop_context(void)
{
    struct thread_data *data = get_thread_data();

    if (data->context_count) data->context_count--;
}

void winetest_start_todo(int is_todo)
{
    struct thread_data *data = get_thread_data();

    data->todo_level = (data->todo_level << 1) | (is_todo ? 1 : 0);
    data->todo_do_loop = 1;
}

int winetest_loop_todo(void)
{
    struct thread_data *data = get_thread_data();
    int ret = data->todo_do_loop;

    data->todo_do_loop = 0;
    return ret;
}

void winetest_end_todo(void)
{
    struct thread_data *data = get_thread_data();

    data->todo_level >>= 1;
}

int winetest_get_mainargs(char ***argv)
{
    *argv = main_argv;
    return main_argc;
}

static char *next_dbgstr(void)
{
    struct thread_data *data = get_thread_data();
    char *buffer = data->dbgstr[data->next_dbgstr];

    data->next_dbgstr = (data->next_dbgstr + 1) % DBGSTR_COUNT;
    return buffer;
}

const char *wine_dbgstr_wn(const WCHAR *str, int len)
{
    static const char hex[] = "0123456789abcdef";
    char *buffer, *out, *end;
    int i;

    if (!str) return "(null)";
    if (len < 0) len = (int)wcslen(str);
    buffer = next_dbgstr();
    out = buffer;
    end = buffer + DBGSTR_LEN - 12;     /* room for an escape, the ellipsis and the NUL */
    *out++ = 'L';
    *out++ = '"';
    for (i = 0; i < len && out < end; i++)
    {
        WCHAR c = str[i];

        switch (c)
        {
        case '\n': *out++ = '\\'; *out++ = 'n'; break;
        case '\r': *out++ = '\\'; *out++ = 'r'; break;
        case '\t': *out++ = '\\'; *out++ = 't'; break;
        case '"': *out++ = '\\'; *out++ = '"'; break;
        case '\\': *out++ = '\\'; *out++ = '\\'; break;
        default:
            if (c >= ' ' && c < 0x7f)
                *out++ = (char)c;
            else
            {
                *out++ = '\\';
                *out++ = 'x';
                *out++ = hex[(c >> 12) & 0xf];
                *out++ = hex[(c >> 8) & 0xf];
                *out++ = hex[(c >> 4) & 0xf];
                *out++ = hex[c & 0xf];
            }
        }
    }
    *out++ = '"';
    if (i < len)
    {
        *out++ = '.';
        *out++ = '.';
        *out++ = '.';
    }
    *out = 0;
    return buffer;
}

const char *wine_dbgstr_guid(const GUID *guid)
{
    char *buffer;

    if (!guid) return "(null)";
    buffer = next_dbgstr();
    snprintf(buffer, DBGSTR_LEN, "{%08lx-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x}",
            (unsigned long)guid->Data1, guid->Data2, guid->Data3, guid->Data4[0],
            guid->Data4[1], guid->Data4[2], guid->Data4[3], guid->Data4[4], guid->Data4[5],
            guid->Data4[6], guid->Data4[7]);
    return buffer;
}

const char *wine_dbgstr_longlong(ULONGLONG value)
{
    char *buffer = next_dbgstr();

    if (value >> 32)
        snprintf(buffer, DBGSTR_LEN, "0x%lx%08lx", (unsigned long)(value >> 32),
                (unsigned long)(value & 0xffffffff));
    else
        snprintf(buffer, DBGSTR_LEN, "0x%lx", (unsigned long)value);
    return buffer;
}

static int exit_code(LONG count)
{
    return count > 255 ? 255 : (int)count;
}

static void print_summary(void)
{
    LONG fail = failures, todo = todo_count;

    print_raw("%04lx:%s: %ld tests executed (%ld marked as todo, 0 as flaky, %ld failures), "
            "%ld skipped.\n", (unsigned long)GetCurrentProcessId(), winetest_unit_name,
            successes + fail + todo, todo, fail, (long)skip_count);
}

/* A crash still ends with the unit's summary line, so that the failure is counted. */
static LONG WINAPI crash_filter(EXCEPTION_POINTERS *info)
{
    struct thread_data *data = get_thread_data();
    LONG count;

    print_raw("%s:%d: Test failed: unhandled exception %08lx at %p\n", base_name(data->file),
            data->line, (unsigned long)info->ExceptionRecord->ExceptionCode,
            info->ExceptionRecord->ExceptionAddress);
    count = InterlockedIncrement(&failures);
    print_summary();
    ExitProcess(exit_code(count));
    return EXCEPTION_EXECUTE_HANDLER;
}

static int run_unit(const struct winetest_unit *unit)
{
    winetest_unit_name = unit->name;
    SetUnhandledExceptionFilter(crash_filter);
    unit->func();
    print_summary();
    return exit_code(failures);
}

static void make_inheritable(DWORD which, HANDLE *handle)
{
    *handle = GetStdHandle(which);
    if (*handle && *handle != INVALID_HANDLE_VALUE)
        SetHandleInformation(*handle, HANDLE_FLAG_INHERIT, HANDLE_FLAG_INHERIT);
}

/* cmdline = "\"exe\" name"; unit names are ASCII. */
static void build_cmdline(WCHAR *cmdline, size_t size, const WCHAR *exe, const char *name)
{
    size_t len = 0;

    cmdline[len++] = '"';
    while (*exe && len < size - 4) cmdline[len++] = *exe++;
    cmdline[len++] = '"';
    cmdline[len++] = ' ';
    while (*name && len < size - 1) cmdline[len++] = (WCHAR)*name++;
    cmdline[len] = 0;
}

/* A unit that died without its summary line still shows in the totals with one failure. */
static LONG unit_died(DWORD pid, const char *name, const char *fmt, ...)
        WINETEST_PRINTF_ATTR(3, 4);
static LONG unit_died(DWORD pid, const char *name, const char *fmt, ...)
{
    char reason[256];
    va_list args;

    va_start(args, fmt);
    vsnprintf(reason, sizeof(reason), fmt, args);
    va_end(args);
    reason[sizeof(reason) - 1] = 0;
    print_raw("%s: Test failed: unit %s %s\n", name, name, reason);
    print_raw("%04lx:%s: 1 tests executed (0 marked as todo, 0 as flaky, 1 failures), "
            "0 skipped.\n", (unsigned long)pid, name);
    return 1;
}

/* Runs one unit as "<this exe> <unit>" and returns its number of failures. */
static LONG run_child_unit(const WCHAR *exe, const struct winetest_unit *unit, DWORD timeout_ms)
{
    PROCESS_INFORMATION pi;
    STARTUPINFOW si;
    WCHAR cmdline[MAX_PATH + 100];
    DWORD wait, code = 1;

    build_cmdline(cmdline, ARRAY_SIZE(cmdline), exe, unit->name);
    memset(&si, 0, sizeof(si));
    si.cb = sizeof(si);
    si.dwFlags = STARTF_USESTDHANDLES;
    make_inheritable(STD_INPUT_HANDLE, &si.hStdInput);
    make_inheritable(STD_OUTPUT_HANDLE, &si.hStdOutput);
    make_inheritable(STD_ERROR_HANDLE, &si.hStdError);
    fflush(stdout);
    if (!CreateProcessW(exe, cmdline, NULL, NULL, TRUE, 0, NULL, NULL, &si, &pi))
        return unit_died(0, unit->name, "could not start: error %lu", GetLastError());
    wait = WaitForSingleObject(pi.hProcess, timeout_ms);
    if (wait != WAIT_OBJECT_0)
    {
        TerminateProcess(pi.hProcess, 255);
        WaitForSingleObject(pi.hProcess, 5000);
    }
    else if (!GetExitCodeProcess(pi.hProcess, &code))
        code = 256;
    CloseHandle(pi.hThread);
    CloseHandle(pi.hProcess);
    if (wait != WAIT_OBJECT_0)
        return unit_died(pi.dwProcessId, unit->name, "did not finish within %lu s, terminated",
                timeout_ms / 1000);
    if (code > 255)
        return unit_died(pi.dwProcessId, unit->name, "exited with code %#lx", code);
    return (LONG)code;
}

static int run_all_units(void)
{
    const struct winetest_unit *unit;
    WCHAR exe[MAX_PATH];
    DWORD timeout_s = 600;
    const char *env;
    LONG total = 0;

    env = getenv("WINETEST_TIMEOUT");
    if (env && atoi(env) > 0) timeout_s = (DWORD)atoi(env);
    if (!GetModuleFileNameW(NULL, exe, ARRAY_SIZE(exe)))
    {
        fprintf(stderr, "cannot find my own executable: error %lu\n", GetLastError());
        return 255;
    }
    for (unit = winetest_testlist; unit->name; unit++)
        total += run_child_unit(exe, unit, timeout_s * 1000);
    return exit_code(total);
}

static void usage(const char *argv0)
{
    const struct winetest_unit *unit;

    fprintf(stderr, "usage: %s [--list | UNIT [ARGS...]]\nunits:", base_name(argv0));
    for (unit = winetest_testlist; unit->name; unit++)
        fprintf(stderr, " %s", unit->name);
    fputc('\n', stderr);
}

static void init_platform(void)
{
    const char *env;

    winetest_platform_is_wine =
            GetProcAddress(GetModuleHandleA("ntdll.dll"), "wine_get_version") != NULL;
    env = getenv("WINETEST_PLATFORM");
    if (env && !strcmp(env, "wine")) winetest_platform_is_wine = 1;
    if (env && !strcmp(env, "windows")) winetest_platform_is_wine = 0;
    env = getenv("WINETEST_DEBUG");
    if (env) winetest_debug = atoi(env);
    env = getenv("WINETEST_REPORT_SUCCESS");
    if (env) report_success = atoi(env);
}

int main(int argc, char **argv)
{
    const struct winetest_unit *unit;

    /* No CR before LF: the output is parsed by scripts on the Unix side. */
    _setmode(_fileno(stdout), _O_BINARY);
    InitializeCriticalSection(&output_cs);
    tls_index = TlsAlloc();
    if (tls_index == TLS_OUT_OF_INDEXES) return 255;
    main_argc = argc;
    main_argv = argv;
    init_platform();

    if (argc < 2) return run_all_units();
    if (!strcmp(argv[1], "--list"))
    {
        for (unit = winetest_testlist; unit->name; unit++)
            printf("%s\n", unit->name);
        return 0;
    }
    for (unit = winetest_testlist; unit->name; unit++)
        if (!strcmp(unit->name, argv[1])) return run_unit(unit);
    usage(argv[0]);
    return 255;
}
