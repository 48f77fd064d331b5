#!/bin/bash
# clean_crash_slow.sh - crash safety of `moat clean`.
#
# A workspace of the shared corpus and 1000 generated text files (exact,
# normalised and near duplicates, shared paragraphs, documents the filters
# drop, PII: names, e-mails, phones, card and social security numbers) is
# cleaned with every step on (--normalize --dedup near --filters --pii -j 2).
# `clean` is killed with SIGKILL at 20 seeded moments spread over the run,
# from its start to its end (the dedup and the commit included), half of them
# over a workspace cleaned before with other options; then at four exact
# points of the commit, reached through strace: the last write to the WAL
# before the commit's sync, that sync, the checkpoint halfway through its
# writes into moat.db, and the write of audit.head after the commit.
#
# After each kill: the database is intact; `audit verify` passes; `clean
# status --json` opens the workspace and parses; the cleaned tables hold
# exactly the state before the run or exactly the state of a run never
# killed (nothing in between), and the audit trail has the run's record if
# and only if the state is the new one.  Then a rerun cleans what is left
# (all, or nothing), ends with exactly the state of the reference (clean_docs,
# clean_elements, PII findings, clusters, clean_meta; run ids, row ids and
# times left out), and a second run changes nothing.
. "$(dirname "$0")/lib.sh"
need_testdata corpus
command -v sqlite3 >/dev/null || { echo "FAIL: sqlite3 is not installed"; exit 1; }
command -v strace >/dev/null || { echo "FAIL: strace is not installed (scripts/bootstrap installs it)"; exit 1; }

N=${CLEAN_CRASH_FILES:-1000}
ROUNDS=${CLEAN_CRASH_ROUNDS:-20}

# --- the documents ---------------------------------------------------------
mkdir -p "$T/in/corpus"
for f in fake-text.txt wiki.md fake-html-cp1252.html fake-email.eml csv-comma.csv docx-hdrftr.docx \
	handbook-1p.docx word_sample.docx powerpoint_sample.pptx stanley-cups.xlsx multi_page.pdf \
	wiki_duck.html; do
	cp "$TESTDATA/corpus/$f" "$T/in/corpus/" || bad "corpus file $f"
done
python3 - "$T/in/gen" "$N" <<'PY'
import os, random, sys
root, n = sys.argv[1], int(sys.argv[2])
rnd = random.Random(14)
words = ("river stone garden window silver market bridge candle forest harbor lantern meadow "
         "orchard pepper quartz saddle tunnel velvet walnut yellow anchor basket copper desert "
         "engine feather glacier hammer island jacket kettle ladder marble needle oyster pillow").split()
first = "jane john maria wei amir olga pedro sara".split()
last = "roe doe silva chen haddad petrova lopez berg".split()
FOOT = "Confidential - internal use only"
def para():
    return " ".join(rnd.choice(words) for _ in range(60))
def card():  # a Luhn-valid 16-digit number in groups of four
    d = [4, 0, 1, 2] + [rnd.randrange(10) for _ in range(11)]
    s = sum((x * 2 - 9 if x * 2 > 9 else x * 2) if i % 2 == 0 else x
            for i, x in enumerate(reversed(d)))
    c = "".join(map(str, d + [(10 - s % 10) % 10]))
    return " ".join(c[i:i + 4] for i in range(0, 16, 4))
