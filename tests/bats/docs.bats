#!/usr/bin/env bats
# The manual, --help and the completions agree; the man page renders cleanly.

load helpers

setup() {
	[ -x "$VMCOREFIX" ] || skip "vmcore-fix not built ($VMCOREFIX)"
}

@test "every long option is in the man page and all three completions" {
	run sh "$SRCDIR/scripts/check-options.sh" "$SRCDIR" "$VMCOREFIX"
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "the man page renders without warnings" {
	command -v groff >/dev/null || skip "groff not installed"
	[ -r "$BUILDDIR/man/vmcore-fix.1" ] || skip "man page not built ($BUILDDIR/man/vmcore-fix.1)"
	run groff -man -Tutf8 -ww -z "$BUILDDIR/man/vmcore-fix.1"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "the version is written once, in configure.ac: the man page, --version and NEWS follow it" {
	version=$(sed -n 's/^AC_INIT(\[[^]]*\], *\[\([^]]*\)\].*/\1/p' "$SRCDIR/configure.ac")
	[ -n "$version" ]
	[ -r "$BUILDDIR/man/vmcore-fix.1" ] || skip "man page not built ($BUILDDIR/man/vmcore-fix.1)"
	run sed -n 1p "$BUILDDIR/man/vmcore-fix.1"
	[[ "$output" == '.TH VMCORE-FIX 1 "'*'" "vmcore-fix '"$version"'" "User Commands"' ]]
	run "$VMCOREFIX" --version
	[ "${lines[0]}" = "vmcore-fix $version" ]
	# NEWS's first entry is this version's; no other file spells the number
	run grep -m 1 '^\* Noteworthy changes in release ' "$SRCDIR/NEWS"
	[[ "$output" == "* Noteworthy changes in release $version "* ]]
	run grep -rlF -e "$version" "$SRCDIR/man" "$SRCDIR/src" "$SRCDIR/completions" "$SRCDIR/README.md" \
		"$SRCDIR/debian/control" "$SRCDIR/debian/rules" "$SRCDIR/debian/copyright" "$SRCDIR/debian/source"
	echo "$output"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
}

@test "debian/changelog is made from NEWS: one entry per release, the first with configure.ac's version" {
	run sh "$SRCDIR/scripts/changelog-from-news" "$SRCDIR"
	[ "$status" -eq 0 ]
	cl=$output
	version=$(sed -n 's/^AC_INIT(\[[^]]*\], *\[\([^]]*\)\].*/\1/p' "$SRCDIR/configure.ac")
	[[ "${lines[0]}" == "vmcore-fix ($version) "@(UNRELEASED|unstable)"; urgency=medium" ]]
	# as many entries and trailers as NEWS has releases, and every NEWS heading is an item
	releases=$(grep -c '^\* Noteworthy changes in release ' "$SRCDIR/NEWS")
	[ "$(grep -c '^vmcore-fix (' <<<"$cl")" = "$releases" ]
	[ "$(grep -c '^ -- [^<]* <[^>]*>  [A-Z][a-z][a-z], [0-9][0-9] [A-Z][a-z][a-z] [0-9]\{4\} ' <<<"$cl")" = "$releases" ]
	# (an item's first lines, up to a blank one, joined: a long heading is refilled)
	items=$(awk '/^  \* / { if (h != "") print h; h = $0; next }
		h != "" && /^    [^ ]/ { t = $0; sub(/^ +/, "", t); h = h " " t; next }
		{ if (h != "") print h; h = "" } END { if (h != "") print h }' <<<"$cl")
	while IFS= read -r h; do
		h=$(tr -s ' ' <<<"${h#\*\* }")
		grep -qxF "  * $h" <<<"$items" || { echo "no item for NEWS heading: $h"; return 1; }
	done < <(grep '^\*\* ' "$SRCDIR/NEWS")
	# every change line is indented and fits 80 columns
	[ -z "$(grep -v -E '^(vmcore-fix \(| -- |  .|$)' <<<"$cl")" ]
	[ -z "$(grep -v '^ -- ' <<<"$cl" | awk 'length($0) > 80')" ]
	if command -v dpkg-parsechangelog >/dev/null; then
		printf '%s\n' "$cl" >"$BATS_TEST_TMPDIR/changelog"
		run dpkg-parsechangelog -l "$BATS_TEST_TMPDIR/changelog" -S Version
		[ "$output" = "$version" ]
	fi
}

@test "changelog-from-news refuses a NEWS whose first release is not configure.ac's version" {
	t=$BATS_TEST_TMPDIR/tree
	mkdir -p "$t/debian"
	cp "$SRCDIR/configure.ac" "$SRCDIR/debian/control" "$t/" && mv "$t/control" "$t/debian/"
	sed '0,/^\* Noteworthy changes in release [^ ]*/s//* Noteworthy changes in release 9.9.9/' "$SRCDIR/NEWS" >"$t/NEWS"
	run sh "$SRCDIR/scripts/changelog-from-news" "$t"
	[ "$status" -eq 1 ]
	[[ "$output" == *"first entry is for release 9.9.9, configure.ac's AC_INIT says"* ]]
}

@test "every exit code is documented in the man page's EXIT STATUS" {
	codes=$(grep -o -E 'VF_EXIT_[A-Z_]+ = [0-9]+' "$SRCDIR/src/cli/exitcodes.h" | awk '{print $3}')
	[ -n "$codes" ]
	section=$(sed -n '/^\.SH EXIT STATUS/,/^\.SH /p' "$SRCDIR/man/vmcore-fix.1.in")
	for c in $codes; do
		grep -q -x "\.B $c" <<<"$section"
	done
}

@test "bash completion completes options and file names" {
	run bash -c '
		complete() { :; }; compopt() { :; }
		. "$1/completions/vmcore-fix"
		COMP_WORDS=(vmcore-fix --ins); COMP_CWORD=1; _vmcore_fix; echo "${COMPREPLY[*]}"
		COMP_WORDS=(vmcore-fix --js); COMP_CWORD=1; _vmcore_fix; echo "${COMPREPLY[*]}"
		COMP_WORDS=(vmcore-fix --jo); COMP_CWORD=1; _vmcore_fix; echo "${COMPREPLY[*]}"
		cd "$1"; COMP_WORDS=(vmcore-fix --inspect REA); COMP_CWORD=2; _vmcore_fix; echo "${COMPREPLY[*]}"
	' _ "$SRCDIR"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "--inspect" ]
	[ "${lines[1]}" = "--json" ]
	[ "${lines[2]}" = "--jobs" ]
	[ "${lines[3]}" = "README.md" ]
}

@test "zsh and fish completions parse" {
	command -v zsh >/dev/null || command -v fish >/dev/null || skip "neither zsh nor fish installed"
	if command -v zsh >/dev/null; then zsh -n "$SRCDIR/completions/_vmcore-fix"; fi
	if command -v fish >/dev/null; then fish -n "$SRCDIR/completions/vmcore-fix.fish"; fi
}

@test "the README documents every exit code" {
	for c in 0 1 2 3 4 5 6; do
		grep -q -E "^\| $c \|" "$SRCDIR/README.md"
	done
}
