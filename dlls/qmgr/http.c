/* The HTTP/1.1 client of the transports, and HTTP and HTTPS downloads (wire-and-tools.md §1):
 * HEAD for the size and the validators, then GETs with "Range: bytes=<first missing byte>-" and
 * If-Range, so that a file that changed on the server starts again from 0 instead of splicing
 * two versions (behaviour.md §10).  Files of AddFileWithRanges and on-demand files ask for
 * their parts only, several to a GET (see "Parts of a file" below).  upload.c sends the
 * packets of the upload protocol through the same client (http_conn_send()).
 *
 * Two clients reach the server.  Plain http:// without a proxy goes over our own HTTP/1.1
 * client on non-blocking Winsock sockets: Wine 8's WinHTTP reads 8 KiB per socket call and
 * tops out near 70 MB/s over loopback, several times slower than curl.  https:// and proxies go
 * through WinHTTP, whose blocking calls run on a helper thread: in Wine 8 closing a handle does
 * not interrupt a call in progress (it returns when the server answers or after the 30 s
 * receive timeout), and a request that timed out must not be read again.  An abort abandons the
 * helper, which finishes its call alone and frees what it holds (a request body included).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#include <winsock2.h>
#include <ws2tcpip.h>
#include <winhttp.h>
#include <wincrypt.h>
#include <stdio.h>
#include <stdlib.h>

#include "qmgr_private.h"

DEFAULT_DEBUG_CHANNEL(qmgr);

#define HTTP_BUFFER_SIZE (1 << 20)  /* one write and one progress call per chunk at most */
#define HTTP_HEAD_MAX 65536         /* longest response head, and the socket's read-ahead */
#define HTTP_MAX_REDIRECTS 10       /* WinHTTP's default (wire-and-tools.md §1.5) */
#define HTTP_MAX_RESTARTS 2         /* changes of the remote file seen within one attempt */
#define HTTP_POLL_MS 100            /* how long a wait goes without looking at the abort flag */
#define HTTP_CONNECT_POLLS 600      /* 60 s to connect, WinHTTP's default */
#define HTTP_RECEIVE_POLLS 300      /* 30 s without a byte, WinHTTP's default */

static const WCHAR user_agent[] = L"Microsoft BITS/7.8";    /* wire-and-tools.md §0.1 */

/* An http:// or https:// URL, taken apart. */
struct url
{
    BOOL secure;
    WCHAR *host;                    /* without the brackets of an IPv6 literal */
    BOOL ipv6;
    INTERNET_PORT port;
    WCHAR *path;                    /* path and query, without fragment; "/" at least */
};

/* Runs the blocking calls of one client, one at a time, while the worker waits and watches
 * the abort flag.  Counted: the worker's reference and the thread's. */
struct helper
{
    LONG refcount;
    HMODULE module;                 /* keeps qmgr.dll loaded while the thread runs */
    HANDLE start;                   /* auto-reset: a call is ready, or quit is set */
    HANDLE done;                    /* auto-reset: the call returned */
    volatile LONG quit;             /* the worker left: end after the current call */
    volatile LONG flush;            /* a read should return what it has */
    void (*call)(struct helper *helper);
    HINTERNET session;              /* the handles are closed by the thread when it ends */
    HINTERNET connect;
    HINTERNET request;
    BOOL ok;
    DWORD error;
    BYTE *body;                     /* sends: the request body, the helper's own copy */
    DWORD body_size;
    BYTE *buffer;                   /* reads: HTTP_BUFFER_SIZE bytes */
    DWORD count;
    WCHAR *name;                    /* lookups: a host name, or the URL of a proxy lookup */
    WCHAR *script;                  /* proxy lookups: the configuration script's URL */
    WCHAR service[8];
    ADDRINFOW *addrs;
    WINHTTP_AUTOPROXY_OPTIONS autoproxy;
    WINHTTP_PROXY_INFO proxy;       /* GlobalAlloc'd strings */
};

enum body { BODY_NONE, BODY_LENGTH, BODY_CHUNKED, BODY_CLOSE };
enum chunk { CHUNK_SIZE, CHUNK_DATA, CHUNK_CRLF, CHUNK_TRAILER };

/* Our HTTP/1.1 client: one connection, kept alive between requests to the same server. */
struct sock
{
    SOCKET socket;                  /* INVALID_SOCKET when closed */
    WCHAR *host;                    /* where it is connected to */
    INTERNET_PORT port;
    BOOL keep;                      /* may carry another request once this body is over */
    char *in;                       /* HTTP_HEAD_MAX bytes read ahead: heads, chunk lines */
    DWORD in_start, in_end;
    enum body body;
    enum chunk chunk;
    UINT64 left;                    /* BODY_LENGTH: bytes to come; BODY_CHUNKED: of the chunk */
    BOOL done;                      /* the body is over */
};

struct http_conn
{
    struct transfer *transfer;
    WCHAR *url;                     /* where requests go: the remote name, then redirect targets */
    BOOL redirected;
    BOOL raw;                       /* the current response comes from sock, else from WinHTTP */
    HRESULT pending;                /* a read failure, reported after the bytes before it */
    struct helper *helper;          /* NULL until a blocking call needs it */
    WCHAR *proxy_key;               /* "scheme://host:port" the proxy below was found for */
    WCHAR *proxy;                   /* NULL: direct connection */
    WCHAR *proxy_bypass;
    BOOL session_set;               /* the helper's session has the proxy below */
    WCHAR *session_proxy;
    WCHAR *session_bypass;
    BOOL wsa;                       /* WSAStartup() done */
    struct sock sock;
    BYTE *buffer;                   /* socket reads: HTTP_BUFFER_SIZE bytes */
    WCHAR *auth[AUTH_TARGETS];      /* "Authorization: ..." and "Proxy-Authorization: ..." lines
                                     * sent with every request once a challenge asked for them */
    BOOL auth_tried[AUTH_TARGETS];  /* answered once: a second challenge is the failure */
};

void http_response_init(struct http_response *resp)
{
    memset(resp, 0, sizeof(*resp));
    resp->length = BG_SIZE_UNKNOWN;
    resp->size = BG_SIZE_UNKNOWN;
}

void http_response_clear(struct http_response *resp)
{
    free(resp->location);
    free(resp->head);
    http_response_init(resp);
}

/* behaviour.md §7.2: File5's HTTP_RESPONSE_HEADERS is the head of the last response, whichever
 * request it answered; headers (malloc'd) replaces the one kept so far. */
static void keep_response_headers(struct http_conn *conn, WCHAR *headers)
{
    free(conn->transfer->response_headers);
    conn->transfer->response_headers = headers;
}

/* A head read from the socket as text: each byte one character (ISO-8859-1, RFC 9110 §5.5). */
static WCHAR *widen_head(const char *head, size_t len)
{
    WCHAR *text = malloc((len + 1) * sizeof(WCHAR));
    size_t i;

    if (!text) return NULL;
    for (i = 0; i < len; i++) text[i] = (unsigned char)head[i];
    text[len] = 0;
    return text;
}

/* Decimal digits to their end; FALSE without digits or on overflow. */
static BOOL parse_u64(const char **str, UINT64 *value)
{
    const char *p = *str;

    *value = 0;
    if (*p < '0' || *p > '9') return FALSE;
    for (; *p >= '0' && *p <= '9'; p++)
    {
        if (*value > (~(UINT64)0 - (*p - '0')) / 10) return FALSE;
        *value = *value * 10 + (*p - '0');
    }
    *str = p;
    return TRUE;
}

/* Content-Range (RFC 9110 §14.4): "bytes first-last/size", with "*" for an unknown size, or
 * the unsatisfied form of a 416, "bytes", an asterisk, "/size". */
static void parse_content_range(struct http_response *resp, const char *value)
{
    const char *p = value + 5;

    if (_strnicmp(value, "bytes", 5) || (*p != ' ' && *p != '\t')) return;
    while (*p == ' ' || *p == '\t') p++;
    if (*p == '*')
    {
        p++;
        if (*p++ != '/' || !parse_u64(&p, &resp->size) || *p) return;
        resp->unsatisfied = TRUE;
        return;
    }
    if (!parse_u64(&p, &resp->first) || *p++ != '-' || !parse_u64(&p, &resp->last)
            || *p++ != '/')
        return;
    if (*p == '*') p++;
    else if (!parse_u64(&p, &resp->size)) return;
    if (*p || resp->last < resp->first
            || (resp->size != BG_SIZE_UNKNOWN && resp->last >= resp->size))
        return;
    resp->has_range = TRUE;
}

/* Whether a comma-separated header value lists token (case-insensitive). */
static BOOL has_token(const char *value, const char *token, BOOL last_only)
{
    size_t len = strlen(token);
    const char *p = value, *end;
    BOOL found = FALSE;

    while (*p)
    {
        while (*p == ' ' || *p == '\t' || *p == ',') p++;
        if (!*p) break;
        end = p;
        while (*end && *end != ',') end++;
        found = (size_t)(end - p) >= len && !_strnicmp(p, token, len)
                && (p[len] == ',' || p[len] == ' ' || p[len] == '\t' || p[len] == ';' || !p[len]);
        if (found && !last_only) return TRUE;
        p = end;
    }
    return found;
}

/* One header of a response, name and value without surrounding blanks.  The first of repeated
 * headers counts; a second Content-Length that disagrees makes the response bad. */
static void response_header(struct http_response *resp, const char *name, const char *value)
{
    if (!_stricmp(name, "Content-Length"))
    {
        const char *p = value;
        UINT64 length;

        if (!parse_u64(&p, &length) || *p
                || (resp->length != BG_SIZE_UNKNOWN && resp->length != length))
            resp->bad = TRUE;
        else resp->length = length;
    }
    else if (!_stricmp(name, "Content-Range"))
    {
        if (!resp->has_range && !resp->unsatisfied) parse_content_range(resp, value);
    }
    else if (!_stricmp(name, "Content-Encoding"))
    {
        if (*value && _stricmp(value, "identity")) resp->encoded = TRUE;
    }
    else if (!_stricmp(name, "Transfer-Encoding"))
    {
        if (has_token(value, "chunked", TRUE)) resp->chunked = TRUE;
        if (_stricmp(value, "chunked") && _stricmp(value, "identity")) resp->encoded = TRUE;
    }
    else if (!_stricmp(name, "Connection"))
    {
        if (has_token(value, "close", FALSE)) resp->close = TRUE;
        if (has_token(value, "keep-alive", FALSE)) resp->keep_alive = TRUE;
    }
    else if (!_stricmp(name, "ETag"))
    {
        if (!resp->etag[0] && strlen(value) < sizeof(resp->etag)) strcpy(resp->etag, value);
    }
    else if (!_stricmp(name, "Last-Modified"))
    {
        if (!resp->modified[0] && strlen(value) < sizeof(resp->modified))
            strcpy(resp->modified, value);
    }
    else if (!_stricmp(name, "Location"))
    {
        if (!resp->location && !(resp->location = _strdup(value))) resp->bad = TRUE;
    }
}

