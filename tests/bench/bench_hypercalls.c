/*
 * bench_hypercalls - the hypercall layer's I/O paths against Linux doing
 * the same work in the same run:
 *   4 KiB reads of a cached file: rumpuser_bio (io_uring) at queue depth 1
 *     and 32, against pread(2) in a loop;
 *   64-byte frames: send + receive across an in-process wire, against an
 *     AF_UNIX datagram socketpair.
 * Prints both numbers and KRANK/Linux ratios.  Not part of make check.
 * usage: bench_hypercalls [ITERATIONS]
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <krank/rumpuser.h>
#include <krank/hyp.h>
#include <krank/hyp_posix.h>

#include "bench_point.h"

#define FILESZ (64u << 20)
#define BS 4096

static double
now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static pthread_mutex_t mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static long completed;

static void
done(void *arg, size_t n, int error)
{
	if (error != 0 || n != BS) {
		fprintf(stderr, "bench: bio error %d (%zu bytes)\n", error, n);
		exit(1);
	}
	pthread_mutex_lock(&mtx);
	completed++;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mtx);
}

static uint64_t rng = 88172645463325252ULL;
static off_t
randoff(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (off_t)(rng % (FILESZ / BS)) * BS;
}

/* KRANK bio: n reads keeping depth in flight; returns seconds. */
static double
bio_run(int fd, char *bufs, long n, int depth)
{
	long issued = 0;
	completed = 0;
	double t0 = now();
	pthread_mutex_lock(&mtx);
	while (completed < n) {
		while (issued < n && issued - completed < depth) {
			pthread_mutex_unlock(&mtx);
			rumpuser_bio(fd, RUMPUSER_BIO_READ, bufs + (issued % depth) * BS,
			    BS, randoff(), done, NULL);
			issued++;
			pthread_mutex_lock(&mtx);
		}
		if (completed < n)
			pthread_cond_wait(&cv, &mtx);
	}
	pthread_mutex_unlock(&mtx);
	return now() - t0;
}

static void
row(const char *id, const char *what, double krank, double linux_,
    const char *unit, int lower_better)
{
	bench_point(id, krank, linux_, unit, lower_better, 0, what);
	printf("%-38s KRANK %10.2f %-8s Linux %10.2f %-8s ratio %.2fx%s\n", what,
	    krank, unit, linux_, unit, lower_better ? linux_ / krank : krank / linux_,
	    lower_better ? " (Linux/KRANK)" : " (KRANK/Linux)");
}

int
main(int argc, char **argv)
{
	static const struct rumpuser_hyperup noupcalls;
	long n = argc > 1 ? atol(argv[1]) : 200000;
	char path[] = "/tmp/krank-bench.XXXXXX";
	char *bufs = aligned_alloc(4096, 32 * BS);
	int hfd, fd;

	bench_machine_costs();
	rumpuser_init(RUMPUSER_VERSION, &noupcalls);
	hfd = mkstemp(path);
	if (hfd == -1 || ftruncate(hfd, FILESZ) != 0) {
		perror("bench: scratch file");
		return 1;
	}
	/* Fill and read once so both sides read from the page cache. */
	memset(bufs, 0x5a, BS);
	for (off_t o = 0; o < FILESZ; o += BS)
		if (pwrite(hfd, bufs, BS, o) != BS)
			return 1;
	for (off_t o = 0; o < FILESZ; o += BS)
		if (pread(hfd, bufs, BS, o) != BS)
			return 1;
	rumpuser_open(path, RUMPUSER_OPEN_RDONLY | RUMPUSER_OPEN_BIO, &fd);
	printf("bench_hypercalls: %ld operations each; bio engine %s\n", n,
	    hyp_posix_bio_engine());

	double t0 = now();
	for (long i = 0; i < n; i++)
		if (pread(hfd, bufs, BS, randoff()) != BS)
			return 1;
	double lin = now() - t0;
	double k1 = bio_run(fd, bufs, n, 1);
	double k32 = bio_run(fd, bufs, n, 32);
	row("hyp.bio4k_lat", "4 KiB cached read, latency (qd 1)", k1 / n * 1e6, lin / n * 1e6, "us", 1);
	row("hyp.bio4k_qd32", "4 KiB cached read, rate (qd 32)", n / k32 / 1e3, n / lin / 1e3, "kIOPS", 0);
	rumpuser_close(fd);
	close(hfd);
	unlink(path);

	struct hyp_pkt *a, *b;
	hyp_pkt_open("wire:bench", &a);
	hyp_pkt_open("wire:bench", &b);
	unsigned char frame[64] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct rumpuser_iovec iov = { frame, sizeof(frame) };
	struct hyp_pkt_frame f[32];
	unsigned got;
	long moved = 0;
	t0 = now();
	for (long i = 0; i < n; i++) {
		hyp_pkt_send(a, &iov, 1);
		hyp_pkt_recv(b, f, 32, &got);
		for (unsigned j = 0; j < got; j++, moved++)
			hyp_pkt_frame_free(b, &f[j]);
	}
	double kw = now() - t0;
	hyp_pkt_close(a);
	hyp_pkt_close(b);

	int sv[2];
	socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
	t0 = now();
	for (long i = 0; i < n; i++) {
		if (send(sv[0], frame, sizeof(frame), 0) != 64 ||
		    recv(sv[1], bufs, BS, 0) != 64)
			return 1;
	}
	double lw = now() - t0;
	close(sv[0]);
	close(sv[1]);
	if (moved != n)
		fprintf(stderr, "bench: wire moved %ld of %ld frames\n", moved, n);
	row("hyp.frame64", "64-byte frame send+receive", kw / n * 1e9, lw / n * 1e9, "ns", 1);
	free(bufs);
	return 0;
}
