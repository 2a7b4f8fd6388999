#!/bin/sh
# check-options.sh SRCDIR BINARY - every long option of BINARY --help must appear in
# the man page and in the bash, zsh and fish completions.
set -eu
src=$1 bin=$2
opts=$("$bin" --help | grep -E '^ +(-[^ ], )?--[a-z]' | grep -o -E -- '--[a-z][a-z0-9-]*' | sort -u)
[ -n "$opts" ] || { echo "check-options: no options found in $bin --help" >&2; exit 1; }
man=$(sed 's/\\-/-/g' "$src/man/vmcore-fix.1.in")
missing=0
for o in $opts; do
	name=${o#--}
	printf '%s\n' "$man" | grep -q -E -- "$o([^a-z0-9-]|$)" || { echo "man/vmcore-fix.1.in lacks $o"; missing=1; }
	grep -q -E -- "$o([^a-z0-9-]|$)" "$src/completions/vmcore-fix" || { echo "bash completion lacks $o"; missing=1; }
	grep -q -E -- "$o([^a-z0-9-]|$)" "$src/completions/_vmcore-fix" || { echo "zsh completion lacks $o"; missing=1; }
	grep -q -- "-l $name\\b" "$src/completions/vmcore-fix.fish" || { echo "fish completion lacks $o"; missing=1; }
done
exit $missing
