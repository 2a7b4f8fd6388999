#!/usr/bin/env bats
# Trust: the machine comes from the dump's content, not one header string; the
# verdict (--inspect, --check, a fix's exit status) is true; evidence must belong
# to this boot.

load helpers

setup() {
	need_binaries
	need_jq
}

# A QEMU 10 kdump of an x86_64 guest: "Unknown" in utsname.machine, the note's
# phys_base misparsed, init_uts_ns in memory (phys_base 0: at 0x2a12584).
q10_kdump() {  # NAME GUEST-MACHINE
	gen "$1" "format kdump
machine x86_64
utsname machine Unknown
prstatus 1
qemu-cpustate 1
phys_base 0x0
kdump-vmcoreinfo-pointer no
vmcoreinfo-line OSRELEASE=6.12.48+deb13-amd64
vmcoreinfo-line PAGESIZE=4096
vmcoreinfo-line SYMBOL(init_uts_ns)=ffffffff82a12580
vmcoreinfo-line SYMBOL(_stext)=ffffffff81000000
vmcoreinfo-line OFFSET(uts_namespace.name)=4
vmcoreinfo-line KERNELOFFSET=0
vmcoreinfo-line NUMBER(phys_base)=16777216
ram 0 64M
bytes 0x3a12584 $(uts_hex Linux guest 6.12.48+deb13-amd64 '#1 SMP' "$2" '(none)')"
}

@test "QEMU 10 kdump (utsname.machine \"Unknown\"): the machine from its notes; not healthy; fixed" {
	q10_kdump q x86_64
	inspect_json "$BATS_TEST_TMPDIR/q.dump"
	[ "$(jget .machine)" = x86_64 ]
	[[ "$(jget .machine_from)" == *"NT_PRSTATUS note of 336 bytes"* ]]
	[[ "$(jget .machine_from)" == *"QEMU's x86 CPU-state notes"* ]]
	has_problem kdump-machine-wrong
	has_problem kdump-phys-base-mismatch
	run "$VMCOREFIX" --check "$BATS_TEST_TMPDIR/q.dump"
	[ "$status" -eq 1 ]
	run "$VMCOREFIX" "$BATS_TEST_TMPDIR/q.dump" -o "$BATS_TEST_TMPDIR/out"
	[ "$status" -eq 0 ]
	inspect_json "$BATS_TEST_TMPDIR/out"
	[ "$(jget .kdump.utsname.machine)" = x86_64 ]
	[ "$(jget .kdump.utsname.release)" = 6.12.48+deb13-amd64 ]
	[ "$(jget .kdump.phys_base)" = 0x1000000 ]
	[ "$(jget '.problems | length')" = 0 ]
	run "$VMCOREFIX" --check "$BATS_TEST_TMPDIR/out"
	[ "$status" -eq 0 ]
}

@test "the guest's own utsname.machine (\"i686\") never selects the kdump header's layout" {
	q10_kdump g i686
	run "$VMCOREFIX" "$BATS_TEST_TMPDIR/g.dump" -o "$BATS_TEST_TMPDIR/out"
	[ "$status" -eq 0 ]
	inspect_json "$BATS_TEST_TMPDIR/out"
	[ "$(jget .kdump.utsname.machine)" = x86_64 ]
	[ "$(jget .kdump.utsname.nodename)" = guest ]
	[ "$(jget .kdump.block_size)" = 4096 ]
	cp "$BATS_TEST_TMPDIR/g.dump" "$BATS_TEST_TMPDIR/ip.dump"
	"$VMCOREFIX" "$BATS_TEST_TMPDIR/ip.dump" --in-place >/dev/null
	cmp "$BATS_TEST_TMPDIR/ip.dump" "$BATS_TEST_TMPDIR/out"
	# a header that already says "i686" over a 64-bit layout still opens as x86_64
	cp "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/i686.dump"
	printf 'i686\0\0' | dd of="$BATS_TEST_TMPDIR/i686.dump" bs=1 seek=$((0xc + 4 * 65)) conv=notrunc 2>/dev/null
	inspect_json "$BATS_TEST_TMPDIR/i686.dump"
	[ "$(jget .machine)" = x86_64 ]
	has_problem kdump-machine-wrong
}

