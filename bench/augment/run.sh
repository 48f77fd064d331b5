#!/bin/bash
# run.sh - synthetic-record throughput: `moat augment` with 1, 4 and 8
# requests in flight against the same requests sent with curl from a shell
# loop (one at a time, and 4 and 8 at a time with xargs -P), to the same
# llama-server: the overhead moat adds per record (rendering, the schema
# through the model layer, screening for PII and duplicates, the record, its
# task and annotation committed one by one with their provenance).
#
#  1. A workspace with the chunks (100 tokens) of a generated text of CHUNKS
#     sections (default 16: about 80 chunks; words of bench/suggest's kind),
#     kept under bench/out/augment/.
#  2. llama-server of the pinned llama.cpp on MODEL (default the tiny GGUF of
#     the shared test data) with 8 slots, on a loopback port.
#  3. The recipe: bench/augment/recipe.json (a question and an answer of at
#     most 48 characters each, at most 96 tokens: a bounded answer, so that
#     both sides generate alike).  The shell loop sends, for each chunk, the
#     prompt moat renders (taken from `moat augment --dry-run`) in the body
#     moat's model layer sends (streamed, log-probabilities, the schema as the
#     same GBNF grammar, the same sampling options; seen through a logging
#     proxy), and writes each answer to a file.
#  4. hyperfine, ROUNDS interleaved rounds (default 5, medians reported), each
#     from no records (--prepare removes them, untimed).
#
# Usage: bench/augment/run.sh [MOAT]   (MOAT: a release moat; CHUNKS, ROUNDS,
#        MODEL, MOAT_TESTDATA).  Writes bench/out/augment/RESULTS.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
MOAT=${1:-$root/build/release/moat}
CHUNKS=${CHUNKS:-16}
ROUNDS=${ROUNDS:-5}
TESTDATA=${MOAT_TESTDATA:-$root/../shared}
MODEL=${MODEL:-$TESTDATA/models/llama-2-tiny-random.gguf}
OUT=${BENCH_OUT:-$root/bench/out/augment}
LLAMA_DIR=${MOAT_LLAMA_DIR:-$("$root/scripts/llama-dir")}

die() { echo "bench/augment: $*" >&2; exit 1; }
command -v hyperfine >/dev/null || die "needs hyperfine (scripts/bootstrap installs it)"
command -v curl >/dev/null || die "needs curl"
[ -x "$MOAT" ] || die "no moat at '$MOAT' (cmake --preset release && cmake --build build/release)"
[ -f "$MODEL" ] || die "no model at '$MODEL'"
mkdir -p "$OUT"
ws=$OUT/ws
rm -rf "$ws" && "$MOAT" init "$ws" >/dev/null
python3 - "$OUT/text.md" "$CHUNKS" <<'PY'
import random, sys
rnd = random.Random(7)
words = "invoice contract payment report analysis delivery court patient order balance quarterly " \
        "agreement clause sample study results notice account meeting schedule risk".split()
with open(sys.argv[1], "w") as f:
    for i in range(int(sys.argv[2])):
        f.write("# Part %d\n\n" % (i + 1))
        f.write(" ".join(rnd.choice(words) for _ in range(60)).capitalize() + ".\n\n")
PY
"$MOAT" -w "$ws" ingest "$OUT/text.md" >/dev/null
"$MOAT" -w "$ws" clean >/dev/null
"$MOAT" -w "$ws" chunk --max-tokens 100 --name b >/dev/null
n=$(sqlite3 "$ws/moat.db" "SELECT count(*) FROM chunks")
[ "$n" -ge "$CHUNKS" ] || die "made $n chunks, fewer than $CHUNKS"
R=$here/recipe.json

# llama-server, 8 slots, on a port the kernel picks (read from its log)
"$LLAMA_DIR/bin/llama-server" -m "$MODEL" --host 127.0.0.1 --port 0 -np 8 -c 8192 --no-webui \
	>"$OUT/server.log" 2>&1 &
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

