/*
 * vfs_driver.h - what a file system implements to plug into KRANK's VFS:
 * mount operations (struct vfsops), vnode operations (struct vnodeops), the
 * vnode and vattr structures, uio, and registration.  Callers of the VFS use
 * <krank/krs.h> instead.  All operations return 0 or a positive NetBSD errno
 * (kern/kern_errno.h).  This interface is kept compatible: new members are
 * only ever appended, and a NULL optional operation keeps its documented
 * default.
 *
 * Registering a file system: make it a component that needs "vfs", and call
 * vfs_register() from its init and vfs_unregister() from its fini:
 *
 *	static int myfs_init(void) { return vfs_register(&myfs_vfsops); }
 *	static void myfs_fini(void) { vfs_unregister(&myfs_vfsops); }
 *	RUMPDRV_COMPONENT(myfs, "myfs", "vfs", myfs_init, myfs_fini);
 *
 * Locking contract (the VFS takes these locks; a file system needs its own
 * locks only for state shared between vnodes, e.g. allocation bitmaps):
 *  - mnt_nslock (per mount): held exclusive around every namespace change
 *    (create, mkdir, symlink, link, remove, rmdir, rename), shared around
 *    lookup and readdir.  So directory contents never change under a
 *    lookup or readdir, and at most one namespace change runs per mount.
 *  - v_lock (per vnode): shared around read, getattr, readlink, readdir;
 *    exclusive around write, setattr, fsync.  Namespace operations also take
 *    v_lock exclusive on every vnode they pass (directories and targets),
 *    after mnt_nslock, so they may update times, sizes and link counts.
 *  - inactive runs with v_lock exclusive (a lookup may take a new
 *    reference meanwhile; its operations wait); reclaim runs once the last
 *    reference is gone for good, no locks needed.
 *  - A file system that sets MNTK_READSELF in mnt_kflag at mount makes
 *    each vop_read of one iovec atomic against writes and truncation with
 *    its own lock; the VFS then reads such a uio without v_lock.
 *  - The VFS never calls vrele while holding a v_lock, except under the
 *    exclusive mnt_nslock; a file system must not call vrele on a vnode
 *    while holding another vnode's v_lock outside a namespace operation.
 */
#ifndef RUMPDRV_VFS_DRIVER_H
#define RUMPDRV_VFS_DRIVER_H

#include <time.h>

#include "kern/kern.h"
#include <krank/krs.h>
#include "vfs/vfs_file.h"

struct mount;
struct vnode;
struct uio;

/* ---- vnode types and attributes ---- */

enum vtype { VNON, VREG, VDIR, VBLK, VCHR, VLNK, VSOCK, VFIFO, VBAD };

/* va_mask bits: which fields setattr changes (create: which were given). */
#define VA_MODE		0x001
#define VA_UID		0x002
#define VA_GID		0x004
#define VA_SIZE		0x008	/* truncate or extend with zeroes */
#define VA_ATIME	0x010
#define VA_MTIME	0x020
#define VA_CTIME	0x040

struct vattr {
	uint32_t va_mask;	/* setattr only */
	enum vtype va_type;
	uint32_t va_mode;	/* permission bits only (07777) */
	uint32_t va_nlink;
	uint32_t va_uid;
	uint32_t va_gid;
	uint64_t va_fileid;	/* inode number */
	uint64_t va_size;
	uint64_t va_bytes;	/* space used */
	uint32_t va_blocksize;	/* preferred I/O size */
	uint64_t va_rdev;
	struct timespec va_atime;
	struct timespec va_mtime;
	struct timespec va_ctime;
	struct timespec va_birthtime;	/* 0 when unknown */
	uint64_t va_gen;
};
/* vattr_null - zero it (va_mask 0: nothing to set). */
void vattr_null(struct vattr *va);

/* ---- uio: a scatter/gather request with an offset ---- */

/* struct uio is in vfs/vfs_file.h (other file types use it too). */
/*
 * uiomove - move up to n bytes between buf and the uio (to the uio for
 * UIO_READ, from it for UIO_WRITE), advancing iov, offset and resid.
 */
int uiomove(void *buf, size_t n, struct uio *uio);

/* ioflag for vop_read/vop_write. */
#define IO_APPEND	0x1	/* write at end of file; set uio_offset */
#define IO_SYNC		0x2	/* write through before returning */

