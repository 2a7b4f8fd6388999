#!/usr/bin/env bats
# Command-line behaviour: help, usage errors, one-line errors, exit codes.

load helpers

setup() {
	[ -x "$VMCOREFIX" ] || skip "vmcore-fix not built ($VMCOREFIX)"
}

# Run with stderr and stdout apart: $out, $err, $status.
run_split() {
	status=0
	out=$("$@" 2>"$BATS_TEST_TMPDIR/err") || status=$?
	err=$(cat "$BATS_TEST_TMPDIR/err")
}

one_line() {
	[ -n "$1" ] && [ "$(printf '%s\n' "$1" | wc -l)" -eq 1 ]
}

@test "--help lists every option and exits 0" {
	run "$VMCOREFIX" --help
	[ "$status" -eq 0 ]
	for o in --inspect --json --verbose --help --usage --version; do
		[[ "$output" == *"$o"* ]]
	done
	[[ "$output" == *"Exit status"* ]]
}

@test "--usage and --version" {
	run "$VMCOREFIX" --usage
	[ "$status" -eq 0 ]
	[[ "$output" == Usage:* ]]
	run "$VMCOREFIX" --version
	[ "$status" -eq 0 ]
	version=$(sed -n 's/^AC_INIT(\[vmcore-fix\], \[\([^]]*\)\].*/\1/p' "$SRCDIR/configure.ac")
	[ "$output" = "vmcore-fix $version" ]
}

@test "usage errors exit 2 with a message" {
	run_split "$VMCOREFIX"
	[ "$status" -eq 2 ]
	[[ "$err" == *"no dump given"* ]]
	run_split "$VMCOREFIX" a b -o c
	[ "$status" -eq 2 ]
	[[ "$err" == *"-o FILE writes one dump"* ]]
	run_split "$VMCOREFIX" some.dump
	[ "$status" -eq 2 ]
	[[ "$err" == *"--inspect"* ]]
	run_split "$VMCOREFIX" --frobnicate x
	[ "$status" -eq 2 ]
	[ -z "$out" ]
}

@test "a missing file: exit 6, one line naming the path" {
	run_split "$VMCOREFIX" --inspect "$BATS_TEST_TMPDIR/nope.dump"
	[ "$status" -eq 6 ]
	one_line "$err"
	[[ "$err" == *"nope.dump"*"No such file"* ]]
	[ -z "$out" ]
}

@test "a directory: exit 6, one line" {
	run_split "$VMCOREFIX" --inspect "$BATS_TEST_TMPDIR"
	[ "$status" -eq 6 ]
	one_line "$err"
	[[ "$err" == *"directory"* ]]
}

@test "an unreadable file: exit 6" {
	[ "$(id -u)" != 0 ] || skip "root reads every file"
	f=$BATS_TEST_TMPDIR/locked.dump
	echo x > "$f"
	chmod 000 "$f"
	run_split "$VMCOREFIX" --inspect "$f"
	[ "$status" -eq 6 ]
}

@test "an empty file: exit 4, 'empty file'" {
	: > "$BATS_TEST_TMPDIR/empty.dump"
	run_split "$VMCOREFIX" --inspect "$BATS_TEST_TMPDIR/empty.dump"
	[ "$status" -eq 4 ]
	one_line "$err"
	[[ "$err" == *"empty file"* ]]
}

@test "random bytes: exit 4, 'not an ELF core or kdump-compressed dump'" {
	head -c 4096 /dev/urandom > "$BATS_TEST_TMPDIR/random.dump"
	printf 'XXXX' | dd of="$BATS_TEST_TMPDIR/random.dump" conv=notrunc status=none
	run_split "$VMCOREFIX" --inspect "$BATS_TEST_TMPDIR/random.dump"
	[ "$status" -eq 4 ]
	one_line "$err"
	[[ "$err" == *"not an ELF core or kdump-compressed dump"*"58 58 58 58"* ]]
	[ -z "$out" ]
}

