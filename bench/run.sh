#!/bin/bash
# bench/run.sh [BUILDDIR] - time `vmcore-fix IN -o OUT` against `cp` and
# `cp --sparse=always` of the same file, side by side, median of N runs
# (default 5), and record peak RSS.  vmcore-fix fsyncs its output before the
# rename (an interrupted run must lose nothing), so the fair baseline is cp
# followed by fsync of the copy; plain cp is shown too.  Writes bench/results.md (a copy of the
# last run's table) and prints the table.
#
# Inputs: QEMU 7.2's real kdump-zlib dump and its flattened form (from the real
# test tier's cache, made if missing), and a large kdump: the real one grown
# to 2 GiB with incompressible data after its last page (readers ignore it; it
# measures the copy at scale).  Output goes to a scratch directory on the
# same file system as the inputs, so copy_file_range can share extents where
# the file system allows; caches are warm (each command runs once first).
#
# Then the performance issue's inputs: synthetic sparse dumps of a 64 GiB and a
# 1 TiB guest (tests/gen/vfgen.py: the first 16 MiB and the page of the
# in-memory VMCOREINFO note stored, the rest a hole in ELF and not dumped in
# kdump), ELF without a note (fixed with --region) and kdump with QEMU's note
# and wrong phys_base.  They are made once and kept in $BENCH_CACHE (default
# /var/tmp/vmcore-fix-bench-cache, keyed by the spec and vfgen.py).  For each:
# `--inspect` wall time and peak RSS, and `-o` wall time, peak RSS and the
# output's allocated size against `cp --sparse=always` (and `cp`, `cp` + fsync).
# Last, the real QEMU dumps (dump.elf with its note, nodevice/dump.elf fixed
# from the guest's /sys/kernel/vmcoreinfo line, kdump-zlib raw and flattened)
# the same way, and flattened -> raw (`--output-format raw`) against
# `makedumpfile -R`.  Then bench/fs.sh: -o on loop-mounted XFS and btrfs against
# `cp --reflink=always`, and with and without --no-sync on ext4 and tmpfs
# (BENCH_FS_ONLY=1: only those; BENCH_FS=xfs,btrfs: some file systems; BENCH_FS=none:
# none), bench/pipe.sh (vmcore-fix in a pipe against cat; BENCH_PIPE=none: not) and
# bench/many.sh (--check over 1,000 dumps in one call; BENCH_MANY=none: not), and
# bench/saved.sh (saved VM states converted; BENCH_SAVED=none: not).  Every
# figure is the median of RUNS runs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
. "$here/lib.sh"
build=${1:-$top/build}
vf=$build/vmcore-fix
runs=${RUNS:-5}
[ -x "$vf" ] || { echo "bench: build first ($vf)" >&2; exit 1; }
# BENCH_FS_ONLY=1: only the file-system rows (bench/fs.sh: XFS and btrfs reflink, ext4
# and tmpfs with and without --no-sync; BENCH_FS=xfs,btrfs picks some of them)
if [ "${BENCH_FS_ONLY:-0}" = 1 ]; then
	exec "$here/fs.sh" "$build"
