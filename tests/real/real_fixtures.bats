#!/usr/bin/env bats
# real_fixtures.bats - the real-QEMU fixtures (tests/real/make-dumps.sh) are what they
# claim to be. Reads the files with od/head/grep and the real makedumpfile; checks no
# vmcore-fix code. Skips every test when make-dumps.sh exits 77 (QEMU, kernel or
# busybox missing).

load bats-helpers

setup_file() { real_setup_file; }
setup() { real_setup; }

SCENARIOS="vmcoreinfo nodevice nofwcfg"

@test "real: make-dumps.sh prints a complete cache directory" {
	[ -d "$REAL_DIR" ]
	[ -f "$REAL_DIR/COMPLETE" ]
	# shellcheck disable=SC1091
	. "$REAL_DIR/generation.env"
	assert_eq "$(basename "$REAL_DIR")" "$KEY" "cache key"
	case "$KEY" in "${KERNEL_VERSION}_qemu-${QEMU_VERSION}_ram${RAM_MB}_"*) ;; *) false ;; esac
	[ -d "$REAL_DIR/vmcoreinfo" ]
	# Nothing half-made is left next to it.
	run find "$(dirname "$REAL_DIR")" -maxdepth 1 -name ".tmp-$KEY.*"
	assert_eq "$output" "" "leftover temp dirs"
}

@test "real: a second run is a cache hit: same path, fast, only the path on stdout" {
	local t0=$SECONDS out
	out=$(VMCOREFIX_REAL_FORCE=0 "$REAL_SRCDIR/tests/real/make-dumps.sh" 2>/dev/null)
	assert_eq "$out" "$REAL_DIR" "stdout"
	[ $((SECONDS - t0)) -le 10 ]
}

@test "real: every scenario has its files, non-empty" {
	local s
	for s in $SCENARIOS; do
		[ -d "$REAL_DIR/$s" ] || continue
		cd "$REAL_DIR/$s"
		assert_nonempty dump.elf dump.kdump-zlib.flat dump.kdump-zlib migration.stream \
			guest-vmcoreinfo.txt iomem.txt marker.txt osrelease.txt console.log facts.env \
			vmcoreinfo-note.txt qmp.log qemu-cmdline.txt
	done
	cd "$REAL_DIR/vmcoreinfo"
	assert_nonempty fwcfg-vmcoreinfo.raw variants.txt makedumpfile.log \
		dump.kdump-zlib.fixed-phys-base dump.elf.phdrs-first \
		dump.mdf-zlib-d31 dump.mdf-lzo-d31 dump.mdf-none-d31 dump.mdf-elf-d31 dump.mdf-zlib-d31.flat
}

@test "real: facts.env has every documented key" {
	local s k
	for s in $SCENARIOS; do
		[ -d "$REAL_DIR/$s" ] || continue
		for k in SCENARIO MARKER VMCI_PADDR VMCI_SIZE OSRELEASE KERNEL_VERSION QEMU_VERSION RAM_MB \
			PHYS_BASE PHYS_BASE_HEX KERNELOFFSET NOTE_IN_DUMP FWCFG_RAW_PRESENT \
			ELF_E_PHOFF KDUMP_SUB_PHYS_BASE; do
			(
				# shellcheck disable=SC1091
				. "$REAL_DIR/$s/facts.env"
				[ -n "${!k}" ] || { echo "$s/facts.env: $k missing" >&2; exit 1; }
			)
		done
	done
}

@test "real: dump.elf files are x86_64 ELF64 cores" {
	local s
	for s in $SCENARIOS; do
		[ -d "$REAL_DIR/$s" ] || continue
		cd "$REAL_DIR/$s"
		assert_eq "$(head -c 4 dump.elf | od -An -tx1 | tr -d ' \n')" 7f454c46 "$s ELF magic"
		assert_eq "$(le_hex dump.elf 4 1)" 0x2 "$s ELFCLASS64"
		assert_eq "$(le_hex dump.elf 5 1)" 0x1 "$s ELFDATA2LSB"
		assert_eq "$(le_hex dump.elf 16 2)" 0x4 "$s ET_CORE"
		assert_eq "$(le_hex dump.elf 18 2)" 0x3e "$s EM_X86_64"
	done
	cd "$REAL_DIR/vmcoreinfo"
	assert_eq "$(le_hex dump.mdf-elf-d31 16 2)" 0x4 "makedumpfile's ELF is ET_CORE"
}

