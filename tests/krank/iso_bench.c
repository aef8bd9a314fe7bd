/*
 * iso_bench.c - cost of a system call from an isolate (by direct call
 * into krank's shims) and from a Linux program (the same source built by
 * gcc): getpid, a 64-byte pread of a file, clock_gettime.  Not part of
 * make check; run both sides in one go with tests/krank/bench_krk_sys.sh.
 *   iso_bench DIR
 */
#include <fcntl.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#define N 1000000

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int
main(int argc, char **argv)
{
	char path[512], buf[64];
	volatile long sink = 0;

	if (argc < 2)
		return 2;
	snprintf(path, sizeof(path), "%s/bench", argv[1]);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, "0123456789abcdef0123456789abcdef"
	    "0123456789abcdef0123456789abcdef", 64) != 64)
		return 1;
	double t0 = now();
	for (int i = 0; i < N; i++)
		sink += getpid();
	double t1 = now();
	for (int i = 0; i < N; i++)
		sink += pread(fd, buf, 64, 0);
	double t2 = now();
	struct timespec ts;
	for (int i = 0; i < N; i++)
		sink += clock_gettime(CLOCK_MONOTONIC, &ts);
	double t3 = now();
	printf("getpid %.1f ns, pread 64 B %.1f ns, clock_gettime %.1f ns\n",
	    (t1 - t0) / N, (t2 - t1) / N, (t3 - t2) / N);
	close(fd);
	unlink(path);
	return sink == 0;
}
