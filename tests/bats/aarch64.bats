#!/usr/bin/env bats
# aarch64 kdump dumps as QEMU writes them: 64 KiB blocks (its "aarch64 max
# pagesize") over a kernel of 4 KiB pages, the header's utsname.machine
# "Unknown" and phys_base 0, the arm64 phys_base in NUMBER(PHYS_OFFSET).
# The note's PAGESIZE divides the block: the same kernel, no mismatch; the
# scan steps by the kernel's page; the fix writes PHYS_OFFSET and utsname.

load helpers

setup() {
	need_binaries
	need_jq
}

# The VMCOREINFO of an arm64 kernel whose image sits at physical 0x40210000
# (_stext) and whose init_uts_ns is in RAM.
A64_VMCI="vmcoreinfo-line OSRELEASE=6.1.0-57-arm64
vmcoreinfo-line PAGESIZE=4096
vmcoreinfo-line SYMBOL(init_uts_ns)=ffff800009cf1a38
vmcoreinfo-line SYMBOL(_stext)=ffff800008010000
vmcoreinfo-line SYMBOL(swapper_pg_dir)=ffff80000a0f5000
vmcoreinfo-line OFFSET(uts_namespace.name)=4
vmcoreinfo-line NUMBER(PHYS_OFFSET)=0x40000000
vmcoreinfo-line NUMBER(kimage_voffset)=0xffff7fffc7e00000
vmcoreinfo-line KERNELOFFSET=0"

# gen_a64 NAME FORMAT EXTRA: an aarch64 dump of 64 MiB of RAM at 0x40000000
gen_a64() {
	local block=
	[ "$2" = kdump ] && block="block_size 65536
compress zlib
phys_base 0
utsname machine Unknown"
	gen "$1" "format $2
machine aarch64
page_size 4096
$block
prstatus 1
ram 0x40000000 0x4000000
$A64_VMCI
$3"
}

@test "aarch64 kdump of 64 KiB blocks, PAGESIZE=4096: no page-size mismatch; phys_base and utsname are the problems" {
	gen_a64 k kdump ""
	inspect_json "$BATS_TEST_TMPDIR/k.dump"
	[ "$(jget .machine)" = aarch64 ]
	[ "$(jget .kdump.block_size)" = 65536 ]
	! has_problem page-size-mismatch
	has_problem kdump-phys-base-mismatch
	has_problem kdump-machine-wrong
	run "$VMCOREFIX" --check "$BATS_TEST_TMPDIR/k.dump"
	[ "$status" -eq 1 ]
}

@test "aarch64 kdump: the fix writes NUMBER(PHYS_OFFSET) and the guest's utsname, and the output is healthy" {
	gen_a64 k kdump ""
	run "$VMCOREFIX" "$BATS_TEST_TMPDIR/k.dump" -o "$BATS_TEST_TMPDIR/f.kdump"
	[ "$status" -eq 0 ]
	[[ "$output" == *"NUMBER(PHYS_OFFSET)=0x40000000 (was 0x0)"* ]]
	inspect_json "$BATS_TEST_TMPDIR/f.kdump"
	[ "$(jget .kdump.phys_base)" = 0x40000000 ]
	[ "$(jget .kdump.utsname.machine)" = aarch64 ]
	[ "$(jget .kdump.utsname.release)" = 6.1.0-57-arm64 ]
	[ "$(jget '.problems | length')" = 0 ]
	run "$VMCOREFIX" --check "$BATS_TEST_TMPDIR/f.kdump"
	[ "$status" -eq 0 ]
	# the guest's memory is unchanged: a page of the kernel image, read through
	# the fixed file, is the spec's
	"$VFGEN" --expect "$BATS_TEST_TMPDIR/k.spec" 0x40210000 4096 > "$BATS_TEST_TMPDIR/want"
	"$VFREAD" "$BATS_TEST_TMPDIR/f.kdump" 0x40210000 4096 > "$BATS_TEST_TMPDIR/got"
	cmp "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
}

@test "aarch64 kdump without a note: the scan steps by the kernel's 4 KiB page and finds a note no 64 KiB block starts" {
	gen_a64 n kdump "vmcoreinfo-note no
vmcoreinfo-in-memory 0x40f0b000"
	run "$VMCOREFIX" "$BATS_TEST_TMPDIR/n.dump" -o "$BATS_TEST_TMPDIR/f.kdump" --json
	[ "$status" -eq 0 ]
	json=$output
	[ "$(jget .guest_note.paddr)" = 0x40f0b000 ]
	[ "$(jget .guest_note.pages_scanned)" -ge 16384 ]
	inspect_json "$BATS_TEST_TMPDIR/f.kdump"
	[ "$(jget .vmcoreinfo.values.PAGESIZE)" = 4096 ]
	[ "$(jget .kdump.phys_base)" = 0x40000000 ]
	run "$VMCOREFIX" --check "$BATS_TEST_TMPDIR/f.kdump"
	[ "$status" -eq 0 ]
}

@test "aarch64: an ELF dump of the same guest is accepted as --memory for its kdump (4 KiB pages, 64 KiB blocks)" {
	gen_a64 n kdump "vmcoreinfo-note no
exclude 0x40f00000 0x10000"
	gen_a64 e elf "vmcoreinfo-note no
vmcoreinfo-in-memory 0x40f0b000"
	run "$VMCOREFIX" "$BATS_TEST_TMPDIR/n.dump" --memory "$BATS_TEST_TMPDIR/e.dump" -o "$BATS_TEST_TMPDIR/f.kdump"
	[ "$status" -eq 0 ]
	[[ "$output" != *"another machine"* ]]
	run "$VMCOREFIX" --check "$BATS_TEST_TMPDIR/f.kdump"
	[ "$status" -eq 0 ]
}

@test "a guest note whose PAGESIZE does not divide the kdump's block is another kernel's: refused" {
	gen_a64 n kdump "vmcoreinfo-note no
vmcoreinfo-in-memory 0x40f0b000"
	python3 - "$BATS_TEST_TMPDIR/n.spec" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read().replace("block_size 65536", "block_size 4096").replace("PAGESIZE=4096", "PAGESIZE=65536")
open(p, "w").write(s)
PY
	"$VFGEN" "$BATS_TEST_TMPDIR/n.spec" "$BATS_TEST_TMPDIR/n.dump"
	run "$VMCOREFIX" --check "$BATS_TEST_TMPDIR/n.dump" --region 0x40f0b000,1024
	[ "$status" -eq 3 ]
	[[ "$output" == *"PAGESIZE=65536 does not fit the dump's page size 4096"* ]]
}

@test "a note's PAGESIZE that is no page size is refused" {
	gen_a64 n kdump "vmcoreinfo-note no
vmcoreinfo-in-memory 0x40f0b000"
	sed -i 's/PAGESIZE=4096/PAGESIZE=12288/' "$BATS_TEST_TMPDIR/n.spec"
	"$VFGEN" "$BATS_TEST_TMPDIR/n.spec" "$BATS_TEST_TMPDIR/n.dump"
	run "$VMCOREFIX" --check "$BATS_TEST_TMPDIR/n.dump" --region 0x40f0b000,1024
	[ "$status" -eq 3 ]
	[[ "$output" == *"PAGESIZE=12288 is no page size"* ]]
}
