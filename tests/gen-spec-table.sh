#!/bin/sh
# Extracts the expected GUIDs, constants, enum values, HRESULTs and structure sizes from the
# spec (interfaces.md §1.1, §1.2, §4.1-§4.4, §8.1-§8.3) into tests/spec_table.h, which the
# "constants" unit compares with the symbols of our headers.  The table comes from the spec,
# never from the IDL, so a typo in either is caught.  tests/spec_table.h is committed, so a
# checkout without the spec still builds.
#
#   tests/gen-spec-table.sh [--check] [SPEC [OUTPUT]]
#
# SPEC defaults to ../shared/spec/interfaces.md beside the repository, OUTPUT to
# tests/spec_table.h ("-" for standard output).  --check writes nothing: it exits 0 when
# OUTPUT is what SPEC gives, 1 (with a diff) when not, 2 on errors such as a missing spec.
# POSIX sh and awk only.
# SPDX-License-Identifier: LGPL-2.1-or-later
set -eu

here=$(cd "$(dirname "$0")" && pwd)
check=no
if [ "${1:-}" = "--check" ]; then
    check=yes
    shift
fi
spec=${1:-$here/../../shared/spec/interfaces.md}
output=${2:-$here/spec_table.h}

if [ ! -r "$spec" ]; then
    echo "gen-spec-table.sh: cannot read the spec $spec" >&2
    exit 2
fi

