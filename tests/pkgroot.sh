#!/bin/bash
# pkgroot.sh - a fresh Debian 12 (bookworm) root for installing vmcore-fix's .deb
# (tests/bats/package.bats): a minbase debootstrap with the three shells whose
# completions the package installs, made once and cached, then copied for every run so
# each installs into an untouched system.
#
# Usage: pkgroot.sh --fresh DIR            copy the cached root (made first if missing)
#                                          to DIR, which must not exist; print DIR
#        pkgroot.sh --run ROOT [--bind DIR]... [--] CMD [ARG...]
#                                          run CMD inside ROOT (chroot, a private mount
#                                          namespace with /proc, /dev, /sys, an empty
#                                          /tmp, each DIR at its own path); CMD's status
#        pkgroot.sh --template             make the cached root if missing; print it
# Environment:
#   VMCOREFIX_PKGROOT_CACHE   cache root (default /var/cache/vmcore-fix); the root is
#                             pkgroot-HASH under it, HASH naming what defines it
#   VMCOREFIX_PKGROOT_MIRROR  Debian mirror URL (default: the first Debian archive in
#                             the host's apt sources that serves bookworm)
# Everything but the printed directory goes to standard error. Exit status: 0 done,
# 77 something needed cannot be had (a "SKIP:" line says what), 1 failure.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SELF=$HERE/$(basename "${BASH_SOURCE[0]}")
SUITE=bookworm
# What defines the root (its hash names the root's directory).
ROOT_PACKAGES="bash-completion zsh fish"
ROOT_FORMAT=1
ROOT_SPEC="suite=$SUITE variant=minbase format=$ROOT_FORMAT packages=$ROOT_PACKAGES"
STAMP_NAME=.vmcorefix-pkgroot.env

log() { echo "pkgroot: $*" >&2; }
skip() { echo "pkgroot: SKIP: $*" >&2; exit 77; }
die() { echo "pkgroot: ERROR: $*" >&2; exit 1; }
# shellcheck source-path=SCRIPTDIR source=debroot.bash
. "$HERE/debroot.bash"

# ------------------------------------------------------------------ inside the namespace
ns_build_root() { # ns_build_root TMPROOT MIRROR
	local r=$1 mirror=$2 t0=$SECONDS
	log "debootstrap --variant=minbase $SUITE into $r"
	debootstrap --variant=minbase "$SUITE" "$r" "$mirror" >"$r.debootstrap.log" 2>&1 || {
		tail -n 30 "$r.debootstrap.log" >&2
		die "debootstrap failed (log above)"
	}
	# mktemp -d made it 0700: as "/" that keeps every other user out (man-db's trigger
	# runs as "man")
	chmod 0755 "$r"
	printf '#!/bin/sh\nexit 101\n' >"$r/usr/sbin/policy-rc.d"
	chmod 0755 "$r/usr/sbin/policy-rc.d"
	printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' >"$r/etc/apt/apt.conf.d/90vmcorefix"
	ns_base_mounts "$r"
	# shellcheck disable=SC2086,SC2016
	in_root "$r" sh -c 'apt-get update -qq && apt-get install -y -qq "$@" && apt-get clean' \
		sh $ROOT_PACKAGES >"$r.apt.log" 2>&1 || {
		tail -n 40 "$r.apt.log" >&2
		die "apt-get install in the $SUITE root failed (log above)"
	}
	{
		echo "# The Debian $SUITE root of tests/pkgroot.sh."
		echo "ROOT_SPEC='$ROOT_SPEC'"
		echo "MIRROR=$mirror"
		echo "CREATED_AT=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
		echo "ROOT_SECONDS=$((SECONDS - t0))"
	} >"$r/$STAMP_NAME"
	rm -f "$r.debootstrap.log" "$r.apt.log"
}

ns_run() { # ns_run ROOT NBINDS DIR... CMD...
	local r=$1 n=$2 d
	shift 2
	ns_base_mounts "$r"
	local -a binds=()
	while [ "$n" -gt 0 ]; do
		binds+=("$1")
		shift
		n=$((n - 1))
	done
	while IFS= read -r d; do
		[ -n "$d" ] && ns_bind "$r" "$d"
	done < <(printf '%s\n' "${binds[@]}" | awk 'NF && !seen[$0]++ { print length($0) "\t" $0 }' | sort -n -s | cut -f2-)
	in_root "$r" "$@"
}

