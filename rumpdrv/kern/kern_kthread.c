/*
 * kern_kthread.c - kernel threads: a host thread from
 * rumpuser_thread_create with an LW_SYSTEM lwp in proc0.
 */
#include "kern/kern_int.h"

/*
 * The creator makes the new thread's lwp and hands it over, so it need
 * not wait for the thread to run: that handshake cost a round trip
 * through the scheduler per kernel thread at boot (the callout and
 * netisr threads), milliseconds when KRANK's core is busy.
 */
struct kthread_start {
	void (*func)(void *);
	void *arg;
	struct lwp *lwp;
};

static void *
kthread_trampoline(void *a)
{
	struct kthread_start *ks = a;
	struct lwp *l = ks->lwp;
	void (*func)(void *) = ks->func;
	void *arg = ks->arg;

	kmem_free(ks, sizeof(*ks));
	rumpuser_curlwpop(RUMPUSER_LWP_CREATE, l);
	rumpuser_curlwpop(RUMPUSER_LWP_SET, l);
	func(arg);
	kthread_exit(0);
}

int
kthread_create(void (*func)(void *), void *arg, int flags, struct lwp **lp,
    const char *name)
{
	struct kthread_start *ks = kmem_alloc(sizeof(*ks), KM_SLEEP);
	int joinable = (flags & KTHREAD_MUSTJOIN) != 0;
	void *cookie = NULL;
	int rv;

	/* The flags an implicit lwp made kernel thread had before. */
	struct lwp *l = lwp_alloc(&proc0, LW_AUTO | LW_SYSTEM |
	    (joinable ? LW_MUSTJOIN : 0), name ? name : "kthread");
	ks->func = func;
	ks->arg = arg;
	ks->lwp = l;
	rv = rumpuser_thread_create(kthread_trampoline, ks, l->l_name,
	    joinable, 0, -1, &cookie);
	if (rv != 0) {
		kmem_free(ks, sizeof(*ks));
		__atomic_fetch_sub(&proc0.p_refcnt, 1, __ATOMIC_RELEASE);
		kmem_free(l, sizeof(*l));
		return rv;
	}
	/* Only a joinable thread's lwp outlives it (until kthread_join);
	 * the thread never reads l_cookie. */
	if (joinable)
		l->l_cookie = cookie;
	if (lp != NULL)
		*lp = l;
	return 0;
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
