#!/usr/bin/env bats
# The riscv64 real tier: Debian 13's riscv64 kernel (6.12) booted under Debian 12's
# qemu-system-riscv64 7.2 -M virt (TCG, QEMU's bundled OpenSBI) by
# tests/real/make-arch-dumps.sh riscv64, its ELF and kdump dumps. QEMU 7.2 lists
# -device vmcoreinfo for virt but refuses it (virt's fw_cfg has no DMA), so there is one
# scenario, nodevice/: the dumps carry no VMCOREINFO note. The kernel maps its image at
# KERNEL_LINK_ADDR (va - va_kernel_pa_offset is physical) and RAM at PAGE_OFFSET
# (va - PAGE_OFFSET + phys_ram_base), both checked here against the dumps' bytes.
# vmcore-fix finds the note (the scan) but cannot translate riscv64 kernel addresses: it
# refuses (exit 3) to check or fix. drgn 0.0.22 opens riscv64 cores but has no riscv64
# page-table walker: it reads none of QEMU's files, and reads one only when the guest's
# note is there and the PT_LOADs carry the kernel's virtual addresses.

load arch-helpers

setup_file() { arch_setup_file riscv64; }
setup() { arch_setup; ARCHNOTES=$ARCH_SRCDIR/tests/real/archnotes.py; }

# note_num KEY: the note's NUMBER(KEY), as an integer
note_num() { echo $(($(sed -n "s/^NUMBER($1)=//p" vmcoreinfo-note.txt))); }
note_sym() { echo $((0x$(sed -n "s/^SYMBOL($1)=//p" vmcoreinfo-note.txt))); }

# is_uts FILE PADDR: "Linux" and OSRELEASE at PADDR of FILE (a new_utsname)
is_uts() {
	local h
	h=$(/usr/bin/python3 "$ARCHNOTES" --read "$(printf '0x%x' "$2")" 195 "$1") || return 1
	[ "${h:0:12}" = 4c696e757800 ] &&
		[ "$(/usr/bin/python3 -c 'import sys; print(bytes.fromhex(sys.argv[1])[130:].split(b"\0")[0].decode())' "$h")" = "$OSRELEASE" ]
}

@test "riscv64 fixtures: the guest's own view (note address, Kernel code, _text, no KASLR) is recorded and consistent" {
	arch_scenario nodevice
	[ "$ARCH" = riscv64 ]
	[ "$DEB_ARCH" = riscv64 ]
	[ "$OSRELEASE" = "$(cat osrelease.txt)" ]
	[ "$OSRELEASE" = "$KERNEL_VERSION" ]
	[[ "$OSRELEASE" == *-riscv64 ]]
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
	grep -qx "OSRELEASE=$OSRELEASE" vmcoreinfo-note.txt
	# "Kernel code" starts at _text (= _stext, the note's SYMBOL(_stext))
	grep -q "^ *${GUEST_KERNEL_CODE_PADDR#0x}-.* : Kernel code$" iomem.txt
	[ "$GUEST_TEXT_KALLSYMS" = "$GUEST_STEXT_KALLSYMS" ]
	[ $((GUEST_STEXT_KALLSYMS)) = "$(note_sym _stext)" ]
	[ "$INIT_UTS_NS_VADDR" = "$(printf '0x%x' "$(note_sym init_uts_ns)")" ]
	# the kernel is built without KASLR; the note has no KERNELOFFSET
	grep -qx '# CONFIG_RANDOMIZE_BASE is not set' "$(. "$ARCH_DIR/generation.env" && echo "$GUEST_DIR")/config"
	[ -z "$KERNELOFFSET" ]
	if grep -q '^KERNELOFFSET=' vmcoreinfo-note.txt; then false; fi
	[ "$KASLR" = 0 ]
	grep -qF "$MARKER" console.log
	if grep -qF "$MARKER" qemu-cmdline.txt; then false; fi
	grep -qF -- '-bios default' qemu-cmdline.txt
	grep -qF 'console=ttyS0' qemu-cmdline.txt
}

