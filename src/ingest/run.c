/*
 * run.c - ingest_run(): walk the given paths, parse files on -j worker
 * threads (core/pool.h), and record the results in the workspace from the
 * calling thread (the store has one connection and one writer), in the order
 * of their paths, whichever finishes first (so a content found under two
 * names always becomes a document through the same one, and reruns record
 * alike).  At most four files per worker are handed out and
 * not yet recorded, which bounds the parsed documents held in memory.
 *
 * Crash safety: each file's original goes to objects/ under a temporary name
 * and is renamed into place; one syncfs() puts a whole batch on disk before
 * the transaction that references it commits (one sync per batch instead of
 * two fsyncs per file), and a file's rows (document, elements, file version)
 * commit together.  A batch ends at BATCH_FILES files, or once it is
 * BATCH_WAIT seconds old and no finished file is waiting, so a crash loses
 * little work and a slow file does not hold the others uncommitted.
 * (Committing whenever the recorder caught up with the workers, as before,
 * cost a syncfs() and a WAL sync per file with -j 1: 1 to 70 ms each on a
 * busy disk, more than parsing a small PDF.)  A killed run leaves whole files or nothing; the next
 * run skips what is already stored.
 *
 * Not for: reading a file's format (detect.c, zygote.c and the readers) or
 * the SQL (store/).
 */
#define _GNU_SOURCE
#include "ingest.h"
#include "docfmt.h"
#include "../core/buf.h"
#include "../core/fs.h"
#include "../core/hash.h"
#include "../core/pool.h"
#include "../store/store.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "../core/banned.h"

#define BATCH_FILES 256
#define BATCH_WAIT 0.5  /* seconds */

struct ingest_opts ingest_default_opts(void)
{
	struct ingest_opts o;
	memset(&o, 0, sizeof(o));
	o.max_file_size = (size_t)256 << 20;
	o.max_elements = 1000000;
	o.jobs = 1;
	return o;
}

struct feed;

struct job {
	char *path;          /* absolute */
	uint64_t size;
	int64_t mtime;
	struct store_file prev;
	struct feed *feed;   /* where the finished job goes */
	/* results, filled by a worker */
	char id[65];
	int readable;
	int failed;
	struct moat_err err; /* why, when failed */
	const char *format;
	char mime[96];
	struct doc doc;
	int parsed;
	uint64_t cost;       /* bytes of moat's memory it may take until recorded */
	int finished;        /* the worker is done with it (under feed.mu) */
};

struct walk {
	struct job *jobs;
	size_t n, alloc;
	char **roots;        /* realpaths of the given roots */
	size_t n_roots;
	const struct ingest_opts *o;
	uint64_t bytes, skipped, other_shards;
};

static int match_any(const char *const *globs, const char *path)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	for (; globs && *globs; globs++)
		if (fnmatch(*globs, base, 0) == 0 || fnmatch(*globs, path, 0) == 0)
			return 1;
	return 0;
}

static int inside_roots(struct walk *w, const char *real)
{
	for (size_t i = 0; i < w->n_roots; i++) {
		size_t n = strlen(w->roots[i]);
		if (!strncmp(real, w->roots[i], n) && (real[n] == '/' || real[n] == '\0'))
			return 1;
	}
	return 0;
}

/* A file's id for --shard: its path below the first root named that holds
 * it (the same file under two roots named is one id, so one shard), or a
 * root file's base name. */
static const char *shard_id(struct walk *w, const char *path)
{
	const char *base = strrchr(path, '/');
	for (size_t i = 0; i < w->n_roots; i++) {
		const char *r = w->roots[i];
		size_t n = strlen(r);
		if (!strcmp(r, "/"))
			return path + 1;
		if (!strncmp(path, r, n) && path[n] == '/')
			return path + n + 1;
		if (!strcmp(path, r))
			break;
	}
	return base ? base + 1 : path;
}

