#!/usr/bin/env python3
"""elfcmp.py [--ram-only] OURS ORACLE: compare a converted ELF dump with QEMU's own
dump-guest-memory ELF of the same VM state.  OURS may also be a kdump-compressed
dump (vmcore-fix --output-format kdump): its pages are read here (zlib or
stored), its notes from the sub-header's offset_note, and offset_vmcoreinfo
must point at the VMCOREINFO note's text.

Checks, and prints one line per failure (exit 1), else "same" (exit 0):
- every byte of each PT_LOAD of OURS whose vaddr == paddr (the RAM runs; the
  kernel-image PT_LOAD is compared through its physical addresses too) equals
  the oracle's bytes at the same physical addresses (the oracle may hold more:
  BIOS, ROMs, video RAM);
- the CORE (NT_PRSTATUS) and QEMU (CPU state) notes, in order, byte for byte;
- the VMCOREINFO note's text, when the oracle has one.
The oracle's other notes (aarch64: QEMU's NT_ARM_SVE, "LINUX") are not compared; the
"same" line names them.
--ram-only compares the RAM alone.
Compared 1 MiB at a time; holes read as zeros on both sides."""
import struct
import sys

CHUNK = 1 << 20


def elf(path):
    f = open(path, "rb")
    h = f.read(64)
    if h[:4] != b"\x7fELF" or h[4] != 2:
        sys.exit("%s: not an ELF64 file" % path)
    e = "<" if h[5] == 1 else ">"
    phoff, = struct.unpack_from(e + "Q", h, 32)
    phnum, = struct.unpack_from(e + "H", h, 56)
    f.seek(phoff)
    raw = f.read(56 * phnum)
    loads, notes = [], []
    for i in range(phnum):
        t, fl, off, va, pa, fs, ms, al = struct.unpack_from(e + "IIQQQQQQ", raw, 56 * i)
        if t == 1:
            loads.append((pa, off, fs, va))
        elif t == 4:
            f.seek(off)
            b = f.read(fs)
            p = 0
            while p + 12 <= len(b):
                n, s, ty = struct.unpack_from(e + "III", b, p)
                name = b[p + 12:p + 12 + n].rstrip(b"\0").decode("latin-1")
                d = p + 12 + ((n + 3) & ~3)
                notes.append((name, ty, b[d:d + s]))
                p = d + ((s + 3) & ~3)
    return f, loads, notes


def kdump(path):
    """A kdump as (file, pages, notes): pages a list of (pfn, bytes) in pfn order,
    read through the descriptors the second bitmap indexes."""
    import zlib
    f = open(path, "rb")
    h = f.read(4096)
    e = "<" if struct.unpack_from("<i", h, 8)[0] in range(1, 7) else ">"
    ver, = struct.unpack_from(e + "i", h, 8)
    status, bs, sub, bmb, mapnr = struct.unpack_from(e + "iiiII", h, 0x1a8)
    f.seek(bs)
    sh = f.read(0x68)
    voff, vsize, noff, nsize = struct.unpack_from(e + "QQQQ", sh, 0x20)
    max_pfn = struct.unpack_from(e + "Q", sh, 0x60)[0] if ver >= 6 else mapnr
    f.seek(noff)
    b = f.read(nsize)
    notes, p = [], 0
    while p + 12 <= len(b):
        n, s, ty = struct.unpack_from(e + "III", b, p)
        name = b[p + 12:p + 12 + n].rstrip(b"\0").decode("latin-1")
        d = p + 12 + ((n + 3) & ~3)
        notes.append((name, ty, b[d:d + s]))
        if name == "VMCOREINFO" and (noff + d != voff or s != vsize):
            sys.exit("%s: offset_vmcoreinfo 0x%x/%d is not the note's text (0x%x/%d)"
                     % (path, voff, vsize, noff + d, s))
        p = d + ((s + 3) & ~3)
    half = bmb * bs // 2
    f.seek((1 + sub) * bs + half)
    bm2 = f.read(half)
    pd = (1 + sub + bmb) * bs
    pages, idx = [], 0
    for pfn in range(max_pfn):
        if not (bm2[pfn >> 3] >> (pfn & 7)) & 1:
            continue
        f.seek(pd + 24 * idx)
        off, size, flags, pflags = struct.unpack(e + "qIIQ", f.read(24))
        idx += 1
        f.seek(off)
        raw = f.read(size)
        if flags & 1:
            raw = zlib.decompress(raw)
        elif flags:
            sys.exit("%s: pfn 0x%x: codec flags 0x%x not read here" % (path, pfn, flags))
        if len(raw) != bs:
            sys.exit("%s: pfn 0x%x: %d bytes, not a page of %d" % (path, pfn, len(raw), bs))
        pages.append((pfn, raw))
    return bs, pages, notes


