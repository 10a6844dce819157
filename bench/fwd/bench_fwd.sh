#!/usr/bin/env bash
# bench-fwd: forwarding 64 B frames between two veths on one DUT core,
# sluice-fwd against DPDK testpmd (io forwarding), Linux IP forwarding and
# an in-kernel XDP redirect, fed by sl-xdpgen (XDP live frames) and counted
# by sl-xdpsink; with --cases stack-native,... also sluice-stack (IPv4
# through the stack, kernel forwarding off: bench-stack):
#
#   gen ns [g0] ==veth== [d0]  DUT ns  [d1] ==veth== [s0] sink ns
#   generator on CPU 0, DUT on CPU 1
#
# This script checks what is needed, builds the topology, runs bench_fwd.py
# (the runs, the tables, the JSON), draws the chart and removes everything
# on exit. usage:
#   bench_fwd.sh [--build DIR] [--out FILE] [--name NAME] [--reps N]
#                [--seconds S] [--cases LIST] [--quick] [--smoke] [--keep]
#                [--no-plot] [--perf-dir DIR] [--sluice-fwd PATH]
#                [--sluice-stack PATH]    (bench_fwd.py --help, README.md)
# Exit: 0; 1 a case delivered nothing or could not be measured; 2 bad
# usage; 77 skipped (not root, testpmd or its PMDs missing, no BPF support).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/netns.sh
. "$here/../lib/netns.sh"
BL_NAME=bench-fwd
build=build
out=bench/results/fwd.json
args=()
plot=yes
while [ $# -gt 0 ]; do
	case "$1" in
	--build | --out)
		[ $# -ge 2 ] || {
			echo "bench-fwd: $1 needs a value" >&2
			exit 2
		}
		if [ "$1" = --build ]; then build=$2; else out=$2; fi
		shift 2
		;;
	--no-plot)
		plot=no
		shift
		;;
	--name)
		# bench_fwd.py's too; the messages here say bench-NAME
		[ $# -ge 2 ] || {
			echo "$BL_NAME: $1 needs a value" >&2
			exit 2
		}
		BL_NAME=bench-$2
		args+=("$1" "$2")
		shift 2
		;;
	--quick | --smoke)
		plot=no
		args+=("$1")
		shift
		;;
	-h | --help)
		sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	*)
		args+=("$1")
		shift
		;;
	esac
done

bl_need_root_tools ip ethtool python3 taskset mount
bl_find_testpmd net_af_xdp net_af_packet
build=$(bl_build_dir "$build")
for f in apps/xdpgen/sl-xdpgen apps/xdpgen/sl-xdpsink \
	bench/fwd/fwd-redirect-load bench/fwd/fwd_redirect.bpf.o; do
	[ -e "$build/$f" ] ||
		bl_skip "sluice was built without BPF support ($f missing)"
done

prefix="slbf-$$"
G="$prefix-gen"
D="$prefix-dut"
S="$prefix-sink"
bpffs="/run/sluice/bpffs/$D"
BL_DPDK_PREFIX=$prefix
bl_traps

bl_mkns "$G"
bl_mkns "$D"
bl_mkns "$S"
bl_veth "$G" g0 "$D" d0
bl_veth "$D" d1 "$S" s0
ip -n "$G" addr add 198.18.1.1/30 dev g0
ip -n "$D" addr add 198.18.1.2/30 dev d0
ip -n "$D" addr add 198.18.2.1/30 dev d1
ip -n "$S" addr add 198.18.2.2/30 dev s0
# the Linux case forwards from d0 to d1: no reverse-path filtering
ip netns exec "$D" sysctl -qw net.ipv4.conf.all.rp_filter=0 \
	net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.d0.rp_filter=0 \
	net.ipv4.ip_forward=0 >/dev/null
# libxdp (testpmd's net_af_xdp) wants a bpffs; `ip netns exec` hides
# /sys/fs/bpf
bl_bpffs "$bpffs"

mkdir -p "$(dirname "$out")"
bl_run python3 "$here/bench_fwd.py" --build "$build" --ns-gen "$G" \
	--ns-dut "$D" --ns-sink "$S" --testpmd "$BL_TESTPMD" \
	--bpffs "$bpffs" --file-prefix "$prefix" --out "$out" "${args[@]}"
rc=$BL_RC
if [ "$rc" -eq 0 ] && [ "$plot" = yes ]; then
	python3 "$here/../plot.py" "$out" || true
fi
exit "$rc"
