#!/usr/bin/env bats
# Truncated, hostile and inconsistent input: one-line errors with offsets and
# documented exit codes; nothing crashes; memory stays bounded.

load helpers

setup() {
	need_binaries
}

# expect_corrupt FILE: exit 4, one line on stderr naming an offset, nothing on stdout.
expect_corrupt() {
	local out err rc=0
	out=$("$VMCOREFIX" --inspect "$1" 2>"$BATS_TEST_TMPDIR/err") || rc=$?
	err=$(cat "$BATS_TEST_TMPDIR/err")
	echo "exit $rc: $err"
	[ "$rc" -eq 4 ]
	[ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ]
	[[ "$err" == *"0x"* ]]
	[ -z "$out" ]
}

@test "ELF truncated in the header, the program headers and the data" {
	gen e "format elf
machine x86_64
elf-layout qemu
ram 0 1M"
	size=$(stat -c %s "$BATS_TEST_TMPDIR/e.dump")
	for cut in 20 63 100 200 $((size - 4096)) $((size - 12)); do
		head -c "$cut" "$BATS_TEST_TMPDIR/e.dump" > "$BATS_TEST_TMPDIR/t.dump"
		expect_corrupt "$BATS_TEST_TMPDIR/t.dump"
	done
	[[ "$(cat "$BATS_TEST_TMPDIR/err")" == *"truncated"* ]]
}

@test "kdump truncated in the header, sub-header, bitmaps" {
	gen k "format kdump
machine x86_64
compress zlib
ram 0 4M"
	for cut in 10 300 4100 8300 $((3 * 4096 + 100)); do
		head -c "$cut" "$BATS_TEST_TMPDIR/k.dump" > "$BATS_TEST_TMPDIR/t.dump"
		expect_corrupt "$BATS_TEST_TMPDIR/t.dump"
	done
}

@test "kdump block_size not a power of two" {
	gen b "format kdump
machine x86_64
compress zlib
ram 0 1M
poke 0x1ac b80b0000"
	expect_corrupt "$BATS_TEST_TMPDIR/b.dump"
	[[ "$(cat "$BATS_TEST_TMPDIR/err")" == *"block_size"* ]]
}

@test "flattened: zero-length record, record past the end, no end marker" {
	for c in flat-zero-length-record flat-record-past-end flat-no-end-marker; do
		gen f "format kdump
machine x86_64
compress zlib
flattened yes
ram 0 1M
$c yes"
		expect_corrupt "$BATS_TEST_TMPDIR/f.dump"
	done
}

@test "a page descriptor pointing past the end: the read fails as corrupt, inspect still works" {
	gen p "format kdump
machine x86_64
compress zlib
ram 0 1M
kdump-descriptor-past-eof yes"
	run "$VMCOREFIX" --inspect "$BATS_TEST_TMPDIR/p.dump"
	[ "$status" -le 1 ]
	run "$VFREAD" "$BATS_TEST_TMPDIR/p.dump" 0 16
	[ "$status" -eq 1 ]
	[[ "$output" == *"0x"* ]]
}

@test "ELF program header table offset past the end" {
	gen o "format elf
machine x86_64
elf-layout standard
ram 0 1M
poke 0x20 00000000ffff0000"
	expect_corrupt "$BATS_TEST_TMPDIR/o.dump"
	[[ "$(cat "$BATS_TEST_TMPDIR/err")" == *"program header table"* ]]
}

# Flip bytes in the headers of each format, deterministically; every run must end
# with a documented exit code and no signal, under a 256 MiB address-space limit.
@test "mutated headers never crash (bounded memory)" {
	command -v python3 >/dev/null || skip "python3 missing"
	gen m1 "format elf
machine x86_64
elf-layout qemu
prstatus 1
qemu-cpustate 1
ram 0 1M"
	gen m2 "format kdump
machine x86_64
compress zlib
ram 0 1M"
	gen m3 "format kdump
machine x86_64
compress zlib
flattened yes
ram 0 1M"
	for base in m1 m2 m3; do
		for seed in $(seq 1 60); do
			python3 - "$BATS_TEST_TMPDIR/$base.dump" "$BATS_TEST_TMPDIR/mut.dump" "$seed" <<'PY'
import random, sys
src, dst, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
data = bytearray(open(src, 'rb').read())
r = random.Random(seed)
span = min(len(data), 0x3000)
for _ in range(r.randint(1, 8)):
    i = r.randrange(span)
    data[i] = r.choice([0, 0xff, 0x7f, 0x80, r.randrange(256)])
open(dst, 'wb').write(data)
PY
			rc=0
			(ulimit -v 262144; "$VMCOREFIX" --inspect --json "$BATS_TEST_TMPDIR/mut.dump" >/dev/null 2>&1) || rc=$?
			case $rc in
			0|1|4|5) ;;
			*) echo "$base seed $seed: exit $rc"; false ;;
			esac
			rc=0
			(ulimit -v 262144; "$VFREAD" "$BATS_TEST_TMPDIR/mut.dump" 0 8192 >/dev/null 2>&1) || rc=$?
			[ "$rc" -le 4 ] || { echo "vfread $base seed $seed: exit $rc"; false; }
		done
	done
}
