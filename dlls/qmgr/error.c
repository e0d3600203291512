/* Message text for HRESULTs: every BG_S_ and BG_E_ code and the BG_E_HTTP_ERROR family in our
 * own words, anything else from the system message table (behaviour.md §4.4).  Texts end in
 * CR LF, as message-table texts do.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdio.h>
#include <stdlib.h>

#include "qmgr_private.h"

DEFAULT_DEBUG_CHANNEL(qmgr);

struct message
{
    HRESULT code;
    const WCHAR *text;
};

static const struct message messages[] =
{
    { BG_E_NOT_FOUND, L"The queue holds no job with this identifier." },
    { BG_E_INVALID_STATE, L"The job's current state does not allow this request. A job that "
      L"was cancelled or acknowledged can no longer be changed." },
    { BG_E_EMPTY, L"The job contains no files, so there is nothing to transfer." },
    { BG_E_FILE_NOT_AVAILABLE, L"This error is not tied to a particular file." },
    { BG_E_PROTOCOL_NOT_AVAILABLE, L"This error is not tied to a transfer protocol." },
    { BG_S_ERROR_CONTEXT_NONE, L"No error has occurred." },
    { BG_E_ERROR_CONTEXT_UNKNOWN, L"It is not known where the error occurred." },
    { BG_E_ERROR_CONTEXT_GENERAL_QUEUE_MANAGER,
      L"The error occurred in the transfer service's job queue." },
    { BG_E_ERROR_CONTEXT_LOCAL_FILE, L"The error occurred while handling the local file." },
    { BG_E_ERROR_CONTEXT_REMOTE_FILE, L"The error occurred while handling the remote file." },
    { BG_E_ERROR_CONTEXT_GENERAL_TRANSPORT,
      L"The error occurred in the network transport layer." },
    { BG_E_ERROR_CONTEXT_QUEUE_MANAGER_NOTIFICATION,
      L"The error occurred while notifying the application about the job." },
    { BG_E_DESTINATION_LOCKED, L"The volume that holds the local file is locked, for example "
      L"by a disk check. The transfer will go on once it is unlocked." },
    { BG_E_VOLUME_CHANGED, L"The volume that holds the local file was replaced by another "
      L"one." },
    { BG_E_ERROR_INFORMATION_UNAVAILABLE, L"The job has no error to report." },
    { BG_E_NETWORK_DISCONNECTED, L"No network connection is available. The transfer will go on "
      L"once one is." },
    { BG_E_MISSING_FILE_SIZE, L"The server did not give the size of the file. Transfers need "
      L"the size of every file unless the job allows dynamic content." },
    { BG_E_INSUFFICIENT_HTTP_SUPPORT, L"The server does not speak HTTP/1.1, which transfers "
      L"require." },
    { BG_E_INSUFFICIENT_RANGE_SUPPORT, L"The server or a proxy on the way does not handle "
      L"requests for parts of a file, which transfers require." },
    { BG_E_REMOTE_NOT_SUPPORTED, L"The transfer service cannot be used from a remote "
      L"computer." },
    { BG_E_NEW_OWNER_DIFF_MAPPING, L"The new owner maps a drive used by the job to a different "
      L"location, so ownership cannot change." },
    { BG_E_NEW_OWNER_NO_FILE_ACCESS, L"The new owner cannot access the job's local files, so "
      L"ownership cannot change." },
    { BG_S_PARTIAL_COMPLETE, L"Only the files that had been transferred completely were kept; "
      L"the others were dropped." },
    { BG_E_PROXY_LIST_TOO_LARGE, L"The list of proxy servers is too long." },
    { BG_E_PROXY_BYPASS_LIST_TOO_LARGE, L"The list of servers that bypass the proxy is too "
      L"long." },
    { BG_S_UNABLE_TO_DELETE_FILES, L"The request succeeded, but some temporary files could not "
      L"be deleted." },
    { BG_E_INVALID_SERVER_RESPONSE, L"The server's reply did not follow the expected "
      L"protocol." },
    { BG_E_TOO_MANY_FILES, L"An upload job can hold only one file." },
    { BG_E_LOCAL_FILE_CHANGED, L"The local file changed while it was being uploaded." },
    { BG_E_ERROR_CONTEXT_REMOTE_APPLICATION,
      L"The error was reported by the application on the server." },
    { BG_E_SESSION_NOT_FOUND, L"The server no longer knows the upload session. The upload will "
      L"be tried again." },
    { BG_E_TOO_LARGE, L"The data is larger than the server or this request accepts." },
    { BG_E_STRING_TOO_LONG, L"A string argument is longer than allowed." },
    { BG_E_CLIENT_SERVER_PROTOCOL_MISMATCH, L"The client and the server use versions of the "
      L"upload protocol that do not work together." },
    { BG_E_SERVER_EXECUTE_ENABLE, L"The server refuses uploads because the target directory "
      L"allows scripts or programs to run." },
    { BG_E_NO_PROGRESS, L"The job is making no progress. The server may be misconfigured." },
    { BG_E_USERNAME_TOO_LARGE, L"The user name is too long." },
    { BG_E_PASSWORD_TOO_LARGE, L"The password is too long." },
    { BG_E_INVALID_AUTH_TARGET, L"The authentication target is not a valid value." },
    { BG_E_INVALID_AUTH_SCHEME, L"The authentication scheme is not a valid value." },
    { BG_E_FILE_NOT_FOUND, L"The job does not contain the named file." },
    { BG_S_PROXY_CHANGED, L"The proxy server was changed." },
    { BG_E_INVALID_RANGE, L"A requested byte range lies outside the file." },
    { BG_E_OVERLAPPING_RANGES, L"Some of the requested byte ranges overlap." },
    { BG_E_CONNECT_FAILURE, L"The connection to the server could not be made." },
    { BG_E_CONNECTION_CLOSED, L"The connection was closed before the transfer finished." },
    { BG_E_KEEP_ALIVE_FAILURE, L"A connection that was kept open for further requests broke "
      L"unexpectedly." },
    { BG_E_MESSAGE_LENGTH_LIMIT_EXCEEDED, L"A request or reply was longer than allowed." },
    { BG_E_NAME_RESOLUTION_FAILURE, L"The server name could not be resolved." },
    { BG_E_PENDING, L"An internal request is still in progress." },
    { BG_E_PIPELINE_FAILURE, L"A pipelined request failed." },
    { BG_E_PROTOCOL_ERROR, L"The reply arrived in full but reported a protocol error." },
    { BG_E_PROXY_NAME_RESOLUTION_FAILURE, L"The proxy server name could not be resolved." },
    { BG_E_RECEIVE_FAILURE, L"Only part of the reply was received." },
    { BG_E_REQUEST_CANCELED, L"The request was cancelled." },
    { BG_E_SECURE_CHANNEL_FAILURE, L"A secure connection to the server could not be set up." },
    { BG_E_SEND_FAILURE, L"The request could not be sent in full." },
    { BG_E_SERVER_PROTOCOL_VIOLATION, L"The server's reply was not valid." },
    { BG_E_TIMEOUT, L"The operation took too long and was given up." },
    { BG_E_TRUST_FAILURE, L"The server's certificate is not trusted." },
    { BG_E_UNKNOWN_ERROR, L"An error of unknown cause occurred." },
    { BG_E_BLOCKED_BY_POLICY, L"Group Policy does not allow background transfers at this time." },
    { BG_E_INVALID_PROXY_INFO, L"The proxy server list or the bypass list is not valid." },
    { BG_E_INVALID_CREDENTIALS, L"The credentials are not valid." },
    { BG_E_INVALID_HASH_ALGORITHM, L"The hash algorithm of the cached content is not "
      L"supported." },
    { BG_E_RECORD_DELETED, L"The record in the peer cache was deleted." },
    { BG_E_COMMIT_IN_PROGRESS, L"The record in the peer cache is still being committed." },
    { BG_E_DISCOVERY_IN_PROGRESS, L"A search for peers is already running." },
    { BG_E_UPNP_ERROR, L"The network gateway could not be queried through UPnP." },
    { BG_E_TEST_OPTION_BLOCKED_DOWNLOAD, L"A test option blocked the download." },
    { BG_E_PEERCACHING_DISABLED, L"Peer caching is turned off." },
    { BG_E_BUSYCACHERECORD, L"The record in the peer cache is in use." },
    { BG_E_TOO_MANY_JOBS_PER_USER, L"The user already owns as many jobs as Group Policy "
      L"allows." },
    { BG_E_TOO_MANY_JOBS_PER_MACHINE, L"The computer already holds as many jobs as Group Policy "
      L"allows." },
    { BG_E_TOO_MANY_FILES_IN_JOB, L"The job already holds as many files as Group Policy "
      L"allows." },
    { BG_E_TOO_MANY_RANGES_IN_FILE, L"The file already has as many byte ranges as Group Policy "
      L"allows." },
    { BG_E_VALIDATION_FAILED, L"The application rejected the content of the file." },
    { BG_E_MAXDOWNLOAD_TIMEOUT, L"The job took longer than its maximum download time." },
    { BG_S_OVERRIDDEN_BY_POLICY, L"The setting was stored, but Group Policy overrides it." },
    { BG_E_TOKEN_REQUIRED, L"The job needs a helper token, and none is set." },
    { BG_E_UNKNOWN_PROPERTY_ID, L"The property identifier is not known." },
    { BG_E_READ_ONLY_PROPERTY, L"The property cannot be changed." },
    { BG_E_BLOCKED_BY_COST_TRANSFER_POLICY, L"The job's transfer policy does not allow "
      L"transfers at the cost of the current network." },
    { BG_E_PROPERTY_SUPPORTED_FOR_DOWNLOAD_JOBS_ONLY, L"The property applies to download jobs "
      L"only." },
    { BG_E_READ_ONLY_PROPERTY_AFTER_ADDFILE, L"The property cannot change once files have been "
      L"added to the job." },
    { BG_E_READ_ONLY_PROPERTY_AFTER_RESUME, L"The property cannot change once the job has been "
      L"resumed." },
    { BG_E_MAX_DOWNLOAD_SIZE_INVALID_VALUE, L"The maximum download size is not a valid value." },
    { BG_E_MAX_DOWNLOAD_SIZE_LIMIT_REACHED, L"The download is larger than the job's maximum "
      L"download size." },
    { BG_E_STANDBY_MODE, L"The computer is in standby, so the transfer waits." },
    { BG_E_USE_STORED_CREDENTIALS_NOT_SUPPORTED, L"Stored credentials cannot be used for this "
      L"target." },
    { BG_E_BLOCKED_BY_BATTERY_POLICY, L"The battery policy does not allow the transfer now." },
    { BG_E_BLOCKED_BY_BATTERY_SAVER, L"Battery saver is on, so the transfer waits." },
    { BG_E_WATCHDOG_TIMEOUT, L"An internal operation took too long and was stopped." },
    { BG_E_APP_PACKAGE_NOT_FOUND, L"The application package that owns the job is no longer "
      L"installed." },
    { BG_E_APP_PACKAGE_SCENARIO_NOT_SUPPORTED, L"Jobs of packaged applications do not support "
      L"this request." },
    { BG_E_DATABASE_CORRUPT, L"The job database is damaged." },
    { BG_E_RANDOM_ACCESS_NOT_SUPPORTED, L"Parts of this file cannot be requested: the job is "
      L"not a download job, or the server stopped handling requests for parts of files." },
    { BG_E_BLOCKED_BY_BACKGROUND_ACCESS_POLICY, L"The application's background access policy "
      L"does not allow the transfer." },
    { BG_E_BLOCKED_BY_GAME_MODE, L"Game mode is on, so background transfers wait." },
    { BG_E_BLOCKED_BY_SYSTEM_POLICY, L"A system policy does not allow the transfer." },
    { BG_E_NOT_SUPPORTED_WITH_CUSTOM_HTTP_METHOD, L"This cannot be combined with a custom HTTP "
      L"method." },
    { BG_E_UNSUPPORTED_JOB_CONFIGURATION, L"The job's combination of settings is not "
      L"supported." },
    { BG_E_REMOTE_FILE_CHANGED, L"The remote file changed while it was being transferred." },
    { BG_E_SERVER_CERT_VALIDATION_INTERFACE_REQUIRED, L"The job needs the application's server "
      L"certificate check, and the application cannot be reached." },
    { BG_E_READ_ONLY_WHEN_JOB_ACTIVE, L"This setting can only change while the job is "
      L"suspended." },
    { BG_E_ERROR_CONTEXT_SERVER_CERTIFICATE_CALLBACK,
      L"The error came from the application's server certificate check." },
};

/* BG_E_HTTP_ERROR_xxx: the status code is the low word of the HRESULT. */
#define HTTP_ERROR_BASE 0x80190000
#define HTTP_STATUS_MIN 100
#define HTTP_STATUS_MAX 599

