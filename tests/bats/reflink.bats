#!/usr/bin/env bats
# Reflink: on XFS (reflink=1) and btrfs, -o shares the input's blocks with the
# output: an ELF dump's block-aligned data through FICLONERANGE (its data moved by
# whole blocks), a raw kdump through copy_file_range (which clones there). The
# output is byte for byte the one written on a file system without reflink, its
# data extents are shared (tests/tools/fiemap: FIEMAP_EXTENT_SHARED), and it takes
# no more new space than its changed blocks and a little metadata.  Where the file
# system cannot clone (ext4, tmpfs), the output is the old path's: the same bytes
# and the same holes, one refused clone and no more.
#
# Each test loop-mounts a fresh image in $BATS_TEST_TMPDIR; it skips, saying why,
# when not root, without loop devices, without mkfs.xfs / mkfs.btrfs, or when the
# kernel will not mount the image.

load helpers

FIEMAP=$BUILDDIR/tests/tools/fiemap

# A QEMU-layout ELF dump without a note (fixed with --region: the header region
# grows and the data moves by whole blocks, from an offset that is not on a
# block boundary): 80 MiB of data, 16 MiB of zero pages written out as QEMU
# does, a 1 GiB hole, 8 MiB more.
ELF_SPEC="format elf
machine x86_64
elf-layout qemu
prstatus 1
qemu-cpustate 1
vmcoreinfo-note no
ram 0 0xa0000
ram 0xc0000 0x4f40000
ram 0x5000000 16M zero
ram 0x6000000 1G sparse
ram 0x46000000 8M
vmcoreinfo-in-memory 0x13ae000"
REGION=0x13ae000,1024

# A raw kdump, pages stored uncompressed (80 MiB), phys_base and the VMCOREINFO
# pointer to fix: header patches only.
KDUMP_SPEC="format kdump
machine x86_64
compress none
prstatus 1
qemu-cpustate 1
phys_base 0xfffffffcfe676778
kdump-vmcoreinfo-pointer no
ram 0 0xa0000
ram 0xc0000 0x4f40000
ram 0x5000000 1G sparse"

# The dumps, and their fixed outputs written on the test directory's file
# system (no clones: the reference), made once for the file.
setup_file() {
	[ -x "$VMCOREFIX" ] && [ -x "$VFGEN" ] || return 0
	local d=$BATS_FILE_TMPDIR
	printf '%s\n' "$ELF_SPEC" >"$d/e.spec"
	printf '%s\n' "$KDUMP_SPEC" >"$d/k.spec"
	"$VFGEN" "$d/e.spec" "$d/e.dump"
	"$VFGEN" "$d/k.spec" "$d/k.dump"
	VMCOREFIX_TEST_NO_CLONE=1 "$VMCOREFIX" "$d/e.dump" --region "$REGION" -o "$d/e.ref" >/dev/null
	"$VMCOREFIX" "$d/k.dump" -o "$d/k.ref" >/dev/null
}

setup() {
	need_binaries
	[ -x "$FIEMAP" ] || skip "tests/tools/fiemap not built ($FIEMAP)"
	MNT=$BATS_TEST_TMPDIR/mnt
}

teardown() {
	if [ -n "${MNT:-}" ] && mountpoint -q "$MNT" 2>/dev/null; then
		umount "$MNT"
	fi
}

# mount_fs TYPE: a fresh TYPE file system (xfs with reflink=1, btrfs, ext4,
# tmpfs) mounted at $MNT, or skip saying what is missing.
mount_fs() {
	local type=$1 img=$BATS_TEST_TMPDIR/$1.img
	[ "$(id -u)" = 0 ] || skip "needs root to mount a file system ($type)"
	mkdir -p "$MNT"
	if [ "$type" = tmpfs ]; then
		mount -t tmpfs -o size=1g tmpfs "$MNT" 2>"$BATS_TEST_TMPDIR/mount.err" ||
			skip "cannot mount tmpfs: $(cat "$BATS_TEST_TMPDIR/mount.err")"
		return 0
	fi
	[ -e /dev/loop-control ] && command -v losetup >/dev/null ||
		skip "no loop devices (/dev/loop-control, losetup) to mount a $type image"
	local pkg=${type}progs
	[ "$type" = ext4 ] && pkg=e2fsprogs
	command -v "mkfs.$type" >/dev/null || skip "mkfs.$type missing (apt-get install $pkg)"
	truncate -s 1G "$img"
	case $type in
	xfs) mkfs.xfs -q -K -m reflink=1 "$img" ;;
	btrfs) mkfs.btrfs -q -K "$img" >/dev/null ;;
	ext4) mkfs.ext4 -q -F -E nodiscard "$img" ;;
	esac
	mount -o loop "$img" "$MNT" 2>"$BATS_TEST_TMPDIR/mount.err" ||
		skip "cannot loop-mount a $type image: $(cat "$BATS_TEST_TMPDIR/mount.err")"
}

