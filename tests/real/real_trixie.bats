#!/usr/bin/env bats
# The Debian 13 (trixie) tier: dumps that QEMU 10 wrote of a Linux 6.12 guest (made by
# tests/real/trixie.sh inside a cached Debian 13 root), fixed by the vmcore-fix built
# here, then read by Debian 13's own consumers inside that root: makedumpfile 1.7.6
# (--dump-dmesg and -c -d 31 find the guest's marker), drgn 0.0.31 with libkdumpfile
# (without debug info: init_uts_ns through the guest's page tables) and, with the root's
# debug vmlinux (VMCOREFIX_TRIXIE_DBG=1), drgn with debug info and crash 8.0.6.
# Verdict oracle: `vmcore-fix --check` exits 0 exactly when all of them read the file,
# for QEMU's files and for the fixed ones (tests/real/oracle.bash).
# Skipped, with the reason, when trixie.sh exits 77 (not root, no debootstrap, no mirror).

# ORACLE_* are read by tests/real/oracle.bash; facts.env files exist only at run time.
# shellcheck disable=SC2034,SC1091
load ../bats/helpers
load oracle

setup_file() {
	trixie_setup_file
}

setup() {
	[ -x "$VMCOREFIX" ] || skip "vmcore-fix not built ($VMCOREFIX)"
	if [ "$TRIXIE_RC" = 77 ]; then
		skip "$(grep 'SKIP:' "$TRIXIE_LOG" | tail -n 1)"
	fi
	if [ "$TRIXIE_RC" != 0 ] || [ ! -f "$TRIXIE_DIR/COMPLETE" ]; then
		echo "tests/real/trixie.sh failed (exit $TRIXIE_RC, printed '$TRIXIE_DIR'); its log ends:" >&2
		tail -n 30 "$TRIXIE_LOG" >&2
		return 1
	fi
	ORACLE_RUN=("$TRIXIE" --run --bind "$BATS_TEST_TMPDIR")
	ORACLE_TMP=$BATS_TEST_TMPDIR
	KVER=$(. "$TRIXIE_DIR/vmcoreinfo/facts.env"; echo "$KERNEL_VERSION")
	ORACLE_VMLINUX=/usr/lib/debug/boot/vmlinux-$KVER
	[ -r "$TRIXIE_ROOT$ORACLE_VMLINUX" ] || ORACLE_VMLINUX=
	oracle_probe
	[ "$ORACLE_HAVE_MDF" = 1 ] || { echo "no makedumpfile in the Debian 13 root $TRIXIE_ROOT" >&2; return 1; }
}

# in_trixie CMD...: CMD inside the Debian 13 root (this test's tmp dir and the fixtures
# at their own paths)
in_trixie() { "$TRIXIE" --run --bind "$BATS_TEST_TMPDIR" "$@"; }

# trixie_fix SCENARIO FILE [OPTION...]: vmcore-fix FILE -o OUT [OPTION...] works, every
# Debian 13 consumer reads OUT, and --check agrees with the consumers on FILE and OUT
trixie_fix() {
	local sc=$1 f=$2 rc=0
	shift 2
	[ -d "$TRIXIE_DIR/$sc" ] || skip "no $sc scenario in $TRIXIE_DIR (see its generation.env)"
	[ -n "$ORACLE_VMLINUX" ] ||
		echo "# no debug vmlinux in the root: drgn-debug and crash left out (the suite fetches linux-image-$KVER-dbg unless VMCOREFIX_TRIXIE_DBG=0)" >&3
	oracle_fix_and_agree "$TRIXIE_DIR/$sc/$f" "$TRIXIE_DIR/$sc" "$@" >"$BATS_TEST_TMPDIR/oracle.txt" 2>&1 || rc=$?
	cat "$BATS_TEST_TMPDIR/oracle.txt"
	[ "$ORACLE_FIX" = 0 ] || { echo "vmcore-fix $f -o OUT $* exited $ORACLE_FIX" >&2; return 1; }
	[ "$ORACLE_OUT_OK" = 1 ] || { echo "a Debian 13 consumer cannot read the fixed $f" >&2; return 1; }
	[ "$rc" = 0 ] || { echo "--check disagrees with the consumers (DISAGREE above)" >&2; return 1; }
}

@test "Debian 13 stack: QEMU 10, Linux 6.12, makedumpfile 1.7, drgn 0.0.31 or later made and read the dumps" {
	. "$TRIXIE_DIR/generation.env"
	echo "# $QEMU_VERSION_FULL; kernel $KERNEL_VERSION; makedumpfile $MAKEDUMPFILE_VERSION; scenarios $SCENARIOS" >&3
	[[ "$QEMU_VERSION" == 10.* ]]
	[[ "$KERNEL_VERSION" == 6.12.* ]]
	[[ "$MAKEDUMPFILE_VERSION" == 1.7.* ]]
	run in_trixie /usr/bin/python3 -c 'import drgn; print(drgn.__version__)'
	[ "$status" -eq 0 ]
	echo "# drgn $output" >&3
	[[ "$output" =~ ^0\.0\.([0-9]+) ]]
	[ "${BASH_REMATCH[1]}" -ge 31 ]
	run in_trixie crash --version
	[[ "$output" == *"crash 8."* ]]
}

