#!/bin/bash
# llm_endless.sh - `moat llm` always ends, and says why (issue 14, point 5),
# against tests/fake_ollama.py playing a server that streams without end, one
# that sends more than 64 MiB, and one that accepts and never answers.  Every
# run is wrapped in `timeout`: a generous bound that catches a hang, never a
# measure of speed (exit 124 means moat did not end by itself).
. "$(dirname "$0")/lib.sh"
. "$SRC/tests/llm_servers.sh"

# ends RC BOUND CMD...: CMD ends by itself within BOUND seconds with exit RC
ends() {
	local want=$1 bound=$2
	shift 2
	expect_rc "$want" timeout "$bound" "$@"
}

expect_rc 2 "$MOAT" llm run ollama:m hi --deadline soon
expect_grep "^moat: llm: --deadline needs seconds \(0: none\)$" "$T/err" "a bad --deadline"
expect_rc 0 "$MOAT" llm --help
expect_grep "^  --deadline S" "$T/out" "--deadline in the help"

# ---- a server that streams tokens forever, whatever num_predict says ----
start_fake endless '{"endless": true, "models": {"m:7b": {}}}' || bad "fake ollama"
U="ollama://127.0.0.1:$FAKE_PORT/m:7b"
# the client counts: 5 pieces kept, the answer complete ("length"), exit 0
ends 0 60 "$MOAT" llm run "$U" hi --max-tokens 5 --json
expect_eq length "$(json_get "$T/out" 'j["finish"]')" "cut at max tokens: finish"
expect_eq 5 "$(json_get "$T/out" 'j["completion_tokens"]')" "cut at max tokens: tokens"
expect_eq "on and onon and" "$(json_get "$T/out" 'j["text"]')" "cut at max tokens: the text kept"
expect_eq "" "$(cat "$T/err")" "cut at max tokens: no error"
# streamed to the terminal, and raw (/api/generate)
ends 0 60 "$MOAT" llm run "$U" hi --max-tokens 3 --raw
expect_eq "on and on" "$(cat "$T/out")" "raw prompt cut at max tokens"
ends 0 60 "$MOAT" llm run "$U" hi --max-tokens 0 --json
expect_eq "length 0 ''" "$(json_get "$T/out" 'j["finish"] + " " + str(j["completion_tokens"]) + " " + repr(j["text"])')" "max tokens 0"
# constrained: 512 pieces at most, then the usual error for a cut answer
ends 1 60 "$MOAT" llm run "$U" hi --labels a,b
expect_grep "^moat: the constrained answer was cut at max tokens \(512\): raise --max-tokens$" "$T/err" "constrained answer cut"
# no max tokens: the deadline ends it, with what was streamed kept on stdout
ends 1 60 "$MOAT" llm run "$U" hi --deadline 2
expect_grep "^moat: deadline of 2 s reached after [1-9][0-9]* tokens$" "$T/err" "deadline message"
expect_grep "^on and on" "$T/out" "the text before the deadline"
ends 1 60 "$MOAT" llm run "$U" hi --deadline 2 --json
expect_eq "deadline" "$(json_get "$T/out" 'j["finish"]')" "deadline: finish"
expect_grep '"error": "deadline of 2 s reached after [1-9][0-9]* tokens"' "$T/out" "deadline: error in the JSON"
stop_pid "$FAKE_PID"

# ---- more than 64 MiB: the transfer ends there and says so ----
start_fake big '{"endless": true, "piece_bytes": 65536, "models": {"m:7b": {}}}' || bad "fake ollama"
timeout 60 "$MOAT" llm run "ollama://127.0.0.1:$FAKE_PORT/m:7b" hi --deadline 0 >"$T/big" 2>"$T/err"
expect_eq 1 $? "an answer past 64 MiB fails"
expect_grep "^moat: the answer is longer than 64 MiB$" "$T/err" "64 MiB message"
[ "$(stat -c %s "$T/big")" -le $((64 << 20)) ] && ok || bad "more than 64 MiB printed: $(stat -c %s "$T/big")"
rm -f "$T/big"
stop_pid "$FAKE_PID"

# ---- a silent server: one --timeout is one wait ----
# silent everywhere (the first probe), on /api/show (the second probe: the
# probes share one timeout) and on /api/chat (the generation: a POST, whose
# own bytes must not keep the idle timer from running)
for where in true '["/api/show"]' '["/api/chat"]'; do
	start_fake silent "{\"silent\": $where, \"models\": {\"m:7b\": {}}}" || bad "fake ollama"
	ends 1 15 "$MOAT" llm run "ollama://127.0.0.1:$FAKE_PORT/m:7b" hi --timeout 2
	expect_grep "^moat: no answer from Ollama at 127.0.0.1:$FAKE_PORT for 2 s \(stuck, or still loading the model\? raise --timeout\)$" "$T/err" "silent ($where)"
	ends 1 15 "$MOAT" llm run "ollama://127.0.0.1:$FAKE_PORT/m:7b" hi --timeout 600 --deadline 2
	expect_grep "^moat: deadline of 2 s reached waiting for Ollama at 127.0.0.1:$FAKE_PORT$" "$T/err" "silent ($where), deadline"
	stop_pid "$FAKE_PID"
done
# the other subcommands keep to the deadline too
start_fake silent '{"silent": true, "models": {"m:7b": {}}}' || bad "fake ollama"
ends 0 15 "$MOAT" llm list --ollama "127.0.0.1:$FAKE_PORT" --deadline 1 --timeout 600 --json
expect_grep "deadline of 1 s reached waiting for Ollama at 127.0.0.1:$FAKE_PORT" "$T/out" "list: deadline"
ends 1 15 "$MOAT" llm info "ollama://127.0.0.1:$FAKE_PORT/m:7b" --deadline 1 --timeout 600
expect_grep "^moat: deadline of 1 s reached waiting for Ollama" "$T/err" "info: deadline"
stop_pid "$FAKE_PID"

# the built-in backend keeps to max tokens on its own
if have_llama && [ -f "$TINY" ]; then
	ends 0 60 "$MOAT" llm run "gguf:$TINY" hi --max-tokens 0 --json
	expect_eq "length 0" "$(json_get "$T/out" 'j["finish"] + " " + str(j["completion_tokens"])')" "gguf: max tokens 0"
fi

finish
