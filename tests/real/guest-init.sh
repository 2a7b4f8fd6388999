#!/bin/busybox sh
# shellcheck shell=dash disable=SC1091
# guest-init.sh - /init of the test guest's initramfs (runs as PID 1 inside QEMU).
#
# Part of the real-QEMU fixture tier (tests/real/make-dumps.sh builds the initramfs).
# It reads its settings from /vmcorefix.conf (written by the host into the initramfs, not
# passed on the kernel command line: the command line is in the kernel log too, and the
# marker must reach the log only through /dev/kmsg):
#   MARKER=TEXT   line written to /dev/kmsg (the host looks for it in dumps)
#   FWCFG=0|1     load qemu_fw_cfg and its dependencies (1) or not (0)
# and prints, between "=====VMCOREFIX-BEGIN name=====" / "=====VMCOREFIX-END name====="
# lines on the serial console, what the host records; then "VMCOREFIX-READY" and idles.
# Every command comes from busybox (no other binary is in the initramfs).

/bin/busybox mkdir -p /proc /sys /dev /tmp /sbin /usr/bin /usr/sbin
/bin/busybox mount -t devtmpfs devtmpfs /dev
# The initramfs has no /dev/console node, so the kernel could not give us one: reopen.
exec </dev/console >/dev/console 2>&1
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys

MARKER=VMCOREFIX-MARKER-unset
FWCFG=1
. /vmcorefix.conf
marker=$MARKER
fwcfg=$FWCFG

echo "VMCOREFIX-INIT: fwcfg=$fwcfg"
if [ "$fwcfg" = 1 ]; then
	# Modules in load order (dependencies first), listed by the host.
	while read -r m; do
		insmod "/modules/$m" || echo "VMCOREFIX-INIT: insmod $m failed"
	done </modules.order
fi
# Give the fw_cfg probe (it writes etc/vmcoreinfo) a moment to finish.
i=0
while [ "$fwcfg" = 1 ] && [ ! -e /sys/firmware/qemu_fw_cfg/rev ] && [ $i -lt 50 ]; do
	sleep 0.1; i=$((i + 1))
done

echo "$marker" >/dev/kmsg
# Quiet the console from here on, so kernel messages cannot interleave with sections.
dmesg -n 1

section() { echo "=====VMCOREFIX-BEGIN $1====="; }
endsection() { echo "=====VMCOREFIX-END $1====="; }

section vmcoreinfo
cat /sys/kernel/vmcoreinfo
endsection vmcoreinfo

section iomem
cat /proc/iomem
endsection iomem

section fwcfg-vmcoreinfo-raw
f=/sys/firmware/qemu_fw_cfg/by_name/etc/vmcoreinfo/raw
[ -r "$f" ] && od -An -v -tx1 "$f" | tr -d ' \n' && echo
endsection fwcfg-vmcoreinfo-raw

section osrelease
uname -r
endsection osrelease

section kallsyms
grep -E ' (_text|_stext|init_uts_ns|init_top_pgt)$' /proc/kallsyms
endsection kallsyms

section dmesg-marker
dmesg | grep -F "$marker"
endsection dmesg-marker

section modules
cat /proc/modules
endsection modules

echo "VMCOREFIX-READY"
while :; do sleep 3600; done
