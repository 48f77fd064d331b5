/*
 * slurm.c - `moat slurm`: run a stage's shards as a Slurm job array, and
 * follow and rerun them (src/cluster/slurm.h).
 *
 *   moat slurm STAGE [ARGS] --array N [--partition P] [--time T] [--wait]
 *   moat slurm status JOB [--wait] [--json]
 *   moat slurm rerun JOB [--wait]
 *
 * It changes nothing in the workspace's database (each task's own run is
 * audited), so it appends no audit record; it writes the job script and
 * the job's record under <workspace>/slurm/.
 *
 * Not for: the script, sbatch, sacct or squeue themselves (cluster/slurm.c).
 */
#define _GNU_SOURCE
#include "cmd.h"
#include "../cluster/slurm.h"
#include "../core/buf.h"
#include "../core/fmt.h"
#include "../core/fs.h"
#include "../store/store.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../core/banned.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: moat slurm STAGE [ARGS] --array N [--partition P] [--time T] [--wait]\n"
		"       moat slurm status JOB [--wait] [--json]\n"
		"       moat slurm rerun JOB [--wait]\n\n"
		"Runs a stage (ingest, clean, chunk, label suggest or augment) as a Slurm job\n"
		"array of N\n"
		"shards: task I runs 'moat -w WORKSPACE STAGE ARGS --shard I/N' with this moat\n"
		"binary.  The\n"
		"job script and each task's output and exit status are kept in WORKSPACE/slurm/.\n"
		"  --array N       the number of shards (1 to 4096)\n"
		"  --partition P   the partition (default: the cluster's)\n"
		"  --time T        each task's time limit, as sbatch takes it (1:00:00)\n"
		"  --wait          wait until every task has ended; exit 0 only if all are done\n"
		"  --poll SECONDS  how often --wait asks Slurm (default 10)\n"
		"status: the shards done, running, pending and failed (from sacct, or where the\n"
		"cluster keeps no accounting, from squeue and the tasks' exit files).\n"
		"rerun: submits the job's script again for its failed shards only.\n"
		"Secrets (--password) are refused: a job script is a file others may read; use\n"
		"--password-file or the environment (sbatch passes it on).  Clean's shards do not\n"
		"mark duplicates: run 'moat clean' with the same options when they are done.\n"
		"Shards run side by side, but clean's and chunk's on a SQLite workspace take\n"
		"turns: see docs/cluster.md.\n");
}

static const char *const STAGES[] = { "ingest", "clean", "chunk", "label", "augment", NULL };

struct slurm_cli {
	int wait, json;
	unsigned poll;
};

static void print_list(const char *what, const struct slurm_tasks *t, enum slurm_state s)
{
	int first = 1;
	for (unsigned i = 0; i < t->n; i++)
		if (t->state[i] == s) {
			printf("%s%u", first ? what : ",", i);
			first = 0;
		}
	if (!first)
		putchar('\n');
}

/* Counts of each state in t. */
static void count(const struct slurm_tasks *t, unsigned c[5])
{
	memset(c, 0, 5 * sizeof(*c));
	for (unsigned i = 0; i < t->n; i++)
		c[t->state[i] < 5 ? t->state[i] : 0]++;
}

static json_t *state_json(const char *job, json_t *meta, const struct slurm_tasks *t,
			  const char *source)
{
	json_t *j = json_pack("{s:s, s:O, s:O, s:s, s:[], s:[], s:[], s:[]}", "job", job, "stage",
			      json_object_get(meta, "stage"), "shards", json_object_get(meta, "shards"),
			      "source", source, "done", "running", "pending", "failed");
	for (unsigned i = 0; j && i < t->n; i++) {
		json_t *a;
		if (t->state[i] == SLURM_NONE)
			continue;
		a = json_object_get(j, slurm_state_name(t->state[i]));
		if (t->state[i] == SLURM_FAILED ? json_array_append_new(a, json_pack("{s:i, s:s}", "shard",
						   (int)i, "why", t->why[i]))
						: json_array_append_new(a, json_integer(i))) {
			json_decref(j);
			j = NULL;
		}
	}
	if (j && json_object_set(j, "rerun_of", json_object_get(meta, "rerun_of")) < 0) {
		json_decref(j);
		j = NULL;
	}
	return j;
}

