/*
 * kbr_preload.c - libkrank-preload.so: an unmodified Linux program's
 * AF_INET/AF_INET6 sockets (and files under KRANK_PATHS) are served by a
 * running KRANK over libkrank's rings; everything else goes to Linux.
 * This file: configuration, the lazy attachment and the rings threads
 * use, placeholders, fork, and the socket and descriptor calls.  Files:
 * kbr_preload_file.c; poll, select and epoll: kbr_preload_poll.c;
 * signal handlers (EINTR): kbr_preload_sig.c.
 * docs/bridge.md says what is served and how.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include <krank/krq.h>

#include "kbr_preload_int.h"

#define KBR_EXPORT __attribute__((visibility("default")))

struct kbr_real kbr_real;
bool kbr_debug_on;
size_t kbr_fetch_max = KBR_FETCH_DEFAULT;

/* Asynchronous sends (docs/bridge.md): KRANK_SEND_ASYNC=0 turns them off;
 * at most KBR_ASYNC_MAX bytes per send (they go inline in the ring slot),
 * KBR_ASYNC_CREDIT outstanding per descriptor. */
static bool kbr_async_on = true;

/* KRANK_STATS=1: at exit, one line of what the process asked of KRANK:
 * ring uses (each a synchronous round trip, but for the asynchronous
 * sends among them), asynchronous sends, reads served from held bytes. */
static bool kbr_stats_on;
static _Atomic uint64_t kbr_n_ring, kbr_n_async;
_Atomic uint64_t kbr_n_held;
#define KBR_ASYNC_MAX 4096
#define KBR_ASYNC_CREDIT 65536

static const char *kbr_sock;		/* KRANK_ATTACH; NULL: pass through */

/*
 * The attachment: made once, under kbr_att_lock, on the first call KRANK
 * serves; kbr_att_state says whether it is there (1), failed (-1, not
 * tried again) or not yet tried (0).  Threads take rings round-robin;
 * each ring's lock serialises its users (libkrank's clients are one
 * thread at a time).  A fork child starts over (kbr_gen).
 */
static pthread_mutex_t kbr_att_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic int kbr_att_state;
static struct krq *kbr_q;
static struct kbr_ring *kbr_rings;
static unsigned kbr_nrings;
static _Atomic unsigned kbr_next_ring;
static _Atomic unsigned kbr_gen;
static __thread int kbr_tl_ring __attribute__((tls_model("initial-exec"))) = -1;
static __thread unsigned kbr_tl_gen __attribute__((tls_model("initial-exec")));