generate() {
    awk '
    function trim(s)
    {
        sub(/^[ \t]+/, "", s)
        sub(/[ \t]+$/, "", s)
        return s
    }
    function first_word(s)
    {
        s = trim(s)
        if (match(s, /^[A-Za-z_][A-Za-z0-9_]*/)) return substr(s, RSTART, RLENGTH)
        return ""
    }
    function is_symbol(s)
    {
        return s ~ /^[A-Z][A-Z0-9_]*$/
    }
    function is_guid(s)
    {
        return length(s) == 36 &&
            s ~ /^[0-9a-fA-F]+-[0-9a-fA-F]+-[0-9a-fA-F]+-[0-9a-fA-F]+-[0-9a-fA-F]+$/
    }
    # "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" -> "0xxxxxxxxx, 0xxxxx, 0xxxxx, 0xxx, ... (8 bytes)"
    function guid_args(g,   p, n, out, i, b)
    {
        g = tolower(g)
        n = split(g, p, "-")
        if (n != 5 || length(p[1]) != 8 || length(p[2]) != 4 || length(p[3]) != 4 \
                || length(p[4]) != 4 || length(p[5]) != 12)
            return ""
        out = "0x" p[1] ", 0x" p[2] ", 0x" p[3]
        b = p[4] p[5]
        for (i = 1; i <= 16; i += 2) out = out ", 0x" substr(b, i, 2)
        return out
    }
    # Leading value of a cell: "(UINT64)-1 ...", "0x0010 (...)", "15", "1 (BITS 1.5+)".
    # Returns "64 <literal>", "32 <literal>" or "".
    function value_of(cell)
    {
        cell = trim(cell)
        if (cell ~ /^\(UINT64\)-1/) return "64 0xffffffffffffffff"
        if (match(cell, /^0[xX][0-9a-fA-F]+/))
            return "32 0x" tolower(substr(cell, RSTART + 2, RLENGTH - 2))
        if (match(cell, /^[0-9]+/)) return "32 " substr(cell, RSTART, RLENGTH)
        return ""
    }
    function emit(line, sec)
    {
        print line
        rows[sec]++
    }
    function section_comment(sec, title)
    {
        print ""
        print "/* §" sec " " title " */"
    }

    BEGIN { sec = "" }

    /^## / { sec = ""; next }
    /^### / {
        sec = $2
        title = $0
        sub(/^### [0-9.]+ /, "", title)
        gsub(/`/, "", title)
        if (sec ~ /^(1\.1|1\.2|4\.1|4\.2|4\.3|4\.4|8\.1|8\.2|8\.3)$/) section_comment(sec, title)
        group = ""
        next
    }
    !/^\|/ { next }
    /^\|[-| :]+$/ { next }
    sec !~ /^(1\.1|1\.2|4\.1|4\.2|4\.3|4\.4|8\.1|8\.2|8\.3)$/ { next }

    {
        line = $0
        gsub(/\\\|/, "/", line)          # an escaped pipe inside a cell
        n = split(line, f, "|")
        for (i = 1; i <= n; i++) f[i] = trim(f[i])
    }

    sec == "1.1" || sec == "1.2" {
        name = first_word(f[2])
        if (!is_guid(f[3]) || name == "") next
        hdr = (sec == "1.1") ? f[5] : f[4]
        kind = (sec == "1.1") ? "IID" : "CLSID"
        legacy = (hdr ~ /qmgr\.h|bitscfg\.h/) ? "LEGACY_" : ""
        macro = "SPEC_" legacy kind "("
        indent = sprintf("%" length(macro) "s", "")
        emit(macro name ",\n" indent guid_args(f[3]) ")", sec)
        next
    }

    sec == "4.1" || sec == "4.2" || sec ~ /^8\./ {
        if (!is_symbol(f[2])) next
        v = value_of(f[3])
        if (v == "") next
        split(v, w, " ")
        macro = (w[1] == "64") ? "SPEC_VALUE64" : (sec ~ /^8\./) ? "SPEC_HRESULT" : "SPEC_VALUE"
        emit(macro "(" f[2] ", " w[2] ")", sec)
        next
    }

    sec == "4.3" {
        if (f[2] != "")
        {
            group = first_word(f[2])
            group_legacy = (f[2] ~ /qmgr\.h/) ? "LEGACY_" : ""
        }
        if (!is_symbol(f[3]) || !is_symbol(group)) next
        v = value_of(f[4])
        if (v == "") next
        split(v, w, " ")
        emit("SPEC_" group_legacy "ENUM(" group ", " f[3] ", " w[2] ")", sec)
        next
    }

    sec == "4.4" {
        type = first_word(f[2])
        if (!is_symbol(type)) next
        legacy = (f[2] ~ /qmgr\.h/) ? "LEGACY_" : ""
        size = f[4]
        if (match(size, /^[0-9]+ *\/ *[0-9]+/))
        {
            split(substr(size, RSTART, RLENGTH), s, "/")
            emit("SPEC_" legacy "SIZE(" type ", " trim(s[1]) ", " trim(s[2]) ")", sec)
        }
        else if (match(size, /^[0-9]+/))
        {
            s1 = substr(size, RSTART, RLENGTH)
            emit("SPEC_" legacy "SIZE(" type ", " s1 ", " s1 ")", sec)
        }
        next
    }

    END {
        split("1.1 1.2 4.1 4.2 4.3 4.4 8.1 8.2 8.3", want, " ")
        for (i = 1; i <= 9; i++)
            if (!rows[want[i]])
            {
                print "gen-spec-table.sh: no rows found in section " want[i] > "/dev/stderr"
                failed = 1
            }
        if (failed) exit 1
    }
    ' "$spec"
}

header() {
    cat <<'EOF'
/* Expected values of the BITS GUIDs and constants, taken from the spec (interfaces.md
 * §1.1, §1.2, §4.1-§4.4, §8.1-§8.3), for the "constants" unit.
 * Generated by tests/gen-spec-table.sh: do not edit, re-run the script.
 *
 * Each row is a macro that the includer defines:
 *   SPEC_IID(Name, guid...)  SPEC_CLSID(Name, guid...)    IID_Name / CLSID_Name
 *   SPEC_VALUE(SYMBOL, v)    SPEC_VALUE64(SYMBOL, v)      #define values, 32 or 64 bits
 *   SPEC_ENUM(TYPE, SYMBOL, v)                            enumerators and their type
 *   SPEC_HRESULT(SYMBOL, v)                               bitsmsg.h codes
 *   SPEC_SIZE(TYPE, x86, x64)                             structure sizes
 * and SPEC_LEGACY_* for qmgr.h / bitscfg.h rows (legacy and IIS-side APIs).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */
EOF
}

tmp=$(mktemp "${TMPDIR:-/tmp}/spec_table.XXXXXX")
trap 'rm -f "$tmp"' EXIT
if ! { header; generate; } > "$tmp"; then
    echo "gen-spec-table.sh: failed to parse $spec" >&2
    exit 2
fi

if [ "$check" = yes ]; then
    if cmp -s "$tmp" "$output"; then
        exit 0
    fi
    echo "gen-spec-table.sh: $output is not what $spec gives:" >&2
    diff -u "$output" "$tmp" >&2 || true
    exit 1
fi
if [ "$output" = "-" ]; then
    cat "$tmp"
else
    cat "$tmp" > "$output"
fi
