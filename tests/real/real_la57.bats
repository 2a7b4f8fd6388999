#!/usr/bin/env bats
# The la57 scenario of the real-QEMU tiers: a guest on a CPU with LA57 (QEMU TCG,
# -cpu qemu64,+la57,enforce), so the kernel runs with 5-level page tables (its note says
# NUMBER(pgtable_l5_enabled)=1). For QEMU's ELF and kdump-zlib (reassembled and
# flattened), on Debian 12 (QEMU 7.2, Linux 6.1, this host's consumers) and on Debian 13
# (QEMU 10, Linux 6.12, the consumers inside tests/real/trixie.sh's root): vmcore-fix
# IN -o OUT works, every consumer reads OUT and --check agrees with the consumers on IN
# and OUT (tests/real/oracle.bash). With the note removed, the scan finds it and the fix
# works; the 5-level walk of the guest's page tables gives its phys_base (pbwalk).
# Each test skips, with the reason, when a stack has no la57 scenario (make-dumps.sh
# leaves it out, and generation.env's LA57_SKIPPED says why, when the guest does not
# come up with 5-level paging) or when the stack itself is not available.

# ORACLE_* are read by tests/real/oracle.bash; facts.env files exist only at run time.
# shellcheck disable=SC2034,SC1091
load ../bats/helpers
load oracle

setup_file() {
	real_setup || true
	trixie_setup_file
}

setup() {
	[ -x "$VMCOREFIX" ] || skip "vmcore-fix not built ($VMCOREFIX)"
	PBWALK=${PBWALK:-${BUILDDIR:-$SRCDIR/build}/tests/tools/pbwalk}
}

# la57_dir DIR: skip unless DIR (a complete fixture directory) has the la57 scenario;
# sets S to it and sources its facts.env
la57_dir() {
	local why
	if [ ! -d "$1/la57" ]; then
		why=$( (. "$1/generation.env" 2>/dev/null && echo "${LA57_SKIPPED-made by a make-dumps.sh without it}"))
		skip "no la57 scenario in $1: ${why:-see its generation.env}"
	fi
	S=$1/la57
	. "$S/facts.env"
}

# The stacks. deb12: the host's fixtures and consumers; deb13: the Debian 13 root's.
deb12() {
	command -v makedumpfile >/dev/null || skip "makedumpfile not installed"
	real_dir
	la57_dir "$REAL"
	ORACLE_RUN=()
	ORACLE_TMP=$BATS_TEST_TMPDIR
	ORACLE_VMLINUX=$(debug_vmlinux "$KERNEL_VERSION") || ORACLE_VMLINUX=
	oracle_probe
	MDF=(makedumpfile)
}
deb13() {
	if [ "$TRIXIE_RC" = 77 ]; then
		skip "$(grep 'SKIP:' "$TRIXIE_LOG" | tail -n 1)"
	fi
	if [ "$TRIXIE_RC" != 0 ] || [ ! -f "$TRIXIE_DIR/COMPLETE" ]; then
		echo "tests/real/trixie.sh failed (exit $TRIXIE_RC, printed '$TRIXIE_DIR'); its log ends:" >&2
		tail -n 30 "$TRIXIE_LOG" >&2
		return 1
	fi
	la57_dir "$TRIXIE_DIR"
	ORACLE_RUN=("$TRIXIE" --run --bind "$BATS_TEST_TMPDIR")
	ORACLE_TMP=$BATS_TEST_TMPDIR
	ORACLE_VMLINUX=/usr/lib/debug/boot/vmlinux-$KERNEL_VERSION
	[ -r "$TRIXIE_ROOT$ORACLE_VMLINUX" ] || ORACLE_VMLINUX=
	oracle_probe
	[ "$ORACLE_HAVE_MDF" = 1 ] || { echo "no makedumpfile in the Debian 13 root $TRIXIE_ROOT" >&2; return 1; }
	MDF=("$TRIXIE" --run --bind "$BATS_TEST_TMPDIR" makedumpfile)
}

# same ACTUAL EXPECTED WHAT
same() { [ "$1" = "$2" ] || { echo "$3: got '$1', expected '$2'" >&2; return 1; }; }

# la57_fix FILE [OPTION...]: in the stack set up by deb12/deb13, vmcore-fix S/FILE -o OUT
# exits 0, every consumer reads OUT, and --check agrees with the consumers on FILE and OUT
la57_fix() {
	local f=$1 rc=0
	shift
	[ -n "$ORACLE_VMLINUX" ] || echo "# no debug vmlinux: drgn-debug and crash left out" >&3
	oracle_fix_and_agree "$S/$f" "$S" "$@" >"$BATS_TEST_TMPDIR/oracle.txt" 2>&1 || rc=$?
	cat "$BATS_TEST_TMPDIR/oracle.txt"
	[ "$ORACLE_FIX" = 0 ] || { echo "vmcore-fix $f -o OUT $* exited $ORACLE_FIX" >&2; return 1; }
	[ "$ORACLE_OUT_OK" = 1 ] || { echo "a consumer cannot read the fixed $f" >&2; return 1; }
	[ "$rc" = 0 ] || { echo "--check disagrees with the consumers (DISAGREE above)" >&2; return 1; }
}

