/*
 * krk_worker.c - the pool of parked isolate threads (see krk_worker.h).
 * Creating a pinned thread with a guarded stack and a signal stack costs
 * 25-110 us on a VM (mmap, mprotect, clone, its first run on the core);
 * handing a job to a thread that waits on a futex on that core costs a
 * wake-up.  The supervisor refills each used core's pool in the
 * background; a worker whose job ended goes back when it is clean.
 * Containment is krk_isolate.c's and unchanged: the same guard page under
 * the same stack, the same fault and stop handlers.
 */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "krk.h"
#include "krk_worker.h"

#define WK_PARKED	0u
#define WK_RUN		1u
#define WK_QUIT		2u

#define POOL_TARGET	2		/* parked per used core, refilled */
#define POOL_MAX	4		/* parked per core, returns beyond go */
#define REFILL_DELAY_NS	5000000ull	/* after the last take on that core:
					 * refills do not compete with a boot
					 * or a burst of spawns */
#define STACK_WARM	(32u << 10)	/* top of a stack kept resident */
#define STACK_CACHE	32

/*
 * wk_lock protects the pools, the dead list, the stack cache and the
 * counts.  Per core (0 .. CPU_SETSIZE-1): parked workers, how many, and
 * when a spawn last took one there (0: never, no refill).
 */
static pthread_mutex_t wk_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wk_cv = PTHREAD_COND_INITIALIZER;	/* a worker ended */
static struct wk_pool {
	struct krk_worker *head;
	unsigned n;
	int prio;			/* of the last take: what to refill with */
	uint64_t taken_ns;
} wk_pool[CPU_SETSIZE];
/* The cores a spawn has taken a worker on: the only ones refilled. */
#define WK_WANTED_MAX	64
static int wk_wanted[WK_WANTED_MAX];
static unsigned wk_nwanted;
static struct krk_worker *wk_dead;	/* ended, to be joined */
static unsigned wk_live;		/* threads created and not joined */
static unsigned wk_parked, wk_created, wk_retired;
static bool wk_stopping;
static struct { uint8_t *map, *alt; } stack_cache[STACK_CACHE];
static int stack_ncache;

static uint64_t
mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static bool
core_ok(int core)
{
	return core >= 0 && core < CPU_SETSIZE;
}

/* ---- stacks -------------------------------------------------------------- */

/* Give w's stacks to the cache (stack pages returned, the warm top zeroed
 * in place: MADV_DONTNEED there would cost the next thread a page fault
 * per page, ~20 us each on a paravirtualised host) or unmap them.  The
 * stacks' thread has been joined. */
static void
stacks_free(struct krk_worker *w)
{
	bool kept = false;
	if (w->map && w->alt) {
		size_t mapsz = KRK_GUARD_SIZE + KRK_STACK_SIZE;
		madvise(w->map + KRK_GUARD_SIZE, KRK_STACK_SIZE - STACK_WARM,
		    MADV_DONTNEED);
		memset(w->map + mapsz - STACK_WARM, 0, STACK_WARM);
		madvise(w->alt, KRK_ALT_SIZE, MADV_DONTNEED);
		pthread_mutex_lock(&wk_lock);
		if (stack_ncache < STACK_CACHE) {
			stack_cache[stack_ncache].map = w->map;
			stack_cache[stack_ncache].alt = w->alt;
			stack_ncache++;
			kept = true;
		}
		pthread_mutex_unlock(&wk_lock);
	}
	if (!kept) {
		if (w->map)
			munmap(w->map, KRK_GUARD_SIZE + KRK_STACK_SIZE);
		if (w->alt)
			munmap(w->alt, KRK_ALT_SIZE);
	}
	w->map = w->alt = NULL;
}

