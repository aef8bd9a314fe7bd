/*
 * rumpuser_pth.c - threads, the per-thread current lwp, mutexes, rwlocks
 * and condition variables, on POSIX threads.  Correct on any number of
 * host CPUs: every lock word is a pthread primitive or guarded by one.
 * Calls that may block try first and release the caller's virtual CPU
 * (hyp_backend_unschedule) only when they must wait; _nowrap calls never
 * touch the scheduler.
 */
#include <errno.h>
#include <stdbool.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sched.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <krank/hyp.h>
#include <krank/hyp_relax.h>
#include "rumpuser_int.h"
#ifdef KRANK_HOST_DPDK
#include "dpdk_int.h"
#endif

static void
pth_fatal(const char *what, int error)
{
	fprintf(stderr, "krank-hypercall: %s: %s\n", what, strerror(error));
	abort();
}

#define PTH_CHECK(call, what)                                           \
	do {                                                            \
		int e_ = (call);                                        \
		if (e_ != 0)                                            \
			pth_fatal(what, e_);                            \
	} while (0)

/* ---- threads ---- */

/* New threads name themselves before running f, so the name is visible
 * from their first instruction on. */
struct thr_start {
	void *(*f)(void *);
	void *arg;
	char name[16];
};

static void *
thr_trampoline(void *p)
{
	struct thr_start ts = *(struct thr_start *)p;

	free(p);
	if (ts.name[0] != '\0')
		pthread_setname_np(pthread_self(), ts.name);
#ifdef KRANK_HOST_DPDK
	/* An lcore id of the EAL's for the thread's life (per-lcore mbuf
	 * caches; rumpuser_thread_exit gives it back too). */
	rumpuser__dpdk_thread_enter();
	void *rv = ts.f(ts.arg);
	rumpuser__dpdk_thread_leave();
	return rv;
#else
	return ts.f(ts.arg);
#endif
}

int
rumpuser_thread_create(void *(*f)(void *), void *arg, const char *name,
    int joinable, int pri, int cpuidx, void **cookie)
{
	pthread_attr_t attr;
	struct thr_start *ts;
	pthread_t *pt;
	int rv;

	if (f == NULL || (joinable && cookie == NULL))
		return NB_EINVAL;
	if ((pt = malloc(sizeof(*pt))) == NULL)
		return NB_ENOMEM;
	if ((ts = malloc(sizeof(*ts))) == NULL) {
		free(pt);
		return NB_ENOMEM;
	}
	ts->f = f;
	ts->arg = arg;
	snprintf(ts->name, sizeof(ts->name), "%s", name ? name : "");
	pthread_attr_init(&attr);
	if (!joinable)
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	/* A hint: pin to the host CPU the host maps cpuidx to, if any. */
	int hcpu = hyp_cpu_host(cpuidx);
	if (hcpu >= 0 && hcpu < CPU_SETSIZE) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(hcpu, &set);
		pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
	}
	/* Retry transient shortage of host threads for up to 100 ms. */
	for (int i = 0; i < 10; i++) {
		rv = pthread_create(pt, &attr, thr_trampoline, ts);
		if (rv != EAGAIN)
			break;
		struct timespec d = { 0, 10 * 1000 * 1000 };
		nanosleep(&d, NULL);
	}
	pthread_attr_destroy(&attr);
	if (rv != 0) {
		free(ts);
		free(pt);
		return rumpuser__errtrans(rv);
	}
	if (joinable)
		*cookie = pt;
	else
		free(pt);
	return 0;
}

void
rumpuser_thread_exit(void)
{
#ifdef KRANK_HOST_DPDK
	rumpuser__dpdk_thread_leave();
#endif
	pthread_exit(NULL);
}

int
rumpuser_thread_join(void *cookie)
{
	pthread_t *pt = cookie;
	int rv = 0;

	if (pt == NULL)
		return NB_EINVAL;
	KLOCK_WRAP(rv = pthread_join(*pt, NULL));
	if (rv == 0)
		free(pt);
	return rumpuser__errtrans(rv);
}

