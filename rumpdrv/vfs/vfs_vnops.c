/*
 * vfs_vnops.c - the file operations of vnode files (NetBSD's vn_read,
 * vn_write, vn_stat, vn_close): what the descriptor calls do when the
 * descriptor names a file of a file system.
 */
#include <string.h>

#include "vfs/vfs_int.h"

static int
vn_rdwr(struct file *fp, struct uio *uio, int flags)
{
	struct vnode *vp = fp->f_vnode;
	bool useoff = (flags & FOF_UPDATE_OFFSET) != 0;
	int error;

	if (vp->v_type == VDIR)
		return EISDIR;
	if (vp->v_type != VREG && vp->v_type != VLNK)
		return EOPNOTSUPP;
	if (useoff) {
		mutex_enter(&fp->f_lock);
		uio->uio_offset = fp->f_offset;
	}
	if (uio->uio_rw == UIO_READ) {
		/* Files of a MNTK_READSELF mount lock their own reads. */
		bool nolock = (vp->v_mount->mnt_kflag & MNTK_READSELF) &&
		    uio->uio_iovcnt == 1;
		if (!nolock)
			rw_enter(&vp->v_lock, RW_READER);
		error = vp->v_op->vop_read(vp, uio, 0);
		if (!nolock)
			rw_exit(&vp->v_lock);
	} else {
		int ioflag = 0;
		if ((fp->f_flag & KRS_O_APPEND) && useoff)
			ioflag |= IO_APPEND;
		if (fp->f_flag & (KRS_O_SYNC | KRS_O_DSYNC))
			ioflag |= IO_SYNC;
		rw_enter(&vp->v_lock, RW_WRITER);
		if (vp->v_mount->mnt_flag & MNT_RDONLY)
			error = EROFS;
		else
			error = vp->v_op->vop_write(vp, uio, ioflag);
		rw_exit(&vp->v_lock);
	}
	if (useoff) {
		fp->f_offset = uio->uio_offset;
		mutex_exit(&fp->f_lock);
	}
	return error;
}

void vattr_to_stat(struct vnode *vp, const struct vattr *va, struct krs_stat *st);

void
vattr_to_stat(struct vnode *vp, const struct vattr *va, struct krs_stat *st)
{
	static const uint32_t typebits[] = {
		[VNON] = 0, [VREG] = KRS_S_IFREG, [VDIR] = KRS_S_IFDIR,
		[VBLK] = KRS_S_IFBLK, [VCHR] = KRS_S_IFCHR, [VLNK] = KRS_S_IFLNK,
		[VSOCK] = KRS_S_IFSOCK, [VFIFO] = KRS_S_IFIFO, [VBAD] = 0,
	};
	memset(st, 0, sizeof(*st));
	st->st_dev = vp->v_mount->mnt_id;
	st->st_ino = va->va_fileid;
	st->st_mode = typebits[vp->v_type] | (va->va_mode & 07777);
	st->st_nlink = va->va_nlink;
	st->st_uid = va->va_uid;
	st->st_gid = va->va_gid;
	st->st_rdev = va->va_rdev;
	st->st_size = (int64_t)va->va_size;
	st->st_blocks = (int64_t)((va->va_bytes + 511) / 512);
	st->st_blksize = va->va_blocksize ? va->va_blocksize : 4096;
	st->st_atim.tv_sec = va->va_atime.tv_sec;
	st->st_atim.tv_nsec = va->va_atime.tv_nsec;
	st->st_mtim.tv_sec = va->va_mtime.tv_sec;
	st->st_mtim.tv_nsec = va->va_mtime.tv_nsec;
	st->st_ctim.tv_sec = va->va_ctime.tv_sec;
	st->st_ctim.tv_nsec = va->va_ctime.tv_nsec;
	st->st_birthtim.tv_sec = va->va_birthtime.tv_sec;
	st->st_birthtim.tv_nsec = va->va_birthtime.tv_nsec;
}

int
vn_stat(struct vnode *vp, struct krs_stat *st)
{
	struct vattr va;
	int error = vfs_getattr(vp, &va);
	if (error == 0)
		vattr_to_stat(vp, &va, st);
	return error;
}

static int
vn_fo_stat(struct file *fp, struct krs_stat *st)
{
	return vn_stat(fp->f_vnode, st);
}

/* Files of a file system never block: always readable and writable. */
static int
vn_poll(struct file *fp, int events)
{
	(void)fp;
	return events & (KRS_POLLIN | KRS_POLLOUT | KRS_POLLRDNORM |
	    KRS_POLLWRNORM);
}

static void
vn_close(struct file *fp)
{
	struct vnode *vp = fp->f_vnode;
	if (vp->v_op->vop_close != NULL)
		vp->v_op->vop_close(vp, fp->f_flag);
	vrele(vp);
}

const struct fileops vnops = {
	.fo_read = vn_rdwr,
	.fo_write = vn_rdwr,
	.fo_poll = vn_poll,
	.fo_stat = vn_fo_stat,
	.fo_close = vn_close,
};
