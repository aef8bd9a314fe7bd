/*
 * bench_hwlat - the machine's own floor for wake-up latency on one core:
 * how long this core stops running a thread that never sleeps and never
 * makes a system call.  A thread pinned to CORE (SCHED_FIFO when allowed)
 * reads CLOCK_MONOTONIC in a tight loop; any gap between two reads longer
 * than a few hundred nanoseconds is time the core spent elsewhere: an
 * interrupt, a kernel thread, or - under a hypervisor - the virtual CPU
 * not running at all (steal).  No guest code, KRANK's included, can wake
 * a thread sooner than the core comes back, so a periodic thread's p99.9
 * cannot beat this probe's p99.9 on the same core.
 *
 * The run is cut into 1 ms windows (one period of a 1 kHz cyclic thread)
 * and the longest gap of each window is kept; the distribution of those
 * per-window maxima is what a 1 kHz thread would see at worst.  Spinning
 * is done in bursts of 200 ms with 50 ms sleeps between them, so that
 * Linux's real-time throttling (sched_rt_runtime_us) never cuts in and
 * shows up as a gap of its own.  Steal time of the core is read from
 * /proc/stat before and after.
 *
 *   usage: bench_hwlat [SECONDS [CORE]]      (defaults: 5, the last core)
 * Prints one human line and an @point-free "hwlat:" line for scripts.
 * Not part of make check.
 */
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define WINDOW_NS	1000000LL	/* one 1 kHz period */
#define BURST_NS	200000000LL	/* spin this long, then sleep */
#define REST_NS		50000000LL

static int64_t
now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int
cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* The core's steal time in USER_HZ ticks from /proc/stat, or -1. */
static long long
steal_ticks(int core)
{
	char want[32], line[512];
	long long v[8];
	FILE *f = fopen("/proc/stat", "r");
	long long r = -1;

	if (f == NULL)
		return -1;
	snprintf(want, sizeof(want), "cpu%d ", core);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, want, strlen(want)) != 0)
			continue;
		/* user nice system idle iowait irq softirq steal */
		if (sscanf(line + strlen(want), "%lld %lld %lld %lld %lld %lld "
		    "%lld %lld", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
		    &v[6], &v[7]) == 8)
			r = v[7];
		break;
	}
	fclose(f);
	return r;
}

int
main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 5;
	int core = argc > 2 ? atoi(argv[2]) : (int)sysconf(_SC_NPROCESSORS_ONLN) - 1;
	cpu_set_t set;
	struct sched_param sp = { .sched_priority = 80 };
	const char *policy = "SCHED_FIFO 80";

	if (secs <= 0 || secs > 3600 || core < 0 || core >= CPU_SETSIZE) {
		fprintf(stderr, "usage: bench_hwlat [SECONDS (0-3600] [CORE]]\n");
		return 2;
	}
	CPU_ZERO(&set);
	CPU_SET(core, &set);
	if (sched_setaffinity(0, sizeof(set), &set) != 0) {
		fprintf(stderr, "bench_hwlat: core %d: %s\n", core, strerror(errno));
		return 1;
	}
	if (sched_setscheduler(0, SCHED_FIFO, &sp) != 0)
		policy = "SCHED_OTHER (SCHED_FIFO refused)";

	size_t nwin = (size_t)(secs * 1e9 / WINDOW_NS) + 1, w = 0;
	uint32_t *maxgap = calloc(nwin, sizeof(*maxgap));
	if (maxgap == NULL)
		return 1;
	long long st0 = steal_ticks(core);
	int64_t end = now_ns() + (int64_t)(secs * 1e9), spun = 0;
	uint64_t over10 = 0, reads = 0;

	while (w < nwin && now_ns() < end) {
		int64_t burst_end = now_ns() + BURST_NS;
		int64_t prev = now_ns(), wend = prev + WINDOW_NS, t0 = prev;
		uint32_t wmax = 0;
		for (;;) {
			int64_t t = now_ns(), gap = t - prev;
			reads++;
			if (gap > 10000)
				over10++;
			if (gap > (int64_t)wmax)
				wmax = gap > 4000000000LL ? 4000000000u : (uint32_t)gap;
			prev = t;
			if (t >= wend) {
				maxgap[w++] = wmax;
				wmax = 0;
				wend = t + WINDOW_NS;
				if (w == nwin || t >= burst_end || t >= end)
					break;
			}
		}
		spun += prev - t0;
		struct timespec rest = { 0, REST_NS };
		nanosleep(&rest, NULL);
	}
	long long st1 = steal_ticks(core);
	long hz = sysconf(_SC_CLK_TCK);

	if (w == 0) {
		fprintf(stderr, "bench_hwlat: no 1 ms window completed\n");
		return 1;
	}
	qsort(maxgap, w, sizeof(*maxgap), cmp);
	printf("core %d, %s, %.1f s spun in 1 ms windows (%zu): longest gap "
	    "per window min %.1f p50 %.1f p99 %.1f p99.9 %.1f max %.1f us; "
	    "%llu gaps > 10 us in %llu reads; steal %s",
	    core, policy, spun / 1e9, w, maxgap[0] / 1e3, maxgap[w / 2] / 1e3,
	    maxgap[w * 99 / 100] / 1e3, maxgap[w * 999 / 1000] / 1e3,
	    maxgap[w - 1] / 1e3, (unsigned long long)over10,
	    (unsigned long long)reads, st0 < 0 || st1 < 0 ? "unknown" : "");
	if (st0 >= 0 && st1 >= 0)
		printf("%.0f ms", (double)(st1 - st0) * 1000.0 / (double)hz);
	printf("\nhwlat: core=%d windows=%zu p50=%.1f p99=%.1f p99.9=%.1f "
	    "max=%.1f over10=%llu\n", core, w, maxgap[w / 2] / 1e3,
	    maxgap[w * 99 / 100] / 1e3, maxgap[w * 999 / 1000] / 1e3,
	    maxgap[w - 1] / 1e3, (unsigned long long)over10);
	free(maxgap);
	return 0;
}
