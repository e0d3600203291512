/* HTTP/1.1 test server living inside the conformance executable, for the download tests.
 *
 * It listens on 127.0.0.1 on an ephemeral port, runs an accept thread and one thread per
 * connection, and generates every answer from the request URL: nothing is read from disk, so
 * a file of several GiB costs no memory.  One server is shared by all tests of a process:
 * call server_start() at the top of each test (it does nothing when already running) and
 * server_stop() once, at the end of the unit.  All functions are thread-safe.
 *
 * URLs (build them with server_url()):
 *
 *     /file/<name>?<options>        generated content, see below
 *     /redirect/<code>/<rest>       answers <code> (301, 302, 303, 307 or 308) with
 *                                   Location: http://127.0.0.1:<port>/<rest>, query kept;
 *                                   chains work: /redirect/301/redirect/302/file/a?size=1
 *     anything else                 404
 *
 * A file's bytes are a fixed function of its name, version and offset (server_fill()), so a
 * downloaded file can be checked byte for byte with server_verify_file().  Its version is 0
 * until server_bump(name) or the "changing" option raises it; the version changes the bytes,
 * the ETag and Last-Modified (one day later per version).  Options, separated by '&':
 *
 *     size=N          the file has N bytes (default 0); any 64-bit size
 *     status=N        answer N with a small HTML body (so a client that saves it is caught),
 *                     to GET and HEAD; 416 carries the unsatisfied form of Content-Range
 *                     ("bytes", an asterisk, "/N"), 401 and 407 a Basic challenge
 *     headstatus=N    the same, for HEAD requests only (a server without HEAD support)
 *     times=K         status/headstatus apply to the first K requests for the name only,
 *                     drop to the first K responses it cuts (defaults: status always, drop
 *                     once; times=0 means always)
 *     norange         ignore Range: always 200 with the whole body, "Accept-Ranges: none"
 *     nolength        no Content-Length; the body ends when the server closes the connection
 *     chunked         Transfer-Encoding: chunked instead of Content-Length (an HTTP/1.0
 *                     client gets the body without either, ended by closing)
 *     slow=B          send the body at about B bytes per second
 *     stall=S         never send byte S or later: after the bytes before S, keep the
 *                     connection open without sending until server_release(name) or
 *                     server_stop() or the client goes away; a released name does not
 *                     stall again until server_reset(name)
 *     drop=D          close the connection instead of sending byte D (a GET whose range
 *                     starts at or after D is closed right after its headers); see times=
 *     badlength       a GET's Content-Length is 1000 more than the body sent, then close
 *     badrange        a GET gets 206 whose Content-Range is one byte after the range asked
 *                     for (0-(size-1) without Range), with the bytes that were asked for
 *     badtotal        a 206's Content-Range reports size+1 as the total
 *     changing        every GET of the name raises its version by one, once the GET has
 *                     taken the version it is served
 *     novalidators    no Last-Modified and no ETag
 *     close           "Connection: close" on every answer (no keep-alive)
 *     delay=MS        wait MS milliseconds (at most 600000) before answering
 *     auth=USER:PASS  Basic authentication required: 401 with a challenge without it
 *
 * Without options a file is served like a static file by a correct HTTP/1.1 server: HEAD and
 * GET, "Accept-Ranges: bytes", Last-Modified and ETag, Range "bytes=a-b", "a-", "-n" and
 * lists (206 with Content-Range, multipart/byteranges for several ranges, 416 when nothing
 * is satisfiable, Range ignored when malformed or with more than 16 ranges), If-Range,
 * If-Match, If-Unmodified-Since (412), If-None-Match, If-Modified-Since (304), persistent
 * connections (HTTP/1.1 unless "Connection: close", HTTP/1.0 with "Connection: keep-alive").
 * Other methods get 405; a request body is read and ignored (the upload protocol, BITS_POST,
 * is not served yet).  An unknown option gets 400 and a trace line, to catch typos.  Names
 * are plain ASCII without '?', '&' or '%'.
 * Stall, drop and the hit counters belong to the name, so each test uses its own names.
 * At most 64 connections are served at a time; more are closed at once.
 *
 * The request log keeps the last SERVER_LOG_MAX requests, oldest first.  Functions taking a
 * "path" select entries by the request path without its query ("/file/a"), or by the whole
 * target when the argument contains '?' ("/file/a?size=10"); NULL selects every entry.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#ifndef BITS_TESTS_SERVER_H
#define BITS_TESTS_SERVER_H

#include <windows.h>

#define SERVER_LOG_MAX 512
#define SERVER_METHOD_MAX 16
#define SERVER_TARGET_MAX 512
#define SERVER_VALUE_MAX 128
#define SERVER_HEADERS_MAX 2048

/* One logged request; strings are "" when the header was absent. */
struct server_request
{
    char method[SERVER_METHOD_MAX];
    char target[SERVER_TARGET_MAX];             /* path and query, as sent */
    char range[SERVER_VALUE_MAX];               /* Range */
    char if_range[SERVER_VALUE_MAX];            /* If-Range */
    char if_unmodified_since[SERVER_VALUE_MAX]; /* If-Unmodified-Since */
    char if_match[SERVER_VALUE_MAX];            /* If-Match */
    char headers[SERVER_HEADERS_MAX];           /* every header line, CRLF-terminated */
    unsigned int connection;    /* serial of the TCP connection: equal means a reused one */
    ULONGLONG time;             /* GetTickCount64() when the request had been read */
    unsigned int status;        /* status answered, 0 while not yet answered or none */
    unsigned int version;       /* file version served (/file/ only) */
    UINT64 body_bytes;          /* body bytes sent */
    BOOL finished;              /* the answer is complete (or was cut) */
};

