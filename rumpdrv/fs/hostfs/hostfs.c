/*
 * hostfs.c - the kernel half of hostfs: one host directory served to
 * KRANK's VFS.  Each vnode holds an O_PATH descriptor of its host file
 * (data descriptors are opened when a file is opened) and the path where
 * it was last seen, relative to the served directory.  Every lookup and
 * every directory a namespace change acts in is resolved again from the
 * root descriptor by the host half (hyp_hostfs_open: openat2 with
 * RESOLVE_BENEATH, no symbolic or magic links, no mount crossing), so a
 * directory moved away on the host never leads outside.  Symbolic links
 * are vnodes the VFS follows in KRANK's own name space.  Vnodes are keyed
 * by host inode number; the O_PATH descriptor keeps the inode from being
 * reused while its vnode exists.  See docs/hostfs.md.
 *
 * Mount: krs_mount(HOSTDIR, ON, "hostfs", [KRS_MNT_RDONLY], "[xdev]", n).
 */
#include <string.h>
#include <time.h>

#include "vfs/vfs_driver.h"
#include <krank/hyp_hostfs.h>

#define HOSTFS_PATHMAX	4096		/* host PATH_MAX, NUL included */
#define HOSTFS_DIRBUF	4096

struct hostfs_node {
	struct hostfs_node *hn_next, *hn_prev;	/* hm_nodes; hm_lock */
	int hn_pathfd;			/* O_PATH; constant */
	int hn_rfd, hn_wfd;		/* data descriptors or -1; set under
					 * hn_lock, read atomically */
	enum vtype hn_type;		/* constant */
	uint64_t hn_ino;		/* constant */
	char *hn_path;			/* relative, "" for the root;
					 * hm_pathlock */
	kmutex_t hn_lock;		/* opening hn_rfd/hn_wfd; a directory's
					 * seek + getdents on hn_rfd */
};

struct hostfs_mount {
	int hm_rootfd;			/* constant */
	int hm_xdev;			/* HYP_HOSTFS_XDEV or 0; constant */
	bool hm_rdonly;			/* constant */
	uint64_t hm_rootino;		/* constant */
	struct hostfs_node *hm_root;	/* constant; never freed before unmount */
	krwlock_t hm_pathlock;		/* every hn_path of the mount */
	kmutex_t hm_lock;		/* hm_nodes */
	struct hostfs_node *hm_nodes;
	kmutex_t hm_loadlock;		/* serialises vcache_get with hm_pend */
	struct hostfs_node *hm_pend;	/* node handed to loadvnode */
};

static const struct vnodeops hostfs_vnodeops;

#define VTON(vp) ((struct hostfs_node *)(vp)->v_data)
#define VTOHM(vp) ((struct hostfs_mount *)(vp)->v_mount->mnt_data)

static enum vtype
hostfs_vtype(uint32_t t)
{
	switch (t) {
	case HYP_HOSTFS_T_REG: return VREG;
	case HYP_HOSTFS_T_DIR: return VDIR;
	case HYP_HOSTFS_T_LNK: return VLNK;
	case HYP_HOSTFS_T_CHR: return VCHR;
	case HYP_HOSTFS_T_BLK: return VBLK;
	case HYP_HOSTFS_T_FIFO: return VFIFO;
	case HYP_HOSTFS_T_SOCK: return VSOCK;
	default: return VNON;
	}
}

/* ---- paths ---- */

/* A name from the VFS as one checked host component, NUL-terminated. */
static int
hostfs_name(const char *name, size_t len, char *out)
{
	if (len == 0 || len > 255 || memchr(name, '/', len) != NULL ||
	    memchr(name, '\0', len) != NULL)
		return EINVAL;
	memcpy(out, name, len);
	out[len] = '\0';
	return 0;
}

/* The path of n (and "/" name, when name is given) into buf
 * (HOSTFS_PATHMAX bytes). */
static int
hostfs_path(struct hostfs_mount *hm, struct hostfs_node *n, const char *name,
    char *buf)
{
	int error = 0;

	rw_enter(&hm->hm_pathlock, RW_READER);
	size_t pl = strlen(n->hn_path), nl = name ? strlen(name) : 0;
	if (pl + nl + 2 > HOSTFS_PATHMAX) {
		error = ENAMETOOLONG;
	} else {
		memcpy(buf, n->hn_path, pl);
		if (name != NULL) {
			if (pl > 0)
				buf[pl++] = '/';
			memcpy(buf + pl, name, nl);
			pl += nl;
		}
		buf[pl] = '\0';
	}
	rw_exit(&hm->hm_pathlock);
	return error;
}

