/*
 * krk_sys.c - the isolates' file and descriptor calls: POSIX signatures
 * with Linux x86-64 values, each a direct call into KRANK's syscall layer
 * (krs_*, rumpdrv/include/krank/krs.h) inside krk_sys_enter/exit, with
 * failures delivered to the isolate's errno.  Pointers are checked before
 * entering the kernel: a fault inside it could not be contained.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>

#include "krk_sys_int.h"

/* The isolate's flag values are Linux's; krs promises the same. */
_Static_assert(O_CREAT == KRS_O_CREAT && O_NONBLOCK == KRS_O_NONBLOCK &&
    O_DIRECTORY == KRS_O_DIRECTORY && O_CLOEXEC == KRS_O_CLOEXEC &&
    O_APPEND == KRS_O_APPEND && O_TRUNC == KRS_O_TRUNC &&
    AT_FDCWD == KRS_AT_FDCWD, "open flags differ from Linux's");
_Static_assert(F_GETFL == KRS_F_GETFL && F_SETFD == KRS_F_SETFD &&
    F_DUPFD_CLOEXEC == KRS_F_DUPFD_CLOEXEC, "fcntl commands differ");

/* The isolate's struct stat is Linux's (loader/isolate/include/sys/stat.h);
 * KRANK's differs, so it is converted. */
struct krk_linux_stat {
	uint64_t st_dev, st_ino, st_nlink;
	uint32_t st_mode, st_uid, st_gid;
	int32_t pad0;
	uint64_t st_rdev;
	int64_t st_size, st_blksize, st_blocks;
	int64_t st_atime_s, st_atime_ns, st_mtime_s, st_mtime_ns;
	int64_t st_ctime_s, st_ctime_ns;
	int64_t unused[3];
};
_Static_assert(sizeof(struct krk_linux_stat) == 144 &&
    sizeof(struct krk_linux_stat) == sizeof(struct stat),
    "struct stat is not Linux x86-64's");

static void
krk_stat_out(const struct krs_stat *k, struct krk_linux_stat *l)
{
	memset(l, 0, sizeof(*l));
	l->st_dev = k->st_dev;
	l->st_ino = k->st_ino;
	l->st_nlink = k->st_nlink;
	l->st_mode = k->st_mode;
	l->st_uid = k->st_uid;
	l->st_gid = k->st_gid;
	l->st_rdev = k->st_rdev;
	l->st_size = k->st_size;
	l->st_blksize = k->st_blksize;
	l->st_blocks = k->st_blocks;
	l->st_atime_s = k->st_atim.tv_sec;
	l->st_atime_ns = k->st_atim.tv_nsec;
	l->st_mtime_s = k->st_mtim.tv_sec;
	l->st_mtime_ns = k->st_mtim.tv_nsec;
	l->st_ctime_s = k->st_ctim.tv_sec;
	l->st_ctime_ns = k->st_ctim.tv_nsec;
}

/* open is openat from the current directory; mode only with O_CREAT. */
static int
krk_open_at(int dirfd, const char *path, int flags, unsigned mode)
{
	if (krk_sys_badptr(path))
		return krk_sys_fail(EFAULT);
	return KRK_SYS_CALL(int, krs_openat(dirfd, path, flags, mode));
}

int
krk_sys_openat(int dirfd, const char *path, int flags, ...)
{
	unsigned mode = 0;

	if (flags & O_CREAT) {
		va_list ap;

		va_start(ap, flags);
		mode = va_arg(ap, unsigned);
		va_end(ap);
	}
	return krk_open_at(dirfd, path, flags, mode);
}

int
krk_sys_open(const char *path, int flags, ...)
{
	unsigned mode = 0;

	if (flags & O_CREAT) {
		va_list ap;

		va_start(ap, flags);
		mode = va_arg(ap, unsigned);
		va_end(ap);
	}
	return krk_open_at(KRS_AT_FDCWD, path, flags, mode);
}

int
krk_sys_creat(const char *path, unsigned mode)
{
	return krk_sys_open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
}

int
krk_sys_close(int fd)
{
	if (fd >= KRK_EPOLL_FD_BASE)
		return krk_sys_epoll_close(fd);
	/* Both take KRANK-wide locks (the epoll table's, iso_lock): a kill
	 * must not unwind the thread while it holds one. */
	int was = krk_sys_nokill_begin();
	krk_sys_epoll_forget(fd);
	krk_self_console_drop(fd);
	krk_sys_nokill_end(was);
	return KRK_SYS_CALL(int, krs_close(fd));
}

ssize_t
krk_sys_read(int fd, void *buf, size_t n)
{
	if (krk_sys_badbuf(buf, n))
		return krk_sys_fail(EFAULT);
	return KRK_SYS_CALL(ssize_t, krs_read(fd, buf, n));
}

