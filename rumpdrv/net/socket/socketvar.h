/*
 * socketvar.h - the socket layer between the krs_ socket calls and the
 * protocols: struct socket, socket buffers, the protocol switch, wakeups.
 * A socket belongs to one stack; its fields (except so_refs, atomic, and the
 * open list, under sotab_lock in sys_socket.c) are protected by that stack's
 * ns_lock.
 */
#ifndef RUMPDRV_NET_SOCKETVAR_H
#define RUMPDRV_NET_SOCKETVAR_H

#include "net/core/net.h"

/* Values as Linux's, so callers may pass either. */
#define AF_UNSPEC	0
#define AF_INET		2
#define SOCK_STREAM	1
#define SOCK_DGRAM	2
#define SOCK_NONBLOCK	04000
#define SOCK_CLOEXEC	02000000
#define IPPROTO_IP	0
#define IPPROTO_ICMP	1
#define IPPROTO_TCP	6
#define IPPROTO_UDP	17

struct sockaddr_in_k {
	uint16_t sin_family;
	uint16_t sin_port;		/* network order */
	uint32_t sin_addr;		/* network order */
	uint8_t sin_zero[8];
};

/* A socket buffer: records linked by m_nextpkt (datagrams carry a leading
 * MT_SONAME mbuf with the sender), bytes counted in sb_cc. */
struct sockbuf {
	struct mbuf *sb_mb;
	struct mbuf *sb_mbtail;		/* streams: last mbuf of sb_mb */
	struct mbuf *sb_lastrec;
	int sb_cc;			/* data bytes */
	int sb_hiwat;			/* limit */
	int sb_mbcnt;			/* datagrams: storage the records pin */
	uint64_t sb_timeo_ns;		/* blocking timeout; 0: none */
};

#define SS_ISCONNECTED	0x0001
#define SS_CANTSENDMORE	0x0010
#define SS_CANTRCVMORE	0x0020
#define SS_ISCONNECTING	0x0004
#define SS_ISDISCONNECTING 0x0008
#define SS_NBIO		0x0100
#define SS_CLOSING	0x0200	/* descriptor closed */

#define SO_ACCEPTCONN_F	0x0002
#define SO_REUSEADDR_F	0x0004
#define SO_BROADCAST_F	0x0020
#define SO_KEEPALIVE_F	0x0008

struct protosw;

struct socket {
	struct netstack *so_stack;
	const struct protosw *so_pr;
	int so_type;
	unsigned so_state;
	unsigned so_options;		/* SO_*_F */
	int so_error;
	struct sockbuf so_rcv;
	struct sockbuf so_snd;
	kcondvar_t so_cv;		/* with ns_lock: state changes; adaptive
					 * (signalled only under ns_lock) */
	void *so_pcb;
	int so_fd;			/* the first descriptor (informative) */
	unsigned so_refs;		/* atomic */
	struct socket *so_fnext, *so_fprev;	/* sotab_lock: open sockets */
	/* Listening sockets: embryonic (q0) and complete (q) connections,
	 * linked through so_qnext; so_head points back.  ns_lock. */
	struct socket *so_head;
	struct socket *so_q0, *so_q;
	struct socket *so_qnext;
	int so_q0len, so_qlen, so_qlimit;
	bool so_onq0;
	int so_linger;			/* SO_LINGER seconds; -1: off */
};

/*
 * The protocol switch: one entry per (type, protocol).  Every op runs with
 * the socket's ns_lock held and returns 0 or an errno.  pr_send consumes m.
 */
struct protosw {
	int pr_type;
	int pr_protocol;
	int (*pr_attach)(struct socket *so);
	void (*pr_detach)(struct socket *so);
	int (*pr_bind)(struct socket *so, const struct sockaddr_in_k *sin);
	int (*pr_connect)(struct socket *so, const struct sockaddr_in_k *sin);
	int (*pr_disconnect)(struct socket *so);
	int (*pr_send)(struct socket *so, struct mbuf *m,
	    const struct sockaddr_in_k *to);
	void (*pr_sockaddr)(struct socket *so, struct sockaddr_in_k *sin);
	void (*pr_peeraddr)(struct socket *so, struct sockaddr_in_k *sin);
	/* Stream protocols only (NULL for datagrams). */
	int (*pr_listen)(struct socket *so, int backlog);
	void (*pr_rcvd)(struct socket *so);	/* the user read data */
	int (*pr_shutdown)(struct socket *so);	/* no more sends */
	int (*pr_setopt)(struct socket *so, int name, int val);
	int (*pr_getopt)(struct socket *so, int name, int *val);
};

int sock_proto_register(const struct protosw *pr);
void sock_proto_unregister(const struct protosw *pr);

/* m_chain_storage - what a chain pins: its mbufs and their buffers. */
static inline int
m_chain_storage(const struct mbuf *m)
{
	int n = 0;
	for (; m != NULL; m = m->m_next)
		n += MSIZE + ((m->m_flags & M_EXT) ? (int)m->m_ext->ext_size : 0);
	return n;
}

