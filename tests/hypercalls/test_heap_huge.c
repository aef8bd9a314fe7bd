/*
 * test_heap_huge - the huge-page heap's allocator (hyp_heap.c): sizes,
 * alignment, no overlap, reuse, splitting, what it refuses and what it
 * counts, rumpuser_malloc's fallback to the host's allocator when it is
 * full, and threads at once.  The host-call table's mmap drops
 * MAP_HUGETLB, so the allocator runs on any machine (and under ASan);
 * tests/krank/test_krank_hugepages.sh checks real huge pages.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>
#include <krank/hyp.h>
#include <krank/hyp_posix.h>
#include "hyptest.h"

#define HEAP (8u << 20)

static void *(*real_mmap)(void *, size_t, int, int, int, off_t);
static int saw_hugetlb;

/* As MAP_HUGETLB would: 2 MiB-aligned, in small pages. */
static void *
small_mmap(void *a, size_t l, int p, int f, int fd, off_t o)
{
	const uintptr_t huge = 2u << 20;
	if (!(f & MAP_HUGETLB))
		return real_mmap(a, l, p, f, fd, o);
	saw_hugetlb = 1;
	char *m = real_mmap(a, l + huge, p, f & ~MAP_HUGETLB, fd, o);
	if (m == MAP_FAILED)
		return m;
	char *s = (char *)(((uintptr_t)m + huge - 1) & ~(huge - 1));
	if (s > m)
		munmap(m, (size_t)(s - m));
	munmap(s + l, (size_t)(m + l + huge - (s + l)));
	return s;
}

static size_t
pow2(size_t n)
{
	size_t s = 64;
	while (s < n)
		s <<= 1;
	return s;
}

/* Blocks filled with a byte of their own; each checked before free. */
struct blk { unsigned char *p; size_t len; unsigned char tag; };

static int
intact(const struct blk *b)
{
	for (size_t i = 0; i < b->len; i++)
		if (b->p[i] != b->tag)
			return 0;
	return 1;
}

static void *
churn(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg;
	struct blk b[32] = { { 0 } };
	for (int round = 0; round < 4000; round++) {
		int i = (int)(rand_r(&seed) % 32);
		if (b[i].p != NULL) {
			QCHECK(intact(&b[i]), "a block kept its bytes");
			hyp_heap_huge_free(b[i].p);
			b[i].p = NULL;
			continue;
		}
		b[i].len = 1 + rand_r(&seed) % 5000;
		b[i].tag = (unsigned char)(seed | 1);
		b[i].p = hyp_heap_huge_alloc(b[i].len, 64);
		QCHECK(b[i].p != NULL, "a small block while the heap has room");
		if (b[i].p != NULL)
			memset(b[i].p, b[i].tag, b[i].len);
	}
	for (int i = 0; i < 32; i++)
		if (b[i].p != NULL) {
			QCHECK(intact(&b[i]), "a block kept its bytes");
			hyp_heap_huge_free(b[i].p);
		}
	return NULL;
}

