/*
 * krk_heap.c - the isolates' heap arenas.  An arena is one reservation of
 * address space (PROT_NONE; huge pages when asked and available) committed
 * from the bottom as it grows and carved into runs of 4 KiB pages: small
 * blocks come from per-class spans with an allocation bitmap, large blocks
 * are page runs, coalesced on free; freed small blocks wait in per-thread
 * caches.  All bookkeeping lives outside the arena, so an isolate writing
 * through a dangling pointer damages its own data, never the allocator's,
 * and every free is checked against it.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>		/* krk.h needs sig_atomic_t */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "krk.h"

#if defined(__SANITIZE_ADDRESS__)
#define HP_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HP_ASAN 1
#endif
#endif
#ifdef HP_ASAN
#include <sanitizer/asan_interface.h>
/* Free blocks are poisoned so ASan reports an isolate's use after free. */
#define HP_POISON(p, n)		ASAN_POISON_MEMORY_REGION((p), (n))
#define HP_UNPOISON(p, n)	ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define HP_POISON(p, n)		((void)(p), (void)(n))
#define HP_UNPOISON(p, n)	((void)(p), (void)(n))
#endif

#ifndef MAP_HUGE_2MB
#define MAP_HUGE_2MB		(21 << 26)
#endif

#define HP_PAGE_SHIFT	12
#define HP_PAGE		((size_t)1 << HP_PAGE_SHIFT)
#define HP_HUGE		((size_t)2 << 20)
#define HP_ALIGN	16		/* what malloc promises on x86-64 */
#define HP_SMALL_MAX	16384		/* larger blocks are page runs */
#define HP_NCLASS	36
#define HP_MAX_SLOTS	256		/* bits in hp_page.freebits */
#define HP_NBIN		128		/* free runs: 1..126 pages exact, 127: more */
#define HP_NIL		UINT32_MAX
#define HP_COMMIT_STEP	64		/* pages committed at a time (256 KiB) */
#define HP_MAX_PAGES	(UINT32_MAX - 1)
#define HP_TC_NCLASS	HP_NCLASS	/* every small class is cached */
#define HP_TC_MAX	32		/* blocks per class and thread ... */
#define HP_TC_BYTES	16384		/* ... and at most this many bytes,
					 * but one block at least */

#define HP_LOAD(x)	__atomic_load_n(&(x), __ATOMIC_RELAXED)
#define HP_STORE(x, v)	__atomic_store_n(&(x), (v), __ATOMIC_RELAXED)

/*
 * Thread caches.  A thread keeps a few freed blocks per small class
 * (hp_cls.tcmax) for the one arena it last used, so a malloc/free pair
 * takes no lock.  A cached block stays allocated in its span's freebits
 * and has its claimbit set; a free claims the bit with one atomic
 * fetch-or, so a second free of the block, from any thread, finds it set
 * and is refused (the locked free path claims the same way).  A double
 * free racing with the block's reuse frees the new owner's block, as in
 * any allocator; the arena's records stay consistent.  cached counts the bytes
 * held, which stats take off in_use.  Which arena a cache belongs to
 * (h, and the arena's list of caches) changes only under hp_tc_lock,
 * taken before any arena lock.
 */
struct hp_tc_ent {
	char *p;
	uint32_t head, slot;
};
struct hp_tcache {
	struct krk_heap *h;		/* bound arena or NULL (atomic) */
	struct hp_tcache *next, *prev;	/* h's caches; hp_tc_lock */
	uint64_t cached;		/* bytes held; owner writes (atomic) */
	uint8_t n[HP_TC_NCLASS];
	struct hp_tc_ent e[HP_TC_NCLASS][HP_TC_MAX];
};
static __thread struct hp_tcache *hp_tc;
static pthread_mutex_t hp_tc_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_key_t hp_tc_key;

/* Size classes: 16-byte steps to 128, then four per doubling to 16 KiB. */
static const uint32_t hp_cls_size[HP_NCLASS] = {
	16, 32, 48, 64, 80, 96, 112, 128,
	160, 192, 224, 256, 320, 384, 448, 512,
	640, 768, 896, 1024, 1280, 1536, 1792, 2048,
	2560, 3072, 3584, 4096, 5120, 6144, 7168, 8192,
	10240, 12288, 14336, 16384,
};

/* Per class, filled once: span length, slots per span, and the reciprocal
 * that turns an offset into a slot index without a division on free. */
static struct hp_cls {
	uint32_t size;
	uint16_t npages;
	uint16_t nslots;
	uint64_t recip;			/* ceil(2^32 / size) */
	uint8_t tcmax;			/* thread cache capacity */
} hp_cls[HP_NCLASS];
static pthread_once_t hp_cls_once = PTHREAD_ONCE_INIT;

enum hp_state {
	PG_UNUSED = 0,			/* never part of a run since commit */
	PG_FREE,			/* first or last page of a free run, or a
					 * page inside one that once headed a run */
	PG_SMALL,			/* first page of a span of small blocks */
	PG_LARGE,			/* first page of a large block */
	PG_TAIL,			/* other page of an in-use run */
};

/*
 * One descriptor per arena page.  Every page of an in-use run has head and
 * state right; of a free run only the first page (state, npages, links)
 * and the last (head) are kept, which is all coalescing needs.  A lookup
 * therefore trusts a page's head only when that head's run covers it.
 */
struct hp_page {
	uint64_t freebits[HP_MAX_SLOTS / 64];	/* span: 1 = slot free */
	uint64_t claimbits[HP_MAX_SLOTS / 64];	/* span: 1 = freed into a
						 * thread cache (atomic) */
	uint32_t head;			/* first page of this page's run */
	uint32_t npages;		/* run length (at the head) */
	uint32_t next, prev;		/* head: bin list or class list */
	uint16_t nfree, nslots;		/* span */
	uint8_t cls, state;
	uint8_t pad[10];
};
_Static_assert(sizeof(struct hp_page) == 96, "descriptor size");

/*
 * The arena.  lock protects the fields up to base and the descriptors
 * (claimbits are atomic; the thread caches read descriptors without it, see
 * hp_tc_push); base, the sizes and the note are fixed after create; fault
 * is set under lock, caches under hp_tc_lock.  The structure itself lives
 * at the start of the metadata mapping, so destroy is two munmaps.
 */
struct krk_heap {
	pthread_mutex_t lock;
	uint32_t top;			/* first page never handed out */
	uint32_t committed;		/* pages readable and writable */
	uint32_t cls_head[HP_NCLASS];	/* spans with free slots */
	uint32_t bin[HP_NBIN];		/* free runs by length */
	uint64_t binmap[HP_NBIN / 64];	/* bit set: bin non-empty */
	uint64_t in_use, peak, failures, bad_frees;

