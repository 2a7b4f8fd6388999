#!/usr/bin/env bats
# real_migstream.bats - the vmcoreinfo device's state in migration streams that real
# QEMU 7.2 wrote (tests/real/make-dumps.sh: QMP migrate to a file after stop), read by
# src/guest/migstream.c through tests/tools/migread, checked against what the guest printed;
# and guest memory from the streams' RAM pages (migread --read), checked byte for byte
# against the ELF dump QEMU wrote of the same stopped guest (tests/tools/vfread).
# Skips every test when make-dumps.sh exits 77 (QEMU, kernel or busybox missing).

load bats-helpers

setup_file() { real_setup_file; }

setup() {
	real_setup
	: "${BUILDDIR:=$REAL_SRCDIR/build}"
	MIGREAD=${MIGREAD:-$BUILDDIR/tests/tools/migread}
	[ -x "$MIGREAD" ] || skip "migread not built ($MIGREAD)"
	VFREAD=${VFREAD:-$BUILDDIR/tests/tools/vfread}
}

# mig KEY: the value migread printed for KEY
mig() { sed -n "s/^$1=//p" <<<"$output"; }

@test "real stream, -device vmcoreinfo: paddr and size are the guest's /sys/kernel/vmcoreinfo" {
	real_scenario vmcoreinfo
	run "$MIGREAD" migration.stream
	[ "$status" -eq 0 ] || { echo "migread exited $status: $output" >&2; return 1; }
	assert_eq "$(mig found)" 1 found
	assert_eq "$(mig has_vmcoreinfo)" 1 has_vmcoreinfo
	assert_eq "$(mig guest_format)" 1 guest_format
	assert_eq "$(mig paddr)" "$(hexnorm "$VMCI_PADDR")" paddr
	assert_eq "$(mig size)" "$(hexnorm "$VMCI_SIZE")" size
	assert_eq "$(mig region)" "$(hexnorm "$VMCI_PADDR") $(hexnorm "$VMCI_SIZE")" region
	[[ "$(mig machine)" == pc-* ]] || { echo "machine: $(mig machine)" >&2; return 1; }
	assert_eq "$(mig footers)" 1 footers
	assert_eq "$(mig scanned)" 0 scanned
	# the RAM block list, its pages stepped over, not read
	assert_eq "$(mig ramblock | grep '^pc.ram ')" "pc.ram $(hexnorm $((RAM_MB << 20)))" pc.ram
	# the section is where migread says: type 4, id, "\x0avmcoreinfo"
	off=$(mig section_offset)
	assert_eq "$(od -An -v -j "$((off + 5))" -N 11 -c migration.stream | tr -d ' \n')" \
		'\nvmcoreinfo' "bytes at section_offset $off"
}

@test "real stream, guest without qemu_fw_cfg: refused, the guest never wrote etc/vmcoreinfo" {
	real_scenario nofwcfg
	run "$MIGREAD" migration.stream
	[ "$status" -eq 3 ] || { echo "migread exited $status: $output" >&2; return 1; }
	assert_eq "$(mig found)" 1 found
	assert_eq "$(mig has_vmcoreinfo)" 0 has_vmcoreinfo
	assert_eq "$(mig host_format)" 1 host_format
	assert_eq "$(mig guest_format)" 0 guest_format
	[[ "$output" == *"never wrote etc/vmcoreinfo"* ]]
	[[ "$output" == *"at offset $(mig state_offset)"* ]]
	[[ "$output" == *"hint:"* ]]
}

@test "real stream without -device vmcoreinfo: said plainly, after walking to EOF" {
	real_scenario nodevice
	run "$MIGREAD" migration.stream
	[ "$status" -eq 4 ] || { echo "migread exited $status: $output" >&2; return 1; }
	assert_eq "$(mig found)" 0 found
	[[ "$output" == *"the VM had no -device vmcoreinfo"* ]]
	[ -n "$(mig eof_offset)" ]
	assert_eq "$(mig description_vmcoreinfo)" 0 description_vmcoreinfo
}

