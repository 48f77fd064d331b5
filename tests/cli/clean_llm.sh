#!/bin/bash
# clean_llm.sh - names by a local model in `moat clean --pii`: a policy with
# llm_model runs the model layer's embedded llama.cpp on the tiny random GGUF
# of the shared test data (its answers are noise, but schema-constrained, so
# they parse; strings it makes up are not in the text and give no finding).
# Checks the run, the model's provenance in the audit record, and that the
# pattern recognizers still work beside it.
. "$(dirname "$0")/lib.sh"
need_testdata models
MODEL="$TESTDATA/models/llama-2-tiny-random.gguf"
if "$MOAT" version 2>/dev/null | grep -qiE 'llama.cpp[^0-9]*(none|not built)'; then
	echo "SKIP: this moat has no llama.cpp"; exit 77
fi
"$MOAT" init "$T/ws" >/dev/null
printf 'Dear Jane Roe,\n\nwe met in Manchester; call +1 415-555-0132.\n' >"$T/doc.txt"
expect_rc 0 "$MOAT" -w "$T/ws" ingest "$T/doc.txt"
printf '[pii]\nllm_model = gguf:%s\nllm_entities = PERSON,LOCATION\n' "$MODEL" >"$T/policy.ini"
expect_rc 0 "$MOAT" -w "$T/ws" clean --pii "$T/policy.ini" --json
expect_grep '"PHONE_NUMBER"' "$T/out" "patterns still find the phone number"
expect_rc 0 "$MOAT" -w "$T/ws" audit log --json
expect_grep '"pii_model"' "$T/out" "the model is in the audit record"
expect_grep '"prompt_template_sha256"' "$T/out" "with its prompt template's hash"
expect_rc 0 "$MOAT" -w "$T/ws" audit verify
# a model that cannot be opened is an error that says so
printf '[pii]\nllm_model = gguf:%s\n' "$T/missing.gguf" >"$T/bad.ini"
expect_rc 1 "$MOAT" -w "$T/ws" clean --pii "$T/bad.ini"
expect_grep 'cannot open the PII model' "$T/err" "names the model"
finish