static char *trim(char *str)
{
    char *end;

    while (*str == ' ' || *str == '\t') str++;
    end = str + strlen(str);
    while (end > str && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r')) end--;
    *end = 0;
    return str;
}

/* Parses a head: status line and header lines, NUL-terminated, modified in place.  FALSE
 * when the status line is not HTTP/1.x, or without memory for the copy resp keeps. */
static BOOL parse_head(char *head, struct http_response *resp)
{
    char *line = head, *next, *colon;
    unsigned int status;
    int major, minor;

    /* http_header() reads the copy; the parse below cuts the head in pieces. */
    if (!(resp->head = _strdup(head))) return FALSE;
    next = strchr(line, '\n');
    if (next) *next++ = 0;
    if (strncmp(line, "HTTP/", 5) || sscanf(line + 5, "%d.%d %3u", &major, &minor, &status) != 3
            || major != 1 || status < 100)
        return FALSE;
    resp->status = status;
    resp->minor = minor;
    while ((line = next) && *line && *line != '\r')
    {
        next = strchr(line, '\n');
        if (next) *next++ = 0;
        if (!(colon = strchr(line, ':'))) continue;
        *colon = 0;
        response_header(resp, trim(line), trim(colon + 1));
    }
    /* RFC 9112 §6.3: chunked framing wins over Content-Length. */
    if (resp->chunked) resp->length = BG_SIZE_UNKNOWN;
    return TRUE;
}

/* The first header called name (case-insensitive), blanks trimmed. */
BOOL http_header(const struct http_response *resp, const char *name, char *value, size_t size)
{
    size_t name_len = strlen(name), len;
    const char *line, *end, *p;

    for (line = resp->head ? strchr(resp->head, '\n') : NULL; line; line = strchr(line, '\n'))
    {
        line++;
        end = line + strcspn(line, "\r\n");
        if (end == line) break;                 /* the empty line ends the head */
        if (_strnicmp(line, name, name_len) || line[name_len] != ':') continue;
        for (p = line + name_len + 1; *p == ' ' || *p == '\t'; p++);
        while (end > p && (end[-1] == ' ' || end[-1] == '\t')) end--;
        len = end - p;
        if (len >= size) return FALSE;
        memcpy(value, p, len);
        value[len] = 0;
        return TRUE;
    }
    return FALSE;
}

/* wire-and-tools.md §1.4: what identifies a version of the remote file.  Its ETag when strong
 * (If-Range takes no weak one), else its Last-Modified date, else nothing. */
static void response_validator(const struct http_response *resp, WCHAR *out, size_t size)
{
    const char *src = "";
    size_t i;

    if (resp->etag[0] && strncmp(resp->etag, "W/", 2)) src = resp->etag;
    else if (resp->modified[0]) src = resp->modified;
    for (i = 0; src[i] && i < size - 1; i++) out[i] = (unsigned char)src[i];
    out[i] = 0;
}

static void response_time(const struct http_response *resp, FILETIME *time)
{
    WCHAR text[ARRAYSIZE(resp->modified)];
    SYSTEMTIME st;
    size_t i;

    if (!resp->modified[0]) return;
    for (i = 0; resp->modified[i]; i++) text[i] = (unsigned char)resp->modified[i];
    text[i] = 0;
    if (!WinHttpTimeToSystemTime(text, &st) || !SystemTimeToFileTime(&st, time))
        WARN("bad Last-Modified %s\n", resp->modified);
}

static void url_free(struct url *url)
{
    free(url->host);
    free(url->path);
}

/* Takes an http:// or https:// URL apart (RFC 3986 §3); user information is ignored. */
static HRESULT url_parse(const WCHAR *text, struct url *url)
{
    const WCHAR *p, *auth_end, *host, *host_end, *port = NULL, *path_end;
    unsigned long number = 0;
    size_t len;

    memset(url, 0, sizeof(*url));
    if (!_wcsnicmp(text, L"http://", 7)) p = text + 7;
    else if (!_wcsnicmp(text, L"https://", 8))
    {
        p = text + 8;
        url->secure = TRUE;
    }
    else return HRESULT_FROM_WIN32(ERROR_WINHTTP_UNRECOGNIZED_SCHEME);
    auth_end = p + wcscspn(p, L"/?#");
    for (host = auth_end; host > p && host[-1] != '@'; host--);
    if (*host == '[')
    {
        host_end = wmemchr(host, ']', auth_end - host);
        if (!host_end) return HRESULT_FROM_WIN32(ERROR_WINHTTP_INVALID_URL);
        if (host_end + 1 < auth_end)
        {
            if (host_end[1] != ':') return HRESULT_FROM_WIN32(ERROR_WINHTTP_INVALID_URL);
            port = host_end + 2;
        }
        host++;
        url->ipv6 = TRUE;
    }
    else
    {
        host_end = wmemchr(host, ':', auth_end - host);
        if (host_end) port = host_end + 1;
        else host_end = auth_end;
    }
    if (host_end == host) return HRESULT_FROM_WIN32(ERROR_WINHTTP_INVALID_URL);
    if (port && port < auth_end)
    {
        for (; port < auth_end; port++)
        {
            if (*port < '0' || *port > '9' || (number = number * 10 + (*port - '0')) > 65535)
                return HRESULT_FROM_WIN32(ERROR_WINHTTP_INVALID_URL);
        }
        if (!number) return HRESULT_FROM_WIN32(ERROR_WINHTTP_INVALID_URL);
    }
    url->port = number ? (INTERNET_PORT)number : url->secure ? 443 : 80;

    len = host_end - host;
    path_end = auth_end + wcscspn(auth_end, L"#");
    url->host = malloc((len + 1) * sizeof(WCHAR));
    url->path = malloc((path_end - auth_end + 2) * sizeof(WCHAR));
    if (!url->host || !url->path)
    {
        url_free(url);
        return E_OUTOFMEMORY;
    }
    memcpy(url->host, host, len * sizeof(WCHAR));
    url->host[len] = 0;
    len = 0;
    if (*auth_end != '/') url->path[len++] = '/';
    memcpy(url->path + len, auth_end, (path_end - auth_end) * sizeof(WCHAR));
    url->path[len + (path_end - auth_end)] = 0;
    return S_OK;
}

/* The absolute URL a Location header points to, relative to base (RFC 3986 §5.2, without
 * removing dot segments, which servers resolve).  NULL when out of memory. */
static WCHAR *url_resolve(const WCHAR *base, const char *location)
{
    const WCHAR *auth, *path, *keep_end;
    WCHAR *loc, *result;
    size_t keep, len;
    int size;

    size = MultiByteToWideChar(CP_UTF8, 0, location, -1, NULL, 0);
    if (size <= 0) size = MultiByteToWideChar(CP_ACP, 0, location, -1, NULL, 0);
    if (size <= 0 || !(loc = malloc(size * sizeof(WCHAR)))) return NULL;
    if (!MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, location, -1, loc, size))
        MultiByteToWideChar(CP_ACP, 0, location, -1, loc, size);

    len = wcsspn(loc, L"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.");
    if (len && loc[len] == ':' && iswalpha(loc[0])) return loc;

    auth = wcsstr(base, L"://") + 3;
    path = auth + wcscspn(auth, L"/?#");
    if (loc[0] == '/' && loc[1] == '/') keep_end = auth - 2;          /* "scheme:" */
    else if (loc[0] == '/') keep_end = path;
    else if (loc[0] == '?') keep_end = path + wcscspn(path, L"?#");
    else if (!loc[0] || loc[0] == '#') keep_end = path + wcscspn(path, L"#");
    else
    {
        const WCHAR *query = path + wcscspn(path, L"?#");

        for (keep_end = query; keep_end > path && keep_end[-1] != '/'; keep_end--);
    }
    keep = keep_end - base;
    len = wcslen(loc);
    result = malloc((keep + len + 2) * sizeof(WCHAR));
    if (result)
    {
        memcpy(result, base, keep * sizeof(WCHAR));
        if (keep_end == path && loc[0] && loc[0] != '/' && loc[0] != '?' && loc[0] != '#')
            result[keep++] = '/';
        memcpy(result + keep, loc, (len + 1) * sizeof(WCHAR));
    }
    free(loc);
    return result;
}

/* Wine 8's WinHTTP reports some socket failures with their Winsock code (WSAETIMEDOUT for a
 * receive timeout); our client meets the same codes.  Both get their WinHTTP meaning. */
static DWORD socket_error_to_winhttp(DWORD error, DWORD fallback)
{
    switch (error)
    {
    case WSAETIMEDOUT:
        return ERROR_WINHTTP_TIMEOUT;
    case WSAECONNREFUSED:
    case WSAENETUNREACH:
    case WSAEHOSTUNREACH:
    case WSAENETDOWN:
    case WSAEADDRNOTAVAIL:
        return ERROR_WINHTTP_CANNOT_CONNECT;
    case WSAHOST_NOT_FOUND:
    case WSANO_DATA:
    case WSATRY_AGAIN:
    case WSANO_RECOVERY:
        return ERROR_WINHTTP_NAME_NOT_RESOLVED;
    case WSAECONNRESET:
    case WSAECONNABORTED:
    case WSAESHUTDOWN:
    case WSAENETRESET:
    case WSAENOTCONN:
        return ERROR_WINHTTP_CONNECTION_ERROR;
    }
    return fallback;
}

static void helper_release(struct helper *helper)
{
    if (InterlockedDecrement(&helper->refcount)) return;
    CloseHandle(helper->start);
    CloseHandle(helper->done);
    free(helper->body);
    free(helper->buffer);
    free(helper->name);
    free(helper->script);
    if (helper->addrs) FreeAddrInfoW(helper->addrs);
    if (helper->proxy.lpszProxy) GlobalFree(helper->proxy.lpszProxy);
    if (helper->proxy.lpszProxyBypass) GlobalFree(helper->proxy.lpszProxyBypass);
    free(helper);
}

/* Between calls only, or on the helper's own thread. */
static void helper_close_request(struct helper *helper)
{
    if (helper->request) WinHttpCloseHandle(helper->request);
    if (helper->connect) WinHttpCloseHandle(helper->connect);
    helper->request = helper->connect = NULL;
}

static DWORD WINAPI helper_thread(void *arg)
{
    struct helper *helper = arg;
    HMODULE module = helper->module;

    while (WaitForSingleObject(helper->start, INFINITE) == WAIT_OBJECT_0 && !helper->quit)
    {
        helper->call(helper);
        SetEvent(helper->done);
    }
    helper_close_request(helper);
    if (helper->session) WinHttpCloseHandle(helper->session);
    helper_release(helper);
    FreeLibraryAndExitThread(module, 0);
}

static HRESULT helper_create(struct http_conn *conn)
{
    struct helper *helper = calloc(1, sizeof(*helper));
    HANDLE thread;
    HRESULT hr;

    if (!helper) return E_OUTOFMEMORY;
    helper->refcount = 1;
    helper->start = CreateEventW(NULL, FALSE, FALSE, NULL);
    helper->done = CreateEventW(NULL, FALSE, FALSE, NULL);
    if (!helper->start || !helper->done
            || !GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS,
                                   (const WCHAR *)helper_thread, &helper->module))
    {
        hr = HRESULT_FROM_WIN32(GetLastError());
        if (helper->start) CloseHandle(helper->start);
        if (helper->done) CloseHandle(helper->done);
        free(helper);
        return hr;
    }
    helper->refcount = 2;
    thread = CreateThread(NULL, 0, helper_thread, helper, 0, NULL);
    if (!thread)
    {
        hr = HRESULT_FROM_WIN32(GetLastError());
        FreeLibrary(helper->module);
        helper->refcount = 1;
        helper_release(helper);
        return hr;
    }
    CloseHandle(thread);
    conn->helper = helper;
    conn->session_set = FALSE;
    return S_OK;
}

/* Lets the helper go: it ends after its current call, if any, and frees everything. */
static void helper_abandon(struct http_conn *conn)
{
    struct helper *helper = conn->helper;

    conn->helper = NULL;
    InterlockedExchange(&helper->quit, TRUE);
    SetEvent(helper->start);
    helper_release(helper);
}

/* Runs call on the helper thread and waits for it; E_ABORT when the transfer is aborted
 * meanwhile, and then the helper is abandoned with the call. */
static HRESULT helper_run(struct http_conn *conn, void (*call)(struct helper *helper))
{
    struct helper *helper = conn->helper;
    DWORD ret;

    helper->call = call;
    InterlockedExchange(&helper->flush, FALSE);
    SetEvent(helper->start);
    while ((ret = WaitForSingleObject(helper->done, HTTP_POLL_MS)) == WAIT_TIMEOUT)
    {
        if (conn->transfer->abort)
        {
            TRACE("abandoning a blocked call\n");
            helper_abandon(conn);
            return E_ABORT;
        }
        InterlockedExchange(&helper->flush, TRUE);
    }
    if (ret == WAIT_OBJECT_0) return S_OK;
    ret = GetLastError();
    ERR("waiting for the helper failed, error %lu\n", ret);
    helper_abandon(conn);
    return HRESULT_FROM_WIN32(ret);
}

/* With its own Winsock reference: an abandoned lookup may outlive the download's. */
static void call_lookup(struct helper *helper)
{
    ADDRINFOW hints;
    WSADATA data;

    if ((helper->error = WSAStartup(MAKEWORD(2, 2), &data))) return;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    helper->error = GetAddrInfoW(helper->name, helper->service, &hints, &helper->addrs);
    WSACleanup();
}

static void call_send(struct helper *helper)
{
    helper->ok = WinHttpSendRequest(helper->request, WINHTTP_NO_ADDITIONAL_HEADERS, 0,
                                    helper->body, helper->body_size, helper->body_size, 0)
                 && WinHttpReceiveResponse(helper->request, NULL);
    helper->error = helper->ok ? 0 : GetLastError();
}

/* Fills the buffer, or returns earlier at the end of the body or when asked to flush.  An
 * error after some bytes keeps them (count) with ok FALSE. */
static void call_read(struct helper *helper)
{
    DWORD avail, got;

    helper->count = 0;
    helper->ok = TRUE;
    helper->error = 0;
    while (helper->count < HTTP_BUFFER_SIZE)
    {
        if (!WinHttpQueryDataAvailable(helper->request, &avail)) goto failed;
        if (!avail) break;
        avail = min(avail, HTTP_BUFFER_SIZE - helper->count);
        if (!WinHttpReadData(helper->request, helper->buffer + helper->count, avail, &got))
            goto failed;
        if (!got) break;
        helper->count += got;
        if (helper->flush || helper->quit) break;
    }
    return;

failed:
    helper->ok = FALSE;
    helper->error = GetLastError();
}

static void call_autoproxy(struct helper *helper)
{
    helper->ok = WinHttpGetProxyForUrl(helper->session, helper->name, &helper->autoproxy,
                                       &helper->proxy);
    helper->error = helper->ok ? 0 : GetLastError();
}

static BOOL same_string(const WCHAR *a, const WCHAR *b)
{
    return a == b || (a && b && !wcscmp(a, b));
}

/* The helper with a WinHTTP session; with proxy, one that goes through conn->proxy.  Wine 8
 * ignores WINHTTP_OPTION_PROXY on a request (a FIXME), so the session carries the proxy, and
 * changes with it. */
static HRESULT winhttp_session(struct http_conn *conn, BOOL proxy)
{
    struct helper *helper;
    HRESULT hr;

    if (!conn->helper && FAILED(hr = helper_create(conn))) return hr;
    helper = conn->helper;
    if (helper->session && (!proxy || (conn->session_set
                                       && same_string(conn->session_proxy, conn->proxy)
                                       && same_string(conn->session_bypass, conn->proxy_bypass))))
        return S_OK;
    helper_close_request(helper);
    if (helper->session) WinHttpCloseHandle(helper->session);
    free(conn->session_proxy);
    free(conn->session_bypass);
    conn->session_proxy = conn->session_bypass = NULL;
    conn->session_set = FALSE;
    if (proxy && conn->proxy)
        helper->session = WinHttpOpen(user_agent, WINHTTP_ACCESS_TYPE_NAMED_PROXY, conn->proxy,
                                      conn->proxy_bypass ? conn->proxy_bypass
                                                         : WINHTTP_NO_PROXY_BYPASS, 0);
    else helper->session = WinHttpOpen(user_agent, WINHTTP_ACCESS_TYPE_NO_PROXY,
                                       WINHTTP_NO_PROXY_NAME, WINHTTP_NO_PROXY_BYPASS, 0);
    if (!helper->session) return HRESULT_FROM_WIN32(GetLastError());
    if (!proxy) return S_OK;
    if ((conn->proxy && !(conn->session_proxy = _wcsdup(conn->proxy)))
            || (conn->proxy_bypass && !(conn->session_bypass = _wcsdup(conn->proxy_bypass))))
        return E_OUTOFMEMORY;
    conn->session_set = TRUE;
    return S_OK;
}

