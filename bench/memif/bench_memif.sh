#!/usr/bin/env bash
# bench-memif: sluice's net_memif (and net_ring) side by side with DPDK
# testpmd (and DPDK's net_ring). See bench_memif.py and docs/interop.md.
# usage: bench_memif.sh [--build DIR] [--out FILE] [--reps N] [--seconds S]
#                       [--quick] [--no-ring] [--keep]
# Exit: 0; 1 a row could not be measured; 2 bad usage; 77 skipped (testpmd,
# the memif PMD or sluice's net_memif missing, not root).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
exec python3 "$here/bench_memif.py" "$@"