static void
kbr_vline(const char *fmt, va_list ap)
{
	char buf[512];
	int n = snprintf(buf, sizeof(buf), "krank-preload[%d]: ", getpid());

	if (n < 0)
		return;
	int m = vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
	if (m < 0)
		return;
	n += m;
	if ((size_t)n > sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	/* Linux's write: descriptor 2 may be one of KRANK's now. */
	(void)KBR_REAL(write)(2, buf, (size_t)n);
}

void
kbr_debug(const char *fmt, ...)
{
	va_list ap;

	if (!kbr_debug_on)
		return;
	int e = errno;
	va_start(ap, fmt);
	kbr_vline(fmt, ap);
	va_end(ap);
	errno = e;
}

void
kbr_say(const char *fmt, ...)
{
	va_list ap;
	int e = errno;

	va_start(ap, fmt);
	kbr_vline(fmt, ap);
	va_end(ap);
	errno = e;
}

void
kbr_resolve(void)
{
#define R(name) kbr_real.name = dlsym(RTLD_NEXT, #name)
	R(socket); R(bind); R(listen); R(accept); R(accept4); R(connect);
	R(read); R(write); R(readv); R(writev); R(send); R(recv);
	R(sendto); R(recvfrom); R(sendmsg); R(recvmsg); R(sendfile);
	R(close); R(dup); R(dup2); R(dup3); R(fcntl); R(ioctl);
	R(poll); R(ppoll); R(select); R(pselect);
	R(epoll_create); R(epoll_create1); R(epoll_ctl); R(epoll_wait);
	R(epoll_pwait); R(epoll_pwait2);
	R(getsockopt); R(setsockopt); R(getsockname); R(getpeername);
	R(shutdown); R(open); R(openat); R(pread); R(pwrite); R(lseek);
	R(fstat); R(stat); R(lstat); R(fstatat); R(__fxstat); R(__xstat);
	R(__lxstat); R(__fxstatat); R(unlink); R(unlinkat); R(mkdir);
	R(mkdirat); R(rmdir); R(rename); R(access); R(fsync); R(fdatasync);
	R(ftruncate);
#undef R
}

/* A fork child: the parent's attachment and KRANK descriptors are not
 * its own.  Placeholders stay open (so that their numbers are not reused
 * behind the program's back) and answer EBADF; the child attaches anew
 * on its first call KRANK serves. */
static void
kbr_atfork_child(void)
{
	size_t dead = kbr_fdtab_mark_dead();

	kbr_held_fork_child();

	kbr_esh_reset();
	pthread_mutex_init(&kbr_att_lock, NULL);
	if (atomic_load(&kbr_att_state) == 1) {
		for (unsigned i = 0; i < kbr_nrings; i++)
			if (kbr_rings[i].c != NULL)
				krank_client_destroy(kbr_rings[i].c);
		free(kbr_rings);
		kbr_rings = NULL;
		krq_unmap(kbr_q);	/* closes our copy of the attachment */
		kbr_q = NULL;
	}
	atomic_store(&kbr_att_state, 0);
	atomic_fetch_add(&kbr_gen, 1);
	if (dead > 0)
		kbr_debug("fork: child keeps Linux descriptors only (%zu of "
		    "KRANK's now EBADF)", dead);
}

__attribute__((constructor)) static void
kbr_init(void)
{
	const char *s;

	kbr_resolve();
	s = getenv("KRANK_DEBUG");
	kbr_debug_on = s != NULL && *s != '\0' && strcmp(s, "0") != 0;
	s = getenv("KRANK_POLL_FETCH");
	if (s != NULL && *s != '\0') {
		char *end;
		errno = 0;
		unsigned long v = strtoul(s, &end, 10);
		if (errno != 0 || *end != '\0' || *s == '-' ||
		    v > KBR_FETCH_LIMIT)
			kbr_say("KRANK_POLL_FETCH=%s: not a number of bytes "
			    "0..%u; fetching %zu", s, KBR_FETCH_LIMIT,
			    kbr_fetch_max);
		else
			kbr_fetch_max = v;
	}
	s = getenv("KRANK_STATS");
	kbr_stats_on = s != NULL && *s != '\0' && strcmp(s, "0") != 0;
	s = getenv("KRANK_SEND_ASYNC");
	kbr_async_on = s == NULL || strcmp(s, "0") != 0;
	s = getenv("KRANK_ATTACH");
	if (s != NULL && *s != '\0') {
		kbr_sock = strdup(s);
		kbr_paths_init(getenv("KRANK_PATHS"));
		kbr_debug("KRANK at %s serves AF_INET/AF_INET6 sockets%s%s",
		    kbr_sock, getenv("KRANK_PATHS") ? " and paths under " :
		    "", getenv("KRANK_PATHS") ? getenv("KRANK_PATHS") : "");
	} else
		kbr_debug("KRANK_ATTACH not set: everything goes to Linux");
	pthread_atfork(NULL, NULL, kbr_atfork_child);
}

/*
 * At a normal exit (exit, or a return from main), close KRANK's
 * descriptors the way Linux closes a process's sockets when it exits:
 * data still queued goes out, then FIN.  Without this, the end of the
 * attachment would close them abortively (a reset, queued data lost),
 * which is right only for a crash.  A thread still inside a call holds
 * its ring: use any free one; if none is free, KRANK closes what is left
 * when the attachment ends.  Afterwards the descriptors are dead, so a
 * later destructor's close does not reach KRANK again.
 */
static void kbr_reap(struct kbr_ring *r, int64_t timeout);

/* At exit: bytes of asynchronous sends still waiting in KRANK's send
 * queue go out before the close (the attachment's end would drop them),
 * waiting up to 2 s for the peer to make room, as a blocking send
 * would. */
static void
kbr_fini_flush(struct kbr_ring *r, int kfd)
{
	for (int i = 0; i < 100; i++) {
		if (krank_send(r->c, kfd, "", 0, MSG_DONTWAIT) == 0 ||
		    errno != EAGAIN)
			return;
		struct pollfd p = { .fd = kfd, .events = POLLOUT };
		(void)krank_poll(r->c, &p, 1, 20);
	}
}

__attribute__((destructor)) static void
kbr_fini(void)
{
	struct kbr_ring *r = NULL;

	if (kbr_stats_on) {
		uint64_t a = atomic_load(&kbr_n_async);
		uint64_t t = atomic_load(&kbr_n_ring);
		kbr_say("stats: %llu round trips, %llu asynchronous sends, "
		    "%llu reads from held bytes",
		    (unsigned long long)(t > a ? t - a : 0),
		    (unsigned long long)a,
		    (unsigned long long)atomic_load(&kbr_n_held));
	}
	if (atomic_load(&kbr_att_state) != 1)
		return;
	for (unsigned i = 0; i < kbr_nrings && r == NULL; i++)
		if (pthread_mutex_trylock(&kbr_rings[i].lock) == 0)
			r = &kbr_rings[i];
	if (r == NULL)
		return;
	size_t n = kbr_fdtab_size(), closed = 0;
	kbr_reap(r, 0);
	for (size_t fd = 0; fd < n; fd++) {
		int kfd;
		uint32_t fl;
		if (kbr_fdtab_get((int)fd, &kfd, &fl) && !(fl & KBR_FD_DEAD)) {
			if (fl & KBR_FD_ASYNC)
				kbr_fini_flush(r, kfd);
			krank_close(r->c, kfd);
			closed++;
		}
	}
	kbr_fdtab_mark_dead();
	pthread_mutex_unlock(&r->lock);
	if (closed > 0)
		kbr_debug("exit: closed %zu of KRANK's descriptors", closed);
}

bool
kbr_enabled(void)
{
	return kbr_sock != NULL;
}

/*
 * KRANK_QUEUE_SPIN_US: how long this process spins for a response before
 * it sleeps on the futex, 0..10000 us, instead of what the deployment
 * suggests (queues.client_spin).  Bounded like the deployment's value:
 * an unbounded spin could starve the very peer it waits for.
 */
static void
kbr_spin_env(struct krq *q)
{
	const char *s = getenv("KRANK_QUEUE_SPIN_US");
	char *end;
	unsigned long us;

	if (s == NULL || *s == '\0')
		return;
	errno = 0;
	us = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || us > 10000 || *s == '-') {
		kbr_say("KRANK_QUEUE_SPIN_US=%s: not a number of microseconds "
		    "0..10000; spinning as the deployment says", s);
		return;
	}
	krq_set_spin(q, (uint64_t)us * 1000);
	kbr_debug("spinning %lu us for responses (KRANK_QUEUE_SPIN_US)", us);
}

static int
kbr_attach(void)
{
	struct krq *q = NULL;
	struct rlimit rl;
	size_t size = 65536;
	int e;

	pthread_mutex_lock(&kbr_att_lock);
	if (atomic_load(&kbr_att_state) != 0)
		goto out;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		size = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > (1u << 20) ?
		    (1u << 20) : rl.rlim_max < 1024 ? 1024 : rl.rlim_max;
	if ((e = kbr_fdtab_init(size)) != 0) {
		kbr_say("attach to %s: descriptor table of %zu: %s", kbr_sock,
		    size, strerror(e));
		atomic_store(&kbr_att_state, -1);
		goto out;
	}
	if ((e = krq_attach(kbr_sock, 0, &q)) != 0) {
		const char *why = krq_attach_error();
		kbr_say("attach to %s: %s%s%s; KRANK's sockets and files fail "
		    "with ENETDOWN", kbr_sock, strerror(e),
		    *why ? ": " : "", why);
		atomic_store(&kbr_att_state, -1);
		goto out;
	}
	kbr_spin_env(q);
	kbr_nrings = krq_nrings(q);
	kbr_rings = calloc(kbr_nrings, sizeof(*kbr_rings));
	e = kbr_rings == NULL ? ENOMEM : 0;
	for (unsigned i = 0; e == 0 && i < kbr_nrings; i++) {
		pthread_mutex_init(&kbr_rings[i].lock, NULL);
		e = krank_client_ring(q, i, &kbr_rings[i].c);
	}
	if (e != 0) {
		kbr_say("attach to %s: clients for %u rings: %s", kbr_sock,
		    kbr_nrings, strerror(e));
		atomic_store(&kbr_att_state, -1);
		goto out;
	}
	kbr_q = q;
	kbr_debug("attached to %s: %u rings, descriptor table of %zu",
	    kbr_sock, kbr_nrings, size);
	atomic_store(&kbr_att_state, 1);
out:
	pthread_mutex_unlock(&kbr_att_lock);
	return atomic_load(&kbr_att_state) == 1 ? 0 : ENETDOWN;
}

