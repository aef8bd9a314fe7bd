/*
 * test_kern.c - the kernel base on its own: kmem from several threads,
 * mutexes and condvars, adaptive (spinning) condvars with and without a
 * spin budget, run to completion (waits that poll the network), mutex
 * hooks, kernel threads, callouts firing in deadline
 * order, workqueues, per-CPU data, randomness, the read-mostly table, the
 * log.
 */
#include <pthread.h>
#include <time.h>

#include "kern/kern.h"
#include "rdtest.h"

#define NTHR 4
#define NALLOC 20000

/* Run to completion (kern_poll_set): a fake network whose input arrives
 * on the poller's own tenth call. */
static kmutex_t rc_lk;
static kcondvar_t rc_cv;
static int rc_ready, rc_calls;
static struct lwp *rc_caller;

static int
rc_poll(void)
{
	rc_caller = curlwp;
	if (++rc_calls == 10) {
		__atomic_store_n(&rc_ready, 1, __ATOMIC_RELEASE);
		cv_broadcast(&rc_cv);
		return 1;
	}
	return 0;
}

static bool
rc_done(void *arg)
{
	(void)arg;
	return __atomic_load_n(&rc_ready, __ATOMIC_ACQUIRE) != 0;
}

/* One wait for rc_ready: on the condvar (l_poll as a socket wait sets
 * it), or by kern_poll_spin; 0 when it came, EWOULDBLOCK if not in 2 s. */
static int
rc_wait(int poll, int spin_fn)
{
	rc_ready = rc_calls = 0;
	rc_caller = NULL;
	if (spin_fn)
		return kern_poll_spin(rc_done, NULL, kern_uptime_ns() +
		    2000000000ULL) ? 0 : EWOULDBLOCK;
	int rv = 0;
	mutex_enter(&rc_lk);
	curlwp->l_poll += poll;
	while (!rc_ready && rv == 0)
		rv = cv_timedwait_ns(&rc_cv, &rc_lk, 2000000000ULL);
	curlwp->l_poll -= poll;
	mutex_exit(&rc_lk);
	return rv;
}

static void
test_run_to_completion(void)
{
	const uint32_t *beat = kern_poll_beat();
	mutex_init(&rc_lk, MUTEX_DEFAULT, IPL_NONE);
	cv_init_adaptive(&rc_cv, "rtc");
	int spin0 = krs_spin_us(200);

	kern_poll_set(rc_poll);
	uint32_t b0 = __atomic_load_n(beat, __ATOMIC_RELAXED);
	CHECK(rc_wait(1, 0) == 0 && rc_calls == 10 && rc_caller == curlwp,
	    "a polling wait received its own input: %d polls in the waiting "
	    "thread", rc_calls);
	CHECK(__atomic_load_n(beat, __ATOMIC_RELAXED) != b0,
	    "and moved the pollers' beat");
	CHECK(rc_wait(0, 1) == 0 && rc_calls == 10 && rc_caller == curlwp,
	    "kern_poll_spin: the same outside a condvar (%d polls)", rc_calls);
	/* Not a socket wait: no polling, the input never comes. */
	rc_ready = rc_calls = 0;
	mutex_enter(&rc_lk);
	CHECK(cv_timedwait_ns(&rc_cv, &rc_lk, 3000000) == EWOULDBLOCK &&
	    rc_calls == 0, "a wait without l_poll does not poll");
	mutex_exit(&rc_lk);
	/* A thread holding a stack lock (mutex_defer_wakes) never polls. */
	kmutex_t held;
	mutex_init(&held, MUTEX_DEFAULT, IPL_NONE);
	mutex_defer_wakes(&held);
	rc_ready = rc_calls = 0;
	mutex_enter(&held);
	CHECK(!kern_poll_spin(rc_done, NULL, 0) && rc_calls == 0,
	    "no polling while a mutex_defer_wakes mutex is held");
	mutex_exit(&held);
	mutex_destroy(&held);
	/* Spinning off: no polling either. */
	krs_spin_us(0);
	CHECK(!kern_poll_spin(rc_done, NULL, 0) && rc_calls == 0,
	    "no polling with the spin budget 0");
	kern_poll_set(NULL);
	krs_spin_us(200);
	CHECK(!kern_poll_spin(rc_done, NULL, 0) && rc_calls == 0,
	    "nor with nothing pollable");
	krs_spin_us(spin0);
	cv_destroy(&rc_cv);
	mutex_destroy(&rc_lk);
	PASS("run to completion: socket waits poll the network while they spin, "
	    "only where they may");
}

