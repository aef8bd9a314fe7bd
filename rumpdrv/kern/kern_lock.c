/*
 * kern_lock.c - kmutex, krwlock and kcondvar over the rumpuser(3) locks.
 * Mutexes are created with RUMPUSER_MTX_KMUTEX so the hypercall layer
 * tracks the owning lwp (mutex_owned); they may carry hooks (kern.h).
 * Adaptive condition variables spin before they block and release their
 * interlock through its hooks: see cv_wait_adaptive.
 */
#include <limits.h>

#include <krank/hyp.h>
#include <krank/hyp_relax.h>

#include "kern/kern_int.h"

uint64_t cv_spin_ns = 50000;		/* see kern_cpu_init, krs_spin_us */
uint64_t kern_poll_ns = 50000;		/* likewise */
bool kern_poll_forever;			/* set at boot (kern_cpu_init) */

void
mutex_init(kmutex_t *m, kmutex_type_t type, int ipl)
{
	(void)ipl;
	m->hooks = NULL;		/* m may live in unzeroed memory */
	m->defer_wakes = false;
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
mutex_sethooks(kmutex_t *m, const struct kmutex_hooks *h)
{
	m->hooks = h;
}

void
mutex_defer_wakes(kmutex_t *m)
{
	m->defer_wakes = true;
}

/* Wake what this thread held back (see mutex_defer_wakes). */
static void
cv_wake_flush(struct lwp *l)
{
	unsigned n = l->l_wpend_n;
	l->l_wpend_n = 0;
	for (unsigned i = 0; i < n; i++)
		hyp_word_wake(l->l_wpend[i], INT_MAX);
}

void
mutex_enter(kmutex_t *m)
{
	struct lwp *l = curlwp;		/* also records the owner */
	rumpuser_mutex_enter(m->mtx);
	if (m->defer_wakes)
		l->l_wdefer++;
	if (m->hooks != NULL)
		m->hooks->mh_enter(m);
}

void
mutex_enter_clock(kmutex_t *m)
{
	if (!kern_poll_forever) {
		mutex_enter(m);
		return;
	}
	while (!mutex_tryenter(m))
		hyp_cpu_relax();
}

int
mutex_tryenter(kmutex_t *m)
{
	struct lwp *l = curlwp;
	if (rumpuser_mutex_tryenter(m->mtx) != 0)
		return 0;
	if (m->defer_wakes)
		l->l_wdefer++;
	if (m->hooks != NULL)
		m->hooks->mh_enter(m);
	return 1;
}

void
mutex_exit(kmutex_t *m)
{
	const struct kmutex_hooks *h = m->hooks;
	bool defer = m->defer_wakes;
	rumpuser_mutex_exit(m->mtx);
	if (defer) {
		struct lwp *l = curlwp;
		if (--l->l_wdefer == 0 && l->l_wpend_n > 0)
			cv_wake_flush(l);
	}
	if (h != NULL)
		h->mh_exit(m);
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
	cv->cv_gen = 0;
	cv->cv_sleepers = 0;
	cv->cv_wakecpu = -1;
	cv->cv_adaptive = false;
}

void
cv_init_adaptive(kcondvar_t *cv, const char *wmesg)
{
	cv_init(cv, wmesg);
	cv->cv_adaptive = true;
}

/* A wakeup this thread still holds back for cv (mutex_defer_wakes) is
 * made now: cv's memory may be reused once it is destroyed. */
static void
cv_wake_forget(kcondvar_t *cv)
{
	struct lwp *l = curlwp;
	for (unsigned i = 0; i < l->l_wpend_n; i++)
		if (l->l_wpend[i] == &cv->cv_gen) {
			hyp_word_wake(&cv->cv_gen, INT_MAX);
			l->l_wpend[i] = l->l_wpend[--l->l_wpend_n];
			return;
		}
}

void
cv_destroy(kcondvar_t *cv)
{
	if (cv->cv_adaptive)
		cv_wake_forget(cv);
	rumpuser_cv_destroy(cv->cv);
	cv->cv = NULL;
}

/*
 * Spin only where it can pay: not when the thread that woke us last time
 * ran on the CPU we run on now, for then it most likely shares our CPU
 * (more threads than CPUs) and a spin would only keep it from running.
 * The waker's CPU comes with each wakeup (cv_wakecpu, stored before the
 * generation moves) and is kept per thread (l_wakercpu, CPU + 1).
 */
static uint64_t
cv_spin_budget(void)
{
	uint64_t spin = __atomic_load_n(&cv_spin_ns, __ATOMIC_RELAXED);
	if (spin == 0 || curlwp->l_wakercpu == hyp_cpu_current() + 1)
		return 0;
	return spin;
}

static void
cv_note_waker(kcondvar_t *cv)
{
	curlwp->l_wakercpu = __atomic_load_n(&cv->cv_wakecpu,
	    __ATOMIC_RELAXED) + 1;
}

static int (*kern_poll_fn)(void);	/* atomic */
/* The pollers' beat (kern_poll_beat) and, with kern_poll_forever, how
 * many threads poll now: one line, written at every poll's start. */
static struct {
	uint32_t beat;
	uint32_t polling;
} kern_poll_state __attribute__((aligned(64)));	/* atomics */

void
kern_poll_set(int (*fn)(void))
{
	__atomic_store_n(&kern_poll_fn, fn, __ATOMIC_RELEASE);
}

const uint32_t *
kern_poll_beat(void)
{
	return &kern_poll_state.beat;
}

/* A poller starts: receive threads stand aside while the beat moves. */
static void
kern_poll_begin(void)
{
	if (kern_poll_forever)
		__atomic_add_fetch(&kern_poll_state.polling, 1,
		    __ATOMIC_RELAXED);
	__atomic_add_fetch(&kern_poll_state.beat, HYP_PKT_POLL_BEGIN, __ATOMIC_RELEASE);
}

/* A poller got what it waited for: it stops polling, not to sleep (the
 * receive threads keep standing aside; see kern_poll_watch). */
static void
kern_poll_done(void)
{
	if (kern_poll_forever)
		__atomic_sub_fetch(&kern_poll_state.polling, 1,
		    __ATOMIC_RELEASE);
}

/* The beat says pollers stopped: receive threads take over now. */
static void
kern_poll_wake(void)
{
	__atomic_add_fetch(&kern_poll_state.beat, HYP_PKT_POLL_SLEEP, __ATOMIC_RELEASE);
	hyp_word_wake(&kern_poll_state.beat, INT_MAX);
}

/* A poller stops to sleep: receive threads take over now. */
static void
kern_poll_end(void)
{
	kern_poll_done();
	kern_poll_wake();
}

/*
 * The watchdog of run to completion (kern_poll_forever), called by the
 * clock thread as it spins: when no thread polls and the beat did not
 * move for KERN_POLL_WATCH_NS, the receive threads, parked with no
 * timeout, are told to take their ports back (once per still beat), so
 * input is received while every thread computes.  One caller at a time.
 */
void
kern_poll_watch(uint64_t now)
{
	static uint32_t seen, told;
	static uint64_t since;
	static bool telling;

	uint32_t b = __atomic_load_n(&kern_poll_state.beat, __ATOMIC_ACQUIRE);
	if (b != seen || since == 0) {
		seen = b;
		since = now;
		return;
	}
	if (now - since < KERN_POLL_WATCH_NS || (telling && b == told) ||
	    __atomic_load_n(&kern_poll_state.polling, __ATOMIC_ACQUIRE) != 0)
		return;
	kern_poll_wake();
	told = __atomic_load_n(&kern_poll_state.beat, __ATOMIC_ACQUIRE);
	telling = true;
}

bool
kern_poll_spin(bool (*done)(void *), void *arg, uint64_t deadline)
{
	int (*poll)(void) = __atomic_load_n(&kern_poll_fn, __ATOMIC_ACQUIRE);
	uint64_t spin = kern_poll_forever ? UINT64_MAX :
	    __atomic_load_n(&kern_poll_ns, __ATOMIC_RELAXED);
	if (poll == NULL || spin == 0 || curlwp->l_wdefer > 0)
		return done(arg);
	kern_poll_begin();
	uint64_t t0 = kern_uptime_ns();
	for (unsigned i = 1;; i++) {
		if (done(arg)) {
			kern_poll_done();
			return true;
		}
		if (poll() == 0)
			hyp_cpu_relax();
		if ((i & 15) == 0) {
			uint64_t now = kern_uptime_ns();
			if (now - t0 >= spin || (deadline != 0 && now >= deadline))
				break;
		}
	}
	kern_poll_end();
	return done(arg);
}

/*
 * An adaptive wait.  The interlock is released with mutex_exit, so its
 * hooks run (and work deferred to the release runs before we wait);
 * then we watch cv_gen, spinning up to the budget and then sleeping on
 * cv_gen itself (hyp_word_wait, which checks the word as it goes to
 * sleep) until cv_gen moves or the deadline (0: none) passes.  g is read
 * under m after the caller's last look at its condition, and every
 * wakeup bumps cv_gen after changing that condition, so none is missed;
 * a waker looks for blocked waiters after its bump and a waiter for a
 * bump after counting itself blocked (both sequentially consistent), so
 * one of them sees the other.  One host call to sleep and one to wake:
 * a host mutex and condvar took four (the woken slept again on the
 * condvar's mutex, and glibc's wait leaves that mutex marked contended).
 * Returns with m held: 0, or EWOULDBLOCK at the deadline.
 */
static int
cv_wait_adaptive(kcondvar_t *cv, kmutex_t *m, uint64_t deadline)
{
	unsigned g = __atomic_load_n(&cv->cv_gen, __ATOMIC_SEQ_CST);
	struct lwp *l = curlwp;
	int (*poll)(void) = l->l_poll ?
	    __atomic_load_n(&kern_poll_fn, __ATOMIC_ACQUIRE) : NULL;
	/* A poller spins even on one CPU (its input comes from the NIC),
	 * but not when another thread on its CPU woke it last: that thread
	 * most likely makes its input too (two stacks on one core).  Run
	 * to completion: until the wakeup or the deadline, its core is its
	 * own. */
	uint64_t spin = poll == NULL ? cv_spin_budget() :
	    kern_poll_forever ? UINT64_MAX :
	    l->l_wakercpu == hyp_cpu_current() + 1 ? 0 :
	    __atomic_load_n(&kern_poll_ns, __ATOMIC_RELAXED);
	mutex_exit(m);
	/* Input handed up here takes the stack's locks: only a thread that
	 * holds none of them may poll. */
	if (poll != NULL && l->l_wdefer > 0) {
		poll = NULL;
		spin = cv_spin_budget();
	}
	if (poll != NULL && spin > 0)
		kern_poll_begin();
	uint64_t t0 = kern_uptime_ns();
	if (spin > 0) {
		for (unsigned i = 1;; i++) {
			if (__atomic_load_n(&cv->cv_gen, __ATOMIC_ACQUIRE) != g) {
				if (poll != NULL)
					kern_poll_done();
				cv_note_waker(cv);
				mutex_enter(m);
				return 0;
			}
			if (poll == NULL || poll() == 0)
				hyp_cpu_relax();
			else if (__atomic_load_n(&cv->cv_gen,
			    __ATOMIC_ACQUIRE) != g) {
				/* Our own input woke us: no thread to
				 * leave the CPU to next time. */
				kern_poll_done();
				l->l_wakercpu = 0;
				mutex_enter(m);
				return 0;
			}
			if ((i & 15) == 0) {
				uint64_t now = kern_uptime_ns();
				if (now - t0 >= spin ||
				    (deadline != 0 && now >= deadline))
					break;
			}
		}
	}
	if (poll != NULL && spin > 0)
		kern_poll_end();
	int rv = 0;
	/* Wakeups held back under a mutex we still hold (nested in m) must
	 * not wait for our sleep. */
	if (l->l_wpend_n > 0)
		cv_wake_flush(l);
	__atomic_add_fetch(&cv->cv_sleepers, 1, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&cv->cv_gen, __ATOMIC_SEQ_CST) == g) {
		uint64_t left = 0;
		if (deadline != 0) {
			uint64_t now = kern_uptime_ns();
			if (now >= deadline) {
				rv = EWOULDBLOCK;
				break;
			}
			left = deadline - now;
		}
		hyp_word_wait(&cv->cv_gen, g, left);
	}
	__atomic_sub_fetch(&cv->cv_sleepers, 1, __ATOMIC_RELAXED);
	if (rv == 0)
		cv_note_waker(cv);
	mutex_enter(m);
	return rv;
}

