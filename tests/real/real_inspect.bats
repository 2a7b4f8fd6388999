#!/usr/bin/env bats
# --inspect and the memory read path on dumps that real QEMU 7.2 wrote of a real
# KASLR guest (tests/real/make-dumps.sh), checked against what the guest recorded.

load ../bats/helpers

setup_file() {
	real_setup || true
}

setup() {
	[ -x "$VMCOREFIX" ] || skip "vmcore-fix not built ($VMCOREFIX)"
	[ -x "$VFREAD" ] || skip "vfread not built ($VFREAD)"
	need_jq
	real_dir
	S=$REAL/vmcoreinfo
	# shellcheck disable=SC1091
	. "$S/facts.env"
}

hex() { printf '0x%x' "$1"; }

@test "real ELF: format, layout and VMCOREINFO match the guest" {
	inspect_json "$S/dump.elf"
	[ "$status" -eq 1 ]
	[ "$(jget .format)" = elf ]
	[ "$(jget .flattened)" = false ]
	[ "$(jget .class)" = 64 ]
	[ "$(jget .machine)" = x86_64 ]
	[ "$(jget .elf.e_phoff)" = "$ELF_E_PHOFF" ]
	[ "$(jget .elf.e_ehsize)" = 8 ]
	[ "$(jget .vmcoreinfo.origin)" = note ]
	[ "$(jget '.vmcoreinfo.values.OSRELEASE')" = "$OSRELEASE" ]
	[ "$(jget '.vmcoreinfo.values.KERNELOFFSET')" = "$KERNELOFFSET" ]
	[ "$(jget '.vmcoreinfo.values["NUMBER(phys_base)"]')" = "$PHYS_BASE" ]
	[ "$(jget .vmcoreinfo.phys_base)" = "$(hex "$PHYS_BASE_HEX")" ]
	has_problem elf-phdrs-not-after-ehdr
	has_problem elf-bad-ehsize
	! has_problem no-vmcoreinfo || false
}

@test "real ELF: memory ranges are QEMU's PT_LOADs" {
	inspect_json "$S/dump.elf"
	got=$(jget '[.elf.program_headers[] | select(.type == "PT_LOAD") |
		"\(.paddr)+\(.filesz)@\(.offset)"] | join(" ")')
	want=""
	for l in $ELF_PT_LOADS; do
		p=${l%%+*}; rest=${l#*+}; sz=${rest%@*}; off=${rest#*@}
		want="$want $(hex "$p")+$((sz))@$(hex "$off")"
	done
	[ "$got" = "${want# }" ]
}

@test "real kdump-zlib (raw and flattened): QEMU's wrong phys_base is found" {
	for f in dump.kdump-zlib dump.kdump-zlib.flat; do
		inspect_json "$S/$f"
		[ "$status" -eq 1 ]
		[ "$(jget .format)" = kdump ]
		[ "$(jget .compression)" = zlib ]
		[ "$(jget .kdump.header_version)" = "$KDUMP_HEADER_VERSION" ]
		[ "$(jget .kdump.block_size)" = "$KDUMP_BLOCK_SIZE" ]
		[ "$(jget .kdump.phys_base)" = "$(hex "$KDUMP_SUB_PHYS_BASE")" ]
		[ "$(jget .kdump.offset_vmcoreinfo)" = "$(hex "$KDUMP_OFFSET_VMCOREINFO")" ]
		[ "$(jget .kdump.size_vmcoreinfo)" = "$KDUMP_SIZE_VMCOREINFO" ]
		[ "$(jget .vmcoreinfo.values.OSRELEASE)" = "$OSRELEASE" ]
		[ "$(jget .vmcoreinfo.phys_base)" = "$(hex "$PHYS_BASE_HEX")" ]
		has_problem kdump-phys-base-mismatch
		has_problem kdump-utsname-incomplete
		! has_problem kdump-vmcoreinfo-pointer-wrong || false
		! has_problem kdump-vmcoreinfo-pointer-missing || false
	done
	[ "$(jq -r .flattened <<<"$json")" = true ]
	jq -r '.problems[] | select(.id == "kdump-phys-base-mismatch") | .hint' <<<"$json" | grep -q 'as hex'
}

@test "real kdump with phys_base corrected: no phys_base problem" {
	inspect_json "$S/dump.kdump-zlib.fixed-phys-base"
	! has_problem kdump-phys-base-mismatch || false
	[ "$(jget .kdump.phys_base)" = "$(hex "$PHYS_BASE_HEX")" ]
}

@test "makedumpfile outputs (zlib, lzo, none, flattened, ELF) are read" {
	for v in mdf-zlib-d31:zlib mdf-lzo-d31:lzo mdf-none-d31:none mdf-zlib-d31.flat:zlib; do
		f=dump.${v%%:*}
		[ -e "$S/$f" ] || continue
		inspect_json "$S/$f"
		[ "$(jget .format)" = kdump ]
		[ "$(jget .compression)" = "${v#*:}" ]
		[ "$(jget .kdump.utsname.release)" = "$OSRELEASE" ]
		[ "$(jget .kdump.dump_level)" = 31 ]
		[ "$(jget .vmcoreinfo.values.OSRELEASE)" = "$OSRELEASE" ]
		! has_problem kdump-phys-base-mismatch || false
	done
	inspect_json "$S/dump.mdf-elf-d31"
	[ "$(jget .format)" = elf ]
	[ "$(jget .vmcoreinfo.values.OSRELEASE)" = "$OSRELEASE" ]
	! has_problem elf-phdrs-not-after-ehdr || false
}

# The note QEMU copied into the dump is the guest's note at the address the guest
# published in /sys/kernel/vmcoreinfo: read it back through each dump's memory.
@test "guest memory at the recorded note address holds the dump's VMCOREINFO note" {
	for f in dump.elf dump.kdump-zlib dump.kdump-zlib.flat dump.mdf-zlib-d31 dump.mdf-lzo-d31; do
		[ -e "$S/$f" ] || continue
		inspect_json "$S/$f"
		off=$(jget '.notes[] | select(.name == "VMCOREINFO") | .offset')
		descsz=$(jget '.notes[] | select(.name == "VMCOREINFO") | .descsz')
		[ -n "$off" ]
		len=$((12 + 12 + descsz))
		"$VFREAD" "$S/$f" "$VMCI_PADDR" "$len" > "$BATS_TEST_TMPDIR/mem"
		if [ "$f" = dump.kdump-zlib.flat ]; then
			# the note's file offset is logical: take it from the reassembled twin
			src=$S/dump.kdump-zlib
		else
			src=$S/$f
		fi
		dd if="$src" of="$BATS_TEST_TMPDIR/note" bs=1 skip=$((off)) count="$len" status=none
		cmp "$BATS_TEST_TMPDIR/mem" "$BATS_TEST_TMPDIR/note"
	done
}

@test "the same physical pages read alike from ELF, kdump, flattened and makedumpfile dumps" {
	addrs="$VMCI_PADDR $GUEST_KERNEL_CODE_PADDR $((GUEST_KERNEL_CODE_PADDR + 0x200000)) 0x100000 0x8f000"
	for a in $addrs; do
		"$VFREAD" "$S/dump.elf" "$a" 65536 > "$BATS_TEST_TMPDIR/ref"
		for f in dump.kdump-zlib dump.kdump-zlib.flat dump.mdf-zlib-d31 dump.mdf-lzo-d31 \
			 dump.mdf-none-d31 dump.mdf-zlib-d31.flat dump.mdf-elf-d31; do
			[ -e "$S/$f" ] || continue
			rc=0
			"$VFREAD" "$S/$f" "$a" 65536 > "$BATS_TEST_TMPDIR/got" || rc=$?
			case $f in
			dump.mdf-*) [ "$rc" = 0 ] || [ "$rc" = 4 ] || [ "$rc" = 3 ] ;;  # filtered: excluded allowed
			*) [ "$rc" = 0 ] ;;
			esac
			[ "$rc" != 0 ] || cmp "$BATS_TEST_TMPDIR/ref" "$BATS_TEST_TMPDIR/got"
		done
	done
	# kernel text is never filtered by -d 31
	"$VFREAD" "$S/dump.mdf-zlib-d31" "$GUEST_KERNEL_CODE_PADDR" 4096 > /dev/null
}

