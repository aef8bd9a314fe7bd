/*
 * vfs_syscalls.c - the path-name system calls: open/openat, stat/lstat,
 * mkdir, rmdir, unlink, rename, link, symlink, readlink, chmod, chown,
 * utimens, chdir, getcwd.  Permission checks against the calling
 * context's credentials happen here, before the file system is called.
 */
#include <stdarg.h>
#include <string.h>

#include "vfs/vfs_int.h"

_Static_assert(KRS_AT_FDCWD == -100, "AT_FDCWD");

void vattr_to_stat(struct vnode *vp, const struct vattr *va, struct krs_stat *st);

static uint32_t
cur_umask(void)
{
	struct proc *p = curproc;
	mutex_enter(&p->p_lock);
	uint32_t m = p->p_umask;
	mutex_exit(&p->p_lock);
	return m;
}

/* Write+search permission on dvp and, for a sticky dvp, ownership of vp. */
static int
may_modify_dir(struct vnode *dvp, struct vnode *vp)
{
	struct vattr dva, va;
	kauth_cred_t cred = kauth_cred_get();
	int error;

	if (dvp->v_mount->mnt_flag & MNT_RDONLY)
		return EROFS;
	if ((error = vfs_getattr(dvp, &dva)) != 0)
		return error;
	if ((error = vfs_access_check(&dva, VWRITE | VEXEC, cred)) != 0)
		return error;
	if (vp != NULL && (dva.va_mode & 01000) && cred->cr_uid != 0) {
		if ((error = vfs_getattr(vp, &va)) != 0)
			return error;
		if (cred->cr_uid != va.va_uid && cred->cr_uid != dva.va_uid)
			return EPERM;
	}
	return 0;
}

/* Look name up in dvp with the mount's namespace lock already held. */
static int
lookup_locked(struct vnode *dvp, const char *name, size_t len,
    struct vnode **vpp)
{
	return dvp->v_op->vop_lookup(dvp, name, len, vpp);
}

static void
lock2(struct vnode *a, struct vnode *b)
{
	rw_enter(&a->v_lock, RW_WRITER);
	if (b != NULL && b != a)
		rw_enter(&b->v_lock, RW_WRITER);
}

static void
unlock2(struct vnode *a, struct vnode *b)
{
	if (b != NULL && b != a)
		rw_exit(&b->v_lock);
	rw_exit(&a->v_lock);
}

/*
 * open/openat.  Relative paths start at startdir if not NULL, else at
 * dirfd; links counts the dangling symlinks followed so far to create
 * their target (O_CREAT through a link whose target does not exist
 * creates the target, as POSIX and Linux do).
 */
