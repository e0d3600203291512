/* The units of the Wine-only upload restart executable (tests/wine/uploadrestart.exe), in the
 * order uploadrestart.sh runs them.   SPDX-License-Identifier: LGPL-2.1-or-later */

#include "../test.h"

extern void func_uploadresume(void);
extern void func_replyresume(void);

const struct winetest_unit winetest_testlist[] =
{
    { "uploadresume", func_uploadresume },
    { "replyresume", func_replyresume },
    { NULL, NULL }
};