static int add_job(struct walk *w, const char *path, const struct stat *st, struct moat_err *e)
{
	struct job *j;
	if (w->o->include && w->o->include[0] && !match_any(w->o->include, path))
		return 0;
	if (match_any(w->o->exclude, path))
		return 0;
	if (w->o->shard.n > 1) {
		const char *id = shard_id(w, path);
		if (!shard_has(&w->o->shard, id)) {
			w->other_shards++;
			return 0;
		}
	}
	if (w->n == w->alloc) {
		size_t n = w->alloc ? w->alloc * 2 : 256;
		struct job *p = realloc(w->jobs, n * sizeof(*p));
		if (!p)
			return err_set(e, MOAT_ENOMEM, "out of memory while walking '%s'", path);
		w->jobs = p;
		w->alloc = n;
	}
	j = &w->jobs[w->n];
	memset(j, 0, sizeof(*j));
	j->path = strdup(path);
	if (!j->path)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	j->size = (uint64_t)st->st_size;
	j->mtime = (int64_t)st->st_mtime;
	w->bytes += j->size;
	w->n++;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int walk_dir(struct walk *w, const char *dir, int depth, struct moat_err *e)
{
	DIR *d;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, alloc = 0;
	int rc = 0;
	if (depth > 256)
		return 0;
	d = opendir(dir);
	if (!d) {
		/* An unreadable directory is recorded like an unreadable file. */
		struct stat st = { 0 };
		struct job *j;
		if (add_job(w, dir, &st, e) < 0)
			return -1;
		j = &w->jobs[w->n - 1];
		j->failed = 1;
		err_set(&j->err, MOAT_EIO, "cannot open directory: %s", strerror(errno));
		return 0;
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n == alloc) {
			alloc = alloc ? alloc * 2 : 64;
			char **p = realloc(names, alloc * sizeof(*p));
			if (!p) {
				rc = err_set(e, MOAT_ENOMEM, "out of memory");
				goto out;
			}
			names = p;
		}
		names[n] = strdup(de->d_name);
		if (!names[n]) {
			rc = err_set(e, MOAT_ENOMEM, "out of memory");
			goto out;
		}
		n++;
	}
	/* Sorted, so runs are deterministic. */
	if (n)
		qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n && rc == 0; i++) {
		char *p = fs_join(dir, names[i]);
		struct stat st;
		if (!p) {
			rc = err_set(e, MOAT_ENOMEM, "out of memory");
			break;
		}
		if (lstat(p, &st) == 0) {
			if (S_ISLNK(st.st_mode)) {
				char *real = realpath(p, NULL);
				struct stat tst;
				/* Symlinks are followed only to files inside the given roots. */
				if (real && inside_roots(w, real) && stat(real, &tst) == 0 && S_ISREG(tst.st_mode))
					rc = add_job(w, p, &tst, e);
				else
					w->skipped++;
				free(real);
			} else if (S_ISDIR(st.st_mode)) {
				rc = walk_dir(w, p, depth + 1, e);
			} else if (S_ISREG(st.st_mode)) {
				rc = add_job(w, p, &st, e);
			} else {
				w->skipped++;
			}
		}
		free(p);
	}
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return rc;
}

static int cmp_job(const void *a, const void *b)
{
	return strcmp(((const struct job *)a)->path, ((const struct job *)b)->path);
}

/* --- the workers --------------------------------------------------------- */

/* What the workers hand back: each job marked finished, for the calling
 * thread to record in the order of the jobs (the order of their paths), not
 * the order they finish in: the same content under two names then always
 * becomes a document through the same one, whatever the timing. */
struct feed {
	const struct ingest_opts *o;
	const char *ws_dir;
	pthread_mutex_t mu;
	pthread_cond_t cv_done;
};

