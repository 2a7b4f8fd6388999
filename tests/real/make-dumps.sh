#!/bin/bash
# make-dumps.sh - build (once) and cache real QEMU guest memory dumps for the tests.
#
# Boots the host's Debian kernel with a busybox initramfs under qemu-system-x86_64 (TCG,
# q35, 512 MiB, KASLR on), records what the guest says about its VMCOREINFO note, takes
# dumps over QMP (ELF, kdump-zlib, a migration stream) and makes makedumpfile variants.
# See tests/real/README.md for every file produced.
#
# Usage: make-dumps.sh [--force] [--prune]
#   --force   regenerate even when the cache is complete (also VMCOREFIX_REAL_FORCE=1)
#   --prune   afterwards, delete other cache keys under the cache root
# Environment:
#   VMCOREFIX_REAL_CACHE       cache root (default /var/cache/vmcore-fix/real)
#   VMCOREFIX_KERNEL_VERSION   guest kernel version (default: newest /boot/vmlinuz-*)
#   VMCOREFIX_REAL_RAM_MB      guest RAM in MiB (default 512; part of the cache key)
#   VMCOREFIX_REAL_BOOT_TIMEOUT seconds to wait for the guest's READY line (default 240)
#   VMCOREFIX_REAL_KEEP_FAILED=1 keep the half-made directories of a failed run
#   QEMU                        the QEMU binary (default qemu-system-x86_64)
#
# Prints the cache directory (the one holding the scenario directories) as the last line
# of standard output; everything else goes to standard error. Exit status: 0 done,
# 77 a needed program is missing (the message says what to install), 1 failure.
set -euo pipefail
exec 3>&1 1>&2

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=/usr/bin/python3
QEMU=${QEMU:-qemu-system-x86_64}
RAM_MB=${VMCOREFIX_REAL_RAM_MB:-512}
BOOT_TIMEOUT=${VMCOREFIX_REAL_BOOT_TIMEOUT:-240}
FORCE=${VMCOREFIX_REAL_FORCE:-0}
PRUNE=0
# Files whose content defines the fixtures (their hash is part of the cache key).
KEY_FILES="make-dumps.sh guest-init.sh qmp.py elfnotes.py fixup-for-makedumpfile.py"
SCENARIOS="vmcoreinfo nodevice nofwcfg"

log() { echo "make-dumps: $*"; }
skip() { echo "make-dumps: SKIP: $*"; exit 77; }
die() { echo "make-dumps: ERROR: $*"; exit 1; }

for a in "$@"; do
	case "$a" in
	--force) FORCE=1 ;;
	--prune) PRUNE=1 ;;
	-h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&3; exit 0 ;;
	*) die "unknown argument $a (see --help)" ;;
	esac
done

# ------------------------------------------------------------------ what we need
INSTALL_HINT="or run tests/real/install-deps.sh as root for everything this tier needs"
command -v "$QEMU" >/dev/null || skip "$QEMU not found: apt-get install qemu-system-x86, $INSTALL_HINT"
[ -x "$PY" ] || skip "$PY not found: apt-get install python3"
if [ -n "${VMCOREFIX_KERNEL_VERSION:-}" ]; then
	KVER=$VMCOREFIX_KERNEL_VERSION
else
	KVER=$(find /boot -maxdepth 1 -name 'vmlinuz-*' -printf '%f\n' 2>/dev/null | sed 's/^vmlinuz-//' | sort -V | tail -n 1)
fi
if [ -z "$KVER" ] || [ ! -e "/boot/vmlinuz-$KVER" ]; then
	skip "no guest kernel /boot/vmlinuz-${KVER:-*}: apt-get install linux-image-amd64, $INSTALL_HINT"
fi
KERNEL=/boot/vmlinuz-$KVER
[ -r "$KERNEL" ] || skip "$KERNEL is not readable by $(id -un) (Debian makes it 0600): run as root"
[ -d "/lib/modules/$KVER" ] || skip "/lib/modules/$KVER missing: reinstall linux-image-$KVER"
BUSYBOX=
for b in /bin/busybox /usr/bin/busybox; do [ -x "$b" ] && { BUSYBOX=$b; break; }; done
[ -n "$BUSYBOX" ] || skip "busybox not found: apt-get install busybox-static"
# The initramfs has no libc: busybox must be static (no PT_INTERP program header).
"$PY" - "$BUSYBOX" <<'EOF' || skip "$BUSYBOX is dynamically linked: apt-get install busybox-static"
import struct, sys
d = open(sys.argv[1], "rb").read(65536)
phoff, = struct.unpack_from("<Q", d, 0x20); esz, num = struct.unpack_from("<HH", d, 0x36)
sys.exit(any(struct.unpack_from("<I", d, phoff + i * esz)[0] == 3 for i in range(num)))
EOF
for p in makedumpfile:makedumpfile cpio:cpio gzip:gzip modinfo:kmod sha256sum:coreutils; do
	command -v "${p%%:*}" >/dev/null || skip "${p%%:*} not found: apt-get install ${p#*:}, $INSTALL_HINT"