static int
do_open1(int dirfd, struct vnode *startdir, const char *path, int flags,
    uint32_t mode, int *fdout, int links)
{
	struct nameidata nd = { .nd_dirfd = dirfd, .nd_path = path,
	    .nd_startdir = startdir };
	struct vnode *vp = NULL;
	struct vattr va;
	int error, acc = flags & KRS_O_ACCMODE;

	if (acc == 3)
		return EINVAL;
	if (flags & KRS_O_CREAT) {
		nd.nd_flags = NL_PARENT;
		if ((error = namei(&nd)) != 0)
			return error;
		struct vnode *dvp = nd.nd_dvp;
		if (nd.nd_namelen == 0 || vfs_isdots(nd.nd_name, nd.nd_namelen)) {
			vrele(dvp);
			return (flags & KRS_O_EXCL) ? EEXIST : EISDIR;
		}
		struct mount *mp = dvp->v_mount;
		rw_enter(&mp->mnt_nslock, RW_WRITER);
		error = lookup_locked(dvp, nd.nd_name, nd.nd_namelen, &vp);
		if (error == ENOENT) {
			if (nd.nd_slash)
				error = EISDIR;
			else if ((error = may_modify_dir(dvp, NULL)) == 0) {
				struct ucred_s { uint32_t u, g; } c = {
				    kauth_cred_get()->cr_uid,
				    kauth_cred_get()->cr_gid };
				vattr_null(&va);
				va.va_type = VREG;
				va.va_mode = mode & 07777 & ~cur_umask();
				va.va_uid = c.u;
				va.va_gid = c.g;
				rw_enter(&dvp->v_lock, RW_WRITER);
				error = dvp->v_op->vop_create(dvp, nd.nd_name,
				    nd.nd_namelen, &va, &vp);
				rw_exit(&dvp->v_lock);
				flags &= ~KRS_O_TRUNC;
			}
			rw_exit(&mp->mnt_nslock);
			vrele(dvp);
			if (error)
				return error;
			goto opened;
		}
		rw_exit(&mp->mnt_nslock);
		if (error) {
			vrele(dvp);
			return error;
		}
		if (flags & KRS_O_EXCL) {
			vrele(vp);
			vrele(dvp);
			return EEXIST;
		}
		if (vp->v_type == VLNK || vnode_mountedhere(vp) != NULL) {
			/* Existing link or mount point: resolve fully. */
			char *tgt = NULL;
			size_t tlen;
			if (vp->v_type == VLNK && !(flags & KRS_O_NOFOLLOW) &&
			    (error = vfs_link_target(vp, &tgt, &tlen)) != 0) {
				vrele(vp);
				vrele(dvp);
				return error;
			}
			vrele(vp);
			vp = NULL;
			if (nd.nd_name[0] != '\0' && (flags & KRS_O_NOFOLLOW)) {
				vrele(dvp);
				return ELOOP;
			}
			nd.nd_flags = NL_FOLLOW;
			error = namei(&nd);
			if (error == ENOENT && tgt != NULL) {
				/* Dangling: create the target, from the link's
				 * directory. */
				error = links >= VFS_SYMLOOP_MAX ? ELOOP :
				    do_open1(KRS_AT_FDCWD, dvp, tgt, flags,
				    mode, fdout, links + 1);
				kmem_free(tgt, VFS_PATH_MAX + 1);
				vrele(dvp);
				return error;
			}
			if (tgt != NULL)
				kmem_free(tgt, VFS_PATH_MAX + 1);
			vrele(dvp);
			if (error != 0)
				return error;
			vp = nd.nd_vp;
		} else {
			vrele(dvp);
		}
	} else {
		nd.nd_flags = (flags & KRS_O_NOFOLLOW) ? 0 : NL_FOLLOW;
		if ((error = namei(&nd)) != 0)
			return error;
		vp = nd.nd_vp;
		if (vp->v_type == VLNK) {
			vrele(vp);
			return ELOOP;
		}
	}
	/* Checks on an existing file. */
	if ((flags & KRS_O_DIRECTORY) && vp->v_type != VDIR)
		error = ENOTDIR;
	else if (vp->v_type == VDIR && (acc != KRS_O_RDONLY ||
	    (flags & KRS_O_TRUNC)))
		error = EISDIR;
	else if ((acc != KRS_O_RDONLY || (flags & KRS_O_TRUNC)) &&
	    (vp->v_mount->mnt_flag & MNT_RDONLY))
		error = EROFS;
	else if ((error = vfs_getattr(vp, &va)) == 0) {
		int want = (acc == KRS_O_RDONLY ? VREAD : acc == KRS_O_WRONLY ?
		    VWRITE : VREAD | VWRITE) | ((flags & KRS_O_TRUNC) ? VWRITE : 0);
		error = vfs_access_check(&va, want, kauth_cred_get());
	}
	if (error == 0 && (flags & KRS_O_TRUNC) && vp->v_type == VREG) {
		vattr_null(&va);
		va.va_mask = VA_SIZE;
		va.va_size = 0;
		rw_enter(&vp->v_lock, RW_WRITER);
		error = vp->v_op->vop_setattr(vp, &va);
		rw_exit(&vp->v_lock);
	}
	if (error) {
		vrele(vp);
		return error;
	}
opened:
	if (vp->v_op->vop_open != NULL &&
	    (error = vp->v_op->vop_open(vp, flags)) != 0) {
		vrele(vp);
		return error;
	}
	struct file *fp = file_alloc(vp, flags & ~(KRS_O_CREAT | KRS_O_EXCL |
	    KRS_O_TRUNC));
	if ((error = fd_alloc(curproc->p_fd, fp, 0,
	    (flags & KRS_O_CLOEXEC) != 0, fdout)) != 0)
		file_release(fp);
	return error;
}