	char *base;			/* arena: npages pages */
	size_t mapsize;			/* bytes reserved at base */
	uint32_t npages;
	uint32_t commit_step;		/* pages; one huge page when huge */
	uint64_t limit;
	bool huge;
	bool asked_huge;		/* create's argument: the pool's key */
	struct hp_page *pg;		/* npages descriptors */
	char *meta;			/* guard, this struct, pg[], guard */
	size_t metasize;
	krk_heap_fault_fn *fault;
	void *fault_arg;
	struct hp_tcache *caches;	/* bound thread caches; hp_tc_lock */
	char note[200];
};

static void
hp_cls_init(void)
{
	for (unsigned c = 0; c < HP_NCLASS; c++) {
		uint32_t sz = hp_cls_size[c], n, slots = 0;

		/* The shortest span with at least four slots that wastes at
		 * most an eighth of itself. */
		for (n = 1; n < 16; n++) {
			size_t bytes = n * HP_PAGE;
			slots = bytes / sz;
			if (slots > HP_MAX_SLOTS)
				slots = HP_MAX_SLOTS;
			if (slots >= 4 && (bytes - slots * sz) * 8 <= bytes)
				break;
		}
		slots = n * HP_PAGE / sz;
		if (slots > HP_MAX_SLOTS)
			slots = HP_MAX_SLOTS;
		hp_cls[c].size = sz;
		hp_cls[c].npages = (uint16_t)n;
		hp_cls[c].nslots = (uint16_t)slots;
		hp_cls[c].recip = ((1ULL << 32) + sz - 1) / sz;
		unsigned tcmax = HP_TC_BYTES / sz;
		hp_cls[c].tcmax = (uint8_t)(tcmax > HP_TC_MAX ? HP_TC_MAX :
		    tcmax < 1 ? 1 : tcmax);
	}
}

/* hp_class - the class of a small request (n <= HP_SMALL_MAX). */
static inline unsigned
hp_class(size_t n)
{
	if (n <= 128)
		return n <= 16 ? 0 : (unsigned)((n + 15) >> 4) - 1;
	unsigned k = 63 - (unsigned)__builtin_clzll(n - 1);	/* 7..13 */
	return 8 + (k - 7) * 4 + (unsigned)(((n - 1) >> (k - 2)) & 3);
}

static inline uint32_t
hp_pages(size_t n)
{
	return (uint32_t)((n + HP_PAGE - 1) >> HP_PAGE_SHIFT);
}

static inline char *
hp_addr(const struct krk_heap *h, uint32_t pgi)
{
	return h->base + ((size_t)pgi << HP_PAGE_SHIFT);
}

/* ---- committing ------------------------------------------------------ */

/* hp_commit - make pages [0, want) and their descriptors writable.  The
 * only host call of the allocation path, taken once per commit_step. */
static int
hp_commit(struct krk_heap *h, uint32_t want)
{
	if (want <= h->committed)
		return 0;
	uint64_t to = ((uint64_t)want + h->commit_step - 1) /
	    h->commit_step * h->commit_step;
	if (to > h->npages)
		to = h->npages;
	/* Descriptors first: the pages are useless without them. */
	size_t pgoff = (size_t)((char *)h->pg - h->meta);
	size_t mfrom = (pgoff + (size_t)h->committed * sizeof(struct hp_page) +
	    HP_PAGE - 1) & ~(HP_PAGE - 1);
	size_t mto = (pgoff + (size_t)to * sizeof(struct hp_page) + HP_PAGE - 1) &
	    ~(HP_PAGE - 1);
	if (mto > mfrom && mprotect(h->meta + mfrom, mto - mfrom,
	    PROT_READ | PROT_WRITE) != 0)
		return ENOMEM;
	if (mprotect(hp_addr(h, h->committed),
	    (size_t)(to - h->committed) << HP_PAGE_SHIFT,
	    PROT_READ | PROT_WRITE) != 0)
		return ENOMEM;
	h->committed = (uint32_t)to;
	return 0;
}

/* ---- page runs -------------------------------------------------------- */

static inline unsigned
hp_binof(uint32_t n)
{
	return n < HP_NBIN - 1 ? n : HP_NBIN - 1;
}

static void
hp_bin_insert(struct krk_heap *h, uint32_t p)
{
	unsigned b = hp_binof(h->pg[p].npages);
	uint32_t old = h->bin[b];

	h->pg[p].prev = HP_NIL;
	h->pg[p].next = old;
	if (old != HP_NIL)
		h->pg[old].prev = p;
	h->bin[b] = p;
	h->binmap[b >> 6] |= 1ULL << (b & 63);
}

static void
hp_bin_remove(struct krk_heap *h, uint32_t p)
{
	unsigned b = hp_binof(h->pg[p].npages);
	struct hp_page *pp = &h->pg[p];

	if (pp->prev != HP_NIL)
		h->pg[pp->prev].next = pp->next;
	else
		h->bin[b] = pp->next;
	if (pp->next != HP_NIL)
		h->pg[pp->next].prev = pp->prev;
	if (h->bin[b] == HP_NIL)
		h->binmap[b >> 6] &= ~(1ULL << (b & 63));
}

/* hp_free_run - record [p, p+n) as one free run (already coalesced). */
static void
hp_free_run(struct krk_heap *h, uint32_t p, uint32_t n)
{
	HP_STORE(h->pg[p].state, PG_FREE);
	HP_STORE(h->pg[p].head, p);
	HP_STORE(h->pg[p].npages, n);
	HP_STORE(h->pg[p + n - 1].state, PG_FREE);
	HP_STORE(h->pg[p + n - 1].head, p);
	hp_bin_insert(h, p);
}

/* hp_run_release - give pages [p, p+n) back, merging with free
 * neighbours; a run that reaches top lowers top instead. */
static void
hp_run_release(struct krk_heap *h, uint32_t p, uint32_t n)
{
	HP_POISON(hp_addr(h, p), (size_t)n << HP_PAGE_SHIFT);
	HP_STORE(h->pg[p].state, PG_FREE);	/* a second free of it is caught */
	if (p > 0) {
		uint32_t q = h->pg[p - 1].head;
		if (q < p && h->pg[q].state == PG_FREE &&
		    q + h->pg[q].npages == p) {
			hp_bin_remove(h, q);
			n += p - q;
			p = q;
		}
	}
	uint32_t e = p + n;
	if (e == h->top) {
		HP_STORE(h->top, p);
		return;
	}
	if (h->pg[e].state == PG_FREE && h->pg[e].head == e) {
		uint32_t m = h->pg[e].npages;
		hp_bin_remove(h, e);
		n += m;
	}
	hp_free_run(h, p, n);
}

