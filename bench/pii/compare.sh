#!/bin/bash
# compare.sh - `moat pii scan --json` of two builds, interleaved, on the
# benchmark text (gen.py, as run.sh) and on dense text (the texts of the PII
# fixture, fixtures/pii/cases.jsonl, repeated): medians of ROUNDS rounds, each round
# one hyperfine run of every command in turn (so a slow minute of this shared
# machine hits both builds alike), one process pinned to one CPU; MB/s per
# core from user CPU time.  Also the first run of each build with an empty
# cache: compiling the pattern database and writing its cache.
#
# Usage: bench/pii/compare.sh OLD_MOAT NEW_MOAT [ROUNDS] [MB]
#   (MOAT_TESTDATA: the shared test data, default ../shared)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
old=$1 new=$2 rounds=${3:-7} MB=${4:-100}
out="$here/out"
mkdir -p "$out"
data=${MOAT_TESTDATA:-$root/../shared}
[ -s "$out/text.txt" ] && [ "$(cat "$out/text.mb" 2>/dev/null)" = "$MB" ] ||
	{ python3 "$here/gen.py" "$MB" 42 >"$out/text.txt" && echo "$MB" >"$out/text.mb"; }
# dense: the fixture's texts (one paragraph each) repeated to 20 MB, about 19
# findings per KB against the benchmark text's 2.2
if [ ! -s "$out/dense.txt" ]; then
	python3 - "$data/fixtures/pii/cases.jsonl" >"$out/dense.txt" <<'PY'
import json, sys
t = "\n\n".join(json.loads(l)["text"] for l in open(sys.argv[1], encoding="utf-8")) + "\n\n"
n, k = len(t.encode()), 0
while k < 20000000:
    sys.stdout.write(t)
    k += n
PY
fi
pin=""
command -v taskset >/dev/null 2>&1 && pin="taskset -c 0"

for f in text dense; do
	bytes=$(stat -c %s "$out/$f.txt")
	for b in old new; do
		m=$old; [ $b = new ] && m=$new
		n=$("$m" pii scan --json "$out/$f.txt" | wc -l)
		echo "$f: $bytes bytes, $b: $n findings ($(awk "BEGIN{printf \"%.1f\", $n/($bytes/1e3)}") per KB)"
	done
	: >"$out/$f.rounds"
	for r in $(seq "$rounds"); do
		hyperfine -N --runs 1 --export-json "$out/h.json" \
			"$pin $old pii scan --json $out/$f.txt" "$pin $new pii scan --json $out/$f.txt" >/dev/null
		python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['results']; print(r[0]['user'], r[1]['user'], r[0]['mean'], r[1]['mean'])" \
			"$out/h.json" >>"$out/$f.rounds"
	done
	python3 - "$out/$f.rounds" "$bytes" "$f" <<'PY'
import statistics, sys
rows = [list(map(float, l.split())) for l in open(sys.argv[1])]
b = int(sys.argv[2])
for i, name in ((0, "old"), (1, "new")):
    u = statistics.median(r[i] for r in rows)
    w = statistics.median(r[i + 2] for r in rows)
    print("%s %s: median user %.3f s, wall %.3f s -> %.1f MB/s per core (%d rounds)"
          % (sys.argv[3], name, u, w, b / 1e6 / u, len(rows)))
PY
done

for b in old new; do
	m=$old; [ $b = new ] && m=$new
	c=$(mktemp -d)
	/usr/bin/time -f "%e %U" -o "$out/first.txt" env MOAT_CACHE="$c" $pin "$m" pii scan --json /dev/null
	echo "first run ($b, empty cache: compile and cache the database): $(cat "$out/first.txt") (wall, user s)"
	/usr/bin/time -f "%e %U" -o "$out/first.txt" env MOAT_CACHE="$c" $pin "$m" pii scan --json /dev/null
	echo "second run ($b, cached): $(cat "$out/first.txt") (wall, user s)"
	rm -rf "$c"
done
