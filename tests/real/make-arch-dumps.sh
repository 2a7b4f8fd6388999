#!/bin/bash
# make-arch-dumps.sh - build (once) and cache real QEMU dumps of a foreign-architecture guest.
#
# Boots the Debian kernel of ARCH under qemu-system-ARCH (TCG) with a busybox initramfs
# (tests/real/guest-init.sh as /init), records what the guest says (its
# /sys/kernel/vmcoreinfo, /proc/iomem with the "Kernel code" load address, a marker it
# writes to /dev/kmsg), and takes dumps over QMP: ELF and every kdump format this QEMU
# offers (on aarch64 also a migration stream of the same stopped guest), with
# (vmcoreinfo/) and without (nodevice/) -device vmcoreinfo. The packages are
# fetched with `apt-get download` through a private apt configuration (the host's dpkg
# architectures and package lists are left alone) and unpacked with dpkg-deb, never
# installed. Only the QEMU system emulator itself is installed with apt-get when missing.
# See tests/real/README.md ("Foreign architectures").
#
# Usage: make-arch-dumps.sh ARCH [--force] [--prune]
#   ARCH      aarch64 (Debian 12 arm64 kernel under qemu-system-aarch64 -M virt),
#             s390x (Debian 12 s390x kernel under qemu-system-s390x -M s390-ccw-virtio),
#             ppc64le (Debian 12 ppc64el kernel under qemu-system-ppc64 -M pseries),
#             riscv64 (Debian 13 riscv64 kernel under qemu-system-riscv64 -M virt, with
#             QEMU's bundled OpenSBI as firmware)
#   --force   regenerate even when the cache is complete (also VMCOREFIX_REAL_FORCE=1)
#   --prune   afterwards, delete the other dump keys under the architecture's cache root
# Environment:
#   VMCOREFIX_ARCH_CACHE        cache root (default /var/cache/vmcore-fix/real-ARCH)
#   VMCOREFIX_ARCH_KERNEL_VERSION  the guest kernel ABI (e.g. 6.1.0-57-arm64; default: what
#                               the suite's linux-image-<flavour> metapackage depends on)
#   VMCOREFIX_DEBIAN_MIRROR     default http://deb.debian.org/debian (its -security is
#                               the same URL with -security appended)
#   VMCOREFIX_REAL_RAM_MB       guest RAM in MiB (default 512; part of the cache key)
#   VMCOREFIX_ARCH_CPU          QEMU -cpu model (default per ARCH: max on aarch64 and s390x,
#                               power9 on ppc64le, rv64 on riscv64; part of the key)
#   VMCOREFIX_REAL_BOOT_TIMEOUT seconds to wait for the guest's READY line (default 600)
#   VMCOREFIX_REAL_KEEP_FAILED=1 keep the half-made directories of a failed run
#   VMCOREFIX_DBG=0             do not fetch the -dbg package (the drgn tests then skip)
#   VMCOREFIX_DBG_CACHE         where the debug vmlinux goes (default /var/cache/vmcore-fix/dbg)
#
# Prints the cache directory (the one holding the scenario directories) as the last line
# of standard output; everything else goes to standard error. Exit status: 0 done,
# 77 cannot be made here (a "SKIP:" line says why), 1 failure.
set -euo pipefail
exec 3>&1 1>&2

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=/usr/bin/python3
RAM_MB=${VMCOREFIX_REAL_RAM_MB:-512}
BOOT_TIMEOUT=${VMCOREFIX_REAL_BOOT_TIMEOUT:-600}
FORCE=${VMCOREFIX_REAL_FORCE:-0}
PRUNE=0
MIRROR=${VMCOREFIX_DEBIAN_MIRROR:-http://deb.debian.org/debian}
DBG_CACHE=${VMCOREFIX_DBG_CACHE:-/var/cache/vmcore-fix/dbg}
# Files whose content defines the fixtures (their hash is part of the cache key).
KEY_FILES="make-arch-dumps.sh guest-init.sh qmp.py archnotes.py"
# Notes and header facts of dumps of either byte order (elfnotes.py reads little-endian only).
NOTES=$HERE/archnotes.py

log() { echo "make-arch-dumps: $*"; }
skip() { echo "make-arch-dumps: SKIP: $*"; exit 77; }
die() { echo "make-arch-dumps: ERROR: $*"; exit 1; }

ARCH=
for a in "$@"; do
	case "$a" in
	--force) FORCE=1 ;;
	--prune) PRUNE=1 ;;
	-h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&3; exit 0 ;;
	-*) die "unknown argument $a (see --help)" ;;
	*) [ -z "$ARCH" ] || die "one ARCH only"; ARCH=$a ;;
	esac
done
[ -n "$ARCH" ] || die "usage: make-arch-dumps.sh ARCH [--force] [--prune] (see --help)"

# ------------------------------------------------------------------ the architectures
# DEB_ARCH: Debian's name; SUITE: the release whose kernel is booted; FLAVOUR: the kernel
# flavour (linux-image-FLAVOUR is the metapackage); QEMU/QEMU_PKG: the emulator and its
# Debian package; MACHINE, CPU, CONSOLE: how it is booted; LINEAR_BASE: the virtual address
# of physical 0 in the kernel's linear map, where it is one (checked against init_uts_ns).
case "$ARCH" in
aarch64)
	DEB_ARCH=arm64 SUITE=bookworm FLAVOUR=arm64
	QEMU=qemu-system-aarch64 QEMU_PKG=qemu-system-arm
	MACHINE=virt CPU=${VMCOREFIX_ARCH_CPU:-max} CONSOLE=ttyAMA0 LINEAR_BASE=
	;;
s390x)
	# -serial is the SCLP console (ttysclp0); the kernel is booted from its bzImage-like
	# vmlinuz by QEMU's own loader (the s390-ccw BIOS is not involved).
	DEB_ARCH=s390x SUITE=bookworm FLAVOUR=s390x
	QEMU=qemu-system-s390x QEMU_PKG=qemu-system-misc
	MACHINE=s390-ccw-virtio CPU=${VMCOREFIX_ARCH_CPU:-max} CONSOLE=ttysclp0 LINEAR_BASE=0
	;;
ppc64le)
	# SLOF (qemu-system-data's slof.bin) loads the ELF vmlinux; -serial is the spapr-vty
	# console (hvc0).
	DEB_ARCH=ppc64el SUITE=bookworm FLAVOUR=powerpc64le
	QEMU=qemu-system-ppc64 QEMU_PKG=qemu-system-ppc
	MACHINE=pseries CPU=${VMCOREFIX_ARCH_CPU:-power9} CONSOLE=hvc0 LINEAR_BASE=0xc000000000000000
	;;
