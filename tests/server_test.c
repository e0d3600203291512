/* Checks the test server of server.h from the same process, with WinHTTP and raw sockets, so
 * that the download and upload tests can trust it: content, HEAD, ranges, statuses, every
 * misbehaviour option, redirects, keep-alive, the request log, robustness against bad clients,
 * and the BITS upload side (packets, sessions, ranges, replies, its options, the packet log).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
#include <winhttp.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "server.h"

#define BODY_MAX (32u << 20)
#define RAW_MAX 65536
#define FIVE_GIB (5ull << 30)

struct http
{
    HINTERNET connect;
    HINTERNET request;
    DWORD status;
    BYTE *body;
    DWORD len;                  /* the body is at most BODY_MAX bytes */
    DWORD capacity;
    BOOL eof;
};

static HINTERNET session;

static void http_close(struct http *http)
{
    if (http->request) WinHttpCloseHandle(http->request);
    if (http->connect) WinHttpCloseHandle(http->connect);
    free(http->body);
    memset(http, 0, sizeof(*http));
}

/* Sends the request and reads the status line and headers; 0 or the failing call's error. */
static DWORD http_send(struct http *http, const WCHAR *method, const char *path,
        const WCHAR *headers, BOOL follow_redirects, DWORD receive_timeout)
{
    DWORD size = sizeof(http->status), option = WINHTTP_DISABLE_REDIRECTS;
    WCHAR object[SERVER_TARGET_MAX];
    size_t i;

    memset(http, 0, sizeof(*http));
    for (i = 0; path[i] && i < ARRAY_SIZE(object) - 1; i++) object[i] = (unsigned char)path[i];
    object[i] = 0;
    http->connect = WinHttpConnect(session, L"127.0.0.1", server_port(), 0);
    if (!http->connect) return GetLastError();
    http->request = WinHttpOpenRequest(http->connect, method, object, NULL, WINHTTP_NO_REFERER,
            WINHTTP_DEFAULT_ACCEPT_TYPES, 0);
    if (!http->request) return GetLastError();
    if (!follow_redirects
            && !WinHttpSetOption(http->request, WINHTTP_OPTION_DISABLE_FEATURE, &option,
                    sizeof(option)))
        return GetLastError();
    if (!WinHttpSetTimeouts(http->request, 10000, 10000, 10000, receive_timeout))
        return GetLastError();
    if (!WinHttpSendRequest(http->request, headers ? headers : WINHTTP_NO_ADDITIONAL_HEADERS,
            headers ? (DWORD)-1 : 0, WINHTTP_NO_REQUEST_DATA, 0, 0, 0))
        return GetLastError();
    if (!WinHttpReceiveResponse(http->request, NULL)) return GetLastError();
    if (!WinHttpQueryHeaders(http->request, WINHTTP_QUERY_STATUS_CODE | WINHTTP_QUERY_FLAG_NUMBER,
            WINHTTP_HEADER_NAME_BY_INDEX, &http->status, &size, WINHTTP_NO_HEADER_INDEX))
        return GetLastError();
    return 0;
}

/* Reads body bytes until the end, or until the body has max bytes; 0 or the error. */
static DWORD http_read(struct http *http, size_t max)
{
    DWORD avail, got;
    size_t want;
    BYTE *body;

    while (http->len < max && !http->eof)
    {
        if (!WinHttpQueryDataAvailable(http->request, &avail)) return GetLastError();
        if (!avail)
        {
            http->eof = TRUE;
            break;
        }
        if (http->len + avail > http->capacity)
        {
            DWORD capacity = http->capacity ? http->capacity : 65536;

            while (capacity < http->len + avail) capacity *= 2;
            if (capacity > BODY_MAX) return ERROR_NOT_ENOUGH_MEMORY;
            body = realloc(http->body, capacity);
            if (!body) return ERROR_NOT_ENOUGH_MEMORY;
            http->body = body;
            http->capacity = capacity;
        }
        want = max - http->len < avail ? max - http->len : avail;
        if (!WinHttpReadData(http->request, http->body + http->len, (DWORD)want, &got))
            return GetLastError();
        if (!got)
        {
            http->eof = TRUE;
            break;
        }
        http->len += got;
    }
    return 0;
}

/* The whole exchange with default settings; 0 or the error. */
static DWORD http_get(struct http *http, const WCHAR *method, const char *path,
        const WCHAR *headers)
{
    DWORD error = http_send(http, method, path, headers, TRUE, 10000);

    return error ? error : http_read(http, BODY_MAX);
}

static BOOL http_header(struct http *http, const WCHAR *name, char *out, size_t len)
{
    WCHAR buffer[1024];
    DWORD size = sizeof(buffer);
    size_t i;

    *out = 0;
    if (!WinHttpQueryHeaders(http->request, WINHTTP_QUERY_CUSTOM, name, buffer, &size,
            WINHTTP_NO_HEADER_INDEX))
        return FALSE;
    for (i = 0; buffer[i] && i < len - 1; i++) out[i] = (char)buffer[i];
    out[i] = 0;
    return TRUE;
}

/* "If-...: <date of the file version + delta seconds>\r\n" */
static void date_header(WCHAR *out, size_t len, const WCHAR *name, const char *file,
        unsigned int version, LONGLONG delta)
{
    WCHAR date[WINHTTP_TIME_FORMAT_BUFSIZE / sizeof(WCHAR)];
    ULARGE_INTEGER value;
    SYSTEMTIME st;
    FILETIME ft;

    server_file_time(file, version, &ft);
    value.LowPart = ft.dwLowDateTime;
    value.HighPart = ft.dwHighDateTime;
    value.QuadPart += delta * 10000000;
    ft.dwLowDateTime = value.LowPart;
    ft.dwHighDateTime = value.HighPart;
    FileTimeToSystemTime(&ft, &st);
    WinHttpTimeFromSystemTime(&st, date);
    _snwprintf(out, len, L"%s: %s\r\n", name, date);
    out[len - 1] = 0;
}

static void test_content(void)
{
    static const UINT64 sizes[] = { 0, 1, 7, 8, 9, 1000, 65535, 65536, 65537, 300001 };
    char path[128], name[32], value[128], etag[64];
    BYTE a[100], b[50];
    struct http http;
    unsigned int i;
    SYSTEMTIME st;
    FILETIME ft, expect;
    DWORD error, size;

    server_fill("content-a", 0, a, sizeof(a));
    server_fill("content-a", 13, b, sizeof(b));
    ok(!memcmp(a + 13, b, sizeof(b)), "server_fill depends on where it starts\n");
    server_fill("content-b", 13, b, sizeof(b));
    ok(memcmp(a + 13, b, sizeof(b)), "two names have the same bytes\n");
    server_fill_version("content-a", 1, 13, b, sizeof(b));
    ok(memcmp(a + 13, b, sizeof(b)), "two versions have the same bytes\n");

    for (i = 0; i < ARRAY_SIZE(sizes); i++)
    {
        winetest_push_context("size %lu", (unsigned long)sizes[i]);
        snprintf(name, sizeof(name), "content-%u", i);
        snprintf(path, sizeof(path), "/file/%s?size=%lu", name, (unsigned long)sizes[i]);
        error = http_get(&http, L"GET", path, NULL);
        ok(!error, "GET failed: %lu\n", error);
        ok(http.status == 200, "got status %lu\n", http.status);
        ok(http.len == sizes[i], "got %lu bytes\n", http.len);
        ok(http.len == sizes[i] && server_compare(name, 0, 0, http.body, http.len),
                "wrong content\n");
        ok(http_header(&http, L"Content-Length", value, sizeof(value))
                && strtoull(value, NULL, 10) == sizes[i], "Content-Length %s\n", value);
        ok(http_header(&http, L"Accept-Ranges", value, sizeof(value))
                && !strcmp(value, "bytes"), "Accept-Ranges %s\n", value);
        server_etag(name, 0, etag, sizeof(etag));
        ok(http_header(&http, L"ETag", value, sizeof(value)) && !strcmp(value, etag),
                "ETag %s, expected %s\n", value, etag);
        size = sizeof(st);
        ok(WinHttpQueryHeaders(http.request, WINHTTP_QUERY_LAST_MODIFIED
                | WINHTTP_QUERY_FLAG_SYSTEMTIME, WINHTTP_HEADER_NAME_BY_INDEX, &st, &size,
                WINHTTP_NO_HEADER_INDEX), "no Last-Modified: %lu\n", GetLastError());
        SystemTimeToFileTime(&st, &ft);
        server_file_time(name, 0, &expect);
        ok(!CompareFileTime(&ft, &expect), "Last-Modified %u-%02u-%02u %02u:%02u:%02u\n",
                st.wYear, st.wMonth, st.wDay, st.wHour, st.wMinute, st.wSecond);
        http_close(&http);
        winetest_pop_context();
    }
}

static void test_head(void)
{
    char value[64], range[64];
    struct http http;
    DWORD error;

    error = http_get(&http, L"HEAD", "/file/head?size=123456", NULL);
    ok(!error, "HEAD failed: %lu\n", error);
    ok(http.status == 200, "got status %lu\n", http.status);
    ok(!http.len, "HEAD gave %lu body bytes\n", http.len);
    ok(http_header(&http, L"Content-Length", value, sizeof(value)) && !strcmp(value, "123456"),
            "Content-Length %s\n", value);
    ok(http_header(&http, L"ETag", value, sizeof(value)), "no ETag\n");
    http_close(&http);

    /* HEAD ignores Range (RFC 9110 14.2) */
    error = http_get(&http, L"HEAD", "/file/head?size=100", L"Range: bytes=0-9\r\n");
    ok(!error && http.status == 200, "HEAD with Range: error %lu, status %lu\n", error,
            http.status);
    http_close(&http);

    /* large files cost nothing */
    error = http_get(&http, L"HEAD", "/file/huge?size=5368709120", NULL);
    ok(!error && http.status == 200, "HEAD 5 GiB: error %lu, status %lu\n", error, http.status);
    ok(http_header(&http, L"Content-Length", value, sizeof(value))
            && !strcmp(value, "5368709120"), "Content-Length %s\n", value);
    http_close(&http);
    error = http_get(&http, L"GET", "/file/huge?size=5368709120",
            L"Range: bytes=5368709000-\r\n");
    ok(!error && http.status == 206, "end of 5 GiB: error %lu, status %lu\n", error,
            http.status);
    ok(http.len == 120 && server_compare("huge", 0, FIVE_GIB - 120, http.body, http.len),
            "got %lu bytes\n", http.len);
    ok(http_header(&http, L"Content-Range", range, sizeof(range))
            && !strcmp(range, "bytes 5368709000-5368709119/5368709120"), "Content-Range %s\n",
            range);
    http_close(&http);
    error = http_get(&http, L"GET", "/file/huge?size=5368709120",
            L"Range: bytes=4294967290-4294967305\r\n");
    ok(!error && http.status == 206, "across 4 GiB: error %lu, status %lu\n", error,
            http.status);
    ok(http.len == 16 && server_compare("huge", 0, 4294967290ull, http.body, http.len),
            "got %lu bytes\n", http.len);
    http_close(&http);
}

