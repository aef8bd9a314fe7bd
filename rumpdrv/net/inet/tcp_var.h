/*
 * tcp_var.h - TCP (RFC 9293): header, control block, sequence arithmetic,
 * timers and counters, shared by tcp_input.c, tcp_output.c, tcp_subr.c and
 * tcp_usrreq.c.  Every field of a tcpcb and of struct tcp_stack
 * (NS_SLOT_TCP) is protected by the stack's ns_lock.
 */
#ifndef RUMPDRV_NET_TCP_VAR_H
#define RUMPDRV_NET_TCP_VAR_H

#include "net/inet/in_var.h"

struct tcphdr {
	uint16_t th_sport;
	uint16_t th_dport;
	uint32_t th_seq;
	uint32_t th_ack;
	uint8_t th_off;			/* data offset << 4 */
	uint8_t th_flags;
	uint16_t th_win;
	uint16_t th_sum;
	uint16_t th_urp;
} __attribute__((packed));
#define TH_FIN	0x01
#define TH_SYN	0x02
#define TH_RST	0x04
#define TH_PUSH	0x08
#define TH_ACK	0x10
#define TH_URG	0x20

#define TCPOPT_EOL	0
#define TCPOPT_NOP	1
#define TCPOPT_MAXSEG	2
#define TCPOPT_WINDOW	3
#define TCPOPT_SACK_PERMITTED 4
#define TCPOPT_SACK	5
#define TCPOPT_TIMESTAMP 8

/* Sequence arithmetic modulo 2^32 (RFC 9293 3.4). */
#define SEQ_LT(a, b)	((int32_t)((a) - (b)) < 0)
#define SEQ_LEQ(a, b)	((int32_t)((a) - (b)) <= 0)
#define SEQ_GT(a, b)	((int32_t)((a) - (b)) > 0)
#define SEQ_GEQ(a, b)	((int32_t)((a) - (b)) >= 0)
#define SEQ_MIN(a, b)	(SEQ_LT(a, b) ? (a) : (b))
#define SEQ_MAX(a, b)	(SEQ_GT(a, b) ? (a) : (b))

enum tcp_state {
	TCPS_CLOSED, TCPS_LISTEN, TCPS_SYN_SENT, TCPS_SYN_RECEIVED,
	TCPS_ESTABLISHED, TCPS_CLOSE_WAIT, TCPS_FIN_WAIT_1, TCPS_CLOSING,
	TCPS_LAST_ACK, TCPS_FIN_WAIT_2, TCPS_TIME_WAIT
};
#define TCPS_HAVERCVDSYN(s)	((s) >= TCPS_SYN_RECEIVED)
#define TCPS_HAVEESTABLISHED(s)	((s) >= TCPS_ESTABLISHED)
#define TCPS_HAVERCVDFIN(s)	((s) == TCPS_CLOSE_WAIT || (s) == TCPS_CLOSING \
	|| (s) == TCPS_LAST_ACK || (s) == TCPS_TIME_WAIT)

enum { TCPT_REXMT, TCPT_PERSIST, TCPT_DELACK, TCPT_2MSL, TCPT_KEEP, TCPT_TLP,
    TCPT_NTIMERS };

/* Tunables. */
#define TCP_MSS_DEFAULT		536	/* RFC 9293 3.7.1 without the option */
#define TCP_RTO_MIN_MS		200	/* as Linux; RFC 6298 says 1 s (2.4) */
#define TCP_RTO_MAX_MS		60000
#define TCP_RTO_INIT_MS		1000	/* RFC 6298 2.1 */
#define TCP_MAXRXTSHIFT		12
#define TCP_SYN_MAXRXT		6
#define TCP_DELACK_MS		40
#define TCP_MSL_MS		30000	/* TIME_WAIT lasts 2 * MSL */
#define TCP_KEEPIDLE_MS		7200000
#define TCP_KEEPINTVL_MS	75000
#define TCP_KEEPCNT		8
#define TCP_BUFSIZE		(1024 * 1024)
#define TCP_REASS_MAXSEGS	1024	/* out-of-order segments held */
#define TCP_TICK_MS		10	/* timer granularity */
#define TCP_SACK_RCVBLKS	4	/* blocks remembered as receiver */
#define TCP_SACK_MAXRANGES	64	/* SACKed ranges remembered as sender */
#define TCP_DUPTHRESH		3	/* RFC 5681, RFC 6675 DupThresh */
#define TCP_TLP_MIN_MS		10	/* RFC 8985 7.2: PTO floor */
#define TCP_TLP_MAX		2	/* probes before the RTO; the RFC has 1 */
#define TCP_SACK_RXREC		16	/* retransmissions watched for loss */

