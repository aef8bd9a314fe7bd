/*
 * test_threads - thread_create/join/exit, names, CPU hints, and curlwp:
 * per host thread, unset in new threads, SET/CLEAR pairs.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <krank/hyp.h>
#include "hyptest.h"

static atomic_int ran, lwp_unset_at_start;

static void *
worker(void *arg)
{
	if (rumpuser_curlwp() == NULL)
		atomic_fetch_add(&lwp_unset_at_start, 1);
	/* A kernel thread schedules itself, gets an lwp, runs, leaves. */
	ht_schedule();
	struct lwp *l = rumpuser_curlwp();
	if (l != NULL)
		atomic_fetch_add(&ran, 1);
	ht_unschedule();
	if ((intptr_t)arg == 1)
		rumpuser_thread_exit();
	return NULL;
}

static void *
named(void *arg)
{
	char name[16] = "";
	pthread_getname_np(pthread_self(), name, sizeof(name));
	*(int *)arg = strcmp(name, "krank-named-thr") == 0 ? 1 : -1;
	return NULL;
}

static void *
where(void *arg)
{
	*(int *)arg = sched_getcpu();
	return NULL;
}

int
main(void)
{
	void *cookies[16];
	int rv = 0;

	ht_init(2);
	ht_schedule();
	for (int i = 0; i < 16; i++)
		rv |= rumpuser_thread_create(worker, (void *)(intptr_t)(i & 1), "worker",
		    1, 0, -1, &cookies[i]);
	CHECK(rv == 0, "16 joinable threads created");
	unsigned long u0 = ht_thread_unscheds();
	for (int i = 0; i < 16; i++)
		rv |= rumpuser_thread_join(cookies[i]);
	CHECK(rv == 0 && atomic_load(&ran) == 16,
	    "all joined; each ran with an lwp of its own (8 left by thread_exit)");
	CHECK(atomic_load(&lwp_unset_at_start) == 16, "new threads start with no curlwp");
	CHECK(ht_thread_unscheds() - u0 == 16, "each join released the CPU");

	int ok = 0;
	void *c;
	CHECK(rumpuser_thread_create(named, &ok, "krank-named-thread-long", 1, 0, -1,
	    &c) == 0 && rumpuser_thread_join(c) == 0 && ok == 1,
	    "thread name is set (truncated to 15 bytes)");
	cpu_set_t allowed;
	int last = 0, cpu = -2;
	sched_getaffinity(0, sizeof(allowed), &allowed);
	for (int i = 0; i < CPU_SETSIZE; i++)
		if (CPU_ISSET(i, &allowed))
			last = i;
	/* Where cpuidx goes is the host's mapping: the POSIX host's CPU
	 * cpuidx, the DPDK host's lcore (cpuidx mod lcores). */
	int want = hyp_cpu_host(last);
	CHECK(want >= 0 && hyp_cpu_host(-1) == -1, "the host maps cpuidx %d "
	    "to host CPU %d, and -1 to none", last, want);
	CHECK(rumpuser_thread_create(where, &cpu, "pinned", 1, 0, last, &c) == 0 &&
	    rumpuser_thread_join(c) == 0 && cpu == want,
	    "cpuidx %d runs the thread on host CPU %d (ran on %d)", last, want, cpu);
	atomic_store(&ran, 0);
	CHECK(rumpuser_thread_create(worker, NULL, "detached", 0, 0, -1, NULL) == 0,
	    "a detached thread is created without a cookie");
	CHECK(rumpuser_thread_create(worker, NULL, "x", 1, 0, -1, NULL) == 22,
	    "joinable without a cookie pointer gives EINVAL");
	CHECK(rumpuser_thread_create(NULL, NULL, "x", 0, 0, -1, NULL) == 22,
	    "no function gives EINVAL");
	CHECK(rumpuser_thread_join(NULL) == 22, "join of NULL gives EINVAL");

	/* curlwp: this thread's is the temporary lwp from ht_schedule. */
	struct lwp *mine = rumpuser_curlwp();
	CHECK(mine != NULL, "a scheduled thread has a curlwp");
	rumpuser_curlwpop(RUMPUSER_LWP_CLEAR, mine);
	CHECK(rumpuser_curlwp() == NULL, "CLEAR leaves none");
	rumpuser_curlwpop(RUMPUSER_LWP_SET, mine);
	CHECK(rumpuser_curlwp() == mine, "SET makes it current again");
	ht_unschedule();
	return ht_done("test_threads");
}
