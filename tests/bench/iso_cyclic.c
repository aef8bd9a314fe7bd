/*
 * iso_cyclic - a cyclictest-style periodic thread: wakes every PERIOD us
 * on an absolute CLOCK_MONOTONIC deadline, N times, and prints the
 * wake-up latencies (how late it woke): min, p50, p99, p99.9, max in us.
 * Built twice by bench_krank_rt.sh: as a KRANK isolate (krank-cc; run by
 * krank on its core) and as an ordinary Linux program (gcc).
 *   usage: iso_cyclic [N [PERIOD_US]]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static int
cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 10000;
	long period = (argc > 2 ? atol(argv[2]) : 1000) * 1000;
	uint32_t *lat = malloc((size_t)n * sizeof(*lat));
	struct timespec next, now;

	if (lat == NULL || n < 1000)
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (int i = 0; i < n; i++) {
		next.tv_nsec += period;
		while (next.tv_nsec >= 1000000000) {
			next.tv_nsec -= 1000000000;
			next.tv_sec++;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
		clock_gettime(CLOCK_MONOTONIC, &now);
		int64_t d = (int64_t)(now.tv_sec - next.tv_sec) * 1000000000 +
		    (now.tv_nsec - next.tv_nsec);
		lat[i] = d < 0 ? 0 : d > 4000000000 ? 4000000000u : (uint32_t)d;
	}
	qsort(lat, (size_t)n, sizeof(*lat), cmp);
	printf("cyclic: n=%d period=%ldus min=%.1f p50=%.1f p99=%.1f "
	    "p99.9=%.1f max=%.1f us\n", n, period / 1000, lat[0] / 1e3,
	    lat[n / 2] / 1e3, lat[n * 99 / 100] / 1e3,
	    lat[n * 999 / 1000] / 1e3, lat[n - 1] / 1e3);
	free(lat);
	return 0;
}
