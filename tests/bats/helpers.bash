# helpers.bash - shared setup for the bats tests.
# make check exports VMCOREFIX, VFGEN, VFREAD, SRCDIR, BUILDDIR; default them for
# running a single file by hand from a build directory named "build".

: "${SRCDIR:=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}"
: "${BUILDDIR:=$SRCDIR/build}"
: "${VMCOREFIX:=$BUILDDIR/vmcore-fix}"
: "${VFGEN:=$SRCDIR/tests/gen/vfgen.py}"
: "${VFREAD:=$BUILDDIR/tests/tools/vfread}"
export SRCDIR BUILDDIR VMCOREFIX VFGEN VFREAD

need_binaries() {
	[ -x "$VMCOREFIX" ] || skip "vmcore-fix not built ($VMCOREFIX)"
	[ -x "$VFGEN" ] || skip "vfgen not built ($VFGEN)"
	[ -x "$VFREAD" ] || skip "vfread not built ($VFREAD)"
}

need_jq() {
	command -v jq >/dev/null || skip "jq not installed (apt-get install jq)"
}

# gen NAME SPECTEXT: write the spec to $BATS_TEST_TMPDIR/NAME.spec and make NAME.dump.
gen() {
	local name=$1 spec=$2
	printf '%s\n' "$spec" > "$BATS_TEST_TMPDIR/$name.spec"
	"$VFGEN" "$BATS_TEST_TMPDIR/$name.spec" "$BATS_TEST_TMPDIR/$name.dump"
}

# inspect_json DUMP: run --inspect --json, leave the document in $json; accept exit 0/1.
inspect_json() {
	run "$VMCOREFIX" --inspect --json "$1"
	if [ "$status" -ne 0 ] && [ "$status" -ne 1 ]; then
		echo "vmcore-fix --inspect --json $1 exited $status: $output" >&2
		return 1
	fi
	json=$output
}

# jget EXPR: evaluate a jq expression on $json (raw output).
jget() {
	jq -r "$1" <<<"$json"
}

# has_problem ID: the report in $json lists that problem id.
has_problem() {
	jq -e --arg id "$1" '.problems | map(.id) | index($id) != null' <<<"$json" >/dev/null
}

# slow_tests_off: true when make check was told to leave the slow tiers out
# (configure --disable-slow-tests, as make distcheck does, or
# VMCOREFIX_SLOW_TESTS=no); prints the reason a skip gives.
slow_tests_off() {
	[ "${VMCOREFIX_SLOW_TESTS:-yes}" = no ] || return 1
	echo "VMCOREFIX_SLOW_TESTS=no (configure --disable-slow-tests, as make distcheck does): slow tier left out"
}

# The real-QEMU fixtures: sets REAL to the cache dir, or skips.
real_setup() {
	local out rc=0
	if slow_tests_off >/dev/null; then
		echo "make-dumps: SKIP: $(slow_tests_off)" >"$BATS_FILE_TMPDIR/make-dumps.log"
		return 77
	fi
	out=$("$SRCDIR/tests/real/make-dumps.sh" 2>"$BATS_FILE_TMPDIR/make-dumps.log") || rc=$?
	if [ "$rc" = 77 ]; then
		return 77
	elif [ "$rc" != 0 ]; then
		cat "$BATS_FILE_TMPDIR/make-dumps.log" >&2
		return 1
	fi
	printf '%s\n' "$out" | tail -n 1 > "$BATS_FILE_TMPDIR/real-dir"
}

# debug_vmlinux KVER: the path of KVER's debug vmlinux (installed, or unpacked into the
# cache by tests/real/debug-vmlinux.sh, which the test command's install-deps runs), or
# nothing (status 1) when there is none; never fetches.
debug_vmlinux() {
	VMCOREFIX_DBG=0 "$SRCDIR/tests/real/debug-vmlinux.sh" "$1" 2>/dev/null
}

real_dir() {
	local why
	if [ ! -s "$BATS_FILE_TMPDIR/real-dir" ]; then
		why=$(grep 'SKIP:' "$BATS_FILE_TMPDIR/make-dumps.log" 2>/dev/null | tail -n 1)
		skip "real QEMU fixtures unavailable (tests/real/make-dumps.sh)${why:+: $why}"
	fi
	REAL=$(cat "$BATS_FILE_TMPDIR/real-dir")
}

# same_read NAME PADDR LEN: vfread of NAME.dump and vfgen --expect of NAME.spec
# agree on the bytes and on the exit status (0, 3 not present, 4 excluded).
same_read() {
	local name=$1 addr=$2 len=$3 rc_e=0 rc_r=0
	"$VFGEN" --expect "$BATS_TEST_TMPDIR/$name.spec" "$addr" "$len" > "$BATS_TEST_TMPDIR/expect" || rc_e=$?
	"$VFREAD" "$BATS_TEST_TMPDIR/$name.dump" "$addr" "$len" > "$BATS_TEST_TMPDIR/got" 2>"$BATS_TEST_TMPDIR/got.err" || rc_r=$?
	if [ "$rc_e" != "$rc_r" ]; then
		echo "$name @$addr+$len: vfgen --expect exit $rc_e, vfread exit $rc_r: $(cat "$BATS_TEST_TMPDIR/got.err")" >&2
		return 1
	fi
	if [ "$rc_r" = 0 ] && ! cmp -s "$BATS_TEST_TMPDIR/expect" "$BATS_TEST_TMPDIR/got"; then
		echo "$name @$addr+$len: bytes differ" >&2
		cmp "$BATS_TEST_TMPDIR/expect" "$BATS_TEST_TMPDIR/got" | head -1 >&2
		return 1
	fi
}

