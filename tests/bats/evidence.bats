#!/usr/bin/env bats
# Where the guest's note comes from when the dump has none: a scan of guest memory
# (default), other guest memory (--memory: another dump, a raw RAM file), and the
# refusals when the evidence is missing or contradicts itself.

load helpers

setup() {
	need_binaries
	need_jq
}

# note_bin FILE OSRELEASE: a VMCOREINFO ELF note as the kernel keeps it
note_bin() {
	python3 -c 'import struct, sys
t = ("OSRELEASE=%s\nPAGESIZE=4096\nSYMBOL(_stext)=ffffffff80100000\nSYMBOL(swapper_pg_dir)=ffffffff82a0c000\nSYMBOL(init_uts_ns)=ffffffff80103000\nOFFSET(uts_namespace.name)=4\nNUMBER(phys_base)=0\n" % sys.argv[1]).encode()
sys.stdout.buffer.write(struct.pack("<III", 11, len(t), 0) + b"VMCOREINFO\0\0" + t + b"\0" * (-len(t) % 4))' "$2" > "$1"
}

# f.dump: a kdump whose note's page was filtered out; full.dump: an ELF dump
# of the same guest that has it.
gen_lacking_and_full() {
	gen f "format kdump
machine x86_64
compress zlib
vmcoreinfo-note no
$KTEXT_OK
ram 0 4M
vmcoreinfo-in-memory 0x2f3000
exclude 0x2f0000 0x10000"
	gen full "format elf
machine x86_64
vmcoreinfo-note no
$KTEXT_OK
ram 0 4M
vmcoreinfo-in-memory 0x2f3000"
}

@test "no note and no evidence: the note is found by scanning, and the report says so" {
	for fmt in elf kdump; do
		gen s$fmt "format $fmt
machine x86_64
prstatus 1
vmcoreinfo-note no
$KTEXT_OK
ram 0 4M
vmcoreinfo-in-memory 0x2f3000"
		run "$VMCOREFIX" "$BATS_TEST_TMPDIR/s$fmt.dump" -o "$BATS_TEST_TMPDIR/o$fmt" --json
		[ "$status" -eq 0 ]
		json=$output
		[ "$(jget .guest_note.paddr)" = 0x2f3000 ]
		[[ "$(jget .guest_note.region_from)" == "scan of the dump's memory: one valid"* ]]
		[ "$(jget .guest_note.memory_from)" = "the dump's memory" ]
		[ "$(jget .guest_note.pages_scanned)" -ge 1024 ]
		inspect_json "$BATS_TEST_TMPDIR/o$fmt"
		[ "$(jget .vmcoreinfo.origin)" = note ]
		[ "$(jget .vmcoreinfo.values.OSRELEASE)" = 6.1.0-56-amd64 ]
		run "$VMCOREFIX" --check "$BATS_TEST_TMPDIR/o$fmt"
		[ "$status" -eq 0 ]
		# --no-scan: nothing says where the note is
		run "$VMCOREFIX" "$BATS_TEST_TMPDIR/s$fmt.dump" -o "$BATS_TEST_TMPDIR/n$fmt" --no-scan
		[ "$status" -eq 3 ]
		[ ! -e "$BATS_TEST_TMPDIR/n$fmt" ]
	done
}

