/*
 * pool.h - the one thread pool: a fixed set of worker threads and a queue of
 * jobs, with cancellation and the first error kept.  Every stage that works
 * in parallel uses it (model copies and hashes, ingest's parsers, clean's
 * documents), so there is one place to get threads right.
 *
 * Uses only libc, pthreads and core/err.h.
 *
 * Ownership: the pool owns its threads and its queue; a job's arg stays the
 * caller's and must outlive the job.  After pool_free() no job runs.
 */
#ifndef MOAT_POOL_H
#define MOAT_POOL_H

#include <stddef.h>

#include "err.h"

#define POOL_MAX_WORKERS 256

struct pool;

/* A job: runs on worker number `worker` (0 .. workers-1, so a job can use
 * per-worker scratch).  Returns 0, or -1 with e set: the pool keeps the first
 * such error and cancels what has not started. */
typedef int (*pool_job_fn)(void *arg, int worker, struct moat_err *e);

/* Starts `workers` threads (clamped to 1 .. POOL_MAX_WORKERS).  max_queued is
 * how many jobs may wait before pool_submit() blocks (0: no bound), which
 * bounds the memory a fast producer can make slow workers hold.  NULL with e
 * set when no thread could start. */
struct pool *pool_new(int workers, size_t max_queued, struct moat_err *e)
	__attribute__((warn_unused_result));

/* The number of worker threads that started. */
int pool_workers(const struct pool *p);

/* Queues fn(arg, ...) on the next free worker, waiting while max_queued jobs
 * wait.  Returns 0, or -1 when the pool is cancelled (the job will not run)
 * or out of memory (e set). */
int pool_submit(struct pool *p, pool_job_fn fn, void *arg, struct moat_err *e)
	__attribute__((warn_unused_result));

/* Drops the jobs that have not started; running ones finish.  Any thread may
 * call it, a job too.  Later submits fail. */
void pool_cancel(struct pool *p);

/* True once cancelled (by pool_cancel or a failed job): long jobs may poll it. */
int pool_cancelled(const struct pool *p);

/* Waits until every queued job has run or been dropped.  Returns 0, or -1
 * with the first error a job returned copied into e (if not NULL). */
int pool_wait(struct pool *p, struct moat_err *e);

/* Cancels what has not started, waits for the rest, stops the threads and
 * frees the pool.  NULL-safe. */
void pool_free(struct pool *p);

/* The common case: fn(arg, worker, i) for every i in [0, n), handed out in
 * order to up to `workers` threads (fewer when n is smaller; the calling
 * thread waits).  The first error stops the handing out; -1 with it in e.
 * A pool that cannot start any thread runs everything in the calling thread. */
int pool_for(int workers, size_t n,
	     int (*fn)(void *arg, int worker, size_t i, struct moat_err *e), void *arg,
	     struct moat_err *e) __attribute__((warn_unused_result));

/* The number of CPUs online, clamped to 1 .. 64: the default for -j. */
int pool_default_workers(void);

#endif
