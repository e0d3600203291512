/* The HTTP/1.1 test server of server.h: an accept thread and one thread per connection, all
 * waiting on the stop event as well as on their socket, so server_stop() never hangs on a
 * client that went quiet.  Sockets are non-blocking with WSAEventSelect; every buffer, table
 * and wait is bounded.  Requests are dispatched on their path: /file/ (generated content) and
 * /redirect/; an upload endpoint (BITS_POST, [MC-BUP]) will be one more handler that reads
 * its body with conn_read_body().   SPDX-License-Identifier: LGPL-2.1-or-later */

#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"
#include "test.h"

#define MAX_CONNECTIONS 64
#define MAX_NAMES 512
#define MAX_RANGES 16
#define REQUEST_MAX 16384           /* request line and headers */
#define RESPONSE_HEAD_MAX 4096
#define CHUNK_SIZE 65536
#define BODY_DISCARD_MAX (64u << 20)
#define IDLE_TIMEOUT_MS 60000       /* waiting for (the rest of) a request */
#define SEND_TIMEOUT_MS 120000      /* a client that reads nothing for this long is gone */
#define LINGER_MS 2000              /* reading what the client still sends before closing */
#define STOP_TIMEOUT_MS 10000
#define POLL_MS 100                 /* socket events can get lost (Wine 8 lost an FD_ACCEPT), so
                                     * every wait on one ends this often, and the caller retries */
#define BADLENGTH_EXTRA 1000
#define BOUNDARY "bits_test_server_boundary_7f3a"
#define SERVER_NAME "bits-test-server"
#define SECONDS_PER_DAY 86400

enum wait_result
{
    WAIT_STOP,
    WAIT_SOCKET,
    WAIT_WAKE,
    WAIT_EXPIRED,
};

enum send_result
{
    SEND_OK,
    SEND_DROPPED,       /* cut on purpose (drop=): the connection must be closed */
    SEND_FAILED,        /* client gone or server stopping */
};

enum read_result
{
    READ_OK,
    READ_CLOSED,        /* nothing more to do on this connection */
    READ_BAD,           /* 400 */
    READ_TOO_LARGE,     /* 431 */
    READ_URI_TOO_LONG,  /* 414 */
    READ_VERSION,       /* 505 */
    READ_UNSUPPORTED,   /* 501: a request body in a transfer coding */
};

struct request
{
    char method[SERVER_METHOD_MAX];
    char target[SERVER_TARGET_MAX];
    char headers[REQUEST_MAX];      /* the header lines, each ending with CRLF */
    int minor;                      /* HTTP/1.minor */
    BOOL keep_alive;                /* what the client asked for */
    UINT64 body_left;               /* request body bytes not read yet */
    UINT64 body_sent;               /* response body bytes sent, for the log */
    ULONGLONG log_serial;
};

struct connection
{
    SOCKET socket;
    HANDLE thread;
    WSAEVENT socket_event;          /* FD_READ, FD_WRITE, FD_CLOSE */
    HANDLE wake_event;              /* auto reset; set by server_release() */
    unsigned int serial;
    BOOL finished;                  /* the thread is done with everything but the events */
    BOOL peer_closed;               /* FD_CLOSE seen: the client sends no more */
    char in[REQUEST_MAX];
    size_t in_len;
    struct request request;
    char buffer[CHUNK_SIZE];
};

/* What the server remembers about a file name, whatever its options. */
struct name_state
{
    BOOL used;
    char name[SERVER_TARGET_MAX];
    unsigned int version;
    unsigned int status_hits;       /* requests answered with a forced status */
    unsigned int drop_hits;         /* responses cut by drop= */
    unsigned int stalled;           /* responses waiting at their stall offset now */
    BOOL released;
};

struct log_entry
{
    ULONGLONG serial;
    struct server_request request;
};

struct file_options
{
    UINT64 size;
    unsigned int status;
    unsigned int head_status;
    unsigned int times;
    BOOL times_set;
    BOOL norange;
    BOOL nolength;
    BOOL chunked;
    BOOL badlength;
    BOOL badrange;
    BOOL badtotal;
    BOOL changing;
    BOOL novalidators;
    BOOL close;
    UINT64 slow;
    BOOL has_slow;
    UINT64 stall;
    BOOL has_stall;
    UINT64 drop;
    BOOL has_drop;
    UINT64 delay;
    char auth[SERVER_VALUE_MAX];
};

struct byte_range
{
    UINT64 first;
    UINT64 last;
};

enum range_result
{
    RANGE_IGNORED,      /* no Range, a malformed one, or too many ranges: whole body */
    RANGE_OK,
    RANGE_UNSATISFIABLE,
};

/* Streams one response body: framing, pacing, stall and drop. */
struct body_writer
{
    struct connection *conn;
    const struct file_options *opts;
    const char *name;
    unsigned int version;
    BOOL chunked;
    BOOL drop_armed;
    ULONGLONG start_tick;
    UINT64 content_sent;            /* file bytes, for slow= */
    UINT64 body_bytes;              /* everything after the headers, for the log */
};

struct response
{
    char text[RESPONSE_HEAD_MAX];
    size_t len;
    BOOL overflow;
};

static struct
{
    SRWLOCK control;                /* serialises server_start() and server_stop() */
    SRWLOCK lock;                   /* guards the fields below */
    CONDITION_VARIABLE changed;     /* the log or a stall count changed */
    BOOL running;
    unsigned short port;
    SOCKET listener;
    WSAEVENT listen_event;
    HANDLE stop_event;              /* manual reset */
    HANDLE accept_thread;
    unsigned int next_serial;
    struct connection *connections[MAX_CONNECTIONS];
    struct name_state names[MAX_NAMES];
    struct name_state spare;        /* shared by the names beyond MAX_NAMES */
    struct log_entry log[SERVER_LOG_MAX];
    unsigned int log_first;
    unsigned int log_count;
    ULONGLONG log_next_serial;
} server;

/* ---------------------------------------------------------------------------------------- */
/* Content and validators */

static UINT64 name_seed(const char *name, unsigned int version)
{
    UINT64 hash = 0xcbf29ce484222325ull;    /* FNV-1a */

    for (; *name; name++)
    {
        hash ^= (unsigned char)*name;
        hash *= 0x100000001b3ull;
    }
    return hash ^ ((UINT64)version * 0xd6e8feb86659fd93ull);
}

