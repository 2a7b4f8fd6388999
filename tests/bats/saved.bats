#!/usr/bin/env bats
# A saved VM state as DUMP: a QEMU migration stream (or a libvirt save image of
# one) converted into an ELF dump by -o. The streams are made by tests/gen/qevm.py
# from the generator's sample dump: its RAM as pc.ram pages, two x86_64 vCPUs
# whose registers qevm.py chooses, the vmcoreinfo device pointing at the sample's
# note. qevm.py also writes the CPU notes QEMU's own dump would hold for those
# vCPUs (--expect), computed apart from the C code. The real streams of QEMU 7.2
# are in tests/real/real_convert.bats, real libvirt's files in real_saved.bats.

load helpers

QEVM=$SRCDIR/tests/gen/qevm.py
ELFCMP=$SRCDIR/tests/tools/elfcmp.py

setup() {
	need_binaries
	need_jq
	gen sample "$(grep -v '^#' "$SRCDIR/tests/gen/specs/sample.spec")"
	S=$BATS_TEST_TMPDIR/sample.dump
	cd "$BATS_TEST_TMPDIR"
}

# stream OUT [QEVM OPTION...]: a stream of the sample's guest
stream() {
	local out=$1
	shift
	"$QEVM" from-elf "$S" "$out" "$@"
}

@test "a migration stream is converted: RAM as QEMU dumps it, the vCPUs' notes as QEMU writes them, the guest's note" {
	stream s.stream --device 0x13ae000 1024 --expect notes.want
	run "$VMCOREFIX" s.stream -o out.elf
	[ "$status" -eq 0 ] || { echo "$output" >&2; return 1; }
	[[ "$output" == *"found by vmcoreinfo device state saved in s.stream"* ]]
	[[ "$output" == *"an ELF dump of the saved state's memory"* ]]
	# the notes, byte for byte
	"$QEVM" notes out.elf >notes.got
	diff notes.want notes.got
	# every RAM byte, at its physical address (the sample's legacy VGA window is
	# left out, as QEMU leaves it out)
	run "$ELFCMP" --ram-only out.elf "$S"
	[ "$status" -eq 0 ] || { echo "$output" >&2; return 1; }
	! readelf -lW out.elf | grep -q ' 0x00000000000a0000 ' || false
	run "$VMCOREFIX" --check out.elf
	[ "$status" -eq 0 ] || { echo "$output" >&2; return 1; }
	# the note's text is the guest's
	inspect_json out.elf
	[ "$(jget .vmcoreinfo.values.OSRELEASE)" = 6.1.0-56-amd64 ]
	[ "$(jget '.notes | map(select(.name == "CORE")) | length')" = 2 ]
}

@test "--inspect of a saved state says what it is and what the conversion does; --check says fixable" {
	stream s.stream --device 0x13ae000 1024
	run "$VMCOREFIX" --inspect s.stream
	[ "$status" -eq 1 ] || { echo "$output" >&2; return 1; }
	[[ "$output" == *"format:       saved VM state"* ]]
	[[ "$output" == *"machine:    pc-q35-7.2"* ]]
	[[ "$output" == *"vCPUs:      2, x86_64 in 64-bit mode"* ]]
	[[ "$output" == *"vmcoreinfo: present, written by the guest"* ]]
	[[ "$output" == *"saved-state: the file is a saved VM state"* ]]
	[[ "$output" == *"guest note:   0x13ae000+0x400 (from the vmcoreinfo device state"*"valid"* ]]
	inspect_json s.stream
	[ "$(jget .saved_state.vcpus)" = 2 ]
	[ "$(jget .saved_state.machine_type)" = pc-q35-7.2 ]
	[ "$(jget .saved_state.vmcoreinfo_written)" = true ]
	[ "$(jget '.saved_state.ram_blocks[0].name')" = pc.ram ]
	[ "$(jget .saved_state.libvirt)" = false ]
	has_problem saved-state
	run "$VMCOREFIX" --check s.stream
	[ "$status" -eq 1 ] || { echo "$output" >&2; return 1; }
}

@test "a libvirt save image, raw or gzip: the same dump; the domain is named; no file is left behind" {
	stream s.stream --device 0x13ae000 1024
	stream raw.img --device 0x13ae000 1024 --libvirt raw
	stream gz.img --device 0x13ae000 1024 --libvirt gzip
	"$VMCOREFIX" s.stream -o want.elf >/dev/null
	mkdir tmp
	for f in raw.img gz.img; do
		TMPDIR=$PWD/tmp run "$VMCOREFIX" "$f" -o "$f.elf"
		[ "$status" -eq 0 ] || { echo "$f: $output" >&2; return 1; }
		cmp want.elf "$f.elf"
	done
	# the gzip stream was decompressed beside the output, into an unnamed file
	[ -z "$(ls -A tmp)" ]
	[ "$(ls -A | grep -c vmcore-fix)" = 0 ]
	run "$VMCOREFIX" --inspect gz.img
	[[ "$output" == *"in a libvirt save image (stream at offset "*"), gzip-compressed"* ]]
	[[ "$output" == *"domain:     vf-test (uuid 6d3f0b1e-3c2a-4f4e-9b7d-1a2b3c4d5e6f)"* ]]
	inspect_json gz.img
	[ "$(jget .saved_state.compressed)" = gzip ]
	[ "$(jget .saved_state.domain_name)" = vf-test ]
}

