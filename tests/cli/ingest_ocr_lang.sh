#!/bin/bash
# ingest_ocr_lang.sh - a missing OCR language fails only the files that need
# OCR, each with a message naming the language and where it was looked for;
# the other files of the same run are ingested, and a later run with the
# language present picks the failed ones up.  Also where `moat version` says
# the language files come from ($TESSDATA_PREFIX here).  Tesseract and
# Leptonica themselves are loaded on first need (src/ingest/ocrlib.h): where
# one cannot be loaded (a Debug build's MOAT_TEST_OCRLIB_MISSING plays a
# machine without the package) the files that need it fail saying so.
. "$(dirname "$0")/lib.sh"
need_testdata corpus
C=$TESTDATA/corpus
W=$T/ws
mkdir -p "$T/in" "$T/tess/tessdata"
cp "$C/phototest.tif" "$C/fake-text.txt" "$C/handbook-1p.docx" "$T/in/"
"$MOAT" init "$W" >/dev/null

# a Tesseract data directory without English
export TESSDATA_PREFIX=$T/tess
expect_rc 0 "$MOAT" version --json
python3 - "$T/out" "$T/tess" >"$T/check" 2>&1 <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))['data']['tessdata']
assert d['source'] == 'environment' and d['path'] == sys.argv[2] and d['languages'] == 'none', d
print('ok')
PY
expect_grep '^ok$' "$T/check" "moat version: the language files come from \$TESSDATA_PREFIX"

expect_rc 1 "$MOAT" -w "$W" ingest "$T/in" --json
expect_grep "^moat: warning: OCR language 'eng' is not installed .*; files that need OCR will fail$" "$T/err" "one warning up front"
python3 - "$T/out" >"$T/check" 2>&1 <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d['counts']['added'] == 2 and d['counts']['failed'] == 1, d['counts']
f = d['failures']
assert len(f) == 1 and f[0]['path'].endswith('/phototest.tif'), f
assert "OCR language 'eng' is not installed" in f[0]['error'], f
print('ok')
PY
expect_grep '^ok$' "$T/check" "only the TIFF failed, with the reason; the text and the DOCX went in"

# a malformed list is still a usage error, before anything is read
expect_rc 2 "$MOAT" -w "$W" ingest "$T/in" --ocr-lang 'eng;rm'
# with --ocr never nothing needs the language: no warning
expect_rc 0 "$MOAT" -w "$W" ingest "$T/in/fake-text.txt" --ocr never
expect_eq "" "$(cat "$T/err")" "no warning with --ocr never"

# the language back: the TIFF goes in on the next run
unset TESSDATA_PREFIX
expect_rc 0 "$MOAT" -w "$W" ingest "$T/in" --json
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); c=d['counts']; assert c['failed'] == 0 and c['added'] + c['new_versions'] == 1 and c['unchanged'] == 2, c; print('ok')" "$T/out" >"$T/check" 2>&1
expect_grep '^ok$' "$T/check" "the TIFF is taken again once English is there, the others unchanged"
expect_rc 0 "$MOAT" -w "$W" show "$T/in/phototest.tif" --json
expect_grep 'quick brown dog' "$T/out" "and read by OCR"

# Tesseract missing: the TIFF and the scanned PDF fail with the reason, the
# rest goes in, and without OCR the TIFF needs only Leptonica
W2=$T/ws2
"$MOAT" init "$W2" >/dev/null
cp "$C/ocr_test.pdf" "$C/multi-column-2p.pdf" "$T/in/"
export MOAT_TEST_OCRLIB_MISSING=tesseract
expect_rc 1 "$MOAT" -w "$W2" ingest "$T/in" --json -j 1
python3 - "$T/out" >"$T/check" 2>&1 <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
f = {x['path'].rsplit('/', 1)[1]: x['error'] for x in d['failures']}
assert sorted(f) == ['ocr_test.pdf', 'phototest.tif'], f
for e in f.values():
    assert e.startswith('cannot load Tesseract: ') and 'install the Debian package libtesseract5' in e, e
assert d['counts']['added'] == 3, d['counts']
print('ok')
PY
expect_grep '^ok$' "$T/check" "without Tesseract only the files that need OCR fail, saying why"
expect_rc 0 "$MOAT" -w "$W2" ingest "$T/in/phototest.tif" --ocr never
expect_rc 0 "$MOAT" version --json
expect_grep '"tesseract": "not loaded .cannot load Tesseract: ' "$T/out" "moat version says Tesseract cannot be loaded"
export MOAT_TEST_OCRLIB_MISSING=leptonica
"$MOAT" init "$T/ws3" >/dev/null
expect_rc 1 "$MOAT" -w "$T/ws3" ingest "$T/in/phototest.tif" --ocr never
expect_grep "cannot load Leptonica: .*install the Debian package liblept5" "$T/err" "an image without Leptonica"
unset MOAT_TEST_OCRLIB_MISSING
expect_rc 0 "$MOAT" version --json
expect_grep '"tesseract": "5\.' "$T/out" "moat version loads Tesseract for its version"
finish
