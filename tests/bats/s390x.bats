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
