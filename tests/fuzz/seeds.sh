#!/bin/bash
# seeds.sh OUTDIR - the fuzz targets' seed corpora, generated (no binary file
# is committed): OUTDIR/fuzz_NAME/ for each target.
#
# Dumps come from tests/gen/vfgen.py: the repository's specs (tests/gen/specs,
# their RAM cut to a few 64 KiB windows so that a seed fits libFuzzer's
# -max_len) and the small inline specs below, covering each format, layout,
# header version, codec, byte order and the flattened stream.  Notes, texts,
# migration streams and libvirt images are written by seeds.py from the
# formats' facts.  A codec whose Python module is missing is left out.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
VFGEN=$top/tests/gen/vfgen.py
out=${1:?usage: seeds.sh OUTDIR}
mkdir -p "$out"
out=$(cd "$out" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for t in dump flat notes region migstream kernel plan scan; do
	mkdir -p "$out/fuzz_$t"
done

# gen NAME SPEC-TEXT: a dump in $tmp/NAME.dump (false when vfgen cannot: 77)
gen() {
	printf '%s\n' "$2" >"$tmp/$1.spec"
	local rc=0
	"$VFGEN" "$tmp/$1.spec" "$tmp/$1.dump" 2>"$tmp/$1.err" || rc=$?
	[ "$rc" = 0 ] && return 0
	[ "$rc" = 77 ] && return 1
	echo "seeds.sh: vfgen failed on $1:" >&2
	cat "$tmp/$1.err" >&2
	exit 1
}

# dump NAME SPEC-TEXT: a seed of every target that opens a dump
dump() {
	gen "$1" "$2" || return 0
	local d=$tmp/$1.dump
	cp "$d" "$out/fuzz_dump/$1"
	cp "$d" "$out/fuzz_kernel/$1"
	cp "$d" "$out/fuzz_plan/$1"
	# the scan target: mode byte 0 (over the dump's memory, page steps) or 2 (1 KiB steps)
	{ printf '\000'; cat "$d"; } >"$out/fuzz_scan/$1"
	{ printf '\002'; cat "$d"; } >"$out/fuzz_scan/$1.step"
	case $2 in *"flattened yes"*) cp "$d" "$out/fuzz_flat/$1" ;; esac
	return 0
}

