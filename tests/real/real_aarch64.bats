#!/usr/bin/env bats
# The aarch64 real tier: Debian 12's arm64 kernel booted under qemu-system-aarch64 -M virt
# (TCG) by tests/real/make-arch-dumps.sh aarch64, its ELF and kdump dumps with
# (vmcoreinfo/) and without (nodevice/) -device vmcoreinfo. The fixtures are checked
# against what the guest said; vmcore-fix's output is read by drgn (python3-drgn reads
# aarch64 cores on this x86_64 host, with the foreign debug vmlinux); makedumpfile and
# crash on this host are x86_64-only, so drgn is the one consumer, and the verdict rule
# is: --check exits 0 exactly when drgn reads the file.
# What vmcore-fix still gets wrong on aarch64 kdump files is in real_aarch64_todo.bats.
# Each scenario also holds migration.stream, QMP migrate of the same stopped guest:
# vmcore-fix converts it, and the result is compared with QEMU's own ELF dump.

load arch-helpers

setup_file() { arch_setup_file aarch64; }
setup() { arch_setup; }

@test "aarch64 fixtures: the guest's own view (note address, KASLR, load address, PHYS_OFFSET) is recorded and consistent" {
	for sc in vmcoreinfo nodevice; do
		arch_scenario "$sc"
		[ "$ARCH" = aarch64 ]
		[ "$OSRELEASE" = "$(cat osrelease.txt)" ]
		[ "$OSRELEASE" = "$KERNEL_VERSION" ]
		# /sys/kernel/vmcoreinfo: "0x%016x %x"
		read -r a s <guest-vmcoreinfo.txt
		[ "$(printf '0x%x' "$a")" = "$VMCI_PADDR" ]
		[ "$(printf '0x%x' "0x$s")" = "$VMCI_SIZE" ]
		# the note text at that address in the guest's RAM is the recorded one
		/usr/bin/python3 "$ELFNOTES" --phys "$VMCI_PADDR" "$VMCI_SIZE" dump.elf >"$T/ram.txt"
		cmp "$T/ram.txt" vmcoreinfo-note.txt
		grep -qx "PAGESIZE=4096" vmcoreinfo-note.txt
		grep -qx "NUMBER(PHYS_OFFSET)=$PHYS_OFFSET" vmcoreinfo-note.txt
		# the load address: "Kernel code" (iomem) is __pa(_stext) = _stext - kimage_voffset
		[ "$GUEST_STEXT_VADDR" = "0x$(sed -n 's/^SYMBOL(_stext)=//p' vmcoreinfo-note.txt)" ]
		[ "$(printf '0x%x' $((GUEST_STEXT_VADDR - KIMAGE_VOFFSET)))" = "$GUEST_KERNEL_CODE_PADDR" ]
		grep -q "^ *${GUEST_KERNEL_CODE_PADDR#0x}-.* : Kernel code$" iomem.txt
		# PHYS_OFFSET is where the guest's RAM starts
		[ "$(printf '0x%x' "0x${GUEST_RAM%%-*}")" = "$PHYS_OFFSET" ]
		# KASLR: the guest says so, and its note's KERNELOFFSET is not 0
		[ "$KASLR_CONSOLE" = "KASLR enabled" ]
		[ "$KASLR" = 1 ]
		[ $((0x$KERNELOFFSET)) -ne 0 ]
		# the marker went to the kernel log through /dev/kmsg, never on the command line
		grep -qF "$MARKER" console.log
		if grep -qF "$MARKER" qemu-cmdline.txt; then false; fi
	done
	# KASLR: the two boots have different offsets
	# shellcheck disable=SC1091
	k1=$(. "$ARCH_DIR/vmcoreinfo/facts.env"; echo "$KERNELOFFSET")
	# shellcheck disable=SC1091
	k2=$(. "$ARCH_DIR/nodevice/facts.env"; echo "$KERNELOFFSET")
	[ "$k1" != "$k2" ]
}

