#!/usr/bin/env bats
# real_saved.bats - what real libvirt 9.0 writes of a running guest, converted into ELF
# dumps: `virsh dump` (the bare QEMU stream, raw and gzip), `virsh save` in every
# save_image_format (raw, gzip, bzip2, xz, lzop; zstd is refused by libvirt 9.0),
# `virsh managedsave` and an external snapshot's memory file, of two domains (TCG, q35,
# 2 vCPUs), with and without <vmcoreinfo state='on'/> (tests/real/make-saved.sh).
# For every capture: --inspect names it (container, codec, the domain's name and UUID
# from the image's XML, 2 vCPUs, the vmcoreinfo device), --check exits 1, the
# conversion is QEMU's own dump-guest-memory of the same state (tests/tools/elfcmp.py
# against the oracle QEMU wrote after loading that capture's stream), makedumpfile
# --dump-dmesg and -c -d 31 and drgn (without debug info) read it, --check says it is
# healthy. crash (log, help -m, bt -a) and drgn with the debug vmlinux on one bare
# stream and one libvirt image of each domain (each run of crash costs about 13 s).

# ORACLE_* are read by tests/real/oracle.bash.
# shellcheck disable=SC2034
load ../bats/helpers
load oracle

setup_file() {
	SAVED_LOG=$BATS_FILE_TMPDIR/make-saved.log
	local out='' rc=0 why
	if why=$(slow_tests_off); then
		echo "make-saved: SKIP: $why" >"$SAVED_LOG"
		rc=77
	else
		out=$("$SRCDIR/tests/real/make-saved.sh" 2>"$SAVED_LOG") || rc=$?
	fi
	SAVED_RC=$rc
	SAVED=${out##*$'\n'}
	export SAVED_LOG SAVED_RC SAVED
}

setup() {
	[ -x "$VMCOREFIX" ] || skip "vmcore-fix not built ($VMCOREFIX)"
	if [ "$SAVED_RC" = 77 ]; then
		skip "$(grep 'SKIP:' "$SAVED_LOG" | tail -n 1)"
	fi
	if [ "$SAVED_RC" != 0 ] || [ ! -f "$SAVED/COMPLETE" ]; then
		echo "tests/real/make-saved.sh failed (exit $SAVED_RC, printed '$SAVED'); its log ends:" >&2
		tail -n 30 "$SAVED_LOG" >&2
		return 1
	fi
	command -v makedumpfile >/dev/null || skip "makedumpfile not installed"
	ELFCMP=$SRCDIR/tests/tools/elfcmp.py
	ORACLE_RUN=()
	ORACLE_TMP=$BATS_TEST_TMPDIR
	ORACLE_ALL=1
	oracle_probe
}

# same ACTUAL EXPECTED WHAT
same() {
	[ "$1" = "$2" ] && return 0
	echo "$3: got '$1', expected '$2'" >&2
	return 1
}

# capture DOMAIN NAME: the capture's line of DOMAIN/captures.txt into CAP_FILE (a path),
# CAP_CONTAINER (stream, libvirt), CAP_CODEC (raw, gzip, ...), CAP_ORACLE (a path); D is
# the domain directory, its facts.env sourced; skips with libvirt's reason when the
# capture was not made (not-made.txt), fails when it is in neither list
capture() {
	D=$SAVED/$1
	# shellcheck disable=SC1091
	. "$D/facts.env"
	local line
	line=$(awk -v n="$2" '$1 == n' "$D/captures.txt")
	if [ -z "$line" ]; then
		line=$(grep "^$2: " "$D/not-made.txt") || {
			echo "$2 is neither in $D/captures.txt nor in not-made.txt" >&2
			return 1
		}
		skip "libvirt $LIBVIRT_VERSION did not make it: $line"
	fi
	local n f
	read -r n f CAP_CONTAINER CAP_CODEC CAP_ORACLE <<<"$line"
	CAP_FILE=$D/$f
	CAP_ORACLE=$D/$CAP_ORACLE
}

# inspect_names: --inspect (JSON and text) of CAP_FILE says what capture() read
inspect_names() {
	inspect_json "$CAP_FILE"
	[ "$status" = 1 ] || { echo "--inspect exited $status" >&2; return 1; }
	local want_lv=false want_codec=null want_name=null want_uuid=null want_dev=false
	[ "$CAP_CONTAINER" = libvirt ] && want_lv=true want_name=$DOMAIN_NAME want_uuid=$DOMAIN_UUID
	[ "$CAP_CODEC" = raw ] || want_codec=$CAP_CODEC
	[ "$VMCOREINFO_DEVICE" = 1 ] && want_dev=true
	same "$(jget .saved_state.libvirt)" "$want_lv" "saved_state.libvirt"
	same "$(jget .saved_state.compressed)" "$want_codec" "saved_state.compressed"
	same "$(jget .saved_state.domain_name)" "$want_name" "saved_state.domain_name"
	same "$(jget .saved_state.domain_uuid)" "$want_uuid" "saved_state.domain_uuid"
	same "$(jget .saved_state.vcpus)" "$VCPUS" "saved_state.vcpus"
	same "$(jget .saved_state.vmcoreinfo_device)" "$want_dev" "saved_state.vmcoreinfo_device"
	same "$(jget .saved_state.vmcoreinfo_written)" "$want_dev" "saved_state.vmcoreinfo_written"
	same "$(jget .saved_state.machine_type)" "$(sed -n 's/^-machine \([^,]*\),.*/\1/p' "$D/libvirt-qemu.log" | head -n 1)" "saved_state.machine_type"
	if [ "$CAP_CONTAINER" = libvirt ]; then
		# the header (92 bytes) and its data_len bytes of XML and cookie
		same "$(jget .saved_state.stream_offset)" $((92 + $(od -An -tu4 -j20 -N4 "$CAP_FILE" | tr -d ' '))) "stream_offset"
	else
		same "$(jget .saved_state.stream_offset)" 0 "stream_offset"
	fi
	run "$VMCOREFIX" --inspect "$CAP_FILE"
	[ "$status" = 1 ]
	local what="QEMU migration stream"
	[ "$CAP_CONTAINER" = libvirt ] && what="$what in a libvirt save image"
	[[ "$output" == *"saved state:  $what"* ]] || { echo "--inspect lacks 'saved state:  $what'" >&2; return 1; }
	if [ "$CAP_CODEC" != raw ]; then
		[[ "$output" == *"saved state:  $what"*"$CAP_CODEC-compressed"* ]] || { echo "--inspect does not say $CAP_CODEC-compressed" >&2; return 1; }
	fi
	if [ "$CAP_CONTAINER" = libvirt ]; then
		[[ "$output" == *"domain:     $DOMAIN_NAME (uuid $DOMAIN_UUID)"* ]] || { echo "--inspect lacks the domain line" >&2; return 1; }
	fi
	[[ "$output" == *"vCPUs:      $VCPUS, x86_64"* ]] || { echo "--inspect lacks 'vCPUs:      $VCPUS'" >&2; return 1; }
}

# convert_and_compare DOMAIN NAME: every check of one capture but crash and drgn with
# debug info (the file header says which)
convert_and_compare() {
	capture "$1" "$2"
	inspect_names
	run "$VMCOREFIX" --check "$CAP_FILE"
	[ "$status" = 1 ] || { echo "--check of the capture exited $status: $output" >&2; return 1; }
	local out=$BATS_TEST_TMPDIR/out.elf
	run "$VMCOREFIX" "$CAP_FILE" -o "$out"
	[ "$status" = 0 ] || { echo "vmcore-fix $CAP_FILE -o OUT exited $status: $output" >&2; return 1; }
	"$ELFCMP" "$out" "$CAP_ORACLE"
	ORACLE_SKIP="drgn-debug crash"
	oracle_agrees "$out" "$D"
	[ "$ORACLE_CONSUMERS_OK" = 1 ] && [ "$ORACLE_CHECK" = 0 ]
	# kept for the crash and drgn test of this capture, if it has one
	[[ " $DEBUG_SUBSET " != *" $1/$2 "* ]] || mv "$out" "$BATS_FILE_TMPDIR/$1.$2.elf"
	# drgn without debug info must have run (oracle_agrees prints "skip drgn" without it)
	[ "$ORACLE_HAVE_DRGN" = 1 ] || skip "python3-drgn not installed: all but drgn passed"
}

# the captures debug_consumers reads (a bare stream and a libvirt image of each domain)
DEBUG_SUBSET="vmcoreinfo/dump-gzip vmcoreinfo/managedsave nodevice/dump-raw nodevice/save-bzip2"

# debug_consumers DOMAIN NAME: the capture converted; drgn with the debug vmlinux reads
# init_uts_ns and the marker; crash prints the log with the marker, the guest's phys_base
# and a backtrace of each of the 2 CPUs
debug_consumers() {
	capture "$1" "$2"
	local vmlinux out=$BATS_FILE_TMPDIR/$1.$2.elf
	vmlinux=$(debug_vmlinux "$KERNEL_VERSION") ||
		skip "no debug vmlinux for $KERNEL_VERSION (tests/real/debug-vmlinux.sh $KERNEL_VERSION fetches it)"
	# the conversion its test above made and checked, else made here
	[ -f "$out" ] || "$VMCOREFIX" "$CAP_FILE" -o "$out" >/dev/null
	if [ "$ORACLE_HAVE_DRGN" = 1 ]; then
		_oracle_scripts "$BATS_TEST_TMPDIR"
		timeout 300 /usr/bin/python3 "$BATS_TEST_TMPDIR/oracle-drgn-debug.py" "$out" "$vmlinux" "$OSRELEASE" "$MARKER"
	fi
	command -v crash >/dev/null || skip "crash not installed$([ "$ORACLE_HAVE_DRGN" = 1 ] && echo ': drgn with debug info passed')"
	printf 'log\nhelp -m\nbt -a\nquit\n' >"$BATS_TEST_TMPDIR/cmds"
	timeout 300 crash -s "$vmlinux" "$out" -i "$BATS_TEST_TMPDIR/cmds" >"$BATS_TEST_TMPDIR/crash.out" 2>&1 </dev/null || true
	grep -qF "$MARKER" "$BATS_TEST_TMPDIR/crash.out" || { echo "crash's log lacks $MARKER:" >&2; tail -n 20 "$BATS_TEST_TMPDIR/crash.out" >&2; return 1; }
	grep -qE "^ +phys_base: +0*$(printf '%x' "$PHYS_BASE_HEX")\$" "$BATS_TEST_TMPDIR/crash.out" ||
		{ echo "crash help -m: $(grep -m 1 'phys_base:' "$BATS_TEST_TMPDIR/crash.out")" >&2; return 1; }
	local cpus
	cpus=$(sed -n 's/^PID: .* CPU: \([0-9]*\) .*/\1/p' "$BATS_TEST_TMPDIR/crash.out" | sort -u | tr '\n' ' ')
	same "$cpus" "0 1 " "the CPUs of crash's bt -a"
	! grep -q 'bt: cannot' "$BATS_TEST_TMPDIR/crash.out" || { grep 'bt: cannot' "$BATS_TEST_TMPDIR/crash.out" >&2; return 1; }
	rm -f "$out"
}

@test "saved (fixtures): each domain has every capture libvirt 9.0 makes; only zstd refused, in libvirt's words; one oracle" {
	[ -n "$SAVED" ] && [ -f "$SAVED/COMPLETE" ]
	for d in vmcoreinfo nodevice; do
		# shellcheck disable=SC1090
		. "$SAVED/$d/facts.env"
		same "$(awk '{print $1}' "$SAVED/$d/captures.txt" | sort | tr '\n' ' ')" \
			"dump-gzip dump-raw managedsave save-bzip2 save-gzip save-lzop save-raw save-xz snapshot " "$d captures"
		same "$(sed 's/:.*//' "$SAVED/$d/not-made.txt")" save-zstd "$d not made"
		grep -q 'Invalid save image format' "$SAVED/$d/not-made.txt"
		# libvirt restored save.raw paused for each other capture: the guest never ran again
		same "$ORACLES" 1 "$d: distinct oracle states"
	done
}

@test "saved vmcoreinfo: virsh save (raw)" { convert_and_compare vmcoreinfo save-raw; }
@test "saved vmcoreinfo: virsh dump (raw stream)" { convert_and_compare vmcoreinfo dump-raw; }
@test "saved vmcoreinfo: virsh dump, dump_image_format=gzip" { convert_and_compare vmcoreinfo dump-gzip; }
@test "saved vmcoreinfo: external snapshot's memory file" { convert_and_compare vmcoreinfo snapshot; }
@test "saved vmcoreinfo: virsh save, gzip" { convert_and_compare vmcoreinfo save-gzip; }
@test "saved vmcoreinfo: virsh save, bzip2" { convert_and_compare vmcoreinfo save-bzip2; }
@test "saved vmcoreinfo: virsh save, xz" { convert_and_compare vmcoreinfo save-xz; }
@test "saved vmcoreinfo: virsh save, lzop" { convert_and_compare vmcoreinfo save-lzop; }
@test "saved vmcoreinfo: virsh save, zstd" { convert_and_compare vmcoreinfo save-zstd; }
@test "saved vmcoreinfo: virsh managedsave" { convert_and_compare vmcoreinfo managedsave; }

@test "saved nodevice: virsh save (raw)" { convert_and_compare nodevice save-raw; }
@test "saved nodevice: virsh dump (raw stream)" { convert_and_compare nodevice dump-raw; }
@test "saved nodevice: virsh dump, dump_image_format=gzip" { convert_and_compare nodevice dump-gzip; }
@test "saved nodevice: external snapshot's memory file" { convert_and_compare nodevice snapshot; }
@test "saved nodevice: virsh save, gzip" { convert_and_compare nodevice save-gzip; }
@test "saved nodevice: virsh save, bzip2" { convert_and_compare nodevice save-bzip2; }
@test "saved nodevice: virsh save, xz" { convert_and_compare nodevice save-xz; }
@test "saved nodevice: virsh save, lzop" { convert_and_compare nodevice save-lzop; }
@test "saved nodevice: virsh save, zstd" { convert_and_compare nodevice save-zstd; }
@test "saved nodevice: virsh managedsave" { convert_and_compare nodevice managedsave; }

@test "saved vmcoreinfo, crash and drgn with debug info: virsh dump gzip" { debug_consumers vmcoreinfo dump-gzip; }
@test "saved vmcoreinfo, crash and drgn with debug info: managedsave" { debug_consumers vmcoreinfo managedsave; }
@test "saved nodevice, crash and drgn with debug info: virsh dump (raw stream)" { debug_consumers nodevice dump-raw; }
@test "saved nodevice, crash and drgn with debug info: virsh save, bzip2" { debug_consumers nodevice save-bzip2; }

@test "saved vmcoreinfo: virsh save xz to -o -: makedumpfile -R rebuilds the -o FILE dump; the consumers read it" {
	capture vmcoreinfo save-xz
	local t=$BATS_TEST_TMPDIR rc=0
	set -o pipefail
	"$VMCOREFIX" "$CAP_FILE" -o - 2>"$t/fix.err" | timeout 300 makedumpfile -R "$t/piped" >"$t/mdf.log" 2>&1 || rc=$?
	set +o pipefail
	[ "$rc" = 0 ] || { cat "$t/fix.err" "$t/mdf.log" >&2; return 1; }
	grep -q '^wrote a flattened stream to standard output$' "$t/fix.err"
	ORACLE_SKIP="drgn-debug crash"
	oracle_is_the_fix "$t/piped" "$CAP_FILE" "$D"
}
