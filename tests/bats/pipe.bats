#!/usr/bin/env bats
# Pipes: "-" as DUMP reads standard input (a pipe is spooled into an
# unnamed file, its flattened kdump records passed on to -o - as they
# come); -o - writes a flattened stream to standard output, the report to
# standard error; a run that fails after records went out ends the stream
# with a record no reader takes.

load helpers

setup() {
	need_binaries
	need_jq
	D=$BATS_TEST_TMPDIR
	QEMU_KDUMP=$(grep -v '^#' "$SRCDIR/tests/gen/specs/qemu-kdump-x86_64.spec")
}

need_mdf() {
	command -v makedumpfile >/dev/null || skip "makedumpfile not installed (apt-get install makedumpfile)"
}

# reassemble STREAM OUT: makedumpfile -R, bounded (it waits ten minutes for
# a stream that just stops).
reassemble() {
	timeout 120 makedumpfile -R "$2" <"$1" >"$D/mdf.log" 2>&1
}

@test "a flattened kdump through a pipe to -o -: makedumpfile -R of the stream is the -o FILE fix, and the report is on standard error" {
	need_mdf
	gen kf "$QEMU_KDUMP
flattened yes"
	cat "$D/kf.dump" | "$VMCOREFIX" - -o - >"$D/out.flat" 2>"$D/err"
	[ "$(head -c 12 "$D/out.flat")" = makedumpfile ]
	grep -q '^wrote a flattened stream to standard output$' "$D/err"
	grep -q 'patched kdump sub-header phys_base' "$D/err"
	reassemble "$D/out.flat" "$D/out.raw"
	"$VMCOREFIX" "$D/kf.dump" -o "$D/want.raw" >/dev/null
	cmp "$D/out.raw" "$D/want.raw"
	run "$VMCOREFIX" --check "$D/out.raw"
	[ "$status" -eq 0 ]
	# the stream itself: the header's records came last, patched, so no
	# record overlaps another (crash reads it as it is)
	inspect_json "$D/out.flat"
	has_problem flattened
	! has_problem flattened-records-overlap || false
	[ "$(jget .vmcoreinfo.values.OSRELEASE)" = 6.1.0-56-amd64 ]
	[ "$(jget '.kdump.phys_base')" != "$(cd "$D" && "$VMCOREFIX" --inspect --json kf.dump | jq -r .kdump.phys_base)" ]
}

@test "-o -: the records of a flattened kdump go out before its input has ended" {
	gen kf "$QEMU_KDUMP
flattened yes"
	mkfifo "$D/in"
	# the writer sends a first part, then waits until output appears (or 60 s)
	(
		exec >"$D/in"
		head -c 200000 "$D/kf.dump"
		for _ in $(seq 600); do [ -s "$D/out.flat" ] && break; sleep 0.1; done
		[ -s "$D/out.flat" ] && echo early >"$D/early"
		tail -c +200001 "$D/kf.dump"
	) &
	"$VMCOREFIX" - -o - <"$D/in" >"$D/out.flat" 2>"$D/err"
	wait
	[ -e "$D/early" ]
	# what went out early: the stream's header, then records of page data
	# (the header's, sub-header's and bitmaps' records wait for the fix)
	[ "$(head -c 4096 "$D/out.flat" | md5sum)" = "$(head -c 4096 "$D/kf.dump" | md5sum)" ]
	reassemble "$D/out.flat" "$D/out.raw"
	"$VMCOREFIX" "$D/kf.dump" -o "$D/want.raw" >/dev/null
	cmp "$D/out.raw" "$D/want.raw"
}