ssize_t
krk_sys_write(int fd, const void *buf, size_t n)
{
	if (krk_sys_badbuf(buf, n))
		return krk_sys_fail(EFAULT);
	if (krk_self_console(fd))
		return krk_console_write(fd, buf, n);
	return KRK_SYS_CALL(ssize_t, krs_write(fd, buf, n));
}

ssize_t
krk_sys_pread(int fd, void *buf, size_t n, int64_t off)
{
	if (krk_sys_badbuf(buf, n))
		return krk_sys_fail(EFAULT);
	return KRK_SYS_CALL(ssize_t, krs_pread(fd, buf, n, off));
}

ssize_t
krk_sys_pwrite(int fd, const void *buf, size_t n, int64_t off)
{
	if (krk_sys_badbuf(buf, n))
		return krk_sys_fail(EFAULT);
	return KRK_SYS_CALL(ssize_t, krs_pwrite(fd, buf, n, off));
}

/* struct iovec is laid out as struct krs_iovec; every buffer is checked. */
static int
krk_iov_bad(const struct krs_iovec *iov, int cnt)
{
	if (cnt < 0 || cnt > IOV_MAX)
		return EINVAL;
	if (krk_sys_badbuf(iov, (size_t)cnt * sizeof(*iov)))
		return EFAULT;
	for (int i = 0; i < cnt; i++)
		if (krk_sys_badbuf(iov[i].iov_base, iov[i].iov_len))
			return EFAULT;
	return 0;
}

ssize_t
krk_sys_readv(int fd, const struct krs_iovec *iov, int cnt)
{
	int e = krk_iov_bad(iov, cnt);

	if (e != 0)
		return krk_sys_fail(e);
	return KRK_SYS_CALL(ssize_t, krs_readv(fd, iov, cnt));
}

ssize_t
krk_sys_writev(int fd, const struct krs_iovec *iov, int cnt)
{
	int e = krk_iov_bad(iov, cnt);

	if (e != 0)
		return krk_sys_fail(e);
	if (krk_self_console(fd)) {
		ssize_t n = 0;
		for (int i = 0; i < cnt; i++)
			n += krk_console_write(fd, iov[i].iov_base, iov[i].iov_len);
		return n;
	}
	return KRK_SYS_CALL(ssize_t, krs_writev(fd, iov, cnt));
}

int64_t
krk_sys_lseek(int fd, int64_t off, int whence)
{
	return KRK_SYS_CALL(int64_t, krs_lseek(fd, off, whence));
}

int
krk_sys_fstat(int fd, struct krk_linux_stat *st)
{
	struct krs_stat k;

	if (krk_sys_badbuf(st, sizeof(*st)))
		return krk_sys_fail(EFAULT);
	int rv = KRK_SYS_CALL(int, krs_fstat(fd, &k));
	if (rv == 0)
		krk_stat_out(&k, st);
	return rv;
}

/* stat and lstat: a path's krs_stat, in Linux's layout. */
static int
krk_path_stat(const char *path, struct krk_linux_stat *st,
    int (*call)(const char *, struct krs_stat *))
{
	struct krs_stat k;

	if (krk_sys_badptr(path) || krk_sys_badbuf(st, sizeof(*st)))
		return krk_sys_fail(EFAULT);
	int rv = KRK_SYS_CALL(int, call(path, &k));
	if (rv == 0)
		krk_stat_out(&k, st);
	return rv;
}

int
krk_sys_stat(const char *path, struct krk_linux_stat *st)
{
	return krk_path_stat(path, st, krs_stat);
}

int
krk_sys_lstat(const char *path, struct krk_linux_stat *st)
{
	return krk_path_stat(path, st, krs_lstat);
}

int
krk_sys_mkdir(const char *path, unsigned mode)
{
	if (krk_sys_badptr(path))
		return krk_sys_fail(EFAULT);
	return KRK_SYS_CALL(int, krs_mkdir(path, mode));
}

int
krk_sys_rmdir(const char *path)
{
	if (krk_sys_badptr(path))
		return krk_sys_fail(EFAULT);
	return KRK_SYS_CALL(int, krs_rmdir(path));
}

int
krk_sys_unlink(const char *path)
{
	if (krk_sys_badptr(path))
		return krk_sys_fail(EFAULT);
	return KRK_SYS_CALL(int, krs_unlink(path));
}

int
krk_sys_rename(const char *from, const char *to)
{
	if (krk_sys_badptr(from) || krk_sys_badptr(to))
		return krk_sys_fail(EFAULT);
	return KRK_SYS_CALL(int, krs_rename(from, to));
}

ssize_t
krk_sys_getdents64(int fd, void *buf, size_t n)
{
	if (krk_sys_badbuf(buf, n))
		return krk_sys_fail(EFAULT);
	return KRK_SYS_CALL(ssize_t, krs_getdents(fd, buf, n));
}