# the repository's specs, their RAM cut to 64 KiB at 0 and around each note
for spec in "$top"/tests/gen/specs/*.spec; do
	name=repo-$(basename "$spec" .spec)
	dump "$name" "$(python3 - "$spec" <<'PY'
import sys
lines, windows = [], {0}
for l in open(sys.argv[1]):
    w = l.split()
    if w and w[0] == "ram":
        continue
    if w and w[0] == "vmcoreinfo-in-memory":
        windows.add(int(w[1], 0) & ~0xffff)
    lines.append(l.rstrip("\n"))
lines += ["ram 0x%x 0x10000" % a for a in sorted(windows)]
print("\n".join(lines))
PY
)"
done

dump elf-qemu "format elf
elf-layout qemu
prstatus 2
qemu-cpustate 2
ram 0 0xa000
ram 0xc000 0x6000"
dump elf-standard "format elf
elf-layout standard
prstatus 1
ram 0 0x8000
ram 0x100000 0x8000 zero
memsz-extra 0x1000"
dump elf-no-note "format elf
vmcoreinfo-note no
ram 0 0x20000
vmcoreinfo-in-memory 0x9000"
dump elf-two-notes "format elf
pt-note-count 2
pt-note-position last
extra-loads 3
note CORE 1 text:hello
note LINUX 0x300 00112233
ram 0 0x8000"
dump elf-notes-after "format elf
notes-after-data yes
ram 0 0x8000"
dump elf-i386 "format elf
machine i386
prstatus 1
ram 0 0x8000"
dump elf-ppc64 "format elf
machine ppc64
prstatus 1
ram 0 0x8000"
dump elf-aarch64 "format elf
machine aarch64
vmcoreinfo-line OSRELEASE=6.1.0
vmcoreinfo-line PAGESIZE=4096
vmcoreinfo-line NUMBER(PHYS_OFFSET)=0x40000000
vmcoreinfo-line KERNELOFFSET=0
ram 0x40000000 0x8000"
dump elf-descsz-overflow "format elf
note-descsz-overflow yes
ram 0 0x4000"
dump elf-truncated "format elf
ram 0 0x8000
truncate 0x5000"
dump kdump-zlib "format kdump
compress zlib
prstatus 1
qemu-cpustate 1
ram 0 0x20000"
dump kdump-none-v4 "format kdump
compress none
header_version 4
exclude 0x4000 0x2000
ram 0 0x10000"
dump kdump-v3 "format kdump
header_version 3
ram 0 0x8000"
dump kdump-v1 "format kdump
header_version 1
vmcoreinfo-note no
ram 0 0x8000"
dump kdump-pointer-bad "format kdump
kdump-vmcoreinfo-pointer bad
ram 0 0x8000"
dump kdump-i386 "format kdump
machine i386
ram 0 0x8000"
dump kdump-arm "format kdump
machine arm
ram 0 0x8000"
dump kdump-s390x "format kdump
machine s390x
ram 0 0x8000"
for c in lzo snappy zstd; do
	dump kdump-$c "format kdump
compress $c
ram 0 0x10000"
done
dump kdump-desc-past-eof "format kdump
kdump-descriptor-past-eof yes
ram 0 0x8000"
dump kdump-utsname "format kdump
utsname sysname Linux
utsname release 6.1.0-56-amd64
nr_cpus 4
phys_base 0xfffffffcfe676778
ram 0 0x8000"
dump flat-kdump "format kdump
flattened yes
flat-record-size 4096
flat-shuffle yes
ram 0 0x10000"
dump flat-elf "format elf
flattened yes
flat-record-size 2048
ram 0 0x8000"
dump flat-odd "format kdump
flattened yes
flat-record-size 4096
flat-zero-length-record yes
flat-record-past-end yes
ram 0 0x8000"
dump flat-no-end "format elf
flattened yes
flat-no-end-marker yes
ram 0 0x4000"

# x86_64 page tables: CR3 at 0x8000, 0xffffffff81000000 -> 0x1000000 by a 2 MiB
# page, the kernel symbols and init_uts_ns there; a memory map the kernel
# reader walks (mem_section roots in RAM)
cpu=$(python3 -c '
import struct
d = bytearray(0x1b8)
struct.pack_into("<II", d, 0, 1, 0x1b8)
struct.pack_into("<QQQQQ", d, 0x188, 0x80050033, 0, 0, 0x8000, 0x6f0 | (1 << 5))
print(d.hex())')
pgt="bytes 0x8ff8 0390000000000000
bytes 0x9ff0 03a0000000000000
bytes 0xa040 8300000100000000"
dump elf-pgtables "format elf
note QEMU 0 $cpu
vmcoreinfo-line OSRELEASE=6.1.0-56-amd64
vmcoreinfo-line PAGESIZE=4096
vmcoreinfo-line SYMBOL(_stext)=ffffffff81000000
vmcoreinfo-line SYMBOL(init_uts_ns)=ffffffff81003580
vmcoreinfo-line SYMBOL(swapper_pg_dir)=ffffffff81008000
vmcoreinfo-line SYMBOL(mem_section)=ffffffff81005000
vmcoreinfo-line LENGTH(mem_section)=2048
vmcoreinfo-line SIZE(mem_section)=16
vmcoreinfo-line OFFSET(mem_section.section_mem_map)=0
vmcoreinfo-line NUMBER(SECTION_SIZE_BITS)=27
vmcoreinfo-line NUMBER(MAX_PHYSMEM_BITS)=46
vmcoreinfo-line OFFSET(uts_namespace.name)=4
vmcoreinfo-line KERNELOFFSET=0
vmcoreinfo-line NUMBER(phys_base)=0
ram 0 0x10000
ram 0x1000000 0x10000
$pgt
bytes 0x1005000 006000018088ffff
bytes 0x1006000 0300000000000000"
dump kdump-pgtables "format kdump
note QEMU 0 $cpu
vmcoreinfo-line OSRELEASE=6.1.0-56-amd64
vmcoreinfo-line PAGESIZE=4096
vmcoreinfo-line SYMBOL(_stext)=ffffffff81000000
vmcoreinfo-line SYMBOL(init_uts_ns)=ffffffff81003580
vmcoreinfo-line SYMBOL(mem_section)=ffffffff81005000
vmcoreinfo-line LENGTH(mem_section)=2048
vmcoreinfo-line SIZE(mem_section)=16
vmcoreinfo-line OFFSET(mem_section.section_mem_map)=0
vmcoreinfo-line NUMBER(SECTION_SIZE_BITS)=27
vmcoreinfo-line NUMBER(MAX_PHYSMEM_BITS)=46
vmcoreinfo-line OFFSET(uts_namespace.name)=4
vmcoreinfo-line KERNELOFFSET=0
vmcoreinfo-line NUMBER(phys_base)=0
ram 0 0x10000
ram 0x1000000 0x10000
ram 0x8000000 0x100000 sparse
$pgt
bytes 0x1005000 006000018088ffff
bytes 0x1006000 0300000000000000"

# raw RAM for the scan (mode byte 1): a note at a page start, a text page, decoys
if gen raw-ram "format elf
ram 0 0x10000
vmcoreinfo-in-memory 0x5000
bytes 0x9000 4f5352454c454153453d362e312e300a
bytes 0xb000 0000000000000000"; then
	"$VFGEN" --expect "$tmp/raw-ram.spec" 0 0x10000 >"$tmp/raw" 2>/dev/null || true
	{ printf '\001'; cat "$tmp/raw"; } >"$out/fuzz_scan/raw-ram"
	{ printf '\003'; cat "$tmp/raw"; } >"$out/fuzz_scan/raw-ram.step"
fi

# the regression cases: tests/fuzz/regress/TARGET--NAME.spec, a finding
# expressed as a vfgen spec, joins TARGET's seeds, so that every fuzz run
# (and the CI tier) executes it first
for spec in "$top"/tests/fuzz/regress/*--*.spec; do
	[ -f "$spec" ] || continue
	base=$(basename "$spec" .spec)
	t=${base%%--*}
	name=regress-${base#*--}
	[ -d "$out/fuzz_$t" ] || { echo "seeds.sh: $spec: no target $t" >&2; exit 1; }
	gen "$name" "$(cat "$spec")" || continue
	case $t in
	scan) { printf '\000'; cat "$tmp/$name.dump"; } >"$out/fuzz_scan/$name" ;;
	*) cp "$tmp/$name.dump" "$out/fuzz_$t/$name" ;;
	esac
done

# notes regions taken from the ELF seeds, texts, regions, streams and images
python3 "$top/tests/fuzz/seeds.py" "$out" "$tmp"/*.dump
n=$(find "$out" -type f | wc -l)
echo "seeds.sh: $n seeds in $out"
