#!/bin/sh
# install-deps.sh - install what the real-QEMU test tier (tests/real/) needs, on Debian 12.
#
# Idempotent: installs only the packages that are missing (after apt-get update), and does
# nothing when all are there. Needs root (uses sudo otherwise).
#
# Does NOT install the guest kernel's debug vmlinux (~860 MB download, 5.6 GB installed);
# see tests/real/README.md ("Debug vmlinux") for the one command that does.
set -eu

SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive

#   qemu-system-x86       the emulator (QEMU 7.2 on Debian 12)
#   busybox-static        the guest's whole user space
#   makedumpfile          -R (reassemble QEMU's flattened kdump) and the variants
#   crash python3-drgn    consumers used by the tests that read these fixtures
#   python3               the QMP client and the note/fix-up tools (standard library only)
#   cpio gzip kmod        initramfs build, module lookup (modinfo)
#   xz-utils zstd         decompress .ko.xz / .ko.zst modules if the kernel ships them so
#   util-linux            flock (one generator per cache key)
#   bats                  tests/real/real_fixtures.bats
#   debootstrap wget      the Debian 13 root of tests/real/trixie.sh (QEMU 10, kernel 6.12)
pkgs="qemu-system-x86 busybox-static makedumpfile crash python3-drgn python3 cpio gzip kmod
xz-utils zstd util-linux coreutils bats debootstrap wget"

# A guest kernel: any installed Debian kernel image will do; otherwise the metapackage.
if ! ls /boot/vmlinuz-* >/dev/null 2>&1; then
	pkgs="$pkgs linux-image-amd64"
fi

missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
if [ -z "$missing" ]; then
	echo "tests/real/install-deps.sh: all installed" >&2
	exit 0
fi
echo "tests/real/install-deps.sh: installing$missing" >&2
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
