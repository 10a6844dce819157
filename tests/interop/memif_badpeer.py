#!/usr/bin/env python3
"""A misbehaving memif 2.0 peer against a sluice net_memif lport.

usage: memif_badpeer.py [--build DIR] [--slpkt PATH] [--only REGEX] [-v]

The sluice side is `sl-pkt --mode echo` (it sends back what it receives), so
this peer sees at once what sluice accepted. Two groups of cases:

  server  sluice listens (role=server, with a secret); this script connects
          as a client and breaks the protocol: wrong message sizes, wrong
          version, id, mode or secret, messages out of order, unknown
          types, missing or extra fds, regions smaller than announced or
          beyond limits, rings outside their region or with a bad cookie,
          descriptors outside the region, runaway chains, a head beyond the
          ring, a second client, a disconnect in the middle of a burst, a
          region shrunk under sluice's feet, a connection flood.
  client  sluice connects (role=client); this script is the server and
          sends a bad HELLO (size, version), messages out of order, an
          unknown type, an fd nobody asked for, a DISCONNECT.

After every case: sluice must still run, must have logged a reason on
stderr when it refused something, and must then serve a well-behaved peer
(a short session whose packets come back intact). At the end a longer
well-behaved session must pass, and sluice must hold no more file
descriptors or memfd mappings than before the first case (no leaks).

Standard library only (Linux, Python >= 3.9: os.memfd_create, os.eventfd,
socket.send_fds). Exit 0 all passed, 1 a case failed, 77 skipped (sluice
built without net_memif).
"""

import argparse
import fcntl
import mmap
import os
import re
import select
import socket
import struct
import subprocess
import sys
import tempfile
import time

# ---- memif 2.0 constants and wire formats ----------------------------------

COOKIE = 0x3E31F20
VERSION = 0x0200
MSG_SIZE = 128
T_NONE, T_ACK, T_HELLO, T_INIT, T_ADD_REGION, T_ADD_RING, T_CONNECT, \
    T_CONNECTED, T_DISCONNECT = range(9)
TYPE_NAMES = {0: "NONE", 1: "ACK", 2: "HELLO", 3: "INIT", 4: "ADD_REGION",
              5: "ADD_RING", 6: "CONNECT", 7: "CONNECTED", 8: "DISCONNECT"}
RING_C2S = 1          # ADD_RING flags bit 0
DESC_NEXT = 1         # descriptor flags bit 0
RING_MASK_INT = 1     # ring flags bit 0: "do not interrupt me"
RING_HDR = 128        # cookie/flags/head on line 0, tail on line 1
DESC_SIZE = 16
MODE_ETHERNET = 0

SECRET = b"badpeer-secret"
PEER_NAME = b"memif_badpeer"


def msg(mtype, fmt="", *fields):
    """A 128-byte message: u16 type then the packed fields."""
    b = bytearray(MSG_SIZE)
    struct.pack_into("<H" + fmt, b, 0, mtype, *fields)
    return bytes(b)


def m_hello(minv=VERSION, maxv=VERSION, max_region=255, max_s2c=0,
            max_c2s=0, max_log2=14, name=b"badpeer-server"):
    return msg(T_HELLO, "32sHHHHHB", name, minv, maxv, max_region, max_s2c,
               max_c2s, max_log2)


def m_init(version=VERSION, ident=0, mode=MODE_ETHERNET, secret=SECRET,
           name=PEER_NAME):
    return msg(T_INIT, "HIB24s32s", version, ident, mode, secret, name)


def m_add_region(index, size):
    return msg(T_ADD_REGION, "HQ", index, size)


def m_add_ring(c2s, index, region, offset, log2, priv=0):
    return msg(T_ADD_RING, "HHHIBH", RING_C2S if c2s else 0, index, region,
               offset, log2, priv)


def m_connect(name=b"badpeer0"):
    return msg(T_CONNECT, "32s", name)


def m_connected(name=b"badpeer0"):
    return msg(T_CONNECTED, "32s", name)


def m_disconnect(code, reason):
    return msg(T_DISCONNECT, "I96s", code, reason)


def parse(data):
    """(type, dict of fields) of a received message."""
    if len(data) < 2:
        return None, {}
    t = struct.unpack_from("<H", data, 0)[0]
    f = {"size": len(data)}
    if len(data) >= MSG_SIZE:
        if t == T_HELLO:
            (f["name"], f["min"], f["max"], f["max_region"], f["max_s2c"],
             f["max_c2s"], f["max_log2"]) = struct.unpack_from("<32sHHHHHB",
                                                               data, 2)
        elif t == T_INIT:
            (f["version"], f["id"], f["mode"], f["secret"],
             f["name"]) = struct.unpack_from("<HIB24s32s", data, 2)
        elif t == T_ADD_REGION:
            f["index"], f["rsize"] = struct.unpack_from("<HQ", data, 2)
        elif t == T_ADD_RING:
            (f["flags"], f["index"], f["region"], f["offset"], f["log2"],
             f["priv"]) = struct.unpack_from("<HHHIBH", data, 2)
        elif t == T_DISCONNECT:
            f["code"], reason = struct.unpack_from("<I96s", data, 2)
            f["reason"] = reason.split(b"\0")[0].decode(errors="replace")
    return t, f


# ---- packets in sl-pkt's format ---------------------------------------------

HDR_LEN = 42


def ip_csum(b):
    s = 0
    for i in range(0, len(b), 2):
        s += (b[i] << 8) | b[i + 1]
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def make_packet(seq, size=64, dport=9001):
    """Ethernet/IPv4/UDP, 64-bit sequence number and a pattern: what
    sl-pkt sends and checks."""
    eth = bytes([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00])
    ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, size - 14, 0, 0, 64,
                               17, 0, bytes([198, 18, 0, 1]),
                               bytes([198, 18, 0, 2])))
    struct.pack_into("!H", ip, 10, ip_csum(ip))
    udp = struct.pack("!HHHH", 9000, dport, size - 34, 0)
    pay = struct.pack("<Q", seq) + bytes((seq * 7 + i) & 0xFF
                                         for i in range(HDR_LEN + 8, size))
    return eth + bytes(ip) + udp + pay


def check_packet(p, size=None):
    """The sequence number of an intact sl-pkt packet (MACs may be
    swapped), else None."""
    if len(p) < HDR_LEN + 8 or (size is not None and len(p) != size):
        return None
    if p[12:14] != b"\x08\x00" or p[23] != 17:
        return None
    seq = struct.unpack_from("<Q", p, HDR_LEN)[0]
    ref = make_packet(seq, len(p), struct.unpack_from("!H", p, 36)[0])
    return seq if p[12:] == ref[12:] else None


# ---- shared memory: one region, rings then buffers --------------------------

class Region:
    """A memfd region laid out like a non-zero-copy memif client's:
    [C2S rings][S2C rings][buffers]."""

    def __init__(self, log2=10, bsize=2048, n_c2s=1, n_s2c=1, seal=True,
                 extra=0, fd=None, size=None):
        self.log2, self.bsize = log2, bsize
        self.n_c2s, self.n_s2c = n_c2s, n_s2c
        self.rsize = 1 << log2
        self.ring_bytes = RING_HDR + DESC_SIZE * self.rsize
        self.buf_off = (n_c2s + n_s2c) * self.ring_bytes
        self.size = size or (self.buf_off +
                             (n_c2s + n_s2c) * self.rsize * bsize + extra)
        if fd is None:
            fd = os.memfd_create("badpeer", os.MFD_ALLOW_SEALING)
            if seal:
                fcntl.fcntl(fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_SHRINK)
            os.ftruncate(fd, self.size)
        self.fd = fd
        self.mm = mmap.mmap(fd, self.size, mmap.MAP_SHARED,
                            mmap.PROT_READ | mmap.PROT_WRITE)
        # head and tail are read and written by the peer concurrently:
        # access them as whole u16 (struct's "<H" goes byte by byte, and a
        # torn index looks like a corrupt ring to the peer)
        self.mv16 = memoryview(self.mm).cast("H")

    def ring_off(self, c2s, i):
        return (i if c2s else self.n_c2s + i) * self.ring_bytes

    def buffer(self, c2s, ring, slot):
        idx = (ring if c2s else self.n_c2s + ring) * self.rsize + slot
        return self.buf_off + idx * self.bsize

    def init_rings(self, cookie=COOKIE):
        for c2s, n in ((True, self.n_c2s), (False, self.n_s2c)):
            for i in range(n):
                r = self.ring_off(c2s, i)
                self.mm[r:r + self.ring_bytes] = bytes(self.ring_bytes)
                struct.pack_into("<I", self.mm, r, cookie)
                for s in range(self.rsize):
                    self.set_desc(r, s, 0, 0, self.bsize,
                                  self.buffer(c2s, i, s))

    def set_desc(self, ring, slot, flags, region, length, offset):
        struct.pack_into("<HHII", self.mm, ring + RING_HDR + slot * DESC_SIZE,
                         flags, region, length & 0xFFFFFFFF,
                         offset & 0xFFFFFFFF)

    def desc(self, ring, slot):
        return struct.unpack_from("<HHII", self.mm,
                                  ring + RING_HDR + slot * DESC_SIZE)

    def head(self, ring):
        return self.mv16[(ring + 6) >> 1]

    def tail(self, ring):
        return self.mv16[(ring + 64) >> 1]

    def set_head(self, ring, v):
        self.mv16[(ring + 6) >> 1] = v & 0xFFFF

    def set_tail(self, ring, v):
        self.mv16[(ring + 64) >> 1] = v & 0xFFFF

    def unmap(self):
        if self.mv16 is not None:
            self.mv16.release()
            self.mv16 = None
        try:
            self.mm.close()
        except (BufferError, ValueError):
            pass

    def flags(self, ring):
        return self.mv16[(ring + 4) >> 1]

    def set_flags(self, ring, v):
        self.mv16[(ring + 4) >> 1] = v

    def close(self):
        self.unmap()
        try:
            os.close(self.fd)
        except OSError:
            pass


