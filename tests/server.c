/* The HTTP/1.1 test server of server.h: an accept thread and one thread per connection, all
 * waiting on the stop event as well as on their socket, so server_stop() never hangs on a
 * client that went quiet.  Sockets are non-blocking with WSAEventSelect; every buffer, table
 * and wait is bounded.  Requests are dispatched on their path: /file/ (generated content),
 * /redirect/ and /upload/ (the BITS upload protocol, [MC-BUP]: sessions in a fixed table,
 * uploaded bytes in memory).   SPDX-License-Identifier: LGPL-2.1-or-later */

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
#define MAX_SESSIONS 256
#define SESSION_ID_MAX 40           /* "{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}" */
#define FRAGMENT_MAX (64u << 20)    /* a bigger fragment body gets 413 */
#define UPLOAD_MAX (256u << 20)     /* a bigger file gets BG_E_TOO_LARGE */
#define HR_INVALIDARG 0x80070057u
#define HR_SESSION_NOT_FOUND 0x8020001fu    /* BG_E_SESSION_NOT_FOUND */
#define HR_TOO_LARGE 0x80200020u            /* BG_E_TOO_LARGE */
#define CONTEXT_SERVER 0x5u                 /* [MC-BUP] 2.2.1.2 */

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
    /* uploads */
    BYTE *upload;                   /* the committed file, malloc'd; NULL when empty */
    UINT64 upload_size;
    BOOL committed;
    unsigned int commits;
    unsigned int sessions;          /* created */
    unsigned int closed;
    unsigned int cancelled;
    unsigned int create_hits;       /* Create-Sessions failed by create= */
    unsigned int fragment_hits;     /* Fragments failed by fragment= */
    BOOL lose_done;
    BOOL upload_drop_done;
    BOOL rewind_done;
};

enum session_state
{
    SESSION_FREE,
    SESSION_OPEN,
    SESSION_CLOSED,
    SESSION_CANCELLED,
    SESSION_LOST,                   /* forgotten by lose= */
};

/* An upload session; closed ones keep their id only, to answer BG_E_SESSION_NOT_FOUND. */
struct session
{
    enum session_state state;
    char id[SESSION_ID_MAX];
    char name[SERVER_TARGET_MAX];
    ULONGLONG serial;               /* creation order: the oldest ended slot is reused */
    BYTE *data;                     /* bytes [0, next), malloc'd */
    UINT64 capacity;
    UINT64 next;                    /* next expected byte */
    UINT64 total;
    BOOL has_total;                 /* a fragment has come */
    BOOL whole;                     /* every byte came and the file was committed */
};

struct packet_entry
{
    ULONGLONG serial;
    struct server_packet packet;
};

struct upload_options
{
    unsigned int create;
    unsigned int fragment;
    UINT64 at;
    unsigned int times;
    BOOL times_set;
    UINT64 code;
    BOOL has_code;
    UINT64 context;
    BOOL has_context;
    UINT64 lose;
    BOOL has_lose;
    UINT64 maxfragment;
    BOOL has_maxfragment;
    UINT64 maxsize;
    BOOL has_maxsize;
    UINT64 drop;
    BOOL has_drop;
    UINT64 rewind;
    BOOL has_rewind;
    UINT64 stall;
    BOOL has_stall;
    UINT64 delay;
    UINT64 reply;
    BOOL has_reply;
    UINT64 reply_status;
    UINT64 reply_slow;
    BOOL has_reply_slow;
    UINT64 reply_stall;
    BOOL has_reply_stall;
    char auth[SERVER_VALUE_MAX];
};

