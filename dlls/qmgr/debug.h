/* Logging for qmgr, qmgrprxy and bitsadmin: WINEDEBUG-style channels, silent by default.
 *
 * Under Wine the channel flags come from Wine's own debug support in ntdll, looked up at run
 * time, so WINEDEBUG=+qmgr works as for any Wine DLL.  Elsewhere (Windows, ReactOS) the
 * environment variable QMGR_DEBUG takes the same syntax ("+qmgr", "warn+qmgr,+bitsadmin") and
 * messages go to OutputDebugString.  There is no link-time dependency on Wine.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#ifndef QMGR_DEBUG_H
#define QMGR_DEBUG_H

#include <windows.h>

enum debug_class
{
    DEBUG_CLASS_FIXME,
    DEBUG_CLASS_ERR,
    DEBUG_CLASS_WARN,
    DEBUG_CLASS_TRACE,
};

/* Same layout as Wine's struct __wine_debug_channel, so Wine can fill in the flags. */
struct debug_channel
{
    unsigned char flags;    /* 0xff until first use; then one bit per enum debug_class */
    char name[15];
};

unsigned char debug_channel_flags(struct debug_channel *channel);
void debug_printf(enum debug_class cls, struct debug_channel *channel, const char *function,
                  const char *format, ...) __attribute__((format(printf, 4, 5)));
const char *debugstr_wn(const WCHAR *str, int len);
const char *debugstr_guid(const GUID *guid);
static inline const char *debugstr_w(const WCHAR *str) { return debugstr_wn(str, -1); }

#define DEFAULT_DEBUG_CHANNEL(ch) \
    static struct debug_channel debug_channel_default = { 0xff, #ch }

#define DEBUG_ON(cls) (debug_channel_flags(&debug_channel_default) & (1 << (cls)))
#define DEBUG_LOG(cls, ...) \
    do { if (DEBUG_ON(cls)) debug_printf(cls, &debug_channel_default, __func__, __VA_ARGS__); } \
    while (0)

#define TRACE(...) DEBUG_LOG(DEBUG_CLASS_TRACE, __VA_ARGS__)
#define WARN(...)  DEBUG_LOG(DEBUG_CLASS_WARN, __VA_ARGS__)
#define ERR(...)   DEBUG_LOG(DEBUG_CLASS_ERR, __VA_ARGS__)
#define FIXME(...) DEBUG_LOG(DEBUG_CLASS_FIXME, __VA_ARGS__)
#define TRACE_ON() DEBUG_ON(DEBUG_CLASS_TRACE)

#endif /* QMGR_DEBUG_H */