/* Record where n was seen last (a lookup or rename found it there). */
static void
hostfs_setpath(struct hostfs_mount *hm, struct hostfs_node *n,
    const char *path)
{
	if (n == hm->hm_root)
		return;
	rw_enter(&hm->hm_pathlock, RW_WRITER);
	if (strcmp(n->hn_path, path) != 0) {
		kmem_strfree(n->hn_path);
		n->hn_path = kmem_strdup(path, KM_SLEEP);
	}
	rw_exit(&hm->hm_pathlock);
}

/* After a directory moved from old to new: every node below follows. */
static void
hostfs_movetree(struct hostfs_mount *hm, const char *old, const char *new)
{
	size_t ol = strlen(old), nl = strlen(new);

	rw_enter(&hm->hm_pathlock, RW_WRITER);
	mutex_enter(&hm->hm_lock);
	for (struct hostfs_node *n = hm->hm_nodes; n != NULL; n = n->hn_next) {
		if (n == hm->hm_root || strncmp(n->hn_path, old, ol) != 0 ||
		    (n->hn_path[ol] != '\0' && n->hn_path[ol] != '/'))
			continue;
		size_t rl = strlen(n->hn_path + ol);
		if (nl + rl + 1 > HOSTFS_PATHMAX)
			continue;	/* stays stale: lookups below fail */
		char *p = kmem_alloc(nl + rl + 1, KM_SLEEP);
		memcpy(p, new, nl);
		memcpy(p + nl, n->hn_path + ol, rl + 1);
		kmem_free(n->hn_path, strlen(n->hn_path) + 1);
		n->hn_path = p;
	}
	mutex_exit(&hm->hm_lock);
	rw_exit(&hm->hm_pathlock);
}

/* A directory descriptor, resolved now from the root, for dvp. */
static int
hostfs_dirfd(struct hostfs_mount *hm, struct vnode *dvp, char *buf, int *fdp)
{
	int error = hostfs_path(hm, VTON(dvp), NULL, buf);
	if (error == 0)
		error = hyp_hostfs_open(hm->hm_rootfd, buf,
		    HYP_HOSTFS_DIR | hm->hm_xdev, fdp);
	return error;
}

/* ---- nodes and vnodes ---- */

static struct hostfs_node *
hostfs_node_alloc(int pathfd, enum vtype type, uint64_t ino, const char *path)
{
	struct hostfs_node *n = kmem_zalloc(sizeof(*n), KM_SLEEP);
	n->hn_pathfd = pathfd;
	n->hn_rfd = n->hn_wfd = -1;
	n->hn_type = type;
	n->hn_ino = ino;
	n->hn_path = kmem_strdup(path, KM_SLEEP);
	mutex_init(&n->hn_lock, MUTEX_DEFAULT, IPL_NONE);
	return n;
}

static void
hostfs_node_free(struct hostfs_node *n, bool closepath)
{
	hyp_hostfs_close(n->hn_rfd);
	hyp_hostfs_close(n->hn_wfd);
	if (closepath)
		hyp_hostfs_close(n->hn_pathfd);
	kmem_strfree(n->hn_path);
	mutex_destroy(&n->hn_lock);
	kmem_free(n, sizeof(*n));
}

/*
 * The vnode for host file pathfd (seen at path), which this function
 * takes over: a new node when the inode has no vnode yet, else the
 * existing vnode (whose recorded path is refreshed) and pathfd is closed.
 * wfd, when >= 0, is a read-write descriptor of a file just created.
 */
static int
hostfs_getvnode(struct mount *mp, int pathfd, int wfd, const char *path,
    struct vnode **vpp)
{
	struct hostfs_mount *hm = mp->mnt_data;
	struct hyp_hostfs_attr a;
	int error;

	if ((error = hyp_hostfs_stat(pathfd, &a)) != 0) {
		hyp_hostfs_close(pathfd);
		hyp_hostfs_close(wfd);
		return error;
	}
	if (a.ino == hm->hm_rootino) {
		/* The root's node is permanent; loadvnode uses it. */
		hyp_hostfs_close(pathfd);
		hyp_hostfs_close(wfd);
		mutex_enter(&hm->hm_loadlock);
		error = vcache_get(mp, a.ino, vpp);
		mutex_exit(&hm->hm_loadlock);
		return error;
	}
	struct hostfs_node *n = hostfs_node_alloc(pathfd, hostfs_vtype(a.type),
	    a.ino, path);
	n->hn_wfd = wfd;
	mutex_enter(&hm->hm_loadlock);
	hm->hm_pend = n;
	error = vcache_get(mp, a.ino, vpp);
	bool taken = hm->hm_pend == NULL;
	hm->hm_pend = NULL;
	mutex_exit(&hm->hm_loadlock);
	if (!taken) {
		hostfs_node_free(n, true);
		if (error == 0)
			hostfs_setpath(hm, VTON(*vpp), path);
	}
	return error;
}

