#!/bin/bash
# slurm.sh - `moat slurm` on a real single-node Slurm cluster on
# loopback (tests/slurm_cluster.sh: Debian's slurmctld, slurmd and munge):
# ingest and clean as 4-task job arrays over the shared corpus equal a
# one-process run document for document; a shard cancelled with scancel is
# failed in `moat slurm status` and `moat slurm rerun` runs it alone, after
# which the workspace is complete.  This cluster has no accounting database,
# so status comes from squeue and the tasks' exit files.
. "$(dirname "$0")/lib.sh"
. "$SRC/tests/slurm_cluster.sh"
need_testdata corpus
trap 'slurm_stop; rm -rf "$T"' EXIT

slurm_start "$T/cluster"
rc=$?
if [ "$rc" = 77 ]; then
	[ "${CI:-}" = true ] && { echo "FAIL: Slurm is not installed (scripts/bootstrap installs it)"; exit 1; }
	echo "SKIP: Slurm is not installed"; exit 77
fi
[ "$rc" = 0 ] || { echo "FAIL: the test cluster did not start"; exit 1; }

cp -r "$TESTDATA/corpus" "$T/corpus"
EXCL=(--exclude '*.gt.json' --exclude password.pdf)
docs() { sqlite3 "$1/moat.db" "SELECT d.id, d.type, d.n_elements, f.path, d.text FROM documents d
	LEFT JOIN files f ON f.doc_id = d.id ORDER BY 1, 4"; }
cleaned() { sqlite3 "$1/moat.db" "SELECT doc_id, params, status, coalesce(reason, ''), lang, norm_text, text
	FROM clean_docs ORDER BY 1"; }
status_json() { # WS JOB: the shards of each state, one line
	"$MOAT" -w "$1" slurm status "$2" --json | python3 -c '
import json, sys
j = json.load(sys.stdin)
print("done=%s running=%s pending=%s failed=%s source=%s" % (j["done"], j["running"], j["pending"],
      [f["shard"] for f in j["failed"]], j["source"]))'
}

# the one-process run
"$MOAT" init "$T/one" >/dev/null
expect_rc 0 "$MOAT" -w "$T/one" ingest "$T/corpus" "${EXCL[@]}"
expect_rc 0 "$MOAT" -w "$T/one" clean --normalize

# usage errors come before anything is submitted
"$MOAT" init "$T/cl" >/dev/null
expect_rc 2 "$MOAT" -w "$T/cl" slurm ingest "$T/corpus"
expect_rc 2 "$MOAT" -w "$T/cl" slurm ingest "$T/corpus" --array 0
expect_rc 2 "$MOAT" -w "$T/cl" slurm export --array 2
expect_rc 2 "$MOAT" -w "$T/cl" slurm ingest "$T/corpus" --array 2 --shard 0/2
expect_rc 2 "$MOAT" -w "$T/cl" slurm ingest "$T/corpus" --array 2 --password hunter2
expect_grep "password-file" "$T/err" "a secret is refused, with what to do instead"
expect_rc 2 "$MOAT" -w "$T/cl" slurm ingest "$T/corpus" --array 2 --partition 'a b'
[ -z "$(ls "$T/cl/slurm" 2>/dev/null)" ] && ok || bad "a refused job left files: $(ls "$T/cl/slurm")"

# ingest as 4 tasks, then clean as 4 tasks and one unsharded clean
expect_rc 0 "$MOAT" -w "$T/cl" slurm ingest "$T/corpus" "${EXCL[@]}" --array 4 --wait --poll 1
job=$(head -n 1 "$T/out")
expect_grep "^job $job \(ingest, 4 shards\): 4 done, 0 running, 0 pending, 0 failed" "$T/out" "ingest --wait summary"
expect_eq "done=[0, 1, 2, 3] running=[] pending=[] failed=[] source=squeue and exit files" \
	"$(status_json "$T/cl" "$job")" "moat slurm status $job"
script=$(ls "$T/cl/slurm/"ingest-*.sh)
expect_grep "^#SBATCH --array=0-3$" "$script" "the job script's array"
expect_grep "' --shard \"\\\$task/4\"$" "$script" "each task runs its shard"
for i in 0 1 2 3; do
	expect_eq 0 "$(cat "$T/cl/slurm/$job.$i.exit" 2>&1)" "task $i's exit file"
	expect_grep "shard $i/4: left" "$T/cl/slurm/$job.$i.out" "task $i's output"
done
expect_eq "$(docs "$T/one")" "$(docs "$T/cl")" "4 Slurm tasks ingest what one process does"

expect_rc 0 "$MOAT" -w "$T/cl" slurm clean --normalize --array 4 --wait --poll 1
expect_grep "4 done, 0 running, 0 pending, 0 failed" "$T/out" "clean --wait summary"
expect_rc 0 "$MOAT" -w "$T/cl" clean --normalize --json
expect_eq 0 "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["counts"]["processed"])' "$T/out")" \
	"the unsharded clean after the shards processes nothing again"
expect_eq "$(cleaned "$T/one")" "$(cleaned "$T/cl")" "4 Slurm tasks + one clean = one clean"
expect_rc 0 "$MOAT" -w "$T/cl" audit verify
shards=$("$MOAT" -w "$T/cl" audit log --json | python3 -c '
import json, sys
print(" ".join("%s:%d/%d" % (r["command"][3], r["inputs"]["shard"]["index"], r["inputs"]["shard"]["count"])
               for r in json.load(sys.stdin) if "shard" in r.get("inputs", {})))' | tr ' ' '\n' | sort | tr '\n' ' ')
expect_eq "clean:0/4 clean:1/4 clean:2/4 clean:3/4 ingest:0/4 ingest:1/4 ingest:2/4 ingest:3/4 " "$shards" \
	"every task's audit record names its shard"

# label suggest as 4 tasks: the same suggestion for each task as one process
# gives (the embedded llama.cpp on the tiny model, greedy); its shards hold
# no writer lock, so they run side by side
if [ -f "$TESTDATA/models/llama-2-tiny-random.gguf" ]; then
	G="gguf:$TESTDATA/models/llama-2-tiny-random.gguf"
	printf '{"kind": "classification", "labels": ["report", "letter", "other"]}' >"$T/cls.json"
	for w in one cl; do
		expect_rc 0 "$MOAT" -w "$T/$w" label create kinds --schema "$T/cls.json" --from documents
	done
	expect_rc 0 "$MOAT" -w "$T/one" label suggest kinds --model "$G"
	expect_rc 0 "$MOAT" -w "$T/cl" slurm label suggest kinds --model "$G" --array 4 --wait --poll 1
	expect_grep "\(label, 4 shards\): 4 done, 0 running, 0 pending, 0 failed" "$T/out" "label suggest --wait summary"
	sugs() { sqlite3 "$1/moat.db" "SELECT t.doc_id, g.value, g.model_digest FROM suggestions g
		JOIN tasks t ON t.id = g.task_id ORDER BY 1"; }
	expect_eq "$(sqlite3 "$T/one/moat.db" "SELECT count(*) FROM tasks")" "$(sugs "$T/cl" | wc -l)" "a suggestion per task"
	expect_eq "$(sugs "$T/one")" "$(sugs "$T/cl")" "4 Slurm tasks suggest what one process does"
	expect_rc 2 "$MOAT" -w "$T/cl" slurm label stats kinds --array 2
elif [ "${CI:-}" = true ]; then
	bad "the tiny model is missing from the test data"
fi

# a shard cancelled before it runs: failed, and rerun alone.  The partition
# is down while the job is submitted and shard 3 cancelled, so no shard can
# start first, whatever the timing.
"$MOAT" init "$T/cx" >/dev/null
scontrol update PartitionName=debug State=DOWN || bad "cannot take the partition down"
expect_rc 0 "$MOAT" -w "$T/cx" slurm ingest "$T/corpus" "${EXCL[@]}" --array 4
job=$(head -n 1 "$T/out")
scancel "${job}_3"
scontrol update PartitionName=debug State=UP || bad "cannot bring the partition up"
expect_rc 1 "$MOAT" -w "$T/cx" slurm status "$job" --wait --poll 1
expect_grep "3 done, 0 running, 0 pending, 1 failed" "$T/out" "status after scancel"
expect_grep "failed: shard 3 \(no exit status\)" "$T/out" "the cancelled shard is named"
[ ! -e "$T/cx/slurm/$job.3.exit" ] && ok || bad "the cancelled task ran anyway (scancel came too late)"
expect_rc 1 "$MOAT" -w "$T/cx" slurm status "$job" --json
expect_eq "done=[0, 1, 2] running=[] pending=[] failed=[3] source=squeue and exit files" \
	"$(status_json "$T/cx" "$job")" "status --json after scancel"
expect_rc 0 "$MOAT" -w "$T/cx" slurm rerun "$job" --wait --poll 1
rerun=$(head -n 1 "$T/out")
[ "$rerun" != "$job" ] && ok || bad "rerun gave no new job"
expect_grep "^job $rerun \(ingest, 4 shards, rerun of $job\): 1 done, 0 running, 0 pending, 0 failed" \
	"$T/out" "the rerun ran one shard"
expect_eq "done=[3] running=[] pending=[] failed=[] source=squeue and exit files" \
	"$(status_json "$T/cx" "$rerun")" "the rerun's status"
expect_eq "$rerun.3.out" "$(cd "$T/cx/slurm" && ls "$rerun".*.out)" "the rerun ran shard 3 alone"
expect_eq "$(docs "$T/one")" "$(docs "$T/cx")" "after the rerun the workspace is complete"
expect_rc 0 "$MOAT" -w "$T/cx" slurm status "$job"
expect_grep "4 done, 0 running, 0 pending, 0 failed" "$T/out" "the first job's shard 3 is done by its rerun"
expect_rc 0 "$MOAT" -w "$T/cx" slurm rerun "$job"
expect_grep "no failed shards" "$T/out" "a second rerun of the first job has nothing to do"
finish
