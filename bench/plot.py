#!/usr/bin/env python3
"""Draw the speedups of sluice benchmark results as bar charts.

usage: bench/plot.py [RESULTS.json ...]   (default: bench/results/*.json)

For each JSON file written by a sluice benchmark (see bench/bench_common.h)
this writes a PNG next to it (bench/results/core.json -> core.png): one bar
per case, its height the speedup of sluice over the peer (> 1: sluice is
faster), with a line at 1.0. A row with a "target" field is green when it
reaches that target (else red; default 1.0) and shows it as a tick. A file
with a "cases" list (bench-fwd: each with "label" and "mpps" {"median",
"min", "max"}) gets a second panel: the absolute rate of every case, with
its min-max range. Needs matplotlib (Debian: python3-matplotlib); without
it, says so and exits 0 without drawing.
"""

import glob
import json
import math
import os
import sys

SYSTEM_PYTHON = "/usr/bin/python3"


def load_matplotlib():
    """Return pyplot, or None when matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        return plt
    except ImportError:
        return None


def reexec_system_python():
    """Debian's python3-matplotlib is visible only to Debian's python3: when
    another interpreter (a virtualenv, pyenv) runs this script, try that
    one once before giving up."""
    if os.environ.get("SLUICE_PLOT_REEXEC") or not os.path.exists(SYSTEM_PYTHON):
        return
    if os.path.realpath(sys.executable) == os.path.realpath(SYSTEM_PYTHON):
        return
    os.environ["SLUICE_PLOT_REEXEC"] = "1"
    os.execv(SYSTEM_PYTHON, [SYSTEM_PYTHON, os.path.abspath(__file__)] + sys.argv[1:])


def speedup_of(row):
    v = row.get("speedup")
    if isinstance(v, (int, float)) and math.isfinite(v):
        return float(v)
    return float("nan")


def target_of(row):
    v = row.get("target")
    if isinstance(v, (int, float)) and math.isfinite(v) and v > 0:
        return float(v)
    return None


def value_of(v):
    return float(v) if isinstance(v, (int, float)) and math.isfinite(v) else float("nan")


def plot_cases(ax, cases, unit="Mpps"):
    """Absolute rates: one bar per case (its median), min-max as a range."""
    names = [c.get("label", c.get("case", "?")) for c in cases]
    st = [c.get("mpps", {}) for c in cases]
    med = [value_of(x.get("median")) for x in st]
    lo = [value_of(x.get("min")) for x in st]
    hi = [value_of(x.get("max")) for x in st]
    ypos = list(range(len(cases)))[::-1]
    heights = [0.0 if math.isnan(m) else m for m in med]
    err = [
        [0.0 if math.isnan(m) or math.isnan(a) else m - a for m, a in zip(med, lo)],
        [0.0 if math.isnan(m) or math.isnan(b) else b - m for m, b in zip(med, hi)],
    ]
    colors = [
        "#1565c0" if "sluice" in n.lower() else "#9e9e9e" for n in names
    ]
    ax.barh(ypos, heights, color=colors, xerr=err, capsize=3)
    ax.set_yticks(ypos)
    ax.set_yticklabels(names)
    for y, m, b in zip(ypos, med, hi):
        x = 0.0 if math.isnan(m) else (m if math.isnan(b) else max(m, b))
        ax.text(x, y, "  n/a" if math.isnan(m) else f"  {m:.2f}", va="center", fontsize=9)
    top = max([h for h in hi + heights if not math.isnan(h) and h > 0] + [1.0])
    ax.set_xlim(0.0, top * 1.2)
    ax.set_xlabel(f"delivered {unit} (median; bar: min-max of the repetitions)")


def plot_one(plt, path):
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    rows = doc.get("rows", [])
    cases = [c for c in doc.get("cases", []) if isinstance(c, dict)]
    if not rows:
        print(f"plot: {path}: no rows, nothing drawn", file=sys.stderr)
        return False
    names = [r.get("case", "?") for r in rows]
    speedups = [speedup_of(r) for r in rows]
    targets = [target_of(r) for r in rows]
    peers = sorted({r.get("peer_name", "peer") for r in rows})
    machine = doc.get("machine", {})

    fig_h = max(3.0, 0.45 * len(rows) + 1.8)
    if cases:
        fig_h += 0.45 * len(cases) + 1.2
        fig, (ax, ax2) = plt.subplots(
            2, 1, figsize=(9.0, fig_h),
            gridspec_kw={"height_ratios": [len(rows) + 1, len(cases) + 1]})
    else:
        fig, ax = plt.subplots(figsize=(9.0, fig_h))
    ypos = list(range(len(rows)))[::-1]
    colors = [
        "#9e9e9e" if math.isnan(s)
        else ("#2e7d32" if s >= (t or 1.0) else "#c62828")
        for s, t in zip(speedups, targets)
    ]
    heights = [0.0 if math.isnan(s) else s for s in speedups]
    ax.barh(ypos, heights, color=colors)
    ax.axvline(1.0, color="black", linewidth=1.0, linestyle="--")
    for y, t in zip(ypos, targets):
        if t is not None:
            ax.plot([t, t], [y - 0.4, y + 0.4], color="black", linewidth=2.0)
    ax.set_yticks(ypos)
    ax.set_yticklabels(names)
    for y, s, t in zip(ypos, speedups, targets):
        label = "n/a" if math.isnan(s) else f"{s:.2f}x"
        x = 0.0 if math.isnan(s) else s
        if t is not None and not math.isnan(s) and abs(t - s) < 0.12 * max(1.0, s):
            x = max(s, t)  # clear of the target tick
        ax.text(x, y, " " + label, va="center", fontsize=9)
    top = max([h for h in heights if h > 0] + [t for t in targets if t] + [1.0])
    ax.set_xlim(0.0, top * 1.18)
    over = ", ".join(peers)
    if len(over) > 40:
        over = "its peer"
    ax.set_xlabel(
        f"speedup of sluice over {over} (> 1: sluice faster)"
        + ("; tick: target" if any(targets) else "")
    )
    if cases:
        plot_cases(ax2, cases)
    ax.set_title(
        f"bench-{doc.get('name', '?')}  {doc.get('date', '')}\n"
        f"{machine.get('cpu_model', '?')}, {machine.get('cpus', '?')} CPUs, "
        f"{machine.get('compiler', '?')}",
        fontsize=10,
    )
    fig.tight_layout()
    out = os.path.splitext(path)[0] + ".png"
    fig.savefig(out, dpi=110)
    plt.close(fig)
    print(f"plot: {out}")
    return True


def main(argv):
    if any(a in ("-h", "--help") for a in argv):
        print(__doc__.strip())
        return 0
    files = argv or sorted(glob.glob(os.path.join("bench", "results", "*.json")))
    if not files:
        print("plot: no results given and none in bench/results/", file=sys.stderr)
        return 1
    plt = load_matplotlib()
    if plt is None:
        reexec_system_python()
        print(
            "plot: matplotlib is not installed (Debian: apt-get install "
            "python3-matplotlib); no plot drawn"
        )
        return 0
    status = 0
    for path in files:
        try:
            if not plot_one(plt, path):
                status = 1
        except (OSError, ValueError) as e:
            print(f"plot: {path}: {e}", file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
