#!/usr/bin/env bats
# The fixer (so far: kdump dumps that carry their VMCOREINFO note): -o, --dry-run,
# --json, the atomic write, sparse copy, and clear refusals for what it cannot fix yet.

load helpers

setup() {
	need_binaries
	need_jq
}

QEMU_KDUMP=$(grep -v '^#' "$SRCDIR/tests/gen/specs/qemu-kdump-x86_64.spec")

@test "kdump: phys_base and the VMCOREINFO pointer are fixed; the output inspects clean" {
	gen k "$QEMU_KDUMP"
	run "$VMCOREFIX" "$BATS_TEST_TMPDIR/k.dump" -o "$BATS_TEST_TMPDIR/out"
	[ "$status" -eq 0 ]
	[[ "$output" == *"patched kdump sub-header phys_base"*"NUMBER(phys_base)=-301989888"* ]]
	[[ "$output" == *"offset_vmcoreinfo"* ]]
	inspect_json "$BATS_TEST_TMPDIR/out"
	! has_problem kdump-phys-base-mismatch || false
	! has_problem kdump-vmcoreinfo-pointer-missing || false
	[ "$(jget .kdump.phys_base)" = 0xffffffffee000000 ]
	# only the planned bytes changed: the page data reads the same
	same_read k 0x2000 8192
	cp "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/k.dump"
	same_read k 0x200000 65536
}

@test "idempotent: the output needs nothing" {
	gen k "$QEMU_KDUMP"
	"$VMCOREFIX" "$BATS_TEST_TMPDIR/k.dump" -o "$BATS_TEST_TMPDIR/out" >/dev/null
	run "$VMCOREFIX" "$BATS_TEST_TMPDIR/out" -o "$BATS_TEST_TMPDIR/out2"
	[ "$status" -eq 0 ]
	[[ "$output" == *"nothing to fix"* ]]
	cmp "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/out2"
}

@test "--dry-run writes nothing; --json lists the changes" {
	gen k "$QEMU_KDUMP"
	run "$VMCOREFIX" "$BATS_TEST_TMPDIR/k.dump" --dry-run
	[ "$status" -eq 0 ]
	[[ "$output" == *"would patch kdump sub-header phys_base at 0x1000"* ]]
	[ "$(ls "$BATS_TEST_TMPDIR" | grep -c vmcore-fix)" -eq 0 ]
	run "$VMCOREFIX" "$BATS_TEST_TMPDIR/k.dump" --dry-run --json
	json=$output
	[ "$(jget .schema)" = vmcore-fix-fix/1 ]
	[ "$(jget .dry_run)" = true ]
	[ "$(jget '.changes[] | select(.field == "kdump sub-header phys_base") | .value')" = 0xffffffffee000000 ]
	[ "$(jget '.changes[] | select(.field == "kdump header utsname") | .why')" = \
		'fill it from the guest'"'"'s init_uts_ns (release 6.1.0-56-amd64), as makedumpfile does: drgn needs it; machine "x86_64"' ]
	[ "$(jget '.changes | length')" -eq 4 ]
}

@test "the input is never changed, and the output cannot be the input" {
	gen k "$QEMU_KDUMP"
	sum=$(sha256sum < "$BATS_TEST_TMPDIR/k.dump")
	"$VMCOREFIX" "$BATS_TEST_TMPDIR/k.dump" -o "$BATS_TEST_TMPDIR/out" >/dev/null
	[ "$(sha256sum < "$BATS_TEST_TMPDIR/k.dump")" = "$sum" ]
	run "$VMCOREFIX" "$BATS_TEST_TMPDIR/k.dump" -o "$BATS_TEST_TMPDIR/k.dump"
	[ "$status" -eq 2 ]
	[[ "$output" == *"is the input"* ]]
	ln -s k.dump "$BATS_TEST_TMPDIR/link"
	run "$VMCOREFIX" "$BATS_TEST_TMPDIR/k.dump" -o "$BATS_TEST_TMPDIR/link"
	[ "$status" -eq 2 ]
	[ "$(sha256sum < "$BATS_TEST_TMPDIR/k.dump")" = "$sum" ]
}

@test "flattened in, flattened out (asked for), patched inside its records; by default reassembled" {
	gen f "$QEMU_KDUMP
flattened yes
flat-record-size 1000
flat-shuffle yes"
	"$VMCOREFIX" "$BATS_TEST_TMPDIR/f.dump" -o "$BATS_TEST_TMPDIR/raw" >/dev/null
	inspect_json "$BATS_TEST_TMPDIR/raw"
	[ "$(jget .flattened)" = false ]
	[ "$(jget '.problems | length')" = 0 ]
	"$VMCOREFIX" "$BATS_TEST_TMPDIR/f.dump" -o "$BATS_TEST_TMPDIR/out" --output-format flattened >/dev/null
	inspect_json "$BATS_TEST_TMPDIR/out"
	[ "$(jget .flattened)" = true ]
	! has_problem kdump-phys-base-mismatch || false
	[ "$(stat -c %s "$BATS_TEST_TMPDIR/out")" = "$(stat -c %s "$BATS_TEST_TMPDIR/f.dump")" ]
}

