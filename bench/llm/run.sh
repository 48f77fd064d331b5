#!/bin/bash
# bench/llm/run.sh - moat's model layer against llama.cpp's own tools:
#   1. batched generation of the built-in llama.cpp backend:
#        moat llm bench gguf:MODEL --parallel P   vs   llama-batched-bench -npl P
#      same model, same prompt and generation lengths, same threads; aggregate
#      tokens per second of the generation phase (S_TG) and of the prompts
#      (S_PP), the best of ROUNDS interleaved runs each (the machine is
#      shared: the best run is the one least disturbed);
#   2. moat's HTTP client against curl, the same requests to one llama-server,
#      timed with hyperfine: one streamed chat completion (curl, and
#      `moat llm run` end to end, its start and model checks included); N
#      completions one after another in one process (curl -K with N requests
#      vs moat llm run -n N --parallel 1: the clients' cost per request); and
#      N completions with 4 in flight (xargs -P 4 curl vs moat llm run -n N).
#
#   bench/llm/run.sh [MOAT]        (make bench passes build/release/moat)
#
# Environment: MODEL (default ../shared/models/llama-2-tiny-random.gguf),
# LLAMA_DIR (default the pinned build under ~/.cache/moat), THREADS (1),
# PP (128), TG (128), NPL ("1 4 8"), ROUNDS (7), RUNS (hyperfine runs, 30),
# N (requests of the throughput test, 64), BENCH_OUT (bench/out/llm).
# Writes BENCH_OUT/RESULTS.md and prints it.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
MOAT=${1:-$root/build/release/moat}
MODEL=${MODEL:-$root/../shared/models/llama-2-tiny-random.gguf}
LLAMA_DIR=${LLAMA_DIR:-$("$root/scripts/llama-dir")}
THREADS=${THREADS:-1}
PP=${PP:-128}
TG=${TG:-128}
NPL=${NPL:-1 4 8}
ROUNDS=${ROUNDS:-7}
RUNS=${RUNS:-30}
N=${N:-64}
OUT=${BENCH_OUT:-$root/bench/out/llm}

die() { echo "bench/llm: $*" >&2; exit 1; }
for tool in hyperfine python3 curl; do
  command -v "$tool" >/dev/null || die "needs $tool (scripts/bootstrap installs it)"
done
[ -x "$MOAT" ] || die "no moat binary at '$MOAT' (build a release: cmake --preset release)"
[ -x "$LLAMA_DIR/bin/llama-batched-bench" ] || die "no llama-batched-bench in $LLAMA_DIR/bin (scripts/build-llama)"
[ -f "$MODEL" ] || die "no model at '$MODEL'"
MOAT=$(cd "$(dirname "$MOAT")" && pwd)/$(basename "$MOAT")
"$MOAT" version --json | grep -q 'not built in' && die "this moat has no llama.cpp built in"
mkdir -p "$OUT"
res=$OUT/RESULTS.md
export MOAT_CACHE=$OUT/cache

server_pid=""
trap '[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; wait 2>/dev/null; true' EXIT

# ---- 1. batched generation ----
ctx=$(( (PP + TG) * $(echo $NPL | tr ' ' '\n' | sort -n | tail -1) ))
npl_csv=$(echo $NPL | tr ' ' ',')
: >"$OUT/batched.jsonl"
for round in $(seq "$ROUNDS"); do
  echo "bench/llm: batched round $round/$ROUNDS" >&2
  "$LLAMA_DIR/bin/llama-batched-bench" -m "$MODEL" -c "$ctx" -npp "$PP" -ntg "$TG" -npl "$npl_csv" \
    -t "$THREADS" --output-format jsonl 2>/dev/null | grep '^{' |
    python3 -c 'import json,sys
for l in sys.stdin:
    d = json.loads(l)
    print(json.dumps({"tool": "llama-batched-bench", "P": d["pl"], "pp": d["speed_pp"], "tg": d["speed_tg"]}))' \
    >>"$OUT/batched.jsonl"
  for p in $NPL; do
    "$MOAT" llm bench "gguf:$MODEL" --prompt-tokens "$PP" --gen-tokens "$TG" --parallel "$p" --repeat 1 \
      --threads "$THREADS" --json |
      python3 -c 'import json,sys; d=json.load(sys.stdin); print(json.dumps({"tool": "moat", "P": d["parallel"], "pp": d["pp_tps"], "tg": d["tg_tps"]}))' \
      >>"$OUT/batched.jsonl"
  done
done

# ---- 2. HTTP client vs curl, against llama-server ----
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$LLAMA_DIR/bin/llama-server" -m "$MODEL" --host 127.0.0.1 --port "$port" -c 4096 -np 4 -t "$THREADS" \
  --no-webui >"$OUT/llama-server.log" 2>&1 &
server_pid=$!
for i in $(seq 200); do
  curl -s --noproxy '*' "http://127.0.0.1:$port/health" | grep -q '"ok"' && break
  sleep 0.05
