#!/usr/bin/env bats
# The ppc64le real tier: Debian 12's ppc64el kernel booted under qemu-system-ppc64
# -M pseries -cpu power9 (TCG, SLOF) by tests/real/make-arch-dumps.sh ppc64le. QEMU 7.2
# has no -device vmcoreinfo for pseries (no fw_cfg), so there is one scenario, nodevice/.
# QEMU writes this little-endian guest's dumps BIG-endian (ELF header, program headers,
# notes, kdump header), while guest memory (the kernel's own note) is little-endian.
# vmcore-fix takes the guest's byte order from its CPU notes (MSR_LE), finds and reads its
# note, and writes ELF output in the guest's order (a kdump only as --output-format elf).

load arch-helpers

setup_file() { arch_setup_file ppc64le; }
setup() { arch_setup; ARCHNOTES=$ARCH_SRCDIR/tests/real/archnotes.py; }

@test "ppc64le fixtures: the guest's view (note address, 64 KiB pages, kernel at PAGE_OFFSET, no KASLR) is recorded and consistent" {
	arch_scenario nodevice
	[ "$ARCH" = ppc64le ]
	[ "$OSRELEASE" = "$(cat osrelease.txt)" ]
	read -r a s <guest-vmcoreinfo.txt
	[ "$(printf '0x%x' "$a")" = "$VMCI_PADDR" ]
	[ "$(printf '0x%x' "0x$s")" = "$VMCI_SIZE" ]
	for f in dump.elf dump.kdump-zlib; do
		/usr/bin/python3 "$ARCHNOTES" --phys "$VMCI_PADDR" "$VMCI_SIZE" "$f" >"$T/ram.txt"
		cmp "$T/ram.txt" vmcoreinfo-note.txt
	done
	# the note in RAM is little-endian: namesz 11 as 0b000000
	[ "$(/usr/bin/python3 "$ARCHNOTES" --read "$VMCI_PADDR" 4 dump.elf)" = 0b000000 ]
	[ "$PAGESIZE" = 65536 ]
	grep -qx "PAGESIZE=65536" vmcoreinfo-note.txt
	[ "$KERNELOFFSET" = 0 ]
	[ "$GUEST_STEXT_KALLSYMS" = 0xc000000000000000 ]
	[ "$LINEAR_BASE" = 0xc000000000000000 ]
	[ "$INIT_UTS_NS_AT_LINEAR" = 1 ]
	# no "Kernel code" in ppc64's /proc/iomem
	[ "$GUEST_KERNEL_CODE_PADDR" = 0x ]
	grep -qF "$MARKER" console.log
	if grep -qF "$MARKER" qemu-cmdline.txt; then false; fi
}

@test "ppc64le: no -device vmcoreinfo, no qemu_fw_cfg; the dumps carry no note" {
	arch_scenario nodevice
	. "$ARCH_DIR/generation.env"
	[ "$SCENARIOS" = nodevice ]
	[[ "$QEMU_VMCOREINFO_DEVICE" == "absent: "*"vmcoreinfo"* ]]
	[ "$FWCFG_BUILTIN" = none ]
	[ "$NOTE_IN_DUMP" = 0 ]
	for f in dump.elf dump.kdump-zlib; do
		run /usr/bin/python3 "$ARCHNOTES" --vmcoreinfo "$f"
		[ "$status" -eq 1 ]
	done
}

@test "ppc64le ELF and kdump: big-endian, EM_PPC64, one PT_LOAD of all RAM, a little-endian .shstrtab header; kdump 64 KiB blocks, utsname 'Unknown'" {
	arch_scenario nodevice
	[ "$ELF_BYTE_ORDER" = big ]
	[ "$ELF_E_MACHINE" = 21 ]
	[ "$ELF_PT_LOADS" = "0x0+0x20000000@0x840" ] || [ "${ELF_PT_LOADS%@*}" = "0x0+$(printf '0x%x' $((RAM_MB << 20)))" ]
	[ "$ELF_NOTES" = "CORE/0x1 CORE/0x2 CORE/0x100 CORE/0x102 CORE/0x101" ]
	[ "$ELF_SECTIONS_READ_LE" = "- .shstrtab" ]
	[ "$KDUMP_BYTE_ORDER" = big ]
	[ "$KDUMP_BLOCK_SIZE" = 65536 ]
	[ "$KDUMP_SUB_PHYS_BASE" = 0x0 ]
	[ "$KDUMP_UTS_MACHINE" = Unknown ]
}

@test "ppc64le: --inspect names the guest ppc64le (its CPU notes' MSR_LE) in QEMU's big-endian files; the kdump fix refuses for the byte order and points to --output-format elf" {
	arch_scenario nodevice
	for f in dump.elf dump.kdump-zlib dump.kdump-zlib.flat; do
		json=$("$VMCOREFIX" --inspect --json "$f" || true)
		echo "$f: $(jq -c '{machine, byte_order, problems: [.problems[].id]}' <<<"$json")"
		[ "$(jq -r .e_machine <<<"$json")" = 21 ]
		[ "$(jq -r .machine <<<"$json")" = ppc64le ]
		jq -e '.problems | map(.id) | index("no-vmcoreinfo") != null' <<<"$json" >/dev/null
	done
	for f in dump.kdump-zlib dump.kdump-zlib.flat; do
		run "$VMCOREFIX" "$f" -o "$T/out"
		echo "$output"
		[ "$status" -eq 3 ]
		[[ "$output" == *"the kdump is big-endian but the guest (ppc64le) is little-endian"* ]]
		[[ "$output" == *"--output-format elf"* ]]
		[ ! -e "$T/out" ]
	done
	# the scan finds the guest's note in its own byte order
	run "$BUILDDIR/tests/tools/scanread" dump.elf
	[[ "$output" == *"candidate=note $VMCI_PADDR "*"valid=1"* ]]
}

@test "ppc64le: the ELF, and the kdump (raw and flattened) with --output-format elf, become little-endian ELF dumps with the guest's note, which drgn reads; --check agrees" {
	need_vmlinux
	arch_scenario nodevice
	for f in dump.elf dump.kdump-zlib dump.kdump-zlib.flat; do
		rm -f "$T/out"
		"$VMCOREFIX" "$f" -o "$T/out" --output-format elf
		[ "$(od -An -tx1 -j 5 -N 1 "$T/out" | tr -d ' ')" = 01 ]   # EI_DATA: little-endian
		/usr/bin/python3 "$ARCHNOTES" --vmcoreinfo "$T/out" >"$T/n.txt"
		cmp "$T/n.txt" vmcoreinfo-note.txt
		"$VMCOREFIX" --check "$T/out"
		verdict "$T/out"
	done
}

@test "ppc64le: --region-file reads the note at the guest's address in the guest's byte order" {
	arch_scenario nodevice
	"$VMCOREFIX" dump.elf --region-file guest-vmcoreinfo.txt -o "$T/out"
	/usr/bin/python3 "$ARCHNOTES" --vmcoreinfo "$T/out" >"$T/n.txt"
	cmp "$T/n.txt" vmcoreinfo-note.txt
}

@test "ppc64le verdict on QEMU's files: --check exits 3 and drgn cannot read them" {
	need_vmlinux
	arch_scenario nodevice
	for f in dump.elf dump.kdump-zlib; do
		verdict "$f"
	done
}
