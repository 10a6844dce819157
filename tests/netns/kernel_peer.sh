#!/usr/bin/env bash
# Run test_kernel_peer for one backend inside namespaces of its own.
# usage: kernel_peer.sh af_packet|tap|tun|af_xdp_native|af_xdp_skb
#        PATH/TO/test_kernel_peer
#
# Everything is created in namespaces named slt-<pid>-<backend>-*, with
# addresses from 198.18.0.0/15 only, permanent neighbours and IPv6 off;
# the EXIT trap deletes exactly those namespaces (and with them every
# device in them). Exit 77 (skipped) when not root or when the kernel or
# iproute2 lacks something; the test program itself is bounded by timeout.
# The names and addresses must match test_kernel_peer.c.
set -u

backend=${1:?usage: kernel_peer.sh af_packet|tap|tun|af_xdp_native|af_xdp_skb PROGRAM}
prog=${2:?usage: kernel_peer.sh af_packet|tap|tun|af_xdp_native|af_xdp_skb PROGRAM}
prefix="slt-$$-${backend//_/}"
created=()
mounted=()
child=
huge_old=

skip() {
	echo "SKIP: $*" >&2
	exit 77
}

die() {
	echo "FAIL: $*" >&2
	exit 1
}

cleanup() {
	local ns i
	# a signal interrupted the run: stop the test program (timeout passes
	# the signal on) and let it leave the namespaces before deleting them
	if [ -n "$child" ]; then
		kill -TERM "$child" 2>/dev/null
		for i in $(seq 50); do
			kill -0 "$child" 2>/dev/null || break
			sleep 0.1
		done
	fi
	for ns in "${created[@]}"; do
		ip netns del "$ns" 2>/dev/null || echo "cleanup: could not delete netns $ns" >&2
	done
	if [ -n "$huge_old" ]; then
		echo "$huge_old" >/proc/sys/vm/nr_hugepages 2>/dev/null ||
			echo "cleanup: could not restore vm.nr_hugepages=$huge_old" >&2
	fi
	for m in "${mounted[@]}"; do
		umount "$m" 2>/dev/null || echo "cleanup: could not unmount $m" >&2
		rmdir "$m" 2>/dev/null
	done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

case "$backend" in
af_xdp_*)
	# set by meson when net_af_xdp was not built
	[ -z "${SLT_AF_XDP_MISSING:-}" ] ||
		skip "net_af_xdp is not built: missing $SLT_AF_XDP_MISSING"
	;;
esac
[ "$(id -u)" -eq 0 ] || skip "needs root (namespaces, veth, TUN/TAP)"
command -v ip >/dev/null || skip "needs iproute2 (ip)"
command -v timeout >/dev/null || skip "needs timeout (coreutils)"
[ -x "$prog" ] || die "no test program at $prog"

# A namespace with lo up and IPv6 off (no router/neighbour solicitations
# on the test links).
mkns() {
	ip netns add "$1" || skip "cannot create network namespace $1"
	created+=("$1")
	ip -n "$1" link set lo up || die "lo up in $1"
	ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 2>/dev/null || true
}

# A persistent TUN/TAP device (mode tap|tun, optional "multi_queue") with
# an address, up, in netns $1.
mktuntap() {
	local ns=$1 dev=$2 mode=$3 addr=$4 mq=${5:-}
	ip -n "$ns" tuntap add dev "$dev" mode "$mode" $mq ||
		skip "cannot create $mode device (is /dev/net/tun there?)"
	ip -n "$ns" addr add "$addr" dev "$dev" || die "address on $dev"
	ip -n "$ns" link set "$dev" up || die "$dev up"
}

# Run the test program in netns $1, bounded in time (its own waits are 5 s
# each). In the background, so that a signal reaches the trap at once.
run() {
	local ns=$1 rc
	shift
	timeout -k 5 150 ip netns exec "$ns" "$prog" "$@" &
	child=$!
	wait "$child"
	rc=$?
	child=
	return $rc
}

case "$backend" in
af_packet)
	a="$prefix-a" b="$prefix-b"
	mkns "$a"
	mkns "$b"
	ip link add slt0 netns "$a" address 02:00:00:00:00:0a type veth \
		peer name slt1 netns "$b" address 02:00:00:00:00:0b ||
		skip "cannot create a veth pair"
	ip -n "$a" link set slt0 up || die "slt0 up"
	ip -n "$b" addr add 198.18.0.2/24 dev slt1 || die "address on slt1"
	ip -n "$b" link set slt1 up || die "slt1 up"
	ip -n "$b" neigh replace 198.18.0.1 lladdr 02:00:00:00:00:0a \
		dev slt1 nud permanent || die "neighbour on slt1"
	run "$a" af_packet "$b"
	;;
