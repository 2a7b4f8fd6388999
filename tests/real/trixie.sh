#!/bin/bash
# trixie.sh - make (once) and cache a Debian 13 (trixie) root holding QEMU 10, the 6.12
# kernel and the dump consumers (makedumpfile, crash, drgn), and the real-QEMU fixtures
# that tests/real/make-dumps.sh makes inside it with that QEMU and kernel.
# See "Debian 13 stack" in tests/real/README.md.
#
# Usage: trixie.sh [--force] [--force-root] [--prune]
#        trixie.sh --run [--bind DIR]... [--] CMD [ARG...]
#        trixie.sh --root
#   (no action)   make what is missing, then print the fixture cache directory (the one
#                 holding the scenario directories) as the last line of standard output
#   --force       regenerate the fixtures even when cached (not the root)
#   --force-root  rebuild the root too
#   --prune       afterwards, delete the other root and fixture keys of the cache
#   --run         run CMD inside the root (made first if missing, the fixtures are not),
#                 in a private mount namespace with /proc, /dev, /sys, an empty /tmp, the
#                 fixture cache and every DIR bind-mounted at its own path (so the same
#                 absolute paths work inside); the working directory is kept when it is
#                 reachable. Exit status: CMD's
#   --root        make the root if missing and print its directory
# Environment:
#   VMCOREFIX_TRIXIE_CACHE   cache root (default /var/cache/vmcore-fix/trixie)
#   VMCOREFIX_TRIXIE_MIRROR  Debian mirror URL (default: the first Debian archive, not
#                            the security one, in the host's apt sources)
#   VMCOREFIX_TRIXIE_DBG=1   also put the guest kernel's debug vmlinux into the root
#                            (linux-image-KVER-dbg: about 1 GB to download, only the vmlinux
#                            unpacked) for crash; the test suite sets it unless it is 0
#   VMCOREFIX_TRIXIE_BIND    colon-separated directories to bind as with --bind
#   VMCOREFIX_REAL_RAM_MB, VMCOREFIX_REAL_BOOT_TIMEOUT, VMCOREFIX_REAL_FORCE,
#   VMCOREFIX_REAL_KEEP_FAILED  passed to make-dumps.sh inside the root
#
# Everything but the printed directory goes to standard error. Exit status: 0 done,
# 77 something needed cannot be had (a "SKIP:" line says what), 1 failure.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SELF=$HERE/$(basename "${BASH_SOURCE[0]}")
SUITE=trixie
# What defines the root (its hash names the root's directory): edit only with care,
# every change costs a new root (about 2 minutes and 1 GB).
ROOT_PACKAGES="qemu-system-x86 linux-image-amd64 busybox-static makedumpfile crash
python3-drgn python3 cpio gzip kmod xz-utils zstd util-linux coreutils"
ROOT_FORMAT=1
ROOT_SPEC="suite=$SUITE variant=minbase format=$ROOT_FORMAT packages=$(tr '\n' ' ' <<<"$ROOT_PACKAGES")"
STAMP_NAME=.vmcorefix-root.env

log() { echo "trixie: $*" >&2; }
skip() { echo "trixie: SKIP: $*" >&2; exit 77; }
die() { echo "trixie: ERROR: $*" >&2; exit 1; }
# shellcheck source-path=SCRIPTDIR source=../debroot.bash
. "$HERE/../debroot.bash"

# ------------------------------------------------------------------ inside the namespace
# "$SELF" --_ns ROOT MODE ARGS... runs in a private mount namespace (unshare): every mount
# made here disappears with the namespace, and the trap unmounts them before that anyway.
# The mount helpers (ns_base_mounts, ns_bind, in_root, ns_umount_all) are tests/debroot.bash's.

ns_main() {
	local r=$1 mode=$2
	shift 2
	trap ns_umount_all EXIT
	trap 'exit 130' INT TERM
	case "$mode" in
	build-root) ns_build_root "$r" "$@" ;;
	add-dbg) ns_add_dbg "$r" "$@" ;;
	fixtures) ns_fixtures "$r" "$@" ;;
	run) ns_run "$r" "$@" ;;
	*) die "internal: unknown namespace mode $mode" ;;
	esac
}

