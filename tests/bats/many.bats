#!/usr/bin/env bats
# Many dumps per call: --check, --inspect, --dry-run and --in-place over many
# DUMPs; JSON Lines; the exit status the highest; --jobs (same output, bounded
# memory); the manual's recipe for farm schedulers (xargs -P, GNU parallel).

load helpers

setup() {
	need_binaries
	need_jq
}

QEMU_KDUMP=$(grep -v '^#' "$SRCDIR/tests/gen/specs/qemu-kdump-x86_64.spec")

# The kinds of dumps a farm sees, in $BATS_TEST_TMPDIR: fix.dump (fixable, 1),
# ok.dump (healthy, 0), nonote.dump (ELF without a note, nothing to find it
# with: 3), cut.dump (a truncated kdump: 4), text.dump (not a dump: 4);
# missing.dump does not exist (6).
make_kinds() {
	local d=$BATS_TEST_TMPDIR
	gen fix "$QEMU_KDUMP"
	"$VMCOREFIX" "$d/fix.dump" -o "$d/ok.dump" >/dev/null
	gen nonote "format elf
machine x86_64
vmcoreinfo-note no
prstatus 1
ram 0 4M"
	gen cut "$QEMU_KDUMP
truncate 20000"
	echo "not a dump" >"$d/text.dump"
}

# valid_lines FILE: every line of FILE is one JSON object; prints the count.
valid_lines() {
	python3 -c 'import json, sys
n = 0
for l in open(sys.argv[1]):
    assert isinstance(json.loads(l), dict)
    n += 1
print(n)' "$1"
}

# peak_kb CMD...: run CMD under GNU time, print its peak RSS in KiB.
peak_kb() {
	/usr/bin/time -f '%M' -o "$BATS_TEST_TMPDIR/time" "$@" >/dev/null 2>&1 || true
	tail -n 1 "$BATS_TEST_TMPDIR/time"
}

@test "--check over many dumps: one line each naming its dump, the exit status the highest" {
	make_kinds
	cd "$BATS_TEST_TMPDIR"
	run "$VMCOREFIX" --check ok.dump fix.dump
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "ok.dump: nothing to fix" ]
	[ "${lines[1]}" = "fix.dump: fixable: 4 changes" ]
	[ "${#lines[@]}" -eq 2 ]
	run "$VMCOREFIX" --check ok.dump ok.dump
	[ "$status" -eq 0 ]
	run "$VMCOREFIX" --check fix.dump nonote.dump ok.dump
	[ "$status" -eq 3 ]
	run "$VMCOREFIX" --check nonote.dump text.dump fix.dump
	[ "$status" -eq 4 ]
	# errors: one line on standard error naming the dump, and its line in the report
	"$VMCOREFIX" --check ok.dump text.dump missing.dump fix.dump cut.dump nonote.dump \
		>out 2>err || status=$?
	[ "$status" -eq 6 ]
	diff -u - out <<-EOF
	ok.dump: nothing to fix
	text.dump: not a dump, or corrupt (exit 4)
	missing.dump: I/O or system error (exit 6)
	fix.dump: fixable: 4 changes
	cut.dump: not a dump, or corrupt (exit 4)
	nonote.dump: not fixable from the evidence given (exit 3)
	EOF
	[ "$(wc -l <err)" -eq 4 ]
	grep -q '^vmcore-fix: text.dump: at offset 0x0: not an ELF core' err
	grep -q '^vmcore-fix: missing.dump: cannot open: No such file' err
	grep -q '^vmcore-fix: cut.dump: .*kdump truncated' err
	grep -q '^vmcore-fix: nonote.dump: no valid VMCOREINFO note' err
}

@test "--check --json over many dumps: JSON Lines, one object per dump in order, each with its status" {
	make_kinds
	cd "$BATS_TEST_TMPDIR"
	"$VMCOREFIX" --check --json ok.dump text.dump missing.dump fix.dump cut.dump nonote.dump \
		>out 2>/dev/null || status=$?
	[ "$status" -eq 6 ]
	[ "$(valid_lines out)" -eq 6 ]
	[ "$(jq -r '.file' out | tr '\n' ' ')" = "ok.dump text.dump missing.dump fix.dump cut.dump nonote.dump " ]
	[ "$(jq -r '.status' out | tr '\n' ' ')" = "0 4 6 1 4 3 " ]
	# each status is the one --check gives the dump alone
	for f in ok.dump text.dump missing.dump fix.dump cut.dump nonote.dump; do
		alone=0
		"$VMCOREFIX" --check "$f" >/dev/null 2>&1 || alone=$?
		[ "$(jq -r --arg f "$f" 'select(.file == $f) | .status' out)" = "$alone" ]
	done
	# a report as for one dump, plus the status; an error as an error object
	[ "$(jq -r 'select(.file == "fix.dump") | "\(.schema) \(.check) \(.changes | length)"' out)" = \
		"vmcore-fix-fix/1 true 4" ]
	[ "$(jq -r 'select(.file == "ok.dump") | .changes | length' out)" = 0 ]
	[ "$(jq -r 'select(.file == "text.dump") | .error.code' out)" = not-format ]
	[[ "$(jq -r 'select(.file == "missing.dump") | .error.message' out)" == *"No such file"* ]]
	[ "$(jq -r 'select(.file == "nonote.dump") | .error.code' out)" = refused ]
}

