/*
 * vfs_descrip.c - open files and per-context descriptor tables, and the
 * descriptor system calls (close, read/write and their p/v forms, lseek,
 * ftruncate, fsync, dup, dup2, fstat, getdents).
 */
#include <string.h>

#include "vfs/vfs_int.h"

#define FD_INITIAL	64
#define FD_MAX		65536

struct filedesc *
fd_create(void)
{
	struct filedesc *fdp = kmem_zalloc(sizeof(*fdp), KM_SLEEP);
	fdp->fd_nfiles = FD_INITIAL;
	fdp->fd_ofiles = kmem_zalloc(sizeof(struct file *) * FD_INITIAL, KM_SLEEP);
	fdp->fd_cloexec = kmem_zalloc(FD_INITIAL, KM_SLEEP);
	return fdp;
}

void
fd_destroy(struct filedesc *fdp)
{
	for (int i = 0; i < fdp->fd_nfiles; i++)
		if (fdp->fd_ofiles[i] != NULL)
			file_release(fdp->fd_ofiles[i]);
	kmem_free(fdp->fd_ofiles, sizeof(struct file *) * (size_t)fdp->fd_nfiles);
	kmem_free(fdp->fd_cloexec, (size_t)fdp->fd_nfiles);
	kmem_free(fdp, sizeof(*fdp));
}

struct file *
file_alloc(struct vnode *vp, int flags)
{
	struct file *fp = kmem_zalloc(sizeof(*fp), KM_SLEEP);
	fp->f_count = 1;
	fp->f_flag = flags;
	fp->f_vnode = vp;
	mutex_init(&fp->f_lock, MUTEX_DEFAULT, IPL_NONE);
	return fp;
}

