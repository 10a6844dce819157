#!/usr/bin/env bash
# net_af_xdp without privileges: the XSKMAP handed over a Unix socket by a
# provisioner speaking the AF_XDP device plugin protocol (uds_path), or
# pinned by another process (xsk_pin_path).
# usage: uds.sh native|skb PATH/TO/sl-pkt PATH/TO/sl-dp-server
#
# veth slt0 (4 queues, namespace A) -- slt1 (1 queue, namespace B, a
# kernel UDP socket). sl-dp-server (root) attaches steer.bpf.o to slt0 in
# the given XDP mode and serves its xsks_map; sl-pkt runs in A without
# CAP_BPF, CAP_NET_ADMIN, CAP_SYS_ADMIN and CAP_IPC_LOCK (CapEff checked:
# only CAP_NET_RAW, which an AF_XDP socket needs), its UMEM within
# RLIMIT_MEMLOCK, and exchanges UDP with the kernel of B:
#   1. without uds_path the unprivileged lport cannot load the program;
#   2. kernel UDP -> sl-pkt rx (uds_path, busy_poll=yes set by the server);
#   3. sl-pkt tx (uds_path) -> kernel UDP socket, every datagram intact;
#   4. the server's session ends with /fin each time, and it detaches on
#      SIGTERM: no XDP program left;
#   5. refusals and a server that never answers fail the open quickly,
#      naming the step and the reply;
#   6. sl-dp-server --pin --exit pins the maps and exits; sl-pkt uses them
#      from another process (xsk_pin_path); --unpin removes everything.
# Namespaces slt-<pid>-uds-*, addresses from 198.18.0.0/15 only, every
# command bounded by timeout; the EXIT trap kills what it started (by PID)
# and removes namespaces, bpffs and files. Exit 77 (skipped) when not
# root or something is missing.
set -u

mode=${1:?usage: uds.sh native|skb SL_PKT SL_DP_SERVER}
pkt=${2:?usage: uds.sh native|skb SL_PKT SL_DP_SERVER}
srv=${3:-}
prefix="slt-$$-uds"
a="$prefix-a" b="$prefix-b"
mac_a=02:00:00:00:00:0a mac_b=02:00:00:00:00:0b
ip_a=198.18.0.1 ip_b=198.18.0.2
created=()
mounted=()
pids=()
tmp=
failures=0

skip() {
	echo "SKIP: $*" >&2
	exit 77
}

die() {
	echo "FAIL: $*" >&2
	exit 1
}

fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}

ok() {
	echo "ok: $*"
}

# Background processes still running are in pids; a finished one is
# forgotten at once, so that the trap never signals a reused PID.
forget() {
	local p keep=()
	for p in "${pids[@]}"; do
		[ "$p" = "$1" ] || keep+=("$p")
	done
	pids=("${keep[@]}")
}

# Run "$@" in the background and wait for it: a signal then reaches the
# trap at once, which stops the command. Its exit status.
run() {
	local p rc
	"$@" &
	p=$!
	pids+=("$p")
	wait "$p"
	rc=$?
	forget "$p"
	return $rc
}

cleanup() {
	local p ns m i
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
	# a program left by a failed step goes with its namespace
	for ns in "${created[@]}"; do
		ip netns del "$ns" 2>/dev/null || echo "cleanup: could not delete netns $ns" >&2
	done
	for m in "${mounted[@]}"; do
		umount "$m" 2>/dev/null || echo "cleanup: could not unmount $m" >&2
		rmdir "$m" 2>/dev/null
	done
	[ -n "$tmp" ] && rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

[ -z "${SLT_AF_XDP_MISSING:-}" ] ||
	skip "net_af_xdp is not built: missing $SLT_AF_XDP_MISSING"
[ "$(id -u)" -eq 0 ] || skip "needs root (namespaces, veth, XDP)"
for c in ip timeout setpriv mount; do
	command -v $c >/dev/null || skip "needs $c"
done
py=$(command -v python3) || skip "needs python3 (the kernel-side UDP peer)"
[ -x "$pkt" ] || die "no sl-pkt at $pkt"
[ -n "$srv" ] && [ -x "$srv" ] || skip "sl-dp-server is not built"
case "$mode" in
native | skb) ;;
*) die "unknown XDP mode '$mode' (native or skb)" ;;
esac
grep -q '^XDP ' /proc/net/protocols 2>/dev/null ||
	skip "no AF_XDP in this kernel (/proc/net/protocols)"
