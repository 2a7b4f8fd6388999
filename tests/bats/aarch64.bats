#!/usr/bin/env bats
# aarch64 kdump dumps as QEMU writes them: 64 KiB blocks (its "aarch64 max
# pagesize") over a kernel of 4 KiB pages, the header's utsname.machine
# "Unknown" and phys_base 0, the arm64 phys_base in NUMBER(PHYS_OFFSET).
# The note's PAGESIZE divides the block: the same kernel, no page-size
# mismatch, and the scan steps by the kernel's page.  But libkdumpfile (drgn,
# the one consumer of aarch64 dumps on this machine) counts a kdump's pages
# by PAGESIZE and cannot read such a file (tests/real/real_aarch64.bats saw
# "Out-of-bounds PFN"): the fix refuses it.  A kernel of 64 KiB pages in the
# same blocks is read: there the fix writes PHYS_OFFSET and utsname.

load helpers

setup() {
	need_binaries
	need_jq
}

# The VMCOREINFO of an arm64 kernel whose image sits at physical 0x40210000
# (_stext) and whose init_uts_ns is in RAM; PAGESIZE=$PS.
a64_vmci() {
	printf '%s\n' "vmcoreinfo-line OSRELEASE=6.1.0-57-arm64" "vmcoreinfo-line PAGESIZE=${PS:-4096}" \
		"vmcoreinfo-line SYMBOL(init_uts_ns)=ffff800009cf1a38" \
		"vmcoreinfo-line SYMBOL(_stext)=ffff800008010000" \
		"vmcoreinfo-line SYMBOL(swapper_pg_dir)=ffff80000a0f5000" \
		"vmcoreinfo-line OFFSET(uts_namespace.name)=4" \
		"vmcoreinfo-line NUMBER(PHYS_OFFSET)=0x40000000" \
		"vmcoreinfo-line NUMBER(kimage_voffset)=0xffff7fffc7e00000" \
		"vmcoreinfo-line KERNELOFFSET=0"
}

# gen_a64 NAME FORMAT EXTRA: an aarch64 dump of 64 MiB of RAM at 0x40000000
# (kdump: QEMU's 64 KiB blocks)
gen_a64() {
	local block=
	[ "$2" = kdump ] && block="block_size 65536
compress zlib
phys_base 0
utsname machine Unknown"
	gen "$1" "format $2
machine aarch64
page_size ${PS:-4096}
$block
prstatus 1
ram 0x40000000 0x4000000
$(a64_vmci)
$3"
}

# refused_blocks: $status and $output of a run refused for the 64 KiB blocks
refused_blocks() {
	[ "$status" -eq 3 ]
	[[ "$output" == *"kdump block size"*"65536-byte blocks hold 16 pages of the kernel's 4096"* ]]
	[[ "$output" == *"vmcore-fix -o OUT --output-format elf writes it as an ELF dump"* ]]
}

@test "aarch64 kdump of 64 KiB blocks, PAGESIZE=4096: no page-size mismatch, but drgn cannot read it: a consumer need, and --check refuses" {
	gen_a64 k kdump ""
	inspect_json "$BATS_TEST_TMPDIR/k.dump"
	[ "$(jget .machine)" = aarch64 ]
	[ "$(jget .kdump.block_size)" = 65536 ]
	! has_problem page-size-mismatch || false
	has_problem kdump-phys-base-mismatch
	has_problem consumer-need-unavailable
	[[ "$(jget '.problems[] | select(.id == "consumer-need-unavailable") | .message')" == *"libkdumpfile (drgn) counts a kdump's pages by PAGESIZE"* ]]
	run "$VMCOREFIX" --check "$BATS_TEST_TMPDIR/k.dump"
	refused_blocks
	run "$VMCOREFIX" "$BATS_TEST_TMPDIR/k.dump" -o "$BATS_TEST_TMPDIR/f.kdump"
	refused_blocks
	[ ! -e "$BATS_TEST_TMPDIR/f.kdump" ]
}

@test "aarch64 kdump of a 64 KiB-page kernel in 64 KiB blocks: the fix writes NUMBER(PHYS_OFFSET) and the guest's utsname, and the output is healthy" {
	PS=65536 gen_a64 k kdump ""
	inspect_json "$BATS_TEST_TMPDIR/k.dump"
	! has_problem consumer-need-unavailable || false
	has_problem kdump-phys-base-mismatch
	has_problem kdump-machine-wrong
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
	run "$BUILDDIR/tests/tools/scanread" "$BATS_TEST_TMPDIR/n.dump"
	[ "$status" -eq 0 ]
	[[ "$output" == *"candidate=note 0x40f0b000 size=0x124 valid=1"* ]]
	[[ "$output" == *"pages_checked=16384"* ]]
	# and the fix names what stops it: the blocks, not the note
	run "$VMCOREFIX" --check "$BATS_TEST_TMPDIR/n.dump"
	refused_blocks
}

