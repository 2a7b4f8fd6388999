#!/usr/bin/env bats
# The verdict oracle on the real QEMU 7.2 dumps (Debian 12 fixtures, host consumers):
# for every real dump and for its fixed output (vmcore-fix IN -o OUT, default options),
# `vmcore-fix --check` exits 0 exactly when every installed consumer reads the file
# (makedumpfile --dump-dmesg and -c -d 31 find the guest's marker; drgn without debug
# info reads init_uts_ns; with the debug vmlinux, drgn and crash too: see
# tests/real/oracle.bash). A flattened file is never read by makedumpfile or drgn, so
# --check must call it unhealthy.

# ORACLE_* are read by tests/real/oracle.bash; facts.env files exist only at run time.
# shellcheck disable=SC2034,SC1091
load ../bats/helpers
load oracle

setup_file() {
	real_setup || true
}

setup() {
	oracle_real_setup
}

# oracle SCENARIO FILE: the oracle on REAL/SCENARIO/FILE and on its fixed output
oracle() {
	[ -d "$REAL/$1" ] || skip "no $1 scenario in $REAL (see its generation.env)"
	[ -e "$REAL/$1/$2" ] || skip "no $2 in $REAL/$1 (see its variants.txt)"
	[ -n "$ORACLE_VMLINUX" ] || echo "# no debug vmlinux: drgn-debug and crash left out (tests/real/debug-vmlinux.sh $kver fetches it)" >&3
	local rc=0
	oracle_fix_and_agree "$REAL/$1/$2" "$REAL/$1" >"$BATS_TEST_TMPDIR/oracle.txt" 2>&1 || rc=$?
	cat "$BATS_TEST_TMPDIR/oracle.txt"
	[ "$rc" -eq 0 ]
}

@test "oracle, -device vmcoreinfo: QEMU's ELF" { oracle vmcoreinfo dump.elf; }
@test "oracle, -device vmcoreinfo: QEMU's kdump-zlib (reassembled)" { oracle vmcoreinfo dump.kdump-zlib; }
@test "oracle, -device vmcoreinfo: QEMU's kdump-zlib (flattened)" { oracle vmcoreinfo dump.kdump-zlib.flat; }
@test "oracle, no device: QEMU's ELF" { oracle nodevice dump.elf; }
@test "oracle, no device: QEMU's kdump-zlib (reassembled)" { oracle nodevice dump.kdump-zlib; }
@test "oracle, no device: QEMU's kdump-zlib (flattened)" { oracle nodevice dump.kdump-zlib.flat; }
@test "oracle, no qemu_fw_cfg: QEMU's ELF" { oracle nofwcfg dump.elf; }
@test "oracle, no qemu_fw_cfg: QEMU's kdump-zlib (reassembled)" { oracle nofwcfg dump.kdump-zlib; }
@test "oracle, no qemu_fw_cfg: QEMU's kdump-zlib (flattened)" { oracle nofwcfg dump.kdump-zlib.flat; }

@test "oracle: QEMU's kdump with only phys_base fixed (test tooling)" { oracle vmcoreinfo dump.kdump-zlib.fixed-phys-base; }
@test "oracle: QEMU's ELF with program headers first (test tooling)" { oracle vmcoreinfo dump.elf.phdrs-first; }
@test "oracle: makedumpfile -c -d 31 output" { oracle vmcoreinfo dump.mdf-zlib-d31; }
@test "oracle: makedumpfile -l -d 31 output" { oracle vmcoreinfo dump.mdf-lzo-d31; }
@test "oracle: makedumpfile -p -d 31 output" { oracle vmcoreinfo dump.mdf-snappy-d31; }
@test "oracle: makedumpfile -z -d 31 output" { oracle vmcoreinfo dump.mdf-zstd-d31; }
@test "oracle: makedumpfile -d 31 output (pages not compressed)" { oracle vmcoreinfo dump.mdf-none-d31; }
@test "oracle: makedumpfile -E -d 31 output (ELF)" { oracle vmcoreinfo dump.mdf-elf-d31; }
@test "oracle: makedumpfile -F -c -d 31 output (flattened)" { oracle vmcoreinfo dump.mdf-zlib-d31.flat; }
