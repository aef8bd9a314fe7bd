/*
 * hyp_hostfs.h - the host half of hostfs (rumpdrv/fs/hostfs): confined
 * access to one host directory.  Every path given here is resolved below a
 * root descriptor with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
 * RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV), so no path, symbolic link,
 * "..", magic link or mount point leads outside it; names given to the
 * namespace calls are single components (no '/', not "." or "..").
 * Like every hyp_* call: 0 or a positive NetBSD errno, never errno.
 * Revision of this interface: HYP_HOSTFS_REV.
 */
#ifndef KRANK_HYP_HOSTFS_H
#define KRANK_HYP_HOSTFS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HYP_HOSTFS_REV	1

/* Types of hyp_hostfs_attr.type (NetBSD's and Linux's DT_* values). */
#define HYP_HOSTFS_T_FIFO	1
#define HYP_HOSTFS_T_CHR	2
#define HYP_HOSTFS_T_DIR	4
#define HYP_HOSTFS_T_BLK	6
#define HYP_HOSTFS_T_REG	8
#define HYP_HOSTFS_T_LNK	10
#define HYP_HOSTFS_T_SOCK	12

struct hyp_hostfs_attr {
	uint32_t type;			/* HYP_HOSTFS_T_* */
	uint32_t mode;			/* permission bits (07777) */
	uint32_t nlink, uid, gid, blksize;
	uint64_t dev, ino, size, bytes, rdev;
	int64_t atime_sec, mtime_sec, ctime_sec, btime_sec;
	int32_t atime_nsec, mtime_nsec, ctime_nsec, btime_nsec;
};

/*
 * hyp_hostfs_root - open host directory `path` (absolute, chosen by the
 * operator: symbolic links in it are followed) as the root of a confined
 * tree.  Raises the process's soft descriptor limit to its hard limit
 * (hostfs keeps one descriptor per cached file).  Returns 0 and *fdp,
 * ENOENT, ENOTDIR, EACCES, ENOSYS (host without openat2).
 */
int hyp_hostfs_root(const char *path, int *fdp);

/* Modes of hyp_hostfs_open. */
#define HYP_HOSTFS_PATH		0	/* O_PATH: names the file, even a
					 * symbolic link; no data access */
#define HYP_HOSTFS_RDONLY	1
#define HYP_HOSTFS_RDWR		2
#define HYP_HOSTFS_DIR		3	/* O_PATH, must be a directory */
#define HYP_HOSTFS_XDEV		0x100	/* or'ed in: may cross mount points */

/*
 * hyp_hostfs_open - open rel (relative; "" or "." is the root itself)
 * beneath rootfd.  No symbolic link is followed anywhere in rel; a final
 * one is opened itself in HYP_HOSTFS_PATH mode and refused (ELOOP) in the
 * others.  RDONLY/RDWR open regular files and directories only (others:
 * EOPNOTSUPP, so device nodes and FIFOs are never opened).  Returns 0 and
 * *fdp; ENOENT, ENOTDIR, ELOOP, EXDEV (a mount point, or an escape the
 * kernel refused), ENAMETOOLONG, EACCES, EAGAIN (a rename raced the walk;
 * retried a few times first).
 */
int hyp_hostfs_open(int rootfd, const char *rel, int mode, int *fdp);

/*
 * hyp_hostfs_reopen - a data descriptor (HYP_HOSTFS_RDONLY or _RDWR) for
 * the file that O_PATH descriptor pathfd names: rel is where it was last
 * seen below rootfd; the file opened there must be the same (device and
 * inode), else ESTALE.  Directories are reopened through pathfd itself.
 */
int hyp_hostfs_reopen(int rootfd, const char *rel, int pathfd, int mode,
    int *fdp);

/* hyp_hostfs_close - close a descriptor of this interface (no sync). */
void hyp_hostfs_close(int fd);

/* hyp_hostfs_stat - attributes of fd (any mode).  hyp_hostfs_statat -
 * of the single component name in directory dirfd, not following it. */
int hyp_hostfs_stat(int fd, struct hyp_hostfs_attr *a);
int hyp_hostfs_statat(int dirfd, const char *name, struct hyp_hostfs_attr *a);

/*
 * Namespace changes inside a directory descriptor (from hyp_hostfs_open,
 * HYP_HOSTFS_DIR).  create makes a regular file exclusively and returns a
 * read-write descriptor in *fdp.  uid/gid are applied when the host lets
 * this process (root); otherwise the file keeps the process's owner.
 */
int hyp_hostfs_create(int dirfd, const char *name, uint32_t mode,
    uint32_t uid, uint32_t gid, int *fdp);
int hyp_hostfs_mkdir(int dirfd, const char *name, uint32_t mode,
    uint32_t uid, uint32_t gid);
int hyp_hostfs_symlink(int dirfd, const char *name, const char *target,
    uint32_t uid, uint32_t gid);
/* unlink: rmdir when isdir. */
int hyp_hostfs_unlink(int dirfd, const char *name, int isdir);
int hyp_hostfs_rename(int fdirfd, const char *fname, int tdirfd,
    const char *tname);
/* link: a new name tname in tdirfd for fname in fdirfd (never followed). */
int hyp_hostfs_link(int fdirfd, const char *fname, int tdirfd,
    const char *tname);

/* readlink of an O_PATH descriptor of a symbolic link; *lenp bytes, not
 * NUL-terminated, at most len. */
int hyp_hostfs_readlink(int fd, char *buf, size_t len, size_t *lenp);

/* Data: pread/pwrite at off (never the file position); short counts at
 * EOF only.  Releases the virtual CPU around the host call. */
int hyp_hostfs_pread(int fd, void *buf, size_t len, int64_t off,
    size_t *donep);
int hyp_hostfs_pwrite(int fd, const void *buf, size_t len, int64_t off,
    size_t *donep);
int hyp_hostfs_truncate(int fd, int64_t size);
int hyp_hostfs_fsync(int fd);

/*
 * Attributes.  chmod needs a data descriptor (fd of a directory or
 * regular file); chown and utimes take any descriptor.  A time with
 * nsec HYP_HOSTFS_UTIME_OMIT is left alone.
 */
#define HYP_HOSTFS_UTIME_OMIT	(-2)
int hyp_hostfs_chmod(int fd, uint32_t mode);
int hyp_hostfs_chown(int fd, uint32_t uid, uint32_t gid);
int hyp_hostfs_utimes(int fd, int64_t asec, int32_t ansec, int64_t msec,
    int32_t mnsec);

/*
 * hyp_hostfs_readdir - entries of directory data descriptor fd from
 * cookie off (0: start) into buf as Linux dirent64 records (struct
 * hyp_hostfs_dirent; d_off is the cookie of the next entry); *np bytes,
 * 0 at the end.  Callers serialise on one fd (it seeks).
 */
struct hyp_hostfs_dirent {
	uint64_t d_ino;
	int64_t d_off;
	uint16_t d_reclen;
	uint8_t d_type;			/* HYP_HOSTFS_T_*, 0 unknown */
	char d_name[];
};
int hyp_hostfs_readdir(int fd, int64_t off, void *buf, size_t len,
    size_t *np);

struct hyp_hostfs_statvfs {
	uint64_t bsize, frsize, blocks, bfree, bavail, files, ffree, favail;
	uint64_t namemax;
};
int hyp_hostfs_statvfs(int fd, struct hyp_hostfs_statvfs *sv);

#ifdef __cplusplus
}
#endif
#endif /* KRANK_HYP_HOSTFS_H */
