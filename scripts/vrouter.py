#!/usr/bin/env python3
"""The vRouter: FRR runs OSPF in the kernel, sluice forwards the data path.

    c1 ---- r1 ==== r2 ---- c2      (namespaces joined by veth pairs)

c1 and c2 are hosts; r1 and r2 are routers with kernel IP forwarding off.
On each router FRR's zebra and ospfd learn the far host's subnet over the
r1-r2 link and install it in the kernel; sluice-stack reads the kernel's
tables and forwards the transit traffic on net_af_xdp lports on both of the
router's devices. Its steering (steer=rules and the default transit rule)
leaves OSPF, ARP and traffic for the router's own addresses to the kernel.

As a module (the test tests/netns/vrouter_ospf.py and bench/vrouter use
it): VRouter builds and removes the topology, starts and stops FRR and
sluice-stack and reads what both see. As a script (make vrouter):

    vrouter.py BUILD_DIR [--mode native|skb]

builds it, waits for OSPF, shows the routes FRR installed and the routes
sluice sees, a ping and a short iperf3 from c1 to c2, sluice's node
counters, and removes everything. Needs root, FRR (/usr/lib/frr) and
net_af_xdp.
"""
import argparse
import grp
import json
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import slnet  # noqa: E402

FRR_DIR = "/usr/lib/frr"

# Addresses from 198.18.0.0/15 (RFC 2544 benchmarking).
C1, C2 = "198.18.1.2", "198.18.2.2"
LINKS = [
    # (namespace, device, peer namespace, peer device, address, peer address)
    ("c1", "c1-r1", "r1", "r1-c1", C1 + "/24", "198.18.1.1/24"),
    ("r1", "r1-r2", "r2", "r2-r1", "198.18.12.1/24", "198.18.12.2/24"),
    ("r2", "r2-c2", "c2", "c2-r2", "198.18.2.1/24", C2 + "/24"),
]
HOSTS = {"c1": ("c1-r1", "198.18.1.1"), "c2": ("c2-r2", "198.18.2.1")}
ROUTERS = {
    # router id, the device to the host (passive), the device to the
    # other router, the subnet OSPF learns from the other router
    "r1": ("198.18.255.1", "r1-c1", "r1-r2", "198.18.2.0/24"),
    "r2": ("198.18.255.2", "r2-c2", "r2-r1", "198.18.1.0/24"),
}

# FRR's run-state directory, shared by every FRR on the machine, hidden
# behind the daemon's own directory ($0) in its mount namespace.
FRR_STATE_DIR = "/var/run/frr"
BIND_STATE = ('if [ -d %s ]; then mount --bind "$0" %s || exit 1; fi; '
              'exec "$@"' % (FRR_STATE_DIR, FRR_STATE_DIR))

ZEBRA_CONF = """hostname {r}
log file {d}/zebra.log
"""

# Point-to-point, hello 1 s / dead 4 s, SPF and LSA throttling off: OSPF
# converges in about 1 s after the daemons start.
OSPFD_CONF = """hostname {r}
log file {d}/ospfd.log
!
interface {core}
 ip ospf network point-to-point
 ip ospf hello-interval 1
 ip ospf dead-interval 4
!
interface {edge}
 ip ospf passive
!
router ospf
 ospf router-id {rid}
 timers throttle spf 0 50 1000
 timers throttle lsa all 0
 timers lsa min-arrival 0
 network 198.18.0.0/15 area 0
!
"""


def missing():
    """Why the vRouter cannot run here, or None."""
    if os.geteuid() != 0:
        return "needs root"
    for d in ("zebra", "ospfd"):
        if not os.access(os.path.join(FRR_DIR, d), os.X_OK):
            return "FRR is not installed (%s/%s)" % (FRR_DIR, d)
    if shutil.which("vtysh") is None:
        return "FRR's vtysh is not installed"
    try:
        pwd.getpwnam("frr")
        grp.getgrnam("frr")
    except KeyError:
        return "no user or group frr (FRR's package creates them)"
    return None