@test "holes in the input stay holes in the output" {
	gen k "$QEMU_KDUMP"
	# make a sparse copy with a large hole in the middle of the page data
	f=$BATS_TEST_TMPDIR/sparse
	cp "$BATS_TEST_TMPDIR/k.dump" "$f"
	truncate -s $((64 << 20)) "$f"
	run "$VMCOREFIX" "$f" -o "$BATS_TEST_TMPDIR/out"
	[ "$status" -eq 0 ]
	[ "$(stat -c %s "$BATS_TEST_TMPDIR/out")" = $((64 << 20)) ]
	[ "$(du -k "$BATS_TEST_TMPDIR/out" | cut -f1)" -lt 4096 ]
}

@test "a failed write leaves no output and no temporary file" {
	gen k "$QEMU_KDUMP"
	mkdir "$BATS_TEST_TMPDIR/ro"
	chmod 555 "$BATS_TEST_TMPDIR/ro"
	if touch "$BATS_TEST_TMPDIR/ro/x" 2>/dev/null; then
		rm -f "$BATS_TEST_TMPDIR/ro/x"
		skip "root writes into read-only directories"
	fi
	run "$VMCOREFIX" "$BATS_TEST_TMPDIR/k.dump" -o "$BATS_TEST_TMPDIR/ro/out"
	[ "$status" -eq 6 ]
	[ -z "$(ls -A "$BATS_TEST_TMPDIR/ro")" ]
}

@test "full disk: exit 6, nothing left behind" {
	[ -w /dev/full ] || skip "no /dev/full"
	gen k "$QEMU_KDUMP"
	d=$BATS_TEST_TMPDIR/small
	mkdir "$d"
	if ! mount -t tmpfs -o size=64k tmpfs "$d" 2>/dev/null; then
		skip "cannot mount a small tmpfs here"
	fi
	run "$VMCOREFIX" "$BATS_TEST_TMPDIR/k.dump" -o "$d/out"
	umount "$d"
	[ "$status" -eq 6 ]
	[[ "$output" == *"No space left"* ]]
}

@test "ELF, QEMU layout: program headers after the ELF header, notes before the data" {
	gen e "format elf
machine x86_64
elf-layout qemu
prstatus 2
qemu-cpustate 2
ram 0 1M
ram 2M 1M"
	run "$VMCOREFIX" "$BATS_TEST_TMPDIR/e.dump" -o "$BATS_TEST_TMPDIR/out"
	[ "$status" -eq 0 ]
	[[ "$output" == *"patched ELF header region"* ]]
	inspect_json "$BATS_TEST_TMPDIR/out"
	[ "$status" -eq 0 ]
	[ "$(jget '.problems | length')" = 0 ]
	[ "$(jget .elf.e_phoff)" = 0x40 ]
	[ "$(jget .elf.e_ehsize)" = 64 ]
	[ "$(jget '[.notes[].name] | join(",")')" = CORE,CORE,QEMU,QEMU,VMCOREINFO ]
	cp "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/e.dump"
	same_read e 0x0 8192
	same_read e 0x2ff000 4096
	run "$VMCOREFIX" "$BATS_TEST_TMPDIR/out" --dry-run
	[[ "$output" == *"nothing to fix"* ]]
}

@test "ELF without a note: refused without evidence (exit 3); added from --region, data moved" {
	gen n "format elf
machine x86_64
elf-layout qemu
prstatus 1
vmcoreinfo-note no
ram 0 4M
vmcoreinfo-in-memory 0x200000"
	run "$VMCOREFIX" "$BATS_TEST_TMPDIR/n.dump" -o "$BATS_TEST_TMPDIR/out" --no-scan
	[ "$status" -eq 3 ]
	[[ "$output" == *"--region"* ]]
	[ ! -e "$BATS_TEST_TMPDIR/out" ]
	run "$VMCOREFIX" "$BATS_TEST_TMPDIR/n.dump" -o "$BATS_TEST_TMPDIR/out" --region 0x200000,0x1000
	[ "$status" -eq 0 ]
	[[ "$output" == *"moves; VMCOREINFO: the guest's"* ]]
	inspect_json "$BATS_TEST_TMPDIR/out"
	[ "$(jget .vmcoreinfo.origin)" = note ]
	[ "$(jget .vmcoreinfo.values.OSRELEASE)" = 6.1.0-56-amd64 ]
	[ "$(jget '.problems | length')" = 0 ]
	# the data moved by whole 4 KiB blocks and reads the same
	off=$(jget '.elf.program_headers[] | select(.type == "PT_LOAD") | .offset')
	[ $((off % 4096)) -eq $(( $(printf '%d' "$(cd "$BATS_TEST_TMPDIR" && "$VMCOREFIX" --inspect --json n.dump | jq -r '.elf.program_headers[] | select(.type == "PT_LOAD") | .offset')") % 4096 )) ]
	cp "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/n.dump"
	same_read n 0x1000 65536
}

