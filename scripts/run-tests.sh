#!/usr/bin/env bash
# Run the meson test suites of a build directory and end with one line
# "tests: N passed, N failed, N skipped". Exit non-zero on any failure.
# usage: run-tests.sh BUILD_DIR [SUITE...]
set -uo pipefail

build=${1:?usage: run-tests.sh BUILD_DIR [SUITE...]}
shift
suites=()
for s in "$@"; do
	suites+=(--suite "$s")
done

meson test -C "$build" --no-rebuild --print-errorlogs \
	--num-processes 1 "${suites[@]}"
rc=$?

log="$build/meson-logs/testlog.json"
if [ -f "$log" ]; then
	python3 - "$log" <<'PY'
import json, sys
counts = {"OK": 0, "FAIL": 0, "SKIP": 0, "TIMEOUT": 0, "ERROR": 0,
          "EXPECTEDFAIL": 0, "UNEXPECTEDPASS": 0}
for line in open(sys.argv[1]):
    line = line.strip()
    if not line:
        continue
    r = json.loads(line)["result"]
    counts[r] = counts.get(r, 0) + 1
passed = counts["OK"] + counts["EXPECTEDFAIL"]
failed = (counts["FAIL"] + counts["TIMEOUT"] + counts["ERROR"]
          + counts["UNEXPECTEDPASS"])
print(f"tests: {passed} passed, {failed} failed, {counts['SKIP']} skipped")
PY
fi
exit $rc
