/*
 * ext2.h - the ext2 driver's inode-level interface, below the VFS glue
 * (ext2_vnops.c) and used directly by tools and tests that need no VFS.
 * A mounted file system is a struct ext2fs over a block device (blk.h);
 * files are referenced struct ext2_inode handles (ext2_iget/ext2_iput).
 *
 * Every function returns 0 or a positive NetBSD errno value.  Locking: each
 * call takes the file system's lock for its whole duration, so calls from
 * several threads are serialised per file system.  Names are (name,
 * namelen), not NUL-terminated, at most 255 bytes, never "." or "..".
 * Damaged on-disk objects give EIO; ext2_lasterror() says what was wrong.
 */
#ifndef RUMPDRV_EXT2_H
#define RUMPDRV_EXT2_H

#include <stddef.h>
#include <stdint.h>

struct ext2fs;
struct ext2_inode;

#define EXT2_MNT_RDONLY	0x1
#define EXT2_MNT_DIRECT	0x2	/* bypass the host's cache (blk_direct) */

/*
 * ext2_mount - open the image at path (through blk_open) and mount it.
 * cachebytes bounds the buffer cache (0: 8 MiB).  Unsupported incompatible
 * features refuse the mount (ENOTSUP); unsupported read-only-compatible
 * ones make it read-only (ext2_rdonly() tells).  A damaged superblock or
 * group descriptor table gives EINVAL or EIO (EFTYPE when not ext2).  On
 * failure err holds one line saying why.
 */
int ext2_mount(const char *path, int flags, size_t cachebytes,
    struct ext2fs **fsp, char *err, size_t errlen);
/* ext2_unmount - write everything back and close.  EBUSY (nothing done)
 * while inodes are still referenced.  Otherwise returns the first
 * write-back error (the fs is freed anyway). */
int ext2_unmount(struct ext2fs *fs);
/* ext2_sync - write back inodes, bitmaps, descriptors, superblock, data. */
int ext2_sync(struct ext2fs *fs);
int ext2_rdonly(const struct ext2fs *fs);
/* ext2_direct - 0 when the image is read and written directly (O_DIRECT,
 * asked for with EXT2_MNT_DIRECT), else why not: blk_direct's error, or
 * ENOTSUP when it was not asked for. */
int ext2_direct(const struct ext2fs *fs);
/* ext2_lasterror - the last corruption or refusal message ("" if none),
 * and how many corruption events were counted since mount. */
const char *ext2_lasterror(const struct ext2fs *fs, uint64_t *countp);

struct ext2_statfs {
	uint32_t bsize;
	uint64_t blocks, bfree, bavail;
	uint64_t files, ffree;
	uint32_t namemax;
	char volname[17];
};
void ext2_statfs(struct ext2fs *fs, struct ext2_statfs *st);

/* Inodes.  ext2_iget validates ino and the inode's type; EIO if damaged. */
int ext2_iget(struct ext2fs *fs, uint32_t ino, struct ext2_inode **ipp);
/* ext2_iput - drop a reference; the last one of an unlinked inode frees it. */
void ext2_iput(struct ext2_inode *ip);
void ext2_iref(struct ext2_inode *ip);
uint32_t ext2_root_ino(void);

struct ext2_attr {
	uint32_t ino;
	uint32_t mode;			/* type and permission bits */
	uint32_t nlink;
	uint32_t uid, gid;
	uint64_t size;
	uint64_t blocks512;		/* space used, 512-byte units */
	int64_t atime, mtime, ctime, crtime;	/* seconds */
	uint32_t atime_ns, mtime_ns, ctime_ns;
	uint32_t generation;
	uint32_t flags;			/* i_flags */
	uint64_t rdev;
};
void ext2_getattr(struct ext2_inode *ip, struct ext2_attr *a);