#define TF_ACKNOW	0x0001	/* send an ACK now */
#define TF_DELACK	0x0002	/* an ACK is owed */
#define TF_NODELAY	0x0004	/* no Nagle */
#define TF_RCVD_SCALE	0x0008
#define TF_RCVD_TSTMP	0x0010
#define TF_SENTFIN	0x0020
#define TF_INRECOVERY	0x0040	/* NewReno fast recovery */
#define TF_DETACHED	0x0080	/* the socket was closed */
#define TF_SACK_PERMIT	0x0100	/* both sides sent SACK-permitted */
#define TF_RCVD_SACKPERM 0x0200	/* the peer's SYN had SACK-permitted */

/* A range of sequence space [start, end). */
struct tcp_seqrange {
	uint32_t start, end;
};

struct tcpcb {
	struct tcpcb *t_next, **t_pprev;	/* tcp_stack list */
	struct inpcb *t_inpcb;
	struct socket *t_socket;
	int t_state;
	unsigned t_flags;
	uint64_t t_timer[TCPT_NTIMERS];	/* deadline, uptime ns; 0: off */
	int t_rxtshift;
	int t_keepcnt;
	/* send sequence space (RFC 9293 3.3.1) */
	uint32_t snd_una, snd_nxt, snd_max, snd_wl1, snd_wl2, iss;
	uint32_t snd_wnd, max_sndwnd;
	/* receive sequence space */
	uint32_t rcv_nxt, rcv_wnd, rcv_adv, irs;
	uint32_t last_ack_sent;
	/* options */
	unsigned t_maxseg;		/* send MSS */
	unsigned t_tsomax;		/* the route's interface cuts segments of
					 * up to this many bytes (IP datagram;
					 * IFCAP_TSOv4); 0: it does not */
	uint8_t snd_scale, rcv_scale, request_r_scale;
	uint32_t ts_recent;
	uint64_t ts_recent_age;
	/* congestion control (RFC 5681, RFC 6582) */
	uint32_t snd_cwnd, snd_ssthresh, snd_recover;
	int t_dupacks;
	/* RTT (RFC 6298), in microseconds */
	int64_t t_srtt, t_rttvar;
	unsigned t_rto_ms;
	uint32_t t_rtseq;		/* sequence being timed */
	uint64_t t_rttime;		/* when it was sent; 0: none */
	/* out-of-order segments by sequence number (m_nextpkt) */
	struct mbuf *t_segq;
	int t_segqlen;
	unsigned t_segs_since_ack;	/* full segments received, unacked */
	/* SACK as receiver (RFC 2018 4): blocks of t_segq to report, the
	 * one holding the latest arrival first. */
	struct tcp_seqrange t_rcvsack[TCP_SACK_RCVBLKS];
	int t_nrcvsack;
	/* SACK as sender (RFC 6675): the scoreboard, ranges above snd_una
	 * the peer holds, sorted and disjoint; HighRxt of the recovery. */
	struct tcp_seqrange t_sacked[TCP_SACK_MAXRANGES];
	int t_nsacked;
	uint32_t t_sacked_bytes;
	uint32_t snd_highrxt;
	/* Retransmissions of this recovery: when one is still a hole but
	 * data sent after it was SACKed, it was lost too. */
	struct tcp_rxrec {
		uint32_t seq, len;
		uint32_t mark;		/* snd_max when it went */
		uint64_t when_us;
	} t_rxrec[TCP_SACK_RXREC];
	unsigned t_nrxrec;		/* records made (ring) */
	uint8_t t_tlp_sent;		/* loss probes out (RFC 8985 7) */
	/* When this connection last answered an invalid segment (an ACK
	 * to one out of the window or failing PAWS, a challenge ACK, a
	 * SYN-ACK to a repeated SYN); uptime ns, 0: never.  See
	 * tcp_invalid_ratelimited. */
	uint64_t t_lastinvalid;
	/* Listeners: when a SYN was last answered with a cookie (uptime
	 * ns; 0: never).  Cookies are checked only for a while after. */
	uint64_t t_sclast;
	/* Storage (mbufs and their external buffers) of t_segq, bounded
	 * by the receive buffer's size. */
	int t_segqmem;
	/* The timer wheel (tcp_subr.c): filed in one slot while any timer
	 * may be set, at a time no later than the earliest (t_wwhen). */
	struct tcpcb *t_wnext, **t_wprev;	/* t_wprev NULL: not filed */
	uint64_t t_wwhen;
};

