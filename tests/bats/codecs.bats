#!/usr/bin/env bats
# codecs.bats - compressed saved states, read in-process and told by content:
# the migration stream tests/gen/qevm.py makes of the generator's sample dump,
# compressed by the real tools as libvirt and users do (xz -3 -c, bzip2 -c,
# lzop -c, gzip -c, zstd -c), bare and inside a libvirt save image with the
# format field libvirt writes for each, gives exactly what the raw stream
# gives as --saved-state, as --memory and as DUMP. The real tools' own
# variants (lzop's checksums, concatenated members) and their damaged,
# truncated and mislabelled files too. Bombs: hostile_codecs.bats.

load helpers

QEVM=$SRCDIR/tests/gen/qevm.py

# CODEC:HAVE_VARIABLE:LIBVIRT_FORMAT:COMMAND
CODECS="xz:HAVE_LZMA:3:xz -3 -c
bzip2:HAVE_BZIP2:2:bzip2 -c
lzop:HAVE_LZO:4:lzop -c
gzip:HAVE_ZLIB:1:gzip -c
zstd:HAVE_ZSTD:5:zstd -q -c"

# libvirt_image FORMAT PAYLOAD: a libvirt save image around PAYLOAD, to stdout
libvirt_image() {
	python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import qevm
sys.stdout.buffer.write(qevm.libvirt(open(sys.argv[3], "rb").read(), int(sys.argv[2])))' \
		"$SRCDIR/tests/gen" "$1" "$2"
}

setup_file() {
	[ -x "$VMCOREFIX" ] && [ -x "$VFGEN" ] || return 0
	local d=$BATS_FILE_TMPDIR
	grep -v '^#' "$SRCDIR/tests/gen/specs/sample.spec" >"$d/sample.spec"
	"$VFGEN" "$d/sample.spec" "$d/sample.dump"
	"$QEVM" from-elf "$d/sample.dump" "$d/s.stream" --device 0x13ae000 1024
	libvirt_image 0 "$d/s.stream" >"$d/raw.img"
	local name have fmt cmd
	while IFS=: read -r name have fmt cmd; do
		command -v "${cmd%% *}" >/dev/null || continue
		# shellcheck disable=SC2086
		$cmd <"$d/s.stream" >"$d/s.$name"
		libvirt_image "$fmt" "$d/s.$name" >"$d/lv.$name"
	done <<<"$CODECS"
}

setup() {
	need_binaries
	D=$BATS_FILE_TMPDIR
	cd "$D"
}

# built CODEC: was its library built in?
built() {
	local name have fmt cmd
	while IFS=: read -r name have fmt cmd; do
		[ "$name" = "$1" ] && { [ "${!have}" = yes ]; return; }
	done <<<"$CODECS"
	return 1
}

# same_as_raw RAW FILE CODEC OUT WANT_OUT: the run on FILE ($status,
# $output, OUT) is the run on RAW's ($want_status, $want_output, WANT_OUT),
# or, where CODEC was not built, refused naming the command that decompresses
same_as_raw() {
	local raw=$1 f=$2 codec=$3 out=$4 want=$5
	if ! built "$codec"; then
		[ "$status" -eq 5 ] || { echo "$f ($codec not built): exit $status: $output" >&2; return 1; }
		[[ "$output" == *"$codec -dc"* ]]
		return
	fi
	[ "$status" -eq "$want_status" ] || { echo "$f: exit $status, $raw: $want_status: $output" >&2; return 1; }
	[ "${output//$f/FILE}" = "${want_output//$raw/FILE}" ] ||
		{ diff <(echo "${want_output//$raw/FILE}") <(echo "${output//$f/FILE}") >&2; return 1; }
	cmp "$want" "$out"
}

