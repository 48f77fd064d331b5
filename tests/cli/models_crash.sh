#!/bin/bash
# models_crash.sh - kill -9 `models install` and `models bundle` at 20 random
# moments each (over the time an uninterrupted run takes, measured here, on a
# synthetic 64 MB GGUF blob plus the real tiny GGUF).  After every kill the
# target store passes fsck and shows no model whose blobs are not all in
# place; a rerun then completes, and the result equals the source.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/models_common.sh"
need_testdata models
RUNS=${MOAT_CRASH_RUNS:-20}

S=$T/staging; mk_healthy_store "$S"
mk_gguf "$T/big.gguf" 64
add_model "$S" registry.ollama.ai/library/big/latest "$T/big.gguf"
rm "$T/big.gguf"
mk_healthy_store "$T/other"
# name, ID and size of the carried models, and a mark for any listed problem
quick_sig() { "$MOAT" models list --models-dir "$1" | awk '/^ +!/{print "PROBLEM"} /^(big|tiny):latest /{print $1, $2, $3, $4}'; }
want=$(quick_sig "$S")

now_ms() { date +%s%3N; }
# kill_at MS CMD...: runs CMD, kills it with SIGKILL after MS milliseconds
kill_at() {
	local ms=$1; shift
	"$@" >/dev/null 2>&1 &
	local pid=$!
	sleep "$(printf '0.%03d' "$ms")" 2>/dev/null || sleep 0
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}
pick() { echo $(( (RANDOM * 32768 + RANDOM) % ($1 + 1) )); }
RANDOM=1234   # the same moments (as fractions of the measured time) every run

# ---- bundle ----
t0=$(now_ms)
"$MOAT" models bundle big tiny --models-dir "$S" --to "$T/ref" --split-size 40M >/dev/null || bad "reference bundle"
dur=$(( $(now_ms) - t0 )); [ "$dur" -gt 999 ] && dur=999; [ "$dur" -lt 20 ] && dur=20
for i in $(seq 1 "$RUNS"); do
	B=$T/b$i
	kill_at "$(pick "$dur")" "$MOAT" models bundle big tiny --models-dir "$S" --to "$B" --split-size 40M
	if [ -f "$B/SHA256SUMS" ]; then
		# it finished before the kill: then it must verify
		"$MOAT" models verify "$B" >/dev/null 2>&1 && ok || bad "bundle run $i finished but does not verify"
	fi
	"$MOAT" models bundle big tiny --models-dir "$S" --to "$B" --split-size 40M >"$T/out" 2>"$T/err" \
		&& ok || bad "bundle rerun $i failed: $(cat "$T/err")"
	"$MOAT" models verify "$B" -j 2 >"$T/out" 2>&1 && ok || bad "bundle rerun $i does not verify: $(head -c 300 "$T/out")"
	ls -A "$B/blobs" | grep -q '^\.moat-tmp' && bad "bundle rerun $i left temporary files" || ok
	[ "$i" -gt 1 ] && rm -rf "$B"
done
expect_rc 0 "$MOAT" models fsck --models-dir "$S"

# ---- install ----
t0=$(now_ms)
"$MOAT" models install "$T/ref" --models-dir "$T/tref" >/dev/null || bad "reference install"
dur=$(( $(now_ms) - t0 )); [ "$dur" -gt 999 ] && dur=999; [ "$dur" -lt 20 ] && dur=20
for i in $(seq 1 "$RUNS"); do
	D=$T/t$i
	if [ $((i % 2)) = 0 ]; then cp -r "$T/other" "$D"; fi   # half of them hold other models
	kill_at "$(pick "$dur")" "$MOAT" models install "$T/ref" --models-dir "$D"
	if [ -d "$D" ]; then
		"$MOAT" models fsck --models-dir "$D" --quick >"$T/out" 2>&1 && ok || bad "after kill $i the store fails fsck: $(grep ERROR "$T/out" | head -3)"
		"$MOAT" models list --models-dir "$D" >"$T/out" 2>&1
		grep -q '^ *!' "$T/out" && bad "after kill $i the store shows a model whose blobs are not all in place: $(cat "$T/out")" || ok
	fi
	"$MOAT" models install "$T/ref" --models-dir "$D" >/dev/null 2>"$T/err" && ok || bad "install rerun $i failed: $(cat "$T/err")"
	expect_eq "$want" "$(quick_sig "$D")" "install rerun $i: list equals the source"
	"$MOAT" models fsck --models-dir "$D" >"$T/out" 2>&1 && ok || bad "install rerun $i: fsck: $(head -c 300 "$T/out")"
	ls -A "$D/blobs" "$D" | grep -q '^\.moat-tmp' && bad "install rerun $i left temporary files" || ok
	rm -rf "$D"
done
finish
