/* HTTP/1.1 test server living inside the conformance executable, for the download tests and
 * the upload tests (a BITS upload server, [MC-BUP]).
 *
 * It listens on 127.0.0.1 on an ephemeral port, runs an accept thread and one thread per
 * connection, and generates every answer from the request URL: nothing is read from disk, so
 * a downloaded file of several GiB costs no memory (uploaded files are kept in memory).  One
 * server is shared by all tests of a process: call server_start() at the top of each test (it
 * does nothing when already running) and server_stop() once, at the end of the unit.  All
 * functions are thread-safe.
 *
 * URLs (build them with server_url()):
 *
 *     /file/<name>?<options>        generated content, see below
 *     /redirect/<code>/<rest>       answers <code> (301, 302, 303, 307 or 308) with
 *                                   Location: http://127.0.0.1:<port>/<rest>, query kept;
 *                                   chains work: /redirect/301/redirect/302/file/a?size=1
 *     /upload/<name>?<options>      a BITS upload server, see "Uploads" below
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
 *     coalesce        a Range list is answered sorted by offset, with the ranges that overlap
 *                     or touch merged into one part (RFC 9110 14.2 allows it; BITS does not
 *                     accept it from a server, behaviour.md §2.2): "bytes=10-19,0-9,30-39"
 *                     gets the parts 0-19 and 30-39, "bytes=0-9,10-19" a plain 206 of 0-19
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
 * Other methods get 405 (BITS_POST too: /file/ is no upload server); a request body is read
 * and ignored.  An unknown option gets 400 and a trace line, to catch typos.  Names
 * are plain ASCII without '?', '&' or '%'.
 * Stall, drop and the hit counters belong to the name, so each test uses its own names.
 * At most 64 connections are served at a time; more are closed at once.
 *
 * The request log keeps the last SERVER_LOG_MAX requests, oldest first.  Functions taking a
 * "path" select entries by the request path without its query ("/file/a"), or by the whole
 * target when the argument contains '?' ("/file/a?size=10"); NULL selects every entry.
 *
 * Uploads (wire-and-tools.md §2, [MC-BUP]).  /upload/<name> takes the method BITS_POST (other
 * methods get 405) and dispatches on BITS-Packet-Type, compared case-insensitively: Ping,
 * Create-Session, Fragment, Close-Session and Cancel-Session; a missing or unknown type gets
 * 400 with BITS-Error-Code 0x80070057 and BITS-Error-Context 0x5.  Every answer to a packet
 * is an Ack ("BITS-Packet-Type: Ack") with "Content-Length: 0" and no body (a bad option in
 * the URL gets a plain 400, like on /file/).
 *
 *     Create-Session  needs {7df0354d-249b-430f-820d-3d2a9bef4931} among the space-separated
 *                     BITS-Supported-Protocols (else 400 + 0x80070057); answers 200 with
 *                     BITS-Protocol, a new "{GUID}" BITS-Session-Id and Accept-Encoding
 *     Fragment        "Content-Range: bytes a-b/t" ("bytes" in any case), a body of b-a+1
 *                     bytes and the same t in every fragment of the session, else 400 +
 *                     0x80070057; a > next expected byte: 416; otherwise only the bytes from
 *                     the next expected one on are stored (an overlap is trimmed, nothing is
 *                     rewritten); 200 gives BITS-Received-Content-Range: the next expected
 *                     byte (b+1, or more after an overlap).  The fragment that makes the file
 *                     whole commits it under the name (replacing an earlier one): a real
 *                     server renames its temporary file then
 *     Close-Session   ends the session; a session that is not whole is discarded, except
 *                     one that never got a fragment: it commits an empty file [inferred]
 *     Cancel-Session  ends the session; what it had is discarded, a committed file stays
 *     Ping            200
 * A packet for an unknown, closed, cancelled or lost session gets 500 with BITS-Error-Code
 * 0x8020001F (BG_E_SESSION_NOT_FOUND) and context 0x5 ([MC-BUP] 2.2.1.2); one without
 * BITS-Session-Id 400 + 0x80070057.  Fragment bodies above 64 MiB get 413, files above 256 MiB
 * 500 + 0x80200020 (BG_E_TOO_LARGE).  Sessions belong to their upload name.
 *
 * Upload options, separated by '&' like the download ones; each "once" option acts on the
 * first packet it applies to, then not again until server_reset(name):
 *
 *     create=S        Create-Session is answered S (no session is created)
 *     fragment=S      a Fragment whose last byte is at or after at= is answered S, nothing
 *                     stored
 *     at=O            where fragment= starts to apply (default 0: every fragment)
 *     times=K         create= and fragment= apply K times (default and 0: always)
 *     code=HEX        BITS-Error-Code sent with create= and fragment= (none by default)
 *     context=HEX     BITS-Error-Context sent with code= (default 0x5)
 *     lose=O          once: at the first Fragment whose last byte is at or after O the server
 *                     forgets the session (an expired one): 500 + BG_E_SESSION_NOT_FOUND, for
 *                     that packet and every later one naming the session
 *     maxfragment=N   413 to a Fragment with more than N body bytes
 *     maxsize=N       500 + BG_E_TOO_LARGE (context 0x5) to a Fragment whose total is above N
 *     drop=O          once: the connection is closed while the body of the Fragment that
 *                     holds byte O is read, right before byte O; the bytes before O are kept
 *                     by the session, as by a server that writes while it reads
 *     rewind=N        once: the first Fragment that starts after byte N makes the server
 *                     forget the session's bytes from N on (it pretends to have N bytes) and
 *                     is answered 416 with BITS-Received-Content-Range: N
 *     stall=S         the answer to a Fragment whose last byte is at or after S is held, once
 *                     its body is read, until server_release(name); a fragment whose client
 *                     went away meanwhile is not stored.  A released name does not stall
 *                     again until server_reset(name)
 *     delay=MS        wait MS milliseconds (at most 600000) before answering any packet
 *     reply=N         upload-reply: the Ack of the fragment that makes the file whole carries
 *                     BITS-Reply-URL: http://127.0.0.1:PORT/file/<name>.reply?size=N, an
 *                     ordinary download (server_fill("<name>.reply", ...) gives its bytes)
 *     replystatus=S, replyslow=B, replystall=S
 *                     add status=S, slow=B or stall=S to that reply URL (server_release and
 *                     server_wait_stalled then take "<name>.reply")
 *     auth=USER:PASS  every packet needs Basic authentication (401 with a challenge)
 *
 * The packet log keeps the last SERVER_LOG_MAX upload packets, oldest first, with what was
 * asked and answered (struct server_packet); the request log has them too, as BITS_POST
 * requests.  Functions taking "name" and "type" select packets by upload name and by packet
 * type (case-insensitive); NULL selects all.
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
/* Version 0, hit counters zero, stall armed again; for uploads also every "once" option
 * armed again, the sessions and the committed file forgotten. */
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
/* Clears the request log and the packet log. */
void server_log_clear(void);

