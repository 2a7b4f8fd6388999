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
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
build=${1:-$top/build}
vf=$build/vmcore-fix
runs=${RUNS:-5}
[ -x "$vf" ] || { echo "bench: build first ($vf)" >&2; exit 1; }
real=$("$top/tests/real/make-dumps.sh" 2>/dev/null | tail -n 1)/vmcoreinfo
scratch=$(mktemp -d "${TMPDIR:-/var/tmp}/vmcore-fix-bench.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

big=$scratch/big.kdump
cp "$real/dump.kdump-zlib" "$big"
head -c $((2048 << 20)) /dev/urandom | dd of="$big" bs=1M seek=64 conv=notrunc status=none

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
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
{
	echo "# Benchmark results"
	echo
	echo "Made by \`bench/run.sh\` on $(date -u +%Y-%m-%d), $(nproc) cores, $(free -g | awk '/Mem/ {print $2}') GiB,"
	echo "file system $(df -T "$scratch" | awk 'NR == 2 {print $2}'), median of $runs runs, warm caches."
	echo
	cat "$scratch/table"
} > "$here/results.md"