/* hp_run_alloc - n pages, from the best-fitting free run or from top.
 * The caller marks them.  HP_NIL when the address space is used up. */
static uint32_t
hp_run_alloc(struct krk_heap *h, uint32_t n)
{
	uint32_t p = HP_NIL, got = 0;

	if (n < HP_NBIN - 1) {
		unsigned from = n;
		for (unsigned w = from >> 6; w < HP_NBIN / 64; w++) {
			uint64_t m = h->binmap[w];
			if (w == from >> 6)
				m &= ~0ULL << (from & 63);
			if (m != 0) {
				unsigned b = w * 64 + (unsigned)__builtin_ctzll(m);
				if (b < HP_NBIN - 1)
					p = h->bin[b];
				break;
			}
		}
	}
	if (p == HP_NIL) {
		/* Best fit among the long runs. */
		for (uint32_t q = h->bin[HP_NBIN - 1]; q != HP_NIL;
		    q = h->pg[q].next) {
			uint32_t m = h->pg[q].npages;
			if (m >= n && (p == HP_NIL || m < h->pg[p].npages)) {
				p = q;
				if (m == n)
					break;
			}
		}
	}
	if (p != HP_NIL) {
		got = h->pg[p].npages;
		hp_bin_remove(h, p);
		if (got > n)
			hp_free_run(h, p + n, got - n);
		return p;
	}
	if ((uint64_t)h->top + n > h->npages || hp_commit(h, h->top + n) != 0)
		return HP_NIL;
	p = h->top;
	HP_STORE(h->top, h->top + n);
	return p;
}

static void
hp_mark_run(struct krk_heap *h, uint32_t p, uint32_t n, uint8_t state)
{
	HP_STORE(h->pg[p].state, state);
	HP_STORE(h->pg[p].head, p);
	HP_STORE(h->pg[p].npages, n);
	for (uint32_t i = 1; i < n; i++) {
		HP_STORE(h->pg[p + i].head, p);
		HP_STORE(h->pg[p + i].state, PG_TAIL);
	}
}

/* ---- spans of small blocks -------------------------------------------- */

static void
hp_cls_link(struct krk_heap *h, unsigned c, uint32_t s)
{
	uint32_t old = h->cls_head[c];

	h->pg[s].prev = HP_NIL;
	h->pg[s].next = old;
	if (old != HP_NIL)
		h->pg[old].prev = s;
	h->cls_head[c] = s;
}

static void
hp_cls_unlink(struct krk_heap *h, unsigned c, uint32_t s)
{
	struct hp_page *sp = &h->pg[s];

	if (sp->prev != HP_NIL)
		h->pg[sp->prev].next = sp->next;
	else
		h->cls_head[c] = sp->next;
	if (sp->next != HP_NIL)
		h->pg[sp->next].prev = sp->prev;
}

static uint32_t
hp_span_new(struct krk_heap *h, unsigned c)
{
	const struct hp_cls *k = &hp_cls[c];
	uint32_t s = hp_run_alloc(h, k->npages);

	if (s == HP_NIL)
		return HP_NIL;
	hp_mark_run(h, s, k->npages, PG_SMALL);
	struct hp_page *sp = &h->pg[s];
	HP_STORE(sp->cls, (uint8_t)c);
	sp->nslots = sp->nfree = k->nslots;
	for (unsigned w = 0; w < HP_MAX_SLOTS / 64; w++) {
		unsigned lo = w * 64;
		HP_STORE(sp->freebits[w], k->nslots >= lo + 64 ? ~0ULL :
		    k->nslots > lo ? (1ULL << (k->nslots - lo)) - 1 : 0);
		HP_STORE(sp->claimbits[w], 0);
	}
	hp_cls_link(h, c, s);
	return s;
}

/* hp_reclaim - release the empty spans kept for reuse, when the address
 * space has run out.  Returns whether anything was released. */
static bool
hp_reclaim(struct krk_heap *h)
{
	bool any = false;

	for (unsigned c = 0; c < HP_NCLASS; c++) {
		uint32_t s = h->cls_head[c];
		while (s != HP_NIL) {
			uint32_t next = h->pg[s].next;
			if (h->pg[s].nfree == h->pg[s].nslots) {
				hp_cls_unlink(h, c, s);
				hp_run_release(h, s, h->pg[s].npages);
				any = true;
			}
			s = next;
		}
	}
	return any;
}

/* ---- allocation, with the lock held ----------------------------------- */

/* hp_room - whether bytes more stay within the limit. */
static inline bool
hp_room(const struct krk_heap *h, uint64_t bytes)
{
	return bytes <= h->limit - h->in_use;
}

static inline void
hp_charge(struct krk_heap *h, uint64_t bytes)
{
	h->in_use += bytes;
	if (h->in_use > h->peak)
		h->peak = h->in_use;
}

/* hp_small_locked - a block of class c; a refusal is counted when
 * count (a thread cache filling up does not count). */
static void *
hp_small_locked(struct krk_heap *h, unsigned c, bool count)
{
	const struct hp_cls *k = &hp_cls[c];
	uint32_t s = h->cls_head[c];

	if (!hp_room(h, k->size)) {
		h->failures += count;
		return NULL;
	}
	if (s == HP_NIL) {
		s = hp_span_new(h, c);
		if (s == HP_NIL && hp_reclaim(h))
			s = hp_span_new(h, c);
		if (s == HP_NIL) {
			h->failures += count;
			return NULL;
		}
	}
	hp_charge(h, k->size);
	struct hp_page *sp = &h->pg[s];
	unsigned w = 0;
	while (sp->freebits[w] == 0)
		w++;
	unsigned bit = (unsigned)__builtin_ctzll(sp->freebits[w]);
	HP_STORE(sp->freebits[w], sp->freebits[w] & ~(1ULL << bit));
	if (--sp->nfree == 0)
		hp_cls_unlink(h, c, s);
	char *p = hp_addr(h, s) + (size_t)(w * 64 + bit) * k->size;
	HP_UNPOISON(p, k->size);
	return p;
}

/* hp_large_locked - a run of pages holding n bytes whose start is aligned
 * to align (a power of two; page alignment is free). */