/*
 * Completions of asynchronous sends, lazily: whatever arrived (with a
 * synchronous call's answer, or since), or, with timeout < 0, at least
 * one.  Each says how many bytes the send left waiting in KRANK, or the
 * error the next call on the descriptor reports.  user: descriptor << 32
 * | bytes.
 */
static void
kbr_reap(struct kbr_ring *r, int64_t timeout)
{
	struct krank_cqe cq[32];
	int n;

	while (krank_pending(r->c) > 0 &&
	    (n = krank_complete(r->c, cq, 32, timeout)) > 0) {
		for (int i = 0; i < n; i++)
			kbr_async_done((int)(cq[i].user >> 32),
			    (uint32_t)cq[i].user, cq[i].res);
		timeout = 0;
	}
}

struct kbr_ring *
kbr_client(void)
{
	struct kbr_ring *r;
	unsigned gen = atomic_load_explicit(&kbr_gen, memory_order_relaxed);

	if (atomic_load_explicit(&kbr_att_state, memory_order_acquire) != 1 &&
	    (kbr_sock == NULL || kbr_attach() != 0)) {
		errno = ENETDOWN;
		return NULL;
	}
	if (kbr_tl_ring < 0 || kbr_tl_gen != gen) {
		kbr_tl_ring = (int)(atomic_fetch_add(&kbr_next_ring, 1) %
		    kbr_nrings);
		kbr_tl_gen = gen;
	}
	r = &kbr_rings[kbr_tl_ring];
	pthread_mutex_lock(&r->lock);
	if (kbr_stats_on)
		atomic_fetch_add_explicit(&kbr_n_ring, 1,
		    memory_order_relaxed);
	if (krank_pending(r->c) > 0) {
		int e = errno;
		kbr_reap(r, 0);
		errno = e;
	}
	return r;
}

void
kbr_put(struct kbr_ring *r)
{
	int e = errno;

	pthread_mutex_unlock(&r->lock);
	errno = e;
}

/* A placeholder: an eventfd nobody writes, close-on-exec always (KRANK's
 * descriptors cannot survive exec). */
static int
kbr_placeholder(void)
{
	return eventfd(0, EFD_CLOEXEC);
}

int
kbr_place(struct kbr_ring *r, int kfd, uint32_t flags, const char *what)
{
	int fd = kbr_placeholder();

	if (fd < 0 || kbr_fdtab_set(fd, kfd, flags) != 0) {
		int e = fd < 0 ? errno : EMFILE;
		if (fd >= 0)
			KBR_REAL(close)(fd);
		krank_close(r->c, kfd);
		kbr_debug("%s: KRANK descriptor %d has no placeholder: %s",
		    what, kfd, strerror(e));
		errno = e;
		return -1;
	}
	kbr_debug("%s: KRANK descriptor %d as %d", what, kfd, fd);
	return fd;
}

/* Close what stands at newfd now, as dup2 would, before it is replaced. */
static void
kbr_release_at(struct kbr_ring *r, int newfd)
{
	int okfd;
	uint32_t ofl;

	if (kbr_fdtab_get(newfd, &okfd, &ofl)) {
		kbr_fdtab_clear(newfd);
		kbr_esh_forget_fd(newfd);
		if (!(ofl & KBR_FD_DEAD) && r != NULL) {
			krank_close(r->c, okfd);
			kbr_reap(r, 0);	/* before the number is reused */
		}
	} else
		kbr_esh_destroy(newfd);
}

int
kbr_place_at(struct kbr_ring *r, int kfd, uint32_t flags, int newfd)
{
	int tmp = kbr_placeholder();

	if (tmp < 0 || newfd < 0 || (size_t)newfd >= kbr_fdtab_size()) {
		int e = tmp < 0 ? errno : EBADF;
		if (tmp >= 0)
			KBR_REAL(close)(tmp);
		krank_close(r->c, kfd);
		errno = e;
		return -1;
	}
	kbr_release_at(r, newfd);
	if (KBR_REAL(dup3)(tmp, newfd, O_CLOEXEC) < 0) {
		int e = errno;
		KBR_REAL(close)(tmp);
		krank_close(r->c, kfd);
		errno = e;
		return -1;
	}
	KBR_REAL(close)(tmp);
	kbr_fdtab_set(newfd, kfd, flags);
	kbr_debug("dup2: KRANK descriptor %d as %d", kfd, newfd);
	return newfd;
}

void
kbr_drop(int fd)
{
	kbr_fdtab_clear(fd);
	kbr_esh_forget_fd(fd);
	KBR_REAL(close)(fd);
}

/*
 * The common head of an interposer on a descriptor: Linux's own call for
 * a descriptor that is not KRANK's, EBADF for one inherited over fork,
 * else the calling thread's ring locked in r_ and KRANK's descriptor in
 * kfd_.
 */
#define KBR_ENTER(fd, linux_call)					\
	int kfd_;							\
	uint32_t fl_;							\
	struct kbr_ring *r_;						\
	if (!kbr_fdtab_get((fd), &kfd_, &fl_))				\
		return linux_call;					\
	if (fl_ & KBR_FD_DEAD) {					\
		errno = EBADF;						\
		return -1;						\
	}								\
	if ((r_ = kbr_client()) == NULL)				\
		return -1;						\
	(void)fl_

/* ---- sockets ----------------------------------------------------------- */

