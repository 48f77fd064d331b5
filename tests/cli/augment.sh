#!/bin/bash
# augment.sh - `moat augment` on real documents of the shared corpus: recipes
# run on the embedded llama.cpp and a real llama-server with the tiny model
# (random weights: the mechanics, not the quality): every stored record valid
# for its recipe's schema, provenance complete, --dry-run sends nothing, the
# same seed gives the same records; screening with answers we control (a
# replay of Ollama's API, tests/fake_ollama.py: Ollama cannot be installed
# here): a planted e-mail address rejected (--pii-reject) or de-identified
# (the workspace's clean policy), a record that repeats its source rejected,
# spans found again by their surface strings, a paraphrase that drops one
# rejected; a run on llama-server killed and resumed without duplicates;
# several requests in flight (seen by the replay); accepted records are
# submitted tasks of the project that review and export take, exports mark
# them and the card counts them; ls and show; bad recipe files refused.
. "$(dirname "$0")/lib.sh"
. "$SRC/tests/llm_servers.sh"
need_testdata corpus
need_testdata models
if "$MOAT" version 2>/dev/null | grep -qiE 'llama.cpp[^0-9]*(none|not built)'; then
	echo "SKIP: this moat has no llama.cpp"; exit 77
fi
C=$TESTDATA/corpus
W=$T/ws
G="gguf:$TINY"
m() { "$MOAT" -w "$W" "$@"; }
jq_py() { "$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); print($1)" "$T/out"; }
sq() { if [ "$1" = -json ]; then shift; sqlite3 -json "$W/moat.db" "$@"; else sqlite3 "$W/moat.db" "$@"; fi; }

"$MOAT" init "$W" >/dev/null
mkdir "$T/in"
cp "$C/fake-text.txt" "$C/wiki.md" "$T/in/"
# the workspace's clean policy: the types a random model's words cannot
# look like by chance (names and places from gazetteers would)
cat >"$T/policy.ini" <<'EOF'
[pii]
entities = EMAIL_ADDRESS, PHONE_NUMBER, CREDIT_CARD, US_SSN, IBAN_CODE
[operators]
DEFAULT = replace
EOF
expect_rc 0 m ingest "$T/in"
expect_rc 0 m clean --pii "$T/policy.ini"
expect_rc 0 m chunk --max-tokens 200 --name small
chunks=$(sq "SELECT count(*) FROM chunks c JOIN chunk_sets s ON s.id = c.set_id WHERE s.name = 'small'")
[ "$chunks" -ge 2 ] && ok || bad "chunks to work on ($chunks)"

# --- dry run: the prompts, nothing sent, nothing stored ---------------------------
closed_port || bad "closed port"
expect_rc 0 m augment qa --model "openai://127.0.0.1:$CLOSED_PORT/v1/x" --project qa --n 2 --dry-run
expect_eq "$((chunks * 2))" "$(grep -c '^--- record ' "$T/out")" "a prompt per record to make"
expect_grep '^Passage:$' "$T/out" "the qa template with the chunk"
expect_grep "^$((chunks * 2)) prompts would be sent" "$T/out" "the count"
expect_eq "0 0" "$(sq 'SELECT count(*) FROM aug_records') $(sq 'SELECT count(*) FROM aug_runs')" "a dry run stores nothing"
# --shard I/N: the shards' records together are the run's, each in one shard
grep '^--- record ' "$T/out" | sort >"$T/keys.all"
: >"$T/keys.shards"
for i in 0 1 2; do
	expect_rc 0 m augment qa --model "openai://127.0.0.1:$CLOSED_PORT/v1/x" --project qa --n 2 --dry-run \
		--shard "$i/3"
	grep '^--- record ' "$T/out" >>"$T/keys.shards"
done
expect_eq "$(cat "$T/keys.all")" "$(sort "$T/keys.shards")" "3 augment shards make the run's records, each once"
expect_rc 2 m augment qa --model "openai://127.0.0.1:$CLOSED_PORT/v1/x" --project qa --shard 3/3 --dry-run
expect_grep "shard takes I/N" "$T/err" "a bad --shard is a usage error"

