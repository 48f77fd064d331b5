#!/bin/bash
# run.sh - the export benchmark, moat and Python side by side in one run:
#
#  1. N (default 1,000,000) annotated records (text with non-ASCII words,
#     quotes and line breaks, a label, one to three spans, metadata) written
#     to jsonl: moat's record writer (src/export/records.h, through
#     bench_export.c) against Python's json (bench_export.py), the same
#     records, byte for byte the same file (checked).
#  2. N box annotations, five per image, written to COCO: moat's coco writer
#     (src/export/annot.h) against Python's json.dump of the same dict
#     (compact, its C encoder; and indent=2, the layout moat writes).
#
# Each program makes its records in memory first and times only the write,
# which ends with the file fsynced, in CPU time (user + system: both tools
# are single-threaded, and the machine may be shared) and wall time; ROUNDS
# (default 5) rounds run the tools interleaved and the medians are reported
# (records/s and MB/s per CPU second).  Then hyperfine times each whole
# process (generation included) for the jsonl case.  Files go to OUT (default
# /dev/shm, so that the disk does not hide the writers' own speed).
#
# Usage: bench/export/run.sh [N] [ROUNDS]     (OUT=dir to write elsewhere)
# Prints the numbers and the commands; bench/export/RESULTS.md keeps them.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
N=${1:-1000000}
ROUNDS=${2:-5}
build="$root/build/release"
work="$here/out"
OUT=${OUT:-/dev/shm/moat-bench-export}
mkdir -p "$work" "$OUT"

if [ ! -f "$build/libmoatlib.a" ] || [ "$root/src/export/records.c" -nt "$build/libmoatlib.a" ]; then
	echo "== building moatlib (release) in $build"
	if [ -n "${MOAT_LLAMA_DIR:-}" ]; then
		(cd "$root" && cmake --preset release >/dev/null)
	else
		cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMOAT_WITH_LLAMA=OFF >/dev/null
	fi
	cmake --build "$build" -j2 --target moatlib >/dev/null
fi
echo "== building bench_export.c against $build/libmoatlib.a"
cc -O2 -std=gnu11 -I"$root/src" -I"$build/gen" "$here/bench_export.c" "$build/libmoatlib.a" \
	$(pkg-config --libs jansson libcrypto libxml-2.0) -lm -lpthread -o "$work/bench_export"

echo "== machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== python: $(python3 --version 2>&1); output in $OUT"

fresh() { rm -rf "$OUT/$1" && mkdir -p "$OUT/$1" && echo "$OUT/$1"; }
res="$work/rounds.jsonl"
: >"$res"
for r in $(seq 1 "$ROUNDS"); do
	echo "== round $r of $ROUNDS"
	"$work/bench_export" jsonl "$N" "$(fresh moat-jsonl)" | tee -a "$res"
	python3 "$here/bench_export.py" jsonl "$N" "$(fresh py-jsonl)" | tee -a "$res"
	"$work/bench_export" jsonl "$N" "$(fresh moat-jsonl-text)" meta-json | tee -a "$res"
	"$work/bench_export" coco "$N" "$(fresh moat-coco)" | tee -a "$res"
	python3 "$here/bench_export.py" coco "$N" "$(fresh py-coco)" | tee -a "$res"
	if [ "$r" -le 2 ]; then
		python3 "$here/bench_export.py" coco "$N" "$(fresh py-coco-indent)" --indent | tee -a "$res"
	fi
done

echo "== the same jsonl bytes?"
a=$(sha256sum <"$OUT/moat-jsonl/train.jsonl" | cut -d' ' -f1)
b=$(sha256sum <"$OUT/py-jsonl/train.jsonl" | cut -d' ' -f1)
c=$(sha256sum <"$OUT/moat-jsonl-text/train.jsonl" | cut -d' ' -f1)
echo "   moat $a"
echo "   py   $b"
[ "$a" = "$b" ] && [ "$a" = "$c" ] && echo "   identical" || { echo "   DIFFERENT"; exit 1; }
python3 - "$OUT/moat-coco/annotations/instances_train.json" "$OUT/py-coco/annotations/instances_train.json" <<'EOF'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
same = all(a[k] == b[k] for k in ("images", "categories")) and \
    [dict(x, area=int(x["area"])) for x in a["annotations"]] == b["annotations"]
print("== the same COCO content (images, categories, annotations)?", "yes" if same else "NO")
sys.exit(0 if same else 1)
EOF

echo "== medians of $ROUNDS interleaved rounds (the write only, fsync included; rates per CPU second)"
python3 - "$res" <<'EOF'
import json, sys, statistics
rows = [json.loads(l) for l in open(sys.argv[1])]
def med(tool, fmt, key):
    v = [r[key] for r in rows if r["tool"] == tool and r["format"] == fmt]
    return statistics.median(v), len(v)
for tool, fmt in [("moat", "jsonl"), ("moat", "jsonl (metadata as JSON text)"), ("python", "jsonl"),
                  ("moat", "coco"), ("python", "coco"), ("python", "coco (indent 2)")]:
    (rps, n), (mbs, _), (sec, _), (cpu, _) = (med(tool, fmt, k) for k in
                                              ("records_per_s", "mb_per_s", "seconds", "cpu_seconds"))
    print("   %-6s %-31s %10.0f records/s %7.1f MB/s  cpu %7.3f s  wall %7.3f s  (%d runs)"
          % (tool, fmt, rps, mbs, cpu, sec, n))
for a, b in [(("moat", "jsonl"), ("python", "jsonl")),
             (("moat", "jsonl (metadata as JSON text)"), ("python", "jsonl")),
             (("moat", "coco"), ("python", "coco")), (("moat", "coco"), ("python", "coco (indent 2)"))]:
    print("   ratio %s %s / %s %s: %.1fx" % (a[0], a[1], b[0], b[1], med(*a, "records_per_s")[0] / med(*b, "records_per_s")[0]))
EOF

if command -v hyperfine >/dev/null; then
	echo "== whole processes (records made in memory, then written), jsonl"
	hyperfine --runs 3 --warmup 1 \
		--prepare "rm -rf $OUT/hf-moat && mkdir -p $OUT/hf-moat" \
		-n moat "$work/bench_export jsonl $N $OUT/hf-moat" \
		--prepare "rm -rf $OUT/hf-py && mkdir -p $OUT/hf-py" \
		-n python "python3 $here/bench_export.py jsonl $N $OUT/hf-py" \
		--export-markdown "$work/hyperfine.md" | grep -v '^ *$'
fi
rm -rf "$OUT"
