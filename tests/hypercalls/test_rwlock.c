/*
 * test_rwlock - reader/writer locks on several CPUs: readers share,
 * writers exclude everyone, tryupgrade races let exactly one sole reader
 * win, downgrade lets no writer in, held reports the truth, and blocking
 * enters release the CPU; a sleeping writer holds off new readers.
 */
#include <pthread.h>
#include <stdatomic.h>
#include "hyptest.h"

#define NTHR 8
#define NITER 5000

static struct rumpuser_rw *rw;
static atomic_int readers_in, writers_in, bad, max_readers;
static long value;

static void *
mixed(void *arg)
{
	int id = (int)(intptr_t)arg;
	ht_newlwp();
	ht_schedule();
	for (int i = 0; i < NITER; i++) {
		if ((i + id) % 4 == 0) {
			rumpuser_rw_enter(RUMPUSER_RW_WRITER, rw);
			if (atomic_fetch_add(&writers_in, 1) != 0 ||
			    atomic_load(&readers_in) != 0)
				atomic_fetch_add(&bad, 1);
			int held;
			rumpuser_rw_held(RUMPUSER_RW_WRITER, rw, &held);
			if (!held)
				atomic_fetch_add(&bad, 1);
			value++;
			atomic_fetch_sub(&writers_in, 1);
			rumpuser_rw_exit(rw);
		} else {
			rumpuser_rw_enter(RUMPUSER_RW_READER, rw);
			int r = atomic_fetch_add(&readers_in, 1) + 1;
			if (r > atomic_load(&max_readers))
				atomic_store(&max_readers, r);
			if (atomic_load(&writers_in) != 0)
				atomic_fetch_add(&bad, 1);
			atomic_fetch_sub(&readers_in, 1);
			rumpuser_rw_exit(rw);
		}
	}
	ht_unschedule();
	return NULL;
}

/* Upgrade race: all take a read lock, wait for each other, try upgrade. */
static pthread_barrier_t bar;
static atomic_int upgrades;
static void *
upgrader(void *arg)
{
	ht_newlwp();
	ht_schedule();
	rumpuser_rw_enter(RUMPUSER_RW_READER, rw);
	void *c = NULL;
	ht_unschedule();
	pthread_barrier_wait(&bar);
	ht_schedule();
	(void)c;
	if (rumpuser_rw_tryupgrade(rw) == 0) {
		atomic_fetch_add(&upgrades, 1);
		rumpuser_rw_exit(rw);
	} else {
		rumpuser_rw_exit(rw);
	}
	ht_unschedule();
	return NULL;
}

/* Downgrade: a writer waiting must not get in before the reader leaves. */
static atomic_int writer_got_in;
static void *
late_writer(void *arg)
{
	ht_newlwp();
	ht_schedule();
	rumpuser_rw_enter(RUMPUSER_RW_WRITER, rw);
	atomic_store(&writer_got_in, 1);
	rumpuser_rw_exit(rw);
	ht_unschedule();
	return NULL;
}

int
main(void)
{
	pthread_t t[NTHR];
	int held;

	ht_init(3);
	rumpuser_rw_init(&rw);
	for (int i = 0; i < NTHR; i++)
		pthread_create(&t[i], NULL, mixed, (void *)(intptr_t)i);
	for (int i = 0; i < NTHR; i++)
		pthread_join(t[i], NULL);
	CHECK(atomic_load(&bad) == 0, "writers were alone every time (%d threads, %d ops)",
	    NTHR, NTHR * NITER);
	CHECK(value == NTHR * NITER / 4, "every write counted: %ld", value);
	printf("info: at most %d readers were inside at once\n", atomic_load(&max_readers));

	for (int round = 0; round < 50; round++) {
		pthread_barrier_init(&bar, NULL, 4);
		atomic_store(&upgrades, 0);
		for (int i = 0; i < 4; i++)
			pthread_create(&t[i], NULL, upgrader, NULL);
		for (int i = 0; i < 4; i++)
			pthread_join(t[i], NULL);
		pthread_barrier_destroy(&bar);
		QCHECK(atomic_load(&upgrades) <= 1, "round %d: %d upgrades", round,
		    atomic_load(&upgrades));
	}
	CHECK(ht_failures == 0, "50 rounds of 4 readers racing to upgrade: never two winners");

	ht_schedule();
	rumpuser_rw_enter(RUMPUSER_RW_READER, rw);
	CHECK(rumpuser_rw_tryupgrade(rw) == 0, "a sole reader upgrades");
	rumpuser_rw_held(RUMPUSER_RW_WRITER, rw, &held);
	CHECK(held, "and holds it as writer");
	CHECK(rumpuser_rw_tryenter(RUMPUSER_RW_READER, rw) == 16,
	    "tryenter READER while write-held gives EBUSY");
	pthread_t w;
	pthread_create(&w, NULL, late_writer, NULL);
	rumpuser_rw_downgrade(rw);
	rumpuser_rw_held(RUMPUSER_RW_WRITER, rw, &held);
	CHECK(!held, "after downgrade not held as writer");
	rumpuser_rw_held(RUMPUSER_RW_READER, rw, &held);
	CHECK(held, "but held as reader");
	/* Give the writer every chance to barge in (it must not). */
	for (int i = 0; i < 1000; i++)
		sched_yield();
	CHECK(atomic_load(&writer_got_in) == 0, "a waiting writer did not get in while we read");
	CHECK(rumpuser_rw_tryenter(RUMPUSER_RW_WRITER, rw) == 16,
	    "tryenter WRITER while read-held gives EBUSY");
	rumpuser_rw_exit(rw);
	ht_unschedule();
	pthread_join(w, NULL);
	CHECK(atomic_load(&writer_got_in) == 1, "the writer got in after the reader left");
	rumpuser_rw_held(RUMPUSER_RW_READER, rw, &held);
	CHECK(!held, "free lock: no readers");

	/* Writer preference: once a writer sleeps, new readers wait too. */
	atomic_store(&writer_got_in, 0);
	ht_schedule();
	rumpuser_rw_enter(RUMPUSER_RW_READER, rw);
	pthread_create(&w, NULL, late_writer, NULL);
	int refused = 0;
	for (long i = 0; i < 100000000 && !refused; i++) {
		if (rumpuser_rw_tryenter(RUMPUSER_RW_READER, rw) == 0)
			rumpuser_rw_exit(rw);	/* writer not asleep yet */
		else
			refused = 1;
		sched_yield();
	}
	CHECK(refused, "a second reader is refused while a writer waits");
	CHECK(atomic_load(&writer_got_in) == 0, "the writer waits for the reader");
	rumpuser_rw_exit(rw);
	ht_unschedule();
	pthread_join(w, NULL);
	CHECK(atomic_load(&writer_got_in) == 1, "and gets in when it leaves");
	rumpuser_rw_held(RUMPUSER_RW_WRITER, rw, &held);
	CHECK(!held, "free lock: no writer");
	rumpuser_rw_destroy(rw);
	return ht_done("test_rwlock");
}
