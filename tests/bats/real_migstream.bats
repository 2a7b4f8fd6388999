#!/usr/bin/env bats
# real_migstream.bats - the vmcoreinfo device's state in migration streams that real
# QEMU 7.2 wrote (tests/real/make-dumps.sh: QMP migrate to a file after stop), read by
# src/migstream.c through tests/tools/migread, checked against what the guest printed.
# Skips every test when make-dumps.sh exits 77 (QEMU, kernel or busybox missing).

load ../real/bats-helpers

setup_file() { real_setup_file; }

setup() {
	real_setup
	: "${BUILDDIR:=$REAL_SRCDIR/build}"
	MIGREAD=${MIGREAD:-$BUILDDIR/tests/tools/migread}
	[ -x "$MIGREAD" ] || skip "migread not built ($MIGREAD)"
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
