#!/usr/bin/python3
"""seeds.py OUTDIR DUMP... - the seeds seeds.sh does not get from vfgen.

Written from the formats' facts (no code shared with src/): the PT_NOTE
segments of the ELF dumps given (for the notes parser) and VMCOREINFO texts;
region, fw_cfg and memory-layout texts; QEMU migration streams ("QEVM" v3,
with a vmcoreinfo device; saved states with vCPUs, from tests/gen/qevm.py)
and libvirt save images of them, raw and in each of libvirt's compressed
formats (gzip, bzip2, xz; zstd and lzop when their commands are there), and
the stream compressed whole in each codec.
"""

import bz2
import gzip
import lzma
import os
import shutil
import struct
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "gen"))
from qevm import be, footer, libvirt, section, str8  # noqa: E402  (shared with the tests)
import qevm  # noqa: E402


def put(out, target, name, data):
    with open(os.path.join(out, "fuzz_" + target, name), "wb") as f:
        f.write(data)


def elf_notes(path):
    """The PT_NOTE segments of an ELF core (either class and byte order)."""
    with open(path, "rb") as f:
        d = f.read()
    if d[:4] != b"\x7fELF":
        return []
    e = ">" if d[5] == 2 else "<"
    segs = []
    if d[4] == 2:
        phoff, = struct.unpack_from(e + "Q", d, 32)
        phentsize, phnum = struct.unpack_from(e + "HH", d, 54)
        for i in range(phnum):
            p = phoff + i * phentsize
            ptype, _, off, _, _, filesz = struct.unpack_from(e + "IIQQQQ", d, p)
            if ptype == 4:
                segs.append((e, d[off:off + filesz]))
    else:
        phoff, = struct.unpack_from(e + "I", d, 28)
        phentsize, phnum = struct.unpack_from(e + "HH", d, 42)
        for i in range(phnum):
            ptype, off, _, _, filesz = struct.unpack_from(e + "IIIII", d, phoff + i * phentsize)
            if ptype == 4:
                segs.append((e, d[off:off + filesz]))
    return segs


def note(e, name, ntype, desc):
    n = name.encode() + b"\0" if name else b""
    pad = lambda b: b + b"\0" * (-len(b) % 4)
    return struct.pack(e + "III", len(n), len(desc), ntype) + pad(n) + pad(desc)


VMCI = (b"OSRELEASE=6.1.0-56-amd64\nPAGESIZE=4096\nSYMBOL(init_uts_ns)=ffffffff92003580\n"
        b"SYMBOL(_stext)=ffffffff81000000\nOFFSET(uts_namespace.name)=4\nKERNELOFFSET=0\n"
        b"NUMBER(phys_base)=-301989888\nLENGTH(mem_section)=2048\nCRASHTIME=1700000000\n")


def notes_seeds(out, dumps):
    k = 0
    for path in dumps:
        for e, seg in elf_notes(path):
            put(out, "notes", "pt-note-%d" % k, seg)
            k += 1
    put(out, "notes", "vmcoreinfo-text", VMCI)
    put(out, "notes", "vmcoreinfo-bad-line", VMCI + b"NOEQUALS\nKEY=\x01\n")
    put(out, "notes", "notes-be", note(">", "VMCOREINFO", 0, VMCI) + note(">", "CORE", 1, bytes(336)))
    put(out, "notes", "notes-tiny", b"".join(note("<", "", 0, b"") for _ in range(64)))
    put(out, "notes", "notes-long-name", note("<", "N" * 100, 3, b"x" * 7) + bytes(16))


def region_seeds(out):
    size = struct.pack("<Q", 8 << 30)
    for i, t in enumerate([b"0x00000000013ae000 1024", b"13ae000 400\n", b"0x0 0x100000",
                           b"q35", b"pc", b"virt", b"0:0:2G,2G:4G:2G",
                           b"0:0:0xa0000,0xc0000:0xc0000:1M", b"0x1000:0:4K,0:0x100000:512M"]):
        put(out, "region", "text-%d" % i, size + t)
    fw = struct.pack("<HHIQ", 1, 1, 0x1024, 0x13ae000)
    put(out, "region", "fwcfg", fw)
    put(out, "region", "fwcfg-be", struct.pack(">HHIQ", 1, 1, 0x1024, 0x13ae000))