int
krk_sys_fsync(int fd)
{
	return KRK_SYS_CALL(int, krs_fsync(fd));
}

int
krk_sys_ftruncate(int fd, int64_t len)
{
	return KRK_SYS_CALL(int, krs_ftruncate(fd, len));
}

int
krk_sys_dup(int fd)
{
	return KRK_SYS_CALL(int, krs_dup(fd));
}

int
krk_sys_dup2(int fd, int newfd)
{
	if (newfd >= KRK_EPOLL_FD_BASE)
		return krk_sys_fail(EBADF);
	int rv = KRK_SYS_CALL(int, krs_dup2(fd, newfd));
	if (rv >= 0) {
		int was = krk_sys_nokill_begin();
		krk_self_console_drop(newfd);
		krk_sys_nokill_end(was);
	}
	return rv;
}

/* Every command krs_fcntl knows takes one int (or none). */
int
krk_sys_fcntl(int fd, int cmd, ...)
{
	va_list ap;
	int arg;

	va_start(ap, cmd);
	arg = va_arg(ap, int);
	va_end(ap);
	return KRK_SYS_CALL(int, krs_fcntl(fd, cmd, arg));
}

char *
krk_sys_getcwd(char *buf, size_t n)
{
	if (buf == NULL) {
		/* glibc's allocating form is not offered. */
		krk_sys_fail(EINVAL);
		return NULL;
	}
	if (krk_sys_badbuf(buf, n)) {
		krk_sys_fail(EFAULT);
		return NULL;
	}
	krk_sys_enter();
	char *rv = krs_getcwd(buf, n);
	int e = errno;
	krk_sys_exit();
	if (rv == NULL)
		*kld_libc_errno_location() = e;
	return rv;
}

int
krk_sys_chdir(const char *path)
{
	if (krk_sys_badptr(path))
		return krk_sys_fail(EFAULT);
	return KRK_SYS_CALL(int, krs_chdir(path));
}

/*
 * Directory streams over getdents64.  The DIR lives in the isolate's
 * heap, so an isolate that ends without closedir leaks nothing of KRANK's
 * (its descriptor is closed with its context).
 */
struct krk_dir {
	int fd;
	size_t pos, len;
	struct {
		uint64_t d_ino;
		int64_t d_off;
		uint16_t d_reclen;
		uint8_t d_type;
		char d_name[256];
	} ent;				/* the isolate's struct dirent */
	char buf[4096] __attribute__((aligned(8)));
};

struct krk_dir *
krk_sys_fdopendir(int fd)
{
	struct krk_dir *d = krk_sys_mem_alloc(sizeof(*d));

	if (d == NULL) {
		krk_sys_fail(ENOMEM);
		return NULL;
	}
	d->fd = fd;
	d->pos = d->len = 0;
	return d;
}

struct krk_dir *
krk_sys_opendir(const char *path)
{
	int fd = krk_sys_open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	struct krk_dir *d = krk_sys_fdopendir(fd);
	if (d == NULL)
		krk_sys_close(fd);
	return d;
}

void *
krk_sys_readdir(struct krk_dir *d)
{
	if (krk_sys_badbuf(d, sizeof(*d))) {
		krk_sys_fail(EFAULT);
		return NULL;
	}
	if (d->pos >= d->len) {
		ssize_t n = krk_sys_getdents64(d->fd, d->buf, sizeof(d->buf));

		if (n <= 0)
			return NULL;	/* end (errno untouched) or error */
		d->len = (size_t)n;
		d->pos = 0;
	}
	const struct krs_dirent *k = (const void *)(d->buf + d->pos);
	if (k->d_reclen == 0 || d->pos + k->d_reclen > d->len) {
		krk_sys_fail(EIO);	/* a kernel bug: stop, do not loop */
		d->pos = d->len;
		return NULL;
	}
	d->pos += k->d_reclen;
	d->ent.d_ino = k->d_ino;
	d->ent.d_off = k->d_off;
	d->ent.d_reclen = sizeof(d->ent);
	d->ent.d_type = k->d_type;
	size_t nl = strnlen(k->d_name, sizeof(d->ent.d_name) - 1);
	memcpy(d->ent.d_name, k->d_name, nl);
	d->ent.d_name[nl] = '\0';
	return &d->ent;
}

int
krk_sys_closedir(struct krk_dir *d)
{
	if (krk_sys_badbuf(d, sizeof(*d)))
		return krk_sys_fail(EFAULT);
	int rv = krk_sys_close(d->fd);
	krk_sys_mem_free(d);
	return rv;
}

int
krk_sys_dirfd(struct krk_dir *d)
{
	if (krk_sys_badbuf(d, sizeof(*d)))
		return krk_sys_fail(EFAULT);
	return d->fd;
}