@test "aarch64 fixtures: with the device the dumps carry the guest's note; without it they carry none" {
	arch_scenario vmcoreinfo
	[ "$NOTE_IN_DUMP" = 1 ]
	[ "$FWCFG_RAW_PRESENT" = 1 ]
	for f in dump.elf dump.kdump-zlib; do
		/usr/bin/python3 "$ELFNOTES" --vmcoreinfo "$f" >"$T/n.txt"
		cmp "$T/n.txt" vmcoreinfo-note.txt
	done
	# the fw_cfg entry the guest wrote: guest_format 1 (ELF), size and address of its note
	[ "$(kdump_field fwcfg-vmcoreinfo.raw 2 2)" = 0x1 ]
	[ "$(kdump_field fwcfg-vmcoreinfo.raw 4 4)" = "$VMCI_SIZE" ]
	[ "$(kdump_field fwcfg-vmcoreinfo.raw 8 8)" = "$VMCI_PADDR" ]
	arch_scenario nodevice
	[ "$NOTE_IN_DUMP" = 0 ]
	[ "$FWCFG_RAW_PRESENT" = 0 ]
	for f in dump.elf dump.kdump-zlib; do
		run /usr/bin/python3 "$ELFNOTES" --vmcoreinfo "$f"
		[ "$status" -eq 1 ]
	done
	[ "$KDUMP_SIZE_VMCOREINFO" = 0 ]
}

