#!/usr/bin/env bats
# The aarch64 real tier: Debian 12's arm64 kernel booted under qemu-system-aarch64 -M virt
# (TCG) by tests/real/make-arch-dumps.sh aarch64, its ELF and kdump dumps with
# (vmcoreinfo/) and without (nodevice/) -device vmcoreinfo. The fixtures are checked
# against what the guest said; vmcore-fix's output is read by drgn (python3-drgn reads
# aarch64 cores on this x86_64 host, with the foreign debug vmlinux); makedumpfile and
# crash on this host are x86_64-only, so drgn is the one consumer, and the verdict rule
# is: --check exits 0 exactly when drgn reads the file.
# What vmcore-fix still gets wrong on aarch64 kdump files is in real_aarch64_todo.bats.

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
