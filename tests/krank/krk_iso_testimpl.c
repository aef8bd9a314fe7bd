/*
 * TEST-ONLY stand-in for krank/krk_isolate.c and krank/krk_heap.c, linked
 * into tests/krank/krk_sys_run alone and never into the krank binary:
 * enough of krk_self, krk_self_* and krk_heap_* for the syscall shims to
 * run a program loaded outside a real isolate.  No arena (krk_self_heap
 * is NULL, so memory comes from the host), threads are plain pthreads
 * with a struct krk_thread each, exit longjmps back to the runner.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdlib.h>
#include <unistd.h>

#include "krk.h"

__thread struct krk_thread *krk_self;

/* Set by the runner around main(). */
sigjmp_buf krk_test_exit_jmp;
int krk_test_exit_status;
char **krk_test_environ;

struct krk_test_thread {
	struct krk_thread t;		/* first: the handle is &t */
	pthread_t host;
	void *(*fn)(void *);
	void *arg;
	void *ret;
};

void
krk_thread_unwind(void)
{
	abort();			/* nothing kills in this test */
}

struct krk_heap *
krk_self_heap(void)
{
	return NULL;
}

int
krk_self_id(void)
{
	return 42;
}

char **
krk_self_environ(void)
{
	return krk_test_environ;
}

void
krk_self_exit(int status)
{
	krk_test_exit_status = status;
	siglongjmp(krk_test_exit_jmp, 1);
}

static void *
krk_test_trampoline(void *p)
{
	struct krk_test_thread *th = p;

	krk_self = &th->t;
	if (sigsetjmp(th->t.exit_jmp, 0) == 0)
		th->ret = th->fn(th->arg);
	return NULL;
}

int
krk_self_thread_create(void *(*fn)(void *), void *arg, void **handlep)
{
	struct krk_test_thread *th = calloc(1, sizeof(*th));

	if (th == NULL)
		return ENOMEM;
	th->fn = fn;
	th->arg = arg;
	int e = pthread_create(&th->host, NULL, krk_test_trampoline, th);
	if (e != 0) {
		free(th);
		return e;
	}
	*handlep = &th->t;
	return 0;
}

int
krk_self_thread_join(void *handle, void **retp)
{
	struct krk_test_thread *th = handle;
	int e = pthread_join(th->host, NULL);

	if (e == 0) {
		if (retp != NULL)
			*retp = th->ret;
		free(th);
	}
	return e;
}

void
krk_self_thread_exit(void *ret)
{
	struct krk_test_thread *th = (struct krk_test_thread *)krk_self;

	th->ret = ret;
	siglongjmp(th->t.exit_jmp, 1);
}

/* No arenas here: krk_self_heap() is NULL, so these are never reached. */
void *krk_heap_alloc(struct krk_heap *h, size_t n)
{ (void)h; (void)n; abort(); }
void *krk_heap_realloc(struct krk_heap *h, void *p, size_t n)
{ (void)h; (void)p; (void)n; abort(); }
void *krk_heap_memalign(struct krk_heap *h, size_t a, size_t n)
{ (void)h; (void)a; (void)n; abort(); }
void krk_heap_free(struct krk_heap *h, void *p)
{ (void)h; (void)p; abort(); }
