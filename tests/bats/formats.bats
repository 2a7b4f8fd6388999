#!/usr/bin/env bats
# Every format, class, byte order and codec is read correctly: the report names it,
# and guest memory read through vmcore-fix equals what the generator put there.

load helpers

setup() {
	need_binaries
	need_jq
}

# A RAM layout with a hole, pages straddled by the reads below.
RAM="ram 0 1M
ram 0x200000 2M"
ADDRS="0 0x1000 0xfff0 0xffff8 0x200ff0 0x3ffff0 0x100000 0x150000 0x400000"

reads_match() {
	local name=$1
	for a in $ADDRS; do
		same_read "$name" "$a" 32
	done
	same_read "$name" 0x201000 65536
}

elf_case() {  # name class endian machine layout
	gen "$1" "format elf
class $2
endian $3
machine $4
elf-layout $5
$RAM"
	inspect_json "$BATS_TEST_TMPDIR/$1.dump"
	[ "$(jget .format)" = elf ]
	[ "$(jget .class)" = "$2" ]
	[ "$(jget .byte_order)" = "$3" ]
	[ "$(jget .machine)" = "$4" ]
	[ "$(jget .vmcoreinfo.origin)" = note ]
	reads_match "$1"
}

@test "ELF64 little-endian, QEMU layout" { elf_case e1 64 little x86_64 qemu; }
@test "ELF64 little-endian, standard layout" { elf_case e2 64 little x86_64 standard; }
@test "ELF64 big-endian (s390x)" { elf_case e3 64 big s390x standard; }
@test "ELF32 little-endian (i386)" { elf_case e4 32 little i386 standard; }
@test "ELF32 big-endian (ppc), QEMU layout" { elf_case e5 32 big ppc qemu; }
@test "ELF64 aarch64" { elf_case e6 64 little aarch64 qemu; }

@test "ELF with PN_XNUM (70000 program headers)" {
	gen x "format elf
class 64
machine x86_64
elf-layout standard
ram 0 1M
extra-loads 70000"
	inspect_json "$BATS_TEST_TMPDIR/x.dump"
	[ "$(jget .elf.e_phnum)" = 65535 ]
	[ "$(jget .elf.phnum)" -gt 65535 ]
	same_read x 0x1000 64
}

@test "ELF: bytes beyond p_filesz are not present, not zeros" {
	gen m "format elf
machine x86_64
ram 0 1M
memsz-extra 0x10000"
	same_read m 0xffff0 16
	run "$VFREAD" "$BATS_TEST_TMPDIR/m.dump" 0x100000 16
	[ "$status" -eq 3 ]
}

kdump_case() {  # name machine endian header_version compress [flattened]
	gen "$1" "format kdump
machine $2
endian $3
header_version $4
compress $5
flattened ${6:-no}
$RAM"
	inspect_json "$BATS_TEST_TMPDIR/$1.dump"
	[ "$(jget .format)" = kdump ]
	[ "$(jget .byte_order)" = "$3" ]
	[ "$(jget .machine)" = "$2" ]
	[ "$(jget .kdump.header_version)" = "$4" ]
	[ "$(jget .compression)" = "$5" ]
	[ "$(jget .flattened)" = "$([ "${6:-no}" = yes ] && echo true || echo false)" ]
	reads_match "$1"
}

need_codec() {
	local var=HAVE_$(tr a-z A-Z <<<"$1")
	[ "${!var:-yes}" = yes ] || skip "built without $1"
}

@test "kdump v6 x86_64 zlib" { need_codec zlib; kdump_case k1 x86_64 little 6 zlib; }
@test "kdump v6 lzo" { need_codec lzo; kdump_case k2 x86_64 little 6 lzo; }
@test "kdump v6 snappy" { need_codec snappy; kdump_case k3 x86_64 little 6 snappy; }
@test "kdump v6 zstd" { need_codec zstd; kdump_case k4 x86_64 little 6 zstd; }
@test "kdump v6 uncompressed" { kdump_case k5 x86_64 little 6 none; }
@test "kdump v1" { need_codec zlib; kdump_case k6 x86_64 little 1 zlib; }
@test "kdump v3 (VMCOREINFO through the pointer only)" {
	need_codec zlib
	kdump_case k7 x86_64 little 3 zlib
	[ "$(jget .vmcoreinfo.origin)" = kdump-pointer ]
}
@test "kdump 32-bit i386 (packed sub-header)" {
	need_codec zlib
	kdump_case k8 i386 little 6 zlib
	[ "$(jget .kdump.layout)" = 32-packed ]
}
@test "kdump 32-bit ppc big-endian (padded sub-header)" {
	need_codec zlib
	kdump_case k9 ppc big 6 zlib
	[ "$(jget .kdump.layout)" = 32-padded ]
}
@test "kdump 64-bit big-endian (s390x)" { need_codec zlib; kdump_case k10 s390x big 6 zlib; }
@test "kdump flattened" { need_codec zlib; kdump_case k11 x86_64 little 6 zlib yes; }

@test "kdump flattened with shuffled, small records" {
	need_codec zlib
	gen f "format kdump
machine x86_64
compress zlib
flattened yes
flat-record-size 1000
flat-shuffle yes
$RAM"
	inspect_json "$BATS_TEST_TMPDIR/f.dump"
	[ "$(jget .flattened)" = true ]
	reads_match f
}

@test "kdump with a 64 KiB block size (aarch64)" {
	need_codec zlib
	gen a "format kdump
machine aarch64
page_size 65536
compress zlib
ram 0 4M"
	inspect_json "$BATS_TEST_TMPDIR/a.dump"
	[ "$(jget .page_size)" = 65536 ]
	same_read a 0x1fff0 32
	same_read a 0x30000 70000
}

@test "kdump excluded pages are 'excluded', RAM holes 'not present'" {
	need_codec zlib
	gen x "format kdump
machine x86_64
compress zlib
$RAM
exclude 0x201000 0x3000
dump_level 31"
	same_read x 0x201000 16
	run "$VFREAD" "$BATS_TEST_TMPDIR/x.dump" 0x202000 16
	[ "$status" -eq 4 ]
	[[ "$output" == *"excluded"* ]]
	run "$VFREAD" "$BATS_TEST_TMPDIR/x.dump" 0x150000 16
	[ "$status" -eq 3 ]
	same_read x 0x204000 4096
}

@test "ELF in the flattened form" {
	gen ef "format elf
machine x86_64
elf-layout qemu
flattened yes
flat-record-size 5000
flat-shuffle yes
$RAM"
	inspect_json "$BATS_TEST_TMPDIR/ef.dump"
	[ "$(jget .format)" = elf ]
	[ "$(jget .flattened)" = true ]
	[ "$(jget .vmcoreinfo.origin)" = note ]
	reads_match ef
}
