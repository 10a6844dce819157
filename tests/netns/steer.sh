#!/usr/bin/env bash
# Steering rules of net_af_xdp with live traffic, in namespaces of its own.
# usage: steer.sh native|skb PATH/TO/slt-steer-echo PATH/TO/steer_peer.py
#
#   namespace a: veth slt0 (4 queues, kernel address 198.18.0.1/24), the
#                host's services (steer_peer.py kserver: UDP 7100 and 7101,
#                TCP 7200) and slt-steer-echo, an lport on queue 0 with
#                steer=rules that echoes the UDP it gets (MAC/IP/port
#                swapped)
#   namespace b: veth slt1 (1 queue, 198.18.0.2/24), the peer, with no
#                permanent neighbour: ARP goes through a's kernel
#
# 1. a rule steers UDP to 198.18.0.1:7100 to sluice: it echoes every one,
#    the kernel's socket on 7100 gets none, while ping, ARP and a TCP
#    connection to a's kernel keep working;
# 2. under continuous traffic (the 7100 flow, a flow to 7101 answered by
#    a's kernel, and ping), a rule added at run time moves 7101 to sluice
#    and deleting it gives 7101 back to the kernel: no packet of any flow
#    is lost and the program is not restarted; the rules' counters equal
#    what sluice echoed, and what the peer sent.
#
# Names slt-<pid>-steer-<mode>-*, addresses from 198.18.0.0/15 only; the
# EXIT trap stops what the script started (by PID) and deletes exactly its
# namespaces. Exit 77 (skipped) when not root or something is missing.
set -u

mode=${1:?usage: steer.sh native|skb ECHO_PROGRAM PEER_SCRIPT}
echo_prog=${2:?usage: steer.sh native|skb ECHO_PROGRAM PEER_SCRIPT}
peer=${3:?usage: steer.sh native|skb ECHO_PROGRAM PEER_SCRIPT}
prefix="slt-$$-steer-$mode"
a="$prefix-a" b="$prefix-b"
created=()
pids=()
dir=
ctl_open=

skip() {
	echo "SKIP: $*" >&2
	exit 77
}

