/*
 * kern_lwp.c - virtual CPUs, lwps, process contexts, per-CPU data and the
 * upcall table the kernel base hands to rumpuser_init.
 *
 * Scheduling: KRANK's rumpdrv has no big kernel lock; every structure has
 * its own fine-grained lock, so a thread needs no virtual CPU to run kernel
 * code and the schedule/unschedule upcalls have nothing to release or
 * reacquire around a blocking hypercall.  They are therefore empty.  A
 * thread's "CPU" (l_cpu) only picks its per-CPU caches; it is assigned round
 * robin when its lwp is made, and per-CPU data carries its own small lock.
 */
#include <stdlib.h>
#include <string.h>

#include <krank/hyp.h>

#include "kern/kern_int.h"

int ncpu = 1;
static unsigned next_cpu;		/* atomic: round-robin CPU assignment */
static int next_pid = 1;		/* atomic */

struct proc proc0;
static const struct proc_vfs_hooks *vfs_hooks;	/* set once, before use */

int
kern_cpu_init(void)
{
	char buf[32];
	if (rumpuser_getparam(RUMPUSER_PARAM_NCPU, buf, sizeof(buf)) == 0) {
		long n = 0;
		for (const char *p = buf; *p >= '0' && *p <= '9'; p++)
			n = n * 10 + (*p - '0');
		if (n >= 1)
			ncpu = n > MAXCPUS ? MAXCPUS : (int)n;
	}
	/* Spinning before sleeping only pays when the waker runs on
	 * another CPU.  Polling the network while waiting (kern_poll_ns)
	 * pays on one CPU too: the waker is the NIC. */
	if (ncpu == 1)
		cv_spin_ns = 0;
	if (rumpuser_getparam("KRANK_SPIN_US", buf, sizeof(buf)) == 0) {
		uint64_t us = 0;
		const char *p;
		for (p = buf; *p >= '0' && *p <= '9' && us < 1000000; p++)
			us = us * 10 + (uint64_t)(*p - '0');
		if (*p == '\0' && p != buf)
			cv_spin_ns = kern_poll_ns = us * 1000;
		else if (strcmp(buf, "forever") == 0) {
			kern_poll_forever = true;
			hyp_mutex_spin_forever(1);
		}
		else
			klog(LOG_WARNING, "kern: KRANK_SPIN_US=%s: not a number of "
			    "microseconds (up to 1000000) nor forever; spinning "
			    "%llu us",
			    buf, (unsigned long long)(cv_spin_ns / 1000));
	}
	return 0;
}

struct lwp *
lwp_alloc(struct proc *p, unsigned flags, const char *name)
{
	struct lwp *l = kmem_zalloc(sizeof(*l), KM_SLEEP);
	l->l_proc = p;
	l->l_flags = flags;
	l->l_cpu = __atomic_fetch_add(&next_cpu, 1, __ATOMIC_RELAXED) %
	    (unsigned)ncpu;
	strlcpy_k(l->l_name, name, sizeof(l->l_name));
	__atomic_fetch_add(&p->p_refcnt, 1, __ATOMIC_RELAXED);
	return l;
}

struct lwp *
curlwp_get(void)
{
	struct lwp *l = rumpuser_curlwp();
	if (__builtin_expect(l == NULL, 0)) {
		/* A thread we did not create (an isolate's, a test's). */
		l = lwp_alloc(&proc0, LW_AUTO, "auto");
		rumpuser_curlwpop(RUMPUSER_LWP_CREATE, l);
		rumpuser_curlwpop(RUMPUSER_LWP_SET, l);
	}
	return l;
}

struct proc *
curproc_get(void)
{
	struct lwp *l = rumpuser_curlwp();
	return l != NULL ? l->l_proc : &proc0;
}

unsigned
cpu_index_cur(void)
{
	struct lwp *l = rumpuser_curlwp();
	return l != NULL ? l->l_cpu : 0;
}

kauth_cred_t
kauth_cred_get(void)
{
	return &curproc->p_cred;
}

