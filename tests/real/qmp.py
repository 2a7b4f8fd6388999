#!/usr/bin/python3
"""qmp.py - a small QMP client (Python 3 standard library only) for the real-QEMU tier.

Usage: qmp.py [--timeout SEC] [--log FILE] SOCKET STEP...

Connects to QEMU's QMP unix socket, negotiates capabilities, then runs the steps in
order on one connection:

  stop | cont | quit           the QMP command of that name
  dump FORMAT PATH             dump-guest-memory paging=false, protocol file:PATH
                               (FORMAT: elf, kdump-zlib, ...); then checks query-dump
  migrate PATH                 migrate to "exec:cat > PATH" and waits until query-migrate
                               says "completed"
  exec NAME [JSON-ARGS]        any command; prints its return value as JSON on stdout

Every message sent and received goes to --log (one JSON object per line, prefixed
with ">" or "<"). Exits non-zero with a one-line reason on stderr when a command fails
or a wait times out.
"""
import json
import os
import shlex
import socket
import sys
import time


class QMPError(Exception):
    pass


class QMP:
    def __init__(self, path, timeout, log=None):
        self.timeout = timeout
        self.log = log
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = b""
        self.next_id = 1
        self.events = []
        greeting = self._recv()
        if "QMP" not in greeting:
            raise QMPError("no QMP greeting: %r" % greeting)
        self.version = greeting["QMP"].get("version", {})
        self.command("qmp_capabilities")

    def _log(self, direction, obj):
        if self.log:
            self.log.write("%s %s\n" % (direction, json.dumps(obj, sort_keys=True)))
            self.log.flush()

    def _recv(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise QMPError("QEMU closed the QMP connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        obj = json.loads(line.decode("utf-8"))
        self._log("<", obj)
        return obj

    def command(self, name, **args):
        """Runs one command; returns its "return" value; raises QMPError on "error"."""
        msg = {"execute": name, "id": self.next_id}
        self.next_id += 1
        if args:
            msg["arguments"] = args
        self._log(">", msg)
        self.sock.sendall(json.dumps(msg).encode("utf-8") + b"\n")
        while True:
            obj = self._recv()
            if "event" in obj:
                self.events.append(obj)
                continue
            if obj.get("id") != msg["id"]:
                continue
            if "error" in obj:
                raise QMPError("%s: %s: %s" % (name, obj["error"].get("class"),
                                               obj["error"].get("desc")))
            return obj.get("return")

    def close(self):
        self.sock.close()


def step_dump(q, fmt, path, timeout):
    path = os.path.abspath(path)
    t0 = time.monotonic()
    # detach defaults to false: QEMU answers only once the file is written. Verified
    # below with query-dump, which must already say "completed".
    q.command("dump-guest-memory", paging=False, protocol="file:" + path, format=fmt)
    st = q.command("query-dump")
    if st.get("status") != "completed":
        raise QMPError("dump %s: query-dump right after the command says %r" % (fmt, st))
    sys.stderr.write("qmp: dump %s -> %s: %s in %.1f s (synchronous)\n"
                     % (fmt, path, st, time.monotonic() - t0))


def step_migrate(q, path, timeout):
    path = os.path.abspath(path)
    t0 = time.monotonic()
    q.command("migrate", uri="exec:cat > " + shlex.quote(path))
    deadline = t0 + timeout
    while True:
        st = q.command("query-migrate")
        status = st.get("status")
        if status == "completed":
            break
        if status in ("failed", "cancelled"):
            raise QMPError("migrate: %s: %s" % (status, st.get("error-desc", "")))
        if time.monotonic() > deadline:
            raise QMPError("migrate: still %r after %d s" % (status, timeout))
        time.sleep(0.1)
    sys.stderr.write("qmp: migrate -> %s: completed in %.1f s\n"
                     % (path, time.monotonic() - t0))


def main(argv):
    timeout = 300.0
    logpath = None
    args = argv[1:]
    while args and args[0].startswith("--"):
        if args[0] == "--timeout":
            timeout = float(args[1])
            args = args[2:]
        elif args[0] == "--log":
            logpath = args[1]
            args = args[2:]
        else:
            sys.stderr.write("qmp.py: unknown option %s\n" % args[0])
            return 2
    if not args:
        sys.stderr.write(__doc__)
        return 2
    sockpath, steps = args[0], args[1:]
    log = open(logpath, "a") if logpath else None
    try:
        q = QMP(sockpath, timeout, log)
        v = q.version.get("qemu", {})
        sys.stderr.write("qmp: connected to QEMU %s.%s.%s\n"
                         % (v.get("major"), v.get("minor"), v.get("micro")))
        i = 0
        while i < len(steps):
            s = steps[i]
            if s in ("stop", "cont"):
                q.command(s)
                i += 1
            elif s == "quit":
                try:
                    q.command("quit")
                except QMPError as e:
                    # QEMU may close the socket before or after answering.
                    if "closed" not in str(e):
                        raise
                i += 1
            elif s == "dump":
                step_dump(q, steps[i + 1], steps[i + 2], timeout)
                i += 3
            elif s == "migrate":
                step_migrate(q, steps[i + 1], timeout)
                i += 2
            elif s == "exec":
                name = steps[i + 1]
                cargs = {}
                i += 2
                if i < len(steps) and steps[i].startswith("{"):
                    cargs = json.loads(steps[i])
                    i += 1
                print(json.dumps(q.command(name, **cargs), sort_keys=True))
            else:
                raise QMPError("unknown step %r" % s)
        q.close()
    except (OSError, QMPError, IndexError, ValueError) as e:
        sys.stderr.write("qmp.py: %s\n" % e)
        return 1
    finally:
        if log:
            log.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