/* Make sure vp has a data descriptor for writing (or reading). */
static int
hostfs_datafd(struct vnode *vp, bool write, int *fdp)
{
	struct hostfs_mount *hm = VTOHM(vp);
	struct hostfs_node *n = VTON(vp);
	int error = 0, fd;

	if (write && hm->hm_rdonly)
		return EROFS;
	mutex_enter(&n->hn_lock);
	fd = write ? n->hn_wfd : (n->hn_wfd >= 0 ? n->hn_wfd : n->hn_rfd);
	if (fd < 0) {
		char *buf = kmem_alloc(HOSTFS_PATHMAX, KM_SLEEP);
		if ((error = hostfs_path(hm, n, NULL, buf)) == 0)
			error = hyp_hostfs_reopen(hm->hm_rootfd, buf,
			    n->hn_pathfd, (write ? HYP_HOSTFS_RDWR :
			    HYP_HOSTFS_RDONLY) | hm->hm_xdev, &fd);
		kmem_free(buf, HOSTFS_PATHMAX);
		if (error == 0)
			__atomic_store_n(write ? &n->hn_wfd : &n->hn_rfd, fd,
			    __ATOMIC_RELEASE);
	}
	mutex_exit(&n->hn_lock);
	*fdp = fd;
	return error;
}

/* ---- vnode operations ---- */

static int
hostfs_lookup(struct vnode *dvp, const char *name, size_t len,
    struct vnode **vpp)
{
	struct hostfs_mount *hm = VTOHM(dvp);
	struct hostfs_node *dn = VTON(dvp);
	char comp[256];
	int error, fd;

	if (len == 2 && name[0] == '.' && name[1] == '.') {
		/* The VFS handles ".." at the mount root; below it, the
		 * parent is the recorded path minus its last component. */
		char *buf = kmem_alloc(HOSTFS_PATHMAX, KM_SLEEP);
		if ((error = hostfs_path(hm, dn, NULL, buf)) == 0) {
			char *slash = strrchr(buf, '/');
			if (slash != NULL)
				*slash = '\0';
			else
				buf[0] = '\0';
			error = hyp_hostfs_open(hm->hm_rootfd, buf,
			    HYP_HOSTFS_DIR | hm->hm_xdev, &fd);
			if (error == 0)
				error = hostfs_getvnode(dvp->v_mount, fd, -1,
				    buf, vpp);
		}
		kmem_free(buf, HOSTFS_PATHMAX);
		return error;
	}
	if ((error = hostfs_name(name, len, comp)) != 0)
		return error;
	char *buf = kmem_alloc(HOSTFS_PATHMAX, KM_SLEEP);
	if ((error = hostfs_path(hm, dn, comp, buf)) == 0 &&
	    (error = hyp_hostfs_open(hm->hm_rootfd, buf,
	    HYP_HOSTFS_PATH | hm->hm_xdev, &fd)) == 0)
		error = hostfs_getvnode(dvp->v_mount, fd, -1, buf, vpp);
	kmem_free(buf, HOSTFS_PATHMAX);
	return error;
}

enum hostfs_mk { MK_FILE, MK_DIR, MK_LINK };

static int
hostfs_mknode(struct vnode *dvp, const char *name, size_t len,
    const struct vattr *va, enum hostfs_mk what, const char *target,
    struct vnode **vpp)
{
	struct hostfs_mount *hm = VTOHM(dvp);
	char comp[256];
	int error, dfd, fd, wfd = -1;

	if (hm->hm_rdonly)
		return EROFS;
	if ((error = hostfs_name(name, len, comp)) != 0)
		return error;
	char *buf = kmem_alloc(HOSTFS_PATHMAX, KM_SLEEP);
	if ((error = hostfs_dirfd(hm, dvp, buf, &dfd)) != 0)
		goto out;
	switch (what) {
	case MK_FILE:
		error = hyp_hostfs_create(dfd, comp, va->va_mode, va->va_uid,
		    va->va_gid, &wfd);
		break;
	case MK_DIR:
		error = hyp_hostfs_mkdir(dfd, comp, va->va_mode, va->va_uid,
		    va->va_gid);
		break;
	case MK_LINK:
		error = hyp_hostfs_symlink(dfd, comp, target, va->va_uid,
		    va->va_gid);
		break;
	}
	hyp_hostfs_close(dfd);
	if (error != 0)
		goto out;
	if ((error = hostfs_path(hm, VTON(dvp), comp, buf)) == 0 &&
	    (error = hyp_hostfs_open(hm->hm_rootfd, buf,
	    HYP_HOSTFS_PATH | hm->hm_xdev, &fd)) == 0) {
		if (wfd >= 0) {
			/* The name must still be the file we made. */
			struct hyp_hostfs_attr a, b;
			if (hyp_hostfs_stat(fd, &a) != 0 ||
			    hyp_hostfs_stat(wfd, &b) != 0 || a.ino != b.ino) {
				hyp_hostfs_close(fd);
				error = ESTALE;
				goto out;
			}
		}
		error = hostfs_getvnode(dvp->v_mount, fd, wfd, buf, vpp);
		wfd = -1;
	}
out:
	hyp_hostfs_close(wfd);
	kmem_free(buf, HOSTFS_PATHMAX);
	return error;
}

