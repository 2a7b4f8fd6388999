#!/usr/bin/env bats
# hostile_limits.bats - bounded work and memory on hostile dumps (issue 12):
# the note limits, VMCOREINFO text, the flattened index, PT_LOAD lookups, the
# kdump popcount index and kdump files cut short.  tests/hostile/limits.py
# writes the files and names each case's arguments; every case runs under a
# 512 MiB address-space limit and a 30 s timeout and must end with its clear
# outcome: an exit code and a one-line error or a problem id.

load helpers

setup_file() {
	python3 "$SRCDIR/tests/hostile/limits.py" "$BATS_FILE_TMPDIR/h" > "$BATS_FILE_TMPDIR/cases"
}

setup() {
	need_binaries
}

# run_case NAME: run vmcore-fix with the case's arguments, bounded; $status,
# $output (standard output and error) as bats run leaves them.
run_case() {
	local line file args
	line=$(awk -F'\t' -v c="$1" '$1 == c' "$BATS_FILE_TMPDIR/cases")
	[ -n "$line" ] || { echo "no case $1 in limits.py's output"; return 1; }
	file=$(cut -f2 <<<"$line")
	args=$(cut -f3 <<<"$line")
	args=${args//\{\}/$file}
	# shellcheck disable=SC2086
	run bash -c 'ulimit -v 524288; exec timeout 30 "$@"' - "$VMCOREFIX" $args
	[ "$status" -ne 124 ] || { echo "$1: timed out"; return 1; }
}

# refused CODE TEXT: exited CODE with one line of error that says TEXT.
refused() {
	[ "$status" -eq "$1" ] || { echo "exit $status, expected $1: $output"; return 1; }
	[ "$(printf '%s\n' "$output" | wc -l)" -eq 1 ] || { echo "not one line: $output"; return 1; }
	[[ "$output" == *"$2"* ]] || { echo "does not say '$2': $output"; return 1; }
}

CASES="notes-repeat notes-repeat-small notes-overlap notes-tiny-60m notes-tiny-count
notes-tiny-ok vmci-near-cap vmci-short-lines vmci-symbols flat-kdump-16t flat-kdump-16t-check
flat-kdump-16t-scan flat-elf-1p flat-elf-1p-check flat-records-overlap flat-records-overlap-max flat-records
elf-nested-loads kdump-cut-descs kdump-cut-descs-check kdump-cut-descs-fix kdump-cut-data
kdump-cut-data-check kdump-cut-data-fix kdump-cut-1 kdump-cut-1-check kdump-cut-1-fix kdump-full"

@test "limits.py: every case it writes is checked here" {
	run cut -f1 "$BATS_FILE_TMPDIR/cases"
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$output" | sort)" = "$(printf '%s\n' $CASES | sort)" ]
}

@test "notes: 40 PT_NOTEs on one 60 MiB region: the total limit, read once" {
	run_case notes-repeat
	refused 4 "above the limit of 16 MiB of notes in a dump"
}

@test "notes: a PT_NOTE repeated 40 times is parsed once" {
	need_jq
	run_case notes-repeat-small
	[ "$status" -eq 1 ]
	json=$output
	[ "$(jget '.notes | length')" = 1 ]
	! has_problem duplicate-vmcoreinfo || false
	has_problem elf-multiple-pt-note
}

@test "notes: overlapping PT_NOTEs count toward the total" {
	run_case notes-overlap
	refused 4 "more bytes of notes"
}

@test "notes: 60 MiB of 12-byte notes is refused at once" {
	run_case notes-tiny-60m
	refused 4 "above the limit of 16 MiB of notes in a dump"
}

@test "notes: 174762 tiny notes: the count limit" {
	run_case notes-tiny-count
	refused 4 "above the limit of 65536 notes in a dump"
}

@test "notes: 60001 notes below the limits are all kept" {
	run_case notes-tiny-ok
	[ "$status" -eq 1 ]
	[[ "$output" == *"notes:        60001"* ]]
	[[ "$output" == *"OSRELEASE"* ]]
}

