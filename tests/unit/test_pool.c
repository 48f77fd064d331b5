/* test_pool.c - core/pool: every job runs once, on a worker number in range;
 * the first error is kept and stops what has not started; cancellation; a
 * bounded queue makes the producer wait; pool_for in one thread and many. */
#include "testutil.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/pool.h"

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

struct count {
	atomic_int ran[1000];
	atomic_int bad_worker;
	int workers;
	size_t fail_at;       /* (size_t)-1: never */
	atomic_int started;
};

static int count_for(void *arg, int worker, size_t i, struct moat_err *e)
{
	struct count *c = arg;
	atomic_fetch_add(&c->started, 1);
	if (worker < 0 || worker >= c->workers)
		atomic_store(&c->bad_worker, 1);
	atomic_fetch_add(&c->ran[i], 1);
	if (i == c->fail_at)
		return err_set(e, MOAT_ECORRUPT, "job %zu failed", i);
	return 0;
}

static void for_runs_each_once(void **state)
{
	(void)state;
	for (int workers = 1; workers <= 8; workers *= 2) {
		struct count *c = calloc(1, sizeof(*c));
		struct moat_err e = MOAT_ERR_INIT;
		c->workers = workers;
		c->fail_at = (size_t)-1;
		assert_int_equal(pool_for(workers, 1000, count_for, c, &e), 0);
		for (int i = 0; i < 1000; i++)
			assert_int_equal(atomic_load(&c->ran[i]), 1);
		assert_int_equal(atomic_load(&c->bad_worker), 0);
		free(c);
	}
	assert_int_equal(pool_for(4, 0, count_for, NULL, NULL), 0);
}

static void for_keeps_first_error_and_stops(void **state)
{
	struct count *c = calloc(1, sizeof(*c));
	struct moat_err e = MOAT_ERR_INIT;
	(void)state;
	c->workers = 1;
	c->fail_at = 10;
	assert_int_equal(pool_for(1, 1000, count_for, c, &e), -1);
	assert_int_equal(e.code, MOAT_ECORRUPT);
	assert_string_equal(e.msg, "job 10 failed");
	assert_int_equal(atomic_load(&c->started), 11);  /* one worker: nothing after it */
	memset(c, 0, sizeof(*c));
	c->workers = 4;
	c->fail_at = 10;
	err_clear(&e);
	assert_int_equal(pool_for(4, 1000, count_for, c, &e), -1);
	assert_string_equal(e.msg, "job 10 failed");
	assert_true(atomic_load(&c->started) < 1000);
	free(c);
}

struct gate {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int open;
	atomic_int ran;
};

static int wait_gate(void *arg, int worker, struct moat_err *e)
{
	struct gate *g = arg;
	(void)worker;
	(void)e;
	pthread_mutex_lock(&g->mu);
	while (!g->open)
		pthread_cond_wait(&g->cv, &g->mu);
	pthread_mutex_unlock(&g->mu);
	atomic_fetch_add(&g->ran, 1);
	return 0;
}

static void open_gate(struct gate *g)
{
	pthread_mutex_lock(&g->mu);
	g->open = 1;
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->mu);
}

static void cancel_drops_waiting_jobs(void **state)
{
	struct gate g = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0 };
	struct moat_err e = MOAT_ERR_INIT;
	struct pool *p = pool_new(1, 0, &e);
	(void)state;
	assert_non_null(p);
	for (int i = 0; i < 5; i++)
		assert_int_equal(pool_submit(p, wait_gate, &g, &e), 0);
	pool_cancel(p);          /* at most the one running job is left */
	assert_true(pool_cancelled(p));
	assert_int_equal(pool_submit(p, wait_gate, &g, &e), -1);
	assert_int_equal(e.code, MOAT_EINTERRUPTED);
	open_gate(&g);
	assert_int_equal(pool_wait(p, NULL), 0);
	assert_true(atomic_load(&g.ran) <= 1);
	pool_free(p);
}

struct bounded {
	struct gate g;
	atomic_int submitted;
};

static void *producer(void *arg)
{
	struct bounded *b = ((void **)arg)[0];
	struct pool *p = ((void **)arg)[1];
	for (int i = 0; i < 10; i++) {
		if (pool_submit(p, wait_gate, &b->g, NULL) < 0)
			break;
		atomic_fetch_add(&b->submitted, 1);
	}
	return NULL;
}

static void bounded_queue_waits(void **state)
{
	struct bounded b = { { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0 }, 0 };
	struct pool *p = pool_new(1, 2, NULL);
	void *args[2] = { &b, p };
	pthread_t th;
	(void)state;
	assert_non_null(p);
	assert_int_equal(pthread_create(&th, NULL, producer, args), 0);
	/* one job running (blocked), two queued: the producer must stop at 3 */
	for (int i = 0; i < 6000 && atomic_load(&b.submitted) < 3; i++)
		sleep_ms(5);
	sleep_ms(50);
	assert_int_equal(atomic_load(&b.submitted), 3);
	open_gate(&b.g);
	pthread_join(th, NULL);
	assert_int_equal(pool_wait(p, NULL), 0);
	assert_int_equal(atomic_load(&b.g.ran), 10);
	pool_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(for_runs_each_once),
		cmocka_unit_test(for_keeps_first_error_and_stops),
		cmocka_unit_test(cancel_drops_waiting_jobs),
		cmocka_unit_test(bounded_queue_waits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
