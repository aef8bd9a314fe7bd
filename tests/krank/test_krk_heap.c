/*
 * test_krk_heap.c - the isolate heap arenas (krank/krk_heap.c): a
 * randomized model test with patterns, limit enforcement, alignment,
 * calloc overflow, realloc, usable sizes, contains, refused frees, threads
 * and destroy with live blocks.  Built twice: plain and under ASan+UBSan.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "krk.h"

static int nfail;

#define CHECK(cond, ...) do {						\
	if (!(cond)) {							\
		nfail++;						\
		fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__,	\
		    #cond);						\
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
	}								\
} while (0)

#define MIB	((uint64_t)1 << 20)

/* TSan runs about twenty times slower: a quarter of the work there. */
#if defined(__SANITIZE_THREAD__)
#define WORK(n)	((n) / 4)
#else
#define WORK(n)	(n)
#endif

/* A small, seedable generator: runs are reproducible from the seed. */
static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void
fill(void *p, size_t n, uint64_t tag)
{
	unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		b[i] = (unsigned char)(tag + i * 131 + (i >> 8));
}

static bool
same(const void *p, size_t n, uint64_t tag)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		if (b[i] != (unsigned char)(tag + i * 131 + (i >> 8)))
			return false;
	return true;
}

static uint64_t
in_use(struct krk_heap *h)
{
	struct krk_heap_stats st;
	krk_heap_stats(h, &st);
	return st.in_use;
}

/* A request size: mostly small, some medium, a few large. */
static size_t
rnd_size(uint64_t *s)
{
	uint64_t r = rnd(s) % 100;
	if (r < 70)
		return rnd(s) % 513;
	if (r < 93)
		return rnd(s) % 16385;
	return 16385 + rnd(s) % (300 * 1024);
}

struct blk {
	char *p;
	size_t n;
	uint64_t tag;
};

static int fault_err, fault_n;

static void
on_fault(void *arg, const char *op, const void *p, int err, const char *why)
{
	(void)arg;
	(void)op;
	(void)p;
	(void)why;
	fault_err = err;
	fault_n++;
}

/* stray_free - free an address near a live block that is the start of
 * no live block: it must be refused and change nothing. */
static unsigned
stray_free(struct krk_heap *h, struct blk *b, unsigned nb, uint64_t *s)
{
	struct blk *x = &b[rnd(s) % nb];
	if (x->p == NULL)
		return 0;
	char *q = x->p + (int64_t)(rnd(s) % (2 << 20)) - (1 << 20);
	if (rnd(s) & 1)
		q = (char *)((uintptr_t)q & ~(uintptr_t)15);
	for (unsigned i = 0; i < nb; i++)
		if (b[i].p == q)
			return 0;
	uint64_t before = in_use(h);
	int n0 = fault_n;
	krk_heap_free(h, q);
	CHECK(fault_n == n0 + 1 && in_use(h) == before, "stray free of %p "
	    "(near %p) refused", (void *)q, (void *)x->p);
	return 1;
}

