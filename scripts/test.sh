#!/bin/bash
# test.sh - install what the tests need, build, and run the whole suite
# (C unit tests, bats command-line tests, the real-QEMU tier).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh test
cd build
status=0
make -j"$(nproc)" check || status=$?
# Print failing logs so CI output says why.
if [ "$status" != 0 ]; then
	for f in $(find tests -name '*.log' ! -name test-suite.log); do
		grep -q -E '^(not ok|FAIL|ERROR)' "$f" 2>/dev/null && { echo "==== $f"; tail -n 60 "$f"; }
	done
fi
# The closing line CI reads: every TAP test case of every test program.
find tests -name '*.trs' -exec cat {} + | awk '
	/^:test-result: (PASS|XFAIL)/ { p++ }
	/^:test-result: (FAIL|XPASS|ERROR)/ { f++ }
	/^:test-result: SKIP/ { s++ }
	END { printf "%d passed, %d failed, %d skipped\n", p, f, s }'
exit "$status"
