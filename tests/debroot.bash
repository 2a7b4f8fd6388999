# debroot.bash - shared by the scripts that make and use cached debootstrap roots
# (tests/real/trixie.sh: Debian 13 with QEMU 10; tests/pkgroot.sh: a bare Debian 12
# for the package test).  Source it from bash; the caller defines log, skip and die
# (skip exits 77 with a "SKIP:" line).
#
#   debroot_mirror SUITE        the first Debian archive URL (not the security one) in
#                               the host's apt sources that serves dists/SUITE; empty
#                               when none does
#   debroot_need_debootstrap SUITE  install debootstrap when missing (apt-get), or skip;
#                               skip when it cannot make SUITE or wget is missing
#   debroot_need_namespace      skip unless this is root with unshare, chroot, mount,
#                               flock and sha256sum, and private mount namespaces work
# In a private mount namespace (unshare --mount --propagation private), the ns_*
# functions mount into a root and remember what they mounted; ns_umount_all (set it as
# the EXIT trap) unmounts everything again:
#   ns_base_mounts ROOT         /proc, /dev, /sys and an empty /tmp
#   ns_bind ROOT DIR [ro]       DIR at the same path inside ROOT
#   in_root ROOT CMD...         CMD inside ROOT (chroot) with a clean environment

DEBROOT_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

debroot_mirror() {
	local suite=$1 f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		case "$f" in
		*.sources)
			awk 'BEGIN { RS = ""; FS = "\n" } {
				types = ""; uris = ""; suites = ""; enabled = "yes"
				for (i = 1; i <= NF; i++) {
					line = $i; sub(/#.*/, "", line)
					if (match(line, /^[A-Za-z-]+:/)) {
						k = tolower(substr(line, 1, RLENGTH - 1)); v = substr(line, RLENGTH + 1)
						if (k == "types") types = v; else if (k == "uris") uris = v
						else if (k == "suites") suites = v; else if (k == "enabled") enabled = v
					}
				}
				gsub(/^[ \t]+|[ \t]+$/, "", enabled)
				if (enabled == "no" || types !~ /(^|[ \t])deb([ \t]|$)/ || suites ~ /security/) next
				n = split(uris, u, /[ \t]+/)
				for (j = 1; j <= n; j++) if (u[j] ~ /^https?:\/\// && u[j] !~ /security/) print u[j]
			}' "$f"
			;;
		*)
			awk '{ sub(/#.*/, "") } $1 == "deb" {
				i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/ && i < NF) i++; i++ }
				if ($i ~ /^https?:\/\// && $i !~ /security/ && $(i + 1) !~ /security/) print $i }' "$f"
			;;
		esac
	done | awk '!seen[$0]++' | while read -r u; do
		# a Debian archive has pool/ and dists/; check it serves the suite
		u=${u%/}
		if wget -q -T 20 -t 1 -O /dev/null "$u/dists/$suite/Release" 2>/dev/null; then
			echo "$u"
			break
		fi
	done
}

debroot_need_debootstrap() {
	local suite=$1
	if ! command -v debootstrap >/dev/null; then
		command -v apt-get >/dev/null || skip "debootstrap not found and no apt-get to install it"
		log "installing debootstrap on the host (apt-get install debootstrap)"
		apt-get install -y -qq -o DPkg::Lock::Timeout=600 debootstrap >&2 ||
			skip "debootstrap is not installable (apt-get install debootstrap failed)"
	fi
	command -v wget >/dev/null || skip "wget not found (debootstrap needs it): apt-get install wget"
	[ -e "/usr/share/debootstrap/scripts/$suite" ] ||
		skip "this debootstrap does not know $suite (/usr/share/debootstrap/scripts/$suite): upgrade debootstrap"
}

debroot_need_namespace() {
	[ "$(id -u)" = 0 ] || skip "needs root (debootstrap, chroot and mounts); run as root"
	local p
	for p in unshare:util-linux chroot:coreutils mount:mount flock:util-linux sha256sum:coreutils; do
		command -v "${p%%:*}" >/dev/null || skip "${p%%:*} not found: apt-get install ${p#*:}"
	done
	unshare --mount --propagation private true 2>/dev/null ||
		skip "cannot make a private mount namespace here (unshare --mount failed)"
}

# ------------------------------------------------------------------ inside the namespace
MOUNTS=()
CREATED=()
ns_umount_all() {
	local i ok=1
	for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
		umount -R "${MOUNTS[i]}" 2>/dev/null || umount -l "${MOUNTS[i]}" 2>/dev/null || ok=0
	done
	MOUNTS=()
	# Mount points this run created outside the root's (tmpfs) /tmp: remove them again
	# (only when everything is unmounted: never walk into a host directory).
	if [ "$ok" = 1 ]; then
		for i in "${CREATED[@]}"; do
			if [ -d "$i" ]; then find "$i" -depth -type d -empty -delete 2>/dev/null || true; fi
		done
	fi
	CREATED=()
}
ns_mount() { # ns_mount MOUNTPOINT MOUNT-ARGS...: mount, remembered for the trap
	local mp=$1
	shift
	mount "$@" "$mp" || die "mount $* $mp failed"
	MOUNTS+=("$mp")
}
ns_mkpoint() { # ns_mkpoint PATH: mkdir -p PATH, remembering the first directory it made
	local p=$1 top=
	while [ ! -e "$p" ]; do
		top=$p
		p=$(dirname "$p")
	done
	mkdir -p "$1"
	if [ -n "$top" ]; then CREATED+=("$top"); fi
}
ns_base_mounts() {
	local r=$1
	ns_mount "$r/proc" -t proc proc
	ns_mount "$r/dev" --rbind /dev
	ns_mount "$r/sys" -t sysfs sysfs
	ns_mount "$r/tmp" -t tmpfs -o mode=1777 tmpfs
}
ns_bind() {
	local r=$1 d=$2
	ns_mkpoint "$r$d"
	ns_mount "$r$d" --bind "$d"
	if [ "${3:-}" = ro ]; then mount -o remount,bind,ro "$r$d" || die "remount ro $r$d failed"; fi
}
in_root() {
	local r=$1
	shift
	chroot "$r" /usr/bin/env -i PATH="$DEBROOT_PATH" HOME=/root LC_ALL=C.UTF-8 TERM=dumb \
		TMPDIR=/tmp DEBIAN_FRONTEND=noninteractive INITRD=No "$@"
}
