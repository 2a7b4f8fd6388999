#!/usr/bin/python3
"""example.py OUTDIR - a small hostile-input generator, the example of the
interface bench/hostile.sh runs (and the other generators of tests/hostile
follow): write the hostile files into OUTDIR and print one line per case,

    CASE<TAB>FILE<TAB>ARGS

ARGS being vmcore-fix's arguments, split as a POSIX shell splits them, with
{} standing for FILE.  Cases:

  flat-tiny-records  a flattened ELF dump of 4 MiB of guest RAM in 64-byte
                     records (65536 records, tests/gen/vfgen.py): the index and
                     every read must stay linear in the records
  garbage            1 MiB of pseudo-random bytes: not a dump (exit 4)
  flat-garbage       the flattened stream's header, then 1 MiB of
                     pseudo-random record headers and data (exit 4)
"""

import os
import random
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
VFGEN = os.path.join(HERE, "..", "gen", "vfgen.py")


def garbage(path, n, seed, head=b""):
    rnd = random.Random(seed)
    with open(path, "wb") as f:
        f.write(head)
        f.write(bytes(rnd.getrandbits(8) for _ in range(n)))


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: example.py OUTDIR\n")
        return 2
    out = argv[1]
    os.makedirs(out, exist_ok=True)
    cases = []

    spec = os.path.join(out, "flat-tiny-records.spec")
    with open(spec, "w") as f:
        f.write("format elf\nflattened yes\nflat-record-size 64\nram 0 4M\n")
    dump = os.path.join(out, "flat-tiny-records.dump")
    subprocess.run([VFGEN, spec, dump], check=True)
    cases.append(("flat-tiny-records", dump, "--inspect {}"))

    g = os.path.join(out, "garbage.bin")
    garbage(g, 1 << 20, 12)
    cases.append(("garbage", g, "--inspect {}"))

    head = b"makedumpfile".ljust(16, b"\0") + (1).to_bytes(8, "big") + (1).to_bytes(8, "big")
    fg = os.path.join(out, "flat-garbage.bin")
    garbage(fg, 1 << 20, 13, head.ljust(4096, b"\0"))
    cases.append(("flat-garbage", fg, "--inspect {}"))

    for c in cases:
        print("\t".join(c))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
