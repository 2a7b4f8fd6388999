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
#   libvirt-daemon-system libvirt-daemon-driver-qemu libvirt-clients
#                         libvirtd and virsh for make-saved.sh (real_saved.bats), which runs
#                         its own libvirtd in private namespaces; installed below without
#                         starting the host's (bzip2, lzop: libvirt's save image formats)
pkgs="qemu-system-x86 qemu-system-arm qemu-system-misc qemu-system-data busybox-static makedumpfile crash python3-drgn python3 cpio gzip kmod
xz-utils zstd bzip2 lzop util-linux coreutils bats debootstrap wget"
libvirt_pkgs="libvirt-daemon-system libvirt-daemon-driver-qemu libvirt-clients"

# A guest kernel: any installed Debian kernel image will do; otherwise the metapackage.
if ! ls /boot/vmlinuz-* >/dev/null 2>&1; then
	pkgs="$pkgs linux-image-amd64"
fi

missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
lv_missing=
for p in $libvirt_pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || lv_missing="$lv_missing $p"
done
if [ -z "$missing$lv_missing" ]; then
	echo "tests/real/install-deps.sh: all installed" >&2
else
	echo "tests/real/install-deps.sh: installing$missing$lv_missing" >&2
	$SUDO apt-get update -qq
fi
if [ -n "$missing" ]; then
	# shellcheck disable=SC2086
	$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
if [ -n "$lv_missing" ]; then
	# libvirt's packages would start the host's libvirtd (and with it the network
	# driver, whose default network would change the host's bridges and firewall):
	# a policy-rc.d that refuses every start while they install (unless one exists),
	# then, on a host run by systemd, the daemons and sockets stopped and disabled.
	# make-saved.sh never uses the host's libvirtd.
	prc=/usr/sbin/policy-rc.d
	made_prc=0
	if [ ! -e "$prc" ]; then
		printf '#!/bin/sh\n# tests/real/install-deps.sh: no service starts while libvirt installs\nexit 101\n' |
			$SUDO tee "$prc" >/dev/null
		$SUDO chmod 0755 "$prc"
		made_prc=1
	fi
	rc=0
	# shellcheck disable=SC2086
	$SUDO apt-get install -y -qq --no-install-recommends $lv_missing >/dev/null || rc=$?
	[ "$made_prc" = 1 ] && $SUDO rm -f "$prc"
	[ "$rc" = 0 ] || exit "$rc"
	if [ -d /run/systemd/system ]; then
		for u in libvirtd.service libvirtd.socket libvirtd-ro.socket libvirtd-admin.socket \
			libvirtd-tcp.socket libvirtd-tls.socket libvirt-guests.service; do
			$SUDO systemctl disable --now "$u" >/dev/null 2>&1 || true
		done
	fi
	# no network of the host's libvirt autostarts (Debian 12 makes no link; in case)
	$SUDO rm -f /etc/libvirt/qemu/networks/autostart/default.xml
fi

# The debug vmlinux of the kernel make-dumps.sh boots (the newest in /boot, or
# VMCOREFIX_KERNEL_VERSION): a failure to get it only makes its tests skip.
kver=${VMCOREFIX_KERNEL_VERSION:-$(find /boot -maxdepth 1 -name 'vmlinuz-*' -printf '%f\n' 2>/dev/null |
	sed 's/^vmlinuz-//' | sort -V | tail -n 1)}
if [ -n "$kver" ] && [ "${VMCOREFIX_DBG:-1}" != 0 ]; then
	$SUDO "$(dirname "$0")/debug-vmlinux.sh" "$kver" >/dev/null ||
		echo "tests/real/install-deps.sh: no debug vmlinux for $kver: crash and drgn tests will skip" >&2
fi
