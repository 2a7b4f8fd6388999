#!/usr/bin/env bats
# The Debian package: dpkg-buildpackage -us -uc -b builds it from the release tree (what
# make dist puts in the tarball, debian/ and the changelog made from NEWS included);
# lintian finds nothing a Debian maintainer would fix; it installs into a fresh Debian 12
# root (tests/pkgroot.sh: a cached debootstrap, copied for this run) with its libraries
# pulled from the mirror, the installed binary inspects and fixes the built-in sample
# dump, the completions load in bash, zsh and fish, and dpkg --purge leaves the root as
# it was.
# Skipped, saying why, when not root, when dpkg-buildpackage, debhelper, lintian,
# fakeroot or debootstrap is missing (scripts/install-deps.sh test installs them), when
# the build dependencies are missing, when there is no Debian mirror, and with
# --disable-slow-tests (make distcheck).

load helpers

setup_file() {
	PKG_SKIP=$BATS_FILE_TMPDIR/skip
	PKG_LOG=$BATS_FILE_TMPDIR/build.log
	PKG_VERSION=$(sed -n 's/^AC_INIT(\[[^]]*\], *\[\([^]]*\)\].*/\1/p' "$SRCDIR/configure.ac")
	PKG_TREE=$BATS_FILE_TMPDIR/pkg/vmcore-fix-$PKG_VERSION
	PKG_DEB=$BATS_FILE_TMPDIR/pkg/vmcore-fix_${PKG_VERSION}_$(dpkg --print-architecture 2>/dev/null).deb
	PKG_ROOT=$BATS_FILE_TMPDIR/root
	PKG_WORK=$BATS_FILE_TMPDIR/work
	PKG_BUILD_RC=
	export PKG_SKIP PKG_LOG PKG_VERSION PKG_TREE PKG_DEB PKG_ROOT PKG_WORK PKG_BUILD_RC
	: >"$PKG_SKIP"
	pkg_prepare >"$PKG_SKIP.out" 2>&1 || true
}

# pkg_prepare: build the package and make the fresh root, or write why not to $PKG_SKIP
pkg_prepare() {
	local why p
	if why=$(slow_tests_off); then echo "$why" >"$PKG_SKIP"; return; fi
	if [ "$(id -u)" != 0 ]; then
		echo "needs root (debootstrap, chroot, dpkg -i in the root)" >"$PKG_SKIP"
		return
	fi
	for p in dpkg-buildpackage:dpkg-dev dpkg-checkbuilddeps:dpkg-dev dh:debhelper \
		lintian:lintian fakeroot:fakeroot debootstrap:debootstrap; do
		command -v "${p%%:*}" >/dev/null && continue
		echo "${p%%:*} not found: apt-get install ${p#*:} (scripts/install-deps.sh test installs it)" >"$PKG_SKIP"
		return
	done
	[ -f "$BUILDDIR/Makefile" ] || { echo "no configured build tree $BUILDDIR" >"$PKG_SKIP"; return; }
	# the release tree, exactly as make dist has it
	mkdir -p "${PKG_TREE%/*}"
	make -C "$BUILDDIR" distdir distdir="$PKG_TREE" >"$PKG_LOG" 2>&1 || { PKG_BUILD_RC=distdir; return; }
	if ! why=$(cd "$PKG_TREE" && dpkg-checkbuilddeps 2>&1); then
		echo "build dependencies missing: ${why##*: } (scripts/install-deps.sh test installs them)" >"$PKG_SKIP"
		return
	fi
	PKG_BUILD_RC=0
	# as a user would run it: not with this make check's MAKEFLAGS (its TESTS= would
	# reach debian/rules' make check and run this very file inside the build)
	(cd "$PKG_TREE" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES -u TESTS \
		DEB_BUILD_OPTIONS="parallel=$(nproc)" nice dpkg-buildpackage -us -uc -b) \
		>>"$PKG_LOG" 2>&1 || PKG_BUILD_RC=$?
	# the fresh root (pkgroot.sh exits 77 with a SKIP: line when it cannot be had)
	local rc=0
	"$SRCDIR/tests/pkgroot.sh" --fresh "$PKG_ROOT" >/dev/null 2>"$BATS_FILE_TMPDIR/pkgroot.log" || rc=$?
	if [ "$rc" = 77 ]; then
		grep 'SKIP:' "$BATS_FILE_TMPDIR/pkgroot.log" | tail -n 1 >"$PKG_SKIP"
	elif [ "$rc" != 0 ]; then
		rm -rf "$PKG_ROOT"
	fi
	mkdir -p "$PKG_WORK"
	# the built-in sample dump (make sample's), made on the host: the root has no python
	"$VFGEN" "$SRCDIR/tests/gen/specs/sample.spec" "$PKG_WORK/sample.dump"
}