static void *
hp_large_locked(struct krk_heap *h, size_t n, size_t align)
{
	if (n > h->limit || !hp_room(h, (uint64_t)hp_pages(n) << HP_PAGE_SHIFT))
		goto fail;
	uint32_t need = hp_pages(n ? n : 1);
	uint32_t extra = align > HP_PAGE ? (uint32_t)(align >> HP_PAGE_SHIFT) - 1 : 0;
	if ((uint64_t)need + extra > h->npages)
		goto fail;
	uint32_t p = hp_run_alloc(h, need + extra);
	if (p == HP_NIL && hp_reclaim(h))
		p = hp_run_alloc(h, need + extra);
	if (p == HP_NIL)
		goto fail;
	uint32_t a = p;
	if (extra > 0) {
		uintptr_t addr = (uintptr_t)hp_addr(h, p);
		uintptr_t al = (addr + align - 1) & ~(uintptr_t)(align - 1);
		a = p + (uint32_t)((al - addr) >> HP_PAGE_SHIFT);
	}
	hp_mark_run(h, a, need, PG_LARGE);
	/* Give back what alignment did not need; the block is marked, so
	 * neither side merges into it. */
	if (a > p)
		hp_run_release(h, p, a - p);
	if (p + need + extra > a + need)
		hp_run_release(h, a + need, p + need + extra - (a + need));
	hp_charge(h, (uint64_t)need << HP_PAGE_SHIFT);
	HP_UNPOISON(hp_addr(h, a), (size_t)need << HP_PAGE_SHIFT);
	return hp_addr(h, a);
fail:
	h->failures++;
	return NULL;
}

/* ---- pointer checks --------------------------------------------------- */

/* Where a pointer the arena handed out lives. */
struct hp_loc {
	uint32_t head;			/* first page of its run */
	uint32_t slot;			/* small: slot index */
	bool small;
	size_t size;			/* usable bytes */
	char *start;			/* the block */
};

/*
 * hp_find - locate the block containing p (p need not be its start).
 * Returns 0; EFAULT when p is outside the arena's used range; EINVAL when
 * it is in no block, or (exact) not at a block's start; EALREADY when the
 * block (or, for a page start, the run) is free.  Lock held.
 */
static int
hp_find(const struct krk_heap *h, const void *p, bool exact, struct hp_loc *l)
{
	uintptr_t off = (uintptr_t)p - (uintptr_t)h->base;

	if ((uintptr_t)p < (uintptr_t)h->base ||
	    off >= ((uintptr_t)h->committed << HP_PAGE_SHIFT))
		return EFAULT;
	if (exact && (off & (HP_ALIGN - 1)) != 0)
		return EINVAL;
	uint32_t pgi = (uint32_t)(off >> HP_PAGE_SHIFT);
	const struct hp_page *pp = &h->pg[pgi];
	if (pgi >= h->top)		/* given back to top since */
		return pp->state == PG_FREE && (off & (HP_PAGE - 1)) == 0 ?
		    EALREADY : EINVAL;
	uint32_t hd = pp->state == PG_TAIL ? pp->head : pgi;
	const struct hp_page *hp = &h->pg[hd];

	if (hd > pgi || (hp->state != PG_SMALL && hp->state != PG_LARGE) ||
	    pgi - hd >= hp->npages) {
		/* A page that last headed a run and is free now was most
		 * likely a block freed before. */
		if (pp->state == PG_FREE && (off & (HP_PAGE - 1)) == 0)
			return EALREADY;
		return EINVAL;
	}
	l->head = hd;
	l->start = hp_addr(h, hd);
	if (hp->state == PG_LARGE) {
		l->small = false;
		l->size = (size_t)hp->npages << HP_PAGE_SHIFT;
		if (exact && pgi != hd)
			return EINVAL;
		if (exact && (off & (HP_PAGE - 1)) != 0)
			return EINVAL;
		return 0;
	}
	const struct hp_cls *k = &hp_cls[hp->cls];
	uint64_t boff = off - ((uintptr_t)hd << HP_PAGE_SHIFT);
	uint32_t slot = (uint32_t)((boff * k->recip) >> 32);
	if (slot >= hp->nslots)
		return EINVAL;
	if (exact && (uint64_t)slot * k->size != boff)
		return EINVAL;
	if ((hp->freebits[slot >> 6] | HP_LOAD(hp->claimbits[slot >> 6])) &
	    (1ULL << (slot & 63)))
		return EALREADY;
	l->small = true;
	l->slot = slot;
	l->size = k->size;
	l->start += (size_t)slot * k->size;
	return 0;
}

/* hp_slot_release - slot of span head goes back to its span; its claim
 * (held by the caller) is dropped after the freebit is set, so a racing
 * free that claims it next sees it free. */
static void
hp_slot_release(struct krk_heap *h, uint32_t head, uint32_t slot)
{
	struct hp_page *sp = &h->pg[head];
	unsigned c = sp->cls;
	uint64_t bit = 1ULL << (slot & 63);

	HP_STORE(sp->freebits[slot >> 6], sp->freebits[slot >> 6] | bit);
	__atomic_fetch_and(&sp->claimbits[slot >> 6], ~bit, __ATOMIC_SEQ_CST);
	h->in_use -= hp_cls[c].size;
	if (++sp->nfree == 1)
		hp_cls_link(h, c, head);
	else if (sp->nfree == sp->nslots &&
	    (h->cls_head[c] != head || sp->next != HP_NIL)) {
		/* Empty, and not the class's last span: give the pages back.
		 * The last one stays, so a malloc/free loop does not churn. */
		hp_cls_unlink(h, c, head);
		hp_run_release(h, head, sp->npages);
	}
}

/* hp_free_locked - free a block hp_find located.  EALREADY when a thread
 * cache took it meanwhile. */
static int
hp_free_locked(struct krk_heap *h, const struct hp_loc *l)
{
	if (!l->small) {
		uint32_t n = h->pg[l->head].npages;
		h->in_use -= (uint64_t)n << HP_PAGE_SHIFT;
		hp_run_release(h, l->head, n);
		return 0;
	}
	uint64_t bit = 1ULL << (l->slot & 63);
	if (__atomic_fetch_or(&h->pg[l->head].claimbits[l->slot >> 6], bit,
	    __ATOMIC_SEQ_CST) & bit)
		return EALREADY;
	HP_POISON(l->start, l->size);
	hp_slot_release(h, l->head, l->slot);
	return 0;
}

static const char *
hp_errstr(int err)
{
	switch (err) {
	case EFAULT:
		return "not in this arena's memory";
	case EINVAL:
		return "not the start of a block this arena handed out";
	case EALREADY:
		return "block already free (double free)";
	default:
		return "bad pointer";
	}
}

/* hp_bad - report a pointer that free or realloc refused.  Called without
 * the lock, so the hook may log or end the isolate. */
static void
hp_bad(struct krk_heap *h, const char *op, const void *p, int err)
{
	uint64_t nbad;
	krk_heap_fault_fn *fn;
	void *arg;

	pthread_mutex_lock(&h->lock);
	nbad = ++h->bad_frees;
	fn = h->fault;
	arg = h->fault_arg;
	pthread_mutex_unlock(&h->lock);
	if (fn != NULL) {
		fn(arg, op, p, err, hp_errstr(err));
		return;
	}
	/* No hook: a line on stderr for the first few, then only counted,
	 * so an isolate cannot flood the log. */
	if (nbad <= 8)
		fprintf(stderr, "krank: heap %p: %s(%p) refused: %s%s\n",
		    (void *)h, op, p, hp_errstr(err),
		    nbad == 8 ? " (further ones only counted)" : "");
}

