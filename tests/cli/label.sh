#!/bin/bash
# label.sh - `moat label` on real documents of the shared corpus: projects
# from documents, elements, pages, chunks and images with --where, bad
# schemas refused with nothing made, suggestions from the embedded llama.cpp
# and a real llama-server on the tiny model (every one valid for its schema,
# provenance complete), spans whose offsets moat finds itself (a replay of
# Ollama's API answers with given passages: Ollama cannot be installed here),
# a killed suggestion run resumed without duplicates, eval against imported
# gold labels, review from the terminal, stats, rm.
. "$(dirname "$0")/lib.sh"
. "$SRC/tests/llm_servers.sh"
need_testdata corpus
need_testdata models
if "$MOAT" version 2>/dev/null | grep -qiE 'llama.cpp[^0-9]*(none|not built)'; then
	echo "SKIP: this moat has no llama.cpp"; exit 77
fi
C=$TESTDATA/corpus
W=$T/ws
m() { "$MOAT" -w "$W" "$@"; }
jq_py() { "$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); print($1)" "$T/out"; }

"$MOAT" init "$W" >/dev/null
mkdir "$T/in"
cp "$C/fake-text.txt" "$C/wiki.md" "$C/multi_page.pdf" "$C/handbook-1p.docx" "$C/phototest.tif" "$T/in/"
expect_rc 0 m ingest "$T/in"
expect_rc 0 m clean
expect_rc 0 m chunk --max-tokens 200 --name small

cat >"$T/cls.json" <<'EOF'
{"kind": "classification", "labels": [{"name": "finance", "key": "1"}, {"name": "science", "key": "2"},
 {"name": "other", "key": "3", "description": "anything else"}], "guidelines": "Pick one.",
 "prompt": "Classify the text with one of {{labels}}.\n\n{{text}}"}
EOF
printf '{"kind": "spans", "labels": ["PERSON", "PLACE"]}\n' >"$T/spans.json"
printf '{"kind": "boxes", "labels": [{"name": "word", "color": "#00ff00"}]}\n' >"$T/boxes.json"

# --- projects from each source -----------------------------------------------------
expect_rc 0 m label create docs --schema "$T/cls.json" --from documents --json
expect_eq 5 "$(jq_py 'd["tasks"]')" "documents: one task per document (the TIFF's text is OCR's)"
expect_rc 0 m label create pdfs --schema "$T/cls.json" --from documents --where "type = 'pdf'" --json
expect_eq 1 "$(jq_py 'd["tasks"]')" "--where type = 'pdf'"
expect_rc 0 m label create titles --schema "$T/spans.json" --from elements --where "element = 'title' or element = 'heading'" --json
titles=$(jq_py 'd["tasks"]')
expect_rc 0 m label create els --schema "$T/spans.json" --from elements --json
els=$(jq_py 'd["tasks"]')
[ "$titles" -gt 0 ] && [ "$titles" -lt "$els" ] && ok || bad "titles ($titles) are some of the elements ($els)"
expect_rc 0 m label create pages --schema "$T/cls.json" --from pages --where "type = 'pdf'" --json
pdf_pages=$(sqlite3 "$W/moat.db" "SELECT count(DISTINCT e.page) FROM elements e JOIN documents d ON d.id = e.doc_id WHERE d.type = 'pdf' AND e.page > 0")
[ "$pdf_pages" -gt 1 ] && ok || bad "multi_page.pdf has pages ($pdf_pages)"
expect_eq "$pdf_pages" "$(jq_py 'd["tasks"]')" "a task per page of the PDF"
expect_rc 0 m label create chunks --schema "$T/cls.json" --from chunks:small --where "tokens >= 1" --json
[ "$(jq_py 'd["tasks"]')" -ge 4 ] && ok || bad "chunks: a task per chunk"
expect_rc 0 m label create imgs --schema "$T/boxes.json" --from images --json
expect_eq 1 "$(jq_py 'd["tasks"]')" "images: the TIFF"
sqlite3 "$W/moat.db" "SELECT width, height, image FROM tasks t JOIN projects p ON p.id = t.project_id WHERE p.name = 'imgs'" >"$T/img"
expect_grep '^[1-9][0-9]*\|[1-9][0-9]*\|.*phototest.tif$' "$T/img" "an image task knows its size and path"

