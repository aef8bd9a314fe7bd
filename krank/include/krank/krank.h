/*
 * krank.h - libkrank's synchronous system calls: a client (a Linux process
 * attached to KRANK, or an isolate that prefers the queue) calls
 * krank_open, krank_read, krank_socket ... as it would call libc.  Each
 * call encodes a krank.proto Request, hands it to a transport (hB's
 * per-CPU rings, or any other with the same two functions), waits for the
 * Response and decodes it.  Errors come back as -1 and errno (the host's
 * numbering); krank_client_error says the krank.proto Errno value.
 */
#ifndef KRANK_KRANK_H
#define KRANK_KRANK_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * How requests reach KRANK.  post hands one encoded request of len bytes
 * over; take waits for the next response and copies it into buf (cap
 * bytes), its length in *lenp.  Both return 0 or an errno value; a client
 * handle is used by one thread at a time, so neither needs a lock of its
 * own for it.  Responses come in request order.
 *
 * Payloads: a buffer that lies inside the buffer area [area,
 * area+area_len) (the client's mapping of the region KRANK also maps)
 * travels by reference, without a copy; one outside it travels inline
 * when at most inline_max bytes, else it is copied through the bounce
 * range [bounce_off, bounce_off+bounce_len) of the area, at most
 * bounce_len bytes per request.
 */
struct krank_transport {
	int (*post)(void *arg, const void *msg, size_t len);
	int (*take)(void *arg, void *buf, size_t cap, size_t *lenp);
	void *arg;
	void *area;			/* NULL: no area, payloads inline */
	size_t area_len;
	size_t bounce_off, bounce_len;	/* inside the area; 0 len: none */
	size_t inline_max;		/* <= 4096; 0: 192 */
	size_t msg_max;			/* largest message (a ring slot);
					 * 0: 8192 */
	void (*release)(void *arg);	/* krank_client_destroy calls it with
					 * arg (not when create fails); NULL:
					 * nothing to release */
	/*
	 * Optional, for the asynchronous calls (krank_submit_*): post_quiet
	 * posts without waking KRANK (EAGAIN when no slot is free), bell
	 * wakes it for what was posted, take_wait is take with a timeout
	 * (ns; < 0 none, 0 do not wait: EAGAIN or ETIMEDOUT when nothing
	 * came).  Without them submissions use post (each one wakes KRANK)
	 * and krank_complete can only wait without a limit.
	 */
	int (*post_quiet)(void *arg, const void *msg, size_t len);
	void (*bell)(void *arg);
	int (*take_wait)(void *arg, void *buf, size_t cap, size_t *lenp,
	    int64_t timeout_ns);
};

struct krank_client;

/* krank_client_create - a client over t (copied).  EINVAL (a bounce
 * range outside the area, inline_max over 4096), ENOMEM. */
int krank_client_create(const struct krank_transport *t,
    struct krank_client **cp);

/*
 * krank_client_ring - a client over ring pair `ring` of a region attached
 * with krq_attach (or mapped with krq_map; <krank/krq.h>): each call posts
 * its request to that ring, rings the bell and waits for the response
 * (spinning, then sleeping on a futex).  The ring's share of the buffer
 * area (area / nrings) is its bounce range; a buffer the caller places
 * in the area (krq_area) outside the bounce ranges travels by reference.  One thread at a time per client: give each
 * thread its own ring (sched_getcpu() % krq_nrings(q) is a good choice).
 * The region must outlive the client.  EINVAL (ring out of range), ENOMEM.
 */
struct krq;
int krank_client_ring(struct krq *q, unsigned ring, struct krank_client **cp);
void krank_client_destroy(struct krank_client *c);
/* krank_client_error - the last call's krank.proto Errno (NetBSD
 * numbering: 0 OK, 2 ENOENT, 35 EAGAIN ...); a transport or decoding
 * failure of the call itself is 5 (EIO), with errno saying which. */
int krank_client_error(const struct krank_client *c);

/* krank_null - the null call: KRANK's API version (>= 1), or -1
 * (EPROTONOSUPPORT: this library's version is not served). */
int krank_null(struct krank_client *c);

/* Files and directories: as the POSIX calls of the same name, on the
 * client's own descriptor table in KRANK. */
int krank_open(struct krank_client *c, const char *path, int flags,
    unsigned mode);
int krank_openat(struct krank_client *c, int dirfd, const char *path,
    int flags, unsigned mode);
int krank_close(struct krank_client *c, int fd);
ssize_t krank_read(struct krank_client *c, int fd, void *buf, size_t len);
ssize_t krank_write(struct krank_client *c, int fd, const void *buf,
    size_t len);
ssize_t krank_pread(struct krank_client *c, int fd, void *buf, size_t len,
    off_t off);
ssize_t krank_pwrite(struct krank_client *c, int fd, const void *buf,
    size_t len, off_t off);
off_t krank_lseek(struct krank_client *c, int fd, off_t off, int whence);
int krank_fstat(struct krank_client *c, int fd, struct stat *st);
int krank_stat(struct krank_client *c, const char *path, struct stat *st);
int krank_lstat(struct krank_client *c, const char *path, struct stat *st);
int krank_mkdir(struct krank_client *c, const char *path, unsigned mode);
int krank_rmdir(struct krank_client *c, const char *path);
int krank_unlink(struct krank_client *c, const char *path);
int krank_rename(struct krank_client *c, const char *from, const char *to);
/* krank_getdents - Linux dirent64 records into buf (getdents64(2)). */
ssize_t krank_getdents(struct krank_client *c, int fd, void *buf,
    size_t len);
int krank_fsync(struct krank_client *c, int fd);
int krank_ftruncate(struct krank_client *c, int fd, off_t len);
int krank_dup(struct krank_client *c, int fd);
int krank_dup2(struct krank_client *c, int fd, int newfd);
/* krank_fcntl - F_GETFD, F_SETFD, F_GETFL, F_SETFL (O_NONBLOCK,
 * O_APPEND), F_DUPFD, F_DUPFD_CLOEXEC; one int argument. */
int krank_fcntl(struct krank_client *c, int fd, int cmd, int arg);

/* Sockets (AF_INET; addresses are struct sockaddr_in).  The domain
 * KRANK_AF_HOSTNET makes a host (Linux) socket instead, for management
 * traffic to destinations the deployment's hostnet allow list names
 * (EACCES otherwise); it takes struct sockaddr_in and sockaddr_in6 and
 * cannot bind or listen (docs/hostnet.md; KRS_AF_HOSTNET of
 * <krank/krs_hostnet.h>). */
#define KRANK_AF_HOSTNET	19272
int krank_socket(struct krank_client *c, int domain, int type, int protocol);
int krank_bind(struct krank_client *c, int fd, const struct sockaddr *addr,
    socklen_t len);
int krank_listen(struct krank_client *c, int fd, int backlog);
int krank_accept(struct krank_client *c, int fd, struct sockaddr *addr,
    socklen_t *lenp);
int krank_accept4(struct krank_client *c, int fd, struct sockaddr *addr,
    socklen_t *lenp, int flags);
int krank_connect(struct krank_client *c, int fd,
    const struct sockaddr *addr, socklen_t len);
ssize_t krank_send(struct krank_client *c, int fd, const void *buf,
    size_t len, int flags);
ssize_t krank_recv(struct krank_client *c, int fd, void *buf, size_t len,
    int flags);
ssize_t krank_sendto(struct krank_client *c, int fd, const void *buf,
    size_t len, int flags, const struct sockaddr *to, socklen_t tolen);
ssize_t krank_recvfrom(struct krank_client *c, int fd, void *buf, size_t len,
    int flags, struct sockaddr *from, socklen_t *fromlenp);
int krank_shutdown(struct krank_client *c, int fd, int how);
int krank_getsockopt(struct krank_client *c, int fd, int level, int name,
    void *val, socklen_t *lenp);
int krank_setsockopt(struct krank_client *c, int fd, int level, int name,
    const void *val, socklen_t len);
int krank_getsockname(struct krank_client *c, int fd, struct sockaddr *addr,
    socklen_t *lenp);
int krank_getpeername(struct krank_client *c, int fd, struct sockaddr *addr,
    socklen_t *lenp);
/* krank_poll - as poll(2) over the client's KRANK descriptors (at most
 * 1024). */
int krank_poll(struct krank_client *c, struct pollfd *fds, nfds_t nfds,
    int timeout_ms);
/*
 * krank_poll_fetch - krank_poll that also receives data: for each fds[i]
 * with fetch[i] set (a stream socket) that is readable, KRANK receives up
 * to fetch_max bytes (non-blocking) and returns them with the answer, so
 * that the read after the poll needs no round trip.  got[i] (nfds
 * entries) says what came: len > 0 bytes at data (inside the client's
 * bounce range: valid until its next call), 0 nothing, < 0 -errno of a
 * receive that failed (the socket's error, taken from it: the caller
 * must report it).  The bytes are gone from the socket: the caller holds
 * them.  Without a bounce range (or from a KRANK that does not fetch),
 * nothing is fetched.  Returns as krank_poll.
 */
struct krank_fetched {
	const void *data;
	int32_t len;
};
int krank_poll_fetch(struct krank_client *c, struct pollfd *fds,
    nfds_t nfds, int timeout_ms, const uint8_t *fetch, size_t fetch_max,
    struct krank_fetched *got);

/* Time and randomness. */
int krank_clock_gettime(struct krank_client *c, clockid_t clk,
    struct timespec *ts);
int krank_nanosleep(struct krank_client *c, const struct timespec *req);
ssize_t krank_getrandom(struct krank_client *c, void *buf, size_t len,
    unsigned flags);

/* Isolates (for clients KRANK allows to; else EPERM).  krank_isolate_spawn
 * returns the new isolate's id; argv NULL-terminated (NULL: its name). */
int krank_isolate_spawn(struct krank_client *c, const char *elf,
    const char *name, char *const argv[], int core);
int krank_isolate_kill(struct krank_client *c, int id);
/* krank_isolate_wait - until the isolate ends (timeout_ns < 0: no limit);
 * its state (2 exited, 3 faulted, 4 killed ...) and exit status. */
int krank_isolate_wait(struct krank_client *c, int id, int64_t timeout_ns,
    int *statep, int *statusp);

/*
 * Channels (KRANK's named zero-copy channels).  A buffer is its byte
 * offset in the channel's pool; the client maps the pool's memfd, which
 * it gets with krq_chan_map (<krank/krq.h>).  krank_chan_create makes
 * the channel name and returns its receive end; krank_chan_open takes
 * the send end of a channel another created.  alloc returns a free
 * buffer's offset (timeout_ms < 0: wait without limit, 0: EAGAIN at
 * once); send hands it with len bytes to the receiver; recv takes the
 * oldest (len 0: end of stream); release gives a buffer back.
 * krank_chan_pool - the pool's geometry: size, buffers, buffer size,
 * stride.  Close an end with krank_close.
 */
int krank_chan_create(struct krank_client *c, const char *name,
    uint32_t nbufs, uint32_t bufsize, int flags);
int krank_chan_open(struct krank_client *c, const char *name, int flags);
int krank_chan_alloc(struct krank_client *c, int fd, int timeout_ms,
    uint64_t *offp);
int krank_chan_send(struct krank_client *c, int fd, uint64_t off,
    uint32_t len);
int krank_chan_recv(struct krank_client *c, int fd, int timeout_ms,
    uint64_t *offp, uint32_t *lenp);
int krank_chan_release(struct krank_client *c, int fd, uint64_t off);
int krank_chan_pool(struct krank_client *c, int fd, uint64_t *sizep,
    uint32_t *nbufsp, uint32_t *bufsizep, uint32_t *stridep);

/*
 * Asynchronous calls: submit many, wake KRANK once (krank_flush), and
 * collect the completions later, in submission order (krank_complete).
 * Each submission carries a user value that comes back in its
 * completion; res is the call's value (bytes moved, 0) or -errno (the
 * host's numbering).  A submission returns 0, or -1 with errno: EAGAIN
 * (as many requests outstanding as the transport holds: complete some
 * first), EINVAL (a payload that could travel only through the bounce
 * range, which one call at a time owns: put buffers of more than
 * inline_max bytes inside the buffer area, krq_area), EMSGSIZE, EPIPE.
 * A read's buffer must stay valid, and a write's buffer unchanged, until
 * its completion.  Synchronous calls may be mixed in: completions that
 * arrive before their answer are kept for krank_complete.
 */
struct krank_cqe {
	uint64_t user;
	int64_t res;
};
int krank_submit_null(struct krank_client *c, uint64_t user);
int krank_submit_read(struct krank_client *c, int fd, void *buf, size_t len,
    uint64_t user);
int krank_submit_pread(struct krank_client *c, int fd, void *buf, size_t len,
    off_t off, uint64_t user);
int krank_submit_recv(struct krank_client *c, int fd, void *buf, size_t len,
    int flags, uint64_t user);
int krank_submit_write(struct krank_client *c, int fd, const void *buf,
    size_t len, uint64_t user);
int krank_submit_pwrite(struct krank_client *c, int fd, const void *buf,
    size_t len, off_t off, uint64_t user);
int krank_submit_send(struct krank_client *c, int fd, const void *buf,
    size_t len, int flags, uint64_t user);
/*
 * krank_submit_send_all - an asynchronous send that KRANK takes whole: on
 * a stream socket, what the socket buffer cannot take yet waits in
 * KRANK's send queue of the client, in order before the descriptor's
 * later sends (which then answer EAGAIN on a non-blocking socket while
 * bytes still wait), and goes out as room appears: at the client's next
 * send, shutdown, close or poll (a poll does not report the descriptor
 * writable while bytes wait; a close with bytes waiting closes after
 * them).  The completion's res is the number of the descriptor's bytes
 * waiting after this send (0: all in the socket), or -errno (ENOBUFS:
 * the queue's bounds, 256 KiB per descriptor and 64 MiB per client,
 * were reached and the bytes were dropped).  A buffer outside the area
 * goes inline, copied at submission, up to the slot's room (at most 4096
 * bytes; more: EINVAL); one in the area travels by reference and must
 * stay unchanged until its completion.
 */
int krank_submit_send_all(struct krank_client *c, int fd, const void *buf,
    size_t len, uint64_t user);
int krank_submit_fsync(struct krank_client *c, int fd, uint64_t user);
int krank_submit_close(struct krank_client *c, int fd, uint64_t user);
/* krank_flush - wake KRANK for everything submitted (one doorbell). */
void krank_flush(struct krank_client *c);
/*
 * krank_complete - up to max completions into cqe; waits up to
 * timeout_ns for the first (< 0: no limit; 0: do not wait), then takes
 * only what is already there.  Returns how many (0: none within the
 * timeout, or none outstanding), or -1 with errno: EPROTO (a response
 * that does not decode or answers no request: the client is unusable),
 * ENOTSUP (a timeout >= 0 on a transport without take_wait), EPIPE.
 */
int krank_complete(struct krank_client *c, struct krank_cqe *cqe,
    unsigned max, int64_t timeout_ns);
/* krank_pending - submissions whose completion was not yet returned. */
unsigned krank_pending(const struct krank_client *c);

#ifdef __cplusplus
}
#endif
#endif
