/*
 * vfs_lookup.c - path name lookup: absolute and relative paths, "." and
 * "..", symbolic links (at most VFS_SYMLOOP_MAX, then ELOOP), crossing into
 * mounted file systems and back out through "..", search permission on
 * every directory passed.  Also getcwd.
 */
#include <string.h>

#include "vfs/vfs_int.h"

/* Enter covering mounts: replace *vpp by the root of what is mounted on it. */
static int
cross_mounts(struct vnode **vpp)
{
	for (;;) {
		struct vnode *vp = *vpp, *root;
		mutex_enter(&mountlist_lock);
		struct mount *mp = vnode_mountedhere(vp);
		if (mp != NULL)
			__atomic_fetch_add(&mp->mnt_refcnt, 1, __ATOMIC_RELAXED);
		mutex_exit(&mountlist_lock);
		if (mp == NULL)
			return 0;
		int error = vfs_root_vnode(mp, &root);
		__atomic_fetch_sub(&mp->mnt_refcnt, 1, __ATOMIC_RELAXED);
		if (error)
			return error;
		vrele(vp);
		*vpp = root;
	}
}

int
lookup_one(struct vnode *dvp, const char *name, size_t len,
    struct vnode **vpp, bool cross)
{
	struct mount *mp = dvp->v_mount;
	int error;

	rw_enter(&mp->mnt_nslock, RW_READER);
	error = dvp->v_op->vop_lookup(dvp, name, len, vpp);
	rw_exit(&mp->mnt_nslock);
	if (error == 0 && cross)
		error = cross_mounts(vpp);
	if (error != 0 && error != ENOENT)
		return error;
	return error;
}

/* The caller's root: its context's (krs_chroot), else the global one. */
static struct vnode *
root_get(void)
{
	struct proc *p = curproc;
	if (p->p_root != NULL) {
		mutex_enter(&p->p_lock);
		struct vnode *r = p->p_root;
		if (r != NULL)
			vref(r);
		mutex_exit(&p->p_lock);
		if (r != NULL)
			return r;
	}
	mutex_enter(&mountlist_lock);
	struct vnode *vp = rootvnode;
	if (vp != NULL)
		vref(vp);
	mutex_exit(&mountlist_lock);
	return vp;
}

struct vnode *
cwd_get(void)
{
	struct proc *p = curproc;
	struct vnode *vp;
	mutex_enter(&p->p_lock);
	vp = p->p_cwd;
	if (vp != NULL)
		vref(vp);
	mutex_exit(&p->p_lock);
	return vp != NULL ? vp : root_get();
}

/* ".." from dvp: out of a mount root to the covered vnode first. */
static int
lookup_dotdot(struct vnode *root, struct vnode **dvpp, struct vnode **vpp)
{
	struct vnode *dvp = *dvpp;
	while (dvp != root && vnode_is_mroot(dvp) &&
	    dvp->v_mount->mnt_vnodecovered != NULL) {
		struct vnode *cov = dvp->v_mount->mnt_vnodecovered;
		vref(cov);
		vrele(dvp);
		dvp = cov;
	}
	*dvpp = dvp;
	if (dvp == root) {
		vref(dvp);
		*vpp = dvp;
		return 0;
	}
	return lookup_one(dvp, "..", 2, vpp, false);
}

int
vfs_link_target(struct vnode *vp, char **tgtp, size_t *lenp)
{
	char *tgt = kmem_alloc(VFS_PATH_MAX + 1, KM_SLEEP);
	struct krs_iovec iov = { tgt, VFS_PATH_MAX };
	struct uio uio = { .uio_iov = &iov, .uio_iovcnt = 1,
	    .uio_resid = VFS_PATH_MAX, .uio_rw = UIO_READ };
	rw_enter(&vp->v_lock, RW_READER);
	int error = vp->v_op->vop_readlink(vp, &uio);
	rw_exit(&vp->v_lock);
	size_t len = VFS_PATH_MAX - uio.uio_resid;
	if (error == 0 && len == 0)
		error = ENOENT;
	if (error != 0) {
		kmem_free(tgt, VFS_PATH_MAX + 1);
		return error;
	}
	tgt[len] = '\0';
	*tgtp = tgt;
	*lenp = len;
	return 0;
}

