/*
 * ip_icmp.c - ICMP (RFC 792, RFC 1122 3.2.2): echo replies, errors for
 * undeliverable datagrams (never about an ICMP error, a non-first
 * fragment, a broadcast or a martian), a token bucket of
 * ICMP_ERRS_PER_SEC errors per stack, and unreachables passed to UDP.
 * ns_lock held.
 */
#include "net/inet/in_var.h"

static bool
icmp_is_error_type(uint8_t type)
{
	return type != ICMP_ECHO && type != ICMP_ECHOREPLY &&
	    type != 13 && type != 14;	/* timestamp request/reply */
}

void
icmp_error(struct netstack *ns, struct mbuf *m, int type, int code,
    bool bcast)
{
	struct inet_stack *is = inet_stack(ns);
	struct icmpstat *st = &is->is_icmp;
	const struct ip *oip = mtod(m, const struct ip *);
	int ohlen = IP_HL(oip);

	if (bcast || IN_MULTICAST(oip->ip_dst) || oip->ip_dst == INADDR_BROADCAST ||
	    oip->ip_src == INADDR_ANY || oip->ip_src == INADDR_BROADCAST ||
	    IN_MULTICAST(oip->ip_src) || (m->m_flags & (M_BCAST | M_MCAST)))
		goto drop;
	if (ntohs(oip->ip_off) & IP_OFFMASK)
		goto drop;		/* not the first fragment */
	if (oip->ip_p == IPPROTO_ICMP) {
		uint8_t itype;
		if (m->m_pkthdr.len < ohlen + 1)
			goto drop;
		m_copydata(m, ohlen, 1, &itype);
		if (icmp_is_error_type(itype)) {
			st->icps_oldicmp++;
			goto drop;
		}
	}
	if (is->is_icmp_tokens <= 0) {
		st->icps_ratelim++;
		goto drop;
	}
	is->is_icmp_tokens--;

	/* The offending header and the start of its payload (RFC 1812
	 * 4.3.2.3: as much as fits in 576 bytes). */
	int quote = m->m_pkthdr.len;
	if (quote > 576 - 28)
		quote = 576 - 28;
	struct mbuf *n = m_gethdr(M_DONTWAIT, MT_DATA);
	if (n == NULL || m_clget(n, M_DONTWAIT) != 0) {
		if (n != NULL)
			m_freem(n);
		goto drop;
	}
	n->m_data += 64;	/* room for IP and link headers */
	struct icmp *ic = mtod(n, struct icmp *);
	memset(ic, 0, sizeof(*ic));
	ic->icmp_type = (uint8_t)type;
	ic->icmp_code = (uint8_t)code;
	m_copydata(m, 0, quote, (char *)(ic + 1));
	n->m_len = n->m_pkthdr.len = (int)sizeof(*ic) + quote;
	ic->icmp_cksum = in_cksum(n, n->m_len);
	uint32_t dst = oip->ip_src;
	uint32_t src = in_ifaddr_lookup(ns, oip->ip_dst) != NULL ? oip->ip_dst : 0;
	m_freem(m);
	st->icps_error++;
	ip_output(ns, n, src, dst, IPPROTO_ICMP, IPDEFTTL, 0, 0);
	return;
drop:
	m_freem(m);
}

void
icmp_input(struct ifnet *ifp, struct mbuf *m, int hlen)
{
	struct netstack *ns = ifp->if_stack;
	struct icmpstat *st = &inet_stack(ns)->is_icmp;
	struct ip ip;
	struct icmp ic;
	int icmplen = m->m_pkthdr.len - hlen;

	st->icps_in++;
	if (icmplen < ICMP_MINLEN) {
		st->icps_tooshort++;
		goto drop;
	}
	if (in_cksum_off(m, hlen, icmplen) != 0) {
		st->icps_badsum++;
		goto drop;
	}
	m_copydata(m, 0, sizeof(ip), &ip);
	m_copydata(m, hlen, sizeof(ic), &ic);
	switch (ic.icmp_type) {
	case ICMP_ECHO: {
		st->icps_echo++;
		bool bcast = (m->m_flags & M_BCAST) ||
		    ip.ip_dst == INADDR_BROADCAST || ip.ip_dst == ifp->if_broadaddr;
		if (bcast)
			goto drop;	/* no answers to broadcast pings */
		m_adj(m, hlen);
		/* Answer in a private copy when the frame is shared. */
		if (M_LEADINGSPACE(m) == 0 && (m->m_flags & M_EXT) &&
		    m->m_ext->ext_refcnt > 1) {
			struct mbuf *c = m_dup(m, 0, M_COPYALL, M_DONTWAIT);
			m_freem(m);
			if ((m = c) == NULL)
				return;
		}
		if ((m = m_pullup(m, ICMP_MINLEN)) == NULL)
			return;
		struct icmp *ric = mtod(m, struct icmp *);
		ric->icmp_type = ICMP_ECHOREPLY;
		ric->icmp_cksum = 0;
		ric->icmp_cksum = in_cksum(m, icmplen);
		st->icps_reply++;
		ip_output(ns, m, ip.ip_dst, ip.ip_src, IPPROTO_ICMP, IPDEFTTL,
		    ip.ip_tos, 0);
		return;
	}
	case ICMP_UNREACH: {
		st->icps_unreach_in++;
		/* The quoted header must be ours to act on. */
		struct ip oip;
		struct udphdr ouh;
		if (icmplen < ICMP_MINLEN + (int)sizeof(oip) + 8) {
			st->icps_tooshort++;
			goto drop;
		}
		m_copydata(m, hlen + ICMP_MINLEN, sizeof(oip), &oip);
		int ohl = IP_HL(&oip);
		if (ohl < (int)sizeof(oip) || icmplen < ICMP_MINLEN + ohl + 8)
			goto drop;
		m_copydata(m, hlen + ICMP_MINLEN + ohl, sizeof(ouh), &ouh);
		if (oip.ip_p == IPPROTO_UDP)
			udp_ctlinput(ns, ic.icmp_code, oip.ip_dst, &ouh,
			    oip.ip_src);
		goto drop;
	}
	default:
		if (ic.icmp_type > 40)
			st->icps_badcode++;
		goto drop;
	}
drop:
	m_freem(m);
}

void
icmp_slowtimo(struct netstack *ns)
{
	/* Refill every 100 ms: ICMP_ERRS_PER_SEC per second on average, with
	 * a burst of one tenth of that. */
	struct inet_stack *is = inet_stack(ns);
	is->is_icmp_tokens = ICMP_ERRS_PER_SEC / 10;
}
