/*
 * kern_callout.c - timers.  Armed callouts sit on one list sorted by
 * deadline; the clock thread sleeps on a condvar until the earliest
 * deadline (or a change) and runs expired functions without the lock held.
 */
#include <krank/hyp_relax.h>

#include "kern/kern_int.h"

#define CALLOUT_PENDING	0x1
#define CALLOUT_RUNNING	0x2
#define CALLOUT_INITED	0x4

static kmutex_t callout_lock;		/* protects callout_list, every c_next,
					 * c_when, c_flags, callout_quit */
static kcondvar_t callout_cv;		/* the clock thread waits here */
static kcondvar_t callout_done_cv;	/* callout_halt waits here */
static callout_t *callout_list;		/* sorted by c_when */
static bool callout_quit;
static struct lwp *callout_lwp;
/* The head's c_when (UINT64_MAX: none), for a clock thread that spins
 * (kern_poll_forever): written under callout_lock, read without. */
static uint64_t callout_next;

/* After a change of the list's head, under callout_lock. */
static void
callout_publish(void)
{
	__atomic_store_n(&callout_next, callout_list != NULL ?
	    callout_list->c_when : UINT64_MAX, __ATOMIC_RELEASE);
}

static void
callout_unlink(callout_t *c)
{
	if (callout_list == c) {
		callout_list = c->c_next;
		c->c_next = NULL;
		callout_publish();
		return;
	}
	for (callout_t **pp = &callout_list; *pp != NULL; pp = &(*pp)->c_next) {
		if (*pp == c) {
			*pp = c->c_next;
			c->c_next = NULL;
			return;
		}
	}
}

/*
 * Run to completion (kern_poll_forever): the clock thread has a core and
 * makes no host call.  Instead of sleeping it spins on the clock (the
 * TSC through the vDSO) until the earliest deadline, a change of the
 * list or a stop, watching the network's pollers as it goes
 * (kern_poll_watch).  Called and returns with callout_lock held.
 */
static void
callout_spin(void)
{
	callout_publish();
	mutex_exit(&callout_lock);
	for (unsigned i = 0;; i++) {
		uint64_t now = kern_uptime_ns();
		if (now >= __atomic_load_n(&callout_next, __ATOMIC_ACQUIRE) ||
		    __atomic_load_n(&callout_quit, __ATOMIC_ACQUIRE))
			break;
		kern_poll_watch(now);
		hyp_cpu_relax();
	}
	mutex_enter(&callout_lock);
}

static void
callout_thread(void *arg)
{
	(void)arg;
	mutex_enter(&callout_lock);
	while (!callout_quit) {
		uint64_t now = kern_uptime_ns();
		callout_t *c = callout_list;
		if (kern_poll_forever && (c == NULL || c->c_when > now)) {
			callout_spin();
			continue;
		}
		if (c == NULL) {
			cv_wait(&callout_cv, &callout_lock);
			continue;
		}
		if (c->c_when > now) {
			cv_timedwait_ns(&callout_cv, &callout_lock, c->c_when - now);
			continue;
		}
		callout_list = c->c_next;
		callout_publish();
		c->c_next = NULL;
		c->c_flags = (c->c_flags & ~CALLOUT_PENDING) | CALLOUT_RUNNING;
		callout_func_t fn = c->c_func;
		void *fa = c->c_arg;
		mutex_exit(&callout_lock);
		fn(fa);
		mutex_enter(&callout_lock);
		c->c_flags &= ~CALLOUT_RUNNING;
		cv_broadcast(&callout_done_cv);
	}
	mutex_exit(&callout_lock);
}

int
kern_callout_init(void)
{
	mutex_init(&callout_lock, MUTEX_DEFAULT, IPL_NONE);
	cv_init(&callout_cv, "callout");
	cv_init(&callout_done_cv, "calldone");
	callout_quit = false;
	callout_next = UINT64_MAX;
	return kthread_create(callout_thread, NULL, KTHREAD_MUSTJOIN,
	    &callout_lwp, "clock");
}

void
kern_callout_fini(void)
{
	mutex_enter(&callout_lock);
	__atomic_store_n(&callout_quit, true, __ATOMIC_RELEASE);
	cv_broadcast(&callout_cv);
	mutex_exit(&callout_lock);
	kthread_join(callout_lwp);
	cv_destroy(&callout_done_cv);
	cv_destroy(&callout_cv);
	mutex_destroy(&callout_lock);
}

void
callout_init(callout_t *c, unsigned flags)
{
	(void)flags;
	c->c_next = NULL;
	c->c_when = 0;
	c->c_func = NULL;
	c->c_arg = NULL;
	c->c_flags = CALLOUT_INITED;
}

void
callout_destroy(callout_t *c)
{
	KASSERTMSG(!(c->c_flags & (CALLOUT_PENDING | CALLOUT_RUNNING)),
	    "callout_destroy: callout %p still pending or running", (void *)c);
	c->c_flags = 0;
}

void
callout_setfunc(callout_t *c, callout_func_t fn, void *arg)
{
	mutex_enter(&callout_lock);
	c->c_func = fn;
	c->c_arg = arg;
	mutex_exit(&callout_lock);
}

void
callout_schedule_ns(callout_t *c, uint64_t ns)
{
	mutex_enter(&callout_lock);
	if (c->c_flags & CALLOUT_PENDING)
		callout_unlink(c);
	c->c_when = kern_uptime_ns() + ns;
	c->c_flags |= CALLOUT_PENDING;
	callout_t **pp = &callout_list;
	while (*pp != NULL && (*pp)->c_when <= c->c_when)
		pp = &(*pp)->c_next;
	c->c_next = *pp;
	*pp = c;
	if (callout_list == c) {
		callout_publish();
		cv_signal(&callout_cv);
	}
	mutex_exit(&callout_lock);
}

void
callout_schedule(callout_t *c, int ticks)
{
	callout_schedule_ns(c, (uint64_t)(ticks < 0 ? 0 : ticks) * 1000000u);
}

void
callout_reset(callout_t *c, int ticks, callout_func_t fn, void *arg)
{
	callout_setfunc(c, fn, arg);
	callout_schedule(c, ticks);
}

bool
callout_stop(callout_t *c)
{
	bool was;
	mutex_enter(&callout_lock);
	was = (c->c_flags & CALLOUT_PENDING) != 0;
	if (was) {
		callout_unlink(c);
		c->c_flags &= ~CALLOUT_PENDING;
	}
	mutex_exit(&callout_lock);
	return was;
}

bool
callout_halt(callout_t *c)
{
	bool was = false;
	mutex_enter(&callout_lock);
	for (;;) {
		if (c->c_flags & CALLOUT_PENDING) {
			was = true;
			callout_unlink(c);
			c->c_flags &= ~CALLOUT_PENDING;
		}
		/* Wait for a running function, unless we are that function;
		 * then look again, for it may have re-armed itself (a timer
		 * that checks a "dying" flag before re-arming can have read
		 * it just before the caller set it). */
		if (!(c->c_flags & CALLOUT_RUNNING) || curlwp == callout_lwp)
			break;
		cv_wait(&callout_done_cv, &callout_lock);
	}
	mutex_exit(&callout_lock);
	return was;
}

bool
callout_pending(callout_t *c)
{
	mutex_enter(&callout_lock);
	bool p = (c->c_flags & CALLOUT_PENDING) != 0;
	mutex_exit(&callout_lock);
	return p;
}