@test "flattened ELF (makedumpfile -E -F): fixed in its form; reassembled, the same as the raw fix" {
	for layout in qemu standard; do
		gen f "format elf
machine x86_64
elf-layout $layout
flattened yes
prstatus 1
vmcoreinfo-note no
ram 0 4M
vmcoreinfo-in-memory 0x200000"
		run "$VMCOREFIX" "$BATS_TEST_TMPDIR/f.dump" -o "$BATS_TEST_TMPDIR/out" --region 0x200000,0x1000 \
			--output-format flattened
		[ "$status" -eq 0 ]
		head -c 12 "$BATS_TEST_TMPDIR/out" | grep -q makedumpfile
		"$VMCOREFIX" "$BATS_TEST_TMPDIR/f.dump" -o "$BATS_TEST_TMPDIR/raw" --output-format raw \
			--region 0x200000,0x1000 >/dev/null
		# the default output is the raw one
		run "$VMCOREFIX" "$BATS_TEST_TMPDIR/f.dump" -o "$BATS_TEST_TMPDIR/dflt" --region 0x200000,0x1000
		[[ "$output" == *"reassembled the flattened stream into a raw dump"* ]]
		cmp "$BATS_TEST_TMPDIR/dflt" "$BATS_TEST_TMPDIR/raw"
		inspect_json "$BATS_TEST_TMPDIR/out"
		[ "$(jget .flattened)" = true ]
		# flattened is itself a problem: makedumpfile and drgn cannot open it
		[ "$(jget '[.problems[].id] | join(",")')" = flattened ]
		run "$VMCOREFIX" --check "$BATS_TEST_TMPDIR/out"
		[ "$status" -eq 1 ]
		[[ "$output" == *"fixable: 1 change"* ]]
		run "$VMCOREFIX" --check "$BATS_TEST_TMPDIR/raw"
		[ "$status" -eq 0 ]
		if command -v makedumpfile >/dev/null; then
			makedumpfile -R "$BATS_TEST_TMPDIR/re" < "$BATS_TEST_TMPDIR/out" >/dev/null 2>&1
			cmp "$BATS_TEST_TMPDIR/re" "$BATS_TEST_TMPDIR/raw"
			rm -f "$BATS_TEST_TMPDIR/re"
		fi
		cp "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/o.dump"
		cp "$BATS_TEST_TMPDIR/f.spec" "$BATS_TEST_TMPDIR/o.spec"
		same_read o 0 0x400000
		# moving data inside a flattened stream in place is not done: nothing changes
		if [ "$layout" = qemu ]; then
			cp "$BATS_TEST_TMPDIR/f.dump" "$BATS_TEST_TMPDIR/ip"
			run "$VMCOREFIX" --in-place "$BATS_TEST_TMPDIR/ip" --region 0x200000,0x1000
			[ "$status" -eq 5 ]
			[[ "$output" == *"-o"* ]]
			cmp "$BATS_TEST_TMPDIR/ip" "$BATS_TEST_TMPDIR/f.dump"
			[ -z "$(ls -A "$BATS_TEST_TMPDIR" | grep journal)" ]
		fi
	done
}