@test "content that disagrees on the machine: machine-conflict, --check and the fix exit 3, nothing written" {
	gen c "format elf
machine aarch64
prstatus 1
vmcoreinfo-line OSRELEASE=6.1.0-56-amd64
vmcoreinfo-line PAGESIZE=4096
vmcoreinfo-line SYMBOL(init_top_pgt)=ffffffff82a0c000
vmcoreinfo-line NUMBER(phys_base)=0
ram 0 4M"
	inspect_json "$BATS_TEST_TMPDIR/c.dump"
	[ "$(jget .machine)" = null ]
	has_problem machine-conflict
	[[ "$(jget .machine_conflict)" == *"ELF e_machine 183 says aarch64"* ]]
	[[ "$(jget .machine_conflict)" == *"NUMBER(phys_base) says x86_64"* ]]
	run "$VMCOREFIX" --check "$BATS_TEST_TMPDIR/c.dump"
	[ "$status" -eq 3 ]
	run "$VMCOREFIX" "$BATS_TEST_TMPDIR/c.dump" -o "$BATS_TEST_TMPDIR/out"
	[ "$status" -eq 3 ]
	[[ "$output" == *"the dumped machine cannot be told"* ]]
	[ ! -e "$BATS_TEST_TMPDIR/out" ]
}

@test "nothing tells the machine: machine-unknown, not healthy, refused" {
	gen u "format kdump
machine x86_64
utsname machine Unknown
vmcoreinfo-note no
kdump-vmcoreinfo-pointer no
ram 0 4M"
	inspect_json "$BATS_TEST_TMPDIR/u.dump"
	[ "$(jget .machine)" = null ]
	has_problem machine-unknown
	run "$VMCOREFIX" --check "$BATS_TEST_TMPDIR/u.dump"
	[ "$status" -eq 3 ]
}

# A dump of boot 2 (kernel at phys_base 0, KERNELOFFSET 0) without a note, and
# guest memory of boot 1 (phys_base 2 MiB, KERNELOFFSET 1da00000) with its note.
two_boots() {
	note_of() {  # FILE KERNELOFFSET PHYS_BASE
		python3 -c 'import struct, sys
t = ("OSRELEASE=6.1.0-56-amd64\nPAGESIZE=4096\nSYMBOL(_stext)=ffffffff80100000\nSYMBOL(swapper_pg_dir)=ffffffff80200000\nSYMBOL(init_uts_ns)=ffffffff80103000\nOFFSET(uts_namespace.name)=4\nKERNELOFFSET=%s\nNUMBER(phys_base)=%s\n" % (sys.argv[1], sys.argv[2])).encode()
sys.stdout.buffer.write(struct.pack("<III", 11, len(t), 0) + b"VMCOREINFO\0\0" + t + b"\0" * (-len(t) % 4))' "$2" "$3" > "$1"
	}
	note_of "$BATS_TEST_TMPDIR/boot1.bin" 1da00000 2097152
	note_of "$BATS_TEST_TMPDIR/boot2.bin" 0 0
	gen boot1 "format elf
machine x86_64
prstatus 1
vmcoreinfo-note no
ram 0 4M
bytes 0x303004 $(uts_hex Linux guest 6.1.0-56-amd64 '#1 SMP' x86_64 '(none)')
file 0x200000 $BATS_TEST_TMPDIR/boot1.bin"
	gen boot2 "format elf
machine x86_64
prstatus 1
vmcoreinfo-note no
ram 0 4M
bytes 0x103004 $(uts_hex Linux guest 6.1.0-56-amd64 '#1 SMP' x86_64 '(none)')
file 0x280000 $BATS_TEST_TMPDIR/boot2.bin"
}