bodies = []
for i in range(n):
    ps = [para() for _ in range(rnd.randint(3, 7))]
    kind = i % 10
    if kind == 3 and bodies:    # an exact copy of an earlier one (one document)
        text = rnd.choice(bodies)
    elif kind == 5 and bodies:  # a near duplicate: one word changed
        w = rnd.choice(bodies).split(" ")
        w[rnd.randrange(len(w))] = "RIVERBANK"
        text = " ".join(w)
    elif kind == 7 and bodies:  # the same once normalised: doubled spaces, fullwidth letters
        text = rnd.choice(bodies).replace(" ", "  ", 40).replace("river", "\uff52\uff49\uff56\uff45\uff52")
    elif kind == 9:             # too short: the filters drop it
        text = "ok %d" % i
    else:
        if kind in (1, 4, 8):
            f, l = rnd.choice(first), rnd.choice(last)
            ps.insert(rnd.randrange(len(ps) + 1),
                      "Dear %s %s, card %s, e-mail %s.%s%d@example.org, phone +1 415-555-%04d, "
                      "SSN %03d-%02d-%04d." % (f.title(), l.title(), card(), f, l, i,
                                              rnd.randrange(10000), rnd.randrange(100, 600),
                                              rnd.randrange(10, 99), rnd.randrange(1000, 9999)))
        if kind in (2, 6) and bodies:  # a paragraph another document has too
            ps.append(rnd.choice(bodies[:20]).split("\n\n")[0])
        ps.append(FOOT)
        text = "\n\n".join(ps)
        bodies.append(text)
    d = os.path.join(root, "g%02d" % (i % 7))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "t%04d.txt" % i), "w") as fh:
        fh.write(text + "\n")
PY

cat >"$T/filters.ini" <<'EOF'
[document]
min_chars = 20
max_symbol_ratio = 0.3
[element]
max_digit_ratio = 0.9
EOF
"$MOAT" pii keygen "$T/pii.key" >/dev/null || bad "pii keygen"
cat >"$T/policy.ini" <<EOF
[pii]
threshold = 0.4
salt = crash-salt
key_file = $T/pii.key
[operators]
DEFAULT = replace
CREDIT_CARD = mask keep=4
EMAIL_ADDRESS = pseudonymize
PHONE_NUMBER = encrypt
US_SSN = hash
DATE_TIME = keep
EOF
CLEAN=(clean --normalize --dedup near --filters "$T/filters.ini" --pii "$T/policy.ini" -j 2)

# Two starting points: B0 ingested only, B1 cleaned before with other options
# (its clusters and statuses are then replaced by the run, not made new).
"$MOAT" init "$T/B0" >/dev/null && "$MOAT" -w "$T/B0" ingest "$T/in" -j 2 >/dev/null ||
	{ bad "ingest"; finish; exit 1; }
cp -a "$T/B0" "$T/B1"
"$MOAT" -w "$T/B1" clean --dedup exact --filters "$T/filters.ini" -j 2 >/dev/null || bad "first clean of B1"

# dump WS OUT: the cleaned tables in a canonical order, without run ids, row
# ids and times; long texts by their SHA-256.
dump() {
	python3 - "$1/moat.db" >"$2" <<'PY' || bad "dump of $1"
import hashlib, sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
def h(v):
    if isinstance(v, bytes):
        v = v.hex()
    if isinstance(v, str) and len(v) > 64:
        return hashlib.sha256(v.encode()).hexdigest()
    return repr(v)
def out(table, sql):
    rows = sorted("|".join(h(c) for c in r) for r in (db.execute(sql) if isinstance(sql, str) else sql))
    print("== %s %d" % (table, len(rows)))
    for r in rows:
        print(r)
out("clean_docs", "SELECT doc_id, params, status, reason, lang, lang_score, norm_sha256, norm_text, text,"
    " text_length, n_elements, minhash, stats FROM clean_docs")
out("clean_elements", "SELECT doc_id, seq, type, norm_start, norm_end, start_cp, end_cp, lang, lang_score,"
    " status, reason, norm_sha256, offset_map FROM clean_elements")
out("pii_findings", "SELECT doc_id, seq, type, start_cp, end_cp, orig_start, orig_end, score, recognizer,"
    " operator, value_digest, replacement, review, current FROM pii_findings")
members = {}
for cid, m, sim, kept in db.execute("SELECT cluster_id, member, similarity, kept FROM clean_cluster_members"):
    members.setdefault(cid, []).append("%s:%r:%d" % (m, sim, kept))
out("clean_clusters", [r[1:] + (" ".join(sorted(members.get(r[0], []))),) for r in
    db.execute("SELECT id, level, method, kept, reason, size, current FROM clean_clusters")])
out("clean_meta", "SELECT key, value FROM clean_meta")
PY
}
n_audit() { sqlite3 "$1/moat.db" "select count(*) from audit"; }
j() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@" 2>&1; }