# --- the embedded backend: qa, instruct --------------------------------------------
check_records() { # RUN RECIPE: every stored record valid for the schema, provenance complete
	"$MOAT" -w "$W" augment show "$1" --json >"$T/show.json" || { bad "show $1"; return; }
	"$MOAT" -w "$W" augment recipe "$2" >"$T/recipe.json" || { bad "recipe $2"; return; }
	"$PY" - "$T/show.json" "$2" "$T/recipe.json" <<'PY' && ok || bad "run $1 ($2): records valid, provenance complete"
import json, sys
import hashlib
run, recipe = json.load(open(sys.argv[1])), sys.argv[2]
tsha = hashlib.sha256(json.load(open(sys.argv[3]))["template"].encode()).hexdigest()
fields = {"qa": ["answer", "key_phrase", "question"], "instruct": ["instruction", "response"],
          "paraphrase": ["text"], "balance": ["text"], "preference": ["response_a", "response_b"]}[recipe]
assert run["recipe"] == recipe and run["records"], run
for r in run["records"]:
    assert sorted(r["value"]) == fields and all(isinstance(r["value"][f], str) for f in fields), r["value"]
    assert r["status"] in ("accepted", "rejected")
    assert (r["status"] == "rejected") == (r["reason"] is not None), r
    assert r["reason"] in (None, "pii", "duplicate", "near_duplicate", "length", "check"), r
    assert (r["task_id"] is not None) == (r["status"] == "accepted"), r
    assert r["model"] == run["model"] and r["model_digest"].startswith("sha256:"), r
    assert len(r["template_sha256"]) == 64 and len(r["prompt_sha256"]) == 64, r
    assert isinstance(r["seed"], int) and isinstance(r["options"], dict), r
    assert r["sources"] and all(isinstance(s, str) for s in r["sources"]), r
    p = r["provenance"]
    for k in ("model", "backend", "model_digest", "template_sha256", "request_template_sha256",
              "prompt_sha256", "options", "seed", "sources", "recipe", "recipe_sha256", "key", "moat"):
        assert k in p, (k, p)
    assert p["seed"] == r["seed"] and p["sources"] == r["sources"] and p["key"] == r["key"], p
    assert p["request_template_sha256"] == r["template_sha256"] == tsha, (p, tsha)
    assert p["prompt_sha256"] == r["prompt_sha256"] and p["recipe_sha256"] == run["recipe_sha256"], p
PY
}
# runs_ok CMD...: exit 0, or 1 where the only failures are answers the model
# layer let past their schema's string lengths (the tiny model's byte tokens:
# reported; such a request is not stored, and asked again by the next run)
runs_ok() {
	"$@" >"$T/out" 2>"$T/err"
	local rc=$?
	if [ "$rc" = 0 ] || { [ "$rc" = 1 ] && grep -q 'does not follow the constraint' "$T/out"; }; then ok
	else bad "'$*' exited $rc: $(head -c 400 "$T/err")"; fi
}
runs_ok m augment qa --model "$G" --project qa --n 2 --seed 7 -j 2 --json
cp "$T/out" "$T/qa1.json"
run1=$(jq_py 'd["run"]')
n1=$(jq_py 'd["accepted"] + d["rejected"]')
failed1=$(jq_py 'd["failed"]')
expect_eq "$((chunks * 2))" "$((n1 + failed1))" "a record (or a failure) per chunk and number"
[ "$n1" -gt 0 ] && ok || bad "records were stored ($n1)"
check_records "$run1" qa
# screened: the qa check (the key phrase must be in the chunk): a random
# model's phrase is not, so qa's rejects say so
expect_grep '"check": [1-9]' "$T/qa1.json" "qa's key-phrase check rejects"

# the same seed, another project: the same records
runs_ok m augment qa --model "$G" --project qa-again --n 2 --seed 7 -j 2 --json
run2=$(jq_py 'd["run"]')
sq "SELECT value, seed FROM aug_records WHERE aug_run = $run1 ORDER BY seed" >"$T/s1"
sq "SELECT value, seed FROM aug_records WHERE aug_run = $run2 ORDER BY seed" >"$T/s2"
[ -s "$T/s1" ] && cmp -s "$T/s1" "$T/s2" && ok || bad "the same seed gives the same records: $(diff "$T/s1" "$T/s2" | head -5)"
expect_rc "$([ "$failed1" = 0 ] && echo 0 || echo 1)" m augment qa --model "$G" --project qa --n 2 --seed 7 --json
expect_eq "0 $n1" "$(jq_py '"%d %d" % (d["accepted"] + d["rejected"], d["skipped"])')" "a second run makes nothing again"

runs_ok m augment instruct --model "$G" --project inst --seed 3 --json
check_records "$(jq_py 'd["run"]')" instruct
expect_eq "$(sq "SELECT count(*) FROM clean_docs WHERE status = 'kept'")" "$(jq_py 'd["accepted"] + d["rejected"] + d["failed"]')" \
	"instruct: one record per document"

