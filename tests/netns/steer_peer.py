#!/usr/bin/env python3
"""The kernel-side traffic of steer.sh (run inside its namespaces).

  kserver  the host's own services on ADDR: a UDP server on each --udp port
           that answers b"K:" + payload (so a reply tells who answered) and
           counts, and a TCP echo server on --tcp; writes its counts as JSON
           to --out on SIGTERM or after --seconds
  ping     ICMP echo to --dst, --count requests: every one must be answered
  tcp      connect to --dst:--port, send --bytes, expect them echoed back
  udp      send --count datagrams to --dst:--port; every one must come back
           unchanged (echoed by sluice, not answered by the kernel)
  live     for --seconds: a steady UDP flow to --port (echoed by sluice), a
           second one to --port2 (answered by the kernel or by sluice, as
           the rules change meanwhile) and ICMP echo; every packet of each
           must be answered exactly once; writes a JSON summary to --out

Every wait is bounded; the exit status is 0 only when every check passed.
"""
import argparse
import json
import os
import select
import signal
import socket
import struct
import sys
import threading
import time

MAGIC = b"SLT"


def payload(seq, size=64):
    head = MAGIC + struct.pack("!I", seq)
    return head + bytes((seq * 7 + i) & 0xFF for i in range(size - len(head)))


def seq_of(data):
    if len(data) < 7 or data[:3] != MAGIC:
        return None
    return struct.unpack("!I", data[3:7])[0]


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


# ---- kserver -----------------------------------------------------------------

def kserver(a):
    counts = {str(p): 0 for p in a.udp}
    socks = {}
    for p in a.udp:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
        s.bind((a.addr, p))
        s.setblocking(False)
        socks[s] = p
    lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lst.bind((a.addr, a.tcp))
    lst.listen(4)
    lst.setblocking(False)
    stop = threading.Event()

    def done(*_):
        stop.set()

    signal.signal(signal.SIGTERM, done)
    signal.signal(signal.SIGINT, done)
    with open(a.ready, "w") as f:
        f.write("ready\n")
    conns = []
    end = time.monotonic() + a.seconds
    while not stop.is_set() and time.monotonic() < end:
        r, _, _ = select.select(list(socks) + [lst] + conns, [], [], 0.05)
        for s in r:
            if s is lst:
                c, _ = lst.accept()
                c.settimeout(5)
                conns.append(c)
            elif s in socks:
                while True:
                    try:
                        data, peer = s.recvfrom(4096)
                    except BlockingIOError:
                        break
                    counts[str(socks[s])] += 1
                    s.sendto(b"K:" + data, peer)
            else:
                data = s.recv(65536)
                if not data:
                    conns.remove(s)
                    s.close()
                else:
                    s.sendall(data)
    with open(a.out, "w") as f:
        json.dump({"udp": counts}, f)


# ---- ICMP echo -----------------------------------------------------------------

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


class Pinger:
    def __init__(self, dst):
        self.dst = dst
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_RAW,
                                  socket.IPPROTO_ICMP)
        self.sock.setblocking(False)
        self.ident = os.getpid() & 0xFFFF
        self.sent = set()
        self.got = set()
        self.dup = 0
        self.seq = 0

    def send(self):
        self.seq += 1
        body = payload(self.seq, 32)
        hdr = struct.pack("!BBHHH", 8, 0, 0, self.ident, self.seq & 0xFFFF)
        hdr = struct.pack("!BBHHH", 8, 0, csum(hdr + body), self.ident,
                          self.seq & 0xFFFF)
        self.sock.sendto(hdr + body, (self.dst, 0))
        self.sent.add(self.seq)

    def recv(self):
        while True:
            try:
                data = self.sock.recv(4096)
            except BlockingIOError:
                return
            ihl = (data[0] & 0xF) * 4
            icmp = data[ihl:]
            if len(icmp) < 8:
                continue
            typ, _, _, ident, _ = struct.unpack("!BBHHH", icmp[:8])
            s = seq_of(icmp[8:])
            if typ != 0 or ident != self.ident or s is None:
                continue
            if s in self.got:
                self.dup += 1
            self.got.add(s)


def ping(a):
    p = Pinger(a.dst)
    for _ in range(a.count):
        p.send()
        end = time.monotonic() + 2
        while p.seq not in p.got and time.monotonic() < end:
            select.select([p.sock], [], [], 0.1)
            p.recv()
        time.sleep(0.05)
    if p.got != p.sent:
        fail("ping %s: %d of %d answered" % (a.dst, len(p.got), len(p.sent)))
    print("ping %s: %d/%d answered" % (a.dst, len(p.got), len(p.sent)))


# ---- TCP -------------------------------------------------------------------------

def tcp(a):
    data = bytes((i * 13) & 0xFF for i in range(a.bytes))
    s = socket.create_connection((a.dst, a.port), timeout=5)
    s.settimeout(5)
    s.sendall(data)
    back = b""
    end = time.monotonic() + 10
    while len(back) < len(data) and time.monotonic() < end:
        chunk = s.recv(65536)
        if not chunk:
            break
        back += chunk
    s.close()
    if back != data:
        fail("TCP %s:%d: %d of %d bytes echoed intact"
             % (a.dst, a.port, len(back), len(data)))
    print("tcp %s:%d: %d bytes echoed" % (a.dst, a.port, len(data)))


# ---- UDP -------------------------------------------------------------------------