int
namei(struct nameidata *nd)
{
	char *buf = NULL, *p;
	struct vnode *root, *dvp = NULL, *vp = NULL;
	int error = 0, links = 0;
	size_t plen;

	if (nd->nd_path == NULL)
		return EFAULT;
	plen = strnlen(nd->nd_path, VFS_PATH_MAX + 1);
	nd->nd_dvp = nd->nd_vp = NULL;
	nd->nd_slash = false;
	nd->nd_namelen = 0;
	nd->nd_name[0] = '\0';
	if (plen == 0)
		return ENOENT;
	if (plen > VFS_PATH_MAX)
		return ENAMETOOLONG;
	if ((root = root_get()) == NULL)
		return ENOENT;
	buf = kmem_alloc(VFS_PATH_MAX + 1, KM_SLEEP);
	memcpy(buf, nd->nd_path, plen + 1);
	p = buf;

	if (*p == '/') {
		dvp = root;
		vref(dvp);
	} else if (nd->nd_startdir != NULL) {
		dvp = nd->nd_startdir;
		vref(dvp);
	} else if (nd->nd_dirfd == KRS_AT_FDCWD) {
		dvp = cwd_get();
	} else {
		struct file *fp;
		if ((error = fd_getvnode(nd->nd_dirfd, ENOTDIR, &fp)) != 0)
			goto out;
		dvp = fp->f_vnode;
		vref(dvp);
		file_release(fp);
		if (dvp->v_type != VDIR) {
			error = ENOTDIR;
			goto out;
		}
	}

	for (;;) {
		while (*p == '/')
			p++;
		if (*p == '\0') {
			/* Path was "/" (or all slashes) or ended in a link to
			 * a directory: the result is dvp itself. */
			if (nd->nd_flags & NL_PARENT) {
				nd->nd_dvp = dvp;
				dvp = NULL;
			} else {
				nd->nd_vp = dvp;
				dvp = NULL;
			}
			nd->nd_slash = true;
			break;
		}
		char *name = p;
		while (*p != '\0' && *p != '/')
			p++;
		size_t len = (size_t)(p - name);
		char *rest = p;
		while (*rest == '/')
			rest++;
		bool last = *rest == '\0';
		bool slash = last && p != rest;

		if (len > VFS_NAME_MAX) {
			error = ENAMETOOLONG;
			goto out;
		}
		if (dvp->v_type != VDIR) {
			error = ENOTDIR;
			goto out;
		}
		if ((error = vfs_access(dvp, VEXEC)) != 0)
			goto out;
		if (last && (nd->nd_flags & NL_PARENT)) {
			memcpy(nd->nd_name, name, len);
			nd->nd_name[len] = '\0';
			nd->nd_namelen = len;
			nd->nd_slash = slash;
			nd->nd_dvp = dvp;
			dvp = NULL;
			break;
		}
		if (len == 1 && name[0] == '.') {
			vp = dvp;
			vref(vp);
		} else if (len == 2 && name[0] == '.' && name[1] == '.') {
			error = lookup_dotdot(root, &dvp, &vp);
		} else {
			error = lookup_one(dvp, name, len, &vp,
			    !(last && (nd->nd_flags & NL_NOCROSS)));
		}
		if (error)
			goto out;

		if (vp->v_type == VLNK &&
		    (!last || slash || (nd->nd_flags & NL_FOLLOW))) {
			/* Splice the link's target in front of the rest. */
			char *tgt;
			size_t rlen = strlen(rest), tlen;

			if (++links > VFS_SYMLOOP_MAX) {
				error = ELOOP;
				goto out;
			}
			if ((error = vfs_link_target(vp, &tgt, &tlen)) != 0)
				goto out;
			if (tlen + 1 + rlen + (slash ? 1 : 0) > VFS_PATH_MAX) {
				kmem_free(tgt, VFS_PATH_MAX + 1);
				error = ENAMETOOLONG;
				goto out;
			}
			/* rest lives in buf: build target/rest in tgt, copy back. */
			if (rlen > 0 || slash)
				tgt[tlen++] = '/';
			memcpy(tgt + tlen, rest, rlen + 1);
			memcpy(buf, tgt, tlen + rlen + 1);
			kmem_free(tgt, VFS_PATH_MAX + 1);
			p = buf;
			vrele(vp);
			vp = NULL;
			if (*p == '/') {
				vrele(dvp);
				dvp = root;
				vref(dvp);
			}
			continue;
		}
		if (last) {
			if (slash && vp->v_type != VDIR) {
				error = ENOTDIR;
				goto out;
			}
			nd->nd_slash = slash;
			nd->nd_vp = vp;
			vp = NULL;
			break;
		}
		vrele(dvp);
		dvp = vp;
		vp = NULL;
		p = rest;
	}
out:
	if (vp)
		vrele(vp);
	if (dvp)
		vrele(dvp);
	vrele(root);
	kmem_free(buf, VFS_PATH_MAX + 1);
	return error;
}

