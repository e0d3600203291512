/* Declarations shared between the files of qmgr.dll.  Each struct belongs to one file; the
 * others use its functions.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#ifndef QMGR_PRIVATE_H
#define QMGR_PRIVATE_H

#define COBJMACROS
#include <windows.h>
#include <objbase.h>
#include "bits10_3.h"
#include "debug.h"

/* main.c */
extern HINSTANCE qmgr_instance;
struct manager_class
{
    const CLSID *clsid;     /* CLSID_BackgroundCopyManager, then every versioned one */
    const WCHAR *name;
};
#define MANAGER_CLASS_COUNT 10
extern const struct manager_class manager_classes[MANAGER_CLASS_COUNT];
extern IClassFactory manager_factory;   /* static; CreateInstance gives the manager */

/* manager.c: the one manager object of the service.  Returns the requested interface of it
 * (IUnknown, IBackgroundCopyManager, ...), AddRef'd.  Safe from any thread. */
HRESULT manager_query(REFIID riid, void **out);

#endif /* QMGR_PRIVATE_H */
