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
#    eurotext.tif, the JPEG page, the PNG table), every tool given the same
#    files: moat -j 1 and -j 2 against what people run without moat,
#    ocr-peer.sh (beside this script): the tesseract command on an image, and
#    `pdftoppm -r 300 -gray` then tesseract on each page of a PDF, timed
#    together; tesseract with OMP_THREAD_LIMIT=1 (and, for reference, with its
#    default threads).  Again on the images alone (no PDF), where both read
#    the very same image file.
# Timed with hyperfine; each moat run starts from a fresh workspace.
#
#   bench/pdf/run.sh [MOAT]          (make bench passes build/release/moat)
#
# Environment: COPIES (default 10), SCAN_COPIES (default 2), RUNS (default 5),
# SLOW_RUNS (pdf2txt and threaded tesseract, default 1), MOAT_TESTDATA (default
# ../shared), BENCH_OUT (default bench/out/pdf, git-ignored), ONLY=scans (the
# scans alone, no born-digital PDFs).
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
ONLY=${ONLY:-}

die() { echo "bench/pdf: $*" >&2; exit 1; }
PDF2TXT=$(command -v pdf2txt.py || command -v pdf2txt || true)
for tool in hyperfine pdftotext pdftoppm pdfinfo mutool tesseract python3; do
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
  scan_pages=$((scan_pages + 1))
  for f in $SCANS; do
    cp "$CORPUS/$f" "$OUT/scans/${i}_$f"
    cp "$CORPUS/$f" "$OUT/scan-img/${i}_$f"
    scan_pages=$((scan_pages + 1))
  done
done
img_pages=$(ls "$OUT/scan-img" | wc -l)

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
P=$here/ocr-peer.sh
ws=$OUT/ws
fresh="rm -rf $ws && $MOAT init $ws >/dev/null"

# A checked run first: every file ingests, and the files are in the page cache.
if [ "$ONLY" != scans ]; then
  eval "$fresh"
  "$MOAT" -w "$ws" ingest -j 2 "$OUT/pdfs" >/dev/null || die "moat failed on the PDFs"
fi
eval "$fresh"
"$MOAT" -w "$ws" ingest -j 2 "$OUT/scans" >/dev/null || die "moat failed on the scans"

hf() { # name runs command...
  local name=$1 runs=$2; shift 2
  hyperfine --style basic --runs "$runs" --warmup 0 --export-json "$OUT/$name.json" "$@" >&2
}
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
if [ "$ONLY" != scans ]; then
  rm -f "$OUT"/moat-j?.json "$OUT"/pdftotext*.json "$OUT/mutool.json" "$OUT/pdf2txt.json"
  hf moat-j1 "$RUNS" --prepare "$fresh" "$MOAT -w $ws ingest -j 1 $OUT/pdfs"
  hf moat-j2 "$RUNS" --prepare "$fresh" "$MOAT -w $ws ingest -j 2 $OUT/pdfs"
  hf pdftotext "$RUNS" "$E $OUT/pdfs pdftotext -q -layout {} -"
  hf pdftotext-plain "$RUNS" "$E $OUT/pdfs pdftotext -q {} -"
  hf mutool "$RUNS" "$E $OUT/pdfs mutool draw -F txt -o /dev/null {}"
  hf pdf2txt "$SLOW_RUNS" "$E $OUT/pdfs1 $PDF2TXT -o /dev/null {}"
fi
hf scan-moat-j1 "$RUNS" --prepare "$fresh" "$MOAT -w $ws ingest -j 1 $OUT/scans"
hf scan-moat-j2 "$RUNS" --prepare "$fresh" "$MOAT -w $ws ingest -j 2 $OUT/scans"
hf scan-peer "$RUNS" "env OMP_THREAD_LIMIT=1 $E $OUT/scans $P {}"
hf scan-peer-threads "$SLOW_RUNS" "$E $OUT/scans $P {}"
hf img-moat-j1 "$RUNS" --prepare "$fresh" "$MOAT -w $ws ingest -j 1 $OUT/scan-img"
hf img-tesseract "$RUNS" "env OMP_THREAD_LIMIT=1 $E $OUT/scan-img tesseract {} - --psm 3 -l eng"
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

