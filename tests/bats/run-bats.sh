#!/bin/sh
# run-bats.sh FILE.bats - the test driver's compiler for bats files.
# bats is looked up when the tests run, not when the build is configured, so a
# build configured before bats was installed still runs every bats file; where
# bats is missing the file is counted as one skipped test that says so, never
# left out of the closing counts.
bats=${BATS:-}
[ -n "$bats" ] && command -v "$bats" >/dev/null 2>&1 || bats=$(command -v bats 2>/dev/null || true)
if [ -z "$bats" ]; then
	echo "1..1"
	echo "ok 1 $(basename "$1") # SKIP bats is not installed (apt-get install bats, or run scripts/test.sh)"
	exit 0
fi
exec "$bats" --tap "$@"
