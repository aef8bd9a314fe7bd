/*
 * krk_pool.c - the isolate memory pool (memory.isolate_pool,
 * krank-deployment(5)): one region faulted in once at KRANK's start, from
 * which krank-ld takes the code and data of every isolate it loads
 * (kld_set_mem).  A start then copies, relocates and runs its object in
 * pages that are already present: no page fault, no mapping to publish
 * or populate; only the protections change (mprotect, W^X as for fresh
 * pages).  An object goes back at unload: made read+write again and
 * zeroed, then reused.  What does not fit gets fresh pages (counted).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>

#include "krank/kld.h"

#include "krk.h"

/*
 * Allocation is by runs of 16 KiB units in a bitmap, first fit from a
 * random unit (a load's place still says little about the next one's;
 * the entropy is log2 of the pool's units, 10 bits for 16 MiB, instead
 * of fresh mappings' 18).  Every run is one unit longer than the object:
 * that unit is never handed out with it, so an object's overrun lands in
 * zeroed memory of its own run, not in a neighbour (it is padding, not a
 * guard page: making it inaccessible would cost an mprotect per start).
 * pl_lock protects the bitmap and the counters; the memory of a run
 * belongs to its holder.
 */
#define PL_UNIT		(16u << 10)
#define PL_MIN		(64u << 10)
#define PL_SYNC		(512u << 10)	/* faulted in by krk_pool_init */
#define PL_STEP		(1u << 20)	/* then by the filler, a step at a time */

/* Set by krk_pool_defer_fill before init: the filler waits for
 * krk_pool_fill (krank starts it after ready). */
static bool pl_defer;
/* Set by krk_pool_sync_hint before init: bytes to fault in at init
 * (SIZE_MAX: PL_SYNC). */
static size_t pl_sync = SIZE_MAX;

static pthread_mutex_t pl_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	uint8_t *base;			/* NULL: no pool */
	size_t size;			/* bytes, a multiple of PL_UNIT */
	size_t nunits;
	size_t ready;			/* units faulted in so far: only these
					 * are handed out */
	pthread_t filler;		/* faults in the rest after start */
	bool filling, stop;
	uint64_t *used;			/* bitmap, one bit per unit */
	uint64_t rnd;			/* xorshift state for the first unit */
	bool thp;			/* transparent huge pages advised */
	char note[256];
	struct krk_pool_stats st;
} pl;

static bool
unit_used(size_t i)
{
	return (pl.used[i / 64] >> (i % 64)) & 1;
}

static void
units_mark(size_t from, size_t n, bool on)
{
	for (size_t i = from; i < from + n; i++) {
		if (on)
			pl.used[i / 64] |= 1ull << (i % 64);
		else
			pl.used[i / 64] &= ~(1ull << (i % 64));
	}
}

/* First run of n free units in [from, to), or SIZE_MAX. */
static size_t
run_find(size_t from, size_t to, size_t n)
{
	size_t run = 0;

	for (size_t i = from; i < to; i++) {
		if ((i % 64) == 0 && i + 64 <= to && pl.used[i / 64] == ~0ull) {
			run = 0;	/* a full word: skip it */
			i += 63;
			continue;
		}
		if (unit_used(i))
			run = 0;
		else if (++run == n)
			return i + 1 - n;
	}
	return SIZE_MAX;
}

static uint64_t
rnd_next(void)
{
	uint64_t x = pl.rnd;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return pl.rnd = x;
}

/* kld_mem.get: size bytes of zeroed, present, read+write pool memory. */
static void *
pool_get(void *arg, size_t size)
{
	size_t n = (size + PL_UNIT - 1) / PL_UNIT + 1;	/* + padding */
	size_t at = SIZE_MAX;

	(void)arg;
	pthread_mutex_lock(&pl_lock);
	size_t lim = pl.ready;
	if (n <= lim) {
		size_t start = (size_t)(rnd_next() % lim);

		at = run_find(start, lim, n);
		if (at == SIZE_MAX)
			at = run_find(0, start + n - 1 < lim ?
			    start + n - 1 : lim, n);
	}
	if (at == SIZE_MAX) {
		pl.st.fallbacks++;
		pthread_mutex_unlock(&pl_lock);
		return NULL;		/* krank-ld maps fresh pages */
	}
	units_mark(at, n, true);
	pl.st.takes++;
	pl.st.in_use += n * PL_UNIT;
	if (pl.st.in_use > pl.st.peak)
		pl.st.peak = pl.st.in_use;
	pthread_mutex_unlock(&pl_lock);
	return pl.base + at * PL_UNIT;
}