def stack_config(router, mode, cpus=None):
    """sluice-stack on both devices of router, one thread on the CPUs
    cpus (a list; default all). The two routers' threads share the
    machine's CPUs (two here): they yield after every poll round, so that
    they alternate per burst rather than per scheduler slice."""
    devs = [ROUTERS[router][1], ROUTERS[router][2]]
    lp = {}
    for i, d in enumerate(devs):
        lp[d + ":0"] = {"pmd": "net_af_xdp", "umem": "umem0", "region": i,
                        "mode": mode, "options": "steer=rules"}
    return {
        "application": {"name": "vrouter-" + router},
        "umems": {"umem0": {"bufcnt": 8, "bufsz": 2, "mtype": "4KB",
                            "regions": [4, 4]}},
        "lports": lp,
        "lcore-groups": {"all": [str(c) for c in cpus] if cpus else
                         ["0-%d" % ((os.cpu_count() or 1) - 1)]},
        "threads": {"stack:0": {"group": "all", "lports": list(lp),
                                "idle_timeout": 10, "yield": True}},
    }


def parse_show(text):
    """The routes of sluice-stack --show: {prefix: (kind, [(gateway,
    ifindex)], metric, local)}."""
    routes = {}
    sect = None
    for line in text.splitlines():
        if not line.startswith(" "):
            sect = line.rstrip(":")
            continue
        if sect != "routes":
            continue
        m = re.match(r"\s+(\S+) (\S+)(.*) metric (\d+)( table local)? nh",
                     line)
        if m is None:
            continue
        paths = re.findall(r"(?: (\d+\.\d+\.\d+\.\d+))? dev (\d+)",
                           m.group(3))
        routes[m.group(1)] = (m.group(2), [(g or None, int(i))
                                           for g, i in paths],
                              int(m.group(4)), bool(m.group(5)))
    return routes