# ---- a control connection ----------------------------------------------------

OPEN_CONNS = []


def close_all():
    """Close every connection a case left open (run after each case)."""
    while OPEN_CONNS:
        OPEN_CONNS.pop().close()


class Conn:
    def __init__(self, sock):
        self.sock = sock
        OPEN_CONNS.append(self)

    @classmethod
    def connect(cls, path, timeout=5.0):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.settimeout(timeout)
        s.connect(path)
        return cls(s)

    def send(self, data, fds=()):
        try:
            if fds:
                socket.send_fds(self.sock, [data], list(fds))
            else:
                self.sock.send(data)
            return True
        except OSError:
            return False

    def recv(self, timeout=3.0):
        """(type, fields, fds); type None on EOF, 'timeout' on timeout."""
        r, _, _ = select.select([self.sock], [], [], timeout)
        if not r:
            return "timeout", {}, []
        try:
            data, fds, _, _ = socket.recv_fds(self.sock, 4096, 4)
        except OSError:
            return None, {}, []
        if not data:
            return None, {}, []
        if len(data) != MSG_SIZE:
            for fd in fds:
                os.close(fd)
            raise PeerError("sluice sent a message of %d bytes" % len(data))
        t, f = parse(data)
        return t, f, fds

    def expect(self, mtype, timeout=3.0):
        t, f, fds = self.recv(timeout)
        for fd in fds:
            os.close(fd)
        if t != mtype:
            raise PeerError("expected %s, got %s %s" % (
                TYPE_NAMES.get(mtype), TYPE_NAMES.get(t, t), f.get("reason", "")))
        return f

    def outcome(self, timeout=3.0):
        """What the other side did after a bad message: 'disconnect:<reason>',
        'closed', 'timeout' or the type it sent."""
        t, f, fds = self.recv(timeout)
        for fd in fds:
            os.close(fd)
        if t == T_DISCONNECT:
            return "disconnect: " + f.get("reason", "")
        if t is None:
            return "closed"
        if t == "timeout":
            return "timeout"
        return TYPE_NAMES.get(t, str(t))

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class PeerError(Exception):
    pass


# ---- a well-behaved client, with hooks to misbehave --------------------------

class Client:
    """A memif client on one queue pair: handshake, then send on C2S and
    receive on S2C."""

    def __init__(self, path, secret=SECRET, log2=10, bsize=2048):
        self.path, self.secret = path, secret
        self.log2, self.bsize = log2, bsize
        self.conn = None
        self.region = None
        self.efd = []
        self.c2s = self.s2c = 0
        self.c2s_head = 0
        self.s2c_tail = 0

    def hello(self):
        self.conn = Conn.connect(self.path)
        h = self.conn.expect(T_HELLO)
        self.hello_fields = h
        return h

    def build(self, **kw):
        self.region = Region(self.log2, self.bsize, **kw)
        self.region.init_rings()
        self.c2s = self.region.ring_off(True, 0)
        self.s2c = self.region.ring_off(False, 0)
        self.efd = [os.eventfd(0, os.EFD_NONBLOCK) for _ in range(2)]

    def handshake(self, **kw):
        """The whole correct sequence up to CONNECTED."""
        self.hello()
        self.build(**kw)
        self.conn.send(m_init(secret=self.secret))
        self.conn.expect(T_ACK)
        self.conn.send(m_add_region(0, self.region.size), [self.region.fd])
        self.conn.expect(T_ACK)
        self.conn.send(m_add_ring(True, 0, 0, self.c2s, self.log2),
                       [self.efd[0]])
        self.conn.expect(T_ACK)
        self.conn.send(m_add_ring(False, 0, 0, self.s2c, self.log2),
                       [self.efd[1]])
        self.conn.expect(T_ACK)
        self.conn.send(m_connect())
        self.conn.expect(T_CONNECTED)
        self.start_rings()

    def start_rings(self):
        r = self.region
        for ring in (self.c2s, self.s2c):
            r.set_head(ring, 0)
            r.set_tail(ring, 0)
        self.c2s_head = 0
        self.s2c_tail = 0
        # poll-mode receiver: no interrupts on the ring we consume
        r.set_flags(self.s2c, RING_MASK_INT)
        for s in range(r.rsize):
            r.set_desc(self.s2c, s, 0, 0, self.bsize,
                       r.buffer(False, 0, s))
        r.set_head(self.s2c, r.rsize)  # every S2C slot is free for sluice

    def kick(self):
        if not self.region.flags(self.c2s) & RING_MASK_INT:
            try:
                os.eventfd_write(self.efd[0], 1)
            except OSError:
                pass

    def send_raw(self, descs, advance=True):
        """Write descriptors (flags, region, length, offset, data or None)
        at the C2S head and publish them."""
        r = self.region
        for flags, reg, length, off, data in descs:
            slot = self.c2s_head & (r.rsize - 1)
            if data is not None:
                off = r.buffer(True, 0, slot)
                r.mm[off:off + len(data)] = data
                length = len(data) if length is None else length
            r.set_desc(self.c2s, slot, flags, reg, length, off)
            self.c2s_head += 1
        if advance:
            r.set_head(self.c2s, self.c2s_head)
            self.kick()

    def send(self, pkts, timeout=5.0):
        """Send whole packets (chained when longer than a buffer)."""
        r = self.region
        deadline = time.monotonic() + timeout
        for p in pkts:
            chunks = [p[i:i + self.bsize] for i in range(0, len(p), self.bsize)]
            while (self.c2s_head - r.tail(self.c2s)) & 0xFFFF > \
                    r.rsize - len(chunks):
                if time.monotonic() > deadline:
                    return False
                r.set_head(self.c2s, self.c2s_head)
                time.sleep(0.0005)
            self.send_raw([(DESC_NEXT if i + 1 < len(chunks) else 0, 0, None,
                            0, c) for i, c in enumerate(chunks)],
                          advance=False)
        r.set_head(self.c2s, self.c2s_head)
        self.kick()
        return True

    def recv(self, want, timeout=5.0):
        """Receive until `want` packets came or timeout; the packets."""
        r = self.region
        out, cur = [], b""
        deadline = time.monotonic() + timeout
        while len(out) < want and time.monotonic() < deadline:
            tail = r.tail(self.s2c)
            if tail == self.s2c_tail & 0xFFFF:
                time.sleep(0.0005)
                continue
            while self.s2c_tail & 0xFFFF != tail:
                slot = self.s2c_tail & (r.rsize - 1)
                flags, reg, length, off = r.desc(self.s2c, slot)
                if reg != 0 or length > self.bsize or \
                        off + length > r.size:
                    raise PeerError("sluice wrote a bad S2C descriptor: "
                                    "region %d offset %d length %d" % (
                                        reg, off, length))
                cur += bytes(r.mm[off:off + length])
                if not flags & DESC_NEXT:
                    out.append(cur)
                    cur = b""
                # give the slot back
                r.set_desc(self.s2c, slot, 0, 0, self.bsize,
                           r.buffer(False, 0, slot))
                self.s2c_tail += 1
            r.set_head(self.s2c, self.s2c_tail + r.rsize)
        return out

    def close(self):
        if self.conn:
            self.conn.close()
        for fd in self.efd:
            try:
                os.close(fd)
            except OSError:
                pass
        self.efd = []
        if self.region:
            self.region.close()
            self.region = None