/* Starts the server unless it runs; FALSE (with a trace line) when that is impossible. */
BOOL server_start(void);
/* Closes every socket and joins every thread; a later server_start() starts afresh. */
void server_stop(void);
/* The listening port, 0 when stopped. */
unsigned short server_port(void);
/* "http://127.0.0.1:PORT" + path ('/' added when missing), len in WCHARs; NULL when stopped
 * or too long. */
const WCHAR *server_url(const char *path, WCHAR *buffer, size_t len);

/* Expected content of version 0 (server_fill) or of a given version of a file. */
void server_fill(const char *name, UINT64 offset, void *buffer, size_t len);
void server_fill_version(const char *name, unsigned int version, UINT64 offset, void *buffer,
        size_t len);
/* TRUE when data equals the file's bytes at offset; traces the first difference. */
BOOL server_compare(const char *name, unsigned int version, UINT64 offset, const void *data,
        size_t len);
/* TRUE when the local file has exactly the given size and content; traces why not. */
BOOL server_verify_file(const WCHAR *path, const char *name, UINT64 size);
BOOL server_verify_file_version(const WCHAR *path, const char *name, unsigned int version,
        UINT64 size);
/* Validators of a file version, as the server sends them (the ETag with its quotes). */
void server_file_time(const char *name, unsigned int version, FILETIME *time);
void server_etag(const char *name, unsigned int version, char *out, size_t len);

/* Raises a name's version and returns the new one. */
unsigned int server_bump(const char *name);
unsigned int server_version(const char *name);
/* Lets the name's stalled responses (and later ones) go on. */
void server_release(const char *name);
/* Waits until a response for the name is stalled; FALSE after timeout_ms. */
BOOL server_wait_stalled(const char *name, DWORD timeout_ms);
/* Version 0, hit counters zero, stall armed again. */
void server_reset(const char *name);

unsigned int server_log_count(const char *path);
/* Copies the index-th selected entry; FALSE when there is none. */
BOOL server_log_get(const char *path, unsigned int index, struct server_request *out);
/* The Range header of the index-th selected entry; FALSE (out "") without entry or header. */
BOOL server_log_range(const char *path, unsigned int index, char *out, size_t len);
/* Any header (name case-insensitive), the same way. */
BOOL server_log_header(const char *path, unsigned int index, const char *header, char *out,
        size_t len);
/* Waits until at least count entries are selected and finished; FALSE after timeout_ms. */
BOOL server_log_wait(const char *path, unsigned int count, DWORD timeout_ms);
void server_log_clear(void);

#endif /* BITS_TESTS_SERVER_H */
