#!/bin/bash
# ingest_ocr_f1_slow.sh - OCR no worse than the Tesseract command line (issue
# 21): on every scanned file of the shared corpus (a scanned PDF, TIFFs, a
# JPEG, a PNG table), moat's word F1 against the file's ground truth is not
# below that of `tesseract FILE -` (pdftoppm -r 300 -gray first for the PDF)
# by more than 0.01.  bench/pdf/ocr-f1.sh does the measuring (the same
# script makes bench/pdf/RESULTS.md's table); this runs the tesseract
# command itself, so it is slow (a minute or so).
. "$(dirname "$0")/lib.sh"
need_testdata corpus
for tool in tesseract pdftoppm; do
	if ! command -v "$tool" >/dev/null; then
		if [ "${CI:-}" = true ]; then
			echo "FAIL: $tool is not installed (scripts/bootstrap installs it)"; exit 1
		fi
		echo "SKIP: $tool is not installed"; exit 77
	fi
done
MOAT_TESTDATA=$TESTDATA "$SRC/bench/pdf/ocr-f1.sh" "$MOAT" >"$T/f1" 2>"$T/err"
expect_eq 0 "$?" "bench/pdf/ocr-f1.sh ran ($(head -c 300 "$T/err"))"
expect_eq 5 "$(wc -l <"$T/f1")" "one line per scanned file of the corpus"
while IFS=$'\t' read -r file moat peer diff; do
	if awk -v m="$moat" -v p="$peer" 'BEGIN { exit !(m + 0.01 >= p && m > 0) }'; then
		ok
	else
		bad "$file: moat's word F1 $moat is below the tesseract command's $peer by more than 0.01"
	fi
done <"$T/f1"
cat "$T/f1"
finish