riscv64)
	# riscv64 is a Debian release architecture from Debian 13 (trixie) on. -bios default:
	# QEMU's bundled OpenSBI (qemu-system-data's opensbi-riscv64-generic-fw_dynamic.bin)
	# starts the kernel Image given with -kernel in S-mode. The linear map starts at
	# PAGE_OFFSET for phys_ram_base (both in the note), so LINEAR_BASE is not one constant.
	DEB_ARCH=riscv64 SUITE=trixie FLAVOUR=riscv64
	QEMU=qemu-system-riscv64 QEMU_PKG=qemu-system-misc
	MACHINE=virt CPU=${VMCOREFIX_ARCH_CPU:-rv64} CONSOLE=ttyS0 LINEAR_BASE=
	;;
*) skip "make-arch-dumps.sh has no recipe for '$ARCH' (it knows: aarch64 s390x ppc64le riscv64)" ;;
esac

# ------------------------------------------------------------------ what we need
[ -x "$PY" ] || skip "$PY not found: apt-get install python3"
for p in apt-get:apt apt-cache:apt dpkg-deb:dpkg makedumpfile:makedumpfile cpio:cpio gzip:gzip \
	depmod:kmod modinfo:kmod sha256sum:coreutils flock:util-linux; do
	command -v "${p%%:*}" >/dev/null || skip "${p%%:*} not found: apt-get install ${p#*:}"
done
if ! command -v "$QEMU" >/dev/null; then
	[ "$(id -u)" = 0 ] || skip "$QEMU not found: apt-get install $QEMU_PKG (as root)"
	log "installing $QEMU_PKG (apt-get install --no-install-recommends)"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$QEMU_PKG" >/dev/null ||
		skip "$QEMU not found and apt-get install $QEMU_PKG failed"
	command -v "$QEMU" >/dev/null || skip "$QEMU_PKG is installed but has no $QEMU"
fi
# riscv64: -bios default is OpenSBI from qemu-system-data (a dependency of qemu-system-misc).
if [ "$ARCH" = riscv64 ] && [ ! -r /usr/share/qemu/opensbi-riscv64-generic-fw_dynamic.bin ]; then
	skip "QEMU's OpenSBI (/usr/share/qemu/opensbi-riscv64-generic-fw_dynamic.bin) not found: apt-get install qemu-system-data"
fi
QEMU_VERSION_FULL=$("$QEMU" --version | head -n 1)
QEMU_VERSION=$(sed -n 's/^QEMU emulator version \([0-9][0-9.]*\).*/\1/p' <<<"$QEMU_VERSION_FULL")
[ -n "$QEMU_VERSION" ] || die "cannot parse the QEMU version from: $QEMU_VERSION_FULL"
# -device vmcoreinfo: QEMU builds it only where the machine has fw_cfg (not s390x, not
# pseries), and it is realized only where that fw_cfg has DMA (not riscv64 virt in QEMU
# 7.2: "vmcoreinfo device requires fw_cfg with DMA"), so a listed device is also tried on a
# stopped machine; without it only the nodevice scenario is made, and why is recorded.
QEMU_FW_ARGS=()
[ "$ARCH" = riscv64 ] && QEMU_FW_ARGS=(-bios default)
if "$QEMU" -machine "$MACHINE" -device help 2>/dev/null | grep -q '^name "vmcoreinfo"'; then
	QEMU_VMCOREINFO_DEVICE=$(echo quit | timeout 60 "$QEMU" -machine "$MACHINE" "${QEMU_FW_ARGS[@]}" -device vmcoreinfo \
		-display none -nodefaults -S -monitor stdio 2>&1 >/dev/null | grep -m 1 -e '-device vmcoreinfo' | tr -d "'\"" || true)
	if [ -z "$QEMU_VMCOREINFO_DEVICE" ]; then
		SCENARIOS="vmcoreinfo nodevice" QEMU_VMCOREINFO_DEVICE=available
	else
		SCENARIOS=nodevice
		QEMU_VMCOREINFO_DEVICE="listed but refused: $QEMU_VMCOREINFO_DEVICE"
		log "-device vmcoreinfo: $QEMU_VMCOREINFO_DEVICE (only the nodevice scenario)"
	fi
else
	SCENARIOS=nodevice
	QEMU_VMCOREINFO_DEVICE=$(timeout 30 "$QEMU" -machine "$MACHINE" -device vmcoreinfo -display none \
		-nodefaults -S -monitor none </dev/null 2>&1 | head -n 1 | tr -d "'\"" || true)
	QEMU_VMCOREINFO_DEVICE="absent: ${QEMU_VMCOREINFO_DEVICE:-not in -device help}"
	log "-device vmcoreinfo: $QEMU_VMCOREINFO_DEVICE (only the nodevice scenario)"
fi

# ------------------------------------------------------------------ cache root
if [ -n "${VMCOREFIX_ARCH_CACHE:-}" ]; then
	ROOT=$VMCOREFIX_ARCH_CACHE
	mkdir -p "$ROOT" 2>/dev/null || die "cannot create cache root $ROOT"
else
	ROOT=/var/cache/vmcore-fix/real-$ARCH
	if ! mkdir -p "$ROOT" 2>/dev/null || [ ! -w "$ROOT" ]; then
		ROOT=${XDG_CACHE_HOME:-$HOME/.cache}/vmcore-fix/real-$ARCH
		log "/var/cache/vmcore-fix/real-$ARCH is not writable; using $ROOT"
		mkdir -p "$ROOT"
	fi
fi
ROOT=$(cd "$ROOT" && pwd)

# ------------------------------------------------------------------ private apt
# Its own lists, cache, status (empty) and sources: the host's apt state is not touched and
# the host needs no foreign dpkg architecture. The signatures are checked against
# Debian's archive keyring, as the host's own sources do.
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
[ -r "$KEYRING" ] || skip "$KEYRING not found: apt-get install debian-archive-keyring"
APTDIR=$ROOT/apt-$SUITE-$DEB_ARCH
mkdir -p "$APTDIR/lists/partial" "$APTDIR/cache/archives/partial"
{
	echo "deb [signed-by=$KEYRING] $MIRROR $SUITE main"
	echo "deb [signed-by=$KEYRING] $MIRROR $SUITE-updates main"
	echo "deb [signed-by=$KEYRING] $MIRROR-security $SUITE-security main"
} >"$APTDIR/sources.list.new"
if ! cmp -s "$APTDIR/sources.list.new" "$APTDIR/sources.list" 2>/dev/null; then
	mv "$APTDIR/sources.list.new" "$APTDIR/sources.list"
	rm -f "$APTDIR/updated"
else
	rm -f "$APTDIR/sources.list.new"
fi
: >>"$APTDIR/status"
APT_OPTS=(-o "Dir::State::Lists=$APTDIR/lists" -o "Dir::Cache=$APTDIR/cache"
	-o "Dir::State::status=$APTDIR/status" -o "Dir::Etc::SourceList=$APTDIR/sources.list"
	-o "Dir::Etc::SourceParts=/nonexistent" -o "APT::Architecture=$DEB_ARCH"
	-o "APT::Architectures::=$DEB_ARCH" -o "Acquire::Languages=none")