struct tcpstat {
	uint64_t tcps_connattempt, tcps_accepts, tcps_connects, tcps_drops;
	uint64_t tcps_conndrops, tcps_closed, tcps_timeoutdrop;
	uint64_t tcps_rexmttimeo, tcps_persisttimeo, tcps_keepdrops;
	uint64_t tcps_sndtotal, tcps_sndpack, tcps_sndbyte, tcps_sndrexmitpack;
	uint64_t tcps_sndrexmitbyte, tcps_sndacks, tcps_sndprobe, tcps_sndrst;
	uint64_t tcps_rcvtotal, tcps_rcvpack, tcps_rcvbyte, tcps_rcvbadsum;
	uint64_t tcps_rcvbadoff, tcps_rcvshort, tcps_rcvduppack, tcps_rcvoopack;
	uint64_t tcps_rcvoodrop, tcps_rcvafterwin, tcps_rcvdupack, tcps_rcvacktoomuch;
	uint64_t tcps_rcvackpack, tcps_rcvwinupd, tcps_badsyn, tcps_noport;
	uint64_t tcps_fastrexmit, tcps_challengeack, tcps_rstignored;
	uint64_t tcps_listendrop, tcps_pawsdrop, tcps_badopt, tcps_delack;
	uint64_t tcps_timewait_reuse;	/* SYNs that reopened a TIME_WAIT */
	uint64_t tcps_challengeack_limited;	/* not sent: RFC 5961 7 */
	uint64_t tcps_ackskipped;	/* ACKs to invalid segments not sent */
	uint64_t tcps_rstlimited;	/* RSTs not sent: stack's budget */
	uint64_t tcps_sack_sndblocks;	/* SACK blocks sent (RFC 2018) */
	uint64_t tcps_sack_rcvblocks;	/* SACK blocks received and used */
	uint64_t tcps_sack_badblocks;	/* received blocks ignored */
	uint64_t tcps_sack_recovery;	/* RFC 6675 recoveries entered */
	uint64_t tcps_sack_rexmits;	/* segments retransmitted from holes */
	uint64_t tcps_lingerdrops;	/* SO_LINGER time out: reset */
	uint64_t tcps_tlp;		/* tail loss probes (RFC 8985 7) */
	uint64_t tcps_limitedxmit;	/* RFC 3042 segments */
	uint64_t tcps_sack_lostrexmit;	/* retransmissions found lost */
	uint64_t tcps_sc_sent;		/* SYN cookies sent (RFC 4987 3.6) */
	uint64_t tcps_sc_recvd;		/* cookies validated: connections */
	uint64_t tcps_sc_failed;	/* ACKs at a listener, bad cookie */
	uint64_t tcps_listenoverflow;	/* ACKs dropped: accept queue full */
};