static void parse_job(struct feed *f, struct job *j)
{
	struct buf data = BUF_INIT;
	struct moat_err e = MOAT_ERR_INIT;
	unsigned char digest[SHA256_LEN];
	if (j->failed)
		return;  /* the walk already knows why */
	if (fs_read_file(j->path, &data, f->o->max_file_size, &e) < 0) {
		j->failed = 1;
		j->err = e;
		buf_release(&data);
		return;
	}
	j->readable = 1;
	j->size = data.len;
	sha256_mem(data.data ? data.data : "", data.len, digest);
	hex_encode(digest, SHA256_LEN, j->id);
	if (j->prev.found && !strcmp(j->prev.doc_id, j->id) && !strcmp(j->prev.status, "ok")) {
		buf_release(&data);
		return;  /* unchanged: nothing to parse */
	}
	j->format = ingest_detect(j->path, (const unsigned char *)buf_str(&data), data.len,
				  j->mime, sizeof(j->mime), &e);
	/* Keep the original first, even when it cannot be parsed (a later moat
	 * may read it): then the bytes go to the parser process and are let go
	 * here, so a worker never holds a large file while it waits. */
	if (store_put_object_nosync(f->ws_dir, j->id, buf_str(&data), data.len, &e) < 0) {
		j->failed = 1;
		j->err = e;
		buf_release(&data);
		return;
	}
	if (!j->format) {
		j->failed = 1;
	} else {
		struct doc_limits lim = { f->o->max_elements, 0 };
		if (doc_init(&j->doc, lim) < 0) {
			err_set(&e, MOAT_ENOMEM, "out of memory");
			j->failed = 1;
			doc_release(&j->doc);
		} else if (ingest_parse_sandboxed_buf(j->format, &data, f->o, &j->doc, &e) < 0) {
			j->failed = 1;
			doc_release(&j->doc);
		} else {
			j->parsed = 1;
		}
	}
	if (j->failed)
		j->err = e;
	buf_release(&data);
}

/* A pool job: one file, then onto the feed.  A file that fails is data, not
 * the pool's error. */
static int work(void *arg, int worker, struct moat_err *e)
{
	struct job *j = arg;
	struct feed *f = j->feed;
	(void)worker;
	(void)e;
	parse_job(f, j);
	pthread_mutex_lock(&f->mu);
	j->finished = 1;
	pthread_cond_signal(&f->cv_done);
	pthread_mutex_unlock(&f->mu);
	return 0;
}

static double now_mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The job want once it is finished, waiting for it until the monotonic time
 * until (for ever when until is 0); NULL when it did not finish by then. */
static struct job *next_done(struct feed *f, struct job *want, double until)
{
	int done;
	pthread_mutex_lock(&f->mu);
	while (!want->finished) {
		if (!until) {
			pthread_cond_wait(&f->cv_done, &f->mu);
		} else {
			struct timespec ts;
			double t = until;
			if (now_mono() >= until)
				break;
			ts.tv_sec = (time_t)t;
			ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
			pthread_cond_timedwait(&f->cv_done, &f->mu, &ts);
		}
	}
	done = want->finished;
	pthread_mutex_unlock(&f->mu);
	return done ? want : NULL;
}

/* --- recording ----------------------------------------------------------- */

static int record(struct store *s, struct job *j, int64_t run_id, struct ingest_summary *sum,
		  struct ingest_event *ev, struct moat_err *e)
{
	struct store_file_row row;
	memset(ev, 0, sizeof(*ev));
	ev->path = j->path;
	ev->size = j->size;
	ev->doc_id = j->readable ? j->id : NULL;
	if (j->failed && j->err.code == MOAT_EENV) {
		/* the machine failed (the workspace's disk is full...), not the
		 * file: stop the run rather than blame the document */
		*e = j->err;
		return -1;
	}
	if (!j->failed && !j->parsed) {
		ev->outcome = INGEST_UNCHANGED;
		sum->unchanged++;
		return 0;
	}
	if (j->failed && j->prev.found && !strcmp(j->prev.status, "failed") &&
	    !strcmp(j->prev.doc_id, j->readable ? j->id : "") && !strcmp(j->prev.error, j->err.msg)) {
		/* Failed before for the same bytes and the same reason: nothing new. */
		ev->outcome = INGEST_FAILED;
		ev->error = j->err.msg;
		sum->failed++;
		return 0;
	}
	if (j->parsed) {
		if (j->doc.over_limit)
			return err_set(e, MOAT_ELIMIT, "internal: over-limit document was not failed");
		if (store_add_document(s, j->id, j->mime, j->size, &j->doc, run_id, e) < 0)
			return -1;
		ev->elements = j->doc.n_el;
		sum->elements += j->doc.n_el;
	}
	memset(&row, 0, sizeof(row));
	row.path = j->path;
	row.doc_id = j->readable ? j->id : NULL;
	row.size = j->size;
	row.mtime = j->mtime;
	row.status = j->failed ? "failed" : "ok";
	row.error = j->failed ? j->err.msg : NULL;
	row.run_id = run_id;
	if (store_add_file(s, &row, NULL, e) < 0)
		return -1;
	if (j->failed) {
		ev->outcome = INGEST_FAILED;
		ev->error = j->err.msg;
		sum->failed++;
	} else if (j->prev.found) {
		ev->outcome = INGEST_NEW_VERSION;
		sum->new_versions++;
	} else {
		ev->outcome = INGEST_ADDED;
		sum->added++;
	}
	return 0;
}

