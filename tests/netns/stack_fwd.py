#!/usr/bin/env python3
"""sluice-stack forwarding between two namespaces (root).

  c1 (198.18.1.2) -- [r0 198.18.1.1  r  198.18.2.1 r1] -- c2 (198.18.2.2,
                                                          198.18.3.1 on lo)

r has kernel forwarding off; sluice-stack runs on r0/r1 (net_af_xdp,
steer=rules, a transit rule added by the app), so c1 reaches c2 only
through sluice. Checks: ping c1 -> c2 and the node counters; the router's
own addresses answer (kernel); a route added in r forwards within 100 ms
and stops after its deletion; TTL 1 gets time exceeded from 198.18.1.1;
malformed headers are dropped and counted by reason; after a neighbour
flush the first packet is held until the kernel resolved the neighbour
and then delivered; an unreachable route and a DF packet over the MTU get
their ICMP errors, a non-DF one is dropped and counted.

The hybrid paths: a UDP echo channel on 198.18.1.1:7 answers from sluice
while the kernel keeps answering ARP and ping for the same address; a
datagram steered to sluice for a port with no channel (9001) is punted
through the TAP device to a kernel socket, which answers; r1 down stops
forwarding and r1 up brings it back by itself; with ARP steered to
sluice, the kernel's ARP answers go out through kernel_recv; stopping
sluice removes the punt devices.

Usage: stack_fwd.py SLUICE_STACK native|skb. Exit 77 when not root or
net_af_xdp is missing.
"""
import shutil
import os
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "scripts"))
import slnet  # noqa: E402

STACK = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else ""
MODE = sys.argv[2] if len(sys.argv) > 2 else "native"


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def skip(msg):
    print("SKIP: " + msg, file=sys.stderr)
    sys.exit(77)


if os.geteuid() != 0:
    skip("needs root")
if os.environ.get("SLT_AF_XDP_MISSING"):
    skip("net_af_xdp not built: " + os.environ["SLT_AF_XDP_MISSING"])
if MODE not in ("native", "skb"):
    fail("mode must be native or skb")

topo = slnet.Topo("slst-%d" % os.getpid())
TMP = tempfile.mkdtemp(prefix="slst-")
MAC_C1, MAC_R0, MAC_R1, MAC_C2 = (slnet.mac(i) for i in (1, 2, 3, 4))

# A UDP server run in a namespace: ADDR PORT SECONDS MODE; MODE "log"
# prints the monotonic arrival time of each datagram (after a "ready"
# line), the receiver of the route-timing probes; "echo" sends each back
# to its sender, the kernel's echo behind the punt device.
UDP_SERVER = r"""
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
s.settimeout(0.2)
print("ready", flush=True)
end = time.monotonic() + float(sys.argv[3])
while time.monotonic() < end:
    try:
        data, src = s.recvfrom(2048)
    except socket.timeout:
        continue
    if sys.argv[4] == "echo":
        s.sendto(data, src)
    else:
        print("rx %.6f" % time.monotonic(), flush=True)
"""

# The prober, run in c1: one datagram every 2 ms for the given seconds.
PROBER = r"""
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
end = time.monotonic() + float(sys.argv[1])
while time.monotonic() < end:
    try:
        s.sendto(b"probe", ("198.18.3.1", 9999))
    except OSError:
        pass
    time.sleep(0.002)
"""


def setup():
    c1 = topo.add_ns("c1")
    r = topo.add_ns("r", bpffs=True)
    c2 = topo.add_ns("c2")
    topo.veth("c1a", c1, "r0", r, MAC_C1, MAC_R0)
    topo.veth("r1", r, "c2a", c2, MAC_R1, MAC_C2)
    topo.exec(c1, "ip", "addr", "add", "198.18.1.2/24", "dev", "c1a")
    topo.exec(c1, "ip", "route", "add", "default", "via", "198.18.1.1")
    topo.exec(r, "ip", "addr", "add", "198.18.1.1/24", "dev", "r0")
    topo.exec(r, "ip", "addr", "add", "198.18.2.1/24", "dev", "r1")
    topo.exec(r, "sysctl", "-qw", "net.ipv4.ip_forward=0")
    topo.exec(c2, "ip", "addr", "add", "198.18.2.2/24", "dev", "c2a")
    topo.exec(c2, "ip", "addr", "add", "198.18.3.1/32", "dev", "lo")
    topo.exec(c2, "ip", "route", "add", "default", "via", "198.18.2.1")
    # veth leaves checksums to a "device" that never computes them, and
    # XDP hands such frames on as they are: the hosts fill theirs in
    for ns, dev in ((c1, "c1a"), (c2, "c2a")):
        topo.exec(ns, "ethtool", "-K", dev, "tx", "off")
    return c1, r, c2