die() {
	echo "FAIL: $*" >&2
	[ -n "$dir" ] && for f in "$dir"/*.err "$dir"/echo.out; do
		[ -s "$f" ] && { echo "--- $f" >&2; tail -n 20 "$f" >&2; }
	done
	exit 1
}

cleanup() {
	local ns p i
	[ -n "$ctl_open" ] && exec 3>&-
	for p in "${pids[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${pids[@]}"; do
		for i in $(seq 50); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$p" 2>/dev/null
	done
	for ns in "${created[@]}"; do
		ip netns del "$ns" 2>/dev/null || echo "cleanup: could not delete netns $ns" >&2
	done
	[ -n "$dir" ] && rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

case "$mode" in
native | skb) ;;
*) die "unknown mode '$mode' (native or skb)" ;;
esac
[ -z "${SLT_AF_XDP_MISSING:-}" ] ||
	skip "net_af_xdp is not built: missing $SLT_AF_XDP_MISSING"
[ "$(id -u)" -eq 0 ] || skip "needs root (namespaces, veth, XDP)"
command -v ip >/dev/null || skip "needs iproute2 (ip)"
command -v timeout >/dev/null || skip "needs timeout (coreutils)"
command -v python3 >/dev/null || skip "needs python3"
[ -x "$echo_prog" ] || die "no echo program at $echo_prog"
[ -r "$peer" ] || die "no peer script at $peer"
grep -qw xdp /proc/net/protocols 2>/dev/null ||
	grep -q '^XDP ' /proc/net/protocols 2>/dev/null ||
	skip "no AF_XDP in this kernel (/proc/net/protocols)"
dir=$(mktemp -d) || die "no temporary directory"

mkns() {
	ip netns add "$1" || skip "cannot create network namespace $1"
	created+=("$1")
	ip -n "$1" link set lo up || die "lo up in $1"
	ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 2>/dev/null || true
}

mkns "$a"
mkns "$b"
# slt1 sends on one queue only: everything arrives on queue 0 of slt0
ip link add slt0 netns "$a" numrxqueues 4 numtxqueues 4 \
	address 02:00:00:00:00:0a type veth \
	peer name slt1 netns "$b" address 02:00:00:00:00:0b \
	numrxqueues 1 numtxqueues 1 || skip "cannot create a veth pair"
ip -n "$a" addr add 198.18.0.1/24 dev slt0 || die "address on slt0"
ip -n "$b" addr add 198.18.0.2/24 dev slt1 || die "address on slt1"
ip -n "$a" link set slt0 up || die "slt0 up"
ip -n "$b" link set slt1 up || die "slt1 up"
# native XDP on veth needs NAPI: GRO on
ip netns exec "$a" ethtool -K slt0 gro on >/dev/null 2>&1 ||
	echo "note: could not turn GRO on for slt0" >&2
ip netns exec "$b" ethtool -K slt1 gro on >/dev/null 2>&1 ||
	echo "note: could not turn GRO on for slt1" >&2

# Start a background command bounded by timeout; remember its PID.
bg() {
	local log=$1
	shift
	timeout -k 5 100 "$@" >"$dir/$log.out" 2>"$dir/$log.err" &
	pids+=($!)
}

# Wait (at most $2 seconds) for file $1 to hold a line matching $3.
wait_for() {
	local i
	for i in $(seq $(($2 * 10))); do
		grep -q "$3" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

bg kserver ip netns exec "$a" python3 "$peer" kserver --addr 198.18.0.1 \
	--udp 7100 --udp 7101 --tcp 7200 --ready "$dir/kserver.ready" \
	--out "$dir/kserver.json" --seconds 90
kserver_pid=${pids[-1]}
wait_for "$dir/kserver.ready" 10 ready || die "the kernel-side servers did not start"

mkfifo "$dir/ctl" || die "mkfifo"
timeout -k 5 100 ip netns exec "$a" "$echo_prog" slt0 "$mode" \
	<"$dir/ctl" >"$dir/echo.out" 2>"$dir/echo.err" &
echo_pid=$!
pids+=("$echo_pid")
exec 3>"$dir/ctl"
ctl_open=1
wait_for "$dir/echo.out" 20 '^ready' || die "slt-steer-echo did not start"

# Send a command to slt-steer-echo; its answer (a line "ok ...") in $reply.
reply=
cmd() {
	local before i
	before=$(wc -l <"$dir/echo.out")
	echo "$*" >&3 || die "slt-steer-echo is gone (command '$*')"
	for i in $(seq 100); do
		if [ "$(wc -l <"$dir/echo.out")" -gt "$before" ]; then
			reply=$(sed -n "$((before + 1))p" "$dir/echo.out")
			case "$reply" in
			ok*) return 0 ;;
			*) die "'$*': $reply" ;;
			esac
		fi
		sleep 0.1
	done
	die "'$*': no answer from slt-steer-echo in 10 s"
}

inb() {
	timeout -k 5 60 ip netns exec "$b" python3 "$peer" "$@"
}

# ---- 1. a rule, and the kernel's traffic beside it ---------------------------
cmd "add udp dst 198.18.0.1 port 7100 xsk"
id1=${reply#ok }
ip -n "$b" neigh flush dev slt1 2>/dev/null
inb ping --dst 198.18.0.1 --count 5 || die "ping through the kernel"
ip -n "$b" neigh show 198.18.0.1 dev slt1 | grep -q 'lladdr 02:00:00:00:00:0a' ||
	die "ARP: no neighbour entry for 198.18.0.1 in $b"
ip -n "$b" neigh show 198.18.0.1 dev slt1 | grep -q PERMANENT &&
	die "ARP: the neighbour entry is permanent"
inb tcp --dst 198.18.0.1 --port 7200 --bytes 200000 || die "TCP to the kernel"
inb udp --dst 198.18.0.1 --port 7100 --count 50 || die "UDP 7100 through sluice"

# ---- 2. rules changed under traffic -------------------------------------------
timeout -k 5 60 ip netns exec "$b" python3 "$peer" live --dst 198.18.0.1 \
	--port 7100 --port2 7101 --seconds 6 --rate 500 \
	--out "$dir/live.json" >"$dir/live.log" 2>"$dir/live.err" &
live_pid=$!
pids+=("$live_pid")
sleep 2
cmd "add udp dst 198.18.0.1 port 7101 xsk"
id2=${reply#ok }
sleep 2
cmd "del $id2"
read -r _ del_pkts del_bytes <<<"$reply"
wait "$live_pid"
live_rc=$?
cat "$dir/live.log"
[ "$live_rc" -eq 0 ] || die "live traffic (exit $live_rc): $(cat "$dir/live.err")"

# ---- counters -----------------------------------------------------------------
val() { # FILE KEY...: a number of the JSON summary
	python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
for k in sys.argv[2:]:
    d = d[k]
print(d)' "$@"
}
cmd "count 7101"
read -r _ echo2_pkts echo2_bytes <<<"$reply"
sluice2=$(val "$dir/live.json" flow2 sluice)
[ "$del_pkts" -eq "$echo2_pkts" ] && [ "$del_bytes" -eq "$echo2_bytes" ] ||
	die "rule $id2 counted $del_pkts packets / $del_bytes bytes, sluice echoed $echo2_pkts / $echo2_bytes"
[ "$del_pkts" -eq "$sluice2" ] ||
	die "rule $id2 counted $del_pkts packets, the peer got $sluice2 echoes from sluice"
cmd "stats $id1"
read -r _ r1_pkts r1_bytes <<<"$reply"
cmd "count 7100"
read -r _ echo1_pkts echo1_bytes <<<"$reply"
sent1=$(($(val "$dir/live.json" flow1 sent) + 50))
[ "$r1_pkts" -eq "$echo1_pkts" ] && [ "$r1_bytes" -eq "$echo1_bytes" ] &&
	[ "$r1_pkts" -eq "$sent1" ] ||
	die "rule $id1 counted $r1_pkts packets / $r1_bytes bytes, sluice echoed $echo1_pkts / $echo1_bytes, the peer sent $sent1"
cmd "other"
[ "${reply#ok }" -eq 0 ] || die "sluice received ${reply#ok } packets no rule selected"
cmd "quit"
wait "$echo_pid" || die "slt-steer-echo exited with $?"

kill -TERM "$kserver_pid"
wait "$kserver_pid"
k7100=$(val "$dir/kserver.json" udp 7100)
k7101=$(val "$dir/kserver.json" udp 7101)
kernel2=$(val "$dir/live.json" flow2 kernel)
[ "$k7100" -eq 0 ] || die "the kernel's socket on 7100 got $k7100 packets: they were not steered"
[ "$k7101" -eq "$kernel2" ] ||
	die "the kernel's socket on 7101 got $k7101 packets, the peer $kernel2 answers"
echo "steer $mode: rule $id1 (7100) $r1_pkts packets; rule $id2 (7101) $del_pkts of $(val "$dir/live.json" flow2 sent), the kernel the other $k7101; ping $(val "$dir/live.json" ping answered)/$(val "$dir/live.json" ping sent)"
echo "PASS"
