/*
 * kbr_preload_file.c - file calls for paths under KRANK_PATHS (absolute
 * paths whose leading components are one of the colon-separated
 * prefixes) go to KRANK's file systems, under the same path; descriptors
 * KRANK opened are served by KRANK whatever the call (read and write are
 * in kbr_preload.c).  Relative paths and everything else are Linux's.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kbr_preload_int.h"

#define KBR_EXPORT __attribute__((visibility("default")))
#define KBR_MAXPFX 16

/* Set once by the constructor, read-only after. */
static char *kbr_pfx[KBR_MAXPFX];
static size_t kbr_pfxlen[KBR_MAXPFX];
static size_t kbr_npfx;

void
kbr_paths_init(const char *spec)
{
	char *s, *tok, *save = NULL;

	if (spec == NULL || (s = strdup(spec)) == NULL)
		return;
	for (tok = strtok_r(s, ":", &save); tok != NULL;
	    tok = strtok_r(NULL, ":", &save)) {
		size_t n = strlen(tok);
		if (tok[0] != '/') {
			kbr_say("KRANK_PATHS: %s: not an absolute path, "
			    "ignored", tok);
			continue;
		}
		if (kbr_npfx == KBR_MAXPFX) {
			kbr_say("KRANK_PATHS: %s: more than %d prefixes, "
			    "ignored", tok, KBR_MAXPFX);
			continue;
		}
		while (n > 1 && tok[n - 1] == '/')
			tok[--n] = '\0';
		kbr_pfx[kbr_npfx] = tok;
		kbr_pfxlen[kbr_npfx++] = n;
	}
}

bool
kbr_path_ours(const char *path)
{
	if (path == NULL || path[0] != '/' || !kbr_enabled())
		return false;
	for (size_t i = 0; i < kbr_npfx; i++) {
		size_t n = kbr_pfxlen[i];
		if (n == 1 || (strncmp(path, kbr_pfx[i], n) == 0 &&
		    (path[n] == '\0' || path[n] == '/')))
			return true;
	}
	return false;
}

/* glibc declares the path arguments nonnull; a program may pass NULL
 * anyway (Linux says EFAULT), so the checks are kept out of line. */
static __attribute__((noinline)) bool
kbr_rel(const char *p)
{
	return p != NULL && p[0] != '/';
}

static __attribute__((noinline)) bool
kbr_empty(const char *p)
{
	return p != NULL && p[0] == '\0';
}

/* A path call of KRANK's: the ring or NULL (errno set). */
#define KBR_PATH_ENTER(path, what, linux_call)				\
	struct kbr_ring *r_;						\
	if (!kbr_path_ours(path))					\
		return linux_call;					\
	kbr_debug("%s(%s): KRANK's", what, path);			\
	if ((r_ = kbr_client()) == NULL)				\
		return -1

#define KBR_FD_ENTER(fd, linux_call)					\
	int kfd_;							\
	uint32_t fl_;							\
	struct kbr_ring *r_;						\
	if (!kbr_fdtab_get((fd), &kfd_, &fl_))				\
		return linux_call;					\
	if (fl_ & KBR_FD_DEAD) {					\
		errno = EBADF;						\
		return -1;						\
	}								\
	if ((r_ = kbr_client()) == NULL)				\
		return -1

static int
kbr_open_k(int dirkfd, const char *path, int flags, mode_t mode)
{
	struct kbr_ring *r = kbr_client();
	int kfd, fd;

	if (r == NULL)
		return -1;
	kfd = dirkfd == AT_FDCWD ?
	    krank_open(r->c, path, flags & ~O_CLOEXEC, mode) :
	    krank_openat(r->c, dirkfd, path, flags & ~O_CLOEXEC, mode);
	if (kfd < 0) {
		kbr_put(r);
		kbr_debug("open(%s): KRANK says %s", path, strerror(errno));
		return -1;
	}
	fd = kbr_place(r, kfd, (flags & O_CLOEXEC) ? KBR_FD_CLOEXEC : 0,
	    "open");
	kbr_put(r);
	return fd;
}

static mode_t
kbr_mode(int flags, va_list ap)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ?
	    (mode_t)va_arg(ap, unsigned) : 0;
}

KBR_EXPORT int
open(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = kbr_mode(flags, ap);
	va_end(ap);
	if (!kbr_path_ours(path))
		return KBR_REAL(open)(path, flags, mode);
	kbr_debug("open(%s): KRANK's", path);
	return kbr_open_k(AT_FDCWD, path, flags, mode);
}
KBR_EXPORT int open64(const char *, int, ...) __attribute__((alias("open")));

KBR_EXPORT int
__open_2(const char *path, int flags)
{
	return open(path, flags);
}
KBR_EXPORT int __open64_2(const char *, int)
    __attribute__((alias("__open_2")));

