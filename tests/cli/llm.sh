#!/bin/bash
# llm.sh - `moat llm list|run|embed|bench|tokens|info` end to end, on the tiny
# random-weights GGUF of the shared test data (mechanics, never the quality
# of the text): built into moat (gguf:, store:), behind a real llama-server
# of the pinned llama.cpp (openai://), and behind tests/fake_ollama.py, which
# replays answers in Ollama's documented API format because Ollama itself
# cannot be installed here (ollama://).  Servers listen on free loopback ports
# and are killed at the end.
. "$(dirname "$0")/lib.sh"
. "$SRC/tests/llm_servers.sh"
need_testdata models

# ---- usage and the errors that say what to do ----
expect_rc 2 "$MOAT" llm
expect_rc 2 "$MOAT" llm run
expect_rc 2 "$MOAT" llm frobnicate
expect_rc 2 "$MOAT" llm run "gguf:$TINY" hi --labels a,b --schema /dev/null
expect_rc 2 "$MOAT" llm run "gguf:$TINY" hi --temperature hot
expect_rc 1 "$MOAT" llm run http://127.0.0.1/x hi
expect_grep "unknown model 'http://127.0.0.1/x'" "$T/err" "unknown scheme"
closed_port || bad "no closed port"
port=$CLOSED_PORT
expect_rc 1 "$MOAT" llm run "ollama://127.0.0.1:$port/mistral:7b" hi
expect_grep "^moat: cannot reach Ollama at 127.0.0.1:$port: connection refused \(is 'ollama serve' running\?\)$" "$T/err" "refused"
expect_rc 1 "$MOAT" llm run "ollama://10.20.30.40:11434/mistral" hi
expect_grep "refusing host '10.20.30.40'.*--allow-host 10.20.30.40" "$T/err" "loopback only"

if have_llama; then
	# ---- built in: gguf: ----
	expect_rc 0 "$MOAT" llm run "gguf:$TINY" "Hello" --max-tokens 8 --seed 4
	cp "$T/out" "$T/first"
	expect_rc 0 "$MOAT" llm run "gguf:$TINY" "Hello" --max-tokens 8 --seed 4
	expect_eq "$(cat "$T/first")" "$(cat "$T/out")" "same seed, same text"
	[ -s "$T/out" ] && ok || bad "no text generated"

	expect_rc 0 "$MOAT" llm run "gguf:$TINY" "Sentiment?" --labels positive,negative,neutral --seed 9 --json
	expect_grep '"value": "(positive|negative|neutral)"' "$T/out" "a label from the set"
	expect_eq "sha256:$(sha256sum "$TINY" | cut -d' ' -f1)" "$(json_get "$T/out" 'j["provenance"]["model_digest"]')" "digest in the provenance"
	expect_eq 9 "$(json_get "$T/out" 'j["provenance"]["seed"]')" "seed in the provenance"
	expect_eq "['positive', 'negative', 'neutral']" "$(json_get "$T/out" 'j["provenance"]["options"]["labels"]')" "labels in the provenance"

	expect_rc 0 "$MOAT" llm run "gguf:$TINY" "Tags?" --labels a,b,c --multi --seed 2
	expect_grep '^[abc](,[abc])*$' "$T/out" "several labels"

	printf '{"type":"object","properties":{"name":{"type":"string","maxLength":16},"n":{"type":"integer"},"ok":{"type":"boolean"}},"required":["name","n"]}' >"$T/schema.json"
	for s in 1 2 3; do
		expect_rc 0 "$MOAT" llm run "gguf:$TINY" "Describe" --schema "$T/schema.json" --seed $s
		"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert isinstance(d["name"],str) and isinstance(d["n"],int)' "$T/out" \
			&& ok || bad "schema answer $s: $(cat "$T/out")"
	done
	# long strings from random weights: byte tokens that open a UTF-8 sequence
	# the next token does not finish (seed 4 here) must not be taken, or the
	# broken bytes (one character to llama.cpp's grammar, a U+FFFD each in
	# the text) overrun maxLength
	printf '{"type":"object","properties":{"q":{"type":"string","maxLength":1000},"a":{"type":"string","maxLength":1000}},"required":["q","a"]}' >"$T/long.json"
	for s in 3 4 5 8; do
		expect_rc 0 "$MOAT" llm run "gguf:$TINY" "Write a question" --schema "$T/long.json" --seed $s
		"$PY" -c 'import json,sys