/* Prints the job's state (waiting first with o->wait); exit 0 when every
 * shard of the job is done, 1 when one failed or some still run. */
static int report(const char *dir, const char *job, const struct slurm_cli *o)
{
	struct moat_err e = MOAT_ERR_INIT;
	struct slurm_tasks t;
	const char *source = "";
	json_t *meta = NULL;
	unsigned c[5];
	for (;;) {
		if (slurm_job_state(dir, job, &t, &source, &meta, &e) < 0)
			return o->json ? cmd_fail_json(&e, NULL) : cmd_fail(&e);
		count(&t, c);
		if (!o->wait || (!c[SLURM_PENDING] && !c[SLURM_RUNNING]))
			break;
		json_decref(meta);
		slurm_tasks_release(&t);
		sleep(o->poll);
	}
	if (o->json) {
		cmd_print_json(state_json(job, meta, &t, source));
	} else {
		printf("job %s (%s, %lld shards%s%s): %u done, %u running, %u pending, %u failed "
		       "(from %s)\n", job, json_string_value(json_object_get(meta, "stage")),
		       (long long)json_integer_value(json_object_get(meta, "shards")),
		       json_is_string(json_object_get(meta, "rerun_of")) ? ", rerun of " : "",
		       json_is_string(json_object_get(meta, "rerun_of"))
			       ? json_string_value(json_object_get(meta, "rerun_of")) : "",
		       c[SLURM_DONE], c[SLURM_RUNNING], c[SLURM_PENDING], c[SLURM_FAILED], source);
		print_list("running: ", &t, SLURM_RUNNING);
		print_list("pending: ", &t, SLURM_PENDING);
		for (unsigned i = 0; i < t.n; i++)
			if (t.state[i] == SLURM_FAILED)
				printf("failed: shard %u (%s); output in %s/%s.%u.out\n", i, t.why[i], dir,
				       job, i);
		if (c[SLURM_FAILED])
			printf("moat slurm rerun %s submits the failed shards again\n", job);
	}
	json_decref(meta);
	slurm_tasks_release(&t);
	return c[SLURM_FAILED] || c[SLURM_PENDING] || c[SLURM_RUNNING] ? 1 : 0;
}

/* Parses the options of status and rerun: JOB [--wait] [--json] [--poll S]. */
static int job_args(int argc, char **argv, struct slurm_cli *o, const char **job)
{
	*job = NULL;
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--wait")) {
			o->wait = 1;
		} else if (!strcmp(argv[i], "--json")) {
			o->json = 1;
		} else if (!strcmp(argv[i], "--poll") && i + 1 < argc) {
			char *end;
			long v = strtol(argv[++i], &end, 10);
			if (*end || v < 1 || v > 3600)
				return cmd_usage("slurm: --poll needs seconds from 1 to 3600");
			o->poll = (unsigned)v;
		} else if (!*job && argv[i][0] != '-') {
			*job = argv[i];
		} else {
			return cmd_usage("slurm %s: unexpected '%s'", argv[1], argv[i]);
		}
	}
	if (!*job || !slurm_job_id_ok(*job))
		return cmd_usage("slurm %s: which job? (the number sbatch gave)", argv[1]);
	return 0;
}

