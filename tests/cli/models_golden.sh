#!/bin/bash
# models_golden.sh - known-good outputs that travel with the models, with the
# real tiny GGUF ($TESTDATA/models) through llama.cpp inside moat and through
# llama-server of the pinned llama.cpp:
#   - bundle --golden records every prompt's answer into golden.json, listed
#     in SHA256SUMS and covered by the signature;
#   - verify --golden and doctor --golden find the recorded answers again when
#     nothing changed (embedded, and llama-server named with --model);
#   - another model under the same name is caught and named (its digest);
#   - a prompt or option edited in golden.json breaks SHA256SUMS, and with
#     SHA256SUMS rewritten to match, the signature;
#   - bad prompt files get one line naming the file and the line;
#   - models diff compares two models on the same prompts.
. "$(dirname "$0")/lib.sh"
. "$SRC/tests/llm_servers.sh"
need_testdata models
if ! have_llama; then
	echo "SKIP: moat built without llama.cpp"; exit 77
fi

S=$T/staging; mk_store "$S"
B=$T/media/bundle
"$MOAT" keys generate --out "$T/key" >/dev/null
cat >"$T/prompts.jsonl" <<'EOF'
# known-good prompts
{"id": "hello", "prompt": "Say hello."}
{"id": "count", "prompt": "Count from one to five:", "max_tokens": 12}
{"prompt": "Name a colour.", "system": "Answer in one word."}
EOF

expect_rc 0 "$MOAT" models bundle tiny:latest --models-dir "$S" --to "$B" --sign "$T/key" \
	--golden "$T/prompts.jsonl"
expect_grep 'golden answers to 3 prompts' "$T/out" "bundle says it carries the golden answers"
grep -q '  golden.json$' "$B/SHA256SUMS" && ok || bad "golden.json is not in SHA256SUMS"
(cd "$B" && sha256sum -c --quiet SHA256SUMS) && ok || bad "sha256sum -c fails with golden.json"
"$PY" - "$B/golden.json" "$B/bundle.json" <<'PY' && ok || bad "golden.json lacks prompts, options, answers or the runtime"
import json, sys
g = json.load(open(sys.argv[1])); b = json.load(open(sys.argv[2]))
assert g["format"] == "moat-golden" and b["golden"] == "golden.json"
assert g["options"]["seed"] == 42 and g["options"]["temperature"] == 0 and g["options"]["n_ctx"] == 2048
assert [p["id"] for p in g["prompts"]] == ["hello", "count", "p4"], g["prompts"]
assert g["prompts"][1]["max_tokens"] == 12 and g["prompts"][2]["system"] == "Answer in one word."
m = g["models"][0]
assert m["name"] == "tiny:latest" and m["uri"] == "store:tiny:latest"
assert m["runtime"]["name"] == "llama.cpp (built in)" and m["runtime"]["version"], m["runtime"]
assert m["runtime"]["model_digest"].startswith("sha256:")
for o in m["outputs"]:
    assert o["token_count"] >= 1 and len(o["tokens"]) >= 1 and "".join(o["tokens"]) == o["text"], o
    assert o["options"]["temperature"] == 0
assert m["outputs"][1]["token_count"] <= 12
PY

# nothing changed: every answer again, exactly (the bundle's own blob, embedded)
expect_rc 0 "$MOAT" models verify "$B" --trust "$T/key.pub" --golden
expect_grep '^golden: tiny:latest through gguf:.*blobs/sha256-.*: 3 of 3 answers exact' "$T/out" \
	"verify --golden finds the recorded answers"
expect_grep '^golden: OK' "$T/out" "verify --golden passes"
expect_rc 0 "$MOAT" doctor --golden "$B" --json
"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); m=d["golden"]["models"][0]
assert d["ok"] and m["status"]=="exact" and m["exact"]==3 and d["checks"][0]["status"]=="ok", d' "$T/out" \
	&& ok || bad "doctor --golden --json: not all exact"

# the same prompts through llama-server (OpenAI-compatible API): another runtime
if start_llama_server; then
	expect_rc 0 "$MOAT" doctor --golden "$B" --model "tiny:latest=openai://127.0.0.1:$LS_PORT/v1/" \
		--tolerance 0 --json
	"$PY" - "$T/out" <<'PY' && ok || bad "doctor --golden through llama-server: no report per prompt"
import json, sys
d = json.load(open(sys.argv[1])); m = d["golden"]["models"][0]
assert m["uri"].startswith("openai://127.0.0.1:") and m["prompts"] == 3, m
assert m["runtime"]["backend"] == "openai", m["runtime"]
assert len(m["outputs"]) == 3 and all(0 <= o["similarity"] <= 1 for o in m["outputs"])
if m["status"] != "exact":
    # not every difference is a failure: named, with its cause
    assert any("another runtime" in c for c in m["causes"]), m["causes"]
    assert all("first_diff" in o for o in m["outputs"] if o["status"] != "exact")
PY
	stop_pid "$LS_PID"
else
	bad "llama-server did not start"
fi

# another model under the same name: caught, and the model file is named
C=$T/changed; mkdir -p "$C"
"$PY" - "$TINY" "$C/other.gguf" <<'PY'
import sys
d = bytearray(open(sys.argv[1], 'rb').read())
# flip bytes near the end (tensor data) so the weights differ
for i in range(len(d) - 4096, len(d) - 64, 7):
    d[i] ^= 0x5a
