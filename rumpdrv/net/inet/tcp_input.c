/*
 * tcp_input.c - segment arrival, following RFC 9293 3.10.7: checks where
 * the segment enters (length, data offset, checksum, options), PCB lookup
 * (connection, then listener), LISTEN with a bounded queue of embryonic
 * connections, SYN-SENT, then the acceptability test, RST and SYN
 * validation with challenge ACKs (RFC 5961 3, 4, 5), PAWS (RFC 7323 5),
 * ACK processing with the RFC 6298 estimator, slow start and congestion
 * avoidance, fast retransmit and NewReno recovery (RFC 5681, RFC 6582),
 * in-order delivery with a bounded out-of-order queue, FIN processing and
 * the delayed-ACK rule (every second full segment, or TCP_DELACK_MS).
 * ns_lock held.
 */
#include "net/inet/tcp_var.h"

int
tcp_dooptions(const uint8_t *cp, int cnt, bool syn, struct tcpopt *to)
{
	memset(to, 0, sizeof(*to));
	for (int i = 0; i < cnt; ) {
		int opt = cp[i];
		if (opt == TCPOPT_EOL)
			break;
		if (opt == TCPOPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= cnt)
			return EINVAL;
		int olen = cp[i + 1];
		if (olen < 2 || i + olen > cnt)
			return EINVAL;
		switch (opt) {
		case TCPOPT_MAXSEG:
			if (olen != 4)
				return EINVAL;
			if (syn) {
				to->to_flags |= TOF_MSS;
				to->to_mss = (uint16_t)(cp[i + 2] << 8 | cp[i + 3]);
			}
			break;
		case TCPOPT_WINDOW:
			if (olen != 3)
				return EINVAL;
			if (syn) {
				to->to_flags |= TOF_SCALE;
				/* RFC 7323 2.3: larger than 14 is taken as 14. */
				to->to_wscale = cp[i + 2] > 14 ? 14 : cp[i + 2];
			}
			break;
		case TCPOPT_SACK_PERMITTED:
			if (olen != 2)
				return EINVAL;
			if (syn)
				to->to_flags |= TOF_SACKPERM;
			break;
		case TCPOPT_SACK:
			/* RFC 2018 3: 2 + 8n bytes; n <= 4 as options are at
			 * most 40 bytes (checked above: i + olen <= cnt). */
			if (olen < 10 || (olen - 2) % 8 != 0)
				return EINVAL;
			if (syn)
				break;
			to->to_flags |= TOF_SACK;
			to->to_nsacks = 0;
			for (int k = i + 2; k + 8 <= i + olen &&
			    to->to_nsacks < 4; k += 8) {
				struct tcp_seqrange *r =
				    &to->to_sacks[to->to_nsacks++];
				r->start = (uint32_t)cp[k] << 24 |
				    (uint32_t)cp[k + 1] << 16 |
				    (uint32_t)cp[k + 2] << 8 | cp[k + 3];
				r->end = (uint32_t)cp[k + 4] << 24 |
				    (uint32_t)cp[k + 5] << 16 |
				    (uint32_t)cp[k + 6] << 8 | cp[k + 7];
			}
			break;
		case TCPOPT_TIMESTAMP:
			if (olen != 10)
				return EINVAL;
			to->to_flags |= TOF_TS;
			to->to_tsval = (uint32_t)cp[i + 2] << 24 |
			    (uint32_t)cp[i + 3] << 16 | (uint32_t)cp[i + 4] << 8 |
			    cp[i + 5];
			to->to_tsecr = (uint32_t)cp[i + 6] << 24 |
			    (uint32_t)cp[i + 7] << 16 | (uint32_t)cp[i + 8] << 8 |
			    cp[i + 9];
			break;
		default:
			break;		/* unknown options are skipped */
		}
		i += olen;
	}
	return 0;
}

/* The listener a SYN for dst:dport goes to: bound to dst, else to any. */
static struct inpcb *
tcp_lookup_listen(struct tcp_stack *ts, uint32_t dst, uint16_t dport)
{
	struct inpcb *wild = NULL;
	for (struct inpcb *inp = ts->ts_listen; inp; inp = inp->inp_lnext) {
		struct tcpcb *tp = intotcpcb(inp);
		if (inp->inp_lport != dport || tp == NULL ||
		    tp->t_state != TCPS_LISTEN)
			continue;
		if (inp->inp_laddr == dst)
			return inp;
		if (inp->inp_laddr == INADDR_ANY && wild == NULL)
			wild = inp;
	}
	return wild;
}

/* The connection a segment belongs to (by hash), else (NULL, and
 * *listenp) the listener for its destination, if any. */
static struct inpcb *
tcp_lookup(struct tcp_stack *ts, uint32_t src, uint16_t sport, uint32_t dst,
    uint16_t dport, struct inpcb **listenp)
{
	struct inpcb *inp = tcp_pcb_lookup(ts, dst, dport, src, sport);
	if (inp != NULL)
		return inp;
	*listenp = tcp_lookup_listen(ts, dst, dport);
	return NULL;
}

/*
 * A connection for listener ltp from faddr:fport to laddr:lport: a socket
 * on its half-open queue and a PCB in the hash; NULL (counted) when the
 * accept queue is full or memory short.
 */
static struct tcpcb *
tcp_newconn(struct tcpcb *ltp, uint32_t laddr, uint16_t lport,
    uint32_t faddr, uint16_t fport)
{
	struct netstack *ns = ltp->t_socket->so_stack;
	struct tcp_stack *ts = tcp_stack(ns);
	struct socket *so = sonewconn(ltp->t_socket);
	if (so == NULL) {
		ts->ts_stat.tcps_listendrop++;
		return NULL;
	}
	struct inpcb *inp = kmem_zalloc(sizeof(*inp), KM_NOSLEEP);
	if (inp == NULL) {
		sofree_pcb(so);
		return NULL;
	}
	inp->inp_socket = so;
	inp->inp_laddr = laddr;
	inp->inp_lport = lport;
	inp->inp_faddr = faddr;
	inp->inp_fport = fport;
	so->so_pcb = inp;
	struct tcpcb *tp = tcp_newtcpcb(ns, so, inp);
	if (tp == NULL) {
		kmem_free(inp, sizeof(*inp));
		so->so_pcb = NULL;
		sofree_pcb(so);
		return NULL;
	}
	tcp_pcb_insert(ts, inp);
	tcp_pcb_hash(ts, inp);
	tp->t_flags |= ltp->t_flags & TF_NODELAY;
	return tp;
}