static HRESULT proxy_set(struct http_conn *conn, const WCHAR *proxy, const WCHAR *bypass)
{
    WCHAR *p;

    if (!proxy || !proxy[0]) return S_OK;
    if (!(conn->proxy = _wcsdup(proxy))) return E_OUTOFMEMORY;
    /* wire-and-tools.md §1.10: lists are space-delimited, and bitsadmin takes commas too. */
    for (p = conn->proxy; *p; p++) if (*p == ',') *p = ' ';
    if (bypass && bypass[0] && !(conn->proxy_bypass = _wcsdup(bypass))) return E_OUTOFMEMORY;
    return S_OK;
}

/* WPAD or a configuration script for conn->url; S_FALSE when it gives nothing. */
static HRESULT proxy_auto(struct http_conn *conn, DWORD flags, const WCHAR *script)
{
    struct helper *helper;
    HRESULT hr;

    hr = winhttp_session(conn, FALSE);
    if (FAILED(hr)) return hr;
    helper = conn->helper;
    free(helper->name);
    free(helper->script);
    helper->script = NULL;
    if (!(helper->name = _wcsdup(conn->url)) || (script && !(helper->script = _wcsdup(script))))
        return E_OUTOFMEMORY;
    memset(&helper->autoproxy, 0, sizeof(helper->autoproxy));
    helper->autoproxy.dwFlags = flags;
    helper->autoproxy.dwAutoDetectFlags = WINHTTP_AUTO_DETECT_TYPE_DHCP
                                          | WINHTTP_AUTO_DETECT_TYPE_DNS_A;
    helper->autoproxy.lpszAutoConfigUrl = helper->script;
    helper->autoproxy.fAutoLogonIfChallenged = TRUE;
    hr = helper_run(conn, call_autoproxy);
    if (FAILED(hr)) return hr;
    if (!helper->ok)
    {
        TRACE("no automatic proxy, error %lu\n", helper->error);
        return S_FALSE;
    }
    if (helper->proxy.dwAccessType == WINHTTP_ACCESS_TYPE_NAMED_PROXY)
        hr = proxy_set(conn, helper->proxy.lpszProxy, helper->proxy.lpszProxyBypass);
    if (helper->proxy.lpszProxy) GlobalFree(helper->proxy.lpszProxy);
    if (helper->proxy.lpszProxyBypass) GlobalFree(helper->proxy.lpszProxyBypass);
    memset(&helper->proxy, 0, sizeof(helper->proxy));
    return hr;
}

/* BG_JOB_PROXY_USAGE_PRECONFIG: the user's settings (automatic ones first, then the named
 * proxy), else WinHTTP's own default configuration. */
static HRESULT proxy_preconfig(struct http_conn *conn)
{
    WINHTTP_CURRENT_USER_IE_PROXY_CONFIG ie;
    WINHTTP_PROXY_INFO info;
    HRESULT hr = S_FALSE;

    memset(&ie, 0, sizeof(ie));
    if (WinHttpGetIEProxyConfigForCurrentUser(&ie))
    {
        if (ie.fAutoDetect || ie.lpszAutoConfigUrl)
            hr = proxy_auto(conn, (ie.fAutoDetect ? WINHTTP_AUTOPROXY_AUTO_DETECT : 0)
                            | (ie.lpszAutoConfigUrl ? WINHTTP_AUTOPROXY_CONFIG_URL : 0),
                            ie.lpszAutoConfigUrl);
        if (hr == S_FALSE && ie.lpszProxy) hr = proxy_set(conn, ie.lpszProxy, ie.lpszProxyBypass);
        if (ie.lpszAutoConfigUrl) GlobalFree(ie.lpszAutoConfigUrl);
        if (ie.lpszProxy) GlobalFree(ie.lpszProxy);
        if (ie.lpszProxyBypass) GlobalFree(ie.lpszProxyBypass);
    }
    if (hr != S_FALSE) return hr;
    memset(&info, 0, sizeof(info));
    if (!WinHttpGetDefaultProxyConfiguration(&info)) return S_OK;
    if (info.dwAccessType == WINHTTP_ACCESS_TYPE_NAMED_PROXY)
        hr = proxy_set(conn, info.lpszProxy, info.lpszProxyBypass);
    if (info.lpszProxy) GlobalFree(info.lpszProxy);
    if (info.lpszProxyBypass) GlobalFree(info.lpszProxyBypass);
    return hr;
}

/* wire-and-tools.md §1.10: the proxy for url under the job's proxy usage, in conn->proxy (NULL for
 * a direct connection), found once per scheme, host and port.  Records a failure. */
static HRESULT http_find_proxy(struct http_conn *conn, const struct url *url)
{
    struct transfer *transfer = conn->transfer;
    size_t len = wcslen(url->host) + 16;
    WCHAR *key = malloc(len * sizeof(WCHAR));
    HRESULT hr = S_OK;

    if (!key)
        return transfer_fail(transfer, E_OUTOFMEMORY, BG_ERROR_CONTEXT_GENERAL_TRANSPORT, TRUE);
    swprintf(key, len, L"%ls://%ls:%u", url->secure ? L"https" : L"http", url->host, url->port);
    if (conn->proxy_key && !wcscmp(conn->proxy_key, key))
    {
        free(key);
        return S_OK;
    }
    free(conn->proxy_key);
    free(conn->proxy);
    free(conn->proxy_bypass);
    conn->proxy_key = key;
    conn->proxy = conn->proxy_bypass = NULL;

    switch (transfer->proxy_usage)
    {
    case BG_JOB_PROXY_USAGE_NO_PROXY:
        break;
    case BG_JOB_PROXY_USAGE_OVERRIDE:
        hr = proxy_set(conn, transfer->proxy_list, transfer->proxy_bypass_list);
        break;
    case BG_JOB_PROXY_USAGE_AUTODETECT:
        hr = proxy_auto(conn, WINHTTP_AUTOPROXY_AUTO_DETECT, NULL);
        break;
    default:
        hr = proxy_preconfig(conn);
        break;
    }
    if (hr == E_ABORT) return transfer_fail(transfer, hr, BG_ERROR_CONTEXT_NONE, FALSE);
    if (FAILED(hr))
    {
        /* Forgotten, so that a later request does not take the half-found settings. */
        WARN("no proxy settings for %s, hr %#lx\n", debugstr_w(key), hr);
        free(conn->proxy_key);
        conn->proxy_key = NULL;
        return transfer_fail(transfer, hr, BG_ERROR_CONTEXT_GENERAL_TRANSPORT, TRUE);
    }
    TRACE("%s: proxy %s, bypass %s\n", debugstr_w(key), debugstr_w(conn->proxy),
          debugstr_w(conn->proxy_bypass));
    return S_OK;
}

static void sock_close(struct http_conn *conn)
{
    struct sock *sock = &conn->sock;

    if (sock->socket != INVALID_SOCKET) closesocket(sock->socket);
    sock->socket = INVALID_SOCKET;
    free(sock->host);
    sock->host = NULL;
    sock->in_start = sock->in_end = 0;
    sock->keep = FALSE;
}

/* Waits up to HTTP_POLL_MS for the socket to be readable (or writable); S_FALSE on timeout. */
static HRESULT sock_wait(struct http_conn *conn, BOOL write)
{
    struct timeval timeout = { 0, HTTP_POLL_MS * 1000 };
    fd_set set, errors;
    int ret;

    if (conn->transfer->abort) return E_ABORT;
    FD_ZERO(&set);
    FD_SET(conn->sock.socket, &set);
    FD_ZERO(&errors);
    FD_SET(conn->sock.socket, &errors);
    ret = select(0, write ? NULL : &set, write ? &set : NULL, &errors, &timeout);
    if (conn->transfer->abort) return E_ABORT;
    if (ret == SOCKET_ERROR)
        return HRESULT_FROM_WIN32(socket_error_to_winhttp(WSAGetLastError(),
                                                          ERROR_WINHTTP_CONNECTION_ERROR));
    return ret ? S_OK : S_FALSE;
}

/* Receives at most len bytes: S_OK with *got > 0, or with *got 0 when nothing came and wait is
 * FALSE; S_FALSE at the end of the stream. */
static HRESULT sock_recv(struct http_conn *conn, char *dst, DWORD len, BOOL wait, DWORD *got)
{
    unsigned int idle = 0;
    HRESULT hr;
    int ret;

    *got = 0;
    for (;;)
    {
        ret = recv(conn->sock.socket, dst, (int)min(len, 0x40000000), 0);
        if (ret > 0)
        {
            *got = ret;
            return S_OK;
        }
        if (!ret) return S_FALSE;
        ret = WSAGetLastError();
        if (ret != WSAEWOULDBLOCK)
            return HRESULT_FROM_WIN32(socket_error_to_winhttp(ret, ERROR_WINHTTP_CONNECTION_ERROR));
        if (!wait) return S_OK;
        hr = sock_wait(conn, FALSE);
        if (FAILED(hr)) return hr;
        if (hr == S_FALSE && ++idle >= HTTP_RECEIVE_POLLS)
        {
            WARN("no data for %u ms\n", HTTP_RECEIVE_POLLS * HTTP_POLL_MS);
            return HRESULT_FROM_WIN32(ERROR_WINHTTP_TIMEOUT);
        }
    }
}

/* Reads more into the read-ahead buffer, waiting; S_FALSE at the end of the stream. */
static HRESULT sock_fill(struct http_conn *conn)
{
    struct sock *sock = &conn->sock;
    DWORD got;
    HRESULT hr;

    if (sock->in_start == sock->in_end) sock->in_start = sock->in_end = 0;
    else if (sock->in_start && sock->in_end >= HTTP_HEAD_MAX - 1)
    {
        memmove(sock->in, sock->in + sock->in_start, sock->in_end - sock->in_start);
        sock->in_end -= sock->in_start;
        sock->in_start = 0;
    }
    if (sock->in_end >= HTTP_HEAD_MAX - 1)
    {
        WARN("response head or chunk line too long\n");
        return HRESULT_FROM_WIN32(ERROR_WINHTTP_INVALID_SERVER_RESPONSE);
    }
    /* One byte stays free for the terminator of a head. */
    hr = sock_recv(conn, sock->in + sock->in_end, HTTP_HEAD_MAX - 1 - sock->in_end, TRUE, &got);
    if (hr == S_OK) sock->in_end += got;
    return hr;
}

/* The next line of the read-ahead buffer, NUL-terminated without its CRLF.  With wait FALSE,
 * *line is NULL when no whole line is there yet. */
static HRESULT sock_line(struct http_conn *conn, BOOL wait, char **line)
{
    struct sock *sock = &conn->sock;
    char *start, *nl;
    HRESULT hr;

    for (;;)
    {
        start = sock->in + sock->in_start;
        if ((nl = memchr(start, '\n', sock->in_end - sock->in_start)))
        {
            *nl = 0;
            if (nl > start && nl[-1] == '\r') nl[-1] = 0;
            sock->in_start = nl + 1 - sock->in;
            *line = start;
            return S_OK;
        }
        *line = NULL;
        if (!wait) return S_OK;
        hr = sock_fill(conn);
        if (hr == S_FALSE) return HRESULT_FROM_WIN32(ERROR_WINHTTP_CONNECTION_ERROR);
        if (FAILED(hr)) return hr;
    }
}

/* Connects non-blocking to one address, polling for the abort flag. */
static HRESULT sock_connect_to(struct http_conn *conn, const ADDRINFOW *ai, DWORD *error)
{
    SOCKET s = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    unsigned int polls = 0;
    u_long nonblocking = 1;
    int one = 1, len;
    HRESULT hr;

    if (s == INVALID_SOCKET)
    {
        *error = WSAGetLastError();
        return S_FALSE;
    }
    conn->sock.socket = s;
    if (ioctlsocket(s, FIONBIO, &nonblocking))
    {
        *error = WSAGetLastError();
        return S_FALSE;
    }
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, (const char *)&one, sizeof(one));
    if (!connect(s, ai->ai_addr, (int)ai->ai_addrlen)) return S_OK;
    if ((*error = WSAGetLastError()) != WSAEWOULDBLOCK) return S_FALSE;
    while ((hr = sock_wait(conn, TRUE)) == S_FALSE)
    {
        if (++polls >= HTTP_CONNECT_POLLS)
        {
            *error = WSAETIMEDOUT;
            return S_FALSE;
        }
    }
    if (FAILED(hr)) return hr;
    len = sizeof(one);
    if (getsockopt(s, SOL_SOCKET, SO_ERROR, (char *)&one, &len)) one = WSAGetLastError();
    *error = one;
    return one ? S_FALSE : S_OK;
}

/* Connects to the server of url unless the kept connection goes there: S_FALSE then. */
static HRESULT sock_connect(struct http_conn *conn, const struct url *url)
{
    struct sock *sock = &conn->sock;
    ADDRINFOW hints, *addrs = NULL, *ai;
    DWORD error = WSAEHOSTUNREACH;
    WCHAR service[8];
    WSADATA data;
    HRESULT hr = S_FALSE;

    if (sock->socket != INVALID_SOCKET && sock->keep && sock->done && sock->port == url->port
            && !_wcsicmp(sock->host, url->host))
        return S_FALSE;
    sock_close(conn);
    if (!conn->wsa)
    {
        if ((error = WSAStartup(MAKEWORD(2, 2), &data))) return HRESULT_FROM_WIN32(error);
        conn->wsa = TRUE;
    }
    if (!sock->in && !(sock->in = malloc(HTTP_HEAD_MAX))) return E_OUTOFMEMORY;
    if (!(sock->host = _wcsdup(url->host))) return E_OUTOFMEMORY;
    sock->port = url->port;

    swprintf(service, ARRAYSIZE(service), L"%u", url->port);
    memset(&hints, 0, sizeof(hints));
    hints.ai_flags = AI_NUMERICHOST;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    if (GetAddrInfoW(url->host, service, &hints, &addrs))
    {
        /* A name: its lookup may block for long, so the helper makes it. */
        if (!conn->helper && FAILED(hr = helper_create(conn))) return hr;
        free(conn->helper->name);
        if (!(conn->helper->name = _wcsdup(url->host))) return E_OUTOFMEMORY;
        wcscpy(conn->helper->service, service);
        hr = helper_run(conn, call_lookup);
        if (FAILED(hr)) return hr;
        if (conn->helper->error)
        {
            WARN("cannot resolve %s, error %lu\n", debugstr_w(url->host), conn->helper->error);
            return HRESULT_FROM_WIN32(socket_error_to_winhttp(conn->helper->error,
                                                              ERROR_WINHTTP_NAME_NOT_RESOLVED));
        }
        addrs = conn->helper->addrs;
        conn->helper->addrs = NULL;
    }
    for (ai = addrs; ai; ai = ai->ai_next)
    {
        hr = sock_connect_to(conn, ai, &error);
        if (hr != S_FALSE) break;
        closesocket(sock->socket);
        sock->socket = INVALID_SOCKET;
    }
    FreeAddrInfoW(addrs);
    if (hr == S_FALSE)
    {
        WARN("cannot connect to %s:%u, error %lu\n", debugstr_w(url->host), url->port, error);
        hr = HRESULT_FROM_WIN32(error == WSAETIMEDOUT ? ERROR_WINHTTP_TIMEOUT
                                : ERROR_WINHTTP_CANNOT_CONNECT);
    }
    return hr;
}