/*
 * kld_mem.put: the object is gone.  Its pages become read+write again
 * (one mprotect over the run; the pool's mapping merges back) and are
 * zeroed before the run is free: no later isolate sees this one's
 * bytes.  Runs at unload, not on a start's path.  Should the mprotect
 * fail (ENOMEM splitting the mapping), the run is never reused.
 */
static void
pool_put(void *arg, void *p, size_t size)
{
	size_t n = (size + PL_UNIT - 1) / PL_UNIT + 1;
	size_t at = (size_t)((uint8_t *)p - pl.base) / PL_UNIT;

	(void)arg;
	if (mprotect(p, n * PL_UNIT, PROT_READ | PROT_WRITE) != 0) {
		krk_log(KRK_LOG_WARN, "isolate pool: %zu bytes at %p cannot be "
		    "made writable again (%s); not reused", n * PL_UNIT, p,
		    strerror(errno));
		pthread_mutex_lock(&pl_lock);
		pl.st.lost += n * PL_UNIT;
		pthread_mutex_unlock(&pl_lock);
		return;
	}
	memset(p, 0, n * PL_UNIT);
	pthread_mutex_lock(&pl_lock);
	units_mark(at, n, false);
	pl.st.returns++;
	pl.st.in_use -= n * PL_UNIT;
	pthread_mutex_unlock(&pl_lock);
}

/* Write-fault [p, p+n).  Without MADV_POPULATE_WRITE (Linux < 5.14)
 * touch each page.  0 or ENOMEM. */
static int
populate(uint8_t *p, size_t n)
{
	if (madvise(p, n, MADV_POPULATE_WRITE) == 0)
		return 0;
	if (errno == ENOMEM)
		return ENOMEM;
	for (size_t o = 0; o < n; o += 4096)
		((volatile uint8_t *)p)[o] = 0;
	return 0;
}

/* The rest of the pool, PL_STEP at a time; each step's units become
 * available as soon as they are present. */
static void *
filler(void *arg)
{
	(void)arg;
	for (;;) {
		pthread_mutex_lock(&pl_lock);
		size_t from = pl.ready * PL_UNIT;
		bool stop = pl.stop || from >= pl.size;
		pthread_mutex_unlock(&pl_lock);
		if (stop)
			break;
		size_t n = pl.size - from < PL_STEP ? pl.size - from : PL_STEP;
		if (populate(pl.base + from, n) != 0) {
			krk_log(KRK_LOG_WARN, "isolate pool: only %zu of %zu "
			    "KiB faulted in (ENOMEM)", from >> 10, pl.size >> 10);
			break;
		}
		pthread_mutex_lock(&pl_lock);
		pl.ready += n / PL_UNIT;
		pthread_mutex_unlock(&pl_lock);
	}
	return NULL;
}