def echo_session(path, n, size=64, seq0=0, timeout=10.0):
    """A well-behaved client: n sequenced packets must come back intact.
    Returns (ok, message)."""
    c = Client(path)
    try:
        c.handshake()
        pkts = [make_packet(seq0 + i, size) for i in range(n)]
        got = []
        i = 0
        deadline = time.monotonic() + timeout
        while len(got) < n and time.monotonic() < deadline:
            burst = pkts[i:i + 32]
            if burst:
                if not c.send(burst, timeout=max(0.1, deadline - time.monotonic())):
                    return False, "C2S ring never drained"
                i += len(burst)
            got += c.recv(len(burst) or 1, timeout=0.2 if burst else 0.5)
        seqs = [check_packet(p, size) for p in got]
        good = sorted(s for s in seqs if s is not None)
        if good != list(range(seq0, seq0 + n)):
            return False, ("%d of %d came back intact (%d damaged or foreign)"
                           % (len(good), n, seqs.count(None)))
        return True, "%d/%d back intact" % (n, n)
    except (PeerError, OSError) as e:
        return False, "well-behaved session failed: %s" % e
    finally:
        c.close()


# ---- the sluice side ---------------------------------------------------------

class Sluice:
    """sl-pkt --mode echo on a net_memif lport, stderr kept in a file."""

    def __init__(self, slpkt, tmp, role, sock, extra_opts=""):
        self.errpath = os.path.join(tmp, "sluice-%s.err" % role)
        self.outpath = os.path.join(tmp, "sluice-%s.out" % role)
        opts = "role=%s,socket=%s,socket_abstract=no,id=0%s" % (
            role, sock, extra_opts)
        self.err = open(self.errpath, "w+b")
        self.out = open(self.outpath, "w+b")
        self.proc = subprocess.Popen(
            [slpkt, "--mode", "echo", "--backend", "net_memif", "--options",
             opts, "--seconds", "900", "--json"],
            stdin=subprocess.DEVNULL, stdout=self.out, stderr=self.err)
        self.log_pos = 0

    def alive(self):
        return self.proc.poll() is None

    def status(self):
        rc = self.proc.poll()
        if rc is None:
            return "running"
        if rc < 0:
            return "killed by signal %d" % -rc
        return "exited %d" % rc

    def new_log(self, wait=1.0, settle=0.3):
        """Text sluice wrote to stderr since the last call (waits up to
        `wait` seconds for something, then `settle` more for the rest)."""
        deadline = time.monotonic() + wait
        while os.path.getsize(self.errpath) == self.log_pos and \
                time.monotonic() < deadline:
            time.sleep(0.05)
        if os.path.getsize(self.errpath) != self.log_pos:
            time.sleep(settle)
        with open(self.errpath, "rb") as f:
            f.seek(self.log_pos)
            text = f.read()
        self.log_pos += len(text)
        return text.decode(errors="replace").strip()

    def _fds(self):
        try:
            return len(os.listdir("/proc/%d/fd" % self.proc.pid))
        except OSError:
            return -1

    def _memfd_maps(self):
        try:
            with open("/proc/%d/maps" % self.proc.pid) as f:
                return sum(1 for line in f if "memfd:" in line)
        except OSError:
            return -1

    def fds(self):
        """Open fds: the least of a few samples over 0.5 s (a peer's
        connection may come and go meanwhile)."""
        v = []
        for _ in range(5):
            v.append(self._fds())
            time.sleep(0.1)
        return min(v)

    def memfd_maps(self):
        v = []
        for _ in range(5):
            v.append(self._memfd_maps())
            time.sleep(0.1)
        return min(v)

    def stop(self):
        """SIGTERM; the summary line. self.rc: its exit status (None when
        it had to be killed)."""
        self.rc = None
        if self.alive():
            self.proc.terminate()
            try:
                self.rc = self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        else:
            self.rc = self.proc.returncode
        self.err.close()
        self.out.close()
        with open(self.outpath, "rb") as f:
            return f.read().decode(errors="replace").strip()

    def check_exit(self, rep, group):
        """After stop(): sluice must leave cleanly on SIGTERM (exit 0, its
        summary printed; under ASan, no leak report)."""
        with open(self.outpath, "rb") as f:
            out = f.read().decode(errors="replace").strip()
        if self.rc == 0 and out.startswith("{"):
            rep.ok(group + "/clean-exit", "exit 0 after SIGTERM")
        else:
            with open(self.errpath, "rb") as f:
                tail = f.read().decode(errors="replace").strip()[-300:]
            rep.fail(group + "/clean-exit", "exit status %s; stderr ends: %s"
                     % (self.rc, tail))


# ---- the cases: sluice as server ---------------------------------------------
# Each takes the socket path and returns a short description of what the
# other side did; it raises PeerError when sluice did something wrong that
# the case can see itself (e.g. accepted what it must refuse).

def expect_refusal(conn, what):
    out = conn.outcome()
    if out in ("ACK", "CONNECTED"):
        raise PeerError("%s was accepted (%s)" % (what, out))
    return out


def case_msg_short(path):
    c = Conn.connect(path)
    c.expect(T_HELLO)
    c.send(m_init()[:64])
    return expect_refusal(c, "a 64-byte INIT")


def case_msg_long(path):
    c = Conn.connect(path)
    c.expect(T_HELLO)
    c.send(m_init() + bytes(72))
    return expect_refusal(c, "a 200-byte INIT")


def case_bad_version(path):
    c = Conn.connect(path)
    c.expect(T_HELLO)
    c.send(m_init(version=0x0100))
    return expect_refusal(c, "INIT version 1.0")


def case_wrong_id(path):
    c = Conn.connect(path)
    c.expect(T_HELLO)
    c.send(m_init(ident=77))
    return expect_refusal(c, "INIT with an unknown id")


def case_bad_mode(path):
    c = Conn.connect(path)
    c.expect(T_HELLO)
    c.send(m_init(mode=1))
    return expect_refusal(c, "INIT in ip mode")


def case_wrong_secret(path):
    c = Conn.connect(path)
    c.expect(T_HELLO)
    c.send(m_init(secret=b"not-the-secret"))
    return expect_refusal(c, "a wrong secret")


def case_no_secret(path):
    c = Conn.connect(path)
    c.expect(T_HELLO)
    c.send(m_init(secret=b""))
    return expect_refusal(c, "no secret")


def case_region_before_init(path):
    c = Conn.connect(path)
    c.expect(T_HELLO)
    r = Region()
    try:
        c.send(m_add_region(0, r.size), [r.fd])
        return expect_refusal(c, "ADD_REGION before INIT")
    finally:
        r.close()


def case_hello_from_client(path):
    c = Conn.connect(path)
    c.expect(T_HELLO)
    c.send(m_hello())
    return expect_refusal(c, "a HELLO from the client")


def case_unknown_type(path):
    c = Conn.connect(path)
    c.expect(T_HELLO)
    c.send(m_init())
    c.expect(T_ACK)
    c.send(msg(42))
    return expect_refusal(c, "message type 42")


def case_init_twice(path):
    c = Conn.connect(path)
    c.expect(T_HELLO)
    c.send(m_init())
    c.expect(T_ACK)
    c.send(m_init())
    return expect_refusal(c, "a second INIT")


def case_connect_without_regions(path):
    c = Conn.connect(path)
    c.expect(T_HELLO)
    c.send(m_init())
    c.expect(T_ACK)
    c.send(m_connect())
    return expect_refusal(c, "CONNECT with no region nor ring")


def case_connect_without_rings(path):
    cl = Client(path)
    try:
        cl.hello()
        cl.build()
        c = cl.conn
        c.send(m_init())
        c.expect(T_ACK)
        c.send(m_add_region(0, cl.region.size), [cl.region.fd])
        c.expect(T_ACK)
        c.send(m_connect())
        return expect_refusal(c, "CONNECT with no ring")
    finally:
        cl.close()


def case_ring_before_region(path):
    c = Conn.connect(path)
    c.expect(T_HELLO)
    c.send(m_init())
    c.expect(T_ACK)
    efd = os.eventfd(0)
    try:
        c.send(m_add_ring(True, 0, 0, 0, 10), [efd])
        out = c.outcome()
        if out == "ACK":  # refusing at CONNECT is fine too
            c.send(m_connect())
            out = expect_refusal(c, "a ring in a region never added")
        return out
    finally:
        os.close(efd)