static int
hostfs_create(struct vnode *dvp, const char *name, size_t len,
    const struct vattr *va, struct vnode **vpp)
{
	return hostfs_mknode(dvp, name, len, va, MK_FILE, NULL, vpp);
}

static int
hostfs_mkdir(struct vnode *dvp, const char *name, size_t len,
    const struct vattr *va, struct vnode **vpp)
{
	return hostfs_mknode(dvp, name, len, va, MK_DIR, NULL, vpp);
}

static int
hostfs_symlink(struct vnode *dvp, const char *name, size_t len,
    const struct vattr *va, const char *target, struct vnode **vpp)
{
	return hostfs_mknode(dvp, name, len, va, MK_LINK, target, vpp);
}

/* Remove name from dvp if it still names vp's inode. */
static int
hostfs_unlink1(struct vnode *dvp, struct vnode *vp, const char *name,
    size_t len, int isdir)
{
	struct hostfs_mount *hm = VTOHM(dvp);
	struct hyp_hostfs_attr a;
	char comp[256];
	int error, dfd;

	if (hm->hm_rdonly)
		return EROFS;
	if ((error = hostfs_name(name, len, comp)) != 0)
		return error;
	char *buf = kmem_alloc(HOSTFS_PATHMAX, KM_SLEEP);
	if ((error = hostfs_dirfd(hm, dvp, buf, &dfd)) == 0) {
		if ((error = hyp_hostfs_statat(dfd, comp, &a)) == 0)
			error = a.ino != VTON(vp)->hn_ino ? ENOENT :
			    hyp_hostfs_unlink(dfd, comp, isdir);
		hyp_hostfs_close(dfd);
	}
	kmem_free(buf, HOSTFS_PATHMAX);
	return error;
}

static int
hostfs_remove(struct vnode *dvp, struct vnode *vp, const char *name,
    size_t len)
{
	return hostfs_unlink1(dvp, vp, name, len, 0);
}

static int
hostfs_rmdir(struct vnode *dvp, struct vnode *vp, const char *name,
    size_t len)
{
	return hostfs_unlink1(dvp, vp, name, len, 1);
}

/* Split path into its directory (in place) and last component. */
static const char *
hostfs_split(char *path)
{
	char *slash = strrchr(path, '/');
	if (slash == NULL) {
		memmove(path + 1, path, strlen(path) + 1);
		path[0] = '\0';
		return path + 1;
	}
	*slash = '\0';
	return slash + 1;
}

static int
hostfs_link(struct vnode *dvp, struct vnode *vp, const char *name, size_t len)
{
	struct hostfs_mount *hm = VTOHM(dvp);
	struct hostfs_node *n = VTON(vp);
	struct hyp_hostfs_attr a;
	char comp[256];
	int error, sfd = -1, tfd = -1;

	if (hm->hm_rdonly)
		return EROFS;
	if ((error = hostfs_name(name, len, comp)) != 0)
		return error;
	/* The source is named by where vp was last seen (below the root);
	 * it must still be vp's inode there. */
	char *buf = kmem_alloc(HOSTFS_PATHMAX + 1, KM_SLEEP);
	if ((error = hostfs_path(hm, n, NULL, buf)) != 0)
		goto out;
	const char *sname = hostfs_split(buf);
	if (sname[0] == '\0') {
		error = EPERM;		/* the root itself */
		goto out;
	}
	if ((error = hyp_hostfs_open(hm->hm_rootfd, buf,
	    HYP_HOSTFS_DIR | hm->hm_xdev, &sfd)) != 0)
		goto out;
	if ((error = hyp_hostfs_statat(sfd, sname, &a)) != 0)
		goto out;
	if (a.ino != n->hn_ino) {
		error = ESTALE;
		goto out;
	}
	char *tbuf = kmem_alloc(HOSTFS_PATHMAX, KM_SLEEP);
	if ((error = hostfs_dirfd(hm, dvp, tbuf, &tfd)) == 0 &&
	    (error = hyp_hostfs_link(sfd, sname, tfd, comp)) == 0) {
		/* Undo a link to another file a host-side rename slipped in. */
		if (hyp_hostfs_statat(tfd, comp, &a) != 0 || a.ino != n->hn_ino) {
			(void)hyp_hostfs_unlink(tfd, comp, 0);
			error = ESTALE;
		}
	}
	kmem_free(tbuf, HOSTFS_PATHMAX);
out:
	hyp_hostfs_close(sfd);
	hyp_hostfs_close(tfd);
	kmem_free(buf, HOSTFS_PATHMAX + 1);
	return error;
}