static const struct
{
    unsigned short status;
    const WCHAR *text;
}
http_statuses[] =
{
    { 100, L"the server expects the rest of the request" },
    { 101, L"the server wants to switch protocols" },
    { 200, L"the server sent the whole file where a part was asked for" },
    { 201, L"the server created a resource instead of returning the file" },
    { 202, L"the server accepted the request but has not handled it yet" },
    { 203, L"the reply comes from a copy of the file, not from its origin" },
    { 204, L"the server sent no content" },
    { 205, L"the server asks to reset the document view" },
    { 206, L"the server sent part of the file where the whole file was asked for" },
    { 300, L"the file exists in several versions and the server did not pick one" },
    { 301, L"the file has moved permanently" },
    { 302, L"the file is temporarily at another address" },
    { 303, L"the reply is at another address" },
    { 304, L"the file has not changed" },
    { 305, L"the file must be requested through a proxy" },
    { 307, L"the file is temporarily at another address" },
    { 400, L"the server could not understand the request" },
    { 401, L"the server requires authentication, or refused the credentials" },
    { 402, L"the server requires payment" },
    { 403, L"the server refuses access to the file" },
    { 404, L"the file was not found on the server" },
    { 405, L"the server does not allow this request method for the file" },
    { 406, L"the server cannot send the file in an acceptable form" },
    { 407, L"the proxy requires authentication, or refused the credentials" },
    { 408, L"the server gave up waiting for the request" },
    { 409, L"the request conflicts with the current state of the file" },
    { 410, L"the file is gone from the server for good" },
    { 411, L"the server requires the length of the request" },
    { 412, L"a condition of the request does not hold" },
    { 413, L"the request is larger than the server accepts" },
    { 414, L"the address is longer than the server accepts" },
    { 415, L"the server does not accept the type of data sent" },
    { 416, L"the requested part lies outside the file" },
    { 417, L"the server cannot meet an expectation of the request" },
    { 449, L"the server asks for the request to be repeated with more information" },
    { 500, L"the server failed with an internal error" },
    { 501, L"the server does not support the request" },
    { 502, L"a gateway or proxy got an invalid reply from the next server" },
    { 503, L"the server is temporarily unavailable" },
    { 504, L"a gateway or proxy timed out waiting for the next server" },
    { 505, L"the server does not support the HTTP version of the request" },
};

