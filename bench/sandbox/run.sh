#!/bin/bash
# bench/sandbox/run.sh - what the parser sandbox costs per file: `moat ingest
# -j 1` with this build's sandbox, with an older build's sandbox (OLD_MOAT)
# and with --no-sandbox, on the same inputs in one run:
#  - the born-digital PDFs of ../shared/corpus, each once (moat stores a
#    content once, so copies of one file would be parsed once), against
#    pdftotext run once per file, one file after another: the way one would
#    by hand;
#  - TEXT_FILES (default 10,000) small distinct text files, generated
#    deterministically.
# Each moat run starts from a fresh workspace (made untimed, in hyperfine's
# --prepare), so what is timed is the ingest itself with its workspace
# writes.  The machine may be shared, so the commands run in interleaved
# rounds (one hyperfine call per round, every command once, in turn) and the
# medians of the rounds are reported, for wall time and for CPU time (user +
# system of the command and every process it started).
#
#   bench/sandbox/run.sh [MOAT]       (make bench passes build/release/moat)
#
# Environment: OLD_MOAT (a release build of an older moat, e.g. of 78198ef,
# the last commit before the seccomp confinement; left out when unset),
# BASE_MOAT (another release build to compare with, e.g. the commit before a
# change; left out when unset),
# ROUNDS (default 15 for the PDFs), TEXT_ROUNDS (default 3), TEXT_FILES
# (default 10000), ONLY (pdfs or text: that part alone), MOAT_TESTDATA
# (default ../shared), BENCH_OUT (default bench/out/sandbox, git-ignored).
# Writes BENCH_OUT/RESULTS.md and prints it.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
MOAT=${1:-$root/build/release/moat}
OLD_MOAT=${OLD_MOAT:-}
BASE_MOAT=${BASE_MOAT:-}
CORPUS=${MOAT_TESTDATA:-$root/../shared}/corpus
ROUNDS=${ROUNDS:-15}
TEXT_ROUNDS=${TEXT_ROUNDS:-3}
TEXT_FILES=${TEXT_FILES:-10000}
OUT=${BENCH_OUT:-$root/bench/out/sandbox}
ONLY=${ONLY:-}

die() { echo "bench/sandbox: $*" >&2; exit 1; }
for tool in hyperfine pdftotext pdfinfo python3; do
  command -v "$tool" >/dev/null || die "needs $tool (scripts/bootstrap installs it)"
done
[ -d "$CORPUS" ] || die "no corpus at $CORPUS (set MOAT_TESTDATA)"
abs() { echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; }
[ -x "$MOAT" ] || die "no moat binary at '$MOAT' (build a release: cmake --preset release)"
MOAT=$(abs "$MOAT")
if [ -n "$OLD_MOAT" ]; then
  [ -x "$OLD_MOAT" ] || die "no moat binary at OLD_MOAT='$OLD_MOAT'"
  OLD_MOAT=$(abs "$OLD_MOAT")
fi
if [ -n "$BASE_MOAT" ]; then
  [ -x "$BASE_MOAT" ] || die "no moat binary at BASE_MOAT='$BASE_MOAT'"
  BASE_MOAT=$(abs "$BASE_MOAT")
fi

# Born-digital and unencrypted: bench/pdf's list.
PDFS="multi-column-2p multi_page 2305.03393v1-pg9 tracemonkey multicolumn habibi"
mkdir -p "$OUT"
rm -rf "$OUT/pdfs" "$OUT/ws"
mkdir -p "$OUT/pdfs"
pages=0
for f in $PDFS; do
  n=$(pdfinfo "$CORPUS/$f.pdf" | awk '/^Pages:/ {print $2}')
  pages=$((pages + n))
  cp "$CORPUS/$f.pdf" "$OUT/pdfs/"
done
n_pdfs=$(ls "$OUT/pdfs" | wc -l)

text=$OUT/text-$TEXT_FILES
if [ "$ONLY" != pdfs ] && [ ! -f "$text/.complete" ]; then
  echo "bench/sandbox: generating $TEXT_FILES text files in $text" >&2
  rm -rf "$text"
  python3 - "$text" "$TEXT_FILES" <<'PY'
import os, random, sys
out, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(13)
words = ("sandbox parser document element page workspace file child process "
         "limit socket filter memory answer reply store batch commit table "
         "invoice customer account river mountain letter report").split()
