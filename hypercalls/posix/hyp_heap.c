/*
 * hyp_heap.c - the huge-page heap: one MAP_HUGETLB region that
 * rumpuser_malloc serves from before the host's allocator, and that the
 * packet layer carves its receive pools from.  Blocks are powers of two,
 * naturally aligned, kept on a free list per size when freed and split
 * from larger free ones when a size has none (a buddy allocator without
 * coalescing: kmem keeps its slabs, and clusters and pools cycle through
 * the same few sizes).  What it cannot serve goes to the host's
 * allocator, counted.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <krank/hyp.h>
#include "rumpuser_int.h"

#define HH_PAGE		(2UL << 20)	/* the huge page size used */
#define HH_MINSHIFT	6		/* 64 B, also the map's granule */
#define HH_MAXSHIFT	24		/* 16 MiB: a jumbo port's pool */
#define HH_NCLASS	(HH_MAXSHIFT - HH_MINSHIFT + 1)

struct hh_free {
	struct hh_free *next;
};

/* hh.lock protects everything below it; base, len and map are set once
 * by hyp_heap_huge_init before any allocation and read without it. */
static struct {
	char *base;
	size_t len;
	uint8_t *map;		/* per 64 B granule: class + 1 at a block's
				 * first granule while allocated, else 0 */
	pthread_mutex_t lock;
	size_t top;		/* bytes handed out by bumping */
	struct hh_free *free[HH_NCLASS];
	uint64_t used, peak, nalloc, nfallback, nbadfree;
} hh = { .lock = PTHREAD_MUTEX_INITIALIZER };