/*
 * May a SYN reopen the connection tp holds in TIME_WAIT (RFC 1122
 * 4.2.2.13, RFC 6191)?  As Linux's tcp_timewait_state_process: when it
 * passes PAWS and is newer than the old incarnation, by its sequence
 * number (above the old RCV.NXT) or by its timestamp (above the last one
 * seen), so no old duplicate can be taken for the new connection's.
 */
static bool
tcp_timewait_reopens(const struct tcpcb *tp, uint32_t seq,
    const struct tcpopt *to)
{
	bool tsok = (to->to_flags & TOF_TS) && (tp->t_flags & TF_RCVD_TSTMP);
	if (tsok && (int32_t)(to->to_tsval - tp->ts_recent) < 0)
		return false;		/* PAWS (RFC 7323 5.3) */
	return SEQ_GT(seq, tp->rcv_nxt) ||
	    (tsok && (int32_t)(to->to_tsval - tp->ts_recent) > 0);
}

bool
tcp_invalid_ratelimited(struct tcpcb *tp)
{
	uint64_t now = kern_uptime_ns();
	if (tp->t_lastinvalid != 0 && now - tp->t_lastinvalid <
	    (uint64_t)TCP_INVALID_RATELIMIT_MS * 1000000u)
		return true;
	tp->t_lastinvalid = now;
	return false;
}

/* Segments past rcv_nxt wait here, ordered, without overlaps. */
static void
tcp_reass_insert(struct tcpcb *tp, struct mbuf *m, uint32_t seq, int len)
{
	struct tcp_stack *ts = tcp_stack(tp->t_socket->so_stack);
	/* What the queue pins (mbufs and their buffers) is bounded by the
	 * receive buffer's size, so tiny segments in large frames cannot
	 * hold more; the segment at rcv_nxt is always taken: it fills the
	 * hole and goes to the socket at once. */
	int mem = 0;
	for (struct mbuf *n = m; n != NULL; n = n->m_next)
		mem += MSIZE + ((n->m_flags & M_EXT) ? (int)n->m_ext->ext_size : 0);
	if ((tp->t_segqlen >= TCP_REASS_MAXSEGS ||
	    tp->t_segqmem + mem > tp->t_socket->so_rcv.sb_hiwat) &&
	    seq != tp->rcv_nxt) {
		ts->ts_stat.tcps_rcvoodrop++;
		m_freem(m);
		return;
	}
	/* m_pkthdr.csum_flags carries the sequence number here. */
	m->m_pkthdr.csum_flags = (int)seq;
	m->m_pkthdr.len = len;
	struct mbuf **pp = &tp->t_segq;
	while (*pp != NULL) {
		uint32_t s = (uint32_t)(*pp)->m_pkthdr.csum_flags;
		int l = (*pp)->m_pkthdr.len;
		if (SEQ_GEQ(s, seq + (uint32_t)len))
			break;
		if (SEQ_LEQ(s, seq) && SEQ_GEQ(s + (uint32_t)l, seq + (uint32_t)len)) {
			ts->ts_stat.tcps_rcvduppack++;
			m_freem(m);		/* already have all of it */
			return;
		}
		if (SEQ_LT(s + (uint32_t)l, seq) || s + (uint32_t)l == seq) {
			pp = &(*pp)->m_nextpkt;
			continue;
		}
		/* Partial overlap: trim the new segment's front. */
		if (SEQ_LT(s, seq)) {
			int trim = (int)(s + (uint32_t)l - seq);
			m_adj(m, trim);
			seq += (uint32_t)trim;
			len -= trim;
			m->m_pkthdr.csum_flags = (int)seq;
			m->m_pkthdr.len = len;
			pp = &(*pp)->m_nextpkt;
			continue;
		}
		/* The new one starts first and overlaps this: trim its tail. */
		int trim = (int)(seq + (uint32_t)len - s);
		m_adj(m, -trim);
		len -= trim;
		m->m_pkthdr.len = len;
		break;
	}
	if (len <= 0) {
		m_freem(m);
		return;
	}
	/* m_pkthdr.csum_data: the storage counted in t_segqmem. */
	m->m_pkthdr.csum_data = mem;
	m->m_nextpkt = *pp;
	*pp = m;
	tp->t_segqlen++;
	tp->t_segqmem += mem;
	ts->ts_stat.tcps_rcvoopack++;
}

/* Deliver what became in order; returns true if a FIN-less advance. */
static void
tcp_reass_deliver(struct tcpcb *tp)
{
	struct socket *so = tp->t_socket;
	while (tp->t_segq != NULL) {
		struct mbuf *m = tp->t_segq;
		uint32_t s = (uint32_t)m->m_pkthdr.csum_flags;
		int l = m->m_pkthdr.len;
		if (SEQ_GT(s, tp->rcv_nxt))
			break;
		tp->t_segq = m->m_nextpkt;
		tp->t_segqlen--;
		tp->t_segqmem -= m->m_pkthdr.csum_data;
		m->m_nextpkt = NULL;
		if (SEQ_LEQ(s + (uint32_t)l, tp->rcv_nxt)) {
			m_freem(m);
			continue;
		}
		int trim = (int)(tp->rcv_nxt - s);
		if (trim > 0) {
			m_adj(m, trim);
			l -= trim;
		}
		tp->rcv_nxt += (uint32_t)l;
		m->m_pkthdr.csum_flags = 0;
		m->m_pkthdr.csum_data = 0;
		if (so->so_state & SS_CANTRCVMORE)
			m_freem(m);
		else
			sbappendstream_rcv(&so->so_rcv, m);
	}
}

static void
tcp_challenge_ack(struct tcpcb *tp)
{
	/* RFC 5961 3.2, 4.2, 5.2: tell the peer where we are; an attacker
	 * who guessed wrong learns nothing useful.  Rate-limited per
	 * connection (RFC 5961 section 7; see TCP_INVALID_RATELIMIT_MS). */
	struct tcp_stack *ts = tcp_stack(tp->t_socket->so_stack);
	if (tcp_invalid_ratelimited(tp)) {
		ts->ts_stat.tcps_challengeack_limited++;
		return;
	}
	ts->ts_stat.tcps_challengeack++;
	tp->t_flags |= TF_ACKNOW;
	tcp_output(tp);
}

