/* bitsadmin: the peer-caching groups of wire-and-tools.md §3.6, /PEERCACHING, /CACHE and
 * /PEERS, each a set of subcommands on the manager's IBitsPeerCacheAdministration.  BITS 4.0
 * deprecated that peer cache, and since then "all of the API methods will return S_FALSE"
 * (interface page): the getters give fixed defaults, which are printed bare as the job getters
 * print theirs, and every other subcommand says that it changed nothing.  The layouts are ours
 * [inferred].
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#include "bitsadmin.h"

/* The methods that take or give at most one number. */
enum method
{
    GET_FLAGS, SET_FLAGS, GET_SIZE, SET_SIZE, GET_AGE, SET_AGE,
    CLEAR_RECORDS, CLEAR_PEERS, DISCOVER_PEERS,
};

struct subcommand
{
    const WCHAR *name;
    int min_args, max_args;     /* arguments after the subcommand */
    int (*run)(struct context *ctx, IBitsPeerCacheAdministration *cache,
               const struct subcommand *sub, int argc, WCHAR **argv);
    enum method method;         /* for run_simple() */
    BOOL getter;                /* prints the value, in format */
    const WCHAR *action;        /* what failed: "Unable to <action>" */
    const WCHAR *format;        /* the value of a getter, else the line of S_OK (BITS 3.0) */
};

#define DEPRECATED_NOTE \
    L"The BITS 3.0 peer cache is deprecated since BITS 4.0: the getters show its defaults,\n" \
    L"and the other commands change nothing.\n"

static const WCHAR peercaching_usage[] =
    L"/PEERCACHING /GETCONFIGURATIONFLAGS    Shows whether this computer may download\n"
    L"                                       from peers (1) and serve them (2)\n"
    L"/PEERCACHING /SETCONFIGURATIONFLAGS <flags>\n"
    L"/PEERCACHING /HELP                     Shows this text\n"
    DEPRECATED_NOTE;

static const WCHAR cache_usage[] =
    L"/CACHE /LIST [/VERBOSE]                /CACHE /INFO <record id> [/VERBOSE]\n"
    L"/CACHE /DELETE <record id>             /CACHE /DELETEURL <url>\n"
    L"/CACHE /CLEAR\n"
    L"/CACHE /GETLIMIT                       Shows the size limit, in percent of the disk\n"
    L"/CACHE /SETLIMIT <percent>\n"
    L"/CACHE /GETEXPIRATIONTIME              Shows how long an unused file stays, in\n"
    L"                                       seconds\n"
    L"/CACHE /SETEXPIRATIONTIME <seconds>\n"
    L"/CACHE /HELP                           Shows this text\n"
    DEPRECATED_NOTE;

static const WCHAR peers_usage[] =
    L"/PEERS /LIST                           /PEERS /CLEAR\n"
    L"/PEERS /DISCOVER                       /PEERS /HELP\n"
    DEPRECATED_NOTE;

/* The end of a subcommand other than a getter.  S_FALSE, all that a BITS 4.0 or later service
 * answers, changed nothing. */
static int finish(struct context *ctx, const struct subcommand *sub, HRESULT hr, ULONG value)
{
    if (FAILED(hr)) return report_failure(ctx, sub->action, hr);
    if (output_is_raw()) return 0;
    if (hr == S_FALSE)
        output(L"Not supported since BITS 4.0, which deprecated the BITS 3.0 peer cache; "
               L"nothing changed.\n");
    else
        output(sub->format, value);
    return 0;
}

static HRESULT call_method(IBitsPeerCacheAdministration *cache, enum method method, ULONG *value)
{
    switch (method)
    {
    case GET_FLAGS: return IBitsPeerCacheAdministration_GetConfigurationFlags(cache, value);
    case SET_FLAGS: return IBitsPeerCacheAdministration_SetConfigurationFlags(cache, *value);
    case GET_SIZE: return IBitsPeerCacheAdministration_GetMaximumCacheSize(cache, value);
    case SET_SIZE: return IBitsPeerCacheAdministration_SetMaximumCacheSize(cache, *value);
    case GET_AGE: return IBitsPeerCacheAdministration_GetMaximumContentAge(cache, value);
    case SET_AGE: return IBitsPeerCacheAdministration_SetMaximumContentAge(cache, *value);
    case CLEAR_RECORDS: return IBitsPeerCacheAdministration_ClearRecords(cache);
    case CLEAR_PEERS: return IBitsPeerCacheAdministration_ClearPeers(cache);
    case DISCOVER_PEERS: return IBitsPeerCacheAdministration_DiscoverPeers(cache);
    }
    return E_NOTIMPL;
}