@test "one dump: --json is the one indented document it always was, with no status" {
	make_kinds
	run "$VMCOREFIX" --check --json "$BATS_TEST_TMPDIR/fix.dump"
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "{" ]
	[ "${#lines[@]}" -gt 10 ]
	json=$output
	[ "$(jget 'has("status")')" = false ]
	status=0
	out=$("$VMCOREFIX" --inspect --json "$BATS_TEST_TMPDIR/text.dump" 2>/dev/null) || status=$?
	[ "$status" -eq 4 ]
	[ "$(head -n 1 <<<"$out")" = "{" ]
	[[ "$out" == *'"error"'* ]]
	[[ "$out" != *'"status"'* ]]
}

@test "--inspect over many dumps: a header per dump; --json: one line each, its status" {
	make_kinds
	cd "$BATS_TEST_TMPDIR"
	"$VMCOREFIX" --inspect ok.dump text.dump fix.dump >out 2>err || status=$?
	[ "$status" -eq 4 ]
	[ "$(grep -c '^==> .* <==$' out)" -eq 3 ]
	[ "$(sed -n 1p out)" = "==> ok.dump <==" ]
	[ "$(sed -n 2p out)" = "file:         ok.dump" ]
	grep -A1 -x '==> text.dump <==' out | grep -qx 'text.dump: not a dump, or corrupt (exit 4)'
	grep -A1 -x '==> fix.dump <==' out | grep -qx 'file:         fix.dump'
	# a blank line before every header but the first
	[ "$(grep -B1 '^==> ' out | grep -c '^$')" -eq 2 ]
	"$VMCOREFIX" --inspect --json ok.dump text.dump fix.dump >out 2>/dev/null || status=$?
	[ "$status" -eq 4 ]
	[ "$(valid_lines out)" -eq 3 ]
	[ "$(jq -r '"\(.file) \(.status) \(.schema)"' out | tr '\n' ' ')" = \
		"ok.dump 0 vmcore-fix-inspect/1 text.dump 4 vmcore-fix-inspect/1 fix.dump 1 vmcore-fix-inspect/1 " ]
	[ "$(jq -r 'select(.file == "fix.dump") | .problems | map(.id) | index("kdump-phys-base-mismatch") != null' out)" = true ]
	[ "$(jq -r 'select(.file == "ok.dump") | .problems | map(select(.severity != "info")) | length' out)" = 0 ]
}

@test "--dry-run and --in-place over many dumps; -o takes one dump" {
	make_kinds
	cd "$BATS_TEST_TMPDIR"
	cp fix.dump a.dump
	cp fix.dump b.dump
	cp a.dump a.orig
	run "$VMCOREFIX" --dry-run a.dump ok.dump
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "==> a.dump <==" ]
	[[ "$output" == *"would patch kdump sub-header phys_base"*"==> ok.dump <=="*"ok.dump: nothing to fix"* ]]
	cmp a.dump a.orig
	# -o: one dump, a usage error otherwise, nothing written
	run "$VMCOREFIX" a.dump b.dump -o out.dump
	[ "$status" -eq 2 ]
	[[ "$output" == *"-o FILE writes one dump"* ]]
	[ ! -e out.dump ]
	# --in-place: each dump patched; one failing does not stop the others
	run "$VMCOREFIX" --in-place --jobs 2 a.dump text.dump b.dump
	[ "$status" -eq 4 ]
	run "$VMCOREFIX" --check a.dump b.dump
	[ "$status" -eq 0 ]
	# the bytes --in-place writes for the dump alone
	cp fix.dump alone.dump
	"$VMCOREFIX" --in-place alone.dump >/dev/null
	cmp a.dump alone.dump
	cmp b.dump alone.dump
	# the same file twice (here by a hard link) is refused before anything is done
	cp fix.dump c.dump
	ln c.dump c-again.dump
	run "$VMCOREFIX" --in-place c.dump ok.dump c-again.dump
	[ "$status" -eq 2 ]
	[[ "$output" == *"'c-again.dump' is 'c.dump' again; give each dump once"* ]]
	run "$VMCOREFIX" --check c.dump
	[ "$status" -eq 1 ]
}