/* ---- Uploads ---- */

#define SERVER_PROTOCOL_UPLOAD "{7df0354d-249b-430f-820d-3d2a9bef4931}"

/* One logged upload packet; strings are "" when the header was absent or not answered. */
struct server_packet
{
    char name[SERVER_TARGET_MAX];               /* the upload name of /upload/<name> */
    char type[SERVER_VALUE_MAX];                /* BITS-Packet-Type as sent */
    char session[SERVER_VALUE_MAX];             /* BITS-Session-Id sent, or given by the Ack
                                                 * of a Create-Session */
    char content_range[SERVER_VALUE_MAX];       /* Content-Range */
    char content_name[SERVER_VALUE_MAX];        /* Content-Name */
    char protocols[SERVER_VALUE_MAX];           /* BITS-Supported-Protocols */
    char headers[SERVER_HEADERS_MAX];           /* every header line, CRLF-terminated */
    BOOL has_range;                             /* Content-Range parsed into these: */
    UINT64 first, last, total;
    UINT64 body_length;                         /* Content-Length, 0 without */
    UINT64 body_read;                           /* body bytes the server read */
    unsigned int status;                        /* answered, 0 when none was (drop=) */
    char error_code[SERVER_VALUE_MAX];          /* BITS-Error-Code answered */
    char error_context[SERVER_VALUE_MAX];       /* BITS-Error-Context answered */
    BOOL has_received;
    UINT64 received;                            /* BITS-Received-Content-Range answered */
    char reply_url[SERVER_TARGET_MAX];          /* BITS-Reply-URL answered */
    unsigned int connection;                    /* as in struct server_request */
    ULONGLONG time;                             /* GetTickCount64() when the head was read */
    BOOL finished;                              /* answered, or given up */
};

unsigned int server_packet_count(const char *name, const char *type);
/* Copies the index-th selected packet; FALSE when there is none. */
BOOL server_packet_get(const char *name, const char *type, unsigned int index,
        struct server_packet *out);
/* Waits until at least count selected packets are finished; FALSE after timeout_ms. */
BOOL server_packet_wait(const char *name, const char *type, unsigned int count,
        DWORD timeout_ms);

/* What the server holds for an upload name. */
struct server_upload
{
    unsigned int sessions;      /* created */
    unsigned int open;          /* created and not yet closed, cancelled or lost */
    unsigned int closed;        /* by Close-Session */
    unsigned int cancelled;     /* by Cancel-Session */
    unsigned int commits;       /* files committed (each replaces the previous one) */
    BOOL committed;             /* a file is there */
    UINT64 size;                /* its size */
    UINT64 pending;             /* bytes held by the open sessions, not committed */
};
void server_upload_state(const char *name, struct server_upload *out);
/* A malloc'd copy of the committed file (NULL for an empty one); FALSE when there is none. */
BOOL server_upload_data(const char *name, BYTE **data, UINT64 *size);
/* TRUE when the committed file has exactly the content of the local file; traces why not. */
BOOL server_upload_verify(const char *name, const WCHAR *path);
/* Waits until a file is committed under the name; FALSE after timeout_ms. */
BOOL server_upload_wait(const char *name, DWORD timeout_ms);

#endif /* BITS_TESTS_SERVER_H */
