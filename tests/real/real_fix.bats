#!/usr/bin/env bats
# The fixer on dumps real QEMU 7.2 wrote: makedumpfile reads the output.

load ../bats/helpers

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
	consumers_ok "$BATS_TEST_TMPDIR/fixed" "$MARKER"
	# makedumpfile cannot re-filter QEMU's bitmaps, which also cover the VGA and BIOS
	"$VMCOREFIX" "$S/dump.kdump-zlib" -o "$BATS_TEST_TMPDIR/kept" --keep-device-pages >/dev/null
	run makedumpfile -c -d 31 "$BATS_TEST_TMPDIR/kept" "$BATS_TEST_TMPDIR/kept.d31"
	[ "$status" -ne 0 ]
}

@test "QEMU's flattened kdump-zlib comes out raw (makedumpfile reads it); flattened when asked, it reassembles to the same" {
	run makedumpfile --dump-dmesg "$S/dump.kdump-zlib.flat" "$BATS_TEST_TMPDIR/before.txt"
	[ "$status" -ne 0 ]
	run "$VMCOREFIX" --check "$S/dump.kdump-zlib.flat"
	[ "$status" -eq 1 ]
	"$VMCOREFIX" "$S/dump.kdump-zlib.flat" -o "$BATS_TEST_TMPDIR/fixed" >/dev/null
	! head -c 12 "$BATS_TEST_TMPDIR/fixed" | grep -q makedumpfile || false
	consumers_ok "$BATS_TEST_TMPDIR/fixed" "$MARKER"
	run "$VMCOREFIX" --check "$BATS_TEST_TMPDIR/fixed"
	[ "$status" -eq 0 ]
	"$VMCOREFIX" "$S/dump.kdump-zlib.flat" -o "$BATS_TEST_TMPDIR/fixed.flat" --output-format flattened >/dev/null
	head -c 12 "$BATS_TEST_TMPDIR/fixed.flat" | grep -q makedumpfile
	makedumpfile -R "$BATS_TEST_TMPDIR/re" < "$BATS_TEST_TMPDIR/fixed.flat" >/dev/null 2>&1
	cmp "$BATS_TEST_TMPDIR/fixed" "$BATS_TEST_TMPDIR/re"
	cmp <("$VMCOREFIX" "$S/dump.kdump-zlib" -o "$BATS_TEST_TMPDIR/raw" >/dev/null; cat "$BATS_TEST_TMPDIR/raw") "$BATS_TEST_TMPDIR/re"
}

@test "--in-place on QEMU's flattened and raw kdump files writes the same bytes as -o" {
	for f in dump.kdump-zlib.flat dump.kdump-zlib; do
		form=raw; healthy=0
		[ "$f" = dump.kdump-zlib.flat ] && { form=flattened; healthy=1; }
		"$VMCOREFIX" "$S/$f" -o "$BATS_TEST_TMPDIR/want" --output-format $form >/dev/null
		cp "$S/$f" "$BATS_TEST_TMPDIR/ip"
		chmod u+w "$BATS_TEST_TMPDIR/ip"
		if [ $form = flattened ]; then
			# a flattened stream stays flattened in place: only when asked for
			run "$VMCOREFIX" --in-place "$BATS_TEST_TMPDIR/ip"
			[ "$status" -eq 5 ]
			cmp "$BATS_TEST_TMPDIR/ip" "$S/$f"
			"$VMCOREFIX" --in-place "$BATS_TEST_TMPDIR/ip" --output-format flattened >/dev/null
		else
			"$VMCOREFIX" --in-place "$BATS_TEST_TMPDIR/ip" >/dev/null
		fi
		cmp "$BATS_TEST_TMPDIR/ip" "$BATS_TEST_TMPDIR/want"
		# flattened is not healthy: makedumpfile and drgn cannot read it
		run "$VMCOREFIX" --check "$BATS_TEST_TMPDIR/ip"
		[ "$status" -eq $healthy ]
		rm -f "$BATS_TEST_TMPDIR/ip" "$BATS_TEST_TMPDIR/want"
	done
}

