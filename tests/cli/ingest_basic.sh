#!/bin/bash
# ingest_basic.sh - moat init / ingest / ls / show / audit on the text files in
# tests/data/text and on the text-format files of the shared corpus:
# re-ingest is a no-op, a changed file becomes a new version, a bad file is
# recorded as failed with its reason and the run goes on (exit 1), filters,
# symlinks kept inside the roots, limits, and the audit trail after each step.
. "$(dirname "$0")/lib.sh"

jget() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }

# moat version names the libraries it links, with the versions they report.
expect_rc 0 "$MOAT" version --json
expect_eq "$(sqlite3 --version | cut -d' ' -f1)" "$(jget "$T/out" "d['sqlite']")" "SQLite version"
expect_grep '"llama.cpp": "(v0\.5\.0|not built in)' "$T/out" "llama.cpp version or its absence"
expect_grep '"mupdf": "[0-9]' "$T/out" "MuPDF version"

W=$T/ws
expect_rc 0 "$MOAT" init "$W"
expect_grep '^audit head [0-9a-f]{64}$' "$T/out" "init prints the audit head"
expect_rc 1 "$MOAT" init "$W"
expect_grep "already a moat workspace" "$T/err" "init refuses an existing workspace"

cp -r "$SRC/tests/data/text" "$T/in"
expect_rc 1 "$MOAT" -w "$W" ingest "$T/in" -j 2 --json
expect_eq 8 "$(jget "$T/out" "d['counts']['added']")" "eight text files added"
expect_eq 1 "$(jget "$T/out" "d['counts']['failed']")" "nested.json has no 'text' field"
expect_grep "has no field 'text' \\(choose one with --text-field\\)" "$T/out" "the reason names the option"

# Discovery from inside the workspace, like git.
(cd "$W" && "$MOAT" ls --json) > "$T/ls.json"
expect_eq 9 "$(jget "$T/ls.json" "len(d)")" "ls lists nine files"
expect_eq "None csv html jsonl markdown text text text tsv" \
	"$(jget "$T/ls.json" "' '.join(sorted(str(x['type']) for x in d))")" "types detected"
expect_eq windows-1252 "$(jget "$T/ls.json" "[x['encoding'] for x in d if x['path'].endswith('cp1252.txt')][0]")" "cp1252 detected"
expect_eq utf-16le "$(jget "$T/ls.json" "[x['encoding'] for x in d if x['path'].endswith('utf16.txt')][0]")" "utf-16 detected"

"$MOAT" -w "$W" show "$T/in/cp1252.txt" --json > "$T/s.json"
expect_eq "Grüße aus Köln € 5" "$(jget "$T/s.json" "d['elements'][0]['text']")" "cp1252 decoded"
expect_eq 18 "$(jget "$T/s.json" "d['elements'][0]['end']")" "offsets in code points"

"$MOAT" -w "$W" show "$T/in/report.txt" --json > "$T/s.json"
expect_eq "title paragraph heading list_item list_item" \
	"$(jget "$T/s.json" "' '.join(e['type'] for e in d['elements'])")" "plain text element types"
# Each element's [start, end) cuts its own text out of the full text.
python3 - "$T/s.json" "$W" <<'PY' && ok || bad "element offsets do not match the stored text"
import json, sqlite3, sys
d = json.load(open(sys.argv[1]))
db = sqlite3.connect(sys.argv[2] + "/moat.db")
text = db.execute("select text from documents where id=?", (d["id"],)).fetchone()[0]
for e in d["elements"]:
    assert text[e["start"]:e["end"]] == e["text"], (e, text[e["start"]:e["end"]])
PY

