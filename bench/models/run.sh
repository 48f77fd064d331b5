#!/bin/bash
# bench/models/run.sh - the model kit against the tools people use today,
# timed with hyperfine on several multi-GB model blobs:
#   1. verify, one file:   moat models verify -j 1   vs  sha256sum FILE, openssl dgst -sha256 FILE
#   2. verify, N files, one worker: moat models verify -j 1  vs  openssl dgst -sha256 F1 F2 ...
#      and sha256sum F1 F2 ... (the CPU's SHA-256 speed: openssl's SHA-NI path is the limit)
#   3. verify, N files:    moat models verify -j 2   vs  sha256sum F1 F2 ... (one after another)
#   4. bundle N models:    moat models bundle -j 2   vs  cp + sha256sum of the copies
#                                                       (and cp + sync + sha256sum: moat fsyncs)
#
#   bench/models/run.sh [MOAT]        (make bench passes build/release/moat)
#
# Environment: BENCH_GB (size of each model blob, default 2), BENCH_FILES
# (models, default 3), RUNS (default 3; bundle runs: BUNDLE_RUNS, default 2),
# BENCH_OUT (default bench/out/models, git-ignored), BENCH_ONLY=verify (skip
# the bundle runs).  Times are medians of interleaved runs (hyperfine runs
# each command of a group in turn, one run each, RUNS rounds).  The store is generated
# once per size by gen.py and kept.  Verify runs are warm (files in the page
# cache, one warm-up round); bundle runs write to the same disk as the
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
for tool in hyperfine python3 sha256sum openssl; do
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
# hfi OUT.json RUNS ARGS...: interleaved runs: RUNS rounds of one run of each
# command in turn (after one warm-up round), merged into OUT.json with each
# command's median over all rounds.
hfi() {
  local out=$1 runs=$2 r
  shift 2
  hyperfine --style none --runs 1 "$@" >/dev/null
  for r in $(seq "$runs"); do
    hyperfine --style none --runs 1 --export-json "$out.r$r" "$@" >/dev/null
  done
  python3 - "$out" "$runs" <<'PY'
import json, statistics, sys
out, runs = sys.argv[1], int(sys.argv[2])
rounds = [json.load(open("%s.r%d" % (out, r)))["results"] for r in range(1, runs + 1)]
res = []
for i, first in enumerate(rounds[0]):
    t = [rd[i]["times"][0] for rd in rounds]
    res.append({"command": first["command"], "times": t, "median": statistics.median(t),
                "mean": statistics.mean(t), "stddev": statistics.stdev(t) if len(t) > 1 else 0.0})
json.dump({"results": res}, open(out, "w"), indent=1)
PY
  rm -f "$out".r*
}
hfi "$OUT/verify-one.json" "$RUNS" \
  -n "moat models verify -j 1 (1 file)" "$MOAT models verify $one -j 1" \
  -n "sha256sum (1 file)" "sha256sum $big1" \
  -n "openssl dgst -sha256 (1 file)" "openssl dgst -sha256 $big1"
hfi "$OUT/verify-j1.json" "$RUNS" \
  -n "moat models verify -j 1 ($BENCH_FILES files)" "$MOAT models verify $all -j 1" \
  -n "openssl dgst -sha256 ($BENCH_FILES files)" "openssl dgst -sha256 $bigs" \
  -n "sha256sum ($BENCH_FILES files)" "sha256sum $bigs"
hfi "$OUT/verify-all.json" "$RUNS" \
  -n "moat models verify -j 2 ($BENCH_FILES files)" "$MOAT models verify $all -j 2" \
  -n "sha256sum, one file after another ($BENCH_FILES files)" "sha256sum $bigs" \
  -n "sha256sum -c SHA256SUMS ($BENCH_FILES files)" "cd $all && sha256sum -c --quiet SHA256SUMS"
dst=$OUT/bundle-bench
cpdst=$OUT/cp-bench
rm -f "$OUT/bundle.json"
[ "${BENCH_ONLY:-}" = verify ] || hf "$OUT/bundle.json" --runs "$BUNDLE_RUNS" \
  --prepare "rm -rf $dst $cpdst; sync" \
  -n "moat models bundle -j 2 ($BENCH_FILES models)" "$MOAT models bundle $names --models-dir $store --to $dst -j 2" \
  -n "cp, then sha256sum of the copies" "mkdir -p $cpdst && cp $store/blobs/* $cpdst/ && sha256sum $cpdst/* >/dev/null" \
  -n "cp, sync, then sha256sum of the copies" "mkdir -p $cpdst && cp $store/blobs/* $cpdst/ && sync && sha256sum $cpdst/* >/dev/null"
rm -rf "$dst" "$cpdst"

python3 - "$OUT" "$BENCH_FILES" "$BENCH_GB" "$MOAT" <<'PY' | tee "$OUT/RESULTS.md"
import json, os, subprocess, sys
out, n, gb, moat = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
def load(name):
    p = os.path.join(out, name)
    return json.load(open(p))["results"] if os.path.exists(p) else []
def row(r, size_gb):
    m = r["median"]; sd = r["stddev"] or 0.0
    return "| %s | %.3f s (σ %.3f) | %.0f MB/s |" % (r["command"], m, sd, size_gb * 1e3 / m)
cpu = subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"], capture_output=True, text=True).stdout.strip()
print("## Model kit: %d models of %.1f GB (hyperfine, median of interleaved runs)\n" % (n, gb))
print("Machine: %s, %d cores; %s\n" % (cpu, os.cpu_count(), subprocess.run([moat, "--version"], capture_output=True, text=True).stdout.strip()))
v1, vj, va, b = load("verify-one.json"), load("verify-j1.json"), load("verify-all.json"), load("bundle.json")
print("| command | time | throughput |\n|---|---|---|")
for r in v1: print(row(r, gb))
for r in vj: print(row(r, gb * n))
for r in va: print(row(r, gb * n))
for r in b: print(row(r, gb * n))
print()
med = lambda r: r["median"]
print("- verify, 1 file: moat/openssl throughput ratio %.2f (target >= 0.9), moat/sha256sum %.2f" % (med(v1[2]) / med(v1[0]), med(v1[1]) / med(v1[0])))
print("- verify, %d files, one worker: moat/openssl throughput ratio %.2f (target >= 0.9), moat/sha256sum %.2f" % (n, med(vj[1]) / med(vj[0]), med(vj[2]) / med(vj[0])))
print("- verify, %d files with -j 2: %.2fx faster than sha256sum one file after another" % (n, med(va[1]) / med(va[0])))
if b:
    print("- bundle (copy + hash, fsynced): %.2fx the speed of cp + sha256sum, %.2fx of cp + sync + sha256sum" % (med(b[1]) / med(b[0]), med(b[2]) / med(b[0])))
PY
