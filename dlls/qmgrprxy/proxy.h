/* Forced include for widl's proxy output: MinGW declares the IUnknown proxy helpers only for
 * C++, but the generated C vtables use them.   SPDX-License-Identifier: LGPL-2.1-or-later */

#ifndef QMGRPRXY_PROXY_H
#define QMGRPRXY_PROXY_H

#include <rpcproxy.h>

HRESULT STDMETHODCALLTYPE IUnknown_QueryInterface_Proxy(IUnknown *iface, REFIID riid, void **out);
ULONG STDMETHODCALLTYPE IUnknown_AddRef_Proxy(IUnknown *iface);
ULONG STDMETHODCALLTYPE IUnknown_Release_Proxy(IUnknown *iface);

#endif /* QMGRPRXY_PROXY_H */