@test "flattened kdump without a note: the note in a new record; -o, raw and --in-place agree" {
	gen n "format kdump
machine x86_64
compress zlib
flattened yes
prstatus 1
vmcoreinfo-note no
ram 0 1M
vmcoreinfo-in-memory 0x80000"
	run "$VMCOREFIX" "$BATS_TEST_TMPDIR/n.dump" -o "$BATS_TEST_TMPDIR/out" --region 0x80000,0x1000 \
		--output-format flattened
	[ "$status" -eq 0 ]
	[[ "$output" == *"kdump notes blob"* ]]
	inspect_json "$BATS_TEST_TMPDIR/out"
	[ "$(jget .format)" = kdump ] && [ "$(jget .flattened)" = true ]
	[ "$(jget .vmcoreinfo.origin)" = note ]
	[ "$(jget '[.notes[].name] | join(",")')" = CORE,VMCOREINFO ]
	! has_problem kdump-vmcoreinfo-pointer-wrong || false
	# makedumpfile reassembles it (no empty or overlapping record) to the raw fix
	"$VMCOREFIX" "$BATS_TEST_TMPDIR/n.dump" -o "$BATS_TEST_TMPDIR/raw" --output-format raw \
		--region 0x80000,0x1000 >/dev/null
	if command -v makedumpfile >/dev/null; then
		makedumpfile -R "$BATS_TEST_TMPDIR/r" < "$BATS_TEST_TMPDIR/out"
		cmp "$BATS_TEST_TMPDIR/r" "$BATS_TEST_TMPDIR/raw"
	fi
	# the memory reads as before
	cp "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/o.dump"
	cp "$BATS_TEST_TMPDIR/n.spec" "$BATS_TEST_TMPDIR/o.spec"
	same_read o 0 0x100000
	# in place it stays flattened, so only when asked for: otherwise refused, unchanged
	cp "$BATS_TEST_TMPDIR/n.dump" "$BATS_TEST_TMPDIR/ip"
	run "$VMCOREFIX" --in-place "$BATS_TEST_TMPDIR/ip" --region 0x80000,0x1000
	[ "$status" -eq 5 ]
	[[ "$output" == *"--in-place --output-format flattened"* ]]
	cmp "$BATS_TEST_TMPDIR/ip" "$BATS_TEST_TMPDIR/n.dump"
	# killed after its first write, then finished: the same bytes as -o
	run env VMCOREFIX_TEST_CRASH_IN_PLACE=1 "$VMCOREFIX" --in-place "$BATS_TEST_TMPDIR/ip" \
		--region 0x80000,0x1000 --output-format flattened
	[ "$status" -eq 137 ]
	run "$VMCOREFIX" --in-place "$BATS_TEST_TMPDIR/ip" --region 0x80000,0x1000 --output-format flattened
	[ "$status" -eq 0 ]
	[[ "$output" == *"finished an interrupted"* ]]
	cmp "$BATS_TEST_TMPDIR/ip" "$BATS_TEST_TMPDIR/out"
	run "$VMCOREFIX" --check "$BATS_TEST_TMPDIR/ip"
	[ "$status" -eq 1 ]
}

@test "kdump header versions 1-3: made version 4 with a notes blob" {
	for v in 1 2 3; do
		gen v$v "format kdump
machine x86_64
compress zlib
header_version $v
vmcoreinfo-note no
ram 0 1M
vmcoreinfo-in-memory 0x80000"
		run "$VMCOREFIX" "$BATS_TEST_TMPDIR/v$v.dump" -o "$BATS_TEST_TMPDIR/out$v" \
			--region 0x80000,0x1000
		[ "$status" -eq 0 ]
		[[ "$output" == *"version $v has no notes blob"* ]]
		inspect_json "$BATS_TEST_TMPDIR/out$v"
		[ "$(jget .kdump.header_version)" = 4 ]
		[ "$(jget .vmcoreinfo.origin)" = note ]
		[ "$(jget .vmcoreinfo.values.OSRELEASE)" = 6.1.0-56-amd64 ]
		! has_problem kdump-vmcoreinfo-pointer-wrong || false
		cp "$BATS_TEST_TMPDIR/out$v" "$BATS_TEST_TMPDIR/o$v.dump"
		cp "$BATS_TEST_TMPDIR/v$v.spec" "$BATS_TEST_TMPDIR/o$v.spec"
		same_read o$v 0 0x100000
		run "$VMCOREFIX" --check "$BATS_TEST_TMPDIR/out$v"
		[ "$status" -eq 0 ]
	done
	# version 1 had no split/start_pfn/end_pfn: they are zeroed
	[[ "$(cd "$BATS_TEST_TMPDIR" && "$VMCOREFIX" v1.dump --dry-run --region 0x80000,0x1000)" == *"sub-header split"* ]]
}

