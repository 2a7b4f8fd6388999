#!/usr/bin/env bats
# layers.bats - src/ keeps its layers: no include points upward, no two
# modules include each other (scripts/check-layers.py), and the check itself
# fails on both.

load helpers

@test "src/ follows its layers: no upward include, no include cycle" {
	run python3 "$SRCDIR/scripts/check-layers.py" "$SRCDIR/src"
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "the layer check fails on an upward include, a cycle and a file outside a layer" {
	t=$BATS_TEST_TMPDIR/src
	mkdir -p "$t/util" "$t/format" "$t/fix"
	printf '#include "fix/a.h"\n' > "$t/util/low.c"
	: > "$t/util/low.h"
	: > "$t/fix/a.h"
	printf '#include "format/b.h"\n' > "$t/format/a.c"
	printf '#include "format/a.h"\n' > "$t/format/b.c"
	: > "$t/format/a.h"
	: > "$t/format/b.h"
	printf '#include "util/low.h"\n' > "$t/stray.c"
	printf '#include "low.h"\n' > "$t/util/bare.c"
	run python3 "$SRCDIR/scripts/check-layers.py" "$t"
	[ "$status" -eq 1 ]
	[[ "$output" == *'util/low.c:1: include "fix/a.h" points upward (util may not depend on fix)'* ]]
	[[ "$output" == *"include cycle: format/a and format/b"* ]]
	[[ "$output" == *"stray.c:1: file outside a layer folder"* ]]
	[[ "$output" == *'bare.c:1: include "low.h" does not name a layer folder'* ]]
}
