/*
 * kern_kmem.c - kmem_alloc: power-of-two size classes (16 B .. 4 KiB) with a
 * per-CPU magazine per class in front of a global depot, refilled from 64 KiB
 * slabs of hypercall memory.  Slab memory is kept for reuse and never given
 * back to the host (bounded by the peak use).  Larger requests go straight
 * to rumpuser_malloc; above KMEM_WAIT_MAX they never wait and above
 * KMEM_SIZE_MAX they fail (kern.h).
 */
#include <string.h>

#include "kern/kern_int.h"

#define KMEM_MINSHIFT	4
#define KMEM_MAXSHIFT	12
#define KMEM_NCLASS	(KMEM_MAXSHIFT - KMEM_MINSHIFT + 1)
#define KMEM_MAG	64		/* objects a CPU keeps per class */
#define KMEM_SLAB	(64 * 1024)

struct kmem_free {
	struct kmem_free *next;
};

/* One CPU's cache: the lock guards against other threads on the same vCPU. */
struct kmem_pcpu {
	kspin_t lock;			/* protects head, count */
	struct kmem_free *head[KMEM_NCLASS];
	unsigned count[KMEM_NCLASS];
} __attribute__((aligned(64)));

static struct kmem_pcpu kmem_cpu[MAXCPUS];

/* Global depot: depot_lock protects depot_head and the carving state.
 * A class's current slab is carved KMEM_MAG / 2 objects at a time, not
 * whole: carving writes into every object, and a whole 64 KiB slab per
 * class faulted in 16 pages that boot mostly never used (each first
 * touch of a page is a fault -- in a VM two -- and resident memory). */
static kspin_t depot_lock;
static struct kmem_free *depot_head[KMEM_NCLASS];
static char *carve_slab[KMEM_NCLASS];
static size_t carve_off[KMEM_NCLASS];

static uint64_t kmem_nrefused;		/* atomic */

uint64_t
kmem_refused(void)
{
	return __atomic_load_n(&kmem_nrefused, __ATOMIC_RELAXED);
}

static unsigned
kmem_class(size_t len)
{
	unsigned shift = KMEM_MINSHIFT;
	while (((size_t)1 << shift) < len)
		shift++;
	return shift - KMEM_MINSHIFT;
}

void
kern_kmem_init(void)
{
}

/* Refill: take half a magazine from the depot, else carve as much from
 * the class's current slab, else get a new slab (outside the lock). */
static struct kmem_free *
kmem_refill(unsigned cls, int flags, unsigned *countp)
{
	size_t osz = (size_t)1 << (cls + KMEM_MINSHIFT);
	struct kmem_free *list = NULL, *f;
	unsigned n = 0;
	void *slab, *fresh = NULL;
	/* At most a page's worth per carving (and at least one object). */
	unsigned carve_max = osz >= 4096 ? 1 : (unsigned)(4096 / osz);

	if (carve_max > KMEM_MAG / 2)
		carve_max = KMEM_MAG / 2;

	for (;;) {
		kspin_enter(&depot_lock);
		while (n < KMEM_MAG / 2 && (f = depot_head[cls]) != NULL) {
			depot_head[cls] = f->next;
			f->next = list;
			list = f;
			n++;
		}
		if (n == 0 && carve_slab[cls] != NULL &&
		    carve_off[cls] + osz > KMEM_SLAB)
			carve_slab[cls] = NULL;	/* used up */
		if (n == 0 && carve_slab[cls] == NULL && fresh != NULL) {
			carve_slab[cls] = fresh;
			carve_off[cls] = 0;
			fresh = NULL;
		}
		while (n < carve_max && carve_slab[cls] != NULL &&
		    carve_off[cls] + osz <= KMEM_SLAB) {
			f = (struct kmem_free *)(carve_slab[cls] +
			    carve_off[cls]);
			carve_off[cls] += osz;
			f->next = list;
			list = f;
			n++;
		}
		kspin_exit(&depot_lock);
		if (n > 0) {
			/* Another thread refilled the class meanwhile: our
			 * slab is not needed (and was never touched). */
			if (fresh != NULL)
				rumpuser_free(fresh, KMEM_SLAB);
			break;
		}
		while (rumpuser_malloc(KMEM_SLAB, 64, &slab) != 0) {
			if (flags & KM_NOSLEEP)
				return NULL;
			rumpuser_clock_sleep(RUMPUSER_CLOCK_RELWALL, 0, 1000000);
		}
		fresh = slab;
	}
	*countp = n;
	return list;
}

/*
 * KMEM_DIRECT (sanitizer builds): every allocation goes to the hypercall
 * allocator on its own, so AddressSanitizer sees each buffer's bounds.
 */