static HRESULT sock_send(struct http_conn *conn, const char *data, size_t len)
{
    unsigned int idle = 0;
    HRESULT hr;
    int ret;

    while (len)
    {
        ret = send(conn->sock.socket, data, (int)min(len, 0x40000000), 0);
        if (ret > 0)
        {
            data += ret;
            len -= ret;
            idle = 0;
            continue;
        }
        if ((ret = WSAGetLastError()) != WSAEWOULDBLOCK)
            return HRESULT_FROM_WIN32(socket_error_to_winhttp(ret, ERROR_WINHTTP_CONNECTION_ERROR));
        if (FAILED(hr = sock_wait(conn, TRUE))) return hr;
        if (hr == S_FALSE && ++idle >= HTTP_RECEIVE_POLLS)
            return HRESULT_FROM_WIN32(ERROR_WINHTTP_TIMEOUT);
    }
    return S_OK;
}

/* A growing request text. */
struct text
{
    char *data;
    size_t len;
    size_t size;
    BOOL failed;
};

static void text_add(struct text *text, const char *data, size_t len)
{
    char *grown;

    if (text->failed) return;
    if (text->len + len + 1 > text->size)
    {
        size_t size = max(text->size * 2, text->len + len + 256);

        if (!(grown = realloc(text->data, size)))
        {
            text->failed = TRUE;
            return;
        }
        text->data = grown;
        text->size = size;
    }
    memcpy(text->data + text->len, data, len);
    text->len += len;
    text->data[text->len] = 0;
}

static void text_add_a(struct text *text, const char *str)
{
    text_add(text, str, strlen(str));
}

/* Appends UTF-8; with escape, bytes a request line cannot carry become %XX. */
static void text_add_w(struct text *text, const WCHAR *str, size_t len, BOOL escape)
{
    static const char hex[] = "0123456789ABCDEF";
    char *utf8;
    int size, i;

    if (!len) return;
    size = WideCharToMultiByte(CP_UTF8, 0, str, (int)len, NULL, 0, NULL, NULL);
    if (size <= 0 || !(utf8 = malloc(size)))
    {
        text->failed = TRUE;
        return;
    }
    WideCharToMultiByte(CP_UTF8, 0, str, (int)len, utf8, size, NULL, NULL);
    if (!escape) text_add(text, utf8, size);
    else for (i = 0; i < size; i++)
    {
        unsigned char c = utf8[i];

        if (c <= ' ' || c >= 0x7f || strchr("\"<>\\^`{|}", c))
        {
            char esc[3] = { '%', hex[c >> 4], hex[c & 15] };
            text_add(text, esc, 3);
        }
        else text_add(text, (const char *)&c, 1);
    }
    free(utf8);
}

/* Appends CRLF-separated header lines; lines that are no "name: value" are left out. */
static void text_add_headers(struct text *text, const WCHAR *headers)
{
    const WCHAR *line = headers, *end, *colon;
    size_t len;

    while (line && *line)
    {
        end = line + wcscspn(line, L"\r\n");
        len = end - line;
        colon = wmemchr(line, ':', len);
        if (colon && colon > line)
        {
            text_add_w(text, line, len, FALSE);
            text_add_a(text, "\r\n");
        }
        else if (len) WARN("leaving out header line %s\n", debugstr_wn(line, (int)len));
        line = end + wcsspn(end, L"\r\n");
    }
}

/* Finds the end of a head: the byte after its empty line, or NULL. */
static char *find_head_end(char *start, char *end)
{
    char *p, *q;

    for (p = start; p < end; p++)
    {
        if (*p != '\n') continue;
        q = p + 1;
        if (q < end && *q == '\r') q++;
        if (q < end && *q == '\n') return q + 1;
    }
    return NULL;
}

/* Reads the head of the response to a request (1xx answers skipped) and sets up reading its
 * body.  *nothing tells that the connection closed before a byte came, as a kept connection
 * the server closed meanwhile does. */
static HRESULT sock_read_head(struct http_conn *conn, BOOL head_request, struct http_response *resp,
                              BOOL *nothing)
{
    struct sock *sock = &conn->sock;
    char *start, *end;
    HRESULT hr;

    *nothing = TRUE;
    for (;;)
    {
        while (sock->in_start < sock->in_end
               && (sock->in[sock->in_start] == '\r' || sock->in[sock->in_start] == '\n'))
            sock->in_start++;
        start = sock->in + sock->in_start;
        if (!(end = find_head_end(start, sock->in + sock->in_end)))
        {
            hr = sock_fill(conn);
            if (hr == S_FALSE) hr = HRESULT_FROM_WIN32(ERROR_WINHTTP_CONNECTION_ERROR);
            if (FAILED(hr)) return hr;
            *nothing = FALSE;
            continue;
        }
        *nothing = FALSE;
        keep_response_headers(conn, widen_head(start, end - start));
        end[-1] = 0;
        sock->in_start = end - sock->in;
        http_response_clear(resp);
        if (!parse_head(start, resp))
        {
            WARN("not an HTTP/1.x response\n");
            return HRESULT_FROM_WIN32(ERROR_WINHTTP_INVALID_SERVER_RESPONSE);
        }
        if (resp->status >= 200 || resp->status == 101) break;
    }
    sock->keep = resp->minor >= 1 ? !resp->close : resp->keep_alive && !resp->close;
    sock->done = FALSE;
    if (head_request || resp->status < 200 || resp->status == 204 || resp->status == 304)
    {
        sock->body = BODY_NONE;
        sock->done = TRUE;
    }
    else if (resp->chunked)
    {
        sock->body = BODY_CHUNKED;
        sock->chunk = CHUNK_SIZE;
        sock->left = 0;
    }
    else if (resp->length != BG_SIZE_UNKNOWN)
    {
        sock->body = BODY_LENGTH;
        sock->left = resp->length;
        sock->done = !resp->length;
    }
    else
    {
        sock->body = BODY_CLOSE;
        sock->keep = FALSE;
    }
    return S_OK;
}

/* Sends a request, with a body unless body is NULL, and reads the head of the answer.  The
 * answer is read even after the body could not be sent whole: a server may answer a request
 * before it read the body (a 413) and close the connection. */
static HRESULT sock_request(struct http_conn *conn, const WCHAR *method, const struct url *url,
                            const WCHAR *headers, const void *body, DWORD size,
                            struct http_response *resp)
{
    struct text text = { 0 };
    BOOL nothing, reused;
    unsigned int attempt;
    char number[16];
    HRESULT hr, sent;

    text_add_w(&text, method, wcslen(method), FALSE);
    text_add_a(&text, " ");
    text_add_w(&text, url->path, wcslen(url->path), TRUE);
    text_add_a(&text, " HTTP/1.1\r\nHost: ");
    if (url->ipv6) text_add_a(&text, "[");
    text_add_w(&text, url->host, wcslen(url->host), FALSE);
    if (url->ipv6) text_add_a(&text, "]");
    if (url->port != 80)
    {
        sprintf(number, ":%u", url->port);
        text_add_a(&text, number);
    }
    text_add_a(&text, "\r\nUser-Agent: ");
    text_add_w(&text, user_agent, wcslen(user_agent), FALSE);
    text_add_a(&text, "\r\nAccept: */*\r\nConnection: Keep-Alive\r\n");
    if (body)
    {
        sprintf(number, "%lu", size);
        text_add_a(&text, "Content-Length: ");
        text_add_a(&text, number);
        text_add_a(&text, "\r\n");
    }
    text_add_headers(&text, headers);
    text_add_headers(&text, conn->transfer->custom_headers);
    text_add_a(&text, "\r\n");
    if (text.failed)
    {
        free(text.data);
        return E_OUTOFMEMORY;
    }

    for (attempt = 0;; attempt++)
    {
        hr = sock_connect(conn, url);
        if (FAILED(hr)) break;
        reused = hr == S_FALSE;
        sent = sock_send(conn, text.data, text.len);
        if (SUCCEEDED(sent) && size) sent = sock_send(conn, body, size);
        nothing = TRUE;
        /* Only a connection the server closed may hold an answer; a timeout holds none. */
        if (SUCCEEDED(sent) || sent == HRESULT_FROM_WIN32(ERROR_WINHTTP_CONNECTION_ERROR))
        {
            hr = sock_read_head(conn, !wcscmp(method, L"HEAD"), resp, &nothing);
            if (FAILED(sent) && SUCCEEDED(hr))
            {
                WARN("answered before the request was sent whole\n");
                conn->sock.keep = FALSE;
            }
            else if (FAILED(sent) && hr != E_ABORT) hr = sent;
        }
        else hr = sent;
        if (SUCCEEDED(hr) || hr == E_ABORT || !reused || !nothing || attempt) break;
        TRACE("the kept connection was closed, opening another\n");
        sock_close(conn);
    }
    free(text.data);
    if (FAILED(hr)) sock_close(conn);
    return hr;
}

/* BODY_CHUNKED: the CRLF after a chunk's data, the next chunk's size line, or the trailer.
 * S_FALSE when the line is not there yet and wait is FALSE. */
static HRESULT sock_chunk_head(struct http_conn *conn, BOOL wait)
{
    struct sock *sock = &conn->sock;
    const char *p;
    UINT64 size = 0;
    char *line;
    HRESULT hr;
    int digit;

    hr = sock_line(conn, wait, &line);
    if (FAILED(hr)) return hr;
    if (!line) return S_FALSE;
    switch (sock->chunk)
    {
    case CHUNK_CRLF:
        if (*line) break;
        sock->chunk = CHUNK_SIZE;
        return S_OK;
    case CHUNK_TRAILER:
        if (!*line) sock->done = TRUE;
        return S_OK;
    default:
        for (p = line; isxdigit((unsigned char)*p); p++)
        {
            digit = *p <= '9' ? *p - '0' : (*p | 0x20) - 'a' + 10;
            if (size >> 60) break;
            size = size * 16 + digit;
        }
        if (p == line || (*p && *p != ';' && *p != ' ' && *p != '\t')) break;
        sock->left = size;
        sock->chunk = size ? CHUNK_DATA : CHUNK_TRAILER;
        return S_OK;
    }
    WARN("bad chunk framing\n");
    return HRESULT_FROM_WIN32(ERROR_WINHTTP_INVALID_SERVER_RESPONSE);
}

/* Reads body bytes into buffer, at most size, waiting only for the first ones: what a slow
 * server sends gets written and counted as it comes.  *got 0: the body is over.  A failure after
 * some bytes waits in conn->pending. */
static HRESULT sock_read_body(struct http_conn *conn, BYTE *buffer, DWORD size, DWORD *got)
{
    struct sock *sock = &conn->sock;
    DWORD total = 0, n;
    UINT64 want;
    HRESULT hr = S_OK;

    while (total < size && !sock->done)
    {
        if (sock->body == BODY_CHUNKED && sock->chunk != CHUNK_DATA)
        {
            hr = sock_chunk_head(conn, !total);
            if (hr != S_OK) break;
            continue;
        }
        want = size - total;
        if (sock->body != BODY_CLOSE && want > sock->left) want = sock->left;
        if (sock->in_start < sock->in_end)
        {
            n = (DWORD)min(want, sock->in_end - sock->in_start);
            memcpy(buffer + total, sock->in + sock->in_start, n);
            sock->in_start += n;
        }
        else
        {
            hr = sock_recv(conn, (char *)buffer + total, (DWORD)want, !total, &n);
            if (hr == S_FALSE)
            {
                hr = S_OK;
                sock->keep = FALSE;
                if (sock->body == BODY_CLOSE) sock->done = TRUE;
                else
                {
                    WARN("connection closed %I64u bytes before the end of the body\n",
                         sock->left);
                    hr = HRESULT_FROM_WIN32(ERROR_WINHTTP_CONNECTION_ERROR);
                }
                break;
            }
            if (FAILED(hr) || !n) break;
        }
        total += n;
        if (sock->body == BODY_CLOSE) continue;
        if ((sock->left -= n)) continue;
        if (sock->body == BODY_LENGTH) sock->done = TRUE;
        else sock->chunk = CHUNK_CRLF;
    }
    if (hr == S_FALSE) hr = S_OK;
    *got = total;
    if (FAILED(hr))
    {
        sock->keep = FALSE;
        if (total && hr != E_ABORT)
        {
            conn->pending = hr;
            hr = S_OK;
        }
    }
    return hr;
}

