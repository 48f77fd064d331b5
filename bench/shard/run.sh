#!/bin/bash
# run.sh - ingest throughput with 1, 2 and 4 shards (`--shard I/N`), each
# shard a separate `moat ingest` process started at the same time on this
# machine, as a Slurm job array's tasks would be on one node.
#
# A shard takes the workspace's writer lock shared and holds SQLite's own
# writer lock only while it stores finished documents, so the shards run
# side by side (each still walks and stats every file to find its share).
#
#  1. bench/ingest/gen.py writes MB megabytes (default 20) of Markdown and
#     HTML, kept under bench/out/shard/ for the next run.
#  2. hyperfine, ROUNDS interleaved rounds (default 5: each round runs every
#     command once, and the medians of the rounds are reported), each from a fresh
#     workspace (moat init in --prepare, untimed): one process; 2 shards;
#     4 shards; and one process with -j 2 for reference.  Every shard and the
#     single process run with -j J (default 1) workers.
#
# Usage: bench/shard/run.sh [MOAT]   (MOAT: a release moat; MB, ROUNDS, J)
# Writes bench/out/shard/RESULTS.md (git-ignored); bench/shard/RESULTS.md
# keeps a copy with the reading of it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
MOAT=${1:-$root/build/release/moat}
MB=${MB:-20}
ROUNDS=${ROUNDS:-5}
J=${J:-1}
OUT=${BENCH_OUT:-$root/bench/out/shard}

die() { echo "bench/shard: $*" >&2; exit 1; }
command -v hyperfine >/dev/null || die "needs hyperfine (scripts/bootstrap installs it)"
[ -x "$MOAT" ] || die "no moat at '$MOAT' (cmake --preset release && cmake --build build/release)"
mkdir -p "$OUT"
data=$OUT/data-${MB}mb
[ -d "$data" ] || python3 "$root/bench/ingest/gen.py" "$data" "$MB"
files=$(find "$data" -type f | wc -l)
bytes=$(du -sb "$data" | cut -f1)
ws=$OUT/ws

shards() { # N: the command that runs N shards at once and waits for all
	local n=$1 c="" i
	for i in $(seq 0 $((n - 1))); do
		c="$c $MOAT -w $ws ingest $data -j $J --shard $i/$n >/dev/null 2>&1 &"
	done
	echo "$c wait"
}

# interleaved rounds: one hyperfine call per round runs every command once,
# so a slow minute on a shared machine falls on all of them; medians of rounds
for r in $(seq 1 "$ROUNDS"); do
	hyperfine --runs 1 --prepare "rm -rf $ws && $MOAT init $ws >/dev/null" \
		--export-json "$OUT/round-$r.json" \
		-n "1 process, -j $J" "$MOAT -w $ws ingest $data -j $J" \
		-n "2 shards, -j $J each" "$(shards 2)" \
		-n "4 shards, -j $J each" "$(shards 4)" \
		-n "1 process, -j 2" "$MOAT -w $ws ingest $data -j 2" >/dev/null
done

# the last workspace (one process, -j 2) against 4 shards: the same documents
rm -rf "$ws.4" && "$MOAT" init "$ws.4" >/dev/null && eval "$(shards 4 | sed "s#-w $ws #-w $ws.4 #g")"
a=$(sqlite3 "$ws/moat.db" 'SELECT id FROM documents ORDER BY 1' | sha256sum)
b=$(sqlite3 "$ws.4/moat.db" 'SELECT id FROM documents ORDER BY 1' | sha256sum)
[ "$a" = "$b" ] || die "4 shards did not ingest the same documents as one process"

PYTHONPATH=$root/bench python3 - "$OUT" "$ROUNDS" "$files" "$bytes" "$(cat /proc/loadavg)" >"$OUT/RESULTS.md" <<'PY'
import statistics, sys
import rounds as rr
out, rounds = sys.argv[1], int(sys.argv[2])
files, size, load = int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
times = rr.load(out, rounds)
names = list(times)
base = statistics.median(times[names[0]])
print("%d files, %.1f MB; medians of %d interleaved rounds; load average after %s"
      % (files, size / 1e6, rounds, " ".join(load.split()[:3])))
print()
print("| command | median s | min s | files/s | MB/s | vs 1 process |")
print("|---|---|---|---|---|---|")
for n in names:
    m = statistics.median(times[n])
    print("| %s | %.2f | %.2f | %.0f | %.2f | %.2fx |" % (n, m, min(times[n]), files / m,
          size / 1e6 / m, base / m))
PY
cat "$OUT/RESULTS.md"