# refused, with nothing made: a bad schema, a bad source, a bad filter, a
# boxes schema on text, a taken name
printf '{"kind": "classification", "labels": [{"name": "a", "key": "1"}, {"name": "b", "key": "1"}]}' >"$T/dup.json"
expect_rc 1 m label create x --schema "$T/dup.json"
expect_grep "dup.json: field 'labels\[1\].key': duplicate key '1'" "$T/err" "the bad schema is named with its field"
expect_rc 1 m label create x --schema "$T/cls.json" --from paragraphs
expect_grep "give documents, elements, pages" "$T/err" "a bad source"
expect_rc 1 m label create x --schema "$T/cls.json" --where "type = "
expect_grep "--where: at" "$T/err" "a bad filter says where"
expect_rc 1 m label create x --schema "$T/boxes.json" --from documents
expect_grep "boxes schema needs --from images or --from pages" "$T/err" "boxes on text"
expect_rc 1 m label create docs --schema "$T/cls.json"
expect_grep "project 'docs' exists" "$T/err" "a taken name"
expect_rc 2 m label create
expect_rc 0 m label ls --json
expect_eq 7 "$(jq_py 'len(d)')" "only the seven good projects exist"

# --- suggestions: the embedded llama.cpp --------------------------------------------
G="gguf:$TINY"
expect_rc 0 m label suggest docs --model "$G" -j 2 --json
expect_eq 5 "$(jq_py 'd["suggested"]')" "a suggestion per task"
sqlite3 -json "$W/moat.db" "SELECT g.value, g.model, g.model_digest, g.prompt_sha256, g.seed, g.options, g.provenance, g.score FROM suggestions g JOIN tasks t ON t.id = g.task_id JOIN projects p ON p.id = t.project_id WHERE p.name = 'docs'" >"$T/sug.json"
"$PY" - "$T/sug.json" "$G" <<'PY' && ok || bad "suggestions valid and with provenance"
import json, sys
rows, model = json.load(open(sys.argv[1])), sys.argv[2]
assert len(rows) == 5, rows
for r in rows:
    v = json.loads(r["value"])
    assert list(v) == ["labels"] and len(v["labels"]) == 1 and v["labels"][0] in ("finance", "science", "other"), v
    assert r["model"] == model
    assert r["model_digest"].startswith("sha256:") and len(r["model_digest"]) == 71, r
    assert len(r["prompt_sha256"]) == 64 and isinstance(r["seed"], int)
    p = json.loads(r["provenance"])
    for k in ("model", "backend", "model_digest", "template_sha256", "options", "seed", "logprob"):
        assert k in p, (k, p)
    # the score: the geometric mean of the answer's token probabilities
    assert 0 < r["score"] <= 1, r
    assert abs(r["score"] - __import__("math").exp(p["logprob"] / p["logprob_tokens"])) < 1e-9, r
PY
# again: nothing left to do
expect_rc 0 m label suggest docs --model "$G" --json
expect_eq 0 "$(jq_py 'd["tasks"]')" "a second run has nothing to do"
expect_rc 0 m label suggest docs --model "$G" --dry-run
expect_grep "^0 tasks would get" "$T/out" "dry run"

# --- a real llama-server ---------------------------------------------------------------
start_llama_server || bad "llama-server"
U="openai://127.0.0.1:$LS_PORT/v1/tiny"
expect_rc 0 m label suggest pages --model "$U" -j 2 --json
expect_eq "$pdf_pages" "$(jq_py 'd["suggested"]')" "llama-server: a suggestion per page"
sqlite3 "$W/moat.db" "SELECT g.value FROM suggestions g JOIN tasks t ON t.id = g.task_id JOIN projects p ON p.id = t.project_id WHERE p.name = 'pages'" >"$T/pv"
expect_eq "$pdf_pages" "$(grep -cE '^\{"labels":\["(finance|science|other)"\]\}$' "$T/pv")" "llama-server's answers are labels of the set"
expect_eq "$pdf_pages" "$(sqlite3 "$W/moat.db" "SELECT count(*) FROM suggestions g JOIN tasks t ON t.id = g.task_id JOIN projects p ON p.id = t.project_id WHERE p.name = 'pages' AND g.score > 0 AND g.score <= 1")" \
	"llama-server's token log-probabilities give each suggestion a score"

