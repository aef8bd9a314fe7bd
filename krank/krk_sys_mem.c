/*
 * krk_sys_mem.c - isolate memory.  The isolate libc's malloc family calls
 * the hooks krk_sys_libc_hooks installs, which carve the calling
 * isolate's heap arena (krk_heap_*, with its limit); posix_memalign and
 * aligned_alloc come from the same arena, so free() takes any of them.
 * A thread outside an isolate (KRANK's own, or a test loading a program
 * directly) has no arena and gets the host's allocator instead.
 */
#include <stdlib.h>

#include "krk_sys_int.h"

/* The arena calls run with kills deferred (krk_sys_nokill_begin): one
 * unwound inside would leave the arena locked (krk.h, krk_heap_*). */
void *
krk_sys_mem_alloc(size_t n)
{
	struct krk_heap *h = krk_self_heap();

	if (h == NULL)
		return malloc(n);
	int was = krk_sys_nokill_begin();
	void *p = krk_heap_alloc(h, n);
	krk_sys_nokill_end(was);
	return p;
}

void
krk_sys_mem_free(void *p)
{
	struct krk_heap *h = krk_self_heap();

	if (h == NULL) {
		free(p);
		return;
	}
	int was = krk_sys_nokill_begin();
	krk_heap_free(h, p);
	krk_sys_nokill_end(was);
}

static void *
krk_sys_mem_realloc(void *p, size_t n)
{
	struct krk_heap *h = krk_self_heap();

	if (h == NULL)
		return realloc(p, n);
	int was = krk_sys_nokill_begin();
	void *q = krk_heap_realloc(h, p, n);
	krk_sys_nokill_end(was);
	return q;
}

static void
krk_sys_libc_exit(int status)
{
	krk_self_exit(status);
}

void
krk_sys_libc_hooks(struct kld_libc_host *hk)
{
	hk->malloc = krk_sys_mem_alloc;
	hk->free = krk_sys_mem_free;
	hk->realloc = krk_sys_mem_realloc;
	hk->exit = krk_sys_libc_exit;
}

/* The allocation itself, into KRANK's own *pp: aligned_alloc's is on the
 * calling thread's stack, which for a hardened isolate is its gate
 * server's, not memory the isolate owns (krk_gate.h). */
static int
sys_memalign(void **pp, size_t align, size_t n)
{
	struct krk_heap *h = krk_self_heap();
	void *p;

	if (align < sizeof(void *) || (align & (align - 1)) != 0)
		return EINVAL;
	if (h != NULL) {
		int was = krk_sys_nokill_begin();
		p = krk_heap_memalign(h, align, n);
		krk_sys_nokill_end(was);
	} else if (posix_memalign(&p, align, n) != 0)
		p = NULL;
	if (p == NULL)
		return ENOMEM;
	*pp = p;
	return 0;
}

int
krk_sys_posix_memalign(void **pp, size_t align, size_t n)
{
	void *p;
	int e;

	if (krk_sys_badbuf(pp, sizeof(*pp)))
		return EFAULT;
	if ((e = sys_memalign(&p, align, n)) == 0)
		*pp = p;
	return e;
}

void *
krk_sys_aligned_alloc(size_t align, size_t n)
{
	void *p;
	int e;

	if (align < sizeof(void *))
		align = sizeof(void *);
	if ((e = sys_memalign(&p, align, n)) != 0) {
		krk_sys_fail(e);
		return NULL;
	}
	return p;
}