b = open(sys.argv[1], "rb").read(); d = json.loads(b.decode("utf-8"))
assert all(len(d[k]) <= 1000 and "\ufffd" not in d[k] for k in ("q", "a"))' "$T/out" \
			&& ok || bad "long strings, seed $s: valid UTF-8 within maxLength: $(head -c 300 "$T/err")"
	done
	printf '{"type":"string","pattern":"^a"}' >"$T/bad.json"
	expect_rc 1 "$MOAT" llm run "gguf:$TINY" "x" --schema "$T/bad.json"
	expect_grep "'pattern'.*not supported" "$T/err" "schema subset"

	expect_rc 0 "$MOAT" llm run "gguf:$TINY" "Batch" -n 3 --seed 5 --max-tokens 4 --parallel 2 --json
	expect_eq "[5, 6, 7]" "$(json_get "$T/out" '[x["provenance"]["seed"] for x in j]')" "seeds of -n"

	printf 'Tell me more' | "$MOAT" llm run "gguf:$TINY" - --max-tokens 3 --seed 2 --json >"$T/out" 2>"$T/err" && ok || bad "prompt on stdin"
	expect_eq 3 "$(json_get "$T/out" 'j["completion_tokens"]')" "max tokens"

	# random weights emit byte tokens that form no character (seeds 27 and 33
	# here): the answer is still JSON, with U+FFFD for the bad bytes
	expect_rc 0 "$MOAT" llm run "gguf:$TINY" "Hi" --max-tokens 16 --seed 20 -n 24 --parallel 4 --json
	expect_eq 24 "$(json_get "$T/out" 'len(j)')" "every answer printed"
	"$PY" -c 'import json,sys; assert any("\ufffd" in x["text"] for x in json.load(open(sys.argv[1])))' "$T/out" \
		&& ok || bad "no answer with a replaced byte among seeds 20-43"

	expect_rc 0 "$MOAT" llm embed "gguf:$TINY" "hello"
	expect_eq 8 "$(json_get "$T/out" 'len(j)')" "embedding dimensions"
	printf 'one\ntwo\nthree\n' | "$MOAT" llm embed "gguf:$TINY" --lines >"$T/out" && ok || bad "embed --lines"
	expect_eq 3 "$(wc -l <"$T/out")" "one vector per line"
	expect_rc 0 "$MOAT" llm tokens "gguf:$TINY" "hello world"
	expect_eq 2 "$(cat "$T/out")" "token count"
	expect_rc 0 "$MOAT" llm bench "gguf:$TINY" --prompt-tokens 16 --gen-tokens 8 --parallel 2 --repeat 1 --json
	"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["tg_tps"]>0 and d["pp_tps"]>0 and d["parallel"]==2' "$T/out" \
		&& ok || bad "bench: $(cat "$T/out")"
	expect_rc 0 "$MOAT" llm info "gguf:$TINY"
	expect_grep '"n_embd": 8' "$T/out" "info"

	# ---- built in: store: ----
	mk_store "$T/store" --fixtures
	expect_rc 0 "$MOAT" llm run store:tiny "Hi" --models-dir "$T/store" --max-tokens 4 --seed 1 --json
	expect_eq "sha256:$(sha256sum "$TINY" | cut -d' ' -f1)" "$(json_get "$T/out" 'j["provenance"]["model_digest"]')" "store: digest"
	expect_eq store "$(json_get "$T/out" 'j["provenance"]["backend"]')" "store: backend"
	expect_rc 1 "$MOAT" llm run store:gemma:2b "Hi" --models-dir "$T/store"
	expect_grep "gemma:2b.*missing" "$T/err" "a model whose blob is missing"
	mkdir -p "$T/gguf" && cp "$TINY" "$T/gguf/tiny.gguf" && printf 'nope' >"$T/gguf/fake.gguf"
	expect_rc 0 "$MOAT" llm list --no-ollama --models-dir "$T/store" --dir "$T/gguf" --json
	expect_grep '"uri": "store:tiny:latest"' "$T/out" "list: store"
	expect_grep "\"uri\": \"gguf:$T/gguf/tiny.gguf\"" "$T/out" "list: gguf"
	grep -q fake.gguf "$T/out" && bad "list: a file that is not GGUF" || ok
else
	expect_rc 1 "$MOAT" llm run "gguf:$TINY" hi
	expect_grep "built without llama.cpp" "$T/err" "refusal without llama.cpp"
fi

