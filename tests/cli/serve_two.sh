#!/bin/bash
# serve_two.sh - two `moat serve` processes on one workspace under load from
# wrk (tests/cli/serve_two.lua): 4 annotators, each working on both servers at
# once (GET next, PUT a submitted annotation, again) on a project with overlap
# 1.  Run on SQLite and, as pg.serve_two, on PostgreSQL (issue 15: "no task
# handed out twice, no annotation lost, the audit chain verifies"):
#  - no answer other than 200, no socket error;
#  - no task holds annotations of two annotators (overlap 1);
#  - every 200 to a PUT is an audit record (plus at most one per connection
#    for saves in flight when wrk stopped) naming an annotation that exists,
#    and every annotation has its record;
#  - `moat audit verify` passes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_common.sh"
command -v wrk >/dev/null || { bad "wrk is missing (scripts/bootstrap installs it)"; finish; exit 1; }
W="$T/ws"
N=400
python3 - "$T/items.csv" "$N" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("id,text\n")
    for i in range(1, int(sys.argv[2]) + 1):
        f.write("%d,Invoice number %d for %d boxes.\n" % (i, i, i % 7))
PY
printf '{"kind": "classification", "labels": [{"name": "invoice", "key": "1"}, {"name": "other", "key": "2"}]}\n' >"$T/schema.json"
"$MOAT" init "$W" >/dev/null || { bad "init"; finish; exit 1; }
expect_rc 0 "$MOAT" -w "$W" ingest "$T/items.csv"
expect_rc 0 "$MOAT" -w "$W" label create p --schema "$T/schema.json" --from elements --raw --overlap 1
printf 'two-serve-password\n' >"$T/pw"
for i in 1 2 3 4; do
	expect_rc 0 "$MOAT" -w "$W" users add "a$i" --role annotator --password-file "$T/pw"
done
serve_start "$W" || { finish; exit 1; }
B1=$BASE
serve_start "$W" || { finish; exit 1; }
B2=$BASE
# each annotator logged in on both servers (a session is the workspace's, so
# either server takes the other's cookie: the script uses one per user)
echo "return {" >"$T/users.lua"
for i in 1 2 3 4; do
	rm -f "$JAR"
	CURL_BASE=$B1 req POST /api/login "{\"name\":\"a$i\",\"password\":\"two-serve-password\"}"
	expect_code 200 "a$i logs in"
	echo "  {cookie = \"moat_session=$(awk '$6 == "moat_session" {print $7}' "$JAR")\", csrf = \"$(jget "$T/body" 'j["csrf"]')\"}," >>"$T/users.lua"
done
echo "}" >>"$T/users.lua"
# 8 connections on each server (two per annotator), at once
wrk -t8 -c8 -d6s -s "$SRC/tests/cli/serve_two.lua" "$B1" -- "$T/users.lua" p >"$T/wrk1" 2>&1 &
w1=$!
wrk -t8 -c8 -d6s -s "$SRC/tests/cli/serve_two.lua" "$B2" -- "$T/users.lua" p >"$T/wrk2" 2>&1 &
w2=$!
wait "$w1" "$w2"
puts=0
for f in "$T/wrk1" "$T/wrk2"; do
	p=$(sed -n 's/^puts_ok //p' "$f")
	[ -n "$p" ] && [ "$p" -gt 0 ] && ok || bad "wrk against one server saved annotations: $(cat "$f")"
	expect_eq 0 "$(sed -n 's/^bad //p' "$f")" "no answer other than 200 ($f)"
	expect_eq 0 "$(sed -n 's/^socket_errors //p' "$f")" "no socket error ($f)"
	puts=$((puts + ${p:-0}))
done
serve_stop_all
expect_eq 0 "$(sqlite3 "$W/moat.db" "SELECT count(*) FROM (SELECT task_id FROM annotations GROUP BY task_id HAVING count(DISTINCT annotator) > 1) x")" \
	"no task handed out to two annotators (overlap 1)"
expect_eq "$(sqlite3 "$W/moat.db" "SELECT count(*) FROM annotations")" \
	"$(sqlite3 "$W/moat.db" "SELECT count(*) FROM tasks WHERE is_open = 0")" "each annotated task is done, each done task annotated"
"$MOAT" -w "$W" audit log --json >"$T/audit.json" || bad "audit log"
sqlite3 "$W/moat.db" "SELECT id FROM annotations ORDER BY id" >"$T/ann_ids"
python3 - "$T/audit.json" "$T/ann_ids" "$puts" <<'PY' >"$T/chk" || bad "audit records against annotations: $(cat "$T/chk")"
import json, sys
recs = json.load(open(sys.argv[1]))
ann = [r for r in recs if r.get("command", [])[:2] == ["label", "annotate"]]
ids = {int(l) for l in open(sys.argv[2]) if l.strip()}
named = [r["outputs"]["annotation"] for r in ann]
# a save still in flight when wrk stopped is committed but not counted by
# wrk: at most one per connection (16)
assert int(sys.argv[3]) <= len(ann) <= int(sys.argv[3]) + 16, "%d audit records for %s saves" % (len(ann), sys.argv[3])
assert set(named) <= ids, "records name annotations that do not exist: %s" % sorted(set(named) - ids)[:5]
assert ids <= set(named), "annotations without a record: %s" % sorted(ids - set(named))[:5]
assert all(r.get("actor") in ("a1", "a2", "a3", "a4") for r in ann), "a record without its annotator"
print("ok", len(ann), len(ids))
PY
expect_grep '^ok ' "$T/chk" "every save is one audit record of an annotation that exists"
expect_rc 0 "$MOAT" -w "$W" audit verify
finish
