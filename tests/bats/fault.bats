#!/usr/bin/env bats
# Fault injection: -o and --in-place with one system call failing (EIO,
# ENOSPC, EINTR, or a short transfer), or the process killed with SIGKILL
# there, at every call index in turn, until a
# run makes fewer calls than the index (the fault did not fire).  After
# each: the input is byte-identical (-o), the file is unchanged or finished
# by the next --in-place run, no partial output is under the target's name,
# no temporary file or journal under construction is left (after a kill:
# the next run removes the temporary file and leaves none), and the next run
# without faults succeeds.  The shim: tests/fault/fault.c (LD_PRELOAD).

load helpers

# a run makes about 30 calls: a bound far above that catches a loop that
# never ends
MAX_CALLS=500

setup() {
	need_binaries
	FAULTLIB=${FAULTLIB:-$BUILDDIR/tests/fault/libvffault.so}
	[ -f "$FAULTLIB" ] || skip "the fault shim is not built ($FAULTLIB: make check builds it)"
	# a sanitizer's runtime must come first in the library list: no preload then
	if ldd "$VMCOREFIX" 2>/dev/null | grep -q -E 'lib(a|ub|t)san'; then
		skip "vmcore-fix is built with a sanitizer"
	fi
	D=$BATS_TEST_TMPDIR
	W=$D
}

# Each error kind runs in its own directory $W, in parallel with the others.

# faulted N KIND ARGS...: vmcore-fix with the N-th call failing as KIND;
# $fired says whether it did, $rc the exit status, $err its standard error.
faulted() {
	local n=$1 kind=$2
	shift 2
	rm -f "$W/report"
	rc=0
	env LD_PRELOAD="$FAULTLIB" VMCOREFIX_FAULT_AT="$n" VMCOREFIX_FAULT_CALL="${FAULT_CALL:-any}" \
		VMCOREFIX_FAULT_ERRNO="$kind" VMCOREFIX_FAULT_REPORT="$W/report" \
		"$VMCOREFIX" "$@" >"$W/out.txt" 2>"$W/err.txt" || rc=$?
	err=$(cat "$W/err.txt")
	fired=0
	if [ -s "$W/report" ]; then fired=1; fi
}

fail_at() {
	echo "$1 (fault $kind at call $n: $(cat "$W/report" 2>/dev/null), exit $rc: $err)" >&2
	return 1
}

no_leftovers() {
	local left
	left=$(ls -A "$W/w" | grep -E '\.vmcore-fix\.|journal\.new' || true)
	[ -z "$left" ] || fail_at "left behind: $left"
}

# -o: DUMP -> w/out (with ARGS); the input never changes, the target is
# absent or whole.
o_cycle() {
	local dump=$1 kind=$2
	shift 2
	mkdir -p "$W/w"
	"$VMCOREFIX" "$dump" -o "$W/want" "$@" >/dev/null
	cp "$dump" "$W/orig"
	for ((n = 1; n <= MAX_CALLS; n++)); do
		faulted "$n" "$kind" "$dump" -o "$W/w/out" "$@"
		cmp -s "$dump" "$W/orig" || fail_at "-o changed its input"
		if [ "$fired" = 0 ]; then
			[ "$rc" = 0 ] || fail_at "no fault, yet exit $rc"
			cmp -s "$W/w/out" "$W/want" || fail_at "no fault, yet another output"
			rm -f "$W/w/out"
			return 0
		fi
		if [ -e "$W/w/out" ] && ! cmp -s "$W/w/out" "$W/want"; then
			fail_at "a partial output under the target's name"
		fi
		[ "$rc" != 0 ] || [ -e "$W/w/out" ] || fail_at "exit 0 without an output"
		[ "$kind" = kill ] || no_leftovers
		rm -f "$W/w/out"
		# nothing left beside the target: the next run starts where the
		# reference run did (the same input, the same empty directory)
		[ -n "$(ls -A "$W/w")" ] || continue
		run "$VMCOREFIX" "$dump" -o "$W/w/out" "$@"
		[ "$status" = 0 ] || fail_at "the next run failed: $output"
		cmp -s "$W/w/out" "$W/want" || fail_at "the next run wrote another output"
		no_leftovers
		rm -f "$W/w/out"
	done
	fail_at "more than $MAX_CALLS calls"
}

