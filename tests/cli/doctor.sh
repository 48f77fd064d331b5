#!/bin/bash
# doctor.sh - `moat doctor`, each check's pass and fail path.  The GPU lines
# come from fake nvidia-smi and nvcc scripts put first on PATH (there is no
# GPU here); everything else is real: real stores built in $T, real
# environment variables, and a real server on loopback: tests/fake_ollama.py,
# which replays answers in Ollama's documented API format (Ollama itself
# cannot be installed here), started with its own environment so that doctor
# reads it from /proc like it would read Ollama's.
. "$(dirname "$0")/lib.sh"
. "$SRC/tests/llm_servers.sh"
need_testdata models
need_testdata fixtures/ollama

mkdir -p "$T/nogpu" "$T/gpu" "$T/oldgpu" "$T/brokengpu" "$T/newnvcc" "$T/smallgpu"
BASEPATH=/usr/bin:/bin

# fake_smi DIR NAME TOTAL_MIB FREE_MIB DRIVER CUDA CC
fake_smi() {
	cat >"$1/nvidia-smi" <<EOF
#!/bin/sh
case "\$*" in
*--query-gpu*) echo "0, $2, $3, $4, $5, 3, $7" ;;
*) echo "+-----------------------------------------------------------------------------------------+"
   echo "| NVIDIA-SMI $5              Driver Version: $5      CUDA Version: $6     |"
   echo "+-----------------------------------------------------------------------------------------+" ;;
esac
EOF
	chmod +x "$1/nvidia-smi"
}
fake_nvcc() {
	printf '#!/bin/sh\necho "nvcc: NVIDIA (R) Cuda compiler driver"\necho "Cuda compilation tools, release %s, V%s.99"\n' "$2" "$2" >"$1/nvcc"
	chmod +x "$1/nvcc"
}
fake_smi "$T/gpu" "NVIDIA H100 80GB HBM3" 81559 80000 550.54.15 12.4 9.0
fake_nvcc "$T/gpu" 12.4
fake_smi "$T/oldgpu" "Tesla K80" 11441 11000 470.57.02 11.4 3.7
fake_smi "$T/newnvcc" "NVIDIA H100 80GB HBM3" 81559 80000 550.54.15 12.4 9.0
fake_nvcc "$T/newnvcc" 12.6
fake_smi "$T/smallgpu" "NVIDIA L4" 23034 1000 550.54.15 12.4 8.9
printf '#!/bin/sh\necho "NVIDIA-SMI has failed because it couldn'"'"'t communicate with the NVIDIA driver."\nexit 9\n' >"$T/brokengpu/nvidia-smi"
chmod +x "$T/brokengpu/nvidia-smi"

mk_store "$T/store"
mk_store "$T/broken" --fixtures
mkdir -p "$T/other/manifests" "$T/other/blobs"

# dr DIR RC [VAR=VALUE...] ARGS...: moat doctor ARGS, with the fake GPU tools
# of DIR first on PATH and a clean environment plus the VARs; expects RC
dr() {
	local dir=$1 rc=$2
	shift 2
	local envs=()
	while [ $# -gt 0 ] && [[ $1 == [A-Za-z_]*=* ]]; do
		envs+=("$1")
		shift
	done
	expect_rc "$rc" env -u OLLAMA_HOST -u OLLAMA_MODELS -u OLLAMA_KEEP_ALIVE -u OLLAMA_NUM_PARALLEL \
		-u http_proxy -u HTTP_PROXY -u https_proxy -u HTTPS_PROXY -u ALL_PROXY -u all_proxy \
		PATH="$dir:$BASEPATH" "${envs[@]}" "$MOAT" doctor "$@"
	: >"$T/checks"
	case " $* " in
	*" --json "*)
		"$PY" -c 'import json,sys
for c in json.load(open(sys.argv[1]))["checks"]:
    print("\t".join([c["group"], c["check"], c["status"], c["message"], c.get("fix", "")]))' "$T/out" >"$T/checks" \
			|| bad "doctor --json printed no JSON: $(head -c 300 "$T/out")" ;;
	esac
}
# status|message|fixof GROUP CHECK: a field of one check of the last --json run
# (GROUP matches the start of the group: 'model tiny' for 'model tiny:latest')
field() {
	awk -F'\t' -v g="$1" -v c="$2" -v f="$3" 'index($1, g) == 1 && $2 == c { print $f; exit }' "$T/checks"
}
status() { field "$1" "$2" 3; }
message() { field "$1" "$2" 4; }

# a port that refuses connections for the whole test (held, never listened on)
closed_port || { bad "no closed port"; finish; exit 1; }
port=$CLOSED_PORT

# ---- no GPU, no store, no server: the human form and the exit status ----
dr "$T/nogpu" 1 --models-dir "$T/none" --ollama "127.0.0.1:$port"
expect_grep "^GPU$" "$T/out" "group title"
expect_grep "^  ! no NVIDIA GPU found \(nvidia-smi is not on PATH\): inference will run on the CPU$" "$T/out" "no GPU"
expect_grep "^  ✘ no model store at $T/none$" "$T/out" "no store"
expect_grep "^      fix: " "$T/out" "a fix under a failure"
expect_grep "✘ cannot reach Ollama at 127.0.0.1:$port: connection refused \(is 'ollama serve' running\?\)" "$T/out" "no server"
expect_grep "^[0-9]+ passed, [0-9]+ warnings, [1-9][0-9]* failed$" "$T/out" "summary"

