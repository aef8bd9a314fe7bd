/* KRANK isolate libc: scatter/gather I/O. */
#ifndef _KRANK_SYS_UIO_H
#define _KRANK_SYS_UIO_H
#include <sys/types.h>
struct iovec {
	void *iov_base;
	size_t iov_len;
};
#define IOV_MAX 1024
ssize_t readv(int, const struct iovec *, int);
ssize_t writev(int, const struct iovec *, int);
#endif
