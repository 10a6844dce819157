#!/usr/bin/env python3
"""bench-afxdp runs: sluice's net_af_xdp against DPDK testpmd's net_af_xdp.

Started by bench_afxdp.sh, which checks the machine, builds the topology
(gen ns [g0] ==veth== [d0] DUT ns) and removes it afterwards; this program
runs the cases, prints the table and writes the JSON (bench/bench_common.h
shape: rows of case, unit, sluice, peer, peer_name, speedup).

Cases (64 B frames, unpaced generator, one DUT core), each in native and
SKB mode, sluice and testpmd alternating (the order flips every
repetition), medians of --reps repetitions:
  rx-drop            the DUT receives and drops; counted at the DUT
  MAC-swap loopback  the DUT swaps the Ethernet addresses and sends the
                     frames back out of d0; counted by the sink on g0
Per run: sl-xdpgen on CPU 0 (g0, XDP_TX of live frames), the DUT on CPU 1
(sluice: afxdp-dut, or sl-pkt with --sluice-dut sl-pkt; testpmd: main and
forwarding lcore on CPU 1, rxonly/macswap). The rate is measured over a
window that starts after a warm-up; the DUT's CPU time per packet is
CPU 1's whole-CPU busy time (/proc/stat) over the window / packets.
"""

import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                ".."))
from benchlib import (Procs, busy_frac, cpu_stat, dpdk_version,  # noqa: E402
                      gen_mpps, json_lines, log, machine, napi_set,
                      ns_read, other_load, print_table, proc_ticks, read,
                      row, sh, start_gen, start_sink, start_testpmd,
                      steal_frac, utc_now, wait_for, wait_idle, wait_up,
                      window_rate, write_doc, xdp_off)
from benchlib import xdp_mode as ns_xdp_mode  # noqa: E402

GEN_CPU = 0
DUT_CPU = 1
FRAME = 64
BURST = 32
RING = 2048
IDLE_US = 5.0
G_IP, D_IP = "198.18.0.1", "198.18.0.2"


# ---- the benchmark -----------------------------------------------------------------

