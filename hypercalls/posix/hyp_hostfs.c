/*
 * hyp_hostfs.c - host half of hostfs on Linux: every lookup is an openat2
 * below the served directory's descriptor with RESOLVE_BENEATH,
 * RESOLVE_NO_SYMLINKS and RESOLVE_NO_MAGICLINKS (and RESOLVE_NO_XDEV unless
 * asked), so the kernel, not string handling, keeps KRANK inside.  The
 * namespace calls take a directory descriptor obtained that way and one
 * checked name component.  See docs/hostfs.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <linux/openat2.h>
#include <krank/hyp_hostfs.h>
#include "rumpuser_int.h"

#define NB_ENOTDIR	20
#define NB_ENAMETOOLONG	63
#define NB_ESTALE	70

/* A single path component: not empty, no '/', not "." or "..". */
static int
check_name(const char *name)
{
	size_t len;

	if (name == NULL || name[0] == '\0')
		return NB_EINVAL;
	len = strnlen(name, 256);
	if (len > 255)
		return NB_ENAMETOOLONG;
	if (memchr(name, '/', len) != NULL || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0)
		return NB_EINVAL;
	return 0;
}

static int
sys_openat2(int dirfd, const char *path, int flags, uint64_t resolve)
{
	struct open_how how;

	memset(&how, 0, sizeof(how));
	how.flags = (uint64_t)flags;
	how.resolve = resolve;
	return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

int
hyp_hostfs_root(const char *path, int *fdp)
{
	struct rlimit rl;
	int fd, e;

	if (path == NULL || fdp == NULL)
		return NB_EINVAL;
	fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1)
		return rumpuser__errtrans(errno);
	/* Refuse hosts whose kernel cannot confine lookups (Linux < 5.6). */
	e = sys_openat2(fd, ".", O_PATH | O_CLOEXEC, RESOLVE_BENEATH |
	    RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS);
	if (e == -1) {
		e = errno;
		close(fd);
		return rumpuser__errtrans(e);
	}
	close(e);
	/* One descriptor per cached vnode: take what the hard limit allows. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	*fdp = fd;
	return 0;
}

static int
open_flags(int mode, int *flagsp)
{
	switch (mode & 0xff) {
	case HYP_HOSTFS_PATH:
		*flagsp = O_PATH | O_NOFOLLOW | O_CLOEXEC;
		return 0;
	case HYP_HOSTFS_DIR:
		*flagsp = O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
		return 0;
	case HYP_HOSTFS_RDONLY:
		*flagsp = O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK |
		    O_CLOEXEC;
		return 0;
	case HYP_HOSTFS_RDWR:
		*flagsp = O_RDWR | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK |
		    O_CLOEXEC;
		return 0;
	}
	return NB_EINVAL;
}

int
hyp_hostfs_open(int rootfd, const char *rel, int mode, int *fdp)
{
	uint64_t resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
	    RESOLVE_NO_MAGICLINKS;
	int flags, fd = -1, e = 0, error;

	if (rel == NULL || fdp == NULL || (mode & ~(0xff | HYP_HOSTFS_XDEV)))
		return NB_EINVAL;
	if ((error = open_flags(mode, &flags)) != 0)
		return error;
	if (!(mode & HYP_HOSTFS_XDEV))
		resolve |= RESOLVE_NO_XDEV;
	if (rel[0] == '\0')
		rel = ".";
	/* EAGAIN: a rename or mount raced a walk the kernel cannot prove
	 * safe; it is refused, and retried a few times. */
	KLOCK_WRAP(
		for (int tries = 0; tries < 8; tries++) {
			fd = sys_openat2(rootfd, rel, flags, resolve);
			e = errno;
			if (fd != -1 || (e != EAGAIN && e != EINTR))
				break;
		}
	);
	if (fd == -1)
		return rumpuser__errtrans(e);
	if ((mode & 0xff) == HYP_HOSTFS_RDONLY ||
	    (mode & 0xff) == HYP_HOSTFS_RDWR) {
		struct stat st;
		if (fstat(fd, &st) == -1 ||
		    !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))) {
			close(fd);
			return NB_EOPNOTSUPP;
		}
	}
	*fdp = fd;
	return 0;
}

