#!/usr/bin/python3
"""archnotes.py - notes, header facts and guest memory of a dump of either byte order
(test tooling of the foreign-architecture real tier, tests/real/make-arch-dumps.sh).

Usage:
  archnotes.py FILE                   list the notes (ELF core: every PT_NOTE; kdump-compressed:
                                      the notes blob of the sub-header)
  archnotes.py --vmcoreinfo FILE      print the VMCOREINFO note's text (exit 1 if none)
  archnotes.py --facts PREFIX FILE    print shell-sourceable PREFIX_KEY=VALUE lines: the byte
                                      order, layout facts and, when the dump has a VMCOREINFO
                                      note, PHYS_BASE, KERNELOFFSET, OSRELEASE from it
  archnotes.py --phys PADDR SIZE FILE read guest-physical memory at PADDR (ELF: from its
                                      PT_LOADs; kdump: the pages it holds, decompressed) and
                                      print the text of the ELF note found there (in
                                      either byte order: the guest's may not be the dump's)
  archnotes.py --read PADDR SIZE FILE print SIZE bytes of guest-physical memory at PADDR, hex
  archnotes.py --u64 PADDR FILE       the 8 bytes at PADDR as an integer in the dump's byte
                                      order, 0x hex
  archnotes.py --sections FILE        (ELF) each section header: index, then its fields read
                                      in the file's byte order and, after "le:", read as
                                      little-endian, and the name each reading finds

The output of the first three matches tests/real/elfnotes.py for little-endian files
(elfnotes.py itself is part of the x86_64 fixtures' cache key and stays as it is); this
one also reads big-endian files (s390x) and kdump pages. 64-bit dumps only. Standard
library only.
"""
import struct
import sys
import zlib


