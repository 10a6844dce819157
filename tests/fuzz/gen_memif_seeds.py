#!/usr/bin/env python3
"""Write the seed inputs of fuzz_memif_msg into corpus/memif/.

Input format (see fuzz_memif_msg.c): byte 0 = role/settings, then records
of [control byte][128-byte message]; control bit 0 attaches an fd.
Run from this directory; the seeds are committed, this only regenerates.
"""
import os
import struct

HELLO, INIT, REGION, RING, CONNECT, CONNECTED, DISC, ACK = 2, 3, 4, 5, 6, 7, 8, 1
V = 0x0200
RING_SIZE = lambda log2: 128 + 16 * (1 << log2)


def msg(t, body=b""):
    m = struct.pack("<H", t) + body
    return m + b"\0" * (128 - len(m))


def rec(m, fd=False, short=None):
    ctl = (1 if fd else 0) | ((2 | (short << 2)) if short is not None else 0)
    return bytes([ctl]) + m


def init(secret=b"", ver=V, ident=0, mode=0):
    s = secret.ljust(24, b"\0")
    return msg(INIT, struct.pack("<HIB", ver, ident, mode) + s + b"peer".ljust(32, b"\0"))


def region(idx, size):
    return msg(REGION, struct.pack("<HQ", idx, size))


def ring(c2s, idx, reg, off, log2):
    return msg(RING, struct.pack("<HHHIBH", 1 if c2s else 0, idx, reg, off, log2, 0))


def connect():
    return msg(CONNECT, b"peer0".ljust(32, b"\0"))


def hello(maxc2s=0, maxs2c=0, log2=10, vmin=V, vmax=V):
    return msg(HELLO, b"srv".ljust(32, b"\0") + struct.pack("<HHHHHB", vmin, vmax, 255, maxs2c, maxc2s, log2))


def server_ok(nq, log2=4, secret=b""):
    out = [rec(init(secret)), rec(region(0, 65536), fd=True)]
    rs = RING_SIZE(log2)
    for i in range(nq):
        out.append(rec(ring(True, i, 0, i * rs, log2), fd=True))
    for i in range(nq):
        out.append(rec(ring(False, i, 0, (nq + i) * rs, log2), fd=True))
    out.append(rec(connect()))
    return b"".join(out)


seeds = {
    "server_ok": b"\x00" + server_ok(1),
    "server_2q": b"\x10" + server_ok(2),
    "server_secret": b"\x04" + server_ok(1, secret=b"fuzz"),
    "server_bad_secret": b"\x04" + server_ok(1, secret=b"nope"),
    "server_short": b"\x00" + rec(init(), short=60),
    "server_bad_version": b"\x00" + rec(init(ver=0x0100)),
    "server_ring_outside": b"\x00" + rec(init()) + rec(region(0, 4096), fd=True)
    + rec(ring(True, 0, 0, 4000, 4), fd=True) + rec(ring(False, 0, 0, 0, 4), fd=True)
    + rec(connect()),
    "server_disconnect": b"\x00" + rec(init()) + rec(msg(DISC, struct.pack("<I", 7) + b"bye")),
    "client_ok": b"\x01" + rec(hello()) + rec(msg(ACK)) * 4 + rec(msg(CONNECTED, b"srv0")),
    "client_2q": b"\x11" + rec(hello(1, 1)) + rec(msg(ACK)) * 6 + rec(msg(CONNECTED, b"srv0")),
    "client_bad_version": b"\x01" + rec(hello(vmin=0x0300, vmax=0x0300)),
    "client_early_connected": b"\x01" + rec(hello()) + rec(msg(CONNECTED)),
}

os.makedirs("corpus/memif", exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join("corpus/memif", name), "wb") as f:
        f.write(data)
print(" ".join(sorted(seeds)))
