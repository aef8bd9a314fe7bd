/*
 * ext2_vnops.c - the ext2 component: plugs the inode-level driver
 * (ext2.h) into the VFS (vfs_driver.h).  A vnode's key is its inode
 * number and v_data the referenced struct ext2_inode; the last vnode
 * reference (reclaim) puts the inode, which frees an unlinked file.
 * Mount source is the image or device path; data may be "cache=MiB".
 */
#include <string.h>

#include "kern/kern.h"
#include "vfs/vfs_driver.h"
#include "fs/ext2/ext2_int.h"

#define VTOI(vp) ((struct ext2_inode *)(vp)->v_data)
#define VFSTOEXT2(mp) ((struct ext2fs *)(mp)->mnt_data)

/*
 * Damage found on disk reaches the caller as EIO; the kernel log gets the
 * driver's description of it (which inode, which block, what was wrong).
 */
static int
ext2_logerr(struct mount *mp, int error)
{
	if (error == EIO && mp->mnt_data != NULL)
		klog(LOG_WARNING, "ext2: %s: %s", mp->mnt_stat_from,
		    ext2_lasterror(VFSTOEXT2(mp), NULL));
	return error;
}

/* A new inode whose allocation met a lying inode bitmap (ext2_ialloc
 * marked the live inode it skipped; the core keeps no log of its own). */
static void
ext2_lognew(struct mount *mp, uint64_t lies0)
{
	struct ext2fs *fs = mp->mnt_data;
	if (fs != NULL &&
	    __atomic_load_n(&fs->ninodelies, __ATOMIC_RELAXED) != lies0)
		klog(LOG_WARNING, "ext2: %s: %s", mp->mnt_stat_from,
		    ext2_lasterror(fs, NULL));
}

static enum vtype
mode2vtype(uint32_t mode)
{
	switch (mode & EXT2_S_IFMT) {
	case EXT2_S_IFREG: return VREG;
	case EXT2_S_IFDIR: return VDIR;
	case EXT2_S_IFLNK: return VLNK;
	case EXT2_S_IFCHR: return VCHR;
	case EXT2_S_IFBLK: return VBLK;
	case EXT2_S_IFIFO: return VFIFO;
	case EXT2_S_IFSOCK: return VSOCK;
	}
	return VBAD;
}

static uint32_t
vtype2mode(enum vtype t)
{
	switch (t) {
	case VDIR: return EXT2_S_IFDIR;
	case VLNK: return EXT2_S_IFLNK;
	case VCHR: return EXT2_S_IFCHR;
	case VBLK: return EXT2_S_IFBLK;
	case VFIFO: return EXT2_S_IFIFO;
	case VSOCK: return EXT2_S_IFSOCK;
	default: return EXT2_S_IFREG;
	}
}

/* The referenced vnode for a referenced inode (the inode ref is dropped). */
static int
ext2_vget(struct mount *mp, struct ext2_inode *ip, struct vnode **vpp)
{
	int error = vcache_get(mp, ip->i_number, vpp);
	ext2_iput(ip);
	return error;
}

static int
ext2_vop_lookup(struct vnode *dvp, const char *name, size_t namelen,
    struct vnode **vpp)
{
	uint32_t ino;
	int error = ext2_lookup(VTOI(dvp), name, namelen, &ino);
	if (error != 0)
		return ext2_logerr(dvp->v_mount, error);
	return ext2_logerr(dvp->v_mount, vcache_get(dvp->v_mount, ino, vpp));
}

static int
ext2_vop_create(struct vnode *dvp, const char *name, size_t namelen,
    const struct vattr *va, struct vnode **vpp)
{
	struct ext2_inode *ip;
	uint64_t lies0 = __atomic_load_n(&VFSTOEXT2(dvp->v_mount)->ninodelies,
	    __ATOMIC_RELAXED);
	int error = ext2_create(VTOI(dvp), name, namelen,
	    vtype2mode(va->va_type) | (va->va_mode & 07777), va->va_uid,
	    va->va_gid, &ip);
	if (error != 0)
		return ext2_logerr(dvp->v_mount, error);
	ext2_lognew(dvp->v_mount, lies0);
	return ext2_vget(dvp->v_mount, ip, vpp);
}