@test "no vmcoreinfo device: the conversion scans the saved guest memory for the note" {
	gen scan "format elf
machine x86_64
vmcoreinfo-note no
$KTEXT_OK
ram 0 4M
vmcoreinfo-in-memory 0x2f3000"
	S=$BATS_TEST_TMPDIR/scan.dump
	stream s.stream
	run "$VMCOREFIX" --inspect s.stream
	[[ "$output" == *"vmcoreinfo: absent (the VM had no -device vmcoreinfo)"* ]]
	run "$VMCOREFIX" s.stream -o out.elf
	[ "$status" -eq 0 ] || { echo "$output" >&2; return 1; }
	[[ "$output" == *"saved state set aside: "*"no vmcoreinfo device"* ]]
	[[ "$output" == *"found by scan"* ]]
	run "$VMCOREFIX" --check out.elf
	[ "$status" -eq 0 ]
	# scanning off: nothing says where the note is
	run "$VMCOREFIX" s.stream --no-scan -o out2.elf
	[ "$status" -eq 3 ] || { echo "$output" >&2; return 1; }
	[ ! -e out2.elf ]
}

@test "without the stream's description the fields are read from QEMU's table: the same dump" {
	stream s.stream --device 0x13ae000 1024
	stream nodesc.stream --device 0x13ae000 1024 --no-description
	"$VMCOREFIX" s.stream -o a.elf >/dev/null
	"$VMCOREFIX" nodesc.stream -o b.elf >/dev/null
	cmp a.elf b.elf
}

@test "what cannot be read right is refused, with what and where: versions, layouts, modes, machines" {
	stream v10.stream --device 0x13ae000 1024 --cpu-version 10
	run "$VMCOREFIX" v10.stream -o out.elf
	[ "$status" -eq 5 ] || { echo "$output" >&2; return 1; }
	[[ "$output" == *"\"cpu\" section version 10 of vCPU 0"* ]]
	# a description that gives a field another size than the one read
	stream moved.stream --device 0x13ae000 1024 --desc-field env.eip 4
	run "$VMCOREFIX" moved.stream -o out.elf
	[ "$status" -eq 5 ] || { echo "$output" >&2; return 1; }
	[[ "$output" == *"description lays out the x86 \"cpu\" fields otherwise"*"(env.eip)"* ]]
	stream real.stream --device 0x13ae000 1024 --real-mode
	run "$VMCOREFIX" real.stream -o out.elf
	[ "$status" -eq 5 ] || { echo "$output" >&2; return 1; }
	[[ "$output" == *"vCPU 0 is not in 64-bit mode"* ]]
	stream lma.stream --device 0x13ae000 1024 --lma-mismatch
	run "$VMCOREFIX" lma.stream -o out.elf
	[ "$status" -eq 4 ] || { echo "$output" >&2; return 1; }
	[[ "$output" == *"vCPU 0's state disagrees with itself: hflags says long mode on, EFER says off"* ]]
	# x86 vCPU sections on an arm virt machine: not arm's (tests/bats/saved_aarch64.bats
	# converts arm virt streams)
	stream arm.stream --machine virt-7.2 --block mach-virt.ram
	run "$VMCOREFIX" arm.stream -o out.elf
	[ "$status" -eq 5 ] || { echo "$output" >&2; return 1; }
	[[ "$output" == *"arm \"cpu\" section version 12 of vCPU 0 (version 22 is read)"* ]]
	[ ! -e out.elf ]
	stream s390.stream --machine s390-ccw-virtio-7.2 --block s390.ram
	run "$VMCOREFIX" s390.stream -o out.elf
	[ "$status" -eq 5 ] || { echo "$output" >&2; return 1; }
	[[ "$output" == *"no RAM block 'pc.ram' (machine 's390-ccw-virtio-7.2'"* ]]
	[ ! -e out.elf ]
	# a conversion is a plain file (flattened only to -o -); no kdump writer
	stream ok.stream --device 0x13ae000 1024
	run "$VMCOREFIX" ok.stream --output-format flattened -o out.elf
	[ "$status" -eq 5 ] || { echo "$output" >&2; return 1; }
	[[ "$output" == *"written as a plain file, not flattened"* ]]
	[ ! -e out.elf ]
	# never in place
	stream s.stream --device 0x13ae000 1024
	cp s.stream keep.stream
	run "$VMCOREFIX" --in-place s.stream
	[ "$status" -eq 5 ] || { echo "$output" >&2; return 1; }
	[[ "$output" == *"never changed in place"* ]]
	cmp s.stream keep.stream
}