def case_region_no_fd(path):
    c = Conn.connect(path)
    c.expect(T_HELLO)
    c.send(m_init())
    c.expect(T_ACK)
    c.send(m_add_region(0, 1 << 22))
    return expect_refusal(c, "ADD_REGION without an fd")


def case_ring_no_fd(path):
    cl = Client(path)
    try:
        cl.hello()
        cl.build()
        c = cl.conn
        c.send(m_init())
        c.expect(T_ACK)
        c.send(m_add_region(0, cl.region.size), [cl.region.fd])
        c.expect(T_ACK)
        c.send(m_add_ring(True, 0, 0, cl.c2s, 10))
        return expect_refusal(c, "ADD_RING without an eventfd")
    finally:
        cl.close()


def case_fd_on_init(path):
    """An fd nobody asked for, on INIT: accepting INIT is fine, keeping the
    fd is a leak (checked at the end)."""
    c = Conn.connect(path)
    c.expect(T_HELLO)
    efd = os.eventfd(0)
    try:
        c.send(m_init(), [efd])
        return c.outcome()
    finally:
        os.close(efd)


def case_region_index_gap(path):
    cl = Client(path)
    try:
        cl.hello()
        cl.build()
        c = cl.conn
        c.send(m_init())
        c.expect(T_ACK)
        c.send(m_add_region(5, cl.region.size), [cl.region.fd])
        return expect_refusal(c, "region index 5 first")
    finally:
        cl.close()


def case_too_many_regions(path):
    """ADD_REGION until refused: must stop at HELLO's max_region."""
    cl = Client(path)
    regions = []
    try:
        h = cl.hello()
        c = cl.conn
        c.send(m_init())
        c.expect(T_ACK)
        limit = h["max_region"] + 1
        for i in range(limit + 1):
            r = Region(log2=1, bsize=64, n_c2s=0, n_s2c=0, extra=4096)
            regions.append(r)
            c.send(m_add_region(i, r.size), [r.fd])
            out = c.outcome()
            if out != "ACK":
                if i < limit:
                    return "refused region %d of max %d: %s" % (i, limit, out)
                return out
        raise PeerError("accepted %d regions, HELLO said at most %d" % (
            limit + 1, limit))
    finally:
        for r in regions:
            r.close()
        cl.close()


def case_region_zero_size(path):
    cl = Client(path)
    try:
        cl.hello()
        cl.build()
        c = cl.conn
        c.send(m_init())
        c.expect(T_ACK)
        c.send(m_add_region(0, 0), [cl.region.fd])
        out = c.outcome()
        if out == "ACK":
            c.send(m_add_ring(True, 0, 0, 0, 10), [cl.efd[0]])
            out = c.outcome()
            if out == "ACK":
                c.send(m_add_ring(False, 0, 0, cl.s2c, 10), [cl.efd[1]])
                c.outcome()
                c.send(m_connect())
                out = expect_refusal(c, "rings in a region of size 0")
        return out
    finally:
        cl.close()


def finish_connect(cl, what):
    """Add both rings and CONNECT; return the outcome (refusal at any step
    ends it). Raises if sluice accepted `what`."""
    c = cl.conn
    for c2s, off, efd in ((True, cl.c2s, cl.efd[0]),
                          (False, cl.s2c, cl.efd[1])):
        c.send(m_add_ring(c2s, 0, 0, off, cl.log2), [efd])
        out = c.outcome()
        if out != "ACK":
            return out
    c.send(m_connect())
    return expect_refusal(c, what)


def case_region_huge(path):
    cl = Client(path)
    try:
        cl.hello()
        cl.build()
        c = cl.conn
        c.send(m_init())
        c.expect(T_ACK)
        c.send(m_add_region(0, 1 << 62), [cl.region.fd])
        out = c.outcome()
        if out != "ACK":
            return out
        return finish_connect(cl, "a region of 2^62 bytes")
    finally:
        cl.close()


def case_region_larger_than_fd(path):
    """Announce 64 MiB on a 4 MiB memfd. If sluice maps it anyway, touching
    the part past the file's end raises SIGBUS: send a packet there."""
    cl = Client(path)
    try:
        cl.hello()
        cl.build()
        c = cl.conn
        c.send(m_init())
        c.expect(T_ACK)
        c.send(m_add_region(0, 64 << 20), [cl.region.fd])
        out = c.outcome()
        if out != "ACK":
            return out
        for c2s, off, efd in ((True, cl.c2s, cl.efd[0]),
                              (False, cl.s2c, cl.efd[1])):
            c.send(m_add_ring(c2s, 0, 0, off, cl.log2), [efd])
            out = c.outcome()
            if out != "ACK":
                return out
        c.send(m_connect())
        out = c.outcome()
        if out != "CONNECTED":
            return out
        cl.start_rings()
        cl.send_raw([(0, 0, 64, 32 << 20, None)])
        time.sleep(0.5)
        raise PeerError("accepted a 64 MiB region backed by a %d-byte memfd"
                        % cl.region.size)
    finally:
        cl.close()


def bad_ring_case(path, what, offset=None, log2=None, index=0, region=0,
                  priv=0):
    cl = Client(path)
    try:
        cl.hello()
        cl.build()
        c = cl.conn
        c.send(m_init())
        c.expect(T_ACK)
        c.send(m_add_region(0, cl.region.size), [cl.region.fd])
        c.expect(T_ACK)
        c.send(m_add_ring(True, index, region,
                          cl.c2s if offset is None else offset,
                          cl.log2 if log2 is None else log2, priv),
               [cl.efd[0]])
        out = c.outcome()
        if out != "ACK":
            return out
        c.send(m_add_ring(False, 0, 0, cl.s2c, cl.log2), [cl.efd[1]])
        out = c.outcome()
        if out != "ACK":
            return out
        c.send(m_connect())
        return expect_refusal(c, what)
    finally:
        cl.close()


def case_ring_offset_beyond(path):
    return bad_ring_case(path, "a ring beyond its region", offset=1 << 30)


def case_ring_straddles_end(path):
    # the size of the region bad_ring_case builds (log2 10, 2048 B, 1+1)
    size = 2 * (RING_HDR + DESC_SIZE * 1024) + 2 * 1024 * 2048
    return bad_ring_case(path, "a ring crossing its region's end",
                         offset=size - 256)


def case_ring_log2_too_big(path):
    return bad_ring_case(path, "a ring of 2^20 slots", log2=20)


def case_ring_log2_zero(path):
    """A 1-slot C2S ring: odd but legal. Refusing is fine; accepting is
    fine if a packet then crosses it."""
    cl = Client(path, log2=10)
    try:
        cl.hello()
        cl.build()
        c = cl.conn
        c.send(m_init())
        c.expect(T_ACK)
        c.send(m_add_region(0, cl.region.size), [cl.region.fd])
        c.expect(T_ACK)
        c.send(m_add_ring(True, 0, 0, cl.c2s, 0), [cl.efd[0]])
        out = c.outcome()
        if out != "ACK":
            return out
        c.send(m_add_ring(False, 0, 0, cl.s2c, cl.log2), [cl.efd[1]])
        out = c.outcome()
        if out != "ACK":
            return out
        c.send(m_connect())
        out = c.outcome()
        if out != "CONNECTED":
            return out
        cl.start_rings()
        cl.region.rsize_c2s = 1
        r = cl.region
        p = make_packet(7, 64)
        off = r.buffer(True, 0, 0)
        r.mm[off:off + 64] = p
        r.set_desc(cl.c2s, 0, 0, 0, 64, off)
        r.set_head(cl.c2s, 1)
        cl.kick()
        got = cl.recv(1, 2.0)
        if [check_packet(x) for x in got] != [7]:
            raise PeerError("accepted a 1-slot ring, but a packet did not "
                            "cross it (%d back)" % len(got))
        return "accepted a 1-slot ring, and it works"
    finally:
        cl.close()


def case_ring_index_too_big(path):
    return bad_ring_case(path, "ring index 9 on a 1-queue interface",
                         index=9)


def case_ring_unknown_region(path):
    return bad_ring_case(path, "a ring in region 3", region=3)


def case_bad_cookie(path):
    cl = Client(path)
    try:
        cl.hello()
        cl.build()
        struct.pack_into("<I", cl.region.mm, cl.c2s, 0xDEADBEEF)
        c = cl.conn
        c.send(m_init())
        c.expect(T_ACK)
        c.send(m_add_region(0, cl.region.size), [cl.region.fd])
        c.expect(T_ACK)
        return finish_connect(cl, "a ring with cookie 0xdeadbeef")
    finally:
        cl.close()