for i in range(n):
    d = os.path.join(out, "%02d" % (i // 1000))
    os.makedirs(d, exist_ok=True)
    lines = ["Note %d" % i, ""]
    for _ in range(rng.randint(2, 6)):
        lines.append(" ".join(rng.choice(words) for _ in range(rng.randint(6, 14))) + ".")
    with open(os.path.join(d, "note-%05d.txt" % i), "w") as f:
        f.write("\n".join(lines) + "\n")
PY
  touch "$text/.complete"
fi
text_bytes=0
[ "$ONLY" = pdfs ] || text_bytes=$(find "$text" -type f ! -name '.*' -printf '%s\n' | awk '{s += $1} END {print s}')
sets="pdfs text-$TEXT_FILES"
[ "$ONLY" = pdfs ] && sets=pdfs
[ "$ONLY" = text ] && sets=text-$TEXT_FILES

cat > "$OUT/each.sh" <<'EOF'
#!/bin/bash
# each.sh DIR TOOL ARG...: the tool on every file of DIR, in order, the file
# where an ARG is {}.
dir=$1; shift
for f in "$dir"/*; do
  args=()
  for a in "$@"; do [ "$a" = "{}" ] && args+=("$f") || args+=("$a"); done
  "${args[@]}" || exit 1
done
EOF
cat > "$OUT/fresh.sh" <<'EOF'
#!/bin/bash
# fresh.sh MOAT WS: an empty workspace at WS.
rm -rf "$2" && "$1" init "$2" >/dev/null
EOF
chmod +x "$OUT/each.sh" "$OUT/fresh.sh"
E=$OUT/each.sh
ws=$OUT/ws

# The configurations: name, binary, extra flags.
configs=("new|$MOAT|" "nosandbox|$MOAT|--no-sandbox")
[ -n "$BASE_MOAT" ] && configs+=("base|$BASE_MOAT|")
[ -n "$OLD_MOAT" ] && configs+=("old|$OLD_MOAT|")

# A checked run of each first: every file ingests, and the inputs are in the
# page cache for every tool alike.
for c in "${configs[@]}"; do
  IFS='|' read -r name bin flags <<<"$c"
  for set in $sets; do
    dir=$OUT/pdfs; [ "$set" = pdfs ] || dir=$text
    "$OUT/fresh.sh" "$bin" "$ws"
    # shellcheck disable=SC2086
    "$bin" -w "$ws" ingest -j 1 $flags "$dir" > "$OUT/check-$name-$set.txt" 2>&1 ||
      die "$name failed on $set (see $OUT/check-$name-$set.txt)"
  done
done
"$E" "$OUT/pdfs" pdftotext -q {} - >/dev/null || die "pdftotext failed"

# round SET N DIR: N rounds, each one hyperfine call running every command
# once, in turn (the workspace made fresh, by the same binary, before each
# run; before pdftotext too, so that every command follows the same work),
# the order turned by one each round so that no command always runs first.
round() {
  local set=$1 n=$2 dir=$3 cmds=() names=() preps=()
  for c in "${configs[@]}"; do
    IFS='|' read -r name bin flags <<<"$c"
    names+=("$name")
    cmds+=("$bin -w $ws ingest -j 1 $flags $dir")
    preps+=(--prepare "$OUT/fresh.sh $bin $ws")
  done
  if [ "$set" = pdfs ]; then
    names+=(pdftotext)
    cmds+=("$E $dir pdftotext -q {} -")
    preps+=(--prepare "$OUT/fresh.sh $MOAT $ws")
  fi
  local k=${#cmds[@]} r i t
  printf '%s\n' "${names[@]}" > "$OUT/$set.names"
  for r in $(seq 1 "$n"); do
    echo "bench/sandbox: $set, round $r of $n" >&2
    local rc=() rp=() rn=()
    for i in $(seq 0 $((k - 1))); do
      t=$(((i + r) % k))
      rc+=("${cmds[$t]}"); rp+=("${preps[$((2 * t))]}" "${preps[$((2 * t + 1))]}")
      rn+=("${names[$t]}")
    done
    printf '%s\n' "${rn[@]}" > "$OUT/$set-$r.names"
    hyperfine --style none --runs 1 --warmup 0 -N "${rp[@]}" \
      --export-json "$OUT/$set-$r.json" "${rc[@]}" >/dev/null
  done
}

load_before=$(uptime)
rm -f "$OUT"/pdfs-*.json "$OUT"/text-*.json "$OUT"/*.names
[ "$ONLY" = text ] || round pdfs "$ROUNDS" "$OUT/pdfs"
[ "$ONLY" = pdfs ] || round text "$TEXT_ROUNDS" "$text"
load_after=$(uptime)

python3 - "$OUT" "$ROUNDS" "$TEXT_ROUNDS" "$n_pdfs" "$pages" "$TEXT_FILES" "$text_bytes" \
  "$load_before" "$load_after" "$(nproc)" <<'PY' > "$OUT/RESULTS.md"
import json, os, statistics, sys
out = sys.argv[1]
rounds, text_rounds, n_pdfs, pages, n_text, text_bytes = map(int, sys.argv[2:8])
load_before, load_after, cpus = sys.argv[8], sys.argv[9], sys.argv[10]
label = {"new": "moat, this build's sandbox", "old": "moat, the old sandbox (OLD_MOAT)",
         "base": "moat, BASE_MOAT's sandbox",
         "nosandbox": "moat --no-sandbox", "pdftotext": "pdftotext, one process per file"}

def load(set_, n):
    names = open("%s/%s.names" % (out, set_)).read().split()
    wall = {k: [] for k in names}
    cpu = {k: [] for k in names}
    cmd = {}
    for r in range(1, n + 1):
        rnames = open("%s/%s-%d.names" % (out, set_, r)).read().split()
        for name, res in zip(rnames, json.load(open("%s/%s-%d.json" % (out, set_, r)))["results"]):
            wall[name].append(res["times"][0])
            cpu[name].append(res["user"] + res["system"])
            cmd[name] = res["command"]
    return names, {k: statistics.median(v) for k, v in wall.items()}, \
        {k: statistics.median(v) for k, v in cpu.items()}, \
        {k: min(v) for k, v in wall.items()}, cmd

print("%s CPUs.  Load before: `%s`; after: `%s`\n" % (cpus, load_before.strip(), load_after.strip()))
def pdf_table():
    names, wall, cpu, best, cmd = load("pdfs", rounds)
    print("## %d born-digital PDFs of the corpus (%d pages), each once, `-j 1`\n" % (n_pdfs, pages))
    print("Medians of %d interleaved rounds; ms/file is the time divided by the %d files; the ratio "
          "is pdftotext's time over the tool's (above 1: faster than pdftotext).\n" % (rounds, n_pdfs))
    print("| tool | wall s (median / best) | ms/file | vs pdftotext, wall | CPU s | CPU ms/file | vs pdftotext, CPU |")
    print("|---|---|---|---|---|---|---|")
    for k in names:
        print("| %s | %.3f / %.3f | %.1f | **%.2fx** | %.3f | %.1f | **%.2fx** |"
              % (label[k], wall[k], best[k], 1000 * wall[k] / n_pdfs, wall["pdftotext"] / wall[k],
                 cpu[k], 1000 * cpu[k] / n_pdfs, cpu["pdftotext"] / cpu[k]))
    print()
    return list(cmd.values())

def text_table():
    names, wall, cpu, best, cmd = load("text", text_rounds)
    print("## %d small text files (%.1f MB in all), `-j 1`\n" % (n_text, text_bytes / 1e6))
    print("Medians of %d interleaved rounds; the sandbox's cost per file is the time above "
          "`--no-sandbox`'s, divided by the files.\n" % text_rounds)
    print("| tool | wall s (median / best) | ms/file | sandbox ms/file | CPU s | CPU ms/file | sandbox CPU ms/file |")
    print("|---|---|---|---|---|---|---|")
    for k in names:
        print("| %s | %.2f / %.2f | %.3f | %.3f | %.2f | %.3f | %.3f |"
              % (label[k], wall[k], best[k], 1000 * wall[k] / n_text,
                 1000 * (wall[k] - wall["nosandbox"]) / n_text, cpu[k], 1000 * cpu[k] / n_text,
                 1000 * (cpu[k] - cpu["nosandbox"]) / n_text))
    print()
    return list(cmd.values())

cmds = []
if os.path.exists("%s/pdfs-1.json" % out):
    cmds += pdf_table()
if os.path.exists("%s/text-1.json" % out):
    cmds += text_table()
print("## Commands\n")
print("Each moat run after `$OUT/fresh.sh MOAT $OUT/ws` (an empty workspace, untimed).\n")
for c in cmds:
    print("- `%s`" % c.replace(out, "$OUT"))
PY
cat "$OUT/RESULTS.md"