def stack_config(extra_rules=()):
    lp = {}
    for i, n in enumerate(["r0:0", "r1:0"]):
        lp[n] = {"pmd": "net_af_xdp", "umem": "umem0", "region": i,
                 "mode": MODE, "options": "steer=rules"}
    return {
        "application": {"name": "stack-test"},
        "umems": {"umem0": {"bufcnt": 8, "bufsz": 2, "mtype": "4KB",
                            "regions": [4, 4]}},
        "lports": lp,
        "lcore-groups": {"all": ["0-%d" % (os.cpu_count() - 1)]},
        "threads": {"stack:0": {"group": "all", "lports": ["r0:0", "r1:0"],
                                "idle_timeout": 10}},
        "options": {
            "channels": ["udp4-listen:198.18.1.1:7"],
            "steer-rules": ["udp dst 198.18.1.1 port 9000-9010 xsk"]
            + list(extra_rules),
        },
    }


def start_stack(r, extra_rules=()):
    """sluice-stack in r with the test's configuration (slnet.Stack)."""
    return slnet.Stack(topo, r, STACK, stack_config(extra_rules), TMP,
                       name="r-%d" % len(extra_rules))


# UDP client, run in c1: N datagrams to ADDR PORT, prints the replies
# that came back with the same payload.
UDP_CLIENT = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1.0)
got = 0
for i in range(int(sys.argv[3])):
    msg = b"sluice %d" % i
    s.sendto(msg, (sys.argv[1], int(sys.argv[2])))
    try:
        data, src = s.recvfrom(2048)
        got += data == msg and src == (sys.argv[1], int(sys.argv[2]))
    except socket.timeout:
        pass