int
hyp_hostfs_reopen(int rootfd, const char *rel, int pathfd, int mode,
    int *fdp)
{
	struct stat a, b;
	int fd, error;

	if (fdp == NULL || ((mode & 0xff) != HYP_HOSTFS_RDONLY &&
	    (mode & 0xff) != HYP_HOSTFS_RDWR))
		return NB_EINVAL;
	if (fstat(pathfd, &a) == -1)
		return rumpuser__errtrans(errno);
	if (S_ISDIR(a.st_mode)) {
		/* "." from the directory itself: no walk at all. */
		if ((mode & 0xff) != HYP_HOSTFS_RDONLY)
			return 21;	/* EISDIR */
		fd = openat(pathfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd == -1)
			return rumpuser__errtrans(errno);
		*fdp = fd;
		return 0;
	}
	if (!S_ISREG(a.st_mode))
		return NB_EOPNOTSUPP;
	if ((error = hyp_hostfs_open(rootfd, rel, mode, &fd)) != 0)
		return error == NB_ENOENT ? NB_ESTALE : error;
	if (fstat(fd, &b) == -1 || a.st_dev != b.st_dev || a.st_ino != b.st_ino) {
		close(fd);
		return NB_ESTALE;
	}
	*fdp = fd;
	return 0;
}

void
hyp_hostfs_close(int fd)
{
	if (fd >= 0)
		close(fd);
}

static void
attr_from_statx(const struct statx *sx, struct hyp_hostfs_attr *a)
{
	memset(a, 0, sizeof(*a));
	switch (sx->stx_mode & S_IFMT) {
	case S_IFREG: a->type = HYP_HOSTFS_T_REG; break;
	case S_IFDIR: a->type = HYP_HOSTFS_T_DIR; break;
	case S_IFLNK: a->type = HYP_HOSTFS_T_LNK; break;
	case S_IFCHR: a->type = HYP_HOSTFS_T_CHR; break;
	case S_IFBLK: a->type = HYP_HOSTFS_T_BLK; break;
	case S_IFIFO: a->type = HYP_HOSTFS_T_FIFO; break;
	case S_IFSOCK: a->type = HYP_HOSTFS_T_SOCK; break;
	default: a->type = 0; break;
	}
	a->mode = sx->stx_mode & 07777;
	a->nlink = sx->stx_nlink;
	a->uid = sx->stx_uid;
	a->gid = sx->stx_gid;
	a->blksize = sx->stx_blksize;
	a->dev = ((uint64_t)sx->stx_dev_major << 32) | sx->stx_dev_minor;
	a->ino = sx->stx_ino;
	a->size = sx->stx_size;
	a->bytes = sx->stx_blocks * 512;
	a->rdev = ((uint64_t)sx->stx_rdev_major << 32) | sx->stx_rdev_minor;
	a->atime_sec = sx->stx_atime.tv_sec;
	a->atime_nsec = (int32_t)sx->stx_atime.tv_nsec;
	a->mtime_sec = sx->stx_mtime.tv_sec;
	a->mtime_nsec = (int32_t)sx->stx_mtime.tv_nsec;
	a->ctime_sec = sx->stx_ctime.tv_sec;
	a->ctime_nsec = (int32_t)sx->stx_ctime.tv_nsec;
	if (sx->stx_mask & STATX_BTIME) {
		a->btime_sec = sx->stx_btime.tv_sec;
		a->btime_nsec = (int32_t)sx->stx_btime.tv_nsec;
	}
}

int
hyp_hostfs_stat(int fd, struct hyp_hostfs_attr *a)
{
	struct statx sx;

	if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW,
	    STATX_BASIC_STATS | STATX_BTIME, &sx) == -1)
		return rumpuser__errtrans(errno);
	attr_from_statx(&sx, a);
	return 0;
}