KBR_EXPORT int
openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;
	int dkfd;
	uint32_t fl;

	va_start(ap, flags);
	mode = kbr_mode(flags, ap);
	va_end(ap);
	if (kbr_rel(path) && kbr_fdtab_get(dirfd, &dkfd, &fl)) {
		if (fl & KBR_FD_DEAD) {
			errno = EBADF;
			return -1;
		}
		kbr_debug("openat(%d, %s): KRANK's directory", dirfd, path);
		return kbr_open_k(dkfd, path, flags, mode);
	}
	if (!kbr_path_ours(path))
		return KBR_REAL(openat)(dirfd, path, flags, mode);
	kbr_debug("openat(%s): KRANK's", path);
	return kbr_open_k(AT_FDCWD, path, flags, mode);
}
KBR_EXPORT int openat64(int, const char *, int, ...)
    __attribute__((alias("openat")));

KBR_EXPORT int
__openat_2(int dirfd, const char *path, int flags)
{
	return openat(dirfd, path, flags);
}
KBR_EXPORT int __openat64_2(int, const char *, int)
    __attribute__((alias("__openat_2")));

KBR_EXPORT int
creat(const char *path, mode_t mode)
{
	return open(path, O_CREAT | O_WRONLY | O_TRUNC, mode);
}
KBR_EXPORT int creat64(const char *, mode_t) __attribute__((alias("creat")));

KBR_EXPORT ssize_t
pread(int fd, void *buf, size_t len, off_t off)
{
	KBR_FD_ENTER(fd, KBR_REAL(pread)(fd, buf, len, off));
	ssize_t v = krank_pread(r_->c, kfd_, buf, len, off);
	kbr_put(r_);
	return v;
}
KBR_EXPORT ssize_t pread64(int, void *, size_t, off_t)
    __attribute__((alias("pread")));

KBR_EXPORT ssize_t
__pread_chk(int fd, void *buf, size_t len, off_t off, size_t buflen)
{
	if (len > buflen)
		abort();
	return pread(fd, buf, len, off);
}
KBR_EXPORT ssize_t __pread64_chk(int, void *, size_t, off_t, size_t)
    __attribute__((alias("__pread_chk")));

KBR_EXPORT ssize_t
pwrite(int fd, const void *buf, size_t len, off_t off)
{
	KBR_FD_ENTER(fd, KBR_REAL(pwrite)(fd, buf, len, off));
	ssize_t v = krank_pwrite(r_->c, kfd_, buf, len, off);
	kbr_put(r_);
	return v;
}
KBR_EXPORT ssize_t pwrite64(int, const void *, size_t, off_t)
    __attribute__((alias("pwrite")));

KBR_EXPORT off_t
lseek(int fd, off_t off, int whence)
{
	KBR_FD_ENTER(fd, KBR_REAL(lseek)(fd, off, whence));
	off_t v = krank_lseek(r_->c, kfd_, off, whence);
	kbr_put(r_);
	return v;
}
KBR_EXPORT off_t lseek64(int, off_t, int) __attribute__((alias("lseek")));

KBR_EXPORT int
fsync(int fd)
{
	KBR_FD_ENTER(fd, KBR_REAL(fsync)(fd));
	int v = krank_fsync(r_->c, kfd_);
	kbr_put(r_);
	return v;
}

KBR_EXPORT int
fdatasync(int fd)
{
	KBR_FD_ENTER(fd, KBR_REAL(fdatasync)(fd));
	int v = krank_fsync(r_->c, kfd_);
	kbr_put(r_);
	return v;
}

KBR_EXPORT int
ftruncate(int fd, off_t len)
{
	KBR_FD_ENTER(fd, KBR_REAL(ftruncate)(fd, len));
	int v = krank_ftruncate(r_->c, kfd_, len);
	kbr_put(r_);
	return v;
}
KBR_EXPORT int ftruncate64(int, off_t) __attribute__((alias("ftruncate")));

/* ---- stat family (struct stat and stat64 are one layout on x86-64) ----- */

static int
kbr_fstat_k(int fd, struct stat *st)
{
	KBR_FD_ENTER(fd, -1);
	int v = krank_fstat(r_->c, kfd_, st);
	kbr_put(r_);
	if (v < 0 && (fl_ & KBR_FD_SOCK)) {
		/* KRANK's sockets need not have a stat: say what it is. */
		memset(st, 0, sizeof(*st));
		st->st_mode = S_IFSOCK | 0777;
		st->st_blksize = 4096;
		v = 0;
	}
	return v;
}

KBR_EXPORT int
fstat(int fd, struct stat *st)
{
	if (!kbr_fdtab_get(fd, NULL, NULL))
		return KBR_REAL(fstat)(fd, st);
	return kbr_fstat_k(fd, st);
}
KBR_EXPORT int
fstat64(int fd, struct stat64 *st)
{
	return fstat(fd, (struct stat *)st);
}

KBR_EXPORT int
__fxstat(int ver, int fd, struct stat *st)
{
	if (!kbr_fdtab_get(fd, NULL, NULL))
		return KBR_REAL(__fxstat)(ver, fd, st);
	return kbr_fstat_k(fd, st);
}
KBR_EXPORT int
__fxstat64(int ver, int fd, struct stat64 *st)
{
	return __fxstat(ver, fd, (struct stat *)st);
}

