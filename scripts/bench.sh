#!/usr/bin/env bash
# Run benchmark groups side by side with their peers.
# usage: bench.sh BUILD_DIR all|GROUP...
# Each group writes bench/results/<group>.json (rows of case, unit, sluice,
# peer, peer_name, speedup), prints a table, and draws bench/results/<group>.png.
set -euo pipefail

build=${1:?usage: bench.sh BUILD_DIR all|GROUP...}
shift
groups=(core memif afxdp fwd lookup)

run_group() {
	local g=$1 exe rc
	if [ "$g" = memif ]; then
		# a script: sl-pkt and testpmd processes over memif, plus the
		# net_ring row (bench/memif/bench-memif-ring)
		mkdir -p bench/results
		echo "=== bench-$g"
		rc=0
		bash bench/memif/bench_memif.sh --build "$build" \
			--out "bench/results/$g.json" || rc=$?
		if [ "$rc" -eq 77 ]; then
			echo "bench-$g: skipped" >&2
			return 0
		fi
		[ "$rc" -eq 0 ] || return "$rc"
		python3 bench/plot.py "bench/results/$g.json" || true
		return 0
	fi
	if [ "$g" = afxdp ]; then
		# a script: sl-xdpgen -> veth -> sluice's or testpmd's
		# net_af_xdp (bench/afxdp/bench_afxdp.sh), which draws the plot
		mkdir -p bench/results
		echo "=== bench-$g"
		rc=0
		bash bench/afxdp/bench_afxdp.sh --build "$build" \
			--out "bench/results/$g.json" || rc=$?
		if [ "$rc" -eq 77 ]; then
			echo "bench-$g: skipped" >&2
			return 0
		fi
		return "$rc"
	fi
	if [ "$g" = fwd ]; then
		# a script: sl-xdpgen -> veth -> sluice-fwd, testpmd, Linux
		# forwarding or XDP redirect -> veth -> sl-xdpsink
		# (bench/fwd/bench_fwd.sh), which draws the plot
		mkdir -p bench/results
		echo "=== bench-$g"
		rc=0
		bash bench/fwd/bench_fwd.sh --build "$build" \
			--out "bench/results/$g.json" || rc=$?
		if [ "$rc" -eq 77 ]; then
			echo "bench-$g: skipped" >&2
			return 0
		fi
		return "$rc"
	fi
	if [ "$g" = lookup ]; then
		# three executables (FIB, hash, graph walk), one result file.
		# The graph walk runs in BENCH_GRAPH_PROCS processes whose
		# repetitions merge.py pools: on a shared machine a whole
		# process can land in a state that slows one side (see
		# docs/performance.md).
		mkdir -p bench/results
		echo "=== bench-$g"
		parts=()
		for p in fib hash graph; do
			exe="$build/bench/bench-lookup-$p"
			if [ ! -x "$exe" ]; then
				echo "bench: $exe was not built (is libdpdk-dev installed and -Dbench=true?)" >&2
				return 1
			fi
			procs=1
			[ "$p" = graph ] && procs="${BENCH_GRAPH_PROCS:-3}"
			for k in $(seq 1 "$procs"); do
				"$exe" --out "bench/results/lookup-$p-$k.json"
				parts+=("bench/results/lookup-$p-$k.json")
			done
		done
		python3 bench/merge.py lookup bench/results/lookup.json "${parts[@]}"
		rm -f "${parts[@]}"
		python3 bench/plot.py bench/results/lookup.json || true
		return 0
	fi
	exe="$build/bench/bench-$g"
	if [ ! -x "$exe" ]; then
		echo "bench: $exe was not built (is libdpdk-dev installed and -Dbench=true?)" >&2
		return 1
	fi
	mkdir -p bench/results
	echo "=== bench-$g"
	"$exe" --out "bench/results/$g.json"
	python3 bench/plot.py "bench/results/$g.json" || true
}

if [ "$#" -eq 0 ] || [ "$1" = all ]; then
	set -- "${groups[@]}"
fi
for g in "$@"; do
	known=0
	for k in "${groups[@]}"; do
		[ "$k" = "$g" ] && known=1
	done
	if [ "$known" -eq 0 ]; then
		echo "bench: unknown group '$g'; available: ${groups[*]}" >&2
		exit 2
	fi
	run_group "$g"
done