@test "a raw kdump and an ELF dump through a pipe: -o - (stored, checked, then sent) and -o FILE are the file's fix" {
	need_mdf
	gen k "$QEMU_KDUMP"
	cat "$D/k.dump" | "$VMCOREFIX" - -o - >"$D/k.flat" 2>/dev/null
	reassemble "$D/k.flat" "$D/k.raw"
	"$VMCOREFIX" "$D/k.dump" -o "$D/k.want" >/dev/null
	cmp "$D/k.raw" "$D/k.want"
	inspect_json "$D/k.flat"
	! has_problem flattened-records-overlap || false
	cp "$SRCDIR/tests/gen/specs/qemu-elf-x86_64.spec" "$D/e.spec"
	"$VFGEN" "$D/e.spec" "$D/e.dump"
	cat "$D/e.dump" | "$VMCOREFIX" - -o "$D/e.fixed" >/dev/null
	"$VMCOREFIX" "$D/e.dump" -o "$D/e.want" >/dev/null
	cmp "$D/e.fixed" "$D/e.want"
	cat "$D/e.dump" | "$VMCOREFIX" - -o - >"$D/e.flat" 2>/dev/null
	reassemble "$D/e.flat" "$D/e.raw"
	cmp "$D/e.raw" "$D/e.want"
	# a file, not a pipe, whose last blocks are holes: the stream still
	# reassembles to the whole file
	gen z "format elf
machine x86_64
elf-layout standard
prstatus 1
ram 0 3M
ram 3M 1M zero"
	cp --sparse=always "$D/z.dump" "$D/zs.dump"
	"$VMCOREFIX" "$D/zs.dump" -o - >"$D/z.flat" 2>/dev/null
	reassemble "$D/z.flat" "$D/z.raw"
	"$VMCOREFIX" "$D/zs.dump" -o "$D/z.want" >/dev/null
	[ "$(stat -c %s "$D/z.raw")" = "$(stat -c %s "$D/z.want")" ]
	cmp "$D/z.raw" "$D/z.want"
}

