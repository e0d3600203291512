/* Logging for qmgr, qmgrprxy and bitsadmin; see debug.h for how it is switched on.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "debug.h"

/* Wine's ntdll debug exports, looked up once; all NULL when not running on Wine. */
static unsigned char (__cdecl *wine_get_channel_flags)(struct debug_channel *);
static int (__cdecl *wine_dbg_header)(enum debug_class, struct debug_channel *, const char *);
static int (__cdecl *wine_dbg_output)(const char *);
static INIT_ONCE debug_init_once = INIT_ONCE_STATIC_INIT;
static const char *debug_options;   /* QMGR_DEBUG, when not on Wine */

static BOOL CALLBACK debug_init(INIT_ONCE *once, void *param, void **context)
{
    HMODULE ntdll = GetModuleHandleA("ntdll.dll");

    (void)once; (void)param; (void)context;
    if (ntdll)
    {
        wine_get_channel_flags = (void *)GetProcAddress(ntdll, "__wine_dbg_get_channel_flags");
        wine_dbg_header = (void *)GetProcAddress(ntdll, "__wine_dbg_header");
        wine_dbg_output = (void *)GetProcAddress(ntdll, "__wine_dbg_output");
    }
    if (!wine_get_channel_flags || !wine_dbg_header || !wine_dbg_output)
    {
        wine_get_channel_flags = NULL;
        debug_options = getenv("QMGR_DEBUG");
    }
    return TRUE;
}

/* Parses a WINEDEBUG-style list: items "[class]+channel" or "[class]-channel", comma separated,
 * where class is one of fixme, err, warn, trace, and "all" matches every channel. */
static unsigned char parse_options(const char *options, const char *name)
{
    static const char *const classes[] = { "fixme", "err", "warn", "trace" };
    unsigned char flags = 0;
    const char *item = options;

    while (item && *item)
    {
        const char *end = strchr(item, ',');
        size_t len = end ? (size_t)(end - item) : strlen(item);
        const char *sign = memchr(item, '+', len);
        const char *minus = memchr(item, '-', len);
        unsigned char mask = 0xf;
        size_t i;

        if (!sign || (minus && minus < sign)) sign = minus;
        if (sign)
        {
            size_t name_len = len - (size_t)(sign + 1 - item);
            if (sign > item)
            {
                mask = 0;
                for (i = 0; i < ARRAYSIZE(classes); i++)
                    if ((size_t)(sign - item) == strlen(classes[i])
                            && !strncmp(item, classes[i], sign - item))
                        mask = 1 << i;
            }
            if ((name_len == 3 && !strncmp(sign + 1, "all", 3))
                    || (name_len == strlen(name) && !strncmp(sign + 1, name, name_len)))
            {
                if (*sign == '+') flags |= mask;
                else flags &= ~mask;
            }
        }
        item = end ? end + 1 : NULL;
    }
    return flags;
}

unsigned char debug_channel_flags(struct debug_channel *channel)
{
    if (channel->flags != 0xff) return channel->flags;
    InitOnceExecuteOnce(&debug_init_once, debug_init, NULL, NULL);
    if (wine_get_channel_flags)
        return wine_get_channel_flags(channel);
    channel->flags = parse_options(debug_options, channel->name);
    return channel->flags;
}

void debug_printf(enum debug_class cls, struct debug_channel *channel, const char *function,
                  const char *format, ...)
{
    static const char *const names[] = { "fixme", "err", "warn", "trace" };
    char buffer[1024];
    int len = 0;
    va_list args;

    if (!wine_dbg_output)
        len = snprintf(buffer, sizeof(buffer), "%04lx:%s:%s:%s ", GetCurrentThreadId(),
                       names[cls], channel->name, function);
    va_start(args, format);
    vsnprintf(buffer + len, sizeof(buffer) - len, format, args);
    va_end(args);
    if (wine_dbg_output)
    {
        wine_dbg_header(cls, channel, function);
        wine_dbg_output(buffer);
    }
    else OutputDebugStringA(buffer);
}

/* Returns a buffer from a small per-thread ring, so a few debugstr_* results can appear in
 * one message. */
static char *debug_buffer(void)
{
    static __thread char ring[8][300];
    static __thread unsigned int next;
    return ring[next++ % ARRAYSIZE(ring)];
}

const char *debugstr_wn(const WCHAR *str, int len)
{
    char *buffer, *dst;
    int i;

    if (!str) return "(null)";
    if ((ULONG_PTR)str >> 16 == 0) return "(invalid)";
    buffer = debug_buffer();
    dst = buffer;
    *dst++ = 'L';
    *dst++ = '"';
    for (i = 0; (len < 0 || i < len) && str[i] && dst < buffer + 280; i++)
    {
        WCHAR c = str[i];
        if (c == '"' || c == '\\') { *dst++ = '\\'; *dst++ = (char)c; }
        else if (c >= 0x20 && c < 0x7f) *dst++ = (char)c;
        else dst += sprintf(dst, "\\x%04x", c);
    }
    if ((len < 0 || i < len) && str[i]) { strcpy(dst, "..."); dst += 3; }
    *dst++ = '"';
    *dst = 0;
    return buffer;
}

const char *debugstr_guid(const GUID *guid)
{
    char *buffer;

    if (!guid) return "(null)";
    buffer = debug_buffer();
    sprintf(buffer, "{%08lx-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x}", guid->Data1,
            guid->Data2, guid->Data3, guid->Data4[0], guid->Data4[1], guid->Data4[2],
            guid->Data4[3], guid->Data4[4], guid->Data4[5], guid->Data4[6], guid->Data4[7]);
    return buffer;
}