done

QEMU_VERSION_FULL=$("$QEMU" --version | head -n 1)
QEMU_VERSION=$(sed -n 's/^QEMU emulator version \([0-9][0-9.]*\).*/\1/p' <<<"$QEMU_VERSION_FULL")
[ -n "$QEMU_VERSION" ] || die "cannot parse the QEMU version from: $QEMU_VERSION_FULL"
MDF_VERSION=$(makedumpfile -v 2>&1 | sed -n 's/^makedumpfile: version \([^ ]*\).*/\1/p')

# ------------------------------------------------------------------ cache key and lock
SCRIPT_HASH=$( (cd "$HERE" && for f in $KEY_FILES; do echo "== $f"; cat "$f"; done
	echo "== makedumpfile $MDF_VERSION"; echo "== qemu $QEMU_VERSION_FULL") | sha256sum | cut -c1-12)
KEY=${KVER}_qemu-${QEMU_VERSION}_ram${RAM_MB}_${SCRIPT_HASH}

if [ -n "${VMCOREFIX_REAL_CACHE:-}" ]; then
	ROOT=$VMCOREFIX_REAL_CACHE
	mkdir -p "$ROOT" 2>/dev/null || die "cannot create cache root $ROOT"
else
	ROOT=/var/cache/vmcore-fix/real
	if ! mkdir -p "$ROOT" 2>/dev/null || [ ! -w "$ROOT" ]; then
		ROOT=${XDG_CACHE_HOME:-$HOME/.cache}/vmcore-fix/real
		log "/var/cache/vmcore-fix/real is not writable; using $ROOT"
		mkdir -p "$ROOT"
	fi
fi
ROOT=$(cd "$ROOT" && pwd)
DEST=$ROOT/$KEY
STAMP=$DEST/COMPLETE

if [ "$FORCE" != 1 ] && [ -f "$STAMP" ]; then
	log "cached: $DEST"
	echo "$DEST" >&3
	exit 0
fi

# One generator per key at a time (the bats files may run in parallel).
if command -v flock >/dev/null; then
	exec 9>"$ROOT/.lock-$KEY"
	if ! flock -n 9; then
		log "another make-dumps.sh is generating $KEY; waiting for it"
		flock -w 1800 9 || die "timed out waiting for the lock $ROOT/.lock-$KEY"
	fi
fi
if [ "$FORCE" != 1 ] && [ -f "$STAMP" ]; then
	log "cached: $DEST"
	echo "$DEST" >&3
	exit 0
fi
# Leftovers of interrupted runs for this key (we hold its lock: nobody uses them).
rm -rf "$ROOT/.tmp-$KEY".* "$ROOT/.old-$KEY".*