static int
hostfs_rename(struct vnode *fdvp, struct vnode *fvp, const char *fname,
    size_t flen, struct vnode *tdvp, struct vnode *tvp, const char *tname,
    size_t tlen)
{
	struct hostfs_mount *hm = VTOHM(fdvp);
	struct hyp_hostfs_attr a;
	char fcomp[256], tcomp[256];
	int error, ffd = -1, tfd = -1;
	(void)tvp;

	if (hm->hm_rdonly)
		return EROFS;
	if ((error = hostfs_name(fname, flen, fcomp)) != 0 ||
	    (error = hostfs_name(tname, tlen, tcomp)) != 0)
		return error;
	char *fbuf = kmem_alloc(HOSTFS_PATHMAX, KM_SLEEP);
	char *tbuf = kmem_alloc(HOSTFS_PATHMAX, KM_SLEEP);
	if ((error = hostfs_dirfd(hm, fdvp, fbuf, &ffd)) != 0 ||
	    (error = hostfs_dirfd(hm, tdvp, tbuf, &tfd)) != 0)
		goto out;
	if ((error = hyp_hostfs_statat(ffd, fcomp, &a)) != 0)
		goto out;
	if (a.ino != VTON(fvp)->hn_ino) {
		error = ENOENT;
		goto out;
	}
	if ((error = hyp_hostfs_rename(ffd, fcomp, tfd, tcomp)) != 0)
		goto out;
	/* Paths: old and new name of fvp, then everything below it. */
	if (hostfs_path(hm, VTON(fdvp), fcomp, fbuf) == 0 &&
	    hostfs_path(hm, VTON(tdvp), tcomp, tbuf) == 0) {
		if (fvp->v_type == VDIR)
			hostfs_movetree(hm, fbuf, tbuf);
		else
			hostfs_setpath(hm, VTON(fvp), tbuf);
	}
out:
	hyp_hostfs_close(ffd);
	hyp_hostfs_close(tfd);
	kmem_free(fbuf, HOSTFS_PATHMAX);
	kmem_free(tbuf, HOSTFS_PATHMAX);
	return error;
}

static int
hostfs_readlink(struct vnode *vp, struct uio *uio)
{
	char *buf = kmem_alloc(HOSTFS_PATHMAX, KM_SLEEP);
	size_t n = 0;
	int error = hyp_hostfs_readlink(VTON(vp)->hn_pathfd, buf,
	    HOSTFS_PATHMAX, &n);
	if (error == 0)
		error = uiomove(buf, n < uio->uio_resid ? n : uio->uio_resid,
		    uio);
	kmem_free(buf, HOSTFS_PATHMAX);
	return error;
}

static int
hostfs_getattr(struct vnode *vp, struct vattr *va)
{
	struct hyp_hostfs_attr a;
	int error = hyp_hostfs_stat(VTON(vp)->hn_pathfd, &a);

	if (error != 0)
		return error;
	vattr_null(va);
	va->va_type = vp->v_type;
	va->va_mode = a.mode;
	va->va_nlink = a.nlink;
	va->va_uid = a.uid;
	va->va_gid = a.gid;
	va->va_fileid = a.ino;
	va->va_size = a.size;
	va->va_bytes = a.bytes;
	va->va_blocksize = a.blksize;
	va->va_rdev = a.rdev;
	va->va_atime.tv_sec = a.atime_sec;
	va->va_atime.tv_nsec = a.atime_nsec;
	va->va_mtime.tv_sec = a.mtime_sec;
	va->va_mtime.tv_nsec = a.mtime_nsec;
	va->va_ctime.tv_sec = a.ctime_sec;
	va->va_ctime.tv_nsec = a.ctime_nsec;
	va->va_birthtime.tv_sec = a.btime_sec;
	va->va_birthtime.tv_nsec = a.btime_nsec;
	return 0;
}

