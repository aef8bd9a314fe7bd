/*
 * bench_fio.c - fio-style random 4 KiB reads and writes, one side per
 * invocation, with the same offsets (fixed seeds) on both sides:
 *   krank: krs_pread/krs_pwrite on a file of KRANK's ext2, mounted from an
 *          image with "direct" (the image opened O_DIRECT) and a 1 MiB
 *          buffer cache;
 *   linux: pread/pwrite on a file opened O_DIRECT (ext4 on a loop device;
 *          tests/bench/bench_fio.sh sets that up).
 * Every block holds a pattern naming its block number and write
 * generation; reads check it (outside the timed call).  Prints a table and
 * one "@fio" line per workload for bench_fio.sh, which pairs the sides.
 *
 * Usage: bench_fio krank IMAGE FILE_MIB SECONDS [JOBS] [verify [EXPECT]]
 *        bench_fio linux PATH FILE_MIB SECONDS [JOBS]
 * verify (krank): after the workloads, remount with a cold cache and read
 * every block back against the generation last written to it; EXPECT, a
 * host file, receives what /data must hold, for an independent reader
 * (debugfs) to compare.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <krank/krs.h>
#include "../testclock.h"

#define BS		4096u
#define MAXJOBS		16
#define MAXSAMPLES	(1u << 21)	/* per thread: latencies kept */

struct side {
	const char *name;
	ssize_t (*pread)(int, void *, size_t, int64_t);
	ssize_t (*pwrite)(int, const void *, size_t, int64_t);
	int (*fsync)(int);
};

static ssize_t lx_pread(int fd, void *b, size_t n, int64_t o) { return pread(fd, b, n, o); }
static ssize_t lx_pwrite(int fd, const void *b, size_t n, int64_t o) { return pwrite(fd, b, n, o); }

static const struct side side_linux = { "linux", lx_pread, lx_pwrite, fsync };
static const struct side side_krank = { "krank", krs_pread, krs_pwrite, krs_fsync };

static const struct side *sd;
static int fd;
static uint64_t nblocks;
static uint32_t *gen;		/* per block: generation last written */
static uint32_t nextgen = 1;	/* under genlock */
static pthread_mutex_t genlock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long mismatches;

struct workload {
	const char *id;
	const char *what;
	int readpct;		/* 100: reads only, 0: writes only */
	int fsync;		/* fsync after every write */
	int jobs;		/* threads, each queue depth 1 */
	double secs_scale;	/* of the run time per workload */
};

struct job {
	const struct workload *wl;
	uint64_t seed;
	double secs;
	uint64_t *lat;		/* ns per op */
	size_t nlat;
	uint64_t ops;
	int failed;
};

