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

# The share probe: each doctor run finds the one the last run left (its token
# in the tables and in DIR/share.probe) and leaves its own.  A PostgreSQL
# workspace's tables are the server's, so a node that mounts another copy of
# the directory (here: a copy made before the last probe) sees another probe.
expect_eq ok "$(ws "$T/out" share status)" "the share check passes"
case "${MOAT_STORE:-}" in
postgres://*)
	expect_grep 'left the first probe in .*/share.probe' "$T/out" "the first run leaves the first probe"
	cp -a "$W" "$T/copy"
	doctor -w "$W"
	expect_eq ok "$(ws "$T/out" share status)" "a second run on the same share"
	expect_grep "this node sees the probe that $(hostname) at [0-9T:Z-]+ left" "$T/out" "... names the run before"
	doctor -w "$T/copy"
	expect_eq fail "$(ws "$T/out" share status)" "a node that mounts another copy of the directory"
	expect_grep 'does not see the probe .* it mounts another directory there' "$T/out" "... is told why"
	expect_grep 'mount the one share at this path on every node' "$T/out" "... and what to do"
	doctor -w "$W"
	expect_eq fail "$(ws "$T/out" share status)" "the first node then fails too (the copy's probe is not in its share)"
	doctor -w "$W"
	expect_eq ok "$(ws "$T/out" share status)" "... until it is the last to have run"
	rm -rf "$T/copy"
	;;
*) expect_grep 'the tables are in .*/moat.db, in the share itself' "$T/out" "SQLite: the tables are in the share" ;;
esac

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
