#!/usr/bin/env bats
# What vmcore-fix should do with QEMU 7.2's s390x dumps and does not yet (not in
# BATS_TESTS; run it by hand: bats tests/real/real_s390x_todo.bats). The guest's note is
# found (scan, --region-file, the lowcore pointer at absolute 0xe0c) and the kernel is
# mapped 1:1 (SYMBOL(init_uts_ns) is init_uts_ns's physical address), yet every fix is
# refused: "translating kernel addresses of s390x is not implemented".

load arch-helpers

setup_file() { arch_setup_file s390x; }
setup() { arch_setup; ARCHNOTES=$ARCH_SRCDIR/tests/real/archnotes.py; }

# fixed_has_note OUT: OUT carries the guest's note, and guest RAM is unchanged there
fixed_has_note() {
	/usr/bin/python3 "$ARCHNOTES" --vmcoreinfo "$1" >"$T/n.txt"
	cmp "$T/n.txt" vmcoreinfo-note.txt
	/usr/bin/python3 "$ARCHNOTES" --phys "$VMCI_PADDR" "$VMCI_SIZE" "$1" >"$T/ram.txt"
	cmp "$T/ram.txt" vmcoreinfo-note.txt
}

@test "s390x todo: vmcore-fix dump.elf -o OUT writes the guest's note; --check of OUT exits 0; drgn reads OUT with and without debug info" {
	need_vmlinux
	arch_scenario nodevice
	"$VMCOREFIX" dump.elf -o "$T/out.elf"
	fixed_has_note "$T/out.elf"
	[ "$(/usr/bin/python3 "$ARCHNOTES" --u64 0xe0c "$T/out.elf")" = "$VMCI_PADDR" ]
	"$VMCOREFIX" --check "$T/out.elf"
	drgn_nodebug_reads "$T/out.elf"
	verdict "$T/out.elf"
}

@test "s390x todo: vmcore-fix of the kdump (raw and flattened) -o OUT writes the guest's note and utsname; drgn reads OUT; --check agrees" {
	need_vmlinux
	arch_scenario nodevice
	for f in dump.kdump-zlib dump.kdump-zlib.flat; do
		rm -f "$T/out"
		"$VMCOREFIX" "$f" -o "$T/out"
		fixed_has_note "$T/out"
		[ "$(kdump_uts "$T/out" 4)" = s390x ]
		[ "$(kdump_uts "$T/out" 2)" = "$OSRELEASE" ]
		"$VMCOREFIX" --check "$T/out"
		drgn_nodebug_reads "$T/out"
		verdict "$T/out"
	done
}

@test "s390x todo: the kdump --output-format elf is an ELF dump drgn reads" {
	need_vmlinux
	arch_scenario nodevice
	"$VMCOREFIX" dump.kdump-zlib -o "$T/out.elf" --output-format elf
	fixed_has_note "$T/out.elf"
	verdict "$T/out.elf"
}

@test "s390x todo: --no-scan still fixes the ELF: the lowcore pointer at absolute 0xe0c says where the note is" {
	arch_scenario nodevice
	"$VMCOREFIX" dump.elf -o "$T/out.elf" --no-scan
	fixed_has_note "$T/out.elf"
}

@test "s390x todo: --inspect of QEMU's ELF names the section header written little-endian in the big-endian file" {
	arch_scenario nodevice
	[ "$ELF_SECTIONS_READ_LE" = "- .shstrtab" ]
	json=$("$VMCOREFIX" --inspect --json dump.elf || true)
	jq -c '[.problems[] | .id + ": " + .message]' <<<"$json"
	jq -e '[.problems[] | select(.message | test("section header"; "i"))] | length > 0' <<<"$json" >/dev/null
}

@test "s390x todo: the verdict rule on QEMU's raw ELF (drgn with the debug vmlinux reads it through the 1:1 map; --check exits 3)" {
	need_vmlinux
	arch_scenario nodevice
	verdict dump.elf
}