static int
do_open(int dirfd, const char *path, int flags, uint32_t mode, int *fdout)
{
	return do_open1(dirfd, NULL, path, flags, mode, fdout, 0);
}

KRS_EXPORT int
krs_openat(int dirfd, const char *path, int flags, ...)
{
	VFS_ENTER();
	uint32_t mode = 0;
	int fd, error;
	if (flags & KRS_O_CREAT) {
		va_list ap;
		va_start(ap, flags);
		mode = va_arg(ap, uint32_t);
		va_end(ap);
	}
	if (path == NULL)
		return krs_fail(EFAULT);
	error = do_open(dirfd, path, flags, mode, &fd);
	return error ? krs_fail(error) : fd;
}

KRS_EXPORT int
krs_open(const char *path, int flags, ...)
{
	uint32_t mode = 0;
	if (flags & KRS_O_CREAT) {
		va_list ap;
		va_start(ap, flags);
		mode = va_arg(ap, uint32_t);
		va_end(ap);
	}
	return krs_openat(KRS_AT_FDCWD, path, flags, mode);
}

static int
do_stat(const char *path, struct krs_stat *st, int nlflags)
{
	struct nameidata nd = { .nd_dirfd = KRS_AT_FDCWD, .nd_path = path,
	    .nd_flags = nlflags };
	struct vattr va;
	int error;
	if (path == NULL || st == NULL)
		return EFAULT;
	if ((error = namei(&nd)) != 0)
		return error;
	error = vfs_getattr(nd.nd_vp, &va);
	if (error == 0)
		vattr_to_stat(nd.nd_vp, &va, st);
	vrele(nd.nd_vp);
	return error;
}

KRS_EXPORT int
krs_stat(const char *path, struct krs_stat *st)
{
	VFS_ENTER();
	int error = do_stat(path, st, NL_FOLLOW);
	return error ? krs_fail(error) : 0;
}

KRS_EXPORT int
krs_lstat(const char *path, struct krs_stat *st)
{
	VFS_ENTER();
	int error = do_stat(path, st, 0);
	return error ? krs_fail(error) : 0;
}

/* Common start of the namespace-changing calls: parent and last name. */
static int
parent_of(const char *path, struct nameidata *nd)
{
	memset(nd, 0, sizeof(*nd));
	nd->nd_dirfd = KRS_AT_FDCWD;
	nd->nd_path = path;
	nd->nd_flags = NL_PARENT;
	if (path == NULL)
		return EFAULT;
	return namei(nd);
}

/* mkdir and symlink share the creation path. */
static int
do_mkobj(const char *path, enum vtype type, uint32_t mode, const char *target)
{
	struct nameidata nd;
	struct vnode *dvp, *vp;
	struct vattr va;
	int error;

	if ((error = parent_of(path, &nd)) != 0)
		return error;
	dvp = nd.nd_dvp;
	if (nd.nd_namelen == 0 || vfs_isdots(nd.nd_name, nd.nd_namelen)) {
		vrele(dvp);
		return EEXIST;
	}
	if (type != VDIR && nd.nd_slash) {
		vrele(dvp);
		return ENOENT;
	}
	struct mount *mp = dvp->v_mount;
	rw_enter(&mp->mnt_nslock, RW_WRITER);
	error = lookup_locked(dvp, nd.nd_name, nd.nd_namelen, &vp);
	if (error == 0) {
		vrele(vp);
		error = EEXIST;
	} else if (error == ENOENT && (error = may_modify_dir(dvp, NULL)) == 0) {
		vattr_null(&va);
		va.va_type = type;
		va.va_mode = type == VLNK ? 0777 : mode & 07777 & ~cur_umask();
		va.va_uid = kauth_cred_get()->cr_uid;
		va.va_gid = kauth_cred_get()->cr_gid;
		rw_enter(&dvp->v_lock, RW_WRITER);
		if (type == VDIR)
			error = dvp->v_op->vop_mkdir(dvp, nd.nd_name,
			    nd.nd_namelen, &va, &vp);
		else
			error = dvp->v_op->vop_symlink(dvp, nd.nd_name,
			    nd.nd_namelen, &va, target, &vp);
		rw_exit(&dvp->v_lock);
		if (error == 0)
			vrele(vp);
	}
	rw_exit(&mp->mnt_nslock);
	vrele(dvp);
	return error;
}