static int
hostfs_setattr(struct vnode *vp, const struct vattr *va)
{
	struct hostfs_node *n = VTON(vp);
	int error = 0, fd;

	if (VTOHM(vp)->hm_rdonly)
		return EROFS;
	if (va->va_mask & VA_SIZE) {
		if (vp->v_type != VREG)
			return vp->v_type == VDIR ? EISDIR : EINVAL;
		if ((error = hostfs_datafd(vp, true, &fd)) != 0 ||
		    (error = hyp_hostfs_truncate(fd, (int64_t)va->va_size)) != 0)
			return error;
	}
	if (va->va_mask & VA_MODE) {
		if (vp->v_type != VREG && vp->v_type != VDIR)
			return EOPNOTSUPP;
		if ((error = hostfs_datafd(vp, false, &fd)) != 0 ||
		    (error = hyp_hostfs_chmod(fd, va->va_mode)) != 0)
			return error;
	}
	if (va->va_mask & (VA_UID | VA_GID)) {
		error = hyp_hostfs_chown(n->hn_pathfd,
		    (va->va_mask & VA_UID) ? va->va_uid : (uint32_t)-1,
		    (va->va_mask & VA_GID) ? va->va_gid : (uint32_t)-1);
		if (error != 0)
			return error;
	}
	if (va->va_mask & (VA_ATIME | VA_MTIME)) {
		bool at = va->va_mask & VA_ATIME, mt = va->va_mask & VA_MTIME;
		error = hyp_hostfs_utimes(n->hn_pathfd, at ? va->va_atime.tv_sec : 0,
		    at ? (int32_t)va->va_atime.tv_nsec : HYP_HOSTFS_UTIME_OMIT,
		    mt ? va->va_mtime.tv_sec : 0,
		    mt ? (int32_t)va->va_mtime.tv_nsec : HYP_HOSTFS_UTIME_OMIT);
	}
	return error;
}

/* Move data between the host file and uio, straight into its buffers. */
static int
hostfs_rdwr(int fd, struct uio *uio, bool write)
{
	int error = 0;

	while (uio->uio_resid > 0 && uio->uio_iovcnt > 0) {
		struct krs_iovec *iov = uio->uio_iov;
		size_t want = iov->iov_len < uio->uio_resid ? iov->iov_len :
		    uio->uio_resid, done = 0;
		if (want == 0) {
			uio->uio_iov++;
			uio->uio_iovcnt--;
			continue;
		}
		error = write ? hyp_hostfs_pwrite(fd, iov->iov_base, want,
		    uio->uio_offset, &done) : hyp_hostfs_pread(fd,
		    iov->iov_base, want, uio->uio_offset, &done);
		iov->iov_base = (char *)iov->iov_base + done;
		iov->iov_len -= done;
		uio->uio_resid -= done;
		uio->uio_offset += (int64_t)done;
		if (error != 0 || done < want)
			break;		/* error, or end of file */
	}
	return error;
}

static int
hostfs_read(struct vnode *vp, struct uio *uio, int ioflag)
{
	struct hostfs_node *n = VTON(vp);
	int fd, error;
	(void)ioflag;

	if (uio->uio_offset < 0)
		return EINVAL;
	fd = __atomic_load_n(&n->hn_wfd, __ATOMIC_ACQUIRE);
	if (fd < 0)
		fd = __atomic_load_n(&n->hn_rfd, __ATOMIC_ACQUIRE);
	if (fd < 0 && (error = hostfs_datafd(vp, false, &fd)) != 0)
		return error;
	return hostfs_rdwr(fd, uio, false);
}

static int
hostfs_write(struct vnode *vp, struct uio *uio, int ioflag)
{
	struct hyp_hostfs_attr a;
	int fd, error;

	if ((error = hostfs_datafd(vp, true, &fd)) != 0)
		return error;
	if (ioflag & IO_APPEND) {
		if ((error = hyp_hostfs_stat(fd, &a)) != 0)
			return error;
		uio->uio_offset = (int64_t)a.size;
	}
	if (uio->uio_offset < 0)
		return EINVAL;
	if ((error = hostfs_rdwr(fd, uio, true)) == 0 && (ioflag & IO_SYNC))
		error = hyp_hostfs_fsync(fd);
	return error;
}

static int
hostfs_readdir(struct vnode *vp, int64_t *offp, vfs_filldir_t fill, void *arg,
    bool *eofp)
{
	struct hostfs_node *n = VTON(vp);
	int error, fd;

	*eofp = false;
	if ((error = hostfs_datafd(vp, false, &fd)) != 0)
		return error;
	char *buf = kmem_alloc(HOSTFS_DIRBUF, KM_SLEEP);
	mutex_enter(&n->hn_lock);	/* the seek position of fd */
	for (;;) {
		size_t got = 0;
		if ((error = hyp_hostfs_readdir(fd, *offp, buf, HOSTFS_DIRBUF,
		    &got)) != 0)
			break;
		if (got == 0) {
			*eofp = true;
			break;
		}
		bool full = false;
		for (size_t off = 0; off < got;) {
			struct hyp_hostfs_dirent *d =
			    (struct hyp_hostfs_dirent *)(buf + off);
			if (d->d_reclen == 0 || off + d->d_reclen > got) {
				error = EIO;
				break;
			}
			size_t nl = strnlen(d->d_name, d->d_reclen -
			    offsetof(struct hyp_hostfs_dirent, d_name));
			if (fill(arg, d->d_name, nl, d->d_ino,
			    hostfs_vtype(d->d_type), d->d_off)) {
				full = true;
				break;
			}
			*offp = d->d_off;
			off += d->d_reclen;
		}
		if (full || error != 0)
			break;
	}
	mutex_exit(&n->hn_lock);
	kmem_free(buf, HOSTFS_DIRBUF);
	return error;
}