/* Our texts are English; a neutral language asks for the default.  behaviour.md §4.4: with no
 * text in the language asked for, the answer is ERROR_RESOURCE_LANG_NOT_FOUND. */
static BOOL is_our_language(DWORD language)
{
    WORD primary = PRIMARYLANGID(LANGIDFROMLCID(language));

    return primary == LANG_NEUTRAL || primary == LANG_ENGLISH;
}

/* Writes our text for a BITS or HTTP code into buffer; FALSE when the code is not one. */
static BOOL describe_bits(HRESULT code, WCHAR *buffer, size_t size)
{
    unsigned int status = code & 0xffff, i;

    for (i = 0; i < ARRAYSIZE(messages); i++)
    {
        if (messages[i].code != code) continue;
        _snwprintf(buffer, size, L"%ls\r\n", messages[i].text);
        return TRUE;
    }
    if ((code & 0xffff0000) != HTTP_ERROR_BASE || status < HTTP_STATUS_MIN
            || status > HTTP_STATUS_MAX)
        return FALSE;
    for (i = 0; i < ARRAYSIZE(http_statuses); i++)
    {
        if (http_statuses[i].status != status) continue;
        _snwprintf(buffer, size, L"The server answered with HTTP status %u: %ls.\r\n", status,
                   http_statuses[i].text);
        return TRUE;
    }
    _snwprintf(buffer, size, L"The server answered with HTTP status %u.\r\n", status);
    return TRUE;
}

