#!/usr/bin/env bats
# Durability as a choice: -o fsyncs the output and its directory by default;
# --no-sync leaves both out (the output is the same).  --no-sync goes with -o
# only: with --in-place (whose journal is crash-safe only when synced) or
# without -o it is a usage error (exit 2) and nothing is written.
# The system calls are counted with strace (skipped, saying so, without it).

load helpers

setup() {
	need_binaries
}

QEMU_KDUMP=$(grep -v '^#' "$SRCDIR/tests/gen/specs/qemu-kdump-x86_64.spec")
SYNCS='fsync|fdatasync|sync_file_range|syncfs|msync|sync'

# syncs FILE: the sync calls in an strace log, one name a line
syncs() {
	grep -oE "^([0-9]+ +)?($SYNCS)\(" "$1" | grep -oE "($SYNCS)" || true
}

# traced CMD...: CMD under strace, its sync calls logged in $BATS_TEST_TMPDIR/trace
# (LeakSanitizer cannot run under ptrace: an ASan build's leak check is off here)
traced() {
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" strace -f -qq -e trace=fsync,fdatasync,sync_file_range,syncfs,msync,sync \
		-o "$BATS_TEST_TMPDIR/trace" "$@"
}

@test "-o fsyncs the output and its directory; --no-sync makes no sync call and writes the same bytes" {
	command -v strace >/dev/null || skip "strace missing (apt-get install strace)"
	gen k "$QEMU_KDUMP"
	traced "$VMCOREFIX" "$BATS_TEST_TMPDIR/k.dump" -o "$BATS_TEST_TMPDIR/synced" >/dev/null
	# the file, then its directory after the rename
	[ "$(syncs "$BATS_TEST_TMPDIR/trace" | grep -c -x fsync)" -ge 2 ]
	traced "$VMCOREFIX" "$BATS_TEST_TMPDIR/k.dump" --no-sync -o "$BATS_TEST_TMPDIR/unsynced" >/dev/null
	[ -z "$(syncs "$BATS_TEST_TMPDIR/trace")" ]
	cmp "$BATS_TEST_TMPDIR/synced" "$BATS_TEST_TMPDIR/unsynced"
}

@test "--no-sync of an ELF dump whose data moves: no sync call, the output checks clean" {
	command -v strace >/dev/null || skip "strace missing (apt-get install strace)"
	gen e "$(grep -v '^#' "$SRCDIR/tests/gen/specs/sample.spec")"
	traced "$VMCOREFIX" "$BATS_TEST_TMPDIR/e.dump" --region 0x13ae000,1024 --no-sync \
		-o "$BATS_TEST_TMPDIR/out" >/dev/null
	[ -z "$(syncs "$BATS_TEST_TMPDIR/trace")" ]
	run "$VMCOREFIX" --check "$BATS_TEST_TMPDIR/out"
	[ "$status" -eq 0 ]
	traced "$VMCOREFIX" "$BATS_TEST_TMPDIR/e.dump" --region 0x13ae000,1024 \
		-o "$BATS_TEST_TMPDIR/out2" >/dev/null
	[ "$(syncs "$BATS_TEST_TMPDIR/trace" | grep -c -x fsync)" -ge 2 ]
	cmp "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/out2"
}

@test "--in-place still syncs (its journal and the file)" {
	command -v strace >/dev/null || skip "strace missing (apt-get install strace)"
	gen k "$QEMU_KDUMP"
	traced "$VMCOREFIX" --in-place "$BATS_TEST_TMPDIR/k.dump" >/dev/null
	[ "$(syncs "$BATS_TEST_TMPDIR/trace" | grep -c -x fsync)" -ge 2 ]
}

@test "--no-sync with --in-place: usage error (exit 2), the dump untouched, no journal" {
	gen k "$QEMU_KDUMP"
	cp "$BATS_TEST_TMPDIR/k.dump" "$BATS_TEST_TMPDIR/orig"
	run "$VMCOREFIX" --in-place --no-sync "$BATS_TEST_TMPDIR/k.dump"
	[ "$status" -eq 2 ]
	[[ "$output" == *"--no-sync goes with -o FILE, not --in-place"* ]]
	cmp "$BATS_TEST_TMPDIR/k.dump" "$BATS_TEST_TMPDIR/orig"
	[ "$(ls -A "$BATS_TEST_TMPDIR" | grep -c -v -E '^(k\.(dump|spec)|orig)$')" -eq 0 ]
}

@test "--no-sync without -o (--check, --dry-run, --inspect): usage error (exit 2)" {
	gen k "$QEMU_KDUMP"
	for action in --check --dry-run --inspect; do
		run "$VMCOREFIX" "$action" --no-sync "$BATS_TEST_TMPDIR/k.dump"
		[ "$status" -eq 2 ]
		[[ "$output" == *"--no-sync goes with -o FILE"* ]]
	done
}
