/*
 * tcp_sack.c - selective acknowledgments.
 *
 * As receiver (RFC 2018 section 4): the blocks to report are the
 * contiguous runs of the out-of-order queue, the run holding the latest
 * arrival first, then the runs reported before in their order.
 *
 * As sender (RFC 6675): the scoreboard is the sorted list of disjoint
 * ranges above snd_una that the peer reported.  Between them, and between
 * snd_una and the first, lie the holes; a hole is lost when DupThresh
 * ranges or more than (DupThresh - 1) * SMSS bytes were SACKed above it
 * (IsLost).  Every byte of a hole has the same ranges above it, so a hole
 * is lost or not as a whole.  Pipe counts the holes not lost, the part of
 * every hole already retransmitted (below snd_highrxt) and what was sent
 * above the highest SACKed byte.  ns_lock held.
 */
#include "net/inet/tcp_var.h"

/* Cut the n ranges r[] below seq, in place; returns how many are left. */
static int
seqranges_trim(struct tcp_seqrange *r, int n, uint32_t seq)
{
	int k = 0;
	for (int i = 0; i < n; i++) {
		if (SEQ_LEQ(r[i].end, seq))
			continue;
		r[k].start = SEQ_LT(r[i].start, seq) ? seq : r[i].start;
		r[k++].end = r[i].end;
	}
	return k;
}

/* ---- receiver ---- */

void
tcp_sack_trim(struct tcpcb *tp)
{
	tp->t_nrcvsack = tp->t_segq == NULL ? 0 :
	    seqranges_trim(tp->t_rcvsack, tp->t_nrcvsack, tp->rcv_nxt);
}

void
tcp_sack_rcvd(struct tcpcb *tp, uint32_t start)
{
	/* The run of the queue that holds start. */
	bool found = false;
	uint32_t rs = 0, re = 0;
	for (struct mbuf *m = tp->t_segq; m != NULL; m = m->m_nextpkt) {
		uint32_t s = (uint32_t)m->m_pkthdr.csum_flags;
		uint32_t e = s + (uint32_t)m->m_pkthdr.len;
		if (found) {
			if (s != re)
				break;
			re = e;
			continue;
		}
		if (m == tp->t_segq || s != re)
			rs = s;
		re = e;
		if (SEQ_LEQ(rs, start) && SEQ_LT(start, re))
			found = true;
	}
	if (!found)
		return;		/* not held (the queue was full) */
	struct tcp_seqrange nb[TCP_SACK_RCVBLKS];
	int n = 0;
	nb[n++] = (struct tcp_seqrange){ rs, re };
	for (int i = 0; i < tp->t_nrcvsack && n < TCP_SACK_RCVBLKS; i++) {
		struct tcp_seqrange r = tp->t_rcvsack[i];
		if (SEQ_LEQ(r.start, re) && SEQ_GEQ(r.end, rs))
			continue;	/* now part of the first block */
		nb[n++] = r;
	}
	memcpy(tp->t_rcvsack, nb, sizeof(nb[0]) * (size_t)n);
	tp->t_nrcvsack = n;
}

/* ---- sender ---- */

void
tcp_sack_clear(struct tcpcb *tp)
{
	tp->t_nsacked = 0;
	tp->t_sacked_bytes = 0;
}

static void
tcp_sack_recount(struct tcpcb *tp)
{
	uint32_t b = 0;
	for (int i = 0; i < tp->t_nsacked; i++)
		b += tp->t_sacked[i].end - tp->t_sacked[i].start;
	tp->t_sacked_bytes = b;
}

void
tcp_sack_ackadvance(struct tcpcb *tp)
{
	tp->t_nsacked = seqranges_trim(tp->t_sacked, tp->t_nsacked,
	    tp->snd_una);
	tcp_sack_recount(tp);
}

/* Merge [a, b) into the sorted scoreboard. */
static void
tcp_sack_insert(struct tcpcb *tp, uint32_t a, uint32_t b)
{
	struct tcp_seqrange *r = tp->t_sacked;
	int n = tp->t_nsacked, i = 0;
	while (i < n && SEQ_LT(r[i].end, a))
		i++;			/* ranges wholly before, not touching */
	int j = i;
	while (j < n && SEQ_LEQ(r[j].start, b)) {
		a = SEQ_MIN(a, r[j].start);	/* touching or overlapping */
		b = SEQ_MAX(b, r[j].end);
		j++;
	}
	if (j == i && n == TCP_SACK_MAXRANGES) {
		/* Full: forget the highest range (the least useful). */
		if (i == n)
			return;
		n--;
	}
	/* Replace r[i..j) by [a, b). */
	memmove(&r[i + 1], &r[j], sizeof(r[0]) * (size_t)(n - j));
	r[i] = (struct tcp_seqrange){ a, b };
	tp->t_nsacked = n - (j - i) + 1;
}

uint32_t
tcp_sack_update(struct tcpcb *tp, const struct tcpopt *to, uint32_t ack)
{
	struct tcp_stack *ts = tcp_stack(tp->t_socket->so_stack);
	uint32_t una = SEQ_GT(ack, tp->snd_una) ? ack : tp->snd_una;
	/* What the ACK itself covers goes. */
	tp->t_nsacked = seqranges_trim(tp->t_sacked, tp->t_nsacked, una);
	tcp_sack_recount(tp);
	uint32_t before = tp->t_sacked_bytes;
	for (int i = 0; i < to->to_nsacks; i++) {
		uint32_t a = to->to_sacks[i].start, b = to->to_sacks[i].end;
		/* RFC 2018: a block lies in what we sent.  Below the
		 * cumulative ACK it says nothing new (D-SACK, RFC 2883, is
		 * not used). */
		if (!SEQ_LT(a, b) || SEQ_GT(b, tp->snd_max) ||
		    b - a > 0x40000000u) {
			ts->ts_stat.tcps_sack_badblocks++;
			continue;
		}
		if (SEQ_LEQ(b, una))
			continue;
		if (SEQ_LT(a, una))
			a = una;
		ts->ts_stat.tcps_sack_rcvblocks++;
		tcp_sack_insert(tp, a, b);
	}
	tcp_sack_recount(tp);
	return tp->t_sacked_bytes - before;
}