int
hyp_hostfs_statat(int dirfd, const char *name, struct hyp_hostfs_attr *a)
{
	struct statx sx;
	int error;

	if ((error = check_name(name)) != 0)
		return error;
	if (statx(dirfd, name, AT_SYMLINK_NOFOLLOW,
	    STATX_BASIC_STATS | STATX_BTIME, &sx) == -1)
		return rumpuser__errtrans(errno);
	attr_from_statx(&sx, a);
	return 0;
}

/* Give a new file its owner when the host lets us (we run as root). */
static void
set_owner(int fd, uint32_t uid, uint32_t gid)
{
	if (geteuid() == 0)
		(void)fchownat(fd, "", uid, gid, AT_EMPTY_PATH |
		    AT_SYMLINK_NOFOLLOW);
}

int
hyp_hostfs_create(int dirfd, const char *name, uint32_t mode, uint32_t uid,
    uint32_t gid, int *fdp)
{
	int fd, error;

	if ((error = check_name(name)) != 0)
		return error;
	/* O_EXCL: an existing name, even a symbolic link, is EEXIST. */
	fd = openat(dirfd, name, O_CREAT | O_EXCL | O_RDWR | O_NOFOLLOW |
	    O_CLOEXEC, mode & 07777);
	if (fd == -1)
		return rumpuser__errtrans(errno);
	(void)fchmod(fd, mode & 07777);		/* without KRANK's umask */
	set_owner(fd, uid, gid);
	*fdp = fd;
	return 0;
}

int
hyp_hostfs_mkdir(int dirfd, const char *name, uint32_t mode, uint32_t uid,
    uint32_t gid)
{
	int fd, error;

	if ((error = check_name(name)) != 0)
		return error;
	if (mkdirat(dirfd, name, mode & 07777) == -1)
		return rumpuser__errtrans(errno);
	/* Mode and owner through a descriptor of the new directory: a name
	 * swapped for a symbolic link meanwhile is not followed. */
	fd = sys_openat2(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
	    RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV);
	if (fd >= 0) {
		(void)fchmod(fd, mode & 07777);
		set_owner(fd, uid, gid);
		close(fd);
	}
	return 0;
}

int
hyp_hostfs_symlink(int dirfd, const char *name, const char *target,
    uint32_t uid, uint32_t gid)
{
	int error;

	if ((error = check_name(name)) != 0)
		return error;
	if (target == NULL || target[0] == '\0')
		return 2;			/* ENOENT, as Linux */
	if (symlinkat(target, dirfd, name) == -1)
		return rumpuser__errtrans(errno);
	if (geteuid() == 0)
		(void)fchownat(dirfd, name, uid, gid, AT_SYMLINK_NOFOLLOW);
	return 0;
}

int
hyp_hostfs_unlink(int dirfd, const char *name, int isdir)
{
	int error;

	if ((error = check_name(name)) != 0)
		return error;
	if (unlinkat(dirfd, name, isdir ? AT_REMOVEDIR : 0) == -1)
		return rumpuser__errtrans(errno);
	return 0;
}

int
hyp_hostfs_rename(int fdirfd, const char *fname, int tdirfd,
    const char *tname)
{
	int error;

	if ((error = check_name(fname)) != 0 ||
	    (error = check_name(tname)) != 0)
		return error;
	if (renameat(fdirfd, fname, tdirfd, tname) == -1)
		return rumpuser__errtrans(errno);
	return 0;
}

int
hyp_hostfs_link(int fdirfd, const char *fname, int tdirfd, const char *tname)
{
	int error;

	if ((error = check_name(fname)) != 0 ||
	    (error = check_name(tname)) != 0)
		return error;
	/* flags 0: a symbolic link named fname is linked, not followed. */
	if (linkat(fdirfd, fname, tdirfd, tname, 0) == -1)
		return rumpuser__errtrans(errno);
	return 0;
}

