#!/bin/sh
# Runs the Wine-only ranges restart units (tests/wine/rangesrestart.c): a file of
# AddFileWithRanges and an on-demand file go on from the bytes they had after the service was
# stopped in the middle.  They stop and start the BITS service, so they need a Wine prefix that
# nothing else uses meanwhile (tools/wine-only-test makes one).
#
#   WINE=wine WINEPREFIX=/path/to/own/prefix TEST_EXE=build/tests/wine/rangesrestart.exe \
#       sh tests/wine/rangesrestart.sh
#
# Each unit ends with test.h's summary line; the exit code is the number of failed units.
# SPDX-License-Identifier: LGPL-2.1-or-later
set -u
: "${WINE:=wine}"
: "${WINEPREFIX:?set WINEPREFIX to a prefix of the ranges restart test's own}"
: "${TEST_EXE:?set TEST_EXE to rangesrestart.exe}"
WINEDEBUG=${WINEDEBUG:--all}
export WINE WINEPREFIX WINEDEBUG
failed=0

run()
{
    "$WINE" "$TEST_EXE" "$1" || failed=$((failed + 1))
}

run rangesresume
run ondemandresume
exit $failed
