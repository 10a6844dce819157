# shellcheck shell=bash
# shellcheck disable=SC2034 # BL_* variables are read by the sourcing script
# Shared by the veth benchmarks' wrappers (bench/afxdp/bench_afxdp.sh,
# bench/fwd/bench_fwd.sh): what they need checked, network namespaces,
# veths, a bpffs for libxdp, the Python runner as a child, and the cleanup.
# Source it, set BL_NAME (the name in messages) and call `bl_traps` once.
#
#   bl_skip MSG...             print "NAME: skipped: MSG", exit 77
#   bl_need_root_tools T...    root and each tool in PATH, else skip
#   bl_find_testpmd PMD...     BL_TESTPMD = dpdk-testpmd, and each DPDK PMD
#                              (e.g. net_af_xdp) installed, else skip
#   bl_build_dir DIR           print DIR's absolute path (exit 1 if none)
#   bl_mkns NS                 namespace with lo up and IPv6 off
#   bl_veth NS1 DEV1 NS2 DEV2  a veth pair, both ends up with GRO on
#   bl_bpffs PATH              mount a bpffs there (libxdp in `ip netns
#                              exec`, which hides /sys/fs/bpf)
#   bl_run CMD...              run CMD as a child that the cleanup stops;
#                              BL_RC is its exit status
#   BL_DPDK_PREFIX             set it: /var/run/dpdk/<it>_* are removed
# Everything made is undone on exit, by name; processes are stopped by PID.

BL_NAME=${BL_NAME:-bench}
BL_DPDK_PREFIX=${BL_DPDK_PREFIX:-}
BL_CREATED=()
BL_MOUNTED=()
BL_CHILD=
BL_RC=0

bl_skip() {
	echo "$BL_NAME: skipped: $*"
	exit 77
}

bl_need_root_tools() {
	local t
	[ "$(id -u)" -eq 0 ] || bl_skip "needs root (namespaces, XDP, testpmd)"
	for t in "$@"; do
		command -v "$t" >/dev/null || bl_skip "needs $t"
	done
}

bl_find_testpmd() {
	local want d found
	BL_TESTPMD=$(command -v dpdk-testpmd || true)
	[ -n "$BL_TESTPMD" ] ||
		bl_skip "dpdk-testpmd not installed (Debian package dpdk-dev)"
	for want in "$@"; do
		found=
		for d in /usr/lib/*/dpdk/pmds-* /usr/lib/dpdk/pmds-*; do
			if ls "$d/librte_${want}.so"* >/dev/null 2>&1; then
				found=$d
			fi
		done
		[ -n "$found" ] ||
			bl_skip "DPDK's $want PMD (librte_$want) not installed"
	done
}

bl_build_dir() {
	if [ ! -d "$1" ]; then
		echo "$BL_NAME: no build directory $1 (meson setup it first)" >&2
		exit 1
	fi
	(cd "$1" && pwd)
}

bl_cleanup() {
	local ns m
	if [ -n "$BL_CHILD" ]; then
		kill -TERM "$BL_CHILD" 2>/dev/null || true
		for _ in $(seq 100); do
			kill -0 "$BL_CHILD" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$BL_CHILD" 2>/dev/null || true
		wait "$BL_CHILD" 2>/dev/null || true
		BL_CHILD=
	fi
	for ns in "${BL_CREATED[@]}"; do
		ip netns del "$ns" 2>/dev/null ||
			echo "cleanup: could not delete netns $ns" >&2
	done
	BL_CREATED=()
	for m in "${BL_MOUNTED[@]}"; do
		umount "$m" 2>/dev/null || echo "cleanup: could not unmount $m" >&2
		rmdir "$m" 2>/dev/null || true
	done
	BL_MOUNTED=()
	if [ -n "$BL_DPDK_PREFIX" ]; then
		rm -rf /var/run/dpdk/"$BL_DPDK_PREFIX"_* 2>/dev/null || true
	fi
}

bl_traps() {
	trap bl_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

bl_mkns() {
	ip netns add "$1" || bl_skip "cannot create network namespace $1"
	BL_CREATED+=("$1")
	ip -n "$1" link set lo up
	ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 >/dev/null 2>&1 || true
}

# GRO on: a veth has a NAPI (needed by XDP_TX or XDP_REDIRECT into it and
# by SKB-mode XDP behind it) only with GRO on or a native XDP program.
bl_veth() {
	ip -n "$1" link add "$2" type veth peer name "$4" netns "$3" ||
		bl_skip "cannot create a veth pair"
	ip -n "$1" link set "$2" up
	ip -n "$3" link set "$4" up
	ip netns exec "$1" ethtool -K "$2" gro on >/dev/null ||
		bl_skip "ethtool -K $2 gro on failed"
	ip netns exec "$3" ethtool -K "$4" gro on >/dev/null ||
		bl_skip "ethtool -K $4 gro on failed"
}

bl_bpffs() {
	mkdir -p "$1" || bl_skip "cannot create $1"
	mount -t bpf bpf "$1" || bl_skip "cannot mount a bpffs at $1"
	BL_MOUNTED+=("$1")
}

bl_run() {
	"$@" &
	BL_CHILD=$!
	BL_RC=0
	wait "$BL_CHILD" || BL_RC=$?
	BL_CHILD=
}
