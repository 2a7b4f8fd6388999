#!/usr/bin/env bats
# hostile_guest.bats - hostile inputs for the guest layer (issue 12), made by
# tests/hostile/guest.py: the scan decoys cannot steer, the bounded
# memory-map reader and the bitmap trim that keeps the kernel's pages, and
# migration streams without quadratic searches or lookups.  Every case runs
# under ulimit -v 512 MiB and timeout 30 s, with one clear outcome.

load helpers

setup_file() {
	python3 "$SRCDIR/tests/hostile/guest.py" "$BATS_FILE_TMPDIR/h" > "$BATS_FILE_TMPDIR/cases"
}

# hostile CASE: run vmcore-fix on the case's file with its arguments,
# bounded; sets $status and $output as bats' run does.
hostile() {
	local line file args
	line=$(awk -F '\t' -v c="$1" '$1 == c' "$BATS_FILE_TMPDIR/cases")
	[ -n "$line" ] || { echo "no case $1" >&2; return 1; }
	file=$(cut -f2 <<<"$line")
	args=$(cut -f3 <<<"$line")
	args=${args//\{\}/$file}
	# shellcheck disable=SC2086
	run bash -c 'ulimit -v 524288; exec timeout 30 "$@"' _ "$VMCOREFIX" $args
}

@test "scan: a forged note copying the boot's identity, below 63 decoy text pages: refused, both notes named" {
	hostile scan-forged-copy
	[ "$status" -eq 3 ]
	[[ "$output" == *"2 VMCOREINFO notes with different texts"*"0x500000"*"0x600000"* ]]
	[[ "$output" == *"63 text pages"* ]]
	[[ "$output" == *"--region-file"* ]]
}

@test "scan: a forged note of another release plus decoys, beside the real one: refused" {
	hostile scan-forged-and-real
	[ "$status" -eq 3 ]
	[[ "$output" == *"0x500000 (OSRELEASE 6.6.6-evil"*"0x600000 (OSRELEASE 6.1.0-56-amd64"* ]]
}

@test "scan: a forged note alone among 200 decoy pages fails the same-boot check" {
	hostile scan-forged-alone
	[ "$status" -eq 3 ]
	[[ "$output" == *"one valid VMCOREINFO note"*"0x500000 (OSRELEASE 6.6.6-evil)"* ]]
	[[ "$output" == *"is not the one of the kernel in this dump"* ]]
}

@test "scan: the real note among 200 text pages and 60 note-like decoys is found" {
	hostile scan-real-decoys
	[ "$status" -eq 0 ]
	[[ "$output" == *"one valid VMCOREINFO note"*"at 0x900000"* ]]
	[[ "$output" == *"61 note-like candidates (1 valid, 60 refused by the rules"*"200 text pages"* ]]
}

@test "scan: more note-like candidates than it checks: refused, saying what to give" {
	hostile scan-too-many
	[ "$status" -eq 3 ]
	[[ "$output" == *"cannot choose a VMCOREINFO note: more note-like candidates than it checks"* ]]
	[[ "$output" == *"81 note-like candidates"*"17 past the limit of 64 checked"* ]]
	[[ "$output" == *"--region-file"*"--fw-cfg"*"--saved-state"* ]]
}

@test "memory map: SECTION_SIZE_BITS=12 is not a kernel's: refused at once (it took a minute)" {
	hostile memmap-sect12
	[ "$status" -eq 3 ]
	[[ "$output" == *"SECTION_SIZE_BITS=12 (a kernel's are 15..31)"* ]]
}

@test "memory map: more mem_section roots than are read: its end cannot be had" {
	hostile memmap-roots
	[ "$status" -eq 3 ]
	[[ "$output" == *"no present section in the top 16384 mem_section roots (of 32768"*"cannot be had"* ]]
}

@test "memory map: a mem_section that would trim the kernel image away: the bitmaps stay whole and the fix is refused" {
	hostile memmap-drops-kernel
	[ "$status" -eq 3 ]
	[[ "$output" == *"would still lack its kdump bitmaps"*"the kernel's memory map (mem_section) ends at pfn 0x800, below the kernel image"* ]]
	[[ "$output" != *"would patch kdump bitmaps"* ]]
	[[ "$output" != *"max_mapnr"* ]]
}

@test "memory map: a mem_section ending below the dump's own RAM: the bitmaps stay whole and the fix is refused" {
	hostile memmap-ram-above
	[ "$status" -eq 3 ]
	[[ "$output" == *"would still lack its kdump bitmaps"*"the dump's first bitmap has 131072 RAM pages above it"* ]]
	[[ "$output" != *"would patch kdump bitmaps"* ]]
}

@test "memory map: device memory dumped above RAM is still trimmed" {
	hostile memmap-device
	[ "$status" -eq 0 ]
	[[ "$output" == *"would patch kdump bitmaps"*"(pfn 0x20000)"*"1024 dumped pages above it"* ]]
}

@test "migration stream: 512 Ki false footers in a gzip save image: one pass" {
	hostile mig-false-footers
	[ "$status" -eq 0 ]
	[[ "$output" == *"vmcoreinfo device state saved in"* ]]
}

@test "migration stream: one big run under 400000 small ones: the lookups stay O(log n)" {
	hostile mig-overlap-runs
	[ "$status" -eq 0 ]
	[[ "$output" == *"scan of the RAM in migration stream"*"one valid VMCOREINFO note"* ]]
}
