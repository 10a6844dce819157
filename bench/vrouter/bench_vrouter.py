#!/usr/bin/env python3
"""bench-vrouter: c1 -> c2 through two OSPF routers, sluice-stack against
kernel forwarding.

    c1 ---- r1 ==== r2 ---- c2      (scripts/vrouter.py, FRR's OSPF)

Two cases, the same topology and FRR configuration in both:
  sluice  kernel forwarding off on r1 and r2, sluice-stack on each
          (net_af_xdp lports on both devices, steer=rules);
  linux   no sluice, net.ipv4.ip_forward=1 on r1 and r2.
Each run builds the topology, starts FRR (and sluice-stack), waits for
OSPF and measures, one after the other:
  tcp       iperf3 TCP, one stream, c1 -> c2 (received Gbit/s);
  udp-1400  iperf3 UDP, unpaced (-b 0), 1400-byte datagrams (received
            Gbit/s);
  64B       sl-xdpgen on c1 (unpaced 64 B frames, CPU 0) to sl-xdpsink on
            c2 (delivered Mpps).
The cases alternate: every repetition runs both, the order reversed every
other repetition; the figures are medians. A run during which programs
outside its namespaces used more than 0.05 CPU is made again (up to twice,
the least disturbed one counts). Nothing is pinned except the
generator (CPU 0): on a machine with few CPUs the hosts, the generator and
both routers share them, so the figures are those of the whole system.

usage: bench_vrouter.py [--build DIR] [--out FILE] [--reps N] [--seconds S]
                        [--mode native|skb] [--quick] [--no-plot]
Exit: 0; 1 a run failed; 77 skipped (not root, no FRR, no net_af_xdp or
sl-xdpgen).
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts"))
sys.path.insert(0, os.path.join(HERE, ".."))
import slnet  # noqa: E402
import vrouter  # noqa: E402
from benchlib import (Procs, busy_frac, cpu_stat, json_lines, log,  # noqa
                      machine, median, other_load, print_table, proc_ticks,
                      read,
                      row, start_gen, start_sink, utc_now, wait_idle,
                      window_rate, write_doc)

CASES = ("sluice", "linux")
GEN_CPU = 0
FRAME = 64
METRICS = (("tcp", "Gbit/s"), ("udp-1400", "Gbit/s"), ("64B", "Mpps"))
DISTURBED = 0.05  # CPUs used by other programs during a run
REDO = 2


def skip(msg):
    print("bench-vrouter: skipped: " + msg, file=sys.stderr)
    sys.exit(77)


class Bench:
    def __init__(self, a):
        self.a = a
        self.stack = os.path.join(a.build, "apps/stack/sluice-stack")
        self.gen = os.path.join(a.build, "apps/xdpgen/sl-xdpgen")
        self.sink = os.path.join(a.build, "apps/xdpgen/sl-xdpsink")
        self.runs = []
        self.redone = 0

    def iperf(self, vr, udp):
        s0 = cpu_stat()
        extra = ["-l", "1400"] if udp else ["-O", "1"]
        rep = vr.iperf3(udp=udp, seconds=self.a.seconds, bitrate="0",
                        extra=extra)
        s1 = cpu_stat()
        bps, _, text = vrouter.iperf3_summary(rep, udp)
        return bps / 1e9, "%s; CPU busy %.0f%% %.0f%%" % (
            text, busy_frac(s0, s1, 0) * 100, busy_frac(s0, s1, 1) * 100)

    def frames(self, vr, case, tmp):
        """sl-xdpgen c1 -> sl-xdpsink c2: delivered Mpps."""
        a = self.a
        procs = Procs(tmp)
        warm, w = 1.0, a.seconds
        try:
            before = vr.stats("r1")["nodes"] if case == "sluice" else None
            sink = start_sink(procs, vr.ns["c2"], self.sink, "c2-r2",
                              GEN_CPU, warm + w + 10)
            gen = start_gen(procs, vr.ns["c1"], self.gen, "c1-r1", GEN_CPU,
                            warm + w + 0.5, vr.mac[("c1", "c1-r1")],
                            vr.mac[("r1", "r1-c1")], vrouter.C1,
                            vrouter.C2, FRAME)
            time.sleep(warm)
            s0, t0 = cpu_stat(), time.monotonic()
            time.sleep(w)
            s1, t1 = cpu_stat(), time.monotonic()
            try:
                gen.wait(30)
            except subprocess.TimeoutExpired:
                raise slnet.TopoError("the generator did not stop")
            if gen.returncode != 0:
                raise slnet.TopoError("sl-xdpgen failed: " +
                                      read(gen.errpath)[-400:])
            time.sleep(0.3)
            procs.stop(sink)
            samples = json_lines(read(sink.logpath))
            rate = window_rate(samples, "packets", t0, t1)
            total = samples[-1].get("packets", 0) if samples else 0
            sent = json_lines(read(gen.logpath))
            sent = sent[-1]["sent"] if sent else 0
            note = "64B: %.3f Mpps delivered, %d of %d frames sent; CPU " \
                "busy %.0f%% %.0f%%" % (rate / 1e6, total, sent,
                                       busy_frac(s0, s1, 0) * 100,
                                       busy_frac(s0, s1, 1) * 100)
            if case == "sluice":
                after = vr.stats("r1")["nodes"]
                fwd = after["ip4_forward"] - before["ip4_forward"]
                note += "; r1 sluice ip4_forward +%d" % fwd
                if fwd < total:
                    raise slnet.TopoError("sink counted %d frames, r1's "
                                          "sluice forwarded %d" %
                                          (total, fwd))
            return rate / 1e6, note
        finally:
            procs.stop_all()

    def run_one(self, case, rep):
        a = self.a
        vr = vrouter.VRouter(self.stack, mode=a.mode,
                             forwarding="sluice" if case == "sluice"
                             else "kernel")
        tmp = tempfile.mkdtemp(prefix="slvb-")
        out = {}
        notes = []
        try:
            vr.setup()
            if case == "sluice":
                vr.start_sluice()
            vr.start_frr()
            dt = vr.wait_ospf(timeout=20)
            if dt is None:
                raise slnet.TopoError("OSPF did not converge in 20 s")
            vr.permanent_neighbours()
            fwd = vr.exec("r1", "sysctl", "-n", "net.ipv4.ip_forward") \
                .stdout.strip()
            if fwd != ("0" if case == "sluice" else "1"):
                raise slnet.TopoError("r1: ip_forward %s in case %s" %
                                      (fwd, case))
            n, _ = vr.ping(count=3)
            if n != 3:
                raise slnet.TopoError("ping c1 -> c2: %d/3" % n)
            idle = wait_idle(timeout=5.0)
            t_start, ticks = time.monotonic(), proc_ticks()
            out["tcp"], t = self.iperf(vr, udp=False)
            notes.append(t)
            out["udp-1400"], t = self.iperf(vr, udp=True)
            notes.append(t)
            out["64B"], t = self.frames(vr, case, tmp)
            notes.append(t)
            # ours: what runs in the run's namespaces (and this script)
            ours = vr.topo.pids()
            after = proc_ticks()
            other, top = other_load(ticks, after, ours,
                                    time.monotonic() - t_start)
            note = "rep %d %s: OSPF %.1f s, idle wait %.0f%% busy; %s; " \
                "other programs %.2f CPU (%s)" % (
                    rep + 1, case, dt, idle * 100, "; ".join(notes), other,
                    ", ".join(top))
            self.runs.append(note)
            log("  " + note)
            return out, other
        finally:
            vr.close()
            subprocess.run(["rm", "-rf", tmp])

    def run(self):
        a = self.a
        reps = {c: {m: [] for m, _ in METRICS} for c in CASES}
        t0 = time.monotonic()
        load = read("/proc/loadavg").split()[:3]
        for rep in range(a.reps):
            order = CASES if rep % 2 == 0 else CASES[::-1]
            for case in order:
                # a run that other programs disturbed is made again, up
                # to twice; the least disturbed one counts
                best = None
                for _ in range(1 + REDO):
                    r, other = self.run_one(case, rep)
                    if best is None or other < best[1]:
                        best = (r, other)
                    if other <= DISTURBED:
                        break
                    self.redone += 1
                for m, _ in METRICS:
                    reps[case][m].append(best[0][m])
        rows = [row(m, unit, reps["sluice"][m], reps["linux"][m],
                    "linux-fwd") for m, unit in METRICS]
        # the absolute 64 B rates (plot.py's second panel)
        cases = []
        for c, label in (("sluice", "sluice-stack routers, 64 B"),
                         ("linux", "kernel-forwarding routers, 64 B")):
            v = reps[c]["64B"]
            cases.append({"case": c, "label": label,
                          "mpps": {"median": median(v), "min": min(v),
                                   "max": max(v), "reps": v}})
        doc = {
            "name": "vrouter",
            "date": utc_now(),
            "machine": machine(a.build),
            "config": {
                "reps": a.reps,
                "window_s": a.seconds,
                "mode": a.mode,
                "order": "both cases once per repetition, the order "
                         "reversed every other repetition",
                "topology": "c1 198.18.1.2/24 -- r1 (198.18.1.1, "
                            "198.18.12.1) -- r2 (198.18.12.2, 198.18.2.1)"
                            " -- c2 198.18.2.2/24, veth pairs, GRO on, TX "
                            "checksum offload off on the hosts; FRR 8 "
                            "zebra and ospfd on r1 and r2 (point-to-point,"
                            " hello 1 s, dead 4 s); permanent neighbours "
                            "for the hosts on the routers and the routers "
                            "on the hosts (the sink drops ARP)",
                "sluice": "kernel forwarding off on r1, r2; sluice-stack "
                          "on each: net_af_xdp lports on both devices "
                          "(%s, steer=rules, busy_poll default), one "
                          "thread on any CPU" % a.mode,
                "peer": "linux-fwd: no sluice, net.ipv4.ip_forward=1 on "
                        "r1 and r2",
                "tcp": "iperf3 -c c2 -t %g -O 1 (one stream; received "
                       "Gbit/s)" % a.seconds,
                "udp-1400": "iperf3 -u -b 0 -l 1400 -t %g (unpaced; "
                            "received Gbit/s = datagrams sent minus lost)"
                            % a.seconds,
                "64B": "sl-xdpgen on c1-r1 (CPU 0, unpaced, %d B frames, "
                       "one flow, 198.18.1.2 -> 198.18.2.2) to "
                       "sl-xdpsink on c2-r2 (native XDP); delivered Mpps "
                       "over %g s after 1 s of warm-up" % (FRAME,
                                                           a.seconds),
                "cpus": "only the generator is pinned (CPU 0); the hosts' "
                        "iperf3, both routers' sluice-stack or kernel "
                        "forwarding and the sink share the machine's "
                        "CPUs",
                "load_before": "loadavg %s at start" % " ".join(load),
                "disturbance": "CPU time of the processes outside the "
                               "run's namespaces during its measurements; "
                               "runs above %.2f CPU were made again (up to "
                               "%d times, the least disturbed kept): %d "
                               "such runs" % (DISTURBED, REDO, self.redone),
                "runs": self.runs,
                "duration_s": round(time.monotonic() - t0, 1),
            },
            "rows": rows,
            "cases": cases,
        }
        print_table(doc)
        write_doc(a.out, doc)
        log("bench-vrouter: wrote %s" % a.out)
        if a.plot:
            subprocess.run([sys.executable,
                            os.path.join(HERE, "..", "plot.py"), a.out])
        return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--out", default="bench/results/vrouter.json")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--mode", default="native", choices=["native", "skb"])
    ap.add_argument("--quick", action="store_true",
                    help="one repetition of 2 s, no plot")
    ap.add_argument("--no-plot", dest="plot", action="store_false")
    a = ap.parse_args()
    if a.quick:
        a.reps, a.seconds, a.plot = 1, 2, False
    why = vrouter.missing()
    if why:
        skip(why)
    b = Bench(a)
    for exe in (b.stack, b.gen, b.sink):
        if not os.access(exe, os.X_OK):
            skip("%s is not built (net_af_xdp needs libxdp, libbpf and "
                 "clang)" % exe)
    try:
        return b.run()
    except (slnet.TopoError, RuntimeError) as e:
        log("bench-vrouter: " + str(e))
        return 1


if __name__ == "__main__":
    sys.exit(main())
