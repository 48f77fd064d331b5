/*
 * slurm.h - a stage's shards as a Slurm job array: the job script, its
 * submission with sbatch, and the state of each shard from what Slurm and
 * the tasks themselves leave behind.
 *
 * A job script lives in the workspace (<ws>/slurm/STAGE-TIME-PID.sh); task
 * I of N runs `moat -w WS STAGE ARGS --shard I/N` with the moat binary that
 * wrote it, writes its output to <ws>/slurm/JOB.I.out and, when moat ends,
 * its exit status to <ws>/slurm/JOB.I.exit (written under a temporary name,
 * then renamed).  Each submitted job has <ws>/slurm/JOB.json: the script,
 * the stage, N, the shards it runs, and the job it reruns.
 *
 * The state of a shard comes from, in this order of precedence: sacct (when
 * the cluster keeps accounting records), squeue (pending and running tasks),
 * and the task's exit file (how a task that left the queue ended).  A task
 * that is in none of them was cancelled or killed before moat ended (scancel,
 * a time limit, a node failure): failed.  So status and rerun work on a
 * cluster without slurmdbd too, for as long as the workspace is kept.
 *
 * Why a module of its own (src/cluster) and not cmd/slurm.c alone: the
 * parsing of sacct's and squeue's output is tested without a cluster
 * (tests/unit/test_cluster.c), and a later `moat serve` page can show a
 * job's shards through the same calls.  It knows no stage: the stage and its
 * arguments are words it quotes into the script.
 *
 * Not for: printing (cmd/slurm.c), or talking to Slurm other than through
 * its own commands (sbatch, squeue, sacct), run without a shell.
 */
#ifndef MOAT_SLURM_H
#define MOAT_SLURM_H

#include <stddef.h>

#include <jansson.h>

#include "../core/buf.h"
#include "../core/err.h"

struct slurm_spec {
	const char *moat;        /* the moat binary, absolute */
	const char *workspace;   /* absolute */
	const char *cwd;         /* where the tasks start (relative paths in args) */
	const char *stage;       /* "ingest", "clean", "chunk" */
	char *const *args;       /* the stage's arguments, as given */
	size_t n_args;
	unsigned shards;         /* N, 1..SHARD_MAX */
	const char *partition;   /* NULL: the cluster's default */
	const char *time;        /* NULL: the partition's default */
};

/* The job script for spec into out (a shell script; every word quoted).
 * MOAT_EUSAGE when a path cannot stand in an #SBATCH line (a newline, a
 * quote, white space, '%'). */
int slurm_script(const struct slurm_spec *spec, struct buf *out, struct moat_err *e)
	__attribute__((warn_unused_result));

/* Runs sbatch --parsable [--array=ARRAY] SCRIPT (array NULL: the script's
 * own) and puts the job id into job.  On failure e quotes sbatch. */
int slurm_submit(const char *script, const char *array, char job[32], struct moat_err *e)
	__attribute__((warn_unused_result));

enum slurm_state { SLURM_NONE = 0, SLURM_PENDING, SLURM_RUNNING, SLURM_DONE, SLURM_FAILED };
const char *slurm_state_name(enum slurm_state s);   /* "pending", ... */

/* The shards of one job: state[i] for shard i (SLURM_NONE: not one of the
 * job's shards, or not known yet), why[i] Slurm's word for it ("COMPLETED",
 * "CANCELLED", "exit 1"). */
struct slurm_tasks {
	unsigned n;
	unsigned char *state;
	char (*why)[24];
};
int slurm_tasks_init(struct slurm_tasks *t, unsigned n) __attribute__((warn_unused_result));
void slurm_tasks_release(struct slurm_tasks *t);

/* Applies `sacct -j JOB --parsable2 --noheader -o JobID,State,ExitCode`
 * output (lines "JOB_I|STATE|X:Y", "JOB_[2-5,7]|PENDING|0:0"; steps such as
 * "JOB_I.batch" are left out) to t; returns the number of tasks it named. */
size_t slurm_parse_sacct(const char *text, const char *job, struct slurm_tasks *t);
/* Applies `squeue -h -r -j JOB -o %K|%T` output ("I|RUNNING") to t;
 * returns the number of tasks it named. */
size_t slurm_parse_squeue(const char *text, struct slurm_tasks *t);

/* The state of the shards of job (its JOB.json in dir, the workspace's
 * slurm/ folder) into t (initialised here; the caller releases it), and
 * where it came from into source: "sacct" when sacct named every shard of
 * the job, "squeue and exit files" when it named none, else "sacct, squeue
 * and exit files".
 * A shard rerun by a later job (slurm_job_add_rerun) is as that job left it.
 * meta (may be NULL) gets JOB.json, a new reference. */
int slurm_job_state(const char *dir, const char *job, struct slurm_tasks *t, const char **source,
		    json_t **meta, struct moat_err *e) __attribute__((warn_unused_result));

/* Writes dir/JOB.json: {"job", "script", "stage", "shards", "tasks": [...],
 * "rerun_of": JOB or null}. */
int slurm_job_save(const char *dir, const char *job, const char *script, const char *stage,
		   unsigned shards, const unsigned *tasks, size_t n_tasks, const char *rerun_of,
		   struct moat_err *e) __attribute__((warn_unused_result));

/* Adds rerun to dir/JOB.json's "reruns": from then on job's state is, for
 * each shard rerun, the state the rerun left it in. */
int slurm_job_add_rerun(const char *dir, const char *job, const char *rerun, struct moat_err *e)
	__attribute__((warn_unused_result));

/* 1 when job is a job id moat may put in a file name and a command line
 * (digits only, at most 20). */
int slurm_job_id_ok(const char *job);

#endif
