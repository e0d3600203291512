/* Group Policy limits of the service (behaviour.md §8, wire-and-tools.md §4.5), read from the
 * REG_DWORD values of
 *
 *     HKEY_LOCAL_MACHINE\Software\Policies\Microsoft\Windows\BITS
 *
 * Absent values, other types and values out of range give the built-in defaults.  The values
 * are read again on every use: CreateJob, AddFile and each pass of the scheduler.  That costs
 * one key open and six queries, takes a change into account at once, and needs no watcher
 * thread, and the key may come and go as policy is applied.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stddef.h>

#include "qmgr_private.h"

DEFAULT_DEBUG_CHANNEL(qmgr);

#define POLICY_KEY  L"Software\\Policies\\Microsoft\\Windows\\BITS"

static const struct
{
    const WCHAR *name;
    size_t offset;
    ULONG def, min, max;
}
values[] =
{
    /* ADMX range 1..999 days [inferred]. */
    { L"JobInactivityTimeout", offsetof(struct policy, inactivity_days), 90, 1, 999 },
    /* Seconds; without the policy the API default of 90 days (behaviour.md §7.1). */
    { L"MaxDownloadTime", offsetof(struct policy, max_download_time), 7776000, 1, ~0u },
    { L"MaxJobsPerUser", offsetof(struct policy, jobs_per_user), 60, 1, ~0u },
    { L"MaxJobsPerMachine", offsetof(struct policy, jobs_per_machine), 300, 1, ~0u },
    { L"MaxFilesPerJob", offsetof(struct policy, files_per_job), 200, 1, ~0u },
    { L"MaxRangesPerFile", offsetof(struct policy, ranges_per_file), 500, 1, ~0u },
};

void policy_get(struct policy *policy)
{
    DWORD value, size, type;
    unsigned int i;
    HKEY key;
    LONG status;

    status = RegOpenKeyExW(HKEY_LOCAL_MACHINE, POLICY_KEY, 0, KEY_QUERY_VALUE, &key);
    if (status != ERROR_SUCCESS) key = NULL;
    for (i = 0; i < ARRAYSIZE(values); i++)
    {
        ULONG *field = (ULONG *)((char *)policy + values[i].offset);

        *field = values[i].def;
        if (!key) continue;
        value = 0;
        size = sizeof(value);
        status = RegQueryValueExW(key, values[i].name, NULL, &type, (BYTE *)&value, &size);
        if (status == ERROR_FILE_NOT_FOUND) continue;
        if (status != ERROR_SUCCESS || type != REG_DWORD || size != sizeof(value)
                || value < values[i].min || value > values[i].max)
        {
            WARN("ignoring policy %s: status %ld, type %lu, value %lu\n",
                 debugstr_w(values[i].name), status, type, value);
            continue;
        }
        *field = value;
    }
    if (key) RegCloseKey(key);
}