@test "--saved-state: xz, bzip2, lzop, gzip, zstd files, bare and in libvirt images, give the raw stream's fix" {
	local f raw name have fmt cmd
	for raw in s.stream raw.img; do
		run "$VMCOREFIX" sample.dump --saved-state "$raw" -o "ss.$raw.out"
		[ "$status" -eq 0 ] || { echo "$raw: $output" >&2; return 1; }
		[[ "$output" == *"found by vmcoreinfo device state saved in $raw"* ]]
	done
	cmp ss.s.stream.out ss.raw.img.out
	want_status=0
	while IFS=: read -r name have fmt cmd; do
		[ -e "s.$name" ] || { echo "# ${cmd%% *} not installed: $name left out" >&3; continue; }
		for f in "s.$name" "lv.$name"; do
			raw=s.stream
			[ "${f#lv.}" = "$f" ] || raw=raw.img
			run "$VMCOREFIX" sample.dump --saved-state "$raw" -o "ss.$raw.out"
			want_output=$output
			run "$VMCOREFIX" sample.dump --saved-state "$f" -o "ss.$f.out"
			same_as_raw "$raw" "$f" "$name" "ss.$f.out" "ss.$raw.out"
		done
	done <<<"$CODECS"
}

@test "--memory: the guest's note read in each compressed file, bare and in libvirt images, as in the raw stream" {
	local f raw name have fmt cmd
	for raw in s.stream raw.img; do
		run "$VMCOREFIX" sample.dump --memory "$raw" --region "0x13ae000 1024" -o "mem.$raw.out"
		[ "$status" -eq 0 ] || { echo "$raw: $output" >&2; return 1; }
		[[ "$output" == *"read from the RAM in migration stream $raw"* ]]
	done
	want_status=0
	while IFS=: read -r name have fmt cmd; do
		[ -e "s.$name" ] || { echo "# ${cmd%% *} not installed: $name left out" >&3; continue; }
		for f in "s.$name" "lv.$name"; do
			raw=s.stream
			[ "${f#lv.}" = "$f" ] || raw=raw.img
			run "$VMCOREFIX" sample.dump --memory "$raw" --region "0x13ae000 1024" -o "mem.$raw.out"
			want_output=$output
			run "$VMCOREFIX" sample.dump --memory "$f" --region "0x13ae000 1024" -o "mem.$f.out"
			same_as_raw "$raw" "$f" "$name" "mem.$f.out" "mem.$raw.out"
		done
	done <<<"$CODECS"
}

@test "as DUMP: each compressed file, bare and in a libvirt image, converts into the raw stream's dump" {
	run "$VMCOREFIX" s.stream -o s.stream.elf
	[ "$status" -eq 0 ] || { echo "$output" >&2; return 1; }
	want_status=0
	local f raw name have fmt cmd
	while IFS=: read -r name have fmt cmd; do
		[ -e "s.$name" ] || { echo "# ${cmd%% *} not installed: $name left out" >&3; continue; }
		for f in "s.$name" "lv.$name"; do
			run "$VMCOREFIX" s.stream -o s.stream.elf
			want_output=$output
			run "$VMCOREFIX" "$f" -o "$f.elf"
			same_as_raw s.stream "$f" "$name" "$f.elf" s.stream.elf
		done
	done <<<"$CODECS"
	if built xz && [ -e s.xz ]; then
		run "$VMCOREFIX" --inspect s.xz
		[[ "$output" == *"xz-compressed"* ]]
	fi
}

@test "the tools' variants: lzop's checksums and levels, members and streams one after another" {
	built lzop && command -v lzop >/dev/null || skip "lzop or lzo2 missing"
	run "$VMCOREFIX" sample.dump --saved-state s.stream -o want.out
	[ "$status" -eq 0 ]
	local o
	for o in --crc32 --no-checksum -1 -9; do
		lzop -c "$o" <s.stream >"v$o.lzo"
		run "$VMCOREFIX" sample.dump --saved-state "v$o.lzo" -o "v$o.out"
		[ "$status" -eq 0 ] || { echo "lzop $o: $output" >&2; return 1; }
		cmp want.out "v$o.out"
	done
	# the stream in two parts, each compressed on its own, one file
	head -c 5000000 s.stream >a
	tail -c +5000001 s.stream >b
	local name have fmt cmd
	while IFS=: read -r name have fmt cmd; do
		built "$name" && command -v "${cmd%% *}" >/dev/null || continue
		# shellcheck disable=SC2086
		{ $cmd <a; $cmd <b; } >"two.$name"
		run "$VMCOREFIX" sample.dump --saved-state "two.$name" -o "two.$name.out"
		[ "$status" -eq 0 ] || { echo "$name in two parts: $output" >&2; return 1; }
		cmp want.out "two.$name.out"
		run "$VMCOREFIX" "two.$name" -o "two.$name.elf"
		[ "$status" -eq 0 ] || { echo "$name in two parts as DUMP: $output" >&2; return 1; }
	done <<<"$CODECS"
}

