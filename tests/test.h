/* A small Wine-compatible test framework for the conformance executable.
 *
 * Tests written against it look like Wine's conformance tests (ok, todo_wine, broken, skip,
 * win_skip, trace, START_TEST) and print the same lines, so Wine's tools and habits apply:
 *
 *     file.c:123: Test failed: message
 *     0abc:unit: 42 tests executed (0 marked as todo, 0 as flaky, 1 failures), 0 skipped.
 *
 * Whether we run on Wine is decided at run time (ntdll exports wine_get_version), so the one
 * executable runs unchanged on Windows, where todo_wine blocks are ordinary tests and broken()
 * accepts its argument.  WINETEST_PLATFORM=windows|wine overrides the detection,
 * WINETEST_DEBUG=N sets winetest_debug (trace() prints when > 0, the default is 1) and
 * WINETEST_REPORT_SUCCESS=1 prints successful checks too.
 *
 * The counters are shared by all threads of the process; locations, contexts and todo state
 * are per thread.  The implementation and main() are in test.c, the list of units in
 * testlist.c.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#ifndef BITS_TESTS_TEST_H
#define BITS_TESTS_TEST_H

#include <stdarg.h>
#include <windows.h>

#ifdef __MINGW_PRINTF_FORMAT
#define WINETEST_PRINTF_ATTR(fmt, args) __attribute__((format(__MINGW_PRINTF_FORMAT, fmt, args)))
#elif defined(__GNUC__)
#define WINETEST_PRINTF_ATTR(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define WINETEST_PRINTF_ATTR(fmt, args)
#endif

/* One entry of the table in testlist.c; the table ends with a NULL name. */
struct winetest_unit
{
    const char *name;
    void (*func)(void);
};
extern const struct winetest_unit winetest_testlist[];

/* TRUE under Wine (or WINETEST_PLATFORM=wine). */
extern int winetest_platform_is_wine;
/* Verbosity: trace() prints only when > 0. */
extern int winetest_debug;
/* Name of the unit that runs in this process. */
extern const char *winetest_unit_name;

int winetest_ok_at(const char *file, int line, int condition, const char *fmt, ...)
        WINETEST_PRINTF_ATTR(4, 5);
/* For helpers that report their caller's line: ok_(__FILE__, line)(condition, fmt, ...). */
void winetest_set_location(const char *file, int line);
int winetest_ok(int condition, const char *fmt, ...) WINETEST_PRINTF_ATTR(2, 3);
void winetest_trace_at(const char *file, int line, const char *fmt, ...) WINETEST_PRINTF_ATTR(3, 4);
void winetest_skip_at(const char *file, int line, const char *fmt, ...) WINETEST_PRINTF_ATTR(3, 4);
void winetest_win_skip_at(const char *file, int line, const char *fmt, ...)
        WINETEST_PRINTF_ATTR(3, 4);
int winetest_is_broken(int condition);

void winetest_push_context(const char *fmt, ...) WINETEST_PRINTF_ATTR(1, 2);
void winetest_pop_context(void);

void winetest_start_todo(int is_todo);
int winetest_loop_todo(void);
void winetest_end_todo(void);

/* Returns argc; *argv receives the process arguments: argv[0] is the executable, argv[1] the
 * unit name, argv[2...] the unit's own arguments (used to start child processes). */
int winetest_get_mainargs(char ***argv);

/* Debug strings, each valid until the same thread has made a few more such calls. */
const char *wine_dbgstr_wn(const WCHAR *str, int len);
const char *wine_dbgstr_guid(const GUID *guid);
const char *wine_dbgstr_longlong(ULONGLONG value);
static inline const char *wine_dbgstr_w(const WCHAR *str)
{
    return wine_dbgstr_wn(str, -1);
}
static inline const char *debugstr_w(const WCHAR *str)
{
    return wine_dbgstr_wn(str, -1);
}

#define ok(condition, ...) winetest_ok_at(__FILE__, __LINE__, (condition) ? 1 : 0, __VA_ARGS__)
#define ok_(file, line) (winetest_set_location(file, line), winetest_ok)
#define trace(...) winetest_trace_at(__FILE__, __LINE__, __VA_ARGS__)
#define skip(...) winetest_skip_at(__FILE__, __LINE__, __VA_ARGS__)
#define win_skip(...) winetest_win_skip_at(__FILE__, __LINE__, __VA_ARGS__)
#define broken(condition) winetest_is_broken((condition) ? 1 : 0)

/* A block whose checks are expected to fail: failures count as "todo", and a check that
 * unexpectedly succeeds counts as a failure.  Only active when is_todo is true. */
#define todo_if(is_todo) \
    for (winetest_start_todo((is_todo) ? 1 : 0); winetest_loop_todo(); winetest_end_todo())
#define todo_wine todo_if(winetest_platform_is_wine)
#define todo_wine_if(condition) todo_if(winetest_platform_is_wine && (condition))

#define START_TEST(name) void func_##name(void)

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(array) (sizeof(array) / sizeof((array)[0]))
#endif

#endif /* BITS_TESTS_TEST_H */
