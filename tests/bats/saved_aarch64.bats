#!/usr/bin/env bats
# An arm virt saved VM state as DUMP: converted into the aarch64 ELF dump QEMU's
# dump-guest-memory writes. The streams are made by tests/gen/qevm.py --arch aarch64
# from a generated aarch64 dump (its RAM as mach-virt.ram pages from 0x40000000):
# arm "cpu" sections of version 22 as QEMU 7.2 writes them, whose registers qevm.py
# chooses (a banked SP copy that is not the live one, FPSCR bits of FPSR, of FPCR and
# of neither), and --expect writes the NT_PRSTATUS and NT_PRFPREG notes QEMU would
# write for them, computed apart from the C code. The real stream of QEMU 7.2 is in
# tests/real/real_aarch64.bats.

load helpers

QEVM=$SRCDIR/tests/gen/qevm.py
ELFCMP=$SRCDIR/tests/tools/elfcmp.py
NOTE=0x402f3000

setup() {
	need_binaries
	need_jq
	gen a64 "format elf
machine aarch64
page_size 4096
prstatus 1
ram 0x40000000 0x4000000
vmcoreinfo-note no
vmcoreinfo-line OSRELEASE=6.1.0-57-arm64
vmcoreinfo-line PAGESIZE=4096
vmcoreinfo-line SYMBOL(init_uts_ns)=ffff800009cf1a38
vmcoreinfo-line SYMBOL(_stext)=ffff800008010000
vmcoreinfo-line SYMBOL(swapper_pg_dir)=ffff80000a0f5000
vmcoreinfo-line OFFSET(uts_namespace.name)=4
vmcoreinfo-line NUMBER(PHYS_OFFSET)=0x40000000
vmcoreinfo-line NUMBER(kimage_voffset)=0xffff7fffc7e00000
vmcoreinfo-line KERNELOFFSET=0
vmcoreinfo-in-memory $NOTE"
	S=$BATS_TEST_TMPDIR/a64.dump
	cd "$BATS_TEST_TMPDIR"
}

# stream OUT [QEVM OPTION...]: an arm virt stream of the generated guest, with the
# vmcoreinfo device pointing at its note
stream() {
	local out=$1
	shift
	"$QEVM" from-elf "$S" "$out" --arch aarch64 --device "$NOTE" 1024 "$@"
}

# refused EXIT TEXT STREAM: vmcore-fix STREAM -o out.elf exits EXIT saying TEXT, and
# writes nothing
refused() {
	rm -f out.elf
	run "$VMCOREFIX" "$3" -o out.elf
	echo "$3: exit $status: $output"
	[ "$status" -eq "$1" ]
	[[ "$output" == *"$2"* ]]
	[ ! -e out.elf ]
}

@test "an arm virt stream is converted: RAM at 0x40000000, each vCPU's NT_PRSTATUS and NT_PRFPREG as QEMU writes them, the guest's note" {
	stream s.stream --cpus 2 --expect notes.want
	run "$VMCOREFIX" s.stream -o out.elf
	[ "$status" -eq 0 ] || { echo "$output" >&2; return 1; }
	[[ "$output" == *"found by vmcoreinfo device state saved in s.stream"* ]]
	# the notes, byte for byte, in QEMU's order (each vCPU's two in turn)
	"$QEVM" notes out.elf >notes.got
	diff notes.want notes.got
	[ "$(cut -d' ' -f1,2 notes.got | tr '\n' ' ')" = "CORE 1 CORE 2 CORE 1 CORE 2 " ]
	# every RAM byte at its physical address
	run "$ELFCMP" --ram-only out.elf "$S"
	[ "$status" -eq 0 ] || { echo "$output" >&2; return 1; }
	readelf -lW out.elf | grep -q 'LOAD .* 0x0000000040000000 0x0000000040000000 0x4000000 0x4000000'
	run "$VMCOREFIX" --check out.elf
	[ "$status" -eq 0 ] || { echo "$output" >&2; return 1; }
	inspect_json out.elf
	[ "$(jget .machine)" = aarch64 ]
	[ "$(jget .e_machine)" = 183 ]
	[ "$(jget .vmcoreinfo.values.OSRELEASE)" = 6.1.0-57-arm64 ]
	[ "$(jget '.notes | map(select(.name == "CORE")) | length')" = 4 ]
	[ "$(jget '.notes | map(select(.name == "QEMU")) | length')" = 0 ]
}

