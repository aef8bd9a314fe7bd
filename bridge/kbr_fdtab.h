/*
 * kbr_fdtab.h - the preload library's bookkeeping, kept free of libkrank
 * and of interposed calls so that a unit test can link it alone: the
 * descriptor table (Linux placeholder descriptor -> KRANK descriptor and
 * flags) and the shadow interest lists of epoll instances for the KRANK
 * descriptors registered in them.
 */
#ifndef KBR_FDTAB_H
#define KBR_FDTAB_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>

/* Entry flags. */
#define KBR_FD_SOCK		0x01u	/* a socket (else a file) */
#define KBR_FD_CLOEXEC		0x02u	/* the program's FD_CLOEXEC */
#define KBR_FD_DEAD		0x04u	/* inherited over fork: EBADF */
#define KBR_FD_REARM_IN		0x10u	/* a read ran dry: EPOLLET may */
#define KBR_FD_REARM_OUT	0x20u	/* a write filled up: report anew */
#define KBR_FD_STREAM		0x40u	/* a stream socket (may hold data) */
#define KBR_FD_LISTEN		0x80u	/* listening: nothing to receive */
#define KBR_FD_ASYNC		0x100u	/* an asynchronous send was made */
#define KBR_FD_SHARED		0x200u	/* dup made another descriptor of it */
#define KBR_FD_CONN		0x400u	/* known connected, writable side open */
/* What a dup keeps of the flags. */
#define KBR_FD_DUPKEEP		(KBR_FD_SOCK | KBR_FD_STREAM | KBR_FD_LISTEN | \
				 KBR_FD_ASYNC | KBR_FD_SHARED | KBR_FD_CONN)

/*
 * kbr_fdtab_init - a table for descriptors [0, size) (anonymous memory
 * the kernel zero-fills on first touch, so a large size costs address
 * space only).  Idempotent; ENOMEM.
 */
int kbr_fdtab_init(size_t size);
size_t kbr_fdtab_size(void);
/*
 * kbr_fdtab_set - placeholder fd now stands for KRANK descriptor kfd
 * (>= 0) with flags.  EBADF: fd outside the table.  Lock-free: the
 * program does not use a number before the call that made it returns.
 */
int kbr_fdtab_set(int fd, int kfd, uint32_t flags);
/* kbr_fdtab_get - true when fd is a placeholder; its KRANK descriptor and
 * flags in *kfdp, *flagsp (either may be NULL).  Safe from any thread. */
bool kbr_fdtab_get(int fd, int *kfdp, uint32_t *flagsp);
/* kbr_fdtab_clear - fd is no placeholder any more (before its real close,
 * so that a new Linux descriptor with the number is never taken for
 * KRANK's). */
void kbr_fdtab_clear(int fd);
void kbr_fdtab_flags_set(int fd, uint32_t bits);
void kbr_fdtab_flags_clear(int fd, uint32_t bits);
/* kbr_fdtab_mark_dead - every placeholder becomes KBR_FD_DEAD (a fork
 * child: the descriptors belong to the parent's attachment); returns how
 * many. */
size_t kbr_fdtab_mark_dead(void);
/* kbr_fdtab_any - whether any placeholder was ever made (a fast path:
 * without one every descriptor is Linux's). */
bool kbr_fdtab_any(void);

/*
 * Held data (readiness with data, docs/bridge.md): bytes a poll received
 * from a KRANK stream socket for the program, served to its next reads
 * before anything KRANK still has, and an error such a receive took from
 * the socket.  One holding per socket, shared by the descriptors dup
 * made of it; it goes with the last of them (kbr_fdtab_clear).  Each
 * holding has a lock; the table entry's pointer is atomic.  Holdings are
 * recycled, never freed, so a read racing a close of the same descriptor
 * (a bug of the program) cannot touch freed memory.
 *
 * kbr_held_reserve - make fd's holding, with room for cap bytes, before
 * a fetch (false: no memory, or fd is no placeholder: do not fetch).
 * kbr_held_add - append n bytes (err 0), or keep error err (n 0), after a
 * fetch; ENOMEM only when another poll filled it meanwhile beyond reach.
 * kbr_held_take - up to len held bytes into buf (consumed unless peek):
 * their count; 0 when nothing is held; -1 with *errp for a held error
 * (consumed unless peek; only once the bytes before it are read).
 * kbr_held_avail - bytes held, plus one when an error is (0: nothing).
 * kbr_held_share - descriptor to (made by dup of from) shares from's
 * holding.
 */
