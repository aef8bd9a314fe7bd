/*
 * krs_net.h - KRANK's socket and network-configuration calls over the
 * rumpdrv/net stack.  Plain C with errno semantics: -1 and errno (the
 * host's numbering) on failure.  Constants and structure layouts equal
 * Linux's (AF_INET 2, SOCK_DGRAM 2, struct sockaddr_in, struct pollfd), so
 * callers may pass the host's.  Components: "net" (stacks, interfaces,
 * routes), "ether", "virtif", "socket", "inet".
 *
 * Sockets are descriptors of the calling context's table (see
 * <krank/krs.h>): krs_read, krs_write, krs_close, krs_poll, krs_fcntl ...
 * work on them; the socket component needs "vfs", which owns the tables.
 */
#ifndef KRANK_KRS_NET_H
#define KRANK_KRS_NET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <krank/krs.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef KRS_EXPORT
#define KRS_EXPORT __attribute__((visibility("default")))
#endif

#define KRS_SOL_SOCKET	1
#define KRS_SO_REUSEADDR 2
#define KRS_SO_ERROR	4
#define KRS_SO_BROADCAST 6
#define KRS_SO_SNDBUF	7
#define KRS_SO_RCVBUF	8
#define KRS_SO_KEEPALIVE 9
#define KRS_SO_ACCEPTCONN 30
#define KRS_SO_RCVTIMEO	20
#define KRS_SO_SNDTIMEO	21
#define KRS_IPPROTO_TCP	6
#define KRS_TCP_NODELAY	1
#define KRS_TCP_MAXSEG	2
#define KRS_MSG_PEEK	0x02
#define KRS_MSG_TRUNC	0x20
#define KRS_MSG_DONTWAIT 0x40

/*
 * Sockets.  krs_socket: AF_INET with SOCK_DGRAM (UDP) or SOCK_STREAM
 * (TCP); SOCK_NONBLOCK may be or-ed into type.  The socket is created in the calling thread's stack
 * (krs_net_stack_select; default stack 0).  Blocking calls wait without
 * limit unless SO_RCVTIMEO/SO_SNDTIMEO is set (then EAGAIN).
 */
KRS_EXPORT int krs_socket(int domain, int type, int protocol);
KRS_EXPORT int krs_bind(int fd, const void *addr, uint32_t addrlen);
KRS_EXPORT int krs_connect(int fd, const void *addr, uint32_t addrlen);
KRS_EXPORT ssize_t krs_sendto(int fd, const void *buf, size_t len, int flags,
    const void *to, uint32_t tolen);
KRS_EXPORT ssize_t krs_send(int fd, const void *buf, size_t len, int flags);
KRS_EXPORT ssize_t krs_recvfrom(int fd, void *buf, size_t len, int flags,
    void *from, uint32_t *fromlen);
KRS_EXPORT ssize_t krs_recv(int fd, void *buf, size_t len, int flags);
/*
 * krs_send_fill - send up to len bytes on the TCP socket fd, as krs_send
 * does (flags: KRS_MSG_DONTWAIT), but the bytes are written straight into
 * the socket's buffers by fill: fill(arg, iov, iovcnt, &done) writes up
 * to the iovecs' total and sets done to what it wrote; it returns 0 or
 * an errno.  A short fill (end of file) ends the send after those bytes.
 * fill runs in the calling thread with no stack lock held, so it may
 * read a file (krs_preadv): a sendfile with one copy instead of two.
 * Returns the bytes sent, or -1 with errno: EOPNOTSUPP on a socket that
 * is not TCP (or a socket of another family), ENOTSOCK, EBADF, EAGAIN,
 * EPIPE ..., or fill's error when nothing was sent.
 */
typedef int (*krs_fill_fn)(void *arg, const struct krs_iovec *iov,
    int iovcnt, size_t *done);
KRS_EXPORT ssize_t krs_send_fill(int fd, size_t len, int flags,
    krs_fill_fn fill, void *arg);
/* Linux's struct msghdr layout; no control messages (msg_controllen is
 * set to 0 on return). */
struct krs_msghdr {
	void *msg_name;
	uint32_t msg_namelen;
	struct krs_iovec_net { void *iov_base; size_t iov_len; } *msg_iov;
	size_t msg_iovlen;
	void *msg_control;
	size_t msg_controllen;
	int msg_flags;
};
#define KRS_IOV_MAX 1024
KRS_EXPORT ssize_t krs_sendmsg(int fd, const struct krs_msghdr *msg, int flags);
KRS_EXPORT ssize_t krs_recvmsg(int fd, struct krs_msghdr *msg, int flags);
#define KRS_SO_LINGER	13
struct krs_linger { int l_onoff; int l_linger; };
KRS_EXPORT int krs_listen(int fd, int backlog);
/* krs_accept - a connected socket from the accept queue (EAGAIN when
 * non-blocking and empty). */
KRS_EXPORT int krs_accept(int fd, void *addr, uint32_t *addrlen);
/* krs_sock_shutdown - shutdown(2) (krs_shutdown stops the components). */
KRS_EXPORT int krs_sock_shutdown(int fd, int how);
KRS_EXPORT int krs_getsockname(int fd, void *addr, uint32_t *addrlen);
KRS_EXPORT int krs_getpeername(int fd, void *addr, uint32_t *addrlen);
KRS_EXPORT int krs_setsockopt(int fd, int level, int name, const void *val,
    uint32_t len);
