#!/usr/bin/env bash
# Integration test of sl-xdpgen (XDP live-frames generator) and
# sl-xdpsink (counting sink): gen ns [g0] ==veth== [s0] sink ns.
# usage: xdpgen.sh PATH/TO/sl-xdpgen PATH/TO/sl-xdpsink
#
# Checks, at low rates only (correctness, not speed):
#   - --count N: the sink counts exactly N matching frames;
#   - --rate 10000 for 1 s: between 5000 and 15000 frames (a sanity bound
#     on the pacer, not a timing test);
#   - the frames are valid: the kernel's UDP socket on s0 receives them
#     (IPv4 checksum, lengths), with the flows asked for (source ports and
#     addresses) and increasing sequence numbers;
#   - bad options and missing privileges fail with messages naming them.
# Namespaces slt-<pid>-xg-*, addresses from 198.18.0.0/15 only, IPv6 off;
# the EXIT trap stops what we started and deletes the namespaces. Every
# command is bounded by timeout. Exit 77 (skipped) when not root or a
# tool or kernel feature is missing.
set -u

gen=${1:?usage: xdpgen.sh SL-XDPGEN SL-XDPSINK}
sink=${2:?usage: xdpgen.sh SL-XDPGEN SL-XDPSINK}
prefix="slt-$$-xg"
created=()
pids=()
tmp=
pass=0
fail=0

skip() {
	echo "SKIP: $*"
	exit 77
}