OUT=$(mktemp -d "$ROOT/.tmp-$KEY.XXXXXX")
WORK=$(mktemp -d "${TMPDIR:-/tmp}/vmcorefix-real.XXXXXX") # short paths for the QMP sockets
QEMU_PID=
cleanup() {
	local rc=$?
	if [ -n "$QEMU_PID" ] && kill -0 "$QEMU_PID" 2>/dev/null; then
		kill "$QEMU_PID" 2>/dev/null || true
		wait "$QEMU_PID" 2>/dev/null || true
	fi
	if [ "$rc" != 0 ] && [ "${VMCOREFIX_REAL_KEEP_FAILED:-0}" = 1 ]; then
		log "kept for inspection: $OUT and $WORK"
	else
		rm -rf "$WORK"
		[ -n "${OUT:-}" ] && rm -rf "$OUT"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

T_START=$(date +%s.%N)
elapsed() { awk -v a="$T_START" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
log "generating $KEY (kernel $KVER, QEMU $QEMU_VERSION, ${RAM_MB} MiB) into $OUT"

# ------------------------------------------------------------------ guest modules
# qemu_fw_cfg and its dependencies, dependencies first, decompressed on the host
# (busybox insmod cannot read .ko.xz/.ko.zst/.ko.gz).
MODDIR=$WORK/modules
mkdir -p "$MODDIR"
: >"$WORK/modules.order"
FWCFG_BUILTIN=0
if grep -qE '(^|/)qemu_fw_cfg\.ko' "/lib/modules/$KVER/modules.builtin" 2>/dev/null; then
	FWCFG_BUILTIN=1
fi
add_module() { # add_module NAME: copy NAME and (first) its dependencies into $MODDIR
	local name=$1 path deps d base
	grep -qx "$name.ko" "$WORK/modules.order" && return 0
	path=$(modinfo -k "$KVER" -n "$name" 2>/dev/null) || path=
	if [ -z "$path" ] || [ ! -f "$path" ]; then
		case "$path" in *builtin*) return 0 ;; esac
		die "kernel module $name not found for $KVER (modinfo -k $KVER -n $name)"
	fi
	deps=$(modinfo -k "$KVER" -F depends "$name" 2>/dev/null | tr ',' ' ')
	for d in $deps; do add_module "$d"; done
	base=$name.ko
	case "$path" in
	*.ko) cp "$path" "$MODDIR/$base" ;;
	*.ko.xz) xz -dc "$path" >"$MODDIR/$base" ;;
	*.ko.zst) zstd -qdc "$path" >"$MODDIR/$base" ;;
	*.ko.gz) gzip -dc "$path" >"$MODDIR/$base" ;;
	*) die "unknown module file type: $path" ;;
	esac
	echo "$base" >>"$WORK/modules.order"
	log "guest module $base (from $path${deps:+, needs $deps})"
}
if [ "$FWCFG_BUILTIN" = 1 ]; then
	log "qemu_fw_cfg is built into $KVER: the nofwcfg scenario cannot be made"
	SCENARIOS="vmcoreinfo nodevice"
else
	add_module qemu_fw_cfg
fi

# ------------------------------------------------------------------ helpers
randhex() { od -An -N8 -tx1 /dev/urandom | tr -d ' \n'; }

# section FILE NAME: the lines the guest printed between its BEGIN/END NAME delimiters
section() {
	tr -d '\r' <"$1" | awk -v n="$2" '
		$0 == "=====VMCOREFIX-END " n "=====" { on = 0 }
		on { print }
		$0 == "=====VMCOREFIX-BEGIN " n "=====" { on = 1 }'
}

build_initramfs() { # build_initramfs DIR MARKER FWCFG -> DIR/initrd.gz
	local dir=$1 root=$1/root
	mkdir -p "$root/bin" "$root/modules"
	cp "$BUSYBOX" "$root/bin/busybox"
	install -m 0755 "$HERE/guest-init.sh" "$root/init"
	printf 'MARKER=%s\nFWCFG=%s\n' "$2" "$3" >"$root/vmcorefix.conf"
	cp "$WORK/modules.order" "$root/modules.order"
	if [ -s "$WORK/modules.order" ]; then cp "$MODDIR"/*.ko "$root/modules/"; fi
	(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -1 >"$dir/initrd.gz"
}

boot_guest() { # boot_guest DIR DEVICE(0|1) [CPU] ; sets QEMU_PID
	local dir=$1 device=$2 cpu=${3:-}
	local -a cmd=("$QEMU" -machine q35 -accel tcg -m "$RAM_MB" -smp 1
		-kernel "$KERNEL" -initrd "$dir/initrd.gz"
		-append "console=ttyS0 panic=-1 oops=panic"
		-display none -monitor none -serial "file:$dir/console.log"
		-qmp "unix:$dir/qmp.sock,server=on,wait=off" -no-reboot)
	[ "$device" = 1 ] && cmd+=(-device vmcoreinfo)
	[ -n "$cpu" ] && cmd+=(-cpu "$cpu")
	printf '%q ' "${cmd[@]}" >"$dir/qemu-cmdline.txt"
	echo >>"$dir/qemu-cmdline.txt"
	: >"$dir/console.log"
	"${cmd[@]}" </dev/null >"$dir/qemu.log" 2>&1 9>&- &
	QEMU_PID=$!
	local t0=$SECONDS
	while ! grep -q '^VMCOREFIX-READY' "$dir/console.log" 2>/dev/null; do
		if ! kill -0 "$QEMU_PID" 2>/dev/null; then
			wait "$QEMU_PID" 2>/dev/null || true
			QEMU_PID=
			echo "---- QEMU output:"; cat "$dir/qemu.log"
			echo "---- console log tail:"; tail -n 40 "$dir/console.log" | tr -d '\r'
			die "QEMU exited before the guest printed VMCOREFIX-READY"
		fi
		if [ $((SECONDS - t0)) -ge "$BOOT_TIMEOUT" ]; then
			echo "---- console log tail:"; tail -n 40 "$dir/console.log" | tr -d '\r'
			die "the guest did not print VMCOREFIX-READY within ${BOOT_TIMEOUT}s"
		fi
		sleep 0.2
	done
	log "guest ready after $((SECONDS - t0)) s"
}

# mdf_try LOGNAME CMD... : run makedumpfile, log its output; returns its status
mdf_try() {
	local name=$1 rc=0
	shift
	{ echo "\$ $*"; "$@" 2>&1; } >>"$S/makedumpfile.log" 2>&1 || rc=$?
	echo "(exit $rc)" >>"$S/makedumpfile.log"
	return "$rc"
}

# mdf_errors: the error lines of the last command in makedumpfile.log, on one line
mdf_errors() {
	awk '/^\$ / { n = 0; delete l } { l[++n] = $0 } END {
		for (i = 1; i <= n; i++) if (l[i] ~ /[Cc]an.t|[Ff]ailed|not supported|[Ii]nvalid/ && l[i] !~ /^\(exit/) {
			gsub(/\r/, " ", l[i]); sub(/.*\|  */, "", l[i]); out = out (out ? " / " : "") l[i] }
		print out }' "$S/makedumpfile.log"
}