static void test_ranges(void)
{
    static const struct
    {
        const WCHAR *range;
        UINT64 first;
        UINT64 last;
        const char *content_range;
    }
    tests[] =
    {
        { L"bytes=10-19", 10, 19, "bytes 10-19/100" },
        { L"bytes=90-", 90, 99, "bytes 90-99/100" },
        { L"bytes=-5", 95, 99, "bytes 95-99/100" },
        { L"bytes=-500", 0, 99, "bytes 0-99/100" },
        { L"bytes=50-1000", 50, 99, "bytes 50-99/100" },
        { L"bytes=0-0", 0, 0, "bytes 0-0/100" },
        { L"bytes=99-99", 99, 99, "bytes 99-99/100" },
        { L"bytes=100-200, 20-29", 20, 29, "bytes 20-29/100" },
    };
    char value[128];
    WCHAR headers[64];
    struct http http;
    unsigned int i;
    DWORD error;

    for (i = 0; i < ARRAY_SIZE(tests); i++)
    {
        winetest_push_context("%s", debugstr_w(tests[i].range));
        _snwprintf(headers, ARRAY_SIZE(headers), L"Range: %s\r\n", tests[i].range);
        error = http_get(&http, L"GET", "/file/range?size=100", headers);
        ok(!error, "GET failed: %lu\n", error);
        ok(http.status == 206, "got status %lu\n", http.status);
        ok(http_header(&http, L"Content-Range", value, sizeof(value))
                && !strcmp(value, tests[i].content_range), "Content-Range %s\n", value);
        ok(http.len == tests[i].last - tests[i].first + 1
                && server_compare("range", 0, tests[i].first, http.body, http.len),
                "got %lu bytes\n", http.len);
        http_close(&http);
        winetest_pop_context();
    }

    error = http_get(&http, L"GET", "/file/range?size=100", L"Range: bytes=100-\r\n");
    ok(!error && http.status == 416, "past the end: error %lu, status %lu\n", error,
            http.status);
    ok(http_header(&http, L"Content-Range", value, sizeof(value))
            && !strcmp(value, "bytes */100"), "Content-Range %s\n", value);
    http_close(&http);
    error = http_get(&http, L"GET", "/file/range?size=0", L"Range: bytes=0-\r\n");
    ok(!error && http.status == 416, "empty file: error %lu, status %lu\n", error, http.status);
    http_close(&http);
    error = http_get(&http, L"GET", "/file/range?size=100", L"Range: bytes=-0\r\n");
    ok(!error && http.status == 416, "bytes=-0: error %lu, status %lu\n", error, http.status);
    http_close(&http);

    /* a malformed Range is ignored */
    error = http_get(&http, L"GET", "/file/range?size=100", L"Range: bytes=5-2\r\n");
    ok(!error && http.status == 200 && http.len == 100, "bytes=5-2: error %lu, status %lu, "
            "%lu bytes\n", error, http.status, http.len);
    http_close(&http);
    error = http_get(&http, L"GET", "/file/range?size=100", L"Range: pages=1-2\r\n");
    ok(!error && http.status == 200 && http.len == 100, "pages=1-2: error %lu, status %lu\n",
            error, http.status);
    http_close(&http);

    error = http_get(&http, L"GET", "/file/range?size=100", L"Range: bytes=0-1,5-6\r\n");
    ok(!error && http.status == 206, "two ranges: error %lu, status %lu\n", error, http.status);
    ok(http_header(&http, L"Content-Type", value, sizeof(value))
            && !strncmp(value, "multipart/byteranges; boundary=", 31), "Content-Type %s\n",
            value);
    ok(http.len && http.len < 512, "got %lu bytes\n", http.len);
    if (http.len && http.len < 512)
    {
        char body[512];

        memcpy(body, http.body, http.len);
        body[http.len] = 0;
        ok(strstr(body, "Content-Range: bytes 0-1/100\r\n")
                && strstr(body, "Content-Range: bytes 5-6/100\r\n"), "body %s\n", body);
    }
    http_close(&http);
}

static void test_status(void)
{
    static const unsigned int statuses[] = { 400, 401, 403, 404, 407, 410, 412, 416, 500, 501,
            503, 505 };
    char path[64], value[64];
    struct http http;
    unsigned int i;
    DWORD error;

    for (i = 0; i < ARRAY_SIZE(statuses); i++)
    {
        winetest_push_context("%u", statuses[i]);
        snprintf(path, sizeof(path), "/file/status-%u?size=1000&status=%u", statuses[i],
                statuses[i]);
        error = http_get(&http, L"GET", path, NULL);
        ok(!error, "GET failed: %lu\n", error);
        ok(http.status == statuses[i], "got status %lu\n", http.status);
        ok(http_header(&http, L"Content-Type", value, sizeof(value))
                && !strcmp(value, "text/html"), "Content-Type %s\n", value);
        ok(http.len > 6 && !memcmp(http.body, "<html>", 6), "body of %lu bytes\n", http.len);
        http_close(&http);
        error = http_get(&http, L"HEAD", path, NULL);
        ok(!error && http.status == statuses[i], "HEAD: error %lu, status %lu\n", error,
                http.status);
        http_close(&http);
        winetest_pop_context();
    }

    error = http_get(&http, L"GET", "/file/status-416?size=1000&status=416", NULL);
    ok(http_header(&http, L"Content-Range", value, sizeof(value))
            && !strcmp(value, "bytes */1000"), "Content-Range %s\n", value);
    http_close(&http);

    /* times=1: a transient failure, then the file */
    error = http_get(&http, L"GET", "/file/status-once?size=1000&status=503&times=1", NULL);
    ok(!error && http.status == 503, "first: error %lu, status %lu\n", error, http.status);
    http_close(&http);
    error = http_get(&http, L"GET", "/file/status-once?size=1000&status=503&times=1", NULL);
    ok(!error && http.status == 200, "second: error %lu, status %lu\n", error, http.status);
    ok(http.len == 1000 && server_compare("status-once", 0, 0, http.body, http.len),
            "got %lu bytes\n", http.len);
    http_close(&http);

    /* a server without HEAD */
    error = http_get(&http, L"HEAD", "/file/nohead?size=10&headstatus=405", NULL);
    ok(!error && http.status == 405, "HEAD: error %lu, status %lu\n", error, http.status);
    http_close(&http);
    error = http_get(&http, L"GET", "/file/nohead?size=10&headstatus=405", NULL);
    ok(!error && http.status == 200 && http.len == 10, "GET: error %lu, status %lu\n", error,
            http.status);
    http_close(&http);

    error = http_get(&http, L"GET", "/nothing/here", NULL);
    ok(!error && http.status == 404, "unknown path: error %lu, status %lu\n", error, http.status);
    http_close(&http);
    error = http_get(&http, L"GET", "/file/", NULL);
    ok(!error && http.status == 404, "no name: error %lu, status %lu\n", error, http.status);
    http_close(&http);
    error = http_get(&http, L"GET", "/file/typo?size=10&nolenght", NULL);
    ok(!error && http.status == 400, "unknown option: error %lu, status %lu\n", error,
            http.status);
    http_close(&http);
    error = http_get(&http, L"GET", "/file/typo?size=ten", NULL);
    ok(!error && http.status == 400, "bad number: error %lu, status %lu\n", error, http.status);
    http_close(&http);
    error = http_get(&http, L"DELETE", "/file/method?size=10", NULL);
    ok(!error && http.status == 405, "DELETE: error %lu, status %lu\n", error, http.status);
    ok(http_header(&http, L"Allow", value, sizeof(value)) && !strcmp(value, "GET, HEAD"),
            "Allow %s\n", value);
    http_close(&http);
}

static void test_norange(void)
{
    char value[64];
    struct http http;
    DWORD error;

    error = http_get(&http, L"GET", "/file/norange?size=1000&norange", L"Range: bytes=10-\r\n");
    ok(!error && http.status == 200, "error %lu, status %lu\n", error, http.status);
    ok(http.len == 1000 && server_compare("norange", 0, 0, http.body, http.len),
            "got %lu bytes\n", http.len);
    ok(!http_header(&http, L"Content-Range", value, sizeof(value)), "Content-Range %s\n",
            value);
    ok(http_header(&http, L"Accept-Ranges", value, sizeof(value)) && !strcmp(value, "none"),
            "Accept-Ranges %s\n", value);
    http_close(&http);
}

/* One part of a multipart/byteranges body. */
struct byte_part
{
    UINT64 first, last, total;
    const BYTE *data;           /* last - first + 1 bytes inside the body */
};

static const BYTE *find_bytes(const BYTE *data, size_t len, const char *what)
{
    size_t n = strlen(what), i;

    for (i = 0; n <= len && i <= len - n; i++)
        if (!memcmp(data + i, what, n)) return data + i;
    return NULL;
}

/* Splits a multipart/byteranges body (RFC 9110 14.6) whose Content-Type is TYPE into at most
 * MAX parts; returns how many, or -1 when the body is not well formed. */
static int split_byteranges(const BYTE *body, size_t len, const char *type,
        struct byte_part *parts, int max)
{
    const BYTE *end = body + len, *p, *headers, *data;
    char delimiter[128], head[512];
    unsigned long long first, last, total;
    const char *boundary;
    int count = 0;

    if (strncmp(type, "multipart/byteranges; boundary=", 31)) return -1;
    boundary = type + 31;
    snprintf(delimiter, sizeof(delimiter), "--%s", boundary);
    p = find_bytes(body, len, delimiter);
    for (;;)
    {
        if (!p || end - p < (ptrdiff_t)strlen(delimiter) + 2) return -1;
        p += strlen(delimiter);
        if (!memcmp(p, "--", 2)) return count;
        if (memcmp(p, "\r\n", 2) || count == max) return -1;
        headers = p + 2;
        data = find_bytes(headers, end - headers, "\r\n\r\n");
        if (!data || data - headers >= (ptrdiff_t)sizeof(head)) return -1;
        memcpy(head, headers, data - headers);
        head[data - headers] = 0;
        data += 4;
        p = (const BYTE *)strstr(head, "Content-Range: bytes ");
        if (!p || sscanf((const char *)p + 21, "%llu-%llu/%llu", &first, &last, &total) != 3
                || last < first || (UINT64)(end - data) < last - first + 1)
            return -1;
        parts[count].first = first;
        parts[count].last = last;
        parts[count].total = total;
        parts[count++].data = data;
        p = data + (last - first + 1);
        if (end - p < 2 || memcmp(p, "\r\n", 2)) return -1;
        p += 2;
        if ((size_t)(end - p) < strlen(delimiter) || memcmp(p, delimiter, strlen(delimiter)))
            return -1;
    }
}

/* GET of PATH with RANGE; checks a 206 whose parts are EXPECTED ({first, last} pairs) of the
 * file NAME of SIZE bytes, in that order: one part without multipart, several with it. */
static void check_byteranges_at(const char *path, const WCHAR *range, const char *name,
        UINT64 size, const UINT64 (*expected)[2], int count, int line)
{
    struct byte_part parts[16];
    char type[128], value[128], want[64];
    WCHAR headers[128];
    struct http http;
    DWORD error;
    int i, got;

    _snwprintf(headers, ARRAY_SIZE(headers), L"Range: %s\r\n", range);
    headers[ARRAY_SIZE(headers) - 1] = 0;
    error = http_get(&http, L"GET", path, headers);
    ok_(__FILE__, line)(!error && http.status == 206, "%s: error %lu, status %lu\n",
            debugstr_w(range), error, http.status);
    http_header(&http, L"Content-Type", type, sizeof(type));
    if (count == 1)
    {
        snprintf(want, sizeof(want), "bytes %llu-%llu/%llu", (unsigned long long)expected[0][0],
                (unsigned long long)expected[0][1], (unsigned long long)size);
        ok_(__FILE__, line)(http_header(&http, L"Content-Range", value, sizeof(value))
                && !strcmp(value, want), "%s: Content-Range %s, Content-Type %s\n",
                debugstr_w(range), value, type);
        ok_(__FILE__, line)(http.len == expected[0][1] - expected[0][0] + 1
                && server_compare(name, 0, expected[0][0], http.body, http.len),
                "%s: %lu bytes\n", debugstr_w(range), http.len);
        http_close(&http);
        return;
    }
    got = split_byteranges(http.body, http.len, type, parts, ARRAY_SIZE(parts));
    ok_(__FILE__, line)(got == count, "%s: %d parts, expected %d; Content-Type %s\n",
            debugstr_w(range), got, count, type);
    for (i = 0; i < got && i < count; i++)
    {
        ok_(__FILE__, line)(parts[i].first == expected[i][0] && parts[i].last == expected[i][1]
                && parts[i].total == size, "%s: part %d is %s-%s/%s\n", debugstr_w(range), i,
                wine_dbgstr_longlong(parts[i].first), wine_dbgstr_longlong(parts[i].last),
                wine_dbgstr_longlong(parts[i].total));
        ok_(__FILE__, line)(server_compare(name, 0, parts[i].first, parts[i].data,
                (size_t)(parts[i].last - parts[i].first + 1)), "%s: part %d differs\n",
                debugstr_w(range), i);
    }
    http_close(&http);
}
#define check_byteranges(path, range, name, size, expected, count) \
    check_byteranges_at(path, range, name, size, expected, count, __LINE__)

/* Several ranges come back as multipart/byteranges in the order asked for, each part with the
 * file's bytes; "coalesce" sorts them and merges those that overlap or touch. */
static void test_multipart(void)
{
    static const UINT64 asked[][2] = { { 4000, 4099 }, { 10, 19 }, { 2000, 2499 }, { 4999, 4999 } };
    static const UINT64 sorted[][2] = { { 0, 19 }, { 30, 39 } };
    static const UINT64 merged[][2] = { { 0, 14 } };
    static const UINT64 apart[][2] = { { 50, 59 }, { 70, 79 } };
    static const UINT64 single[][2] = { { 5, 9 } };

    check_byteranges("/file/multi?size=5000", L"bytes=4000-4099,10-19,2000-2499,4999-",
            "multi", 5000, asked, ARRAY_SIZE(asked));
    check_byteranges("/file/coalesce?size=100&coalesce", L"bytes=30-39,10-19,0-9", "coalesce",
            100, sorted, ARRAY_SIZE(sorted));
    check_byteranges("/file/coalesce?size=100&coalesce", L"bytes=0-9,5-14", "coalesce", 100,
            merged, ARRAY_SIZE(merged));
    check_byteranges("/file/coalesce?size=100&coalesce", L"bytes=70-79,50-59", "coalesce", 100,
            apart, ARRAY_SIZE(apart));
    check_byteranges("/file/coalesce?size=100&coalesce", L"bytes=5-9", "coalesce", 100, single,
            ARRAY_SIZE(single));
}