@test "a scan that finds nothing, or two different notes, refuses (exit 3) and says what to give" {
	gen e "format elf
machine x86_64
vmcoreinfo-note no
ram 0 4M"
	run "$VMCOREFIX" "$BATS_TEST_TMPDIR/e.dump" -o "$BATS_TEST_TMPDIR/out"
	[ "$status" -eq 3 ]
	[[ "$output" == *"--saved-state"* ]]
	[ ! -e "$BATS_TEST_TMPDIR/out" ]
	note_bin "$BATS_TEST_TMPDIR/a.bin" 6.1.0-56-amd64
	note_bin "$BATS_TEST_TMPDIR/b.bin" 5.10.0-old
	gen two "format elf
machine x86_64
vmcoreinfo-note no
ram 0 4M
bytes 0x103004 $(uts_hex Linux guest 5.10.0-old '#1 SMP' x86_64 '(none)')
file 0x100000 $BATS_TEST_TMPDIR/a.bin
file 0x200000 $BATS_TEST_TMPDIR/b.bin"
	run "$VMCOREFIX" "$BATS_TEST_TMPDIR/two.dump" -o "$BATS_TEST_TMPDIR/out"
	[ "$status" -eq 3 ]
	[[ "$output" == *0x100000*6.1.0-56-amd64*0x200000*5.10.0-old* ]]
	[ ! -e "$BATS_TEST_TMPDIR/out" ]
	# the user settles it
	run "$VMCOREFIX" "$BATS_TEST_TMPDIR/two.dump" -o "$BATS_TEST_TMPDIR/out" --region 0x200000,0x1000
	[ "$status" -eq 0 ]
	# identical notes: the lowest address, said so
	gen same "format elf
machine x86_64
vmcoreinfo-note no
ram 0 4M
bytes 0x103004 $(uts_hex Linux guest 6.1.0-56-amd64 '#1 SMP' x86_64 '(none)')
file 0x300000 $BATS_TEST_TMPDIR/a.bin
file 0x100000 $BATS_TEST_TMPDIR/a.bin"
	run "$VMCOREFIX" "$BATS_TEST_TMPDIR/same.dump" -o "$BATS_TEST_TMPDIR/out2" --json
	[ "$status" -eq 0 ]
	json=$output
	[ "$(jget .guest_note.paddr)" = 0x100000 ]
}

@test "--memory: the note read from another dump of the guest when this one lacks the page" {
	gen_lacking_and_full
	run "$VMCOREFIX" "$BATS_TEST_TMPDIR/f.dump" -o "$BATS_TEST_TMPDIR/out" --region 0x2f3000,0x1000
	[ "$status" -ne 0 ]
	[[ "$output" == *"excluded"* ]]
	run "$VMCOREFIX" "$BATS_TEST_TMPDIR/f.dump" -o "$BATS_TEST_TMPDIR/out" --json \
		--region 0x2f3000,0x1000 --memory "$BATS_TEST_TMPDIR/full.dump"
	[ "$status" -eq 0 ]
	json=$output
	[ "$(jget .guest_note.memory_from)" = "the memory of dump $BATS_TEST_TMPDIR/full.dump" ]
	inspect_json "$BATS_TEST_TMPDIR/out"
	[ "$(jget .vmcoreinfo.values.OSRELEASE)" = 6.1.0-56-amd64 ]
	# or scanned there
	run "$VMCOREFIX" "$BATS_TEST_TMPDIR/f.dump" -o "$BATS_TEST_TMPDIR/out2" --memory "$BATS_TEST_TMPDIR/full.dump"
	[ "$status" -eq 0 ]
	cmp "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/out2"
	# another machine's dump is refused
	gen arm "format elf
machine aarch64
ram 0x40000000 1M"
	run "$VMCOREFIX" "$BATS_TEST_TMPDIR/f.dump" -o "$BATS_TEST_TMPDIR/out3" --memory "$BATS_TEST_TMPDIR/arm.dump"
	[ "$status" -eq 3 ]
	[[ "$output" == *"another machine"* ]]
}

@test "--inspect reads the guest's note from --memory, as the fix does" {
	gen_lacking_and_full
	# the dump lacks the note's page: read there, the region holds nothing
	run "$VMCOREFIX" --inspect --json --region 0x2f3000,0x1000 "$BATS_TEST_TMPDIR/f.dump"
	json=$output
	[ "$(jget .guest_note.valid)" = false ]
	[[ "$(jget .guest_note.error)" == *"excluded"* ]]
	# read from the other dump of the guest, the note is there and valid
	run "$VMCOREFIX" --inspect --json --region 0x2f3000,0x1000 --memory "$BATS_TEST_TMPDIR/full.dump" \
		"$BATS_TEST_TMPDIR/f.dump"
	json=$output
	[ "$(jget .guest_note.valid)" = true ]
	[ "$(jget .guest_note.osrelease)" = 6.1.0-56-amd64 ]
	# guest memory that cannot be opened is an error, never ignored
	run "$VMCOREFIX" --inspect --region 0x2f3000,0x1000 --memory "$BATS_TEST_TMPDIR/nonexistent" \
		"$BATS_TEST_TMPDIR/f.dump"
	[ "$status" -eq 6 ]
	[[ "$output" == *"nonexistent: cannot open guest memory"* ]]
}

