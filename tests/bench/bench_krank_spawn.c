/*
 * bench_krank_spawn - isolate spawn to first instruction, against Linux's
 * fork+exec of the same program, in the same run.
 *   KRANK: krk_isolate_spawn of iso_first.kx (verify, map, relocate, bind,
 *     context, heap, thread on its core) until its main reads the clock.
 *   Linux: fork + execve of iso_first (gcc -O1, dynamically linked as a
 *     user would build it, and -static) from a small helper process, until
 *     its main reads the clock.
 * KRANK is measured twice per round, interleaved: with the isolate pool
 * (memory.isolate_pool's region, faulted in at start: code and data
 * placed in present pages, krank/krk_pool.c) and without it (fresh
 * mappings, as with isolate_pool: 0).  Heaps, stacks and workers are
 * reused in both.  The first round is a warm-up and not counted.
 * Both read CLOCK_MONOTONIC; the time is the program's first reading minus
 * the launcher's reading just before it starts the launch.  Printed: the
 * median and p90 of N launches each, the page faults per KRANK start
 * (getrusage of the whole process around spawn and wait) and the ratios
 * of medians.  KRANK_BENCH_POOL=SIZE sets the pool (default 2M, the deployment default).
 *   usage: bench_krank_spawn ISO.kx LINUX_DYN LINUX_STATIC [N]
 * KRANK_BENCH_ONLY_KRANK=1 skips the Linux launches, so that a profiler
 * (perf record) sees only KRANK's side.
 * KRANK_BENCH_LINUX_CORE=C pins the Linux helper (and so its children)
 * to core C, as on a node where KRANK's cores are its own and Linux's
 * programs start on the others; unset, the helper keeps the launcher's
 * affinity (the same core when the launcher is pinned to one), so each
 * KRANK start follows a Linux fork+exec on its core.
 */
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <krank/krs.h>

#include "krank/kld.h"
#include "krk.h"

#include "bench_point.h"
#include "../testclock.h"

static uint64_t spawn_faults;	/* of the last krank_once */

static int
cmp64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static volatile uint64_t first;
static int spawn_core = -1;	/* the isolate's core: KRANK_BENCH_CORE */

static uint64_t
krank_once(const char *elf, int i)
{
	struct krk_isolate_cfg c;
	struct krk_isolate_info in;
	char addr[32], err[256];
	char *argv[] = { "iso_first", addr, NULL };
	int id;

	memset(&c, 0, sizeof(c));
	snprintf(c.name, sizeof(c.name), "first%d", i);
	snprintf(addr, sizeof(addr), "a%lx", (unsigned long)(uintptr_t)&first);
	c.elf = (char *)elf;
	c.argv = argv;
	c.argc = 2;
	c.core = spawn_core;
	c.heap = 1 << 20;
	c.fds = 16;
	first = 0;
	struct rusage r0, r1;
	getrusage(RUSAGE_SELF, &r0);
	uint64_t t0 = now_ns();
	if (krk_isolate_spawn(&c, &id, err, sizeof(err)) != 0) {
		fprintf(stderr, "bench_krank_spawn: %s\n", err);
		exit(1);
	}
	krk_isolate_wait(id, 10000000000ull, &in);
	/* Page faults of the whole start and run, every thread of the
	 * process (the isolate runs on its own): issue 16's measure. */
	getrusage(RUSAGE_SELF, &r1);
	spawn_faults = (uint64_t)(r1.ru_minflt - r0.ru_minflt +
	    r1.ru_majflt - r0.ru_majflt);
	if (first == 0 || in.state != KRK_ISO_EXITED) {
		fprintf(stderr, "bench_krank_spawn: the isolate did not run (%s)\n",
		    krk_iso_state_name(in.state));
		exit(1);
	}
	krk_isolate_remove(id);
	return first - t0;
}

/*
 * The Linux side runs in a helper forked before KRANK boots, so that
 * fork does not pay for copying KRANK's page tables: it reads a program
 * path per request and answers with the launch time.
 */
