"""Helpers shared by the veth benchmarks (bench/afxdp, bench/fwd).

Their shell wrappers build the namespaces (bench/lib/netns.sh); the Python
side runs the cases with what is here:
  - CPU time from /proc/stat (whole-CPU busy time, the figure these
    benchmarks report per packet), waiting until the CPUs are idle, and the
    load of processes that are not ours;
  - Procs: every process a benchmark starts, logged to files, stopped by
    PID only;
  - the state of a device in a namespace (sysfs, XDP mode, NAPI settings);
  - DPDK testpmd started with the options these benchmarks share;
  - medians, result rows (bench/bench_common.h shape), the machine, the
    table and the JSON file.
"""

import datetime
import json
import math
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import time


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def sh(*argv, check=True, timeout=60):
    r = subprocess.run(list(argv), capture_output=True, text=True,
                       timeout=timeout)
    if check and r.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(argv), r.stderr.strip()))
    return r.stdout


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode(errors="replace").replace("\r", "")
    except OSError:
        return ""


def wait_for(cond, timeout, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(step)
    return cond()


# ---- CPU time ---------------------------------------------------------------

def cpu_stat():
    """{cpu: (busy, total, steal, user)} jiffies per CPU; "all" for the
    sum. busy = user + nice + system + irq + softirq (not idle, iowait,
    steal); user = user + nice."""
    out = {}
    with open("/proc/stat") as f:
        for line in f:
            if not line.startswith("cpu"):
                break
            name, *v = line.split()
            v = [int(x) for x in v[:8]] + [0] * (8 - len(v[:8]))
            busy = v[0] + v[1] + v[2] + v[5] + v[6]
            total = sum(v[:8])
            out["all" if name == "cpu" else int(name[3:])] = (
                busy, total, v[7], v[0] + v[1])
    return out


def busy_frac(a, b, cpu):
    db = b[cpu][0] - a[cpu][0]
    dt = b[cpu][1] - a[cpu][1]
    return db / dt if dt > 0 else float("nan")


def steal_frac(a, b):
    return ((b["all"][2] - a["all"][2]) /
            max(1, b["all"][1] - a["all"][1]))


def wait_idle(limit=0.15, timeout=10.0):
    """Wait (bounded) until every CPU is idle; the last busy fraction."""
    deadline = time.monotonic() + timeout
    while True:
        a = cpu_stat()
        time.sleep(0.5)
        b = cpu_stat()
        worst = max(busy_frac(a, b, c) for c in a if c != "all")
        if worst <= limit or time.monotonic() >= deadline:
            return worst


def proc_ticks():
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                s = f.read()
            fields = s[s.rindex(")") + 2:].split()
            out[int(d)] = (int(fields[11]) + int(fields[12]),
                           s[s.index("(") + 1:s.rindex(")")])
        except (OSError, ValueError, IndexError):
            pass
    return out


def other_load(before, after, ours, seconds):
    """CPUs used by processes that are not ours, and the top three."""
    hz = os.sysconf("SC_CLK_TCK")
    used = {}
    for pid, (t, name) in after.items():
        if pid in ours or pid == os.getpid():
            continue
        d = t - before.get(pid, (0, name))[0]
        if d > 0:
            used[name] = used.get(name, 0) + d
    total = sum(used.values()) / hz / max(seconds, 1e-3)
    top = sorted(used.items(), key=lambda kv: -kv[1])[:3]
    return total, ["%s %.2f" % (n, t / hz / max(seconds, 1e-3))
                   for n, t in top]


def user_ticks(pids):
    """User-mode jiffies of every thread of pids so far."""
    n = 0
    for pid in pids:
        try:
            tids = os.listdir("/proc/%d/task" % pid)
        except OSError:
            continue
        for tid in tids:
            s = read("/proc/%d/task/%s/stat" % (pid, tid))
            try:
                n += int(s[s.rindex(")") + 2:].split()[11])
            except (ValueError, IndexError):
                pass
    return n


def others_user(a, b, cpu, ours_a, ours_b):
    """Share of CPU cpu's time spent in user mode by tasks that are not
    ours (ours_a/ours_b: user_ticks() of our tasks on that CPU at the same
    two moments as the cpu_stat() snapshots a and b). Kernel threads never
    run in user mode, so this is the load of other programs, short-lived
    ones (compilers) included, which per-process ticks miss."""
    dt = b[cpu][1] - a[cpu][1]
    if dt <= 0:
        return float("nan")
    return max(0, (b[cpu][3] - a[cpu][3]) - (ours_b - ours_a)) / dt


def forks():
    """Processes created since boot (/proc/stat): how busy the machine is
    with short-lived processes (builds), which per-process ticks miss."""
    m = re.search(r"^processes (\d+)", read("/proc/stat"), re.M)
    return int(m.group(1)) if m else 0


# ---- processes --------------------------------------------------------------

class Procs:
    """Every process we start, so that only they are ever stopped (by PID)."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.procs = []
        self.n = 0

    def start(self, name, argv, env=None):
        self.n += 1
        path = os.path.join(self.tmp, "%03d-%s.log" % (self.n, name))
        err = path[:-4] + ".err"
        with open(path, "wb") as out, open(err, "wb") as e:
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out,
                                 stderr=e, env=env)
        p.logpath, p.errpath, p.name = path, err, name
        self.procs.append(p)
        return p

    @staticmethod
    def stop(p, grace=5.0):
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(grace)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)
        return p.returncode

    def stop_all(self):
        for p in self.procs:
            self.stop(p, 3.0)
        self.procs = [p for p in self.procs if p.poll() is None]


def json_lines(text):
    out = []
    for line in text.splitlines():
        if line.startswith("{"):
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
    return out


def window_rate(samples, key, t0, t1):
    """Rate of a counter over the samples taken inside [t0, t1]."""
    s = [x for x in samples if "t" in x and key in x and
         t0 - 0.02 <= x["t"] <= t1 + 0.02 and not x.get("summary")]
    if len(s) < 2 or s[-1]["t"] - s[0]["t"] < 0.2:
        return float("nan")
    return (s[-1][key] - s[0][key]) / (s[-1]["t"] - s[0]["t"])


# ---- devices in namespaces -------------------------------------------------

def ns_read(ns, path):
    return sh("ip", "netns", "exec", ns, "cat", path).strip()


def ns_write(ns, path, value):
    sh("ip", "netns", "exec", ns, "sh", "-c", "echo %s > %s" % (value, path))


def xdp_mode(ns, dev):
    """The XDP mode attached on dev: "native", "skb" or None."""
    try:
        j = json.loads(sh("ip", "-j", "-n", ns, "link", "show", "dev",
                          dev))[0]
    except (ValueError, IndexError, RuntimeError):
        return None
    mode = j.get("xdp", {}).get("mode")
    return {1: "native", 2: "skb"}.get(mode, None if mode is None
                                       else "mode %s" % mode)


def xdp_off(ns, dev):
    sh("ip", "-n", ns, "link", "set", "dev", dev, "xdp", "off", check=False)
    sh("ip", "-n", ns, "link", "set", "dev", dev, "xdpgeneric", "off",
       check=False)


def napi_set(ns, dev, busy, threaded=0):
    """The device's NAPI settings: busy=True is the preferred-busy-polling
    setup (napi_defer_hard_irqs=2, gro_flush_timeout=200000), else both 0;
    threaded NAPI as given (written 0 first, so that 1 makes new kthreads
    whose CPU the caller then sets)."""
    base = "/sys/class/net/%s/" % dev
    ns_write(ns, base + "threaded", 0)
    ns_write(ns, base + "napi_defer_hard_irqs", 2 if busy else 0)
    ns_write(ns, base + "gro_flush_timeout", 200000 if busy else 0)
    if threaded:
        ns_write(ns, base + "threaded", 1)


def napi_threads(dev):
    """PIDs of the kernel's threaded-NAPI kthreads named napi/<dev>-<id>."""
    out = set()
    for d in os.listdir("/proc"):
        if d.isdigit():
            name = read("/proc/%s/comm" % d).strip()
            if name.startswith("napi/%s-" % dev):
                out.add(int(d))
    return out


def napi_threads_pin(ns, dev, cpu, timeout=3.0):
    """Threaded NAPI on dev, its kthread(s) pinned to CPU cpu: writes 0
    (which stops the device's kthreads), then 1 and pins the napi/<dev>-*
    kthreads that appeared (others' devices may have the same name).
    Returns their PIDs."""
    path = "/sys/class/net/%s/threaded" % dev
    ns_write(ns, path, 0)
    old = napi_threads(dev)
    ns_write(ns, path, 1)
    new = set()
    wait_for(lambda: new.update(napi_threads(dev) - old) or bool(new),
             timeout)
    if not new:
        raise RuntimeError("no napi/%s-* kthread appeared" % dev)
    for pid in new:
        sh("taskset", "-pc", str(cpu), str(pid))
    return sorted(new)


def wait_up(ns, dev, timeout=5):
    if not wait_for(lambda: ns_read(ns, "/sys/class/net/%s/operstate" %
                                    dev) == "up", timeout):
        raise RuntimeError("%s did not come up" % dev)


# ---- generator and sink -----------------------------------------------------

def start_sink(procs, ns, sink, dev, cpu, secs, interval=0.25):
    """sl-xdpsink (native XDP) on dev: counts and drops; a JSON sample every
    interval seconds. Returns once its program is attached."""
    p = procs.start("sink", [
        "ip", "netns", "exec", ns, "taskset", "-c", str(cpu), sink,
        "--dev", dev, "--mode", "native", "--interval", str(interval),
        "--seconds", str(secs), "--json"])
    if not wait_for(lambda: '"ready"' in read(p.logpath) or
                    p.poll() is not None, 10):
        raise RuntimeError("sink did not attach: " + read(p.errpath))
    if p.poll() is not None:
        raise RuntimeError("sink failed: " + read(p.errpath).strip())
    return p


def start_gen(procs, ns, gen, dev, cpu, secs, src_mac, dst_mac, src_ip,
              dst_ip, size=64, rate=0):
    """sl-xdpgen on dev pinned to CPU cpu, one flow, for secs; unpaced, or
    paced at rate frames per second."""
    argv = ["ip", "netns", "exec", ns, "taskset", "-c", str(cpu), gen,
            "--dev", dev, "--dst-mac", dst_mac, "--src-mac", src_mac,
            "--src-ip", src_ip, "--dst-ip", dst_ip, "--size", str(size),
            "--cpu", str(cpu), "--seconds", str(secs), "--json"]
    if rate:
        argv += ["--rate", str(int(rate))]
    return procs.start("gen", argv)


def gen_mpps(gen):
    """The generator's sent rate from its JSON summary (Mpps)."""
    j = json_lines(read(gen.logpath))
    return j[-1]["sent"] / j[-1]["seconds"] / 1e6 if j and \
        j[-1].get("seconds") else float("nan")


# ---- DPDK testpmd ------------------------------------------------------------

def dpdk_version():
    return sh("dpkg-query", "-W", "-f=${Version}", "dpdk-dev",
              check=False).strip() or "unknown"


def start_testpmd(procs, ns, testpmd, prefix, cpu, vdevs, fwd_mode,
                  burst=32, ring=2048, bpffs=None, shim=None):
    """testpmd in namespace ns, main and forwarding lcore on CPU cpu, the
    given --vdev's, --forward-mode=fwd_mode, started (--auto-start) with
    statistics every second. bpffs: for libxdp (net_af_xdp); shim: the
    LD_PRELOAD library that turns its XDP attach into SKB mode."""
    env = dict(os.environ)
    if bpffs:
        env["LIBXDP_BPFFS"] = bpffs
        # libxdp's dispatcher cannot load here (EXT programs refused):
        # skip the attempt, it attaches the single program either way
        env["LIBXDP_SKIP_DISPATCHER"] = "1"
    if shim:
        env["LD_PRELOAD"] = shim
    argv = ["ip", "netns", "exec", ns, "taskset", "-c", str(cpu), testpmd,
            "--no-huge", "-m", "1024", "--no-pci", "--file-prefix", prefix,
            "--lcores", "0@%d,1@%d" % (cpu, cpu)]
    for v in vdevs:
        argv += ["--vdev", v]
    argv += ["--", "--forward-mode=" + fwd_mode, "--auto-start",
             "--stats-period", "1", "--nb-cores=1", "--burst=%d" % burst,
             "--rxd=%d" % ring, "--txd=%d" % ring]
    p = procs.start("testpmd", argv, env=env)
    ok = wait_for(lambda: "NIC statistics for port 0" in read(p.logpath)
                  or p.poll() is not None, 40)
    if not ok or p.poll() is not None:
        raise RuntimeError("testpmd did not start: " + " | ".join(
            (read(p.logpath) + read(p.errpath)).strip().splitlines()[-6:]))
    if shim and "tp_skb_shim: xsk_socket__create" not in \
            read(p.errpath) + read(p.logpath):
        raise RuntimeError("testpmd SKB mode: the shim was not used")
    return p


def testpmd_counter(text, name):
    """The last value of a testpmd statistics field (e.g. RX-missed) per
    port, in port order of its last statistics block."""
    blocks = text.split("NIC statistics for port ")
    vals = {}
    for b in blocks[1:]:
        port = b.split()[0]
        m = re.search(r"%s:\s+(\d+)" % re.escape(name), b)
        if m:
            vals[port] = int(m.group(1))
    return [vals[k] for k in sorted(vals)]


# ---- results -----------------------------------------------------------------

def finite(v):
    return [x for x in v if x is not None and not math.isnan(x)]


def median(v):
    v = finite(v)
    return statistics.median(v) if v else float("nan")


def num(v):
    return None if v is None or (isinstance(v, float) and
                                 not math.isfinite(v)) else round(v, 6)


def row(case, unit, sreps, preps, peer_name, lower_better=False, **extra):
    """A result row (bench_common.h shape) from the repetitions of both
    sides; speedup > 1 means sluice is better. extra: more fields."""
    s, p = median(sreps), median(preps)
    if math.isnan(s) or math.isnan(p) or s <= 0 or p <= 0:
        sp = float("nan")
    else:
        sp = p / s if lower_better else s / p
    r = {"case": case, "unit": unit, "sluice": num(s), "peer": num(p),
         "peer_name": peer_name, "speedup": num(sp),
         "sluice_reps": [num(x) for x in sreps],
         "peer_reps": [num(x) for x in preps]}
    r.update(extra)
    return r


def machine(build):
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    compiler = "unknown"
    try:
        with open(os.path.join(build, "compile_commands.json")) as f:
            cc = json.load(f)[0]["command"].split()[0]
        first = subprocess.run([cc, "--version"], capture_output=True,
                               text=True).stdout.splitlines()[0]
        ver = subprocess.run([cc, "-dumpfullversion", "-dumpversion"],
                             capture_output=True, text=True).stdout.strip()
        compiler = "%s %s" % ("clang" if "clang" in first else "gcc", ver)
    except (OSError, ValueError, KeyError, IndexError):
        pass
    return {"cpu_model": model, "cpus": os.cpu_count(),
            "kernel": "%s %s" % (platform.system(), platform.release()),
            "arch": platform.machine(), "compiler": compiler, "tsc_hz": 0}


def print_table(doc, good=None):
    """The rows as an aligned table and the summary line; good(row) says
    whether a row meets its mark (default: speedup >= 1.0)."""
    rows = doc["rows"]
    wc = max([len("case")] + [len(r["case"]) for r in rows])
    wu = max([len("unit")] + [len(r["unit"]) for r in rows])
    wp = max([len("peer")] + [len(r["peer_name"]) for r in rows])

    def f(v):
        return "n/a" if v is None else "%.2f" % v
    print("%-*s  %-*s  %10s  %10s  %-*s  %8s" % (
        wc, "case", wu, "unit", "sluice", "peer", wp, "peer", "speedup"))
    fast = 0
    for r in rows:
        sp = r["speedup"]
        if good is not None:
            fast += bool(good(r))
        elif sp is not None and sp >= 1.0:
            fast += 1
        print("%-*s  %-*s  %10s  %10s  %-*s  %8s" % (
            wc, r["case"], wu, r["unit"], f(r["sluice"]), f(r["peer"]), wp,
            r["peer_name"], "n/a" if sp is None else "%.2fx" % sp))
    print("bench-%s: %d rows, %d with speedup >= %s" % (
        doc["name"], len(rows), fast, "target" if good else "1.0"))
    sys.stdout.flush()


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def write_doc(path, doc):
    d = os.path.dirname(path)
    if d:
        os.makedirs(d, exist_ok=True)
    with open(path + ".tmp", "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    os.replace(path + ".tmp", path)
