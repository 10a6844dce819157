#!/usr/bin/env python3
"""Draw the speedups of sluice benchmark results as bar charts.

usage: bench/plot.py [RESULTS.json ...]   (default: bench/results/*.json)

For each JSON file written by a sluice benchmark (see bench/bench_common.h)
this writes a PNG next to it (bench/results/core.json -> core.png): one bar
per case, its height the speedup of sluice over the peer (> 1: sluice is
faster), with a line at 1.0. Needs matplotlib (Debian: python3-matplotlib);
without it, says so and exits 0 without drawing.
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


def plot_one(plt, path):
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    rows = doc.get("rows", [])
    if not rows:
        print(f"plot: {path}: no rows, nothing drawn", file=sys.stderr)
        return False
    names = [r.get("case", "?") for r in rows]
    speedups = [speedup_of(r) for r in rows]
    peers = sorted({r.get("peer_name", "peer") for r in rows})
    machine = doc.get("machine", {})

    fig_h = max(3.0, 0.45 * len(rows) + 1.8)
    fig, ax = plt.subplots(figsize=(9.0, fig_h))
    ypos = list(range(len(rows)))[::-1]
    colors = [
        "#9e9e9e" if math.isnan(s) else ("#2e7d32" if s >= 1.0 else "#c62828")
        for s in speedups
    ]
    heights = [0.0 if math.isnan(s) else s for s in speedups]
    ax.barh(ypos, heights, color=colors)
    ax.axvline(1.0, color="black", linewidth=1.0, linestyle="--")
    ax.set_yticks(ypos)
    ax.set_yticklabels(names)
    for y, s in zip(ypos, speedups):
        label = "n/a" if math.isnan(s) else f"{s:.2f}x"
        ax.text(0.0 if math.isnan(s) else s, y, " " + label, va="center", fontsize=9)
    top = max([h for h in heights if h > 0] + [1.0])
    ax.set_xlim(0.0, top * 1.18)
    ax.set_xlabel(f"speedup of sluice over {', '.join(peers)} (> 1: sluice faster)")
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
