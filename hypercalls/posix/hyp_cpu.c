/*
 * hyp_cpu.c - CPU counting and pinning of host threads.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <krank/hyp.h>
#include "rumpuser_int.h"
#ifdef KRANK_HOST_DPDK
#include "dpdk_int.h"
#endif

/* The process's CPUs, read before any thread of ours is pinned. */
static int cpu_count_cached;

__attribute__((constructor)) static void
hyp_cpu_init(void)
{
	cpu_set_t set;

	cpu_count_cached = sched_getaffinity(0, sizeof(set), &set) == 0 ?
	    CPU_COUNT(&set) : 1;
}

int
hyp_cpu_count(void)
{
	return cpu_count_cached;
}

int
hyp_cpu_pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0 || cpu >= CPU_SETSIZE)
		return NB_EINVAL;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	int rv = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	return rumpuser__errtrans(rv);
}

int
hyp_cpu_current(void)
{
	return sched_getcpu();
}

int
hyp_cpu_host(int cpuidx)
{
	if (cpuidx < 0)
		return -1;
#ifdef KRANK_HOST_DPDK
	return rumpuser__dpdk_lcore_cpu(cpuidx);
#else
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set) == 0 &&
	    cpuidx < CPU_SETSIZE && CPU_ISSET(cpuidx, &set))
		return cpuidx;
	return -1;
#endif
}
