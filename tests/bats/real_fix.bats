#!/usr/bin/env bats
# The fixer on dumps real QEMU 7.2 wrote: makedumpfile reads the output.

load helpers

setup_file() {
	real_setup || true
}

setup() {
	[ -x "$VMCOREFIX" ] || skip "vmcore-fix not built ($VMCOREFIX)"
	command -v makedumpfile >/dev/null || skip "makedumpfile not installed"
	real_dir
	S=$REAL/vmcoreinfo
	# shellcheck disable=SC1091
	. "$S/facts.env"
}

@test "QEMU's kdump-zlib: makedumpfile --dump-dmesg fails on it, and finds the marker after the fix" {
	run makedumpfile --dump-dmesg "$S/dump.kdump-zlib" "$BATS_TEST_TMPDIR/before.txt"
	[ "$status" -ne 0 ]
	run "$VMCOREFIX" "$S/dump.kdump-zlib" -o "$BATS_TEST_TMPDIR/fixed"
	[ "$status" -eq 0 ]
	[[ "$output" == *"phys_base"* ]]
	makedumpfile --dump-dmesg "$BATS_TEST_TMPDIR/fixed" "$BATS_TEST_TMPDIR/dmesg.txt" >/dev/null 2>&1
	grep -q "$MARKER" "$BATS_TEST_TMPDIR/dmesg.txt"
}

@test "QEMU's flattened kdump-zlib stays flattened; reassembled, makedumpfile reads it" {
	"$VMCOREFIX" "$S/dump.kdump-zlib.flat" -o "$BATS_TEST_TMPDIR/fixed.flat" >/dev/null
	head -c 12 "$BATS_TEST_TMPDIR/fixed.flat" | grep -q makedumpfile
	makedumpfile -R "$BATS_TEST_TMPDIR/re" < "$BATS_TEST_TMPDIR/fixed.flat" >/dev/null 2>&1
	makedumpfile --dump-dmesg "$BATS_TEST_TMPDIR/re" "$BATS_TEST_TMPDIR/dmesg.txt" >/dev/null 2>&1
	grep -q "$MARKER" "$BATS_TEST_TMPDIR/dmesg.txt"
	cmp <("$VMCOREFIX" "$S/dump.kdump-zlib" -o "$BATS_TEST_TMPDIR/raw" >/dev/null; cat "$BATS_TEST_TMPDIR/raw") "$BATS_TEST_TMPDIR/re"
}

@test "the fix changes only the header's utsname and the sub-header's phys_base" {
	"$VMCOREFIX" "$S/dump.kdump-zlib" -o "$BATS_TEST_TMPDIR/fixed" >/dev/null
	n=$(cmp -l "$S/dump.kdump-zlib" "$BATS_TEST_TMPDIR/fixed" | wc -l)
	[ "$n" -ge 1 ]
	# cmp -l counts bytes from 1: utsname is 0xc..0x191, phys_base 0x1000..0x1007
	cmp -l "$S/dump.kdump-zlib" "$BATS_TEST_TMPDIR/fixed" |
		awk '{ if (!(($1 >= 13 && $1 <= 402) || ($1 >= 4097 && $1 <= 4104))) exit 1 }'
	run "$VMCOREFIX" "$BATS_TEST_TMPDIR/fixed" --dry-run
	[[ "$output" == *"nothing to fix"* ]]
}

@test "drgn (libkdumpfile) opens the fixed kdump; the header utsname is the guest's" {
	/usr/bin/python3 -c 'import drgn' 2>/dev/null || skip "python3-drgn not installed"
	run /usr/bin/python3 -c 'import drgn, sys; p = drgn.Program(); p.set_core_dump(sys.argv[1])' "$S/dump.kdump-zlib"
	[ "$status" -ne 0 ]
	[[ "$output" == *"ARCH_NAME"* ]]
	"$VMCOREFIX" "$S/dump.kdump-zlib" -o "$BATS_TEST_TMPDIR/fixed" >/dev/null
	/usr/bin/python3 -c 'import drgn, sys; p = drgn.Program(); p.set_core_dump(sys.argv[1])' "$BATS_TEST_TMPDIR/fixed"
	run "$VMCOREFIX" --inspect --json "$BATS_TEST_TMPDIR/fixed"
	json=$output
	[ "$(jget .kdump.utsname.release)" = "$OSRELEASE" ]
	[ "$(jget .kdump.utsname.sysname)" = Linux ]
	! has_problem kdump-utsname-incomplete
	[ "$(jget '.problems | length')" = 0 ]
}

@test "QEMU's ELF: makedumpfile fails on it, and finds the marker after the fix" {
	run makedumpfile --dump-dmesg "$S/dump.elf" "$BATS_TEST_TMPDIR/before.txt"
	[ "$status" -ne 0 ]
	"$VMCOREFIX" "$S/dump.elf" -o "$BATS_TEST_TMPDIR/fixed.elf" >/dev/null
	makedumpfile --dump-dmesg "$BATS_TEST_TMPDIR/fixed.elf" "$BATS_TEST_TMPDIR/dmesg.txt" >/dev/null 2>&1
	grep -q "$MARKER" "$BATS_TEST_TMPDIR/dmesg.txt"
	makedumpfile -c -d 31 "$BATS_TEST_TMPDIR/fixed.elf" "$BATS_TEST_TMPDIR/filtered" >/dev/null 2>&1
	makedumpfile --dump-dmesg "$BATS_TEST_TMPDIR/filtered" "$BATS_TEST_TMPDIR/dmesg2.txt" >/dev/null 2>&1
	grep -q "$MARKER" "$BATS_TEST_TMPDIR/dmesg2.txt"
}