static int cmp_cstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The SHA-256 of the sorted lines, each ending in '\n'.  0 or -1. */
static int digest_lines(char **lines, size_t n, char out[65], struct moat_err *e)
{
	struct sha256 h;
	unsigned char d[SHA256_LEN];
	if (n)
		qsort(lines, n, sizeof(*lines), cmp_cstr);
	if (sha256_init(&h) < 0)
		return err_set(e, MOAT_ENOMEM, "cannot start SHA-256 for the run's digests");
	for (size_t i = 0; i < n; i++) {
		sha256_update(&h, lines[i], strlen(lines[i]));
		sha256_update(&h, "\n", 1);
	}
	sha256_final(&h, d);
	hex_encode(d, SHA256_LEN, out);
	return 0;
}

void ingest_summary_release(struct ingest_summary *sum)
{
	json_decref(sum->interrupted);
	sum->interrupted = NULL;
}

/* Records one finished file: its rows in the open transaction, its lines for
 * the run's digests, the caller's event.  The parsed document is released
 * whatever happens.  0 or -1. */
static int consume(struct store *s, struct job *j, int64_t run_id,
		   const struct ingest_callbacks *cb, struct ingest_summary *sum, char **in_line,
		   char **out_line, struct moat_err *e)
{
	struct ingest_event ev;
	int rc = record(s, j, run_id, sum, &ev, e);
	if (rc == 0 && asprintf(in_line, "%s  %s", j->readable ? j->id : "-", j->path) < 0) {
		*in_line = NULL;
		rc = err_set(e, MOAT_ENOMEM, "out of memory");
	}
	if (rc == 0 && !j->failed && !(*out_line = strdup(j->id)))
		rc = err_set(e, MOAT_ENOMEM, "out of memory");
	if (rc == 0 && cb && cb->on_file)
		cb->on_file(cb->ctx, &ev);
	if (j->parsed)
		doc_release(&j->doc);
	j->parsed = 0;
	return rc;
}

/* Records the files the workers finish, in the order of their paths, handing
 * out more as they go, and commits in batches (see the top of this file).
 * 0 or -1. */
