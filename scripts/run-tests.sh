#!/usr/bin/env bash
# Run meson test suites of one or more build directories and end with one
# line "tests: N passed, N failed, N skipped" over all of them. Exit
# non-zero on any failure.
# usage: run-tests.sh BUILD_DIR [SUITE...] [--also BUILD_DIR SUITE...]...
set -uo pipefail

rc=0
logs=()

run() { # BUILD_DIR SUITE...
	local build=$1 s
	local suites=()
	shift
	for s in "$@"; do
		suites+=(--suite "$s")
	done
	meson test -C "$build" --no-rebuild --print-errorlogs \
		--num-processes 1 "${suites[@]}" || rc=1
	logs+=("$build/meson-logs/testlog.json")
}

[ $# -ge 1 ] || { echo "usage: run-tests.sh BUILD_DIR [SUITE...] [--also BUILD_DIR SUITE...]" >&2; exit 2; }
group=()
for a in "$@"; do
	if [ "$a" = --also ]; then
		run "${group[@]}"
		group=()
	else
		group+=("$a")
	fi
done
[ ${#group[@]} -gt 0 ] && run "${group[@]}"

python3 - "${logs[@]}" <<'PY'
import json, os, sys
counts = {}
for path in sys.argv[1:]:
    if not os.path.exists(path):
        counts["ERROR"] = counts.get("ERROR", 0) + 1
        continue
    for line in open(path):
        line = line.strip()
        if line:
            r = json.loads(line)["result"]
            counts[r] = counts.get(r, 0) + 1
get = lambda k: counts.get(k, 0)
passed = get("OK") + get("EXPECTEDFAIL")
failed = get("FAIL") + get("TIMEOUT") + get("ERROR") + get("UNEXPECTEDPASS")
print(f"tests: {passed} passed, {failed} failed, {get('SKIP')} skipped")
PY
exit $rc