# a real llama-server takes the picture in OpenAI's image_url form and says
# it has no vision projector for it (the tiny model has none)
expect_rc 1 m label suggest imgs --model "$U"
expect_grep "image input is not supported" "$T/err" "llama-server read the image part and wants --mmproj"

# --- spans: moat finds the passages the model names ---------------------------------------
printf 'Jane Roe met Jane Roe in Oslo.\n' >"$T/people.txt"
expect_rc 0 m ingest "$T/people.txt"
expect_rc 0 m clean
expect_rc 0 m label create people --schema "$T/spans.json" --from documents --where "path ~ '*people.txt'" --json
expect_eq 1 "$(jq_py 'd["tasks"]')" "one task"
start_fake spans '{"models": {"m:7b": {}}, "format_answer": {"spans": [{"text": "Jane Roe", "label": "PERSON"}, {"text": "Jane Roe", "label": "PERSON"}, {"text": "Oslo", "label": "PLACE"}, {"text": "Bergen", "label": "PLACE"}]}}' || bad "fake ollama"
expect_rc 0 m label suggest people --model "ollama://127.0.0.1:$FAKE_PORT/m:7b" --json
sqlite3 "$W/moat.db" "SELECT g.value FROM suggestions g JOIN tasks t ON t.id = g.task_id JOIN projects p ON p.id = t.project_id WHERE p.name = 'people'" >"$T/spv"
expect_eq '{"spans":[[0,8,"PERSON"],[13,21,"PERSON"],[25,29,"PLACE"]]}' "$(cat "$T/spv")" \
	"each passage at its own occurrence, one not in the text left out"

# --- boxes: the picture goes to a vision model; boxes cut at its edges ------------------------
# the embedded backend has no vision projector: refused before any work
expect_rc 1 m label suggest imgs --model "$G"
expect_grep "cannot look at images" "$T/err" "boxes with the embedded backend: refused"
expect_rc 0 m label create boxpages --schema "$T/boxes.json" --from pages --where "type = 'pdf'" --json
start_fake boxes '{"models": {"llava:7b": {}}, "format_answer": {"boxes": [{"label": "word", "x": 10, "y": 20, "w": 100, "h": 50}, {"label": "word", "x": -5, "y": -5, "w": 30000, "h": 20}, {"label": "word", "x": 99999, "y": 5, "w": 10, "h": 10}]}}' || bad "fake ollama"
expect_rc 0 m label suggest imgs --model "ollama://127.0.0.1:$FAKE_PORT/llava:7b" --json
expect_rc 0 m label suggest boxpages --model "ollama://127.0.0.1:$FAKE_PORT/llava:7b" --limit 1 --json
expect_eq 1 "$(jq_py 'd["suggested"]')" "a page's boxes"
sqlite3 -json "$W/moat.db" "SELECT p.name AS name, g.value AS value, g.provenance AS prov FROM suggestions g JOIN tasks t ON t.id = g.task_id JOIN projects p ON p.id = t.project_id WHERE p.name IN ('imgs', 'boxpages') ORDER BY p.name" >"$T/bx.json"
bx() { # PROJECT FIELD: the value, or the provenance's field, of its suggestion
	"$PY" -c 'import json,sys; r=[x for x in json.load(open(sys.argv[1])) if x["name"]==sys.argv[2]][0]
print(r["value"] if sys.argv[3]=="value" else json.dumps(json.loads(r["prov"])[sys.argv[3]], separators=(",",":")).strip("\""))' "$T/bx.json" "$1" "$2"
}
iv=$(bx imgs value); isha=$(bx imgs image_sha256); pv=$(bx boxpages value); psize=$(bx boxpages image_size); psha=$(bx boxpages image_sha256)
iw=$(sqlite3 "$W/moat.db" "SELECT width FROM tasks t JOIN projects p ON p.id = t.project_id WHERE p.name = 'imgs'")
expect_eq "{\"boxes\":[[10,20,100,50,\"word\"],[0,0,$iw,15,\"word\"]]}" "$iv" \
	"the image's boxes: one as given, one cut at the edges, one outside dropped"
