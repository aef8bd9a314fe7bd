/*
 * krs.h - KRANK's system-call functions over the rumpdrv components.
 * Plain C calls with errno semantics: they return -1 and set errno (the
 * host's numbering) on failure, as libc's wrappers do.  Every call acts on
 * the calling thread's process context (krs_ctx_enter), or on the default
 * context when the thread never entered one.
 */
#ifndef KRANK_KRS_H
#define KRANK_KRS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KRS_EXPORT __attribute__((visibility("default")))

/*
 * Flag values equal Linux's (x86-64) so callers may pass either; the
 * syscall layer checks this at compile time.
 */
#define KRS_O_RDONLY	00
#define KRS_O_WRONLY	01
#define KRS_O_RDWR	02
#define KRS_O_ACCMODE	03
#define KRS_O_CREAT	0100
#define KRS_O_EXCL	0200
#define KRS_O_NOCTTY	0400
#define KRS_O_TRUNC	01000
#define KRS_O_APPEND	02000
#define KRS_O_NONBLOCK	04000
#define KRS_O_DSYNC	010000
#define KRS_O_DIRECTORY	0200000
#define KRS_O_NOFOLLOW	0400000
#define KRS_O_CLOEXEC	02000000
#define KRS_O_SYNC	04010000

#define KRS_AT_FDCWD		(-100)
#define KRS_AT_SYMLINK_NOFOLLOW	0x100
#define KRS_AT_REMOVEDIR	0x200

#define KRS_SEEK_SET 0
#define KRS_SEEK_CUR 1
#define KRS_SEEK_END 2

/* File types and permission bits: the POSIX values (same on Linux, NetBSD). */
#define KRS_S_IFMT	0170000
#define KRS_S_IFDIR	0040000
#define KRS_S_IFREG	0100000
#define KRS_S_IFLNK	0120000
#define KRS_S_IFCHR	0020000
#define KRS_S_IFBLK	0060000
#define KRS_S_IFIFO	0010000
#define KRS_S_IFSOCK	0140000

/* Mount flags. */
#define KRS_MNT_RDONLY	0x1
#define KRS_MNT_FORCE	0x80000	/* unmount even when busy */

struct krs_timespec {
	int64_t tv_sec;
	int64_t tv_nsec;
};
/* tv_nsec values for krs_utimens. */
#define KRS_UTIME_NOW	((1l << 30) - 1l)
#define KRS_UTIME_OMIT	((1l << 30) - 2l)

struct krs_stat {
	uint64_t st_dev;		/* mount id */
	uint64_t st_ino;
	uint32_t st_mode;		/* KRS_S_IF* | permission bits */
	uint32_t st_nlink;
	uint32_t st_uid;
	uint32_t st_gid;
	uint64_t st_rdev;
	int64_t st_size;
	int64_t st_blocks;		/* 512-byte units */
	uint32_t st_blksize;
	uint32_t st__pad;
	struct krs_timespec st_atim;
	struct krs_timespec st_mtim;
	struct krs_timespec st_ctim;
	struct krs_timespec st_birthtim;
};

struct krs_statvfs {
	uint64_t f_bsize;
	uint64_t f_frsize;
	uint64_t f_blocks;		/* in f_frsize units */
	uint64_t f_bfree;
	uint64_t f_bavail;
	uint64_t f_files;
	uint64_t f_ffree;
	uint64_t f_favail;
	uint64_t f_fsid;
	uint64_t f_flag;		/* KRS_MNT_RDONLY */
	uint64_t f_namemax;
	char f_fstypename[16];
	char f_mntonname[128];
	char f_mntfromname[128];
};

/* Directory entry as krs_getdents writes it (Linux dirent64 layout). */
struct krs_dirent {
	uint64_t d_ino;
	int64_t d_off;			/* cookie of the next entry */
	uint16_t d_reclen;		/* multiple of 8 */
	uint8_t d_type;			/* KRS_DT_* */
	char d_name[];			/* NUL-terminated */
};
#define KRS_DT_UNKNOWN	0
#define KRS_DT_FIFO	1
#define KRS_DT_CHR	2
#define KRS_DT_DIR	4
#define KRS_DT_BLK	6
#define KRS_DT_REG	8
#define KRS_DT_LNK	10
#define KRS_DT_SOCK	12

struct krs_iovec {
	void *iov_base;
	size_t iov_len;
};

