#!/usr/bin/env python3
"""limits.py OUTDIR - hostile dumps for the bounded-work limits (issue 12).

Writes the hostile files into OUTDIR and prints one line per case:
CASE<TAB>FILE<TAB>ARGS (ARGS: the vmcore-fix arguments, {} for the file).
tests/bats/hostile_limits.bats runs each under a 512 MiB address-space limit
and a 30 s timeout and checks its outcome; bench/hostile.sh times them.

The classes: notes (a total over all PT_NOTE regions, many tiny notes,
regions that repeat or overlap), VMCOREINFO text near its cap and full of
distinct keys, the flattened index (record count, a layout claiming TiBs or
a PiB), PT_LOAD lookups under one large segment, the kdump popcount index
sized from the claimed bitmaps, and kdump files cut inside their page
descriptors or page data.  Sparse files keep them small on disk.
Python 3, stdlib only; kdump files that need real pages come from vfgen.
"""
import os
import shutil
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
VFGEN = os.path.join(HERE, "..", "gen", "vfgen.py")
sys.path.insert(0, os.path.join(HERE, "..", "gen"))
import vfgen  # noqa: E402

MiB = 1 << 20
VMCI = "\n".join(l.format(ps=4096) for l in vfgen.DEFAULT_VMCI) + "\n"


def pad4(b):
    return b + bytes(-len(b) % 4)


def note(name, ntype, desc):
    nb = name.encode() + b"\0" if name else b""
    return struct.pack("<III", len(nb), len(desc), ntype) + pad4(nb) + pad4(desc)


