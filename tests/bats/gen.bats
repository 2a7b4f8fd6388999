#!/usr/bin/env bats
# The generator itself, checked against independent tools (readelf, makedumpfile -R).

load helpers

setup() {
	[ -x "$VFGEN" ] || skip "vfgen missing ($VFGEN)"
}

@test "QEMU-layout ELF: readelf sees the notes and the PT_LOADs" {
	command -v readelf >/dev/null || skip "readelf missing (binutils)"
	"$VFGEN" "$SRCDIR/tests/gen/specs/qemu-elf-x86_64.spec" "$BATS_TEST_TMPDIR/q.elf"
	run readelf -lnW "$BATS_TEST_TMPDIR/q.elf"
	[ "$status" -eq 0 ]
	[ "$(grep -c '^  LOAD' <<<"$output")" -eq 2 ]
	[[ "$output" == *"starting at offset 192"* ]]
	[[ "$output" == *"CORE"*"NT_PRSTATUS"* ]]
	[[ "$output" == *"VMCOREINFO"* ]]
	run readelf -hW "$BATS_TEST_TMPDIR/q.elf"
	[[ "$output" == *"Size of this header:"*"8 (bytes)"* ]]
}

@test "PN_XNUM: readelf counts 70002 program headers" {
	command -v readelf >/dev/null || skip "readelf missing (binutils)"
	printf 'format elf\nelf-layout standard\nram 0 64K\nextra-loads 70000\n' > "$BATS_TEST_TMPDIR/x.spec"
	"$VFGEN" "$BATS_TEST_TMPDIR/x.spec" "$BATS_TEST_TMPDIR/x.elf"
	run readelf -lW "$BATS_TEST_TMPDIR/x.elf"
	[[ "$output" == *"There are 70002 program headers"* ]]
}

@test "flattened output reassembles with makedumpfile -R to the raw output" {
	command -v makedumpfile >/dev/null || skip "makedumpfile missing"
	base="format kdump
machine x86_64
compress zlib
ram 0 1M
ram 2M 1M"
	printf '%s\nflattened no\n' "$base" > "$BATS_TEST_TMPDIR/r.spec"
	printf '%s\nflattened yes\nflat-record-size 3000\nflat-shuffle yes\n' "$base" > "$BATS_TEST_TMPDIR/f.spec"
	"$VFGEN" "$BATS_TEST_TMPDIR/r.spec" "$BATS_TEST_TMPDIR/raw"
	"$VFGEN" "$BATS_TEST_TMPDIR/f.spec" "$BATS_TEST_TMPDIR/flat"
	makedumpfile -R "$BATS_TEST_TMPDIR/re" < "$BATS_TEST_TMPDIR/flat" >/dev/null 2>&1
	cmp "$BATS_TEST_TMPDIR/raw" "$BATS_TEST_TMPDIR/re"
}

@test "--expect: bytes, not present (3), excluded (4)" {
	printf 'format kdump\nram 0 64K\nexclude 0x4000 0x1000\n' > "$BATS_TEST_TMPDIR/e.spec"
	run "$VFGEN" --expect "$BATS_TEST_TMPDIR/e.spec" 0x10 8
	[ "$status" -eq 0 ]
	[ "$("$VFGEN" --expect "$BATS_TEST_TMPDIR/e.spec" 0x10 8 | od -An -tx8 | tr -d ' ')" = 5a5aa5a5c3c33c2c ]
	run "$VFGEN" --expect "$BATS_TEST_TMPDIR/e.spec" 0x10000 8
	[ "$status" -eq 3 ]
	run "$VFGEN" --expect "$BATS_TEST_TMPDIR/e.spec" 0x3ff0 0x20
	[ "$status" -eq 4 ]
}

@test "spec errors name the line and exit 2" {
	printf 'format elf\nram 0 1M\nbogus 1\n' > "$BATS_TEST_TMPDIR/b.spec"
	run "$VFGEN" "$BATS_TEST_TMPDIR/b.spec" "$BATS_TEST_TMPDIR/b.out"
	[ "$status" -eq 2 ]
	[[ "$output" == *"line 3"*"bogus"* ]]
}
