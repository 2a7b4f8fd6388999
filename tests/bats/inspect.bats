#!/usr/bin/env bats
# --inspect finds each problem it documents, on generated dumps.

load helpers

setup() {
	need_binaries
	need_jq
}

@test "a healthy dump: no problems, exit 0, text report" {
	gen h "format elf
machine x86_64
elf-layout standard
ram 0 1M"
	inspect_json "$BATS_TEST_TMPDIR/h.dump"
	[ "$status" -eq 0 ]
	[ "$(jget '.problems | length')" = 0 ]
	run "$VMCOREFIX" --inspect "$BATS_TEST_TMPDIR/h.dump"
	[ "$status" -eq 0 ]
	[[ "$output" == *"format:       ELF core"* ]]
	[[ "$output" == *"OSRELEASE"*"6.1.0-56-amd64"* ]]
	[[ "$output" == *"problems:     0"* ]]
}

@test "QEMU-like ELF without note: no-vmcoreinfo, QEMU layout findings, exit 1" {
	gen q "format elf
machine x86_64
elf-layout qemu
vmcoreinfo-note no
ram 0 1M"
	inspect_json "$BATS_TEST_TMPDIR/q.dump"
	[ "$status" -eq 1 ]
	has_problem no-vmcoreinfo
	has_problem elf-phdrs-not-after-ehdr
	has_problem elf-bad-ehsize
	[ "$(jget .vmcoreinfo)" = null ]
}

@test "ELF note placement: PT_NOTE last, two PT_NOTEs, notes after the data" {
	gen a "format elf
machine x86_64
elf-layout standard
pt-note-position last
ram 0 1M"
	inspect_json "$BATS_TEST_TMPDIR/a.dump"
	has_problem elf-pt-note-not-first
	gen b "format elf
machine x86_64
elf-layout standard
pt-note-count 2
prstatus 1
ram 0 1M"
	inspect_json "$BATS_TEST_TMPDIR/b.dump"
	has_problem elf-multiple-pt-note
	gen c "format elf
machine x86_64
elf-layout standard
notes-after-data yes
ram 0 1M"
	inspect_json "$BATS_TEST_TMPDIR/c.dump"
	has_problem elf-note-after-load-data
}

@test "QEMU-like kdump: phys_base digits parsed as hex, utsname with machine only" {
	gen k "format kdump
machine x86_64
compress zlib
flattened yes
phys_base 0xfffffffcfe676778
ram 0 1M"
	inspect_json "$BATS_TEST_TMPDIR/k.dump"
	[ "$status" -eq 1 ]
	has_problem kdump-phys-base-mismatch
	has_problem kdump-utsname-incomplete
	[ "$(jget .kdump.phys_base)" = 0xfffffffcfe676778 ]
	[ "$(jget .vmcoreinfo.phys_base)" = 0xffffffffee000000 ]
	msg=$(jget '.problems[] | select(.id == "kdump-phys-base-mismatch") | .message')
	[[ "$msg" == *"0xfffffffcfe676778"*"NUMBER(phys_base)=-301989888"* ]]
	[ "$(jget '.problems[] | select(.id == "kdump-phys-base-mismatch") | .offset')" = 0x1000 ]
}

@test "kdump VMCOREINFO pointer missing, wrong; old header version" {
	gen m "format kdump
machine x86_64
compress zlib
kdump-vmcoreinfo-pointer no
ram 0 1M"
	inspect_json "$BATS_TEST_TMPDIR/m.dump"
	has_problem kdump-vmcoreinfo-pointer-missing
	gen w "format kdump
machine x86_64
compress zlib
kdump-vmcoreinfo-pointer bad
ram 0 1M"
	inspect_json "$BATS_TEST_TMPDIR/w.dump"
	has_problem kdump-vmcoreinfo-pointer-wrong
	gen o "format kdump
machine x86_64
compress zlib
header_version 3
ram 0 1M"
	inspect_json "$BATS_TEST_TMPDIR/o.dump"
	has_problem kdump-old-header-version
	! has_problem no-vmcoreinfo || false
}

@test "a kdump header with utsname filled by makedumpfile is not reported" {
	gen u "format kdump
machine x86_64
compress zlib
utsname sysname Linux
utsname release 6.1.0-56-amd64
utsname version #1 SMP
ram 0 1M"
	inspect_json "$BATS_TEST_TMPDIR/u.dump"
	! has_problem kdump-utsname-incomplete || false
	! has_problem kdump-utsname-release-mismatch || false
	[ "$(jget .kdump.utsname.release)" = 6.1.0-56-amd64 ]
}

@test "VMCOREINFO without OSRELEASE, duplicate VMCOREINFO notes" {
	gen v "format elf
machine x86_64
elf-layout standard
vmcoreinfo-line PAGESIZE=4096
vmcoreinfo-line NUMBER(phys_base)=0
ram 0 1M"
	inspect_json "$BATS_TEST_TMPDIR/v.dump"
	has_problem vmcoreinfo-missing-key
	jget '.problems[].message' | grep -q OSRELEASE
	gen d "format elf
machine x86_64
elf-layout standard
note VMCOREINFO 0 4f5352454c454153453d310a
ram 0 1M"
	inspect_json "$BATS_TEST_TMPDIR/d.dump"
	has_problem duplicate-vmcoreinfo
	[ "$(jget .vmcoreinfo.count)" = 2 ]
}

