#!/bin/bash
# doctor_workspace.sh - `moat doctor` in a workspace (issue 15): it says where
# the tables are (SQLite, or PostgreSQL with the workspace id, under the pg
# label) and whether this node sees the originals the store names; a node
# whose objects/ is not the share the others write to (here: the originals
# moved away) fails that check with the fix.  Outside a workspace there is no
# workspace group.  The Ollama checks fail here (no server): only the
# workspace group is looked at.
. "$(dirname "$0")/lib.sh"
W="$T/ws"
"$MOAT" init "$W" >/dev/null || { bad "init"; finish; exit 1; }
printf 'one\n' >"$T/a.txt"
printf 'two\n' >"$T/b.txt"
expect_rc 0 "$MOAT" -w "$W" ingest "$T/a.txt" "$T/b.txt"
ws() { # JSON-FILE CHECK FIELD
	python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
c = [c for c in d["checks"] if c["group"] == "workspace" and c["check"] == sys.argv[2]]
print(c[0][sys.argv[3]] if c else "none")' "$@"
}
doctor() { "$MOAT" "$@" doctor --no-models --ollama http://127.0.0.1:1 --json >"$T/out" 2>"$T/err"; }

doctor -w "$W"
expect_eq ok "$(ws "$T/out" store status)" "the store opens"
case "${MOAT_STORE:-}" in
postgres://*) expect_grep 'tables in PostgreSQL, workspace id [0-9a-f]{32}' "$T/out" "PostgreSQL named with the id" ;;
*) expect_grep 'tables in SQLite' "$T/out" "SQLite named" ;;
esac
expect_eq ok "$(ws "$T/out" objects status)" "this node sees the originals"
expect_grep '2 of the last 2' "$T/out" "both originals counted"

# another share mounted here: the originals are not where the store says
mv "$W/objects" "$W/objects.away"
mkdir "$W/objects"
doctor -w "$W"
expect_eq fail "$(ws "$T/out" objects status)" "missing originals fail"
expect_grep '2 of the last 2 documents.* originals are missing' "$T/out" "the message counts them"
expect_grep 'mount the same share' "$T/out" "the fix says what to do"
expect_eq False "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["ok"])' "$T/out")" "doctor is not ok"
rm -rf "$W/objects"
mv "$W/objects.away" "$W/objects"

# no workspace: no workspace group
mkdir -p "$T/elsewhere"
(cd "$T/elsewhere" && MOAT_WORKSPACE= doctor)
expect_eq none "$(ws "$T/out" store status)" "no workspace, no workspace checks"
finish