# The references: each starting point cleaned once, never killed.  The run
# on B0 is watched (which slows it): while more than one thread runs it
# cleans documents on the workers; after the last of them, it deduplicates
# and commits.  The run on B1, which cleans as many documents, is timed.
for v in 0 1; do
	dump "$T/B$v" "$T/before$v"
	cp -a "$T/B$v" "$T/R$v"
	t0=$(date +%s%N)
	"$MOAT" -w "$T/R$v" "${CLEAN[@]}" --json >"$T/ref$v.json" 2>"$T/err" &
	pid=$!
	workers_from=0 workers_to=0
	while [ "$v" = 0 ] && [ -d "/proc/$pid/task" ]; do
		if [ "$(ls "/proc/$pid/task" 2>/dev/null | wc -l)" -gt 1 ]; then
			workers_to=$(( ($(date +%s%N) - t0) / 1000000 ))
			[ "$workers_from" = 0 ] && workers_from=$workers_to
		fi
		sleep 0.005
	done
	wait "$pid" || bad "reference clean $v: $(head -c 300 "$T/err")"
	ms=$(( ($(date +%s%N) - t0) / 1000000 + 1 ))
	if [ "$v" = 0 ]; then
		# in thousandths of the run
		clean_from=$(( workers_from * 1000 / ms )) dedup_from=$(( workers_to * 1000 / ms ))
	else
		full_ms=$(( ms < 200 ? 200 : ms ))
	fi
	dump "$T/R$v" "$T/after$v"
	processed[$v]=$(j "$T/ref$v.json" "d['counts']['processed']")
	audits[$v]=$(n_audit "$T/B$v")
	expect_rc 0 "$MOAT" -w "$T/R$v" audit verify
	expect_eq "$((audits[$v] + 1))" "$(n_audit "$T/R$v")" "the reference run $v is audited"
done
echo "[$SECONDS s] one full clean: $full_ms ms; it cleans documents from $clean_from/1000 of its time," \
	"deduplicates from $dedup_from/1000; processed ${processed[0]} and ${processed[1]}"
# the run does every part of the work, or the kills test less than they say
expect_eq True "$(j "$T/ref0.json" "all(d['counts'][k] > 0 for k in ('kept', 'dropped', 'duplicates', \
'near_duplicates', 'elements_duplicate', 'findings', 'clusters_document', 'clusters_element'))")" \
	"every part of clean has work"
expect_eq True "$(j "$T/ref0.json" "all(d['findings_by_type'].get(k, 0) > 0 for k in ('CREDIT_CARD', \
'EMAIL_ADDRESS', 'PHONE_NUMBER', 'US_SSN', 'PERSON'))")" "findings of each kind"
cmp -s "$T/before0" "$T/after0" && bad "the reference run changed nothing" || ok
cmp -s "$T/before1" "$T/after1" && bad "the reference run over B1 changed nothing" || ok
# cleaning over an older clean gives what cleaning from scratch gives
# (the rows the older run made stay, marked not current)
python3 - "$T/after0" "$T/after1" >"$T/cur.diff" <<'PY'
import sys
def current(path):
    # clusters and findings: only the rows still current
    out, table = [], None
    for line in open(path):
        line = line.rstrip("\n")
        if line.startswith("== "):
            table = line.split()[1]
            continue
        f = line.split("|")
        if table == "clean_clusters" and f[5] != "1":
            continue
        if table == "pii_findings" and f[-1] != "1":
            continue
        if table == "clean_meta":
            continue
        out.append((table, line))
    return out
a, b = current(sys.argv[1]), current(sys.argv[2])
print("same" if a == b else "differ: %r" % (sorted(set(a) ^ set(b))[:3],))
PY
expect_eq same "$(cat "$T/cur.diff")" "cleaning over an older clean gives the current state of a clean from scratch"