@test "the dump's note differs from the guest's: refused (exit 3) unless --replace-note" {
	# the guest's note is the one of the kernel in memory (its init_uts_ns says 6.1.0-56-amd64)
	python3 -c 'import struct, sys
t = b"OSRELEASE=6.1.0-56-amd64\nPAGESIZE=4096\nSYMBOL(_stext)=ffffffff80100000\nSYMBOL(init_uts_ns)=ffffffff80103000\nOFFSET(uts_namespace.name)=4\nNUMBER(phys_base)=0\n"
sys.stdout.buffer.write(struct.pack("<III", 11, len(t), 0) + b"VMCOREINFO\0\0" + t)' \
		> "$BATS_TEST_TMPDIR/note.bin"
	for fmt in elf kdump; do
		gen g$fmt "format $fmt
machine x86_64
prstatus 1
vmcoreinfo-line OSRELEASE=5.10.0-old
vmcoreinfo-line PAGESIZE=4096
vmcoreinfo-line NUMBER(phys_base)=0
ram 0 4M
bytes 0x103004 $(uts_hex Linux guest 6.1.0-56-amd64 '#1 SMP' x86_64 '(none)')
file 0x200000 $BATS_TEST_TMPDIR/note.bin"
		sum=$(sha256sum < "$BATS_TEST_TMPDIR/g$fmt.dump")
		run "$VMCOREFIX" "$BATS_TEST_TMPDIR/g$fmt.dump" -o "$BATS_TEST_TMPDIR/o$fmt" --region 0x200000,0x1000
		[ "$status" -eq 3 ]
		[[ "$output" == *"differs from the dump's own"*"--replace-note"* ]]
		[ ! -e "$BATS_TEST_TMPDIR/o$fmt" ]
		run "$VMCOREFIX" "$BATS_TEST_TMPDIR/g$fmt.dump" -o "$BATS_TEST_TMPDIR/o$fmt" \
			--region 0x200000,0x1000 --replace-note
		[ "$status" -eq 0 ]
		[ "$(sha256sum < "$BATS_TEST_TMPDIR/g$fmt.dump")" = "$sum" ]
		inspect_json "$BATS_TEST_TMPDIR/o$fmt"
		[ "$(jget '[.notes[] | select(.name == "VMCOREINFO")] | length')" = 1 ]
		[ "$(jget .vmcoreinfo.values.OSRELEASE)" = 6.1.0-56-amd64 ]
		run "$VMCOREFIX" "$BATS_TEST_TMPDIR/o$fmt" --check --region 0x200000,0x1000
		[ "$status" -eq 0 ]
	done
	run "$VMCOREFIX" "$BATS_TEST_TMPDIR/gelf.dump" -o x --replace-note
	[ "$status" -eq 2 ]
}

@test "kdump without a note: refused without evidence (exit 3); added from --region" {
	gen n "format kdump
machine x86_64
compress zlib
prstatus 1
vmcoreinfo-note no
ram 0 1M
vmcoreinfo-in-memory 0x80000"
	run "$VMCOREFIX" "$BATS_TEST_TMPDIR/n.dump" -o "$BATS_TEST_TMPDIR/out" --no-scan
	[ "$status" -eq 3 ]
	[ ! -e "$BATS_TEST_TMPDIR/out" ]
	run "$VMCOREFIX" "$BATS_TEST_TMPDIR/n.dump" -o "$BATS_TEST_TMPDIR/out" --region 0x80000,0x1000
	[ "$status" -eq 0 ]
	[[ "$output" == *"kdump notes blob"* ]]
	inspect_json "$BATS_TEST_TMPDIR/out"
	[ "$(jget .vmcoreinfo.origin)" = note ]
	[ "$(jget '[.notes[].name] | join(",")')" = CORE,VMCOREINFO ]
	[ "$(jget .kdump.phys_base)" = 0xffffffffee000000 ]
	[ $(( $(jget .kdump.offset_note) % 4096 )) -eq 0 ]
	! has_problem kdump-vmcoreinfo-pointer-wrong || false
	! has_problem kdump-phys-base-mismatch || false
	run "$VMCOREFIX" "$BATS_TEST_TMPDIR/out" --dry-run
	[[ "$output" == *"nothing to fix"* ]]
}

@test "--check: 1 fixable, 0 after the fix, 3 without evidence; writes nothing" {
	gen k "$QEMU_KDUMP"
	run "$VMCOREFIX" --check "$BATS_TEST_TMPDIR/k.dump"
	[ "$status" -eq 1 ]
	[[ "$output" == *"fixable: 4 changes"* ]]
	[ "$(ls "$BATS_TEST_TMPDIR" | grep -c -v -E '^k\.(dump|spec)$')" -eq 0 ]
	"$VMCOREFIX" "$BATS_TEST_TMPDIR/k.dump" -o "$BATS_TEST_TMPDIR/out" >/dev/null
	run "$VMCOREFIX" --check "$BATS_TEST_TMPDIR/out"
	[ "$status" -eq 0 ]
	gen n "format elf
machine x86_64
vmcoreinfo-note no
ram 0 1M"
	run "$VMCOREFIX" --check "$BATS_TEST_TMPDIR/n.dump"
	[ "$status" -eq 3 ]
	run "$VMCOREFIX" --check -o x "$BATS_TEST_TMPDIR/n.dump"
	[ "$status" -eq 2 ]
	run "$VMCOREFIX" --check --json "$BATS_TEST_TMPDIR/k.dump"
	json=$output
	[ "$(jget .check)" = true ]
	[ "$(jget '.changes | length')" -eq 4 ]
}