/* ---- thread caches ---------------------------------------------------- */

/* hp_tc_flush_locked - give the oldest count blocks of class c back to h.  The
 * caller owns tc and holds h->lock. */
static void
hp_tc_flush_locked(struct krk_heap *h, struct hp_tcache *tc, unsigned c,
    unsigned count)
{
	for (unsigned i = 0; i < count; i++)
		hp_slot_release(h, tc->e[c][i].head, tc->e[c][i].slot);
	memmove(&tc->e[c][0], &tc->e[c][count],
	    (tc->n[c] - count) * sizeof(tc->e[c][0]));
	tc->n[c] = (uint8_t)(tc->n[c] - count);
	HP_STORE(tc->cached, tc->cached - (uint64_t)count * hp_cls[c].size);
}

static void
hp_tc_flush_all(struct krk_heap *h, struct hp_tcache *tc)
{
	pthread_mutex_lock(&h->lock);
	for (unsigned c = 0; c < HP_TC_NCLASS; c++)
		if (tc->n[c] > 0)
			hp_tc_flush_locked(h, tc, c, tc->n[c]);
	pthread_mutex_unlock(&h->lock);
}

static void
hp_tc_unlink(struct krk_heap *h, struct hp_tcache *tc)
{
	if (tc->prev != NULL)
		tc->prev->next = tc->next;
	else
		h->caches = tc->next;
	if (tc->next != NULL)
		tc->next->prev = tc->prev;
	tc->next = tc->prev = NULL;
}

/* At thread exit: the cached blocks go back to their arena. */
static void
hp_tc_exit(void *arg)
{
	struct hp_tcache *tc = arg;

	pthread_mutex_lock(&hp_tc_lock);
	struct krk_heap *h = tc->h;
	if (h != NULL) {
		hp_tc_flush_all(h, tc);
		hp_tc_unlink(h, tc);
	}
	pthread_mutex_unlock(&hp_tc_lock);
	hp_tc = NULL;
	free(tc);
}

static pthread_once_t hp_tc_once = PTHREAD_ONCE_INIT;
static bool hp_tc_ok;

static void
hp_tc_init(void)
{
	hp_tc_ok = pthread_key_create(&hp_tc_key, hp_tc_exit) == 0;
}

/* hp_tc_bind - the calling thread's cache, bound to h (its blocks for
 * another arena given back first).  NULL: no cache, use the lock. */
static struct hp_tcache *
hp_tc_bind(struct krk_heap *h)
{
	struct hp_tcache *tc = hp_tc;

	if (tc == NULL) {
		pthread_once(&hp_tc_once, hp_tc_init);
		/* Once per thread, from KRANK's own allocator. */
		if (!hp_tc_ok || (tc = calloc(1, sizeof(*tc))) == NULL)
			return NULL;
		if (pthread_setspecific(hp_tc_key, tc) != 0) {
			free(tc);
			return NULL;
		}
		hp_tc = tc;
	}
	pthread_mutex_lock(&hp_tc_lock);
	struct krk_heap *old = tc->h;
	if (old != NULL) {
		hp_tc_flush_all(old, tc);
		hp_tc_unlink(old, tc);
	}
	tc->next = h->caches;
	tc->prev = NULL;
	if (h->caches != NULL)
		h->caches->prev = tc;
	h->caches = tc;
	__atomic_store_n(&tc->h, h, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&hp_tc_lock);
	return tc;
}

static inline struct hp_tcache *
hp_tc_get(struct krk_heap *h)
{
	struct hp_tcache *tc = hp_tc;

	if (tc != NULL && __atomic_load_n(&tc->h, __ATOMIC_ACQUIRE) == h)
		return tc;
	return hp_tc_bind(h);
}

/* hp_tc_refill - up to half a cache of class c blocks from the spans. */
static void
hp_tc_refill(struct krk_heap *h, struct hp_tcache *tc, unsigned c)
{
	const struct hp_cls *k = &hp_cls[c];
	unsigned got = 0;

	pthread_mutex_lock(&h->lock);
	while (tc->n[c] < (k->tcmax + 1) / 2) {
		char *p = hp_small_locked(h, c, false);
		if (p == NULL)
			break;
		uint32_t pgi = (uint32_t)((size_t)(p - h->base) >> HP_PAGE_SHIFT);
		uint32_t hd = h->pg[pgi].state == PG_TAIL ? h->pg[pgi].head : pgi;
		uint32_t slot = (uint32_t)((size_t)(p - hp_addr(h, hd)) / k->size);
		__atomic_fetch_or(&h->pg[hd].claimbits[slot >> 6],
		    1ULL << (slot & 63), __ATOMIC_SEQ_CST);
		HP_POISON(p, k->size);
		tc->e[c][tc->n[c]++] = (struct hp_tc_ent){ p, hd, slot };
		got++;
	}
	HP_STORE(tc->cached, tc->cached + (uint64_t)got * k->size);
	pthread_mutex_unlock(&h->lock);
}

static inline void *
hp_tc_pop(struct hp_tcache *tc, struct krk_heap *h, unsigned c)
{
	struct hp_tc_ent *e = &tc->e[c][--tc->n[c]];
	uint32_t size = hp_cls[c].size;

	__atomic_fetch_and(&h->pg[e->head].claimbits[e->slot >> 6],
	    ~(1ULL << (e->slot & 63)), __ATOMIC_SEQ_CST);
	HP_STORE(tc->cached, tc->cached - size);
	HP_UNPOISON(e->p, size);
	return e->p;
}

/*
 * hp_tc_push - free p into the cache without the lock.  false: not a
 * cached class, or not a live block (the locked path then decides and
 * reports).  The checks read descriptors another thread may be changing;
 * that can only happen for a pointer that is not a live block, and the
 * claim and the freebit read after it refuse those: a live block's span,
 * class and slot cannot change while it is allocated.
 */
