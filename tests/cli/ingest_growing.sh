#!/bin/bash
# ingest_growing.sh - a file that grows while it is ingested (issue 14.10):
# the document is what was read, and the summary counts the same bytes, so
# the summary's bytes always equal the sizes stored.  A writer appends to a
# file throughout the run; whatever moment it is read at, the counts agree.
. "$(dirname "$0")/lib.sh"
W="$T/ws"
D="$T/docs"
mkdir -p "$D"
"$MOAT" init "$W" >/dev/null || { bad "init"; finish; exit 1; }
for i in $(seq 1 300); do printf 'file %d\n' "$i" >"$D/f$i.txt"; done
printf 'growing\n' >"$D/zz-growing.txt"
( for i in $(seq 1 4000); do printf 'more line %d\n' "$i" >>"$D/zz-growing.txt"; done ) &
writer=$!
"$MOAT" -w "$W" ingest -j 2 "$D" --json >"$T/out" 2>"$T/err"
rc=$?
wait "$writer"
expect_eq 0 "$rc" "ingest"
summary=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["counts"]["bytes"])' "$T/out")
stored=$(sqlite3 "$W/moat.db" "SELECT sum(size) FROM files")
expect_eq "$stored" "$summary" "the summary's bytes are the bytes stored"
doc=$(sqlite3 "$W/moat.db" "SELECT d.size FROM documents d JOIN files f ON f.doc_id = d.id WHERE f.path LIKE '%zz-growing.txt'")
file=$(sqlite3 "$W/moat.db" "SELECT size FROM files WHERE path LIKE '%zz-growing.txt'")
expect_eq "$doc" "$file" "the growing file's row and document agree"
finish
