#!/usr/bin/env bats
# Issue 4 on dumps real QEMU 7.2 wrote: with no evidence at all the note is found by
# scanning guest memory; from the vmcoreinfo device's state in the real migration
# stream; with the guest's RAM taken from that stream.  Every output passes
# makedumpfile (--dump-dmesg finds the marker, -c -d 31 filters it) and, with the
# debug vmlinux installed, crash.

load ../bats/helpers

setup_file() {
	real_setup || true
}

setup() {
	[ -x "$VMCOREFIX" ] || skip "vmcore-fix not built ($VMCOREFIX)"
	command -v makedumpfile >/dev/null || skip "makedumpfile not installed"
	real_dir
	kver=$(. "$REAL/vmcoreinfo/facts.env"; echo "$KERNEL_VERSION")
	VMLINUX=$(debug_vmlinux "$kver") || VMLINUX=/nonexistent/vmlinux-$kver
}

# crash_ok DUMP SCENARIO: where crash and the debug vmlinux are installed, crash's
# log has the marker and help -m the guest's phys_base (helpers.bash: crash_sees).
crash_ok() {
	command -v crash >/dev/null && [ -r "$VMLINUX" ] || return 0
	crash_sees "$@"
}

# the note text in OUT equals the text the guest's /sys/kernel/vmcoreinfo region held
same_note_as_guest() {
	"$VMCOREFIX" --inspect --json "$1" > "$BATS_TEST_TMPDIR/i.json" || true
	/usr/bin/python3 - "$1" "$BATS_TEST_TMPDIR/i.json" "$2/vmcoreinfo-note.txt" <<'PY'
import json, sys
info = json.load(open(sys.argv[2]))
off, size = int(info["vmcoreinfo"]["offset"], 16), info["vmcoreinfo"]["size"]
f = open(sys.argv[1], "rb"); f.seek(off); got = f.read(size)
want = open(sys.argv[3], "rb").read()
assert got.rstrip(b"\0") == want.rstrip(b"\0"), (len(got), len(want))
PY
}

@test "no -device vmcoreinfo, no qemu_fw_cfg: the note is found with no extra input" {
	for sc in nodevice nofwcfg; do
		[ -d "$REAL/$sc" ] || continue
		marker=$(. "$REAL/$sc/facts.env"; echo "$MARKER")
		paddr=$(. "$REAL/$sc/facts.env"; echo "$VMCI_PADDR")
		for f in dump.elf dump.kdump-zlib; do
			run "$VMCOREFIX" "$REAL/$sc/$f" -o "$BATS_TEST_TMPDIR/out" --json
			[ "$status" -eq 0 ]
			json=$output
			[ "$(jget .guest_note.paddr)" = "$paddr" ]
			[[ "$(jget .guest_note.region_from)" == "scan of the dump's memory"* ]]
			same_note_as_guest "$BATS_TEST_TMPDIR/out" "$REAL/$sc"
			consumers_ok "$BATS_TEST_TMPDIR/out" "$marker"
			crash_ok "$BATS_TEST_TMPDIR/out" "$sc"
			rm -f "$BATS_TEST_TMPDIR/out"
		done
	done
}

@test "note removed: fixed from the real migration stream's saved state alone, and with its RAM" {
	. "$REAL/vmcoreinfo/facts.env"
	for f in dump.elf dump.kdump-zlib; do
		strip_note "$REAL/vmcoreinfo/$f" "$BATS_TEST_TMPDIR/stripped"
		run "$VMCOREFIX" "$BATS_TEST_TMPDIR/stripped" -o "$BATS_TEST_TMPDIR/out" --no-scan --json \
			--saved-state "$REAL/vmcoreinfo/migration.stream"
		[ "$status" -eq 0 ]
		json=$output
		[ "$(jget .guest_note.paddr)" = "$VMCI_PADDR" ]
		[[ "$(jget .guest_note.region_from)" == "vmcoreinfo device state saved in"* ]]
		[ "$(jget .guest_note.memory_from)" = "the dump's memory" ]
		same_note_as_guest "$BATS_TEST_TMPDIR/out" "$REAL/vmcoreinfo"
		consumers_ok "$BATS_TEST_TMPDIR/out" "$MARKER"
		crash_ok "$BATS_TEST_TMPDIR/out" vmcoreinfo
		# the guest's RAM from the stream instead of the dump: the same output
		run "$VMCOREFIX" "$BATS_TEST_TMPDIR/stripped" -o "$BATS_TEST_TMPDIR/out2" --no-scan --json \
			--saved-state "$REAL/vmcoreinfo/migration.stream" \
			--memory "$REAL/vmcoreinfo/migration.stream"
		[ "$status" -eq 0 ]
		json=$output
		[[ "$(jget .guest_note.memory_from)" == "the RAM in migration stream"* ]]
		cmp "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/out2"
		rm -f "$BATS_TEST_TMPDIR/stripped" "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/out2"
	done
}