KBR_EXPORT int
socket(int domain, int type, int protocol)
{
	struct kbr_ring *r;
	int kfd;

	if ((domain != AF_INET && domain != AF_INET6) || !kbr_enabled()) {
		int fd = KBR_REAL(socket)(domain, type, protocol);
		if (kbr_enabled())
			kbr_debug("socket(family %d): Linux's, descriptor %d",
			    domain, fd);
		return fd;
	}
	if ((r = kbr_client()) == NULL)
		return -1;
	kfd = krank_socket(r->c, domain, type & ~SOCK_CLOEXEC, protocol);
	if (kfd < 0) {
		kbr_put(r);
		kbr_debug("socket(%s, %d): KRANK refuses: %s",
		    domain == AF_INET ? "AF_INET" : "AF_INET6", type & 0xf,
		    strerror(errno));
		return -1;
	}
	int fd = kbr_place(r, kfd, KBR_FD_SOCK |
	    ((type & 0xf) == SOCK_STREAM ? KBR_FD_STREAM : 0) |
	    ((type & SOCK_CLOEXEC) ? KBR_FD_CLOEXEC : 0),
	    domain == AF_INET ? "socket(AF_INET)" : "socket(AF_INET6)");
	kbr_put(r);
	return fd;
}

KBR_EXPORT int
bind(int fd, const struct sockaddr *a, socklen_t len)
{
	KBR_ENTER(fd, KBR_REAL(bind)(fd, a, len));
	int v = krank_bind(r_->c, kfd_, a, len);
	kbr_put(r_);
	return v;
}

KBR_EXPORT int
listen(int fd, int backlog)
{
	KBR_ENTER(fd, KBR_REAL(listen)(fd, backlog));
	int v = krank_listen(r_->c, kfd_, backlog);
	kbr_put(r_);
	if (v == 0)
		kbr_fdtab_flags_set(fd, KBR_FD_LISTEN);
	return v;
}

KBR_EXPORT int
accept4(int fd, struct sockaddr *a, socklen_t *lenp, int flags)
{
	KBR_ENTER(fd, KBR_REAL(accept4)(fd, a, lenp, flags));
	int nk = krank_accept4(r_->c, kfd_, a, lenp, flags & ~SOCK_CLOEXEC);
	if (nk < 0) {
		kbr_put(r_);
		kbr_rearm(fd, -1, 1, errno, true);
		return -1;
	}
	int nfd = kbr_place(r_, nk, KBR_FD_SOCK | KBR_FD_STREAM | KBR_FD_CONN |
	    ((flags & SOCK_CLOEXEC) ? KBR_FD_CLOEXEC : 0), "accept");
	kbr_put(r_);
	return nfd;
}

KBR_EXPORT int
accept(int fd, struct sockaddr *a, socklen_t *lenp)
{
	if (!kbr_fdtab_get(fd, NULL, NULL))
		return KBR_REAL(accept)(fd, a, lenp);
	return accept4(fd, a, lenp, 0);
}

KBR_EXPORT int
connect(int fd, const struct sockaddr *a, socklen_t len)
{
	KBR_ENTER(fd, KBR_REAL(connect)(fd, a, len));
	int v = krank_connect(r_->c, kfd_, a, len);
	kbr_put(r_);
	if (v == 0)
		kbr_fdtab_flags_set(fd, KBR_FD_CONN);
	return v;
}

KBR_EXPORT int
shutdown(int fd, int how)
{
	KBR_ENTER(fd, KBR_REAL(shutdown)(fd, how));
	int v = krank_shutdown(r_->c, kfd_, how);
	kbr_put(r_);
	/* Sends after it fail at once (EPIPE), as Linux's: synchronous. */
	if (v == 0 && how != SHUT_RD)
		kbr_fdtab_flags_clear(fd, KBR_FD_CONN);
	return v;
}

KBR_EXPORT int
getsockopt(int fd, int level, int name, void *val, socklen_t *lenp)
{
	KBR_ENTER(fd, KBR_REAL(getsockopt)(fd, level, name, val, lenp));
	int v = krank_getsockopt(r_->c, kfd_, level, name, val, lenp);
	kbr_put(r_);
	return v;
}

KBR_EXPORT int
setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	KBR_ENTER(fd, KBR_REAL(setsockopt)(fd, level, name, val, len));
	int v = krank_setsockopt(r_->c, kfd_, level, name, val, len);
	kbr_put(r_);
	if (v < 0 && errno == ENOPROTOOPT)
		kbr_debug("setsockopt(%d, level %d, option %d): KRANK does "
		    "not have it", fd, level, name);
	return v;
}

KBR_EXPORT int
getsockname(int fd, struct sockaddr *a, socklen_t *lenp)
{
	KBR_ENTER(fd, KBR_REAL(getsockname)(fd, a, lenp));
	int v = krank_getsockname(r_->c, kfd_, a, lenp);
	kbr_put(r_);
	return v;
}

KBR_EXPORT int
getpeername(int fd, struct sockaddr *a, socklen_t *lenp)
{
	KBR_ENTER(fd, KBR_REAL(getpeername)(fd, a, lenp));
	int v = krank_getpeername(r_->c, kfd_, a, lenp);
	kbr_put(r_);
	return v;
}

/* ---- data --------------------------------------------------------------- */

/* KRANK knows MSG_PEEK, MSG_TRUNC and MSG_DONTWAIT; MSG_NOSIGNAL is ours
 * (KRANK never signals a foreign process; we raise SIGPIPE as Linux
 * would); MSG_MORE and the rest are hints without effect here. */
#define KBR_MSG_KRANK (MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT)

static void
kbr_sigpipe(ssize_t v, int flags)
{
	if (v < 0 && errno == EPIPE && !(flags & MSG_NOSIGNAL)) {
		int e = errno;
		pthread_kill(pthread_self(), SIGPIPE);
		errno = e;
	}
}

/*
 * Bytes a poll fetched for fd (readiness with data, docs/bridge.md) are
 * read before anything KRANK still has, without a round trip: up to len
 * of them, or the error the fetch took from the socket.  Returns the
 * count, 0 when nothing is held, -1 with errno.  *done: the call is
 * answered (else MSG_WAITALL wants more from KRANK).
 */
static ssize_t
kbr_held_first(int fd, void *buf, size_t len, int flags, bool *done)
{
	int e = 0;
	long v;

	*done = false;
	if (kbr_held_avail(fd) == 0 ||
	    (v = kbr_held_take(fd, buf, len, (flags & MSG_PEEK) != 0,
	    &e)) == 0)
		return 0;
	if (v < 0) {
		*done = true;
		errno = e;
		return -1;
	}
	*done = !(flags & MSG_WAITALL) || (flags & MSG_PEEK) ||
	    (size_t)v == len;
	atomic_fetch_add_explicit(&kbr_n_held, 1, memory_order_relaxed);
	if (*done)
		kbr_rearm(fd, v, len, 0, true);
	return v;
}

