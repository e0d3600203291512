#!/bin/sh
# Runs the Wine-only helper token restart unit (tests/wine/tokenrestart.c): after a restart of
# the service a job keeps its IBitsTokenOptions usage flags but not its helper token.  It stops
# and starts the BITS service, so it needs a Wine prefix that nothing else uses meanwhile
# (tools/wine-only-test makes one).
#
#   WINE=wine WINEPREFIX=/path/to/own/prefix TEST_EXE=build/tests/wine/tokenrestart.exe \
#       sh tests/wine/tokenrestart.sh
#
# The unit ends with test.h's summary line; the exit code is its number of failures.
# SPDX-License-Identifier: LGPL-2.1-or-later
set -u
: "${WINE:=wine}"
: "${WINEPREFIX:?set WINEPREFIX to a prefix of the helper token restart test's own}"
: "${TEST_EXE:?set TEST_EXE to tokenrestart.exe}"
WINEDEBUG=${WINEDEBUG:--all}
export WINE WINEPREFIX WINEDEBUG
exec "$WINE" "$TEST_EXE" tokenrestart