/* A wait on a hooked mutex must release it through mutex_exit. */
#define CV_CHECK_HOOKS(cv, m)						\
	KASSERTMSG((cv)->cv_adaptive || (m)->hooks == NULL,		\
	    "cv_wait: a mutex with hooks needs an adaptive condvar")

void
cv_wait(kcondvar_t *cv, kmutex_t *m)
{
	if (cv->cv_adaptive) {
		(void)cv_wait_adaptive(cv, m, 0);
		return;
	}
	CV_CHECK_HOOKS(cv, m);
	rumpuser_cv_wait(cv->cv, m->mtx);
}

int
cv_timedwait_ns(kcondvar_t *cv, kmutex_t *m, uint64_t ns)
{
	if (cv->cv_adaptive)
		return cv_wait_adaptive(cv, m, kern_uptime_ns() + (ns ? ns : 1));
	CV_CHECK_HOOKS(cv, m);
	int rv = rumpuser_cv_timedwait(cv->cv, m->mtx,
	    (int64_t)(ns / 1000000000u), (int64_t)(ns % 1000000000u));
	return rv == 0 ? 0 : EWOULDBLOCK;
}

/*
 * Wake every waiter of an adaptive condvar; a host call only for those
 * that block, and under a mutex_defer_wakes mutex only once the thread
 * lets go of it (the list is short: a full one wakes at once).
 */
