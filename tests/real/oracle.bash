# oracle.bash - the verdict oracle of the real-QEMU tiers: run every dump consumer that
# is available on a file, and compare "they all read it" with `vmcore-fix --check`.
# Load from a file in tests/bats/ with:   load ../real/oracle
#
# The consumers (each one passes or fails; see oracle_consumers):
#   mdf-dmesg   makedumpfile --dump-dmesg FILE: works and the log has the scenario's MARKER
#   mdf-d31     makedumpfile -c -d 31 FILE: works, and --dump-dmesg of the result has MARKER
#   drgn        (python3-drgn present) drgn opens FILE as a Linux kernel core without debug
#               info, UTS_RELEASE is the guest's OSRELEASE, and init_uts_ns read by its
#               virtual address (SYMBOL(init_uts_ns) of the guest's own note, through the
#               guest's page tables) holds "Linux" and OSRELEASE
#   drgn-debug  (ORACLE_VMLINUX set) drgn with the debug vmlinux: init_uts_ns.name.release
#               is OSRELEASE and a printk record holds MARKER
#   crash       (ORACLE_VMLINUX set and crash present) crash's `log` has MARKER and
#               `help -m` reports the guest's phys_base
#
# Settings, as shell variables of the caller:
#   ORACLE_RUN      array: the prefix that runs a consumer; empty runs it on this host;
#                   the Debian 13 tier uses (tests/real/trixie.sh --run --bind "$BATS_TEST_TMPDIR")
#   ORACLE_VMLINUX  the guest's debug vmlinux as ORACLE_RUN sees it; empty: no drgn-debug,
#                   no crash
#   ORACLE_TMP      scratch directory ORACLE_RUN can write (default $BATS_TEST_TMPDIR)
#   ORACLE_ALL=1    run every consumer even after one failed (by default the first failure
#                   decides: the verdict is known, and the rest costs time)
#   ORACLE_SKIP     consumer names to leave out, e.g. "crash" (about 13 s a file)
#   VMCOREFIX       the vmcore-fix binary (run on this host)
# Call oracle_probe once (in setup) after setting ORACLE_RUN.
# Results for the caller: ORACLE_FAILED, ORACLE_CONSUMERS_OK, ORACLE_CHECK, ORACLE_OUT,
# ORACLE_FIX, ORACLE_OUT_OK (below).
# shellcheck disable=SC2034,SC1091,SC2153

# _oracle_run CMD...: CMD through ORACLE_RUN
_oracle_run() {
	if [ "${#ORACLE_RUN[@]}" -gt 0 ] 2>/dev/null; then
		"${ORACLE_RUN[@]}" "$@"
	else
		"$@"
	fi
}

# oracle_probe: which consumers ORACLE_RUN has; sets ORACLE_HAVE_MDF, ORACLE_HAVE_DRGN,
# ORACLE_HAVE_CRASH (1/0)
oracle_probe() {
	local have
	have=$(_oracle_run /bin/sh -c '
		command -v makedumpfile >/dev/null && echo mdf
		/usr/bin/python3 -c "import drgn" 2>/dev/null && echo drgn
		command -v crash >/dev/null && echo crash
		true' 2>/dev/null) || have=
	ORACLE_HAVE_MDF=0 ORACLE_HAVE_DRGN=0 ORACLE_HAVE_CRASH=0
	case "$have" in *mdf*) ORACLE_HAVE_MDF=1 ;; esac
	case "$have" in *drgn*) ORACLE_HAVE_DRGN=1 ;; esac
	case "$have" in *crash*) ORACLE_HAVE_CRASH=1 ;; esac
}

