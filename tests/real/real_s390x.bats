#!/usr/bin/env bats
# The s390x real tier: Debian 12's s390x kernel booted under qemu-system-s390x
# -M s390-ccw-virtio (TCG) by tests/real/make-arch-dumps.sh s390x, its ELF and kdump
# dumps. QEMU 7.2 has no -device vmcoreinfo for s390x (and the kernel no qemu_fw_cfg), so
# there is one scenario, nodevice/: the dumps carry no VMCOREINFO note, while the kernel's
# lowcore (absolute 0xe0c) points at the note in guest memory. drgn (python3-drgn reads
# s390x cores on this host, with the foreign debug vmlinux) is the one consumer.
# vmcore-fix finds the note (the scan, confirmed by the lowcore pointer; with --no-scan
# the pointer alone), translates the 6.1 kernel's addresses 1:1, and drgn reads every
# fixed file; --check agrees with drgn with and without debug info.

load arch-helpers

setup_file() { arch_setup_file s390x; }
setup() { arch_setup; ARCHNOTES=$ARCH_SRCDIR/tests/real/archnotes.py; }

@test "s390x fixtures: the guest's own view (note address, load address, identity map, KASLR) is recorded and consistent" {
	arch_scenario nodevice
	[ "$ARCH" = s390x ]
	[ "$OSRELEASE" = "$(cat osrelease.txt)" ]
	[ "$OSRELEASE" = "$KERNEL_VERSION" ]
	read -r a s <guest-vmcoreinfo.txt
	[ "$(printf '0x%x' "$a")" = "$VMCI_PADDR" ]
	[ "$(printf '0x%x' "0x$s")" = "$VMCI_SIZE" ]
	# the note at that address, in the ELF and in the kdump, is the recorded one
	for f in dump.elf dump.kdump-zlib; do
		/usr/bin/python3 "$ARCHNOTES" --phys "$VMCI_PADDR" "$VMCI_SIZE" "$f" >"$T/ram.txt"
		cmp "$T/ram.txt" vmcoreinfo-note.txt
	done
	grep -qx "PAGESIZE=4096" vmcoreinfo-note.txt
	[ "$PAGESIZE" = 4096 ]
	# the load address: "Kernel code" starts at _stext, whose virtual address is the same
	# number (6.1 maps the kernel 1:1); init_uts_ns is at its virtual address, as physical
	[ $((GUEST_STEXT_KALLSYMS)) = $((GUEST_KERNEL_CODE_PADDR)) ]
	[ $((0x$(sed -n "s/^SYMBOL(_stext)=//p" vmcoreinfo-note.txt))) = $((GUEST_KERNEL_CODE_PADDR)) ]
	grep -q "^ *${GUEST_KERNEL_CODE_PADDR#0x}-.* : Kernel code$" iomem.txt
	[ "$LINEAR_BASE" = 0 ]
	[ "$INIT_UTS_NS_AT_LINEAR" = 1 ]
	[ "$INIT_UTS_NS_VADDR" = "0x$(sed -n 's/^SYMBOL(init_uts_ns)=//p' vmcoreinfo-note.txt)" ]
	u=$(/usr/bin/python3 "$ARCHNOTES" --read "$INIT_UTS_NS_VADDR" 6 dump.elf)
	[ "$u" = 4c696e757800 ]   # "Linux\0"
	# KASLR: the note's KERNELOFFSET is 0 exactly when the guest says it is disabled
	if [ "$KASLR" = 1 ]; then
		[ $((0x$KERNELOFFSET)) -ne 0 ]
		[[ "$KASLR_CONSOLE" != "KASLR disabled"* ]]
	else
		[ "$KERNELOFFSET" = 0 ]
		[[ "$KASLR_CONSOLE" == "KASLR disabled"* ]]
	fi
	grep -qF "$MARKER" console.log
	if grep -qF "$MARKER" qemu-cmdline.txt; then false; fi
}

@test "s390x fixtures: the note's s390x keys (lowcore_ptr, high_memory, SAMODE31, EAMODE31) and no phys_base" {
	arch_scenario nodevice
	n=vmcoreinfo-note.txt
	grep -qE '^SYMBOL\(lowcore_ptr\)=[0-9a-f]+$' "$n"
	grep -qE '^LENGTH\(lowcore_ptr\)=[0-9]+$' "$n"
	grep -qE '^SYMBOL\(high_memory\)=[0-9a-f]+$' "$n"
	grep -qE '^SAMODE31=[0-9a-f]+$' "$n"
	grep -qE '^EAMODE31=[0-9a-f]+$' "$n"
	grep -qE '^KERNELOFFSET=[0-9a-f]+$' "$n"
	if grep -q '^NUMBER(phys_base)=' "$n"; then false; fi
}

