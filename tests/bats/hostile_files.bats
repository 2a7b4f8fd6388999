#!/usr/bin/env bats
# Hostile files (issue 12): journals replayed onto the wrong file, stale
# temporary files, -o DIR, and guest strings that would steer the terminal.
# The cases: tests/hostile/files.py; each runs under ulimit -v 512 MiB and a
# 30 s timeout.

load helpers

setup_file() {
	H=$BATS_FILE_TMPDIR/h
	python3 "$SRCDIR/tests/hostile/files.py" "$H" > "$BATS_FILE_TMPDIR/cases"
}

setup() {
	need_binaries
	H=$BATS_FILE_TMPDIR/h
}

# hcase NAME: run the case (status, output: stdout and stderr); FILE is its file.
hcase() {
	local line args
	line=$(grep -P "^$1\t" "$BATS_FILE_TMPDIR/cases")
	[ -n "$line" ] || { echo "no case $1" >&2; return 1; }
	FILE=$(cut -f2 <<<"$line")
	args=$(cut -f3 <<<"$line")
	args=${args//\{\}/$FILE}
	# shellcheck disable=SC2086  # ARGS are words
	run bash -c 'ulimit -v 524288; exec timeout 30 "$@"' _ "$VMCOREFIX" $args
}

# no byte of the output is a control character but the newlines
no_controls() {
	! LC_ALL=C grep -q -P '[\x00-\x09\x0b-\x1f\x7f]' <<<"$output" || false
}

journal_refused() {
	local code=$1 says=$2 sum
	sum=$(sha256sum <"$3")
	hcase "$4"
	echo "$output"
	[ "$status" -eq "$code" ]
	[[ "$output" == *"$says"* ]]
	[[ "$output" == *"nothing was written"* ]]
	[ "$(sha256sum <"$FILE")" = "$sum" ]
	[ -e "$(dirname "$FILE")/.$(basename "$FILE").vmcore-fix-journal" ]
}

@test "a journal written for another inode is refused; the file untouched" {
	journal_refused 3 "does not belong" "$H/j-inode.kdump" journal-other-inode
	[[ "$output" == *"inode"* ]]
}

@test "a journal naming this file whose bytes are not the file's is refused" {
	journal_refused 3 "holds neither" "$H/j-bytes.kdump" journal-other-bytes
}

@test "an old (version 2) journal is replayed only when its old bytes match" {
	journal_refused 3 "holds neither" "$H/j-v2.kdump" journal-v2-mismatch
}

@test "300000 overlapping journal entries: read whole, then refused as damaged" {
	journal_refused 4 "hash" "$H/j-many.kdump" journal-many-entries
}

@test "a journal claiming 2^60 entries: truncated" {
	hcase journal-huge-count
	[ "$status" -eq 4 ]
	[[ "$output" == *"truncated"* ]]
}

@test "--inspect lists journal-pending; --check refuses naming it" {
	hcase journal-inspect
	[ "$status" -eq 1 ]
	[[ "$output" == *"journal-pending"* ]]
	hcase journal-check
	[ "$status" -eq 3 ]
	[[ "$output" == *"journal-pending"* ]]
	need_jq
	run "$VMCOREFIX" --inspect --json "$H/j-pending.kdump"
	json=$output
	has_problem journal-pending
}

@test "a stale temporary file beside the target: the next -o removes it" {
	[ -e "$H/stale/.out.vmcore-fix.Zq3xPw" ] || [ -e "$H/stale/out" ]
	hcase stale-temp
	[ "$status" -eq 0 ]
	[ -z "$(ls -A "$H/stale" | grep vmcore-fix)" ]
	[ -e "$H/stale/out" ]
}

@test "-o DIR and -o into a missing directory fail at once" {
	hcase o-dir
	[ "$status" -eq 2 ]
	[[ "$output" == *"is a directory"* ]]
	[ -z "$(ls -A "$H/adir")" ]
	hcase o-missing-dir
	[ "$status" -eq 6 ]
	[[ "$output" == *"cannot create a temporary file"* ]]
}

@test "an escape sequence in the header's utsname.machine reaches the fix report escaped" {
	hcase inject-machine
	[ "$status" -eq 0 ]
	no_controls
	[[ "$output" == *'utsname.machine "evil\x1b]0;owned\x07\x1b[2J" becomes'* ]]
	hcase inject-machine-json
	[ "$status" -eq 0 ]
	python3 -c 'import json, sys
d = json.loads(sys.argv[1])
assert any("evil\x1b]0;owned\x07" in c["why"] for c in d["changes"])' "$output"
}

@test "a note named with an escape sequence: --inspect escapes it" {
	hcase inject-note-name
	[ "$status" -le 1 ]
	no_controls
	[[ "$output" == *'evil\x1b]0;owned\x07'* ]]
}

@test "a region file with a newline and an escape sequence: a one-line error" {
	hcase inject-region-file
	[ "$status" -eq 2 ]
	[ "${#lines[@]}" -eq 1 ]
	no_controls
	[[ "$output" == *"'0x1000\\n\\033]0;owned"* ]]
}

@test "a dump deleted and another copied in under its name: the journal is not replayed onto it" {
	gen a "format kdump
machine x86_64
prstatus 1
ram 0 1M"
	gen b "format kdump
machine x86_64
prstatus 1
ram 0 2M"
	cp "$BATS_TEST_TMPDIR/a.dump" "$BATS_TEST_TMPDIR/x"
	ino=$(stat -c %i "$BATS_TEST_TMPDIR/x")
	run env VMCOREFIX_TEST_CRASH_IN_PLACE=1 "$VMCOREFIX" --in-place "$BATS_TEST_TMPDIR/x"
	[ "$status" -eq 137 ]
	[ -e "$BATS_TEST_TMPDIR/.x.vmcore-fix-journal" ]
	rm "$BATS_TEST_TMPDIR/x"
	cp "$BATS_TEST_TMPDIR/b.dump" "$BATS_TEST_TMPDIR/x"
	run "$VMCOREFIX" --in-place "$BATS_TEST_TMPDIR/x"
	[ "$status" -eq 3 ]
	[[ "$output" == *"does not belong"* ]]
	cmp "$BATS_TEST_TMPDIR/x" "$BATS_TEST_TMPDIR/b.dump"
	# the one it was for, back under the name (same bytes, another inode): refused
	# too; the file system may hand out the freed inode again, and then it is
	# the journal's own file by every mark (nothing to tell)
	cp "$BATS_TEST_TMPDIR/a.dump" "$BATS_TEST_TMPDIR/x.new"
	mv "$BATS_TEST_TMPDIR/x.new" "$BATS_TEST_TMPDIR/x"
	if [ "$(stat -c %i "$BATS_TEST_TMPDIR/x")" != "$ino" ]; then
		run "$VMCOREFIX" --in-place "$BATS_TEST_TMPDIR/x"
		[ "$status" -eq 3 ]
		cmp "$BATS_TEST_TMPDIR/x" "$BATS_TEST_TMPDIR/a.dump"
	fi
}

@test "-o killed with SIGKILL leaves its temporary file; the next -o removes it" {
	lib=$BUILDDIR/tests/fault/libvffault.so
	[ -f "$lib" ] || skip "the fault shim is not built"
	if ldd "$VMCOREFIX" 2>/dev/null | grep -q -E 'lib(a|ub|t)san'; then skip "sanitizer build"; fi
	gen a "format kdump
machine x86_64
prstatus 1
ram 0 1M"
	mkdir "$BATS_TEST_TMPDIR/o"
	run env LD_PRELOAD="$lib" VMCOREFIX_FAULT_CALL=ftruncate VMCOREFIX_FAULT_AT=1 \
		VMCOREFIX_FAULT_ERRNO=kill "$VMCOREFIX" "$BATS_TEST_TMPDIR/a.dump" -o "$BATS_TEST_TMPDIR/o/out"
	[ "$status" -eq 137 ]
	[ ! -e "$BATS_TEST_TMPDIR/o/out" ]
	[ -n "$(ls -A "$BATS_TEST_TMPDIR/o" | grep '^\.out\.vmcore-fix\.')" ]
	# a live writer's file is not touched: the lock says it is held
	touch "$BATS_TEST_TMPDIR/o/.out.vmcore-fix.HELD00"
	flock "$BATS_TEST_TMPDIR/o/.out.vmcore-fix.HELD00" sleep 5 &
	sleep 0.3
	run "$VMCOREFIX" "$BATS_TEST_TMPDIR/a.dump" -o "$BATS_TEST_TMPDIR/o/out"
	[ "$status" -eq 0 ]
	[ "$(ls -A "$BATS_TEST_TMPDIR/o" | grep vmcore-fix)" = .out.vmcore-fix.HELD00 ]
	kill %1 2>/dev/null || true
	wait || true
}