/* ---- current lwp, per host thread ---- */

/* initial-exec: no __tls_get_addr call on every lock (the library is
 * linked, not dlopened) */
static __thread struct lwp *curlwp_tls
    __attribute__((tls_model("initial-exec")));

void
rumpuser_curlwpop(int op, struct lwp *l)
{
	switch (op) {
	case RUMPUSER_LWP_CREATE:
	case RUMPUSER_LWP_DESTROY:
		break;
	case RUMPUSER_LWP_SET:
		if (curlwp_tls != NULL) {
			fprintf(stderr, "krank-hypercall: curlwp SET %p while %p "
			    "is current\n", (void *)l, (void *)curlwp_tls);
			abort();
		}
		curlwp_tls = l;
		break;
	case RUMPUSER_LWP_CLEAR:
		if (curlwp_tls != l) {
			fprintf(stderr, "krank-hypercall: curlwp CLEAR %p while %p "
			    "is current\n", (void *)l, (void *)curlwp_tls);
			abort();
		}
		curlwp_tls = NULL;
		break;
	default:
		fprintf(stderr, "krank-hypercall: curlwpop: bad op %d\n", op);
		abort();
	}
}

struct lwp *
rumpuser_curlwp(void)
{
	return curlwp_tls;
}

void
rumpuser__thread_lwp_init(void)
{
	if (rumpuser__hyp.hyp_schedule == NULL ||
	    rumpuser__hyp.hyp_lwproc_newlwp == NULL)
		return;
	rumpuser__hyp.hyp_schedule();
	rumpuser__hyp.hyp_lwproc_newlwp(0);
	rumpuser__hyp.hyp_unschedule();
}

/* ---- mutexes ---- */

struct rumpuser_mtx {
	pthread_mutex_t pthmtx;
	struct lwp *owner;		/* KMUTEX only; written by the holder */
	int ownercpu;			/* KMUTEX only; the holder's CPU */
	int flags;
} __attribute__((aligned(64)));

void
rumpuser_mutex_init(struct rumpuser_mtx **mtxp, int flags)
{
	struct rumpuser_mtx *mtx;
	pthread_mutexattr_t att;

	if (posix_memalign((void **)&mtx, 64, sizeof(*mtx)) != 0)
		pth_fatal("mutex_init", ENOMEM);
	pthread_mutexattr_init(&att);
	pthread_mutexattr_settype(&att, PTHREAD_MUTEX_ERRORCHECK);
	PTH_CHECK(pthread_mutex_init(&mtx->pthmtx, &att), "mutex_init");
	pthread_mutexattr_destroy(&att);
	mtx->owner = NULL;
	mtx->flags = flags;
	*mtxp = mtx;
}

/* The owner is read by spinning waiters too, hence atomic. */
static inline void
mtx_setowner(struct rumpuser_mtx *mtx)
{
	if (mtx->flags & RUMPUSER_MTX_KMUTEX) {
		__atomic_store_n(&mtx->ownercpu, sched_getcpu(),
		    __ATOMIC_RELAXED);
		__atomic_store_n(&mtx->owner, rumpuser_curlwp(),
		    __ATOMIC_RELEASE);
	}
}

static inline void
mtx_clearowner(struct rumpuser_mtx *mtx)
{
	if (mtx->flags & RUMPUSER_MTX_KMUTEX)
		__atomic_store_n(&mtx->owner, NULL, __ATOMIC_RELAXED);
}

/*
 * Adaptive acquisition: a kernel mutex is held for short sections, mostly
 * by a thread running on another CPU, so spin a little (watching the
 * owner, without writing the lock word) before sleeping in the host - but
 * not when the holder last ran on our CPU (it waits for us to get off it)
 * or there is one CPU.
 */
#define MTX_SPINS 1000
static int mtx_forever;		/* hyp_mutex_spin_forever; atomic */

void
hyp_mutex_spin_forever(int on)
{
	__atomic_store_n(&mtx_forever, on != 0, __ATOMIC_RELAXED);
}