class Bench:
    def __init__(self, a):
        self.a = a
        self.tmp = tempfile.mkdtemp(prefix="sl-bench-afxdp.")
        self.procs = Procs(self.tmp)
        self.nprefix = 0
        self.nperf = 0
        self.runs = []
        self.problems = []
        self.gmac = ns_read(a.ns_gen, "/sys/class/net/g0/address")
        self.dmac = ns_read(a.ns_dut, "/sys/class/net/d0/address")
        self.tp_version = dpdk_version()

    # -- topology state before each run -------------------------------------

    def reset_dut_dev(self, setting):
        """d0 up, no XDP program, neighbours back (a DPDK PMD sets the
        device down when it stops, which flushes them), the NAPI settings
        of the run."""
        D, G = self.a.ns_dut, self.a.ns_gen
        xdp_off(D, "d0")
        sh("ip", "-n", D, "link", "set", "d0", "up")
        sh("ip", "-n", G, "link", "set", "g0", "up")
        sh("ip", "-n", G, "neigh", "replace", D_IP, "lladdr", self.dmac,
           "dev", "g0", "nud", "permanent")
        sh("ip", "-n", D, "neigh", "replace", G_IP, "lladdr", self.gmac,
           "dev", "d0", "nud", "permanent")
        napi_set(D, "d0", busy=setting == "busy")
        wait_up(D, "d0")

    def xdp_mode(self):
        """The XDP mode on d0: "native", "skb" or None."""
        return ns_xdp_mode(self.a.ns_dut, "d0")

    # -- the processes ---------------------------------------------------------

    def start_sink(self, secs):
        return start_sink(self.procs, self.a.ns_gen, self.a.sink, "g0",
                          GEN_CPU, secs)

    def lport_opts(self, mode, setting):
        o = "mode=" + mode
        if setting == "busy":
            o += ",busy_poll=yes,busy_timeout=20,busy_budget=64"
        else:
            o += ",busy_poll=no"  # the lport's default is auto
        return o

    def start_sluice(self, case, mode, setting, secs):
        ns = ["ip", "netns", "exec", self.a.ns_dut, "taskset", "-c",
              str(DUT_CPU)]
        if self.a.sluice_dut == "sl-pkt":
            argv = ns + [self.a.slpkt, "--mode",
                         "rx" if case == "rxdrop" else "echo",
                         "--backend", "net_af_xdp", "--ifname", "d0",
                         "--options", self.lport_opts(mode, setting),
                         "--count", "0", "--seconds", str(secs),
                         "--burst", str(self.a.sluice_burst),
                         "--cpu", str(DUT_CPU),
                         "--wait-link", "5", "--json"]
            p = self.procs.start("sl-pkt", argv)
            # sl-pkt says nothing when ready: wait for our program on d0
            ok = wait_for(lambda: self.xdp_mode() is not None or
                          p.poll() is not None, 10)
            time.sleep(0.3)
        else:
            argv = ns + [self.a.dut, "--mode", case, "--ifname", "d0",
                         "--options", self.lport_opts(mode, setting),
                         "--burst", str(self.a.sluice_burst),
                         "--ring", str(self.a.sluice_ring),
                         "--seconds", str(secs), "--interval", "0.25",
                         "--cpu", str(DUT_CPU)]
            if self.a.tx_budget:
                argv += ["--tx-budget", str(self.a.tx_budget)]
            if self.a.idle_us:
                argv += ["--idle-us", str(self.a.idle_us)]
            p = self.procs.start("afxdp-dut", argv)
            ok = wait_for(lambda: '"ready"' in read(p.logpath) or
                          p.poll() is not None, 10)
        if not ok or p.poll() is not None:
            raise RuntimeError("sluice DUT did not start: " +
                               read(p.errpath).strip()[-600:])
        return p

    def start_testpmd(self, case, mode, setting):
        self.nprefix += 1
        vdev = ("net_af_xdp0,iface=d0,start_queue=0,queue_count=1,"
                "busy_budget=%d" % (64 if setting == "busy" else 0))
        return start_testpmd(
            self.procs, self.a.ns_dut, self.a.testpmd,
            "%s_%d" % (self.a.file_prefix, self.nprefix), DUT_CPU, [vdev],
            "rxonly" if case == "rxdrop" else "macswap", burst=BURST,
            ring=RING, bpffs=self.a.bpffs,
            shim=self.a.shim if mode == "skb" else None)

    # -- one run ----------------------------------------------------------------

    def run_one(self, side, case, mode, setting):
        """Measure one side of one row; (Mpps, ns/pkt, note)."""
        a = self.a
        w, warm = a.seconds, a.warmup
        self.reset_dut_dev(setting)
        idle = wait_idle(timeout=3.0 if a.quick else 10.0)
        before = proc_ticks()
        tstart = time.monotonic()
        ours = []
        sink = dut = None
        try:
            if case == "macswap":
                sink = self.start_sink(w + warm + 30)
                ours.append(sink.pid)
            if side == "sluice":
                dut = self.start_sluice(case, mode, setting, w + warm + 6)
            else:
                dut = self.start_testpmd(case, mode, setting)
            ours.append(dut.pid)
            got = self.xdp_mode()
            if got != mode:
                raise RuntimeError("%s attached its XDP program in %s mode, "
                                   "not %s" % (side, got, mode))
            gen = start_gen(self.procs, a.ns_gen, a.gen, "g0", GEN_CPU,
                            warm + w + 0.5, self.gmac, self.dmac, G_IP, D_IP,
                            FRAME)
            ours.append(gen.pid)
            time.sleep(warm)
            s0, t0 = cpu_stat(), time.monotonic()
            if a.perf_dir:
                self.nperf += 1
                perf = self.procs.start("perf", [
                    "perf", "record", "-q", "-a", "-g", "-o", os.path.join(
                        a.perf_dir, "%02d-%s-%s-%s-%s.data" % (
                            self.nperf, case, mode, side, setting)),
                    "--", "sleep", str(min(w, 2.0))])
            time.sleep(w)
            s1, t1 = cpu_stat(), time.monotonic()
            if a.perf_dir:
                perf.wait(30)
            try:
                gen.wait(30)
            except subprocess.TimeoutExpired:
                raise RuntimeError("the generator did not stop")
            if gen.returncode != 0:
                raise RuntimeError("generator failed: " +
                                   read(gen.errpath).strip()[-400:])
            time.sleep(0.3)
            if dut.poll() is not None:
                raise RuntimeError("%s died during the run: %s" % (
                    side, read(dut.errpath).strip()[-400:]))
            self.procs.stop(dut)
            if sink is not None:
                self.procs.stop(sink)
            rate, extra = self.rate_of(side, case, dut, sink, t0, t1)
        finally:
            self.procs.stop_all()
        busy1 = busy_frac(s0, s1, DUT_CPU)
        busy0 = busy_frac(s0, s1, GEN_CPU)
        steal = steal_frac(s0, s1)
        secs = time.monotonic() - tstart
        other, top = other_load(before, proc_ticks(), set(ours), secs)
        ns_pkt = busy1 * 1e9 / rate if rate > 0 else float("nan")
        sent = gen_mpps(gen)
        note = ("%s %s %s [%s]: %.3f Mpps, CPU%d %.0f%% busy = %.1f ns/pkt; "
                "CPU%d %.0f%%, generator %.2f Mpps sent; %s; idle wait %.0f%% "
                "busy, others %.2f CPU (%s), steal %.0f%%" % (
                    case, mode, side, setting, rate / 1e6, DUT_CPU,
                    busy1 * 100, ns_pkt, GEN_CPU, busy0 * 100, sent, extra,
                    idle * 100, other, ", ".join(top), steal * 100))
        self.runs.append(note)
        log("  " + note)
        return rate / 1e6, ns_pkt

    def rate_of(self, side, case, dut, sink, t0, t1):
        """Packets per second over [t0, t1] and a note on the DUT."""
        if case == "macswap":
            rate = window_rate(json_lines(read(sink.logpath)), "packets",
                               t0, t1)
        elif side == "sluice" and self.a.sluice_dut == "sl-pkt":
            j = json_lines(read(dut.logpath))
            rate = j[-1]["active_mpps"] * 1e6 if j else float("nan")
        elif side == "sluice":
            rate = window_rate(json_lines(read(dut.logpath)), "rx", t0, t1)
        else:
            # testpmd's Rx-pps of each 1 s period; the first and last
            # non-zero ones are partial periods
            pps = [int(x) for x in re.findall(r"Rx-pps:\s+(\d+)",
                                              read(dut.logpath))]
            nz = [x for x in pps if x > 0]
            rate = statistics.mean(nz[1:-1]) if len(nz) >= 3 else float("nan")
        if side == "testpmd":
            m = re.findall(r"RX-missed:\s+(\d+)", read(dut.logpath))
            extra = "testpmd RX-missed %s" % (m[-1] if m else "?")
        elif self.a.sluice_dut == "sl-pkt":
            j = json_lines(read(dut.logpath))
            extra = "sl-pkt imissed %s" % (j[-1].get("imissed") if j else "?")
        else:
            summ = [x for x in json_lines(read(dut.logpath))
                    if x.get("summary")]
            xs = re.search(r"rx_fill_ring_empty_descs (\d+)",
                           read(dut.errpath))
            rf = re.search(r"rx_ring_full (\d+)", read(dut.errpath))
            extra = "afxdp-dut empty polls %s, fill-ring-empty drops %s, " \
                    "RX-ring-full drops %s, socket NAPI id %s" % (
                        "%.0f%%" % (100.0 * summ[0]["empty"] /
                                    max(1, summ[0]["polls"]))
                        if summ else "?",
                        xs.group(1) if xs else "?", rf.group(1) if rf else "?",
                        summ[0].get("napi_id", "?") if summ else "?")
        return rate, extra

    def measure(self, side, case, mode, setting):
        try:
            return self.run_one(side, case, mode, setting)
        except (RuntimeError, OSError, subprocess.SubprocessError) as e:
            msg = "%s %s %s [%s]: %s" % (case, mode, side, setting, e)
            self.problems.append(msg)
            log("  FAILED " + msg)
            self.procs.stop_all()
            return float("nan"), float("nan")