# the same requests as files: moat's own prompts (its dry run), the recipe's
# schema, options and a seed each
"$MOAT" -w "$ws" augment brief --recipe-file "$R" --model "$U" --project b --dry-run >"$OUT/prompts.txt"
rm -rf "$OUT/req" && mkdir -p "$OUT/req"
python3 - "$OUT/prompts.txt" "$R" "$OUT/req" <<'PY'
import json, sys
text, recipe, out = open(sys.argv[1]).read(), json.load(open(sys.argv[2])), sys.argv[3]
parts = text.split("--- record ")[1:]
for i, p in enumerate(parts):
    prompt = p.split("\n", 1)[1].rstrip("\n")
    # the body moat's model layer sends llama-server (seen through a logging
    # proxy): streamed, with each token's log-probability, the schema as GBNF
    props = recipe["schema"]["properties"]
    rules, parts = [], []
    for k, (name, sch) in enumerate(props.items(), 1):
        rules.append('r%d ::= "\\"" char{0,%d} "\\""' % (k, sch["maxLength"]))
        parts.append('"\\"%s\\":" r%d' % (name, k))
    top = len(props) + 1
    grammar = "root ::= r%d\n%s\nr%d ::= \"{\" %s \"}\"\n%s\n" % (
        top, "\n".join(rules), top, ' "," '.join(parts), 'char ::= [^"\\\\\\x00-\\x1f\\x7f] | "\\\\" ["\\\\/bfnrt]')
    body = {"model": "tiny", "messages": [{"role": "user", "content": prompt}], "stream": True,
            "stream_options": {"include_usage": True}, "temperature": recipe["temperature"],
            "top_p": 0.9, "top_k": 40, "seed": i, "max_tokens": recipe["max_tokens"],
            "logprobs": True, "top_logprobs": 1, "grammar": grammar}
    json.dump(body, open("%s/%04d.json" % (out, i), "w"))
print(len(parts), file=sys.stderr)
PY
nreq=$(ls "$OUT/req" | wc -l)
[ "$nreq" = "$n" ] || die "$nreq requests for $n chunks"
cat >"$OUT/one.sh" <<EOF
#!/bin/sh
curl -s -H 'Content-Type: application/json' --data-binary @"\$1" http://127.0.0.1:$port/v1/chat/completions >"\$1.out"
EOF
chmod +x "$OUT/one.sh"
loop="for f in $OUT/req/*.json; do $OUT/one.sh \$f; done"
par() { echo "ls $OUT/req/*.json | xargs -P $1 -n 1 $OUT/one.sh"; }
run() { echo "$MOAT -w $ws augment brief --recipe-file $R --model $U --project b --seed 1 -j $1 >/dev/null"; }
reset="sqlite3 $ws/moat.db 'DELETE FROM annotations; DELETE FROM tasks; DELETE FROM aug_records; DELETE FROM aug_runs'"
for r in $(seq 1 "$ROUNDS"); do
	rm -f "$OUT"/req/*.out
	hyperfine --runs 1 --prepare "$reset" --export-json "$OUT/round-$r.json" \
		-n "curl, a shell loop (1 in flight)" "$loop" \
		-n "moat augment -j 1" "$(run 1)" \
		-n "curl, xargs -P 4" "$(par 4)" \
		-n "moat augment -j 4" "$(run 4)" \
		-n "curl, xargs -P 8" "$(par 8)" \
		-n "moat augment -j 8" "$(run 8)" >/dev/null
	got=$(sqlite3 "$ws/moat.db" "SELECT count(*) || ' ' || count(DISTINCT key) FROM aug_records")
	[ "${got% *}" = "${got#* }" ] && [ "${got% *}" -ge $((n * 9 / 10)) ] ||
		die "round $r: moat -j 8 stored '$got' records (want about $n, once each)"
	[ "$(ls "$OUT"/req/*.out | wc -l)" = "$n" ] && ! grep -l '"error"' "$OUT"/req/*.out >/dev/null ||
		die "round $r: curl's requests did not all get an answer"
done
sqlite3 "$ws/moat.db" "SELECT reason, count(*) FROM aug_records GROUP BY reason" >"$OUT/reasons.txt"

PYTHONPATH=$root/bench python3 - "$OUT" "$ROUNDS" "$n" "$(cat /proc/loadavg)" "$(tr '\n' ' ' <"$OUT/reasons.txt")" \
	>"$OUT/RESULTS.md" <<'PY'
import statistics, sys
import rounds as rr
out, rounds, n, load, reasons = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
times = rr.load(out, rounds)
print("%d records (one per chunk); llama-server (8 slots) on the tiny model; medians of %d interleaved "
      "rounds; load average after %s; moat's last round: %s" % (n, rounds, " ".join(load.split()[:3]),
                                                                reasons.strip() or "-"))
print()
print("| command | median s | min s | records/s | ms per record | moat vs curl at the same concurrency |")
print("|---|---|---|---|---|---|")
names = list(times)
for i, c in enumerate(names):
    m = statistics.median(times[c])
    vs = ""
    if c.startswith("moat"):
        b = statistics.median(times[names[i - 1]])
        vs = "%.2fx (+%.1f ms/record)" % (b / m, (m - b) * 1000 / n)
    print("| %s | %.2f | %.2f | %.1f | %.1f | %s |" % (c, m, min(times[c]), n / m, m * 1000 / n, vs))
PY
cat "$OUT/RESULTS.md"