def case_connect_twice(path):
    cl = Client(path)
    try:
        cl.handshake()
        cl.conn.send(m_connect())
        out = cl.conn.outcome(2.0)
        if out == "CONNECTED":
            raise PeerError("a second CONNECT was answered CONNECTED")
        return out
    finally:
        cl.close()


def case_second_client(path):
    """While one client is connected, a second one with the same id must be
    refused, and the first must keep working."""
    a = Client(path)
    try:
        a.handshake()
        b = Conn.connect(path)
        try:
            t, f, fds = b.recv(2.0)
            for fd in fds:
                os.close(fd)
            if t == T_HELLO:
                b.send(m_init())
                out = expect_refusal(b, "a second client with the same id")
            else:
                out = "no HELLO: " + str(TYPE_NAMES.get(t, t))
        finally:
            b.close()
        pkts = [make_packet(i, 64) for i in range(8)]
        a.send(pkts)
        got = a.recv(8, 3.0)
        if sorted(filter(lambda s: s is not None,
                         map(check_packet, got))) != list(range(8)):
            raise PeerError("the first client stopped working (%d of 8 back)"
                            % len(got))
        return out + "; first client still served"
    finally:
        a.close()


def bad_desc_case(path, make):
    """One bad descriptor (from make(region)), then 8 good packets in the
    same session. Two answers are right: drop the bad one and echo the
    good ones, or give up on the peer (disconnect it, logging why). Wrong:
    delivering the bad one (it was read from outside the region), dying,
    or neither echoing nor disconnecting."""
    cl = Client(path)
    try:
        cl.handshake()
        cl.send_raw([make(cl.region)])
        good = [make_packet(1000 + i, 64) for i in range(8)]
        cl.send(good)
        got = cl.recv(9, 2.0)
        seqs = [check_packet(p) for p in got]
        bad = [len(p) for p, q in zip(got, seqs) if q is None]
        if bad:
            raise PeerError("the bad descriptor was delivered (a %s-byte "
                            "packet came back)" % bad)
        if sorted(q for q in seqs if q is not None) == list(range(1000, 1008)):
            return "dropped it, echoed the 8 good packets"
        out = cl.conn.outcome(2.0)
        if out.startswith("disconnect") or out == "closed":
            return "gave up on the peer (%s), %d good packets echoed" % (
                out, len(got))
        raise PeerError("neither echoed the good packets (%d back) nor "
                        "disconnected (%s)" % (len(got), out))
    finally:
        cl.close()


def case_desc_past_region(path):
    return bad_desc_case(path, lambda r: (0, 0, 64, r.size + 4096, None))


def case_desc_huge_length(path):
    return bad_desc_case(path, lambda r: (0, 0, 0xFFFFFFF0, r.buf_off, None))


def case_desc_unknown_region(path):
    return bad_desc_case(path, lambda r: (0, 3, 64, 0, None))


def case_desc_offset_wraps(path):
    return bad_desc_case(path, lambda r: (0, 0, 0x200, 0xFFFFFF00, None))


def case_desc_crosses_end(path):
    return bad_desc_case(path, lambda r: (0, 0, 64, r.size - 32, None))


def case_desc_longer_than_buffer(path):
    """64 KiB from a buffer's start: inside the region, so legal for a
    peer that manages its own buffers; sluice may deliver (a chain or a
    big mbuf), drop or disconnect, but must not die."""
    cl = Client(path)
    try:
        cl.handshake()
        r = cl.region
        cl.send_raw([(0, 0, 65535, r.buf_off, None)])
        got = cl.recv(1, 1.5)
        return "%d packet(s) back, lengths %s" % (len(got),
                                                 [len(p) for p in got])
    finally:
        cl.close()


def case_runaway_chain(path):
    """A whole ring of descriptors, every one with NEXT set: a packet that
    never ends. Then close."""
    cl = Client(path)
    try:
        cl.handshake()
        r = cl.region
        cl.send_raw([(DESC_NEXT, 0, 2048, 0, bytes(2048))
                     for _ in range(r.rsize)])
        time.sleep(0.5)
        return "sent %d chained descriptors without an end" % r.rsize
    finally:
        cl.close()


def case_head_beyond_ring(path):
    """C2S head 5000 ahead of tail on a 1024-slot ring."""
    cl = Client(path)
    try:
        cl.handshake()
        r = cl.region
        for s in range(r.rsize):
            off = r.buffer(True, 0, s)
            p = make_packet(s, 64, dport=9999)
            r.mm[off:off + 64] = p
            r.set_desc(cl.c2s, s, 0, 0, 64, off)
        r.set_head(cl.c2s, 5000)
        cl.kick()
        got = cl.recv(r.rsize + 1, 1.5)
        return "head 5000 on 1024 slots: %d packets echoed" % len(got)
    finally:
        cl.close()


def case_disconnect_mid_burst(path):
    """Publish half of a burst, close the socket at once (no DISCONNECT),
    then unmap our side."""
    cl = Client(path)
    try:
        cl.handshake()
        r = cl.region
        pkts = [make_packet(i, 1514, dport=9999) for i in range(64)]
        for i, p in enumerate(pkts):
            off = r.buffer(True, 0, i)
            r.mm[off:off + len(p)] = p
            r.set_desc(cl.c2s, i, 0, 0, len(p), off)
        r.set_head(cl.c2s, 32)
        cl.kick()
        cl.conn.close()
        r.set_head(cl.c2s, 64)
        return "closed with 32 of 64 packets published"
    finally:
        cl.close()


def case_disconnect_msg(path):
    cl = Client(path)
    try:
        cl.handshake()
        cl.conn.send(m_disconnect(1, b"badpeer: going away on purpose"))
        return cl.conn.outcome(2.0)
    finally:
        cl.close()


def case_close_during_handshake(path):
    cl = Client(path)
    try:
        cl.hello()
        cl.build()
        c = cl.conn
        c.send(m_init())
        c.expect(T_ACK)
        c.send(m_add_region(0, cl.region.size), [cl.region.fd])
        c.expect(T_ACK)
        c.close()
        return "closed after ADD_REGION"
    finally:
        cl.close()


def case_region_shrunk(path):
    """A memfd without F_SEAL_SHRINK, truncated to 0 while connected, then
    a packet: sluice must refuse an unsealed region or it dies of SIGBUS
    (any client can then kill the data plane)."""
    cl = Client(path)
    try:
        cl.hello()
        cl.build(seal=False)
        c = cl.conn
        c.send(m_init())
        c.expect(T_ACK)
        c.send(m_add_region(0, cl.region.size), [cl.region.fd])
        out = c.outcome()
        if out != "ACK":
            return out
        out = finish_connect_open(cl)
        if out != "CONNECTED":
            return out
        cl.start_rings()
        cl.region.unmap()  # we must not touch it either after this
        os.ftruncate(cl.region.fd, 0)
        time.sleep(0.5)
        return "accepted an unsealed region, then it was truncated"
    finally:
        cl.close()


def finish_connect_open(cl):
    c = cl.conn
    for c2s, off, efd in ((True, cl.c2s, cl.efd[0]),
                          (False, cl.s2c, cl.efd[1])):
        c.send(m_add_ring(c2s, 0, 0, off, cl.log2), [efd])
        out = c.outcome()
        if out != "ACK":
            return out
    c.send(m_connect())
    return c.outcome()


def case_connection_flood(path):
    conns = []
    try:
        for _ in range(32):
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
                s.setblocking(False)
                s.connect_ex(path)
                conns.append(s)
            except OSError:
                break
        time.sleep(0.5)
        return "%d connections opened and dropped" % len(conns)
    finally:
        for s in conns:
            s.close()


def case_idle_client(path):
    """A client that never answers HELLO must not hold a handshake slot
    forever: expect sluice to give up (a handshake timeout) within 10 s."""
    c = Conn.connect(path)
    c.expect(T_HELLO)
    t0 = time.monotonic()
    out = c.outcome(10.0)
    if out == "timeout":
        raise PeerError("a silent client was kept for 10 s")
    return "%s after %.1f s" % (out, time.monotonic() - t0)


def case_stalled_after_init(path):
    """A client that sends INIT (taking interface id 0) and then nothing:
    while it stalls, a good client is refused; sluice must time it out and
    then serve the good one (checked after the case)."""
    c = Conn.connect(path)
    c.expect(T_HELLO)
    c.send(m_init())
    c.expect(T_ACK)
    time.sleep(0.5)
    ok, why = echo_session(path, 4, seq0=900, timeout=1.0)
    t0 = time.monotonic()
    out = c.outcome(10.0)
    if out == "timeout":
        raise PeerError("a client stalled after INIT held the interface "
                        "for 10 s")
    return "%s after %.1f s more; a good client meanwhile: %s" % (
        out, time.monotonic() - t0, "served" if ok else "refused")