void
proc_set_vfs_hooks(const struct proc_vfs_hooks *h)
{
	vfs_hooks = h;
}

/* ---- upcalls: see the comment at the top ---- */

static void up_schedule(void) { }
static void up_unschedule(void) { }
static void up_backend_unschedule(int nlocks, int *countp, void *interlock)
{
	(void)interlock;
	if (countp != NULL)
		*countp = nlocks;
}
static void up_backend_schedule(int nlocks, void *interlock)
{
	(void)nlocks;
	(void)interlock;
}

static void
up_lwproc_switch(struct lwp *l)
{
	struct lwp *old = rumpuser_curlwp();
	if (old != NULL)
		rumpuser_curlwpop(RUMPUSER_LWP_CLEAR, old);
	if (l != NULL)
		rumpuser_curlwpop(RUMPUSER_LWP_SET, l);
}

void
lwp_release_self(void)
{
	struct lwp *l = rumpuser_curlwp();
	if (l == NULL)
		return;
	rumpuser_curlwpop(RUMPUSER_LWP_CLEAR, l);
	rumpuser_curlwpop(RUMPUSER_LWP_DESTROY, l);
	__atomic_fetch_sub(&l->l_proc->p_refcnt, 1, __ATOMIC_RELEASE);
	kmem_free(l, sizeof(*l));
}

static void
up_lwproc_release(void)
{
	lwp_release_self();
}

static int
up_lwproc_newlwp(pid_t pid)
{
	(void)pid;
	if (rumpuser_curlwp() != NULL)
		return 0;
	struct lwp *l = lwp_alloc(&proc0, LW_SYSTEM, "kthread");
	rumpuser_curlwpop(RUMPUSER_LWP_CREATE, l);
	rumpuser_curlwpop(RUMPUSER_LWP_SET, l);
	return 0;
}

static struct lwp *
up_lwproc_curlwp(void)
{
	return rumpuser_curlwp();
}

static pid_t
up_getpid(void)
{
	return curproc->p_pid;
}

static const struct rumpuser_hyperup kern_upcalls = {
	.hyp_schedule = up_schedule,
	.hyp_unschedule = up_unschedule,
	.hyp_backend_unschedule = up_backend_unschedule,
	.hyp_backend_schedule = up_backend_schedule,
	.hyp_lwproc_switch = up_lwproc_switch,
	.hyp_lwproc_release = up_lwproc_release,
	.hyp_lwproc_newlwp = up_lwproc_newlwp,
	.hyp_lwproc_curlwp = up_lwproc_curlwp,
	.hyp_getpid = up_getpid,
};

int
kern_lwp_init(void)
{
	int rv = rumpuser_init(RUMPUSER_VERSION, &kern_upcalls);
	if (rv != 0)
		return rv;
	mutex_init(&proc0.p_lock, MUTEX_DEFAULT, IPL_NONE);
	proc0.p_refcnt = 1;
	proc0.p_umask = 022;
	proc0.p_pid = __atomic_fetch_add(&next_pid, 1, __ATOMIC_RELAXED);
	return 0;
}

/* ---- contexts (krs_ctx_*) ---- */

KRS_EXPORT int
krs_ctx_create(uint32_t uid, uint32_t gid, struct krs_ctx **ctxp)
{
	struct proc *parent = curproc, *p;
	int rv;
	if (!kern_up)
		return krs_fail(ENOSYS);
	if (ctxp == NULL)
		return krs_fail(EFAULT);

	p = kmem_zalloc(sizeof(*p), KM_SLEEP);
	mutex_init(&p->p_lock, MUTEX_DEFAULT, IPL_NONE);
	p->p_refcnt = 1;
	p->p_umask = 022;
	p->p_cred.cr_uid = uid;
	p->p_cred.cr_gid = gid;
	p->p_pid = __atomic_fetch_add(&next_pid, 1, __ATOMIC_RELAXED);
	if (vfs_hooks != NULL && (rv = vfs_hooks->ph_fork(parent, p)) != 0) {
		mutex_destroy(&p->p_lock);
		kmem_free(p, sizeof(*p));
		return krs_fail(rv);
	}
	*ctxp = (struct krs_ctx *)p;
	return 0;
}