static void
test_model(void)
{
	enum { NSLOT = 2000, NOPS = WORK(60000) };
	static struct blk b[NSLOT];
	struct krk_heap *h;
	uint64_t s = 0x9e3779b97f4a7c15ULL, model = 0;
	unsigned nalloc = 0, nreal = 0, nfree = 0, nstray = 0;

	CHECK(krk_heap_create(256 * MIB, false, &h) == 0, "create");
	krk_heap_set_fault(h, on_fault, NULL);
	memset(b, 0, sizeof(b));
	for (unsigned op = 0; op < NOPS; op++) {
		if (op % 8 == 0)
			nstray += stray_free(h, b, NSLOT, &s);
		struct blk *x = &b[rnd(&s) % NSLOT];
		unsigned kind = (unsigned)(rnd(&s) % 10);
		if (x->p == NULL) {
			size_t n = rnd_size(&s), align = 0;
			if (kind == 0)
				x->p = krk_heap_calloc(h, 1, n);
			else if (kind == 1) {
				align = (size_t)32 << (rnd(&s) % 12);
				x->p = krk_heap_memalign(h, align, n);
			} else
				x->p = krk_heap_alloc(h, n);
			CHECK(x->p != NULL, "alloc %zu", n);
			if (x->p == NULL)
				continue;
			CHECK(((uintptr_t)x->p & 15) == 0, "%p aligned", x->p);
			if (align)
				CHECK(((uintptr_t)x->p & (align - 1)) == 0,
				    "%p aligned to %zu", x->p, align);
			if (kind == 0)
				for (size_t i = 0; i < n; i++)
					if (x->p[i] != 0) {
						CHECK(0, "calloc byte %zu", i);
						break;
					}
			size_t u = krk_heap_usable(h, x->p);
			size_t want = align > n ? align : n;
			CHECK(u >= n && u <= (want < 16 ? 16 : want + want / 4 +
			    4096), "usable %zu for %zu (align %zu)", u, n, align);
			model += u;
			x->n = n;
			x->tag = rnd(&s);
			fill(x->p, n, x->tag);
			nalloc++;
		} else if (kind < 4) {
			size_t n = rnd_size(&s) + 1, u0 = krk_heap_usable(h, x->p);
			char *q = krk_heap_realloc(h, x->p, n);
			CHECK(q != NULL, "realloc to %zu", n);
			if (q == NULL)
				continue;
			size_t keep = n < x->n ? n : x->n;
			CHECK(same(q, keep, x->tag), "realloc %zu->%zu kept "
			    "contents", x->n, n);
			model += krk_heap_usable(h, q) - u0;
			x->p = q;
			x->n = n;
			x->tag = rnd(&s);
			fill(x->p, n, x->tag);
			nreal++;
		} else {
			CHECK(same(x->p, x->n, x->tag), "contents of %zu at "
			    "free", x->n);
			CHECK(krk_heap_contains(h, x->p, x->n), "contains");
			model -= krk_heap_usable(h, x->p);
			krk_heap_free(h, x->p);
			x->p = NULL;
			nfree++;
		}
		if (op % 1000 == 0)
			CHECK(in_use(h) == model, "in_use %" PRIu64 " model %"
			    PRIu64 " at op %u", in_use(h), model, op);
	}
	CHECK(in_use(h) == model, "in_use matches the model at the end");
	for (unsigned i = 0; i < NSLOT; i++)
		if (b[i].p != NULL) {
			CHECK(same(b[i].p, b[i].n, b[i].tag), "final contents");
			krk_heap_free(h, b[i].p);
		}
	struct krk_heap_stats st;
	krk_heap_stats(h, &st);
	CHECK(st.in_use == 0, "in_use %" PRIu64 " after freeing all",
	    st.in_use);
	CHECK(st.failures == 0 && st.bad_frees == nstray, "no failures, %u "
	    "stray frees refused (%" PRIu64 ")", nstray, st.bad_frees);
	CHECK(st.mapped <= 256 * MIB && st.peak <= st.mapped, "peak %" PRIu64
	    " mapped %" PRIu64, st.peak, st.mapped);
	printf("ok: model: %u allocs, %u reallocs, %u frees, %u stray frees "
	    "refused, patterns and in_use agree (peak %" PRIu64 " KiB, mapped %"
	    PRIu64 " KiB)\n", nalloc, nreal, nfree, nstray, st.peak >> 10,
	    st.mapped >> 10);
	krk_heap_destroy(h);
}

