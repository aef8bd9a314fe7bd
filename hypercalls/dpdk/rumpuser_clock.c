/*
 * rumpuser_clock.c (DPDK host) - clocks from the TSC at the rate DPDK
 * measured: ABSMONO is the monotonic clock at rumpuser_init plus the TSC
 * cycles since, RELWALL the wall clock at rumpuser_init plus the same
 * (taken once: later steps of the host's wall clock are not followed).
 * Reading a clock makes no system call.  Sleeps release the CPU, sleep on
 * the host and wake when the TSC clock has reached the deadline.  Assumes
 * an invariant TSC synchronised across cores, as DPDK does.
 */
#include <errno.h>
#include <time.h>
#include <rte_cycles.h>
#include "rumpuser_int.h"
#include "dpdk_int.h"

#define NSEC 1000000000ULL

/* Written once in rumpuser_init, before any reader can see tsc_hz != 0. */
static uint64_t tsc_hz, tsc0;
static uint64_t mono0_ns, wall0_ns;

int
rumpuser__dpdk_clock_init(void)
{
	struct timespec m, w;
	uint64_t hz = rte_get_tsc_hz();

	if (hz == 0)
		return NB_ENXIO;
	clock_gettime(CLOCK_MONOTONIC, &m);
	clock_gettime(CLOCK_REALTIME, &w);
	tsc0 = rte_get_tsc_cycles();
	mono0_ns = (uint64_t)m.tv_sec * NSEC + (uint64_t)m.tv_nsec;
	wall0_ns = (uint64_t)w.tv_sec * NSEC + (uint64_t)w.tv_nsec;
	__atomic_store_n(&tsc_hz, hz, __ATOMIC_RELEASE);
	return 0;
}

/* Nanoseconds on the monotonic TSC clock. */
static uint64_t
tsc_mono_ns(uint64_t hz)
{
	uint64_t d = rte_get_tsc_cycles() - tsc0;
	/* In two parts: d * 1e9 overflows after ~9 s at 2 GHz. */
	return mono0_ns + d / hz * NSEC + d % hz * NSEC / hz;
}

int
rumpuser_clock_gettime(int clk, int64_t *sec, long *nsec)
{
	uint64_t hz = __atomic_load_n(&tsc_hz, __ATOMIC_ACQUIRE), ns;
	struct timespec ts;

	if (clk != RUMPUSER_CLOCK_RELWALL && clk != RUMPUSER_CLOCK_ABSMONO)
		return NB_EINVAL;
	if (sec == NULL || nsec == NULL)
		return NB_EINVAL;
	if (hz == 0) {
		/* Before rumpuser_init: the host's clocks. */
		if (clock_gettime(clk == RUMPUSER_CLOCK_RELWALL ?
		    CLOCK_REALTIME : CLOCK_MONOTONIC, &ts) == -1)
			return rumpuser__errtrans(errno);
		*sec = ts.tv_sec;
		*nsec = ts.tv_nsec;
		return 0;
	}
	ns = tsc_mono_ns(hz);
	if (clk == RUMPUSER_CLOCK_RELWALL)
		ns = ns - mono0_ns + wall0_ns;
	*sec = (int64_t)(ns / NSEC);
	*nsec = (long)(ns % NSEC);
	return 0;
}

/* Monotonic nanoseconds now: the TSC clock, or the host's before init. */
static uint64_t
mono_now(void)
{
	uint64_t hz = __atomic_load_n(&tsc_hz, __ATOMIC_ACQUIRE);
	struct timespec ts;

	if (hz != 0)
		return tsc_mono_ns(hz);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC + (uint64_t)ts.tv_nsec;
}

int
rumpuser_clock_sleep(int clk, int64_t sec, long nsec)
{
	uint64_t deadline, now;

	if (nsec < 0 || nsec >= 1000000000L || sec < 0)
		return NB_EINVAL;
	if (clk != RUMPUSER_CLOCK_RELWALL && clk != RUMPUSER_CLOCK_ABSMONO)
		return NB_EINVAL;
	/* Saturate: a deadline past 2^64 ns (584 years) is forever. */
	uint64_t req = (uint64_t)sec > (UINT64_MAX - (uint64_t)nsec) / NSEC ?
	    UINT64_MAX : (uint64_t)sec * NSEC + (uint64_t)nsec;
	now = mono_now();
	if (clk == RUMPUSER_CLOCK_RELWALL)
		deadline = req > UINT64_MAX - now ? UINT64_MAX : now + req;
	else
		deadline = req;
	/*
	 * Sleep the remainder on the host's clock, then look at ours: the
	 * two rates differ slightly, and a signal cuts a sleep short.
	 */
	int nlocks;
	rumpkern_unsched(&nlocks, NULL);
	while ((now = mono_now()) < deadline) {
		uint64_t left = deadline - now;
		struct timespec ts;
		ts.tv_sec = (time_t)(left / NSEC > (uint64_t)INT32_MAX ?
		    INT32_MAX : left / NSEC);
		ts.tv_nsec = (long)(left % NSEC);
		(void)clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
	}
	rumpkern_sched(nlocks, NULL);
	return 0;
}