static int
kbr_stat_k(const char *path, struct stat *st, bool l)
{
	struct kbr_ring *r = kbr_client();

	if (r == NULL)
		return -1;
	int v = l ? krank_lstat(r->c, path, st) : krank_stat(r->c, path, st);
	kbr_put(r);
	return v;
}

KBR_EXPORT int
stat(const char *path, struct stat *st)
{
	KBR_PATH_ENTER(path, "stat", KBR_REAL(stat)(path, st));
	kbr_put(r_);
	return kbr_stat_k(path, st, false);
}
KBR_EXPORT int
stat64(const char *path, struct stat64 *st)
{
	return stat(path, (struct stat *)st);
}

KBR_EXPORT int
lstat(const char *path, struct stat *st)
{
	KBR_PATH_ENTER(path, "lstat", KBR_REAL(lstat)(path, st));
	kbr_put(r_);
	return kbr_stat_k(path, st, true);
}
KBR_EXPORT int
lstat64(const char *path, struct stat64 *st)
{
	return lstat(path, (struct stat *)st);
}

KBR_EXPORT int
__xstat(int ver, const char *path, struct stat *st)
{
	KBR_PATH_ENTER(path, "stat", KBR_REAL(__xstat)(ver, path, st));
	kbr_put(r_);
	return kbr_stat_k(path, st, false);
}
KBR_EXPORT int
__xstat64(int ver, const char *path, struct stat64 *st)
{
	return __xstat(ver, path, (struct stat *)st);
}

KBR_EXPORT int
__lxstat(int ver, const char *path, struct stat *st)
{
	KBR_PATH_ENTER(path, "lstat", KBR_REAL(__lxstat)(ver, path, st));
	kbr_put(r_);
	return kbr_stat_k(path, st, true);
}
KBR_EXPORT int
__lxstat64(int ver, const char *path, struct stat64 *st)
{
	return __lxstat(ver, path, (struct stat *)st);
}

KBR_EXPORT int
fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
	if (kbr_empty(path) && (flags & AT_EMPTY_PATH))
		return fstat(dirfd, st);
	if (kbr_fdtab_get(dirfd, NULL, NULL) && kbr_rel(path)) {
		errno = EOPNOTSUPP;	/* relative to KRANK's directory */
		return -1;
	}
	KBR_PATH_ENTER(path, "fstatat",
	    KBR_REAL(fstatat)(dirfd, path, st, flags));
	kbr_put(r_);
	return kbr_stat_k(path, st, (flags & AT_SYMLINK_NOFOLLOW) != 0);
}
KBR_EXPORT int
fstatat64(int dirfd, const char *path, struct stat64 *st, int flags)
{
	return fstatat(dirfd, path, (struct stat *)st, flags);
}

/* ---- names ------------------------------------------------------------- */

KBR_EXPORT int
unlink(const char *path)
{
	KBR_PATH_ENTER(path, "unlink", KBR_REAL(unlink)(path));
	int v = krank_unlink(r_->c, path);
	kbr_put(r_);
	return v;
}

KBR_EXPORT int
unlinkat(int dirfd, const char *path, int flags)
{
	if (!kbr_path_ours(path))
		return KBR_REAL(unlinkat)(dirfd, path, flags);
	KBR_PATH_ENTER(path, "unlinkat",
	    KBR_REAL(unlinkat)(dirfd, path, flags));
	int v = (flags & AT_REMOVEDIR) ? krank_rmdir(r_->c, path) :
	    krank_unlink(r_->c, path);
	kbr_put(r_);
	return v;
}

KBR_EXPORT int
mkdir(const char *path, mode_t mode)
{
	KBR_PATH_ENTER(path, "mkdir", KBR_REAL(mkdir)(path, mode));
	int v = krank_mkdir(r_->c, path, mode);
	kbr_put(r_);
	return v;
}

KBR_EXPORT int
mkdirat(int dirfd, const char *path, mode_t mode)
{
	if (!kbr_path_ours(path))
		return KBR_REAL(mkdirat)(dirfd, path, mode);
	return mkdir(path, mode);
}

KBR_EXPORT int
rmdir(const char *path)
{
	KBR_PATH_ENTER(path, "rmdir", KBR_REAL(rmdir)(path));
	int v = krank_rmdir(r_->c, path);
	kbr_put(r_);
	return v;
}

KBR_EXPORT int
rename(const char *from, const char *to)
{
	bool a = kbr_path_ours(from), b = kbr_path_ours(to);

	if (!a && !b)
		return KBR_REAL(rename)(from, to);
	if (a != b) {
		errno = EXDEV;	/* between KRANK's files and Linux's */
		return -1;
	}
	KBR_PATH_ENTER(from, "rename", -1);
	int v = krank_rename(r_->c, from, to);
	kbr_put(r_);
	return v;
}

KBR_EXPORT int
access(const char *path, int mode)
{
	struct stat st;

	KBR_PATH_ENTER(path, "access", KBR_REAL(access)(path, mode));
	kbr_put(r_);
	/* KRANK's files are the caller's: existence is what matters. */
	(void)mode;
	return kbr_stat_k(path, &st, false);
}