int
hyp_hostfs_readlink(int fd, char *buf, size_t len, size_t *lenp)
{
	ssize_t n = readlinkat(fd, "", buf, len);

	if (n == -1)
		return rumpuser__errtrans(errno);
	*lenp = (size_t)n;
	return 0;
}

int
hyp_hostfs_pread(int fd, void *buf, size_t len, int64_t off, size_t *donep)
{
	size_t done = 0;
	int e = 0;

	KLOCK_WRAP(
		while (done < len) {
			ssize_t n = pread(fd, (char *)buf + done, len - done,
			    (off_t)(off + (int64_t)done));
			if (n == -1 && errno == EINTR)
				continue;
			if (n == -1) {
				e = errno;
				break;
			}
			if (n == 0)
				break;
			done += (size_t)n;
		}
	);
	*donep = done;
	return done == 0 && e != 0 ? rumpuser__errtrans(e) : 0;
}

int
hyp_hostfs_pwrite(int fd, const void *buf, size_t len, int64_t off,
    size_t *donep)
{
	size_t done = 0;
	int e = 0;

	KLOCK_WRAP(
		while (done < len) {
			ssize_t n = pwrite(fd, (const char *)buf + done,
			    len - done, (off_t)(off + (int64_t)done));
			if (n == -1 && errno == EINTR)
				continue;
			if (n <= 0) {
				e = n == 0 ? EIO : errno;
				break;
			}
			done += (size_t)n;
		}
	);
	*donep = done;
	return e != 0 ? rumpuser__errtrans(e) : 0;
}

int
hyp_hostfs_truncate(int fd, int64_t size)
{
	if (ftruncate(fd, (off_t)size) == -1)
		return rumpuser__errtrans(errno);
	return 0;
}

int
hyp_hostfs_fsync(int fd)
{
	int rv, e = 0;

	KLOCK_WRAP(rv = fsync(fd); e = errno);
	return rv == -1 ? rumpuser__errtrans(e) : 0;
}

int
hyp_hostfs_chmod(int fd, uint32_t mode)
{
	if (fchmod(fd, mode & 07777) == -1)
		return rumpuser__errtrans(errno);
	return 0;
}

int
hyp_hostfs_chown(int fd, uint32_t uid, uint32_t gid)
{
	if (fchownat(fd, "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) == -1)
		return rumpuser__errtrans(errno);
	return 0;
}

int
hyp_hostfs_utimes(int fd, int64_t asec, int32_t ansec, int64_t msec,
    int32_t mnsec)
{
	struct timespec ts[2];

	ts[0].tv_sec = (time_t)asec;
	ts[0].tv_nsec = ansec == HYP_HOSTFS_UTIME_OMIT ? UTIME_OMIT : ansec;
	ts[1].tv_sec = (time_t)msec;
	ts[1].tv_nsec = mnsec == HYP_HOSTFS_UTIME_OMIT ? UTIME_OMIT : mnsec;
	if (utimensat(fd, "", ts, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) == -1)
		return rumpuser__errtrans(errno);
	return 0;
}

int
hyp_hostfs_readdir(int fd, int64_t off, void *buf, size_t len, size_t *np)
{
	ssize_t n;

	if (lseek(fd, (off_t)off, SEEK_SET) == (off_t)-1)
		return rumpuser__errtrans(errno);
	n = syscall(SYS_getdents64, fd, buf, len);
	if (n == -1)
		return rumpuser__errtrans(errno);
	*np = (size_t)n;
	return 0;
}

int
hyp_hostfs_statvfs(int fd, struct hyp_hostfs_statvfs *sv)
{
	struct statvfs s;

	if (fstatvfs(fd, &s) == -1)
		return rumpuser__errtrans(errno);
	sv->bsize = s.f_bsize;
	sv->frsize = s.f_frsize;
	sv->blocks = s.f_blocks;
	sv->bfree = s.f_bfree;
	sv->bavail = s.f_bavail;
	sv->files = s.f_files;
	sv->ffree = s.f_ffree;
	sv->favail = s.f_favail;
	sv->namemax = s.f_namemax;
	return 0;
}
