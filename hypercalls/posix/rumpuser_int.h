/*
 * rumpuser_int.h - internals shared by the files of the POSIX host of the
 * hypercall layer: the saved upcall table, the scheduling wrappers, errno
 * translation and the overridable host-call table.
 */
#ifndef KRANK_RUMPUSER_INT_H
#define KRANK_RUMPUSER_INT_H

#include <sys/types.h>
#include <sys/uio.h>
#include <sys/mman.h>
#include <stdint.h>
#include <krank/rumpuser.h>
#include "hostcalls.h"

#define HIDDEN __attribute__((visibility("hidden")))

extern struct rumpuser_hyperup rumpuser__hyp HIDDEN;
extern int rumpuser__inited HIDDEN;

/* Release the virtual CPU (and big-lock holds) around a blocking host call. */
static inline void
rumpkern_unsched(int *nlocks, void *interlock)
{
	if (rumpuser__hyp.hyp_backend_unschedule != NULL)
		rumpuser__hyp.hyp_backend_unschedule(0, nlocks, interlock);
	else
		*nlocks = 0;
}

static inline void
rumpkern_sched(int nlocks, void *interlock)
{
	if (rumpuser__hyp.hyp_backend_schedule != NULL)
		rumpuser__hyp.hyp_backend_schedule(nlocks, interlock);
}

#define KLOCK_WRAP(a)                                                   \
	do {                                                            \
		int nlocks_;                                            \
		rumpkern_unsched(&nlocks_, NULL);                       \
		a;                                                      \
		rumpkern_sched(nlocks_, NULL);                          \
	} while (0)

/* Host (Linux) errno -> NetBSD errno.  Unknown values become EINVAL. */
int rumpuser__errtrans(int hosterr) HIDDEN;
/* NetBSD signal number -> host signal number, or -1. */
int rumpuser__sig_rump2host(int sig) HIDDEN;

/* Give the calling host thread a kernel lwp (once) for upcalls. */
void rumpuser__thread_lwp_init(void) HIDDEN;

void rumpuser__bio_fini(void) HIDDEN;
/* 1 while hyp_bio_direct has fd in direct (O_DIRECT) mode. */
int rumpuser__fd_direct(int fd) HIDDEN;

/* NetBSD errno values used directly. */
#define NB_EPERM 1
#define NB_ENOENT 2
#define NB_EIO 5
#define NB_ENXIO 6
#define NB_EBADF 9
#define NB_ENOMEM 12
#define NB_EACCES 13
#define NB_EFAULT 14
#define NB_EBUSY 16
#define NB_EEXIST 17
#define NB_ENODEV 19
#define NB_EINVAL 22
#define NB_ERANGE 34
#define NB_EAGAIN 35
#define NB_EINPROGRESS 36
#define NB_ENOBUFS 55
#define NB_ETIMEDOUT 60
#define NB_EMSGSIZE 40
#define NB_ENOSYS 78
#define NB_EOPNOTSUPP 45

#endif