static int rerun(const char *dir, const char *job, const struct slurm_cli *o)
{
	struct moat_err e = MOAT_ERR_INIT;
	struct slurm_tasks t;
	const char *source;
	json_t *meta = NULL;
	struct buf list = BUF_INIT;
	unsigned *tasks, n = 0, c[5];
	char newjob[32];
	int rc;
	if (slurm_job_state(dir, job, &t, &source, &meta, &e) < 0)
		return cmd_fail(&e);
	count(&t, c);
	if (c[SLURM_PENDING] || c[SLURM_RUNNING]) {
		json_decref(meta);
		slurm_tasks_release(&t);
		fprintf(stderr, "moat: job %s still has %u shards pending or running; rerun it when they "
			"have ended (moat slurm status %s --wait)\n", job, c[SLURM_PENDING] + c[SLURM_RUNNING],
			job);
		return 1;
	}
	if (!c[SLURM_FAILED]) {
		printf("job %s: no failed shards, nothing to rerun\n", job);
		json_decref(meta);
		slurm_tasks_release(&t);
		return 0;
	}
	tasks = calloc(t.n, sizeof(*tasks));
	for (unsigned i = 0; tasks && i < t.n; i++)
		if (t.state[i] == SLURM_FAILED) {
			buf_addf(&list, "%s%u", n ? "," : "", i);
			tasks[n++] = i;
		}
	if (!tasks || buf_failed(&list))
		err_set(&e, MOAT_ENOMEM, "out of memory");
	if (e.code || slurm_submit(json_string_value(json_object_get(meta, "script")), buf_str(&list),
				   newjob, &e) < 0 ||
	    slurm_job_save(dir, newjob, json_string_value(json_object_get(meta, "script")),
			   json_string_value(json_object_get(meta, "stage")), t.n, tasks, n, job, &e) < 0 ||
	    slurm_job_add_rerun(dir, job, newjob, &e) < 0) {
		rc = cmd_fail(&e);
	} else {
		printf("%s\n", newjob);
		fprintf(stderr, "moat: job %s reruns shards %s of job %s\n", newjob, buf_str(&list), job);
		rc = 0;
	}
	free(tasks);
	buf_release(&list);
	json_decref(meta);
	slurm_tasks_release(&t);
	if (rc == 0 && o->wait)
		return report(dir, newjob, o);
	return rc;
}