@test "damaged, cut short, mislabelled: one line each, where and what, exit 4" {
	local name have fmt cmd size
	while IFS=: read -r name have fmt cmd; do
		built "$name" && [ -e "s.$name" ] || continue
		size=$(stat -c %s "s.$name")
		head -c $((size / 2)) "s.$name" >"cut.$name"
		run "$VMCOREFIX" sample.dump --saved-state "cut.$name" -o out
		[ "$status" -eq 4 ] || { echo "cut $name: exit $status: $output" >&2; return 1; }
		[[ "$output" == *"truncated $name-compressed stream"*"the file ends at offset $((size / 2))"* ]]
		[ "${#lines[@]}" -eq 1 ]
		[ ! -e out ]
		# one byte changed in the middle: the decoder, the checksum (at the end
		# of a block, a member, a stream: the bytes before it may already have
		# been read) or the walk over what came out says so
		cp "s.$name" "bad.$name"
		printf '\xa5' | dd of="bad.$name" bs=1 seek=$((size / 2)) conv=notrunc status=none
		run "$VMCOREFIX" sample.dump --saved-state "bad.$name" -o out
		[ "$status" -eq 4 ] || { echo "damaged $name: exit $status: $output" >&2; return 1; }
		[[ "$output" == *"bad.$name"*"$name-compressed"* ]]
		[ "${#lines[@]}" -eq 1 ]
		[ ! -e out ]
	done <<<"$CODECS"
	if built lzop && [ -e s.lzop ]; then
		# lzop's adler32 of the first block's data (header: 38 bytes from stdin)
		cp s.lzop sum.lzop
		printf '\x5a' | dd of=sum.lzop bs=1 seek=46 conv=notrunc status=none
		run "$VMCOREFIX" sample.dump --saved-state sum.lzop -o out
		[ "$status" -eq 4 ] || { echo "lzop checksum: exit $status: $output" >&2; return 1; }
		[[ "$output" == *"at offset 0x26: "*"lzop block's adler32 of its uncompressed bytes"* ]]
	fi
	# a libvirt header whose format the stream's bytes deny
	if [ -e s.gzip ]; then
		libvirt_image 3 s.gzip >mislabelled.img
		run "$VMCOREFIX" sample.dump --saved-state mislabelled.img -o out
		[ "$status" -eq 4 ] || { echo "mislabelled: exit $status: $output" >&2; return 1; }
		[[ "$output" == *"format 3 says the QEMU stream is xz-compressed, but the stream is gzip-compressed"* ]]
	fi
	libvirt_image 2 s.stream >raw-as-bzip2.img
	run "$VMCOREFIX" sample.dump --memory raw-as-bzip2.img --region "0x13ae000 1024" -o out
	[ "$status" -eq 4 ] || { echo "raw as bzip2: exit $status: $output" >&2; return 1; }
	[[ "$output" == *"is bzip2-compressed, but the stream is an uncompressed QEMU stream (QEVM)"* ]]
	# compressed, but not a saved state: said so, with what it holds
	if [ -e s.gzip ] && built gzip; then
		gzip -c sample.dump >dump.gz
		run "$VMCOREFIX" dump.gz -o out
		[ "$status" -eq 4 ] || { echo "dump.gz: exit $status: $output" >&2; return 1; }
		[[ "$output" == *"gzip-compressed file, but once decompressed neither a QEMU migration stream nor a libvirt save image (it starts with 7f 45 4c 46)"* ]]
	fi
}
