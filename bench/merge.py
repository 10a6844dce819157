#!/usr/bin/env python3
"""Merge benchmark result files (bench/bench_common.h format) into one.

usage: bench/merge.py NAME OUT.json PART.json...

The rows of every part, in order, under the name NAME; the machine of the
first part; each part's config under its own name; then the same table
and summary line the benchmarks print.
"""

import json
import sys


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
        merged["config"][part.get("name", path)] = part.get("config", {})
        merged["rows"].extend(part.get("rows", []))
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