#ifdef KMEM_DIRECT
#define KMEM_CACHED_MAX 0
#else
#define KMEM_CACHED_MAX ((size_t)1 << KMEM_MAXSHIFT)
#endif

void *
kmem_alloc(size_t len, int flags)
{
	void *p;

	if (len == 0)
		len = 1;
	if (len > KMEM_SIZE_MAX) {
		__atomic_fetch_add(&kmem_nrefused, 1, __ATOMIC_RELAXED);
		return NULL;
	}
	if (len > KMEM_CACHED_MAX) {
		for (;;) {
			if (rumpuser_malloc(len, 64, &p) == 0)
				return p;
			if (len > KMEM_WAIT_MAX)
				__atomic_fetch_add(&kmem_nrefused, 1,
				    __ATOMIC_RELAXED);
			if ((flags & KM_NOSLEEP) || len > KMEM_WAIT_MAX)
				return NULL;
			rumpuser_clock_sleep(RUMPUSER_CLOCK_RELWALL, 0, 1000000);
		}
	}
	unsigned cls = kmem_class(len);
	struct kmem_pcpu *pc = &kmem_cpu[cpu_index_cur()];
	kspin_enter(&pc->lock);
	struct kmem_free *f = pc->head[cls];
	if (f != NULL) {
		pc->head[cls] = f->next;
		pc->count[cls]--;
		kspin_exit(&pc->lock);
		return f;
	}
	kspin_exit(&pc->lock);

	unsigned n;
	struct kmem_free *list = kmem_refill(cls, flags, &n);
	if (list == NULL)
		return NULL;
	f = list;
	list = list->next;
	n--;
	if (list != NULL) {
		struct kmem_free *tail = list;
		while (tail->next != NULL)
			tail = tail->next;
		kspin_enter(&pc->lock);
		tail->next = pc->head[cls];
		pc->head[cls] = list;
		pc->count[cls] += n;
		kspin_exit(&pc->lock);
	}
	return f;
}

void *
kmem_zalloc(size_t len, int flags)
{
	void *p = kmem_alloc(len, flags);
	if (p != NULL)
		memset(p, 0, len);
	return p;
}

void *
kmem_alloc_aligned(size_t len, size_t align)
{
	void *p;

	if (align == 0 || (align & (align - 1)) != 0 || align > 65536)
		return NULL;
	if (len > KMEM_SIZE_MAX || rumpuser_malloc(len ? len : 1, (int)align,
	    &p) != 0) {
		__atomic_fetch_add(&kmem_nrefused, 1, __ATOMIC_RELAXED);
		return NULL;
	}
	return p;
}

void
kmem_free_aligned(void *p, size_t len)
{
	if (p != NULL)
		rumpuser_free(p, len ? len : 1);
}

void
kmem_free(void *p, size_t len)
{
	if (p == NULL)
		return;
	if (len == 0)
		len = 1;
	if (len > KMEM_CACHED_MAX) {
		rumpuser_free(p, len);
		return;
	}
	unsigned cls = kmem_class(len);
	struct kmem_pcpu *pc = &kmem_cpu[cpu_index_cur()];
	struct kmem_free *f = p, *spill = NULL;

	kspin_enter(&pc->lock);
	f->next = pc->head[cls];
	pc->head[cls] = f;
	if (++pc->count[cls] > KMEM_MAG) {
		/* Spill half of the magazine to the depot. */
		struct kmem_free *last = pc->head[cls];
		for (unsigned i = 1; i < KMEM_MAG / 2; i++)
			last = last->next;
		spill = pc->head[cls];
		pc->head[cls] = last->next;
		last->next = NULL;
		pc->count[cls] -= KMEM_MAG / 2;
	}
	kspin_exit(&pc->lock);
	if (spill != NULL) {
		struct kmem_free *tail = spill;
		while (tail->next != NULL)
			tail = tail->next;
		kspin_enter(&depot_lock);
		tail->next = depot_head[cls];
		depot_head[cls] = spill;
		kspin_exit(&depot_lock);
	}
}

char *
kmem_strndup(const char *s, size_t n, int flags)
{
	size_t len = strnlen(s, n);
	char *d = kmem_alloc(len + 1, flags);
	if (d != NULL) {
		memcpy(d, s, len);
		d[len] = '\0';
	}
	return d;
}

char *
kmem_strdup(const char *s, int flags)
{
	size_t len = strlen(s);
	char *d = kmem_alloc(len + 1, flags);
	if (d != NULL)
		memcpy(d, s, len + 1);
	return d;
}

void
kmem_strfree(char *s)
{
	if (s != NULL)
		kmem_free(s, strlen(s) + 1);
}