/* splitmix64: every 8-byte block of a file is the mix of the seed and the block index. */
static UINT64 block_value(UINT64 seed, UINT64 block)
{
    UINT64 x = seed + (block + 1) * 0x9e3779b97f4a7c15ull;

    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

void server_fill_version(const char *name, unsigned int version, UINT64 offset, void *buffer,
        size_t len)
{
    UINT64 seed = name_seed(name, version), value;
    BYTE *out = buffer;
    unsigned int i;

    while (len)
    {
        value = block_value(seed, offset / 8);
        if (!(offset % 8) && len >= 8)
        {
            for (i = 0; i < 8; i++) out[i] = (BYTE)(value >> (8 * i));
            out += 8;
            offset += 8;
            len -= 8;
            continue;
        }
        *out++ = (BYTE)(value >> (8 * (offset % 8)));
        offset++;
        len--;
    }
}

void server_fill(const char *name, UINT64 offset, void *buffer, size_t len)
{
    server_fill_version(name, 0, offset, buffer, len);
}

BOOL server_compare(const char *name, unsigned int version, UINT64 offset, const void *data,
        size_t len)
{
    const BYTE *bytes = data;
    BYTE expect[4096];
    size_t done = 0, n, i;

    while (done < len)
    {
        n = len - done < sizeof(expect) ? len - done : sizeof(expect);
        server_fill_version(name, version, offset + done, expect, n);
        if (memcmp(bytes + done, expect, n))
        {
            for (i = 0; bytes[done + i] == expect[i]; i++) ;
            trace("server: %s version %u differs at offset %s: %#x instead of %#x\n", name,
                    version, wine_dbgstr_longlong(offset + done + i), bytes[done + i],
                    expect[i]);
            return FALSE;
        }
        done += n;
    }
    return TRUE;
}

BOOL server_verify_file_version(const WCHAR *path, const char *name, unsigned int version,
        UINT64 size)
{
    LARGE_INTEGER file_size;
    UINT64 offset = 0;
    BOOL ret = FALSE;
    HANDLE file;
    BYTE *data;
    DWORD got;

    file = CreateFileW(path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
            NULL, OPEN_EXISTING, FILE_FLAG_SEQUENTIAL_SCAN, NULL);
    if (file == INVALID_HANDLE_VALUE)
    {
        trace("server: cannot open %s: error %lu\n", debugstr_w(path), GetLastError());
        return FALSE;
    }
    data = malloc(CHUNK_SIZE);
    if (!data) goto done;
    if (!GetFileSizeEx(file, &file_size) || (UINT64)file_size.QuadPart != size)
    {
        trace("server: %s has %s bytes instead of %s\n", debugstr_w(path),
                wine_dbgstr_longlong(file_size.QuadPart), wine_dbgstr_longlong(size));
        goto done;
    }
    while (offset < size)
    {
        if (!ReadFile(file, data, CHUNK_SIZE, &got, NULL) || !got)
        {
            trace("server: reading %s failed: error %lu\n", debugstr_w(path), GetLastError());
            goto done;
        }
        if (!server_compare(name, version, offset, data, got)) goto done;
        offset += got;
    }
    ret = TRUE;
done:
    free(data);
    CloseHandle(file);
    return ret;
}

BOOL server_verify_file(const WCHAR *path, const char *name, UINT64 size)
{
    return server_verify_file_version(path, name, 0, size);
}

/* Seconds since 1601, the FILETIME epoch: 2019-04-01 00:00:00 GMT plus up to 300 days chosen
 * by the name, plus a day per version; always in the past. */
static UINT64 file_seconds(const char *name, unsigned int version)
{
    static const UINT64 base = 13198435200ull;

    return base + name_seed(name, 0) % (300ull * SECONDS_PER_DAY)
            + (UINT64)version * SECONDS_PER_DAY;
}

static void seconds_to_filetime(UINT64 seconds, FILETIME *time)
{
    UINT64 ticks = seconds * 10000000ull;

    time->dwLowDateTime = (DWORD)ticks;
    time->dwHighDateTime = (DWORD)(ticks >> 32);
}

void server_file_time(const char *name, unsigned int version, FILETIME *time)
{
    seconds_to_filetime(file_seconds(name, version), time);
}

void server_etag(const char *name, unsigned int version, char *out, size_t len)
{
    snprintf(out, len, "\"%016llx-%u\"", (unsigned long long)name_seed(name, 0), version);
}

static const char *const weekdays[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
static const char *const months[] =
{
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};

/* IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT" (RFC 9110 5.6.7). */
static void format_date(UINT64 seconds, char *out, size_t len)
{
    SYSTEMTIME st;
    FILETIME ft;

    seconds_to_filetime(seconds, &ft);
    if (!FileTimeToSystemTime(&ft, &st))
    {
        snprintf(out, len, "Thu, 01 Jan 1970 00:00:00 GMT");
        return;
    }
    snprintf(out, len, "%s, %02u %s %04u %02u:%02u:%02u GMT", weekdays[st.wDayOfWeek % 7],
            st.wDay, months[(st.wMonth + 11) % 12], st.wYear, st.wHour, st.wMinute, st.wSecond);
}

/* Only IMF-fixdate; anything else is invalid, which makes the condition ignored. */
static BOOL parse_date(const char *text, UINT64 *seconds)
{
    char day_name[4], month_name[4];
    int day, year, hour, minute, second, month;
    ULARGE_INTEGER value;
    SYSTEMTIME st;
    FILETIME ft;

    if (sscanf(text, "%3s, %d %3s %d %d:%d:%d", day_name, &day, month_name, &year, &hour,
            &minute, &second) != 7)
        return FALSE;
    for (month = 0; month < 12; month++)
        if (!strcmp(month_name, months[month])) break;
    if (month == 12 || year < 1601 || year > 30827) return FALSE;
    memset(&st, 0, sizeof(st));
    st.wYear = (WORD)year;
    st.wMonth = (WORD)(month + 1);
    st.wDay = (WORD)day;
    st.wHour = (WORD)hour;
    st.wMinute = (WORD)minute;
    st.wSecond = (WORD)second;
    if (!SystemTimeToFileTime(&st, &ft)) return FALSE;
    value.LowPart = ft.dwLowDateTime;
    value.HighPart = ft.dwHighDateTime;
    *seconds = value.QuadPart / 10000000ull;
    return TRUE;
}

/* ---------------------------------------------------------------------------------------- */
/* Name states and the request log; the lock is held by the callers of the *_locked helpers */

static struct name_state *name_get_locked(const char *name)
{
    struct name_state *free_state = NULL;
    unsigned int i;

    for (i = 0; i < MAX_NAMES; i++)
    {
        if (server.names[i].used && !strcmp(server.names[i].name, name)) return &server.names[i];
        if (!server.names[i].used && !free_state) free_state = &server.names[i];
    }
    if (!free_state)
    {
        trace("server: more than %u names, %s shares a spare state\n", MAX_NAMES, name);
        return &server.spare;
    }
    memset(free_state, 0, sizeof(*free_state));
    free_state->used = TRUE;
    lstrcpynA(free_state->name, name, sizeof(free_state->name));
    return free_state;
}

unsigned int server_bump(const char *name)
{
    unsigned int version;

    AcquireSRWLockExclusive(&server.lock);
    version = ++name_get_locked(name)->version;
    ReleaseSRWLockExclusive(&server.lock);
    return version;
}

unsigned int server_version(const char *name)
{
    unsigned int version;

    AcquireSRWLockExclusive(&server.lock);
    version = name_get_locked(name)->version;
    ReleaseSRWLockExclusive(&server.lock);
    return version;
}

void server_release(const char *name)
{
    unsigned int i;

    AcquireSRWLockExclusive(&server.lock);
    name_get_locked(name)->released = TRUE;
    for (i = 0; i < MAX_CONNECTIONS; i++)
        if (server.connections[i]) SetEvent(server.connections[i]->wake_event);
    ReleaseSRWLockExclusive(&server.lock);
}

void server_reset(const char *name)
{
    struct name_state *state;

    AcquireSRWLockExclusive(&server.lock);
    state = name_get_locked(name);
    state->version = 0;
    state->status_hits = 0;
    state->drop_hits = 0;
    state->released = FALSE;
    ReleaseSRWLockExclusive(&server.lock);
}

/* Waits on server.changed until the deadline; FALSE when it passed.  Lock held. */
static BOOL wait_changed_locked(ULONGLONG deadline)
{
    ULONGLONG now = GetTickCount64();

    if (now >= deadline) return FALSE;
    SleepConditionVariableSRW(&server.changed, &server.lock, (DWORD)(deadline - now), 0);
    return TRUE;
}

BOOL server_wait_stalled(const char *name, DWORD timeout_ms)
{
    ULONGLONG deadline = GetTickCount64() + timeout_ms;
    BOOL ret;

    AcquireSRWLockExclusive(&server.lock);
    while (!(ret = name_get_locked(name)->stalled > 0) && wait_changed_locked(deadline)) ;
    ReleaseSRWLockExclusive(&server.lock);
    return ret;
}

static BOOL log_selected(const struct server_request *request, const char *path)
{
    size_t len;

    if (!path) return TRUE;
    if (strchr(path, '?')) return !strcmp(request->target, path);
    len = strcspn(request->target, "?");
    return strlen(path) == len && !strncmp(request->target, path, len);
}

static struct server_request *log_find_locked(const char *path, unsigned int index)
{
    struct server_request *request;
    unsigned int i;

    for (i = 0; i < server.log_count; i++)
    {
        request = &server.log[(server.log_first + i) % SERVER_LOG_MAX].request;
        if (log_selected(request, path) && !index--) return request;
    }
    return NULL;
}

static unsigned int log_count_locked(const char *path, BOOL finished_only)
{
    struct server_request *request;
    unsigned int i, count = 0;

    for (i = 0; i < server.log_count; i++)
    {
        request = &server.log[(server.log_first + i) % SERVER_LOG_MAX].request;
        if (log_selected(request, path) && (request->finished || !finished_only)) count++;
    }
    return count;
}

/* Copies a header's value, trimmed; FALSE (and out "") when the block has no such header. */
static BOOL header_value(const char *headers, const char *name, char *out, size_t len)
{
    size_t name_len = strlen(name), value_len;
    const char *line = headers, *end, *colon, *value;

    if (len) *out = 0;
    while (*line)
    {
        end = line + strcspn(line, "\r\n");
        colon = memchr(line, ':', end - line);
        if (colon && (size_t)(colon - line) == name_len && !_strnicmp(line, name, name_len))
        {
            value = colon + 1;
            while (value < end && (*value == ' ' || *value == '\t')) value++;
            value_len = end - value;
            while (value_len && (value[value_len - 1] == ' ' || value[value_len - 1] == '\t'))
                value_len--;
            if (len)
            {
                if (value_len >= len) value_len = len - 1;
                memcpy(out, value, value_len);
                out[value_len] = 0;
            }
            return TRUE;
        }
        line = end;
        while (*line == '\r' || *line == '\n') line++;
    }
    return FALSE;
}

static ULONGLONG log_add(const struct request *req, unsigned int connection)
{
    struct log_entry *entry;
    ULONGLONG serial;

    AcquireSRWLockExclusive(&server.lock);
    if (server.log_count == SERVER_LOG_MAX)
    {
        server.log_first = (server.log_first + 1) % SERVER_LOG_MAX;
        server.log_count--;
    }
    entry = &server.log[(server.log_first + server.log_count++) % SERVER_LOG_MAX];
    memset(entry, 0, sizeof(*entry));
    serial = entry->serial = ++server.log_next_serial;
    lstrcpynA(entry->request.method, req->method, sizeof(entry->request.method));
    lstrcpynA(entry->request.target, req->target, sizeof(entry->request.target));
    header_value(req->headers, "Range", entry->request.range, SERVER_VALUE_MAX);
    header_value(req->headers, "If-Range", entry->request.if_range, SERVER_VALUE_MAX);
    header_value(req->headers, "If-Unmodified-Since", entry->request.if_unmodified_since,
            SERVER_VALUE_MAX);
    header_value(req->headers, "If-Match", entry->request.if_match, SERVER_VALUE_MAX);
    lstrcpynA(entry->request.headers, req->headers, sizeof(entry->request.headers));
    entry->request.connection = connection;
    entry->request.time = GetTickCount64();
    WakeAllConditionVariable(&server.changed);
    ReleaseSRWLockExclusive(&server.lock);
    return serial;
}

static struct server_request *log_entry_locked(ULONGLONG serial)
{
    unsigned int i;

    for (i = server.log_count; i--; )
    {
        struct log_entry *entry = &server.log[(server.log_first + i) % SERVER_LOG_MAX];
        if (entry->serial == serial) return &entry->request;
    }
    return NULL;    /* cleared meanwhile */
}

static void log_answer(ULONGLONG serial, unsigned int status, unsigned int version)
{
    struct server_request *request;

    AcquireSRWLockExclusive(&server.lock);
    request = log_entry_locked(serial);
    if (request)
    {
        request->status = status;
        request->version = version;
    }
    ReleaseSRWLockExclusive(&server.lock);
}

static void log_finish(ULONGLONG serial, UINT64 body_bytes)
{
    struct server_request *request;

    AcquireSRWLockExclusive(&server.lock);
    request = log_entry_locked(serial);
    if (request)
    {
        request->body_bytes = body_bytes;
        request->finished = TRUE;
    }
    WakeAllConditionVariable(&server.changed);
    ReleaseSRWLockExclusive(&server.lock);
}

unsigned int server_log_count(const char *path)
{
    unsigned int count;

    AcquireSRWLockExclusive(&server.lock);
    count = log_count_locked(path, FALSE);
    ReleaseSRWLockExclusive(&server.lock);
    return count;
}

BOOL server_log_get(const char *path, unsigned int index, struct server_request *out)
{
    struct server_request *request;

    AcquireSRWLockExclusive(&server.lock);
    request = log_find_locked(path, index);
    if (request) *out = *request;
    ReleaseSRWLockExclusive(&server.lock);
    return request != NULL;
}

BOOL server_log_header(const char *path, unsigned int index, const char *header, char *out,
        size_t len)
{
    struct server_request *request;
    BOOL ret = FALSE;

    if (len) *out = 0;
    AcquireSRWLockExclusive(&server.lock);
    request = log_find_locked(path, index);
    if (request) ret = header_value(request->headers, header, out, len);
    ReleaseSRWLockExclusive(&server.lock);
    return ret;
}

BOOL server_log_range(const char *path, unsigned int index, char *out, size_t len)
{
    return server_log_header(path, index, "Range", out, len);
}

BOOL server_log_wait(const char *path, unsigned int count, DWORD timeout_ms)
{
    ULONGLONG deadline = GetTickCount64() + timeout_ms;
    BOOL ret;

    AcquireSRWLockExclusive(&server.lock);
    while (!(ret = log_count_locked(path, TRUE) >= count) && wait_changed_locked(deadline)) ;
    ReleaseSRWLockExclusive(&server.lock);
    return ret;
}

void server_log_clear(void)
{
    AcquireSRWLockExclusive(&server.lock);
    server.log_first = server.log_count = 0;
    ReleaseSRWLockExclusive(&server.lock);
}

/* ---------------------------------------------------------------------------------------- */
/* Connection I/O: every wait also watches the stop event */

static enum wait_result conn_wait(struct connection *conn, DWORD timeout_ms, BOOL wake)
{
    HANDLE handles[3] = { server.stop_event, conn->socket_event, conn->wake_event };
    WSANETWORKEVENTS events;
    DWORD ret;

    ret = WaitForMultipleObjects(wake ? 3 : 2, handles, FALSE, timeout_ms);
    if (ret == WAIT_OBJECT_0) return WAIT_STOP;
    if (ret == WAIT_OBJECT_0 + 2) return WAIT_WAKE;
    if (ret != WAIT_OBJECT_0 + 1) return ret == WAIT_TIMEOUT ? WAIT_EXPIRED : WAIT_STOP;
    if (!WSAEnumNetworkEvents(conn->socket, conn->socket_event, &events)
            && (events.lNetworkEvents & FD_CLOSE))
        conn->peer_closed = TRUE;
    return WAIT_SOCKET;
}

/* Waits on the stop event only; FALSE when the server is stopping. */
static BOOL pause_ms(UINT64 ms)
{
    return WaitForSingleObject(server.stop_event, ms > INFINITE - 1 ? INFINITE - 1 : (DWORD)ms)
            == WAIT_TIMEOUT;
}

/* Waits for socket activity until the deadline, a slice at a time; FALSE when the deadline
 * passed or the server stops. */
static BOOL conn_wait_until(struct connection *conn, ULONGLONG deadline)
{
    ULONGLONG now = GetTickCount64();

    if (now >= deadline) return FALSE;
    return conn_wait(conn, deadline - now < POLL_MS ? (DWORD)(deadline - now) : POLL_MS, FALSE)
            != WAIT_STOP;
}

/* Returns the number of bytes read, 0 on close, error, timeout or stop. */
static int conn_recv(struct connection *conn, char *buffer, int len, DWORD timeout_ms)
{
    ULONGLONG deadline = GetTickCount64() + timeout_ms;
    int ret;

    for (;;)
    {
        ret = recv(conn->socket, buffer, len, 0);
        if (ret > 0) return ret;
        if (!ret || WSAGetLastError() != WSAEWOULDBLOCK) return 0;
        if (!conn_wait_until(conn, deadline)) return 0;
    }
}

static BOOL conn_send(struct connection *conn, const void *data, size_t len)
{
    ULONGLONG deadline = GetTickCount64() + SEND_TIMEOUT_MS;
    const char *ptr = data;
    int ret;

    while (len)
    {
        ret = send(conn->socket, ptr, len > INT_MAX ? INT_MAX : (int)len, 0);
        if (ret > 0)
        {
            ptr += ret;
            len -= ret;
            deadline = GetTickCount64() + SEND_TIMEOUT_MS;
            continue;
        }
        if (WSAGetLastError() != WSAEWOULDBLOCK) return FALSE;
        if (!conn_wait_until(conn, deadline)) return FALSE;
    }
    return TRUE;
}

/* TRUE when the client closed or reset the connection.  Peeking re-enables FD_READ, so this
 * is only called when a wait slice ended without any socket event. */
static BOOL conn_peer_gone(struct connection *conn)
{
    char c;
    int ret;

    if (conn->peer_closed) return TRUE;
    ret = recv(conn->socket, &c, 1, MSG_PEEK);
    return !ret || (ret < 0 && WSAGetLastError() != WSAEWOULDBLOCK);
}

/* Reads up to len bytes of the current request's body; 0 at its end or on failure.  The
 * handler of a request with a body (uploads, later) reads it with this. */
static size_t conn_read_body(struct connection *conn, char *buffer, size_t len)
{
    struct request *req = &conn->request;
    int ret;

    if (len > req->body_left) len = (size_t)req->body_left;
    if (!len) return 0;
    if (conn->in_len)
    {
        if (len > conn->in_len) len = conn->in_len;
        memcpy(buffer, conn->in, len);
        memmove(conn->in, conn->in + len, conn->in_len - len);
        conn->in_len -= len;
        req->body_left -= len;
        return len;
    }
    ret = conn_recv(conn, buffer, len > INT_MAX ? INT_MAX : (int)len, IDLE_TIMEOUT_MS);
    if (ret <= 0) return 0;
    req->body_left -= ret;
    return ret;
}

/* FALSE when the body could not be read to its end. */
static BOOL conn_discard_body(struct connection *conn)
{
    while (conn->request.body_left)
        if (!conn_read_body(conn, conn->buffer, sizeof(conn->buffer))) return FALSE;
    return TRUE;
}

/* Closes gracefully, so that a client still sending does not get a reset that would eat the
 * end of our answer. */
static void conn_close(struct connection *conn)
{
    ULONGLONG deadline = GetTickCount64() + LINGER_MS, now;

    shutdown(conn->socket, SD_SEND);
    while ((now = GetTickCount64()) < deadline
            && conn_recv(conn, conn->buffer, sizeof(conn->buffer), (DWORD)(deadline - now)) > 0) ;
    closesocket(conn->socket);
    conn->socket = INVALID_SOCKET;
}

/* ---------------------------------------------------------------------------------------- */
/* Reading a request */

static BOOL is_token_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
            || (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* TRUE when the comma-separated list holds the token, case-insensitively. */
static BOOL has_token(const char *list, const char *token)
{
    size_t len = strlen(token), n;

    while (*list)
    {
        list += strspn(list, " \t,");
        n = strcspn(list, " \t,");
        if (n == len && !_strnicmp(list, token, len)) return TRUE;
        list += n;
    }
    return FALSE;
}

static BOOL parse_u64(const char *text, UINT64 *value)
{
    UINT64 result = 0;

    if (!text || !*text) return FALSE;
    for (; *text; text++)
    {
        if (*text < '0' || *text > '9') return FALSE;
        if (result > (~0ull - (*text - '0')) / 10) return FALSE;
        result = result * 10 + (*text - '0');
    }
    *value = result;
    return TRUE;
}

/* Length of the request head (up to and including its empty line), 0 when incomplete. */
static size_t head_length(const char *data, size_t len)
{
    size_t i;

    for (i = 0; i + 1 < len; i++)
    {
        if (data[i] != '\n') continue;
        if (data[i + 1] == '\n') return i + 2;
        if (data[i + 1] == '\r' && i + 2 < len && data[i + 2] == '\n') return i + 3;
    }
    return 0;
}

/* Copies the next line (without CR LF) and advances *pos; FALSE at the end of the head. */
static BOOL next_line(const char *head, size_t head_len, size_t *pos, const char **line,
        size_t *len)
{
    size_t start = *pos, end = start;

    if (start >= head_len) return FALSE;
    while (end < head_len && head[end] != '\n') end++;
    *pos = end + 1;
    *line = head + start;
    *len = end - start;
    if (*len && head[start + *len - 1] == '\r') (*len)--;
    return TRUE;
}

static enum read_result parse_head(struct connection *conn, const char *head, size_t head_len)
{
    struct request *req = &conn->request;
    const char *line, *sp1, *sp2, *end;
    size_t pos = 0, len, out = 0;
    char value[64];
    UINT64 length;

    if (!next_line(head, head_len, &pos, &line, &len)) return READ_BAD;
    end = line + len;
    sp1 = memchr(line, ' ', len);
    if (!sp1 || sp1 == line || (size_t)(sp1 - line) >= sizeof(req->method)) return READ_BAD;
    sp2 = memchr(sp1 + 1, ' ', end - sp1 - 1);
    if (!sp2 || sp2 == sp1 + 1) return READ_BAD;
    if ((size_t)(sp2 - sp1 - 1) >= sizeof(req->target)) return READ_URI_TOO_LONG;
    memcpy(req->method, line, sp1 - line);
    req->method[sp1 - line] = 0;
    for (len = 0; req->method[len]; len++)
        if (!is_token_char(req->method[len])) return READ_BAD;
    memcpy(req->target, sp1 + 1, sp2 - sp1 - 1);
    req->target[sp2 - sp1 - 1] = 0;
    if (strchr(req->target, ' ') || strchr(req->target, '\t')) return READ_BAD;
    if (end - sp2 - 1 != 8 || strncmp(sp2 + 1, "HTTP/", 5) || sp2[7] != '.'
            || sp2[6] < '0' || sp2[6] > '9' || sp2[8] < '0' || sp2[8] > '9')
        return READ_BAD;
    if (sp2[6] != '1') return READ_VERSION;
    req->minor = sp2[8] - '0';

    while (next_line(head, head_len, &pos, &line, &len) && len)
    {
        if (line[0] == ' ' || line[0] == '\t' || !memchr(line, ':', len)) return READ_BAD;
        if (out + len + 3 > sizeof(req->headers)) return READ_TOO_LARGE;
        memcpy(req->headers + out, line, len);
        out += len;
        req->headers[out++] = '\r';
        req->headers[out++] = '\n';
    }
    req->headers[out] = 0;

    header_value(req->headers, "Connection", value, sizeof(value));
    if (req->minor >= 1) req->keep_alive = !has_token(value, "close");
    else req->keep_alive = has_token(value, "keep-alive");
    if (header_value(req->headers, "Transfer-Encoding", NULL, 0)) return READ_UNSUPPORTED;
    if (header_value(req->headers, "Content-Length", value, sizeof(value)))
    {
        if (!parse_u64(value, &length)) return READ_BAD;
        req->body_left = length;
    }
    return READ_OK;
}

static enum read_result read_request(struct connection *conn)
{
    struct request *req = &conn->request;
    enum read_result result;
    size_t len, skip;
    int ret;

    memset(req, 0, sizeof(*req));
    for (;;)
    {
        /* empty lines before a request are allowed (RFC 9112 2.2) */
        for (skip = 0; skip < conn->in_len && (conn->in[skip] == '\r' || conn->in[skip] == '\n');
                skip++) ;
        memmove(conn->in, conn->in + skip, conn->in_len - skip);
        conn->in_len -= skip;
        len = head_length(conn->in, conn->in_len);
        if (len) break;
        if (conn->in_len == sizeof(conn->in)) return READ_TOO_LARGE;
        ret = conn_recv(conn, conn->in + conn->in_len, (int)(sizeof(conn->in) - conn->in_len),
                IDLE_TIMEOUT_MS);
        if (ret <= 0) return READ_CLOSED;
        conn->in_len += ret;
    }
    result = parse_head(conn, conn->in, len);
    memmove(conn->in, conn->in + len, conn->in_len - len);
    conn->in_len -= len;
    return result;
}

/* ---------------------------------------------------------------------------------------- */
/* Writing a response */

static const char *reason_phrase(unsigned int status)
{
    static const struct
    {
        unsigned int status;
        const char *text;
    }
    phrases[] =
    {
        { 100, "Continue" }, { 101, "Switching Protocols" }, { 200, "OK" }, { 201, "Created" },
        { 202, "Accepted" }, { 203, "Non-Authoritative Information" }, { 204, "No Content" },
        { 205, "Reset Content" }, { 206, "Partial Content" }, { 300, "Multiple Choices" },
        { 301, "Moved Permanently" }, { 302, "Found" }, { 303, "See Other" },
        { 304, "Not Modified" }, { 305, "Use Proxy" }, { 307, "Temporary Redirect" },
        { 308, "Permanent Redirect" }, { 400, "Bad Request" }, { 401, "Unauthorized" },
        { 402, "Payment Required" }, { 403, "Forbidden" }, { 404, "Not Found" },
        { 405, "Method Not Allowed" }, { 406, "Not Acceptable" },
        { 407, "Proxy Authentication Required" }, { 408, "Request Timeout" },
        { 409, "Conflict" }, { 410, "Gone" }, { 411, "Length Required" },
        { 412, "Precondition Failed" }, { 413, "Content Too Large" }, { 414, "URI Too Long" },
        { 415, "Unsupported Media Type" }, { 416, "Range Not Satisfiable" },
        { 417, "Expectation Failed" }, { 431, "Request Header Fields Too Large" },
        { 449, "Retry With" }, { 500, "Internal Server Error" }, { 501, "Not Implemented" },
        { 502, "Bad Gateway" }, { 503, "Service Unavailable" }, { 504, "Gateway Timeout" },
        { 505, "HTTP Version Not Supported" },
    };
    unsigned int i;

    for (i = 0; i < ARRAY_SIZE(phrases); i++)
        if (phrases[i].status == status) return phrases[i].text;
    return "Unknown";
}

/* 1xx, 204 and 304 answers never have a body (RFC 9110 6.4.1). */
static BOOL status_has_body(unsigned int status)
{
    return status >= 200 && status != 204 && status != 304;
}

static void response_add(struct response *resp, const char *fmt, ...) WINETEST_PRINTF_ATTR(2, 3);
static void response_add(struct response *resp, const char *fmt, ...)
{
    va_list args;
    int ret;

    va_start(args, fmt);
    ret = vsnprintf(resp->text + resp->len, sizeof(resp->text) - resp->len, fmt, args);
    va_end(args);
    if (ret < 0 || (size_t)ret >= sizeof(resp->text) - resp->len) resp->overflow = TRUE;
    else resp->len += ret;
}

static void response_init(struct response *resp, unsigned int status)
{
    ULARGE_INTEGER now;
    FILETIME time;
    char date[40];

    GetSystemTimeAsFileTime(&time);
    now.LowPart = time.dwLowDateTime;
    now.HighPart = time.dwHighDateTime;
    format_date(now.QuadPart / 10000000ull, date, sizeof(date));
    resp->len = 0;
    resp->overflow = FALSE;
    response_add(resp, "HTTP/1.1 %u %s\r\nDate: %s\r\nServer: " SERVER_NAME "\r\n", status,
            reason_phrase(status), date);
}

static BOOL response_send(struct connection *conn, struct response *resp, unsigned int status,
        unsigned int version)
{
    response_add(resp, "\r\n");
    if (resp->overflow)
    {
        trace("server: response head for %s too long\n", conn->request.target);
        return FALSE;
    }
    log_answer(conn->request.log_serial, status, version);
    return conn_send(conn, resp->text, resp->len);
}

/* A complete answer with a small HTML body; extra holds header lines ending with CRLF.
 * Returns whether the connection may be kept. */
static BOOL send_simple(struct connection *conn, unsigned int status, const char *extra,
        BOOL keep_alive)
{
    struct request *req = &conn->request;
    BOOL body = status_has_body(status), head = !strcmp(req->method, "HEAD");
    struct response resp;
    char html[256];
    int len = 0;

    if (status < 200) keep_alive = FALSE;   /* a forced interim answer ends the exchange */
    if (body)
        len = snprintf(html, sizeof(html), "<html><head><title>%u %s</title></head><body><h1>"
                "%u %s</h1><p>" SERVER_NAME "</p></body></html>\n", status,
                reason_phrase(status), status, reason_phrase(status));
    response_init(&resp, status);
    if (extra) response_add(&resp, "%s", extra);
    if (body) response_add(&resp, "Content-Type: text/html\r\nContent-Length: %d\r\n", len);
    response_add(&resp, "Connection: %s\r\n", keep_alive ? "keep-alive" : "close");
    if (!response_send(conn, &resp, status, 0)) return FALSE;
    if (body && !head)
    {
        if (!conn_send(conn, html, len)) return FALSE;
        req->body_sent = len;
    }
    return keep_alive;
}

static BOOL body_write(struct body_writer *writer, const void *data, size_t len)
{
    char size[24];

    if (!len) return TRUE;
    if (writer->chunked)
    {
        snprintf(size, sizeof(size), "%llx\r\n", (unsigned long long)len);
        if (!conn_send(writer->conn, size, strlen(size))) return FALSE;
    }
    if (!conn_send(writer->conn, data, len)) return FALSE;
    if (writer->chunked && !conn_send(writer->conn, "\r\n", 2)) return FALSE;
    writer->body_bytes += len;
    return TRUE;
}

static BOOL drop_applies_locked(struct name_state *state, const struct file_options *opts)
{
    unsigned int times = opts->times_set ? opts->times : 1;

    return !times || state->drop_hits < times;
}

static BOOL stall_released(const char *name)
{
    BOOL released;

    AcquireSRWLockExclusive(&server.lock);
    released = name_get_locked(name)->released;
    ReleaseSRWLockExclusive(&server.lock);
    return released;
}

/* Holds the response until the name is released; FALSE when the server stops or the client
 * goes away first. */
static BOOL stall_wait(struct connection *conn, const char *name)
{
    enum wait_result wait;
    BOOL ret = TRUE;

    AcquireSRWLockExclusive(&server.lock);
    name_get_locked(name)->stalled++;
    WakeAllConditionVariable(&server.changed);
    ReleaseSRWLockExclusive(&server.lock);

    while (!stall_released(name))
    {
        wait = conn_wait(conn, POLL_MS, TRUE);
        if (wait == WAIT_STOP || conn->peer_closed
                || (wait == WAIT_EXPIRED && conn_peer_gone(conn)))
        {
            ret = FALSE;
            break;
        }
    }

    AcquireSRWLockExclusive(&server.lock);
    name_get_locked(name)->stalled--;
    WakeAllConditionVariable(&server.changed);
    ReleaseSRWLockExclusive(&server.lock);
    return ret;
}

/* Sends file bytes [offset, offset + len) with the stall, drop and slow options applied. */
static enum send_result send_content(struct body_writer *writer, UINT64 offset, UINT64 len)
{
    const struct file_options *opts = writer->opts;
    struct name_state *state;
    ULONGLONG due, now;
    UINT64 n, step;
    BOOL hit;

    while (len)
    {
        n = len < CHUNK_SIZE ? len : CHUNK_SIZE;
        if (opts->has_stall && opts->stall < offset + n && !stall_released(writer->name))
        {
            if (offset >= opts->stall)
            {
                if (!stall_wait(writer->conn, writer->name)) return SEND_FAILED;
                continue;
            }
            n = opts->stall - offset;
        }
        if (writer->drop_armed && opts->drop < offset + n)
        {
            if (offset >= opts->drop)
            {
                AcquireSRWLockExclusive(&server.lock);
                state = name_get_locked(writer->name);
                hit = drop_applies_locked(state, opts);
                if (hit) state->drop_hits++;
                ReleaseSRWLockExclusive(&server.lock);
                if (hit) return SEND_DROPPED;
                writer->drop_armed = FALSE;
                continue;
            }
            n = opts->drop - offset;
        }
        if (opts->has_slow)
        {
            step = opts->slow / 10 ? opts->slow / 10 : 1;
            if (n > step) n = step;
            due = writer->start_tick + writer->content_sent * 1000 / opts->slow;
            now = GetTickCount64();
            if (due > now && !pause_ms(due - now)) return SEND_FAILED;
        }
        server_fill_version(writer->name, writer->version, offset, writer->conn->buffer,
                (size_t)n);
        if (!body_write(writer, writer->conn->buffer, (size_t)n)) return SEND_FAILED;
        writer->content_sent += n;
        offset += n;
        len -= n;
    }
    return SEND_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* /file/ */

static BOOL parse_options(const char *query, struct file_options *opts, char *error,
        size_t error_len)
{
    static const struct
    {
        const char *name;
        size_t offset;
    }
    flags[] =
    {
        { "norange", offsetof(struct file_options, norange) },
        { "nolength", offsetof(struct file_options, nolength) },
        { "chunked", offsetof(struct file_options, chunked) },
        { "badlength", offsetof(struct file_options, badlength) },
        { "badrange", offsetof(struct file_options, badrange) },
        { "badtotal", offsetof(struct file_options, badtotal) },
        { "changing", offsetof(struct file_options, changing) },
        { "novalidators", offsetof(struct file_options, novalidators) },
        { "close", offsetof(struct file_options, close) },
    };
    static const struct
    {
        const char *name;
        size_t offset;
        size_t flag;        /* offset of the BOOL telling it was given, or 0 */
    }
    numbers[] =
    {
        { "size", offsetof(struct file_options, size), 0 },
        { "slow", offsetof(struct file_options, slow), offsetof(struct file_options, has_slow) },
        { "stall", offsetof(struct file_options, stall),
                offsetof(struct file_options, has_stall) },
        { "drop", offsetof(struct file_options, drop), offsetof(struct file_options, has_drop) },
        { "delay", offsetof(struct file_options, delay), 0 },
    };
    char item[SERVER_TARGET_MAX], *value;
    const char *end;
    unsigned int i;
    UINT64 number;
    size_t len;

    memset(opts, 0, sizeof(*opts));
    while (*query)
    {
        end = query + strcspn(query, "&");
        len = end - query;
        memcpy(item, query, len);
        item[len] = 0;
        query = *end ? end + 1 : end;
        if (!len) continue;
        value = strchr(item, '=');
        if (value) *value++ = 0;

        for (i = 0; i < ARRAY_SIZE(flags); i++)
            if (!strcmp(item, flags[i].name)) break;
        if (i < ARRAY_SIZE(flags))
        {
            if (value) goto bad;
            *(BOOL *)((char *)opts + flags[i].offset) = TRUE;
            continue;
        }
        for (i = 0; i < ARRAY_SIZE(numbers); i++)
            if (!strcmp(item, numbers[i].name)) break;
        if (i < ARRAY_SIZE(numbers))
        {
            if (!parse_u64(value, (UINT64 *)((char *)opts + numbers[i].offset))) goto bad;
            if (numbers[i].flag) *(BOOL *)((char *)opts + numbers[i].flag) = TRUE;
            continue;
        }
        if (!strcmp(item, "status") || !strcmp(item, "headstatus"))
        {
            if (!parse_u64(value, &number) || number < 100 || number > 599) goto bad;
            if (item[0] == 's') opts->status = (unsigned int)number;
            else opts->head_status = (unsigned int)number;
            continue;
        }
        if (!strcmp(item, "times"))
        {
            if (!parse_u64(value, &number) || number > UINT_MAX) goto bad;
            opts->times = (unsigned int)number;
            opts->times_set = TRUE;
            continue;
        }
        if (!strcmp(item, "auth"))
        {
            if (!value || !strchr(value, ':') || strlen(value) >= sizeof(opts->auth)) goto bad;
            strcpy(opts->auth, value);
            continue;
        }
        goto bad;
    }
    if ((opts->has_slow && !opts->slow) || opts->delay > 600000)
    {
        snprintf(error, error_len, "slow=0 or delay above 600000");
        return FALSE;
    }
    return TRUE;
bad:
    snprintf(error, error_len, "bad option \"%s%s%s\"", item, value ? "=" : "",
            value ? value : "");
    return FALSE;
}

static void base64_encode(const char *in, char *out, size_t out_len)
{
    static const char digits[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t len = strlen(in), i, o = 0;
    unsigned int value;

    for (i = 0; i < len && o + 5 <= out_len; i += 3)
    {
        value = (unsigned char)in[i] << 16;
        if (i + 1 < len) value |= (unsigned char)in[i + 1] << 8;
        if (i + 2 < len) value |= (unsigned char)in[i + 2];
        out[o++] = digits[(value >> 18) & 63];
        out[o++] = digits[(value >> 12) & 63];
        out[o++] = i + 1 < len ? digits[(value >> 6) & 63] : '=';
        out[o++] = i + 2 < len ? digits[value & 63] : '=';
    }
    out[o] = 0;
}

static BOOL auth_ok(const struct request *req, const char *user_pass)
{
    char value[SERVER_VALUE_MAX * 2], expect[SERVER_VALUE_MAX * 2];

    if (!header_value(req->headers, "Authorization", value, sizeof(value))) return FALSE;
    if (_strnicmp(value, "Basic ", 6)) return FALSE;
    base64_encode(user_pass, expect, sizeof(expect));
    return !strcmp(value + 6, expect);
}

/* TRUE when the comma-separated entity-tag list matches etag; weak tags only match weakly. */
static BOOL etag_matches(const char *list, const char *etag, BOOL weak)
{
    size_t len = strlen(etag), n;
    BOOL is_weak;

    while (*list)
    {
        list += strspn(list, " \t,");
        if (*list == '*') return TRUE;
        is_weak = !strncmp(list, "W/", 2);
        if (is_weak) list += 2;
        n = strcspn(list, " \t,");
        if ((weak || !is_weak) && n == len && !strncmp(list, etag, len)) return TRUE;
        list += n;
    }
    return FALSE;
}

/* RFC 9110 13.2.2: 412, 304 or 0 to go on. */
static unsigned int check_preconditions(const struct request *req, const struct file_options *opts,
        const char *etag, UINT64 modified)
{
    char value[SERVER_VALUE_MAX];
    UINT64 date;

    if (header_value(req->headers, "If-Match", value, sizeof(value)))
    {
        if (!(!strcmp(value, "*") || (!opts->novalidators && etag_matches(value, etag, FALSE))))
            return 412;
    }
    else if (header_value(req->headers, "If-Unmodified-Since", value, sizeof(value))
            && !opts->novalidators && parse_date(value, &date) && modified > date)
        return 412;
    if (header_value(req->headers, "If-None-Match", value, sizeof(value)))
    {
        if (!strcmp(value, "*") || (!opts->novalidators && etag_matches(value, etag, TRUE)))
            return 304;
    }
    else if (header_value(req->headers, "If-Modified-Since", value, sizeof(value))
            && !opts->novalidators && parse_date(value, &date) && modified <= date)
        return 304;
    return 0;
}

/* If-Range (RFC 9110 13.1.5): a strong ETag or the exact Last-Modified date. */
static BOOL if_range_holds(const struct request *req, const struct file_options *opts,
        const char *etag, UINT64 modified)
{
    char value[SERVER_VALUE_MAX];
    UINT64 date;

    if (!header_value(req->headers, "If-Range", value, sizeof(value))) return TRUE;
    if (opts->novalidators) return FALSE;
    if (value[0] == '"') return !strcmp(value, etag);
    if (!strncmp(value, "W/", 2)) return FALSE;
    return parse_date(value, &date) && date == modified;
}

/* RFC 9110 14.1.2 and 14.2. */
static enum range_result parse_ranges(const char *value, UINT64 size, struct byte_range *ranges,
        unsigned int *count)
{
    const char *spec = value + 6;
    UINT64 first, last;
    BOOL any = FALSE;
    char item[64];
    char *dash;
    size_t len;

    *count = 0;
    if (_strnicmp(value, "bytes=", 6)) return RANGE_IGNORED;
    while (*spec)
    {
        spec += strspn(spec, " \t,");
        len = strcspn(spec, " \t,");
        if (!len) break;
        if (len >= sizeof(item)) return RANGE_IGNORED;
        memcpy(item, spec, len);
        item[len] = 0;
        spec += len;
        dash = strchr(item, '-');
        if (!dash) return RANGE_IGNORED;
        *dash = 0;
        any = TRUE;
        if (!item[0])
        {
            if (!parse_u64(dash + 1, &last)) return RANGE_IGNORED;
            if (!last || !size) continue;
            first = size - (last < size ? last : size);
            last = size - 1;
        }
        else
        {
            if (!parse_u64(item, &first)) return RANGE_IGNORED;
            if (!dash[1]) last = ~0ull;
            else if (!parse_u64(dash + 1, &last) || last < first) return RANGE_IGNORED;
            if (first >= size) continue;
            if (last >= size) last = size - 1;
        }
        if (*count == MAX_RANGES) return RANGE_IGNORED;
        ranges[*count].first = first;
        ranges[(*count)++].last = last;
    }
    if (!any) return RANGE_IGNORED;
    return *count ? RANGE_OK : RANGE_UNSATISFIABLE;
}

static int part_header(char *out, size_t len, unsigned int index, const struct byte_range *range,
        UINT64 total)
{
    return snprintf(out, len, "%s--" BOUNDARY "\r\nContent-Type: application/octet-stream\r\n"
            "Content-Range: bytes %llu-%llu/%llu\r\n\r\n", index ? "\r\n" : "",
            (unsigned long long)range->first, (unsigned long long)range->last,
            (unsigned long long)total);
}

static const char multipart_end[] = "\r\n--" BOUNDARY "--\r\n";

/* Returns whether the connection may be kept. */
static BOOL handle_file(struct connection *conn, const char *name, const char *query)
{
    struct request *req = &conn->request;
    BOOL head = !strcmp(req->method, "HEAD"), keep_alive, close_delimited, applies;
    struct byte_range ranges[MAX_RANGES];
    unsigned int i, count = 0, status, version;
    char etag[64], modified_text[40], value[SERVER_VALUE_MAX], error[SERVER_TARGET_MAX + 32];
    char extra[160], part[256];
    struct file_options opts;
    struct body_writer writer;
    struct response resp;
    enum range_result range = RANGE_IGNORED;
    enum send_result sent = SEND_OK;
    struct name_state *state;
    UINT64 modified, length, total;

    if (!*name || strlen(name) >= SERVER_TARGET_MAX)
        return send_simple(conn, 404, NULL, req->keep_alive);
    if (!parse_options(query, &opts, error, sizeof(error)))
    {
        trace("server: %s: %s\n", req->target, error);
        return send_simple(conn, 400, NULL, req->keep_alive);
    }
    keep_alive = req->keep_alive && !opts.close;
    if (!head && strcmp(req->method, "GET"))
        return send_simple(conn, 405, "Allow: GET, HEAD\r\n", keep_alive);
    if (opts.delay && !pause_ms(opts.delay)) return FALSE;
    if (opts.auth[0] && !auth_ok(req, opts.auth))
        return send_simple(conn, 401, "WWW-Authenticate: Basic realm=\"" SERVER_NAME "\"\r\n",
                keep_alive);

    AcquireSRWLockExclusive(&server.lock);
    state = name_get_locked(name);
    version = state->version;
    if (opts.changing && !head) state->version++;     /* before the client can see a byte */
    status = head && opts.head_status ? opts.head_status : opts.status;
    applies = !opts.times_set || !opts.times || state->status_hits < opts.times;
    if (status && applies) state->status_hits++;
    writer.drop_armed = opts.has_drop && drop_applies_locked(state, &opts);
    ReleaseSRWLockExclusive(&server.lock);

    if (status && applies)
    {
        extra[0] = 0;
        if (status == 416)
            snprintf(extra, sizeof(extra), "Content-Range: bytes */%llu\r\n",
                    (unsigned long long)opts.size);
        else if (status == 401)
            snprintf(extra, sizeof(extra), "WWW-Authenticate: Basic realm=\"%s\"\r\n",
                    SERVER_NAME);
        else if (status == 407)
            snprintf(extra, sizeof(extra), "Proxy-Authenticate: Basic realm=\"%s\"\r\n",
                    SERVER_NAME);
        return send_simple(conn, status, extra, keep_alive);
    }

    server_etag(name, version, etag, sizeof(etag));
    modified = file_seconds(name, version);
    format_date(modified, modified_text, sizeof(modified_text));
    status = check_preconditions(req, &opts, etag, modified);
    if (status == 412) return send_simple(conn, 412, NULL, keep_alive);

    if (!status && !head && !opts.norange
            && header_value(req->headers, "Range", value, sizeof(value))
            && if_range_holds(req, &opts, etag, modified))
        range = parse_ranges(value, opts.size, ranges, &count);
    if (range == RANGE_UNSATISFIABLE)
    {
        snprintf(extra, sizeof(extra), "Content-Range: bytes */%llu\r\n",
                (unsigned long long)opts.size);
        return send_simple(conn, 416, extra, keep_alive);
    }
    if (!status && !head && opts.badrange)
    {
        /* one range, announced one byte later than what is sent */
        if (range != RANGE_OK)
        {
            ranges[0].first = 0;
            ranges[0].last = opts.size ? opts.size - 1 : 0;
        }
        range = RANGE_OK;
        count = 1;
    }
    if (!status) status = range == RANGE_OK ? 206 : 200;
    total = opts.badtotal ? opts.size + 1 : opts.size;

    if (status == 304) length = 0;
    else if (range != RANGE_OK) length = opts.size;
    else if (count == 1) length = ranges[0].last - ranges[0].first + 1;
    else
    {
        length = sizeof(multipart_end) - 1;
        for (i = 0; i < count; i++)
            length += part_header(part, sizeof(part), i, &ranges[i], total)
                    + ranges[i].last - ranges[i].first + 1;
    }

    writer.conn = conn;
    writer.opts = &opts;
    writer.name = name;
    writer.version = version;
    writer.chunked = status != 304 && opts.chunked && req->minor >= 1 && !opts.nolength;
    writer.start_tick = GetTickCount64();
    writer.content_sent = 0;
    writer.body_bytes = 0;
    close_delimited = status != 304 && !head && !writer.chunked
            && (opts.nolength || opts.chunked || opts.badlength);
    if (close_delimited) keep_alive = FALSE;

    response_init(&resp, status);
    if (status != 304)
    {
        if (range == RANGE_OK && count > 1)
            response_add(&resp, "Content-Type: multipart/byteranges; boundary=" BOUNDARY
                    "\r\n");
        else
            response_add(&resp, "Content-Type: application/octet-stream\r\n");
        response_add(&resp, "Accept-Ranges: %s\r\n", opts.norange ? "none" : "bytes");
    }
    if (!opts.novalidators)
        response_add(&resp, "Last-Modified: %s\r\nETag: %s\r\n", modified_text, etag);
    if (range == RANGE_OK && count == 1)
    {
        UINT64 shift = opts.badrange ? 1 : 0;

        response_add(&resp, "Content-Range: bytes %llu-%llu/%llu\r\n",
                (unsigned long long)(ranges[0].first + shift),
                (unsigned long long)(ranges[0].last + shift), (unsigned long long)total);
    }
    if (writer.chunked)
        response_add(&resp, "Transfer-Encoding: chunked\r\n");
    else if (status != 304 && !opts.nolength && !(opts.chunked && !head))
        response_add(&resp, "Content-Length: %llu\r\n", (unsigned long long)
                (length + (opts.badlength && !head ? BADLENGTH_EXTRA : 0)));
    response_add(&resp, "Connection: %s\r\n", keep_alive ? "keep-alive" : "close");
    if (!response_send(conn, &resp, status, version)) return FALSE;

    if (!head && status != 304)
    {
        if (range != RANGE_OK)
            sent = send_content(&writer, 0, opts.size);
        else if (count == 1)
            sent = send_content(&writer, ranges[0].first, length);
        else
        {
            for (i = 0; i < count && sent == SEND_OK; i++)
            {
                int len = part_header(part, sizeof(part), i, &ranges[i], total);

                if (!body_write(&writer, part, len)) sent = SEND_FAILED;
                else sent = send_content(&writer, ranges[i].first,
                        ranges[i].last - ranges[i].first + 1);
            }
            if (sent == SEND_OK && !body_write(&writer, multipart_end, sizeof(multipart_end) - 1))
                sent = SEND_FAILED;
        }
        if (sent == SEND_OK && writer.chunked && !conn_send(conn, "0\r\n\r\n", 5))
            sent = SEND_FAILED;
    }
    req->body_sent = writer.body_bytes;
    return sent == SEND_OK && keep_alive;
}

/* /redirect/<code>/<rest> */
static BOOL handle_redirect(struct connection *conn, const char *spec)
{
    char extra[SERVER_TARGET_MAX + 64];
    unsigned int code = 0;
    const char *rest;

    rest = strchr(spec, '/');
    if (rest && rest - spec == 3) code = atoi(spec);
    if (code != 301 && code != 302 && code != 303 && code != 307 && code != 308)
    {
        trace("server: bad redirect %s\n", conn->request.target);
        return send_simple(conn, 400, NULL, conn->request.keep_alive);
    }
    snprintf(extra, sizeof(extra), "Location: http://127.0.0.1:%u/%s\r\n", server.port, rest + 1);
    return send_simple(conn, code, extra, conn->request.keep_alive);
}

/* Returns whether the connection may be kept. */
static BOOL dispatch_request(struct connection *conn)
{
    struct request *req = &conn->request;
    char value[64], *query;
    char path[SERVER_TARGET_MAX];

    if (req->body_left)
    {
        if (req->body_left > BODY_DISCARD_MAX) return send_simple(conn, 413, NULL, FALSE);
        if (header_value(req->headers, "Expect", value, sizeof(value))
                && !_stricmp(value, "100-continue")
                && !conn_send(conn, "HTTP/1.1 100 Continue\r\n\r\n", 25))
            return FALSE;
        if (!conn_discard_body(conn)) return FALSE;
    }
    strcpy(path, req->target);
    query = strchr(path, '?');
    if (query) *query++ = 0;
    else query = path + strlen(path);
    if (!strncmp(path, "/file/", 6)) return handle_file(conn, path + 6, query);
    if (!strncmp(req->target, "/redirect/", 10)) return handle_redirect(conn, req->target + 10);
    return send_simple(conn, 404, NULL, req->keep_alive);
}

/* Logs the request around its handling; returns whether the connection may be kept. */
static BOOL handle_request(struct connection *conn)
{
    BOOL keep_alive;

    conn->request.log_serial = log_add(&conn->request, conn->serial);
    keep_alive = dispatch_request(conn);
    log_finish(conn->request.log_serial, conn->request.body_sent);
    return keep_alive;
}

static DWORD WINAPI connection_thread(void *arg)
{
    static const unsigned int statuses[] =
    {
        [READ_BAD] = 400, [READ_TOO_LARGE] = 431, [READ_URI_TOO_LONG] = 414,
        [READ_VERSION] = 505, [READ_UNSUPPORTED] = 501,
    };
    struct connection *conn = arg;
    enum read_result result;

    for (;;)
    {
        result = read_request(conn);
        if (result == READ_CLOSED) break;
        if (result != READ_OK)
        {
            /* the request cannot be answered by a handler, and the stream is out of sync */
            if (!conn->request.method[0]) strcpy(conn->request.method, "?");
            conn->request.log_serial = log_add(&conn->request, conn->serial);
            send_simple(conn, statuses[result], NULL, FALSE);
            log_finish(conn->request.log_serial, conn->request.body_sent);
            break;
        }
        if (!handle_request(conn)) break;
    }
    conn_close(conn);
    AcquireSRWLockExclusive(&server.lock);
    conn->finished = TRUE;
    ReleaseSRWLockExclusive(&server.lock);
    return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Accepting, starting and stopping */

static void connection_free(struct connection *conn)
{
    if (conn->thread) CloseHandle(conn->thread);
    if (conn->socket != INVALID_SOCKET) closesocket(conn->socket);
    if (conn->socket_event) WSACloseEvent(conn->socket_event);
    if (conn->wake_event) CloseHandle(conn->wake_event);
    free(conn);
}

/* Joins and frees the connections whose thread has finished; all of them when stopping. */
static void reap_connections(BOOL all)
{
    struct connection *conn;
    unsigned int i;

    for (i = 0; i < MAX_CONNECTIONS; i++)
    {
        AcquireSRWLockExclusive(&server.lock);
        conn = server.connections[i];
        if (conn && !all && !conn->finished) conn = NULL;
        ReleaseSRWLockExclusive(&server.lock);
        if (!conn) continue;
        if (WaitForSingleObject(conn->thread, all ? STOP_TIMEOUT_MS : INFINITE) != WAIT_OBJECT_0)
        {
            /* never free what a thread may still use: leak it */
            trace("server: connection %u did not stop\n", conn->serial);
            conn = NULL;
        }
        AcquireSRWLockExclusive(&server.lock);
        server.connections[i] = NULL;
        ReleaseSRWLockExclusive(&server.lock);
        if (conn) connection_free(conn);
    }
}

static void accept_connection(SOCKET socket)
{
    struct connection *conn;
    BOOL nodelay = TRUE;
    unsigned int i;

    SetHandleInformation((HANDLE)socket, HANDLE_FLAG_INHERIT, 0);
    conn = calloc(1, sizeof(*conn));
    if (!conn)
    {
        closesocket(socket);
        return;
    }
    conn->socket = socket;
    conn->socket_event = WSACreateEvent();
    conn->wake_event = CreateEventW(NULL, FALSE, FALSE, NULL);
    if (conn->socket_event == WSA_INVALID_EVENT || !conn->wake_event
            || WSAEventSelect(socket, conn->socket_event, FD_READ | FD_WRITE | FD_CLOSE))
    {
        if (conn->socket_event == WSA_INVALID_EVENT) conn->socket_event = NULL;
        connection_free(conn);
        return;
    }
    setsockopt(socket, IPPROTO_TCP, TCP_NODELAY, (const char *)&nodelay, sizeof(nodelay));

    AcquireSRWLockExclusive(&server.lock);
    for (i = 0; i < MAX_CONNECTIONS; i++)
        if (!server.connections[i]) break;
    if (i < MAX_CONNECTIONS)
    {
        conn->serial = ++server.next_serial;
        server.connections[i] = conn;
    }
    ReleaseSRWLockExclusive(&server.lock);
    if (i == MAX_CONNECTIONS)
    {
        trace("server: more than %u connections, refusing one\n", MAX_CONNECTIONS);
        connection_free(conn);
        return;
    }
    /* only this thread and server_stop(), after joining it, look at conn->thread */
    conn->thread = CreateThread(NULL, 0, connection_thread, conn, 0, NULL);
    if (!conn->thread)
    {
        AcquireSRWLockExclusive(&server.lock);
        server.connections[i] = NULL;
        ReleaseSRWLockExclusive(&server.lock);
        connection_free(conn);
    }
}

static DWORD WINAPI accept_thread(void *arg)
{
    HANDLE handles[2] = { server.stop_event, server.listen_event };
    WSANETWORKEVENTS events;
    SOCKET socket;
    DWORD ret;

    (void)arg;
    for (;;)
    {
        ret = WaitForMultipleObjects(2, handles, FALSE, POLL_MS);
        if (ret != WAIT_OBJECT_0 + 1 && ret != WAIT_TIMEOUT) break;
        WSAEnumNetworkEvents(server.listener, server.listen_event, &events);
        reap_connections(FALSE);
        while ((socket = accept(server.listener, NULL, NULL)) != INVALID_SOCKET)
            accept_connection(socket);
    }
    return 0;
}

static void cleanup(void)
{
    if (server.listener != INVALID_SOCKET) closesocket(server.listener);
    if (server.listen_event) WSACloseEvent(server.listen_event);
    if (server.stop_event) CloseHandle(server.stop_event);
    server.listener = INVALID_SOCKET;
    server.listen_event = NULL;
    server.stop_event = NULL;
    server.accept_thread = NULL;
    WSACleanup();
}

BOOL server_start(void)
{
    struct sockaddr_in addr;
    int addr_len = sizeof(addr);
    WSADATA wsa;
    BOOL ret = FALSE;

    AcquireSRWLockExclusive(&server.control);
    if (server.running)
    {
        ReleaseSRWLockExclusive(&server.control);
        return TRUE;
    }
    if (WSAStartup(MAKEWORD(2, 2), &wsa))
    {
        trace("server: WSAStartup failed\n");
        ReleaseSRWLockExclusive(&server.control);
        return FALSE;
    }

    AcquireSRWLockExclusive(&server.lock);
    memset(server.names, 0, sizeof(server.names));
    memset(&server.spare, 0, sizeof(server.spare));
    server.log_first = server.log_count = 0;
    ReleaseSRWLockExclusive(&server.lock);

    server.listener = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    server.listen_event = WSACreateEvent();
    server.stop_event = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (server.listener == INVALID_SOCKET || server.listen_event == WSA_INVALID_EVENT
            || !server.stop_event)
    {
        trace("server: cannot create the listener: error %d\n", WSAGetLastError());
        if (server.listen_event == WSA_INVALID_EVENT) server.listen_event = NULL;
        goto done;
    }
    SetHandleInformation((HANDLE)server.listener, HANDLE_FLAG_INHERIT, 0);
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (bind(server.listener, (struct sockaddr *)&addr, sizeof(addr))
            || listen(server.listener, SOMAXCONN)
            || getsockname(server.listener, (struct sockaddr *)&addr, &addr_len)
            || WSAEventSelect(server.listener, server.listen_event, FD_ACCEPT))
    {
        trace("server: cannot listen on 127.0.0.1: error %d\n", WSAGetLastError());
        goto done;
    }
    server.port = ntohs(addr.sin_port);
    server.accept_thread = CreateThread(NULL, 0, accept_thread, NULL, 0, NULL);
    if (!server.accept_thread)
    {
        trace("server: cannot start the accept thread: error %lu\n", GetLastError());
        goto done;
    }
    server.running = TRUE;
    ret = TRUE;
done:
    if (!ret)
    {
        server.port = 0;
        cleanup();
    }
    ReleaseSRWLockExclusive(&server.control);
    return ret;
}

void server_stop(void)
{
    AcquireSRWLockExclusive(&server.control);
    if (!server.running)
    {
        ReleaseSRWLockExclusive(&server.control);
        return;
    }
    SetEvent(server.stop_event);
    WaitForSingleObject(server.accept_thread, INFINITE);
    CloseHandle(server.accept_thread);
    reap_connections(TRUE);
    server.running = FALSE;
    server.port = 0;
    cleanup();
    ReleaseSRWLockExclusive(&server.control);
}

unsigned short server_port(void)
{
    return server.port;
}

const WCHAR *server_url(const char *path, WCHAR *buffer, size_t len)
{
    char url[SERVER_TARGET_MAX + 32];
    size_t i;
    int n;

    if (!server.port || !path) return NULL;
    n = snprintf(url, sizeof(url), "http://127.0.0.1:%u%s%s", server.port,
            *path == '/' ? "" : "/", path);
    if (n < 0 || (size_t)n >= sizeof(url) || (size_t)n >= len) return NULL;
    for (i = 0; i <= (size_t)n; i++) buffer[i] = (unsigned char)url[i];
    return buffer;
}