@test "real: QEMU 7.2's ELF layout: section headers first, e_phoff 0xc0, e_ehsize 8" {
	real_scenario vmcoreinfo
	case "$QEMU_VERSION" in 7.2.*) ;; *) skip "layout facts are for QEMU 7.2 (this is $QEMU_VERSION)" ;; esac
	assert_eq "$(le_hex dump.elf 0x20 8)" 0xc0 e_phoff
	assert_eq "$(le_hex dump.elf 0x28 8)" 0x40 e_shoff
	assert_eq "$(le_hex dump.elf 0x34 2)" 0x8 e_ehsize
	# The fix-up for makedumpfile moved them to right after the ELF header.
	assert_eq "$(le_hex dump.elf.phdrs-first 0x20 8)" 0x40 "fixed e_phoff"
	assert_eq "$(le_hex dump.elf.phdrs-first 0x38 2)" "$(le_hex dump.elf 0x38 2)" "e_phnum kept"
}

@test "real: QEMU's kdump output is flattened; makedumpfile -R gives a KDUMP file" {
	local s f
	for s in $SCENARIOS; do
		[ -d "$REAL_DIR/$s" ] || continue
		cd "$REAL_DIR/$s"
		assert_eq "$(head -c 16 dump.kdump-zlib.flat | tr -d '\0')" makedumpfile "$s flattened signature"
		assert_eq "$(be_hex dump.kdump-zlib.flat 16 8)" 0x1 "$s flattened type"
		assert_eq "$(be_hex dump.kdump-zlib.flat 24 8)" 0x1 "$s flattened version"
		assert_eq "$(head -c 8 dump.kdump-zlib)" "KDUMP   " "$s kdump signature"
		assert_eq "$(le_hex dump.kdump-zlib 0x1ac 4)" 0x1000 "$s block_size"
		# status: zlib-compressed pages
		assert_eq "$(le_hex dump.kdump-zlib 0x1a8 4)" 0x1 "$s status"
	done
	cd "$REAL_DIR/vmcoreinfo"
	assert_eq "$(head -c 16 dump.mdf-zlib-d31.flat | tr -d '\0')" makedumpfile "makedumpfile -F output"
	for f in dump.mdf-zlib-d31 dump.mdf-lzo-d31 dump.mdf-none-d31 dump.kdump-zlib.fixed-phys-base; do
		assert_eq "$(head -c 8 "$f")" "KDUMP   " "$f signature"
	done
	assert_eq "$(le_hex dump.mdf-zlib-d31 0x1a8 4)" 0x1 "zlib status"
	assert_eq "$(le_hex dump.mdf-lzo-d31 0x1a8 4)" 0x2 "lzo status"
	assert_eq "$(le_hex dump.mdf-none-d31 0x1a8 4)" 0x0 "uncompressed status"
}

@test "real: guest-vmcoreinfo.txt is '0x<16 hex digits> <hex size>' and matches facts" {
	local s a z
	for s in $SCENARIOS; do
		[ -d "$REAL_DIR/$s" ] || continue
		real_scenario "$s"
		grep -Eqx '0x[0-9a-f]{16} [0-9a-f]+' guest-vmcoreinfo.txt
		read -r a z <guest-vmcoreinfo.txt
		assert_eq "$(hexnorm "$a")" "$VMCI_PADDR" "$s paddr"
		assert_eq "$(hexnorm "0x$z")" "$VMCI_SIZE" "$s size"
		assert_eq "$(cat osrelease.txt)" "$OSRELEASE" "$s osrelease"
		assert_eq "$(cat marker.txt)" "$MARKER" "$s marker"
	done
}

@test "real: the fw_cfg etc/vmcoreinfo entry decodes to the paddr/size the guest printed" {
	real_scenario vmcoreinfo
	assert_eq "$(stat -c %s fwcfg-vmcoreinfo.raw)" 16 "entry size"
	assert_eq "$(le_hex fwcfg-vmcoreinfo.raw 2 2)" 0x1 "guest_format (ELF)"
	le_hex fwcfg-vmcoreinfo.raw 0 2 >/dev/null # host_format: whatever the guest wrote back
	assert_eq "$(le_hex fwcfg-vmcoreinfo.raw 4 4)" "$VMCI_SIZE" "size"
	assert_eq "$(le_hex fwcfg-vmcoreinfo.raw 8 8)" "$VMCI_PADDR" "paddr"
	local a z
	read -r a z <guest-vmcoreinfo.txt
	assert_eq "$(le_hex fwcfg-vmcoreinfo.raw 8 8)" "$(hexnorm "$a")" "paddr vs guest-vmcoreinfo.txt"
	assert_eq "$(le_hex fwcfg-vmcoreinfo.raw 4 4)" "$(hexnorm "0x$z")" "size vs guest-vmcoreinfo.txt"
}