fi
realroot=$("$top/tests/real/make-dumps.sh" 2>/dev/null | tail -n 1) || true
[ -d "$realroot/vmcoreinfo" ] || realroot=$(ls -d /var/cache/vmcore-fix/real/*/ 2>/dev/null | head -n 1)
realroot=${realroot%/}
real=$realroot/vmcoreinfo
[ -f "$real/dump.kdump-zlib" ] || { echo "bench: no real QEMU dumps (tests/real/make-dumps.sh)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "bench: needs GNU time (apt-get install time)" >&2; exit 1; }
scratch=$(mktemp -d "${TMPDIR:-/var/tmp}/vmcore-fix-bench.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

big=$scratch/big.kdump
cp "$real/dump.kdump-zlib" "$big"
head -c $((2048 << 20)) /dev/urandom | dd of="$big" bs=1M seek=64 conv=notrunc status=none

# time_cmd: run "$@" RUNS times, print the median wall time in ms
time_cmd() {
	"$@" >/dev/null 2>&1
	for _ in $(seq "$runs"); do
		rm -f "$scratch/out"
		sync
		s=$(date +%s%N)
		"$@" >/dev/null 2>&1
		e=$(date +%s%N)
		echo $(((e - s) / 1000000))
	done | median
}
rss() {
	/usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -n 1
}

{
echo "| input | size | cp ms | cp + fsync ms | cp --sparse=always ms | vmcore-fix -o ms (fsyncs) | ratio to cp + fsync | ratio to cp | vmcore-fix peak RSS KiB |"
echo "|---|---|---|---|---|---|---|---|---|"
for f in "$real/dump.kdump-zlib" "$real/dump.kdump-zlib.flat" "$big"; do
	size=$(stat -c %s "$f")
	t_cp=$(time_cmd cp "$f" "$scratch/out")
	t_cs=$(time_cmd sh -c 'cp "$1" "$2" && sync "$2"' _ "$f" "$scratch/out")
	t_sp=$(time_cmd cp --sparse=always "$f" "$scratch/out")
	t_vf=$(time_cmd "$vf" "$f" -o "$scratch/out")
	peak=$(rss "$vf" "$f" -o "$scratch/out")
	r_sync=$(awk -v a="$t_vf" -v b="$t_cs" 'BEGIN { printf "%.2f", b ? a / b : 0 }')
	r_cp=$(awk -v a="$t_vf" -v b="$t_cp" 'BEGIN { printf "%.2f", b ? a / b : 0 }')
	echo "| $(basename "$f") | $((size >> 20)) MiB | $t_cp | $t_cs | $t_sp | $t_vf | $r_sync | $r_cp | $peak |"
done
} | tee "$scratch/table"

# ---------------------------------------------------------------- sparse and real
# ms: median wall time in ms (0.1 ms) of "$@" over RUNS runs after a warm-up,
# each after removing $scratch/out and a sync; rss_med: median peak RSS (KiB).
ms() {
	"$@" >/dev/null 2>&1 || true
	for _ in $(seq "$runs"); do
		rm -f "$scratch/out"
		sync
		s=$(date +%s%N)
		"$@" >/dev/null 2>&1 || true
		e=$(date +%s%N)
		echo $(((e - s) / 100000))
	done | median | awk '{ printf "%.1f", $1 / 10 }'
	rm -f "$scratch/out"
}
rss_med() {
	for _ in $(seq "$runs"); do
		rm -f "$scratch/out"
		/usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -n 1
	done | median
	rm -f "$scratch/out"
}
# alloc: allocated KiB of the file "$@" leaves in $scratch/out
alloc() {
	rm -f "$scratch/out"
	"$@" >/dev/null 2>&1 || true
	sync
	du -k "$scratch/out" | cut -f1
	rm -f "$scratch/out"
}
human() { awk -v b="$1" 'BEGIN { if (b >= 2^39) printf "%.0f TiB", b / 2^40; else if (b >= 2^30) printf "%.0f GiB", b / 2^30; else printf "%.0f MiB", b / 2^20 }'; }

# synth NAME FORMAT COMPRESS GUEST_SIZE_MIB: print the path of the cached dump
cache=${BENCH_CACHE:-/var/tmp/vmcore-fix-bench-cache}
synth() { cached_dump bench/run.sh "$1" "$2" "$3" "$4" 16; }

# inspect_row LABEL FILE
inspect_row() {
	echo "| $1 | $(human "$(stat -c %s "$2")") | $(($(du -k "$2" | cut -f1) >> 10)) MiB | $(ms "$vf" --inspect "$2") | $(rss_med "$vf" --inspect "$2") |"
}
# fix_row LABEL FILE [vmcore-fix options]
fix_row() {
	local label=$1 f=$2 t_cp t_cs t_sp t_ss t_vf r_vf a_sp a_vf
	shift 2
	t_cp=$(ms cp "$f" "$scratch/out")
	t_cs=$(ms sh -c 'cp "$1" "$2" && sync "$2"' _ "$f" "$scratch/out")
	t_sp=$(ms cp --sparse=always "$f" "$scratch/out")
	t_ss=$(ms sh -c 'cp --sparse=always "$1" "$2" && sync "$2"' _ "$f" "$scratch/out")
	t_vf=$(ms "$vf" "$f" -o "$scratch/out" "$@")
	r_vf=$(rss_med "$vf" "$f" -o "$scratch/out" "$@")
	a_sp=$(alloc cp --sparse=always "$f" "$scratch/out")
	a_vf=$(alloc "$vf" "$f" -o "$scratch/out" "$@")
	echo "| $label | $(human "$(stat -c %s "$f")") | $t_cp | $t_cs | $t_sp | $t_ss | $t_vf | $(ratio "$t_vf" "$t_sp") | $(ratio "$t_vf" "$t_ss") | $(ratio "$t_vf" "$t_cp") | $(ratio "$t_vf" "$t_cs") | $r_vf | $a_sp | $a_vf | $(ratio "$a_vf" "$a_sp") |"
}

elf64=$(synth elf-64g elf - 65536)
elf1t=$(synth elf-1t elf - 1048576)
kz64=$(synth kdump-zlib-64g kdump zlib 65536)
kz1t=$(synth kdump-zlib-1t kdump zlib 1048576)
kn1t=$(synth kdump-none-1t kdump none 1048576)
region=0x13ae000,1024
nodev=$realroot/nodevice
nodev_region=$(cat "$nodev/guest-vmcoreinfo.txt" 2>/dev/null || true)

{
echo
echo "## --inspect"
echo
echo "| input | size | allocated | wall ms | peak RSS KiB |"
echo "|---|---|---|---|---|"
inspect_row "synthetic ELF, 64 GiB guest" "$elf64"
inspect_row "synthetic ELF, 1 TiB guest" "$elf1t"
inspect_row "synthetic kdump-zlib, 64 GiB guest" "$kz64"
inspect_row "synthetic kdump-zlib, 1 TiB guest" "$kz1t"
inspect_row "synthetic kdump-none, 1 TiB guest" "$kn1t"
for f in "$real/dump.elf" "$real/dump.kdump-zlib" "$real/dump.kdump-zlib.flat"; do
	inspect_row "real $(basename "$f")" "$f"
done
echo
echo "## -o against cp"
echo
echo "Times in ms; allocated sizes in KiB (du -k after sync); ratios are vmcore-fix / baseline."
echo
echo "| input | size | cp | cp + fsync | cp --sparse=always | cp --sparse=always + fsync | vmcore-fix -o (fsyncs) | vs cp --sparse=always | vs cp --sparse=always + fsync | vs cp | vs cp + fsync | peak RSS KiB | cp --sparse=always alloc | vmcore-fix alloc | alloc ratio |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
fix_row "synthetic ELF, 64 GiB, --region" "$elf64" --region "$region"
fix_row "synthetic ELF, 1 TiB, --region" "$elf1t" --region "$region"
fix_row "synthetic kdump-zlib, 64 GiB" "$kz64"
fix_row "synthetic kdump-zlib, 1 TiB" "$kz1t"
fix_row "synthetic kdump-none, 1 TiB" "$kn1t"
fix_row "real dump.elf (has its note)" "$real/dump.elf"
if [ -f "$nodev/dump.elf" ] && [ -n "$nodev_region" ]; then
	fix_row "real nodevice dump.elf, --region" "$nodev/dump.elf" --region "$nodev_region"
fi
fix_row "real dump.kdump-zlib" "$real/dump.kdump-zlib"
fix_row "real dump.kdump-zlib.flat" "$real/dump.kdump-zlib.flat"
if command -v makedumpfile >/dev/null; then
	flat=$real/dump.kdump-zlib.flat
	echo
	echo "## flattened -> raw"
	echo
	echo "| input | size | makedumpfile -R ms | vmcore-fix -o --output-format raw ms (fixes, fsyncs) | ratio | makedumpfile -R peak RSS KiB | vmcore-fix peak RSS KiB |"
	echo "|---|---|---|---|---|---|---|"
	t_m=$(ms sh -c 'makedumpfile -R "$2" < "$1"' _ "$flat" "$scratch/out")
	t_v=$(ms "$vf" "$flat" -o "$scratch/out" --output-format raw)
	r_m=$(rss_med sh -c 'exec makedumpfile -R "$2" < "$1"' _ "$flat" "$scratch/out")
	r_v=$(rss_med "$vf" "$flat" -o "$scratch/out" --output-format raw)
	echo "| $(basename "$flat") | $(human "$(stat -c %s "$flat")") | $t_m | $t_v | $(ratio "$t_v" "$t_m") | $r_m | $r_v |"
fi
} | tee -a "$scratch/table"
# Memory scan: tests/tools/scanread (src/guest/scan.c, the one operation that reads all
# guest memory) against `cat FILE > /dev/null` on the real dumps, warm cache.
scanread=$build/tests/tools/scanread
if [ ! -x "$scanread" ]; then
	make -C "$build" tests/tools/scanread >/dev/null 2>&1 || true
fi
if [ -x "$scanread" ]; then
	{
	echo
	echo "## Memory scan"
	echo
	echo "Wall ms of \`tests/tools/scanread FILE\` (open + scan for the VMCOREINFO note) and of"
	echo "\`cat FILE > /dev/null\`; ratio is scanread / cat."
	echo
	echo "| input | size | cat ms | scanread ms | ratio to cat | scanread peak RSS KiB |"
	echo "|---|---|---|---|---|---|"
	for f in "$real/dump.elf" "$real/dump.kdump-zlib" "$real/dump.kdump-zlib.flat" "$elf1t" "$kz1t"; do
		[ -f "$f" ] || continue
		t_s=$(ms "$scanread" "$f")
		r_s=$(rss "$scanread" "$f")
		if [ "$(du -k "$f" | cut -f1)" -lt $(( $(stat -c %s "$f") / 2048 )) ]; then
			# sparse: cat would read the holes' zeros (a terabyte of them)
			echo "| $(basename "$f") (sparse) | $(human "$(stat -c %s "$f")") | - | $t_s | - | $r_s |"
			continue
		fi
		t_c=$(ms sh -c 'cat "$1" > /dev/null' _ "$f")
		echo "| $(basename "$f") | $(human "$(stat -c %s "$f")") | $t_c | $t_s | $(ratio "$t_s" "$t_c") | $r_s |"
	done
	} | tee -a "$scratch/table"
fi
# --in-place: the cost must not grow with the dump (a 64 GiB or 1 TiB guest's
# dump takes as long as a 1 GiB one).  Each run patches a fresh sparse copy
# (the copy is not timed).
kz1g=$(synth kdump-zlib-1g kdump zlib 1024)
elf1g=$(synth elf-1g elf - 1024)
inplace_ms() {  # FILE ARGS...: median ms of vmcore-fix --in-place on fresh copies
	local f=$1
	shift
	for _ in $(seq "$runs"); do
		rm -f "$scratch/ip"
		cp --sparse=always "$f" "$scratch/ip"
		sync
		s=$(date +%s%N)
		"$vf" --in-place "$scratch/ip" "$@" >/dev/null 2>&1
		e=$(date +%s%N)
		echo $(((e - s) / 1000000))
	done | median
	rm -f "$scratch/ip"
}
{
	echo
	echo "## --in-place"
	echo
	echo "Median ms of \`vmcore-fix --in-place\` on a fresh sparse copy of the dump (journal,"
	echo "patches, fsync; ELF: FALLOC_FL_INSERT_RANGE in front of the data); ratio to the"
	echo "1 GiB guest's dump of the same kind."
	echo
	echo "| input | in-place ms | ratio to 1 GiB |"
	echo "|---|---|---|"
	b_k=$(inplace_ms "$kz1g")
	echo "| synthetic kdump-zlib, 1 GiB guest | $b_k | 1.00 |"
	for x in "64 GiB:$kz64" "1 TiB:$kz1t"; do
		t=$(inplace_ms "${x#*:}")
		echo "| synthetic kdump-zlib, ${x%%:*} guest | $t | $(ratio "$t" "$b_k") |"
	done
	if [ "$(df -T "$scratch" | awk 'NR == 2 {print $2}')" = ext4 ] || [ "$(df -T "$scratch" | awk 'NR == 2 {print $2}')" = xfs ]; then
		b_e=$(inplace_ms "$elf1g" --region "$region")
		echo "| synthetic ELF, 1 GiB guest, --region | $b_e | 1.00 |"
		for x in "64 GiB:$elf64" "1 TiB:$elf1t"; do
			t=$(inplace_ms "${x#*:}" --region "$region")
			echo "| synthetic ELF, ${x%%:*} guest, --region | $t | $(ratio "$t" "$b_e") |"
		done
	fi
} | tee -a "$scratch/table"
# The file-system rows (bench/fs.sh; BENCH_FS picks the file systems, BENCH_FS=none
# leaves them out)
if [ "${BENCH_FS:-}" != none ]; then
	"$here/fs.sh" "$build" >/dev/null
	cat "$here/fs-results.md" | tee -a "$scratch/table"
fi
# The pipe rows (bench/pipe.sh, on the real dumps written into a fifo when the
# fixtures have them) and many dumps per call (bench/many.sh); BENCH_PIPE=none,
# BENCH_MANY=none leave them out
if [ "${BENCH_PIPE:-}" != none ]; then
	if [ -n "$realroot" ] && [ -e "$realroot/vmcoreinfo/dump.kdump-zlib.pipe" ]; then
		BENCH_REAL=$realroot/vmcoreinfo "$here/pipe.sh" "$build" >/dev/null
	else
		"$here/pipe.sh" "$build" >/dev/null
	fi
	{ echo; tail -n +3 "$here/pipe-results.md"; } | tee -a "$scratch/table"
fi
# Saved states converted (bench/saved.sh, on the real stream when the fixtures
# have it); BENCH_SAVED=none leaves it out
if [ "${BENCH_SAVED:-}" != none ]; then
	if [ -n "$realroot" ] && [ -e "$realroot/vmcoreinfo/migration.stream" ]; then
		BENCH_REAL=$realroot/vmcoreinfo "$here/saved.sh" "$build" >/dev/null
	else
		"$here/saved.sh" "$build" >/dev/null
	fi
	{ echo; tail -n +3 "$here/saved-results.md"; } | tee -a "$scratch/table"
fi
if [ "${BENCH_MANY:-}" != none ]; then
	"$here/many.sh" "$build" >/dev/null
	{ echo; tail -n +3 "$here/many-results.md"; } | tee -a "$scratch/table"
fi
{
	echo "# Benchmark results"
	echo
	echo "Made by \`bench/run.sh\` on $(date -u +%Y-%m-%d), $(nproc) cores, $(free -g | awk '/Mem/ {print $2}') GiB,"
	echo "file system $(df -T "$scratch" | awk 'NR == 2 {print $2}'), kernel $(uname -r), median of $runs runs, warm caches."
	echo "Synthetic dumps from \`$cache\`; real ones from \`$realroot\`."
	echo
	cat "$scratch/table"
} > "$here/results.md"
