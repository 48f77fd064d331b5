#!/bin/bash
# bench/pdf/run.sh - PDF and scan throughput of `moat ingest`, side by side in
# one run with the tools people use instead:
#  - pages per second on the born-digital PDFs of ../shared/corpus (copied
#    COPIES times so a run lasts long enough to time): moat -j 1 and -j 2
#    (structured output: typed elements, pages, boxes, stored in a workspace)
#    against pdftotext, `mutool draw -F txt` and pdf2txt (pdfminer.six, the
#    engine of Unstructured's fast path), each run the way one would by hand:
#    one process per file, one file after another;
#  - seconds per page of OCR on the corpus scans (ocr_test.pdf, phototest.tif,
#    eurotext.tif, the JPEG page, the PNG table): moat -j 1 and -j 2 against
#    the tesseract command with OMP_THREAD_LIMIT=1 (and, for reference, with
#    its default threads) on the same images (ocr_test.pdf rendered at 300 dpi
#    by mutool, as moat renders it).
# Timed with hyperfine; each moat run starts from a fresh workspace.
#
#   bench/pdf/run.sh [MOAT]          (make bench passes build/release/moat)
#
# Environment: COPIES (default 10), SCAN_COPIES (default 2), RUNS (default 5),
# SLOW_RUNS (pdf2txt and threaded tesseract, default 1), MOAT_TESTDATA (default
# ../shared), BENCH_OUT (default bench/out/pdf, git-ignored).
# Writes BENCH_OUT/RESULTS.md and prints it.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
MOAT=${1:-$root/build/release/moat}
CORPUS=${MOAT_TESTDATA:-$root/../shared}/corpus
COPIES=${COPIES:-10}
SCAN_COPIES=${SCAN_COPIES:-2}
RUNS=${RUNS:-5}
SLOW_RUNS=${SLOW_RUNS:-1}
OUT=${BENCH_OUT:-$root/bench/out/pdf}

die() { echo "bench/pdf: $*" >&2; exit 1; }
PDF2TXT=$(command -v pdf2txt.py || command -v pdf2txt || true)
for tool in hyperfine pdftotext pdfinfo mutool tesseract python3; do
  command -v "$tool" >/dev/null || die "needs $tool (scripts/bootstrap installs it)"
done
[ -n "$PDF2TXT" ] || die "needs pdf2txt (Debian package python3-pdfminer)"
[ -d "$CORPUS" ] || die "no corpus at $CORPUS (set MOAT_TESTDATA)"
[ -x "$MOAT" ] || die "no moat binary at '$MOAT' (build a release: cmake --preset release)"
MOAT=$(cd "$(dirname "$MOAT")" && pwd)/$(basename "$MOAT")

# Born-digital and unencrypted (password.pdf would need each tool's password
# option; ocr_test.pdf is a scan and is timed with the scans).
PDFS="multi-column-2p multi_page 2305.03393v1-pg9 tracemonkey multicolumn habibi"
SCANS="phototest.tif eurotext.tif layout-parser-paper-with-table.jpg table-multi-row-column-cells.png"

rm -rf "$OUT/pdfs" "$OUT/pdfs1" "$OUT/scans" "$OUT/scan-img" "$OUT/ws"
mkdir -p "$OUT/pdfs" "$OUT/pdfs1" "$OUT/scans" "$OUT/scan-img"
pages=0
for f in $PDFS; do
  n=$(pdfinfo "$CORPUS/$f.pdf" | awk '/^Pages:/ {print $2}')
  pages=$((pages + n * COPIES))
  cp "$CORPUS/$f.pdf" "$OUT/pdfs1/"
  for i in $(seq 1 "$COPIES"); do cp "$CORPUS/$f.pdf" "$OUT/pdfs/${f}_$i.pdf"; done
done
pages1=$((pages / COPIES))
scan_pages=0
for i in $(seq 1 "$SCAN_COPIES"); do
  cp "$CORPUS/ocr_test.pdf" "$OUT/scans/ocr_test_$i.pdf"
  mutool draw -r 300 -c gray -o "$OUT/scan-img/ocr_test_$i.png" "$CORPUS/ocr_test.pdf" 1 2>/dev/null
  scan_pages=$((scan_pages + 1))
  for f in $SCANS; do
    cp "$CORPUS/$f" "$OUT/scans/${i}_$f"
    cp "$CORPUS/$f" "$OUT/scan-img/${i}_$f"
    scan_pages=$((scan_pages + 1))
  done
done