/* ---- vnodes ---- */

/*
 * struct vnode - one cached file.  The VFS owns the structure; a file
 * system sets v_type, v_data (its node) and may read the rest.
 *  v_usecount: atomic; references (vref/vrele).
 *  v_lock: see the locking contract above.
 *  v_mountedhere: mount table lock (vfs internal).
 */
struct vnode {
	enum vtype v_type;		/* set by vfs_loadvnode; constant */
	void *v_data;			/* file system node; constant */
	const struct vnodeops *v_op;	/* set by vfs_loadvnode; constant */
	struct mount *v_mount;		/* constant */
	uint64_t v_key;			/* cache key given to vcache_get */
	unsigned v_usecount;		/* atomic */
	krwlock_t v_lock;
	struct mount *v_mountedhere;	/* covering mount, or NULL */
	unsigned v_iflag;		/* vcache lock (vfs internal) */
	struct vnode *v_hnext;		/* vcache hash chain */
	struct vnode *v_lrunext, *v_lruprev;	/* vcache free list */
};

void vref(struct vnode *vp);
/* vrele - drop a reference; the last one calls vop_inactive and, if asked
 * to or when the cache is full, vop_reclaim. */
void vrele(struct vnode *vp);

/*
 * vcache_get - the referenced vnode for (mp, key).  On a miss the VFS
 * allocates a vnode and calls mp's vfs_loadvnode(mp, vp, key) to set
 * v_type, v_op and v_data; concurrent gets for one key wait for the load.
 * The key is the file system's choice (inode number, node address).
 */
int vcache_get(struct mount *mp, uint64_t key, struct vnode **vpp);

/*
 * Directory entry callback for vop_readdir: returns 0 to continue, nonzero
 * when the caller's buffer is full (the entry was NOT taken; the file
 * system stops and leaves *offp at this entry's cookie).  nextoff is the
 * cookie of the entry after this one.
 */
typedef int (*vfs_filldir_t)(void *arg, const char *name, size_t namelen,
    uint64_t ino, enum vtype type, int64_t nextoff);

/*
 * Vnode operations.  Names are not NUL-terminated: (name, namelen), never
 * "." or empty; ".." is passed to vop_lookup except at the mount root.
 * vpp results are referenced.  The VFS has checked permissions, EROFS, that
 * names are at most 255 bytes, and the vnode types (a directory for
 * directory ops, not a directory for read/write).
 */
struct vnodeops {
	/* lookup: ENOENT when absent. */
	int (*vop_lookup)(struct vnode *dvp, const char *name, size_t namelen,
	    struct vnode **vpp);
	/* create/mkdir/symlink: va has va_type, va_mode (umask applied),
	 * va_uid, va_gid; the VFS made sure the name is absent. */
	int (*vop_create)(struct vnode *dvp, const char *name, size_t namelen,
	    const struct vattr *va, struct vnode **vpp);
	int (*vop_mkdir)(struct vnode *dvp, const char *name, size_t namelen,
	    const struct vattr *va, struct vnode **vpp);
	int (*vop_symlink)(struct vnode *dvp, const char *name, size_t namelen,
	    const struct vattr *va, const char *target, struct vnode **vpp);
	/* remove: vp is the non-directory named (name) in dvp. */
	int (*vop_remove)(struct vnode *dvp, struct vnode *vp,
	    const char *name, size_t namelen);
	/* rmdir: vp is the directory named in dvp; ENOTEMPTY is the fs's. */
	int (*vop_rmdir)(struct vnode *dvp, struct vnode *vp,
	    const char *name, size_t namelen);
	/* link: new name in dvp for the non-directory vp (same mount). */
	int (*vop_link)(struct vnode *dvp, struct vnode *vp,
	    const char *name, size_t namelen);
	/*
	 * rename: move fvp (named fname in fdvp) to tname in tdvp, replacing
	 * tvp when not NULL.  The VFS has checked: same mount, fvp != tvp,
	 * types compatible (dir over empty-or-fs-checked dir, ENOTDIR/EISDIR),
	 * tdvp is not inside fvp.  The fs checks tvp directories are empty
	 * (ENOTEMPTY), updates ".." of a moved directory and link counts.
	 */
	int (*vop_rename)(struct vnode *fdvp, struct vnode *fvp,
	    const char *fname, size_t fnamelen,
	    struct vnode *tdvp, struct vnode *tvp,
	    const char *tname, size_t tnamelen);
	int (*vop_readlink)(struct vnode *vp, struct uio *uio);
	int (*vop_getattr)(struct vnode *vp, struct vattr *va);
	/* setattr: fields named in va_mask; VA_SIZE on regular files only.
	 * The fs updates ctime itself. */
	int (*vop_setattr)(struct vnode *vp, const struct vattr *va);
	/* read: stop at EOF (uio_resid left over); updates atime if it wants. */
	int (*vop_read)(struct vnode *vp, struct uio *uio, int ioflag);
	/* write: extends the file; EFBIG/ENOSPC on limits, after moving what
	 * fit (the VFS reports a short write when some bytes moved). */
	int (*vop_write)(struct vnode *vp, struct uio *uio, int ioflag);
	/* readdir: emit entries from cookie *offp (0 = start) through fill;
	 * *offp is left at the first entry not emitted; *eofp set at end. */
	int (*vop_readdir)(struct vnode *vp, int64_t *offp, vfs_filldir_t fill,
	    void *arg, bool *eofp);
	int (*vop_fsync)(struct vnode *vp, int flags);
	/* inactive: last reference gone; set *recyclep to have the vnode
	 * reclaimed now (e.g. link count 0: free the file). */
	int (*vop_inactive)(struct vnode *vp, bool *recyclep);
	/* reclaim: drop v_data; the vnode is being freed. */
	int (*vop_reclaim)(struct vnode *vp);
	/* optional (NULL: nothing to do): open/close of a descriptor. */
	int (*vop_open)(struct vnode *vp, int flags);
	int (*vop_close)(struct vnode *vp, int flags);
};