static int
ext2_vop_mkdir(struct vnode *dvp, const char *name, size_t namelen,
    const struct vattr *va, struct vnode **vpp)
{
	struct ext2_inode *ip;
	uint64_t lies0 = __atomic_load_n(&VFSTOEXT2(dvp->v_mount)->ninodelies,
	    __ATOMIC_RELAXED);
	int error = ext2_mkdir(VTOI(dvp), name, namelen, va->va_mode & 07777,
	    va->va_uid, va->va_gid, &ip);
	if (error != 0)
		return ext2_logerr(dvp->v_mount, error);
	ext2_lognew(dvp->v_mount, lies0);
	return ext2_vget(dvp->v_mount, ip, vpp);
}

static int
ext2_vop_symlink(struct vnode *dvp, const char *name, size_t namelen,
    const struct vattr *va, const char *target, struct vnode **vpp)
{
	struct ext2_inode *ip;
	uint64_t lies0 = __atomic_load_n(&VFSTOEXT2(dvp->v_mount)->ninodelies,
	    __ATOMIC_RELAXED);
	int error = ext2_symlink(VTOI(dvp), name, namelen, target, va->va_uid,
	    va->va_gid, &ip);
	if (error != 0)
		return ext2_logerr(dvp->v_mount, error);
	ext2_lognew(dvp->v_mount, lies0);
	return ext2_vget(dvp->v_mount, ip, vpp);
}

static int
ext2_vop_remove(struct vnode *dvp, struct vnode *vp, const char *name,
    size_t namelen)
{
	(void)vp;
	return ext2_logerr(dvp->v_mount, ext2_remove(VTOI(dvp), name, namelen));
}

static int
ext2_vop_rmdir(struct vnode *dvp, struct vnode *vp, const char *name,
    size_t namelen)
{
	(void)vp;
	return ext2_logerr(dvp->v_mount, ext2_rmdir(VTOI(dvp), name, namelen));
}

static int
ext2_vop_link(struct vnode *dvp, struct vnode *vp, const char *name,
    size_t namelen)
{
	return ext2_logerr(dvp->v_mount,
	    ext2_link(VTOI(dvp), name, namelen, VTOI(vp)));
}

static int
ext2_vop_rename(struct vnode *fdvp, struct vnode *fvp, const char *fname,
    size_t fnamelen, struct vnode *tdvp, struct vnode *tvp,
    const char *tname, size_t tnamelen)
{
	(void)fvp;
	(void)tvp;
	return ext2_logerr(fdvp->v_mount, ext2_rename(VTOI(fdvp), fname,
	    fnamelen, VTOI(tdvp), tname, tnamelen));
}

static int
ext2_vop_readlink(struct vnode *vp, struct uio *uio)
{
	struct ext2_inode *ip = VTOI(vp);
	size_t len = ip->i_fs->bsize, n;
	char *buf = kmem_alloc(len, KM_SLEEP);
	int error = ext2_readlink(ip, buf, len, &n);
	if (error == 0)
		error = uiomove(buf, n, uio);
	kmem_free(buf, len);
	return error;
}

static int
ext2_vop_getattr(struct vnode *vp, struct vattr *va)
{
	struct ext2_inode *ip = VTOI(vp);
	struct ext2_attr a;

	ext2_getattr(ip, &a);
	vattr_null(va);
	va->va_type = mode2vtype(a.mode);
	va->va_mode = a.mode & 07777;
	va->va_nlink = a.nlink;
	va->va_uid = a.uid;
	va->va_gid = a.gid;
	va->va_fileid = a.ino;
	va->va_size = a.size;
	va->va_bytes = a.blocks512 * 512;
	va->va_blocksize = ip->i_fs->bsize;
	va->va_rdev = a.rdev;
	va->va_atime.tv_sec = a.atime;
	va->va_atime.tv_nsec = a.atime_ns;
	va->va_mtime.tv_sec = a.mtime;
	va->va_mtime.tv_nsec = a.mtime_ns;
	va->va_ctime.tv_sec = a.ctime;
	va->va_ctime.tv_nsec = a.ctime_ns;
	va->va_gen = a.generation;
	return 0;
}

