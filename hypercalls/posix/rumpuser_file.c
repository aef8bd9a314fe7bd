/*
 * rumpuser_file.c - host files for the rump kernel: open/close, file
 * information, vectored I/O and syncing.  Block I/O is rumpuser_bio.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <linux/fs.h>
#include <krank/hyp.h>
#include "rumpuser_int.h"

#define RUMPUSER_OPEN_ALL (RUMPUSER_OPEN_ACCMODE | RUMPUSER_OPEN_CREATE | \
	RUMPUSER_OPEN_EXCL | RUMPUSER_OPEN_BIO)

int
rumpuser_open(const char *path, int ruflags, int *fdp)
{
	int flags = O_CLOEXEC, fd = -1, e = 0;

	if (path == NULL || fdp == NULL || (ruflags & ~RUMPUSER_OPEN_ALL) != 0)
		return NB_EINVAL;
	switch (ruflags & RUMPUSER_OPEN_ACCMODE) {
	case RUMPUSER_OPEN_RDONLY: flags |= O_RDONLY; break;
	case RUMPUSER_OPEN_WRONLY: flags |= O_WRONLY; break;
	case RUMPUSER_OPEN_RDWR: flags |= O_RDWR; break;
	default: return NB_EINVAL;
	}
	if (ruflags & RUMPUSER_OPEN_CREATE)
		flags |= O_CREAT;
	if (ruflags & RUMPUSER_OPEN_EXCL) {
		if (!(ruflags & RUMPUSER_OPEN_CREATE))
			return NB_EINVAL;
		flags |= O_EXCL;
	}
	/* RUMPUSER_OPEN_BIO is a hint: the fd will serve rumpuser_bio. */
	KLOCK_WRAP(
		do {
			fd = hyp_host.open(path, flags, 0644);
		} while (fd == -1 && errno == EINTR);
		e = errno
	);
	if (fd == -1)
		return rumpuser__errtrans(e);
	*fdp = fd;
	return 0;
}

/* The direct-I/O alignment of fd: statx's where the kernel reports it,
 * the logical sector size of a block device, else 512. */
static unsigned
dio_align(int fd)
{
	unsigned a = 512;
#ifdef STATX_DIOALIGN
	struct statx stx;
	if (statx(fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &stx) == 0 &&
	    (stx.stx_mask & STATX_DIOALIGN) != 0) {
		if (stx.stx_dio_offset_align > a)
			a = stx.stx_dio_offset_align;
		if (stx.stx_dio_mem_align > a)
			a = stx.stx_dio_mem_align;
		return a;
	}
#endif
	struct stat st;
	int ssz;
	if (hyp_host.fstat(fd, &st) == 0 && S_ISBLK(st.st_mode) &&
	    ioctl(fd, BLKSSZGET, &ssz) == 0 && ssz > (int)a)
		a = (unsigned)ssz;
	return a;
}

/*
 * Which fds hyp_bio_direct turned direct, for rumpuser_bio: a read with
 * RWF_NOWAIT on an O_DIRECT fd does not fail when it would wait for the
 * device, it waits, so its fast path must not be tried there.  Fds past
 * the table are simply never known as direct (the fast path stays).
 */
#define FD_DIRECT_MAX 4096
static unsigned char fd_direct[FD_DIRECT_MAX];

int
rumpuser__fd_direct(int fd)
{
	return fd >= 0 && fd < FD_DIRECT_MAX &&
	    __atomic_load_n(&fd_direct[fd], __ATOMIC_RELAXED);
}

int
hyp_bio_direct(int fd, int on, unsigned *alignp)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl == -1)
		return rumpuser__errtrans(errno);
	fl = on ? fl | O_DIRECT : fl & ~O_DIRECT;
	/* F_SETFL fails with EINVAL where the file system has no direct
	 * I/O, as open(O_DIRECT) would. */
	if (fcntl(fd, F_SETFL, fl) == -1)
		return rumpuser__errtrans(errno);
	if (fd < FD_DIRECT_MAX)
		__atomic_store_n(&fd_direct[fd], on ? 1 : 0, __ATOMIC_RELAXED);
	if (alignp)
		*alignp = on ? dio_align(fd) : 1;
	return 0;
}

