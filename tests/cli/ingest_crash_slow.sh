#!/bin/bash
# ingest_crash_slow.sh - crash safety and concurrency of ingest.
#
# kill -9 a large ingest at 20 random moments (a fixed seed; a moment that
# falls after the run's end is tried again earlier, so each kill lands in the
# run); after each kill the audit trail verifies and the workspace is
# consistent (every file row's document and object exist, every document has
# all its elements); a rerun ends with exactly the right documents, each path
# once, and names in the trail exactly the runs the kill left unfinished.  One
# more kill is sure to land inside a recorded run (the run is stopped first).
# Then two writers at once: the second waits for the first, and both finish.
. "$(dirname "$0")/lib.sh"

N=${CRASH_FILES:-800}
mkdir -p "$T/in"
python3 - "$T/in" "$N" <<'PY'
import os, random, sys
root, n = sys.argv[1], int(sys.argv[2])
rnd = random.Random(7)
words = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu".split()
for i in range(n):
    d = os.path.join(root, "d%02d" % (i % 17))
    os.makedirs(d, exist_ok=True)
    body = "\n\n".join(" ".join(rnd.choice(words) for _ in range(60)) for _ in range(12))
    ext = ".md" if i % 3 == 0 else ".txt"
    with open(os.path.join(d, "f%05d%s" % (i, ext)), "w") as f:
        f.write("# Document %d\n\n%s\n" % (i, body))
PY

W=$T/ws
"$MOAT" init "$W" >/dev/null