static void
test_limit(void)
{
	struct krk_heap *h;
	static void *v[2048];
	unsigned n = 0;

	CHECK(krk_heap_create(MIB, false, &h) == 0, "create 1 MiB");
	errno = 0;
	while (n < 2048 && (v[n] = krk_heap_alloc(h, 1024)) != NULL)
		n++;
	CHECK(errno == 0, "host errno untouched (%d)", errno);
	CHECK(n == 1024, "1024 blocks of 1 KiB fit in 1 MiB, got %u", n);
	struct krk_heap_stats st;
	krk_heap_stats(h, &st);
	CHECK(st.in_use == MIB && st.failures == 1, "in_use %" PRIu64
	    " failures %" PRIu64, st.in_use, st.failures);
	CHECK(krk_heap_alloc(h, 1) == NULL, "no room for one byte");
	krk_heap_free(h, v[100]);
	v[100] = krk_heap_alloc(h, 1000);
	CHECK(v[100] != NULL, "a free makes room again");
	for (unsigned i = 0; i < n; i++)
		krk_heap_free(h, v[i]);
	CHECK(in_use(h) == 0, "all freed");

	/* Large blocks, and the freed small spans reused for them. */
	void *a = krk_heap_alloc(h, 512 * 1024), *b = krk_heap_alloc(h,
	    512 * 1024);
	CHECK(a != NULL && b != NULL, "two halves of the limit");
	CHECK(krk_heap_alloc(h, 20000) == NULL, "a third block refused");
	krk_heap_free(h, a);
	a = krk_heap_alloc(h, 300 * 1024);
	CHECK(a != NULL, "room again after a free");
	CHECK(krk_heap_alloc(h, MIB + 1) == NULL, "more than the limit");
	CHECK(krk_heap_alloc(h, SIZE_MAX) == NULL, "SIZE_MAX");
	CHECK(krk_heap_memalign(h, (size_t)1 << 40, 16) == NULL,
	    "alignment beyond the arena");
	krk_heap_free(h, a);
	krk_heap_free(h, b);
	krk_heap_stats(h, &st);
	CHECK(st.in_use == 0 && st.mapped <= MIB + MIB / 8 + 256 * 1024,
	    "mapped %" PRIu64 " within the reservation", st.mapped);
	printf("ok: limit: 1 MiB holds 1024 x 1 KiB or 2 x 512 KiB and no "
	    "more, frees make room, %" PRIu64 " refusals counted, host errno "
	    "untouched\n", st.failures);
	krk_heap_destroy(h);
	CHECK(krk_heap_create(0, false, &h) == EINVAL, "limit 0: EINVAL");
}

static void
test_align_calloc_zero(void)
{
	struct krk_heap *h;

	CHECK(krk_heap_create(64 * MIB, false, &h) == 0, "create");
	for (size_t al = 1; al <= 4 * MIB; al <<= 1)
		for (size_t n = 0; n < 70000; n = n * 3 + 1) {
			char *p = krk_heap_memalign(h, al, n);
			CHECK(p != NULL && ((uintptr_t)p & (al - 1)) == 0 &&
			    ((uintptr_t)p & 15) == 0, "memalign(%zu, %zu) = %p",
			    al, n, (void *)p);
			if (p == NULL)
				continue;
			CHECK(krk_heap_usable(h, p) >= n, "usable");
			memset(p, 0x5a, n);
			krk_heap_free(h, p);
		}
	char *p = krk_heap_memalign(h, 24, 10);
	CHECK(p != NULL && ((uintptr_t)p & 31) == 0, "align 24 rounds to 32");
	krk_heap_free(h, p);
	CHECK(in_use(h) == 0, "memalign leaves nothing behind");

	CHECK(krk_heap_calloc(h, SIZE_MAX / 2, 3) == NULL, "calloc overflow");
	CHECK(krk_heap_calloc(h, (size_t)1 << 33, (size_t)1 << 33) == NULL,
	    "calloc 2^66");
	p = krk_heap_alloc(h, 3000);
	memset(p, 0xaa, 3000);
	krk_heap_free(h, p);
	p = krk_heap_calloc(h, 30, 100);
	bool zero = p != NULL;
	for (size_t i = 0; zero && i < 3000; i++)
		zero = p[i] == 0;
	CHECK(zero, "calloc zeroes a reused block");
	krk_heap_free(h, p);

	char *z1 = krk_heap_alloc(h, 0), *z2 = krk_heap_alloc(h, 0);
	CHECK(z1 && z2 && z1 != z2, "alloc(0) gives unique blocks");
	CHECK(krk_heap_usable(h, z1) == 16, "alloc(0) usable 16");
	krk_heap_free(h, z1);
	krk_heap_free(h, z2);
	krk_heap_free(h, NULL);
	CHECK(krk_heap_usable(h, NULL) == 0, "usable(NULL)");
	printf("ok: memalign 1..4 MiB aligned, non-power-of-two align rounds "
	    "up, calloc overflow NULL and zeroing, alloc(0) unique\n");
	krk_heap_destroy(h);
}

