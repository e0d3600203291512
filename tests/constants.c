/* Compares every GUID, constant, enumerator, HRESULT and structure size of our headers with the
 * spec's tables (spec_table.h, generated from interfaces.md by gen-spec-table.sh).  Needs no
 * service.  Rows for the legacy qmgr.h and the IIS-side bitscfg.h APIs are not compared: the
 * project's headers do not declare them.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stddef.h>

#include "util.h"

struct guid_row
{
    const char *name;
    const GUID *actual;
    GUID expected;
};

struct value_row
{
    const char *name;
    ULONGLONG actual;
    ULONGLONG expected;
    size_t size;            /* sizeof the symbol, or of its enum type */
    size_t expected_size;
};

struct size_row
{
    const char *name;
    size_t actual;
    size_t expected_x86;
    size_t expected_x64;
};

/* Every include of spec_table.h expands one kind of row; the others expand to nothing. */
#define SPEC_IGNORE(...)
#define SPEC_IID SPEC_IGNORE
#define SPEC_CLSID SPEC_IGNORE
#define SPEC_VALUE SPEC_IGNORE
#define SPEC_VALUE64 SPEC_IGNORE
#define SPEC_ENUM SPEC_IGNORE
#define SPEC_HRESULT SPEC_IGNORE
#define SPEC_SIZE SPEC_IGNORE
#define SPEC_LEGACY_IID SPEC_IGNORE
#define SPEC_LEGACY_CLSID SPEC_IGNORE
#define SPEC_LEGACY_ENUM SPEC_IGNORE
#define SPEC_LEGACY_SIZE SPEC_IGNORE