static DWORD format_system(DWORD id, DWORD language, WCHAR **buffer)
{
    return FormatMessageW(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS
                          | FORMAT_MESSAGE_ALLOCATE_BUFFER, NULL, id, LANGIDFROMLCID(language),
                          (WCHAR *)buffer, 0, NULL);
}

/* The system message table, by HRESULT and, for Win32 errors, by their code. */
static HRESULT describe_system(HRESULT code, DWORD language, WCHAR **text)
{
    WCHAR *buffer = NULL;
    DWORD error;
    HRESULT hr;

    if (!format_system(code, language, &buffer) && HRESULT_FACILITY(code) == FACILITY_WIN32)
        format_system(HRESULT_CODE(code), language, &buffer);
    if (!buffer)
    {
        error = GetLastError();
        WARN("no text for %#lx, error %lu\n", code, error);
        return error ? HRESULT_FROM_WIN32(error) : E_FAIL;
    }
    hr = cotask_strdup(buffer, text);
    LocalFree(buffer);
    return hr;
}

HRESULT error_describe(HRESULT code, DWORD language, WCHAR **text)
{
    WCHAR buffer[512];

    TRACE("code %#lx, language %#lx\n", code, language);
    *text = NULL;
    if (!describe_bits(code, buffer, ARRAYSIZE(buffer)))
        return describe_system(code, language, text);
    if (!is_our_language(language)) return HRESULT_FROM_WIN32(ERROR_RESOURCE_LANG_NOT_FOUND);
    buffer[ARRAYSIZE(buffer) - 1] = 0;
    return cotask_strdup(buffer, text);
}

