/*
 * kern_lock.c - kmutex, krwlock and kcondvar over the rumpuser(3) locks.
 * Mutexes are created with RUMPUSER_MTX_KMUTEX so the hypercall layer
 * tracks the owning lwp (mutex_owned).
 */
#include "kern/kern_int.h"

void
mutex_init(kmutex_t *m, kmutex_type_t type, int ipl)
{
	(void)ipl;
	rumpuser_mutex_init(&m->mtx, RUMPUSER_MTX_KMUTEX |
	    (type == MUTEX_SPIN ? RUMPUSER_MTX_SPIN : 0));
}

void
mutex_destroy(kmutex_t *m)
{
	rumpuser_mutex_destroy(m->mtx);
	m->mtx = NULL;
}

void
mutex_enter(kmutex_t *m)
{
	(void)curlwp;			/* make sure the owner is recorded */
	rumpuser_mutex_enter(m->mtx);
}

int
mutex_tryenter(kmutex_t *m)
{
	(void)curlwp;
	return rumpuser_mutex_tryenter(m->mtx) == 0;
}

void
mutex_exit(kmutex_t *m)
{
	rumpuser_mutex_exit(m->mtx);
}

bool
mutex_owned(kmutex_t *m)
{
	struct lwp *l;
	rumpuser_mutex_owner(m->mtx, &l);
	return l != NULL && l == rumpuser_curlwp();
}

void
rw_init(krwlock_t *rw)
{
	rumpuser_rw_init(&rw->rw);
}

void
rw_destroy(krwlock_t *rw)
{
	rumpuser_rw_destroy(rw->rw);
	rw->rw = NULL;
}

void
rw_enter(krwlock_t *rw, krw_t op)
{
	rumpuser_rw_enter(op == RW_WRITER ? RUMPUSER_RW_WRITER :
	    RUMPUSER_RW_READER, rw->rw);
}

int
rw_tryenter(krwlock_t *rw, krw_t op)
{
	return rumpuser_rw_tryenter(op == RW_WRITER ? RUMPUSER_RW_WRITER :
	    RUMPUSER_RW_READER, rw->rw) == 0;
}

void
rw_exit(krwlock_t *rw)
{
	rumpuser_rw_exit(rw->rw);
}

void
rw_downgrade(krwlock_t *rw)
{
	rumpuser_rw_downgrade(rw->rw);
}

int
rw_tryupgrade(krwlock_t *rw)
{
	return rumpuser_rw_tryupgrade(rw->rw) == 0;
}

bool
rw_write_held(krwlock_t *rw)
{
	int held;
	rumpuser_rw_held(RUMPUSER_RW_WRITER, rw->rw, &held);
	return held != 0;
}

bool
rw_lock_held(krwlock_t *rw)
{
	int w, r;
	rumpuser_rw_held(RUMPUSER_RW_WRITER, rw->rw, &w);
	rumpuser_rw_held(RUMPUSER_RW_READER, rw->rw, &r);
	return w || r;
}

void
cv_init(kcondvar_t *cv, const char *wmesg)
{
	(void)wmesg;
	rumpuser_cv_init(&cv->cv);
}

void
cv_destroy(kcondvar_t *cv)
{
	rumpuser_cv_destroy(cv->cv);
	cv->cv = NULL;
}

void
cv_wait(kcondvar_t *cv, kmutex_t *m)
{
	rumpuser_cv_wait(cv->cv, m->mtx);
}

int
cv_timedwait_ns(kcondvar_t *cv, kmutex_t *m, uint64_t ns)
{
	int rv = rumpuser_cv_timedwait(cv->cv, m->mtx,
	    (int64_t)(ns / 1000000000u), (int64_t)(ns % 1000000000u));
	return rv == 0 ? 0 : EWOULDBLOCK;
}

void
cv_signal(kcondvar_t *cv)
{
	rumpuser_cv_signal(cv->cv);
}

void
cv_broadcast(kcondvar_t *cv)
{
	rumpuser_cv_broadcast(cv->cv);
}

bool
cv_has_waiters(kcondvar_t *cv)
{
	int n;
	rumpuser_cv_has_waiters(cv->cv, &n);
	return n != 0;
}
