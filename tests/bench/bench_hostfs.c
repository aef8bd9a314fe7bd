/*
 * bench_hostfs.c - the cost of hostfs's paravirtual path: 4 KiB reads of a
 * page-cached host file through KRANK's krs_pread on a hostfs mount
 * against Linux's pread(2) of the same file, measured in the same run.
 * Not part of make check.
 *
 * Usage: bench_hostfs [iterations] [dir]   (default 200000, $TMPDIR or /tmp)
 * Each figure is the median of 7 timed runs (the two kinds alternating),
 * in nanoseconds per call.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include <krank/krs.h>

#include "bench_point.h"
#include "../testclock.h"

#define FILESZ	(8u << 20)
#define BLK	4096u
#define RUNS	7

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static char buf[BLK] __attribute__((aligned(4096)));

/* One timed run: n 4 KiB reads striding through the file. */
static double
run(int krank, int fd, long n)
{
	uint64_t t0 = now_ns();
	for (long i = 0; i < n; i++) {
		int64_t off = (int64_t)(((uint64_t)i * 7 * BLK) % FILESZ);
		ssize_t r = krank ? krs_pread(fd, buf, BLK, off) :
		    pread(fd, buf, BLK, off);
		if (r != BLK) {
			fprintf(stderr, "bench_hostfs: short read %zd\n", r);
			exit(1);
		}
	}
	return (double)(now_ns() - t0) / (double)n;
}

/* Runs of the two alternate, so that load from other processes on the
 * machine falls on both alike; the medians are *lx and *kr. */
static void
medians(int hfd, int kfd, long n, double *lx, double *kr)
{
	uint64_t vl[RUNS], vk[RUNS];
	run(0, hfd, n / 10 + 1);		/* warm up */
	run(1, kfd, n / 10 + 1);
	for (int i = 0; i < RUNS; i++) {
		vl[i] = (uint64_t)(run(0, hfd, n) * 1000.0);
		vk[i] = (uint64_t)(run(1, kfd, n) * 1000.0);
	}
	qsort(vl, RUNS, sizeof(vl[0]), cmp_u64);
	qsort(vk, RUNS, sizeof(vk[0]), cmp_u64);
	*lx = (double)vl[RUNS / 2] / 1000.0;
	*kr = (double)vk[RUNS / 2] / 1000.0;
}

int
main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 200000;
	const char *tmp = argc > 2 ? argv[2] :
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char dir[512], file[600], err[256];

	bench_machine_costs();
	snprintf(dir, sizeof(dir), "%s/bench-hostfs-XXXXXX", tmp);
	if (n < 1 || mkdtemp(dir) == NULL) {
		perror("bench_hostfs: mkdtemp");
		return 1;
	}
	snprintf(file, sizeof(file), "%s/data", dir);
	int hfd = open(file, O_RDWR | O_CREAT | O_TRUNC, 0644);
	char *blk = malloc(FILESZ);
	if (hfd < 0 || blk == NULL) {
		perror("bench_hostfs: create");
		return 1;
	}
	for (unsigned i = 0; i < FILESZ; i++)
		blk[i] = (char)(i * 31);
	if (write(hfd, blk, FILESZ) != (ssize_t)FILESZ) {
		perror("bench_hostfs: write");
		return 1;
	}
	free(blk);

	if (krs_boot("vfs,tmpfs,hostfs", err, sizeof(err)) != 0 ||
	    krs_mount("tmpfs", "/", "tmpfs", 0, NULL, 0) != 0 ||
	    krs_mkdir("/host", 0755) != 0 ||
	    krs_mount(dir, "/host", "hostfs", KRS_MNT_RDONLY, NULL, 0) != 0) {
		fprintf(stderr, "bench_hostfs: boot/mount: %s %s\n", err,
		    strerror(errno));
		return 1;
	}
	int kfd = krs_open("/host/data", KRS_O_RDONLY);
	if (kfd < 0) {
		perror("bench_hostfs: krs_open");
		return 1;
	}
	printf("hostfs 4 KiB read of a page-cached %u MiB file, %ld reads x %d runs "
	    "(median), same run:\n", FILESZ >> 20, n, RUNS);
	double lx, kr;
	medians(hfd, kfd, n, &lx, &kr);
	printf("  Linux pread(2)            %8.0f ns/read\n", lx);
	printf("  KRANK krs_pread on hostfs %8.0f ns/read\n", kr);
	printf("  ratio KRANK/Linux         %8.2fx  (paravirtual overhead %.0f ns)\n",
	    kr / lx, kr - lx);
	bench_point("hostfs.pread4k", kr, lx, "ns", 1, 0, "4 KiB read of a "
	    "cached host file: through hostfs vs Linux pread (the cost of the "
	    "paravirtual path)");
	krs_close(kfd);
	close(hfd);
	krs_unmount("/host", 0);
	krs_shutdown();
	unlink(file);
	rmdir(dir);
	return 0;
}