@test "saved state that cannot help: said plainly; exit 3 with --no-scan, else the scan takes over" {
	for sc in nofwcfg nodevice; do
		[ -d "$REAL/$sc" ] || continue
		run "$VMCOREFIX" "$REAL/$sc/dump.elf" -o "$BATS_TEST_TMPDIR/out" --no-scan \
			--saved-state "$REAL/$sc/migration.stream"
		[ "$status" -eq 3 ]
		if [ "$sc" = nofwcfg ]; then
			[[ "$output" == *"never wrote etc/vmcoreinfo"* ]]
		else
			[[ "$output" == *"no -device vmcoreinfo"* ]]
		fi
		[ ! -e "$BATS_TEST_TMPDIR/out" ]
		run "$VMCOREFIX" "$REAL/$sc/dump.elf" -o "$BATS_TEST_TMPDIR/out" \
			--saved-state "$REAL/$sc/migration.stream"
		[ "$status" -eq 0 ]
		[[ "$output" == *"saved state set aside"* ]]
		[[ "$output" == *"found by scan"* ]]
		rm -f "$BATS_TEST_TMPDIR/out"
	done
}

@test "a raw guest RAM file (rebuilt from the dump) serves as --memory for the scan" {
	. "$REAL/nodevice/facts.env"
	# the RAM of the 512 MiB q35 guest, from the ELF dump's PT_LOADs below 512 MiB
	/usr/bin/python3 - "$REAL/nodevice/dump.elf" "$BATS_TEST_TMPDIR/ram.img" "$ELF_PT_LOADS" <<'PY'
import sys
src, dst, loads = sys.argv[1], sys.argv[2], sys.argv[3].split()
out = open(dst, "wb"); out.truncate(512 << 20)
f = open(src, "rb")
for l in loads:
    a, off = l.split("@"); paddr, size = (int(x, 16) for x in a.split("+")); off = int(off, 16)
    if paddr + size > (512 << 20):
        continue
    f.seek(off); out.seek(paddr)
    while size:
        b = f.read(min(size, 1 << 20)); out.write(b); size -= len(b)
PY
	run "$VMCOREFIX" "$REAL/nodevice/dump.kdump-zlib" -o "$BATS_TEST_TMPDIR/out" --json \
		--memory "$BATS_TEST_TMPDIR/ram.img" --memory-layout q35
	[ "$status" -eq 0 ]
	json=$output
	[ "$(jget .guest_note.paddr)" = "$VMCI_PADDR" ]
	[[ "$(jget .guest_note.memory_from)" == "raw guest RAM file"* ]]
	consumers_ok "$BATS_TEST_TMPDIR/out" "$MARKER"
}

@test "--inspect --saved-state: the note at the place the saved state gives is intact" {
	. "$REAL/vmcoreinfo/facts.env"
	json=$("$VMCOREFIX" --inspect --json --saved-state "$REAL/vmcoreinfo/migration.stream" \
		"$REAL/vmcoreinfo/dump.elf" || true)
	[ "$(jget .guest_note.origin)" = saved-state ]
	[ "$(jget .guest_note.paddr)" = "$VMCI_PADDR" ]
	[ "$(jget .guest_note.valid)" = true ]
}

@test "a scanned note without NUMBER(phys_base) (older kernels) is confirmed through the dump's page tables; phys_base derived" {
	S=$REAL/nodevice
	# shellcheck disable=SC1091
	. "$S/facts.env"
	# the guest's note in memory loses NUMBER(phys_base), as kernels before 4.10 wrote it
	/usr/bin/python3 - "$S/dump.elf" "$BATS_TEST_TMPDIR/old.elf" <<'PY'
import sys
d = open(sys.argv[1], "rb").read()
assert d.count(b"NUMBER(phys_base)=") >= 1
open(sys.argv[2], "wb").write(d.replace(b"NUMBER(phys_base)=", b"NUMBEX(phys_base)="))
PY
	run "$VMCOREFIX" "$BATS_TEST_TMPDIR/old.elf" -o "$BATS_TEST_TMPDIR/out" --json
	[ "$status" -eq 0 ]
	json=$output
	[[ "$(jget .guest_note.same_boot)" == "its kernel-image symbols agree on one phys_base ($PHYS_BASE) through this dump's page tables" ]]
	[ "$(jget .phys_base.value)" = "$PHYS_BASE" ]
	[ "$(jget .phys_base.source)" = "page tables" ]
	consumers_ok "$BATS_TEST_TMPDIR/out" "$MARKER"
}
