/*
 * slurm.c - job scripts, sbatch, and the state of a job's shards from
 * sacct, squeue and the tasks' exit files (see slurm.h).
 */
#define _GNU_SOURCE
#include "slurm.h"
#include "../core/fs.h"
#include "../core/fmt.h"
#include "../core/jsonu.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../core/banned.h"

#define OUTPUT_MAX ((size_t)16 << 20)

const char *slurm_state_name(enum slurm_state s)
{
	static const char *const names[] = { "none", "pending", "running", "done", "failed" };
	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "none";
}

int slurm_job_id_ok(const char *job)
{
	size_t n = strlen(job);
	if (!n || n > 20)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)job[i]))
			return 0;
	return 1;
}

/* --- the script ---------------------------------------------------------------- */

/* word in single quotes for sh ('\'' for a quote). */
static void add_quoted(struct buf *b, const char *word)
{
	buf_addch(b, '\'');
	for (const char *p = word; *p; p++) {
		if (*p == '\'')
			buf_adds(b, "'\\''");
		else
			buf_addch(b, *p);
	}
	buf_addch(b, '\'');
}

/* A path for an #SBATCH line, which sbatch splits at white space and in
 * whose file names '%' is a pattern. */
static int sbatch_safe(const char *what, const char *path, struct moat_err *e)
{
	for (const char *p = path; *p; p++)
		if (isspace((unsigned char)*p) || *p == '"' || *p == '\'' || *p == '%' || *p == '\\' ||
		    (unsigned char)*p < 0x20)
			return err_set(e, MOAT_EUSAGE, "the %s '%s' cannot stand in an #SBATCH line (white "
				       "space, a quote, '%%' or a control character); use another path",
				       what, path);
	return 0;
}

/* A value of --partition or --time: letters, digits and -_:., only. */
static int option_safe(const char *what, const char *v, struct moat_err *e)
{
	if (!*v)
		return err_set(e, MOAT_EUSAGE, "--%s needs a value", what);
	for (const char *p = v; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("-_:.,+", *p))
			return err_set(e, MOAT_EUSAGE, "--%s '%s': only letters, digits and -_:.,+", what, v);
	return 0;
}

int slurm_script(const struct slurm_spec *spec, struct buf *out, struct moat_err *e)
{
	char when[32];
	time_t now = time(NULL);
	struct tm tm;
	if (sbatch_safe("workspace", spec->workspace, e) < 0 ||
	    sbatch_safe("working directory", spec->cwd, e) < 0 ||
	    (spec->partition && option_safe("partition", spec->partition, e) < 0) ||
	    (spec->time && option_safe("time", spec->time, e) < 0))
		return -1;
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	buf_adds(out, "#!/bin/sh\n");
	buf_addf(out, "#SBATCH --job-name=moat-%s\n", spec->stage);
	buf_addf(out, "#SBATCH --array=0-%u\n", spec->shards - 1);
	buf_addf(out, "#SBATCH --output=%s/slurm/%%A.%%a.out\n", spec->workspace);
	buf_addf(out, "#SBATCH --chdir=%s\n", spec->cwd);
	if (spec->partition)
		buf_addf(out, "#SBATCH --partition=%s\n", spec->partition);
	if (spec->time)
		buf_addf(out, "#SBATCH --time=%s\n", spec->time);
	buf_addf(out, "#\n# moat %s over %u shards, written by `moat slurm` at %s.\n"
		 "# Task I runs shard I/%u; when moat ends its exit status goes to\n"
		 "# <workspace>/slurm/JOB.I.exit, which `moat slurm status` reads where sacct\n"
		 "# keeps no records.  `moat slurm rerun JOB` submits this script again for\n"
		 "# the failed shards only (sbatch --array=I,J,...).\n",
		 spec->stage, spec->shards, when, spec->shards);
	buf_adds(out, "task=${SLURM_ARRAY_TASK_ID:?run this script with sbatch, as an array job}\n"
		      "job=${SLURM_ARRAY_JOB_ID:?run this script with sbatch, as an array job}\n"
		      "dir=");
	add_quoted(out, spec->workspace);
	buf_adds(out, "/slurm\n");
	add_quoted(out, spec->moat);
	buf_adds(out, " -w ");
	add_quoted(out, spec->workspace);
	buf_addch(out, ' ');
	add_quoted(out, spec->stage);
	for (size_t i = 0; i < spec->n_args; i++) {
		buf_addch(out, ' ');
		add_quoted(out, spec->args[i]);
	}
	buf_addf(out, " --shard \"$task/%u\"\n", spec->shards);
	buf_adds(out, "rc=$?\n"
		      "printf '%s\\n' \"$rc\" >\"$dir/$job.$task.exit.tmp\" &&\n"
		      "\tmv -f \"$dir/$job.$task.exit.tmp\" \"$dir/$job.$task.exit\"\n"
		      "exit \"$rc\"\n");
	if (buf_failed(out))
		return err_set(e, MOAT_ENOMEM, "out of memory");
	return 0;
}