def read_phys(f, loads, pa, n):
    """The bytes at [pa, pa+n) and how many of them a PT_LOAD holds."""
    out = bytearray(n)
    held = 0
    for lpa, off, fs, va in loads:
        lo, hi = max(pa, lpa), min(pa + n, lpa + fs)
        if lo < hi:
            f.seek(off + lo - lpa)
            out[lo - pa:hi - pa] = f.read(hi - lo).ljust(hi - lo, b"\0")
            held += hi - lo
    return bytes(out), held


def main():
    args = sys.argv[1:]
    ram_only = args[:1] == ["--ram-only"]
    if ram_only:
        args = args[1:]
    ours, oracle = args[0], args[1]
    fb, lb, nb = elf(oracle)
    bad = []
    total = 0
    if open(ours, "rb").read(8) == b"KDUMP   ":
        bs, pages, na = kdump(ours)
        la = []
        for pfn, a in pages:
            b, held = read_phys(fb, lb, pfn * bs, bs)
            if held != bs:
                bad.append("pfn 0x%x: %d bytes not in the oracle" % (pfn, bs - held))
                break
            if a != b:
                bad.append("pfn 0x%x: bytes differ" % pfn)
                break
            total += bs
    else:
        fa, la, na = elf(ours)
    for pa, off, fs, va in la:
        if va != pa:
            continue  # the kernel image's PT_LOAD: its bytes are a RAM run's
        for o in range(0, fs, CHUNK):
            n = min(CHUNK, fs - o)
            fa.seek(off + o)
            a = fa.read(n).ljust(n, b"\0")
            b, held = read_phys(fb, lb, pa + o, n)
            if held != n:
                bad.append("paddr 0x%x+0x%x: %d bytes not in the oracle" % (pa + o, n, n - held))
                break
            if a != b:
                i = next(k for k in range(n) if a[k] != b[k])
                bad.append("paddr 0x%x: bytes differ" % (pa + o + i))
                break
            total += n
    if ram_only:
        na = nb = []
    cpu = lambda ns: [x for x in ns if x[0] in ("CORE", "QEMU")]
    ca, cb = cpu(na), cpu(nb)
    if len(ca) != len(cb):
        bad.append("%d CPU notes, the oracle %d" % (len(ca), len(cb)))
    for i, (x, y) in enumerate(zip(ca, cb)):
        if x != y:
            k = next((k for k in range(min(len(x[2]), len(y[2]))) if x[2][k] != y[2][k]), -1)
            bad.append("CPU note %d (%s type %d): differs (%d and %d bytes, first at %d)"
                       % (i, x[0], x[1], len(x[2]), len(y[2]), k))
    va = [x[2] for x in na if x[0] == "VMCOREINFO"]
    vb = [x[2] for x in nb if x[0] == "VMCOREINFO"]
    if vb and va != vb:
        bad.append("VMCOREINFO differs from the oracle's")
    for b in bad:
        print(b)
    other = ["%s type 0x%x" % (x[0], x[1]) for x in nb if x[0] not in ("CORE", "QEMU", "VMCOREINFO")]
    if not bad:
        print("same: %d bytes of RAM, %d CPU notes%s%s" % (total, len(ca),
              ", VMCOREINFO" if vb else "",
              "; not compared: " + ", ".join(other) if other else ""))
    sys.exit(1 if bad else 0)


main()