struct findname {
	uint64_t ino;
	char *name;
	size_t len;
	bool found;
};

static int
findname_fill(void *arg, const char *name, size_t namelen, uint64_t ino,
    enum vtype type, int64_t nextoff)
{
	struct findname *fn = arg;
	(void)type; (void)nextoff;
	if (ino != fn->ino || vfs_isdots(name, namelen))
		return 0;
	memcpy(fn->name, name, namelen);
	fn->name[namelen] = '\0';
	fn->len = namelen;
	fn->found = true;
	return 1;
}

/* Name of vp inside directory dvp (a scan by inode number). */
static int
name_in_dir(struct vnode *dvp, struct vnode *vp, char *name, size_t *lenp)
{
	struct vattr va;
	struct findname fn;
	int64_t off = 0;
	bool eof = false;
	int error;

	if ((error = vfs_getattr(vp, &va)) != 0)
		return error;
	fn.ino = va.va_fileid;
	fn.name = name;
	fn.found = false;
	rw_enter(&dvp->v_mount->mnt_nslock, RW_READER);
	rw_enter(&dvp->v_lock, RW_READER);
	while (!fn.found && !eof && error == 0)
		error = dvp->v_op->vop_readdir(dvp, &off, findname_fill, &fn, &eof);
	rw_exit(&dvp->v_lock);
	rw_exit(&dvp->v_mount->mnt_nslock);
	if (error == 0 && !fn.found)
		error = ENOENT;
	*lenp = fn.len;
	return error;
}

int
vfs_getcwd(struct vnode *cwd, char *buf, size_t len)
{
	struct vnode *root = root_get(), *vp = cwd, *dvp;
	char name[VFS_NAME_MAX + 1];
	size_t pos = len, nlen;
	int error = 0;

	if (root == NULL)
		return ENOENT;
	if (len < 2) {
		vrele(root);
		return ERANGE;
	}
	buf[--pos] = '\0';
	vref(vp);
	while (vp != root) {
		struct vnode *child = vp;
		/* Leave mount roots for the directory they cover. */
		while (child != root && vnode_is_mroot(child) &&
		    child->v_mount->mnt_vnodecovered != NULL) {
			struct vnode *cov = child->v_mount->mnt_vnodecovered;
			vref(cov);
			vrele(child);
			child = cov;
		}
		vp = child;
		if (vp == root)
			break;
		if ((error = lookup_one(vp, "..", 2, &dvp, false)) != 0)
			break;
		error = name_in_dir(dvp, vp, name, &nlen);
		vrele(vp);
		vp = dvp;
		if (error)
			break;
		if (nlen + 1 > pos) {
			error = ERANGE;
			break;
		}
		pos -= nlen;
		memcpy(buf + pos, name, nlen);
		buf[--pos] = '/';
	}
	vrele(vp);
	vrele(root);
	if (error)
		return error;
	if (pos == len - 1)
		buf[--pos] = '/';
	memmove(buf, buf + pos, len - pos);
	return 0;
}
