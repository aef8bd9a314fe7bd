/*
 * hyp_rcu.c - read-copy-update for the kernel layers, on liburcu's
 * "bulletproof" flavour: any thread may read without registering first,
 * which suits kernel threads, isolates and foreign callers alike.  The
 * host calls liburcu makes (membarrier, futex, its threads) stay here, in
 * the hypercall layer.
 */
#include <linux/membarrier.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>
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

/*
 * The heavy half of an asymmetric fence (hyp.h): membarrier(2)'s private
 * expedited command, registered once.  Its light half is a compiler
 * barrier in the callers.
 */
static int hyp_mb_state;		/* 0 not asked yet, 1 usable, -1 not */

int
hyp_membarrier_init(void)
{
	int st = __atomic_load_n(&hyp_mb_state, __ATOMIC_ACQUIRE);
	if (st == 0) {
		long cmds = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
		st = cmds >= 0 &&
		    (cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED) &&
		    (cmds & MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) &&
		    syscall(SYS_membarrier,
		    MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0 ?
		    1 : -1;
		__atomic_store_n(&hyp_mb_state, st, __ATOMIC_RELEASE);
	}
	return st > 0;
}

void
hyp_membarrier(void)
{
	/* Registered (hyp_membarrier_init said so): it does not fail.  If
	 * it ever did, no light half could be trusted any more. */
	if (syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0)
	    != 0)
		abort();
}
