#!/bin/bash
# bench/pdf/interleave.sh ROUNDS OLD_MOAT NEW_MOAT: the scan rows of run.sh with the
# runs interleaved (old moat, new moat, the peer, in turn, ROUNDS times) and
# pinned to CPU 0, timed in CPU seconds (user + system) by /usr/bin/time: a
# comparison of two builds that the load of a shared machine drifting between
# hyperfine's blocks of runs does not bias.  Needs the folders run.sh made
# (BENCH_OUT, default bench/out/pdf: scans/, scan-img/, each.sh).  Prints the
# minimum and median of each.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
B=${BENCH_OUT:-$here/../out/pdf}; P=$here/ocr-peer.sh; E=$B/each.sh
OLD=$2; NEW=$3; log=$B/interleave.txt
rm -f "$log"
t() { local tag=$1; shift; /usr/bin/time -f "$tag %U %S %e" -a -o "$log" taskset -c 0 "$@" >/dev/null 2>&1; }
for r in $(seq 1 "$1"); do
  for d in scans scan-img; do
    rm -rf $B/ws; $OLD init $B/ws >/dev/null; t "old-$d" $OLD -w $B/ws ingest -j 1 $B/$d
    rm -rf $B/ws; $NEW init $B/ws >/dev/null; t "new-$d" $NEW -w $B/ws ingest -j 1 $B/$d
    if [ $d = scans ]; then t "peer-$d" env OMP_THREAD_LIMIT=1 $E $B/$d $P {}
    else t "peer-$d" env OMP_THREAD_LIMIT=1 $E $B/$d tesseract {} - --psm 3 -l eng; fi
  done
done
python3 - "$log" <<'PY'
import collections, statistics, sys
d = collections.defaultdict(list)
for line in open(sys.argv[1]):
    k, u, s, _ = line.split()
    d[k].append(float(u) + float(s))
for k in sorted(d):
    v = d[k]
    print("%-14s CPU s: min %.2f, median %.2f (%s)" % (k, min(v), statistics.median(v),
                                                      " ".join("%.2f" % x for x in v)))
PY