static uint64_t
linux_once(const char *prog)
{
	int fds[2];
	uint64_t t = 0;
	if (pipe(fds) != 0)
		return 0;
	uint64_t t0 = now_ns();
	pid_t pid = fork();
	if (pid == 0) {
		dup2(fds[1], 3);
		execl(prog, prog, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	if (read(fds[0], &t, sizeof(t)) != sizeof(t))
		t = 0;
	close(fds[0]);
	waitpid(pid, NULL, 0);
	return t ? t - t0 : 0;
}

static void
report(const char *what, uint64_t *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp64);
	printf("%-44s median %8.1f us   p90 %8.1f us\n", what,
	    (double)v[n / 2] / 1e3, (double)v[n * 9 / 10] / 1e3);
}

int
main(int argc, char **argv)
{
	int n = argc > 4 ? atoi(argv[4]) : 200;
	char err[256];
	int req[2], rsp[2];

	if (argc < 4 || n < 10) {
		fprintf(stderr, "usage: bench_krank_spawn ISO.kx LINUX_DYN "
		    "LINUX_STATIC [N >= 10]\n");
		return 2;
	}
	bench_machine_costs();
	uint64_t *k = calloc((size_t)n, 8), *ld = calloc((size_t)n, 8),
	    *ls = calloc((size_t)n, 8), *kp = calloc((size_t)n, 8);
	if (pipe(req) || pipe(rsp))
		return 1;
	pid_t helper = fork();
	if (helper == 0) {
		char which;
		const char *lc = getenv("KRANK_BENCH_LINUX_CORE");
		if (lc != NULL) {
			cpu_set_t set;
			CPU_ZERO(&set);
			CPU_SET(atoi(lc), &set);
			if (sched_setaffinity(0, sizeof(set), &set) != 0) {
				perror("bench_krank_spawn: KRANK_BENCH_LINUX_CORE");
				_exit(2);
			}
		}
		close(req[1]);
		close(rsp[0]);
		while (read(req[0], &which, 1) == 1) {
			uint64_t t = linux_once(which == 'd' ? argv[2] : argv[3]);
			if (write(rsp[1], &t, sizeof(t)) != sizeof(t))
				_exit(1);
		}
		_exit(0);
	}
	close(req[0]);
	close(rsp[1]);

	if (getenv("KRANK_BENCH_CORE"))
		spawn_core = atoi(getenv("KRANK_BENCH_CORE"));
	krk_log_init(1 << 16, 0);
	if (krs_boot("vfs,tmpfs", err, sizeof(err)) != 0 ||
	    krs_mount("tmpfs", "/", "tmpfs", 0, NULL, 0) != 0 ||
	    krk_isolates_init() != 0) {
		fprintf(stderr, "bench_krank_spawn: boot: %s\n", err);
		return 1;
	}
	uint64_t poolsz = 2u << 20;	/* memory.isolate_pool's default */
	if (getenv("KRANK_BENCH_POOL") &&
	    krk_parse_size(getenv("KRANK_BENCH_POOL"), &poolsz) != 0)
		return 2;
	int pe = krk_pool_init(poolsz, false);	/* as hugepages: auto */
	if (pe != 0) {
		fprintf(stderr, "bench_krank_spawn: isolate pool of %" PRIu64
		    " bytes: %s\n", poolsz, strerror(pe));
		return 1;
	}
	printf("%s\n", krk_pool_note());
	/* Measure once the filler thread is done, not beside it. */
	struct krk_pool_stats ps0;
	uint64_t deadline = now_ns() + 30000000000ull;
	do
		krk_pool_stats(&ps0);
	while (ps0.ready < ps0.size && now_ns() < deadline);
	bool only_krank = getenv("KRANK_BENCH_ONLY_KRANK") != NULL;
	uint64_t *kf = calloc((size_t)n, sizeof(*kf));
	uint64_t *kpf = calloc((size_t)n, sizeof(*kpf));
	/* Warm-up: the first start of each kind fills the heap and worker
	 * pools and the image cache; it is not counted. */
	krk_pool_use(false);
	(void)krank_once(argv[1], -1);
	krk_pool_use(true);
	(void)krank_once(argv[1], -2);
	for (int i = 0; i < n; i++) {
		krk_pool_use(false);
		k[i] = krank_once(argv[1], i);
		kf[i] = spawn_faults;
		krk_pool_use(true);
		kp[i] = krank_once(argv[1], i);
		kpf[i] = spawn_faults;
		if (only_krank) {
			ld[i] = ls[i] = 1;
			continue;
		}
		char c = 'd';
		if (write(req[1], &c, 1) != 1 || read(rsp[0], &ld[i], 8) != 8)
			return 1;
		c = 's';
		if (write(req[1], &c, 1) != 1 || read(rsp[0], &ls[i], 8) != 8)
			return 1;
	}
	close(req[1]);
	waitpid(helper, NULL, 0);
	struct krk_pool_stats ps;
	krk_pool_stats(&ps);
	printf("spawn to first instruction, %d launches each, interleaved:\n", n);
	report("KRANK isolate, pool (krk_isolate_spawn)", kp, n);
	qsort(kpf, (size_t)n, sizeof(*kpf), cmp64);
	printf("%-44s median %8" PRIu64 "      p90 %8" PRIu64 "\n",
	    "  page faults per KRANK start and run", kpf[n / 2],
	    kpf[n * 9 / 10]);
	report("KRANK isolate, no pool (fresh mappings)", k, n);
	qsort(kf, (size_t)n, sizeof(*kf), cmp64);
	printf("%-44s median %8" PRIu64 "      p90 %8" PRIu64 "\n",
	    "  page faults per KRANK start and run", kf[n / 2],
	    kf[n * 9 / 10]);
	report("Linux fork+exec, dynamic (helper process)", ld, n);
	report("Linux fork+exec, static (helper process)", ls, n);
	printf("pool: %" PRIu64 " objects placed, %" PRIu64 " fell back to "
	    "fresh pages, peak %" PRIu64 " KiB\n", ps.takes, ps.fallbacks,
	    ps.peak >> 10);
	printf("ratio (Linux median / KRANK median), pool: dynamic %.1fx, "
	    "static %.1fx; no pool: dynamic %.1fx, static %.1fx (goal >= 20x, "
	    "and < 20 us)\n", (double)ld[n / 2] / (double)kp[n / 2],
	    (double)ls[n / 2] / (double)kp[n / 2],
	    (double)ld[n / 2] / (double)k[n / 2],
	    (double)ls[n / 2] / (double)k[n / 2]);
	printf("pool vs no pool: %.2fx faster\n", (double)k[n / 2] /
	    (double)kp[n / 2]);
	{
		struct kld_park_stats pks;
		const char *pk = getenv("KRANK_ISOLATE_PARK");
		const char *pp = getenv("KRANK_ISOLATE_PARK_PLACE");

		kld_park_settle();	/* the last stop's reload */
		kld_park_stats_get(&pks);
		printf("parking (KRANK_ISOLATE_PARK=%s, _PLACE=%s): %" PRIu64
		    " of the starts above took a parked object (no mapping, "
		    "mprotect or fault at the start), %" PRIu64 " loaded again "
		    "at a new place when their run stopped (after its end "
		    "was published), %" PRIu64 " second objects prepared\n",
		    pk != NULL ? pk : "unset (4)", pp != NULL ? pp :
		    "unset (fresh)", pks.taken, pks.refreshed, pks.twins);
	}
	bench_point("spawn.dynamic", (double)kp[n / 2] / 1e3,
	    (double)ld[n / 2] / 1e3, "us", 1, 20, "isolate spawn to first "
	    "instruction (isolate pool) vs Linux fork+exec of a dynamic "
	    "program, medians");
	bench_point("spawn.static", (double)kp[n / 2] / 1e3,
	    (double)ls[n / 2] / 1e3, "us", 1, 20, "isolate spawn to first "
	    "instruction (isolate pool) vs Linux fork+exec of a static "
	    "program, medians");
	bench_point("spawn.nopool.static", (double)k[n / 2] / 1e3,
	    (double)ls[n / 2] / 1e3, "us", 1, 20, "isolate spawn to first "
	    "instruction without the isolate pool (fresh mappings) vs Linux "
	    "fork+exec of a static program, medians");
	bench_point("spawn.pool_vs_nopool", (double)kp[n / 2] / 1e3,
	    (double)k[n / 2] / 1e3, "us", 1, 0, "isolate spawn to first "
	    "instruction with the isolate pool vs without it (both KRANK), "
	    "medians");
	krk_isolates_fini();
	krs_shutdown();
	krk_pool_fini();
	free(k); free(ld); free(ls); free(kf); free(kp); free(kpf);
	return 0;
}