/* wire-and-tools.md §1.11: the BG_SSL_* flags on a WinHTTP request. */
static void winhttp_set_options(struct http_conn *conn, HINTERNET request, BOOL secure)
{
    ULONG flags = conn->transfer->security_flags;
    DWORD value;

    value = WINHTTP_DISABLE_REDIRECTS | WINHTTP_DISABLE_COOKIES;
    if (!WinHttpSetOption(request, WINHTTP_OPTION_DISABLE_FEATURE, &value, sizeof(value)))
        WARN("cannot disable redirects, error %lu\n", GetLastError());
    if (secure)
    {
        value = 0;
        if (flags & BG_SSL_IGNORE_CERT_CN_INVALID) value |= SECURITY_FLAG_IGNORE_CERT_CN_INVALID;
        if (flags & BG_SSL_IGNORE_CERT_DATE_INVALID)
            value |= SECURITY_FLAG_IGNORE_CERT_DATE_INVALID;
        if (flags & BG_SSL_IGNORE_UNKNOWN_CA) value |= SECURITY_FLAG_IGNORE_UNKNOWN_CA;
        if (flags & BG_SSL_IGNORE_CERT_WRONG_USAGE)
            value |= SECURITY_FLAG_IGNORE_CERT_WRONG_USAGE;
        if (value && !WinHttpSetOption(request, WINHTTP_OPTION_SECURITY_FLAGS, &value,
                                       sizeof(value)))
            WARN("cannot set security flags %#lx, error %lu\n", value, GetLastError());
        value = WINHTTP_ENABLE_SSL_REVOCATION;
        if ((flags & BG_SSL_ENABLE_CRL_CHECK)
                && !WinHttpSetOption(request, WINHTTP_OPTION_ENABLE_FEATURE, &value,
                                     sizeof(value)))
            WARN("cannot enable revocation checks, error %lu\n", GetLastError());
    }
}

/* Adds CRLF-separated header lines one by one: like our client, WinHTTP requests leave out
 * the lines that are no headers instead of losing them all. */
static void winhttp_add_headers(HINTERNET request, const WCHAR *headers, DWORD flags)
{
    const WCHAR *line = headers, *end;

    while (line && *line)
    {
        end = line + wcscspn(line, L"\r\n");
        if (end > line && !WinHttpAddRequestHeaders(request, line, (DWORD)(end - line), flags))
            WARN("leaving out header line %s, error %lu\n", debugstr_wn(line, (int)(end - line)),
                 GetLastError());
        line = end + wcsspn(end, L"\r\n");
    }
}

/* As sock_request(), through WinHTTP.  The helper sends its own copy of the body: an aborted
 * send goes on without us. */
static HRESULT winhttp_request(struct http_conn *conn, const WCHAR *method, const struct url *url,
                               const WCHAR *headers, const void *body, DWORD body_size,
                               struct http_response *resp)
{
    static const WCHAR *accept[] = { L"*/*", NULL };
    struct helper *helper;
    WCHAR *raw = NULL;
    char *head = NULL;
    DWORD size = 0;
    HRESULT hr;
    int len;

    hr = winhttp_session(conn, TRUE);
    if (FAILED(hr)) return hr;
    helper = conn->helper;
    helper_close_request(helper);
    helper->connect = WinHttpConnect(helper->session, url->host, url->port, 0);
    if (helper->connect)
        helper->request = WinHttpOpenRequest(helper->connect, method, url->path, NULL,
                                             WINHTTP_NO_REFERER, accept,
                                             url->secure ? WINHTTP_FLAG_SECURE : 0);
    if (!helper->request) return HRESULT_FROM_WIN32(GetLastError());
    winhttp_set_options(conn, helper->request, url->secure);
    winhttp_add_headers(helper->request, conn->transfer->custom_headers, WINHTTP_ADDREQ_FLAG_ADD);
    winhttp_add_headers(helper->request, headers,
                        WINHTTP_ADDREQ_FLAG_ADD | WINHTTP_ADDREQ_FLAG_REPLACE);
    /* WinHTTP gives a body its Content-Length, but none to an empty body of our own method. */
    if (body && !body_size)
        winhttp_add_headers(helper->request, L"Content-Length: 0",
                            WINHTTP_ADDREQ_FLAG_ADD | WINHTTP_ADDREQ_FLAG_REPLACE);
    free(helper->body);
    helper->body = NULL;
    helper->body_size = 0;
    if (body_size)
    {
        if (!(helper->body = malloc(body_size))) return E_OUTOFMEMORY;
        memcpy(helper->body, body, body_size);
        helper->body_size = body_size;
    }

    hr = helper_run(conn, call_send);
    if (FAILED(hr)) return hr;
    if (!helper->ok)
    {
        WARN("%s failed, error %lu\n", debugstr_w(method), helper->error);
        return HRESULT_FROM_WIN32(socket_error_to_winhttp(helper->error, helper->error));
    }
    WinHttpQueryHeaders(helper->request, WINHTTP_QUERY_RAW_HEADERS_CRLF,
                        WINHTTP_HEADER_NAME_BY_INDEX, NULL, &size, WINHTTP_NO_HEADER_INDEX);
    if (GetLastError() != ERROR_INSUFFICIENT_BUFFER || !(raw = malloc(size + sizeof(WCHAR))))
        return HRESULT_FROM_WIN32(ERROR_WINHTTP_INVALID_SERVER_RESPONSE);
    if (WinHttpQueryHeaders(helper->request, WINHTTP_QUERY_RAW_HEADERS_CRLF,
                            WINHTTP_HEADER_NAME_BY_INDEX, raw, &size, WINHTTP_NO_HEADER_INDEX)
            && (len = WideCharToMultiByte(CP_UTF8, 0, raw, -1, NULL, 0, NULL, NULL)) > 0
            && (head = malloc(len)))
    {
        WideCharToMultiByte(CP_UTF8, 0, raw, -1, head, len, NULL, NULL);
        keep_response_headers(conn, raw);
        raw = NULL;
    }
    free(raw);
    http_response_clear(resp);
    hr = head && parse_head(head, resp) ? S_OK
            : HRESULT_FROM_WIN32(ERROR_WINHTTP_INVALID_SERVER_RESPONSE);
    free(head);
    return hr;
}

/* The next bytes of the WinHTTP response body, in the helper's buffer; *got 0 at its end. */
static HRESULT winhttp_read(struct http_conn *conn, const BYTE **data, DWORD *got)
{
    struct helper *helper = conn->helper;
    HRESULT hr;

    *got = 0;
    if (!helper->buffer && !(helper->buffer = malloc(HTTP_BUFFER_SIZE))) return E_OUTOFMEMORY;
    hr = helper_run(conn, call_read);
    if (FAILED(hr)) return hr;
    *data = helper->buffer;
    *got = helper->count;
    if (helper->ok) return S_OK;
    WARN("reading failed after %lu bytes, error %lu\n", helper->count, helper->error);
    hr = HRESULT_FROM_WIN32(socket_error_to_winhttp(helper->error, helper->error));
    if (!helper->count) return hr;
    conn->pending = hr;
    return S_OK;
}

/* Reads the next bytes of the body of the current response; *got 0 at its end. */
static HRESULT http_read(struct http_conn *conn, const BYTE **data, DWORD *got)
{
    *got = 0;
    if (FAILED(conn->pending)) return conn->pending;
    if (!conn->raw) return winhttp_read(conn, data, got);
    if (!conn->buffer && !(conn->buffer = malloc(HTTP_BUFFER_SIZE))) return E_OUTOFMEMORY;
    *data = conn->buffer;
    return sock_read_body(conn, conn->buffer, HTTP_BUFFER_SIZE, got);
}

/* Done with the current response: an unread body is not worth its bytes, so its connection
 * goes. */
static void http_end_response(struct http_conn *conn)
{
    if (conn->raw)
    {
        if (!conn->sock.done || !conn->sock.keep) sock_close(conn);
    }
    else if (conn->helper) helper_close_request(conn->helper);
    conn->pending = S_OK;
}

/* Records a failure to talk to the server: behaviour.md §4.1, wire-and-tools.md §1.8. */
static HRESULT http_fail(struct http_conn *conn, HRESULT hr)
{
    if (hr == E_ABORT) return transfer_fail(conn->transfer, hr, BG_ERROR_CONTEXT_NONE, FALSE);
    if (hr == E_OUTOFMEMORY)
        return transfer_fail(conn->transfer, hr, BG_ERROR_CONTEXT_GENERAL_TRANSPORT, TRUE);
    WARN("%s: hr %#lx\n", debugstr_w(conn->url), hr);
    return transfer_fail(conn->transfer, hr, BG_ERROR_CONTEXT_REMOTE_FILE,
                         HRESULT_FACILITY(hr) != FACILITY_WIN32
                         || transfer_transient(HRESULT_CODE(hr)));
}

/* wire-and-tools.md §1.7: 3xx transient except 300-305 and 307; 4xx fatal except 408 and 409;
 * 5xx transient except 501 and 505; others transient. */
BOOL http_status_transient(DWORD status)
{
    if (status >= 300 && status < 400) return status > 305 && status != 307;
    if (status >= 400 && status < 500) return status == 408 || status == 409;
    if (status >= 500 && status < 600) return status != 501 && status != 505;
    return TRUE;
}

/* wire-and-tools.md §1.6: BG_E_HTTP_ERROR_<status>. */
static HRESULT http_fail_status(struct http_conn *conn, DWORD status)
{
    WARN("%s: status %lu\n", debugstr_w(conn->url), status);
    http_end_response(conn);
    return transfer_fail(conn->transfer, HTTP_STATUS_HRESULT(status), BG_ERROR_CONTEXT_REMOTE_FILE,
                         http_status_transient(status));
}

/* A server that answers what cannot be right (wire-and-tools.md §1.4): fatal. */
static HRESULT http_fail_response(struct http_conn *conn, HRESULT hr, const char *why)
{
    WARN("%s: %s\n", debugstr_w(conn->url), why);
    http_end_response(conn);
    return transfer_fail(conn->transfer, hr, BG_ERROR_CONTEXT_REMOTE_FILE,
                         hr == HRESULT_FROM_WIN32(ERROR_WINHTTP_INVALID_SERVER_RESPONSE));
}