apt_update() {
	log "apt-get update for $SUITE/$DEB_ARCH (private lists in $APTDIR)"
	# apt-get update may exit 0 when a source failed: the lists must hold the suite's Packages.
	if apt-get "${APT_OPTS[@]}" -qq update >"$APTDIR/update.log" 2>&1 &&
		! grep -q '^[EW]: ' "$APTDIR/update.log" &&
		compgen -G "$APTDIR/lists/*_dists_${SUITE}_main_binary-${DEB_ARCH}_Packages*" >/dev/null; then
		touch "$APTDIR/updated"
	else
		log "apt-get update failed: $(tail -n 2 "$APTDIR/update.log" | tr '\n' ' ')"
		return 1
	fi
}
exec 8>"$ROOT/.lock-apt"
flock -w 1800 8 || die "timed out waiting for $ROOT/.lock-apt"
# Lists younger than a day are used as they are (a cache hit then costs no network).
if [ -z "$(find "$APTDIR/updated" -mmin -1440 2>/dev/null)" ]; then
	apt_update || [ -e "$APTDIR/updated" ] || skip "cannot reach the Debian mirror $MIRROR (apt-get update failed, see $APTDIR/update.log)"
fi
# apt_show PKG FIELD: the candidate's FIELD
apt_show() {
	{ apt-cache "${APT_OPTS[@]}" show --no-all-versions "$1" 2>/dev/null || true; } | sed -n "s/^$2: //p" | head -n 1
}
# What the lists say is kept beside them (apt-cache takes a few seconds a call).
RESOLVED=$APTDIR/resolved-${VMCOREFIX_ARCH_KERNEL_VERSION:-default}.env
if [ -f "$RESOLVED" ] && [ "$RESOLVED" -nt "$APTDIR/updated" ]; then
	# shellcheck disable=SC1090
	. "$RESOLVED"