/* ext2_setattr mask bits. */
#define EXT2_SA_MODE	0x01	/* permission bits (07777) of a.mode */
#define EXT2_SA_UID	0x02
#define EXT2_SA_GID	0x04
#define EXT2_SA_SIZE	0x08	/* truncate or extend (regular files) */
#define EXT2_SA_ATIME	0x10
#define EXT2_SA_MTIME	0x20
int ext2_setattr(struct ext2_inode *ip, unsigned mask,
    const struct ext2_attr *a);
int ext2_truncate(struct ext2_inode *ip, uint64_t size);

/* File data.  *donep bytes moved; a write stops early on ENOSPC/EFBIG. */
int ext2_read(struct ext2_inode *ip, void *buf, size_t len, uint64_t off,
    size_t *donep);
int ext2_write(struct ext2_inode *ip, const void *buf, size_t len,
    uint64_t off, size_t *donep);
int ext2_fsync(struct ext2_inode *ip);
/* ext2_readlink - the target (not NUL-terminated), truncated to len. */
int ext2_readlink(struct ext2_inode *ip, char *buf, size_t len, size_t *donep);

/* Directories. */
int ext2_lookup(struct ext2_inode *dp, const char *name, size_t namelen,
    uint32_t *inop);
/*
 * ext2_readdir - call fill for each entry from cookie *offp (0: start),
 * "." and ".." included; fill returns nonzero to stop before taking the
 * entry.  *offp is left at the first entry not taken, *eofp set at the end.
 */
typedef int (*ext2_filldir_t)(void *arg, const char *name, size_t namelen,
    uint32_t ino, int dtype, uint64_t nextoff);
int ext2_readdir(struct ext2_inode *dp, uint64_t *offp, ext2_filldir_t fill,
    void *arg, int *eofp);

/* Namespace.  mode includes the file type (EXT2_S_IF*); EEXIST if taken. */
int ext2_create(struct ext2_inode *dp, const char *name, size_t namelen,
    uint32_t mode, uint32_t uid, uint32_t gid, struct ext2_inode **ipp);
int ext2_mkdir(struct ext2_inode *dp, const char *name, size_t namelen,
    uint32_t mode, uint32_t uid, uint32_t gid, struct ext2_inode **ipp);
int ext2_symlink(struct ext2_inode *dp, const char *name, size_t namelen,
    const char *target, uint32_t uid, uint32_t gid, struct ext2_inode **ipp);
int ext2_link(struct ext2_inode *dp, const char *name, size_t namelen,
    struct ext2_inode *ip);
/* ext2_remove - unlink name (a non-directory, EISDIR otherwise). */
int ext2_remove(struct ext2_inode *dp, const char *name, size_t namelen);
/* ext2_rmdir - remove the empty directory name (ENOTEMPTY, ENOTDIR). */
int ext2_rmdir(struct ext2_inode *dp, const char *name, size_t namelen);
/*
 * ext2_rename - POSIX rename of fname in fdp to tname in tdp, replacing an
 * existing target (a directory only by an empty directory).  EINVAL when
 * tdp is inside the moved directory.
 */
int ext2_rename(struct ext2_inode *fdp, const char *fname, size_t fnamelen,
    struct ext2_inode *tdp, const char *tname, size_t tnamelen);

/*
 * ext2_namei - the inode at an absolute or root-relative path (symlinks in
 * the middle are followed, the last one only with follow; ELOOP after 8).
 * ext2_namei_parent - the directory holding the last component and a
 * pointer to that component inside path.
 */
int ext2_namei(struct ext2fs *fs, const char *path, int follow,
    struct ext2_inode **ipp);
int ext2_namei_parent(struct ext2fs *fs, const char *path,
    struct ext2_inode **dpp, const char **lastp, size_t *lastlenp);

/* Statistics of the buffer cache under this file system. */
struct blk_stats;
void ext2_cachestats(struct ext2fs *fs, struct blk_stats *st);

#endif /* RUMPDRV_EXT2_H */