ns_build_root() { # ns_build_root TMPROOT MIRROR
	local r=$1 mirror=$2 t0=$SECONDS
	log "debootstrap --variant=minbase $SUITE into $r (mirror from the host's apt sources)"
	debootstrap --variant=minbase "$SUITE" "$r" "$mirror" >"$r.debootstrap.log" 2>&1 || {
		tail -n 30 "$r.debootstrap.log" >&2
		[ -f "$r/debootstrap/debootstrap.log" ] && tail -n 30 "$r/debootstrap/debootstrap.log" >&2
		die "debootstrap failed (log above)"
	}
	log "debootstrap done in $((SECONDS - t0)) s"
	# No services in a chroot; the kernel needs no initramfs (make-dumps.sh builds its
	# own, and INITRD=No makes the kernel's postinst hook skip update-initramfs).
	printf '#!/bin/sh\nexit 101\n' >"$r/usr/sbin/policy-rc.d"
	chmod 0755 "$r/usr/sbin/policy-rc.d"
	printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' >"$r/etc/apt/apt.conf.d/90vmcorefix"
	ns_base_mounts "$r"
	local t1=$SECONDS
	# shellcheck disable=SC2086,SC2016
	in_root "$r" sh -c 'apt-get update -qq && apt-get install -y -qq --no-install-recommends "$@" && apt-get clean' \
		sh $ROOT_PACKAGES >"$r.apt.log" 2>&1 || {
		tail -n 40 "$r.apt.log" >&2
		die "apt-get install in the $SUITE root failed (log above)"
	}
	log "packages installed in $((SECONDS - t1)) s"
	local kver
	kver=$(find "$r/boot" -maxdepth 1 -name 'vmlinuz-*' -printf '%f\n' | sed 's/^vmlinuz-//' | sort -V | tail -n 1)
	[ -n "$kver" ] || die "no /boot/vmlinuz-* in the $SUITE root after installing linux-image-amd64"
	{
		echo "# The Debian $SUITE root of tests/real/trixie.sh."
		echo "SUITE=$SUITE"
		echo "ROOT_SPEC='$ROOT_SPEC'"
		echo "KERNEL_VERSION=$kver"
		# shellcheck disable=SC2016
		echo "PACKAGES='$(in_root "$r" dpkg-query -W -f '${Package}=${Version} ' qemu-system-x86 "linux-image-$kver" \
			makedumpfile crash python3-drgn busybox-static 2>/dev/null)'"
		echo "QEMU_VERSION_FULL='$(in_root "$r" qemu-system-x86_64 --version | head -n 1)'"
		echo "MAKEDUMPFILE_VERSION=$(in_root "$r" makedumpfile -v 2>&1 | sed -n 's/^makedumpfile: version \([^ ]*\).*/\1/p')"
		echo "CREATED_AT=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
		echo "ROOT_SECONDS=$((SECONDS - t0))"
	} >"$r/$STAMP_NAME.tmp"
	mv "$r/$STAMP_NAME.tmp" "$r/$STAMP_NAME"
	mv "$r.debootstrap.log" "$r.apt.log" "$r/root/" 2>/dev/null || true
}