KRS_EXPORT int krs_getsockopt(int fd, int level, int name, void *val,
    uint32_t *len);
/* krs_sock_close - deprecated: krs_close. */
KRS_EXPORT int krs_sock_close(int fd);

/*
 * Stacks.  Each stack is independent (interfaces, routes, sockets); two
 * stacks in one process talk over an in-process wire.  krs_net_stack_create
 * returns the new stack's id (stack 0 is created on first use).
 * krs_net_stack_select binds the calling thread to a stack for the calls
 * that create sockets and interfaces or name interfaces.
 */
KRS_EXPORT int krs_net_stack_create(const char *name);
KRS_EXPORT int krs_net_stack_select(int id);
KRS_EXPORT int krs_net_stack_destroy(int id);

/*
 * Interfaces.  krs_if_virt_attach opens the packet port spec
 * ("tap:NAME", "afpacket:IF", "wire:NAME[,opts]") as an Ethernet interface
 * of the current stack and writes its name (virtN) to name.  Errors: those
 * of hyp_pkt_open (EINVAL, ENOENT, EBUSY, EPERM), ENOSPC.
 */
KRS_EXPORT int krs_if_virt_attach(const char *spec, char *name, size_t namelen);
KRS_EXPORT int krs_if_virt_detach(const char *ifname);
/* krs_if_virt_adopt_tap - hand over fd, a /dev/net/tun descriptor
 * attached (TUNSETIFF, IFF_TAP | IFF_NO_PI) to tap device: the next
 * krs_if_virt_attach of "tap:device" takes it instead of creating the
 * device, so that the embedder can create the tap and configure Linux's
 * side while other work goes on.  On success fd is the interface's.
 * Errors: EINVAL (fd is not that tap), EBUSY (too many waiting). */
KRS_EXPORT int krs_if_virt_adopt_tap(const char *device, int fd);
/* krs_if_setaddr - "A.B.C.D/LEN" (or "0.0.0.0/0" to remove); a connected
 * route follows, and Ethernet interfaces announce it (gratuitous ARP). */
KRS_EXPORT int krs_if_setaddr(const char *ifname, const char *cidr);
KRS_EXPORT int krs_if_setmtu(const char *ifname, unsigned mtu);
KRS_EXPORT int krs_if_up(const char *ifname, int up);
/* krs_if_rename - give an interface the name its user knows it by
 * (1..15 bytes, no '/', ':' or spaces).  ENXIO, EEXIST, EINVAL. */
KRS_EXPORT int krs_if_rename(const char *ifname, const char *newname);
/* krs_route_add - "A.B.C.D/LEN" via gateway "A.B.C.D" (NULL: directly on
 * ifname); ifname NULL: the interface that reaches the gateway. */
KRS_EXPORT int krs_route_add(const char *cidr, const char *gateway,
    const char *ifname);
KRS_EXPORT int krs_route_delete(const char *cidr);

struct krs_if_stats {
	uint64_t ipackets, ierrors, opackets, oerrors;
	uint64_t ibytes, obytes, iqdrops, oqdrops, noproto;
};
KRS_EXPORT int krs_if_stats(const char *ifname, struct krs_if_stats *st);
/*
 * krs_if_queue_stats - frames received on each receive queue of a
 * port's interface (a dpdk: port opened with queues=N has N): stores
 * rx[0 .. min(n, max) - 1] and returns n; 0 for an interface without
 * queues of its own (loopback).  -1 with ENXIO (no such interface),
 * EFAULT.
 */
KRS_EXPORT int krs_if_queue_stats(const char *ifname, uint64_t *rx,
    unsigned max);

/*
 * krs_net_dump - a netstat-like text dump of the current stack:
 * interfaces and their counters, routes, ARP entries, sockets and every
 * protocol counter ("counter ip.badsum 0" lines).  Returns the length
 * (truncated to len - 1 and NUL-terminated), or -1.
 */
KRS_EXPORT ssize_t krs_net_dump(char *buf, size_t len);
/* krs_net_counter - one protocol counter by name ("ip.badsum",
 * "udp.noport", "arp.dupaddr" ...); -1 with ENOENT when unknown. */
KRS_EXPORT int64_t krs_net_counter(const char *name);

/*
 * Frame taps (krankctl capture).  krs_if_capture sets fn as the tap of the
 * virtif interface ifname (current stack): fn is called for every frame
 * the interface receives (before the stack sees it) and sends (as handed
 * to the port), in the stack's threads, possibly several at once.  fn
 * must copy what it keeps and return at once: it must not block nor call
 * krs_ functions.  One tap per interface (EBUSY); ENXIO for no such virtif
 * interface.  krs_if_capture_stop removes it and returns once no call of
 * fn is running any more, so arg may be freed afterwards.  With no tap
 * set the cost is one predictable branch per frame.
 */
#define KRS_TAP_IN	0
#define KRS_TAP_OUT	1
typedef void krs_if_tap_fn(void *arg, int dir, const struct krs_iovec *iov,
    unsigned niov, size_t len);
KRS_EXPORT int krs_if_capture(const char *ifname, krs_if_tap_fn *fn,
    void *arg);
KRS_EXPORT int krs_if_capture_stop(const char *ifname);

#ifdef __cplusplus
}
#endif
#endif /* KRANK_KRS_NET_H */