done
id=$(curl -s --noproxy '*' "http://127.0.0.1:$port/v1/models" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"][0]["id"])')
# the very body moat sends for: moat llm run URI Hello --max-tokens 32 --temperature 0 --seed 1
python3 - "$id" >"$OUT/body.json" <<'PY'
import json, sys
print(json.dumps({"model": sys.argv[1], "messages": [{"role": "user", "content": "Hello"}], "stream": True,
                  "stream_options": {"include_usage": True}, "temperature": 0.0, "top_p": 0.9, "seed": 1,
                  "max_tokens": 32, "top_k": 40}, separators=(",", ":")))
PY
url=http://127.0.0.1:$port/v1/chat/completions
uri=openai://127.0.0.1:$port/v1/
curl1="curl -s -N --noproxy '*' -o /dev/null -H 'Content-Type: application/json' -d @$OUT/body.json $url"
moat1="$MOAT llm run $uri Hello --max-tokens 32 --temperature 0 --seed 1 >/dev/null"
curlN="seq $N | xargs -P 4 -I{} curl -s -N --noproxy '*' -o /dev/null -H 'Content-Type: application/json' -d @$OUT/body.json $url"
moatN="$MOAT llm run $uri Hello -n $N --parallel 4 --max-tokens 32 --temperature 0 --seed 1 >/dev/null"
# N requests one after another in one process: the clients' own cost per request
for i in $(seq "$N"); do
  [ "$i" = 1 ] || echo next
  printf 'url = "%s"\nheader = "Content-Type: application/json"\ndata = "@%s"\noutput = "/dev/null"\nnoproxy = "*"\nno-buffer\n' \
    "$url" "$OUT/body.json"
done >"$OUT/curl-seq.cfg"
curlS="curl -s -K $OUT/curl-seq.cfg"
moatS="$MOAT llm run $uri Hello -n $N --parallel 1 --max-tokens 32 --temperature 0 --seed 1 >/dev/null"
hyperfine --warmup 3 --runs "$RUNS" --export-json "$OUT/http1.json" -n "curl, one request" "$curl1" \
  -n "moat llm run, one request (process start and model checks included)" "$moat1" >&2
hyperfine --warmup 1 --runs "$(( RUNS / 3 > 3 ? RUNS / 3 : 3 ))" --export-json "$OUT/httpS.json" \
  -n "curl, $N requests one after another (one process, -K)" "$curlS" \
  -n "moat -n $N --parallel 1" "$moatS" >&2
hyperfine --warmup 1 --runs "$(( RUNS / 3 > 3 ? RUNS / 3 : 3 ))" --export-json "$OUT/httpN.json" \
  -n "curl, $N requests 4 at a time (xargs -P 4)" "$curlN" -n "moat -n $N --parallel 4" "$moatN" >&2

# ---- the report ----
python3 - "$OUT" "$PP" "$TG" "$THREADS" "$ROUNDS" "$N" "$MODEL" >"$res" <<'PY'
import json, os, sys, statistics
out, pp, tg, threads, rounds, n, model = sys.argv[1:]
rows = [json.loads(l) for l in open(os.path.join(out, "batched.jsonl"))]
print("## Batched generation: moat llm bench vs llama-batched-bench\n")
print(f"Model `{os.path.basename(model)}`, {pp} prompt tokens and {tg} generated tokens per sequence, "
      f"{threads} thread(s); best of {rounds} interleaved rounds (median in brackets).\n")
print("| sequences | llama-batched-bench S_TG t/s | moat S_TG t/s | moat / llama.cpp | llama-batched-bench S_PP t/s | moat S_PP t/s |")
print("|---:|---:|---:|---:|---:|---:|")
for p in sorted({r["P"] for r in rows}):
    l = [r for r in rows if r["P"] == p and r["tool"] == "llama-batched-bench"]
    m = [r for r in rows if r["P"] == p and r["tool"] == "moat"]
    lt, mt = max(r["tg"] for r in l), max(r["tg"] for r in m)
    lp, mp = max(r["pp"] for r in l), max(r["pp"] for r in m)
    print(f"| {p} | {lt:.0f} ({statistics.median(r['tg'] for r in l):.0f}) | {mt:.0f} ({statistics.median(r['tg'] for r in m):.0f}) "
          f"| {mt / lt:.2f} | {lp:.0f} | {mp:.0f} |")
def hf(name):
    return json.load(open(os.path.join(out, name)))["results"]
print("\n## HTTP client: moat vs curl against llama-server\n")
print("| command | mean ms | ± ms | min ms |")
print("|---|---:|---:|---:|")
for f in ("http1.json", "httpS.json", "httpN.json"):
    for r in hf(f):
        print(f"| {r['command']} | {r['mean']*1000:.1f} | {r['stddev']*1000:.1f} | {r['min']*1000:.1f} |")
PY
cat "$res"
