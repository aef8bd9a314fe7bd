/*
 * kern_time.c - wall and monotonic time over rumpuser_clock_gettime, and
 * randomness: per-CPU xorshift128+ seeded from host entropy for cprng_fast,
 * rumpuser_getrandom for cprng_strong.
 */
#include <time.h>

#include "kern/kern_int.h"

const int hz = 1000;
static uint64_t boot_ns;		/* set once at init */

struct cprng_cpu {
	kspin_t lock;			/* protects s */
	uint64_t s[2];
} __attribute__((aligned(64)));
static struct cprng_cpu cprng_cpu[MAXCPUS];

static uint64_t
mono_ns(void)
{
	int64_t sec;
	long nsec;
	rumpuser_clock_gettime(RUMPUSER_CLOCK_ABSMONO, &sec, &nsec);
	return (uint64_t)sec * 1000000000u + (uint64_t)nsec;
}

void
kern_time_init(void)
{
	/* Every CPU's seed from one host call, not one call each: a
	 * system call costs microseconds on a VM, and this is boot. */
	uint64_t seeds[MAXCPUS][2];
	bool strong;

	boot_ns = mono_ns();
	strong = cprng_strong(seeds, sizeof(seeds)) == 0;
	for (int i = 0; i < MAXCPUS; i++) {
		uint64_t *seed = seeds[i];
		if (!strong || (seed[0] | seed[1]) == 0) {
			seed[0] = boot_ns ^ 0x9e3779b97f4a7c15ull * (uint64_t)(i + 1);
			seed[1] = ~seed[0] | 1;
		}
		cprng_cpu[i].s[0] = seed[0];
		cprng_cpu[i].s[1] = seed[1];
	}
}

uint64_t
kern_uptime_ns(void)
{
	return mono_ns() - boot_ns;
}

void
getnanouptime(struct timespec *ts)
{
	uint64_t ns = kern_uptime_ns();
	ts->tv_sec = (time_t)(ns / 1000000000u);
	ts->tv_nsec = (long)(ns % 1000000000u);
}

void
kpause_ns(uint64_t ns)
{
	rumpuser_clock_sleep(RUMPUSER_CLOCK_RELWALL, (int64_t)(ns / 1000000000u),
	    (long)(ns % 1000000000u));
}

void
getnanotime(struct timespec *ts)
{
	int64_t sec;
	long nsec;
	rumpuser_clock_gettime(RUMPUSER_CLOCK_RELWALL, &sec, &nsec);
	ts->tv_sec = (time_t)sec;
	ts->tv_nsec = nsec;
}

uint64_t
cprng_fast64(void)
{
	struct cprng_cpu *c = &cprng_cpu[cpu_index_cur()];
	kspin_enter(&c->lock);
	uint64_t s1 = c->s[0];
	const uint64_t s0 = c->s[1];
	uint64_t r = s0 + s1;
	c->s[0] = s0;
	s1 ^= s1 << 23;
	c->s[1] = s1 ^ s0 ^ (s1 >> 18) ^ (s0 >> 5);
	kspin_exit(&c->lock);
	return r;
}

uint32_t
cprng_fast32(void)
{
	return (uint32_t)(cprng_fast64() >> 32);
}

int
cprng_strong(void *buf, size_t len)
{
	size_t got = 0;
	while (got < len) {
		size_t n;
		int rv = rumpuser_getrandom((char *)buf + got, len - got,
		    RUMPUSER_RANDOM_HARD, &n);
		if (rv != 0)
			return rv;
		got += n;
	}
	return 0;
}