teardown_file() {
	rm -rf "$PKG_ROOT"
}

setup() {
	[ ! -s "$PKG_SKIP" ] || skip "$(cat "$PKG_SKIP")"
}

# in_pkgroot CMD...: CMD inside the fresh root, with $PKG_WORK and the .deb's directory
# at their own paths
in_pkgroot() {
	"$SRCDIR/tests/pkgroot.sh" --run "$PKG_ROOT" --bind "$PKG_WORK" --bind "${PKG_DEB%/*}" -- "$@"
}

need_built() {
	if [ "$PKG_BUILD_RC" != 0 ]; then
		echo "the package build failed ($PKG_BUILD_RC); its log ends:" >&2
		tail -n 40 "$PKG_LOG" >&2
		return 1
	fi
}

need_root() {
	[ -x "$PKG_ROOT/usr/bin/env" ] || {
		echo "tests/pkgroot.sh --fresh failed:" >&2
		tail -n 30 "$BATS_FILE_TMPDIR/pkgroot.log" >&2
		return 1
	}
}

# snapshot: every path of the root but the package manager's state, caches and logs,
# with its type and mode
snapshot() {
	(cd "$PKG_ROOT" && find . -xdev \( -path ./proc -o -path ./sys -o -path ./dev -o -path ./run \
		-o -path ./tmp -o -path ./var/lib/dpkg -o -path ./var/lib/apt -o -path ./var/cache \
		-o -path ./var/log \) -prune -o -printf '%p %y %m\n' | LC_ALL=C sort)
}

@test "dpkg-buildpackage -us -uc -b builds the .deb from the release tree" {
	need_built
	[ -f "$PKG_DEB" ]
	# the version is configure.ac's, the changelog NEWS's
	[ "$(dpkg-deb -f "$PKG_DEB" Version)" = "$PKG_VERSION" ]
	sh "$SRCDIR/scripts/changelog-from-news" --check "$PKG_TREE"
	[ "$(dpkg-parsechangelog -l "$PKG_TREE/debian/changelog" -S Version)" = "$PKG_VERSION" ]
	# the library dependencies come from dpkg-shlibdeps, none is written by hand
	grep -qx 'Depends: ${misc:Depends}, ${shlibs:Depends}' "$PKG_TREE/debian/control"
	deps=$(dpkg-deb -f "$PKG_DEB" Depends)
	echo "Depends: $deps"
	for lib in libc6 libelf1 zlib1g liblzo2-2 libsnappy1v5 libzstd1 liblzma5 libbz2-1.0; do
		grep -q -E "(^|, )$lib( |,|$)" <<<"$deps"
	done
	# every file where Debian looks for it
	dpkg-deb -c "$PKG_DEB" | awk '{ print $6 }' | sed 's|^\.||' >"$BATS_TEST_TMPDIR/files"
	bashdir=$(pkg-config --variable=completionsdir bash-completion 2>/dev/null || echo /usr/share/bash-completion/completions)
	for f in /usr/bin/vmcore-fix /usr/share/man/man1/vmcore-fix.1.gz \
		"$bashdir/vmcore-fix" /usr/share/zsh/vendor-completions/_vmcore-fix \
		/usr/share/fish/vendor_completions.d/vmcore-fix.fish \
		/usr/share/doc/vmcore-fix/copyright /usr/share/doc/vmcore-fix/changelog.gz; do
		grep -qxF "$f" "$BATS_TEST_TMPDIR/files" || { echo "the .deb lacks $f"; return 1; }
	done
}

@test "lintian: no error, no warning but the allow-list's" {
	need_built
	# Tags a Debian maintainer accepts in a package built by upstream:
	#   new-package-should-close-itp-bug  no Debian bug tracks this package (not in Debian)
	allow='new-package-should-close-itp-bug'
	run nice lintian --tag-display-limit 0 "${PKG_DEB%.deb}.changes"
	echo "$output"
	bad=$(grep -E '^[EW]: ' <<<"$output" | grep -v -E "^[EW]: [^ ]+: ($allow)( |$)" || true)
	[ -z "$bad" ]
	# lintian ran to the end and found no error (its exit status is 1 on one, 2 when it fails)
	[ "$status" -eq 0 ]
}