static const struct guid_row guid_rows[] =
{
#undef SPEC_IID
#undef SPEC_CLSID
#define SPEC_IID(name, d1, d2, d3, b0, b1, b2, b3, b4, b5, b6, b7) \
    { "IID_" #name, &IID_##name, { d1, d2, d3, { b0, b1, b2, b3, b4, b5, b6, b7 } } },
#define SPEC_CLSID(name, d1, d2, d3, b0, b1, b2, b3, b4, b5, b6, b7) \
    { "CLSID_" #name, &CLSID_##name, { d1, d2, d3, { b0, b1, b2, b3, b4, b5, b6, b7 } } },
#include "spec_table.h"
#undef SPEC_IID
#undef SPEC_CLSID
#define SPEC_IID SPEC_IGNORE
#define SPEC_CLSID SPEC_IGNORE
};

static const struct value_row value_rows[] =
{
#undef SPEC_VALUE
#undef SPEC_VALUE64
#undef SPEC_ENUM
#undef SPEC_HRESULT
#define SPEC_VALUE(symbol, value) \
    { #symbol, (DWORD)(symbol), (ULONGLONG)(value), sizeof(symbol), 4 },
#define SPEC_VALUE64(symbol, value) \
    { #symbol, (ULONGLONG)(symbol), (ULONGLONG)(value), sizeof(symbol), 8 },
#define SPEC_ENUM(type, symbol, value) \
    { #symbol, (DWORD)(symbol), (ULONGLONG)(value), sizeof(type), 4 },
#define SPEC_HRESULT(symbol, value) \
    { #symbol, (DWORD)(symbol), (ULONGLONG)(value), sizeof(symbol), 4 },
#include "spec_table.h"
#undef SPEC_VALUE
#undef SPEC_VALUE64
#undef SPEC_ENUM
#undef SPEC_HRESULT
#define SPEC_VALUE SPEC_IGNORE
#define SPEC_VALUE64 SPEC_IGNORE
#define SPEC_ENUM SPEC_IGNORE
#define SPEC_HRESULT SPEC_IGNORE
};

static const struct size_row size_rows[] =
{
#undef SPEC_SIZE
#define SPEC_SIZE(type, x86, x64) { #type, sizeof(type), x86, x64 },
#include "spec_table.h"
#undef SPEC_SIZE
#define SPEC_SIZE SPEC_IGNORE
};

static void test_guids(void)
{
    unsigned int i, j;

    for (i = 0; i < ARRAY_SIZE(guid_rows); i++)
        ok(IsEqualGUID(guid_rows[i].actual, &guid_rows[i].expected), "%s is %s, expected %s\n",
                guid_rows[i].name, wine_dbgstr_guid(guid_rows[i].actual),
                wine_dbgstr_guid(&guid_rows[i].expected));

    /* A copy-and-paste slip in the IDL could give two names the same GUID. */
    for (i = 0; i < ARRAY_SIZE(guid_rows); i++)
        for (j = i + 1; j < ARRAY_SIZE(guid_rows); j++)
            if (IsEqualGUID(guid_rows[i].actual, guid_rows[j].actual))
                ok(0, "%s and %s share %s\n", guid_rows[i].name, guid_rows[j].name,
                        wine_dbgstr_guid(guid_rows[i].actual));
}

static void test_values(void)
{
    unsigned int i;

    for (i = 0; i < ARRAY_SIZE(value_rows); i++)
    {
        const struct value_row *row = &value_rows[i];

        ok(row->actual == row->expected && row->size == row->expected_size,
                "%s is %s (%u bytes), expected %s (%u bytes)\n", row->name,
                wine_dbgstr_longlong(row->actual), (unsigned int)row->size,
                wine_dbgstr_longlong(row->expected), (unsigned int)row->expected_size);
    }
}

static void test_sizes(void)
{
    unsigned int i;

    for (i = 0; i < ARRAY_SIZE(size_rows); i++)
    {
        const struct size_row *row = &size_rows[i];
        size_t expected = sizeof(void *) == 8 ? row->expected_x64 : row->expected_x86;

        ok(row->actual == expected, "sizeof(%s) is %u, expected %u\n", row->name,
                (unsigned int)row->actual, (unsigned int)expected);
    }
}

struct job_property_alignment
{
    char c;
    BITS_JOB_PROPERTY_VALUE value;
};

struct file_range_alignment
{
    char c;
    BG_FILE_RANGE range;
};

/* Member order of interfaces.md §4.4, which the size alone does not pin down. */
static void test_layouts(void)
{
    ok(offsetof(BG_FILE_INFO, LocalName) == sizeof(void *), "BG_FILE_INFO.LocalName at %u\n",
            (unsigned int)offsetof(BG_FILE_INFO, LocalName));
    ok(offsetof(BG_FILE_PROGRESS, BytesTransferred) == 8
            && offsetof(BG_FILE_PROGRESS, Completed) == 16,
            "BG_FILE_PROGRESS members at %u, %u\n",
            (unsigned int)offsetof(BG_FILE_PROGRESS, BytesTransferred),
            (unsigned int)offsetof(BG_FILE_PROGRESS, Completed));
    ok(offsetof(BG_JOB_PROGRESS, BytesTransferred) == 8
            && offsetof(BG_JOB_PROGRESS, FilesTotal) == 16
            && offsetof(BG_JOB_PROGRESS, FilesTransferred) == 20,
            "BG_JOB_PROGRESS members at %u, %u, %u\n",
            (unsigned int)offsetof(BG_JOB_PROGRESS, BytesTransferred),
            (unsigned int)offsetof(BG_JOB_PROGRESS, FilesTotal),
            (unsigned int)offsetof(BG_JOB_PROGRESS, FilesTransferred));
    ok(offsetof(BG_JOB_TIMES, ModificationTime) == 8
            && offsetof(BG_JOB_TIMES, TransferCompletionTime) == 16,
            "BG_JOB_TIMES members at %u, %u\n",
            (unsigned int)offsetof(BG_JOB_TIMES, ModificationTime),
            (unsigned int)offsetof(BG_JOB_TIMES, TransferCompletionTime));
    ok(offsetof(BG_JOB_REPLY_PROGRESS, BytesTransferred) == 8,
            "BG_JOB_REPLY_PROGRESS.BytesTransferred at %u\n",
            (unsigned int)offsetof(BG_JOB_REPLY_PROGRESS, BytesTransferred));
    ok(offsetof(BG_AUTH_CREDENTIALS, Scheme) == 4
            && offsetof(BG_AUTH_CREDENTIALS, Credentials) == 8,
            "BG_AUTH_CREDENTIALS members at %u, %u\n",
            (unsigned int)offsetof(BG_AUTH_CREDENTIALS, Scheme),
            (unsigned int)offsetof(BG_AUTH_CREDENTIALS, Credentials));
    ok(offsetof(BG_BASIC_CREDENTIALS, Password) == sizeof(void *),
            "BG_BASIC_CREDENTIALS.Password at %u\n",
            (unsigned int)offsetof(BG_BASIC_CREDENTIALS, Password));
    ok(offsetof(BG_FILE_RANGE, Length) == 8, "BG_FILE_RANGE.Length at %u\n",
            (unsigned int)offsetof(BG_FILE_RANGE, Length));
    /* The Job5 property union holds a UINT64 and a GUID: 16 bytes, 8-aligned. */
    ok(offsetof(struct job_property_alignment, value) == 8,
            "BITS_JOB_PROPERTY_VALUE aligned to %u\n",
            (unsigned int)offsetof(struct job_property_alignment, value));
    ok(offsetof(struct file_range_alignment, range) == 8, "BG_FILE_RANGE aligned to %u\n",
            (unsigned int)offsetof(struct file_range_alignment, range));
}

/* Facts stated by formula in the spec, checked on a few names independently of the table. */
static void test_formulas(void)
{
    /* interfaces.md §8.2: BG_E_HTTP_ERROR_nnn = MAKE_HRESULT(SEVERITY_ERROR, 25, nnn). */
    ok(BG_E_HTTP_ERROR_404 == MAKE_HRESULT(SEVERITY_ERROR, 25, 404), "BG_E_HTTP_ERROR_404 %#lx\n",
            (unsigned long)BG_E_HTTP_ERROR_404);
    ok(BG_E_HTTP_ERROR_505 == MAKE_HRESULT(SEVERITY_ERROR, 25, 505), "BG_E_HTTP_ERROR_505 %#lx\n",
            (unsigned long)BG_E_HTTP_ERROR_505);
    /* BITS codes use facility 0x20 and are HRESULTs: failures test negative, successes not. */
    ok(FAILED(BG_E_NOT_FOUND) && HRESULT_FACILITY(BG_E_NOT_FOUND) == 0x20,
            "BG_E_NOT_FOUND %#lx\n", (unsigned long)BG_E_NOT_FOUND);
    ok(SUCCEEDED(BG_S_PARTIAL_COMPLETE) && HRESULT_FACILITY(BG_S_PARTIAL_COMPLETE) == 0x20,
            "BG_S_PARTIAL_COMPLETE %#lx\n", (unsigned long)BG_S_PARTIAL_COMPLETE);
    ok(SUCCEEDED(BG_S_UNABLE_TO_DELETE_FILES), "BG_S_UNABLE_TO_DELETE_FILES %#lx\n",
            (unsigned long)BG_S_UNABLE_TO_DELETE_FILES);
    /* §4.2: the transfer policies are unions of cost states. */
    ok(BITS_COST_STATE_TRANSFER_ALWAYS == (BITS_COST_OPTION_IGNORE_CONGESTION | 0xff),
            "BITS_COST_STATE_TRANSFER_ALWAYS %#lx\n",
            (unsigned long)BITS_COST_STATE_TRANSFER_ALWAYS);
    ok(BITS_COST_STATE_TRANSFER_UNRESTRICTED == (BITS_COST_OPTION_IGNORE_CONGESTION
            | BITS_COST_STATE_OVERCAP_THROTTLED | BITS_COST_STATE_UNRESTRICTED),
            "BITS_COST_STATE_TRANSFER_UNRESTRICTED %#lx\n",
            (unsigned long)BITS_COST_STATE_TRANSFER_UNRESTRICTED);
    ok(BG_COPY_FILE_ALL == (BG_COPY_FILE_OWNER | BG_COPY_FILE_GROUP | BG_COPY_FILE_DACL
            | BG_COPY_FILE_SACL), "BG_COPY_FILE_ALL %#x\n", (unsigned int)BG_COPY_FILE_ALL);
    /* BG_SIZE_UNKNOWN must compare equal to an all-ones UINT64 such as BytesTotal. */
    ok(BG_SIZE_UNKNOWN == ~(UINT64)0, "BG_SIZE_UNKNOWN %s\n",
            wine_dbgstr_longlong(BG_SIZE_UNKNOWN));
}

START_TEST(constants)
{
    trace("%u GUIDs, %u values, %u structures from the spec\n", (unsigned int)ARRAY_SIZE(guid_rows),
            (unsigned int)ARRAY_SIZE(value_rows), (unsigned int)ARRAY_SIZE(size_rows));
    test_guids();
    test_values();
    test_sizes();
    test_layouts();
    test_formulas();
}
