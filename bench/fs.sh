#!/bin/bash
# bench/fs.sh BUILDDIR - the file-system rows of bench/run.sh (sourced by it, or run
# alone: BENCH_FS_ONLY=1 bench/run.sh, or bench/fs.sh BUILDDIR).
#
# On loop-mounted XFS (reflink=1) and btrfs images: -o of a synthetic ELF dump
# (fixed with --region: its data moves by whole blocks) and of a raw kdump
# against `cp --reflink=always` of the same file, side by side, with and
# without --no-sync, and the old path (VMCOREFIX_TEST_NO_CLONE=1: read and
# write); the new space each takes (df after a sync).  On ext4 (a loop image)
# and tmpfs: -o with and without --no-sync against cp --sparse=always with and
# without an fsync of the copy.  Dumps: a 4 GiB and a 64 GiB guest (1 TiB with
# BENCH_FS_HUGE=1), 256 MiB of data each (pattern; the rest a hole in ELF, not
# dumped in kdump, stored uncompressed), made once into $BENCH_CACHE.
#
# BENCH_FS=xfs,btrfs,ext4,tmpfs picks the file systems (default all four),
# BENCH_FS_SIZES the guests' sizes in MiB (default "4096 65536");
# needs root and loop devices, else each is skipped with the reason.  Prints
# the tables and writes them to bench/fs-results.md.  RUNS runs each (5),
# medians.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)
. "$here/lib.sh"
build=${1:-$top/build}
vf=$build/vmcore-fix
runs=${RUNS:-5}
[ -x "$vf" ] || { echo "bench/fs.sh: build first ($vf)" >&2; exit 1; }
fss=${BENCH_FS:-xfs,btrfs,ext4,tmpfs}
cache=${BENCH_CACHE:-/var/tmp/vmcore-fix-bench-cache}
mkdir -p "$cache"
work=$(mktemp -d "${TMPDIR:-/var/tmp}/vmcore-fix-fsbench.XXXXXX")
mnt=$work/mnt
mkdir -p "$mnt"
cleanup() {
	mountpoint -q "$mnt" 2>/dev/null && umount "$mnt"
	rm -rf "$work"
}
trap cleanup EXIT


# fsdump NAME FORMAT GUEST_MIB: the cached dump (256 MiB of data, the rest sparse)
fsdump() { cached_dump bench/fs.sh "$1" "$2" none "$3" 256; }

# mount_fs TYPE: a fresh TYPE file system at $mnt; prints why not and fails
mount_fs() {
	local type=$1 img=$work/fs.img
	mountpoint -q "$mnt" && umount "$mnt"
	rm -f "$img"
	[ "$(id -u)" = 0 ] || { echo "needs root"; return 1; }
	if [ "$type" = tmpfs ]; then
		mount -t tmpfs -o size=2g tmpfs "$mnt" 2>&1 || return 1
		return 0
	fi
	[ -e /dev/loop-control ] || { echo "no loop devices"; return 1; }
	command -v "mkfs.$type" >/dev/null || { echo "mkfs.$type missing"; return 1; }
	# allocated in full, so that no run pays for the host file system's
	# allocation of the image's blocks (a sparse image made the first rows slow)
	fallocate -l 4G "$img" 2>/dev/null || truncate -s 4G "$img"
	case $type in
	xfs) mkfs.xfs -q -K -m reflink=1 "$img" ;;
	btrfs) mkfs.btrfs -q -K "$img" >/dev/null ;;
	ext4) mkfs.ext4 -q -F -E nodiscard,lazy_itable_init=0,lazy_journal_init=0 "$img" ;;
	*) echo "unknown file system"; return 1 ;;
	esac
	mount -o loop "$img" "$mnt" 2>&1 || return 1
	# a fresh file system's first writes are slow (ext4 took 1 s for what takes
	# 0.3 s later, old and new binaries alike): 1 GiB written and removed first
	dd if=/dev/zero of="$mnt/warm" bs=1M count=1024 conv=fsync status=none
	rm "$mnt/warm"
	sync -f "$mnt"
}

# used: bytes in use on $MNT once it stops changing (XFS and btrfs free a removed
# file's blocks in the background, after the unlink returns)
used() {
	local a b=-1 i
	for i in $(seq 50); do
		sync -f "$mnt"
		a=$(df -B1 --output=used "$mnt" | tail -n 1 | tr -d ' ')
		[ "$a" = "$b" ] && break
		b=$a
		sleep 0.1
	done
	echo "$a"
}

# ms CMD...: median wall ms (0.1 ms) of CMD over RUNS runs after a warm-up, each
# with $mnt/out removed and the file system synced first
ms() {
	rm -f "$mnt/out"
	"$@" >/dev/null 2>&1 || { echo "bench/fs.sh: failed: $*" >&2; exit 1; }
	for _ in $(seq "$runs"); do
		rm -f "$mnt/out"
		sync -f "$mnt"
		s=$(date +%s%N)
		"$@" >/dev/null 2>&1
		e=$(date +%s%N)
		echo $(((e - s) / 100000))
	done | median | awk '{ printf "%.1f", $1 / 10 }'
	rm -f "$mnt/out"
}
# new_kib CMD...: KiB of new space CMD's $mnt/out takes (df after sync)
new_kib() {
	rm -f "$mnt/out"
	local b a
	b=$(used)
	"$@" >/dev/null 2>&1
	a=$(used)
	rm -f "$mnt/out"
	echo $(((a - b) >> 10))
}
human() { awk -v b="$1" 'BEGIN { if (b >= 2^39) printf "%.0f TiB", b / 2^40; else if (b >= 2^30) printf "%.0f GiB", b / 2^30; else printf "%.0f MiB", b / 2^20 }'; }
no_clone() { VMCOREFIX_TEST_NO_CLONE=1 "$@"; }
fsync_copy() { "$@" && sync "${!#}"; }  # the command, then an fsync of its last argument