# The drgn checks (python scripts written to ORACLE_TMP, so that ORACLE_RUN reaches them).
_oracle_scripts() {
	local t=$1
	[ -f "$t/oracle-drgn.py" ] && return 0
	cat >"$t/oracle-drgn.py" <<'PY'
# oracle-drgn.py CORE OSRELEASE INIT_UTS_NS_VADDR: drgn without debug info
import sys
import drgn
core, release, uts = sys.argv[1], sys.argv[2].encode(), int(sys.argv[3], 16)
p = drgn.Program()
try:
    p.set_core_dump(core)
except Exception as e:
    sys.exit("cannot open the core: %s: %s" % (type(e).__name__, e))
if not p.flags & drgn.ProgramFlags.IS_LINUX_KERNEL:
    sys.exit("not opened as a Linux kernel core (no VMCOREINFO found): flags %s" % p.flags)
got = p["UTS_RELEASE"].string_()
if got != release:
    sys.exit("UTS_RELEASE is %r, the guest's is %r" % (got, release))
try:
    b = p.read(uts, 195)
except Exception as e:
    sys.exit("reading init_uts_ns at 0x%x: %s: %s" % (uts, type(e).__name__, e))
sysname, rel = b[0:65].split(b"\0")[0], b[130:195].split(b"\0")[0]
if sysname != b"Linux" or rel != release:
    sys.exit("init_uts_ns at 0x%x reads %r %r" % (uts, sysname, rel))
print("drgn: UTS_RELEASE and init_uts_ns read %s" % rel.decode())
PY
	cat >"$t/oracle-drgn-debug.py" <<'PY'
# oracle-drgn-debug.py CORE VMLINUX OSRELEASE MARKER: drgn with the debug vmlinux
import sys
import drgn
from drgn.helpers.linux.printk import get_printk_records
core, vmlinux, release, marker = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].encode()
p = drgn.Program()
try:
    p.set_core_dump(core)
    p.load_debug_info([vmlinux])
    rel = p["init_uts_ns"].name.release.string_().decode()
    found = any(marker in r.text for r in get_printk_records(p))
except Exception as e:
    sys.exit("%s: %s" % (type(e).__name__, e))
if rel != release:
    sys.exit("init_uts_ns.name.release is %r, the guest's is %r" % (rel, release))
if not found:
    sys.exit("no printk record holds the marker")
print("drgn-debug: release %s, marker found" % rel)
PY
}