static inline bool
hp_tc_push(struct hp_tcache *tc, struct krk_heap *h, void *p)
{
	uintptr_t off = (uintptr_t)p - (uintptr_t)h->base;

	if ((uintptr_t)p < (uintptr_t)h->base || (off & (HP_ALIGN - 1)) ||
	    off >= ((uintptr_t)HP_LOAD(h->top) << HP_PAGE_SHIFT))
		return false;
	uint32_t pgi = (uint32_t)(off >> HP_PAGE_SHIFT);
	uint32_t hd = HP_LOAD(h->pg[pgi].state) == PG_TAIL ?
	    HP_LOAD(h->pg[pgi].head) : pgi;
	struct hp_page *sp = &h->pg[hd];
	if (hd > pgi || HP_LOAD(sp->state) != PG_SMALL ||
	    pgi - hd >= HP_LOAD(sp->npages))
		return false;
	unsigned c = HP_LOAD(sp->cls);
	if (c >= HP_TC_NCLASS)
		return false;
	const struct hp_cls *k = &hp_cls[c];
	uint64_t boff = off - ((uintptr_t)hd << HP_PAGE_SHIFT);
	uint32_t slot = (uint32_t)((boff * k->recip) >> 32);
	if (slot >= k->nslots || (uint64_t)slot * k->size != boff)
		return false;
	uint64_t bit = 1ULL << (slot & 63);
	if (__atomic_fetch_or(&sp->claimbits[slot >> 6], bit,
	    __ATOMIC_SEQ_CST) & bit)
		return false;			/* cached already: double free */
	if ((HP_LOAD(sp->freebits[slot >> 6]) & bit) ||
	    HP_LOAD(sp->state) != PG_SMALL || HP_LOAD(sp->cls) != c) {
		__atomic_fetch_and(&sp->claimbits[slot >> 6], ~bit,
		    __ATOMIC_SEQ_CST);
		return false;			/* free already, or no block */
	}
	if (tc->n[c] == k->tcmax) {
		pthread_mutex_lock(&h->lock);
		hp_tc_flush_locked(h, tc, c, (k->tcmax + 1) / 2);
		pthread_mutex_unlock(&h->lock);
	}
	HP_POISON(p, k->size);
	tc->e[c][tc->n[c]++] = (struct hp_tc_ent){ p, hd, slot };
	HP_STORE(tc->cached, tc->cached + k->size);
	return true;
}

/* hp_tc_giveback - after a refusal: give the calling thread's cached
 * blocks back to h so the request can be tried once more, and take the
 * refusal off the count.  false: nothing was cached. */
static bool
hp_tc_giveback(struct krk_heap *h)
{
	struct hp_tcache *tc = hp_tc;

	if (tc == NULL || __atomic_load_n(&tc->h, __ATOMIC_ACQUIRE) != h ||
	    HP_LOAD(tc->cached) == 0)
		return false;
	hp_tc_flush_all(h, tc);
	pthread_mutex_lock(&h->lock);
	h->failures--;
	pthread_mutex_unlock(&h->lock);
	return true;
}

/* ---- the interface ------------------------------------------------------ */

/*
 * Ready arenas.  Creating an arena costs two mappings, an mprotect, and
 * on first use two more mprotects and a page fault per page touched; on a
 * paravirtualised host each of these takes 6-25 us, most of an isolate's
 * start.  So an arena that was lightly used (at most HP_POOL_TOP pages
 * ever handed out) is not unmapped at destroy but wiped and kept for the
 * next create of the same limit: every page it handed out is zeroed with
 * memset (it stays resident), everything committed above that is given
 * back with MADV_DONTNEED (zero on next touch), and the bookkeeping is
 * reset to that of a new arena.  The next owner therefore sees exactly
 * what a fresh arena shows: zeroed memory and the same limit.  At most
 * HP_POOL arenas wait, holding at most HP_POOL_TOP pages each.
 */
#define HP_POOL		4
#define HP_POOL_TOP	HP_COMMIT_STEP
static pthread_mutex_t hp_pool_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	struct krk_heap *h;
	bool huge;			/* what create was asked for */
} hp_pool[HP_POOL];
static unsigned hp_npool;

/* A ready arena of this limit, or NULL. */
static struct krk_heap *
hp_pool_take(uint64_t limit, bool huge)
{
	struct krk_heap *h = NULL;
	pthread_mutex_lock(&hp_pool_lock);
	for (unsigned i = 0; i < hp_npool; i++) {
		if (hp_pool[i].h->limit == limit && hp_pool[i].huge == huge) {
			h = hp_pool[i].h;
			hp_pool[i] = hp_pool[--hp_npool];
			break;
		}
	}
	pthread_mutex_unlock(&hp_pool_lock);
	return h;
}

