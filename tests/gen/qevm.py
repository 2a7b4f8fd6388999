#!/usr/bin/env python3
"""qevm.py - QEMU migration streams ("QEVM", version 3) for the tests.

As a module: the record builders (be, str8, section, footer, libvirt) that
tests/fuzz/seeds.py uses too.  As a command:

  qevm.py from-elf DUMP OUT [--device PADDR SIZE] [--cpus N] [--no-description]
          [--cpu-version V] [--real-mode] [--libvirt raw|gzip] [--expect FILE]
          [--desc-field NAME SIZE] [--machine TYPE] [--block NAME] [--cut BYTES]
          [--dup-cpu] [--lma-mismatch]

writes OUT, the stream a paused x86_64 q35 VM would send whose guest RAM
("pc.ram") holds the guest-physical bytes of the ELF dump DUMP (pages no
PT_LOAD holds are zero pages), with N vCPUs ("cpu" sections, version 12, the
registers a function of the vCPU's index), the vmcoreinfo device's state when
--device is given, and the JSON VM description.  --expect FILE writes the
notes QEMU's dump-guest-memory would write for those vCPUs (NT_PRSTATUS and
the QEMU CPU state, as target/i386/arch_dump.c fills them), one line each:
NAME TYPE HEX.

  qevm.py notes DUMP

prints the CORE and QEMU notes of an ELF dump in that same form.
"""
import gzip
import struct
import sys

PAGE = 4096
# ---------------------------------------------------------------- builders


def be(n, v):
    return v.to_bytes(n, "big")


def str8(s):
    return be(1, len(s)) + s.encode()


def section(stype, sid, idstr, inst, ver):
    return be(1, stype) + be(4, sid) + str8(idstr) + be(4, inst) + be(4, ver)


def footer(sid):
    return b"\x7e" + be(4, sid)


def libvirt(payload, fmt, order="<", xml=b"<domain type='kvm'><name>fuzz</name></domain>"):
    area = max(1024, len(xml) + 1)
    h = b"LibvirtQemudSave" + struct.pack(order + "19I", 2, area, 1, fmt, *([0] * 15))
    return h + xml + bytes(area - len(xml)) + payload


# ---------------------------------------------------------------- the x86_64 vCPU
# The "cpu" section's fields up to kernelgsbase (target/i386/machine.c,
# version 12), as (name, element size, count): the description lists them so.
CPU_FIELDS = [
    ("env.regs", 8, 16), ("env.eip", 8, 1), ("env.eflags", 8, 1), ("env.hflags", 4, 1),
    ("env.fpuc", 2, 1), ("env.fpus_vmstate", 2, 1), ("env.fptag_vmstate", 2, 1),
    ("env.fpregs_format_vmstate", 2, 1), ("env.fpregs", 10, 8), ("env.segs", 20, 6),
    ("env.ldt", 20, 1), ("env.tr", 20, 1), ("env.gdt", 20, 1), ("env.idt", 20, 1),
    ("env.sysenter_cs", 4, 1), ("env.sysenter_esp", 8, 1), ("env.sysenter_eip", 8, 1),
    ("env.cr[0]", 8, 1), ("env.cr[2]", 8, 1), ("env.cr[3]", 8, 1), ("env.cr[4]", 8, 1),
    ("env.dr", 8, 8), ("env.a20_mask", 4, 1), ("env.mxcsr", 4, 1),
    ("env.xmm_regs[0]", 16, 16), ("env.efer", 8, 1), ("env.star", 8, 1),
    ("env.lstar", 8, 1), ("env.cstar", 8, 1), ("env.fmask", 8, 1),
    ("env.kernelgsbase", 8, 1), ("env.smbase", 4, 1), ("env.pat", 8, 1),
]


