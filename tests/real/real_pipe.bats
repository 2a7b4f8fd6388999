#!/usr/bin/env bats
# Pipes on real QEMU 7.2 dumps. Live: QEMU, restored from a fixture's migration
# stream, writes its dump into a fifo that vmcore-fix reads as it comes. And what
# QEMU wrote into a fifo (make-dumps.sh captures it: dump.kdump-zlib.pipe,
# dump.elf.pipe), QEMU's and makedumpfile -F's flattened files, each through
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

@test "pipe: the stream vmcore-fix writes has no overlapping records: crash reads it as it is (log and phys_base), and --inspect says only that it is flattened" {
	local in=$REAL/vmcoreinfo/dump.kdump-zlib.flat t=$BATS_TEST_TMPDIR
	cat "$in" | "$VMCOREFIX" - -o - >"$t/stream" 2>/dev/null
	run "$VMCOREFIX" --inspect --json "$t/stream"
	[ "$status" -eq 1 ]
	json=$output
	has_problem flattened
	! has_problem flattened-records-overlap || false
	[ "$(jget '[.problems[] | select(.severity != "info")] | length')" = 1 ]
	[ "$ORACLE_HAVE_CRASH" = 1 ] || skip "crash not installed"
	[ -n "$ORACLE_VMLINUX" ] || skip "no debug vmlinux for crash"
	. "$REAL/vmcoreinfo/facts.env"
	printf 'log\nhelp -m\nquit\n' >"$t/crash.cmds"
	timeout 300 crash -s "$ORACLE_VMLINUX" "$t/stream" -i "$t/crash.cmds" >"$t/crash.out" 2>&1 </dev/null || true
	grep -qF "$MARKER" "$t/crash.out" || { tail -n 20 "$t/crash.out"; false; }
	grep -qE "^ +phys_base: +0*${PHYS_BASE_HEX#0x}\$" "$t/crash.out" ||
		grep -qE "^ +phys_base: +0*$(printf '%x' "$PHYS_BASE")\$" "$t/crash.out" ||
		{ grep phys_base "$t/crash.out"; false; }
}

# live_ready SCENARIO: skip without QEMU, the scenario's migration stream or the kernel
# its VM booted (-kernel adds a RAM block of its own, an option ROM, that the stream
# holds). Call before starting a reader of the fifo: a skip then leaves none blocked.
live_ready() {
	command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 not installed"
	[ -s "$REAL/$1/migration.stream" ] || skip "no migration.stream in $REAL/$1"
	. "$REAL/$1/facts.env"
	[ -r "/boot/vmlinuz-$KERNEL_VERSION" ] || skip "no /boot/vmlinuz-$KERNEL_VERSION (the fixtures' VM booted it)"
}

# live_dump SCENARIO FORMAT FIFO: QEMU restored (paused) from the scenario's migration
# stream, as the scenario's VM ran, writes its dump-guest-memory FORMAT into FIFO (its
# reader started first, after live_ready); on a failure the fifo is opened and closed,
# so that the reader ends
live_dump() {
	local sc=$REAL/$1 fmt=$2 fifo=$3 t=$BATS_TEST_TMPDIR dev=() st=
	. "$sc/facts.env"
	[ "$VMCOREINFO_DEVICE" = 1 ] && dev=(-device vmcoreinfo)
	echo . >"$t/initrd"
	qemu-system-x86_64 -machine q35 -accel tcg -m "$RAM_MB" -smp 1 \
		-kernel "/boot/vmlinuz-$KERNEL_VERSION" -initrd "$t/initrd" -display none \
		-monitor none -serial null -no-reboot "${dev[@]}" \
		-qmp "unix:$t/qmp.sock,server=on,wait=off" \
		-incoming "exec:cat $sc/migration.stream" >"$t/qemu.log" 2>&1 &
	QEMU_PID=$!
	for _ in $(seq 120); do
		st=$(python3 "$SRCDIR/tests/real/qmp.py" --timeout 10 "$t/qmp.sock" exec query-status 2>/dev/null) || st=
		[[ "$st" == *'"paused"'* ]] && break
		sleep 0.5
	done
	if [[ "$st" != *'"paused"'* ]]; then
		echo "QEMU did not come up paused from the stream: $st"
		cat "$t/qemu.log"
		kill "$QEMU_PID" 2>/dev/null
		: >"$fifo"
		return 1
	fi
	python3 "$SRCDIR/tests/real/qmp.py" --timeout 600 --log "$t/qmp.log" "$t/qmp.sock" \
		dump "$fmt" "$fifo" quit || { kill "$QEMU_PID" 2>/dev/null; : >"$fifo"; return 1; }
	wait "$QEMU_PID"
}

@test "live: QEMU, restored from a migration stream, writes its kdump-zlib into a fifo that vmcore-fix - -o - | makedumpfile -R reads as it comes; the consumers read the output and --check agrees" {
	local t=$BATS_TEST_TMPDIR
	live_ready vmcoreinfo
	mkfifo "$t/dump.fifo"
	(set -o pipefail; "$VMCOREFIX" - -o - <"$t/dump.fifo" 2>"$t/fix.err" |
		timeout 600 makedumpfile -R "$t/out" >"$t/mdf.log" 2>&1; echo $? >"$t/rc") &
	reader=$!
	live_dump vmcoreinfo kdump-zlib "$t/dump.fifo"
	wait "$reader"
	cat "$t/fix.err"
	[ "$(cat "$t/rc")" = 0 ]
	grep -q '^wrote a flattened stream to standard output$' "$t/fix.err"
	oracle_agrees "$t/out" "$REAL/vmcoreinfo"
	[ "$ORACLE_CONSUMERS_OK" = 1 ]
	[ "$ORACLE_CHECK" = 0 ]
}

@test "live: QEMU's ELF written into a fifo, fixed from it into a file (vmcore-fix - -o FILE): the consumers read it and --check agrees" {
	local t=$BATS_TEST_TMPDIR
	live_ready vmcoreinfo
	mkfifo "$t/dump.fifo"
	("$VMCOREFIX" - -o "$t/out" <"$t/dump.fifo" >"$t/fix.out" 2>&1; echo $? >"$t/rc") &
	reader=$!
	live_dump vmcoreinfo elf "$t/dump.fifo"
	wait "$reader"
	cat "$t/fix.out"
	[ "$(cat "$t/rc")" = 0 ]
	oracle_agrees "$t/out" "$REAL/vmcoreinfo"
	[ "$ORACLE_CONSUMERS_OK" = 1 ]
	[ "$ORACLE_CHECK" = 0 ]
}
