/*
 * hyp_arena.c - large memory regions for buffer pools: 2 MiB huge pages
 * where the host has them, else locked small pages, else plain pages.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <krank/hyp.h>
#include "rumpuser_int.h"

#define HUGE_2M (2UL << 20)

static size_t
roundup_sz(size_t n, size_t a)
{
	return (n + a - 1) & ~(a - 1);
}

int
hyp_arena_create(size_t len, int flags, struct hyp_arena *a)
{
	const int all = HYP_ARENA_HUGE | HYP_ARENA_LOCKED | HYP_ARENA_STRICT |
	    HYP_ARENA_ONFAULT;
	size_t pagesz = (size_t)sysconf(_SC_PAGESIZE);
	void *p;
	int e;

	if (a == NULL || len == 0 || (flags & ~all) != 0 || len > (1ULL << 46))
		return NB_EINVAL;
	memset(a, 0, sizeof(*a));
	if (flags & HYP_ARENA_HUGE) {
		size_t hl = roundup_sz(len, HUGE_2M);
		p = hyp_host.mmap(NULL, hl, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_POPULATE,
		    -1, 0);
		if (p != MAP_FAILED) {
			/* Huge pages are never swapped; lock anyway if asked. */
			if (flags & HYP_ARENA_LOCKED)
				(void)hyp_host.mlock(p, hl);
			a->base = p;
			a->len = hl;
			a->kind = HYP_ARENA_KIND_HUGE;
			return 0;
		}
		if (flags & HYP_ARENA_STRICT)
			return rumpuser__errtrans(errno);
	}
	size_t sl = roundup_sz(len, pagesz);
	p = hyp_host.mmap(NULL, sl, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return rumpuser__errtrans(errno);
	a->base = p;
	a->len = sl;
	a->kind = HYP_ARENA_KIND_PLAIN;
	if (flags & HYP_ARENA_LOCKED) {
		if ((flags & HYP_ARENA_ONFAULT ?
		    hyp_host.mlock2(p, sl, MLOCK_ONFAULT) :
		    hyp_host.mlock(p, sl)) == 0) {
			a->kind = HYP_ARENA_KIND_LOCKED;
		} else if (flags & HYP_ARENA_STRICT) {
			e = errno;
			hyp_host.munmap(p, sl);
			memset(a, 0, sizeof(*a));
			return rumpuser__errtrans(e);
		}
	}
	return 0;
}

void
hyp_arena_destroy(struct hyp_arena *a)
{
	if (a == NULL || a->base == NULL)
		return;
	hyp_host.munmap(a->base, a->len);	/* also unlocks */
	memset(a, 0, sizeof(*a));
}

const char *
hyp_arena_kind_name(enum hyp_arena_kind kind)
{
	switch (kind) {
	case HYP_ARENA_KIND_HUGE: return "huge";
	case HYP_ARENA_KIND_LOCKED: return "locked";
	case HYP_ARENA_KIND_PLAIN: return "plain";
	}
	return "unknown";
}