def cpu_regs(i, real_mode=False, lma_mismatch=False):
    """A vCPU's registers, a function of its index."""
    base = 0x1000 * (i + 1)
    c = {
        "regs": [0xffff888000000000 + base + 8 * r for r in range(16)],
        "rip": 0xffffffff81000000 + base, "rflags": 0x246,
        "hflags": 0 if real_mode else (1 << 14) | (1 << 15),
        # ES CS SS DS FS GS: selector, base, limit, flags
        "segs": [(0x18 + 8 * s, 0x7f0000000000 + base * 16 + s if s >= 4 else 0,
                  0xffffffff, 0xc09300 + s) for s in range(6)],
        "ldt": (0, 0, 0xffff, 0x8200), "tr": (0x40, 0xfffffe0000003000 + base, 0x4087, 0x8b00),
        "gdt": (0, 0xfffffe0000001000 + base, 0x7f, 0), "idt": (0, 0xfffffe0000000000, 0xfff, 0),
        "cr": [0x80050033, 0, 0x7f0000001000 + base, 0x0000000012345000 + base, 0x3506f0],
        "efer": 0 if real_mode else 0xd01,
        "kgsbase": 0xffff88801f000000 + base,
    }
    if real_mode:
        c["cr"][0] = 0x10
    if lma_mismatch:   # hflags says long mode, EFER does not (a hostile stream)
        c["efer"] = 0x101
    return c


def cpu_body(c):
    """The fields' bytes in the description's order, then a tail."""
    out = b""
    seg = lambda s: be(4, s[0]) + be(8, s[1]) + be(4, s[2]) + be(4, s[3])
    for name, size, count in CPU_FIELDS:
        if name == "env.regs":
            out += b"".join(be(8, r) for r in c["regs"])
        elif name == "env.eip":
            out += be(8, c["rip"])
        elif name == "env.eflags":
            out += be(8, c["rflags"])
        elif name == "env.hflags":
            out += be(4, c["hflags"])
        elif name == "env.segs":
            out += b"".join(seg(s) for s in c["segs"])
        elif name in ("env.ldt", "env.tr", "env.gdt", "env.idt"):
            out += seg(c[name[4:]])
        elif name.startswith("env.cr["):
            out += be(8, c["cr"][int(name[7])])
        elif name == "env.efer":
            out += be(8, c["efer"])
        elif name == "env.kernelgsbase":
            out += be(8, c["kgsbase"])
        else:
            out += bytes([0x5a]) * (size * count)   # fields the notes do not carry
    return out + bytes(64)


def expected_notes(i, c):
    """What QEMU's dump writes for this vCPU: (prstatus desc, QEMU desc)."""
    r = c["regs"]
    sel = [s[0] & 0xffff for s in c["segs"]]
    # r15 r14 r13 r12 rbp rbx r11 r10 r9 r8 rax rcx rdx rsi rdi orig_rax rip cs
    # eflags rsp ss fs_base gs_base ds es fs gs
    regs = [r[15], r[14], r[13], r[12], r[5], r[3], r[11], r[10], r[9], r[8], r[0], r[1],
            r[2], r[6], r[7], 0, c["rip"], sel[1], c["rflags"], r[4], sel[2],
            c["segs"][4][1], c["segs"][5][1], sel[3], sel[0], sel[4], sel[5]]
    pr = bytearray(336)
    struct.pack_into("<I", pr, 32, i + 1)
    struct.pack_into("<27Q", pr, 112, *regs)
    q = struct.pack("<II", 1, 440)
    q += struct.pack("<18Q", r[0], r[3], r[1], r[2], r[6], r[7], r[4], r[5], *r[8:16],
                     c["rip"], c["rflags"])
    qs = lambda s: struct.pack("<IIIIQ", s[0], s[2], s[3], 0, s[1])
    for k in (1, 3, 0, 4, 5, 2):   # cs ds es fs gs ss
        q += qs(c["segs"][k])
    for k in ("ldt", "tr", "gdt", "idt"):
        q += qs(c[k])
    q += struct.pack("<5Q", *c["cr"]) + struct.pack("<Q", c["kgsbase"])
    return bytes(pr), q