@test "aarch64 fixtures: QEMU's ELF maps exactly the guest's RAM; its kdump is of the same RAM" {
	for sc in vmcoreinfo nodevice; do
		arch_scenario "$sc"
		[ "$ELF_E_MACHINE" = 183 ]
		# one PT_LOAD per System RAM range of the guest's /proc/iomem
		want=$(for r in $GUEST_RAM; do s=$((0x${r%-*})); e=$((0x${r#*-} + 1)); printf '0x%x+0x%x ' "$s" $((e - s)); done)
		got=$(for l in $ELF_PT_LOADS; do printf '%s ' "${l%@*}"; done)
		[ "$got" = "$want" ] || { echo "PT_LOADs $got, guest RAM $want"; false; }
		# kdump: the bitmap covers the RAM's end (max_mapnr blocks of block_size bytes)
		end=$((0x${GUEST_RAM##*-} + 1))
		[ $((KDUMP_MAX_MAPNR * KDUMP_BLOCK_SIZE)) -ge "$end" ]
		[ "$KDUMP_HEADER_VERSION" -ge 6 ]
		# makedumpfile -R reassembled the flattened file into the raw one
		[ "$(head -c 8 dump.kdump-zlib)" = "KDUMP   " ]
	done
}

@test "aarch64 --inspect --json: every QEMU file is an aarch64 dump, with the guest's note where it has one" {
	for sc in vmcoreinfo nodevice; do
		arch_scenario "$sc"
		for f in dump.elf dump.kdump-zlib dump.kdump-zlib.flat; do
			json=$("$VMCOREFIX" --inspect --json "$f" || true)
			echo "$sc/$f: $(jq -c '{machine, format, flattened, problems: [.problems[].id]}' <<<"$json")"
			[ "$(jq -r .machine <<<"$json")" = aarch64 ]
			[ "$(jq -r .e_machine <<<"$json")" = 183 ]
			case $f in
			dump.elf) want="elf false 4096" ;;
			*.flat) want="kdump true" ;;
			*) want="kdump false" ;;
			esac
			got=$(jq -r '"\(.format) \(.flattened)" + (if .format == "elf" then " \(.page_size)" else "" end)' <<<"$json")
			[ "$got" = "$want" ]
			if [ "$NOTE_IN_DUMP" = 1 ]; then
				[ "$(jq -r .vmcoreinfo.values.OSRELEASE <<<"$json")" = "$OSRELEASE" ]
				[ "$(jq -r .vmcoreinfo.phys_base <<<"$json")" = "$PHYS_OFFSET" ]
				[ "$(jq -r '.vmcoreinfo.values["NUMBER(PHYS_OFFSET)"]' <<<"$json")" = "$PHYS_OFFSET" ]
			else
				jq -e '.problems | map(.id) | index("no-vmcoreinfo") != null' <<<"$json" >/dev/null
			fi
			# "Unknown" is what QEMU 7.2 writes: it is wrong, and said so
			case $f in dump.kdump*)
				[ "$(jq -r .kdump.utsname.machine <<<"$json")" = "$KDUMP_UTS_MACHINE" ]
				if [ "$KDUMP_UTS_MACHINE" != aarch64 ]; then
					jq -e '.problems | map(.id) | index("kdump-machine-wrong") != null' <<<"$json" >/dev/null
				fi
				;;
			esac
		done
	done
}

@test "aarch64 ELF, with and without the device: vmcore-fix -o OUT maps the kernel image where the guest has it, with the guest's note" {
	for sc in vmcoreinfo nodevice; do
		arch_scenario "$sc"
		rc=0
		"$VMCOREFIX" dump.elf -o "$T/$sc.elf" >"$T/fix.out" 2>&1 || rc=$?
		cat "$T/fix.out"
		[ "$rc" = 0 ]
		json=$("$VMCOREFIX" --inspect --json "$T/$sc.elf")
		[ "$(jq -r '.problems | length' <<<"$json")" = 0 ]
		[ "$(jq -r '.elf.program_headers[0].type' <<<"$json")" = PT_NOTE ]
		# the kernel image's PT_LOAD: _stext's virtual address at the "Kernel code" address
		[ "$(jq -r '.elf.program_headers[1].vaddr' <<<"$json")" = "$GUEST_STEXT_VADDR" ]
		[ "$(jq -r '.elf.program_headers[1].paddr' <<<"$json")" = "$GUEST_KERNEL_CODE_PADDR" ]
		[ "$(jq -r .vmcoreinfo.phys_base <<<"$json")" = "$PHYS_OFFSET" ]
		/usr/bin/python3 "$ELFNOTES" --vmcoreinfo "$T/$sc.elf" >"$T/n.txt"
		cmp "$T/n.txt" vmcoreinfo-note.txt
		# the guest's RAM is unchanged: its note's page, read by physical address
		/usr/bin/python3 "$ELFNOTES" --phys "$VMCI_PADDR" "$VMCI_SIZE" "$T/$sc.elf" >"$T/ram.txt"
		cmp "$T/ram.txt" vmcoreinfo-note.txt
		rm -f "$T/$sc.elf"
	done
}

@test "aarch64 drgn (no debug info) reads the fixed ELF, with and without the device" {
	need_drgn
	for sc in vmcoreinfo nodevice; do
		arch_scenario "$sc"
		"$VMCOREFIX" dump.elf -o "$T/$sc.elf" >/dev/null
		drgn_nodebug_reads "$T/$sc.elf"
		rm -f "$T/$sc.elf"
	done
}

@test "aarch64 drgn with the arm64 debug vmlinux reads the release and finds the marker in the fixed ELF, with and without the device" {
	need_vmlinux
	for sc in vmcoreinfo nodevice; do
		arch_scenario "$sc"
		"$VMCOREFIX" dump.elf -o "$T/$sc.elf" >/dev/null
		drgn_reads "$T/$sc.elf"
		rm -f "$T/$sc.elf"
	done
}

@test "aarch64 verdict on QEMU's own files: --check exits 0 exactly when drgn reads them" {
	need_vmlinux
	for sc in vmcoreinfo nodevice; do
		arch_scenario "$sc"
		for f in dump.elf dump.kdump-zlib; do
			verdict "$f"
		done
	done
}

@test "aarch64 verdict: --check of the fixed ELF exits 0 and drgn reads it" {
	need_vmlinux
	for sc in vmcoreinfo nodevice; do
		arch_scenario "$sc"
		"$VMCOREFIX" dump.elf -o "$T/$sc.elf" >/dev/null
		verdict "$T/$sc.elf"
		"$VMCOREFIX" --check "$T/$sc.elf"
		rm -f "$T/$sc.elf"
	done
}

# --- QEMU's aarch64 kdump: 64 KiB blocks over 4 KiB pages, which drgn cannot read ---

# refused_blocks FILE [OPTION...]: vmcore-fix FILE -o OUT refuses it for its blocks
# (exit 3, the reason and the ELF hint) and writes nothing; the verdict agrees
refused_blocks() {
	local in=$1 rc=0
	shift
	rm -f "$T/out"
	"$VMCOREFIX" "$in" -o "$T/out" "$@" >"$T/fix.out" 2>&1 || rc=$?
	echo "vmcore-fix $in -o OUT $*: exit $rc"
	cat "$T/fix.out"
	[ "$rc" = 3 ]
	grep -q "kdump block size.*65536-byte blocks hold 16 pages of the kernel's 4096" "$T/fix.out"
	grep -q -- "--output-format elf writes it as an ELF dump" "$T/fix.out"
	[ ! -e "$T/out" ]
}

@test "aarch64 kdump (raw and flattened): refused, naming the 64 KiB blocks drgn cannot read, and --check agrees with drgn" {
	need_vmlinux
	for sc in vmcoreinfo nodevice; do
		arch_scenario "$sc"
		[ "$KDUMP_BLOCK_SIZE" = 65536 ]
		[ "$PAGESIZE" = 4096 ]
		for f in dump.kdump-zlib dump.kdump-zlib.flat; do
			refused_blocks "$f"
			verdict "$f"
		done
	done
}

@test "aarch64 kdump without the device: the scan finds the guest's 4 KiB-aligned note in the 64 KiB blocks" {
	arch_scenario nodevice
	run "$BUILDDIR/tests/tools/scanread" dump.kdump-zlib
	echo "$output" | head -n 6
	[ "$status" -eq 0 ]
	[[ "$output" == *"candidate=note $VMCI_PADDR "*"valid=1"* ]]
	[ $((VMCI_PADDR % 65536)) != 0 ] || skip "the note happens to start a 64 KiB block this boot"
}

@test "aarch64 kdump without the device, --region-file and --memory of the same boot: the note is this kernel's; the blocks are the refusal" {
	arch_scenario nodevice
	refused_blocks dump.kdump-zlib --region-file guest-vmcoreinfo.txt
	if grep -q 'another guest or kernel' "$T/fix.out"; then false; fi
	refused_blocks dump.kdump-zlib --memory dump.elf
	if grep -q 'another machine' "$T/fix.out"; then false; fi
}

@test "aarch64 --inspect of QEMU's kdump: no page-size-mismatch; the blocks as a consumer need where the note is there" {
	for sc in vmcoreinfo nodevice; do
		arch_scenario "$sc"
		for f in dump.kdump-zlib dump.kdump-zlib.flat; do
			json=$("$VMCOREFIX" --inspect --json "$f" || true)
			echo "$sc/$f: $(jq -c '[.problems[] | .id + ": " + .message]' <<<"$json")"
			[ "$(jq -r '.problems | map(select(.id == "page-size-mismatch")) | length' <<<"$json")" = 0 ]
			# with the note, the blocks are named; without it (no PAGESIZE to compare)
			# the missing note is, and the fix names the blocks (above)
			if [ "$sc" = vmcoreinfo ]; then
				[ "$(jq -r '.problems | map(select(.id == "consumer-need-unavailable" and (.message | test("kdump block size")))) | length' <<<"$json")" = 1 ]
			else
				[ "$(jq -r '.problems | map(select(.id == "no-vmcoreinfo")) | length' <<<"$json")" = 1 ]
			fi
		done
	done
}

@test "aarch64 kdump whose sub-header phys_base disagrees with NUMBER(PHYS_OFFSET): --inspect says so at the sub-header" {
	arch_scenario vmcoreinfo
	[ "$(kdump_field dump.kdump-zlib "$KDUMP_BLOCK_SIZE" 8)" = "$PHYS_OFFSET" ]
	# test tooling: a copy with the sub-header's phys_base (its first 8 bytes) 256 MiB off
	cp dump.kdump-zlib "$T/bad.kdump"
	chmod u+w "$T/bad.kdump"
	/usr/bin/python3 -c 'import struct, sys
f = open(sys.argv[1], "r+b"); f.seek(int(sys.argv[2])); f.write(struct.pack("<Q", int(sys.argv[3], 0)))' \
		"$T/bad.kdump" "$KDUMP_BLOCK_SIZE" "$((PHYS_OFFSET + 0x10000000))"
	json=$("$VMCOREFIX" --inspect --json "$T/bad.kdump" || true)
	jq -c '[.problems[] | {id, offset}]' <<<"$json"
	sub=$(printf '0x%x' "$KDUMP_BLOCK_SIZE")
	[ "$(jq -r --arg o "$sub" '.problems | map(select(.offset == $o and .id == "kdump-phys-base-mismatch")) | length' <<<"$json")" = 1 ]
	refused_blocks "$T/bad.kdump"
}


@test "aarch64 kdump --output-format elf (raw and flattened, with and without the device): an ELF dump drgn reads, and --check agrees" {
	need_vmlinux
	for sc in vmcoreinfo nodevice; do
		arch_scenario "$sc"
		for f in dump.kdump-zlib dump.kdump-zlib.flat; do
			rm -f "$T/out.elf"
			"$VMCOREFIX" "$f" -o "$T/out.elf" --output-format elf
			[ "$(head -c 4 "$T/out.elf" | od -An -tx1 | tr -d ' ')" = 7f454c46 ]
			/usr/bin/python3 "$ELFNOTES" --vmcoreinfo "$T/out.elf" >"$T/n.txt"
			cmp "$T/n.txt" vmcoreinfo-note.txt
			verdict "$T/out.elf"
			"$VMCOREFIX" --check "$T/out.elf"
		done
	done
}

# --- the migration stream of the same stopped guest (migrate "exec:cat > FILE") ---

# notes_of FILE: NAME/TYPE of each note, in order
notes_of() {
	/usr/bin/python3 "$ARCH_SRCDIR/tests/real/archnotes.py" "$1" | awk '{ printf "%s%s/%s", s, $4, $6; s = " " }'
}

@test "aarch64 migration stream, with and without the device: converted, its RAM and each vCPU's NT_PRSTATUS and NT_PRFPREG byte for byte QEMU's; only QEMU's NT_ARM_SVE is left out" {
	for sc in vmcoreinfo nodevice; do
		arch_scenario "$sc"
		[ "$MIGRATION_STREAM" = 1 ]
		[ "$(head -c 4 migration.stream)" = QEVM ]
		json=$("$VMCOREFIX" --inspect --json migration.stream || true)
		echo "$sc: $(jq -c .saved_state <<<"$json")"
		[ "$(jq -r .saved_state.machine_type <<<"$json")" = "virt-${QEMU_VERSION%.*}" ]
		[ "$(jq -r .saved_state.vcpu_arch <<<"$json")" = aarch64 ]
		[ "$(jq -r .saved_state.vmcoreinfo_device <<<"$json")" = "$([ "$sc" = vmcoreinfo ] && echo true || echo false)" ]
		[ "$(jq -r .machine <<<"$json")" = aarch64 ]
		rm -f "$T/$sc.elf"
		"$VMCOREFIX" migration.stream -o "$T/$sc.elf" >"$T/fix.out" 2>&1 || { cat "$T/fix.out"; false; }
		cat "$T/fix.out"
		# RAM, CPU notes ("CORE": NT_PRSTATUS, NT_PRFPREG of each vCPU) and VMCOREINFO
		run /usr/bin/python3 "$ARCH_SRCDIR/tests/tools/elfcmp.py" "$T/$sc.elf" dump.elf
		echo "elfcmp: $output"
		[ "$status" -eq 0 ]
		[[ "$output" == "same: $((RAM_MB << 20)) bytes of RAM, 2 CPU notes"* ]]
		# QEMU's CPU notes, less its NT_ARM_SVE ("LINUX" 0x405: -cpu $QEMU_CPU has SVE), are
		# ours in the same order; then the guest's note (QEMU's only with the device; the
		# conversion finds it either way)
		ours=$(notes_of "$T/$sc.elf")
		theirs=$(notes_of dump.elf)
		echo "ours: $ours; QEMU's: $theirs"
		[ "$theirs" = "$ELF_NOTES" ]
		[ "$ours" = "$(sed 's, LINUX/0x405,,; s, VMCOREINFO/0x0,,' <<<"$theirs") VMCOREINFO/0x0" ]
		[ "$(jq -r .saved_state.sve_notes_left_out <<<"$json")" = "$(grep -o 'LINUX/0x405' <<<"$theirs" | wc -l)" ]
		# the PT_LOADs: the guest's RAM, as QEMU's, and the kernel image where the guest has it
		cj=$("$VMCOREFIX" --inspect --json "$T/$sc.elf")
		[ "$(jq -r '.problems | length' <<<"$cj")" = 0 ]
		[ "$(jq -r '.elf.program_headers[1].vaddr' <<<"$cj")" = "$GUEST_STEXT_VADDR" ]
		[ "$(jq -r '.elf.program_headers[1].paddr' <<<"$cj")" = "$GUEST_KERNEL_CODE_PADDR" ]
		[ "$(jq -r .vmcoreinfo.phys_base <<<"$cj")" = "$PHYS_OFFSET" ]
		/usr/bin/python3 "$ELFNOTES" --vmcoreinfo "$T/$sc.elf" >"$T/n.txt"
		cmp "$T/n.txt" vmcoreinfo-note.txt
		"$VMCOREFIX" --check "$T/$sc.elf"
		rm -f "$T/$sc.elf"
	done
}

# drgn_cpu0 FILE: the first vCPU's stack as drgn unwinds it from the dump's NT_PRSTATUS
# (drgn's crashed thread is the first PRSTATUS note's), one line
drgn_cpu0() {
	timeout 300 /usr/bin/python3 - "$1" "$ARCH_VMLINUX" <<'PY'
import sys, drgn
p = drgn.Program()
p.set_core_dump(sys.argv[1])
p.load_debug_info([sys.argv[2]])
st = p.crashed_thread().stack_trace()
print("sp=%x" % st[0].register("sp"), " ".join("%s@%x" % (f.name, f.pc) for f in st))
PY
}

@test "aarch64 migration stream: drgn reads the converted dump (release, marker), unwinds the vCPU's stack as in QEMU's dump, and --check agrees" {
	need_vmlinux
	for sc in vmcoreinfo nodevice; do
		arch_scenario "$sc"
		rm -f "$T/$sc.elf" "$T/qemu.elf"
		"$VMCOREFIX" migration.stream -o "$T/$sc.elf" >/dev/null
		verdict "$T/$sc.elf"
		drgn_nodebug_reads "$T/$sc.elf"
		# QEMU's own dump, fixed (drgn needs the kernel image's PT_LOAD), unwinds the same
		"$VMCOREFIX" dump.elf -o "$T/qemu.elf" >/dev/null
		a=$(drgn_cpu0 "$T/$sc.elf")
		b=$(drgn_cpu0 "$T/qemu.elf")
		echo "converted: $a"
		echo "QEMU's:    $b"
		[ "$a" = "$b" ]
		# a stack of frames, not only the registers' pc
		[ "$(wc -w <<<"$a")" -ge 4 ]
		rm -f "$T/$sc.elf" "$T/qemu.elf"
	done
}

@test "aarch64 migration stream as a kdump (--output-format kdump, 4 KiB blocks): QEMU's RAM and notes, drgn reads it (QEMU's own 64 KiB-block kdump it cannot), --check agrees" {
	need_vmlinux
	for sc in vmcoreinfo nodevice; do
		arch_scenario "$sc"
		rm -f "$T/$sc.kd"
		run "$VMCOREFIX" migration.stream -o "$T/$sc.kd" --output-format kdump
		[ "$status" -eq 0 ] || { echo "$output" >&2; return 1; }
		[[ "$output" == *"a kdump-compressed dump of the saved state's memory: header version 6, 4096-byte blocks"* ]]
		"$SRCDIR/tests/tools/elfcmp.py" "$T/$sc.kd" dump.elf
		verdict "$T/$sc.kd"
		# the same vCPU stack as the converted ELF
		"$VMCOREFIX" migration.stream -o "$T/$sc.elf" >/dev/null
		a=$(drgn_cpu0 "$T/$sc.kd")
		b=$(drgn_cpu0 "$T/$sc.elf")
		[ -n "$a" ] && [ "$a" = "$b" ]
		rm -f "$T/$sc.kd" "$T/$sc.elf"
	done
}