KRS_EXPORT int
krs_ctx_enter(struct krs_ctx *ctx)
{
	if (!kern_up)
		return krs_fail(ENOSYS);
	struct proc *p = (struct proc *)ctx;
	struct lwp *l = curlwp;
	struct proc *old = l->l_proc;

	if (p == NULL)
		p = &proc0;
	__atomic_fetch_add(&p->p_refcnt, 1, __ATOMIC_RELAXED);
	l->l_proc = p;
	__atomic_fetch_sub(&old->p_refcnt, 1, __ATOMIC_RELEASE);
	return 0;
}

KRS_EXPORT int
krs_ctx_leave(void)
{
	struct lwp *l = rumpuser_curlwp();
	if (l == NULL)
		return 0;
	/* A foreign thread's implicit lwp goes away with its context; the
	 * thread gets a fresh one in proc0 if it calls in again. */
	if (l->l_flags & LW_AUTO) {
		lwp_release_self();
		return 0;
	}
	return krs_ctx_enter(NULL);
}

KRS_EXPORT int
krs_ctx_destroy(struct krs_ctx *ctx)
{
	struct proc *p = (struct proc *)ctx;
	if (!kern_up)
		return krs_fail(ENOSYS);

	if (p == NULL || p == &proc0 || curproc == p) {
		return krs_fail(EBUSY);
	}
	if (__atomic_load_n(&p->p_refcnt, __ATOMIC_ACQUIRE) != 1) {
		return krs_fail(EBUSY);
	}
	if (vfs_hooks != NULL)
		vfs_hooks->ph_exit(p);
	mutex_destroy(&p->p_lock);
	kmem_free(p, sizeof(*p));
	return 0;
}

KRS_EXPORT uint32_t
krs_umask(uint32_t mask)
{
	if (!kern_up)
		return 022;
	struct proc *p = curproc;
	mutex_enter(&p->p_lock);
	uint32_t old = p->p_umask;
	p->p_umask = mask & 0777;
	mutex_exit(&p->p_lock);
	return old;
}

/* ---- per-CPU data ---- */

struct percpu {
	size_t size;			/* rounded to 64 */
	kspin_t locks[MAXCPUS];		/* getref/putref per CPU */
	char *data;
};

percpu_t *
percpu_alloc(size_t size)
{
	/* size is the caller's: a copy per CPU above kmem's bound, or no
	 * memory for a large one, gives NULL (the caller's ENOMEM). */
	if (size == 0 || size > KMEM_SIZE_MAX / MAXCPUS)
		return NULL;
	percpu_t *pc = kmem_zalloc(sizeof(*pc), KM_SLEEP);
	pc->size = (size + 63) & ~(size_t)63;
	pc->data = kmem_zalloc(pc->size * (size_t)ncpu, KM_SLEEP);
	if (pc->data == NULL) {
		kmem_free(pc, sizeof(*pc));
		return NULL;
	}
	return pc;
}

void
percpu_free(percpu_t *pc, size_t size)
{
	(void)size;
	kmem_free(pc->data, pc->size * (size_t)ncpu);
	kmem_free(pc, sizeof(*pc));
}

void *
percpu_getref(percpu_t *pc)
{
	unsigned ci = cpu_index_cur();
	kspin_enter(&pc->locks[ci]);
	return pc->data + pc->size * ci;
}

void
percpu_putref(percpu_t *pc)
{
	kspin_exit(&pc->locks[cpu_index_cur()]);
}

void
percpu_foreach(percpu_t *pc, void (*fn)(void *, void *, unsigned), void *arg)
{
	for (unsigned ci = 0; ci < (unsigned)ncpu; ci++) {
		kspin_enter(&pc->locks[ci]);
		fn(pc->data + pc->size * ci, arg, ci);
		kspin_exit(&pc->locks[ci]);
	}
}