@test "s390x: QEMU 7.2 has no -device vmcoreinfo, the kernel no qemu_fw_cfg; the dumps carry no note" {
	arch_scenario nodevice
	. "$ARCH_DIR/generation.env"
	[ "$SCENARIOS" = nodevice ]
	[ ! -d "$ARCH_DIR/vmcoreinfo" ]
	[[ "$QEMU_VMCOREINFO_DEVICE" == "absent: "*"vmcoreinfo"* ]]
	if "$QEMU" -machine "$QEMU_MACHINE" -device help | grep -q '"vmcoreinfo"'; then false; fi
	[ "$FWCFG_BUILTIN" = none ]
	if grep -q '^CONFIG_FW_CFG_SYSFS=' "$GUEST_DIR/config"; then false; fi
	[ "$NOTE_IN_DUMP" = 0 ]
	[ "$FWCFG_RAW_PRESENT" = 0 ]
	for f in dump.elf dump.kdump-zlib; do
		run /usr/bin/python3 "$ARCHNOTES" --vmcoreinfo "$f"
		[ "$status" -eq 1 ]
	done
	[ "$KDUMP_SIZE_VMCOREINFO" = 0 ]
	[ "$KDUMP_OFFSET_VMCOREINFO" = 0x0 ]
}

@test "s390x: the u64 at absolute 0xe0c (lowcore vmcore_info) is the note's physical address, and the note's header is there" {
	arch_scenario nodevice
	[ "$LOWCORE_E0C_ELF" = "$VMCI_PADDR" ]
	[ "$LOWCORE_E0C_KDUMP" = "$VMCI_PADDR" ]
	for f in dump.elf dump.kdump-zlib; do
		[ "$(/usr/bin/python3 "$ARCHNOTES" --u64 0xe0c "$f")" = "$VMCI_PADDR" ]
	done
	# Elf64_Nhdr, big-endian: namesz 11, descsz (the text's length), type 0, "VMCOREINFO\0"
	h=$(/usr/bin/python3 "$ARCHNOTES" --read "$VMCI_PADDR" 24 dump.elf)
	[ "$h" = "$LOWCORE_E0C_TARGET_HEX" ]
	[ "${h:0:8}" = 0000000b ]
	[ $((0x${h:8:8})) = "$(wc -c <vmcoreinfo-note.txt)" ]
	[ "${h:16:8}" = 00000000 ]
	[ "${h:24:22}" = 564d434f5245494e464f00 ]
}

