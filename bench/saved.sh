#!/bin/bash
# bench/saved.sh [BUILDDIR] - converting a saved VM state into a dump, side by
# side with what the same bytes cost otherwise, median of RUNS runs (default
# 5), wall time and peak RSS, page cache warm:
#   - a raw QEMU migration stream: `vmcore-fix STREAM -o OUT` vs `cp STREAM OUT`
#     (both synced: -o syncs) and vs the fix of QEMU's own ELF dump of the same
#     state (`vmcore-fix dump.elf -o OUT`);
#   - the same stream in a gzip libvirt save image: `vmcore-fix IMG -o OUT`
#     (decompressed once into an unnamed file, then converted) vs
#     `tail -c +N IMG | gzip -dc >OUT` (decompression alone);
#   - the stream as a kdump (`--output-format kdump`, zlib) vs makedumpfile -c
#     -d 0 of QEMU's own ELF dump (the kdump a user would otherwise make, zlib,
#     every page kept), when makedumpfile is installed.
# The stream: with BENCH_REAL=DIR (a real fixture scenario of
# tests/real/make-dumps.sh, e.g. .../vmcoreinfo) QEMU's migration.stream and
# dump.elf; else tests/gen/qevm.py's stream of a BENCH_MIB (default 256) MiB
# guest from tests/gen/vfgen.py.  Writes bench/saved-results.md and prints
# the table.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
. "$here/lib.sh"
build=${1:-$top/build}
vf=$build/vmcore-fix
runs=${RUNS:-5}
mib=${BENCH_MIB:-256}
[ -x "$vf" ] || { echo "bench: build first ($vf)" >&2; exit 1; }
scratch=$(mktemp -d "${TMPDIR:-/var/tmp}/vmcore-fix-saved.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

if [ -n "${BENCH_REAL:-}" ]; then
	M=$BENCH_REAL/migration.stream E=$BENCH_REAL/dump.elf eopt=
	what="QEMU 7.2's migration stream and ELF dump of a stopped real guest ($(basename "$BENCH_REAL"))"
else
	E=$scratch/e.dump M=$scratch/m.stream eopt='--region 0x13ae000,1024' 
	{ grep -v '^#' "$top/tests/gen/specs/sample.spec" | grep -v '^ram '
	  echo "ram 0 0xa0000"; echo "ram 0xc0000 $((mib * 1048576 - 0xc0000))"; } >"$scratch/e.spec"
	"$top/tests/gen/vfgen.py" "$scratch/e.spec" "$E"
	"$top/tests/gen/qevm.py" from-elf "$E" "$M" --device 0x13ae000 1024
	what="tests/gen/qevm.py's stream of a $mib MiB guest made by tests/gen/vfgen.py"
fi
# the stream in a gzip libvirt image
python3 - "$top/tests/gen" "$M" "$scratch/lv.img" <<'PY'
import gzip, sys
sys.path.insert(0, sys.argv[1])
import qevm
s = open(sys.argv[2], "rb").read()
open(sys.argv[3], "wb").write(qevm.libvirt(gzip.compress(s, 1, mtime=0), 1))
PY
skip=$(( $(od -An -j 20 -N 4 -tu4 "$scratch/lv.img") + 92 + 1 ))

# rss_mib CMD: the peak RSS of CMD, in MiB
rss_mib() {
	/usr/bin/time -f %M bash -c "$1 >/dev/null 2>&1" 2>&1 >/dev/null | tail -n 1 |
		awk '{ printf "%.1f", $1 / 1024 }'
}
o=$scratch/out
rows=()
row() {  # row LABEL CMD BASELINE_MS
	local t r
	rm -f "$o"
	t=$(time_ms "rm -f $o; $2")
	r=$(rss_mib "rm -f $o; $2")
	rows+=("| $1 | $t ms | $r MiB | $(ratio "$t" "${3:-$t}")x |")
	last=$t
}
row "\`cp STREAM OUT && sync OUT\`" "cp $M $o && sync $o"
base=$last
row "\`vmcore-fix STREAM -o OUT\` (converted, synced)" "$vf $M -o $o" "$base"
row "\`vmcore-fix dump.elf -o OUT\` (QEMU's own dump of that state, fixed)" "$vf $E $eopt -o $o" "$base"
row "\`tail -c +N IMG \| gzip -dc >OUT\` (gzip libvirt image)" "tail -c +$skip $scratch/lv.img | gzip -dc >$o"
base=$last
row "\`vmcore-fix IMG -o OUT\` (decompressed once, converted)" "$vf $scratch/lv.img -o $o" "$base"
if command -v makedumpfile >/dev/null && [ -n "${BENCH_REAL:-}" ]; then
	# makedumpfile needs the ELF's note: the fixed ELF is its input
	"$vf" "$E" -o "$scratch/fixed.elf" >/dev/null 2>&1
	row "\`makedumpfile -c -d 0 FIXED.elf OUT && sync OUT\` (QEMU's ELF, fixed, as a zlib kdump)" \
		"makedumpfile -c -d 0 $scratch/fixed.elf $o && sync $o"
	base=$last
	row "\`vmcore-fix STREAM -o OUT --output-format kdump\` (converted, synced)" \
		"$vf $M -o $o --output-format kdump" "$base"
fi

{
	echo "# bench/saved.sh, $(date -u +%Y-%m-%d)"
	echo
	echo "$what: the stream $(stat -L -c %s "$M") bytes, the gzip image $(stat -c %s "$scratch/lv.img") bytes; median of $runs runs, page cache warm; $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg)."
	echo
	echo "| command | wall | peak RSS | vs the row above it marked 1.00x |"
	echo "|---|---|---|---|"
	printf '%s\n' "${rows[@]}"
} | tee "$here/saved-results.md"