else
	if [ -n "${VMCOREFIX_ARCH_KERNEL_VERSION:-}" ]; then
		KVER=$VMCOREFIX_ARCH_KERNEL_VERSION
	else
		KVER=$(apt_show "linux-image-$FLAVOUR" Depends | { grep -o "linux-image-[0-9][^ ,]*-$FLAVOUR" || true; } | head -n 1)
		KVER=${KVER#linux-image-}
		[ -n "$KVER" ] || skip "linux-image-$FLAVOUR:$DEB_ARCH has no kernel dependency in $SUITE"
	fi
	KPKG=linux-image-$KVER
	KPKG_VERSION=$(apt_show "$KPKG" Version)
	if [ -z "$KPKG_VERSION" ] && apt_update; then KPKG_VERSION=$(apt_show "$KPKG" Version); fi
	[ -n "$KPKG_VERSION" ] || skip "$KPKG:$DEB_ARCH is not in $SUITE (any more)"
	BUSYBOX_VERSION=$(apt_show busybox-static Version)
	[ -n "$BUSYBOX_VERSION" ] || skip "busybox-static:$DEB_ARCH is not in $SUITE"
	printf "KVER=%s\nKPKG=%s\nKPKG_VERSION=%s\nBUSYBOX_VERSION='%s'\n" \
		"$KVER" "$KPKG" "$KPKG_VERSION" "$BUSYBOX_VERSION" >"$RESOLVED"
fi
flock -u 8

# apt_fetch DIR PKG...: apt-get download the packages into DIR
apt_fetch() {
	local dir=$1
	shift
	(cd "$dir" && apt-get "${APT_OPTS[@]}" -q download "$@" >"$dir/download.log" 2>&1) || {
		tail -n 5 "$dir/download.log"
		die "apt-get download $* ($DEB_ARCH) failed"
	}
}

# ------------------------------------------------------------------ guest files (once per kernel)
# $ROOT/guest-<KVER>/: the kernel Image, its config, the modules the guest loads, busybox.
GUEST=$ROOT/guest-${KVER}_busybox-${BUSYBOX_VERSION//[:~]/_}
if [ ! -f "$GUEST/COMPLETE" ]; then
	exec 7>"$ROOT/.lock-guest"
	flock -w 1800 7 || die "timed out waiting for $ROOT/.lock-guest"
	if [ ! -f "$GUEST/COMPLETE" ]; then
		rm -rf "$GUEST" "$ROOT"/.guest.*
		G=$(mktemp -d "$ROOT/.guest.XXXXXX")
		t0=$SECONDS
		log "fetching $KPKG $KPKG_VERSION and busybox-static $BUSYBOX_VERSION ($DEB_ARCH)"
		apt_fetch "$G" "$KPKG" busybox-static
		du -b "$G"/*.deb | awk '{ s += $1 } END { print "DOWNLOAD_BYTES=" s }' >"$G/fetch.env"
		mkdir "$G/x"
		for d in "$G"/*.deb; do dpkg-deb -x "$d" "$G/x"; done
		# Debian 13 packages ship merged-/usr paths (usr/lib/modules, usr/bin/busybox).
		[ -e "$G/x/lib" ] || ln -s usr/lib "$G/x/lib"
		[ -e "$G/x/bin" ] || ln -s usr/bin "$G/x/bin"
		depmod -b "$G/x" "$KVER"
		mkdir -p "$G/modules"
		: >"$G/modules.order"
		add_module() { # add_module NAME: NAME and (first) its dependencies, decompressed
			local name=$1 path deps d
			grep -qx "$name.ko" "$G/modules.order" && return 0
			path=$(modinfo -b "$G/x" -k "$KVER" -n "$name" 2>/dev/null) || path=
			case "$path" in
			"" | *builtin*) [ -z "$path" ] && die "module $name not in $KPKG"; return 0 ;;
			esac
			deps=$(modinfo -b "$G/x" -k "$KVER" -F depends "$name" | tr ',' ' ')
			for d in $deps; do add_module "$d"; done
			case "$path" in
			*.ko) cp "$path" "$G/modules/$name.ko" ;;
			*.ko.xz) xz -dc "$path" >"$G/modules/$name.ko" ;;
			*.ko.zst) zstd -qdc "$path" >"$G/modules/$name.ko" ;;
			*.ko.gz) gzip -dc "$path" >"$G/modules/$name.ko" ;;
			*) die "unknown module file type: $path" ;;
			esac
			echo "$name.ko" >>"$G/modules.order"
		}
		# FWCFG_BUILTIN: 1 built in, 0 a module (loaded by the guest), none: the kernel
		# has no qemu_fw_cfg (s390x and ppc64el: CONFIG_FW_CFG_SYSFS depends on a
		# platform with fw_cfg).
		FWCFG_BUILTIN=0
		if grep -qE '(^|/)qemu_fw_cfg\.ko' "$G/x/lib/modules/$KVER/modules.builtin"; then
			FWCFG_BUILTIN=1
		elif modinfo -b "$G/x" -k "$KVER" -n qemu_fw_cfg >/dev/null 2>&1; then
			add_module qemu_fw_cfg
		elif grep -q '^CONFIG_FW_CFG_SYSFS=' "$G/x/boot/config-$KVER"; then
			die "$KPKG has CONFIG_FW_CFG_SYSFS but no qemu_fw_cfg module"
		else
			FWCFG_BUILTIN=none
		fi
		# ppc64el: SLOF loads the ELF vmlinux (Debian installs it as boot/vmlinux-KVER).
		k=$G/x/boot/vmlinuz-$KVER
		[ -f "$k" ] || k=$G/x/boot/vmlinux-$KVER
		[ -f "$k" ] || die "$KPKG has no boot/vmlinuz-$KVER or boot/vmlinux-$KVER"
		# QEMU -kernel boots an arm64 Image; Debian ships it uncompressed, but a gzip one
		# is decompressed here. s390x's vmlinuz is a self-decompressing image, as it is.
		if [ "$(head -c 2 "$k" | od -An -tx1 | tr -d ' ')" = 1f8b ]; then
			gzip -dc "$k" >"$G/kernel"
		else
			cp "$k" "$G/kernel"
		fi
		cp "$G/x/boot/config-$KVER" "$G/config"
		cp "$G/x/bin/busybox" "$G/busybox"
		{
			cat "$G/fetch.env"
			echo "KPKG=$KPKG"
			echo "KPKG_VERSION=$KPKG_VERSION"
			echo "BUSYBOX_VERSION='$BUSYBOX_VERSION'"
			echo "FWCFG_BUILTIN=$FWCFG_BUILTIN"
			echo "FETCH_SECONDS=$((SECONDS - t0))"
		} >"$G/guest.env"
		rm -rf "$G/x" "$G"/*.deb "$G/fetch.env"
		touch "$G/COMPLETE"
		chmod -R a+rX "$G"
		mv "$G" "$GUEST"
		log "guest files in $GUEST ($((SECONDS - t0)) s)"
	fi
	flock -u 7
fi
# shellcheck disable=SC1091
. "$GUEST/guest.env"

# ------------------------------------------------------------------ the debug vmlinux
# For drgn: only usr/lib/debug/boot/vmlinux-KVER of linux-image-KVER-dbg (about 800 MB
# to download) is kept; a failure only makes the drgn tests skip.
DBG_VMLINUX=$DBG_CACHE/vmlinux-$KVER
fetch_dbg() {
	[ -r "$DBG_VMLINUX" ] && return 0
	[ "${VMCOREFIX_DBG:-1}" != 0 ] || { log "VMCOREFIX_DBG=0: no debug vmlinux"; return 0; }
	if ! mkdir -p "$DBG_CACHE" 2>/dev/null || [ ! -w "$DBG_CACHE" ]; then
		log "cannot write $DBG_CACHE: no debug vmlinux"
		return 0
	fi
	exec 6>"$DBG_CACHE/.lock"
	flock -w 1800 6 || { log "timed out waiting for $DBG_CACHE/.lock"; return 0; }
	if [ ! -r "$DBG_VMLINUX" ]; then
		local tmp t0=$SECONDS
		tmp=$(mktemp -d "$DBG_CACHE/.fetch.XXXXXX")
		log "fetching $KPKG-dbg ($DEB_ARCH) for its vmlinux"
		if (cd "$tmp" && apt-get "${APT_OPTS[@]}" -q download "$KPKG-dbg" >download.log 2>&1) &&
			dpkg-deb --fsys-tarfile "$tmp"/*.deb | tar -x -C "$tmp" "./usr/lib/debug/boot/vmlinux-$KVER"; then
			log "$KPKG-dbg: $(du -b "$tmp"/*.deb | cut -f1) bytes downloaded, vmlinux $(du -b "$tmp/usr/lib/debug/boot/vmlinux-$KVER" | cut -f1) bytes, $((SECONDS - t0)) s"
			mv "$tmp/usr/lib/debug/boot/vmlinux-$KVER" "$DBG_VMLINUX"
		else
			log "could not fetch $KPKG-dbg: no debug vmlinux ($(tail -n 1 "$tmp/download.log" 2>/dev/null))"
		fi
		rm -rf "$tmp"
	fi
	flock -u 6
}

# ------------------------------------------------------------------ cache key and lock
SCRIPT_HASH=$( (cd "$HERE" && for f in $KEY_FILES; do echo "== $f"; cat "$f"; done
	echo "== qemu $QEMU_VERSION_FULL"; echo "== $KPKG $KPKG_VERSION busybox $BUSYBOX_VERSION"
	echo "== cpu $CPU") | sha256sum | cut -c1-12)
KEY=${KVER}_qemu-${QEMU_VERSION}_ram${RAM_MB}_${SCRIPT_HASH}
DEST=$ROOT/$KEY
STAMP=$DEST/COMPLETE

if [ "$FORCE" != 1 ] && [ -f "$STAMP" ]; then
	fetch_dbg
	log "cached: $DEST"
	echo "$DEST" >&3
	exit 0
fi
exec 9>"$ROOT/.lock-$KEY"
if ! flock -n 9; then
	log "another make-arch-dumps.sh is generating $KEY; waiting for it"
	flock -w 1800 9 || die "timed out waiting for the lock $ROOT/.lock-$KEY"
fi
if [ "$FORCE" != 1 ] && [ -f "$STAMP" ]; then
	fetch_dbg
	log "cached: $DEST"
	echo "$DEST" >&3
	exit 0
fi
rm -rf "$ROOT/.tmp-$KEY".* "$ROOT/.old-$KEY".*

OUT=$(mktemp -d "$ROOT/.tmp-$KEY.XXXXXX")
WORK=$(mktemp -d "${TMPDIR:-/tmp}/vmcorefix-arch.XXXXXX") # short paths for the QMP sockets
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
log "generating $KEY ($ARCH: kernel $KVER, QEMU $QEMU_VERSION -M $MACHINE -cpu $CPU, ${RAM_MB} MiB) into $OUT"

# ------------------------------------------------------------------ helpers
randhex() { od -An -N8 -tx1 /dev/urandom | tr -d ' \n'; }

section() { # section FILE NAME: the lines the guest printed between its delimiters
	tr -d '\r' <"$1" | awk -v n="$2" '
		$0 == "=====VMCOREFIX-END " n "=====" { on = 0 }
		on { print }
		$0 == "=====VMCOREFIX-BEGIN " n "=====" { on = 1 }'
}

build_initramfs() { # build_initramfs DIR MARKER -> DIR/initrd.gz
	local dir=$1 root=$1/root
	mkdir -p "$root/bin" "$root/modules"
	cp "$GUEST/busybox" "$root/bin/busybox"
	install -m 0755 "$HERE/guest-init.sh" "$root/init"
	printf 'MARKER=%s\nFWCFG=%s\n' "$2" "$([ "$FWCFG_BUILTIN" = none ] && echo 0 || echo 1)" >"$root/vmcorefix.conf"
	cp "$GUEST/modules.order" "$root/modules.order"
	if [ -s "$GUEST/modules.order" ]; then cp "$GUEST"/modules/*.ko "$root/modules/"; fi
	(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -1 >"$dir/initrd.gz"
}

boot_guest() { # boot_guest DIR DEVICE(0|1); sets QEMU_PID, BOOT_SECONDS
	local dir=$1 device=$2
	local -a cmd=("$QEMU" -machine "$MACHINE" -cpu "$CPU" -accel tcg -m "$RAM_MB" -smp 1
		-kernel "$GUEST/kernel" -initrd "$dir/initrd.gz"
		-append "console=$CONSOLE panic=-1 oops=panic"
		-display none -monitor none -serial "file:$dir/console.log"
		-qmp "unix:$dir/qmp.sock,server=on,wait=off" -no-reboot)
	[ "$device" = 1 ] && cmd+=(-device vmcoreinfo)
	# pseries: no VGA (SLOF would take it for its console)
	[ "$ARCH" = ppc64le ] && cmd+=(-vga none)
	# riscv64: OpenSBI as QEMU bundles it (M-mode firmware; the kernel runs in S-mode)
	cmd+=("${QEMU_FW_ARGS[@]}")
	printf '%q ' "${cmd[@]}" >"$dir/qemu-cmdline.txt"
	echo >>"$dir/qemu-cmdline.txt"
	: >"$dir/console.log"
	local t0
	t0=$(date +%s.%N)
	"${cmd[@]}" </dev/null >"$dir/qemu.log" 2>&1 9>&- 8>&- 7>&- 6>&- &
	QEMU_PID=$!
	while ! grep -q '^VMCOREFIX-READY' "$dir/console.log" 2>/dev/null; do
		if ! kill -0 "$QEMU_PID" 2>/dev/null; then
			wait "$QEMU_PID" 2>/dev/null || true
			QEMU_PID=
			echo "---- QEMU output:"; cat "$dir/qemu.log"
			echo "---- console log tail:"; tail -n 40 "$dir/console.log" | tr -d '\r'
			die "QEMU exited before the guest printed VMCOREFIX-READY"
		fi
		if awk -v a="$t0" -v b="$(date +%s.%N)" -v m="$BOOT_TIMEOUT" 'BEGIN { exit !(b - a > m) }'; then
			echo "---- console log tail:"; tail -n 40 "$dir/console.log" | tr -d '\r'
			die "the guest did not print VMCOREFIX-READY within ${BOOT_TIMEOUT}s"
		fi
		sleep 0.2
	done
	BOOT_SECONDS=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
	log "guest ready after $BOOT_SECONDS s"
}

# riscv_facts DUMP NOTE KCODE TEXT OSRELEASE: shell lines (RISCV_* for the ELF, then
# RISCV_KDUMP_* for a kdump file) saying which rule takes riscv64 kernel addresses to the
# dump's physical addresses, each tried on the dump's bytes (1: the bytes are there, 0: not):
#   UTS_VIA_LINK_ADDR       SYMBOL(init_uts_ns) - KERNEL_LINK_ADDR + "Kernel code" start
#   UTS_VIA_LINK_ADDR_KASLR the same with KERNEL_LINK_ADDR + KERNELOFFSET
#   UTS_VIA_LINK_ADDR_IMAGE SYMBOL(init_uts_ns) - KERNEL_LINK_ADDR + the image's physical
#                           start (KERNEL_LINK_ADDR - va_kernel_pa_offset, below "Kernel code")
#   UTS_VIA_TEXT            SYMBOL(init_uts_ns) - _text (kallsyms) + "Kernel code" start
#   UTS_VIA_VA_PA_OFFSET    SYMBOL(init_uts_ns) - NUMBER(va_kernel_pa_offset)
#   UTS_VIA_LINEAR          SYMBOL(init_uts_ns) - PAGE_OFFSET + phys_ram_base (wrong for the
#                           kernel image, which is not in the linear map's range of addresses)
#   MEM_SECTION_*           SYMBOL(mem_section) (the pointer's value: the root array) is a
#                           linear-map address; through va - PAGE_OFFSET + phys_ram_base the
#                           root array, the root it points to (linear too) and the section of
#                           phys_ram_base are read, whose section_mem_map must encode vmemmap
#                           (VMEMMAP_START - (phys_ram_base >> PAGE_SHIFT) * SIZE(page))
riscv_facts() {
	"$PY" - "$NOTES" "$@" <<'PY'
import importlib.util, struct, sys
spec = importlib.util.spec_from_file_location("archnotes", sys.argv[1])
an = importlib.util.module_from_spec(spec)
spec.loader.exec_module(an)
path, note, kcode, text, osrel = sys.argv[2:7]
d = an.Dump(path)
f = an.vmcoreinfo_fields(open(note).read())
pre = "RISCV_" if d.kind == "elf" else "RISCV_KDUMP_"
def num(k):
    v = f.get("NUMBER(%s)" % k)
    return None if v is None else int(v, 0)
def sym(k):
    v = f.get("SYMBOL(%s)" % k)
    return None if v is None else int(v, 16)
def read(pa, n):
    if pa < 0:
        return None
    try:
        return d.read_phys(pa, n)
    except (SystemExit, IndexError):  # not in the dump (archnotes: beyond the kdump bitmap)
        return None
def u64(pa):
    b = read(pa, 8)
    return None if b is None else struct.unpack(d.e + "Q", b)[0]
def is_uts(pa):
    if pa is None or pa < 0:
        return 0
    b = read(pa, 195)
    return int(b is not None and b[0:6] == b"Linux\0" and b[130:195].split(b"\0")[0] == osrel.encode())
def out(k, v):
    # addresses in hex; the 0/1 answers and the bit counts in decimal
    dec = k.startswith(("UTS_", "MEM_SECTION_VIA", "VMEMMAP_SYMBOL")) or k.endswith("_BITS")
    print("%s%s=%s" % (pre, k, "" if v is None else (str(v) if dec else "%#x" % v)))
uts = sym("init_uts_ns")
kcode = int(kcode, 0)
link = num("KERNEL_LINK_ADDR")
vpo = num("va_kernel_pa_offset")
po = num("PAGE_OFFSET")
prb = num("phys_ram_base")
koff = int(f.get("KERNELOFFSET", "0"), 16)
if d.kind == "elf":
    # the riscv VMCOREINFO numbers, as the note has them
    for k in ("phys_ram_base", "PAGE_OFFSET", "KERNEL_LINK_ADDR", "VA_BITS", "va_kernel_pa_offset",
              "VMALLOC_START", "VMALLOC_END", "VMEMMAP_START", "VMEMMAP_END", "MODULES_VADDR",
              "MODULES_END", "SECTION_SIZE_BITS", "MAX_PHYSMEM_BITS"):
        out("NUMBER_" + k, num(k))
    out("KERNEL_LOAD_PADDR", kcode)
    if vpo is not None and text:
        # __pa of _text by va_kernel_pa_offset: where the kernel sits (vs "Kernel code")
        out("TEXT_PADDR_VIA_VA_PA_OFFSET", int(text, 0) - vpo)
out("UTS_VIA_LINK_ADDR", None if link is None else is_uts(uts - link + kcode))
out("UTS_VIA_LINK_ADDR_KASLR", None if link is None else is_uts(uts - link - koff + kcode))
# the image's physical start (kernel_map.phys_addr: KERNEL_LINK_ADDR's physical address)
if link is not None and vpo is not None:
    out("UTS_VIA_LINK_ADDR_IMAGE", is_uts(uts - link + (link - vpo)))
out("UTS_VIA_TEXT", None if not text else is_uts(uts - int(text, 0) + kcode))
out("UTS_VIA_VA_PA_OFFSET", None if vpo is None else is_uts(uts - vpo))
out("UTS_VIA_LINEAR", None if po is None or prb is None else is_uts(uts - po + prb))
# SYMBOL(mem_section) is the value of the kernel's mem_section pointer (SPARSEMEM_EXTREME):
# the root array, allocated from memblock, a linear-map address.
ms = sym("mem_section")
ok = 0
root = smm = want = None
if ms is not None and po is not None and prb is not None:
    ps = int(f.get("PAGESIZE", "4096"))
    shift = ps.bit_length() - 1
    ssb = num("SECTION_SIZE_BITS")
    size_ms = int(f.get("SIZE(mem_section)", "0"), 0)
    off_smm = int(f.get("OFFSET(mem_section.section_mem_map)", "0"), 0)
    size_page = int(f.get("SIZE(page)", "0"), 0)
    if ssb and size_ms and size_page and po <= ms:
        nr = prb >> ssb
        per_root = ps // size_ms
        root = u64(ms - po + prb + 8 * (nr // per_root))
        if root is not None and po <= root:
            smm = u64(root - po + prb + size_ms * (nr % per_root) + off_smm)
            want = num("VMEMMAP_START") - (prb >> shift) * size_page
            # SECTION_MARKED_PRESENT (bit 0); the encoded map is vmemmap
            ok = int(smm is not None and smm & 1 == 1 and (smm & ~0xfff) == (want & ~0xfff))
out("MEM_SECTION_ROOT", root)
out("MEM_SECTION_MAP", smm)
out("MEM_SECTION_VMEMMAP", want)
out("MEM_SECTION_VIA_LINEAR", ok)
if d.kind == "elf":
    v = f.get("SYMBOL(vmemmap)")
    out("VMEMMAP_SYMBOL_IS_VMEMMAP", None if v is None or want is None else int(int(v, 16) == want))
PY
}

# ------------------------------------------------------------------ one scenario
FORMATS=
gen_scenario() { # gen_scenario NAME DEVICE(0|1)
	local name=$1 device=$2 dir=$WORK/$1 t0=$SECONDS marker fmt
	S=$OUT/$name
	mkdir -p "$dir" "$S"
	marker=VMCOREFIX-MARKER-$(randhex)
	log "[$name] device=$device marker=$marker"
	build_initramfs "$dir" "$marker"
	boot_guest "$dir" "$device"

	# The formats this QEMU can write (Debian 12's 7.2: elf and kdump-zlib only).
	FORMATS=$("$PY" "$HERE/qmp.py" --log "$S/qmp.log" "$dir/qmp.sock" exec query-dump-guest-memory-capability |
		"$PY" -c 'import json, sys; print(" ".join(json.load(sys.stdin)["formats"]))') ||
		die "[$name] query-dump-guest-memory-capability failed (see $S/qmp.log)"
	case " $FORMATS " in *" elf "*) ;; *) die "[$name] QEMU offers no ELF dump ($FORMATS)" ;; esac
	local -a steps=(stop)
	for fmt in $FORMATS; do
		case "$fmt" in
		elf) steps+=(dump elf "$S/dump.elf") ;;
		# QEMU 8.2 and later: kdump-raw-* is written as a kdump file, not flattened
		kdump-raw-*) steps+=(dump "$fmt" "$S/dump.$fmt") ;;
		kdump-*) steps+=(dump "$fmt" "$S/dump.$fmt.flat") ;;
		*) log "[$name] format $fmt is not taken (not ELF or kdump)" ;;
		esac
	done
	# aarch64: a migration stream of the same stopped guest (migrate to "exec:cat > FILE"),
	# so the stream and QEMU's ELF dump hold the same memory and the same vCPU state.
	[ "$ARCH" = aarch64 ] && steps+=(migrate "$S/migration.stream")
	"$PY" "$HERE/qmp.py" --timeout 600 --log "$S/qmp.log" "$dir/qmp.sock" "${steps[@]}" quit ||
		die "[$name] QMP session failed (see $S/qmp.log)"
	wait "$QEMU_PID" || true
	QEMU_PID=
	cp "$dir/qemu-cmdline.txt" "$S/"
	tr -d '\r' <"$dir/console.log" >"$S/console.log"
	if [ "$ARCH" = aarch64 ]; then
		[ "$(head -c 4 "$S/migration.stream")" = QEVM ] || die "[$name] migration.stream lacks the QEVM magic"
	fi
	for fmt in $FORMATS; do
		case "$fmt" in
		kdump-raw-*)
			[ "$(head -c 8 "$S/dump.$fmt")" = "KDUMP   " ] || die "[$name] dump.$fmt lacks the KDUMP signature"
			continue
			;;
		kdump-*) ;;
		*) continue ;;
		esac
		[ "$(head -c 12 "$S/dump.$fmt.flat")" = makedumpfile ] ||
			die "[$name] dump.$fmt.flat does not start with the flattened signature"
		makedumpfile -R "$S/dump.$fmt" <"$S/dump.$fmt.flat" >"$dir/rearrange.log" 2>&1 ||
			{ cat "$dir/rearrange.log"; die "[$name] makedumpfile -R of dump.$fmt.flat failed"; }
		[ "$(head -c 8 "$S/dump.$fmt")" = "KDUMP   " ] || die "[$name] dump.$fmt lacks the KDUMP signature"
	done

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
	VMCI_PADDR=$(printf '0x%x' "$vpaddr")
	VMCI_SIZE=$(printf '0x%x' "0x$vsize")

	# The guest's note: the dump's (QEMU copied it) or read from guest RAM in the ELF.
	"$PY" "$NOTES" --phys "$VMCI_PADDR" "$VMCI_SIZE" "$S/dump.elf" >"$S/ram-note.txt" ||
		die "[$name] no VMCOREINFO note in guest RAM at $VMCI_PADDR"
	local note_in_dump=0
	if "$PY" "$NOTES" --vmcoreinfo "$S/dump.elf" >"$S/vmcoreinfo-note.txt" 2>/dev/null; then
		note_in_dump=1
		cmp -s "$S/ram-note.txt" "$S/vmcoreinfo-note.txt" ||
			die "[$name] the dump's VMCOREINFO note differs from the one in guest RAM"
	else
		cp "$S/ram-note.txt" "$S/vmcoreinfo-note.txt"
	fi
	rm -f "$S/ram-note.txt"
	if [ "$device" = 1 ]; then
		[ -s "$S/fwcfg-vmcoreinfo.raw" ] ||
			die "[$name] the guest has no fw_cfg etc/vmcoreinfo entry (did insmod qemu_fw_cfg fail? see console.log)"
		[ "$note_in_dump" = 1 ] || die "[$name] QEMU did not put the guest's VMCOREINFO note into dump.elf"
	else
		[ "$note_in_dump" = 0 ] || die "[$name] unexpected: QEMU put a VMCOREINFO note into dump.elf"
	fi

	# The guest's own view of where its kernel is, checked against its note.
	local n osrel kernoff phys_off kvoff stext_note stext_ks kcode kcode_end ram pagesize kaslr
	n=$S/vmcoreinfo-note.txt
	osrel=$(sed -n 's/^OSRELEASE=//p' "$n")
	[ "$osrel" = "$(cat "$S/osrelease.txt")" ] || die "[$name] note OSRELEASE '$osrel' != uname -r"
	pagesize=$(sed -n 's/^PAGESIZE=//p' "$n")
	kernoff=$(sed -n 's/^KERNELOFFSET=//p' "$n")
	kcode=$(awk -F' : ' '$2 == "Kernel code" { sub(/-.*/, "", $1); gsub(/ /, "", $1); print $1 }' "$S/iomem.txt")
	kcode_end=$(awk -F' : ' '$2 == "Kernel code" { sub(/.*-/, "", $1); print $1 }' "$S/iomem.txt")
	ram=$(awk -F' : ' '$2 == "System RAM" { gsub(/ /, "", $1); printf "%s%s", sep, $1; sep = " " }' "$S/iomem.txt")
	# ppc64's /proc/iomem has no "Kernel code" (its kernel sits at physical 0).
	[ -n "$kcode" ] || [ "$ARCH" = ppc64le ] || die "[$name] the guest's /proc/iomem has no 'Kernel code' (see iomem.txt)"
	kaslr=$(grep -m 1 -oE 'KASLR (enabled|disabled[^\r]*)' "$S/console.log" || true)
	local stext_v text_v
	stext_v=$(awk '$3 == "_stext" { print $1 }' "$S/kallsyms.txt")
	text_v=$(awk '$3 == "_text" { print $1 }' "$S/kallsyms.txt")
	case "$ARCH" in
	aarch64)
		phys_off=$(sed -n 's/^NUMBER(PHYS_OFFSET)=//p' "$n")
		kvoff=$(sed -n 's/^NUMBER(kimage_voffset)=//p' "$n")
		stext_note=$(sed -n 's/^SYMBOL(_stext)=//p' "$n")
		stext_ks=$(awk '$3 == "_stext" { print $1 }' "$S/kallsyms.txt")
		local v
		for v in phys_off kvoff stext_note stext_ks; do
			[ -n "${!v}" ] || die "[$name] no $v: the note lacks NUMBER(PHYS_OFFSET), NUMBER(kimage_voffset) or SYMBOL(_stext), or kallsyms _stext"
		done
		[ "$stext_ks" = "$stext_note" ] || die "[$name] _stext: kallsyms $stext_ks, note $stext_note"
		# "Kernel code" starts at __pa(_stext) = _stext - kimage_voffset.
		[ $((0x$stext_note - kvoff)) = $((0x$kcode)) ] ||
			die "[$name] 'Kernel code' 0x$kcode != _stext 0x$stext_note - kimage_voffset $kvoff"
		# PHYS_OFFSET is the start of the first RAM range.
		[ $((phys_off)) = $((0x${ram%%-*})) ] || die "[$name] PHYS_OFFSET $phys_off != RAM start 0x${ram%%-*}"
		;;
	riscv64)
		# How kernel addresses become physical ones, tried on each dump's bytes
		# (riscv_facts below): the facts are printed into facts.env.
		local f
		: >"$dir/riscv.env"
		for f in "$S/dump.elf" $(for fmt in $FORMATS; do case "$fmt" in kdump-*) echo "$S/dump.$fmt" ;; esac; done); do
			riscv_facts "$f" "$n" "0x$kcode" "${text_v:+0x$text_v}" "$osrel" >>"$dir/riscv.env" ||
				die "[$name] cannot read the riscv64 facts from $f"
		done
		;;
	esac
	# Is the kernel linearly mapped at LINEAR_BASE (s390x 6.1: identity, 0; ppc64:
	# PAGE_OFFSET 0xc000000000000000)? Read the ELF at SYMBOL(init_uts_ns) - LINEAR_BASE,
	# taken as physical: "Linux" and OSRELEASE there, or not.
	local uts_v uts_linear=0
	uts_v=$(sed -n 's/^SYMBOL(init_uts_ns)=//p' "$n")
	if [ -n "$uts_v" ] && [ -n "$LINEAR_BASE" ] &&
		"$PY" "$NOTES" --read "$(printf '0x%x' $((0x$uts_v - LINEAR_BASE)))" 195 "$S/dump.elf" >"$dir/uts.hex" 2>/dev/null &&
		"$PY" -c 'import sys; b = bytes.fromhex(open(sys.argv[1]).read().strip())
