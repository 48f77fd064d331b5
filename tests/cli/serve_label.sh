#!/bin/bash
# serve_label.sh - the label endpoints of `moat serve` over HTTP on loopback,
# on a project made with `moat label create` over ingested files:
#  - each role allowed and refused on each endpoint class (projects and tasks:
#    annotator; review and stats: reviewer; suggest, preview, models: admin);
#  - the next task, saving (draft, then submitted), the review queue, a
#    decision, stats; every change an audit record naming the user (actor);
#  - a value outside the schema is 400 and writes nothing;
#  - path traversal and bad ids in every path parameter: 400, nothing written;
#  - a change without or with a wrong X-CSRF-Token: 403, nothing written;
#  - two annotators saving the same task at once: both saved, one
#    annotation each;
#  - a suggestion run started over the API (a model that cannot be reached):
#    listed with its status; the prompt preview renders the task;
#  - a task's picture: a JPEG as it is, a TIFF and a PDF page drawn as PNG,
#    a text task refused.
. "$(dirname "$0")/lib.sh"
. "$SRC/tests/llm_servers.sh"
. "$(dirname "$0")/serve_common.sh"
# both helpers' servers stopped at exit (each file sets its own trap)
trap 'serve_stop_all; for p in $SERVER_PIDS; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$T"' EXIT
need_testdata corpus

W="$T/ws"
D="$T/docs"
mkdir -p "$D"
for i in 1 2 3 4 5 6; do echo "Document number $i: an invoice for $i boxes of apples." >"$D/doc$i.txt"; done
"$MOAT" init "$W" >/dev/null || { bad "init"; finish; exit 1; }
"$MOAT" -w "$W" ingest "$D" >/dev/null || { bad "ingest"; finish; exit 1; }
cat >"$T/schema.json" <<'S'
{"kind": "classification", "multi": false,
 "labels": [{"name": "invoice", "key": "1"}, {"name": "contract", "key": "2"}],
 "guidelines": "Pick one.", "prompt": "Classify this document:\n{{text}}\nLabels: {{labels}}"}
S
"$MOAT" -w "$W" label create p1 --schema "$T/schema.json" --from documents --raw --overlap 2 >"$T/create.out" 2>&1 \
	|| { bad "label create: $(cat "$T/create.out")"; finish; exit 1; }
for u in ann:annotator ann2:annotator rev:reviewer adm:admin; do
	printf '%s-password\n' "${u%%:*}" >"$T/pw"
	"$MOAT" -w "$W" users add "${u%%:*}" --role "${u#*:}" --password-file "$T/pw" >/dev/null
done
serve_start "$W" || { finish; exit 1; }

# --- not logged in, then each role on each class ------------------------------------
for p in /api/projects /api/projects/p1 /api/projects/p1/tasks /api/projects/p1/next \
	 /api/projects/p1/tasks/1 /api/projects/p1/review /api/projects/p1/stats /api/projects/p1/suggest; do
	req GET "$p"; expect_code 401 "GET $p not logged in"
done
login_as ann ann-password
req GET /api/projects; expect_code 200 "annotator: GET /api/projects"
expect_eq p1 "$(jget "$T/body" 'j["projects"][0]["name"]')" "the project is listed"
req GET /api/projects/p1; expect_code 200 "annotator: GET /api/projects/p1"
req GET /api/projects/nope; expect_code 404 "a project that does not exist"
req GET "/api/projects/p1/tasks?limit=2"; expect_code 200 "annotator: tasks"
expect_eq 2 "$(jget "$T/body" 'len(j["tasks"])')" "limit=2 gives two tasks"
expect_eq 6 "$(jget "$T/body" 'j["total"]')" "the total"
req GET "/api/projects/p1/tasks?limit=501"; expect_code 400 "limit over 500"
req GET "/api/projects/p1/tasks?limit=abc"; expect_code 400 "limit not a number"
req GET "/api/projects/p1/tasks?filter=evil"; expect_code 400 "an unknown filter"
req GET "/api/projects/p1/review"; expect_code 403 "annotator: review queue"
req GET "/api/projects/p1/stats"; expect_code 403 "annotator: stats"
req GET "/api/projects/p1/suggest"; expect_code 403 "annotator: suggestion runs"
req POST /api/projects/p1/suggest '{"model":"openai://127.0.0.1:9/v1/x"}'; expect_code 403 "annotator: start a run"
req POST /api/projects/p1/preview '{"task":1}'; expect_code 403 "annotator: preview"
login_as rev rev-password
req GET "/api/projects/p1/review"; expect_code 200 "reviewer: review queue"
req GET "/api/projects/p1/stats"; expect_code 200 "reviewer: stats"
req GET "/api/projects/p1/suggest"; expect_code 403 "reviewer: suggestion runs"
req POST /api/projects/p1/preview '{"task":1}'; expect_code 403 "reviewer: preview"
req GET /api/models; expect_code 403 "reviewer: models"