host=$(hostname)
[ ${#host} -le 55 ] ||
	skip "hostname '$host' is longer than the 55 characters /connect can carry"
echo "RLIMIT_MEMLOCK of the unprivileged sl-pkt: $(ulimit -l) KiB (UMEM: 2048 KiB)"

tmp=$(mktemp -d /tmp/slt-uds.XXXXXX) || die "mktemp"
sock="$tmp/afxdp.sock"

mkns() {
	ip netns add "$1" || skip "cannot create network namespace $1"
	created+=("$1")
	ip -n "$1" link set lo up || die "lo up in $1"
	ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 2>/dev/null || true
}
mkns "$a"
mkns "$b"
# slt1 sends on one queue: everything arrives on queue 0 of slt0
ip link add slt0 netns "$a" numrxqueues 4 numtxqueues 4 address $mac_a \
	type veth peer name slt1 netns "$b" address $mac_b \
	numrxqueues 1 numtxqueues 1 || skip "cannot create a veth pair"
ip -n "$a" link set slt0 up || die "slt0 up"
ip -n "$b" addr add $ip_b/24 dev slt1 || die "address on slt1"
ip -n "$b" link set slt1 up || die "slt1 up"
ip -n "$b" neigh replace $ip_a lladdr $mac_a dev slt1 nud permanent ||
	die "neighbour on slt1"
# GRO on both ends: native XDP on a veth needs it
ip netns exec "$a" ethtool -K slt0 gro on >/dev/null 2>&1 ||
	echo "note: could not turn GRO on for slt0" >&2
ip netns exec "$b" ethtool -K slt1 gro on >/dev/null 2>&1 ||
	echo "note: could not turn GRO on for slt1" >&2
# the host's provisioning of busy polling (not the lport's to do)
for f in napi_defer_hard_irqs:2 gro_flush_timeout:200000; do
	ip netns exec "$a" sh -c "echo ${f#*:} > /sys/class/net/slt0/${f%%:*}" \
		2>/dev/null || echo "note: could not set ${f%%:*} on slt0" >&2
done
# a bpffs of our own in the root mount namespace: `ip netns exec` hides
# /sys/fs/bpf but shows /run
bpffs="/run/sluice/bpffs/$prefix"
mkdir -p "$bpffs" && mount -t bpf bpf "$bpffs" ||
	skip "cannot mount a bpffs at $bpffs"
mounted+=("$bpffs")

xdp_on_slt0() {
	ip -n "$a" -d link show slt0 | grep -q 'prog/xdp'
}

# A command prefix running the rest in A without privileges: bounding
# set CAP_NET_RAW only (an AF_XDP socket needs it), nothing inheritable or
# ambient. The process records its CapEff in $tmp/capeff, then execs the
# command (same process, same capabilities).
unpriv=(ip netns exec "$a" setpriv --inh-caps=-all --ambient-caps=-all
	--bounding-set=-all,+net_raw --
	sh -c 'grep "^CapEff:" /proc/$$/status > "$0"; exec "$@"' "$tmp/capeff")

# The last unprivileged process had none of the capabilities that would
# let it load or attach a program or lock memory. Its stderr goes to the
# log printed at the end.
check_caps() {
	local eff bad
	{ echo "---- $1 (CapEff $(awk '{print $2}' "$tmp/capeff" 2>/dev/null))"
	  cat "$tmp/pkt.err"; } >>"$tmp/pkt.log" 2>/dev/null
	eff=$(awk '{print $2}' "$tmp/capeff" 2>/dev/null)
	[ -n "$eff" ] || { fail "$1: no CapEff recorded"; return; }
	# CAP_NET_ADMIN 12, CAP_IPC_LOCK 14, CAP_SYS_ADMIN 21, CAP_PERFMON 38,
	# CAP_BPF 39
	bad=$(((0x$eff) & ((1 << 12) | (1 << 14) | (1 << 21) | (1 << 38) | (1 << 39))))
	[ "$bad" -eq 0 ] || fail "$1: CapEff $eff has privileged capabilities"
	rm -f "$tmp/capeff"
}

# 64-byte frames as sl-pkt builds and checks them: UDP to port 9001, the
# payload a 64-bit sequence number then bytes (seq * 7 + offset).
cat >"$tmp/peer.py" <<'EOF'
import socket, struct, sys, time

def payload(seq):
    return struct.pack("<Q", seq) + bytes((seq * 7 + i) & 0xFF for i in range(50, 64))

role, secs = sys.argv[1], float(sys.argv[2])
end = time.monotonic() + secs
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
if role == "send":  # to sl-pkt rx until killed or secs
    s.bind((sys.argv[3], 9000))
    seq = 0
    while time.monotonic() < end:
        try:
            s.sendto(payload(seq), (sys.argv[4], 9001))
        except OSError:
            pass
        seq += 1
        time.sleep(0.001)
    sys.exit(0)
# recv: WANT distinct intact datagrams from sl-pkt tx
want, ready = int(sys.argv[4]), sys.argv[5]
s.setsockopt(socket.SOL_SOCKET, 33, 4 << 20)  # SO_RCVBUFFORCE
s.bind((sys.argv[3], 9001))
s.settimeout(0.2)
open(ready, "w").close()
seen, bad = set(), 0
while len(seen) < want and time.monotonic() < end:
    try:
        d = s.recv(2048)
    except socket.timeout:
        continue
    seq = struct.unpack("<Q", d[:8])[0] if len(d) >= 8 else -1
    if len(d) != 22 or d != payload(seq):
        bad += 1
        continue
    seen.add(seq)
print(f"kernel peer: {len(seen)} distinct intact datagrams, {bad} bad")
sys.exit(0 if len(seen) >= want and bad == 0 else 1)
EOF

# Start sl-dp-server in A with "$@"; wait for its "ready" line.
srv_pid=
srv_start() {
	local i
	: >"$tmp/srv.out"
	timeout -k 2 60 ip netns exec "$a" "$srv" "$@" \
		>"$tmp/srv.out" 2>>"$tmp/srv.log" &
	srv_pid=$!
	pids+=("$srv_pid")
	for i in $(seq 100); do
		grep -q '^ready$' "$tmp/srv.out" && return 0
		kill -0 "$srv_pid" 2>/dev/null || break
		sleep 0.05
	done
	cat "$tmp/srv.log" >&2
	die "sl-dp-server $* did not start"
}

# Stop the server (SIGTERM unless it ended by itself); its exit status.
srv_stop() {
	local rc
	kill -TERM "$srv_pid" 2>/dev/null
	wait "$srv_pid"
	rc=$?
	forget "$srv_pid"
	srv_pid=
	return $rc
}

common=(--backend net_af_xdp --ifname slt0 --qid 0 --pool 1024 --log net_af_xdp=info
	--src-mac $mac_a --dst-mac $mac_b --src-ip $ip_a --dst-ip $ip_b)

# kernel UDP from B -> sl-pkt rx (unprivileged) with lport options $2.
rx_from_kernel() {
	local what=$1 opts=$2 sender rc
	timeout -k 2 20 ip netns exec "$b" "$py" "$tmp/peer.py" send 15 \
		$ip_b $ip_a &
	sender=$!
	pids+=("$sender")
	run timeout -k 2 20 "${unpriv[@]}" "$pkt" "${common[@]}" --options "$opts" \
		--mode rx --count 200 --seconds 10 >"$tmp/pkt.out" 2>"$tmp/pkt.err"
	rc=$?
	kill -TERM "$sender" 2>/dev/null
	wait "$sender" 2>/dev/null
	forget "$sender"
	check_caps "$what"
	if [ $rc -eq 0 ]; then
		ok "$what: $(tail -n1 "$tmp/pkt.out")"
	else
		cat "$tmp/pkt.err" "$tmp/pkt.out" >&2
		fail "$what: sl-pkt rx exited $rc"
	fi
}

# sl-pkt tx (unprivileged) with lport options $2 -> kernel UDP in B.
tx_to_kernel() {
	local what=$1 opts=$2 recv rc rrc i
	rm -f "$tmp/ready"
	timeout -k 2 20 ip netns exec "$b" "$py" "$tmp/peer.py" recv 10 \
		$ip_b 200 "$tmp/ready" >"$tmp/recv.out" 2>&1 &
	recv=$!
	pids+=("$recv")
	for i in $(seq 100); do
		[ -e "$tmp/ready" ] && break
		sleep 0.05
	done
	run timeout -k 2 20 "${unpriv[@]}" "$pkt" "${common[@]}" --options "$opts" \
		--mode tx --count 200 --burst 8 --seconds 5 --linger 0.2 \
		>"$tmp/pkt.out" 2>"$tmp/pkt.err"
	rc=$?
	check_caps "$what"
	wait "$recv"
	rrc=$?
	forget "$recv"
	if [ $rc -eq 0 ] && [ $rrc -eq 0 ]; then
		ok "$what: $(tail -n1 "$tmp/pkt.out"); $(cat "$tmp/recv.out")"
	else
		cat "$tmp/pkt.err" "$tmp/pkt.out" "$tmp/recv.out" >&2
		fail "$what: sl-pkt tx exited $rc, or the kernel peer missed datagrams"
	fi
}

# 1. the unprivileged process cannot attach a program itself
run timeout -k 2 20 "${unpriv[@]}" "$pkt" "${common[@]}" --options "mode=$mode" \
	--mode rx --count 1 --seconds 1 >"$tmp/pkt.out" 2>"$tmp/pkt.err"
rc=$?
check_caps "no uds_path"
if [ $rc -ne 0 ] && grep -q 'Operation not permitted' "$tmp/pkt.err"; then
	ok "without uds_path the unprivileged lport cannot load the program"
else
	cat "$tmp/pkt.err" >&2
	fail "without uds_path: expected a refusal (EPERM), got exit $rc"
fi
xdp_on_slt0 && fail "a program is attached to slt0 after a refused open"

# 2-4. the map over the Unix socket
srv_start --netdev slt0 --socket "$sock" --mode "$mode" --timeout 20 \
	--host "$host"
xdp_on_slt0 || fail "sl-dp-server attached no program to slt0"
rx_from_kernel "uds_path rx, busy polling set by the server" \
	"uds_path=$sock,mode=$mode,busy_poll=yes"
grep -q -- '-> /config_busy_poll_ack' "$tmp/srv.log" ||
	fail "busy polling was not set over the socket"
tx_to_kernel "uds_path tx" "uds_path=$sock,uds_timeout=3000"
srv_stop
rc=$?
[ $rc -eq 0 ] || fail "sl-dp-server exited $rc (a session without /fin?)"
[ "$(grep -c -- '-> /fin_ack' "$tmp/srv.log")" -eq 2 ] ||
	fail "expected two sessions ended with /fin"
xdp_on_slt0 && fail "sl-dp-server left its program on slt0"
[ -e "$sock" ] && fail "sl-dp-server left its socket"
ok "sl-dp-server: two sessions ended with /fin, program detached"

# 5. refusals and a server that never answers: the open fails quickly and
# says why
refused() { # MISBEHAVIOUR EXPECTED-TEXT [LPORT-OPTIONS]
	local t0 t1 rc
	srv_start --netdev slt0 --socket "$sock" --mode "$mode" --once \
		--timeout 10 --misbehave "$1"
	t0=$(date +%s%N)
	run timeout -k 2 20 "${unpriv[@]}" "$pkt" "${common[@]}" \
		--options "uds_path=$sock${3:+,$3}" --mode rx --count 1 \
		--seconds 1 >"$tmp/pkt.out" 2>"$tmp/pkt.err"
	rc=$?
	t1=$(date +%s%N)
	srv_stop
	check_caps "misbehave $1"
	if [ $rc -ne 0 ] && grep -q -- "$2" "$tmp/pkt.err" &&
		[ $(((t1 - t0) / 1000000)) -lt 5000 ]; then
		ok "server $1: refused in $(((t1 - t0) / 1000000)) ms: $(grep -m1 -- "$2" "$tmp/pkt.err" | sed 's/^.*net_af_xdp: //')"
	else
		cat "$tmp/pkt.err" >&2
		fail "server $1: expected a failure mentioning '$2' within 5 s (exit $rc)"
	fi
}
refused host_nak "/connect: reply '/host_nak'"
refused fd_nak "/xsk_map_fd for slt0: reply '/fd_nak'"
refused no_fd "reply '/fd_ack' carried 0 fds"
refused two_fds "reply '/fd_ack' carried 2 fds"
refused garbage "unexpected reply '/h0st_0k'"
refused hang "no reply within 300 ms" uds_timeout=300
xdp_on_slt0 && fail "a program is left on slt0 after the refusals"

# 6. a pinned map used from a second process
srv_start --netdev slt0 --mode "$mode" --pin "$bpffs" --exit
wait "$srv_pid" || fail "sl-dp-server --pin --exit failed"
forget "$srv_pid"
srv_pid=
[ -e "$bpffs/slt0/xsks_map" ] || fail "no xsks_map pinned"
xdp_on_slt0 || fail "no program left attached by sl-dp-server --pin --exit"
rx_from_kernel "xsk_pin_path rx (map pinned by a process gone)" \
	"xsk_pin_path=$bpffs/slt0/xsks_map,mode=$mode"
run timeout -k 2 20 ip netns exec "$a" "$srv" --unpin "$bpffs" --netdev slt0 \
	2>>"$tmp/srv.log" || fail "sl-dp-server --unpin failed"
xdp_on_slt0 && fail "--unpin left the program on slt0"
[ -e "$bpffs/slt0" ] && fail "--unpin left $bpffs/slt0"

echo "==== sl-pkt (unprivileged) logs"
cat "$tmp/pkt.log"
echo "==== sl-dp-server log"
cat "$tmp/srv.log"
[ $failures -eq 0 ] || die "$failures check(s) failed"
echo "PASS: uds ($mode)"