@test "QEMU 10's kdump-zlib: utsname.machine 'Unknown'; makedumpfile and drgn cannot open it, and --check says so" {
	[ "$ORACLE_HAVE_DRGN" = 1 ] || skip "no python3-drgn in the Debian 13 root"
	. "$TRIXIE_DIR/vmcoreinfo/facts.env"
	[ "$KDUMP_UTS_MACHINE" = Unknown ]
	ORACLE_ALL=1
	ORACLE_SKIP="drgn-debug crash"
	run oracle_consumers "$TRIXIE_DIR/vmcoreinfo/dump.kdump-zlib" "$TRIXIE_DIR/vmcoreinfo"
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"FAIL mdf-dmesg"* ]]
	[[ "$output" == *"FAIL drgn"* ]]
	run "$VMCOREFIX" --check "$TRIXIE_DIR/vmcoreinfo/dump.kdump-zlib"
	echo "$output"
	[ "$status" -ne 0 ]
}

@test "Debian 13, -device vmcoreinfo: QEMU 10's ELF" { trixie_fix vmcoreinfo dump.elf; }
@test "Debian 13, -device vmcoreinfo: QEMU 10's kdump-zlib (reassembled)" { trixie_fix vmcoreinfo dump.kdump-zlib; }
@test "Debian 13, -device vmcoreinfo: QEMU 10's kdump-zlib (flattened)" { trixie_fix vmcoreinfo dump.kdump-zlib.flat; }
@test "Debian 13, no device: QEMU 10's ELF" { trixie_fix nodevice dump.elf; }
@test "Debian 13, no device: QEMU 10's kdump-zlib (reassembled)" { trixie_fix nodevice dump.kdump-zlib; }
@test "Debian 13, no device: QEMU 10's kdump-zlib (flattened)" { trixie_fix nodevice dump.kdump-zlib.flat; }
@test "Debian 13, no qemu_fw_cfg: QEMU 10's ELF" { trixie_fix nofwcfg dump.elf; }
@test "Debian 13, no qemu_fw_cfg: QEMU 10's kdump-zlib (reassembled)" { trixie_fix nofwcfg dump.kdump-zlib; }
@test "Debian 13, no qemu_fw_cfg: QEMU 10's kdump-zlib (flattened)" { trixie_fix nofwcfg dump.kdump-zlib.flat; }

# trixie_convert SCENARIO: QEMU 10's migration stream converted (trixie_fix), and the
# dump is QEMU 10's own of that stopped guest (RAM, CPU notes, VMCOREINFO)
trixie_convert() {
	trixie_fix "$1" migration.stream
	"$VMCOREFIX" "$TRIXIE_DIR/$1/migration.stream" -o "$BATS_TEST_TMPDIR/conv.elf" >/dev/null
	"$SRCDIR/tests/tools/elfcmp.py" "$BATS_TEST_TMPDIR/conv.elf" "$TRIXIE_DIR/$1/dump.elf"
}
@test "Debian 13, -device vmcoreinfo: QEMU 10's migration stream converted is QEMU 10's dump" { trixie_convert vmcoreinfo; }
@test "Debian 13, no device: QEMU 10's migration stream converted (the scan finds the note)" { trixie_convert nodevice; }
@test "Debian 13, no qemu_fw_cfg: QEMU 10's migration stream converted (the scan finds the note)" { trixie_convert nofwcfg; }

# trixie_convert_kdump SCENARIO: the stream as a kdump (--output-format kdump) read by
# Debian 13's consumers; its pages and notes are QEMU 10's dump.elf's
trixie_convert_kdump() {
	trixie_fix "$1" migration.stream --output-format kdump
	"$VMCOREFIX" "$TRIXIE_DIR/$1/migration.stream" -o "$BATS_TEST_TMPDIR/conv.kd" --output-format kdump >/dev/null
	"$SRCDIR/tests/tools/elfcmp.py" "$BATS_TEST_TMPDIR/conv.kd" "$TRIXIE_DIR/$1/dump.elf"
}
@test "Debian 13, -device vmcoreinfo: QEMU 10's migration stream as a kdump (--output-format kdump), read by every Debian 13 consumer" { trixie_convert_kdump vmcoreinfo; }
@test "Debian 13, no device: QEMU 10's migration stream as a kdump, the scan's note" { trixie_convert_kdump nodevice; }

