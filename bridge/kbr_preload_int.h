/*
 * kbr_preload_int.h - between the files of libkrank-preload.so: the
 * table of Linux's own functions (found with dlsym(RTLD_NEXT)), the
 * attachment and its rings, and the helpers every interposer uses.
 */
#ifndef KBR_PRELOAD_INT_H
#define KBR_PRELOAD_INT_H

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <krank/krank.h>

#include "kbr_fdtab.h"

/* glibc's entry points without a public prototype that programs link
 * against (_FORTIFY_SOURCE checks, the old stat ABI). */
ssize_t __read_chk(int, void *, size_t, size_t);
ssize_t __recv_chk(int, void *, size_t, size_t, int);
ssize_t __recvfrom_chk(int, void *, size_t, size_t, int, struct sockaddr *,
    socklen_t *);
ssize_t __pread_chk(int, void *, size_t, off_t, size_t);
ssize_t __pread64_chk(int, void *, size_t, off_t, size_t);
int __poll_chk(struct pollfd *, nfds_t, int, size_t);
int __open_2(const char *, int);
int __open64_2(const char *, int);
int __openat_2(int, const char *, int);
int __openat64_2(int, const char *, int);
int __fxstat(int, int, struct stat *);
int __fxstat64(int, int, struct stat64 *);
int __xstat(int, const char *, struct stat *);
int __xstat64(int, const char *, struct stat64 *);
int __lxstat(int, const char *, struct stat *);
int __lxstat64(int, const char *, struct stat64 *);

/* Linux's functions the interposers fall back on. */
struct kbr_real {
	int (*socket)(int, int, int);
	int (*bind)(int, const struct sockaddr *, socklen_t);
	int (*listen)(int, int);
	int (*accept)(int, struct sockaddr *, socklen_t *);
	int (*accept4)(int, struct sockaddr *, socklen_t *, int);
	int (*connect)(int, const struct sockaddr *, socklen_t);
	ssize_t (*read)(int, void *, size_t);
	ssize_t (*write)(int, const void *, size_t);
	ssize_t (*readv)(int, const struct iovec *, int);
	ssize_t (*writev)(int, const struct iovec *, int);
	ssize_t (*send)(int, const void *, size_t, int);
	ssize_t (*recv)(int, void *, size_t, int);
	ssize_t (*sendto)(int, const void *, size_t, int,
	    const struct sockaddr *, socklen_t);
	ssize_t (*recvfrom)(int, void *, size_t, int, struct sockaddr *,
	    socklen_t *);
	ssize_t (*sendmsg)(int, const struct msghdr *, int);
	ssize_t (*recvmsg)(int, struct msghdr *, int);
	ssize_t (*sendfile)(int, int, off_t *, size_t);
	int (*close)(int);
	int (*dup)(int);
	int (*dup2)(int, int);
	int (*dup3)(int, int, int);
	int (*fcntl)(int, int, ...);
	int (*ioctl)(int, unsigned long, ...);
	int (*poll)(struct pollfd *, nfds_t, int);
	int (*ppoll)(struct pollfd *, nfds_t, const struct timespec *,
	    const sigset_t *);
	int (*select)(int, fd_set *, fd_set *, fd_set *, struct timeval *);
	int (*pselect)(int, fd_set *, fd_set *, fd_set *,
	    const struct timespec *, const sigset_t *);
	int (*epoll_create)(int);
	int (*epoll_create1)(int);
	int (*epoll_ctl)(int, int, int, struct epoll_event *);
	int (*epoll_wait)(int, struct epoll_event *, int, int);
	int (*epoll_pwait)(int, struct epoll_event *, int, int,
	    const sigset_t *);
	int (*epoll_pwait2)(int, struct epoll_event *, int,
	    const struct timespec *, const sigset_t *);
	int (*getsockopt)(int, int, int, void *, socklen_t *);
	int (*setsockopt)(int, int, int, const void *, socklen_t);
	int (*getsockname)(int, struct sockaddr *, socklen_t *);
	int (*getpeername)(int, struct sockaddr *, socklen_t *);
	int (*shutdown)(int, int);
	int (*open)(const char *, int, ...);
	int (*openat)(int, const char *, int, ...);
	ssize_t (*pread)(int, void *, size_t, off_t);
	ssize_t (*pwrite)(int, const void *, size_t, off_t);
	off_t (*lseek)(int, off_t, int);
	int (*fstat)(int, struct stat *);
	int (*stat)(const char *, struct stat *);
	int (*lstat)(const char *, struct stat *);
	int (*fstatat)(int, const char *, struct stat *, int);
	int (*__fxstat)(int, int, struct stat *);
	int (*__xstat)(int, const char *, struct stat *);
	int (*__lxstat)(int, const char *, struct stat *);
	int (*__fxstatat)(int, int, const char *, struct stat *, int);
	int (*unlink)(const char *);
	int (*unlinkat)(int, const char *, int);
	int (*mkdir)(const char *, mode_t);
	int (*mkdirat)(int, const char *, mode_t);
	int (*rmdir)(const char *);
	int (*rename)(const char *, const char *);
	int (*access)(const char *, int);
	int (*fsync)(int);
	int (*fdatasync)(int);
	int (*ftruncate)(int, off_t);
};
extern struct kbr_real kbr_real;
void kbr_resolve(void);
#define KBR_REAL(name) \
	(kbr_real.name != NULL ? kbr_real.name : (kbr_resolve(), kbr_real.name))

