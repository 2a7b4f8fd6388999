#!/usr/bin/env bats
# drgn 0.0.22 (libkdumpfile 0.5.1 for kdump files) reads vmcore-fix's output of real
# QEMU 7.2 dumps: with the guest's debug vmlinux it reads init_uts_ns and finds the
# guest's log marker in every fixed dump, ELF and kdump, with and without a note in the
# input, and with a note that lacks NUMBER(phys_base) (derived from the page tables).
# Opening without debug info needs only python3-drgn; the rest is skipped without
# the debug vmlinux (apt-get install linux-image-$KVER-dbg, about 860 MB).

load ../bats/helpers

setup_file() {
	real_setup || true
}

setup() {
	[ -x "$VMCOREFIX" ] || skip "vmcore-fix not built ($VMCOREFIX)"
	/usr/bin/python3 -c 'import drgn' 2>/dev/null || skip "python3-drgn not installed"
	real_dir
	kver=$(. "$REAL/vmcoreinfo/facts.env"; echo "$KERNEL_VERSION")
	VMLINUX=$(debug_vmlinux "$kver") || VMLINUX=/nonexistent/vmlinux-$kver
}

hx() { printf '0x%x\n' "$(($1))"; }

need_vmlinux() {
	[ -r "$VMLINUX" ] || skip "no debug vmlinux (tests/real/debug-vmlinux.sh $kver fetches it)"
}

# drgn_reads DUMP SCENARIO: drgn with the debug vmlinux reads the release from
# init_uts_ns and finds the scenario's marker in the kernel log.
drgn_reads() {
	local marker rel
	marker=$(. "$REAL/$2/facts.env"; echo "$MARKER")
	rel=$(. "$REAL/$2/facts.env"; echo "$OSRELEASE")
	run timeout 300 /usr/bin/python3 - "$1" "$VMLINUX" "$marker" <<'PY'
import sys, drgn
from drgn.helpers.linux.printk import get_printk_records
p = drgn.Program()
p.set_core_dump(sys.argv[1])
p.load_debug_info([sys.argv[2]])
print("release", p["init_uts_ns"].name.release.string_().decode())
print("marker", any(sys.argv[3].encode() in r.text for r in get_printk_records(p)))
PY
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"release $rel"* ]]
	[[ "$output" == *"marker True"* ]]
}

# no_phys_base IN OUT: a copy of IN whose VMCOREINFO has no NUMBER(phys_base) line (its
# key is renamed in place), as older kernels' notes have: test tooling only.
no_phys_base() {
	/usr/bin/python3 - "$1" "$2" <<'PY'
import sys
data = open(sys.argv[1], "rb").read()
n = data.count(b"\nNUMBER(phys_base)=")
assert n >= 1, n
open(sys.argv[2], "wb").write(data.replace(b"\nNUMBER(phys_base)=", b"\nXUMBER(phys_base)="))
PY
}

@test "QEMU's own ELF: drgn cannot translate; after the fix it reads the kernel (kernel-image PT_LOAD)" {
	need_vmlinux
	run timeout 300 /usr/bin/python3 -c 'import drgn, sys
p = drgn.Program(); p.set_core_dump(sys.argv[1]); p.load_debug_info([sys.argv[2]])
p["init_uts_ns"].name.release.string_()' "$REAL/vmcoreinfo/dump.elf" "$VMLINUX"
	[ "$status" -ne 0 ]
	[[ "$output" == *"recursive address translation"* ]]
	"$VMCOREFIX" "$REAL/vmcoreinfo/dump.elf" -o "$BATS_TEST_TMPDIR/f.elf" >/dev/null
	json=$("$VMCOREFIX" --inspect --json "$BATS_TEST_TMPDIR/f.elf")
	. "$REAL/vmcoreinfo/facts.env"
	# the kernel image's PT_LOAD: _text at the "Kernel code" physical address, second
	[ "$(jget '.elf.program_headers[1].vaddr')" = "$(hx "$GUEST_TEXT_VADDR")" ]
	[ "$(jget '.elf.program_headers[1].paddr')" = "$(hx "$GUEST_KERNEL_CODE_PADDR")" ]
	[ "$(jget '.elf.program_headers[0].type')" = PT_NOTE ]
	drgn_reads "$BATS_TEST_TMPDIR/f.elf" vmcoreinfo
}

