/* The BITS upload protocol, client side ([MC-BUP], wire-and-tools.md §2): the packets of an
 * upload job's session, sent as BITS_POST requests through http.c's client, one at a time.
 *
 * A session: Create-Session offers the one protocol there is and gets a session id, and maybe
 * a BITS-Host-Id: the later packets then go to that host, the first of them a Ping (§2.9).
 * Fragments carry the local file in order, each answered with the offset the server expects
 * next, until the server has all of it (for upload-reply jobs that Ack names the reply).  The
 * engine closes the session with Close-Session once it is done with it (after fetching the
 * reply), and cancels it with Cancel-Session when the job is cancelled.
 *
 * Recovery (§2.6, §2.8): a 416 says where the server stands, and the fragments go on from
 * there; BG_E_SESSION_NOT_FOUND opens a new session, from byte 0; a 413 halves the fragments,
 * which then never grow past that.  Fragments start at 64 KiB and double after each Ack up to
 * 16 MiB (foreground jobs start at 16 MiB), so a few round trips reach full speed while a
 * server that refuses large bodies costs little.  A fragment is one read of the local file and
 * one request; the engine hears of progress once per Ack.  A connection that fails is the
 * job's transient error: the next attempt goes on in the same session from the bytes the
 * server acknowledged, and the server answers a 416 if it has fewer.
 *
 * Errors (§2.11): an answer with BITS-Error-Code reports that code, in the context of
 * BITS-Error-Context (REMOTE_APPLICATION for 7, REMOTE_FILE otherwise); one without reports
 * BG_E_HTTP_ERROR_<status> in REMOTE_FILE; transient or fatal by the status (§1.7), except
 * BG_E_TOO_LARGE, which no retry cures.  An answer that breaks the protocol is
 * BG_E_INVALID_SERVER_RESPONSE, fatal.  The local file may not change once its upload began:
 * its size and last write time are checked before each fragment (BG_E_LOCAL_FILE_CHANGED,
 * LOCAL_FILE, fatal).
 *
 * Authentication: http.c answers a 401 or 407 with the job's credentials and sends the same
 * packet again (§2.6), as for downloads.  Not done: the optional Ping before Create-Session,
 * whose purpose is to answer a challenge early; Content-Encoding other than identity, which is
 * all a BITS server accepts.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>

#include "qmgr_private.h"

DEFAULT_DEBUG_CHANNEL(qmgr);

#define FRAGMENT_MIN        (4u << 10)
#define FRAGMENT_START      (64u << 10)
#define FRAGMENT_MAX        (16u << 20)
#define MAX_STALE_ACKS      3       /* Acks in a row that move nothing: the server is stuck */
#define MAX_LOST_SESSIONS   2       /* sessions lost in a row before a byte is acknowledged */
#define HEADERS_MAX         (UPLOAD_SESSION_MAX + MAX_PATH + 256)   /* characters */
#define REPLY_URL_MAX       8192    /* bytes; [MC-BUP] 2.2: header values SHOULD be <= 4 KB */

/* wire-and-tools.md §2.1: the only protocol, "BITS 1.5 Upload Protocol". */
static const WCHAR upload_protocol[] = L"{7df0354d-249b-430f-820d-3d2a9bef4931}";
static const char upload_protocol_a[] = "{7df0354d-249b-430f-820d-3d2a9bef4931}";

struct upload
{
    struct transfer *transfer;
    struct http_conn *conn;
    struct http_response resp;      /* the answer to the last packet */
    WCHAR *url;                     /* where packets go: the remote name, on the Host-Id */
    const WCHAR *content_name;      /* the local file's name, without its directory */
    HANDLE file;                    /* the local file, while sending */
    BYTE *buffer;
    DWORD buffer_size;
    DWORD fragment;                 /* the size of the next fragment */
    DWORD ceiling;                  /* the largest one, lowered by 413s */
};

static HRESULT upload_fail(struct upload *up, HRESULT hr, BG_ERROR_CONTEXT context,
                           BOOL transient)
{
    return transfer_fail(up->transfer, hr, context, transient);
}

