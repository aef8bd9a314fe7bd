/*
 * tcp_output.c - decide what a connection sends and build the segments:
 * SYN/FIN by state, data within min(send window, congestion window),
 * Nagle (RFC 1122 4.2.3.4) unless TCP_NODELAY, receiver silly-window
 * avoidance for window updates, options (MSS, window scale, SACK-permitted
 * and timestamps on SYNs; timestamps and SACK blocks after), the
 * retransmission and persist timers.  During SACK loss recovery (RFC 6675)
 * retransmissions come from the scoreboard's holes while pipe < cwnd, and
 * a go-back-N after a timeout skips what the peer SACKed.  Data segments
 * carry at most the MSS less the options (RFC 6691) and reference the send
 * buffer's storage (m_copym).  ns_lock.
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

unsigned
tcp_maxdata(const struct tcpcb *tp)
{
	unsigned o = (tp->t_flags & TF_RCVD_TSTMP) ? 12 : 0;
	return tp->t_maxseg > o + 32 ? tp->t_maxseg - o : 32;
}

/* Options for a segment with flags carrying len bytes of data: SACK
 * blocks only as far as they fit beside the data in the MSS. */
static int
tcp_options(struct tcpcb *tp, uint8_t *opt, int flags, long len)
{
	int n = 0;
	if (flags & TH_SYN) {
		unsigned mss = tcp_mss_for(tp->t_socket->so_stack,
		    tp->t_inpcb->inp_faddr);
		bool ours = tp->t_state == TCPS_SYN_SENT ||
		    tp->t_state == TCPS_CLOSED;
		opt[n++] = TCPOPT_MAXSEG;
		opt[n++] = 4;
		opt[n++] = (uint8_t)(mss >> 8);
		opt[n++] = (uint8_t)mss;
		/* Window scale: on our SYN, or answering one that had it. */
		if (ours || (tp->t_flags & TF_RCVD_SCALE)) {
			opt[n++] = TCPOPT_NOP;
			opt[n++] = TCPOPT_WINDOW;
			opt[n++] = 3;
			opt[n++] = tp->request_r_scale;
		}
		/* SACK-permitted likewise (RFC 2018 2). */
		if (ours || (tp->t_flags & TF_RCVD_SACKPERM)) {
			opt[n++] = TCPOPT_NOP;
			opt[n++] = TCPOPT_NOP;
			opt[n++] = TCPOPT_SACK_PERMITTED;
			opt[n++] = 2;
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
	/* SACK blocks (RFC 2018 4) while data waits out of order: 4 fit
	 * alone, 3 beside timestamps. */
	if (!(flags & (TH_SYN | TH_RST)) && (tp->t_flags & TF_SACK_PERMIT) &&
	    tp->t_segq != NULL && tp->t_nrcvsack > 0) {
		long room = 40 - n;
		if (room > (long)tp->t_maxseg - len - n)
			room = (long)tp->t_maxseg - len - n;
		int k = room >= 12 ? (int)(room - 4) / 8 : 0;
		if (k > tp->t_nrcvsack)
			k = tp->t_nrcvsack;
		if (k > 0) {
			opt[n++] = TCPOPT_NOP;
			opt[n++] = TCPOPT_NOP;
			opt[n++] = TCPOPT_SACK;
			opt[n++] = (uint8_t)(2 + 8 * k);
			for (int i = 0; i < k; i++) {
				uint32_t a = htonl(tp->t_rcvsack[i].start);
				uint32_t b = htonl(tp->t_rcvsack[i].end);
				memcpy(opt + n, &a, 4);
				memcpy(opt + n + 4, &b, 4);
				n += 8;
			}
			tcp_stack(tp->t_socket->so_stack)->ts_stat.
			    tcps_sack_sndblocks += (uint64_t)k;
		}
	}
	return n;
}

int
tcp_addoptions(struct tcpcb *tp, uint8_t *opt, int flags)
{
	return tcp_options(tp, opt, flags, 0);
}

/* Build and send one segment: seq, len bytes of the send buffer from
 * seq, flags.  Leaves snd_nxt alone; notes the ACK it carries. */
static int
tcp_sendseg(struct tcpcb *tp, uint32_t seq, long len, int flags, bool push)
{
	struct socket *so = tp->t_socket;
	struct netstack *ns = so->so_stack;
	struct tcp_stack *ts = tcp_stack(ns);
	struct inpcb *inp = tp->t_inpcb;
	uint32_t off = seq - tp->snd_una;

	unsigned rwin = tcp_rcvspace(tp);
	if (rwin > (65535u << tp->rcv_scale))
		rwin = 65535u << tp->rcv_scale;
	uint8_t opt[40];
	int optlen = tcp_options(tp, opt, flags, len);
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
		if (SEQ_LT(seq, tp->snd_max)) {
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
	th->th_seq = htonl(seq);
	th->th_ack = htonl(tp->rcv_nxt);
	th->th_off = (uint8_t)((hdrlen / 4) << 4);
	th->th_flags = (uint8_t)(flags | (push ? TH_PUSH : 0));
	if (flags & TH_SYN)
		th->th_win = htons((uint16_t)(rwin > 65535 ? 65535 : rwin));
	else
		th->th_win = htons((uint16_t)(rwin >> tp->rcv_scale));
	th->th_urp = 0;
	memcpy(th + 1, opt, (size_t)optlen);
	in4_cksum_delay(m, IPPROTO_TCP, inp->inp_laddr, inp->inp_faddr, 0,
	    hdrlen + (int)len, offsetof(struct tcphdr, th_sum));
	unsigned seg = tcp_maxdata(tp);
	if (len > (long)seg) {
		/* tcp_output made it longer than a segment: the interface
		 * cuts it (IFCAP_TSOv4). */
		m->m_pkthdr.csum_flags |= M_CSUM_TSOv4;
		m->m_pkthdr.segsz = (int)seg;
	}

	if (rwin > 0 && SEQ_GT(tp->rcv_nxt + rwin, tp->rcv_adv))
		tp->rcv_adv = tp->rcv_nxt + rwin;
	tp->last_ack_sent = tp->rcv_nxt;
	tp->t_flags &= ~(TF_ACKNOW | TF_DELACK);
	tp->t_segs_since_ack = 0;
	tcp_timer_stop(tp, TCPT_DELACK);
	ts->ts_stat.tcps_sndtotal++;
	return ip_output(ns, m, inp->inp_laddr, inp->inp_faddr, IPPROTO_TCP,
	    IPDEFTTL, 0, 0);
}

void
tcp_sack_rexmit(struct tcpcb *tp, uint32_t seq, uint32_t len)
{
	(void)tcp_sendseg(tp, seq, (long)len, TH_ACK, false);
	if (SEQ_GT(seq + len, tp->snd_highrxt))
		tp->snd_highrxt = seq + len;
	tcp_stack(tp->t_socket->so_stack)->ts_stat.tcps_sack_rexmits++;
	struct tcp_rxrec *r = &tp->t_rxrec[tp->t_nrxrec++ % TCP_SACK_RXREC];
	*r = (struct tcp_rxrec){ seq, len, tp->snd_max, tcp_now_us() };
	if (tp->t_timer[TCPT_REXMT] == 0)
		tcp_timer_set(tp, TCPT_REXMT, tp->t_rto_ms);
}

bool
tcp_send_extra(struct tcpcb *tp)
{
	struct socket *so = tp->t_socket;
	uint32_t flight = tp->snd_max - tp->snd_una;
	unsigned maxdata = tcp_maxdata(tp);
	/* Not while a go-back-N after a timeout is under way (snd_nxt
	 * behind snd_max outside recovery): that data goes first. */
	if (so->so_snd.sb_cc <= (int)flight || (tp->t_flags & TF_SENTFIN) ||
	    tp->snd_wnd < flight + maxdata || !TCPS_HAVEESTABLISHED(tp->t_state) ||
	    (SEQ_LT(tp->snd_nxt, tp->snd_max) &&
	    !(tp->t_flags & TF_INRECOVERY)))
		return false;
	uint32_t ocwnd = tp->snd_cwnd, onxt = tp->snd_nxt;
	unsigned oflags = tp->t_flags;
	tp->snd_cwnd = flight + maxdata;
	tp->snd_nxt = tp->snd_max;
	tp->t_flags = (tp->t_flags & ~TF_INRECOVERY) | TF_NODELAY;
	uint32_t omax = tp->snd_max;
	tcp_output(tp);
	tp->t_flags = (tp->t_flags & ~(TF_INRECOVERY | TF_NODELAY)) |
	    (oflags & (TF_INRECOVERY | TF_NODELAY));
	tp->snd_cwnd = ocwnd;
	if (SEQ_GT(onxt, tp->snd_nxt))
		tp->snd_nxt = onxt;
	return tp->snd_max != omax;
}

void
tcp_tlp_send(struct tcpcb *tp)
{
	struct socket *so = tp->t_socket;
	struct tcp_stack *ts = tcp_stack(so->so_stack);
	if (tp->snd_max == tp->snd_una || !TCPS_HAVEESTABLISHED(tp->t_state))
		return;
	ts->ts_stat.tcps_tlp++;
	tp->t_tlp_sent++;
	bool sent = tcp_send_extra(tp);
	tcp_tlp_arm(tp);		/* a second probe, if it fits */
	if (sent)
		return;
	/* RFC 8985 7.3: no new data: the last segment again (with the FIN
	 * when that was sent). */
	uint32_t dataend = tp->snd_una + (uint32_t)so->so_snd.sb_cc;
	if (SEQ_GT(dataend, tp->snd_max))
		dataend = tp->snd_max;
	unsigned maxdata = tcp_maxdata(tp);
	uint32_t seq = dataend - tp->snd_una > maxdata ? dataend - maxdata :
	    tp->snd_una;
	int flags = TH_ACK;
	if ((tp->t_flags & TF_SENTFIN) && dataend + 1 == tp->snd_max)
		flags |= TH_FIN;
	if (dataend == seq && !(flags & TH_FIN))
		return;
	(void)tcp_sendseg(tp, seq, (long)(dataend - seq), flags, true);
}

/* RFC 6675 5 (C): while cwnd - pipe >= 1 SMSS, retransmit lost holes
 * (NextSeg rule 1), else leave new data to the caller (rule 2), else
 * retransmit holes not yet taken as lost (rule 3).  Returns the room
 * left for new data. */
static uint32_t
tcp_sack_recover(struct tcpcb *tp)
{
	struct socket *so = tp->t_socket;
	unsigned maxdata = tcp_maxdata(tp);
	for (int guard = 0; guard < 1024; guard++) {
		uint32_t pipe = tcp_sack_pipe(tp);
		if (pipe >= tp->snd_cwnd || tp->snd_cwnd - pipe < maxdata)
			return 0;
		uint32_t seq, len;
		bool newdata = so->so_snd.sb_cc > (int)(tp->snd_max - tp->snd_una) &&
		    tp->snd_wnd > tp->snd_max - tp->snd_una &&
		    !(tp->t_flags & TF_SENTFIN);
		if (!tcp_sack_nextseg(tp, false, &seq, &len) &&
		    (newdata || !tcp_sack_nextseg(tp, true, &seq, &len)))
			return tp->snd_cwnd - pipe;
		tcp_sack_rexmit(tp, seq, len);
	}
	return 0;
}

int
tcp_output(struct tcpcb *tp)
{
	struct socket *so = tp->t_socket;
	unsigned maxdata = tcp_maxdata(tp);

again:;
	uint32_t win = tp->snd_wnd < tp->snd_cwnd ? tp->snd_wnd : tp->snd_cwnd;
	long sackcap = -1;		/* data before the next SACKed range */
	if ((tp->t_flags & (TF_SACK_PERMIT | TF_INRECOVERY)) ==
	    (TF_SACK_PERMIT | TF_INRECOVERY) &&
	    TCPS_HAVEESTABLISHED(tp->t_state)) {
		uint32_t room = tcp_sack_recover(tp);
		uint32_t flight = tp->snd_max - tp->snd_una;
		tp->snd_nxt = tp->snd_max;	/* new data only, below */
		win = flight + room < tp->snd_wnd ? flight + room : tp->snd_wnd;
	} else if (tp->t_nsacked > 0 && SEQ_LT(tp->snd_nxt, tp->snd_max)) {
		/* Go-back-N after a timeout: skip what the peer holds. */
		for (int i = 0; i < tp->t_nsacked; i++) {
			struct tcp_seqrange *r = &tp->t_sacked[i];
			if (SEQ_LEQ(r->end, tp->snd_nxt))
				continue;
			if (SEQ_LEQ(r->start, tp->snd_nxt))
				tp->snd_nxt = r->end;
			else {
				sackcap = (long)(r->start - tp->snd_nxt);
				break;
			}
		}
	}
	uint32_t off = tp->snd_nxt - tp->snd_una;
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
	if (sackcap >= 0 && len > sackcap) {
		len = sackcap;
		sendalot = true;
	}
	/* An interface that cuts segments (TSO) takes whole segments' worth
	 * in one, up to its limit less the largest IP and TCP headers; not
	 * while recovering, where each segment is chosen on its own. */
	long maxlen = maxdata;
	if (tp->t_tsomax > 80 + maxdata && sackcap < 0 &&
	    !(tp->t_flags & TF_INRECOVERY) && !(flags & TH_SYN))
		maxlen = (long)((tp->t_tsomax - 80) / maxdata * maxdata);
	if (len > maxlen) {
		len = maxlen;
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
		if (len >= (long)maxdata)
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

	bool push = len > 0 && off + (uint32_t)len == (uint32_t)so->so_snd.sb_cc;
	int err = tcp_sendseg(tp, tp->snd_nxt, len, flags, push);

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
	if (err != 0 && err != ENOBUFS)
		return err;
	if (sendalot)
		goto again;
	return 0;
}