/* A setter's value is its last argument: the page of /SETCONFIGURATIONFLAGS shows
 * "<job> <value>", though the flags are the computer's, and a job name before it is ignored. */
static int run_simple(struct context *ctx, IBitsPeerCacheAdministration *cache,
                      const struct subcommand *sub, int argc, WCHAR **argv)
{
    ULONG value = 0;
    HRESULT hr;

    if (argc && !parse_ulong(argv[argc - 1], &value))
        return usage_error(L"Invalid number '%ls'.", argv[argc - 1]);
    hr = call_method(cache, sub->method, &value);
    if (FAILED(hr) || !sub->getter) return finish(ctx, sub, hr, value);
    output(sub->format, value);
    return 0;
}

/* The optional last argument of /CACHE /LIST and /CACHE /INFO, kept for Windows' syntax; there
 * is nothing more to show. */
static BOOL check_verbose(int argc, WCHAR **argv, int *ret)
{
    if (!argc || (argc == 1 && is_switch(argv[0], L"/VERBOSE"))) return TRUE;
    *ret = usage_error(L"Invalid argument '%ls'.", argv[0]);
    return FALSE;
}

static BOOL parse_record_id(const WCHAR *text, GUID *id, int *ret)
{
    if (text[0] == '{' && SUCCEEDED(IIDFromString(text, id))) return TRUE;
    *ret = usage_error(L"Invalid record id '%ls'; give its GUID in braces.", text);
    return FALSE;
}

static int cache_list(struct context *ctx, IBitsPeerCacheAdministration *cache,
                      const struct subcommand *sub, int argc, WCHAR **argv)
{
    IEnumBitsPeerCacheRecords *records = NULL;
    ULONG count = 0;
    HRESULT hr;
    int ret;

    if (!check_verbose(argc, argv, &ret)) return ret;
    hr = IBitsPeerCacheAdministration_EnumRecords(cache, &records);
    if (records)
    {
        if (FAILED(IEnumBitsPeerCacheRecords_GetCount(records, &count))) count = 0;
        IEnumBitsPeerCacheRecords_Release(records);
    }
    return finish(ctx, sub, hr, count);
}

static int cache_info(struct context *ctx, IBitsPeerCacheAdministration *cache,
                      const struct subcommand *sub, int argc, WCHAR **argv)
{
    IBitsPeerCacheRecord *record = NULL;
    HRESULT hr;
    GUID id;
    int ret;

    if (!parse_record_id(argv[0], &id, &ret)) return ret;
    if (!check_verbose(argc - 1, argv + 1, &ret)) return ret;
    hr = IBitsPeerCacheAdministration_GetRecord(cache, &id, &record);
    if (record) IBitsPeerCacheRecord_Release(record);
    return finish(ctx, sub, hr, 0);
}

static int cache_delete(struct context *ctx, IBitsPeerCacheAdministration *cache,
                        const struct subcommand *sub, int argc, WCHAR **argv)
{
    GUID id;
    int ret;

    (void)argc;
    if (!parse_record_id(argv[0], &id, &ret)) return ret;
    return finish(ctx, sub, IBitsPeerCacheAdministration_DeleteRecord(cache, &id), 0);
}

static int cache_deleteurl(struct context *ctx, IBitsPeerCacheAdministration *cache,
                           const struct subcommand *sub, int argc, WCHAR **argv)
{
    (void)argc;
    return finish(ctx, sub, IBitsPeerCacheAdministration_DeleteUrl(cache, argv[0]), 0);
}

static int peers_list(struct context *ctx, IBitsPeerCacheAdministration *cache,
                      const struct subcommand *sub, int argc, WCHAR **argv)
{
    IEnumBitsPeers *peers = NULL;
    ULONG count = 0;
    HRESULT hr;

    (void)argc;
    (void)argv;
    hr = IBitsPeerCacheAdministration_EnumPeers(cache, &peers);
    if (peers)
    {
        if (FAILED(IEnumBitsPeers_GetCount(peers, &count))) count = 0;
        IEnumBitsPeers_Release(peers);
    }
    return finish(ctx, sub, hr, count);
}