# used: bytes in use on $MNT, after a sync
used() {
	sync -f "$MNT"
	df -B1 --output=used "$MNT" | tail -n 1 | tr -d ' '
}

# summary FILE FIELD: a number from tests/tools/fiemap's summary line
summary() {
	"$FIEMAP" "$1" | tail -n 1 | awk -v f="$2" '{ for (i = 1; i < NF; i++) if ($i == f) print $(i + 1) }'
}

# fix_shares TYPE NAME [OPTIONS]: on a fresh TYPE file system, -o of NAME.dump
# writes NAME.ref's bytes, shares all its data but a few blocks, and takes
# little new space.
fix_shares() {
	local type=$1 name=$2 before after own shared total
	shift 2
	mount_fs "$type"
	cp "$BATS_FILE_TMPDIR/$name.dump" "$MNT/in"
	before=$(used)
	run "$VMCOREFIX" "$MNT/in" -o "$MNT/out" "$@"
	[ "$status" -eq 0 ]
	after=$(used)
	cmp "$MNT/out" "$BATS_FILE_TMPDIR/$name.ref"
	"$FIEMAP" "$MNT/out" >"$BATS_TEST_TMPDIR/map"
	own=$(summary "$MNT/out" own)
	shared=$(summary "$MNT/out" shared)
	total=$(summary "$MNT/out" total)
	echo "$type $name: $total bytes mapped, $shared shared, $own own; $((after - before)) bytes of new space" >&3
	# the data, some 96 MiB here, is shared but for the header region and the
	# extents' edges (a few blocks; 64 KiB is 16 of them)
	[ "$total" -gt $((80 << 20)) ]
	[ "$own" -le $((64 << 10)) ]
	[ "$shared" -ge $((total - (64 << 10))) ]
	# new space: those blocks and the file system's metadata (the sparse
	# copy of the same dump takes 90 MiB)
	[ $((after - before)) -le $((1 << 20)) ]
}

@test "XFS: -o of an ELF dump (data moved by whole blocks) clones it: the same bytes, shared, no new space" {
	fix_shares xfs e --region "$REGION"
}

@test "btrfs: -o of an ELF dump clones it: the same bytes, shared, no new space" {
	fix_shares btrfs e --region "$REGION"
}

@test "XFS: -o of a raw kdump shares its data (copy_file_range clones)" {
	fix_shares xfs k
}

@test "btrfs: -o of a raw kdump shares its data (copy_file_range clones)" {
	fix_shares btrfs k
}

@test "XFS: the clones do not change what the ELF output says, and the old path (no clones) writes the same bytes" {
	mount_fs xfs
	cp "$BATS_FILE_TMPDIR/e.dump" "$MNT/in"
	"$VMCOREFIX" "$MNT/in" --region "$REGION" -o "$MNT/cloned" >/dev/null
	VMCOREFIX_TEST_NO_CLONE=1 "$VMCOREFIX" "$MNT/in" --region "$REGION" -o "$MNT/copied" >/dev/null
	cmp "$MNT/cloned" "$MNT/copied"
	# the old path shares nothing: the bound in fix_shares can fail
	[ "$(summary "$MNT/copied" shared)" -eq 0 ]
	[ "$(summary "$MNT/copied" own)" -gt $((64 << 20)) ]
	run "$VMCOREFIX" --check "$MNT/cloned"
	[ "$status" -eq 0 ]
	# and the input is untouched by the output's patches (its blocks are shared)
	cmp "$MNT/in" "$BATS_FILE_TMPDIR/e.dump"
}

# same_map A B: the two files map the same data ranges (offsets, lengths, own
# or shared), whatever blocks hold them
same_map() {
	diff <("$FIEMAP" "$1" | cut -d' ' -f1-3) <("$FIEMAP" "$2" | cut -d' ' -f1-3)
}

