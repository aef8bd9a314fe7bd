/*
 * bench_machine - what a system call and a fresh page fault cost on this
 * machine, so that every ratio in docs/PERFORMANCE.md can be read across
 * machines (under a hypervisor with page-table isolation both are many
 * times dearer than on bare metal, and KRANK's gains grow with them).
 * Prints one human line and "@machine syscall_ns=N pagefault_ns=N".
 * Medians of 7 runs; not part of make check.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

enum { RUNS = 7, CALLS = 200000, PAGES = 4096 };

static double
now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int
main(void)
{
	double sc[RUNS], pf[RUNS];
	long psz = sysconf(_SC_PAGESIZE);
	volatile long sink = 0;

	for (int r = 0; r < RUNS; r++) {
		double t0 = now_ns();
		for (int i = 0; i < CALLS; i++)
			sink += syscall(SYS_getppid);
		sc[r] = (now_ns() - t0) / CALLS;

		size_t len = (size_t)PAGES * (size_t)psz;
		char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			perror("bench_machine: mmap");
			return 1;
		}
		t0 = now_ns();
		for (size_t off = 0; off < len; off += (size_t)psz)
			p[off] = 1;
		pf[r] = (now_ns() - t0) / PAGES;
		munmap(p, len);
	}
	qsort(sc, RUNS, sizeof(sc[0]), cmp);
	qsort(pf, RUNS, sizeof(pf[0]), cmp);
	printf("machine: a system call (getppid) costs %.0f ns, a fresh "
	    "anonymous page fault (write) %.0f ns (medians of %d runs)\n",
	    sc[RUNS / 2], pf[RUNS / 2], RUNS);
	printf("@machine syscall_ns=%.0f pagefault_ns=%.0f\n", sc[RUNS / 2],
	    pf[RUNS / 2]);
	return sink == -1;
}
