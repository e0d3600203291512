/* Local files: the checks AddFile makes on the caller's paths, the hidden BIT*.tmp files a
 * download (or an upload's reply) is written to (behaviour.md §10), the reads of GetReplyData,
 * copies from file:// URLs, UNC and local paths (wire-and-tools.md §1.13), and what the
 * transports share: the choice of transport, errors, and writes to the temporary file.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <wctype.h>

#include "qmgr_private.h"

DEFAULT_DEBUG_CHANNEL(qmgr);

#define COPY_CHUNK (1 << 20)

/* behaviour.md §2.2, gap G5: the directories of a download's local name must exist.  We check
 * at AddFile, so the caller learns it at once rather than from a failed transfer. */
HRESULT localfile_check_destination(const WCHAR *path)
{
    const WCHAR *slash = wcsrchr(path, '\\');
    WCHAR *dir;
    DWORD attrs;

    if (!slash) return E_INVALIDARG;
    dir = malloc((slash - path + 2) * sizeof(WCHAR));
    if (!dir) return E_OUTOFMEMORY;
    memcpy(dir, path, (slash - path + 1) * sizeof(WCHAR));
    dir[slash - path + 1] = 0;      /* keep the separator: "C:\" is a directory, "C:" is not */
    attrs = GetFileAttributesW(dir);
    free(dir);
    if (attrs == INVALID_FILE_ATTRIBUTES)
    {
        WARN("no directory for %s, error %lu\n", debugstr_w(path), GetLastError());
        return HRESULT_FROM_WIN32(ERROR_PATH_NOT_FOUND);
    }
    if (!(attrs & FILE_ATTRIBUTE_DIRECTORY)) return HRESULT_FROM_WIN32(ERROR_PATH_NOT_FOUND);
    return S_OK;
}

/* The file an upload sends must exist and be readable when it is added.  wire-and-tools.md
 * §2.5: an empty one has no fragment to send, so AddFile refuses it [inferred]. */
HRESULT localfile_check_source(const WCHAR *path)
{
    HANDLE file = CreateFileW(path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL,
                              OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL);
    LARGE_INTEGER size;
    HRESULT hr = S_OK;

    if (file == INVALID_HANDLE_VALUE)
    {
        hr = HRESULT_FROM_WIN32(GetLastError());
        WARN("cannot open upload source %s, hr %#lx\n", debugstr_w(path), hr);
        return hr;
    }
    if (!GetFileSizeEx(file, &size)) hr = HRESULT_FROM_WIN32(GetLastError());
    else if (!size.QuadPart)
    {
        WARN("upload source %s is empty\n", debugstr_w(path));
        hr = E_INVALIDARG;
    }
    CloseHandle(file);
    return hr;
}

/* behaviour.md §10: a new hidden "BIT" + 4 hex digits + ".tmp" beside the destination, so that
 * Complete is a rename on one volume.  The sharing lets Cancel and Complete delete or rename
 * it while a worker still holds it, and lets applications read it (File3::GetTemporaryName). */
HRESULT localfile_create_temp(const WCHAR *local_name, WCHAR **temp_name, HANDLE *file)
{
    const WCHAR *slash = wcsrchr(local_name, '\\');
    unsigned int i, denied = 0;
    size_t dir_len;
    HANDLE handle;
    DWORD error = ERROR_FILE_EXISTS;
    WCHAR *name;
    GUID seed;

    TRACE("local_name %s\n", debugstr_w(local_name));
    *temp_name = NULL;
    *file = INVALID_HANDLE_VALUE;
    if (!slash) return E_INVALIDARG;
    dir_len = slash - local_name + 1;
    name = malloc((dir_len + 12) * sizeof(WCHAR));
    if (!name) return E_OUTOFMEMORY;
    memcpy(name, local_name, dir_len * sizeof(WCHAR));
    /* A random first name keeps jobs sharing a directory from walking the same names. */
    if (FAILED(CoCreateGuid(&seed))) seed.Data1 = GetCurrentThreadId();
    for (i = 0; i < 0x10000; i++)
    {
        swprintf(name + dir_len, 12, L"BIT%04X.tmp", (unsigned int)(seed.Data1 + i) & 0xffff);
        handle = CreateFileW(name, GENERIC_READ | GENERIC_WRITE,
                             FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                             CREATE_NEW, FILE_ATTRIBUTE_HIDDEN, NULL);
        if (handle != INVALID_HANDLE_VALUE)
        {
            TRACE("created %s\n", debugstr_w(name));
            *temp_name = name;
            *file = handle;
            return S_OK;
        }
        error = GetLastError();
        if (error == ERROR_FILE_EXISTS || error == ERROR_ALREADY_EXISTS) continue;
        /* A file being deleted while still open answers ERROR_ACCESS_DENIED, like a directory
         * we may not write to; only the first one is worth another name. */
        if (error == ERROR_ACCESS_DENIED && ++denied < 16
                && (GetFileAttributesW(name) != INVALID_FILE_ATTRIBUTES
                    || GetLastError() == ERROR_ACCESS_DENIED))
            continue;
        break;
    }
    WARN("no temporary file beside %s, error %lu\n", debugstr_w(local_name), error);
    free(name);
    return HRESULT_FROM_WIN32(error);
}

