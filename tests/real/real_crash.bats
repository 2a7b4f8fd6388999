#!/usr/bin/env bats
# crash reads vmcore-fix's output of real QEMU dumps: it finds the guest's marker in
# `log` and reports the guest's phys_base.  Needs the guest kernel's debug vmlinux
# (apt-get install linux-image-$(uname -r)-dbg, about 860 MB): skipped without it.

load ../bats/helpers

setup_file() {
	real_setup || true
}

setup() {
	[ -x "$VMCOREFIX" ] || skip "vmcore-fix not built ($VMCOREFIX)"
	command -v crash >/dev/null || skip "crash not installed"
	real_dir
	kver=$(. "$REAL/vmcoreinfo/facts.env"; echo "$KERNEL_VERSION")
	VMLINUX=$(debug_vmlinux "$kver") || skip "no debug vmlinux (tests/real/debug-vmlinux.sh $kver fetches it)"
}

@test "crash: QEMU's ELF and kdump-zlib dumps after the fix" {
	"$VMCOREFIX" "$REAL/vmcoreinfo/dump.elf" -o "$BATS_TEST_TMPDIR/f.elf" >/dev/null
	crash_sees "$BATS_TEST_TMPDIR/f.elf" vmcoreinfo
	rm -f "$BATS_TEST_TMPDIR/f.elf"
	"$VMCOREFIX" "$REAL/vmcoreinfo/dump.kdump-zlib" -o "$BATS_TEST_TMPDIR/f.kdump" >/dev/null
	crash_sees "$BATS_TEST_TMPDIR/f.kdump" vmcoreinfo
}

@test "crash: dumps of a guest without -device vmcoreinfo, with the note added from its sysfs line" {
	for f in dump.elf dump.kdump-zlib; do
		"$VMCOREFIX" "$REAL/nodevice/$f" -o "$BATS_TEST_TMPDIR/n" \
			--region-file "$REAL/nodevice/guest-vmcoreinfo.txt" >/dev/null
		crash_sees "$BATS_TEST_TMPDIR/n" nodevice
		rm -f "$BATS_TEST_TMPDIR/n"
	done
}

@test "crash: QEMU's kdump-zlib (raw and flattened) as an ELF dump (--output-format elf)" {
	for f in dump.kdump-zlib dump.kdump-zlib.flat; do
		[ -e "$REAL/vmcoreinfo/$f" ] || continue
		"$VMCOREFIX" "$REAL/vmcoreinfo/$f" -o "$BATS_TEST_TMPDIR/f.elf" --output-format elf >/dev/null
		[ "$(head -c 4 "$BATS_TEST_TMPDIR/f.elf" | od -An -tx1 | tr -d ' ')" = 7f454c46 ]
		"$VMCOREFIX" --check "$BATS_TEST_TMPDIR/f.elf"
		crash_sees "$BATS_TEST_TMPDIR/f.elf" vmcoreinfo
		rm -f "$BATS_TEST_TMPDIR/f.elf"
	done
}
