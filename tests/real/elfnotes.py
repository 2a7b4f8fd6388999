#!/usr/bin/python3
"""elfnotes.py - print the notes and a few header facts of a dump (test tooling).

Usage:
  elfnotes.py FILE                   list the notes (ELF core: every PT_NOTE; kdump-compressed:
                                     the notes blob of the sub-header)
  elfnotes.py --vmcoreinfo FILE      print the VMCOREINFO note's text (exit 1 if none)
  elfnotes.py --facts PREFIX FILE    print shell-sourceable PREFIX_KEY=VALUE lines: layout facts
                                     and, when the dump has a VMCOREINFO note, PHYS_BASE,
                                     KERNELOFFSET, OSRELEASE from it
  elfnotes.py --phys PADDR SIZE FILE (ELF core) read guest-physical memory at PADDR and print
                                     the text of the ELF note found there (the guest's own
                                     VMCOREINFO note, present in RAM even when QEMU did not
                                     copy it into the dump)

Only what the real-QEMU tier needs: 64-bit ELF cores and 64-bit kdump-compressed files,
little-endian (x86_64 guests). Standard library only.
"""
import struct
import sys


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
        if head[4] != 2 or head[5] != 1:
            raise SystemExit("%s: only ELF64 little-endian is handled" % self.path)
        (self.e_type, self.e_machine, _, _, self.e_phoff, self.e_shoff, _, self.e_ehsize,
         self.e_phentsize, self.e_phnum, self.e_shentsize, self.e_shnum,
         self.e_shstrndx) = struct.unpack_from("<HHIQQQIHHHHHH", head, 16)
        self.phdrs = []
        raw = self.read(self.e_phoff, self.e_phentsize * self.e_phnum)
        for i in range(self.e_phnum):
            p_type, p_flags, p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_align = \
                struct.unpack_from("<IIQQQQQQ", raw, i * self.e_phentsize)
            self.phdrs.append(dict(type=p_type, flags=p_flags, offset=p_offset, vaddr=p_vaddr,
                                   paddr=p_paddr, filesz=p_filesz, memsz=p_memsz,
                                   align=p_align))

    def elf_note_blobs(self):
        return [(p["offset"], self.read(p["offset"], p["filesz"]))
                for p in self.phdrs if p["type"] == 4]

    def read_phys(self, paddr, size):
        for p in self.phdrs:
            if p["type"] == 1 and p["paddr"] <= paddr and paddr + size <= p["paddr"] + p["filesz"]:
                return self.read(p["offset"] + paddr - p["paddr"], size)
        raise SystemExit("%s: physical range %#x+%#x is not in one PT_LOAD" % (self.path, paddr, size))

    # ---------------------------------------------------------------- kdump
    def _parse_kdump(self, head):
        self.header_version = struct.unpack_from("<i", head, 8)[0]
        self.status, self.block_size, self.sub_hdr_size, self.bitmap_blocks, self.max_mapnr = \
            struct.unpack_from("<iiiiI", head, 0x1a8)
        sub = self.read(self.block_size, 0x68)
        (self.phys_base, self.dump_level, self.split, self.start_pfn, self.end_pfn,
         self.offset_vmcoreinfo, self.size_vmcoreinfo, self.offset_note, self.size_note) = \
            struct.unpack_from("<QiiQQQQQQ", sub, 0)
        self.release = head[0x8e:0x8e + 65].split(b"\0")[0].decode("ascii", "replace")
        self.machine = head[0x110:0x110 + 65].split(b"\0")[0].decode("ascii", "replace")

    def kdump_note_blobs(self):
        if self.header_version >= 4 and self.size_note:
            return [(self.offset_note, self.read(self.offset_note, self.size_note))]
        return []

    def note_blobs(self):
        return self.elf_note_blobs() if self.kind == "elf" else self.kdump_note_blobs()


def parse_notes(blob, base=0):
    """Yields (offset, name, type, desc) for each note of a blob (4-byte aligned notes)."""
    off = 0
    while off + 12 <= len(blob):
        namesz, descsz, ntype = struct.unpack_from("<III", blob, off)
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
        for _, name, ntype, desc in parse_notes(blob, base):
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
        if d.kind != "elf":
            raise SystemExit("--phys needs an ELF core")
        blob = d.read_phys(int(args[1], 0), int(args[2], 0))
        for _, name, _, desc in parse_notes(blob):
            if name == "VMCOREINFO":
                sys.stdout.write(desc.split(b"\0")[0].decode("ascii", "replace"))
                return 0
        sys.stderr.write("no VMCOREINFO note at %s\n" % args[1])
        return 1
    if args[:1] == ["--facts"] and len(args) == 3:
        p, d = args[1], Dump(args[2])
        out = []
        if d.kind == "elf":
            out += [("E_PHOFF", "%#x" % d.e_phoff), ("E_PHNUM", d.e_phnum),
                    ("E_SHOFF", "%#x" % d.e_shoff), ("E_SHNUM", d.e_shnum),
                    ("E_EHSIZE", d.e_ehsize),
                    ("PT_LOADS", " ".join("%#x+%#x@%#x" % (h["paddr"], h["filesz"], h["offset"])
                                          for h in d.phdrs if h["type"] == 1)),
                    ("PT_NOTES", sum(1 for h in d.phdrs if h["type"] == 4))]
        else:
            out += [("HEADER_VERSION", d.header_version), ("BLOCK_SIZE", d.block_size),
                    ("SUB_HDR_SIZE", d.sub_hdr_size), ("STATUS", "%#x" % d.status),
                    ("SUB_PHYS_BASE", "%#x" % d.phys_base),
                    ("OFFSET_VMCOREINFO", "%#x" % d.offset_vmcoreinfo),
                    ("SIZE_VMCOREINFO", d.size_vmcoreinfo),
                    ("OFFSET_NOTE", "%#x" % d.offset_note), ("SIZE_NOTE", d.size_note),
                    ("UTS_RELEASE", d.release), ("UTS_MACHINE", d.machine)]
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
            v = str(v)
            print("%s_%s=%s" % (p, k, v if v and all(c.isalnum() or c in "._-+:/@x"
                                                      for c in v) else "'%s'" % v))
        return 0
    if len(args) == 1 and not args[0].startswith("--"):
        d = Dump(args[0])
        for base, blob in d.note_blobs():
            for off, name, ntype, desc in parse_notes(blob, base):
                print("offset %#x name %s type %#x descsz %#x" % (off, name, ntype, len(desc)))
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
