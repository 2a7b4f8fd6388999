#!/bin/sh
# check-bats.sh FILE... - print FILE:LINE for every test line that is a bare
# `! command`. bats runs a test under `set -e`, and bash's errexit ignores a
# pipeline that begins with `!`: such a line asserts nothing unless it is the
# test's last command. Write `! command || false` (or `run` and check
# $status) instead. Exits 1 when it printed anything.
awk '
	FNR == 1 { intest = 0 }
	/^@test / { intest = 1 }
	/^}/ { intest = 0 }
	intest && /^[ \t]*! / && !/\|\| *false[ \t]*$/ && !/;[ \t]*then[ \t]*$/ && !/&&[ \t]*$/ {
		printf "%s:%d: bare \"! command\" asserts nothing in bats (add \"|| false\")\n", FILENAME, FNR
		bad = 1
	}
	END { exit bad }
' "$@"