# same_memory PADDR LEN: the stream's RAM pages and dump.elf agree on LEN bytes at PADDR
same_memory() {
	local m=$BATS_TEST_TMPDIR/m.bin v=$BATS_TEST_TMPDIR/v.bin rc=0
	"$MIGREAD" --read migration.stream "$1" "$2" >"$m" || rc=$?
	[ "$rc" -eq 0 ] || { echo "migread --read $1 $2 exited $rc" >&2; return 1; }
	"$VFREAD" dump.elf "$1" "$2" >"$v" || { echo "vfread dump.elf $1 $2 failed" >&2; return 1; }
	assert_eq "$(stat -c %s "$m")" "$(($2))" "bytes read at $1"
	cmp "$m" "$v" || { echo "$PWD: stream and dump.elf differ at $1 (+$2)" >&2; return 1; }
}

# mem_scenario NAME: the note, a few fixed addresses and all of RAM the dump has
mem_scenario() {
	real_scenario "$1"
	[ -x "$VFREAD" ] || skip "vfread not built ($VFREAD)"
	run "$MIGREAD" --mem-info migration.stream
	[ "$status" -eq 0 ] || { echo "migread --mem-info exited $status: $output" >&2; return 1; }
	assert_eq "$(mig block)" pc.ram block
	assert_eq "$(mig layout)" q35 "layout from machine pc-q35-*"
	assert_eq "$(mig range)" "0x0 $(hexnorm $((RAM_MB << 20)))" range
	# a stopped guest: every page of pc.ram sent once
	assert_eq "$(mig records)" $((RAM_MB << 8)) records
	same_memory "$VMCI_PADDR" 0x1024
	for a in 0x1000 0x100000 0x8000000 0x1f000000; do
		same_memory "$a" 0x1024
	done
	# all of RAM below the dump's VGA hole, and above it up to the end of RAM
	same_memory 0 0xa0000
	same_memory 0xc0000 $(((RAM_MB << 20) - 0xc0000))
	# the note itself is there
	"$MIGREAD" --read migration.stream "$VMCI_PADDR" 0x40 | grep -qa VMCOREINFO
	# past the end of RAM: not present, exit 3
	run "$MIGREAD" --read migration.stream $((RAM_MB << 20)) 16
	[ "$status" -eq 3 ] || { echo "past RAM: exit $status: $output" >&2; return 1; }
	[[ "$output" == *"not in RAM block 'pc.ram'"* ]]
}

@test "real stream, -device vmcoreinfo: guest memory from its RAM pages equals dump.elf" {
	mem_scenario vmcoreinfo
}

@test "real stream without -device vmcoreinfo: guest memory equals dump.elf" {
	mem_scenario nodevice
}

@test "real stream, guest without qemu_fw_cfg: guest memory equals dump.elf" {
	mem_scenario nofwcfg
}

# le32 N: N as 4 little-endian bytes
le32() {
	local v=$1
	printf "\\x$(printf %02x $((v & 255)))\\x$(printf %02x $(((v >> 8) & 255)))"
	printf "\\x$(printf %02x $(((v >> 16) & 255)))\\x$(printf %02x $(((v >> 24) & 255)))"
}

# libvirt_image FORMAT PAYLOAD: a libvirt save image (header version 2, 1000 bytes
# of domain XML, so the stream starts at offset 1092) around PAYLOAD, to stdout
libvirt_image() {
	printf 'LibvirtQemudSave'
	le32 2; le32 1000; le32 1; le32 "$1"; le32 0
	for _ in $(seq 14); do le32 0; done
	printf '<domain/>'
	head -c 991 /dev/zero
	cat "$2"
}

# timed_migread FILE OUT: migread FILE > OUT; its status in $rc, seconds in $secs
timed_migread() {
	local t0 t1
	t0=$(date +%s.%N)
	rc=0
	"$MIGREAD" "$1" >"$2" 2>&1 || rc=$?
	t1=$(date +%s.%N)
	secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
}