/*
 * The timers of all connections sit on one wheel of TCP_WHEEL_SLOTS slots
 * of TCP_TICK_MS: a connection is filed in the slot of its earliest
 * deadline (or earlier: stopping a timer leaves it where it is), and each
 * tick looks only at the slot that came due, so idle connections (TIME_
 * WAIT, keepalive) cost nothing between their deadlines.  Deadlines past
 * the wheel's span are filed modulo and passed over, once a turn (20 s).
 */
#define TCP_WHEEL_SLOTS		2048

/*
 * Connections are found by a hash of their 4-tuple (SipHash under a
 * per-stack secret, so a peer cannot aim many at one chain), listeners
 * on a list of their own; ts_pcbs keeps every PCB for the port checks of
 * bind and connect.  TCP_HASHSIZE chains: 10,000 connections make chains
 * of 1.2 on average.
 */
#define TCP_HASHSIZE		8192

struct tcp_stack {
	struct tcpcb *ts_tcbs;		/* every control block */
	struct inpcb *ts_hash[TCP_HASHSIZE];	/* connected PCBs */
	struct inpcb *ts_listen;	/* listening PCBs */
	uint8_t ts_hash_key[16];
	uint8_t ts_sc_key[16];		/* SYN cookie secret, per boot */
	struct tcpcb *ts_wheel[TCP_WHEEL_SLOTS];
	struct tcpcb *ts_wdue;		/* taken from the slot being run */
	uint64_t ts_wtick;		/* next tick to run (uptime/TICK) */
	struct inpcb *ts_pcbs;		/* bound/listening/connected PCBs */
	struct tcpstat ts_stat;
	uint8_t ts_isn_key[16];		/* RFC 6528 secret */
	callout_t ts_timer;		/* TCP_TICK_MS */
	struct netstack *ts_ns;
	bool ts_dying;
	unsigned ts_ticks;		/* timer runs */
	unsigned ts_rsts;		/* RSTs answered this second */
	unsigned ts_rstlimit;		/* this second's budget, jittered */
};

/*
 * Replies the outside world can trigger are rate-limited (RFC 5961 7).
 * Per connection, as Linux's net.ipv4.tcp_invalid_ratelimit (default
 * 500 ms): one answer to an invalid segment (out-of-window or PAWS ACK,
 * challenge ACK, SYN-ACK to a repeated SYN) per TCP_INVALID_RATELIMIT_MS.
 * That bounds what one peer gets to 2 a second, breaks ACK loops between
 * two confused ends, and unlike RFC 5961's global limit it leaks nothing
 * about other connections (the global limit was CVE-2016-5696's side
 * channel; Linux turned it off in 2022).  RSTs to segments for no
 * connection have no connection to charge: one budget per stack,
 * TCP_RST_PER_SEC a second as FreeBSD's icmplim (which covers its RSTs),
 * jittered by up to TCP_RST_JITTER each second so the budget is a poor
 * side channel too.  Nothing from lo0 is limited: it is ourselves.
 */
#define TCP_INVALID_RATELIMIT_MS 500

/*
 * SYN floods (RFC 4987).  A listener holds at most max(backlog,
 * TCP_SYNQ_MIN) half-open connections (SYN_RECEIVED, on so_q0) and its
 * accept queue at most the backlog.  With the half-open queue full a SYN
 * gets a SYN cookie (tcp_syncookie.c): nothing is kept, and the final ACK
 * makes the connection.  With the accept queue full SYNs are dropped and
 * final ACKs too (the peer resends; Linux's ListenOverflows), so the
 * application's pace bounds what waits for it.  TCP_SYNQ_MIN is large
 * (as Linux's tcp_max_syn_backlog, not the backlog, bounds its SYN
 * queue) because a cookie handshake whose final ACK is lost leaves a peer
 * that thinks itself connected and KRANK knowing nothing of it, where a
 * half-open connection sends its SYN-ACK again: a burst of real clients
 * should find state, a flood finds cookies.  A half-open connection costs
 * a socket and a control block (about 3 KiB) and lives TCP_CONNTIMEO_MS
 * at most, as an active open does.
 */
