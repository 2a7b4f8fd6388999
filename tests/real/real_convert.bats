#!/usr/bin/env bats
# real_convert.bats - the migration streams real QEMU 7.2 wrote of a stopped guest
# (tests/real/make-dumps.sh: QMP migrate to a file, after its dump-guest-memory of the
# same stopped state) converted into ELF dumps by `vmcore-fix STREAM -o OUT`.
# Oracle: QEMU's own dump.elf of that state (tests/tools/elfcmp.py: every RAM byte at
# its physical address, the vCPUs' CORE and QEMU notes byte for byte, the VMCOREINFO
# text), and the consumers (tests/real/oracle.bash: makedumpfile --dump-dmesg and -d 31,
# drgn, crash with the debug vmlinux), with --check agreeing, on the stream and on OUT.
# The libvirt captures (virsh dump, save, managedsave, snapshots) are in real_saved.bats.

# ORACLE_* are read by tests/real/oracle.bash.
# shellcheck disable=SC2034
load ../bats/helpers
load oracle

setup_file() {
	real_setup || true
}

setup() {
	oracle_real_setup
	ELFCMP=$SRCDIR/tests/tools/elfcmp.py
	ORACLE_ALL=1
}

# real_scenario SCENARIO: into $REAL/SCENARIO (skips when it is not there)
real_scenario() {
	[ -d "$REAL/$1" ] || skip "no $1 scenario in $REAL"
	cd "$REAL/$1"
}

# convert SCENARIO [OPTION...]: the scenario's stream through oracle_fix_and_agree, and
# the output against QEMU's dump.elf (ORACLE_OUT is kept as $BATS_TEST_TMPDIR/conv.elf)
convert() {
	local sc=$1
	shift
	real_scenario "$sc"
	[ -f migration.stream ] || skip "no migration.stream in the $sc scenario"
	oracle_fix_and_agree migration.stream "$PWD" "$@" || return 1
	[ "$ORACLE_FIX" = 0 ] && [ "$ORACLE_OUT_OK" = 1 ] || return 1
	# the stream itself is no dump (the consumers failed on it, above): fixable
	local rc=0
	"$VMCOREFIX" --check migration.stream >/dev/null 2>&1 || rc=$?
	[ "$rc" = 1 ] || { echo "--check of the stream exited $rc" >&2; return 1; }
	"$VMCOREFIX" migration.stream -o "$BATS_TEST_TMPDIR/conv.elf" "$@" >/dev/null
	"$ELFCMP" "$BATS_TEST_TMPDIR/conv.elf" dump.elf
}

@test "real stream, -device vmcoreinfo: the converted dump is QEMU's own dump of that state, and every consumer reads it" {
	convert vmcoreinfo
	# the kernel image's PT_LOAD at the note's phys_base, as the fix of QEMU's own dump has it
	"$VMCOREFIX" dump.elf -o "$BATS_TEST_TMPDIR/fixed.elf" >/dev/null
	kimage() { readelf -lW "$1" | awk '$1 == "LOAD" && $3 != $4 {print $3, $4, $6}'; }
	want=$(kimage "$BATS_TEST_TMPDIR/fixed.elf")
	[ -n "$want" ]
	[ "$(kimage "$BATS_TEST_TMPDIR/conv.elf")" = "$want" ] ||
		{ echo "kernel image PT_LOAD: $(kimage "$BATS_TEST_TMPDIR/conv.elf"), want $want" >&2; return 1; }
}

@test "real stream without -device vmcoreinfo: the note is found by the scan; the dump is QEMU's" {
	convert nodevice
	run "$VMCOREFIX" "$REAL/nodevice/migration.stream" -o "$BATS_TEST_TMPDIR/x.elf"
	[[ "$output" == *"found by scan"* ]]
}

@test "real stream, guest without qemu_fw_cfg (the device never written): the scan finds the note" {
	convert nofwcfg
	run "$VMCOREFIX" --inspect "$REAL/nofwcfg/migration.stream"
	[[ "$output" == *"present, but the guest never wrote etc/vmcoreinfo"* ]]
}