# ------------------------------------------------------------------ one scenario
gen_scenario() { # gen_scenario NAME DEVICE(0|1) FWCFG(0|1) [CPU MINIMAL(0|1) WANT_L5(0|1)]
	# CPU: a QEMU -cpu model (default: QEMU's); MINIMAL=1: only the ELF and kdump-zlib
	# dumps (no migration stream, no makedumpfile variants); WANT_L5=1: the guest must run
	# with 5-level page tables (NUMBER(pgtable_l5_enabled)=1 in its note).
	local name=$1 device=$2 fwcfg=$3 cpu=${4:-} minimal=${5:-0} want_l5=${6:-0}
	local dir=$WORK/$name t0=$SECONDS marker
	S=$OUT/$name
	mkdir -p "$dir" "$S"
	marker=VMCOREFIX-MARKER-$(randhex)
	log "[$name] device=$device fwcfg=$fwcfg${cpu:+ cpu=$cpu} marker=$marker"
	build_initramfs "$dir" "$marker" "$fwcfg"
	boot_guest "$dir" "$device" "$cpu"

	# Stop the guest first: every dump and the stream then hold the same memory.
	local -a stream=(migrate "$S/migration.stream") pipes=()
	[ "$minimal" = 1 ] && stream=()
	# QEMU writing into a pipe (a fifo read by cat), as `vmcore-fix -` reads it:
	# dump.elf.pipe and dump.kdump-zlib.pipe (a kdump into a pipe is always
	# flattened; into a file too, unless QEMU 8.2+ is asked to reassemble it)
	local -a readers=()
	if [ "$minimal" = 0 ] && [ "$device" = 1 ] && [ "$fwcfg" = 1 ]; then
		local f
		for f in elf kdump-zlib; do
			mkfifo "$dir/$f.fifo"
			cat "$dir/$f.fifo" >"$S/dump.$f.pipe" &
			readers+=($!)
			pipes+=(dump "$f" "$dir/$f.fifo")
		done
	fi
	"$PY" "$HERE/qmp.py" --timeout 600 --log "$S/qmp.log" "$dir/qmp.sock" \
		stop \
		dump elf "$S/dump.elf" \
		dump kdump-zlib "$S/dump.kdump-zlib.flat" \
		"${pipes[@]}" \
		"${stream[@]}" \
		quit || die "[$name] QMP session failed (see $S/qmp.log)"
	wait "$QEMU_PID" || true
	QEMU_PID=
	local r
	for r in "${readers[@]}"; do
		wait "$r" || die "[$name] reading QEMU's dump from a fifo failed"
	done
	if [ "${#readers[@]}" -gt 0 ]; then
		[ "$(head -c 12 "$S/dump.kdump-zlib.pipe")" = makedumpfile ] ||
			die "[$name] QEMU's kdump written to a pipe is not flattened"
		[ "$(head -c 4 "$S/dump.elf.pipe" | od -An -tx1 | tr -d ' ')" = 7f454c46 ] ||
			die "[$name] QEMU's ELF written to a pipe is not ELF"
	fi
	cp "$dir/qemu-cmdline.txt" "$S/"
	tr -d '\r' <"$dir/console.log" >"$S/console.log"

	# What the guest printed.
	section "$S/console.log" vmcoreinfo >"$S/guest-vmcoreinfo.txt"
	section "$S/console.log" iomem >"$S/iomem.txt"
	section "$S/console.log" osrelease >"$S/osrelease.txt"
	section "$S/console.log" kallsyms >"$S/kallsyms.txt"
	echo "$marker" >"$S/marker.txt"
	local rawhex
	rawhex=$(section "$S/console.log" fwcfg-vmcoreinfo-raw | tr -d ' \n')
	if [ -n "$rawhex" ]; then
		"$PY" -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(sys.argv[1]))' "$rawhex" >"$S/fwcfg-vmcoreinfo.raw"
	fi
	section "$S/console.log" dmesg-marker | grep -qF "$marker" ||
		die "[$name] the guest's own dmesg lacks the marker (console.log)"
	[ -s "$S/guest-vmcoreinfo.txt" ] || die "[$name] the guest printed no /sys/kernel/vmcoreinfo"
	local vpaddr vsize
	read -r vpaddr vsize <"$S/guest-vmcoreinfo.txt"
	# The kernel prints "%pa %x": both hex; the size has no 0x prefix.
	VMCI_PADDR=$(printf '0x%x' "$vpaddr")
	VMCI_SIZE=$(printf '0x%x' "0x$vsize")

	# QEMU writes kdump in the makedumpfile flattened form: check, then reassemble.
	[ "$(head -c 12 "$S/dump.kdump-zlib.flat")" = makedumpfile ] ||
		die "[$name] dump.kdump-zlib.flat does not start with the flattened signature"
	makedumpfile -R "$S/dump.kdump-zlib" <"$S/dump.kdump-zlib.flat" >"$dir/rearrange.log" 2>&1 ||
		{ cat "$dir/rearrange.log"; die "[$name] makedumpfile -R failed"; }
	[ "$(head -c 8 "$S/dump.kdump-zlib")" = "KDUMP   " ] || die "[$name] dump.kdump-zlib lacks KDUMP signature"
	[ "$minimal" = 1 ] || [ "$(head -c 4 "$S/migration.stream")" = QEVM ] || die "[$name] migration.stream lacks QEVM magic"

	# The guest's VMCOREINFO note text: from the dump's note when QEMU embedded one, else
	# read from guest RAM at the address the guest printed (it is there in every case).
	local note_in_dump=0
	if "$PY" "$HERE/elfnotes.py" --vmcoreinfo "$S/dump.elf" >"$S/vmcoreinfo-note.txt" 2>/dev/null; then
		note_in_dump=1
		"$PY" "$HERE/elfnotes.py" --phys "$VMCI_PADDR" "$VMCI_SIZE" "$S/dump.elf" >"$dir/ram-note.txt"
		cmp -s "$dir/ram-note.txt" "$S/vmcoreinfo-note.txt" ||
			log "[$name] note: the dump's VMCOREINFO note differs from the one in guest RAM"
	else
		"$PY" "$HERE/elfnotes.py" --phys "$VMCI_PADDR" "$VMCI_SIZE" "$S/dump.elf" >"$S/vmcoreinfo-note.txt" ||
			die "[$name] no VMCOREINFO note in guest RAM at $VMCI_PADDR"
	fi
	# Each scenario must show what it exists for (else, e.g., a failed insmod would turn
	# "vmcoreinfo" silently into a copy of "nofwcfg").
	if [ "$device" = 1 ] && [ "$fwcfg" = 1 ]; then
		[ -s "$S/fwcfg-vmcoreinfo.raw" ] ||
			die "[$name] the guest has no fw_cfg etc/vmcoreinfo entry (did insmod qemu_fw_cfg fail? see console.log)"
		[ "$note_in_dump" = 1 ] || die "[$name] QEMU did not put the guest's VMCOREINFO note into dump.elf"
	else
		[ "$note_in_dump" = 0 ] || die "[$name] unexpected: QEMU put a VMCOREINFO note into dump.elf"
	fi
	local phys_base kernoff osrel l5
	phys_base=$(sed -n 's/^NUMBER(phys_base)=//p' "$S/vmcoreinfo-note.txt")
	l5=$(sed -n 's/^NUMBER(pgtable_l5_enabled)=//p' "$S/vmcoreinfo-note.txt")
	if [ "$want_l5" = 1 ] && [ "$l5" != 1 ]; then
		die "[$name] the guest runs without 5-level paging: its note has NUMBER(pgtable_l5_enabled)=${l5:-(none)}"
	fi
	kernoff=$(sed -n 's/^KERNELOFFSET=//p' "$S/vmcoreinfo-note.txt")
	osrel=$(sed -n 's/^OSRELEASE=//p' "$S/vmcoreinfo-note.txt")
	[ "$osrel" = "$(cat "$S/osrelease.txt")" ] || die "[$name] note OSRELEASE '$osrel' != uname -r"

	# Cross-check from the guest's own view: phys_base = pa(_text) - (_text - __START_KERNEL_map).
	local text_va kcode_pa guest_pb
	text_va=$(awk '$3 == "_text" { print $1 }' "$S/kallsyms.txt")
	kcode_pa=$(awk -F' : ' '$2 == "Kernel code" { sub(/-.*/, "", $1); gsub(/ /, "", $1); print $1 }' "$S/iomem.txt")
	guest_pb=
	if [ -n "$text_va" ] && [ -n "$kcode_pa" ]; then
		guest_pb=$((0x$kcode_pa - (0x$text_va - 0xffffffff80000000)))
		[ "$guest_pb" = "$phys_base" ] || die "[$name] phys_base from iomem/kallsyms ($guest_pb) != note ($phys_base)"
	fi

	{
		echo "# Facts about the guest and dumps of scenario $name (generated by make-dumps.sh)."
		echo "SCENARIO=$name"
		echo "VMCOREINFO_DEVICE=$device"
		echo "FWCFG_LOADED=$fwcfg"
		echo "MARKER=$marker"
		echo "VMCI_PADDR=$VMCI_PADDR"
		echo "VMCI_SIZE=$VMCI_SIZE"
		echo "FWCFG_RAW_PRESENT=$([ -s "$S/fwcfg-vmcoreinfo.raw" ] && echo 1 || echo 0)"
		echo "NOTE_IN_DUMP=$note_in_dump"
		echo "PHYS_BASE=$phys_base"
		echo "PHYS_BASE_HEX=$(printf '0x%016x' "$phys_base")"
		echo "KERNELOFFSET=$kernoff"
		echo "GUEST_TEXT_VADDR=0x$text_va"
		echo "GUEST_KERNEL_CODE_PADDR=0x$kcode_pa"
		echo "OSRELEASE=$osrel"
		echo "KERNEL_VERSION=$KVER"
		echo "QEMU_VERSION=$QEMU_VERSION"
		echo "QEMU_VERSION_FULL='$QEMU_VERSION_FULL'"
		echo "RAM_MB=$RAM_MB"
		echo "L5=${l5:-0}"
		echo "QEMU_CPU='$cpu'"
		echo "MINIMAL=$minimal"
		"$PY" "$HERE/elfnotes.py" --facts ELF "$S/dump.elf"
		"$PY" "$HERE/elfnotes.py" --facts KDUMP "$S/dump.kdump-zlib"
	} >"$S/facts.env"
	# shellcheck disable=SC1091
	(. "$S/facts.env") || die "[$name] facts.env is not shell-sourceable"

	if [ "$note_in_dump" = 1 ] && [ "$minimal" = 0 ]; then
		make_variants "$name" "$marker" "$phys_base"
	fi
	log "[$name] done in $((SECONDS - t0)) s"
}

