#!/usr/bin/env python3
"""check-layers.py - the include graph of src/ must follow its layers.

src/ has one folder per layer, lowest first:

  util    error object, cursor, JSON, ELF note encoding, VMCOREINFO text,
          the guest-memory interface: pure, no I/O
  source  byte sources: a plain file, and layers over a source (flattened,
          compressed, libvirt save image)
  arch    what is known of each architecture, behind one ops table
  format  the dump object, the opener's probe table, ELF and kdump readers,
          page codecs, machine detection
  guest   guest memory sources and the guest kernel's data read through
          them: raw RAM, migration streams, page tables, kernel data, the
          guest's note, the scan, regions
  fix     evidence, diagnosis, the fix (library call), planners, writer,
          journal
  cli     command line, reports, exit codes

A file may include headers of its own folder and of lower folders, never of
a higher one; and no two modules may include each other's headers (a module
is a .c with its .h; a private header NAME_priv.h belongs to module NAME and
the files that share it).  Prints every violation as FILE:LINE: message and
exits 1 if there is one.  Two headers with one include guard are an error
too (the second would silently be empty).  Usage: check-layers.py [SRCDIR]  (default: src)
"""
import os
import re
import sys

LAYERS = ["util", "source", "arch", "format", "guest", "fix", "cli"]
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
GUARD = re.compile(r'^\s*#\s*ifndef\s+(\w+)')


def module(path):
    """A file's module: its name without the extension and a _priv suffix."""
    stem = os.path.splitext(path)[0]
    return stem[:-len("_priv")] if stem.endswith("_priv") else stem


def main():
    top = sys.argv[1] if len(sys.argv) > 1 else "src"
    bad = []
    edges = {}   # module -> {module: (file, line)}
    seen = 0
    guards = {}  # include guard -> header
    for dirpath, _dirs, files in os.walk(top):
        rel = os.path.relpath(dirpath, top)
        for name in sorted(files):
            if not name.endswith((".c", ".h")):
                continue
            path = os.path.join(dirpath, name)
            if rel == ".":
                bad.append(f"{path}:1: file outside a layer folder")
                continue
            layer = rel.split(os.sep)[0]
            if layer not in LAYERS:
                bad.append(f"{path}:1: folder '{layer}' is not a layer "
                           f"(known: {', '.join(LAYERS)})")
                continue
            seen += 1
            mod = module(os.path.join(rel, name))
            with open(path, encoding="utf-8") as f:
                lines = f.readlines()
            if name.endswith(".h"):
                g = next((m.group(1) for m in map(GUARD.match, lines) if m), None)
                if g and g in guards:
                    bad.append(f"{path}:1: include guard {g} is also {guards[g]}'s")
                elif g:
                    guards[g] = path
            for no, line in enumerate(lines, 1):
                m = INCLUDE.match(line)
                if not m or m.group(1) == "config.h":
                    continue
                inc = m.group(1)
                parts = inc.split("/")
                if len(parts) != 2 or parts[0] not in LAYERS:
                    bad.append(f"{path}:{no}: include \"{inc}\" does not name "
                               "a layer folder (write \"layer/file.h\")")
                    continue
                if not os.path.exists(os.path.join(top, inc)):
                    bad.append(f"{path}:{no}: include \"{inc}\": no such file")
                    continue
                if LAYERS.index(parts[0]) > LAYERS.index(layer):
                    bad.append(f"{path}:{no}: include \"{inc}\" points upward "
                               f"({layer} may not depend on {parts[0]})")
                target = module(inc)
                if target != mod:
                    edges.setdefault(mod, {}).setdefault(target, (path, no))
    for a, outs in sorted(edges.items()):
        for b, (path, no) in sorted(outs.items()):
            if a < b and a in edges.get(b, {}):
                bad.append(f"{path}:{no}: include cycle: {a} and {b} include "
                           "each other's headers")
    if seen == 0:
        bad.append(f"{top}: no sources found")
    for line in bad:
        print(line)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