static int record_all(struct store *s, struct walk *w, struct pool *pool, struct feed *f,
		      int64_t run_id, const struct ingest_callbacks *cb, struct ingest_summary *sum,
		      char **in_lines, char **out_lines, size_t *n_in, size_t *n_out,
		      struct moat_err *e)
{
	size_t max_in_flight = (size_t)pool_workers(pool) * 4;
	size_t submitted = 0, consumed = 0, batch = 0;
	uint64_t budget = docfmt_max_memory(f->o), in_work = 0;
	int in_tx = 0, rc = 0;
	double batch_end = 0;
	while (rc == 0 && consumed < w->n) {
		struct job *j;
		while (rc == 0 && submitted < w->n && submitted - consumed < max_in_flight) {
			struct job *next = &w->jobs[submitted];
			/* a file is read, handed to its parser, and its document comes
			 * back and waits here to be recorded: about three times its size
			 * at the worst moment (bench/memory); the files in work may take
			 * --max-memory in all, but one always goes, however large */
			next->cost = next->size * 3 + ((uint64_t)1 << 20);
			if (in_work && in_work + next->cost > budget)
				break;
			next->feed = f;
			rc = pool_submit(pool, work, next, e);
			if (rc == 0) {
				submitted++;
				in_work += next->cost;
			}
		}
		if (rc < 0)
			break;
		/* A shard beside its siblings (store_exclusive: no) holds SQLite's
		 * one writer lock only while it stores what its workers have
		 * finished, never while it waits for them: a batch kept open for
		 * BATCH_WAIT kept the other shards out for the whole run
		 * (bench/shard: 2 shards took as long as one process) */
		j = next_done(f, &w->jobs[consumed],
			      !in_tx ? 0 : store_exclusive(s) ? batch_end : 1e-9);
		if (!j) {
			/* Nothing came in time: commit what we have rather than hold it. */
			if (store_sync_objects(f->ws_dir, e) < 0 || store_commit(s, e) < 0) {
				rc = -1;
				break;
			}
			in_tx = 0;
			batch = 0;
			continue;
		}
		if (!in_tx && store_begin(s, e) < 0) {
			if (j->parsed)
				doc_release(&j->doc);
			j->parsed = 0;
			rc = -1;
			break;
		}
		if (!in_tx)
			batch_end = now_mono() + BATCH_WAIT;
		in_tx = 1;
		rc = consume(s, j, run_id, cb, sum, &in_lines[*n_in], &out_lines[*n_out], e);
		in_work -= j->cost;
		*n_in += in_lines[*n_in] != NULL;
		*n_out += out_lines[*n_out] != NULL;
		if (rc < 0)
			break;
		consumed++;
		if (++batch >= BATCH_FILES) {
			if (store_sync_objects(f->ws_dir, e) < 0 || store_commit(s, e) < 0) {
				rc = -1;
				break;
			}
			in_tx = 0;
			batch = 0;
		}
	}
	if (rc == 0 && in_tx) {
		if (store_sync_objects(f->ws_dir, e) < 0 || store_commit(s, e) < 0)
			rc = -1;
		else
			in_tx = 0;
	}
	if (in_tx)
		store_rollback(s);
	return rc;
}

int ingest_run(struct store *s, const char *const *paths, size_t n_paths,
	       const struct ingest_opts *o, const struct ingest_callbacks *cb,
	       struct ingest_summary *sum, struct moat_err *e)
{
	struct walk w;
	struct feed f;
	struct pool *pool = NULL;
	int rc = 0;
	int64_t run_id = 0;
	char **in_lines = NULL, **out_lines = NULL;
	size_t n_in = 0, n_out = 0;

	memset(sum, 0, sizeof(*sum));
	memset(&w, 0, sizeof(w));
	w.o = o;
	w.roots = calloc(n_paths ? n_paths : 1, sizeof(char *));
	if (!w.roots)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	for (size_t i = 0; i < n_paths; i++) {
		struct stat st;
		char *real = realpath(paths[i], NULL);
		if (!real || stat(real, &st) < 0) {
			rc = err_set(e, MOAT_ENOTFOUND, "cannot ingest '%s': %s", paths[i], strerror(errno));
			free(real);
			goto out;
		}
		w.roots[w.n_roots++] = real;
		if (S_ISDIR(st.st_mode))
			rc = walk_dir(&w, real, 0, e);
		else if (S_ISREG(st.st_mode))
			rc = add_job(&w, real, &st, e);
		else
			rc = err_set(e, MOAT_EUSAGE, "cannot ingest '%s': not a file or directory", paths[i]);
		if (rc < 0)
			goto out;
	}
	if (w.n)  /* a shard may hold no file: qsort takes no NULL */
		qsort(w.jobs, w.n, sizeof(*w.jobs), cmp_job);
	{	/* the same path named twice is one file */
		size_t k = 0;
		for (size_t i = 0; i < w.n; i++) {
			if (k && !strcmp(w.jobs[k - 1].path, w.jobs[i].path)) {
				free(w.jobs[i].path);
				continue;
			}
			w.jobs[k++] = w.jobs[i];
		}
		w.n = k;
	}
	for (size_t i = 0; i < w.n; i++)
		if (store_file_latest(s, w.jobs[i].path, &w.jobs[i].prev, e) < 0) {
			rc = -1;
			goto out;
		}
	if (!o->no_sandbox) {
		/* the sandbox's helpers start while the workspace syncs the run's
		 * row and the workers read and hash; only when there are paths
		 * not seen before (a rerun over unchanged files parses nothing) */
		size_t fresh = 0, want = o->jobs > 0 ? (size_t)o->jobs : 1;
		for (size_t i = 0; i < w.n && fresh < want; i++)
			fresh += !w.jobs[i].prev.found && !w.jobs[i].failed;
		ingest_sandbox_prestart(fresh);
	}
	sum->files = w.n;
	sum->bytes = w.bytes;
	if (cb && cb->on_total)
		cb->on_total(cb->ctx, w.n, w.bytes);