int
rumpuser_close(int fd)
{
	int rv = 0, e = 0;

	if (fd < 0)
		return NB_EBADF;
	if (fd < FD_DIRECT_MAX)		/* the number may be reused */
		__atomic_store_n(&fd_direct[fd], 0, __ATOMIC_RELAXED);
	/* As NetBSD's host does: make the data durable before closing. */
	KLOCK_WRAP(
		hyp_host.fsync(fd);
		rv = hyp_host.close(fd);
		e = errno
	);
	return rv == -1 ? rumpuser__errtrans(e) : 0;
}

int
rumpuser_getfileinfo(const char *path, uint64_t *sizep, int *typep)
{
	struct stat st;
	uint64_t size = 0;
	int type;

	if (path == NULL)
		return NB_EINVAL;
	if (hyp_host.stat(path, &st) == -1)
		return rumpuser__errtrans(errno);
	if (S_ISDIR(st.st_mode)) {
		type = RUMPUSER_FT_DIR;
	} else if (S_ISREG(st.st_mode)) {
		type = RUMPUSER_FT_REG;
		size = (uint64_t)st.st_size;
	} else if (S_ISBLK(st.st_mode) || S_ISCHR(st.st_mode)) {
		type = S_ISBLK(st.st_mode) ? RUMPUSER_FT_BLK : RUMPUSER_FT_CHR;
		int fd = hyp_host.open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		if (fd == -1)
			return rumpuser__errtrans(errno);
		if (ioctl(fd, BLKGETSIZE64, &size) == -1) {
			off_t end = lseek(fd, 0, SEEK_END);
			size = end == -1 ? 0 : (uint64_t)end;
		}
		hyp_host.close(fd);
	} else {
		type = RUMPUSER_FT_OTHER;
	}
	if (sizep)
		*sizep = size;
	if (typep)
		*typep = type;
	return 0;
}

/* Vectored I/O at off, or at the file position for RUMPUSER_IOV_NOSEEK. */
static int
iov_io(int fd, const struct rumpuser_iovec *ruiov, size_t iovcnt,
    int64_t off, size_t *retp, int write)
{
	/* struct rumpuser_iovec is layout-identical to struct iovec. */
	const struct iovec *iov = (const struct iovec *)(const void *)ruiov;
	ssize_t n = -1;
	int e = 0;

	if (retp == NULL || (ruiov == NULL && iovcnt) || iovcnt > IOV_MAX ||
	    (off < 0 && off != RUMPUSER_IOV_NOSEEK))
		return NB_EINVAL;
	if (fd < 0)
		return NB_EBADF;
	KLOCK_WRAP(
		do {
			if (off == RUMPUSER_IOV_NOSEEK)
				n = write ? hyp_host.writev(fd, iov, (int)iovcnt) :
				    hyp_host.readv(fd, iov, (int)iovcnt);
			else
				n = write ? hyp_host.pwritev(fd, iov, (int)iovcnt,
				    (off_t)off) : hyp_host.preadv(fd, iov,
				    (int)iovcnt, (off_t)off);
		} while (n == -1 && errno == EINTR);
		e = errno
	);
	if (n == -1)
		return rumpuser__errtrans(e);
	*retp = (size_t)n;
	return 0;
}

int
rumpuser_iovread(int fd, struct rumpuser_iovec *ruiov, size_t iovcnt,
    int64_t off, size_t *retp)
{
	return iov_io(fd, ruiov, iovcnt, off, retp, 0);
}

int
rumpuser_iovwrite(int fd, const struct rumpuser_iovec *ruiov, size_t iovcnt,
    int64_t off, size_t *retp)
{
	return iov_io(fd, ruiov, iovcnt, off, retp, 1);
}

int
rumpuser_syncfd(int fd, int flags, uint64_t start, uint64_t len)
{
	const int all = RUMPUSER_SYNCFD_BOTH | RUMPUSER_SYNCFD_BARRIER |
	    RUMPUSER_SYNCFD_SYNC;

	if ((flags & ~all) != 0 || (flags & RUMPUSER_SYNCFD_BOTH) == 0)
		return NB_EINVAL;
	if (fd < 0)
		return NB_EBADF;
	if (flags & RUMPUSER_SYNCFD_WRITE) {
		/* A barrier alone orders data; SYNC also commits metadata. */
		int rv = (flags & RUMPUSER_SYNCFD_SYNC) ? hyp_host.fsync(fd) :
		    hyp_host.fdatasync(fd);
		if (rv == -1)
			return rumpuser__errtrans(errno);
	} else {
		/* READ only: nothing is cached on our side; check the fd. */
		struct stat st;
		if (hyp_host.fstat(fd, &st) == -1)
			return rumpuser__errtrans(errno);
	}
	return 0;
}
