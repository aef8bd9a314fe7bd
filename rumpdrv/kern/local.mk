# rumpdrv/kern: the kernel base (component "kern" is implicit: always up).
noinst_LIBRARIES += rumpdrv/kern/librumpkern.a
rumpdrv_kern_librumpkern_a_CPPFLAGS = $(RUMPDRV_CPPFLAGS)
rumpdrv_kern_librumpkern_a_CFLAGS = $(RUMPDRV_CFLAGS)
rumpdrv_kern_librumpkern_a_SOURCES = \
	rumpdrv/kern/kern.h \
	rumpdrv/kern/kern_errno.h \
	rumpdrv/kern/kern_int.h \
	rumpdrv/kern/kern_log.c \
	rumpdrv/kern/kern_kmem.c \
	rumpdrv/kern/kern_lock.c \
	rumpdrv/kern/kern_time.c \
	rumpdrv/kern/kern_lwp.c \
	rumpdrv/kern/kern_kthread.c \
	rumpdrv/kern/kern_callout.c \
	rumpdrv/kern/kern_workqueue.c \
	rumpdrv/kern/kern_rmtable.c \
	rumpdrv/kern/kern_component.c \
	rumpdrv/kern/kern_errtrans.c \
	rumpdrv/kern/kern_hostdisk.c

# Link line for a program using the kernel base (hypercall library last).
RUMPDRV_LINK_KERN = -Wl,--whole-archive,rumpdrv/kern/librumpkern.a,--no-whole-archive
RUMPDRV_HYP_LIBS = libkrank-hypercall.la -lpthread
