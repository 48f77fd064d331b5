#!/bin/bash
# offline.sh - the harness itself: every unit and CLI test runs through
# tests/run-offline, in a network namespace whose only interface is loopback.
# This test fails when that is not so under CI=true (elsewhere it skips, with
# run-offline's message saying why the kernel refused).
. "$(dirname "$0")/lib.sh"
if [ "${MOAT_OFFLINE:-}" != 1 ]; then
	if [ "${CI:-}" = true ]; then
		echo "FAIL: the tests ran with the machine's network (run-offline could not make a network namespace)"
		exit 1
	fi
	echo "SKIP: not in a network namespace (see run-offline's message)"
	exit 77
fi
# /proc/net/dev shows the reader's namespace (/sys/class/net would show the mounter's)
expect_eq lo "$(awk -F: 'NR > 2 { gsub(/ /, "", $1); print $1 }' /proc/net/dev | tr '\n' ' ' | sed 's/ $//')" "the only interface"
expect_grep '^1: lo: <LOOPBACK,UP' <(ip -o link) "loopback is up"
expect_eq "" "$(ip route show default 2>&1; ip -6 route show default 2>&1)" "no default route"
# loopback works: a server on 127.0.0.1 answers moat
python3 -u -m http.server --bind 127.0.0.1 0 >"$T/http.log" 2>&1 &
pid=$!
for _ in $(seq 1200); do grep -q "port" "$T/http.log" && break; sleep 0.1; done
port=$(sed -n 's/.*port \([0-9]*\).*/\1/p' "$T/http.log" | head -1)
"$MOAT" doctor --no-models --ollama "127.0.0.1:$port" --json >"$T/doc.json" 2>&1
kill "$pid" 2>/dev/null
python3 - "$T/doc.json" >"$T/check" 2>&1 <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
msgs = [c['message'] for c in d['checks'] if 'Ollama' in c['message'] or 'ollama' in c['check']]
assert msgs and not any('connection refused' in m or 'cannot reach' in m for m in msgs), msgs
print('ok')
PY
expect_grep '^ok$' "$T/check" "moat reaches a server on loopback"
finish