ns_add_dbg() { # ns_add_dbg ROOT KVER
	local r=$1 kver=$2 t0=$SECONDS
	ns_base_mounts "$r"
	log "fetching linux-image-$kver-dbg into the root (about 1 GB to download; only its vmlinux is unpacked)"
	# apt-get download and dpkg-deb: the 5.6 GB of module debug files are never written
	# shellcheck disable=SC2016
	in_root "$r" sh -c 'set -e; apt-get update -qq; d=$(mktemp -d); cd "$d"; apt-get download -q "linux-image-$1-dbg"
		dpkg-deb --fsys-tarfile ./*.deb | tar -x -C / "./usr/lib/debug/boot/vmlinux-$1"; cd /; rm -rf "$d"' \
		sh "$kver" >&2 || die "fetching linux-image-$kver-dbg's vmlinux into the root failed"
	log "linux-image-$kver-dbg's vmlinux unpacked in $((SECONDS - t0)) s"
}

ns_fixtures() { # ns_fixtures ROOT FIXTURE-CACHE MAKE-DUMPS-ARGS...
	local r=$1 fix=$2
	shift 2
	ns_base_mounts "$r"
	ns_bind "$r" "$fix"
	ns_bind "$r" "$HERE" ro
	local -a env=(VMCOREFIX_REAL_CACHE="$fix")
	local v
	for v in VMCOREFIX_REAL_RAM_MB VMCOREFIX_REAL_BOOT_TIMEOUT VMCOREFIX_REAL_FORCE VMCOREFIX_REAL_KEEP_FAILED; do
		if [ -n "${!v:-}" ]; then env+=("$v=${!v}"); fi
	done
	in_root "$r" "${env[@]}" "$HERE/make-dumps.sh" "$@"
}

ns_run() { # ns_run ROOT FIXTURE-CACHE CWD NBINDS DIR... CMD...
	local r=$1 fix=$2 cwd=$3 n=$4 d
	shift 4
	ns_base_mounts "$r"
	local -a binds=()
	[ -d "$fix" ] && binds+=("$fix")
	while [ "$n" -gt 0 ]; do
		binds+=("$1")
		shift
		n=$((n - 1))
	done
	# Parents before children, so a DIR inside another is still visible.
	while IFS= read -r d; do
		[ -n "$d" ] && ns_bind "$r" "$d"
	done < <(printf '%s\n' "${binds[@]}" | awk '!seen[$0]++ { print length($0) "\t" $0 }' | sort -n -s | cut -f2-)
	# shellcheck disable=SC2016
	in_root "$r" sh -c 'cd "$1" 2>/dev/null || cd /; shift; exec "$@"' sh "$cwd" "$@"
}

if [ "${1:-}" = --_ns ]; then
	shift
	ns_main "$@"
	exit
fi

# ------------------------------------------------------------------ arguments
MODE=fixtures
FORCE=0
FORCE_ROOT=0
PRUNE=0
BINDS=()
if [ -n "${VMCOREFIX_TRIXIE_BIND:-}" ]; then
	IFS=: read -r -a BINDS <<<"$VMCOREFIX_TRIXIE_BIND"
fi
while [ $# -gt 0 ]; do
	case "$1" in
	--force) FORCE=1 ;;
	--force-root) FORCE_ROOT=1 ;;
	--prune) PRUNE=1 ;;
	--root) MODE=root ;;
	--run)
		MODE=run
		shift
		while [ $# -gt 0 ]; do
			case "$1" in
			--bind) [ $# -ge 2 ] || die "--bind needs a directory"; BINDS+=("$2"); shift 2 ;;
			--bind=*) BINDS+=("${1#--bind=}"); shift ;;
			--) shift; break ;;
			*) break ;;
			esac
		done
		[ $# -gt 0 ] || die "--run needs a command"
		break
		;;
	-h | --help) sed -n '2,/^set -euo/p' "$SELF" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown argument $1 (see --help)" ;;
	esac
	shift
done
RUN_CMD=("$@")

# ------------------------------------------------------------------ what we need
debroot_need_namespace

CACHE=${VMCOREFIX_TRIXIE_CACHE:-/var/cache/vmcore-fix/trixie}
mkdir -p "$CACHE" 2>/dev/null || skip "cannot create the cache root $CACHE"
CACHE=$(cd "$CACHE" && pwd -P)
FIX=$CACHE/real
mkdir -p "$FIX"
RHASH=$(printf '%s\n' "$ROOT_SPEC" | sha256sum | cut -c1-12)
ROOT=$CACHE/rootfs-$SUITE-$RHASH

# mirror_from_host: the first Debian archive URL (not the security archive) in the host's
# apt sources that serves our suite (tests/debroot.bash)
mirror_from_host() { debroot_mirror "$SUITE"; }

# ------------------------------------------------------------------ the root
root_complete() { [ -f "$ROOT/$STAMP_NAME" ]; }

ensure_root() {
	if [ "$FORCE_ROOT" != 1 ] && root_complete; then return 0; fi
	exec 8>"$CACHE/.lock-rootfs-$RHASH"
	if ! flock -n 8; then
		log "another trixie.sh is making the root $ROOT; waiting for it"
		flock -w 3600 8 || die "timed out waiting for the lock $CACHE/.lock-rootfs-$RHASH"
	fi
	if [ "$FORCE_ROOT" != 1 ] && root_complete; then exec 8>&-; return 0; fi
	debroot_need_debootstrap "$SUITE"
	local mirror=${VMCOREFIX_TRIXIE_MIRROR:-}
	if [ -z "$mirror" ]; then
		mirror=$(mirror_from_host)
		[ -n "$mirror" ] || skip "no Debian mirror in the host's apt sources serves dists/$SUITE (or set VMCOREFIX_TRIXIE_MIRROR)"
	fi
	# Leftovers of interrupted runs (we hold the lock: nobody uses them).
	rm -rf "$CACHE/.tmp-rootfs-$RHASH".* "$CACHE/.old-rootfs-$RHASH".*
	local tmp t0=$SECONDS
	tmp=$(mktemp -d "$CACHE/.tmp-rootfs-$RHASH.XXXXXX")
	log "making the Debian $SUITE root $ROOT (once; about 2 minutes)"
	# Do not leave a half-made root behind when we fail or are killed.
	trap 'rm -rf "$tmp" "$tmp".*.log' EXIT
	unshare --mount --propagation private "$SELF" --_ns "$tmp" build-root "$mirror" ||
		{ rc=$?; [ "$rc" = 77 ] && exit 77; die "making the $SUITE root failed"; }
	local old=
	if [ -e "$ROOT" ]; then
		old=$(mktemp -d "$CACHE/.old-rootfs-$RHASH.XXXXXX")
		mv "$ROOT" "$old/"
	fi
	mv "$tmp" "$ROOT"
	trap - EXIT
	[ -n "$old" ] && rm -rf "$old"
	log "root ready in $((SECONDS - t0)) s: $ROOT"
	exec 8>&-
}

ensure_dbg() {
	[ "${VMCOREFIX_TRIXIE_DBG:-0}" = 1 ] || return 0
	local kver
	# shellcheck disable=SC1090
	kver=$(. "$ROOT/$STAMP_NAME" && echo "$KERNEL_VERSION")
	[ -r "$ROOT/usr/lib/debug/boot/vmlinux-$kver" ] && return 0
	exec 8>"$CACHE/.lock-rootfs-$RHASH"
	flock -w 3600 8 || die "timed out waiting for the lock $CACHE/.lock-rootfs-$RHASH"
	if [ ! -r "$ROOT/usr/lib/debug/boot/vmlinux-$kver" ]; then
		unshare --mount --propagation private "$SELF" --_ns "$ROOT" add-dbg "$kver"
	fi
	exec 8>&-
}

prune() {
	local o
	for o in "$CACHE"/rootfs-*; do
		if [ ! -d "$o" ] || [ "$o" = "$ROOT" ]; then continue; fi
		log "pruning $o"
		rm -rf "$o"
		rm -f "$CACHE/.lock-$(basename "$o")"
	done
}

# ------------------------------------------------------------------ main
case "$MODE" in
root)
	ensure_root
	ensure_dbg
	echo "$ROOT"
	;;
run)
	ensure_root
	RB=()
	for b in "${BINDS[@]}"; do
		[ -d "$b" ] || die "--bind $b: not a directory"
		RB+=("$(cd "$b" && pwd -P)")
	done
	set +e
	unshare --mount --propagation private "$SELF" --_ns "$ROOT" run "$FIX" "$PWD" "${#RB[@]}" "${RB[@]}" "${RUN_CMD[@]}"
	exit $?
	;;
fixtures)
	ensure_root
	ensure_dbg
	args=()
	[ "$FORCE" = 1 ] && args+=(--force)
	[ "$PRUNE" = 1 ] && args+=(--prune)
	rc=0
	out=$(unshare --mount --propagation private "$SELF" --_ns "$ROOT" fixtures "$FIX" "${args[@]}") || rc=$?
	[ "$rc" = 0 ] || { [ "$rc" = 77 ] && skip "make-dumps.sh inside the $SUITE root skipped (its SKIP line above)"; die "make-dumps.sh inside the $SUITE root failed (exit $rc)"; }
	dir=${out##*$'\n'}
	[ -f "$dir/COMPLETE" ] || die "make-dumps.sh printed '$dir', which is not a complete fixture directory"
	[ "$PRUNE" = 1 ] && prune
	echo "$dir"
	;;
esac