static int
hostfs_fsync(struct vnode *vp, int flags)
{
	struct hostfs_node *n = VTON(vp);
	int fd = n->hn_wfd >= 0 ? n->hn_wfd : n->hn_rfd;
	(void)flags;
	return fd >= 0 ? hyp_hostfs_fsync(fd) : 0;
}

static int
hostfs_inactive(struct vnode *vp, bool *recyclep)
{
	struct hostfs_node *n = VTON(vp);
	struct hyp_hostfs_attr a;

	/* No open file uses the data descriptors now; a later open makes
	 * them again.  Unless a lookup took a new reference meanwhile: its
	 * open may already have set them (reads load them without a lock),
	 * and it took the reference before it took hn_lock.  The VFS holds
	 * one transient reference around inactive. */
	mutex_enter(&n->hn_lock);
	if (__atomic_load_n(&vp->v_usecount, __ATOMIC_ACQUIRE) <= 1) {
		hyp_hostfs_close(n->hn_rfd);
		hyp_hostfs_close(n->hn_wfd);
		n->hn_rfd = n->hn_wfd = -1;
	}
	mutex_exit(&n->hn_lock);
	/* A file gone from the host is reclaimed at once. */
	*recyclep = n != VTOHM(vp)->hm_root &&
	    (hyp_hostfs_stat(n->hn_pathfd, &a) != 0 || a.nlink == 0);
	return 0;
}

static int
hostfs_reclaim(struct vnode *vp)
{
	struct hostfs_mount *hm = VTOHM(vp);
	struct hostfs_node *n = VTON(vp);

	vp->v_data = NULL;
	if (n == NULL || n == hm->hm_root)
		return 0;
	mutex_enter(&hm->hm_lock);
	if (n->hn_prev)
		n->hn_prev->hn_next = n->hn_next;
	else
		hm->hm_nodes = n->hn_next;
	if (n->hn_next)
		n->hn_next->hn_prev = n->hn_prev;
	mutex_exit(&hm->hm_lock);
	hostfs_node_free(n, true);
	return 0;
}

static int
hostfs_open(struct vnode *vp, int flags)
{
	int fd;

	switch (vp->v_type) {
	case VREG:
		return hostfs_datafd(vp, (flags & KRS_O_ACCMODE) !=
		    KRS_O_RDONLY, &fd);
	case VDIR:
		return 0;
	default:
		/* No device nodes, FIFOs or sockets of the host (nodev). */
		return EOPNOTSUPP;
	}
}

static const struct vnodeops hostfs_vnodeops = {
	.vop_lookup = hostfs_lookup,
	.vop_create = hostfs_create,
	.vop_mkdir = hostfs_mkdir,
	.vop_symlink = hostfs_symlink,
	.vop_remove = hostfs_remove,
	.vop_rmdir = hostfs_rmdir,
	.vop_link = hostfs_link,
	.vop_rename = hostfs_rename,
	.vop_readlink = hostfs_readlink,
	.vop_getattr = hostfs_getattr,
	.vop_setattr = hostfs_setattr,
	.vop_read = hostfs_read,
	.vop_write = hostfs_write,
	.vop_readdir = hostfs_readdir,
	.vop_fsync = hostfs_fsync,
	.vop_inactive = hostfs_inactive,
	.vop_reclaim = hostfs_reclaim,
	.vop_open = hostfs_open,
};

/* ---- mount ---- */

/* Options: "" or "xdev" (may cross mount points below the directory). */
static int
hostfs_parse(const char *data, size_t len, int *xdevp)
{
	*xdevp = 0;
	if (data == NULL || len == 0 || (len == 1 && data[0] == '\0'))
		return 0;
	if (len >= 4 && memcmp(data, "xdev", 4) == 0 &&
	    (len == 4 || (len == 5 && data[4] == '\0'))) {
		*xdevp = HYP_HOSTFS_XDEV;
		return 0;
	}
	return EINVAL;
}