@test "aarch64: an ELF dump of the same guest is accepted as --memory for its kdump (4 KiB pages, 64 KiB blocks)" {
	gen_a64 n kdump "vmcoreinfo-note no
exclude 0x40f00000 0x10000"
	gen_a64 e elf "vmcoreinfo-note no
vmcoreinfo-in-memory 0x40f0b000"
	run "$VMCOREFIX" --check "$BATS_TEST_TMPDIR/n.dump" --memory "$BATS_TEST_TMPDIR/e.dump"
	[[ "$output" != *"another machine"* ]]
	refused_blocks
	# a 64 KiB-page kernel's kdump with the ELF dump of the same guest: fixed
	PS=65536 gen_a64 n kdump "vmcoreinfo-note no
exclude 0x40f00000 0x10000"
	PS=65536 gen_a64 e elf "vmcoreinfo-note no
vmcoreinfo-in-memory 0x40f0b000"
	run "$VMCOREFIX" "$BATS_TEST_TMPDIR/n.dump" --memory "$BATS_TEST_TMPDIR/e.dump" -o "$BATS_TEST_TMPDIR/f.kdump"
	[ "$status" -eq 0 ]
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

@test "--output-format elf: QEMU's aarch64 kdump becomes an ELF dump of its memory, with the kernel image's PT_LOAD, and is healthy" {
	gen_a64 k kdump "exclude 0x41000000 0x20000"
	run "$VMCOREFIX" --check --output-format elf "$BATS_TEST_TMPDIR/k.dump"
	[ "$status" -eq 1 ]
	run "$VMCOREFIX" "$BATS_TEST_TMPDIR/k.dump" -o "$BATS_TEST_TMPDIR/f.elf" --output-format elf
	[ "$status" -eq 0 ]
	[[ "$output" == *"an ELF dump of the kdump's memory"* ]]
	inspect_json "$BATS_TEST_TMPDIR/f.elf"
	[ "$(jget .format)" = elf ]
	[ "$(jget .machine)" = aarch64 ]
	[ "$(jget '.problems | length')" = 0 ]
	[ "$(jget .vmcoreinfo.values.OSRELEASE)" = 6.1.0-57-arm64 ]
	run "$VMCOREFIX" --check "$BATS_TEST_TMPDIR/f.elf"
	[ "$status" -eq 0 ]
	# the kernel image's PT_LOAD at _stext's virtual address, physical 0x40210000
	run readelf -lW "$BATS_TEST_TMPDIR/f.elf"
	[[ "$output" == *"0xffff800008010000 0x0000000040210000"* ]]
	# guest memory reads the same: first and last page, the kernel image, and
	# the excluded pages are in no PT_LOAD (vfread: 3, not present)
	for a in 0x40000000 0x40210000 0x40ff0000 0x43fff000; do
		"$VFGEN" --expect "$BATS_TEST_TMPDIR/k.spec" $a 4096 > "$BATS_TEST_TMPDIR/want"
		"$VFREAD" "$BATS_TEST_TMPDIR/f.elf" $a 4096 > "$BATS_TEST_TMPDIR/got"
		cmp "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
	done
	run "$VFREAD" "$BATS_TEST_TMPDIR/f.elf" 0x41000000 16
	[ "$status" -eq 3 ]
	# zero pages take no room: the file is sparse
	[ "$(du -k "$BATS_TEST_TMPDIR/f.elf" | cut -f1)" -lt $((64 * 1024)) ]
}

@test "--output-format elf: an x86_64 kdump without a note, the guest's note found by the scan, becomes a healthy ELF dump" {
	gen x "format kdump
machine x86_64
compress zlib
prstatus 1
vmcoreinfo-note no
$KTEXT_OK
ram 0 4M
vmcoreinfo-in-memory 0x2f3000"
	run "$VMCOREFIX" "$BATS_TEST_TMPDIR/x.dump" -o "$BATS_TEST_TMPDIR/f.elf" --output-format elf
	[ "$status" -eq 0 ]
	inspect_json "$BATS_TEST_TMPDIR/f.elf"
	[ "$(jget .format)" = elf ]
	[ "$(jget '.problems | length')" = 0 ]
	[ "$(jget .vmcoreinfo.values.OSRELEASE)" = 6.1.0-56-amd64 ]
	"$VFGEN" --expect "$BATS_TEST_TMPDIR/x.spec" 0x100000 8192 > "$BATS_TEST_TMPDIR/want"
	"$VFREAD" "$BATS_TEST_TMPDIR/f.elf" 0x100000 8192 > "$BATS_TEST_TMPDIR/got"
	cmp "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
}

@test "--output-format elf: not with --in-place; with --check and --dry-run it writes nothing" {
	gen_a64 k kdump ""
	run "$VMCOREFIX" --in-place --output-format elf "$BATS_TEST_TMPDIR/k.dump"
	[ "$status" -eq 2 ]
	[[ "$output" == *"--output-format elf writes a new file"* ]]
	run "$VMCOREFIX" --dry-run --output-format elf "$BATS_TEST_TMPDIR/k.dump"
	[ "$status" -eq 0 ]
	[[ "$output" == *"would patch ELF header region"* ]]
	[ "$(ls "$BATS_TEST_TMPDIR")" = "$(printf 'k.dump\nk.spec')" ]
}

@test "--output-format elf: a page that does not decompress fails the conversion with its address, and nothing is left behind" {
	gen x "format kdump
machine x86_64
compress zlib
prstatus 1
$KTEXT_OK
ram 0 4M"
	sz=$(stat -c %s "$BATS_TEST_TMPDIR/x.dump")
	printf 'poke %d %s\n' $((sz - 300)) ffffffffffffffffffffffffffffffffffffffff >> "$BATS_TEST_TMPDIR/x.spec"
	"$VFGEN" "$BATS_TEST_TMPDIR/x.spec" "$BATS_TEST_TMPDIR/x.dump"
	run "$VMCOREFIX" "$BATS_TEST_TMPDIR/x.dump" -o "$BATS_TEST_TMPDIR/f.elf" --output-format elf
	echo "$output"
	[ "$status" -eq 4 ]
	[[ "$output" == *"reading the dump's memory"*"pfn"* ]]
	[ "$(ls -A "$BATS_TEST_TMPDIR" | grep -c f.elf)" = 0 ]
}
