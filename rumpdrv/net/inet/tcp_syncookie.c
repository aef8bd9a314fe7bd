/*
 * tcp_syncookie.c - SYN cookies (RFC 4987 3.6): when a listener's
 * half-open queue is full, a SYN is answered with a SYN-ACK whose initial
 * sequence number encodes the connection, and nothing is kept; the final
 * ACK returns it (ack - 1), is checked here, and tcp_input makes the
 * connection then.  ns_lock held.
 *
 * A cookie, 32 bits: a 5-bit counter of TCP_SC_PERIOD_S periods | a 3-bit
 * index into tcp_sc_mss | 24 bits of SipHash-2-4, under a per-boot secret
 * from the kernel's cprng, of the 4-tuple, the peer's ISN, the counter and
 * the index.  It is good in the period it was made and the next one.  The
 * SYN-ACK offers only the MSS: window scaling, SACK and timestamps cannot
 * be remembered, so a cookie connection runs without them (as Linux's
 * without timestamps).
 */
#include "net/inet/tcp_var.h"

#define TCP_SC_PERIOD_S		64
#define TCP_SC_HASHBITS		24

/* MSS values a cookie can carry: the largest not above the peer's. */
static const uint16_t tcp_sc_mss[8] = {
	216, 536, 1200, 1360, 1440, 1460, 4312, 8960
};

static uint32_t
tcp_sc_period(void)
{
	return (uint32_t)(kern_uptime_ns() / (TCP_SC_PERIOD_S * 1000000000ull));
}

static uint32_t
tcp_sc_hash(struct tcp_stack *ts, uint32_t laddr, uint16_t lport,
    uint32_t faddr, uint16_t fport, uint32_t irs, uint32_t period,
    uint32_t mssidx)
{
	uint8_t in[24];
	tcp_tuple(in, laddr, lport, faddr, fport);
	memcpy(in + 12, &irs, 4);
	memcpy(in + 16, &period, 4);
	memcpy(in + 20, &mssidx, 4);
	return (uint32_t)siphash24(ts->ts_sc_key, in, sizeof(in)) &
	    ((1u << TCP_SC_HASHBITS) - 1);
}

void
tcp_sc_send(struct tcpcb *ltp, uint32_t laddr, uint16_t lport,
    uint32_t faddr, uint16_t fport, uint32_t irs, const struct tcpopt *to)
{
	struct socket *lso = ltp->t_socket;
	struct netstack *ns = lso->so_stack;
	struct tcp_stack *ts = tcp_stack(ns);
	unsigned peer = (to->to_flags & TOF_MSS) ? to->to_mss : TCP_MSS_DEFAULT;
	uint32_t idx = 0;
	while (idx + 1 < 8 && tcp_sc_mss[idx + 1] <= peer)
		idx++;
	uint32_t period = tcp_sc_period() & 31;
	uint32_t cookie = period << 27 | idx << TCP_SC_HASHBITS |
	    tcp_sc_hash(ts, laddr, lport, faddr, fport, irs, period, idx);

	struct mbuf *m = m_gethdr(M_DONTWAIT, MT_HEADER);
	if (m == NULL)
		return;
	int hlen = (int)sizeof(struct tcphdr) + 4;
	m_align(m, hlen);
	m->m_len = m->m_pkthdr.len = hlen;
	struct tcphdr *th = mtod(m, struct tcphdr *);
	memset(th, 0, (size_t)hlen);
	th->th_sport = lport;
	th->th_dport = fport;
	th->th_seq = htonl(cookie);
	th->th_ack = htonl(irs + 1);
	th->th_off = (uint8_t)((hlen / 4) << 4);
	th->th_flags = TH_SYN | TH_ACK;
	int win = sbspace(&lso->so_rcv);
	th->th_win = htons((uint16_t)(win > 65535 ? 65535 : win < 0 ? 0 : win));
	unsigned mss = tcp_mss_for(ns, faddr);
	uint8_t *opt = (uint8_t *)(th + 1);
	opt[0] = TCPOPT_MAXSEG;
	opt[1] = 4;
	opt[2] = (uint8_t)(mss >> 8);
	opt[3] = (uint8_t)mss;
	th->th_sum = in4_cksum(m, IPPROTO_TCP, laddr, faddr, 0, hlen);
	ts->ts_stat.tcps_sc_sent++;
	ts->ts_stat.tcps_sndtotal++;
	ltp->t_sclast = kern_uptime_ns();
	ip_output(ns, m, laddr, faddr, IPPROTO_TCP, IPDEFTTL, 0, 0);
}

bool
tcp_sc_check(struct tcpcb *ltp, uint32_t laddr, uint16_t lport,
    uint32_t faddr, uint16_t fport, uint32_t seq, uint32_t ack,
    unsigned *mssp)
{
	struct tcp_stack *ts = tcp_stack(ltp->t_socket->so_stack);
	/* Only while cookies may be out: an ACK a listener gets otherwise
	 * is no answer to one, and guessing gets no chance. */
	if (ltp->t_sclast == 0 || kern_uptime_ns() - ltp->t_sclast >
	    2ull * TCP_SC_PERIOD_S * 1000000000ull)
		return false;
	uint32_t cookie = ack - 1, irs = seq - 1;
	uint32_t period = cookie >> 27, idx = (cookie >> TCP_SC_HASHBITS) & 7;
	uint32_t age = (tcp_sc_period() - period) & 31;
	if (age > 1 || tcp_sc_hash(ts, laddr, lport, faddr, fport, irs, period,
	    idx) != (cookie & ((1u << TCP_SC_HASHBITS) - 1))) {
		ts->ts_stat.tcps_sc_failed++;
		return false;
	}
	*mssp = tcp_sc_mss[idx];
	return true;
}
