#!/bin/bash
# run.sh [TARGET...] - build the fuzz targets (build.sh), make their seeds
# (seeds.sh) and run each target for FUZZ_SECONDS (default 60) seconds, one
# after the other (libFuzzer, one worker: 2 CPUs are one target and the rest).
#
#   FUZZ_SECONDS   seconds per target (60)
#   FUZZ_BUILDDIR  the fuzz build tree (build/fuzz at the top of the tree)
#   FUZZ_RSS_MB    libFuzzer's -rss_limit_mb, also the largest malloc (1024)
#   FUZZ_TIMEOUT   seconds one input may take before it is a finding (10)
#   FUZZ_RUNS      stop a target after this many executions instead (the
#                  long runs of docs/FUZZING.md: FUZZ_RUNS=10000000 with a
#                  large FUZZ_SECONDS as the cap)
#
# TARGET: dump flat notes region migstream kernel plan scan (default all).
# The corpus grows in FUZZ_BUILDDIR/corpus/fuzz_NAME (kept between runs);
# findings (crash-*, leak-*, timeout-*, oom-*) land in
# FUZZ_BUILDDIR/findings/fuzz_NAME/.  Prints one line per target and a
# closing "N passed, N failed, N skipped" (each target one test; all skipped
# when clang or libFuzzer is missing).  Exit 1 when a target found something.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
secs=${FUZZ_SECONDS:-60}
bdir=${FUZZ_BUILDDIR:-$top/build/fuzz}
rss=${FUZZ_RSS_MB:-1024}
tmo=${FUZZ_TIMEOUT:-10}
all="dump flat notes region migstream kernel plan scan"
targets=${*:-$all}
pass=0 fail=0 skip=0

# the largest input each target takes: the seeds fit, and the work per input
# stays bounded
max_len() {
	case $1 in
	region) echo 4096 ;;
	notes | migstream) echo 65536 ;;
	*) echo 262144 ;;
	esac
}

rc=0
"$top/tests/fuzz/build.sh" "$bdir" || rc=$?
if [ "$rc" != 0 ]; then
	n=$(echo "$targets" | wc -w)
	if [ "$rc" = 77 ]; then
		for t in $targets; do echo "fuzz_$t: skipped (no clang with libFuzzer)"; done
		echo "0 passed, 0 failed, $n skipped"
		exit 0
	fi
	echo "fuzz: build failed"
	echo "0 passed, $n failed, 0 skipped"
	exit 1
fi
seeds=$bdir/seeds
rm -rf "$seeds"
if ! "$top/tests/fuzz/seeds.sh" "$seeds" >/dev/null; then
	echo "fuzz: seeds.sh failed"
	echo "0 passed, $(echo "$targets" | wc -w) failed, 0 skipped"
	exit 1
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
for t in $targets; do
	name=fuzz_$t
	bin=$bdir/fuzz/$name
	if [ ! -x "$bin" ]; then
		echo "$name: no such target"
		fail=$((fail + 1))
		continue
	fi
	corpus=$bdir/corpus/$name
	finds=$bdir/findings/$name
	mkdir -p "$corpus" "$finds"
	log=$bdir/$name.log
	start=$(date +%s)
	"$bin" ${FUZZ_RUNS:+-runs="$FUZZ_RUNS"} -max_total_time="$secs" -timeout="$tmo" -rss_limit_mb="$rss" \
		-max_len="$(max_len "$t")" -print_final_stats=1 -artifact_prefix="$finds/" \
		"$corpus" "$seeds/$name" >"$log" 2>&1
	st=$?
	took=$(($(date +%s) - start))
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	units=$(find "$corpus" -type f | wc -l)
	if [ "$st" = 0 ]; then
		pass=$((pass + 1))
		echo "$name: ok, ${execs:-?} executions in ${took} s, corpus $units"
	else
		fail=$((fail + 1))
		echo "$name: FAILED (exit $st) after ${execs:-?} executions in ${took} s: $(ls "$finds" | tr '\n' ' ')"
		grep -m1 -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error|SUMMARY' "$log" | sed 's/^/  /'
		echo "  log: $log"
	fi
done
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ]