/*
 * Boot and shutdown.  krs_boot initialises the kernel base, then exactly the
 * listed components ("vfs,tmpfs"; commas or spaces) in dependency order.  An
 * unknown component, a dependency that is not listed, or a dependency cycle
 * fails with EINVAL (ENOENT for unknown) and a one-line message in err.
 * krs_shutdown finalises them in reverse order.  Not thread-safe against
 * concurrent krs_* calls.
 */
KRS_EXPORT int krs_boot(const char *components, char *err, size_t errlen);
KRS_EXPORT int krs_shutdown(void);
/*
 * krs_boot_check - resolve a component list as krs_boot would, without
 * initialising anything: the boot order (space separated) goes to order,
 * errors are krs_boot's (ENOENT unknown, EINVAL missing dependency or
 * cycle, each named in err).  krs_components - the linked-in components:
 * up to max names and their dependency lists; returns how many exist.
 */
KRS_EXPORT int krs_boot_check(const char *components, char *order,
    size_t orderlen, char *err, size_t errlen);
KRS_EXPORT size_t krs_components(const char **names, const char **needs,
    size_t max);
/*
 * krs_spin_us - how long a thread blocking in a short wait (a socket
 * waiting for data or buffer space) spins before it sleeps in the host, in
 * microseconds; 0 never spins.  KRANK owns its cores, so a bounded spin
 * trades CPU time for wake-up latency.  us < 0 only reads.  Returns the
 * previous value.  The boot default comes from the environment variable
 * KRANK_SPIN_US (default 50; 0 on a single CPU).  KRANK_SPIN_US=forever
 * chooses run to completion on dedicated cores at boot (docs/net.md):
 * waits that poll the network spin until woken and the clock thread
 * spins; this call then sets only the spin of the other waits.
 */
KRS_EXPORT int krs_spin_us(int us);

/*
 * Process contexts: current directory, root, descriptor table,
 * credentials, umask.  krs_ctx_create makes one with an empty descriptor
 * table, the creator's directories and umask 022.  krs_ctx_enter binds it
 * to the calling thread (until krs_ctx_leave); krs_ctx_destroy closes its
 * descriptors and frees it once no thread is inside.
 */
struct krs_ctx;
KRS_EXPORT int krs_ctx_create(uint32_t uid, uint32_t gid, struct krs_ctx **ctxp);
KRS_EXPORT int krs_ctx_enter(struct krs_ctx *ctx);
KRS_EXPORT int krs_ctx_leave(void);
KRS_EXPORT int krs_ctx_destroy(struct krs_ctx *ctx);
KRS_EXPORT uint32_t krs_umask(uint32_t mask);
/*
 * krs_ctx_set_fdlimit - new descriptors of ctx (NULL: the caller's) stay
 * below limit (1..65536): opening more fails with EMFILE, dup2 beyond it
 * with EBADF.  krs_ctx_fdinfo - how many are open, and the limit.
 */
KRS_EXPORT int krs_ctx_set_fdlimit(struct krs_ctx *ctx, unsigned limit);
KRS_EXPORT int krs_ctx_fdinfo(struct krs_ctx *ctx, unsigned *openp,
    unsigned *limitp);
/*
 * krs_ctx_revoke - close every descriptor of ctx now, while threads may
 * still be inside calls for it (each gets EBADF; one blocked on a socket
 * wakes), and refuse new ones (EMFILE).  For an owner that died mid-call:
 * revoke, let the calls return, then krs_ctx_destroy.  EINVAL.
 * krs_ctx_revoked - 1 once ctx (NULL: the caller's) was revoked, else 0.
 */
KRS_EXPORT int krs_ctx_revoke(struct krs_ctx *ctx);
KRS_EXPORT int krs_ctx_revoked(struct krs_ctx *ctx);

/* Files and descriptors (POSIX semantics). */
KRS_EXPORT int krs_open(const char *path, int flags, ...);
KRS_EXPORT int krs_openat(int dirfd, const char *path, int flags, ...);
KRS_EXPORT int krs_close(int fd);
KRS_EXPORT ssize_t krs_read(int fd, void *buf, size_t len);
KRS_EXPORT ssize_t krs_write(int fd, const void *buf, size_t len);
KRS_EXPORT ssize_t krs_pread(int fd, void *buf, size_t len, int64_t off);
KRS_EXPORT ssize_t krs_pwrite(int fd, const void *buf, size_t len, int64_t off);
KRS_EXPORT ssize_t krs_readv(int fd, const struct krs_iovec *iov, int iovcnt);
/* krs_preadv - krs_readv at offset off (>= 0; the file offset unmoved). */
KRS_EXPORT ssize_t krs_preadv(int fd, const struct krs_iovec *iov, int iovcnt,
    int64_t off);