void
file_release(struct file *fp)
{
	if (__atomic_sub_fetch(&fp->f_count, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	struct vnode *vp = fp->f_vnode;
	if (vp->v_op->vop_close != NULL)
		vp->v_op->vop_close(vp, fp->f_flag);
	vrele(vp);
	mutex_destroy(&fp->f_lock);
	kmem_free(fp, sizeof(*fp));
}

/* Install fp (the caller's reference moves in) at the lowest fd >= minfd. */
int
fd_alloc(struct filedesc *fdp, struct file *fp, int minfd, bool cloexec,
    int *fdout)
{
	for (;;) {
		kspin_enter(&fdp->fd_lock);
		for (int i = minfd; i < fdp->fd_nfiles; i++) {
			if (fdp->fd_ofiles[i] == NULL) {
				fdp->fd_ofiles[i] = fp;
				fdp->fd_cloexec[i] = cloexec;
				kspin_exit(&fdp->fd_lock);
				*fdout = i;
				return 0;
			}
		}
		int n = fdp->fd_nfiles;
		kspin_exit(&fdp->fd_lock);
		if (n >= FD_MAX || minfd >= FD_MAX)
			return EMFILE;
		/* Grow (allocation outside the spinlock), then retry. */
		int nn = n * 2;
		while (nn <= minfd)
			nn *= 2;
		if (nn > FD_MAX)
			nn = FD_MAX;
		struct file **nf = kmem_zalloc(sizeof(*nf) * (size_t)nn, KM_SLEEP);
		unsigned char *nc = kmem_zalloc((size_t)nn, KM_SLEEP);
		kspin_enter(&fdp->fd_lock);
		if (fdp->fd_nfiles == n) {
			memcpy(nf, fdp->fd_ofiles, sizeof(*nf) * (size_t)n);
			memcpy(nc, fdp->fd_cloexec, (size_t)n);
			struct file **of = fdp->fd_ofiles;
			unsigned char *oc = fdp->fd_cloexec;
			fdp->fd_ofiles = nf;
			fdp->fd_cloexec = nc;
			fdp->fd_nfiles = nn;
			kspin_exit(&fdp->fd_lock);
			kmem_free(of, sizeof(*of) * (size_t)n);
			kmem_free(oc, (size_t)n);
		} else {
			kspin_exit(&fdp->fd_lock);
			kmem_free(nf, sizeof(*nf) * (size_t)nn);
			kmem_free(nc, (size_t)nn);
		}
	}
}

int
fd_getfile(int fd, struct file **fpp)
{
	struct filedesc *fdp = curproc->p_fd;
	struct file *fp = NULL;

	if (fdp == NULL)
		return EBADF;
	kspin_enter(&fdp->fd_lock);
	if (fd >= 0 && fd < fdp->fd_nfiles && (fp = fdp->fd_ofiles[fd]) != NULL)
		__atomic_fetch_add(&fp->f_count, 1, __ATOMIC_RELAXED);
	kspin_exit(&fdp->fd_lock);
	*fpp = fp;
	return fp != NULL ? 0 : EBADF;
}

int
vfs_init_proc0(void)
{
	proc0.p_fd = fd_create();
	return 0;
}

int
vfs_proc_fork(struct proc *parent, struct proc *child)
{
	mutex_enter(&parent->p_lock);
	child->p_cwd = parent->p_cwd;
	if (child->p_cwd != NULL)
		vref(child->p_cwd);
	child->p_umask = parent->p_umask;
	mutex_exit(&parent->p_lock);
	child->p_fd = fd_create();
	return 0;
}

void
vfs_proc_exit(struct proc *p)
{
	if (p->p_fd != NULL) {
		fd_destroy(p->p_fd);
		p->p_fd = NULL;
	}
	if (p->p_cwd != NULL) {
		vrele(p->p_cwd);
		p->p_cwd = NULL;
	}
}

KRS_EXPORT int
krs_close(int fd)
{
	VFS_ENTER();
	struct filedesc *fdp = curproc->p_fd;
	struct file *fp = NULL;

	if (fdp == NULL)
		return krs_fail(EBADF);
	kspin_enter(&fdp->fd_lock);
	if (fd >= 0 && fd < fdp->fd_nfiles) {
		fp = fdp->fd_ofiles[fd];
		fdp->fd_ofiles[fd] = NULL;
	}
	kspin_exit(&fdp->fd_lock);
	if (fp == NULL)
		return krs_fail(EBADF);
	file_release(fp);
	return 0;
}

/* One read or write through fp; off < 0 means the file offset. */
static ssize_t
fileio(int fd, struct krs_iovec *iov, int iovcnt, int64_t off, enum uio_rw rw)
{
	struct file *fp;
	struct vnode *vp;
	struct uio uio;
	size_t total = 0;
	int error;
	bool useoff = off < 0;

	if (iovcnt < 0 || iovcnt > 1024)
		return krs_fail(EINVAL);
	if (iovcnt > 0 && iov == NULL)
		return krs_fail(EFAULT);
	for (int i = 0; i < iovcnt; i++) {
		if (iov[i].iov_base == NULL && iov[i].iov_len > 0)
			return krs_fail(EFAULT);
		if (iov[i].iov_len > (size_t)INT64_MAX - total)
			return krs_fail(EINVAL);
		total += iov[i].iov_len;
	}
	if ((error = fd_getfile(fd, &fp)) != 0)
		return krs_fail(error);
	vp = fp->f_vnode;
	int acc = fp->f_flag & KRS_O_ACCMODE;
	if (rw == UIO_READ ? acc == KRS_O_WRONLY : acc == KRS_O_RDONLY) {
		error = EBADF;
		goto out;
	}
	if (vp->v_type == VDIR) {
		error = EISDIR;
		goto out;
	}
	if (vp->v_type != VREG && vp->v_type != VLNK) {
		error = EOPNOTSUPP;
		goto out;
	}
	uio.uio_iov = iov;
	uio.uio_iovcnt = iovcnt;
	uio.uio_resid = total;
	uio.uio_rw = rw;
	if (useoff) {
		mutex_enter(&fp->f_lock);
		uio.uio_offset = fp->f_offset;
	} else {
		uio.uio_offset = off;
	}
	if (rw == UIO_READ) {
		rw_enter(&vp->v_lock, RW_READER);
		error = vp->v_op->vop_read(vp, &uio, 0);
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
			error = vp->v_op->vop_write(vp, &uio, ioflag);
	}
	rw_exit(&vp->v_lock);
	if (useoff) {
		fp->f_offset = uio.uio_offset;
		mutex_exit(&fp->f_lock);
	}
	/* A partial transfer reports the bytes moved, not the error. */
	if (error != 0 && uio.uio_resid != total)
		error = 0;
out:
	file_release(fp);
	if (error)
		return krs_fail(error);
	return (ssize_t)(total - uio.uio_resid);
}

KRS_EXPORT ssize_t
krs_read(int fd, void *buf, size_t len)
{
	VFS_ENTER();
	struct krs_iovec iov = { buf, len };
	return fileio(fd, &iov, 1, -1, UIO_READ);
}

KRS_EXPORT ssize_t
krs_write(int fd, const void *buf, size_t len)
{
	VFS_ENTER();
	struct krs_iovec iov = { (void *)(uintptr_t)buf, len };
	return fileio(fd, &iov, 1, -1, UIO_WRITE);
}

KRS_EXPORT ssize_t
krs_pread(int fd, void *buf, size_t len, int64_t off)
{
	VFS_ENTER();
	struct krs_iovec iov = { buf, len };
	if (off < 0)
		return krs_fail(EINVAL);
	return fileio(fd, &iov, 1, off, UIO_READ);
}

KRS_EXPORT ssize_t
krs_pwrite(int fd, const void *buf, size_t len, int64_t off)
{
	VFS_ENTER();
	struct krs_iovec iov = { (void *)(uintptr_t)buf, len };
	if (off < 0)
		return krs_fail(EINVAL);
	return fileio(fd, &iov, 1, off, UIO_WRITE);
}

static ssize_t
fileiov(int fd, const struct krs_iovec *iov, int iovcnt, enum uio_rw rw)
{
	struct krs_iovec small[16], *copy = small;
	if (iovcnt < 0 || iovcnt > 1024)
		return krs_fail(EINVAL);
	if (iovcnt > 0 && iov == NULL)
		return krs_fail(EFAULT);
	if (iovcnt > 16)
		copy = kmem_alloc(sizeof(*copy) * (size_t)iovcnt, KM_SLEEP);
	memcpy(copy, iov, sizeof(*copy) * (size_t)iovcnt);
	ssize_t rv = fileio(fd, copy, iovcnt, -1, rw);
	if (copy != small)
		kmem_free(copy, sizeof(*copy) * (size_t)iovcnt);
	return rv;
}

KRS_EXPORT ssize_t
krs_readv(int fd, const struct krs_iovec *iov, int iovcnt)
{
	VFS_ENTER();
	return fileiov(fd, iov, iovcnt, UIO_READ);
}

KRS_EXPORT ssize_t
krs_writev(int fd, const struct krs_iovec *iov, int iovcnt)
{
	VFS_ENTER();
	return fileiov(fd, iov, iovcnt, UIO_WRITE);
}

KRS_EXPORT int64_t
krs_lseek(int fd, int64_t off, int whence)
{
	VFS_ENTER();
	struct file *fp;
	struct vattr va;
	int64_t base, noff = 0;
	int error;

	if ((error = fd_getfile(fd, &fp)) != 0)
		return krs_fail(error);
	mutex_enter(&fp->f_lock);
	switch (whence) {
	case KRS_SEEK_SET:
		base = 0;
		break;
	case KRS_SEEK_CUR:
		base = fp->f_offset;
		break;
	case KRS_SEEK_END:
		error = vfs_getattr(fp->f_vnode, &va);
		base = (int64_t)va.va_size;
		break;
	default:
		error = EINVAL;
		base = 0;
	}
	if (error == 0) {
		if ((off > 0 && base > INT64_MAX - off))
			error = EOVERFLOW;
		else if ((noff = base + off) < 0)
			error = EINVAL;
		else
			fp->f_offset = noff;
	}
	mutex_exit(&fp->f_lock);
	file_release(fp);
	return error ? krs_fail(error) : noff;
}

KRS_EXPORT int
krs_ftruncate(int fd, int64_t len)
{
	VFS_ENTER();
	struct file *fp;
	struct vattr va;
	int error;

	if (len < 0)
		return krs_fail(EINVAL);
	if ((error = fd_getfile(fd, &fp)) != 0)
		return krs_fail(error);
	struct vnode *vp = fp->f_vnode;
	if ((fp->f_flag & KRS_O_ACCMODE) == KRS_O_RDONLY)
		error = EINVAL;
	else if (vp->v_type != VREG)
		error = EINVAL;
	else if (vp->v_mount->mnt_flag & MNT_RDONLY)
		error = EROFS;
	else {
		vattr_null(&va);
		va.va_mask = VA_SIZE;
		va.va_size = (uint64_t)len;
		rw_enter(&vp->v_lock, RW_WRITER);
		error = vp->v_op->vop_setattr(vp, &va);
		rw_exit(&vp->v_lock);
	}
	file_release(fp);
	return error ? krs_fail(error) : 0;
}

KRS_EXPORT int
krs_fsync(int fd)
{
	VFS_ENTER();
	struct file *fp;
	int error;
	if ((error = fd_getfile(fd, &fp)) != 0)
		return krs_fail(error);
	struct vnode *vp = fp->f_vnode;
	rw_enter(&vp->v_lock, RW_WRITER);
	error = vp->v_op->vop_fsync(vp, 0);
	rw_exit(&vp->v_lock);
	file_release(fp);
	return error ? krs_fail(error) : 0;
}

KRS_EXPORT int
krs_dup(int fd)
{
	VFS_ENTER();
	struct file *fp;
	int error, nfd;
	if ((error = fd_getfile(fd, &fp)) != 0)
		return krs_fail(error);
	if ((error = fd_alloc(curproc->p_fd, fp, 0, false, &nfd)) != 0) {
		file_release(fp);
		return krs_fail(error);
	}
	return nfd;
}

KRS_EXPORT int
krs_dup2(int fd, int newfd)
{
	VFS_ENTER();
	struct filedesc *fdp = curproc->p_fd;
	struct file *fp, *old = NULL;
	int error, got;

	if ((error = fd_getfile(fd, &fp)) != 0)
		return krs_fail(error);
	if (newfd < 0 || newfd >= FD_MAX) {
		file_release(fp);
		return krs_fail(EBADF);
	}
	if (fd == newfd) {
		file_release(fp);
		return newfd;
	}
	for (;;) {
		kspin_enter(&fdp->fd_lock);
		if (newfd < fdp->fd_nfiles) {
			old = fdp->fd_ofiles[newfd];
			fdp->fd_ofiles[newfd] = fp;
			fdp->fd_cloexec[newfd] = 0;
			kspin_exit(&fdp->fd_lock);
			break;
		}
		kspin_exit(&fdp->fd_lock);
		/* Grow the table to cover newfd, then retry. */
		if ((error = fd_alloc(fdp, fp, newfd, false, &got)) != 0) {
			file_release(fp);
			return krs_fail(error);
		}
		if (got == newfd)
			return newfd;
		/* Someone else took it in between: undo and retry. */
		kspin_enter(&fdp->fd_lock);
		fdp->fd_ofiles[got] = NULL;
		kspin_exit(&fdp->fd_lock);
	}
	if (old != NULL)
		file_release(old);
	return newfd;
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

KRS_EXPORT int
krs_fstat(int fd, struct krs_stat *st)
{
	VFS_ENTER();
	struct file *fp;
	struct vattr va;
	int error;
	if (st == NULL)
		return krs_fail(EFAULT);
	if ((error = fd_getfile(fd, &fp)) != 0)
		return krs_fail(error);
	error = vfs_getattr(fp->f_vnode, &va);
	if (error == 0)
		vattr_to_stat(fp->f_vnode, &va, st);
	file_release(fp);
	return error ? krs_fail(error) : 0;
}

struct getdents_state {
	char *buf;
	size_t len, used;
	int count;
};

static int
getdents_fill(void *arg, const char *name, size_t namelen, uint64_t ino,
    enum vtype type, int64_t nextoff)
{
	static const uint8_t dt[] = {
		[VNON] = KRS_DT_UNKNOWN, [VREG] = KRS_DT_REG, [VDIR] = KRS_DT_DIR,
		[VBLK] = KRS_DT_BLK, [VCHR] = KRS_DT_CHR, [VLNK] = KRS_DT_LNK,
		[VSOCK] = KRS_DT_SOCK, [VFIFO] = KRS_DT_FIFO, [VBAD] = 0,
	};
	struct getdents_state *gs = arg;
	size_t reclen = (offsetof(struct krs_dirent, d_name) + namelen + 1 + 7) &
	    ~(size_t)7;
	if (gs->used + reclen > gs->len)
		return 1;
	struct krs_dirent *d = (struct krs_dirent *)(gs->buf + gs->used);
	d->d_ino = ino;
	d->d_off = nextoff;
	d->d_reclen = (uint16_t)reclen;
	d->d_type = (unsigned)type <= VBAD ? dt[type] : KRS_DT_UNKNOWN;
	memcpy(d->d_name, name, namelen);
	memset(d->d_name + namelen, 0, reclen -
	    offsetof(struct krs_dirent, d_name) - namelen);
	gs->used += reclen;
	gs->count++;
	return 0;
}

KRS_EXPORT ssize_t
krs_getdents(int fd, void *buf, size_t len)
{
	VFS_ENTER();
	struct file *fp;
	struct getdents_state gs = { buf, len, 0, 0 };
	bool eof = false;
	int error;

	if (buf == NULL)
		return krs_fail(EFAULT);
	if ((error = fd_getfile(fd, &fp)) != 0)
		return krs_fail(error);
	struct vnode *vp = fp->f_vnode;
	if (vp->v_type != VDIR) {
		file_release(fp);
		return krs_fail(ENOTDIR);
	}
	mutex_enter(&fp->f_lock);
	int64_t off = fp->f_offset;
	rw_enter(&vp->v_mount->mnt_nslock, RW_READER);
	rw_enter(&vp->v_lock, RW_READER);
	error = vp->v_op->vop_readdir(vp, &off, getdents_fill, &gs, &eof);
	rw_exit(&vp->v_lock);
	rw_exit(&vp->v_mount->mnt_nslock);
	fp->f_offset = off;
	mutex_exit(&fp->f_lock);
	file_release(fp);
	if (error == 0 && gs.count == 0 && !eof)
		error = EINVAL;		/* buffer too small for one entry */
	return error ? krs_fail(error) : (ssize_t)gs.used;
}