# --- a real llama-server -------------------------------------------------------------
start_llama_server || bad "llama-server"
U="openai://127.0.0.1:$LS_PORT/v1/tiny"
runs_ok m augment qa --model "$U" --project qa --n 1 -j 2 --json
[ "$(jq_py 'd["accepted"] + d["rejected"]')" -gt 0 ] && ok || bad "llama-server: records stored"
check_records "$(jq_py 'd["run"]')" qa

# --- screening, with answers we control -------------------------------------------------
# a labeled project: one spans task, accepted
printf '{"text": "Jane Roe met Ola Nordmann in Oslo.", "label": [[0, 8, "PERSON"], [13, 25, "PERSON"], [29, 33, "PLACE"]]}\n' >"$T/people.jsonl"
expect_rc 0 m import --format doccano "$T/people.jsonl" --project people
fake_run() { # NAME ANSWER [ARGS...]: a paraphrase answered with ANSWER; prints the record
	local name=$1 ans=$2
	shift 2
	start_fake "$name" "{\"models\": {\"m:7b\": {}}, \"format_answer\": $ans}" || bad "fake ollama"
	m augment paraphrase --model "ollama://127.0.0.1:$FAKE_PORT/m:7b" --project people "$@" --json >"$T/out" 2>"$T/err"
	sq -json "SELECT status, reason, detail, value, task_id, provenance FROM aug_records WHERE aug_run = $(jq_py 'd["run"]')" >"$T/$name.rec"
}
rec() { "$PY" -c 'import json,sys; r=json.load(open(sys.argv[1]))[0]; v=r[sys.argv[2]]; print(v if v is not None else "null")' "$T/$1.rec" "$2"; }

fake_run repeat '{"text": "Jane Roe met Ola  Nordmann in Oslo."}'
expect_eq "rejected duplicate" "$(rec repeat status) $(rec repeat reason)" "a record that repeats its source is rejected"
expect_grep 'repeats its source task:' "$T/repeat.rec" "the reason names the source"

fake_run email '{"text": "Jane Roe wrote to jane.roe@example.com about Ola Nordmann in Oslo."}' --pii-reject
expect_eq "rejected pii" "$(rec email status) $(rec email reason)" "a planted e-mail address is rejected (--pii-reject)"
expect_grep 'EMAIL_ADDRESS' "$T/email.rec" "the reason names the type"
expect_eq null "$(rec email task_id)" "a reject makes no task"

fake_run deid '{"text": "Ola Nordmann asked Jane Roe in Oslo to write to ola@example.org."}'
expect_eq "accepted null" "$(rec deid status) $(rec deid reason)" "with the policy's operator the address is replaced"
expect_no_value text "$T/deid.rec" "the address is gone from the record" --full "ola@example.org"
expect_grep 'deidentified' "$T/deid.rec" "the provenance says what was replaced"
tid=$(rec deid task_id)
expect_eq "synthetic|1" "$(sq "SELECT source, cleaned FROM tasks WHERE id = $tid")" "the task is synthetic"
expect_eq '{"spans":[[0,12,"PERSON"],[19,27,"PERSON"],[31,35,"PLACE"]]}|submitted|augment:paraphrase' \
	"$(sq "SELECT value, status, annotator FROM annotations WHERE task_id = $tid")" \
	"the spans found again in the variant by their strings; the annotation is submitted"

fake_run drop '{"text": "Jane Roe met someone in Oslo."}'
expect_eq "rejected check" "$(rec drop status) $(rec drop reason)" "a variant that loses a span is rejected"
expect_grep "Ola Nordmann" "$T/drop.rec" "the reason names the span"

fake_run short '{"text": "Jane Roe, Ola Nordmann, Oslo: the same three again, in another order."}'
fake_run twin '{"text": "Jane Roe, Ola Nordmann, Oslo: the same three again, in another order."}'
expect_eq "rejected duplicate" "$(rec twin status) $(rec twin reason)" "a record the workspace has is rejected"

# --- balance: new examples of the labels under the largest one's count ---------------
printf '%s\n' '{"text": "Invoice 17 is due in March.", "label": ["finance"]}' \
	'{"text": "The budget grew by a tenth.", "label": ["finance"]}' \
	'{"text": "Quarterly revenue fell.", "label": ["finance"]}' \
	'{"text": "Cells divide by mitosis.", "label": ["science"]}' >"$T/cls.jsonl"