@test "s390x ELF: big-endian, EM_S390, one PT_LOAD of all RAM, s390 register notes, a little-endian .shstrtab section header" {
	arch_scenario nodevice
	[ "$ELF_BYTE_ORDER" = big ]
	[ "$(od -An -j 5 -N 1 -tu1 dump.elf | tr -d ' ')" = 2 ]
	[ "$ELF_E_MACHINE" = 22 ]
	want=$(for r in $GUEST_RAM; do s=$((0x${r%-*})); e=$((0x${r#*-} + 1)); printf '0x%x+0x%x ' "$s" $((e - s)); done)
	got=$(for l in $ELF_PT_LOADS; do printf '%s ' "${l%@*}"; done)
	[ "$got" = "$want" ]
	[ "$ELF_PT_NOTES" = 1 ]
	[ "$ELF_NOTES" = "CORE/0x1 CORE/0x2 LINUX/0x305 LINUX/0x304 LINUX/0x301 LINUX/0x302 LINUX/0x303 LINUX/0x309 LINUX/0x30a LINUX/0x30b" ]
	# e_shnum 2, e_shstrndx 1 (big-endian, right); section header 1 is .shstrtab only when
	# read little-endian: name 1, type 3 (SHT_STRTAB), its offset the end of the PT_LOAD
	[ "$ELF_E_SHNUM" = 2 ]
	[ "$ELF_E_SHSTRNDX" = 1 ]
	[ "$ELF_SECTIONS" = "? ?" ]
	[ "$ELF_SECTIONS_READ_LE" = "- .shstrtab" ]
	[ "$(od -An -v -j $((ELF_E_SHOFF + 64)) -N 8 -tx1 dump.elf | tr -d ' ')" = 0100000003000000 ]
	l=${ELF_PT_LOADS##* }
	sz=${l#*+}; sz=${sz%@*}
	[ "$(/usr/bin/python3 "$ARCHNOTES" --sections dump.elf | sed -n 's/^1 .* le: .*offset=\(0x[0-9a-f]*\) .*/\1/p')" = "$(printf '0x%x' $((${l#*@} + sz)))" ]
}

@test "s390x kdump: big-endian header, 4 KiB blocks, utsname only 'S390X', sub-header phys_base 0" {
	arch_scenario nodevice
	[ "$KDUMP_BYTE_ORDER" = big ]
	[ "$KDUMP_HEADER_VERSION" = 6 ]
	[ "$KDUMP_BLOCK_SIZE" = 4096 ]
	[ "$KDUMP_SUB_PHYS_BASE" = 0x0 ]
	[ "$KDUMP_UTS_MACHINE" = S390X ]
	for k in SYSNAME NODENAME RELEASE VERSION DOMAINNAME; do
		v=KDUMP_UTS_$k
		[ -z "${!v}" ]
	done
	end=$((0x${GUEST_RAM##*-} + 1))
	[ $((KDUMP_MAX_MAPNR * KDUMP_BLOCK_SIZE)) -ge "$end" ]
	[ "$(head -c 8 dump.kdump-zlib)" = "KDUMP   " ]
	/usr/bin/python3 "$ARCHNOTES" dump.kdump-zlib | grep -q 'name CORE type 0x1 '
}

@test "s390x --inspect --json: every QEMU file is a big-endian s390x dump without a note" {
	arch_scenario nodevice
	for f in dump.elf dump.kdump-zlib dump.kdump-zlib.flat; do
		json=$("$VMCOREFIX" --inspect --json "$f" || true)
		echo "$f: $(jq -c '{machine, byte_order, format, flattened, problems: [.problems[].id]}' <<<"$json")"
		[ "$(jq -r .machine <<<"$json")" = s390x ]
		[ "$(jq -r .e_machine <<<"$json")" = 22 ]
		[ "$(jq -r .byte_order <<<"$json")" = big ]
		case $f in
		dump.elf) want="elf false 4096" ;;
		*.flat) want="kdump true" ;;
		*) want="kdump false" ;;
		esac
		got=$(jq -r '"\(.format) \(.flattened)" + (if .format == "elf" then " \(.page_size)" else "" end)' <<<"$json")
		[ "$got" = "$want" ]
		jq -e '.problems | map(.id) | index("no-vmcoreinfo") != null' <<<"$json" >/dev/null
		case $f in dump.kdump*)
			[ "$(jq -r .kdump.utsname.machine <<<"$json")" = S390X ]
			jq -e '.problems | map(.id) | index("kdump-machine-wrong") != null' <<<"$json" >/dev/null
			;;
		esac
	done
}

# fixed_has_note OUT: OUT carries the guest's note, and guest RAM is unchanged there
fixed_has_note() {
	/usr/bin/python3 "$ARCHNOTES" --vmcoreinfo "$1" >"$T/n.txt"
	cmp "$T/n.txt" vmcoreinfo-note.txt
	/usr/bin/python3 "$ARCHNOTES" --phys "$VMCI_PADDR" "$VMCI_SIZE" "$1" >"$T/ram.txt"
	cmp "$T/ram.txt" vmcoreinfo-note.txt
}

@test "s390x: vmcore-fix dump.elf -o OUT writes the guest's note; --check of OUT exits 0; drgn reads OUT with and without debug info" {
	need_vmlinux
	arch_scenario nodevice
	"$VMCOREFIX" dump.elf -o "$T/out.elf"
	fixed_has_note "$T/out.elf"
	[ "$(/usr/bin/python3 "$ARCHNOTES" --u64 0xe0c "$T/out.elf")" = "$VMCI_PADDR" ]
	"$VMCOREFIX" --check "$T/out.elf"
	drgn_nodebug_reads "$T/out.elf"
	verdict "$T/out.elf"
}

@test "s390x: vmcore-fix of the kdump (raw and flattened) -o OUT writes the guest's note and utsname; drgn reads OUT; --check agrees" {
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

@test "s390x: the kdump --output-format elf is an ELF dump drgn reads" {
	need_vmlinux
	arch_scenario nodevice
	"$VMCOREFIX" dump.kdump-zlib -o "$T/out.elf" --output-format elf
	fixed_has_note "$T/out.elf"
	verdict "$T/out.elf"
}

@test "s390x: --no-scan still fixes the ELF: the lowcore pointer at absolute 0xe0c says where the note is" {
	arch_scenario nodevice
	"$VMCOREFIX" dump.elf -o "$T/out.elf" --no-scan
	fixed_has_note "$T/out.elf"
}

@test "s390x: --inspect of QEMU's ELF names the section header written little-endian in the big-endian file" {
	arch_scenario nodevice
	[ "$ELF_SECTIONS_READ_LE" = "- .shstrtab" ]
	json=$("$VMCOREFIX" --inspect --json dump.elf || true)
	jq -c '[.problems[] | .id + ": " + .message]' <<<"$json"
	jq -e '[.problems[] | select(.message | test("section header"; "i"))] | length > 0' <<<"$json" >/dev/null
}

@test "s390x verdict on QEMU's raw ELF: drgn reads it only with the debug vmlinux (1:1 map), not without debug info (no VMCOREINFO): --check exits 1, fixable" {
	need_vmlinux
	arch_scenario nodevice
	drgn_reads dump.elf
	if drgn_nodebug_reads dump.elf; then false; fi
	run "$VMCOREFIX" --check dump.elf
	[ "$status" -eq 1 ]
}

@test "s390x drgn on QEMU's files: the raw ELF is read with the debug vmlinux (1:1 map) but is no Linux kernel core without it; the kdump is not opened" {
	need_vmlinux
	arch_scenario nodevice
	drgn_reads dump.elf
	run drgn_nodebug_reads dump.elf
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"linux False"* ]]
	run drgn_reads dump.kdump-zlib
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"linux.vmcoreinfo.raw is not set"* ]]
}

@test "s390x verdict on QEMU's kdump (raw and flattened): drgn cannot read it, and --check does not say healthy" {
	need_vmlinux
	arch_scenario nodevice
	for f in dump.kdump-zlib dump.kdump-zlib.flat; do
		verdict "$f"
	done
}
