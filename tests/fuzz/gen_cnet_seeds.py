#!/usr/bin/env python3
"""Write the seed inputs of fuzz_cnet_ip4 into corpus/cnet_ip4/.

Input format (see fuzz_cnet_ip4.c): one control byte (bits 0-1 input lport,
bit 2 keep the destination MAC, bit 3 no ICMP tokens, bit 4 held packets
expire), then one Ethernet frame. The addresses are those of the target's
tables: r0 198.18.1.1/24 (neighbour .2), r1 198.18.2.1/24 MTU 1000
(neighbour .2), blackhole 198.18.4/24, unreachable 198.18.5/24, gateway
198.18.9.9 unresolved. Run from this directory; the seeds are committed,
this only regenerates.
"""
import os
import struct

R0 = bytes([2, 0, 0, 0, 0, 0x10])
C1 = bytes([2, 0, 0, 0, 0, 0x01])
BCAST = b"\xff" * 6


def ip(a):
    return bytes(int(x) for x in a.split("."))


def cksum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ip4(dst, payload, proto=17, ttl=64, src="198.18.1.2", df=False,
        options=b"", tot=None, ihl=None, bad_cksum=False):
    hl = 20 + len(options)
    ver_ihl = 0x40 | (ihl if ihl is not None else hl // 4)
    tot = hl + len(payload) if tot is None else tot
    h = struct.pack("!BBHHHBBH4s4s", ver_ihl, 0, tot, 0x1234,
                    0x4000 if df else 0, ttl, proto, 0, ip(src), ip(dst))
    h += options
    ck = cksum(h)
    if bad_cksum:
        ck ^= 0x5555
    return h[:10] + struct.pack("!H", ck) + h[12:] + payload


def udp(n=8):
    return struct.pack("!HHHH", 4000, 53, 8 + n, 0) + bytes(i & 0xFF for i in range(n))


def echo():
    b = struct.pack("!BBHHH", 8, 0, 0, 1, 1) + b"ping"
    return b[:2] + struct.pack("!H", cksum(b)) + b[4:]


def eth(payload, dst=R0, etype=0x0800):
    return dst + C1 + struct.pack("!H", etype) + payload


def arp():
    return struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, C1,
                       ip("198.18.1.2"), b"\0" * 6, ip("198.18.1.1"))


seeds = {
    "udp_routed": (0, eth(ip4("198.18.2.2", udp()))),
    "gateway_udp": (0, eth(ip4("198.18.3.7", udp(32)))),
    "local_icmp": (0, eth(ip4("198.18.1.1", echo(), proto=1))),
    "ttl1": (0, eth(ip4("198.18.2.2", udp(), ttl=1))),
    "ratelimit": (8, eth(ip4("198.18.2.2", udp(), ttl=1))),
    "bad_cksum": (0, eth(ip4("198.18.2.2", udp(), bad_cksum=True))),
    "bad_ihl": (0, eth(ip4("198.18.2.2", udp(), ihl=4))),
    "truncated": (0, eth(ip4("198.18.2.2", udp())[:12])),
    "tot_len_long": (0, eth(ip4("198.18.2.2", udp(), tot=200))),
    "options": (0, eth(ip4("198.18.2.2", udp(), options=b"\x01\x01\x01\x00"))),
    "arp": (4, eth(arp(), dst=BCAST, etype=0x0806)),
    "non_ip": (0, eth(b"\x60" + b"\0" * 39, etype=0x86DD)),
    "other_host": (4, eth(ip4("198.18.2.2", udp()), dst=bytes([2, 0, 0, 0, 0, 0x77]))),
    "blackhole": (0, eth(ip4("198.18.4.1", udp()))),
    "unreachable": (0, eth(ip4("198.18.5.1", echo(), proto=1))),
    "no_route": (0, eth(ip4("192.0.2.1", udp()))),
    "frag_needed": (0, eth(ip4("198.18.2.2", udp(1100), df=True))),
    "unresolved": (0, eth(ip4("198.18.2.77", udp()))),
    "unresolved_expire": (16, eth(ip4("198.18.9.5", udp()))),
}

os.makedirs("corpus/cnet_ip4", exist_ok=True)
for name, (ctl, frame) in seeds.items():
    with open(os.path.join("corpus/cnet_ip4", name), "wb") as f:
        f.write(bytes([ctl]) + frame)
print(" ".join(sorted(seeds)))
