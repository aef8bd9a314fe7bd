/* One side of bench_krk_chan's isolate rows (krank-cc built; two of them
 * run as isolates on two cores).  argv: MODE NAME SIZE COUNT NBUFS
 *  recv - create NAME, take COUNT messages (checking each one's sequence
 *         number), release each; print the rate from the first message
 *         to end of stream.
 *  send - open NAME, send COUNT messages of SIZE bytes (the sequence
 *         number written into each buffer, the rest produced in place).
 *  echo - create NAME, open NAME.back, send every message back.
 *  ping - create NAME.back, open NAME, COUNT round trips; print the mean
 *         and median.
 * Results go to the console (KRANK's log) as "chanbench-result: ...". */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <krank/chan.h>
#include "../testclock.h"

/* The peer may not have made its channel yet: setup only. */
static int
open_send(const char *name)
{
	for (int i = 0; i < 20000; i++) {
		int fd = krank_chan_open(name, KRANK_CHAN_SEND);
		if (fd >= 0 || errno != ENOENT)
			return fd;
		usleep(100);
	}
	return -1;
}

static int
cmp64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	if (argc < 6)
		return 2;
	const char *mode = argv[1], *name = argv[2];
	size_t size = (size_t)atol(argv[3]);
	long count = atol(argv[4]);
	unsigned nbufs = (unsigned)atoi(argv[5]);
	char back[80];
	void *p;
	size_t len;

	snprintf(back, sizeof(back), "%s.back", name);
	if (strcmp(mode, "recv") == 0 || strcmp(mode, "echo") == 0) {
		int echo = mode[0] == 'e';
		int rfd = krank_chan_create(name, nbufs, (unsigned)size), wfd = -1;
		if (rfd < 0)
			return 3;
		if (echo && (wfd = open_send(back)) < 0)
			return 4;
		uint64_t t0 = 0, bad = 0;
		long n = 0;
		for (;;) {
			if (krank_chan_recv(rfd, &p, &len) != 0)
				return 5;
			if (len == 0)
				break;
			if (n == 0)
				t0 = now_ns();
			if (*(volatile uint64_t *)p != (uint64_t)n)
				bad++;
			krank_chan_release(rfd, p);
			if (echo) {
				void *q;
				if (krank_chan_buf(wfd, &q) < 0)
					return 6;
				*(volatile uint64_t *)q = (uint64_t)n;
				if (krank_chan_send(wfd, q, len) != 0)
					return 7;
			}
			n++;
		}
		uint64_t dt = now_ns() - t0;
		if (!echo)
			printf("chanbench-result: %s oneway %zu %ld %llu %llu\n",
			    name, size, n, (unsigned long long)dt,
			    (unsigned long long)bad);
		return bad ? 1 : 0;
	}
	if (strcmp(mode, "send") == 0) {
		int wfd = open_send(name);
		if (wfd < 0)
			return 3;
		for (long i = 0; i < count; i++) {
			if (krank_chan_buf(wfd, &p) < 0)
				return 4;
			*(volatile uint64_t *)p = (uint64_t)i;
			if (krank_chan_send(wfd, p, size) != 0)
				return 5;
		}
		close(wfd);
		return 0;
	}
	if (strcmp(mode, "ping") == 0) {
		int rfd = krank_chan_create(back, nbufs, (unsigned)size);
		int wfd = open_send(name);
		uint64_t *lat = malloc(sizeof(*lat) * (size_t)count), sum = 0;
		if (rfd < 0 || wfd < 0 || lat == NULL)
			return 3;
		for (long i = 0; i < count; i++) {
			uint64_t t = now_ns();
			if (krank_chan_buf(wfd, &p) < 0)
				return 4;
			*(volatile uint64_t *)p = (uint64_t)i;
			if (krank_chan_send(wfd, p, size) != 0 ||
			    krank_chan_recv(rfd, &p, &len) != 0 || len != size ||
			    *(volatile uint64_t *)p != (uint64_t)i)
				return 5;
			krank_chan_release(rfd, p);
			lat[i] = now_ns() - t;
			sum += lat[i];
		}
		close(wfd);
		/* Wait for the echo's end of stream before going. */
		while (krank_chan_recv(rfd, &p, &len) == 0 && len != 0)
			krank_chan_release(rfd, p);
		qsort(lat, (size_t)count, sizeof(*lat), cmp64);
		printf("chanbench-result: %s rtt %zu %ld %llu %llu\n", name,
		    size, count, (unsigned long long)(sum / (uint64_t)count),
		    (unsigned long long)lat[count / 2]);
		return 0;
	}
	return 2;
}