@test "the fix changes only headers and bitmaps: page descriptors and data are untouched" {
	"$VMCOREFIX" "$S/dump.kdump-zlib" -o "$BATS_TEST_TMPDIR/fixed" >/dev/null
	n=$(cmp -l "$S/dump.kdump-zlib" "$BATS_TEST_TMPDIR/fixed" | wc -l)
	[ "$n" -ge 1 ]
	json=$("$VMCOREFIX" --inspect --json "$S/dump.kdump-zlib" || true)
	pd=$(( (1 + $(jget .kdump.sub_hdr_size) + $(jget .kdump.bitmap_blocks)) * $(jget .kdump.block_size) ))
	# cmp -l counts bytes from 1
	cmp -l "$S/dump.kdump-zlib" "$BATS_TEST_TMPDIR/fixed" | awk -v pd="$pd" '$1 > pd { exit 1 }'
	[ "$(stat -c %s "$S/dump.kdump-zlib")" = "$(stat -c %s "$BATS_TEST_TMPDIR/fixed")" ]
	json=$("$VMCOREFIX" --inspect --json "$BATS_TEST_TMPDIR/fixed")
	[ $(( (1 + $(jget .kdump.sub_hdr_size) + $(jget .kdump.bitmap_blocks)) * $(jget .kdump.block_size) )) -eq "$pd" ]
	[ "$(jget .kdump.max_pfn)" = $((0x20000)) ]
	run "$VMCOREFIX" "$BATS_TEST_TMPDIR/fixed" --dry-run
	[[ "$output" == *"nothing to fix"* ]]
	# every RAM page reads as before
	"$VFREAD" "$S/dump.kdump-zlib" 0x1000000 0x100000 > "$BATS_TEST_TMPDIR/a"
	"$VFREAD" "$BATS_TEST_TMPDIR/fixed" 0x1000000 0x100000 > "$BATS_TEST_TMPDIR/b"
	cmp "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
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
	! has_problem kdump-utsname-incomplete || false
	[ "$(jget '.problems | length')" = 0 ]
}

@test "QEMU's ELF: makedumpfile fails on it, and finds the marker after the fix" {
	run makedumpfile --dump-dmesg "$S/dump.elf" "$BATS_TEST_TMPDIR/before.txt"
	[ "$status" -ne 0 ]
	"$VMCOREFIX" "$S/dump.elf" -o "$BATS_TEST_TMPDIR/fixed.elf" >/dev/null
	consumers_ok "$BATS_TEST_TMPDIR/fixed.elf" "$MARKER"
}

@test "ELF dumps without a note (no device, no qemu_fw_cfg): the note is added from the guest's sysfs line" {
	for sc in nodevice nofwcfg; do
		[ -d "$REAL/$sc" ] || continue
		marker=$(. "$REAL/$sc/facts.env"; echo "$MARKER")
		run "$VMCOREFIX" "$REAL/$sc/dump.elf" -o "$BATS_TEST_TMPDIR/$sc.elf" --no-scan
		[ "$status" -eq 3 ]
		"$VMCOREFIX" "$REAL/$sc/dump.elf" -o "$BATS_TEST_TMPDIR/$sc.elf" \
			--region-file "$REAL/$sc/guest-vmcoreinfo.txt" >/dev/null
		consumers_ok "$BATS_TEST_TMPDIR/$sc.elf" "$marker"
		rm -f "$BATS_TEST_TMPDIR/$sc.elf"
	done
}