static void *
kmem_worker(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg;
	static __thread void *held[256];
	static __thread size_t held_len[256];
	for (int i = 0; i < NALLOC; i++) {
		unsigned k = (seed = seed * 1103515245 + 12345) >> 8;
		unsigned slot = k % 256;
		if (held[slot] != NULL) {
			unsigned char *p = held[slot];
			/* The pattern written at alloc must be intact. */
			for (size_t j = 0; j < held_len[slot]; j++)
				if (p[j] != (unsigned char)(slot ^ j))
					return (void *)1;
			kmem_free(held[slot], held_len[slot]);
			held[slot] = NULL;
		} else {
			size_t len = 1 + k % 6000;
			unsigned char *p = kmem_alloc(len, KM_SLEEP);
			if (((uintptr_t)p & 15) != 0)
				return (void *)2;
			for (size_t j = 0; j < len; j++)
				p[j] = (unsigned char)(slot ^ j);
			held[slot] = p;
			held_len[slot] = len;
		}
	}
	for (int s = 0; s < 256; s++)
		if (held[s] != NULL)
			kmem_free(held[s], held_len[s]);
	return NULL;
}

static kmutex_t lk;
static kcondvar_t cv;
static int counter;
static int order[8];
static int norder;

static void
count_thread(void *arg)
{
	for (int i = 0; i < 10000; i++) {
		mutex_enter(&lk);
		counter++;
		mutex_exit(&lk);
	}
	(void)arg;
}

static void
callout_fn(void *arg)
{
	mutex_enter(&lk);
	order[norder++] = (int)(intptr_t)arg;
	cv_broadcast(&cv);
	mutex_exit(&lk);
}

struct mywork {
	struct work wk;
	int val;
};
static int wq_sum;
static void
wq_fn(struct work *wk, void *arg)
{
	struct mywork *w = (struct mywork *)wk;
	(void)arg;
	mutex_enter(&lk);
	wq_sum += w->val;
	mutex_exit(&lk);
}

/* Ping-pong through an adaptive condvar: turn goes 0 -> 1 -> 0 ... */
static kmutex_t pp_lk;
static kcondvar_t pp_cv;
static int pp_turn, pp_rounds;

static void
pingpong_thread(void *arg)
{
	int me = (int)(intptr_t)arg;
	mutex_enter(&pp_lk);
	for (int i = 0; i < pp_rounds; i++) {
		while (pp_turn != me)
			cv_wait(&pp_cv, &pp_lk);
		pp_turn = 1 - me;
		cv_broadcast(&pp_cv);
	}
	mutex_exit(&pp_lk);
}

static int
pingpong(int rounds)
{
	struct lwp *l[2];
	pp_turn = 0;
	pp_rounds = rounds;
	for (int i = 0; i < 2; i++)
		kthread_create(pingpong_thread, (void *)(intptr_t)i,
		    KTHREAD_MUSTJOIN, &l[i], "pingpong");
	for (int i = 0; i < 2; i++)
		kthread_join(l[i]);
	return pp_turn;
}

/* Hooks that count, and check they run with the mutex in the right state. */
static kmutex_t hk;
static int hk_enters, hk_exits, hk_bad;
static void
hk_enter(kmutex_t *m)
{
	hk_enters++;
	hk_bad += !mutex_owned(m);
}
static void
hk_exit(kmutex_t *m)
{
	hk_exits++;
	hk_bad += mutex_owned(m);
}
static const struct kmutex_hooks hk_hooks = { hk_enter, hk_exit };

static void
percpu_sum(void *p, void *arg, unsigned ci)
{
	(void)ci;
	*(long *)arg += *(long *)p;
}

/* The beat's SLEEP half (HYP_PKT_POLL_SLEEP counts). */
static uint32_t
beat_sleeps(const uint32_t *beat)
{
	return __atomic_load_n(beat, __ATOMIC_ACQUIRE) & 0xffffu;
}

static int forever_fired;
static uint64_t forever_at;

static void
forever_fn(void *arg)
{
	(void)arg;
	forever_at = kern_uptime_ns();
	__atomic_store_n(&forever_fired, 1, __ATOMIC_RELEASE);
}

static bool
rc_never(void *arg)
{
	(void)arg;
	return false;
}

/*
 * KRANK_SPIN_US=forever (test_kern_forever.sh): a polling wait spins
 * until its input however long it takes; pollers that stop without
 * sleeping leave the receive threads parked until the clock thread's
 * watchdog ends the beat, KERN_POLL_WATCH_NS later and once; a poller
 * that keeps polling is never taken for gone; timers still fire.
 */