static int
hostfs_mount(struct mount *mp, const char *source, int flags,
    const void *data, size_t datalen)
{
	struct hyp_hostfs_attr a;
	int error, fd, xdev;

	if ((error = hostfs_parse(data, datalen, &xdev)) != 0) {
		klog(LOG_WARNING, "hostfs: bad mount options (want \"\" or "
		    "\"xdev\")");
		return error;
	}
	if (source == NULL || source[0] != '/') {
		klog(LOG_WARNING, "hostfs: %s: not an absolute host path",
		    source ? source : "(null)");
		return EINVAL;
	}
	if ((error = hyp_hostfs_root(source, &fd)) != 0) {
		klog(LOG_WARNING, "hostfs: %s: cannot open the directory "
		    "(error %d)", source, error);
		return error;
	}
	if ((error = hyp_hostfs_stat(fd, &a)) != 0) {
		hyp_hostfs_close(fd);
		return error;
	}
	struct hostfs_mount *hm = kmem_zalloc(sizeof(*hm), KM_SLEEP);
	hm->hm_rootfd = fd;
	hm->hm_xdev = xdev;
	hm->hm_rdonly = (flags & MNT_RDONLY) != 0;
	hm->hm_rootino = a.ino;
	rw_init(&hm->hm_pathlock);
	mutex_init(&hm->hm_lock, MUTEX_DEFAULT, IPL_NONE);
	mutex_init(&hm->hm_loadlock, MUTEX_DEFAULT, IPL_NONE);
	hm->hm_root = hostfs_node_alloc(fd, VDIR, a.ino, "");
	mp->mnt_data = hm;
	/* pread is atomic on its own: reads need no v_lock. */
	mp->mnt_kflag |= MNTK_READSELF;
	klog(LOG_INFO, "hostfs: %s%s%s", source, hm->hm_rdonly ?
	    " read-only" : "", xdev ? ", crossing mounts" : "");
	return 0;
}

static int
hostfs_unmount(struct mount *mp, int flags)
{
	struct hostfs_mount *hm = mp->mnt_data;
	(void)flags;

	/* The VFS released every vnode; only the root node is left. */
	while (hm->hm_nodes != NULL) {
		struct hostfs_node *n = hm->hm_nodes;
		hm->hm_nodes = n->hn_next;
		hostfs_node_free(n, true);
	}
	hostfs_node_free(hm->hm_root, false);
	hyp_hostfs_close(hm->hm_rootfd);
	rw_destroy(&hm->hm_pathlock);
	mutex_destroy(&hm->hm_lock);
	mutex_destroy(&hm->hm_loadlock);
	kmem_free(hm, sizeof(*hm));
	mp->mnt_data = NULL;
	return 0;
}

static int
hostfs_root(struct mount *mp, struct vnode **vpp)
{
	struct hostfs_mount *hm = mp->mnt_data;
	int error;

	mutex_enter(&hm->hm_loadlock);
	error = vcache_get(mp, hm->hm_rootino, vpp);
	mutex_exit(&hm->hm_loadlock);
	return error;
}

static int
hostfs_statvfs(struct mount *mp, struct krs_statvfs *sv)
{
	struct hostfs_mount *hm = mp->mnt_data;
	struct hyp_hostfs_statvfs h;
	int error = hyp_hostfs_statvfs(hm->hm_rootfd, &h);

	if (error != 0)
		return error;
	sv->f_bsize = h.bsize;
	sv->f_frsize = h.frsize;
	sv->f_blocks = h.blocks;
	sv->f_bfree = h.bfree;
	sv->f_bavail = h.bavail;
	sv->f_files = h.files;
	sv->f_ffree = h.ffree;
	sv->f_favail = h.favail;
	sv->f_namemax = h.namemax;
	return 0;
}

static int
hostfs_sync(struct mount *mp, int waitfor)
{
	(void)mp; (void)waitfor;
	return 0;		/* writes went to the host's page cache */
}

static int
hostfs_loadvnode(struct mount *mp, struct vnode *vp, uint64_t key)
{
	struct hostfs_mount *hm = mp->mnt_data;
	struct hostfs_node *n;

	/* Called inside vcache_get, under hm_loadlock. */
	if (key == hm->hm_rootino) {
		n = hm->hm_root;
	} else {
		n = hm->hm_pend;
		if (n == NULL || n->hn_ino != key)
			return ESTALE;
		hm->hm_pend = NULL;
		mutex_enter(&hm->hm_lock);
		n->hn_prev = NULL;
		n->hn_next = hm->hm_nodes;
		if (hm->hm_nodes)
			hm->hm_nodes->hn_prev = n;
		hm->hm_nodes = n;
		mutex_exit(&hm->hm_lock);
	}
	vp->v_data = n;
	vp->v_type = n->hn_type;
	vp->v_op = &hostfs_vnodeops;
	return 0;
}

static const struct vfsops hostfs_vfsops = {
	.vfs_name = "hostfs",
	.vfs_mount = hostfs_mount,
	.vfs_unmount = hostfs_unmount,
	.vfs_root = hostfs_root,
	.vfs_statvfs = hostfs_statvfs,
	.vfs_sync = hostfs_sync,
	.vfs_loadvnode = hostfs_loadvnode,
};

static int
hostfs_init(void)
{
	return vfs_register(&hostfs_vfsops);
}

static void
hostfs_fini(void)
{
	vfs_unregister(&hostfs_vfsops);
}

RUMPDRV_COMPONENT(hostfs, "hostfs", "vfs", hostfs_init, hostfs_fini);