/* Reopens the temporary file of an earlier attempt; size is what it holds. */
HRESULT localfile_open_temp(const WCHAR *temp_name, HANDLE *file, UINT64 *size)
{
    LARGE_INTEGER length;
    HANDLE handle;
    HRESULT hr;

    TRACE("temp_name %s\n", debugstr_w(temp_name));
    *file = INVALID_HANDLE_VALUE;
    *size = 0;
    handle = CreateFileW(temp_name, GENERIC_READ | GENERIC_WRITE,
                         FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                         OPEN_EXISTING, FILE_ATTRIBUTE_HIDDEN, NULL);
    if (handle == INVALID_HANDLE_VALUE)
    {
        hr = HRESULT_FROM_WIN32(GetLastError());
        WARN("cannot open %s, hr %#lx\n", debugstr_w(temp_name), hr);
        return hr;
    }
    if (!GetFileSizeEx(handle, &length))
    {
        hr = HRESULT_FROM_WIN32(GetLastError());
        CloseHandle(handle);
        return hr;
    }
    *file = handle;
    *size = length.QuadPart;
    return S_OK;
}

/* Complete's rename (behaviour.md §3.1, §10).  Only the rename can fail the call: the hidden
 * attribute and the remote time are cosmetic once the file carries its final name. */
HRESULT localfile_commit(const WCHAR *temp_name, const WCHAR *local_name,
                         const FILETIME *remote_time)
{
    HANDLE file;
    DWORD attrs;
    HRESULT hr;

    TRACE("%s -> %s\n", debugstr_w(temp_name), debugstr_w(local_name));
    /* Windows refuses to replace a read-only file (Wine's MoveFileEx does not): the caller
     * must see the same access-denied failure either way. */
    attrs = GetFileAttributesW(local_name);
    if (attrs != INVALID_FILE_ATTRIBUTES && (attrs & FILE_ATTRIBUTE_READONLY))
    {
        WARN("destination %s is read-only\n", debugstr_w(local_name));
        return HRESULT_FROM_WIN32(ERROR_ACCESS_DENIED);
    }
    if (!MoveFileExW(temp_name, local_name, MOVEFILE_REPLACE_EXISTING))
    {
        hr = HRESULT_FROM_WIN32(GetLastError());
        ERR("rename of %s to %s failed, hr %#lx\n", debugstr_w(temp_name), debugstr_w(local_name),
            hr);
        return hr;
    }
    attrs = GetFileAttributesW(local_name);
    if (attrs != INVALID_FILE_ATTRIBUTES && (attrs & FILE_ATTRIBUTE_HIDDEN))
    {
        attrs &= ~FILE_ATTRIBUTE_HIDDEN;
        if (!SetFileAttributesW(local_name, attrs ? attrs : FILE_ATTRIBUTE_NORMAL))
            WARN("%s stays hidden, error %lu\n", debugstr_w(local_name), GetLastError());
    }
    if (!remote_time || (!remote_time->dwLowDateTime && !remote_time->dwHighDateTime)) return S_OK;
    file = CreateFileW(local_name, FILE_WRITE_ATTRIBUTES,
                       FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                       OPEN_EXISTING, 0, NULL);
    if (file == INVALID_HANDLE_VALUE || !SetFileTime(file, NULL, NULL, remote_time))
        WARN("%s keeps its own time, error %lu\n", debugstr_w(local_name), GetLastError());
    if (file != INVALID_HANDLE_VALUE) CloseHandle(file);
    return S_OK;
}

