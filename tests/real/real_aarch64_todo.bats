#!/usr/bin/env bats
# The aarch64 kdump behaviour issue 13 asks for, which vmcore-fix does not have yet: these
# tests fail today and are NOT in BATS_TESTS (Makefile.am) until the code is fixed; then
# they move into real_aarch64.bats. They state the correct behaviour; do not weaken them.
#
# QEMU 7.2 writes aarch64 kdump files in 64 KiB blocks (block_size 65536) of a kernel
# with 4 KiB pages (PAGESIZE=4096), with utsname.machine "Unknown" and an empty release;
# its sub-header phys_base is NUMBER(PHYS_OFFSET). The one consumer on this machine is
# drgn (libkdumpfile for kdump files), with the arm64 debug vmlinux.
#
#   bats tests/real/real_aarch64_todo.bats   (VMCOREFIX=build/vmcore-fix, as the suite sets)

load arch-helpers

setup_file() { arch_setup_file aarch64; }
setup() { arch_setup; }

# fix_ok IN [OPTION...]: vmcore-fix IN -o $T/out OPTION... exits 0 (its output shown)
fix_ok() {
	local in=$1 rc=0
	shift
	rm -f "$T/out"
	"$VMCOREFIX" "$in" -o "$T/out" "$@" >"$T/fix.out" 2>&1 || rc=$?
	echo "vmcore-fix $in -o OUT $*: exit $rc"
	cat "$T/fix.out"
	[ "$rc" = 0 ]
	[ -s "$T/out" ]
}

@test "aarch64 kdump with the device (raw and flattened): vmcore-fix -o OUT writes a file drgn reads, and --check OUT says healthy" {
	need_vmlinux
	arch_scenario vmcoreinfo
	for f in dump.kdump-zlib dump.kdump-zlib.flat; do
		fix_ok "$f"
		[ "$(head -c 8 "$T/out")" = "KDUMP   " ]
		# libkdumpfile takes the architecture and release from the header's utsname
		[ "$(kdump_uts "$T/out" 4)" = aarch64 ]
		[ "$(kdump_uts "$T/out" 2)" = "$OSRELEASE" ]
		/usr/bin/python3 "$ELFNOTES" --vmcoreinfo "$T/out" >"$T/n.txt"
		cmp "$T/n.txt" vmcoreinfo-note.txt
		verdict "$T/out"
		drgn_reads "$T/out"
		"$VMCOREFIX" --check "$T/out"
	done
}

@test "aarch64 kdump without the device: the scan finds the guest's 4 KiB-aligned note in 64 KiB blocks; the fixed file has it and drgn reads it" {
	need_vmlinux
	arch_scenario nodevice
	rc=0
	"$VMCOREFIX" --dry-run dump.kdump-zlib >"$T/dry.out" 2>&1 || rc=$?
	cat "$T/dry.out"
	[ "$rc" = 0 ]
	grep -q "$VMCI_PADDR" "$T/dry.out"
	fix_ok dump.kdump-zlib
	/usr/bin/python3 "$ELFNOTES" --vmcoreinfo "$T/out" >"$T/n.txt"
	cmp "$T/n.txt" vmcoreinfo-note.txt
	verdict "$T/out"
	drgn_reads "$T/out"
}

@test "aarch64 kdump without the device, --region-file of the guest's /sys/kernel/vmcoreinfo: PAGESIZE=4096 is this kernel's, not another guest's" {
	need_vmlinux
	arch_scenario nodevice
	fix_ok dump.kdump-zlib --region-file guest-vmcoreinfo.txt
	if grep -q 'another guest or kernel' "$T/fix.out"; then false; fi
	drgn_reads "$T/out"
}

@test "aarch64 kdump without the device, --memory dump.elf of the same boot: accepted (4 KiB pages both), and drgn reads the output" {
	need_vmlinux
	arch_scenario nodevice
	fix_ok dump.kdump-zlib --memory dump.elf
	if grep -q 'another machine' "$T/fix.out"; then false; fi
	drgn_reads "$T/out"
}

@test "aarch64 --inspect of QEMU's kdump: no page-size-mismatch (the kernel's 4 KiB pages in QEMU's 64 KiB blocks are not a mismatch)" {
	for sc in vmcoreinfo nodevice; do
		arch_scenario "$sc"
		[ "$KDUMP_BLOCK_SIZE" = 65536 ]
		[ "$PAGESIZE" = 4096 ]
		for f in dump.kdump-zlib dump.kdump-zlib.flat; do
			json=$("$VMCOREFIX" --inspect --json "$f" || true)
			echo "$sc/$f: $(jq -c '[.problems[] | .id + ": " + .message]' <<<"$json")"
			[ "$(jq -r '.problems | map(select(.id == "page-size-mismatch")) | length' <<<"$json")" = 0 ]
		done
	done
}

@test "aarch64 kdump whose sub-header phys_base disagrees with NUMBER(PHYS_OFFSET): --inspect says so at the sub-header, and the fix writes PHYS_OFFSET there" {
	arch_scenario vmcoreinfo
	[ "$(kdump_field dump.kdump-zlib "$KDUMP_BLOCK_SIZE" 8)" = "$PHYS_OFFSET" ]
	# test tooling: a copy with the sub-header's phys_base (its first 8 bytes) 256 MiB off
	cp dump.kdump-zlib "$T/bad.kdump"
	chmod u+w "$T/bad.kdump"
	/usr/bin/python3 -c 'import struct, sys
f = open(sys.argv[1], "r+b"); f.seek(int(sys.argv[2])); f.write(struct.pack("<Q", int(sys.argv[3], 0)))' \
		"$T/bad.kdump" "$KDUMP_BLOCK_SIZE" "$((PHYS_OFFSET + 0x10000000))"
	[ "$(kdump_field "$T/bad.kdump" "$KDUMP_BLOCK_SIZE" 8)" = "$(printf '0x%x' $((PHYS_OFFSET + 0x10000000)))" ]
	json=$("$VMCOREFIX" --inspect --json "$T/bad.kdump" || true)
	jq -c '[.problems[] | {id, offset}]' <<<"$json"
	sub=$(printf '0x%x' "$KDUMP_BLOCK_SIZE")
	[ "$(jq -r --arg o "$sub" '.problems | map(select(.offset == $o and (.id | test("phys")))) | length' <<<"$json")" -ge 1 ]
	fix_ok "$T/bad.kdump"
	# the output's sub-header starts at its own block_size (the header's int at 0x1ac)
	ob=$(kdump_field "$T/out" $((0x1ac)) 4)
	[ "$(kdump_field "$T/out" "$((ob))" 8)" = "$PHYS_OFFSET" ]
}