class VRouter:
    """The topology. forwarding="sluice": kernel forwarding off on the
    routers and sluice-stack on them (start_sluice); "kernel": the
    routers' kernels forward (for comparison). cpus: the CPUs of
    sluice-stack's threads (default all). out: where the steps are
    reported (a function taking one string; None: silent)."""

    def __init__(self, stack_exe=None, mode="native", forwarding="sluice",
                 prefix=None, out=None, cpus=None):
        self.stack_exe = stack_exe and os.path.abspath(stack_exe)
        self.mode = mode
        self.cpus = cpus
        self.forwarding = forwarding
        self.out = out or (lambda s: None)
        self.topo = slnet.Topo(prefix or "slvr-%d" % os.getpid())
        self.tmp = tempfile.mkdtemp(prefix="slvr-")
        self.ns = {}
        self.stacks = {}
        self.frr = {}
        self.ifindex = {}
        self.mac = {}

    # ---- topology ------------------------------------------------------

    def setup(self):
        t = self.topo
        for n in ("c1", "r1", "r2", "c2"):
            self.ns[n] = t.add_ns(n, bpffs=n in ROUTERS)
        for i, (a, da, b, db, ipa, ipb) in enumerate(LINKS):
            self.mac[(a, da)] = slnet.mac(2 * i + 1)
            self.mac[(b, db)] = slnet.mac(2 * i + 2)
            t.veth(da, self.ns[a], db, self.ns[b], self.mac[(a, da)],
                   self.mac[(b, db)])
            t.exec(self.ns[a], "ip", "addr", "add", ipa, "dev", da)
            t.exec(self.ns[b], "ip", "addr", "add", ipb, "dev", db)
        for h, (dev, gw) in HOSTS.items():
            t.exec(self.ns[h], "ip", "route", "add", "default", "via", gw)
            # veth leaves checksums to a device that never computes them
            # and XDP passes such frames on as they are: the hosts fill
            # theirs in
            t.exec(self.ns[h], "ethtool", "-K", dev, "tx", "off")
        fwd = "1" if self.forwarding == "kernel" else "0"
        for r, (_, edge, core, _) in ROUTERS.items():
            t.exec(self.ns[r], "sysctl", "-qw", "net.ipv4.ip_forward=" + fwd)
            for d in (edge, core):
                self.ifindex[(r, d)] = int(t.exec(
                    self.ns[r], "cat", "/sys/class/net/%s/ifindex" % d)
                    .stdout)
        self.out("topology: c1 %s -- r1 -- r2 -- c2 %s; kernel IP "
                 "forwarding %s on r1 and r2" %
                 (C1, C2, "on" if fwd == "1" else "off"))

    def permanent_neighbours(self):
        """Permanent neighbour entries between each host and its router
        (for traffic to a device whose XDP program drops ARP)."""
        for a, da, b, db, ipa, ipb in LINKS:
            if a in HOSTS or b in HOSTS:
                self.exec(a, "ip", "neigh", "replace", ipb.split("/")[0],
                          "lladdr", self.mac[(b, db)], "nud", "permanent",
                          "dev", da)
                self.exec(b, "ip", "neigh", "replace", ipa.split("/")[0],
                          "lladdr", self.mac[(a, da)], "nud", "permanent",
                          "dev", db)

    def close(self):
        """Stop everything started here, remove the namespaces."""
        for st in self.stacks.values():
            try:
                st.stop()
            except slnet.TopoError:
                pass
        self.stacks = {}
        self.topo.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def exec(self, node, *cmd, **kw):
        return self.topo.exec(self.ns[node], *cmd, **kw)

    # ---- FRR -----------------------------------------------------------

    def start_frr(self, routers=("r1", "r2")):
        """zebra and ospfd in each router, with their own configuration,
        pid files, zserv socket and vty sockets in a directory of the
        user frr (no TCP vty, -P 0)."""
        uid, gid = pwd.getpwnam("frr").pw_uid, grp.getgrnam("frr").gr_gid
        os.chown(self.tmp, uid, gid)
        for r in routers:
            rid, edge, core, _ = ROUTERS[r]
            d = os.path.join(self.tmp, "frr-" + r)
            os.makedirs(d, exist_ok=True)
            confs = {"zebra": ZEBRA_CONF.format(r=r, d=d),
                     "ospfd": OSPFD_CONF.format(r=r, d=d, rid=rid,
                                                edge=edge, core=core)}
            for name, text in confs.items():
                with open(os.path.join(d, name + ".conf"), "w") as f:
                    f.write(text)
            for p in [d] + [os.path.join(d, x) for x in os.listdir(d)]:
                os.chown(p, uid, gid)
            zserv = os.path.join(d, "zserv.api")
            procs = []
            for name in ("zebra", "ospfd"):
                log = open(os.path.join(d, name + ".out"), "w")
                # ip netns exec runs the daemon in a mount namespace of
                # its own: FRR's compiled-in state directory (ospfd
                # writes its graceful-restart file there) becomes d
                procs.append(self.topo.popen(self.ns[r], [
                    "sh", "-c", BIND_STATE, d,
                    os.path.join(FRR_DIR, name),
                    "-f", os.path.join(d, name + ".conf"),
                    "-i", os.path.join(d, name + ".pid"),
                    "-z", zserv, "--vty_socket", d, "-P", "0",
                    "-u", "frr", "-g", "frr"],
                    stdout=log, stderr=subprocess.STDOUT))
                if name == "zebra" and not slnet.wait_for(
                        lambda: os.path.exists(zserv), 10, 0.02):
                    raise slnet.TopoError("zebra in %s did not start: %s" %
                                          (r, self.frr_log(r, "zebra")))
            self.frr[r] = (d, procs)
        self.out("FRR: zebra and ospfd started on %s (OSPF point-to-point "
                 "on r1-r2, hello 1 s, dead 4 s)" % ", ".join(routers))

    def frr_log(self, r, daemon):
        d = self.frr[r][0] if r in self.frr else \
            os.path.join(self.tmp, "frr-" + r)
        text = ""
        for f in (daemon + ".out", daemon + ".log"):
            try:
                with open(os.path.join(d, f)) as fh:
                    text += fh.read()[-2000:]
            except OSError:
                pass
        return text

    def vtysh(self, r, *cmds):
        """vtysh commands against r's daemons."""
        args = []
        for c in cmds:
            args += ["-c", c]
        return self.exec(r, "vtysh", "--vty_socket", self.frr[r][0],
                         *args, check=False).stdout

    def ospf_routes(self, r):
        """The routes zebra installed in r's kernel for OSPF:
        {prefix: ([(gateway, ifindex)], metric)}."""
        rows = json.loads(self.exec(r, "ip", "-j", "route", "show",
                                    "proto", "ospf").stdout or "[]")
        out = {}
        for x in rows:
            dst = x["dst"] if "/" in x["dst"] else x["dst"] + "/32"
            if "nexthops" in x:
                paths = [(n.get("gateway"), self.ifindex[(r, n["dev"])])
                         for n in x["nexthops"]]
            else:
                paths = [(x.get("gateway"), self.ifindex[(r, x["dev"])])]
            out[dst] = (paths, x.get("metric", 0))
        return out

    def converged(self):
        """Each router has the route to the far host's subnet."""
        return all(ROUTERS[r][3] in self.ospf_routes(r) for r in ROUTERS)

    def wait_ospf(self, timeout=20):
        """Seconds until both routers have their OSPF route (None: not
        within timeout)."""
        t0 = time.monotonic()
        if not slnet.wait_for(self.converged, timeout, 0.05):
            return None
        return time.monotonic() - t0

    # ---- sluice --------------------------------------------------------

    def start_sluice(self, routers=("r1", "r2"), timeout=20):
        for r in routers:
            self.stacks[r] = slnet.Stack(self.topo, self.ns[r],
                                         self.stack_exe,
                                         stack_config(r, self.mode,
                                                      self.cpus),
                                         self.tmp, name="stack-" + r)
        for r in routers:
            self.stacks[r].wait_stats(timeout=timeout)
        self.out("sluice-stack on %s: net_af_xdp %s lports on both "
                 "devices, steer=rules (transit to sluice; OSPF, ARP and "
                 "the router's own addresses to the kernel)" %
                 (", ".join(routers), self.mode))

    def stop_sluice(self, r):
        st = self.stacks.pop(r)
        return st.stop()

    def sluice_routes(self, r):
        """The routes of sluice-stack --show in r: see parse_show."""
        return parse_show(self.stacks[r].show())

    def stats(self, r):
        return self.stacks[r].wait_stats()

    def leftovers(self, r):
        """What sluice-stack leaves in r while it runs and should not
        after it stopped: devices with an XDP program, its punt (TAP)
        devices, files pinned in r's bpffs."""
        links = json.loads(self.exec(r, "ip", "-j", "link", "show").stdout)
        return {
            "xdp": [d for (rr, d) in self.ifindex
                    if rr == r and self.topo.xdp(self.ns[r], d)],
            "punt": [x["ifname"] for x in links
                     if x["ifname"].startswith("slp")],
            "pinned": self.topo.pinned(self.ns[r]),
        }

    # ---- traffic -------------------------------------------------------

    def ping(self, count=3, interval=0.2, wait=1, src="c1", dst=C2):
        """(replies, output) of a ping from src to dst."""
        return self.topo.ping(self.ns[src], dst, count=count,
                              interval=interval, wait=wait)

    def iperf3(self, udp=False, seconds=2, bitrate="200M", extra=(),
               port=5201, cpu=None):
        """iperf3 from c1 to c2 (client and server on CPU cpu if given):
        its JSON report (a dict). A TopoError if it fails."""
        aff = ["-A", str(cpu)] if cpu is not None else []
        srv = self.topo.popen(self.ns["c2"], [
            "iperf3", "-s", "-1", "-B", C2, "-p", str(port)] + aff,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            if not slnet.wait_for(lambda: str(port) in self.exec(
                    "c2", "ss", "-Hltn", "sport = :%d" % port).stdout,
                    5, 0.05):
                raise slnet.TopoError("iperf3 server did not start")
            cmd = ["iperf3", "-c", C2, "-p", str(port), "-t", str(seconds),
                   "-J", "--connect-timeout", "3000"] + aff
            if udp:
                cmd += ["-u", "-b", bitrate]
            r = self.exec("c1", *cmd, *extra, check=False,
                          timeout=seconds + 20)
            try:
                rep = json.loads(r.stdout)
            except ValueError:
                raise slnet.TopoError("iperf3: %s %s" %
                                      (r.stdout[-500:], r.stderr[-500:]))
            if "error" in rep:
                raise slnet.TopoError("iperf3: " + rep["error"])
            return rep
        finally:
            slnet.stop(srv)


def iperf3_summary(rep, udp):
    """(bits per second at the receiver, bytes received, text)."""
    end = rep["end"]
    if udp:
        s = end["sum"]
        # iperf3 3.12: sum's bits_per_second is the sender's rate;
        # the receiver's bytes are those sent minus the lost ones
        rx = s["bytes"] * (1 - s.get("lost_percent", 0) / 100.0)
        bps = rx * 8 / s["seconds"] if s["seconds"] else 0
        return bps, rx, ("UDP: %.1f Mbit/s received, %d of %d datagrams "
                         "lost (%.2f %%), jitter %.3f ms" %
                         (bps / 1e6, s.get("lost_packets", 0),
                          s.get("packets", 0), s.get("lost_percent", 0),
                          s.get("jitter_ms", 0)))
    s = end["sum_received"]
    snd = end["sum_sent"]
    return s["bits_per_second"], s["bytes"], (
        "TCP: %.1f Mbit/s received (%d bytes), %d retransmits" %
        (s["bits_per_second"] / 1e6, s["bytes"], snd.get("retransmits", 0)))


# ---- make vrouter -------------------------------------------------------

NODES = ("eth_rx", "ip4_input", "ip4_forward", "ip4_output", "eth_tx",
         "icmp4", "punt", "drop")


def indent(text, n=4):
    return "\n".join(" " * n + line for line in text.rstrip().splitlines())


def demo(build, mode):
    def say(s=""):
        print(s, flush=True)

    def step(s):
        say()
        say("== " + s)

    exe = os.path.join(build, "apps/stack/sluice-stack")
    if not os.access(exe, os.X_OK):
        say("make vrouter: %s is not built" % exe)
        return 1
    why = missing()
    if why:
        say("make vrouter: skipped: " + why)
        return 0
    vr = VRouter(exe, mode=mode, out=lambda s: say("   " + s))
    try:
        step("1. topology (namespaces %s-c1, -r1, -r2, -c2)" %
             vr.topo.prefix)
        vr.setup()
        for a, da, b, db, ipa, ipb in LINKS:
            say("   %s %-6s %-15s <-> %-15s %-6s %s" %
                (a, da, ipa, ipb, db, b))

        step("2. sluice-stack on r1 and r2")
        vr.start_sluice()
        n, out = vr.ping(count=1)
        say("   before OSPF: ping c1 -> c2: %d/1 replies" % n)
        say(indent("\n".join(x for x in out.splitlines()
                             if x.startswith("From")), 6))

        step("3. FRR on r1 and r2, waiting for OSPF")
        vr.start_frr()
        dt = vr.wait_ospf(timeout=30)
        if dt is None:
            say("   OSPF did not converge in 30 s")
            say(indent(vr.frr_log("r1", "ospfd")))
            return 1
        say("   OSPF converged %.1f s after the daemons started" % dt)
        say("   r1# show ip ospf neighbor")
        say(indent(vr.vtysh("r1", "show ip ospf neighbor").strip(), 6))

        step("4. routes FRR installed in the kernels "
             "(ip route show proto ospf)")
        for r in ROUTERS:
            say("   %s:" % r)
            say(indent(vr.exec(r, "ip", "route", "show", "proto", "ospf")
                       .stdout, 6))

        step("5. routes sluice sees (sluice-stack -c CFG --show)")
        for r in ROUTERS:
            show = vr.stacks[r].show()
            rt = show.split("routes:\n", 1)[-1].split("neighbours:")[0]
            main = [x for x in rt.splitlines() if "table local" not in x]
            say("   %s (ifindex %s), main table:" % (r, ", ".join(
                "%d %s" % (i, d) for (rr, d), i in sorted(
                    vr.ifindex.items(), key=lambda x: x[1]) if rr == r)))
            say(indent("\n".join(main), 6))
        before = {r: vr.stats(r)["nodes"] for r in ROUTERS}

        step("6. ping c1 -> c2 through sluice")
        n, out = vr.ping(count=5)
        say(indent("\n".join(out.strip().splitlines()[-2:])))

        step("7. iperf3 c1 -> c2, 2 s each")
        for udp in (False, True):
            try:
                rep = vr.iperf3(udp=udp, seconds=2)
                say("   " + iperf3_summary(rep, udp)[2])
            except slnet.TopoError as e:
                say("   %s: failed: %s" % ("UDP" if udp else "TCP", e))

        step("8. sluice's node counters over steps 6 and 7")
        after = {r: vr.stats(r)["nodes"] for r in ROUTERS}
        say("   %-3s" % "" + "".join("%12s" % k for k in NODES))
        for r in ROUTERS:
            say("   %-3s" % r + "".join(
                "%12d" % (after[r][k] - before[r][k]) for k in NODES))

        step("9. teardown")
        for r in ROUTERS:
            s = vr.stop_sluice(r)
            left = vr.leftovers(r)
            say("   sluice-stack on %s stopped (%d packets forwarded); "
                "left behind: XDP programs %s, punt devices %s, pinned "
                "maps %s" % (r, s["nodes"]["ip4_forward"],
                             *(", ".join(left[k]) or "none"
                               for k in ("xdp", "punt", "pinned"))))
    except slnet.TopoError as e:
        say("make vrouter: " + str(e))
        return 1
    finally:
        vr.close()
    say("   FRR stopped, namespaces removed")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("build")
    ap.add_argument("--mode", default="native", choices=["native", "skb"])
    a = ap.parse_args()
    return demo(a.build, a.mode)


if __name__ == "__main__":
    sys.exit(main())