#define TCP_SYNQ_MIN		256
#define TCP_CONNTIMEO_MS	75000	/* connection establishment */
#define TCP_RST_PER_SEC		200
#define TCP_RST_JITTER		16

static inline struct tcp_stack *
tcp_stack(struct netstack *ns)
{
	return ns->ns_slot[NS_SLOT_TCP];
}

static inline struct tcpcb *
intotcpcb(struct inpcb *inp)
{
	return inp->inp_ppcb;
}

/* tcp_subr.c */
struct tcpcb *tcp_newtcpcb(struct netstack *ns, struct socket *so,
    struct inpcb *inp);
struct tcpcb *tcp_close(struct tcpcb *tp);	/* frees; returns NULL */
/* tcp_rscale - the window scale our SYN asks for, from SO_RCVBUF as it
 * is now (before connect, or for a listener's connections). */
void tcp_rscale(struct tcpcb *tp);
struct tcpcb *tcp_drop(struct tcpcb *tp, int err);
uint32_t tcp_new_isn(struct netstack *ns, uint32_t laddr, uint16_t lport,
    uint32_t faddr, uint16_t fport);
void tcp_respond(struct netstack *ns, uint32_t src, uint32_t dst,
    uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, int flags,
    uint16_t win);
void tcp_timer_set(struct tcpcb *tp, int which, unsigned ms);
void tcp_timer_stop(struct tcpcb *tp, int which);
void tcp_tlp_arm(struct tcpcb *tp);
void tcp_timer_tick(void *arg);
unsigned tcp_rcvspace(struct tcpcb *tp);
uint64_t tcp_now_us(void);
void tcp_canceltimers(struct tcpcb *tp);
void tcp_xmit_timer(struct tcpcb *tp, int64_t rtt_us);
unsigned tcp_mss_for(struct netstack *ns, uint32_t faddr);
/* tcp_tso_for - the longest segment (IP datagram) the interface towards
 * faddr cuts for us (IFCAP_TSOv4), or 0. */
unsigned tcp_tso_for(struct netstack *ns, uint32_t faddr);
uint64_t siphash24(const uint8_t key[16], const void *data, size_t len);
/* The 12 bytes of a connection's 4-tuple, as the keyed hashes take it
 * (ISNs, the PCB table, SYN cookies); all in network order. */
static inline void
tcp_tuple(uint8_t out[12], uint32_t laddr, uint16_t lport, uint32_t faddr,
    uint16_t fport)
{
	memcpy(out, &laddr, 4);
	memcpy(out + 4, &faddr, 4);
	memcpy(out + 8, &lport, 2);
	memcpy(out + 10, &fport, 2);
}

/* tcp_input.c */
void tcp_input(struct ifnet *ifp, struct mbuf *m, int hlen);
/* tcp_invalid_ratelimited - true when tp answered an invalid segment
 * less than TCP_INVALID_RATELIMIT_MS ago (the answer is not sent); else
 * notes the answer's time and returns false. */
bool tcp_invalid_ratelimited(struct tcpcb *tp);
/* tcp_dooptions - parse options; 0 or EINVAL (malformed). */
struct tcpopt {
	int to_flags;
#define TOF_MSS		0x1
#define TOF_SCALE	0x2
#define TOF_SACKPERM	0x4
#define TOF_TS		0x8
#define TOF_SACK	0x10
	uint16_t to_mss;
	uint8_t to_wscale;
	uint32_t to_tsval, to_tsecr;
	int to_nsacks;			/* SACK blocks, at most 4 (40 bytes) */
	struct tcp_seqrange to_sacks[4];
};
int tcp_dooptions(const uint8_t *cp, int cnt, bool syn, struct tcpopt *to);
/* tcp_sack_update - take the peer's SACK blocks into the scoreboard. */
uint32_t tcp_sack_update(struct tcpcb *tp, const struct tcpopt *to,
    uint32_t ack);		/* returns the bytes newly SACKed */
/* tcp_sack_rcvd - out-of-order data from start arrived (and is queued):
 * its run of the queue becomes the first SACK block we send;
 * tcp_sack_trim - forget blocks below rcv_nxt. */
