#!/usr/bin/env python3
"""qevm.py - QEMU migration streams ("QEVM", version 3) for the tests.

As a module: the record builders (be, str8, section, footer, libvirt) that
tests/fuzz/seeds.py uses too.  As a command:

  qevm.py from-elf DUMP OUT [--device PADDR SIZE] [--cpus N] [--no-description]
          [--cpu-version V] [--real-mode] [--libvirt raw|gzip] [--expect FILE]
          [--desc-field NAME SIZE] [--machine TYPE] [--block NAME] [--cut BYTES]
          [--dup-cpu] [--lma-mismatch] [--arch x86_64|aarch64] [--cpregs N]
          [--desc-cpregs N] [--aarch32] [--big-endian] [--fpcr-subsection]

writes OUT, the stream a paused x86_64 q35 VM would send whose guest RAM
("pc.ram") holds the guest-physical bytes of the ELF dump DUMP (pages no
PT_LOAD holds are zero pages), with N vCPUs ("cpu" sections, version 12, the
registers a function of the vCPU's index), the vmcoreinfo device's state when
--device is given, and the JSON VM description.  --expect FILE writes the
notes QEMU's dump-guest-memory would write for those vCPUs (NT_PRSTATUS and
the QEMU CPU state, as target/i386/arch_dump.c fills them), one line each:
NAME TYPE HEX.

With --arch aarch64 the stream is a paused arm virt VM's (machine virt-7.2,
RAM block "mach-virt.ram" holding the dump's bytes from 0x40000000): arm
"cpu" sections of version 22 as QEMU 7.2 writes them (the registers, a system
register list of --cpregs entries with SCTLR_EL1 among them, the "cpu/vfp",
"cpu/sve" and "cpu/irq-line-state" subsections), and --expect writes the
NT_PRSTATUS and NT_PRFPREG notes target/arm/arch_dump.c fills for them.
Options of that mode only: --cpregs N, --desc-cpregs N (the description
lists another length than the sections hold), --aarch32 (PSTATE.nRW),
--big-endian (SCTLR_EL1.EE), --fpcr-subsection (a "cpu/vfp/fpcr_fpsr"
subsection inside "cpu/vfp").

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


# ---------------------------------------------------------------- the aarch64 vCPU
# The arm "cpu" section's fields (target/arm/machine.c, version 22, as QEMU
# 7.2's own description of a virt -cpu max vCPU lists them), as (name,
# element size, count); count None: the system register list's length.
ARM_FIELDS = [
    ("env.regs", 4, 16), ("env.xregs", 8, 32), ("env.pc", 8, 1), ("cpsr", 4, 1),
    ("env.spsr", 4, 1), ("env.banked_spsr", 8, 8), ("env.banked_r13", 4, 8),
    ("env.banked_r14", 4, 8), ("env.usr_regs", 4, 5), ("env.fiq_regs", 4, 5),
    ("env.elr_el", 8, 4), ("env.sp_el", 8, 4), ("cpreg_vmstate_array_len", 4, 1),
    ("cpreg_vmstate_indexes", 8, None), ("cpreg_vmstate_values", 8, None),
    ("env.exclusive_addr", 8, 1), ("env.exclusive_val", 8, 1), ("env.exclusive_high", 8, 1),
    ("unused", 8, 1), ("env.exception.syndrome", 4, 1), ("env.exception.fsr", 4, 1),
    ("env.exception.vaddress", 8, 1), ("gt_timer[0]", 8, 1), ("gt_timer[1]", 8, 1),
    ("power_state", 1, 1),
]
ARM_VFP = [("env.vfp.zregs[%d].d" % r, 8, 2) for r in range(32)] + [
    ("env.vfp.xregs[0]", 4, 1), ("env.vfp.xregs", 4, 14), ("fpscr", 4, 1)]
# the system register list's key for SCTLR_EL1: KVM's encoding of op0 3,
# op1 0, CRn 1, CRm 0, op2 0 (0x6030 << 48 | 0x13 << 16 | fields)
SCTLR_EL1 = 0x6030000000000000 | (0x13 << 16) | (3 << 14) | (0 << 11) | (1 << 7)


def arm_regs(i, cpregs, aarch32=False, big_endian=False):
    """An aarch64 vCPU's registers, a function of its index."""
    base = 0x10000 * (i + 1)
    # the others below SCTLR_EL1's key, so that none is it
    keys = [0x6030000000100000 + 8 * k for k in range(cpregs - 1)] + [SCTLR_EL1]
    sctlr = 0x30d5198d | ((1 << 25) if big_endian else 0)
    return {
        "x": [0xffff000010000000 + base + 8 * r for r in range(31)],
        "sp": 0xffff800008003f00 + base,             # xregs[31]: the live SP
        "sp_el": [0xffff80000a000000 + base, 0xffff80000b000000 + base, 0, 0],  # stale
        "pc": 0xffff800008010000 + 4 * (i + 1),
        "pstate": (0x600003c5 | 0x10) if aarch32 else 0x600003c5,
        "v": [(0x0123456789abcdef ^ (r << 8) ^ (i << 40), 0xfedcba9876543210 ^ r ^ (i << 48))
              for r in range(32)],
        "fpscr": 0xabcd9fff ^ i,                        # bits of both and of neither
        "cpregs": [(k, sctlr if k == SCTLR_EL1 else k ^ base) for k in keys],
    }