static int
ext2_vop_setattr(struct vnode *vp, const struct vattr *va)
{
	struct ext2_attr a;
	unsigned mask = 0;

	memset(&a, 0, sizeof(a));
	if (va->va_mask & VA_MODE) {
		mask |= EXT2_SA_MODE;
		a.mode = va->va_mode;
	}
	if (va->va_mask & VA_UID) {
		mask |= EXT2_SA_UID;
		a.uid = va->va_uid;
	}
	if (va->va_mask & VA_GID) {
		mask |= EXT2_SA_GID;
		a.gid = va->va_gid;
	}
	if (va->va_mask & VA_SIZE) {
		mask |= EXT2_SA_SIZE;
		a.size = va->va_size;
	}
	if (va->va_mask & VA_ATIME) {
		mask |= EXT2_SA_ATIME;
		a.atime = va->va_atime.tv_sec;
		a.atime_ns = (uint32_t)va->va_atime.tv_nsec;
	}
	if (va->va_mask & VA_MTIME) {
		mask |= EXT2_SA_MTIME;
		a.mtime = va->va_mtime.tv_sec;
		a.mtime_ns = (uint32_t)va->va_mtime.tv_nsec;
	}
	return ext2_setattr(VTOI(vp), mask, &a);
}

/* Advance a uio by n bytes moved directly to or from its iovecs. */
static void
uio_advance(struct uio *uio, size_t n)
{
	uio->uio_iov->iov_base = (char *)uio->uio_iov->iov_base + n;
	uio->uio_iov->iov_len -= n;
	if (uio->uio_iov->iov_len == 0) {
		uio->uio_iov++;
		uio->uio_iovcnt--;
	}
	uio->uio_offset += (int64_t)n;
	uio->uio_resid -= n;
}

static int
ext2_vop_read(struct vnode *vp, struct uio *uio, int ioflag)
{
	struct ext2_inode *ip = VTOI(vp);
	size_t n;
	int error = 0;

	(void)ioflag;
	if (uio->uio_offset < 0)
		return EINVAL;
	while (uio->uio_resid > 0 && uio->uio_iovcnt > 0) {
		struct krs_iovec *iov = uio->uio_iov;
		if (iov->iov_len == 0) {
			uio->uio_iov++;
			uio->uio_iovcnt--;
			continue;
		}
		size_t want = iov->iov_len;
		error = ext2_read(ip, iov->iov_base, want,
		    (uint64_t)uio->uio_offset, &n);
		if (error != 0 || n == 0)
			break;
		uio_advance(uio, n);
		if (n < want)
			break;		/* end of file: one locked read */
	}
	return ext2_logerr(vp->v_mount, error);
}

static int
ext2_vop_write(struct vnode *vp, struct uio *uio, int ioflag)
{
	struct ext2_inode *ip = VTOI(vp);
	size_t n;
	int error = 0;

	if (ioflag & IO_APPEND) {
		struct ext2_attr a;
		ext2_getattr(ip, &a);
		uio->uio_offset = (int64_t)a.size;
	}
	if (uio->uio_offset < 0)
		return EINVAL;
	while (uio->uio_resid > 0 && uio->uio_iovcnt > 0) {
		struct krs_iovec *iov = uio->uio_iov;
		if (iov->iov_len == 0) {
			uio->uio_iov++;
			uio->uio_iovcnt--;
			continue;
		}
		error = ext2_write(ip, iov->iov_base, iov->iov_len,
		    (uint64_t)uio->uio_offset, &n);
		if (n > 0)
			uio_advance(uio, n);
		if (error != 0)
			break;
		if (n == 0)
			break;
	}
	if (error == 0 && (ioflag & IO_SYNC))
		error = ext2_fsync(ip);
	return ext2_logerr(vp->v_mount, error);
}