# ------------------------------------------------------------------ makedumpfile variants
make_variants() { # make_variants NAME MARKER PHYS_BASE (in $S)
	local name=$1 marker=$2 phys_base=$3 in
	local V=$S/variants.txt
	cd "$S"
	: >makedumpfile.log
	{
		echo "# makedumpfile $MDF_VERSION variants of scenario $name."
		echo "# FILE: how it was made. All commands ran in this directory; output in makedumpfile.log."
		echo
		echo "## QEMU's own files, as makedumpfile sees them"
	} >"$V"
	local f
	for f in dump.kdump-zlib dump.elf; do
		if mdf_try raw makedumpfile --dump-dmesg "$f" "$WORK/dmesg-raw.txt"; then
			echo "$f: makedumpfile --dump-dmesg WORKS unmodified (unexpected for QEMU 7.2)" >>"$V"
		else
			echo "$f: makedumpfile --dump-dmesg FAILS unmodified: $(mdf_errors)" >>"$V"
		fi
		rm -f "$WORK/dmesg-raw.txt"
	done

	echo >>"$V"
	echo "## Fixed-up inputs (test tooling: tests/real/fixup-for-makedumpfile.py)" >>"$V"
	"$PY" "$HERE/fixup-for-makedumpfile.py" kdump-phys-base dump.kdump-zlib dump.kdump-zlib.fixed-phys-base "$phys_base"
	echo "dump.kdump-zlib.fixed-phys-base: dump.kdump-zlib with the sub-header phys_base set to NUMBER(phys_base)=$phys_base" >>"$V"
	"$PY" "$HERE/fixup-for-makedumpfile.py" elf-phdrs-first dump.elf dump.elf.phdrs-first
	echo "dump.elf.phdrs-first: dump.elf with program headers moved to offset 0x40 (section headers dropped)" >>"$V"
	for in in dump.kdump-zlib.fixed-phys-base dump.elf.phdrs-first; do
		mdf_try dmesg makedumpfile --dump-dmesg "$in" "dmesg.$in.txt" ||
			die "[$name] makedumpfile --dump-dmesg $in failed (see $S/makedumpfile.log)"
		grep -qF "$marker" "dmesg.$in.txt" || die "[$name] marker not in makedumpfile --dump-dmesg $in"
		echo "$in: makedumpfile --dump-dmesg works; the marker is in dmesg.$in.txt" >>"$V"
	done

	# Filtering the (fixed) kdump file itself does not work with makedumpfile 1.7.2.
	rm -f "$WORK/try.mdf"
	if mdf_try try makedumpfile -c -d 31 dump.kdump-zlib.fixed-phys-base "$WORK/try.mdf"; then
		echo "dump.kdump-zlib.fixed-phys-base: makedumpfile -c -d 31 of it works too" >>"$V"
	else
		echo "dump.kdump-zlib.fixed-phys-base: makedumpfile -c -d 31 of it FAILS: $(mdf_errors)" >>"$V"
	fi
	rm -f "$WORK/try.mdf"

	echo >>"$V"
	echo "## makedumpfile outputs (input: dump.elf.phdrs-first)" >>"$V"
	in=dump.elf.phdrs-first
	local -a made=()
	mkv() { # mkv FILE DESCRIPTION OPTIONS...
		local f=$1 d=$2
		shift 2
		rm -f "$f"
		if mdf_try "$f" makedumpfile "$@" "$in" "$f"; then
			echo "$f: makedumpfile $* $in $f  ($d)" >>"$V"
			made+=("$f")
		else
			die "[$name] makedumpfile $* failed (see $S/makedumpfile.log)"
		fi
	}
	mkv dump.mdf-zlib-d31 "kdump-compressed, zlib" -c -d 31
	mkv dump.mdf-lzo-d31 "kdump-compressed, lzo" -l -d 31
	local feats
	feats=$(makedumpfile -v 2>&1)
	if grep -qE '^snappy[[:space:]]+enabled' <<<"$feats"; then
		mkv dump.mdf-snappy-d31 "kdump-compressed, snappy" -p -d 31
	else
		echo "dump.mdf-snappy-d31: not made: this makedumpfile has 'snappy disabled' (makedumpfile -v)" >>"$V"
	fi
	if grep -qE '^zstd[[:space:]]+enabled' <<<"$feats"; then
		mkv dump.mdf-zstd-d31 "kdump-compressed, zstd" -z -d 31
	else
		echo "dump.mdf-zstd-d31: not made: this makedumpfile has 'zstd disabled' (makedumpfile -v)" >>"$V"
	fi
	mkv dump.mdf-none-d31 "kdump-compressed, pages not compressed" -d 31
	mkv dump.mdf-elf-d31 "ELF64 written by makedumpfile" -E -d 31
	rm -f dump.mdf-zlib-d31.flat
	{ echo "\$ makedumpfile -F -c -d 31 $in > dump.mdf-zlib-d31.flat"; } >>makedumpfile.log
	makedumpfile -F -c -d 31 "$in" >dump.mdf-zlib-d31.flat 2>>makedumpfile.log ||
		die "[$name] makedumpfile -F failed (see $S/makedumpfile.log)"
	[ "$(head -c 12 dump.mdf-zlib-d31.flat)" = makedumpfile ] || die "[$name] -F output is not flattened"
	echo "dump.mdf-zlib-d31.flat: makedumpfile -F -c -d 31 $in > dump.mdf-zlib-d31.flat  (flattened, zlib)" >>"$V"
	made+=(dump.mdf-zlib-d31.flat)

	echo >>"$V"
	echo "## Checks: makedumpfile --dump-dmesg of each output contains the marker" >>"$V"
	local t
	for f in "${made[@]}"; do
		t=$f
		if [ "${f%.flat}" != "$f" ]; then
			t=$WORK/reassembled
			rm -f "$t"
			makedumpfile -R "$t" <"$f" >>makedumpfile.log 2>&1 || die "[$name] makedumpfile -R $f failed"
		fi
		rm -f "$WORK/dmesg.txt"
		mdf_try check makedumpfile --dump-dmesg "$t" "$WORK/dmesg.txt" || die "[$name] --dump-dmesg $f failed"
		grep -qF "$marker" "$WORK/dmesg.txt" || die "[$name] marker not in --dump-dmesg of $f"
		echo "$f: ok" >>"$V"
	done
	rm -f "$WORK/reassembled"
	cd - >/dev/null
}