static ssize_t
kbr_recv_k(struct kbr_ring *r, int fd, int kfd, void *buf, size_t len,
    int flags, struct sockaddr *from, socklen_t *fromlen)
{
	ssize_t v, got = 0;

	do {
		v = from != NULL ?
		    krank_recvfrom(r->c, kfd, (char *)buf + got,
		    len - (size_t)got, flags & KBR_MSG_KRANK, from, fromlen) :
		    krank_recv(r->c, kfd, (char *)buf + got,
		    len - (size_t)got, flags & KBR_MSG_KRANK);
		if (v <= 0)
			break;
		got += v;
		/* MSG_WAITALL: until len, the end of the stream or an
		 * error (what was got so far is returned then). */
	} while ((flags & MSG_WAITALL) && (size_t)got < len &&
	    !(flags & MSG_PEEK));
	if (got > 0)
		v = got;
	kbr_rearm(fd, v, len, errno, true);
	return v;
}

KBR_EXPORT ssize_t
recv(int fd, void *buf, size_t len, int flags)
{
	bool done;
	ssize_t h = kbr_held_first(fd, buf, len, flags, &done);
	if (done)
		return h;
	KBR_ENTER(fd, KBR_REAL(recv)(fd, buf, len, flags));
	ssize_t v = kbr_recv_k(r_, fd, kfd_, (char *)buf + h,
	    len - (size_t)h, flags, NULL, NULL);
	kbr_put(r_);
	return h == 0 ? v : v > 0 ? v + h : h;
}

KBR_EXPORT ssize_t
recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *from,
    socklen_t *fromlen)
{
	bool done;
	ssize_t h = kbr_held_first(fd, buf, len, flags, &done);
	/* A stream socket's bytes have no sender address (Linux's TCP
	 * leaves it unset and says length 0). */
	if (h > 0 && fromlen != NULL)
		*fromlen = 0;
	if (done)
		return h;
	KBR_ENTER(fd, KBR_REAL(recvfrom)(fd, buf, len, flags, from, fromlen));
	ssize_t v = kbr_recv_k(r_, fd, kfd_, (char *)buf + h,
	    len - (size_t)h, flags, h > 0 ? NULL : from, fromlen);
	kbr_put(r_);
	return h == 0 ? v : v > 0 ? v + h : h;
}

/*
 * An asynchronous send (docs/bridge.md): on a stream socket of a process
 * with one ring (so that every call is in one order), up to KBR_ASYNC_MAX
 * bytes are copied into the ring and posted, KRANK is woken, and the call
 * returns len without waiting; KRANK takes every byte (what the socket
 * has no room for waits in its send queue, in order).  At most
 * KBR_ASYNC_CREDIT bytes per descriptor are outstanding, and none while
 * KRANK said bytes wait: then the send is synchronous, which answers
 * EAGAIN on a full non-blocking socket as Linux does.  An error a
 * completion brings is the next send's.  Returns len, -1 with errno (an
 * earlier send's error), or -2: send synchronously.
 */
static ssize_t
kbr_send_async(int fd, const void *buf, size_t len, int flags)
{
	int kfd, e;
	uint32_t fl;

	if (!kbr_fdtab_get(fd, &kfd, &fl) || (fl & KBR_FD_DEAD))
		return -2;
	if ((fl & KBR_FD_ASYNC) && (e = kbr_async_error(fd)) != 0) {
		errno = e;
		kbr_sigpipe(-1, flags);
		return -1;
	}
	/* Only on a socket known to be connected (accepted, connected, or
	 * a send went through), not shut down for writing: elsewhere the
	 * send fails at once on Linux, and must here too. */
	if (!kbr_async_on || kbr_nrings != 1 || len == 0 ||
	    len > KBR_ASYNC_MAX || (fl & (KBR_FD_STREAM | KBR_FD_LISTEN |
	    KBR_FD_SHARED | KBR_FD_CONN)) != (KBR_FD_STREAM | KBR_FD_CONN) ||
	    (flags & ~(MSG_NOSIGNAL | MSG_DONTWAIT | MSG_MORE)) ||
	    !kbr_async_take(fd, len, KBR_ASYNC_CREDIT))
		return -2;
	struct kbr_ring *r = kbr_client();
	if (r == NULL) {
		kbr_async_done(fd, len, 0);
		return -1;
	}
	uint64_t user = (uint64_t)(uint32_t)fd << 32 | (uint32_t)len;
	int v = krank_submit_send_all(r->c, kfd, buf, len, user);
	if (v < 0 && errno == EAGAIN) {
		/* Every slot of the ring is in use: wait for one. */
		kbr_reap(r, -1);
		v = krank_submit_send_all(r->c, kfd, buf, len, user);
	}
	if (v < 0) {
		kbr_async_done(fd, len, 0);
		kbr_put(r);
		return -2;
	}
	krank_flush(r->c);
	kbr_put(r);
	if (kbr_stats_on)
		atomic_fetch_add_explicit(&kbr_n_async, 1,
		    memory_order_relaxed);
	if (!(fl & KBR_FD_ASYNC))
		kbr_fdtab_flags_set(fd, KBR_FD_ASYNC);
	return (ssize_t)len;
}

/* A synchronous send on a descriptor that had asynchronous ones: KRANK
 * sent what waited first (else it answered EAGAIN or the error). */
static void
kbr_sync_sent(int fd, uint32_t fl, ssize_t v)
{
	if ((fl & KBR_FD_ASYNC) && v >= 0)
		kbr_async_sent(fd);
	/* A send went through: connected (a non-blocking connect's end
	 * is not seen otherwise). */
	if (v > 0 && (fl & (KBR_FD_STREAM | KBR_FD_CONN)) == KBR_FD_STREAM)
		kbr_fdtab_flags_set(fd, KBR_FD_CONN);
}

KBR_EXPORT ssize_t
send(int fd, const void *buf, size_t len, int flags)
{
	ssize_t a = kbr_send_async(fd, buf, len, flags);
	if (a != -2)
		return a;
	KBR_ENTER(fd, KBR_REAL(send)(fd, buf, len, flags));
	ssize_t v = krank_send(r_->c, kfd_, buf, len, flags & KBR_MSG_KRANK);
	kbr_put(r_);
	kbr_sync_sent(fd, fl_, v);
	kbr_rearm(fd, v, len, errno, false);
	kbr_sigpipe(v, flags);
	return v;
}