static uint64_t
xorshift(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

/* The content of block lbn at generation g: every 8-byte word is a
 * function of both, so a misplaced or stale block is caught. */
static void
fill(uint64_t *w, uint64_t lbn, uint32_t g)
{
	uint64_t k = ((lbn << 32) | g) * 0x9e3779b97f4a7c15ull;
	for (unsigned i = 0; i < BS / 8; i++)
		w[i] = k + i;
}

static int
check(const uint64_t *w, uint64_t lbn, uint32_t g)
{
	uint64_t want[BS / 8];
	fill(want, lbn, g);
	return memcmp(w, want, BS) == 0;
}

static void *
job_run(void *arg)
{
	struct job *j = arg;
	const struct workload *wl = j->wl;
	uint64_t *buf = aligned_alloc(BS, BS);
	uint64_t s = j->seed, end;

	if (buf == NULL) {
		j->failed = 1;
		return NULL;
	}
	end = now_ns() + (uint64_t)(j->secs * 1e9);
	while (j->nlat < MAXSAMPLES) {
		uint64_t lbn = xorshift(&s) % nblocks;
		int rd = (int)(xorshift(&s) % 100) < wl->readpct;
		uint32_t g = 0;
		uint64_t t0, t1;
		ssize_t n;
		int e = 0;

		if (!rd) {
			pthread_mutex_lock(&genlock);
			g = nextgen++;
			pthread_mutex_unlock(&genlock);
			fill(buf, lbn, g);
		}
		t0 = now_ns();
		if (rd) {
			n = sd->pread(fd, buf, BS, (int64_t)(lbn * BS));
		} else {
			n = sd->pwrite(fd, buf, BS, (int64_t)(lbn * BS));
			if (n == BS && wl->fsync && sd->fsync(fd) != 0)
				e = errno;
		}
		t1 = now_ns();
		if (n != BS || e != 0) {
			fprintf(stderr, "bench_fio: %s: %s of block %llu: %s\n",
			    sd->name, rd ? "pread" : "pwrite",
			    (unsigned long long)lbn, n < 0 || e ? strerror(e ? e :
			    errno) : "short transfer");
			j->failed = 1;
			break;
		}
		j->lat[j->nlat++] = t1 - t0;
		/* Writes run in one thread (the multi-threaded workload only
		 * reads), so gen[] is exact and every read is checked. */
		if (rd) {
			pthread_mutex_lock(&genlock);
			g = gen[lbn];
			pthread_mutex_unlock(&genlock);
			if (!check(buf, lbn, g))
				__atomic_add_fetch(&mismatches, 1,
				    __ATOMIC_RELAXED);
		} else {
			pthread_mutex_lock(&genlock);
			if (g > gen[lbn])
				gen[lbn] = g;
			pthread_mutex_unlock(&genlock);
		}
		if (t1 >= end)
			break;
	}
	j->ops = j->nlat;
	free(buf);
	return NULL;
}

static int
cmpu64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static double
pct(const uint64_t *v, size_t n, double p)
{
	size_t i = (size_t)(p / 100.0 * (double)n);
	if (i >= n)
		i = n - 1;
	return (double)v[i] / 1000.0;
}

static int
run_workload(const struct workload *wl, double secs)
{
	struct job jobs[MAXJOBS];
	pthread_t t[MAXJOBS];
	uint64_t t0, t1, ops = 0;
	uint64_t *all;
	size_t n = 0;
	int failed = 0;

	memset(jobs, 0, sizeof(jobs));
	for (int i = 0; i < wl->jobs; i++) {
		jobs[i].wl = wl;
		/* Same seeds on both sides: the same blocks in the same order. */
		jobs[i].seed = 0x2545f4914f6cdd1dull * (uint64_t)(i + 1) +
		    (uint64_t)(uintptr_t)wl->id[0] * 7919u + (uint64_t)wl->readpct;
		jobs[i].secs = secs * wl->secs_scale;
		jobs[i].lat = malloc(MAXSAMPLES * sizeof(uint64_t));
		if (jobs[i].lat == NULL) {
			fprintf(stderr, "bench_fio: no memory for latencies\n");
			return 1;
		}
	}
	t0 = now_ns();
	for (int i = 0; i < wl->jobs; i++)
		if (pthread_create(&t[i], NULL, job_run, &jobs[i]) != 0) {
			fprintf(stderr, "bench_fio: cannot start thread %d\n", i);
			exit(1);
		}
	for (int i = 0; i < wl->jobs; i++)
		pthread_join(t[i], NULL);
	t1 = now_ns();
	for (int i = 0; i < wl->jobs; i++) {
		ops += jobs[i].ops;
		failed |= jobs[i].failed;
	}
	all = malloc((ops ? ops : 1) * sizeof(uint64_t));
	if (all == NULL) {
		fprintf(stderr, "bench_fio: no memory for latencies\n");
		return 1;
	}
	for (int i = 0; i < wl->jobs; i++) {
		memcpy(all + n, jobs[i].lat, jobs[i].nlat * sizeof(uint64_t));
		n += jobs[i].nlat;
		free(jobs[i].lat);
	}
	if (failed || n == 0) {
		free(all);
		return 1;
	}
	qsort(all, n, sizeof(all[0]), cmpu64);
	double el = (double)(t1 - t0) / 1e9;
	double iops = (double)n / el;
	printf("  %-16s %5d %9llu %10.0f %9.1f %9.1f %9.1f\n", wl->id,
	    wl->jobs, (unsigned long long)n, iops, pct(all, n, 50),
	    pct(all, n, 99), pct(all, n, 99.9));
	printf("@fio side=%s wl=%s jobs=%d ops=%zu secs=%.3f iops=%.1f "
	    "p50_us=%.2f p99_us=%.2f p999_us=%.2f what=%s\n", sd->name, wl->id,
	    wl->jobs, n, el, iops, pct(all, n, 50), pct(all, n, 99),
	    pct(all, n, 99.9), wl->what);
	fflush(stdout);
	free(all);
	return 0;
}

/* Write every block sequentially at generation 0 (1 MiB per call), then
 * fsync: the workloads then read real data, not holes. */
static int
prefill(void)
{
	const size_t chunk = 1u << 20;
	uint8_t *buf = aligned_alloc(BS, chunk);
	if (buf == NULL)
		return ENOMEM;
	for (uint64_t b = 0; b < nblocks; b += chunk / BS) {
		for (unsigned i = 0; i < chunk / BS; i++)
			fill((uint64_t *)(buf + i * BS), b + i, 0);
		if (sd->pwrite(fd, buf, chunk, (int64_t)(b * BS)) !=
		    (ssize_t)chunk) {
			int e = errno;
			free(buf);
			return e ? e : EIO;
		}
	}
	free(buf);
	return sd->fsync(fd) != 0 ? errno : 0;
}

/* Read every block back (1 MiB per call) against gen[]. */
static unsigned long
verify_all(void)
{
	const size_t chunk = 1u << 20;
	uint8_t *buf = aligned_alloc(BS, chunk);
	unsigned long bad = 0;
	if (buf == NULL)
		return 1;
	for (uint64_t b = 0; b < nblocks; b += chunk / BS) {
		if (sd->pread(fd, buf, chunk, (int64_t)(b * BS)) !=
		    (ssize_t)chunk) {
			fprintf(stderr, "bench_fio: verify: cannot read at "
			    "block %llu: %s\n", (unsigned long long)b,
			    strerror(errno));
			free(buf);
			return bad + 1;
		}
		for (unsigned i = 0; i < chunk / BS; i++)
			if (!check((uint64_t *)(buf + i * BS), b + i, gen[b + i])) {
				if (bad++ < 5)
					fprintf(stderr, "bench_fio: verify: block "
					    "%llu does not hold generation %u\n",
					    (unsigned long long)(b + i),
					    gen[b + i]);
			}
	}
	free(buf);
	return bad;
}

/* The file's expected content, block by block, into a host file. */
static int
write_expect(const char *path)
{
	uint64_t w[BS / 8];
	FILE *f = fopen(path, "w");
	if (f == NULL) {
		fprintf(stderr, "bench_fio: %s: %s\n", path, strerror(errno));
		return 1;
	}
	for (uint64_t b = 0; b < nblocks; b++) {
		fill(w, b, gen[b]);
		if (fwrite(w, BS, 1, f) != 1)
			break;
	}
	int bad = ferror(f);
	if (fclose(f) != 0 || bad) {
		fprintf(stderr, "bench_fio: %s: write failed\n", path);
		return 1;
	}
	return 0;
}

static const struct workload wls[] = {
	{ "randread", "random 4 KiB reads", 100, 0, 1, 1.0 },
	{ "randwrite", "random 4 KiB writes", 0, 0, 1, 1.0 },
	{ "randrw70", "random 4 KiB, 70% reads 30% writes", 70, 0, 1, 1.0 },
	{ "randwrite-fsync", "random 4 KiB writes, fsync after each", 0, 1, 1,
	    0.5 },
	{ "randread-jobs", "random 4 KiB reads, JOBS threads at depth 1 each",
	    100, 0, 0, 1.0 },
};

static int
krank_mount(const char *img, const char *opts, char *err, size_t errlen)
{
	if (krs_mount(img, "/mnt", "ext2", 0, opts, strlen(opts) + 1) != 0) {
		snprintf(err, errlen, "mount %s (%s): %s", img, opts,
		    strerror(errno));
		return 1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	char err[256];
	const char *mode, *path, *expect = NULL;
	double secs;
	int jobs = 4, verify = 0, rv = 0;
	uint64_t mib;

	if (argc < 5) {
		fprintf(stderr, "usage: bench_fio krank IMAGE FILE_MIB SECONDS "
		    "[JOBS] [verify]\n       bench_fio linux PATH FILE_MIB "
		    "SECONDS [JOBS]\n");
		return 2;
	}
	mode = argv[1];
	path = argv[2];
	mib = strtoull(argv[3], NULL, 10);
	secs = atof(argv[4]);
	if (argc > 5)
		jobs = atoi(argv[5]);
	if (argc > 6 && strcmp(argv[6], "verify") == 0)
		verify = 1;
	if (argc > 7)
		expect = argv[7];
	if (mib == 0 || secs <= 0 || jobs < 1 || jobs > MAXJOBS) {
		fprintf(stderr, "bench_fio: bad arguments (FILE_MIB > 0, "
		    "SECONDS > 0, 1 <= JOBS <= %d)\n", MAXJOBS);
		return 2;
	}
	nblocks = mib * (1u << 20) / BS;
	gen = calloc(nblocks, sizeof(*gen));
	if (gen == NULL)
		return 1;

	if (strcmp(mode, "linux") == 0) {
		sd = &side_linux;
		/* Buffered prefill, then O_DIRECT for the workloads. */
		fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || prefill() != 0) {
			fprintf(stderr, "bench_fio: %s: cannot create and fill "
			    "(%s)\n", path, strerror(errno));
			return 1;
		}
		close(fd);
		fd = open(path, O_RDWR | O_DIRECT);
		if (fd < 0) {
			fprintf(stderr, "bench_fio: %s: cannot open O_DIRECT "
			    "(%s)\n", path, strerror(errno));
			return 1;
		}
		printf("Linux: pread/pwrite on %s opened O_DIRECT\n", path);
	} else if (strcmp(mode, "krank") == 0) {
		sd = &side_krank;
		err[0] = '\0';
		if (krs_boot("vfs,tmpfs,ext2", err, sizeof(err)) != 0 ||
		    krs_mount("tmpfs", "/", "tmpfs", 0, NULL, 0) != 0 ||
		    krs_mkdir("/mnt", 0755) != 0) {
			fprintf(stderr, "bench_fio: krank boot failed: %s\n", err);
			return 1;
		}
		/* Prefill through a large cache and the host's page cache
		 * (fast), then remount direct with a small, cold cache. */
		if (krank_mount(path, "cache=64", err, sizeof(err)) != 0) {
			fprintf(stderr, "bench_fio: %s\n", err);
			return 1;
		}
		fd = krs_open("/mnt/data", KRS_O_RDWR | KRS_O_CREAT |
		    KRS_O_TRUNC, 0644);
		if (fd < 0 || prefill() != 0 || krs_close(fd) != 0 ||
		    krs_unmount("/mnt", 0) != 0) {
			fprintf(stderr, "bench_fio: krank: cannot fill /mnt/data "
			    "on %s (%s)\n", path, strerror(errno));
			return 1;
		}
		if (krank_mount(path, "direct,cache=1", err, sizeof(err)) != 0) {
			fprintf(stderr, "bench_fio: %s\n", err);
			return 1;
		}
		fd = krs_open("/mnt/data", KRS_O_RDWR);
		if (fd < 0) {
			fprintf(stderr, "bench_fio: krank: /mnt/data: %s\n",
			    strerror(errno));
			return 1;
		}
		printf("KRANK: krs_pread/krs_pwrite on ext2 (%s mounted "
		    "direct,cache=1: image O_DIRECT under a 1 MiB write-back "
		    "buffer cache)\n", path);
	} else {
		fprintf(stderr, "bench_fio: unknown side %s (krank or linux)\n",
		    mode);
		return 2;
	}
	printf("file %llu MiB, %.1f s per workload, 4 KiB blocks\n",
	    (unsigned long long)mib, secs);
	printf("  %-16s %5s %9s %10s %9s %9s %9s\n", "workload", "jobs", "ops",
	    "IOPS", "p50 us", "p99 us", "p99.9 us");
	for (size_t i = 0; i < sizeof(wls) / sizeof(wls[0]) && rv == 0; i++) {
		struct workload w = wls[i];
		if (w.jobs == 0)
			w.jobs = jobs;
		if (w.jobs > 1 && jobs == 1)
			continue;
		rv = run_workload(&w, secs);
	}
	if (rv == 0 && mismatches != 0) {
		fprintf(stderr, "bench_fio: %s: %lu reads returned data other "
		    "than last written\n", sd->name, mismatches);
		rv = 1;
	}
	if (sd == &side_krank) {
		if (krs_close(fd) != 0 || krs_unmount("/mnt", 0) != 0) {
			fprintf(stderr, "bench_fio: krank: unmount: %s\n",
			    strerror(errno));
			rv = 1;
		}
		if (rv == 0 && verify) {
			/* A cold cache: every block comes from the image. */
			unsigned long bad;
			if (krank_mount(path, "direct,cache=1", err,
			    sizeof(err)) != 0 ||
			    (fd = krs_open("/mnt/data", KRS_O_RDONLY)) < 0) {
				fprintf(stderr, "bench_fio: verify: %s\n", err);
				return 1;
			}
			bad = verify_all();
			krs_close(fd);
			krs_unmount("/mnt", 0);
			printf("verify: %llu blocks read back after remount, "
			    "%lu differ from the last write\n",
			    (unsigned long long)nblocks, bad);
			if (bad != 0)
				rv = 1;
			if (rv == 0 && expect != NULL && write_expect(expect) != 0)
				rv = 1;
		}
		krs_shutdown();
	} else {
		close(fd);
	}
	free(gen);
	return rv;
}