if [ "${1:-}" = --_ns ]; then
	shift
	trap ns_umount_all EXIT
	trap 'exit 130' INT TERM
	mode=$1
	shift
	case "$mode" in
	build-root) ns_build_root "$@" ;;
	run) ns_run "$@" ;;
	*) die "internal: unknown namespace mode $mode" ;;
	esac
	exit
fi

# ------------------------------------------------------------------ arguments
MODE=
DEST=
BINDS=()
case "${1:-}" in
--template) MODE=template ;;
--fresh) [ $# -ge 2 ] || die "--fresh needs a directory"; MODE=fresh; DEST=$2 ;;
--run)
	MODE=run
	[ $# -ge 2 ] || die "--run needs a root"
	DEST=$2
	shift 2
	while [ $# -gt 0 ]; do
		case "$1" in
		--bind) [ $# -ge 2 ] || die "--bind needs a directory"; BINDS+=("$(cd "$2" && pwd -P)"); shift 2 ;;
		--) shift; break ;;
		*) break ;;
		esac
	done
	[ $# -gt 0 ] || die "--run needs a command"
	;;
-h | --help) sed -n '2,/^set -euo/p' "$SELF" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
*) die "usage: pkgroot.sh --fresh DIR | --run ROOT [--bind DIR]... -- CMD... | --template" ;;
esac

debroot_need_namespace
if [ "$MODE" = run ]; then
	[ -x "$DEST/usr/bin/env" ] || die "$DEST is not a root made by pkgroot.sh --fresh"
	set +e
	unshare --mount --propagation private "$SELF" --_ns run "$DEST" "${#BINDS[@]}" "${BINDS[@]}" "$@"
	exit $?
fi

CACHE=${VMCOREFIX_PKGROOT_CACHE:-/var/cache/vmcore-fix}
mkdir -p "$CACHE" 2>/dev/null || skip "cannot create the cache root $CACHE"
CACHE=$(cd "$CACHE" && pwd -P)
RHASH=$(printf '%s\n' "$ROOT_SPEC" | sha256sum | cut -c1-12)
ROOT=$CACHE/pkgroot-$RHASH

ensure_root() {
	[ -f "$ROOT/$STAMP_NAME" ] && return 0
	exec 8>"$CACHE/.lock-pkgroot-$RHASH"
	flock -w 3600 8 || die "timed out waiting for the lock $CACHE/.lock-pkgroot-$RHASH"
	if [ -f "$ROOT/$STAMP_NAME" ]; then exec 8>&-; return 0; fi
	debroot_need_debootstrap "$SUITE"
	local mirror=${VMCOREFIX_PKGROOT_MIRROR:-}
	if [ -z "$mirror" ]; then
		mirror=$(debroot_mirror "$SUITE")
		[ -n "$mirror" ] || skip "no Debian mirror in the host's apt sources serves dists/$SUITE (or set VMCOREFIX_PKGROOT_MIRROR)"
	fi
	rm -rf "$CACHE/.tmp-pkgroot-$RHASH".* "$ROOT"
	local tmp t0=$SECONDS
	tmp=$(mktemp -d "$CACHE/.tmp-pkgroot-$RHASH.XXXXXX")
	log "making the Debian $SUITE root $ROOT (once; about a minute)"
	trap 'rm -rf "$tmp" "$tmp".*.log' EXIT
	unshare --mount --propagation private "$SELF" --_ns build-root "$tmp" "$mirror" ||
		{ rc=$?; [ "$rc" = 77 ] && exit 77; die "making the $SUITE root failed"; }
	mv "$tmp" "$ROOT"
	trap - EXIT
	log "root ready in $((SECONDS - t0)) s: $ROOT"
	exec 8>&-
}

ensure_root
case "$MODE" in
template) echo "$ROOT" ;;
fresh)
	[ ! -e "$DEST" ] || die "$DEST exists"
	cp -a --reflink=auto "$ROOT" "$DEST" || die "copying $ROOT to $DEST failed"
	chmod 0755 "$DEST"
	echo "$DEST"
	;;
esac