static void
test_poll_forever(void)
{
	const uint32_t *beat = kern_poll_beat();
	CHECK(kern_poll_forever, "KRANK_SPIN_US=forever chose run to completion");
	mutex_init(&rc_lk, MUTEX_DEFAULT, IPL_NONE);
	cv_init_adaptive(&rc_cv, "rtc");
	kern_poll_set(rc_poll);
	CHECK(rc_wait(1, 0) == 0 && rc_calls == 10 && rc_caller == curlwp,
	    "a polling wait received its own input (%d polls)", rc_calls);

	/* A poller that got its input and went on computing: the beat
	 * moved (BEGIN) and no SLEEP came.  The watchdog adds one, after
	 * KERN_POLL_WATCH_NS and not before, and only one. */
	uint64_t t0 = kern_uptime_ns();
	CHECK(rc_wait(0, 1) == 0, "kern_poll_spin got its input");
	uint32_t s0 = beat_sleeps(beat);
	uint64_t t1 = t0;
	while (beat_sleeps(beat) == s0 &&
	    (t1 = kern_uptime_ns()) - t0 < 2000000000ULL)
		hyp_cpu_relax();
	CHECK(beat_sleeps(beat) != s0, "the clock thread's watchdog ended the "
	    "beat with no poller left (after %llu us)",
	    (unsigned long long)(t1 - t0) / 1000);
	CHECK(t1 - t0 >= KERN_POLL_WATCH_NS / 2, "not before its time "
	    "(%llu us)", (unsigned long long)(t1 - t0) / 1000);
	uint32_t s1 = beat_sleeps(beat);
	uint64_t t2 = kern_uptime_ns();
	while (kern_uptime_ns() - t2 < 3 * (uint64_t)KERN_POLL_WATCH_NS)
		hyp_cpu_relax();
	CHECK(beat_sleeps(beat) == s1, "and once: the still beat is not ended "
	    "again");

	/* A poller that keeps polling (here 5 watchdog periods, with no
	 * input) is not taken for gone: the one SLEEP is its own, at its
	 * deadline. */
	kern_poll_set(rc_poll);
	rc_ready = rc_calls = 0;
	uint32_t s2 = beat_sleeps(beat);
	CHECK(!kern_poll_spin(rc_never, NULL, kern_uptime_ns() +
	    5 * (uint64_t)KERN_POLL_WATCH_NS), "a poll with no input ran to "
	    "its deadline");
	CHECK(beat_sleeps(beat) == (uint16_t)(s2 + 1), "and the beat was "
	    "ended once, by the poller (%u sleeps)",
	    (unsigned)(uint16_t)(beat_sleeps(beat) - s2));
	kern_poll_set(NULL);
	cv_destroy(&rc_cv);
	mutex_destroy(&rc_lk);

	/* Timers run on the spinning clock thread, not early. */
	callout_t c;
	callout_init(&c, 0);
	uint64_t t3 = kern_uptime_ns();
	forever_fired = 0;
	callout_reset(&c, 5, forever_fn, NULL);
	while (!__atomic_load_n(&forever_fired, __ATOMIC_ACQUIRE) &&
	    kern_uptime_ns() - t3 < 2000000000ULL)
		hyp_cpu_relax();
	CHECK(forever_fired && forever_at - t3 >= 5000000, "a 5 ms callout "
	    "fired after %llu us", (unsigned long long)(forever_at - t3) / 1000);
	callout_halt(&c);
	callout_destroy(&c);
	PASS("run to completion (forever): polls spin until their input; the "
	    "clock thread's watchdog ends a still beat once, after "
	    "KERN_POLL_WATCH_NS, and never under a poller; callouts fire");
}