@test "addresses outside RAM are 'not present', not zeros" {
	run "$VFREAD" "$S/dump.elf" 0x40000000 16
	[ "$status" -eq 3 ]
	[[ "$output" == *"0x40000000"* ]]
	run "$VFREAD" "$S/dump.kdump-zlib" 0x40000000 16
	[ "$status" -eq 3 ]
}

@test "guest without the vmcoreinfo device or without qemu_fw_cfg: no-vmcoreinfo" {
	for sc in nodevice nofwcfg; do
		[ -d "$REAL/$sc" ] || continue
		for f in dump.elf dump.kdump-zlib dump.kdump-zlib.flat; do
			inspect_json "$REAL/$sc/$f"
			[ "$status" -eq 1 ]
			has_problem no-vmcoreinfo
			[ "$(jget .vmcoreinfo)" = null ]
		done
		[ "$(jget .kdump.phys_base)" = 0x0 ]
	done
}

@test "the guest's note is found in guest memory from its sysfs line or fw_cfg entry, in every scenario" {
	for sc in vmcoreinfo nodevice nofwcfg; do
		[ -d "$REAL/$sc" ] || continue
		for f in dump.elf dump.kdump-zlib dump.kdump-zlib.flat; do
			run "$VMCOREFIX" --inspect --json --region-file "$REAL/$sc/guest-vmcoreinfo.txt" "$REAL/$sc/$f"
			json=$output
			[ "$(jget .guest_note.valid)" = true ]
			[ "$(jget .guest_note.osrelease)" = "$OSRELEASE" ]
			[ "$(jget .guest_note.paddr)" = "$(printf '0x%x' "$(. "$REAL/$sc/facts.env"; echo "$VMCI_PADDR")")" ]
			! has_problem guest-note-invalid || false
			if [ "$sc" = vmcoreinfo ]; then
				[ "$(jget .guest_note.same_as_dump_note)" = true ]
			fi
		done
	done
	run "$VMCOREFIX" --inspect --json --fw-cfg "$S/fwcfg-vmcoreinfo.raw" "$S/dump.mdf-zlib-d31"
	json=$output
	[ "$(jget .guest_note.valid)" = true ]
	[ "$(jget .guest_note.same_as_dump_note)" = true ]
}