@test "a note from another boot (--memory of boot 1, --region) is refused, naming the evidence; this boot's is confirmed" {
	two_boots
	run "$VMCOREFIX" "$BATS_TEST_TMPDIR/boot2.dump" --memory "$BATS_TEST_TMPDIR/boot1.dump" \
		--region 0x200000,0x1000 -o "$BATS_TEST_TMPDIR/out"
	[ "$status" -eq 3 ]
	[[ "$output" == *"the note from --region 0x200000,0x1000 is not the one of the kernel in this dump"* ]]
	[ "${#lines[@]}" -eq 1 ]
	[ ! -e "$BATS_TEST_TMPDIR/out" ]
	run "$VMCOREFIX" --check "$BATS_TEST_TMPDIR/boot2.dump" --memory "$BATS_TEST_TMPDIR/boot1.dump" \
		--region 0x200000,0x1000
	[ "$status" -eq 3 ]
	# its own memory, its own note: confirmed, and said how
	run "$VMCOREFIX" "$BATS_TEST_TMPDIR/boot2.dump" --region 0x280000,0x1000 -o "$BATS_TEST_TMPDIR/out" --json
	[ "$status" -eq 0 ]
	json=$output
	[ "$(jget .guest_note.same_boot)" = "its init_uts_ns holds release 6.1.0-56-amd64 in this dump's memory" ]
	# the scan of boot 1's memory finds boot 1's note: refused too
	run "$VMCOREFIX" "$BATS_TEST_TMPDIR/boot2.dump" --memory "$BATS_TEST_TMPDIR/boot1.dump" -o "$BATS_TEST_TMPDIR/out2"
	[ "$status" -eq 3 ]
	[[ "$output" == *"the note from scan of the memory of dump"*"is not the one of the kernel in this dump"* ]]
	[ ! -e "$BATS_TEST_TMPDIR/out2" ]
}

@test "another boot's note beside the dump's own, with or without --replace-note: refused, with both KERNELOFFSETs" {
	two_boots
	# boot 2's dump with its own note, fixed by hand from the good evidence
	"$VMCOREFIX" "$BATS_TEST_TMPDIR/boot2.dump" --region 0x280000,0x1000 -o "$BATS_TEST_TMPDIR/b2" >/dev/null
	run "$VMCOREFIX" "$BATS_TEST_TMPDIR/b2" --memory "$BATS_TEST_TMPDIR/boot1.dump" \
		--region 0x200000,0x1000 --replace-note -o "$BATS_TEST_TMPDIR/out"
	[ "$status" -eq 3 ]
	[[ "$output" == *"its kernel is at KERNELOFFSET 1da00000, this dump's at 0"* ]]
	# without --replace-note too: the same-boot check speaks first
	run "$VMCOREFIX" "$BATS_TEST_TMPDIR/b2" --memory "$BATS_TEST_TMPDIR/boot1.dump" \
		--region 0x200000,0x1000 -o "$BATS_TEST_TMPDIR/out"
	[ "$status" -eq 3 ]
	[[ "$output" == *"its kernel is at KERNELOFFSET 1da00000, this dump's at 0"* ]]
	[ ! -e "$BATS_TEST_TMPDIR/out" ]
}

@test "a note nothing can confirm (no init_uts_ns, no CPU notes) is refused; --memory beside the dump's own note is set aside" {
	python3 -c 'import struct, sys
t = b"OSRELEASE=6.1.0-56-amd64\nPAGESIZE=4096\nSYMBOL(_stext)=ffffffff80100000\nNUMBER(phys_base)=0\n"
sys.stdout.buffer.write(struct.pack("<III", 11, len(t), 0) + b"VMCOREINFO\0\0" + t)' > "$BATS_TEST_TMPDIR/bare.bin"
	gen b "format elf
machine x86_64
prstatus 1
vmcoreinfo-note no
ram 0 4M
file 0x200000 $BATS_TEST_TMPDIR/bare.bin"
	run "$VMCOREFIX" "$BATS_TEST_TMPDIR/b.dump" --region 0x200000,0x1000 -o "$BATS_TEST_TMPDIR/out"
	[ "$status" -eq 3 ]
	[[ "$output" == *"cannot be confirmed to be of the kernel in this dump"*"SYMBOL(init_uts_ns)"* ]]
	two_boots
	"$VMCOREFIX" "$BATS_TEST_TMPDIR/boot2.dump" --region 0x280000,0x1000 -o "$BATS_TEST_TMPDIR/b2" >/dev/null
	run "$VMCOREFIX" "$BATS_TEST_TMPDIR/b2" --memory "$BATS_TEST_TMPDIR/boot1.dump" -o "$BATS_TEST_TMPDIR/o2"
	[ "$status" -eq 0 ]
	[[ "$output" == *"--memory set aside: the dump has its own note"* ]]
	[[ "$output" != *"--no-scan"* ]]
}

