/* The units of the Wine-only ranges restart executable (tests/wine/rangesrestart.exe), in the
 * order rangesrestart.sh runs them.   SPDX-License-Identifier: LGPL-2.1-or-later */

#include "../test.h"

extern void func_rangesresume(void);
extern void func_ondemandresume(void);

const struct winetest_unit winetest_testlist[] =
{
    { "rangesresume", func_rangesresume },
    { "ondemandresume", func_ondemandresume },
    { NULL, NULL }
};
