/*
 * rumpuser_component.c - scheduling helpers for the host-side halves of
 * drivers (NetBSD's rumpuser_component(3) calls).
 */
#include <stdint.h>
#include <krank/rumpuser_component.h>
#include "rumpuser_int.h"

void *
rumpuser_component_unschedule(void)
{
	int nlocks;

	rumpkern_unsched(&nlocks, NULL);
	return (void *)(intptr_t)nlocks;
}

void
rumpuser_component_schedule(void *cookie)
{
	rumpkern_sched((int)(intptr_t)cookie, NULL);
}

void
rumpuser_component_kthread(void)
{
	rumpuser__thread_lwp_init();
}

void
rumpuser_component_kthread_release(void)
{
	if (rumpuser__hyp.hyp_schedule == NULL)
		return;
	rumpuser__hyp.hyp_schedule();
	rumpuser__hyp.hyp_lwproc_release();
	rumpuser__hyp.hyp_unschedule();
}

struct lwp *
rumpuser_component_curlwp(void)
{
	struct lwp *l;

	if (rumpuser__hyp.hyp_schedule == NULL)
		return NULL;
	rumpuser__hyp.hyp_schedule();
	l = rumpuser__hyp.hyp_lwproc_curlwp();
	rumpuser__hyp.hyp_unschedule();
	return l;
}

void
rumpuser_component_switchlwp(struct lwp *l)
{
	if (rumpuser__hyp.hyp_schedule == NULL)
		return;
	rumpuser__hyp.hyp_schedule();
	rumpuser__hyp.hyp_lwproc_switch(l);
	rumpuser__hyp.hyp_unschedule();
}