static int
mtx_spin_trylock(struct rumpuser_mtx *mtx)
{
	if (!(mtx->flags & RUMPUSER_MTX_KMUTEX) || hyp_cpu_count() < 2)
		return 0;
	int me = sched_getcpu();
	int forever = __atomic_load_n(&mtx_forever, __ATOMIC_RELAXED);
	for (int i = 0; forever || i < MTX_SPINS; i++) {
		hyp_cpu_relax();
		if (__atomic_load_n(&mtx->owner, __ATOMIC_ACQUIRE) != NULL) {
			if (__atomic_load_n(&mtx->ownercpu, __ATOMIC_RELAXED) == me)
				return 0;
			continue;
		}
		if (pthread_mutex_trylock(&mtx->pthmtx) == 0)
			return 1;
	}
	return 0;
}

void
rumpuser_mutex_enter_nowrap(struct rumpuser_mtx *mtx)
{
	PTH_CHECK(pthread_mutex_lock(&mtx->pthmtx), "mutex_enter");
	mtx_setowner(mtx);
}

void
rumpuser_mutex_enter(struct rumpuser_mtx *mtx)
{
	if (mtx->flags & RUMPUSER_MTX_SPIN) {
		rumpuser_mutex_enter_nowrap(mtx);
		return;
	}
	if (pthread_mutex_trylock(&mtx->pthmtx) != 0 &&
	    !mtx_spin_trylock(mtx))
		KLOCK_WRAP(PTH_CHECK(pthread_mutex_lock(&mtx->pthmtx),
		    "mutex_enter"));
	mtx_setowner(mtx);
}

int
rumpuser_mutex_tryenter(struct rumpuser_mtx *mtx)
{
	int rv = pthread_mutex_trylock(&mtx->pthmtx);
	if (rv == 0)
		mtx_setowner(mtx);
	return rumpuser__errtrans(rv);
}

void
rumpuser_mutex_exit(struct rumpuser_mtx *mtx)
{
	mtx_clearowner(mtx);
	PTH_CHECK(pthread_mutex_unlock(&mtx->pthmtx), "mutex_exit");
}

void
rumpuser_mutex_destroy(struct rumpuser_mtx *mtx)
{
	PTH_CHECK(pthread_mutex_destroy(&mtx->pthmtx), "mutex_destroy");
	free(mtx);
}

void
rumpuser_mutex_owner(struct rumpuser_mtx *mtx, struct lwp **lp)
{
	if ((mtx->flags & RUMPUSER_MTX_KMUTEX) == 0) {
		fprintf(stderr, "krank-hypercall: mutex_owner on a mutex "
		    "without RUMPUSER_MTX_KMUTEX\n");
		abort();
	}
	*lp = __atomic_load_n(&mtx->owner, __ATOMIC_RELAXED);
}

/* ---- reader/writer locks ----
 *
 * Our own lock so that downgrade is atomic (no writer can slip in) and
 * upgrade succeeds when the caller is the only reader.  Writers are
 * preferred: a new reader waits while a writer waits.
 *
 * The lock is one atomic word, st: RW_WHELD while a writer holds it,
 * RW_WAITERS while anyone sleeps in the slow path, and the number of
 * readers in units of RW_READER.  Uncontended enter and exit are one
 * compare-and-swap each.  With RW_WAITERS set every enter takes the slow
 * path, under mtx, which also protects rwait, wwait and the condvars.  A
 * sleeper sets RW_WAITERS (an atomic read-modify-write on st) before it
 * looks at st the last time, so the releaser that frees the lock after
 * that look sees the bit and wakes it under mtx.
 */
#define RW_WHELD	0x1ul
#define RW_WAITERS	0x2ul
#define RW_READER	0x4ul

struct rumpuser_rw {
	unsigned long st;		/* atomic */
	struct lwp *writer;		/* atomic: the holding writer's lwp */
	pthread_mutex_t mtx;
	pthread_cond_t rcv, wcv;
	int wwait;			/* writers sleeping (mtx) */
	int rwait;			/* readers sleeping (mtx) */
} __attribute__((aligned(64)));