# oracle_consumers FILE SCENARIO_DIR: run the consumers on FILE (the scenario directory
# gives MARKER, OSRELEASE, PHYS_BASE_HEX and the guest's note). Prints one line per
# consumer ("ok NAME", "FAIL NAME: why", "skip NAME: why"), sets ORACLE_FAILED to the
# names that failed and returns 0 exactly when none failed (at least the two makedumpfile
# consumers must run: without makedumpfile this returns 2).
oracle_consumers() {
	local f=$1 sc=$2 t=${ORACLE_TMP:-$BATS_TEST_TMPDIR} marker rel pbhex uts w rc
	marker=$(. "$sc/facts.env" && echo "$MARKER")
	rel=$(. "$sc/facts.env" && echo "$OSRELEASE")
	pbhex=$(. "$sc/facts.env" && printf '%x' "$PHYS_BASE_HEX")
	uts=$(sed -n 's/^SYMBOL(init_uts_ns)=//p' "$sc/vmcoreinfo-note.txt")
	[ -n "${ORACLE_HAVE_MDF:-}" ] || oracle_probe
	[ "$ORACLE_HAVE_MDF" = 1 ] || { echo "FAIL setup: no makedumpfile"; ORACLE_FAILED=setup; return 2; }
	w=$(mktemp -d "$t/oracle.XXXXXX")
	_oracle_scripts "$t"
	ORACLE_FAILED=

	# makedumpfile --dump-dmesg (never left out: the verdict needs one consumer)
	rc=0
	_oracle_run makedumpfile --dump-dmesg "$f" "$w/dmesg.txt" >"$w/dmesg.log" 2>&1 || rc=$?
	if [ "$rc" != 0 ]; then
		_oracle_fail mdf-dmesg "makedumpfile --dump-dmesg exited $rc: $(_oracle_errors "$w/dmesg.log")"
	elif ! grep -qF "$marker" "$w/dmesg.txt"; then
		_oracle_fail mdf-dmesg "the log makedumpfile --dump-dmesg wrote lacks $marker"
	else
		echo "ok mdf-dmesg"
	fi

	# makedumpfile -c -d 31, then the log of the filtered dump
	if _oracle_skipped mdf-d31; then
		echo "skip mdf-d31: ORACLE_SKIP"
	elif ! _oracle_more; then
		echo "skip mdf-d31: the verdict is known (ORACLE_ALL=1 runs it)"
	else
		rc=0
		_oracle_run makedumpfile -c -d 31 "$f" "$w/d31" >"$w/d31.log" 2>&1 || rc=$?
		if [ "$rc" != 0 ]; then
			_oracle_fail mdf-d31 "makedumpfile -c -d 31 exited $rc: $(_oracle_errors "$w/d31.log")"
		elif ! _oracle_run makedumpfile --dump-dmesg "$w/d31" "$w/d31.txt" >"$w/d31-dmesg.log" 2>&1; then
			_oracle_fail mdf-d31 "makedumpfile --dump-dmesg of the -c -d 31 output failed: $(_oracle_errors "$w/d31-dmesg.log")"
		elif ! grep -qF "$marker" "$w/d31.txt"; then
			_oracle_fail mdf-d31 "the log of the -c -d 31 output lacks $marker"
		else
			echo "ok mdf-d31"
		fi
		rm -f "$w/d31"
	fi

	# drgn without debug info
	if _oracle_skipped drgn; then
		echo "skip drgn: ORACLE_SKIP"
	elif [ "$ORACLE_HAVE_DRGN" != 1 ]; then
		echo "skip drgn: python3-drgn not installed"
	elif ! _oracle_more; then
		echo "skip drgn: the verdict is known"
	elif [ -z "$uts" ]; then
		_oracle_fail drgn "the guest's note ($sc/vmcoreinfo-note.txt) has no SYMBOL(init_uts_ns)"
	elif _oracle_run timeout 300 /usr/bin/python3 "$t/oracle-drgn.py" "$f" "$rel" "$uts" >"$w/drgn.log" 2>&1; then
		echo "ok drgn"
	else
		_oracle_fail drgn "$(tail -n 1 "$w/drgn.log")"
	fi

	# drgn and crash with the debug vmlinux
	if [ -z "${ORACLE_VMLINUX:-}" ]; then
		echo "skip drgn-debug, crash: no debug vmlinux"
	else
		if _oracle_skipped drgn-debug; then
			echo "skip drgn-debug: ORACLE_SKIP"
		elif [ "$ORACLE_HAVE_DRGN" != 1 ]; then
			echo "skip drgn-debug: python3-drgn not installed"
		elif ! _oracle_more; then
			echo "skip drgn-debug: the verdict is known"
		elif _oracle_run timeout 300 /usr/bin/python3 "$t/oracle-drgn-debug.py" "$f" "$ORACLE_VMLINUX" "$rel" "$marker" >"$w/drgn-debug.log" 2>&1; then
			echo "ok drgn-debug"
		else
			_oracle_fail drgn-debug "$(tail -n 1 "$w/drgn-debug.log")"
		fi
		if _oracle_skipped crash; then
			echo "skip crash: ORACLE_SKIP"
		elif [ "$ORACLE_HAVE_CRASH" != 1 ]; then
			echo "skip crash: crash not installed"
		elif ! _oracle_more; then
			echo "skip crash: the verdict is known"
		else
			printf 'log\nhelp -m\nquit\n' >"$w/crash.cmds"
			rc=0
			_oracle_run timeout 300 crash -s "$ORACLE_VMLINUX" "$f" -i "$w/crash.cmds" >"$w/crash.out" 2>&1 </dev/null || rc=$?
			if ! grep -qF "$marker" "$w/crash.out"; then
				_oracle_fail crash "crash (exit $rc) printed no log with $marker: $(grep -m 2 -iE 'crash:|error|invalid|cannot' "$w/crash.out" | tr '\n' ' ')"
			elif ! grep -qE "^ +phys_base: +0*$pbhex\$" "$w/crash.out"; then
				_oracle_fail crash "help -m: $(grep -m 1 'phys_base:' "$w/crash.out" || echo 'no phys_base line'), the guest's is $pbhex"
			else
				echo "ok crash"
			fi
		fi
	fi
	rm -rf "$w"
	[ -z "$ORACLE_FAILED" ]
}

# _oracle_fail NAME WHY...: report a failed consumer
_oracle_fail() {
	local n=$1
	shift
	echo "FAIL $n: $*"
	ORACLE_FAILED="${ORACLE_FAILED:+$ORACLE_FAILED }$n"
}

# _oracle_skipped NAME: NAME is in ORACLE_SKIP
_oracle_skipped() { [[ " ${ORACLE_SKIP:-} " == *" $1 "* ]]; }

# _oracle_more: whether to run the next consumer
_oracle_more() { [ -z "$ORACLE_FAILED" ] || [ "${ORACLE_ALL:-0}" = 1 ]; }