int
main(int argc, char **argv)
{
	char err[256];
	if (argc > 1 && strcmp(argv[1], "forever") == 0)
		setenv("KRANK_SPIN_US", "forever", 1);
	CHECK(krs_boot("", err, sizeof(err)) == 0, "boot: %s", err);
	if (argc > 1 && strcmp(argv[1], "forever") == 0) {
		test_poll_forever();
		krs_shutdown();
		return 0;
	}
	if (argc > 1 && strcmp(argv[1], "panic") == 0) {
		/* Driven by test_kern_panic.sh: must not return. */
		int answer = 41;
		KASSERTMSG(answer == 42, "test panic: answer is %d", answer);
		printf("KASSERTMSG returned\n");
		return 0;
	}

	pthread_t t[NTHR];
	for (int i = 0; i < NTHR; i++)
		pthread_create(&t[i], NULL, kmem_worker, (void *)(uintptr_t)(i + 1));
	for (int i = 0; i < NTHR; i++) {
		void *r;
		pthread_join(t[i], &r);
		CHECK(r == NULL, "kmem worker %d: code %p", i, r);
	}
	PASS("kmem: 4 threads x 20000 alloc/free of 1..6000 bytes keep contents and alignment");

	mutex_init(&lk, MUTEX_DEFAULT, IPL_NONE);
	cv_init(&cv, "test");
	struct lwp *kt[3];
	for (int i = 0; i < 3; i++)
		CHECK(kthread_create(count_thread, NULL, KTHREAD_MUSTJOIN, &kt[i],
		    "counter") == 0, "kthread_create");
	for (int i = 0; i < 3; i++)
		CHECK(kthread_join(kt[i]) == 0, "join");
	CHECK(counter == 30000, "counter %d", counter);
	mutex_enter(&lk);
	CHECK(mutex_owned(&lk), "mutex_owned while held");
	mutex_exit(&lk);
	CHECK(!mutex_owned(&lk), "mutex_owned after exit");
	PASS("kthreads + mutex: 3 threads x 10000 increments = 30000; mutex_owned");

	mutex_enter(&lk);
	CHECK(cv_timedwait_ns(&cv, &lk, 2000000) == EWOULDBLOCK, "timedwait");
	mutex_exit(&lk);
	PASS("cv_timedwait_ns times out with EWOULDBLOCK");

	mutex_init(&pp_lk, MUTEX_DEFAULT, IPL_NONE);
	cv_init_adaptive(&pp_cv, "pingpong");
	int spin0 = krs_spin_us(20);
	CHECK(krs_spin_us(-1) == 20, "krs_spin_us reads back 20 (boot value %d)",
	    spin0);
	CHECK(pingpong(20000) == 0, "20000 hand-offs, spinning allowed");
	krs_spin_us(0);
	CHECK(pingpong(20000) == 0, "20000 hand-offs, never spinning");
	for (int sp = 0; sp <= 1; sp++) {
		krs_spin_us(sp ? 20 : 0);
		mutex_enter(&pp_lk);
		CHECK(cv_timedwait_ns(&pp_cv, &pp_lk, 3000000) == EWOULDBLOCK,
		    "adaptive timedwait times out (spin %d)", sp);
		CHECK(mutex_owned(&pp_lk), "and returns with the mutex held");
		mutex_exit(&pp_lk);
	}
	CHECK(!cv_has_waiters(&pp_cv), "no waiters left");
	/* Wakeups held back until the interlock is released: none lost. */
	mutex_defer_wakes(&pp_lk);
	krs_spin_us(20);
	CHECK(pingpong(20000) == 0, "20000 hand-offs, deferred wakes, spinning");
	krs_spin_us(0);
	CHECK(pingpong(20000) == 0, "20000 hand-offs, deferred wakes, blocking");
	/* A sleeper is woken only once the waker lets go of the mutex. */
	struct lwp *sl;
	pp_turn = 0;
	pp_rounds = 1;
	kthread_create(pingpong_thread, (void *)(intptr_t)1, KTHREAD_MUSTJOIN,
	    &sl, "sleeper");
	for (;;) {			/* until it sleeps (spin is 0) */
		mutex_enter(&pp_lk);
		if (cv_has_waiters(&pp_cv))
			break;
		mutex_exit(&pp_lk);
		kpause_ns(100000);
	}
	pp_turn = 1;
	cv_broadcast(&pp_cv);
	CHECK(curlwp->l_wpend_n == 1, "the wakeup is held while the mutex is "
	    "(%u held)", curlwp->l_wpend_n);
	mutex_exit(&pp_lk);
	CHECK(curlwp->l_wpend_n == 0, "and made at the release");
	CHECK(kthread_join(sl) == 0 && pp_turn == 0, "the sleeper ran");
	krs_spin_us(spin0);
	PASS("adaptive condvars: hand-offs with and without spinning, timeouts, "
	    "wakeups deferred to the release");

	mutex_init(&hk, MUTEX_DEFAULT, IPL_NONE);
	mutex_sethooks(&hk, &hk_hooks);
	mutex_enter(&hk);
	mutex_exit(&hk);
	CHECK(mutex_tryenter(&hk), "tryenter");
	mutex_exit(&hk);
	CHECK(hk_enters == 2 && hk_exits == 2 && hk_bad == 0,
	    "hooks ran after taking and after releasing: %d/%d/%d", hk_enters,
	    hk_exits, hk_bad);
	mutex_enter(&hk);
	CHECK(cv_timedwait_ns(&pp_cv, &hk, 1000000) == EWOULDBLOCK, "wait");
	mutex_exit(&hk);
	CHECK(hk_enters == 4 && hk_exits == 4 && hk_bad == 0,
	    "an adaptive wait released and retook it through the hooks");
	mutex_destroy(&hk);
	cv_destroy(&pp_cv);
	mutex_destroy(&pp_lk);
	PASS("mutex hooks run on enter, tryenter, exit and adaptive waits");

	test_run_to_completion();

	callout_t c[4];
	int delays[4] = { 30, 10, 20, 5 };
	uint64_t t0 = kern_uptime_ns();
	for (int i = 0; i < 4; i++) {
		callout_init(&c[i], 0);
		callout_reset(&c[i], delays[i], callout_fn, (void *)(intptr_t)i);
	}
	CHECK(callout_stop(&c[2]), "stop pending callout");
	mutex_enter(&lk);
	while (norder < 3)
		cv_wait(&cv, &lk);
	mutex_exit(&lk);
	uint64_t el = kern_uptime_ns() - t0;
	CHECK(order[0] == 3 && order[1] == 1 && order[2] == 0,
	    "order %d %d %d", order[0], order[1], order[2]);
	CHECK(el >= 30000000, "fired too early: %llu ns", (unsigned long long)el);
	CHECK(!callout_pending(&c[2]) && norder == 3, "stopped callout ran");
	for (int i = 0; i < 4; i++) {
		callout_halt(&c[i]);
		callout_destroy(&c[i]);
	}
	PASS("callouts fire in deadline order (5,10,30 ms), not early; a stopped one never fires");

	struct workqueue *wq;
	struct mywork w[10];
	CHECK(workqueue_create(&wq, "testwq", wq_fn, NULL, 0, 0, 0) == 0, "wq");
	for (int i = 0; i < 10; i++) {
		w[i].val = i + 1;
		workqueue_enqueue(wq, &w[i].wk, NULL);
	}
	workqueue_wait(wq, &w[9].wk);
	mutex_enter(&lk);
	CHECK(wq_sum == 55, "wq sum %d", wq_sum);
	mutex_exit(&lk);
	workqueue_destroy(wq);
	PASS("workqueue runs 10 items in order before workqueue_wait returns");

	percpu_t *pc = percpu_alloc(sizeof(long));
	for (int i = 0; i < 100; i++) {
		long *p = percpu_getref(pc);
		(*p)++;
		percpu_putref(pc);
	}
	long sum = 0;
	percpu_foreach(pc, percpu_sum, &sum);
	CHECK(sum == 100, "percpu sum %ld", sum);
	percpu_free(pc, sizeof(long));
	PASS("per-CPU counters sum to 100 over all CPUs");

	uint64_t a = cprng_fast64(), b = cprng_fast64();
	CHECK(a != b, "fast rng repeats");
	unsigned char buf[32] = { 0 }, zero[32] = { 0 };
	CHECK(cprng_strong(buf, sizeof(buf)) == 0 && memcmp(buf, zero, 32) != 0,
	    "strong rng");
	PASS("cprng_fast64 and cprng_strong give data");

	struct rmtable *tab;
	int v1 = 1, v2 = 2;
	CHECK(rmtable_create(&tab) == 0, "rmtable");
	CHECK(rmtable_insert(tab, "one", &v1) == 0, "insert");
	CHECK(rmtable_insert(tab, "one", &v2) == EEXIST, "dup insert");
	CHECK(rmtable_insert(tab, "two", &v2) == 0, "insert two");
	CHECK(rmtable_lookup(tab, "two", NULL, NULL) == &v2, "lookup");
	CHECK(rmtable_remove(tab, "two") == 0, "remove");
	CHECK(rmtable_lookup(tab, "two", NULL, NULL) == NULL, "gone");
	CHECK(rmtable_remove(tab, "two") == ENOENT, "remove twice");
	rmtable_destroy(tab);
	PASS("read-mostly table: insert, EEXIST, lookup, remove, ENOENT");

	struct timespec ts;
	getnanotime(&ts);
	CHECK(ts.tv_sec > 1600000000, "wall clock %ld", (long)ts.tv_sec);
	klog(LOG_INFO, "test marker %d", 4242);
	char logbuf[16384];
	klog_read(logbuf, sizeof(logbuf));
	CHECK(strstr(logbuf, "test marker 4242\n") != NULL, "log");
	PASS("wall clock sane; klog line readable from the ring");

	cv_destroy(&cv);
	mutex_destroy(&lk);
	krs_shutdown();
	DONE();
}