# the compressions libvirt's save image formats name (1 gzip .. 5 zstd), as
# libvirt runs them: FORMAT:NAME:COMMAND
LV_FORMATS="1:gz:gzip -c
2:bz2:bzip2 -c
3:xz:xz -3 -c
4:lzo:lzop -c
5:zst:zstd -q -c"

@test "real stream in libvirt save images, raw and in each compressed format, and compressed bare: the same paddr and size" {
	real_scenario vmcoreinfo
	local t=$BATS_TEST_TMPDIR fmt name cmd f made=""
	libvirt_image 0 migration.stream >"$t/raw.img"
	while IFS=: read -r fmt name cmd; do
		command -v "${cmd%% *}" >/dev/null || { echo "# ${cmd%% *} not installed" >&3; continue; }
		# shellcheck disable=SC2086
		$cmd <migration.stream >"$t/s.$name"
		libvirt_image "$fmt" "$t/s.$name" >"$t/$name.img"
		made="$made $name"
	done <<<"$LV_FORMATS"
	for f in raw $made; do
		timed_migread "$t/$f.img" "$t/$f.out"
		[ "$rc" -eq 0 ] || { echo "migread $f.img exited $rc: $(cat "$t/$f.out")" >&2; return 1; }
		output=$(cat "$t/$f.out")
		assert_eq "$(mig paddr)" "$(hexnorm "$VMCI_PADDR")" "$f.img paddr"
		assert_eq "$(mig size)" "$(hexnorm "$VMCI_SIZE")" "$f.img size"
		assert_eq "$(mig stream_offset)" 0x444 "$f.img stream_offset"
		echo "# $f.img ($(stat -c %s "$t/$f.img") bytes): walked in $secs s" >&3
	done
	# every key the same: the offsets are the decompressed stream's
	for f in $made; do
		diff "$t/raw.out" "$t/$f.out"
	done
	# the bare files (virsh dump with a dump_image_format): the plain stream's walk
	"$MIGREAD" migration.stream >"$t/plain.out"
	for f in $made; do
		"$MIGREAD" "$t/s.$f" >"$t/bare.$f.out"
		diff "$t/plain.out" "$t/bare.$f.out"
	done
	# guest memory: the note read through each image is the plain stream's
	"$MIGREAD" --read migration.stream "$VMCI_PADDR" 0x1024 >"$t/note"
	for f in $made; do
		"$MIGREAD" --read "$t/$f.img" "$VMCI_PADDR" 0x1024 >"$t/note.$f"
		cmp "$t/note" "$t/note.$f"
		"$MIGREAD" --read "$t/s.$f" "$VMCI_PADDR" 0x1024 >"$t/note.bare.$f"
		cmp "$t/note" "$t/note.bare.$f"
	done
	grep -qa VMCOREINFO "$t/note"
}

@test "real stream in libvirt save images: cut short, and a format its stream denies: said with the offset" {
	real_scenario vmcoreinfo
	command -v gzip >/dev/null || skip "gzip not installed"
	local t=$BATS_TEST_TMPDIR
	gzip -c migration.stream >"$t/s.gz"
	libvirt_image 1 "$t/s.gz" | head -c 20000000 >"$t/cut.img"
	run "$MIGREAD" "$t/cut.img"
	[ "$status" -eq 1 ] || { echo "migread exited $status: $output" >&2; return 1; }
	[[ "$output" == *"truncated gzip-compressed stream"* ]]
	[[ "$output" == *"the file ends at offset 20000000"* ]]
	# the header says xz, the stream is QEMU's as it is: never trusted
	libvirt_image 3 migration.stream >"$t/xz.img"
	run "$MIGREAD" "$t/xz.img"
	[ "$status" -eq 1 ] || { echo "migread exited $status: $output" >&2; return 1; }
	[[ "$output" == *"at offset 0x444"*"format 3 says the QEMU stream is xz-compressed, but the stream is an uncompressed QEMU stream (QEVM)"* ]]
}