static void test_lengths(void)
{
    char value[64];
    struct http http;
    DWORD error;

    error = http_get(&http, L"GET", "/file/nolength?size=70000&nolength", NULL);
    ok(!error && http.status == 200, "nolength: error %lu, status %lu\n", error, http.status);
    ok(!http_header(&http, L"Content-Length", value, sizeof(value)), "Content-Length %s\n",
            value);
    ok(http.len == 70000 && server_compare("nolength", 0, 0, http.body, http.len),
            "got %lu bytes\n", http.len);
    http_close(&http);
    error = http_get(&http, L"HEAD", "/file/nolength?size=70000&nolength", NULL);
    ok(!error && http.status == 200, "HEAD: error %lu, status %lu\n", error, http.status);
    ok(!http_header(&http, L"Content-Length", value, sizeof(value)), "Content-Length %s\n",
            value);
    http_close(&http);

    error = http_get(&http, L"GET", "/file/chunked?size=150000&chunked", NULL);
    ok(!error && http.status == 200, "chunked: error %lu, status %lu\n", error, http.status);
    ok(http_header(&http, L"Transfer-Encoding", value, sizeof(value))
            && !strcmp(value, "chunked"), "Transfer-Encoding %s\n", value);
    ok(http.len == 150000 && server_compare("chunked", 0, 0, http.body, http.len),
            "got %lu bytes\n", http.len);
    http_close(&http);

    /* badlength: the body is shorter than announced */
    error = http_send(&http, L"GET", "/file/badlength?size=2000&badlength", NULL, TRUE, 10000);
    ok(!error && http.status == 200, "badlength: error %lu, status %lu\n", error, http.status);
    ok(http_header(&http, L"Content-Length", value, sizeof(value)) && !strcmp(value, "3000"),
            "Content-Length %s\n", value);
    http_read(&http, BODY_MAX);
    ok(http.len == 2000 && server_compare("badlength", 0, 0, http.body, http.len),
            "got %lu bytes\n", http.len);
    http_close(&http);
}

static void test_badrange(void)
{
    char value[64];
    struct http http;
    DWORD error;

    error = http_get(&http, L"GET", "/file/badrange?size=1000&badrange",
            L"Range: bytes=100-199\r\n");
    ok(!error && http.status == 206, "error %lu, status %lu\n", error, http.status);
    ok(http_header(&http, L"Content-Range", value, sizeof(value))
            && !strcmp(value, "bytes 101-200/1000"), "Content-Range %s\n", value);
    ok(http.len == 100 && server_compare("badrange", 0, 100, http.body, http.len),
            "got %lu bytes\n", http.len);
    http_close(&http);

    error = http_get(&http, L"GET", "/file/badrange?size=1000&badrange", NULL);
    ok(!error && http.status == 206, "no Range: error %lu, status %lu\n", error, http.status);
    ok(http_header(&http, L"Content-Range", value, sizeof(value))
            && !strcmp(value, "bytes 1-1000/1000"), "Content-Range %s\n", value);
    http_close(&http);

    error = http_get(&http, L"GET", "/file/badtotal?size=1000&badtotal", L"Range: bytes=0-9\r\n");
    ok(!error && http.status == 206, "badtotal: error %lu, status %lu\n", error, http.status);
    ok(http_header(&http, L"Content-Range", value, sizeof(value))
            && !strcmp(value, "bytes 0-9/1001"), "Content-Range %s\n", value);
    http_close(&http);
}

static void test_drop(void)
{
    struct server_request request;
    char range[64];
    struct http http;
    DWORD error;
    unsigned int i;

    server_log_clear();
    error = http_send(&http, L"GET", "/file/drop?size=10000&drop=3000", NULL, TRUE, 10000);
    ok(!error && http.status == 200, "first: error %lu, status %lu\n", error, http.status);
    error = http_read(&http, BODY_MAX);
    ok(http.len == 3000 && server_compare("drop", 0, 0, http.body, http.len),
            "first: got %lu bytes, error %lu\n", http.len, error);
    http_close(&http);

    /* resuming works: drop happens once */
    error = http_get(&http, L"GET", "/file/drop?size=10000&drop=3000", L"Range: bytes=3000-\r\n");
    ok(!error && http.status == 206, "resume: error %lu, status %lu\n", error, http.status);
    ok(http.len == 7000 && server_compare("drop", 0, 3000, http.body, http.len),
            "resume: got %lu bytes\n", http.len);
    http_close(&http);
    error = http_get(&http, L"GET", "/file/drop?size=10000&drop=3000", NULL);
    ok(!error && http.status == 200 && http.len == 10000, "again: error %lu, %lu bytes\n",
            error, http.len);
    http_close(&http);

    ok(server_log_wait("/file/drop", 3, 5000), "requests not finished\n");
    ok(server_log_count("/file/drop") == 3, "logged %u\n", server_log_count("/file/drop"));
    ok(server_log_get("/file/drop", 0, &request), "no first request\n");
    ok(request.finished && request.body_bytes == 3000 && request.status == 200,
            "first: finished %d, %s bytes, status %u\n", request.finished,
            wine_dbgstr_longlong(request.body_bytes), request.status);
    ok(server_log_range("/file/drop", 1, range, sizeof(range)) && !strcmp(range, "bytes=3000-"),
            "second Range %s\n", range);

    /* times=0: every GET is cut, HEAD is not */
    for (i = 0; i < 2; i++)
    {
        error = http_send(&http, L"GET", "/file/dropall?size=5000&drop=100&times=0", NULL,
                TRUE, 10000);
        ok(!error && http.status == 200, "%u: error %lu, status %lu\n", i, error, http.status);
        http_read(&http, BODY_MAX);
        ok(http.len == 100, "%u: got %lu bytes\n", i, http.len);
        http_close(&http);
    }
    error = http_get(&http, L"HEAD", "/file/dropall?size=5000&drop=100&times=0", NULL);
    ok(!error && http.status == 200, "HEAD: error %lu, status %lu\n", error, http.status);
    http_close(&http);

    /* a range starting after the drop offset is cut right after the headers */
    error = http_send(&http, L"GET", "/file/droplate?size=5000&drop=100", L"Range: bytes=200-\r\n",
            TRUE, 10000);
    ok(!error && http.status == 206, "late: error %lu, status %lu\n", error, http.status);
    http_read(&http, BODY_MAX);
    ok(!http.len, "late: got %lu bytes\n", http.len);
    http_close(&http);
    server_reset("drop");
    error = http_send(&http, L"GET", "/file/drop?size=10000&drop=3000", NULL, TRUE, 10000);
    http_read(&http, BODY_MAX);
    ok(!error && http.len == 3000, "after reset: error %lu, got %lu bytes\n", error, http.len);
    http_close(&http);
}

static void test_stall(void)
{
    struct http http;
    DWORD error;

    ok(!server_wait_stalled("stall-never", 0), "a name that never stalled\n");

    /* nothing comes after the stall offset */
    error = http_send(&http, L"GET", "/file/stall?size=6000&stall=2000", NULL, TRUE, 2000);
    ok(!error && http.status == 200, "error %lu, status %lu\n", error, http.status);
    error = http_read(&http, 2000);
    ok(!error && http.len == 2000, "error %lu, got %lu bytes\n", error, http.len);
    ok(server_wait_stalled("stall", 5000), "not stalled\n");
    error = http_read(&http, BODY_MAX);
    /* ERROR_WINHTTP_TIMEOUT on Windows; Wine's WinHTTP 8.0 says WSAETIMEDOUT */
    ok(error != 0, "reading past the stall offset succeeded\n");
    ok(http.len == 2000, "got %lu bytes\n", http.len);
    http_close(&http);
    /* the stalled response ends when its client goes away */
    ok(server_log_wait("/file/stall", 1, 10000), "stalled response did not end\n");

    /* server_release() lets it go on */
    error = http_send(&http, L"GET", "/file/stall-release?size=6000&stall=2000", NULL, TRUE, 10000);
    ok(!error && http.status == 200, "error %lu, status %lu\n", error, http.status);
    error = http_read(&http, 2000);
    ok(!error && http.len == 2000, "error %lu, got %lu bytes\n", error, http.len);
    ok(server_wait_stalled("stall-release", 5000), "not stalled\n");
    server_release("stall-release");
    error = http_read(&http, BODY_MAX);
    ok(!error && http.len == 6000 && server_compare("stall-release", 0, 0, http.body, http.len),
            "error %lu, got %lu bytes\n", error, http.len);
    http_close(&http);
    /* released names do not stall again */
    error = http_get(&http, L"GET", "/file/stall-release?size=6000&stall=2000", NULL);
    ok(!error && http.len == 6000, "error %lu, got %lu bytes\n", error, http.len);
    http_close(&http);

    /* slow: correct content, however long it takes */
    error = http_get(&http, L"GET", "/file/slow?size=6000&slow=30000", NULL);
    ok(!error && http.status == 200, "slow: error %lu, status %lu\n", error, http.status);
    ok(http.len == 6000 && server_compare("slow", 0, 0, http.body, http.len),
            "slow: got %lu bytes\n", http.len);
    http_close(&http);

    error = http_get(&http, L"GET", "/file/delay?size=10&delay=100", NULL);
    ok(!error && http.status == 200 && http.len == 10, "delay: error %lu, %lu bytes\n", error,
            http.len);
    http_close(&http);
}

static void test_redirect(void)
{
    static const unsigned int codes[] = { 301, 302, 303, 307, 308 };
    char path[128], value[256], expect[256];
    WCHAR url[256];
    struct http http;
    unsigned int i;
    DWORD error;

    server_log_clear();
    error = http_get(&http, L"GET", "/redirect/302/file/redir?size=500", NULL);
    ok(!error && http.status == 200, "followed: error %lu, status %lu\n", error, http.status);
    ok(http.len == 500 && server_compare("redir", 0, 0, http.body, http.len),
            "got %lu bytes\n", http.len);
    http_close(&http);
    ok(server_log_count("/redirect/302/file/redir") == 1, "redirect requests: %u\n",
            server_log_count("/redirect/302/file/redir"));
    ok(server_log_count("/file/redir") == 1, "target requests: %u\n",
            server_log_count("/file/redir"));

    error = http_get(&http, L"GET", "/redirect/301/redirect/307/file/redir?size=500", NULL);
    ok(!error && http.status == 200 && http.len == 500, "chain: error %lu, status %lu\n", error,
            http.status);
    http_close(&http);

    server_url("/file/redir?size=500", url, ARRAY_SIZE(url));
    for (i = 0; url[i]; i++) expect[i] = (char)url[i];
    expect[i] = 0;
    for (i = 0; i < ARRAY_SIZE(codes); i++)
    {
        winetest_push_context("%u", codes[i]);
        snprintf(path, sizeof(path), "/redirect/%u/file/redir?size=500", codes[i]);
        error = http_send(&http, L"GET", path, NULL, FALSE, 10000);
        ok(!error && http.status == codes[i], "error %lu, status %lu\n", error, http.status);
        ok(http_header(&http, L"Location", value, sizeof(value)) && !strcmp(value, expect),
                "Location %s\n", value);
        http_close(&http);
        winetest_pop_context();
    }
    error = http_get(&http, L"GET", "/redirect/309/file/redir?size=500", NULL);
    ok(!error && http.status == 400, "bad code: error %lu, status %lu\n", error, http.status);
    http_close(&http);
}