int
krk_pool_init(uint64_t size, bool huge)
{
	int e;

	if (pl.base != NULL)
		return EBUSY;
	if (size == 0) {
		snprintf(pl.note, sizeof(pl.note), "isolate pool: off "
		    "(memory.isolate_pool is 0)");
		return 0;
	}
	if (size < PL_MIN || size > (1ull << 30))
		return EINVAL;
	size = (size + PL_UNIT - 1) & ~(uint64_t)(PL_UNIT - 1);
	/* 2 MiB-aligned when huge pages are asked for: only whole aligned
	 * 2 MiB can be one. */
	size_t slack = huge ? (2u << 20) : 0;
	uint8_t *r = mmap(NULL, (size_t)size + slack, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (r == MAP_FAILED)
		return errno;
	uint8_t *b = r;
	if (slack) {
		b = (uint8_t *)(((uintptr_t)r + slack - 1) &
		    ~(uintptr_t)(slack - 1));
		if (b > r)
			munmap(r, (size_t)(b - r));
		if (b + size < r + size + slack)
			munmap(b + size, (size_t)(r + size + slack - (b + size)));
	}
	/*
	 * Transparent huge pages, not hugetlbfs: an object's code and data
	 * share 2 MiB, and W^X needs 4 KiB protections, which a hugetlbfs
	 * mapping refuses (mprotect EINVAL).  A transparent huge page is
	 * split into 4 KiB entries that stay present, but the first
	 * mprotect in each costs the split (~60 us measured on the build
	 * VM), and khugepaged may merge them again once the run is free:
	 * so only when the deployment says hugepages: yes.
	 */
	pl.thp = huge && madvise(b, (size_t)size, MADV_HUGEPAGE) == 0;
	/* Write-fault the first PL_SYNC bytes now, for the isolates of the
	 * boot; the filler thread does the rest (a page costs ~5-30 us on
	 * a paravirtualised host: 16 MiB would add ~100 ms to the boot). */
	size_t sync = size < PL_SYNC ? (size_t)size : PL_SYNC;
	if (pl_sync < sync)
		sync = pl_sync;
	if ((e = populate(b, sync)) != 0) {
		munmap(b, (size_t)size);
		return e;
	}
	/* A fork (a test's, a helper's) would share the pages copy-on-write
	 * and every later write here would fault again: children do not
	 * get the pool. */
	(void)madvise(b, (size_t)size, MADV_DONTFORK);
	pl.nunits = (size_t)(size / PL_UNIT);
	pl.used = calloc((pl.nunits + 63) / 64, sizeof(uint64_t));
	if (pl.used == NULL) {
		munmap(b, (size_t)size);
		return ENOMEM;
	}
	if (getrandom(&pl.rnd, sizeof(pl.rnd), GRND_NONBLOCK) !=
	    sizeof(pl.rnd) || pl.rnd == 0)
		pl.rnd = (uint64_t)(uintptr_t)b ^ 0x9e3779b97f4a7c15ull;
	pl.base = b;
	pl.size = (size_t)size;
	pl.ready = sync / PL_UNIT;
	pl.stop = false;
	if (!pl_defer)
		krk_pool_fill();
	memset(&pl.st, 0, sizeof(pl.st));
	pl.st.size = size;
	pl.st.thp = pl.thp;
	snprintf(pl.note, sizeof(pl.note), "isolate pool: %" PRIu64 " KiB "
	    "for isolate code and data, %zu KiB faulted in now%s (%s)",
	    size >> 10, sync >> 10, sync == size ? "" : pl_defer ?
	    ", the rest in the background once booted" : ", the rest in "
	    "the background", pl.thp ? "transparent huge pages advised" :
	    huge ? "4 KiB pages: transparent huge pages not available" :
	    "4 KiB pages: W^X splits huge ones; hugepages: yes advises "
	    "transparent ones");
	struct kld_mem m = { pool_get, pool_put, NULL };
	kld_set_mem(&m);
	return 0;
}

void
krk_pool_use(bool on)
{
	struct kld_mem m = { pool_get, pool_put, NULL };

	kld_set_mem(on && pl.base != NULL ? &m : NULL);
}

void
krk_pool_sync_hint(uint64_t bytes, unsigned nobjects)
{
	/* Each object's run has a padding unit; and as runs start at a
	 * random unit, twice that keeps the boot's objects from failing
	 * to fit for fragmentation (they would only get fresh pages). */
	uint64_t units = (bytes + PL_UNIT - 1) / PL_UNIT + nobjects;
	pl_sync = units * 2 * PL_UNIT < PL_SYNC ? (size_t)(units * 2 *
	    PL_UNIT) : PL_SYNC;
}

void
krk_pool_defer_fill(bool defer)
{
	pl_defer = defer;
}

void
krk_pool_fill(void)
{
	size_t from = pl.ready * PL_UNIT;

	if (pl.base == NULL || pl.filling || from >= pl.size)
		return;
	pl.filling = pthread_create(&pl.filler, NULL, filler, NULL) == 0;
	if (pl.filling)
		return;
	/* No thread: in this one. */
	int e = populate(pl.base + from, pl.size - from);
	if (e != 0)
		krk_log(KRK_LOG_WARN, "isolate pool: faulting in: %s",
		    strerror(e));
	pthread_mutex_lock(&pl_lock);
	pl.ready = pl.nunits;
	pthread_mutex_unlock(&pl_lock);
}

void
krk_pool_fini(void)
{
	bool idle;

	pthread_mutex_lock(&pl_lock);
	idle = pl.st.in_use == 0;
	pthread_mutex_unlock(&pl_lock);
	if (pl.base == NULL || !idle)
		return;			/* objects still live: keep it */
	if (pl.filling) {
		pthread_mutex_lock(&pl_lock);
		pl.stop = true;
		pthread_mutex_unlock(&pl_lock);
		pthread_join(pl.filler, NULL);
		pl.filling = false;
	}
	kld_set_mem(NULL);
	munmap(pl.base, pl.size);
	free(pl.used);
	pl.base = NULL;
	pl.used = NULL;
	pl.size = pl.nunits = 0;
}

void
krk_pool_stats(struct krk_pool_stats *st)
{
	pthread_mutex_lock(&pl_lock);
	*st = pl.st;
	st->ready = pl.ready * PL_UNIT;
	pthread_mutex_unlock(&pl_lock);
}

const char *
krk_pool_note(void)
{
	return pl.note[0] ? pl.note : "isolate pool: not set up";
}