@test "real: no fw_cfg entry was readable in nodevice and nofwcfg" {
	local s
	for s in nodevice nofwcfg; do
		[ -d "$REAL_DIR/$s" ] || continue
		[ ! -e "$REAL_DIR/$s/fwcfg-vmcoreinfo.raw" ]
		grep -qx FWCFG_RAW_PRESENT=0 "$REAL_DIR/$s/facts.env"
	done
}

@test "real: vmcoreinfo scenario: QEMU embedded the guest's note; it matches the facts" {
	real_scenario vmcoreinfo
	assert_eq "$NOTE_IN_DUMP" 1
	run /usr/bin/python3 "$REAL_SRCDIR/tests/real/elfnotes.py" --vmcoreinfo dump.elf
	[ "$status" -eq 0 ]
	grep -qx "OSRELEASE=$OSRELEASE" <<<"$output"
	grep -qx "NUMBER(phys_base)=$PHYS_BASE" <<<"$output"
	grep -qx "KERNELOFFSET=$KERNELOFFSET" <<<"$output"
	grep -qx "PAGESIZE=4096" <<<"$output"
	# The note's own text is also in the dump's bytes, verbatim.
	grep -qaF "NUMBER(phys_base)=$PHYS_BASE" dump.elf
	# phys_base agrees with the guest's own view (iomem "Kernel code" and kallsyms _text).
	assert_eq "$(hexnorm "$((GUEST_KERNEL_CODE_PADDR - (GUEST_TEXT_VADDR - 0xffffffff80000000)))")" \
		"$(hexnorm "$PHYS_BASE")" "phys_base from iomem/kallsyms"
	assert_eq "$(hexnorm "$((GUEST_TEXT_VADDR - 0xffffffff81000000))")" "0x$KERNELOFFSET" KERNELOFFSET
}