# ---------------------------------------------------------------- ELF input
def elf_loads(path):
    with open(path, "rb") as f:
        h = f.read(64)
        phoff, = struct.unpack_from("<Q", h, 32)
        phnum, = struct.unpack_from("<H", h, 56)
        f.seek(phoff)
        raw = f.read(56 * phnum)
    out = []
    for k in range(phnum):
        t, fl, off, va, pa, fs, ms, al = struct.unpack_from("<IIQQQQQQ", raw, 56 * k)
        if t == 1:
            out.append((pa, off, fs, va, t))
        elif t == 4:
            out.append((pa, off, fs, va, t))
    return out


def elf_notes(path):
    loads = elf_loads(path)
    out = []
    with open(path, "rb") as f:
        for pa, off, fs, va, t in loads:
            if t != 4:
                continue
            f.seek(off)
            b = f.read(fs)
            p = 0
            while p + 12 <= len(b):
                n, s, ty = struct.unpack_from("<III", b, p)
                name = b[p + 12:p + 12 + n].rstrip(b"\0").decode("latin-1")
                d = p + 12 + ((n + 3) & ~3)
                out.append((name, ty, b[d:d + s]))
                p = d + ((s + 3) & ~3)
    return out


def ram_of(path):
    """The dump's RAM below 4 GiB as a bytearray from address 0."""
    loads = [l for l in elf_loads(path) if l[4] == 1 and l[3] == l[0]]
    end = max(pa + fs for pa, off, fs, va, t in loads)
    end = (end + (1 << 20) - 1) & ~((1 << 20) - 1)
    ram = bytearray(end)
    with open(path, "rb") as f:
        for pa, off, fs, va, t in loads:
            f.seek(off)
            ram[pa:pa + fs] = f.read(fs).ljust(fs, b"\0")
    return ram


# ---------------------------------------------------------------- the stream
def description(ncpus, device, sizes=None):
    sizes = sizes or {}
    fields = ", ".join('{"name": "%s", %s"type": "%s", "size": %d}' % (
        n, '"array_len": %d, ' % k if k > 1 else "", "uint64" if s == 8 else "struct",
        sizes.get(n, s)) for n, s, k in CPU_FIELDS)
    devs = ['{"name": "timer", "instance_id": 0, "vmsd_name": "timer", "version": 2, '
            '"fields": [{"name": "cpu_ticks_offset", "type": "int64", "size": 8}]}']
    for i in range(ncpus):
        devs.append('{"name": "cpu", "instance_id": %d, "vmsd_name": "cpu", "version": 12, '
                    '"fields": [%s], "subsections": [{"vmsd_name": "cpu/pat", "version": 1, '
                    '"fields": [{"name": "env.pat", "type": "uint64", "size": 8}]}]}'
                    % (i, fields))
    if device:
        devs.append('{"name": "vmcoreinfo", "instance_id": 0, "vmsd_name": "vmcoreinfo", '
                    '"version": 1, "fields": []}')
    return ('{"page_size": 4096, "devices": [%s]}' % ", ".join(devs)).encode()


