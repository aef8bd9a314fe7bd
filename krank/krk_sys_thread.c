/*
 * krk_sys_thread.c - pthreads for isolates.  Threads are KRANK isolate
 * threads (krk_self_thread_*).  The isolate's pthread_mutex_t and
 * pthread_cond_t have glibc's size and alignment and hold the host's
 * objects; the isolate gets only these shims, never the host's functions.
 * Waits are left outside the kernel bracket (they touch only the
 * isolate's memory) and are cut into slices with a kill check between
 * them, so a killed isolate does not stay blocked on its own lock.
 */
#include <pthread.h>
#include <time.h>

#include "krk_sys_int.h"

_Static_assert(sizeof(pthread_mutex_t) == 40 && sizeof(pthread_cond_t) == 48,
    "the isolate's pthread types assume glibc's x86-64 sizes");

/* The isolate's attribute objects: a plain int (pthread.h gives 4 bytes). */
typedef int krk_mutexattr;
typedef int krk_condattr;	/* clock id + 1; 0 is CLOCK_REALTIME */

static void
krk_kill_point(void)
{
	struct krk_thread *t = krk_self;

	if (t != NULL && t->kill_pending)
		krk_thread_unwind();
}

static struct timespec
krk_slice_deadline(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_nsec += KRK_SYS_SLICE_MS * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

int
krk_sys_pthread_create(unsigned long *thr, const void *attr,
    void *(*fn)(void *), void *arg)
{
	void *h;

	(void)attr;	/* stack size and detach state are KRANK's choice */
	if (krk_sys_badbuf(thr, sizeof(*thr)) || krk_sys_badptr((void *)fn))
		return EFAULT;
	krk_sys_enter();
	int e = krk_self_thread_create(fn, arg, &h);
	krk_sys_exit();
	if (e == 0)
		*thr = (unsigned long)h;
	return e;
}

int
krk_sys_pthread_join(unsigned long thr, void **ret)
{
	if (ret != NULL && krk_sys_badbuf(ret, sizeof(*ret)))
		return EFAULT;
	krk_sys_enter();
	int e = krk_self_thread_join((void *)thr, ret);
	krk_sys_exit();
	return e;
}

void
krk_sys_pthread_exit(void *ret)
{
	krk_self_thread_exit(ret);
}

/* The calling thread's struct krk_thread: the handle KRANK's
 * krk_self_thread_create gives, so pthread_self() of a new thread equals
 * what pthread_create stored.  Outside an isolate: the host's id. */
unsigned long
krk_sys_pthread_self(void)
{
	return krk_self != NULL ? (unsigned long)krk_self :
	    (unsigned long)pthread_self();
}

int
krk_sys_pthread_equal(unsigned long a, unsigned long b)
{
	return a == b;
}

int
krk_sys_pthread_attr_init(void *a)
{
	return krk_sys_badptr(a) ? EFAULT : 0;
}

int
krk_sys_pthread_attr_destroy(void *a)
{
	return krk_sys_badptr(a) ? EFAULT : 0;
}

int
krk_sys_pthread_attr_setstacksize(void *a, size_t n)
{
	(void)n;
	return krk_sys_badptr(a) ? EFAULT : 0;
}

int
krk_sys_pthread_mutexattr_init(krk_mutexattr *a)
{
	if (krk_sys_badptr(a))
		return EFAULT;
	*a = PTHREAD_MUTEX_NORMAL;
	return 0;
}

int
krk_sys_pthread_mutexattr_destroy(krk_mutexattr *a)
{
	return krk_sys_badptr(a) ? EFAULT : 0;
}

int
krk_sys_pthread_mutexattr_settype(krk_mutexattr *a, int type)
{
	if (krk_sys_badptr(a))
		return EFAULT;
	if (type != PTHREAD_MUTEX_NORMAL && type != PTHREAD_MUTEX_RECURSIVE &&
	    type != PTHREAD_MUTEX_ERRORCHECK)
		return EINVAL;
	*a = type;
	return 0;
}

int
krk_sys_pthread_mutex_init(pthread_mutex_t *m, const krk_mutexattr *a)
{
	pthread_mutexattr_t ha;

	if (krk_sys_badbuf(m, sizeof(*m)) || (a != NULL && krk_sys_badptr(a)))
		return EFAULT;
	if (a == NULL || *a == PTHREAD_MUTEX_NORMAL)
		return pthread_mutex_init(m, NULL);
	pthread_mutexattr_init(&ha);
	int e = pthread_mutexattr_settype(&ha, *a);
	if (e == 0)
		e = pthread_mutex_init(m, &ha);
	pthread_mutexattr_destroy(&ha);
	return e;
}

int
krk_sys_pthread_mutex_destroy(pthread_mutex_t *m)
{
	return krk_sys_badbuf(m, sizeof(*m)) ? EFAULT : pthread_mutex_destroy(m);
}

int
krk_sys_pthread_mutex_lock(pthread_mutex_t *m)
{
	if (krk_sys_badbuf(m, sizeof(*m)))
		return EFAULT;
	for (;;) {
		struct timespec dl = krk_slice_deadline();
		int e = pthread_mutex_clocklock(m, CLOCK_MONOTONIC, &dl);

		if (e != ETIMEDOUT)
			return e;
		krk_kill_point();
	}
}

int
krk_sys_pthread_mutex_trylock(pthread_mutex_t *m)
{
	return krk_sys_badbuf(m, sizeof(*m)) ? EFAULT : pthread_mutex_trylock(m);
}

int
krk_sys_pthread_mutex_unlock(pthread_mutex_t *m)
{
	return krk_sys_badbuf(m, sizeof(*m)) ? EFAULT : pthread_mutex_unlock(m);
}

int
krk_sys_pthread_condattr_init(krk_condattr *a)
{
	if (krk_sys_badptr(a))
		return EFAULT;
	*a = 0;
	return 0;
}

int
krk_sys_pthread_condattr_destroy(krk_condattr *a)
{
	return krk_sys_badptr(a) ? EFAULT : 0;
}

int
krk_sys_pthread_condattr_setclock(krk_condattr *a, clockid_t clk)
{
	if (krk_sys_badptr(a))
		return EFAULT;
	if (clk != CLOCK_REALTIME && clk != CLOCK_MONOTONIC)
		return EINVAL;
	*a = clk == CLOCK_MONOTONIC ? 1 + CLOCK_MONOTONIC : 0;
	return 0;
}

/* The clock a condition variable's timed waits use is kept by glibc in
 * the object; the isolate's condattr only says which. */
int
krk_sys_pthread_cond_init(pthread_cond_t *c, const krk_condattr *a)
{
	pthread_condattr_t ha;

	if (krk_sys_badbuf(c, sizeof(*c)) || (a != NULL && krk_sys_badptr(a)))
		return EFAULT;
	if (a == NULL || *a == 0)
		return pthread_cond_init(c, NULL);
	pthread_condattr_init(&ha);
	pthread_condattr_setclock(&ha, *a - 1);
	int e = pthread_cond_init(c, &ha);
	pthread_condattr_destroy(&ha);
	return e;
}

int
krk_sys_pthread_cond_destroy(pthread_cond_t *c)
{
	return krk_sys_badbuf(c, sizeof(*c)) ? EFAULT : pthread_cond_destroy(c);
}

int
krk_sys_pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m)
{
	if (krk_sys_badbuf(c, sizeof(*c)) || krk_sys_badbuf(m, sizeof(*m)))
		return EFAULT;
	for (;;) {
		struct timespec dl = krk_slice_deadline();
		int e = pthread_cond_clockwait(c, m, CLOCK_MONOTONIC, &dl);

		if (e != ETIMEDOUT)
			return e;
		krk_kill_point();	/* holds m: the isolate is ending */
	}
}

int
krk_sys_pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m,
    const struct timespec *abstime)
{
	if (krk_sys_badbuf(c, sizeof(*c)) || krk_sys_badbuf(m, sizeof(*m)) ||
	    krk_sys_badbuf(abstime, sizeof(*abstime)) || abstime == NULL)
		return EFAULT;
	return pthread_cond_timedwait(c, m, abstime);
}

int
krk_sys_pthread_cond_signal(pthread_cond_t *c)
{
	return krk_sys_badbuf(c, sizeof(*c)) ? EFAULT : pthread_cond_signal(c);
}

int
krk_sys_pthread_cond_broadcast(pthread_cond_t *c)
{
	return krk_sys_badbuf(c, sizeof(*c)) ? EFAULT :
	    pthread_cond_broadcast(c);
}

int
krk_sys_pthread_once(pthread_once_t *o, void (*fn)(void))
{
	if (krk_sys_badbuf(o, sizeof(*o)) || krk_sys_badptr((void *)fn))
		return EFAULT;
	return pthread_once(o, fn);
}