@test "--inspect lists every reason --check does not say healthy: the kernel-image PT_LOAD, what cannot be had" {
	gen k "format elf
machine x86_64
elf-layout standard
prstatus 1
vmcoreinfo-line OSRELEASE=6.1.0-56-amd64
vmcoreinfo-line PAGESIZE=4096
vmcoreinfo-line KERNELOFFSET=0
vmcoreinfo-line SYMBOL(_stext)=ffffffff81000000
vmcoreinfo-line NUMBER(phys_base)=0
ram 0 64M"
	inspect_json "$BATS_TEST_TMPDIR/k.dump"
	[ "$status" -eq 1 ]
	[ "$(jget '[.problems[].id] | join(",")')" = elf-no-kernel-image-load ]
	run "$VMCOREFIX" --check "$BATS_TEST_TMPDIR/k.dump"
	[ "$status" -eq 1 ]
	"$VMCOREFIX" "$BATS_TEST_TMPDIR/k.dump" -o "$BATS_TEST_TMPDIR/out" >/dev/null
	inspect_json "$BATS_TEST_TMPDIR/out"
	[ "$status" -eq 0 ]
	run "$VMCOREFIX" --check "$BATS_TEST_TMPDIR/out"
	[ "$status" -eq 0 ]
	# a kdump whose note cannot locate init_uts_ns: its utsname cannot be filled
	gen u "format kdump
machine x86_64
prstatus 1
vmcoreinfo-line OSRELEASE=6.1.0-56-amd64
vmcoreinfo-line PAGESIZE=4096
vmcoreinfo-line SYMBOL(init_uts_ns)=ffffffff80103000
vmcoreinfo-line NUMBER(phys_base)=0
ram 0 4M"
	inspect_json "$BATS_TEST_TMPDIR/u.dump"
	has_problem kdump-utsname-incomplete
	has_problem consumer-need-unavailable
	[[ "$(jget '.problems[] | select(.id == "consumer-need-unavailable") | .message')" == *"kdump header utsname"*"OFFSET(uts_namespace.name)"* ]]
	run "$VMCOREFIX" --check "$BATS_TEST_TMPDIR/u.dump"
	[ "$status" -eq 3 ]
	[[ "$output" == *"would still lack its kdump header utsname"* ]]
	run "$VMCOREFIX" "$BATS_TEST_TMPDIR/u.dump" -o "$BATS_TEST_TMPDIR/uo"
	[ "$status" -eq 3 ]
	[ ! -e "$BATS_TEST_TMPDIR/uo" ]
}

