#!/usr/bin/env bats
# layers.bats - src/ keeps its layers: no include points upward, no two
# modules include each other (scripts/check-layers.py), and the check itself
# fails on both; and the tests themselves hold no bare `! command`, which bats
# does not fail on (scripts/check-bats.sh).

load helpers

@test "src/ follows its layers: no upward include, no include cycle" {
	run python3 "$SRCDIR/scripts/check-layers.py" "$SRCDIR/src"
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "the layer check fails on an upward include, a cycle, a stray file, a bare include, a shared guard" {
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
	printf '#ifndef VF_SAME_H\n#define VF_SAME_H\n#endif\n' > "$t/util/one.h"
	printf '#ifndef VF_SAME_H\n#define VF_SAME_H\n#endif\n' > "$t/format/two.h"
	run python3 "$SRCDIR/scripts/check-layers.py" "$t"
	[ "$status" -eq 1 ]
	[[ "$output" == *'util/low.c:1: include "fix/a.h" points upward (util may not depend on fix)'* ]]
	[[ "$output" == *"include cycle: format/a and format/b"* ]]
	[[ "$output" == *"stray.c:1: file outside a layer folder"* ]]
	[[ "$output" == *'bare.c:1: include "low.h" does not name a layer folder'* ]]
	[[ "$output" == *"include guard VF_SAME_H is also"* ]]
}

@test "docs/ARCHITECTURE.md names every module of every layer, and only modules that exist" {
	run python3 - "$SRCDIR" <<'PY'
import os, re, sys
top = sys.argv[1]
doc = open(os.path.join(top, "docs/ARCHITECTURE.md"), encoding="utf-8").read()
bad = []
seen = set()
for row in re.findall(r"^\| `(\w+)/` \|[^|]*\|([^\n]*)\|$", doc, re.M):
    layer, mods = row
    for m in re.findall(r"`([\w.*]+)`", mods):
        if m.endswith(".h") and os.path.exists(os.path.join(top, "src", layer, m)):
            seen.add(f"{layer}/{m[:-2]}")
            continue
        pat = re.compile("^" + re.escape(m).replace(r"\*", ".*") + r"\.[ch]$")
        hits = [f for f in os.listdir(os.path.join(top, "src", layer)) if pat.match(f)]
        if not hits:
            bad.append(f"{layer}/{m}: named in ARCHITECTURE.md, no such module")
        seen.update(f"{layer}/{os.path.splitext(h)[0]}" for h in hits)
for layer in sorted(os.listdir(os.path.join(top, "src"))):
    d = os.path.join(top, "src", layer)
    if not os.path.isdir(d):
        continue
    for f in sorted(os.listdir(d)):
        stem = os.path.splitext(f)[0]
        if f.endswith((".c", ".h")) and not stem.endswith("_priv") and f"{layer}/{stem}" not in seen:
            bad.append(f"{layer}/{f}: not named in ARCHITECTURE.md")
print("\n".join(bad))
sys.exit(1 if bad else 0)
PY
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "errors are changed only through their setters (util/error.c alone writes the fields)" {
	hits=$(grep -rnE '(err|e|error)->(code|has_offset|offset|offset_is_paddr|errnum|message|path|hint) =[^=]' \
		"$SRCDIR/src" --include=*.c | grep -v '/src/util/error.c:' || true)
	echo "$hits"
	[ -z "$hits" ]
}

@test "no bats assertion is a bare '! command' (bats never fails on one before a test's last line)" {
	run sh "$SRCDIR/scripts/check-bats.sh" "$SRCDIR"/tests/bats/*.bats "$SRCDIR"/tests/real/*.bats
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "the bare-'!' check fails on one, and passes '|| false', 'if !' and a continued condition" {
	f=$BATS_TEST_TMPDIR/t.bats
	printf '@test "x" {\n\t! grep -q a b\n\t! grep -q a b || false\n\tif ! true; then :; fi\n\t[ -e x ] || ! true &&\n\t! true; then\n}\n! outside\n' > "$f"
	run sh "$SRCDIR/scripts/check-bats.sh" "$f"
	[ "$status" -eq 1 ]
	[ "$output" = "$f:2: bare \"! command\" asserts nothing in bats (add \"|| false\")" ]
}
