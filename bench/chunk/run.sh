#!/bin/bash
# run.sh - chunking by the model's own tokens (src/export/chunk.c), side by
# side with llama.cpp's own `llama-tokenize` on the same text (the pinned
# build), in tokens per second.  Goal (issue 12): at least 0.9x.
#
#  1. gen.py writes MB megabytes (default 4) of a document the way moat's
#     text reader sees one: headings, paragraphs, lists, some accented words,
#     CJK, Arabic, Cyrillic and emoji.
#  2. chunkbench (chunkbench.c, linked with the release build's libmoatlib.a)
#     chunks it with gguf:MODEL and --max-tokens MAX, and checks once that
#     every chunk tokenizes on its own to at most MAX and that both tools
#     count the same tokens.
#  3. hyperfine, ROUNDS rounds of RUNS runs of each tool, the order swapped
#     every round (interleaved): medians of wall and of user CPU time, and of
#     the per-round ratios.  Both times include loading the vocabulary and
#     reading the file; llama-tokenize prints the token ids (--ids) to
#     /dev/null, chunkbench one line.
#  4. edges (edges.c): how far a slice tokenized on its own lies from its
#     estimate, with nine vocabularies llama.cpp ships (CHUNK_RECOUNT_MARGIN).
#
# Usage: bench/chunk/run.sh [MOAT]   (MOAT: a release moat; its build directory
#        holds libmoatlib.a.  MB, MAX, ROUNDS, RUNS, MODEL, LLAMA_DIR: see below)
# Writes bench/out/chunk/RESULTS.md (git-ignored); bench/chunk/RESULTS.md keeps
# a copy with the reading of it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
MOAT=${1:-$root/build/release/moat}
build=$(cd "$(dirname "$MOAT")" && pwd)
MODEL=${MODEL:-${MOAT_TESTDATA:-$root/../shared}/models/llama-2-tiny-random.gguf}
LLAMA_DIR=${LLAMA_DIR:-$("$root/scripts/llama-dir")}
MB=${MB:-4}
MAX=${MAX:-512}
ROUNDS=${ROUNDS:-5}
RUNS=${RUNS:-3}
OUT=${BENCH_OUT:-$root/bench/out/chunk}

die() { echo "bench/chunk: $*" >&2; exit 1; }
for tool in hyperfine python3 cc; do
  command -v "$tool" >/dev/null || die "needs $tool (scripts/bootstrap installs it)"
done
[ -f "$build/libmoatlib.a" ] && [ -f "$build/build.ninja" ] ||
  die "no libmoatlib.a in '$build' (build a release: cmake --preset release && cmake --build build/release)"
[ -x "$LLAMA_DIR/bin/llama-tokenize" ] || die "no llama-tokenize in $LLAMA_DIR/bin (scripts/build-llama)"
[ -f "$MODEL" ] || die "no model at '$MODEL'"
mkdir -p "$OUT"
export MOAT_CACHE=$OUT/cache   # the model's digest is computed here, once

# ---- the input and the tools ----
doc=$OUT/doc-${MB}mb.txt
mixed=$OUT/mixed.txt
[ -s "$doc" ] || python3 "$here/gen.py" "$doc" $((MB << 20))
[ -s "$mixed" ] || python3 "$here/gen.py" "$mixed" $((1 << 20)) --mixed
libs=$(sed -n '/^build moat:/,/LINK_LIBRARIES/p' "$build/build.ninja" | grep LINK_LIBRARIES | sed 's/.*LINK_LIBRARIES = //')
(cd "$build" && cc -O2 -I"$root/src" -Igen "$here/chunkbench.c" $libs -o "$OUT/chunkbench")
cc -O2 -I"$LLAMA_DIR/include" "$here/edges.c" -L"$LLAMA_DIR/lib" -lllama -lggml -lggml-base \
  -Wl,-rpath,"$LLAMA_DIR/lib" -o "$OUT/edges"

peer="$LLAMA_DIR/bin/llama-tokenize -m $MODEL -f $doc --ids --no-bos --no-parse-special --no-escape --log-disable"
ours="$OUT/chunkbench gguf:$MODEL $doc --max $MAX"

