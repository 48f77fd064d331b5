#!/bin/bash
# run.sh - AI pre-label throughput: `moat label suggest` against what teams
# run today, a script that sends each task to the model server one request
# at a time and collects the answers (the shape of a Label Studio ML backend's
# predict loop), on the same tasks, the same llama-server and the same
# prompts; and moat's suggestions with 1, 2 and 4 shards (`--shard I/N`
# processes started together, as a Slurm array's tasks on one node).
#
#  1. A workspace with TASKS classification tasks (default 400), the elements
#     of a generated text (bench/ingest/gen.py), kept under bench/out/suggest/.
#  2. llama-server of the pinned llama.cpp on MODEL (default the tiny GGUF of
#     the shared test data) with 4 slots, on a loopback port.
#  3. hyperfine, ROUNDS interleaved rounds (default 5, medians reported), each
#     from no suggestions (--prepare removes them, untimed):
#       the script, one request at a time          (python3 + urllib)
#       moat label suggest -j 1                    (one request at a time too)
#       moat label suggest -j 4                    (4 in flight)
#       2 and 4 shards, -j 2 / -j 1 each           (processes side by side)
#
# Usage: bench/suggest/run.sh [MOAT]   (MOAT: a release moat; TASKS, ROUNDS,
#        MODEL, MOAT_TESTDATA).  Writes bench/out/suggest/RESULTS.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
MOAT=${1:-$root/build/release/moat}
TASKS=${TASKS:-400}
ROUNDS=${ROUNDS:-5}
TESTDATA=${MOAT_TESTDATA:-$root/../shared}
MODEL=${MODEL:-$TESTDATA/models/llama-2-tiny-random.gguf}
OUT=${BENCH_OUT:-$root/bench/out/suggest}
LLAMA_DIR=${MOAT_LLAMA_DIR:-$("$root/scripts/llama-dir")}

die() { echo "bench/suggest: $*" >&2; exit 1; }
command -v hyperfine >/dev/null || die "needs hyperfine (scripts/bootstrap installs it)"
[ -x "$MOAT" ] || die "no moat at '$MOAT' (cmake --preset release && cmake --build build/release)"
[ -f "$MODEL" ] || die "no model at '$MODEL'"
mkdir -p "$OUT"
ws=$OUT/ws
rm -rf "$ws" && "$MOAT" init "$ws" >/dev/null
python3 - "$OUT/text.md" "$TASKS" <<'PY'
import random, sys
rnd = random.Random(7)
words = "invoice contract payment report analysis delivery court patient order balance quarterly " \
        "agreement clause sample study results notice account meeting schedule risk".split()
with open(sys.argv[1], "w") as f:
    for i in range(int(sys.argv[2])):
        f.write(" ".join(rnd.choice(words) for _ in range(rnd.randint(20, 60))).capitalize() + ".\n\n")
PY
"$MOAT" -w "$ws" ingest "$OUT/text.md" >/dev/null
printf '{"kind": "classification", "labels": ["finance", "legal", "medical", "other"], "prompt": "Classify the text as one of {{labels}}.\\n\\n{{text}}"}\n' >"$OUT/schema.json"
"$MOAT" -w "$ws" label create b --schema "$OUT/schema.json" --from elements --raw >/dev/null
n=$(sqlite3 "$ws/moat.db" "SELECT count(*) FROM tasks")
[ "$n" -ge "$TASKS" ] || die "made $n tasks, not $TASKS"
sqlite3 -json "$ws/moat.db" "SELECT id, text FROM tasks ORDER BY id" >"$OUT/tasks.json"

# llama-server, 4 slots, on a port the kernel picks (read from its log)
"$LLAMA_DIR/bin/llama-server" -m "$MODEL" --host 127.0.0.1 --port 0 -np 4 -c 8192 >"$OUT/server.log" 2>&1 &
spid=$!
trap 'kill $spid 2>/dev/null; wait $spid 2>/dev/null' EXIT
port=
for _ in $(seq 600); do
	port=$(sed -n 's/.*listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$OUT/server.log" | head -1)
	[ -n "$port" ] && curl -fs "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
	sleep 0.1
done
[ -n "$port" ] || die "llama-server did not start: $(tail -3 "$OUT/server.log")"
U="openai://127.0.0.1:$port/v1/tiny"

# the script people write: a request per task, the label set as a grammar,
# the answers into a JSON file
cat >"$OUT/today.py" <<'PY'
import json, sys, urllib.request
port, tasks, out = sys.argv[1], json.load(open(sys.argv[2])), sys.argv[3]
labels = ["finance", "legal", "medical", "other"]
grammar = 'root ::= "\\"" ("finance" | "legal" | "medical" | "other") "\\""'
res = []
for t in tasks:
    body = {"messages": [{"role": "user", "content": "Classify the text as one of %s.\n\n%s"
                          % (", ".join(labels), t["text"])}],
            "temperature": 0, "max_tokens": 16, "grammar": grammar}
    req = urllib.request.Request("http://127.0.0.1:%s/v1/chat/completions" % port,
                                 data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    ans = json.load(urllib.request.urlopen(req))["choices"][0]["message"]["content"]
    res.append({"task": t["id"], "labels": [json.loads(ans)]})
json.dump(res, open(out, "w"))
PY

shards() { # N J: N shard processes with -j J each, started together
	local n=$1 j=$2 c="" i
	for i in $(seq 0 $((n - 1))); do
		c="$c $MOAT -w $ws label suggest b --model $U -j $j --shard $i/$n >/dev/null 2>&1 &"
	done
	echo "$c wait"
}
reset="sqlite3 $ws/moat.db 'DELETE FROM suggestions'"
for r in $(seq 1 "$ROUNDS"); do
	hyperfine --runs 1 --prepare "$reset" --export-json "$OUT/round-$r.json" \
		-n "script, a request per task" "python3 $OUT/today.py $port $OUT/tasks.json $OUT/today.json" \
		-n "moat label suggest -j 1" "$MOAT -w $ws label suggest b --model $U -j 1" \
		-n "moat label suggest -j 4" "$MOAT -w $ws label suggest b --model $U -j 4" \
		-n "2 shards, -j 2 each" "$(shards 2 2)" \
		-n "4 shards, -j 1 each" "$(shards 4 1)" >/dev/null
	got=$(sqlite3 "$ws/moat.db" "SELECT count(DISTINCT task_id) || ' ' || count(*) FROM suggestions")
	[ "$got" = "$n $n" ] || die "round $r: 4 shards left '$got' suggestions (want $n, once each)"
done

PYTHONPATH=$root/bench python3 - "$OUT" "$ROUNDS" "$n" "$(cat /proc/loadavg)" >"$OUT/RESULTS.md" <<'PY'
import statistics, sys
import rounds as rr
out, rounds, n, load = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
times = rr.load(out, rounds)
names = list(times)
base = statistics.median(times[names[0]])
print("%d tasks; llama-server (4 slots) on the tiny model; medians of %d interleaved rounds; "
      "load average after %s" % (n, rounds, " ".join(load.split()[:3])))
print()
print("| command | median s | min s | tasks/s | vs the script |")
print("|---|---|---|---|---|")
for c in names:
    m = statistics.median(times[c])
    print("| %s | %.2f | %.2f | %.0f | %.2fx |" % (c, m, min(times[c]), n / m, base / m))
PY
cat "$OUT/RESULTS.md"
