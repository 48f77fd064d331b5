#!/bin/bash
# shard.sh - `--shard I/N` on ingest, clean and chunk: the N shards together
# do exactly what one run does, each item in one shard only; the same shard
# twice takes the same items; a sharded clean followed by an unsharded one
# equals one unsharded clean, document for document; bad values are usage
# errors.  Over the shared corpus (MOAT_TESTDATA).
. "$(dirname "$0")/lib.sh"
need_testdata corpus

cp -r "$TESTDATA/corpus" "$T/corpus"
EXCL=(--exclude '*.gt.json' --exclude password.pdf)
N=4

# what a workspace holds: documents (id, path) and, when cleaned, the texts
docs() { sqlite3 "$1/moat.db" "SELECT d.id, substr(f.path, length('$T/') + 1) FROM documents d
	JOIN files f ON f.doc_id = d.id WHERE d.parent_id IS NULL ORDER BY 1, 2"; }
alldocs() { sqlite3 "$1/moat.db" "SELECT id, type, n_elements, text FROM documents ORDER BY 1"; }
# The clean result, but for which member of a duplicate cluster is kept: the
# first ingested, and a sharded ingest ingests shard by shard (docs/cluster.md).
# The clusters themselves (who is a duplicate of whom), as sets.
cleaned() {
	sqlite3 "$1/moat.db" "SELECT doc_id, params, lang, norm_sha256, norm_text, text FROM clean_docs ORDER BY 1"
	sqlite3 "$1/moat.db" "SELECT doc_id, seq, norm_start, norm_end, start_cp, end_cp, lang,
		coalesce(norm_sha256, '') FROM clean_elements ORDER BY 1, 2"
	sqlite3 "$1/moat.db" "SELECT status, count(*) FROM clean_docs GROUP BY 1 ORDER BY 1"
	sqlite3 "$1/moat.db" "SELECT status, count(*) FROM clean_elements GROUP BY 1 ORDER BY 1"
	sqlite3 "$1/moat.db" "SELECT c.level, c.method, group_concat(m.member, ' ') FROM clean_clusters c
		JOIN (SELECT * FROM clean_cluster_members ORDER BY member) m ON m.cluster_id = c.id
		WHERE c.current = 1 GROUP BY c.id" | sort
}
chunks() { sqlite3 "$1/moat.db" "SELECT doc_id, seq, start_cp, end_cp, tokens, text FROM chunks ORDER BY 1, 2"; }

# --- ingest --------------------------------------------------------------------
"$MOAT" init "$T/one" >/dev/null
expect_rc 0 "$MOAT" -w "$T/one" ingest "$T/corpus" "${EXCL[@]}" -j 2
docs "$T/one" >"$T/one.docs"
total=$(wc -l <"$T/one.docs")
[ "$total" -gt 40 ] && ok || bad "the one-process run ingested only $total documents"

"$MOAT" init "$T/all" >/dev/null
: >"$T/union"
sum=0
for i in $(seq 0 $((N - 1))); do
	"$MOAT" init "$T/s$i" >/dev/null
	expect_rc 0 "$MOAT" -w "$T/s$i" ingest "$T/corpus" "${EXCL[@]}" -j 2 --shard "$i/$N" --json
	cp "$T/out" "$T/s$i.json"
	n=$(docs "$T/s$i" | wc -l)
	[ "$n" -gt 0 ] && ok || bad "shard $i/$N took no document"
	sum=$((sum + n))
	docs "$T/s$i" >>"$T/union"
	# the same workspace, shard after shard
	expect_rc 0 "$MOAT" -w "$T/all" ingest "$T/corpus" "${EXCL[@]}" -j 2 --shard "$i/$N"
	expect_grep "shard $i/$N: left [0-9]+ files to the other shards" "$T/out" "ingest --shard $i/$N says so"
	# the summary and the audit record name the shard
	expect_eq "$i $N" "$("$MOAT" -w "$T/s$i" audit log --json | python3 -c '
import json, sys
s = json.load(sys.stdin)[-1]["inputs"]["shard"]
print(s["index"], s["count"])')" "the audit record of shard $i"
done
expect_eq "$total" "$sum" "documents of the $N shards together (disjoint: each in one shard)"
expect_eq "$(cat "$T/one.docs")" "$(sort "$T/union")" "the $N shards ingest what one run does"
expect_eq "$(cat "$T/one.docs")" "$(docs "$T/all")" "the $N shards one after the other in one workspace"
expect_eq "$(alldocs "$T/one")" "$(alldocs "$T/all")" "every document (attachments too) and its text"

# a rerun of a shard takes the same files (and changes nothing)
"$MOAT" init "$T/again" >/dev/null
expect_rc 0 "$MOAT" -w "$T/again" ingest "$T/corpus" "${EXCL[@]}" -j 2 --shard "1/$N"
expect_eq "$(docs "$T/s1")" "$(docs "$T/again")" "shard 1/$N twice takes the same files"
expect_rc 0 "$MOAT" -w "$T/all" ingest "$T/corpus" "${EXCL[@]}" -j 2 --shard "1/$N"
expect_grep "nothing changed" "$T/out" "a shard run again changes nothing"
expect_eq "$(cat "$T/one.docs")" "$(docs "$T/all")" "a shard run again leaves the other shards' documents"

# the ids are paths below the root named: the corpus elsewhere shards the same
mv "$T/corpus" "$T/moved"
"$MOAT" init "$T/mv" >/dev/null
expect_rc 0 "$MOAT" -w "$T/mv" ingest "$T/moved" "${EXCL[@]}" -j 2 --shard "2/$N"
expect_eq "$(docs "$T/s2" | cut -d'|' -f1)" "$(docs "$T/mv" | cut -d'|' -f1)" \
	"shard 2/$N of the corpus mounted elsewhere takes the same files"
mv "$T/moved" "$T/corpus"

# --- clean: shards, then one unsharded run = one unsharded run -----------------
CLEAN=(--normalize --dedup near -j 2)
expect_rc 0 "$MOAT" -w "$T/one" clean "${CLEAN[@]}"
for i in $(seq 0 $((N - 1))); do
	expect_rc 0 "$MOAT" -w "$T/all" clean "${CLEAN[@]}" --shard "$i/$N"
	expect_grep "cleaned shard $i/$N: [0-9]+ documents" "$T/out" "clean --shard $i/$N"
	expect_grep "duplicates are not marked by a shard" "$T/out" "clean --shard says what is left"
done
expect_eq 0 "$(sqlite3 "$T/all/moat.db" 'SELECT count(*) FROM clean_clusters')" "no clusters before the unsharded run"
expect_eq "$(sqlite3 "$T/one/moat.db" 'SELECT count(*) FROM documents')" \
	"$(sqlite3 "$T/all/moat.db" 'SELECT count(*) FROM clean_docs')" "the shards cleaned every document"
expect_rc 0 "$MOAT" -w "$T/all" clean "${CLEAN[@]}" --json
expect_eq "0 $total" "$(python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))["counts"]; print(c["processed"], c["unchanged"] - (c["documents"] - '"$total"'))' "$T/out")" \
	"the final unsharded clean processes nothing the shards did"
clusters=$(sqlite3 "$T/one/moat.db" 'SELECT count(*) FROM clean_clusters')
[ "$clusters" -gt 0 ] && ok || bad "the corpus has no duplicates: the dedup comparison proves nothing"
expect_eq "$(cleaned "$T/one")" "$(cleaned "$T/all")" "sharded clean + unsharded clean = one clean"

# --- chunk: the shards of a set = the set made in one run ------------------------
cp -r "$T/all" "$T/all2"
expect_rc 0 "$MOAT" -w "$T/all" chunk --max-tokens 200
for i in $(seq 0 $((N - 1))); do
	expect_rc 0 "$MOAT" -w "$T/all2" chunk --max-tokens 200 --shard "$i/$N"
	expect_grep "shard $i/$N: left [0-9]+ documents to the other shards" "$T/out" "chunk --shard $i/$N"
done
[ "$(chunks "$T/all" | wc -l)" -gt 50 ] && ok || bad "too few chunks to compare"
expect_eq "$(chunks "$T/all")" "$(chunks "$T/all2")" "the $N chunk shards = one chunk run"

# --- shards run side by side -----------------------------------------------------
# A shard takes the writer lock shared (docs/cluster.md): beside another
# shard's lock (held here by flock -s, as a running shard holds it) a shard
# runs at once; a run of the whole workspace waits for the shards, and a shard
# for a whole run.  Ingest's shards share SQLite too (it commits in small
# batches); clean's and chunk's only a PostgreSQL store (one transaction each).
hold() { # hold -s|-x: moat.lock of $T/par held in the background ($holder)
	# the lock on an fd of the process itself, so that killing it lets go
	# (flock FILE CMD would leave it with CMD, a child that outlives it)
	(exec 9<>"$T/par/moat.lock" && flock "$1" 9 && exec sleep 600) &
	holder=$!
	for _ in $(seq 1 200); do flock -n -x "$T/par/moat.lock" true || return 0; sleep 0.05; done
	bad "flock $1 did not take moat.lock"
}
release() { kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null; }
# waits WHAT CMD...: CMD, started while the lock is held, says it waits; once
# the lock is let go it finishes with 0
waits() {
	local what=$1 pid rc
	shift
	"$@" >"$T/w.out" 2>"$T/w.err" &
	pid=$!
	for _ in $(seq 1 600); do grep -q "waiting for it to finish" "$T/w.err" && break; sleep 0.1; done
	expect_grep "is busy: another moat \(pid [0-9]+\) is writing to it; waiting for it to finish" \
		"$T/w.err" "$what waits"
	release
	wait "$pid"
	rc=$?
	expect_eq 0 "$rc" "$what goes on when the lock is let go ($(head -c 300 "$T/w.err"))"
}
"$MOAT" init "$T/par" >/dev/null
hold -s
expect_rc 0 "$MOAT" -w "$T/par" ingest "$T/corpus" "${EXCL[@]}" -j 1 --shard "0/$N"
grep -q waiting "$T/err" && bad "an ingest shard waited for another shard: $(cat "$T/err")" || ok
waits "a whole ingest beside a shard" "$MOAT" -w "$T/par" ingest "$T/corpus" "${EXCL[@]}" -j 1
hold -x
waits "an ingest shard beside a whole run" "$MOAT" -w "$T/par" ingest "$T/corpus" "${EXCL[@]}" \
	-j 1 --shard "1/$N"
expect_eq "$(cat "$T/one.docs")" "$(docs "$T/par")" "shards and whole runs side by side ingest what one run does"
hold -s
if [ -n "${MOAT_STORE:-}" ]; then
	for stage in "clean --normalize" "chunk --max-tokens 200"; do
		# shellcheck disable=SC2086
		expect_rc 0 "$MOAT" -w "$T/par" $stage --shard "0/$N"
		grep -q waiting "$T/err" && bad "a $stage shard waited on PostgreSQL: $(cat "$T/err")" || ok
	done
	release
else
	# shellcheck disable=SC2086
	waits "a clean shard on SQLite" "$MOAT" -w "$T/par" clean --normalize --shard "0/$N"
	# a shard leaves a run still going alone: only a whole run judges it
	# interrupted (here a run of a pid that cannot be alive)
	sqlite3 "$T/par/moat.db" "INSERT INTO runs(command, started_at, status, pid)
		VALUES('ingest', '2026-01-01T00:00:00Z', 'running', 2147483646)"
	expect_rc 0 "$MOAT" -w "$T/par" ingest "$T/corpus" "${EXCL[@]}" -j 1 --shard "2/$N"
	expect_eq running "$(sqlite3 "$T/par/moat.db" "SELECT status FROM runs WHERE pid = 2147483646")" \
		"a shard leaves another run's record as it is"
	expect_rc 0 "$MOAT" -w "$T/par" ingest "$T/corpus" "${EXCL[@]}" -j 1
	expect_grep "recorded 1 interrupted earlier run" "$T/out" "a whole run records it"
	expect_eq interrupted "$(sqlite3 "$T/par/moat.db" "SELECT status FROM runs WHERE pid = 2147483646")" \
		"... as interrupted"
fi

# --- bad values ----------------------------------------------------------------
for v in 4/4 5/4 -1/4 1/0 0/4097 a/b 1/4x 1 /4 1/ '' ' 1/4' 1//4; do
	expect_rc 2 "$MOAT" -w "$T/all" ingest "$T/corpus" --shard "$v"
	expect_grep "shard takes I/N" "$T/err" "ingest --shard '$v' says why"
	expect_rc 2 "$MOAT" -w "$T/all" clean --shard "$v"
	expect_rc 2 "$MOAT" -w "$T/all" chunk --shard "$v"
done
expect_rc 0 "$MOAT" -w "$T/all" ingest "$T/corpus" "${EXCL[@]}" --shard 4095/4096
finish