# ---- llama-server (openai://) ----
if llama_bin llama-server >/dev/null; then
	start_llama_server --embeddings --pooling mean || bad "llama-server"
	U="openai://127.0.0.1:$LS_PORT/v1/"
	expect_rc 0 "$MOAT" llm list --no-ollama --server "http://127.0.0.1:$LS_PORT" --json
	expect_grep "\"uri\": \"openai://127.0.0.1:$LS_PORT/v1/" "$T/out" "list: server"
	expect_rc 0 "$MOAT" llm run "$U" "Spam?" --labels spam,ham --seed 1
	expect_grep '^(spam|ham)$' "$T/out" "label via llama-server"
	expect_rc 0 "$MOAT" llm run "$U" "Describe" --schema "$T/schema.json" --seed 3 --json
	expect_grep '"n": -?[0-9]+' "$T/out" "schema via llama-server"
	expect_rc 0 "$MOAT" llm embed "$U" "hello"
	expect_eq 8 "$(json_get "$T/out" 'len(j)')" "llama-server embedding"
	expect_rc 0 "$MOAT" llm tokens "$U" "hello world"
	expect_eq 2 "$(cat "$T/out")" "llama-server /tokenize"
	expect_rc 0 "$MOAT" llm bench "$U" --prompt-tokens 16 --gen-tokens 8 --repeat 1 --json
	expect_eq True "$(json_get "$T/out" 'j["measured_by_server"] and j["tg_tps"] > 0')" "bench via llama-server"
	stop_pid "$LS_PID"
fi

# ---- the fake Ollama (ollama://) ----
# Ctrl-C while the answer is awaited: the signal is sent once the fake has
# the generation request in hand (its log says so), not after a guessed
# time, and the fake holds its answer far longer than the test waits.
start_fake slow '{"delay": 600, "models": {"m:7b": {}}}' || bad "fake ollama"
"$MOAT" llm run "ollama://127.0.0.1:$FAKE_PORT/m:7b" hi >"$T/out" 2>"$T/err" &
pid=$!
for i in $(seq $((WAIT_S * 20))); do
	grep -qE '"path": "/api/(chat|generate)"' "$FAKE_LOG" 2>/dev/null && break
	kill -0 $pid 2>/dev/null || break
	sleep 0.05
done
expect_grep '"path": "/api/(chat|generate)"' "$FAKE_LOG" "the request reached the fake before Ctrl-C"
kill -INT $pid
for i in $(seq $((WAIT_S * 20))); do kill -0 $pid 2>/dev/null || break; sleep 0.05; done
kill -9 $pid 2>/dev/null   # still waiting for the answer: not cancelled (exit 137)
wait $pid
expect_eq 130 $? "Ctrl-C cancels"
expect_grep "^moat: cancelled$" "$T/err" "cancel message"
stop_pid "$FAKE_PID"

start_fake ok '{"models": {"m:7b": {"eval_tps": 40}}}' || bad "fake ollama"
expect_rc 0 "$MOAT" llm list --ollama "127.0.0.1:$FAKE_PORT" --json
expect_grep "\"uri\": \"ollama://127.0.0.1:$FAKE_PORT/m:7b\"" "$T/out" "list: ollama"
OLLAMA_HOST=127.0.0.1:$FAKE_PORT expect_rc 0 "$MOAT" llm run ollama:m:7b "Hi" --verbose
expect_grep "^ready set go" "$T/out" "ollama:NAME with OLLAMA_HOST"
expect_grep "eval rate: +40.00 tokens/s" "$T/err" "ollama's own rate"
http_proxy=http://127.0.0.1:9 HTTP_PROXY=http://127.0.0.1:9 expect_rc 0 "$MOAT" llm run "ollama://127.0.0.1:$FAKE_PORT/m:7b" "Hi" --labels a,b
expect_grep '^(a|b)$' "$T/out" "format for labels, proxies ignored"
expect_rc 0 "$MOAT" llm bench "ollama://127.0.0.1:$FAKE_PORT/m:7b" --prompt-tokens 8 --gen-tokens 4 --repeat 1
expect_grep "tg4 +\| +40.00" "$T/out" "bench reports Ollama's eval rate"
expect_rc 1 "$MOAT" llm tokens "ollama://127.0.0.1:$FAKE_PORT/m:7b" "hello" --models-dir "$T/nostore"
expect_grep "no tokenizer endpoint" "$T/err" "token count without a local GGUF"

finish
