#!/bin/bash
# bench/many.sh [BUILDDIR] - `vmcore-fix --check` over 1,000 small synthetic
# dumps: one call over all of them (--jobs 1 and --jobs 2) against one call
# per dump (a shell loop), side by side, median of RUNS runs (default 5) of
# each, wall time.  The dumps (tests/gen/vfgen.py): a third QEMU kdump files
# that need the fix, a third the fixed ones (healthy), a third QEMU ELF dumps
# with their note (fixable); 4 MiB guests, about 0.5 MB each, page cache warm.
# Writes bench/many-results.md and prints the table.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
. "$here/lib.sh"
build=${1:-$top/build}
vf=$build/vmcore-fix
runs=${RUNS:-5}
n=${DUMPS:-1000}
[ -x "$vf" ] || { echo "bench: build first ($vf)" >&2; exit 1; }
scratch=$(mktemp -d "${TMPDIR:-/var/tmp}/vmcore-fix-many.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

"$top/tests/gen/vfgen.py" "$top/tests/gen/specs/qemu-kdump-x86_64.spec" "$scratch/k.dump"
"$top/tests/gen/vfgen.py" "$top/tests/gen/specs/qemu-elf-x86_64.spec" "$scratch/e.dump"
"$vf" "$scratch/k.dump" -o "$scratch/ok.dump" >/dev/null
mkdir "$scratch/d"
for i in $(seq 1 "$n"); do
	case $((i % 3)) in
	0) src=k ;; 1) src=ok ;; *) src=e ;;
	esac
	cp "$scratch/$src.dump" "$scratch/d/$(printf '%05d' "$i").dump"
done
files=("$scratch"/d/*.dump)

ms() { ns; }
# time_ms CMD...: the median wall time of RUNS runs of CMD, in ms (one warm-up run first)
time_ms() {
	"$@" >/dev/null 2>&1 || true
	for _ in $(seq 1 "$runs"); do
		local t0 t1
		t0=$(ms)
		"$@" >/dev/null 2>&1 || true
		t1=$(ms)
		echo $(((t1 - t0) / 1000000))
	done | median
}
loop() { for f in "${files[@]}"; do "$vf" --check --json "$f"; done; }

one=$(time_ms "$vf" --check --json --jobs 1 "${files[@]}")
two=$(time_ms "$vf" --check --json --jobs 2 "${files[@]}")
each=$(time_ms loop)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b ? a / b : 0 }'; }
table="| $n dumps, \`--check --json\` | wall (ms, median of $runs) | per dump (ms) | vs one call each |
|---|---|---|---|
| one call per dump (shell loop) | $each | $(awk -v t="$each" -v n="$n" 'BEGIN { printf "%.2f", t / n }') | 1.0x |
| one call, \`--jobs 1\` | $one | $(awk -v t="$one" -v n="$n" 'BEGIN { printf "%.3f", t / n }') | $(ratio "$each" "$one")x faster |
| one call, \`--jobs 2\` | $two | $(awk -v t="$two" -v n="$n" 'BEGIN { printf "%.3f", t / n }') | $(ratio "$each" "$two")x faster |"
{
	echo "# bench/many.sh: --check over $n dumps, one call vs one call each"
	echo
	echo "$(date -u +%Y-%m-%d), $(nproc) CPUs, $(uname -r), vmcore-fix $("$vf" --version | head -n 1 | awk '{ print $2 }')."
	echo
	echo "$table"
} >"$here/many-results.md"
echo "$table"