consistent() { # the invariants a crash must never break
	sqlite3 "$W/moat.db" "PRAGMA integrity_check" | grep -qx ok || { bad "integrity_check after kill $1"; return; }
	local orphan
	orphan=$(sqlite3 "$W/moat.db" "select count(*) from files f where f.status='ok' and not exists (select 1 from documents d where d.id=f.doc_id)")
	expect_eq 0 "$orphan" "file rows without their document after kill $1"
	local short
	short=$(sqlite3 "$W/moat.db" "select count(*) from documents d where d.n_elements <> (select count(*) from elements e where e.doc_id=d.id)")
	expect_eq 0 "$short" "documents missing elements after kill $1"
	local missing=0 id
	for id in $(sqlite3 "$W/moat.db" "select doc_id from files where doc_id is not null"); do
		[ -f "$W/objects/${id:0:2}/${id:2}" ] || missing=$((missing + 1))
	done
	expect_eq 0 "$missing" "objects missing after kill $1"
	ls "$W"/objects/*/*tmp-* >/dev/null 2>&1 && bad "a temporary file sits among the objects after kill $1"
	expect_rc 0 "$MOAT" -w "$W" audit verify
}

# How long one full run takes, to spread the kills over it.
start=$(date +%s%N)
"$MOAT" init "$T/probe" >/dev/null && "$MOAT" -w "$T/probe" ingest "$T/in" -j 2 >/dev/null
full_ms=$(( ($(date +%s%N) - start) / 1000000 ))
rm -rf "$T/probe"
[ "$full_ms" -lt 200 ] && full_ms=200

# kill_run DELAY_MS: a fresh workspace and an ingest into it, killed with
# SIGKILL after DELAY_MS (lib.sh's kill_after).
kill_run() {
	rm -rf "$W" && "$MOAT" init "$W" >/dev/null
	kill_after "$1" "$MOAT" -w "$W" ingest "$T/in" -j 2
}

# after_kill K: the invariants, then a rerun that finishes the job and names
# exactly the runs the kill left unfinished (none if it landed before the run
# was recorded, one if after) in the trail.
interrupted_total=0
after_kill() {
	local pending rerun_named
	consistent "$1"
	pending=$(sqlite3 "$W/moat.db" "select count(*) from runs where audited = 0")
	"$MOAT" -w "$W" ingest "$T/in" -j 2 --json >"$T/rerun.json" 2>"$T/rerun.err" || bad "rerun after kill $1 failed: $(head -c 300 "$T/rerun.err")"
	expect_eq "$N|$N|$N|1" "$(sqlite3 "$W/moat.db" "select count(distinct path), count(*), (select count(*) from documents), max(version) from files where status='ok'")" "exact documents after kill $1 and a rerun"
	expect_rc 0 "$MOAT" -w "$W" audit verify
	[ -z "$(ls -A "$W/objects/.tmp" 2>/dev/null)" ] && ok || bad "temporary files not swept after kill $1"
	expect_eq "$pending" "$(sqlite3 "$W/moat.db" "select count(*) from runs where status = 'interrupted'")" "runs left unfinished by kill $1 recorded as interrupted"
	rerun_named=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1])).get("interrupted_runs") or []))' "$T/rerun.json" 2>&1)
	expect_eq "$pending" "$rerun_named" "the rerun after kill $1 names the interrupted runs"
	expect_eq 0 "$(sqlite3 "$W/moat.db" "select count(*) from runs where audited = 0")" "no run left unaccounted for after kill $1"
	interrupted_total=$((interrupted_total + pending))
}

echo "one full ingest of $N files: $full_ms ms"
RANDOM=42
killed=0
for k in $(seq 1 20); do
	# A fresh workspace each time, so every kill lands in real work.  Where a
	# run ended before its kill (this machine was faster than at the probe),
	# it is tried again at half the delay or half the run's time, whichever
	# is shorter, down to no delay at all.
	delay_ms=$(( RANDOM % full_ms ))
	landed=0
	for try in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16; do
		if kill_run "$delay_ms"; then landed=1; break; fi
		[ "$RUN_MS" -lt "$delay_ms" ] && delay_ms=$RUN_MS
		delay_ms=$(( delay_ms / 2 ))
	done
	[ "$landed" = 1 ] && killed=$((killed + 1))
	after_kill "$k"
done
echo "interrupted runs named in the audit trail: $interrupted_total"
expect_eq 20 "$killed" "kills that landed mid-run"

# And one kill that is sure to land inside a recorded run: the run is stopped
# (SIGSTOP) once its row is in the workspace and still unfinished, then killed.
landed=0
for try in 1 2 3 4 5; do
	rm -rf "$W" && "$MOAT" init "$W" >/dev/null
	"$MOAT" -w "$W" ingest "$T/in" -j 2 >/dev/null 2>&1 &
	pid=$!
	while kill -0 "$pid" 2>/dev/null &&
		[ "$(sqlite3 "$W/moat.db" "select count(*) from runs where audited = 0" 2>/dev/null)" != 1 ]; do
		sleep 0.01
	done
	kill -STOP "$pid" 2>/dev/null
	if [ "$(sqlite3 "$W/moat.db" "select count(*) from runs where audited = 0" 2>/dev/null)" = 1 ]; then
		kill -9 "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		landed=1
		break
	fi
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
done
expect_eq 1 "$landed" "a kill inside a recorded run"
after_kill "inside a run"
expect_eq 1 "$(sqlite3 "$W/moat.db" "select count(*) from runs where status = 'interrupted'")" "the stopped run is named interrupted"
"$MOAT" -w "$W" audit log --json >"$T/log.json"
expect_eq 1 "$(python3 -c 'import json,sys; print(sum(len((r.get("outputs") or {}).get("interrupted_runs") or []) for r in json.load(open(sys.argv[1]))))' "$T/log.json" 2>&1)" "the interrupted run is in the audit trail"

# Two writers at once: the second waits for the first; both finish intact.
mkdir -p "$T/in2" && for i in $(seq 1 200); do printf 'second batch %d\n' "$i" > "$T/in2/s$i.txt"; done
"$MOAT" -w "$W" ingest "$T/in2" -j 1 > "$T/a.out" 2> "$T/a.err" &
a=$!
"$MOAT" -w "$W" ingest "$T/in2" -j 1 > "$T/b.out" 2> "$T/b.err" &
b=$!
wait $a; ra=$?
wait $b; rb=$?
expect_eq "0 0" "$ra $rb" "both writers succeed"
expect_eq 200 "$(sqlite3 "$W/moat.db" "select count(*) from files where path like '%/in2/%'")" "second batch stored once"
expect_rc 0 "$MOAT" -w "$W" audit verify
finish
