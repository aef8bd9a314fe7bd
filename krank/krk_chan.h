/*
 * krk_chan.h - zero-copy channels between isolates (and queue clients).
 * A channel is a rumpdrv channel (krs_chan_*, KRS_CHAN_RETURN) plus a
 * pool of nbufs buffers of bufsize bytes in one memfd region, under a
 * name.  A token is a buffer's byte offset in the pool, so a queue client
 * that maps the pool's memfd (krk_chan_pool) speaks the same numbers as
 * an in-process isolate that uses pointers.  A sender takes a free buffer
 * (alloc), fills it and sends it: ownership moves to the receiver, nothing
 * is copied; the receiver hands it back with release, and the buffer
 * returns to the sender's side through the channel's return ring.  nbufs
 * bounds what is in flight: alloc waits (or EAGAIN) when all are out, so
 * a slow receiver holds back its sender.
 *
 * Naming: krk_chan_create makes a channel under a name in the caller's
 * context and returns its receive end (who names a channel receives on
 * it, as who binds a socket accepts on it); the send end waits under the
 * name until one krk_chan_open(name, KRK_CHAN_SEND) takes it (EBUSY for
 * the next one, as long as it is open).  The name goes away with the
 * receive end.  Ends are descriptors of the caller's krs context: poll,
 * epoll, dup, close, krs_fd_transfer work on them.
 *
 * Ownership is per buffer, checked on every call: a buffer is free, held
 * by the send side (allocated), queued, or held by the receive side, and
 * each held buffer records its owner (an isolate id, krk_self_id(); 0 for
 * KRANK's own threads; a queue server passes its client's).  An offset
 * or pointer that is not a buffer of this pool, a buffer the caller does
 * not hold through this end, a second release: EINVAL, counted in
 * bad_calls, never a crash.  When an end closes (the last descriptor, or
 * its isolate's context destroyed at death or kill) every buffer held
 * through it returns to the pool; a closed send end is end of stream for
 * the receiver, a closed receive end EPIPE for the sender.  The pool goes
 * when both ends are closed.
 *
 * Every function returns 0 or a positive errno value (krk.h).  Waits:
 * timeout_ms < 0 none, 0 never wait, > 0 at most that long (EAGAIN
 * after); an O_NONBLOCK end never waits.  On an isolate thread a wait is
 * cut into slices with a kill check between them (call inside
 * krk_sys_enter/exit, as every system call is).
 */
#ifndef KRK_CHAN_H
#define KRK_CHAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KRK_CHAN_NAME_MAX	64		/* with the NUL */
#define KRK_CHAN_NBUFS_MAX	65536u
#define KRK_CHAN_BUFSIZE_MAX	(64u << 20)
#define KRK_CHAN_POOL_MAX	(1ull << 32)	/* nbufs * stride */
#define KRK_CHAN_RECV		0		/* = KRS_CHAN_RECV */
#define KRK_CHAN_SEND		1		/* = KRS_CHAN_SEND */

/*
 * krk_chan_create - a channel name (1..63 bytes, no '/') of nbufs buffers
 * (1..KRK_CHAN_NBUFS_MAX) of bufsize bytes (1..KRK_CHAN_BUFSIZE_MAX; each
 * starts on a 64-byte boundary, stride = bufsize rounded up to 64) in the
 * caller's context; *fdp is its receive end.  flags: KRS_O_NONBLOCK,
 * KRS_O_CLOEXEC for *fdp.  EEXIST (the name is taken), EINVAL, ENOMEM,
 * EMFILE, ENOSYS (no vfs).
 */
int krk_chan_create(const char *name, uint32_t nbufs, uint32_t bufsize,
    int flags, int *fdp);
/*
 * krk_chan_open - take an end of the channel called name into the
 * caller's context: KRK_CHAN_SEND (the end that waits under the name).
 * ENOENT (no such channel), EBUSY (the end is taken: the send end is
 * open elsewhere, the receive end is always its creator's), EPIPE (the
 * channel's send side already ended), EINVAL.
 */
int krk_chan_open(const char *name, int end, int flags, int *fdp);

