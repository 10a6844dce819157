#!/usr/bin/env bash
# Run test_nlmirror (the kernel mirror, lib/nlmirror) inside a network
# namespace of its own, with a second namespace as the ARP peer.
# usage: nlmirror.sh PATH/TO/test_nlmirror
#
# Namespaces are named slnm-<pid>-a (the test runs there and makes its
# devices, addresses, routes and nexthop objects with ip) and
# slnm-<pid>-b (the far end of one veth, for neighbour resolution);
# addresses come from 198.18.0.0/15 only. The EXIT trap deletes exactly
# those two namespaces. Exit 77 (skipped) when not root or when iproute2
# or the kernel lacks something; the test program is bounded by timeout.
set -u

prog=${1:?usage: nlmirror.sh PATH/TO/test_nlmirror}
prefix="slnm-$$"
created=()
child=

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
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces, veth, routes)"
command -v ip >/dev/null || skip "needs iproute2 (ip)"
command -v timeout >/dev/null || skip "needs timeout (coreutils)"
[ -x "$prog" ] || die "no test program at $prog"

mkns() {
	ip netns add "$1" || skip "cannot create network namespace $1"
	created+=("$1")
	ip -n "$1" link set lo up || die "lo up in $1"
	ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 2>/dev/null || true
}

a="$prefix-a" b="$prefix-b"
mkns "$a"
mkns "$b"
# nexthop objects: Linux 5.3+ with iproute2 that knows them
ip -n "$a" nexthop show >/dev/null 2>&1 ||
	skip "no nexthop objects here (kernel or iproute2 too old)"
ip -n "$a" link add slnmprobe type veth peer name slnmprobe1 2>/dev/null ||
	skip "cannot create a veth pair"
ip -n "$a" link del slnmprobe

SLNM_PEER_NS="$b" timeout -k 5 150 ip netns exec "$a" "$prog" &
child=$!
wait "$child"
rc=$?
child=
exit $rc
