#!/usr/bin/env bash
# bench-afxdp: sluice's net_af_xdp against DPDK testpmd's net_af_xdp on a
# veth, one DUT core, fed by sl-xdpgen (XDP live frames):
#
#   gen ns [g0] ==veth== [d0] DUT ns
#     rx-drop           g0 -> d0, the DUT receives and drops (counted there)
#     MAC-swap loopback g0 -> d0 -> DUT swaps MACs -> d0 -> g0 (counted by
#                       sl-xdpsink on g0)
#   each in native and SKB mode; generator on CPU 0, DUT on CPU 1.
#
# This script checks what is needed, builds the topology, runs
# bench_afxdp.py (the runs, the table and the JSON) and removes everything
# on exit. usage:
#   bench_afxdp.sh [--build DIR] [--out FILE] [--reps N] [--seconds S]
#                  [--quick] [--keep] [--no-plot] [--sluice-dut afxdp-dut|sl-pkt]
#                  [--settings busy[,plain]] (more: bench_afxdp.py --help, README.md)
# Exit: 0; 1 a row could not be measured; 2 bad usage; 77 skipped (not
# root, testpmd or its AF_XDP PMD missing, sluice without net_af_xdp).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/netns.sh
. "$here/../lib/netns.sh"
BL_NAME=bench-afxdp
build=build
args=()
plot=yes
while [ $# -gt 0 ]; do
	case "$1" in
	--build)
		build=${2:?--build needs a directory}
		shift 2
		;;
	--no-plot)
		plot=no
		shift
		;;
	--quick)
		plot=no
		args+=("$1")
		shift
		;;
	-h | --help)
		sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	*)
		args+=("$1")
		shift
		;;
	esac
done

bl_need_root_tools ip ethtool python3 timeout mount
bl_find_testpmd net_af_xdp
testpmd=$BL_TESTPMD
build=$(bl_build_dir "$build")
gen="$build/apps/xdpgen/sl-xdpgen"
sink="$build/apps/xdpgen/sl-xdpsink"
dut="$build/bench/afxdp/afxdp-dut"
shim="$build/bench/afxdp/tp_skb_shim.so"
slpkt="$build/tests/tools/sl-pkt"
if [ ! -x "$gen" ] || [ ! -x "$dut" ]; then
	bl_skip "sluice was built without BPF support (net_af_xdp, sl-xdpgen)"
fi
for f in "$gen" "$sink" "$dut" "$shim" "$slpkt"; do
	[ -e "$f" ] || {
		echo "bench-afxdp: $f was not built" >&2
		exit 1
	}
done

prefix="slb-$$-afxdp"
G="$prefix-gen"
D="$prefix-dut"
bpffs="/run/sluice/bpffs/$D"
BL_DPDK_PREFIX=$prefix
bl_traps

bl_mkns "$G"
bl_mkns "$D"
bl_veth "$G" g0 "$D" d0
ip -n "$G" addr add 198.18.0.1/30 dev g0
ip -n "$D" addr add 198.18.0.2/30 dev d0
# libxdp (testpmd's PMD) wants a bpffs; `ip netns exec` hides /sys/fs/bpf
bl_bpffs "$bpffs"

bl_run python3 "$here/bench_afxdp.py" --build "$build" --ns-gen "$G" \
	--ns-dut "$D" --testpmd "$testpmd" --bpffs "$bpffs" \
	--file-prefix "$prefix" "${args[@]}"
rc=$BL_RC
if [ "$rc" -eq 0 ] && [ "$plot" = yes ]; then
	out=bench/results/afxdp.json
	for ((i = 0; i < ${#args[@]}; i++)); do
		[ "${args[$i]}" = --out ] && out=${args[$((i + 1))]}
	done
	python3 "$here/../plot.py" "$out" || true
fi
exit "$rc"