@test "--inspect of an arm saved state: aarch64 vCPUs, the SVE note QEMU adds is named as left out" {
	stream s.stream --cpus 2
	run "$VMCOREFIX" --inspect s.stream
	[ "$status" -eq 1 ] || { echo "$output" >&2; return 1; }
	[[ "$output" == *"machine:    virt-7.2"* ]]
	[[ "$output" == *"mapped: mach-virt.ram (64.0 MiB, layout virt)"* ]]
	[[ "$output" == *"vCPUs:      2, aarch64 in AArch64 state, little-endian"* ]]
	[[ "$output" == *"SVE:        2 vCPUs with SVE: QEMU's NT_ARM_SVE note is not written"* ]]
	inspect_json s.stream
	[ "$(jget .saved_state.vcpus)" = 2 ]
	[ "$(jget .saved_state.vcpu_arch)" = aarch64 ]
	[ "$(jget .saved_state.sve_notes_left_out)" = 2 ]
	[ "$(jget .machine)" = aarch64 ]
}

@test "arm: without the stream's description the fields are read from QEMU 7.2's layout: the same dump; a libvirt gzip image too" {
	stream s.stream
	stream nodesc.stream --no-description
	stream gz.img --libvirt gzip
	"$VMCOREFIX" s.stream -o a.elf >/dev/null
	"$VMCOREFIX" nodesc.stream -o b.elf >/dev/null
	cmp a.elf b.elf
	"$VMCOREFIX" gz.img -o c.elf >/dev/null
	cmp a.elf c.elf
	# a register list of another length is walked over the same way
	stream long.stream --cpregs 300 --expect long.want
	stream longnd.stream --cpregs 300 --no-description
	"$VMCOREFIX" long.stream -o d.elf >/dev/null
	"$VMCOREFIX" longnd.stream -o e.elf >/dev/null
	"$QEVM" notes d.elf | diff long.want -
	cmp d.elf e.elf
}

@test "arm: what cannot be read right is refused, with what and where: versions, layouts, states, byte order" {
	stream v21.stream --cpu-version 21
	refused 5 'arm "cpu" section version 21 of vCPU 0 (version 22 is read)' v21.stream
	# a description that gives a field another size than QEMU's layout
	stream pc.stream --desc-field env.pc 4
	refused 5 'lays out the arm "cpu" fields otherwise than the layout read here (env.pc, of vCPU 0)' pc.stream
	stream fpscr.stream --desc-field fpscr 8
	refused 5 '(fpscr, of vCPU 0)' fpscr.stream
	# a description whose register list is not the one the section holds
	stream list.stream --desc-cpregs 40
	refused 4 "vCPU 0's system register list has 48 entries, its description 40" list.stream
	stream a32.stream --aarch32
	refused 5 "vCPU 0: it was in AArch32 state (PSTATE.nRW)" a32.stream
	stream be.stream --big-endian
	refused 5 "vCPU 0: the guest is big-endian (SCTLR_EL1.EE)" be.stream
	# FPCR and FPSR in a subsection of their own (QEMU 9.1's cpu/vfp/fpcr_fpsr),
	# with and without the description
	stream fpcr.stream --fpcr-subsection
	refused 5 'continues in a "cpu/vfp/fpcr_fpsr" subsection' fpcr.stream
	stream fpcrnd.stream --fpcr-subsection --no-description
	refused 5 'continues in a "cpu/vfp/fpcr_fpsr" subsection' fpcrnd.stream
	# the same sections on a machine type we do not map
	stream m.stream --machine s390-ccw-virtio-7.2 --block s390.ram
	refused 5 "no RAM block 'pc.ram' (machine 's390-ccw-virtio-7.2'" m.stream
}

@test "arm hostile saved states: cut in a vCPU, one vCPU twice, a register list past the 32 KiB read; 512 vCPUs in bounded memory, 513 refused" {
	stream s.stream
	# cut inside the vCPU's section: its footer never comes
	off=$(grep -obUaP '\x03cpu\x00\x00\x00\x00\x00\x00\x00\x16' s.stream | head -n 1 | cut -d: -f1)
	[ -n "$off" ]
	head -c $((off + 2000)) s.stream >cut.stream
	refused 4 "has no footer before the stream ends" cut.stream
	stream dup.stream --dup-cpu
	refused 4 'a second "cpu" section for vCPU 0' dup.stream
	stream big.stream --cpregs 2100
	refused 5 "vCPU 0: its state is larger than the 32 KiB read of it" big.stream
	# the virt machine's most vCPUs: 32 KiB kept of each, in 512 MiB of address space
	stream max.stream --cpus 512 --cpregs 2
	run bash -c 'ulimit -v 524288; exec timeout 60 "$@"' - "$VMCOREFIX" max.stream -o out.elf
	[ "$status" -eq 0 ] || { echo "$output" >&2; return 1; }
	[ "$("$QEVM" notes out.elf | wc -l)" = 1024 ]
	rm -f out.elf
	stream many.stream --cpus 513 --cpregs 2
	run bash -c 'ulimit -v 524288; exec timeout 60 "$@"' - "$VMCOREFIX" many.stream -o out.elf
	[ "$status" -eq 5 ] || { echo "$output" >&2; return 1; }
	[[ "$output" == *"more than 512 vCPU sections"* ]]
	[ ! -e out.elf ]
}