# check_kill LABEL V: the invariants after a kill on a copy of B$V in $W,
# then a rerun to the end and a second run; STATE says which side it saw.
declare -A seen
check_kill() {
	local label=$1 v=$2 state want_audit want_processed
	sqlite3 "$W/moat.db" "PRAGMA integrity_check" 2>&1 | grep -qx ok && ok || bad "$label: integrity_check"
	expect_rc 0 "$MOAT" -w "$W" audit verify
	"$MOAT" -w "$W" clean status --json >"$T/status.json" 2>"$T/err" || bad "$label: clean status failed: $(head -c 300 "$T/err")"
	python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$T/status.json" 2>/dev/null && ok ||
		bad "$label: clean status --json does not parse: $(head -c 300 "$T/status.json")"
	dump "$W" "$T/state"
	if cmp -s "$T/state" "$T/before$v"; then
		state=before; want_audit=${audits[$v]}; want_processed=${processed[$v]}
	elif cmp -s "$T/state" "$T/after$v"; then
		state=after; want_audit=$((audits[$v] + 1)); want_processed=0
	else
		state=torn
		bad "$label: the cleaned tables hold neither the state before the run nor after it; against after: $(diff "$T/after$v" "$T/state" | head -5 | cut -c1-200)"
	fi
	STATE=$state
	seen[$state]=$((${seen[$state]:-0} + 1))
	[ "$state" != torn ] && expect_eq "$want_audit" "$(n_audit "$W")" "$label: audit records for the state $state"
	"$MOAT" -w "$W" "${CLEAN[@]}" --json >"$T/rerun.json" 2>"$T/err" || bad "$label: rerun failed: $(head -c 300 "$T/err")"
	[ "$state" != torn ] && expect_eq "$want_processed" "$(j "$T/rerun.json" "d['counts']['processed']")" \
		"$label: documents the rerun cleans"
	dump "$W" "$T/state"
	cmp -s "$T/state" "$T/after$v" && ok ||
		bad "$label: after the rerun the state differs from the reference: $(diff "$T/after$v" "$T/state" | head -5 | cut -c1-200)"
	expect_rc 0 "$MOAT" -w "$W" audit verify
	"$MOAT" -w "$W" "${CLEAN[@]}" --json >"$T/again.json" 2>"$T/err" || bad "$label: second run failed: $(head -c 300 "$T/err")"
	expect_eq "0 ${processed[0]}" "$(j "$T/again.json" "'%d %d' % (d['counts']['processed'], d['counts']['unchanged'])")" \
		"$label: a second run changes nothing (processed, unchanged)"
	expect_rc 0 "$MOAT" -w "$W" audit verify
}

# fresh V: W is a copy of B$V again.  The objects, which clean never
# touches, are copied once (thousands of files); then only the database and
# audit.head.
fresh() {
	W=$T/ws$1
	if [ ! -d "$W" ]; then
		cp -a "$T/B$1" "$W"
		return
	fi
	rm -f "$W/moat.db-wal" "$W/moat.db-shm" "$W/audit.head"
	for f in moat.db moat.db-wal audit.head; do
		[ -e "$T/B$1/$f" ] && cp "$T/B$1/$f" "$W/$f"
	done
}

# kill_run V DELAY_MS: a copy of B$V and a clean in it, killed with SIGKILL
# after DELAY_MS (lib.sh's kill_after).
kill_run() {
	fresh "$1"
	kill_after "$2" "$MOAT" -w "$W" "${CLEAN[@]}"
}

