/*
 * tcp_output.c - decide what a connection sends and build the segments:
 * SYN/FIN by state, data within min(send window, congestion window),
 * Nagle (RFC 1122 4.2.3.4) unless TCP_NODELAY, receiver silly-window
 * avoidance for window updates, options (MSS, window scale, timestamps on
 * SYNs; timestamps after), the retransmission and persist timers.
 * Data segments reference the send buffer's storage (m_copym).  ns_lock.
 */
#include "net/inet/tcp_var.h"

void
tcp_setpersist(struct tcpcb *tp)
{
	unsigned t = tp->t_rto_ms << (tp->t_rxtshift < 8 ? tp->t_rxtshift : 8);
	if (t < 200)
		t = 200;
	if (t > 60000)
		t = 60000;
	tcp_timer_set(tp, TCPT_PERSIST, t);
}

static int
tcp_addoptions(struct tcpcb *tp, uint8_t *opt, int flags)
{
	int n = 0;
	if (flags & TH_SYN) {
		unsigned mss = tcp_mss_for(tp->t_socket->so_stack,
		    tp->t_inpcb->inp_faddr);
		opt[n++] = TCPOPT_MAXSEG;
		opt[n++] = 4;
		opt[n++] = (uint8_t)(mss >> 8);
		opt[n++] = (uint8_t)mss;
		/* Window scale: on our SYN, or answering one that had it. */
		if (tp->t_state == TCPS_SYN_SENT || tp->t_state == TCPS_CLOSED ||
		    (tp->t_flags & TF_RCVD_SCALE)) {
			opt[n++] = TCPOPT_NOP;
			opt[n++] = TCPOPT_WINDOW;
			opt[n++] = 3;
			opt[n++] = tp->request_r_scale;
		}
	}
	bool ts = (flags & TH_SYN) ? (tp->t_state == TCPS_SYN_SENT ||
	    tp->t_state == TCPS_CLOSED || (tp->t_flags & TF_RCVD_TSTMP)) :
	    (tp->t_flags & TF_RCVD_TSTMP) != 0;
	if (ts && !(flags & TH_RST)) {
		uint32_t now = (uint32_t)(tcp_now_us() / 1000);
		opt[n++] = TCPOPT_NOP;
		opt[n++] = TCPOPT_NOP;
		opt[n++] = TCPOPT_TIMESTAMP;
		opt[n++] = 10;
		uint32_t v = htonl(now), e = htonl(tp->ts_recent);
		memcpy(opt + n, &v, 4);
		memcpy(opt + n + 4, &e, 4);
		n += 8;
	}
	return n;
}

