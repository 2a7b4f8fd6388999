#!/usr/bin/python3
"""vfgen - test-only generator of guest memory dumps from small text specs.

An independent implementation of the formats (it shares no code with src/):
ELF cores (ELF32/ELF64, both byte orders, QEMU 7.2 and standard layouts,
PN_XNUM), kdump-compressed dumps (header versions 1-6, 64-bit, i386 "packed"
and arm/ppc "padded" layouts, zlib/lzo/snappy/zstd/raw pages, excluded pages)
and the makedumpfile flattened stream.  The spec language is documented in
tests/gen/README.md.

    vfgen SPEC OUT                   write the dump SPEC describes
    vfgen --expect SPEC PADDR LEN    write the guest memory a reader must return;
                                     exit 3 not in the dump, 4 excluded
Spec errors exit 2; a codec whose Python module is missing exits 77.
"""

import errno
import os
import random
import struct
import sys
import tempfile
import zlib

EM = {"x86_64": 62, "i386": 3, "aarch64": 183, "arm": 40, "ppc64": 21, "ppc": 20,
      "s390x": 22}
KDUMP_LAYOUT = {"x86_64": "64", "aarch64": "64", "ppc64": "64", "s390x": "64",
                "i386": "packed", "arm": "padded", "ppc": "padded"}
CODEC_BIT = {"none": 0, "zlib": 0x1, "lzo": 0x2, "snappy": 0x4, "zstd": 0x20}
PATTERN_KEY = 0x5A5AA5A5C3C33C3C
SIZE_SUFFIX = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}

DEFAULT_VMCI = [
    "OSRELEASE=6.1.0-56-amd64",
    "PAGESIZE={ps}",
    "SYMBOL(init_uts_ns)=ffffffff92003580",
    "SYMBOL(_stext)=ffffffff81000000",
    "SYMBOL(swapper_pg_dir)=ffffffff82a0c000",
    "OFFSET(uts_namespace.name)=4",
    "KERNELOFFSET=0",
    "NUMBER(phys_base)=-301989888",
]


# sizeof(struct elf_prstatus) of each machine: the size is how a reader tells
# the machine from the notes
PRSTATUS_SIZE = {"x86_64": 336, "aarch64": 392, "s390x": 336, "ppc64": 504,
                 "i386": 144, "arm": 148, "ppc": 268}


class SpecError(Exception):
    pass


def num(s, line):
    try:
        mult = 1
        if s[-1:].upper() in SIZE_SUFFIX:
            mult = SIZE_SUFFIX[s[-1].upper()]
            s = s[:-1]
        return int(s, 0) * mult
    except (ValueError, IndexError):
        raise SpecError("line %d: '%s' is not a number" % (line, s))


