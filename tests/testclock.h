/*
 * testclock.h - the monotonic clock for tests' deadlines and durations
 * (benchmarks too; bench_point.h has the machine-cost probe's own).
 */
#ifndef TESTCLOCK_H
#define TESTCLOCK_H
#include <stdint.h>
#include <time.h>

static inline uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline uint64_t
now_us(void)
{
	return now_ns() / 1000;
}

static inline uint64_t
now_ms(void)
{
	return now_ns() / 1000000;
}
#endif