@test "a malformed note is reported with its offset; the dump still opens" {
	gen n "format elf
machine x86_64
elf-layout standard
prstatus 1
note-descsz-overflow yes
ram 0 1M"
	inspect_json "$BATS_TEST_TMPDIR/n.dump"
	[ "$status" -eq 1 ]
	has_problem malformed-note
	[ "$(jget '.problems[] | select(.id == "malformed-note") | .offset')" != null ]
}

@test "--verbose lists every program header" {
	gen p "format elf
machine x86_64
ram 0 1M
extra-loads 40"
	run "$VMCOREFIX" --inspect --verbose "$BATS_TEST_TMPDIR/p.dump"
	[ "$(grep -c -E '^  \[[0-9]+\] PT_LOAD' <<<"$output")" -eq 41 ]
}

@test "the JSON report is valid and has every documented top-level member" {
	gen j "format kdump
machine x86_64
compress zlib
ram 0 1M"
	inspect_json "$BATS_TEST_TMPDIR/j.dump"
	for k in schema file format flattened file_size logical_size class byte_order machine \
		 e_machine compression page_size memory kdump notes vmcoreinfo problems; do
		jq -e --arg k "$k" 'has($k)' <<<"$json" >/dev/null
	done
	[ "$(jget .schema)" = vmcore-fix-inspect/1 ]
}

@test "the README sample dump inspects as documented" {
	gen s "$(cat "$SRCDIR/tests/gen/specs/sample.spec")"
	inspect_json "$BATS_TEST_TMPDIR/s.dump"
	[ "$status" -eq 1 ]
	has_problem no-vmcoreinfo
}

@test "--region, --region-file and --fw-cfg find the note in guest memory" {
	gen s "$(cat "$SRCDIR/tests/gen/specs/sample.spec")"
	inspect_json "$BATS_TEST_TMPDIR/s.dump"
	[ "$(jget .guest_note)" = null ]
	run "$VMCOREFIX" --inspect --json --region 0x13ae000,0x1024 "$BATS_TEST_TMPDIR/s.dump"
	json=$output
	[ "$(jget .guest_note.valid)" = true ]
	[ "$(jget .guest_note.osrelease)" = 6.1.0-56-amd64 ]
	[ "$(jget .guest_note.origin)" = argument ]
	echo "0x00000000013ae000 1024" > "$BATS_TEST_TMPDIR/sysfs"
	run "$VMCOREFIX" --inspect --json --region-file "$BATS_TEST_TMPDIR/sysfs" "$BATS_TEST_TMPDIR/s.dump"
	json=$output
	[ "$(jget .guest_note.origin)" = sysfs ]
	[ "$(jget .guest_note.valid)" = true ]
	printf '\x00\x00\x01\x00\x24\x10\x00\x00\x00\xe0\x3a\x01\x00\x00\x00\x00' > "$BATS_TEST_TMPDIR/fw"
	run "$VMCOREFIX" --inspect --json --fw-cfg "$BATS_TEST_TMPDIR/fw" "$BATS_TEST_TMPDIR/s.dump"
	json=$output
	[ "$(jget .guest_note.origin)" = fw-cfg ]
	[ "$(jget .guest_note.paddr)" = 0x13ae000 ]
	[ "$(jget .guest_note.valid)" = true ]
	run "$VMCOREFIX" --inspect --region 0x13ae000,0x1024 "$BATS_TEST_TMPDIR/s.dump"
	[[ "$output" == *"guest note:   0x13ae000+0x1024"*"valid"* ]]
}

@test "a region that does not hold the note: guest-note-invalid with the reason" {
	gen s "$(cat "$SRCDIR/tests/gen/specs/sample.spec")"
	run "$VMCOREFIX" --inspect --json --region 0x13ad000,0x1024 "$BATS_TEST_TMPDIR/s.dump"
	[ "$status" -eq 1 ]
	json=$output
	[ "$(jget .guest_note.valid)" = false ]
	has_problem guest-note-invalid
	[[ "$(jget .guest_note.error)" == *"VMCOREINFO note from the command line: note sizes"*"run past the region"* ]]
	run "$VMCOREFIX" --inspect --json --region 0x40000000,0x1024 "$BATS_TEST_TMPDIR/s.dump"
	json=$output
	[[ "$(jget .guest_note.error)" == *"not in this dump"* ]]
}

@test "a guest note that differs from the dump's is reported" {
	# the in-memory note has the dump's text but one byte; overlays apply in order
	gen g "format elf
machine x86_64
elf-layout standard
ram 0 2M
vmcoreinfo-in-memory 0x100000
bytes 0x100022 37"
	run "$VMCOREFIX" --inspect --json --region 0x100000,0x1000 "$BATS_TEST_TMPDIR/g.dump"
	json=$output
	[ "$(jget .guest_note.valid)" = true ]
	[ "$(jget .guest_note.same_as_dump_note)" = false ]
	has_problem guest-note-differs
}