@test "hostile saved states: cut short, one vCPU twice, more vCPUs than the limit: one line each, bounded" {
	stream s.stream --device 0x13ae000 1024
	# in the header, in the RAM pages, in the first vCPU's state
	cpu=$(grep -abo -m 1 $'\x03cpu\x00\x00\x00\x00' s.stream | cut -d: -f1)
	for cut in 100 $(($(stat -c %s s.stream) / 2)) $((cpu + 400)); do
		head -c "$cut" s.stream >cut.stream
		run "$VMCOREFIX" cut.stream -o out.elf
		[ "$status" -eq 4 ] || { echo "cut at $cut: exit $status: $output" >&2; return 1; }
		[ "${#lines[@]}" -eq 1 ]
		[ ! -e out.elf ]
	done
	gen tiny "format elf
machine x86_64
ram 0 0x100000"
	S=$BATS_TEST_TMPDIR/tiny.dump
	stream many.stream --cpus 4097 --no-description
	run timeout 60 "$VMCOREFIX" --inspect many.stream
	[ "$status" -eq 5 ] || { echo "exit $status: $output" >&2; return 1; }
	[[ "$output" == *"more than 4096 vCPU sections"* ]]
	# the same cpu_index twice
	stream dup.stream --cpus 1 --dup-cpu --no-description
	run "$VMCOREFIX" --inspect dup.stream
	[ "$status" -eq 4 ] || { echo "exit $status: $output" >&2; return 1; }
	[[ "$output" == *"a second \"cpu\" section for vCPU 0"* ]]
}

@test "a file that is neither a dump nor a saved state: the error names what it looks like" {
	printf 'hello, this is a plain text file\n' >t.txt
	gzip -c t.txt >t.gz
	printf '\3757zXZ\0' >t.xz
	head -c 200 /dev/urandom >>t.xz
	for f in "t.txt:not a dump: it looks like text" \
		 "t.gz:gzip-compressed file, but once decompressed neither a QEMU migration stream nor a libvirt save image (it starts with 68 65 6c 6c)" \
		 "t.xz:xz"; do
		run "$VMCOREFIX" --inspect "${f%%:*}"
		[ "$status" -eq 4 ] || { echo "$f: exit $status: $output" >&2; return 1; }
		[ "${#lines[@]}" -eq 1 ]
		[[ "$output" == *"${f#*:}"* ]] || { echo "$f: $output" >&2; return 1; }
	done
}

@test "--memory-layout without --memory goes with a saved state's DUMP only (usage error otherwise, one line)" {
	stream s.stream --device 0x13ae000 1024
	run "$VMCOREFIX" s.stream --memory-layout q35 -o l.elf
	[ "$status" -eq 0 ] || { echo "$output" >&2; return 1; }
	run "$VMCOREFIX" --check --memory-layout q35 "$S"
	[ "$status" -eq 2 ]
	[[ "$output" == *"sample.dump: --memory-layout without --memory gives a saved state's RAM layout, and this DUMP is no saved state"* ]]
	run bash -c '"$0" --check --memory-layout q35 - <"$1"' "$VMCOREFIX" "$S"
	[ "$status" -eq 2 ]
	[[ "$output" == *"standard input: --memory-layout without --memory gives a saved state's RAM layout, and this DUMP is no saved state"* ]]
}

@test "a saved state on standard input (a pipe, compressed or not, or a file): the same dump as from its file; -o - too" {
	stream s.stream --device 0x13ae000 1024
	"$VMCOREFIX" s.stream -o want.elf >/dev/null
	cat s.stream | "$VMCOREFIX" - -o pipe.elf >/dev/null
	cmp want.elf pipe.elf
	"$VMCOREFIX" - -o file.elf <s.stream >/dev/null
	cmp want.elf file.elf
	"$VMCOREFIX" s.stream -o want.kd --output-format kdump >/dev/null
	gzip -1c s.stream | "$VMCOREFIX" - -o gz.kd --output-format kdump >/dev/null
	cmp want.kd gz.kd
	run bash -c 'cat "$1" | "$0" --check -' "$VMCOREFIX" s.stream
	[ "$status" -eq 1 ]
	[[ "$output" == *"found by vmcoreinfo device state saved in standard input"* ]]
	if command -v makedumpfile >/dev/null; then
		cat s.stream | "$VMCOREFIX" - -o - 2>/dev/null | makedumpfile -R back.elf >/dev/null 2>&1
		cmp want.elf back.elf
	fi
}