/* A server that answers what the protocol does not allow: fatal. */
static HRESULT invalid_response(struct upload *up, const char *why)
{
    WARN("%s: %s\n", debugstr_w(up->url), why);
    http_conn_end(up->conn);
    return upload_fail(up, BG_E_INVALID_SERVER_RESPONSE, BG_ERROR_CONTEXT_REMOTE_FILE, FALSE);
}

/* A host a URL can carry: letters, digits and the marks of names and IP addresses. */
static BOOL is_host(const WCHAR *host)
{
    return *host && !host[wcsspn(host, L"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                       L"0123456789.-_:[]")];
}

/* up->url: the remote name, with the host replaced by the session's Host-Id if it has one
 * (§2.9).  A Host-Id with a port takes the place of the URL's port too; an IPv6 address gets
 * its brackets. */
static HRESULT make_url(struct upload *up)
{
    const WCHAR *remote = up->transfer->remote_name, *host = up->transfer->session.host;
    const WCHAR *auth, *auth_end, *port = NULL, *p;
    BOOL bracket = FALSE, keep_port = TRUE;
    size_t size, colons = 0;
    WCHAR *url;

    free(up->url);
    up->url = NULL;
    if (!host[0])
    {
        up->url = _wcsdup(remote);
        return up->url ? S_OK : E_OUTOFMEMORY;
    }
    auth = wcsstr(remote, L"://");
    if (!auth) return E_INVALIDARG;     /* file.c takes only http:// and https:// */
    auth += 3;
    auth_end = auth + wcscspn(auth, L"/?#");
    for (p = auth_end; p > auth && p[-1] != '@'; p--);
    auth = p;
    if (*auth == '[')
    {
        p = wmemchr(auth, ']', auth_end - auth);
        if (p && p + 1 < auth_end && p[1] == ':') port = p + 1;
    }
    else port = wmemchr(auth, ':', auth_end - auth);
    for (p = host; *p; p++) if (*p == ':') colons++;
    if (host[0] == '[') keep_port = !wcsstr(host, L"]:");
    else if (colons > 1) bracket = TRUE;
    else keep_port = !colons;

    size = (auth - remote) + wcslen(host) + 3 + (port ? auth_end - port : 0) + wcslen(auth_end);
    if (!(url = malloc(size * sizeof(WCHAR)))) return E_OUTOFMEMORY;
    swprintf(url, size, L"%.*ls%ls%ls%ls%.*ls%ls", (int)(auth - remote), remote,
             bracket ? L"[" : L"", host, bracket ? L"]" : L"",
             keep_port && port ? (int)(auth_end - port) : 0, keep_port && port ? port : L"",
             auth_end);
    up->url = url;
    TRACE("packets go to %s\n", debugstr_w(url));
    return S_OK;
}

/* §2.9: packets to a Host-Id that cannot be reached start its fallback timer; once it ran
 * out they go to the URL's own host again.  TRUE when that just happened. */
static BOOL host_fallback(struct upload *up)
{
    struct transfer *transfer = up->transfer;
    ULONG timeout = transfer->session.host_timeout;
    ULONGLONG now = clock_ticks();

    if (timeout == ~0u) return FALSE;
    if (!transfer->host_down_since) transfer->host_down_since = now;
    if (now - transfer->host_down_since < timeout * 1000ull) return FALSE;
    WARN("%s unreachable for %lu s, back to %s\n", debugstr_w(transfer->session.host), timeout,
         debugstr_w(transfer->remote_name));
    transfer->session.host[0] = 0;
    transfer->host_down_since = 0;
    return TRUE;
}

/* Sends a BITS_POST packet of that type, in the session if there is one, with more header
 * lines and a body, and reads the head of the answer into up->resp.  Failures to talk to the
 * server are recorded (http.c); the answer is the caller's to judge. */
static HRESULT send_packet(struct upload *up, const WCHAR *type, const WCHAR *more,
                           const void *body, DWORD size)
{
    struct transfer *transfer = up->transfer;
    WCHAR headers[HEADERS_MAX];
    size_t len;
    HRESULT hr;

    for (;;)
    {
        len = swprintf(headers, ARRAYSIZE(headers), L"BITS-Packet-Type: %ls\r\n", type);
        if (transfer->session.id[0])
            len += swprintf(headers + len, ARRAYSIZE(headers) - len, L"BITS-Session-Id: %ls\r\n",
                            transfer->session.id);
        if (more) swprintf(headers + len, ARRAYSIZE(headers) - len, L"%ls", more);
        http_conn_end(up->conn);
        TRACE("%s to %s, %lu bytes\n", debugstr_w(type), debugstr_w(up->url), size);
        /* [MC-BUP] 2.2: every packet has a Content-Length, 0 without a body. */
        hr = http_conn_send(up->conn, up->url, L"BITS_POST", headers, body ? body : "", size,
                            &up->resp);
        if (!transfer->session.host[0]) return hr;
        if (SUCCEEDED(hr))
        {
            transfer->host_down_since = 0;
            return hr;
        }
        if (hr == E_ABORT || hr == E_OUTOFMEMORY || !host_fallback(up)) return hr;
        hr = make_url(up);
        if (FAILED(hr)) return upload_fail(up, hr, BG_ERROR_CONTEXT_GENERAL_TRANSPORT, TRUE);
    }
}

/* An answer is an Ack ([MC-BUP] 2.2.1.2). */
static BOOL is_ack(struct upload *up)
{
    char value[16];

    return http_header(&up->resp, "BITS-Packet-Type", value, sizeof(value))
            && !_stricmp(value, "Ack");
}

/* A number of a BITS header: hex with or without "0x" (error codes, contexts). */
static BOOL header_hex(struct upload *up, const char *name, DWORD *out)
{
    char value[32], *end;
    const char *p = value;

    if (!http_header(&up->resp, name, value, sizeof(value))) return FALSE;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) p += 2;
    if (!isxdigit((unsigned char)*p)) return FALSE;
    *out = strtoul(p, &end, 16);
    return !*end;
}

/* A decimal number of a BITS header. */
static BOOL header_u64(struct upload *up, const char *name, UINT64 *out)
{
    char value[32], *p;

    if (!http_header(&up->resp, name, value, sizeof(value))) return FALSE;
    *out = 0;
    for (p = value; *p >= '0' && *p <= '9'; p++)
    {
        if (*out > (~(UINT64)0 - 9) / 10) return FALSE;
        *out = *out * 10 + (*p - '0');
    }
    return p != value && !*p;
}

/* BITS-Error-Code, called BITS-Error by [MC-BUP]; FALSE without one. */
static BOOL error_code(struct upload *up, HRESULT *code)
{
    DWORD value;

    if (!header_hex(up, "BITS-Error-Code", &value) && !header_hex(up, "BITS-Error", &value))
        return FALSE;
    *code = value;
    return TRUE;
}

/* [MC-BUP] 3.1.5.1.7: the server does not know the session (expired, or another server). */
static BOOL session_lost(struct upload *up)
{
    HRESULT code;

    return up->resp.status >= 400 && error_code(up, &code) && code == BG_E_SESSION_NOT_FOUND;
}

/* §2.11: the error of an answer that refused a packet. */
static HRESULT refused(struct upload *up)
{
    BG_ERROR_CONTEXT context = BG_ERROR_CONTEXT_REMOTE_FILE;
    DWORD status = up->resp.status, value;
    HRESULT code = HTTP_STATUS_HRESULT(status), given;
    BOOL transient = http_status_transient(status);

    if (error_code(up, &given) && FAILED(given))
    {
        code = given;
        if (header_hex(up, "BITS-Error-Context", &value)
                && value == BG_ERROR_CONTEXT_REMOTE_APPLICATION)
            context = BG_ERROR_CONTEXT_REMOTE_APPLICATION;
        /* wire-and-tools.md §2.4: the file is over the server's limit, for good. */
        if (code == BG_E_TOO_LARGE) transient = FALSE;
    }
    WARN("%s: status %lu, error %#lx, context %u\n", debugstr_w(up->url), status, code, context);
    http_conn_end(up->conn);
    return upload_fail(up, code, context, transient);
}

static void report(struct upload *up)
{
    if (up->transfer->progress) up->transfer->progress(up->transfer);
}

/* The size and last write time of the local file, the write time as the validator text. */
static HRESULT source_identity(struct upload *up, UINT64 *size, WCHAR *validator, size_t len)
{
    WIN32_FILE_ATTRIBUTE_DATA data;
    DWORD error;

    if (!GetFileAttributesExW(up->transfer->local_name, GetFileExInfoStandard, &data))
    {
        error = GetLastError();
        WARN("cannot read %s, error %lu\n", debugstr_w(up->transfer->local_name), error);
        return upload_fail(up, HRESULT_FROM_WIN32(error), BG_ERROR_CONTEXT_LOCAL_FILE,
                           transfer_transient(error));
    }
    *size = (UINT64)data.nFileSizeHigh << 32 | data.nFileSizeLow;
    swprintf(validator, len, L"%08lX%08lX", data.ftLastWriteTime.dwHighDateTime,
             data.ftLastWriteTime.dwLowDateTime);
    return S_OK;
}

/* Learn AddFile, behaviour.md §4.1: the local file is what it was when its upload began. */
static HRESULT check_source(struct upload *up)
{
    struct transfer *transfer = up->transfer;
    WCHAR validator[ARRAYSIZE(transfer->validator)];
    UINT64 size;
    HRESULT hr;

    hr = source_identity(up, &size, validator, ARRAYSIZE(validator));
    if (FAILED(hr)) return hr;
    if (size == transfer->total && !wcscmp(validator, transfer->validator)) return S_OK;
    WARN("%s changed: %I64u bytes, time %s\n", debugstr_w(transfer->local_name), size,
         debugstr_w(validator));
    return upload_fail(up, BG_E_LOCAL_FILE_CHANGED, BG_ERROR_CONTEXT_LOCAL_FILE, FALSE);
}

/* Opens the local file and learns its size and time.  Once the server acknowledged bytes of
 * it, it must be the file they came from. */
static HRESULT open_source(struct upload *up)
{
    struct transfer *transfer = up->transfer;
    WCHAR validator[ARRAYSIZE(transfer->validator)];
    DWORD error;
    UINT64 size;
    HRESULT hr;

    hr = source_identity(up, &size, validator, ARRAYSIZE(validator));
    if (FAILED(hr)) return hr;
    if (transfer->transferred && (size != transfer->known_size || size < transfer->transferred
                                  || wcscmp(validator, transfer->validator)))
    {
        WARN("%s changed: %I64u bytes, time %s; was %I64u, %s\n",
             debugstr_w(transfer->local_name), size, debugstr_w(validator), transfer->known_size,
             debugstr_w(transfer->validator));
        return upload_fail(up, BG_E_LOCAL_FILE_CHANGED, BG_ERROR_CONTEXT_LOCAL_FILE, FALSE);
    }
    transfer->total = size;
    wcscpy(transfer->validator, validator);
    up->file = CreateFileW(transfer->local_name, GENERIC_READ,
                           FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                           OPEN_EXISTING, FILE_FLAG_SEQUENTIAL_SCAN, NULL);
    if (up->file == INVALID_HANDLE_VALUE)
    {
        error = GetLastError();
        WARN("cannot open %s, error %lu\n", debugstr_w(transfer->local_name), error);
        return upload_fail(up, HRESULT_FROM_WIN32(error), BG_ERROR_CONTEXT_LOCAL_FILE,
                           transfer_transient(error));
    }
    return S_OK;
}

/* Reads size bytes from offset into the buffer; a file that ends early changed. */
static HRESULT read_source(struct upload *up, UINT64 offset, DWORD size)
{
    LARGE_INTEGER pos;
    DWORD got, done = 0, error;
    BYTE *buffer;

    if (size > up->buffer_size)
    {
        if (!(buffer = realloc(up->buffer, size)))
            return upload_fail(up, E_OUTOFMEMORY, BG_ERROR_CONTEXT_GENERAL_TRANSPORT, TRUE);
        up->buffer = buffer;
        up->buffer_size = size;
    }
    pos.QuadPart = offset;
    if (!SetFilePointerEx(up->file, pos, NULL, FILE_BEGIN)) goto failed;
    while (done < size)
    {
        if (!ReadFile(up->file, up->buffer + done, size - done, &got, NULL)) goto failed;
        if (!got)
        {
            WARN("%s ends at %I64u\n", debugstr_w(up->transfer->local_name), offset + done);
            return upload_fail(up, BG_E_LOCAL_FILE_CHANGED, BG_ERROR_CONTEXT_LOCAL_FILE, FALSE);
        }
        done += got;
    }
    return S_OK;

failed:
    error = GetLastError();
    WARN("reading %s failed, error %lu\n", debugstr_w(up->transfer->local_name), error);
    return upload_fail(up, HRESULT_FROM_WIN32(error), BG_ERROR_CONTEXT_LOCAL_FILE,
                       transfer_transient(error));
}

/* §2.9: the session moved to a Host-Id; a Ping there opens the connection to it. */
static HRESULT ping(struct upload *up)
{
    HRESULT hr;

    hr = send_packet(up, L"Ping", NULL, NULL, 0);
    if (FAILED(hr)) return hr;
    if (up->resp.status != 200) return refused(up);
    if (!is_ack(up)) return invalid_response(up, "Ping not acknowledged");
    http_conn_end(up->conn);
    return S_OK;
}

/* Takes the BITS-Host-Id of a Create-Session Ack, if any, for the packets that follow. */
static HRESULT take_host(struct upload *up)
{
    struct transfer *transfer = up->transfer;
    char host[UPLOAD_HOST_MAX];
    UINT64 timeout;
    HRESULT hr;

    transfer->session.host[0] = 0;
    transfer->session.host_timeout = ~0u;
    transfer->host_down_since = 0;
    if (!http_header(&up->resp, "BITS-Host-Id", host, sizeof(host)) || !host[0])
        return make_url(up);
    MultiByteToWideChar(CP_UTF8, 0, host, -1, transfer->session.host,
                        ARRAYSIZE(transfer->session.host));
    if (!is_host(transfer->session.host))
    {
        transfer->session.host[0] = 0;
        return invalid_response(up, "bad BITS-Host-Id");
    }
    /* No timeout: never go back to the URL's host. */
    if (header_u64(up, "BITS-Host-Id-Fallback-Timeout", &timeout))
        transfer->session.host_timeout = (ULONG)min(timeout, ~0u);
    hr = make_url(up);
    if (FAILED(hr)) return upload_fail(up, hr, BG_ERROR_CONTEXT_GENERAL_TRANSPORT, TRUE);
    return S_OK;
}

/* §2.4 Create-Session: a new session, to which the upload starts again from byte 0. */
static HRESULT create_session(struct upload *up)
{
    struct transfer *transfer = up->transfer;
    WCHAR more[MAX_PATH + 96];
    char session[UPLOAD_SESSION_MAX], protocol[64];
    HRESULT hr;

    transfer->session.id[0] = 0;
    swprintf(more, ARRAYSIZE(more), L"BITS-Supported-Protocols: %ls\r\nContent-Name: %ls\r\n",
             upload_protocol, up->content_name);
    hr = send_packet(up, L"Create-Session", more, NULL, 0);
    if (FAILED(hr)) return hr;
    if (up->resp.status != 200 && up->resp.status != 201) return refused(up);
    if (!is_ack(up)) return invalid_response(up, "Create-Session not acknowledged");
    if (!http_header(&up->resp, "BITS-Protocol", protocol, sizeof(protocol))
            || _stricmp(protocol, upload_protocol_a))
        return invalid_response(up, "no protocol in common");
    if (!http_header(&up->resp, "BITS-Session-Id", session, sizeof(session)) || !session[0]
            || session[strcspn(session, " \t")])
        return invalid_response(up, "no session id");
    MultiByteToWideChar(CP_UTF8, 0, session, -1, transfer->session.id,
                        ARRAYSIZE(transfer->session.id));
    TRACE("session %s\n", debugstr_w(transfer->session.id));
    hr = take_host(up);
    if (FAILED(hr)) return hr;
    http_conn_end(up->conn);
    transfer->transferred = 0;
    report(up);     /* the engine saves the session, and the job is TRANSFERRING */
    if (transfer->session.host[0]) return ping(up);
    return S_OK;
}

/* §2.4 Close-Session and Cancel-Session.  A session the server lost needs neither. */
static HRESULT end_session(struct upload *up, const WCHAR *type)
{
    struct transfer *transfer = up->transfer;
    HRESULT hr;

    if (!transfer->session.id[0]) return S_OK;
    hr = send_packet(up, type, NULL, NULL, 0);
    if (FAILED(hr)) return hr;
    if (session_lost(up)) WARN("%s: the server had lost the session\n", debugstr_w(up->url));
    else if (up->resp.status != 200) return refused(up);
    else if (!is_ack(up)) return invalid_response(up, "end of session not acknowledged");
    http_conn_end(up->conn);
    TRACE("%s %s\n", debugstr_w(type), debugstr_w(transfer->session.id));
    transfer->session.id[0] = 0;
    transfer->session.host[0] = 0;
    transfer->host_down_since = 0;
    return S_OK;
}

/* The Ack of the fragment that made the upload whole names the reply of an upload-reply job
 * (§2.10), an absolute http:// or https:// URL; transfer->reply_url takes it. */
static HRESULT take_reply_url(struct upload *up)
{
    struct transfer *transfer = up->transfer;
    char value[REPLY_URL_MAX];
    WCHAR *url;
    int len;

    if (!http_header(&up->resp, "BITS-Reply-URL", value, sizeof(value))) return S_OK;
    if (_strnicmp(value, "http://", 7) && _strnicmp(value, "https://", 8))
        return invalid_response(up, "bad BITS-Reply-URL");
    len = MultiByteToWideChar(CP_UTF8, 0, value, -1, NULL, 0);
    if (len <= 0) return invalid_response(up, "bad BITS-Reply-URL");
    if (!(url = malloc(len * sizeof(WCHAR))))
        return upload_fail(up, E_OUTOFMEMORY, BG_ERROR_CONTEXT_GENERAL_TRANSPORT, TRUE);
    MultiByteToWideChar(CP_UTF8, 0, value, -1, url, len);
    TRACE("reply at %s\n", debugstr_w(url));
    free(transfer->reply_url);
    transfer->reply_url = url;
    return S_OK;
}

/* §2.4 Fragment, in a loop until the server has every byte. */
static HRESULT send_fragments(struct upload *up)
{
    struct transfer *transfer = up->transfer;
    UINT64 total = transfer->total, first, received;
    unsigned int stale = 0, lost = 0;
    WCHAR more[MAX_PATH + 128];
    DWORD size, status;
    size_t len;
    HRESULT hr;

    while (transfer->transferred < total)
    {
        if (transfer->abort) return upload_fail(up, E_ABORT, BG_ERROR_CONTEXT_NONE, FALSE);
        hr = check_source(up);
        if (SUCCEEDED(hr) && !transfer->session.id[0]) hr = create_session(up);
        if (FAILED(hr)) return hr;
        first = transfer->transferred;
        size = (DWORD)min(up->fragment, total - first);
        hr = read_source(up, first, size);
        if (FAILED(hr)) return hr;
        len = swprintf(more, ARRAYSIZE(more), L"Content-Range: bytes %I64u-%I64u/%I64u\r\n",
                       first, first + size - 1, total);
        /* Learn "Fragment": the file's name goes with the first one. */
        if (!first)
            swprintf(more + len, ARRAYSIZE(more) - len, L"Content-Name: %ls\r\n",
                     up->content_name);
        hr = send_packet(up, L"Fragment", more, up->buffer, size);
        if (FAILED(hr)) return hr;
        status = up->resp.status;

        if (session_lost(up))
        {
            WARN("session %s lost at %I64u\n", debugstr_w(transfer->session.id), first);
            http_conn_end(up->conn);
            if (++lost > MAX_LOST_SESSIONS)
                return upload_fail(up, BG_E_SESSION_NOT_FOUND, BG_ERROR_CONTEXT_REMOTE_FILE,
                                   TRUE);
            transfer->session.id[0] = 0;
            transfer->transferred = 0;
            report(up);
            continue;
        }
        if (status == 413)
        {
            if (size <= FRAGMENT_MIN) return refused(up);
            up->ceiling = max(size / 2, FRAGMENT_MIN);
            up->fragment = up->ceiling;
            TRACE("fragments of %lu bytes at most\n", up->ceiling);
            http_conn_end(up->conn);
            continue;
        }
        if (status != 200 && status != 416) return refused(up);
        if (!is_ack(up)) return invalid_response(up, "Fragment not acknowledged");
        if (!header_u64(up, "BITS-Received-Content-Range", &received) || received > total)
            return invalid_response(up, "no BITS-Received-Content-Range");
        if (status == 416) WARN("the server expects byte %I64u, not %I64u\n", received, first);
        if (received > first)
        {
            stale = 0;
            lost = 0;
            if (status == 200) up->fragment = min(up->fragment * 2, up->ceiling);
        }
        else if (++stale > MAX_STALE_ACKS) return invalid_response(up, "no progress");
        if (received == total)
        {
            hr = take_reply_url(up);
            if (FAILED(hr)) return hr;
        }
        http_conn_end(up->conn);
        transfer->transferred = received;
        report(up);
    }
    return S_OK;
}

/* UPLOAD_SEND: the whole file on the server. */
static HRESULT send_file(struct upload *up)
{
    struct transfer *transfer = up->transfer;
    HRESULT hr;

    hr = open_source(up);
    if (FAILED(hr)) return hr;
    up->ceiling = FRAGMENT_MAX;
    up->fragment = transfer->foreground ? FRAGMENT_MAX : FRAGMENT_START;
    if (transfer->total) return send_fragments(up);
    /* An empty file (emptied since AddFile refused it empty) has no fragment to send: the
     * server takes it at Close-Session [inferred]. */
    hr = transfer->session.id[0] ? S_OK : create_session(up);
    if (SUCCEEDED(hr)) hr = end_session(up, L"Close-Session");
    return hr;
}

HRESULT transport_upload(struct transfer *transfer, enum upload_step step)
{
    struct upload up;
    const WCHAR *slash;
    HRESULT hr;

    TRACE("%s, step %u, session %s, from %I64u\n", debugstr_w(transfer->remote_name), step,
          debugstr_w(transfer->session.id), transfer->offset);
    memset(&up, 0, sizeof(up));
    up.transfer = transfer;
    up.file = INVALID_HANDLE_VALUE;
    slash = wcsrchr(transfer->local_name, '\\');
    up.content_name = slash ? slash + 1 : transfer->local_name;
    http_response_init(&up.resp);
    transfer->transferred = transfer->offset;
    transfer->total = transfer->known_size;
    transfer->restarted = FALSE;
    transfer->error = S_OK;
    transfer->error_context = BG_ERROR_CONTEXT_NONE;
    transfer->transient = FALSE;
    /* behaviour.md §4.4: GetProtocol says "http" for HTTP and HTTPS alike. */
    transfer->protocol = L"http";
    hr = http_conn_create(transfer, &up.conn);
    if (SUCCEEDED(hr)) hr = make_url(&up);
    if (FAILED(hr))
        hr = upload_fail(&up, hr, BG_ERROR_CONTEXT_GENERAL_TRANSPORT, hr == E_OUTOFMEMORY);
    else if (transfer->abort) hr = upload_fail(&up, E_ABORT, BG_ERROR_CONTEXT_NONE, FALSE);
    else if (step == UPLOAD_SEND) hr = send_file(&up);
    else hr = end_session(&up, step == UPLOAD_CLOSE ? L"Close-Session" : L"Cancel-Session");

    if (up.conn) http_conn_end(up.conn);
    http_conn_free(up.conn);
    http_response_clear(&up.resp);
    if (up.file != INVALID_HANDLE_VALUE) CloseHandle(up.file);
    free(up.buffer);
    free(up.url);
    TRACE("%s: hr %#lx, %I64u of %I64u bytes\n", debugstr_w(transfer->remote_name), hr,
          transfer->transferred, transfer->total);
    return hr;
}
