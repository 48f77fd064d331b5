#!/bin/bash
# slurm_sacct.sh - `moat slurm status` and `rerun` from sacct's records, on a
# single-node Slurm cluster whose accounting is real: slurmdbd storing into
# a throw-away MariaDB (tests/slurm_cluster.sh --accounting).  A 4-task
# ingest array is submitted while the partition is down (pending) and then
# held by the workspace's writer lock, which the test takes first, so that
# all four shards are running (each waiting for the lock) whatever the
# timing; one of them is cancelled with scancel.  Status says pending,
# running, then done and failed (CANCELLED), with source sacct; removing
# every exit file changes nothing (sacct answers, not the files), while the
# same status with sacct refusing does change (the files are then all there
# is), and a shard sacct omits comes from the files; rerun submits the
# cancelled shard alone, and the workspace then equals a one-process ingest.
. "$(dirname "$0")/lib.sh"
. "$SRC/tests/slurm_cluster.sh"
need_testdata corpus
holder=""
trap '[ -n "$holder" ] && kill "$holder" 2>/dev/null; slurm_stop; rm -rf "$T"' EXIT

slurm_start "$T/cluster" --accounting
rc=$?
if [ "$rc" = 77 ]; then
	[ "${CI:-}" = true ] && { echo "FAIL: Slurm's accounting is not installed (scripts/bootstrap installs it)"; exit 1; }
	echo "SKIP: slurmdbd or MariaDB is not installed"; exit 77
fi
[ "$rc" = 0 ] || { echo "FAIL: the test cluster with accounting did not start"; exit 1; }

# the corpus's files that need no OCR: quick to ingest, several per shard
mkdir "$T/corpus"
find "$TESTDATA/corpus" -maxdepth 1 -type f \( -name '*.txt' -o -name '*.csv' -o -name '*.html' \
	-o -name '*.eml' -o -name '*.docx' -o -name '*.md' \) ! -name '*.gt.*' -exec cp {} "$T/corpus/" \;