static void
test_realloc(void)
{
	struct krk_heap *h;
	size_t sizes[] = { 1, 40, 200, 5000, 16384, 16385, 70000, 1 << 20,
	    3 << 20, 100000, 20000, 9000, 100, 7, 64 << 10, 64 << 10 };
	char *p = NULL;
	size_t have = 0;

	CHECK(krk_heap_create(64 * MIB, false, &h) == 0, "create");
	CHECK((p = krk_heap_realloc(h, NULL, 10)) != NULL, "realloc(NULL)");
	have = 10;
	fill(p, have, 7);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char *q = krk_heap_realloc(h, p, sizes[i]);
		size_t keep = have < sizes[i] ? have : sizes[i];
		CHECK(q != NULL && same(q, keep, 7), "realloc %zu -> %zu "
		    "keeps %zu bytes", have, sizes[i], keep);
		if (q == NULL)
			break;
		CHECK(in_use(h) == krk_heap_usable(h, q), "in_use follows");
		p = q;
		have = sizes[i];
		fill(p, have, 7);
	}
	/* A large block grows in place when the pages after it are free. */
	char *a = krk_heap_alloc(h, 100000);
	char *g = krk_heap_realloc(h, a, 400000);
	CHECK(g == a, "growth in place");
	CHECK(krk_heap_realloc(h, g, 30000) == g, "shrink in place");
	krk_heap_free(h, g);
	CHECK(krk_heap_realloc(h, p, 0) == NULL, "realloc(p, 0) frees");
	CHECK(in_use(h) == 0, "nothing left");
	printf("ok: realloc across small and large sizes keeps contents, "
	    "grows and shrinks large blocks in place, realloc(p, 0) frees\n");
	krk_heap_destroy(h);
}

static void
test_bad_pointers(void)
{
	struct krk_heap *h;
	int local;

	CHECK(krk_heap_create(16 * MIB, false, &h) == 0, "create");
	krk_heap_set_fault(h, on_fault, NULL);
	fault_n = 0;
	char *p = krk_heap_alloc(h, 100), *q = krk_heap_alloc(h, 100);
	char *big = krk_heap_alloc(h, 200000);
	fill(q, 100, 3);
	uint64_t before = in_use(h);

	krk_heap_free(h, &local);
	CHECK(fault_err == EFAULT, "free of a stack address: EFAULT (%d)",
	    fault_err);
	krk_heap_free(h, p + 8);
	CHECK(fault_err == EINVAL, "misaligned free: EINVAL (%d)", fault_err);
	krk_heap_free(h, p + 16);
	CHECK(fault_err == EINVAL, "interior free: EINVAL (%d)", fault_err);
	krk_heap_free(h, big + 4096);
	CHECK(fault_err == EINVAL, "free inside a large block: EINVAL (%d)",
	    fault_err);
	CHECK(in_use(h) == before, "refused frees change nothing");
	krk_heap_free(h, p);
	krk_heap_free(h, p);
	CHECK(fault_err == EALREADY, "double free: EALREADY (%d)", fault_err);
	krk_heap_free(h, big);
	krk_heap_free(h, big);
	CHECK(fault_err == EALREADY, "large double free: EALREADY (%d)",
	    fault_err);
	CHECK(krk_heap_realloc(h, p, 50) == NULL && fault_err == EALREADY,
	    "realloc of a freed block refused");
	CHECK(krk_heap_usable(h, p) == 0 && !krk_heap_contains(h, p, 1),
	    "a freed block is neither usable nor contained");
	CHECK(krk_heap_contains(h, q, 100) && krk_heap_contains(h, q + 50, 10)
	    && !krk_heap_contains(h, q + 50, 100) &&
	    !krk_heap_contains(h, &local, 1), "contains");
	CHECK(same(q, 100, 3), "the neighbour is intact");
	/* The arena still works, and the two reused slots are distinct. */
	char *r = krk_heap_alloc(h, 100), *s = krk_heap_alloc(h, 100);
	CHECK(r != NULL && s != NULL && r != s && r != q && s != q,
	    "allocation after refused frees");
	struct krk_heap_stats st;
	krk_heap_stats(h, &st);
	CHECK(st.bad_frees == 7 && fault_n == 7, "7 refusals counted (%"
	    PRIu64 ", %d)", st.bad_frees, fault_n);
	printf("ok: refused: outside (EFAULT), misaligned and interior "
	    "(EINVAL), double free small and large (EALREADY); arena intact\n");
	krk_heap_destroy(h);
}

struct thr {
	struct krk_heap *h;
	uint64_t seed;
	unsigned errors;
	void *left[64];
};

