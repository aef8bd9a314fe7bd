/*
 * ip_input.c - IPv4 input (RFC 791, RFC 1122 3.2.1): header checks, once,
 * where packets enter (version, header length, checksum, total length,
 * martian and spoofed-own sources); options are walked for well-formedness and otherwise
 * ignored; packets not for us are dropped (forwarding is off); fragments
 * go to reassembly; the rest is handed to ICMP or UDP.  ns_lock held.
 */
#include "net/inet/tcp_var.h"

bool
ip_ours(struct netstack *ns, struct ifnet *ifp, uint32_t dst, bool *bcast)
{
	*bcast = false;
	if (dst == INADDR_BROADCAST || (ifp->if_broadaddr != 0 &&
	    dst == ifp->if_broadaddr)) {
		*bcast = true;
		return true;
	}
	if ((ifp->if_flags & IFF_LOOPBACK) && IN_LOOPBACK(dst))
		return true;
	/* Weak host model (RFC 1122 3.3.4.2): any of our addresses. */
	return in_ifaddr_lookup(ns, dst) != NULL;
}

/*
 * Martian sources (RFC 1122 3.2.1.3, and what Linux's fib_validate_source
 * refuses): never answer them, or the answer goes to a broadcast, to a
 * multicast group or to ourselves.  0.0.0.0 is allowed only to the
 * limited broadcast (a host configuring itself, RFC 2131 4.1); 0/8 and
 * 127/8 from a wire, and limited, directed (of any of our interfaces) and
 * multicast sources, never.  From a wire, one of our own addresses as the
 * source is a spoof (LAND, CVE-1999-0016): a SYN from our own address and
 * port to itself makes every answer an input that asks for another
 * answer, through lo0, for ever.  Only lo0 carries our own addresses.
 */
int
ip_srccheck(struct netstack *ns, struct ifnet *ifp, uint32_t src,
    uint32_t dst)
{
	if (src == INADDR_ANY)
		return dst == INADDR_BROADCAST ? IP_SRC_OK : IP_SRC_MARTIAN;
	if (src == INADDR_BROADCAST || IN_MULTICAST(src) ||
	    (ntohl(src) >> 24) == 0)
		return IP_SRC_MARTIAN;
	if (ifp->if_flags & IFF_LOOPBACK)
		return IP_SRC_OK;
	if (IN_LOOPBACK(src))
		return IP_SRC_MARTIAN;
	for (int i = 0; i < NS_MAXIF; i++) {
		struct ifnet *o = ns->ns_ifnet[i];
		if (o == NULL)
			continue;
		if (o->if_addr == src)
			return IP_SRC_OURS;
		if (o->if_broadaddr != 0 && o->if_broadaddr == src)
			return IP_SRC_MARTIAN;
	}
	return IP_SRC_OK;
}

int
ip_checkoptions(const uint8_t *opt, int len)
{
	int i = 0;
	while (i < len) {
		if (opt[i] == IPOPT_EOL)
			return 0;
		if (opt[i] == IPOPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= len)
			return EINVAL;		/* length byte missing */
		int olen = opt[i + 1];
		if (olen < 2 || i + olen > len)
			return EINVAL;
		i += olen;
	}
	return 0;
}

/* Remove the options so transports see a 20-byte header. */
static void
ip_stripoptions(struct mbuf *m, int hlen)
{
	struct ip *ip = mtod(m, struct ip *);
	int olen = hlen - (int)sizeof(struct ip);
	memmove(m->m_data + olen, m->m_data, sizeof(struct ip));
	m->m_data += olen;
	m->m_len -= olen;
	m->m_pkthdr.len -= olen;
	ip = mtod(m, struct ip *);
	ip->ip_vhl = 0x45;
	ip->ip_len = htons((uint16_t)(ntohs(ip->ip_len) - olen));
}

