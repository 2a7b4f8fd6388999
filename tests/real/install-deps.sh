#!/bin/sh
# install-deps.sh - install what the real-QEMU test tier (tests/real/) needs, on Debian 12.
#
# Idempotent: installs only the packages that are missing (after apt-get update), and does
# nothing when all are there. Needs root (uses sudo otherwise).
#
# Then fetches the guest kernel's debug vmlinux for crash and drgn (tests/real/debug-vmlinux.sh:
# the -dbg package downloaded, about 860 MB, and only its vmlinux unpacked into
# /var/cache/vmcore-fix/dbg; VMCOREFIX_DBG=0 leaves it out, and those tests skip).
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
#   xz-utils zstd         decompress .ko.xz / .ko.zst modules if the kernel ships them so;
#   bzip2 lzop            with gzip, the compressions of libvirt's save image formats
#                         (real_migstream.bats compresses the real stream with each)
#   util-linux            flock (one generator per cache key)
#   bats                  tests/real/real_fixtures.bats
#   debootstrap wget      the Debian 13 root of tests/real/trixie.sh (QEMU 10, kernel 6.12)
#   qemu-system-arm       qemu-system-aarch64 for make-arch-dumps.sh aarch64 (which fetches
#                         the arm64 kernel, busybox and -dbg itself, never installing them)
#   qemu-system-misc      qemu-system-riscv64 (and -s390x) for make-arch-dumps.sh riscv64;
#   qemu-system-data      the firmware of -bios default: OpenSBI
#                         (/usr/share/qemu/opensbi-riscv64-generic-fw_dynamic.bin)
pkgs="qemu-system-x86 qemu-system-arm qemu-system-misc qemu-system-data busybox-static makedumpfile crash python3-drgn python3 cpio gzip kmod
xz-utils zstd bzip2 lzop util-linux coreutils bats debootstrap wget"

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
else
	echo "tests/real/install-deps.sh: installing$missing" >&2
	$SUDO apt-get update -qq
	# shellcheck disable=SC2086
	$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# The debug vmlinux of the kernel make-dumps.sh boots (the newest in /boot, or
# VMCOREFIX_KERNEL_VERSION): a failure to get it only makes its tests skip.
kver=${VMCOREFIX_KERNEL_VERSION:-$(find /boot -maxdepth 1 -name 'vmlinuz-*' -printf '%f\n' 2>/dev/null |
	sed 's/^vmlinuz-//' | sort -V | tail -n 1)}
if [ -n "$kver" ] && [ "${VMCOREFIX_DBG:-1}" != 0 ]; then
	$SUDO "$(dirname "$0")/debug-vmlinux.sh" "$kver" >/dev/null ||
		echo "tests/real/install-deps.sh: no debug vmlinux for $kver: crash and drgn tests will skip" >&2
fi
