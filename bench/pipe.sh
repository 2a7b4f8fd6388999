#!/bin/bash
# bench/pipe.sh [BUILDDIR] - vmcore-fix in a pipe against cat of the same
# stream, side by side, median of RUNS runs (default 5), wall time, page
# cache warm:
#   - a flattened kdump (what QEMU and makedumpfile -F write into a pipe):
#     `cat S | vmcore-fix - -o - >/dev/null` (its records passed through,
#     the fix appended) vs `cat S | cat >/dev/null`, and both into
#     makedumpfile -R;
#   - an ELF dump: `cat E | vmcore-fix - -o - >/dev/null` (spooled, written
#     flattened, read back, sent) vs `cat E | cat >/dev/null`, and
#     `cat E | vmcore-fix - -o FILE` vs `cat E >FILE && sync FILE`.
# The dumps: with BENCH_REAL=DIR (a real fixture scenario of
# tests/real/make-dumps.sh, e.g. .../vmcoreinfo) QEMU's dump.kdump-zlib.pipe
# and dump.elf.pipe; else synthetic ones of a BENCH_MIB (default 256) MiB
# guest from tests/gen/vfgen.py.  Writes bench/pipe-results.md and prints
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
command -v makedumpfile >/dev/null || { echo "bench: makedumpfile is needed" >&2; exit 1; }
scratch=$(mktemp -d "${TMPDIR:-/var/tmp}/vmcore-fix-pipe.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

if [ -n "${BENCH_REAL:-}" ]; then
	S=$BENCH_REAL/dump.kdump-zlib.pipe E=$BENCH_REAL/dump.elf.pipe
	what="QEMU 7.2's dumps of a real guest written into a pipe ($(basename "$BENCH_REAL"))"
else
	S=$scratch/s.dump E=$scratch/e.dump
	{ grep -v '^#' "$top/tests/gen/specs/qemu-kdump-x86_64.spec" | grep -v '^ram '
	  echo "ram 0 ${mib}M"; echo "flattened yes"; } >"$scratch/s.spec"
	{ grep -v '^#' "$top/tests/gen/specs/qemu-elf-x86_64.spec" | grep -v '^ram '
	  echo "ram 0 ${mib}M"; } >"$scratch/e.spec"
	"$top/tests/gen/vfgen.py" "$scratch/s.spec" "$S"
	"$top/tests/gen/vfgen.py" "$scratch/e.spec" "$E"
	what="synthetic dumps of a $mib MiB guest (tests/gen/vfgen.py)"
fi
for f in "$S" "$E"; do [ -r "$f" ] || { echo "bench: no $f" >&2; exit 1; }; done

mbs() { awk -v s="$1" -v t="$2" 'BEGIN { printf "%.0f", t ? s / 1e6 / (t / 1e3) : 0 }'; }
ssize=$(stat -L -c %s "$S") esize=$(stat -L -c %s "$E")
o=$scratch/out
export vf S E o

s_cat=$(time_ms 'cat "$S" | cat >/dev/null')
s_vf=$(time_ms 'cat "$S" | "$vf" - -o - >/dev/null')
s_mcat=$(time_ms 'rm -f "$o"; cat "$S" | makedumpfile -R "$o"')
s_mvf=$(time_ms 'rm -f "$o"; cat "$S" | "$vf" - -o - | makedumpfile -R "$o"')
e_cat=$(time_ms 'cat "$E" | cat >/dev/null')
e_vf=$(time_ms 'cat "$E" | "$vf" - -o - >/dev/null')
e_fcat=$(time_ms 'rm -f "$o"; cat "$E" >"$o" && sync "$o"')
e_fvf=$(time_ms 'rm -f "$o"; cat "$E" | "$vf" - -o "$o"')

row() { echo "| $1 | $2 | $(mbs "$3" "$2") | $4 |"; }
table="| pipeline | wall (ms, median of $runs) | MB/s of the input | vs the same with cat |
|---|---|---|---|
$(row "flattened kdump ($((ssize / 1000000)) MB): \`cat S \\| cat >/dev/null\`" "$s_cat" "$ssize" 1.00x)
$(row "\`cat S \\| vmcore-fix - -o - >/dev/null\` (passed through)" "$s_vf" "$ssize" "$(ratio "$s_vf" "$s_cat")x")
$(row "\`cat S \\| makedumpfile -R OUT\`" "$s_mcat" "$ssize" 1.00x)
$(row "\`cat S \\| vmcore-fix - -o - \\| makedumpfile -R OUT\`" "$s_mvf" "$ssize" "$(ratio "$s_mvf" "$s_mcat")x")
$(row "ELF ($((esize / 1000000)) MB): \`cat E \\| cat >/dev/null\`" "$e_cat" "$esize" 1.00x)
$(row "\`cat E \\| vmcore-fix - -o - >/dev/null\` (spooled, written, read back, sent)" "$e_vf" "$esize" "$(ratio "$e_vf" "$e_cat")x")
$(row "\`cat E >OUT && sync OUT\`" "$e_fcat" "$esize" 1.00x)
$(row "\`cat E \\| vmcore-fix - -o OUT\` (spooled beside OUT, fixed, synced)" "$e_fvf" "$esize" "$(ratio "$e_fvf" "$e_fcat")x")"
{
	echo "# bench/pipe.sh: vmcore-fix in a pipe vs cat"
	echo
	echo "$(date -u +%Y-%m-%d), $(nproc) CPUs, $(uname -r), ${TMPDIR:-/var/tmp} on $(df -T "${TMPDIR:-/var/tmp}" | awk 'NR == 2 { print $2 }'), vmcore-fix $("$vf" --version | head -n 1 | awk '{ print $2 }'); $what."
	echo
	echo "$table"
} >"$here/pipe-results.md"
echo "$table"
