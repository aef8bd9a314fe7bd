/*
 * bench_krs_io.c - the measurement shared by the file system benchmarks
 * (see bench_krs_io.h).  Not part of make check.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <krank/krs.h>

#include "bench_krs_io.h"
#include "bench_point.h"
#include "../testclock.h"

#define FILESZ	(1 << 20)
#define RUNS	7

static long iters = 200000;	/* calls per run */

static int
cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

typedef ssize_t (*preadfn)(int, void *, size_t, int64_t);
typedef ssize_t (*pwritefn)(int, const void *, size_t, int64_t);
typedef ssize_t (*readfn)(int, void *, size_t);
typedef int64_t (*seekfn)(int, int64_t, int);

static ssize_t lx_pread(int fd, void *b, size_t n, int64_t o) { return pread(fd, b, n, o); }
static ssize_t lx_pwrite(int fd, const void *b, size_t n, int64_t o) { return pwrite(fd, b, n, o); }
static ssize_t lx_read(int fd, void *b, size_t n) { return read(fd, b, n); }
static ssize_t lx_write(int fd, const void *b, size_t n) { return write(fd, b, n); }
static int64_t lx_lseek(int fd, int64_t o, int w) { return lseek(fd, o, w); }

static char buf[4096];

/* Sequential read()/write() through the file, rewinding at its end. */
static double
run_seq(int fd, size_t sz, int write_op, readfn rd, readfn wr, seekfn sk)
{
	double v[RUNS];
	long per_file = FILESZ / (long)sz;
	for (int r = 0; r < RUNS; r++) {
		sk(fd, 0, SEEK_SET);
		uint64_t t0 = now_ns();
		for (long i = 0, k = 0; i < iters; i++) {
			ssize_t n = write_op ? wr(fd, buf, sz) : rd(fd, buf, sz);
			if (n != (ssize_t)sz) {
				fprintf(stderr, "bench: short transfer %zd\n", n);
				exit(1);
			}
			if (++k == per_file) {
				k = 0;
				sk(fd, 0, SEEK_SET);
			}
		}
		v[r] = (double)(now_ns() - t0) / (double)iters;
	}
	qsort(v, RUNS, sizeof(v[0]), cmpd);
	return v[RUNS / 2];
}

static double
run_pos(int fd, size_t sz, int write_op, preadfn prd, pwritefn pwr)
{
	double v[RUNS];
	long per_file = FILESZ / (long)sz;
	for (int r = 0; r < RUNS; r++) {
		uint64_t t0 = now_ns();
		for (long i = 0; i < iters; i++) {
			int64_t off = (int64_t)((i % per_file) * (long)sz);
			ssize_t n = write_op ? pwr(fd, buf, sz, off) : prd(fd, buf, sz, off);
			if (n != (ssize_t)sz) {
				fprintf(stderr, "bench: short transfer %zd\n", n);
				exit(1);
			}
		}
		v[r] = (double)(now_ns() - t0) / (double)iters;
	}
	qsort(v, RUNS, sizeof(v[0]), cmpd);
	return v[RUNS / 2];
}

static const char *idprefix;

static void
row(const char *op, size_t sz, const char *call, double k, double l)
{
	char name[32], id[64], what[96];
	snprintf(name, sizeof(name), "%s %zu (%s)", op, sz, call);
	printf("%-20s %10.1f %10.1f %7.2fx\n", name, k, l, l / k);
	snprintf(id, sizeof(id), "%s.%s%zu", idprefix, call, sz);
	snprintf(what, sizeof(what), "%s, %zu B %s, ns per call", idprefix, sz,
	    call);
	bench_point(id, k, l, "ns", 1, strcmp(op, "read") == 0 ? 3 : 2, what);
}

/* krs_ wrappers with the libc shapes. */
static ssize_t k_read(int fd, void *b, size_t n) { return krs_read(fd, b, n); }
static ssize_t k_write(int fd, void *b, size_t n) { return krs_write(fd, b, n); }

int
bench_krs_tmpfs_boot(void)
{
	char err[256] = "";

	if (krs_boot("vfs,tmpfs", err, sizeof(err)) != 0) {
		fprintf(stderr, "bench: krs_boot(\"vfs,tmpfs\"): %s (%s)\n",
		    strerror(errno), err);
		return 1;
	}
	if (krs_mount("tmpfs", "/", "tmpfs", 0, NULL, 0) != 0) {
		fprintf(stderr, "bench: mount of tmpfs on /: %s\n",
		    strerror(errno));
		return 1;
	}
	return 0;
}

void
bench_krs_io_args(int argc, char **argv)
{
	if (argc > 1)
		iters = atol(argv[1]);
	if (iters <= 0)
		iters = 200000;
}

int
bench_krs_io(const char *kpath, const char *id, const char *title)
{
	idprefix = id;
	char lpath[64];
	int kfd = krs_open(kpath, KRS_O_RDWR | KRS_O_CREAT, 0644);
	snprintf(lpath, sizeof(lpath), "/dev/shm/krank-bench.%d", (int)getpid());
	int lfd = open(lpath, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (kfd < 0 || lfd < 0) {
		fprintf(stderr, "bench: cannot create files (%s)\n", lpath);
		return 1;
	}
	unlink(lpath);
	memset(buf, 'k', sizeof(buf));
	for (int i = 0; i < FILESZ / 4096; i++) {
		if (krs_write(kfd, buf, 4096) != 4096 || write(lfd, buf, 4096) != 4096) {
			fprintf(stderr, "bench: fill failed\n");
			return 1;
		}
	}

	printf("%s\n", title);
	printf("%ld calls per run, median of %d runs, ns per call (1 MiB file, warm)\n\n",
	    iters, RUNS);
	printf("%-20s %10s %10s %8s\n", "operation", "krank_ns", "linux_ns", "ratio");
	static const size_t sizes[2] = { 64, 4096 };
	for (int s = 0; s < 2; s++) {
		size_t sz = sizes[s];
		double kr = run_seq(kfd, sz, 0, k_read, k_write, krs_lseek);
		double lr = run_seq(lfd, sz, 0, lx_read, (readfn)lx_write, lx_lseek);
		row("read", sz, "read", kr, lr);
		double kw = run_seq(kfd, sz, 1, k_read, k_write, krs_lseek);
		double lw = run_seq(lfd, sz, 1, lx_read, (readfn)lx_write, lx_lseek);
		row("write", sz, "write", kw, lw);
		double kpr = run_pos(kfd, sz, 0, krs_pread, (pwritefn)krs_pwrite);
		double lpr = run_pos(lfd, sz, 0, lx_pread, lx_pwrite);
		row("read", sz, "pread", kpr, lpr);
		double kpw = run_pos(kfd, sz, 1, krs_pread, (pwritefn)krs_pwrite);
		double lpw = run_pos(lfd, sz, 1, lx_pread, lx_pwrite);
		row("write", sz, "pwrite", kpw, lpw);
	}
	printf("\nratio = linux_ns / krank_ns (goal: read >= 3x, write >= 2x)\n");
	close(lfd);
	krs_close(kfd);
	return 0;
}