@test "QEMU's kdump-zlib, raw and flattened: drgn reads the fixed files" {
	need_vmlinux
	"$VMCOREFIX" "$REAL/vmcoreinfo/dump.kdump-zlib" -o "$BATS_TEST_TMPDIR/f.kdump" >/dev/null
	drgn_reads "$BATS_TEST_TMPDIR/f.kdump" vmcoreinfo
	"$VMCOREFIX" "$REAL/vmcoreinfo/dump.kdump-zlib.flat" -o "$BATS_TEST_TMPDIR/f.raw" \
		--output-format raw >/dev/null
	drgn_reads "$BATS_TEST_TMPDIR/f.raw" vmcoreinfo
}

@test "dumps without a note: drgn refuses QEMU's ELF, and opens and reads vmcore-fix's output" {
	for sc in nodevice nofwcfg; do
		[ -d "$REAL/$sc" ] || continue
		run /usr/bin/python3 -c 'import drgn, sys; p = drgn.Program(); p.set_core_dump(sys.argv[1])' \
			"$REAL/$sc/dump.elf"
		[ "$status" -ne 0 ]
		for f in dump.elf dump.kdump-zlib; do
			"$VMCOREFIX" "$REAL/$sc/$f" -o "$BATS_TEST_TMPDIR/out" \
				--region-file "$REAL/$sc/guest-vmcoreinfo.txt" >/dev/null
			/usr/bin/python3 -c 'import drgn, sys; p = drgn.Program(); p.set_core_dump(sys.argv[1])' \
				"$BATS_TEST_TMPDIR/out"
			if [ -r "$VMLINUX" ]; then
				drgn_reads "$BATS_TEST_TMPDIR/out" "$sc"
			fi
			rm -f "$BATS_TEST_TMPDIR/out"
		done
	done
}

@test "a note without NUMBER(phys_base): derived from the page tables, written back; every consumer reads it" {
	. "$REAL/vmcoreinfo/facts.env"
	for f in dump.elf dump.kdump-zlib; do
		no_phys_base "$REAL/vmcoreinfo/$f" "$BATS_TEST_TMPDIR/in"
		run "$VMCOREFIX" "$BATS_TEST_TMPDIR/in" -o "$BATS_TEST_TMPDIR/out" --json
		[ "$status" -eq 0 ]
		json=$output
		[ "$(jget .phys_base.source)" = "page tables" ]
		[ "$(jget .phys_base.value)" = "$PHYS_BASE" ]
		[[ "$(jget .phys_base.how)" == *"SYMBOL(_stext)"* ]]
		json=$("$VMCOREFIX" --inspect --json "$BATS_TEST_TMPDIR/out")
		[ "$(jget '.vmcoreinfo.values["NUMBER(phys_base)"]')" = "$PHYS_BASE" ]
		[ "$(jget '.problems | length')" = 0 ]
		if [ "$f" = dump.kdump-zlib ]; then
			[ "$(jget .kdump.phys_base)" = "$(hx "$PHYS_BASE")" ]
		fi
		run "$VMCOREFIX" --check "$BATS_TEST_TMPDIR/out"
		[ "$status" -eq 0 ]
		makedumpfile --dump-dmesg "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/dmesg.txt" >/dev/null 2>&1
		grep -q "$MARKER" "$BATS_TEST_TMPDIR/dmesg.txt"
		if [ -r "$VMLINUX" ]; then
			drgn_reads "$BATS_TEST_TMPDIR/out" vmcoreinfo
		fi
		rm -f "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/dmesg.txt"
	done
}
