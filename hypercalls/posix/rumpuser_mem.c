/*
 * rumpuser_mem.c - memory hypercalls: aligned malloc/free and anonymous
 * mappings.  KRANK never maps memory writable and executable at once, so an
 * executable anonmmap request is refused (see docs/hypercalls.md).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/mman.h>
#include <krank/hyp.h>
#include "rumpuser_int.h"

int
rumpuser_malloc(size_t len, int alignment, void **memp)
{
	void *p;

	if (memp == NULL || alignment < 0)
		return NB_EINVAL;
	/*
	 * Size 0 succeeds with a pointer rumpuser_free accepts, as
	 * posix_memalign does for NetBSD's librumpuser: a kernel that
	 * checks only the return value must not be handed NULL.
	 */
	if (len == 0)
		len = 1;
	if (alignment == 0)
		alignment = sizeof(void *);
	if ((alignment & (alignment - 1)) != 0)
		return NB_EINVAL;
	if ((size_t)alignment < sizeof(void *))
		alignment = sizeof(void *);
	/* The huge-page heap first, when the host was given one. */
	if ((p = hyp_heap_huge_alloc(len, (size_t)alignment)) != NULL) {
		*memp = p;
		return 0;
	}
	int rv = hyp_host.posix_memalign(&p, (size_t)alignment, len);
	if (rv != 0)
		return rumpuser__errtrans(rv);
	*memp = p;
	return 0;
}

void
rumpuser_free(void *mem, size_t len)
{
	if (hyp_heap_huge_owns(mem))
		hyp_heap_huge_free(mem);
	else
		hyp_host.free(mem);
}

int
rumpuser_anonmmap(void *prefaddr, size_t len, int alignbit, int exec,
    void **memp)
{
	size_t pagesz = (size_t)sysconf(_SC_PAGESIZE);
	size_t align, maplen;
	char *p;

	if (memp == NULL || len == 0 || alignbit < 0 || alignbit >= 48)
		return NB_EINVAL;
	if (exec)
		return NB_EACCES;	/* W^X: see file comment */
	len = (len + pagesz - 1) & ~(pagesz - 1);
	align = (size_t)1 << alignbit;
	if (align < pagesz)
		align = pagesz;
	/* Over-map, then trim to the requested alignment. */
	maplen = len + (align > pagesz ? align : 0);
	if (maplen < len)
		return NB_ENOMEM;
	p = hyp_host.mmap(prefaddr, maplen, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return rumpuser__errtrans(errno);
	if (align > pagesz) {
		uintptr_t a = ((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1);
		size_t head = a - (uintptr_t)p;
		size_t tail = maplen - head - len;
		if (head)
			hyp_host.munmap(p, head);
		if (tail)
			hyp_host.munmap((char *)a + len, tail);
		p = (char *)a;
	}
	*memp = p;
	return 0;
}

void
rumpuser_unmap(void *addr, size_t len)
{
	hyp_host.munmap(addr, len);
}
