#!/bin/bash
# bench/models/run.sh - the model kit against the tools people use today,
# timed with hyperfine on several multi-GB model blobs:
#   1. verify, one file:   moat models verify -j 1   vs  sha256sum FILE
#   2. verify, N files:    moat models verify -j 2   vs  sha256sum F1 F2 ... (one after another)
#   3. bundle N models:    moat models bundle -j 2   vs  cp + sha256sum of the copies
#                                                       (and cp + sync + sha256sum: moat fsyncs)
#
#   bench/models/run.sh [MOAT]        (make bench passes build/release/moat)
#
# Environment: BENCH_GB (size of each model blob, default 2), BENCH_FILES
# (models, default 3), RUNS (default 3; bundle runs: BUNDLE_RUNS, default 2),
# BENCH_OUT (default bench/out/models, git-ignored).  The store is generated
# once per size by gen.py and kept.  Verify runs are warm (files in the page
# cache, hyperfine --warmup 1); bundle runs write to the same disk as the
# store.  Writes BENCH_OUT/RESULTS.md and prints it.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
MOAT=${1:-$root/build/release/moat}
BENCH_GB=${BENCH_GB:-2}
BENCH_FILES=${BENCH_FILES:-3}
RUNS=${RUNS:-3}
BUNDLE_RUNS=${BUNDLE_RUNS:-2}
OUT=${BENCH_OUT:-$root/bench/out/models}

die() { echo "bench/models: $*" >&2; exit 1; }
for tool in hyperfine python3 sha256sum; do
  command -v "$tool" >/dev/null || die "needs $tool (scripts/bootstrap installs it)"
done
[ -x "$MOAT" ] || die "no moat binary at '$MOAT' (build a release: cmake --preset release)"
MOAT=$(cd "$(dirname "$MOAT")" && pwd)/$(basename "$MOAT")

store=$OUT/store-${BENCH_FILES}x${BENCH_GB}gb
if [ ! -f "$store/.complete" ]; then
  echo "bench/models: generating $BENCH_FILES models of $BENCH_GB GB in $store" >&2
  rm -rf "$store"
  python3 "$here/gen.py" "$store" "$BENCH_FILES" "$BENCH_GB"
  touch "$store/.complete"
fi
names=$(seq -f 'bench/m%g' 1 "$BENCH_FILES" | tr '\n' ' ')
one=$OUT/bundle-one
all=$OUT/bundle-all
rm -rf "$one" "$all"
"$MOAT" models bundle bench/m1 --models-dir "$store" --to "$one" >/dev/null
"$MOAT" models bundle $names --models-dir "$store" --to "$all" -j 2 >/dev/null
big1=$(ls -S "$one"/blobs/* | head -1)
bigs=$(ls -S "$all"/blobs/* | head -n "$BENCH_FILES" | tr '\n' ' ')
# checked once: both tools agree
(cd "$all" && sha256sum -c --quiet SHA256SUMS) || die "sha256sum -c fails on the bundle"
"$MOAT" models verify "$all" >/dev/null || die "moat verify fails on the bundle"

hf() { hyperfine --style basic --export-json "$1" "${@:2}"; }
hf "$OUT/verify-one.json" --warmup 1 --runs "$RUNS" \
  -n "moat models verify -j 1 (1 file)" "$MOAT models verify $one -j 1" \
  -n "sha256sum (1 file)" "sha256sum $big1"
hf "$OUT/verify-all.json" --warmup 1 --runs "$RUNS" \
  -n "moat models verify -j 2 ($BENCH_FILES files)" "$MOAT models verify $all -j 2" \
  -n "sha256sum, one file after another ($BENCH_FILES files)" "sha256sum $bigs" \
  -n "sha256sum -c SHA256SUMS ($BENCH_FILES files)" "cd $all && sha256sum -c --quiet SHA256SUMS"
dst=$OUT/bundle-bench
cpdst=$OUT/cp-bench
hf "$OUT/bundle.json" --runs "$BUNDLE_RUNS" \
  --prepare "rm -rf $dst $cpdst; sync" \
  -n "moat models bundle -j 2 ($BENCH_FILES models)" "$MOAT models bundle $names --models-dir $store --to $dst -j 2" \
  -n "cp, then sha256sum of the copies" "mkdir -p $cpdst && cp $store/blobs/* $cpdst/ && sha256sum $cpdst/* >/dev/null" \
  -n "cp, sync, then sha256sum of the copies" "mkdir -p $cpdst && cp $store/blobs/* $cpdst/ && sync && sha256sum $cpdst/* >/dev/null"
rm -rf "$dst" "$cpdst"

python3 - "$OUT" "$BENCH_FILES" "$BENCH_GB" "$MOAT" <<'PY' | tee "$OUT/RESULTS.md"
import json, os, subprocess, sys
out, n, gb, moat = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
def load(name):
    return json.load(open(os.path.join(out, name)))["results"]
def row(r, size_gb):
    m = r["mean"]; sd = r["stddev"] or 0.0
    return "| %s | %.2f ± %.2f s | %.0f MB/s |" % (r["command"], m, sd, size_gb * 1e3 / m)
cpu = subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"], capture_output=True, text=True).stdout.strip()
print("## Model kit: %d models of %.1f GB (hyperfine, mean ± σ)\n" % (n, gb))
print("Machine: %s, %d cores; %s\n" % (cpu, os.cpu_count(), subprocess.run([moat, "--version"], capture_output=True, text=True).stdout.strip()))
v1, va, b = load("verify-one.json"), load("verify-all.json"), load("bundle.json")
print("| command | time | throughput |\n|---|---|---|")
for r in v1: print(row(r, gb))
for r in va: print(row(r, gb * n))
for r in b: print(row(r, gb * n))
print()
print("- verify, 1 file: moat/sha256sum throughput ratio %.2f (target >= 0.95)" % (v1[1]["mean"] / v1[0]["mean"]))
print("- verify, %d files with -j 2: %.2fx faster than sha256sum one file after another" % (n, va[1]["mean"] / va[0]["mean"]))
print("- bundle (copy + hash, fsynced): %.2fx the speed of cp + sha256sum, %.2fx of cp + sync + sha256sum" % (b[1]["mean"] / b[0]["mean"], b[2]["mean"] / b[0]["mean"]))
PY