/* Deletes a temporary file; S_OK when it is already gone. */
HRESULT localfile_delete(const WCHAR *temp_name)
{
    DWORD error;

    TRACE("temp_name %s\n", debugstr_w(temp_name));
    if (DeleteFileW(temp_name)) return S_OK;
    error = GetLastError();
    if (error == ERROR_FILE_NOT_FOUND || error == ERROR_PATH_NOT_FOUND) return S_OK;
    WARN("cannot delete %s, error %lu\n", debugstr_w(temp_name), error);
    return HRESULT_FROM_WIN32(error);
}

HRESULT localfile_read(const WCHAR *path, UINT64 limit, BYTE **data, UINT64 *size)
{
    LARGE_INTEGER length;
    DWORD got, error;
    HANDLE file;
    HRESULT hr = S_OK;

    TRACE("path %s\n", debugstr_w(path));
    *data = NULL;
    *size = 0;
    file = CreateFileW(path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                       NULL, OPEN_EXISTING, FILE_FLAG_SEQUENTIAL_SCAN, NULL);
    if (file == INVALID_HANDLE_VALUE) return HRESULT_FROM_WIN32(GetLastError());
    if (!GetFileSizeEx(file, &length)) hr = HRESULT_FROM_WIN32(GetLastError());
    else if ((UINT64)length.QuadPart > limit)
    {
        *size = length.QuadPart;
        hr = BG_E_TOO_LARGE;
    }
    else if (length.QuadPart && !(*data = CoTaskMemAlloc(length.LowPart))) hr = E_OUTOFMEMORY;
    else if (length.QuadPart && (!ReadFile(file, *data, length.LowPart, &got, NULL)
                                 || got != length.LowPart))
    {
        error = GetLastError();
        hr = HRESULT_FROM_WIN32(error ? error : ERROR_HANDLE_EOF);
        CoTaskMemFree(*data);
        *data = NULL;
    }
    else *size = length.QuadPart;
    CloseHandle(file);
    return hr;
}

/* Records the failure of a transfer and returns it. */
HRESULT transfer_fail(struct transfer *transfer, HRESULT hr, BG_ERROR_CONTEXT context,
                      BOOL transient)
{
    transfer->error = hr;
    transfer->error_context = context;
    transfer->transient = transient;
    return hr;
}

/* behaviour.md §4.1, wire-and-tools.md §1.8 and §1.13: what may clear by itself (network
 * trouble, a full disk, a file in use) is retried; what needs the user (access denied, a missing
 * file, a bad URL or certificate) is not.  Other network errors count as transient. */
BOOL transfer_transient(DWORD error)
{
    switch (error)
    {
    case ERROR_DISK_FULL:
    case ERROR_HANDLE_DISK_FULL:
    case ERROR_SHARING_VIOLATION:
    case ERROR_LOCK_VIOLATION:
    case ERROR_NOT_ENOUGH_MEMORY:
    case ERROR_OUTOFMEMORY:
    case ERROR_NO_SYSTEM_RESOURCES:
    case ERROR_NOT_READY:
    case ERROR_NETNAME_DELETED:
    case ERROR_SEM_TIMEOUT:
    case ERROR_UNEXP_NET_ERR:
    case ERROR_NETWORK_BUSY:
    case ERROR_BAD_NET_RESP:
    case ERROR_NETWORK_UNREACHABLE:
    case ERROR_HOST_UNREACHABLE:
    case ERROR_CONNECTION_REFUSED:
    case ERROR_CONNECTION_ABORTED:
    case ERROR_NOT_CONNECTED:
    case ERROR_HANDLE_EOF:
        return TRUE;
    case 12005:     /* ERROR_WINHTTP_INVALID_URL */
    case 12006:     /* ERROR_WINHTTP_UNRECOGNIZED_SCHEME */
    case 12037:     /* ERROR_WINHTTP_SECURE_CERT_DATE_INVALID */
    case 12038:     /* ERROR_WINHTTP_SECURE_CERT_CN_INVALID */
    case 12044:     /* ERROR_WINHTTP_CLIENT_AUTH_CERT_NEEDED */
    case 12045:     /* ERROR_WINHTTP_SECURE_INVALID_CA */
    case 12057:     /* ERROR_WINHTTP_SECURE_CERT_REV_FAILED */
    case 12156:     /* ERROR_WINHTTP_REDIRECT_FAILED */
    case 12157:     /* ERROR_WINHTTP_SECURE_CHANNEL_ERROR: Wine's answer to an unknown CA */
    case 12166:     /* ERROR_WINHTTP_BAD_AUTO_PROXY_SCRIPT */
    case 12169:     /* ERROR_WINHTTP_SECURE_INVALID_CERT */
    case 12170:     /* ERROR_WINHTTP_SECURE_CERT_REVOKED */
    case 12175:     /* ERROR_WINHTTP_SECURE_FAILURE */
    case 12179:     /* ERROR_WINHTTP_SECURE_CERT_WRONG_USAGE */
        return FALSE;
    }
    return error >= 12000 && error <= 12999;
}

