#!/bin/sh
# Runs the Wine-only clock unit (tests/wine/clock.c): JobInactivityTimeout through the service's
# debug clock skew, and the Group Policy values.  The unit moves the service's clock by months
# and sets machine-wide policy, so it needs a Wine prefix that nothing else uses meanwhile.
#
#   WINE=wine WINEPREFIX=/path/to/own/prefix TEST_EXE=build/tests/wine/clock.exe \
#       sh tests/wine/clock.sh
#
# The skew is read by the running service (clock.c), so no restart is needed; the service is
# restarted before the run only to start from a clean clock.  Whatever happens, the skew and
# the policy values are removed afterwards.   SPDX-License-Identifier: LGPL-2.1-or-later
set -u
: "${WINE:=wine}"
: "${WINEPREFIX:?set WINEPREFIX to a prefix of the clock test's own}"
: "${TEST_EXE:?set TEST_EXE to clock.exe}"
WINEDEBUG=${WINEDEBUG:--all}
export WINE WINEPREFIX WINEDEBUG

clean_registry()
{
    "$WINE" reg delete 'HKLM\Software\Wine\BITS' /v ClockSkewSeconds /f >/dev/null 2>&1
    for value in JobInactivityTimeout MaxDownloadTime MaxJobsPerUser MaxJobsPerMachine \
            MaxFilesPerJob MaxRangesPerFile; do
        "$WINE" reg delete 'HKLM\Software\Policies\Microsoft\Windows\BITS' /v "$value" /f \
            >/dev/null 2>&1
    done
    return 0
}

trap clean_registry EXIT
clean_registry
"$WINE" net stop BITS >/dev/null 2>&1
"$WINE" net start BITS >/dev/null 2>&1
"$WINE" "$TEST_EXE" clock
