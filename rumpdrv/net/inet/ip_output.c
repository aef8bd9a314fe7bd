/*
 * ip_output.c - IPv4 output: header, route (longest-prefix match; our own
 * addresses go over lo0), source selection, and fragmentation to the
 * interface MTU (RFC 791 3.2) sharing the payload's storage.  ns_lock held.
 */
#include "net/inet/in_var.h"

/* The interface and next hop for dst, or an errno. */
static int
ip_route(struct netstack *ns, uint32_t dst, int flags, struct ifnet **ifpp,
    uint32_t *nexthop)
{
	if (dst == INADDR_BROADCAST) {
		if (!(flags & IP_ALLOWBROADCAST))
			return EACCES;
		for (int i = 0; i < NS_MAXIF; i++) {
			struct ifnet *ifp = ns->ns_ifnet[i];
			if (ifp != NULL && (ifp->if_flags & IFF_UP) &&
			    (ifp->if_flags & IFF_BROADCAST) && ifp->if_addr) {
				*ifpp = ifp;
				*nexthop = dst;
				return 0;
			}
		}
		return ENETUNREACH;
	}
	if (IN_LOOPBACK(dst) || in_ifaddr_lookup(ns, dst) != NULL) {
		*ifpp = ns->ns_loif;
		*nexthop = dst;
		return 0;
	}
	struct rtentry *rt = rt_lookup(ns, dst);
	if (rt == NULL)
		return ENETUNREACH;
	*ifpp = rt->rt_ifp;
	*nexthop = (rt->rt_flags & RTF_GATEWAY) ? rt->rt_gateway : dst;
	if (rt->rt_ifp->if_broadaddr == dst && !(flags & IP_ALLOWBROADCAST))
		return EACCES;
	return 0;
}

int
ip_srcaddr(struct netstack *ns, uint32_t dst, uint32_t *src)
{
	struct ifnet *ifp;
	uint32_t nh;
	int rv = ip_route(ns, dst, IP_ALLOWBROADCAST, &ifp, &nh);
	if (rv != 0)
		return rv;
	if (ifp == ns->ns_loif)
		*src = IN_LOOPBACK(dst) ? htonl(0x7f000001) : dst;
	else
		*src = ifp->if_addr;
	return *src != 0 ? 0 : EADDRNOTAVAIL;
}

static int
ip_fragment(struct netstack *ns, struct ifnet *ifp, struct mbuf *m,
    uint32_t nexthop, unsigned mtu)
{
	struct ipstat *st = &inet_stack(ns)->is_ip;
	struct ip *ip = mtod(m, struct ip *);
	int hlen = IP_HL(ip);
	int total = m->m_pkthdr.len - hlen;
	int maxpay = ((int)mtu - hlen) & ~7;
	uint16_t off0 = ntohs(ip->ip_off);
	int rv = 0;

	if (off0 & IP_DF) {
		st->ips_cantfrag++;
		m_freem(m);
		return EMSGSIZE;
	}
	if (maxpay < 8) {
		m_freem(m);
		return EMSGSIZE;
	}
	for (int off = 0; off < total && rv == 0; off += maxpay) {
		int n = total - off < maxpay ? total - off : maxpay;
		struct mbuf *f = m_copym(m, hlen + off, n, M_DONTWAIT);
		if (f != NULL)
			M_PREPEND(f, hlen, M_DONTWAIT);
		if (f == NULL) {
			rv = ENOBUFS;
			break;
		}
		f->m_pkthdr.len = hlen + n;
		struct ip *fip = mtod(f, struct ip *);
		memcpy(fip, ip, (size_t)hlen);
		fip->ip_len = htons((uint16_t)(hlen + n));
		uint16_t fo = (uint16_t)(((off0 & IP_OFFMASK) + off / 8) |
		    ((off + n < total || (off0 & IP_MF)) ? IP_MF : 0));
		fip->ip_off = htons(fo);
		fip->ip_sum = 0;
		fip->ip_sum = in_cksum_buf(fip, (size_t)hlen);
		st->ips_ofragments++;
		rv = ifp->if_output(ifp, f, nexthop);
	}
	if (rv == 0)
		st->ips_fragmented++;
	m_freem(m);
	return rv;
}

int
ip_output(struct netstack *ns, struct mbuf *m, uint32_t src, uint32_t dst,
    uint8_t proto, uint8_t ttl, uint8_t tos, int flags)
{
	struct inet_stack *is = inet_stack(ns);
	struct ipstat *st = &is->is_ip;
	struct ifnet *ifp;
	uint32_t nexthop;
	struct ip *ip;

	if (flags & IP_RAWOUTPUT)
		dst = mtod(m, struct ip *)->ip_dst;
	int rv = ip_route(ns, dst, flags, &ifp, &nexthop);
	if (rv != 0) {
		st->ips_noroute++;
		m_freem(m);
		return rv;
	}
	if (!(flags & IP_RAWOUTPUT)) {
		if (src == INADDR_ANY) {
			if (ifp == ns->ns_loif)
				src = IN_LOOPBACK(dst) ? htonl(0x7f000001) : dst;
			else
				src = ifp->if_addr;
		}
		M_PREPEND(m, (int)sizeof(struct ip), M_DONTWAIT);
		if (m == NULL) {
			st->ips_odropped++;
			return ENOBUFS;
		}
		ip = mtod(m, struct ip *);
		ip->ip_vhl = 0x45;
		ip->ip_tos = tos;
		ip->ip_len = htons((uint16_t)m->m_pkthdr.len);
		ip->ip_id = htons(is->is_ip_id++);
		ip->ip_off = 0;
		ip->ip_ttl = ttl;
		ip->ip_p = proto;
		ip->ip_src = src;
		ip->ip_dst = dst;
	} else
		ip = mtod(m, struct ip *);
	st->ips_localout++;
	/* A delayed transport checksum is done here unless the interface
	 * takes it; fragments need it done. */
	/* A segment for the interface to cut goes whole if the interface
	 * (the route may have changed) still cuts segments this long. */
	if (m->m_pkthdr.csum_flags & M_CSUM_TSOv4) {
		if ((ifp->if_capenable & IFCAP_TSOv4) &&
		    m->m_pkthdr.len <= (int)ifp->if_tsomax) {
			ip->ip_sum = 0;
			ip->ip_sum = in_cksum_buf(ip, (size_t)IP_HL(ip));
			return ifp->if_output(ifp, m, nexthop);
		}
		m->m_pkthdr.csum_flags &= ~M_CSUM_TSOv4;
	}
	if ((m->m_pkthdr.csum_flags & M_CSUM_TCPv4) &&
	    (!(ifp->if_capenable & IFCAP_CSUM_TCPv4_Tx) ||
	    m->m_pkthdr.len > (int)ifp->if_mtu))
		in_delayed_cksum(m);
	if (m->m_pkthdr.len > (int)ifp->if_mtu)
		return ip_fragment(ns, ifp, m, nexthop, ifp->if_mtu);
	ip->ip_sum = 0;
	ip->ip_sum = in_cksum_buf(ip, (size_t)IP_HL(ip));
	return ifp->if_output(ifp, m, nexthop);
}