@test "Debian 13, note removed: QEMU 10's migration stream gives the note's place (--saved-state) and the RAM (--memory)" {
	need_jq
	local S=$TRIXIE_DIR/vmcoreinfo rc=0
	strip_note "$S/dump.kdump-zlib" "$BATS_TEST_TMPDIR/stripped.kdump"
	run "$VMCOREFIX" "$BATS_TEST_TMPDIR/stripped.kdump" -o "$BATS_TEST_TMPDIR/x" --no-scan
	[ "$status" -eq 3 ]
	rm -f "$BATS_TEST_TMPDIR/x"
	oracle_fix_and_agree "$BATS_TEST_TMPDIR/stripped.kdump" "$S" --no-scan \
		--saved-state "$S/migration.stream" --memory "$S/migration.stream" >"$BATS_TEST_TMPDIR/oracle.txt" 2>&1 || rc=$?
	cat "$BATS_TEST_TMPDIR/oracle.txt"
	[ "$ORACLE_FIX" = 0 ]
	[ "$ORACLE_OUT_OK" = 1 ]
	[ "$rc" = 0 ]
}

@test "Debian 13, no device / no qemu_fw_cfg: the stream's state cannot place the note (exit 3); its RAM serves the scan (--memory)" {
	local sc rc n=0
	for sc in nodevice nofwcfg; do
		[ -d "$TRIXIE_DIR/$sc" ] || continue
		n=$((n + 1))
		run "$VMCOREFIX" "$TRIXIE_DIR/$sc/dump.kdump-zlib" -o "$BATS_TEST_TMPDIR/x" --no-scan \
			--saved-state "$TRIXIE_DIR/$sc/migration.stream"
		echo "$sc, --no-scan --saved-state: exit $status: $output"
		[ "$status" -eq 3 ]
		[ ! -e "$BATS_TEST_TMPDIR/x" ]
		rc=0
		oracle_fix_and_agree "$TRIXIE_DIR/$sc/dump.kdump-zlib" "$TRIXIE_DIR/$sc" \
			--memory "$TRIXIE_DIR/$sc/migration.stream" >"$BATS_TEST_TMPDIR/oracle.txt" 2>&1 || rc=$?
		cat "$BATS_TEST_TMPDIR/oracle.txt"
		[ "$ORACLE_FIX" = 0 ]
		[ "$ORACLE_OUT_OK" = 1 ]
		[ "$rc" = 0 ]
	done
	[ "$n" -ge 1 ]
}

@test "Debian 13 crash with the debug vmlinux: log and phys_base of the fixed ELF and kdump" {
	[ -n "$ORACLE_VMLINUX" ] ||
		skip "no debug vmlinux in the Debian 13 root: package linux-image-$KVER-dbg (about 1 GB; VMCOREFIX_TRIXIE_DBG=1 tests/real/trixie.sh --root fetches it)"
	[ "$ORACLE_HAVE_CRASH" = 1 ] || skip "no crash in the Debian 13 root"
	local S=$TRIXIE_DIR/vmcoreinfo f pb
	. "$S/facts.env"
	pb=$(printf '%x' "$PHYS_BASE_HEX")
	printf 'log\nhelp -m\nquit\n' >"$BATS_TEST_TMPDIR/cmds"
	for f in dump.elf dump.kdump-zlib; do
		"$VMCOREFIX" "$S/$f" -o "$BATS_TEST_TMPDIR/fixed" >/dev/null
		in_trixie timeout 300 crash -s "$ORACLE_VMLINUX" "$BATS_TEST_TMPDIR/fixed" -i "$BATS_TEST_TMPDIR/cmds" \
			>"$BATS_TEST_TMPDIR/crash.out" 2>&1 </dev/null || true
		grep -qF "$MARKER" "$BATS_TEST_TMPDIR/crash.out" || { echo "$f: no marker in crash's log:"; tail -n 20 "$BATS_TEST_TMPDIR/crash.out"; return 1; }
		grep -qE "^ +phys_base: +0*$pb\$" "$BATS_TEST_TMPDIR/crash.out" || { echo "$f: phys_base:"; grep phys_base "$BATS_TEST_TMPDIR/crash.out"; return 1; }
		rm -f "$BATS_TEST_TMPDIR/fixed"
	done
}

@test "QEMU 10's kdump-zlib written into a pipe (flattened): vmcore-fix - -o - | makedumpfile -R gives the file's fix, and every Debian 13 consumer reads it" {
	local in=$TRIXIE_DIR/vmcoreinfo/dump.kdump-zlib.pipe
	[ -e "$in" ] || skip "no dump.kdump-zlib.pipe in $TRIXIE_DIR/vmcoreinfo (fixtures made before make-dumps.sh captured pipes)"
	[ "$(head -c 12 "$in")" = makedumpfile ]
	oracle_piped "$in" "$TRIXIE_DIR/vmcoreinfo"
}