[ "$(ls "$T/corpus" | wc -l)" -ge 8 ] && ok || bad "too few files in the corpus: $(ls "$T/corpus")"
docs() { sqlite3 "$1/moat.db" "SELECT d.id, d.type, d.n_elements, f.path, d.text FROM documents d
	LEFT JOIN files f ON f.doc_id = d.id ORDER BY 1, 4"; }
status_json() { # WS JOB: the shards of each state and the source, one line
	"$MOAT" -w "$1" slurm status "$2" --json | python3 -c '
import json, sys
j = json.load(sys.stdin)
print("done=%s running=%s pending=%s failed=%s source=%s" % (j["done"], j["running"], j["pending"],
      ["%d:%s" % (f["shard"], f["why"]) for f in j["failed"]], j["source"]))'
}
# until WS JOB PATTERN: asks status every 0.5 s until its line matches the
# extended regular expression (sacct's records follow slurmctld by a moment);
# the line on stdout either way, gives up after a minute
until_status() {
	local line i
	for i in $(seq 120); do
		line=$(status_json "$1" "$2")
		grep -qE -- "$3" <<<"$line" && break
		sleep 0.5
	done
	printf '%s\n' "$line"
}
ingest_array() { # WS: submits a 4-task ingest array; its id into $job
	expect_rc 0 "$MOAT" -w "$1" slurm ingest "$T/corpus" --array 4
	job=$(head -n 1 "$T/out")
}
queued() { # JOB STATE: the tasks squeue lists in STATE, as a Python list
	squeue -h -r -j "$1" -o '%K %T' | awk -v s="$2" '$2 == s { print $1 }' | sort -n |
		python3 -c 'import sys; print([int(x) for x in sys.stdin.read().split()])'
}

# sacct answers from the database: the cluster is there, and a job's record
sbatch_id=$(sbatch --parsable --wrap true)
for _ in $(seq 120); do
	[ "$(sacct -n -X -P -j "$sbatch_id" -o State)" = COMPLETED ] && break
	sleep 0.5
done
expect_eq COMPLETED "$(sacct -n -X -P -j "$sbatch_id" -o State)" "sacct has a finished job's record"

"$MOAT" init "$T/one" >/dev/null
expect_rc 0 "$MOAT" -w "$T/one" ingest "$T/corpus"
"$MOAT" init "$T/ws" >/dev/null

# a job submitted while the partition is down: every shard pending, in
# sacct's record of the array; then cancelled whole, never run
"$MOAT" init "$T/pend" >/dev/null
scontrol update PartitionName=debug State=DOWN || bad "cannot take the partition down"
ingest_array "$T/pend"
expect_eq "done=[] running=[] pending=[0, 1, 2, 3] failed=[] source=sacct" \
	"$(until_status "$T/pend" "$job" 'source=sacct$')" "all shards pending, from sacct"
expect_eq "${job}_[0-3]|PENDING" "$(sacct -n -X -P -j "$job" -o JobID,State)" "sacct's record of the pending array"
scancel "$job"
scontrol update PartitionName=debug State=UP || bad "cannot bring the partition up"

# the writer lock held by the test: the four shards start at once (the
# partition shares a core among 4) and wait for it
flock "$T/ws/moat.lock" sh -c "while [ ! -e '$T/release' ]; do sleep 0.1; done" &
holder=$!
for _ in $(seq 50); do flock -n "$T/ws/moat.lock" true || break; sleep 0.1; done
ingest_array "$T/ws"
expect_eq "done=[] running=[0, 1, 2, 3] pending=[] failed=[] source=sacct" \
	"$(until_status "$T/ws" "$job" 'running=\[0, 1, 2, 3\].*source=sacct$')" "all shards running, from sacct"
expect_eq "[0, 1, 2, 3]" "$(queued "$job" RUNNING)" "squeue says the same"

# one running shard cancelled: CANCELLED in sacct, failed in status
scancel "${job}_2"
expect_eq "done=[] running=[0, 1, 3] pending=[] failed=['2:CANCELLED'] source=sacct" \
	"$(until_status "$T/ws" "$job" "failed=\['2:")" "the cancelled shard is failed, from sacct"
expect_grep "^${job}_2\|CANCELLED by 0$" <(sacct -n -X -P -j "$job" -o JobID,State) "sacct's record of the cancelled task"

# the lock released: the other three run in turn and end
touch "$T/release"
wait "$holder"
holder=""
expect_rc 1 "$MOAT" -w "$T/ws" slurm status "$job" --wait --poll 1
expect_grep "3 done, 0 running, 0 pending, 1 failed \(from sacct\)" "$T/out" "status --wait after the cancel"
expect_grep "failed: shard 2 \(CANCELLED\)" "$T/out" "the cancelled shard is named"
line=$(status_json "$T/ws" "$job")
expect_eq "done=[0, 1, 3] running=[] pending=[] failed=['2:CANCELLED'] source=sacct" "$line" \
	"status --json after the cancel"
for i in 0 1 3; do
	expect_eq 0 "$(cat "$T/ws/slurm/$job.$i.exit" 2>&1)" "task $i's exit file"
	expect_grep "^${job}_$i\|COMPLETED$" <(sacct -n -X -P -j "$job" -o JobID,State) "sacct's record of task $i"
done
# Slurm signals moat and the job's shell; when moat's SIGTERM comes first,
# the shell can still record moat's status before it goes in turn (seen in
# one CI run): the record must then not be a success
if [ -e "$T/ws/slurm/$job.2.exit" ]; then
	[ "$(cat "$T/ws/slurm/$job.2.exit")" != 0 ] && ok ||
		bad "the cancelled task's exit file says it succeeded"
else
	ok
fi

# the exit files removed: sacct's records still say the same
rm -f "$T/ws/slurm/$job".*.exit
expect_eq "$line" "$(status_json "$T/ws" "$job")" "status without the exit files, from sacct"
# ... while without sacct the files were all there was: no shard is done
mkdir "$T/nosacct"
printf '#!/bin/sh\necho "sacct: error: Slurm accounting storage is disabled" >&2\nexit 1\n' >"$T/nosacct/sacct"
chmod +x "$T/nosacct/sacct"
expect_eq "done=[] running=[] pending=[] failed=['0:no exit status', '1:no exit status', '2:no exit status', '3:no exit status'] source=squeue and exit files" \
	"$(PATH=$T/nosacct:$PATH status_json "$T/ws" "$job")" "status where sacct refuses, without the exit files"

# where sacct omits a task (as Slurm 22.05 does for a task it stored
# without its array), that shard comes from squeue and the files: here none
mkdir "$T/partial"
printf '#!/bin/sh\n%s "$@" | grep -v "^%s_1|"\n' "$(command -v sacct)" "$job" >"$T/partial/sacct"
chmod +x "$T/partial/sacct"
expect_eq "done=[0, 3] running=[] pending=[] failed=['1:no exit status', '2:CANCELLED'] source=sacct, squeue and exit files" \
	"$(PATH=$T/partial:$PATH status_json "$T/ws" "$job")" "status where sacct names three shards"

# rerun: the cancelled shard alone, and the workspace is complete
expect_rc 0 "$MOAT" -w "$T/ws" slurm rerun "$job" --wait --poll 1
rerun=$(head -n 1 "$T/out")
[ -n "$rerun" ] && [ "$rerun" != "$job" ] && ok || bad "rerun gave no new job: '$rerun'"
expect_grep "^job $rerun \(ingest, 4 shards, rerun of $job\): 1 done, 0 running, 0 pending, 0 failed" \
	"$T/out" "the rerun ran one shard"
expect_eq "done=[2] running=[] pending=[] failed=[] source=sacct" \
	"$(until_status "$T/ws" "$rerun" "done=\[2\]")" "the rerun's status, from sacct"
expect_eq "$rerun.2.out" "$(cd "$T/ws/slurm" && ls "$rerun".*.out)" "the rerun ran shard 2 alone"
expect_eq COMPLETED "$(sacct -n -X -P -j "$rerun" -o State)" "sacct's record of the rerun"
rm -f "$T/ws/slurm/$rerun".*.exit
expect_eq "done=[2] running=[] pending=[] failed=[] source=sacct" "$(status_json "$T/ws" "$rerun")" \
	"the rerun's status without its exit file"
# Slurm 22.05 may store a task that starts as it is submitted without its
# array ("JOB|COMPLETED", not "JOB_2|..."): a job of one task is that task
mkdir "$T/noarray"
printf '#!/bin/sh\n%s "$@" | sed "s/^%s_2\\([|.]\\)/%s\\1/"\n' "$(command -v sacct)" "$rerun" "$rerun" \
	>"$T/noarray/sacct"
chmod +x "$T/noarray/sacct"
expect_eq "$rerun|COMPLETED" "$(PATH=$T/noarray:$PATH sacct -n -X -P -j "$rerun" -o JobID,State)" \
	"the record without its array"
expect_eq "done=[2] running=[] pending=[] failed=[] source=sacct" \
	"$(PATH=$T/noarray:$PATH status_json "$T/ws" "$rerun")" "a one-task job's record without its array"
expect_eq "$(docs "$T/one")" "$(docs "$T/ws")" "after the rerun the workspace equals one ingest"
expect_rc 0 "$MOAT" -w "$T/ws" slurm status "$job"
expect_grep "4 done, 0 running, 0 pending, 0 failed" "$T/out" "the first job's cancelled shard is done by its rerun"
finish