# ------------------------------------------------------------------ optional scenarios
# gen_optional NAME REASON-VAR ARGS...: gen_scenario NAME ARGS... in a subshell, whose
# failure (the CPU model refused, the guest not up, a check failed) only leaves NAME out:
# its directory is removed, REASON-VAR (in generation.env) says why, SCENARIOS lacks it.
gen_optional() {
	local name=$1 var=$2 rc=0 why
	shift 2
	# Not in a "||" list: there, set -e would be off inside the subshell too.
	set +e
	(
		set -e
		QEMU_PID=
		# shellcheck disable=SC2317
		stop_qemu() { [ -n "$QEMU_PID" ] && kill "$QEMU_PID" 2>/dev/null; wait 2>/dev/null; true; }
		trap stop_qemu EXIT
		gen_scenario "$name" "$@"
	) 2>&1 | tee "$WORK/$name.gen.log"
	rc=${PIPESTATUS[0]}
	set -e
	if [ "$rc" = 0 ]; then
		SCENARIOS="$SCENARIOS $name"
		return 0
	fi
	why=$(sed -n 's/^make-dumps: ERROR: //p' "$WORK/$name.gen.log" | tail -n 1)
	why=${why#"[$name] "}
	[ -n "$why" ] || why="generation exited $rc"
	# QEMU's own complaint (e.g. a CPU feature it does not have) says most.
	if [ -s "$WORK/$name/qemu.log" ]; then
		why="$why; QEMU said: $(head -n 3 "$WORK/$name/qemu.log" | tr '\n' ' ' | sed 's/ *$//')"
	fi
	log "[$name] left out: $why"
	rm -rf "${OUT:?}/$name"
	printf -v "$var" '%s' "$why"
}

# ------------------------------------------------------------------ main
for sc in $SCENARIOS; do
	case "$sc" in
	vmcoreinfo) gen_scenario vmcoreinfo 1 1 ;;
	nodevice) gen_scenario nodevice 0 1 ;;
	nofwcfg) gen_scenario nofwcfg 1 0 ;;
	esac