void tcp_sack_rcvd(struct tcpcb *tp, uint32_t start);
void tcp_sack_trim(struct tcpcb *tp);

/* tcp_output.c */
int tcp_output(struct tcpcb *tp);
void tcp_setpersist(struct tcpcb *tp);
/* tcp_addoptions - the options of a segment with flags into opt (40
 * bytes); returns their length, a multiple of 4. */
int tcp_addoptions(struct tcpcb *tp, uint8_t *opt, int flags);
/* tcp_maxdata - the most data a non-SYN segment carries: the MSS less the
 * options every segment has (timestamps), RFC 6691. */
unsigned tcp_maxdata(const struct tcpcb *tp);

/* tcp_sack_rexmit - send [seq, seq + len) again; HighRxt follows. */
void tcp_sack_rexmit(struct tcpcb *tp, uint32_t seq, uint32_t len);
/* tcp_tlp_send - a loss probe: one new segment, else the last again. */
void tcp_tlp_send(struct tcpcb *tp);
/* tcp_send_extra - one new segment beyond cwnd (limited transmit). */
bool tcp_send_extra(struct tcpcb *tp);

/* tcp_sack.c: the sender's scoreboard (RFC 6675). */
void tcp_sack_clear(struct tcpcb *tp);
void tcp_sack_ackadvance(struct tcpcb *tp);	/* drop what is below snd_una */
bool tcp_sack_islost(const struct tcpcb *tp, uint32_t seq);
bool tcp_sack_issacked(const struct tcpcb *tp, uint32_t seq);
uint32_t tcp_sack_above(const struct tcpcb *tp, uint32_t seq);
/* tcp_sack_lostrexmit - resend retransmissions found lost. */
void tcp_sack_lostrexmit(struct tcpcb *tp);
uint32_t tcp_sack_pipe(const struct tcpcb *tp);
/* tcp_sack_nextseg - RFC 6675 NextSeg rules 1 and 3 (rule 2, new data, is
 * tcp_output's): a range to retransmit, or false. */
bool tcp_sack_nextseg(const struct tcpcb *tp, bool rule3, uint32_t *seq,
    uint32_t *len);

/* tcp_subr.c: the PCB tables.  tcp_pcb_insert files a new PCB on
 * ts_pcbs; tcp_pcb_hash files a connected one (both addresses set) in
 * the hash; tcp_pcb_listen on the listeners; tcp_pcb_remove takes it off
 * every one it is on.  tcp_pcb_lookup: the connection with exactly this
 * 4-tuple (network order), or NULL. */
void tcp_pcb_insert(struct tcp_stack *ts, struct inpcb *inp);
void tcp_pcb_hash(struct tcp_stack *ts, struct inpcb *inp);
void tcp_pcb_listen(struct tcp_stack *ts, struct inpcb *inp);
void tcp_pcb_remove(struct inpcb *inp);
struct inpcb *tcp_pcb_lookup(struct tcp_stack *ts, uint32_t laddr,
    uint16_t lport, uint32_t faddr, uint16_t fport);

/* tcp_syncookie.c */
/* tcp_sc_send - answer the SYN (irs, options to) from faddr:fport to
 * the listener ltp at laddr:lport with a cookie SYN-ACK. */
void tcp_sc_send(struct tcpcb *ltp, uint32_t laddr, uint16_t lport,
    uint32_t faddr, uint16_t fport, uint32_t irs, const struct tcpopt *to);
/* tcp_sc_check - is the ACK (seq, ack) the answer to a cookie ltp sent
 * lately?  Sets *mssp to the MSS the cookie carried. */
bool tcp_sc_check(struct tcpcb *ltp, uint32_t laddr, uint16_t lport,
    uint32_t faddr, uint16_t fport, uint32_t seq, uint32_t ack,
    unsigned *mssp);

/* tcp_usrreq.c */
extern const struct protosw tcp_protosw;
void tcp_stack_attach_timer(struct tcp_stack *ts);

#endif /* RUMPDRV_NET_TCP_VAR_H */