print(got)
"""

def udp_exchange(ns, addr, port, n):
    out = topo.exec(ns, "python3", "-c", UDP_CLIENT, addr, str(port),
                    str(n), timeout=60).stdout
    return int(out.strip())


def hybrid_checks(c1, r, st):
    """The echo channel next to the kernel on one address, and punt."""
    before = st.wait_stats()
    n = udp_exchange(c1, "198.18.1.1", 7, 20)
    after = st.wait_stats()
    ch = after["channels"]["udp4-listen:198.18.1.1:7"]
    rx = ch["rx"] - before["channels"]["udp4-listen:198.18.1.1:7"]["rx"]
    print("UDP echo channel on 198.18.1.1:7: %d/20 echoed; channel rx %d, "
          "chnl_recv +%d, udp_output +%d" %
          (n, rx, after["nodes"]["chnl_recv"] - before["nodes"]["chnl_recv"],
           after["nodes"]["udp_output"] - before["nodes"]["udp_output"]))
    if n != 20 or rx < 20:
        fail("UDP echo through the channel: %d/20 (channel %s)" % (n, ch))
    # the same address still answers ARP and ping from the kernel
    topo.exec(c1, "ip", "neigh", "flush", "dev", "c1a")
    if replies(ping(c1, "198.18.1.1", count=2)) != 2:
        fail("198.18.1.1: ARP and ping (kernel) fail next to the channel")
    print("198.18.1.1 answers ARP and ping from the kernel meanwhile")

    # port 9001 is steered to sluice but has no channel: punted to the
    # kernel's socket through the TAP device
    echo = topo.popen(r, ["python3", "-c", UDP_SERVER, "198.18.1.1", "9001",
                          "8", "echo"],
                      stdout=subprocess.PIPE, text=True)
    if echo.stdout.readline().strip() != "ready":
        fail("kernel echo did not start")
    before = st.wait_stats()
    n = udp_exchange(c1, "198.18.1.1", 9001, 10)
    after = st.wait_stats()
    punted = after["nodes"]["punt"] - before["nodes"]["punt"]
    lost = after["drops"]["punt"] - before["drops"]["punt"]
    print("UDP to 198.18.1.1:9001 (no channel): %d/10 answered by the "
          "kernel, %d punted through the TAP device, %d dropped" %
          (n, punted, lost))
    if n != 10 or punted < 10 or lost != 0:
        fail("punt to the kernel socket: %d/10 answered, punt +%d, "
             "drops %s" % (n, punted, after["drops"]))
    echo.wait(timeout=20)


def link_flap(c1, r, st):
    """r1 down: no forwarding; r1 up: forwarding resumes by itself."""
    topo.exec(r, "ip", "link", "set", "r1", "down")
    time.sleep(0.3)
    before = st.wait_stats()
    n = replies(ping(c1, "198.18.2.2", count=2))
    after = st.wait_stats()
    if n != 0:
        fail("c2 reachable with r1 down")
    print("r1 down: c2 unreachable (icmp4 +%d: the kernel removed the "
          "connected route; drops %s)" %
          (after["nodes"]["icmp4"] - before["nodes"]["icmp4"],
           {k: after["drops"][k] - before["drops"][k]
            for k in after["drops"]
            if after["drops"][k] != before["drops"][k]}))
    topo.exec(r, "ip", "link", "set", "r1", "up")
    t0 = time.monotonic()
    while time.monotonic() - t0 < 10:
        if replies(ping(c1, "198.18.2.2", count=1)) == 1:
            break
    else:
        fail("forwarding did not resume within 10 s of r1 up")
    print("r1 up: forwarding resumed after %.1f s" % (time.monotonic() - t0))


def arp_through_punt(c1, r):
    """ARP steered to sluice: requests are punted to the kernel, whose
    answers leave through kernel_recv and the lport."""
    st = start_stack(r, extra_rules=["arp xsk"])
    st.wait_stats(timeout=20)
    # the kernel learns c1 from the punted request on the TAP device,
    # not on r0: give r0 the entry its answer to the ping needs
    topo.exec(r, "ip", "neigh", "replace", "198.18.1.2", "lladdr", MAC_C1,
              "nud", "permanent", "dev", "r0")
    topo.exec(c1, "ip", "neigh", "flush", "dev", "c1a")
    before = st.wait_stats()
    n = replies(ping(c1, "198.18.1.1", count=2))
    after = st.wait_stats()
    krecv = after["nodes"]["kernel_recv"] - before["nodes"]["kernel_recv"]
    punted = after["nodes"]["punt"] - before["nodes"]["punt"]
    print("ARP steered to sluice: ping 198.18.1.1 %d/2, punted %d, "
          "kernel_recv %d" % (n, punted, krecv))
    if n != 2 or krecv < 1 or punted < 1:
        fail("ARP through punt and kernel_recv: %d/2 replies, punt +%d, "
             "kernel_recv +%d" % (n, punted, krecv))
    tap = "slp%d" % int(topo.exec(r, "cat", "/sys/class/net/r0/ifindex")
                        .stdout)
    if topo.exec(r, "ip", "link", "show", tap, check=False).returncode != 0:
        fail("no punt device %s while sluice-stack runs" % tap)
    st.stop()
    if topo.exec(r, "ip", "link", "show", tap, check=False).returncode == 0:
        fail("punt device %s left behind after sluice-stack stopped" % tap)
    print("punt device %s removed at the stop" % tap)


def ping(ns, dst, count=3, extra=()):
    r = topo.exec(ns, "ping", "-n", "-c", str(count), "-i", "0.2", "-W",
                  "1", *extra, dst, check=False, timeout=30)
    return r.stdout


replies = slnet.replies


def ip_hdr(tot, ihl=5, cksum=None):
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, tot, 1, 0, 64, 17, 0,
                    socket.inet_aton("198.18.1.2"),
                    socket.inet_aton("198.18.2.2"))
    if cksum is None:
        s = sum(struct.unpack("!10H", h))
        while s >> 16:
            s = (s & 0xffff) + (s >> 16)
        cksum = ~s & 0xffff
    return h[:10] + struct.pack("!H", cksum) + h[12:]


def send_malformed(c1):
    """Raw frames from c1a to r0: 5 of each kind."""
    eth = bytes.fromhex(MAC_R0.replace(":", "")) + \
        bytes.fromhex(MAC_C1.replace(":", "")) + b"\x08\x00"
    body = b"\x00" * 26
    frames = {
        "bad_cksum": eth + ip_hdr(46, cksum=0x1234) + body,
        "bad_len": eth + ip_hdr(200) + body,       # past the frame
        "truncated": eth + ip_hdr(46, ihl=15) + body,  # header past it
        "bad_ihl": eth + ip_hdr(46, ihl=4) + body,
    }
    code = ("import socket,sys\n"
            "s=socket.socket(socket.AF_PACKET,socket.SOCK_RAW)\n"
            "s.bind(('c1a',0))\n"
            "for h in sys.argv[1:]:\n"
            "    f=bytes.fromhex(h)\n"
            "    for i in range(5): s.send(f)\n")
    topo.exec(c1, "python3", "-c", code,
              *[f.hex() for f in frames.values()])
    return frames


def route_timing(c1, r, c2, st):
    rx = topo.popen(c2, ["python3", "-c", UDP_SERVER, "198.18.3.1", "9999",
                         "6", "log"],
                    stdout=subprocess.PIPE, text=True)
    if rx.stdout.readline().strip() != "ready":
        fail("probe receiver did not start")
    times = []
    threading.Thread(target=lambda: [times.append(float(x.split()[1]))
                                     for x in rx.stdout
                                     if x.startswith("rx ")],
                     daemon=True).start()
    tx = topo.popen(c1, ["python3", "-c", PROBER, "4"])
    time.sleep(1.0)
    if times:
        fail("198.18.3.1 reached before its route was added")
    t_add = time.monotonic()  # before: the delay includes running ip
    topo.exec(r, "ip", "route", "add", "198.18.3.0/24", "via",
              "198.18.2.2")
    time.sleep(1.0)
    if not times:
        show = topo.exec(r, STACK, "-c", st.path, "--show", check=False)
        dump = topo.exec(c2, "timeout", "1", "tcpdump", "-c", "4", "-n",
                         "-e", "-v", "-i", "c2a", check=False)
        show.stdout += dump.stdout + dump.stderr
        show.stdout += topo.exec(c2, "nstat", "-a", check=False).stdout
        fail("198.18.3.1 not reached within 1 s of the route add: %s\n%s"
             % (st.wait_stats(), show.stdout + show.stderr))
    delay = (times[0] - t_add) * 1000
    print("route add -> first probe forwarded: %.1f ms" % delay)
    if delay > 100:
        fail("forwarding started %.1f ms after the route add (> 100)"
             % delay)
    t_del = time.monotonic()
    topo.exec(r, "ip", "route", "del", "198.18.3.0/24", "via",
              "198.18.2.2")
    time.sleep(1.0)
    late = [t for t in times if t > t_del + 0.1]
    print("route del: %d probes forwarded, the last %.1f ms after the del "
          "began, %d more than 100 ms after" %
          (len(times), (times[-1] - t_del) * 1000, len(late)))
    if late:
        fail("%d probes forwarded more than 100 ms after the route del"
             % len(late))
    tx.wait(timeout=10)
    rx.wait(timeout=10)


def main():
    c1, r, c2 = setup()
    if replies(ping(c1, "198.18.2.2", count=1)) != 0:
        fail("c2 reachable with kernel forwarding off before sluice ran")
    st = start_stack(r)
    st.wait_stats(timeout=20)
    show = topo.exec(r, STACK, "-c", st.path, "--show").stdout
    for want in ("198.18.1.0/24 connected", "198.18.2.0/24 connected",
                 "198.18.1.1/32 local", "r0 mac " + MAC_R0,
                 "r1 mac " + MAC_R1):
        if want not in show:
            fail("--show lacks '%s':\n%s" % (want, show))
    print("--show: connected and local routes, links")

    out = ping(c1, "198.18.2.2", count=5)
    n = replies(out)
    s = st.wait_stats()
    print("ping c1 -> c2: %d/5 replies; nodes %s" % (n, s["nodes"]))
    if n != 5:
        fail("ping c1 -> c2 through sluice: %d/5\n%s" % (n, out))
    if s["nodes"]["eth_tx"] < 2 * n or s["nodes"]["ip4_forward"] < 2 * n:
        fail("node counters do not show the forwarded pings: %s" % s)

    for a in ("198.18.1.1", "198.18.2.1"):
        if replies(ping(c1, a, count=2)) != 2:
            fail("router address %s does not answer (kernel)" % a)
    print("router addresses answer (kernel)")

    route_timing(c1, r, c2, st)

    out = ping(c1, "198.18.2.2", count=2, extra=("-t", "1"))
    if "From 198.18.1.1" not in out or "exceeded" not in out:
        fail("ping -t 1: no time exceeded from 198.18.1.1:\n" + out)
    print("ping -t 1: time exceeded from 198.18.1.1")

    before = st.wait_stats()["drops"]
    send_malformed(c1)
    time.sleep(0.5)
    after = st.wait_stats()["drops"]
    for reason in ("bad_cksum", "bad_len", "truncated"):
        d = after[reason] - before[reason]
        print("malformed %s: %d of 5 dropped and counted" % (reason, d))
        if d != 5:
            fail("%s: %d counted, expected 5 (%s)" % (reason, d, after))
    # IHL < 5 is not IPv4 to the steering program: the kernel gets it
    # (and drops it); sluice never sees it.
    print("malformed bad_ihl: %d counted by sluice (steered to the "
          "kernel)" % (after["bad_ihl"] - before["bad_ihl"]))

    # the first packet to an unresolved neighbour waits for it: after a
    # flush, one ping (both directions unresolved) is answered
    topo.exec(r, "ip", "neigh", "flush", "all")
    before = st.wait_stats()
    out = ping(c1, "198.18.2.2", count=1, extra=("-W", "2"))
    n = replies(out)
    after = st.wait_stats()
    print("after neighbour flush: first ping %s, no_neigh drops %d" %
          ("answered" if n == 1 else "lost",
           after["drops"]["no_neigh"] - before["drops"]["no_neigh"]))
    if n != 1:
        fail("first packet after a neighbour flush not delivered:\n%s %s"
             % (out, after))

    topo.exec(r, "ip", "route", "add", "unreachable", "198.18.5.0/24")
    time.sleep(0.1)
    out = ping(c1, "198.18.5.1", count=1)
    if "From 198.18.1.1" not in out or "Unreachable" not in out:
        fail("unreachable route: no host unreachable from 198.18.1.1:\n"
             + out)
    print("unreachable route: host unreachable from 198.18.1.1")

    topo.exec(r, "ip", "link", "set", "r1", "mtu", "1000")
    time.sleep(0.1)
    # first without DF (before c1 learns the path MTU from the error)
    before = st.wait_stats()["drops"]["mtu"]
    ping(c1, "198.18.2.2", count=1, extra=("-s", "1200", "-M", "dont"))
    after = st.wait_stats()["drops"]["mtu"]
    if after - before != 1:
        fail("no DF over a 1000-byte MTU: %d counted as mtu, expected 1"
             % (after - before))
    print("no DF over a 1000-byte MTU: dropped, counted as mtu")
    out = ping(c1, "198.18.2.2", count=1, extra=("-s", "1200", "-M", "do"))
    if "From 198.18.1.1" not in out or "mtu = 1000" not in out:
        fail("DF over a 1000-byte MTU: no frag needed from 198.18.1.1:\n"
             + out)
    print("DF over a 1000-byte MTU: frag needed (mtu = 1000)")
    topo.exec(r, "ip", "link", "set", "r1", "mtu", "1500")

    hybrid_checks(c1, r, st)
    link_flap(c1, r, st)
    st.stop()
    arp_through_punt(c1, r)
    print("stack_fwd %s: all checks passed" % MODE)


try:
    main()
except slnet.TopoError as e:
    fail(str(e))
finally:
    topo.close()
    shutil.rmtree(TMP, ignore_errors=True)