void
rumpuser_rw_init(struct rumpuser_rw **rwp)
{
	struct rumpuser_rw *rw;

	if (posix_memalign((void **)&rw, 64, sizeof(*rw)) != 0)
		pth_fatal("rw_init", ENOMEM);
	memset(rw, 0, sizeof(*rw));
	PTH_CHECK(pthread_mutex_init(&rw->mtx, NULL), "rw_init");
	PTH_CHECK(pthread_cond_init(&rw->rcv, NULL), "rw_init");
	PTH_CHECK(pthread_cond_init(&rw->wcv, NULL), "rw_init");
	*rwp = rw;
}

static inline bool
rw_cas(struct rumpuser_rw *rw, unsigned long *old, unsigned long new)
{
	return __atomic_compare_exchange_n(&rw->st, old, new, false,
	    __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
}

static inline void
rw_setwriter(struct rumpuser_rw *rw, struct lwp *l)
{
	__atomic_store_n(&rw->writer, l, __ATOMIC_RELAXED);
}

/* The fast path: taken when nobody sleeps.  true if taken. */
static inline bool
rw_try_fast(struct rumpuser_rw *rw, int lk)
{
	unsigned long s = __atomic_load_n(&rw->st, __ATOMIC_RELAXED);
	if (lk == RUMPUSER_RW_WRITER)
		return s == 0 && rw_cas(rw, &s, RW_WHELD);
	while ((s & (RW_WHELD | RW_WAITERS)) == 0)
		if (rw_cas(rw, &s, s + RW_READER))
			return true;
	return false;
}

/* The exact test, rw->mtx held: a reader also yields to sleeping writers. */
static bool
rw_try_locked(struct rumpuser_rw *rw, int lk)
{
	unsigned long s = __atomic_load_n(&rw->st, __ATOMIC_RELAXED);
	for (;;) {
		if (lk == RUMPUSER_RW_WRITER) {
			if ((s & ~RW_WAITERS) != 0)
				return false;
			if (rw_cas(rw, &s, s | RW_WHELD))
				return true;
		} else {
			if ((s & RW_WHELD) || rw->wwait > 0)
				return false;
			if (rw_cas(rw, &s, s + RW_READER))
				return true;
		}
	}
}

static void
rw_wait_locked(struct rumpuser_rw *rw, int lk)
{
	int *nwait = lk == RUMPUSER_RW_WRITER ? &rw->wwait : &rw->rwait;
	pthread_cond_t *cv = lk == RUMPUSER_RW_WRITER ? &rw->wcv : &rw->rcv;

	(*nwait)++;
	__atomic_fetch_or(&rw->st, RW_WAITERS, __ATOMIC_SEQ_CST);
	while (!rw_try_locked(rw, lk))
		pthread_cond_wait(cv, &rw->mtx);
	if (--*nwait == 0 && rw->wwait + rw->rwait == 0)
		__atomic_fetch_and(&rw->st, ~RW_WAITERS, __ATOMIC_SEQ_CST);
}

/* Wake sleepers after a release that left st == new. */
static void
rw_wakeup(struct rumpuser_rw *rw, unsigned long new)
{
	if ((new & RW_WAITERS) == 0 || (new & RW_WHELD))
		return;
	pthread_mutex_lock(&rw->mtx);
	if (rw->wwait > 0) {
		if (new / RW_READER == 0)
			pthread_cond_signal(&rw->wcv);
	} else if (rw->rwait > 0) {
		pthread_cond_broadcast(&rw->rcv);
	}
	pthread_mutex_unlock(&rw->mtx);
}

void
rumpuser_rw_enter(int lk, struct rumpuser_rw *rw)
{
	if (!rw_try_fast(rw, lk)) {
		pthread_mutex_lock(&rw->mtx);
		bool got = rw_try_locked(rw, lk);
		pthread_mutex_unlock(&rw->mtx);
		if (!got) {
			KLOCK_WRAP(
				pthread_mutex_lock(&rw->mtx);
				rw_wait_locked(rw, lk);
				pthread_mutex_unlock(&rw->mtx)
			);
		}
	}
	/* curlwp is valid again now that we hold a CPU. */
	if (lk == RUMPUSER_RW_WRITER)
		rw_setwriter(rw, rumpuser_curlwp());
}

int
rumpuser_rw_tryenter(int lk, struct rumpuser_rw *rw)
{
	bool got = rw_try_fast(rw, lk);
	if (!got) {
		pthread_mutex_lock(&rw->mtx);
		got = rw_try_locked(rw, lk);
		pthread_mutex_unlock(&rw->mtx);
	}
	if (got && lk == RUMPUSER_RW_WRITER)
		rw_setwriter(rw, rumpuser_curlwp());
	return rumpuser__errtrans(got ? 0 : EBUSY);
}

int
rumpuser_rw_tryupgrade(struct rumpuser_rw *rw)
{
	unsigned long s = __atomic_load_n(&rw->st, __ATOMIC_RELAXED);
	while ((s & ~RW_WAITERS) == RW_READER) {
		if (rw_cas(rw, &s, (s & RW_WAITERS) | RW_WHELD)) {
			rw_setwriter(rw, rumpuser_curlwp());
			return 0;
		}
	}
	return rumpuser__errtrans(EBUSY);
}

void
rumpuser_rw_downgrade(struct rumpuser_rw *rw)
{
	/* Atomic: the writer becomes a reader; waiting readers may join. */
	unsigned long s = __atomic_load_n(&rw->st, __ATOMIC_RELAXED);
	rw_setwriter(rw, NULL);
	while (!rw_cas(rw, &s, (s & RW_WAITERS) | RW_READER))
		;
	if (s & RW_WAITERS) {
		pthread_mutex_lock(&rw->mtx);
		if (rw->rwait > 0 && rw->wwait == 0)
			pthread_cond_broadcast(&rw->rcv);
		pthread_mutex_unlock(&rw->mtx);
	}
}

void
rumpuser_rw_exit(struct rumpuser_rw *rw)
{
	unsigned long s = __atomic_load_n(&rw->st, __ATOMIC_RELAXED), new;
	if (s & RW_WHELD)		/* only RW_WAITERS can change now */
		rw_setwriter(rw, NULL);
	do {
		if (s & RW_WHELD) {
			new = s & ~RW_WHELD;
		} else if (s >= RW_READER) {
			new = s - RW_READER;
		} else {
			fprintf(stderr, "krank-hypercall: rw_exit of an "
			    "unheld lock\n");
			abort();
		}
	} while (!rw_cas(rw, &s, new));
	rw_wakeup(rw, new);
}

void
rumpuser_rw_destroy(struct rumpuser_rw *rw)
{
	pthread_cond_destroy(&rw->rcv);
	pthread_cond_destroy(&rw->wcv);
	pthread_mutex_destroy(&rw->mtx);
	free(rw);
}

void
rumpuser_rw_held(int lk, struct rumpuser_rw *rw, int *heldp)
{
	unsigned long s = __atomic_load_n(&rw->st, __ATOMIC_ACQUIRE);
	if (lk == RUMPUSER_RW_WRITER)
		*heldp = (s & RW_WHELD) &&
		    __atomic_load_n(&rw->writer, __ATOMIC_RELAXED) ==
		    rumpuser_curlwp();
	else
		*heldp = s >= RW_READER;
}

/* ---- condition variables ---- */

struct rumpuser_cv {
	pthread_cond_t pthcv;
	int nwaiters;			/* protected by the waiters' mutex */
} __attribute__((aligned(64)));

void
rumpuser_cv_init(struct rumpuser_cv **cvp)
{
	struct rumpuser_cv *cv;
	pthread_condattr_t att;

	if (posix_memalign((void **)&cv, 64, sizeof(*cv)) != 0)
		pth_fatal("cv_init", ENOMEM);
	pthread_condattr_init(&att);
	pthread_condattr_setclock(&att, CLOCK_MONOTONIC);
	PTH_CHECK(pthread_cond_init(&cv->pthcv, &att), "cv_init");
	pthread_condattr_destroy(&att);
	cv->nwaiters = 0;
	*cvp = cv;
}

void
rumpuser_cv_destroy(struct rumpuser_cv *cv)
{
	PTH_CHECK(pthread_cond_destroy(&cv->pthcv), "cv_destroy");
	free(cv);
}

static void
cv_unschedule(struct rumpuser_mtx *mtx, int *nlocks)
{
	rumpkern_unsched(nlocks, mtx);
	mtx_clearowner(mtx);
}

/*
 * Take the CPU back.  For a spin kernel mutex the lock order is CPU first,
 * then the mutex, so drop it, reschedule, and re-take it without wrapping.
 */
static void
cv_reschedule(struct rumpuser_mtx *mtx, int nlocks)
{
	if ((mtx->flags & (RUMPUSER_MTX_KMUTEX | RUMPUSER_MTX_SPIN)) ==
	    (RUMPUSER_MTX_KMUTEX | RUMPUSER_MTX_SPIN)) {
		PTH_CHECK(pthread_mutex_unlock(&mtx->pthmtx), "cv_wait");
		rumpkern_sched(nlocks, mtx);
		rumpuser_mutex_enter_nowrap(mtx);
	} else {
		mtx_setowner(mtx);
		rumpkern_sched(nlocks, mtx);
	}
}

void
rumpuser_cv_wait(struct rumpuser_cv *cv, struct rumpuser_mtx *mtx)
{
	int nlocks;

	cv->nwaiters++;
	cv_unschedule(mtx, &nlocks);
	PTH_CHECK(pthread_cond_wait(&cv->pthcv, &mtx->pthmtx), "cv_wait");
	cv_reschedule(mtx, nlocks);
	cv->nwaiters--;
}

void
rumpuser_cv_wait_nowrap(struct rumpuser_cv *cv, struct rumpuser_mtx *mtx)
{
	cv->nwaiters++;
	mtx_clearowner(mtx);
	PTH_CHECK(pthread_cond_wait(&cv->pthcv, &mtx->pthmtx), "cv_wait");
	mtx_setowner(mtx);
	cv->nwaiters--;
}

int
rumpuser_cv_timedwait(struct rumpuser_cv *cv, struct rumpuser_mtx *mtx,
    int64_t sec, int64_t nsec)
{
	struct timespec ts;
	int rv, nlocks;

	if (sec < 0 || nsec < 0 || nsec >= 1000000000)
		return NB_EINVAL;
	/* Relative timeout: read the clock before giving the CPU away. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)sec;
	ts.tv_nsec += (long)nsec;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	cv->nwaiters++;
	cv_unschedule(mtx, &nlocks);
	do {
		rv = pthread_cond_timedwait(&cv->pthcv, &mtx->pthmtx, &ts);
	} while (rv == EINTR);
	if (rv != 0 && rv != ETIMEDOUT)
		pth_fatal("cv_timedwait", rv);
	cv_reschedule(mtx, nlocks);
	cv->nwaiters--;
	return rv == ETIMEDOUT ? NB_ETIMEDOUT : 0;
}

void
rumpuser_cv_signal(struct rumpuser_cv *cv)
{
	pthread_cond_signal(&cv->pthcv);
}

void
rumpuser_cv_broadcast(struct rumpuser_cv *cv)
{
	pthread_cond_broadcast(&cv->pthcv);
}

void
rumpuser_cv_has_waiters(struct rumpuser_cv *cv, int *n)
{
	*n = cv->nwaiters;
}

/* Waiting on a word: a private futex. */
void
hyp_word_wait(const uint32_t *word, uint32_t val, uint64_t ns)
{
	struct timespec ts = { (time_t)(ns / 1000000000u),
	    (long)(ns % 1000000000u) };

	(void)syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, val,
	    ns != 0 ? &ts : NULL, NULL, 0);
}

void
hyp_word_wake(const uint32_t *word, int n)
{
	(void)syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}