# name, function, must sluice log a reason?
SERVER_CASES = [
    ("msg-short", case_msg_short, True),
    ("msg-long", case_msg_long, True),
    ("bad-version", case_bad_version, True),
    ("wrong-id", case_wrong_id, True),
    ("bad-mode", case_bad_mode, True),
    ("wrong-secret", case_wrong_secret, True),
    ("no-secret", case_no_secret, True),
    ("hello-from-client", case_hello_from_client, True),
    ("region-before-init", case_region_before_init, True),
    ("unknown-type", case_unknown_type, True),
    ("init-twice", case_init_twice, True),
    ("connect-without-regions", case_connect_without_regions, True),
    ("connect-without-rings", case_connect_without_rings, True),
    ("ring-before-region", case_ring_before_region, True),
    ("region-no-fd", case_region_no_fd, True),
    ("ring-no-fd", case_ring_no_fd, True),
    ("fd-on-init", case_fd_on_init, False),
    ("region-index-gap", case_region_index_gap, True),
    ("too-many-regions", case_too_many_regions, True),
    ("region-zero-size", case_region_zero_size, True),
    ("region-huge", case_region_huge, True),
    ("region-larger-than-fd", case_region_larger_than_fd, True),
    ("ring-offset-beyond-region", case_ring_offset_beyond, True),
    ("ring-straddles-region-end", case_ring_straddles_end, True),
    ("ring-log2-too-big", case_ring_log2_too_big, True),
    ("ring-log2-zero", case_ring_log2_zero, True),
    ("ring-index-too-big", case_ring_index_too_big, True),
    ("ring-unknown-region", case_ring_unknown_region, True),
    ("bad-cookie", case_bad_cookie, True),
    ("connect-twice", case_connect_twice, False),
    ("second-client", case_second_client, False),
    ("desc-past-region", case_desc_past_region, False),
    ("desc-huge-length", case_desc_huge_length, False),
    ("desc-unknown-region", case_desc_unknown_region, False),
    ("desc-offset-wraps", case_desc_offset_wraps, False),
    ("desc-crosses-region-end", case_desc_crosses_end, False),
    ("desc-longer-than-buffer", case_desc_longer_than_buffer, False),
    ("runaway-chain", case_runaway_chain, False),
    ("head-beyond-ring", case_head_beyond_ring, False),
    ("disconnect-mid-burst", case_disconnect_mid_burst, False),
    ("disconnect-msg", case_disconnect_msg, False),
    ("close-during-handshake", case_close_during_handshake, False),
    ("idle-client", case_idle_client, True),
    ("stalled-after-init", case_stalled_after_init, True),
    ("connection-flood", case_connection_flood, False),
    ("region-shrunk-under-sluice", case_region_shrunk, False),
]


# ---- sluice as client: this script is the server -----------------------------

class Server:
    def __init__(self, path):
        self.path = path
        self.lsock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.lsock.bind(path)
        self.lsock.listen(1)

    def accept(self, timeout):
        r, _, _ = select.select([self.lsock], [], [], timeout)
        if not r:
            return None
        s, _ = self.lsock.accept()
        s.settimeout(5.0)
        return Conn(s)

    def close(self):
        self.lsock.close()
        try:
            os.unlink(self.path)
        except OSError:
            pass


class ServerSession:
    """The server side of a correct session: answer the client's handshake,
    then move packets: S2C from us, C2S to us."""

    def __init__(self, conn):
        self.conn = conn
        self.regions = {}
        self.rings = {}
        self.fds = []
        self.mms = {}

    def handshake(self, hello=None):
        """Answer a client's handshake; checks that it keeps within the
        limits our HELLO announced."""
        c = self.conn
        hello = hello or m_hello()
        lim = parse(hello)[1]
        c.send(hello)
        while True:
            t, f, fds = c.recv(5.0)
            self.fds += fds
            if t == T_INIT:
                if f["version"] != VERSION:
                    raise PeerError("client sent version %#x" % f["version"])
                c.send(msg(T_ACK))
            elif t == T_ADD_REGION:
                if not fds:
                    raise PeerError("client sent ADD_REGION without an fd")
                if f["index"] > lim["max_region"]:
                    raise PeerError("client added region %d, HELLO allowed "
                                    "up to %d" % (f["index"],
                                                  lim["max_region"]))
                self.regions[f["index"]] = (fds[0], f["rsize"])
                c.send(msg(T_ACK))
            elif t == T_ADD_RING:
                c2s = bool(f["flags"] & RING_C2S)
                mx = lim["max_c2s"] if c2s else lim["max_s2c"]
                if f["log2"] > lim["max_log2"] or f["index"] > mx:
                    raise PeerError("client added ring %d of 2^%d slots, "
                                    "HELLO allowed index <= %d, 2^%d" % (
                                        f["index"], f["log2"], mx,
                                        lim["max_log2"]))
                self.rings[(c2s, f["index"])] = f
                c.send(msg(T_ACK))
            elif t == T_CONNECT:
                break
            else:
                raise PeerError("client sent %s during the handshake"
                                % TYPE_NAMES.get(t, t))
        for idx, (fd, size) in self.regions.items():
            st = os.fstat(fd)
            if st.st_size < size:
                raise PeerError("client's region %d is %d bytes, announced %d"
                                % (idx, st.st_size, size))
            self.mms[idx] = mmap.mmap(fd, size, mmap.MAP_SHARED,
                                      mmap.PROT_READ | mmap.PROT_WRITE)
        if (True, 0) not in self.rings or (False, 0) not in self.rings:
            raise PeerError("client did not add both rings of queue 0")
        c2s, s2c = self.rings[(True, 0)], self.rings[(False, 0)]
        if c2s["region"] != s2c["region"]:
            raise PeerError("this peer wants both rings in one region")
        self.mm = self.mms[c2s["region"]]
        self.mv16 = memoryview(self.mm).cast("H")
        for rf in (c2s, s2c):
            if struct.unpack_from("<I", self.mm, rf["offset"])[0] != COOKIE:
                raise PeerError("client's ring has a bad cookie")
        self.c2s, self.s2c = c2s["offset"], s2c["offset"]
        self.rsize = 1 << c2s["log2"]
        for ring in (self.c2s, self.s2c):
            self.mv16[(ring + 6) >> 1] = 0
            self.mv16[(ring + 64) >> 1] = 0
        self.c2s_last = 0
        c.send(m_connected())

    def _ring(self, ring, off):
        return self.mv16[(ring + off) >> 1]

    def send(self, pkts, timeout=5.0):
        """Into S2C slots the client gave us ([tail, head)), one buffer per
        packet (packets fit in a buffer here)."""
        deadline = time.monotonic() + timeout
        i = 0
        while i < len(pkts) and time.monotonic() < deadline:
            head = self._ring(self.s2c, 6)
            tail = self._ring(self.s2c, 64)
            free = (head - tail) & 0xFFFF
            if free == 0:
                time.sleep(0.0005)
                continue
            n = min(free, len(pkts) - i)
            for k in range(n):
                slot = (tail + k) & (self.rsize - 1)
                d = self.s2c + RING_HDR + slot * DESC_SIZE
                fl, reg, length, off = struct.unpack_from("<HHII", self.mm, d)
                p = pkts[i + k]
                mm = self.mms.get(reg)
                if mm is None or off + len(p) > len(mm) or len(p) > length:
                    raise PeerError("client gave a bad S2C buffer")
                mm[off:off + len(p)] = p
                struct.pack_into("<H", self.mm, d, 0)          # flags
                struct.pack_into("<I", self.mm, d + 4, len(p))  # length
            self.mv16[(self.s2c + 64) >> 1] = (tail + n) & 0xFFFF
            i += n
        return i

    def recv(self, want, timeout=5.0):
        out, cur = [], b""
        deadline = time.monotonic() + timeout
        while len(out) < want and time.monotonic() < deadline:
            head = self._ring(self.c2s, 6)
            if head == self.c2s_last & 0xFFFF:
                time.sleep(0.0005)
                continue
            while self.c2s_last & 0xFFFF != head:
                slot = self.c2s_last & (self.rsize - 1)
                d = self.c2s + RING_HDR + slot * DESC_SIZE
                fl, reg, length, off = struct.unpack_from("<HHII", self.mm, d)
                mm = self.mms.get(reg)
                if mm is None or off + length > len(mm):
                    raise PeerError("sluice wrote a bad C2S descriptor")
                cur += bytes(mm[off:off + length])
                if not fl & DESC_NEXT:
                    out.append(cur)
                    cur = b""
                self.c2s_last += 1
            self.mv16[(self.c2s + 64) >> 1] = self.c2s_last & 0xFFFF
        return out

    def close(self):
        self.conn.close()
        if getattr(self, "mv16", None) is not None:
            self.mv16.release()
            self.mv16 = None
        for mm in self.mms.values():
            mm.close()
        self.mms = {}
        for fd in self.fds:
            try:
                os.close(fd)
            except OSError:
                pass