sys.exit(not (b[0:6] == b"Linux\0" and b[130:195].split(b"\0")[0] == sys.argv[2].encode()))' "$dir/uts.hex" "$osrel"; then
		uts_linear=1
	fi
	# s390x: the u64 at absolute 0xe0c (the lowcore's vmcore_info field), as each dump
	# holds it, and the 24 bytes it points to in the ELF.
	local lc_elf=none lc_kdump=none lc_target=none
	if [ "$ARCH" = s390x ]; then
		lc_elf=$("$PY" "$NOTES" --u64 0xe0c "$S/dump.elf" 2>/dev/null) || lc_elf=none
		lc_kdump=$("$PY" "$NOTES" --u64 0xe0c "$S/dump.kdump-zlib" 2>/dev/null) || lc_kdump=none
		if [ "$lc_elf" != none ]; then
			lc_target=$("$PY" "$NOTES" --read "$lc_elf" 24 "$S/dump.elf" 2>/dev/null) || lc_target=none
		fi
	fi

	{
		echo "# Facts about the $ARCH guest and dumps of scenario $name (make-arch-dumps.sh)."
		echo "ARCH=$ARCH"
		echo "DEB_ARCH=$DEB_ARCH"
		echo "SCENARIO=$name"
		echo "VMCOREINFO_DEVICE=$device"
		echo "MARKER=$marker"
		echo "VMCI_PADDR=$VMCI_PADDR"
		echo "VMCI_SIZE=$VMCI_SIZE"
		echo "FWCFG_RAW_PRESENT=$([ -s "$S/fwcfg-vmcoreinfo.raw" ] && echo 1 || echo 0)"
		echo "NOTE_IN_DUMP=$note_in_dump"
		echo "OSRELEASE=$osrel"
		echo "PAGESIZE=$pagesize"
		echo "KERNELOFFSET=$kernoff"
		echo "KASLR=$([ -n "$kernoff" ] && [ $((0x$kernoff)) != 0 ] && echo 1 || echo 0)"
		echo "KASLR_CONSOLE='$kaslr'"
		echo "GUEST_KERNEL_CODE_PADDR=0x$kcode"
		echo "GUEST_KERNEL_CODE_END=0x$kcode_end"
		echo "GUEST_RAM='$ram'"
		echo "FWCFG_BUILTIN=$FWCFG_BUILTIN"
		echo "QEMU_VMCOREINFO_DEVICE='$QEMU_VMCOREINFO_DEVICE'"
		echo "GUEST_STEXT_KALLSYMS=${stext_v:+0x$stext_v}"
		echo "GUEST_TEXT_KALLSYMS=${text_v:+0x$text_v}"
		echo "INIT_UTS_NS_VADDR=${uts_v:+0x$uts_v}"
		echo "LINEAR_BASE=$LINEAR_BASE"
		echo "INIT_UTS_NS_AT_LINEAR=$uts_linear"
		case "$ARCH" in
		s390x)
			echo "LOWCORE_E0C_ELF=$lc_elf"
			echo "LOWCORE_E0C_KDUMP=$lc_kdump"
			echo "LOWCORE_E0C_TARGET_HEX=$lc_target"
			;;
		aarch64)
			echo "PHYS_OFFSET=$(printf '0x%x' "$phys_off")"
			echo "KIMAGE_VOFFSET=$kvoff"
			echo "GUEST_STEXT_VADDR=0x$stext_ks"
			;;
		riscv64) cat "$dir/riscv.env" ;;
		esac
		echo "KERNEL_VERSION=$KVER"
		echo "KERNEL_PACKAGE_VERSION=$KPKG_VERSION"
		echo "QEMU_VERSION=$QEMU_VERSION"
		echo "QEMU_VERSION_FULL='$QEMU_VERSION_FULL'"
		echo "QEMU_MACHINE=$MACHINE"
		echo "QEMU_CPU=$CPU"
		echo "RAM_MB=$RAM_MB"
		echo "BOOT_SECONDS=$BOOT_SECONDS"
		echo "DUMP_FORMATS='$FORMATS'"
		echo "MIGRATION_STREAM=$([ -s "$S/migration.stream" ] && echo 1 || echo 0)"
		"$PY" "$NOTES" --facts ELF "$S/dump.elf"
		echo "ELF_NOTES='$("$PY" "$NOTES" "$S/dump.elf" | awk '{ printf "%s%s/%s", s, $4, $6; s = " " }')'"
		for fmt in $FORMATS; do
			case "$fmt" in kdump-*) ;; *) continue ;; esac
			local p=KDUMP
			[ "$fmt" = kdump-zlib ] || p=$(echo "$fmt" | tr 'a-z-' 'A-Z_')
			"$PY" "$NOTES" --facts "$p" "$S/dump.$fmt"
		done
	} >"$S/facts.env"
	# shellcheck disable=SC1091
	(. "$S/facts.env") || die "[$name] facts.env is not shell-sourceable"
	log "[$name] done in $((SECONDS - t0)) s"
}

