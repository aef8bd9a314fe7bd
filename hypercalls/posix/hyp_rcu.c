/*
 * hyp_rcu.c - read-copy-update for the kernel layers, on liburcu's
 * "bulletproof" flavour: any thread may read without registering first,
 * which suits kernel threads, isolates and foreign callers alike.  The
 * host calls liburcu makes (membarrier, futex, its threads) stay here, in
 * the hypercall layer.
 */
#include <urcu-bp.h>
#include <krank/hyp.h>
#include "rumpuser_int.h"

void
hyp_rcu_read_lock(void)
{
	urcu_bp_read_lock();
}

void
hyp_rcu_read_unlock(void)
{
	urcu_bp_read_unlock();
}

void
hyp_rcu_synchronize(void)
{
	/* Waits for every reader that may see the old version: no CPU. */
	KLOCK_WRAP(urcu_bp_synchronize_rcu());
}
