/*
 * test_files - open/close/getfileinfo/iovread/iovwrite/syncfd: flags,
 * offsets, file types, error codes, and host faults injected through the
 * host-call table (EIO, EINTR) come back as NetBSD errno values.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>
#include <krank/hyp_posix.h>
#include "hyptest.h"

static ssize_t eio_pwritev(int fd, const struct iovec *v, int n, off_t o)
{ errno = EIO; return -1; }
static int eintr_left;
static ssize_t (*real_preadv)(int, const struct iovec *, int, off_t);
static ssize_t eintr_preadv(int fd, const struct iovec *v, int n, off_t o)
{
	if (eintr_left > 0) {
		eintr_left--;
		errno = EINTR;
		return -1;
	}
	return real_preadv(fd, v, n, o);
}

int
main(void)
{
	char dir[] = "/tmp/krank-files.XXXXXX", path[256], buf[64];
	int fd, fd2, type;
	uint64_t size;
	size_t n;

	ht_init(1);
	ht_schedule();
	if (mkdtemp(dir) == NULL)
		return 99;
	snprintf(path, sizeof(path), "%s/f", dir);

	CHECK(rumpuser_open("/nonexistent/krank/x", RUMPUSER_OPEN_RDONLY, &fd) == 2,
	    "open of a missing path gives ENOENT");
	CHECK(rumpuser_open(path, 0x100, &fd) == 22, "unknown open flag gives EINVAL");
	CHECK(rumpuser_open(path, RUMPUSER_OPEN_ACCMODE, &fd) == 22,
	    "access mode 3 gives EINVAL");
	CHECK(rumpuser_open(path, RUMPUSER_OPEN_RDWR | RUMPUSER_OPEN_EXCL, &fd) == 22,
	    "EXCL without CREATE gives EINVAL");
	unsigned long u0 = ht_thread_unscheds();
	CHECK(rumpuser_open(path, RUMPUSER_OPEN_RDWR | RUMPUSER_OPEN_CREATE |
	    RUMPUSER_OPEN_BIO, &fd) == 0 && fd >= 0, "create %s", path);
	CHECK(ht_thread_unscheds() > u0, "open released the CPU around the host call");
	struct stat st;
	stat(path, &st);
	CHECK((st.st_mode & 0777) == 0644, "created with mode 0644");
	CHECK(rumpuser_open(path, RUMPUSER_OPEN_RDWR | RUMPUSER_OPEN_CREATE |
	    RUMPUSER_OPEN_EXCL, &fd2) == 17, "CREATE|EXCL of an existing file gives EEXIST");

	char a[] = "hello ", b[] = "world";
	struct rumpuser_iovec wv[2] = { { a, 6 }, { b, 5 } };
	CHECK(rumpuser_iovwrite(fd, wv, 2, 100, &n) == 0 && n == 11,
	    "iovwrite of two buffers at offset 100 writes 11 bytes");
	memset(buf, 0, sizeof(buf));
	struct rumpuser_iovec rv1 = { buf, sizeof(buf) };
	CHECK(rumpuser_iovread(fd, &rv1, 1, 100, &n) == 0 && n == 11 &&
	    memcmp(buf, "hello world", 11) == 0, "iovread at 100 reads it back");
	CHECK(rumpuser_iovread(fd, &rv1, 1, 1000, &n) == 0 && n == 0,
	    "iovread past the end reads 0 bytes");
	CHECK(rumpuser_iovwrite(fd, wv, 1, RUMPUSER_IOV_NOSEEK, &n) == 0 && n == 6,
	    "NOSEEK write uses the file position");
	CHECK(rumpuser_iovread(fd, &rv1, 1, 0, &n) == 0 && memcmp(buf, "hello ", 6) == 0,
	    "and lands at offset 0");
	CHECK(rumpuser_iovread(fd, &rv1, 1, -5, &n) == 22, "negative offset gives EINVAL");
	CHECK(rumpuser_iovread(-1, &rv1, 1, 0, &n) == 9, "fd -1 gives EBADF");
	CHECK(rumpuser_iovread(12345, &rv1, 1, 0, &n) == 9, "unopened fd gives EBADF");

	CHECK(rumpuser_getfileinfo(path, &size, &type) == 0 && size == 111 &&
	    type == RUMPUSER_FT_REG, "getfileinfo: regular file of 111 bytes");
	CHECK(rumpuser_getfileinfo(dir, NULL, &type) == 0 && type == RUMPUSER_FT_DIR,
	    "getfileinfo: directory");
	CHECK(rumpuser_getfileinfo("/dev/null", &size, &type) == 0 &&
	    type == RUMPUSER_FT_CHR, "getfileinfo: /dev/null is a character device");
	CHECK(rumpuser_getfileinfo("/nonexistent/krank", &size, &type) == 2,
	    "getfileinfo of a missing path gives ENOENT");

	CHECK(rumpuser_syncfd(fd, RUMPUSER_SYNCFD_WRITE, 0, 0) == 0, "syncfd WRITE");
	CHECK(rumpuser_syncfd(fd, RUMPUSER_SYNCFD_BOTH | RUMPUSER_SYNCFD_SYNC, 0, 0) == 0,
	    "syncfd BOTH|SYNC");
	CHECK(rumpuser_syncfd(fd, RUMPUSER_SYNCFD_BARRIER, 0, 0) == 22,
	    "syncfd without READ or WRITE gives EINVAL");
	CHECK(rumpuser_syncfd(fd, 0x40 | RUMPUSER_SYNCFD_WRITE, 0, 0) == 22,
	    "syncfd with an unknown flag gives EINVAL");
	CHECK(rumpuser_syncfd(999, RUMPUSER_SYNCFD_WRITE, 0, 0) == 9,
	    "syncfd of a bad fd gives EBADF");

	hyp_posix_hostcall("pwritev", (void *)eio_pwritev);
	CHECK(rumpuser_iovwrite(fd, wv, 2, 0, &n) == 5, "host EIO on write comes back as EIO");
	hyp_posix_hostcall("pwritev", NULL);
	real_preadv = hyp_posix_hostcall("preadv", (void *)eintr_preadv);
	eintr_left = 3;
	CHECK(rumpuser_iovread(fd, &rv1, 1, 100, &n) == 0 && n == 11 && eintr_left == 0,
	    "reads interrupted 3 times by EINTR are restarted");
	hyp_posix_hostcall("preadv", NULL);

	CHECK(rumpuser_close(fd) == 0, "close");
	CHECK(rumpuser_close(fd) == 9, "second close gives EBADF");
	CHECK(rumpuser_close(-3) == 9, "close(-3) gives EBADF");

	/*
	 * NetBSD's rumpblk opens its backing file as the kernel does: RDWR|BIO,
	 * and on any error RDONLY|BIO, then getfileinfo must say REG or BLK
	 * and give the size it uses as the disk's.  This running program
	 * cannot be opened for writing even by root (ETXTBSY).
	 */
	int rfd = -1, err = rumpuser_open("/proc/self/exe",
	    RUMPUSER_OPEN_RDWR | RUMPUSER_OPEN_BIO, &rfd);
	CHECK(err != 0 && rfd == -1, "rumpblk: RDWR|BIO of a read-only file fails (%d)", err);
	CHECK(err == 26, "rumpblk: the error is ETXTBSY (26)");
	CHECK(rumpuser_open("/proc/self/exe", RUMPUSER_OPEN_RDONLY |
	    RUMPUSER_OPEN_BIO, &rfd) == 0 && rfd >= 0,
	    "rumpblk: the RDONLY|BIO retry opens it");
	CHECK(rumpuser_getfileinfo(path, &size, &type) == 0 &&
	    type == RUMPUSER_FT_REG && size == 111,
	    "rumpblk: a backing file is REG and its size is the disk size");
	if (rfd >= 0)
		rumpuser_close(rfd);

	/* Errors are NetBSD's numbers where Linux's differ. */
	char longp[400];
	memset(longp, 'n', sizeof(longp));
	memcpy(longp, "/tmp/", 5);
	longp[sizeof(longp) - 1] = '\0';
	CHECK(rumpuser_open(longp, RUMPUSER_OPEN_RDONLY, &fd2) == 63,
	    "a 394-byte name gives NetBSD's ENAMETOOLONG (63, Linux 36)");
	snprintf(buf, sizeof(buf), "%s/f/under", dir);
	CHECK(rumpuser_open(buf, RUMPUSER_OPEN_RDONLY, &fd2) == 20,
	    "a path through a regular file gives ENOTDIR");
	ht_unschedule();
	unlink(path);
	rmdir(dir);
	return ht_done("test_files");
}
