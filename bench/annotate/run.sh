#!/bin/bash
# run.sh [MOAT] - moat serve under load: next-task and save-annotation latency
# (p50, p95, p99) with N (default 100,000) tasks in a project, CONNS (64)
# concurrent connections from wrk (Debian's package) for DUR (30s) each, the
# save with a Lua script (save.lua) that submits annotations on random tasks.
#
# The workspace: one CSV of N rows ingested (one element per row), a project
# `--from elements --raw` (N tasks, overlap 1), USERS (16) annotators logged
# in through the API; serve with its default threads (one per CPU) or
# --threads THREADS.  Goal (issue 16): p95
# under 20 ms on this machine, and no error under load.  Prints one JSON line
# per endpoint; bench/annotate/RESULTS.md keeps the numbers.  The workspace
# made for an N and USERS is kept beside OUT (OUT.pristine-N-USERS) and copied
# by later runs: making it is most of a run's time.
#
# STORE=postgres puts the workspace's tables in a throw-away PostgreSQL 15
# server (tests/pg_server.sh: initdb on a loopback port, in OUT/pg), made
# afresh each run (a PostgreSQL workspace cannot be copied as a directory),
# for the SQLite-against-PostgreSQL comparison of issue 15.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
MOAT=${1:-$root/build/release/moat}
N=${N:-100000}
CONNS=${CONNS:-64}
DUR=${DUR:-30s}
USERS=${USERS:-16}
THREADS=${THREADS:-}
WRK_THREADS=${WRK_THREADS:-2}
work=${OUT:-/dev/shm/moat-bench-annotate}
command -v wrk >/dev/null || { echo "bench/annotate: wrk is missing (apt-get install wrk)" >&2; exit 1; }
[ -x "$MOAT" ] || { echo "bench/annotate: no moat at $MOAT" >&2; exit 1; }
STORE=${STORE:-sqlite}
rm -rf "$work"
mkdir -p "$work"
export BENCH_DIR=$here
pg_stop() { :; }
if [ "$STORE" = postgres ]; then
	mkdir -p "$work/pg"
	"$root/tests/pg_server.sh" start "$work/pg" >&2
	. "$work/pg/env"
	export MOAT_STORE PGPASSFILE
	pg_stop() { "$root/tests/pg_server.sh" stop "$work/pg" >&2 || true; }
	trap pg_stop EXIT
fi

pristine="$work.pristine-$N-$USERS"
if [ "$STORE" != postgres ] && [ -d "$pristine" ]; then
	echo "== workspace: $N tasks, copied from $pristine" >&2
	cp -a "$pristine" "$work/ws"
else
	echo "== workspace: $N tasks" >&2
	python3 - "$work/items.csv" "$N" <<-'PY'
	import sys
	n = int(sys.argv[2])
	with open(sys.argv[1], "w") as f:
	    f.write("id,text\n")
	    for i in range(1, n):
	        f.write("%d,Invoice number %d: %d boxes of apples delivered to shop %d.\n" % (i, i, i % 97, i % 13))
	PY
	cat >"$work/schema.json" <<-'S'
	{"kind": "classification", "labels": [{"name": "invoice", "key": "1"}, {"name": "other", "key": "2"}]}
	S
	"$MOAT" init "$work/ws" >/dev/null
	t0=$(date +%s.%N)
	"$MOAT" -w "$work/ws" ingest "$work/items.csv" >/dev/null
	"$MOAT" -w "$work/ws" label create p --schema "$work/schema.json" --from elements --raw >"$work/create.out"
	echo "   made in $(python3 -c "print(round($(date +%s.%N) - $t0, 1))") s: $(cat "$work/create.out")" >&2
	printf 'bench-password\n' >"$work/pw"
	for i in $(seq 1 "$USERS"); do
		"$MOAT" -w "$work/ws" users add "a$i" --role annotator --password-file "$work/pw" >/dev/null
	done
	[ "$STORE" = postgres ] || cp -a "$work/ws" "$pristine"   # the next run starts from the same state
fi
"$MOAT" -w "$work/ws" serve --port 0 ${THREADS:+--threads "$THREADS"} >"$work/serve.out" 2>"$work/serve.err" &
spid=$!
trap 'kill $spid 2>/dev/null; wait $spid 2>/dev/null; pg_stop' EXIT
for _ in $(seq 1 100); do grep -q '^moat serve: http' "$work/serve.out" && break; sleep 0.1; done
base=$(sed -nE 's|^moat serve: (http://[^/]+)/.*|\1|p' "$work/serve.out")
echo "return {" >"$work/users.lua"
for i in $(seq 1 "$USERS"); do
	curl -s -c "$work/jar$i" -H 'Content-Type: application/json' \
		-d "{\"name\":\"a$i\",\"password\":\"bench-password\"}" "$base/api/login" >"$work/login$i.json"
	csrf=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["csrf"])' "$work/login$i.json")
	cookie=$(awk '$6 == "moat_session" {print $7}' "$work/jar$i")
	echo "  {cookie = \"moat_session=$cookie\", csrf = \"$csrf\"}," >>"$work/users.lua"
done
echo "}" >>"$work/users.lua"
curl -s -b "$work/jar1" "$base/api/projects/p/tasks?limit=1" >"$work/first.json"
lo=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["tasks"][0]["id"])' "$work/first.json")
hi=$((lo + N - 1))

echo "== next task: wrk -t$WRK_THREADS -c$CONNS -d$DUR" >&2
wrk -t"$WRK_THREADS" -c"$CONNS" -d"$DUR" -s "$here/next.lua" "$base" -- "$work/users.lua" p | tee "$work/next.txt" >&2
echo "== save annotation: wrk -t$WRK_THREADS -c$CONNS -d$DUR" >&2
# PERF=FILE records the server's profile during the save phase (perf record -g)
perf_pid=
[ -z "${PERF:-}" ] || { perf record -q -g -p "$spid" -o "$PERF" -- sleep "${DUR%s}" & perf_pid=$!; }
wrk -t"$WRK_THREADS" -c"$CONNS" -d"$DUR" -s "$here/save.lua" "$base" -- "$work/users.lua" p "$lo" "$hi" | tee "$work/save.txt" >&2
[ -z "$perf_pid" ] || wait "$perf_pid"
echo "next: $(grep '^{' "$work/next.txt")"
echo "save: $(grep '^{' "$work/save.txt")"
"$MOAT" -w "$work/ws" label stats p --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print("after the run: %s" % json.dumps(d["counts"]))'