/* Makes the temporary file exactly size bytes long, its file pointer at the end. */
static HRESULT set_temp_size(struct transfer *transfer, UINT64 size)
{
    LARGE_INTEGER pos;
    DWORD error;

    pos.QuadPart = size;
    if (SetFilePointerEx(transfer->temp_file, pos, NULL, FILE_BEGIN)
            && SetEndOfFile(transfer->temp_file))
        return S_OK;
    error = GetLastError();
    WARN("cannot set the temporary file to %I64u bytes, error %lu\n", size, error);
    return transfer_fail(transfer, HRESULT_FROM_WIN32(error), BG_ERROR_CONTEXT_LOCAL_FILE,
                         transfer_transient(error));
}

/* Appends data to the temporary file and tells the engine.  The bytes count as transferred
 * only once written, so a failure leaves transferred right. */
HRESULT transfer_write(struct transfer *transfer, const void *data, DWORD size)
{
    const BYTE *ptr = data;
    DWORD written, error;

    while (size)
    {
        if (!WriteFile(transfer->temp_file, ptr, size, &written, NULL) || !written)
        {
            error = GetLastError();
            if (!error) error = ERROR_WRITE_FAULT;
            WARN("writing at %I64u failed, error %lu\n", transfer->transferred, error);
            return transfer_fail(transfer, HRESULT_FROM_WIN32(error), BG_ERROR_CONTEXT_LOCAL_FILE,
                                 transfer_transient(error));
        }
        ptr += written;
        size -= written;
        transfer->transferred += written;
    }
    if (transfer->progress) transfer->progress(transfer);
    return S_OK;
}

/* behaviour.md §10, "remote change": the bytes so far belong to another version of the remote
 * file; drop them and start the file again. */
HRESULT transfer_restart(struct transfer *transfer)
{
    HRESULT hr;

    WARN("%s changed, starting it again\n", debugstr_w(transfer->remote_name));
    hr = set_temp_size(transfer, 0);
    if (FAILED(hr)) return hr;
    transfer->transferred = 0;
    transfer->restarted = TRUE;
    if (transfer->progress) transfer->progress(transfer);
    return S_OK;
}

/* file:///C:/dir/name, file://C:\dir\name, file://server/share/name,
 * file:////server/share/name and file://localhost/C:/... as a path, %XX decoded as UTF-8;
 * other names are paths already. */
static HRESULT file_url_to_path(const WCHAR *url, WCHAR **path)
{
    const WCHAR *src = url + 5;
    char *bytes = NULL, *in, *out;
    int size, len;
    BOOL unc = FALSE;
    WCHAR *result, *p;

    *path = NULL;
    if (_wcsnicmp(url, L"file:", 5))
    {
        *path = _wcsdup(url);
        return *path ? S_OK : E_OUTOFMEMORY;
    }
    if (src[0] == '/' && src[1] == '/')
    {
        src += 2;
        if (!_wcsnicmp(src, L"localhost/", 10)) src += 9;
        else if (iswalpha(src[0]) && src[1] == ':') ;   /* file://C:\dir\name [test] */
        else if (*src != '/') unc = TRUE;
    }
    if (src[0] == '/' && src[1] && src[2] == ':') src++;     /* "/C:/..." */

    size = WideCharToMultiByte(CP_UTF8, 0, src, -1, NULL, 0, NULL, NULL);
    if (size <= 0 || !(bytes = malloc(size))) return E_OUTOFMEMORY;
    WideCharToMultiByte(CP_UTF8, 0, src, -1, bytes, size, NULL, NULL);
    for (in = out = bytes; *in; in++)
    {
        if (in[0] == '%' && isxdigit((unsigned char)in[1]) && isxdigit((unsigned char)in[2]))
        {
            char hex[3] = { in[1], in[2], 0 };
            *out++ = (char)strtoul(hex, NULL, 16);
            in += 2;
        }
        else *out++ = *in;
    }
    *out = 0;
    len = MultiByteToWideChar(CP_UTF8, 0, bytes, -1, NULL, 0);
    result = len > 0 ? malloc((len + 2) * sizeof(WCHAR)) : NULL;
    if (!result)
    {
        free(bytes);
        return E_INVALIDARG;
    }
    p = result;
    if (unc)
    {
        *p++ = '\\';
        *p++ = '\\';
    }
    MultiByteToWideChar(CP_UTF8, 0, bytes, -1, p, len);
    free(bytes);
    for (p = result; *p; p++) if (*p == '/') *p = '\\';
    *path = result;
    return S_OK;
}

