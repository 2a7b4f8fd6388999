#!/usr/bin/env bats
# real_pgtable.bats - phys_base derived from the guest's own page tables (src/guest/pgtable.c,
# through tests/tools/pbwalk, which removes NUMBER(phys_base) from the VMCOREINFO it
# uses) on dumps that real QEMU 7.2 and makedumpfile wrote of a real KASLR guest
# (tests/real/make-dumps.sh), checked against the phys_base the guest reported.
# Skips every test when make-dumps.sh exits 77 (QEMU, kernel or busybox missing).

load bats-helpers

setup_file() { real_setup_file; }

setup() {
	real_setup
	: "${BUILDDIR:=$REAL_SRCDIR/build}"
	PBWALK=${PBWALK:-$BUILDDIR/tests/tools/pbwalk}
	[ -x "$PBWALK" ] || skip "pbwalk not built ($PBWALK)"
}

# pbwalk_ok DUMP [VMCOREINFO-TEXT]: run pbwalk, require exit 0 and phys_base = $PHYS_BASE
pbwalk_ok() {
	run "$PBWALK" "$@"
	[ "$status" -eq 0 ] || { echo "pbwalk $* exited $status: $output" >&2; return 1; }
	assert_eq "$(sed -n 's/^phys_base=//p' <<<"$output")" "$PHYS_BASE" "phys_base of $1"
	assert_eq "$(sed -n 's/^phys_base_hex=//p' <<<"$output")" \
		"$(printf '0x%016x' "$PHYS_BASE")" "phys_base_hex of $1"
	how=$(sed -n 's/^how=//p' <<<"$output")
}

@test "real ELF and kdump-zlib (raw, flattened): page tables give the guest's phys_base" {
	real_scenario vmcoreinfo
	local stext
	stext=$(sed -n 's/^SYMBOL(_stext)=//p' vmcoreinfo-note.txt)
	[ -n "$stext" ]
	for f in dump.elf dump.kdump-zlib dump.kdump-zlib.flat; do
		pbwalk_ok "$f"
		# The translation itself: _stext lands where the guest's iomem put "Kernel code".
		case "$how" in "translated SYMBOL(_stext)=$(hexnorm "0x$stext") through CPU 0's page tables"*) ;;
			*) echo "$f: how: $how" >&2; false ;; esac
		if [ "$(hexnorm "0x$stext")" = "$(hexnorm "$GUEST_TEXT_VADDR")" ]; then
			case "$how" in *" to $(hexnorm "$GUEST_KERNEL_CODE_PADDR");"*) ;;
				*) echo "$f: _stext not at Kernel code: $how" >&2; false ;; esac
		fi
		case "$how" in *"agrees with SYMBOL("*) ;; *) echo "$f: no cross-check: $how" >&2; false ;; esac
	done
}

@test "real makedumpfile -d 31 outputs: page tables survive filtering" {
	real_scenario vmcoreinfo
	local n=0
	for f in dump.mdf-zlib-d31 dump.mdf-elf-d31 dump.mdf-zlib-d31.flat; do
		[ -f "$f" ] || continue
		pbwalk_ok "$f"
		n=$((n + 1))
	done
	[ "$n" -gt 0 ] || skip "no makedumpfile variants in this cache"
}

@test "real dumps without a VMCOREINFO note: the guest's text + page tables give phys_base" {
	for s in nodevice nofwcfg; do
		[ -d "$REAL_DIR/$s" ] || continue
		(
			real_scenario "$s"
			for f in dump.elf dump.kdump-zlib; do
				pbwalk_ok "$f" vmcoreinfo-note.txt
			done
		)
	done
}

@test "real: an older kernel's keys (no _stext, no NUMBER(phys_base)) are enough" {
	real_scenario vmcoreinfo
	grep -E '^(OSRELEASE|SYMBOL\((init_uts_ns|swapper_pg_dir)\))=' vmcoreinfo-note.txt \
		>"$BATS_TEST_TMPDIR/old.txt"
	[ "$(grep -c SYMBOL "$BATS_TEST_TMPDIR/old.txt")" -eq 2 ]
	pbwalk_ok dump.elf "$BATS_TEST_TMPDIR/old.txt"
	case "$how" in "translated SYMBOL(swapper_pg_dir)="*"agrees with SYMBOL(init_uts_ns)"*) ;;
		*) echo "how: $how" >&2; false ;; esac
}

@test "real: one symbol alone is refused, not trusted" {
	real_scenario vmcoreinfo
	grep -E '^SYMBOL\(init_uts_ns\)=' vmcoreinfo-note.txt >"$BATS_TEST_TMPDIR/one.txt"
	run "$PBWALK" dump.elf "$BATS_TEST_TMPDIR/one.txt"
	[ "$status" -eq 1 ]
	! grep -q '^phys_base=' <<<"$output" || false
	grep -q 'only one kernel-image symbol' <<<"$output"
}