expect_rc 0 m import --format doccano "$T/cls.jsonl" --project topics
start_fake bal '{"models": {"m:7b": {}}, "format_answer": {"text": "Photosynthesis turns light into sugar in leaves."}}' || bad "fake ollama"
expect_rc 0 m augment balance --model "ollama://127.0.0.1:$FAKE_PORT/m:7b" --project topics --json
expect_eq "1 1 duplicate" "$(jq_py '"%d %d %s" % (d["accepted"], d["rejected"], ",".join(d["reasons"]))')" \
	"science gets 2 more (to finance's 3): the first accepted, its twin rejected"
expect_eq '{"labels":["science"]}' "$(sq "SELECT a.value FROM annotations a JOIN tasks t ON t.id = a.task_id WHERE t.source = 'synthetic' AND t.project_id = (SELECT id FROM projects WHERE name = 'topics')")" \
	"the new example carries the label it was made for"
"$PY" -c 'import json,sys; b=[json.loads(l).get("body") or {} for l in open(sys.argv[1])]; m=[x for x in b if x.get("messages")][-1]["messages"][-1]["content"]; print(m)' "$FAKE_LOG" >"$T/sent"
expect_grep "example of the label 'science'" "$T/sent" "the prompt asks for the label"
expect_grep '^- Cells divide by mitosis\.$' "$T/sent" "few-shot from the label's annotated examples"

# --- preference: two responses to one prompt, at two temperatures ---------------------
start_fake pref '{"models": {"m:7b": {}}, "format_answer": {"response": "It opens at nine."}}' || bad "fake ollama"
expect_rc 0 m augment preference --model "ollama://127.0.0.1:$FAKE_PORT/m:7b" --project pref --limit 1 --json
expect_eq 1 "$(jq_py 'd["accepted"]')" "a preference record"
sq -json "SELECT t.meta AS meta, (SELECT count(*) FROM annotations a WHERE a.task_id = t.id) AS n, p.schema AS schema FROM tasks t JOIN projects p ON p.id = t.project_id WHERE p.name = 'pref'" >"$T/pref.json"
expect_eq "It opens at nine.|It opens at nine.|0|preference" "$("$PY" -c 'import json,sys; r=json.load(open(sys.argv[1]))[0]; m=json.loads(r["meta"])
print("%s|%s|%d|%s" % (m["response_a"], m["response_b"], r["n"], json.loads(r["schema"])["kind"]))' "$T/pref.json")" \
	"the task holds both responses, a person chooses; a preference project was made"
"$PY" -c 'import json,sys; b=[json.loads(l).get("body") or {} for l in open(sys.argv[1])]; print(" ".join(str(x["options"]["temperature"]) for x in b if x.get("messages")))' "$FAKE_LOG" >"$T/temps"
expect_eq "0.3 1.2" "$(cat "$T/temps")" "one request at each temperature"

# --- review and export take the records; the export marks them ------------------------
expect_rc 0 m label review people --json
expect_grep 'augment:paraphrase' "$T/out" "synthetic records wait for review"
expect_rc 0 m export --format jsonl --what annotations --project people --status submitted --out "$T/exp"
expect_grep '"synthetic":true' "$T/exp/train.jsonl" "the export marks them"
expect_grep '[0-9]+ of the records (is|are) synthetic' "$T/exp/README.md" "the card counts them"
expect_eq "$(sq "SELECT count(*) FROM tasks t JOIN projects p ON p.id = t.project_id WHERE p.name = 'people' AND t.source = 'synthetic'")" \
	"$(grep -c '"synthetic":true' "$T/exp/train.jsonl")" "every synthetic record is marked"

# --- killed and resumed on the real llama-server: every record once ----------------------
total=$((chunks * 6))
count_k() { sq "SELECT count(*) FROM aug_records r JOIN projects p ON p.id = r.project_id WHERE p.name = 'killed'"; }
"$MOAT" -w "$W" augment qa --model "$U" --project killed --n 6 >/dev/null 2>&1 &
kpid=$!
for _ in $(seq $((WAIT_S * 20))); do
	[ "$(count_k)" -ge 3 ] && break
	kill -0 "$kpid" 2>/dev/null || break
	sleep 0.05
