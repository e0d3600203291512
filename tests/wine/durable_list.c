/* The units of the Wine-only durability executable (tests/wine/durable.exe), in the order
 * durable.sh runs them; notifycmd is the notify command line of notifyrestart, not a test.
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#include "../test.h"

extern void func_finaldelete(void);
extern void func_storeacl(void);
extern void func_commitowner(void);
extern void func_notifyrestart(void);
extern void func_notifycmd(void);
extern void func_credentials(void);

const struct winetest_unit winetest_testlist[] =
{
    { "finaldelete", func_finaldelete },
    { "storeacl", func_storeacl },
    { "commitowner", func_commitowner },
    { "notifyrestart", func_notifyrestart },
    { "notifycmd", func_notifycmd },
    { "credentials", func_credentials },
    { NULL, NULL }
};
