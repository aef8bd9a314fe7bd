/*
 * rumpuser_pth.c - threads, the per-thread current lwp, mutexes, rwlocks
 * and condition variables, on POSIX threads.  Correct on any number of
 * host CPUs: every lock word is a pthread primitive or guarded by one.
 * Calls that may block try first and release the caller's virtual CPU
 * (hyp_backend_unschedule) only when they must wait; _nowrap calls never
 * touch the scheduler.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sched.h>
#include "rumpuser_int.h"

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
	return ts.f(ts.arg);
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
	if (cpuidx >= 0) {
		/* A hint: pin when the CPU exists for this process. */
		cpu_set_t set;
		if (sched_getaffinity(0, sizeof(set), &set) == 0 &&
		    cpuidx < CPU_SETSIZE && CPU_ISSET(cpuidx, &set)) {
			CPU_ZERO(&set);
			CPU_SET(cpuidx, &set);
			pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
		}
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

static __thread struct lwp *curlwp_tls;

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

static inline void
mtx_setowner(struct rumpuser_mtx *mtx)
{
	if (mtx->flags & RUMPUSER_MTX_KMUTEX)
		mtx->owner = rumpuser_curlwp();
}

static inline void
mtx_clearowner(struct rumpuser_mtx *mtx)
{
	if (mtx->flags & RUMPUSER_MTX_KMUTEX)
		mtx->owner = NULL;
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
	if (pthread_mutex_trylock(&mtx->pthmtx) != 0)
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
	*lp = mtx->owner;
}

/* ---- reader/writer locks ----
 *
 * Our own lock so that downgrade is atomic (no writer can slip in) and
 * upgrade succeeds when the caller is the only reader.  Writers are
 * preferred: a new reader waits while a writer waits.  All fields are
 * protected by mtx.
 */
struct rumpuser_rw {
	pthread_mutex_t mtx;
	pthread_cond_t rcv, wcv;
	int readers;			/* readers holding it */
	int wwait;			/* writers waiting */
	int rwait;			/* readers waiting */
	struct lwp *writer;		/* holding writer's lwp */
	int wheld;			/* held for writing */
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

/* Try to take it; rw->mtx held.  0 or EBUSY (host number). */
static int
rw_try_locked(struct rumpuser_rw *rw, int lk)
{
	if (lk == RUMPUSER_RW_WRITER) {
		if (rw->wheld || rw->readers > 0)
			return EBUSY;
		rw->wheld = 1;
		rw->writer = rumpuser_curlwp();
	} else {
		if (rw->wheld || rw->wwait > 0)
			return EBUSY;
		rw->readers++;
	}
	return 0;
}

static void
rw_wait_locked(struct rumpuser_rw *rw, int lk)
{
	if (lk == RUMPUSER_RW_WRITER) {
		rw->wwait++;
		while (rw_try_locked(rw, lk) != 0)
			pthread_cond_wait(&rw->wcv, &rw->mtx);
		rw->wwait--;
	} else {
		rw->rwait++;
		while (rw_try_locked(rw, lk) != 0)
			pthread_cond_wait(&rw->rcv, &rw->mtx);
		rw->rwait--;
	}
}

void
rumpuser_rw_enter(int lk, struct rumpuser_rw *rw)
{
	pthread_mutex_lock(&rw->mtx);
	if (rw_try_locked(rw, lk) == 0) {
		pthread_mutex_unlock(&rw->mtx);
		return;
	}
	pthread_mutex_unlock(&rw->mtx);
	KLOCK_WRAP(
		pthread_mutex_lock(&rw->mtx);
		rw_wait_locked(rw, lk);
		pthread_mutex_unlock(&rw->mtx)
	);
	if (lk == RUMPUSER_RW_WRITER) {
		/* curlwp is valid again now that we hold a CPU. */
		pthread_mutex_lock(&rw->mtx);
		rw->writer = rumpuser_curlwp();
		pthread_mutex_unlock(&rw->mtx);
	}
}

int
rumpuser_rw_tryenter(int lk, struct rumpuser_rw *rw)
{
	pthread_mutex_lock(&rw->mtx);
	int rv = rw_try_locked(rw, lk);
	pthread_mutex_unlock(&rw->mtx);
	return rumpuser__errtrans(rv);
}

int
rumpuser_rw_tryupgrade(struct rumpuser_rw *rw)
{
	int rv = EBUSY;

	pthread_mutex_lock(&rw->mtx);
	if (!rw->wheld && rw->readers == 1) {
		rw->readers = 0;
		rw->wheld = 1;
		rw->writer = rumpuser_curlwp();
		rv = 0;
	}
	pthread_mutex_unlock(&rw->mtx);
	return rumpuser__errtrans(rv);
}

void
rumpuser_rw_downgrade(struct rumpuser_rw *rw)
{
	/* Atomic: the writer becomes a reader; waiting readers may join. */
	pthread_mutex_lock(&rw->mtx);
	rw->wheld = 0;
	rw->writer = NULL;
	rw->readers = 1;
	if (rw->rwait > 0 && rw->wwait == 0)
		pthread_cond_broadcast(&rw->rcv);
	pthread_mutex_unlock(&rw->mtx);
}

void
rumpuser_rw_exit(struct rumpuser_rw *rw)
{
	pthread_mutex_lock(&rw->mtx);
	if (rw->wheld) {
		rw->wheld = 0;
		rw->writer = NULL;
	} else if (rw->readers > 0) {
		rw->readers--;
	} else {
		pthread_mutex_unlock(&rw->mtx);
		fprintf(stderr, "krank-hypercall: rw_exit of an unheld lock\n");
		abort();
	}
	if (!rw->wheld && rw->readers == 0) {
		if (rw->wwait > 0)
			pthread_cond_signal(&rw->wcv);
		else if (rw->rwait > 0)
			pthread_cond_broadcast(&rw->rcv);
	}
	pthread_mutex_unlock(&rw->mtx);
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
	pthread_mutex_lock(&rw->mtx);
	if (lk == RUMPUSER_RW_WRITER)
		*heldp = rw->wheld && rw->writer == rumpuser_curlwp();
	else
		*heldp = rw->readers > 0;
	pthread_mutex_unlock(&rw->mtx);
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
