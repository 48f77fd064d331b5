#!/bin/bash
# bench/pdf/ocr-f1.sh MOAT [FILE...]: OCR accuracy, moat against the
# Tesseract command line, per scanned file: word F1 of each tool's text
# against the file's ground truth (FILE.gt.txt beside it, or FILE.gt.csv for a
# table image, its cells joined), with tests/data/docs/metrics.py (bag of
# words, case-folded).  The command line is bench/pdf/ocr-peer.sh: tesseract
# FILE - on an image, pdftoppm -r 300 -gray then tesseract on a PDF's pages.
# Without FILEs: every scan of $MOAT_TESTDATA/corpus (default ../shared) that
# has a ground truth.  Prints one tab-separated line per file:
#   file  moat_f1  tesseract_f1  difference
# Language eng for both (the corpus's eurotext.tif is read with eng by both).
set -eu
moat=$(realpath "$1")
shift
here=$(cd "$(dirname "$0")" && pwd)
metrics="$here/../../tests/data/docs/metrics.py"
corpus="${MOAT_TESTDATA:-$here/../../../shared}/corpus"
if [ $# -eq 0 ]; then
  set -- "$corpus"/ocr_test.pdf "$corpus"/phototest.tif "$corpus"/eurotext.tif \
    "$corpus"/layout-parser-paper-with-table.jpg "$corpus"/table-multi-row-column-cells.png
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ocr-f1.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export OMP_THREAD_LIMIT=1
"$moat" init "$tmp/ws" >/dev/null
for f in "$@"; do
  gt="$f.gt.txt"
  if [ ! -f "$gt" ] && [ -f "$f.gt.csv" ]; then
    gt="$tmp/gt.txt"
    tr ',' ' ' <"$f.gt.csv" >"$gt"
  fi
  [ -f "$gt" ] || { echo "no ground truth for '$f'" >&2; exit 1; }
  (cd "$tmp/ws" && "$moat" ingest -j 1 "$f" >/dev/null)
  (cd "$tmp/ws" && python3 "$metrics" text "$moat" "$f") >"$tmp/moat.txt"
  "$here/ocr-peer.sh" "$f" >"$tmp/peer.txt"
  m=$(python3 "$metrics" f1 "$gt" "$tmp/moat.txt")
  p=$(python3 "$metrics" f1 "$gt" "$tmp/peer.txt")
  awk -v f="$(basename "$f")" -v m="$m" -v p="$p" 'BEGIN { printf "%s\t%s\t%s\t%+.4f\n", f, m, p, m - p }'
done