@test "VMCOREINFO: a text near its cap of distinct keys parses" {
	run_case vmci-near-cap
	[ "$status" -eq 1 ]
	[[ "$output" == *"VMCOREINFO:   note text at"* ]]
	[[ "$output" != *"malformed-vmcoreinfo"* ]]
}

@test "VMCOREINFO: 350000 short lines, and a note full of SYMBOL() keys: the fix decides" {
	run_case vmci-short-lines
	refused 3 "init_uts_ns"
	run_case vmci-symbols
	refused 3 "init_uts_ns"
}

@test "flattened kdump claiming 8 TiB bitmaps: opens without sizing anything from them" {
	run_case flat-kdump-16t
	[ "$status" -eq 1 ]
	[[ "$output" == *"kdump-compressed"* ]]
	run_case flat-kdump-16t-check
	refused 3 "utsname"
}

@test "flattened kdump claiming 8 TiB bitmaps: the scan skips what no record holds" {
	run_case flat-kdump-16t-scan
	refused 3 "no valid VMCOREINFO note at any page start of kdump dump: 0 note-like candidates"
	[[ "$output" == *"; 1 pages checked, "* ]]
}

@test "flattened ELF claiming a PiB: opens, and the scan skips what no record holds" {
	run_case flat-elf-1p
	[ "$status" -eq 1 ]
	run_case flat-elf-1p-check
	refused 3 "no valid VMCOREINFO note at any page start of ELF dump: 0 note-like candidates"
	[[ "$output" == *"; 1 pages checked, "* ]]
}

@test "flattened: 2^18 + 1 records overwriting each other: the overlap limit" {
	run_case flat-records-overlap
	refused 4 "more than 262144 records overwrite others or are overwritten (the limit)"
}

@test "flattened: 2^20 records, 2^18 of them overlapping in pairs: indexed" {
	run_case flat-records-overlap-max
	refused 4 "not an ELF core or kdump-compressed dump"
}

@test "flattened: 2^20 one-byte records are indexed" {
	run_case flat-records
	refused 4 "not an ELF core or kdump-compressed dump"
}

@test "ELF: 65000 PT_LOADs nested in one: the scan runs through" {
	run_case elf-nested-loads
	refused 3 "no valid VMCOREINFO note at any page start of ELF dump: 0 note-like candidates"
	[[ "$output" == *"; 4096 pages checked, "* ]]
}

@test "kdump cut inside its page descriptors: kdump-truncated, the fix refuses" {
	need_jq
	run_case kdump-cut-descs
	[ "$status" -eq 1 ]
	json=$output
	has_problem kdump-truncated
	[ "$(jget '.problems[] | select(.id == "kdump-truncated") | .offset')" = 0x10000 ]
	run_case kdump-cut-descs-check
	refused 4 "the file ends at 0x10000, inside its page descriptors"
	[[ "$output" == *"take the dump again"* ]]
	run_case kdump-cut-descs-fix
	refused 4 "inside its page descriptors"
	[ ! -e "$BATS_FILE_TMPDIR/h/kdump-cut-descs.kdump.out" ]
}

@test "kdump cut inside its page data: kdump-truncated, the fix refuses" {
	need_jq
	run_case kdump-cut-data
	[ "$status" -eq 1 ]
	json=$output
	has_problem kdump-truncated
	run_case kdump-cut-data-check
	refused 4 "the file ends at 0x800000, inside its page data"
	run_case kdump-cut-data-fix
	refused 4 "inside its page data"
	[ ! -e "$BATS_FILE_TMPDIR/h/kdump-cut-data.kdump.out" ]
}

@test "kdump one byte short: kdump-truncated, the fix refuses" {
	need_jq
	run_case kdump-cut-1
	[ "$status" -eq 1 ]
	json=$output
	has_problem kdump-truncated
	run_case kdump-cut-1-check
	refused 4 "(0x1 bytes missing"
	run_case kdump-cut-1-fix
	refused 4 "inside its page data"
	[ ! -e "$BATS_FILE_TMPDIR/h/kdump-cut-1.kdump.out" ]
}

@test "kdump whole: no kdump-truncated" {
	run_case kdump-full
	[ "$status" -eq 1 ]
	[[ "$output" != *"kdump-truncated"* ]]
}
