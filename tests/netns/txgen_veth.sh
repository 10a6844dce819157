#!/usr/bin/env bash
# sluice-txgen over a veth pair (root): a namespace of its own, sltg-<pid>,
# holds veth a (02:00:00:00:00:0a) and b (02:00:00:00:00:0b), IPv6 off
# and no addresses (the frames carry 198.18.0.0/15 and 2001:2::/48 only).
# sluice-txgen sends on lport a:0 and receives on b:0:
#   - net_af_packet, net_af_xdp native and net_af_xdp skb: 20000 UDP frames
#     at 20 kpps, every one received (loss <= 0.1 %), latency reported,
#     every mbuf back in its pool when the pools are destroyed (the
#     mempool warns otherwise);
#   - TCP/IPv4 (4 flows) and ICMPv6 echo (2 flows) over net_af_packet,
#     captured on b by tcpdump, which must decode every frame as asked
#     with correct checksums, the flows' ports and addresses;
#   - engine xdp (sl_xdpgen live frames out of a, GRO on b), counted on
#     b:0 by net_af_packet: every frame received, no latency.
# usage: txgen_veth.sh PATH/TO/sluice-txgen
# Exit 77 (skipped) when not root, when net_af_xdp is not built or a tool
# is missing. The EXIT trap stops what we started and deletes the
# namespace and the bpffs mount; every command is bounded by timeout.
set -u

txgen=${1:?usage: txgen_veth.sh SLUICE-TXGEN}
ns="sltg-$$"
created=
mounted=
tmp=
child=
pids=()
pass=0
fail=0

skip() {
	echo "SKIP: $*"
	exit 77
}