@test "ext4 (no reflink): the output is the old path's, the same bytes and the same holes" {
	mount_fs ext4
	cp "$BATS_FILE_TMPDIR/e.dump" "$MNT/in"
	"$VMCOREFIX" "$MNT/in" --region "$REGION" -o "$MNT/new" >/dev/null
	VMCOREFIX_TEST_NO_CLONE=1 "$VMCOREFIX" "$MNT/in" --region "$REGION" -o "$MNT/old" >/dev/null
	cmp "$MNT/new" "$MNT/old"
	cmp "$MNT/new" "$BATS_FILE_TMPDIR/e.ref"
	same_map "$MNT/new" "$MNT/old"
	# zero blocks became holes: the 16 MiB of zero pages take no space
	[ "$(summary "$MNT/new" total)" -lt $((96 << 20)) ]
	[ "$(summary "$MNT/new" shared)" -eq 0 ]
}

@test "tmpfs (no reflink): the output is the old path's, the same bytes and the same space" {
	mount_fs tmpfs
	cp "$BATS_FILE_TMPDIR/e.dump" "$MNT/in"
	"$VMCOREFIX" "$MNT/in" --region "$REGION" -o "$MNT/new" >/dev/null
	VMCOREFIX_TEST_NO_CLONE=1 "$VMCOREFIX" "$MNT/in" --region "$REGION" -o "$MNT/old" >/dev/null
	cmp "$MNT/new" "$MNT/old"
	cmp "$MNT/new" "$BATS_FILE_TMPDIR/e.ref"
	[ "$(du -k "$MNT/new" | cut -f1)" -eq "$(du -k "$MNT/old" | cut -f1)" ]
	[ "$(du -k "$MNT/new" | cut -f1)" -lt $((96 << 10)) ]
}

@test "ext4: a refused clone is tried once, not once per range" {
	command -v strace >/dev/null || skip "strace missing (apt-get install strace)"
	mount_fs ext4
	cp "$BATS_FILE_TMPDIR/e.dump" "$MNT/in"
	# (LeakSanitizer cannot run under ptrace: an ASan build's leak check is off)
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		strace -f -e trace=ioctl -o "$BATS_TEST_TMPDIR/trace" \
		"$VMCOREFIX" "$MNT/in" --region "$REGION" -o "$MNT/out" >/dev/null
	cmp "$MNT/out" "$BATS_FILE_TMPDIR/e.ref"
	# the dump has two data extents and 96 MiB in the first: at least three
	# ranges could be cloned (64 MiB steps), and only the first is tried
	[ "$(grep -c FICLONERANGE "$BATS_TEST_TMPDIR/trace")" -eq 1 ]
	# refused (ext4 has no reflink: EOPNOTSUPP)
	grep -q 'FICLONERANGE.*= -1 E' "$BATS_TEST_TMPDIR/trace"
}

@test "XFS: a clone failing midway (EIO, the fault shim) sends the rest through the copy: the same bytes" {
	local faultlib=$BUILDDIR/tests/fault/libvffault.so
	[ -f "$faultlib" ] || skip "the fault shim is not built ($faultlib: make check builds it)"
	if ldd "$VMCOREFIX" 2>/dev/null | grep -q -E 'lib(a|ub|t)san'; then
		skip "vmcore-fix is built with a sanitizer (no preload)"
	fi
	mount_fs xfs
	cp "$BATS_FILE_TMPDIR/e.dump" "$MNT/in"
	env LD_PRELOAD="$faultlib" VMCOREFIX_FAULT_AT=2 VMCOREFIX_FAULT_CALL=ioctl \
		VMCOREFIX_FAULT_ERRNO=EIO VMCOREFIX_FAULT_REPORT="$BATS_TEST_TMPDIR/report" \
		"$VMCOREFIX" "$MNT/in" --region "$REGION" -o "$MNT/out" >/dev/null
	[ "$(cat "$BATS_TEST_TMPDIR/report")" = "ioctl 2" ]
	cmp "$MNT/out" "$BATS_FILE_TMPDIR/e.ref"
	# the first range (64 MiB) is shared, the rest written
	[ "$(summary "$MNT/out" shared)" -ge $((60 << 20)) ]
	[ "$(summary "$MNT/out" own)" -ge $((16 << 20)) ]
	# the first clone failing: nothing shared, the same bytes
	rm "$MNT/out"
	env LD_PRELOAD="$faultlib" VMCOREFIX_FAULT_AT=1 VMCOREFIX_FAULT_CALL=ioctl \
		VMCOREFIX_FAULT_ERRNO=EIO "$VMCOREFIX" "$MNT/in" --region "$REGION" -o "$MNT/out" >/dev/null
	cmp "$MNT/out" "$BATS_FILE_TMPDIR/e.ref"
	[ "$(summary "$MNT/out" shared)" -eq 0 ]
}
