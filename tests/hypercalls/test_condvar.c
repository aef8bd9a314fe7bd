/*
 * test_condvar - condition variables: signal and broadcast wake waiters,
 * timed waits time out (ETIMEDOUT, 60) when they should and not before,
 * return 0 when woken, has_waiters counts, waits release the CPU and the
 * mutex's owner, and _nowrap never touches the scheduler.  Also the word
 * waits that kern's adaptive condvars sleep on (hyp_word_wait/wake).
 */
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>
#include <krank/hyp.h>
#include "hyptest.h"

static struct rumpuser_mtx *mtx;
static struct rumpuser_cv *cv;
static int ready, woken;

static double
mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *
waiter(void *arg)
{
	ht_newlwp();
	ht_schedule();
	rumpuser_mutex_enter(mtx);
	while (!ready)
		rumpuser_cv_wait(cv, mtx);
	struct lwp *o;
	rumpuser_mutex_owner(mtx, &o);
	if (o == rumpuser_curlwp())
		woken++;
	rumpuser_mutex_exit(mtx);
	ht_unschedule();
	return NULL;
}

static void *
timed_waker(void *arg)
{
	ht_newlwp();
	ht_schedule();
	rumpuser_clock_sleep(RUMPUSER_CLOCK_RELWALL, 0, 20 * 1000 * 1000);
	rumpuser_mutex_enter(mtx);
	ready = 1;
	rumpuser_cv_signal(cv);
	rumpuser_mutex_exit(mtx);
	ht_unschedule();
	return NULL;
}

static struct rumpuser_mtx *smtx;
static struct rumpuser_cv *scv;
static int sready;

static void *
spin_signaller(void *arg)
{
	rumpuser_mutex_enter_nowrap(smtx);
	sready = 1;
	rumpuser_cv_signal(scv);
	rumpuser_mutex_exit(smtx);
	return NULL;
}

static _Atomic uint32_t word;
static atomic_int word_back;

static void *
word_waiter(void *arg)
{
	(void)arg;
	/* What kern does: look, then sleep while the word is unchanged. */
	while (atomic_load(&word) == 0)
		hyp_word_wait((const uint32_t *)&word, 0, 0);
	atomic_store(&word_back, 1);
	return NULL;
}

static void
word_checks(void)
{
	/* A word that is not val: back at once (a broken wait never
	 * returns, and the suite's timeout fails it). */
	atomic_store(&word, 5);
	hyp_word_wait((const uint32_t *)&word, 4, 0);
	CHECK(1, "hyp_word_wait on a word that is not val returns");
	/* With a limit and nobody waking: back after about the limit. */
	atomic_store(&word, 0);
	double t0 = mono();
	while (mono() - t0 < 0.02)
		hyp_word_wait((const uint32_t *)&word, 0, 5 * 1000 * 1000);
	CHECK(1, "hyp_word_wait with a limit returns at the limit");
	/* A sleeper is woken by a change and a wake. */
	pthread_t t;
	pthread_create(&t, NULL, word_waiter, NULL);
	atomic_store(&word, 1);
	hyp_word_wake((const uint32_t *)&word, INT_MAX);
	pthread_join(t, NULL);
	CHECK(atomic_load(&word_back) == 1,
	    "hyp_word_wake wakes a sleeper that then sees the new value");
	/* Many rounds of ping-pong between two threads: a lost wakeup
	 * hangs here. */
	atomic_store(&word, 0);
	atomic_store(&word_back, 0);
	int rounds = 0;
	for (; rounds < 2000; rounds++) {
		atomic_store(&word, 0);
		atomic_store(&word_back, 0);
		pthread_create(&t, NULL, word_waiter, NULL);
		if (rounds & 1)
			sched_yield();	/* sometimes the sleeper is asleep */
		atomic_store(&word, 1);
		hyp_word_wake((const uint32_t *)&word, 1);
		pthread_join(t, NULL);
		if (atomic_load(&word_back) != 1)
			break;
	}
	CHECK(rounds == 2000, "2000 wait/wake rounds, none lost (%d)", rounds);
}