# --- annotating -------------------------------------------------------------------
login_as ann ann-password
req GET /api/projects/p1/next; expect_code 200 "next task"
tid=$(jget "$T/body" 'j["task"]["id"]')
[ -n "$tid" ] && [ "$tid" -ge 1 ] && ok || bad "next gives a task: $(cat "$T/body")"
before=$(audit_count "$W")
req PUT "/api/projects/p1/tasks/$tid/annotation" '{"value":{"labels":["nonsense"]},"status":"submitted"}'
expect_code 400 "a label outside the schema"
req PUT "/api/projects/p1/tasks/$tid/annotation" '{"value":{"labels":["invoice"]},"status":"final"}'
expect_code 400 "a status that is not draft or submitted"
req PUT "/api/projects/p1/tasks/$tid/annotation" '{"labels":["invoice"]}'
expect_code 400 "no value field"
good=$CSRF_H; CSRF_H=""
req PUT "/api/projects/p1/tasks/$tid/annotation" '{"value":{"labels":["invoice"]}}'
expect_code 403 "save without X-CSRF-Token"
CSRF_H="x$good"
req PUT "/api/projects/p1/tasks/$tid/annotation" '{"value":{"labels":["invoice"]}}'
expect_code 403 "save with a wrong X-CSRF-Token"
CSRF_H=$good
for p in "..%2Fp1" "p1%2F..%2Fp1" "%2e%2e" "p1%00x" "p%0a1" "$(printf 'x%.0s' $(seq 1 129))"; do
	req PUT "/api/projects/$p/tasks/$tid/annotation" '{"value":{"labels":["invoice"]}}'
	expect_code 400 "project '$p' in a save"
	req GET "/api/projects/$p/tasks"; expect_code 400 "project '$p' in tasks"
done
for id in 0 -1 01 1%2F2 "${tid}%00" abc 99999999999999999999 1.5; do
	req PUT "/api/projects/p1/tasks/$id/annotation" '{"value":{"labels":["invoice"]}}'
	expect_code 400 "task id '$id' in a save"
	req POST "/api/projects/p1/suggestions/$id/reject"; expect_code 400 "suggestion id '$id'"
	req GET "/api/projects/p1/tasks/$id"; expect_code 400 "task id '$id' in a read"
done
login_as rev rev-password
for id in 0 -1 "1%2F..%2F2" "%00"; do
	req POST "/api/projects/p1/annotations/$id/review" '{"decision":"accept"}'; expect_code 400 "annotation id '$id'"
done
for p in "..%2Fp1" "p1%00"; do
	req POST "/api/projects/$p/annotations/1/review" '{"decision":"accept"}'; expect_code 400 "project '$p' in a review"
	req GET "/api/projects/$p/stats"; expect_code 400 "project '$p' in stats"
done
login_as adm adm-password
for p in "..%2Fp1" "%2e%2e" "p1%00"; do
	req POST "/api/projects/$p/suggest" '{"model":"openai://127.0.0.1:9/v1/none"}'; expect_code 400 "project '$p' in suggest"
	req POST "/api/projects/$p/preview" '{"task":1}'; expect_code 400 "project '$p' in preview"
done
req GET /api/projects/p1/stats; expect_code 200 "admin: stats (roles above reviewer)"
req GET /api/projects/p1/review; expect_code 200 "admin: review queue"
login_as ann ann-password
python3 -c 'import sys; sys.stdout.write("{\"value\":{\"labels\":[\"invoice\"]},\"status\":\"" + "x"*(1<<20) + "\"}")' >"$T/big.json"
req PUT "/api/projects/p1/tasks/$tid/annotation" "@$T/big.json"; expect_code 413 "a save over 1 MiB"
req PUT "/api/projects/p1/tasks/$tid/annotation" '{"value":{"labels":["invoice"]'; expect_code 400 "a malformed save"
expect_eq "$before" "$(audit_count "$W")" "refused saves wrote no audit record"
req GET "/api/projects/p1/tasks/$tid"; expect_code 200 "the task"
expect_eq 0 "$(jget "$T/body" 'len(j["annotations"])')" "refused saves left no annotation"

req PUT "/api/projects/p1/tasks/$tid/annotation" '{"value":{"labels":["invoice"]},"status":"draft"}'
expect_code 200 "save a draft"
req PUT "/api/projects/p1/tasks/$tid/annotation" '{"value":{"labels":["contract"]},"status":"submitted"}'
expect_code 200 "submit"
aid=$(jget "$T/body" 'j["id"]')
req GET "/api/projects/p1/tasks/$tid"; expect_code 200 "the task after saving"
expect_eq '["contract"]' "$(jget "$T/body" '[a["value"]["labels"] for a in j["annotations"]][0]')" "the second save replaced the first"
expect_eq "$((before + 2))" "$(audit_count "$W")" "each save is one audit record"
"$MOAT" -w "$W" audit log --json | python3 -c 'import json,sys; r=json.load(sys.stdin)[-1]; assert r.get("actor")=="ann", r' \
	&& ok || bad "the save's audit record names ann"

