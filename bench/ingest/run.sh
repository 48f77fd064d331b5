#!/bin/bash
# bench/ingest/run.sh - ingest throughput (MB/s) of moat on a few hundred MB
# of Markdown and HTML, side by side with pandoc converting the same files to
# plain text the way one would: one pandoc process per file, run in parallel
# by xargs -P with as many workers as moat's -j.  Timed with hyperfine.
#
#   bench/ingest/run.sh [MOAT]        (make bench passes build/release/moat)
#
# Environment: BENCH_MB (default 300: megabytes of input, half Markdown, half
# HTML), JOBS (default: nproc), RUNS (timed runs of moat, default 3),
# PANDOC_RUNS (default 1: pandoc needs minutes per run), BENCH_OUT (default
# bench/out/ingest, git-ignored).  The inputs are generated once per size by
# gen.py (deterministic) and kept for the next run; each moat run starts from
# a fresh workspace.  Writes BENCH_OUT/RESULTS.md and prints it.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
MOAT=${1:-$root/build/release/moat}
BENCH_MB=${BENCH_MB:-300}
JOBS=${JOBS:-$(nproc)}
RUNS=${RUNS:-3}
PANDOC_RUNS=${PANDOC_RUNS:-1}
OUT=${BENCH_OUT:-$root/bench/out/ingest}

die() { echo "bench/ingest: $*" >&2; exit 1; }
for tool in hyperfine pandoc python3; do
  command -v "$tool" >/dev/null || die "needs $tool (scripts/bootstrap installs it)"
done
[ -x "$MOAT" ] || die "no moat binary at '$MOAT' (build a release: cmake --preset release)"
MOAT=$(cd "$(dirname "$MOAT")" && pwd)/$(basename "$MOAT")

data=$OUT/data-${BENCH_MB}mb
if [ ! -f "$data/.complete" ]; then
  echo "bench/ingest: generating ${BENCH_MB} MB of Markdown and HTML in $data" >&2
  rm -rf "$data"
  python3 "$here/gen.py" "$data" "$BENCH_MB"
  touch "$data/.complete"
fi

ws=$OUT/workspace
txt=$OUT/pandoc-out
mkdir -p "$OUT"
# The conversion one would run by hand, one pandoc per file.
cat > "$OUT/pandoc-all.sh" <<'EOF'
#!/bin/sh
# pandoc-all.sh DIR OUTDIR JOBS: every file of DIR to plain text in OUTDIR.
rm -rf "$2" && mkdir -p "$2"
find "$1" -type f ! -name '.*' -print0 |
  xargs -0 -P "$3" -n 1 sh -c 'pandoc -t plain "$1" -o "$0/$(basename "$1").txt"' "$2"
EOF
chmod +x "$OUT/pandoc-all.sh"

bytes_of() { find "$1" -type f ! -name '.*' -printf '%s\n' | awk '{s += $1} END {print s}'; }
files_of() { find "$1" -type f ! -name '.*' | wc -l; }

# One checked run each first: every file must ingest (and convert), and the
# inputs are then in the page cache for both tools alike.
for kind in md html; do
  n=$(files_of "$data/$kind")
  rm -rf "$ws" && "$MOAT" init "$ws" >/dev/null
  summary=$("$MOAT" -w "$ws" ingest "$data/$kind" -j "$JOBS" --json) ||
    die "moat ingest failed on $data/$kind: $summary"
  python3 - "$n" "$summary" <<'EOF' || die "moat did not ingest every $kind file"
import json, sys
c = json.loads(sys.argv[2])["counts"]
sys.exit(0 if c["added"] == int(sys.argv[1]) and c["failed"] == 0 else 1)
EOF
done

