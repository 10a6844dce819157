# Helpers for interop tests that run DPDK's testpmd as a peer (sourced).
#
# Every process started here is recorded in IT_PIDS and killed by
# it_cleanup, which the sourcing script installs as its EXIT trap (only
# these PIDs, never by name). testpmd's files under /var/run/dpdk/<prefix>
# are removed too. Every wait is bounded.
#
# Needs: IT_TMP (a private directory) set by it_init.

IT_PIDS=()
IT_PREFIXES=()
IT_PASS=0
IT_FAIL=0
IT_FAILED=()

it_log() { printf '%s\n' "$*" >&2; }

# it_skip MESSAGE: the machine lacks something; exit 77 (meson: skipped).
it_skip() {
	echo "SKIP: $*"
	exit 77
}

it_init() {
	IT_TMP=$(mktemp -d /tmp/sl-interop.XXXXXX)
	IT_TAG="sli$$"
	trap it_cleanup EXIT
	trap 'exit 130' INT TERM
}

# Stop one PID we started: TERM, then KILL after $2 seconds (default 3).
it_stop_pid() {
	local pid=$1 grace=${2:-3} i
	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < grace * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	return 0
}

it_cleanup() {
	local pid p
	for pid in "${IT_PIDS[@]}"; do
		it_stop_pid "$pid" 2
	done
	for p in "${IT_PREFIXES[@]}"; do
		rm -rf "/var/run/dpdk/$p"
	done
	if [ -n "${IT_TMP:-}" ] && [ -z "${IT_KEEP:-}" ]; then
		rm -rf "$IT_TMP"
	elif [ -n "${IT_TMP:-}" ]; then
		it_log "logs kept in $IT_TMP"
	fi
}

# Wait (bounded) for a PID to exit; its status in IT_RC (124: timed out,
# the process is then still running).
it_wait_pid() {
	local pid=$1 secs=$2 i
	for ((i = 0; i < secs * 10; i++)); do
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid"
			IT_RC=$?
			return 0
		fi
		sleep 0.1
	done
	IT_RC=124
	return 1
}

# Wait (bounded) for a file (a Unix socket) to appear.
it_wait_file() {
	local f=$1 secs=$2 i
	for ((i = 0; i < secs * 10; i++)); do
		[ -e "$f" ] && return 0
		sleep 0.1
	done
	return 1
}

it_ok() {
	IT_PASS=$((IT_PASS + 1))
	echo "ok - $*"
}

it_not_ok() {
	IT_FAIL=$((IT_FAIL + 1))
	IT_FAILED+=("$1")
	echo "not ok - $*"
}

# ---- testpmd ---------------------------------------------------------------

