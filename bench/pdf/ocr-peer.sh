#!/bin/bash
# bench/pdf/ocr-peer.sh FILE...: what people run to OCR a scan without moat,
# one file after another: an image straight to tesseract; a PDF rendered first
# with `pdftoppm -r 300 -gray` (poppler-utils: one PGM per page), then each
# page to tesseract, the rendering timed with the OCR.  Text goes to stdout.
# Tesseract's threads are the caller's (OMP_THREAD_LIMIT).  Language `eng`,
# page segmentation as the command's default (--psm 3).
set -eu
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ocr-peer.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
for f in "$@"; do
  case "$f" in
  *.pdf | *.PDF)
    rm -f "$tmp"/p-*.pgm
    pdftoppm -r 300 -gray "$f" "$tmp/p"
    for page in "$tmp"/p-*.pgm; do
      tesseract "$page" - --psm 3 -l eng 2>/dev/null
    done
    ;;
  *)
    tesseract "$f" - --psm 3 -l eng 2>/dev/null
    ;;
  esac
done
