#!/usr/bin/python3
"""fixup-for-makedumpfile.py - TEST TOOLING ONLY: make QEMU 7.2 dumps readable by
makedumpfile 1.7.2, so the real-QEMU tier can produce makedumpfile-written fixtures.

This is not vmcore-fix and must not be used to check vmcore-fix: it knows the one real
dump it is given (x86_64, 64-bit little-endian) and does the minimum that makedumpfile
needs. Standard library only.

Usage:
  fixup-for-makedumpfile.py kdump-phys-base IN OUT PHYS_BASE
      Copy a kdump-compressed file (not flattened) and set the kdump sub-header's
      phys_base (8 bytes, little-endian, at file offset block_size; block_size is the u32
      at 0x1ac) to PHYS_BASE (decimal, may be negative, as NUMBER(phys_base) says; or 0x hex).
      QEMU 7.2 stores a wrong phys_base there for KASLR guests (it parses the note's decimal
      digits as hex); makedumpfile then fails with "Can't get pgd".

  fixup-for-makedumpfile.py elf-phdrs-first IN OUT
      Copy an ELF64 core and move its program headers right after the 64-byte ELF header
      (e_phoff = 64), dropping the section headers (e_shoff = e_shnum = e_shstrndx = 0) and
      zeroing the bytes the old headers used; e_ehsize is set to 64. QEMU 7.2 writes the
      section headers first (e_phoff 0xc0), and makedumpfile 1.7.2 then fails with
      "get_elf_info: Can't get the number of PT_LOAD". Nothing else moves.
"""
import shutil
import struct
import sys


def kdump_phys_base(src, dst, value):
    v = int(value, 0) if value.lower().startswith(("0x", "-0x")) else int(value, 10)
    v &= (1 << 64) - 1
    shutil.copyfile(src, dst)
    with open(dst, "r+b") as f:
        head = f.read(0x1b0)
        if head[:8] != b"KDUMP   ":
            raise SystemExit("%s: not a kdump-compressed file (flattened? use makedumpfile -R)" % src)
        block_size = struct.unpack_from("<I", head, 0x1ac)[0]
        f.seek(block_size)
        old = struct.unpack("<Q", f.read(8))[0]
        f.seek(block_size)
        f.write(struct.pack("<Q", v))
    sys.stderr.write("fixup: %s: sub-header phys_base %#x -> %#x (block_size %#x)\n"
                     % (dst, old, v, block_size))


def elf_phdrs_first(src, dst):
    shutil.copyfile(src, dst)
    with open(dst, "r+b") as f:
        eh = bytearray(f.read(64))
        if eh[:4] != b"\x7fELF" or eh[4] != 2 or eh[5] != 1:
            raise SystemExit("%s: not an ELF64 little-endian file" % src)
        e_phoff, e_shoff = struct.unpack_from("<QQ", eh, 0x20)
        e_phentsize, e_phnum, e_shentsize, e_shnum = struct.unpack_from("<HHHH", eh, 0x36)
        phsize = e_phentsize * e_phnum
        f.seek(e_phoff)
        ph = f.read(phsize)
        # The lowest file offset that program-header-described data uses: headers must fit.
        lowest = min(struct.unpack_from("<Q", ph, i * e_phentsize + 8)[0] for i in range(e_phnum))
        if 64 + phsize > lowest:
            raise SystemExit("%s: no room for the program headers after the ELF header" % src)
        old_end = max(e_phoff + phsize, e_shoff + e_shentsize * e_shnum if e_shoff else 0)
        if old_end > lowest:
            raise SystemExit("%s: headers overlap data; layout not handled" % src)
        struct.pack_into("<QQ", eh, 0x20, 64, 0)          # e_phoff, e_shoff
        struct.pack_into("<H", eh, 0x34, 64)              # e_ehsize
        struct.pack_into("<HHH", eh, 0x3a, 0, 0, 0)       # e_shentsize, e_shnum, e_shstrndx
        f.seek(0)
        f.write(bytes(eh) + ph + bytes(old_end - 64 - phsize) if old_end > 64 + phsize
                else bytes(eh) + ph)
    sys.stderr.write("fixup: %s: program headers moved from %#x to 0x40, %d section headers "
                     "dropped\n" % (dst, e_phoff, e_shnum))


def main(argv):
    if len(argv) == 5 and argv[1] == "kdump-phys-base":
        kdump_phys_base(argv[2], argv[3], argv[4])
    elif len(argv) == 4 and argv[1] == "elf-phdrs-first":
        elf_phdrs_first(argv[2], argv[3])
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
