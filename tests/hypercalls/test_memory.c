/*
 * test_memory - malloc honours alignment, anonmmap honours alignbit and
 * W^X, and errors (zero size, bad alignment, injected ENOMEM) are codes.
 */
#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>
#include <krank/hyp_posix.h>
#include "hyptest.h"

static int fail_memalign(void **p, size_t a, size_t n) { return ENOMEM; }
static void *fail_mmap(void *a, size_t l, int p, int f, int fd, off_t o)
{ errno = ENOMEM; return MAP_FAILED; }

int
main(void)
{
	void *p;
	ht_init(1);

	static const int aligns[] = { 0, 8, 16, 64, 4096, 65536 };
	for (size_t i = 0; i < sizeof(aligns) / sizeof(aligns[0]); i++) {
		int a = aligns[i] ? aligns[i] : (int)sizeof(void *);
		int rv = rumpuser_malloc(100, aligns[i], &p);
		CHECK(rv == 0 && ((uintptr_t)p % (uintptr_t)a) == 0,
		    "malloc(100, %d) is %d-aligned", aligns[i], a);
		if (rv == 0) {
			memset(p, 0xa5, 100);
			rumpuser_free(p, 100);
		}
	}
	p = NULL;
	CHECK(rumpuser_malloc(0, 0, &p) == 0 && p != NULL,
	    "malloc of size 0 succeeds with a pointer (as posix_memalign)");
	rumpuser_free(p, 0);
	/* The kernel's page allocator asks for page-aligned pages. */
	int bad = 0;
	void *pages[16];
	for (int i = 0; i < 16; i++) {
		pages[i] = NULL;
		if (rumpuser_malloc(4096, 4096, &pages[i]) != 0 ||
		    ((uintptr_t)pages[i] & 4095) != 0)
			bad++;
		else
			memset(pages[i], i, 4096);
	}
	for (int i = 0; i < 16; i++) {
		for (int j = 0; pages[i] && j < 4096; j++)
			bad += ((unsigned char *)pages[i])[j] != i;
		rumpuser_free(pages[i], 4096);
	}
	CHECK(bad == 0, "16 page-aligned pages, each keeps its own contents");
	CHECK(rumpuser_malloc(16, 24, &p) == 22, "alignment 24 (not a power of 2) gives EINVAL");
	hyp_posix_hostcall("posix_memalign", (void *)fail_memalign);
	CHECK(rumpuser_malloc(16, 0, &p) == 12, "host ENOMEM comes back as ENOMEM");
	hyp_posix_hostcall("posix_memalign", NULL);

	int rv = rumpuser_anonmmap(NULL, 3 << 20, 21, 0, &p);
	CHECK(rv == 0 && ((uintptr_t)p & ((1 << 21) - 1)) == 0,
	    "anonmmap(3 MiB, alignbit 21) is 2 MiB aligned");
	if (rv == 0) {
		memset(p, 1, 3 << 20);
		rumpuser_unmap(p, 3 << 20);
	}
	rv = rumpuser_anonmmap(NULL, 5000, 0, 0, &p);
	CHECK(rv == 0, "anonmmap of 5000 bytes works");
	if (rv == 0) {
		((char *)p)[4999] = 1;
		rumpuser_unmap(p, 5000);
	}
	CHECK(rumpuser_anonmmap(NULL, 4096, 0, 1, &p) == 13,
	    "executable anonmmap is refused with EACCES (W^X)");
	CHECK(rumpuser_anonmmap(NULL, 0, 0, 0, &p) == 22, "anonmmap of size 0 gives EINVAL");
	CHECK(rumpuser_anonmmap(NULL, 4096, 60, 0, &p) == 22, "alignbit 60 gives EINVAL");
	hyp_posix_hostcall("mmap", (void *)fail_mmap);
	CHECK(rumpuser_anonmmap(NULL, 4096, 0, 0, &p) == 12, "host mmap ENOMEM gives ENOMEM");
	hyp_posix_hostcall("mmap", NULL);
	return ht_done("test_memory");
}
