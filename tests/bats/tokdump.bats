#!/usr/bin/env bats
# --output-format kdump: a saved VM state or an ELF dump written as a new
# kdump-compressed dump. The pages are read back by tests/tools/elfcmp.py, a
# kdump reader apart from the C code (its bitmaps, descriptors, zlib pages, and
# offset_vmcoreinfo checked against the note it points into), and compared with
# the ELF conversion of the same input. Real QEMU states and the consumers
# (makedumpfile, crash, drgn) are in tests/real/real_convert.bats.

load helpers

QEVM=$SRCDIR/tests/gen/qevm.py
ELFCMP=$SRCDIR/tests/tools/elfcmp.py

setup() {
	need_binaries
	need_jq
	gen sample "$(grep -v '^#' "$SRCDIR/tests/gen/specs/sample.spec")"
	S=$BATS_TEST_TMPDIR/sample.dump
	cd "$BATS_TEST_TMPDIR"
	"$QEVM" from-elf "$S" s.stream --device 0x13ae000 1024
}

@test "a saved state as a kdump: the ELF conversion's pages, notes and VMCOREINFO, a header consumers need" {
	run "$VMCOREFIX" s.stream -o out.kd --output-format kdump
	[ "$status" -eq 0 ] || { echo "$output" >&2; return 1; }
	[[ "$output" == *"a kdump-compressed dump of the saved state's memory: header version 6, 4096-byte blocks, 8160 pages"* ]]
	"$VMCOREFIX" s.stream -o out.elf >/dev/null
	# every page of the kdump is the ELF conversion's, and as many: the RAM
	# runs' 8160 pages (the legacy VGA window is in neither)
	run "$ELFCMP" out.kd out.elf
	[ "$status" -eq 0 ] || { echo "$output" >&2; return 1; }
	[ "$output" = "same: 33423360 bytes of RAM, 4 CPU notes, VMCOREINFO" ]
	run "$ELFCMP" out.elf out.elf
	[ "$output" = "same: 33423360 bytes of RAM, 4 CPU notes, VMCOREINFO" ]
	inspect_json out.kd
	[ "$(jget .format)" = kdump ]
	[ "$(jget .problems | jq length)" = 0 ]
	[ "$(jget .kdump.header_version)" = 6 ]
	[ "$(jget .kdump.utsname.release)" = 6.1.0-56-amd64 ]
	# the sample's note says NUMBER(phys_base)=-301989888
	[ "$(jget .kdump.phys_base)" = 0xffffffffee000000 ]
	[ "$(jget .compression)" = zlib ]
	run "$VMCOREFIX" --check out.kd
	[ "$status" -eq 0 ] || { echo "$output" >&2; return 1; }
	# compressed: the 32 MiB of the sample take a fraction of it
	[ "$(stat -c %s out.kd)" -lt $((16 << 20)) ]
}

@test "--check and --dry-run with --output-format kdump say what the conversion writes; a kdump asked for as a kdump gets its own fix" {
	run "$VMCOREFIX" --check --output-format kdump s.stream
	[ "$status" -eq 1 ] || { echo "$output" >&2; return 1; }
	[[ "$output" == *"would patch kdump header region at 0x0: a kdump-compressed dump"* ]]
	run "$VMCOREFIX" --dry-run --output-format kdump s.stream
	[ "$status" -eq 0 ]
	[ ! -e out.kd ]
	"$VMCOREFIX" s.stream -o out.kd --output-format kdump >/dev/null
	run "$VMCOREFIX" out.kd -o again.kd --output-format kdump
	[ "$status" -eq 0 ] || { echo "$output" >&2; return 1; }
	[[ "$output" == *"nothing to fix"* ]]
	cmp out.kd again.kd
	run "$VMCOREFIX" --in-place --output-format kdump s.stream
	[ "$status" -eq 2 ]
	[[ "$output" == *"--output-format kdump writes a new file: give -o FILE, not --in-place"* ]]
}

@test "-o - with --output-format kdump: the same kdump, flattened (makedumpfile -R rebuilds it byte for byte)" {
	command -v makedumpfile >/dev/null || skip "makedumpfile not installed"
	"$VMCOREFIX" s.stream -o out.kd --output-format kdump >/dev/null
	"$VMCOREFIX" s.stream -o - --output-format kdump 2>err.txt | makedumpfile -R back.kd >/dev/null 2>&1
	grep -q "wrote a flattened stream to standard output" err.txt
	cmp out.kd back.kd
}

@test "an ELF dump as a kdump: its pages and notes; memory a kdump cannot index is refused, no file left behind" {
	run "$VMCOREFIX" "$S" --saved-state s.stream -o e.kd --output-format kdump
	[ "$status" -eq 0 ] || { echo "$output" >&2; return 1; }
	[[ "$output" == *"a kdump-compressed dump of the ELF dump's memory"* ]]
	run "$ELFCMP" e.kd "$S"
	[ "$status" -eq 0 ] || { echo "$output" >&2; return 1; }
	[ "$output" = "same: 33423360 bytes of RAM, 2 CPU notes" ]
	# memory above 2^52: bitmaps sized by it are refused, not written
	gen high "$(grep -v '^#' "$SRCDIR/tests/gen/specs/sample.spec"; echo 'ram 0x10000000000000 0x1000')"
	run "$VMCOREFIX" high.dump --saved-state s.stream -o high.kd --output-format kdump
	[ "$status" -eq 5 ] || { echo "$output" >&2; return 1; }
	[[ "$output" == *"the dump holds memory at 0x10000000000000, above the 2^52 bytes a kdump written here indexes"* ]]
	[ ! -e high.kd ]
	# one page far above the rest (no memory map to bound it): bitmaps of 128 GiB refused
	gen sparse "$(grep -v '^#' "$SRCDIR/tests/gen/specs/sample.spec"; echo 'ram 0xff00000000000 0x1000')"
	run "$VMCOREFIX" sparse.dump --saved-state s.stream -o sparse.kd --output-format kdump
	[ "$status" -eq 5 ] || { echo "$output" >&2; return 1; }
	[[ "$output" == *"the dump's memory reaches pfn 0xff00000001, more than 64 times its 8161 pages"* ]]
	[ ! -e sparse.kd ]
	[ -z "$(ls -A . | grep 'vmcore-fix\.')" ]
	# a machine whose kdumps no consumer here was shown to read: refused, not called healthy
	gen z "format elf
machine s390x
prstatus 1
ram 0 1M"
	run "$VMCOREFIX" z.dump -o z.kd --output-format kdump
	[ "$status" -eq 5 ] || { echo "$output" >&2; return 1; }
	[[ "$output" == *"proven readable for x86_64 and aarch64 guests, not s390x"* ]]
	[ ! -e z.kd ]
	# --keep-device-pages keeps what lies above the kernel's memory map (here the
	# sample has no memory map: the same pages either way, and no trim said)
	run "$VMCOREFIX" "$S" --saved-state s.stream -o keep.kd --output-format kdump --keep-device-pages
	[ "$status" -eq 0 ] || { echo "$output" >&2; return 1; }
	[[ "$output" != *"left alone: kdump bitmaps"* ]]
	# the last --output-format wins
	"$VMCOREFIX" "$S" --saved-state s.stream -o last.elf --output-format kdump --output-format raw >/dev/null
	[ "$(head -c 4 last.elf | od -An -c | tr -d ' ')" = '177ELF' ]
}