static void test_conditions(void)
{
    static const char name[] = "cond";
    static const char path[] = "/file/cond?size=1000";
    WCHAR headers[256], range[] = L"Range: bytes=10-19\r\n";
    char etag[64];
    struct http http;
    DWORD error;

    server_etag(name, 0, etag, sizeof(etag));

    date_header(headers, ARRAY_SIZE(headers), L"If-Unmodified-Since", name, 0, -1);
    error = http_get(&http, L"GET", path, headers);
    ok(!error && http.status == 412, "older If-Unmodified-Since: error %lu, status %lu\n", error,
            http.status);
    http_close(&http);
    date_header(headers, ARRAY_SIZE(headers), L"If-Unmodified-Since", name, 0, 0);
    error = http_get(&http, L"GET", path, headers);
    ok(!error && http.status == 200, "same If-Unmodified-Since: error %lu, status %lu\n", error,
            http.status);
    http_close(&http);

    error = http_get(&http, L"GET", path, L"If-Match: \"other\"\r\n");
    ok(!error && http.status == 412, "If-Match other: error %lu, status %lu\n", error,
            http.status);
    http_close(&http);
    _snwprintf(headers, ARRAY_SIZE(headers), L"If-Match: %S\r\n", etag);
    error = http_get(&http, L"GET", path, headers);
    ok(!error && http.status == 200, "If-Match: error %lu, status %lu\n", error, http.status);
    http_close(&http);

    _snwprintf(headers, ARRAY_SIZE(headers), L"%sIf-Range: %S\r\n", range, etag);
    error = http_get(&http, L"GET", path, headers);
    ok(!error && http.status == 206 && http.len == 10, "If-Range: error %lu, status %lu\n",
            error, http.status);
    http_close(&http);
    _snwprintf(headers, ARRAY_SIZE(headers), L"%sIf-Range: \"other\"\r\n", range);
    error = http_get(&http, L"GET", path, headers);
    ok(!error && http.status == 200 && http.len == 1000, "If-Range other: error %lu, status "
            "%lu\n", error, http.status);
    http_close(&http);
    wcscpy(headers, range);
    date_header(headers + wcslen(headers), ARRAY_SIZE(headers) - wcslen(headers), L"If-Range",
            name, 0, 0);
    error = http_get(&http, L"GET", path, headers);
    ok(!error && http.status == 206, "If-Range date: error %lu, status %lu\n", error,
            http.status);
    http_close(&http);

    _snwprintf(headers, ARRAY_SIZE(headers), L"If-None-Match: %S\r\n", etag);
    error = http_get(&http, L"GET", path, headers);
    ok(!error && http.status == 304 && !http.len, "If-None-Match: error %lu, status %lu\n",
            error, http.status);
    http_close(&http);
    date_header(headers, ARRAY_SIZE(headers), L"If-Modified-Since", name, 0, 0);
    error = http_get(&http, L"GET", path, headers);
    ok(!error && http.status == 304, "If-Modified-Since: error %lu, status %lu\n", error,
            http.status);
    http_close(&http);

    error = http_get(&http, L"GET", "/file/cond?size=1000&novalidators", headers);
    ok(!error && http.status == 200, "novalidators: error %lu, status %lu\n", error,
            http.status);
    ok(!http_header(&http, L"ETag", etag, sizeof(etag)), "ETag %s\n", etag);
    ok(!http_header(&http, L"Last-Modified", etag, sizeof(etag)), "Last-Modified %s\n", etag);
    http_close(&http);
}

static void test_changing(void)
{
    char etag0[64], etag1[64], value[64];
    struct server_request request;
    struct http http;
    DWORD error;

    error = http_get(&http, L"GET", "/file/change?size=1000", NULL);
    ok(!error && http.status == 200, "error %lu, status %lu\n", error, http.status);
    http_header(&http, L"ETag", etag0, sizeof(etag0));
    http_close(&http);

    ok(server_bump("change") == 1, "bump did not give version 1\n");
    ok(server_version("change") == 1, "version %u\n", server_version("change"));
    error = http_get(&http, L"GET", "/file/change?size=1000", NULL);
    ok(!error && http.status == 200, "error %lu, status %lu\n", error, http.status);
    http_header(&http, L"ETag", etag1, sizeof(etag1));
    ok(strcmp(etag0, etag1), "ETag did not change: %s\n", etag1);
    server_etag("change", 1, value, sizeof(value));
    ok(!strcmp(etag1, value), "ETag %s, expected %s\n", etag1, value);
    ok(http.len == 1000 && server_compare("change", 1, 0, http.body, http.len),
            "not version 1\n");
    http_close(&http);
    server_reset("change");
    ok(!server_version("change"), "version %u after reset\n", server_version("change"));

    /* changing: a new version after every GET, not after HEAD */
    server_log_clear();
    error = http_get(&http, L"HEAD", "/file/autochange?size=500&changing", NULL);
    http_close(&http);
    error = http_get(&http, L"GET", "/file/autochange?size=500&changing", NULL);
    ok(!error && http.len == 500 && server_compare("autochange", 0, 0, http.body, http.len),
            "first GET not version 0\n");
    http_close(&http);
    error = http_get(&http, L"GET", "/file/autochange?size=500&changing", NULL);
    ok(!error && http.len == 500 && server_compare("autochange", 1, 0, http.body, http.len),
            "second GET not version 1\n");
    http_close(&http);
    memset(&request, 0, sizeof(request));
    ok(server_log_get("/file/autochange", 2, &request), "no third request\n");
    ok(request.version == 1, "logged version %u\n", request.version);
    ok(server_version("autochange") == 2, "version %u\n", server_version("autochange"));
}

static void test_log(void)
{
    struct server_request request;
    WCHAR headers[512];
    char value[128];
    struct http http;
    DWORD error;

    server_log_clear();
    ok(!server_log_count(NULL), "log not empty\n");
    date_header(headers, ARRAY_SIZE(headers), L"If-Unmodified-Since", "log", 0, 0);
    wcscat(headers, L"X-Test-Header: hello there\r\nRange: bytes=0-9\r\nIf-Range: \"abc\"\r\n");
    error = http_get(&http, L"GET", "/file/log?size=100", headers);
    ok(!error && http.status == 200, "error %lu, status %lu\n", error, http.status);
    http_close(&http);
    error = http_get(&http, L"HEAD", "/file/log?size=100&nolength", NULL);
    ok(!error && http.status == 200, "error %lu, status %lu\n", error, http.status);
    http_close(&http);

    ok(server_log_wait("/file/log", 2, 5000), "requests not finished\n");
    ok(server_log_count(NULL) == 2, "logged %u\n", server_log_count(NULL));
    ok(server_log_count("/file/log") == 2, "logged %u\n", server_log_count("/file/log"));
    ok(server_log_count("/file/log?size=100") == 1, "logged %u\n",
            server_log_count("/file/log?size=100"));
    ok(!server_log_count("/file/lo"), "prefix matched\n");

    ok(server_log_get("/file/log", 0, &request), "no entry\n");
    ok(!strcmp(request.method, "GET"), "method %s\n", request.method);
    ok(!strcmp(request.target, "/file/log?size=100"), "target %s\n", request.target);
    ok(!strcmp(request.range, "bytes=0-9"), "range %s\n", request.range);
    ok(!strcmp(request.if_range, "\"abc\""), "If-Range %s\n", request.if_range);
    ok(!strncmp(request.if_unmodified_since + 3, ", ", 2)
            && strstr(request.if_unmodified_since, " GMT"), "If-Unmodified-Since %s\n",
            request.if_unmodified_since);
    ok(!request.if_match[0], "If-Match %s\n", request.if_match);
    ok(request.status == 200, "status %u\n", request.status);
    ok(request.finished && request.body_bytes == 100, "finished %d, %s bytes\n",
            request.finished, wine_dbgstr_longlong(request.body_bytes));
    ok(request.time != 0 && request.connection != 0, "time %s, connection %u\n",
            wine_dbgstr_longlong(request.time), request.connection);
    ok(server_log_header("/file/log", 0, "x-test-header", value, sizeof(value))
            && !strcmp(value, "hello there"), "X-Test-Header %s\n", value);
    ok(server_log_range("/file/log", 0, value, sizeof(value)) && !strcmp(value, "bytes=0-9"),
            "Range %s\n", value);
    ok(!server_log_range("/file/log", 1, value, sizeof(value)) && !value[0],
            "HEAD Range %s\n", value);
    ok(!server_log_header("/file/log", 0, "X-Missing", value, sizeof(value)),
            "X-Missing %s\n", value);
    ok(server_log_get(NULL, 1, &request) && !strcmp(request.method, "HEAD"),
            "second method %s\n", request.method);
    ok(!server_log_get(NULL, 2, &request), "a third entry\n");

    server_log_clear();
    ok(!server_log_count(NULL), "%u entries after clear\n", server_log_count(NULL));
    ok(!server_log_wait("/file/log", 1, 0), "wait found an entry\n");
}

static void test_auth(void)
{
    char value[128];
    struct http http;
    DWORD error;

    error = http_get(&http, L"GET", "/file/auth?size=10&auth=user:pw", NULL);
    ok(!error && http.status == 401, "no credentials: error %lu, status %lu\n", error,
            http.status);
    ok(http_header(&http, L"WWW-Authenticate", value, sizeof(value))
            && !strncmp(value, "Basic ", 6), "WWW-Authenticate %s\n", value);
    http_close(&http);
    /* base64("user:pw") */
    error = http_get(&http, L"GET", "/file/auth?size=10&auth=user:pw",
            L"Authorization: Basic dXNlcjpwdw==\r\n");
    ok(!error && http.status == 200 && http.len == 10, "credentials: error %lu, status %lu\n",
            error, http.status);
    http_close(&http);
    error = http_get(&http, L"GET", "/file/auth?size=10&auth=user:pw",
            L"Authorization: Basic dXNlcjpweA==\r\n");
    ok(!error && http.status == 401, "wrong password: error %lu, status %lu\n", error,
            http.status);
    http_close(&http);
}

static void test_verify_file(void)
{
    WCHAR dir[MAX_PATH], path[MAX_PATH];
    struct http http;
    HANDLE file;
    DWORD error, written;

    error = http_get(&http, L"GET", "/file/verify?size=200000", NULL);
    ok(!error && http.len == 200000, "error %lu, got %lu bytes\n", error, http.len);
    GetTempPathW(ARRAY_SIZE(dir), dir);
    GetTempFileNameW(dir, L"srv", 0, path);
    file = CreateFileW(path, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, 0, NULL);
    ok(file != INVALID_HANDLE_VALUE, "cannot create %s: %lu\n", debugstr_w(path),
            GetLastError());
    if (file == INVALID_HANDLE_VALUE)
    {
        http_close(&http);
        return;
    }
    WriteFile(file, http.body, (DWORD)http.len, &written, NULL);
    CloseHandle(file);

    ok(server_verify_file(path, "verify", 200000), "the download does not verify\n");
    ok(!server_verify_file(path, "verify", 200001), "a wrong size verifies\n");
    ok(!server_verify_file(path, "other", 200000), "another name verifies\n");
    ok(!server_verify_file_version(path, "verify", 1, 200000), "another version verifies\n");

    http.body[123456] ^= 1;
    file = CreateFileW(path, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, 0, NULL);
    WriteFile(file, http.body, (DWORD)http.len, &written, NULL);
    CloseHandle(file);
    ok(!server_verify_file(path, "verify", 200000), "a changed byte verifies\n");
    DeleteFileW(path);
    ok(!server_verify_file(path, "verify", 200000), "a missing file verifies\n");
    http_close(&http);
}

/* Raw sockets: keep-alive, pipelining and clients that misbehave. */

struct raw
{
    SOCKET socket;
    char data[RAW_MAX];
    int len;
};

static BOOL raw_connect(struct raw *raw)
{
    struct sockaddr_in addr;
    DWORD timeout = 10000;

    raw->len = 0;
    raw->socket = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    if (raw->socket == INVALID_SOCKET) return FALSE;
    setsockopt(raw->socket, SOL_SOCKET, SO_RCVTIMEO, (const char *)&timeout, sizeof(timeout));
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(server_port());
    if (!connect(raw->socket, (struct sockaddr *)&addr, sizeof(addr))) return TRUE;
    closesocket(raw->socket);
    raw->socket = INVALID_SOCKET;
    return FALSE;
}

static BOOL raw_send(struct raw *raw, const char *text, int len)
{
    return send(raw->socket, text, len < 0 ? (int)strlen(text) : len, 0) > 0;
}

/* Reads more; FALSE at the end of the stream, on error or when the buffer is full. */
static BOOL raw_fill(struct raw *raw)
{
    int ret;

    if (raw->len == RAW_MAX) return FALSE;
    ret = recv(raw->socket, raw->data + raw->len, RAW_MAX - raw->len, 0);
    if (ret <= 0) return FALSE;
    raw->len += ret;
    return TRUE;
}

/* Takes one response from the stream and returns its status, 0 if none came; out receives
 * its head.  Bodies are delimited by Content-Length only (or absent for HEAD). */
static unsigned int raw_response(struct raw *raw, BOOL head, char *out, size_t len)
{
    char *end, *length;
    int head_len, body = 0;
    unsigned int status;

    *out = 0;
    for (;;)
    {
        end = raw->len ? strstr(raw->data, "\r\n\r\n") : NULL;
        if (end && end < raw->data + raw->len) break;
        if (!raw_fill(raw)) return 0;
        raw->data[raw->len < RAW_MAX ? raw->len : RAW_MAX - 1] = 0;
    }
    head_len = (int)(end + 4 - raw->data);
    if ((size_t)head_len >= len) return 0;
    memcpy(out, raw->data, head_len);
    out[head_len] = 0;
    if (sscanf(out, "HTTP/1.1 %u", &status) != 1) return 0;
    length = strstr(out, "Content-Length: ");
    if (length && !head) body = atoi(length + 16);
    while (raw->len < head_len + body)
        if (!raw_fill(raw)) return 0;
    memmove(raw->data, raw->data + head_len + body, raw->len - head_len - body);
    raw->len -= head_len + body;
    raw->data[raw->len] = 0;
    return status;
}