# two annotators saving the same task at once
login_as ann2 ann2-password; c2=$CSRF_H; cp "$JAR" "$T/jar2"
login_as ann ann-password; c1=$CSRF_H; cp "$JAR" "$T/jar1"
req GET /api/projects/p1/next; t2=$(jget "$T/body" 'j["task"]["id"]')
python3 - "$BASE" "$T/jar1" "$c1" "$T/jar2" "$c2" "$t2" <<'PY' && ok || bad "two annotators saving one task at once"
import http.cookiejar, json, sys, threading, urllib.request
base, jar1, c1, jar2, c2, task = sys.argv[1:]
res = {}
barrier = threading.Barrier(2)
def save(who, jarfile, csrf, label):
    cj = http.cookiejar.MozillaCookieJar(jarfile)
    cj.load(ignore_discard=True, ignore_expires=True)
    op = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(cj))
    body = json.dumps({"value": {"labels": [label]}, "status": "submitted"}).encode()
    r = urllib.request.Request(base + "/api/projects/p1/tasks/%s/annotation" % task, body,
                               {"Content-Type": "application/json", "X-CSRF-Token": csrf}, method="PUT")
    barrier.wait()
    with op.open(r) as f:
        res[who] = (f.status, json.load(f))
ts = [threading.Thread(target=save, args=a) for a in (("ann", jar1, c1, "invoice"), ("ann2", jar2, c2, "contract"))]
[t.start() for t in ts]
[t.join() for t in ts]
assert res["ann"][0] == 200 and res["ann2"][0] == 200, res
assert res["ann"][1]["id"] != res["ann2"][1]["id"], res
PY
login_as rev rev-password
req GET "/api/projects/p1/tasks/$t2"; expect_code 200 "the task saved twice"
expect_eq "ann,ann2" "$(jget "$T/body" '",".join(sorted(a["annotator"] for a in j["annotations"]))')" "one annotation each"

# --- review and stats ---------------------------------------------------------------
req GET /api/projects/p1/review; expect_code 200 "the review queue"
[ "$(jget "$T/body" 'len(j["tasks"])')" -ge 1 ] && ok || bad "the queue holds the submitted task: $(head -c 300 "$T/body")"
req POST "/api/projects/p1/annotations/$aid/review" '{"decision":"maybe"}'; expect_code 400 "a decision that is not one"
req POST "/api/projects/p1/annotations/$aid/review" '{"decision":"correct"}'; expect_code 400 "correct without a value"
req POST "/api/projects/p1/annotations/$aid/review" '{"decision":"accept"}'; expect_code 200 "accept"
"$MOAT" -w "$W" audit log --json | python3 -c 'import json,sys; r=json.load(sys.stdin)[-1]; assert r.get("actor")=="rev", r' \
	&& ok || bad "the review's audit record names rev"
req POST "/api/projects/p1/annotations/999999/review" '{"decision":"accept"}'; expect_code 404 "an annotation that does not exist"
login_as ann ann-password
req PUT "/api/projects/p1/tasks/$tid/annotation" '{"value":{"labels":["invoice"]}}'
expect_code 409 "saving an annotation a reviewer accepted"
login_as rev rev-password
req GET /api/projects/p1/stats; expect_code 200 "stats"
[ "$(jget "$T/body" 'j["counts"]["tasks"]')" = 6 ] && ok || bad "stats count the tasks: $(head -c 300 "$T/body")"

# --- admin: suggestion runs, preview, models -----------------------------------------
login_as adm adm-password
req POST /api/projects/p1/suggest '{"model":"not a uri"}'; expect_code 400 "a run with a bad model URI"
req POST /api/projects/p1/suggest '{"model":"openai://127.0.0.1:9/v1/none","template":"{{nope}}"}'
expect_code 400 "a run with a template naming an unknown field"
expect_grep "unknown field" "$T/body" "the template's fault is said"
req POST /api/projects/p1/suggest '{"model":"openai://127.0.0.1:9/v1/none","limit":2,"template":"Kind? {{text}}"}'
expect_code 202 "start a suggestion run (with a template of its own)"
run=$(jget "$T/body" 'j["run"]')
for i in $(seq 1 50); do
	req GET /api/projects/p1/suggest
	st=$(jget "$T/body" '[r["status"] for r in j["runs"] if r["id"]=='"$run"'][0]')
	[ "$st" != running ] && break
	sleep 0.2
