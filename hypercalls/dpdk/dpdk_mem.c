/*
 * dpdk_mem.c - the DPDK host's heap: rumpuser_malloc/free (posix/
 * rumpuser_mem.c, shared) reach it through the posix_memalign and free
 * slots of the host-call table, so tests inject failures the same way on
 * every host.  The memory is DPDK's: hugepages or --no-huge pages, as
 * dpdk_eal.c chose.  Host errno values, as posix_memalign's.
 */
#include <errno.h>
#include <stdio.h>
#include <rte_malloc.h>
#include "dpdk_int.h"

int
rumpuser__dpdk_memalign(void **p, size_t align, size_t len)
{
	static int warned;

	if (!rumpuser__dpdk_up()) {
		/* The heap is the EAL's; it starts in rumpuser_init. */
		if (!__atomic_exchange_n(&warned, 1, __ATOMIC_RELAXED))
			fprintf(stderr, "krank-hypercall-dpdk: rumpuser_malloc "
			    "of %zu bytes before rumpuser_init started DPDK: no "
			    "heap yet\n", len);
		return ENOMEM;
	}
	/* align is a power of two >= sizeof(void *) (rumpuser_mem.c). */
	if ((*p = rte_malloc(NULL, len, (unsigned)align)) == NULL)
		return ENOMEM;
	return 0;
}

void
rumpuser__dpdk_free(void *p)
{
	if (p != NULL)
		rte_free(p);
}