# consumers_ok FILE MARKER: makedumpfile --dump-dmesg of FILE finds MARKER, and
# makedumpfile -c -d 31 filters FILE into a dump whose log still has it.
consumers_ok() {
	local f=$1 marker=$2 t=$BATS_TEST_TMPDIR/mdf.$RANDOM
	makedumpfile --dump-dmesg "$f" "$t.txt" >/dev/null 2>&1 || { echo "--dump-dmesg failed on $f"; return 1; }
	grep -q "$marker" "$t.txt" || { echo "no marker in the log of $f"; return 1; }
	makedumpfile -c -d 31 "$f" "$t.d31" > "$t.log" 2>&1 || { echo "-c -d 31 failed on $f:"; tail -3 "$t.log"; return 1; }
	makedumpfile --dump-dmesg "$t.d31" "$t.d31.txt" >/dev/null 2>&1
	grep -q "$marker" "$t.d31.txt" || { echo "no marker in the filtered $f"; return 1; }
	rm -f "$t".*
}

# Test tooling: drop the VMCOREINFO note from a copy of a real dump (ELF: the
# PT_NOTE ends before it; kdump: size_note ends before it and offset/size_vmcoreinfo
# are cleared), so the fix must take the note from guest memory.
strip_note() {  # IN OUT
	cp "$1" "$2"
	chmod u+w "$2"
	json=$("$VMCOREFIX" --inspect --json "$1" || true)
	hdr=$(jget '.notes[] | select(.name == "VMCOREINFO") | .offset')
	if [ "$(jget .format)" = elf ]; then
		/usr/bin/python3 - "$2" "$hdr" "$(jget .elf.e_phoff)" <<'PY'
import struct, sys
path, hdr, phoff = sys.argv[1], int(sys.argv[2], 16), int(sys.argv[3], 16)
with open(path, "r+b") as f:
    f.seek(phoff)
    ph = bytearray(f.read(56))
    typ, flags, off = struct.unpack_from("<IIQ", ph)
    assert typ == 4
    struct.pack_into("<QQ", ph, 32, hdr - off, hdr - off)
    f.seek(phoff)
    f.write(ph)
PY
	else
		/usr/bin/python3 - "$2" "$hdr" "$(jget .kdump.offset_note)" <<'PY'
import struct, sys
path, hdr, note = sys.argv[1], int(sys.argv[2], 16), int(sys.argv[3], 16)
with open(path, "r+b") as f:
    f.seek(0x1ac)
    bs, = struct.unpack("<I", f.read(4))
    f.seek(bs + 0x20)
    f.write(struct.pack("<QQQQ", 0, 0, note, hdr - note))
PY
	fi
}

# crash_sees DUMP SCENARIO: crash opens DUMP, `log` has the scenario's marker and
# `help -m` reports its phys_base.
crash_sees() {
	local dump=$1 sc=$2 marker pb
	marker=$(. "$REAL/$sc/facts.env"; echo "$MARKER")
	pb=$(. "$REAL/$sc/facts.env"; printf '%x' "$PHYS_BASE_HEX")
	printf 'log\nhelp -m\nquit\n' > "$BATS_TEST_TMPDIR/cmds"
	timeout 300 crash -s "$VMLINUX" "$dump" -i "$BATS_TEST_TMPDIR/cmds" \
		> "$BATS_TEST_TMPDIR/crash.out" 2>&1 < /dev/null
	grep -q "$marker" "$BATS_TEST_TMPDIR/crash.out"
	grep -E "^ +phys_base: +0*$pb\$" "$BATS_TEST_TMPDIR/crash.out"
}

# vfgen lines: a VMCOREINFO text whose kernel text (_stext with phys_base) lies inside
# 4 MiB of RAM, so a note found by the scan passes the kernel-text check
KTEXT_OK="vmcoreinfo-line OSRELEASE=6.1.0-56-amd64
vmcoreinfo-line PAGESIZE=4096
vmcoreinfo-line SYMBOL(_stext)=ffffffff80100000
vmcoreinfo-line SYMBOL(swapper_pg_dir)=ffffffff80200000
vmcoreinfo-line SYMBOL(init_uts_ns)=ffffffff80103000
vmcoreinfo-line OFFSET(uts_namespace.name)=4
vmcoreinfo-line NUMBER(phys_base)=0"

# uts_hex SYSNAME NODENAME RELEASE VERSION MACHINE DOMAINNAME: a struct new_utsname
# (six 65-byte fields) as hex, for a spec's "bytes" line
uts_hex() {
	local f
	for f in "$@"; do
		printf '%s' "$f" | od -An -v -tx1 | tr -d ' \n'
		printf '%0*d' $(( (65 - ${#f}) * 2 )) 0
	done
}
