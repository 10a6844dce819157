"""Namespaces and veth pairs for sluice's tests and demonstrations.

A Topo creates network namespaces named <prefix>-<name>, veth pairs with
fixed MAC addresses, one bpffs per namespace for libxdp (LIBXDP_BPFFS),
and removes all of it when closed, at exit, or on SIGINT/SIGTERM. Every
command is bounded by a timeout; only processes started through it are
ever signalled.
"""
import atexit
import os
import signal
import subprocess
import sys

BPFFS_ROOT = "/run/sluice/bpffs"


class TopoError(Exception):
    pass


def run(*cmd, check=True, timeout=30):
    r = subprocess.run(list(cmd), capture_output=True, text=True,
                       timeout=timeout)
    if check and r.returncode != 0:
        raise TopoError("%s: %s" % (" ".join(cmd), r.stderr.strip()))
    return r


class Topo:
    def __init__(self, prefix):
        self.prefix = prefix
        self.ns = []
        self.mounts = []
        self.procs = []
        self.closed = False
        atexit.register(self.close)
        for s in (signal.SIGINT, signal.SIGTERM):
            signal.signal(s, self._on_signal)

    def _on_signal(self, sig, frame):
        self.close()
        sys.exit(128 + sig)

    def name(self, short):
        return "%s-%s" % (self.prefix, short)

    def add_ns(self, short, bpffs=False):
        """A namespace with lo up and IPv6 off; returns its full name."""
        ns = self.name(short)
        run("ip", "netns", "add", ns)
        self.ns.append(ns)
        run("ip", "-n", ns, "link", "set", "lo", "up")
        self.exec(ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
                  "net.ipv6.conf.default.disable_ipv6=1", check=False)
        if bpffs:
            d = os.path.join(BPFFS_ROOT, ns)
            os.makedirs(d, exist_ok=True)
            run("mount", "-t", "bpf", "bpf", d)
            self.mounts.append(d)
        return ns

    def veth(self, a, ns_a, b, ns_b, mac_a, mac_b, queues=1):
        """A veth pair a (in ns_a) <-> b (in ns_b), up, GRO on (a veth
        has a NAPI instance, needed by native XDP redirects into it, only
        with GRO or an XDP program)."""
        q = ["numrxqueues", str(queues), "numtxqueues", str(queues)]
        run("ip", "-n", ns_a, "link", "add", a, *q, "type", "veth", "peer",
            "name", b, *q, "netns", ns_b)
        for dev, ns, mac in ((a, ns_a, mac_a), (b, ns_b, mac_b)):
            run("ip", "-n", ns, "link", "set", dev, "address", mac, "up")
            self.exec(ns, "ethtool", "-K", dev, "gro", "on", check=False)

    def exec(self, ns, *cmd, check=True, timeout=30):
        return run("ip", "netns", "exec", ns, *cmd, check=check,
                   timeout=timeout)

    def env(self, ns):
        e = dict(os.environ)
        e["LIBXDP_BPFFS"] = os.path.join(BPFFS_ROOT, ns)
        return e

    def popen(self, ns, cmd, **kw):
        """Start cmd in ns; it is stopped (SIGTERM, then SIGKILL) at close."""
        p = subprocess.Popen(["ip", "netns", "exec", ns] + list(cmd),
                             env=self.env(ns), **kw)
        self.procs.append(p)
        return p

    def close(self):
        if self.closed:
            return
        self.closed = True
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        for ns in self.ns:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        for m in self.mounts:
            subprocess.run(["umount", m], capture_output=True)
            try:
                os.rmdir(m)
            except OSError:
                pass


def mac(i):
    """02:00:00:00:00:<i>, a locally administered address."""
    return "02:00:00:00:00:%02x" % i