# ------------------------------------------------------------ migration streams
def stream(page=4096, footers=True, device=True, json=True, pages=4):
    s = b"QEVM" + be(4, 3)
    s += b"\x07" + be(4, 10) + b"pc-q35-7.2"          # configuration: the machine type
    s += b"\x05" + str8("configuration/target-page-bits") + be(4, 1) + be(4, page.bit_length() - 1)
    ram = pages * page
    s += section(0x01, 2, "ram", 0, 4)                  # RAM setup: the block list
    s += be(8, (ram + 0x20000) | 0x4) + str8("pc.ram") + be(8, ram)
    s += str8("/rom@etc/acpi/tables") + be(8, 0x20000) + be(8, 0x10)
    s += footer(2) if footers else b""
    s += b"\x02" + be(4, 2)                             # RAM pages
    for i in range(pages):
        flags = 0x8 | (0x20 if i else 0)                # a page; CONTINUE after the first
        if i % 2:
            s += be(8, i * page | 0x2 | 0x20) + b"\0"   # a zero page
            continue
        s += be(8, i * page | flags) + (b"" if i else str8("pc.ram"))
        s += bytes((j * 7 + i) & 0xff for j in range(page))
    s += be(8, 0x10) + (footer(2) if footers else b"")
    s += section(0x04, 0, "timer", 0, 2) + bytes(17) + (footer(0) if footers else b"")
    if device:
        s += section(0x04, 7, "vmcoreinfo", 0, 1)
        s += b"\x01" + be(2, 0) + be(2, 1) + be(4, 0x1024) + be(8, 0x13ae000)
        s += footer(7) if footers else b""
    s += b"\x00"                                         # EOF
    if json:
        j = ('{"page_size": %d, "devices": [{"name": "timer", "instance_id": 0}, '
             '{"name": "vmcoreinfo", "instance_id": 0, "vmsd_name": "vmcoreinfo", '
             '"version": 1}]}' % page).encode()
        s += b"\x06" + be(4, len(j)) + j
    return s


def tool(argv, data):
    if not shutil.which(argv[0]):
        return None
    return subprocess.run(argv, input=data, stdout=subprocess.PIPE, check=True).stdout


def mig_seeds(out):
    plain = stream()
    put(out, "migstream", "stream", plain)
    put(out, "migstream", "stream-no-footers", stream(footers=False))
    put(out, "migstream", "stream-no-device", stream(device=False, json=False))
    put(out, "migstream", "stream-64k-pages", stream(page=65536, pages=2))
    put(out, "migstream", "stream-cut", plain[:len(plain) // 2])
    put(out, "migstream", "libvirt-raw", libvirt(plain, 0))
    put(out, "migstream", "libvirt-raw-be", libvirt(plain, 0, ">"))
    # libvirt's formats: 1 gzip, 2 bzip2, 3 xz, 4 lzop, 5 zstd
    packed = {
        "gzip": (1, gzip.compress(plain, mtime=0)),
        "bzip2": (2, bz2.compress(plain, 9)),
        "xz": (3, lzma.compress(plain, format=lzma.FORMAT_XZ, preset=3)),
        "lzop": (4, tool(["lzop", "-c"], plain)),
        "zstd": (5, tool(["zstd", "-q", "-c"], plain)),
    }
    for name, (fmt, z) in packed.items():
        if z:
            put(out, "migstream", "libvirt-" + name, libvirt(z, fmt))
            put(out, "migstream", "bare-" + name, z)
    # a header whose format its stream's bytes deny
    put(out, "migstream", "libvirt-xz-says-gzip", libvirt(packed["gzip"][1], 3))
    # a saved state to convert: RAM, two vCPUs with their description, the device
    ram = bytearray(64 << 10)
    ram[0x3000:0x3010] = b"VMCOREINFO seed!"
    saved, _ = qevm.build(ram, 2, device=(0x3000, 0x400))
    put(out, "migstream", "saved-2cpu", saved)
    put(out, "migstream", "saved-nodesc", qevm.build(ram, 1, desc=False)[0])
    # an arm virt one: arm "cpu" sections (register list, subsections), with and
    # without the description
    arm = {"cpregs": 8, "desc_cpregs": None, "aarch32": False, "big_endian": False,
           "fpcr_sub": False}
    put(out, "migstream", "saved-arm", qevm.build(ram, 2, device=(0x40003000, 0x400), cpu_version=22,
        machine="virt-7.2", block="mach-virt.ram", arm=arm)[0])
    put(out, "migstream", "saved-arm-nodesc", qevm.build(ram, 1, desc=False, cpu_version=22,
        machine="virt-7.2", block="mach-virt.ram", arm=arm)[0])


def main(argv):
    out = argv[1]
    notes_seeds(out, argv[2:])
    region_seeds(out)
    mig_seeds(out)


if __name__ == "__main__":
    main(sys.argv)
