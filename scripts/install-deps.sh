#!/bin/sh
# install-deps.sh [build|test] - install what vmcore-fix needs on Debian 12 (as root).
#   build: compiler, autotools and the libraries (libelf, zlib, lzo2, snappy, zstd,
#          liblzma, libbz2)
#   test:  build + bats, the compressors whose files the tests read (gzip,
#          bzip2, xz-utils, lzop, zstd: tests/bats/codecs.bats), clang with
#          libFuzzer (tests/fuzz), the Debian packaging
#          tools and debootstrap (tests/bats/package.bats builds the .deb, runs
#          lintian and installs it into a fresh Debian 12 root) and the real-QEMU
#          test tier (qemu, a guest kernel, busybox, makedumpfile, crash, drgn);
#          mkfs.xfs and mkfs.btrfs (tests/bats/reflink.bats loop-mounts both) and
#          strace (tests/bats/sync.bats counts the sync calls)
set -eu
what=${1:-build}
SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive

build_pkgs="build-essential autoconf automake pkg-config libelf-dev zlib1g-dev liblzo2-dev libsnappy-dev libzstd-dev liblzma-dev libbz2-dev python3"
test_pkgs="bats clang libclang-rt-dev python3 python3-lzo python3-snappy python3-zstd gzip bzip2 xz-utils lzop zstd jq groff-base bash-completion binutils elfutils zsh fish time parallel xfsprogs btrfs-progs strace"
pkg_pkgs="dpkg-dev debhelper fakeroot lintian debootstrap wget"

pkgs=$build_pkgs
[ "$what" = test ] && pkgs="$pkgs $test_pkgs $pkg_pkgs"

missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
	$SUDO apt-get update -qq
	# shellcheck disable=SC2086
	$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
if [ "$what" = test ] && [ -x tests/real/install-deps.sh ]; then
	tests/real/install-deps.sh
fi
