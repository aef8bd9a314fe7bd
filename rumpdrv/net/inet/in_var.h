/*
 * in_var.h - IPv4, ICMP and UDP: wire formats, per-stack state and
 * counters, and the routines the inet files share.  All per-stack state
 * (struct inet_stack, NS_SLOT_INET) is protected by the stack's ns_lock.
 */
#ifndef RUMPDRV_NET_IN_VAR_H
#define RUMPDRV_NET_IN_VAR_H

#include "net/core/net.h"
#include "net/socket/socketvar.h"

#define INADDR_ANY		0u
#define INADDR_BROADCAST	0xffffffffu
#define IN_MULTICAST(a)		((ntohl(a) & 0xf0000000u) == 0xe0000000u)
#define IN_LOOPBACK(a)		((ntohl(a) >> 24) == 127)

struct ip {
	uint8_t ip_vhl;			/* version << 4 | header length / 4 */
	uint8_t ip_tos;
	uint16_t ip_len;
	uint16_t ip_id;
	uint16_t ip_off;
	uint8_t ip_ttl;
	uint8_t ip_p;
	uint16_t ip_sum;
	uint32_t ip_src;
	uint32_t ip_dst;
} __attribute__((packed));
#define IP_DF		0x4000
#define IP_MF		0x2000
#define IP_OFFMASK	0x1fff
#define IP_MAXPACKET	65535
#define IPDEFTTL	64
#define IP_HL(ip)	(((ip)->ip_vhl & 0x0f) << 2)
#define IP_V(ip)	((ip)->ip_vhl >> 4)

#define IPOPT_EOL	0
#define IPOPT_NOP	1

struct udphdr {
	uint16_t uh_sport;
	uint16_t uh_dport;
	uint16_t uh_ulen;
	uint16_t uh_sum;
} __attribute__((packed));

struct icmp {
	uint8_t icmp_type;
	uint8_t icmp_code;
	uint16_t icmp_cksum;
	uint16_t icmp_id;		/* echo; 0 (unused) in errors */
	uint16_t icmp_seq;		/* echo; next-hop MTU in needfrag */
} __attribute__((packed));
#define ICMP_ECHOREPLY		0
#define ICMP_UNREACH		3
#define  ICMP_UNREACH_NET	0
#define  ICMP_UNREACH_HOST	1
#define  ICMP_UNREACH_PROTOCOL	2
#define  ICMP_UNREACH_PORT	3
#define  ICMP_UNREACH_NEEDFRAG	4
#define ICMP_ECHO		8
#define ICMP_TIMXCEED		11
#define  ICMP_TIMXCEED_INTRANS	0
#define  ICMP_TIMXCEED_REASS	1
#define ICMP_PARAMPROB		12
#define ICMP_MINLEN		8

struct ipstat {
	uint64_t ips_total, ips_badsum, ips_tooshort, ips_toosmall;
	uint64_t ips_badhlen, ips_badlen, ips_badvers, ips_badoptions;
	uint64_t ips_badaddr;		/* martian source */
	uint64_t ips_ownsrc;		/* our own address from a wire */
	uint64_t ips_fragments, ips_fragdropped, ips_fragtimeout;
	uint64_t ips_fragoverlap, ips_reassembled;
	uint64_t ips_noproto, ips_delivered, ips_cantforward;
	uint64_t ips_localout, ips_noroute, ips_fragmented, ips_ofragments;
	uint64_t ips_cantfrag, ips_odropped;
};

struct icmpstat {
	uint64_t icps_in, icps_badsum, icps_tooshort, icps_badcode;
	uint64_t icps_echo, icps_reply;		/* requests in, replies out */
	uint64_t icps_error;			/* errors sent */
	uint64_t icps_oldicmp;			/* no error about an error */
	uint64_t icps_ratelim;			/* errors not sent: rate */
	uint64_t icps_unreach_in;
};

struct udpstat {
	uint64_t udps_ipackets, udps_hdrops, udps_badsum, udps_badlen;
	uint64_t udps_noport, udps_noportbcast, udps_fullsock;
	uint64_t udps_opackets;
};

/* One fragment queue (RFC 791 reassembly); fragments by offset. */
struct ipq {
	struct ipq *ipq_next;
	uint32_t ipq_src, ipq_dst;
	uint16_t ipq_id;
	uint8_t ipq_p;
	uint8_t ipq_nfrags;
	uint64_t ipq_expire;		/* slow-timer tick */
	int ipq_bytes;			/* payload held */
	struct mbuf *ipq_frags;		/* m_nextpkt chain, by offset */
};

/* Reassembly limits. */
#define IPQ_MAXQUEUES	64		/* datagrams being reassembled */
#define IPQ_MAXFRAGS	64		/* fragments per datagram */
#define IPQ_MAXBYTES	(1024 * 1024)	/* payload held, all queues */
#define IPQ_TTL_TICKS	150		/* 15 s of 100 ms ticks */

struct inpcb;

struct inet_stack {
	struct ipstat is_ip;
	struct icmpstat is_icmp;
	struct udpstat is_udp;
	uint16_t is_ip_id;
	bool is_forwarding;		/* off; not implemented beyond drop */
	struct ipq *is_ipq;
	int is_nipq;
	int is_ipq_bytes;
	int is_icmp_tokens;		/* errors allowed until next refill */
	struct inpcb *is_udb;		/* UDP PCBs */
};
#define ICMP_ERRS_PER_SEC	100

