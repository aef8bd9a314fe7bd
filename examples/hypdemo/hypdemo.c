/*
 * hypdemo - a tour of KRANK's hypercall layer on this host: parameters,
 * clocks, asynchronous block I/O (io_uring or threads) on a scratch file,
 * and frames over an in-process wire.  Runs without a rump kernel: it
 * installs no upcalls, so nothing is scheduled.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <krank/rumpuser.h>
#include <krank/hyp.h>
#include <krank/hyp_posix.h>

static pthread_mutex_t mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int pending;

static void
biodone(void *arg, size_t done, int error)
{
	if (error != 0)
		fprintf(stderr, "hypdemo: block I/O failed: error %d\n", error);
	pthread_mutex_lock(&mtx);
	pending--;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mtx);
}

static double
now(void)
{
	int64_t s;
	long ns;
	rumpuser_clock_gettime(RUMPUSER_CLOCK_ABSMONO, &s, &ns);
	return (double)s + (double)ns / 1e9;
}

int
main(int argc, char **argv)
{
	static const struct rumpuser_hyperup noupcalls;
	char buf[128], path[] = "/tmp/hypdemo.XXXXXX";
	int fd, rv;

	if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		printf("usage: hypdemo\n  Exercises KRANK's hypercall layer and "
		    "prints what it measured.\n");
		return 0;
	}
	if ((rv = rumpuser_init(RUMPUSER_VERSION, &noupcalls)) != 0) {
		fprintf(stderr, "hypdemo: rumpuser_init: error %d\n", rv);
		return 1;
	}
	rumpuser_getparam(RUMPUSER_PARAM_NCPU, buf, sizeof(buf));
	printf("rumpuser version %d, %s virtual CPUs, host CPUs %d\n",
	    RUMPUSER_VERSION, buf, hyp_cpu_count());
	rumpuser_getparam(RUMPUSER_PARAM_HOSTNAME, buf, sizeof(buf));
	printf("hostname: %s\n", buf);

	/* Block I/O: 256 asynchronous 4 KiB writes, then reads. */
	int tfd = mkstemp(path);
	if (tfd == -1) {
		perror("hypdemo: mkstemp");
		return 1;
	}
	close(tfd);
	if ((rv = rumpuser_open(path, RUMPUSER_OPEN_RDWR | RUMPUSER_OPEN_BIO, &fd))) {
		fprintf(stderr, "hypdemo: open %s: error %d\n", path, rv);
		return 1;
	}
	enum { NB = 256, BS = 4096 };
	char *data = malloc((size_t)NB * BS);
	for (int op = RUMPUSER_BIO_WRITE; op >= RUMPUSER_BIO_READ; op--) {
		double t0 = now();
		pending = NB;
		for (int i = 0; i < NB; i++) {
			memset(data + i * BS, i, BS);
			rumpuser_bio(fd, op, data + (size_t)i * BS, BS,
			    (int64_t)i * BS, biodone, NULL);
		}
		pthread_mutex_lock(&mtx);
		while (pending > 0)
			pthread_cond_wait(&cv, &mtx);
		pthread_mutex_unlock(&mtx);
		printf("bio (%s): %d %s of 4 KiB in %.2f ms\n",
		    hyp_posix_bio_engine(), NB,
		    op == RUMPUSER_BIO_WRITE ? "writes" : "reads",
		    (now() - t0) * 1e3);
	}
	free(data);
	rumpuser_close(fd);
	unlink(path);

	/* Packets: 100000 64-byte frames across an in-process wire. */
	struct hyp_pkt *a, *b;
	if (hyp_pkt_open("wire:demo", &a) || hyp_pkt_open("wire:demo", &b)) {
		fprintf(stderr, "hypdemo: cannot open wire:demo\n");
		return 1;
	}
	unsigned char frame[64] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct rumpuser_iovec iov = { frame, sizeof(frame) };
	struct hyp_pkt_frame got[32];
	unsigned n, total = 0;
	double t0 = now();
	for (int i = 0; i < 100000; i++) {
		hyp_pkt_send(a, &iov, 1);
		if (hyp_pkt_recv(b, got, 32, &n) == 0)
			for (unsigned j = 0; j < n; j++, total++)
				hyp_pkt_frame_free(b, &got[j]);
	}
	while (hyp_pkt_recv(b, got, 32, &n) == 0 && n > 0)
		for (unsigned j = 0; j < n; j++, total++)
			hyp_pkt_frame_free(b, &got[j]);
	double dt = now() - t0;
	printf("wire: %u of 100000 frames crossed in %.2f ms (%.1f Mframes/s)\n",
	    total, dt * 1e3, total / dt / 1e6);
	hyp_pkt_close(a);
	hyp_pkt_close(b);
	return total == 100000 ? 0 : 1;
}