/* IBackgroundCopyError: a snapshot of a job's error (behaviour.md §4.4).  It keeps the job
 * referenced, which keeps the file it names alive. */
struct error
{
    IBackgroundCopyError IBackgroundCopyError_iface;
    LONG refcount;
    struct engine_job *job;         /* one reference */
    struct job_error info;
};

static inline struct error *impl_from_IBackgroundCopyError(IBackgroundCopyError *iface)
{
    return CONTAINING_RECORD(iface, struct error, IBackgroundCopyError_iface);
}

static HRESULT WINAPI error_QueryInterface(IBackgroundCopyError *iface, REFIID riid, void **out)
{
    struct error *error = impl_from_IBackgroundCopyError(iface);

    TRACE("error %p, riid %s, out %p\n", error, debugstr_guid(riid), out);
    if (!out) return E_POINTER;
    if (IsEqualGUID(riid, &IID_IUnknown) || IsEqualGUID(riid, &IID_IBackgroundCopyError))
    {
        *out = &error->IBackgroundCopyError_iface;
        IBackgroundCopyError_AddRef(iface);
        return S_OK;
    }
    *out = NULL;
    WARN("unsupported interface %s\n", debugstr_guid(riid));
    return E_NOINTERFACE;
}

static ULONG WINAPI error_AddRef(IBackgroundCopyError *iface)
{
    struct error *error = impl_from_IBackgroundCopyError(iface);
    ULONG refcount = InterlockedIncrement(&error->refcount);

    TRACE("error %p, refcount %lu\n", error, refcount);
    return refcount;
}

static ULONG WINAPI error_Release(IBackgroundCopyError *iface)
{
    struct error *error = impl_from_IBackgroundCopyError(iface);
    ULONG refcount = InterlockedDecrement(&error->refcount);

    TRACE("error %p, refcount %lu\n", error, refcount);
    if (!refcount)
    {
        engine_job_release(error->job);
        free(error);
    }
    return refcount;
}

static HRESULT WINAPI error_GetError(IBackgroundCopyError *iface, BG_ERROR_CONTEXT *context,
                                     HRESULT *code)
{
    struct error *error = impl_from_IBackgroundCopyError(iface);

    TRACE("error %p, context %p, code %p\n", error, context, code);
    if (!context || !code) return E_INVALIDARG;
    *context = error->info.context;
    *code = error->info.code;
    return S_OK;
}