/* TRUE when the server closes the connection (after what it still sends). */
static BOOL raw_closed(struct raw *raw)
{
    char buffer[4096];
    int ret;

    while ((ret = recv(raw->socket, buffer, sizeof(buffer), 0)) > 0) ;
    return ret == 0;
}

static void raw_close(struct raw *raw)
{
    if (raw->socket != INVALID_SOCKET) closesocket(raw->socket);
    raw->socket = INVALID_SOCKET;
}

static void test_keep_alive(void)
{
    static const char pipelined[] =
            "GET /file/keep?size=10 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
            "HEAD /file/keep?size=10 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
            "GET /file/keep?size=20 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    struct server_request first, third;
    unsigned int status;
    struct raw raw;
    char head[2048];

    server_log_clear();
    if (!raw_connect(&raw))
    {
        ok(0, "cannot connect: %d\n", WSAGetLastError());
        return;
    }
    ok(raw_send(&raw, pipelined, -1), "send failed\n");
    status = raw_response(&raw, FALSE, head, sizeof(head));
    ok(status == 200, "first: status %u\n", status);
    ok(strstr(head, "Connection: keep-alive\r\n") != NULL, "first: %s\n", head);
    status = raw_response(&raw, TRUE, head, sizeof(head));
    ok(status == 200, "second: status %u\n", status);
    ok(strstr(head, "Content-Length: 10\r\n") != NULL, "second: %s\n", head);
    status = raw_response(&raw, FALSE, head, sizeof(head));
    ok(status == 200, "third: status %u\n", status);
    ok(server_log_get("/file/keep", 0, &first) && server_log_get("/file/keep", 2, &third)
            && first.connection == third.connection, "not one connection\n");

    ok(raw_send(&raw, "GET /file/keep?size=10 HTTP/1.1\r\nConnection: close\r\n\r\n", -1),
            "send failed\n");
    status = raw_response(&raw, FALSE, head, sizeof(head));
    ok(status == 200, "close: status %u\n", status);
    ok(strstr(head, "Connection: close\r\n") != NULL, "close: %s\n", head);
    ok(raw_closed(&raw), "connection not closed after Connection: close\n");
    raw_close(&raw);

    /* HTTP/1.0 without keep-alive, and the close option */
    if (raw_connect(&raw))
    {
        raw_send(&raw, "GET /file/keep?size=10 HTTP/1.0\r\n\r\n", -1);
        status = raw_response(&raw, FALSE, head, sizeof(head));
        ok(status == 200, "HTTP/1.0: status %u\n", status);
        ok(raw_closed(&raw), "HTTP/1.0 connection kept\n");
        raw_close(&raw);
    }
    if (raw_connect(&raw))
    {
        raw_send(&raw, "GET /file/keep?size=10 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
                "GET /file/keep?size=10&close HTTP/1.1\r\n\r\n", -1);
        status = raw_response(&raw, FALSE, head, sizeof(head));
        ok(status == 200, "HTTP/1.0 keep-alive: status %u\n", status);
        ok(strstr(head, "Connection: keep-alive\r\n") != NULL, "HTTP/1.0 keep-alive: %s\n", head);
        status = raw_response(&raw, FALSE, head, sizeof(head));
        ok(status == 200, "close option: status %u\n", status);
        ok(raw_closed(&raw), "connection kept despite the close option\n");
        raw_close(&raw);
    }

    /* a request body is read and skipped; the connection stays usable */
    if (raw_connect(&raw))
    {
        raw_send(&raw, "POST /file/post?size=10 HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"
                "GET /file/post?size=10 HTTP/1.1\r\n\r\n", -1);
        status = raw_response(&raw, FALSE, head, sizeof(head));
        ok(status == 405, "POST: status %u\n", status);
        status = raw_response(&raw, FALSE, head, sizeof(head));
        ok(status == 200, "GET after POST: status %u\n", status);
        raw_close(&raw);
    }
}

static void test_bad_clients(void)
{
    unsigned int status;
    struct http http;
    struct raw raw;
    char head[2048], *big;
    DWORD error;

    /* connect and go away, before or in the middle of a request */
    if (raw_connect(&raw)) raw_close(&raw);
    if (raw_connect(&raw))
    {
        raw_send(&raw, "GET /file/x?size=10 HTT", -1);
        raw_close(&raw);
    }

    if (raw_connect(&raw))
    {
        raw_send(&raw, "BLAH\r\n\r\n", -1);
        status = raw_response(&raw, FALSE, head, sizeof(head));
        ok(status == 400, "garbage: status %u\n", status);
        ok(raw_closed(&raw), "connection kept after garbage\n");
        raw_close(&raw);
    }
    if (raw_connect(&raw))
    {
        raw_send(&raw, "GET /file/x?size=10 HTTP/2.0\r\n\r\n", -1);
        status = raw_response(&raw, FALSE, head, sizeof(head));
        ok(status == 505, "HTTP/2.0: status %u\n", status);
        raw_close(&raw);
    }
    if (raw_connect(&raw))
    {
        raw_send(&raw, "GET /file/x?size=10 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", -1);
        status = raw_response(&raw, FALSE, head, sizeof(head));
        ok(status == 501, "chunked request: status %u\n", status);
        raw_close(&raw);
    }
    big = malloc(20000);
    if (big && raw_connect(&raw))
    {
        memset(big, 'a', 20000);
        memcpy(big, "GET /file/x HTTP/1.1\r\nX-Big: ", 29);
        raw_send(&raw, big, 20000);
        status = raw_response(&raw, FALSE, head, sizeof(head));
        ok(status == 431, "huge header: status %u\n", status);
        raw_close(&raw);
    }
    if (big && raw_connect(&raw))
    {
        memset(big, 'a', 20000);
        memcpy(big, "GET /", 5);
        memcpy(big + 1000, " HTTP/1.1\r\n\r\n", 13);
        raw_send(&raw, big, 1013);
        status = raw_response(&raw, FALSE, head, sizeof(head));
        ok(status == 414, "long URI: status %u\n", status);
        raw_close(&raw);
    }
    free(big);

    /* a client that leaves in the middle of a large body */
    server_log_clear();
    if (raw_connect(&raw))
    {
        raw_send(&raw, "GET /file/leave?size=1000000000 HTTP/1.1\r\n\r\n", -1);
        raw_fill(&raw);
        raw_close(&raw);
        ok(server_log_wait("/file/leave", 1, 10000), "response did not end\n");
    }

    /* the server still answers */
    error = http_get(&http, L"GET", "/file/after?size=100", NULL);
    ok(!error && http.status == 200 && http.len == 100, "error %lu, status %lu\n", error,
            http.status);
    http_close(&http);
}

struct worker
{
    HANDLE thread;
    char name[32];
    BOOL good;
};

static DWORD WINAPI worker_thread(void *arg)
{
    struct worker *worker = arg;
    struct http http;
    char path[64];
    DWORD error;

    snprintf(path, sizeof(path), "/file/%s?size=300000", worker->name);
    error = http_get(&http, L"GET", path, NULL);
    worker->good = !error && http.status == 200 && http.len == 300000
            && server_compare(worker->name, 0, 0, http.body, http.len);
    http_close(&http);
    return 0;
}

static void test_concurrency(void)
{
    struct worker workers[8];
    unsigned int i;

    for (i = 0; i < ARRAY_SIZE(workers); i++)
    {
        snprintf(workers[i].name, sizeof(workers[i].name), "worker-%u", i);
        workers[i].good = FALSE;
        workers[i].thread = CreateThread(NULL, 0, worker_thread, &workers[i], 0, NULL);
    }
    for (i = 0; i < ARRAY_SIZE(workers); i++)
    {
        if (!workers[i].thread) continue;
        WaitForSingleObject(workers[i].thread, INFINITE);
        CloseHandle(workers[i].thread);
    }
    for (i = 0; i < ARRAY_SIZE(workers); i++)
        ok(workers[i].good, "worker %u failed\n", i);
}

/* Uploads: the BITS upload protocol side ([MC-BUP], wire-and-tools.md §2.14). */

struct ack_info
{
    DWORD status;
    char type[64];
    char session[64];
    char protocol[64];
    char encoding[64];
    char received[32];
    char reply[SERVER_TARGET_MAX];
    char code[32];
    char context[32];
    char length[32];
    BOOL has_session, has_received, has_reply, has_code, has_context;
};

/* One BITS_POST packet to PATH; extra holds more header lines (CRLF-terminated) or is NULL.
 * Returns 0 or the error of the failing WinHTTP call. */
static DWORD bits_post(const char *path, const char *type, const char *id,
        const char *extra, const void *body, DWORD len, struct ack_info *ack)
{
    char headers[2048];
    WCHAR wheaders[2048];
    struct http http;
    DWORD size = sizeof(http.status), error = 0;
    WCHAR object[SERVER_TARGET_MAX];
    size_t i;

    memset(ack, 0, sizeof(*ack));
    snprintf(headers, sizeof(headers), "%s%s%s%s%s%s", type ? "BITS-Packet-Type: " : "",
            type ? type : "", type ? "\r\n" : "", id ? "BITS-Session-Id: " : "", id ? id : "",
            id ? "\r\n" : "");
    if (extra) strncat(headers, extra, sizeof(headers) - strlen(headers) - 1);
    for (i = 0; headers[i] && i < ARRAY_SIZE(wheaders) - 1; i++)
        wheaders[i] = (unsigned char)headers[i];
    wheaders[i] = 0;
    for (i = 0; path[i] && i < ARRAY_SIZE(object) - 1; i++) object[i] = (unsigned char)path[i];
    object[i] = 0;

    memset(&http, 0, sizeof(http));
    http.connect = WinHttpConnect(session, L"127.0.0.1", server_port(), 0);
    if (!http.connect) return GetLastError();
    http.request = WinHttpOpenRequest(http.connect, L"BITS_POST", object, NULL,
            WINHTTP_NO_REFERER, WINHTTP_DEFAULT_ACCEPT_TYPES, 0);
    if (!http.request) error = GetLastError();
    else if (!WinHttpSetTimeouts(http.request, 10000, 10000, 10000, 20000))
        error = GetLastError();
    else if (!WinHttpSendRequest(http.request, wheaders[0] ? wheaders
            : WINHTTP_NO_ADDITIONAL_HEADERS, wheaders[0] ? (DWORD)-1 : 0,
            (void *)body, len, len, 0))
        error = GetLastError();
    else if (!WinHttpReceiveResponse(http.request, NULL))
        error = GetLastError();
    else if (!WinHttpQueryHeaders(http.request, WINHTTP_QUERY_STATUS_CODE
            | WINHTTP_QUERY_FLAG_NUMBER, WINHTTP_HEADER_NAME_BY_INDEX, &ack->status, &size,
            WINHTTP_NO_HEADER_INDEX))
        error = GetLastError();
    if (!error)
    {
        http_header(&http, L"BITS-Packet-Type", ack->type, sizeof(ack->type));
        ack->has_session = http_header(&http, L"BITS-Session-Id", ack->session,
                sizeof(ack->session));
        http_header(&http, L"BITS-Protocol", ack->protocol, sizeof(ack->protocol));
        http_header(&http, L"Accept-Encoding", ack->encoding, sizeof(ack->encoding));
        ack->has_received = http_header(&http, L"BITS-Received-Content-Range", ack->received,
                sizeof(ack->received));
        ack->has_reply = http_header(&http, L"BITS-Reply-URL", ack->reply, sizeof(ack->reply));
        ack->has_code = http_header(&http, L"BITS-Error-Code", ack->code, sizeof(ack->code));
        ack->has_context = http_header(&http, L"BITS-Error-Context", ack->context,
                sizeof(ack->context));
        http_header(&http, L"Content-Length", ack->length, sizeof(ack->length));
        error = http_read(&http, BODY_MAX);
        if (!error && http.len && !strcmp(ack->type, "Ack"))
            error = ERROR_INVALID_DATA;                         /* an Ack has no body */
    }
    http_close(&http);
    return error;
}

/* Create-Session; the session id goes to id (64 chars).  FALSE, with a failure, when none. */
static BOOL bits_create(const char *path, char *id)
{
    struct ack_info ack;
    DWORD error;

    *id = 0;
    error = bits_post(path, "Create-Session", NULL, "BITS-Supported-Protocols: "
            SERVER_PROTOCOL_UPLOAD "\r\n", NULL, 0, &ack);
    ok(!error && ack.status == 200 && ack.has_session, "Create-Session on %s: error %lu, "
            "status %lu, session %s\n", path, error, ack.status, ack.session);
    if (error || ack.status != 200 || !ack.has_session) return FALSE;
    strcpy(id, ack.session);
    return TRUE;
}