static void
cv_wake_adaptive(kcondvar_t *cv)
{
	/* For the woken, see cv_spin_budget. */
	__atomic_store_n(&cv->cv_wakecpu, hyp_cpu_current(), __ATOMIC_RELAXED);
	__atomic_add_fetch(&cv->cv_gen, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&cv->cv_sleepers, __ATOMIC_SEQ_CST) == 0)
		return;
	struct lwp *l = curlwp;
	if (l->l_wdefer > 0) {
		unsigned n = l->l_wpend_n;
		for (unsigned i = 0; i < n; i++)
			if (l->l_wpend[i] == &cv->cv_gen)
				return;
		if (n < sizeof(l->l_wpend) / sizeof(l->l_wpend[0])) {
			l->l_wpend[n] = &cv->cv_gen;
			l->l_wpend_n = n + 1;
			return;
		}
	}
	hyp_word_wake(&cv->cv_gen, INT_MAX);
}

void
cv_signal(kcondvar_t *cv)
{
	if (cv->cv_adaptive)
		cv_wake_adaptive(cv);	/* spurious wakeups are allowed */
	else
		rumpuser_cv_signal(cv->cv);
}

void
cv_broadcast(kcondvar_t *cv)
{
	if (cv->cv_adaptive)
		cv_wake_adaptive(cv);
	else
		rumpuser_cv_broadcast(cv->cv);
}

bool
cv_has_waiters(kcondvar_t *cv)
{
	int n;
	if (cv->cv_adaptive)
		return __atomic_load_n(&cv->cv_sleepers, __ATOMIC_RELAXED) != 0;
	rumpuser_cv_has_waiters(cv->cv, &n);
	return n != 0;
}

KRS_EXPORT int
krs_spin_us(int us)
{
	int old = (int)(__atomic_load_n(&cv_spin_ns, __ATOMIC_RELAXED) / 1000);
	if (us >= 0) {
		__atomic_store_n(&cv_spin_ns, (uint64_t)us * 1000, __ATOMIC_RELAXED);
		__atomic_store_n(&kern_poll_ns, (uint64_t)us * 1000,
		    __ATOMIC_RELAXED);
	}
	return old;
}
