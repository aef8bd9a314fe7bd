/*
 * bench_point.h - the one machine-readable line every benchmark prints per
 * measured point, beside its own human-readable table, so that
 * tests/bench/run (make bench) can repeat benchmarks, take medians and
 * write docs/PERFORMANCE.md without knowing each benchmark's layout:
 *
 *   @point id=ID krank=K base=B unit=U better=lower|higher ratio=R goal=G what=TEXT
 *
 * ID is stable across runs (letters, digits, '.', '_', '-'); K and B are
 * KRANK's value and the Linux baseline's, measured in the same run; R is
 * how many times better KRANK is (B/K when lower is better, K/B when
 * higher is); G is the goal for R, 0 when none.  Shell
 * benchmarks print the same line (tests/bench/point.sh).
 *
 * Every benchmark also prints, once at its start, what a system call and
 * a page fault cost on this machine in the same run
 * (bench_machine_costs here; shell benchmarks run "bench_machine
 * --quick"), so that its ratios can be read across machines:
 *
 *   @machine syscall_ns=N pagefault_ns=N
 */
#ifndef BENCH_POINT_H
#define BENCH_POINT_H

#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static inline void
bench_point(const char *id, double krank, double base, const char *unit,
    int lower_better, double goal, const char *what)
{
	double r = 0;
	if (krank > 0 && base > 0)
		r = lower_better ? base / krank : krank / base;
	printf("@point id=%s krank=%.6g base=%.6g unit=%s better=%s ratio=%.4g "
	    "goal=%g what=%s\n", id, krank, base, unit, lower_better ? "lower" :
	    "higher", r, goal, what);
	fflush(stdout);
}

static inline double
bench_machine_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static inline int
bench_machine_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/*
 * bench_machine_measure - the median over runs (at most 15) of the cost
 * of one getppid system call (calls per run) and of one write fault on a
 * fresh anonymous page (pages per run), in ns.  Returns 0, or -1 after a
 * message on stderr when the pages cannot be mapped.
 */
static inline int
bench_machine_measure(int runs, long calls, long pages, double *syscall_ns,
    double *fault_ns)
{
	double sc[15], pf[15];
	long psz = sysconf(_SC_PAGESIZE);
	size_t len = (size_t)pages * (size_t)psz;

	if (runs > 15)
		runs = 15;
	for (int r = 0; r < runs; r++) {
		double t0 = bench_machine_now();
		for (long i = 0; i < calls; i++)
			(void)syscall(SYS_getppid);
		sc[r] = (bench_machine_now() - t0) / (double)calls;

		char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			perror("bench: machine costs: mmap");
			return -1;
		}
		t0 = bench_machine_now();
		for (size_t off = 0; off < len; off += (size_t)psz)
			p[off] = 1;
		pf[r] = (bench_machine_now() - t0) / (double)pages;
		munmap(p, len);
	}
	qsort(sc, (size_t)runs, sizeof(sc[0]), bench_machine_cmp);
	qsort(pf, (size_t)runs, sizeof(pf[0]), bench_machine_cmp);
	*syscall_ns = sc[runs / 2];
	*fault_ns = pf[runs / 2];
	return 0;
}

/* Print the machine's costs as a human line and an @machine line. */
static inline void
bench_machine_print(double syscall_ns, double fault_ns, const char *how)
{
	printf("machine: a system call (getppid) costs %.0f ns, a fresh "
	    "anonymous page fault (write) %.0f ns (%s)\n", syscall_ns,
	    fault_ns, how);
	printf("@machine syscall_ns=%.0f pagefault_ns=%.0f\n", syscall_ns,
	    fault_ns);
	fflush(stdout);
}

/*
 * bench_machine_costs - the quick measurement every C benchmark makes
 * once at the start of main: medians of 5 runs of 1,000 system calls and
 * 128 page faults, tens of milliseconds even where both are dear.  Prints
 * nothing else and never fails the benchmark (a failed mmap is reported).
 */
static inline void
bench_machine_costs(void)
{
	double sc, pf;
	if (bench_machine_measure(5, 1000, 128, &sc, &pf) == 0)
		bench_machine_print(sc, pf, "medians of 5 quick runs");
}

#endif
