/*
 * iso_first - the program bench_krank_spawn starts, both as a KRANK
 * isolate (krank-cc) and as a Linux program (gcc): its first action is to
 * read CLOCK_MONOTONIC.  As an isolate it stores the reading at the
 * address given as argv[1] (isolates share KRANK's address space); as a
 * Linux process it writes it to descriptor 3 (a pipe).
 */
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t t = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	if (argc > 1 && argv[1][0] == 'a') {
		*(volatile uint64_t *)(uintptr_t)strtoull(argv[1] + 1, NULL, 16) = t;
		return 0;
	}
	return write(3, &t, sizeof(t)) == sizeof(t) ? 0 : 1;
}