# One process per file, one after another: how each peer is run by hand.
cat > "$OUT/each.sh" <<'EOF'
#!/bin/bash
# each.sh DIR TOOL ARG...: runs the tool on every file of DIR, in order; the
# file goes where an ARG is {} (or last when none is).
dir=$1; shift
for f in "$dir"/*; do
  args=(); put=0
  for a in "$@"; do
    if [ "$a" = "{}" ]; then args+=("$f"); put=1; else args+=("$a"); fi
  done
  [ $put = 1 ] || args+=("$f")
  "${args[@]}" || exit 1
done
EOF
chmod +x "$OUT/each.sh"
E=$OUT/each.sh
ws=$OUT/ws
fresh="rm -rf $ws && $MOAT init $ws >/dev/null"

# A checked run first: every file ingests, and the files are in the page cache.
eval "$fresh"
"$MOAT" -w "$ws" ingest -j 2 "$OUT/pdfs" >/dev/null || die "moat failed on the PDFs"
eval "$fresh"
"$MOAT" -w "$ws" ingest -j 2 "$OUT/scans" >/dev/null || die "moat failed on the scans"

hf() { # name runs command...
  local name=$1 runs=$2; shift 2
  hyperfine --style basic --runs "$runs" --warmup 0 --export-json "$OUT/$name.json" "$@" >&2
}
hf moat-j1 "$RUNS" --prepare "$fresh" "$MOAT -w $ws ingest -j 1 $OUT/pdfs"
hf moat-j2 "$RUNS" --prepare "$fresh" "$MOAT -w $ws ingest -j 2 $OUT/pdfs"
hf pdftotext "$RUNS" "$E $OUT/pdfs pdftotext -q -layout {} -"
hf pdftotext-plain "$RUNS" "$E $OUT/pdfs pdftotext -q {} -"
hf mutool "$RUNS" "$E $OUT/pdfs mutool draw -F txt -o /dev/null {}"
hf pdf2txt "$SLOW_RUNS" "$E $OUT/pdfs1 $PDF2TXT -o /dev/null {}"
hf scan-moat-j1 "$RUNS" --prepare "$fresh" "$MOAT -w $ws ingest -j 1 $OUT/scans"
hf scan-moat-j2 "$RUNS" --prepare "$fresh" "$MOAT -w $ws ingest -j 2 $OUT/scans"
hf scan-tesseract "$RUNS" "env OMP_THREAD_LIMIT=1 $E $OUT/scan-img tesseract {} - --psm 3 -l eng"
hf scan-tesseract-threads "$SLOW_RUNS" "$E $OUT/scan-img tesseract {} - --psm 3 -l eng"

python3 - "$OUT" "$pages" "$pages1" "$scan_pages" "$(nproc)" "$COPIES" "$SCAN_COPIES" <<'PY' > "$OUT/RESULTS.md"
import json, sys
out, pages, pages1, scan_pages, cpus, copies, scopies = sys.argv[1], *map(int, sys.argv[2:])
def mean(name):
    r = json.load(open("%s/%s.json" % (out, name)))["results"][0]
    return r["mean"], r["stddev"] or 0.0, r["command"]
def cpu(name):
    r = json.load(open("%s/%s.json" % (out, name)))["results"][0]
    return r["user"] + r["system"]
rows = [("moat ingest -j 1", "moat-j1", pages), ("moat ingest -j 2", "moat-j2", pages),
        ("pdftotext -layout", "pdftotext", pages), ("pdftotext", "pdftotext-plain", pages),
        ("mutool draw -F txt", "mutool", pages), ("pdf2txt (pdfminer.six)", "pdf2txt", pages1)]
base = pages / mean("pdftotext-plain")[0]
print("## PDF text: pages per second (%d CPUs)\n" % cpus)
print("%d born-digital pages (%d copies of 6 corpus PDFs; pdf2txt: one copy, %d pages)\n" % (pages, copies, pages1))
cbase = pages / cpu("pdftotext-plain")
print("| tool | seconds (mean ± sd) | pages/s | vs pdftotext | CPU s | pages per CPU s | vs pdftotext |")
print("|---|---|---|---|---|---|---|")
for label, name, n in rows:
    m, sd, _ = mean(name)
    c = cpu(name)
    print("| %s | %.2f ± %.2f | %.0f | %.2f× | %.2f | %.0f | %.2f× |"
          % (label, m, sd, n / m, (n / m) / base, c, n / c, (n / c) / cbase))
print("\n## Scans: seconds per page of OCR\n")
print("%d pages (%d copies of ocr_test.pdf, phototest.tif, eurotext.tif, the JPEG page, the PNG table)\n"
      % (scan_pages, scopies))
print("| tool | seconds (mean ± sd) | s/page | speed vs tesseract (1 thread) | CPU s/page |")
print("|---|---|---|---|---|")
tb = mean("scan-tesseract")[0] / scan_pages
for label, name in (("moat ingest -j 1", "scan-moat-j1"), ("moat ingest -j 2", "scan-moat-j2"),
                    ("tesseract, OMP_THREAD_LIMIT=1", "scan-tesseract"),
                    ("tesseract, default threads", "scan-tesseract-threads")):
    m, sd, _ = mean(name)
    print("| %s | %.2f ± %.2f | %.3f | %.2f× | %.3f |"
          % (label, m, sd, m / scan_pages, tb / (m / scan_pages), cpu(name) / scan_pages))
print("\n## Commands\n")
for name in ("moat-j1", "moat-j2", "pdftotext", "pdftotext-plain", "mutool", "pdf2txt", "scan-moat-j1",
             "scan-moat-j2", "scan-tesseract", "scan-tesseract-threads"):
    print("- `%s`" % mean(name)[2].replace(out, "$OUT"))
PY
cat "$OUT/RESULTS.md"