static inline struct inet_stack *
inet_stack(struct netstack *ns)
{
	return ns->ns_slot[NS_SLOT_INET];
}

/* A PCB: the addressing of one socket.  TCP also files it in its
 * stack's hash of connections and list of listeners (tcp_subr.c). */
struct inpcb {
	struct inpcb *inp_next;
	struct inpcb **inp_pprev;	/* TCP: &previous inp_next */
	struct inpcb *inp_hnext, **inp_hpprev;	/* TCP: hash chain */
	struct inpcb *inp_lnext, **inp_lpprev;	/* TCP: listeners */
	struct socket *inp_socket;
	uint32_t inp_laddr, inp_faddr;	/* network order */
	uint16_t inp_lport, inp_fport;	/* network order */
	void *inp_ppcb;			/* TCP: the tcpcb */
};

/* in_cksum.c */
uint16_t in_cksum(const struct mbuf *m, int len);
uint16_t in_cksum_buf(const void *buf, size_t len);
uint16_t in_cksum_off(const struct mbuf *m, int off, int len);
/* in4_cksum - checksum of len bytes at off with the IPv4 pseudo header. */
uint16_t in4_cksum(const struct mbuf *m, uint8_t proto, uint32_t src,
    uint32_t dst, int off, int len);
uint32_t in_cksum_partial(uint32_t sum, const void *buf, size_t len, int odd);
uint16_t in_cksum_fold(uint32_t sum);
/*
 * in4_cksum_delay - checksum offload on output: store the pseudo-header
 * sum of the len-byte segment at off in m in its checksum field (at off +
 * sumoff) and mark m M_CSUM_TCPv4.  ip_output completes the checksum
 * (in_delayed_cksum) unless the interface has IFCAP_CSUM_TCPv4_Tx.
 */
void in4_cksum_delay(struct mbuf *m, uint8_t proto, uint32_t src,
    uint32_t dst, int off, int len, int sumoff);
/* in_delayed_cksum - complete it; m starts with the IPv4 header. */
void in_delayed_cksum(struct mbuf *m);

/* ip_input.c */
void ip_input(struct ifnet *ifp, struct mbuf *m);
bool ip_ours(struct netstack *ns, struct ifnet *ifp, uint32_t dst, bool *bcast);
/* ip_srccheck - may a packet from src to dst arriving on ifp be
 * answered?  IP_SRC_OK; IP_SRC_MARTIAN (RFC 1122 3.2.1.3); IP_SRC_OURS
 * (one of our addresses, from a wire: a spoof). */
enum { IP_SRC_OK, IP_SRC_MARTIAN, IP_SRC_OURS };
int ip_srccheck(struct netstack *ns, struct ifnet *ifp, uint32_t src,
    uint32_t dst);
/* ip_checkoptions - 0 when the options area is well formed. */
int ip_checkoptions(const uint8_t *opt, int len);

/* ip_reass.c */
/* ip_reass - add fragment m (IP header at front); returns the whole
 * datagram when complete, else NULL (m kept or dropped). */
struct mbuf *ip_reass(struct netstack *ns, struct mbuf *m);
void ip_reass_slowtimo(struct netstack *ns);
void ip_reass_drain(struct netstack *ns);

/* ip_output.c */
#define IP_ALLOWBROADCAST	0x1
#define IP_RAWOUTPUT		0x2	/* m already has its IP header */
/*
 * ip_output - prepend an IPv4 header to m (src 0: the interface's
 * address), route, fragment to the MTU and hand to the interface.
 * Consumes m.  0, EHOSTUNREACH/ENETUNREACH (no route), EMSGSIZE (DF and
 * too big), EACCES (broadcast without IP_ALLOWBROADCAST), ENOBUFS.
 */
int ip_output(struct netstack *ns, struct mbuf *m, uint32_t src,
    uint32_t dst, uint8_t proto, uint8_t ttl, uint8_t tos, int flags);
/* ip_srcaddr - the source address ip_output would use for dst. */
int ip_srcaddr(struct netstack *ns, uint32_t dst, uint32_t *src);

/* ip_icmp.c */
void icmp_input(struct ifnet *ifp, struct mbuf *m, int hlen);
/* icmp_error - answer datagram m (IP header at front) with an ICMP error,
 * rate-limited; consumes m. */
void icmp_error(struct netstack *ns, struct mbuf *m, int type, int code,
    bool bcast);
void icmp_slowtimo(struct netstack *ns);

/* udp_usrreq.c */
void udp_input(struct ifnet *ifp, struct mbuf *m, int hlen, bool bcast);
void udp_ctlinput(struct netstack *ns, int code, uint32_t dst,
    const struct udphdr *uh, uint32_t src);
extern const struct protosw udp_protosw;

/* in_pcb.c-like helpers (udp_usrreq.c) */
int in_pcbbind_port(struct inpcb **list, struct inpcb *inp, uint32_t laddr,
    uint16_t lport, bool reuse);

#endif /* RUMPDRV_NET_IN_VAR_H */
