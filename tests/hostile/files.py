#!/usr/bin/env python3
"""files.py - hostile inputs for the "files left behind or replayed" and the
terminal-injection classes of issue 12.

Usage: files.py OUTDIR.  Writes the files into OUTDIR and prints one line per
case: CASE<TAB>FILE<TAB>ARGS (ARGS: vmcore-fix's arguments, {} for FILE).
Paths in ARGS other than {} are absolute (under OUTDIR).  Run each case on
the files where they were written: the journals record the identity
(device, inode) of the file beside them.

Cases:
  journal-other-inode   a journal written for another file (another inode)
                        beside a dump: --in-place refuses (3), writes nothing
  journal-other-bytes   a journal naming this file, but its old bytes are not
                        the file's and its new bytes neither: refused (3)
  journal-v2-mismatch   an old (VMCFJRN2) journal, no identity, whose old bytes
                        do not match: refused (3)
  journal-many-entries  300000 overlapping one-byte entries naming this file,
                        their hash wrong: read whole in bounded time and
                        memory, then refused as damaged (4)
  journal-huge-count    a header claiming 2^60 entries: truncated (4)
  journal-inspect       a journal beside a dump: --inspect lists
                        journal-pending (1)
  journal-check         the same for --check: refused naming it (3)
  stale-temp            a temporary file of a killed -o beside the target:
                        the next -o removes it (0)
  o-dir                 -o DIR on a 16 MiB dump: refused at once (2)
  o-missing-dir         -o into a directory that does not exist: at once (6)
  inject-machine        a kdump whose utsname.machine holds an escape
                        sequence, quoted by the fix's reason: --dry-run (0)
  inject-machine-json   the same, --dry-run --json: valid JSON (0)
  inject-note-name      an ELF note named with an escape sequence: --inspect
  inject-region-file    a region file with a newline and an escape
                        sequence: a one-line error (2)
"""
import os
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
VFGEN = os.path.join(HERE, "..", "gen", "vfgen.py")

KDUMP = """format kdump
machine x86_64
prstatus 1
ram 0 1M
"""

ESC = "\x1b]0;owned\x07\x1b[2J"


def gen(out, name, spec):
    path = os.path.join(out, name)
    with open(path + ".spec", "w", encoding="utf-8") as f:
        f.write(spec)
    subprocess.run([sys.executable, VFGEN, path + ".spec", path], check=True)
    os.unlink(path + ".spec")
    return path


def fnv1a(data, h=0xcbf29ce484222325):
    for b in data:
        h ^= b
        h = (h * 0x100000001b3) & 0xffffffffffffffff
    return h


def journal_path(path):
    d, b = os.path.split(path)
    return os.path.join(d, "." + b + ".vmcore-fix-journal")


def entries_blob(entries):
    """(at, old, new) entries as the journal stores them; their old bytes' hash."""
    blob = b"".join(struct.pack(">QI", at, len(old)) + old + new for at, old, new in entries)
    h = 0xcbf29ce484222325
    for _at, old, _new in entries:
        h = fnv1a(old, h)
    return blob, h


def journal_v3(path, entries, dev=None, ino=None, size=None, count=None, hash_=None):
    st = os.stat(path)
    blob, h = entries_blob(entries)
    head = b"VMCFJRN3" + struct.pack(
        ">QQQQQQQQ", len(entries) if count is None else count, 0, 0, 0,
        st.st_dev if dev is None else dev, st.st_ino if ino is None else ino,
        st.st_size if size is None else size, h if hash_ is None else hash_)
    with open(journal_path(path), "wb") as f:
        f.write(head + blob)


def journal_v2(path, entries):
    blob, _h = entries_blob(entries)
    with open(journal_path(path), "wb") as f:
        f.write(b"VMCFJRN2" + struct.pack(">QQQQ", len(entries), 0, 0, 0) + blob)


def main():
    out = os.path.abspath(sys.argv[1])
    os.makedirs(out, exist_ok=True)
    cases = []

    def case(name, path, args):
        cases.append((name, path, args))

    # utsname lives at 0xc: a patch there, with old bytes the file does not hold
    p = gen(out, "j-inode.kdump", KDUMP)
    other = os.stat(out)
    journal_v3(p, [(0xc, b"ZZZZZZZZ", b"YYYYYYYY")], dev=other.st_dev, ino=other.st_ino)
    case("journal-other-inode", p, "--in-place {}")

    p = gen(out, "j-bytes.kdump", KDUMP)
    journal_v3(p, [(0xc, b"ZZZZZZZZ", b"YYYYYYYY")])
    case("journal-other-bytes", p, "--in-place {}")

    p = gen(out, "j-v2.kdump", KDUMP)
    journal_v2(p, [(0xc, b"ZZZZZZZZ", b"YYYYYYYY")])
    case("journal-v2-mismatch", p, "--in-place {}")

    p = gen(out, "j-many.kdump", KDUMP)
    journal_v3(p, [(0xc, b"Z", b"Y")] * 300000, hash_=1)
    case("journal-many-entries", p, "--in-place {}")

    p = gen(out, "j-count.kdump", KDUMP)
    journal_v3(p, [(0xc, b"Z", b"Y")], count=1 << 60)
    case("journal-huge-count", p, "--in-place {}")

    p = gen(out, "j-pending.kdump", KDUMP)
    journal_v3(p, [(0xc, b"Z", b"Y")])
    case("journal-inspect", p, "--inspect {}")
    case("journal-check", p, "--check {}")

    sdir = os.path.join(out, "stale")
    os.makedirs(sdir, exist_ok=True)
    p = gen(out, "stale.kdump", KDUMP)
    with open(os.path.join(sdir, ".out.vmcore-fix.Zq3xPw"), "wb") as f:
        f.write(b"\0" * 4096)   # what a -o killed with -9 leaves
    case("stale-temp", p, "{} -o " + os.path.join(sdir, "out"))

    p = gen(out, "big.kdump", "format kdump\nmachine x86_64\nprstatus 1\ncompress none\n"
            "ram 0 16M\n")
    adir = os.path.join(out, "adir")
    os.makedirs(adir, exist_ok=True)
    case("o-dir", p, "{} -o " + adir)
    case("o-missing-dir", p, "{} -o " + os.path.join(out, "missing", "x"))

    # every utsname field filled but machine, no init_uts_ns to read (the
    # text names no symbols): the fix's reason quotes the header's machine
    p = gen(out, "inject.kdump", KDUMP + "vmcoreinfo-line OSRELEASE=6.1.0-56-amd64\n"
            "vmcoreinfo-line PAGESIZE=4096\nvmcoreinfo-line NUMBER(phys_base)=0\n"
            "utsname sysname Linux\n"
            "utsname nodename vf\nutsname release 6.1.0-56-amd64\nutsname version #1\n"
            "utsname domainname (none)\nutsname machine evil" + ESC + "\n")
    case("inject-machine", p, "--dry-run {}")
    case("inject-machine-json", p, "--dry-run --json {}")

    p = gen(out, "inject-note.elf", "format elf\nmachine x86_64\nprstatus 1\nram 0 1M\n"
            "note evil" + ESC + " 1 00000000\n")
    case("inject-note-name", p, "--inspect {}")

    rfile = os.path.join(out, "region.txt")
    with open(rfile, "wb") as f:
        f.write(b"0x1000\n" + ESC.encode() + b" 12\n")
    case("inject-region-file", gen(out, "region.kdump", KDUMP),
         "--dry-run {} --region-file " + rfile)

    for name, path, args in cases:
        print(f"{name}\t{path}\t{args}")


if __name__ == "__main__":
    main()