/* Apply the peer's SYN options to tp (RFC 7323 2.2, 3.2; RFC 9293 3.7.1). */
static void
tcp_syn_options(struct tcpcb *tp, const struct tcpopt *to, bool ours_sent)
{
	struct netstack *ns = tp->t_socket->so_stack;
	unsigned mss = to->to_flags & TOF_MSS ? to->to_mss : TCP_MSS_DEFAULT;
	unsigned ours = tcp_mss_for(ns, tp->t_inpcb->inp_faddr);
	if (mss > ours)
		mss = ours;
	if (mss < 64)
		mss = 64;		/* refuse absurdly small segments */
	tp->t_maxseg = mss;
	tp->t_tsomax = tcp_tso_for(ns, tp->t_inpcb->inp_faddr);
	if ((to->to_flags & TOF_SCALE) && ours_sent) {
		tp->t_flags |= TF_RCVD_SCALE;
		tp->snd_scale = to->to_wscale;
		tp->rcv_scale = tp->request_r_scale;
	} else {
		tp->snd_scale = tp->rcv_scale = 0;
		if (!ours_sent && (to->to_flags & TOF_SCALE)) {
			tp->t_flags |= TF_RCVD_SCALE;
			tp->snd_scale = to->to_wscale;
			tp->rcv_scale = tp->request_r_scale;
		}
	}
	/* SACK (RFC 2018 2): we offer it on every SYN, so the peer's
	 * SYN having it is agreement. */
	if (to->to_flags & TOF_SACKPERM)
		tp->t_flags |= TF_RCVD_SACKPERM | TF_SACK_PERMIT;
	if (to->to_flags & TOF_TS) {
		tp->t_flags |= TF_RCVD_TSTMP;
		tp->ts_recent = to->to_tsval;
		tp->ts_recent_age = tcp_now_us();
	}
	/* RFC 5681 3.1 / RFC 6928: initial window of 10 segments. */
	tp->snd_cwnd = 10 * tp->t_maxseg;
}

/* RFC 6675 5: enter loss recovery; the output retransmits the first
 * hole and then whatever pipe allows. */
static void
tcp_sack_enter_recovery(struct tcpcb *tp)
{
	struct tcp_stack *ts = tcp_stack(tp->t_socket->so_stack);
	ts->ts_stat.tcps_fastrexmit++;
	ts->ts_stat.tcps_sack_recovery++;
	uint32_t flight = tp->snd_max - tp->snd_una;
	uint32_t half = flight / 2;
	tp->snd_ssthresh = half > 2 * tp->t_maxseg ? half : 2 * tp->t_maxseg;
	tp->snd_cwnd = tp->snd_ssthresh;
	tp->snd_recover = tp->snd_max;
	tp->t_flags |= TF_INRECOVERY;
	tp->t_rttime = 0;
	tp->snd_nxt = tp->snd_max;
	tp->t_nrxrec = 0;
	memset(tp->t_rxrec, 0, sizeof(tp->t_rxrec));
	/* (4.1) The first unacknowledged segment goes now, whatever pipe
	 * says; HighRxt then marks it retransmitted. */
	tp->snd_highrxt = tp->snd_una;
	uint32_t len = tcp_maxdata(tp);
	if (tp->t_nsacked > 0 && tp->t_sacked[0].start - tp->snd_una < len)
		len = tp->t_sacked[0].start - tp->snd_una;
	uint32_t sndbuf = (uint32_t)tp->t_socket->so_snd.sb_cc;
	if (len > sndbuf)
		len = sndbuf;
	if (len > 0)
		tcp_sack_rexmit(tp, tp->snd_una, len);
	tcp_timer_set(tp, TCPT_REXMT, tp->t_rto_ms);
}

