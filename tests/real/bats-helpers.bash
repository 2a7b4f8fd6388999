# bats-helpers.bash - helpers for bats files that use the real-QEMU fixtures.
# Load from a file in tests/bats/ with:   load ../real/bats-helpers
#
#   setup_file() { real_setup_file; }      # runs make-dumps.sh once per file
#   setup()      { real_setup; }           # skips (exit 77) or fails (generation failed)
#
# After real_setup: REAL_DIR is the cache directory holding the scenario directories
# (vmcoreinfo/, nodevice/, nofwcfg/), REAL_SRCDIR the source tree.
# Integers read from files (le_hex/be_hex) are printed as 0x... hex without leading zeros.

real_setup_file() {
	REAL_SRCDIR=${SRCDIR:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}
	REAL_LOG=$BATS_FILE_TMPDIR/make-dumps.log
	local out= rc=0
	if [ "${VMCOREFIX_SLOW_TESTS:-yes}" = no ]; then
		# make check was told to leave the slow tiers out (as make distcheck does)
		echo "make-dumps: SKIP: VMCOREFIX_SLOW_TESTS=no (configure --disable-slow-tests, as make distcheck does): slow tier left out" >"$REAL_LOG"
		rc=77
	else
		out=$("$REAL_SRCDIR/tests/real/make-dumps.sh" 2>"$REAL_LOG") || rc=$?
	fi
	REAL_RC=$rc
	REAL_DIR=${out##*$'\n'}
	export REAL_SRCDIR REAL_LOG REAL_RC REAL_DIR
}

real_setup() {
	if [ "$REAL_RC" = 77 ]; then
		skip "$(grep 'SKIP:' "$REAL_LOG" | tail -n 1)"
	fi
	if [ "$REAL_RC" != 0 ]; then
		echo "tests/real/make-dumps.sh failed (exit $REAL_RC); its log ends:" >&2
		tail -n 30 "$REAL_LOG" >&2
		return 1
	fi
	[ -n "$REAL_DIR" ] && [ -f "$REAL_DIR/COMPLETE" ] || {
		echo "make-dumps.sh printed '$REAL_DIR', which is not a complete cache directory" >&2
		return 1
	}
}

# real_scenario NAME: cd into a scenario directory and source its facts.env; skips when
# this cache has no such scenario (e.g. nofwcfg with a kernel that has qemu_fw_cfg built in)
real_scenario() {
	[ -d "$REAL_DIR/$1" ] || skip "no $1 scenario in $REAL_DIR (see its generation.env)"
	cd "$REAL_DIR/$1" || return 1
	# shellcheck disable=SC1091
	. ./facts.env
}

# le_hex FILE OFFSET SIZE / be_hex FILE OFFSET SIZE: an unsigned integer of SIZE (1, 2, 4, 8)
# bytes at OFFSET, little- or big-endian
le_hex() { _int_hex little "$@"; }
be_hex() { _int_hex big "$@"; }
_int_hex() {
	local v
	v=$(od -An -v -j "$3" -N "$4" -t "x$4" --endian="$1" "$2" | tr -d ' \n')
	[ -n "$v" ] || { echo "cannot read $4 bytes at $3 of $2" >&2; return 1; }
	printf '0x%x\n' "$((0x$v))"
}

# hexnorm VALUE: any integer (0x hex or decimal, may be negative) as 0x... (64-bit)
hexnorm() { printf '0x%x\n' "$(($1))"; }

# assert_eq ACTUAL EXPECTED [WHAT]
assert_eq() {
	[ "$1" = "$2" ] && return 0
	echo "${3:-value}: got '$1', expected '$2'" >&2
	return 1
}

# assert_nonempty FILE...
assert_nonempty() {
	local f
	for f in "$@"; do
		[ -s "$f" ] || { echo "$PWD/$f: missing or empty" >&2; return 1; }
	done
}