@test "--in-place patches the dump itself; the same bytes as -o" {
	gen k "$QEMU_KDUMP"
	"$VMCOREFIX" "$BATS_TEST_TMPDIR/k.dump" -o "$BATS_TEST_TMPDIR/copy" >/dev/null
	run "$VMCOREFIX" --in-place "$BATS_TEST_TMPDIR/k.dump"
	[ "$status" -eq 0 ]
	cmp "$BATS_TEST_TMPDIR/k.dump" "$BATS_TEST_TMPDIR/copy"
	[ -z "$(ls -A "$BATS_TEST_TMPDIR" | grep journal)" ]
	run "$VMCOREFIX" --in-place "$BATS_TEST_TMPDIR/k.dump"
	[[ "$output" == *"nothing to fix"* ]]
	gen e "format elf
machine x86_64
elf-layout qemu
prstatus 1
ram 0 1M"
	"$VMCOREFIX" "$BATS_TEST_TMPDIR/e.dump" -o "$BATS_TEST_TMPDIR/ecopy" >/dev/null
	"$VMCOREFIX" --in-place "$BATS_TEST_TMPDIR/e.dump" >/dev/null
	cmp <(head -c 8192 "$BATS_TEST_TMPDIR/e.dump") <(head -c 8192 "$BATS_TEST_TMPDIR/ecopy")
	run "$VMCOREFIX" --check "$BATS_TEST_TMPDIR/e.dump"
	[ "$status" -eq 0 ]
}

@test "--in-place killed after the first patch: -o refuses, the next --in-place finishes it" {
	gen k "$QEMU_KDUMP"
	"$VMCOREFIX" "$BATS_TEST_TMPDIR/k.dump" -o "$BATS_TEST_TMPDIR/want" >/dev/null
	run env VMCOREFIX_TEST_CRASH_IN_PLACE=1 "$VMCOREFIX" --in-place "$BATS_TEST_TMPDIR/k.dump"
	[ "$status" -eq 137 ]
	[ -e "$BATS_TEST_TMPDIR/.k.dump.vmcore-fix-journal" ]
	! cmp -s "$BATS_TEST_TMPDIR/k.dump" "$BATS_TEST_TMPDIR/want" || false
	run "$VMCOREFIX" "$BATS_TEST_TMPDIR/k.dump" -o "$BATS_TEST_TMPDIR/out"
	[ "$status" -eq 3 ]
	[[ "$output" == *"interrupted --in-place run"* ]]
	run "$VMCOREFIX" --in-place "$BATS_TEST_TMPDIR/k.dump"
	[ "$status" -eq 0 ]
	[[ "$output" == *"finished an interrupted --in-place run"* ]]
	cmp "$BATS_TEST_TMPDIR/k.dump" "$BATS_TEST_TMPDIR/want"
	[ ! -e "$BATS_TEST_TMPDIR/.k.dump.vmcore-fix-journal" ]
}

@test "--in-place ELF: blocks inserted in front of the data (FALLOC_FL_INSERT_RANGE); killed at any step, finished by the next run" {
	[ "$(stat -f -c %T "$BATS_TEST_TMPDIR")" = ext2/ext3 ] || skip "needs ext4 (FALLOC_FL_INSERT_RANGE)"
	gen n "format elf
machine x86_64
elf-layout qemu
vmcoreinfo-note no
ram 0 4M
vmcoreinfo-in-memory 0x200000"
	"$VMCOREFIX" "$BATS_TEST_TMPDIR/n.dump" -o "$BATS_TEST_TMPDIR/want" --region 0x200000,0x1000 >/dev/null
	cp "$BATS_TEST_TMPDIR/n.dump" "$BATS_TEST_TMPDIR/ip"
	run "$VMCOREFIX" --in-place --region 0x200000,0x1000 "$BATS_TEST_TMPDIR/ip"
	[ "$status" -eq 0 ]
	cmp "$BATS_TEST_TMPDIR/ip" "$BATS_TEST_TMPDIR/want"
	[ -z "$(ls -A "$BATS_TEST_TMPDIR" | grep journal)" ]
	for step in journal insert patch; do
		cp "$BATS_TEST_TMPDIR/n.dump" "$BATS_TEST_TMPDIR/ip"
		run env VMCOREFIX_TEST_CRASH_IN_PLACE=$step "$VMCOREFIX" --in-place \
			--region 0x200000,0x1000 "$BATS_TEST_TMPDIR/ip"
		[ "$status" -eq 137 ]
		[ -e "$BATS_TEST_TMPDIR/.ip.vmcore-fix-journal" ]
		run "$VMCOREFIX" "$BATS_TEST_TMPDIR/ip" -o "$BATS_TEST_TMPDIR/x"
		[ "$status" -eq 3 ]
		run "$VMCOREFIX" --in-place --region 0x200000,0x1000 "$BATS_TEST_TMPDIR/ip"
		[ "$status" -eq 0 ]
		[[ "$output" == *"finished an interrupted --in-place run"* ]]
		cmp "$BATS_TEST_TMPDIR/ip" "$BATS_TEST_TMPDIR/want"
		[ ! -e "$BATS_TEST_TMPDIR/.ip.vmcore-fix-journal" ]
	done
	run "$VMCOREFIX" --check "$BATS_TEST_TMPDIR/ip"
	[ "$status" -eq 0 ]
}