KRS_EXPORT int
krs_mkdir(const char *path, uint32_t mode)
{
	VFS_ENTER();
	int error = do_mkobj(path, VDIR, mode, NULL);
	return error ? krs_fail(error) : 0;
}

KRS_EXPORT int
krs_symlink(const char *target, const char *path)
{
	VFS_ENTER();
	int error;
	if (target == NULL)
		error = EFAULT;
	else if (target[0] == '\0')
		error = ENOENT;
	else if (strnlen(target, VFS_PATH_MAX + 1) >= VFS_PATH_MAX)
		error = ENAMETOOLONG;
	else
		error = do_mkobj(path, VLNK, 0777, target);
	return error ? krs_fail(error) : 0;
}

static int
do_remove(const char *path, bool dir)
{
	struct nameidata nd;
	struct vnode *dvp, *vp = NULL;
	int error;

	if ((error = parent_of(path, &nd)) != 0)
		return error;
	dvp = nd.nd_dvp;
	if (nd.nd_namelen == 0) {
		vrele(dvp);
		return dir ? EBUSY : EISDIR;
	}
	if (vfs_isdots(nd.nd_name, nd.nd_namelen)) {
		vrele(dvp);
		return !dir ? EISDIR : nd.nd_namelen == 1 ? EINVAL : ENOTEMPTY;
	}
	struct mount *mp = dvp->v_mount;
	rw_enter(&mp->mnt_nslock, RW_WRITER);
	if ((error = lookup_locked(dvp, nd.nd_name, nd.nd_namelen, &vp)) != 0)
		goto out;
	if (dir && vp->v_type != VDIR)
		error = ENOTDIR;
	else if (!dir && vp->v_type == VDIR)
		error = EISDIR;
	else if (!dir && nd.nd_slash)
		error = ENOTDIR;
	else if (vnode_mountedhere(vp) != NULL || vnode_is_mroot(vp))
		error = EBUSY;
	else if ((error = may_modify_dir(dvp, vp)) == 0) {
		lock2(dvp, vp);
		if (dir)
			error = dvp->v_op->vop_rmdir(dvp, vp, nd.nd_name,
			    nd.nd_namelen);
		else
			error = dvp->v_op->vop_remove(dvp, vp, nd.nd_name,
			    nd.nd_namelen);
		unlock2(dvp, vp);
	}
out:
	rw_exit(&mp->mnt_nslock);
	if (vp)
		vrele(vp);
	vrele(dvp);
	return error;
}

KRS_EXPORT int
krs_rmdir(const char *path)
{
	VFS_ENTER();
	int error = do_remove(path, true);
	return error ? krs_fail(error) : 0;
}

KRS_EXPORT int
krs_unlink(const char *path)
{
	VFS_ENTER();
	int error = do_remove(path, false);
	return error ? krs_fail(error) : 0;
}

/* Is dvp fvp or below it?  Walks ".." up to the mount root (nslock held);
 * EIO when the walk does not reach it (a ".." loop in a damaged image). */
static int
is_below(struct vnode *dvp, struct vnode *fvp, bool *below)
{
	struct vnode *vp = dvp, *up;
	int error = 0, steps = 0;
	vref(vp);
	*below = false;
	for (;;) {
		if (vp == fvp) {
			*below = true;
			break;
		}
		if (vnode_is_mroot(vp))
			break;
		if (++steps > VFS_DOTDOT_MAX) {
			klog(LOG_ERR, "vfs: rename: \"..\" entries form a loop "
			    "(%d steps up without reaching the mount's root): "
			    "damaged file system", VFS_DOTDOT_MAX);
			error = EIO;
			break;
		}
		if ((error = vp->v_op->vop_lookup(vp, "..", 2, &up)) != 0)
			break;
		vrele(vp);
		vp = up;
	}
	vrele(vp);
	return error;
}