@test "--jobs: a number from 1 to 1024" {
	make_kinds
	for j in 0 -1 x 1025 2x ''; do
		run "$VMCOREFIX" --check --jobs "$j" "$BATS_TEST_TMPDIR/ok.dump" "$BATS_TEST_TMPDIR/fix.dump"
		[ "$status" -eq 2 ]
		[[ "$output" == *"--jobs is a number of dumps at once, 1 to 1024"* ]]
	done
	run "$VMCOREFIX" --check -j 1024 "$BATS_TEST_TMPDIR/ok.dump" "$BATS_TEST_TMPDIR/fix.dump"
	[ "$status" -eq 1 ]
	run "$VMCOREFIX" --check -j3 "$BATS_TEST_TMPDIR/ok.dump"
	[ "$status" -eq 0 ]
}

@test "--jobs 4 writes byte for byte what --jobs 1 writes, standard output and error" {
	make_kinds
	cd "$BATS_TEST_TMPDIR"
	set -- ok.dump text.dump missing.dump fix.dump cut.dump nonote.dump
	for i in $(seq 1 6); do
		cp fix.dump "f$i.dump"
		cp ok.dump "o$i.dump"
		set -- "$@" "f$i.dump" "o$i.dump" nonote.dump
	done
	for action in "--check" "--check --json" "--inspect" "--inspect --json" "--inspect -v" \
		"--dry-run" "--dry-run --json"; do
		# shellcheck disable=SC2086
		s1=0; "$VMCOREFIX" $action --jobs 1 "$@" >out1 2>err1 || s1=$?
		# shellcheck disable=SC2086
		s4=0; "$VMCOREFIX" $action --jobs 4 "$@" >out4 2>err4 || s4=$?
		echo "$action: $s1 $s4"
		[ "$s1" -eq 6 ] && [ "$s4" -eq 6 ]
		cmp out1 out4
		cmp err1 err4
		[ -s out1 ] && [ -s err1 ]
	done
	# and in place: the same files, the same report
	mkdir j1 j4
	cp f*.dump o*.dump j1/
	cp f*.dump o*.dump j4/
	(cd j1 && "$VMCOREFIX" --in-place --jobs 1 f*.dump o*.dump >../out1)
	(cd j4 && "$VMCOREFIX" --in-place --jobs 4 f*.dump o*.dump >../out4)
	cmp out1 out4
	for f in j1/*.dump; do cmp "$f" "j4/${f#j1/}"; done
	run "$VMCOREFIX" --check j4/*.dump
	[ "$status" -eq 0 ]
}

@test "--jobs: memory bounded by the jobs, not the dumps (peak RSS, 200 dumps)" {
	[ -x /usr/bin/time ] || skip "GNU time not installed (apt-get install time)"
	# AddressSanitizer keeps freed memory in quarantine: its peak grows with the dumps
	if ldd "$VMCOREFIX" 2>/dev/null | grep -q -E 'libasan'; then skip "sanitizer build (peak RSS is the runtime's)"; fi
	cd "$BATS_TEST_TMPDIR"
	# 4002 program headers: each dump open holds its headers, each --inspect
	# report is about 0.7 MB
	gen big "format elf
machine x86_64
prstatus 1
qemu-cpustate 1
ram 0 1M
extra-loads 4000"
	mkdir d
	for i in $(seq 1 200); do ln big.dump "d/$i.dump"; done
	one=$(peak_kb "$VMCOREFIX" --check --json big.dump)
	many=$(peak_kb "$VMCOREFIX" --check --json --jobs 4 d/*.dump)
	echo "--check: one dump $one KiB, 200 with --jobs 4 $many KiB"
	[ "$many" -lt $((one + 32768)) ]
	# the first dump held back (a FIFO's open waits for a writer): the other
	# reports wait for it, but no more than the window of them is made
	mkfifo first
	( /usr/bin/time -f '%M' -o time.fifo "$VMCOREFIX" --inspect --json --jobs 4 first d/*.dump \
		>out 2>/dev/null || true ) &
	sleep 2
	early=$(wc -c <out)  # nothing before the first dump's report
	# open and close (the first dump is an empty file); never wait for a reader that died
	timeout 10 sh -c ": >first" || true
	wait
	[ "$early" -eq 0 ]
	held=$(tail -n 1 time.fifo)
	echo "--inspect, the first dump held back: $held KiB"
	[ "$held" -lt $((one + 32768)) ]
	[ "$(valid_lines out)" -eq 201 ]
	[ "$(head -n 1 out | jq -r .status)" = 4 ]
}

# The recipe of the manual's EXAMPLES, as it is printed there (roff escapes
# undone), run on a directory of synthetic dumps.
recipe() {
	sed -n '/^\.\\" recipe: xargs/,/^\.\\" end recipe/p' "$SRCDIR/man/vmcore-fix.1.in" |
		grep '^find ' | sed -e 's/\\-/-/g' -e 's/\\e/\\/g'
}

# farm DIR: healthy, fixable and corrupt dumps in DIR, 150 of them, some in
# subdirectories, one with a space in its name; expected statuses in DIR.want
farm() {
	local d=$1
	make_kinds
	mkdir -p "$d/a" "$d/b c"
	for i in $(seq 1 50); do
		cp "$BATS_TEST_TMPDIR/ok.dump" "$d/a/healthy$i.dump"
		cp "$BATS_TEST_TMPDIR/fix.dump" "$d/b c/fixable $i.dump"
		cp "$BATS_TEST_TMPDIR/cut.dump" "$d/corrupt$i.dump"
	done
	(cd "$d" && find . -name '*.dump' | sed 's|^\./||' | sort) >"$d.names"
}

# check_farm OUT DIR: one valid JSON object per dump of DIR, each with its status.
check_farm() {
	local out=$1 d=$2
	[ "$(valid_lines "$out")" -eq 150 ]
	jq -r '.file' "$out" | sed "s|^$d/||" | sort >"$out.names"
	diff -u "$d.names" "$out.names"
	[ "$(jq -r 'select(.file | test("/healthy[0-9]+\\.dump$")) | .status' "$out" | sort -u)" = 0 ]
	[ "$(jq -r 'select(.file | test("/fixable [0-9]+\\.dump$")) | .status' "$out" | sort -u)" = 1 ]
	[ "$(jq -r 'select(.file | test("/corrupt[0-9]+\\.dump$")) | .status' "$out" | sort -u)" = 4 ]
	[ "$(jq -r 'select(.status == 4) | .error.code' "$out" | sort -u)" = corrupt ]
}

# run_recipe CMD: the manual's command CMD over a farm of dumps in
# $BATS_TEST_TMPDIR/dumps (its paths and vmcore-fix pointed at the test's), its
# JSON Lines in $BATS_TEST_TMPDIR/out; sets status and d.
run_recipe() {
	d=$BATS_TEST_TMPDIR/dumps
	farm "$d"
	local cmd=$1
	cmd=${cmd//\/dumps/$d}
	cmd=${cmd//vmcore-fix /$VMCOREFIX }
	cmd=${cmd//checks.jsonl/$BATS_TEST_TMPDIR/out}
	status=0
	(cd "$BATS_TEST_TMPDIR" && HOME=$BATS_TEST_TMPDIR bash -c "set -o pipefail; $cmd" 2>/dev/null) ||
		status=$?
}

@test "the manual's recipe: find | xargs -0 -n 100 -P 4 vmcore-fix --check --json" {
	command -v xargs >/dev/null || skip "xargs not installed"
	cmd=$(recipe | grep 'xargs')
	echo "recipe: $cmd"
	[[ "$cmd" == "find /dumps -name '*.dump' -print0 | xargs -0 -n 100 -P 4 vmcore-fix --check --json"* ]]
	run_recipe "$cmd"
	# xargs: 123 when an invocation exited 1 to 125 (here the worst, 4)
	[ "$status" -eq 123 ]
	check_farm "$BATS_TEST_TMPDIR/out" "$d"
}

@test "the manual's recipe: GNU parallel (when installed)" {
	command -v parallel >/dev/null || skip "GNU parallel not installed (apt-get install parallel)"
	parallel --version 2>/dev/null | grep -q 'GNU parallel' || skip "parallel is not GNU parallel (moreutils' is another program)"
	cmd=$(recipe | grep 'parallel')
	echo "recipe: $cmd"
	[[ "$cmd" == "find /dumps -name '*.dump' -print0 | parallel -0 -X -j 4 vmcore-fix --check --json"* ]]
	run_recipe "$cmd"
	# parallel: the number of invocations that failed (at least one: the corrupt dumps)
	[ "$status" -ge 1 ] && [ "$status" -le 100 ]
	check_farm "$BATS_TEST_TMPDIR/out" "$d"
}