class Flow:
    """Datagrams to dst:port, each answered once: unchanged (sluice) or
    with b"K:" in front (the kernel's server)."""

    def __init__(self, dst, port):
        self.dst, self.port = dst, port
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
        self.sock.bind(("0.0.0.0", 0))
        self.sock.setblocking(False)
        self.seq = 0
        self.sent = set()
        self.by = {}  # seq -> "S" (sluice) or "K" (kernel)
        self.dup = self.bad = 0

    def send(self):
        self.seq += 1
        self.sock.sendto(payload(self.seq), (self.dst, self.port))
        self.sent.add(self.seq)

    def recv(self):
        while True:
            try:
                data, peer = self.sock.recvfrom(4096)
            except BlockingIOError:
                return
            who = "S"
            if data.startswith(b"K:"):
                who, data = "K", data[2:]
            s = seq_of(data)
            if s is None or data != payload(s) or peer != (self.dst, self.port):
                self.bad += 1
                continue
            if s in self.by:
                self.dup += 1
            self.by[s] = who

    def count(self, who):
        return sum(1 for w in self.by.values() if w == who)


def udp(a):
    f = Flow(a.dst, a.port)
    for _ in range(a.count):
        f.send()
        time.sleep(0.002)
        f.recv()
    end = time.monotonic() + 3
    while len(f.by) < len(f.sent) and time.monotonic() < end:
        select.select([f.sock], [], [], 0.1)
        f.recv()
    if set(f.by) != f.sent or f.dup or f.bad:
        fail("UDP %s:%d: %d of %d answered, %d duplicates, %d bad"
             % (a.dst, a.port, len(f.by), len(f.sent), f.dup, f.bad))
    if f.count("S") != len(f.sent):
        fail("UDP %s:%d: %d answered by the kernel, expected sluice to echo "
             "every one" % (a.dst, a.port, f.count("K")))
    print("udp %s:%d: %d/%d echoed by sluice" % (a.dst, a.port, f.count("S"),
                                                 len(f.sent)))


def live(a):
    f1, f2 = Flow(a.dst, a.port), Flow(a.dst, a.port2)
    p = Pinger(a.dst)
    tick, n = 1.0 / a.rate, 0
    start = time.monotonic()
    nxt = start
    end = start + a.seconds
    socks = [f1.sock, f2.sock, p.sock]
    while True:
        now = time.monotonic()
        if now >= end + 2 or (now >= end and len(f1.by) == len(f1.sent)
                              and len(f2.by) == len(f2.sent)
                              and p.got == p.sent):
            break
        if now < end and now >= nxt:
            f1.send()
            f2.send()
            if n % 10 == 0:
                p.send()
            n += 1
            nxt += tick
        select.select(socks, [], [], max(0.0, min(nxt - now, 0.01)))
        f1.recv()
        f2.recv()
        p.recv()
    s2 = sorted(s for s, w in f2.by.items() if w == "S")
    k2 = sorted(s for s, w in f2.by.items() if w == "K")
    out = {
        "seconds": round(time.monotonic() - start, 2),
        "flow1": {"port": a.port, "sent": len(f1.sent), "answered": len(f1.by),
                  "sluice": f1.count("S"), "kernel": f1.count("K"),
                  "dup": f1.dup, "bad": f1.bad},
        "flow2": {"port": a.port2, "sent": len(f2.sent), "answered": len(f2.by),
                  "sluice": len(s2), "kernel": len(k2), "dup": f2.dup,
                  "bad": f2.bad,
                  "kernel_before": sum(1 for s in k2 if s2 and s < s2[0]),
                  "kernel_after": sum(1 for s in k2 if s2 and s > s2[-1]),
                  "sluice_first": s2[0] if s2 else 0,
                  "sluice_last": s2[-1] if s2 else 0},
        "ping": {"sent": len(p.sent), "answered": len(p.got), "dup": p.dup},
    }
    with open(a.out, "w") as fo:
        json.dump(out, fo)
    print(json.dumps(out))
    g, h = out["flow1"], out["flow2"]
    if g["answered"] != g["sent"] or g["sluice"] != g["sent"] or g["dup"] \
            or g["bad"]:
        fail("flow to port %d lost or misrouted packets: %s" % (a.port, g))
    if out["ping"]["answered"] != out["ping"]["sent"] or out["ping"]["dup"]:
        fail("ping lost packets during the rule changes: %s" % out["ping"])
    if h["answered"] != h["sent"] or h["dup"] or h["bad"]:
        fail("flow to port %d lost packets: %s" % (a.port2, h))
    if h["sluice"] == 0 or h["kernel_before"] == 0 or h["kernel_after"] == 0:
        fail("flow to port %d was not moved to sluice and back: %s"
             % (a.port2, h))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    k = sub.add_parser("kserver")
    k.add_argument("--addr", required=True)
    k.add_argument("--udp", type=int, action="append", default=[])
    k.add_argument("--tcp", type=int, required=True)
    k.add_argument("--ready", required=True)
    k.add_argument("--out", required=True)
    k.add_argument("--seconds", type=float, default=90)
    p = sub.add_parser("ping")
    p.add_argument("--dst", required=True)
    p.add_argument("--count", type=int, default=5)
    t = sub.add_parser("tcp")
    t.add_argument("--dst", required=True)
    t.add_argument("--port", type=int, required=True)
    t.add_argument("--bytes", type=int, default=100000)
    u = sub.add_parser("udp")
    u.add_argument("--dst", required=True)
    u.add_argument("--port", type=int, required=True)
    u.add_argument("--count", type=int, default=50)
    lv = sub.add_parser("live")
    lv.add_argument("--dst", required=True)
    lv.add_argument("--port", type=int, required=True)
    lv.add_argument("--port2", type=int, required=True)
    lv.add_argument("--seconds", type=float, default=6)
    lv.add_argument("--rate", type=float, default=500)
    lv.add_argument("--out", required=True)
    a = ap.parse_args()
    {"kserver": kserver, "ping": ping, "tcp": tcp, "udp": udp,
     "live": live}[a.cmd](a)


if __name__ == "__main__":
    main()