/* A Fragment of DATA[first, last] (DATA holds the whole file of TOTAL bytes). */
static DWORD bits_fragment(const char *path, const char *id, const BYTE *data, UINT64 first,
        UINT64 last, UINT64 total, struct ack_info *ack)
{
    char range[128];

    snprintf(range, sizeof(range), "Content-Range: bytes %llu-%llu/%llu\r\n",
            (unsigned long long)first, (unsigned long long)last, (unsigned long long)total);
    return bits_post(path, "Fragment", id, range, data + first, (DWORD)(last - first + 1), ack);
}

static BOOL is_guid_string(const char *text)
{
    static const char pattern[] = "{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}";
    size_t i;

    if (strlen(text) != sizeof(pattern) - 1) return FALSE;
    for (i = 0; pattern[i]; i++)
    {
        if (pattern[i] == 'x' ? !isxdigit((unsigned char)text[i]) : text[i] != pattern[i])
            return FALSE;
    }
    return TRUE;
}

static BYTE *make_upload_data(const char *name, size_t size)
{
    BYTE *data = malloc(size ? size : 1);

    if (data) server_fill(name, 0, data, size);
    return data;
}

/* The committed file of NAME is DATA[0, size). */
static BOOL upload_is(const char *name, const BYTE *data, UINT64 size)
{
    BYTE *got;
    UINT64 got_size;
    BOOL ret;

    if (!server_upload_data(name, &got, &got_size)) return FALSE;
    ret = got_size == size && (!size || !memcmp(got, data, (size_t)size));
    free(got);
    return ret;
}

static void test_upload_session(void)
{
    static const char path[] = "/upload/up-basic";
    static const UINT64 cuts[] = { 0, 65536, 200000, 300000 };
    struct server_upload state;
    struct server_packet packet;
    struct ack_info ack;
    char id[64];
    BYTE *data = make_upload_data("up-basic-src", 300000);
    unsigned int i;
    DWORD error;

    server_log_clear();
    error = bits_post(path, "Ping", NULL, NULL, NULL, 0, &ack);
    ok(!error && ack.status == 200, "Ping: error %lu, status %lu\n", error, ack.status);
    ok(!strcmp(ack.type, "Ack"), "Ping: packet type %s\n", ack.type);
    ok(!strcmp(ack.length, "0"), "Ping: Content-Length %s\n", ack.length);
    ok(!ack.has_code, "Ping: error code %s\n", ack.code);

    error = bits_post(path, "Create-Session", NULL, "BITS-Supported-Protocols: "
            SERVER_PROTOCOL_UPLOAD "\r\nContent-Name: src.bin\r\n", NULL, 0, &ack);
    ok(!error && ack.status == 200, "Create-Session: error %lu, status %lu\n", error,
            ack.status);
    ok(!strcmp(ack.type, "Ack") && !strcmp(ack.length, "0"), "Create-Session: type %s, "
            "length %s\n", ack.type, ack.length);
    ok(!strcmp(ack.protocol, SERVER_PROTOCOL_UPLOAD), "protocol %s\n", ack.protocol);
    ok(!_stricmp(ack.encoding, "Identity"), "Accept-Encoding %s\n", ack.encoding);
    ok(is_guid_string(ack.session), "session id %s\n", ack.session);
    strcpy(id, ack.session);
    server_upload_state("up-basic", &state);
    ok(state.sessions == 1 && state.open == 1 && !state.committed, "sessions %u, open %u, "
            "committed %d\n", state.sessions, state.open, state.committed);

    for (i = 0; i + 1 < ARRAY_SIZE(cuts) && data; i++)
    {
        winetest_push_context("fragment %u", i);
        error = bits_fragment(path, id, data, cuts[i], cuts[i + 1] - 1, 300000, &ack);
        ok(!error && ack.status == 200, "error %lu, status %lu\n", error, ack.status);
        ok(!strcmp(ack.session, id), "session %s\n", ack.session);
        ok(ack.has_received && strtoull(ack.received, NULL, 10) == cuts[i + 1],
                "received %s\n", ack.received);
        ok(!ack.has_reply, "a reply URL on a plain upload: %s\n", ack.reply);
        server_upload_state("up-basic", &state);
        ok(state.committed == (i == ARRAY_SIZE(cuts) - 2), "committed %d\n", state.committed);
        winetest_pop_context();
    }
    ok(upload_is("up-basic", data, 300000), "the upload differs\n");
    server_upload_state("up-basic", &state);
    ok(state.commits == 1 && state.size == 300000 && !state.pending, "commits %u, size %s, "
            "pending %s\n", state.commits, wine_dbgstr_longlong(state.size),
            wine_dbgstr_longlong(state.pending));

    error = bits_post(path, "Close-Session", id, NULL, NULL, 0, &ack);
    ok(!error && ack.status == 200 && !strcmp(ack.session, id), "Close-Session: error %lu, "
            "status %lu, session %s\n", error, ack.status, ack.session);
    server_upload_state("up-basic", &state);
    ok(state.closed == 1 && !state.open && state.committed, "closed %u, open %u\n",
            state.closed, state.open);
    /* a closed session is gone ([MC-BUP] 2.2.1.2: BG_E_SESSION_NOT_FOUND, status 500) */
    error = bits_fragment(path, id, data, 0, 9, 300000, &ack);
    ok(!error && ack.status == 500 && !_stricmp(ack.code, "0x8020001f")
            && !_stricmp(ack.context, "0x5"), "after Close: error %lu, status %lu, code %s, "
            "context %s\n", error, ack.status, ack.code, ack.context);
    error = bits_post(path, "Close-Session", id, NULL, NULL, 0, &ack);
    ok(!error && ack.status == 500 && !_stricmp(ack.code, "0x8020001f"),
            "second Close: status %lu, code %s\n", ack.status, ack.code);

    /* the packet log */
    ok(server_packet_count("up-basic", NULL) == 8, "%u packets\n",
            server_packet_count("up-basic", NULL));
    ok(server_packet_count("up-basic", "fragment") == 4, "%u fragments\n",
            server_packet_count("up-basic", "fragment"));
    ok(server_packet_get("up-basic", "Create-Session", 0, &packet), "no Create-Session\n");
    ok(!strcmp(packet.session, id) && packet.status == 200 && packet.finished,
            "Create-Session logged with session %s, status %u\n", packet.session, packet.status);
    ok(!strcmp(packet.content_name, "src.bin") && !strcmp(packet.protocols,
            SERVER_PROTOCOL_UPLOAD), "Content-Name %s, protocols %s\n", packet.content_name,
            packet.protocols);
    ok(server_packet_get("up-basic", "Fragment", 1, &packet), "no second fragment\n");
    ok(packet.has_range && packet.first == 65536 && packet.last == 199999
            && packet.total == 300000 && packet.body_length == 134464
            && packet.body_read == 134464, "second fragment %s: %s-%s/%s, %s bytes\n",
            packet.content_range, wine_dbgstr_longlong(packet.first),
            wine_dbgstr_longlong(packet.last), wine_dbgstr_longlong(packet.total),
            wine_dbgstr_longlong(packet.body_read));
    ok(!strcmp(packet.content_range, "bytes 65536-199999/300000"), "Content-Range %s\n",
            packet.content_range);
    ok(packet.has_received && packet.received == 200000 && packet.status == 200,
            "answered %u, received %s\n", packet.status, wine_dbgstr_longlong(packet.received));
    ok(server_packet_get("up-basic", NULL, 7, &packet) && !strcmp(packet.type, "Close-Session")
            && packet.status == 500 && !strcmp(packet.error_code, "0x8020001f"),
            "last packet %s, status %u, code %s\n", packet.type, packet.status,
            packet.error_code);
    ok(server_log_count("/upload/up-basic") == 8, "%u requests logged\n",
            server_log_count("/upload/up-basic"));
    ok(server_packet_wait("up-basic", "Ping", 1, 0), "Ping not finished\n");
    ok(!server_packet_wait("up-basic", "Ping", 2, 0), "two Pings\n");

    server_reset("up-basic");
    server_upload_state("up-basic", &state);
    ok(!state.committed && !state.sessions && !state.commits, "after reset: committed %d\n",
            state.committed);
    free(data);
}

static void test_upload_packets(void)
{
    static const char path[] = "/upload/up-packets";
    struct server_upload state;
    struct ack_info ack;
    struct http http;
    char id[64];
    DWORD error;
    BYTE body[10] = { 0 };

    /* packet types are compared case-insensitively (wire-and-tools.md §2.2) */
    error = bits_post(path, "CREATE-SESSION", NULL, "BITS-Supported-Protocols: {00000000-0000-"
            "0000-0000-000000000000} " SERVER_PROTOCOL_UPLOAD "\r\n", NULL, 0, &ack);
    ok(!error && ack.status == 200 && ack.has_session, "upper case: status %lu\n", ack.status);
    error = bits_post(path, "ping", NULL, NULL, NULL, 0, &ack);
    ok(!error && ack.status == 200, "lower case: status %lu\n", ack.status);

    /* unknown or missing type, no common protocol, missing session id: E_INVALIDARG */
    error = bits_post(path, "Frobnicate", NULL, NULL, NULL, 0, &ack);
    ok(!error && ack.status == 400 && !strcmp(ack.type, "Ack") && !_stricmp(ack.code,
            "0x80070057") && !_stricmp(ack.context, "0x5"), "unknown type: status %lu, code %s, "
            "context %s\n", ack.status, ack.code, ack.context);
    error = bits_post(path, NULL, NULL, NULL, NULL, 0, &ack);
    ok(!error && ack.status == 400 && !_stricmp(ack.code, "0x80070057"),
            "no type: status %lu, code %s\n", ack.status, ack.code);
    error = bits_post(path, "Create-Session", NULL, "BITS-Supported-Protocols: "
            "{00000000-0000-0000-0000-000000000000}\r\n", NULL, 0, &ack);
    ok(!error && ack.status == 400 && !_stricmp(ack.code, "0x80070057") && !ack.has_session,
            "no common protocol: status %lu, code %s\n", ack.status, ack.code);
    error = bits_post(path, "Create-Session", NULL, NULL, NULL, 0, &ack);
    ok(!error && ack.status == 400, "no protocol list: status %lu\n", ack.status);
    error = bits_post(path, "Fragment", NULL, "Content-Range: bytes 0-9/10\r\n", body, 10,
            &ack);
    ok(!error && ack.status == 400 && !_stricmp(ack.code, "0x80070057"),
            "Fragment without session: status %lu, code %s\n", ack.status, ack.code);
    error = bits_post(path, "Fragment", "{00000000-0000-0000-0000-000000000000}",
            "Content-Range: bytes 0-9/10\r\n", body, 10, &ack);
    ok(!error && ack.status == 500 && !_stricmp(ack.code, "0x8020001f"),
            "unknown session: status %lu, code %s\n", ack.status, ack.code);

    /* only BITS_POST; and /file/ is no upload server */
    error = http_get(&http, L"GET", path, NULL);
    ok(!error && http.status == 405, "GET: error %lu, status %lu\n", error, http.status);
    http_close(&http);
    error = bits_post("/file/up-packets?size=10", "Ping", NULL, NULL, NULL, 0, &ack);
    ok(!error && ack.status == 405, "BITS_POST on /file/: status %lu\n", ack.status);
    error = bits_post("/upload/up-packets?bogus=1", "Ping", NULL, NULL, NULL, 0, &ack);
    ok(!error && ack.status == 400, "bad option: status %lu\n", ack.status);

    /* a session closed before any fragment commits an empty file [inferred] */
    if (bits_create("/upload/up-empty", id))
    {
        error = bits_post("/upload/up-empty", "Close-Session", id, NULL, NULL, 0, &ack);
        ok(!error && ack.status == 200, "Close-Session: status %lu\n", ack.status);
        server_upload_state("up-empty", &state);
        ok(state.committed && !state.size && state.commits == 1, "committed %d, %s bytes\n",
                state.committed, wine_dbgstr_longlong(state.size));
        ok(upload_is("up-empty", NULL, 0), "not an empty upload\n");
    }
    /* sessions belong to their name */
    if (bits_create("/upload/up-owner", id))
    {
        error = bits_fragment("/upload/up-other", id, body, 0, 9, 10, &ack);
        ok(!error && ack.status == 500 && !_stricmp(ack.code, "0x8020001f"),
                "another name's session: status %lu, code %s\n", ack.status, ack.code);
    }
}