# ---- checks ----
check=$("$OUT/chunkbench" "gguf:$MODEL" "$doc" --max "$MAX" --check) || die "a chunk is over the limit: $check"
tokens=$($peer 2>/dev/null | python3 -c 'import sys; s=sys.stdin.read().strip(); print(len(s.strip("[]").split(",")))')
ours_tokens=$(echo "$check" | sed -n 's/^document: \([0-9]*\) tokens.*/\1/p')
echo "bench/chunk: $(stat -c %s "$doc") bytes; tokens: llama-tokenize $tokens, moat $ours_tokens" >&2
echo "$check" >&2
[ "$tokens" = "$ours_tokens" ] || die "the two count different tokens"

# ---- timing, interleaved ----
: >"$OUT/rounds.jsonl"
for round in $(seq "$ROUNDS"); do
  echo "bench/chunk: round $round/$ROUNDS" >&2
  if [ $((round % 2)) = 1 ]; then
    hyperfine -N --warmup 1 --runs "$RUNS" --export-json "$OUT/round.json" -n llama-tokenize "$peer" -n moat-chunk "$ours" >/dev/null
  else
    hyperfine -N --warmup 1 --runs "$RUNS" --export-json "$OUT/round.json" -n moat-chunk "$ours" -n llama-tokenize "$peer" >/dev/null
  fi
  python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["results"]))' "$OUT/round.json" >>"$OUT/rounds.jsonl"
done

# ---- edges ----
: >"$OUT/edges.txt"
for v in llama-spm llama-bpe qwen2 gpt-2 phi-3 falcon starcoder deepseek-llm command-r; do
  for text in "$doc" "$mixed"; do
    "$OUT/edges" "$LLAMA_DIR/vocab/ggml-vocab-$v.gguf" "$text" >>"$OUT/edges.txt" || true
  done
done

# ---- the report ----
python3 - "$OUT" "$tokens" "$(stat -c %s "$doc")" "$MAX" "$ROUNDS" "$RUNS" "$peer" "$ours" "$check" \
  >"$OUT/RESULTS.md" <<'PY'
import json, os, statistics, sys
out, tokens, size, mx, rounds, runs, peer, ours, check = sys.argv[1:]
tokens, size = int(tokens), int(size)
rs = [json.loads(l) for l in open(os.path.join(out, "rounds.jsonl"))]
def times(name, key):
    return [t for r in rs for c in r if c["command"] == name for t in (c["times"] if key == "wall" else [c[key]])]
def ratio(key):
    per = []
    for r in rs:
        d = {c["command"]: (statistics.median(c["times"]) if key == "wall" else c[key]) for c in r}
        per.append(d["llama-tokenize"] / d["moat-chunk"])
    return per
print(f"{size} bytes ({size / 1e6:.1f} MB), {tokens} tokens (Llama-2 tokenizer); --max-tokens {mx}; "
      f"{rounds} interleaved rounds of {runs} runs each.\n")
print("| | llama-tokenize | moat chunk | moat / llama-tokenize |")
print("|---|---:|---:|---:|")
for key, label in (("wall", "wall"), ("user", "user CPU")):
    p, o = statistics.median(times("llama-tokenize", key)), statistics.median(times("moat-chunk", key))
    print(f"| median {label} s | {p:.3f} | {o:.3f} | |")
    print(f"| tokens/s ({label}) | {tokens / p:,.0f} | {tokens / o:,.0f} | **{p / o:.2f}** |")
    print(f"| per-round ratios ({label}) | | | {' '.join(f'{x:.2f}' for x in ratio(key))} (median {statistics.median(ratio(key)):.2f}) |")
print(f"\nCommands:\n\n```\n{peer} >/dev/null\n{ours}\n```\n")
print("Check (every chunk tokenized on its own, and the whole document):\n")
print("```\n" + check + "\n```\n")
print("Own count minus estimate of slices (edges.c), per vocabulary, the benchmark text then the mixed one (gen.py --mixed):\n")
print("```")
print(open(os.path.join(out, "edges.txt")).read().rstrip())
print("```")
PY
cat "$OUT/RESULTS.md"
