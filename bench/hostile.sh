#!/bin/bash
# bench/hostile.sh [NEW [OLD]] - time vmcore-fix on every hostile input
# tests/hostile/*.py makes, and write bench/hostile-results.md.
#
# Each generator, run as `NAME.py OUTDIR`, writes its files and prints one
# line per case: CASE<TAB>FILE<TAB>ARGS (ARGS: vmcore-fix's arguments, split
# as a POSIX shell would, {} standing for FILE).  Each case runs once under
# /usr/bin/time -v and timeout: wall time, peak RSS and exit code, for the
# binary NEW (default build/vmcore-fix) and, given OLD, for it too, side by
# side.  The issue's targets: peak RSS <= 32 MiB, time proportional to the
# bytes read; a case over HOSTILE_RSS_MB is marked.
#
#   HOSTILE_TIMEOUT  seconds before a case is killed (120); exit 124 = timed out
#   HOSTILE_VMEM_MB  ulimit -v of each run, guarding the machine (8192; 0: none,
#                    for binaries built with ASan, which cannot start under it)
#   HOSTILE_RSS_MB   the peak RSS target (32)
#   HOSTILE_WORK     where the generators write (a temporary directory, removed)
#   HOSTILE_RESULTS  the table written (bench/hostile-results.md)
#   HOSTILE_ONLY     run only the generators whose NAME matches this glob
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
new=${1:-$top/build/vmcore-fix}
old=${2:-}
tmo=${HOSTILE_TIMEOUT:-120}
vmem=${HOSTILE_VMEM_MB:-8192}
target=${HOSTILE_RSS_MB:-32}
results=${HOSTILE_RESULTS:-$here/hostile-results.md}
only=${HOSTILE_ONLY:-*}
[ -x /usr/bin/time ] || { echo "hostile: needs GNU time (apt-get install time)" >&2; exit 1; }
for b in "$new" $old; do
	[ -x "$b" ] || { echo "hostile: $b: not an executable (build first)" >&2; exit 1; }
done
new=$(cd "$(dirname "$new")" && pwd)/$(basename "$new")
[ -z "$old" ] || old=$(cd "$(dirname "$old")" && pwd)/$(basename "$old")
work=${HOSTILE_WORK:-}
if [ -z "$work" ]; then
	work=$(mktemp -d "${TMPDIR:-/tmp}/vf-hostile.XXXXXX")
	trap 'rm -rf "$work"' EXIT
fi
mkdir -p "$work"

# run BIN ARGS-LINE FILE: one timed run; prints "EXIT WALL_S RSS_KIB"
run() {
	local bin=$1 args=$2 file=$3 tv=$work/time.$$ st=0
	# the arguments as a shell splits them, {} replaced by the file
	mapfile -t argv < <(python3 -c 'import shlex, sys
for w in shlex.split(sys.argv[1]):
    print(w.replace("{}", sys.argv[2]))' "$args" "$file")
	(if [ "$vmem" != 0 ]; then ulimit -v $((vmem * 1024)); fi; cd "$work" &&
		/usr/bin/time -v -o "$tv" timeout -k 5 "$tmo" "$bin" "${argv[@]}" \
			>/dev/null 2>"$work/stderr") || st=$?
	local wall rss code
	wall=$(sed -n 's/^.*Elapsed (wall clock) time.*: //p' "$tv" |
		awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; printf "%.2f", s }')
	rss=$(sed -n 's/^.*Maximum resident set size (kbytes): //p' "$tv")
	code=$(sed -n 's/^.*Exit status: //p' "$tv")
	# timeout exits 124 when the time ran out, 128+N when the binary died of
	# signal N
	case $code in
	124) code=timeout ;;
	129 | 1[3-9][0-9]) code=sig$((code - 128)) ;;
	esac
	echo "${code:-$st} ${wall:-?} ${rss:-0}"
}

# cell EXIT WALL RSS: a table cell, the RSS marked when over the target
cell() {
	local mib
	mib=$(awk -v k="$3" 'BEGIN { printf "%.1f", k / 1024 }')
	awk -v k="$3" -v t="$target" 'BEGIN { exit !(k > t * 1024) }' && mib="**$mib**"
	echo "$1 | $2 | $mib"
}

ver() { "$1" --version 2>/dev/null | head -n 1 || echo "$1"; }

{
	echo "# Hostile inputs: time and memory"
	echo
	echo "\`bench/hostile.sh${old:+ NEW OLD}\` on $(date -u +%Y-%m-%d), $(nproc) CPUs," \
		"$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM," \
		"kernel $(uname -r); each case once, timeout ${tmo} s, ulimit -v ${vmem} MiB (0: none)."
	echo
	echo "- NEW: \`$new\` ($(ver "$new"))"
	[ -z "$old" ] || echo "- OLD: \`$old\` ($(ver "$old"))"
	echo
	echo "Peak RSS over the ${target} MiB target in **bold**; exit \`timeout\`: killed after ${tmo} s; \`sigN\`: died of signal N."
	echo
	if [ -n "$old" ]; then
		echo "| generator | case | args | file MiB | NEW exit | NEW wall s | NEW RSS MiB | OLD exit | OLD wall s | OLD RSS MiB |"
		echo "|---|---|---|---|---|---|---|---|---|---|"
	else
		echo "| generator | case | args | file MiB | exit | wall s | RSS MiB |"
		echo "|---|---|---|---|---|---|---|"
	fi
} >"$results.tmp"

ncases=0 over=0 gens=0
for gen in "$top"/tests/hostile/*.py; do
	[ -f "$gen" ] || continue
	name=$(basename "$gen" .py)
	# shellcheck disable=SC2254
	case $name in $only) ;; *) continue ;; esac
	gens=$((gens + 1))
	mkdir -p "$work/$name"
	if ! python3 "$gen" "$work/$name" >"$work/$name.cases" 2>"$work/$name.err"; then
		echo "hostile: $name.py failed:" >&2
		cat "$work/$name.err" >&2
		echo "| $name | (generator failed) | | | | | |" >>"$results.tmp"
		continue
	fi
	while IFS=$'\t' read -r case file args; do
		[ -n "$case" ] || continue
		ncases=$((ncases + 1))
		mib=$(du -m --apparent-size "$file" | cut -f1)
		read -r e w r < <(run "$new" "$args" "$file")
		line="| $name | $case | \`${args//|/\\|}\` | $mib | $(cell "$e" "$w" "$r")"
		awk -v k="$r" -v t="$target" 'BEGIN { exit !(k > t * 1024) }' && over=$((over + 1))
		if [ -n "$old" ]; then
			read -r oe ow or < <(run "$old" "$args" "$file")
			line="$line | $(cell "$oe" "$ow" "$or")"
		fi
		echo "$line |" >>"$results.tmp"
		printf '%-12s %-28s exit %-7s %6s s %8s KiB%s\n' "$name" "$case" "$e" "$w" "$r" \
			"${old:+   old: exit $oe $ow s $or KiB}"
	done <"$work/$name.cases"
done
{
	echo
	echo "$gens generators, $ncases cases; NEW over the RSS target: $over."
} >>"$results.tmp"
mv "$results.tmp" "$results"
echo "hostile: $ncases cases of $gens generators, $over over ${target} MiB; table in $results"
