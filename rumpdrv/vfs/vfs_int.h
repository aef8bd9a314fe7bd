/*
 * vfs_int.h - private to the vfs component: open files, descriptor tables,
 * the mount table and name lookup.
 */
#ifndef RUMPDRV_VFS_INT_H
#define RUMPDRV_VFS_INT_H

#include "vfs/vfs_driver.h"
#include "vfs/vfs_file.h"

#define VFS_NAME_MAX	255
#define VFS_PATH_MAX	4096
#define VFS_SYMLOOP_MAX	32
/* Steps of a walk up through "..": no sane tree is deeper (a path of
 * VFS_PATH_MAX bytes has at most 2048 components); more means a loop of
 * ".." entries in a damaged image, which must end the walk, not hang it. */
#define VFS_DOTDOT_MAX	65536

/* v_iflag bits (vcache_lock). */
#define VI_LOADING	0x1	/* vfs_loadvnode in progress */
#define VI_RECLAIM	0x2	/* being reclaimed */
#define VI_INACTIVE	0x4	/* vop_inactive running */
#define VI_MROOT	0x8	/* root vnode of v_mount (set once) */
#define VI_FREE		0x10	/* on the free list */

/* A descriptor table.  fd_lock serialises the changes to fd_ofiles,
 * fd_cloexec, fd_nfiles; fd_getfile reads fd_ofiles, its slots and
 * fd_nfiles without it (all stored atomically; see vfs_descrip.c);
 * fdlist_lock (vfs_descrip.c) the list of all tables (fd_next, fd_prev). */
struct fd_oldtab;
struct filedesc {
	kspin_t fd_lock;
	struct filedesc *fd_next, *fd_prev;
	int fd_nfiles;
	struct file **fd_ofiles;
	unsigned char *fd_cloexec;
	int fd_limit;			/* descriptors allowed (<= FD_MAX) */
	struct fd_oldtab *fd_old;	/* outgrown fd_ofiles, kept for
					 * lookups that may still read them */
};

/* Set once the vfs component is up; krs_ calls fail with ENOSYS before. */
extern bool vfs_up;
#define VFS_ENTER() do { if (__builtin_expect(!vfs_up, 0)) \
	return krs_fail(ENOSYS); } while (0)

/* mountlist_lock protects mount_list, rootvnode, every v_mountedhere. */
extern kmutex_t mountlist_lock;
extern struct mount *mount_list;
extern struct vnode *rootvnode;

/* vnode cache */
int vcache_init(void);
void vcache_fini(void);
/* vflush - reclaim every unused vnode of mp; EBUSY if one other than
 * skip (held once) is in use. */
int vflush(struct mount *mp, struct vnode *skip);
int vfs_root_vnode(struct mount *mp, struct vnode **vpp);

/* lookup */
#define NL_FOLLOW	0x1	/* follow a symlink in the last component */
#define NL_PARENT	0x2	/* stop at the parent of the last component */
#define NL_NOCROSS	0x4	/* do not enter a mount at the last component */
struct nameidata {
	int nd_dirfd;
	const char *nd_path;
	int nd_flags;
	struct vnode *nd_dvp;		/* NL_PARENT: referenced parent */
	struct vnode *nd_vp;		/* else: referenced result */
	char nd_name[VFS_NAME_MAX + 1];	/* NL_PARENT: last name ("" for /) */
	size_t nd_namelen;
	bool nd_slash;			/* path ended with '/' */
	struct vnode *nd_startdir;	/* relative paths start here, not at
					 * nd_dirfd (NULL: nd_dirfd) */
};
int namei(struct nameidata *nd);
/* vfs_link_target - symlink vp's target in a new kmem buffer of
 * VFS_PATH_MAX + 1 (NUL-terminated, *lenp bytes); ENOENT if empty. */
int vfs_link_target(struct vnode *vp, char **tgtp, size_t *lenp);
/* lookup_one - name in dvp, crossing into a covering mount (nslock taken). */
int lookup_one(struct vnode *dvp, const char *name, size_t len,
    struct vnode **vpp, bool cross);
int vfs_getattr(struct vnode *vp, struct vattr *va);
int vfs_access(struct vnode *vp, int want);
int vfs_getcwd(struct vnode *cwd, char *buf, size_t len);

/* files and descriptor tables */
struct filedesc *fd_create(void);
void fd_destroy(struct filedesc *fdp);
int fd_alloc(struct filedesc *fdp, struct file *fp, int minfd, bool cloexec,
    int *fdout);
struct file *file_alloc(struct vnode *vp, int flags);	/* a vnode's */
extern const struct fileops vnops;			/* vfs_vnops.c */
int vn_stat(struct vnode *vp, struct krs_stat *st);
struct vnode *cwd_get(void);			/* referenced */

void fdlist_init(void);
void fdlist_fini(void);
int vfs_init_proc0(void);
int vfs_proc_fork(struct proc *parent, struct proc *child);
void vfs_proc_exit(struct proc *p);

/* Flags and covering mounts read without their locks: atomic loads. */
static inline bool
vnode_is_mroot(struct vnode *vp)
{
	return (__atomic_load_n(&vp->v_iflag, __ATOMIC_ACQUIRE) & VI_MROOT) != 0;
}

static inline struct mount *
vnode_mountedhere(struct vnode *vp)
{
	return __atomic_load_n(&vp->v_mountedhere, __ATOMIC_ACQUIRE);
}

static inline bool
vfs_isdots(const char *n, size_t len)
{
	return (len == 1 && n[0] == '.') ||
	    (len == 2 && n[0] == '.' && n[1] == '.');
}

#endif
