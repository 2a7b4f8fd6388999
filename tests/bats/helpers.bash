# helpers.bash - shared setup for the bats tests.
# make check exports VMCOREFIX, VFGEN, VFREAD, SRCDIR, BUILDDIR; default them for
# running a single file by hand from a build directory named "build".

: "${SRCDIR:=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}"
: "${BUILDDIR:=$SRCDIR/build}"
: "${VMCOREFIX:=$BUILDDIR/vmcore-fix}"
: "${VFGEN:=$SRCDIR/tests/gen/vfgen.py}"
: "${VFREAD:=$BUILDDIR/tests/tools/vfread}"
export SRCDIR BUILDDIR VMCOREFIX VFGEN VFREAD

need_binaries() {
	[ -x "$VMCOREFIX" ] || skip "vmcore-fix not built ($VMCOREFIX)"
	[ -x "$VFGEN" ] || skip "vfgen not built ($VFGEN)"
	[ -x "$VFREAD" ] || skip "vfread not built ($VFREAD)"
}

need_jq() {
	command -v jq >/dev/null || skip "jq not installed (apt-get install jq)"
}

# gen NAME SPECTEXT: write the spec to $BATS_TEST_TMPDIR/NAME.spec and make NAME.dump.
gen() {
	local name=$1 spec=$2
	printf '%s\n' "$spec" > "$BATS_TEST_TMPDIR/$name.spec"
	"$VFGEN" "$BATS_TEST_TMPDIR/$name.spec" "$BATS_TEST_TMPDIR/$name.dump"
}

# inspect_json DUMP: run --inspect --json, leave the document in $json; accept exit 0/1.
inspect_json() {
	run "$VMCOREFIX" --inspect --json "$1"
	if [ "$status" -ne 0 ] && [ "$status" -ne 1 ]; then
		echo "vmcore-fix --inspect --json $1 exited $status: $output" >&2
		return 1
	fi
	json=$output
}

# jget EXPR: evaluate a jq expression on $json (raw output).
jget() {
	jq -r "$1" <<<"$json"
}

# has_problem ID: the report in $json lists that problem id.
has_problem() {
	jq -e --arg id "$1" '.problems | map(.id) | index($id) != null' <<<"$json" >/dev/null
}

# The real-QEMU fixtures: sets REAL to the cache dir, or skips.
real_setup() {
	local out rc=0
	out=$("$SRCDIR/tests/real/make-dumps.sh" 2>"$BATS_FILE_TMPDIR/make-dumps.log") || rc=$?
	if [ "$rc" = 77 ]; then
		return 77
	elif [ "$rc" != 0 ]; then
		cat "$BATS_FILE_TMPDIR/make-dumps.log" >&2
		return 1
	fi
	printf '%s\n' "$out" | tail -n 1 > "$BATS_FILE_TMPDIR/real-dir"
}

real_dir() {
	[ -s "$BATS_FILE_TMPDIR/real-dir" ] || skip "real QEMU fixtures unavailable (tests/real/make-dumps.sh)"
	REAL=$(cat "$BATS_FILE_TMPDIR/real-dir")
}

# same_read NAME PADDR LEN: vfread of NAME.dump and vfgen --expect of NAME.spec
# agree on the bytes and on the exit status (0, 3 not present, 4 excluded).
same_read() {
	local name=$1 addr=$2 len=$3 rc_e=0 rc_r=0
	"$VFGEN" --expect "$BATS_TEST_TMPDIR/$name.spec" "$addr" "$len" > "$BATS_TEST_TMPDIR/expect" || rc_e=$?
	"$VFREAD" "$BATS_TEST_TMPDIR/$name.dump" "$addr" "$len" > "$BATS_TEST_TMPDIR/got" 2>"$BATS_TEST_TMPDIR/got.err" || rc_r=$?
	if [ "$rc_e" != "$rc_r" ]; then
		echo "$name @$addr+$len: vfgen --expect exit $rc_e, vfread exit $rc_r: $(cat "$BATS_TEST_TMPDIR/got.err")" >&2
		return 1
	fi
	if [ "$rc_r" = 0 ] && ! cmp -s "$BATS_TEST_TMPDIR/expect" "$BATS_TEST_TMPDIR/got"; then
		echo "$name @$addr+$len: bytes differ" >&2
		cmp "$BATS_TEST_TMPDIR/expect" "$BATS_TEST_TMPDIR/got" | head -1 >&2
		return 1
	fi
}