int
hyp_heap_huge_init(size_t len)
{
	void *p;

	if (len == 0 || len % HH_PAGE != 0 || len > (1ULL << 40))
		return NB_EINVAL;
	if (hh.base != NULL)
		return NB_EBUSY;
	/*
	 * Not populated: the pages are reserved now (so a later fault
	 * cannot fail) and each is faulted -- and counted resident -- when
	 * first touched.  Mapped PROT_NONE, then opened: Linux does not
	 * mlock huge pages, so it drops MCL_ONFAULT from such a mapping,
	 * and mlockall(MCL_FUTURE) would fault a read-write one in whole
	 * at mmap (64 MiB took 0.4 s on the build VM); mprotect does not,
	 * since the mapping is not locked.
	 */
	p = hyp_host.mmap(NULL, len, PROT_NONE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	if (p == MAP_FAILED)
		return rumpuser__errtrans(errno);
	if (mprotect(p, len, PROT_READ | PROT_WRITE) != 0) {
		int e = errno;
		hyp_host.munmap(p, len);
		return rumpuser__errtrans(e);
	}
	/* calloc of this size maps fresh zero pages: only the entries of
	 * blocks in use are ever resident. */
	hh.map = calloc(len >> HH_MINSHIFT, 1);
	if (hh.map == NULL) {
		hyp_host.munmap(p, len);
		return NB_ENOMEM;
	}
	hh.len = len;
	__atomic_store_n(&hh.base, (char *)p, __ATOMIC_RELEASE);
	return 0;
}

static unsigned
hh_class(size_t len)
{
	unsigned s = HH_MINSHIFT;
	while (((size_t)1 << s) < len)
		s++;
	return s - HH_MINSHIFT;
}

static void
hh_push(size_t off, unsigned cls)
{
	struct hh_free *f = (struct hh_free *)(hh.base + off);
	f->next = hh.free[cls];
	hh.free[cls] = f;
}

/* A block of class cls, or SIZE_MAX; hh.lock held. */
static size_t
hh_take(unsigned cls)
{
	size_t size = (size_t)1 << (cls + HH_MINSHIFT), off;
	unsigned c;

	if (hh.free[cls] != NULL) {
		off = (size_t)((char *)hh.free[cls] - hh.base);
		hh.free[cls] = hh.free[cls]->next;
		return off;
	}
	/* Fresh memory, aligned: the gap before it is cut into the
	 * largest aligned blocks that fit and kept. */
	off = (hh.top + size - 1) & ~(size - 1);
	if (off + size <= hh.len) {
		while (hh.top < off) {
			unsigned s = HH_MAXSHIFT;
			while (s > HH_MINSHIFT && ((hh.top &
			    (((size_t)1 << s) - 1)) != 0 ||
			    hh.top + ((size_t)1 << s) > off))
				s--;
			hh_push(hh.top, s - HH_MINSHIFT);
			hh.top += (size_t)1 << s;
		}
		hh.top = off + size;
		return off;
	}
	/* Else split the smallest larger free block. */
	for (c = cls + 1; c < HH_NCLASS && hh.free[c] == NULL; c++)
		;
	if (c == HH_NCLASS)
		return SIZE_MAX;
	off = (size_t)((char *)hh.free[c] - hh.base);
	hh.free[c] = hh.free[c]->next;
	while (c > cls) {
		c--;
		hh_push(off + ((size_t)1 << (c + HH_MINSHIFT)), c);
	}
	return off;
}

void *
hyp_heap_huge_alloc(size_t len, size_t align)
{
	size_t want = len > align ? len : align, off;
	unsigned cls;

	if (__atomic_load_n(&hh.base, __ATOMIC_ACQUIRE) == NULL)
		return NULL;
	/* The region starts on a huge page: blocks of 2 MiB and less are
	 * aligned to their size, larger ones to 2 MiB. */
	if (want == 0 || want > ((size_t)1 << HH_MAXSHIFT) ||
	    (align & (align - 1)) != 0 || align > HH_PAGE) {
		__atomic_fetch_add(&hh.nfallback, 1, __ATOMIC_RELAXED);
		return NULL;
	}
	cls = hh_class(want);
	pthread_mutex_lock(&hh.lock);
	off = hh_take(cls);
	if (off != SIZE_MAX) {
		hh.map[off >> HH_MINSHIFT] = (uint8_t)(cls + 1);
		hh.used += (size_t)1 << (cls + HH_MINSHIFT);
		if (hh.used > hh.peak)
			hh.peak = hh.used;
		hh.nalloc++;
	}
	pthread_mutex_unlock(&hh.lock);
	if (off == SIZE_MAX)
		__atomic_fetch_add(&hh.nfallback, 1, __ATOMIC_RELAXED);
	return off == SIZE_MAX ? NULL : hh.base + off;
}

int
hyp_heap_huge_owns(const void *p)
{
	const char *b = __atomic_load_n(&hh.base, __ATOMIC_ACQUIRE);
	return b != NULL && (const char *)p >= b && (const char *)p < b + hh.len;
}

void
hyp_heap_huge_free(void *p)
{
	size_t off;
	unsigned cls;

	if (!hyp_heap_huge_owns(p))
		return;
	off = (size_t)((char *)p - hh.base);
	pthread_mutex_lock(&hh.lock);
	/* Not the start of a block in use (a double or a stray free):
	 * counted and left alone rather than corrupting the lists. */
	if ((off & (((size_t)1 << HH_MINSHIFT) - 1)) != 0 ||
	    hh.map[off >> HH_MINSHIFT] == 0) {
		hh.nbadfree++;
		pthread_mutex_unlock(&hh.lock);
		return;
	}
	cls = hh.map[off >> HH_MINSHIFT] - 1u;
	hh.map[off >> HH_MINSHIFT] = 0;
	hh.used -= (size_t)1 << (cls + HH_MINSHIFT);
	hh_push(off, cls);
	pthread_mutex_unlock(&hh.lock);
}

void
hyp_heap_huge_stats(struct hyp_heap_huge_stats *st)
{
	memset(st, 0, sizeof(*st));
	pthread_mutex_lock(&hh.lock);
	st->base = hh.base;
	st->size = hh.len;
	st->used = hh.used;
	st->peak = hh.peak;
	st->touched = hh.top;
	st->nalloc = hh.nalloc;
	st->nfallback = __atomic_load_n(&hh.nfallback, __ATOMIC_RELAXED);
	st->nbadfree = hh.nbadfree;
	pthread_mutex_unlock(&hh.lock);
}