@test "riscv64 fixtures: the note's riscv keys (phys_ram_base, PAGE_OFFSET, KERNEL_LINK_ADDR, VA_BITS, va_kernel_pa_offset, the ranges) and no phys_base" {
	arch_scenario nodevice
	for k in phys_ram_base PAGE_OFFSET KERNEL_LINK_ADDR VA_BITS va_kernel_pa_offset VMALLOC_START VMALLOC_END \
		VMEMMAP_START VMEMMAP_END MODULES_VADDR MODULES_END SECTION_SIZE_BITS MAX_PHYSMEM_BITS; do
		v=RISCV_NUMBER_$k
		[ -n "${!v}" ]
		[ "$(note_num "$k")" = $((${!v})) ]
	done
	if grep -q '^NUMBER(phys_base)=' vmcoreinfo-note.txt; then false; fi
	# phys_ram_base is the start of RAM; the kernel image link address is the 64-bit one
	[ $((RISCV_NUMBER_phys_ram_base)) = $((0x${GUEST_RAM%%-*})) ]
	[ "$RISCV_NUMBER_KERNEL_LINK_ADDR" = 0xffffffff80000000 ]
	[ "$RISCV_NUMBER_MODULES_END" = "$RISCV_NUMBER_KERNEL_LINK_ADDR" ]
	# PAGE_OFFSET is the one of the paging mode the kernel chose (sv39, sv48, sv57)
	case "$RISCV_NUMBER_VA_BITS" in
	39) [ "$RISCV_NUMBER_PAGE_OFFSET" = 0xffffffd600000000 ] ;;
	48) [ "$RISCV_NUMBER_PAGE_OFFSET" = 0xffffaf8000000000 ] ;;
	57) [ "$RISCV_NUMBER_PAGE_OFFSET" = 0xff60000000000000 ] ;;
	*) false ;;
	esac
	# QEMU 7.2's rv64 CPU has sv57: Linux 6.12 takes it
	[ "$RISCV_NUMBER_VA_BITS" = 57 ]
	[ "$RISCV_NUMBER_VMALLOC_END" = "$RISCV_NUMBER_PAGE_OFFSET" ]
	[ "$RISCV_NUMBER_VMEMMAP_END" = "$RISCV_NUMBER_VMALLOC_START" ]
	# SYMBOL(vmemmap) = VMEMMAP_START - (phys_ram_base >> PAGE_SHIFT) * SIZE(page)
	[ "$RISCV_VMEMMAP_SYMBOL_IS_VMEMMAP" = 1 ]
	sp=$(($(sed -n 's/^SIZE(page)=//p' vmcoreinfo-note.txt)))
	[ "$(note_sym vmemmap)" = $((RISCV_NUMBER_VMEMMAP_START - (RISCV_NUMBER_phys_ram_base >> 12) * sp)) ]
}

@test "riscv64 translation: kernel image va - va_kernel_pa_offset (= va - KERNEL_LINK_ADDR + the image's start) is physical, in the ELF and the kdump" {
	arch_scenario nodevice
	vpo=$(note_num va_kernel_pa_offset)
	link=$(note_num KERNEL_LINK_ADDR)
	uts=$(note_sym init_uts_ns)
	# the image starts 0x2000 below "Kernel code" (_text is KERNEL_LINK_ADDR + 0x2000)
	[ $((link - vpo)) = $((GUEST_KERNEL_CODE_PADDR - 0x2000)) ]
	[ $((GUEST_TEXT_KALLSYMS - link)) = $((0x2000)) ]
	[ $((GUEST_TEXT_KALLSYMS - vpo)) = $((GUEST_KERNEL_CODE_PADDR)) ]
	[ "$RISCV_TEXT_PADDR_VIA_VA_PA_OFFSET" = "$GUEST_KERNEL_CODE_PADDR" ]
	for f in dump.elf dump.kdump-zlib; do
		is_uts "$f" $((uts - vpo))
		is_uts "$f" $((uts - GUEST_TEXT_KALLSYMS + GUEST_KERNEL_CODE_PADDR))
		# "Kernel code" taken as KERNEL_LINK_ADDR's physical address misses by 0x2000
		if is_uts "$f" $((uts - link + GUEST_KERNEL_CODE_PADDR)); then false; fi
		# the image is not in the linear map's range of addresses
		if is_uts "$f" $((uts - RISCV_NUMBER_PAGE_OFFSET + RISCV_NUMBER_phys_ram_base)); then false; fi
	done
	# what the generator found the same way
	for p in RISCV_ RISCV_KDUMP_; do
		for k in UTS_VIA_VA_PA_OFFSET=1 UTS_VIA_LINK_ADDR_IMAGE=1 UTS_VIA_TEXT=1 UTS_VIA_LINK_ADDR=0 UTS_VIA_LINEAR=0; do
			v=$p${k%=*}
			[ "${!v}" = "${k#*=}" ]
		done
	done
}