@test "--check, --inspect and --dry-run of standard input say what they say of the file, and name it 'standard input'" {
	gen k "$QEMU_KDUMP"
	run "$VMCOREFIX" --check "$D/k.dump"
	[ "$status" -eq 1 ]
	want=${output//$D\/k.dump/standard input}
	run sh -c 'cat "$1" | "$2" --check -' sh "$D/k.dump" "$VMCOREFIX"
	[ "$status" -eq 1 ]
	[ "$output" = "$want" ]
	run sh -c 'cat "$1" | "$2" --inspect --json -' sh "$D/k.dump" "$VMCOREFIX"
	[ "$status" -eq 1 ]
	[ "$(jq -r .file <<<"$output")" = "standard input" ]
	run "$VMCOREFIX" --inspect --json "$D/k.dump"
	a=$(jq -c 'del(.file)' <<<"$output")
	run sh -c '"$2" --inspect --json - <"$1"' sh "$D/k.dump" "$VMCOREFIX"
	[ "$(jq -c 'del(.file)' <<<"$output")" = "$a" ]
	run sh -c 'cat "$1" | "$2" --dry-run -' sh "$D/k.dump" "$VMCOREFIX"
	[ "$status" -eq 0 ]
	[[ "$output" == *"would patch kdump sub-header phys_base"* ]]
}

@test "standard input: a file (< FILE) is read where it is; a pipe is spooled in TMPDIR or beside -o FILE, and nothing is left there" {
	gen k "$QEMU_KDUMP"
	mkdir "$D/tmp" "$D/outdir"
	# a file needs no spool: a TMPDIR that does not exist does not matter
	TMPDIR=$D/none run "$VMCOREFIX" --check - <"$D/k.dump"
	[ "$status" -eq 1 ]
	TMPDIR=$D/none run sh -c 'cat "$1" | "$2" --check -' sh "$D/k.dump" "$VMCOREFIX"
	[ "$status" -eq 6 ]
	[[ "$output" == *"$D/none"*"spool"* ]]
	TMPDIR=$D/tmp run sh -c 'cat "$1" | "$2" --check -' sh "$D/k.dump" "$VMCOREFIX"
	[ "$status" -eq 1 ]
	[ -z "$(ls -A "$D/tmp")" ]
	# beside -o FILE: TMPDIR is not used
	TMPDIR=$D/none run sh -c 'cat "$1" | "$2" - -o "$3"' sh "$D/k.dump" "$VMCOREFIX" "$D/outdir/f"
	[ "$status" -eq 0 ]
	[ "$(ls -A "$D/outdir")" = f ]
	# killed while spooling: the spool has no name to leave behind
	mkfifo "$D/in"
	(exec >"$D/in"; head -c 100000 "$D/k.dump"; sleep 30) &
	writer=$!
	TMPDIR=$D/tmp "$VMCOREFIX" --check - <"$D/in" >/dev/null 2>&1 &
	pid=$!
	for _ in $(seq 100); do [ -n "$(ls -l /proc/$pid/fd 2>/dev/null | grep -F "$D/tmp")" ] && break; sleep 0.1; done
	ls -l /proc/$pid/fd | grep -F "$D/tmp"
	kill -9 $pid
	wait $pid || true
	kill $writer 2>/dev/null || true
	[ -z "$(ls -A "$D/tmp")" ]
}

@test "-o - of an ELF dump whose data must move (its note added): refused before anything is written (exit 5)" {
	gen n "format elf
machine x86_64
elf-layout qemu
prstatus 1
vmcoreinfo-note no
ram 0 4M
vmcoreinfo-in-memory 0x200000"
	run sh -c 'cat "$1" | "$2" - -o - --region 0x200000,0x1000 2>"$3"' sh "$D/n.dump" "$VMCOREFIX" "$D/err"
	[ "$status" -eq 5 ]
	[ -z "$output" ]
	grep -q 'notes must come before the data; nothing was written' "$D/err"
	grep -q -- 'with -o FILE' "$D/err"
	# the same run to a file works
	run sh -c 'cat "$1" | "$2" - -o "$3" --region 0x200000,0x1000' sh "$D/n.dump" "$VMCOREFIX" "$D/n.fixed"
	[ "$status" -eq 0 ]
}

@test "a run that fails after records went out ends the stream with a record no reader takes: makedumpfile -R fails at once" {
	need_mdf
	gen kf "$QEMU_KDUMP
flattened yes"
	head -c 300000 "$D/kf.dump" >"$D/cut"
	run sh -c 'cat "$1" | "$2" - -o - >"$3"' sh "$D/cut" "$VMCOREFIX" "$D/out.flat"
	[ "$status" -eq 4 ]
	[[ "$output" == *"standard input"*"truncated"* ]]
	[ "$(tail -c 32 "$D/out.flat" | od -v -An -tx1 | tr -d ' \n')" = fffffffffffffffefffffffffffffffefffffffffffffffefffffffffffffffe ]
	# what went out before it is whole records: the poison is read as a header
	[ $(( $(stat -c %s "$D/out.flat") > 4096 )) -eq 1 ]
	SECONDS=0
	run reassemble "$D/out.flat" "$D/out.raw"
	[ "$status" -ne 0 ]
	[ "$SECONDS" -lt 60 ]
	grep -q "valid end header" "$D/mdf.log"
	# a failure before anything went out writes nothing
	printf 'not a dump at all' >"$D/junk"
	run sh -c 'cat "$1" | "$2" - -o - >"$3"' sh "$D/junk" "$VMCOREFIX" "$D/none.flat"
	[ "$status" -eq 4 ]
	[ ! -s "$D/none.flat" ]
}

@test "-o -: --json's report goes to standard error, and the stream alone to standard output" {
	gen k "$QEMU_KDUMP"
	cat "$D/k.dump" | "$VMCOREFIX" --json - -o - >"$D/out.flat" 2>"$D/err.json"
	jq -e '.output == "-" and .file == "standard input" and (.changes | length) > 0' "$D/err.json" >/dev/null
	[ "$(head -c 12 "$D/out.flat")" = makedumpfile ]
	[ "$(tail -c 16 "$D/out.flat" | od -An -tx1 | tr -d ' \n')" = ffffffffffffffffffffffffffffffff ]
}

@test "pipes: usage errors (exit 2) and the errors of standard input" {
	gen k "$QEMU_KDUMP"
	run "$VMCOREFIX" --check - "$D/k.dump"
	[ "$status" -eq 2 ]
	[[ "$output" == *"'-' (standard input) is the only DUMP"* ]]
	run "$VMCOREFIX" --in-place - <"$D/k.dump"
	[ "$status" -eq 2 ]
	[[ "$output" == *"--in-place cannot change standard input"* ]]
	run "$VMCOREFIX" "$D/k.dump" -o - --output-format raw
	[ "$status" -eq 2 ]
	[[ "$output" == *"-o - writes a flattened stream"* ]]
	run sh -c ': | "$1" --check -' sh "$VMCOREFIX"
	[ "$status" -eq 4 ]
	[[ "$output" == *"standard input is empty"* ]]
	# a terminal gets no binary stream
	command -v script >/dev/null || skip "script (util-linux) not installed"
	run script -qec "'$VMCOREFIX' '$D/k.dump' -o -" /dev/null
	[ "$status" -eq 2 ]
	[[ "$output" == *"standard output is a terminal"* ]]
}

@test "standard input: a pipe of something else is refused from its first bytes, not spooled to its end; a terminal is refused; a file is read from where it is" {
	gen k "$QEMU_KDUMP"
	mkdir "$D/tmp"
	SECONDS=0
	TMPDIR=$D/tmp run timeout 60 sh -c 'yes | "$1" --check -' sh "$VMCOREFIX"
	[ "$status" -eq 4 ]
	[[ "$output" == *"standard input"*"not a dump: it looks like text (starts with 79 0a 79 0a"* ]]
	[ "$SECONDS" -lt 30 ]
	# standard input from the middle of a file: the dump starts there
	{ head -c 4096 /dev/urandom; cat "$D/k.dump"; } >"$D/prefixed"
	run sh -c '{ dd bs=4096 count=1 of=/dev/null 2>/dev/null; "$1" --check -; } <"$2"' sh "$VMCOREFIX" "$D/prefixed"
	[ "$status" -eq 1 ]
	[[ "$output" == *"standard input: fixable"* ]]
	command -v script >/dev/null || skip "script (util-linux) not installed"
	run script -qec "'$VMCOREFIX' --check -" /dev/null
	[ "$status" -eq 2 ]
	[[ "$output" == *"standard input is a terminal"* ]]
}

@test "-o - never writes into the input (standard output appended to it is refused, exit 2)" {
	gen k "$QEMU_KDUMP"
	cp "$D/k.dump" "$D/k.orig"
	run sh -c '"$1" "$2" -o - >>"$2"' sh "$VMCOREFIX" "$D/k.dump"
	[ "$status" -eq 2 ]
	[[ "$output" == *"standard output is the input"* ]]
	run sh -c '"$1" - -o - <"$2" >>"$2"' sh "$VMCOREFIX" "$D/k.dump"
	[ "$status" -eq 2 ]
	cmp "$D/k.dump" "$D/k.orig"
}

@test "a record larger than the pass-through takes (64 MiB) waits for the stream's end: the stream is still the fix; cut inside it, the poison follows whole records" {
	need_mdf
	gen big "$(grep -v '^ram\|^compress' <<<"$QEMU_KDUMP")
compress none
ram 0 80M
flattened yes
flat-record-size 128M"
	cat "$D/big.dump" | "$VMCOREFIX" - -o - >"$D/big.flat" 2>/dev/null
	reassemble "$D/big.flat" "$D/big.raw"
	"$VMCOREFIX" "$D/big.dump" -o "$D/big.want" >/dev/null
	cmp "$D/big.raw" "$D/big.want"
	rm -f "$D/big.raw" "$D/big.want" "$D/big.flat"
	head -c 50000000 "$D/big.dump" >"$D/big.cut"
	run sh -c 'cat "$1" | "$2" - -o - >"$3"' sh "$D/big.cut" "$VMCOREFIX" "$D/cut.flat"
	[ "$status" -eq 4 ]
	# nothing of the held record went out: the header, then the poison
	[ "$(stat -c %s "$D/cut.flat")" -eq $((4096 + 32)) ]
	SECONDS=0
	run reassemble "$D/cut.flat" "$D/cut.raw"
	[ "$status" -ne 0 ]
	[ "$SECONDS" -lt 60 ]
}

@test "a stream whose own records overlap keeps its order through -o -: the fix follows as later records, makedumpfile -R gives the -o FILE fix, and --inspect says the records overlap" {
	need_mdf
	gen kf "$QEMU_KDUMP
flattened yes
flat-record-size 4096"
	# the last record of page data written again, over itself, before the end marker
	python3 - "$D/kf.dump" "$D/ov.dump" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
pos, recs = 4096, []
while True:
    off, size = struct.unpack(">qq", d[pos:pos + 16])
    if off == -1:
        break
    recs.append((pos, off, size))
    pos += 16 + size
p, off, size = recs[-1]
extra = struct.pack(">qq", off, size) + bytes(b ^ 0x5a for b in d[p + 16:p + 16 + size])
open(sys.argv[2], "wb").write(d[:pos] + extra + d[pos:])
PY
	inspect_json "$D/ov.dump"
	has_problem flattened-records-overlap
	cat "$D/ov.dump" | "$VMCOREFIX" - -o - >"$D/ov.flat" 2>/dev/null
	reassemble "$D/ov.flat" "$D/ov.raw"
	"$VMCOREFIX" "$D/ov.dump" -o "$D/ov.want" >/dev/null
	cmp "$D/ov.raw" "$D/ov.want"
	inspect_json "$D/ov.flat"
	has_problem flattened-records-overlap
}
