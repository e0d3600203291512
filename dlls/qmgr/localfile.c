/* Local files: the checks AddFile makes on the caller's paths.  (file:// and UNC transfers
 * come here too.)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#include "qmgr_private.h"

DEFAULT_DEBUG_CHANNEL(qmgr);

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

/* The file an upload sends must exist and be readable when it is added. */
HRESULT localfile_check_source(const WCHAR *path)
{
    HANDLE file = CreateFileW(path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL,
                              OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL);

    if (file == INVALID_HANDLE_VALUE)
    {
        HRESULT hr = HRESULT_FROM_WIN32(GetLastError());
        WARN("cannot open upload source %s, hr %#lx\n", debugstr_w(path), hr);
        return hr;
    }
    CloseHandle(file);
    return S_OK;
}
