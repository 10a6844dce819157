"""Namespaces and veth pairs for sluice's tests and demonstrations.

A Topo creates network namespaces named <prefix>-<name>, veth pairs with
fixed MAC addresses, one bpffs per namespace for libxdp (LIBXDP_BPFFS),
and removes all of it when closed, at exit, or on SIGINT/SIGTERM. Every
command is bounded by a timeout; only processes started through it are
ever signalled.

Stack runs sluice-stack in a namespace with a configuration given as a
dict and reads its --json statistics lines.
"""
import atexit
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time

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

    def bpffs(self, ns):
        """The bpffs of ns (mounted by add_ns(bpffs=True))."""
        return os.path.join(BPFFS_ROOT, ns)

    def env(self, ns):
        e = dict(os.environ)
        e["LIBXDP_BPFFS"] = self.bpffs(ns)
        return e

    def pinned(self, ns):
        """The files pinned in the bpffs of ns, relative to it, without
        the iterators the kernel puts in every new bpffs (maps.debug,
        progs.debug)."""
        root = self.bpffs(ns)
        out = []
        for d, _, files in os.walk(root):
            out += [os.path.relpath(os.path.join(d, f), root) for f in files]
        return sorted(set(out) - {"maps.debug", "progs.debug"})

    def xdp(self, ns, dev):
        """The XDP attachment of dev in ns as ip -j link reports it
        ({} when no program is attached)."""
        r = self.exec(ns, "ip", "-j", "-d", "link", "show", "dev", dev)
        return json.loads(r.stdout)[0].get("xdp", {})

    def pids(self):
        """The processes running in the namespaces of this Topo."""
        want = set()
        for ns in self.ns:
            try:
                want.add(os.stat("/run/netns/" + ns).st_ino)
            except OSError:
                pass
        out = set()
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    if os.stat("/proc/%s/ns/net" % d).st_ino in want:
                        out.add(int(d))
                except OSError:
                    pass
        return out

    def ping(self, ns, dst, count=3, interval=0.2, wait=1, extra=()):
        """ping from ns: (replies received, ping's output)."""
        r = self.exec(ns, "ping", "-n", "-c", str(count), "-i",
                      str(interval), "-W", str(wait), *extra, dst,
                      check=False, timeout=30 + count * (interval + wait))
        return replies(r.stdout), r.stdout

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
            stop(p)
        for ns in self.ns:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        for m in self.mounts:
            subprocess.run(["umount", m], capture_output=True)
            try:
                os.rmdir(m)
            except OSError:
                pass


def stop(p, timeout=5):
    """End a process we started: SIGTERM, then SIGKILL after timeout s."""
    if p.poll() is None:
        p.terminate()
    try:
        p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def mac(i):
    """02:00:00:00:00:<i>, a locally administered address."""
    return "02:00:00:00:00:%02x" % i


def replies(ping_output):
    """The number of replies in ping's summary line."""
    for line in ping_output.splitlines():
        if "received" in line:
            return int(line.split(",")[1].split()[0])
    return 0


def wait_for(cond, timeout, step=0.1):
    """Call cond until it returns something true or timeout seconds have
    passed; returns its last result."""
    end = time.monotonic() + timeout
    while True:
        v = cond()
        if v or time.monotonic() >= end:
            return v
        time.sleep(step)


class Stack:
    """sluice-stack started in ns with the configuration cfg (a dict,
    written as a file in tmpdir), statistics every interval seconds as
    JSON lines, read by a thread. Failures raise TopoError."""

    def __init__(self, topo, ns, exe, cfg, tmpdir, interval=0.2,
                 name=None):
        self.topo, self.ns, self.exe = topo, ns, exe
        name = name or ns
        self.path = os.path.join(tmpdir, name + ".jsonc")
        with open(self.path, "w") as f:
            json.dump(cfg, f, indent=2)
        self.err = open(os.path.join(tmpdir, name + ".err"), "w+")
        self.proc = topo.popen(ns, [exe, "-c", self.path, "--json",
                                    "--interval", str(interval)],
                               stdout=subprocess.PIPE, stderr=self.err,
                               text=True)
        self.lines = queue.Queue()
        self.last = None
        self.summary = None
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            try:
                x = json.loads(line)
            except ValueError:
                continue
            if "summary" in x:
                self.summary = x
            else:
                self.lines.put(x)
        self.lines.put(None)

    def stderr(self):
        self.err.seek(0)
        return self.err.read()[-3000:]

    def _died(self):
        raise TopoError("sluice-stack in %s exited %s: %s" %
                        (self.ns, self.proc.wait(), self.stderr()))

    def wait_stats(self, timeout=10.0):
        """A statistics line printed after this call (fresh counters)."""
        while True:  # what was printed before is stale
            try:
                if self.lines.get_nowait() is None:
                    self._died()
            except queue.Empty:
                break
        try:
            x = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise TopoError("no statistics from sluice-stack in %s in "
                            "%.0f s" % (self.ns, timeout))
        if x is None:
            self._died()
        self.last = x
        return x

    def show(self):
        """sluice-stack --show with the same configuration: the kernel
        tables as sluice's mirror sees them."""
        return self.topo.exec(self.ns, self.exe, "-c", self.path,
                              "--show").stdout

    def stop(self, timeout=10):
        """SIGTERM, wait; returns the summary statistics."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise TopoError("sluice-stack in %s did not stop on "
                                "SIGTERM" % self.ns)
        if self.proc.returncode != 0:
            raise TopoError("sluice-stack in %s exited %d: %s" %
                            (self.ns, self.proc.returncode, self.stderr()))
        # the reader thread takes the summary line before stdout's end
        wait_for(lambda: self.summary is not None, 2, 0.02)
        return self.summary