# la57_facts: the scenario is what it claims: the guest's note says 5-level paging, the
# CPU had LA57 on, and only the minimal set of dumps was made
la57_facts() {
	echo "# $QEMU_VERSION_FULL; kernel $KERNEL_VERSION; -cpu $QEMU_CPU" >&3
	same "$L5" 1 "L5 in facts.env"
	grep -qx 'NUMBER(pgtable_l5_enabled)=1' "$S/vmcoreinfo-note.txt"
	[ -s "$S/guest-vmcoreinfo.txt" ]
	[ "$NOTE_IN_DUMP" = 1 ]
	[ "$FWCFG_RAW_PRESENT" = 1 ]
	[[ "$QEMU_CPU" == *la57* ]]
	grep -q -- "-cpu [^ ]*la57" "$S/qemu-cmdline.txt"
	local f
	for f in dump.elf dump.kdump-zlib dump.kdump-zlib.flat; do [ -s "$S/$f" ]; done
	[ ! -e "$S/migration.stream" ]
	[ ! -e "$S/variants.txt" ]
}

# la57_stripped: the note removed from QEMU's ELF and kdump-zlib: the fix finds it by
# scanning (exit 0), and makedumpfile --dump-dmesg of the output has the marker
la57_stripped() {
	local f t=$BATS_TEST_TMPDIR
	for f in dump.elf dump.kdump-zlib; do
		strip_note "$S/$f" "$t/stripped"
		json=$("$VMCOREFIX" --inspect --json "$t/stripped" || true)
		has_problem no-vmcoreinfo
		run "$VMCOREFIX" "$t/stripped" -o "$t/fixed"
		echo "$f stripped: vmcore-fix exit $status: $output"
		[ "$status" -eq 0 ]
		[[ "$output" == *"found by scan"* ]]
		rm -f "$t/dmesg.txt"
		run "${MDF[@]}" --dump-dmesg "$t/fixed" "$t/dmesg.txt"
		[ "$status" -eq 0 ] || { echo "makedumpfile --dump-dmesg of the fixed $f: $output" >&2; return 1; }
		grep -qF "$MARKER" "$t/dmesg.txt"
		rm -f "$t/stripped" "$t/fixed" "$t/dmesg.txt"
	done
}

# la57_pbwalk: phys_base through the guest's 5-level page tables (tests/tools/pbwalk,
# which drops NUMBER(phys_base) from the note it uses) is the guest's
la57_pbwalk() {
	[ -x "$PBWALK" ] || skip "pbwalk not built ($PBWALK)"
	local f
	for f in dump.elf dump.kdump-zlib dump.kdump-zlib.flat; do
		run "$PBWALK" "$S/$f"
		echo "$f: $output"
		[ "$status" -eq 0 ]
		same "$(sed -n 's/^phys_base=//p' <<<"$output")" "$PHYS_BASE" "phys_base of $f"
		[[ "$output" == *"through CPU 0's page tables (CR3 "*", 5-level)"* ]]
	done
}

@test "la57, Debian 12: the guest ran with 5-level paging (QEMU 7.2 TCG)" { deb12; la57_facts; }
@test "la57, Debian 12: QEMU 7.2's ELF" { deb12; la57_fix dump.elf; }
@test "la57, Debian 12: QEMU 7.2's kdump-zlib (reassembled)" { deb12; la57_fix dump.kdump-zlib; }
@test "la57, Debian 12: QEMU 7.2's kdump-zlib (flattened)" { deb12; la57_fix dump.kdump-zlib.flat; }
@test "la57, Debian 12, note removed: found by scan, makedumpfile reads the fixed dump" { deb12; la57_stripped; }
@test "la57, Debian 12: the 5-level page-table walk gives the guest's phys_base" { deb12; la57_pbwalk; }

@test "la57, Debian 13: the guest ran with 5-level paging (QEMU 10 TCG)" { deb13; la57_facts; }
@test "la57, Debian 13: QEMU 10's ELF" { deb13; la57_fix dump.elf; }
@test "la57, Debian 13: QEMU 10's kdump-zlib (reassembled)" { deb13; la57_fix dump.kdump-zlib; }
@test "la57, Debian 13: QEMU 10's kdump-zlib (flattened)" { deb13; la57_fix dump.kdump-zlib.flat; }
@test "la57, Debian 13, note removed: found by scan, makedumpfile 1.7.6 reads the fixed dump" { deb13; la57_stripped; }
@test "la57, Debian 13: the 5-level page-table walk gives the guest's phys_base" { deb13; la57_pbwalk; }