def arm_body(c, fpcr_sub=False):
    out = b""
    n = len(c["cpregs"])
    for name, size, count in ARM_FIELDS:
        if name == "env.xregs":
            out += b"".join(be(8, r) for r in c["x"] + [c["sp"]])
        elif name == "env.pc":
            out += be(8, c["pc"])
        elif name == "cpsr":
            out += be(4, c["pstate"])
        elif name == "env.sp_el":
            out += b"".join(be(8, r) for r in c["sp_el"])
        elif name == "cpreg_vmstate_array_len":
            out += be(4, n)
        elif name == "cpreg_vmstate_indexes":
            out += b"".join(be(8, k) for k, v in c["cpregs"])
        elif name == "cpreg_vmstate_values":
            out += b"".join(be(8, v) for k, v in c["cpregs"])
        else:
            out += bytes([0x5a]) * (size * count)
    out += b"\x05" + str8("cpu/vfp") + be(4, 3)
    out += b"".join(be(8, lo) + be(8, hi) for lo, hi in c["v"])
    out += bytes([0x33]) * (4 + 4 * 14) + be(4, c["fpscr"])
    if fpcr_sub:
        out += b"\x05" + str8("cpu/vfp/fpcr_fpsr") + be(4, 1) + be(8, 0) + be(8, 0)
    out += b"\x05" + str8("cpu/sve") + be(4, 1) + bytes([0x44]) * (32 * 112 + 17 * 32)
    out += b"\x05" + str8("cpu/irq-line-state") + be(4, 1) + be(4, 0)
    return out


def arm_expected_notes(i, c):
    """What QEMU's dump writes for this vCPU: (NT_PRSTATUS desc, NT_PRFPREG desc)."""
    pr = bytearray(392)
    struct.pack_into("<I", pr, 32, i + 1)                     # pr_pid
    struct.pack_into("<34Q", pr, 112, *(c["x"] + [c["sp"], c["pc"], c["pstate"]]))
    struct.pack_into("<I", pr, 112 + 272, 1)                  # pr_fpvalid
    fp = b"".join(struct.pack("<QQ", lo, hi) for lo, hi in c["v"])
    fp += struct.pack("<II", c["fpscr"] & 0xf800009f, c["fpscr"] & 0x07ff9f00) + bytes(8)
    return bytes(pr), fp


def arm_description(ncpus, device, cpregs, sizes, fpcr_sub):
    def fl(lst):
        return ", ".join('{"name": "%s", %s"type": "uint%d", "size": %d}' % (
            n, '"array_len": %d, ' % (cpregs if k is None else k) if (k is None or k > 1) else "",
            8 * s, sizes.get(n, s)) for n, s, k in lst)
    nested = (', "subsections": [{"vmsd_name": "cpu/vfp/fpcr_fpsr", "version": 1, "fields": '
              '[{"name": "fpcr", "type": "uint64", "size": 8}, {"name": "fpsr", "type": '
              '"uint64", "size": 8}]}]' if fpcr_sub else "")
    subs = ('[{"vmsd_name": "cpu/vfp", "version": 3, "fields": [%s]%s}, '
            '{"vmsd_name": "cpu/sve", "version": 1, "fields": [{"name": "env.vfp.zregs", '
            '"array_len": 32, "type": "struct", "struct": {"vmsd_name": "cpu/sve/zreg_hi", '
            '"version": 1, "fields": [{"name": "d", "array_len": 14, "type": "uint64", '
            '"size": 8}]}, "size": 112}, {"name": "env.vfp.pregs", "array_len": 17, "type": '
            '"struct", "struct": {"vmsd_name": "cpu/sve/preg", "version": 1, "fields": '
            '[{"name": "p", "array_len": 4, "type": "uint64", "size": 8}]}, "size": 32}]}, '
            '{"vmsd_name": "cpu/irq-line-state", "version": 1, "fields": [{"name": '
            '"env.irq_line_state", "type": "uint32", "size": 4}]}]' % (fl(ARM_VFP), nested))
    devs = ['{"name": "timer", "instance_id": 0, "vmsd_name": "timer", "version": 2, '
            '"fields": [{"name": "cpu_ticks_offset", "type": "int64", "size": 8}]}']
    for i in range(ncpus):
        devs.append('{"name": "cpu", "instance_id": %d, "vmsd_name": "cpu", "version": 22, '
                    '"fields": [%s], "subsections": %s}' % (i, fl(ARM_FIELDS), subs))
    if device:
        devs.append('{"name": "vmcoreinfo", "instance_id": 0, "vmsd_name": "vmcoreinfo", '
                    '"version": 1, "fields": []}')
    return ('{"page_size": 4096, "devices": [%s]}' % ", ".join(devs)).encode()


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


