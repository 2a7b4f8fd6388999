#!/usr/bin/env bats
# real_migstream.bats - the vmcoreinfo device's state in migration streams that real
# QEMU 7.2 wrote (tests/real/make-dumps.sh: QMP migrate to a file after stop), read by
# src/migstream.c through tests/tools/migread, checked against what the guest printed;
# and guest memory from the streams' RAM pages (migread --read), checked byte for byte
# against the ELF dump QEMU wrote of the same stopped guest (tests/tools/vfread).
# Skips every test when make-dumps.sh exits 77 (QEMU, kernel or busybox missing).

load ../real/bats-helpers

setup_file() { real_setup_file; }

setup() {
	real_setup
	: "${BUILDDIR:=$REAL_SRCDIR/build}"
	MIGREAD=${MIGREAD:-$BUILDDIR/tests/tools/migread}
	[ -x "$MIGREAD" ] || skip "migread not built ($MIGREAD)"
	VFREAD=${VFREAD:-$BUILDDIR/tests/tools/vfread}
}

# mig KEY: the value migread printed for KEY
mig() { sed -n "s/^$1=//p" <<<"$output"; }

@test "real stream, -device vmcoreinfo: paddr and size are the guest's /sys/kernel/vmcoreinfo" {
	real_scenario vmcoreinfo
	run "$MIGREAD" migration.stream
	[ "$status" -eq 0 ] || { echo "migread exited $status: $output" >&2; return 1; }
	assert_eq "$(mig found)" 1 found
	assert_eq "$(mig has_vmcoreinfo)" 1 has_vmcoreinfo
	assert_eq "$(mig guest_format)" 1 guest_format
	assert_eq "$(mig paddr)" "$(hexnorm "$VMCI_PADDR")" paddr
	assert_eq "$(mig size)" "$(hexnorm "$VMCI_SIZE")" size
	assert_eq "$(mig region)" "$(hexnorm "$VMCI_PADDR") $(hexnorm "$VMCI_SIZE")" region
	[[ "$(mig machine)" == pc-* ]] || { echo "machine: $(mig machine)" >&2; return 1; }
	assert_eq "$(mig footers)" 1 footers
	assert_eq "$(mig scanned)" 0 scanned
	# the RAM block list, its pages stepped over, not read
	assert_eq "$(mig ramblock | grep '^pc.ram ')" "pc.ram $(hexnorm $((RAM_MB << 20)))" pc.ram
	# the section is where migread says: type 4, id, "\x0avmcoreinfo"
	off=$(mig section_offset)
	assert_eq "$(od -An -v -j "$((off + 5))" -N 11 -c migration.stream | tr -d ' \n')" \
		'\nvmcoreinfo' "bytes at section_offset $off"
}

@test "real stream, guest without qemu_fw_cfg: refused, the guest never wrote etc/vmcoreinfo" {
	real_scenario nofwcfg
	run "$MIGREAD" migration.stream
	[ "$status" -eq 3 ] || { echo "migread exited $status: $output" >&2; return 1; }
	assert_eq "$(mig found)" 1 found
	assert_eq "$(mig has_vmcoreinfo)" 0 has_vmcoreinfo
	assert_eq "$(mig host_format)" 1 host_format
	assert_eq "$(mig guest_format)" 0 guest_format
	[[ "$output" == *"never wrote etc/vmcoreinfo"* ]]
	[[ "$output" == *"at offset $(mig state_offset)"* ]]
	[[ "$output" == *"hint:"* ]]
}

@test "real stream without -device vmcoreinfo: said plainly, after walking to EOF" {
	real_scenario nodevice
	run "$MIGREAD" migration.stream
	[ "$status" -eq 4 ] || { echo "migread exited $status: $output" >&2; return 1; }
	assert_eq "$(mig found)" 0 found
	[[ "$output" == *"the VM had no -device vmcoreinfo"* ]]
	[ -n "$(mig eof_offset)" ]
	assert_eq "$(mig description_vmcoreinfo)" 0 description_vmcoreinfo
}

# same_memory PADDR LEN: the stream's RAM pages and dump.elf agree on LEN bytes at PADDR
same_memory() {
	local m=$BATS_TEST_TMPDIR/m.bin v=$BATS_TEST_TMPDIR/v.bin rc=0
	"$MIGREAD" --read migration.stream "$1" "$2" >"$m" || rc=$?
	[ "$rc" -eq 0 ] || { echo "migread --read $1 $2 exited $rc" >&2; return 1; }
	"$VFREAD" dump.elf "$1" "$2" >"$v" || { echo "vfread dump.elf $1 $2 failed" >&2; return 1; }
	assert_eq "$(stat -c %s "$m")" "$(($2))" "bytes read at $1"
	cmp "$m" "$v" || { echo "$PWD: stream and dump.elf differ at $1 (+$2)" >&2; return 1; }
}

# mem_scenario NAME: the note, a few fixed addresses and all of RAM the dump has
mem_scenario() {
	real_scenario "$1"
	[ -x "$VFREAD" ] || skip "vfread not built ($VFREAD)"
	run "$MIGREAD" --mem-info migration.stream
	[ "$status" -eq 0 ] || { echo "migread --mem-info exited $status: $output" >&2; return 1; }
	assert_eq "$(mig block)" pc.ram block
	assert_eq "$(mig layout)" q35 "layout from machine pc-q35-*"
	assert_eq "$(mig range)" "0x0 $(hexnorm $((RAM_MB << 20)))" range
	# a stopped guest: every page of pc.ram sent once
	assert_eq "$(mig records)" $((RAM_MB << 8)) records
	same_memory "$VMCI_PADDR" 0x1024
	for a in 0x1000 0x100000 0x8000000 0x1f000000; do
		same_memory "$a" 0x1024
	done
	# all of RAM below the dump's VGA hole, and above it up to the end of RAM
	same_memory 0 0xa0000
	same_memory 0xc0000 $(((RAM_MB << 20) - 0xc0000))
	# the note itself is there
	"$MIGREAD" --read migration.stream "$VMCI_PADDR" 0x40 | grep -qa VMCOREINFO
	# past the end of RAM: not present, exit 3
	run "$MIGREAD" --read migration.stream $((RAM_MB << 20)) 16
	[ "$status" -eq 3 ] || { echo "past RAM: exit $status: $output" >&2; return 1; }
	[[ "$output" == *"not in RAM block 'pc.ram'"* ]]
}

@test "real stream, -device vmcoreinfo: guest memory from its RAM pages equals dump.elf" {
	mem_scenario vmcoreinfo
}

@test "real stream without -device vmcoreinfo: guest memory equals dump.elf" {
	mem_scenario nodevice
}

@test "real stream, guest without qemu_fw_cfg: guest memory equals dump.elf" {
	mem_scenario nofwcfg
}