def build(ram, ncpus, device=None, desc=True, cpu_version=12, real_mode=False, sizes=None,
          machine="pc-q35-7.2", block="pc.ram", dup_cpu=False, lma_mismatch=False):
    s = b"QEVM" + be(4, 3)
    s += b"\x07" + be(4, len(machine)) + machine.encode()
    s += b"\x05" + str8("configuration/target-page-bits") + be(4, 1) + be(4, 12)
    n = len(ram)
    sid = 2
    s += section(0x01, sid, "ram", 0, 4)
    s += be(8, (n + 0x20000) | 0x4) + str8(block) + be(8, n)
    s += str8("/rom@etc/acpi/tables") + be(8, 0x20000) + be(8, 0x10) + footer(sid)
    parts = [s, b"\x02" + be(4, sid)]
    zero = bytes(PAGE)
    for a in range(0, n, PAGE):
        pg = bytes(ram[a:a + PAGE])
        cont = 0x20 if a else 0
        name = b"" if a else str8(block)
        if pg == zero:
            parts.append(be(8, a | 0x2 | cont) + name + b"\0")
        else:
            parts.append(be(8, a | 0x8 | cont) + name + pg)
    parts.append(be(8, 0x10) + footer(sid))
    parts.append(b"\x03" + be(4, sid) + be(8, 0x10) + footer(sid))
    sid = 3
    parts.append(section(0x04, sid, "timer", 0, 2) + bytes(8) + footer(sid))
    expect = []
    for i in range(ncpus):
        c = cpu_regs(i, real_mode, lma_mismatch)
        sid += 1
        parts.append(section(0x04, sid, "cpu_common", i, 1) + be(4, 0) + be(4, 0) + footer(sid))
        sid += 1
        parts.append(section(0x04, sid, "cpu", i, cpu_version) + cpu_body(c) + footer(sid))
        expect.append(expected_notes(i, c))
        if dup_cpu:   # the same vCPU's section again (a hostile stream)
            sid += 1
            parts.append(section(0x04, sid, "cpu", i, cpu_version) + cpu_body(c) + footer(sid))
    if device:
        sid += 1
        parts.append(section(0x04, sid, "vmcoreinfo", 0, 1))
        parts.append(b"\x01" + be(2, 0) + be(2, 1) + be(4, device[1]) + be(8, device[0]) + footer(sid))
    parts.append(b"\x00")
    if desc:
        j = description(ncpus, device, sizes)
        parts.append(b"\x06" + be(4, len(j)) + j)
    s = b"".join(parts)
    return s, expect


def main(argv):
    if len(argv) >= 3 and argv[1] == "notes":
        for name, ty, d in elf_notes(argv[2]):
            if name in ("CORE", "QEMU"):
                print(name, ty, d.hex())
        return 0
    if len(argv) < 4 or argv[1] != "from-elf":
        sys.stderr.write(__doc__)
        return 2
    src, out = argv[2], argv[3]
    opts = argv[4:]
    device, ncpus, desc, ver, real, lv, expect = None, 2, True, 12, False, None, None
    sizes, machine, block, cut, dup, lmam = {}, "pc-q35-7.2", "pc.ram", None, False, False
    k = 0
    while k < len(opts):
        o = opts[k]
        if o == "--device":
            device = (int(opts[k + 1], 0), int(opts[k + 2], 0))
            k += 2
        elif o == "--cpus":
            ncpus = int(opts[k + 1])
            k += 1
        elif o == "--no-description":
            desc = False
        elif o == "--cpu-version":
            ver = int(opts[k + 1])
            k += 1
        elif o == "--real-mode":
            real = True
        elif o == "--libvirt":
            lv = opts[k + 1]
            k += 1
        elif o == "--desc-field":
            sizes[opts[k + 1]] = int(opts[k + 2])
            k += 2
        elif o == "--machine":
            machine = opts[k + 1]
            k += 1
        elif o == "--block":
            block = opts[k + 1]
            k += 1
        elif o == "--lma-mismatch":
            lmam = True
        elif o == "--dup-cpu":
            dup = True
        elif o == "--cut":
            cut = int(opts[k + 1])
            k += 1
        elif o == "--expect":
            expect = opts[k + 1]
            k += 1
        else:
            sys.exit("qevm.py: unknown option " + o)
        k += 1
    s, exp = build(ram_of(src), ncpus, device, desc, ver, real, sizes, machine, block, dup, lmam)
    if cut is not None:
        s = s[:cut]
    xml = (b"<domain type='qemu'>\n  <name>vf-test</name>\n"
           b"  <uuid>6d3f0b1e-3c2a-4f4e-9b7d-1a2b3c4d5e6f</uuid>\n</domain>\n")
    if lv == "gzip":
        s = libvirt(gzip.compress(s, 1, mtime=0), 1, xml=xml)
    elif lv == "raw":
        s = libvirt(s, 0, xml=xml)
    with open(out, "wb") as f:
        f.write(s)
    if expect:
        with open(expect, "w") as f:
            for pr, q in exp:
                f.write("CORE 1 %s\n" % pr.hex())
            for pr, q in exp:
                f.write("QEMU 0 %s\n" % q.hex())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