@test "--in-place ELF where the file system cannot insert ranges: refused, nothing changed" {
	[ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ] || skip "no tmpfs at /dev/shm"
	gen n "format elf
machine x86_64
elf-layout qemu
vmcoreinfo-note no
ram 0 4M
vmcoreinfo-in-memory 0x200000"
	d=$(mktemp -d /dev/shm/vmcore-fix-test.XXXXXX)
	cp "$BATS_TEST_TMPDIR/n.dump" "$d/ip"
	sum=$(sha256sum < "$d/ip")
	run "$VMCOREFIX" --in-place --region 0x200000,0x1000 "$d/ip"
	ls -A "$d" > "$BATS_TEST_TMPDIR/left"
	now=$(sha256sum < "$d/ip")
	rm -rf "$d"
	[ "$status" -eq 5 ]
	[[ "$output" == *"tmpfs cannot insert a range"*"nothing was changed"*"-o"* ]]
	[ "$now" = "$sum" ]
	[ "$(cat "$BATS_TEST_TMPDIR/left")" = ip ]
	run "$VMCOREFIX" --in-place -o x "$BATS_TEST_TMPDIR/n.dump"
	[ "$status" -eq 2 ]
}

@test "--output-format: flattened to raw equals the raw fix; raw to flattened reassembles to it" {
	gen f "$QEMU_KDUMP
flattened yes
flat-record-size 3000
flat-shuffle yes"
	gen r "$QEMU_KDUMP"
	"$VMCOREFIX" "$BATS_TEST_TMPDIR/r.dump" -o "$BATS_TEST_TMPDIR/want" >/dev/null
	"$VMCOREFIX" "$BATS_TEST_TMPDIR/f.dump" -o "$BATS_TEST_TMPDIR/raw" --output-format raw >/dev/null
	cmp "$BATS_TEST_TMPDIR/raw" "$BATS_TEST_TMPDIR/want"
	"$VMCOREFIX" "$BATS_TEST_TMPDIR/r.dump" -o "$BATS_TEST_TMPDIR/flat" --output-format flattened >/dev/null
	inspect_json "$BATS_TEST_TMPDIR/flat"
	[ "$(jget .flattened)" = true ]
	[ "$(jget '.problems | length')" -le 1 ]
	! has_problem kdump-phys-base-mismatch || false
	if command -v makedumpfile >/dev/null; then
		makedumpfile -R "$BATS_TEST_TMPDIR/re" < "$BATS_TEST_TMPDIR/flat" >/dev/null 2>&1
		cmp "$BATS_TEST_TMPDIR/re" "$BATS_TEST_TMPDIR/want"
	fi
	run "$VMCOREFIX" "$BATS_TEST_TMPDIR/r.dump" --output-format raw
	[ "$status" -eq 2 ]
	run "$VMCOREFIX" "$BATS_TEST_TMPDIR/r.dump" -o x --output-format zip
	[ "$status" -eq 2 ]
}

