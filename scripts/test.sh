#!/bin/bash
# test.sh - install what the tests need, build, and run the whole suite
# (C unit tests, bats command-line tests, the real-QEMU tier), then two tiers
# that look for memory errors and undefined behaviour:
#   asan: the fast suite (unit tests and tests/bats) once more, built in
#         build/asan with -fsanitize=address,undefined (halt on the first
#         error; leak detection on);
#   fuzz: each libFuzzer target of tests/fuzz for FUZZ_SECONDS (20) seconds
#         (tests/fuzz/run.sh, in build/fuzz); skipped where clang or
#         libFuzzer is missing.
# TEST_ASAN=no or TEST_FUZZ=no leaves a tier out (its tests count as skipped).
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
scripts/build.sh test
cd build
status=0
make -j"$(nproc)" check || status=$?

# Print failing logs so CI output says why.
failing_logs() {
	for f in $(find tests -name '*.log' ! -name test-suite.log); do
		grep -q -E '^(not ok|FAIL|ERROR)' "$f" 2>/dev/null && { echo "==== $f"; tail -n 60 "$f"; }
	done
	return 0
}
# Count every TAP test case of every test program under the current directory's tests/.
count() {
	find tests -name '*.trs' -exec cat {} + | awk '
		/^:test-result: (PASS|XFAIL)/ { p++ }
		/^:test-result: (FAIL|XPASS|ERROR)/ { f++ }
		/^:test-result: SKIP/ { s++ }
		END { printf "%d %d %d\n", p, f, s }'
}
[ "$status" = 0 ] || failing_logs
read -r pass fail skip < <(count)
echo "suite: $pass passed, $fail failed, $skip skipped"

# The fast suite: every unit test and every bats file but the real-QEMU tier and
# the package test (it builds the .deb and installs it in a root: no sanitized
# binary takes part).
fast=$(cd "$top" && ls tests/unit/test_*.c | sed 's/\.c$//'; cd "$top" && ls tests/bats/*.bats | grep -v -x tests/bats/package.bats)
nfast=$(echo "$fast" | wc -l)

asan_tier() {
	local dir=asan st=0
	local san="-fsanitize=address,undefined -fno-omit-frame-pointer -g -O1"
	mkdir -p "$dir"
	(cd "$dir" && { [ -f Makefile ] || ../../configure --quiet CFLAGS="$san" >/dev/null 2>&1; }) || {
		echo "asan: skipped: the compiler cannot build with $san"
		ap=0 af=0 as=$nfast
		return 0
	}
	(cd "$dir" && make -j"$(nproc)" --quiet >/dev/null) || {
		echo "asan: build failed"
		ap=0 af=$nfast as=0
		return 1
	}
	(cd "$dir" && find tests -name '*.trs' -delete 2>/dev/null || true)
	# halt on the first error of either sanitizer; leaks fail a unit test and
	# a vmcore-fix run alike; the bats files' ulimit -v is set aside (ASan's
	# shadow memory needs the address space: tests/fuzz/sanitize-env.bash)
	(cd "$dir" && ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:abort_on_error=1:print_summary=1 \
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		BASH_ENV="$top/tests/fuzz/sanitize-env.bash" \
		make -j"$(nproc)" check TESTS="$(echo $fast)" >/dev/null 2>&1) || st=$?
	[ "$st" = 0 ] || (cd "$dir" && failing_logs)
	read -r ap af as < <(cd "$dir" && count)
	echo "asan: $ap passed, $af failed, $as skipped"
	return "$st"
}

fuzz_tier() {
	local st=0 out
	out=$(FUZZ_SECONDS=${FUZZ_SECONDS:-20} FUZZ_BUILDDIR="$top/build/fuzz" \
		"$top/tests/fuzz/run.sh" 2>&1) || st=$?
	echo "$out" | sed 's/^/fuzz: /' | sed '$d'
	read -r fp _ ff _ fs _ < <(echo "$out" | tail -n 1)
	echo "fuzz: $fp passed, $ff failed, $fs skipped"
	return "$st"
}

ap=0 af=0 as=0
if [ "${TEST_ASAN:-yes}" = no ]; then
	as=$nfast
	echo "asan: skipped (TEST_ASAN=no)"
else
	asan_tier || status=1
fi
fp=0 ff=0 fs=0
if [ "${TEST_FUZZ:-yes}" = no ]; then
	fs=$(ls "$top"/tests/fuzz/fuzz_*.c | wc -l)
	echo "fuzz: skipped (TEST_FUZZ=no)"
else
	fuzz_tier || status=1
fi

# The closing line CI reads: every TAP test case of every test program, each
# sanitized test program's cases, and each fuzz target as one test.
echo "$((pass + ap + fp)) passed, $((fail + af + ff)) failed, $((skip + as + fs)) skipped"
exit "$status"