def on_signal(sig, frame):
    raise SystemExit(128 + sig)


CASE_NAME = {"rxdrop": "rx-drop", "macswap": "MAC-swap loopback"}


def main():
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", required=True)
    ap.add_argument("--ns-gen", required=True)
    ap.add_argument("--ns-dut", required=True)
    ap.add_argument("--testpmd", required=True)
    ap.add_argument("--bpffs", required=True)
    ap.add_argument("--file-prefix", required=True)
    ap.add_argument("--out", default="bench/results/afxdp.json")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=5.0,
                    help="measurement window of one run")
    ap.add_argument("--warmup", type=float, default=1.0)
    ap.add_argument("--quick", action="store_true",
                    help="1 repetition of 1.5 s windows: a smoke run")
    ap.add_argument("--keep", action="store_true", help="keep the logs")
    ap.add_argument("--sluice-dut", choices=["afxdp-dut", "sl-pkt"],
                    default="afxdp-dut")
    ap.add_argument("--settings", default="busy",
                    help="busy (preferred busy polling), plain (none), or "
                         "both: busy,plain")
    ap.add_argument("--modes", default="native,skb")
    ap.add_argument("--cases", default="rxdrop,macswap")
    ap.add_argument("--perf-dir", default="",
                    help="record perf -a -g for up to 2 s of each window "
                         "there (diagnosis: it perturbs the run)")
    ap.add_argument("--sluice-burst", type=int, default=BURST,
                    help="burst of the sluice DUT (testpmd: %d)" % BURST)
    ap.add_argument("--sluice-ring", type=int, default=RING,
                    help="RX/TX ring entries of the sluice DUT (testpmd: "
                         "%d)" % RING)
    ap.add_argument("--idle-us", type=float, default=IDLE_US,
                    help="afxdp-dut: back-off after an empty poll, in us "
                         "(0: none; default %g)" % IDLE_US)
    ap.add_argument("--tx-budget", type=int, default=0,
                    help="afxdp-dut: XDP_MAX_TX_SKB_BUDGET (0: kernel's)")
    a = ap.parse_args()
    if a.quick:
        a.reps, a.seconds, a.warmup = 1, 1.5, 0.7
    settings = [s for s in a.settings.split(",") if s]
    modes = [m for m in a.modes.split(",") if m]
    cases = [c for c in a.cases.split(",") if c]
    if (a.reps < 1 or a.reps > 32 or a.seconds < 1 or
            not 1 <= a.sluice_burst <= 256 or
            any(s not in ("busy", "plain") for s in settings) or
            any(m not in ("native", "skb") for m in modes) or
            any(c not in CASE_NAME for c in cases) or not settings):
        log("bench-afxdp: --reps 1..32, --seconds >= 1, --settings "
            "busy|plain, --modes native|skb, --cases rxdrop|macswap")
        return 2
    if a.perf_dir:
        os.makedirs(a.perf_dir, exist_ok=True)
        if not shutil.which("perf"):
            log("bench-afxdp: --perf-dir needs perf (linux-perf)")
            return 2
    if (os.cpu_count() or 1) < 2:
        print("bench-afxdp: skipped: needs 2 CPUs (generator and DUT)")
        return 77
    a.gen = os.path.join(a.build, "apps/xdpgen/sl-xdpgen")
    a.sink = os.path.join(a.build, "apps/xdpgen/sl-xdpsink")
    a.dut = os.path.join(a.build, "bench/afxdp/afxdp-dut")
    a.shim = os.path.join(a.build, "bench/afxdp/tp_skb_shim.so")
    a.slpkt = os.path.join(a.build, "tests/tools/sl-pkt")
    # this program and the tools it runs stay off the DUT's CPU
    try:
        os.sched_setaffinity(0, {GEN_CPU})
    except OSError:
        pass

    b = Bench(a)
    keys = [(c, m, s) for s in settings for c in cases for m in modes]
    reps = {(k, side): ([], []) for k in keys for side in ("sluice",
                                                          "testpmd")}
    t_start = time.monotonic()
    load_start = open("/proc/loadavg").read().split()[:3]
    try:
        for rep in range(a.reps):
            log("bench-afxdp: repetition %d/%d" % (rep + 1, a.reps))
            for i, k in enumerate(keys):
                order = ("sluice", "testpmd") if (rep + i) % 2 == 0 else \
                    ("testpmd", "sluice")
                for side in order:
                    mpps, nsp = b.measure(side, *k)
                    reps[(k, side)][0].append(mpps)
                    reps[(k, side)][1].append(nsp)
    finally:
        b.procs.stop_all()
        if not a.keep:
            shutil.rmtree(b.tmp, ignore_errors=True)
        else:
            log("bench-afxdp: logs in " + b.tmp)

    rows = []
    for (c, m, s) in keys:
        tag = "" if s == "busy" and len(settings) == 1 else \
            (", busy poll" if s == "busy" else ", no busy poll")
        name = "%s 64 B, %s%s" % (CASE_NAME[c], m, tag)
        sl, tp = reps[((c, m, s), "sluice")], reps[((c, m, s), "testpmd")]
        rows.append(row(name + ": delivered", "Mpps", sl[0], tp[0],
                        "testpmd"))
        rows.append(row(name + ": DUT CPU", "ns/pkt", sl[1], tp[1],
                        "testpmd", lower_better=True))
    if "native" in modes and "skb" in modes:
        for s in settings:
            for c in cases:
                nat = reps[((c, "native", s), "sluice")]
                skb = reps[((c, "skb", s), "sluice")]
                tag = "" if len(settings) == 1 else \
                    (", busy poll" if s == "busy" else ", no busy poll")
                rows.append(row("sluice %s 64 B%s: native vs SKB" % (
                    CASE_NAME[c], tag), "Mpps", nat[0], skb[0],
                    "sluice SKB mode"))
    config = {
        "reps": a.reps, "quick": "yes" if a.quick else "no",
        "window_s": a.seconds, "warmup_s": a.warmup, "frame_bytes": FRAME,
        "burst": BURST, "rings": RING,
        "topology": "gen ns [g0] ==veth== [d0] DUT ns, one queue; GRO on on "
                    "g0 and d0; IPv6 off; addresses %s/%s, permanent "
                    "neighbours (re-added before every run: DPDK sets d0 "
                    "down when it stops)" % (G_IP, D_IP),
        "cpus": "generator (sl-xdpgen and its helper thread) on CPU %d; DUT "
                "on CPU %d (testpmd: --lcores 0@%d,1@%d, main and forwarding "
                "lcore); this script, the sink process and the tools on CPU "
                "%d" % (GEN_CPU, DUT_CPU, DUT_CPU, DUT_CPU, GEN_CPU),
        "generator": "sl-xdpgen: BPF_PROG_RUN with BPF_F_TEST_XDP_LIVE_FRAMES"
                     ", XDP_TX out of g0, batch 256, unpaced, 64 B "
                     "Ethernet/IPv4/UDP, one flow; two threads on CPU %d "
                     "keep the program in the kernel's XDP dispatcher"
                     % GEN_CPU,
        "settings": {"busy": "preferred busy polling: d0 threaded NAPI off, "
                             "napi_defer_hard_irqs=2, gro_flush_timeout="
                             "200000; sluice lport busy_poll=yes,"
                             "busy_timeout=20,busy_budget=64; testpmd "
                             "busy_budget=64 (its busy timeout is 20 us)",
                     "plain": "no busy polling: d0 napi_defer_hard_irqs=0, "
                              "gro_flush_timeout=0; sluice lport without "
                              "busy_poll (busy_poll=no); testpmd busy_budget=0"},
        "settings_run": ",".join(settings),
        "sluice_dut": ("afxdp-dut (bench/afxdp/afxdp_dut.c): one lport, "
                       "rx_burst %d, free / swap MACs + tx_burst; rings %d, "
                       "pool 16384 x 2048 B; backs off %g us after an empty "
                       "poll (a tight poll of the empty RX ring takes the "
                       "cache line of its producer index from the kernel "
                       "on CPU %d, which then receives less; testpmd has no "
                       "such setting)" % (a.sluice_burst, a.sluice_ring,
                                         a.idle_us, GEN_CPU))
        if a.sluice_dut == "afxdp-dut" else
        "sl-pkt --mode rx --count 0 / --mode echo, burst %d" % a.sluice_burst,
        "sluice_tx_budget": a.tx_budget or "kernel default",
        "peer": "DPDK testpmd %s: --no-huge -m 1024 --no-pci, --vdev "
                "net_af_xdp0,iface=d0,start_queue=0,queue_count=1,"
                "busy_budget=64|0, --forward-mode=rxonly|macswap --burst=%d "
                "--rxd=%d --txd=%d; LIBXDP_SKIP_DISPATCHER=1" % (
                    b.tp_version, BURST, RING, RING),
        "peer_skb_mode": "testpmd 22.11's net_af_xdp has no XDP-mode option "
                         "(it attaches native on a veth); its SKB rows run "
                         "with LD_PRELOAD=tp_skb_shim.so, which sets "
                         "XDP_FLAGS_SKB_MODE in the flags it passes to "
                         "libxdp's xsk_socket__create() and to "
                         "bpf_xdp_detach(); every run checks the mode "
                         "attached on d0 (ip -j link)",
        "rate_rxdrop": "sluice: the DUT's received-packet samples (every "
                       "0.25 s) over the window; testpmd: mean of its 1 s "
                       "Rx-pps values, first and last non-zero dropped",
        "rate_loopback": "both: sl-xdpsink (XDP, native) on g0, samples "
                         "every 0.25 s over the window",
        "cpu_per_packet": "CPU %d whole-CPU busy time (/proc/stat user+nice"
                          "+system+irq+softirq) over the window / packets "
                          "delivered in it. In loopback the sink's receive "
                          "work on g0 runs in softirq on CPU %d too (after "
                          "the DUT's sendto()): the same for both sides"
                          % (DUT_CPU, DUT_CPU),
        "how_to_read": "XSK busy polling needs the socket's NAPI id, "
                       "which the veth leaves 0 on the kernels tried (each "
                       "afxdp-dut run records it: 'socket NAPI id'); then "
                       "busy_poll/busy_budget do not bring d0's receive "
                       "work to the DUT core: it runs in softirq on CPU "
                       "%d after the generator's batches, in native and SKB "
                       "mode. rx-drop thus measures how much the DUT lets "
                       "CPU %d deliver (cache lines of the rings shared by "
                       "the cores, drops when the fill ring runs dry); the "
                       "DUT core mostly polls ('empty polls'), and in the "
                       "busy setting each empty poll of either side also "
                       "makes a recvfrom() that polls nothing. In loopback "
                       "the DUT core is ~90%% kernel for both sides: "
                       "copy-mode TX (xsk_generic_xmit: skb, copy, "
                       "veth_xmit) and the sink's NAPI on g0 run inside its "
                       "sendto()" % (GEN_CPU, GEN_CPU),
        "load_before": "loadavg %s at start" % " ".join(load_start),
        "runs": "; ".join(b.runs)[:20000],
        "duration_s": round(time.monotonic() - t_start, 1),
    }
    if b.problems:
        config["problems"] = "; ".join(b.problems)[:4000]
    doc = {"name": "afxdp", "date": utc_now(),
           "machine": machine(a.build), "config": config, "rows": rows}
    write_doc(a.out, doc)
    print_table(doc)
    log("bench-afxdp: %.0f s; results in %s" % (config["duration_s"], a.out))
    bad = [r["case"] for r in rows if r["sluice"] is None or r["peer"] is None]
    if bad:
        log("bench-afxdp: no valid value for: " + ", ".join(bad))
        for p in b.problems:
            log("  " + p)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
