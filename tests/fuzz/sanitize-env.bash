# sanitize-env.bash - BASH_ENV of the test suite's run under ASan+UBSan
# (scripts/test.sh): every bash the bats tests start reads it.
#
# ASan reserves terabytes of address space for its shadow memory at start,
# so a sanitized vmcore-fix cannot start under `ulimit -v` (the bats files
# bound memory that way).  Here `ulimit -v` is accepted and not applied:
# the memory bounds are the plain tier's to check; this tier checks memory
# errors, leaks and undefined behaviour on the same runs.  Every other ulimit
# is the builtin's.
ulimit() {
	local a
	for a in "$@"; do
		case $a in -v | -*v*) return 0 ;; esac
	done
	builtin ulimit "$@"
}