# The failed file goes in once the text field is named, as a new version.
expect_rc 0 "$MOAT" -w "$W" ingest "$T/in/nested.json" --text-field doc.body --json
expect_eq 1 "$(jget "$T/out" "d['counts']['new_versions']")" "failed file retried"
"$MOAT" -w "$W" show "$T/in/nested.json" --json > "$T/s.json"
expect_eq "nested text" "$(jget "$T/s.json" "d['elements'][0]['text']")" "dotted --text-field"
expect_eq 7 "$(jget "$T/s.json" "d['elements'][0]['meta']['id']")" "other fields are metadata"

# Unchanged files: nothing changes, and it says so.
expect_rc 0 "$MOAT" -w "$W" ingest "$T/in"
expect_grep "nothing changed" "$T/out" "re-ingest says nothing changed"
n1=$(sqlite3 "$W/moat.db" "select count(*) from files")

# A changed file at the same path becomes version 2; the old version stays.
printf 'Brand new text.\n' >> "$T/in/report.txt"
expect_rc 0 "$MOAT" -w "$W" ingest "$T/in" --json
expect_eq 1 "$(jget "$T/out" "d['counts']['new_versions']")" "changed file is a new version"
expect_eq 2 "$(sqlite3 "$W/moat.db" "select max(version) from files where path like '%report.txt'")" "version 2 recorded"
expect_eq $((n1 + 1)) "$(sqlite3 "$W/moat.db" "select count(*) from files")" "old version kept"

# A bad file fails with a one-line reason naming it; the others go in; exit 1.
printf '{"text": "ok"\n' > "$T/in/broken.json"
printf '\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00' > "$T/in/prog.txt"
printf 'fine\n' > "$T/in/fine.txt"
expect_rc 1 "$MOAT" -w "$W" ingest "$T/in"
expect_grep "cannot ingest '.*broken.json': invalid JSON at line 2" "$T/err" "broken JSON named with its reason"
expect_grep "cannot ingest '.*prog.txt': unsupported file type" "$T/err" "binary named"
expect_eq 2 "$(grep -c 'cannot ingest' "$T/err")" "one line per failed file"
expect_grep "1 added" "$T/out" "the good file still went in"

# --include / --exclude.
mkdir -p "$T/in2/sub" && printf 'a\n' > "$T/in2/a.md" && printf 'b\n' > "$T/in2/sub/b.txt" && printf 'c\n' > "$T/in2/sub/c.txt"
expect_rc 0 "$MOAT" -w "$W" ingest "$T/in2" --include '*.txt' --exclude 'c.*' --json
expect_eq 1 "$(jget "$T/out" "d['counts']['files']")" "include/exclude filter files"

# Symlinks: followed to files inside the roots, never out of them.
mkdir -p "$T/in3" "$T/outside" && printf 'secret\n' > "$T/outside/s.txt" && printf 'inside\n' > "$T/in3/i.txt"
ln -s "$T/outside/s.txt" "$T/in3/link-out.txt"
ln -s "$T/in3/i.txt" "$T/in3/link-in.txt"
ln -s "$T/outside" "$T/in3/dirlink"
expect_rc 0 "$MOAT" -w "$W" ingest "$T/in3" --json
expect_eq 2 "$(jget "$T/out" "d['counts']['files']")" "symlink out of the root not followed"
expect_eq 2 "$(jget "$T/out" "d['counts']['skipped']")" "links out of the root counted as skipped"
ln -s "$T/nowhere" "$T/in3/broken.txt" && mkfifo "$T/in3/fifo"
expect_rc 0 "$MOAT" -w "$W" ingest "$T/in3"
expect_grep "^skipped 4 entries that are not regular files" "$T/out" "skipped entries reported"
"$MOAT" -w "$W" ls --json > "$T/ls.json"
expect_eq 0 "$(jget "$T/ls.json" "sum(1 for x in d if 'outside' in x['path'] or 'dirlink' in x['path'])")" "nothing from outside"

