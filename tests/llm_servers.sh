# llm_servers.sh - sourced by tests/cli/llm*.sh and doctor*.sh (after lib.sh):
# servers on free loopback ports, killed by process id when the test ends, and
# model stores built in $T.
#
#   start_llama_server [ARGS...]   llama-server of the pinned llama.cpp on the
#                                  tiny model; sets LS_PID, LS_PORT
#   start_fake NAME SCENARIO_JSON [--store DIR] [--host H] [ENV=V...]
#                                  tests/fake_ollama.py (a replay of Ollama's
#                                  documented API: Ollama cannot be installed
#                                  here); sets FAKE_PID, FAKE_PORT, FAKE_LOG
#   closed_port                    a loopback port that refuses connections
#                                  until the test ends; sets CLOSED_PORT
#   mk_store DIR [--fixtures]      an Ollama store holding the tiny GGUF as
#                                  tiny:latest (plus the fixture manifests,
#                                  whose blobs are missing, with --fixtures)

TINY=$TESTDATA/models/llama-2-tiny-random.gguf
# python3 for the fakes and JSON checks (Debian's: faster to start than a shim)
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)
SERVER_PIDS=""
trap 'for p in $SERVER_PIDS; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$T"' EXIT
export MOAT_CACHE=$T/cache   # the digest cache stays out of $HOME

# Servers are started on port 0 and report the port the kernel gave them, so
# no port is ever picked here and bound later by someone else.  Waits are
# bounded by a deadline (generous: the machine may be loaded) and end early
# when the process dies.
WAIT_S=${MOAT_TEST_WAIT_S:-120}

# closed_port: a port nobody listens on, and nobody can start listening on
# while the test runs: a socket holds it bound without listen(), so a
# connection to it is refused, always.  Sets CLOSED_PORT.
closed_port() {
	local f i
	CLOSED_N=$((${CLOSED_N:-0} + 1))
	f=$T/closed-port.$CLOSED_N
	"$PY" -c 'import os, signal, socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write("%d\n" % s.getsockname()[1])
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
while True:
    signal.pause()' "$f" </dev/null >/dev/null 2>&1 &
	local pid=$!
	SERVER_PIDS="$SERVER_PIDS $pid"
	for i in $(seq $((WAIT_S * 40))); do
		[ -s "$f" ] && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.025
	done
	CLOSED_PORT=$(cat "$f" 2>/dev/null)
	[ -n "$CLOSED_PORT" ] || { echo "could not hold a closed port"; return 1; }
}

have_llama() {
	! "$MOAT" version --json | grep -q 'not built in'
}

llama_bin() {
	local d=${MOAT_LLAMA_DIR:-}
	[ -n "$d" ] && [ -x "$d/bin/$1" ] && { echo "$d/bin/$1"; return 0; }
	return 1
}

# health PORT: llama-server's /health says ok (bash's /dev/tcp: no curl needed)
health() {
	local reply
	reply=$( { exec 3<>"/dev/tcp/127.0.0.1/$1" && printf 'GET /health HTTP/1.0\r\n\r\n' >&3 && cat <&3; } 2>/dev/null)
	case $reply in *'"ok"'*) return 0 ;; esac
	return 1
}

start_llama_server() {
	local bin i
	bin=$(llama_bin llama-server) || return 1
	: >"$T/llama-server.log"
	"$bin" -m "$TINY" --host 127.0.0.1 --port 0 -c 2048 -np 2 -t 1 --no-webui "$@" \
		>"$T/llama-server.log" 2>&1 &
	LS_PID=$!
	SERVER_PIDS="$SERVER_PIDS $LS_PID"
	LS_PORT=
	# it prints the address it bound once the model is loaded
	for i in $(seq $((WAIT_S * 20))); do
		LS_PORT=$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9][0-9]*\).*|\1|p' "$T/llama-server.log" | head -1)
		[ -n "$LS_PORT" ] && break
		kill -0 "$LS_PID" 2>/dev/null || break
		sleep 0.05
	done
	if [ -n "$LS_PORT" ]; then
		for i in $(seq $((WAIT_S * 20))); do
			health "$LS_PORT" && return 0
			kill -0 "$LS_PID" 2>/dev/null || break
			sleep 0.05
		done
	fi
	kill -9 "$LS_PID" 2>/dev/null
	echo "llama-server did not start: $(tail -5 "$T/llama-server.log")"
	return 1
}

start_fake() {
	local name=$1 scen=$2 i
	shift 2
	local args=() envs=()
	while [ $# -gt 0 ]; do
		case $1 in
		--store|--host) args+=("$1" "$2"); shift 2 ;;
		*=*) envs+=("$1"); shift ;;
		*) shift ;;
		esac
	done
	printf '%s\n' "$scen" >"$T/$name.json"
	FAKE_LOG=$T/$name.log
	rm -f "$T/$name.port"
	env "${envs[@]}" "$PY" "$SRC/tests/fake_ollama.py" --port 0 --port-file "$T/$name.port" \
		--scenario "$T/$name.json" --log "$FAKE_LOG" "${args[@]}" >"$T/$name.out" 2>&1 &
	FAKE_PID=$!
	SERVER_PIDS="$SERVER_PIDS $FAKE_PID"
	for i in $(seq $((WAIT_S * 40))); do
		[ -s "$T/$name.port" ] && break
		kill -0 "$FAKE_PID" 2>/dev/null || break
		sleep 0.025
	done
	FAKE_PORT=$(cat "$T/$name.port" 2>/dev/null)
	[ -n "$FAKE_PORT" ] || { echo "the fake Ollama did not start: $(cat "$T/$name.out")"; return 1; }
}

stop_pid() {
	kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

# blob FILE STORE: copies FILE into STORE/blobs under its digest; prints "sha256:<hex> <size>"
blob() {
	local h s
	h=$(sha256sum "$1" | cut -d' ' -f1)
	s=$(stat -c %s "$1")
	mkdir -p "$2/blobs"
	cp "$1" "$2/blobs/sha256-$h"
	echo "sha256:$h $s"
}

mk_store() {
	local dir=$1 m c t
	mkdir -p "$dir/manifests/registry.ollama.ai/library/tiny" "$dir/blobs"
	if [ "${2:-}" = --fixtures ]; then
		cp -r "$TESTDATA/fixtures/ollama/manifests/." "$dir/manifests/"
		rm -f "$dir/manifests/README.md"
		chmod -R u+w "$dir"
	fi
	printf '{"model_format":"gguf","model_family":"llama","model_type":"0.5M","file_type":"F16"}' >"$T/config.json"
	printf '{{ .Prompt }}' >"$T/template.txt"
	read -r m ms <<<"$(blob "$TINY" "$dir")"
	read -r c cs <<<"$(blob "$T/config.json" "$dir")"
	read -r t ts <<<"$(blob "$T/template.txt" "$dir")"
	printf '{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":"%s","size":%s},"layers":[{"mediaType":"application/vnd.ollama.image.model","digest":"%s","size":%s},{"mediaType":"application/vnd.ollama.image.template","digest":"%s","size":%s}]}' \
		"$c" "$cs" "$m" "$ms" "$t" "$ts" >"$dir/manifests/registry.ollama.ai/library/tiny/latest"
}

# json_get FILE PYTHON_EXPR: evaluates EXPR with j = the parsed file
json_get() {
	"$PY" -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}
