#!/usr/bin/env bash
# Tests of sluice-txgen without root, over net_ring lports.
# usage: txgen.sh PATH/TO/sluice-txgen
#
#   - the built-in default, --seconds 1 --json: per-second samples, and a
#     summary with sent > 0, received == sent, no loss, latency p50 > 0,
#     every mbuf back in its pool;
#   - every proto x family with --count at a rate: exactly that many sent
#     and received, latency measured;
#   - a configuration file: options{} read, flags override them; two
#     threads split the count evenly; a sender and a receiver on two
#     threads (a net_ring pair);
#   - loss is detected (an lport that sends but whose frames nobody
#     receives) and --max-loss turns it into exit 1;
#   - SIGINT stops a long run at once with a summary;
#   - --check prints the effective settings; bad settings fail naming
#     the setting (and file:line:column for the file).
# Exit 0 pass, 1 fail.
set -u

txgen=${1:?usage: txgen.sh SLUICE-TXGEN}
tmp=$(mktemp -d /tmp/slt-txgen.XXXXXX)
pid=
pass=0
fail=0

cleanup() {
	# timeout passes TERM on to sluice-txgen, which stops at once
	if [ -n "$pid" ]; then
		kill -TERM "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

command -v python3 >/dev/null || { echo "SKIP: needs python3"; exit 77; }
[ -x "$txgen" ] || { echo "FAIL: no $txgen"; exit 1; }

ok() {
	pass=$((pass + 1))
	echo "ok - $*"
}

not_ok() {
	fail=$((fail + 1))
	echo "not ok - $*"
}

# run NAME ARGS...: sluice-txgen bounded in time; stdout in $tmp/NAME.out,
# stderr in $tmp/NAME.err, exit status in rc
run() {
	local name=$1
	shift
	# in the background, so that a signal reaches the trap at once
	timeout -k 5 60 "$txgen" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
	pid=$!
	wait "$pid"
	rc=$?
	pid=
}

# jcheck NAME EXPR: a Python expression over the JSON lines of NAME.out:
# s (the summary), samples (the other lines). Prints what it saw on failure.
jcheck() {
	python3 - "$tmp/$1.out" "$2" <<'EOF'
import json, sys
lines = []
for l in open(sys.argv[1]):
    if l.startswith("{"):
        lines.append(json.loads(l))
s = ([x for x in lines if x.get("summary")] or [None])[-1]
samples = [x for x in lines if not x.get("summary")]
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

# expect NAME DESC EXPR: exit 0 and the expression holds
expect() {
	local name=$1 desc=$2 expr=$3
	if [ "$rc" -eq 0 ] && jcheck "$name" "$expr" &&
		! grep -q "destroyed with" "$tmp/$name.err"; then
		ok "$desc"
	else
		not_ok "$desc: exit $rc, want: $expr; stderr: $(head -c 600 "$tmp/$name.err")"
	fi
}

# expect_fail NAME WANT_RC PATTERN DESC: failed as told, saying PATTERN
expect_fail() {
	local name=$1 want=$2 pat=$3 desc=$4
	if [ "$rc" -eq "$want" ] && grep -qE -e "$pat" "$tmp/$name.err"; then
		ok "$desc: $(grep -E -e "$pat" "$tmp/$name.err" | head -n 1)"
	else
		not_ok "$desc: exit $rc (want $want), stderr lacks /$pat/: $(head -c 600 "$tmp/$name.err")"
	fi
}

# ---- the built-in default --------------------------------------------------
run default --seconds 1 --json
expect default "default run over net_ring loopback: sent > 0, received == sent, no loss, latency p50 > 0, no mbuf left" \
	's["sent"] > 0 and s["received"] == s["sent"] and s["lost"] == 0 and
	 s["loss_pct"] == 0 and s["latency_ns"]["p50"] > 0 and
	 s["latency_ns"]["samples"] == s["received"] and
	 s["latency_ns"]["p50"] <= s["latency_ns"]["p99"] <= s["latency_ns"]["max"] and
	 s["out_of_order"] == 0 and s["foreign"] == 0 and
	 s["mbufs_in_use"] == 0 and not s["interrupted"] and
	 0.9 < s["seconds"] < 1.5 and s["engine"] == "pktdev" and
	 s["proto"] == "udp" and s["family"] == "ipv4" and s["size"] == 64'
expect default "one JSON sample a second with the lport rates and thread CPU" \
	'len(samples) >= 1 and samples[0]["lports"]["ring0"]["tx_pps"] > 0 and
	 samples[0]["lports"]["ring0"]["rx_pps"] > 0 and
	 0 < samples[0]["threads"]["txgen:0"]["cpu"] <= 1.05'
rate=$(python3 -c "import json; print('%.2f' % ([json.loads(l) for l in open('$tmp/default.out')][-1]['tx_pps'] / 1e6))" 2>/dev/null)
echo "# net_ring loopback, 64 B, one thread: $rate Mpps"

# ---- the rate, as a sanity bound (not a timing test) -------------------------
run rate --rate 50k --seconds 1 --json --interval 0.5
expect rate "--rate 50k --seconds 1: 40000..56000 frames, samples every 0.5 s" \
	'40000 <= s["sent"] <= 56000 and s["received"] == s["sent"] and
	 len(samples) >= 2 and samples[0]["seconds"] > 0.4'

# ---- every proto x family, exact count ----------------------------------------
for proto in udp tcp icmp; do
	for fam in ipv4 ipv6; do
		run pf --proto "$proto" --family "$fam" --count 20000 \
			--rate 200k --flows 16 --json --interval 0
		expect pf "$proto/$fam: --count 20000 sent and received exactly, latency measured" \
			's["sent"] == 20000 and s["received"] == 20000 and
			 s["lost"] == 0 and s["proto"] == "'"$proto"'" and
			 s["family"] == "'"$fam"'" and s["latency_ns"]["p50"] > 0 and
			 s["mbufs_in_use"] == 0 and s["out_of_order"] == 0'
	done
done
# the smallest frame is the headers and the stamp
run small -6 --proto tcp --count 10 --json --interval 0
expect small "tcp/ipv6 without --size: 90-byte frames (74 of headers + 16 of stamp)" \
	's["size"] == 90 and s["received"] == 10'
run big --size 1664 --count 1000 --json --interval 0
expect big "--size 1664 (the data room of 2 KB buffers): sent and received" \
	's["size"] == 1664 and s["received"] == 1000 and
	 s["sent_bytes"] == 1664 * 1000'

# ---- a configuration file; two threads; flags override options{} ----------
cat >"$tmp/two.jsonc" <<'EOF'
{
	// two threads, each with a loopback ring of its own
	"application": {"name": "txgen-test"},
	"umems": {"umem0": {"bufcnt": 8, "bufsz": 2, "mtype": "4KB",
			    "regions": [4, 4]}},
	"lports": {
		"ring0": {"pmd": "net_ring", "umem": "umem0", "region": 0,
			  "options": "loopback=yes"},
		"ring1": {"pmd": "net_ring", "umem": "umem0", "region": 1,
			  "options": "loopback=yes"},
	},
	"threads": {
		"txgen:0": {"lports": ["ring0"]},
		"txgen:1": {"lports": ["ring1"]},
	},
	"options": {"proto": "tcp", "family": "ipv6", "size": 200,
		    "flows": 4, "count": 30001, "rate": 300000,
		    "dst-mac": "02:00:00:00:00:0b"},
}
EOF
run two -c "$tmp/two.jsonc" --size 300 --json --interval 0
expect two "file options (tcp/ipv6, count) with --size 300 overriding; two threads split the count 15001/15000" \
	's["proto"] == "tcp" and s["family"] == "ipv6" and s["size"] == 300 and
	 s["threads"] == 2 and s["sent"] == 30001 and s["received"] == 30001 and
	 sorted([s["lports"]["ring0"]["tx"], s["lports"]["ring1"]["tx"]]) == [15000, 15001] and
	 s["lports"]["ring0"]["rx_own"] == s["lports"]["ring0"]["tx"] and
	 s["mbufs_in_use"] == 0'
run check --check "$tmp/two.jsonc" --flows 9
if [ "$rc" -eq 0 ] && grep -q '"flows": 9' "$tmp/check.out" &&
	grep -q '"size": 200' "$tmp/check.out" &&
	grep -q '"dst-mac": "02:00:00:00:00:0b"' "$tmp/check.out" &&
	grep -q '"txgen:1"' "$tmp/check.out" &&
	grep -q '"tx-lports": \["ring0", "ring1"\]' "$tmp/check.out"; then
	ok "--check FILE prints the configuration and the effective settings (file + flags)"
else
	not_ok "--check FILE: exit $rc: $(cat "$tmp/check.out" "$tmp/check.err" | tail -n 30)"
fi

# ---- sender and receiver on different threads (a net_ring pair) ----------
cat >"$tmp/pair.jsonc" <<'EOF2'
{
	"umems": {"umem0": {"bufcnt": 8, "bufsz": 2, "mtype": "4KB"}},
	"lports": {
		"p0": {"pmd": "net_ring", "umem": "umem0"},
		"p1": {"pmd": "net_ring", "umem": "umem0", "options": "peer=p0"},
	},
	"threads": {
		"txgen:0": {"lports": ["p0"]},
		"txgen:1": {"lports": ["p1"]},
	},
	"options": {"tx-lports": ["p0"], "rx-lports": ["p1"], "flows": 1000},
}
EOF2
run pair -c "$tmp/pair.jsonc" --seconds 1 --json
expect pair "thread txgen:0 sends on p0, txgen:1 receives on its peer p1: all received after the drain" \
	's["sent"] > 0 and s["received"] == s["sent"] and
	 s["lports"]["p0"]["tx"] == s["sent"] and s["lports"]["p0"]["rx"] == 0 and
	 s["lports"]["p1"]["rx_own"] == s["sent"] and
	 s["latency_ns"]["p50"] > 0 and s["out_of_order"] == 0 and
	 s["mbufs_in_use"] == 0 and samples[0]["threads"]["txgen:1"]["cpu"] > 0'
rate=$(python3 -c "import json; print('%.2f' % ([json.loads(l) for l in open('$tmp/pair.out')][-1]['tx_pps'] / 1e6))" 2>/dev/null)
echo "# net_ring pair, 64 B, 1000 flows, one thread each way: $rate Mpps"

# ---- loss is seen: ring1 sends, nobody receives it -----------------------------
cat >"$tmp/loss.jsonc" <<'EOF'
{
	"umems": {"umem0": {"bufcnt": 8, "bufsz": 2, "mtype": "4KB"}},
	"lports": {
		"ring0": {"pmd": "net_ring", "umem": "umem0",
			  "options": "loopback=yes"},
		"ring1": {"pmd": "net_ring", "umem": "umem0",
			  "options": "loopback=yes,size=512"},
	},
	"threads": {"txgen:0": {"lports": ["ring0", "ring1"]}},
	"options": {"rx-lports": ["ring0"], "count": 4000, "rate": 100000},
}
EOF
run loss -c "$tmp/loss.jsonc" --json --interval 0 --max-loss 1
if [ "$rc" -eq 1 ] && jcheck loss 's["sent"] == 4000 and s["lost"] == 512 and
	abs(s["loss_pct"] - 12.8) < 1e-6 and s["received"] == 3488 and
	s["lports"]["ring1"]["tx"] == 512 and s["lports"]["ring1"]["tx_full"] > 0' &&
	grep -q "above --max-loss 1" "$tmp/loss.err"; then
	ok "frames nobody receives are lost (512 of 4000: 12.8 %), tx_full counted, --max-loss 1 exits 1"
else
	not_ok "loss: exit $rc: $(cat "$tmp/loss.err")"
fi
run loss_ok -c "$tmp/loss.jsonc" --json --interval 0 --max-loss 13
expect loss_ok "--max-loss 13 accepts 12.8 % loss" 's["lost"] == 512'

# ---- SIGINT stops a long run with a summary --------------------------------
timeout -k 5 60 "$txgen" --seconds 30 --rate 10000 --json --interval 0.2 \
	>"$tmp/int.out" 2>"$tmp/int.err" &
pid=$!
sleep 1
start=$(date +%s%N)
kill -INT "$pid"
wait "$pid"
rc=$?
pid=
ms=$((($(date +%s%N) - start) / 1000000))
if [ "$ms" -lt 2000 ]; then
	expect int "SIGINT after 1 s of 30: stopped in $ms ms, summary says interrupted" \
		's["interrupted"] and 5000 < s["sent"] < 20000 and len(samples) >= 3'
else
	not_ok "SIGINT: took $ms ms to stop"
fi

# ---- bad settings -----------------------------------------------------------
run e1 -6 --proto tcp --size 64
expect_fail e1 1 "size 64 is too small for tcp/ipv6: at least 90 bytes" "size below the headers and stamp"
run e2 --size 1665
expect_fail e2 1 "size 1665 does not fit .*at most 1664" "size above the pool's data room"
run e3 --proto sctp
expect_fail e3 1 "proto 'sctp': must be udp, tcp or icmp" "unknown protocol"
run e4 --engine xdp --family ipv6
expect_fail e4 1 "engine xdp (sends IPv4 UDP frames only|.*no XDP support)" "xdp engine and IPv6"
run e5 --tx-lports ring9
expect_fail e5 1 "tx-lports: no lport 'ring9'" "unknown tx lport"
run e6 --rate fast
expect_fail e6 1 "rate 'fast'" "rate not a number"
run e7 --src-ip 2001:2::1 --family ipv4
expect_fail e7 1 "src-ip is an IPv6 address but the family is ipv4" "address of the other family"
run e8 --max-loss 0.1 --rx-lports none
expect_fail e8 1 "max-loss needs lports that receive" "--max-loss without RX"
run e9 --frobnicate
expect_fail e9 2 "unrecognized option" "unknown flag: exit 2"
cat >"$tmp/bad.jsonc" <<'EOF'
{
	"umems": {"umem0": {"bufcnt": 8, "bufsz": 2, "mtype": "4KB"}},
	"lports": {"ring0": {"pmd": "net_ring", "umem": "umem0",
			     "options": "loopback=yes"}},
	"threads": {"txgen:0": {"lports": ["ring0"]}},
	"options": {"flows": 0,
		    "colour": "blue"},
}
EOF
run e10 --check "$tmp/bad.jsonc"
expect_fail e10 1 "bad.jsonc:7:[0-9]+: .*colour" "unknown option key, with its line"
expect_fail e10 1 "bad.jsonc:6:[0-9]+: .*flows" "flows 0 in the file, with its line"

echo "txgen: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