python3 - "$OUT" "$pages" "$pages1" "$scan_pages" "$(nproc)" "$COPIES" "$SCAN_COPIES" "$img_pages" \
  "$load_before" "$load_after" <<'PY' > "$OUT/RESULTS.md"
import json, os, sys
out = sys.argv[1]
pages, pages1, scan_pages, cpus, copies, scopies, img_pages = map(int, sys.argv[2:9])
load_before, load_after = sys.argv[9:11]
def mean(name):
    r = json.load(open("%s/%s.json" % (out, name)))["results"][0]
    return r["mean"], r["stddev"] or 0.0, r["command"]
def cpu(name):
    r = json.load(open("%s/%s.json" % (out, name)))["results"][0]
    return r["user"] + r["system"]
rows = [("moat ingest -j 1", "moat-j1", pages), ("moat ingest -j 2", "moat-j2", pages),
        ("pdftotext -layout", "pdftotext", pages), ("pdftotext", "pdftotext-plain", pages),
        ("mutool draw -F txt", "mutool", pages), ("pdf2txt (pdfminer.six)", "pdf2txt", pages1)]
print("Load average (1, 5, 15 min) before the runs: %s; after: %s\n" % (load_before, load_after))
have_pdf = os.path.exists("%s/moat-j1.json" % out)
if have_pdf:
    base = pages / mean("pdftotext-plain")[0]
    cbase = pages / cpu("pdftotext-plain")
    print("## PDF text: pages per second (%d CPUs)\n" % cpus)
    print("%d born-digital pages (%d copies of 6 corpus PDFs; pdf2txt: one copy, %d pages)\n"
          % (pages, copies, pages1))
    print("| tool | seconds (mean ± sd) | pages/s | vs pdftotext | CPU s | pages per CPU s | vs pdftotext |")
    print("|---|---|---|---|---|---|---|")
    for label, name, n in rows:
        m, sd, _ = mean(name)
        c = cpu(name)
        print("| %s | %.2f ± %.2f | %.0f | %.2f× | %.2f | %.0f | %.2f× |"
              % (label, m, sd, n / m, (n / m) / base, c, n / c, (n / c) / cbase))
    print()

def scan_table(n, peer, rows):
    tb = mean(peer)[0] / n
    cb = cpu(peer) / n
    print("| tool | seconds (mean ± sd) | s/page | speed vs peer (1 thread) | CPU s/page | CPU vs peer |")
    print("|---|---|---|---|---|---|")
    for label, name in rows:
        m, sd, _ = mean(name)
        print("| %s | %.2f ± %.2f | %.3f | %.2f× | %.3f | %.2f× |"
              % (label, m, sd, m / n, tb / (m / n), cpu(name) / n, cb / (cpu(name) / n)))
    print()

print("## Scans: seconds per page of OCR\n")
print("%d pages (%d copies of ocr_test.pdf, phototest.tif, eurotext.tif, the JPEG page, the PNG table); "
      "the peer is `ocr-peer.sh`: `pdftoppm -r 300 -gray` then tesseract for the PDF, tesseract alone "
      "for an image\n" % (scan_pages, scopies))
scan_table(scan_pages, "scan-peer", (
    ("moat ingest -j 1", "scan-moat-j1"), ("moat ingest -j 2", "scan-moat-j2"),
    ("pdftoppm + tesseract, OMP_THREAD_LIMIT=1", "scan-peer"),
    ("pdftoppm + tesseract, default threads", "scan-peer-threads")))
print("Images only: %d pages (the same image files to both)\n" % img_pages)
scan_table(img_pages, "img-tesseract", (
    ("moat ingest -j 1", "img-moat-j1"), ("tesseract, OMP_THREAD_LIMIT=1", "img-tesseract")))
print("## Commands\n")
names = ["moat-j1", "moat-j2", "pdftotext", "pdftotext-plain", "mutool", "pdf2txt"] if have_pdf else []
for name in names + ["scan-moat-j1", "scan-moat-j2", "scan-peer", "scan-peer-threads", "img-moat-j1",
                     "img-tesseract"]:
    print("- `%s`" % mean(name)[2].replace(out, "$OUT"))
PY
cat "$OUT/RESULTS.md"
