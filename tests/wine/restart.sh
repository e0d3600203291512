#!/bin/sh
# Runs the Wine-only store units (tests/wine/store.c): jobs surviving "net stop"/"net start",
# a killed service process and "wineserver -k"; damaged store entries; the kill torture.  They
# stop, start and kill the BITS service (and, under Wine, RpcSs) and kill the whole prefix, so
# they need a Wine prefix that nothing else uses meanwhile (tools/wine-only-test makes one).
#
#   WINE=wine WINESERVER=wineserver WINEPREFIX=/path/to/own/prefix \
#       TEST_EXE=build/tests/wine/restart.exe sh tests/wine/restart.sh
#
# Each unit ends with test.h's summary line; the exit code is the number of failed units.
# SPDX-License-Identifier: LGPL-2.1-or-later
set -u
: "${WINE:=wine}"
: "${WINESERVER:=wineserver}"
: "${WINEPREFIX:?set WINEPREFIX to a prefix of the restart test's own}"
: "${TEST_EXE:?set TEST_EXE to restart.exe}"
WINEDEBUG=${WINEDEBUG:--all}
export WINE WINEPREFIX WINEDEBUG
failed=0

run()
{
    "$WINE" "$TEST_EXE" "$1" || failed=$((failed + 1))
}

run restart
run badentry
# Jobs in every state left behind, the whole prefix killed, then found again and finished.
run killall_prepare
"$WINESERVER" -k
"$WINESERVER" -w
run killall_verify
run torture
exit $failed