static const struct subcommand peercaching_commands[] =
{
    { L"/GETCONFIGURATIONFLAGS", 0, 0, run_simple, GET_FLAGS, TRUE,
      L"get configuration flags", L"0x%lX\n" },
    { L"/SETCONFIGURATIONFLAGS", 1, 2, run_simple, SET_FLAGS, FALSE,
      L"set configuration flags", L"Configuration flags set to 0x%lX.\n" },
};

static const struct subcommand cache_commands[] =
{
    { L"/LIST", 0, 1, cache_list, 0, FALSE,
      L"enumerate cache records", L"%lu record(s) in the cache.\n" },
    { L"/INFO", 1, 2, cache_info, 0, FALSE, L"get cache record", L"The record is in the cache.\n" },
    { L"/DELETE", 1, 1, cache_delete, 0, FALSE, L"delete cache record", L"Record deleted.\n" },
    { L"/DELETEURL", 1, 1, cache_deleteurl, 0, FALSE,
      L"delete cache records", L"Records deleted.\n" },
    { L"/CLEAR", 0, 0, run_simple, CLEAR_RECORDS, FALSE, L"clear the cache", L"Cache cleared.\n" },
    { L"/GETLIMIT", 0, 0, run_simple, GET_SIZE, TRUE, L"get cache limit", L"%lu\n" },
    { L"/SETLIMIT", 1, 1, run_simple, SET_SIZE, FALSE,
      L"set cache limit", L"Cache limit set to %lu percent.\n" },
    { L"/GETEXPIRATIONTIME", 0, 0, run_simple, GET_AGE, TRUE,
      L"get cache expiration time", L"%lu\n" },
    { L"/SETEXPIRATIONTIME", 1, 1, run_simple, SET_AGE, FALSE,
      L"set cache expiration time", L"Cache expiration time set to %lu seconds.\n" },
};

static const struct subcommand peers_commands[] =
{
    { L"/LIST", 0, 0, peers_list, 0, FALSE, L"enumerate peers", L"%lu peer(s) known.\n" },
    { L"/CLEAR", 0, 0, run_simple, CLEAR_PEERS, FALSE,
      L"clear the peer list", L"Peer list cleared.\n" },
    { L"/DISCOVER", 0, 0, run_simple, DISCOVER_PEERS, FALSE,
      L"discover peers", L"Peer discovery started.\n" },
};

/* argv[0] names the subcommand: /HELP (or /?) prints the group's usage, others run on the
 * manager's peer cache. */
static int run_group(struct context *ctx, const struct subcommand *commands, unsigned int count,
                     const WCHAR *usage, int argc, WCHAR **argv)
{
    IBitsPeerCacheAdministration *cache;
    const struct subcommand *sub = NULL;
    unsigned int i;
    HRESULT hr;
    int ret;

    if (is_switch(argv[0], L"/HELP") || is_switch(argv[0], L"/?"))
    {
        if (argc > 1) return usage_error(L"Invalid number of arguments.");
        output(L"%ls", usage);
        return 0;
    }
    for (i = 0; i < count && !sub; i++)
        if (is_switch(argv[0], commands[i].name)) sub = &commands[i];
    if (!sub)
    {
        output(L"Invalid command\n%ls", usage);
        return EXIT_USAGE;
    }
    if (argc - 1 < sub->min_args || argc - 1 > sub->max_args)
        return usage_error(L"Invalid number of arguments.");

    hr = IBackgroundCopyManager_QueryInterface(ctx->manager, &IID_IBitsPeerCacheAdministration,
                                               (void **)&cache);
    if (FAILED(hr)) return report_failure(ctx, L"open the peer cache", hr);
    ret = sub->run(ctx, cache, sub, argc - 1, argv + 1);
    IBitsPeerCacheAdministration_Release(cache);
    return ret;
}

int cmd_peercaching(struct context *ctx, const struct command *cmd, int argc, WCHAR **argv)
{
    (void)cmd;
    return run_group(ctx, peercaching_commands, ARRAYSIZE(peercaching_commands),
                     peercaching_usage, argc, argv);
}

int cmd_cache(struct context *ctx, const struct command *cmd, int argc, WCHAR **argv)
{
    (void)cmd;
    return run_group(ctx, cache_commands, ARRAYSIZE(cache_commands), cache_usage, argc, argv);
}

int cmd_peers(struct context *ctx, const struct command *cmd, int argc, WCHAR **argv)
{
    (void)cmd;
    return run_group(ctx, peers_commands, ARRAYSIZE(peers_commands), peers_usage, argc, argv);
}