static BOOL is_redirect(DWORD status)
{
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

/* Sends method to conn->url with extra header lines and a body unless body is NULL, and reads
 * the head of the answer; with follow, it follows redirects as the job's policy allows
 * (wire-and-tools.md §1.5).  Any failure is recorded; a status is the caller's to judge. */
/* ---- Authentication (wire-and-tools.md §1.9, behaviour.md §9.5) ----
 *
 * A 401 or 407 is answered once, with the job's credentials for that target and a scheme the
 * challenge offers; the header then goes with every later request of the connection, and a
 * second challenge is the failure the caller reports (BG_E_HTTP_ERROR_401 or _407).  Basic is
 * answered here, on both clients, as a header.  Digest, NTLM, Negotiate and Passport are not
 * answered yet: their challenges stay failures. */

static void clear_auth(struct http_conn *conn)
{
    unsigned int i;

    for (i = 0; i < AUTH_TARGETS; i++)
    {
        if (conn->auth[i]) SecureZeroMemory(conn->auth[i], wcslen(conn->auth[i]) * sizeof(WCHAR));
        free(conn->auth[i]);
        conn->auth[i] = NULL;
        conn->auth_tried[i] = FALSE;
    }
}

/* Whether a challenge header (WWW-Authenticate or Proxy-Authenticate, any of them) offers the
 * scheme: a token at the start of a challenge, which is the value's start or follows a comma
 * (parameters of a challenge are name=value, never a bare token). */
static BOOL offers_scheme(const struct http_response *resp, const char *header, const char *scheme)
{
    size_t name_len = strlen(header), scheme_len = strlen(scheme);
    const char *line, *end, *p;

    for (line = resp->head ? strchr(resp->head, '\n') : NULL; line; line = strchr(line, '\n'))
    {
        line++;
        end = line + strcspn(line, "\r\n");
        if (end == line) break;
        if (_strnicmp(line, header, name_len) || line[name_len] != ':') continue;
        for (p = line + name_len + 1; p < end; p++)
        {
            while (p < end && (*p == ' ' || *p == '\t' || *p == ',')) p++;
            if ((size_t)(end - p) >= scheme_len && !_strnicmp(p, scheme, scheme_len)
                    && (p + scheme_len == end || p[scheme_len] == ' ' || p[scheme_len] == ','))
                return TRUE;
            p += strcspn(p, ",");
            if (p >= end) break;
        }
    }
    return FALSE;
}

/* "Authorization: Basic <base64 of user:password in UTF-8>" (RFC 7617), or the proxy's. */
static WCHAR *basic_header(unsigned int target, const struct job_credential *credential)
{
    static const WCHAR *const names[AUTH_TARGETS] = { L"Authorization", L"Proxy-Authorization" };
    WCHAR *pair = NULL, *encoded = NULL, *line = NULL;
    char *utf8 = NULL;
    DWORD chars = 0;
    size_t len;
    int bytes;

    len = wcslen(credential->user) + 1 + wcslen(credential->password) + 1;
    if (!(pair = malloc(len * sizeof(WCHAR)))) return NULL;
    swprintf(pair, len, L"%ls:%ls", credential->user, credential->password);
    bytes = WideCharToMultiByte(CP_UTF8, 0, pair, -1, NULL, 0, NULL, NULL);
    if (bytes > 0 && (utf8 = malloc(bytes)))
        WideCharToMultiByte(CP_UTF8, 0, pair, -1, utf8, bytes, NULL, NULL);
    if (utf8 && CryptBinaryToStringW((BYTE *)utf8, bytes - 1,
                                     CRYPT_STRING_BASE64 | CRYPT_STRING_NOCRLF, NULL, &chars)
            && (encoded = malloc(chars * sizeof(WCHAR)))
            && CryptBinaryToStringW((BYTE *)utf8, bytes - 1,
                                    CRYPT_STRING_BASE64 | CRYPT_STRING_NOCRLF, encoded, &chars))
    {
        len = wcslen(names[target]) + wcslen(encoded) + 16;
        if ((line = malloc(len * sizeof(WCHAR))))
            swprintf(line, len, L"%ls: Basic %ls\r\n", names[target], encoded);
    }
    if (utf8) SecureZeroMemory(utf8, bytes);
    SecureZeroMemory(pair, wcslen(pair) * sizeof(WCHAR));
    if (encoded) SecureZeroMemory(encoded, wcslen(encoded) * sizeof(WCHAR));
    free(utf8);
    free(pair);
    free(encoded);
    return line;
}

/* After a 401 or 407: TRUE when the request is to be sent again with credentials. */
static BOOL answer_challenge(struct http_conn *conn, const struct http_response *resp)
{
    unsigned int target = resp->status == 401 ? BG_AUTH_TARGET_SERVER - 1
                                              : BG_AUTH_TARGET_PROXY - 1;
    const char *header = resp->status == 401 ? "WWW-Authenticate" : "Proxy-Authenticate";
    const struct job_credential *basic;

    if (conn->auth_tried[target] || !conn->transfer->credentials) return FALSE;
    conn->auth_tried[target] = TRUE;
    basic = &conn->transfer->credentials[target][BG_AUTH_SCHEME_BASIC - 1];
    if (!basic->set || !basic->user || !basic->password || !offers_scheme(resp, header, "Basic"))
    {
        TRACE("no credentials for the %s challenge\n", header);
        return FALSE;
    }
    free(conn->auth[target]);
    conn->auth[target] = basic_header(target, basic);
    TRACE("answering the %s challenge with Basic credentials\n", header);
    return conn->auth[target] != NULL;
}

/* The caller's headers and the authorization lines, in one malloc'd string; NULL when there
 * is nothing to add to headers (then *out is headers itself). */
static WCHAR *add_auth_headers(struct http_conn *conn, const WCHAR *headers, const WCHAR **out)
{
    size_t len = headers ? wcslen(headers) : 0;
    unsigned int i;
    WCHAR *all;

    *out = headers;
    if (!conn->auth[0] && !conn->auth[1]) return NULL;
    for (i = 0; i < AUTH_TARGETS; i++) if (conn->auth[i]) len += wcslen(conn->auth[i]);
    if (!(all = malloc((len + 1) * sizeof(WCHAR)))) return NULL;
    wcscpy(all, headers ? headers : L"");
    for (i = 0; i < AUTH_TARGETS; i++) if (conn->auth[i]) wcscat(all, conn->auth[i]);
    *out = all;
    return all;
}

static HRESULT http_request(struct http_conn *conn, const WCHAR *method, const WCHAR *headers,
                            const void *body, DWORD size, BOOL follow,
                            struct http_response *resp)
{
    const WCHAR *sent;
    WCHAR *all;
    ULONG flags = conn->transfer->security_flags;
    HRESULT redirect_failed = HRESULT_FROM_WIN32(ERROR_WINHTTP_REDIRECT_FAILED);
    unsigned int hops;
    struct url url;
    WCHAR *next;
    HRESULT hr;

    for (hops = 0;; hops++)
    {
        if (conn->transfer->abort) return http_fail(conn, E_ABORT);
        hr = url_parse(conn->url, &url);
        if (FAILED(hr))
        {
            WARN("bad URL %s\n", debugstr_w(conn->url));
            return transfer_fail(conn->transfer, hr, BG_ERROR_CONTEXT_REMOTE_FILE,
                                 hr == E_OUTOFMEMORY);
        }
        hr = http_find_proxy(conn, &url);
        if (SUCCEEDED(hr))
        {
            conn->raw = !url.secure && !conn->proxy;
            TRACE("%s %s%s\n", debugstr_w(method), debugstr_w(conn->url),
                  conn->raw ? "" : " through WinHTTP");
            all = add_auth_headers(conn, headers, &sent);
            hr = conn->raw ? sock_request(conn, method, &url, sent, body, size, resp)
                           : winhttp_request(conn, method, &url, sent, body, size, resp);
            if (all) SecureZeroMemory(all, wcslen(all) * sizeof(WCHAR));
            free(all);
            if (FAILED(hr)) hr = http_fail(conn, hr);
        }
        url_free(&url);
        if (FAILED(hr)) return hr;
        TRACE("status %lu, length %I64d\n", resp->status, (INT64)resp->length);
        if (resp->bad)
            return http_fail_response(conn,
                                      HRESULT_FROM_WIN32(ERROR_WINHTTP_INVALID_SERVER_RESPONSE),
                                      "unreadable headers");
        if ((resp->status == 401 || resp->status == 407) && answer_challenge(conn, resp))
        {
            http_end_response(conn);
            hops--;                     /* the same request again, not a redirect */
            continue;
        }
        if (!follow || !is_redirect(resp->status) || !resp->location) return S_OK;

        if ((flags & BG_HTTP_REDIRECT_POLICY_MASK) == BG_HTTP_REDIRECT_POLICY_DISALLOW)
            return http_fail_response(conn, HTTP_STATUS_HRESULT(resp->status),
                                      "redirects are disallowed");
        if (hops == HTTP_MAX_REDIRECTS)
            return http_fail_response(conn, redirect_failed, "too many redirects");
        if (!(next = url_resolve(conn->url, resp->location)))
            return http_fail(conn, E_OUTOFMEMORY);
        TRACE("redirected to %s\n", debugstr_w(next));
        if ((_wcsnicmp(next, L"http://", 7) && _wcsnicmp(next, L"https://", 8))
                || (!_wcsnicmp(conn->url, L"https://", 8) && !_wcsnicmp(next, L"http://", 7)
                    && !(flags & BG_HTTP_REDIRECT_POLICY_ALLOW_HTTPS_TO_HTTP)))
        {
            free(next);
            return http_fail_response(conn, redirect_failed, "redirect not allowed");
        }
        http_end_response(conn);
        free(conn->url);
        conn->url = next;
        conn->redirected = TRUE;
        clear_auth(conn);               /* credentials go to the host that asked for them */
    }
}

/* Writes the body of the current response to the temporary file; it must end at the absolute
 * offset end, unless that is BG_SIZE_UNKNOWN.  A body cut short keeps its bytes and gives a
 * transient error: the next attempt resumes after them. */
static HRESULT http_read_body(struct http_conn *conn, UINT64 end)
{
    struct transfer *transfer = conn->transfer;
    const BYTE *data = NULL;
    DWORD got;
    HRESULT hr;

    for (;;)
    {
        if (transfer->abort) return http_fail(conn, E_ABORT);
        hr = http_read(conn, &data, &got);
        if (FAILED(hr)) return http_fail(conn, hr);
        if (!got) break;
        if (end != BG_SIZE_UNKNOWN && got > end - transfer->transferred)
        {
            hr = transfer_write(transfer, data, (DWORD)(end - transfer->transferred));
            if (FAILED(hr)) return hr;
            return http_fail_response(conn, BG_E_INVALID_SERVER_RESPONSE, "body too long");
        }
        hr = transfer_write(transfer, data, got);
        if (FAILED(hr)) return hr;
    }
    if (end != BG_SIZE_UNKNOWN && transfer->transferred < end)
    {
        WARN("body ended at %I64u instead of %I64u\n", transfer->transferred, end);
        return http_fail(conn, HRESULT_FROM_WIN32(ERROR_WINHTTP_CONNECTION_ERROR));
    }
    return S_OK;
}

/* The remote file changed: start it again, unless it keeps changing. */
static HRESULT http_restart(struct http_conn *conn, unsigned int *restarts)
{
    struct transfer *transfer = conn->transfer;

    if (++*restarts > HTTP_MAX_RESTARTS)
        return http_fail_response(conn, BG_E_REMOTE_FILE_CHANGED, "the file keeps changing");
    transfer->validator[0] = 0;
    return transfer_restart(transfer);
}

/* A GET with those headers, redirects followed; resp (initialized here, for the caller to
 * clear) and the validator it gives.  A coded body is the server's error: BITS asks for
 * none. */
static HRESULT http_send_get(struct http_conn *conn, const WCHAR *headers,
                             struct http_response *resp, WCHAR *validator, size_t size)
{
    HRESULT hr;

    http_response_init(resp);
    hr = http_request(conn, L"GET", headers, NULL, 0, TRUE, resp);
    if (FAILED(hr)) return hr;
    if (resp->encoded) return http_fail_response(conn, BG_E_INVALID_SERVER_RESPONSE,
                                                 "encoded body");
    response_validator(resp, validator, size);
    return S_OK;
}

/* One GET from the first missing byte (wire-and-tools.md §1.4).  S_OK once it brought bytes or
 * restarted the file; otherwise the recorded failure. */
static HRESULT http_get(struct http_conn *conn, unsigned int *restarts)
{
    struct transfer *transfer = conn->transfer;
    WCHAR headers[64 + ARRAYSIZE(transfer->validator)];
    WCHAR validator[ARRAYSIZE(transfer->validator)];
    UINT64 start = transfer->transferred, end;
    struct http_response resp;
    size_t len;
    HRESULT hr;

    len = swprintf(headers, ARRAYSIZE(headers), L"Range: bytes=%I64u-\r\n", start);
    if (start && transfer->validator[0])
        swprintf(headers + len, ARRAYSIZE(headers) - len, L"If-Range: %ls\r\n",
                 transfer->validator);
    hr = http_send_get(conn, headers, &resp, validator, ARRAYSIZE(validator));
    if (FAILED(hr)) goto done;

    switch (resp.status)
    {
    case 206:
        if (!resp.has_range || resp.first != start
                || (resp.length != BG_SIZE_UNKNOWN && resp.length != resp.last - resp.first + 1)
                || (transfer->total != BG_SIZE_UNKNOWN && resp.size != BG_SIZE_UNKNOWN
                    && resp.size != transfer->total))
        {
            WARN("asked bytes %I64u-, got %I64u-%I64u/%I64d, length %I64d\n", start, resp.first,
                 resp.last, (INT64)resp.size, (INT64)resp.length);
            hr = http_fail_response(conn, BG_E_INVALID_SERVER_RESPONSE, "wrong range");
            goto done;
        }
        if (transfer->total == BG_SIZE_UNKNOWN)
        {
            if (resp.size == BG_SIZE_UNKNOWN)
            {
                hr = http_fail_response(conn, BG_E_MISSING_FILE_SIZE, "no size");
                goto done;
            }
            if (start && transfer->known_size != BG_SIZE_UNKNOWN
                    && resp.size != transfer->known_size)
            {
                /* Without HEAD, only the size tells an earlier attempt's version apart. */
                http_end_response(conn);
                hr = http_restart(conn, restarts);
                goto done;
            }
            transfer->total = resp.size;
        }
        end = resp.last + 1;
        break;

    case 200:
        if (start)
        {
            /* If-Range did its job: the whole of another version follows.  The same version
             * whole means the server ignores Range, and splicing is not an option. */
            if (!(validator[0] && transfer->validator[0] && wcscmp(validator, transfer->validator))
                    && !(resp.length != BG_SIZE_UNKNOWN && transfer->total != BG_SIZE_UNKNOWN
                         && resp.length != transfer->total))
            {
                hr = http_fail_response(conn, BG_E_INSUFFICIENT_RANGE_SUPPORT, "Range ignored");
                goto done;
            }
            hr = http_restart(conn, restarts);
            if (FAILED(hr)) goto done;
            transfer->total = BG_SIZE_UNKNOWN;
        }
        if (resp.length == BG_SIZE_UNKNOWN)
        {
            if (transfer->total == BG_SIZE_UNKNOWN)
            {
                hr = http_fail_response(conn, BG_E_MISSING_FILE_SIZE, "no size");
                goto done;
            }
        }
        else if (transfer->total != BG_SIZE_UNKNOWN && resp.length != transfer->total)
        {
            if (validator[0] && !wcscmp(validator, transfer->validator))
            {
                hr = http_fail_response(conn, BG_E_INVALID_SERVER_RESPONSE, "wrong length");
                goto done;
            }
            WARN("the file changed after HEAD: %I64u bytes now\n", resp.length);
            transfer->total = resp.length;
        }
        else transfer->total = resp.length;
        end = transfer->total;
        break;

    case 412:
    case 416:
        if (resp.status == 416 && resp.unsatisfied && resp.size == start)
        {
            /* Nothing after our bytes: the file is whole (the size was unknown so far). */
            transfer->total = start;
            http_end_response(conn);
            hr = S_OK;
            goto done;
        }
        if (start)
        {
            /* wire-and-tools.md §1.4: a resume the file cannot satisfy means it shrank. */
            http_end_response(conn);
            hr = http_restart(conn, restarts);
            if (SUCCEEDED(hr)) transfer->total = BG_SIZE_UNKNOWN;
            goto done;
        }
        /* fall through */
    default:
        hr = http_fail_status(conn, resp.status);
        goto done;
    }

    if (validator[0]) wcscpy(transfer->validator, validator);
    response_time(&resp, &transfer->remote_time);
    hr = http_read_body(conn, end);
    http_end_response(conn);

done:
    http_response_clear(&resp);
    return hr;
}

/* wire-and-tools.md §1.1: HEAD for the size and validators, which tell whether the bytes we
 * have still belong to the remote file, then GETs until the file is whole. */
static HRESULT http_fetch(struct http_conn *conn)
{
    struct transfer *transfer = conn->transfer;
    WCHAR validator[ARRAYSIZE(transfer->validator)];
    unsigned int restarts = 0;
    struct http_response resp;
    HRESULT hr;

    http_response_init(&resp);
    hr = http_request(conn, L"HEAD", NULL, NULL, 0, TRUE, &resp);
    if (FAILED(hr)) goto done;
    http_end_response(conn);
    if (resp.status == 405 || resp.status == 501)
    {
        /* No HEAD: the GET's Content-Range tells the size. */
        WARN("%s: no HEAD (status %lu)\n", debugstr_w(conn->url), resp.status);
        transfer->total = BG_SIZE_UNKNOWN;
    }
    else if (resp.status != 200)
    {
        hr = http_fail_status(conn, resp.status);
        goto done;
    }
    else if (resp.length == BG_SIZE_UNKNOWN)
    {
        /* wire-and-tools.md §1.3 */
        hr = http_fail_response(conn, BG_E_MISSING_FILE_SIZE, "HEAD without Content-Length");
        goto done;
    }
    else
    {
        response_validator(&resp, validator, ARRAYSIZE(validator));
        if (transfer->transferred
                && ((transfer->known_size != BG_SIZE_UNKNOWN && transfer->known_size != resp.length)
                    || (validator[0] && transfer->validator[0]
                        && wcscmp(validator, transfer->validator))
                    || transfer->transferred > resp.length))
        {
            hr = http_restart(conn, &restarts);
            if (FAILED(hr)) goto done;
        }
        transfer->total = resp.length;
        wcscpy(transfer->validator, validator);
        response_time(&resp, &transfer->remote_time);
    }

    while (transfer->total == BG_SIZE_UNKNOWN || transfer->transferred < transfer->total)
    {
        hr = http_get(conn, &restarts);
        if (FAILED(hr)) break;
    }

done:
    http_response_clear(&resp);
    return hr;
}

/* wire-and-tools.md §1.12: another method than GET asks for content made for each request:
 * one request, no HEAD and no Range, the whole body each time. */
static HRESULT http_fetch_whole(struct http_conn *conn)
{
    struct transfer *transfer = conn->transfer;
    struct http_response resp;
    HRESULT hr;

    if (transfer->transferred && FAILED(hr = transfer_restart(transfer))) return hr;
    transfer->total = BG_SIZE_UNKNOWN;
    http_response_init(&resp);
    hr = http_request(conn, transfer->http_method, NULL, NULL, 0, TRUE, &resp);
    if (FAILED(hr)) goto done;
    if (resp.status != 200)
    {
        hr = http_fail_status(conn, resp.status);
        goto done;
    }
    if (resp.encoded)
    {
        hr = http_fail_response(conn, BG_E_INVALID_SERVER_RESPONSE, "encoded body");
        goto done;
    }
    transfer->total = resp.length;
    response_validator(&resp, transfer->validator, ARRAYSIZE(transfer->validator));
    response_time(&resp, &transfer->remote_time);
    hr = http_read_body(conn, resp.length);
    http_end_response(conn);
    if (SUCCEEDED(hr)) transfer->total = transfer->transferred;

done:
    http_response_clear(&resp);
    return hr;
}

static void conn_init(struct http_conn *conn, struct transfer *transfer)
{
    memset(conn, 0, sizeof(*conn));
    conn->transfer = transfer;
    conn->sock.socket = INVALID_SOCKET;
}

/* Closes the connection and frees what the client holds, but not the struct. */
static void conn_cleanup(struct http_conn *conn)
{
    if (conn->helper) helper_abandon(conn);     /* it closes the WinHTTP handles and ends */
    sock_close(conn);
    if (conn->wsa) WSACleanup();
    free(conn->sock.in);
    free(conn->buffer);
    free(conn->proxy_key);
    free(conn->proxy);
    free(conn->proxy_bypass);
    free(conn->session_proxy);
    free(conn->session_bypass);
    free(conn->url);
    clear_auth(conn);
}

/* ---- Parts of a file: the ranges of AddFileWithRanges, the spans of an on-demand file ----
 *
 * Both come down to a list of spans of the remote file, fetched in the list's order.  A file of
 * AddFileWithRanges appends them to its temporary file, which so holds its ranges one after
 * the other in the caller's order (behaviour.md §2.2); its progress is how far that got, and a
 * resume starts again from the range and offset that size falls in.  An on-demand file writes
 * each byte at its own offset and reports each write (struct transfer).
 *
 * One GET asks for up to RANGES_PER_GET spans, as long as each starts past the end of the one
 * before (wire-and-tools.md §1.2, §1.3): a server answers them in one multipart/byteranges body,
 * whose parts then come in the order asked even from a server that sorts them, and it has no
 * touching ranges to merge.  Two ranges that follow each other in the list and in the remote
 * file are asked for as one.  The answer must give each span from its first byte, no more than
 * it, in order; a part that runs on past its span is a merge, which BITS does not support
 * (BG_E_INVALID_SERVER_RESPONSE, behaviour.md §2.2); a part that stops short, or parts that stop
 * early, leave the rest to the next GET.  A 200 to a list asks again one span at a time (some
 * servers take no list, or not that long a one); a 200 to a single span is a server without
 * ranges (BG_E_INSUFFICIENT_RANGE_SUPPORT), unless the span is the whole file.  The size from
 * HEAD (or from the first Content-Range without HEAD) must hold every range: otherwise
 * BG_E_INVALID_RANGE, as a 416 is. */

#define RANGES_PER_GET  16      /* Apache's MaxRanges is 200, and a longer header gains little */
#define PART_LINE_MAX   1024    /* longest delimiter or header line of a part */
#define PART_HEAD_MAX   4096    /* longest head of a part (wire-and-tools.md §1.3: ~250 bytes) */
#define PART_DRAIN_MAX  4096    /* trailing bytes read so that the connection can stay */
#define SPAN_OPEN       (~(UINT64)0)    /* the end of a span to the end of the file */

struct span
{
    UINT64 start, end;          /* [start, end) of the remote file; end SPAN_OPEN */
};

struct parts
{
    struct http_conn *conn;
    UINT64 size;                /* of the remote file, BG_SIZE_UNKNOWN until known */
    struct span *spans;         /* still to fetch: spans[next] .. spans[count - 1] */
    DWORD count;
    DWORD next;
    BOOL single;                /* one span per GET */
    unsigned int restarts;
    char boundary[80];          /* of the current multipart body (RFC 2046: <= 70) */
};

/* The body of the current response, read as it comes. */
struct reader
{
    struct http_conn *conn;
    const BYTE *data;
    DWORD left;
    BOOL end;
};

/* Whether a remote file of that size holds every range (else BG_E_INVALID_RANGE). */
static BOOL ranges_fit(const struct transfer *transfer, UINT64 size)
{
    const BG_FILE_RANGE *range;
    DWORD i;

    for (i = 0; i < transfer->range_count; i++)
    {
        range = &transfer->ranges[i];
        if (range->InitialOffset > size) return FALSE;
        if (range->Length == BG_LENGTH_TO_EOF) continue;
        if (transfer->random && range->InitialOffset + range->Length == SPAN_OPEN) continue;
        if (range->Length > size - range->InitialOffset) return FALSE;
    }
    return TRUE;
}

/* The spans still to fetch.  AddFileWithRanges: the ranges from the first byte not in the
 * temporary file on, joined where one goes on where the one before ended.  On demand: the
 * spans as given, those to the end of the file cut at the size once known. */
static void plan_parts(struct parts *parts)
{
    const struct transfer *transfer = parts->conn->transfer;
    UINT64 skip = transfer->random ? 0 : transfer->transferred, length;
    const BG_FILE_RANGE *range;
    struct span span;
    DWORD i;

    parts->count = parts->next = 0;
    for (i = 0; i < transfer->range_count; i++)
    {
        range = &transfer->ranges[i];
        length = range->Length;
        if (length == BG_LENGTH_TO_EOF)
            length = parts->size != BG_SIZE_UNKNOWN ? parts->size - range->InitialOffset
                                                    : SPAN_OPEN - range->InitialOffset;
        span.start = range->InitialOffset;
        span.end = range->InitialOffset + length;
        if (transfer->random && span.end == SPAN_OPEN && parts->size != BG_SIZE_UNKNOWN)
            span.end = parts->size;
        if (skip >= span.end - span.start)
        {
            skip -= span.end - span.start;
            continue;
        }
        span.start += skip;
        skip = 0;
        if (!transfer->random && parts->count && parts->spans[parts->count - 1].end == span.start)
            parts->spans[parts->count - 1].end = span.end;
        else parts->spans[parts->count++] = span;
    }
}

/* The size of the remote file is known: every range must be in it; the progress counts the
 * bytes of the ranges of AddFileWithRanges (behaviour.md §7.3), or all of an on-demand file. */
static HRESULT parts_sized(struct parts *parts, UINT64 size)
{
    struct transfer *transfer = parts->conn->transfer;
    UINT64 total = 0;
    DWORD i;

    parts->size = size;
    if (!ranges_fit(transfer, size))
        return http_fail_response(parts->conn, BG_E_INVALID_RANGE, "a range is past the end");
    for (i = 0; !transfer->random && i < transfer->range_count; i++)
    {
        if (transfer->ranges[i].Length == BG_LENGTH_TO_EOF)
            total += size - transfer->ranges[i].InitialOffset;
        else total += transfer->ranges[i].Length;
    }
    transfer->total = transfer->random ? size : total;
    plan_parts(parts);
    return S_OK;
}

/* Writes the next bytes of spans[next]: appended to a file of AddFileWithRanges, at their
 * offset in an on-demand file. */
static HRESULT parts_write(struct parts *parts, const BYTE *data, DWORD size)
{
    struct transfer *transfer = parts->conn->transfer;
    struct span *span = &parts->spans[parts->next];
    DWORD written = 0, done, error = 0;
    LARGE_INTEGER pos;
    HRESULT hr;

    if (!transfer->random)
    {
        hr = transfer_write(transfer, data, size);
        if (FAILED(hr)) return hr;
    }
    else
    {
        pos.QuadPart = span->start;
        if (!SetFilePointerEx(transfer->temp_file, pos, NULL, FILE_BEGIN))
            error = GetLastError();
        while (!error && written < size)
        {
            if (!WriteFile(transfer->temp_file, data + written, size - written, &done, NULL)
                    || !done)
                error = GetLastError() ? GetLastError() : ERROR_WRITE_FAULT;
            else written += done;
        }
        if (written)
        {
            transfer->transferred += written;
            transfer->piece.InitialOffset = span->start;
            transfer->piece.Length = written;
            if (transfer->progress) transfer->progress(transfer);
            transfer->piece.Length = 0;
        }
        if (error)
        {
            WARN("writing at %I64u failed, error %lu\n", span->start + written, error);
            span->start += written;
            return transfer_fail(transfer, HRESULT_FROM_WIN32(error), BG_ERROR_CONTEXT_LOCAL_FILE,
                                 transfer_transient(error));
        }
    }
    span->start += size;
    if (span->start == span->end) parts->next++;
    return S_OK;
}

/* More of the body once what was read is used up; body->end at its end. */
static HRESULT body_more(struct reader *body)
{
    DWORD got;
    HRESULT hr;

    if (body->left || body->end) return S_OK;
    if (body->conn->transfer->abort) return http_fail(body->conn, E_ABORT);
    hr = http_read(body->conn, &body->data, &got);
    if (FAILED(hr)) return http_fail(body->conn, hr);
    body->left = got;
    body->end = !got;
    return S_OK;
}

/* The next size bytes of the body into spans[next] and on: a body cut short keeps what came
 * and is a transient error, as in http_read_body(). */
static HRESULT body_copy(struct parts *parts, struct reader *body, UINT64 size)
{
    DWORD n;
    HRESULT hr;

    while (size)
    {
        hr = body_more(body);
        if (FAILED(hr)) return hr;
        if (body->end)
        {
            WARN("a part ended %I64u bytes early\n", size);
            return http_fail(parts->conn, HRESULT_FROM_WIN32(ERROR_WINHTTP_CONNECTION_ERROR));
        }
        n = (DWORD)min(size, body->left);
        hr = parts_write(parts, body->data, n);
        if (FAILED(hr)) return hr;
        body->data += n;
        body->left -= n;
        size -= n;
    }
    return S_OK;
}

/* The next line of a multipart body, without its line end. */
static HRESULT body_line(struct reader *body, char *line, size_t size)
{
    size_t len = 0, n;
    const BYTE *lf;
    HRESULT hr;

    for (;;)
    {
        hr = body_more(body);
        if (FAILED(hr)) return hr;
        if (body->end)
            return http_fail_response(body->conn, BG_E_INVALID_SERVER_RESPONSE,
                                      "multipart body cut short");
        lf = memchr(body->data, '\n', body->left);
        n = lf ? lf - body->data + 1 : body->left;
        if (len + n >= size)
            return http_fail_response(body->conn, BG_E_INVALID_SERVER_RESPONSE,
                                      "multipart line too long");
        memcpy(line + len, body->data, n);
        len += n;
        body->data += n;
        body->left -= n;
        if (lf) break;
    }
    while (len && (line[len - 1] == '\n' || line[len - 1] == '\r')) len--;
    line[len] = 0;
    return S_OK;
}

/* A part "bytes first-last/size" for spans[next]: from its first byte, not past its end. */
static HRESULT check_part(struct parts *parts, const struct http_response *part)
{
    struct span *span;
    HRESULT hr;

    if (!part->has_range)
        return http_fail_response(parts->conn, BG_E_INVALID_SERVER_RESPONSE, "no Content-Range");
    if (parts->size == BG_SIZE_UNKNOWN)
    {
        if (part->size == BG_SIZE_UNKNOWN)
            return http_fail_response(parts->conn, BG_E_MISSING_FILE_SIZE, "no size");
        hr = parts_sized(parts, part->size);
        if (FAILED(hr)) return hr;
    }
    else if (part->size != BG_SIZE_UNKNOWN && part->size != parts->size)
        return http_fail_response(parts->conn, BG_E_INVALID_SERVER_RESPONSE, "size changed");
    if (parts->next == parts->count)
        return http_fail_response(parts->conn, BG_E_INVALID_SERVER_RESPONSE, "a part too many");
    span = &parts->spans[parts->next];
    if (part->first != span->start || part->last >= span->end)
    {
        WARN("span %I64u-%I64u, got %I64u-%I64u\n", span->start, span->end - 1, part->first,
             part->last);
        return http_fail_response(parts->conn, BG_E_INVALID_SERVER_RESPONSE,
                                  part->first == span->start ? "ranges merged" : "wrong part");
    }
    return S_OK;
}

/* The boundary of a multipart/byteranges body (RFC 9110 §14.6, RFC 2046 §5.1.1). */
static BOOL find_boundary(const struct http_response *resp, char *boundary, size_t size)
{
    char value[512], *p, *end;

    if (!http_header(resp, "Content-Type", value, sizeof(value))
            || _strnicmp(value, "multipart/byteranges", 20))
        return FALSE;
    for (p = strchr(value, ';'); p; p = strchr(p, ';'))
    {
        for (p++; *p == ' ' || *p == '\t'; p++) ;
        if (_strnicmp(p, "boundary=", 9)) continue;
        p += 9;
        if (*p == '"') end = strchr(++p, '"');
        else end = p + strcspn(p, " \t;");
        if (!end || end == p || (size_t)(end - p) >= size) return FALSE;
        memcpy(boundary, p, end - p);
        boundary[end - p] = 0;
        return TRUE;
    }
    return FALSE;
}

/* The parts of a multipart/byteranges body, for up to batch spans from spans[next] on. */
static HRESULT read_multipart(struct parts *parts, DWORD batch)
{
    struct reader body = { parts->conn, NULL, 0, FALSE };
    size_t boundary_len = strlen(parts->boundary), head;
    struct http_response part;
    char line[PART_LINE_MAX], *colon;
    unsigned int blank;
    DWORD i, drained = 0;
    HRESULT hr = S_OK;
    UINT64 end;

    for (i = 0; i < batch && SUCCEEDED(hr); i++)
    {
        /* The delimiter, after the line end that closes the part before. */
        for (blank = 0;; blank++)
        {
            hr = body_line(&body, line, sizeof(line));
            if (FAILED(hr) || line[0] || blank == 2) break;
        }
        if (FAILED(hr)) break;
        if (strncmp(line, "--", 2) || strncmp(line + 2, parts->boundary, boundary_len))
            return http_fail_response(parts->conn, BG_E_INVALID_SERVER_RESPONSE, "no delimiter");
        if (!strcmp(line + 2 + boundary_len, "--")) break;      /* the last one: fewer parts */
        if (line[2 + boundary_len])
            return http_fail_response(parts->conn, BG_E_INVALID_SERVER_RESPONSE, "bad delimiter");

        http_response_init(&part);
        for (head = 0;;)
        {
            hr = body_line(&body, line, sizeof(line));
            if (FAILED(hr) || !line[0]) break;
            head += strlen(line) + 2;
            if (head > PART_HEAD_MAX)
                return http_fail_response(parts->conn, BG_E_INVALID_SERVER_RESPONSE,
                                          "part head too long");
            if (!(colon = strchr(line, ':'))) continue;
            *colon = 0;
            if (!_stricmp(trim(line), "Content-Range") && !part.has_range)
                parse_content_range(&part, trim(colon + 1));
        }
        if (SUCCEEDED(hr)) hr = check_part(parts, &part);
        if (FAILED(hr)) break;
        end = parts->spans[parts->next].end;
        hr = body_copy(parts, &body, part.last - part.first + 1);
        /* A part that stops short of its span ends what this answer is good for. */
        if (SUCCEEDED(hr) && part.last + 1 < end) break;
    }
    if (FAILED(hr)) return hr;
    /* What is left is the last delimiter: read, the connection may carry the next request. */
    while (SUCCEEDED(hr) && !body.end && drained <= PART_DRAIN_MAX)
    {
        drained += body.left;
        body.left = 0;
        hr = body_more(&body);
    }
    return hr;
}

/* A 206 of one part, in its Content-Range, for spans[next]. */
static HRESULT read_single(struct parts *parts, const struct http_response *resp)
{
    struct reader body = { parts->conn, NULL, 0, FALSE };
    HRESULT hr;

    hr = check_part(parts, resp);
    if (SUCCEEDED(hr) && resp->length != BG_SIZE_UNKNOWN
            && resp->length != resp->last - resp->first + 1)
        hr = http_fail_response(parts->conn, BG_E_INVALID_SERVER_RESPONSE, "wrong length");
    if (SUCCEEDED(hr)) hr = body_copy(parts, &body, resp->last - resp->first + 1);
    return hr;
}

/* HEAD: the size, which must hold every range, and whether the file changed since the bytes
 * the temporary file holds (a file of AddFileWithRanges then starts again from its first range,
 * an on-demand file fails). */
static HRESULT parts_head(struct parts *parts)
{
    struct http_conn *conn = parts->conn;
    struct transfer *transfer = conn->transfer;
    WCHAR validator[ARRAYSIZE(transfer->validator)];
    struct http_response resp;
    BOOL changed, data;
    UINT64 size;
    HRESULT hr;

    parts->size = BG_SIZE_UNKNOWN;
    http_response_init(&resp);
    hr = http_request(conn, L"HEAD", NULL, NULL, 0, TRUE, &resp);
    if (FAILED(hr)) goto done;
    http_end_response(conn);
    if (resp.status == 405 || resp.status == 501)
    {
        /* No HEAD: the first Content-Range tells the size. */
        WARN("%s: no HEAD (status %lu)\n", debugstr_w(conn->url), resp.status);
        plan_parts(parts);
        goto done;
    }
    if (resp.status != 200)
    {
        hr = http_fail_status(conn, resp.status);
        goto done;
    }
    if (resp.length == BG_SIZE_UNKNOWN)
    {
        hr = http_fail_response(conn, BG_E_MISSING_FILE_SIZE, "HEAD without Content-Length");
        goto done;
    }
    size = resp.length;
    response_validator(&resp, validator, ARRAYSIZE(validator));
    data = transfer->random ? transfer->had_data || transfer->transferred : !!transfer->transferred;
    changed = validator[0] && transfer->validator[0] && wcscmp(validator, transfer->validator);
    hr = parts_sized(parts, size);
    if (FAILED(hr)) goto done;
    /* known_size is the total of an earlier attempt: the size, or the ranges' bytes. */
    if (transfer->known_size != BG_SIZE_UNKNOWN && transfer->known_size != transfer->total)
        changed = TRUE;
    if (changed && data)
    {
        /* wire-and-tools.md §1.4: the bytes of an on-demand file stay where they are [inferred]. */
        if (transfer->random)
        {
            hr = http_fail_response(conn, BG_E_REMOTE_FILE_CHANGED, "the file changed");
            goto done;
        }
        hr = http_restart(conn, &parts->restarts);
        if (FAILED(hr)) goto done;
        plan_parts(parts);
    }
    transfer->known_size = transfer->total;
    wcscpy(transfer->validator, validator);
    response_time(&resp, &transfer->remote_time);

done:
    http_response_clear(&resp);
    return hr;
}

/* One GET for the next spans.  S_OK when it brought bytes or changed how to ask; S_FALSE when
 * the file changed and must be looked at again from HEAD; otherwise the recorded failure. */
static HRESULT parts_get(struct parts *parts)
{
    struct http_conn *conn = parts->conn;
    struct transfer *transfer = conn->transfer;
    WCHAR headers[64 + RANGES_PER_GET * 44 + ARRAYSIZE(transfer->validator)];
    WCHAR validator[ARRAYSIZE(transfer->validator)];
    struct span *span = &parts->spans[parts->next];
    UINT64 before = transfer->transferred;
    struct http_response resp;
    DWORD batch = 1, i;
    size_t len;
    HRESULT hr;

    /* Each span past the end of the one before, which a server can neither merge nor reorder. */
    while (!parts->single && parts->size != BG_SIZE_UNKNOWN && batch < RANGES_PER_GET
            && parts->next + batch < parts->count && span[batch].start > span[batch - 1].end)
        batch++;
    len = swprintf(headers, ARRAYSIZE(headers), L"Range: bytes=");
    for (i = 0; i < batch; i++)
    {
        if (span[i].end == SPAN_OPEN)
            len += swprintf(headers + len, ARRAYSIZE(headers) - len, L"%ls%I64u-",
                            i ? L"," : L"", span[i].start);
        else
            len += swprintf(headers + len, ARRAYSIZE(headers) - len, L"%ls%I64u-%I64u",
                            i ? L"," : L"", span[i].start, span[i].end - 1);
    }
    len += swprintf(headers + len, ARRAYSIZE(headers) - len, L"\r\n");
    if (transfer->validator[0])
        swprintf(headers + len, ARRAYSIZE(headers) - len, L"If-Range: %ls\r\n",
                 transfer->validator);
    TRACE("%lu of %lu spans: %s\n", batch, parts->count - parts->next, debugstr_w(headers));

    hr = http_send_get(conn, headers, &resp, validator, ARRAYSIZE(validator));
    if (FAILED(hr)) goto done;

    switch (resp.status)
    {
    case 206:
        if (validator[0]) wcscpy(transfer->validator, validator);
        response_time(&resp, &transfer->remote_time);
        if (find_boundary(&resp, parts->boundary, sizeof(parts->boundary)))
            hr = read_multipart(parts, batch);
        else hr = read_single(parts, &resp);
        /* Every answer brings bytes, or the next GET would ask the same again. */
        if (SUCCEEDED(hr) && transfer->transferred == before)
            hr = http_fail_response(conn, BG_E_INVALID_SERVER_RESPONSE, "no part");
        break;

    case 200:
        if (validator[0] && transfer->validator[0] && wcscmp(validator, transfer->validator))
        {
            /* If-Range did its job: the whole of another version. */
            http_end_response(conn);
            if (transfer->random && (transfer->had_data || transfer->transferred))
                hr = http_fail_response(conn, BG_E_REMOTE_FILE_CHANGED, "the file changed");
            else if (transfer->random || !transfer->transferred)
                hr = ++parts->restarts > HTTP_MAX_RESTARTS
                        ? http_fail_response(conn, BG_E_REMOTE_FILE_CHANGED, "keeps changing")
                        : S_OK;
            else hr = http_restart(conn, &parts->restarts);
            transfer->validator[0] = 0;
            if (SUCCEEDED(hr)) hr = S_FALSE;
            break;
        }
        if (batch > 1)
        {
            WARN("%s: no answer to %lu ranges, asking for one at a time\n",
                 debugstr_w(conn->url), batch);
            parts->single = TRUE;
            http_end_response(conn);
            break;
        }
        /* A span of the whole file is all of a 200. */
        if (parts->size == BG_SIZE_UNKNOWN || span->start || span->end != parts->size
                || resp.length != parts->size)
            hr = http_fail_response(conn, BG_E_INSUFFICIENT_RANGE_SUPPORT, "Range ignored");
        else
        {
            resp.first = 0;
            resp.last = parts->size - 1;
            resp.size = parts->size;
            resp.has_range = TRUE;
            hr = read_single(parts, &resp);
        }
        break;

    case 416:
        /* wire-and-tools.md §1.4: the file shrank below a range. */
        hr = http_fail_response(conn, BG_E_INVALID_RANGE, "range not satisfiable");
        break;

    default:
        hr = http_fail_status(conn, resp.status);
        break;
    }
    http_end_response(conn);

done:
    http_response_clear(&resp);
    return hr;
}

/* wire-and-tools.md §1.1 for parts of a file: HEAD, then GETs until every span is in. */
static HRESULT http_fetch_parts(struct http_conn *conn)
{
    struct transfer *transfer = conn->transfer;
    struct parts parts;
    HRESULT hr;

    memset(&parts, 0, sizeof(parts));
    parts.conn = conn;
    if (!(parts.spans = malloc(max(transfer->range_count, 1) * sizeof(*parts.spans))))
        return http_fail(conn, E_OUTOFMEMORY);
    do
    {
        hr = parts_head(&parts);
        while (hr == S_OK && parts.next < parts.count) hr = parts_get(&parts);
    } while (hr == S_FALSE);
    free(parts.spans);
    return hr;
}

HRESULT http_fill(struct transfer *transfer)
{
    struct http_conn conn;
    HRESULT hr;

    transfer->transferred = 0;
    transfer->restarted = FALSE;
    transfer->error = S_OK;
    transfer->error_context = BG_ERROR_CONTEXT_NONE;
    transfer->transient = FALSE;
    transfer->protocol = L"http";
    if (transfer->abort) return transfer_fail(transfer, E_ABORT, BG_ERROR_CONTEXT_NONE, FALSE);
    /* Learn File6: on-demand files come from HTTP and HTTPS servers only. */
    if (_wcsnicmp(transfer->remote_name, L"http://", 7)
            && _wcsnicmp(transfer->remote_name, L"https://", 8))
        return transfer_fail(transfer, BG_E_RANDOM_ACCESS_NOT_SUPPORTED,
                             BG_ERROR_CONTEXT_REMOTE_FILE, FALSE);
    conn_init(&conn, transfer);
    if (!(conn.url = _wcsdup(transfer->remote_name)))
        return transfer_fail(transfer, E_OUTOFMEMORY, BG_ERROR_CONTEXT_GENERAL_TRANSPORT, TRUE);
    hr = http_fetch_parts(&conn);
    if (conn.redirected)
    {
        free(transfer->final_url);
        transfer->final_url = conn.url;
        conn.url = NULL;
    }
    conn_cleanup(&conn);
    TRACE("%s: hr %#lx, %I64u bytes of %I64d\n", debugstr_w(transfer->remote_name), hr,
          transfer->transferred, (INT64)transfer->total);
    return hr;
}

HRESULT http_download(struct transfer *transfer)
{
    struct http_conn conn;
    HRESULT hr;

    /* behaviour.md §4.4: GetProtocol says "http" for HTTP and HTTPS alike. */
    transfer->protocol = L"http";
    conn_init(&conn, transfer);
    if (!(conn.url = _wcsdup(transfer->remote_name)))
        return transfer_fail(transfer, E_OUTOFMEMORY, BG_ERROR_CONTEXT_GENERAL_TRANSPORT, TRUE);

    if (transfer->ranges) hr = http_fetch_parts(&conn);
    else if (transfer->http_method && wcscmp(transfer->http_method, L"GET"))
        hr = http_fetch_whole(&conn);
    else hr = http_fetch(&conn);

    if (conn.redirected)
    {
        free(transfer->final_url);
        transfer->final_url = conn.url;
        conn.url = NULL;
    }
    conn_cleanup(&conn);
    return hr;
}

HRESULT http_conn_create(struct transfer *transfer, struct http_conn **out)
{
    *out = malloc(sizeof(**out));
    if (!*out) return E_OUTOFMEMORY;
    conn_init(*out, transfer);
    return S_OK;
}

void http_conn_free(struct http_conn *conn)
{
    if (!conn) return;
    conn_cleanup(conn);
    free(conn);
}

HRESULT http_conn_send(struct http_conn *conn, const WCHAR *url, const WCHAR *method,
                       const WCHAR *headers, const void *body, DWORD size,
                       struct http_response *resp)
{
    WCHAR *copy = _wcsdup(url);

    if (!copy) return http_fail(conn, E_OUTOFMEMORY);
    free(conn->url);
    conn->url = copy;
    return http_request(conn, method, headers, body, size, FALSE, resp);
}

void http_conn_end(struct http_conn *conn)
{
    http_end_response(conn);
}