@test "a kernel image split over several PT_LOADs (a filtered ELF) is mapped whole; a partial mapping is not healthy" {
	gen s "format elf
machine x86_64
elf-layout standard
prstatus 1
vmcoreinfo-line OSRELEASE=6.1.0-56-amd64
vmcoreinfo-line PAGESIZE=4096
vmcoreinfo-line KERNELOFFSET=0
vmcoreinfo-line SYMBOL(_stext)=ffffffff81000000
vmcoreinfo-line SYMBOL(_end)=ffffffff81c00000
vmcoreinfo-line NUMBER(phys_base)=0
ram 0 17M
ram 18M 46M"
	"$VMCOREFIX" "$BATS_TEST_TMPDIR/s.dump" -o "$BATS_TEST_TMPDIR/out" >/dev/null
	inspect_json "$BATS_TEST_TMPDIR/out"
	[ "$(jget '[.elf.program_headers[] | select(.vaddr == "0xffffffff81000000")] | length')" = 1 ]
	[ "$(jget '.elf.program_headers[1].filesz')" = $((1 << 20)) ]
	[ "$(jget '.elf.program_headers[2].vaddr')" = 0xffffffff81200000 ]
	[ "$(jget '.elf.program_headers[2].paddr')" = 0x1200000 ]
	# the image runs to _end rounded up past 2 MiB: 0x1e00000
	[ "$(jget '.elf.program_headers[2].filesz')" = $((0xc00000)) ]
	run "$VMCOREFIX" --check "$BATS_TEST_TMPDIR/out"
	[ "$status" -eq 0 ]
	# the second piece's bytes are the physical ones
	off=$(jget '.elf.program_headers[2].offset')
	cmp <(tail -c +$((off + 1)) "$BATS_TEST_TMPDIR/out" | head -c 4096) \
		<("$VFREAD" "$BATS_TEST_TMPDIR/out" 0x1200000 4096)
	# drop the second piece (its type becomes PT_NULL): only part of the image is mapped
	phoff=$(jget .elf.e_phoff)
	printf '\0\0\0\0' | dd of="$BATS_TEST_TMPDIR/out" bs=1 seek=$((phoff + 2 * 56)) conv=notrunc 2>/dev/null
	inspect_json "$BATS_TEST_TMPDIR/out"
	has_problem elf-no-kernel-image-load
	run "$VMCOREFIX" --check "$BATS_TEST_TMPDIR/out"
	[ "$status" -eq 1 ]
}

@test "page data pointed into the headers or bitmaps is refused: a fix could rewrite it" {
	gen p "format kdump
machine x86_64
prstatus 1
kdump-vmcoreinfo-pointer no
ram 0 4M"
	inspect_json "$BATS_TEST_TMPDIR/p.dump"
	bs=$(jget .kdump.block_size)
	pd=$(( (1 + $(jget .kdump.sub_hdr_size) + $(jget .kdump.bitmap_blocks)) * bs ))
	# the descriptor of pfn 3 (init_uts_ns's page) points at the sub-header
	printf '\x00\x10\x00\x00\x00\x00\x00\x00' | dd of="$BATS_TEST_TMPDIR/p.dump" bs=1 seek=$((pd + 3 * 24)) conv=notrunc 2>/dev/null
	run "$VFREAD" "$BATS_TEST_TMPDIR/p.dump" 0x3000 16
	[ "$status" -ne 0 ]
	[[ "$output" == *"lies before the page descriptors"* ]]
	run "$VMCOREFIX" "$BATS_TEST_TMPDIR/p.dump" -o "$BATS_TEST_TMPDIR/out"
	[ "$status" -eq 3 ]
	[[ "$output" == *"kdump header utsname"*"lies before the page descriptors"* ]]
	[ ! -e "$BATS_TEST_TMPDIR/out" ]
}

@test "-o and --in-place read the written dump back: a bad write leaves nothing, or the old bytes" {
	q10_kdump r x86_64
	run env VMCOREFIX_TEST_BAD_WRITE=1 "$VMCOREFIX" "$BATS_TEST_TMPDIR/r.dump" -o "$BATS_TEST_TMPDIR/out"
	[ "$status" -ne 0 ]
	[[ "$output" == *"the written dump does not"* ]]
	[ ! -e "$BATS_TEST_TMPDIR/out" ]
	[ -z "$(ls -A "$BATS_TEST_TMPDIR" | grep -v -E '^r\.(dump|spec)$')" ]
	run "$VMCOREFIX" "$BATS_TEST_TMPDIR/r.dump" -o "$BATS_TEST_TMPDIR/out"
	[ "$status" -eq 0 ]
	# in place: the old bytes (and the old size) go back, the journal goes
	cp "$BATS_TEST_TMPDIR/r.dump" "$BATS_TEST_TMPDIR/ip"
	run env VMCOREFIX_TEST_BAD_WRITE=1 "$VMCOREFIX" --in-place "$BATS_TEST_TMPDIR/ip"
	[ "$status" -ne 0 ]
	[[ "$output" == *"the old bytes were put back"* ]]
	cmp "$BATS_TEST_TMPDIR/ip" "$BATS_TEST_TMPDIR/r.dump"
	[ -z "$(ls -A "$BATS_TEST_TMPDIR" | grep journal)" ]
	"$VMCOREFIX" --in-place "$BATS_TEST_TMPDIR/ip" >/dev/null
	cmp "$BATS_TEST_TMPDIR/ip" "$BATS_TEST_TMPDIR/out"
}