/* Only errors about a local or remote file name one. */
static HRESULT WINAPI error_GetFile(IBackgroundCopyError *iface, IBackgroundCopyFile **file)
{
    struct error *error = impl_from_IBackgroundCopyError(iface);

    TRACE("error %p, file %p\n", error, file);
    if (!file) return E_INVALIDARG;
    *file = NULL;
    if (!error->info.file) return BG_E_FILE_NOT_AVAILABLE;
    return file_create(error->job, error->info.file, file);
}

/* Unlike IBackgroundCopyManager::GetErrorDescription, language 0 is refused here. */
static HRESULT WINAPI error_GetErrorDescription(IBackgroundCopyError *iface, DWORD language,
                                                LPWSTR *text)
{
    struct error *error = impl_from_IBackgroundCopyError(iface);

    TRACE("error %p, language %#lx, text %p\n", error, language, text);
    if (!text) return E_INVALIDARG;
    *text = NULL;
    if (!language) return E_INVALIDARG;
    return error_describe(error->info.code, language, text);
}

/* The context's text is the message of its own code (behaviour.md §4.4). */
static HRESULT WINAPI error_GetErrorContextDescription(IBackgroundCopyError *iface,
                                                       DWORD language, LPWSTR *text)
{
    static const HRESULT context_codes[] =
    {
        BG_S_ERROR_CONTEXT_NONE,
        BG_E_ERROR_CONTEXT_UNKNOWN,
        BG_E_ERROR_CONTEXT_GENERAL_QUEUE_MANAGER,
        BG_E_ERROR_CONTEXT_QUEUE_MANAGER_NOTIFICATION,
        BG_E_ERROR_CONTEXT_LOCAL_FILE,
        BG_E_ERROR_CONTEXT_REMOTE_FILE,
        BG_E_ERROR_CONTEXT_GENERAL_TRANSPORT,
        BG_E_ERROR_CONTEXT_REMOTE_APPLICATION,
        BG_E_ERROR_CONTEXT_SERVER_CERTIFICATE_CALLBACK,
    };
    struct error *error = impl_from_IBackgroundCopyError(iface);
    unsigned int context = error->info.context;

    TRACE("error %p, language %#lx, text %p\n", error, language, text);
    if (!text) return E_INVALIDARG;
    *text = NULL;
    if (!language) return E_INVALIDARG;
    return error_describe(context < ARRAYSIZE(context_codes) ? context_codes[context]
                          : BG_E_ERROR_CONTEXT_UNKNOWN, language, text);
}

static HRESULT WINAPI error_GetProtocol(IBackgroundCopyError *iface, LPWSTR *protocol)
{
    struct error *error = impl_from_IBackgroundCopyError(iface);

    TRACE("error %p, protocol %p\n", error, protocol);
    if (!protocol) return E_INVALIDARG;
    *protocol = NULL;
    if (!error->info.protocol) return BG_E_PROTOCOL_NOT_AVAILABLE;
    return cotask_strdup(error->info.protocol, protocol);
}

static const IBackgroundCopyErrorVtbl error_vtbl =
{
    error_QueryInterface,
    error_AddRef,
    error_Release,
    /* IBackgroundCopyError */
    error_GetError,
    error_GetFile,
    error_GetErrorDescription,
    error_GetErrorContextDescription,
    error_GetProtocol,
};

HRESULT error_create(struct engine_job *job, const struct job_error *info,
                     IBackgroundCopyError **out)
{
    struct error *error;

    *out = NULL;
    error = calloc(1, sizeof(*error));
    if (!error) return E_OUTOFMEMORY;
    error->IBackgroundCopyError_iface.lpVtbl = &error_vtbl;
    error->refcount = 1;
    error->job = job;
    engine_job_addref(job);
    error->info = *info;
    TRACE("created error %p, code %#lx, context %u\n", error, info->code, info->context);
    *out = &error->IBackgroundCopyError_iface;
    return S_OK;
}