@test "--memory with --memory-layout: a raw guest RAM file" {
	gen n "format elf
machine x86_64
vmcoreinfo-note no
ram 0 4M
bytes 0x103004 $(uts_hex Linux guest 6.1.0-56-amd64 '#1 SMP' x86_64 '(none)')"
	note_bin "$BATS_TEST_TMPDIR/a.bin" 6.1.0-56-amd64
	# 2 MiB of RAM whose byte 0x1000 is guest address 0x101000: the note at 0x180000
	truncate -s 2M "$BATS_TEST_TMPDIR/ram.img"
	dd if="$BATS_TEST_TMPDIR/a.bin" of="$BATS_TEST_TMPDIR/ram.img" bs=4096 seek=$((0x80)) conv=notrunc 2>/dev/null
	run "$VMCOREFIX" "$BATS_TEST_TMPDIR/n.dump" -o "$BATS_TEST_TMPDIR/out" --json \
		--memory "$BATS_TEST_TMPDIR/ram.img" --memory-layout 0:0x100000:2M
	[ "$status" -eq 0 ]
	json=$output
	[ "$(jget .guest_note.paddr)" = 0x180000 ]
	[[ "$(jget .guest_note.memory_from)" == "raw guest RAM file"*"(layout 0:0x100000:2M)" ]]
	inspect_json "$BATS_TEST_TMPDIR/out"
	[ "$(jget .vmcoreinfo.values.OSRELEASE)" = 6.1.0-56-amd64 ]
	# a raw file without a layout is not a dump: say what to add
	run "$VMCOREFIX" "$BATS_TEST_TMPDIR/n.dump" -o "$BATS_TEST_TMPDIR/x" --memory "$BATS_TEST_TMPDIR/ram.img"
	[ "$status" -eq 4 ]
	[[ "$output" == *"--memory-layout"* ]]
	run "$VMCOREFIX" "$BATS_TEST_TMPDIR/n.dump" -o "$BATS_TEST_TMPDIR/x" --memory-layout q35
	[ "$status" -eq 2 ]
	run "$VMCOREFIX" "$BATS_TEST_TMPDIR/n.dump" -o "$BATS_TEST_TMPDIR/x" \
		--memory "$BATS_TEST_TMPDIR/ram.img" --memory-layout 0:0:3M
	[ "$status" -ne 0 ]
	[ ! -e "$BATS_TEST_TMPDIR/x" ]
}

@test "a scanned note whose kernel text is not in this memory is refused: another kernel's" {
	gen o "format elf
machine x86_64
vmcoreinfo-note no
vmcoreinfo-line OSRELEASE=6.1.0-56-amd64
vmcoreinfo-line PAGESIZE=4096
vmcoreinfo-line SYMBOL(_stext)=ffffffff81000000
vmcoreinfo-line SYMBOL(swapper_pg_dir)=ffffffff82a0c000
vmcoreinfo-line NUMBER(phys_base)=268435456
ram 0 4M
vmcoreinfo-in-memory 0x2f3000"
	run "$VMCOREFIX" "$BATS_TEST_TMPDIR/o.dump" -o "$BATS_TEST_TMPDIR/out"
	[ "$status" -eq 3 ]
	[[ "$output" == *"not this dump's kernel"* ]]
	[ ! -e "$BATS_TEST_TMPDIR/out" ]
}

@test "the scan steps over what holds no data: ELF file holes and kdump pages not dumped" {
	for fmt in elf kdump; do
		gen h$fmt "format $fmt
machine x86_64
vmcoreinfo-note no
$KTEXT_OK
ram 0 4M
ram 4M 60G sparse
vmcoreinfo-in-memory 0x2f3000"
		run "$VMCOREFIX" "$BATS_TEST_TMPDIR/h$fmt.dump" --dry-run --json
		[ "$status" -eq 0 ]
		json=$output
		[ "$(jget .guest_note.paddr)" = 0x2f3000 ]
		# 1024 pages of data read; the 15.7 million pages of the hole are not
		[ "$(jget .guest_note.pages_scanned)" -le 1100 ]
		[ "$(jget .guest_note.pages_scanned)" -ge 1000 ]
	done
}