KRS_EXPORT ssize_t krs_writev(int fd, const struct krs_iovec *iov, int iovcnt);
KRS_EXPORT int64_t krs_lseek(int fd, int64_t off, int whence);
KRS_EXPORT int krs_ftruncate(int fd, int64_t len);
KRS_EXPORT int krs_fsync(int fd);
KRS_EXPORT int krs_dup(int fd);
KRS_EXPORT int krs_dup2(int fd, int newfd);
KRS_EXPORT int krs_fstat(int fd, struct krs_stat *st);
KRS_EXPORT ssize_t krs_getdents(int fd, void *buf, size_t len);

/*
 * Descriptors of every kind (files, and sockets when the socket component
 * is up) share the context's table: read, write, readv, writev, close,
 * dup, dup2, fstat, fcntl and poll work on all of them; lseek, pread and
 * pwrite on a socket give ESPIPE.
 *
 * krs_fcntl - F_GETFL, F_SETFL (O_APPEND, O_NONBLOCK; the others are
 * ignored), F_GETFD, F_SETFD (FD_CLOEXEC), F_DUPFD, F_DUPFD_CLOEXEC (the
 * lowest free descriptor >= arg).  One int argument.  EBADF, EINVAL.
 */
#define KRS_F_DUPFD		0
#define KRS_F_GETFD		1
#define KRS_F_SETFD		2
#define KRS_F_GETFL		3
#define KRS_F_SETFL		4
#define KRS_F_DUPFD_CLOEXEC	1030
#define KRS_FD_CLOEXEC		1
KRS_EXPORT int krs_fcntl(int fd, int cmd, ...);

/*
 * krs_poll - as poll(2): returns how many entries have revents, 0 on
 * timeout (timeout_ms < 0: none); negative fds are skipped, closed ones
 * get KRS_POLLNVAL.  Files are always ready for reading and writing;
 * sockets as their state says.  EFAULT, EINVAL (nfds over 65536).
 */
#define KRS_POLLIN	0x001
#define KRS_POLLPRI	0x002
#define KRS_POLLOUT	0x004
#define KRS_POLLERR	0x008
#define KRS_POLLHUP	0x010
#define KRS_POLLNVAL	0x020
#define KRS_POLLRDNORM	0x040
#define KRS_POLLWRNORM	0x100
struct krs_pollfd {
	int fd;
	short events;
	short revents;
};
KRS_EXPORT int krs_poll(struct krs_pollfd *fds, unsigned nfds, int timeout_ms);

/*
 * Descriptor passing between contexts.  krs_fd_transfer moves descriptor
 * fd of context from (NULL: the caller's) to the lowest free descriptor of
 * context to (NULL: the caller's) and returns that number; the open file
 * (its offset, its flags, a channel end's place) goes with it and fd is
 * closed in from.  flags: KRS_O_CLOEXEC for the new descriptor.  Both
 * contexts must stay alive during the call (the caller's business).
 * EBADF (fd not open in from), EMFILE (to is full; fd stays in from).
 */
KRS_EXPORT int krs_fd_transfer(struct krs_ctx *from, int fd,
    struct krs_ctx *to, int flags);

