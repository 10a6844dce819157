#!/usr/bin/env python3
"""bench-fwd runs: forwarding between two veths, sluice against its peers.

Started by bench_fwd.sh, which checks the machine, builds the topology and
removes it afterwards; this program runs the cases, prints the tables and
writes the JSON (bench/bench_common.h shape: rows of case, unit, sluice,
peer, peer_name, speedup; more fields below).

  gen ns [g0] ==veth== [d0]  DUT ns  [d1] ==veth== [s0] sink ns

sl-xdpgen sends 64 B UDP frames (unpaced, XDP live frames) out of g0,
pinned to CPU 0: Ethernet destination d0's MAC, IPv4 from the generator's
subnet to the sink's, so that the kernel can route them. The DUT forwards
d0 -> d1 on CPU 1; sl-xdpsink (XDP on s0) counts what is delivered.
Cases (--cases, all but the stack's by default), each measured once per
repetition, the order reversed every other repetition:

  sluice-xdp-native    sluice-fwd, two net_af_xdp lports, native mode,
                       busy_poll=auto (its default)
  testpmd-xdp-native   testpmd --forward-mode=io, net_af_xdp0/1 on d0/d1
  sluice-xdp-skb       the same two in SKB (generic) mode (testpmd
  testpmd-xdp-skb      through bench/afxdp's tp_skb_shim.so)
  sluice-packet        net_af_packet lports / vdevs
  testpmd-packet
  linux                Linux IP forwarding in the DUT namespace
  redirect-native      XDP redirect d0 -> d1 (fwd_redirect.bpf.c, a devmap)
  redirect-skb         the same program in generic (SKB) mode
  stack-native         sluice-stack (IPv4 forwarding through the stack's
                       graph, tables mirrored from the kernel), two
                       net_af_xdp lports with steer=rules, native mode,
                       busy_poll=auto; kernel IP forwarding off
  stack-skb            the same in SKB (generic) mode

The stack cases are not in the default list (`make bench-stack` names
them); their rows compare stack-native with Linux forwarding, testpmd io
and sluice-fwd on the same backend and mode.

Devices per case: net_af_xdp cases run with preferred busy polling on d0
and d1 (threaded NAPI off, napi_defer_hard_irqs=2, gro_flush_timeout=
200000; testpmd busy_budget=64); net_af_packet cases with neither; the
kernel cases with d0's NAPI threaded and its kthread pinned to CPU 1 (else
the kernel forwards in softirq on the generator's CPU). Per run: reset
the devices, wait until the CPUs are idle, start the sink, the DUT, the
generator; after --warmup a window of --seconds: delivered Mpps from the
sink's samples inside it, DUT CPU per packet = CPU 1's whole-CPU busy
time (/proc/stat) in it / packets delivered in it. A run disturbed by
other programs (user time on CPU 1, or CPU time of processes and kernel
threads that are not ours) is made again (--others-limit,
--foreign-limit, --retries).
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                ".."))
from benchlib import (Procs, busy_frac, cpu_stat, dpdk_version,  # noqa: E402
                      finite, forks, gen_mpps, json_lines, log, machine,
                      median, others_user, user_ticks,
                      napi_set, napi_threads_pin, ns_read, ns_write, num,
                      other_load, print_table, proc_ticks, read, row, sh,
                      start_gen, start_sink, start_testpmd, steal_frac,
                      testpmd_counter, utc_now, wait_for, wait_idle,
                      wait_up, window_rate, write_doc, xdp_mode, xdp_off)

GEN_CPU = 0
DUT_CPU = 1
FRAME = 64
BURST = 32
RING = 2048
# sluice-stack: its graph (options.graph: eth_rx and every node it
# reaches, the forwarding path; docs/stack.md) and its statistics interval
STACK_GRAPH = ("eth_rx",)
STACK_INTERVAL = 0.5
G_IP, D0_IP = "198.18.1.1", "198.18.1.2"   # gen subnet 198.18.1.0/30
D1_IP, S_IP = "198.18.2.1", "198.18.2.2"   # sink subnet 198.18.2.0/30

# name: (DUT, backend, XDP mode, label)
CASES = {
    "sluice-xdp-native": ("sluice", "af_xdp", "native",
                          "sluice-fwd, net_af_xdp native"),
    "testpmd-xdp-native": ("testpmd", "af_xdp", "native",
                           "testpmd io, net_af_xdp native"),
    "sluice-xdp-skb": ("sluice", "af_xdp", "skb",
                       "sluice-fwd, net_af_xdp SKB"),
    "testpmd-xdp-skb": ("testpmd", "af_xdp", "skb",
                        "testpmd io, net_af_xdp SKB"),
    "sluice-packet": ("sluice", "af_packet", None,
                      "sluice-fwd, net_af_packet"),
    "testpmd-packet": ("testpmd", "af_packet", None,
                       "testpmd io, net_af_packet"),
    "linux": ("linux", None, None, "Linux IP forwarding"),
    "redirect-native": ("redirect", None, "native",
                        "XDP redirect d0->d1, native"),
    "redirect-skb": ("redirect", None, "skb",
                     "XDP redirect d0->d1, generic"),
    "stack-native": ("stack", "af_xdp", "native",
                     "sluice-stack, net_af_xdp native"),
    "stack-skb": ("stack", "af_xdp", "skb",
                  "sluice-stack, net_af_xdp SKB"),
}
# --cases default (bench-fwd): every case but the stack's
DEFAULT_CASES = [c for c in CASES if CASES[c][0] != "stack"]
SMOKE_CASES = ["sluice-xdp-native", "testpmd-xdp-native", "linux"]


class Bench:
    def __init__(self, a):
        self.a = a
        self.tmp = tempfile.mkdtemp(prefix="sl-bench-fwd.")
        self.procs = Procs(self.tmp)
        self.nprefix = 0
        self.nperf = 0
        self.runs = []
        self.problems = []
        self.disturbed = 0
        G, D, S = a.ns_gen, a.ns_dut, a.ns_sink
        self.mac = {"g0": ns_read(G, "/sys/class/net/g0/address"),
                    "d0": ns_read(D, "/sys/class/net/d0/address"),
                    "d1": ns_read(D, "/sys/class/net/d1/address"),
                    "s0": ns_read(S, "/sys/class/net/s0/address")}
        self.tp_version = dpdk_version()

    # -- topology state before each run -----------------------------------

    def reset(self, case):
        """Devices up without XDP programs, the neighbours back (a DPDK
        PMD sets its devices down when it stops, which flushes even
        permanent entries), IP forwarding only for the Linux case, the
        NAPI settings of the case."""
        a = self.a
        dut, backend, _, _ = CASES[case]
        G, D, S = a.ns_gen, a.ns_dut, a.ns_sink
        for dev in ("d0", "d1"):
            xdp_off(D, dev)
            sh("ip", "-n", D, "link", "set", dev, "up")
        sh("ip", "-n", G, "link", "set", "g0", "up")
        sh("ip", "-n", S, "link", "set", "s0", "up")
        for ns, ip, dev, peer in ((G, D0_IP, "g0", "d0"),
                                  (D, G_IP, "d0", "g0"),
                                  (D, S_IP, "d1", "s0"),
                                  (S, D1_IP, "s0", "d1")):
            sh("ip", "-n", ns, "neigh", "replace", ip, "lladdr",
               self.mac[peer], "dev", dev, "nud", "permanent")
        ns_write(D, "/proc/sys/net/ipv4/ip_forward",
                 1 if dut == "linux" else 0)
        busy = backend == "af_xdp" and a.xdp_setting == "busy"
        napi_set(D, "d0", busy)
        napi_set(D, "d1", busy)
        for ns, dev in ((G, "g0"), (D, "d0"), (D, "d1"), (S, "s0")):
            wait_up(ns, dev)

    # -- the DUTs -------------------------------------------------------------

    def sluice_config(self, case):
        _, backend, mode, _ = CASES[case]
        lport = {"pmd": "net_af_xdp" if backend == "af_xdp"
                 else "net_af_packet", "umem": "umem0"}
        if backend == "af_xdp":
            lport["mode"] = mode
            if self.a.xdp_setting == "plain":
                # else busy_poll=auto would defer the devices' NAPI itself
                lport["busy_poll"] = False
        else:
            lport["options"] = "qdisc_bypass=" + self.a.packet_qdisc_bypass
        return {
            "application": {"name": "bench-fwd"},
            "umems": {"umem0": {"bufcnt": 16, "bufsz": 2, "rxdesc": 2,
                                "txdesc": 2, "mtype": "4KB"}},
            "lports": {"d0:0": dict(lport), "d1:0": dict(lport)},
            "lcore-groups": {"dut": [DUT_CPU]},
            "threads": {"fwd:0": {"group": "dut",
                                  "lports": ["d0:0", "d1:0"]}},
            "options": {"mode": "fwd", "fwd-pairs": ["d0:0 d1:0"],
                        "burst": self.a.sluice_burst},
        }

    def start_sluice(self, case, secs):
        a = self.a
        _, backend, mode, _ = CASES[case]
        cfg = os.path.join(self.tmp, "%s.jsonc" % case)
        with open(cfg, "w") as f:
            f.write("// bench-fwd: %s\n" % CASES[case][3])
            json.dump(self.sluice_config(case), f, indent=2)
            f.write("\n")
        p = self.procs.start("sluice-fwd", [
            "ip", "netns", "exec", a.ns_dut, "taskset", "-c", str(DUT_CPU),
            a.sluice_fwd, "-c", cfg, "--json", "--seconds", str(secs)])
        if backend == "af_xdp":
            ok = wait_for(lambda: (xdp_mode(a.ns_dut, "d0") is not None and
                                   xdp_mode(a.ns_dut, "d1") is not None) or
                          p.poll() is not None, 15)
        else:
            # net_af_packet attaches nothing: wait for its first statistics
            ok = wait_for(lambda: read(p.logpath).strip() != "" or
                          p.poll() is not None, 15)
        time.sleep(0.3)
        if not ok or p.poll() is not None:
            raise RuntimeError("sluice-fwd did not start: " + " | ".join(
                (read(p.logpath) + read(p.errpath)).strip()
                .splitlines()[-6:]))
        return p

    def stack_config(self, case):
        """sluice-stack: the lports of sluice-fwd's case on the same UMEM,
        opened with steer=rules (the app adds its "transit xsk" rule after
        the first sync of the kernel tables), one thread of type stack."""
        _, _, mode, _ = CASES[case]
        lport = {"pmd": "net_af_xdp", "umem": "umem0", "mode": mode,
                 "options": "steer=rules"}
        if self.a.xdp_setting == "plain":
            lport["busy_poll"] = False
        return {
            "application": {"name": "bench-stack"},
            "umems": {"umem0": {"bufcnt": 16, "bufsz": 2, "rxdesc": 2,
                                "txdesc": 2, "mtype": "4KB"}},
            "lports": {"d0:0": dict(lport), "d1:0": dict(lport)},
            "lcore-groups": {"dut": [DUT_CPU]},
            "threads": {"stack:0": {"group": "dut",
                                    "lports": ["d0:0", "d1:0"]}},
            "options": {"graph": list(STACK_GRAPH), "steer-transit": True},
        }

    def start_stack(self, case, secs):
        """sluice-stack in the DUT namespace; returns once its first
        statistics line is out (the tables are synced and the transit
        rule is in: from then on d0's transit frames reach sluice)."""
        a = self.a
        cfg = os.path.join(self.tmp, "%s.jsonc" % case)
        with open(cfg, "w") as f:
            f.write("// bench-fwd: %s\n" % CASES[case][3])
            json.dump(self.stack_config(case), f, indent=2)
            f.write("\n")
        p = self.procs.start("sluice-stack", [
            "ip", "netns", "exec", a.ns_dut, "taskset", "-c", str(DUT_CPU),
            a.sluice_stack, "-c", cfg, "--json", "--interval",
            str(STACK_INTERVAL), "--seconds", str(secs)])
        ok = wait_for(lambda: any("t" in j for j in
                                  json_lines(read(p.logpath))) or
                      p.poll() is not None, 25)
        if not ok or p.poll() is not None:
            raise RuntimeError("sluice-stack did not start: " + " | ".join(
                (read(p.logpath) + read(p.errpath)).strip()
                .splitlines()[-6:]))
        fwd = ns_read(a.ns_dut, "/proc/sys/net/ipv4/ip_forward")
        if fwd != "0":
            raise RuntimeError("net.ipv4.ip_forward is %s in the DUT "
                               "namespace: the kernel would forward too"
                               % fwd)
        return p

    def start_testpmd(self, case):
        a = self.a
        _, backend, mode, _ = CASES[case]
        self.nprefix += 1
        if backend == "af_xdp":
            vdevs = ["net_af_xdp%d,iface=d%d,start_queue=0,queue_count=1,"
                     "busy_budget=%d" % (i, i, 64 if a.xdp_setting == "busy"
                                         else 0) for i in (0, 1)]
        else:
            vdevs = ["net_af_packet%d,iface=d%d,qdisc_bypass=%d" % (
                i, i, a.packet_qdisc_bypass == "yes") for i in (0, 1)]
        return start_testpmd(
            self.procs, a.ns_dut, a.testpmd,
            "%s_%d" % (a.file_prefix, self.nprefix), DUT_CPU, vdevs, "io",
            burst=BURST, ring=RING,
            bpffs=a.bpffs if backend == "af_xdp" else None,
            shim=a.shim if mode == "skb" else None)

    def start_redirect(self, mode, secs):
        a = self.a
        p = self.procs.start("fwd-redirect-load", [
            "ip", "netns", "exec", a.ns_dut, "taskset", "-c", str(GEN_CPU),
            a.loader, "--obj", a.redirect_obj, "--dev", "d0", "--to", "d1",
            "--mode", mode, "--seconds", str(secs), "--json"])
        ok = wait_for(lambda: '"ready"' in read(p.logpath) or
                      p.poll() is not None, 10)
        if not ok or p.poll() is not None:
            raise RuntimeError("fwd-redirect-load failed: " +
                               read(p.errpath).strip()[-400:])
        return p

    def dev_stats(self):
        """Drop counters of the DUT's devices (read between windows)."""
        out = {}
        try:
            for j in json.loads(sh("ip", "-j", "-s", "-n", self.a.ns_dut,
                                   "link", "show")):
                st = j.get("stats64", {})
                out[j["ifname"]] = (st.get("rx", {}).get("dropped", 0),
                                    st.get("tx", {}).get("dropped", 0))
        except (ValueError, KeyError, RuntimeError):
            pass
        return out

    # -- one run ------------------------------------------------------------------

    def run_one(self, case):
        """Measure one case once: a dict of the delivered Mpps, the DUT's
        ns/pkt and what else the run saw."""
        a = self.a
        dut_kind, backend, mode, _ = CASES[case]
        w, warm = a.seconds, a.warmup
        life = w + warm + 15
        self.reset(case)
        idle = wait_idle(timeout=3.0 if a.quick else 10.0)
        before = proc_ticks()
        tstart = time.monotonic()
        ours = []
        dut = gen = None
        kthreads = []
        try:
            sink = start_sink(self.procs, a.ns_sink, a.sink, "s0", GEN_CPU,
                              life + 15)
            ours.append(sink.pid)
            if dut_kind == "sluice":
                dut = self.start_sluice(case, life)
            elif dut_kind == "stack":
                dut = self.start_stack(case, life)
            elif dut_kind == "testpmd":
                dut = self.start_testpmd(case)
            elif dut_kind == "redirect":
                dut = self.start_redirect(mode, life)
            if dut is not None:
                ours.append(dut.pid)
            if mode is not None:
                for dev in (("d0", "d1") if backend else ("d0",)):
                    got = xdp_mode(a.ns_dut, dev)
                    if got != mode:
                        raise RuntimeError("%s: XDP program on %s in %s mode"
                                           ", not %s" % (case, dev, got,
                                                         mode))
            if dut_kind in ("linux", "redirect"):
                # the kernel is the DUT: d0's receive work (and what it
                # forwards) in a NAPI kthread on the DUT's CPU
                kthreads = napi_threads_pin(a.ns_dut, "d0", DUT_CPU)
                ours.extend(kthreads)
            drops0 = self.dev_stats()
            gen = start_gen(self.procs, a.ns_gen, a.gen, "g0", GEN_CPU,
                            warm + w + 0.5, self.mac["g0"], self.mac["d0"],
                            G_IP, S_IP, FRAME, rate=a.gen_rate)
            ours.append(gen.pid)
            time.sleep(warm)
            dut_tasks = kthreads if dut_kind in ("linux", "redirect") \
                else [dut.pid]
            gen_side = [os.getpid(), sink.pid, gen.pid] + (
                [dut.pid] if dut_kind == "redirect" else [])
            u0, g0, f0 = user_ticks(dut_tasks), user_ticks(gen_side), forks()
            s0, t0 = cpu_stat(), time.monotonic()
            perf = None
            if a.perf_dir:
                self.nperf += 1
                perf = self.procs.start("perf", [
                    "perf", "record", "-q", "-a", "-g", "-o", os.path.join(
                        a.perf_dir, "%02d-%s.data" % (self.nperf, case)),
                    "--", "sleep", str(min(w, 2.0))])
            time.sleep(w)
            s1, t1 = cpu_stat(), time.monotonic()
            u1, g1, f1 = user_ticks(dut_tasks), user_ticks(gen_side), forks()
            if perf is not None:
                ours.append(perf.pid)
                perf.wait(30)
            try:
                gen.wait(30)
            except subprocess.TimeoutExpired:
                raise RuntimeError("the generator did not stop")
            if gen.returncode != 0:
                raise RuntimeError("generator failed: " +
                                   read(gen.errpath).strip()[-400:])
            time.sleep(0.3)
            if dut is not None and dut.poll() is not None:
                raise RuntimeError("%s died during the run (exit %s): %s" % (
                    dut.name, dut.returncode,
                    read(dut.errpath).strip()[-400:]))
            drops1 = self.dev_stats()
            if dut is not None:
                self.procs.stop(dut)
            self.procs.stop(sink)
            rate = window_rate(json_lines(read(sink.logpath)), "packets",
                               t0, t1)
            if dut_kind == "stack":
                check_stack(dut, sink)
        finally:
            self.procs.stop_all()
        busy1 = busy_frac(s0, s1, DUT_CPU)
        busy0 = busy_frac(s0, s1, GEN_CPU)
        steal = steal_frac(s0, s1)
        secs = time.monotonic() - tstart
        after = proc_ticks()
        other, top = other_load(before, after, set(ours), secs)
        foreign = foreign_load(before, after, set(ours), secs)
        ns_pkt = busy1 * 1e9 / rate if rate > 0 else float("nan")
        sent = gen_mpps(gen)
        others1 = others_user(s0, s1, DUT_CPU, u0, u1)
        others0 = others_user(s0, s1, GEN_CPU, g0, g1)
        fork_rate = (f1 - f0) / max(t1 - t0, 1e-3)
        detail = {"mpps": rate / 1e6, "ns_pkt": ns_pkt, "cpu1_busy": busy1,
                  "cpu0_busy": busy0, "gen_mpps": sent, "steal": steal,
                  "other_cpus": other, "idle_wait_busy": idle,
                  "others_cpu1": others1, "others_cpu0": others0,
                  "foreign_cpus": foreign, "forks_per_s": fork_rate}
        extra = self.dut_note(case, dut, drops0, drops1, kthreads)
        note = ("%s: %.3f Mpps, CPU%d %.0f%% busy = %.1f ns/pkt; CPU%d "
                "%.0f%%, generator %.2f Mpps sent; %s; other programs on "
                "CPU%d %.1f%%, on CPU%d %.1f%%, forks %.0f/s, idle wait "
                "%.0f%% busy, others %.2f CPU (%s), without ksoftirqd "
                "%.2f, steal %.0f%%" % (
                    case, rate / 1e6, DUT_CPU, busy1 * 100, ns_pkt,
                    GEN_CPU, busy0 * 100, sent, extra, DUT_CPU,
                    others1 * 100, GEN_CPU, others0 * 100, fork_rate,
                    idle * 100, other, ", ".join(top), foreign,
                    steal * 100))
        self.runs.append(note)
        log("  " + note)
        return detail

    def dut_note(self, case, dut, drops0, drops1, kthreads):
        parts = []
        for dev in ("d0", "d1"):
            if dev in drops0 and dev in drops1:
                parts.append("%s rx_dropped +%d" % (
                    dev, drops1[dev][0] - drops0[dev][0]))
        kind = CASES[case][0]
        if kind == "testpmd":
            text = read(dut.logpath)
            parts.append("testpmd RX-missed %s, RX %s, TX %s" % (
                "/".join(map(str, testpmd_counter(text, "RX-missed"))),
                "/".join(map(str, testpmd_counter(text, "RX-packets"))),
                "/".join(map(str, testpmd_counter(text, "TX-packets")))))
        elif kind == "sluice":
            parts.append(sluice_summary(read(dut.logpath)))
        elif kind == "stack":
            parts.append(stack_summary(read(dut.logpath)))
        elif kthreads:
            parts.append("napi kthread(s) %s on CPU %d" % (
                ",".join(map(str, kthreads)), DUT_CPU))
        return ", ".join(parts)

    def disturbance(self, d):
        """How disturbed a run was: above 1 when other programs used more
        than --others-limit of the DUT's CPU in user mode, or processes
        and kernel threads that are not ours (ksoftirqd aside) more than
        --foreign-limit CPUs over the run (another namespace's NAPI
        kthreads or iperf3 run in the kernel, which the first misses)."""
        return max(d["others_cpu1"] / self.a.others_limit,
                   d["foreign_cpus"] / self.a.foreign_limit)

    def measure(self, case):
        """One run of the case; a disturbed run (disturbance() > 1) is
        made again, at most --retries times, and the least disturbed one
        kept."""
        best = None
        for attempt in range(1 + self.a.retries):
            try:
                d = self.run_one(case)
            except (RuntimeError, OSError, subprocess.SubprocessError) as e:
                msg = "%s: %s" % (case, e)
                self.problems.append(msg)
                log("  FAILED " + msg)
                self.procs.stop_all()
                return best
            d["attempt"] = attempt + 1
            if best is None or self.disturbance(d) < self.disturbance(best):
                best = d
            if not self.disturbance(d) > 1:
                break
            self.disturbed += 1
            log("  (disturbed: other programs used %.1f%% of CPU %d in "
                "user mode, %.2f CPUs in all; %s)" % (
                    d["others_cpu1"] * 100, DUT_CPU, d["foreign_cpus"],
                    "again" if attempt < self.a.retries
                    else "kept the least disturbed run"))
        return best


def foreign_load(before, after, ours, seconds):
    """CPUs used over a run by the processes and kernel threads that are
    not ours (proc_ticks() before and after), the ksoftirqd threads
    aside: they carry the softirq work of our own traffic."""
    hz = os.sysconf("SC_CLK_TCK")
    used = 0
    for pid, (t, name) in after.items():
        if pid in ours or pid == os.getpid() or \
                name.startswith("ksoftirqd/"):
            continue
        used += max(0, t - before.get(pid, (0, name))[0])
    return used / hz / max(seconds, 1e-3)


def sluice_summary(text):
    """The counters of sluice-fwd's last JSON line that explain a run."""
    j = json_lines(text)
    if not j:
        return "sluice-fwd printed no statistics"
    last = j[-1]
    lp = last.get("lports", {})
    d0, d1 = lp.get("d0:0", {}), lp.get("d1:0", {})
    drops = {}
    for port in (d0, d1):
        for k, v in port.get("drops", {}).items():
            drops[k] = drops.get(k, 0) + (v or 0)
    thr = ", ".join("thread %s cpu %.2f sleeps %s" % (
        n, t.get("cpu", float("nan")), t.get("sleeps"))
        for n, t in last.get("threads", {}).items())
    return "sluice-fwd d0 rx %s, d1 tx %s, drops %s, %s" % (
        d0.get("rx"), d1.get("tx"),
        " ".join("%s=%d" % kv for kv in sorted(drops.items()) if kv[1])
        or "none", thr)


def stack_last(text):
    """sluice-stack's last statistics object (its summary when it
    stopped), or None."""
    j = [x for x in json_lines(text) if "nodes" in x]
    return j[-1] if j else None


def stack_summary(text):
    """The counters of sluice-stack's summary that explain a run."""
    last = stack_last(text)
    if last is None:
        return "sluice-stack printed no statistics"
    nodes = last.get("nodes", {})
    drops = last.get("drops", {})
    return "sluice-stack %s, drops %s" % (
        " ".join("%s %s" % (n, nodes.get(n)) for n in (
            "eth_rx", "ip4_forward", "eth_tx", "punt", "drop")),
        " ".join("%s=%d" % kv for kv in sorted(drops.items()) if kv[1])
        or "none")


def check_stack(dut, sink):
    """Only sluice forwarded: the sink's count over the whole run is at
    most what sluice-stack's eth_tx node handled (kernel forwarding is off
    in the DUT; a frame the kernel forwarded would be counted by the sink
    and not by the stack). Raises RuntimeError otherwise."""
    last = stack_last(read(dut.logpath))
    if last is None or "summary" not in last:
        raise RuntimeError("sluice-stack printed no summary: " +
                           read(dut.errpath).strip()[-400:])
    sent = last.get("nodes", {}).get("eth_tx", 0)
    j = [x for x in json_lines(read(sink.logpath)) if x.get("summary")]
    if not j:
        raise RuntimeError("the sink printed no summary")
    got = j[-1].get("packets", 0)
    if got > sent * 1.001 + 64:
        raise RuntimeError("the sink counted %d frames, sluice-stack's "
                           "eth_tx %d: something else forwarded" % (got,
                                                                   sent))


# ---- results --------------------------------------------------------------

def stats_of(details, key):
    v = finite([d[key] if d else float("nan") for d in details])
    return {"median": num(median(v)), "min": num(min(v) if v else None),
            "max": num(max(v) if v else None),
            "reps": [num(d[key]) if d else None for d in details]}


def ratio_rows(runs, cases):
    """The result rows: sluice against testpmd per backend and mode,
    sluice's native net_af_xdp against the kernel's forwarding paths, and
    sluice-stack against Linux forwarding, testpmd and sluice-fwd."""
    rows = []

    def vals(case, key):
        return [d[key] if d else float("nan") for d in runs[case]]

    def add(name, s, p, peer_name, target):
        for key, unit, lower in (("mpps", "Mpps", False),
                                 ("ns_pkt", "ns/pkt", True)):
            sv, pv = vals(s, key), vals(p, key)
            fs, fp = finite(sv), finite(pv)
            rows.append(row(
                "%s: %s" % (name, "delivered" if key == "mpps"
                            else "DUT CPU"), unit, sv, pv, peer_name,
                lower_better=lower, target=target,
                sluice_min=num(min(fs)) if fs else None,
                sluice_max=num(max(fs)) if fs else None,
                peer_min=num(min(fp)) if fp else None,
                peer_max=num(max(fp)) if fp else None,
                sluice_case=s, peer_case=p))

    # the stack: against the kernel (target 1.0), testpmd io on the same
    # backend and mode (a forwarder that touches no frame: the reference
    # for a user-space app there) and sluice-fwd (what the stack costs
    # over plain L2 forwarding); the last two have no target
    for st, peer, name, peer_name, target in (
            ("stack-native", "linux",
             "stack 64 B, native vs Linux forwarding", "Linux forwarding",
             1.0),
            ("stack-native", "testpmd-xdp-native",
             "stack 64 B, native vs testpmd io",
             "testpmd io", None),
            ("stack-native", "sluice-xdp-native",
             "stack 64 B, native vs sluice-fwd", "sluice-fwd", None),
            ("stack-skb", "testpmd-xdp-skb",
             "stack 64 B, SKB vs testpmd io", "testpmd io",
             None),
            ("stack-skb", "sluice-xdp-skb",
             "stack 64 B, SKB vs sluice-fwd", "sluice-fwd", None)):
        if st in cases and peer in cases:
            add(name, st, peer, peer_name, target)
    for sl, tp, name, target in (
            ("sluice-xdp-native", "testpmd-xdp-native",
             "fwd 64 B, net_af_xdp native", 1.1),
            ("sluice-xdp-skb", "testpmd-xdp-skb",
             "fwd 64 B, net_af_xdp SKB", 1.1),
            ("sluice-packet", "testpmd-packet",
             "fwd 64 B, net_af_packet", 2.0)):
        if sl in cases and tp in cases:
            add(name, sl, tp, "testpmd", target)
    sl = "sluice-xdp-native"
    for peer, name, peer_name, target in (
            ("linux", "fwd 64 B, sluice native vs Linux forwarding",
             "Linux forwarding", 1.0),
            ("redirect-native", "fwd 64 B, sluice native vs XDP redirect",
             "XDP redirect native", 0.6),
            ("redirect-skb", "fwd 64 B, sluice native vs generic XDP "
             "redirect", "XDP redirect generic", None)):
        if sl in cases and peer in cases:
            add(name, sl, peer, peer_name, target)
    return rows


def print_cases(case_rows):
    print("%-32s %8s %8s %8s %9s %5s %8s %9s" % (
        "case (64 B, delivered at s0)", "Mpps", "min", "max", "ns/pkt",
        "CPU1", "gen Mpps", "others1"))

    def f(v, fmt="%.3f"):
        return "n/a" if v is None else fmt % v
    for c in case_rows:
        busy = c["cpu1_busy"]["median"]
        print("%-32s %8s %8s %8s %9s %5s %8s %9s" % (
            c["label"], f(c["mpps"]["median"]), f(c["mpps"]["min"]),
            f(c["mpps"]["max"]), f(c["ns_pkt"]["median"], "%.1f"),
            f(None if busy is None else busy * 100, "%.0f%%"),
            f(c["gen_mpps"]["median"], "%.2f"),
            f(None if c["others_cpu1"]["max"] is None else
              c["others_cpu1"]["max"] * 100, "%.1f%%")))
    print()


def meets(r):
    t = r.get("target")
    return r["speedup"] is not None and r["speedup"] >= (t or 1.0)


def on_signal(sig, frame):
    raise SystemExit(128 + sig)


def main():
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", required=True)
    ap.add_argument("--ns-gen", required=True)
    ap.add_argument("--ns-dut", required=True)
    ap.add_argument("--ns-sink", required=True)
    ap.add_argument("--testpmd", required=True)
    ap.add_argument("--bpffs", required=True)
    ap.add_argument("--file-prefix", required=True)
    ap.add_argument("--out", default="bench/results/fwd.json")
    ap.add_argument("--name", default="fwd",
                    help="the results' name (JSON \"name\", chart title "
                         "bench-NAME; bench-stack: stack)")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=5.0,
                    help="measurement window of one run")
    ap.add_argument("--warmup", type=float, default=1.0)
    ap.add_argument("--cases", default=",".join(DEFAULT_CASES),
                    help="comma-separated, of: " + ", ".join(CASES) +
                    " (default: all but the stack-* cases)")
    ap.add_argument("--quick", action="store_true",
                    help="1 repetition of 1.5 s windows")
    ap.add_argument("--smoke", action="store_true",
                    help="--quick with 1 s windows, cases %s unless "
                         "--cases; fails unless the sink counted packets "
                         "in every case" % ",".join(SMOKE_CASES))
    ap.add_argument("--keep", action="store_true", help="keep the logs")
    ap.add_argument("--sluice-fwd", default="",
                    help="the sluice-fwd executable (default: the build's)")
    ap.add_argument("--sluice-stack", default="",
                    help="the sluice-stack executable (default: the "
                         "build's)")
    ap.add_argument("--sluice-burst", type=int, default=32,
                    help="sluice-fwd's receive burst (options.burst)")
    ap.add_argument("--packet-qdisc-bypass", choices=["yes", "no"],
                    default="yes",
                    help="PACKET_QDISC_BYPASS on both sides' net_af_packet "
                         "sockets (testpmd's default: yes; sluice's: no)")
    ap.add_argument("--xdp-setting", choices=["busy", "plain"],
                    default="busy",
                    help="net_af_xdp cases: busy = preferred busy polling "
                         "(default), plain = none on either side")
    ap.add_argument("--gen-rate", type=float, default=0,
                    help="pace the generator at this many frames per "
                         "second (diagnosis; default 0: unpaced)")
    ap.add_argument("--retries", type=int, default=2,
                    help="runs made again when disturbed (default 2)")
    ap.add_argument("--others-limit", type=float, default=0.03,
                    help="a run is disturbed when other programs used more "
                         "than this share of the DUT's CPU (default 0.03)")
    ap.add_argument("--foreign-limit", type=float, default=0.1,
                    help="... or when processes and kernel threads that "
                         "are not ours (ksoftirqd aside) used more than "
                         "this many CPUs over the run (default 0.1)")
    ap.add_argument("--perf-dir", default="",
                    help="perf record -a -g of up to 2 s of each window "
                         "there (diagnosis: it perturbs the run)")
    a = ap.parse_args()
    tag = "bench-" + a.name
    if a.smoke:
        a.quick, a.retries = True, 0
        if a.cases == ",".join(DEFAULT_CASES):
            a.cases = ",".join(SMOKE_CASES)
    if a.quick:
        a.reps, a.seconds, a.warmup = 1, (1.0 if a.smoke else 1.5), 0.7
    cases = [c for c in a.cases.split(",") if c]
    if (a.reps < 1 or a.reps > 32 or a.seconds < 1 or not cases or
            not 0 <= a.retries <= 10 or a.others_limit <= 0 or
            a.foreign_limit <= 0 or
            any(c not in CASES for c in cases) or
            len(set(cases)) != len(cases)):
        log(tag + ": --reps 1..32, --seconds >= 1, --cases from: " +
            ", ".join(CASES))
        return 2
    if a.perf_dir:
        os.makedirs(a.perf_dir, exist_ok=True)
        if not shutil.which("perf"):
            log(tag + ": --perf-dir needs perf (linux-perf)")
            return 2
    if (os.cpu_count() or 1) < 2:
        print(tag + ": skipped: needs 2 CPUs (generator and DUT)")
        return 77
    a.gen = os.path.join(a.build, "apps/xdpgen/sl-xdpgen")
    a.sink = os.path.join(a.build, "apps/xdpgen/sl-xdpsink")
    a.shim = os.path.join(a.build, "bench/afxdp/tp_skb_shim.so")
    a.loader = os.path.join(a.build, "bench/fwd/fwd-redirect-load")
    a.redirect_obj = os.path.join(a.build, "bench/fwd/fwd_redirect.bpf.o")
    a.sluice_fwd = a.sluice_fwd or os.path.join(a.build,
                                                "apps/fwd/sluice-fwd")
    a.sluice_stack = a.sluice_stack or os.path.join(
        a.build, "apps/stack/sluice-stack")
    need = [a.gen, a.sink]
    if any(CASES[c][0] == "sluice" for c in cases):
        need.append(a.sluice_fwd)
    if any(CASES[c][0] == "stack" for c in cases):
        need.append(a.sluice_stack)
    if any(CASES[c][0] == "redirect" for c in cases):
        need += [a.loader, a.redirect_obj]
    if any(CASES[c][0] == "testpmd" and CASES[c][2] == "skb"
           for c in cases):
        need.append(a.shim)
    missing = [p for p in need if not os.path.exists(p)]
    if missing:
        log(tag + ": not built: " + ", ".join(missing))
        return 1
    # this program and the tools it runs stay off the DUT's CPU
    try:
        os.sched_setaffinity(0, {GEN_CPU})
    except OSError:
        pass

    b = Bench(a)
    runs = {c: [] for c in cases}
    t_start = time.monotonic()
    with open("/proc/loadavg") as f:
        load_start = f.read().split()[:3]
    try:
        for rep in range(a.reps):
            log("%s: repetition %d/%d" % (tag, rep + 1, a.reps))
            for c in (cases if rep % 2 == 0 else cases[::-1]):
                runs[c].append(b.measure(c))
    finally:
        b.procs.stop_all()
        if not a.keep:
            shutil.rmtree(b.tmp, ignore_errors=True)
        else:
            log(tag + ": logs in " + b.tmp)

    case_rows = []
    for c in cases:
        d = runs[c]
        case_rows.append({
            "case": c, "label": CASES[c][3], "dut": CASES[c][0],
            "backend": CASES[c][1], "xdp_mode": CASES[c][2],
            "mpps": stats_of(d, "mpps"), "ns_pkt": stats_of(d, "ns_pkt"),
            "cpu1_busy": stats_of(d, "cpu1_busy"),
            "cpu0_busy": stats_of(d, "cpu0_busy"),
            "gen_mpps": stats_of(d, "gen_mpps"),
            "other_cpus": stats_of(d, "other_cpus"),
            "others_cpu1": stats_of(d, "others_cpu1"),
            "others_cpu0": stats_of(d, "others_cpu0"),
            "foreign_cpus": stats_of(d, "foreign_cpus")})
    rows = ratio_rows(runs, cases)
    config = {
        "reps": a.reps, "quick": "yes" if a.quick else "no",
        "window_s": a.seconds, "warmup_s": a.warmup, "frame_bytes": FRAME,
        "cases_run": ",".join(cases),
        "order": "every case once per repetition, the order reversed every "
                 "other repetition",
        "topology": "gen ns [g0] ==veth== [d0] DUT ns [d1] ==veth== [s0] "
                    "sink ns, one queue each; GRO on g0, d0, d1, s0; IPv6 "
                    "off; g0 %s/30, d0 %s/30, d1 %s/30, s0 %s/30; "
                    "permanent neighbours (re-added before every run); "
                    "net.ipv4.ip_forward 1 in the DUT ns only for the "
                    "Linux case (0 checked in the stack cases)"
                    % (G_IP, D0_IP, D1_IP, S_IP),
        "generator": "sl-xdpgen on CPU %d: XDP live frames, XDP_TX out of "
                     "g0, %s, 64 B Ethernet/IPv4/UDP, one flow, "
                     "%s -> %s, destination MAC d0's" % (
                         GEN_CPU, "paced at %.0f pps" % a.gen_rate
                         if a.gen_rate else "unpaced", G_IP, S_IP),
        "sink": "sl-xdpsink (native XDP) on s0 counts and drops; samples "
                "every 0.25 s; delivered rate = its count over the window",
        "cpu_per_packet": "CPU %d whole-CPU busy time (/proc/stat user+nice"
                          "+system+irq+softirq) over the window / packets "
                          "delivered in it. Where the kernel's work runs: "
                          "d1's transmit and s0's receive (the sink's XDP "
                          "program) on CPU %d in every case; d0's receive "
                          "(its XDP program or GRO and the copy into the "
                          "XSK or packet socket) in softirq on CPU %d "
                          "after the generator's batches for the "
                          "net_af_xdp and net_af_packet cases, and in d0's "
                          "NAPI kthread on CPU %d for the Linux and XDP "
                          "redirect cases" % (DUT_CPU, DUT_CPU, GEN_CPU,
                                              DUT_CPU),
        "settings": {
            "af_xdp": ("preferred busy polling: d0, d1 threaded NAPI off, "
                       "napi_defer_hard_irqs=2, gro_flush_timeout=200000; "
                       "sluice lports busy_poll=auto (default: 20 us, "
                       "budget 64); testpmd busy_budget=64 (20 us)")
            if a.xdp_setting == "busy" else
            ("no busy polling (--xdp-setting plain): d0, d1 threaded "
             "NAPI off, napi_defer_hard_irqs=0, gro_flush_timeout=0; "
             "sluice lports busy_poll false; testpmd busy_budget=0"),
            "af_packet": "d0, d1 threaded NAPI off, napi_defer_hard_irqs=0,"
                         " gro_flush_timeout=0; ip_forward 0 (the kernel "
                         "drops its own copy of each frame on d0); "
                         "PACKET_QDISC_BYPASS %s on both sides (sluice "
                         "lport option qdisc_bypass, testpmd devarg "
                         "qdisc_bypass; each side's other defaults: "
                         "sluice blocksz 64 KB and 2048 frames per ring, "
                         "testpmd blocksz 4 KB, framecnt 512)"
                         % a.packet_qdisc_bypass,
            "kernel": "d0 threaded NAPI, its kthread pinned to CPU %d; "
                      "d1 not threaded (nothing arrives there)" % DUT_CPU},
        "sluice": "sluice-fwd -c <generated JSONC> --json: umem0 16K "
                  "buffers of 2 KB, rx/tx descriptors 2048, 4 KB pages; "
                  "lports d0:0, d1:0; one thread on CPU %d; mode fwd, pair "
                  "d0:0 d1:0; process under taskset -c %d"
                  % (DUT_CPU, DUT_CPU),
        "stack": "sluice-stack -c <generated JSONC> --json --interval %g: "
                 "the same UMEM and lports as sluice-fwd's (busy_poll "
                 "auto, or false with --xdp-setting plain), each with "
                 "options steer=rules; options graph %s, steer-transit "
                 "true (a 'transit xsk' rule on d0 and d1 after the "
                 "first sync of the kernel tables: the connected route "
                 "to %s/30 and the permanent neighbour %s on d1); one "
                 "thread of type stack on CPU %d (receive burst 64); "
                 "process under taskset -c %d; the run starts after its "
                 "first statistics line; checked after each run: "
                 "ip_forward 0, the sink's count <= the stack's eth_tx "
                 "count" % (STACK_INTERVAL, json.dumps(list(STACK_GRAPH)),
                            "198.18.2.0", S_IP, DUT_CPU, DUT_CPU),
        "peer": "DPDK testpmd %s: --no-huge -m 1024 --no-pci --lcores "
                "0@%d,1@%d --vdev net_af_xdp0,iface=d0,start_queue=0,"
                "queue_count=1,busy_budget=64 --vdev net_af_xdp1,iface=d1,"
                "... (or net_af_packet0/1,iface=d0/d1) --forward-mode=io "
                "--burst=%d --rxd=%d --txd=%d; SKB mode through "
                "LD_PRELOAD=tp_skb_shim.so (bench/afxdp); "
                "LIBXDP_SKIP_DISPATCHER=1" % (b.tp_version, DUT_CPU,
                                              DUT_CPU, BURST, RING, RING),
        "xdp_redirect": "fwd_redirect.bpf.c: bpf_redirect_map() through "
                        "a DEVMAP holding d1, attached to d0 by "
                        "fwd-redirect-load with a BPF link (native: "
                        "XDP_FLAGS_DRV_MODE, generic: XDP_FLAGS_SKB_MODE)",
        "targets": "speedup >= 1.1 vs testpmd on the same backend and mode "
                   "(>= 2 on net_af_packet), >= 1.0 vs Linux forwarding, "
                   ">= 0.6 of XDP redirect native; stack rows: >= 1.0 vs "
                   "Linux forwarding, none vs testpmd io and sluice-fwd "
                   "(references; the summary line counts them against "
                   "1.0)",
        "disturbance": "other programs on CPU %d = its user-mode time in "
                       "the window minus the DUT's own (/proc/stat, "
                       "/proc/<pid>/task/*/stat), short-lived processes "
                       "included; foreign = CPU time of the processes and "
                       "kernel threads that are not ours over the run "
                       "(/proc/<pid>/stat, ksoftirqd aside). Runs above %g "
                       "of the window on CPU %d or %g CPUs foreign were "
                       "made again (up to %d times, the least disturbed "
                       "kept): %d such runs" % (
                           DUT_CPU, a.others_limit, DUT_CPU,
                           a.foreign_limit, a.retries, b.disturbed),
        "load_before": "loadavg %s at start" % " ".join(load_start),
        "runs": b.runs,
        "duration_s": round(time.monotonic() - t_start, 1),
    }
    if b.problems:
        config["problems"] = b.problems
    doc = {"name": a.name, "date": utc_now(), "machine": machine(a.build),
           "config": config, "cases": case_rows, "rows": rows}
    write_doc(a.out, doc)
    print_cases(case_rows)
    if rows:
        print_table(doc, good=meets)
    log("%s: %.0f s; results in %s" % (tag, config["duration_s"], a.out))
    bad = [c["case"] for c in case_rows
           if c["mpps"]["median"] is None or c["mpps"]["median"] <= 0]
    if bad:
        log(tag + ": nothing delivered (or not measured) in: " +
            ", ".join(bad))
        for p in b.problems:
            log("  " + p)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