static void *
thr_run(void *arg)
{
	struct thr *t = arg;
	struct blk b[64];
	uint64_t s = t->seed;

	memset(b, 0, sizeof(b));
	for (unsigned op = 0; op < WORK(40000); op++) {
		struct blk *x = &b[rnd(&s) % 64];
		if (x->p != NULL) {
			if (!same(x->p, x->n, x->tag))
				t->errors++;
			krk_heap_free(t->h, x->p);
			x->p = NULL;
			continue;
		}
		x->n = rnd(&s) % 100 < 95 ? rnd(&s) % 2048 : rnd(&s) % 100000;
		x->p = krk_heap_alloc(t->h, x->n);
		if (x->p == NULL) {
			t->errors++;
			continue;
		}
		x->tag = rnd(&s);
		fill(x->p, x->n, x->tag);
	}
	/* Half are left for the main thread to free: frees from a thread
	 * that did not allocate. */
	for (unsigned i = 0; i < 64; i++)
		if (b[i].p != NULL && !same(b[i].p, b[i].n, b[i].tag))
			t->errors++;
	for (unsigned i = 0; i < 64; i++) {
		t->left[i] = NULL;
		if (b[i].p != NULL && (i & 1))
			t->left[i] = b[i].p;
		else if (b[i].p != NULL)
			krk_heap_free(t->h, b[i].p);
	}
	return NULL;
}

static void
test_threads(void)
{
	enum { NT = 4 };
	struct krk_heap *h;
	struct thr t[NT];
	pthread_t tid[NT];

	CHECK(krk_heap_create(256 * MIB, false, &h) == 0, "create");
	for (unsigned i = 0; i < NT; i++) {
		t[i].h = h;
		t[i].seed = 0x1234567ULL * (i + 1);
		t[i].errors = 0;
		CHECK(pthread_create(&tid[i], NULL, thr_run, &t[i]) == 0,
		    "thread");
	}
	unsigned errors = 0;
	for (unsigned i = 0; i < NT; i++) {
		pthread_join(tid[i], NULL);
		errors += t[i].errors;
		for (unsigned j = 0; j < 64; j++)
			krk_heap_free(h, t[i].left[j]);
	}
	struct krk_heap_stats st;
	krk_heap_stats(h, &st);
	CHECK(errors == 0, "%u pattern or allocation errors", errors);
	CHECK(st.in_use == 0 && st.bad_frees == 0, "in_use %" PRIu64
	    " after all threads", st.in_use);
	printf("ok: %d threads x %d alloc/free on one arena: patterns "
	    "intact, accounting back to 0\n", NT, WORK(40000));
	krk_heap_destroy(h);
}

/* Blocks that move between threads: each swap hands a block to whichever
 * thread takes it out next, which checks and frees it. */
static struct krk_heap *krk_race_heap;

struct swap {
	struct krk_heap *h;
	struct blk *shared;		/* 256, exchanged atomically */
	uint64_t seed;
	unsigned errors;
};

static void *
swap_run(void *arg)
{
	struct swap *w = arg;
	uint64_t s = w->seed;

	for (unsigned op = 0; op < WORK(30000); op++) {
		size_t n = 8 + (rnd(&s) % 100 < 90 ? rnd(&s) % 1100 :
		    rnd(&s) % 40000);
		char *p = krk_heap_alloc(w->h, n);
		if (p == NULL) {
			w->errors++;
			continue;
		}
		/* The block carries its size, so whoever takes it out of
		 * the shared array can check its pattern. */
		memcpy(p, &n, sizeof(n));
		fill(p + 8, n - 8, n);
		struct blk *x = &w->shared[rnd(&s) % 256];
		char *old = __atomic_exchange_n(&x->p, p, __ATOMIC_ACQ_REL);
		if (old == NULL)
			continue;
		size_t on;
		memcpy(&on, old, sizeof(on));
		if (on < 8 || on > 8 + 40000 || !same(old + 8, on - 8, on))
			w->errors++;
		krk_heap_free(w->h, old);
	}
	return NULL;
}

static void *
free_all(void *arg)
{
	char **blocks = arg;
	for (unsigned i = 0; i < 20000; i++)
		krk_heap_free(krk_race_heap, blocks[i]);
	return NULL;
}