void
ip_input(struct ifnet *ifp, struct mbuf *m)
{
	struct netstack *ns = ifp->if_stack;
	struct inet_stack *is = inet_stack(ns);
	struct ipstat *st = &is->is_ip;
	struct ip *ip;
	int hlen, len;
	bool bcast;

	st->ips_total++;
	if (m->m_pkthdr.len < (int)sizeof(struct ip)) {
		st->ips_toosmall++;
		goto bad;
	}
	if ((m = m_pullup(m, sizeof(struct ip))) == NULL) {
		st->ips_toosmall++;
		NET_ATOMIC_INC(&ifp->if_data.ifi_ierrors);
		return;
	}
	ip = mtod(m, struct ip *);
	if (IP_V(ip) != 4) {
		st->ips_badvers++;
		goto bad;
	}
	hlen = IP_HL(ip);
	if (hlen < (int)sizeof(struct ip)) {
		st->ips_badhlen++;
		goto bad;
	}
	if (hlen > m->m_len) {
		if (hlen > m->m_pkthdr.len) {
			st->ips_badhlen++;
			goto bad;
		}
		if ((m = m_pullup(m, hlen)) == NULL) {
			st->ips_badhlen++;
			NET_ATOMIC_INC(&ifp->if_data.ifi_ierrors);
			return;
		}
		ip = mtod(m, struct ip *);
	}
	if (!(m->m_pkthdr.csum_flags & M_CSUM_DATA_OK) &&
	    in_cksum_buf(ip, (size_t)hlen) != 0) {
		st->ips_badsum++;
		goto bad;
	}
	len = ntohs(ip->ip_len);
	if (len < hlen) {
		st->ips_badlen++;
		goto bad;
	}
	if (m->m_pkthdr.len < len) {
		st->ips_tooshort++;
		goto bad;
	}
	if (m->m_pkthdr.len > len)
		m_adj(m, len - m->m_pkthdr.len);	/* link-layer padding */
	switch (ip_srccheck(ns, ifp, ip->ip_src, ip->ip_dst)) {
	case IP_SRC_OK:
		break;
	case IP_SRC_OURS:
		st->ips_ownsrc++;
		goto bad;
	default:
		st->ips_badaddr++;
		goto bad;
	}
	if (hlen > (int)sizeof(struct ip) &&
	    ip_checkoptions((const uint8_t *)(ip + 1),
	    hlen - (int)sizeof(struct ip)) != 0) {
		st->ips_badoptions++;
		goto bad;
	}
	if (!ip_ours(ns, ifp, ip->ip_dst, &bcast)) {
		/* Forwarding is off (RFC 1122 3.3.1.1 default for hosts). */
		st->ips_cantforward++;
		m_freem(m);
		return;
	}
	if (ntohs(ip->ip_off) & (IP_MF | IP_OFFMASK)) {
		st->ips_fragments++;
		if ((m = ip_reass(ns, m)) == NULL)
			return;
		st->ips_reassembled++;
		ip = mtod(m, struct ip *);
		hlen = IP_HL(ip);
	}
	if (hlen > (int)sizeof(struct ip)) {
		ip_stripoptions(m, hlen);
		ip = mtod(m, struct ip *);
		hlen = sizeof(struct ip);
	}
	st->ips_delivered++;
	switch (ip->ip_p) {
	case IPPROTO_ICMP:
		icmp_input(ifp, m, hlen);
		break;
	case IPPROTO_UDP:
		udp_input(ifp, m, hlen, bcast);
		break;
	case IPPROTO_TCP:
		tcp_input(ifp, m, hlen);
		break;
	default:
		st->ips_noproto++;
		st->ips_delivered--;
		icmp_error(ns, m, ICMP_UNREACH, ICMP_UNREACH_PROTOCOL, bcast);
		break;
	}
	return;
bad:
	NET_ATOMIC_INC(&ifp->if_data.ifi_ierrors);
	m_freem(m);
}
