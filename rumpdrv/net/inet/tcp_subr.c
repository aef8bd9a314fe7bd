/*
 * tcp_subr.c - TCP control blocks, initial sequence numbers (RFC 6528:
 * a 4-microsecond clock plus SipHash-2-4 of the connection's addresses
 * under a per-stack secret), segments sent without a connection (RST,
 * challenge ACKs), the RTO estimator (RFC 6298) and the timers, on a
 * wheel turned every TCP_TICK_MS by one callout per stack.  ns_lock held
 * except in the tick.
 */
#include "net/inet/tcp_var.h"

static uint64_t
rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

#define SIPROUND do {							\
	v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32);	\
	v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;				\
	v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;				\
	v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32);	\
} while (0)

/* SipHash-2-4 (Aumasson and Bernstein), written from the paper. */
uint64_t
siphash24(const uint8_t key[16], const void *data, size_t len)
{
	uint64_t k0, k1, m;
	const uint8_t *p = data;
	memcpy(&k0, key, 8);
	memcpy(&k1, key + 8, 8);
	uint64_t v0 = k0 ^ 0x736f6d6570736575ull, v1 = k1 ^ 0x646f72616e646f6dull;
	uint64_t v2 = k0 ^ 0x6c7967656e657261ull, v3 = k1 ^ 0x7465646279746573ull;
	size_t i;
	for (i = 0; i + 8 <= len; i += 8) {
		memcpy(&m, p + i, 8);
		v3 ^= m;
		SIPROUND; SIPROUND;
		v0 ^= m;
	}
	uint64_t b = (uint64_t)len << 56;
	for (size_t j = 0; i + j < len; j++)
		b |= (uint64_t)p[i + j] << (8 * j);
	v3 ^= b;
	SIPROUND; SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND; SIPROUND; SIPROUND; SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

uint64_t
tcp_now_us(void)
{
	return kern_uptime_ns() / 1000;
}

uint32_t
tcp_new_isn(struct netstack *ns, uint32_t laddr, uint16_t lport,
    uint32_t faddr, uint16_t fport)
{
	uint8_t tuple[12];
	tcp_tuple(tuple, laddr, lport, faddr, fport);
	uint32_t f = (uint32_t)siphash24(tcp_stack(ns)->ts_isn_key, tuple,
	    sizeof(tuple));
	return (uint32_t)(tcp_now_us() / 4) + f;
}

unsigned
tcp_mss_for(struct netstack *ns, uint32_t faddr)
{
	struct rtentry *rt = rt_lookup(ns, faddr);
	unsigned mtu = 1500;
	if (in_ifaddr_lookup(ns, faddr) != NULL || IN_LOOPBACK(faddr))
		mtu = ns->ns_loif->if_mtu;
	else if (rt != NULL)
		mtu = rt->rt_ifp->if_mtu;
	return mtu - 40;
}

unsigned
tcp_tso_for(struct netstack *ns, uint32_t faddr)
{
	if (in_ifaddr_lookup(ns, faddr) != NULL || IN_LOOPBACK(faddr))
		return 0;
	struct rtentry *rt = rt_lookup(ns, faddr);
	if (rt == NULL || (rt->rt_ifp->if_capenable &
	    (IFCAP_TSOv4 | IFCAP_CSUM_TCPv4_Tx)) !=
	    (IFCAP_TSOv4 | IFCAP_CSUM_TCPv4_Tx))
		return 0;
	return rt->rt_ifp->if_tsomax;
}

unsigned
tcp_rcvspace(struct tcpcb *tp)
{
	struct socket *so = tp->t_socket;
	int space = sbspace(&so->so_rcv);
	return space < 0 ? 0 : (unsigned)space;
}

void
tcp_rscale(struct tcpcb *tp)
{
	/* Window scale wanted so the receive buffer fits (RFC 7323 2.2). */
	tp->request_r_scale = 0;
	while (tp->request_r_scale < 14 && (65535u << tp->request_r_scale) <
	    (unsigned)tp->t_socket->so_rcv.sb_hiwat)
		tp->request_r_scale++;
}

struct tcpcb *
tcp_newtcpcb(struct netstack *ns, struct socket *so, struct inpcb *inp)
{
	struct tcp_stack *ts = tcp_stack(ns);
	struct tcpcb *tp = kmem_zalloc(sizeof(*tp), KM_NOSLEEP);
	if (tp == NULL)
		return NULL;
	tp->t_inpcb = inp;
	tp->t_socket = so;
	tp->t_state = TCPS_CLOSED;
	tp->t_maxseg = TCP_MSS_DEFAULT;
	tp->t_rto_ms = TCP_RTO_INIT_MS;
	tp->snd_cwnd = 0xffffffffu;
	tp->snd_ssthresh = 0x3fffffffu;
	tcp_rscale(tp);
	inp->inp_ppcb = tp;
	tp->t_next = ts->ts_tcbs;
	if (tp->t_next != NULL)
		tp->t_next->t_pprev = &tp->t_next;
	tp->t_pprev = &ts->ts_tcbs;
	ts->ts_tcbs = tp;
	return tp;
}

/* ---- PCB tables ---- */

static struct inpcb **
tcp_pcb_chain(struct tcp_stack *ts, uint32_t laddr, uint16_t lport,
    uint32_t faddr, uint16_t fport)
{
	uint8_t tuple[12];
	tcp_tuple(tuple, laddr, lport, faddr, fport);
	uint64_t h = siphash24(ts->ts_hash_key, tuple, sizeof(tuple));
	return &ts->ts_hash[h & (TCP_HASHSIZE - 1)];
}

void
tcp_pcb_insert(struct tcp_stack *ts, struct inpcb *inp)
{
	inp->inp_next = ts->ts_pcbs;
	if (inp->inp_next != NULL)
		inp->inp_next->inp_pprev = &inp->inp_next;
	inp->inp_pprev = &ts->ts_pcbs;
	ts->ts_pcbs = inp;
}

void
tcp_pcb_hash(struct tcp_stack *ts, struct inpcb *inp)
{
	struct inpcb **head = tcp_pcb_chain(ts, inp->inp_laddr, inp->inp_lport,
	    inp->inp_faddr, inp->inp_fport);
	KASSERT(inp->inp_hpprev == NULL);
	inp->inp_hnext = *head;
	if (inp->inp_hnext != NULL)
		inp->inp_hnext->inp_hpprev = &inp->inp_hnext;
	inp->inp_hpprev = head;
	*head = inp;
}

void
tcp_pcb_listen(struct tcp_stack *ts, struct inpcb *inp)
{
	if (inp->inp_lpprev != NULL)
		return;
	inp->inp_lnext = ts->ts_listen;
	if (inp->inp_lnext != NULL)
		inp->inp_lnext->inp_lpprev = &inp->inp_lnext;
	inp->inp_lpprev = &ts->ts_listen;
	ts->ts_listen = inp;
}

void
tcp_pcb_remove(struct inpcb *inp)
{
	if (inp->inp_pprev != NULL) {
		*inp->inp_pprev = inp->inp_next;
		if (inp->inp_next != NULL)
			inp->inp_next->inp_pprev = inp->inp_pprev;
		inp->inp_pprev = NULL;
	}
	if (inp->inp_hpprev != NULL) {
		*inp->inp_hpprev = inp->inp_hnext;
		if (inp->inp_hnext != NULL)
			inp->inp_hnext->inp_hpprev = inp->inp_hpprev;
		inp->inp_hpprev = NULL;
	}
	if (inp->inp_lpprev != NULL) {
		*inp->inp_lpprev = inp->inp_lnext;
		if (inp->inp_lnext != NULL)
			inp->inp_lnext->inp_lpprev = inp->inp_lpprev;
		inp->inp_lpprev = NULL;
	}
}

struct inpcb *
tcp_pcb_lookup(struct tcp_stack *ts, uint32_t laddr, uint16_t lport,
    uint32_t faddr, uint16_t fport)
{
	for (struct inpcb *inp = *tcp_pcb_chain(ts, laddr, lport, faddr, fport);
	    inp != NULL; inp = inp->inp_hnext)
		if (inp->inp_lport == lport && inp->inp_fport == fport &&
		    inp->inp_faddr == faddr && inp->inp_laddr == laddr)
			return inp;
	return NULL;
}

#define TCP_TICK_NS	((uint64_t)TCP_TICK_MS * 1000000u)

static void
tcp_wheel_unlink(struct tcpcb *tp)
{
	if (tp->t_wprev == NULL)
		return;
	*tp->t_wprev = tp->t_wnext;
	if (tp->t_wnext != NULL)
		tp->t_wnext->t_wprev = tp->t_wprev;
	tp->t_wnext = NULL;
	tp->t_wprev = NULL;
}

static void
tcp_wheel_insert(struct tcpcb **head, struct tcpcb *tp)
{
	tp->t_wnext = *head;
	if (*head != NULL)
		(*head)->t_wprev = &tp->t_wnext;
	*head = tp;
	tp->t_wprev = head;
}

/* File tp so the wheel looks at it no later than when (uptime ns). */
static void
tcp_wheel_file(struct tcpcb *tp, uint64_t when)
{
	struct tcp_stack *ts = tcp_stack(tp->t_socket->so_stack);
	if (tp->t_wprev != NULL) {
		if (tp->t_wwhen <= when)
			return;		/* looked at early enough already */
		tcp_wheel_unlink(tp);
	}
	uint64_t tick = (when + TCP_TICK_NS - 1) / TCP_TICK_NS;
	if (tick < ts->ts_wtick)
		tick = ts->ts_wtick;	/* due: the next tick run */
	tp->t_wwhen = when;
	tcp_wheel_insert(&ts->ts_wheel[tick % TCP_WHEEL_SLOTS], tp);
}

void
tcp_timer_set(struct tcpcb *tp, int which, unsigned ms)
{
	tp->t_timer[which] = kern_uptime_ns() + (uint64_t)ms * 1000000u;
	tcp_wheel_file(tp, tp->t_timer[which]);
	if (which == TCPT_REXMT)
		tcp_tlp_arm(tp);
}

void
tcp_timer_stop(struct tcpcb *tp, int which)
{
	tp->t_timer[which] = 0;
	if (which == TCPT_REXMT)
		tp->t_timer[TCPT_TLP] = 0;
}

/*
 * RFC 8985 7.2: a probe timeout of two smoothed RTTs (plus the peer's
 * delayed-ACK time when one segment is out), at least TCP_TLP_MIN_MS and
 * before the RTO.  Needs SACK; one probe until the peer shows progress;
 * none once the RTO fired.  Unlike the RFC it also runs in recovery,
 * where there is no RACK to find lost retransmissions.
 */
void
tcp_tlp_arm(struct tcpcb *tp)
{
	tp->t_timer[TCPT_TLP] = 0;
	if (!(tp->t_flags & TF_SACK_PERMIT) ||
	    tp->t_tlp_sent >= TCP_TLP_MAX ||
	    tp->t_rxtshift > 0 || tp->t_srtt == 0 ||
	    !TCPS_HAVEESTABLISHED(tp->t_state) ||
	    tp->t_state == TCPS_FIN_WAIT_2 || tp->t_state == TCPS_TIME_WAIT ||
	    tp->snd_max == tp->snd_una)
		return;
	uint64_t pto = 2 * (uint64_t)tp->t_srtt;
	if (tp->snd_max - tp->snd_una <= tcp_maxdata(tp))
		pto += (TCP_DELACK_MS + TCP_TICK_MS) * 1000;
	if (pto < TCP_TLP_MIN_MS * 1000)
		pto = TCP_TLP_MIN_MS * 1000;
	uint64_t when = kern_uptime_ns() + pto * 1000;
	if (pto >= (uint64_t)tp->t_rto_ms * 1000 ||
	    (tp->t_timer[TCPT_REXMT] != 0 && when >= tp->t_timer[TCPT_REXMT]))
		return;
	tp->t_timer[TCPT_TLP] = when;
	tcp_wheel_file(tp, when);
}

void
tcp_canceltimers(struct tcpcb *tp)
{
	for (int i = 0; i < TCPT_NTIMERS; i++)
		tp->t_timer[i] = 0;
}

/* RFC 6298 section 2: the estimator, in microseconds. */
void
tcp_xmit_timer(struct tcpcb *tp, int64_t rtt)
{
	if (rtt < 1)
		rtt = 1;
	if (tp->t_srtt == 0) {
		tp->t_srtt = rtt;
		tp->t_rttvar = rtt / 2;
	} else {
		int64_t d = tp->t_srtt - rtt;
		if (d < 0)
			d = -d;
		tp->t_rttvar = (3 * tp->t_rttvar + d) / 4;
		tp->t_srtt = (7 * tp->t_srtt + rtt) / 8;
	}
	int64_t rto = (tp->t_srtt + (4 * tp->t_rttvar > TCP_TICK_MS * 1000 ?
	    4 * tp->t_rttvar : TCP_TICK_MS * 1000)) / 1000;
	if (rto < TCP_RTO_MIN_MS)
		rto = TCP_RTO_MIN_MS;
	if (rto > TCP_RTO_MAX_MS)
		rto = TCP_RTO_MAX_MS;
	tp->t_rto_ms = (unsigned)rto;
	tp->t_rxtshift = 0;
}

void
tcp_respond(struct netstack *ns, uint32_t src, uint32_t dst, uint16_t sport,
    uint16_t dport, uint32_t seq, uint32_t ack, int flags, uint16_t win)
{
	struct mbuf *m = m_gethdr(M_DONTWAIT, MT_DATA);
	if (m == NULL)
		return;
	m_align(m, (int)sizeof(struct tcphdr));
	m->m_len = m->m_pkthdr.len = sizeof(struct tcphdr);
	struct tcphdr *th = mtod(m, struct tcphdr *);
	memset(th, 0, sizeof(*th));
	th->th_sport = sport;
	th->th_dport = dport;
	th->th_seq = htonl(seq);
	th->th_ack = htonl(ack);
	th->th_off = 5 << 4;
	th->th_flags = (uint8_t)flags;
	th->th_win = htons(win);
	th->th_sum = in4_cksum(m, IPPROTO_TCP, src, dst, 0, sizeof(*th));
	if (flags & TH_RST)
		tcp_stack(ns)->ts_stat.tcps_sndrst++;
	else
		tcp_stack(ns)->ts_stat.tcps_sndacks++;
	ip_output(ns, m, src, dst, IPPROTO_TCP, IPDEFTTL, 0, 0);
}

static void
tcp_unlink(struct tcpcb *tp)
{
	*tp->t_pprev = tp->t_next;
	if (tp->t_next != NULL)
		tp->t_next->t_pprev = tp->t_pprev;
	tcp_pcb_remove(tp->t_inpcb);
}

struct tcpcb *
tcp_close(struct tcpcb *tp)
{
	struct socket *so = tp->t_socket;
	struct tcp_stack *ts = tcp_stack(so->so_stack);
	ts->ts_stat.tcps_closed++;
	tcp_unlink(tp);
	tcp_wheel_unlink(tp);
	m_freem_list(tp->t_segq);
	struct inpcb *inp = tp->t_inpcb;
	kmem_free(inp, sizeof(*inp));
	kmem_free(tp, sizeof(*tp));
	soisdisconnected(so);
	sofree_pcb(so);		/* drops the protocol's reference */
	return NULL;
}

struct tcpcb *
tcp_drop(struct tcpcb *tp, int err)
{
	struct socket *so = tp->t_socket;
	if (TCPS_HAVERCVDSYN(tp->t_state)) {
		tp->t_state = TCPS_CLOSED;
		tcp_respond(so->so_stack, tp->t_inpcb->inp_laddr,
		    tp->t_inpcb->inp_faddr, tp->t_inpcb->inp_lport,
		    tp->t_inpcb->inp_fport, tp->snd_nxt, 0, TH_RST, 0);
		tcp_stack(so->so_stack)->ts_stat.tcps_drops++;
	} else
		tcp_stack(so->so_stack)->ts_stat.tcps_conndrops++;
	if (err == ETIMEDOUT && so->so_error != 0)
		err = so->so_error;	/* a soft error explains it better */
	so->so_error = err;
	return tcp_close(tp);
}

static void
tcp_timer_rexmt(struct tcpcb *tp)
{
	struct tcp_stack *ts = tcp_stack(tp->t_socket->so_stack);
	int max = TCPS_HAVEESTABLISHED(tp->t_state) ? TCP_MAXRXTSHIFT :
	    TCP_SYN_MAXRXT;
	if (++tp->t_rxtshift > max) {
		ts->ts_stat.tcps_timeoutdrop++;
		tcp_drop(tp, ETIMEDOUT);
		return;
	}
	ts->ts_stat.tcps_rexmttimeo++;
	unsigned rto = tp->t_rto_ms << (tp->t_rxtshift < 8 ? tp->t_rxtshift : 8);
	if (rto > TCP_RTO_MAX_MS)
		rto = TCP_RTO_MAX_MS;
	/* RFC 5681 3.1 (eq. 4) and 7.2: collapse the window. */
	uint32_t flight = tp->snd_max - tp->snd_una;
	uint32_t half = flight / 2;
	tp->snd_ssthresh = half > 2 * tp->t_maxseg ? half : 2 * tp->t_maxseg;
	tp->snd_cwnd = tp->t_maxseg;
	tp->t_dupacks = 0;
	tp->t_flags &= ~TF_INRECOVERY;
	tp->t_nrxrec = 0;
	/* A peer may renege on what it SACKed (RFC 2018 8): after a second
	 * timeout in a row, retransmit everything. */
	if (tp->t_rxtshift >= 2)
		tcp_sack_clear(tp);
	tp->snd_recover = tp->snd_max;
	tp->t_rttime = 0;		/* Karn: no samples from retransmits */
	tp->snd_nxt = tp->snd_una;
	tcp_output(tp);
	/* tcp_output re-arms with the base RTO; apply the backoff. */
	if (tp->t_timer[TCPT_REXMT] != 0)
		tcp_timer_set(tp, TCPT_REXMT, rto);
}

static void
tcp_timer_persist(struct tcpcb *tp)
{
	tcp_stack(tp->t_socket->so_stack)->ts_stat.tcps_persisttimeo++;
	if (tp->t_rxtshift < TCP_MAXRXTSHIFT)
		tp->t_rxtshift++;
	tcp_setpersist(tp);
	/* Zero-window probe: one byte past the window (RFC 9293 3.8.6.1). */
	if (tp->t_socket->so_snd.sb_cc > (int)(tp->snd_max - tp->snd_una) &&
	    tp->snd_wnd == 0) {
		tp->snd_wnd = 1;
		tcp_output(tp);
		tp->snd_wnd = 0;
	}
}

static void
tcp_timer_keep(struct tcpcb *tp)
{
	struct socket *so = tp->t_socket;
	if (!TCPS_HAVEESTABLISHED(tp->t_state)) {
		tcp_drop(tp, ETIMEDOUT);	/* connection establishment */
		return;
	}
	if ((so->so_options & SO_KEEPALIVE_F) && tp->t_state <= TCPS_CLOSE_WAIT) {
		if (++tp->t_keepcnt > TCP_KEEPCNT) {
			tcp_stack(so->so_stack)->ts_stat.tcps_keepdrops++;
			tcp_drop(tp, ETIMEDOUT);
			return;
		}
		/* RFC 9293 3.8.4: a segment with SEG.SEQ = SND.NXT-1. */
		tcp_respond(so->so_stack, tp->t_inpcb->inp_laddr,
		    tp->t_inpcb->inp_faddr, tp->t_inpcb->inp_lport,
		    tp->t_inpcb->inp_fport, tp->snd_una - 1, tp->rcv_nxt,
		    TH_ACK, 0);
		tcp_timer_set(tp, TCPT_KEEP, TCP_KEEPINTVL_MS);
	} else
		tcp_timer_set(tp, TCPT_KEEP, TCP_KEEPIDLE_MS);
}

/* A new second's RST budget: TCP_RST_PER_SEC +- TCP_RST_JITTER. */
static void
tcp_rst_budget(struct tcp_stack *ts)
{
	ts->ts_rsts = 0;
	ts->ts_rstlimit = TCP_RST_PER_SEC - TCP_RST_JITTER +
	    (unsigned)(cprng_fast64() % (2 * TCP_RST_JITTER + 1));
}

/*
 * A connection the wheel came to: run its first expired timer (one per
 * tick, as each may free it), after filing it again for the rest.
 */
static void
tcp_timer_run(struct tcpcb *tp, uint64_t now)
{
	struct tcp_stack *ts = tcp_stack(tp->t_socket->so_stack);
	int due = -1;
	uint64_t next = 0;
	for (int i = 0; i < TCPT_NTIMERS; i++) {
		uint64_t t = tp->t_timer[i];
		if (t == 0)
			continue;
		if (t <= now && due < 0) {
			due = i;
			continue;
		}
		if (next == 0 || t < next)
			next = t;
	}
	if (next != 0)
		tcp_wheel_file(tp, next);
	if (due < 0)
		return;
	tp->t_timer[due] = 0;
	switch (due) {
	case TCPT_REXMT:
		tcp_timer_rexmt(tp);
		break;
	case TCPT_PERSIST:
		tcp_timer_persist(tp);
		break;
	case TCPT_DELACK:
		ts->ts_stat.tcps_delack++;
		tp->t_flags |= TF_ACKNOW;
		tcp_output(tp);
		break;
	case TCPT_2MSL:
		tcp_close(tp);
		break;
	case TCPT_KEEP:
		tcp_timer_keep(tp);
		break;
	case TCPT_TLP:
		tcp_tlp_send(tp);
		break;
	}
}

void
tcp_timer_tick(void *arg)
{
	struct tcp_stack *ts = arg;
	struct netstack *ns = ts->ts_ns;
	mutex_enter_clock(&ns->ns_lock);
	if (++ts->ts_ticks % (1000 / TCP_TICK_MS) == 0 || ts->ts_rstlimit == 0)
		tcp_rst_budget(ts);
	uint64_t now = kern_uptime_ns();
	uint64_t last = now / TCP_TICK_NS;
	/* Late by more than a turn: one pass over every slot does. */
	if (ts->ts_wtick + TCP_WHEEL_SLOTS <= last)
		ts->ts_wtick = last + 1 - TCP_WHEEL_SLOTS;
	while (ts->ts_wtick <= last) {
		struct tcpcb **slot = &ts->ts_wheel[ts->ts_wtick %
		    TCP_WHEEL_SLOTS];
		ts->ts_wtick++;
		if (*slot == NULL)
			continue;
		/* Move the slot to ts_wdue, so what is filed again (in this
		 * slot a turn later) is not met again now, and a connection
		 * freed meanwhile just leaves the list. */
		ts->ts_wdue = *slot;
		ts->ts_wdue->t_wprev = &ts->ts_wdue;
		*slot = NULL;
		struct tcpcb *tp;
		while ((tp = ts->ts_wdue) != NULL) {
			tcp_wheel_unlink(tp);
			tcp_timer_run(tp, now);
		}
	}
	bool dying = ts->ts_dying;
	mutex_exit(&ns->ns_lock);
	if (!dying)
		callout_schedule(&ts->ts_timer, TCP_TICK_MS);
}