/* --- running Slurm's commands ------------------------------------------------- */

/* Runs argv (no shell; PATH is searched) with stdout and stderr into out;
 * *status gets the exit status (-1: killed by a signal).  -1 with e set
 * when it could not be run at all. */
static int run_capture(char *const argv[], struct buf *out, int *status, struct moat_err *e)
{
	int fd[2], ws;
	pid_t pid;
	char tmp[4096];
	ssize_t n;
	if (pipe2(fd, O_CLOEXEC) < 0)
		return err_set(e, err_errno_code(errno, MOAT_EIO), "cannot run %s: %s", argv[0],
			       strerror(errno));
	pid = fork();
	if (pid < 0) {
		close(fd[0]);
		close(fd[1]);
		return err_set(e, err_errno_code(errno, MOAT_EIO), "cannot run %s: %s", argv[0],
			       strerror(errno));
	}
	if (pid == 0) {
		dup2(fd[1], 1);
		dup2(fd[1], 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(fd[1]);
	while ((n = read(fd[0], tmp, sizeof(tmp))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		if (out->len + (size_t)n < OUTPUT_MAX)
			buf_add(out, tmp, (size_t)n);
	}
	close(fd[0]);
	while (waitpid(pid, &ws, 0) < 0)
		if (errno != EINTR)
			return err_set(e, MOAT_EIO, "cannot wait for %s: %s", argv[0], strerror(errno));
	*status = WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
	if (*status == 127)
		return err_set(e, MOAT_ENOTFOUND, "cannot run %s: not found (is Slurm's client "
			       "installed and on PATH?)", argv[0]);
	if (buf_failed(out))
		return err_set(e, MOAT_ENOMEM, "out of memory");
	return 0;
}

/* The first line of text, for a message. */
static const char *first_line(const struct buf *b, char *out, size_t cap)
{
	size_t n = strcspn(buf_str(b), "\n");
	if (n >= cap)
		n = cap - 1;
	memcpy(out, buf_str(b), n);
	out[n] = '\0';
	return out;
}

int slurm_submit(const char *script, const char *array, char job[32], struct moat_err *e)
{
	struct buf out = BUF_INIT;
	char opt[4096], line[512];
	char *argv[5];
	int st, k = 0;
	size_t n;
	argv[k++] = (char *)"sbatch";
	argv[k++] = (char *)"--parsable";
	if (array) {
		if (xsnprintf(opt, sizeof(opt), "--array=%s", array) < 0)
			return err_set(e, MOAT_ELIMIT, "too many shards to name on sbatch's command line");
		argv[k++] = opt;
	}
	argv[k++] = (char *)script;
	argv[k] = NULL;
	if (run_capture(argv, &out, &st, e) < 0) {
		buf_release(&out);
		return -1;
	}
	/* --parsable: "JOB" or "JOB;CLUSTER" */
	n = strspn(buf_str(&out), "0123456789");
	if (st != 0 || !n || n >= 32) {
		err_set(e, MOAT_EIO, "sbatch failed (exit %d): %s", st, first_line(&out, line, sizeof(line)));
		buf_release(&out);
		return -1;
	}
	memcpy(job, out.data, n);
	job[n] = '\0';
	buf_release(&out);
	return 0;
}

/* --- the state of a job ------------------------------------------------------- */

int slurm_tasks_init(struct slurm_tasks *t, unsigned n)
{
	t->n = n;
	t->state = calloc(n ? n : 1, 1);
	t->why = calloc(n ? n : 1, sizeof(*t->why));
	return t->state && t->why ? 0 : -1;
}

void slurm_tasks_release(struct slurm_tasks *t)
{
	free(t->state);
	free(t->why);
	memset(t, 0, sizeof(*t));
}

static void set_task(struct slurm_tasks *t, unsigned long i, enum slurm_state s, const char *why,
		     size_t why_len)
{
	if (i >= t->n)
		return;
	t->state[i] = (unsigned char)s;
	if (why_len >= sizeof(t->why[i]))
		why_len = sizeof(t->why[i]) - 1;
	memcpy(t->why[i], why, why_len);
	t->why[i][why_len] = '\0';
}

/* Slurm's job state word (up to a space, "CANCELLED by 0") as a shard's. */
static enum slurm_state state_of(const char *w, size_t n)
{
	static const char *const pending[] = { "PENDING", "PD", "REQUEUED", "REQUEUE_HOLD",
					       "REQUEUE_FED", "RESV_DEL_HOLD", NULL };
	static const char *const running[] = { "RUNNING", "R", "CONFIGURING", "CF", "COMPLETING",
					       "CG", "SUSPENDED", "S", "RESIZING", "SIGNALING",
					       "STAGE_OUT", "STOPPED", NULL };
	for (int k = 0; pending[k]; k++)
		if (strlen(pending[k]) == n && !strncmp(w, pending[k], n))
			return SLURM_PENDING;
	for (int k = 0; running[k]; k++)
		if (strlen(running[k]) == n && !strncmp(w, running[k], n))
			return SLURM_RUNNING;
	if (n == 9 && !strncmp(w, "COMPLETED", 9))
		return SLURM_DONE;
	if (n == 2 && !strncmp(w, "CD", 2))
		return SLURM_DONE;
	return SLURM_FAILED;  /* FAILED, CANCELLED, TIMEOUT, NODE_FAIL, OUT_OF_MEMORY, ... */
}

/* Applies a task list "3", "[2-5,7]" or "[0-9%2]" with state s; the count. */
static size_t apply_tasks(const char *p, const char *end, struct slurm_tasks *t, enum slurm_state s,
			  const char *why, size_t why_len)
{
	size_t named = 0;
	if (p < end && *p == '[')
		p++;
	while (p < end && isdigit((unsigned char)*p)) {
		char *q;
		unsigned long a = strtoul(p, &q, 10), b = a;
		if (*q == '-' && isdigit((unsigned char)q[1]))
			b = strtoul(q + 1, &q, 10);
		if (*q == ':')  /* a step: "0-9:2" */
			while (q < end && *q != ',' && *q != ']' && *q != '%')
				q++;
		for (unsigned long i = a; i <= b && i < t->n; i++) {
			set_task(t, i, s, why, why_len);
			named++;
		}
		if (*q == '%')
			while (q < end && *q != ',' && *q != ']')
				q++;
		if (*q != ',')
			break;
		p = q + 1;
	}
	return named;
}

size_t slurm_parse_sacct(const char *text, const char *job, struct slurm_tasks *t)
{
	size_t named = 0, jl = strlen(job);
	for (const char *line = text; *line;) {
		const char *nl = strchr(line, '\n'), *end = nl ? nl : line + strlen(line);
		const char *bar = memchr(line, '|', (size_t)(end - line));
		const char *st = bar ? bar + 1 : NULL;
		const char *bar2 = st ? memchr(st, '|', (size_t)(end - st)) : NULL;
		if (bar && bar2 && (size_t)(bar - line) > jl + 1 && !strncmp(line, job, jl) &&
		    line[jl] == '_' && !memchr(line, '.', (size_t)(bar - line))) {
			size_t wl = strcspn(st, " |\n");
			named += apply_tasks(line + jl + 1, bar, t, state_of(st, wl), st, wl);
		}
		line = nl ? nl + 1 : end;
	}
	return named;
}

size_t slurm_parse_squeue(const char *text, struct slurm_tasks *t)
{
	size_t named = 0;
	for (const char *line = text; *line;) {
		const char *nl = strchr(line, '\n'), *end = nl ? nl : line + strlen(line);
		const char *bar = memchr(line, '|', (size_t)(end - line));
		if (bar && isdigit((unsigned char)*line)) {
			size_t wl = strcspn(bar + 1, " |\n");
			named += apply_tasks(line, bar, t, state_of(bar + 1, wl), bar + 1, wl);
		}
		line = nl ? nl + 1 : end;
	}
	return named;
}

int slurm_job_save(const char *dir, const char *job, const char *script, const char *stage,
		   unsigned shards, const unsigned *tasks, size_t n_tasks, const char *rerun_of,
		   struct moat_err *e)
{
	json_t *t = json_array(), *j;
	char name[64], *path, *text;
	int rc;
	for (size_t i = 0; t && i < n_tasks; i++)
		if (json_array_append_new(t, json_integer(tasks[i])) < 0) {
			json_decref(t);
			t = NULL;
		}
	j = t ? json_pack("{s:s, s:o, s:s, s:i, s:o, s:s?}", "job", job, "script", jsonu_string(script),
			  "stage", stage, "shards", (int)shards, "tasks", t, "rerun_of", rerun_of)
	      : NULL;
	text = j ? json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
	json_decref(j);
	if (!text || xsnprintf(name, sizeof(name), "%s.json", job) < 0 || !(path = fs_join(dir, name))) {
		free(text);
		return err_set(e, MOAT_ENOMEM, "out of memory");
	}
	rc = fs_write_atomic(path, text, strlen(text), 0644, e);
	free(path);
	free(text);
	return rc;
}

/* The job's JOB.json, checked. */
static json_t *load_meta(const char *dir, const char *job, struct moat_err *e)
{
	char name[64], *path;
	struct buf b = BUF_INIT;
	json_t *j;
	json_error_t je;
	json_int_t n;
	if (!slurm_job_id_ok(job))
		return err_set(e, MOAT_EUSAGE, "'%s' is not a Slurm job id", job), NULL;
	if (xsnprintf(name, sizeof(name), "%s.json", job) < 0 || !(path = fs_join(dir, name)))
		return err_set(e, MOAT_ENOMEM, "out of memory"), NULL;
	if (fs_read_file(path, &b, (size_t)1 << 20, e) < 0) {
		if (e->code == MOAT_ENOTFOUND || !fs_exists(path))
			err_set(e, MOAT_ENOTFOUND, "no job %s was submitted from this workspace (no %s)",
				job, path);
		free(path);
		buf_release(&b);
		return NULL;
	}
	j = json_loadb(buf_str(&b), b.len, 0, &je);
	buf_release(&b);
	n = json_integer_value(json_object_get(j, "shards"));
	if (!json_is_object(j) || n < 1 || n > 4096 || !json_is_array(json_object_get(j, "tasks")) ||
	    !json_is_string(json_object_get(j, "script")) || !json_is_string(json_object_get(j, "stage"))) {
		json_decref(j);
		err_set(e, MOAT_ECORRUPT, "%s: not a job record moat wrote", path);
		free(path);
		return NULL;
	}
	free(path);
	return j;
}

/* Runs a query command into out; *ok 0 when it failed (its output then
 * says why). */
static int query(char *const argv[], struct buf *out, int *ok, struct moat_err *e)
{
	int st;
	buf_reset(out);
	if (run_capture(argv, out, &st, e) < 0)
		return -1;
	*ok = st == 0;
	return 0;
}

/* A job of one task whose sacct record has no "_TASK": Slurm 22.05 can store
 * an array task without its array when its start reaches slurmdbd after its
 * batch step's (a task that starts the moment it is submitted); the job's
 * one task is then the one record "JOB|STATE|...".  The count. */
static size_t sacct_lone_task(const char *text, const char *job, unsigned task,
			      struct slurm_tasks *t)
{
	size_t jl = strlen(job);
	for (const char *line = text; *line;) {
		const char *nl = strchr(line, '\n');
		if (!strncmp(line, job, jl) && line[jl] == '|') {
			const char *st = line + jl + 1;
			size_t wl = strcspn(st, " |\n");
			set_task(t, task, state_of(st, wl), st, wl);
			return 1;
		}
		line = nl ? nl + 1 : line + strlen(line);
	}
	return 0;
}

static int job_state(const char *dir, const char *job, struct slurm_tasks *t, const char **source,
		     json_t **meta_out, int depth, struct moat_err *e)
{
	json_t *meta = load_meta(dir, job, e), *v;
	unsigned char *mine = NULL;
	struct buf out = BUF_INIT;
	char line[512], fmt[] = "%K|%T";
	char *sacct[] = { (char *)"sacct", (char *)"-j", (char *)job, (char *)"--parsable2",
			  (char *)"--noheader", (char *)"-o", (char *)"JobID,State,ExitCode", NULL };
	char *squeue[] = { (char *)"squeue", (char *)"-h", (char *)"-r", (char *)"-j", (char *)job,
			   (char *)"-o", fmt, NULL };
	struct slurm_tasks acct;
	size_t i, n_mine = 0, by_acct = 0;
	int ok, rc = -1;
	memset(&acct, 0, sizeof(acct));
	memset(t, 0, sizeof(*t));
	if (!meta)
		return -1;
	if (slurm_tasks_init(t, (unsigned)json_integer_value(json_object_get(meta, "shards"))) < 0 ||
	    slurm_tasks_init(&acct, t->n) < 0 || !(mine = calloc(t->n, 1))) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	json_array_foreach(json_object_get(meta, "tasks"), i, v)
		if (json_integer_value(v) >= 0 && json_integer_value(v) < (json_int_t)t->n)
			mine[json_integer_value(v)] = 1;
	/* sacct first, then squeue, then the files: a task that leaves the
	 * queue has written its file before, so no task falls between them */
	if (query(sacct, &out, &ok, e) < 0)
		goto out;
	if (ok && !slurm_parse_sacct(buf_str(&out), job, &acct) &&
	    json_array_size(json_object_get(meta, "tasks")) == 1) {
		json_int_t k = json_integer_value(json_array_get(json_object_get(meta, "tasks"), 0));
		if (k >= 0 && k < (json_int_t)t->n)
			sacct_lone_task(buf_str(&out), job, (unsigned)k, &acct);
	}
	if (query(squeue, &out, &ok, e) < 0)
		goto out;
	if (!ok && !strstr(buf_str(&out), "Invalid job id")) {
		err_set(e, MOAT_EIO, "squeue failed: %s", first_line(&out, line, sizeof(line)));
		goto out;
	}
	if (ok)
		slurm_parse_squeue(buf_str(&out), t);
	for (unsigned k = 0; k < t->n; k++) {
		char name[64], *path;
		struct buf b = BUF_INIT;
		struct moat_err fe = MOAT_ERR_INIT;
		if (!mine[k]) {
			t->state[k] = SLURM_NONE;
			continue;
		}
		n_mine++;
		if (acct.state[k]) {
			by_acct++;
			t->state[k] = acct.state[k];
			memcpy(t->why[k], acct.why[k], sizeof(t->why[k]));
			continue;
		}
		if (t->state[k])
			continue;  /* in the queue */
		if (xsnprintf(name, sizeof(name), "%s.%u.exit", job, k) < 0 || !(path = fs_join(dir, name))) {
			err_set(e, MOAT_ENOMEM, "out of memory");
			goto out;
		}
		if (fs_read_file(path, &b, 64, &fe) == 0) {
			long x = strtol(buf_str(&b), NULL, 10);
			char why[24];
			if (xsnprintf(why, sizeof(why), "exit %ld", x) < 0)
				why[0] = '\0';
			set_task(t, k, x == 0 ? SLURM_DONE : SLURM_FAILED, why, strlen(why));
		} else {
			/* neither queued nor ended by itself: cancelled or killed */
			set_task(t, k, SLURM_FAILED, "no exit status", 14);
		}
		buf_release(&b);
		free(path);
	}
	/* sacct can know some shards only: Slurm 22.05 may store a task split
	 * off a pending array as a job of its own, which sacct -j JOB omits */
	*source = !by_acct ? "squeue and exit files"
		  : by_acct == n_mine ? "sacct" : "sacct, squeue and exit files";
	/* a shard rerun later is as its rerun left it (reruns in order; each
	 * with its own reruns merged) */
	json_array_foreach(json_object_get(meta, "reruns"), i, v) {
		struct slurm_tasks r;
		const char *rsrc;
		if (!json_is_string(v) || depth > 64)
			continue;
		if (job_state(dir, json_string_value(v), &r, &rsrc, NULL, depth + 1, e) < 0)
			goto out;
		for (unsigned k = 0; k < t->n && k < r.n; k++)
			if (r.state[k] != SLURM_NONE && mine[k]) {
				t->state[k] = r.state[k];
				memcpy(t->why[k], r.why[k], sizeof(t->why[k]));
			}
		slurm_tasks_release(&r);
	}
	rc = 0;
out:
	buf_release(&out);
	free(mine);
	slurm_tasks_release(&acct);
	if (rc == 0 && meta_out)
		*meta_out = meta;
	else
		json_decref(meta);
	if (rc < 0)
		slurm_tasks_release(t);
	return rc;
}

int slurm_job_state(const char *dir, const char *job, struct slurm_tasks *t, const char **source,
		    json_t **meta_out, struct moat_err *e)
{
	return job_state(dir, job, t, source, meta_out, 0, e);
}

int slurm_job_add_rerun(const char *dir, const char *job, const char *rerun, struct moat_err *e)
{
	json_t *meta = load_meta(dir, job, e), *r;
	char name[64], *path = NULL, *text = NULL;
	int rc = -1;
	if (!meta)
		return -1;
	r = json_object_get(meta, "reruns");
	if (!json_is_array(r) && json_object_set_new(meta, "reruns", r = json_array()) < 0)
		r = NULL;
	if (!r || json_array_append_new(r, json_string(rerun)) < 0 ||
	    !(text = json_dumps(meta, JSON_INDENT(2) | JSON_SORT_KEYS)) ||
	    xsnprintf(name, sizeof(name), "%s.json", job) < 0 || !(path = fs_join(dir, name)))
		err_set(e, MOAT_ENOMEM, "out of memory");
	else
		rc = fs_write_atomic(path, text, strlen(text), 0644, e);
	free(path);
	free(text);
	json_decref(meta);
	return rc;
}
