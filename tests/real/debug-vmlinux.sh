#!/bin/bash
# debug-vmlinux.sh KVER - make (once) and print the path of the debug vmlinux of the
# Debian kernel KVER (e.g. 6.1.0-57-amd64), for crash and drgn in the real tier.
#
# /usr/lib/debug/boot/vmlinux-KVER when linux-image-KVER-dbg is installed; otherwise the
# package is fetched with `apt-get download` (about 860 MB) and only its vmlinux is
# unpacked into the cache (about 0.4 GB; installing the package would take 5.6 GB), the
# .deb deleted.  Exit status: 0 (path printed), 77 not to be had (a "SKIP:" line on
# standard error says why), 1 failure.
#
#   VMCOREFIX_DBG_CACHE   where unpacked vmlinux files are kept (/var/cache/vmcore-fix/dbg)
#   VMCOREFIX_DBG=0       never fetch (print the path only when it is already there)
set -euo pipefail
kver=${1:?usage: debug-vmlinux.sh KVER}
cache=${VMCOREFIX_DBG_CACHE:-/var/cache/vmcore-fix/dbg}
skip() { echo "SKIP: $*" >&2; exit 77; }

installed=/usr/lib/debug/boot/vmlinux-$kver
cached=$cache/vmlinux-$kver
for f in "$installed" "$cached"; do
	if [ -r "$f" ]; then echo "$f"; exit 0; fi
done
[ "${VMCOREFIX_DBG:-1}" != 0 ] || skip "no debug vmlinux for $kver and VMCOREFIX_DBG=0"
command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null || skip "no apt-get/dpkg-deb to fetch linux-image-$kver-dbg"
mkdir -p "$cache" 2>/dev/null && [ -w "$cache" ] || skip "cannot write $cache (run as root or set VMCOREFIX_DBG_CACHE)"
exec 9>"$cache/.lock"
flock -w 1800 9 || { echo "debug-vmlinux.sh: timed out waiting for $cache/.lock" >&2; exit 1; }
if [ -r "$cached" ]; then echo "$cached"; exit 0; fi
pkg=linux-image-$kver-dbg
if ! apt-cache show "$pkg" >/dev/null 2>&1; then
	# the package lists may be older than the kernel
	apt-get update -qq >/dev/null 2>&1 || true
	apt-cache show "$pkg" >/dev/null 2>&1 || skip "$pkg is not in the apt sources"
fi
tmp=$(mktemp -d "$cache/.fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
echo "debug-vmlinux.sh: fetching $pkg" >&2
(cd "$tmp" && apt-get download -q "$pkg" >&2) || { echo "debug-vmlinux.sh: apt-get download $pkg failed" >&2; exit 1; }
deb=$(ls "$tmp"/*.deb)
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" "./usr/lib/debug/boot/vmlinux-$kver" ||
	{ echo "debug-vmlinux.sh: $deb holds no usr/lib/debug/boot/vmlinux-$kver" >&2; exit 1; }
mv "$tmp/usr/lib/debug/boot/vmlinux-$kver" "$cached"
echo "$cached"