@test "ELF: a kernel-image PT_LOAD at another phys_base than the note's is replaced; a note that does not fit the memory is refused" {
	gen k "format elf
machine x86_64
elf-layout standard
prstatus 1
vmcoreinfo-line OSRELEASE=6.1.0-56-amd64
vmcoreinfo-line PAGESIZE=4096
vmcoreinfo-line KERNELOFFSET=0
vmcoreinfo-line SYMBOL(_stext)=ffffffff81000000
vmcoreinfo-line SYMBOL(init_uts_ns)=ffffffff80103000
vmcoreinfo-line OFFSET(uts_namespace.name)=4
vmcoreinfo-line NUMBER(phys_base)=0
ram 0 64M"
	"$VMCOREFIX" "$BATS_TEST_TMPDIR/k.dump" -o "$BATS_TEST_TMPDIR/good" >/dev/null
	inspect_json "$BATS_TEST_TMPDIR/good"
	[ "$(jget '.elf.program_headers[1].paddr')" = 0x1000000 ]
	# the kernel-image PT_LOAD's p_paddr moved by 16 MiB: phys_base 0x1000000, not the note's 0
	phoff=$(jget .elf.e_phoff)
	cp "$BATS_TEST_TMPDIR/good" "$BATS_TEST_TMPDIR/bad"
	printf '\x00\x00\x00\x02' | dd of="$BATS_TEST_TMPDIR/bad" bs=1 seek=$((phoff + 56 + 24)) conv=notrunc 2>/dev/null
	inspect_json "$BATS_TEST_TMPDIR/bad"
	[ "$(jget '.elf.program_headers[1].paddr')" = 0x2000000 ]
	has_problem elf-no-kernel-image-load
	run "$VMCOREFIX" --check "$BATS_TEST_TMPDIR/bad"
	[ "$status" -eq 1 ]
	"$VMCOREFIX" "$BATS_TEST_TMPDIR/bad" -o "$BATS_TEST_TMPDIR/again" >/dev/null
	cmp "$BATS_TEST_TMPDIR/again" "$BATS_TEST_TMPDIR/good"
	# the note's init_uts_ns holds another release: the note is not this memory's kernel's
	sed -i 's/OSRELEASE=6.1.0-56-amd64/OSRELEASE=6.1.0-99-amd64/' "$BATS_TEST_TMPDIR/k.spec"
	echo "bytes 0x103004 $(uts_hex Linux guest 6.1.0-56-amd64 '#1 SMP' x86_64 '(none)')" >> "$BATS_TEST_TMPDIR/k.spec"
	"$VFGEN" "$BATS_TEST_TMPDIR/k.spec" "$BATS_TEST_TMPDIR/k.dump"
	inspect_json "$BATS_TEST_TMPDIR/k.dump"
	has_problem consumer-need-unavailable
	[[ "$(jget '.problems[] | select(.id == "consumer-need-unavailable") | .message')" == *"init_uts_ns says release \"6.1.0-56-amd64\""* ]]
	run "$VMCOREFIX" --check "$BATS_TEST_TMPDIR/k.dump"
	[ "$status" -eq 3 ]
}