def write_sparse(path, size, chunks):
    """A file of size bytes: zeros (a hole) but for chunks [(offset, bytes)]."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.ftruncate(fd, size)
        for off, b in chunks:
            os.pwrite(fd, b, off)
    finally:
        os.close(fd)


def elf_image(phdrs):
    """An x86_64 ELF64 core header with these (type, offset, paddr, filesz)."""
    eh = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
    eh += struct.pack("<HHIQQQIHHHHHH", 4, 62, 1, 0, 64, 0, 0, 64, 56, len(phdrs), 64, 0, 0)
    ph = b"".join(struct.pack("<IIQQQQQQ", t, 0, off, pa, pa, sz, sz, 0)
                  for t, off, pa, sz in phdrs)
    return eh + ph


def elf(path, phdrs, chunks, size):
    write_sparse(path, size, [(0, elf_image(phdrs))] + chunks)


def flat(path, records):
    """A makedumpfile flattened stream of records [(offset, bytes)]."""
    with open(path, "wb") as f:
        head = bytearray(4096)
        head[0:12] = b"makedumpfile"
        head[16:32] = (1).to_bytes(8, "big") + (1).to_bytes(8, "big")
        f.write(head)
        for off, b in records:
            f.write(off.to_bytes(8, "big") + len(b).to_bytes(8, "big") + b)
        f.write(b"\xff" * 16)


def flat_tiny(path, n, offset_of):
    """A flattened stream of n one-byte records, record k at offset_of(k)."""
    with open(path, "wb") as f:
        head = bytearray(4096)
        head[0:12] = b"makedumpfile"
        head[16:32] = (1).to_bytes(8, "big") + (1).to_bytes(8, "big")
        f.write(head)
        step = 1 << 16
        one = (1).to_bytes(8, "big") + b"\x7f"
        for k0 in range(0, n, step):
            f.write(b"".join(offset_of(k).to_bytes(8, "big") + one
                             for k in range(k0, min(n, k0 + step))))
        f.write(b"\xff" * 16)


def vfgen_dump(out, spec):
    subprocess.run([sys.executable, VFGEN, "-", out], input=spec.encode(), check=True)


# ------------------------------------------------------------------ notes

def notes_cases(d):
    vnote = note("VMCOREINFO", 0, VMCI.encode())
    load = (1, 0x10000, 0, 0x10000)        # a PT_LOAD of 64 KiB at paddr 0
    base = 0x20000
    # 40 PT_NOTEs on one 60 MiB sparse region: 8 KiB on disk
    p = os.path.join(d, "notes-repeat.elf")
    elf(p, [(4, base, 0, 60 * MiB)] * 40 + [load], [(base, vnote)], base + 60 * MiB)
    yield "notes-repeat", p, "--inspect {}"
    # the same with a 1 MiB region: read and parsed once, one VMCOREINFO note
    p = os.path.join(d, "notes-repeat-small.elf")
    elf(p, [(4, base, 0, MiB)] * 40 + [load], [(base, vnote)], base + MiB)
    yield "notes-repeat-small", p, "--inspect --json {}"
    # 40 PT_NOTEs, each starting one note later in the same 10 MiB of notes:
    # read once, but 205 MiB of notes to parse
    s = 256 << 10
    blob = note("CORE", 1, bytes(s - 20))
    p = os.path.join(d, "notes-overlap.elf")
    elf(p, [(4, base + i * s, 0, (40 - i) * s) for i in range(40)] + [load],
        [(base, blob * 40)], base + 40 * s)
    yield "notes-overlap", p, "--inspect {}"
    # one PT_NOTE of 60 MiB of 12-byte notes (quadratic before: 370 s)
    tiny = struct.pack("<III", 0, 0, 1)
    p = os.path.join(d, "notes-tiny-60m.elf")
    elf(p, [(4, base, 0, 60 * MiB), load], [(base, tiny * (5 * MiB))], base + 60 * MiB)
    yield "notes-tiny-60m", p, "--inspect {}"
    # 2 MiB of them: within the byte limit, 174763 notes over the count limit
    p = os.path.join(d, "notes-tiny-count.elf")
    n = 2 * MiB // 12
    elf(p, [(4, base, 0, n * 12), load], [(base, tiny * n)], base + n * 12)
    yield "notes-tiny-count", p, "--inspect {}"
    # 60000 tiny notes and the VMCOREINFO note: below both limits, opens
    p = os.path.join(d, "notes-tiny-ok.elf")
    blob = tiny * 60000 + vnote
    elf(p, [(4, base, 0, len(blob)), load], [(base, blob)], base + len(blob))
    yield "notes-tiny-ok", p, "--inspect {}"


# ------------------------------------------------------------- VMCOREINFO

def vmci_cases(d):
    load = (1, 0x200000, 0, 0x10000)
    base = 0x20000
    # a text just below the 1 MiB cap of one-character keys and values
    lines, size, i = [VMCI], len(VMCI), 0
    while True:
        ln = "k%x=v\n" % i
        if size + len(ln) >= MiB - 16:
            break
        lines.append(ln)
        size += len(ln)
        i += 1
    vn = note("VMCOREINFO", 0, "".join(lines).encode())
    p = os.path.join(d, "vmci-near-cap.elf")
    elf(p, [(4, base, 0, len(vn)), load], [(base, vn)], 0x200000 + 0x10000)
    yield "vmci-near-cap", p, "--inspect {}"
    # the same of the shortest lines there are ("a=": 3 bytes, 350000 lines)
    vn = note("VMCOREINFO", 0, (VMCI + "a=\n" * ((MiB - 16 - len(VMCI)) // 3)).encode())
    p = os.path.join(d, "vmci-short-lines.elf")
    elf(p, [(4, base, 0, len(vn)), load], [(base, vn)], 0x200000 + 0x10000)
    yield "vmci-short-lines", p, "--check {}"
    # a text full of distinct SYMBOL() keys in the kernel image: each looked
    # up by the page-table readers
    lines, size, i = [VMCI], len(VMCI), 0
    while True:
        ln = "SYMBOL(s%x)=%x\n" % (i, 0xffffffff81000000 + 0x1000 * i)
        if size + len(ln) >= MiB - 16:
            break
        lines.append(ln)
        size += len(ln)
        i += 1
    vn = note("VMCOREINFO", 0, "".join(lines).encode())
    p = os.path.join(d, "vmci-symbols.elf")
    elf(p, [(4, base, 0, len(vn)), load], [(base, vn)], 0x200000 + 0x10000)
    yield "vmci-symbols", p, "--check {}"


# -------------------------------------------------------------- flattened

def kdump_header(max_pfn, bitmap_blocks, blob, bs=4096):
    """A kdump v6 x86_64 header, sub-header and notes blob (one block each)."""
    h = bytearray(2 * bs)
    h[0:8] = b"KDUMP   "
    struct.pack_into("<i", h, 8, 6)
    h[0xc + 65 * 4:0xc + 65 * 4 + 6] = b"x86_64"
    struct.pack_into("<IIIIIIIIII", h, 0x1a8, 1, bs, 1, bitmap_blocks,
                     min(max_pfn, 0xffffffff), 0, 0, 0, 0, 1)
    sub = bs
    struct.pack_into("<QiiQQ", h, sub, 0, 1, 0, 0, max_pfn)
    if blob:
        struct.pack_into("<QQQQ", h, sub + 0x20, sub + 0x68 + 24, len(VMCI), sub + 0x68,
                         len(blob))
    struct.pack_into("<QQQ", h, sub + 0x50, 0, max_pfn, max_pfn)
    h[sub + 0x68:sub + 0x68 + len(blob)] = blob
    return bytes(h)


def flat_cases(d):
    bs = 4096
    blob = note("VMCOREINFO", 0, VMCI.encode())
    # a flattened kdump whose bitmaps claim the most a header can (2^32 - 2
    # blocks: two bitmaps of 8 TiB, 2^46 pages); 64 KiB of real records
    blocks = 0xfffffffe
    blen = blocks // 2 * bs
    b1 = 2 * bs
    pd = b1 + 2 * blen
    page = bytes(range(256)) * 16
    recs = [(0, kdump_header(blen * 8, blocks, blob)),
            (b1, b"\x01"), (b1 + blen, b"\x01"),
            (pd, struct.pack("<qIIQ", pd + 24, bs, 0, 0)), (pd + 24, page)]
    p = os.path.join(d, "flat-kdump-16t.flat")
    flat(p, recs)
    yield "flat-kdump-16t", p, "--inspect {}"
    yield "flat-kdump-16t-check", p, "--check {}"
    # the same without a note: the fix scans the dumped pages for one
    recs[0] = (0, kdump_header(blen * 8, blocks, b""))
    p = os.path.join(d, "flat-kdump-16t-nonote.flat")
    flat(p, recs)
    yield "flat-kdump-16t-scan", p, "--check {}"
    # a flattened ELF whose one PT_LOAD of 1 PiB lies in the logical file:
    # one record of headers and notes, one at its end
    # (no VMCOREINFO note: the fix scans guest memory for one)
    pib = 1 << 50
    img = elf_image([(1, 0x10000, 0, pib)])
    recs = [(0, img), (0x10000, page), (0x10000 + pib - 1, b"\x01")]
    p = os.path.join(d, "flat-elf-1p.flat")
    flat(p, recs)
    yield "flat-elf-1p", p, "--inspect {}"
    yield "flat-elf-1p-check", p, "--check {}"
    # 2^18 + 1 one-byte records, all at one offset: too many overlapping
    # records to resolve (the sweep costs about 90 bytes a record)
    p = os.path.join(d, "flat-records-overlap.flat")
    flat_tiny(p, (1 << 18) + 1, lambda k: 0)
    yield "flat-records-overlap", p, "--inspect {}"
    # 1 Mi one-byte records, pairs of them overlapping up to the limit of
    # 2^18 overlapping records, the rest alone: indexed
    p = os.path.join(d, "flat-records-overlap-max.flat")
    flat_tiny(p, 1 << 20, lambda k: 4 * (k // 2) if k < (1 << 18) else 4 * k)
    yield "flat-records-overlap-max", p, "--inspect {}"
    # 1 Mi one-byte records, none overlapping: indexed (20 bytes a record),
    # headers read many to a read
    p = os.path.join(d, "flat-records.flat")
    flat_tiny(p, 1 << 20, lambda k: 2 * k)
    yield "flat-records", p, "--inspect {}"


# ------------------------------------------------------ ELF PT_LOAD lookup

def elf_lookup_cases(d):
    # a PT_LOAD of 256 MiB and 65000 8-byte PT_LOADs inside it, one in the
    # middle of each page; every 16th page holds data (the rest are file
    # holes), so the scan for a note reads them one at a time, and each read
    # at a page start walked back over every PT_LOAD starting below it
    n = 65000
    hdr = 64 + 56 * (n + 1)
    data = (hdr + 4095) // 4096 * 4096
    size = 256 * MiB
    phdrs = [(1, data, 0, size)]
    phdrs += [(1, data + 4096 * i + 2048, 4096 * i + 2048, 8) for i in range(n)]
    p = os.path.join(d, "elf-nested-loads.elf")
    elf(p, phdrs, [(data + 4096 * i, b"\x01") for i in range(0, size // 4096, 16)], data + size)
    yield "elf-nested-loads", p, "--check {}"


# ------------------------------------------------------------------ kdump

def kdump_cases(d):
    # a kdump of 16 MiB of RAM, all dumped: cut inside the page descriptors,
    # inside the page data, one byte short
    spec = "format kdump\nmachine x86_64\ncompress none\nram 0 16M\n"
    full = os.path.join(d, "kdump-full.kdump")
    vfgen_dump(full, spec)
    size = os.path.getsize(full)
    # (4096 dumped pages: the descriptors take 0x4000-0x1c000)
    for name, cut in (("kdump-cut-descs", 64 << 10), ("kdump-cut-data", 8 << 20),
                      ("kdump-cut-1", size - 1)):
        p = os.path.join(d, name + ".kdump")
        shutil.copyfile(full, p)
        os.truncate(p, cut)
        yield name, p, "--inspect --json {}"
        yield name + "-check", p, "--check {}"
        yield name + "-fix", p, "-o {}.out {}"
    yield "kdump-full", full, "--inspect {}"


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: limits.py OUTDIR\n")
        return 2
    d = argv[1]
    os.makedirs(d, exist_ok=True)
    for gen in (notes_cases, vmci_cases, flat_cases, elf_lookup_cases, kdump_cases):
        for case, path, args in gen(d):
            print("%s\t%s\t%s" % (case, path, args), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