results=()
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
: > "$OUT/commands.txt"
for kind in md html; do
  echo "bench/ingest: $kind: moat ($RUNS runs), pandoc ($PANDOC_RUNS)" >&2
  prep="rm -rf '$ws' && '$MOAT' init '$ws' >/dev/null"
  mcmd="'$MOAT' -w '$ws' ingest '$data/$kind' -j $JOBS --json >/dev/null"
  pcmd="'$OUT/pandoc-all.sh' '$data/$kind' '$txt' $JOBS"
  printf 'hyperfine --runs %s --prepare "%s" "%s"\nhyperfine --runs %s "%s"\n' \
    "$RUNS" "$prep" "$mcmd" "$PANDOC_RUNS" "$pcmd" >> "$OUT/commands.txt"
  hyperfine --style basic --runs "$RUNS" --prepare "$prep" \
    --export-json "$OUT/moat-$kind.json" -n "moat-$kind" "$mcmd" >&2
  hyperfine --style basic --runs "$PANDOC_RUNS" \
    --export-json "$OUT/pandoc-$kind.json" -n "pandoc-$kind" "$pcmd" >&2
  [ "$(files_of "$txt")" = "$(files_of "$data/$kind")" ] || die "pandoc did not convert every $kind file"
  results+=("$kind $(files_of "$data/$kind") $(bytes_of "$data/$kind")")
done
rm -rf "$ws" "$txt"
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

moat_version=$("$MOAT" version 2>/dev/null | head -1 || echo moat)
pandoc_version=$(pandoc --version | head -1)
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//' || echo unknown)
python3 - "$OUT" "$JOBS" "$RUNS" "$PANDOC_RUNS" "$moat_version" "$pandoc_version" "$cpu" \
  "$(nproc)" "$load_before / $load_after" "${results[@]}" > "$OUT/RESULTS.md" <<'EOF'
import json, sys, datetime
out, jobs, runs, pruns, mv, pv, cpu, ncpu, load = sys.argv[1:10]
rows, tot = [], {"bytes": 0, "files": 0, "moat": 0.0, "pandoc": 0.0}
def times(tool, kind):
    r = json.load(open("%s/%s-%s.json" % (out, tool, kind)))["results"][0]
    return r["mean"], r["min"], r.get("stddev") or 0.0
for spec in sys.argv[10:]:
    kind, files, nbytes = spec.split()
    files, nbytes = int(files), int(nbytes)
    rows.append((kind, files, nbytes, times("moat", kind), times("pandoc", kind)))
    tot["bytes"] += nbytes; tot["files"] += files
    tot["moat"] += rows[-1][3][0]; tot["pandoc"] += rows[-1][4][0]
    tot["moat_min"] = tot.get("moat_min", 0.0) + rows[-1][3][1]
    tot["pandoc_min"] = tot.get("pandoc_min", 0.0) + rows[-1][4][1]
name = {"md": "Markdown", "html": "HTML"}
print("# Ingest throughput: moat vs pandoc\n")
print("%s, %s CPUs (%s), load average before / after %s; -j %s for moat, xargs -P %s for pandoc; "
      "moat: %s runs, pandoc: %s run(s); MB = 10^6 bytes.\n"
      % (datetime.date.today().isoformat(), ncpu, cpu, load, jobs, jobs, runs, pruns))
print("| input | files | MB | moat s (mean ± sd, min) | moat MB/s (mean, best) "
      "| pandoc s | pandoc MB/s | ratio (mean, best) |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for kind, files, nbytes, (m, mmin, msd), (p, pmin, psd) in rows:
    mb = nbytes / 1e6
    print("| %s | %d | %.1f | %.1f ± %.1f, %.1f | %.1f, %.1f | %.1f | %.2f | %.0fx, %.0fx |" % (
        name[kind], files, mb, m, msd, mmin, mb / m, mb / mmin, p, mb / p, p / m, pmin / mmin))
mb = tot["bytes"] / 1e6
print("| all | %d | %.1f | %.1f, %.1f | %.1f, %.1f | %.1f | %.2f | %.0fx, %.0fx |" % (
    tot["files"], mb, tot["moat"], tot["moat_min"], mb / tot["moat"], mb / tot["moat_min"],
    tot["pandoc"], mb / tot["pandoc"], tot["pandoc"] / tot["moat"],
    tot["pandoc_min"] / tot["moat_min"]))
print("\nmoat: %s; %s.\n" % (mv, pv))
print("moat parses each file into elements and stores the original (content-addressed, fsynced), "
      "the elements and the audit record in a fresh workspace; pandoc only converts each file "
      "to plain text.\n")
print("Commands (bench/ingest/run.sh; pandoc-all.sh runs "
      "`find DIR -type f | xargs -P JOBS -n 1 pandoc -t plain FILE -o OUT/FILE.txt`):\n")
print("```")
print(open(out + "/commands.txt").read().rstrip())
print("```")
EOF
cat "$OUT/RESULTS.md"
