/*
 * kern_int.h - private to the kernel base: boot order of its services.
 */
#ifndef RUMPDRV_KERN_INT_H
#define RUMPDRV_KERN_INT_H

#include "kern/kern.h"

extern bool kern_up;		/* set by kern_init; boot is single-threaded */
int kern_init(void);		/* once, from component_boot */
void kern_fini(void);
void kern_log_init(void);
int kern_cpu_init(void);
void kern_kmem_init(void);
int kern_lwp_init(void);
int kern_callout_init(void);
void kern_callout_fini(void);
void kern_time_init(void);
void lwp_release_self(void);
/* lwp_alloc - a new lwp of p (one more reference on p), not yet any
 * thread's: RUMPUSER_LWP_CREATE and _SET it on the thread that runs it. */
struct lwp *lwp_alloc(struct proc *p, unsigned flags, const char *name);
#define LW_MUSTJOIN 0x100

#endif