/*
 * Channels: a bounded ring of (token, len) entries from a send end to a
 * receive end, both descriptors (fstat says S_IFIFO), so poll and
 * krs_poll see them.  Tokens mean nothing here: the layer above (KRANK's
 * buffer pools, krank/krk_chan.h) gives them a meaning, so a message moves
 * by reference and nothing is copied.  One send end and one receive end
 * per channel; several threads may use one end (each end is serialised by
 * its own spinlock, the ring itself is lock-free between the two ends).
 *
 * krs_chan_create - a channel of depth entries (1..KRS_CHAN_DEPTH_MAX) in
 *	the caller's table: fds[0] the receive end, fds[1] the send end.
 *	flags: KRS_O_NONBLOCK (both ends), KRS_O_CLOEXEC, and
 *	KRS_CHAN_RETURN, which adds a second ring of depth tokens going back
 *	from the receive end to the send end (krs_chan_return,
 *	krs_chan_reclaim: how buffers come back to their owner).  EINVAL,
 *	EMFILE, ENOMEM (no host memory for the rings: a deep ring is
 *	not waited for), ENOSYS (no vfs).
 * krs_chan_send - append (token, len) on a send end.  Blocks while the
 *	ring is full unless the end is O_NONBLOCK (EAGAIN: backpressure).
 *	EPIPE once the receive end is closed.  (0, 0) is the end-of-stream
 *	mark and cannot be sent: EINVAL.  EBADF (not open, or a receive
 *	end), EINVAL (a descriptor that is not a channel).
 * krs_chan_recv - take the oldest entry on a receive end.  Blocks while the
 *	ring is empty unless O_NONBLOCK (EAGAIN).  Returns 0 with token 0 and
 *	len 0 at end of stream (the send end closed and every entry was
 *	taken).  EBADF (a send end), EINVAL (not a channel).
 * krs_chan_return - on either end of a KRS_CHAN_RETURN channel: hand
 *	token back to the send end (never blocks: the return ring holds depth
 *	tokens; EAGAIN when it is full, which only a layer above that hands
 *	back more tokens than it has can cause).  EPIPE when the send end is
 *	closed.
 * krs_chan_reclaim - on its send end: the oldest token handed back;
 *	blocks while there is none unless O_NONBLOCK (EAGAIN).  EPIPE when
 *	the receive end is closed.
 *
 * Readiness (krs_poll, poll, epoll): a receive end is POLLIN|POLLRDNORM
 * when an entry waits or the send end is closed, and then also POLLHUP;
 * a send end is POLLOUT|POLLWRNORM when the ring has room and (with
 * KRS_CHAN_RETURN) a token waits to be reclaimed, and POLLERR once the
 * receive end is closed (a pipe's behaviour).  Blocked callers spin up to
 * krs_spin_us before they sleep.  read and write on a channel: EINVAL.
 */
#define KRS_CHAN_DEPTH_MAX	(1u << 20)
#define KRS_CHAN_RETURN		0x40000000
#define KRS_CHAN_RECV		0	/* fds[0] */
#define KRS_CHAN_SEND		1	/* fds[1] */
KRS_EXPORT int krs_chan_create(unsigned depth, int flags, int fds[2]);
KRS_EXPORT int krs_chan_send(int fd, uint64_t token, uint32_t len);
KRS_EXPORT int krs_chan_recv(int fd, uint64_t *tokenp, uint32_t *lenp);
KRS_EXPORT int krs_chan_return(int fd, uint64_t token);
KRS_EXPORT int krs_chan_reclaim(int fd, uint64_t *tokenp);

/*
 * Channel ends for the layer above (one descriptor lookup per call, and
 * bounded waits so the caller can check for a kill between slices):
 *
 * krs_chan_get - the channel end at fd of the calling context, referenced
 *	until krs_chan_put (the end stays usable while referenced even if fd
 *	is closed meanwhile).  *endp: KRS_CHAN_RECV or KRS_CHAN_SEND; *argp:
 *	what krs_chan_attach set (NULL before).  EBADF, EINVAL (not a channel).
 * krs_chan_peek, krs_chan_unpeek - the same without a reference, for a
 *	call that does not wait (timeout 0): between the two the caller
 *	is in an RCU read-side section (the end cannot go away) and must
 *	neither wait nor close nor drop a reference to a channel end.
 * krs_chan_xsend, krs_chan_xrecv, krs_chan_xreturn, krs_chan_xreclaim -
 *	krs_chan_send ... on a referenced end, waiting at most timeout_ms
 *	(< 0: no limit; 0: not at all; an O_NONBLOCK end never waits):
 *	EAGAIN when nothing could be done in that time.  EBADF for the wrong
 *	end.
 * krs_chan_xwait - wait at most timeout_ms (as the x calls) until the
 *	call of end ch could go on: a message or the send end closed (the
 *	receive end), a token handed back (the send end of a
 *	KRS_CHAN_RETURN channel; else room) or the receive end closed.
 *	0; EAGAIN.
 * krs_chan_attach - give the channel of end ch its upper layer: arg (read
 *	back by krs_chan_get) and hooks.  ch_close(arg, end) runs once per
 *	end, when its last reference goes away (close of the last descriptor,
 *	a context destroyed), after the end is marked closed and waiters are
 *	woken, from the closing thread, with no channel lock held.  Once per
 *	channel: EBUSY.
 * krs_chan_info - depth, entries queued in each ring, which ends are
 *	closed.
 * krs_chan_install - a new descriptor of the calling context for the end
 *	ch; the caller's reference moves into it (no krs_chan_put after
 *	success).  flags: KRS_O_CLOEXEC.  Returns the descriptor; EMFILE (the
 *	reference stays the caller's).  With krs_chan_get on another context's
 *	descriptor it passes an end on without a descriptor in between.
 */
