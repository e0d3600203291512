/* bitsadmin output: wide text to the console with WriteConsoleW, or UTF-8 when stdout is a file
 * or a pipe, with CRLF line ends as on Windows.  Lines are buffered whole so that /WRAP can
 * break them between words at the console width (wire-and-tools.md §3.2: wrapping is the default
 * on a console, /NOWRAP the default when redirected), and so that /RAWRETURN can leave the last
 * line without its terminator.  The state below is this module's: one stdout per process.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "bitsadmin.h"

#define DEFAULT_WIDTH 80

static struct
{
    HANDLE handle;
    BOOL console;
    BOOL raw;
    BOOL wrap;
    unsigned int width;
    BOOL newline_pending;       /* raw mode: a line ended; its CRLF waits for more text */
    WCHAR *line;                /* the current line, not yet written */
    size_t len, size;
    unsigned int lines;         /* line ends written so far */
    unsigned int block_start;   /* value of lines at output_block_begin() */
}
out;

void output_init(BOOL raw, int wrap)
{
    CONSOLE_SCREEN_BUFFER_INFO info;
    DWORD mode;

    out.handle = GetStdHandle(STD_OUTPUT_HANDLE);
    out.console = out.handle && out.handle != INVALID_HANDLE_VALUE
            && GetConsoleMode(out.handle, &mode);
    out.raw = raw;
    out.wrap = wrap < 0 ? out.console : wrap;
    out.width = DEFAULT_WIDTH;
    if (out.console && GetConsoleScreenBufferInfo(out.handle, &info) && info.dwSize.X > 1)
        out.width = info.dwSize.X;
}

BOOL output_is_raw(void)
{
    return out.raw;
}

BOOL output_is_console(void)
{
    return out.console;
}

static void write_text(const WCHAR *text, size_t len)
{
    DWORD written;
    char *buffer;
    int size;

    if (!len || !out.handle || out.handle == INVALID_HANDLE_VALUE) return;
    if (out.console)
    {
        while (len)
        {
            DWORD chunk = len > 4096 ? 4096 : (DWORD)len;

            if (!WriteConsoleW(out.handle, text, chunk, &written, NULL) || !written) return;
            text += written;
            len -= written;
        }
        return;
    }
    size = WideCharToMultiByte(CP_UTF8, 0, text, (int)len, NULL, 0, NULL, NULL);
    if (size <= 0) return;
    buffer = malloc(size);
    if (!buffer) return;
    WideCharToMultiByte(CP_UTF8, 0, text, (int)len, buffer, size, NULL, NULL);
    WriteFile(out.handle, buffer, size, &written, NULL);
    free(buffer);
}

static void write_line_end(void)
{
    write_text(L"\r\n", 2);
    out.lines++;
}

/* Writes one line; with /WRAP, pieces of at most width - 1 characters (a full console row
 * would make the console add a blank line of its own), broken after the last space that fits,
 * or inside a word that does not fit at all. */
static void emit_line(const WCHAR *text, size_t len, BOOL terminate)
{
    size_t limit = out.width - 1;

    if (out.newline_pending)
    {
        write_line_end();
        out.newline_pending = FALSE;
    }
    while (out.wrap && len > limit)
    {
        size_t cut = limit, skip;

        while (cut > 0 && text[cut] != ' ') cut--;
        if (cut)
            skip = cut + 1;
        else
            skip = cut = limit;
        write_text(text, cut);
        write_line_end();
        text += skip;
        len -= skip;
    }
    write_text(text, len);
    if (!terminate) return;
    if (out.raw)
        out.newline_pending = TRUE;
    else
        write_line_end();
}

static void append_char(WCHAR c)
{
    if (out.len + 1 >= out.size)
    {
        size_t size = out.size ? out.size * 2 : 256;
        WCHAR *line = realloc(out.line, size * sizeof(WCHAR));

        if (!line) return;
        out.line = line;
        out.size = size;
    }
    out.line[out.len++] = c;
}

void output(const WCHAR *format, ...)
{
    WCHAR stack[512], *text = stack;
    va_list args;
    int len, i;

    va_start(args, format);
    len = _vscwprintf(format, args);
    va_end(args);
    if (len < 0) return;
    if (len >= (int)ARRAYSIZE(stack))
    {
        text = malloc((len + 1) * sizeof(WCHAR));
        if (!text) return;
    }
    va_start(args, format);
    _vsnwprintf(text, len + 1, format, args);
    va_end(args);
    text[len] = 0;

    for (i = 0; i < len; i++)
    {
        if (text[i] == '\r') continue;
        if (text[i] != '\n')
        {
            append_char(text[i]);
            continue;
        }
        emit_line(out.line, out.len, TRUE);
        out.len = 0;
    }
    if (text != stack) free(text);
}

/* Writes an unfinished line as it is; at exit this leaves /RAWRETURN's value unterminated. */
void output_flush(void)
{
    if (!out.len) return;
    emit_line(out.line, out.len, FALSE);
    out.len = 0;
}

/* A block is a group of whole lines that output_block_rewind() erases, so that the next
 * version of it is drawn in the same place (the /TRANSFER progress, /MONITOR). */
void output_block_begin(void)
{
    output_flush();
    out.block_start = out.lines;
}

/* Moves the cursor back to the first line of the block and blanks the block.  The start is
 * counted back from the cursor, as the console may have scrolled since the block was drawn. */
void output_block_rewind(void)
{
    CONSOLE_SCREEN_BUFFER_INFO info;
    unsigned int lines;
    DWORD cells, written;
    COORD start;

    output_flush();
    lines = out.lines - out.block_start;
    out.block_start = out.lines;
    if (!out.console || !GetConsoleScreenBufferInfo(out.handle, &info)) return;
    start.X = 0;
    start.Y = info.dwCursorPosition.Y > (SHORT)lines ? info.dwCursorPosition.Y - lines : 0;
    cells = (DWORD)(info.dwCursorPosition.Y - start.Y) * info.dwSize.X
            + info.dwCursorPosition.X;
    FillConsoleOutputCharacterW(out.handle, ' ', cells, start, &written);
    SetConsoleCursorPosition(out.handle, start);
}