@test "ELF: a PT_LOAD maps the kernel image (second, after PT_NOTE) onto bytes already in the file" {
	gen k "format elf
machine x86_64
elf-layout qemu
prstatus 1
vmcoreinfo-line OSRELEASE=6.1.0-56-amd64
vmcoreinfo-line PAGESIZE=4096
vmcoreinfo-line KERNELOFFSET=0
vmcoreinfo-line SYMBOL(_stext)=ffffffff81000000
vmcoreinfo-line SYMBOL(init_uts_ns)=ffffffff82a12580
vmcoreinfo-line NUMBER(phys_base)=0
ram 0 64M"
	run "$VMCOREFIX" "$BATS_TEST_TMPDIR/k.dump" -o "$BATS_TEST_TMPDIR/out"
	[ "$status" -eq 0 ]
	[[ "$output" == *"then the kernel image's PT_LOAD"* ]]
	inspect_json "$BATS_TEST_TMPDIR/out"
	[ "$(jget '.elf.program_headers[0].type')" = PT_NOTE ]
	[ "$(jget '.elf.program_headers[1].vaddr')" = 0xffffffff81000000 ]
	[ "$(jget '.elf.program_headers[1].paddr')" = 0x1000000 ]
	# up to the last kernel-image symbol, rounded up to 2 MiB (no page table here)
	[ "$(jget '.elf.program_headers[1].filesz')" = $((0x1c00000)) ]
	[ "$(jget '.elf.program_headers[1].align')" = 0 ]
	[ "$(jget '.problems | length')" = 0 ]
	# its file offset holds the bytes of physical 0x1000000
	off=$(jget '.elf.program_headers[1].offset')
	cmp <(tail -c +$((off + 1)) "$BATS_TEST_TMPDIR/out" | head -c 4096) \
		<("$VFREAD" "$BATS_TEST_TMPDIR/out" 0x1000000 4096)
	run "$VMCOREFIX" "$BATS_TEST_TMPDIR/out" --dry-run
	[[ "$output" == *"nothing to fix"* ]]
	# phys_base pushes the image's physical address
	sed -i 's/NUMBER(phys_base)=0/NUMBER(phys_base)=16777216/' "$BATS_TEST_TMPDIR/k.spec"
	"$VFGEN" "$BATS_TEST_TMPDIR/k.spec" "$BATS_TEST_TMPDIR/k.dump"
	"$VMCOREFIX" "$BATS_TEST_TMPDIR/k.dump" -o "$BATS_TEST_TMPDIR/out2" >/dev/null
	inspect_json "$BATS_TEST_TMPDIR/out2"
	[ "$(jget '.elf.program_headers[1].paddr')" = 0x2000000 ]
}

@test "ELF -o: zero blocks written out in full become holes, as with cp --sparse=always" {
	gen z "format elf
machine x86_64
elf-layout qemu
prstatus 1
ram 0 1M
ram 1M 15M zero
ram 16M 1M"
	[ "$(du -k "$BATS_TEST_TMPDIR/z.dump" | cut -f1)" -ge 16000 ]
	"$VMCOREFIX" "$BATS_TEST_TMPDIR/z.dump" -o "$BATS_TEST_TMPDIR/out" >/dev/null
	used=$(du -k "$BATS_TEST_TMPDIR/out" | cut -f1)
	cp --sparse=always "$BATS_TEST_TMPDIR/z.dump" "$BATS_TEST_TMPDIR/cp"
	[ "$used" -le $(( $(du -k "$BATS_TEST_TMPDIR/cp" | cut -f1) + 8 )) ]
	[ "$used" -lt 4096 ]
	cp "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/o.dump"
	cp "$BATS_TEST_TMPDIR/z.spec" "$BATS_TEST_TMPDIR/o.spec"
	same_read o 0 $((17 << 20))
}

@test "ELF aarch64: the kernel image's PT_LOAD from _text and kimage_voffset" {
	gen a "format elf
machine aarch64
prstatus 1
vmcoreinfo-line OSRELEASE=6.1.0-56-arm64
vmcoreinfo-line PAGESIZE=4096
vmcoreinfo-line SYMBOL(_text)=ffff800008000000
vmcoreinfo-line SYMBOL(swapper_pg_dir)=ffff800009a00000
vmcoreinfo-line NUMBER(kimage_voffset)=0xffff7fffc7e00000
vmcoreinfo-line NUMBER(PHYS_OFFSET)=0x40000000
ram 0x40000000 64M"
	run "$VMCOREFIX" "$BATS_TEST_TMPDIR/a.dump" -o "$BATS_TEST_TMPDIR/out"
	[ "$status" -eq 0 ]
	inspect_json "$BATS_TEST_TMPDIR/out"
	[ "$(jget '.elf.program_headers[1].vaddr')" = 0xffff800008000000 ]
	[ "$(jget '.elf.program_headers[1].paddr')" = 0x40200000 ]
	[ "$(jget '.elf.program_headers[1].filesz')" = $((0x1c00000)) ]
	off=$(jget '.elf.program_headers[1].offset')
	cmp <(tail -c +$((off + 1)) "$BATS_TEST_TMPDIR/out" | head -c 4096) \
		<("$VFREAD" "$BATS_TEST_TMPDIR/out" 0x40200000 4096)
}