/* IsLost for the hole ending at range index i (ranges i.. are above). */
static bool
tcp_sack_hole_lost(const struct tcpcb *tp, int i)
{
	int above = tp->t_nsacked - i;
	if (above >= TCP_DUPTHRESH)
		return true;
	uint32_t bytes = 0;
	for (int k = i; k < tp->t_nsacked; k++)
		bytes += tp->t_sacked[k].end - tp->t_sacked[k].start;
	return bytes > (TCP_DUPTHRESH - 1) * tp->t_maxseg;
}

bool
tcp_sack_islost(const struct tcpcb *tp, uint32_t seq)
{
	int i = 0;
	while (i < tp->t_nsacked && SEQ_LEQ(tp->t_sacked[i].start, seq))
		i++;
	return i < tp->t_nsacked && tcp_sack_hole_lost(tp, i);
}

uint32_t
tcp_sack_pipe(const struct tcpcb *tp)
{
	uint32_t pipe = 0, a = tp->snd_una;
	for (int i = 0; i <= tp->t_nsacked; i++) {
		uint32_t b = i < tp->t_nsacked ? tp->t_sacked[i].start :
		    tp->snd_max;
		if (SEQ_LT(a, b)) {
			if (i == tp->t_nsacked || !tcp_sack_hole_lost(tp, i))
				pipe += b - a;
			if (SEQ_GT(tp->snd_highrxt, a))
				pipe += SEQ_MIN(b, tp->snd_highrxt) - a;
		}
		if (i < tp->t_nsacked)
			a = tp->t_sacked[i].end;
	}
	return pipe;
}

bool
tcp_sack_nextseg(const struct tcpcb *tp, bool rule3, uint32_t *seq,
    uint32_t *len)
{
	uint32_t a = tp->snd_una;
	unsigned maxdata = tcp_maxdata(tp);
	/* Holes below the highest SACKed byte only (S2 < HighACK). */
	for (int i = 0; i < tp->t_nsacked; i++) {
		uint32_t b = tp->t_sacked[i].start;
		uint32_t s = SEQ_MAX(a, tp->snd_highrxt);
		if (SEQ_LT(s, b) && (rule3 || tcp_sack_hole_lost(tp, i))) {
			*seq = s;
			*len = b - s < maxdata ? b - s : maxdata;
			return true;
		}
		a = tp->t_sacked[i].end;
	}
	return false;
}

bool
tcp_sack_issacked(const struct tcpcb *tp, uint32_t seq)
{
	for (int i = 0; i < tp->t_nsacked; i++)
		if (SEQ_LEQ(tp->t_sacked[i].start, seq) &&
		    SEQ_LT(seq, tp->t_sacked[i].end))
			return true;
	return false;
}

uint32_t
tcp_sack_above(const struct tcpcb *tp, uint32_t seq)
{
	uint32_t b = 0;
	for (int i = 0; i < tp->t_nsacked; i++) {
		const struct tcp_seqrange *r = &tp->t_sacked[i];
		if (SEQ_GEQ(r->start, seq))
			b += r->end - r->start;
		else if (SEQ_GT(r->end, seq))
			b += r->end - seq;
	}
	return b;
}

/*
 * A retransmission still missing while data sent after it was SACKed, a
 * quarter of an RTT later than its own ACK could have come, was lost as
 * well (the idea of RACK, RFC 8985 6.2, for retransmissions only): send
 * it again rather than wait for the retransmission timeout.
 */
void
tcp_sack_lostrexmit(struct tcpcb *tp)
{
	unsigned n = tp->t_nrxrec < TCP_SACK_RXREC ? tp->t_nrxrec :
	    TCP_SACK_RXREC;
	uint64_t now = tcp_now_us();
	uint64_t wait = (uint64_t)(tp->t_srtt + tp->t_srtt / 4);
	for (unsigned k = 0; k < n; k++) {
		struct tcp_rxrec *r = &tp->t_rxrec[k];
		if (r->len == 0 || SEQ_LEQ(r->seq + r->len, tp->snd_una)) {
			r->len = 0;
			continue;
		}
		uint32_t seq = SEQ_MAX(r->seq, tp->snd_una);
		if (tcp_sack_issacked(tp, seq) || now - r->when_us < wait ||
		    tcp_sack_above(tp, r->mark) == 0)
			continue;
		uint32_t len = r->seq + r->len - seq;
		for (int i = 0; i < tp->t_nsacked; i++)
			if (SEQ_GT(tp->t_sacked[i].start, seq) &&
			    tp->t_sacked[i].start - seq < len)
				len = tp->t_sacked[i].start - seq;
		tcp_stack(tp->t_socket->so_stack)->ts_stat.tcps_sack_lostrexmit++;
		r->len = 0;		/* tcp_sack_rexmit records it anew */
		tcp_sack_rexmit(tp, seq, len);
	}
}