/* A guarded stack and a signal stack: from the cache, or new. */
static int
stacks_get(struct krk_worker *w)
{
	size_t mapsz = KRK_GUARD_SIZE + KRK_STACK_SIZE;
	pthread_mutex_lock(&wk_lock);
	if (stack_ncache > 0) {
		stack_ncache--;
		w->map = stack_cache[stack_ncache].map;
		w->alt = stack_cache[stack_ncache].alt;
	}
	pthread_mutex_unlock(&wk_lock);
	if (w->map == NULL) {
		w->map = mmap(NULL, mapsz, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		w->alt = mmap(NULL, KRK_ALT_SIZE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (w->map == MAP_FAILED || w->alt == MAP_FAILED) {
			if (w->map == MAP_FAILED)
				w->map = NULL;
			if (w->alt == MAP_FAILED)
				w->alt = NULL;
			stacks_free(w);
			return ENOMEM;
		}
		if (mprotect(w->map, KRK_GUARD_SIZE, PROT_NONE) != 0) {
			int e = errno;
			stacks_free(w);
			return e;
		}
	}
	w->stack_lo = (uintptr_t)w->map + KRK_GUARD_SIZE;
	w->stack_hi = (uintptr_t)w->map + mapsz;
	return 0;
}

/* ---- the worker thread --------------------------------------------------- */

static void
futex_wait(_Atomic uint32_t *p, uint32_t v)
{
	syscall(SYS_futex, p, FUTEX_WAIT_PRIVATE, v, NULL, NULL, 0);
}

static void
futex_wake(_Atomic uint32_t *p)
{
	syscall(SYS_futex, p, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* Park w in its core's pool; false when it should end instead. */
static bool
pool_put(struct krk_worker *w)
{
	bool kept = false;
	w->returned = false;
	pthread_mutex_lock(&wk_lock);
	if (!wk_stopping && !w->unclean && core_ok(w->core) &&
	    wk_pool[w->core].n < POOL_MAX) {
		w->next = wk_pool[w->core].head;
		wk_pool[w->core].head = w;
		wk_pool[w->core].n++;
		wk_parked++;
		kept = w->returned = true;
	}
	pthread_mutex_unlock(&wk_lock);
	return kept;
}

void
krk_worker_release(struct krk_worker *w)
{
	pool_put(w);
}

static void *
worker_main(void *arg)
{
	struct krk_worker *w = arg;
	stack_t ss = { .ss_sp = w->alt, .ss_size = KRK_ALT_SIZE, .ss_flags = 0 };

	sigaltstack(&ss, NULL);
	if (pthread_getcpuclockid(pthread_self(), &w->clk) == 0)
		atomic_store_explicit(&w->have_clk, true, memory_order_release);
	/* Wake exactly when asked: no timer slack on KRANK's cores.  A
	 * name of its own: top and ps -L tell isolate threads apart. */
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	prctl(PR_SET_NAME, (unsigned long)"krank-iso", 0, 0, 0);
	for (;;) {
		uint32_t g;
		while ((g = atomic_load_explicit(&w->go,
		    memory_order_acquire)) == WK_PARKED)
			futex_wait(&w->go, WK_PARKED);
		if (g == WK_QUIT)
			break;
		/* Nobody hands this worker a job until the job returns it to
		 * the pool (krk_worker_release); one handed then waits here
		 * until this one has returned. */
		atomic_store_explicit(&w->go, WK_PARKED, memory_order_relaxed);
		w->returned = false;
		w->fn(w, w->arg);
		if (!w->returned)
			break;
	}
	ss.ss_flags = SS_DISABLE;
	sigaltstack(&ss, NULL);
	pthread_mutex_lock(&wk_lock);
	if (w->unclean)
		wk_retired++;
	w->next = wk_dead;
	wk_dead = w;
	pthread_cond_broadcast(&wk_cv);
	pthread_mutex_unlock(&wk_lock);
	return NULL;
}

/* ---- the calls ----------------------------------------------------------- */

int
krk_worker_get(int core, int prio, struct krk_worker **wp)
{
	struct krk_worker *w = NULL;
	int rv;

	if (core_ok(core)) {
		pthread_mutex_lock(&wk_lock);
		struct wk_pool *p = &wk_pool[core];
		for (struct krk_worker **pp = &p->head; *pp; pp = &(*pp)->next)
			if ((*pp)->prio == prio) {
				w = *pp;
				*pp = w->next;
				p->n--;
				wk_parked--;
				break;
			}
		p->prio = prio;
		if (p->taken_ns == 0 && wk_nwanted < WK_WANTED_MAX)
			wk_wanted[wk_nwanted++] = core;
		p->taken_ns = mono_ns();
		pthread_mutex_unlock(&wk_lock);
		if (w != NULL) {
			w->next = NULL;
			*wp = w;
			return 0;
		}
	}
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return ENOMEM;
	w->core = core_ok(core) ? core : -1;
	w->prio = prio;
	if ((rv = stacks_get(w)) != 0) {
		free(w);
		return rv;
	}
	*wp = w;
	return 0;
}

static int
worker_create(struct krk_worker *w)
{
	pthread_attr_t attr;
	cpu_set_t cpus;
	int rv;

	pthread_attr_init(&attr);
	pthread_attr_setstack(&attr, (void *)w->stack_lo, KRK_STACK_SIZE);
	if (w->core >= 0) {
		CPU_ZERO(&cpus);
		CPU_SET(w->core, &cpus);
		pthread_attr_setaffinity_np(&attr, sizeof(cpus), &cpus);
	}
	if (w->prio > 0) {
		/* The safety valve is the kernel's RT throttling, which
		 * krk_boot.c insists is on before it allows this. */
		struct sched_param sp = { .sched_priority = w->prio };
		pthread_attr_setinheritsched(&attr, PTHREAD_EXPLICIT_SCHED);
		pthread_attr_setschedpolicy(&attr, SCHED_FIFO);
		pthread_attr_setschedparam(&attr, &sp);
	}
	pthread_mutex_lock(&wk_lock);
	wk_live++;
	pthread_mutex_unlock(&wk_lock);
	/* Before the thread exists: its first job may end, and another
	 * spawn take it from the pool, before pthread_create returns. */
	w->started = true;
	rv = pthread_create(&w->pt, &attr, worker_main, w);
	pthread_attr_destroy(&attr);
	pthread_mutex_lock(&wk_lock);
	if (rv != 0)
		wk_live--;
	else
		wk_created++;
	pthread_mutex_unlock(&wk_lock);
	if (rv != 0)
		w->started = false;
	return rv;
}

int
krk_worker_go(struct krk_worker *w, krk_worker_fn *fn, void *arg)
{
	int rv;

	w->fn = fn;
	w->arg = arg;
	if (w->started) {
		atomic_store_explicit(&w->go, WK_RUN, memory_order_release);
		futex_wake(&w->go);
		return 0;
	}
	/* A new thread runs its first job at once. */
	atomic_store_explicit(&w->go, WK_RUN, memory_order_relaxed);
	if ((rv = worker_create(w)) != 0) {
		stacks_free(w);
		free(w);
	}
	return rv;
}

/* Zero n bytes of stack just below the caller's frame (explicit_bzero is
 * not optimised away as a dead store). */
static __attribute__((noinline)) void
stack_burn(size_t n)
{
	char buf[n];
	explicit_bzero(buf, n);
	__asm__ volatile("" : : "r"(buf) : "memory");
}

void
krk_worker_scrub(struct krk_worker *w, bool signalled)
{
	char here;
	uintptr_t sp = (uintptr_t)&here;
	uintptr_t warm = (sp - STACK_WARM) & ~(uintptr_t)4095;

	if (sp <= w->stack_lo || sp > w->stack_hi) {
		w->unclean = true;	/* not on its own stack: do not trust */
		return;
	}
	if (warm < w->stack_lo)
		warm = w->stack_lo;
	/* What the isolate left below: pages given back (they come back
	 * zeroed), the warm top zeroed in place. */
	if (warm > w->stack_lo)
		madvise((void *)w->stack_lo, warm - w->stack_lo, MADV_DONTNEED);
	if (sp - warm > 1024)
		stack_burn(sp - warm - 1024);
	if (signalled) {
		stack_t cur;
		sigset_t mask;
		madvise(w->alt, KRK_ALT_SIZE, MADV_DONTNEED);
		if (sigaltstack(NULL, &cur) != 0 || cur.ss_sp != w->alt ||
		    (cur.ss_flags & (SS_DISABLE | SS_ONSTACK)) != 0)
			w->unclean = true;
		if (pthread_sigmask(SIG_BLOCK, NULL, &mask) != 0 ||
		    sigismember(&mask, SIGSEGV) || sigismember(&mask, SIGBUS))
			w->unclean = true;
	}
}

uint64_t
krk_worker_cpu(const struct krk_worker *w)
{
	struct timespec ts;
	uint64_t t;
	if (!atomic_load_explicit(&w->have_clk, memory_order_acquire) ||
	    clock_gettime(w->clk, &ts) != 0)
		return 0;
	t = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	return t > w->cpu_mark ? t - w->cpu_mark : 0;
}

uint64_t
krk_worker_cpu_end(struct krk_worker *w)
{
	struct timespec ts;
	uint64_t t, used;
	if (!w->have_clk || clock_gettime(w->clk, &ts) != 0)
		return 0;
	t = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	used = t > w->cpu_mark ? t - w->cpu_mark : 0;
	w->cpu_mark = t;
	return used;
}

/* Join the workers that ended; their stacks go to the cache. */
static void
reap_dead(void)
{
	pthread_mutex_lock(&wk_lock);
	struct krk_worker *dead = wk_dead;
	wk_dead = NULL;
	pthread_mutex_unlock(&wk_lock);
	while (dead) {
		struct krk_worker *w = dead;
		dead = w->next;
		pthread_join(w->pt, NULL);
		stacks_free(w);
		free(w);
		pthread_mutex_lock(&wk_lock);
		wk_live--;
		pthread_cond_broadcast(&wk_cv);
		pthread_mutex_unlock(&wk_lock);
	}
}

uint64_t
krk_worker_tend(uint64_t now)
{
	uint64_t next = UINT64_MAX;

	reap_dead();
	for (unsigned i = 0; ; i++) {
		pthread_mutex_lock(&wk_lock);
		if (i >= wk_nwanted) {
			pthread_mutex_unlock(&wk_lock);
			break;
		}
		int core = wk_wanted[i];
		struct wk_pool *p = &wk_pool[core];
		bool want = !wk_stopping && p->taken_ns != 0 &&
		    p->n < POOL_TARGET;
		uint64_t due = p->taken_ns + REFILL_DELAY_NS;
		int prio = p->prio;
		pthread_mutex_unlock(&wk_lock);
		if (!want)
			continue;
		if (now < due) {
			if (due < next)
				next = due;
			continue;
		}
		struct krk_worker *w;
		if (krk_worker_get(-1, prio, &w) != 0)
			return now + REFILL_DELAY_NS;
		w->core = core;
		/* Created parked: its first futex wait finds WK_PARKED. */
		if (worker_create(w) != 0) {
			stacks_free(w);
			free(w);
			return now + 100 * REFILL_DELAY_NS;
		}
		if (!pool_put(w)) {
			w->returned = false;
			atomic_store_explicit(&w->go, WK_QUIT,
			    memory_order_release);
			futex_wake(&w->go);
		}
		i--;			/* this core again: up to its target */
	}
	return next;
}

void
krk_workers_fini(void)
{
	pthread_mutex_lock(&wk_lock);
	wk_stopping = true;
	for (;;) {
		for (int core = 0; core < CPU_SETSIZE; core++) {
			struct wk_pool *p = &wk_pool[core];
			while (p->head) {
				struct krk_worker *w = p->head;
				p->head = w->next;
				p->n--;
				wk_parked--;
				atomic_store_explicit(&w->go, WK_QUIT,
				    memory_order_release);
				futex_wake(&w->go);
			}
			p->taken_ns = 0;
		}
		wk_nwanted = 0;
		if (wk_live == 0)
			break;
		if (wk_dead == NULL)
			pthread_cond_wait(&wk_cv, &wk_lock);
		pthread_mutex_unlock(&wk_lock);
		reap_dead();
		pthread_mutex_lock(&wk_lock);
	}
	while (stack_ncache > 0) {
		stack_ncache--;
		munmap(stack_cache[stack_ncache].map,
		    KRK_GUARD_SIZE + KRK_STACK_SIZE);
		munmap(stack_cache[stack_ncache].alt, KRK_ALT_SIZE);
	}
	wk_stopping = false;
	pthread_mutex_unlock(&wk_lock);
}

void
krk_worker_stats(struct krk_worker_stats *st)
{
	pthread_mutex_lock(&wk_lock);
	st->parked = wk_parked;
	st->created = wk_created;
	st->retired = wk_retired;
	pthread_mutex_unlock(&wk_lock);
}