def serve_echo_check(srv, n, timeout, hello=None):
    """Accept sluice's next connection, do a correct handshake, send n
    packets and expect them back. (ok, message)."""
    conn = srv.accept(timeout)
    if conn is None:
        return False, "sluice did not connect within %.0f s" % timeout
    s = ServerSession(conn)
    try:
        s.handshake(hello)
        pkts = [make_packet(i, 64) for i in range(n)]
        got = []
        i = 0
        deadline = time.monotonic() + 10
        while len(got) < n and time.monotonic() < deadline:
            if i < n:
                i += s.send(pkts[i:i + 32], 1.0)
            got += s.recv(1, 0.05)
        good = sorted(x for x in map(check_packet, got) if x is not None)
        if good != list(range(n)):
            return False, ("%d of %d came back intact (%d sent; S2C head %d "
                           "tail %d, C2S head %d tail %d)" % (
                               len(good), n, i, s._ring(s.s2c, 6),
                               s._ring(s.s2c, 64), s._ring(s.c2s, 6),
                               s._ring(s.c2s, 64)))
        return True, "%d/%d back intact" % (n, n)
    except (PeerError, OSError) as e:
        return False, "well-behaved session failed: %s" % e
    finally:
        s.close()


def ccase_hello_limits(conn):
    """A server that allows rings of 2^8 slots only: the client must use at
    most that (checked in the handshake), and traffic must then cross the
    smaller rings (600 packets: the 256-slot rings wrap twice)."""
    s = ServerSession(conn)
    try:
        s.handshake(m_hello(max_log2=8))
        if s.rsize > 256:
            raise PeerError("client used %d-slot rings" % s.rsize)
        pkts = [make_packet(i, 64) for i in range(600)]
        got, i = [], 0
        deadline = time.monotonic() + 10
        while len(got) < 600 and time.monotonic() < deadline:
            if i < 600:
                i += s.send(pkts[i:i + 32], 1.0)
            got += s.recv(1, 0.05)
        good = sorted(x for x in map(check_packet, got) if x is not None)
        if good != list(range(600)):
            raise PeerError("%d of 600 back over %d-slot rings" % (
                len(good), s.rsize))
        return "used %d-slot rings, 600/600 back" % s.rsize
    finally:
        s.close()


def ccase_hello_short(conn):
    conn.send(m_hello()[:100])
    return expect_refusal(conn, "a 100-byte HELLO")


def ccase_hello_version(conn):
    conn.send(m_hello(minv=0x0100, maxv=0x0101))
    return expect_refusal(conn, "a HELLO offering only 1.0-1.1")


def ccase_hello_no_rings(conn):
    """max_log2 0 and max ring index 0: legal but useless; sluice may
    connect with 1-slot rings or refuse. It must not crash."""
    conn.send(m_hello(max_log2=0))
    t, f, fds = conn.recv(2.0)
    for fd in fds:
        os.close(fd)
    return "answered %s" % TYPE_NAMES.get(t, t)


def ccase_connected_first(conn):
    conn.send(m_connected())
    return expect_refusal(conn, "CONNECTED before HELLO")


def ccase_unknown_type(conn):
    conn.send(m_hello())
    t, f, fds = conn.recv(3.0)
    for fd in fds:
        os.close(fd)
    conn.send(msg(99))
    return expect_refusal(conn, "message type 99")


def ccase_ack_with_fd(conn):
    """Answer INIT with an ACK that carries an fd; the client must close it
    (leak check at the end), then a DISCONNECT."""
    conn.send(m_hello())
    t, f, fds = conn.recv(3.0)
    for fd in fds:
        os.close(fd)
    efd = os.eventfd(0)
    try:
        conn.send(msg(T_ACK), [efd])
    finally:
        os.close(efd)
    conn.recv(1.0)
    conn.send(m_disconnect(2, b"badpeer server: goodbye"))
    return "ACK with an fd, then DISCONNECT"


def ccase_disconnect(conn):
    conn.send(m_disconnect(7, b"badpeer server: refusing you"))
    return "sent DISCONNECT"


def ccase_silent_close(conn):
    conn.close()
    return "closed without HELLO"


def serve_handshake(conn):
    """A correct handshake as server; the session, once the client has
    taken CONNECTED in (it then resets the rings and hands S2C slots
    over: an attack before that would be wiped out)."""
    s = ServerSession(conn)
    s.handshake()
    if not wait_until(lambda: s._ring(s.s2c, 6) != 0, 3.0):
        raise PeerError("the client never handed S2C buffers over")
    return s


def wait_until(cond, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.005)
    return cond()


def client_fault_case(conn, what, attack):
    """Connect correctly, then attack(session); sluice must fault and
    disconnect (or at least not deliver anything bad)."""
    s = serve_handshake(conn)
    try:
        attack(s)
        out = conn.outcome(3.0)
        if out == "timeout":
            raise PeerError("%s: sluice neither refused it nor disconnected"
                            % what)
        return out
    finally:
        s.close()


def ccase_tail_beyond_head(conn):
    """S2C tail moved past the slots the client handed out."""
    def attack(s):
        head = s._ring(s.s2c, 6)
        s.mv16[(s.s2c + 64) >> 1] = (head + 100) & 0xFFFF
    return client_fault_case(conn, "S2C tail beyond head", attack)


def ccase_length_too_big(conn):
    """A packet whose length is larger than the buffer the client gave
    (still inside the client's region). Refusing it is right; reading it is
    memory-safe (the client's own shared region) but takes in the
    neighbouring buffers: reported, not failed."""
    s = serve_handshake(conn)
    try:
        slot = s._ring(s.s2c, 64) & (s.rsize - 1)
        d = s.s2c + RING_HDR + slot * DESC_SIZE
        struct.pack_into("<I", s.mm, d + 4, 60000)
        s.mv16[(s.s2c + 64) >> 1] = (s._ring(s.s2c, 64) + 1) & 0xFFFF
        out = conn.outcome(1.5)
        if out == "timeout":
            back = s.recv(1, 1.0)
            return ("NOTE: accepted a 60000-byte S2C packet in a 2048-byte "
                    "buffer (%s back)" % [len(p) for p in back])
        return out
    finally:
        s.close()


def ccase_offset_rewritten(conn):
    """The server rewrites an S2C descriptor's offset past the region: a
    client must use its own buffer (or refuse), never that address."""
    def attack(s):
        slot = s._ring(s.s2c, 64) & (s.rsize - 1)
        d = s.s2c + RING_HDR + slot * DESC_SIZE
        struct.pack_into("<HHII", s.mm, d, 0, 0, 64, len(s.mm) + 8192)
        s.mv16[(s.s2c + 64) >> 1] = (s._ring(s.s2c, 64) + 1) & 0xFFFF
    s = serve_handshake(conn)
    try:
        attack(s)
        out = conn.outcome(1.5)
        return "%s (sluice alive)" % out
    finally:
        s.close()


def ccase_c2s_tail_beyond_head(conn):
    """C2S tail acknowledging more than the client sent."""
    def attack(s):
        pkts = [make_packet(i, 64) for i in range(4)]
        s.send(pkts, 1.0)  # sluice echoes: C2S gets busy
        time.sleep(0.2)
        s.mv16[(s.c2s + 64) >> 1] = (s._ring(s.c2s, 6) + 2000) & 0xFFFF
        # sluice reads the consumer's tail again only when the room it saw
        # last is used up (a stale tail only ever under-states the room):
        # make it transmit more than a ring's worth so it reads the bad one
        for b in range(6):
            try:
                s.send([make_packet(10 + 256 * b + i, 64)
                        for i in range(256)], 1.0)
            except (PeerError, OSError):
                break  # sluice already cut the connection
            time.sleep(0.05)
    return client_fault_case(conn, "C2S tail beyond head", attack)


