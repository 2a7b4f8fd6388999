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
	run groff -man -Tutf8 -ww -z "$SRCDIR/man/vmcore-fix.1"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "every exit code is documented in the man page's EXIT STATUS" {
	codes=$(grep -o -E 'VF_EXIT_[A-Z_]+ = [0-9]+' "$SRCDIR/src/cli/exitcodes.h" | awk '{print $3}')
	[ -n "$codes" ]
	section=$(sed -n '/^\.SH EXIT STATUS/,/^\.SH /p' "$SRCDIR/man/vmcore-fix.1")
	for c in $codes; do
		grep -q -x "\.B $c" <<<"$section"
	done
}

@test "bash completion completes options and file names" {
	run bash -c '
		complete() { :; }; compopt() { :; }
		. "$1/completions/vmcore-fix"
		COMP_WORDS=(vmcore-fix --ins); COMP_CWORD=1; _vmcore_fix; echo "${COMPREPLY[*]}"
		COMP_WORDS=(vmcore-fix --j); COMP_CWORD=1; _vmcore_fix; echo "${COMPREPLY[*]}"
		cd "$1"; COMP_WORDS=(vmcore-fix --inspect REA); COMP_CWORD=2; _vmcore_fix; echo "${COMPREPLY[*]}"
	' _ "$SRCDIR"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "--inspect" ]
	[ "${lines[1]}" = "--json" ]
	[ "${lines[2]}" = "README.md" ]
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