@test "a patch that would overwrite what the dump points at (its notes inside the sub-header fields) is refused" {
	gen o "format kdump
machine x86_64
prstatus 1
phys_base 0
kdump-vmcoreinfo-pointer yes
ram 0 4M"
	inspect_json "$BATS_TEST_TMPDIR/o.dump"
	bs=$(jget .kdump.block_size)
	# offset_note/size_note: 12 bytes at the sub-header's start, where phys_base (0) and
	# dump_level read as one empty note; the VMCOREINFO text stays reachable by its pointer
	python3 - "$BATS_TEST_TMPDIR/o.dump" "$bs" <<'PY'
import struct, sys
with open(sys.argv[1], "r+b") as f:
    bs = int(sys.argv[2])
    f.seek(bs + 0x30)
    f.write(struct.pack("<QQ", bs, 12))
PY
	inspect_json "$BATS_TEST_TMPDIR/o.dump"
	[ "$(jget .vmcoreinfo.origin)" = kdump-pointer ]
	sum=$(sha256sum < "$BATS_TEST_TMPDIR/o.dump")
	run "$VMCOREFIX" "$BATS_TEST_TMPDIR/o.dump" -o "$BATS_TEST_TMPDIR/out"
	[ "$status" -eq 3 ]
	[[ "$output" == *"would overwrite the dump's own notes"* ]]
	[ ! -e "$BATS_TEST_TMPDIR/out" ]
	run "$VMCOREFIX" "$BATS_TEST_TMPDIR/o.dump" --in-place
	[ "$status" -eq 3 ]
	[ "$(sha256sum < "$BATS_TEST_TMPDIR/o.dump")" = "$sum" ]
}

@test "guest strings reach the terminal escaped: an escape sequence in the kdump header's utsname is \\x1b" {
	gen e "format kdump
machine x86_64
prstatus 1
utsname nodename $(printf 'evil\033]0;owned\007')
utsname sysname Linux
ram 0 4M"
	run "$VMCOREFIX" --inspect "$BATS_TEST_TMPDIR/e.dump"
	[[ "$output" != *$'\033'* ]]
	[[ "$output" != *$'\007'* ]]
	[[ "$output" == *'nodename="evil\x1b]0;owned\x07"'* ]]
	# JSON keeps the bytes, escaped as JSON does
	inspect_json "$BATS_TEST_TMPDIR/e.dump"
	[ "$(jget .kdump.utsname.nodename)" = "$(printf 'evil\033]0;owned\007')" ]
}

@test "--in-place ELF with blocks inserted: a bad write is undone (the range collapses, the old bytes return)" {
	[ "$(stat -f -c %T "$BATS_TEST_TMPDIR")" = ext2/ext3 ] || skip "needs ext4 (FALLOC_FL_INSERT_RANGE)"
	gen n "format elf
machine x86_64
elf-layout qemu
prstatus 1
vmcoreinfo-note no
$KTEXT_OK
ram 0 4M
vmcoreinfo-in-memory 0x200000"
	cp "$BATS_TEST_TMPDIR/n.dump" "$BATS_TEST_TMPDIR/ip"
	run env VMCOREFIX_TEST_BAD_WRITE=1 "$VMCOREFIX" --in-place --region 0x200000,0x1000 "$BATS_TEST_TMPDIR/ip"
	[ "$status" -ne 0 ]
	[[ "$output" == *"the old bytes were put back"* ]]
	cmp "$BATS_TEST_TMPDIR/ip" "$BATS_TEST_TMPDIR/n.dump"
	[ -z "$(ls -A "$BATS_TEST_TMPDIR" | grep journal)" ]
	"$VMCOREFIX" "$BATS_TEST_TMPDIR/n.dump" -o "$BATS_TEST_TMPDIR/want" --region 0x200000,0x1000 >/dev/null
	"$VMCOREFIX" --in-place --region 0x200000,0x1000 "$BATS_TEST_TMPDIR/ip" >/dev/null
	cmp "$BATS_TEST_TMPDIR/ip" "$BATS_TEST_TMPDIR/want"
}