# The directory of DPDK's run-time loaded PMDs, or "" when none.
it_dpdk_pmd_dir() {
	local d
	for d in /usr/lib/*/dpdk/pmds-* /usr/lib/dpdk/pmds-*; do
		[ -d "$d" ] && { echo "$d"; return 0; }
	done
	echo ""
}

# Check that testpmd and its memif PMD are there; exit 77 otherwise.
it_require_testpmd_memif() {
	local d
	TESTPMD=${TESTPMD:-$(command -v dpdk-testpmd || true)}
	[ -n "$TESTPMD" ] || it_skip "dpdk-testpmd not installed (Debian package dpdk-dev; scripts/deps.sh installs it)"
	d=$(it_dpdk_pmd_dir)
	if [ -z "$d" ] || ! ls "$d"/librte_net_memif.so* >/dev/null 2>&1; then
		it_skip "DPDK memif PMD not installed (Debian package librte-net-memif23)"
	fi
}

# it_testpmd NAME EAL_LCORES VDEV_ARGS FORWARD_MODE [testpmd args...]
# Start testpmd in the background with one memif port, output in
# $IT_TMP/NAME.log; its PID in TP_PID. EAL_LCORES is an --lcores value
# (the main lcore and one forwarding lcore, e.g. "0@0,1@0").
it_testpmd() {
	local name=$1 lcores=$2 vdev=$3 fwd=$4 prefix
	shift 4
	prefix="${IT_TAG}_$name"
	IT_PREFIXES+=("$prefix")
	rm -f "$IT_TMP/$name.log"
	"$TESTPMD" --no-huge -m 256 --no-pci --file-prefix "$prefix" \
		--lcores "$lcores" --vdev="net_memif0,$vdev" -- \
		--total-num-mbufs=16384 --forward-mode="$fwd" --auto-start \
		--stats-period 1 "$@" </dev/null >"$IT_TMP/$name.log" 2>&1 &
	TP_PID=$!
	IT_PIDS+=("$TP_PID")
}

# Wait until testpmd forwards (its first periodic stats), or it died.
# 0: running; 1: it exited (the log tells why); 2: timed out.
it_testpmd_ready() {
	local name=$1 pid=$2 secs=${3:-20} i
	for ((i = 0; i < secs * 10; i++)); do
		if grep -q "NIC statistics for port 0" "$IT_TMP/$name.log" 2>/dev/null; then
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 2
}

# The largest value of a counter ("RX-packets", "TX-packets", "RX-bytes",
# "RX-errors", "TX-errors", ...) in testpmd's periodic port statistics; 0
# if none. The largest, not the last: testpmd's memif PMD zeroes its
# counters when the peer disconnects. The "Forward statistics" printed at
# exit are skipped: they are differences that go negative after such a
# reset (e.g. RX-packets: 18446744073709551412).
it_tp_stat() {
	local v
	v=$(tr -d '\r' <"$IT_TMP/$1.log" 2>/dev/null | grep -av 'dropped' |
		grep -aoE "$2: +[0-9]+" | grep -oE '[0-9]+$' | sort -n | tail -n 1)
	echo "${v:-0}"
}

# The value of a counter in testpmd's final "Forward statistics" block
# (printed when it stops forwarding), or "" if that block is missing.
it_tp_final() {
	tr -d '\r' <"$IT_TMP/$1.log" 2>/dev/null |
		awk -v f="$2" '
			/Forward statistics for port 0/ { inblk = 1; next }
			inblk && $0 ~ f": *[0-9]+" {
				for (i = 1; i <= NF; i++)
					if ($i == f":") { print $(i + 1); exit }
			}'
}

# Wait until a testpmd counter reaches TARGET (bounded); 0 when it did.
it_tp_wait_stat() {
	local name=$1 field=$2 target=$3 secs=$4 i
	for ((i = 0; i < secs * 10; i++)); do
		[ "$(it_tp_stat "$name" "$field")" -ge "$target" ] && return 0
		sleep 0.1
	done
	return 1
}

# it_tp_crashed NAME PID: did testpmd die on its own, by a signal or with
# a panic in its log? (Call before stopping it.) The signal in IT_SIG.
it_tp_crashed() {
	local rc
	IT_SIG=
	if grep -aqE "PANIC|EAL: Error" "$IT_TMP/$1.log" 2>/dev/null; then
		IT_SIG=panic
		return 0
	fi
	kill -0 "$2" 2>/dev/null && return 1
	wait "$2" 2>/dev/null
	rc=$?
	[ $rc -ge 128 ] || return 1
	IT_SIG=$(kill -l $((rc - 128)) 2>/dev/null || echo $((rc - 128)))
	return 0
}

# ---- sl-pkt ----------------------------------------------------------------

# it_slpkt NAME args...: start sl-pkt in the background; stdout in
# $IT_TMP/NAME.out, stderr in $IT_TMP/NAME.err; its PID in SP_PID.
it_slpkt() {
	local name=$1
	shift
	"$SLPKT" "$@" </dev/null >"$IT_TMP/$name.out" 2>"$IT_TMP/$name.err" &
	SP_PID=$!
	IT_PIDS+=("$SP_PID")
}

# it_json NAME KEY: a numeric field of sl-pkt's --json summary ("" if none).
it_json() {
	tail -n 1 "$IT_TMP/$1.out" 2>/dev/null |
		grep -oE "\"$2\":[0-9.]+" | head -n 1 | cut -d: -f2
}

# Print a process's logs (for a failure).
it_dump() {
	local f
	for f in "$@"; do
		[ -s "$IT_TMP/$f" ] || continue
		echo "---- $f (last 25 lines)"
		tr -d '\r' <"$IT_TMP/$f" | grep -av '^\s*$' | tail -n 25
	done
}