struct krs_chan;
struct krs_chan_hooks {
	void (*ch_close)(void *arg, int end);
	/* Not 0: the layer above never lets two threads into one side of
	 * a ring at once (sends and reclaims on the send end; receives,
	 * and returns from either end, on the other), so the channel
	 * takes no lock of its own for them. */
	int ch_serial;
};
struct krs_chan_info {
	unsigned depth;
	unsigned queued;		/* entries waiting for the receiver */
	unsigned returned;		/* tokens waiting for the sender */
	int recv_closed, send_closed;
	int has_return;
};
KRS_EXPORT int krs_chan_get(int fd, struct krs_chan **chp, int *endp,
    void **argp);
KRS_EXPORT void krs_chan_put(struct krs_chan *ch);
KRS_EXPORT int krs_chan_peek(int fd, struct krs_chan **chp, int *endp,
    void **argp);
KRS_EXPORT void krs_chan_unpeek(struct krs_chan *ch);
KRS_EXPORT int krs_chan_xsend(struct krs_chan *ch, uint64_t token,
    uint32_t len, int timeout_ms);
KRS_EXPORT int krs_chan_xrecv(struct krs_chan *ch, uint64_t *tokenp,
    uint32_t *lenp, int timeout_ms);
KRS_EXPORT int krs_chan_xreturn(struct krs_chan *ch, uint64_t token);
KRS_EXPORT int krs_chan_xreclaim(struct krs_chan *ch, uint64_t *tokenp,
    int timeout_ms);
KRS_EXPORT int krs_chan_xwait(struct krs_chan *ch, int timeout_ms);
KRS_EXPORT int krs_chan_attach(struct krs_chan *ch,
    const struct krs_chan_hooks *hooks, void *arg);
KRS_EXPORT int krs_chan_info(struct krs_chan *ch, struct krs_chan_info *info);
KRS_EXPORT int krs_chan_install(struct krs_chan *ch, int flags);

/* Names. */
KRS_EXPORT int krs_stat(const char *path, struct krs_stat *st);
KRS_EXPORT int krs_lstat(const char *path, struct krs_stat *st);
KRS_EXPORT int krs_mkdir(const char *path, uint32_t mode);
KRS_EXPORT int krs_rmdir(const char *path);
KRS_EXPORT int krs_unlink(const char *path);
KRS_EXPORT int krs_rename(const char *from, const char *to);
KRS_EXPORT int krs_link(const char *target, const char *path);
KRS_EXPORT int krs_symlink(const char *target, const char *path);
KRS_EXPORT ssize_t krs_readlink(const char *path, char *buf, size_t len);
KRS_EXPORT int krs_chmod(const char *path, uint32_t mode);
KRS_EXPORT int krs_chown(const char *path, uint32_t uid, uint32_t gid);
KRS_EXPORT int krs_utimens(const char *path, const struct krs_timespec ts[2]);
KRS_EXPORT int krs_chdir(const char *path);
/* krs_chroot - the calling context's root becomes path (a directory);
 * its current directory moves there too.  ENOENT, ENOTDIR, EACCES. */
KRS_EXPORT int krs_chroot(const char *path);
KRS_EXPORT char *krs_getcwd(char *buf, size_t len);

/* Mounts.  data/datalen are handed to the file system unchanged. */
KRS_EXPORT int krs_mount(const char *source, const char *target,
    const char *fstype, int flags, const void *data, size_t datalen);
KRS_EXPORT int krs_unmount(const char *target, int flags);
KRS_EXPORT int krs_statvfs(const char *path, struct krs_statvfs *sv);
/*
 * krs_mounts - the mount table, newest first: up to n entries into ents
 * (ents may be NULL when n is 0).  Returns how many mounts there are (more
 * than n: call again with a larger array), or -1 (ENOSYS: no vfs).
 */
struct krs_mntent {
	uint64_t mnt_id;		/* f_fsid of krs_statvfs */
	uint64_t mnt_flag;		/* KRS_MNT_RDONLY */
	char mnt_fstype[16];
	char mnt_on[128];
	char mnt_from[128];
};
KRS_EXPORT int krs_mounts(struct krs_mntent *ents, size_t n);

#ifdef __cplusplus
}
#endif
#endif /* KRANK_KRS_H */
