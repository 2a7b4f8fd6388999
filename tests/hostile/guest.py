#!/usr/bin/env python3
"""guest.py OUTDIR - hostile inputs for the guest layer (issue 12).

Writes the files into OUTDIR and prints one line per case:
    CASE<TAB>FILE<TAB>ARGS        (ARGS: vmcore-fix arguments, {} the file)

Classes:
  scan-*     a scan decoys cannot steer: pages starting "OSRELEASE=", note-like
             decoys and forged notes planted by a guest process (ELF dumps
             without a note, the note in guest memory)
  memmap-*   the kernel's memory map (mem_section) read from a kdump: a
             SECTION_SIZE_BITS of 12, more roots than are read, a map that
             would trim the kernel image or RAM away from the bitmaps
  mig-*      migration streams: a compressed save image whose device state is
             full of false section footers (the search), and a RAM index of
             one big run under many small ones (the page lookup)

stdlib only; the dumps are made by tests/gen/vfgen.py.
"""
import gzip
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "gen"))
from qevm import be, footer, section, str8  # noqa: E402  (the tests' stream builders)
import os
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
VFGEN = os.path.join(HERE, "..", "gen", "vfgen.py")
PS = 4096


def vfgen(out, spec):
    with open(out + ".spec", "w") as f:
        f.write(spec)
    subprocess.run([sys.executable, VFGEN, out + ".spec", out], check=True)


def hexlines(paddr, data, chunk=2048):
    """`bytes` spec lines putting data at paddr."""
    return "".join("bytes 0x%x %s\n" % (paddr + i, data[i:i + chunk].hex())
                   for i in range(0, len(data), chunk))


# ------------------------------------------------------------------ scan

# the kernel's text as in tests/bats/helpers.bash KTEXT_OK: its init_uts_ns
# (vfgen guest-uts) and kernel text are in the dump's memory
KTEXT = ["OSRELEASE=6.1.0-56-amd64", "PAGESIZE=4096",
         "SYMBOL(_stext)=ffffffff80100000", "SYMBOL(swapper_pg_dir)=ffffffff80200000",
         "SYMBOL(init_uts_ns)=ffffffff80103000", "OFFSET(uts_namespace.name)=4",
         "NUMBER(phys_base)=0"]


def note(text):
    t = text.encode()
    return struct.pack("<III", 11, len(t), 0) + b"VMCOREINFO\0\0" + t + b"\0" * (-len(t) % 4)


def text_of(lines):
    return "".join(l + "\n" for l in lines)


def scan_dump(out, extra, real_at=None):
    spec = ("format elf\nmachine x86_64\nprstatus 1\nvmcoreinfo-note no\n" +
            "".join("vmcoreinfo-line %s\n" % l for l in KTEXT) +
            "ram 0 64M sparse\n" + extra)
    if real_at is not None:
        spec += "vmcoreinfo-in-memory 0x%x\n" % real_at
    vfgen(out, spec)


def decoy_texts(at, n, release="6.6.6-evil"):
    return "".join(hexlines(at + i * PS, ("OSRELEASE=%s\n" % release).encode())
                   for i in range(n))


def decoy_notes(at, n):
    """Note-like pages that fail the rules (no SYMBOL(swapper_pg_dir))."""
    bad = note("OSRELEASE=6.6.6-evil\nPAGESIZE=4096\n")
    return "".join(hexlines(at + i * PS, bad) for i in range(n))


def scan_cases(d):
    cases = []
    # a forged note that copies the boot's identity (release, init_uts_ns,
    # phys_base: it passes the same-boot checks) but lies elsewhere, below
    # 63 text pages that used to push the real note out of the candidates
    forged = KTEXT[:3] + ["SYMBOL(swapper_pg_dir)=ffffffff80300000"] + KTEXT[4:]
    f = os.path.join(d, "scan-forged-copy.dump")
    scan_dump(f, decoy_texts(0x400000, 63) + hexlines(0x500000, note(text_of(forged))),
              real_at=0x600000)
    cases.append(("scan-forged-copy", f, "--dry-run {}"))
    # a forged note of another release, no such init_uts_ns, and decoys: with
    # the real note (two notes) and without it (the same-boot check)
    evil = ["OSRELEASE=6.6.6-evil"] + KTEXT[1:]
    f = os.path.join(d, "scan-forged-and-real.dump")
    scan_dump(f, decoy_texts(0x400000, 63) + hexlines(0x500000, note(text_of(evil))),
              real_at=0x600000)
    cases.append(("scan-forged-and-real", f, "--dry-run {}"))
    f = os.path.join(d, "scan-forged-alone.dump")
    scan_dump(f, decoy_texts(0x400000, 200) + hexlines(0x500000, note(text_of(evil))))
    cases.append(("scan-forged-alone", f, "--dry-run {}"))
    # the real note among 200 text pages and 60 note-like decoys: found
    f = os.path.join(d, "scan-real-decoys.dump")
    scan_dump(f, decoy_texts(0x400000, 200) + decoy_notes(0x800000, 60), real_at=0x900000)
    cases.append(("scan-real-decoys", f, "--dry-run {}"))
    # more note-like candidates than the scan checks (64): it refuses
    f = os.path.join(d, "scan-too-many.dump")
    scan_dump(f, decoy_notes(0x800000, 80), real_at=0x900000)
    cases.append(("scan-too-many", f, "--dry-run {}"))
    return cases


