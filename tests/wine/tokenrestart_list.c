/* The unit of the Wine-only helper token restart executable (tests/wine/tokenrestart.exe).
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#include "../test.h"

extern void func_tokenrestart(void);

const struct winetest_unit winetest_testlist[] =
{
    { "tokenrestart", func_tokenrestart },
    { NULL, NULL }
};
