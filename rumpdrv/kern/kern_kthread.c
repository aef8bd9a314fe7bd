/*
 * kern_kthread.c - kernel threads: a host thread from
 * rumpuser_thread_create with an LW_SYSTEM lwp in proc0.
 */
#include "kern/kern_int.h"

struct kthread_start {
	void (*func)(void *);
	void *arg;
	char name[24];
	int joinable;
	struct lwp *lwp;		/* filled by the new thread */
	kmutex_t lock;			/* protects lwp (handshake) */
	kcondvar_t cv;
};

static void *
kthread_trampoline(void *a)
{
	struct kthread_start *ks = a;
	struct lwp *l = curlwp;		/* made by the newlwp upcall */
	void (*func)(void *) = ks->func;
	void *arg = ks->arg;

	l->l_flags |= LW_SYSTEM | (ks->joinable ? LW_MUSTJOIN : 0);
	strlcpy_k(l->l_name, ks->name, sizeof(l->l_name));
	mutex_enter(&ks->lock);
	ks->lwp = l;
	cv_broadcast(&ks->cv);
	mutex_exit(&ks->lock);
	/* ks may be gone from here on. */
	func(arg);
	kthread_exit(0);
}

int
kthread_create(void (*func)(void *), void *arg, int flags, struct lwp **lp,
    const char *name)
{
	struct kthread_start ks = { .func = func, .arg = arg,
	    .joinable = (flags & KTHREAD_MUSTJOIN) != 0 };
	void *cookie = NULL;
	int rv;

	strlcpy_k(ks.name, name ? name : "kthread", sizeof(ks.name));
	mutex_init(&ks.lock, MUTEX_DEFAULT, IPL_NONE);
	cv_init(&ks.cv, "kthcreat");
	rv = rumpuser_thread_create(kthread_trampoline, &ks, ks.name,
	    ks.joinable, 0, -1, &cookie);
	if (rv == 0) {
		mutex_enter(&ks.lock);
		while (ks.lwp == NULL)
			cv_wait(&ks.cv, &ks.lock);
		mutex_exit(&ks.lock);
		ks.lwp->l_cookie = cookie;
		if (lp != NULL)
			*lp = ks.lwp;
	}
	cv_destroy(&ks.cv);
	mutex_destroy(&ks.lock);
	return rv;
}

void
kthread_exit(int ecode)
{
	(void)ecode;
	struct lwp *l = rumpuser_curlwp();
	if (l != NULL && !(l->l_flags & LW_MUSTJOIN))
		lwp_release_self();
	rumpuser_thread_exit();
}

int
kthread_join(struct lwp *l)
{
	/* The lwp stays allocated until joined: the thread's TLS still
	 * points at it until the host thread is gone. */
	void *cookie = l->l_cookie;
	int rv = rumpuser_thread_join(cookie);
	if (rv == 0) {
		__atomic_fetch_sub(&l->l_proc->p_refcnt, 1, __ATOMIC_RELEASE);
		kmem_free(l, sizeof(*l));
	}
	return rv;
}
