/*
 * hostnet_user.h - between hostnet's two halves: the kernel half
 * (rumpdrv/hostnet, no host headers) and the host half
 * (bridge/hostnet/hostnet_user.c, in the hypercall library), as NetBSD's
 * virtif_user.h.  Every int call returns 0 or a positive NetBSD errno and
 * never sets errno.  Host sockets are always non-blocking: the kernel
 * half waits for readiness events, never inside a host call (except
 * hyp_hsock_evwait, run by hostnet's one poller thread).
 */
#ifndef KRANK_HOSTNET_USER_H
#define KRANK_HOSTNET_USER_H

#include <stddef.h>
#include <stdint.h>

#define HYP_HSOCK_REVISION	1

/* Families and types are Linux's numbers (AF_INET 2, AF_INET6 10,
 * SOCK_STREAM 1, SOCK_DGRAM 2); socket addresses are Linux's layouts. */
struct hyp_hsock_iov {
	void *iov_base;
	size_t iov_len;
};

/* Returns HYP_HSOCK_REVISION; the kernel half refuses another. */
int hyp_hsock_revision(void);

/* A non-blocking, close-on-exec host socket in *hfd. */
int hyp_hsock_open(int family, int type, int *hfd);
int hyp_hsock_close(int hfd);
/* EINPROGRESS for a stream connect under way. */
int hyp_hsock_connect(int hfd, const void *sa, uint32_t salen);
/* sendmsg: to may be NULL; *done gets the bytes sent.  EAGAIN when full. */
int hyp_hsock_send(int hfd, const struct hyp_hsock_iov *iov, int iovcnt,
    const void *to, uint32_t tolen, size_t *done);
/* recvmsg: from/fromlen may be NULL; *done gets the bytes received (for a
 * datagram, its whole length when HYP_HSOCK_TRUNC).  0 bytes: EOF. */
#define HYP_HSOCK_PEEK	0x1
#define HYP_HSOCK_TRUNC	0x2
int hyp_hsock_recv(int hfd, const struct hyp_hsock_iov *iov, int iovcnt,
    int flags, void *from, uint32_t *fromlen, size_t *done);
/* how: 0 read, 1 write, 2 both. */
int hyp_hsock_shutdown(int hfd, int how);
/* getsockname (peer 0) / getpeername (peer 1) into sa (*salen in/out). */
int hyp_hsock_name(int hfd, int peer, void *sa, uint32_t *salen);
/* Options, Linux's levels and names; the kernel half chooses which. */
int hyp_hsock_setopt(int hfd, int level, int name, const void *val,
    uint32_t len);
int hyp_hsock_getopt(int hfd, int level, int name, void *val, uint32_t *len);
/* Readiness now, Linux's POLL* bits (poll with no wait). */
int hyp_hsock_poll(int hfd, int events, int *revents);
/* The pending error (SO_ERROR), cleared, as a NetBSD errno. */
int hyp_hsock_error(int hfd, int *err);
/* Bytes waiting to be read (FIONREAD). */
int hyp_hsock_nread(int hfd, int *n);

/*
 * Readiness events: one set per hostnet instance (an epoll instance and
 * an eventfd).  A socket added with a cookie is reported (edge-triggered)
 * whenever it becomes readable, writable, or hangs up; evwait blocks
 * until some are (or evwake is called: *n is then 0 and may be spurious),
 * filling at most max cookies.
 */
struct hyp_hsock_ev;
int hyp_hsock_evcreate(struct hyp_hsock_ev **evp);
void hyp_hsock_evdestroy(struct hyp_hsock_ev *ev);
int hyp_hsock_evadd(struct hyp_hsock_ev *ev, int hfd, uint64_t cookie);
int hyp_hsock_evdel(struct hyp_hsock_ev *ev, int hfd);
int hyp_hsock_evwait(struct hyp_hsock_ev *ev, uint64_t *cookies, int max,
    int *n);
void hyp_hsock_evwake(struct hyp_hsock_ev *ev);

#endif /* KRANK_HOSTNET_USER_H */
