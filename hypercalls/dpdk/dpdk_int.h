/*
 * dpdk_int.h - internals of the DPDK host of the hypercall layer: what its
 * own files (EAL start, heap, TSC clocks) give the posix files it shares
 * (rumpuser.c calls rumpuser__dpdk_init; hostcalls.c takes the heap).
 */
#ifndef KRANK_DPDK_INT_H
#define KRANK_DPDK_INT_H

#include <stddef.h>
#include <stdint.h>

#define DPDK_HIDDEN __attribute__((visibility("hidden")))

/*
 * Start DPDK's EAL once per process from the KRANK_DPDK_* parameters
 * (see dpdk_eal.c), then calibrate the clocks.  0, or a NetBSD errno:
 * EINVAL for a bad parameter, ENXIO when the EAL cannot start on this
 * machine; a one-line message on stderr says which and why.  Later calls
 * return the first call's result.
 */
int rumpuser__dpdk_init(void) DPDK_HIDDEN;
/* Is the EAL up (rumpuser__dpdk_init succeeded)? */
int rumpuser__dpdk_up(void) DPDK_HIDDEN;

/* The heap slots of the host-call table: DPDK's malloc heap. */
int rumpuser__dpdk_memalign(void **p, size_t align, size_t len) DPDK_HIDDEN;
void rumpuser__dpdk_free(void *p) DPDK_HIDDEN;

/* The host CPU of the EAL's (idx mod lcores)-th lcore; -1 before the
 * EAL is up. */
int rumpuser__dpdk_lcore_cpu(int idx) DPDK_HIDDEN;
/* Register the calling thread with the EAL (an lcore id), and give it
 * back; leave is a no-op for a thread not registered. */
void rumpuser__dpdk_thread_enter(void) DPDK_HIDDEN;
void rumpuser__dpdk_thread_leave(void) DPDK_HIDDEN;

/* Take the clocks' TSC base (after the EAL measured the TSC's rate). */
int rumpuser__dpdk_clock_init(void) DPDK_HIDDEN;

#endif