sizes=${BENCH_FS_SIZES:-4096 65536}
[ "${BENCH_FS_HUGE:-0}" = 1 ] && sizes="$sizes 1048576"
dumps=()
for mib in $sizes; do
	dumps+=("ELF:$mib:$(fsdump "fs-elf-$mib" elf "$mib")" "kdump:$mib:$(fsdump "fs-kdump-$mib" kdump "$mib")")
done
region=0x13ae000,1024

reflink_rows() {
	local type=$1 d kind f guest args t_cp t_vf t_ns t_old a_cp a_vf a_old
	for d in "${dumps[@]}"; do
		kind=${d%%:*} f=${d#*:*:} guest=${d#*:}
		guest=$(human $((${guest%%:*} << 20)))
		args=()
		[ "$kind" = ELF ] && args=(--region "$region")
		cp --sparse=always "$f" "$mnt/in"
		sync -f "$mnt"
		t_cp=$(ms cp --reflink=always "$mnt/in" "$mnt/out")
		t_vf=$(ms "$vf" "$mnt/in" -o "$mnt/out" "${args[@]}")
		t_ns=$(ms "$vf" "$mnt/in" -o "$mnt/out" --no-sync "${args[@]}")
		t_old=$(ms no_clone "$vf" "$mnt/in" -o "$mnt/out" "${args[@]}")
		a_cp=$(new_kib cp --reflink=always "$mnt/in" "$mnt/out")
		a_vf=$(new_kib "$vf" "$mnt/in" -o "$mnt/out" "${args[@]}")
		a_old=$(new_kib no_clone "$vf" "$mnt/in" -o "$mnt/out" "${args[@]}")
		echo "| $type | $kind, $guest guest | $(human "$(stat -c %s "$f")") | $t_cp | $t_vf | $t_ns | $t_old | $(ratio "$t_vf" "$t_cp") | $(ratio "$t_ns" "$t_cp") | $(ratio "$t_old" "$t_cp") | $a_cp | $a_vf | $a_old |"
		rm -f "$mnt/in"
	done
}

copy_rows() {
	local type=$1 d kind f guest args t_sp t_ss t_vf t_ns
	for d in "${dumps[@]}"; do
		kind=${d%%:*} f=${d#*:*:} guest=${d#*:}
		guest=$(human $((${guest%%:*} << 20)))
		args=()
		[ "$kind" = ELF ] && args=(--region "$region")
		cp --sparse=always "$f" "$mnt/in"
		sync -f "$mnt"
		t_sp=$(ms cp --sparse=always "$mnt/in" "$mnt/out")
		t_ss=$(ms fsync_copy cp --sparse=always "$mnt/in" "$mnt/out")
		t_vf=$(ms "$vf" "$mnt/in" -o "$mnt/out" "${args[@]}")
		t_ns=$(ms "$vf" "$mnt/in" -o "$mnt/out" --no-sync "${args[@]}")
		echo "| $type | $kind, $guest guest | $(human "$(stat -c %s "$f")") | $t_sp | $t_ss | $t_vf | $t_ns | $(ratio "$t_vf" "$t_ss") | $(ratio "$t_ns" "$t_sp") |"
		rm -f "$mnt/in"
	done
}

{
echo
echo "## -o on XFS and btrfs (reflink) and ext4, tmpfs (bench/fs.sh)"
echo
echo "$(nproc) cores, kernel $(uname -r), loop-mounted 4 GiB images (allocated) on $(df -T "$work" | awk 'NR == 2 {print $2}'), median of $runs runs, warm"
echo "caches; dumps: 256 MiB of data, the rest sparse. Times in ms; new space in KiB (df after sync)."
echo "old path: VMCOREFIX_TEST_NO_CLONE=1 (read and write, zero blocks to holes)."
echo
echo "| fs | dump | file size | cp --reflink=always | -o | -o --no-sync | -o, old path | -o / cp | -o --no-sync / cp | old / cp | cp new KiB | -o new KiB | old new KiB |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
for type in ${fss//,/ }; do
	case $type in xfs | btrfs) ;; *) continue ;; esac
	if why=$(mount_fs "$type"); then
		reflink_rows "$type"
	else
		echo "| $type | skipped: $why |"
	fi
done
echo
echo "| fs | dump | file size | cp --sparse=always | cp --sparse=always + fsync | -o (fsyncs) | -o --no-sync | -o / cp + fsync | -o --no-sync / cp |"
echo "|---|---|---|---|---|---|---|---|---|"
for type in ${fss//,/ }; do
	case $type in ext4 | tmpfs) ;; *) continue ;; esac
	if why=$(mount_fs "$type"); then
		copy_rows "$type"
	else
		echo "| $type | skipped: $why |"
	fi
done
} | tee "$work/table"
cp "$work/table" "$here/fs-results.md"
