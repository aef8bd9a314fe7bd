/*
 * test_rcu - hyp_rcu_*: readers never see a version freed under them while
 * a writer replaces it thousands of times, synchronize waits for a reader
 * inside its read-side section, and synchronize releases the CPU.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <krank/hyp.h>
#include "hyptest.h"

#define ALIVE 0x4b52414eu
#define DEAD 0xdeadbeefu

struct version {
	unsigned magic;
	unsigned long seq;
};

static struct version *_Atomic current;
static atomic_int stop, bad_reads;
static atomic_ulong reads;

static void *
reader(void *arg)
{
	while (!atomic_load(&stop)) {
		hyp_rcu_read_lock();
		struct version *v = atomic_load_explicit(&current, memory_order_acquire);
		if (v->magic != ALIVE)
			atomic_fetch_add(&bad_reads, 1);
		hyp_rcu_read_unlock();
		atomic_fetch_add(&reads, 1);
	}
	return NULL;
}

static atomic_int held, synced;
static pthread_mutex_t hm = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hc = PTHREAD_COND_INITIALIZER;

static void *
holder(void *arg)
{
	hyp_rcu_read_lock();
	pthread_mutex_lock(&hm);
	atomic_store(&held, 1);
	pthread_cond_broadcast(&hc);
	/* Stay inside until told to leave. */
	while (atomic_load(&held) == 1)
		pthread_cond_wait(&hc, &hm);
	pthread_mutex_unlock(&hm);
	hyp_rcu_read_unlock();
	return NULL;
}

static void *
synchronizer(void *arg)
{
	ht_schedule();		/* a kernel thread calls it holding a CPU */
	hyp_rcu_synchronize();
	atomic_store(&synced, 1);
	ht_unschedule();
	return NULL;
}

int
main(void)
{
	pthread_t r[4], h, s;

	ht_init(2);
	struct version *v0 = malloc(sizeof(*v0));
	*v0 = (struct version){ ALIVE, 0 };
	atomic_store(&current, v0);
	for (int i = 0; i < 4; i++)
		pthread_create(&r[i], NULL, reader, NULL);
	ht_schedule();
	unsigned long u0 = ht_thread_unscheds();
	for (unsigned long i = 1; i <= 3000; i++) {
		struct version *nv = malloc(sizeof(*nv));
		*nv = (struct version){ ALIVE, i };
		struct version *old = atomic_exchange_explicit(&current, nv,
		    memory_order_acq_rel);
		hyp_rcu_synchronize();
		old->magic = DEAD;	/* a reader that still saw it would notice */
		free(old);
	}
	CHECK(ht_thread_unscheds() - u0 == 3000,
	    "every synchronize released the CPU while it waited");
	ht_unschedule();
	atomic_store(&stop, 1);
	for (int i = 0; i < 4; i++)
		pthread_join(r[i], NULL);
	CHECK(atomic_load(&bad_reads) == 0,
	    "3000 replacements, %lu reads by 4 readers: none saw a freed version",
	    (unsigned long)atomic_load(&reads));
	free(atomic_load(&current));

	pthread_create(&h, NULL, holder, NULL);
	pthread_mutex_lock(&hm);
	while (atomic_load(&held) == 0)
		pthread_cond_wait(&hc, &hm);
	pthread_mutex_unlock(&hm);
	pthread_create(&s, NULL, synchronizer, NULL);
	/* Watch for 100 ms: synchronize must not return while a reader is in. */
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int early = 0;
	do {
		early |= atomic_load(&synced);
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 < 100);
	CHECK(!early, "synchronize waited while a reader held its read-side section");
	pthread_mutex_lock(&hm);
	atomic_store(&held, 2);
	pthread_cond_broadcast(&hc);
	pthread_mutex_unlock(&hm);
	pthread_join(h, NULL);
	pthread_join(s, NULL);
	CHECK(atomic_load(&synced) == 1, "and returned once the reader left");
	return ht_done("test_rcu");
}