CLIENT_CASES = [
    ("hello-limits", ccase_hello_limits, False),
    ("hello-short", ccase_hello_short, True),
    ("hello-version", ccase_hello_version, True),
    ("hello-max-log2-0", ccase_hello_no_rings, False),
    ("connected-first", ccase_connected_first, True),
    ("unknown-type", ccase_unknown_type, True),
    ("ack-with-fd", ccase_ack_with_fd, False),
    ("disconnect", ccase_disconnect, True),
    ("silent-close", ccase_silent_close, False),
    ("s2c-tail-beyond-head", ccase_tail_beyond_head, True),
    ("s2c-length-too-big", ccase_length_too_big, False),
    ("s2c-offset-rewritten", ccase_offset_rewritten, False),
    ("c2s-tail-beyond-head", ccase_c2s_tail_beyond_head, True),
]


# ---- driver --------------------------------------------------------------------

class Report:
    def __init__(self, verbose):
        self.passed = self.failed = 0
        self.failures = []
        self.verbose = verbose

    def ok(self, name, detail):
        self.passed += 1
        print("ok - %s: %s" % (name, detail))

    def fail(self, name, detail):
        self.failed += 1
        self.failures.append(name)
        print("not ok - %s: %s" % (name, detail))


def first_line(text):
    lines = [l for l in text.splitlines() if l.strip()]
    return lines[0][:160] if lines else ""


def short_log(text):
    """The log lines of a case without timestamps and socket labels."""
    out = []
    for l in text.splitlines():
        l = re.sub(r"^\d\d:\d\d:\d\d\.\d+ \w+ ", "", l.strip())
        l = re.sub(r"memif (server|client) id=\d+ socket=\S+: ", "", l)
        l = re.sub(r"/\S+\.sock: ", "", l)
        if l:
            out.append(l)
    return " | ".join(out)[:240]


def run_server_group(args, tmp, rep):
    sock = os.path.join(tmp, "srv.sock")
    sl = Sluice(args.slpkt, tmp, "server", sock,
                ",secret=" + SECRET.decode())
    try:
        deadline = time.monotonic() + 10
        while not os.path.exists(sock) and sl.alive() and \
                time.monotonic() < deadline:
            time.sleep(0.05)
        if not os.path.exists(sock):
            rep.fail("server-start", "sluice did not listen on %s (%s): %s"
                     % (sock, sl.status(), sl.new_log(0.1)))
            return
        ok, why = echo_session(sock, 8)
        if not ok:
            rep.fail("server-baseline", why + "; log: " + sl.new_log(0.2))
            return
        sl.new_log(0.2)
        base_fds, base_maps = sl.fds(), sl.memfd_maps()
        seq = 0
        for name, fn, must_log in SERVER_CASES:
            if args.only and not re.search(args.only, name):
                continue
            full = "server/" + name
            try:
                what = fn(sock)
                err = None
            except PeerError as e:
                what, err = None, str(e)
            except OSError as e:
                what, err = "connection error: %s" % e, None
            close_all()
            time.sleep(0.1)
            log = sl.new_log(1.0 if must_log else 0.3)
            if args.verbose and log:
                print("    log: " + log.replace("\n", "\n    log: "))
            if not sl.alive():
                rep.fail(full, "sluice died (%s); log: %s" % (sl.status(),
                                                              first_line(log)))
                return
            if err:
                rep.fail(full, err + ("; log: " + short_log(log) if log
                                      else ""))
                sl.new_log(0.3)
                continue
            if must_log and not log:
                rep.fail(full, "refused (%s) but logged no reason" % what)
                continue
            seq += 100
            ok, why = echo_session(sock, 8, seq0=seq)
            after = sl.new_log(0.3)  # the good session's own lines
            if not ok:
                rep.fail(full, "%s; then a good client: %s; log: %s" % (
                    what, why, short_log(after)))
                continue
            rep.ok(full, "%s%s; recovered" % (
                what, ("; log: " + short_log(log)) if log else ""))
        sl.new_log(0.3)
        ok, why = echo_session(sock, 2000, seq0=1 << 20, timeout=30)
        if ok:
            rep.ok("server/final-session", why)
        else:
            rep.fail("server/final-session", why)
        time.sleep(0.3)
        fds, maps = sl.fds(), sl.memfd_maps()
        if fds != base_fds or maps != base_maps:
            rep.fail("server/no-leak", "fds %d -> %d, memfd mappings %d -> %d"
                     % (base_fds, fds, base_maps, maps))
        else:
            rep.ok("server/no-leak", "fds %d, memfd mappings %d" % (fds, maps))
    finally:
        out = sl.stop()
        if args.verbose:
            print("    sluice summary: " + out)
    sl.check_exit(rep, "server")


def run_client_group(args, tmp, rep):
    sock = os.path.join(tmp, "cli.sock")
    srv = Server(sock)
    sl = Sluice(args.slpkt, tmp, "client", sock)
    try:
        ok, why = serve_echo_check(srv, 8, 15)
        if not ok:
            rep.fail("client-baseline", why + "; log: " + sl.new_log(0.3))
            return
        sl.new_log(0.5)
        base_fds = sl.fds()
        for name, fn, must_log in CLIENT_CASES:
            if args.only and not re.search(args.only, name):
                continue
            full = "client/" + name
            conn = srv.accept(15)
            if conn is None:
                rep.fail(full, "sluice did not reconnect within 15 s (%s)"
                         % sl.status())
                return
            try:
                what, err = fn(conn), None
            except PeerError as e:
                what, err = None, str(e)
            except OSError as e:
                what, err = "connection error: %s" % e, None
            finally:
                conn.close()
            log = sl.new_log(1.0 if must_log else 0.3)
            if args.verbose and log:
                print("    log: " + log.replace("\n", "\n    log: "))
            if not sl.alive():
                rep.fail(full, "sluice died (%s); log: %s" % (sl.status(),
                                                              first_line(log)))
                return
            if err:
                rep.fail(full, err + ("; log: " + short_log(log) if log
                                      else ""))
                sl.new_log(0.3)
                continue
            if must_log and not log:
                rep.fail(full, "refused (%s) but logged no reason" % what)
                continue
            ok, why = serve_echo_check(srv, 8, 15)
            after = sl.new_log(0.3)
            if not ok:
                rep.fail(full, "%s; then a good server: %s; log: %s" % (
                    what, why, short_log(after)))
                continue
            rep.ok(full, "%s%s; reconnected" % (
                what, ("; log: " + short_log(log)) if log else ""))
        ok, why = serve_echo_check(srv, 2000, 15)
        if ok:
            rep.ok("client/final-session", why)
        else:
            rep.fail("client/final-session", why)
        time.sleep(0.3)
        fds = sl.fds()
        # the client holds its own region and eventfds between sessions:
        # compare at the same point (connected) of a session
        if fds > base_fds + 1:
            rep.fail("client/no-leak", "fds %d -> %d" % (base_fds, fds))
        else:
            rep.ok("client/no-leak", "fds %d -> %d" % (base_fds, fds))
    finally:
        out = sl.stop()
        srv.close()
        if args.verbose:
            print("    sluice summary: " + out)
    sl.check_exit(rep, "client")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--slpkt")
    ap.add_argument("--only", help="run only the cases matching this regex")
    ap.add_argument("--group", choices=["server", "client", "all"],
                    default="all")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the logs")
    args = ap.parse_args()
    args.slpkt = args.slpkt or os.path.join(args.build, "tests/tools/sl-pkt")
    if not os.access(args.slpkt, os.X_OK):
        print("FAIL: %s not built" % args.slpkt)
        return 1
    backends = subprocess.run([args.slpkt, "--list-backends"],
                              capture_output=True, text=True).stdout
    if not re.search(r"^net_memif\b", backends, re.M):
        print("SKIP: sluice was built without the net_memif backend")
        return 77
    tmp = tempfile.mkdtemp(prefix="sl-badpeer.")
    rep = Report(args.verbose)
    try:
        if args.group in ("server", "all"):
            run_server_group(args, tmp, rep)
        if args.group in ("client", "all"):
            run_client_group(args, tmp, rep)
    finally:
        if args.keep or rep.failed:
            print("logs in " + tmp)
        else:
            for f in os.listdir(tmp):
                os.unlink(os.path.join(tmp, f))
            os.rmdir(tmp)
    print("memif badpeer: %d passed, %d failed" % (rep.passed, rep.failed))
    if rep.failed:
        print("  failed: " + ", ".join(rep.failures))
    return 1 if rep.failed else 0


if __name__ == "__main__":
    sys.exit(main())