RANDOM=14
killed=0
est_ms=$full_ms
declare -A phases
for k in $(seq 1 "$ROUNDS"); do
	# round k kills at a moment in the k-th of ROUNDS equal slices of the
	# run (in thousandths of it), of the shortest run seen so far; where the
	# run ended first, the same share of the time it took, less a tenth
	v=$((k % 2))
	share=$(( ((k - 1) * 1000 + RANDOM % 1000) / ROUNDS ))
	try_ms=$est_ms
	landed=0
	for try in 1 2 3 4 5 6 7 8; do
		delay_ms=$(( share * try_ms / 1000 ))
		if kill_run "$v" "$delay_ms"; then landed=1; break; fi
		[ "$RUN_MS" -lt "$est_ms" ] && est_ms=$RUN_MS
		try_ms=$(( (RUN_MS < try_ms ? RUN_MS : try_ms) * 9 / 10 ))
	done
	[ "$landed" = 1 ] && killed=$((killed + 1))
	if [ "$share" -lt "$clean_from" ]; then phase="setting up"
	elif [ "$share" -lt "$dedup_from" ]; then phase=cleaning
	else phase="dedup and commit"; fi
	phases[$phase]=$((${phases[$phase]:-0} + 1))
	check_kill "kill $k" "$v"
	echo "kill $k (B$v) at $delay_ms ms, $share/1000 of the run ($phase): $STATE"
done
echo "[$SECONDS s] $killed of $ROUNDS kills landed mid-run"
expect_eq "$ROUNDS" "$killed" "kills that landed mid-run"
echo "kills by phase (estimated): ${phases[setting up]:-0} setting up, ${phases[cleaning]:-0} cleaning, ${phases[dedup and commit]:-0} dedup and commit"

# The commit, at exact points: strace kills clean on the Nth call of one
# system call on one file, counted in a run traced the same way, never killed.
fresh 0
strace -f --seccomp-bpf -qq -y -o "$T/trace" -P "$W/moat.db-wal" -P "$W/moat.db" -e trace=pwrite64,fdatasync \
	"$MOAT" -w "$W" "${CLEAN[@]}" >/dev/null 2>&1 || bad "a traced clean failed"
calls() { grep -c "^[0-9]* *$1(.*<$W/$2>" "$T/trace"; }
wal_syncs=$(calls fdatasync moat.db-wal)
# the WAL takes the pages the run spills as it goes, then the commit's
# frames, the last of them just before the commit's sync (the second to last
# sync of the WAL; the last one begins the checkpoint)
last_frame=$(grep "<$W/moat.db-wal>" "$T/trace" |
	awk -v s="$((wal_syncs - 1))" '/fdatasync\(/ && ++n == s {print w; exit} /pwrite64\(/ {w++}')
db_writes=$(calls pwrite64 moat.db)
echo "the WAL: $(calls pwrite64 moat.db-wal) writes, $wal_syncs syncs (the commit's last frame: write $last_frame);" \
	"moat.db: $db_writes writes"
POINTS=(
	"moat.db-wal pwrite64 $last_frame the commit's last frame"
	"moat.db-wal fdatasync $((wal_syncs - 1)) the commit's sync"
	"moat.db pwrite64 $(( (db_writes + 1) / 2 )) the checkpoint, halfway"
	"audit.head write 1 the write of audit.head"
)
declare -A at
for p in "${POINTS[@]}"; do
	read -r file call when what <<<"$p"
	fresh 0
	# (not with --seccomp-bpf: strace 6.1 then leaves signal= uninjected)
	{ strace -f -qq -o /dev/null -P "$W/$file" -e trace="$call" -e inject="$call:signal=KILL:when=$when" \
		"$MOAT" -w "$W" "${CLEAN[@]}" >/dev/null 2>&1; } 2>/dev/null  # no "Killed" from bash
	rc=$?
	expect_eq 137 "$rc" "the kill at $what ($call $when on $file)"
	check_kill "kill at $what" 0
	at[$STATE]=1
	echo "kill at $what: $STATE"
done
# around the commit, both sides were seen: the kills bracket it
expect_eq "1 1" "${at[before]:-0} ${at[after]:-0}" "the commit's kills saw the state before and after it"
echo "[$SECONDS s] states after the kills: ${seen[before]:-0} before, ${seen[after]:-0} after, ${seen[torn]:-0} torn"
finish