int
main(void)
{
	struct hyp_heap_huge_stats st;
	static struct blk b[200];
	size_t nb = 0, sum = 0;
	void *p, *q;

	ht_init(2);
	real_mmap = hyp_posix_hostcall("mmap", (void *)small_mmap);

	CHECK(hyp_heap_huge_alloc(100, 64) == NULL,
	    "no heap set up: alloc gives NULL (callers use other memory)");
	CHECK(rumpuser_malloc(100, 64, &p) == 0 && !hyp_heap_huge_owns(p),
	    "no heap: rumpuser_malloc serves from the host's allocator");
	rumpuser_free(p, 100);
	CHECK(hyp_heap_huge_init(3u << 20) == EINVAL,
	    "a size that is not a multiple of 2 MiB is refused");
	CHECK(hyp_heap_huge_init(HEAP) == 0 && saw_hugetlb,
	    "an 8 MiB heap is mapped (asked with MAP_HUGETLB)");
	CHECK(hyp_heap_huge_init(HEAP) == EBUSY, "a second heap: EBUSY");

	/* Sizes and alignments; each block naturally aligned, inside the
	 * heap, apart from every other. */
	static const size_t lens[] = { 1, 63, 64, 65, 100, 2048, 4095, 4096,
	    9000, 65536, 200000 };
	static const size_t aligns[] = { 8, 64, 4096, 65536 };
	int aligned = 1, inside = 1;
	for (size_t r = 0; r < 4; r++)
		for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
			size_t a = aligns[(i + r) % 4], want;
			p = hyp_heap_huge_alloc(lens[i], a);
			if (p == NULL)
				continue;
			want = pow2(lens[i] > a ? lens[i] : a);
			aligned &= (uintptr_t)p % want == 0;
			inside &= hyp_heap_huge_owns(p) &&
			    hyp_heap_huge_owns((char *)p + want - 1);
			b[nb] = (struct blk){ p, lens[i], (unsigned char)(nb + 1) };
			memset(p, b[nb].tag, lens[i]);
			sum += want;
			nb++;
		}
	CHECK(nb == 44, "44 blocks of 1 B..200 KB handed out (%zu)", nb);
	CHECK(aligned && inside, "each aligned as asked and to its size, inside "
	    "the heap");
	int whole = 1;
	for (size_t i = 0; i < nb; i++)
		whole &= intact(&b[i]);
	CHECK(whole, "no block overlaps another (every byte pattern intact)");
	hyp_heap_huge_stats(&st);
	CHECK(st.size == HEAP && st.used == sum && st.nalloc == nb,
	    "stats: size %llu, in use %llu of %zu, %llu blocks",
	    (unsigned long long)st.size, (unsigned long long)st.used, sum,
	    (unsigned long long)st.nalloc);

	/* Freed blocks are reused for the same size. */
	p = b[5].p;
	hyp_heap_huge_free(p);
	q = hyp_heap_huge_alloc(b[5].len, 64);
	CHECK(q == p, "a freed block is reused for its size");
	b[5].p = q;
	memset(q, b[5].tag, b[5].len);

	/* Bad frees are counted and change nothing. */
	hyp_heap_huge_free((char *)b[9].p + 64);
	hyp_heap_huge_free((char *)b[9].p + 1);
	hyp_heap_huge_free(b[10].p);
	hyp_heap_huge_free(b[10].p);
	hyp_heap_huge_stats(&st);
	CHECK(st.nbadfree == 3, "a free inside a block, a misaligned one and a "
	    "double free are counted (%llu) and ignored",
	    (unsigned long long)st.nbadfree);
	b[10].p = NULL;
	CHECK(intact(&b[9]), "the block under the bad frees is intact");

	/* Larger than 16 MiB: refused, counted. */
	uint64_t fb = st.nfallback;
	CHECK(hyp_heap_huge_alloc((16u << 20) + 1, 64) == NULL,
	    "more than 16 MiB: NULL");
	for (size_t i = 0; i < nb; i++)
		if (b[i].p != NULL) {
			QCHECK(intact(&b[i]), "block %zu intact before free", i);
			hyp_heap_huge_free(b[i].p);
		}
	hyp_heap_huge_stats(&st);
	CHECK(st.used == 0 && st.nfallback == fb + 1,
	    "all freed: nothing in use; the refusal counted");

	/* Splitting: with everything free, 2 MiB blocks come from the
	 * bumped region and from larger free blocks until it is full. */
	void *big[8];
	int nbig = 0;
	while (nbig < 8 && (big[nbig] = hyp_heap_huge_alloc(2u << 20, 4096)))
		nbig++;
	CHECK(nbig >= 1 && nbig <= 4, "%d blocks of 2 MiB from an 8 MiB heap "
	    "with small blocks free", nbig);
	/* Full for 2 MiB: rumpuser_malloc goes to the host. */
	CHECK(rumpuser_malloc(2u << 20, 64, &p) == 0 && !hyp_heap_huge_owns(p),
	    "heap full: rumpuser_malloc falls back to the host's allocator");
	memset(p, 1, 2u << 20);
	rumpuser_free(p, 2u << 20);
	for (int i = 0; i < nbig; i++)
		hyp_heap_huge_free(big[i]);
	CHECK(rumpuser_malloc(1000, 64, &p) == 0 && hyp_heap_huge_owns(p),
	    "with room again rumpuser_malloc serves from the heap");
	rumpuser_free(p, 1000);

	/* Threads at once. */
	pthread_t t[4];
	for (uintptr_t i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, churn, (void *)(i + 1));
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	hyp_heap_huge_stats(&st);
	CHECK(st.used == 0, "4 threads x 4000 allocations and frees: nothing "
	    "left in use, no block corrupted (peak %llu KiB)",
	    (unsigned long long)st.peak >> 10);

	hyp_posix_hostcall("mmap", NULL);
	printf("test_heap_huge: %s (%d failed checks)\n", ht_failures ?
	    "FAILED" : "passed", ht_failures);
	return ht_failures ? 1 : 0;
}