static int
do_rename(const char *from, const char *to)
{
	struct nameidata fnd, tnd;
	struct vnode *fdvp, *tdvp, *fvp = NULL, *tvp = NULL;
	int error;

	if ((error = parent_of(from, &fnd)) != 0)
		return error;
	if ((error = parent_of(to, &tnd)) != 0) {
		vrele(fnd.nd_dvp);
		return error;
	}
	fdvp = fnd.nd_dvp;
	tdvp = tnd.nd_dvp;
	struct mount *mp = fdvp->v_mount;
	if (fnd.nd_namelen == 0 || tnd.nd_namelen == 0)
		error = EBUSY;
	else if (vfs_isdots(fnd.nd_name, fnd.nd_namelen) ||
	    vfs_isdots(tnd.nd_name, tnd.nd_namelen))
		error = EINVAL;
	else if (tdvp->v_mount != mp)
		error = EXDEV;
	if (error)
		goto out_norel;
	rw_enter(&mp->mnt_nslock, RW_WRITER);
	if ((error = lookup_locked(fdvp, fnd.nd_name, fnd.nd_namelen, &fvp)))
		goto out;
	error = lookup_locked(tdvp, tnd.nd_name, tnd.nd_namelen, &tvp);
	if (error == ENOENT) {
		tvp = NULL;
		error = 0;
	}
	if (error)
		goto out;
	if (fvp == tvp) {		/* same file: nothing to do (POSIX) */
		error = 0;
		goto out;
	}
	if ((fnd.nd_slash || tnd.nd_slash) && fvp->v_type != VDIR) {
		error = ENOTDIR;
		goto out;
	}
	if (fvp->v_type == VDIR) {
		bool below;
		if (tvp != NULL && tvp->v_type != VDIR) {
			error = ENOTDIR;
			goto out;
		}
		if ((error = is_below(tdvp, fvp, &below)) != 0)
			goto out;
		if (below) {
			error = EINVAL;
			goto out;
		}
	} else if (tvp != NULL && tvp->v_type == VDIR) {
		error = EISDIR;
		goto out;
	}
	if (vnode_mountedhere(fvp) || vnode_is_mroot(fvp) ||
	    (tvp && (vnode_mountedhere(tvp) || vnode_is_mroot(tvp)))) {
		error = EBUSY;
		goto out;
	}
	if ((error = may_modify_dir(fdvp, fvp)) != 0 ||
	    (error = may_modify_dir(tdvp, tvp)) != 0)
		goto out;
	/* Under the exclusive nslock only this call holds several v_locks. */
	lock2(fdvp, tdvp);
	if (fvp != fdvp && fvp != tdvp)
		rw_enter(&fvp->v_lock, RW_WRITER);
	if (tvp != NULL)
		rw_enter(&tvp->v_lock, RW_WRITER);
	error = fdvp->v_op->vop_rename(fdvp, fvp, fnd.nd_name, fnd.nd_namelen,
	    tdvp, tvp, tnd.nd_name, tnd.nd_namelen);
	if (tvp != NULL)
		rw_exit(&tvp->v_lock);
	if (fvp != fdvp && fvp != tdvp)
		rw_exit(&fvp->v_lock);
	unlock2(fdvp, tdvp);
out:
	rw_exit(&mp->mnt_nslock);
out_norel:
	if (fvp)
		vrele(fvp);
	if (tvp)
		vrele(tvp);
	vrele(fdvp);
	vrele(tdvp);
	return error;
}

KRS_EXPORT int
krs_rename(const char *from, const char *to)
{
	VFS_ENTER();
	int error = do_rename(from, to);
	return error ? krs_fail(error) : 0;
}

static int
do_link(const char *target, const char *path)
{
	struct nameidata vnd = { .nd_dirfd = KRS_AT_FDCWD, .nd_path = target,
	    .nd_flags = 0 }, nd;
	struct vnode *vp, *dvp, *xvp;
	int error;

	if (target == NULL)
		return EFAULT;
	if ((error = namei(&vnd)) != 0)
		return error;
	vp = vnd.nd_vp;
	if (vp->v_type == VDIR) {
		vrele(vp);
		return EPERM;
	}
	if ((error = parent_of(path, &nd)) != 0) {
		vrele(vp);
		return error;
	}
	dvp = nd.nd_dvp;
	struct mount *mp = dvp->v_mount;
	if (nd.nd_namelen == 0 || vfs_isdots(nd.nd_name, nd.nd_namelen))
		error = EEXIST;
	else if (vp->v_mount != mp)
		error = EXDEV;
	else if (nd.nd_slash)
		error = ENOENT;
	if (error)
		goto out;
	rw_enter(&mp->mnt_nslock, RW_WRITER);
	error = lookup_locked(dvp, nd.nd_name, nd.nd_namelen, &xvp);
	if (error == 0) {
		vrele(xvp);
		error = EEXIST;
	} else if (error == ENOENT && (error = may_modify_dir(dvp, NULL)) == 0) {
		lock2(dvp, vp);
		error = dvp->v_op->vop_link(dvp, vp, nd.nd_name, nd.nd_namelen);
		unlock2(dvp, vp);
	}
	rw_exit(&mp->mnt_nslock);
out:
	vrele(dvp);
	vrele(vp);
	return error;
}