void
tcp_input(struct ifnet *ifp, struct mbuf *m, int hlen)
{
	struct netstack *ns = ifp->if_stack;
	struct tcp_stack *ts = tcp_stack(ns);
	struct tcpstat *st = &ts->ts_stat;
	struct ip ip;
	struct tcphdr th;
	struct tcpopt to;
	uint8_t optbuf[40];

	st->tcps_rcvtotal++;
	int tlen = m->m_pkthdr.len - hlen;
	if (tlen < (int)sizeof(th)) {
		st->tcps_rcvshort++;
		goto drop;
	}
	m_copydata(m, 0, sizeof(ip), &ip);
	m_copydata(m, hlen, sizeof(th), &th);
	if ((m->m_flags & (M_BCAST | M_MCAST)) || ip.ip_dst == INADDR_BROADCAST ||
	    IN_MULTICAST(ip.ip_dst) || ip.ip_dst == ifp->if_broadaddr)
		goto drop;		/* RFC 9293: no TCP to broadcasts */
	if (!(m->m_pkthdr.csum_flags & M_CSUM_DATA_OK) &&
	    in4_cksum(m, IPPROTO_TCP, ip.ip_src, ip.ip_dst, hlen, tlen) != 0) {
		st->tcps_rcvbadsum++;
		goto drop;
	}
	int off = (th.th_off >> 4) * 4;
	if (off < (int)sizeof(th) || off > tlen) {
		st->tcps_rcvbadoff++;
		goto drop;
	}
	int optlen = off - (int)sizeof(th);
	m_copydata(m, hlen + (int)sizeof(th), optlen, optbuf);
	if (tcp_dooptions(optbuf, optlen, (th.th_flags & TH_SYN) != 0, &to) != 0) {
		st->tcps_badopt++;
		goto drop;
	}
	int flags = th.th_flags;
	uint32_t seq = ntohl(th.th_seq), ack = ntohl(th.th_ack);
	int dlen = tlen - off;
	m_adj(m, hlen + off);		/* m is now the payload */

	struct inpcb *listen = NULL;
	struct inpcb *inp = tcp_lookup(ts, ip.ip_src, th.th_sport, ip.ip_dst,
	    th.th_dport, &listen);
	struct tcpcb *tp;
	/* A new SYN for a connection in TIME_WAIT: when it is newer than
	 * the old incarnation and someone listens, the old one goes and
	 * the SYN opens the new one, whose sequence numbers start above
	 * any the old one sent (as Linux: SND.NXT + 65535 + 2). */
	bool tw_reopen = false;
	uint32_t tw_iss = 0;
	if (inp != NULL && (tp = intotcpcb(inp)) != NULL &&
	    tp->t_state == TCPS_TIME_WAIT &&
	    (flags & (TH_SYN | TH_ACK | TH_RST | TH_FIN)) == TH_SYN &&
	    tcp_timewait_reopens(tp, seq, &to) &&
	    (listen = tcp_lookup_listen(ts, ip.ip_dst, th.th_dport)) != NULL) {
		tw_iss = tp->snd_nxt + 65535 + 2;
		tw_reopen = true;
		tcp_close(tp);
		inp = NULL;
	}
	if (inp == NULL && listen == NULL)
		goto dropwithreset;
	if (inp == NULL) {
		/* LISTEN (RFC 9293 3.10.7.2). */
		struct tcpcb *ltp = intotcpcb(listen);
		struct socket *lso = ltp->t_socket;
		if (flags & TH_RST)
			goto drop;
		if (flags & TH_ACK) {
			/* The answer to a SYN cookie makes the connection
			 * (RFC 4987 3.6); anything else gets a RST. */
			unsigned mss;
			if ((flags & TH_SYN) || !tcp_sc_check(ltp, ip.ip_dst,
			    th.th_dport, ip.ip_src, th.th_sport, seq, ack, &mss))
				goto dropwithreset;
			/* With the accept queue full the peer, which thinks
			 * itself connected, would never send the ACK again:
			 * keep the connection half-open (a proven peer, so
			 * up to twice the half-open bound), our SYN-ACK goes
			 * again on the timer and its ACK completes it once
			 * there is room.  Beyond that, drop. */
			int synq = lso->so_qlimit > TCP_SYNQ_MIN ?
			    lso->so_qlimit : TCP_SYNQ_MIN;
			unsigned ours = tcp_mss_for(ns, ip.ip_src);
			if (mss > ours)
				mss = ours;
			bool full = lso->so_qlen >= lso->so_qlimit;
			if (full && lso->so_q0len >= 2 * synq) {
				st->tcps_listenoverflow++;
				goto drop;
			}
			tp = tcp_newconn(ltp, ip.ip_dst, th.th_dport, ip.ip_src,
			    th.th_sport);
			if (tp == NULL)
				goto drop;
			st->tcps_sc_recvd++;
			st->tcps_accepts++;
			if (full) {
				st->tcps_listenoverflow++;
				tp->irs = seq - 1;
				tp->rcv_nxt = tp->rcv_adv = seq;
				tp->iss = ack - 1;
				tp->snd_una = tp->snd_recover = tp->iss;
				tp->snd_nxt = tp->snd_max = ack;
				tp->t_maxseg = mss;
				tp->t_tsomax = tcp_tso_for(ns,
				    tp->t_inpcb->inp_faddr);
				tp->snd_cwnd = 10 * mss;
				tp->snd_wnd = tp->max_sndwnd = ntohs(th.th_win);
				tp->snd_wl1 = seq - 1;
				tp->snd_wl2 = tp->iss;
				tp->t_state = TCPS_SYN_RECEIVED;
				tcp_timer_set(tp, TCPT_KEEP, TCP_CONNTIMEO_MS);
				tcp_timer_set(tp, TCPT_REXMT, tp->t_rto_ms);
				goto drop;
			}
			st->tcps_connects++;
			tp->irs = seq - 1;
			tp->rcv_nxt = seq;
			tp->iss = ack - 1;
			tp->snd_una = tp->snd_nxt = tp->snd_max = ack;
			tp->snd_recover = ack;
			/* No window scaling, SACK or timestamps: the cookie's
			 * SYN-ACK offered none.  The window it advertised is
			 * the receive buffer's, unscaled. */
			tp->t_maxseg = mss;
			tp->t_tsomax = tcp_tso_for(ns, tp->t_inpcb->inp_faddr);
			tp->snd_cwnd = 10 * tp->t_maxseg;
			tp->rcv_adv = tp->rcv_nxt + (tcp_rcvspace(tp) > 65535 ?
			    65535 : tcp_rcvspace(tp));
			tp->snd_wnd = ntohs(th.th_win);
			tp->max_sndwnd = tp->snd_wnd;
			tp->snd_wl1 = seq;
			tp->snd_wl2 = ack;
			tp->t_state = TCPS_ESTABLISHED;
			tcp_timer_set(tp, TCPT_KEEP, TCP_KEEPIDLE_MS);
			soisconnected(tp->t_socket);
			inp = tp->t_inpcb;
			goto conn;	/* its data and FIN, as any segment's */
		}
		if (!(flags & TH_SYN) || (flags & TH_FIN)) {
			st->tcps_badsyn++;
			goto drop;
		}
		/* What waits for accept is bounded by the backlog ... */
		if (lso->so_qlen >= lso->so_qlimit) {
			st->tcps_listendrop++;	/* the peer retries */
			goto drop;
		}
		/* ... and what waits for a final ACK: past the bound, a
		 * cookie answers and nothing is kept. */
		int synq = lso->so_qlimit > TCP_SYNQ_MIN ? lso->so_qlimit :
		    TCP_SYNQ_MIN;
		if (lso->so_q0len >= synq) {
			tcp_sc_send(ltp, ip.ip_dst, th.th_dport, ip.ip_src,
			    th.th_sport, seq, &to);
			goto drop;
		}
		tp = tcp_newconn(ltp, ip.ip_dst, th.th_dport, ip.ip_src,
		    th.th_sport);
		if (tp == NULL)
			goto drop;
		tp->irs = seq;
		tp->rcv_nxt = seq + 1;
		tp->iss = tcp_new_isn(ns, ip.ip_dst, th.th_dport, ip.ip_src,
		    th.th_sport);
		if (tw_reopen) {
			if (SEQ_LT(tp->iss, tw_iss))
				tp->iss = tw_iss;
			st->tcps_timewait_reuse++;
		}
		tp->snd_una = tp->snd_nxt = tp->snd_max = tp->iss;
		tp->snd_recover = tp->iss;
		tp->t_state = TCPS_SYN_RECEIVED;
		tcp_syn_options(tp, &to, false);
		tp->snd_wnd = ntohs(th.th_win);	/* SYN windows are unscaled */
		tp->max_sndwnd = tp->snd_wnd;
		tp->snd_wl1 = seq;
		tp->snd_wl2 = tp->iss;
		tp->rcv_adv = tp->rcv_nxt;
		tp->t_flags |= TF_ACKNOW;
		tcp_timer_set(tp, TCPT_KEEP, TCP_CONNTIMEO_MS);
		st->tcps_accepts++;
		tcp_output(tp);
		m_freem(m);
		return;
	}
conn:
	tp = intotcpcb(inp);
	if (tp == NULL || tp->t_state == TCPS_CLOSED)
		goto dropwithreset;
	struct socket *so = tp->t_socket;

	/* Timestamps seen; keepalive restarts (RFC 9293 3.8.4). */
	if (TCPS_HAVEESTABLISHED(tp->t_state))
		tcp_timer_set(tp, TCPT_KEEP, TCP_KEEPIDLE_MS);
	tp->t_keepcnt = 0;

	if (tp->t_state == TCPS_SYN_SENT) {
		/* RFC 9293 3.10.7.3 */
		if ((flags & TH_ACK) && (SEQ_LEQ(ack, tp->iss) ||
		    SEQ_GT(ack, tp->snd_max))) {
			if (flags & TH_RST)
				goto drop;
			goto dropwithreset;
		}
		if (flags & TH_RST) {
			if (flags & TH_ACK)
				tcp_drop(tp, ECONNREFUSED);
			goto drop;
		}
		if (!(flags & TH_SYN))
			goto drop;
		tp->irs = seq;
		tp->rcv_nxt = seq + 1;
		tcp_syn_options(tp, &to, true);
		tp->snd_wnd = ntohs(th.th_win);
		tp->max_sndwnd = tp->snd_wnd;
		tp->snd_wl1 = seq;
		tp->snd_wl2 = ack;
		tp->rcv_adv = tp->rcv_nxt;
		if (flags & TH_ACK) {
			tp->snd_una = ack;
			if (tp->t_rttime != 0) {
				tcp_xmit_timer(tp, (int64_t)(tcp_now_us() - tp->t_rttime));
				tp->t_rttime = 0;
			}
			tcp_timer_stop(tp, TCPT_REXMT);
			tp->t_state = TCPS_ESTABLISHED;
			tcp_timer_set(tp, TCPT_KEEP, TCP_KEEPIDLE_MS);
			st->tcps_connects++;
			soisconnected(so);
			tp->t_flags |= TF_ACKNOW;
			/* Data on the SYN-ACK is rare; take it below. */
			seq++;
			goto step6;
		}
		/* Simultaneous open (RFC 9293 3.5, figure 8). */
		tp->t_state = TCPS_SYN_RECEIVED;
		tp->snd_nxt = tp->iss;
		tp->t_flags |= TF_ACKNOW;
		tcp_timer_stop(tp, TCPT_REXMT);
		tcp_output(tp);
		m_freem(m);
		return;
	}

	/* PAWS (RFC 7323 5.3): an old timestamp marks an old duplicate. */
	if ((to.to_flags & TOF_TS) && (tp->t_flags & TF_RCVD_TSTMP) &&
	    !(flags & TH_RST) && tp->ts_recent != 0 &&
	    (int32_t)(to.to_tsval - tp->ts_recent) < 0) {
		st->tcps_pawsdrop++;
		goto dropafterack;
	}

	/* Acceptability (RFC 9293 3.10.7.4, first check). */
	uint32_t rwnd = tp->rcv_adv - tp->rcv_nxt;
	if (SEQ_LT(tp->rcv_adv, tp->rcv_nxt))
		rwnd = 0;
	bool ok;
	if (dlen == 0)
		ok = rwnd == 0 ? seq == tp->rcv_nxt :
		    SEQ_GEQ(seq, tp->rcv_nxt) && SEQ_LT(seq, tp->rcv_nxt + rwnd);
	else
		ok = rwnd != 0 && ((SEQ_GEQ(seq, tp->rcv_nxt) &&
		    SEQ_LT(seq, tp->rcv_nxt + rwnd)) ||
		    (SEQ_GEQ(seq + (uint32_t)dlen - 1, tp->rcv_nxt) &&
		    SEQ_LT(seq + (uint32_t)dlen - 1, tp->rcv_nxt + rwnd)));
	/* Old data overlapping rcv_nxt is acceptable once trimmed. */
	if (!ok && dlen > 0 && SEQ_LT(seq, tp->rcv_nxt) &&
	    SEQ_GT(seq + (uint32_t)dlen, tp->rcv_nxt))
		ok = true;
	if (!ok) {
		if (flags & TH_RST)
			goto drop;
		if (flags & TH_SYN)
			goto syn;	/* whatever its sequence number */
		st->tcps_rcvduppack++;
		if (SEQ_GEQ(seq, tp->rcv_nxt + rwnd))
			st->tcps_rcvafterwin++;
		goto dropafterack;
	}

	/* Second: RST (RFC 5961 3.2). */
	if (flags & TH_RST) {
		if (seq != tp->rcv_nxt) {
			tcp_challenge_ack(tp);
			goto drop;
		}
		switch (tp->t_state) {
		case TCPS_SYN_RECEIVED:
			tcp_drop(tp, ECONNREFUSED);
			break;
		case TCPS_ESTABLISHED:
		case TCPS_FIN_WAIT_1:
		case TCPS_FIN_WAIT_2:
		case TCPS_CLOSE_WAIT:
			so->so_error = ECONNRESET;
			tcp_close(tp);
			break;
		default:
			tcp_close(tp);
		}
		goto drop;
	}
	/* Fourth: SYN in a synchronized state (RFC 5961 4.2), in the window
	 * or not: a challenge ACK (rate-limited, so a SYN storm cannot make
	 * us flood). */
	if (flags & TH_SYN) {
syn:
		if (tp->t_state == TCPS_SYN_RECEIVED && seq == tp->irs) {
			/* Our SYN-ACK was lost: the peer retransmitted.  Not
			 * more often than the rate limit (Linux: its
			 * TCPACKSkippedSynRecv), or repeated SYNs would make
			 * us repeat SYN-ACKs at their rate. */
			if (tcp_invalid_ratelimited(tp)) {
				st->tcps_ackskipped++;
				goto drop;
			}
			tp->snd_nxt = tp->snd_una;
			tp->t_flags |= TF_ACKNOW;
			tcp_output(tp);
			goto drop;
		}
		tcp_challenge_ack(tp);
		goto drop;
	}
	/* Fifth: ACK. */
	if (!(flags & TH_ACK))
		goto drop;
	/* RFC 5961 5.2: acceptable ACKs lie in [snd_una - max_sndwnd,
	 * snd_max]. */
	if (SEQ_GT(ack, tp->snd_max) ||
	    SEQ_LT(ack, tp->snd_una - tp->max_sndwnd)) {
		st->tcps_rcvacktoomuch++;
		tcp_challenge_ack(tp);
		goto drop;
	}
	if (tp->t_state == TCPS_SYN_RECEIVED) {
		if (SEQ_GT(tp->snd_una, ack) || SEQ_GT(ack, tp->snd_max))
			goto dropwithreset;
		/* The accept queue is full: stay half-open; our SYN-ACK goes
		 * again and the peer's ACK with it (Linux's ListenOverflows,
		 * without tcp_abort_on_overflow). */
		if (so->so_head != NULL &&
		    so->so_head->so_qlen >= so->so_head->so_qlimit) {
			st->tcps_listenoverflow++;
			goto drop;
		}
		tp->t_state = TCPS_ESTABLISHED;
		tcp_timer_set(tp, TCPT_KEEP, TCP_KEEPIDLE_MS);
		st->tcps_connects++;
		tp->snd_wnd = (uint32_t)ntohs(th.th_win) << tp->snd_scale;
		tp->snd_wl1 = seq;
		tp->snd_wl2 = ack;
		soisconnected(so);
	}
	/* The peer's SACK blocks into the scoreboard (RFC 6675). */
	uint32_t sacknew = 0;
	if ((tp->t_flags & TF_SACK_PERMIT) && (to.to_flags & TOF_SACK))
		sacknew = tcp_sack_update(tp, &to, ack);
	if (sacknew > 0 || SEQ_GT(ack, tp->snd_una)) {
		tp->t_tlp_sent = 0;	/* the peer made progress */
		if (sacknew > 0 && tp->t_timer[TCPT_REXMT] != 0)
			tcp_tlp_arm(tp);
	}
	/* Timestamp echo for the next ACK (RFC 7323 4.3). */
	if ((to.to_flags & TOF_TS) && SEQ_LEQ(seq, tp->last_ack_sent)) {
		tp->ts_recent = to.to_tsval;
		tp->ts_recent_age = tcp_now_us();
	}

	uint32_t acked = ack - tp->snd_una;
	if (SEQ_LEQ(ack, tp->snd_una)) {
		/* Duplicate ACK (RFC 5681 2): no data, no window change,
		 * outstanding data; or, with SACK, new SACK information
		 * (RFC 6675 2). */
		if (dlen == 0 && ack == tp->snd_una &&
		    tp->snd_max != tp->snd_una && !(flags & TH_FIN) &&
		    (sacknew > 0 || ((uint32_t)ntohs(th.th_win) <<
		    tp->snd_scale) == tp->snd_wnd)) {
			st->tcps_rcvdupack++;
			++tp->t_dupacks;
			if (tp->t_flags & TF_SACK_PERMIT) {
				/* RFC 6675 5: DupThresh duplicates, or the
				 * first unacknowledged segment is lost; not
				 * for data sent before the last recovery
				 * point (after a timeout).  In recovery the
				 * output below sends by pipe. */
				if (!(tp->t_flags & TF_INRECOVERY) &&
				    (tp->t_dupacks >= TCP_DUPTHRESH ||
				    tcp_sack_islost(tp, tp->snd_una)) &&
				    SEQ_GEQ(ack, tp->snd_recover))
					tcp_sack_enter_recovery(tp);
				else if (!(tp->t_flags & TF_INRECOVERY) &&
				    tp->t_dupacks < TCP_DUPTHRESH &&
				    tcp_send_extra(tp))
					st->tcps_limitedxmit++;	/* RFC 3042 */
				goto step6;
			}
			if (tp->t_dupacks == 3 &&
			    !(tp->t_flags & TF_INRECOVERY) &&
			    SEQ_GT(ack - 1, tp->snd_recover - 1)) {
				/* Fast retransmit; NewReno recovery (RFC 6582
				 * 3.2 step 2). */
				st->tcps_fastrexmit++;
				uint32_t flight = tp->snd_max - tp->snd_una;
				uint32_t half = flight / 2;
				tp->snd_ssthresh = half > 2 * tp->t_maxseg ?
				    half : 2 * tp->t_maxseg;
				tp->snd_recover = tp->snd_max;
				tp->t_flags |= TF_INRECOVERY;
				uint32_t onxt = tp->snd_nxt;
				tp->snd_nxt = ack;
				tp->snd_cwnd = tp->t_maxseg;
				tp->t_rttime = 0;
				tcp_timer_stop(tp, TCPT_REXMT);
				tcp_output(tp);
				tp->snd_cwnd = tp->snd_ssthresh + 3 * tp->t_maxseg;
				if (SEQ_GT(onxt, tp->snd_nxt))
					tp->snd_nxt = onxt;
				goto drop;
			} else if (tp->t_dupacks > 3 &&
			    (tp->t_flags & TF_INRECOVERY)) {
				tp->snd_cwnd += tp->t_maxseg;	/* inflate */
				tcp_output(tp);
				goto drop;
			} else if (tp->t_dupacks < 3 &&
			    !(tp->t_flags & TF_INRECOVERY) && tcp_send_extra(tp))
				st->tcps_limitedxmit++;	/* RFC 3042 */
		} else if (sacknew == 0)
			tp->t_dupacks = 0;
		goto step6;
	}

	/* New data acknowledged. */
	st->tcps_rcvackpack++;
	if (tp->t_flags & TF_INRECOVERY) {
		if (SEQ_GEQ(ack, tp->snd_recover)) {
			/* Full ACK: leave recovery (RFC 6582 3.2 step 3). */
			tp->t_flags &= ~TF_INRECOVERY;
			tp->t_nrxrec = 0;
			uint32_t flight = tp->snd_max - ack;
			tp->snd_cwnd = flight + tp->t_maxseg < tp->snd_ssthresh ?
			    flight + tp->t_maxseg : tp->snd_ssthresh;
		} else if (tp->t_flags & TF_SACK_PERMIT) {
			/* Partial ACK in SACK recovery: pipe decides what
			 * goes next (RFC 6675 5, step C). */
		} else {
			/* Partial ACK: retransmit the next hole, deflate. */
			uint32_t onxt = tp->snd_nxt;
			uint32_t ocwnd = tp->snd_cwnd;
			tp->snd_nxt = ack;
			tp->snd_cwnd = tp->t_maxseg;
			tp->snd_una = ack;	/* for tcp_output's offsets */
			sbdrop(&so->so_snd, (int)acked <= so->so_snd.sb_cc ?
			    (int)acked : so->so_snd.sb_cc);
			tcp_output(tp);
			tp->snd_cwnd = ocwnd > acked ? ocwnd - acked +
			    tp->t_maxseg : tp->t_maxseg;
			if (SEQ_GT(onxt, tp->snd_nxt))
				tp->snd_nxt = onxt;
			tcp_timer_set(tp, TCPT_REXMT, tp->t_rto_ms);
			acked = 0;
		}
	} else if (tp->snd_cwnd < tp->snd_ssthresh)
		tp->snd_cwnd += acked < tp->t_maxseg ? acked : tp->t_maxseg;
	else
		tp->snd_cwnd += tp->t_maxseg * tp->t_maxseg / tp->snd_cwnd + 1;
	if (tp->snd_cwnd > 64u * 1024 * 1024)
		tp->snd_cwnd = 64u * 1024 * 1024;
	tp->t_dupacks = 0;
	/* RTT sample: timestamps, or the timed sequence (Karn). */
	if ((to.to_flags & TOF_TS) && to.to_tsecr != 0 &&
	    (tp->t_flags & TF_RCVD_TSTMP)) {
		uint32_t now = (uint32_t)(tcp_now_us() / 1000);
		tcp_xmit_timer(tp, (int64_t)(now - to.to_tsecr) * 1000);
	} else if (tp->t_rttime != 0 && SEQ_GT(ack, tp->t_rtseq)) {
		tcp_xmit_timer(tp, (int64_t)(tcp_now_us() - tp->t_rttime));
	}
	if (tp->t_rttime != 0 && SEQ_GT(ack, tp->t_rtseq))
		tp->t_rttime = 0;
	/* Drop acknowledged data; a FIN acknowledged is not in the buffer. */
	bool ourfinacked = false;
	if (acked > 0) {
		if ((int)acked > so->so_snd.sb_cc) {
			ourfinacked = (tp->t_flags & TF_SENTFIN) != 0;
			sbdrop(&so->so_snd, so->so_snd.sb_cc);
		} else
			sbdrop(&so->so_snd, (int)acked);
		sowakeup(so);
	}
	tp->snd_una = ack;
	if (tp->t_nsacked > 0)
		tcp_sack_ackadvance(tp);
	if (SEQ_LT(tp->snd_nxt, tp->snd_una))
		tp->snd_nxt = tp->snd_una;
	if (tp->snd_una == tp->snd_max) {
		tcp_timer_stop(tp, TCPT_REXMT);
		tp->t_rxtshift = 0;
	} else if (!(tp->t_flags & TF_INRECOVERY) || acked > 0)
		tcp_timer_set(tp, TCPT_REXMT, tp->t_rto_ms);
	if (ourfinacked || ((tp->t_flags & TF_SENTFIN) &&
	    tp->snd_una == tp->snd_max)) {
		switch (tp->t_state) {
		case TCPS_FIN_WAIT_1:
			tp->t_state = TCPS_FIN_WAIT_2;
			/* A closed socket does not wait for ever. */
			if (tp->t_flags & TF_DETACHED)
				tcp_timer_set(tp, TCPT_2MSL, 2 * TCP_MSL_MS);
			break;
		case TCPS_CLOSING:
			tp->t_state = TCPS_TIME_WAIT;
			tcp_canceltimers(tp);
			tcp_timer_set(tp, TCPT_2MSL, 2 * TCP_MSL_MS);
			soisdisconnected(so);
			break;
		case TCPS_LAST_ACK:
			tcp_close(tp);
			goto drop;
		default:
			break;
		}
	}

step6:
	if ((flags & TH_ACK) && tp->t_nrxrec > 0 &&
	    (tp->t_flags & (TF_SACK_PERMIT | TF_INRECOVERY)) ==
	    (TF_SACK_PERMIT | TF_INRECOVERY))
		tcp_sack_lostrexmit(tp);
	/* Window update (RFC 9293 3.10.7.4, sixth check, SND.WL1/WL2). */
	if ((flags & TH_ACK) && (SEQ_LT(tp->snd_wl1, seq) ||
	    (tp->snd_wl1 == seq && SEQ_LEQ(tp->snd_wl2, ack)))) {
		uint32_t w = (uint32_t)ntohs(th.th_win) << tp->snd_scale;
		if (w != tp->snd_wnd)
			st->tcps_rcvwinupd++;
		tp->snd_wnd = w;
		tp->snd_wl1 = seq;
		tp->snd_wl2 = ack;
		if (w > tp->max_sndwnd)
			tp->max_sndwnd = w;
		if (w > 0)
			tcp_timer_stop(tp, TCPT_PERSIST);
	}
	/* Seventh: data. */
	if (dlen > 0 && TCPS_HAVERCVDSYN(tp->t_state) &&
	    !TCPS_HAVERCVDFIN(tp->t_state)) {
		if (SEQ_LT(seq, tp->rcv_nxt)) {
			int trim = (int)(tp->rcv_nxt - seq);
			m_adj(m, trim);
			seq += (uint32_t)trim;
			dlen -= trim;
			flags &= ~TH_SYN;
		}
		/* Beyond the window: keep only what fits, the buffer's
		 * room or what we advertised (a window is not taken back,
		 * RFC 9293 3.8.6), whichever is more, so the buffer never
		 * holds more than its size plus one window. */
		uint32_t room = tcp_rcvspace(tp);
		uint32_t adv = SEQ_GT(tp->rcv_adv, tp->rcv_nxt) ?
		    tp->rcv_adv - tp->rcv_nxt : 0;
		if (adv > room)
			room = adv;
		if ((uint32_t)dlen > room) {
			int cut = dlen - (int)room;
			if (cut > 0 && cut <= dlen) {
				m_adj(m, -cut);
				dlen -= cut;
				flags &= ~TH_FIN;
			}
		}
		if (dlen > 0 && seq == tp->rcv_nxt && tp->t_segq == NULL) {
			st->tcps_rcvpack++;
			st->tcps_rcvbyte += (uint64_t)dlen;
			tp->rcv_nxt += (uint32_t)dlen;
			if (so->so_state & SS_CANTRCVMORE)
				m_freem(m);
			else
				sbappendstream_rcv(&so->so_rcv, m);
			m = NULL;
			sowakeup(so);
			/* Delayed ACK: every second full segment at once. */
			if (++tp->t_segs_since_ack >= 2 || (flags & TH_PUSH &&
			    tp->t_segs_since_ack >= 2))
				tp->t_flags |= TF_ACKNOW;
			else if (tp->t_timer[TCPT_DELACK] == 0) {
				tp->t_flags |= TF_DELACK;
				tcp_timer_set(tp, TCPT_DELACK, TCP_DELACK_MS);
			}
		} else if (dlen > 0) {
			/* Out of order: queue, and ACK at once so the sender
			 * sees duplicates (RFC 5681 4.2). */
			tcp_reass_insert(tp, m, seq, dlen);
			m = NULL;
			tcp_reass_deliver(tp);
			if (tp->t_flags & TF_SACK_PERMIT) {
				tcp_sack_trim(tp);
				if (SEQ_GT(seq + (uint32_t)dlen, tp->rcv_nxt))
					tcp_sack_rcvd(tp, SEQ_MAX(seq,
					    tp->rcv_nxt));
			}
			sowakeup(so);
			tp->t_flags |= TF_ACKNOW;
			flags &= ~TH_FIN;	/* a FIN past a hole waits */
		}
		if (tp->t_segq != NULL && m == NULL)
			tcp_reass_deliver(tp);
		if (tp->t_nrcvsack > 0)
			tcp_sack_trim(tp);
	}
	/* Eighth: FIN, once all data before it arrived. */
	if ((flags & TH_FIN) && TCPS_HAVERCVDSYN(tp->t_state) &&
	    seq + (uint32_t)dlen == tp->rcv_nxt && tp->t_segq == NULL) {
		if (!TCPS_HAVERCVDFIN(tp->t_state)) {
			tp->rcv_nxt++;
			socantrcvmore(so);
		}
		tp->t_flags |= TF_ACKNOW;
		switch (tp->t_state) {
		case TCPS_SYN_RECEIVED:
		case TCPS_ESTABLISHED:
			tp->t_state = TCPS_CLOSE_WAIT;
			break;
		case TCPS_FIN_WAIT_1:
			tp->t_state = TCPS_CLOSING;
			break;
		case TCPS_FIN_WAIT_2:
			tp->t_state = TCPS_TIME_WAIT;
			tcp_canceltimers(tp);
			tcp_timer_set(tp, TCPT_2MSL, 2 * TCP_MSL_MS);
			soisdisconnected(so);
			break;
		case TCPS_TIME_WAIT:
			tcp_timer_set(tp, TCPT_2MSL, 2 * TCP_MSL_MS);
			break;
		default:
			break;
		}
	}
	m_freem(m);
	if ((tp->t_flags & TF_ACKNOW) || so->so_snd.sb_cc > 0 ||
	    (tp->t_flags & TF_SENTFIN) == 0)
		tcp_output(tp);
	return;

dropafterack:
	if (flags & TH_RST)
		goto drop;
	/*
	 * An ACK to a segment out of the window or failing PAWS, rate-
	 * limited per connection (RFC 5961 7), or two confused ends (or a
	 * spoofer and us) would ACK each other for ever.  As Linux's
	 * tcp_oow_rate_limited, what occupies sequence space is always
	 * answered: a retransmission of data or a FIN whose ACK was lost,
	 * or a zero-window probe, all at or below RCV.NXT; but only within
	 * a receive buffer of it, where a peer's can be.
	 */
	if (!((dlen > 0 || (flags & TH_FIN)) && SEQ_LEQ(seq, tp->rcv_nxt) &&
	    SEQ_GEQ(seq, tp->rcv_nxt - (uint32_t)tp->t_socket->so_rcv.sb_hiwat -
	    65535u)) && tcp_invalid_ratelimited(tp)) {
		st->tcps_ackskipped++;
		goto drop;
	}
	tp->t_flags |= TF_ACKNOW;
	tcp_output(tp);
	goto drop;
dropwithreset:
	/* RFC 9293 3.10.7.1: never answer a RST with a RST. */
	if (flags & TH_RST)
		goto drop;
	st->tcps_noport++;
	/* The stack's RST budget (see TCP_RST_PER_SEC). */
	if (!(ifp->if_flags & IFF_LOOPBACK)) {
		if (ts->ts_rsts >= (ts->ts_rstlimit != 0 ? ts->ts_rstlimit :
		    TCP_RST_PER_SEC)) {
			st->tcps_rstlimited++;
			goto drop;
		}
		ts->ts_rsts++;
	}
	if (flags & TH_ACK)
		tcp_respond(ns, ip.ip_dst, ip.ip_src, th.th_dport, th.th_sport,
		    ack, 0, TH_RST, 0);
	else
		tcp_respond(ns, ip.ip_dst, ip.ip_src, th.th_dport, th.th_sport,
		    0, seq + (uint32_t)dlen + ((flags & TH_SYN) ? 1 : 0) +
		    ((flags & TH_FIN) ? 1 : 0), TH_RST | TH_ACK, 0);
drop:
	m_freem(m);
}