int
krk_heap_create(uint64_t limit, bool huge, struct krk_heap **hp)
{
	*hp = NULL;
	if (limit == 0 || limit > ((uint64_t)HP_MAX_PAGES << HP_PAGE_SHIFT) / 2)
		return EINVAL;
	pthread_once(&hp_cls_once, hp_cls_init);
	if ((*hp = hp_pool_take(limit, huge)) != NULL)
		return 0;

	char note[sizeof(((struct krk_heap *)0)->note)] = "";
	size_t mapsize = 0;
	char *base = MAP_FAILED;
	bool got_huge = false;

	/* Address space for the limit plus an eighth: room for the
	 * fragmentation of a full arena (partly used spans, a run between
	 * two live blocks), so that a request within the limit rarely fails
	 * for want of a place. */
	uint64_t span = limit + limit / 8 + (HP_COMMIT_STEP << HP_PAGE_SHIFT);
	if (huge) {
		mapsize = (size_t)((span + HP_HUGE - 1) & ~(uint64_t)(HP_HUGE - 1));
		/* Without MAP_NORESERVE the kernel reserves the huge pages
		 * now, so a short pool fails here, not later with SIGBUS. */
		base = mmap(NULL, mapsize, PROT_NONE, MAP_PRIVATE |
		    MAP_ANONYMOUS | MAP_HUGETLB | MAP_HUGE_2MB, -1, 0);
		if (base != MAP_FAILED) {
			got_huge = true;
			snprintf(note, sizeof(note), "%zu huge pages of 2 MiB",
			    mapsize / HP_HUGE);
		} else {
			int e = errno;
			long freepages = -1;
			FILE *f = fopen("/proc/meminfo", "r");
			char line[128];
			while (f != NULL && fgets(line, sizeof(line), f) != NULL)
				if (sscanf(line, "HugePages_Free: %ld",
				    &freepages) == 1)
					break;
			if (f != NULL)
				fclose(f);
			snprintf(note, sizeof(note), "4 KiB pages: %zu MiB of "
			    "2 MiB huge pages not available (%s; "
			    "HugePages_Free %ld in /proc/meminfo)",
			    mapsize >> 20, strerror(e), freepages);
		}
	} else
		snprintf(note, sizeof(note), "4 KiB pages (huge pages not "
		    "asked for)");
	if (base == MAP_FAILED) {
		mapsize = (size_t)((span + HP_PAGE - 1) & ~(uint64_t)(HP_PAGE - 1));
		base = mmap(NULL, mapsize, PROT_NONE, MAP_PRIVATE |
		    MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (base == MAP_FAILED)
			return ENOMEM;
		if (huge && madvise(base, mapsize, MADV_HUGEPAGE) == 0)
			strncat(note, ", transparent huge pages advised",
			    sizeof(note) - strlen(note) - 1);
	}

	uint32_t npages = (uint32_t)(mapsize >> HP_PAGE_SHIFT);
	size_t hdr = (sizeof(struct krk_heap) + 63) & ~(size_t)63;
	size_t metasize = HP_PAGE + ((hdr + (size_t)npages *
	    sizeof(struct hp_page) + HP_PAGE - 1) & ~(HP_PAGE - 1)) + HP_PAGE;
	char *meta = mmap(NULL, metasize, PROT_NONE, MAP_PRIVATE |
	    MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (meta == MAP_FAILED) {
		munmap(base, mapsize);
		return ENOMEM;
	}
	/* A guard page on each side: the structure is never next to
	 * writable memory of another mapping. */
	size_t first = (hdr + HP_PAGE - 1) & ~(HP_PAGE - 1);
	if (mprotect(meta + HP_PAGE, first, PROT_READ | PROT_WRITE) != 0) {
		munmap(meta, metasize);
		munmap(base, mapsize);
		return ENOMEM;
	}
	struct krk_heap *h = (struct krk_heap *)(meta + HP_PAGE);
	int err = pthread_mutex_init(&h->lock, NULL);
	if (err != 0) {
		munmap(meta, metasize);
		munmap(base, mapsize);
		return err;
	}
	h->top = h->committed = 0;
	for (unsigned c = 0; c < HP_NCLASS; c++)
		h->cls_head[c] = HP_NIL;
	for (unsigned b = 0; b < HP_NBIN; b++)
		h->bin[b] = HP_NIL;
	h->base = base;
	h->mapsize = mapsize;
	h->npages = npages;
	h->commit_step = got_huge ? (uint32_t)(HP_HUGE >> HP_PAGE_SHIFT) :
	    HP_COMMIT_STEP;
	h->limit = limit;
	h->asked_huge = huge;
	h->huge = got_huge;
	h->pg = (struct hp_page *)(meta + HP_PAGE + hdr);
	h->meta = meta;
	h->metasize = metasize;
	memcpy(h->note, note, sizeof(h->note));
	*hp = h;
	return 0;
}

/* Wipe h into the state of a new arena and keep it, if it qualifies and
 * there is room; false: the caller unmaps it.  No thread uses h. */
static bool
hp_pool_put(struct krk_heap *h)
{
	if (h->top > HP_POOL_TOP || h->huge)
		return false;
	pthread_mutex_lock(&hp_pool_lock);
	bool room = hp_npool < HP_POOL;
	pthread_mutex_unlock(&hp_pool_lock);
	if (!room)
		return false;
	/* Handed-out pages: zeroed in place (resident, no fault for the
	 * next owner).  Committed pages above them were never handed out,
	 * but are writable: a stray write there must not survive either. */
	memset(h->base, 0, (size_t)h->top << HP_PAGE_SHIFT);
	if (h->committed > h->top && madvise(hp_addr(h, h->top),
	    (size_t)(h->committed - h->top) << HP_PAGE_SHIFT,
	    MADV_DONTNEED) != 0)
		return false;
	memset(h->pg, 0, (size_t)h->committed * sizeof(struct hp_page));
	h->top = 0;
	for (unsigned c = 0; c < HP_NCLASS; c++)
		h->cls_head[c] = HP_NIL;
	for (unsigned b = 0; b < HP_NBIN; b++)
		h->bin[b] = HP_NIL;
	memset(h->binmap, 0, sizeof(h->binmap));
	h->in_use = h->peak = h->failures = h->bad_frees = 0;
	h->fault = NULL;
	h->fault_arg = NULL;
	h->caches = NULL;
	pthread_mutex_lock(&hp_pool_lock);
	room = hp_npool < HP_POOL;
	if (room) {
		hp_pool[hp_npool].h = h;
		hp_pool[hp_npool].huge = h->asked_huge;
		hp_npool++;
	}
	pthread_mutex_unlock(&hp_pool_lock);
	return room;
}

void
krk_heap_destroy(struct krk_heap *h)
{
	if (h == NULL)
		return;
	char *base = h->base, *meta = h->meta;
	size_t mapsize = h->mapsize, metasize = h->metasize;

	/* Caches still bound here forget their blocks (their threads are
	 * not using this arena any more, or the caller is at fault). */
	pthread_mutex_lock(&hp_tc_lock);
	for (struct hp_tcache *tc = h->caches, *next; tc != NULL; tc = next) {
		next = tc->next;
		memset(tc->n, 0, sizeof(tc->n));
		HP_STORE(tc->cached, 0);
		tc->next = tc->prev = NULL;
		__atomic_store_n(&tc->h, NULL, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&hp_tc_lock);
	/* ASan keeps shadow state by address: clear it, or the next mapping
	 * here would inherit our poisoned free blocks. */
	HP_UNPOISON(base, (size_t)h->committed << HP_PAGE_SHIFT);
	if (hp_pool_put(h))
		return;
	pthread_mutex_destroy(&h->lock);
	munmap(base, mapsize);
	munmap(meta, metasize);
}

void
krk_heap_set_fault(struct krk_heap *h, krk_heap_fault_fn *fn, void *arg)
{
	pthread_mutex_lock(&h->lock);
	h->fault = fn;
	h->fault_arg = arg;
	pthread_mutex_unlock(&h->lock);
}

void *
krk_heap_alloc(struct krk_heap *h, size_t n)
{
	struct hp_tcache *tc = NULL;
	void *p;

	if (n <= HP_SMALL_MAX) {
		unsigned c = hp_class(n);
		if (c < HP_TC_NCLASS && (tc = hp_tc_get(h)) != NULL) {
			if (tc->n[c] == 0)
				hp_tc_refill(h, tc, c);
			if (tc->n[c] > 0)
				return hp_tc_pop(tc, h, c);
		}
	}
	for (int again = 0;; again++) {
		pthread_mutex_lock(&h->lock);
		if (n <= HP_SMALL_MAX)
			p = hp_small_locked(h, hp_class(n), true);
		else
			p = hp_large_locked(h, n, HP_PAGE);
		pthread_mutex_unlock(&h->lock);
		if (p != NULL || again || !hp_tc_giveback(h))
			return p;
	}
}

void *
krk_heap_calloc(struct krk_heap *h, size_t nmemb, size_t n)
{
	size_t total;

	if (__builtin_mul_overflow(nmemb, n, &total)) {
		pthread_mutex_lock(&h->lock);
		h->failures++;
		pthread_mutex_unlock(&h->lock);
		return NULL;
	}
	void *p = krk_heap_alloc(h, total);
	if (p != NULL)
		memset(p, 0, total);
	return p;
}

void *
krk_heap_memalign(struct krk_heap *h, size_t align, size_t n)
{
	void *p = NULL;

	if (align <= HP_ALIGN)
		return krk_heap_alloc(h, n);
	if ((align & (align - 1)) != 0) {
		/* glibc's memalign rounds up to a power of two. */
		if (align > (SIZE_MAX >> 1) + 1)
			align = 0;
		else
			align = (size_t)1 << (64 - __builtin_clzll(align));
	}
	for (int again = 0;; again++) {
		pthread_mutex_lock(&h->lock);
		if (align == 0 || align > h->mapsize) {
			h->failures++;
			again = 1;
		} else if (align <= HP_PAGE && n <= HP_SMALL_MAX) {
			/* A class whose size is a multiple of align has
			 * every slot aligned, spans being page-aligned; the
			 * powers of two are classes, so one is found. */
			unsigned c = hp_class(n > align ? n : align);
			while (hp_cls_size[c] & (align - 1))
				c++;
			p = hp_small_locked(h, c, true);
		} else
			p = hp_large_locked(h, n, align);
		pthread_mutex_unlock(&h->lock);
		if (p != NULL || again || !hp_tc_giveback(h))
			return p;
	}
}

void
krk_heap_free(struct krk_heap *h, void *p)
{
	struct hp_loc l;
	int err;

	if (p == NULL)
		return;
	struct hp_tcache *tc = hp_tc_get(h);
	if (tc != NULL && hp_tc_push(tc, h, p))
		return;
	pthread_mutex_lock(&h->lock);
	err = hp_find(h, p, true, &l);
	if (err == 0)
		err = hp_free_locked(h, &l);
	pthread_mutex_unlock(&h->lock);
	if (err != 0)
		hp_bad(h, "free", p, err);
}

/* hp_resize_large - change a large block in place: shrink by giving back
 * its tail, grow into a free run or top right after it.  Lock held. */
static bool
hp_resize_large(struct krk_heap *h, const struct hp_loc *l, size_t n)
{
	uint32_t hd = l->head, have = h->pg[hd].npages, need = hp_pages(n);

	if (need == have)
		return true;
	if (need < have) {
		HP_STORE(h->pg[hd].npages, need);
		hp_run_release(h, hd + need, have - need);
		h->in_use -= (uint64_t)(have - need) << HP_PAGE_SHIFT;
		return true;
	}
	uint32_t more = need - have, e = hd + have;
	if (n > h->limit || !hp_room(h, (uint64_t)more << HP_PAGE_SHIFT))
		return false;
	if (e == h->top) {
		if ((uint64_t)e + more > h->npages || hp_commit(h, e + more) != 0)
			return false;
		HP_STORE(h->top, h->top + more);
	} else if (h->pg[e].state == PG_FREE && h->pg[e].head == e &&
	    h->pg[e].npages >= more) {
		uint32_t m = h->pg[e].npages;
		hp_bin_remove(h, e);
		if (m > more)
			hp_free_run(h, e + more, m - more);
	} else
		return false;
	hp_charge(h, (uint64_t)more << HP_PAGE_SHIFT);
	HP_STORE(h->pg[hd].npages, need);
	for (uint32_t i = have; i < need; i++) {
		HP_STORE(h->pg[hd + i].head, hd);
		HP_STORE(h->pg[hd + i].state, PG_TAIL);
	}
	HP_UNPOISON(hp_addr(h, e), (size_t)more << HP_PAGE_SHIFT);
	return true;
}

void *
krk_heap_realloc(struct krk_heap *h, void *p, size_t n)
{
	struct hp_loc l;
	int err;

	if (p == NULL)
		return krk_heap_alloc(h, n);
	if (n == 0) {
		/* glibc: realloc(p, 0) frees p and returns NULL. */
		krk_heap_free(h, p);
		return NULL;
	}
	pthread_mutex_lock(&h->lock);
	err = hp_find(h, p, true, &l);
	if (err == 0) {
		bool inplace;
		if (l.small)
			inplace = n <= l.size && (n > l.size / 2 || l.size <= 16);
		else
			inplace = n > HP_SMALL_MAX && hp_resize_large(h, &l, n);
		if (inplace) {
			pthread_mutex_unlock(&h->lock);
			return p;
		}
	}
	pthread_mutex_unlock(&h->lock);
	if (err != 0) {
		hp_bad(h, "realloc", p, err);
		return NULL;
	}
	void *q = krk_heap_alloc(h, n);
	if (q == NULL) {
		if (n <= l.size)		/* a shrink that could not move */
			return p;
		return NULL;
	}
	memcpy(q, p, n < l.size ? n : l.size);
	krk_heap_free(h, p);
	return q;
}

size_t
krk_heap_usable(struct krk_heap *h, void *p)
{
	struct hp_loc l;
	int err;

	if (p == NULL)
		return 0;
	pthread_mutex_lock(&h->lock);
	err = hp_find(h, p, true, &l);
	pthread_mutex_unlock(&h->lock);
	return err == 0 ? l.size : 0;
}

bool
krk_heap_contains(const struct krk_heap *h, const void *p, size_t n)
{
	struct krk_heap *mh = (struct krk_heap *)h;	/* the lock only */
	struct hp_loc l;
	int err;

	pthread_mutex_lock(&mh->lock);
	err = hp_find(h, p, false, &l);
	pthread_mutex_unlock(&mh->lock);
	if (err != 0)
		return false;
	size_t off = (size_t)((const char *)p - l.start);
	return n <= l.size - off;
}

void
krk_heap_stats(const struct krk_heap *h, struct krk_heap_stats *st)
{
	struct krk_heap *mh = (struct krk_heap *)h;	/* the lock only */
	uint64_t cached = 0;

	pthread_mutex_lock(&hp_tc_lock);
	pthread_mutex_lock(&mh->lock);
	for (struct hp_tcache *tc = h->caches; tc != NULL; tc = tc->next)
		cached += HP_LOAD(tc->cached);
	pthread_mutex_unlock(&hp_tc_lock);
	st->limit = h->limit;
	st->in_use = h->in_use - cached;
	st->peak = h->peak;
	st->mapped = (uint64_t)h->committed << HP_PAGE_SHIFT;
	st->failures = h->failures;
	st->bad_frees = h->bad_frees;
	st->huge = h->huge;
	pthread_mutex_unlock(&mh->lock);
}

const char *
krk_heap_note(const struct krk_heap *h)
{
	return h->note;
}