class Spec:
    def __init__(self, text):
        self.format = "elf"
        self.flattened = False
        self.flat_record_size = 1 << 20
        self.flat_shuffle = False
        self.cls = 64
        self.be = False
        self.machine = "x86_64"
        self.page_size = 4096
        self.ram = []          # (start, size, fill)
        self.overlays = []     # (paddr, bytes)
        self.guest_uts = True  # init_uts_ns in guest memory where the note puts it
        self.vmci_in_memory = []
        self.vmci_note = True
        self.vmci_lines = []
        self.notes = []        # extra (name, type, desc)
        self.prstatus = 0
        self.qemu_cpustate = 0
        self.elf_layout = "qemu"
        self.extra_loads = 0
        self.pt_note_position = "first"
        self.pt_note_count = 1
        self.notes_after_data = False
        self.memsz_extra = 0
        self.header_version = 6
        self.compress = "zlib"
        self.block_size = None
        self.phys_base = None
        self.vmci_pointer = "yes"
        self.exclude = []
        self.dump_level = None
        self.utsname = {}
        self.nr_cpus = 1
        self.pokes = []
        self.truncate = None
        self.corrupt = set()
        explicit_class = False
        for ln, raw in enumerate(text.splitlines(), 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split(None, 1)
            key, rest = parts[0], (parts[1] if len(parts) > 1 else "")
            args = rest.split()

            def need(n):
                if len(args) < n:
                    raise SpecError("line %d: %s needs %d argument(s)" % (ln, key, n))

            def yes():
                need(1)
                if args[0] not in ("yes", "no"):
                    raise SpecError("line %d: %s takes yes or no" % (ln, key))
                return args[0] == "yes"

            if key == "format":
                need(1)
                if args[0] not in ("elf", "kdump"):
                    raise SpecError("line %d: format is elf or kdump" % ln)
                self.format = args[0]
            elif key == "flattened":
                self.flattened = yes()
            elif key == "flat-record-size":
                need(1)
                self.flat_record_size = num(args[0], ln)
            elif key == "flat-shuffle":
                self.flat_shuffle = yes()
            elif key == "class":
                need(1)
                if args[0] not in ("32", "64"):
                    raise SpecError("line %d: class is 32 or 64" % ln)
                self.cls = int(args[0])
                explicit_class = True
            elif key == "endian":
                need(1)
                if args[0] not in ("little", "big"):
                    raise SpecError("line %d: endian is little or big" % ln)
                self.be = args[0] == "big"
            elif key == "machine":
                need(1)
                if args[0] not in EM:
                    raise SpecError("line %d: unknown machine %s" % (ln, args[0]))
                self.machine = args[0]
            elif key == "page_size":
                need(1)
                self.page_size = num(args[0], ln)
            elif key == "ram":
                need(2)
                fill = args[2] if len(args) > 2 else "pattern"
                if fill not in ("pattern", "zero", "sparse"):
                    raise SpecError("line %d: ram fill is pattern, zero or sparse" % ln)
                self.ram.append((num(args[0], ln), num(args[1], ln), fill))
            elif key == "bytes":
                need(2)
                self.overlays.append((num(args[0], ln), bytes.fromhex(args[1])))
            elif key == "file":
                need(2)
                with open(args[1], "rb") as f:
                    self.overlays.append((num(args[0], ln), f.read()))
            elif key == "vmcoreinfo-in-memory":
                need(1)
                self.vmci_in_memory.append(num(args[0], ln))
            elif key == "guest-uts":
                need(1)
                self.guest_uts = args[0] == "yes"
            elif key == "vmcoreinfo-note":
                self.vmci_note = yes()
            elif key == "vmcoreinfo-line":
                if "=" not in rest:
                    raise SpecError("line %d: vmcoreinfo-line takes KEY=VALUE" % ln)
                self.vmci_lines.append(rest)
            elif key == "vmcoreinfo-file":
                need(1)
                with open(args[0]) as f:
                    self.vmci_lines.extend(l for l in f.read().splitlines() if l)
            elif key == "note":
                need(3)
                desc = args[2]
                if desc.startswith("text:"):
                    d = rest.split("text:", 1)[1].encode()
                elif desc.startswith("file:"):
                    with open(desc[5:], "rb") as f:
                        d = f.read()
                else:
                    d = bytes.fromhex(desc)
                self.notes.append((args[0], num(args[1], ln), d))
            elif key == "prstatus":
                need(1)
                self.prstatus = num(args[0], ln)
            elif key == "qemu-cpustate":
                need(1)
                self.qemu_cpustate = num(args[0], ln)
            elif key == "elf-layout":
                need(1)
                if args[0] not in ("qemu", "standard"):
                    raise SpecError("line %d: elf-layout is qemu or standard" % ln)
                self.elf_layout = args[0]
            elif key == "extra-loads":
                need(1)
                self.extra_loads = num(args[0], ln)
            elif key == "pt-note-position":
                need(1)
                if args[0] not in ("first", "last"):
                    raise SpecError("line %d: pt-note-position is first or last" % ln)
                self.pt_note_position = args[0]
            elif key == "pt-note-count":
                need(1)
                self.pt_note_count = num(args[0], ln)
                if self.pt_note_count not in (1, 2):
                    raise SpecError("line %d: pt-note-count is 1 or 2" % ln)
            elif key == "notes-after-data":
                self.notes_after_data = yes()
            elif key == "memsz-extra":
                need(1)
                self.memsz_extra = num(args[0], ln)
            elif key == "header_version":
                need(1)
                self.header_version = num(args[0], ln)
                if not 1 <= self.header_version <= 6:
                    raise SpecError("line %d: header_version is 1 to 6" % ln)
            elif key == "compress":
                need(1)
                if args[0] not in CODEC_BIT:
                    raise SpecError("line %d: compress is none, zlib, lzo, snappy or zstd" % ln)
                self.compress = args[0]
            elif key == "block_size":
                need(1)
                self.block_size = num(args[0], ln)
            elif key == "phys_base":
                need(1)
                self.phys_base = num(args[0], ln)
            elif key == "kdump-vmcoreinfo-pointer":
                need(1)
                if args[0] not in ("yes", "no", "bad"):
                    raise SpecError("line %d: kdump-vmcoreinfo-pointer is yes, no or bad" % ln)
                self.vmci_pointer = args[0]
            elif key == "exclude":
                need(2)
                self.exclude.append((num(args[0], ln), num(args[1], ln)))
            elif key == "dump_level":
                need(1)
                self.dump_level = num(args[0], ln)
            elif key == "utsname":
                need(2)
                fields = ("sysname", "nodename", "release", "version", "machine", "domainname")
                if args[0] not in fields:
                    raise SpecError("line %d: utsname field is one of %s" % (ln, ", ".join(fields)))
                self.utsname[args[0]] = rest.split(None, 1)[1]
            elif key == "nr_cpus":
                need(1)
                self.nr_cpus = num(args[0], ln)
            elif key == "poke":
                need(2)
                self.pokes.append((num(args[0], ln), bytes.fromhex(args[1])))
            elif key == "truncate":
                need(1)
                self.truncate = num(args[0], ln)
            elif key in ("flat-zero-length-record", "flat-record-past-end", "flat-no-end-marker",
                         "note-descsz-overflow", "kdump-descriptor-past-eof"):
                if yes():
                    self.corrupt.add(key)
            else:
                raise SpecError("line %d: unknown key '%s'" % (ln, key))
        if not explicit_class:
            self.cls = 32 if self.machine in ("i386", "arm", "ppc") else 64
        if self.machine in ("ppc", "ppc64", "s390x") and not any(
                l.split()[0] == "endian" for l in text.splitlines() if l.strip()):
            self.be = True
        if not self.ram:
            raise SpecError("no ram range")
        self.ram.sort()
        for i in range(1, len(self.ram)):
            if self.ram[i][0] < self.ram[i - 1][0] + self.ram[i - 1][1]:
                raise SpecError("ram ranges overlap")
        if self.block_size is None:
            self.block_size = self.page_size
        self.place_guest_uts()
        if self.format == "kdump":
            for s, n, _ in self.ram:
                if s % self.block_size or n % self.block_size:
                    raise SpecError("kdump ram ranges must be block-aligned")
        if self.dump_level is None:
            self.dump_level = 31 if self.exclude else 1

    def place_guest_uts(self):
        """x86_64, aarch64 and s390x: the kernel's init_uts_ns.name (struct
        new_utsname) in guest memory at SYMBOL(init_uts_ns) +
        OFFSET(uts_namespace.name), translated with NUMBER(phys_base) (x86_64),
        NUMBER(kimage_voffset) (aarch64) or as it is (s390x), when RAM holds
        it and no bytes are put there."""
        if not self.guest_uts or self.machine not in ("x86_64", "aarch64", "s390x"):
            return
        kv = dict(l.partition("=")[::2] for l in self.vmci_text().decode().splitlines())
        try:
            sym = int(kv["SYMBOL(init_uts_ns)"], 16)
            off = int(kv.get("OFFSET(uts_namespace.name)", "4"))
            if self.machine == "aarch64":   # the image where kimage_voffset says
                pa = (sym - int(kv["NUMBER(kimage_voffset)"], 16)) % (1 << 64) + off
            elif self.machine == "s390x":   # virtual = physical (Linux before 6.6)
                pa = sym + off
            else:
                pb = int(kv.get("NUMBER(phys_base)", "0"))
                pa = (sym - 0xffffffff80000000 + pb) % (1 << 64) + off
        except (KeyError, ValueError):
            return
        if not any(s <= pa and pa + 6 * 65 <= s + n for s, n, _ in self.ram):
            return
        if any(a < pa + 6 * 65 and pa < a + len(b) for a, b in self.overlays):
            return
        fields = ("Linux", "vfgen", kv.get("OSRELEASE", ""), "#1 SMP PREEMPT_DYNAMIC",
                  self.machine, "(none)")
        self.overlays.append((pa, b"".join(f.encode()[:64].ljust(65, b"\0") for f in fields)))

    # ------------------------------------------------------------ contents
    def vmci_text(self):
        lines = self.vmci_lines or [l.format(ps=self.page_size) for l in DEFAULT_VMCI
                                    if self.machine == "x86_64" or "phys_base" not in l]
        return ("".join(l + "\n" for l in lines)).encode()

    def e(self):
        return ">" if self.be else "<"

    def note(self, name, ntype, desc):
        nb = name.encode() + b"\0" if name else b"\0"
        hdr = struct.pack(self.e() + "III", len(nb), len(desc), ntype)
        return hdr + pad4(nb) + pad4(desc)

    def vmci_note_bytes(self):
        return self.note("VMCOREINFO", 0, self.vmci_text())

    def all_notes(self):
        """The dump's notes as (name, type, desc), in order."""
        out = []
        prs = PRSTATUS_SIZE[self.machine]
        for i in range(self.prstatus):
            out.append(("CORE", 1, bytes([i + 1]) + bytes(prs - 1)))
        for _ in range(self.qemu_cpustate):
            out.append(("QEMU", 0, struct.pack(self.e() + "II", 1, 0x1b8) + bytes(0x1b8 - 8)))
        out.extend(self.notes)
        if self.vmci_note:
            out.append(("VMCOREINFO", 0, self.vmci_text()))
        return out

    def note_phys_base(self):
        for l in self.vmci_text().decode().splitlines():
            k, _, v = l.partition("=")
            if k in ("NUMBER(phys_base)", "NUMBER(PHYS_OFFSET)"):
                return int(v, 16) if v.startswith("0x") else int(v)
        return 0

    def ram_bytes(self, start, size, fill):
        """Contents of [start, start+size) inside one ram range, overlays applied."""
        if fill == "pattern":
            a = start & ~7
            n = (start + size - a + 7) // 8
            words = struct.pack("<%dQ" % n, *((a + 8 * i) ^ PATTERN_KEY for i in range(n)))
            data = bytearray(words[start - a:start - a + size])
        else:
            data = bytearray(size)
        for paddr, b in self.overlay_list():
            lo, hi = max(paddr, start), min(paddr + len(b), start + size)
            if lo < hi:
                data[lo - start:hi - start] = b[lo - paddr:hi - paddr]
        return bytes(data)

    def overlay_list(self):
        # the in-memory notes first: `bytes` and `file` overlays may patch them
        if getattr(self, "_overlays", None) is None:
            self._overlays = [(p, self.vmci_note_bytes()) for p in self.vmci_in_memory] + \
                list(self.overlays)
        return self._overlays

    def extra_load_ranges(self):
        base = (self.ram[-1][0] + self.ram[-1][1] + 0xfff) & ~0xfff
        return [(base + 0x1000 * i, 64) for i in range(self.extra_loads)]

    def mem_ranges(self):
        r = [(s, n, f) for s, n, f in self.ram]
        if self.format == "elf":
            r += [(s, n, "pattern") for s, n in self.extra_load_ranges()]
        return r

    def excluded(self, pfn, fill=None):
        """Is the page not dumped (kdump): in an `exclude` range, or in a
        `sparse` RAM range (fill) without bytes the spec puts there?"""
        p = pfn * self.page_size
        if any(s <= p < s + n for s, n in self.exclude):
            return True
        if fill == "sparse":
            q = p + self.page_size
            return not any(a < q and a + len(b) > p for a, b in self.overlay_list() if b)
        return False


def pad4(b):
    return b + bytes(-len(b) % 4)


def align(x, a):
    return (x + a - 1) // a * a


# ---------------------------------------------------------------- output
#
# Dumps are written straight to a file with positional writes: nothing is held
# in memory but headers and one chunk of data, and what a spec leaves empty (a
# `sparse` RAM range, all-zero kdump bitmap chunks, layout padding) is never
# written, so it stays a file hole.  Time and memory depend on the bytes that
# are actually stored, not on the size of guest RAM.

CHUNK = 1 << 20


class Out:
    """Positional writes to a file descriptor; remembers the end."""

    def __init__(self, fd):
        self.fd = fd
        self.end = 0

    def write(self, off, data):
        data = bytes(data)
        while data:
            n = os.pwrite(self.fd, data, off)
            off += n
            data = data[n:]
        self.end = max(self.end, off)


def ranges_minus(ranges, holes):
    """[lo, hi) intervals (sorted, disjoint) minus holes ([lo, hi), any order)."""
    out = []
    holes = sorted(holes)
    for lo, hi in ranges:
        for hlo, hhi in holes:
            if hhi <= lo or hlo >= hi:
                continue
            if hlo > lo:
                out.append((lo, hlo))
            lo = max(lo, hhi)
            if lo >= hi:
                break
        if lo < hi:
            out.append((lo, hi))
    return out


def merge(ranges):
    out = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


# ---------------------------------------------------------------- ELF

def write_elf(sp, out):
    e = sp.e()
    is64 = sp.cls == 64
    ehsz, phsz, shsz = (64, 56, 64) if is64 else (52, 32, 40)
    notes = sp.all_notes()
    groups = [notes]
    if sp.pt_note_count == 2 and len(notes) > 1:
        groups = [notes[:1], notes[1:]]
    note_blobs = [b"".join(sp.note(*n) for n in g) for g in groups]
    loads = [(s, n, f) for s, n, f in sp.ram] + \
            [(s, n, "pattern") for s, n in sp.extra_load_ranges()]
    phnum = len(note_blobs) + len(loads)
    xnum = phnum >= 0xffff
    qemu = sp.elf_layout == "qemu"
    if qemu:
        shoff, nsh = ehsz, 2
        phoff = ehsz + 2 * shsz
    elif xnum:
        shoff, nsh = ehsz, 1
        phoff = ehsz + shsz
    else:
        shoff, nsh = 0, 0
        phoff = ehsz
    pos = phoff + phnum * phsz
    note_offs = []
    if not sp.notes_after_data:
        for b in note_blobs:
            note_offs.append(pos)
            pos += len(b)
    data_start = pos if qemu else align(pos, sp.page_size)
    load_offs = []
    pos = data_start
    for s, n, f in loads:
        load_offs.append(pos)
        pos += n
    if sp.notes_after_data:
        for b in note_blobs:
            note_offs.append(pos)
            pos += len(b)
    end = pos
    shstr = b"\0.shstrtab\0"
    total = end + (len(shstr) if qemu else 0)

    ident = b"\x7fELF" + bytes([2 if is64 else 1, 2 if sp.be else 1, 1, 0]) + bytes(8)
    fmt = e + ("HHIQQQIHHHHHH" if is64 else "HHIIIIIHHHHHH")
    out.write(0, ident + struct.pack(fmt, 4, EM[sp.machine], 1, 0, phoff, shoff, 0,
                                     8 if qemu else ehsz, phsz, 0xffff if xnum else phnum,
                                     shsz, nsh, 1 if qemu else 0))
    # section headers
    def shdr(name, stype, off, size, info):
        if is64:
            return struct.pack(e + "IIQQQQIIQQ", name, stype, 0, 0, off, size, 0, info, 1, 0)
        return struct.pack(e + "IIIIIIIIII", name, stype, 0, 0, off, size, 0, info, 1, 0)
    if nsh:
        out.write(shoff, shdr(0, 0, 0, 0, phnum if xnum else 0))
    if qemu:
        out.write(shoff + shsz, shdr(1, 3, end, len(shstr), 0))
        out.write(end, shstr)
    # program headers
    def phdr(ptype, off, paddr, filesz, memsz):
        if is64:
            return struct.pack(e + "IIQQQQQQ", ptype, 0, off, paddr, paddr, filesz, memsz, 0)
        return struct.pack(e + "IIIIIIII", ptype, off, paddr, paddr, filesz, memsz, 0, 0)
    note_ph = [phdr(4, note_offs[i], 0, len(b), len(b)) for i, b in enumerate(note_blobs)]
    load_ph = [phdr(1, load_offs[i], s, n, n + (sp.memsz_extra if i < len(sp.ram) else 0))
               for i, (s, n, f) in enumerate(loads)]
    ph = load_ph + note_ph if sp.pt_note_position == "last" else note_ph + load_ph
    out.write(phoff, b"".join(ph))
    for i, b in enumerate(note_blobs):
        out.write(note_offs[i], b)
    for i, (s, n, f) in enumerate(loads):
        if f == "sparse":
            # a hole, but for the bytes the spec puts there (the in-memory note)
            for lo, hi in merge((max(p, s), min(p + len(b), s + n))
                                for p, b in sp.overlay_list() if p < s + n and p + len(b) > s):
                out.write(load_offs[i] + lo - s, sp.ram_bytes(lo, hi - lo, "zero"))
            continue
        for k in range(0, n, CHUNK):
            m = min(CHUNK, n - k)
            out.write(load_offs[i] + k, sp.ram_bytes(s + k, m, f))
    if "note-descsz-overflow" in sp.corrupt:
        out.write(note_offs[0] + 4, struct.pack(e + "I", 0x100000))
    return total


# ---------------------------------------------------------------- kdump

def compress_page(codec, data):
    if codec == "none":
        return data
    if codec == "zlib":
        return zlib.compress(data)
    try:
        if codec == "lzo":
            import lzo
            return lzo.compress(data, 1, False)
        if codec == "snappy":
            import snappy
            return snappy.compress(data)
        if codec == "zstd":
            import zstd
            return zstd.compress(data)
    except ImportError:
        sys.stderr.write("vfgen: no Python module for %s (apt-get install python3-%s)\n"
                         % (codec, codec))
        sys.exit(77)
    raise AssertionError(codec)


def sub_layout(kind):
    """Sub-header field offsets and sizes: name -> (offset, size); and length."""
    if kind == "64":
        f = {"phys_base": (0, 8), "dump_level": (8, 4), "split": (0xc, 4),
             "start_pfn": (0x10, 8), "end_pfn": (0x18, 8),
             "offset_vmcoreinfo": (0x20, 8), "size_vmcoreinfo": (0x28, 8),
             "offset_note": (0x30, 8), "size_note": (0x38, 8),
             "offset_eraseinfo": (0x40, 8), "size_eraseinfo": (0x48, 8),
             "start_pfn_64": (0x50, 8), "end_pfn_64": (0x58, 8), "max_mapnr_64": (0x60, 8)}
        return f, 0x68
    if kind == "packed":
        f = {"phys_base": (0, 4), "dump_level": (4, 4), "split": (8, 4),
             "start_pfn": (0xc, 4), "end_pfn": (0x10, 4),
             "offset_vmcoreinfo": (0x14, 8), "size_vmcoreinfo": (0x1c, 4),
             "offset_note": (0x20, 8), "size_note": (0x28, 4),
             "offset_eraseinfo": (0x2c, 8), "size_eraseinfo": (0x34, 4),
             "start_pfn_64": (0x38, 8), "end_pfn_64": (0x40, 8), "max_mapnr_64": (0x48, 8)}
        return f, 0x50
    f = {"phys_base": (0, 4), "dump_level": (4, 4), "split": (8, 4),
         "start_pfn": (0xc, 4), "end_pfn": (0x10, 4),
         "offset_vmcoreinfo": (0x18, 8), "size_vmcoreinfo": (0x20, 4),
         "offset_note": (0x28, 8), "size_note": (0x30, 4),
         "offset_eraseinfo": (0x38, 8), "size_eraseinfo": (0x40, 4),
         "start_pfn_64": (0x48, 8), "end_pfn_64": (0x50, 8), "max_mapnr_64": (0x58, 8)}
    return f, 0x60


VERSION_OF = {"offset_vmcoreinfo": 3, "size_vmcoreinfo": 3, "offset_note": 4, "size_note": 4,
              "offset_eraseinfo": 5, "size_eraseinfo": 5, "start_pfn_64": 6, "end_pfn_64": 6,
              "max_mapnr_64": 6}


def put(img, off, size, value, be):
    img[off:off + size] = (value & ((1 << (8 * size)) - 1)).to_bytes(size, "big" if be else "little")


def set_bits(buf, base, lo, hi):
    """Set bits [lo, hi) of the bitmap chunk buf, whose bit 0 is pfn base."""
    lo -= base
    hi -= base
    while lo < hi and lo % 8:
        buf[lo // 8] |= 1 << (lo % 8)
        lo += 1
    full = (hi - lo) // 8
    if full > 0:
        buf[lo // 8:lo // 8 + full] = b"\xff" * full
        lo += 8 * full
    while lo < hi:
        buf[lo // 8] |= 1 << (lo % 8)
        lo += 1


BITMAP_BLOCK = 4096


def write_bitmap(out, off, length, pfns):
    """Write a bitmap of length bytes with the bits of the sorted, disjoint pfn
    intervals set, one CHUNK at a time; all-zero 4 KiB blocks stay holes."""
    i = 0
    for c in range(0, length, CHUNK):
        m = min(CHUNK, length - c)
        base, top = 8 * c, 8 * (c + m)
        buf = None
        while i < len(pfns) and pfns[i][1] <= base:
            i += 1
        j = i
        while j < len(pfns) and pfns[j][0] < top:
            if buf is None:
                buf = bytearray(m)
            set_bits(buf, base, max(pfns[j][0], base), min(pfns[j][1], top))
            j += 1
        if buf is None:
            continue
        # write the runs of blocks that are not all zero; the rest stay holes
        zero = bytes(BITMAP_BLOCK)
        k = 0
        while k < m:
            while k < m and buf[k:k + BITMAP_BLOCK] == zero[:min(BITMAP_BLOCK, m - k)]:
                k += BITMAP_BLOCK
            r = k
            while r < m and buf[r:r + BITMAP_BLOCK] != zero[:min(BITMAP_BLOCK, m - r)]:
                r += BITMAP_BLOCK
            if k < m:
                out.write(off + c + k, buf[k:min(r, m)])
            k = r


def write_kdump(sp, out):
    # a kdump's pages are its blocks: QEMU on aarch64 writes 64 KiB blocks
    # (pfn = address / 64 KiB) whatever the kernel's page size (PAGESIZE)
    be, ps, bs = sp.be, sp.block_size, sp.block_size
    kind = KDUMP_LAYOUT[sp.machine]
    fields, sublen = sub_layout(kind)
    ulong = 8 if kind == "64" else 4
    v = sp.header_version
    max_mapnr = max((s + n + ps - 1) // ps for s, n, _ in sp.ram)

    # sub-header blocks: sub-header, then the notes blob (v4+) or the text (v3)
    blob = b""
    vmci_off = vmci_size = 0
    blob_off = bs + sublen
    if v >= 4:
        pos = 0
        parts = []
        for n in sp.all_notes():
            b = sp.note(*n)
            if n[0] == "VMCOREINFO":
                vmci_off = blob_off + pos + 12 + 12
                vmci_size = len(n[2])
            parts.append(b)
            pos += len(b)
        blob = b"".join(parts)
    elif v == 3 and sp.vmci_note:
        blob = sp.vmci_text()
        vmci_off, vmci_size = blob_off, len(blob)
    if sp.vmci_pointer == "no":
        vmci_off = vmci_size = 0
    elif sp.vmci_pointer == "bad" and vmci_off:
        vmci_off -= 24
    sub_hdr_size = (sublen + len(blob) + bs - 1) // bs
    bitmap_len = align((max_mapnr + 7) // 8, bs)
    bitmap_blocks = 2 * bitmap_len // bs
    b1 = bs * (1 + sub_hdr_size)
    b2 = b1 + bitmap_len
    pd = b2 + bitmap_len

    # which pages are in RAM (bitmap 1) and which are dumped (bitmap 2), as pfn intervals
    in_ram = [(s // ps, (s + n) // ps) for s, n, _ in sp.ram]
    excl = [(-(-s // ps), -(-(s + n) // ps)) for s, n in sp.exclude]
    dumped = []    # (pfn_lo, pfn_hi, fill), sorted
    for s, n, f in sp.ram:
        lo, hi = s // ps, (s + n) // ps
        if f == "sparse":
            # only the pages holding bytes the spec puts there are dumped
            keep = merge((max(lo, p // ps), min(hi, (p + len(b) - 1) // ps + 1))
                         for p, b in sp.overlay_list() if b and p < s + n and p + len(b) > s)
        else:
            keep = [(lo, hi)]
        dumped += [(a, b, f) for a, b in ranges_minus(keep, excl)]
    ndumped = sum(b - a for a, b, _ in dumped)

    hdr = bytearray(b1)
    hdr[0:8] = b"KDUMP   "
    put(hdr, 8, 4, v, be)
    uts = {"machine": "i686" if sp.machine == "i386" else sp.machine}
    uts.update(sp.utsname)
    for i, name in enumerate(("sysname", "nodename", "release", "version", "machine",
                              "domainname")):
        b = uts.get(name, "").encode()[:64]
        hdr[0xc + 65 * i:0xc + 65 * i + len(b)] = b
    base = 0x1a8 if kind == "64" else 0x19c
    bit = CODEC_BIT[sp.compress]
    for i, val in enumerate((bit, bs, sub_hdr_size, bitmap_blocks, min(max_mapnr, 0xffffffff),
                             0, 0, 0, 0, sp.nr_cpus)):
        put(hdr, base + 4 * i, 4, val, be)
    phys_base = sp.phys_base if sp.phys_base is not None else sp.note_phys_base()
    values = {"phys_base": phys_base, "dump_level": sp.dump_level, "split": 0,
              "start_pfn": 0, "end_pfn": min(max_mapnr, (1 << (8 * ulong)) - 1),
              "offset_vmcoreinfo": vmci_off, "size_vmcoreinfo": vmci_size,
              "offset_note": blob_off if v >= 4 and blob else 0,
              "size_note": len(blob) if v >= 4 else 0,
              "offset_eraseinfo": 0, "size_eraseinfo": 0,
              "start_pfn_64": 0, "end_pfn_64": max_mapnr, "max_mapnr_64": max_mapnr}
    for name, (off, size) in fields.items():
        if VERSION_OF.get(name, 1) <= v:
            put(hdr, bs + off, size, values[name], be)
    hdr[blob_off:blob_off + len(blob)] = blob
    out.write(0, hdr)
    write_bitmap(out, b1, bitmap_len, merge(in_ram))
    write_bitmap(out, b2, bitmap_len, [(a, b) for a, b, _ in dumped])

    # page descriptors and page data, each buffered up to a CHUNK
    desc_pos, data_pos = pd, pd + 24 * ndumped
    descs, datas = bytearray(), bytearray()
    zero_desc = None
    first_desc = None
    dfmt = ("<" if not be else ">") + "qIIQ"
    zero_page = bytes(ps)
    for lo, hi, f in dumped:
        for pfn in range(lo, hi):
            page = sp.ram_bytes(pfn * ps, ps, "zero" if f == "sparse" else f)
            if page == zero_page and zero_desc is not None:
                d = zero_desc
            else:
                c = compress_page(sp.compress, page)
                flags = bit
                if len(c) >= ps:
                    c, flags = page, 0
                d = struct.pack(dfmt, data_pos + len(datas), len(c), flags, 0)
                if page == zero_page:
                    zero_desc = d
                datas += c
                if len(datas) >= CHUNK:
                    out.write(data_pos, datas)
                    data_pos += len(datas)
                    datas = bytearray()
            if first_desc is None:
                first_desc = d
            descs += d
            if len(descs) >= CHUNK:
                out.write(desc_pos, descs)
                desc_pos += len(descs)
                descs = bytearray()
    out.write(desc_pos, descs)
    out.write(data_pos, datas)
    total = data_pos + len(datas)
    if "kdump-descriptor-past-eof" in sp.corrupt and first_desc is not None:
        out.write(pd, (total + 0x100000).to_bytes(8, "big" if be else "little"))
    if "note-descsz-overflow" in sp.corrupt and blob:
        out.write(blob_off + 4, (0x100000).to_bytes(4, "big" if be else "little"))
    return total


# ---------------------------------------------------------------- flattened

def next_data(fd, off):
    """The offset of the first data byte at or after off (holes skipped), or None."""
    try:
        return os.lseek(fd, off, os.SEEK_DATA)
    except OSError as e:
        if e.errno == errno.ENXIO:
            return None
        if e.errno == errno.EINVAL:    # no SEEK_DATA on this file system
            return off
        raise


def flatten(sp, src_fd, size, out):
    """Write the flattened stream of the size-byte plain dump in src_fd to out:
    records of flat_record_size at multiples of it, all-zero ones left out (but
    for the last); holes are skipped without reading them."""
    head = bytearray(4096)
    head[0:12] = b"makedumpfile"
    head[16:24] = (1).to_bytes(8, "big")
    head[24:32] = (1).to_bytes(8, "big")
    out.write(0, head)
    recs = []
    step = max(1, sp.flat_record_size)
    last = (size - 1) // step * step if size else 0
    off = 0
    while off < size:
        if off < last:
            d = next_data(src_fd, off)
            d = last if d is None else min(d, last)
            if d >= off + step:
                off += (d - off) // step * step
                continue
        n = min(step, size - off)
        if off == last or os.pread(src_fd, n, off).strip(b"\0"):
            recs.append((off, n))  # all-zero chunks are left out (read as zeros)
        off += step
    if sp.flat_shuffle:
        random.Random(1).shuffle(recs)
    if "flat-zero-length-record" in sp.corrupt:
        recs.insert(1, (size, 0))
    pos = len(head)
    for i, (off, n) in enumerate(recs):
        claim = n
        if "flat-record-past-end" in sp.corrupt and i == len(recs) - 1:
            claim = n + 4096
        out.write(pos, off.to_bytes(8, "big") + claim.to_bytes(8, "big"))
        pos += 16
        for k in range(0, n, CHUNK):
            b = os.pread(src_fd, min(CHUNK, n - k), off + k)
            b += bytes(min(CHUNK, n - k) - len(b))
            out.write(pos, b)
            pos += len(b)
    if "flat-no-end-marker" not in sp.corrupt and "flat-record-past-end" not in sp.corrupt:
        out.write(pos, b"\xff" * 16)
        pos += 16
    return pos


# ---------------------------------------------------------------- expect

def expect(sp, paddr, length):
    out = bytearray()
    ranges = sp.mem_ranges()
    p = paddr
    end = paddr + length
    while p < end:
        if sp.format == "kdump":
            ps = sp.page_size
            pfn = p // ps
            r = next(((s, n, f) for s, n, f in ranges if s <= p < s + n), None)
            if r is None:
                return None, 3
            if sp.excluded(pfn, r[2]):
                return None, 4
            q = min(end, (pfn + 1) * ps, r[0] + r[1])
        else:
            r = next(((s, n, f) for s, n, f in ranges if s <= p < s + n), None)
            if r is None:
                return None, 3
            q = min(end, r[0] + r[1])
        out += sp.ram_bytes(p, q - p, "zero" if r[2] == "sparse" else r[2])
        p = q
    return out, 0


def main(argv):
    try:
        if len(argv) >= 2 and argv[1] in ("-h", "--help"):
            sys.stdout.write(__doc__)
            return 0
        if len(argv) == 5 and argv[1] == "--expect":
            text = sys.stdin.read() if argv[2] == "-" else open(argv[2]).read()
            sp = Spec(text)
            data, rc = expect(sp, int(argv[3], 0), int(argv[4], 0))
            if rc:
                return rc
            sys.stdout.buffer.write(data)
            return 0
        if len(argv) != 3:
            sys.stderr.write("usage: vfgen SPEC OUT | vfgen --expect SPEC PADDR LEN\n")
            return 2
        text = sys.stdin.read() if argv[1] == "-" else open(argv[1]).read()
        sp = Spec(text)
        write = write_elf if sp.format == "elf" else write_kdump
        fd = os.open(argv[2], os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o666)
        try:
            if sp.flattened:
                # the plain dump goes to an unlinked scratch file beside OUT
                with tempfile.TemporaryFile(dir=os.path.dirname(os.path.abspath(argv[2]))) as t:
                    size = write(sp, Out(t.fileno()))
                    os.ftruncate(t.fileno(), size)
                    size = flatten(sp, t.fileno(), size, Out(fd))
            else:
                size = write(sp, Out(fd))
            os.ftruncate(fd, size)    # a trailing hole, if the dump ends in one
            out = Out(fd)
            for off, b in sp.pokes:
                out.write(off, b)
                size = max(size, off + len(b))
            if sp.truncate is not None and sp.truncate < size:
                os.ftruncate(fd, sp.truncate)
        finally:
            os.close(fd)
        return 0
    except SpecError as e:
        sys.stderr.write("vfgen: %s: %s\n" % (argv[-1] if len(argv) < 5 else argv[2], e))
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