bool kbr_held_reserve(int fd, size_t cap);
int kbr_held_add(int fd, const void *data, size_t n, int err);
long kbr_held_take(int fd, void *buf, size_t len, bool peek, int *errp);
size_t kbr_held_avail(int fd);
void kbr_held_share(int from, int to);
/* kbr_held_fork_child - a fork child drops the parent's held bytes (the
 * only thread then: the holdings' locks are made anew). */
void kbr_held_fork_child(void);

/*
 * Asynchronous sends (docs/bridge.md): per descriptor, the bytes sent
 * without waiting whose completion has not been seen, the bytes KRANK
 * last said wait in its send queue, and an error a completion brought,
 * for the next call.  Reset by kbr_fdtab_set and kbr_fdtab_clear.
 *
 * kbr_async_take - may len more bytes go without waiting (nothing waits
 * in KRANK, no error, at most credit outstanding with them)?  If so they
 * are counted.  kbr_async_done - a completion: res < 0 an error (-errno),
 * else the bytes waiting in KRANK.  kbr_async_error - the error a
 * completion left, taken (0: none).  kbr_async_sent - a send that waited
 * went through: nothing waits in KRANK any more.  kbr_async_out - bytes
 * outstanding plus waiting.
 */
bool kbr_async_take(int fd, size_t len, size_t credit);
void kbr_async_done(int fd, size_t len, int64_t res);
int kbr_async_error(int fd);
void kbr_async_sent(int fd);
size_t kbr_async_out(int fd);

/*
 * Epoll shadows: the KRANK descriptors registered in epoll instance epfd
 * (a real Linux epoll; its Linux descriptors are in the kernel's list).
 * Each shadow has a mutex for its list; the registry of shadows has one
 * more (taken first when both are taken).
 */
struct kbr_esh;

/* kbr_esh_find - epfd's shadow, made when create is true (NULL: none, or
 * ENOMEM when create). */
struct kbr_esh *kbr_esh_find(int epfd, bool create);
/* kbr_esh_destroy - epfd is closed: its shadow goes. */
void kbr_esh_destroy(int epfd);
/*
 * kbr_esh_ctl - EPOLL_CTL_ADD/MOD/DEL of placeholder fd (KRANK descriptor
 * kfd) with ev.  0, or EEXIST (ADD of a registered fd), ENOENT (MOD/DEL
 * of one that is not), EINVAL (another op; EPOLLEXCLUSIVE).
 */
int kbr_esh_ctl(struct kbr_esh *sh, int op, int fd, int kfd,
    const struct epoll_event *ev);
/* kbr_esh_count - registered KRANK descriptors (disabled ONESHOT ones
 * too). */
size_t kbr_esh_count(struct kbr_esh *sh);
/* kbr_esh_linux - Linux descriptors added (+1) or deleted (-1) with
 * epoll_ctl on the instance; kbr_esh_linux_count how many are in it, as
 * far as we saw (a Linux descriptor closed without EPOLL_CTL_DEL still
 * counts: then a wait checks Linux without need, nothing worse). */
void kbr_esh_linux(struct kbr_esh *sh, int delta);
size_t kbr_esh_linux_count(struct kbr_esh *sh);
/*
 * kbr_esh_snapshot - the poll set for the shadow's enabled entries:
 * KRANK descriptors and poll events in kfds[0..n), their placeholders in
 * fds[]; n (<= max) returned.  Entries are listed starting at a rotating
 * position, so that a full events array does not always starve the same
 * descriptors.
 */
size_t kbr_esh_snapshot(struct kbr_esh *sh, struct pollfd *kfds, int *fds,
    size_t max);
/*
 * kbr_esh_collect - turn the poll results of a snapshot (kfds/fds as
 * snapshot filled them, revents set) into at most max epoll events in
 * out: level-triggered entries report their ready events; EPOLLET ones
 * report events that were not ready at the previous wait, or that a
 * read or write since re-armed (KBR_FD_REARM_*); EPOLLONESHOT ones are
 * disabled after reporting until EPOLL_CTL_MOD.  Entries deleted
 * meanwhile are skipped.  Returns how many events.
 */
int kbr_esh_collect(struct kbr_esh *sh, const struct pollfd *kfds,
    const int *fds, size_t n, struct epoll_event *out, int max);
/* kbr_esh_forget_fd - placeholder fd closed: out of every shadow. */
void kbr_esh_forget_fd(int fd);
/* kbr_esh_reset - drop every shadow (a fork child). */
void kbr_esh_reset(void);

/* Poll bits <-> epoll bits (the same values up to 0x20; EPOLLRDHUP is
 * reported when the peer hung up). */
short kbr_ev_to_poll(uint32_t ev);
uint32_t kbr_poll_to_ev(short revents, uint32_t want);

#endif
