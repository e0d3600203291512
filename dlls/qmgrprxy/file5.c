/* IBackgroundCopyFile5's Get/SetProperty as they travel: the union's one arm, a string, goes
 * as a plain [string] argument (include/bits5_0.idl says why).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#define COBJMACROS
#include <windows.h>
#include "bits5_0.h"

/* The client's side of the [local] methods. */
HRESULT CALLBACK IBackgroundCopyFile5_SetProperty_Proxy(IBackgroundCopyFile5 *iface,
        BITS_FILE_PROPERTY_ID id, BITS_FILE_PROPERTY_VALUE value)
{
    /* Only the known id has a valid arm. */
    return IBackgroundCopyFile5_RemoteSetProperty_Proxy(iface, id,
            id == BITS_FILE_PROPERTY_ID_HTTP_RESPONSE_HEADERS ? value.String : NULL);
}

HRESULT CALLBACK IBackgroundCopyFile5_GetProperty_Proxy(IBackgroundCopyFile5 *iface,
        BITS_FILE_PROPERTY_ID id, BITS_FILE_PROPERTY_VALUE *value)
{
    /* What a [ref] argument would give. */
    if (!value) return HRESULT_FROM_WIN32(RPC_X_NULL_REF_POINTER);
    value->String = NULL;
    return IBackgroundCopyFile5_RemoteGetProperty_Proxy(iface, id, &value->String);
}

/* The service's side: back to the union for the real object. */
HRESULT __RPC_STUB IBackgroundCopyFile5_SetProperty_Stub(IBackgroundCopyFile5 *iface,
        BITS_FILE_PROPERTY_ID id, const WCHAR *string)
{
    BITS_FILE_PROPERTY_VALUE value;

    value.String = (WCHAR *)string;
    return IBackgroundCopyFile5_SetProperty(iface, id, value);
}

HRESULT __RPC_STUB IBackgroundCopyFile5_GetProperty_Stub(IBackgroundCopyFile5 *iface,
        BITS_FILE_PROPERTY_ID id, WCHAR **string)
{
    BITS_FILE_PROPERTY_VALUE value;
    HRESULT hr;

    value.String = NULL;
    hr = IBackgroundCopyFile5_GetProperty(iface, id, &value);
    *string = id == BITS_FILE_PROPERTY_ID_HTTP_RESPONSE_HEADERS ? value.String : NULL;
    return hr;
}
