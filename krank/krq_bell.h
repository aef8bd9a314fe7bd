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
#include <sched.h>
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
 * Spin budgets adapt per ring and side (struct krq_spin): a wait spins
 * up to its current budget, then sleeps on the futex.  A spin that ran
 * out halves the budget (the peer is slow, preempted, or busy elsewhere:
 * on a loaded machine with few CPUs a spinner only takes the CPU the
 * peer or others need, and it loses the wake-up priority the scheduler
 * gives a sleeper); one that was answered restores the whole budget.
 * Below KRQ_SPIN_MIN_NS the budget is 0, and every KRQ_SPIN_PROBE-th
 * wait then spins the whole budget again to see whether spinning pays
 * once more.  So the CPU a side wastes spinning is bounded by the budget
 * per answered spin, plus about one budget per KRQ_SPIN_PROBE sleeps.
 * No spin at all when the peer last ran on our CPU (krq_layout.h, cpu).
 */
#define KRQ_SPIN_MIN_NS		1000u
#define KRQ_SPIN_LOOKUP		16u	/* turns before the budget is known */
#define KRQ_SPIN_PROBE		32u

struct krq_spin {
	uint32_t halved;	/* spins in a row that ran out (0: as zeroed) */
	uint32_t since;		/* waits at budget 0 since the last probe */
};

/* The budget for this wait: max (the configured budget) halved once per
 * spin in a row that ran out, 0 (but for probes) below KRQ_SPIN_MIN_NS,
 * and 0 when the peer shares our CPU (peer_cpu and my_cpu: CPU + 1, 0
 * not known). */
static inline uint64_t
krq_spin_budget(struct krq_spin *s, uint64_t max, uint32_t peer_cpu,
    uint32_t my_cpu)
{
	if (max == 0 || (peer_cpu != 0 && peer_cpu == my_cpu))
		return 0;
	uint64_t b = s->halved >= 63 ? 0 : max >> s->halved;
	if (b >= KRQ_SPIN_MIN_NS)
		return b;
	if (++s->since < KRQ_SPIN_PROBE)
		return 0;
	s->since = 0;
	return max;
}

/* After a wait that spun with budget b: answered within it or not. */
static inline void
krq_spin_result(struct krq_spin *s, uint64_t b, uint64_t max, bool paid)
{
	if (b == 0)
		return;
	if (paid)	/* also an answer before the budget was looked up */
		s->halved = 0;
	else if (b == max && s->halved > 0)
		;	/* a probe that failed: stay at 0 */
	else if (s->halved < 63)
		s->halved++;
}

/* This thread's CPU + 1 (0: not known); sched_getcpu is a vDSO or rseq
 * read, no system call. */
static inline uint32_t
krq_my_cpu(void)
{
	int c = sched_getcpu();
	return c < 0 ? 0 : (uint32_t)c + 1;
}

/* Publish the consumer's CPU next to its bell, storing only a change (the
 * line is the producer's to read). */
static inline void
krq_cpu_publish(struct krq_ring_ctl *ctl, uint32_t cpu)
{
	if (__atomic_load_n(&ctl->cpu, __ATOMIC_RELAXED) != cpu)
		__atomic_store_n(&ctl->cpu, cpu, __ATOMIC_RELAXED);
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
