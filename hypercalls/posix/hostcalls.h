/*
 * hostcalls.h - the one table through which the POSIX host reaches the
 * host kernel for file, memory and packet I/O (SQLite's aSyscall[] model).
 * Tests override entries to inject EIO, ENOMEM, short transfers and EINTR.
 * The memory slots (posix_memalign, free) are the host's heap: libc's in
 * the POSIX host, DPDK's in the DPDK host, which builds hostcalls.c with
 * KRANK_HOST_DPDK.
 * The packet backends (tap, AF_PACKET) and their poll go through it too.
 */
#ifndef KRANK_HOSTCALLS_H
#define KRANK_HOSTCALLS_H

#include <sys/types.h>
#include <sys/uio.h>
#include <sys/stat.h>
#include <poll.h>
#include <sys/socket.h>

struct io_uring;
struct io_uring_cqe;

struct hyp_hostcalls {
	int (*open)(const char *, int, ...);
	int (*close)(int);
	int (*fstat)(int, struct stat *);
	int (*stat)(const char *, struct stat *);
	ssize_t (*pread)(int, void *, size_t, off_t);
	ssize_t (*pwrite)(int, const void *, size_t, off_t);
	ssize_t (*preadv)(int, const struct iovec *, int, off_t);
	ssize_t (*pwritev)(int, const struct iovec *, int, off_t);
	ssize_t (*readv)(int, const struct iovec *, int);
	ssize_t (*writev)(int, const struct iovec *, int);
	int (*fsync)(int);
	int (*fdatasync)(int);
	void *(*mmap)(void *, size_t, int, int, int, off_t);
	int (*munmap)(void *, size_t);
	int (*mlock)(const void *, size_t);
	int (*posix_memalign)(void **, size_t, size_t);
	int (*mlock2)(const void *, size_t, unsigned int);
	/* Frees what posix_memalign gave: a test replacing one replaces both. */
	void (*free)(void *);
	/* Packet I/O (pkt_tap.c, pkt_afpacket.c, hyp_pkt.c). */
	ssize_t (*read)(int, void *, size_t);
	int (*ioctl)(int, unsigned long, ...);
	int (*fcntl)(int, int, ...);
	int (*poll)(struct pollfd *, nfds_t, int);
	int (*socket)(int, int, int);
	int (*bind)(int, const struct sockaddr *, socklen_t);
	int (*setsockopt)(int, int, int, const void *, socklen_t);
	ssize_t (*sendmsg)(int, const struct msghdr *, int);
	ssize_t (*sendto)(int, const void *, size_t, int,
	    const struct sockaddr *, socklen_t);
	ssize_t (*recv)(int, void *, size_t, int);
	int (*recvmmsg)(int, struct mmsghdr *, unsigned int, int,
	    struct timespec *);
	/* A pollable port's kick of its receive thread (hyp_pkt.c). */
	int (*eventfd)(unsigned int, int);
	ssize_t (*write)(int, const void *, size_t);
	/* Block I/O (rumpuser_bio.c): the RWF_NOWAIT fast path and the
	 * io_uring engine's calls into the host (the ring's inline helpers,
	 * get_sqe and the preps, only touch shared memory). */
	ssize_t (*preadv2)(int, const struct iovec *, int, off_t, int);
	ssize_t (*pwritev2)(int, const struct iovec *, int, off_t, int);
	int (*io_uring_queue_init)(unsigned, struct io_uring *, unsigned);
	void (*io_uring_queue_exit)(struct io_uring *);
	int (*io_uring_submit)(struct io_uring *);
	int (*io_uring_wait_cqe)(struct io_uring *, struct io_uring_cqe **);
};

extern struct hyp_hostcalls hyp_host __attribute__((visibility("hidden")));

#endif
