/* The units of the conformance executable, one line per START_TEST(); conformance.exe runs
 * them in this order.   SPDX-License-Identifier: LGPL-2.1-or-later */

#include "test.h"

extern void func_complete(void);
extern void func_constants(void);
extern void func_credentials(void);
extern void func_crossprocess(void);
extern void func_enum(void);
extern void func_file(void);
extern void func_job(void);
extern void func_limits(void);
extern void func_manager(void);
extern void func_notify(void);
extern void func_peercache(void);
extern void func_props(void);
extern void func_ranges(void);
extern void func_security(void);
extern void func_tokenopts(void);
extern void func_transfer(void);
extern void func_upload(void);
extern void func_server(void);

const struct winetest_unit winetest_testlist[] =
{
    { "constants", func_constants },
    { "manager", func_manager },
    { "job", func_job },
    { "file", func_file },
    { "enum", func_enum },
    { "crossprocess", func_crossprocess },
    { "server", func_server },
    { "transfer", func_transfer },
    { "complete", func_complete },
    { "notify", func_notify },
    { "props", func_props },
    { "security", func_security },
    { "limits", func_limits },
    { "ranges", func_ranges },
    { "peercache", func_peercache },
    { "upload", func_upload },
    { "credentials", func_credentials },
    { "tokenopts", func_tokenopts },
    { NULL, NULL }
};