done
expect_eq failed "$st" "a run whose model cannot be reached ends failed"
req POST /api/projects/p1/preview "{\"task\":$tid}"; expect_code 200 "the prompt preview"
expect_grep "Classify this document" "$T/body" "the preview renders the schema's prompt"
expect_grep "invoice for" "$T/body" "the preview holds the task's text"
req POST /api/projects/p1/preview "{\"task\":$tid,\"template\":\"T: {{text}}\"}"; expect_code 200 "a preview of another template"
expect_grep '"prompt":"T: Document' "$T/body" "the template given is used"
req POST /api/projects/p1/preview '{"task":0}'; expect_code 400 "a preview of task 0"

# --- the models the page lists: Ollama, a GGUF folder, an OpenAI-compatible server ---
# (a replay of Ollama's API, native and OpenAI-compatible: Ollama cannot be installed here)
need_testdata models
start_fake listed '{"models": {"listed:7b": {}}}' || bad "fake ollama"
serve_stop_all
OLLAMA_HOST="127.0.0.1:$FAKE_PORT" serve_start "$W" --models-dir "$TESTDATA/models" \
	--llm-server "http://127.0.0.1:$FAKE_PORT/v1" || { finish; exit 1; }
login_as adm adm-password
req GET /api/models; expect_code 200 "the models"
for want in "ollama://127.0.0.1:$FAKE_PORT/listed:7b" "openai://127.0.0.1:$FAKE_PORT/v1/listed:7b" \
	    "gguf:$(realpath "$TESTDATA/models/llama-2-tiny-random.gguf")"; do
	if jget "$T/body" '[m["uri"] for m in j["models"]]' | grep -qF "\"$want\""; then ok
	else bad "GET /api/models lists $want: $(head -c 600 "$T/body")"; fi
done

# --- a task's picture: what boxes are drawn on ----------------------------------------
mkdir "$T/pics"
cp "$TESTDATA/corpus/layout-parser-paper-with-table.jpg" "$TESTDATA/corpus/phototest.tif" \
   "$TESTDATA/corpus/multi_page.pdf" "$T/pics/"
expect_rc 0 "$MOAT" -w "$W" ingest "$T/pics"
printf '{"kind": "boxes", "labels": ["table"]}\n' >"$T/boxes.json"
expect_rc 0 "$MOAT" -w "$W" label create b1 --schema "$T/boxes.json" --from images
expect_rc 0 "$MOAT" -w "$W" label create bp --schema "$T/boxes.json" --from pages --raw --where "type = 'pdf'"
pic_task() { sqlite3 "$W/moat.db" "SELECT t.id FROM tasks t JOIN projects p ON p.id = t.project_id WHERE p.name = '$1' AND t.name LIKE '%$2' ORDER BY t.id LIMIT 1"; }
jpg=$(pic_task b1 .jpg); tif=$(pic_task b1 .tif); page=$(pic_task bp .pdf)
login_as ann ann-password
req GET "/api/projects/b1/tasks/$jpg/image"; expect_code 200 "a JPEG task's picture"
expect_grep '^Content-Type: image/jpeg' "$T/hdr" "served as a JPEG"
expect_security_headers "a picture"
cmp -s "$T/body" "$T/pics/layout-parser-paper-with-table.jpg" && ok || bad "the JPEG as ingested, byte for byte"
png_size() { python3 -c 'import struct,sys; d=open(sys.argv[1],"rb").read(); assert d[:8]==b"\x89PNG\r\n\x1a\n"; print("%dx%d" % struct.unpack(">II", d[16:24]))' "$1"; }
req GET "/api/projects/b1/tasks/$tif/image"; expect_code 200 "a TIFF task's picture"
expect_grep '^Content-Type: image/png' "$T/hdr" "a TIFF drawn as PNG"
expect_eq "$(sqlite3 "$W/moat.db" "SELECT width || 'x' || height FROM tasks WHERE id = $tif")" "$(png_size "$T/body")" \
	"the TIFF's PNG has the task's size (boxes are in its pixels)"
req GET "/api/projects/bp/tasks/$page/image"; expect_code 200 "a PDF page's picture"
expect_eq 827x1170 "$(png_size "$T/body")" "an A4 page drawn at 100 dpi"
req GET "/api/projects/p1/tasks/$tid/image"; expect_code 400 "a text task has no picture"
req GET "/api/projects/b1/tasks/$tid/image"; expect_code 404 "a task of another project"
req GET "/api/projects/..%2Fb1/tasks/$jpg/image"; expect_code 400 "a bad project name"
CSRF_H=""; rm -f "$JAR"
req GET "/api/projects/b1/tasks/$jpg/image"; expect_code 401 "not logged in: no picture"
expect_rc 0 "$MOAT" -w "$W" audit verify
finish