@test "real stream in a gzip libvirt save image: the same dump as from the raw stream" {
	real_scenario vmcoreinfo
	python3 - "$SRCDIR/tests/gen" migration.stream "$BATS_TEST_TMPDIR/lv.img" <<'PY'
import gzip, sys
sys.path.insert(0, sys.argv[1])
import qevm
s = open(sys.argv[2], "rb").read()
open(sys.argv[3], "wb").write(qevm.libvirt(gzip.compress(s, 1, mtime=0), 1))
PY
	"$VMCOREFIX" migration.stream -o "$BATS_TEST_TMPDIR/a.elf" >/dev/null
	run "$VMCOREFIX" "$BATS_TEST_TMPDIR/lv.img" -o "$BATS_TEST_TMPDIR/b.elf"
	[ "$status" -eq 0 ] || { echo "$output" >&2; return 1; }
	cmp "$BATS_TEST_TMPDIR/a.elf" "$BATS_TEST_TMPDIR/b.elf"
}

@test "real stream to -o -: makedumpfile -R rebuilds the -o FILE dump byte for byte" {
	real_scenario vmcoreinfo
	set -o pipefail
	"$VMCOREFIX" migration.stream -o - 2>"$BATS_TEST_TMPDIR/err" |
		timeout 300 makedumpfile -R "$BATS_TEST_TMPDIR/piped" >/dev/null 2>&1
	set +o pipefail
	"$VMCOREFIX" migration.stream -o "$BATS_TEST_TMPDIR/want" >/dev/null
	cmp "$BATS_TEST_TMPDIR/piped" "$BATS_TEST_TMPDIR/want"
}

# convert_kdump SCENARIO: the stream as a kdump (--output-format kdump) through the
# consumers, and its pages and notes against QEMU's own dump.elf
convert_kdump() {
	convert "$1" --output-format kdump || return 1
	"$VMCOREFIX" migration.stream -o "$BATS_TEST_TMPDIR/conv.kd" --output-format kdump >/dev/null
	[ "$(head -c 8 "$BATS_TEST_TMPDIR/conv.kd")" = "KDUMP   " ]
	"$ELFCMP" "$BATS_TEST_TMPDIR/conv.kd" dump.elf
}

@test "real stream as a kdump (--output-format kdump): QEMU's RAM, notes and VMCOREINFO; every consumer reads it, -d 31 filters it" {
	convert_kdump vmcoreinfo
	run "$VMCOREFIX" --inspect --json "$BATS_TEST_TMPDIR/conv.kd"
	[ "$status" -eq 0 ] || { echo "$output" >&2; return 1; }
	json=$output
	[ "$(jget .kdump.utsname.release)" = "$(cat osrelease.txt)" ]
	# phys_base: the note's
	pb=$(grep '^NUMBER(phys_base)=' vmcoreinfo-note.txt | cut -d= -f2)
	[ "$(jget .kdump.phys_base)" = "$(printf '0x%x' "$pb")" ]
	# makedumpfile re-filters the new kdump, and the filtered one is healthy
	timeout 600 makedumpfile -d 31 -c "$BATS_TEST_TMPDIR/conv.kd" "$BATS_TEST_TMPDIR/d31.kd" >/dev/null 2>&1
	run "$VMCOREFIX" --check "$BATS_TEST_TMPDIR/d31.kd"
	[ "$status" -eq 0 ] || { echo "$output" >&2; return 1; }
}

@test "real stream without -device vmcoreinfo as a kdump: the scan's note; QEMU's dump.elf itself as a kdump too" {
	convert_kdump nodevice
	# QEMU's ELF holds device memory (video RAM, ROMs) above the kernel's memory
	# map: left out, and said; the rest is the stream's kdump
	run "$VMCOREFIX" dump.elf -o "$BATS_TEST_TMPDIR/elf.kd" --output-format kdump
	[ "$status" -eq 0 ] || { echo "$output" >&2; return 1; }
	[[ "$output" == *"pages above the kernel's memory map (pfn 0x20000, device memory) left out"* ]]
	a=$("$ELFCMP" "$BATS_TEST_TMPDIR/elf.kd" dump.elf)
	b=$("$ELFCMP" "$BATS_TEST_TMPDIR/conv.kd" dump.elf)
	[ "$a" = "$b" ] || { echo "from dump.elf: $a; from the stream: $b" >&2; return 1; }
}