# ------------------------------------------------------------------ memmap

PML4, PDPT_D, PDPT_K, PD_K = 0x10000, 0x11000, 0x12000, 0x13000
ROOTS = 0x20000                  # mem_section's array of roots (direct map)
SECTIONS = 0x80000               # one page of sections
DIRECT = 0xffff888000000000


def page_tables():
    """init_top_pgt: the direct map (1 GiB at 0xffff888000000000) and the
    kernel image 0xffffffff81000000.. -> 16 MiB.. (8 x 2 MiB)."""
    pml4 = bytearray(PS)
    struct.pack_into("<Q", pml4, 8 * 273, PDPT_D | 3)
    struct.pack_into("<Q", pml4, 8 * 511, PDPT_K | 3)
    pdpt_d = bytearray(PS)
    struct.pack_into("<Q", pdpt_d, 0, 0x83)
    pdpt_k = bytearray(PS)
    struct.pack_into("<Q", pdpt_k, 8 * 510, PD_K | 3)
    pd_k = bytearray(PS)
    for i in range(8):
        struct.pack_into("<Q", pd_k, 8 * (8 + i), ((16 + 2 * i) << 20) | 0x83)
    return (hexlines(PML4, bytes(pml4)) + hexlines(PDPT_D, bytes(pdpt_d)) +
            hexlines(PDPT_K, bytes(pdpt_k)) + hexlines(PD_K, bytes(pd_k)))


def memmap_dump(out, ram, sect_bits, roots, present, phys_bits=46):
    """A kdump whose note describes SPARSEMEM_EXTREME: `roots` root pointers
    (all to one page of sections, `present` of them marked present)."""
    nsect = 1 << (phys_bits - sect_bits)
    length = (nsect + 255) // 256
    lines = KTEXT[:2] + [
        "SYMBOL(_stext)=ffffffff81000000", "SYMBOL(init_top_pgt)=ffffffff80010000",
        "SYMBOL(swapper_pg_dir)=ffffffff80010000", "SYMBOL(init_uts_ns)=ffffffff80014000",
        "OFFSET(uts_namespace.name)=4", "NUMBER(phys_base)=0", "KERNELOFFSET=0",
        "SYMBOL(mem_section)=%x" % (DIRECT + ROOTS), "LENGTH(mem_section)=%d" % length,
        "SIZE(mem_section)=16", "OFFSET(mem_section.section_mem_map)=0",
        "NUMBER(SECTION_SIZE_BITS)=%d" % sect_bits, "NUMBER(MAX_PHYSMEM_BITS)=%d" % phys_bits]
    secs = bytearray(PS)
    for i in range(present):
        struct.pack_into("<Q", secs, 16 * i, 0x3)
    rootbytes = struct.pack("<Q", DIRECT + SECTIONS) * roots
    spec = ("format kdump\nmachine x86_64\n" +
            "".join("vmcoreinfo-line %s\n" % l for l in lines) + ram + page_tables() +
            hexlines(ROOTS, rootbytes) + hexlines(SECTIONS, bytes(secs)))
    vfgen(out, spec)


def memmap_cases(d):
    cases = []
    # SECTION_SIZE_BITS=12: one section per page; 16 GiB: 16384 roots of
    # 256 sections each used to be read one by one (4 Mi reads)
    f = os.path.join(d, "memmap-sect12.dump")
    memmap_dump(f, "ram 0 1M\nram 1M 16383M sparse\n", 12, 16384, 0)
    cases.append(("memmap-sect12", f, "--dry-run {}"))
    # sane numbers (15), 256 GiB with no present section: 32768 roots
    f = os.path.join(d, "memmap-roots.dump")
    memmap_dump(f, "ram 0 1M\nram 1M 262143M sparse\n", 15, 32768, 0)
    cases.append(("memmap-roots", f, "--dry-run {}"))
    # 8 MiB sections, only the first present: the map ends at 8 MiB, below
    # the kernel image (16..32 MiB); 1 GiB dumped
    f = os.path.join(d, "memmap-drops-kernel.dump")
    memmap_dump(f, "ram 0 1M\nram 1M 1023M zero\n", 23, 1, 1)
    cases.append(("memmap-drops-kernel", f, "--dry-run {}"))
    # the map ends at 512 MiB, but the dump's first bitmap has RAM to 1 GiB
    f = os.path.join(d, "memmap-ram-above.dump")
    memmap_dump(f, "ram 0 1M\nram 1M 511M zero\nram 512M 512M sparse\n", 23, 1, 64)
    cases.append(("memmap-ram-above", f, "--dry-run {}"))
    # the normal case: 4 MiB of device memory dumped above 512 MiB of RAM
    f = os.path.join(d, "memmap-device.dump")
    memmap_dump(f, "ram 0 1M\nram 1M 511M zero\nram 512M 4M zero\n", 23, 1, 64)
    cases.append(("memmap-device", f, "--dry-run {}"))
    return cases