@test "installs into a fresh Debian 12 root: dpkg -i, its libraries from the mirror" {
	need_built
	need_root
	snapshot >"$PKG_WORK/before"
	# dpkg -i alone leaves it unconfigured when a library is missing; apt-get -f fetches them
	in_pkgroot sh -c 'dpkg -i "$1" || { apt-get update -qq && apt-get install -f -y -qq; }' sh "$PKG_DEB"
	run in_pkgroot dpkg-query -W -f '${Status} ${Version}' vmcore-fix
	[ "$output" = "install ok installed $PKG_VERSION" ]
	run in_pkgroot dpkg -L vmcore-fix
	grep -qx /usr/bin/vmcore-fix <<<"$output"
}

@test "the installed vmcore-fix: --version, --inspect and the fix of the built-in sample" {
	need_root
	[ -x "$PKG_ROOT/usr/bin/vmcore-fix" ]
	run in_pkgroot /usr/bin/vmcore-fix --version
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "vmcore-fix $PKG_VERSION" ]
	run in_pkgroot /usr/bin/vmcore-fix --inspect "$PKG_WORK/sample.dump"
	echo "$output"
	[ "$status" -eq 1 ]
	grep -q 'no-vmcoreinfo' <<<"$output"
	run in_pkgroot /usr/bin/vmcore-fix "$PKG_WORK/sample.dump" --region "0x00000000013ae000 1024" \
		-o "$PKG_WORK/fixed.dump"
	echo "$output"
	[ "$status" -eq 0 ]
	run in_pkgroot /usr/bin/vmcore-fix --check "$PKG_WORK/fixed.dump"
	[ "$status" -eq 0 ]
	# byte for byte what the binary of this build tree writes
	if [ -x "$VMCOREFIX" ]; then
		"$VMCOREFIX" "$PKG_WORK/sample.dump" --region "0x00000000013ae000 1024" -o "$PKG_WORK/fixed.here" >/dev/null
		cmp "$PKG_WORK/fixed.dump" "$PKG_WORK/fixed.here"
	fi
	# the manual is installed with configure.ac's version
	zcat "$PKG_ROOT/usr/share/man/man1/vmcore-fix.1.gz" | head -n 1 | grep -qF "\"vmcore-fix $PKG_VERSION\""
}

@test "the installed completions load: bash through bash-completion, zsh's compinit, fish" {
	need_root
	[ -x "$PKG_ROOT/usr/bin/vmcore-fix" ]
	# bash-completion's on-demand loader finds it (nothing sourced by hand) and it completes
	run in_pkgroot bash -c '. /usr/share/bash-completion/bash_completion
		_completion_loader vmcore-fix; complete -p vmcore-fix
		COMP_WORDS=(vmcore-fix --ins); COMP_CWORD=1; COMP_LINE="vmcore-fix --ins"; COMP_POINT=${#COMP_LINE}
		_vmcore_fix vmcore-fix --ins vmcore-fix; echo "reply: ${COMPREPLY[*]}"'
	echo "$output"
	[ "$status" -eq 0 ]
	grep -qx 'complete -F _vmcore_fix vmcore-fix' <<<"$output"
	grep -qx 'reply: --inspect' <<<"$output"
	# zsh: compinit binds it from the package's directory on Debian's $fpath
	run in_pkgroot zsh -fc 'autoload -Uz compinit && compinit -u -d /tmp/zcompdump
		print -r -- "comp: ${_comps[vmcore-fix]}"; print -r -- "from: $(whence -v _vmcore-fix)"'
	echo "$output"
	[ "$status" -eq 0 ]
	grep -qx 'comp: _vmcore-fix' <<<"$output"
	grep -q '/usr/share/zsh/vendor-completions/_vmcore-fix' <<<"$output"
	# fish: autoloaded from vendor_completions.d (its history and config in /tmp, not
	# in /root: the purge test compares the whole root)
	run in_pkgroot env HOME=/tmp XDG_CONFIG_HOME=/tmp/config XDG_DATA_HOME=/tmp/data \
		fish -c 'complete -C "vmcore-fix --ins"'
	echo "$output"
	[ "$status" -eq 0 ]
	grep -q '^--inspect' <<<"$output"
}

@test "dpkg --purge removes it cleanly: the root is as it was before the install" {
	need_root
	[ -s "$PKG_WORK/before" ] || { echo "the install test did not run"; return 1; }
	run in_pkgroot dpkg --purge vmcore-fix
	echo "$output"
	[ "$status" -eq 0 ]
	run in_pkgroot dpkg-query -W -f '${Status}' vmcore-fix
	[ "$status" -ne 0 ] || [ "$output" = "unknown ok not-installed" ] || [ -z "$output" ]
	# and the libraries apt-get pulled in for it go too
	in_pkgroot apt-get autoremove --purge -y -qq >/dev/null
	snapshot >"$PKG_WORK/after"
	diff "$PKG_WORK/before" "$PKG_WORK/after"
}