# Limits a user can change.
head -c 5000 /dev/zero | tr '\0' 'x' > "$T/big.txt"
expect_rc 1 "$MOAT" -w "$W" ingest "$T/big.txt" --max-file-size 1K
expect_grep "over the limit" "$T/err" "file size limit"
seq 1 50 | sed 's/$/\n/' > "$T/many.txt"
expect_rc 1 "$MOAT" -w "$W" ingest "$T/many.txt" --max-elements 10
expect_grep "more than 10 elements" "$T/err" "element limit"

# Nothing half-stored: every failed file has no document row.
expect_eq 0 "$(sqlite3 "$W/moat.db" "select count(*) from files f join documents d on d.id=f.doc_id where f.status='failed' and d.id not in (select doc_id from files where status='ok')")" "failed files store no document"

# Usage errors exit 2.
expect_rc 2 "$MOAT" -w "$W" ingest
expect_rc 2 "$MOAT" -w "$W" ingest -j 0 "$T/in"
expect_rc 1 "$MOAT" -w "$W" ingest "$T/does-not-exist"
expect_grep "does-not-exist" "$T/err" "missing path named"

# The trail: one record per changing command, intact.
expect_rc 0 "$MOAT" -w "$W" audit verify
expect_grep "audit trail intact: [0-9]+ records, head [0-9a-f]{64}" "$T/out" "audit verify prints the head"
"$MOAT" -w "$W" audit log --json > "$T/log.json"
expect_eq $(( $(sqlite3 "$W/moat.db" "select count(*) from runs") + 1 )) "$(jget "$T/log.json" "len(d)")" "one record for init and one per ingest run"
expect_eq "root" "$(jget "$T/log.json" "d[1]['user']")" "record names the OS user"
expect_eq "$(hostname)" "$(jget "$T/log.json" "d[1]['host']")" "record names the host"
expect_eq 64 "$(jget "$T/log.json" "len(d[1]['inputs']['files_sha256'])")" "inputs digest recorded"

# A file name that is not UTF-8 (Latin-1 names on old shares): listed and
# recorded with U+FFFD for the bad byte, never dropped; found by its real name.
W3=$T/ws3
"$MOAT" init "$W3" >/dev/null
mkdir -p "$T/latin1"
L1="$T/latin1/caf$(printf '\351').txt"
printf 'menu du jour\n' >"$L1"
expect_rc 0 "$MOAT" -w "$W3" ingest "$L1"
"$MOAT" -w "$W3" ls --json >"$T/l.json"
expect_eq "$T/latin1/caf\ufffd.txt" "$(jget "$T/l.json" "d[0]['path'].encode('unicode_escape').decode()")" "non-UTF-8 name listed"
"$MOAT" -w "$W3" audit log --json >"$T/log.json"
expect_eq 5 "$(jget "$T/log.json" "len(d[1]['command'])")" "every argument of the run recorded"
expect_rc 0 "$MOAT" -w "$W3" show "$L1"
expect_grep "menu du jour" "$T/out" "show finds the file by its real name"

# The shared corpus' text-format files.
need_testdata corpus
W2=$T/ws2
"$MOAT" init "$W2" >/dev/null
for f in wiki.md wiki_duck.html fake-html-cp1252.html fake-text.txt csv-comma.csv; do
	expect_rc 0 "$MOAT" -w "$W2" ingest "$TESTDATA/corpus/$f"
done
"$MOAT" -w "$W2" show "$TESTDATA/corpus/csv-comma.csv" --json > "$T/s.json"
expect_eq 6 "$(jget "$T/s.json" "len(d['elements'])")" "csv: header + 5 rows"
expect_eq "Rasmussen Group" "$(jget "$T/s.json" "d['elements'][1]['meta']['cells']['Company']")" "csv cells keyed by header"
expect_eq "Lozano, Dr" "$(jget "$T/s.json" "d['elements'][2]['meta']['cells']['Last Name']")" "quoted csv field"
"$MOAT" -w "$W2" show "$TESTDATA/corpus/fake-html-cp1252.html" --json > "$T/s.json"
expect_grep "15,50 €" "$T/s.json" "cp1252 HTML decoded (euro sign)"
finish