done
kill -9 "$kpid" 2>/dev/null
wait "$kpid" 2>/dev/null
[ $? = 137 ] && ok || bad "the run was killed mid-way"
first=$(count_k)
[ "$first" -gt 0 ] && [ "$first" -lt "$total" ] && ok || bad "killed after some ($first of $total)"
runs_ok m augment qa --model "$U" --project killed --n 6 -j 2 --json
expect_eq "$((total - first)) $first" "$(jq_py '"%d %d" % (d["accepted"] + d["rejected"] + d["failed"], d["skipped"])')" \
	"the rerun does only what was missing"
stored=$(count_k)
expect_eq "$stored" "$(sq "SELECT count(DISTINCT key) FROM aug_records r JOIN projects p ON p.id = r.project_id WHERE p.name = 'killed'")" \
	"one record per key, none twice"
expect_eq "$(sq "SELECT count(*) FROM aug_records r JOIN projects p ON p.id = r.project_id WHERE p.name = 'killed' AND status = 'accepted'")" \
	"$(sq "SELECT count(*) FROM tasks t JOIN projects p ON p.id = t.project_id WHERE p.name = 'killed'")" \
	"a task per accepted record, none twice"

# several requests in flight: the replay of Ollama's API saw them at once
start_fake slow '{"delay": 0.2, "models": {"m:7b": {}}}' || bad "fake ollama"
expect_rc 0 m augment instruct --model "ollama://127.0.0.1:$FAKE_PORT/m:7b" --project inflight --n 4 -j 4 --json
[ "$(cat "$FAKE_LOG.inflight" 2>/dev/null || echo 0)" -ge 2 ] && ok || bad "-j 4 sends requests at once ($(cat "$FAKE_LOG.inflight" 2>/dev/null))"

# --- ls, show --------------------------------------------------------------------------
expect_rc 0 m augment ls --json
expect_eq "$(sq 'SELECT count(*) FROM aug_runs')" "$(jq_py 'len(d)')" "ls lists every run"
expect_rc 0 m augment ls
expect_grep 'paraphrase +people .* duplicate=1' "$T/out" "ls counts rejects by reason"
expect_rc 0 m augment show "$run1"
expect_grep 'rejected \(check: ' "$T/out" "show gives each reject its reason"
expect_rc 1 m augment show 9999
expect_grep "no augment run 9999" "$T/err" "an unknown run"

# --- recipe files ----------------------------------------------------------------------
cat >"$T/faq.json" <<'EOF'
{"name": "faq", "kind": "qa", "from": "chunks", "passage": true,
 "template": "Write a frequently asked question this passage answers.\n\n{{text}}",
 "schema": {"type": "object", "properties": {"question": {"type": "string", "maxLength": 200},
            "answer": {"type": "string", "maxLength": 400}}, "required": ["question", "answer"]},
 "text_field": "question", "answer_field": "answer", "min_chars": 1, "max_chars": 400}
EOF
expect_rc 0 m augment faq --recipe-file "$T/faq.json" --model "$G" --project faq --dry-run
expect_grep '^Write a frequently asked question' "$T/out" "a recipe file's template"
printf '{"name": "x", "kind": "qa", "template": "{{nope}}", "schema": {"type": "object"}, "text_field": "q"}' >"$T/bad1.json"
expect_rc 1 m augment x --recipe-file "$T/bad1.json" --model "$G" --project faq
expect_grep "bad1.json: field 'template': unknown field '\{\{nope\}\}'" "$T/err" "an unknown template field"
printf '{"name": "x", "kind": "qa", "template": "{{text}}", "schema": {"type": "object", "properties": {"q": {"type": "string"}}}, "text_field": "a", "answer_field": "q"}' >"$T/bad2.json"
expect_rc 1 m augment x --recipe-file "$T/bad2.json" --model "$G" --project faq
expect_grep "field 'text_field': names no string property" "$T/err" "a field the schema lacks"
printf '{"name": "x", "kind": "qa", "colour": 1}' >"$T/bad3.json"
expect_rc 1 m augment x --recipe-file "$T/bad3.json" --model "$G" --project faq
expect_grep "field 'colour': unknown" "$T/err" "an unknown key"
expect_rc 1 m augment nope --model "$G" --project faq
expect_grep "no recipe 'nope'" "$T/err" "an unknown recipe"
expect_rc 1 m augment paraphrase --model "$G" --project nothere
expect_grep "no project 'nothere'" "$T/err" "paraphrase needs a labeled project"
expect_rc 2 m augment qa --project x
expect_eq 0 "$(sq "SELECT count(*) FROM projects WHERE name IN ('faq', 'nothere', 'x')")" "refused runs make no project"
expect_rc 0 m audit verify
finish