expect_eq "[827,1170]" "$psize" "a PDF page drawn at 100 dpi (A4: 827x1170 pixels)"
expect_eq "{\"boxes\":[[10,20,100,50,\"word\"],[0,0,827,15,\"word\"]]}" "$pv" "the page's boxes cut at its edges"
# what the model was shown: the TIFF drawn as PNG, the page as PNG, with
# the size in the prompt; the same picture's digest in the provenance
"$PY" - "$FAKE_LOG" "$isha" "$psha" >"$T/shown" <<'PY' || bad "the fake saw the pictures: $(cat "$T/shown")"
import base64, hashlib, json, sys
seen = []
for line in open(sys.argv[1]):
    b = json.loads(line).get("body") or {}
    for m in b.get("messages") or []:
        for im in m.get("images") or []:
            raw = base64.b64decode(im)
            assert raw[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
            seen.append((hashlib.sha256(raw).hexdigest(), m["content"]))
assert len(seen) == 2, seen
assert {s[0] for s in seen} == {sys.argv[2], sys.argv[3]}, "digests differ from the provenance"
assert any("827x1170 pixels" in s[1] for s in seen), "the page's size is in the prompt"
print("ok")
PY
expect_eq ok "$(cat "$T/shown")" "the model saw the pictures whose digests the provenance keeps"

# --- --prompt-file: a template instead of the schema's ------------------------------------------
printf 'Sort it into {{labels}}: {{text}}' >"$T/tpl.txt"
printf 'Sort it: {{nope}}' >"$T/badtpl.txt"
start_fake tpl '{"models": {"m:7b": {}}}' || bad "fake ollama"
expect_rc 1 m label suggest pdfs --model "ollama://127.0.0.1:$FAKE_PORT/m:7b" --prompt-file "$T/badtpl.txt"
expect_grep "unknown field '\{\{nope\}\}'" "$T/err" "a template with an unknown field: refused"
expect_rc 0 m label suggest pdfs --model "ollama://127.0.0.1:$FAKE_PORT/m:7b" --prompt-file "$T/tpl.txt" --json
expect_eq 1 "$(jq_py 'd["suggested"]')" "a suggestion with the template given"
"$PY" -c 'import json,sys; b=[json.loads(l).get("body") or {} for l in open(sys.argv[1])][-1]; print(b["messages"][-1]["content"][:80])' "$FAKE_LOG" >"$T/sent"
expect_grep '^Sort it into finance, science, other \(anything else\): ' "$T/sent" "the model got the template given"
tsha=$(sha256sum "$T/tpl.txt" | cut -c1-64)
sqlite3 -json "$W/moat.db" "SELECT g.provenance AS prov FROM suggestions g JOIN tasks t ON t.id = g.task_id JOIN projects p ON p.id = t.project_id WHERE p.name = 'pdfs' AND g.model LIKE 'ollama:%'" >"$T/tp.json"
expect_eq "$tsha" "$("$PY" -c 'import json,sys; print(json.loads(json.load(open(sys.argv[1]))[0]["prov"])["request_template_sha256"])' "$T/tp.json")" \
	"the provenance keeps the template's digest"
expect_grep "\"template_sha256\": ?\"$tsha\"" <("$MOAT" -w "$W" audit log --json) "the audit record too"

# --- killed and resumed: every task once, none twice --------------------------------------
start_fake slow '{"delay": 0.2, "models": {"m:7b": {}}}' || bad "fake ollama"
S="ollama://127.0.0.1:$FAKE_PORT/m:7b"
expect_rc 0 m label create many --schema "$T/cls.json" --from elements --json
many=$(jq_py 'd["tasks"]')
count_many() { sqlite3 "$W/moat.db" "SELECT count(*) FROM suggestions g JOIN tasks t ON t.id = g.task_id JOIN projects p ON p.id = t.project_id WHERE p.name = 'many'"; }
# killed once 3 suggestions are stored, however slow the machine is (a
# suggestion takes 0.2 s of the fake's time: the run is far from its end)
"$MOAT" -w "$W" label suggest many --model "$S" >/dev/null 2>&1 &
kpid=$!
for _ in $(seq $((WAIT_S * 20))); do
	[ "$(count_many)" -ge 3 ] && break
	kill -0 "$kpid" 2>/dev/null || break
	sleep 0.05
done
kill -9 "$kpid" 2>/dev/null
wait "$kpid" 2>/dev/null
[ $? = 137 ] && ok || bad "the run was killed mid-way"
first=$(count_many)
[ "$first" -gt 0 ] && [ "$first" -lt "$many" ] && ok || bad "killed after some ($first of $many)"
expect_rc 0 m label suggest many --model "$S" -j 4 --json
expect_eq $((many - first)) "$(jq_py 'd["suggested"]')" "the rerun does only what was missing"
expect_eq "$many|$many" "$(sqlite3 "$W/moat.db" "SELECT count(*), count(DISTINCT g.task_id) FROM suggestions g JOIN tasks t ON t.id = g.task_id JOIN projects p ON p.id = t.project_id WHERE p.name = 'many'")" \
	"one suggestion per task, none twice"

# --- eval against gold labels brought in with import; review; stats ---------------------------
"$PY" - "$T/gold.jsonl" <<'PY'
import json, sys
with open(sys.argv[1], "w") as f:
    for i in range(12):
        lab = ["finance", "science", "other"][i % 3]
        f.write(json.dumps({"id": "g%d" % i, "text": "item %d about %s" % (i, lab), "labels": [lab]}) + "\n")
PY
cat >"$T/gold-ls.json" <<'EOF'
EOF
"$PY" - "$T/gold.jsonl" "$T/gold-ls.json" <<'PY'
import json, sys
out = []
for line in open(sys.argv[1]):
    r = json.loads(line)
    out.append({"id": len(out) + 1, "data": {"text": r["text"]}, "annotations": [{"result": [
        {"type": "choices", "from_name": "label", "to_name": "text", "value": {"choices": r["labels"]}}]}]})
json.dump(out, open(sys.argv[2], "w"))
PY
expect_rc 0 m import --format label-studio "$T/gold-ls.json" --project gold
expect_rc 0 m label suggest gold --model "$G" --json
expect_rc 0 m label suggest gold --model "$U" --json
expect_rc 0 m label eval gold --model "$G" --model "$U" --json
cp "$T/out" "$T/eval.json"
sqlite3 -json "$W/moat.db" "SELECT a.value AS truth, g.value AS pred, g.model FROM annotations a JOIN suggestions g ON g.task_id = a.task_id JOIN tasks t ON t.id = a.task_id JOIN projects p ON p.id = t.project_id WHERE p.name = 'gold' AND a.status = 'accepted'" >"$T/pairs.json"
"$PY" - "$T/eval.json" "$T/pairs.json" "$G" "$U" <<'PY' && ok || bad "eval's accuracy is the share of right suggestions, per model"
import json, sys
ev, pairs = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert [e["model"] for e in ev] == sys.argv[3:5], ev
for e in ev:
    mine = [p for p in pairs if p["model"] == e["model"]]
    right = sum(json.loads(p["truth"])["labels"] == json.loads(p["pred"])["labels"] for p in mine)
    assert e["tasks"] == 12 and e["predicted"] == 12, e
    assert abs(e["accuracy"] - right / 12) < 1e-12, (e, right)
    assert 0 <= e["macro_f1"] <= 1 and e["tokens_per_s"] > 0, e
PY
expect_rc 0 m label eval gold --model "$G"
expect_grep "accuracy" "$T/out" "a table for people"

expect_rc 0 m import --format label-studio "$T/gold-ls.json" --project rev --status submitted
expect_rc 0 m label review rev --json
expect_eq 12 "$(jq_py 'len(d["tasks"])')" "twelve submitted annotations wait for review"
a1=$(jq_py 'd["tasks"][0]["annotations"][0]["id"]')
a2=$(jq_py 'd["tasks"][1]["annotations"][0]["id"]')
a3=$(jq_py 'd["tasks"][2]["annotations"][0]["id"]')
expect_rc 0 m label review rev --accept "$a1"
expect_rc 0 m label review rev --reject "$a2"
expect_rc 0 m label review rev --correct "$a3" '{"labels": ["finance"]}'
expect_rc 1 m label review rev --correct "$a3" '{"labels": ["nonsense"]}'
expect_grep "'nonsense' is not a label" "$T/err" "a correction must fit the schema"
expect_rc 0 m label stats rev --json
expect_eq "1 1 9" "$(jq_py '"%d %d %d" % (d["counts"]["accepted"] - 1, d["counts"]["rejected"] - 1, d["counts"]["submitted"])')" \
	"stats count the decisions (and the correction as accepted, the corrected as rejected)"
expect_rc 0 m label stats rev
expect_grep "^project rev" "$T/out" "stats for people"
expect_rc 0 m audit log --json
expect_grep "\"actor\": \"$(id -un)\"" "$T/out" "review decisions are audited with the reviewer"
expect_rc 0 m audit verify

# --- boxes: eval's mAP and the annotators' box F1, worked by hand ---------------------------
# two images of 1000 x 1000: on the first both annotators and the model draw
# the same box; on the second the second annotator and the model draw
# elsewhere (IoU 0).  Model: a hit at score 0.9, a miss at 0.8, two boxes
# to find: precision 1 then 1/2 at recall 1/2, so AP = mAP = 0.5.  The
# annotators: one pair matched, one not: F1 = 1 / (1 + 1) = 0.5.
"$PY" - "$T/boxes-ls.json" <<'PY'
import json, sys
def box(x, y, who=None, model=None, score=None):
    r = {"original_width": 1000, "original_height": 1000, "from_name": "label", "to_name": "image",
         "type": "rectanglelabels", "value": {"x": x, "y": y, "width": 10, "height": 10,
                                               "rotation": 0, "rectanglelabels": ["word"]}}
    return r
tasks = []
for i, (a, b, p) in enumerate([((10, 10), (10, 10), (10, 10)), ((50, 50), (5, 80), (5, 80))]):
    tasks.append({"id": i + 1, "data": {"image": "img%d.png" % i},
                  "annotations": [{"completed_by": 1, "result": [box(*a)]},
                                  {"completed_by": 2, "result": [box(*b)]}],
                  "predictions": [{"model_version": "det-a", "score": [0.9, 0.8][i], "result": [box(*p)]}]})
json.dump(tasks, open(sys.argv[1], "w"))
PY
expect_rc 0 m import --format label-studio "$T/boxes-ls.json" --project ag --status submitted
expect_rc 0 m label stats ag --json
expect_eq "0.5 2" "$(jq_py '"%s %d" % (d["agreement"]["box_f1"], len(d["agreement"]["annotators"]))')" \
	"box F1 between the two annotators"
"$PY" - "$T/boxes-ls.json" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
for x in t:
    x["annotations"] = x["annotations"][:1]  # the first annotator's boxes are the truth
json.dump(t, open(sys.argv[1], "w"))
PY
expect_rc 0 m import --format label-studio "$T/boxes-ls.json" --project ev
expect_rc 0 m label eval ev --model det-a --json
expect_eq "0.5 2 2" "$(jq_py '"%s %d %d" % (d[0]["box_map50"], d[0]["tasks"], d[0]["predicted"])')" \
	"box mAP@0.5 of imported predictions"

expect_rc 0 m label rm many --json
expect_eq "$many" "$(jq_py 'd["removed"]["tasks"]')" "rm says what it removed"
expect_eq 0 "$(sqlite3 "$W/moat.db" "SELECT count(*) FROM tasks t LEFT JOIN projects p ON p.id = t.project_id WHERE p.id IS NULL")" "no task outlives its project"
expect_rc 1 m label stats many
expect_grep "no project 'many'" "$T/err" "a removed project is gone"
finish