/* What an upload packet is answered. */
struct ack
{
    unsigned int status;
    BOOL protocol;                  /* BITS-Protocol and Accept-Encoding (Create-Session) */
    const char *session;            /* BITS-Session-Id, or NULL */
    BOOL has_received;
    UINT64 received;
    char reply_url[SERVER_TARGET_MAX];
    BOOL has_error;
    DWORD code;
    DWORD context;
    const char *extra;              /* more header lines, or NULL */
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
    BOOL coalesce;
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
    struct packet_entry packets[SERVER_LOG_MAX];
    unsigned int packet_first;
    unsigned int packet_count;
    ULONGLONG packet_next_serial;
    struct session sessions[MAX_SESSIONS];
    ULONGLONG session_serial;
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

static void session_end_locked(struct session *session, enum session_state state)
{
    free(session->data);
    session->data = NULL;
    session->capacity = 0;
    session->state = state;
}

/* Forgets the committed file, the counters and the sessions of a name. */
static void upload_reset_locked(struct name_state *state)
{
    unsigned int i;

    for (i = 0; i < MAX_SESSIONS; i++)
        if (server.sessions[i].state != SESSION_FREE && !strcmp(server.sessions[i].name,
                state->name))
            session_end_locked(&server.sessions[i], SESSION_FREE);
    free(state->upload);
    state->upload = NULL;
    state->upload_size = 0;
    state->committed = FALSE;
    state->commits = state->sessions = state->closed = state->cancelled = 0;
    state->create_hits = state->fragment_hits = 0;
    state->lose_done = state->upload_drop_done = state->rewind_done = FALSE;
}

/* Frees every upload buffer; the lock is held or no thread runs. */
static void upload_free_all(void)
{
    unsigned int i;

    for (i = 0; i < MAX_SESSIONS; i++) session_end_locked(&server.sessions[i], SESSION_FREE);
    for (i = 0; i < MAX_NAMES; i++) free(server.names[i].upload);
    free(server.spare.upload);
    memset(server.names, 0, sizeof(server.names));
    memset(&server.spare, 0, sizeof(server.spare));
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
    upload_reset_locked(state);
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

/* The slot of a new entry in a ring of SERVER_LOG_MAX entries (the log or the packets), of
 * which *COUNT are used from *FIRST on; a full ring drops its oldest entry.  Lock held. */
static unsigned int ring_push(unsigned int *first, unsigned int *count)
{
    if (*count == SERVER_LOG_MAX)
    {
        *first = (*first + 1) % SERVER_LOG_MAX;
        (*count)--;
    }
    return (*first + (*count)++) % SERVER_LOG_MAX;
}

static ULONGLONG log_add(const struct request *req, unsigned int connection)
{
    struct log_entry *entry;
    ULONGLONG serial;

    AcquireSRWLockExclusive(&server.lock);
    entry = &server.log[ring_push(&server.log_first, &server.log_count)];
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
    server.packet_first = server.packet_count = 0;
    ReleaseSRWLockExclusive(&server.lock);
}

/* ---------------------------------------------------------------------------------------- */
/* The packet log and what an upload name holds */

static BOOL packet_selected(const struct server_packet *packet, const char *name,
        const char *type)
{
    return (!name || !strcmp(packet->name, name)) && (!type || !_stricmp(packet->type, type));
}

static struct server_packet *packet_find_locked(const char *name, const char *type,
        unsigned int index)
{
    struct server_packet *packet;
    unsigned int i;

    for (i = 0; i < server.packet_count; i++)
    {
        packet = &server.packets[(server.packet_first + i) % SERVER_LOG_MAX].packet;
        if (packet_selected(packet, name, type) && !index--) return packet;
    }
    return NULL;
}

static unsigned int packet_count_locked(const char *name, const char *type, BOOL finished_only)
{
    struct server_packet *packet;
    unsigned int i, count = 0;

    for (i = 0; i < server.packet_count; i++)
    {
        packet = &server.packets[(server.packet_first + i) % SERVER_LOG_MAX].packet;
        if (packet_selected(packet, name, type) && (packet->finished || !finished_only)) count++;
    }
    return count;
}

static ULONGLONG packet_add(const struct server_packet *packet)
{
    struct packet_entry *entry;
    ULONGLONG serial;

    AcquireSRWLockExclusive(&server.lock);
    entry = &server.packets[ring_push(&server.packet_first, &server.packet_count)];
    serial = entry->serial = ++server.packet_next_serial;
    entry->packet = *packet;
    WakeAllConditionVariable(&server.changed);
    ReleaseSRWLockExclusive(&server.lock);
    return serial;
}

/* Replaces the logged packet, unless the log was cleared meanwhile. */
static void packet_update(ULONGLONG serial, const struct server_packet *packet)
{
    unsigned int i;

    AcquireSRWLockExclusive(&server.lock);
    for (i = server.packet_count; i--; )
    {
        struct packet_entry *entry = &server.packets[(server.packet_first + i) % SERVER_LOG_MAX];
        if (entry->serial != serial) continue;
        entry->packet = *packet;
        break;
    }
    WakeAllConditionVariable(&server.changed);
    ReleaseSRWLockExclusive(&server.lock);
}

unsigned int server_packet_count(const char *name, const char *type)
{
    unsigned int count;

    AcquireSRWLockExclusive(&server.lock);
    count = packet_count_locked(name, type, FALSE);
    ReleaseSRWLockExclusive(&server.lock);
    return count;
}

BOOL server_packet_get(const char *name, const char *type, unsigned int index,
        struct server_packet *out)
{
    struct server_packet *packet;

    AcquireSRWLockExclusive(&server.lock);
    packet = packet_find_locked(name, type, index);
    if (packet) *out = *packet;
    ReleaseSRWLockExclusive(&server.lock);
    return packet != NULL;
}

BOOL server_packet_wait(const char *name, const char *type, unsigned int count,
        DWORD timeout_ms)
{
    ULONGLONG deadline = GetTickCount64() + timeout_ms;
    BOOL ret;

    AcquireSRWLockExclusive(&server.lock);
    while (!(ret = packet_count_locked(name, type, TRUE) >= count)
            && wait_changed_locked(deadline)) ;
    ReleaseSRWLockExclusive(&server.lock);
    return ret;
}

void server_upload_state(const char *name, struct server_upload *out)
{
    struct name_state *state;
    struct session *session;
    unsigned int i;

    memset(out, 0, sizeof(*out));
    AcquireSRWLockExclusive(&server.lock);
    state = name_get_locked(name);
    out->sessions = state->sessions;
    out->closed = state->closed;
    out->cancelled = state->cancelled;
    out->commits = state->commits;
    out->committed = state->committed;
    out->size = state->upload_size;
    for (i = 0; i < MAX_SESSIONS; i++)
    {
        session = &server.sessions[i];
        if (session->state != SESSION_OPEN || strcmp(session->name, name)) continue;
        out->open++;
        if (!session->whole) out->pending += session->next;
    }
    ReleaseSRWLockExclusive(&server.lock);
}

BOOL server_upload_data(const char *name, BYTE **data, UINT64 *size)
{
    struct name_state *state;
    BOOL ret = FALSE;

    *data = NULL;
    *size = 0;
    AcquireSRWLockExclusive(&server.lock);
    state = name_get_locked(name);
    if (state->committed)
    {
        ret = TRUE;
        if (state->upload_size)
        {
            *data = malloc((size_t)state->upload_size);
            if (*data) memcpy(*data, state->upload, (size_t)state->upload_size);
            else ret = FALSE;
        }
        if (ret) *size = state->upload_size;
    }
    ReleaseSRWLockExclusive(&server.lock);
    return ret;
}

BOOL server_upload_verify(const char *name, const WCHAR *path)
{
    LARGE_INTEGER file_size;
    BYTE *data, *local = NULL;
    BOOL ret = FALSE;
    UINT64 size, offset = 0, i;
    HANDLE file;
    DWORD got;

    if (!server_upload_data(name, &data, &size))
    {
        trace("server: nothing committed for upload %s\n", name);
        return FALSE;
    }
    file = CreateFileW(path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
            NULL, OPEN_EXISTING, FILE_FLAG_SEQUENTIAL_SCAN, NULL);
    if (file == INVALID_HANDLE_VALUE)
    {
        trace("server: cannot open %s: error %lu\n", debugstr_w(path), GetLastError());
        free(data);
        return FALSE;
    }
    if (!GetFileSizeEx(file, &file_size) || (UINT64)file_size.QuadPart != size)
    {
        trace("server: upload %s has %s bytes, %s has %s\n", name, wine_dbgstr_longlong(size),
                debugstr_w(path), wine_dbgstr_longlong(file_size.QuadPart));
        goto done;
    }
    local = malloc(CHUNK_SIZE);
    if (!local) goto done;
    while (offset < size)
    {
        if (!ReadFile(file, local, CHUNK_SIZE, &got, NULL) || !got || got > size - offset)
        {
            trace("server: reading %s failed: error %lu\n", debugstr_w(path), GetLastError());
            goto done;
        }
        if (memcmp(data + offset, local, got))
        {
            for (i = 0; data[offset + i] == local[i]; i++) ;
            trace("server: upload %s differs from %s at offset %s: %#x instead of %#x\n", name,
                    debugstr_w(path), wine_dbgstr_longlong(offset + i), data[offset + i],
                    local[i]);
            goto done;
        }
        offset += got;
    }
    ret = TRUE;
done:
    free(local);
    free(data);
    CloseHandle(file);
    return ret;
}

BOOL server_upload_wait(const char *name, DWORD timeout_ms)
{
    ULONGLONG deadline = GetTickCount64() + timeout_ms;
    BOOL ret;

    AcquireSRWLockExclusive(&server.lock);
    while (!(ret = name_get_locked(name)->committed) && wait_changed_locked(deadline)) ;
    ReleaseSRWLockExclusive(&server.lock);
    return ret;
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
 * upload handler reads its fragments with this. */
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

static BOOL parse_hex(const char *text, UINT64 *value)
{
    UINT64 result = 0;
    unsigned int digits = 0;
    char c;

    if (!text || _strnicmp(text, "0x", 2)) return FALSE;
    for (text += 2; *text; text++, digits++)
    {
        c = *text;
        if (digits == 8) return FALSE;
        if (c >= '0' && c <= '9') result = result * 16 + (c - '0');
        else if (c >= 'a' && c <= 'f') result = result * 16 + (c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') result = result * 16 + (c - 'A' + 10);
        else return FALSE;
    }
    if (!digits) return FALSE;
    *value = result;
    return TRUE;
}

/* How the value of an option of a /file/ or /upload/ query is read, and the type of its field. */
enum option_kind
{
    OPTION_FLAG,        /* BOOL, set by the bare name; a value is an error */
    OPTION_NUMBER,      /* UINT64, decimal */
    OPTION_HEX,         /* UINT64, "0x" and 1 to 8 hex digits */
    OPTION_STATUS,      /* unsigned int, an HTTP status from 100 to 599 */
    OPTION_COUNT,       /* unsigned int */
    OPTION_AUTH,        /* char[SERVER_VALUE_MAX], "user:password" */
};

struct query_option
{
    const char *name;
    enum option_kind kind;
    size_t offset;      /* of the field in the options structure */
    size_t flag;        /* offset of the BOOL telling it was given, or 0 */
};

/* Parses QUERY, "name" and "name=value" items separated by "&", into OPTS (SIZE bytes, zeroed
 * first) as the table OPTIONS says; FALSE with a message in ERROR for an unknown name or a bad
 * value. */
static BOOL parse_query(const char *query, const struct query_option *options,
        unsigned int count, void *opts, size_t size, char *error, size_t error_len)
{
    char item[SERVER_TARGET_MAX], *value, *field;
    const struct query_option *option;
    const char *end;
    unsigned int i;
    UINT64 number;
    size_t len;

    memset(opts, 0, size);
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

        for (i = 0; i < count; i++)
            if (!strcmp(item, options[i].name)) break;
        if (i == count) goto bad;
        option = &options[i];
        field = (char *)opts + option->offset;
        switch (option->kind)
        {
        case OPTION_FLAG:
            if (value) goto bad;
            *(BOOL *)field = TRUE;
            break;
        case OPTION_NUMBER:
            if (!parse_u64(value, (UINT64 *)field)) goto bad;
            break;
        case OPTION_HEX:
            if (!parse_hex(value, (UINT64 *)field)) goto bad;
            break;
        case OPTION_STATUS:
            if (!parse_u64(value, &number) || number < 100 || number > 599) goto bad;
            *(unsigned int *)field = (unsigned int)number;
            break;
        case OPTION_COUNT:
            if (!parse_u64(value, &number) || number > UINT_MAX) goto bad;
            *(unsigned int *)field = (unsigned int)number;
            break;
        case OPTION_AUTH:
            if (!value || !strchr(value, ':') || strlen(value) >= SERVER_VALUE_MAX) goto bad;
            strcpy(field, value);
            break;
        }
        if (option->flag) *(BOOL *)((char *)opts + option->flag) = TRUE;
    }
    return TRUE;
bad:
    snprintf(error, error_len, "bad option \"%s%s%s\"", item, value ? "=" : "",
            value ? value : "");
    return FALSE;
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

#define FILE_OPTION(name, kind, field) { name, kind, offsetof(struct file_options, field), 0 }
#define FILE_OPTION_GIVEN(name, kind, field, given) \
    { name, kind, offsetof(struct file_options, field), offsetof(struct file_options, given) }

static BOOL parse_options(const char *query, struct file_options *opts, char *error,
        size_t error_len)
{
    static const struct query_option options[] =
    {
        FILE_OPTION("norange", OPTION_FLAG, norange),
        FILE_OPTION("nolength", OPTION_FLAG, nolength),
        FILE_OPTION("chunked", OPTION_FLAG, chunked),
        FILE_OPTION("badlength", OPTION_FLAG, badlength),
        FILE_OPTION("badrange", OPTION_FLAG, badrange),
        FILE_OPTION("badtotal", OPTION_FLAG, badtotal),
        FILE_OPTION("coalesce", OPTION_FLAG, coalesce),
        FILE_OPTION("changing", OPTION_FLAG, changing),
        FILE_OPTION("novalidators", OPTION_FLAG, novalidators),
        FILE_OPTION("close", OPTION_FLAG, close),
        FILE_OPTION("size", OPTION_NUMBER, size),
        FILE_OPTION_GIVEN("slow", OPTION_NUMBER, slow, has_slow),
        FILE_OPTION_GIVEN("stall", OPTION_NUMBER, stall, has_stall),
        FILE_OPTION_GIVEN("drop", OPTION_NUMBER, drop, has_drop),
        FILE_OPTION("delay", OPTION_NUMBER, delay),
        FILE_OPTION("status", OPTION_STATUS, status),
        FILE_OPTION("headstatus", OPTION_STATUS, head_status),
        FILE_OPTION_GIVEN("times", OPTION_COUNT, times, times_set),
        FILE_OPTION("auth", OPTION_AUTH, auth),
    };

    if (!parse_query(query, options, ARRAY_SIZE(options), opts, sizeof(*opts), error,
            error_len))
        return FALSE;
    if ((opts->has_slow && !opts->slow) || opts->delay > 600000)
    {
        snprintf(error, error_len, "slow=0 or delay above 600000");
        return FALSE;
    }
    return TRUE;
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

/* Sorts the ranges by their first byte and merges those that overlap or touch, as RFC 9110
 * 14.2 lets a server do; returns the new count. */
static unsigned int coalesce_ranges(struct byte_range *ranges, unsigned int count)
{
    struct byte_range range;
    unsigned int i, j, merged = 0;

    for (i = 1; i < count; i++)
    {
        range = ranges[i];
        for (j = i; j && ranges[j - 1].first > range.first; j--) ranges[j] = ranges[j - 1];
        ranges[j] = range;
    }
    for (i = 0; i < count; i++)
    {
        if (merged && ranges[i].first <= ranges[merged - 1].last + 1)
        {
            if (ranges[i].last > ranges[merged - 1].last)
                ranges[merged - 1].last = ranges[i].last;
        }
        else ranges[merged++] = ranges[i];
    }
    return merged;
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
    if (range == RANGE_OK && opts.coalesce) count = coalesce_ranges(ranges, count);
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

/* ---------------------------------------------------------------------------------------- */
/* /upload/: the BITS upload protocol ([MC-BUP]; wire-and-tools.md §2) */

#define UPLOAD_OPTION(name, kind, field) \
    { name, kind, offsetof(struct upload_options, field), 0 }
#define UPLOAD_OPTION_GIVEN(name, kind, field, given) \
    { name, kind, offsetof(struct upload_options, field), offsetof(struct upload_options, given) }

static BOOL parse_upload_options(const char *query, struct upload_options *opts, char *error,
        size_t error_len)
{
    static const struct query_option options[] =
    {
        UPLOAD_OPTION("at", OPTION_NUMBER, at),
        UPLOAD_OPTION_GIVEN("code", OPTION_HEX, code, has_code),
        UPLOAD_OPTION_GIVEN("context", OPTION_HEX, context, has_context),
        UPLOAD_OPTION_GIVEN("lose", OPTION_NUMBER, lose, has_lose),
        UPLOAD_OPTION_GIVEN("maxfragment", OPTION_NUMBER, maxfragment, has_maxfragment),
        UPLOAD_OPTION_GIVEN("maxsize", OPTION_NUMBER, maxsize, has_maxsize),
        UPLOAD_OPTION_GIVEN("drop", OPTION_NUMBER, drop, has_drop),
        UPLOAD_OPTION_GIVEN("rewind", OPTION_NUMBER, rewind, has_rewind),
        UPLOAD_OPTION_GIVEN("stall", OPTION_NUMBER, stall, has_stall),
        UPLOAD_OPTION("delay", OPTION_NUMBER, delay),
        UPLOAD_OPTION_GIVEN("reply", OPTION_NUMBER, reply, has_reply),
        UPLOAD_OPTION("replystatus", OPTION_NUMBER, reply_status),
        UPLOAD_OPTION_GIVEN("replyslow", OPTION_NUMBER, reply_slow, has_reply_slow),
        UPLOAD_OPTION_GIVEN("replystall", OPTION_NUMBER, reply_stall, has_reply_stall),
        UPLOAD_OPTION("create", OPTION_STATUS, create),
        UPLOAD_OPTION("fragment", OPTION_STATUS, fragment),
        UPLOAD_OPTION_GIVEN("times", OPTION_COUNT, times, times_set),
        UPLOAD_OPTION("auth", OPTION_AUTH, auth),
    };

    if (!parse_query(query, options, ARRAY_SIZE(options), opts, sizeof(*opts), error,
            error_len))
        return FALSE;
    if (opts->delay > 600000 || (opts->has_reply_slow && !opts->reply_slow)
            || (opts->reply_status && (opts->reply_status < 100 || opts->reply_status > 599)))
    {
        snprintf(error, error_len, "delay above 600000, replyslow=0 or a bad replystatus");
        return FALSE;
    }
    return TRUE;
}

/* "bytes a-b/t" with a <= b < t ("bytes" in any case, blanks around the parts allowed). */
static BOOL parse_content_range(const char *value, UINT64 *first, UINT64 *last, UINT64 *total)
{
    char text[SERVER_VALUE_MAX], *dash, *slash, *p;
    size_t len;

    if (_strnicmp(value, "bytes", 5) || (value[5] != ' ' && value[5] != '\t')) return FALSE;
    value += 5;
    while (*value == ' ' || *value == '\t') value++;
    len = strlen(value);
    if (len >= sizeof(text)) return FALSE;
    /* drop blanks: "0 - 9 / 10" is read like "0-9/10" */
    for (p = text; *value; value++)
        if (*value != ' ' && *value != '\t') *p++ = *value;
    *p = 0;
    dash = strchr(text, '-');
    slash = strchr(text, '/');
    if (!dash || !slash || slash < dash) return FALSE;
    *dash = *slash = 0;
    if (!parse_u64(text, first) || !parse_u64(dash + 1, last) || !parse_u64(slash + 1, total))
        return FALSE;
    return *first <= *last && *last < *total;
}

static void session_make_id(char *id, size_t len)
{
    UINT64 a, b;

    a = block_value(GetTickCount64() ^ ((UINT64)GetCurrentProcessId() << 32),
            ++server.session_serial);
    b = block_value(a, server.session_serial);
    snprintf(id, len, "{%08x-%04x-%04x-%04x-%012llx}", (unsigned int)(a >> 32),
            (unsigned int)(a >> 16) & 0xffff, (unsigned int)(0x4000 | (a & 0x0fff)),
            (unsigned int)(0x8000 | ((b >> 48) & 0x3fff)),
            (unsigned long long)(b & 0xffffffffffffull));
}

/* A new open session; NULL when every slot holds an open one.  Lock held. */
static struct session *session_create_locked(const char *name)
{
    struct session *session = NULL, *candidate;
    unsigned int i;

    for (i = 0; i < MAX_SESSIONS; i++)
    {
        candidate = &server.sessions[i];
        if (candidate->state == SESSION_OPEN) continue;
        if (candidate->state == SESSION_FREE)
        {
            session = candidate;
            break;
        }
        if (!session || candidate->serial < session->serial) session = candidate;
    }
    if (!session) return NULL;
    session_end_locked(session, SESSION_FREE);
    memset(session, 0, sizeof(*session));
    session->state = SESSION_OPEN;
    session->serial = server.session_serial + 1;
    session_make_id(session->id, sizeof(session->id));
    lstrcpynA(session->name, name, sizeof(session->name));
    return session;
}

/* The open session with this id under this name, NULL when there is none.  Lock held. */
static struct session *session_find_locked(const char *name, const char *id)
{
    unsigned int i;

    for (i = 0; i < MAX_SESSIONS; i++)
        if (server.sessions[i].state == SESSION_OPEN && !_stricmp(server.sessions[i].id, id)
                && !strcmp(server.sessions[i].name, name))
            return &server.sessions[i];
    return NULL;
}

/* Moves the whole file of the session to the name, replacing what it had.  Lock held. */
static void session_commit_locked(struct session *session, struct name_state *state)
{
    free(state->upload);
    state->upload = session->data;
    state->upload_size = session->next;
    state->committed = TRUE;
    state->commits++;
    session->data = NULL;
    session->capacity = 0;
    session->whole = TRUE;
    WakeAllConditionVariable(&server.changed);
}

/* Stores the fragment bytes [first, first + len) that come at or after the next expected
 * byte; FALSE when memory runs out.  Lock held. */
static BOOL session_store_locked(struct session *session, UINT64 first, const BYTE *data,
        UINT64 len)
{
    UINT64 end = first + len, capacity;
    BYTE *grown;

    if (end <= session->next || first > session->next) return TRUE;
    if (end > session->capacity)
    {
        capacity = session->capacity ? session->capacity : 65536;
        while (capacity < end) capacity *= 2;
        if (capacity > session->total) capacity = session->total;
        grown = realloc(session->data, (size_t)capacity);
        if (!grown) return FALSE;
        session->data = grown;
        session->capacity = capacity;
    }
    memcpy(session->data + session->next, data + (session->next - first),
            (size_t)(end - session->next));
    session->next = end;
    return TRUE;
}

/* Reads the rest of a request body; FALSE when the connection cannot be kept.  A client that
 * waits for "100 Continue" gets the final answer instead and then the connection closes. */
static BOOL upload_discard_body(struct connection *conn)
{
    char value[64];

    if (!conn->request.body_left) return TRUE;
    if (conn->request.body_left > BODY_DISCARD_MAX) return FALSE;
    if (header_value(conn->request.headers, "Expect", value, sizeof(value))
            && !_stricmp(value, "100-continue"))
        return FALSE;
    return conn_discard_body(conn);
}

/* Sends the Ack (any body left unread is skipped first) and logs it; returns whether the
 * connection may be kept. */
static BOOL send_ack(struct connection *conn, struct server_packet *packet, ULONGLONG serial,
        const struct ack *ack, BOOL keep_alive)
{
    struct response resp;
    BOOL sent;

    if (!upload_discard_body(conn)) keep_alive = FALSE;
    response_init(&resp, ack->status);
    response_add(&resp, "BITS-Packet-Type: Ack\r\n");
    if (ack->protocol)
        response_add(&resp, "BITS-Protocol: " SERVER_PROTOCOL_UPLOAD "\r\n"
                "Accept-Encoding: Identity\r\n");
    if (ack->session && ack->session[0])
        response_add(&resp, "BITS-Session-Id: %s\r\n", ack->session);
    if (ack->has_received)
        response_add(&resp, "BITS-Received-Content-Range: %llu\r\n",
                (unsigned long long)ack->received);
    if (ack->reply_url[0]) response_add(&resp, "BITS-Reply-URL: %s\r\n", ack->reply_url);
    if (ack->has_error)
        response_add(&resp, "BITS-Error-Code: 0x%08lx\r\nBITS-Error-Context: 0x%lx\r\n",
                ack->code, ack->context);
    if (ack->extra) response_add(&resp, "%s", ack->extra);
    response_add(&resp, "Content-Length: 0\r\nConnection: %s\r\n",
            keep_alive ? "keep-alive" : "close");

    packet->status = ack->status;
    packet->has_received = ack->has_received;
    packet->received = ack->received;
    lstrcpynA(packet->reply_url, ack->reply_url, sizeof(packet->reply_url));
    if (ack->has_error)
    {
        snprintf(packet->error_code, sizeof(packet->error_code), "0x%08lx", ack->code);
        snprintf(packet->error_context, sizeof(packet->error_context), "0x%lx", ack->context);
    }
    if (ack->session && ack->session[0] && !packet->session[0])
        lstrcpynA(packet->session, ack->session, sizeof(packet->session));
    packet_update(serial, packet);
    sent = response_send(conn, &resp, ack->status, 0);
    return sent && keep_alive;
}

static void ack_error(struct ack *ack, unsigned int status, DWORD code, DWORD context)
{
    ack->status = status;
    ack->has_error = TRUE;
    ack->code = code;
    ack->context = context;
}

/* The forced failure of create= or fragment=: code= and context= when given. */
static void ack_forced(struct ack *ack, const struct upload_options *opts, unsigned int status)
{
    ack->status = status;
    if (!opts->has_code) return;
    ack_error(ack, status, (DWORD)opts->code,
            opts->has_context ? (DWORD)opts->context : CONTEXT_SERVER);
}

static BOOL times_left(const struct upload_options *opts, unsigned int hits)
{
    return !opts->times_set || !opts->times || hits < opts->times;
}

static void upload_create_session(const char *name, const struct upload_options *opts,
        struct server_packet *packet, struct ack *ack, char *id, size_t id_len)
{
    struct name_state *state;
    struct session *session;
    BOOL fail;

    AcquireSRWLockExclusive(&server.lock);
    state = name_get_locked(name);
    fail = opts->create && times_left(opts, state->create_hits);
    if (fail) state->create_hits++;
    ReleaseSRWLockExclusive(&server.lock);
    if (fail)
    {
        ack_forced(ack, opts, opts->create);
        return;
    }
    /* wire-and-tools.md §2.14 item 4: the one protocol must be among those offered */
    if (!has_token(packet->protocols, SERVER_PROTOCOL_UPLOAD))
    {
        ack_error(ack, 400, HR_INVALIDARG, CONTEXT_SERVER);
        return;
    }
    AcquireSRWLockExclusive(&server.lock);
    session = session_create_locked(name);
    if (session)
    {
        name_get_locked(name)->sessions++;
        lstrcpynA(id, session->id, id_len);
    }
    ReleaseSRWLockExclusive(&server.lock);
    if (!session)
    {
        trace("server: more than %u open upload sessions\n", MAX_SESSIONS);
        ack->status = 503;
        return;
    }
    ack->status = 200;
    ack->protocol = TRUE;
    ack->session = id;
}

/* Close-Session and Cancel-Session. */
static void upload_end_session(const char *name, BOOL cancel, struct server_packet *packet,
        struct ack *ack)
{
    struct name_state *state;
    struct session *session;

    AcquireSRWLockExclusive(&server.lock);
    session = session_find_locked(name, packet->session);
    if (session)
    {
        state = name_get_locked(name);
        /* wire-and-tools.md §2.5: a session without any fragment commits an empty file
         * [inferred] */
        if (!cancel && !session->has_total) session_commit_locked(session, state);
        if (cancel) state->cancelled++;
        else state->closed++;
        session_end_locked(session, cancel ? SESSION_CANCELLED : SESSION_CLOSED);
        WakeAllConditionVariable(&server.changed);
    }
    ReleaseSRWLockExclusive(&server.lock);
    if (!session)
    {
        ack_error(ack, 500, HR_SESSION_NOT_FOUND, CONTEXT_SERVER);
        return;
    }
    ack->status = 200;
}

static void reply_url(const char *name, const struct upload_options *opts, char *out,
        size_t len)
{
    int n;

    n = snprintf(out, len, "http://127.0.0.1:%u/file/%s.reply?size=%llu", server.port, name,
            (unsigned long long)opts->reply);
    if (n > 0 && (size_t)n < len && opts->reply_status)
        n += snprintf(out + n, len - n, "&status=%u", (unsigned int)opts->reply_status);
    if (n > 0 && (size_t)n < len && opts->has_reply_slow)
        n += snprintf(out + n, len - n, "&slow=%llu", (unsigned long long)opts->reply_slow);
    if (n > 0 && (size_t)n < len && opts->has_reply_stall)
        snprintf(out + n, len - n, "&stall=%llu", (unsigned long long)opts->reply_stall);
}

/* Returns whether the connection may be kept. */
static BOOL upload_fragment(struct connection *conn, const char *name,
        const struct upload_options *opts, struct server_packet *packet, ULONGLONG serial,
        BOOL keep_alive)
{
    struct request *req = &conn->request;
    struct ack ack = { 0 };
    struct name_state *state;
    struct session *session;
    UINT64 length = packet->body_length, want, next = 0;
    BOOL drop = FALSE, rewind = FALSE, lose = FALSE, fail = FALSE, stall, stored = TRUE;
    BYTE *body = NULL;
    size_t got;
    char value[64];

    ack.session = packet->session;
    if (!packet->session[0] || !packet->has_range || length != packet->last - packet->first + 1)
    {
        /* wire-and-tools.md §2.7: a bad or missing Content-Range (or session id) */
        ack_error(&ack, 400, HR_INVALIDARG, CONTEXT_SERVER);
        return send_ack(conn, packet, serial, &ack, keep_alive);
    }

    AcquireSRWLockExclusive(&server.lock);
    state = name_get_locked(name);
    session = session_find_locked(name, packet->session);
    if (session)
    {
        next = session->next;
        if (session->has_total && session->total != packet->total)
            ack_error(&ack, 400, HR_INVALIDARG, CONTEXT_SERVER);
        else if (packet->total > UPLOAD_MAX || (opts->has_maxsize && packet->total > opts->maxsize))
            ack_error(&ack, 500, HR_TOO_LARGE, CONTEXT_SERVER);
        else if (length > FRAGMENT_MAX || (opts->has_maxfragment && length > opts->maxfragment))
            ack.status = 413;
        else if (opts->fragment && packet->last >= opts->at
                && times_left(opts, state->fragment_hits))
        {
            state->fragment_hits++;
            fail = TRUE;
        }
        else if (opts->has_lose && !state->lose_done && packet->last >= opts->lose)
        {
            state->lose_done = TRUE;
            lose = TRUE;
            session_end_locked(session, SESSION_LOST);
        }
        else if (opts->has_rewind && !state->rewind_done && packet->first > opts->rewind)
        {
            state->rewind_done = TRUE;
            rewind = TRUE;
            if (session->next > opts->rewind) session->next = opts->rewind;
            next = session->next;
        }
        else if (!session->has_total)
        {
            session->has_total = TRUE;
            session->total = packet->total;
        }
        if (!ack.status && !fail && !lose && !rewind && opts->has_drop && !state->upload_drop_done
                && packet->first <= opts->drop && opts->drop <= packet->last)
        {
            state->upload_drop_done = TRUE;
            drop = TRUE;
        }
    }
    ReleaseSRWLockExclusive(&server.lock);

    if (!session || lose)
    {
        ack_error(&ack, 500, HR_SESSION_NOT_FOUND, CONTEXT_SERVER);
        return send_ack(conn, packet, serial, &ack, keep_alive);
    }
    if (fail) ack_forced(&ack, opts, opts->fragment);
    if (ack.status) return send_ack(conn, packet, serial, &ack, keep_alive);
    if (rewind || packet->first > next)
    {
        /* a gap: the client must go on from the byte the server expects */
        ack.status = 416;
        ack.has_received = TRUE;
        ack.received = next;
        return send_ack(conn, packet, serial, &ack, keep_alive);
    }

    /* read the body whole (or up to the drop offset), then store it at once */
    want = drop ? opts->drop - packet->first : length;
    body = malloc(want ? (size_t)want : 1);
    if (!body)
    {
        ack.status = 413;
        return send_ack(conn, packet, serial, &ack, keep_alive);
    }
    if (want && header_value(req->headers, "Expect", value, sizeof(value))
            && !_stricmp(value, "100-continue")
            && !conn_send(conn, "HTTP/1.1 100 Continue\r\n\r\n", 25))
        goto gone;
    while (packet->body_read < want)
    {
        got = conn_read_body(conn, (char *)body + packet->body_read,
                (size_t)(want - packet->body_read));
        if (!got) goto gone;
        packet->body_read += got;
    }
    if (drop)
    {
        /* a server that writes while it reads keeps what came before the cut */
        AcquireSRWLockExclusive(&server.lock);
        session = session_find_locked(name, packet->session);
        if (session) session_store_locked(session, packet->first, body, want);
        ReleaseSRWLockExclusive(&server.lock);
        goto gone;
    }

    AcquireSRWLockExclusive(&server.lock);
    state = name_get_locked(name);
    stall = opts->has_stall && packet->last >= opts->stall && !state->released;
    ReleaseSRWLockExclusive(&server.lock);
    if (stall && !stall_wait(conn, name)) goto gone;
    if (opts->delay && !pause_ms(opts->delay)) goto gone;

    AcquireSRWLockExclusive(&server.lock);
    state = name_get_locked(name);
    session = session_find_locked(name, packet->session);
    if (session)
    {
        if (packet->first > session->next)
        {
            ack.status = 416;       /* rewound meanwhile by another connection */
        }
        else
        {
            stored = session_store_locked(session, packet->first, body, length);
            ack.status = stored ? 200 : 500;
            if (!stored) ack_error(&ack, 500, HR_TOO_LARGE, CONTEXT_SERVER);
            if (stored && !session->whole && session->next == session->total)
                session_commit_locked(session, state);
            /* the completing fragment, also when sent again, tells where the reply is */
            if (stored && session->whole && opts->has_reply
                    && packet->last + 1 == session->total)
                reply_url(name, opts, ack.reply_url, sizeof(ack.reply_url));
        }
        ack.has_received = TRUE;
        ack.received = session->whole ? session->total : session->next;
    }
    ReleaseSRWLockExclusive(&server.lock);
    free(body);
    if (!session) ack_error(&ack, 500, HR_SESSION_NOT_FOUND, CONTEXT_SERVER);
    return send_ack(conn, packet, serial, &ack, keep_alive);

gone:
    free(body);
    return FALSE;
}

/* /upload/<name>; returns whether the connection may be kept. */
static BOOL handle_upload(struct connection *conn, const char *name, const char *query)
{
    struct request *req = &conn->request;
    char error[SERVER_TARGET_MAX + 32], id[SESSION_ID_MAX];
    struct upload_options opts;
    struct server_packet *packet;
    struct ack ack = { 0 };
    ULONGLONG serial;
    BOOL keep_alive = req->keep_alive;

    if (!*name || strlen(name) >= SERVER_TARGET_MAX - 8)
    {
        if (!upload_discard_body(conn)) keep_alive = FALSE;
        return send_simple(conn, 404, NULL, keep_alive);
    }
    if (!parse_upload_options(query, &opts, error, sizeof(error)))
    {
        trace("server: %s: %s\n", req->target, error);
        if (!upload_discard_body(conn)) keep_alive = FALSE;
        return send_simple(conn, 400, NULL, keep_alive);
    }
    if (strcmp(req->method, "BITS_POST"))
    {
        if (!upload_discard_body(conn)) keep_alive = FALSE;
        return send_simple(conn, 405, "Allow: BITS_POST\r\n", keep_alive);
    }

    packet = calloc(1, sizeof(*packet));
    if (!packet) return FALSE;
    lstrcpynA(packet->name, name, sizeof(packet->name));
    header_value(req->headers, "BITS-Packet-Type", packet->type, sizeof(packet->type));
    header_value(req->headers, "BITS-Session-Id", packet->session, sizeof(packet->session));
    header_value(req->headers, "Content-Name", packet->content_name,
            sizeof(packet->content_name));
    header_value(req->headers, "BITS-Supported-Protocols", packet->protocols,
            sizeof(packet->protocols));
    lstrcpynA(packet->headers, req->headers, sizeof(packet->headers));
    if (header_value(req->headers, "Content-Range", packet->content_range,
            sizeof(packet->content_range)))
        packet->has_range = parse_content_range(packet->content_range, &packet->first,
                &packet->last, &packet->total);
    packet->body_length = req->body_left;
    packet->connection = conn->serial;
    packet->time = GetTickCount64();
    serial = packet_add(packet);

    if (opts.auth[0] && !auth_ok(req, opts.auth))
    {
        ack.status = 401;
        ack.extra = "WWW-Authenticate: Basic realm=\"" SERVER_NAME "\"\r\n";
        keep_alive = send_ack(conn, packet, serial, &ack, keep_alive);
    }
    else if (!_stricmp(packet->type, "Fragment"))
    {
        keep_alive = upload_fragment(conn, name, &opts, packet, serial, keep_alive);
    }
    else
    {
        /* packets without a body: read it (a client should send none) before waiting */
        if (!upload_discard_body(conn)) keep_alive = FALSE;
        if (opts.delay && !pause_ms(opts.delay))
        {
            free(packet);
            return FALSE;
        }
        id[0] = 0;
        if (!_stricmp(packet->type, "Ping"))
            ack.status = 200;
        else if (!_stricmp(packet->type, "Create-Session"))
            upload_create_session(name, &opts, packet, &ack, id, sizeof(id));
        else if (!_stricmp(packet->type, "Close-Session")
                || !_stricmp(packet->type, "Cancel-Session"))
        {
            ack.session = packet->session[0] ? packet->session : NULL;
            if (!packet->session[0]) ack_error(&ack, 400, HR_INVALIDARG, CONTEXT_SERVER);
            else upload_end_session(name, !_stricmp(packet->type, "Cancel-Session"), packet,
                    &ack);
        }
        else
            ack_error(&ack, 400, HR_INVALIDARG, CONTEXT_SERVER);
        keep_alive = send_ack(conn, packet, serial, &ack, keep_alive);
    }
    packet->finished = TRUE;
    packet_update(serial, packet);
    free(packet);
    return keep_alive;
}

/* Returns whether the connection may be kept. */
static BOOL dispatch_request(struct connection *conn)
{
    struct request *req = &conn->request;
    char value[64], *query;
    char path[SERVER_TARGET_MAX];

    /* the upload handler reads its bodies itself */
    if (!strncmp(req->target, "/upload/", 8))
    {
        strcpy(path, req->target);
        query = strchr(path, '?');
        if (query) *query++ = 0;
        else query = path + strlen(path);
        return handle_upload(conn, path + 8, query);
    }
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
    upload_free_all();
    server.log_first = server.log_count = 0;
    server.packet_first = server.packet_count = 0;
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
    AcquireSRWLockExclusive(&server.lock);
    upload_free_all();
    ReleaseSRWLockExclusive(&server.lock);
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
