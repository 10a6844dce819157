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
set -u

here=$(cd "$(dirname "$0")" && pwd)
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

skip() {
	echo "bench-afxdp: skipped: $*"
	exit 77
}

[ "$(id -u)" -eq 0 ] || skip "needs root (namespaces, XDP, testpmd)"
for t in ip ethtool python3 timeout mount; do
	command -v "$t" >/dev/null || skip "needs $t"
done
testpmd=$(command -v dpdk-testpmd || true)
[ -n "$testpmd" ] || skip "dpdk-testpmd not installed (Debian package dpdk-dev)"
pmd=
for d in /usr/lib/*/dpdk/pmds-* /usr/lib/dpdk/pmds-*; do
	ls "$d"/librte_net_af_xdp.so* >/dev/null 2>&1 && pmd=$d
done
[ -n "$pmd" ] || skip "DPDK's AF_XDP PMD (librte_net_af_xdp) not installed"
[ -d "$build" ] || {
	echo "bench-afxdp: no build directory $build (meson setup it first)" >&2
	exit 1
}
build=$(cd "$build" && pwd)
gen="$build/apps/xdpgen/sl-xdpgen"
sink="$build/apps/xdpgen/sl-xdpsink"
dut="$build/bench/afxdp/afxdp-dut"
shim="$build/bench/afxdp/tp_skb_shim.so"
slpkt="$build/tests/tools/sl-pkt"
[ -x "$gen" ] && [ -x "$dut" ] ||
	skip "sluice was built without BPF support (net_af_xdp, sl-xdpgen)"
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
created=()
mounted=()
child=

cleanup() {
	local ns i
	if [ -n "$child" ]; then
		kill -TERM "$child" 2>/dev/null
		for i in $(seq 100); do
			kill -0 "$child" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$child" 2>/dev/null
		wait "$child" 2>/dev/null
	fi
	for ns in "${created[@]}"; do
		ip netns del "$ns" 2>/dev/null ||
			echo "cleanup: could not delete netns $ns" >&2
	done
	for m in "${mounted[@]}"; do
		umount "$m" 2>/dev/null || echo "cleanup: could not unmount $m" >&2
		rmdir "$m" 2>/dev/null
	done
	rm -rf /var/run/dpdk/"$prefix"_* 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkns() {
	ip netns add "$1" || skip "cannot create network namespace $1"
	created+=("$1")
	ip -n "$1" link set lo up
	ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 >/dev/null 2>&1
}

mkns "$G"
mkns "$D"
ip -n "$G" link add g0 type veth peer name d0 netns "$D" ||
	skip "cannot create a veth pair"
ip -n "$G" addr add 198.18.0.1/30 dev g0
ip -n "$D" addr add 198.18.0.2/30 dev d0
ip -n "$G" link set g0 up
ip -n "$D" link set d0 up
# GRO on: a veth has a NAPI (needed by XDP_TX into it and by SKB-mode
# XDP behind it) only with GRO on or a native XDP program attached
ip netns exec "$G" ethtool -K g0 gro on >/dev/null || skip "ethtool -K g0 gro on failed"
ip netns exec "$D" ethtool -K d0 gro on >/dev/null || skip "ethtool -K d0 gro on failed"
# libxdp (testpmd's PMD) wants a bpffs; `ip netns exec` hides /sys/fs/bpf
mkdir -p "$bpffs" && mount -t bpf bpf "$bpffs" || skip "cannot mount a bpffs at $bpffs"
mounted+=("$bpffs")

python3 "$here/bench_afxdp.py" --build "$build" --ns-gen "$G" --ns-dut "$D" \
	--testpmd "$testpmd" --bpffs "$bpffs" --file-prefix "$prefix" \
	"${args[@]}" &
child=$!
wait "$child"
rc=$?
child=
if [ "$rc" -eq 0 ] && [ "$plot" = yes ]; then
	out=bench/results/afxdp.json
	for ((i = 0; i < ${#args[@]}; i++)); do
		[ "${args[$i]}" = --out ] && out=${args[$((i + 1))]}
	done
	python3 "$here/../plot.py" "$out" || true
fi
exit "$rc"