open(sys.argv[2], 'wb').write(d)
PY
expect_rc 6 "$MOAT" models verify "$B" --golden --model "gguf:$C/other.gguf" --tolerance 1
expect_grep 'another model file \(recorded sha256:[0-9a-f]{64}, now sha256:' "$T/out" \
	"a changed model is named as the cause"
expect_grep 'golden: FAILED' "$T/out" "a changed model fails at tolerance 1"
expect_grep 'first difference at token [0-9]+: expected ' "$T/out" "the first differing token is shown"
expect_rc 1 "$MOAT" doctor --golden "$B" --model "tiny:latest=gguf:$C/other.gguf" --tolerance 1
expect_grep 'fix: read the likely causes' "$T/out" "doctor --golden fails with a fix"

# a prompt edited in golden.json: SHA256SUMS catches it, then the signature
E=$T/edited; cp -r "$B" "$E"
"$PY" - "$E/golden.json" <<'PY'
import json, sys
g = json.load(open(sys.argv[1]))
g["prompts"][0]["prompt"] = "Say goodbye."
g["options"]["n_ctx"] = 512
open(sys.argv[1], "w").write(json.dumps(g, indent=2) + "\n")
PY
expect_rc 3 "$MOAT" models verify "$E" --golden
expect_grep 'CORRUPT  golden.json: checksum mismatch' "$T/out" "an edited golden.json is named"
expect_grep 'golden: not run' "$T/out" "golden outputs of a corrupt bundle are not used"
expect_rc 1 "$MOAT" doctor --golden "$E"
expect_grep "golden.json' does not match its line in SHA256SUMS" "$T/out" "doctor refuses an edited golden.json"
(cd "$E" && sed -i "s|^[0-9a-f]\{64\}  golden.json\$|$(sha256sum golden.json | cut -c1-64)  golden.json|" SHA256SUMS)
expect_rc 4 "$MOAT" models verify "$E" --trust "$T/key.pub" --golden
expect_grep 'signature: bad' "$T/out" "golden.json with SHA256SUMS rewritten breaks the signature"
# unsigned, the rewritten file runs: the changed prompt and option are
# named, whatever the answers (a random model may answer both prompts alike)
expect_rc 1 "$MOAT" doctor --golden "$E" --tolerance 0 --json
"$PY" - "$T/out" <<'PY' && ok || bad "a changed prompt or option is not named"
import json, sys
m = json.load(open(sys.argv[1]))["golden"]["models"][0]
ch = m.get("changes", [])
assert m["status"] == "changed", m
assert any("prompt 'hello' is not the one its answer was recorded for" in c for c in ch), ch
assert any("option 'n_ctx' of prompt 'hello' changed (recorded 2048, used 512)" in c for c in ch), ch
assert not any("'count'" in c and "prompt" in c.split("'")[0] for c in ch if "option" not in c), ch
PY
expect_rc 1 "$MOAT" doctor --golden "$E" --tolerance 0
expect_grep "changed: prompt 'hello' is not the one" "$T/out" "doctor names the changed prompt"

# bad prompt files: one line naming the file and the line, nothing written
printf '{"prompt": "fine"}\n{"prompt": 3}\n' >"$T/bad.jsonl"
expect_rc 1 "$MOAT" models bundle tiny:latest --models-dir "$S" --to "$T/nothing" --golden "$T/bad.jsonl"
expect_grep "bad.jsonl' line 2: no \"prompt\" string" "$T/err" "a bad prompt line is named"
[ ! -e "$T/nothing" ] && ok || bad "a failed --golden left a bundle behind"
printf '{"prompt": "a"\n' >"$T/bad2.jsonl"
expect_rc 1 "$MOAT" models bundle tiny:latest --models-dir "$S" --to "$T/nothing" --golden "$T/bad2.jsonl"
expect_grep "bad2.jsonl' line 1: not JSON" "$T/err" "a line that is not JSON is named"
expect_rc 2 "$MOAT" models verify "$B" --tolerance 0.5
expect_rc 2 "$MOAT" models verify "$B" --golden --tolerance 2

# two models side by side: the same one twice agrees; another one does not
expect_rc 0 "$MOAT" models diff tiny:latest "gguf:$TINY" --models-dir "$S" --prompts "$T/prompts.jsonl" --json
"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1]))
assert d["prompts"]==3 and d["exact"]==3 and d["agreement"]==1.0, d
assert d["a"]["tokens"] > 0 and d["a"]["tokens_per_second"] > 0 and d["b"]["tokens_per_second"] > 0, d' "$T/out" \
	&& ok || bad "diff of a model with itself"
expect_rc 0 "$MOAT" models diff "gguf:$TINY" "gguf:$C/other.gguf" --prompts "$T/prompts.jsonl"
expect_grep '^A: [0-9.]+ tokens/s' "$T/out" "diff shows tokens per second"
expect_grep 'answers the same, agreement' "$T/out" "diff shows the agreement"
"$MOAT" models diff "gguf:$TINY" "gguf:$C/other.gguf" --prompts "$T/prompts.jsonl" --json >"$T/d.json"
"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["exact"] < 3 and d["agreement"] < 1, d' "$T/d.json" \
	&& ok || bad "diff of two different models agrees fully"

finish
