# bench/lib.sh - what the benchmark scripts share (sourced): medians, ratios, the
# clock, and synthetic dumps made once into a cache.

# median: the median of the numbers on standard input, one per line
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
# ratio A B: A / B with two decimals (0 when B is 0)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
# ns: the monotonic-enough wall clock in nanoseconds
ns() { date +%s%N; }
# time_ms CMD: the median wall time of $runs runs (RUNS, default 5) of the shell
# command CMD, in ms (one warm-up run first); a failed run stops the benchmark
time_ms() {
	bash -c "$1" >/dev/null 2>&1 || { echo "bench: failed: $1" >&2; exit 1; }
	for _ in $(seq 1 "${runs:-${RUNS:-5}}"); do
		local t0 t1
		t0=$(ns)
		bash -c "$1" >/dev/null 2>&1
		t1=$(ns)
		echo $(((t1 - t0) / 1000000))
	done | median
}

# cached_dump TAG NAME FORMAT COMPRESS GUEST_MIB DENSE_MIB: print the path of a synthetic
# QEMU-like x86_64 dump (tests/gen/vfgen.py) in $BENCH_CACHE (default
# /var/tmp/vmcore-fix-bench-cache), made when its spec or the generator changed: the
# guest's first DENSE_MIB MiB hold data (pattern, but the VGA hole), the rest is sparse;
# ELF without a note (the fix adds it: its data moves), kdump with QEMU 7.2's phys_base
# (COMPRESS: zlib, none, ...). TAG names the script in the spec.
cached_dump() {
	local tag=$1 name=$2 format=$3 compress=$4 mib=$5 dense=$6 spec key
	local cache=${BENCH_CACHE:-/var/tmp/vmcore-fix-bench-cache}
	mkdir -p "$cache"
	spec="# $tag: $name
format $format
machine x86_64
prstatus 1
qemu-cpustate 1
ram 0 0xa0000
ram 0xc0000 $(printf '0x%x' $((dense * 1048576 - 0xc0000)))
ram ${dense}M $((mib - dense))M sparse
vmcoreinfo-in-memory 0x13ae000"
	if [ "$format" = kdump ]; then
		spec="$spec
compress $compress
phys_base 0xfffffffcfe676778"
	else
		spec="$spec
vmcoreinfo-note no"
	fi
	key=$( { printf '%s\n' "$spec"; cat "$top/tests/gen/vfgen.py"; } | sha256sum | cut -c1-12)
	if [ ! -f "$cache/$name-$key.dump" ]; then
		rm -f "$cache/$name"-*.dump "$cache/$name"-*.spec
		printf '%s\n' "$spec" >"$cache/$name-$key.spec"
		"$top/tests/gen/vfgen.py" "$cache/$name-$key.spec" "$cache/$name-$key.tmp" >&2
		mv "$cache/$name-$key.tmp" "$cache/$name-$key.dump"
	fi
	echo "$cache/$name-$key.dump"
}
