#!/usr/bin/env bats
# real_scan.bats - the guest's VMCOREINFO note found by scanning guest memory
# (src/guest/scan.c, through tests/tools/scanread) in dumps that real QEMU 7.2 and
# makedumpfile wrote of a real KASLR guest (tests/real/make-dumps.sh), and in a raw
# guest RAM file (src/guest/rawmem.c) rebuilt from the ELF dump's PT_LOADs; checked
# against the address the guest published (facts.env VMCI_PADDR).
# Skips every test when make-dumps.sh exits 77 (QEMU, kernel or busybox missing).

load bats-helpers

setup_file() { real_setup_file; }

setup() {
	real_setup
	: "${BUILDDIR:=$REAL_SRCDIR/build}"
	SCANREAD=${SCANREAD:-$BUILDDIR/tests/tools/scanread}
	VFREAD=${VFREAD:-$BUILDDIR/tests/tools/vfread}
	[ -x "$SCANREAD" ] || skip "scanread not built ($SCANREAD)"
}

# scan_ok ARGS...: run scanread, require exit 0 and the chosen paddr = $VMCI_PADDR
scan_ok() {
	run "$SCANREAD" "$@"
	[ "$status" -eq 0 ] || { echo "scanread $* exited $status: $output" >&2; return 1; }
	assert_eq "$(sed -n 's/^paddr=//p' <<<"$output")" "$(hexnorm "$VMCI_PADDR")" "paddr of $*"
	# the one valid note is the guest's, corroborated by its text page
	assert_eq "$(grep -c '^candidate=note .* valid=1 corroborated=1 osrelease='"$OSRELEASE"'$' <<<"$output")" \
		1 "valid notes in $*"
	assert_eq "$(grep -c '^candidate=note .* valid=1' <<<"$output")" 1 "valid notes in $*"
	grep -q '^candidate=text .* corroborated=1 osrelease='"$OSRELEASE"'$' <<<"$output"
	grep -q '^why=one valid VMCOREINFO note' <<<"$output"
	# size: header, name and the padded text the guest wrote
	local descsz
	descsz=$(wc -c < vmcoreinfo-note.txt)
	assert_eq "$(sed -n 's/^size=//p' <<<"$output")" "$(hexnorm $((24 + (descsz + 3) / 4 * 4)))" "size of $*"
	echo "# $* -> $(sed -n 's/^paddr=//p;s/^seconds=/seconds /p' <<<"$output" | tr '\n' ' ')" >&3
}

@test "real: the scan finds the guest's note in ELF and kdump-zlib dumps, in every scenario" {
	for sc in vmcoreinfo nodevice nofwcfg; do
		[ -d "$REAL_DIR/$sc" ] || continue
		real_scenario "$sc"
		for f in dump.elf dump.kdump-zlib dump.kdump-zlib.flat; do
			scan_ok "$f"
			# every page of RAM was read: nothing is skipped in an unfiltered ELF dump
			if [ "$f" = dump.elf ]; then
				assert_eq "$(sed -n 's/^pages_skipped=//p' <<<"$output")" 0 "skipped in $f"
				assert_eq "$(sed -n 's/^pages_checked=//p' <<<"$output")" \
					"$(sed -n 's/^pages_total=//p' <<<"$output")" "checked in $f"
			fi
		done
	done
}

@test "real: the scan finds the note in makedumpfile's filtered dumps (-d 31)" {
	real_scenario vmcoreinfo
	for f in dump.mdf-zlib-d31 dump.mdf-lzo-d31 dump.mdf-elf-d31; do
		[ -e "$f" ] || continue
		scan_ok "$f"
	done
	# the kdump one skips the pages makedumpfile excluded
	scan_ok dump.mdf-zlib-d31
	[ "$(sed -n 's/^pages_skipped=//p' <<<"$output")" -gt 0 ]
}

# Rebuild the guest's RAM file (as memory-backend-file would hold it) from the
# PT_LOADs below RAM_MB of the ELF dump, at their physical offsets.
make_raw() {
	local out=$1 l p rest sz off ram=$((RAM_MB << 20))
	rm -f "$out"
	truncate -s "$ram" "$out"
	for l in $ELF_PT_LOADS; do
		p=${l%%+*}; rest=${l#*+}; sz=${rest%@*}; off=${rest#*@}
		[ $((p + sz)) -le "$ram" ] || continue
		dd if=dump.elf of="$out" bs=1M iflag=skip_bytes,count_bytes oflag=seek_bytes \
			conv=notrunc skip=$((off)) count=$((sz)) seek=$((p)) status=none
	done
}

@test "real: the scan finds the note in a raw RAM file with the q35 and pc presets" {
	for sc in vmcoreinfo nodevice; do
		[ -d "$REAL_DIR/$sc" ] || continue
		real_scenario "$sc"
		[ "$RAM_MB" -le 2048 ] || skip "the presets put RAM above 2 GiB elsewhere"
		raw=$BATS_TEST_TMPDIR/ram-$sc.raw
		make_raw "$raw"
		# the raw file reads like the dump where both have the bytes
		"$VFREAD" dump.elf "$VMCI_PADDR" 4096 > "$BATS_TEST_TMPDIR/ref"
		dd if="$raw" bs=4096 skip=$((VMCI_PADDR / 4096)) count=1 status=none > "$BATS_TEST_TMPDIR/got"
		cmp "$BATS_TEST_TMPDIR/ref" "$BATS_TEST_TMPDIR/got"
		scan_ok --raw "$raw" q35
		assert_eq "$(sed -n 's/^range=//p' <<<"$output")" "0x0+$(printf '0x%x' $((RAM_MB << 20)))" "q35 layout"
		scan_ok --raw "$raw" pc
		scan_ok --raw "$raw" "0:0:${RAM_MB}M"
		# the same RAM placed elsewhere: found at the shifted address
		run "$SCANREAD" --raw "$raw" "0:0x100000000:${RAM_MB}M"
		[ "$status" -eq 0 ]
		assert_eq "$(sed -n 's/^paddr=//p' <<<"$output")" "$(hexnorm $((VMCI_PADDR + 0x100000000)))" "shifted"
		rm -f "$raw"
	done
}

@test "real: a raw RAM layout past the file's end is refused at open, naming the range" {
	real_scenario vmcoreinfo
	raw=$BATS_TEST_TMPDIR/small.raw
	head -c 1M dump.elf > "$raw"
	run "$SCANREAD" --raw "$raw" "0:0:2M"
	[ "$status" -eq 1 ]
	[[ "$output" == *"range 1 '0:0:2M'"*"past the end of the file"* ]]
	[[ "$output" == *"$raw"* ]]
}