/* wire-and-tools.md §1.13: a copy by offset from a file:// URL, UNC or local path.  The size and
 * the last write time stand for the HTTP size and validator: when either changed, the file
 * starts again. */
HRESULT localfile_download(struct transfer *transfer)
{
    WCHAR *path, validator[ARRAYSIZE(transfer->validator)];
    LARGE_INTEGER size, pos;
    BYTE *buffer = NULL;
    HANDLE source;
    FILETIME time;
    DWORD got, error;
    HRESULT hr;

    transfer->protocol = L"file";
    hr = file_url_to_path(transfer->remote_name, &path);
    if (FAILED(hr))
        return transfer_fail(transfer, hr, BG_ERROR_CONTEXT_REMOTE_FILE, hr == E_OUTOFMEMORY);
    TRACE("copying %s from %I64u\n", debugstr_w(path), transfer->transferred);
    source = CreateFileW(path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                         NULL, OPEN_EXISTING, FILE_FLAG_SEQUENTIAL_SCAN, NULL);
    error = GetLastError();
    free(path);
    if (source == INVALID_HANDLE_VALUE)
    {
        WARN("cannot open %s, error %lu\n", debugstr_w(transfer->remote_name), error);
        return transfer_fail(transfer, HRESULT_FROM_WIN32(error), BG_ERROR_CONTEXT_REMOTE_FILE,
                             transfer_transient(error));
    }
    if (!GetFileSizeEx(source, &size) || !GetFileTime(source, NULL, NULL, &time))
    {
        error = GetLastError();
        hr = transfer_fail(transfer, HRESULT_FROM_WIN32(error), BG_ERROR_CONTEXT_REMOTE_FILE,
                           transfer_transient(error));
        goto done;
    }
    swprintf(validator, ARRAYSIZE(validator), L"%08lX%08lX", time.dwHighDateTime,
             time.dwLowDateTime);
    if (transfer->transferred
            && ((transfer->known_size != BG_SIZE_UNKNOWN
                 && transfer->known_size != (UINT64)size.QuadPart)
                || (transfer->validator[0] && wcscmp(transfer->validator, validator))
                || transfer->transferred > (UINT64)size.QuadPart))
    {
        hr = transfer_restart(transfer);
        if (FAILED(hr)) goto done;
    }
    transfer->total = size.QuadPart;
    transfer->remote_time = time;
    wcscpy(transfer->validator, validator);

    pos.QuadPart = transfer->transferred;
    if (!SetFilePointerEx(source, pos, NULL, FILE_BEGIN))
    {
        error = GetLastError();
        hr = transfer_fail(transfer, HRESULT_FROM_WIN32(error), BG_ERROR_CONTEXT_REMOTE_FILE,
                           transfer_transient(error));
        goto done;
    }
    if (transfer->total > transfer->transferred && !(buffer = malloc(COPY_CHUNK)))
    {
        hr = transfer_fail(transfer, E_OUTOFMEMORY, BG_ERROR_CONTEXT_GENERAL_TRANSPORT, TRUE);
        goto done;
    }
    while (transfer->transferred < transfer->total)
    {
        DWORD want = (DWORD)min(COPY_CHUNK, transfer->total - transfer->transferred);

        if (transfer->abort)
        {
            hr = transfer_fail(transfer, E_ABORT, BG_ERROR_CONTEXT_NONE, FALSE);
            goto done;
        }
        if (!ReadFile(source, buffer, want, &got, NULL))
        {
            error = GetLastError();
            hr = transfer_fail(transfer, HRESULT_FROM_WIN32(error), BG_ERROR_CONTEXT_REMOTE_FILE,
                               transfer_transient(error));
            goto done;
        }
        if (!got)
        {
            /* The source shrank under us: the next attempt sees the new size and restarts. */
            WARN("%s ended early at %I64u\n", debugstr_w(transfer->remote_name),
                 transfer->transferred);
            hr = transfer_fail(transfer, HRESULT_FROM_WIN32(ERROR_HANDLE_EOF),
                               BG_ERROR_CONTEXT_REMOTE_FILE, TRUE);
            goto done;
        }
        hr = transfer_write(transfer, buffer, got);
        if (FAILED(hr)) goto done;
    }
    hr = S_OK;

done:
    free(buffer);
    CloseHandle(source);
    return hr;
}

