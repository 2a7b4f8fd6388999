#!/bin/bash
# bench/compare.sh OLD NEW - two vmcore-fix binaries side by side on the same
# inputs: the real QEMU 7.2 dumps of the real test tier's cache and the
# synthetic 1 TiB dumps of bench/run.sh's cache.  Runs interleave (old, new,
# old, ...) so both see the same machine; each figure is the median of RUNS
# (default 7) wall-clock times, after one warm-up run of each.  Prints a
# markdown table with the new/old ratio.  Outputs go to a scratch directory
# beside the inputs' cache and are removed.
set -euo pipefail
old=${1:?usage: bench/compare.sh OLD-BINARY NEW-BINARY}
new=${2:?usage: bench/compare.sh OLD-BINARY NEW-BINARY}
runs=${RUNS:-7}
real=$(ls -d /var/cache/vmcore-fix/real/*/vmcoreinfo 2>/dev/null | head -n 1)
[ -f "$real/dump.elf" ] || { echo "compare: no real dumps (tests/real/make-dumps.sh)" >&2; exit 1; }
cache=${BENCH_CACHE:-/var/tmp/vmcore-fix-bench-cache}
scratch=$(mktemp -d "${TMPDIR:-/var/tmp}/vf-compare.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

# ms BINARY ARGS...: one run's wall time in milliseconds ({} in ARGS: the output).
ms() {
	local bin=$1; shift
	local out=$scratch/out args=() a
	rm -f "$out"
	for a in "$@"; do args+=("${a//\{\}/$out}"); done
	local t0 t1
	t0=$(date +%s%N)
	"$bin" "${args[@]}" >/dev/null 2>&1 || true
	t1=$(date +%s%N)
	echo $(( (t1 - t0) / 1000000 ))
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}'; }

row() {
	local name=$1; shift
	ms "$old" "$@" >/dev/null; ms "$new" "$@" >/dev/null
	local o=() n=() i
	for ((i = 0; i < runs; i++)); do
		o+=("$(ms "$old" "$@")")
		n+=("$(ms "$new" "$@")")
	done
	local om nm
	om=$(printf '%s\n' "${o[@]}" | median)
	nm=$(printf '%s\n' "${n[@]}" | median)
	awk -v n="$name" -v o="$om" -v m="$nm" 'BEGIN {
		printf "| %s | %d | %d | %.2f |\n", n, o, m, (o ? m / o : 0) }'
}

echo "| case | old ms | new ms | new/old |"
echo "|---|---:|---:|---:|"
row "-o real dump.elf (528 MiB, its note)" "$real/dump.elf" -o {}
row "-o real nodevice ELF, --region-file" "${real%/vmcoreinfo}/nodevice/dump.elf" \
	--region-file "${real%/vmcoreinfo}/nodevice/guest-vmcoreinfo.txt" -o {}
row "-o real kdump-zlib" "$real/dump.kdump-zlib" -o {}
row "-o real flattened kdump-zlib (to raw)" "$real/dump.kdump-zlib.flat" -o {}
row "--inspect real dump.elf" --inspect "$real/dump.elf"
row "--check real kdump-zlib" --check "$real/dump.kdump-zlib"
for f in "$cache"/elf-1t-*.dump "$cache"/kdump-none-1t-*.dump; do
	[ -f "$f" ] || continue
	row "--inspect $(basename "$f")" --inspect "$f"
done