KRS_EXPORT int
krs_link(const char *target, const char *path)
{
	VFS_ENTER();
	int error = do_link(target, path);
	return error ? krs_fail(error) : 0;
}

KRS_EXPORT ssize_t
krs_readlink(const char *path, char *buf, size_t len)
{
	VFS_ENTER();
	struct nameidata nd = { .nd_dirfd = KRS_AT_FDCWD, .nd_path = path,
	    .nd_flags = 0 };
	struct krs_iovec iov = { buf, len };
	struct uio uio = { &iov, 1, 0, len, UIO_READ };
	int error;

	if (path == NULL || buf == NULL)
		return krs_fail(EFAULT);
	if ((error = namei(&nd)) != 0)
		return krs_fail(error);
	struct vnode *vp = nd.nd_vp;
	if (vp->v_type != VLNK)
		error = EINVAL;
	else {
		rw_enter(&vp->v_lock, RW_READER);
		error = vp->v_op->vop_readlink(vp, &uio);
		rw_exit(&vp->v_lock);
	}
	vrele(vp);
	return error ? krs_fail(error) : (ssize_t)(len - uio.uio_resid);
}

static int
do_setattr(const char *path, struct vattr *va, bool owner_only)
{
	struct nameidata nd = { .nd_dirfd = KRS_AT_FDCWD, .nd_path = path,
	    .nd_flags = NL_FOLLOW };
	struct vattr cur;
	kauth_cred_t cred = kauth_cred_get();
	int error;

	if (path == NULL)
		return EFAULT;
	if ((error = namei(&nd)) != 0)
		return error;
	struct vnode *vp = nd.nd_vp;
	if (vp->v_mount->mnt_flag & MNT_RDONLY) {
		vrele(vp);
		return EROFS;
	}
	if ((error = vfs_getattr(vp, &cur)) != 0)
		goto out;
	if (cred->cr_uid != 0 && cred->cr_uid != cur.va_uid) {
		/* Non-owners may only set both times to "now", with write
		 * permission. */
		if (owner_only || (error = vfs_access_check(&cur, VWRITE, cred)))
		{
			error = owner_only ? EPERM : EACCES;
			goto out;
		}
	}
	if ((va->va_mask & VA_UID) && cred->cr_uid != 0 &&
	    va->va_uid != cur.va_uid) {
		error = EPERM;
		goto out;
	}
	if ((va->va_mask & VA_GID) && cred->cr_uid != 0 &&
	    va->va_gid != cur.va_gid && va->va_gid != cred->cr_gid) {
		error = EPERM;
		goto out;
	}
	if ((va->va_mask & VA_MODE) && cred->cr_uid != 0 &&
	    cur.va_gid != cred->cr_gid)
		va->va_mode &= ~(uint32_t)02000;	/* no setgid for others */
	rw_enter(&vp->v_lock, RW_WRITER);
	error = vp->v_op->vop_setattr(vp, va);
	rw_exit(&vp->v_lock);
out:
	vrele(vp);
	return error;
}

KRS_EXPORT int
krs_chmod(const char *path, uint32_t mode)
{
	VFS_ENTER();
	struct vattr va;
	vattr_null(&va);
	va.va_mask = VA_MODE;
	va.va_mode = mode & 07777;
	int error = do_setattr(path, &va, true);
	return error ? krs_fail(error) : 0;
}

