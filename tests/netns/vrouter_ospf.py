#!/usr/bin/env python3
"""The vRouter (scripts/vrouter.py): FRR's OSPF in the kernel, sluice-stack
forwarding, kernel forwarding off on both routers (root).

    c1 ---- r1 ==== r2 ---- c2

Checks: before OSPF converges c1 cannot reach c2 (while the router's own
address answers from the kernel); OSPF converges; the OSPF routes of each
kernel (ip route show proto ospf) are the routes sluice-stack --show
lists, with the same gateway, device and metric; ping, iperf3 TCP and UDP
c1 -> c2 go through, and the node counters of both routers (ip4_forward,
eth_tx) grew by at least the packets sent; r1-r2 down withdraws the OSPF
routes from the kernels and from sluice's view, up restores them and
traffic resumes by itself (while it is down, sluice on r1 answers
net unreachable); stopping sluice-stack leaves no XDP program,
punt device or pinned map, and c2 is then unreachable (OSPF still up).

Usage: vrouter_ospf.py SLUICE_STACK native|skb. Exit 77 when not root,
without FRR, or when net_af_xdp is missing.
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "scripts"))
import slnet  # noqa: E402
import vrouter  # noqa: E402
from vrouter import ROUTERS  # noqa: E402

STACK = sys.argv[1] if len(sys.argv) > 1 else ""
MODE = sys.argv[2] if len(sys.argv) > 2 else "native"
T0 = time.monotonic()


class Fail(Exception):
    pass


def say(msg):
    print("[%5.1f s] %s" % (time.monotonic() - T0, msg), flush=True)


def skip(msg):
    print("SKIP: " + msg, file=sys.stderr)
    sys.exit(77)


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def compare_routes(vr, r):
    """r's OSPF routes in the kernel and in sluice's view: equal."""
    kern = vr.ospf_routes(r)
    show = vr.stacks[r].show()
    sl = vrouter.parse_show(show)
    check(ROUTERS[r][3] in kern, "%s: no OSPF route to %s in the kernel: %s"
          % (r, ROUTERS[r][3], kern))
    for p, (paths, metric) in kern.items():
        check(p in sl, "%s: OSPF route %s not in sluice's view:\n%s" %
              (r, p, show))
        kind, spaths, smetric, local = sl[p]
        check(kind == "via" and not local and spaths == paths and
              smetric == metric,
              "%s: %s: kernel %s metric %d, sluice %s %s metric %d" %
              (r, p, paths, metric, kind, spaths, smetric))
    # nothing else but OSPF gives the routers routes via a gateway
    extra = [p for p, v in sl.items() if v[0] == "via" and p not in kern]
    check(not extra, "%s: sluice has routes the kernel's OSPF has not: %s"
          % (r, extra))
    return kern


def routes_state(vr):
    """Per router: (the far subnet in the kernel's OSPF routes, in sluice's
    view)."""
    out = {}
    for r in ROUTERS:
        p = ROUTERS[r][3]
        sl = vrouter.parse_show(vr.stacks[r].show())
        out[r] = (p in vr.ospf_routes(r), p in sl and sl[p][0] == "via")
    return out


def counters(vr):
    return {r: vr.stats(r)["nodes"] for r in ROUTERS}


def grown(before, after, r, node):
    return after[r][node] - before[r][node]


def check_forwarded(before, after, n, what):
    for r in ROUTERS:
        for node in ("ip4_forward", "eth_tx"):
            d = grown(before, after, r, node)
            check(d >= n, "%s: %s %s grew by %d, fewer than the %d "
                  "packets sent" % (what, r, node, d, n))
    say("%s: counters r1 ip4_forward +%d eth_tx +%d, r2 ip4_forward +%d "
        "eth_tx +%d (>= %d)" % (
            what, grown(before, after, "r1", "ip4_forward"),
            grown(before, after, "r1", "eth_tx"),
            grown(before, after, "r2", "ip4_forward"),
            grown(before, after, "r2", "eth_tx"), n))


def iperf(vr, udp):
    before = counters(vr)
    try:
        rep = vr.iperf3(udp=udp, seconds=2, bitrate="100M")
    except slnet.TopoError as e:
        raise Fail("iperf3 %s c1 -> c2: %s" % ("UDP" if udp else "TCP", e))
    after = counters(vr)
    bps, rx, text = vrouter.iperf3_summary(rep, udp)
    say("iperf3 " + text)
    check(rx > 0, "iperf3 %s: nothing received" % ("UDP" if udp else "TCP"))
    if udp:
        pk = rep["end"]["sum"]["packets"] - \
            rep["end"]["sum"].get("lost_packets", 0)
        check_forwarded(before, after, pk, "iperf3 UDP (%d datagrams "
                        "received)" % pk)


def flap(vr):
    """r1-r2 down and up in r1."""
    vr.exec("r1", "ip", "link", "set", "r1-r2", "down")
    t0 = time.monotonic()
    gone = slnet.wait_for(lambda: not any(
        a or b for a, b in routes_state(vr).values()), 10, 0.1)
    check(gone, "r1-r2 down: routes still there after 10 s: %s" %
          routes_state(vr))
    say("r1-r2 down: OSPF routes gone from both kernels and from sluice's "
        "view after %.1f s" % (time.monotonic() - t0))
    before = counters(vr)
    n, out = vr.ping(count=2)
    after = counters(vr)
    check(n == 0, "c2 reachable with r1-r2 down:\n" + out)
    # the running sluice-stack on r1 has no route either: it answers
    # with net unreachable
    icmp = grown(before, after, "r1", "icmp4")
    check(icmp >= 1 and "From 198.18.1.1" in out and "Unreachable" in out,
          "r1-r2 down: no net unreachable from sluice on r1 (icmp4 +%d):"
          "\n%s" % (icmp, out))
    say("r1-r2 down: c2 unreachable, sluice on r1 answers net unreachable "
        "(icmp4 +%d)" % icmp)

    vr.exec("r1", "ip", "link", "set", "r1-r2", "up")
    t0 = time.monotonic()
    back = slnet.wait_for(lambda: all(a and b for a, b in
                                      routes_state(vr).values()), 20, 0.1)
    check(back, "r1-r2 up: routes not back after 20 s: %s\n%s" %
          (routes_state(vr), vr.frr_log("r1", "ospfd")))
    t_routes = time.monotonic() - t0
    for r in ROUTERS:
        compare_routes(vr, r)
    ok = slnet.wait_for(lambda: vr.ping(count=1, wait=1)[0] == 1, 10, 0)
    check(ok, "r1-r2 up: traffic did not resume within 10 s of the routes")
    say("r1-r2 up: routes back in both kernels and in sluice's view after "
        "%.1f s, ping c1 -> c2 answered after %.1f s" %
        (t_routes, time.monotonic() - t0))


def stop_and_check(vr):
    for r in ROUTERS:
        left = vr.leftovers(r)
        check(sorted(left["xdp"]) == sorted([ROUTERS[r][1], ROUTERS[r][2]]),
              "%s: XDP programs while sluice-stack runs: %s" %
              (r, left["xdp"]))
        s = vr.stop_sluice(r)
        left = vr.leftovers(r)
        check(not any(left.values()),
              "%s: left behind by sluice-stack: %s\n%s" %
              (r, left, vr.exec(r, "ip", "link", "show").stdout))
        say("%s: sluice-stack stopped (%d forwarded in all); no XDP "
            "program, punt device or pinned map left" %
            (r, s["nodes"]["ip4_forward"]))
    check(vr.converged(), "OSPF routes gone after sluice-stack stopped")
    n, out = vr.ping(count=2)
    check(n == 0, "c2 reachable without sluice (kernel forwarding is "
          "off):\n" + out)
    say("without sluice: OSPF routes still installed, c2 unreachable "
        "(kernel forwarding off)")


def main():
    vr = vrouter.VRouter(STACK, mode=MODE, out=say)
    try:
        vr.setup()
        vr.start_sluice()
        n, out = vr.ping(count=2)
        check(n == 0, "c2 reachable before OSPF ran:\n" + out)
        n, out = vr.ping(count=1, dst="198.18.1.1")
        check(n == 1, "r1's own address does not answer (kernel):\n" + out)
        say("before OSPF: c2 unreachable, r1's 198.18.1.1 answers "
            "(kernel)")

        vr.start_frr()
        dt = vr.wait_ospf(timeout=20)
        check(dt is not None, "OSPF did not converge in 20 s:\n%s\n%s" %
              (vr.vtysh("r1", "show ip ospf neighbor"),
               vr.frr_log("r1", "ospfd")))
        say("OSPF converged %.1f s after the daemons started" % dt)
        for r in ROUTERS:
            kern = compare_routes(vr, r)
            say("%s: sluice sees the OSPF routes of the kernel: %s" %
                (r, ", ".join("%s via %s" % (p, v[0][0][0])
                              for p, v in sorted(kern.items()))))

        before = counters(vr)
        n, out = vr.ping(count=10, interval=0.05)
        check(n == 10, "ping c1 -> c2: %d/10\n%s" % (n, out))
        after = counters(vr)
        say("ping c1 -> c2: 10/10")
        check_forwarded(before, after, 2 * n, "ping (10 requests, 10 "
                        "replies)")
        iperf(vr, udp=False)
        iperf(vr, udp=True)
        flap(vr)
        stop_and_check(vr)
    except (Fail, slnet.TopoError) as e:
        print("FAIL: %s" % e, file=sys.stderr)
        for r in ROUTERS:
            if r in vr.stacks:
                print("%s: sluice-stack stderr: %s" %
                      (r, vr.stacks[r].stderr()), file=sys.stderr)
        return 1
    finally:
        vr.close()
    say("vrouter_ospf %s: all checks passed" % MODE)
    return 0


if __name__ == "__main__":
    if os.geteuid() != 0:
        skip("needs root")
    if os.environ.get("SLT_AF_XDP_MISSING"):
        skip("net_af_xdp not built: " + os.environ["SLT_AF_XDP_MISSING"])
    why = vrouter.missing()
    if why:
        skip(why)
    if MODE not in ("native", "skb"):
        print("mode must be native or skb", file=sys.stderr)
        sys.exit(2)
    sys.exit(main())
