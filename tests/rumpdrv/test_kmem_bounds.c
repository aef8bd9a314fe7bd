/*
 * test_kmem_bounds.c - no kmem allocation sized by a caller waits forever
 * or grows without bound (issue 14): a size above KMEM_SIZE_MAX fails even
 * with KM_SLEEP, one above KMEM_WAIT_MAX is tried once, and the callers
 * that can ask that much (descriptor-table growth, channel rings, per-CPU
 * data) give ENOMEM.  The host's memory is made to run out for large
 * requests through the host-call table (hyp_posix_hostcall), so the old
 * behaviour - KM_SLEEP retrying every millisecond - would hang this test.
 * Built plain and with ASan+UBSan (KMEM_DIRECT).
 */
#include <errno.h>
#include <stdint.h>
#include <time.h>

#include <krank/hyp_posix.h>
#include <krank/krs.h>
#include "rdtest.h"
#include "../testclock.h"

/* Kernel internals under test (rumpdrv/kern/kern.h cannot be included
 * beside the host's <errno.h>: it brings NetBSD's numbers). */
void *kmem_alloc(size_t len, int flags);
void *kmem_zalloc(size_t len, int flags);
void kmem_free(void *p, size_t len);
uint64_t kmem_refused(void);
typedef struct percpu percpu_t;
percpu_t *percpu_alloc(size_t size);
void percpu_free(percpu_t *pc, size_t size);
#define KM_SLEEP	0x1
#define SIZE_MAX_KMEM	((size_t)64 << 20)	/* KMEM_SIZE_MAX */

static size_t fail_above = SIZE_MAX;	/* host memory "runs out" above */
static unsigned long nfailed;

static int
host_memalign(void **pp, size_t align, size_t n)
{
	if (n > fail_above) {
		nfailed++;
		return ENOMEM;
	}
	return posix_memalign(pp, align, n);
}

static void
test_kmem(void)
{
	uint64_t r0 = kmem_refused();
	CHECK(kmem_alloc(SIZE_MAX_KMEM + 1, KM_SLEEP) == NULL,
	    "above KMEM_SIZE_MAX with KM_SLEEP");
	CHECK(kmem_zalloc((size_t)1 << 40, KM_SLEEP) == NULL, "1 TiB zalloc");
	CHECK(kmem_alloc(SIZE_MAX, KM_SLEEP) == NULL, "SIZE_MAX");
	CHECK(kmem_refused() == r0 + 3, "three refusals counted (%llu)",
	    (unsigned long long)(kmem_refused() - r0));
	void *p = kmem_alloc(SIZE_MAX_KMEM, KM_SLEEP);
	CHECK(p != NULL, "exactly KMEM_SIZE_MAX is allowed");
	kmem_free(p, SIZE_MAX_KMEM);
	PASS("kmem: sizes above 64 MiB fail at once, even with KM_SLEEP");

	fail_above = 1 << 20;
	uint64_t t0 = now_ms();
	CHECK(kmem_alloc(2 << 20, KM_SLEEP) == NULL,
	    "2 MiB, host out of memory: NULL");
	CHECK(now_ms() - t0 < 1000, "and no wait (%llu ms)",
	    (unsigned long long)(now_ms() - t0));
	fail_above = SIZE_MAX;
	PASS("kmem: above KMEM_WAIT_MAX, KM_SLEEP tries once");

	CHECK(percpu_alloc((size_t)1 << 40) == NULL, "per-CPU data of 1 TiB");
	CHECK(percpu_alloc(0) == NULL, "per-CPU data of 0 bytes");
	percpu_t *pc = percpu_alloc(128);
	CHECK(pc != NULL, "per-CPU data of 128 bytes");
	percpu_free(pc, 128);
	PASS("percpu_alloc: a caller's huge size is NULL");
}

static void
test_callers(void)
{
	int fds[2], probe[2];

	/* A channel as deep as allowed needs rings of tens of MiB: with no
	 * host memory for them, ENOMEM, and nothing is left open. */
	fail_above = 256 << 10;
	uint64_t t0 = now_ms();
	CHECK_ERR(krs_chan_create(KRS_CHAN_DEPTH_MAX, KRS_CHAN_RETURN, fds),
	    ENOMEM);
	CHECK_ERR(krs_chan_create(KRS_CHAN_DEPTH_MAX, 0, fds), ENOMEM);
	CHECK(now_ms() - t0 < 1000, "refused without waiting");
	CHECK(krs_chan_create(4, 0, probe) == 0 && probe[0] == 0 &&
	    probe[1] == 1, "small channel still works, lowest descriptors "
	    "free (%d %d): nothing leaked", probe[0], probe[1]);
	fail_above = SIZE_MAX;
	CHECK(krs_chan_create(KRS_CHAN_DEPTH_MAX, KRS_CHAN_RETURN, fds) == 0,
	    "the deepest channel with memory");
	CHECK(krs_close(fds[0]) == 0 && krs_close(fds[1]) == 0, "close it");
	PASS("krs_chan_create: a deep ring without memory is ENOMEM");

	/* dup2 to a high descriptor grows the table to 64 Ki entries
	 * (512 KiB of pointers): above what kmem waits for. */
	fail_above = 256 << 10;
	unsigned long f0 = nfailed;
	t0 = now_ms();
	CHECK_ERR(krs_dup2(probe[0], 60000), ENOMEM);
	CHECK(nfailed > f0 && now_ms() - t0 < 1000,
	    "the table's growth was refused by the host, without a wait");
	CHECK_ERR(krs_close(60000), EBADF);
	fail_above = SIZE_MAX;
	CHECK(krs_dup2(probe[0], 60000) == 60000, "with memory it grows");
	CHECK(krs_close(60000) == 0, "close the high descriptor");
	CHECK(krs_close(probe[0]) == 0 && krs_close(probe[1]) == 0, "close");
	PASS("descriptor table: growth without memory is ENOMEM");
}

int
main(void)
{
	char err[256];
	if (krs_boot("vfs", err, sizeof(err)) != 0) {
		printf("FAIL: boot: %s\n", err);
		return 1;
	}
	if (hyp_posix_hostcall("posix_memalign", (void *)host_memalign) ==
	    NULL) {
		printf("FAIL: cannot replace the host's posix_memalign\n");
		return 1;
	}
	test_kmem();
	test_callers();
	krs_shutdown();
	hyp_posix_hostcall("posix_memalign", NULL);
	DONE();
}
