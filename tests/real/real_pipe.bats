#!/usr/bin/env bats
# Pipes on real QEMU 7.2 dumps: what QEMU wrote into a fifo (make-dumps.sh
# captures it: dump.kdump-zlib.pipe, dump.elf.pipe), QEMU's and
# makedumpfile -F's flattened files, each through
#   cat DUMP | vmcore-fix - -o - | makedumpfile -R OUT
# OUT is byte for byte the `vmcore-fix DUMP -o FILE` fix, and the verdict
# oracle (tests/real/oracle.bash: makedumpfile, drgn, crash) reads it and
# agrees with --check.

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

# piped SCENARIO FILE [OPTION...]: oracle_piped on REAL/SCENARIO/FILE
piped() {
	local sc=$1 f=$2
	shift 2
	[ -e "$REAL/$sc/$f" ] || skip "no $f in $REAL/$sc (regenerate: tests/real/make-dumps.sh --force)"
	oracle_piped "$REAL/$sc/$f" "$REAL/$sc" "$@"
}

@test "pipe: QEMU's kdump-zlib written into a fifo is flattened, and goes through vmcore-fix - -o - | makedumpfile -R readable" {
	piped vmcoreinfo dump.kdump-zlib.pipe
}

@test "pipe: QEMU's ELF written into a fifo, through the pipeline (stored, checked, sent)" {
	piped vmcoreinfo dump.elf.pipe
}

@test "pipe: QEMU's flattened kdump-zlib file, passed through record by record" {
	piped vmcoreinfo dump.kdump-zlib.flat
}

@test "pipe: makedumpfile -F -c -d 31 through the pipeline" {
	piped vmcoreinfo dump.mdf-zlib-d31.flat
}

@test "pipe: no vmcoreinfo device: the note found by the scan of the spooled stream" {
	piped nodevice dump.kdump-zlib.flat
}

@test "pipe: no vmcoreinfo device, ELF: -o - refuses before writing (the note must precede the data); -o FILE from the pipe is the file's fix" {
	local in=$REAL/nodevice/dump.elf t=$BATS_TEST_TMPDIR
	run sh -c 'cat "$1" | "$2" - -o - 2>"$3" | wc -c' sh "$in" "$VMCOREFIX" "$t/err"
	[ "$output" = 0 ]
	grep -q 'notes must come before the data' "$t/err"
	run sh -c 'cat "$1" | "$2" - -o - >/dev/null 2>&1' sh "$in" "$VMCOREFIX"
	[ "$status" -eq 5 ]
	cat "$in" | "$VMCOREFIX" - -o "$t/out" >/dev/null
	oracle_is_the_fix "$t/out" "$in" "$REAL/nodevice"
}

@test "pipe: the stream vmcore-fix writes is what QEMU's was plus the fix: --inspect of it says flattened-records-overlap, not healthy" {
	local in=$REAL/vmcoreinfo/dump.kdump-zlib.flat t=$BATS_TEST_TMPDIR
	cat "$in" | "$VMCOREFIX" - -o - >"$t/stream" 2>/dev/null
	# QEMU's records come first, unchanged
	n=$(( $(stat -c %s "$in") - 16 ))
	cmp -n "$n" "$in" "$t/stream"
	run "$VMCOREFIX" --inspect --json "$t/stream"
	[ "$status" -eq 1 ]
	json=$output
	has_problem flattened-records-overlap
}
