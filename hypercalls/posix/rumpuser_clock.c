/*
 * rumpuser_clock.c - clock and sleep hypercalls.  RELWALL reads the wall
 * clock and sleeps relative; ABSMONO reads the monotonic clock and sleeps
 * until an absolute monotonic time.  Sleeps always release the CPU.
 */
#include <errno.h>
#include <time.h>
#include "rumpuser_int.h"

int
rumpuser_clock_gettime(int clk, int64_t *sec, long *nsec)
{
	struct timespec ts;
	clockid_t id;

	switch (clk) {
	case RUMPUSER_CLOCK_RELWALL: id = CLOCK_REALTIME; break;
	case RUMPUSER_CLOCK_ABSMONO: id = CLOCK_MONOTONIC; break;
	default: return NB_EINVAL;
	}
	if (sec == NULL || nsec == NULL)
		return NB_EINVAL;
	if (clock_gettime(id, &ts) == -1)
		return rumpuser__errtrans(errno);
	*sec = ts.tv_sec;
	*nsec = ts.tv_nsec;
	return 0;
}

int
rumpuser_clock_sleep(int clk, int64_t sec, long nsec)
{
	struct timespec ts = { .tv_sec = (time_t)sec, .tv_nsec = nsec };
	int flags, rv = 0;

	if (nsec < 0 || nsec >= 1000000000L || sec < 0)
		return NB_EINVAL;
	switch (clk) {
	case RUMPUSER_CLOCK_RELWALL: flags = 0; break;
	case RUMPUSER_CLOCK_ABSMONO: flags = TIMER_ABSTIME; break;
	default: return NB_EINVAL;
	}
	KLOCK_WRAP(
		/* clock_nanosleep updates ts with the remainder when relative. */
		do {
			rv = clock_nanosleep(CLOCK_MONOTONIC, flags, &ts, &ts);
		} while (rv == EINTR)
	);
	return rumpuser__errtrans(rv);
}