# ---- GPU lines ----
dr "$T/gpu" 1 --models-dir "$T/store" --ollama "127.0.0.1:$port" --json
expect_eq ok "$(status gpu gpu)" "a GPU"
expect_eq "GPU 0: NVIDIA H100 80GB HBM3, 81559 MiB (80000 MiB free), compute capability 9.0" "$(message gpu gpu)" "GPU facts"
expect_eq ok "$(status gpu driver)" "driver and CUDA compatible"
expect_eq "driver 550.54.15, CUDA 12.4: compatible with Ollama's CUDA 12 runner" "$(message gpu driver)" "driver line"
expect_eq ok "$(status gpu nvcc)" "nvcc"
dr "$T/oldgpu" 1 --models-dir "$T/store" --ollama "127.0.0.1:$port" --json
expect_eq fail "$(status gpu gpu)" "compute capability 3.7"
expect_eq fail "$(status gpu driver)" "driver 470"
expect_grep "531" "$T/out" "driver fix"
expect_eq warn "$(status gpu nvcc)" "no nvcc beside a GPU"
dr "$T/brokengpu" 1 --models-dir "$T/store" --ollama "127.0.0.1:$port" --json
expect_eq fail "$(status gpu gpu)" "nvidia-smi fails"
expect_grep "couldn't communicate with the NVIDIA driver" "$T/out" "its message"
dr "$T/newnvcc" 1 --models-dir "$T/store" --ollama "127.0.0.1:$port" --json
expect_eq warn "$(status gpu nvcc)" "nvcc newer than the driver"

# ---- the store ----
expect_eq ok "$(status store exists)" "store exists"
expect_eq ok "$(status store readable)" "store readable"
expect_eq ok "$(status store fsck)" "store passes fsck"
expect_eq ok "$(status store disk)" "disk space"
dr "$T/nogpu" 1 --models-dir "$T/broken" --ollama "127.0.0.1:$port" --json
expect_eq fail "$(status store fsck)" "broken store"
expect_grep "moat models fsck" "$T/out" "fsck fix"

# ---- the environment ----
dr "$T/nogpu" 1 OLLAMA_HOST=0.0.0.0:11434 OLLAMA_KEEP_ALIVE=0 OLLAMA_NUM_PARALLEL=lots HTTPS_PROXY=http://proxy:3128 \
	--models-dir "$T/store" --ollama "127.0.0.1:$port" --json
expect_eq fail "$(status env OLLAMA_HOST)" "OLLAMA_HOST beyond loopback"
expect_grep "OLLAMA_HOST=127.0.0.1:11434" "$T/out" "OLLAMA_HOST fix"
expect_eq warn "$(status env OLLAMA_KEEP_ALIVE)" "keep-alive 0"
expect_eq fail "$(status env OLLAMA_NUM_PARALLEL)" "parallel not a number"
expect_eq warn "$(status env proxy)" "proxy set"
expect_grep "DNS and time-out failures" "$T/out" "why proxies hurt"
dr "$T/nogpu" 1 OLLAMA_HOST=127.0.0.1:11434 OLLAMA_KEEP_ALIVE=24h OLLAMA_NUM_PARALLEL=4 \
	--models-dir "$T/store" --ollama "127.0.0.1:$port" --json
expect_eq ok "$(status env OLLAMA_HOST)" "OLLAMA_HOST loopback"
expect_eq ok "$(status env OLLAMA_KEEP_ALIVE)" "keep-alive 24h"
expect_eq ok "$(status env OLLAMA_NUM_PARALLEL)" "parallel 4"
expect_eq ok "$(status env proxy)" "no proxies"
dr "$T/nogpu" 1 OLLAMA_KEEP_ALIVE=banana --models-dir "$T/store" --ollama "127.0.0.1:$port" --json
expect_eq fail "$(status env OLLAMA_KEEP_ALIVE)" "keep-alive not a duration"

# ---- a healthy deployment: exit 0, warnings allowed ----
start_fake good '{"models": {"tiny:latest": {"eval_tps": 80}}}' --store "$T/store" OLLAMA_KEEP_ALIVE=30m || bad "fake ollama"
dr "$T/nogpu" 0 --models-dir "$T/store" --ollama "127.0.0.1:$FAKE_PORT" --json
expect_eq True "$(json_get "$T/out" 'j["ok"]')" "ok in the JSON"
expect_eq 0 "$(json_get "$T/out" 'j["counts"]["fail"]')" "no failures"
expect_eq ok "$(status server reachable)" "server reachable"
expect_eq "Ollama 0.12.6 at 127.0.0.1:$FAKE_PORT" "$(message server reachable)" "server version"
expect_eq ok "$(status server listen)" "loopback only"
expect_eq "listening on 127.0.0.1:$FAKE_PORT only" "$(message server listen)" "listen line"
expect_eq ok "$(status server models)" "models match the store"
expect_eq ok "$(status 'model tiny' answers)" "the model answers"
expect_eq ok "$(status 'model tiny' speed)" "plausible speed"
expect_eq ok "$(status 'model tiny' memory)" "fits in memory"
expect_grep "the server's environment, pid $FAKE_PID" "$T/out" "the server's own environment"
expect_eq "OLLAMA_KEEP_ALIVE=30m" "$(message env OLLAMA_KEEP_ALIVE)" "keep-alive read from the server"
"$PY" -c 'import json,sys; j=json.load(open(sys.argv[1])); assert all(set(c) >= {"group","check","status","message"} for c in j["checks"])' "$T/out" \
	&& ok || bad "check fields"