@test "kdump dumps without a note: the guest's note is added; makedumpfile and drgn read them" {
	for sc in nodevice nofwcfg; do
		[ -d "$REAL/$sc" ] || continue
		marker=$(. "$REAL/$sc/facts.env"; echo "$MARKER")
		run "$VMCOREFIX" "$REAL/$sc/dump.kdump-zlib" -o "$BATS_TEST_TMPDIR/$sc.kdump" --no-scan
		[ "$status" -eq 3 ]
		"$VMCOREFIX" "$REAL/$sc/dump.kdump-zlib" -o "$BATS_TEST_TMPDIR/$sc.kdump" \
			--region-file "$REAL/$sc/guest-vmcoreinfo.txt" >/dev/null
		consumers_ok "$BATS_TEST_TMPDIR/$sc.kdump" "$marker"
		if /usr/bin/python3 -c 'import drgn' 2>/dev/null; then
			/usr/bin/python3 -c 'import drgn, sys; p = drgn.Program(); p.set_core_dump(sys.argv[1])' \
				"$BATS_TEST_TMPDIR/$sc.kdump"
		fi
	done
	[ -e "$S/fwcfg-vmcoreinfo.raw" ]
}

@test "real dumps with the note removed are fixed from the guest's fw_cfg entry alone" {
	for f in dump.elf dump.kdump-zlib; do
		strip_note "$S/$f" "$BATS_TEST_TMPDIR/stripped"
		json=$("$VMCOREFIX" --inspect --json "$BATS_TEST_TMPDIR/stripped" || true)
		has_problem no-vmcoreinfo
		run "$VMCOREFIX" "$BATS_TEST_TMPDIR/stripped" -o "$BATS_TEST_TMPDIR/fixed" --no-scan
		[ "$status" -eq 3 ]
		"$VMCOREFIX" "$BATS_TEST_TMPDIR/stripped" -o "$BATS_TEST_TMPDIR/fixed" \
			--fw-cfg "$S/fwcfg-vmcoreinfo.raw" >/dev/null
		json=$("$VMCOREFIX" --inspect --json "$BATS_TEST_TMPDIR/fixed")
		[ "$(jget '.problems | length')" = 0 ]
		[ "$(jget .vmcoreinfo.values.OSRELEASE)" = "$OSRELEASE" ]
		consumers_ok "$BATS_TEST_TMPDIR/fixed" "$MARKER"
		rm -f "$BATS_TEST_TMPDIR/stripped" "$BATS_TEST_TMPDIR/fixed"
	done
}

@test "a flattened ELF dump (makedumpfile -F -E): raw by default, or fixed in its form; makedumpfile reads both" {
	makedumpfile -F -E -d 31 "$S/dump.elf.phdrs-first" > "$BATS_TEST_TMPDIR/in.flat" 2>/dev/null
	"$VMCOREFIX" "$BATS_TEST_TMPDIR/in.flat" -o "$BATS_TEST_TMPDIR/out" >/dev/null
	makedumpfile --dump-dmesg "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/dmesg0.txt" >/dev/null 2>&1
	grep -q "$MARKER" "$BATS_TEST_TMPDIR/dmesg0.txt"
	run "$VMCOREFIX" --check "$BATS_TEST_TMPDIR/out"
	[ "$status" -eq 0 ]
	"$VMCOREFIX" "$BATS_TEST_TMPDIR/in.flat" -o "$BATS_TEST_TMPDIR/out.flat" --output-format flattened >/dev/null
	head -c 12 "$BATS_TEST_TMPDIR/out.flat" | grep -q makedumpfile
	makedumpfile -R "$BATS_TEST_TMPDIR/re" < "$BATS_TEST_TMPDIR/out.flat" >/dev/null 2>&1
	makedumpfile --dump-dmesg "$BATS_TEST_TMPDIR/re" "$BATS_TEST_TMPDIR/dmesg.txt" >/dev/null 2>&1
	grep -q "$MARKER" "$BATS_TEST_TMPDIR/dmesg.txt"
	run "$VMCOREFIX" --check "$BATS_TEST_TMPDIR/out.flat"
	[ "$status" -eq 1 ]
}
