/*
 * test_arena_cpu - memory arenas fall back from huge to locked to plain
 * pages as the host allows (and STRICT refuses instead), and CPU pinning
 * puts the thread where it was asked.
 */
#include <errno.h>
#include <sched.h>
#include <sys/mman.h>
#include <krank/hyp.h>
#include <krank/hyp_posix.h>
#include "hyptest.h"

static void *(*real_mmap)(void *, size_t, int, int, int, off_t);
static void *nohuge_mmap(void *a, size_t l, int p, int f, int fd, off_t o)
{
	if (f & MAP_HUGETLB) {
		errno = ENOMEM;
		return MAP_FAILED;
	}
	return real_mmap(a, l, p, f, fd, o);
}
static int fail_mlock(const void *a, size_t l) { errno = EPERM; return -1; }

static long
nr_hugepages(void)
{
	FILE *f = fopen("/proc/sys/vm/nr_hugepages", "r");
	long n = 0;
	if (f) {
		if (fscanf(f, "%ld", &n) != 1)
			n = 0;
		fclose(f);
	}
	return n;
}

int
main(void)
{
	struct hyp_arena a;

	ht_init(1);
	CHECK(hyp_arena_create(0, 0, &a) == 22, "an arena of 0 bytes gives EINVAL");
	CHECK(hyp_arena_create(4096, 0x80, &a) == 22, "unknown flags give EINVAL");
	CHECK(hyp_arena_create(100000, 0, &a) == 0 && a.kind == HYP_ARENA_KIND_PLAIN &&
	    a.len >= 100000, "plain arena of 100000 bytes (%zu mapped)", a.len);
	int zero = 1;
	for (size_t i = 0; i < a.len; i++)
		zero &= ((unsigned char *)a.base)[i] == 0;
	memset(a.base, 0xab, a.len);
	CHECK(zero, "arena memory starts zeroed and is writable");
	hyp_arena_destroy(&a);

	int rv = hyp_arena_create(4 << 20, HYP_ARENA_HUGE | HYP_ARENA_LOCKED, &a);
	printf("info: host has %ld huge pages; HUGE|LOCKED gave %s\n", nr_hugepages(),
	    rv == 0 ? hyp_arena_kind_name(a.kind) : "an error");
	CHECK(rv == 0 && (a.kind != HYP_ARENA_KIND_HUGE || nr_hugepages() > 0),
	    "HUGE|LOCKED gives huge pages only when the host has them");
	if (rv == 0)
		hyp_arena_destroy(&a);

	real_mmap = hyp_posix_hostcall("mmap", (void *)nohuge_mmap);
	CHECK(hyp_arena_create(4 << 20, HYP_ARENA_HUGE | HYP_ARENA_LOCKED, &a) == 0 &&
	    a.kind == HYP_ARENA_KIND_LOCKED, "without huge pages it falls back to locked");
	hyp_arena_destroy(&a);
	CHECK(hyp_arena_create(4 << 20, HYP_ARENA_HUGE | HYP_ARENA_STRICT, &a) == 12,
	    "with STRICT it refuses (ENOMEM) instead");
	hyp_posix_hostcall("mlock", (void *)fail_mlock);
	CHECK(hyp_arena_create(1 << 20, HYP_ARENA_HUGE | HYP_ARENA_LOCKED, &a) == 0 &&
	    a.kind == HYP_ARENA_KIND_PLAIN, "and without mlock to plain pages");
	hyp_arena_destroy(&a);
	CHECK(hyp_arena_create(1 << 20, HYP_ARENA_LOCKED | HYP_ARENA_STRICT, &a) == 1,
	    "LOCKED|STRICT without mlock gives EPERM");
	hyp_posix_hostcall("mlock", NULL);
	hyp_posix_hostcall("mmap", NULL);

	int ncpu = hyp_cpu_count();
	CHECK(ncpu >= 1, "%d CPUs", ncpu);
	cpu_set_t allowed;
	sched_getaffinity(0, sizeof(allowed), &allowed);
	int okpin = 1, npinned = 0;
	for (int cpu = 0; cpu < CPU_SETSIZE && npinned < 64; cpu++) {
		if (!CPU_ISSET(cpu, &allowed))
			continue;
		npinned++;
		if (hyp_cpu_pin(cpu) != 0 || hyp_cpu_current() != cpu)
			okpin = 0;
	}
	CHECK(okpin && npinned == ncpu, "pinned to each of the %d CPUs in turn, the "
	    "thread runs there", npinned);
	CHECK(hyp_cpu_count() == ncpu, "count is the process's CPUs even when pinned");
	CHECK(hyp_cpu_pin(-1) == 22 && hyp_cpu_pin(100000) == 22 && hyp_cpu_pin(1000) == 22,
	    "pinning to a CPU that does not exist gives EINVAL");
	return ht_done("test_arena_cpu");
}