def ram_of(path, base=0):
    """The dump's RAM below 4 GiB as a bytearray from address base."""
    loads = [l for l in elf_loads(path) if l[4] == 1 and l[3] == l[0] and l[0] >= base]
    end = max(pa + fs for pa, off, fs, va, t in loads) - base
    end = (end + (1 << 20) - 1) & ~((1 << 20) - 1)
    ram = bytearray(end)
    with open(path, "rb") as f:
        for pa, off, fs, va, t in loads:
            f.seek(off)
            ram[pa - base:pa - base + fs] = f.read(fs).ljust(fs, b"\0")
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
          machine="pc-q35-7.2", block="pc.ram", dup_cpu=False, lma_mismatch=False, arm=None):
    """arm: None (x86_64), or the aarch64 options (a dict: cpregs, desc_cpregs, aarch32,
    big_endian, fpcr_sub)."""
    sizes = sizes or {}
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
        if arm:
            c = arm_regs(i, arm["cpregs"], arm["aarch32"], arm["big_endian"])
            body = arm_body(c, arm["fpcr_sub"])
            expect.append(arm_expected_notes(i, c))
        else:
            c = cpu_regs(i, real_mode, lma_mismatch)
            body = cpu_body(c)
            expect.append(expected_notes(i, c))
        sid += 1
        parts.append(section(0x04, sid, "cpu_common", i, 1) + be(4, 0) + be(4, 0) + footer(sid))
        sid += 1
        parts.append(section(0x04, sid, "cpu", i, cpu_version) + body + footer(sid))
        if dup_cpu:   # the same vCPU's section again (a hostile stream)
            sid += 1
            parts.append(section(0x04, sid, "cpu", i, cpu_version) + body + footer(sid))
    if device:
        sid += 1
        parts.append(section(0x04, sid, "vmcoreinfo", 0, 1))
        parts.append(b"\x01" + be(2, 0) + be(2, 1) + be(4, device[1]) + be(8, device[0]) + footer(sid))
    parts.append(b"\x00")
    if desc and arm:
        j = arm_description(ncpus, device, arm["desc_cpregs"] or arm["cpregs"], sizes,
                            arm["fpcr_sub"])
        parts.append(b"\x06" + be(4, len(j)) + j)
    elif desc:
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
    sizes, machine, block, cut, dup, lmam = {}, None, None, None, False, False
    arch = "x86_64"
    arm = {"cpregs": 48, "desc_cpregs": None, "aarch32": False, "big_endian": False,
           "fpcr_sub": False}
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
        elif o == "--arch":
            arch = opts[k + 1]
            k += 1
        elif o == "--cpregs":
            arm["cpregs"] = int(opts[k + 1])
            k += 1
        elif o == "--desc-cpregs":
            arm["desc_cpregs"] = int(opts[k + 1])
            k += 1
        elif o == "--aarch32":
            arm["aarch32"] = True
        elif o == "--big-endian":
            arm["big_endian"] = True
        elif o == "--fpcr-subsection":
            arm["fpcr_sub"] = True
        else:
            sys.exit("qevm.py: unknown option " + o)
        k += 1
    if arch == "aarch64":
        ver = 22 if ver == 12 else ver
        s, exp = build(ram_of(src, 0x40000000), ncpus, device, desc, ver, real, sizes,
                       machine or "virt-7.2", block or "mach-virt.ram", dup, lmam, arm)
    elif arch == "x86_64":
        s, exp = build(ram_of(src), ncpus, device, desc, ver, real, sizes,
                       machine or "pc-q35-7.2", block or "pc.ram", dup, lmam)
    else:
        sys.exit("qevm.py: --arch x86_64 or aarch64")
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
    if expect and arch == "aarch64":
        with open(expect, "w") as f:
            for pr, fp in exp:   # each vCPU's two notes in turn
                f.write("CORE 1 %s\nCORE 2 %s\n" % (pr.hex(), fp.hex()))
    elif expect:
        with open(expect, "w") as f:
            for pr, q in exp:
                f.write("CORE 1 %s\n" % pr.hex())
            for pr, q in exp:
                f.write("QEMU 0 %s\n" % q.hex())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