KBR_EXPORT ssize_t
sendto(int fd, const void *buf, size_t len, int flags,
    const struct sockaddr *to, socklen_t tolen)
{
	if (to == NULL) {
		ssize_t a = kbr_send_async(fd, buf, len, flags);
		if (a != -2)
			return a;
	}
	KBR_ENTER(fd, KBR_REAL(sendto)(fd, buf, len, flags, to, tolen));
	ssize_t v = to == NULL ?
	    krank_send(r_->c, kfd_, buf, len, flags & KBR_MSG_KRANK) :
	    krank_sendto(r_->c, kfd_, buf, len, flags & KBR_MSG_KRANK, to,
	    tolen);
	kbr_put(r_);
	kbr_sync_sent(fd, fl_, v);
	kbr_rearm(fd, v, len, errno, false);
	kbr_sigpipe(v, flags);
	return v;
}

KBR_EXPORT ssize_t
read(int fd, void *buf, size_t len)
{
	bool done;
	ssize_t h = kbr_held_first(fd, buf, len, 0, &done);
	if (done)
		return h;
	KBR_ENTER(fd, KBR_REAL(read)(fd, buf, len));
	ssize_t v = krank_read(r_->c, kfd_, buf, len);
	kbr_put(r_);
	kbr_rearm(fd, v, len, errno, true);
	return v;
}

KBR_EXPORT ssize_t
write(int fd, const void *buf, size_t len)
{
	ssize_t a = kbr_send_async(fd, buf, len, 0);
	if (a != -2)
		return a;
	KBR_ENTER(fd, KBR_REAL(write)(fd, buf, len));
	/* After asynchronous sends, a send: KRANK's send path knows the
	 * send queue. */
	ssize_t v = (fl_ & KBR_FD_ASYNC) ? krank_send(r_->c, kfd_, buf, len,
	    0) : krank_write(r_->c, kfd_, buf, len);
	kbr_put(r_);
	kbr_sync_sent(fd, fl_, v);
	kbr_rearm(fd, v, len, errno, false);
	if (fl_ & KBR_FD_SOCK)
		kbr_sigpipe(v, 0);
	return v;
}

/* The _chk variants of _FORTIFY_SOURCE: the check, then the call. */
KBR_EXPORT ssize_t
__read_chk(int fd, void *buf, size_t len, size_t buflen)
{
	if (len > buflen)
		abort();
	return read(fd, buf, len);
}

KBR_EXPORT ssize_t
__recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags)
{
	if (len > buflen)
		abort();
	return recv(fd, buf, len, flags);
}

KBR_EXPORT ssize_t
__recvfrom_chk(int fd, void *buf, size_t len, size_t buflen, int flags,
    struct sockaddr *from, socklen_t *fromlen)
{
	if (len > buflen)
		abort();
	return recvfrom(fd, buf, len, flags, from, fromlen);
}

/* Vectors are gathered into one buffer (or scattered from one): KRANK's
 * calls take one. */
#define KBR_STACKBUF 8192

static size_t
kbr_iov_len(const struct iovec *iov, int n, int *errp)
{
	size_t t = 0;

	*errp = 0;
	if (n < 0 || n > IOV_MAX) {
		*errp = EINVAL;
		return 0;
	}
	for (int i = 0; i < n; i++) {
		if (iov[i].iov_len > SSIZE_MAX - t) {
			*errp = EINVAL;
			return 0;
		}
		t += iov[i].iov_len;
	}
	return t;
}

static void
kbr_scatter(const struct iovec *iov, int n, const char *src, size_t len)
{
	for (int i = 0; i < n && len > 0; i++) {
		size_t k = iov[i].iov_len < len ? iov[i].iov_len : len;
		memcpy(iov[i].iov_base, src, k);
		src += k;
		len -= k;
	}
}

static void
kbr_gather(const struct iovec *iov, int n, char *dst)
{
	for (int i = 0; i < n; i++) {
		memcpy(dst, iov[i].iov_base, iov[i].iov_len);
		dst += iov[i].iov_len;
	}
}

/* One KRANK call for a vector: read-like (in) or write-like; msg gives
 * the name (sendmsg/recvmsg), sock the call family. */
