/*
 * socketvar.h - the socket layer between the krs_ socket calls and the
 * protocols: struct socket, socket buffers, the protocol switch, wakeups.
 * A socket belongs to one stack; its fields (except so_refs, under
 * sotab_lock in sys_socket.c) are protected by that stack's ns_lock.
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
	struct mbuf *sb_lastrec;
	int sb_cc;			/* data bytes */
	int sb_hiwat;			/* limit */
	uint64_t sb_timeo_ns;		/* blocking timeout; 0: none */
};

#define SS_ISCONNECTED	0x0001
#define SS_CANTSENDMORE	0x0010
#define SS_CANTRCVMORE	0x0020
#define SS_NBIO		0x0100
#define SS_CLOSING	0x0200

#define SO_REUSEADDR_F	0x0004
#define SO_BROADCAST_F	0x0020

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
	kcondvar_t so_cv;		/* with ns_lock: state changes */
	void *so_pcb;
	int so_fd;
	unsigned so_refs;		/* sotab_lock */
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
};

int sock_proto_register(const struct protosw *pr);
void sock_proto_unregister(const struct protosw *pr);

/* sbappendaddr - queue a datagram with its sender; 0, or ENOBUFS when the
 * buffer is full (m is then left to the caller). */
int sbappendaddr(struct sockbuf *sb, const struct sockaddr_in_k *from,
    struct mbuf *m);
void sbflush(struct sockbuf *sb);
/* sowakeup - readers, writers and pollers of so may proceed. */
void sowakeup(struct socket *so);
/* selnotify - wake every poller (after any readiness change). */
void selnotify(void);

#endif /* RUMPDRV_NET_SOCKETVAR_H */