# ------------------------------------------------------------------ main
for sc in $SCENARIOS; do
	case "$sc" in
	vmcoreinfo) gen_scenario vmcoreinfo 1 ;;
	nodevice) gen_scenario nodevice 0 ;;
	esac
done
{
	echo "KEY=$KEY"
	echo "ARCH=$ARCH"
	echo "DEB_ARCH=$DEB_ARCH"
	echo "SUITE=$SUITE"
	echo "SCENARIOS='$SCENARIOS'"
	echo "QEMU_VMCOREINFO_DEVICE='$QEMU_VMCOREINFO_DEVICE'"
	echo "FWCFG_BUILTIN=$FWCFG_BUILTIN"
	echo "KERNEL_VERSION=$KVER"
	echo "KERNEL_PACKAGE_VERSION=$KPKG_VERSION"
	echo "BUSYBOX_VERSION='$BUSYBOX_VERSION'"
	echo "GUEST_DIR=$GUEST"
	echo "DBG_VMLINUX=$DBG_VMLINUX"
	echo "QEMU=$QEMU"
	echo "QEMU_VERSION=$QEMU_VERSION"
	echo "QEMU_VERSION_FULL='$QEMU_VERSION_FULL'"
	echo "QEMU_MACHINE=$MACHINE"
	echo "QEMU_CPU=$CPU"
	echo "DUMP_FORMATS='$FORMATS'"
	echo "RAM_MB=$RAM_MB"
	echo "SCRIPT_HASH=$SCRIPT_HASH"
	echo "GENERATED_AT=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "GENERATION_SECONDS=$(elapsed)"
} >"$OUT/generation.env"
touch "$OUT/COMPLETE"
chmod -R a+rX "$OUT"

OLD=
if [ -e "$DEST" ]; then
	OLD=$(mktemp -d "$ROOT/.old-$KEY.XXXXXX")
	mv "$DEST" "$OLD/"
fi
mv "$OUT" "$DEST"
OUT=
[ -n "$OLD" ] && rm -rf "$OLD"
log "generated in $(elapsed) s: $DEST"

others=$(find "$ROOT" -mindepth 1 -maxdepth 1 -type d ! -name "$KEY" ! -name '.*' ! -name 'apt-*' ! -name 'guest-*' -printf '%f\n')
if [ -n "$others" ]; then
	if [ "$PRUNE" = 1 ]; then
		for o in $others; do log "pruning $ROOT/$o"; rm -rf "${ROOT:?}/$o"; rm -f "$ROOT/.lock-$o"; done
	else
		log "other cache keys under $ROOT (--prune deletes them): $(echo "$others" | tr "\n" " ")"
	fi
fi
fetch_dbg
echo "$DEST" >&3
