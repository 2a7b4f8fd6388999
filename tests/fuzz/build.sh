#!/bin/bash
# build.sh [BUILDDIR] - build the libFuzzer targets (tests/fuzz/fuzz_*.c).
#
# Configures its own build tree BUILDDIR (default build-fuzz at the top of the
# source tree) with clang and the library built with
# -fsanitize=fuzzer-no-link,address,undefined, builds src/libvmcorefix.a there
# and links each target with -fsanitize=fuzzer,address,undefined into
# BUILDDIR/fuzz/NAME.  Undefined behaviour aborts (no recovery), so that
# libFuzzer keeps the input.  Exit 77 (skipped) when clang or libFuzzer is
# missing; 1 on a build failure.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
bdir=${1:-$top/build-fuzz}
CLANG=${CLANG:-clang}
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"

# clang with libFuzzer's runtime, or skip
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
printf '#include <stdint.h>\n#include <stddef.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { return 0; }\n' \
	>"$probe/p.c"
if ! command -v "$CLANG" >/dev/null 2>&1 ||
	! "$CLANG" -fsanitize=fuzzer,address,undefined "$probe/p.c" -o "$probe/p" 2>/dev/null; then
	echo "fuzz: $CLANG with libFuzzer (libclang-rt-dev) not found: skipped" >&2
	exit 77
fi

[ -x "$top/configure" ] || (cd "$top" && autoreconf -fi >/dev/null 2>&1)
mkdir -p "$bdir"
cd "$bdir"
# configured once; again when configure is newer than the tree's status
if [ ! -f Makefile ] || [ "$top/configure" -nt config.status ]; then
	"$top/configure" --quiet CC="$CLANG" \
		CFLAGS="-g -O1 -fsanitize=fuzzer-no-link $SAN" >/dev/null
fi
make -j"$(nproc)" --quiet src/libvmcorefix.a >/dev/null

# the libraries the library needs, as configure found them
libs=$(sed -n 's/^\(LIBELF\|ZLIB\|LZO\|SNAPPY\|ZSTD\|LZMA\|BZIP2\)_LIBS = //p; s/^LIBS = //p' Makefile | tr '\n' ' ')
mkdir -p fuzz
status=0
for src in "$top"/tests/fuzz/fuzz_*.c; do
	name=$(basename "$src" .c)
	out=fuzz/$name
	if [ ! -x "$out" ] || [ "$src" -nt "$out" ] || [ "$top/tests/fuzz/fuzz.h" -nt "$out" ] ||
		[ src/libvmcorefix.a -nt "$out" ]; then
		# shellcheck disable=SC2086
		"$CLANG" -std=c11 -g -O1 -fsanitize=fuzzer $SAN -I. -I"$top/src" \
			-Wall -Wextra -Wno-unused-parameter \
			"$src" src/libvmcorefix.a $libs -o "$out" || { status=1; echo "fuzz: $name: build failed" >&2; }
	fi
done
exit "$status"
