/*
 * bench_krk_heap.c - ns per malloc/free pair of the isolate heap arenas
 * (krank/krk_heap.c) against glibc malloc, measured in the same run: small
 * (64 B) and medium (4 KiB) blocks, a pair at a time and in batches of 64,
 * on one thread and on two threads sharing one arena (glibc: two threads
 * of one process).  Not part of make check.
 *
 * Usage: bench_krk_heap [pairs]   (default 2000000 per thread per figure)
 * Each figure is the median of 5 timed runs.
 */
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "krk.h"

#include "bench_point.h"
#include "../testclock.h"

static struct krk_heap *heap;
static long pairs = 2000000;

/* Called through volatile pointers: the compiler may not fold a
 * malloc/free pair away. */
static void *krk_alloc(size_t n) { return krk_heap_alloc(heap, n); }
static void krk_free(void *p) { krk_heap_free(heap, p); }
struct impl {
	const char *name;
	void *(*volatile alloc)(size_t);
	void (*volatile free)(void *);
};
static struct impl impl_krk = { "krk_heap", krk_alloc, krk_free };
static struct impl impl_glibc = { "glibc", malloc, free };

struct job {
	const struct impl *im;
	size_t size;
	int batch;			/* 1: alloc/free pairs; 64: batches */
	int cpu;
	pthread_barrier_t *bar;
	double ns;
};

static void
pin(int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void *
run(void *arg)
{
	struct job *j = arg;
	void *v[64];
	long rounds = pairs / j->batch;

	pin(j->cpu);
	if (j->bar)
		pthread_barrier_wait(j->bar);
	uint64_t t0 = now_ns();
	for (long r = 0; r < rounds; r++) {
		for (int i = 0; i < j->batch; i++) {
			v[i] = j->im->alloc(j->size);
			*(volatile char *)v[i] = 1;
		}
		for (int i = 0; i < j->batch; i++)
			j->im->free(v[i]);
	}
	j->ns = (double)(now_ns() - t0) / (double)(rounds * j->batch);
	return NULL;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* measure - median over 5 runs of ns per pair, per thread. */
static double
measure(const struct impl *im, size_t size, int batch, int nthreads)
{
	double r[5];

	for (int k = 0; k < 5; k++) {
		struct job j[2];
		pthread_t t[2];
		pthread_barrier_t bar;
		pthread_barrier_init(&bar, NULL, (unsigned)nthreads);
		for (int i = 0; i < nthreads; i++) {
			j[i] = (struct job){ im, size, batch, i, &bar, 0 };
			pthread_create(&t[i], NULL, run, &j[i]);
		}
		double sum = 0;
		for (int i = 0; i < nthreads; i++) {
			pthread_join(t[i], NULL);
			sum += j[i].ns;
		}
		pthread_barrier_destroy(&bar);
		r[k] = sum / nthreads;
	}
	qsort(r, 5, sizeof(r[0]), cmp);
	return r[2];
}

int
main(int argc, char **argv)
{
	static const size_t sizes[] = { 64, 4096 };
	static const int batches[] = { 1, 64 };
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	bench_machine_costs();
	if (argc > 1)
		pairs = atol(argv[1]);
	if (pairs < 64)
		pairs = 64;
	int err = krk_heap_create((uint64_t)256 << 20, false, &heap);
	if (err != 0) {
		fprintf(stderr, "bench_krk_heap: arena of 256 MiB: %s\n",
		    strerror(err));
		return 1;
	}
	printf("bench_krk_heap: ns per malloc/free pair (per thread), krk_heap "
	    "arena vs glibc malloc, same run, median of 5 x %ld pairs\n",
	    pairs);
	printf("%-8s %6s %6s %8s %10s %10s %8s\n", "threads", "size", "batch",
	    "", "krk_heap", "glibc", "ratio");
	for (int nt = 1; nt <= 2; nt++) {
		if (nt == 2 && ncpu < 2) {
			printf("(two threads skipped: one CPU online)\n");
			break;
		}
		for (unsigned s = 0; s < 2; s++)
			for (unsigned b = 0; b < 2; b++) {
				double k = measure(&impl_krk, sizes[s],
				    batches[b], nt);
				double g = measure(&impl_glibc, sizes[s],
				    batches[b], nt);
				printf("%-8d %6zu %6d %8s %10.1f %10.1f %7.2fx\n",
				    nt, sizes[s], batches[b], "ns/pair", k, g,
				    k / g);
				char id[64], w[128];
				snprintf(id, sizeof(id), "heap.t%d.s%zu.b%d", nt,
				    sizes[s], batches[b]);
				snprintf(w, sizeof(w), "malloc/free pair, %d "
				    "thread(s), %zu B, batch %d: krk_heap vs "
				    "glibc", nt, sizes[s], batches[b]);
				bench_point(id, k, g, "ns", 1, 0, w);
			}
	}
	printf("ratio = krk_heap / glibc (below 1: the arena is faster); two "
	    "threads share one arena, pinned to CPUs 0 and 1\n");
	printf("glibc at 4096 x 64: each round frees 256 KiB at the top of its "
	    "heap, over M_TRIM_THRESHOLD (128 KiB), so it is given back (brk) "
	    "and faulted in again;\nGLIBC_TUNABLES=glibc.malloc.trim_threshold="
	    "1000000000 shows glibc without that\n");
	krk_heap_destroy(heap);
	return 0;
}
