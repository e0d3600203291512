/* Forced include for widl's proxy output.  The stubless (-Oicf) proxy headers need
 * USE_STUBLESS_PROXY before rpcproxy.h is first read, and MinGW declares the IUnknown proxy
 * helpers only for C++, though the generated C vtables use them.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#ifndef QMGRPRXY_PROXY_H
#define QMGRPRXY_PROXY_H

#define USE_STUBLESS_PROXY
#include <rpcproxy.h>

HRESULT STDMETHODCALLTYPE IUnknown_QueryInterface_Proxy(IUnknown *iface, REFIID riid, void **out);
ULONG STDMETHODCALLTYPE IUnknown_AddRef_Proxy(IUnknown *iface);
ULONG STDMETHODCALLTYPE IUnknown_Release_Proxy(IUnknown *iface);

#endif /* QMGRPRXY_PROXY_H */
