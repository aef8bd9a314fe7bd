/*
 * vfs_file.h - open files and descriptor tables, between components.  The
 * vfs component owns every context's descriptor table; a file is a vnode
 * (vfs's own type) or an object of another component (a socket), reached
 * through that component's fileops, as NetBSD's struct file and fileops.
 * The vfs knows no file type but its own: a component that makes files
 * needs "vfs", fills a struct fileops and installs files with fd_allocfile.
 */
#ifndef RUMPDRV_VFS_FILE_H
#define RUMPDRV_VFS_FILE_H

#include "kern/kern.h"
#include <krank/krs.h>

struct vnode;
struct file;

/* A scatter/gather request with an offset. */
enum uio_rw { UIO_READ, UIO_WRITE };
struct uio {
	struct krs_iovec *uio_iov;	/* advanced as data moves */
	int uio_iovcnt;
	int64_t uio_offset;		/* file offset; advanced */
	size_t uio_resid;		/* bytes left; decreased */
	enum uio_rw uio_rw;		/* UIO_READ: copy out of the fs */
};

#define DTYPE_VNODE	1	/* f_vnode; the vfs's own */
#define DTYPE_SOCKET	2	/* f_data is a struct socket */
#define DTYPE_CHAN	3	/* f_data is a channel (vfs_chan.c) */
#define DTYPE_HOSTSOCK	4	/* f_data is a host socket (rumpdrv/hostnet) */

/*
 * What a file type implements.  Every op is called with a reference on fp
 * and no vfs lock held, and returns 0 or a NetBSD errno.
 *  fo_read/fo_write: move uio->uio_resid bytes at most (decrease it);
 *	called only on files opened for that direction; uio_offset is
 *	meaningless for types other than DTYPE_VNODE (not seekable: lseek,
 *	pread and pwrite give ESPIPE).  FOF_UPDATE_OFFSET: use and advance
 *	f_offset (vnodes).
 *  fo_setfl: F_SETFL changed KRS_O_NONBLOCK (f_flag already updated);
 *	NULL: nothing to do.
 *  fo_poll: the KRS_POLL* events of fp ready now (never blocks).
 *  fo_stat: fill st.
 *  fo_close: the last reference went away; free the object.
 *  fo_pollgen/fo_pollwait (optional; NULL for types that are always
 *	ready): the type's wakeup generation, and a wait until it differs
 *	from gen or the uptime deadline (ns; 0: none) passes.  krs_poll
 *	reads the generation before asking fo_poll, so no wakeup is lost.
 */
#define FOF_UPDATE_OFFSET	0x1
struct fileops {
	int (*fo_read)(struct file *fp, struct uio *uio, int flags);
	int (*fo_write)(struct file *fp, struct uio *uio, int flags);
	int (*fo_setfl)(struct file *fp);
	int (*fo_poll)(struct file *fp, int events);
	int (*fo_stat)(struct file *fp, struct krs_stat *st);
	void (*fo_close)(struct file *fp);
	uint64_t (*fo_pollgen)(void);
	void (*fo_pollwait)(uint64_t gen, uint64_t deadline_ns);
};

/* An open file.  f_count atomic; f_offset under f_lock; f_flag's status
 * bits (O_APPEND, O_NONBLOCK) atomic; the rest constant. */
struct file {
	unsigned f_count;
	int f_flag;			/* KRS_O_* open flags */
	int f_type;			/* DTYPE_* */
	const struct fileops *f_ops;
	struct vnode *f_vnode;		/* DTYPE_VNODE */
	void *f_data;			/* other types: their object */
	kmutex_t f_lock;		/* serialises offset users */
	int64_t f_offset;
};

/* file_alloc_ops - a file of another type with one reference (the
 * caller's); fp->f_data = data. */
struct file *file_alloc_ops(const struct fileops *ops, int type, void *data,
    int flags);
/* fd_allocfile - install fp (the caller's reference moves in) at the
 * lowest free descriptor of the calling context; EMFILE, ENOSYS before
 * the vfs is up. */
int fd_allocfile(struct file *fp, bool cloexec, int *fdout);
/* fd_getfile - the calling context's file at fd, referenced; EBADF. */
int fd_getfile(int fd, struct file **fpp);
/* fd_peekfile - the file at fd now, or NULL, not referenced: it stays a
 * struct file (released files are kept for reuse), nothing more; a
 * caller that uses it must know its type keeps it alive (channels: an
 * RCU read-side section, vfs_chan.c). */
struct file *fd_peekfile(int fd);
/* fd_getvnode - fd_getfile for calls that need a vnode: a file of another
 * type is released and answered with notvnode (ESPIPE, EINVAL, ...). */
int fd_getvnode(int fd, int notvnode, struct file **fpp);
void file_release(struct file *fp);
/* fd_closeall_ops - close every descriptor, in every context, whose file
 * has these ops (a component going away calls it from its fini). */
void fd_closeall_ops(const struct fileops *ops);

#endif /* RUMPDRV_VFS_FILE_H */