@test "--json on an error prints a JSON error document" {
	need_jq
	: > "$BATS_TEST_TMPDIR/empty.dump"
	run_split "$VMCOREFIX" --inspect --json "$BATS_TEST_TMPDIR/empty.dump"
	[ "$status" -eq 4 ]
	one_line "$err"
	[ "$(jq -r .error.code <<<"$out")" = not-format ]
	[ "$(jq -r .schema <<<"$out")" = vmcore-fix-inspect/1 ]
	[ "$(jq -r .error.offset <<<"$out")" = 0x0 ]
}

@test "a full output device: exit 6" {
	[ -w /dev/full ] || skip "no /dev/full"
	need_binaries
	gen s "$(cat "$SRCDIR/tests/gen/specs/sample.spec")"
	run_split "$VMCOREFIX" --inspect "$BATS_TEST_TMPDIR/s.dump"
	"$VMCOREFIX" --inspect "$BATS_TEST_TMPDIR/s.dump" > /dev/full 2>"$BATS_TEST_TMPDIR/err" || status=$?
	[ "$status" -eq 6 ]
}

@test "region options: one at a time, bad text is a usage error, a refused fw_cfg entry exits 3" {
	run_split "$VMCOREFIX" --inspect --region 1,2 --fw-cfg x some.dump
	[ "$status" -eq 2 ]
	[[ "$err" == *"one way"* ]]
	: > "$BATS_TEST_TMPDIR/d"
	run_split "$VMCOREFIX" --inspect --region bogus "$BATS_TEST_TMPDIR/d"
	[ "$status" -eq 2 ]
	one_line "$err"
	printf '\x00\x00\x00\x00\x24\x10\x00\x00\x00\xe0\x3a\x01\x00\x00\x00\x00' > "$BATS_TEST_TMPDIR/fw0"
	run_split "$VMCOREFIX" --inspect --fw-cfg "$BATS_TEST_TMPDIR/fw0" "$BATS_TEST_TMPDIR/d"
	[ "$status" -eq 3 ]
	one_line "$err"
	[[ "$err" == *"guest_format is 0"* ]]
	run_split "$VMCOREFIX" --inspect --fw-cfg "$BATS_TEST_TMPDIR/nope" "$BATS_TEST_TMPDIR/d"
	[ "$status" -eq 6 ]
}

@test "--progress: always on standard error when asked, never when stderr is not a terminal" {
	gen p "format elf
machine x86_64
vmcoreinfo-note no
$KTEXT_OK
ram 0 4M
vmcoreinfo-in-memory 0x200000"
	"$VMCOREFIX" "$BATS_TEST_TMPDIR/p.dump" -o "$BATS_TEST_TMPDIR/o1" --progress always \
		> "$BATS_TEST_TMPDIR/out" 2> "$BATS_TEST_TMPDIR/err"
	grep -q 'writing: 100%' "$BATS_TEST_TMPDIR/err"
	grep -q 'scanning guest memory for the note: 100%' "$BATS_TEST_TMPDIR/err"
	! grep -q '%' "$BATS_TEST_TMPDIR/out" || false
	"$VMCOREFIX" "$BATS_TEST_TMPDIR/p.dump" -o "$BATS_TEST_TMPDIR/o2" 2> "$BATS_TEST_TMPDIR/err2" >/dev/null
	[ ! -s "$BATS_TEST_TMPDIR/err2" ]
	"$VMCOREFIX" "$BATS_TEST_TMPDIR/p.dump" -o "$BATS_TEST_TMPDIR/o3" --progress never 2> "$BATS_TEST_TMPDIR/err3" >/dev/null
	[ ! -s "$BATS_TEST_TMPDIR/err3" ]
	cmp "$BATS_TEST_TMPDIR/o1" "$BATS_TEST_TMPDIR/o2"
	run "$VMCOREFIX" "$BATS_TEST_TMPDIR/p.dump" -o x --progress sometimes
	[ "$status" -eq 2 ]
}
