#!/bin/bash
# bench/memory/run.sh - peak memory (resident, the high-water mark VmHWM of
# the moat process itself; its sandboxed parsers have their own limit) of
# `moat ingest` and `moat clean` on one 200 MB element and on four 200 MB
# files at -j 4, side by side in one run with:
#  - OLD_MOAT (optional): an older release build, e.g. of a324d7b, the last
#    commit before bounded memory (issue 14.4);
#  - the script people write today: Python reading the file into SQLite (for
#    ingest) and Python NFKC + white-space normalisation of it (for clean,
#    what Unstructured's cleaners and hand-written pipelines do).
# Peak memory is not a timing: one run of each is the measure (it does not
# vary from run to run by more than a few MB; ROUNDS repeats and takes the
# median anyway).
#
#   bench/memory/run.sh [MOAT]        (make bench passes build/release/moat)
#
# Environment: OLD_MOAT, ROUNDS (default 1), SIZE_MB (default 200),
# BENCH_OUT (default bench/out/memory, git-ignored).  Writes
# BENCH_OUT/RESULTS.md and prints it.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
MOAT=${1:-$root/build/release/moat}
OLD_MOAT=${OLD_MOAT:-}
ROUNDS=${ROUNDS:-1}
SIZE_MB=${SIZE_MB:-200}
OUT=${BENCH_OUT:-$root/bench/out/memory}
die() { echo "bench/memory: $*" >&2; exit 1; }
[ -x "$MOAT" ] || die "no moat binary at '$MOAT' (build a release: cmake --preset release)"
command -v python3 >/dev/null || die "needs python3"
mkdir -p "$OUT/in4"

# the inputs: one paragraph of words (one element), deterministic
mk() { "$root/scripts/words-text" "$@"; }  # file MiB header: one paragraph of words
[ -s "$OUT/big.txt" ] || mk "$OUT/big.txt" "$SIZE_MB" big
for i in 1 2 3 4; do [ -s "$OUT/in4/f$i.txt" ] || mk "$OUT/in4/f$i.txt" "$SIZE_MB" "file$i"; done

# hwm CMD...: runs CMD, prints the peak VmHWM (KiB) of its own process
hwm() {
	"$@" >/dev/null 2>"$OUT/err" &
	local pid=$! max=0 h
	while kill -0 "$pid" 2>/dev/null; do
		h=$(awk '/VmHWM/{print $2}' "/proc/$pid/status" 2>/dev/null || true)
		[ -n "$h" ] && [ "$h" -gt "$max" ] && max=$h
		sleep 0.02
	done
	wait "$pid" || { echo "bench/memory: '$*' failed: $(head -c 300 "$OUT/err")" >&2; return 1; }
	echo "$max"
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

py_ingest() { # the script: read the file, store its text in SQLite
	exec python3 -c '
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("CREATE TABLE IF NOT EXISTS docs(path TEXT, text TEXT)")
for p in sys.argv[2:]:
    db.execute("INSERT INTO docs VALUES(?, ?)", (p, open(p, encoding="utf-8").read()))
db.commit()' "$@"
}
py_clean() { # the script: NFKC, white space, per document, back into SQLite
	exec python3 -c '
import re, sqlite3, sys, unicodedata
db = sqlite3.connect(sys.argv[1])
db.execute("CREATE TABLE IF NOT EXISTS clean(path TEXT, text TEXT)")
for p, t in db.execute("SELECT path, text FROM docs").fetchall():
    t = unicodedata.normalize("NFKC", t)
    t = re.sub(r"[ \t]+", " ", t).strip()
    db.execute("INSERT INTO clean VALUES(?, ?)", (p, t))
db.commit()' "$1"
}

# measure NAME BINARY: ingest and clean, one element and -j 4; prints 4 numbers (KiB)
measure_moat() { # BINARY [old]
	local m=$1 ws="$OUT/ws" a b c d=0
	rm -rf "$ws"; "$m" init "$ws" >/dev/null
	a=$(hwm "$m" -w "$ws" ingest -j 1 "$OUT/big.txt")
	b=$(hwm "$m" -w "$ws" clean --normalize)
	rm -rf "$ws"; "$m" init "$ws" >/dev/null
	c=$(hwm "$m" -w "$ws" ingest -j 4 "$OUT/in4")
	# the older moat needed 36 times each element to clean it: four at once
	# would take about 29 GB, more than a workstation has
	[ "${2:-}" = old ] || d=$(hwm "$m" -w "$ws" clean --normalize -j 4)
	rm -rf "$ws"
	echo "$a $b $c $d"
}
measure_py() {
	local db="$OUT/py.db" a b c d
	rm -f "$db"; a=$(hwm py_ingest "$db" "$OUT/big.txt"); b=$(hwm py_clean "$db")
	rm -f "$db"; c=$(hwm py_ingest "$db" "$OUT"/in4/*.txt); d=$(hwm py_clean "$db")
	rm -f "$db"
	echo "$a $b $c $d"
}

declare -A col
names=(moat)
[ -n "$OLD_MOAT" ] && names+=(old)
names+=(python)
for r in $(seq 1 "$ROUNDS"); do
	for n in "${names[@]}"; do
		case $n in
		moat) v=$(measure_moat "$MOAT") ;;
		old) v=$(measure_moat "$OLD_MOAT" old) ;;
		python) v=$(measure_py) ;;
		esac
		col[$n]+="$v"$'\n'
	done
done
pick() { # name column(1-4) -> median MiB
	printf '%s' "${col[$1]}" | awk -v c="$2" 'NF{print $c}' | median |
		awk '{if ($1 == 0) printf "not run (about 29 GB)"; else printf "%d", $1/1024}'
}
size=$(( $(stat -c %s "$OUT/big.txt") >> 20 ))
{
	echo "# bench/memory: peak resident memory of moat itself ($(date -u +%Y-%m-%d), $(nproc) CPUs)"
	echo
	echo "One element of $size MiB (one paragraph), and four such files at -j 4; the median of $ROUNDS round(s)."
	echo "MiB of VmHWM of the command's own process (moat's parsers run in sandboxed children with their"
	echo "own --max-memory limit and are not counted here; neither are Python's)."
	echo
	echo "| step | moat | ${OLD_MOAT:+older moat ($(basename "$(dirname "$(dirname "$(dirname "$OLD_MOAT")")")")) | }Python script | moat ÷ one input |"
	echo "|---|---|${OLD_MOAT:+---|}---|---|"
	i=1
	for step in "ingest, one ${size} MiB element, -j 1" "clean --normalize, that element" \
		    "ingest, four ${size} MiB files, -j 4" "clean --normalize -j 4, those four"; do
		m=$(pick moat $i)
		o=""; [ -n "$OLD_MOAT" ] && o="$(pick old $i) | "
		echo "| $step | $m | $o$(pick python $i) | $(awk -v a="$m" -v b="$size" 'BEGIN{printf "%.1fx", a/b}') |"
		i=$((i + 1))
	done
} | tee "$OUT/RESULTS.md"