int
main(void)
{
	pthread_t t[6];
	int n;

	/* 2 virtual CPUs for 7 threads: waits must give their CPU up. */
	ht_init(2);
	rumpuser_mutex_init(&mtx, RUMPUSER_MTX_KMUTEX);
	rumpuser_cv_init(&cv);
	for (int i = 0; i < 6; i++)
		pthread_create(&t[i], NULL, waiter, NULL);
	ht_schedule();
	for (;;) {
		rumpuser_mutex_enter(mtx);
		rumpuser_cv_has_waiters(cv, &n);
		rumpuser_mutex_exit(mtx);
		if (n == 6)
			break;
		rumpuser_clock_sleep(RUMPUSER_CLOCK_RELWALL, 0, 1000000);
	}
	CHECK(n == 6, "has_waiters counts 6 waiters");
	rumpuser_mutex_enter(mtx);
	ready = 1;
	rumpuser_cv_broadcast(cv);
	rumpuser_mutex_exit(mtx);
	ht_unschedule();
	for (int i = 0; i < 6; i++)
		pthread_join(t[i], NULL);
	CHECK(woken == 6, "broadcast woke all 6, each owning the mutex again");
	rumpuser_cv_has_waiters(cv, &n);
	CHECK(n == 0, "no waiters left");

	ht_schedule();
	rumpuser_mutex_enter(mtx);
	unsigned long u0 = ht_thread_unscheds();
	ht_set_biglocks(2);
	double t0 = mono();
	int rv = rumpuser_cv_timedwait(cv, mtx, 0, 50 * 1000 * 1000);
	double dt = mono() - t0;
	CHECK(ht_biglocks() == 2, "the wait gave the kernel back its 2 big "
	    "locks (rumpkern_sched got rumpkern_unsched's count): %d", ht_biglocks());
	CHECK(ht_last_interlock(0) == mtx && ht_last_interlock(1) == mtx,
	    "the cv's mutex was the interlock of the unschedule and the schedule");
	ht_set_biglocks(0);
	CHECK(rv == 60, "timedwait with nobody signalling gives ETIMEDOUT (60): %d", rv);
	CHECK(dt >= 0.049 && dt < 2.0, "after %.1f ms (>= 50)", dt * 1e3);
	CHECK(ht_thread_unscheds() == u0 + 1 && ht_has_cpu(),
	    "the wait released the CPU once and took it back");
	struct lwp *o;
	rumpuser_mutex_owner(mtx, &o);
	CHECK(o == rumpuser_curlwp(), "the mutex is owned again after the wait");

	ready = 0;
	pthread_t w;
	pthread_create(&w, NULL, timed_waker, NULL);
	rv = 0;
	t0 = mono();
	while (!ready && rv == 0)
		rv = rumpuser_cv_timedwait(cv, mtx, 5, 0);
	dt = mono() - t0;
	CHECK(rv == 0 && ready && dt < 4.0, "timedwait woken by a signal returns 0 (%.1f ms)",
	    dt * 1e3);
	CHECK(rumpuser_cv_timedwait(cv, mtx, 0, 1000000000) == 22,
	    "nsec of 1e9 gives EINVAL");
	rumpuser_mutex_exit(mtx);
	ht_unschedule();
	pthread_join(w, NULL);

	/* _nowrap on a spin mutex: no scheduler calls at all. */
	rumpuser_mutex_init(&smtx, RUMPUSER_MTX_SPIN);
	rumpuser_cv_init(&scv);
	sready = 0;
	pthread_t s;
	ht_schedule();
	u0 = ht_thread_unscheds();
	rumpuser_mutex_enter_nowrap(smtx);
	pthread_create(&s, NULL, spin_signaller, NULL);
	while (!sready)
		rumpuser_cv_wait_nowrap(scv, smtx);
	rumpuser_mutex_exit(smtx);
	CHECK(ht_thread_unscheds() == u0, "cv_wait_nowrap never released the CPU");
	ht_unschedule();
	pthread_join(s, NULL);
	rumpuser_cv_destroy(scv);
	rumpuser_mutex_destroy(smtx);
	rumpuser_cv_destroy(cv);
	rumpuser_mutex_destroy(mtx);
	word_checks();
	return ht_done("test_condvar");
}
