#!/usr/bin/env python3
"""Merge benchmark result files (bench/bench_common.h format) into one.

usage: bench/merge.py NAME OUT.json PART.json...

The rows of every part, in order, under the name NAME; the machine of the
first part; each part's config under its own name; then the same table
and summary line the benchmarks print. A case that several parts measured
(the same benchmark run in several processes) is one row: the
repetitions of all of them, and the medians and speedup of those.
"""

import json
import math
import statistics
import sys


def median(values):
    """The median of the values that are numbers, None when there are none."""
    v = [x for x in values if x is not None and not math.isnan(x)]
    return statistics.median(v) if v else None


def pool(row, more):
    """Add the repetitions of another measurement of row's case to row."""
    for side in ("sluice", "peer"):
        row[side + "_reps"] = row.get(side + "_reps", []) + \
            more.get(side + "_reps", [])
        row[side] = median(row[side + "_reps"])
    s, p = row["sluice"], row["peer"]
    if not s or not p:
        row["speedup"] = None
    elif row.get("better", "lower") == "lower":
        row["speedup"] = p / s
    else:
        row["speedup"] = s / p


def main(argv):
    if len(argv) < 4:
        sys.stderr.write(__doc__)
        return 2
    name, out, parts = argv[1], argv[2], argv[3:]
    merged = {"name": name, "config": {}, "rows": []}
    for path in parts:
        with open(path, encoding="utf-8") as f:
            part = json.load(f)
        merged.setdefault("date", part.get("date"))
        merged.setdefault("machine", part.get("machine"))
        merged["config"].setdefault(part.get("name", path),
                                    part.get("config", {}))
        for row in part.get("rows", []):
            same = [r for r in merged["rows"] if r["case"] == row["case"]]
            if same:
                pool(same[0], row)
            else:
                merged["rows"].append(row)
    with open(out, "w", encoding="utf-8") as f:
        json.dump(merged, f, indent=1)
        f.write("\n")
    print("%-44s %-12s %10s %10s  %-18s %s" %
          ("case", "unit", "sluice", "peer", "peer", "speedup"))
    good = 0
    for r in merged["rows"]:
        sp = r.get("speedup")
        good += sp is not None and sp >= 1.0
        print("%-44s %-12s %10s %10s  %-18s %s" % (
            r["case"], r["unit"], fmt(r.get("sluice")), fmt(r.get("peer")),
            r.get("peer_name", ""), "-" if sp is None else "%.2fx" % sp))
    print("bench-%s: %d rows, %d with speedup >= 1.0" %
          (name, len(merged["rows"]), good))
    return 0


def fmt(v):
    return "-" if v is None else "%.2f" % v


if __name__ == "__main__":
    sys.exit(main(sys.argv))