# --in-place: a copy of DUMP patched (with ARGS); unchanged or finished by
# the next run.
inplace_cycle() {
	local dump=$1 kind=$2 ip=$W/w/ip
	shift 2
	mkdir -p "$W/w"
	"$VMCOREFIX" "$dump" -o "$W/want" "$@" >/dev/null
	for ((n = 1; n <= MAX_CALLS; n++)); do
		cp "$dump" "$ip"
		faulted "$n" "$kind" --in-place "$ip" "$@"
		if [ "$fired" = 0 ]; then
			[ "$rc" = 0 ] || fail_at "no fault, yet exit $rc"
			cmp -s "$ip" "$W/want" || fail_at "no fault, yet another file"
			[ ! -e "$W/w/.ip.vmcore-fix-journal" ] || fail_at "no fault, a journal left"
			return 0
		fi
		if [ "$rc" = 0 ]; then
			cmp -s "$ip" "$W/want" || fail_at "exit 0 with the file not as planned"
		fi
		# without a journal the file must be whole: as it was, or finished
		if [ ! -e "$W/w/.ip.vmcore-fix-journal" ] && ! cmp -s "$ip" "$dump" &&
		   ! cmp -s "$ip" "$W/want"; then
			fail_at "half patched, and no journal"
		fi
		[ "$kind" = kill ] || no_leftovers
		run "$VMCOREFIX" --in-place "$ip" "$@"
		[ "$status" = 0 ] || fail_at "the next --in-place failed: $output"
		cmp -s "$ip" "$W/want" || fail_at "the next --in-place left another file"
		[ ! -e "$W/w/.ip.vmcore-fix-journal" ] || fail_at "the next run left the journal"
		no_leftovers
	done
	fail_at "more than $MAX_CALLS calls"
}

# every_kind CYCLE DUMP [ARGS...]: the cycle for each error kind, in parallel
every_kind() {
	local cycle=$1 kind pids=() bad=0
	shift
	for kind in EIO ENOSPC EINTR short kill; do
		( W=$D/$kind; mkdir -p "$W"; "$cycle" "$1" "$kind" "${@:2}" ) &
		pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p" || bad=1; done
	[ "$bad" = 0 ]
}

make_dumps() {
	gen k "format kdump
machine x86_64
prstatus 1
ram 0 1M"
	gen e "format elf
machine x86_64
elf-layout qemu
prstatus 1
ram 0 1M"
	# the guest's note is written in: the header region grows past the
	# first data byte, so --in-place inserts a block in front of the data
	gen n "format elf
machine x86_64
elf-layout qemu
vmcoreinfo-note no
ram 0 1M
vmcoreinfo-in-memory 0x80000"
}

@test "the shim: fires once at the N-th call after main, reports it, and not past the last call" {
	make_dumps
	faulted 1 EIO --inspect "$D/k.dump"
	[ "$fired" = 1 ]
	[ "$rc" = 6 ]
	[[ "$err" == *"Input/output error"* ]]
	grep -q -x 'read 1' "$D/report"
	faulted 100000 EIO --inspect "$D/k.dump"
	[ "$fired" = 0 ]
	[ "$rc" = 1 ]
}

@test "-o: a kdump with every call failing in turn (EIO, ENOSPC, EINTR, short, kill)" {
	make_dumps
	every_kind o_cycle "$D/k.dump"
}

@test "-o: an ELF dump with every call failing in turn (EIO, ENOSPC, EINTR, short, kill)" {
	make_dumps
	every_kind o_cycle "$D/e.dump"
}

# The saved state is read a page record at a time (some 16000 reads for the
# sample): its conversion has every call of the writing side fail in turn, each
# kind of call on its own (the reads' failures are the other tests').
@test "-o: a saved state converted into a kdump (--output-format kdump) with every write, fsync, ftruncate and rename failing in turn" {
	gen sample "$(grep -v '^#' "$SRCDIR/tests/gen/specs/sample.spec")"
	"$SRCDIR/tests/gen/qevm.py" from-elf "$D/sample.dump" "$D/s.stream" --device 0x13ae000 1024
	for FAULT_CALL in pwrite write fsync ftruncate rename; do
		every_kind o_cycle "$D/s.stream" --output-format kdump
	done
}

@test "--in-place: a kdump with every call failing in turn (EIO, ENOSPC, EINTR, short, kill)" {
	make_dumps
	every_kind inplace_cycle "$D/k.dump"
}

@test "--in-place: an ELF dump (blocks inserted) with every call failing in turn" {
	[ "$(stat -f -c %T "$BATS_TEST_TMPDIR")" = ext2/ext3 ] || [ "$(stat -f -c %T "$BATS_TEST_TMPDIR")" = xfs ] ||
		skip "needs ext4 or XFS (FALLOC_FL_INSERT_RANGE)"
	make_dumps
	every_kind inplace_cycle "$D/n.dump" --region 0x80000,0x1000
}
