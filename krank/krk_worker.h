/*
 * krk_worker.h - the host threads that run isolate threads (internal to
 * krank/, between krk_isolate.c and krk_worker.c).  A worker is a host
 * thread pinned to one core, with a guarded stack and a signal stack,
 * that runs one job (an isolate thread's trampoline) after another and
 * waits on a futex in between.  Jobs are handed to parked workers, so a
 * spawn does not pay for a thread's creation.
 */
#ifndef KRK_WORKER_H
#define KRK_WORKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define KRK_STACK_SIZE	(1u << 20)	/* usable stack of every isolate thread */
#define KRK_GUARD_SIZE	(64u << 10)	/* PROT_NONE under it */
#define KRK_ALT_SIZE	(64u << 10)	/* signal stack */

struct krk_worker;
typedef void krk_worker_fn(struct krk_worker *w, void *arg);

/*
 * One worker.  The fields above `go` are fixed once the thread runs
 * (stack_lo/hi, pt and clk may be read by any thread while a job of
 * this worker is live; clk once have_clk is set); fn, arg, cpu_mark and unclean belong to the
 * worker thread while it runs a job and to whoever hands it one while
 * it is parked.
 */
struct krk_worker {
	pthread_t pt;
	uint8_t *map;			/* guard + stack */
	uint8_t *alt;			/* signal stack */
	uintptr_t stack_lo, stack_hi;	/* the usable stack */
	int core;			/* pinned there; -1: not pinned */
	int prio;			/* SCHED_FIFO priority; 0: SCHED_OTHER */
	clockid_t clk;			/* its CPU clock, set by the thread */
	_Atomic bool have_clk;		/* clk is set */
	bool started;			/* the host thread exists */
	_Atomic uint32_t go;		/* futex: WK_PARKED, WK_RUN, WK_QUIT */
	krk_worker_fn *fn;
	void *arg;
	uint64_t cpu_mark;		/* its CPU time when the last job ended */
	bool unclean;			/* the job asks: do not reuse me */
	bool returned;			/* krk_worker_release parked it */
	bool kill_ready;		/* the job's: stop signal unblocked */
	struct krk_worker *next;	/* pool or dead list; wk_lock */
};

/*
 * krk_worker_get - a parked worker of core (and SCHED_FIFO priority prio,
 * 0 for none) from the pool, or a new one whose thread is not yet
 * created.  Either way its stacks are ready.  ENOMEM, or mprotect's error.
 */
int krk_worker_get(int core, int prio, struct krk_worker **wp);
/*
 * krk_worker_go - run fn(w, arg) on w: wake it, or create its thread.
 * On an error (pthread_create's) w is freed and fn never runs.
 */
int krk_worker_go(struct krk_worker *w, krk_worker_fn *fn, void *arg);
/*
 * krk_worker_scrub - called by a job on its own worker before it reports
 * its end: the stack below the caller's frame is zeroed (its top) and
 * given back (the rest), the signal stack too when a signal was taken;
 * a worker whose signal state is not as it was made is marked unclean.
 */
void krk_worker_scrub(struct krk_worker *w, bool signalled);
/*
 * krk_worker_release - the job on w gives it back to its core's pool
 * before it reports its end (so that the next spawn finds it parked),
 * unless it is unclean or the pool is full: then w ends after the job.
 * A job handed to it now runs once the current one has returned.  The
 * job must not touch w after reporting its end.
 */
void krk_worker_release(struct krk_worker *w);
/* krk_worker_cpu - the CPU time w has used since its current job began
 * (callable from any thread while that job runs), in ns. */
uint64_t krk_worker_cpu(const struct krk_worker *w);
/* krk_worker_cpu_end - the same, from the worker itself at the end of
 * its job, which starts the count for the next job. */
uint64_t krk_worker_cpu_end(struct krk_worker *w);
/*
 * krk_worker_tend - the supervisor's share: join workers that ended and
 * reuse their stacks, and fill the pool of each core a spawn used up to
 * its target.  Takes no lock of the caller's; may create threads.
 * Returns the CLOCK_MONOTONIC time it wants to be called again at
 * (UINT64_MAX: nothing pending).
 */
uint64_t krk_worker_tend(uint64_t now_ns);
/* krk_workers_fini - stop every parked worker and wait for all others
 * (jobs must have ended); free their stacks. */
void krk_workers_fini(void);
/* krk_worker_stats - workers parked now, created so far, and ended
 * because a job left them unclean (a fault). */
struct krk_worker_stats {
	unsigned parked, created, retired;
};
void krk_worker_stats(struct krk_worker_stats *st);

#endif