KRS_EXPORT int
krs_chown(const char *path, uint32_t uid, uint32_t gid)
{
	VFS_ENTER();
	struct vattr va;
	vattr_null(&va);
	if (uid != (uint32_t)-1) {
		va.va_mask |= VA_UID;
		va.va_uid = uid;
	}
	if (gid != (uint32_t)-1) {
		va.va_mask |= VA_GID;
		va.va_gid = gid;
	}
	int error = do_setattr(path, &va, true);
	return error ? krs_fail(error) : 0;
}

KRS_EXPORT int
krs_utimens(const char *path, const struct krs_timespec ts[2])
{
	VFS_ENTER();
	struct vattr va;
	struct timespec now;
	bool explicit_time = false;

	getnanotime(&now);
	vattr_null(&va);
	for (int i = 0; i < 2; i++) {
		struct timespec t = now;
		if (ts != NULL) {
			if (ts[i].tv_nsec == KRS_UTIME_OMIT)
				continue;
			if (ts[i].tv_nsec != KRS_UTIME_NOW) {
				if (ts[i].tv_nsec < 0 || ts[i].tv_nsec >= 1000000000)
					return krs_fail(EINVAL);
				t.tv_sec = (time_t)ts[i].tv_sec;
				t.tv_nsec = (long)ts[i].tv_nsec;
				explicit_time = true;
			}
		}
		if (i == 0) {
			va.va_mask |= VA_ATIME;
			va.va_atime = t;
		} else {
			va.va_mask |= VA_MTIME;
			va.va_mtime = t;
		}
	}
	int error = do_setattr(path, &va, explicit_time);
	return error ? krs_fail(error) : 0;
}

/* A directory the caller may search, by path, referenced; 0 or errno. */
static int
lookup_dir(const char *path, struct vnode **vpp)
{
	struct nameidata nd = { .nd_dirfd = KRS_AT_FDCWD, .nd_path = path,
	    .nd_flags = NL_FOLLOW };
	int error;
	if (path == NULL)
		return EFAULT;
	if ((error = namei(&nd)) != 0)
		return error;
	struct vnode *vp = nd.nd_vp;
	if (vp->v_type != VDIR)
		error = ENOTDIR;
	else
		error = vfs_access(vp, VEXEC);
	if (error) {
		vrele(vp);
		return error;
	}
	*vpp = vp;
	return 0;
}

/*
 * Set the caller's current directory to vp, and its root too when root
 * (krs_chroot: absolute paths start there, ".." stops there, getcwd is
 * relative to it; the current directory moves along, so nothing outside
 * stays reachable through it).  Takes the caller's reference to vp.
 */
static void
proc_set_dirs(struct vnode *vp, bool root)
{
	struct proc *p = curproc;
	struct vnode *oroot = NULL, *ocwd;
	if (root)
		vref(vp);
	mutex_enter(&p->p_lock);
	ocwd = p->p_cwd;
	p->p_cwd = vp;
	if (root) {
		oroot = p->p_root;
		p->p_root = vp;
	}
	mutex_exit(&p->p_lock);
	if (oroot)
		vrele(oroot);
	if (ocwd)
		vrele(ocwd);
}

KRS_EXPORT int
krs_chroot(const char *path)
{
	VFS_ENTER();
	struct vnode *vp;
	int error = lookup_dir(path, &vp);
	if (error)
		return krs_fail(error);
	proc_set_dirs(vp, true);
	return 0;
}

KRS_EXPORT int
krs_chdir(const char *path)
{
	VFS_ENTER();
	struct vnode *vp;
	int error = lookup_dir(path, &vp);
	if (error)
		return krs_fail(error);
	proc_set_dirs(vp, false);
	return 0;
}

KRS_EXPORT char *
krs_getcwd(char *buf, size_t len)
{
	if (!vfs_up) {
		krs_fail(ENOSYS);
		return NULL;
	}
	if (buf == NULL) {
		krs_fail(EINVAL);
		return NULL;
	}
	struct vnode *cwd = cwd_get();
	if (cwd == NULL) {
		krs_fail(ENOENT);
		return NULL;
	}
	int error = vfs_getcwd(cwd, buf, len);
	vrele(cwd);
	if (error) {
		krs_fail(error);
		return NULL;
	}
	return buf;
}
