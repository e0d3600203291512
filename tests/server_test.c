/* Checks the test server of server.h from the same process, with WinHTTP and raw sockets, so
 * that the download tests can trust it: content, HEAD, ranges, statuses, every misbehaviour
 * option, redirects, keep-alive, the request log and robustness against bad clients.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
#include <winhttp.h>
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
        test_stop();
        WinHttpCloseHandle(session);
    }
    WSACleanup();
    server_stop();
}