# _oracle_errors LOG: makedumpfile's error lines, on one line
_oracle_errors() {
	tr '\r' '\n' <"$1" | grep -E "[Cc]an.t|[Ff]ailed|not supported|[Ii]nvalid|[Nn]o such|[Ee]rror" |
		grep -v '^$' | head -n 4 | tr '\n' ' '
}

# oracle_agrees FILE SCENARIO_DIR: the verdict oracle for one file: `$VMCOREFIX --check
# FILE` exits 0 exactly when oracle_consumers FILE passes. Prints what each said; returns
# 0 when they agree. Sets ORACLE_CONSUMERS_OK (1/0) and ORACLE_CHECK (--check's status).
oracle_agrees() {
	local f=$1 sc=$2 out crc=0
	ORACLE_CONSUMERS_OK=1
	out=$(oracle_consumers "$f" "$sc") || ORACLE_CONSUMERS_OK=0
	"$VMCOREFIX" --check "$f" >"${ORACLE_TMP:-$BATS_TEST_TMPDIR}/check.out" 2>&1 || crc=$?
	ORACLE_CHECK=$crc
	echo "== $f"
	sed 's/^/   /' <<<"$out"
	echo "   vmcore-fix --check: exit $crc: $(grep -v '^left alone' "${ORACLE_TMP:-$BATS_TEST_TMPDIR}/check.out" | head -n 1)"
	if [ "$ORACLE_CONSUMERS_OK" = 1 ] && [ "$crc" = 0 ]; then
		echo "   AGREE: the consumers read it, --check says healthy"
	elif [ "$ORACLE_CONSUMERS_OK" = 0 ] && [ "$crc" != 0 ]; then
		echo "   AGREE: a consumer fails ($(oracle_failed_names <<<"$out")), --check exits $crc"
	elif [ "$ORACLE_CONSUMERS_OK" = 1 ]; then
		echo "   DISAGREE: every consumer reads it, but --check exits $crc"
		return 1
	else
		echo "   DISAGREE: --check exits 0, but $(oracle_failed_names <<<"$out") failed"
		return 1
	fi
}

# oracle_failed_names: the FAIL names of oracle_consumers' output (stdin), space-separated
oracle_failed_names() {
	sed -n 's/^FAIL \([^:]*\):.*/\1/p' | tr '\n' ' ' | sed 's/ $//'
}

# oracle_fix_and_agree IN SCENARIO_DIR [OPTION...]: `$VMCOREFIX IN -o OUT OPTION...`
# (OUT in ORACLE_TMP), then oracle_agrees for IN and for OUT. Returns 0 when both agree
# (and the fix wrote OUT, or --check IN said it cannot be fixed); ORACLE_OUT is OUT,
# ORACLE_FIX its exit status, ORACLE_OUT_OK 1 when the consumers read OUT.
oracle_fix_and_agree() {
	local in=$1 sc=$2 t=${ORACLE_TMP:-$BATS_TEST_TMPDIR} bad=0 frc=0
	shift 2
	ORACLE_OUT=$t/out.$(basename "$in")
	rm -f "$ORACLE_OUT"
	oracle_agrees "$in" "$sc" || bad=1
	"$VMCOREFIX" "$in" -o "$ORACLE_OUT" "$@" >"$t/fix.out" 2>&1 || frc=$?
	ORACLE_FIX=$frc
	ORACLE_OUT_OK=0
	echo "== vmcore-fix $(basename "$in") -o OUT $*: exit $frc: $(grep -v '^left alone' "$t/fix.out" | tail -n 1)"
	if [ -e "$ORACLE_OUT" ]; then
		if oracle_agrees "$ORACLE_OUT" "$sc"; then :; else bad=1; fi
		ORACLE_OUT_OK=$ORACLE_CONSUMERS_OK
		rm -f "$ORACLE_OUT"
	elif [ "$frc" = 0 ]; then
		echo "   vmcore-fix exited 0 but wrote no $ORACLE_OUT"
		bad=1
	fi
	return "$bad"
}

