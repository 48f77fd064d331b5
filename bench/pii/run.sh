#!/bin/bash
# run.sh - the clean stage's benchmarks, side by side in one run:
#
#  1. `moat pii scan` throughput in MB/s per core (one process pinned to one
#     CPU, user time) on MB megabytes (default 100) of generated English text
#     with PII (gen.py: names, e-mails, phones, cards, SSNs, IBANs, dates,
#     addresses, IPs, URLs, ages), every recognizer on; also with --redact.
#  2. The npm package redact-pii (installed here under node_modules, git-
#     ignored) on the same text: its redaction time, and the ratio.
#  3. Near duplicates: MinHash signatures + LSH clustering of DOCS (default
#     1,000,000) synthetic documents: documents/s and memory per document.
#
# Usage: bench/pii/run.sh [MB] [DOCS]     (MOAT=path/to/moat to use a build)
# Prints the numbers and the commands; bench/pii/RESULTS.md keeps them.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
MB=${1:-100}
DOCS=${2:-1000000}
out="$here/out"
mkdir -p "$out"
build=${BUILD:-$root/build/bench-pii}

if [ -z "${MOAT:-}" ]; then
	if [ ! -x "$build/moat" ]; then
		echo "== building a release moat in $build"
		cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMOAT_WITH_LLAMA=OFF >/dev/null
		cmake --build "$build" -j2 --target moat moatlib >/dev/null
	fi
	MOAT="$build/moat"
fi
pin=""
command -v taskset >/dev/null 2>&1 && pin="taskset -c 0"

echo "== machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "== engine: $("$MOAT" pii scan --engine)"
echo "== generating $MB MB of text (gen.py, seed 42)"
[ -s "$out/text.txt" ] && [ "$(cat "$out/text.mb" 2>/dev/null)" = "$MB" ] ||
	{ python3 "$here/gen.py" "$MB" 42 >"$out/text.txt" && echo "$MB" >"$out/text.mb"; }
bytes=$(stat -c %s "$out/text.txt")

best_user() { # command...: the least user time of three runs (first one also warms the cache)
	local best="" t
	for _ in 1 2 3; do
		/usr/bin/time -f "%U" -o "$out/time.txt" "$@" >"$out/last.out" 2>/dev/null
		t=$(tail -1 "$out/time.txt")
		if [ -z "$best" ] || awk "BEGIN{exit !($t < $best)}"; then best=$t; fi
	done
	echo "$best"
}
echo "== moat pii scan --json (one core: $pin)"
u_scan=$(best_user $pin "$MOAT" pii scan --json "$out/text.txt")
findings=$(wc -l <"$out/last.out")
u_red=$(best_user $pin "$MOAT" pii scan --redact "$out/text.txt")
mbs_scan=$(awk "BEGIN{printf \"%.1f\", $bytes/1e6/$u_scan}")
mbs_red=$(awk "BEGIN{printf \"%.1f\", $bytes/1e6/$u_red}")
echo "   $bytes bytes, $findings findings ($(awk "BEGIN{printf \"%.1f\", $findings/($bytes/1e3)}") per KB)"
echo "   scan:   ${u_scan}s user -> $mbs_scan MB/s per core"
echo "   redact: ${u_red}s user -> $mbs_red MB/s per core"

echo "== redact-pii (npm, SyncRedactor) on the same text"
if [ ! -d "$here/node_modules/redact-pii" ]; then
	(cd "$here" && npm install --no-audit --no-fund >/dev/null 2>&1)
fi
rp=$($pin node "$here/redact_pii.js" "$out/text.txt" "$out/redact-pii.txt")
echo "   $rp"
mbs_rp=$(echo "$rp" | python3 -c "import json,sys; print('%.2f' % json.load(sys.stdin)['mb_per_s'])")
echo "   ratio moat scan / redact-pii: $(awk "BEGIN{printf \"%.0f\", $mbs_scan/$mbs_rp}")x;" \
     "moat --redact / redact-pii: $(awk "BEGIN{printf \"%.0f\", $mbs_red/$mbs_rp}")x"

echo "== near duplicates: $DOCS synthetic documents"
cc -O2 -I"$root/src" -I"$build/gen" "$here/neardup.c" "$build/libmoatlib.a" -lutf8proc -lm \
	-o "$out/neardup"
/usr/bin/time -f "   wall %es, max RSS %MkB" $pin "$out/neardup" "$DOCS" 1
