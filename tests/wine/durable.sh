#!/bin/sh
# Runs the Wine-only durability units (tests/wine/durable.c): entries of final jobs held open
# by another process, the access rights of the store's directory, a Complete finished at
# load, notifications due again after a restart.  They stop and start the BITS service and
# read and write its store, so they need a Wine prefix that nothing else uses meanwhile
# (tools/wine-only-test makes one).
#
#   WINE=wine WINEPREFIX=/path/to/own/prefix TEST_EXE=build/tests/wine/durable.exe \
#       sh tests/wine/durable.sh
#
# Each unit ends with test.h's summary line; the exit code is the number of failed units.
# SPDX-License-Identifier: LGPL-2.1-or-later
set -u
: "${WINE:=wine}"
: "${WINEPREFIX:?set WINEPREFIX to a prefix of the durability test's own}"
: "${TEST_EXE:?set TEST_EXE to durable.exe}"
WINEDEBUG=${WINEDEBUG:--all}
export WINE WINEPREFIX WINEDEBUG
failed=0

run()
{
    "$WINE" "$TEST_EXE" "$1" || failed=$((failed + 1))
}

run finaldelete
run storeacl
run commitowner
run notifyrestart
run credentials
exit $failed