struct ext2_fillarg {
	vfs_filldir_t fill;
	void *arg;
};

static int
ext2_vfill(void *arg, const char *name, size_t namelen, uint32_t ino,
    int dtype, uint64_t nextoff)
{
	struct ext2_fillarg *fa = arg;
	enum vtype t;
	switch (dtype) {
	case 8: t = VREG; break;
	case 4: t = VDIR; break;
	case 10: t = VLNK; break;
	case 2: t = VCHR; break;
	case 6: t = VBLK; break;
	case 1: t = VFIFO; break;
	case 12: t = VSOCK; break;
	default: t = VNON; break;
	}
	return fa->fill(fa->arg, name, namelen, ino, t, (int64_t)nextoff);
}

static int
ext2_vop_readdir(struct vnode *vp, int64_t *offp, vfs_filldir_t fill,
    void *arg, bool *eofp)
{
	struct ext2_fillarg fa = { fill, arg };
	uint64_t off = *offp < 0 ? 0 : (uint64_t)*offp;
	int eof = 0;
	int error = ext2_readdir(VTOI(vp), &off, ext2_vfill, &fa, &eof);
	*offp = (int64_t)off;
	*eofp = eof != 0;
	return ext2_logerr(vp->v_mount, error);
}

static int
ext2_vop_fsync(struct vnode *vp, int flags)
{
	(void)flags;
	return ext2_fsync(VTOI(vp));
}

static int
ext2_vop_inactive(struct vnode *vp, bool *recyclep)
{
	struct ext2_attr a;
	ext2_getattr(VTOI(vp), &a);
	*recyclep = a.nlink == 0;
	return 0;
}

static int
ext2_vop_reclaim(struct vnode *vp)
{
	if (vp->v_data != NULL)
		ext2_iput(VTOI(vp));
	vp->v_data = NULL;
	return 0;
}

static const struct vnodeops ext2_vnodeops = {
	.vop_lookup = ext2_vop_lookup,
	.vop_create = ext2_vop_create,
	.vop_mkdir = ext2_vop_mkdir,
	.vop_symlink = ext2_vop_symlink,
	.vop_remove = ext2_vop_remove,
	.vop_rmdir = ext2_vop_rmdir,
	.vop_link = ext2_vop_link,
	.vop_rename = ext2_vop_rename,
	.vop_readlink = ext2_vop_readlink,
	.vop_getattr = ext2_vop_getattr,
	.vop_setattr = ext2_vop_setattr,
	.vop_read = ext2_vop_read,
	.vop_write = ext2_vop_write,
	.vop_readdir = ext2_vop_readdir,
	.vop_fsync = ext2_vop_fsync,
	.vop_inactive = ext2_vop_inactive,
	.vop_reclaim = ext2_vop_reclaim,
};

/* Mount data: "", or options separated by commas: "cache=MiB" and
 * "direct" (the image bypasses the host's cache: O_DIRECT). */
static int
ext2_parse(const char *data, size_t len, size_t *cachep, int *flagsp)
{
	size_t i = 0;
	if (data == NULL)
		return 0;
	while (i < len && data[i] != '\0') {
		size_t e = i;
		while (e < len && data[e] != '\0' && data[e] != ',')
			e++;
		if (e - i == 6 && memcmp(data + i, "direct", 6) == 0) {
			*flagsp |= EXT2_MNT_DIRECT;
		} else if (e - i > 6 && memcmp(data + i, "cache=", 6) == 0) {
			size_t v = 0;
			for (size_t k = i + 6; k < e; k++) {
				if (data[k] < '0' || data[k] > '9' || v > 1u << 20)
					return EINVAL;
				v = v * 10 + (size_t)(data[k] - '0');
			}
			if (v == 0)
				return EINVAL;
			*cachep = v << 20;
		} else
			return EINVAL;
		i = e < len && data[e] == ',' ? e + 1 : e;
	}
	return 0;
}

