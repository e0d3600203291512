/* The units of the Wine-only executable (tests/wine/winetests.exe), in the order restart.sh
 * runs them.   SPDX-License-Identifier: LGPL-2.1-or-later */

#include "../test.h"

extern void func_restart(void);
extern void func_killall_prepare(void);
extern void func_killall_verify(void);
extern void func_badentry(void);
extern void func_torture(void);

const struct winetest_unit winetest_testlist[] =
{
    { "restart", func_restart },
    { "killall_prepare", func_killall_prepare },
    { "killall_verify", func_killall_verify },
    { "badentry", func_badentry },
    { "torture", func_torture },
    { NULL, NULL }
};
