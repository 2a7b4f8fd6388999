# arch-helpers.bash - helpers for the bats files of the foreign-architecture real tier
# (tests/real/make-arch-dumps.sh). Load with:   load arch-helpers
#
#   setup_file() { arch_setup_file aarch64; }   # runs make-arch-dumps.sh once per file
#   setup()      { arch_setup; }                # skips (exit 77, reason shown) or fails
#
# After arch_setup: ARCH_DIR is the cache directory holding vmcoreinfo/ and nodevice/,
# ARCH_VMLINUX the guest's debug vmlinux (empty when it could not be had),
# VMCOREFIX the binary. arch_scenario NAME cds into a scenario and sources its facts.env.
# shellcheck disable=SC1091,SC2034

arch_setup_file() {
	ARCH_NAME=$1
	ARCH_SRCDIR=${SRCDIR:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}
	ARCH_LOG=$BATS_FILE_TMPDIR/make-arch-dumps.log
	local out rc=0
	out=$("$ARCH_SRCDIR/tests/real/make-arch-dumps.sh" "$ARCH_NAME" 2>"$ARCH_LOG") || rc=$?
	ARCH_RC=$rc
	ARCH_DIR=${out##*$'\n'}
	ARCH_VMLINUX=
	if [ "$rc" = 0 ] && [ -f "$ARCH_DIR/generation.env" ]; then
		ARCH_VMLINUX=$(. "$ARCH_DIR/generation.env" && echo "$DBG_VMLINUX")
		[ -r "$ARCH_VMLINUX" ] || ARCH_VMLINUX=
	fi
	export ARCH_NAME ARCH_SRCDIR ARCH_LOG ARCH_RC ARCH_DIR ARCH_VMLINUX
}

arch_setup() {
	if [ "$ARCH_RC" = 77 ]; then
		skip "$(grep 'SKIP:' "$ARCH_LOG" | tail -n 1)"
	fi
	if [ "$ARCH_RC" != 0 ]; then
		echo "tests/real/make-arch-dumps.sh $ARCH_NAME failed (exit $ARCH_RC); its log ends:" >&2
		tail -n 30 "$ARCH_LOG" >&2
		return 1
	fi
	[ -n "$ARCH_DIR" ] || ARCH_DIR=/nonexistent
	[ -f "$ARCH_DIR/COMPLETE" ] || {
		echo "make-arch-dumps.sh printed '$ARCH_DIR', which is not a complete cache directory" >&2
		return 1
	}
	VMCOREFIX=${VMCOREFIX:-$ARCH_SRCDIR/build/vmcore-fix}
	[ -x "$VMCOREFIX" ] || { echo "vmcore-fix not built ($VMCOREFIX)" >&2; return 1; }
	command -v jq >/dev/null || skip "jq not installed"
	ELFNOTES=$ARCH_SRCDIR/tests/real/elfnotes.py
	T=$BATS_TEST_TMPDIR
}

# arch_scenario NAME: cd into the scenario directory and source its facts.env
arch_scenario() {
	[ -d "$ARCH_DIR/$1" ] || { echo "no $1 scenario in $ARCH_DIR" >&2; return 1; }
	cd "$ARCH_DIR/$1" || return 1
	. ./facts.env
}

# need_drgn: python3-drgn is importable, else skip (saying so)
need_drgn() {
	/usr/bin/python3 -c 'import drgn' 2>/dev/null || skip "python3-drgn not installed: no consumer for $ARCH_NAME on this machine"
}

# need_vmlinux: the guest's debug vmlinux is there, else skip
need_vmlinux() {
	need_drgn
	[ -n "$ARCH_VMLINUX" ] || skip "no debug vmlinux for $ARCH_NAME (make-arch-dumps.sh fetches it unless VMCOREFIX_DBG=0; see its log)"
}

# drgn_reads FILE: drgn with the debug vmlinux reads init_uts_ns.name.release (must be
# OSRELEASE of the current scenario) and finds MARKER in the printk records; prints what
# it got; returns 0 exactly when both hold
drgn_reads() {
	local out rc=0
	out=$(timeout 300 /usr/bin/python3 - "$1" "$ARCH_VMLINUX" "$MARKER" 2>&1 <<'PY'
import sys, drgn
from drgn.helpers.linux.printk import get_printk_records
p = drgn.Program()
p.set_core_dump(sys.argv[1])
p.load_debug_info([sys.argv[2]])
print("platform", p.platform.arch.name)
print("release", p["init_uts_ns"].name.release.string_().decode())
print("marker", any(sys.argv[3].encode() in r.text for r in get_printk_records(p)))
PY
) || rc=$?
	echo "drgn on $1 (exit $rc):"
	echo "$out" | tail -n 5
	[ "$rc" = 0 ] && [[ "$out" == *"release $OSRELEASE"* ]] && [[ "$out" == *"marker True"* ]]
}

# drgn_nodebug_reads FILE: drgn without debug info opens FILE as a Linux kernel core,
# UTS_RELEASE is OSRELEASE, and init_uts_ns read at SYMBOL(init_uts_ns) of the guest's
# note (through the guest's page tables) holds "Linux" and OSRELEASE
drgn_nodebug_reads() {
	local out rc=0 uts
	uts=$(sed -n 's/^SYMBOL(init_uts_ns)=//p' vmcoreinfo-note.txt)
	out=$(timeout 300 /usr/bin/python3 - "$1" "$uts" 2>&1 <<'PY'
import sys, drgn
p = drgn.Program()
p.set_core_dump(sys.argv[1])
print("linux", bool(p.flags & drgn.ProgramFlags.IS_LINUX_KERNEL))
print("UTS_RELEASE", p["UTS_RELEASE"].string_().decode())
b = p.read(int(sys.argv[2], 16), 195)
print("init_uts_ns", b[0:65].split(b"\0")[0].decode(), b[130:195].split(b"\0")[0].decode())
PY
) || rc=$?
	echo "drgn (no debug info) on $1 (exit $rc):"
	echo "$out" | tail -n 4
	[ "$rc" = 0 ] && [[ "$out" == *"linux True"* ]] && [[ "$out" == *"UTS_RELEASE $OSRELEASE"* ]] &&
		[[ "$out" == *"init_uts_ns Linux $OSRELEASE"* ]]
}

# verdict FILE: the verdict rule for this architecture, whose only consumer here is drgn:
# `vmcore-fix --check FILE` exits 0 exactly when drgn (with the debug vmlinux) reads FILE
verdict() {
	local c=0 d=0
	"$VMCOREFIX" --check "$1" >"$T/check.out" 2>&1 || c=$?
	drgn_reads "$1" || d=1
	echo "vmcore-fix --check: exit $c: $(head -n 2 "$T/check.out")"
	if [ "$d" = 0 ] && [ "$c" = 0 ]; then
		echo "AGREE: drgn reads it, --check says healthy"
	elif [ "$d" = 1 ] && [ "$c" != 0 ]; then
		echo "AGREE: drgn cannot read it, --check exits $c"
	elif [ "$d" = 0 ]; then
		echo "DISAGREE: drgn reads it, but --check exits $c"
		return 1
	else
		echo "DISAGREE: --check exits 0, but drgn cannot read it"
		return 1
	fi
}

# kdump_field FILE OFFSET SIZE: a little-endian integer of the file, 0x hex
kdump_field() {
	local v
	v=$(od -An -v -j "$2" -N "$3" -t "x$3" --endian=little "$1" | tr -d ' \n')
	printf '0x%x\n' "$((0x$v))"
}

# kdump_uts FILE INDEX: field INDEX (0 sysname .. 4 machine) of the kdump header's utsname
kdump_uts() {
	dd if="$1" bs=1 skip=$((12 + 65 * $2)) count=65 status=none | tr -d '\0'
}