static int
ext2_vfs_mount(struct mount *mp, const char *source, int flags,
    const void *data, size_t datalen)
{
	struct ext2fs *fs;
	size_t cache = 0;
	char err[256];
	int error, xflags = 0;

	if ((error = ext2_parse(data, datalen, &cache, &xflags)) != 0) {
		klog(LOG_WARNING, "ext2: %s: bad mount options (want cache=MiB "
		    "and/or direct, separated by commas)", source);
		return error;
	}
	if (flags & MNT_RDONLY)
		xflags |= EXT2_MNT_RDONLY;
	error = ext2_mount(source, xflags, cache, &fs, err, sizeof(err));
	if (error != 0) {
		if (err[0] == '\0')
			klog(LOG_WARNING, "ext2: %s: cannot open (error %d)",
			    source, error);
		else
			klog(LOG_WARNING, "ext2: %s: %s", source, err);
		return error;
	}
	if (ext2_rdonly(fs) && !(flags & MNT_RDONLY)) {
		klog(LOG_NOTICE, "ext2: %s: %s", source,
		    ext2_lasterror(fs, NULL));
		mp->mnt_flag |= MNT_RDONLY;
	}
	if ((xflags & EXT2_MNT_DIRECT) && ext2_direct(fs) != 0)
		klog(LOG_WARNING, "ext2: %s: direct I/O refused (error %d): "
		    "through the host's cache", source, ext2_direct(fs));
	mp->mnt_data = fs;
	mp->mnt_kflag |= MNTK_READSELF;	/* ext2_read holds the fs lock */
	return 0;
}

static int
ext2_vfs_unmount(struct mount *mp, int flags)
{
	(void)flags;
	int error = ext2_unmount(VFSTOEXT2(mp));
	if (error != EBUSY)
		mp->mnt_data = NULL;
	return error;
}

static int
ext2_vfs_root(struct mount *mp, struct vnode **vpp)
{
	return vcache_get(mp, ext2_root_ino(), vpp);
}

static int
ext2_vfs_statvfs(struct mount *mp, struct krs_statvfs *sv)
{
	struct ext2_statfs st;
	ext2_statfs(VFSTOEXT2(mp), &st);
	sv->f_bsize = sv->f_frsize = st.bsize;
	sv->f_blocks = st.blocks;
	sv->f_bfree = st.bfree;
	sv->f_bavail = st.bavail;
	sv->f_files = st.files;
	sv->f_ffree = sv->f_favail = st.ffree;
	sv->f_namemax = st.namemax;
	return 0;
}

static int
ext2_vfs_sync(struct mount *mp, int waitfor)
{
	(void)waitfor;
	return ext2_sync(VFSTOEXT2(mp));
}

static int
ext2_vfs_loadvnode(struct mount *mp, struct vnode *vp, uint64_t key)
{
	struct ext2_inode *ip;
	struct ext2_attr a;
	int error;

	if (key > UINT32_MAX)
		return EINVAL;
	error = ext2_iget(VFSTOEXT2(mp), (uint32_t)key, &ip);
	if (error != 0)
		return ext2_logerr(mp, error);
	ext2_getattr(ip, &a);
	vp->v_data = ip;
	vp->v_type = mode2vtype(a.mode);
	vp->v_op = &ext2_vnodeops;
	return 0;
}

static const struct vfsops ext2_vfsops = {
	.vfs_name = "ext2",
	.vfs_mount = ext2_vfs_mount,
	.vfs_unmount = ext2_vfs_unmount,
	.vfs_root = ext2_vfs_root,
	.vfs_statvfs = ext2_vfs_statvfs,
	.vfs_sync = ext2_vfs_sync,
	.vfs_loadvnode = ext2_vfs_loadvnode,
};

static int
ext2_modinit(void)
{
	return vfs_register(&ext2_vfsops);
}

static void
ext2_modfini(void)
{
	vfs_unregister(&ext2_vfsops);
}

RUMPDRV_COMPONENT(ext2, "ext2", "vfs", ext2_modinit, ext2_modfini);