/* sbappendaddr - queue a datagram with its sender; 0, or ENOBUFS when the
 * buffer is full (m is then left to the caller): its data past sb_hiwat,
 * or what the records pin past twice that (so a flood of one-byte
 * datagrams, each an mbuf or two and a frame, is bounded too; Linux
 * charges an skb's truesize likewise).  soreceive takes sb_mbcnt down. */
int sbappendaddr(struct sockbuf *sb, const struct sockaddr_in_k *from,
    struct mbuf *m);
void sbflush(struct sockbuf *sb);
/* sbappendstream - append bytes (m, no record boundaries), small ones
 * into the tail's room; sbappendstream_rcv - the same for data from a
 * peer, which is compacted so its storage stays near its size. */
void sbappendstream(struct sockbuf *sb, struct mbuf *m);
void sbappendstream_rcv(struct sockbuf *sb, struct mbuf *m);
/* sbdrop - remove len bytes from the front of a stream buffer. */
void sbdrop(struct sockbuf *sb, int len);
static inline int
sbspace(const struct sockbuf *sb)
{
	return sb->sb_hiwat - sb->sb_cc;
}

/*
 * Connection life cycle for stream protocols (ns_lock held):
 * sonewconn makes an embryonic socket on listener head's q0 (NULL when
 * the accept queue holds so_qlimit or out of memory; the protocol bounds
 * q0); soisconnected moves it to the
 * accept queue (or marks an active socket connected) and wakes waiters;
 * soisdisconnected marks both directions shut; sofree_pcb is called by a
 * protocol when it lets go of a socket it kept after close or never
 * handed to accept.
 */
struct socket *sonewconn(struct socket *head);
void soisconnecting(struct socket *so);
void soisconnected(struct socket *so);
void soisdisconnected(struct socket *so);
void socantrcvmore(struct socket *so);
void sofree_pcb(struct socket *so);
/* soref/sorele - references on a socket (atomic). */
void soref(struct socket *so);
void sorele(struct socket *so);
/* sowakeup - readers, writers and pollers of so may proceed. */
void sowakeup(struct socket *so);
/* selnotify - wake every poller (after any readiness change). */
void selnotify(void);
/* so_pollgen/so_pollwait - the sockets' poll wakeup generation and a wait
 * for it to change (vfs_file.h fo_pollgen/fo_pollwait).  A file type whose
 * readiness changes are announced with selnotify uses these too, so
 * krs_poll waits on one generation for both. */
uint64_t so_pollgen(void);
void so_pollwait(uint64_t gen, uint64_t deadline_ns);

/*
 * Other socket families (hostnet): a component that serves a domain of
 * its own registers its calls here; krs_socket(sf_family, ...) goes to
 * sf_socket, and every krs_ socket call on a descriptor whose file has
 * type sf_dtype goes to the matching call with the file and the caller's
 * reference on it, which the call takes over and releases (so a call that
 * blocks can let the file go and hold its own object instead, and a close
 * of the descriptor reaches fo_close and wakes it, as for sockets).  read, write, close, poll and fcntl
 * go through the file's fileops as for any file.  Each call returns 0 or
 * an errno.  Addresses and lengths are the caller's, unchecked beyond
 * NULL.  One family at a time (EBUSY); unregister only after the
 * family's files are closed (its fini).  When none is registered the
 * socket calls pay one load.
 */
struct file;
struct krs_iovec;
struct sofamily {
	int sf_family;
	int sf_dtype;
	int (*sf_socket)(int type, int protocol, int *fdp);
	int (*sf_bind)(struct file *fp, const void *addr, uint32_t len);
	int (*sf_listen)(struct file *fp, int backlog);
	int (*sf_accept)(struct file *fp, void *addr, uint32_t *len, int *fdp);
	int (*sf_connect)(struct file *fp, const void *addr, uint32_t len);
	int (*sf_send)(struct file *fp, const struct krs_iovec *iov,
	    int iovcnt, int flags, const void *to, uint32_t tolen,
	    size_t *sent);
	/* *got: bytes received, or the datagram's length with MSG_TRUNC */
	int (*sf_recv)(struct file *fp, const struct krs_iovec *iov,
	    int iovcnt, int flags, void *from, uint32_t *fromlen,
	    size_t *got);
	int (*sf_shutdown)(struct file *fp, int how);
	int (*sf_name)(struct file *fp, bool peer, void *addr, uint32_t *len);
	int (*sf_setopt)(struct file *fp, int level, int name,
	    const void *val, uint32_t len);
	int (*sf_getopt)(struct file *fp, int level, int name, void *val,
	    uint32_t *len);
};
int sofamily_register(const struct sofamily *sf);
void sofamily_unregister(const struct sofamily *sf);

#endif /* RUMPDRV_NET_SOCKETVAR_H */
