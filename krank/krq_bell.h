/*
 * krq_bell.h - the doorbell protocol of krq_layout.h as code, shared by
 * krq_server.c and krq_client.c: shared (not process-private) futex wait
 * and wake, the producer's ring, and a monotonic clock for spin budgets.
 */
#ifndef KRQ_BELL_H
#define KRQ_BELL_H

#include <errno.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <krank/hyp_relax.h>
#include "krq_layout.h"

#define KRQ_ATOMIC(p)	((_Atomic uint32_t *)(p))

static inline uint64_t
krq_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline void
krq_cpu_relax(void)
{
	hyp_cpu_relax();
}

/*
 * krq_futex_wait - sleep while *word == val, at most timeout_ns (< 0: no
 * limit).  Shared futex: the word may live in a mapping of another
 * process.  0 woken (or spurious), EAGAIN the word was not val,
 * ETIMEDOUT, EINTR.
 */
static inline int
krq_futex_wait(uint32_t *word, uint32_t val, int64_t timeout_ns, bool shared)
{
	struct timespec ts, *tp = NULL;
	if (timeout_ns >= 0) {
		ts.tv_sec = (time_t)(timeout_ns / 1000000000);
		ts.tv_nsec = (long)(timeout_ns % 1000000000);
		tp = &ts;
	}
	long rv = syscall(SYS_futex, word, shared ? FUTEX_WAIT :
	    FUTEX_WAIT_PRIVATE, val, tp, NULL, 0);
	return rv == 0 ? 0 : errno;
}

static inline void
krq_futex_wake(uint32_t *word, bool shared)
{
	syscall(SYS_futex, word, shared ? FUTEX_WAKE : FUTEX_WAKE_PRIVATE,
	    INT32_MAX, NULL, NULL, 0);
}

/*
 * krq_bell_ring - the producer's side, after head was published: wake the
 * consumer only when it announced sleep.  The fence orders the head store
 * before the bell load (the consumer orders its bell store before its
 * head load the same way): one of the two sees the other.
 */
static inline void
krq_bell_ring(struct krq_ring_ctl *ctl)
{
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(KRQ_ATOMIC(&ctl->bell),
	    memory_order_relaxed) != KRQ_BELL_AWAKE &&
	    atomic_exchange_explicit(KRQ_ATOMIC(&ctl->bell), KRQ_BELL_AWAKE,
	    memory_order_seq_cst) != KRQ_BELL_AWAKE)
		krq_futex_wake(&ctl->bell, true);
}

/* The consumer's announcement; true when it may sleep (its next slot,
 * message idx, still not published after the announcement), else the
 * bell is cleared again.  The producer stores the tag before its fence
 * and bell load, so one of the two sees the other. */
static inline bool
krq_bell_announce(struct krq_ring_ctl *ctl, const struct krq_slot *next,
    uint32_t idx)
{
	atomic_store_explicit(KRQ_ATOMIC(&ctl->bell), KRQ_BELL_SLEEPING,
	    memory_order_seq_cst);
	atomic_thread_fence(memory_order_seq_cst);
	if (krq_slot_ready(next, idx)) {
		atomic_store_explicit(KRQ_ATOMIC(&ctl->bell), KRQ_BELL_AWAKE,
		    memory_order_relaxed);
		return false;
	}
	return true;
}

#endif
