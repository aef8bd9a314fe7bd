/*
 * rumpuser_component.h - helpers for the host-side halves of drivers
 * (virtif_user.c style), as in NetBSD's rump/rumpuser_component.h.
 */
#ifndef KRANK_RUMPUSER_COMPONENT_H
#define KRANK_RUMPUSER_COMPONENT_H

#include <krank/rumpuser.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Release the caller's virtual CPU; the cookie goes to _schedule. */
void *rumpuser_component_unschedule(void);
/* Take a virtual CPU back (cookie from _unschedule, or NULL). */
void rumpuser_component_schedule(void *cookie);
/* Give a host thread a kernel lwp so it may make upcalls. */
void rumpuser_component_kthread(void);
/* Drop the lwp made by rumpuser_component_kthread. */
void rumpuser_component_kthread_release(void);
/* Host errno -> NetBSD errno. */
int rumpuser_component_errtrans(int hosterr);
struct lwp *rumpuser_component_curlwp(void);
void rumpuser_component_switchlwp(struct lwp *l);

#ifdef __cplusplus
}
#endif
#endif