static ssize_t
kbr_vec(struct kbr_ring *r, int fd, int kfd, const struct iovec *iov,
    int n, bool in, bool sock, int flags, struct msghdr *msg)
{
	char stack[KBR_STACKBUF], *buf = stack;
	size_t len;
	ssize_t v;
	int e;

	len = kbr_iov_len(iov, n, &e);
	if (e != 0) {
		errno = e;
		return -1;
	}
	if (len > sizeof(stack) && (buf = malloc(len)) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	bool done = false;
	if (in && (v = kbr_held_first(fd, buf, len, sock ? flags : 0,
	    &done)) != 0) {
		/* Held bytes first; MSG_WAITALL's rest from KRANK. */
		if (!done) {
			ssize_t w = kbr_recv_k(r, fd, kfd, buf + v,
			    len - (size_t)v, flags, NULL, NULL);
			if (w > 0)
				v += w;
		}
		if (v > 0)
			kbr_scatter(iov, n, buf, (size_t)v);
		if (v > 0 && msg != NULL)
			msg->msg_namelen = 0;
	} else if (in) {
		if (msg != NULL && msg->msg_name != NULL)
			v = kbr_recv_k(r, fd, kfd, buf, len, flags,
			    msg->msg_name, &msg->msg_namelen);
		else if (sock)
			v = kbr_recv_k(r, fd, kfd, buf, len, flags, NULL,
			    NULL);
		else {
			v = krank_read(r->c, kfd, buf, len);
			kbr_rearm(fd, v, len, errno, true);
		}
		if (v > 0)
			kbr_scatter(iov, n, buf, (size_t)v);
	} else {
		kbr_gather(iov, n, buf);
		if (msg != NULL && msg->msg_name != NULL)
			v = krank_sendto(r->c, kfd, buf, len,
			    flags & KBR_MSG_KRANK, msg->msg_name,
			    msg->msg_namelen);
		else if (sock)
			v = krank_send(r->c, kfd, buf, len,
			    flags & KBR_MSG_KRANK);
		else
			v = krank_write(r->c, kfd, buf, len);
		kbr_rearm(fd, v, len, errno, false);
	}
	if (buf != stack) {
		int e2 = errno;
		free(buf);
		errno = e2;
	}
	return v;
}

KBR_EXPORT ssize_t
readv(int fd, const struct iovec *iov, int n)
{
	KBR_ENTER(fd, KBR_REAL(readv)(fd, iov, n));
	ssize_t v = kbr_vec(r_, fd, kfd_, iov, n, true, false, 0, NULL);
	kbr_put(r_);
	return v;
}

/* A small vector goes as one asynchronous send (-2: it does not). */
static ssize_t
kbr_vec_async(int fd, const struct iovec *iov, int n, int flags)
{
	char buf[KBR_ASYNC_MAX];
	int e;
	size_t len;

	if (!kbr_async_on || kbr_nrings != 1 || kbr_fdtab_get(fd, NULL,
	    NULL) == false)
		return -2;
	len = kbr_iov_len(iov, n, &e);
	if (e != 0 || len > sizeof(buf))
		return -2;
	kbr_gather(iov, n, buf);
	return kbr_send_async(fd, buf, len, flags);
}

KBR_EXPORT ssize_t
writev(int fd, const struct iovec *iov, int n)
{
	ssize_t a = kbr_vec_async(fd, iov, n, 0);
	if (a != -2)
		return a;
	KBR_ENTER(fd, KBR_REAL(writev)(fd, iov, n));
	ssize_t v = kbr_vec(r_, fd, kfd_, iov, n, false,
	    (fl_ & KBR_FD_SOCK) != 0, 0, NULL);
	kbr_put(r_);
	kbr_sync_sent(fd, fl_, v);
	if (fl_ & KBR_FD_SOCK)
		kbr_sigpipe(v, 0);
	return v;
}

KBR_EXPORT ssize_t
sendmsg(int fd, const struct msghdr *msg, int flags)
{
	if (msg->msg_name == NULL && msg->msg_controllen == 0) {
		ssize_t a = kbr_vec_async(fd, msg->msg_iov,
		    (int)msg->msg_iovlen, flags);
		if (a != -2)
			return a;
	}
	KBR_ENTER(fd, KBR_REAL(sendmsg)(fd, msg, flags));
	if (msg->msg_controllen > 0) {
		kbr_put(r_);
		kbr_debug("sendmsg(%d): ancillary data is not served by "
		    "KRANK", fd);
		errno = EOPNOTSUPP;
		return -1;
	}
	ssize_t v = kbr_vec(r_, fd, kfd_, msg->msg_iov, (int)msg->msg_iovlen,
	    false, true, flags, (struct msghdr *)msg);
	kbr_put(r_);
	kbr_sync_sent(fd, fl_, v);
	kbr_sigpipe(v, flags);
	return v;
}

KBR_EXPORT ssize_t
recvmsg(int fd, struct msghdr *msg, int flags)
{
	KBR_ENTER(fd, KBR_REAL(recvmsg)(fd, msg, flags));
	if (msg->msg_controllen > 0 && (flags & MSG_ERRQUEUE)) {
		kbr_put(r_);
		errno = EOPNOTSUPP;
		return -1;
	}
	ssize_t v = kbr_vec(r_, fd, kfd_, msg->msg_iov, (int)msg->msg_iovlen,
	    true, true, flags, msg);
	kbr_put(r_);
	if (v >= 0) {
		msg->msg_controllen = 0;	/* no ancillary data ever */
		msg->msg_flags = 0;
	}
	return v;
}

/* sendfile to a KRANK socket or file: read from Linux's descriptor,
 * write to KRANK's. */
KBR_EXPORT ssize_t
sendfile(int out, int in, off_t *offp, size_t count)
{
	char buf[65536];
	ssize_t got, put;

	KBR_ENTER(out, KBR_REAL(sendfile)(out, in, offp, count));
	kbr_put(r_);
	if (kbr_fdtab_get(in, NULL, NULL)) {
		errno = EINVAL;	/* KRANK to KRANK: not served */
		return -1;
	}
	if (count > sizeof(buf))
		count = sizeof(buf);
	got = offp != NULL ? KBR_REAL(pread)(in, buf, count, *offp) :
	    KBR_REAL(read)(in, buf, count);
	if (got <= 0)
		return got;
	put = write(out, buf, (size_t)got);
	if (put > 0) {
		if (offp != NULL)
			*offp += put;
		else if (put < got)
			KBR_REAL(lseek)(in, put - got, SEEK_CUR);
	}
	return put;
}
KBR_EXPORT ssize_t sendfile64(int, int, off_t *, size_t)
    __attribute__((alias("sendfile")));

/* ---- descriptors ---------------------------------------------------------- */

KBR_EXPORT int
close(int fd)
{
	int kfd;
	uint32_t fl;

	if (!kbr_fdtab_get(fd, &kfd, &fl)) {
		kbr_esh_destroy(fd);	/* an epoll instance, maybe */
		return KBR_REAL(close)(fd);
	}
	int v = 0;
	if (!(fl & KBR_FD_DEAD)) {
		struct kbr_ring *r = kbr_client();
		if (r != NULL) {
			v = krank_close(r->c, kfd);
			/* Completions of its sends came before the answer:
			 * taken now, before the number is reused. */
			if (fl & KBR_FD_ASYNC)
				kbr_reap(r, 0);
			kbr_put(r);
		}
	}
	int e = errno;
	kbr_drop(fd);
	errno = e;
	return v;
}

/*
 * dup made nfd of old (KRANK descriptor kfd, flags fl): both stop sending
 * asynchronously (KRANK's send queue is per descriptor, and the two must
 * stay in one order), and what waits in old's queue is sent as far as
 * the socket takes it now.
 */
static void
kbr_dup_mark(struct kbr_ring *r, int kfd, uint32_t fl, int old, int nfd)
{
	if (!(fl & KBR_FD_STREAM))
		return;
	kbr_fdtab_flags_set(old, KBR_FD_SHARED);
	kbr_fdtab_flags_set(nfd, KBR_FD_SHARED);
	if (fl & KBR_FD_ASYNC) {
		int e = errno;
		(void)krank_send(r->c, kfd, "", 0, MSG_DONTWAIT);
		errno = e;
	}
}

KBR_EXPORT int
dup(int fd)
{
	KBR_ENTER(fd, KBR_REAL(dup)(fd));
	int nk = krank_dup(r_->c, kfd_);
	int nfd = nk < 0 ? -1 :
	    kbr_place(r_, nk, fl_ & KBR_FD_DUPKEEP, "dup");
	if (nfd >= 0)
		kbr_dup_mark(r_, kfd_, fl_, fd, nfd);
	kbr_put(r_);
	if (nfd >= 0)
		kbr_held_share(fd, nfd);
	return nfd;
}

static int
kbr_dup3(int old, int newfd, int flags, bool is_dup2)
{
	int kfd;
	uint32_t fl;

	if (!kbr_fdtab_get(old, &kfd, &fl)) {
		/* Linux's descriptor onto newfd: KRANK's there goes. */
		if (old != newfd && kbr_fdtab_get(newfd, NULL, NULL) &&
		    KBR_REAL(fcntl)(old, F_GETFD) >= 0) {
			struct kbr_ring *r = kbr_client();
			kbr_release_at(r, newfd);
			if (r != NULL)
				kbr_put(r);
		} else if (old != newfd)
			kbr_esh_destroy(newfd);
		return is_dup2 ? KBR_REAL(dup2)(old, newfd) :
		    KBR_REAL(dup3)(old, newfd, flags);
	}
	if (fl & KBR_FD_DEAD) {
		errno = EBADF;
		return -1;
	}
	if (old == newfd) {
		if (!is_dup2) {
			errno = EINVAL;
			return -1;
		}
		return newfd;
	}
	if (flags & ~O_CLOEXEC) {
		errno = EINVAL;
		return -1;
	}
	struct kbr_ring *r = kbr_client();
	if (r == NULL)
		return -1;
	int nk = krank_dup(r->c, kfd);
	int v = nk < 0 ? -1 : kbr_place_at(r, nk, (fl & KBR_FD_DUPKEEP) |
	    ((flags & O_CLOEXEC) ? KBR_FD_CLOEXEC : 0), newfd);
	if (v >= 0)
		kbr_dup_mark(r, kfd, fl, old, v);
	kbr_put(r);
	if (v >= 0)
		kbr_held_share(old, v);
	return v;
}

KBR_EXPORT int
dup2(int old, int newfd)
{
	return kbr_dup3(old, newfd, 0, true);
}

KBR_EXPORT int
dup3(int old, int newfd, int flags)
{
	return kbr_dup3(old, newfd, flags, false);
}

static int
kbr_fcntl_k(int fd, int cmd, long arg)
{
	KBR_ENTER(fd, -1);
	int v, nk;

	switch (cmd) {
	case F_GETFD:
		v = (fl_ & KBR_FD_CLOEXEC) ? FD_CLOEXEC : 0;
		break;
	case F_SETFD:
		if (arg & FD_CLOEXEC)
			kbr_fdtab_flags_set(fd, KBR_FD_CLOEXEC);
		else
			kbr_fdtab_flags_clear(fd, KBR_FD_CLOEXEC);
		v = 0;
		break;
	case F_GETFL:
	case F_SETFL:
		v = krank_fcntl(r_->c, kfd_, cmd, (int)arg);
		break;
	case F_DUPFD:
	case F_DUPFD_CLOEXEC:
		nk = krank_dup(r_->c, kfd_);
		if (nk < 0) {
			v = -1;
			break;
		}
		int tmp = kbr_placeholder();
		v = tmp < 0 ? -1 :
		    KBR_REAL(fcntl)(tmp, F_DUPFD_CLOEXEC, (int)arg);
		if (tmp >= 0)
			KBR_REAL(close)(tmp);
		if (v < 0 || kbr_fdtab_set(v, nk, (fl_ & KBR_FD_DUPKEEP) |
		    (cmd == F_DUPFD_CLOEXEC ? KBR_FD_CLOEXEC : 0)) != 0) {
			int e = v < 0 ? errno : EMFILE;
			if (v >= 0)
				KBR_REAL(close)(v);
			krank_close(r_->c, nk);
			errno = e;
			v = -1;
		} else {
			kbr_held_share(fd, v);
			kbr_dup_mark(r_, kfd_, fl_, fd, v);
			kbr_debug("fcntl(F_DUPFD): KRANK descriptor %d as %d",
			    nk, v);
		}
		break;
	default:
		kbr_debug("fcntl(%d, %d): not served for KRANK's descriptors",
		    fd, cmd);
		errno = EINVAL;
		v = -1;
	}
	kbr_put(r_);
	return v;
}

KBR_EXPORT int
fcntl(int fd, int cmd, ...)
{
	va_list ap;
	long arg;

	va_start(ap, cmd);
	arg = va_arg(ap, long);	/* int, long or a pointer: all fit */
	va_end(ap);
	if (!kbr_fdtab_get(fd, NULL, NULL))
		return KBR_REAL(fcntl)(fd, cmd, arg);
	return kbr_fcntl_k(fd, cmd, arg);
}
KBR_EXPORT int fcntl64(int, int, ...) __attribute__((alias("fcntl")));

KBR_EXPORT int
ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	KBR_ENTER(fd, KBR_REAL(ioctl)(fd, req, arg));
	int v;
	if (req == FIONBIO) {
		int fl = krank_fcntl(r_->c, kfd_, F_GETFL, 0);
		v = fl < 0 ? -1 : krank_fcntl(r_->c, kfd_, F_SETFL,
		    *(int *)arg ? fl | O_NONBLOCK : fl & ~O_NONBLOCK);
	} else if (req == FIONREAD && (fl_ & KBR_FD_SOCK)) {
		/* KRANK has no FIONREAD: a peek says how much is there, up
		 * to the size of the peek. */
		char peek[16384];
		ssize_t n = krank_recv(r_->c, kfd_, peek, sizeof(peek),
		    MSG_PEEK | MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			n = 0;
		v = n < 0 ? -1 : 0;
		if (n >= 0) {
			/* Held bytes come first (an error held: + 1). */
			size_t h = kbr_held_avail(fd);
			*(int *)arg = (int)n + (h > INT32_MAX - 16384 ?
			    INT32_MAX - 16384 : (int)h);
		}
	} else {
		kbr_debug("ioctl(%d, %#lx): not served for KRANK's "
		    "descriptors", fd, req);
		errno = ENOTTY;
		v = -1;
	}
	kbr_put(r_);
	return v;
}