int
tcp_output(struct tcpcb *tp)
{
	struct socket *so = tp->t_socket;
	struct netstack *ns = so->so_stack;
	struct tcp_stack *ts = tcp_stack(ns);
	struct inpcb *inp = tp->t_inpcb;
	int sent = 0;

again:;
	uint32_t off = tp->snd_nxt - tp->snd_una;
	uint32_t win = tp->snd_wnd < tp->snd_cwnd ? tp->snd_wnd : tp->snd_cwnd;
	int flags;
	switch (tp->t_state) {
	case TCPS_CLOSED:
	case TCPS_LISTEN:
		return 0;
	case TCPS_SYN_SENT:
		flags = TH_SYN;
		break;
	case TCPS_SYN_RECEIVED:
		flags = TH_SYN | TH_ACK;
		break;
	case TCPS_FIN_WAIT_1:
	case TCPS_CLOSING:
	case TCPS_LAST_ACK:
		flags = TH_ACK | TH_FIN;
		break;
	default:
		flags = TH_ACK;
	}
	/* SYN goes once per (re)transmission from iss. */
	if ((flags & TH_SYN) && SEQ_GT(tp->snd_nxt, tp->iss)) {
		flags &= ~TH_SYN;
		off--;
	}
	long len = (long)so->so_snd.sb_cc - (long)off;
	if (len > (long)win - (long)off)
		len = (long)win - (long)off;
	if (len < 0) {
		/* Window shrank (or FIN sent): send nothing new; if the
		 * window closed, go back to snd_una and probe later. */
		len = 0;
		if (win == 0) {
			tcp_timer_stop(tp, TCPT_REXMT);
			tp->t_rxtshift = 0;
			tp->snd_nxt = tp->snd_una;
			if (tp->t_timer[TCPT_PERSIST] == 0)
				tcp_setpersist(tp);
		}
	}
	if (flags & TH_SYN)
		len = 0;	/* no data on SYN */
	bool sendalot = false;
	if (len > (long)tp->t_maxseg) {
		len = tp->t_maxseg;
		sendalot = true;
	}
	/* FIN only with the last byte of the buffer. */
	if ((flags & TH_FIN) &&
	    SEQ_LT(tp->snd_nxt + (uint32_t)len, tp->snd_una + (uint32_t)so->so_snd.sb_cc))
		flags &= ~TH_FIN;
	if ((flags & TH_FIN) && (tp->t_flags & TF_SENTFIN) &&
	    tp->snd_nxt == tp->snd_max)
		flags &= ~TH_FIN;	/* sent and not being retransmitted */

	unsigned rwin = tcp_rcvspace(tp);
	if (rwin > (65535u << tp->rcv_scale))
		rwin = 65535u << tp->rcv_scale;

	bool send = false;
	if (len > 0) {
		if (len == (long)tp->t_maxseg)
			send = true;
		/* Nagle: a small segment only when nothing is unacknowledged
		 * (or TCP_NODELAY), and it empties the buffer. */
		else if ((tp->snd_max == tp->snd_una || (tp->t_flags & TF_NODELAY)) &&
		    off + (uint32_t)len >= (uint32_t)so->so_snd.sb_cc)
			send = true;
		else if (SEQ_LT(tp->snd_nxt, tp->snd_max))
			send = true;	/* retransmitting */
		else if (len >= (long)tp->max_sndwnd / 2 && tp->max_sndwnd > 0)
			send = true;
	}
	/* Window update: when it opens by two segments or half the buffer
	 * (receiver SWS avoidance, RFC 1122 4.2.3.3). */
	if (TCPS_HAVEESTABLISHED(tp->t_state) && !TCPS_HAVERCVDFIN(tp->t_state)) {
		long adv = (long)rwin - (long)(tp->rcv_adv - tp->rcv_nxt);
		if (adv >= (long)(2 * tp->t_maxseg) ||
		    adv >= so->so_rcv.sb_hiwat / 2)
			send = true;
	}
	if (tp->t_flags & TF_ACKNOW)
		send = true;
	if (flags & (TH_SYN | TH_RST))
		send = true;
	if (flags & TH_FIN)
		send = true;
	if (!send) {
		/* Data waiting but nothing in flight and no window: probe. */
		if (so->so_snd.sb_cc > 0 && tp->t_timer[TCPT_REXMT] == 0 &&
		    tp->t_timer[TCPT_PERSIST] == 0) {
			tp->t_rxtshift = 0;
			tcp_setpersist(tp);
		}
		return 0;
	}

	/* Build the segment. */
	uint8_t opt[40];
	int optlen = tcp_addoptions(tp, opt, flags);
	int hdrlen = (int)sizeof(struct tcphdr) + optlen;
	struct mbuf *m = m_gethdr(M_DONTWAIT, MT_HEADER);
	if (m == NULL)
		return ENOBUFS;
	m_align(m, hdrlen);
	m->m_len = hdrlen;
	if (len > 0) {
		struct mbuf *d = m_copym(so->so_snd.sb_mb, (int)off, (int)len,
		    M_DONTWAIT);
		if (d == NULL) {
			m_freem(m);
			return ENOBUFS;
		}
		m->m_next = d;
		if (SEQ_LT(tp->snd_nxt, tp->snd_max)) {
			ts->ts_stat.tcps_sndrexmitpack++;
			ts->ts_stat.tcps_sndrexmitbyte += (uint64_t)len;
		} else {
			ts->ts_stat.tcps_sndpack++;
			ts->ts_stat.tcps_sndbyte += (uint64_t)len;
		}
	} else
		ts->ts_stat.tcps_sndacks++;
	m->m_pkthdr.len = hdrlen + (int)len;
	struct tcphdr *th = mtod(m, struct tcphdr *);
	th->th_sport = inp->inp_lport;
	th->th_dport = inp->inp_fport;
	th->th_seq = htonl(tp->snd_nxt);
	th->th_ack = htonl(tp->rcv_nxt);
	th->th_off = (uint8_t)((hdrlen / 4) << 4);
	th->th_flags = (uint8_t)(flags | (len > 0 && off + (uint32_t)len ==
	    (uint32_t)so->so_snd.sb_cc ? TH_PUSH : 0));
	if (flags & TH_SYN)
		th->th_win = htons((uint16_t)(rwin > 65535 ? 65535 : rwin));
	else
		th->th_win = htons((uint16_t)(rwin >> tp->rcv_scale));
	th->th_urp = 0;
	memcpy(th + 1, opt, (size_t)optlen);
	th->th_sum = 0;
	th->th_sum = in4_cksum(m, IPPROTO_TCP, inp->inp_laddr, inp->inp_faddr,
	    0, hdrlen + (int)len);

	/* Advance snd_nxt; start the timers. */
	uint32_t startseq = tp->snd_nxt;
	tp->snd_nxt += (uint32_t)len;
	if (flags & TH_SYN)
		tp->snd_nxt++;
	if (flags & TH_FIN) {
		/* Once: the flag is cleared above while the FIN is sent and
		 * unacknowledged, and a retransmission rewinds snd_nxt. */
		tp->snd_nxt++;
		tp->t_flags |= TF_SENTFIN;
	}
	if (SEQ_GT(tp->snd_nxt, tp->snd_max)) {
		tp->snd_max = tp->snd_nxt;
		if (tp->t_rttime == 0) {
			tp->t_rttime = tcp_now_us();
			tp->t_rtseq = startseq;
		}
	}
	if (tp->t_timer[TCPT_REXMT] == 0 && tp->snd_nxt != tp->snd_una) {
		tcp_timer_set(tp, TCPT_REXMT, tp->t_rto_ms);
		tcp_timer_stop(tp, TCPT_PERSIST);
	}
	if (rwin > 0 && SEQ_GT(tp->rcv_nxt + rwin, tp->rcv_adv))
		tp->rcv_adv = tp->rcv_nxt + rwin;
	tp->last_ack_sent = tp->rcv_nxt;
	tp->t_flags &= ~(TF_ACKNOW | TF_DELACK);
	tp->t_segs_since_ack = 0;
	tcp_timer_stop(tp, TCPT_DELACK);
	ts->ts_stat.tcps_sndtotal++;
	int err = ip_output(ns, m, inp->inp_laddr, inp->inp_faddr, IPPROTO_TCP,
	    IPDEFTTL, 0, 0);
	if (err != 0 && err != ENOBUFS)
		return err;
	sent++;
	if (sendalot)
		goto again;
	return 0;
}
