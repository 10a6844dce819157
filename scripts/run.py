#!/usr/bin/env python3
"""make run: sluice forwarding real traffic over AF_XDP.

usage: run.py BUILD_DIR [--seconds N] [--rate PPS] [--mode native|skb]

Builds a namespace topology

    gen ns: [g0] ==veth== [d0]  fwd ns  [d1] ==veth== [s0] :gen ns

runs sluice-fwd on d0/d1 (net_af_xdp, L2 forwarding d0 <-> d1, on the
last CPU) and sluice-txgen on g0 -> s0 (net_af_xdp, 64 B UDP frames at a
paced rate, on CPU 0) for about ten seconds, prints one line of live
statistics a second and a final summary (forwarded Mpps, loss, latency),
then removes everything. Without root (namespaces need it) it runs
sluice-fwd's built-in default instead and says so.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import slnet  # noqa: E402


def fwd_config(cpu, mode):
    lp = {n: {"pmd": "net_af_xdp", "umem": "umem0", "mode": mode,
              "description": "fwd side of the veth to the %s" % peer}
          for n, peer in (("d0:0", "generator"), ("d1:0", "sink"))}
    return {
        "application": {"name": "sluice-fwd",
                        "description": "make run: the forwarder"},
        "umems": {"umem0": {"bufcnt": 8, "bufsz": 2, "mtype": "4KB"}},
        "lports": lp,
        "lcore-groups": {"fwd": [cpu]},
        "threads": {"fwd:0": {"group": "fwd", "lports": ["d0:0", "d1:0"]}},
        "options": {"mode": "fwd", "fwd-pairs": ["d0:0 d1:0"]},
    }


def txgen_config(cpu, mode, rate, seconds):
    # The generator is not what is measured: no busy polling there (on a
    # copy-mode veth it defers the NAPI that nobody then polls).
    lp = {n: {"pmd": "net_af_xdp", "umem": "umem0", "mode": mode,
              "busy_poll": False}
          for n in ("g0:0", "s0:0")}
    return {
        "application": {"name": "sluice-txgen",
                        "description": "make run: generator and sink"},
        "umems": {"umem0": {"bufcnt": 8, "bufsz": 2, "mtype": "4KB"}},
        "lports": lp,
        "lcore-groups": {"gen": [cpu]},
        "threads": {"txgen:0": {"group": "gen",
                                "lports": ["g0:0", "s0:0"]}},
        "options": {"proto": "udp", "size": 64, "flows": 16,
                    "rate": rate, "duration": max(1, int(seconds)),
                    "tx-lports": ["g0:0"], "rx-lports": ["s0:0"],
                    "dst-mac": slnet.mac(2)},
    }


def write_json(obj, d, name):
    p = os.path.join(d, name)
    with open(p, "w") as f:
        json.dump(obj, f, indent=2)
    return p


def fallback(build):
    print("make run: not root, so no namespaces and no AF_XDP: running "
          "sluice-fwd's built-in default instead (tx-only on a net_ring "
          "loopback lport) for 5 seconds.", flush=True)
    return subprocess.call([os.path.join(build, "apps/fwd/sluice-fwd"),
                            "--seconds", "5"])


def fmt_m(x):
    return "%.3f" % (x / 1e6)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--rate", type=int, default=500000,
                    help="generator rate in packets/s (0: unpaced)")
    ap.add_argument("--mode", default="native", choices=["native", "skb"])
    a = ap.parse_args()
    fwd = os.path.join(a.build, "apps/fwd/sluice-fwd")
    txgen = os.path.join(a.build, "apps/txgen/sluice-txgen")
    for exe in (fwd, txgen):
        if not os.access(exe, os.X_OK):
            print("make run: %s is not built" % exe, file=sys.stderr)
            return 1
    if os.geteuid() != 0:
        return fallback(a.build)
    ncpu = os.cpu_count() or 1
    gen_cpu, fwd_cpu = 0, ncpu - 1
    topo = slnet.Topo("slrun-%d" % os.getpid())
    tmp = tempfile.mkdtemp(prefix="slrun-")
    try:
        gen = topo.add_ns("gen", bpffs=True)
        dut = topo.add_ns("fwd", bpffs=True)
        topo.veth("g0", gen, "d0", dut, slnet.mac(1), slnet.mac(2))
        topo.veth("d1", dut, "s0", gen, slnet.mac(3), slnet.mac(4))
        print("topology: [%s: g0] == [d0 %s d1] == [s0 %s]" %
              (gen, dut, gen))
        print("sluice-fwd on CPU %d: net_af_xdp %s, d0 <-> d1; "
              "sluice-txgen on CPU %d: 64 B UDP, %s, %.0f s" %
              (fwd_cpu, a.mode, gen_cpu,
               "%d pps" % a.rate if a.rate else "unpaced", a.seconds),
              flush=True)
        fcfg = write_json(fwd_config(fwd_cpu, a.mode), tmp, "fwd.jsonc")
        tcfg = write_json(txgen_config(gen_cpu, a.mode, a.rate, a.seconds),
                          tmp, "txgen.jsonc")
        flog = open(os.path.join(tmp, "fwd.err"), "w+")
        fp = topo.popen(dut, [fwd, "-c", fcfg, "--json"],
                        stdout=subprocess.PIPE, stderr=flog, text=True)
        # the forwarder is up once it prints its first statistics line
        first = fp.stdout.readline()
        if not first:
            flog.seek(0)
            print("make run: sluice-fwd did not start:\n" + flog.read(),
                  file=sys.stderr)
            return 1
        tr = topo.exec(gen, txgen, "-c", tcfg, "--json", check=False,
                       timeout=a.seconds + 60)
        if tr.returncode != 0:
            print("make run: sluice-txgen failed:\n" + tr.stderr,
                  file=sys.stderr)
        fp.terminate()
        out, _ = fp.communicate(timeout=20)
        flines = [json.loads(x) for x in ([first] + out.splitlines())
                  if x.startswith("{")]
        tlines = [json.loads(x) for x in tr.stdout.splitlines()
                  if x.startswith("{")]
        return report(flines, tlines, fp.returncode, tr.returncode)
    except slnet.TopoError as e:
        print("make run: %s" % e, file=sys.stderr)
        return 1
    finally:
        topo.close()
        for n in os.listdir(tmp):
            os.unlink(os.path.join(tmp, n))
        os.rmdir(tmp)


def report(flines, tlines, frc, trc):
    fsum = [x for x in flines if x.get("summary")]
    tsum = [x for x in tlines if x.get("summary")]
    samples = [x for x in flines if not x.get("summary")]
    print("%6s  %12s  %12s  %10s" % ("t (s)", "d0 rx Mpps", "d1 tx Mpps",
                                     "fwd CPU %"))
    for s in samples:
        lp, th = s["lports"], s["threads"]
        print("%6.1f  %12s  %12s  %10.1f" %
              (s["t"], fmt_m(lp["d0:0"]["rx_pps"]),
               fmt_m(lp["d1:0"]["tx_pps"]), 100 * th["fwd:0"]["cpu"]))
    if not fsum or not tsum:
        print("make run: no summary from %s" %
              ("sluice-fwd" if not fsum else "sluice-txgen"),
              file=sys.stderr)
        return 1
    f, t = fsum[0], tsum[0]
    d0, d1 = f["lports"]["d0:0"], f["lports"]["d1:0"]
    print("summary:")
    print("  sluice-fwd   forwarded %d packets d0 -> d1 in %.1f s "
          "(%s Mpps while traffic ran), drops %s" %
          (d1["tx"], f["seconds"], fmt_m(d1["tx"] / max(t["seconds"], 1e-9)),
           {k: v for k, v in d1["drops"].items() if v} or "none"))
    print("  sluice-txgen sent %d, received %d, lost %d (%.3f %%)" %
          (t["sent"], t["received"], t["lost"], t["loss_pct"]))
    if "latency_ns" in t:
        lat = t["latency_ns"]
        print("  latency      p50 %.1f us, p99 %.1f us, max %.1f us" %
              (lat["p50"] / 1e3, lat["p99"] / 1e3, lat["max"] / 1e3))
    ok = frc == 0 and trc == 0 and d1["tx"] > 0 and t["received"] > 0
    print("make run: %s" % ("traffic forwarded by sluice" if ok else
                            "FAILED"))
    return 0 if ok else 1


sys.exit(main())