	if (store_run_begin(s, "ingest", &run_id, e) < 0) {
		rc = -1;
		goto out;
	}
	sum->run_id = run_id;
	in_lines = calloc(w.n + 1, sizeof(char *));
	out_lines = calloc(w.n + 1, sizeof(char *));
	if (!in_lines || !out_lines) {
		rc = err_set(e, MOAT_ENOMEM, "out of memory");
		goto out;
	}

	memset(&f, 0, sizeof(f));
	f.o = o;
	f.ws_dir = store_dir(s);
	pthread_mutex_init(&f.mu, NULL);
	{	/* next_done() waits against the monotonic clock */
		pthread_condattr_t ca;
		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&f.cv_done, &ca);
		pthread_condattr_destroy(&ca);
	}
	pool = pool_new(o->jobs > 0 ? o->jobs : 1, 0, e);
	if (!pool)
		rc = -1;
	else
		rc = record_all(s, &w, pool, &f, run_id, cb, sum, in_lines, out_lines, &n_in, &n_out, e);
	/* On an error, what was not handed out is dropped and what runs finishes. */
	if (pool && rc < 0)
		pool_cancel(pool);
	pool_free(pool);
	/* Free whatever the workers finished that was not consumed (on error). */
	for (size_t i = 0; i < w.n; i++)
		if (w.jobs[i].finished && w.jobs[i].parsed)
			doc_release(&w.jobs[i].doc);
	pthread_mutex_destroy(&f.mu);
	pthread_cond_destroy(&f.cv_done);
	if (rc == 0 && (digest_lines(in_lines, n_in, sum->inputs_digest, e) < 0 ||
			digest_lines(out_lines, n_out, sum->outputs_digest, e) < 0))
		rc = -1;
	if (rc == 0) {
		/* the bytes read, as stored: a file that grew or shrank since the
		 * walk counts what its document is made of, not what stat said */
		sum->bytes = 0;
		for (size_t i = 0; i < w.n; i++)
			sum->bytes += w.jobs[i].size;
	}
	if (rc == 0) {
		/* a shard cannot tell its siblings' runs, still going, from dead
		 * ones: the next run of the whole workspace records those */
		sum->interrupted = store_exclusive(s) ? store_runs_interrupted(s, run_id, e)
						      : json_array();
		if (!sum->interrupted) {
			if (e && !e->msg[0])  /* the store returns NULL without a word when out of memory */
				err_set(e, MOAT_ENOMEM, "out of memory listing interrupted runs");
			rc = -1;
		}
	}
out:
	ingest_sandbox_drop_spares();  /* those no worker took */
	for (size_t i = 0; i < n_in; i++)
		free(in_lines[i]);
	for (size_t i = 0; i < n_out; i++)
		free(out_lines[i]);
	free(in_lines);
	free(out_lines);
	for (size_t i = 0; i < w.n; i++)
		free(w.jobs[i].path);
	free(w.jobs);
	for (size_t i = 0; i < w.n_roots; i++)
		free(w.roots[i]);
	free(w.roots);
	sum->skipped = w.skipped;
	sum->other_shards = w.other_shards;
	return rc;
}