/* A ring of the attachment, with the lock its users share. */
struct kbr_ring {
	pthread_mutex_t lock;
	struct krank_client *c;
};

/*
 * kbr_client - the calling thread's ring, locked, attaching first when
 * this is the process's first call KRANK serves; NULL with errno set
 * when KRANK cannot be reached (said once on stderr).  kbr_put unlocks
 * it, keeping errno.
 */
struct kbr_ring *kbr_client(void);
void kbr_put(struct kbr_ring *r);

/* Readiness with data (kbr_preload_poll.c): bytes a poll receives per
 * readable stream socket, KRANK_POLL_FETCH (0: none). */
#define KBR_FETCH_DEFAULT 4096
#define KBR_FETCH_LIMIT 65536u
extern size_t kbr_fetch_max;

/* kbr_enabled - KRANK_ATTACH is set (else everything is Linux's). */
bool kbr_enabled(void);
extern bool kbr_debug_on;
void kbr_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void kbr_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* kbr_place - a placeholder for KRANK descriptor kfd (kind and flags
 * KBR_FD_*): its number, or -1 with errno (KRANK's descriptor is closed
 * then).  what names the call for KRANK_DEBUG. */
int kbr_place(struct kbr_ring *r, int kfd, uint32_t flags, const char *what);
/* kbr_place_at - as kbr_place, on number newfd (dup2/dup3): Linux's
 * descriptor there is closed as dup2 would. */
int kbr_place_at(struct kbr_ring *r, int kfd, uint32_t flags, int newfd);
/* kbr_drop - forget placeholder fd (its KRANK descriptor already
 * closed) and close it. */
void kbr_drop(int fd);

/* Files under KRANK_PATHS (kbr_preload_file.c). */
void kbr_paths_init(const char *spec);
bool kbr_path_ours(const char *path);

/* Signal handlers (kbr_preload_sig.c): kbr_intr_armed once the program
 * has installed one; kbr_intr_count counts, per thread, the handlers
 * that ran.  A wait on KRANK's descriptors that sees the count change
 * ends with EINTR, as Linux's would; with a handler installed, it looks
 * at the count at least every KBR_INTR_SLICE_MS.  Initial-exec TLS: the
 * handler must not go through __tls_get_addr. */
#define KBR_INTR_SLICE_MS 20
extern _Atomic bool kbr_intr_armed;
extern __thread uint64_t kbr_intr_count
    __attribute__((tls_model("initial-exec")));
sighandler_t bsd_signal(int, sighandler_t);
sighandler_t sysv_signal(int, sighandler_t);

/* Poll helpers (kbr_preload_poll.c): poll over a set mixing KRANK and
 * Linux descriptors, timeout in ms (< 0: no limit). */
int kbr_poll_mixed(struct pollfd *fds, nfds_t n, int timeout_ms,
    const sigset_t *mask);

/* Readiness bookkeeping for EPOLLET: a read-like call that ran dry, a
 * write-like call that filled up. */
static inline void
kbr_rearm(int fd, ssize_t got, size_t asked, int err, bool in)
{
	if ((got < 0 && (err == EAGAIN || err == EWOULDBLOCK)) ||
	    (got >= 0 && (size_t)got < asked))
		kbr_fdtab_flags_set(fd, in ? KBR_FD_REARM_IN :
		    KBR_FD_REARM_OUT);
}

#endif