@test "ELF dumps without a note (no device, no qemu_fw_cfg): the note is added from the guest's sysfs line" {
	for sc in nodevice nofwcfg; do
		[ -d "$REAL/$sc" ] || continue
		marker=$(. "$REAL/$sc/facts.env"; echo "$MARKER")
		run "$VMCOREFIX" "$REAL/$sc/dump.elf" -o "$BATS_TEST_TMPDIR/$sc.elf"
		[ "$status" -eq 3 ]
		"$VMCOREFIX" "$REAL/$sc/dump.elf" -o "$BATS_TEST_TMPDIR/$sc.elf" \
			--region-file "$REAL/$sc/guest-vmcoreinfo.txt" >/dev/null
		makedumpfile --dump-dmesg "$BATS_TEST_TMPDIR/$sc.elf" "$BATS_TEST_TMPDIR/$sc.txt" >/dev/null 2>&1
		grep -q "$marker" "$BATS_TEST_TMPDIR/$sc.txt"
		rm -f "$BATS_TEST_TMPDIR/$sc.elf"
	done
}

@test "kdump dumps without a note: the guest's note is added; makedumpfile and drgn read them" {
	for sc in nodevice nofwcfg; do
		[ -d "$REAL/$sc" ] || continue
		marker=$(. "$REAL/$sc/facts.env"; echo "$MARKER")
		run "$VMCOREFIX" "$REAL/$sc/dump.kdump-zlib" -o "$BATS_TEST_TMPDIR/$sc.kdump"
		[ "$status" -eq 3 ]
		"$VMCOREFIX" "$REAL/$sc/dump.kdump-zlib" -o "$BATS_TEST_TMPDIR/$sc.kdump" \
			--region-file "$REAL/$sc/guest-vmcoreinfo.txt" >/dev/null
		makedumpfile --dump-dmesg "$BATS_TEST_TMPDIR/$sc.kdump" "$BATS_TEST_TMPDIR/$sc.txt" >/dev/null 2>&1
		grep -q "$marker" "$BATS_TEST_TMPDIR/$sc.txt"
		if /usr/bin/python3 -c 'import drgn' 2>/dev/null; then
			/usr/bin/python3 -c 'import drgn, sys; p = drgn.Program(); p.set_core_dump(sys.argv[1])' \
				"$BATS_TEST_TMPDIR/$sc.kdump"
		fi
	done
	[ -e "$S/fwcfg-vmcoreinfo.raw" ]
}

# Test tooling: drop the VMCOREINFO note from a copy of a real dump (ELF: the
# PT_NOTE ends before it; kdump: size_note ends before it and offset/size_vmcoreinfo
# are cleared), so the fix must take the note from guest memory.
strip_note() {  # IN OUT
	cp "$1" "$2"
	chmod u+w "$2"
	json=$("$VMCOREFIX" --inspect --json "$1" || true)
	hdr=$(jget '.notes[] | select(.name == "VMCOREINFO") | .offset')
	if [ "$(jget .format)" = elf ]; then
		/usr/bin/python3 - "$2" "$hdr" "$(jget .elf.e_phoff)" <<'PY'
import struct, sys
path, hdr, phoff = sys.argv[1], int(sys.argv[2], 16), int(sys.argv[3], 16)
with open(path, "r+b") as f:
    f.seek(phoff)
    ph = bytearray(f.read(56))
    typ, flags, off = struct.unpack_from("<IIQ", ph)
    assert typ == 4
    struct.pack_into("<QQ", ph, 32, hdr - off, hdr - off)
    f.seek(phoff)
    f.write(ph)
PY
	else
		/usr/bin/python3 - "$2" "$hdr" "$(jget .kdump.offset_note)" <<'PY'
import struct, sys
path, hdr, note = sys.argv[1], int(sys.argv[2], 16), int(sys.argv[3], 16)
with open(path, "r+b") as f:
    f.seek(0x1ac)
    bs, = struct.unpack("<I", f.read(4))
    f.seek(bs + 0x20)
    f.write(struct.pack("<QQQQ", 0, 0, note, hdr - note))
PY
	fi
}

@test "real dumps with the note removed are fixed from the guest's fw_cfg entry alone" {
	for f in dump.elf dump.kdump-zlib; do
		strip_note "$S/$f" "$BATS_TEST_TMPDIR/stripped"
		json=$("$VMCOREFIX" --inspect --json "$BATS_TEST_TMPDIR/stripped" || true)
		has_problem no-vmcoreinfo
		run "$VMCOREFIX" "$BATS_TEST_TMPDIR/stripped" -o "$BATS_TEST_TMPDIR/fixed"
		[ "$status" -eq 3 ]
		"$VMCOREFIX" "$BATS_TEST_TMPDIR/stripped" -o "$BATS_TEST_TMPDIR/fixed" \
			--fw-cfg "$S/fwcfg-vmcoreinfo.raw" >/dev/null
		json=$("$VMCOREFIX" --inspect --json "$BATS_TEST_TMPDIR/fixed")
		[ "$(jget '.problems | length')" = 0 ]
		[ "$(jget .vmcoreinfo.values.OSRELEASE)" = "$OSRELEASE" ]
		rm -f "$BATS_TEST_TMPDIR/dmesg.txt"
		makedumpfile --dump-dmesg "$BATS_TEST_TMPDIR/fixed" "$BATS_TEST_TMPDIR/dmesg.txt" >/dev/null 2>&1
		grep -q "$MARKER" "$BATS_TEST_TMPDIR/dmesg.txt"
		rm -f "$BATS_TEST_TMPDIR/stripped" "$BATS_TEST_TMPDIR/fixed"
	done
}