cleanup() {
	local p i
	# a signal interrupted a run: stop it (timeout passes the signal on)
	# and let it leave the namespace (close its lports) first
	if [ -n "$child" ]; then
		kill -TERM "$child" 2>/dev/null
		for i in $(seq 50); do
			kill -0 "$child" 2>/dev/null || break
			sleep 0.1
		done
	fi
	for p in "${pids[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null
	done
	if [ -n "$created" ]; then
		ip netns del "$ns" 2>/dev/null ||
			echo "cleanup: could not delete netns $ns" >&2
	fi
	if [ -n "$mounted" ]; then
		umount "$mounted" 2>/dev/null ||
			echo "cleanup: could not unmount $mounted" >&2
		rmdir "$mounted" 2>/dev/null
	fi
	[ -n "$tmp" ] && [ -z "${SLT_KEEP:-}" ] && rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

[ -z "${SLT_AF_XDP_MISSING:-}" ] ||
	skip "net_af_xdp is not built: missing $SLT_AF_XDP_MISSING"
[ "$(id -u)" -eq 0 ] || skip "needs root (network namespace, veth, AF_XDP)"
for t in ip timeout python3 tcpdump ethtool; do
	command -v "$t" >/dev/null || skip "needs $t"
done
[ -x "$txgen" ] || { echo "FAIL: no $txgen"; exit 1; }
grep -qw xdp /proc/net/protocols 2>/dev/null ||
	grep -q '^XDP ' /proc/net/protocols 2>/dev/null ||
	skip "no AF_XDP in this kernel (/proc/net/protocols)"
tmp=$(mktemp -d /tmp/sltg.XXXXXX)

ok() {
	pass=$((pass + 1))
	echo "ok - $*"
}

not_ok() {
	fail=$((fail + 1))
	echo "not ok - $*"
}

ip netns add "$ns" || skip "cannot create network namespace $ns"
created=yes
ip -n "$ns" link set lo up
ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
	net.ipv6.conf.default.disable_ipv6=1 2>/dev/null || true
ip -n "$ns" link add name a address 02:00:00:00:00:0a type veth \
	peer name b address 02:00:00:00:00:0b || skip "cannot create a veth pair"
ip -n "$ns" link set dev a up || { echo "FAIL: a up"; exit 1; }
ip -n "$ns" link set dev b up || { echo "FAIL: b up"; exit 1; }
# libxdp's state for this namespace, on a bpffs of our own
mounted="/run/sluice/bpffs/$ns"
mkdir -p "$mounted" && mount -t bpf bpf "$mounted" || {
	mounted=
	skip "cannot mount a bpffs"
}
export LIBXDP_BPFFS="$mounted"

# config PMD MODE: lports a:0 (sends) and b:0 (receives), one thread
config() {
	local pmd=$1 mode=${2:-} extra=""
	[ -n "$mode" ] && extra=", \"mode\": \"$mode\""
	cat >"$tmp/cfg.jsonc" <<EOF
{
	// sluice-txgen test: a:0 sends to b:0 over the veth pair
	"application": {"name": "txgen-veth"},
	"umems": {"umem0": {"bufcnt": 4, "bufsz": 2, "mtype": "4KB"}},
	"lports": {
		"a:0": {"pmd": "$pmd", "umem": "umem0"$extra},
		"b:0": {"pmd": "$pmd", "umem": "umem0"$extra},
	},
	"threads": {"txgen:0": {"lports": ["a:0", "b:0"]}},
	"options": {"tx-lports": ["a:0"], "rx-lports": ["b:0"],
		    "dst-mac": "02:00:00:00:00:0b"},
}
EOF
}

# txgen NAME ARGS...: run in the namespace (bounded); rc, $tmp/NAME.out/.err.
# In the background, so that a signal reaches the trap at once.
txgen() {
	local name=$1
	shift
	timeout -k 5 60 ip netns exec "$ns" "$txgen" -c "$tmp/cfg.jsonc" \
		"$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
	child=$!
	wait "$child"
	rc=$?
	child=
}

# jcheck NAME EXPR: a Python expression over the summary s
jcheck() {
	python3 - "$tmp/$1.out" "$2" <<'EOF'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
s = ([x for x in lines if x.get("summary")] or [None])[-1]
try:
    ok = eval("(" + sys.argv[2] + ")")
except Exception as e:
    ok = False
    print("  (%s: %s)" % (type(e).__name__, e))
if not ok:
    print("  summary: %s" % json.dumps(s))
sys.exit(0 if ok else 1)
EOF
}

mpps() {
	python3 -c "import json,sys; s=[json.loads(l) for l in open(sys.argv[1]) if l.startswith('{')][-1]; print('%.3f Mpps, p50 %s ns' % (s['tx_pps']/1e6, s.get('latency_ns', {}).get('p50', '-')))" "$tmp/$1.out" 2>/dev/null
}

# ---- 20000 frames at 20 kpps over each backend -------------------------------
for b in af_packet:net_af_packet: af_xdp_native:net_af_xdp:native \
	af_xdp_skb:net_af_xdp:skb; do
	IFS=: read -r name pmd mode <<<"$b"
	config "$pmd" "$mode"
	txgen "$name" --count 20000 --rate 20000 --json --interval 0.5 \
		--max-loss 0.1
	if [ "$rc" -eq 0 ] && jcheck "$name" 's["sent"] == 20000 and
		s["received"] >= 19980 and s["loss_pct"] <= 0.1 and
		s["lports"]["a:0"]["tx"] == 20000 and
		s["lports"]["b:0"]["rx_own"] == s["received"] and
		s["latency_ns"]["p50"] > 0 and
		s["latency_ns"]["samples"] == s["received"] and
		not s["interrupted"]' &&
		! grep -q "destroyed with" "$tmp/$name.err"; then
		ok "$name: 20000 frames at 20 kpps a:0 -> b:0, $(jcheck "$name" 'print("received %d, lost %d, p50 %d ns, p99 %d ns" % (s["received"], s["lost"], s["latency_ns"]["p50"], s["latency_ns"]["p99"])) or True')"
	else
		not_ok "$name: exit $rc: $(head -c 1500 "$tmp/$name.err")"
	fi
done

# ---- unpaced, for the record (a rate, not a check) ---------------------------
for b in af_packet:net_af_packet: af_xdp_native:net_af_xdp:native; do
	IFS=: read -r name pmd mode <<<"$b"
	config "$pmd" "$mode"
	txgen "fast_$name" --seconds 1 --json --interval 0
	echo "# $name unpaced, one thread for both lports: $(mpps "fast_$name")"
done

# ---- frames on the wire, read back by tcpdump -------------------------------
# capture NAME ARGS...: tcpdump on b while txgen runs, then decode
capture() {
	local name=$1 i tp
	shift
	timeout -k 5 60 ip netns exec "$ns" tcpdump -i b -nn -U --immediate-mode \
		-B 8192 -w "$tmp/$name.pcap" \
		>/dev/null 2>"$tmp/$name.tcpdump" &
	tp=$!
	pids+=("$tp")
	for ((i = 0; i < 100; i++)); do
		grep -q "listening on" "$tmp/$name.tcpdump" 2>/dev/null && break
		sleep 0.05
	done
	txgen "$name" "$@"
	sleep 0.3
	kill -INT "$tp" 2>/dev/null
	wait "$tp" 2>/dev/null
	timeout 30 tcpdump -nn -vv -S -r "$tmp/$name.pcap" >"$tmp/$name.txt" 2>/dev/null
	# what tcpdump itself missed on a busy machine is not the generator's
	captured=$(grep -oE "^[0-9]+ packets? captured" "$tmp/$name.tcpdump" | cut -d' ' -f1)
	dropped=$(grep -oE "^[0-9]+ packets? dropped by kernel" "$tmp/$name.tcpdump" | cut -d' ' -f1)
	captured=${captured:-0}
	dropped=${dropped:-0}
}

# seen WANT N: tcpdump decoded all it captured, and it missed at most 5
seen() {
	[ "$2" -eq "$captured" ] && [ $((captured + dropped)) -eq "$1" ] &&
		[ "$dropped" -le 5 ]
}

config net_af_packet
capture tcp --proto tcp --flows 4 --count 200 --rate 10000 --size 100 \
	--json --interval 0
# IPv4 header and TCP checksums checked by tcpdump; an ACK, no SYN
n=$(grep -cE "198\.18\.0\.[1-4]\.900[0-3] > 198\.19\.0\.1\.9001: Flags \[\.\], cksum 0x[0-9a-f]+ \(correct\), seq 1:47, ack 1, win 65535, length 46" "$tmp/tcp.txt")
bad=$(grep -ciE "incorrect|bad cksum|bad udp|bad tcp" "$tmp/tcp.txt")
flows=$(grep -oE "198\.18\.0\.[1-4]\.900[0-3] >" "$tmp/tcp.txt" | sort -u | tr '\n' ' ')
if [ "$rc" -eq 0 ] && seen 200 "$n" && [ "$bad" -eq 0 ] &&
	[ "$flows" = "198.18.0.1.9000 > 198.18.0.2.9001 > 198.18.0.3.9002 > 198.18.0.4.9003 > " ] &&
	grep -q "ttl 64, id 0, offset 0, flags \[DF\], proto TCP (6), length 86" "$tmp/tcp.txt" &&
	jcheck tcp 's["received"] == 200'; then
	ok "TCP/IPv4, 4 flows: tcpdump decodes 200 ACK segments, checksums correct, source addresses and ports + 0..3"
else
	not_ok "TCP/IPv4 on the wire: exit $rc, $n of 200 decoded ($captured captured, $dropped dropped by tcpdump), $bad bad, flows '$flows': $(head -n 4 "$tmp/tcp.txt") $(cat "$tmp/tcp.err")"
fi

capture icmp6 --proto icmp --family ipv6 --flows 2 --count 100 --rate 10000 \
	--json --interval 0
n=$(grep -cE "2001:2::[12] > 2001:2:0:1::1: \[icmp6 sum ok\] ICMP6, echo request, id 900[01], seq [0-9]+" "$tmp/icmp6.txt")
bad=$(grep -ciE "bad icmp6|incorrect" "$tmp/icmp6.txt")
# flow = frame number % 2: even sequence numbers from id 9000, odd from 9001
odd=$(grep -cE "id 9000, seq [0-9]*[13579]$|id 9001, seq [0-9]*[02468]$" "$tmp/icmp6.txt")
ids=$(grep -oE "2001:2::[12] > .* id 900[01]" "$tmp/icmp6.txt" | sed 's/ >.*id / /' | sort -u | tr '\n' ' ')
if [ "$rc" -eq 0 ] && seen 100 "$n" && [ "$bad" -eq 0 ] && [ "$odd" -eq 0 ] &&
	[ "$ids" = "2001:2::1 9000 2001:2::2 9001 " ] &&
	grep -q "hlim 64, next-header ICMPv6 (58) payload length: 24" "$tmp/icmp6.txt" &&
	jcheck icmp6 's["received"] == 100'; then
	ok "ICMPv6 echo, 2 flows: tcpdump decodes the 100 echo requests with good checksums, 2001:2::1 id 9000 and 2001:2::2 id 9001, seq = frame number"
else
	not_ok "ICMPv6 on the wire: exit $rc, $n of 100 decoded ($captured captured, $dropped dropped by tcpdump), $bad bad, $odd with the wrong id, ids '$ids': $(head -n 4 "$tmp/icmp6.txt") $(cat "$tmp/icmp6.err")"
fi

# ---- the XDP live-frames engine ---------------------------------------------
# a veth delivers XDP_TX frames only when the peer has NAPI: GRO on b
ip netns exec "$ns" ethtool -K b gro on >/dev/null 2>&1 ||
	echo "note: could not turn GRO on for b" >&2
config net_af_packet
txgen xdp --engine xdp --count 20000 --rate 20000 --json --interval 0.5
if [ "$rc" -ne 0 ] && grep -q "live frames\|LIVE_FRAMES" "$tmp/xdp.err"; then
	echo "ok - # SKIP engine xdp: the kernel has no XDP live frames"
elif [ "$rc" -eq 0 ] && jcheck xdp 's["engine"] == "xdp" and
	s["sent"] == 20000 and s["received"] >= 19980 and
	"latency_ns" not in s and s["lports"]["b:0"]["rx_own"] == s["received"]'; then
	ok "engine xdp: 20000 frames by sl_xdpgen out of a, $(jcheck xdp 'print("%d received on b:0 (net_af_packet)" % s["received"]) or True')"
else
	not_ok "engine xdp: exit $rc: $(head -c 1500 "$tmp/xdp.err") $(tail -n 1 "$tmp/xdp.out")"
fi

echo "txgen_veth: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
