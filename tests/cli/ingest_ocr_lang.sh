#!/bin/bash
# ingest_ocr_lang.sh - a missing OCR language fails only the files that need
# OCR, each with a message naming the language and where it was looked for;
# the other files of the same run are ingested, and a later run with the
# language present picks the failed ones up.  Also where `moat version` says
# the language files come from ($TESSDATA_PREFIX here).
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
finish