static void test_upload_ranges(void)
{
    static const char path[] = "/upload/up-ranges";
    struct server_upload state;
    struct ack_info ack;
    BYTE *data = make_upload_data("up-ranges-src", 1000), *other;
    char id[64];
    DWORD error;

    other = make_upload_data("up-ranges-other", 1000);
    if (!data || !other || !bits_create(path, id)) goto done;
    error = bits_fragment(path, id, data, 0, 99, 1000, &ack);
    ok(!error && ack.status == 200 && !strcmp(ack.received, "100"), "0-99: status %lu, "
            "received %s\n", ack.status, ack.received);
    /* overlap: only bytes 100-149 are taken, 50-99 stay as they were */
    error = bits_fragment(path, id, other, 50, 149, 1000, &ack);
    ok(!error && ack.status == 200 && !strcmp(ack.received, "150"), "50-149: status %lu, "
            "received %s\n", ack.status, ack.received);
    /* a fragment wholly inside what the server has changes nothing */
    error = bits_fragment(path, id, other, 10, 19, 1000, &ack);
    ok(!error && ack.status == 200 && !strcmp(ack.received, "150"), "10-19: status %lu, "
            "received %s\n", ack.status, ack.received);
    /* a gap: 416 and where to go on */
    error = bits_fragment(path, id, data, 200, 299, 1000, &ack);
    ok(!error && ack.status == 416 && !strcmp(ack.received, "150") && !strcmp(ack.session, id),
            "gap: status %lu, received %s\n", ack.status, ack.received);
    server_upload_state("up-ranges", &state);
    ok(state.pending == 150, "%s bytes pending\n", wine_dbgstr_longlong(state.pending));

    /* malformed ranges, a body of the wrong length, another total: E_INVALIDARG */
    error = bits_post(path, "Fragment", id, "Content-Range: bytes 150-99/1000\r\n", data, 10,
            &ack);
    ok(!error && ack.status == 400 && !_stricmp(ack.code, "0x80070057"), "150-99: status %lu\n",
            ack.status);
    error = bits_post(path, "Fragment", id, "Content-Range: bytes 150-159/150\r\n", data, 10,
            &ack);
    ok(!error && ack.status == 400, "last beyond total: status %lu\n", ack.status);
    error = bits_post(path, "Fragment", id, "Content-Range: items 150-159/1000\r\n", data, 10,
            &ack);
    ok(!error && ack.status == 400, "items: status %lu\n", ack.status);
    error = bits_post(path, "Fragment", id, "Content-Range: bytes 150-159/1000\r\n", data, 9,
            &ack);
    ok(!error && ack.status == 400, "short body: status %lu\n", ack.status);
    error = bits_fragment(path, id, data, 150, 159, 2000, &ack);
    ok(!error && ack.status == 400, "another total: status %lu\n", ack.status);
    error = bits_post(path, "Fragment", id, NULL, data, 10, &ack);
    ok(!error && ack.status == 400, "no Content-Range: status %lu\n", ack.status);

    /* "Bytes", as Learn writes it, and the end */
    error = bits_post(path, "Fragment", id, "Content-Range: Bytes 150-999/1000\r\n", data + 150,
            850, &ack);
    ok(!error && ack.status == 200 && !strcmp(ack.received, "1000"), "Bytes: status %lu, "
            "received %s\n", ack.status, ack.received);
    memcpy(data + 100, other + 100, 50);    /* what the server should have now */
    server_upload_state("up-ranges", &state);
    ok(state.committed && state.size == 1000, "committed %d\n", state.committed);
    ok(upload_is("up-ranges", data, 1000), "the overlap was rewritten\n");
    /* sent again, the last fragment is answered like before, nothing changes */
    error = bits_fragment(path, id, other, 900, 999, 1000, &ack);
    ok(!error && ack.status == 200 && !strcmp(ack.received, "1000"), "again: status %lu\n",
            ack.status);
    server_upload_state("up-ranges", &state);
    ok(state.commits == 1 && upload_is("up-ranges", data, 1000), "commits %u\n", state.commits);

    /* Cancel-Session after the end keeps the file, before the end discards the session */
    error = bits_post(path, "Cancel-Session", id, NULL, NULL, 0, &ack);
    ok(!error && ack.status == 200 && !strcmp(ack.session, id), "Cancel: status %lu\n",
            ack.status);
    server_upload_state("up-ranges", &state);
    ok(state.committed && state.cancelled == 1 && !state.open, "committed %d, cancelled %u\n",
            state.committed, state.cancelled);
    if (bits_create(path, id))
    {
        bits_fragment(path, id, other, 0, 499, 1000, &ack);
        server_upload_state("up-ranges", &state);
        ok(state.pending == 500, "%s bytes pending\n", wine_dbgstr_longlong(state.pending));
        error = bits_post(path, "Cancel-Session", id, NULL, NULL, 0, &ack);
        ok(!error && ack.status == 200, "Cancel: status %lu\n", ack.status);
        server_upload_state("up-ranges", &state);
        ok(!state.pending && state.cancelled == 2 && state.commits == 1
                && upload_is("up-ranges", data, 1000), "pending %s, cancelled %u\n",
                wine_dbgstr_longlong(state.pending), state.cancelled);
    }
    /* Close-Session before the end discards too */
    if (bits_create(path, id))
    {
        bits_fragment(path, id, other, 0, 499, 1000, &ack);
        error = bits_post(path, "Close-Session", id, NULL, NULL, 0, &ack);
        ok(!error && ack.status == 200, "Close: status %lu\n", ack.status);
        server_upload_state("up-ranges", &state);
        ok(!state.pending && state.commits == 1 && upload_is("up-ranges", data, 1000),
                "a partial upload was committed\n");
    }
    /* a new whole upload replaces the old one */
    if (bits_create(path, id))
    {
        error = bits_fragment(path, id, other, 0, 999, 1000, &ack);
        ok(!error && ack.status == 200, "whole: status %lu\n", ack.status);
        ok(upload_is("up-ranges", other, 1000), "not replaced\n");
    }
done:
    free(other);
    free(data);
}

static void test_upload_reply(void)
{
    static const char path[] = "/upload/up-reply?reply=3000";
    struct server_packet packet;
    struct ack_info ack;
    char expect[SERVER_TARGET_MAX], *url_path;
    BYTE *data = make_upload_data("up-reply-src", 5000);
    struct http http;
    char id[64];
    DWORD error;

    if (!data || !bits_create(path, id)) goto done;
    error = bits_fragment(path, id, data, 0, 2999, 5000, &ack);
    ok(!error && ack.status == 200 && !ack.has_reply, "first: status %lu, reply %s\n",
            ack.status, ack.reply);
    error = bits_fragment(path, id, data, 3000, 4999, 5000, &ack);
    ok(!error && ack.status == 200, "last: status %lu\n", ack.status);
    snprintf(expect, sizeof(expect), "http://127.0.0.1:%u/file/up-reply.reply?size=3000",
            server_port());
    ok(ack.has_reply && !strcmp(ack.reply, expect), "reply URL %s\n", ack.reply);
    ok(server_packet_get("up-reply", "Fragment", 1, &packet) && !strcmp(packet.reply_url,
            expect), "logged reply URL %s\n", packet.reply_url);
    /* a repeated last fragment gets the URL again */
    error = bits_fragment(path, id, data, 4000, 4999, 5000, &ack);
    ok(!error && ack.status == 200 && !strcmp(ack.reply, expect), "again: reply %s\n",
            ack.reply);

    /* the reply is an ordinary download */
    url_path = strstr(ack.reply, "/file/");
    if (url_path)
    {
        error = http_get(&http, L"GET", url_path, NULL);
        ok(!error && http.status == 200 && http.len == 3000
                && server_compare("up-reply.reply", 0, 0, http.body, http.len),
                "GET reply: error %lu, status %lu, %lu bytes\n", error, http.status, http.len);
        http_close(&http);
        error = http_get(&http, L"GET", url_path, L"Range: bytes=1000-\r\n");
        ok(!error && http.status == 206 && http.len == 2000
                && server_compare("up-reply.reply", 0, 1000, http.body, http.len),
                "ranged GET reply: status %lu, %lu bytes\n", http.status, http.len);
        http_close(&http);
    }
    error = bits_post(path, "Close-Session", id, NULL, NULL, 0, &ack);
    ok(!error && ack.status == 200, "Close: status %lu\n", ack.status);

    /* reply options go to the reply URL */
    if (bits_create("/upload/up-reply2?reply=10&replystatus=404&replyslow=100&replystall=5", id))
    {
        error = bits_fragment("/upload/up-reply2?reply=10&replystatus=404&replyslow=100"
                "&replystall=5", id, data, 0, 9, 10, &ack);
        snprintf(expect, sizeof(expect), "http://127.0.0.1:%u/file/up-reply2.reply?size=10"
                "&status=404&slow=100&stall=5", server_port());
        ok(!error && !strcmp(ack.reply, expect), "reply URL %s\n", ack.reply);
    }
done:
    free(data);
}

static void test_upload_failures(void)
{
    struct server_upload state;
    struct ack_info ack;
    BYTE *data = make_upload_data("up-fail-src", 100000);
    char id[64], auth[128];
    ULONGLONG start;
    DWORD error;

    if (!data) return;
    /* create=: status only, with code and context, and times= */
    error = bits_post("/upload/up-c404?create=404", "Create-Session", NULL,
            "BITS-Supported-Protocols: " SERVER_PROTOCOL_UPLOAD "\r\n", NULL, 0, &ack);
    ok(!error && ack.status == 404 && !ack.has_code && !ack.has_context && !ack.has_session
            && !strcmp(ack.type, "Ack"), "create=404: status %lu, code %s\n", ack.status,
            ack.code);
    error = bits_post("/upload/up-c403?create=403&code=0x80070005", "Create-Session", NULL,
            "BITS-Supported-Protocols: " SERVER_PROTOCOL_UPLOAD "\r\n", NULL, 0, &ack);
    ok(!error && ack.status == 403 && !_stricmp(ack.code, "0x80070005")
            && !_stricmp(ack.context, "0x5"), "create=403: status %lu, code %s, context %s\n",
            ack.status, ack.code, ack.context);
    error = bits_post("/upload/up-c500?create=500&code=0x80004005&context=0x7&times=1",
            "Create-Session", NULL, "BITS-Supported-Protocols: " SERVER_PROTOCOL_UPLOAD "\r\n",
            NULL, 0, &ack);
    ok(!error && ack.status == 500 && !_stricmp(ack.code, "0x80004005")
            && !_stricmp(ack.context, "0x7"), "create=500: status %lu, code %s, context %s\n",
            ack.status, ack.code, ack.context);
    ok(bits_create("/upload/up-c500?create=500&code=0x80004005&context=0x7&times=1", id),
            "times=1 failed twice\n");
    server_upload_state("up-c500", &state);
    ok(state.sessions == 1, "%u sessions\n", state.sessions);

    /* fragment= from at= on */
    if (bits_create("/upload/up-f?fragment=503&at=5000&code=0x80072efe", id))
    {
        error = bits_fragment("/upload/up-f?fragment=503&at=5000&code=0x80072efe", id, data, 0,
                4999, 100000, &ack);
        ok(!error && ack.status == 200, "before at: status %lu\n", ack.status);
        error = bits_fragment("/upload/up-f?fragment=503&at=5000&code=0x80072efe", id, data,
                5000, 9999, 100000, &ack);
        ok(!error && ack.status == 503 && !_stricmp(ack.code, "0x80072efe"),
                "after at: status %lu, code %s\n", ack.status, ack.code);
        server_upload_state("up-f", &state);
        ok(state.pending == 5000, "%s bytes pending\n", wine_dbgstr_longlong(state.pending));
    }

    /* lose=: the session is forgotten once, a new one works */
    if (bits_create("/upload/up-lose?lose=50000", id))
    {
        error = bits_fragment("/upload/up-lose?lose=50000", id, data, 0, 39999, 100000, &ack);
        ok(!error && ack.status == 200, "before: status %lu\n", ack.status);
        error = bits_fragment("/upload/up-lose?lose=50000", id, data, 40000, 59999, 100000,
                &ack);
        ok(!error && ack.status == 500 && !_stricmp(ack.code, "0x8020001f")
                && !_stricmp(ack.context, "0x5"), "lost: status %lu, code %s\n", ack.status,
                ack.code);
        error = bits_fragment("/upload/up-lose?lose=50000", id, data, 40000, 59999, 100000,
                &ack);
        ok(!error && ack.status == 500, "still lost: status %lu\n", ack.status);
        server_upload_state("up-lose", &state);
        ok(!state.open && !state.pending, "open %u, pending %s\n", state.open,
                wine_dbgstr_longlong(state.pending));
        if (bits_create("/upload/up-lose?lose=50000", id))
        {
            error = bits_fragment("/upload/up-lose?lose=50000", id, data, 0, 99999, 100000,
                    &ack);
            ok(!error && ack.status == 200, "new session: status %lu\n", ack.status);
            ok(upload_is("up-lose", data, 100000), "the upload differs\n");
        }
    }

    /* maxfragment=: 413 above N, nothing taken */
    if (bits_create("/upload/up-413?maxfragment=8192", id))
    {
        error = bits_fragment("/upload/up-413?maxfragment=8192", id, data, 0, 8192, 100000,
                &ack);
        ok(!error && ack.status == 413 && !strcmp(ack.type, "Ack"), "8193 bytes: status %lu\n",
                ack.status);
        error = bits_fragment("/upload/up-413?maxfragment=8192", id, data, 0, 8191, 100000,
                &ack);
        ok(!error && ack.status == 200 && !strcmp(ack.received, "8192"),
                "8192 bytes: status %lu, received %s\n", ack.status, ack.received);
    }
    /* maxsize=: BG_E_TOO_LARGE */
    if (bits_create("/upload/up-big?maxsize=50000", id))
    {
        error = bits_fragment("/upload/up-big?maxsize=50000", id, data, 0, 999, 100000, &ack);
        ok(!error && ack.status == 500 && !_stricmp(ack.code, "0x80200020"),
                "too large: status %lu, code %s\n", ack.status, ack.code);
    }

    /* rewind=: once, the server pretends to have fewer bytes */
    if (bits_create("/upload/up-rewind?rewind=30000", id))
    {
        error = bits_fragment("/upload/up-rewind?rewind=30000", id, data, 0, 49999, 100000,
                &ack);
        ok(!error && ack.status == 200 && !strcmp(ack.received, "50000"), "first: status %lu\n",
                ack.status);
        error = bits_fragment("/upload/up-rewind?rewind=30000", id, data, 50000, 99999, 100000,
                &ack);
        ok(!error && ack.status == 416 && !strcmp(ack.received, "30000"),
                "rewound: status %lu, received %s\n", ack.status, ack.received);
        error = bits_fragment("/upload/up-rewind?rewind=30000", id, data, 30000, 99999, 100000,
                &ack);
        ok(!error && ack.status == 200 && !strcmp(ack.received, "100000"),
                "from 30000: status %lu, received %s\n", ack.status, ack.received);
        ok(upload_is("up-rewind", data, 100000), "the upload differs\n");
    }

    /* delay= */
    start = GetTickCount64();
    error = bits_post("/upload/up-delay?delay=300", "Ping", NULL, NULL, NULL, 0, &ack);
    ok(!error && ack.status == 200 && GetTickCount64() - start >= 250, "delay: status %lu, "
            "%s ms\n", ack.status, wine_dbgstr_longlong(GetTickCount64() - start));

    /* auth= */
    error = bits_post("/upload/up-auth?auth=user:pass", "Ping", NULL, NULL, NULL, 0, &ack);
    ok(!error && ack.status == 401 && !strcmp(ack.type, "Ack"), "no credentials: status %lu\n",
            ack.status);
    snprintf(auth, sizeof(auth), "Authorization: Basic dXNlcjpwYXNz\r\n");
    error = bits_post("/upload/up-auth?auth=user:pass", "Ping", NULL, auth, NULL, 0, &ack);
    ok(!error && ack.status == 200, "credentials: status %lu\n", ack.status);
    free(data);
}