tap)
	t="$prefix-t"
	[ -c /dev/net/tun ] || skip "no /dev/net/tun"
	mkns "$t"
	mktuntap "$t" sltap0 tap 198.18.1.1/24
	ip -n "$t" link set sltap0 address 02:00:00:00:01:01 || die "MAC of sltap0"
	ip -n "$t" neigh replace 198.18.1.2 lladdr 02:00:00:00:01:02 \
		dev sltap0 nud permanent || die "neighbour on sltap0"
	mktuntap "$t" sltapm tap 198.18.4.1/24 multi_queue
	ip -n "$t" link set sltapm address 02:00:00:00:04:01 || die "MAC of sltapm"
	ip -n "$t" neigh replace 198.18.4.2 lladdr 02:00:00:00:04:02 \
		dev sltapm nud permanent || die "neighbour on sltapm"
	run "$t" tap
	;;
tun)
	u="$prefix-u"
	[ -c /dev/net/tun ] || skip "no /dev/net/tun"
	mkns "$u"
	mktuntap "$u" sltun0 tun 198.18.2.1/24
	mktuntap "$u" sltunm tun 198.18.5.1/24 multi_queue
	run "$u" tun
	;;
af_xdp_native | af_xdp_skb)
	# veth slt0 (4 queues, AF_XDP here) -- slt1 (1 queue, kernel socket
	# in $b);
	# GRO on both ends so that a veth has NAPI for native XDP. A bpffs of
	# our own in the root mount namespace, seen by `ip netns exec`, for
	# the pinned-map test.
	a="$prefix-a" b="$prefix-b"
	grep -qw xdp /proc/net/protocols 2>/dev/null ||
		grep -q '^XDP ' /proc/net/protocols 2>/dev/null ||
		skip "no AF_XDP in this kernel (/proc/net/protocols)"
	mkns "$a"
	mkns "$b"
	# slt1 sends on one queue only, so that everything the kernel sends
	# arrives on queue 0 of slt0
	ip link add slt0 netns "$a" numrxqueues 4 numtxqueues 4 \
		address 02:00:00:00:00:0a type veth \
		peer name slt1 netns "$b" address 02:00:00:00:00:0b \
		numrxqueues 1 numtxqueues 1 ||
		skip "cannot create a veth pair"
	ip -n "$a" link set slt0 up || die "slt0 up"
	ip -n "$b" addr add 198.18.0.2/24 dev slt1 || die "address on slt1"
	ip -n "$b" link set slt1 up || die "slt1 up"
	ip -n "$b" neigh replace 198.18.0.1 lladdr 02:00:00:00:00:0a \
		dev slt1 nud permanent || die "neighbour on slt1"
	# slt2 (4 queues, AF_XDP here) -- slt3 (4 queues, kernel in $b): the
	# kernel spreads flows over the 4 queues; jumbo frames (the test sets
	# MTU 9000 on both); a second device for a shared UMEM
	ip link add slt2 netns "$a" numrxqueues 4 numtxqueues 4 \
		address 02:00:00:00:06:0a type veth \
		peer name slt3 netns "$b" address 02:00:00:00:06:0b \
		numrxqueues 4 numtxqueues 4 ||
		skip "cannot create a veth pair"
	ip -n "$a" link set slt2 up || die "slt2 up"
	ip -n "$b" addr add 198.18.6.2/24 dev slt3 || die "address on slt3"
	ip -n "$b" link set slt3 up || die "slt3 up"
	ip -n "$b" neigh replace 198.18.6.1 lladdr 02:00:00:00:06:0a \
		dev slt3 nud permanent || die "neighbour on slt3"
	for d in "$a:slt0" "$b:slt1" "$a:slt2" "$b:slt3"; do
		ip netns exec "${d%%:*}" ethtool -K "${d#*:}" gro on >/dev/null 2>&1 ||
			echo "note: could not turn GRO on for ${d#*:}" >&2
	done
	bpffs="/run/sluice/bpffs/$prefix"
	mkdir -p "$bpffs" && mount -t bpf bpf "$bpffs" ||
		skip "cannot mount a bpffs at $bpffs"
	mounted+=("$bpffs")
	export SLT_BPFFS="$bpffs"
	# libxdp's state for this namespace (one bpffs per namespace)
	export LIBXDP_BPFFS="$bpffs"
	# eight 2 MB hugepages more, for the hugepage UMEM test (given back at
	# exit; the test skips when the kernel could not find them)
	huge_old=$(cat /proc/sys/vm/nr_hugepages 2>/dev/null)
	[ -n "$huge_old" ] &&
		echo $((huge_old + 8)) >/proc/sys/vm/nr_hugepages 2>/dev/null
	run "$a" af_xdp "$b" "${backend#af_xdp_}"
	;;
*)
	die "unknown backend '$backend' (af_packet, tap, tun, af_xdp_native or af_xdp_skb)"
	;;
esac
