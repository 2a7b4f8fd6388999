#!/usr/bin/env bats
# What vmcore-fix should do with QEMU 7.2's ppc64le dumps and does not yet (not in
# BATS_TESTS). QEMU writes the little-endian guest's dumps big-endian; the guest's note
# in RAM is little-endian. vmcore-fix takes the guest's byte order from its CPU notes
# (real_ppc64le.bats), finds and reads the note, and refuses to write: an output
# consumers read needs the headers and the CPU notes rewritten in the guest's order.

load arch-helpers

setup_file() { arch_setup_file ppc64le; }
setup() { arch_setup; ARCHNOTES=$ARCH_SRCDIR/tests/real/archnotes.py; }

@test "ppc64le todo: vmcore-fix (ELF; kdump raw and flattened) -o OUT finds the little-endian note and drgn reads OUT; --check agrees" {
	need_vmlinux
	arch_scenario nodevice
	for f in dump.elf dump.kdump-zlib dump.kdump-zlib.flat; do
		rm -f "$T/out"
		"$VMCOREFIX" "$f" -o "$T/out"
		/usr/bin/python3 "$ARCHNOTES" --vmcoreinfo "$T/out" >"$T/n.txt"
		cmp "$T/n.txt" vmcoreinfo-note.txt
		"$VMCOREFIX" --check "$T/out"
		verdict "$T/out"
	done
}

@test "ppc64le todo: --region-file reads the note at the guest's address in the guest's byte order" {
	arch_scenario nodevice
	"$VMCOREFIX" dump.elf --region-file guest-vmcoreinfo.txt -o "$T/out"
	/usr/bin/python3 "$ARCHNOTES" --vmcoreinfo "$T/out" >"$T/n.txt"
	cmp "$T/n.txt" vmcoreinfo-note.txt
}