@test "riscv64 translation: the linear map, va - PAGE_OFFSET + phys_ram_base, leads from SYMBOL(mem_section) to vmemmap" {
	arch_scenario nodevice
	po=$(note_num PAGE_OFFSET)
	prb=$(note_num phys_ram_base)
	ms=$(note_sym mem_section)
	# SYMBOL(mem_section) is the root array, a linear-map address inside RAM
	[ "$ms" -ge "$po" ]
	[ $((ms - po + prb)) -le $((0x${GUEST_RAM##*-})) ]
	for f in dump.elf dump.kdump-zlib; do
		# root 0 (phys_ram_base is in section 16, root 0), a linear-map address too
		root=$(/usr/bin/python3 "$ARCHNOTES" --u64 "$(printf '0x%x' $((ms - po + prb)))" "$f")
		[ "$root" = "$RISCV_MEM_SECTION_ROOT" ]
		[ $((root)) -ge "$po" ]
		sz=$(($(sed -n 's/^SIZE(mem_section)=//p' vmcoreinfo-note.txt)))
		off=$(($(sed -n 's/^OFFSET(mem_section.section_mem_map)=//p' vmcoreinfo-note.txt)))
		nr=$((prb >> $(note_num SECTION_SIZE_BITS)))
		map=$(/usr/bin/python3 "$ARCHNOTES" --u64 "$(printf '0x%x' $((root - po + prb + nr * sz + off)))" "$f")
		[ "$map" = "$RISCV_MEM_SECTION_MAP" ]
		# present (bit 0), and the encoded mem_map is vmemmap
		[ $((map & 1)) = 1 ]
		[ $((map & ~0xfff)) = "$(note_sym vmemmap)" ]
	done
	[ "$RISCV_MEM_SECTION_VIA_LINEAR" = 1 ]
	[ "$RISCV_KDUMP_MEM_SECTION_VIA_LINEAR" = 1 ]
}

@test "riscv64: QEMU 7.2 lists -device vmcoreinfo for virt but refuses it (no fw_cfg DMA); the kernel has qemu_fw_cfg as a module; no note in the dumps" {
	arch_scenario nodevice
	. "$ARCH_DIR/generation.env"
	[ "$SCENARIOS" = nodevice ]
	[ ! -d "$ARCH_DIR/vmcoreinfo" ]
	"$QEMU" -machine "$QEMU_MACHINE" -device help | grep -q '^name "vmcoreinfo"'
	[ "$QEMU_VMCOREINFO_DEVICE" = "listed but refused: qemu-system-riscv64: -device vmcoreinfo: vmcoreinfo device requires fw_cfg with DMA" ]
	run bash -c "echo quit | timeout 60 $QEMU -machine $QEMU_MACHINE -bios default -device vmcoreinfo -display none -nodefaults -S -monitor stdio"
	[ "$status" -eq 1 ]
	[[ "$output" == *"vmcoreinfo device requires fw_cfg with DMA"* ]]
	[ "$FWCFG_BUILTIN" = 0 ]
	grep -qx 'CONFIG_FW_CFG_SYSFS=m' "$GUEST_DIR/config"
	grep -qx 'qemu_fw_cfg.ko' "$GUEST_DIR/modules.order"
	grep -q ' : fw_cfg_mem$' iomem.txt
	if grep -q 'insmod qemu_fw_cfg.ko failed' console.log; then false; fi
	[ "$NOTE_IN_DUMP" = 0 ]
	[ "$FWCFG_RAW_PRESENT" = 0 ]
	for f in dump.elf dump.kdump-zlib; do
		run /usr/bin/python3 "$ARCHNOTES" --vmcoreinfo "$f"
		[ "$status" -eq 1 ]
	done
	[ "$KDUMP_SIZE_VMCOREINFO" = 0 ]
	[ "$KDUMP_OFFSET_VMCOREINFO" = 0x0 ]
}

@test "riscv64 ELF: little-endian, EM_RISCV, e_ehsize 8, PT_LOADs of the boot ROM and all RAM with vaddr = paddr, one NT_PRSTATUS" {
	arch_scenario nodevice
	[ "$ELF_BYTE_ORDER" = little ]
	[ "$ELF_E_MACHINE" = 243 ]
	[ "$ELF_E_EHSIZE" = 8 ]
	[ "$ELF_E_PHOFF" = 0xc0 ]
	[ "$ELF_E_SHOFF" = 0x40 ]
	ram=$(for r in $GUEST_RAM; do s=$((0x${r%-*})); e=$((0x${r#*-} + 1)); printf '0x%x+0x%x ' "$s" $((e - s)); done)
	got=$(for l in $ELF_PT_LOADS; do printf '%s ' "${l%@*}"; done)
	[ "$got" = "0x1000+0xf000 $ram" ]
	# p_vaddr = p_paddr in each PT_LOAD (QEMU does not walk the guest's page tables)
	for i in $(seq 0 $((ELF_E_PHNUM - 1))); do
		o=$((ELF_E_PHOFF + 56 * i))
		[ "$(kdump_field dump.elf $((o + 16)) 8)" = "$(kdump_field dump.elf $((o + 24)) 8)" ]
	done
	[ "$ELF_PT_NOTES" = 1 ]
	[ "$ELF_NOTES" = "CORE/0x1" ]
	[ "$ELF_SECTIONS" = "- .shstrtab" ]
}

@test "riscv64 kdump: little-endian header version 6, 4 KiB blocks, utsname only 'Unknown', sub-header phys_base 0" {
	arch_scenario nodevice
	[ "$DUMP_FORMATS" = "elf kdump-zlib" ]
	[ "$KDUMP_BYTE_ORDER" = little ]
	[ "$KDUMP_HEADER_VERSION" = 6 ]
	[ "$KDUMP_BLOCK_SIZE" = 4096 ]
	[ "$KDUMP_SUB_PHYS_BASE" = 0x0 ]
	[ "$KDUMP_UTS_MACHINE" = Unknown ]
	[ "$(kdump_uts dump.kdump-zlib 4)" = Unknown ]
	for k in SYSNAME NODENAME RELEASE VERSION DOMAINNAME; do
		v=KDUMP_UTS_$k
		[ -z "${!v}" ]
	done
	end=$((0x${GUEST_RAM##*-} + 1))
	[ $((KDUMP_MAX_MAPNR * KDUMP_BLOCK_SIZE)) = "$end" ]
	[ "$KDUMP_NR_CPUS" = 1 ]
	/usr/bin/python3 "$ARCHNOTES" dump.kdump-zlib | grep -q 'name CORE type 0x1 '
}

@test "riscv64 --inspect --json: every QEMU file is a little-endian riscv64 dump without a note" {
	arch_scenario nodevice
	for f in dump.elf dump.kdump-zlib dump.kdump-zlib.flat; do
		json=$("$VMCOREFIX" --inspect --json "$f" || true)
		echo "$f: $(jq -c '{machine, byte_order, format, flattened, problems: [.problems[].id]}' <<<"$json")"
		[ "$(jq -r .machine <<<"$json")" = riscv64 ]
		[ "$(jq -r .e_machine <<<"$json")" = 243 ]
		[ "$(jq -r .byte_order <<<"$json")" = little ]
		[ "$(jq -r .page_size <<<"$json")" = 4096 ]
		case $f in
		dump.elf) want="elf false" ;;
		*.flat) want="kdump true" ;;
		*) want="kdump false" ;;
		esac
		[ "$(jq -r '"\(.format) \(.flattened)"' <<<"$json")" = "$want" ]
		jq -e '.problems | map(.id) | index("no-vmcoreinfo") != null' <<<"$json" >/dev/null
		case $f in
		dump.elf) jq -e '.problems | map(.id) | index("elf-bad-ehsize") != null' <<<"$json" >/dev/null ;;
		*)
			[ "$(jq -r .kdump.utsname.machine <<<"$json")" = Unknown ]
			jq -e '.problems | map(.id) | index("kdump-machine-wrong") != null' <<<"$json" >/dev/null
			jq -e '.problems | map(.id) | index("kdump-utsname-incomplete") != null' <<<"$json" >/dev/null
			;;
		esac
	done
}

@test "riscv64: --check of QEMU's ELF exits 1 (the note is found by the scan, the addresses translate); its kdump files are refused as kdump output (no consumer reads a riscv64 kdump), fixable as ELF" {
	arch_scenario nodevice
	run "$VMCOREFIX" --check dump.elf
	echo "dump.elf --check: $status: $output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"one valid VMCOREINFO note"*" at $VMCI_PADDR (OSRELEASE $OSRELEASE)"* ]]
	for f in dump.kdump-zlib dump.kdump-zlib.flat; do
		rm -f "$T/out"
		run "$VMCOREFIX" "$f" -o "$T/out"
		echo "$f -o: $status: $output"
		[ "$status" -eq 3 ]
		[[ "$output" == *"no consumer reads a riscv64 kdump"*"--output-format elf"* ]]
		[ ! -e "$T/out" ]
		run "$VMCOREFIX" --check --output-format elf "$f"
		[ "$status" -eq 1 ]
	done
}

# fixed_has_note OUT: OUT carries the guest's note, and guest RAM is unchanged there
fixed_has_note() {
	/usr/bin/python3 "$ARCHNOTES" --vmcoreinfo "$1" >"$T/n.txt"
	cmp "$T/n.txt" vmcoreinfo-note.txt
	/usr/bin/python3 "$ARCHNOTES" --phys "$VMCI_PADDR" "$VMCI_SIZE" "$1" >"$T/ram.txt"
	cmp "$T/ram.txt" vmcoreinfo-note.txt
}

@test "riscv64: vmcore-fix dump.elf -o OUT writes the guest's note; --check of OUT exits 0; drgn reads OUT (with and without debug info)" {
	need_vmlinux
	arch_scenario nodevice
	"$VMCOREFIX" dump.elf -o "$T/out.elf"
	fixed_has_note "$T/out.elf"
	"$VMCOREFIX" --check "$T/out.elf"
	drgn_nodebug_reads "$T/out.elf"
	verdict "$T/out.elf"
}

@test "riscv64: the kdump --output-format elf is an ELF dump drgn reads" {
	need_vmlinux
	arch_scenario nodevice
	"$VMCOREFIX" dump.kdump-zlib -o "$T/out.elf" --output-format elf
	fixed_has_note "$T/out.elf"
	"$VMCOREFIX" --check "$T/out.elf"
	verdict "$T/out.elf"
}

@test "riscv64 verdict on QEMU's files (ELF, kdump raw and flattened): drgn cannot read them, and --check does not say healthy" {
	need_vmlinux
	arch_scenario nodevice
	for f in dump.elf dump.kdump-zlib dump.kdump-zlib.flat; do
		verdict "$f"
	done
}

# with_note IN OUT [VADDRS]: IN (QEMU's ELF) rewritten with the guest's note as a second
# PT_NOTE; with VADDRS, the RAM PT_LOAD at the linear map's virtual address and the boot ROM's
# PT_LOAD replaced by the kernel image (32 MiB from KERNEL_LINK_ADDR) at its own
with_note() {
	/usr/bin/python3 - "$1" "$2" vmcoreinfo-note.txt "${3:-}" "$(note_num PAGE_OFFSET)" "$(note_num phys_ram_base)" \
		"$(note_num KERNEL_LINK_ADDR)" "$(note_num va_kernel_pa_offset)" <<'PY'
import struct, sys
src, dst, note, vaddrs = sys.argv[1:5]
po, prb, link, vpo = (int(x) & (1 << 64) - 1 for x in sys.argv[5:9])  # bash prints them signed
b = open(src, "rb").read()
phoff, = struct.unpack_from("<Q", b, 32)
phnum, = struct.unpack_from("<H", b, 56)
ph = [list(struct.unpack_from("<IIQQQQQQ", b, phoff + 56 * i)) for i in range(phnum)]
desc = open(note, "rb").read()
name = b"VMCOREINFO\0"
n = struct.pack("<III", len(name), len(desc), 0) + name + b"\0" * (-len(name) % 4) + desc + b"\0" * (-len(desc) % 4)
hdr = bytearray(b[:64])
struct.pack_into("<QQ", hdr, 32, 64, 0)
struct.pack_into("<HHHHHH", hdr, 52, 64, 56, phnum + 1, 64, 0, 0)
off = 64 + 56 * (phnum + 1)
body, out = [], []
pos = off
for p in ph:
    body.append(b[p[2]:p[2] + p[6]])
    p = p[:]
    p[2] = pos
    pos += p[6]
    out.append(p)
out.append([4, 0, pos, 0, 0, len(n), len(n), 0])
body.append(n)
if vaddrs:
    ram = next(p for p in out if p[0] == 1 and p[4] == prb)
    ram[3] = po
    rom = next(p for p in out if p[0] == 1 and p[4] != prb)
    rom[:] = [1, ram[1], ram[2] + (link - vpo - prb), link, link - vpo, 1 << 25, 1 << 25, 0]
open(dst, "wb").write(bytes(hdr) + b"".join(struct.pack("<IIQQQQQQ", *p) for p in out) + b"".join(body))
PY
}

@test "riscv64 drgn 0.0.22: no riscv64 page-table walker: with the guest's note alone it opens a Linux core but reads nothing; with the kernel's virtual addresses in the PT_LOADs too it reads init_uts_ns and the printk marker" {
	need_vmlinux
	arch_scenario nodevice
	with_note dump.elf "$T/note.elf"
	/usr/bin/python3 "$ARCHNOTES" --vmcoreinfo "$T/note.elf" >"$T/n.txt"
	cmp "$T/n.txt" vmcoreinfo-note.txt
	run drgn_reads "$T/note.elf"
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"platform RISCV64"* ]]
	[[ "$output" == *"could not find memory segment"* ]]
	with_note dump.elf "$T/va.elf" vaddrs
	drgn_reads "$T/va.elf"
	drgn_nodebug_reads "$T/va.elf"
}
