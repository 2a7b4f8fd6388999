#!/usr/bin/env bats
# hostile_codecs.bats - hostile compressed saved states (tests/hostile/codecs.py),
# one of each per codec (gzip, zstd, xz, bzip2, lzop): a decompression bomb, a
# file cut short, a damaged unit (lzop: a block's checksum), and reads that
# keep going back behind the decoder. Every case runs under ulimit -v 512 MiB
# and timeout 30 s, with one clear outcome (exit 4, one line saying what).

load helpers

CODECS="gzip:HAVE_ZLIB zstd:HAVE_ZSTD xz:HAVE_LZMA bzip2:HAVE_BZIP2 lzop:HAVE_LZO"

setup_file() {
	python3 "$SRCDIR/tests/hostile/codecs.py" "$BATS_FILE_TMPDIR/h" > "$BATS_FILE_TMPDIR/cases"
}

setup() {
	need_binaries
}

# hostile CASE: run vmcore-fix on the case's file with its arguments,
# bounded; sets $status and $output as bats' run does; 1 when there is no
# such case (the codec's compressor is not installed)
hostile() {
	local line file args
	line=$(awk -F '\t' -v c="$1" '$1 == c' "$BATS_FILE_TMPDIR/cases")
	[ -n "$line" ] || return 1
	file=$(cut -f2 <<<"$line")
	args=$(cut -f3 <<<"$line")
	args=${args//\{\}/$file}
	# shellcheck disable=SC2086
	run bash -c 'ulimit -v 524288; exec timeout 30 "$@"' _ "$VMCOREFIX" $args
}

# each KIND CHECK: run CASE codec-KIND for every codec, then CHECK CODEC;
# a codec not built must be refused (exit 5) with the command to use
each() {
	local kind=$1 check=$2 c name have n=0
	for c in $CODECS; do
		name=${c%%:*}
		have=${c#*:}
		if ! hostile "$name-$kind"; then
			echo "# $name: no compressor here, left out" >&3
			continue
		fi
		n=$((n + 1))
		if [ "${!have}" != yes ]; then
			[ "$status" -eq 5 ] || { echo "$name-$kind ($name not built): exit $status: $output" >&2; return 1; }
			[[ "$output" == *"$name -dc"* ]]
			continue
		fi
		[ "$status" -eq 4 ] || { echo "$name-$kind: exit $status: $output" >&2; return 1; }
		[ "${#lines[@]}" -eq 1 ] || { echo "$name-$kind: ${#lines[@]} lines: $output" >&2; return 1; }
		"$check" "$name" || { echo "$name-$kind: $output" >&2; return 1; }
	done
	[ "$n" -gt 0 ]
}

bomb_said() {
	[[ "$output" == *"$1-compressed file"*"section 4 has no footer before the stream ends (at 536870998): it is cut short"* ]]
}

@test "a bomb in each codec (512 MiB from a few KiB): walked to its end in bounded memory and time, cut short" {
	each bomb bomb_said
}

cut_said() {
	[[ "$output" == *"truncated $1-compressed stream (from offset 0): the file ends at offset"* ]]
}

@test "a bomb cut in the middle of its compressed bytes, in each codec: truncated, at the file's end" {
	each cut cut_said
}

corrupt_said() {
	[[ "$output" == *"$1-compressed stream (from offset 0) is damaged here"*"check it with: $1 -t FILE"* ]] || return 1
	[ "$1" != lzop ] || [[ "$output" == *"the lzop block's adler32 of its uncompressed bytes is 0x"* ]]
}

@test "a damaged unit in each codec (lzop: a block's adler32): damaged, where, and the tool that checks it" {
	each corrupt corrupt_said
}

restarts_said() {
	[[ "$output" == *"$1-compressed stream: reads went back behind the decoder more than 16 times"*"decompress it first: $1 -dc FILE > STREAM"* ]]
}

@test "reads of a compressed stream that keep going back: at most 16 restarts in each codec, then refused" {
	each restarts restarts_said
}
