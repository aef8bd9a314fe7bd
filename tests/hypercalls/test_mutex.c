/*
 * test_mutex - mutexes with many threads on few virtual CPUs: mutual
 * exclusion, owner tracking for KMUTEX, tryenter, and the scheduling rule
 * (adaptive mutexes release the CPU only when they must wait; spin and
 * _nowrap never do).  8 threads share 2 virtual CPUs: a blocking enter
 * that kept its CPU would starve the holder.
 */
#include <pthread.h>
#include <stdatomic.h>
#include "hyptest.h"

#define NTHR 8
#define NITER 20000

static struct rumpuser_mtx *mtx, *spin;
static long counter, scounter;
static atomic_int inside, max_inside, owner_bad;
static atomic_ulong spin_unscheds;

static void *
hammer(void *arg)
{
	ht_newlwp();
	ht_schedule();
	for (int i = 0; i < NITER; i++) {
		rumpuser_mutex_enter(mtx);
		int n = atomic_fetch_add(&inside, 1) + 1;
		if (n > atomic_load(&max_inside))
			atomic_store(&max_inside, n);
		struct lwp *o;
		rumpuser_mutex_owner(mtx, &o);
		if (o != rumpuser_curlwp())
			atomic_fetch_add(&owner_bad, 1);
		counter++;
		atomic_fetch_sub(&inside, 1);
		rumpuser_mutex_exit(mtx);
	}
	unsigned long u0 = ht_thread_unscheds();
	for (int i = 0; i < NITER; i++) {
		rumpuser_mutex_enter(spin);
		scounter++;
		rumpuser_mutex_exit(spin);
		rumpuser_mutex_enter_nowrap(spin);
		scounter++;
		rumpuser_mutex_exit(spin);
	}
	atomic_fetch_add(&spin_unscheds, ht_thread_unscheds() - u0);
	ht_unschedule();
	return NULL;
}

int
main(void)
{
	pthread_t t[NTHR];
	struct lwp *o;

	ht_init(2);
	rumpuser_mutex_init(&mtx, RUMPUSER_MTX_KMUTEX);
	rumpuser_mutex_init(&spin, RUMPUSER_MTX_SPIN);
	for (int i = 0; i < NTHR; i++)
		pthread_create(&t[i], NULL, hammer, NULL);
	for (int i = 0; i < NTHR; i++)
		pthread_join(t[i], NULL);
	CHECK(counter == (long)NTHR * NITER,
	    "%d threads x %d increments under a kernel mutex: %ld", NTHR, NITER, counter);
	CHECK(scounter == (long)NTHR * NITER * 2,
	    "%d threads x %d x 2 increments under a spin mutex: %ld", NTHR, NITER, scounter);
	CHECK(atomic_load(&max_inside) == 1, "never more than one holder");
	CHECK(atomic_load(&owner_bad) == 0, "mutex_owner is the holder's lwp every time");
	CHECK(atomic_load(&spin_unscheds) == 0,
	    "spin and _nowrap enters never released the CPU");

	ht_schedule();
	rumpuser_mutex_owner(mtx, &o);
	CHECK(o == NULL, "an unheld KMUTEX has no owner");
	unsigned long u0 = ht_thread_unscheds();
	rumpuser_mutex_enter(mtx);
	CHECK(ht_thread_unscheds() == u0, "an uncontended enter keeps the CPU");
	rumpuser_mutex_owner(mtx, &o);
	CHECK(o == rumpuser_curlwp() && o != NULL, "owner is curlwp while held");
	CHECK(rumpuser_mutex_tryenter(mtx) == 16, "tryenter of a held mutex gives EBUSY");
	rumpuser_mutex_exit(mtx);
	CHECK(rumpuser_mutex_tryenter(mtx) == 0, "tryenter of a free mutex succeeds");
	rumpuser_mutex_exit(mtx);
	ht_unschedule();
	rumpuser_mutex_destroy(mtx);
	rumpuser_mutex_destroy(spin);
	return ht_done("test_mutex");
}