cleanup() {
	local p ns
	for p in "${pids[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null
	done
	for ns in "${created[@]}"; do
		ip netns del "$ns" 2>/dev/null ||
			echo "cleanup: could not delete netns $ns" >&2
	done
	[ -n "$tmp" ] && rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

[ -z "${SLT_XDPGEN_MISSING:-}" ] ||
	skip "sl-xdpgen is not built: missing $SLT_XDPGEN_MISSING"
[ "$(id -u)" -eq 0 ] || skip "needs root (namespaces, veth, XDP)"
command -v ip >/dev/null || skip "needs iproute2 (ip)"
command -v timeout >/dev/null || skip "needs timeout (coreutils)"
command -v python3 >/dev/null || skip "needs python3 (the UDP receiver)"
[ -x "$gen" ] && [ -x "$sink" ] || { echo "FAIL: no $gen or $sink"; exit 1; }
tmp=$(mktemp -d /tmp/slt-xdpgen.XXXXXX)

ok() {
	pass=$((pass + 1))
	echo "ok - $*"
}

not_ok() {
	fail=$((fail + 1))
	echo "not ok - $*"
}

mkns() {
	ip netns add "$1" || skip "cannot create network namespace $1"
	created+=("$1")
	ip -n "$1" link set lo up
	ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 2>/dev/null || true
}

G="$prefix-gen"
S="$prefix-sink"
mkns "$G"
mkns "$S"
ip -n "$G" link add g0 type veth peer name s0 netns "$S" ||
	skip "cannot create a veth pair"
ip -n "$G" link set g0 up
ip -n "$S" link set s0 up
ip -n "$G" addr add 198.18.0.1/24 dev g0
ip -n "$S" addr add 198.18.0.2/24 dev s0
smac=$(ip netns exec "$S" cat /sys/class/net/s0/address)
gmac=$(ip netns exec "$G" cat /sys/class/net/g0/address)
ip -n "$G" neigh replace 198.18.0.2 lladdr "$smac" dev g0 nud permanent
ip -n "$S" neigh replace 198.18.0.1 lladdr "$gmac" dev s0 nud permanent

# xdpgen ARGS...: run the generator in the gen namespace (bounded);
# output in $tmp/gen.out and .err, exit status in rc.
xdpgen() {
	timeout 30 ip netns exec "$G" "$gen" "$@" >"$tmp/gen.out" \
		2>"$tmp/gen.err"
	rc=$?
}

# Does this kernel run live frames at all? (a probe that sends nothing)
xdpgen --dev g0 --count 1 --rate 1 --seconds 0.001
if [ "$rc" -ne 0 ] && grep -q "BPF_F_TEST_XDP_LIVE_FRAMES" "$tmp/gen.err"; then
	skip "the kernel has no XDP live frames: $(tail -n 1 "$tmp/gen.err")"
fi

# sink_start ARGS...: the sink on s0 in the background, until stopped
sink_start() {
	timeout 60 ip netns exec "$S" "$sink" --dev s0 --udp-dport 9001 \
		--seconds 50 --json "$@" >"$tmp/sink.out" 2>"$tmp/sink.err" &
	sink_pid=$!
	pids+=("$sink_pid")
	local i
	for ((i = 0; i < 100; i++)); do
		grep -q '"ready"' "$tmp/sink.out" 2>/dev/null && return 0
		kill -0 "$sink_pid" 2>/dev/null || break
		sleep 0.05
	done
	echo "sink did not start: $(cat "$tmp/sink.err")"
	return 1
}

# sink_stop: stop the sink; its counters in matched, packets
sink_stop() {
	kill -TERM "$sink_pid" 2>/dev/null
	wait "$sink_pid" 2>/dev/null
	matched=$(grep '"summary"' "$tmp/sink.out" | grep -oE '"matched":[0-9]+' |
		cut -d: -f2)
	packets=$(grep '"summary"' "$tmp/sink.out" | grep -oE '"packets":[0-9]+' |
		cut -d: -f2)
	matched=${matched:-0}
	packets=${packets:-0}
}

json() {
	grep -oE "\"$1\":[0-9.]+" "$tmp/gen.out" | head -n 1 | cut -d: -f2
}

# GRO on s0 gives the veth a NAPI: without it (or a native XDP program),
# frames sent by XDP_TX are dropped before the stack or a generic program.
gro=no
if command -v ethtool >/dev/null &&
	ip netns exec "$S" ethtool -K s0 gro on >/dev/null 2>&1; then
	gro=yes
fi

# ---- exact count, native and SKB sink ------------------------------------
for mode in native skb; do
	if [ "$mode" = skb ] && [ "$gro" = no ]; then
		echo "ok - # SKIP SKB sink: no ethtool to turn GRO on"
		continue
	fi
	if ! sink_start --mode "$mode"; then
		not_ok "sink attaches in $mode mode"
		continue
	fi
	xdpgen --dev g0 --dst-mac "$smac" --count 5000 --rate 20000 --cpu 0 --json
	sleep 0.2
	sink_stop
	if [ "$rc" -eq 0 ] && [ "$(json sent)" = 5000 ] && [ "$matched" = 5000 ]; then
		ok "--count 5000 at 20 kpps: the $mode sink counted exactly 5000"
	else
		not_ok "--count 5000 ($mode sink): exit $rc, sent $(json sent), sink matched $matched of $packets: $(cat "$tmp/gen.err")"
	fi
done

# ---- pacing, as a sanity bound ----------------------------------------------
if sink_start --mode native; then
	xdpgen --dev g0 --dst-mac "$smac" --rate 10000 --seconds 1 --cpu 0 --json
	sleep 0.2
	sink_stop
	if [ "$rc" -eq 0 ] && [ "$matched" -ge 5000 ] && [ "$matched" -le 15000 ]; then
		ok "--rate 10000 --seconds 1: $matched frames (5000..15000), $(json paced) paced out"
	else
		not_ok "--rate 10000 --seconds 1: exit $rc, sink matched $matched (want 5000..15000): $(cat "$tmp/gen.err")"
	fi
else
	not_ok "sink attaches for the pacing test"
fi

# ---- valid frames, flows, sequence numbers ------------------------------------
# A UDP socket on s0 receives the frames only if the kernel finds them
# valid (lengths, IPv4 checksum): check the flows and sequence numbers.
cat >"$tmp/udp_rx.py" <<'EOF'
import socket, struct, sys, time
n = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
s.bind(("198.18.0.2", 9001))
s.settimeout(5.0)
print("ready", flush=True)
srcs, seqs = set(), []
deadline = time.monotonic() + 20
while len(seqs) < n and time.monotonic() < deadline:
    try:
        data, addr = s.recvfrom(4096)
    except socket.timeout:
        break
    srcs.add(addr)
    seqs.append(struct.unpack("<Q", data[:8])[0])
up = all(b > a for a, b in zip(seqs, seqs[1:]))
print("got %d srcs %s increasing %s first %s" % (
    len(seqs), ",".join("%s:%d" % a for a in sorted(srcs)), up,
    seqs[0] if seqs else None))
EOF

udp_check() {
	local want i
	timeout 40 ip netns exec "$S" python3 "$tmp/udp_rx.py" 2000 \
		>"$tmp/udp.out" 2>&1 &
	udp_pid=$!
	pids+=("$udp_pid")
	for ((i = 0; i < 100; i++)); do
		grep -q ready "$tmp/udp.out" && break
		sleep 0.05
	done
	xdpgen --dev g0 --dst-mac "$smac" --src-ip 198.18.0.10 --sport 7000 \
		--flows 4 --flow-field both --count 2000 --rate 20000 --cpu 0
	wait "$udp_pid" 2>/dev/null
	want="got 2000 srcs 198.18.0.10:7000,198.18.0.11:7001,198.18.0.12:7002,198.18.0.13:7003 increasing True first 0"
	if [ "$rc" -eq 0 ] && grep -qF "$want" "$tmp/udp.out"; then
		ok "4 flows (ports and addresses) reach a UDP socket, sequence 0.. increasing"
	else
		not_ok "flows to a UDP socket: exit $rc; want '$want', got '$(tail -n 1 "$tmp/udp.out")' $(cat "$tmp/gen.err")"
	fi
}
if [ "$gro" = yes ]; then
	udp_check
else
	echo "ok - # SKIP frames to a UDP socket: no ethtool to turn GRO on"
fi

# ---- bad options and missing rights fail with clear messages ----------------
# check_fail WANT_RC PATTERN ARGS...: the generator fails as told
check_fail() {
	local want=$1 pat=$2
	shift 2
	xdpgen "$@"
	if [ "$rc" -eq "$want" ] && grep -qiE -e "$pat" "$tmp/gen.err"; then
		ok "sl-xdpgen $* fails: $(grep -iE -e "$pat" "$tmp/gen.err" | head -n 1)"
	else
		not_ok "sl-xdpgen $*: exit $rc (want $want), stderr '$(cat "$tmp/gen.err")' lacks /$pat/"
	fi
}
check_fail 2 "--size '20': must be 50 to" --dev g0 --size 20
check_fail 2 "--rate 'fast': not a number" --dev g0 --rate fast
check_fail 2 "--count '0': must be >= 1" --dev g0 --count 0
check_fail 2 "--flow-field 'dport'" --dev g0 --flow-field dport
check_fail 2 "--dev is required" --count 1
check_fail 2 "--dst-mac '02:00': not a MAC" --dev g0 --dst-mac 02:00
check_fail 1 "'nosuch': no such device" --dev nosuch --count 1
ip -n "$G" link add g1 type veth peer name g1p
check_fail 1 "g1: the device is down" --dev g1 --count 1
if command -v setpriv >/dev/null; then
	timeout 30 ip netns exec "$G" setpriv --reuid 65534 --regid 65534 \
		--clear-groups --inh-caps=-all "$gen" --dev g0 --count 1 \
		>"$tmp/gen.out" 2>"$tmp/gen.err"
	rc=$?
	if [ "$rc" -eq 1 ] && grep -q "needs CAP_BPF" "$tmp/gen.err"; then
		ok "without privileges: $(grep "needs CAP_BPF" "$tmp/gen.err" | head -n 1)"
	else
		not_ok "without privileges: exit $rc, stderr '$(cat "$tmp/gen.err")'"
	fi
fi
timeout 30 ip netns exec "$S" "$sink" --dev s0 --mode bogus \
	>"$tmp/gen.out" 2>"$tmp/gen.err"
rc=$?
if [ "$rc" -eq 2 ] && grep -q "must be native, skb or auto" "$tmp/gen.err"; then
	ok "sl-xdpsink --mode bogus fails: $(cat "$tmp/gen.err")"
else
	not_ok "sl-xdpsink --mode bogus: exit $rc, '$(cat "$tmp/gen.err")'"
fi
# a second sink on a device that has one: EBUSY, naming the program
if sink_start --mode native; then
	timeout 30 ip netns exec "$S" "$sink" --dev s0 --seconds 0.1 \
		>"$tmp/gen.out" 2>"$tmp/gen.err"
	rc=$?
	sink_stop
	if [ "$rc" -eq 1 ] && grep -q "sl_xdpsink.*is attached in native mode" "$tmp/gen.err"; then
		ok "a second sink is refused: $(grep "attached" "$tmp/gen.err" | head -n 1)"
	else
		not_ok "second sink: exit $rc, '$(cat "$tmp/gen.err")'"
	fi
fi

echo "xdpgen: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
