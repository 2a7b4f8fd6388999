#!/usr/bin/env python3
"""codecs.py OUTDIR - hostile compressed saved states, one set per codec
(gzip, zstd, xz, bzip2, lzop) that vmcore-fix reads in-process.

Writes the files into OUTDIR and prints one line per case:
    CASE<TAB>FILE<TAB>ARGS        (ARGS: vmcore-fix arguments, {} the file)

Cases, for each codec C whose compressor is here (gzip, bz2 and lzma from
Python's library; the zstd and lzop programs):
  C-bomb      a file of a few MiB that decompresses to a 512 MiB migration
              stream: a device section without a footer over 512 MiB of
              zeros (concatenated members, streams, frames or lzop files,
              as the tools write them); the walk to EOF must search it in
              bounded memory and time and say the stream is cut short
  C-cut       the bomb cut in the middle of its compressed bytes: truncated
  C-corrupt   the bomb with its second unit damaged (lzop: its first
              block's adler32 of the uncompressed bytes changed, the
              checksum the header's flags say is there)
  C-restarts  a stream whose RAM pages come in descending address order,
              scanned in ascending order as --memory: every 512 KiB read
              behind the decoder starts decompression over; the 17th is
              refused, saying to decompress the file first

The stream records are our own reading of QEMU's format (tests/gen/qevm.py).
"""
import bz2
import gzip
import lzma
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "gen"))
import qevm  # noqa: E402

VFGEN = os.path.join(HERE, "..", "gen", "vfgen.py")
PS = 4096
BOMB = 512 << 20
UNIT = 16 << 20


def tool(argv, data):
    return subprocess.run(argv, input=data, stdout=subprocess.PIPE, check=True).stdout


def compressors():
    c = {
        "gzip": lambda d: gzip.compress(d, compresslevel=6, mtime=0),
        "bzip2": lambda d: bz2.compress(d, 9),
        "xz": lambda d: lzma.compress(d, format=lzma.FORMAT_XZ, preset=3),
    }
    if shutil.which("zstd"):
        c["zstd"] = lambda d: tool(["zstd", "-q", "-c", "-3"], d)
    if shutil.which("lzop"):
        c["lzop"] = lambda d: tool(["lzop", "-c"], d)
    return c


def stream_head():
    """QEVM, a machine type, a device with its footer (so the stream has
    footers), then a device section whose body runs to the end."""
    s = b"QEVM" + qevm.be(4, 3)
    m = "pc-q35-7.2"
    s += b"\x07" + qevm.be(4, len(m)) + m.encode()
    s += qevm.section(0x04, 3, "timer", 0, 2) + bytes(8) + qevm.footer(3)
    s += qevm.section(0x04, 4, "0000:00:04.0/bomb", 0, 1)
    return s


def bomb(comp, d, name):
    unit = comp(bytes(UNIT))
    head = comp(stream_head())
    f = os.path.join(d, name + "-bomb")
    with open(f, "wb") as o:
        o.write(head)
        for _ in range(BOMB // UNIT):
            o.write(unit)
    return f, len(head), len(unit)


def reversed_ram(comp, d, name, mib=32):
    """RAM pages in descending address order: data pages tagged with their
    address (mostly zeros: quick to decompress, every one a data record)."""
    n = mib << 20
    s = b"QEVM" + qevm.be(4, 3)
    m = "pc-q35-7.2"
    s += b"\x07" + qevm.be(4, len(m)) + m.encode()
    s += qevm.section(0x01, 2, "ram", 0, 4)
    s += qevm.be(8, n | 0x4) + qevm.str8("pc.ram") + qevm.be(8, n) + qevm.be(8, 0x10)
    s += qevm.footer(2)
    parts = [s, b"\x02" + qevm.be(4, 2)]
    first = True
    for a in range(n - PS, -1, -PS):
        pg = a.to_bytes(8, "little") + bytes(PS - 8)
        name_b = qevm.str8("pc.ram") if first else b""
        parts.append(qevm.be(8, a | 0x8 | (0 if first else 0x20)) + name_b + pg)
        first = False
    parts.append(qevm.be(8, 0x10) + qevm.footer(2))
    parts.append(b"\x03" + qevm.be(4, 2) + qevm.be(8, 0x10) + qevm.footer(2))
    parts.append(b"\x00")
    f = os.path.join(d, name + "-restarts")
    with open(f, "wb") as o:
        o.write(comp(b"".join(parts)))
    return f


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: codecs.py OUTDIR\n")
        return 2
    d = os.path.abspath(argv[1])
    os.makedirs(d, exist_ok=True)
    dump = os.path.join(d, "x86.dump")
    with open(dump + ".spec", "w") as o:
        o.write("format elf\nmachine x86_64\nprstatus 1\nvmcoreinfo-note no\nram 0 16M\n")
    subprocess.run([sys.executable, VFGEN, dump + ".spec", dump], check=True)
    mem = "--dry-run --region 0x13ae000,1024 --memory {} " + dump
    for name, comp in compressors().items():
        f, head, unit = bomb(comp, d, name)
        print("%s-bomb\t%s\t%s" % (name, f, mem))
        data = open(f, "rb").read()
        cut = os.path.join(d, name + "-cut")
        with open(cut, "wb") as o:
            o.write(data[:len(data) // 2])
        print("%s-cut\t%s\t%s" % (name, cut, mem))
        bad = bytearray(data)
        if name == "lzop":
            # the second file's first block: its header is 38 bytes (from
            # standard input, no name), then the lengths, then the adler32
            bad[head + unit + 38 + 8] ^= 0x5a
        else:
            bad[head + unit + unit // 2] ^= 0xa5
        corrupt = os.path.join(d, name + "-corrupt")
        with open(corrupt, "wb") as o:
            o.write(bad)
        print("%s-corrupt\t%s\t%s" % (name, corrupt, mem))
        r = reversed_ram(comp, d, name)
        print("%s-restarts\t%s\t%s" % (name, r, "--dry-run --memory {} " + dump))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
