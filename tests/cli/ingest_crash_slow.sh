#!/bin/bash
# ingest_crash_slow.sh - crash safety and concurrency of ingest.
#
# kill -9 a large ingest at 20 random moments; after each kill the audit
# trail verifies and the workspace is consistent (every file row's document
# and object exist, every document has all its elements); a final rerun ends
# with exactly the right documents, each path once.  Then two writers at once:
# the second waits for the first, and both finish.
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

echo "one full ingest of $N files: $full_ms ms"
RANDOM=42
killed=0
for k in $(seq 1 20); do
	# A fresh workspace each time, so every kill lands in real work.
	rm -rf "$W" && "$MOAT" init "$W" >/dev/null
	delay_ms=$(( RANDOM % full_ms ))
	"$MOAT" -w "$W" ingest "$T/in" -j 2 >/dev/null 2>&1 &
	pid=$!
	sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
	if kill -9 "$pid" 2>/dev/null; then killed=$((killed + 1)); fi
	wait "$pid" 2>/dev/null
	consistent "$k"
	# The rerun finishes the job with exactly the right documents.
	"$MOAT" -w "$W" ingest "$T/in" -j 2 >/dev/null 2>"$T/rerun.err" || bad "rerun after kill $k failed: $(head -c 300 "$T/rerun.err")"
	expect_eq "$N|$N|$N|1" "$(sqlite3 "$W/moat.db" "select count(distinct path), count(*), (select count(*) from documents), max(version) from files where status='ok'")" "exact documents after kill $k and a rerun"
	expect_rc 0 "$MOAT" -w "$W" audit verify
	[ -z "$(ls -A "$W/objects/.tmp")" ] && ok || bad "temporary files not swept after kill $k"
	recorded=$(sqlite3 "$W/moat.db" "select count(*) from runs where status='interrupted'")
	interrupted_total=$((${interrupted_total:-0} + recorded))
done
echo "interrupted runs named in the audit trail: $interrupted_total"
[ "$interrupted_total" -ge 10 ] && ok || bad "only $interrupted_total interrupted runs recorded"
echo "killed $killed of 20 runs mid-way"
[ "$killed" -ge 15 ] && ok || bad "only $killed of 20 kills landed mid-run"
# The runs the kills cut short are named in the trail of the last workspace.
"$MOAT" -w "$W" audit log --json > "$T/log.json"

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