/* ---- mounts ---- */

#define MNT_RDONLY	KRS_MNT_RDONLY
#define MNT_FORCE	KRS_MNT_FORCE
#define MNTK_READSELF	0x1	/* vop_read locks itself: locking contract */

/*
 * struct mount - one mounted file system.  Constant after vfs_mount
 * returns, except mnt_refcnt (atomic).  mnt_data is the fs's.
 */
struct mount {
	const struct vfsops *mnt_op;
	void *mnt_data;			/* file system's private data */
	int mnt_flag;			/* MNT_RDONLY; fs may set it at mount */
	int mnt_kflag;			/* MNTK_*; fs may set them at mount */
	uint64_t mnt_id;		/* st_dev of its files */
	krwlock_t mnt_nslock;		/* see the locking contract */
	unsigned mnt_refcnt;		/* atomic */
	struct vnode *mnt_vnodecovered;	/* the directory it covers */
	struct mount *mnt_next;		/* mount table lock */
	char mnt_stat_from[128];	/* source as given */
	char mnt_stat_on[128];		/* absolute path mounted on */
};

/*
 * File system operations.  vfs_mount sets mnt_data (and may set
 * MNT_RDONLY in mnt_flag, e.g. for a read-only-compatible feature);
 * source/data come from krs_mount unchanged.  vfs_unmount runs after the
 * VFS has made sure (unless MNT_FORCE) that only the root vnode is in use
 * and has released every cached vnode; it writes everything back.
 */
struct vfsops {
	const char *vfs_name;		/* the fstype of krs_mount */
	int (*vfs_mount)(struct mount *mp, const char *source, int flags,
	    const void *data, size_t datalen);
	int (*vfs_unmount)(struct mount *mp, int flags);
	int (*vfs_root)(struct mount *mp, struct vnode **vpp);
	int (*vfs_statvfs)(struct mount *mp, struct krs_statvfs *sv);
	int (*vfs_sync)(struct mount *mp, int waitfor);
	/* loadvnode: see vcache_get. */
	int (*vfs_loadvnode)(struct mount *mp, struct vnode *vp, uint64_t key);
};

/* vfs_register - make fstype vops->vfs_name mountable; EEXIST if taken. */
int vfs_register(const struct vfsops *vops);
/* vfs_unregister - EBUSY while mounted. */
int vfs_unregister(const struct vfsops *vops);

/* Permission helper for file systems that want it: 0 or EACCES. */
#define VREAD	04
#define VWRITE	02
#define VEXEC	01
int vfs_access_check(const struct vattr *va, int want, kauth_cred_t cred);

#endif /* RUMPDRV_VFS_DRIVER_H */