/* moat slurm STAGE ARGS: the stage's arguments are everything but slurm's. */
static int submit(struct cmd_ctx *ctx, const char *ws, const char *dir, struct slurm_cli *o)
{
	struct moat_err e = MOAT_ERR_INIT;
	struct slurm_spec spec;
	struct buf script = BUF_INIT;
	char **args = calloc((size_t)ctx->argc, sizeof(char *));
	char moat[PATH_MAX], cwd[PATH_MAX], name[128], job[32], when[32];
	char *path = NULL;
	unsigned *tasks = NULL;
	long n = 0;
	int rc = 1;
	time_t now = time(NULL);
	struct tm tm;
	memset(&spec, 0, sizeof(spec));
	if (!args) {
		err_set(&e, MOAT_ENOMEM, "out of memory");
		return cmd_fail(&e);
	}
	spec.stage = ctx->argv[1];
	for (int i = 0; STAGES[i]; i++)
		if (!strcmp(STAGES[i], spec.stage))
			n = 1;
	/* of the label stage, suggestions are what a cluster is for */
	if (n && !strcmp(spec.stage, "label") && (ctx->argc < 3 || strcmp(ctx->argv[2], "suggest")))
		n = 0;
	if (!n) {
		free(args);
		return cmd_usage("slurm: '%s' is not a stage moat can shard (ingest, clean, chunk, "
				 "label suggest, augment)", spec.stage);
	}
	n = 0;
	for (int i = 2; i < ctx->argc; i++) {
		const char *a = ctx->argv[i];
		const char *val = NULL;
		int has_next = i + 1 < ctx->argc;
#define SLURM_OPT(opt) (!strcmp(a, opt) ? (has_next ? (val = ctx->argv[++i]) : NULL) != NULL \
					   : !strncmp(a, opt "=", sizeof(opt)) ? (val = a + sizeof(opt)) != NULL : 0)
		if (SLURM_OPT("--array")) {
			char *end;
			n = strtol(val, &end, 10);
			if (*end || n < 1 || n > SHARD_MAX) {
				free(args);
				return cmd_usage("slurm: --array needs a number of shards from 1 to %d", SHARD_MAX);
			}
		} else if (SLURM_OPT("--partition")) {
			spec.partition = val;
		} else if (SLURM_OPT("--time")) {
			spec.time = val;
		} else if (SLURM_OPT("--poll")) {
			char *end;
			long v = strtol(val, &end, 10);
			if (*end || v < 1 || v > 3600) {
				free(args);
				return cmd_usage("slurm: --poll needs seconds from 1 to 3600");
			}
			o->poll = (unsigned)v;
		} else if (!strcmp(a, "--wait")) {
			o->wait = 1;
		} else if (!strcmp(a, "--array") || !strcmp(a, "--partition") || !strcmp(a, "--time") ||
			   !strcmp(a, "--poll")) {
			free(args);
			return cmd_usage("slurm: %s needs a value", a);
		} else if (!strcmp(a, "--shard") || !strncmp(a, "--shard=", 8)) {
			free(args);
			return cmd_usage("slurm: each task gets its own --shard; give --array N");
		} else if (cmd_secret_option(a)) {
			free(args);
			return cmd_usage("slurm: %.*s would be written into the job script; give "
					 "--password-file FILE or set it in the environment (sbatch passes it "
					 "to the tasks)", (int)strcspn(a, "="), a);
		} else {
			args[spec.n_args++] = ctx->argv[i];
		}
#undef SLURM_OPT
	}
	if (!n) {
		free(args);
		return cmd_usage("slurm: how many shards? (--array N)");
	}
	spec.shards = (unsigned)n;
	spec.args = args;
	{
		ssize_t k = readlink("/proc/self/exe", moat, sizeof(moat) - 1);
		char *real;
		if (k <= 0 || !getcwd(cwd, sizeof(cwd))) {
			err_set(&e, MOAT_EIO, "cannot find moat's own path or the working directory");
			goto out;
		}
		moat[k] = '\0';
		if ((real = realpath(moat, NULL))) {  /* a deleted binary keeps its name */
			if (xsnprintf(moat, sizeof(moat), "%s", real) < 0)
				err_set(&e, MOAT_ELIMIT, "moat's path is too long");
			free(real);
		}
	}
	spec.moat = moat;
	spec.workspace = ws;
	spec.cwd = cwd;
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y%m%dT%H%M%SZ", &tm);
	if (e.code || slurm_script(&spec, &script, &e) < 0 || fs_mkdirs(dir, 0755, &e) < 0 ||
	    xsnprintf(name, sizeof(name), "%s-%s-%ld.sh", spec.stage, when, (long)getpid()) < 0 ||
	    !(path = fs_join(dir, name)) || fs_write_atomic(path, script.data, script.len, 0644, &e) < 0)
		goto out;
	if (slurm_submit(path, NULL, job, &e) < 0) {
		unlink(path);  /* never submitted: nothing to rerun from it */
		goto out;
	}
	if (!(tasks = calloc(spec.shards, sizeof(*tasks)))) {
		err_set(&e, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	for (unsigned i = 0; i < spec.shards; i++)
		tasks[i] = i;
	if (slurm_job_save(dir, job, path, spec.stage, spec.shards, tasks, spec.shards, NULL, &e) < 0)
		goto out;
	printf("%s\n", job);
	fprintf(stderr, "moat: job %s: %s over %u shards; script %s, output in %s/%s.I.out\n", job,
		spec.stage, spec.shards, path, dir, job);
	rc = o->wait ? report(dir, job, o) : 0;
out:
	if (e.code)
		rc = e.code == MOAT_EUSAGE ? cmd_usage("slurm: %s", e.msg) : cmd_fail(&e);
	free(tasks);
	free(path);
	free(args);
	buf_release(&script);
	return rc;
}

int cmd_slurm(struct cmd_ctx *ctx)
{
	struct slurm_cli o = { 0, 0, 10 };
	char *ws, *dir;
	const char *job;
	int rc;
	if (!ctx->store || ctx->argc < 2 || !strcmp(ctx->argv[1], "--help") ||
	    !strcmp(ctx->argv[1], "-h")) {
		usage(ctx->argc < 2 ? stderr : stdout);
		return ctx->argc < 2 ? EXIT_USAGE : 0;
	}
	if (!(ws = realpath(store_dir(ctx->store), NULL))) {
		struct moat_err e = MOAT_ERR_INIT;
		err_set(&e, MOAT_EIO, "cannot resolve the workspace's path");
		return cmd_fail(&e);
	}
	if (!(dir = fs_join(ws, "slurm"))) {
		free(ws);
		return cmd_usage("out of memory");
	}
	if (!strcmp(ctx->argv[1], "status") || !strcmp(ctx->argv[1], "rerun")) {
		rc = job_args(ctx->argc, ctx->argv, &o, &job);
		if (rc == 0)
			rc = !strcmp(ctx->argv[1], "status") ? report(dir, job, &o) : rerun(dir, job, &o);
	} else {
		rc = submit(ctx, ws, dir, &o);
	}
	free(dir);
	free(ws);
	return rc;
}