done
# la57: like vmcoreinfo, on a CPU with LA57, so that the guest uses 5-level page tables;
# only the ELF and kdump-zlib dumps. "enforce": QEMU refuses the model when its
# accelerator lacks la57 (instead of silently dropping the feature).
LA57_CPU=qemu64,+la57,enforce
LA57_SKIPPED=
gen_optional la57 LA57_SKIPPED 1 1 "$LA57_CPU" 1 1

{
	echo "KEY=$KEY"
	echo "SCENARIOS='$SCENARIOS'"
	echo "LA57_CPU='$LA57_CPU'"
	echo "LA57_SKIPPED='${LA57_SKIPPED//\'/\'\\\'\'}'"
	echo "KERNEL_VERSION=$KVER"
	echo "QEMU_VERSION=$QEMU_VERSION"
	echo "QEMU_VERSION_FULL='$QEMU_VERSION_FULL'"
	echo "MAKEDUMPFILE_VERSION=$MDF_VERSION"
	echo "RAM_MB=$RAM_MB"
	echo "SCRIPT_HASH=$SCRIPT_HASH"
	echo "GENERATED_AT=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "GENERATION_SECONDS=$(elapsed)"
} >"$OUT/generation.env"
touch "$OUT/COMPLETE"
chmod -R a+rX "$OUT"

# Move into place atomically (an old complete copy, with --force, goes away after).
OLD=
if [ -e "$DEST" ]; then
	OLD=$(mktemp -d "$ROOT/.old-$KEY.XXXXXX")
	mv "$DEST" "$OLD/"
fi
mv "$OUT" "$DEST"
OUT=
[ -n "$OLD" ] && rm -rf "$OLD"
log "generated in $(elapsed) s: $DEST"

others=$(find "$ROOT" -mindepth 1 -maxdepth 1 -type d ! -name "$KEY" ! -name '.*' -printf '%f\n')
if [ -n "$others" ]; then
	if [ "$PRUNE" = 1 ]; then
		for o in $others; do log "pruning $ROOT/$o"; rm -rf "${ROOT:?}/$o"; rm -f "$ROOT/.lock-$o"; done
	else
		log "other cache keys under $ROOT (make-dumps.sh --prune deletes them): $(echo "$others" | tr "\n" " ")"
	fi
fi
echo "$DEST" >&3
