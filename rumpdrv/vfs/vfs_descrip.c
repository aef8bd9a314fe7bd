/*
 * vfs_descrip.c - open files and per-context descriptor tables, and the
 * descriptor system calls (close, read/write and their p/v forms, lseek,
 * ftruncate, fsync, dup, dup2, fcntl, fstat, poll, getdents).  A file is
 * a vnode or an object of another component behind its fileops
 * (vfs_file.h); only the calls that need a vnode look inside.
 *
 * Looking a descriptor up (fd_getfile, every call on a descriptor) takes
 * no lock: a lock in the table would be a line that every thread of a
 * context writes on every call (two threads on two CPUs passed it back
 * and forth at each send and receive).  As Linux's files_lookup_fd_rcu
 * with get_file_rcu, the lookup reads the slot, takes a reference only if
 * the file's count is not 0, and reads the slot again: if it holds the
 * same file, the reference is good; else it is dropped and the lookup
 * retried.  That needs a file's memory to stay a file: released files go
 * to a free list of their own (file_cache, kept for reuse like kmem's
 * slabs), never to kmem, and keep f_count 0 there; and a table's slots
 * to stay readable: an outgrown fd_ofiles is kept until the table is
 * destroyed (the sizes double, so that is under the final size).  The
 * slots, fd_ofiles and fd_nfiles are stored atomically (release), under
 * fd_lock as before; fd_ofiles before fd_nfiles when a table grows, so a
 * lookup that sees the new size sees the new array.
 */
#include <stdarg.h>
#include <string.h>

#include "vfs/vfs_int.h"

#define FD_INITIAL	64
#define FD_MAX		65536

struct fd_oldtab {
	struct fd_oldtab *next;
	struct file **tab;
	int n;
};

/* Released files, for reuse (see the top); linked through f_data. */
static kspin_t file_cache_lock;
static struct file *file_cache;

/* Every table, for fd_closeall_ops.  Taken before any fd_lock. */
static kmutex_t fdlist_lock;
static struct filedesc *fdlist;

void
fdlist_init(void)
{
	mutex_init(&fdlist_lock, MUTEX_DEFAULT, IPL_NONE);
}

void
fdlist_fini(void)
{
	mutex_destroy(&fdlist_lock);
	/* Every table is gone: no lookup can look at these any more. */
	while (file_cache != NULL) {
		struct file *fp = file_cache;
		file_cache = fp->f_data;
		kmem_free(fp, sizeof(*fp));
	}
}

struct filedesc *
fd_create(void)
{
	struct filedesc *fdp = kmem_zalloc(sizeof(*fdp), KM_SLEEP);
	fdp->fd_nfiles = FD_INITIAL;
	fdp->fd_limit = FD_MAX;
	fdp->fd_ofiles = kmem_zalloc(sizeof(struct file *) * FD_INITIAL, KM_SLEEP);
	fdp->fd_cloexec = kmem_zalloc(FD_INITIAL, KM_SLEEP);
	mutex_enter(&fdlist_lock);
	fdp->fd_next = fdlist;
	if (fdlist != NULL)
		fdlist->fd_prev = fdp;
	fdlist = fdp;
	mutex_exit(&fdlist_lock);
	return fdp;
}

void
fd_destroy(struct filedesc *fdp)
{
	mutex_enter(&fdlist_lock);
	if (fdp->fd_prev != NULL)
		fdp->fd_prev->fd_next = fdp->fd_next;
	else
		fdlist = fdp->fd_next;
	if (fdp->fd_next != NULL)
		fdp->fd_next->fd_prev = fdp->fd_prev;
	mutex_exit(&fdlist_lock);
	for (int i = 0; i < fdp->fd_nfiles; i++)
		if (fdp->fd_ofiles[i] != NULL)
			file_release(fdp->fd_ofiles[i]);
	kmem_free(fdp->fd_ofiles, sizeof(struct file *) * (size_t)fdp->fd_nfiles);
	while (fdp->fd_old != NULL) {
		struct fd_oldtab *o = fdp->fd_old;
		fdp->fd_old = o->next;
		kmem_free(o->tab, sizeof(struct file *) * (size_t)o->n);
		kmem_free(o, sizeof(*o));
	}
	kmem_free(fdp->fd_cloexec, (size_t)fdp->fd_nfiles);
	kmem_free(fdp, sizeof(*fdp));
}

