/* The one source of time of the service (DESIGN.md): wall-clock FILETIMEs for BG_JOB_TIMES and
 * a monotonic millisecond count for every timer (MinimumRetryDelay, NoProgressTimeout, time
 * slices), since changing the system clock must not shorten a timer (behaviour.md §0.3).
 *
 * Debugging aid, for Wine-only tests of the timers: the REG_DWORD value
 *
 *     HKEY_LOCAL_MACHINE\Software\Wine\BITS  ClockSkewSeconds
 *
 * read as a signed number of seconds, moves both clocks forward (or back, if negative).  It is
 * read when the engine starts and again by clock_refresh(), at most once a second; without the
 * value both clocks are the system's.  Nothing else in the service reads or skews time.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#include "qmgr_private.h"

DEFAULT_DEBUG_CHANNEL(qmgr);

#define SKEW_KEY        L"Software\\Wine\\BITS"
#define SKEW_VALUE      L"ClockSkewSeconds"
#define REFRESH_MS      1000
#define FILETIME_SECOND 10000000

static volatile LONG skew_seconds;
static volatile LONG64 last_refresh;    /* GetTickCount64() of the last read, 0 before any */

/* The only reader of the skew value. */
static LONG read_skew(void)
{
    DWORD value = 0, size = sizeof(value), type;
    LSTATUS status;

    status = RegGetValueW(HKEY_LOCAL_MACHINE, SKEW_KEY, SKEW_VALUE, RRF_RT_REG_DWORD, &type,
                          &value, &size);
    if (status != ERROR_SUCCESS) return 0;
    return (LONG)value;
}

void clock_refresh(void)
{
    ULONGLONG now = GetTickCount64();
    LONG skew, old;

    if (last_refresh && now - (ULONGLONG)last_refresh < REFRESH_MS) return;
    last_refresh = now;
    skew = read_skew();
    old = InterlockedExchange(&skew_seconds, skew);
    if (old != skew) WARN("clock skewed by %ld s\n", skew);
}

void clock_now(FILETIME *time)
{
    ULARGE_INTEGER value;

    GetSystemTimeAsFileTime(time);
    value.u.LowPart = time->dwLowDateTime;
    value.u.HighPart = time->dwHighDateTime;
    value.QuadPart += (LONGLONG)skew_seconds * FILETIME_SECOND;
    time->dwLowDateTime = value.u.LowPart;
    time->dwHighDateTime = value.u.HighPart;
}

/* A skew back past the system's start stops at 0 rather than wrapping. */
ULONGLONG clock_ticks(void)
{
    LONGLONG ticks = (LONGLONG)GetTickCount64() + (LONGLONG)skew_seconds * 1000;

    return ticks > 0 ? ticks : 0;
}