static void
test_threads_race(void)
{
	enum { NT = 3, NR = 20000 };
	struct krk_heap *h;
	pthread_t tid[NT];
	static struct blk shared[256];
	struct swap w[NT];

	CHECK(krk_heap_create(128 * MIB, false, &h) == 0, "create");
	krk_heap_set_fault(h, on_fault, NULL);
	fault_n = 0;
	krk_race_heap = h;
	/* Blocks allocated here and freed by other threads. */
	for (unsigned i = 0; i < 256; i++) {
		size_t n = 8 + i * 4;
		shared[i].p = krk_heap_alloc(h, n);
		memcpy(shared[i].p, &n, sizeof(n));
		fill(shared[i].p + 8, n - 8, n);
	}
	for (unsigned i = 0; i < NT; i++) {
		w[i] = (struct swap){ h, shared, 0xabcdefULL * (i + 3), 0 };
		pthread_create(&tid[i], NULL, swap_run, &w[i]);
	}
	unsigned errors = 0;
	for (unsigned i = 0; i < NT; i++) {
		pthread_join(tid[i], NULL);
		errors += w[i].errors;
	}
	for (unsigned i = 0; i < 256; i++)
		krk_heap_free(h, shared[i].p);
	CHECK(errors == 0 && fault_n == 0, "%u pattern errors, %d refused "
	    "frees while blocks moved between threads", errors, fault_n);
	CHECK(in_use(h) == 0, "blocks freed by threads that did not "
	    "allocate them: in_use %" PRIu64, in_use(h));

	/* Two threads free the same block at once, NR times: exactly one
	 * free of each must be taken, whatever the interleaving. */
	fault_n = 0;
	static char *blocks[NR];
	for (unsigned i = 0; i < NR; i++)
		blocks[i] = krk_heap_alloc(h, 16 + (i % 64) * 16);
	pthread_t a, b;
	pthread_create(&a, NULL, free_all, blocks);
	pthread_create(&b, NULL, free_all, blocks);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	struct krk_heap_stats st;
	krk_heap_stats(h, &st);
	CHECK(fault_n == NR && st.in_use == 0, "racing double frees: %d of %d "
	    "refused, in_use %" PRIu64, fault_n, NR, st.in_use);
	/* And the arena still hands out distinct blocks. */
	for (unsigned i = 0; i < NR; i++) {
		blocks[i] = krk_heap_alloc(h, 16 + (i % 64) * 16);
		memset(blocks[i], (int)i, 16);
	}
	unsigned bad = 0;
	for (unsigned i = 0; i < NR; i++)
		bad += blocks[i][0] != (char)i || blocks[i][15] != (char)i;
	CHECK(bad == 0, "%u blocks handed out twice", bad);
	for (unsigned i = 0; i < NR; i++)
		krk_heap_free(h, blocks[i]);
	CHECK(in_use(h) == 0, "in_use 0 at the end");
	printf("ok: blocks freed across %d threads; %d racing double frees: "
	    "each block freed once, the other refused; no block handed out "
	    "twice after\n", NT, NR);
	krk_heap_destroy(h);
}

static void
test_destroy_live_and_huge(void)
{
	struct krk_heap *h;

	for (int round = 0; round < 50; round++) {
		CHECK(krk_heap_create(32 * MIB, false, &h) == 0, "create");
		for (int i = 0; i < 200; i++)
			fill(krk_heap_alloc(h, (size_t)i * 97), (size_t)i * 97, 1);
		krk_heap_alloc(h, 2 * MIB);
		krk_heap_destroy(h);
	}
	printf("ok: 50 arenas destroyed with live blocks\n");

	CHECK(krk_heap_create(8 * MIB, true, &h) == 0, "create huge");
	struct krk_heap_stats st;
	krk_heap_stats(h, &st);
	FILE *f = fopen("/proc/sys/vm/nr_hugepages", "r");
	long nr = -1;
	if (f != NULL) {
		if (fscanf(f, "%ld", &nr) != 1)
			nr = -1;
		fclose(f);
	}
	if (nr == 0)
		CHECK(!st.huge && strstr(krk_heap_note(h), "not available"),
		    "no huge pages configured: fallback with a reason (%s)",
		    krk_heap_note(h));
	void *p = krk_heap_alloc(h, 3 * MIB);
	CHECK(p != NULL, "allocation in a huge-asked arena");
	memset(p, 1, 3 * MIB);
	printf("ok: huge asked: huge=%d, %s\n", st.huge, krk_heap_note(h));
	krk_heap_destroy(h);
}

int
main(void)
{
	test_model();
	test_limit();
	test_align_calloc_zero();
	test_realloc();
	test_bad_pointers();
	test_threads();
	test_threads_race();
	test_destroy_live_and_huge();
	if (nfail) {
		printf("FAIL: %d checks failed\n", nfail);
		return 1;
	}
	printf("PASS\n");
	return 0;
}
