/*
 * test_clock_random - clocks read and sleep as rumpuser(3) says (RELWALL
 * relative, ABSMONO absolute), sleeps release the CPU, bad arguments are
 * EINVAL; getrandom fills buffers with fresh bytes.
 */
#include "hyptest.h"

static double
mono(void)
{
	int64_t s;
	long ns;
	rumpuser_clock_gettime(RUMPUSER_CLOCK_ABSMONO, &s, &ns);
	return (double)s + (double)ns / 1e9;
}

int
main(void)
{
	int64_t s1, s2;
	long n1, n2;

	ht_init(1);
	ht_schedule();
	CHECK(rumpuser_clock_gettime(RUMPUSER_CLOCK_RELWALL, &s1, &n1) == 0 &&
	    s1 > 1600000000 && n1 >= 0 && n1 < 1000000000,
	    "RELWALL reads the wall clock (%lld s)", (long long)s1);
	CHECK(rumpuser_clock_gettime(RUMPUSER_CLOCK_ABSMONO, &s1, &n1) == 0 &&
	    rumpuser_clock_gettime(RUMPUSER_CLOCK_ABSMONO, &s2, &n2) == 0 &&
	    (s2 > s1 || (s2 == s1 && n2 >= n1)), "ABSMONO does not go backwards");
	CHECK(rumpuser_clock_gettime(7, &s1, &n1) == 22, "unknown clock gives EINVAL");

	unsigned long u0 = ht_thread_unscheds(), sc0 = ht_thread_scheds();
	ht_set_biglocks(1);
	double t0 = mono();
	CHECK(rumpuser_clock_sleep(RUMPUSER_CLOCK_RELWALL, 0, 20000000) == 0,
	    "RELWALL sleep of 20 ms");
	CHECK(ht_biglocks() == 1 && ht_last_interlock(0) == NULL &&
	    ht_last_interlock(1) == NULL, "the sleep gave the big lock back "
	    "(count 1) and used no interlock");
	ht_set_biglocks(0);
	double dt = mono() - t0;
	CHECK(dt >= 0.020 && dt < 1.0, "slept %.1f ms (>= 20)", dt * 1e3);
	CHECK(ht_thread_unscheds() == u0 + 1 && ht_thread_scheds() == sc0 + 1 &&
	    ht_has_cpu(), "sleep released the CPU once and took it back");

	rumpuser_clock_gettime(RUMPUSER_CLOCK_ABSMONO, &s1, &n1);
	n1 += 30000000;
	if (n1 >= 1000000000) { s1++; n1 -= 1000000000; }
	t0 = mono();
	CHECK(rumpuser_clock_sleep(RUMPUSER_CLOCK_ABSMONO, s1, n1) == 0,
	    "ABSMONO sleep until now + 30 ms");
	dt = mono() - t0;
	CHECK(dt >= 0.029 && dt < 1.0, "woke after %.1f ms", dt * 1e3);
	t0 = mono();
	CHECK(rumpuser_clock_sleep(RUMPUSER_CLOCK_ABSMONO, 1, 0) == 0 &&
	    mono() - t0 < 0.05, "ABSMONO sleep until a past time returns at once");
	CHECK(rumpuser_clock_sleep(RUMPUSER_CLOCK_RELWALL, 0, 1000000000) == 22,
	    "nsec of 1e9 gives EINVAL");
	CHECK(rumpuser_clock_sleep(RUMPUSER_CLOCK_RELWALL, -1, 0) == 22,
	    "negative seconds give EINVAL");
	CHECK(rumpuser_clock_sleep(5, 0, 1) == 22, "unknown clock gives EINVAL");

	unsigned char a[64], b[64], z[64];
	size_t got;
	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	memset(z, 0, sizeof(z));
	CHECK(rumpuser_getrandom(a, sizeof(a), 0, &got) == 0 && got == 64 &&
	    memcmp(a, z, 64) != 0, "getrandom fills 64 bytes");
	CHECK(rumpuser_getrandom(b, sizeof(b), RUMPUSER_RANDOM_HARD |
	    RUMPUSER_RANDOM_NOWAIT, &got) == 0 && got == 64 && memcmp(a, b, 64) != 0,
	    "a second call (HARD|NOWAIT) gives different bytes");
	CHECK(rumpuser_getrandom(a, sizeof(a), 0x10, &got) == 22, "unknown flag gives EINVAL");
	CHECK(rumpuser_getrandom(a, 0, 0, &got) == 0 && got == 0, "zero bytes asked, zero given");
	ht_unschedule();
	return ht_done("test_clock_random");
}