# trixie_setup_file: (in a bats setup_file) make or find the Debian 13 root and its
# fixtures with tests/real/trixie.sh; sets and exports TRIXIE (the script), TRIXIE_LOG,
# TRIXIE_RC (its exit status: 77 = skip, with the reason in the log), TRIXIE_DIR (the
# fixture directory) and TRIXIE_ROOT (the root)
trixie_setup_file() {
	TRIXIE=$SRCDIR/tests/real/trixie.sh
	TRIXIE_LOG=$BATS_FILE_TMPDIR/trixie.log
	local out= rc=0
	if [ "${VMCOREFIX_SLOW_TESTS:-yes}" = no ]; then
		# make check was told to leave the slow tiers out (as make distcheck does)
		echo "trixie: SKIP: VMCOREFIX_SLOW_TESTS=no (configure --disable-slow-tests, as make distcheck does): slow tier left out" >"$TRIXIE_LOG"
		rc=77
	else
		out=$("$TRIXIE" 2>"$TRIXIE_LOG") || rc=$?
	fi
	TRIXIE_RC=$rc
	TRIXIE_DIR=${out##*$'\n'}
	TRIXIE_ROOT=
	# --root also fetches the debug vmlinux for crash (VMCOREFIX_TRIXIE_DBG=0: not)
	if [ "$rc" = 0 ]; then
		TRIXIE_ROOT=$(VMCOREFIX_TRIXIE_DBG=${VMCOREFIX_TRIXIE_DBG:-1} "$TRIXIE" --root 2>>"$TRIXIE_LOG") ||
			TRIXIE_RC=1
	fi
	export TRIXIE TRIXIE_LOG TRIXIE_RC TRIXIE_DIR TRIXIE_ROOT
}

# oracle_is_the_fix OUT IN SCENARIO_DIR [OPTION...]: OUT (made some other way, e.g.
# through a pipe) is byte for byte `$VMCOREFIX IN -o FILE OPTION...`, every consumer
# reads it and --check says healthy. Returns 0 when all hold.
oracle_is_the_fix() {
	local out=$1 in=$2 sc=$3 want=${ORACLE_TMP:-$BATS_TEST_TMPDIR}/want.$$
	shift 3
	"$VMCOREFIX" "$in" -o "$want" "$@" >/dev/null || { echo "vmcore-fix $in -o FILE $* failed"; return 1; }
	cmp "$out" "$want" || { rm -f "$want"; return 1; }
	rm -f "$want"
	oracle_agrees "$out" "$sc" || return 1
	[ "$ORACLE_CONSUMERS_OK" = 1 ] && [ "$ORACLE_CHECK" = 0 ]
}

# oracle_piped IN SCENARIO_DIR [OPTION...]: `cat IN | vmcore-fix - -o - OPTION... |
# makedumpfile -R OUT` works and OUT passes oracle_is_the_fix. Prints vmcore-fix's
# report. Returns 0 when all hold.
oracle_piped() {
	local in=$1 sc=$2 t=${ORACLE_TMP:-$BATS_TEST_TMPDIR} rc=0
	shift 2
	set -o pipefail
	cat "$in" | "$VMCOREFIX" - -o - "$@" 2>"$t/fix.err" |
		timeout 300 makedumpfile -R "$t/piped" >"$t/mdf.log" 2>&1 || rc=$?
	set +o pipefail
	cat "$t/fix.err"
	[ "$rc" -eq 0 ] || { echo "the pipeline failed (exit $rc)"; cat "$t/mdf.log"; return 1; }
	grep -q '^wrote a flattened stream to standard output$' "$t/fix.err" || return 1
	oracle_is_the_fix "$t/piped" "$in" "$sc" "$@"
}

# oracle_real_setup: (in a bats setup, after real_setup in setup_file) the oracle on this
# host's consumers over the Debian 12 fixtures: sets REAL, kver, ORACLE_RUN (empty),
# ORACLE_TMP, ORACLE_VMLINUX; skips without vmcore-fix, makedumpfile or the fixtures
oracle_real_setup() {
	[ -x "$VMCOREFIX" ] || skip "vmcore-fix not built ($VMCOREFIX)"
	command -v makedumpfile >/dev/null || skip "makedumpfile not installed"
	real_dir
	ORACLE_RUN=()
	ORACLE_TMP=$BATS_TEST_TMPDIR
	kver=$(. "$REAL/vmcoreinfo/facts.env"; echo "$KERNEL_VERSION")
	ORACLE_VMLINUX=$(debug_vmlinux "$kver") || ORACLE_VMLINUX=
	oracle_probe
}