/*
 * On a send end.
 * krk_chan_alloc - a free buffer, now held by owner: its offset in the
 *	pool and (ptrp may be NULL) its address in KRANK's mapping.  EAGAIN
 *	(none free in time: backpressure), EPIPE (the receive end closed),
 *	EBADF (not a send end), EINVAL (not a channel of these).
 * krk_chan_send, krk_chan_send_ptr - queue the buffer at off (or ptr),
 *	held by owner, with len bytes (1..bufsize) for the receiver.  Never
 *	waits: the ring has room for every buffer.  EINVAL (not a buffer of
 *	the pool, not held by owner through this end, len out of range),
 *	EPIPE (the receiver is gone; the buffer stays the caller's).
 */
int krk_chan_alloc(int fd, uint32_t owner, int timeout_ms, uint64_t *offp,
    void **ptrp);
/* krk_chan_alloc_buf - the same, and the buffer's size (bufsize) in
 * *sizep (may be NULL). */
int krk_chan_alloc_buf(int fd, uint32_t owner, int timeout_ms,
    uint64_t *offp, void **ptrp, uint32_t *sizep);
int krk_chan_send(int fd, uint32_t owner, uint64_t off, uint32_t len);
int krk_chan_send_ptr(int fd, uint32_t owner, const void *ptr, uint32_t len);

/*
 * On a receive end.
 * krk_chan_recv - the oldest message, now held by owner: offset, address
 *	(ptrp may be NULL) and length.  At end of stream (the send end
 *	closed and everything was taken): 0 with *lenp 0, *offp 0, *ptrp
 *	NULL.  EAGAIN (nothing in time), EBADF (not a receive end).
 * krk_chan_release, krk_chan_release_ptr - hand a buffer owner holds back
 *	to the pool (either end: a sender may give back what it allocated
 *	and will not send).  EINVAL (not a buffer, not held by owner through
 *	this end, already released).
 */
int krk_chan_recv(int fd, uint32_t owner, int timeout_ms, uint64_t *offp,
    void **ptrp, uint32_t *lenp);
int krk_chan_release(int fd, uint32_t owner, uint64_t off);
int krk_chan_release_ptr(int fd, uint32_t owner, const void *ptr);

/*
 * krk_chan_pool - the pool behind the end at fd: its memfd (KRANK's; dup
 * it to hand it on), KRANK's mapping, the geometry.  A queue client maps
 * memfd (size bytes, shared) and uses offsets.
 */
struct krk_chan_pool {
	int memfd;
	void *base;
	size_t size;			/* nbufs * stride */
	uint32_t nbufs, bufsize, stride;
};
int krk_chan_pool(int fd, struct krk_chan_pool *pool);
/* krk_chan_find_pool - the same by name, with *memfdp a dup of the
 * pool's memfd (the caller closes it), taken while the channel cannot go
 * away.  ENOENT, EINVAL (name), EMFILE. */
int krk_chan_find_pool(const char *name, struct krk_chan_pool *pool,
    int *memfdp);

/* krk_chan_stats - counters and buffer states of the channel at fd. */
struct krk_chan_stats {
	char name[KRK_CHAN_NAME_MAX];
	uint32_t nbufs, bufsize;
	uint32_t free;			/* in the pool */
	uint32_t held_send;		/* allocated, not sent */
	uint32_t queued;		/* sent, not received */
	uint32_t held_recv;		/* received, not released */
	uint64_t sent, received, released;
	uint64_t bad_calls;		/* EINVAL for a bad buffer */
	int recv_closed, send_closed;
};
int krk_chan_stats(int fd, struct krk_chan_stats *st);
/* krk_chan_find_stats - the same by name (the channel that holds the
 * name, else one whose receiver is gone but whose sender is not); ENOENT.
 * krk_chan_list - every channel alive, in a malloc'd array (for
 * krankctl). */
int krk_chan_find_stats(const char *name, struct krk_chan_stats *st);
int krk_chan_list(struct krk_chan_stats **stp, size_t *np);

/* krk_chan_range_held - [ptr, ptr+n) lies inside one pool buffer that
 * owner holds (allocated or received, not yet sent or released): the
 * system calls accept such a buffer as the isolate's own memory, so a
 * received message can be written to a socket or a file as it is. */
bool krk_chan_range_held(uint32_t owner, const void *ptr, size_t n);

#endif
