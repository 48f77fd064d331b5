#!/bin/bash
# clean_types.sh - `drop_types` in a filter policy's [element] section: the
# headers and footers that ingest keeps as elements of their own (a DOCX's
# first-page, even-page and default ones, tests/data/ingest/hdrftr.docx) are
# dropped by clean when the user asks, with their reason, and the cleaned
# text keeps the body; without the rule they stay.  A drop_types in
# [document] is refused with file and line.
. "$(dirname "$0")/lib.sh"
W="$T/ws"
"$MOAT" init "$W" >/dev/null || { bad "init"; finish; exit 1; }
expect_rc 0 "$MOAT" -w "$W" ingest "$SRC/tests/data/ingest/hdrftr.docx"
statuses() { sqlite3 "$W/moat.db" "SELECT e.type, c.status, coalesce(c.reason, '') FROM clean_elements c
	JOIN elements e ON e.doc_id = c.doc_id AND e.seq = c.seq ORDER BY c.seq" | sort | uniq -c | sed 's/^ *//'; }
cleaned_text() { sqlite3 "$W/moat.db" "SELECT text FROM clean_docs"; }

# no rule: every element kept
printf '[element]\nmax_digit_ratio = 0.9\n' >"$T/keep.ini"
expect_rc 0 "$MOAT" -w "$W" clean --filters "$T/keep.ini"
expect_eq "3 footer|kept|
4 header|kept|
4 paragraph|kept|" "$(statuses)" "without drop_types headers and footers are kept"
expect_grep "Cover page header" <(cleaned_text) "... and in the cleaned text"

printf '[element]\ndrop_types = Header, footer\n' >"$T/drop.ini"
expect_rc 0 "$MOAT" -w "$W" clean --filters "$T/drop.ini" --json
expect_eq 7 "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["counts"]["elements_dropped"])' "$T/out")" \
	"the summary counts the 7 dropped elements"
expect_eq "3 footer|dropped|element type footer: drop_types
4 header|dropped|element type header: drop_types
4 paragraph|kept|" "$(statuses)" "drop_types drops the headers and footers, with the reason"
cleaned_text >"$T/text"
expect_eq "Body of page one.

Body of page two.

Body of page three.

Body of the appendix." "$(cat "$T/text")" "the cleaned text is the body alone"
# and so are the exported records and the chunks: a dropped element's span is empty
expect_rc 0 "$MOAT" -w "$W" export --format jsonl --what elements --out "$T/ds"
grep -rq "Body of page one" "$T/ds" && ok || bad "the export holds no body"
grep -rq "page header\|page footer\|Appendix header" "$T/ds" && bad "a header or footer in the export" || ok
expect_rc 0 "$MOAT" -w "$W" chunk --max-tokens 50
sqlite3 "$W/moat.db" "SELECT text FROM chunks" >"$T/chunks"
expect_grep "Body of the appendix" "$T/chunks" "the chunks hold the body"
grep -q "header\|footer" "$T/chunks" && bad "a header or footer in a chunk" || ok

printf '[document]\ndrop_types = header\n' >"$T/bad.ini"
expect_rc 1 "$MOAT" -w "$W" clean --filters "$T/bad.ini"
expect_grep "^moat: $T/bad.ini:2: drop_types is an \\[element\\] rule$" "$T/err" "drop_types in [document]: file and line"
finish