struct file *
file_alloc_ops(const struct fileops *ops, int type, void *data, int flags)
{
	kspin_enter(&file_cache_lock);
	struct file *fp = file_cache;
	if (fp != NULL)
		file_cache = fp->f_data;
	kspin_exit(&file_cache_lock);
	if (fp == NULL)
		fp = kmem_zalloc(sizeof(*fp), KM_SLEEP);
	/* A lookup with a stale slot may look at f_count (only): it stays
	 * 0 until the rest is set. */
	fp->f_vnode = NULL;
	fp->f_offset = 0;
	fp->f_flag = flags;
	fp->f_type = type;
	fp->f_ops = ops;
	fp->f_data = data;
	mutex_init(&fp->f_lock, MUTEX_DEFAULT, IPL_NONE);
	__atomic_store_n(&fp->f_count, 1, __ATOMIC_RELEASE);
	return fp;
}

struct file *
file_alloc(struct vnode *vp, int flags)
{
	struct file *fp = file_alloc_ops(&vnops, DTYPE_VNODE, NULL, flags);
	fp->f_vnode = vp;
	return fp;
}

void
file_release(struct file *fp)
{
	if (__atomic_sub_fetch(&fp->f_count, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	fp->f_ops->fo_close(fp);
	mutex_destroy(&fp->f_lock);
	kspin_enter(&file_cache_lock);
	fp->f_data = file_cache;
	file_cache = fp;
	kspin_exit(&file_cache_lock);
}

int
fd_allocfile(struct file *fp, bool cloexec, int *fdout)
{
	if (!__atomic_load_n(&vfs_up, __ATOMIC_ACQUIRE))
		return ENOSYS;
	struct filedesc *fdp = curproc->p_fd;
	if (fdp == NULL)
		return EBADF;
	return fd_alloc(fdp, fp, 0, cloexec, fdout);
}

void
fd_closeall_ops(const struct fileops *ops)
{
	mutex_enter(&fdlist_lock);
	for (struct filedesc *fdp = fdlist; fdp != NULL; fdp = fdp->fd_next) {
		for (int i = 0;; i++) {
			struct file *fp = NULL;
			kspin_enter(&fdp->fd_lock);
			if (i >= fdp->fd_nfiles) {
				kspin_exit(&fdp->fd_lock);
				break;
			}
			if (fdp->fd_ofiles[i] != NULL &&
			    fdp->fd_ofiles[i]->f_ops == ops) {
				fp = fdp->fd_ofiles[i];
				__atomic_store_n(&fdp->fd_ofiles[i], NULL,
				    __ATOMIC_RELEASE);
			}
			kspin_exit(&fdp->fd_lock);
			if (fp != NULL)
				file_release(fp);
		}
	}
	mutex_exit(&fdlist_lock);
}

/* Install fp (the caller's reference moves in) at the lowest fd >= minfd. */
int
fd_alloc(struct filedesc *fdp, struct file *fp, int minfd, bool cloexec,
    int *fdout)
{
	for (;;) {
		kspin_enter(&fdp->fd_lock);
		int lim = fdp->fd_limit;
		if (minfd >= lim) {
			kspin_exit(&fdp->fd_lock);
			return EMFILE;
		}
		for (int i = minfd; i < fdp->fd_nfiles && i < lim; i++) {
			if (fdp->fd_ofiles[i] == NULL) {
				__atomic_store_n(&fdp->fd_ofiles[i], fp,
				    __ATOMIC_RELEASE);
				fdp->fd_cloexec[i] = cloexec;
				kspin_exit(&fdp->fd_lock);
				*fdout = i;
				return 0;
			}
		}
		int n = fdp->fd_nfiles;
		kspin_exit(&fdp->fd_lock);
		if (n >= lim || n >= FD_MAX || minfd >= FD_MAX)
			return EMFILE;
		/* Grow (allocation outside the spinlock), then retry. */
		int nn = n * 2;
		while (nn <= minfd)
			nn *= 2;
		if (nn > FD_MAX)
			nn = FD_MAX;
		/* A table above KMEM_WAIT_MAX is not waited for: without
		 * memory the caller gets ENOMEM, as Linux's expand_files. */
		struct file **nf = kmem_zalloc(sizeof(*nf) * (size_t)nn, KM_SLEEP);
		unsigned char *nc = kmem_zalloc((size_t)nn, KM_SLEEP);
		struct fd_oldtab *ot = kmem_alloc(sizeof(*ot), KM_SLEEP);
		if (nf == NULL || nc == NULL || ot == NULL) {
			if (nf != NULL)
				kmem_free(nf, sizeof(*nf) * (size_t)nn);
			if (nc != NULL)
				kmem_free(nc, (size_t)nn);
			if (ot != NULL)
				kmem_free(ot, sizeof(*ot));
			return ENOMEM;
		}
		kspin_enter(&fdp->fd_lock);
		if (fdp->fd_nfiles == n) {
			memcpy(nf, fdp->fd_ofiles, sizeof(*nf) * (size_t)n);
			memcpy(nc, fdp->fd_cloexec, (size_t)n);
			unsigned char *oc = fdp->fd_cloexec;
			ot->tab = fdp->fd_ofiles;	/* lookups may read it */
			ot->n = n;
			ot->next = fdp->fd_old;
			fdp->fd_old = ot;
			__atomic_store_n(&fdp->fd_ofiles, nf, __ATOMIC_RELEASE);
			fdp->fd_cloexec = nc;
			__atomic_store_n(&fdp->fd_nfiles, nn, __ATOMIC_RELEASE);
			kspin_exit(&fdp->fd_lock);
			kmem_free(oc, (size_t)n);
		} else {
			kspin_exit(&fdp->fd_lock);
			kmem_free(nf, sizeof(*nf) * (size_t)nn);
			kmem_free(nc, (size_t)nn);
			kmem_free(ot, sizeof(*ot));
		}
	}
}

/* What the calling context's slot fd holds now (NULL: none, or fd out of
 * range), unreferenced: see the top of the file. */
struct file *
fd_peekfile(int fd)
{
	struct filedesc *fdp = curproc->p_fd;

	if (fdp == NULL || fd < 0 || fd >= __atomic_load_n(&fdp->fd_nfiles,
	    __ATOMIC_ACQUIRE))
		return NULL;
	struct file **tab = __atomic_load_n(&fdp->fd_ofiles, __ATOMIC_ACQUIRE);
	return __atomic_load_n(&tab[fd], __ATOMIC_ACQUIRE);
}

int
fd_getfile(int fd, struct file **fpp)
{
	struct filedesc *fdp = curproc->p_fd;
	struct file *fp = NULL;

	if (fdp == NULL)
		return EBADF;
	/* See the top of the file. */
	for (;;) {
		*fpp = NULL;
		if ((fp = fd_peekfile(fd)) == NULL)
			return EBADF;
		unsigned c = __atomic_load_n(&fp->f_count, __ATOMIC_RELAXED);
		do {
			if (c == 0)
				break;		/* released meanwhile */
		} while (!__atomic_compare_exchange_n(&fp->f_count, &c, c + 1,
		    true, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED));
		if (c == 0)
			continue;
		if (fd_peekfile(fd) == fp) {
			*fpp = fp;
			return 0;
		}
		file_release(fp);	/* closed or replaced meanwhile */
	}
}

int
fd_getvnode(int fd, int notvnode, struct file **fpp)
{
	int error = fd_getfile(fd, fpp);
	if (error == 0 && (*fpp)->f_type != DTYPE_VNODE) {
		file_release(*fpp);
		error = notvnode;
	}
	return error;
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
	child->p_root = parent->p_root;
	if (child->p_root != NULL)
		vref(child->p_root);
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
	if (p->p_root != NULL) {
		vrele(p->p_root);
		p->p_root = NULL;
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
		__atomic_store_n(&fdp->fd_ofiles[fd], NULL, __ATOMIC_RELEASE);
	}
	kspin_exit(&fdp->fd_lock);
	if (fp == NULL)
		return krs_fail(EBADF);
	file_release(fp);
	return 0;
}

/*
 * krs_fd_transfer: the file gets a descriptor in `to` first (with a
 * reference of its own), and only then leaves `from`, so a failure leaves
 * everything as it was.  The slot in `from` is cleared only if it still
 * holds this file (a racing close or dup2 wins).
 */
KRS_EXPORT int
krs_fd_transfer(struct krs_ctx *from, int fd, struct krs_ctx *to, int flags)
{
	VFS_ENTER();
	struct proc *pf = from != NULL ? (struct proc *)from : curproc;
	struct proc *pt = to != NULL ? (struct proc *)to : curproc;
	struct filedesc *ff = pf->p_fd, *ft = pt->p_fd;
	struct file *fp = NULL, *old = NULL;
	int error, nfd;

	if (ff == NULL || ft == NULL)
		return krs_fail(EBADF);
	kspin_enter(&ff->fd_lock);
	if (fd >= 0 && fd < ff->fd_nfiles && (fp = ff->fd_ofiles[fd]) != NULL)
		__atomic_fetch_add(&fp->f_count, 1, __ATOMIC_RELAXED);
	kspin_exit(&ff->fd_lock);
	if (fp == NULL)
		return krs_fail(EBADF);
	if ((error = fd_alloc(ft, fp, 0, (flags & KRS_O_CLOEXEC) != 0,
	    &nfd)) != 0) {
		file_release(fp);
		return krs_fail(error);
	}
	kspin_enter(&ff->fd_lock);
	if (fd < ff->fd_nfiles && ff->fd_ofiles[fd] == fp &&
	    !(ff == ft && fd == nfd)) {
		old = fp;
		__atomic_store_n(&ff->fd_ofiles[fd], NULL, __ATOMIC_RELEASE);
	}
	kspin_exit(&ff->fd_lock);
	if (old != NULL)
		file_release(old);
	return nfd;
}

/* One read or write through fp; off < 0 means the file offset. */
static ssize_t
fileio(int fd, struct krs_iovec *iov, int iovcnt, int64_t off, enum uio_rw rw)
{
	struct file *fp;
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
	int acc = fp->f_flag & KRS_O_ACCMODE;
	if (rw == UIO_READ ? acc == KRS_O_WRONLY : acc == KRS_O_RDONLY) {
		error = EBADF;
		goto out;
	}
	if (!useoff && fp->f_type != DTYPE_VNODE) {
		error = ESPIPE;
		goto out;
	}
	uio.uio_iov = iov;
	uio.uio_iovcnt = iovcnt;
	uio.uio_resid = total;
	uio.uio_rw = rw;
	uio.uio_offset = useoff ? 0 : off;
	if (rw == UIO_READ)
		error = fp->f_ops->fo_read(fp, &uio, useoff ? FOF_UPDATE_OFFSET : 0);
	else
		error = fp->f_ops->fo_write(fp, &uio, useoff ? FOF_UPDATE_OFFSET : 0);
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
fileiov(int fd, const struct krs_iovec *iov, int iovcnt, int64_t off,
    enum uio_rw rw)
{
	struct krs_iovec small[16], *copy = small;
	if (iovcnt < 0 || iovcnt > 1024)
		return krs_fail(EINVAL);
	if (iovcnt > 0 && iov == NULL)
		return krs_fail(EFAULT);
	if (iovcnt > 16)
		copy = kmem_alloc(sizeof(*copy) * (size_t)iovcnt, KM_SLEEP);
	memcpy(copy, iov, sizeof(*copy) * (size_t)iovcnt);
	ssize_t rv = fileio(fd, copy, iovcnt, off, rw);
	if (copy != small)
		kmem_free(copy, sizeof(*copy) * (size_t)iovcnt);
	return rv;
}

KRS_EXPORT ssize_t
krs_readv(int fd, const struct krs_iovec *iov, int iovcnt)
{
	VFS_ENTER();
	return fileiov(fd, iov, iovcnt, -1, UIO_READ);
}

KRS_EXPORT ssize_t
krs_preadv(int fd, const struct krs_iovec *iov, int iovcnt, int64_t off)
{
	VFS_ENTER();
	if (off < 0)
		return krs_fail(EINVAL);
	return fileiov(fd, iov, iovcnt, off, UIO_READ);
}

KRS_EXPORT ssize_t
krs_writev(int fd, const struct krs_iovec *iov, int iovcnt)
{
	VFS_ENTER();
	return fileiov(fd, iov, iovcnt, -1, UIO_WRITE);
}

KRS_EXPORT int64_t
krs_lseek(int fd, int64_t off, int whence)
{
	VFS_ENTER();
	struct file *fp;
	struct vattr va;
	int64_t base, noff = 0;
	int error;

	if ((error = fd_getvnode(fd, ESPIPE, &fp)) != 0)
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
	if ((error = fd_getvnode(fd, EINVAL, &fp)) != 0)
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
	if ((error = fd_getvnode(fd, EINVAL, &fp)) != 0)
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
	if (newfd < 0 || newfd >= FD_MAX || newfd >= fdp->fd_limit) {
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
			__atomic_store_n(&fdp->fd_ofiles[newfd], fp,
			    __ATOMIC_RELEASE);
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
		__atomic_store_n(&fdp->fd_ofiles[got], NULL, __ATOMIC_RELEASE);
		kspin_exit(&fdp->fd_lock);
	}
	if (old != NULL)
		file_release(old);
	return newfd;
}

KRS_EXPORT int
krs_fstat(int fd, struct krs_stat *st)
{
	VFS_ENTER();
	struct file *fp;
	int error;
	if (st == NULL)
		return krs_fail(EFAULT);
	if ((error = fd_getfile(fd, &fp)) != 0)
		return krs_fail(error);
	error = fp->f_ops->fo_stat(fp, st);
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
	if ((error = fd_getvnode(fd, ENOTDIR, &fp)) != 0)
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

KRS_EXPORT int
krs_fcntl(int fd, int cmd, ...)
{
	VFS_ENTER();
	struct filedesc *fdp = curproc->p_fd;
	struct file *fp;
	int error, arg = 0, rv = 0;
	va_list ap;

	va_start(ap, cmd);
	if (cmd == KRS_F_SETFL || cmd == KRS_F_SETFD || cmd == KRS_F_DUPFD ||
	    cmd == KRS_F_DUPFD_CLOEXEC)
		arg = va_arg(ap, int);
	va_end(ap);
	if ((error = fd_getfile(fd, &fp)) != 0)
		return krs_fail(error);
	switch (cmd) {
	case KRS_F_GETFL:
		rv = __atomic_load_n(&fp->f_flag, __ATOMIC_RELAXED) &
		    (KRS_O_ACCMODE | KRS_O_APPEND | KRS_O_NONBLOCK |
		    KRS_O_SYNC | KRS_O_DSYNC);
		break;
	case KRS_F_SETFL: {
		const int settable = KRS_O_APPEND | KRS_O_NONBLOCK;
		int old = __atomic_load_n(&fp->f_flag, __ATOMIC_RELAXED), nfl;
		do
			nfl = (old & ~settable) | (arg & settable);
		while (!__atomic_compare_exchange_n(&fp->f_flag, &old, nfl,
		    false, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED));
		if (fp->f_ops->fo_setfl != NULL)
			error = fp->f_ops->fo_setfl(fp);
		break;
	}
	case KRS_F_GETFD:
	case KRS_F_SETFD:
		kspin_enter(&fdp->fd_lock);
		if (fd >= fdp->fd_nfiles || fdp->fd_ofiles[fd] != fp)
			error = EBADF;		/* closed meanwhile */
		else if (cmd == KRS_F_GETFD)
			rv = fdp->fd_cloexec[fd] ? KRS_FD_CLOEXEC : 0;
		else
			fdp->fd_cloexec[fd] = (arg & KRS_FD_CLOEXEC) != 0;
		kspin_exit(&fdp->fd_lock);
		break;
	case KRS_F_DUPFD:
	case KRS_F_DUPFD_CLOEXEC:
		if (arg < 0 || arg >= FD_MAX) {
			error = EINVAL;
			break;
		}
		/* The new descriptor takes over our reference. */
		error = fd_alloc(fdp, fp, arg, cmd == KRS_F_DUPFD_CLOEXEC, &rv);
		if (error == 0)
			return rv;
		break;
	default:
		error = EINVAL;
	}
	file_release(fp);
	return error ? krs_fail(error) : rv;
}

/*
 * poll: ask every file's fo_poll; if none is ready, sleep on the wakeup
 * generation of the file type that can become ready (sockets).  The
 * generation is read before that type's first fo_poll, so an event after
 * the look changes it and the wait returns at once.  Were two types with
 * different wakeups mixed, the wait on the first is cut into 10 ms slices
 * (types whose fo_pollwait is the same function, such as sockets and host
 * sockets, share one generation and do not count as mixed).
 */
KRS_EXPORT int
krs_poll(struct krs_pollfd *fds, unsigned nfds, int timeout_ms)
{
	VFS_ENTER();
	if (fds == NULL && nfds > 0)
		return krs_fail(EFAULT);
	if (nfds > FD_MAX)
		return krs_fail(EINVAL);
	uint64_t deadline = timeout_ms < 0 ? 0 :
	    kern_uptime_ns() + (uint64_t)timeout_ms * 1000000u;
	for (;;) {
		const struct fileops *wops = NULL;
		uint64_t gen = 0;
		bool mixed = false;
		int ready = 0;
		for (unsigned i = 0; i < nfds; i++) {
			struct file *fp;
			fds[i].revents = 0;
			if (fds[i].fd < 0)
				continue;
			if (fd_getfile(fds[i].fd, &fp) != 0) {
				fds[i].revents = KRS_POLLNVAL;
				ready++;
				continue;
			}
			const struct fileops *ops = fp->f_ops;
			if (ops->fo_pollwait != NULL) {
				if (wops == NULL) {
					wops = ops;
					gen = ops->fo_pollgen();
				} else if (wops->fo_pollwait !=
				    ops->fo_pollwait)
					mixed = true;	/* types sharing a
							 * generation do not mix */
			}
			int ev = (unsigned short)fds[i].events;
			int rev = ops->fo_poll(fp, ev);
			file_release(fp);
			fds[i].revents = (short)(rev & (ev | KRS_POLLERR |
			    KRS_POLLHUP | KRS_POLLNVAL));
			if (fds[i].revents != 0)
				ready++;
		}
		if (ready > 0 || timeout_ms == 0)
			return ready;
		uint64_t now = kern_uptime_ns();
		if (timeout_ms > 0 && now >= deadline)
			return 0;
		uint64_t until = timeout_ms < 0 ? 0 : deadline;
		if (wops == NULL) {
			/* Nothing here can become ready: only the timeout
			 * (or never, as poll(2) with no timeout) ends it. */
			kmutex_t m;
			kcondvar_t cv;
			mutex_init(&m, MUTEX_DEFAULT, IPL_NONE);
			cv_init(&cv, "poll");
			/* In slices of 100 ms: a context revoked meanwhile
			 * (its owner died) ends the wait with EBADF. */
			uint64_t ns = until == 0 || until - now > 100000000u ?
			    100000000u : until - now;
			mutex_enter(&m);
			(void)cv_timedwait_ns(&cv, &m, ns);
			mutex_exit(&m);
			cv_destroy(&cv);
			mutex_destroy(&m);
			if (krs_ctx_revoked(NULL))
				return krs_fail(EBADF);
			continue;
		}
		if (mixed && (until == 0 || until - now > 10000000u))
			until = now + 10000000u;
		wops->fo_pollwait(gen, until);
	}
}

/*
 * krs_ctx_revoke: the context's owner is gone (a foreign isolate that
 * died) while threads may still be inside calls on its behalf.  The
 * table stays (those threads still index it) but every file leaves it,
 * which wakes a call blocked on one (a socket's last close sets
 * SS_CLOSING and wakes its sleepers), and a limit of 0 makes every new
 * descriptor fail with EMFILE.  A limit of 0 can be set no other way, so
 * it is also the mark krs_ctx_revoked reads.
 */
KRS_EXPORT int
krs_ctx_revoke(struct krs_ctx *ctx)
{
	VFS_ENTER();
	struct proc *p = (struct proc *)ctx;
	struct filedesc *fdp = p != NULL ? p->p_fd : NULL;

	if (fdp == NULL)
		return krs_fail(EINVAL);
	kspin_enter(&fdp->fd_lock);
	fdp->fd_limit = 0;
	kspin_exit(&fdp->fd_lock);
	for (int i = 0;; i++) {
		struct file *fp = NULL;
		kspin_enter(&fdp->fd_lock);
		if (i >= fdp->fd_nfiles) {
			kspin_exit(&fdp->fd_lock);
			break;
		}
		fp = fdp->fd_ofiles[i];
		__atomic_store_n(&fdp->fd_ofiles[i], NULL, __ATOMIC_RELEASE);
		kspin_exit(&fdp->fd_lock);
		if (fp != NULL)
			file_release(fp);
	}
	return 0;
}

KRS_EXPORT int
krs_ctx_revoked(struct krs_ctx *ctx)
{
	if (!__atomic_load_n(&vfs_up, __ATOMIC_ACQUIRE))
		return 0;
	struct proc *p = ctx != NULL ? (struct proc *)ctx : curproc;
	struct filedesc *fdp = p->p_fd;
	if (fdp == NULL)
		return 0;
	kspin_enter(&fdp->fd_lock);
	int r = fdp->fd_limit == 0;
	kspin_exit(&fdp->fd_lock);
	return r;
}

/*
 * Descriptor limits and counts of a context (krs_ctx is a struct proc).
 * The limit applies to new descriptors; ones already above it stay open.
 */
KRS_EXPORT int
krs_ctx_set_fdlimit(struct krs_ctx *ctx, unsigned limit)
{
	VFS_ENTER();
	struct proc *p = ctx ? (struct proc *)ctx : curproc;
	struct filedesc *fdp = p->p_fd;

	if (fdp == NULL)
		return krs_fail(ENOSYS);
	if (limit == 0 || limit > FD_MAX)
		return krs_fail(EINVAL);
	kspin_enter(&fdp->fd_lock);
	fdp->fd_limit = (int)limit;
	kspin_exit(&fdp->fd_lock);
	return 0;
}

KRS_EXPORT int
krs_ctx_fdinfo(struct krs_ctx *ctx, unsigned *openp, unsigned *limitp)
{
	VFS_ENTER();
	struct proc *p = ctx ? (struct proc *)ctx : curproc;
	struct filedesc *fdp = p->p_fd;
	unsigned n = 0;

	if (fdp == NULL)
		return krs_fail(ENOSYS);
	kspin_enter(&fdp->fd_lock);
	for (int i = 0; i < fdp->fd_nfiles; i++)
		n += fdp->fd_ofiles[i] != NULL;
	if (limitp)
		*limitp = (unsigned)fdp->fd_limit;
	kspin_exit(&fdp->fd_lock);
	if (openp)
		*openp = n;
	return 0;
}
