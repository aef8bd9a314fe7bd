/*
 * kern_int.h - private to the kernel base: boot order of its services.
 */
#ifndef RUMPDRV_KERN_INT_H
#define RUMPDRV_KERN_INT_H

#include "kern/kern.h"

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
#define LW_MUSTJOIN 0x100

/* A tiny test-and-test-and-set spinlock for very short sections. */
typedef struct { unsigned char locked; } kspin_t;
static inline void
kspin_enter(kspin_t *s)
{
	while (__atomic_exchange_n(&s->locked, 1, __ATOMIC_ACQUIRE)) {
		while (__atomic_load_n(&s->locked, __ATOMIC_RELAXED))
			__builtin_ia32_pause();
	}
}
static inline void
kspin_exit(kspin_t *s)
{
	__atomic_store_n(&s->locked, 0, __ATOMIC_RELEASE);
}

#endif
