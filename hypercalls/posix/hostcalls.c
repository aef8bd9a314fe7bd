/*
 * hostcalls.c - the POSIX host's table of host calls and its override
 * hook.  Every file, memory and packet call of the host goes through it.
 */
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <liburing.h>
#include <krank/hyp_posix.h>
#include "hostcalls.h"

/* liburing's wait_cqe is an inline function: give the table one copy. */
static int
hostcall_io_uring_wait_cqe(struct io_uring *ring, struct io_uring_cqe **cqep)
{
	return io_uring_wait_cqe(ring, cqep);
}

/* The heap behind rumpuser_malloc/free: the only defaults a host changes. */
#ifdef KRANK_HOST_DPDK
#include "dpdk_int.h"
#define HOST_MEMALIGN rumpuser__dpdk_memalign
#define HOST_FREE rumpuser__dpdk_free
#else
#define HOST_MEMALIGN posix_memalign
#define HOST_FREE free
#endif

#define HOSTCALLS_LIBC {                                                \
	.open = open, .close = close, .fstat = fstat, .stat = stat,     \
	.pread = pread, .pwrite = pwrite, .preadv = preadv,             \
	.pwritev = pwritev, .readv = readv, .writev = writev,           \
	.fsync = fsync, .fdatasync = fdatasync, .mmap = mmap,           \
	.munmap = munmap, .mlock = mlock,                               \
	.posix_memalign = HOST_MEMALIGN, .mlock2 = mlock2,              \
	.free = HOST_FREE,                                              \
	.read = read, .ioctl = ioctl, .fcntl = fcntl, .poll = poll,     \
	.socket = socket, .bind = bind, .setsockopt = setsockopt,       \
	.sendmsg = sendmsg, .sendto = sendto, .recv = recv,             \
	.recvmmsg = recvmmsg, .eventfd = eventfd, .write = write,       \
	.preadv2 = preadv2, .pwritev2 = pwritev2,                       \
	.io_uring_queue_init = io_uring_queue_init,                     \
	.io_uring_queue_exit = io_uring_queue_exit,                     \
	.io_uring_submit = io_uring_submit,                             \
	.io_uring_wait_cqe = hostcall_io_uring_wait_cqe,                \
}

static const struct hyp_hostcalls hyp_host_default = HOSTCALLS_LIBC;
struct hyp_hostcalls hyp_host = HOSTCALLS_LIBC;

#define SLOT(n) { #n, offsetof(struct hyp_hostcalls, n) }
static const struct {
	const char *name;
	size_t off;
} hostcall_slots[] = {
	SLOT(open), SLOT(close), SLOT(fstat), SLOT(stat), SLOT(pread),
	SLOT(pwrite), SLOT(preadv), SLOT(pwritev), SLOT(readv), SLOT(writev),
	SLOT(fsync), SLOT(fdatasync), SLOT(mmap), SLOT(munmap), SLOT(mlock),
	SLOT(posix_memalign), SLOT(mlock2), SLOT(free), SLOT(read),
	SLOT(ioctl), SLOT(fcntl), SLOT(poll), SLOT(socket), SLOT(bind),
	SLOT(setsockopt), SLOT(sendmsg), SLOT(sendto), SLOT(recv),
	SLOT(recvmmsg), SLOT(eventfd), SLOT(write), SLOT(preadv2), SLOT(pwritev2),
	SLOT(io_uring_queue_init), SLOT(io_uring_queue_exit),
	SLOT(io_uring_submit), SLOT(io_uring_wait_cqe),
};

void *
hyp_posix_hostcall(const char *name, void *fn)
{
	for (size_t i = 0; i < sizeof(hostcall_slots) / sizeof(hostcall_slots[0]); i++) {
		if (strcmp(hostcall_slots[i].name, name) != 0)
			continue;
		void **slot = (void **)((char *)&hyp_host + hostcall_slots[i].off);
		void *const *def = (void *const *)((const char *)&hyp_host_default +
		    hostcall_slots[i].off);
		void *old = *slot;
		*slot = fn != NULL ? fn : *def;
		return old;
	}
	return NULL;
}