/* Sends a Fragment of DATA[first, last] over a raw connection, without waiting. */
static BOOL raw_fragment(struct raw *raw, const char *path, const char *id, const BYTE *data,
        UINT64 first, UINT64 last, UINT64 total)
{
    char head[1024];
    int len, sent, ret;
    UINT64 length = last - first + 1;

    len = snprintf(head, sizeof(head), "BITS_POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "BITS-Packet-Type: Fragment\r\nBITS-Session-Id: %s\r\nContent-Range: bytes "
            "%llu-%llu/%llu\r\nContent-Length: %llu\r\n\r\n", path, id,
            (unsigned long long)first, (unsigned long long)last, (unsigned long long)total,
            (unsigned long long)length);
    if (!raw_send(raw, head, len)) return FALSE;
    for (sent = 0; sent < (int)length; sent += ret)
    {
        ret = send(raw->socket, (const char *)data + first + sent, (int)length - sent, 0);
        if (ret <= 0) return FALSE;
    }
    return TRUE;
}

static void test_upload_drop_stall(void)
{
    static const char drop_path[] = "/upload/up-drop?drop=30000";
    static const char stall_path[] = "/upload/up-stall?stall=60000";
    struct server_upload state;
    struct server_packet packet;
    struct ack_info ack;
    unsigned int status;
    struct raw raw;
    char id[64], head[2048];
    BYTE *data = make_upload_data("up-drop-src", 100000);
    DWORD error;

    if (!data) return;
    /* drop=: the connection is cut in the body, the bytes before the offset are kept */
    if (bits_create(drop_path, id) && raw_connect(&raw))
    {
        raw_fragment(&raw, drop_path, id, data, 0, 49999, 100000);
        status = raw_response(&raw, FALSE, head, sizeof(head));
        ok(!status, "an answer to a dropped fragment: %u\n", status);
        raw_close(&raw);
        ok(server_packet_wait("up-drop", "Fragment", 1, 10000), "fragment not finished\n");
        ok(server_packet_get("up-drop", "Fragment", 0, &packet) && !packet.status
                && packet.body_read == 30000 && packet.body_length == 50000,
                "dropped fragment: status %u, %s of %s bytes read\n", packet.status,
                wine_dbgstr_longlong(packet.body_read), wine_dbgstr_longlong(packet.body_length));
        server_upload_state("up-drop", &state);
        ok(state.pending == 30000 && state.open == 1, "%s bytes pending\n",
                wine_dbgstr_longlong(state.pending));
        /* sent again, the overlap is trimmed; the drop happens once */
        error = bits_fragment(drop_path, id, data, 0, 49999, 100000, &ack);
        ok(!error && ack.status == 200 && !strcmp(ack.received, "50000"),
                "again: error %lu, status %lu, received %s\n", error, ack.status, ack.received);
        error = bits_fragment(drop_path, id, data, 50000, 99999, 100000, &ack);
        ok(!error && ack.status == 200, "rest: status %lu\n", ack.status);
        ok(upload_is("up-drop", data, 100000), "the upload differs\n");
    }

    /* stall=: the answer waits for server_release(), then the bytes are stored */
    if (bits_create(stall_path, id) && raw_connect(&raw))
    {
        error = bits_fragment(stall_path, id, data, 0, 49999, 100000, &ack);
        ok(!error && ack.status == 200, "before the stall: status %lu\n", ack.status);
        raw_fragment(&raw, stall_path, id, data, 50000, 99999, 100000);
        ok(server_wait_stalled("up-stall", 10000), "not stalled\n");
        server_upload_state("up-stall", &state);
        ok(state.pending == 50000 && !state.committed, "%s bytes pending while stalled\n",
                wine_dbgstr_longlong(state.pending));
        server_release("up-stall");
        status = raw_response(&raw, FALSE, head, sizeof(head));
        ok(status == 200 && strstr(head, "BITS-Received-Content-Range: 100000\r\n"),
                "released: %u, %s\n", status, head);
        raw_close(&raw);
        ok(upload_is("up-stall", data, 100000), "the upload differs\n");
    }
    /* a client that goes away while stalled loses its fragment */
    if (bits_create("/upload/up-stall2?stall=0", id) && raw_connect(&raw))
    {
        raw_fragment(&raw, "/upload/up-stall2?stall=0", id, data, 0, 9999, 100000);
        ok(server_wait_stalled("up-stall2", 10000), "not stalled\n");
        raw_close(&raw);
        ok(server_packet_wait("up-stall2", "Fragment", 1, 10000), "stalled fragment not ended\n");
        ok(server_packet_get("up-stall2", "Fragment", 0, &packet) && !packet.status,
                "answered %u\n", packet.status);
        server_upload_state("up-stall2", &state);
        ok(!state.pending && state.open == 1, "%s bytes pending\n",
                wine_dbgstr_longlong(state.pending));
        server_release("up-stall2");
    }
    free(data);
}

static void test_upload_verify(void)
{
    static const char path[] = "/upload/up-verify";
    BYTE *data = make_upload_data("up-verify-src", 70000);
    struct ack_info ack;
    WCHAR file_path[MAX_PATH];
    HANDLE file;
    DWORD written;
    char id[64];

    ok(!server_upload_verify("up-verify-none", L"C:\\nonexistent.bin"), "nothing verifies\n");
    if (!data || !bits_create(path, id)) goto done;
    bits_fragment(path, id, data, 0, 69999, 70000, &ack);
    ok(ack.status == 200, "status %lu\n", ack.status);
    ok(server_upload_wait("up-verify", 5000), "nothing committed\n");
    ok(!server_upload_wait("up-verify-none", 0), "a name without upload committed\n");

    GetTempPathW(ARRAY_SIZE(file_path), file_path);
    wcscat(file_path, L"bits-server-upload-verify.bin");
    file = CreateFileW(file_path, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, 0, NULL);
    ok(file != INVALID_HANDLE_VALUE, "cannot create %s\n", debugstr_w(file_path));
    if (file == INVALID_HANDLE_VALUE) goto done;
    WriteFile(file, data, 70000, &written, NULL);
    CloseHandle(file);
    ok(server_upload_verify("up-verify", file_path), "the upload does not verify\n");
    data[12345] ^= 1;
    file = CreateFileW(file_path, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, 0, NULL);
    WriteFile(file, data, 70000, &written, NULL);
    CloseHandle(file);
    ok(!server_upload_verify("up-verify", file_path), "a changed byte verifies\n");
    file = CreateFileW(file_path, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, 0, NULL);
    WriteFile(file, data, 69999, &written, NULL);
    CloseHandle(file);
    ok(!server_upload_verify("up-verify", file_path), "a shorter file verifies\n");
    DeleteFileW(file_path);
done:
    free(data);
}

/* Runs last: stopping with a stalled and an idle connection must not hang. */
static void test_stop(void)
{
    unsigned int status;
    struct raw stalled, idle;
    char head[2048];
    WCHAR url[64];
    struct http http;
    DWORD error;

    ok(raw_connect(&stalled), "cannot connect\n");
    ok(raw_connect(&idle), "cannot connect\n");
    raw_send(&stalled, "GET /file/stop?size=100&stall=10 HTTP/1.1\r\n\r\n", -1);
    ok(server_wait_stalled("stop", 5000), "not stalled\n");
    server_stop();
    ok(!server_port(), "port %u after stop\n", server_port());
    ok(!server_url("/x", url, ARRAY_SIZE(url)), "a URL after stop\n");
    status = raw_response(&stalled, TRUE, head, sizeof(head));
    ok(status == 200, "stalled: status %u\n", status);
    ok(raw_closed(&stalled), "stalled connection not closed\n");
    ok(raw_closed(&idle), "idle connection not closed\n");
    raw_close(&stalled);
    raw_close(&idle);

    ok(server_start(), "restart failed\n");
    ok(server_start(), "second start failed\n");
    ok(server_url("file/x", url, ARRAY_SIZE(url)) && !wcsncmp(url, L"http://127.0.0.1:", 17)
            && wcsstr(url, L"/file/x"), "URL %s\n", debugstr_w(url));
    ok(!server_url("/x", url, 10), "URL in a short buffer\n");
    error = http_get(&http, L"GET", "/file/restart?size=100", NULL);
    ok(!error && http.status == 200 && http.len == 100, "after restart: error %lu, status %lu\n",
            error, http.status);
    http_close(&http);
}

START_TEST(server)
{
    WSADATA wsa;

    if (!server_start())
    {
        skip("the test server cannot start\n");
        return;
    }
    WSAStartup(MAKEWORD(2, 2), &wsa);
    session = WinHttpOpen(L"bits-server-test", WINHTTP_ACCESS_TYPE_NO_PROXY,
            WINHTTP_NO_PROXY_NAME, WINHTTP_NO_PROXY_BYPASS, 0);
    ok(session != NULL, "WinHttpOpen failed: %lu\n", GetLastError());
    if (session)
    {
        test_content();
        test_head();
        test_ranges();
        test_status();
        test_norange();
        test_multipart();
        test_lengths();
        test_badrange();
        test_drop();
        test_stall();
        test_redirect();
        test_conditions();
        test_changing();
        test_log();
        test_auth();
        test_verify_file();
        test_keep_alive();
        test_bad_clients();
        test_concurrency();
        test_upload_session();
        test_upload_packets();
        test_upload_ranges();
        test_upload_reply();
        test_upload_failures();
        test_upload_drop_stall();
        test_upload_verify();
        test_stop();
        WinHttpCloseHandle(session);
    }
    WSACleanup();
    server_stop();
}
