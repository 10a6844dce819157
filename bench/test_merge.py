#!/usr/bin/env python3
"""Test of bench/merge.py: parts are concatenated, a case measured by
several parts is pooled (repetitions appended, medians and speedup
recomputed in the row's direction), failed repetitions (null) ignored.

usage: bench/test_merge.py   (exit 0 when every check holds)
"""

import json
import os
import subprocess
import sys
import tempfile

MERGE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "merge.py")


def row(case, better, s, p, speedup=None):
    """A row as a benchmark writes it (medians of the reps given)."""
    return {"case": case, "unit": "u", "peer_name": "peer", "better": better,
            "sluice": s[0], "peer": p[0], "speedup": speedup,
            "sluice_reps": s, "peer_reps": p}


def main():
    failures = []

    def check(what, got, want):
        if isinstance(want, float) and isinstance(got, float):
            bad = abs(got - want) > 1e-9
        else:
            bad = got != want
        if bad:
            failures.append("%s: got %r, want %r" % (what, got, want))

    parts = [
        {"name": "one", "config": {"reps": 3}, "rows": [
            row("time", "lower", [1.0, 2.0, 9.0], [4.0, 4.0, 4.0]),
            row("rate", "higher", [10.0], [5.0], 2.0)]},
        {"name": "one", "config": {"reps": 2}, "rows": [
            row("time", "lower", [3.0, None], [2.0, 2.0])]},
        {"name": "two", "config": {}, "rows": [
            row("other", "lower", [1.0], [1.0], 1.0)]},
    ]
    with tempfile.TemporaryDirectory() as d:
        paths = []
        for i, part in enumerate(parts):
            paths.append(os.path.join(d, "p%d.json" % i))
            with open(paths[-1], "w", encoding="utf-8") as f:
                json.dump(part, f)
        out = os.path.join(d, "out.json")
        res = subprocess.run([sys.executable, MERGE, "m", out] + paths,
                             capture_output=True, text=True, check=False)
        check("exit status", res.returncode, 0)
        with open(out, encoding="utf-8") as f:
            merged = json.load(f)
    rows = {r["case"]: r for r in merged["rows"]}
    check("cases, in order", [r["case"] for r in merged["rows"]],
          ["time", "rate", "other"])
    t = rows["time"]
    check("pooled sluice reps", len(t["sluice_reps"]), 5)
    check("pooled sluice median (null ignored)", t["sluice"], 2.5)
    check("pooled peer median", t["peer"], 4.0)
    check("pooled speedup, lower is better", t["speedup"], 4.0 / 2.5)
    check("unpooled speedup, higher is better", rows["rate"]["speedup"], 2.0)
    check("the first config of a name is kept",
          merged["config"]["one"], {"reps": 3})
    check("summary line", "3 rows, 3 with speedup >= 1.0" in res.stdout,
          True)
    for f in failures:
        print("FAIL " + f)
    print("merge: %d checks failed" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