/* Resets the results and puts the file pointer at the first byte to fetch: offset, unless the
 * file holds fewer bytes.  Extra bytes after offset are not valid and go. */
static HRESULT transfer_begin(struct transfer *transfer)
{
    LARGE_INTEGER size;
    DWORD error;

    transfer->transferred = transfer->offset;
    transfer->restarted = FALSE;
    transfer->error = S_OK;
    transfer->error_context = BG_ERROR_CONTEXT_NONE;
    transfer->transient = FALSE;
    transfer->protocol = NULL;
    if (!GetFileSizeEx(transfer->temp_file, &size))
    {
        error = GetLastError();
        return transfer_fail(transfer, HRESULT_FROM_WIN32(error), BG_ERROR_CONTEXT_LOCAL_FILE,
                             transfer_transient(error));
    }
    if ((UINT64)size.QuadPart < transfer->offset)
    {
        WARN("temporary file holds %I64d bytes, not %I64u\n", size.QuadPart, transfer->offset);
        transfer->transferred = size.QuadPart;
    }
    return set_temp_size(transfer, transfer->transferred);
}

static BOOL is_http_url(const WCHAR *name)
{
    return !_wcsnicmp(name, L"http://", 7) || !_wcsnicmp(name, L"https://", 8);
}

static BOOL is_file_name(const WCHAR *name)
{
    return !_wcsnicmp(name, L"file:", 5) || (name[0] == '\\' && name[1] == '\\')
            || (iswalpha(name[0]) && name[1] == ':' && name[2] == '\\');
}

HRESULT transport_download(struct transfer *transfer)
{
    HRESULT hr;

    TRACE("%s from %I64u\n", debugstr_w(transfer->remote_name), transfer->offset);
    hr = transfer_begin(transfer);
    if (FAILED(hr)) return hr;
    if (transfer->abort) return transfer_fail(transfer, E_ABORT, BG_ERROR_CONTEXT_NONE, FALSE);

    if (is_http_url(transfer->remote_name)) hr = http_download(transfer);
    else if (is_file_name(transfer->remote_name)) hr = localfile_download(transfer);
    else
    {
        WARN("no transport for %s\n", debugstr_w(transfer->remote_name));
        hr = transfer_fail(transfer, E_INVALIDARG, BG_ERROR_CONTEXT_REMOTE_FILE, FALSE);
    }

    /* Whatever happened, the file holds exactly the bytes counted as transferred; a failure
     * to cut it only matters when nothing else failed. */
    if (SUCCEEDED(hr)) hr = set_temp_size(transfer, transfer->transferred);
    else
    {
        BG_ERROR_CONTEXT context = transfer->error_context;
        BOOL transient = transfer->transient;

        set_temp_size(transfer, transfer->transferred);
        transfer_fail(transfer, hr, context, transient);
    }
    TRACE("%s: hr %#lx, %I64u of %I64u bytes%s\n", debugstr_w(transfer->remote_name), hr,
          transfer->transferred, transfer->total, transfer->restarted ? ", restarted" : "");
    return hr;
}

/* Polled by the transports at least every 100 ms and between chunks. */
void transport_abort(struct transfer *transfer)
{
    TRACE("%s\n", debugstr_w(transfer->remote_name));
    InterlockedExchange(&transfer->abort, TRUE);
}
