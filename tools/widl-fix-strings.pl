#!/usr/bin/perl
# Repairs a widl (7.0, 8.0) -Oicf proxy file in place: for an [out] pointer to a string
# (LPWSTR *), widl points the parameter's type offset at the string pointer that follows the
# reference pointer, 4 bytes too far, so the string never crosses the process boundary and the
# caller gets NULL.  We find every "FC_RP [allocated_on_stack] [pointer_deref]" entry whose
# pointee starts right after it (Offset= 2) and move parameter type offsets that name that
# pointee back onto the reference pointer itself.
#
# It also spells the stub-table casts of NdrStubCall2 (declared as returning long) to
# PRPC_STUB_FUNCTION through void (*)(void), the type gcc's -Wcast-function-type accepts.
#
# SPDX-License-Identifier: LGPL-2.1-or-later
use strict;
use warnings;

my $file = shift or die "usage: $0 file_p.c\n";
open(my $in, '<', $file) or die "$file: $!\n";
my @lines = <$in>;
close($in);

# Pass 1: in the type format string, note each pointee that directly follows its reference
# pointer: a label line "/* N (...) */", then the FC_RP line, then "Offset= 2 (N+4)".
my %outer;
my $in_types = 0;
for my $i (0 .. $#lines - 2)
{
    $in_types = 1 if $lines[$i] =~ /__MIDL_TypeFormatString\s*=/;
    $in_types = 0 if $lines[$i] =~ /__MIDL_ProcFormatString\s*=/;
    next unless $in_types && $lines[$i] =~ m{^/\*\s*(\d+)\b};
    my $label = $1;
    next unless $lines[$i + 1] =~ /FC_RP \[allocated_on_stack\] \[pointer_deref\]/;
    next unless $lines[$i + 2] =~ m{Offset= 2 \((\d+)\)} && $1 == $label + 4;
    $outer{$label + 4} = $label;
}

# Pass 2: in the procedure format string, re-point [out] parameters at the reference pointer.
my ($fixed, $param_is_out) = (0, 0);
my $section;
for my $line (@lines)
{
    $section = 'type' if $line =~ /__MIDL_TypeFormatString\s*=/;
    $section = 'proc' if $line =~ /__MIDL_ProcFormatString\s*=/;
    next unless defined $section && $section eq 'proc';
    if ($line =~ m{/\* flags: (.*)\*/})
    {
        my $flags = $1;
        $param_is_out = $flags =~ /\bout\b/ && $flags !~ /\breturn\b/;
        next;
    }
    if ($param_is_out && $line =~ m{NdrFcShort\(0x[0-9a-f]+\),\s*/\* type offset = (\d+) \*/}
            && exists $outer{$1})
    {
        my $new = $outer{$1};
        $line =~ s{NdrFcShort\(0x[0-9a-f]+\),(\s*)/\* type offset = \d+ \*/}
                  {sprintf("NdrFcShort(0x%x),%s/* type offset = %d (fixed) */", $new, $1, $new)}e;
        $fixed++;
        $param_is_out = 0;
    }
}

s{\(PRPC_STUB_FUNCTION\)NdrStubCall2\b}{(PRPC_STUB_FUNCTION)(void (*)(void))NdrStubCall2}g
    for @lines;

open(my $out, '>', $file) or die "$file: $!\n";
print $out @lines;
close($out);
print STDERR "$file: $fixed string out-parameters repointed\n" if $ENV{WIDL_FIX_VERBOSE};
