/*
 * pool.c - the one thread pool (see pool.h): one mutex guards the queue and
 * the counters; workers sleep on `work`, producers on `room`, waiters on
 * `idle`.
 */
#define _GNU_SOURCE  /* sched_getaffinity, CPU_COUNT */
#include "pool.h"

#include <sched.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "banned.h"

struct job {
	pool_job_fn fn;
	void *arg;
	struct job *next;
};

struct worker {
	struct pool *p;
	int id;
	pthread_t th;
};

struct pool {
	pthread_mutex_t mu;
	pthread_cond_t work, room, idle;
	struct job *head, *tail;
	size_t queued, max_queued;
	size_t running;
	int quit;
	atomic_int cancelled;
	int failed;
	struct moat_err err;
	int n_workers;
	struct worker *workers;
};

/* Drops the queue; mu held. */
static void drop_queue(struct pool *p)
{
	while (p->head) {
		struct job *j = p->head;
		p->head = j->next;
		free(j);
	}
	p->tail = NULL;
	p->queued = 0;
	pthread_cond_broadcast(&p->room);
	if (!p->running)
		pthread_cond_broadcast(&p->idle);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct pool *p = w->p;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		struct job *j;
		struct moat_err e = MOAT_ERR_INIT;
		int rc;
		while (!p->head && !p->quit)
			pthread_cond_wait(&p->work, &p->mu);
		if (!p->head)
			break;
		j = p->head;
		p->head = j->next;
		if (!p->head)
			p->tail = NULL;
		p->queued--;
		p->running++;
		pthread_cond_signal(&p->room);
		pthread_mutex_unlock(&p->mu);

		rc = j->fn(j->arg, w->id, &e);
		free(j);

		pthread_mutex_lock(&p->mu);
		p->running--;
		if (rc < 0 && !p->failed) {
			p->failed = 1;
			p->err = e;
			atomic_store(&p->cancelled, 1);
		}
		if (atomic_load(&p->cancelled))
			drop_queue(p);
		if (!p->head && !p->running)
			pthread_cond_broadcast(&p->idle);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

struct pool *pool_new(int workers, size_t max_queued, struct moat_err *e)
{
	struct pool *p = calloc(1, sizeof(*p));
	if (workers < 1)
		workers = 1;
	if (workers > POOL_MAX_WORKERS)
		workers = POOL_MAX_WORKERS;
	if (!p || !(p->workers = calloc((size_t)workers, sizeof(*p->workers)))) {
		free(p);
		err_set(e, MOAT_ENOMEM, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->room, NULL);
	pthread_cond_init(&p->idle, NULL);
	p->max_queued = max_queued;
	atomic_init(&p->cancelled, 0);
	for (int i = 0; i < workers; i++) {
		struct worker *w = &p->workers[p->n_workers];
		w->p = p;
		w->id = p->n_workers;
		if (pthread_create(&w->th, NULL, worker_main, w) != 0)
			break;
		p->n_workers++;
	}
	if (!p->n_workers) {
		pool_free(p);
		err_set(e, MOAT_ENOMEM, "cannot start worker threads");
		return NULL;
	}
	return p;
}

int pool_workers(const struct pool *p)
{
	return p->n_workers;
}

int pool_submit(struct pool *p, pool_job_fn fn, void *arg, struct moat_err *e)
{
	struct job *j = malloc(sizeof(*j));
	if (!j)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	j->fn = fn;
	j->arg = arg;
	j->next = NULL;
	pthread_mutex_lock(&p->mu);
	while (p->max_queued && p->queued >= p->max_queued && !atomic_load(&p->cancelled))
		pthread_cond_wait(&p->room, &p->mu);
	if (atomic_load(&p->cancelled)) {
		pthread_mutex_unlock(&p->mu);
		free(j);
		return err_set(e, MOAT_EINTERRUPTED, "cancelled");
	}
	if (p->tail)
		p->tail->next = j;
	else
		p->head = j;
	p->tail = j;
	p->queued++;
	pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->mu);
	return 0;
}

void pool_cancel(struct pool *p)
{
	pthread_mutex_lock(&p->mu);
	atomic_store(&p->cancelled, 1);
	drop_queue(p);
	pthread_mutex_unlock(&p->mu);
}

int pool_cancelled(const struct pool *p)
{
	return atomic_load(&((struct pool *)p)->cancelled);
}

int pool_wait(struct pool *p, struct moat_err *e)
{
	int failed;
	pthread_mutex_lock(&p->mu);
	while (p->head || p->running)
		pthread_cond_wait(&p->idle, &p->mu);
	failed = p->failed;
	if (failed && e)
		*e = p->err;
	pthread_mutex_unlock(&p->mu);
	return failed ? -1 : 0;
}

void pool_free(struct pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	drop_queue(p);
	p->quit = 1;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->mu);
	for (int i = 0; i < p->n_workers; i++)
		pthread_join(p->workers[i].th, NULL);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->room);
	pthread_cond_destroy(&p->idle);
	free(p->workers);
	free(p);
}

/* ---- pool_for ---- */

struct for_ctx {
	int (*fn)(void *arg, int worker, size_t i, struct moat_err *e);
	void *arg;
	size_t n;
	atomic_size_t next;
	struct pool *p;
};

static int for_job(void *arg, int worker, struct moat_err *e)
{
	struct for_ctx *c = arg;
	for (;;) {
		size_t i;
		if (c->p && pool_cancelled(c->p))
			return 0;
		i = atomic_fetch_add(&c->next, 1);
		if (i >= c->n)
			return 0;
		if (c->fn(c->arg, worker, i, e) < 0)
			return -1;
	}
}

int pool_for(int workers, size_t n,
	     int (*fn)(void *arg, int worker, size_t i, struct moat_err *e), void *arg,
	     struct moat_err *e)
{
	struct for_ctx c;
	struct moat_err ignore = MOAT_ERR_INIT;
	int rc = 0;
	c.fn = fn;
	c.arg = arg;
	c.n = n;
	c.p = NULL;
	atomic_init(&c.next, 0);
	if (!n)
		return 0;
	if (workers < 1)
		workers = 1;
	if ((size_t)workers > n)
		workers = (int)n;
	if (workers > 1)
		c.p = pool_new(workers, 0, &ignore);
	if (!c.p)
		return for_job(&c, 0, e);
	for (int i = 0; i < pool_workers(c.p) && rc == 0; i++)
		rc = pool_submit(c.p, for_job, &c, e);
	if (pool_wait(c.p, e) < 0)
		rc = -1;
	pool_free(c.p);
	return rc;
}

int pool_default_workers(void)
{
	/* the CPUs this process may run on, as nproc counts them: a container
	 * or taskset that gives it 2 of the host's 64 means 2 */
	cpu_set_t set;
	long n = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set)
							      : sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > 64 ? 64 : (int)n;
}