@test "real: vmcoreinfo scenario: QEMU 7.2's kdump phys_base is the note's digits read as hex" {
	real_scenario vmcoreinfo
	case "$QEMU_VERSION" in 7.2.*) ;; *) skip "QEMU 7.2 behaviour (this is $QEMU_VERSION)" ;; esac
	local bs wrong
	bs=$(le_hex dump.kdump-zlib 0x1ac 4)
	# "-301989888" -> -0x301989888; "94371840" -> 0x94371840
	if [ "${PHYS_BASE#-}" != "$PHYS_BASE" ]; then wrong=$((-0x${PHYS_BASE#-})); else wrong=$((0x$PHYS_BASE)); fi
	assert_eq "$(le_hex dump.kdump-zlib "$bs" 8)" "$(hexnorm "$wrong")" "QEMU's sub-header phys_base"
	assert_eq "$(le_hex dump.kdump-zlib.fixed-phys-base "$bs" 8)" "$(hexnorm "$PHYS_BASE")" "fixed phys_base"
	# Only those 8 bytes differ.
	run cmp -l dump.kdump-zlib dump.kdump-zlib.fixed-phys-base
	[ "${#lines[@]}" -le 8 ]
}

@test "real: nodevice/nofwcfg: no note in the dump, kdump phys_base 0; the note is in guest RAM" {
	local s bs
	for s in nodevice nofwcfg; do
		[ -d "$REAL_DIR/$s" ] || continue
		real_scenario "$s"
		assert_eq "$NOTE_IN_DUMP" 0 "$s NOTE_IN_DUMP"
		run /usr/bin/python3 "$REAL_SRCDIR/tests/real/elfnotes.py" --vmcoreinfo dump.elf
		[ "$status" -eq 1 ]
		run /usr/bin/python3 "$REAL_SRCDIR/tests/real/elfnotes.py" --vmcoreinfo dump.kdump-zlib
		[ "$status" -eq 1 ]
		bs=$(le_hex dump.kdump-zlib 0x1ac 4)
		assert_eq "$(le_hex dump.kdump-zlib "$bs" 8)" 0x0 "$s kdump phys_base"
		# The guest's own note is still in RAM at VMCI_PADDR (what vmcore-fix can recover).
		grep -qx "OSRELEASE=$OSRELEASE" vmcoreinfo-note.txt
		grep -qx "NUMBER(phys_base)=$PHYS_BASE" vmcoreinfo-note.txt
		grep -qaF "NUMBER(phys_base)=$PHYS_BASE" dump.elf
	done
}

@test "real: the marker is in every scenario's guest memory" {
	local s
	for s in $SCENARIOS; do
		[ -d "$REAL_DIR/$s" ] || continue
		real_scenario "$s"
		grep -qaF "$MARKER" dump.elf
		# ... and the console shows the guest's dmesg had it.
		grep -qF "$MARKER" console.log
	done
}

@test "real: makedumpfile --dump-dmesg of fixed-up variants contains the marker" {
	command -v makedumpfile >/dev/null || skip "makedumpfile not installed"
	real_scenario vmcoreinfo
	local f
	for f in dump.mdf-zlib-d31 dump.mdf-lzo-d31 dump.kdump-zlib.fixed-phys-base dump.elf.phdrs-first; do
		rm -f "$BATS_TEST_TMPDIR/dmesg"
		run makedumpfile --dump-dmesg "$f" "$BATS_TEST_TMPDIR/dmesg"
		[ "$status" -eq 0 ] || { echo "$f: $output" >&2; false; }
		grep -qF "$MARKER" "$BATS_TEST_TMPDIR/dmesg"
	done
}

@test "real: makedumpfile fails on QEMU 7.2's own files (why the fix-ups exist)" {
	command -v makedumpfile >/dev/null || skip "makedumpfile not installed"
	real_scenario vmcoreinfo
	case "$QEMU_VERSION" in 7.2.*) ;; *) skip "QEMU 7.2 behaviour (this is $QEMU_VERSION)" ;; esac
	[ "$PHYS_BASE" != 0 ] || skip "phys_base happens to be 0 in this generation: QEMU's value is right"
	run makedumpfile --dump-dmesg dump.elf "$BATS_TEST_TMPDIR/d1"
	[ "$status" -ne 0 ]
	[[ "$output" == *"Can't get the number of PT_LOAD"* ]]
	run makedumpfile --dump-dmesg dump.kdump-zlib "$BATS_TEST_TMPDIR/d2"
	[ "$status" -ne 0 ]
}

@test "real: migration streams start with QEVM v3; the vmcoreinfo section holds the entry" {
	local s
	for s in $SCENARIOS; do
		[ -d "$REAL_DIR/$s" ] || continue
		cd "$REAL_DIR/$s"
		assert_eq "$(head -c 4 migration.stream)" QEVM "$s magic"
		assert_eq "$(be_hex migration.stream 4 4)" 0x3 "$s version"
	done
	real_scenario vmcoreinfo
	# Section FULL (0x04), id, idstr "vmcoreinfo", instance 0, version 1, then
	# has_vmcoreinfo u8, host_format be16, guest_format be16, size be32, paddr be64.
	local off
	# (the last match: the device sections follow RAM, whose pages could hold anything)
	# The idstr's length byte is 10, a newline to grep: the idstr starts a "line".
	off=$(LC_ALL=C grep -obaP '^vmcoreinfo\x00{7}\x01' migration.stream | tail -n 1 | cut -d: -f1)
	[ -n "$off" ]
	assert_eq "$(be_hex migration.stream $((off - 6)) 1)" 0x4 "section type FULL"
	off=$((off + 10 + 8))
	assert_eq "$(be_hex migration.stream "$off" 1)" 0x1 has_vmcoreinfo
	assert_eq "$(be_hex migration.stream $((off + 3)) 2)" 0x1 guest_format
	assert_eq "$(be_hex migration.stream $((off + 5)) 4)" "$VMCI_SIZE" size
	assert_eq "$(be_hex migration.stream $((off + 9)) 8)" "$VMCI_PADDR" paddr
}

@test "real: the QMP dumps were synchronous (query-dump said completed right away)" {
	local s
	for s in $SCENARIOS; do
		[ -d "$REAL_DIR/$s" ] || continue
		[ "$(grep -c '"status": "completed"' "$REAL_DIR/$s/qmp.log")" -ge 3 ]
	done
}