class Dump:
    def __init__(self, path):
        self.path = path
        self.f = open(path, "rb")
        head = self.f.read(4096)
        if head[:4] == b"\x7fELF":
            self.kind = "elf"
            self._parse_elf(head)
        elif head[:8] == b"KDUMP   ":
            self.kind = "kdump"
            self._parse_kdump(head)
        elif head[:12] == b"makedumpfile":
            raise SystemExit("%s: a flattened file; reassemble it with makedumpfile -R first" % path)
        else:
            raise SystemExit("%s: neither an ELF core nor a kdump-compressed file" % path)

    def read(self, off, size):
        self.f.seek(off)
        data = self.f.read(size)
        if len(data) != size:
            raise SystemExit("%s: truncated at offset %#x" % (self.path, off))
        return data

    # ---------------------------------------------------------------- ELF
    def _parse_elf(self, head):
        if head[4] != 2 or head[5] not in (1, 2):
            raise SystemExit("%s: only ELF64 (either byte order) is handled" % self.path)
        self.e = ">" if head[5] == 2 else "<"
        (self.e_type, self.e_machine, _, _, self.e_phoff, self.e_shoff, _, self.e_ehsize,
         self.e_phentsize, self.e_phnum, self.e_shentsize, self.e_shnum,
         self.e_shstrndx) = struct.unpack_from(self.e + "HHIQQQIHHHHHH", head, 16)
        self.phdrs = []
        raw = self.read(self.e_phoff, self.e_phentsize * self.e_phnum)
        for i in range(self.e_phnum):
            p_type, p_flags, p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_align = \
                struct.unpack_from(self.e + "IIQQQQQQ", raw, i * self.e_phentsize)
            self.phdrs.append(dict(type=p_type, flags=p_flags, offset=p_offset, vaddr=p_vaddr,
                                   paddr=p_paddr, filesz=p_filesz, memsz=p_memsz,
                                   align=p_align))

    def elf_note_blobs(self):
        return [(p["offset"], self.read(p["offset"], p["filesz"]))
                for p in self.phdrs if p["type"] == 4]

    def sections(self):
        """Yields (index, fields in file order, fields as little-endian) per section header."""
        names = ("name", "type", "flags", "addr", "offset", "size", "link", "info",
                 "addralign", "entsize")
        raw = self.read(self.e_shoff, self.e_shentsize * self.e_shnum) if self.e_shnum else b""
        for i in range(self.e_shnum):
            yield (i,) + tuple(dict(zip(names, struct.unpack_from(o + "IIQQQQIIQQ", raw,
                                                                  i * self.e_shentsize)))
                               for o in (self.e, "<"))

    # ---------------------------------------------------------------- kdump
    def _parse_kdump(self, head):
        # The header is in the guest's byte order: its version is a small number.
        self.e = "<" if 0 < struct.unpack_from("<i", head, 8)[0] < 256 else ">"
        e = self.e
        self.header_version = struct.unpack_from(e + "i", head, 8)[0]
        (self.status, self.block_size, self.sub_hdr_size, self.bitmap_blocks, self.max_mapnr,
         self.total_ram_blocks, self.device_blocks, self.written_blocks, self.current_cpu,
         self.nr_cpus) = struct.unpack_from(e + "iiiiIIIIii", head, 0x1a8)
        sub = self.read(self.block_size, 0x68)
        (self.phys_base, self.dump_level, self.split, self.start_pfn, self.end_pfn,
         self.offset_vmcoreinfo, self.size_vmcoreinfo, self.offset_note, self.size_note) = \
            struct.unpack_from(e + "QiiQQQQQQ", sub, 0)
        uts = [head[12 + 65 * i:12 + 65 * (i + 1)].split(b"\0")[0].decode("ascii", "replace")
               for i in range(6)]
        self.uts = uts
        self.release = uts[2]
        self.machine = uts[4]
        self._bitmap = None

    def kdump_note_blobs(self):
        if self.header_version >= 4 and self.size_note:
            return [(self.offset_note, self.read(self.offset_note, self.size_note))]
        return []

    def _kdump_page(self, pfn):
        """The block (block_size bytes) of number pfn, or None when the dump lacks it."""
        bs = self.block_size
        if self._bitmap is None:
            half = self.bitmap_blocks * bs // 2
            # the second bitmap says which blocks are dumped
            self._bitmap = self.read((1 + self.sub_hdr_size) * bs + half, half)
            self._ranks = None
        bm = self._bitmap
        if pfn >= len(bm) * 8 or not (bm[pfn >> 3] >> (pfn & 7)) & 1:
            return None
        if self._ranks is None:  # dumped blocks before each byte of the bitmap
            r, acc = [], 0
            for b in bm:
                r.append(acc)
                acc += bin(b).count("1")
            self._ranks = r
        idx = self._ranks[pfn >> 3] + bin(bm[pfn >> 3] & ((1 << (pfn & 7)) - 1)).count("1")
        desc = (1 + self.sub_hdr_size + self.bitmap_blocks) * bs + 24 * idx
        offset, size, flags, _ = struct.unpack(self.e + "qIIQ", self.read(desc, 24))
        data = self.read(offset, size)
        if flags & 1:
            data = zlib.decompress(data)
        elif flags:
            raise SystemExit("%s: block %#x is compressed with flags %#x (only zlib is read)"
                             % (self.path, pfn, flags))
        if len(data) != bs:
            raise SystemExit("%s: block %#x is %d bytes, not %d" % (self.path, pfn, len(data), bs))
        return data

    # ---------------------------------------------------------------- either
    def read_phys(self, paddr, size):
        if self.kind == "elf":
            for p in self.phdrs:
                if p["type"] == 1 and p["paddr"] <= paddr and paddr + size <= p["paddr"] + p["filesz"]:
                    return self.read(p["offset"] + paddr - p["paddr"], size)
            raise SystemExit("%s: physical range %#x+%#x is not in one PT_LOAD"
                             % (self.path, paddr, size))
        out = b""
        bs = self.block_size
        while len(out) < size:
            a = paddr + len(out)
            blk = self._kdump_page(a // bs)
            if blk is None:
                raise SystemExit("%s: physical %#x is not in the dump" % (self.path, a))
            out += blk[a % bs:a % bs + size - len(out)]
        return out

    def note_blobs(self):
        return self.elf_note_blobs() if self.kind == "elf" else self.kdump_note_blobs()


def parse_notes(blob, e, base=0):
    """Yields (offset, name, type, desc) for each note of a blob (4-byte aligned notes)."""
    off = 0
    while off + 12 <= len(blob):
        namesz, descsz, ntype = struct.unpack_from(e + "III", blob, off)
        if namesz == 0 and descsz == 0 and ntype == 0:
            break
        name_off = off + 12
        desc_off = name_off + ((namesz + 3) & ~3)
        end = desc_off + ((descsz + 3) & ~3)
        if end > len(blob) + 3:
            break
        name = blob[name_off:name_off + namesz].rstrip(b"\0").decode("ascii", "replace")
        yield base + off, name, ntype, blob[desc_off:desc_off + descsz]
        off = end


def vmcoreinfo_text(dump):
    found = None
    for base, blob in dump.note_blobs():
        for _, name, ntype, desc in parse_notes(blob, dump.e, base):
            if name == "VMCOREINFO":
                found = desc  # the last one wins, as in makedumpfile
    if found is None and dump.kind == "kdump" and dump.size_vmcoreinfo:
        found = dump.read(dump.offset_vmcoreinfo, dump.size_vmcoreinfo)
    if found is None:
        return None
    return found.split(b"\0")[0].decode("ascii", "replace")


def vmcoreinfo_fields(text):
    d = {}
    for line in text.splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            d[k] = v
    return d


def section_name(d, secs, i, which):
    """The name of section i, its headers read in the file's order (which 1) or as
    little-endian (2); "?" when that reading finds no string table, "-" for an empty name."""
    if d.e_shstrndx >= len(secs):
        return "?"
    s = secs[d.e_shstrndx][which]
    n = secs[i][which]["name"]
    if s["type"] != 3 or s["size"] > 1 << 20 or n >= s["size"]:
        return "?"
    try:
        raw = d.read(s["offset"] + n, s["size"] - n)
    except SystemExit:
        return "?"
    return raw.split(b"\0")[0].decode("ascii", "replace") or "-"


def shell(v):
    v = str(v)
    return v if v and all(c.isalnum() or c in "._-+:/@x" for c in v) else "'%s'" % v


def main(argv):
    args = argv[1:]
    if args[:1] == ["--vmcoreinfo"] and len(args) == 2:
        t = vmcoreinfo_text(Dump(args[1]))
        if t is None:
            sys.stderr.write("%s: no VMCOREINFO note\n" % args[1])
            return 1
        sys.stdout.write(t)
        return 0
    if args[:1] == ["--phys"] and len(args) == 4:
        d = Dump(args[3])
        blob = d.read_phys(int(args[1], 0), int(args[2], 0))
        # The guest's byte order can differ from the dump's: QEMU 7.2 writes a ppc64le
        # guest's dump big-endian. A note in RAM is in the guest's order: try both.
        for e in (d.e, "<" if d.e == ">" else ">"):
            for _, name, _, desc in parse_notes(blob, e):
                if name == "VMCOREINFO":
                    sys.stdout.write(desc.split(b"\0")[0].decode("ascii", "replace"))
                    return 0
        sys.stderr.write("no VMCOREINFO note at %s\n" % args[1])
        return 1
    if args[:1] == ["--read"] and len(args) == 4:
        print(Dump(args[3]).read_phys(int(args[1], 0), int(args[2], 0)).hex())
        return 0
    if args[:1] == ["--u64"] and len(args) == 3:
        d = Dump(args[2])
        print("%#x" % struct.unpack(d.e + "Q", d.read_phys(int(args[1], 0), 8))[0])
        return 0
    if args[:1] == ["--sections"] and len(args) == 2:
        d = Dump(args[1])
        if d.kind != "elf":
            raise SystemExit("--sections needs an ELF core")
        secs = list(d.sections())
        for i, native, le in secs:
            fmt = lambda h: " ".join("%s=%#x" % kv for kv in h.items())
            print("%d %s name:%s le: %s name:%s" % (i, fmt(native), section_name(d, secs, i, 1),
                                                    fmt(le), section_name(d, secs, i, 2)))
        return 0
    if args[:1] == ["--facts"] and len(args) == 3:
        p, d = args[1], Dump(args[2])
        out = [("BYTE_ORDER", "big" if d.e == ">" else "little")]
        if d.kind == "elf":
            out += [("E_PHOFF", "%#x" % d.e_phoff), ("E_PHNUM", d.e_phnum),
                    ("E_SHOFF", "%#x" % d.e_shoff), ("E_SHNUM", d.e_shnum),
                    ("E_SHSTRNDX", d.e_shstrndx), ("E_MACHINE", d.e_machine),
                    ("E_EHSIZE", d.e_ehsize),
                    ("PT_LOADS", " ".join("%#x+%#x@%#x" % (h["paddr"], h["filesz"], h["offset"])
                                          for h in d.phdrs if h["type"] == 1)),
                    ("PT_NOTES", sum(1 for h in d.phdrs if h["type"] == 4))]
            secs = list(d.sections())
            # the section names, the headers read in the file's byte order, and as
            # little-endian (QEMU 7.2 writes its .shstrtab header little-endian always)
            out += [("SECTIONS", " ".join(section_name(d, secs, i, 1) for i in range(len(secs)))),
                    ("SECTIONS_READ_LE", " ".join(section_name(d, secs, i, 2)
                                                  for i in range(len(secs))))]
        else:
            out += [("HEADER_VERSION", d.header_version), ("BLOCK_SIZE", d.block_size),
                    ("SUB_HDR_SIZE", d.sub_hdr_size), ("STATUS", "%#x" % d.status),
                    ("SUB_PHYS_BASE", "%#x" % d.phys_base),
                    ("OFFSET_VMCOREINFO", "%#x" % d.offset_vmcoreinfo),
                    ("SIZE_VMCOREINFO", d.size_vmcoreinfo),
                    ("OFFSET_NOTE", "%#x" % d.offset_note), ("SIZE_NOTE", d.size_note),
                    ("UTS_SYSNAME", d.uts[0]), ("UTS_NODENAME", d.uts[1]),
                    ("UTS_RELEASE", d.release), ("UTS_VERSION", d.uts[3]),
                    ("UTS_MACHINE", d.machine), ("UTS_DOMAINNAME", d.uts[5]),
                    ("MAX_MAPNR", d.max_mapnr), ("BITMAP_BLOCKS", d.bitmap_blocks),
                    ("NR_CPUS", d.nr_cpus)]
        t = vmcoreinfo_text(d)
        out.append(("HAS_VMCOREINFO", 1 if t is not None else 0))
        if t is not None:
            f = vmcoreinfo_fields(t)
            if "NUMBER(phys_base)" in f:
                out.append(("PHYS_BASE", f["NUMBER(phys_base)"]))
            if "KERNELOFFSET" in f:
                out.append(("KERNELOFFSET", f["KERNELOFFSET"]))
            if "OSRELEASE" in f:
                out.append(("OSRELEASE", f["OSRELEASE"]))
        for k, v in out:
            print("%s_%s=%s" % (p, k, shell(v)))
        return 0
    if len(args) == 1 and not args[0].startswith("--"):
        d = Dump(args[0])
        for base, blob in d.note_blobs():
            for off, name, ntype, desc in parse_notes(blob, d.e, base):
                print("offset %#x name %s type %#x descsz %#x" % (off, name, ntype, len(desc)))
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
