#!/usr/bin/env bats
# s390x (64-bit, big-endian): the kernel runs at virtual = physical before
# Linux 6.6, so its init_uts_ns and image are where VMCOREINFO's symbols say;
# the fix fills the kdump header's utsname (drgn needs it) and maps the
# kernel image in ELF output.  A kernel with IDENTITYBASE (6.6 and later) is
# not translated: refused, not guessed.

load helpers

setup() {
	need_binaries
	need_jq
}

S390_VMCI="vmcoreinfo-line OSRELEASE=6.1.0-57-s390x
vmcoreinfo-line PAGESIZE=4096
vmcoreinfo-line SYMBOL(init_uts_ns)=1a2b000
vmcoreinfo-line SYMBOL(_stext)=100000
vmcoreinfo-line SYMBOL(swapper_pg_dir)=1c00000
vmcoreinfo-line OFFSET(uts_namespace.name)=4
vmcoreinfo-line KERNELOFFSET=0
vmcoreinfo-line SYMBOL(lowcore_ptr)=1b00000"

# gen_s390 NAME FORMAT EXTRA: an s390x dump of 64 MiB of RAM at 0
gen_s390() {
	local k=
	[ "$2" = kdump ] && k="compress zlib"
	gen "$1" "format $2
machine s390x
$k
prstatus 1
ram 0 0x4000000
$S390_VMCI
$3"
}

@test "s390x kdump: the header's utsname is filled from init_uts_ns at its symbol's address (virtual = physical), and the output is healthy" {
	gen_s390 k kdump ""
	inspect_json "$BATS_TEST_TMPDIR/k.dump"
	[ "$(jget .machine)" = s390x ]
	[ "$(jget .byte_order)" = big-endian ] || [ "$(jget .byte_order)" = big ]
	has_problem kdump-utsname-incomplete
	run "$VMCOREFIX" "$BATS_TEST_TMPDIR/k.dump" -o "$BATS_TEST_TMPDIR/f.kdump"
	[ "$status" -eq 0 ]
	[[ "$output" == *'machine "s390x"'* ]]
	inspect_json "$BATS_TEST_TMPDIR/f.kdump"
	[ "$(jget .kdump.utsname.release)" = 6.1.0-57-s390x ]
	[ "$(jget .kdump.utsname.machine)" = s390x ]
	[ "$(jget '.problems | length')" = 0 ]
	run "$VMCOREFIX" --check "$BATS_TEST_TMPDIR/f.kdump"
	[ "$status" -eq 0 ]
}

@test "s390x ELF: the fixed big-endian ELF maps the kernel image at _stext (virtual = physical) and is healthy" {
	gen_s390 e elf ""
	run "$VMCOREFIX" "$BATS_TEST_TMPDIR/e.dump" -o "$BATS_TEST_TMPDIR/f.elf"
	[ "$status" -eq 0 ]
	run readelf -hlW "$BATS_TEST_TMPDIR/f.elf"
	[[ "$output" == *"big endian"* ]]
	[[ "$output" == *"IBM S/390"* ]]
	[[ "$output" == *"LOAD"*"0x0000000000100000 0x0000000000100000"* ]]
	run "$VMCOREFIX" --check "$BATS_TEST_TMPDIR/f.elf"
	[ "$status" -eq 0 ]
	"$VFGEN" --expect "$BATS_TEST_TMPDIR/e.spec" 0x1a2b000 4096 > "$BATS_TEST_TMPDIR/want"
	"$VFREAD" "$BATS_TEST_TMPDIR/f.elf" 0x1a2b000 4096 > "$BATS_TEST_TMPDIR/got"
	cmp "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
}

@test "s390x with IDENTITYBASE (Linux 6.6 and later): kernel addresses are not guessed; the fix refuses" {
	gen_s390 k kdump "vmcoreinfo-line IDENTITYBASE=3ffe00000000"
	run "$VMCOREFIX" --check "$BATS_TEST_TMPDIR/k.dump"
	[ "$status" -eq 3 ]
	[[ "$output" == *"IDENTITYBASE"*"is not implemented"* ]]
}

# lowcore_ptr PADDR: a vfgen line putting the big-endian u64 PADDR at absolute 0xe0c
lowcore_ptr() {
	printf 'bytes 0xe0c %016x\n' "$1"
}

@test "s390x without a note: the scan's note is the one the lowcore's vmcore_info pointer (0xe0c) points to; the fix says so" {
	gen_s390 n kdump "vmcoreinfo-note no
vmcoreinfo-in-memory 0x1b0c000
$(lowcore_ptr 0x1b0c000)"
	run "$VMCOREFIX" "$BATS_TEST_TMPDIR/n.dump" -o "$BATS_TEST_TMPDIR/f.kdump" --json
	[ "$status" -eq 0 ]
	json=$output
	[ "$(jget .guest_note.paddr)" = 0x1b0c000 ]
	[[ "$(jget .guest_note.region_from)" == *"the lowcore's vmcore_info pointer (0xe0c) points to it too"* ]]
	run "$VMCOREFIX" --check "$BATS_TEST_TMPDIR/f.kdump"
	[ "$status" -eq 0 ]
}

@test "s390x: a lowcore pointer to another VMCOREINFO note than the scan's refuses the fix" {
	python3 -c 'import struct; t=b"OSRELEASE=6.1.0-57-s390x\nPAGESIZE=4096\n"; print("bytes 0x2000000 " + (struct.pack(">III", 11, len(t), 0) + b"VMCOREINFO\0\0" + t).hex())' > "$BATS_TEST_TMPDIR/other"
	gen_s390 n kdump "vmcoreinfo-note no
vmcoreinfo-in-memory 0x1b0c000
$(lowcore_ptr 0x2000000)
$(cat "$BATS_TEST_TMPDIR/other")"
	run "$VMCOREFIX" --check "$BATS_TEST_TMPDIR/n.dump"
	[ "$status" -eq 3 ]
	[[ "$output" == *"differs from the one the lowcore's vmcore_info pointer (0xe0c) points to (0x2000000)"* ]]
}

@test "s390x: an empty lowcore pointer leaves the scan's note, and says so" {
	gen_s390 n kdump "vmcoreinfo-note no
vmcoreinfo-in-memory 0x1b0c000
$(lowcore_ptr 0)"
	run "$VMCOREFIX" --dry-run --json "$BATS_TEST_TMPDIR/n.dump"
	[ "$status" -eq 0 ]
	json=$output
	[[ "$(jget .guest_note.region_from)" == *"the lowcore's vmcore_info pointer (0xe0c): "*"is 0"* ]]
}