# ------------------------------------------------------------------ migration streams

section_head = section


def stream_head(machine="pc-q35-7.2"):
    return b"QEVM" + be(4, 3) + b"\x07" + be(4, len(machine)) + machine.encode()


def vmcoreinfo_section(paddr, size):
    return (section_head(4, 7, "vmcoreinfo", 0, 1) + be(1, 1) + be(2, 0) + be(2, 1) +
            be(4, size) + be(8, paddr) + footer(7))


def libvirt_image(payload, fmt):
    xml = b"<domain type='kvm'><name>g</name></domain>".ljust(1024, b"\0")
    hdr = b"LibvirtQemudSave" + struct.pack("<19I", 2, len(xml), 1, fmt, *([0] * 15))
    return hdr + xml + payload


def mig_false_footers(d):
    """A gzip save image: a device state of 256 MiB holding its section's
    footer bytes every 512 bytes, each followed by a byte no section starts
    with (a search hit at the start of every read of the search), then the
    vmcoreinfo device (its note in the companion dump's memory).  About
    250 KiB compressed."""
    f = os.path.join(d, "mig-false-footers.img")
    unit = b"\x7e\x00\x00\x00\x0c\xff" + bytes((k * 13) & 0xff for k in range(6, 512))
    with open(f, "wb") as o:
        o.write(libvirt_image(b"", 1))
        with gzip.GzipFile(fileobj=o, mode="wb", compresslevel=6, mtime=0) as z:
            z.write(stream_head() + section_head(4, 12, "0000:00:03.0/decoys", 0, 1))
            block = unit * 2048
            for _ in range((256 << 20) // len(block)):
                z.write(block)
            z.write(footer(12) + vmcoreinfo_section(0x200000, 0x1000) + b"\x00")
    dump = os.path.join(d, "mig-dump.dump")
    vfgen(dump, "format elf\nmachine x86_64\nprstatus 1\nvmcoreinfo-note no\n" +
          "".join("vmcoreinfo-line %s\n" % l for l in KTEXT) +
          "ram 0 4M\nvmcoreinfo-in-memory 0x200000\n")
    return [("mig-false-footers", f, "--dry-run --saved-state {} " + dump)]


def mig_overlap_runs(d):
    """RAM of 256 MiB: one zero run over every page, then 400000 single zero
    pages of alternating fills over it in a later pass, the note's page last;
    the companion dump lacks the note (--memory: the scan reads every page)."""
    npages = (256 << 20) // PS
    out = bytearray(stream_head())
    out += section_head(1, 2, "ram", 0, 4) + be(8, ((256 << 20) + 0x10000) | 0x4)
    out += str8("pc.ram") + be(8, 256 << 20) + str8("vga.vram") + be(8, 0x10000)
    out += be(8, 0x10) + footer(2) + b"\x02" + be(4, 2)
    first = True
    for p in range(npages):               # one big run of zero pages
        out += be(8, p * PS | 0x2 | (0 if first else 0x20))
        if first:
            out += str8("pc.ram")
            first = False
        out += b"\x00"
    out += be(8, 0x10) + footer(2) + b"\x02" + be(4, 2)
    first = True
    for k in range(400000):               # single pages over it, scattered
        p = (k * 7919) % npages
        out += be(8, p * PS | 0x2 | (0 if first else 0x20))
        if first:
            out += str8("pc.ram")
            first = False
        out += bytes([1 + (k & 1)])
    page = bytearray(PS)
    n = note(text_of(KTEXT))
    page[:len(n)] = n
    out += be(8, 0x200000 | 0x8 | 0x20) + bytes(page)
    out += be(8, 0x10) + footer(2)
    out += section_head(4, 9, "kvmclock", 0, 1) + be(8, 0x123456789) + b"\x01" + footer(9)
    out += b"\x00"
    f = os.path.join(d, "mig-overlap-runs.stream")
    with open(f, "wb") as o:
        o.write(out)
    dump = os.path.join(d, "mig-nonote.dump")
    vfgen(dump, "format elf\nmachine x86_64\nprstatus 1\nvmcoreinfo-note no\n" +
          "".join("vmcoreinfo-line %s\n" % l for l in KTEXT) + "ram 0 256M sparse\n")
    return [("mig-overlap-runs", f, "--dry-run --memory {} " + dump)]


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: guest.py OUTDIR\n")
        return 2
    d = os.path.abspath(argv[1])
    os.makedirs(d, exist_ok=True)
    cases = scan_cases(d) + memmap_cases(d) + mig_false_footers(d) + mig_overlap_runs(d)
    for name, f, args in cases:
        print("%s\t%s\t%s" % (name, f, args))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