# the server reads another store
dr "$T/nogpu" 1 --models-dir "$T/other" --ollama "127.0.0.1:$FAKE_PORT" --no-models --json
expect_eq fail "$(status server models)" "another store"
expect_grep "OLLAMA_MODELS=$T/other" "$T/out" "store fix"
stop_pid "$FAKE_PID"

# ---- the server's own environment and sockets ----
start_fake exposed '{"models": {}}' --store "$T/store" --host 0.0.0.0 OLLAMA_HOST=0.0.0.0 || bad "fake ollama"
dr "$T/nogpu" 1 --models-dir "$T/store" --ollama "127.0.0.1:$FAKE_PORT" --no-models --json
expect_eq fail "$(status server listen)" "listening beyond loopback"
expect_eq "listening on 0.0.0.0:$FAKE_PORT: reachable from the network" "$(message server listen)" "listen message"
expect_eq fail "$(status env OLLAMA_HOST)" "OLLAMA_HOST of the server"
stop_pid "$FAKE_PID"

# ---- per model: speed, GPU use, memory fit, a model that fails ----
start_fake models '{"models": {"big:70b": {"size": 40000000000, "eval_tps": 0.5, "size_vram_fraction": 0.0},
  "fast:7b": {"size": 4100000000, "eval_tps": 150, "size_vram_fraction": 1.0},
  "half:7b": {"size": 4100000000, "eval_tps": 150, "size_vram_fraction": 0.5},
  "sick:7b": {"error": "llama runner process has terminated: error loading model"}}}' || bad "fake ollama"
dr "$T/gpu" 1 --models-dir "$T/store" --ollama "127.0.0.1:$FAKE_PORT" \
	--model fast:7b --model big:70b --model half:7b --model sick:7b --json
expect_eq ok "$(status 'model fast' gpu)" "fully in VRAM"
expect_eq ok "$(status 'model fast' speed)" "fast enough on the GPU"
expect_eq ok "$(status 'model fast' memory)" "fits in VRAM"
expect_eq fail "$(status 'model big' gpu)" "on the CPU though a GPU is there"
expect_eq warn "$(status 'model big' speed)" "too slow"
expect_eq warn "$(status 'model half' gpu)" "half in VRAM"
expect_eq fail "$(status 'model sick' answers)" "a model that does not load"
expect_grep "error loading model" "$T/out" "the server's reason"
dr "$T/smallgpu" 1 --models-dir "$T/store" --ollama "127.0.0.1:$FAKE_PORT" --model half:7b --json
expect_eq fail "$(status 'model half' memory)" "insufficient VRAM"
expect_grep "OLLAMA_NUM_PARALLEL|OLLAMA_CONTEXT_LENGTH" "$T/out" "memory fix"
stop_pid "$FAKE_PID"

# ---- a store the server's user cannot read (needs root to change user) ----
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && [ -x /usr/bin/python3 ]; then
	mk_store "$T/private"
	chmod 700 "$T/private"
	chmod 755 "$T"
	mkdir -p "$T/pub" && chmod 777 "$T/pub"
	setpriv --reuid=nobody --regid=nogroup --clear-groups /usr/bin/python3 "$SRC/tests/fake_ollama.py" \
		--port 0 --port-file "$T/pub/nobody.port" >"$T/nobody.out" 2>&1 &
	FAKE_PID=$!
	SERVER_PIDS="$SERVER_PIDS $FAKE_PID"
	for i in $(seq $((WAIT_S * 40))); do
		[ -s "$T/pub/nobody.port" ] && break
		kill -0 "$FAKE_PID" 2>/dev/null || break
		sleep 0.025
	done
	if [ -s "$T/pub/nobody.port" ]; then
		dr "$T/nogpu" 1 --models-dir "$T/private" \
			--ollama "127.0.0.1:$(cat "$T/pub/nobody.port")" --no-models --json
		expect_eq fail "$(status store readable)" "unreadable by the server's user"
		expect_grep "not readable by user 'nobody' that runs the server" "$T/out" "names the user"
		expect_grep "chown -R nobody" "$T/out" "permission fix"
	else
		bad "python3 as nobody did not start: $(cat "$T/nobody.out")"
	fi
	stop_pid "$FAKE_PID"
fi

expect_rc 2 "$MOAT" doctor --frobnicate
finish
