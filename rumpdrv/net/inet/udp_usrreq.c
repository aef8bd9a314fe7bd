/*
 * udp_usrreq.c - UDP (RFC 768, RFC 1122 4.1): input with length and
 * checksum checks, demultiplexing to the best-matching PCB (connected
 * first, then wildcard; broadcasts to every match), port unreachables,
 * and the socket operations (bind, connect, send).  ns_lock held.
 */
#include "net/inet/in_var.h"

#define UDP_EPHEMERAL_LO	49152
#define UDP_EPHEMERAL_HI	65535
#define UDP_MAXDGRAM		(IP_MAXPACKET - 20 - 8)
#define UDP_RCVBUF		(256 * 1024)

static void
udp_deliver(struct inpcb *inp, struct mbuf *m, uint32_t src, uint16_t sport,
    struct udpstat *st)
{
	struct socket *so = inp->inp_socket;
	struct sockaddr_in_k from = { .sin_family = AF_INET, .sin_port = sport,
	    .sin_addr = src };
	if (so->so_state & SS_CANTRCVMORE ||
	    sbappendaddr(&so->so_rcv, &from, m) != 0) {
		st->udps_fullsock++;
		m_freem(m);
		return;
	}
	sowakeup(so);
}

void
udp_input(struct ifnet *ifp, struct mbuf *m, int hlen, bool bcast)
{
	struct netstack *ns = ifp->if_stack;
	struct inet_stack *is = inet_stack(ns);
	struct udpstat *st = &is->is_udp;
	struct ip ip;
	struct udphdr uh;

	st->udps_ipackets++;
	int iplen = m->m_pkthdr.len - hlen;
	if (iplen < (int)sizeof(uh)) {
		st->udps_hdrops++;
		goto drop;
	}
	m_copydata(m, 0, sizeof(ip), &ip);
	m_copydata(m, hlen, sizeof(uh), &uh);
	int ulen = ntohs(uh.uh_ulen);
	if (ulen < (int)sizeof(uh) || ulen > iplen) {
		st->udps_badlen++;
		goto drop;
	}
	if (ulen < iplen)
		m_adj(m, ulen - iplen);
	if (uh.uh_sum != 0 && !(m->m_pkthdr.csum_flags & M_CSUM_DATA_OK) &&
	    in4_cksum(m, IPPROTO_UDP, ip.ip_src, ip.ip_dst, hlen, ulen) != 0) {
		st->udps_badsum++;
		goto drop;
	}
	if (uh.uh_dport == 0 || uh.uh_sport == 0)
		goto drop;

	if (bcast || (m->m_flags & M_BCAST)) {
		struct mbuf *last = NULL;
		struct inpcb *lastinp = NULL;
		for (struct inpcb *inp = is->is_udb; inp; inp = inp->inp_next) {
			if (inp->inp_lport != uh.uh_dport)
				continue;
			if (inp->inp_laddr != INADDR_ANY &&
			    inp->inp_laddr != ip.ip_dst)
				continue;
			if (inp->inp_faddr != INADDR_ANY &&
			    (inp->inp_faddr != ip.ip_src ||
			     inp->inp_fport != uh.uh_sport))
				continue;
			if (lastinp != NULL && (last = m_copym(m, hlen +
			    (int)sizeof(uh), M_COPYALL, M_DONTWAIT)) != NULL)
				udp_deliver(lastinp, last, ip.ip_src,
				    uh.uh_sport, st);
			lastinp = inp;
		}
		if (lastinp == NULL) {
			st->udps_noportbcast++;
			goto drop;
		}
		m_adj(m, hlen + (int)sizeof(uh));
		udp_deliver(lastinp, m, ip.ip_src, uh.uh_sport, st);
		return;
	}

	struct inpcb *match = NULL;
	for (struct inpcb *inp = is->is_udb; inp; inp = inp->inp_next) {
		if (inp->inp_lport != uh.uh_dport)
			continue;
		if (inp->inp_faddr != INADDR_ANY) {
			if (inp->inp_faddr == ip.ip_src &&
			    inp->inp_fport == uh.uh_sport &&
			    (inp->inp_laddr == INADDR_ANY ||
			     inp->inp_laddr == ip.ip_dst)) {
				match = inp;
				break;		/* exact: best possible */
			}
			continue;
		}
		if (inp->inp_laddr == ip.ip_dst)
			match = inp;
		else if (inp->inp_laddr == INADDR_ANY && match == NULL)
			match = inp;
	}
	if (match == NULL) {
		st->udps_noport++;
		icmp_error(ns, m, ICMP_UNREACH, ICMP_UNREACH_PORT, false);
		return;
	}
	m_adj(m, hlen + (int)sizeof(uh));
	udp_deliver(match, m, ip.ip_src, uh.uh_sport, st);
	return;
drop:
	m_freem(m);
}

void
udp_ctlinput(struct netstack *ns, int code, uint32_t dst,
    const struct udphdr *uh, uint32_t src)
{
	/* Only connected sockets hear of errors (as Linux and BSD do). */
	if (code != ICMP_UNREACH_PORT && code != ICMP_UNREACH_HOST &&
	    code != ICMP_UNREACH_NET && code != ICMP_UNREACH_PROTOCOL)
		return;
	for (struct inpcb *inp = inet_stack(ns)->is_udb; inp; inp = inp->inp_next)
		if (inp->inp_faddr == dst && inp->inp_fport == uh->uh_dport &&
		    inp->inp_lport == uh->uh_sport &&
		    (inp->inp_laddr == INADDR_ANY || inp->inp_laddr == src)) {
			inp->inp_socket->so_error =
			    code == ICMP_UNREACH_PORT ? ECONNREFUSED :
			    code == ICMP_UNREACH_NET ? ENETUNREACH : EHOSTUNREACH;
			sowakeup(inp->inp_socket);
		}
}

int
in_pcbbind_port(struct inpcb **list, struct inpcb *inp, uint32_t laddr,
    uint16_t lport, bool reuse)
{
	if (lport == 0) {
		unsigned span = UDP_EPHEMERAL_HI - UDP_EPHEMERAL_LO + 1;
		unsigned start = cprng_fast32() % span;
		for (unsigned i = 0; i < span; i++) {
			uint16_t p = htons((uint16_t)(UDP_EPHEMERAL_LO +
			    (start + i) % span));
			if (in_pcbbind_port(list, inp, laddr, p, false) == 0)
				return 0;
		}
		return EADDRINUSE;
	}
	for (struct inpcb *o = *list; o != NULL; o = o->inp_next) {
		if (o == inp || o->inp_lport != lport)
			continue;
		if (o->inp_laddr != laddr && o->inp_laddr != INADDR_ANY &&
		    laddr != INADDR_ANY)
			continue;
		if (reuse && (o->inp_socket->so_options & SO_REUSEADDR_F))
			continue;
		return EADDRINUSE;
	}
	inp->inp_laddr = laddr;
	inp->inp_lport = lport;
	return 0;
}

static int
udp_attach(struct socket *so)
{
	struct inet_stack *is = inet_stack(so->so_stack);
	struct inpcb *inp = kmem_zalloc(sizeof(*inp), KM_SLEEP);
	inp->inp_socket = so;
	inp->inp_next = is->is_udb;
	is->is_udb = inp;
	so->so_pcb = inp;
	so->so_rcv.sb_hiwat = UDP_RCVBUF;
	so->so_snd.sb_hiwat = UDP_MAXDGRAM;
	return 0;
}

static void
udp_detach(struct socket *so)
{
	struct inet_stack *is = inet_stack(so->so_stack);
	struct inpcb *inp = so->so_pcb;
	for (struct inpcb **pp = &is->is_udb; *pp; pp = &(*pp)->inp_next)
		if (*pp == inp) {
			*pp = inp->inp_next;
			break;
		}
	kmem_free(inp, sizeof(*inp));
	so->so_pcb = NULL;
}

static int
udp_bind(struct socket *so, const struct sockaddr_in_k *sin)
{
	struct netstack *ns = so->so_stack;
	struct inpcb *inp = so->so_pcb;
	if (inp->inp_lport != 0)
		return EINVAL;
	if (sin->sin_addr != INADDR_ANY && sin->sin_addr != INADDR_BROADCAST &&
	    !IN_LOOPBACK(sin->sin_addr) &&
	    in_ifaddr_lookup(ns, sin->sin_addr) == NULL)
		return EADDRNOTAVAIL;
	return in_pcbbind_port(&inet_stack(ns)->is_udb, inp, sin->sin_addr,
	    sin->sin_port, (so->so_options & SO_REUSEADDR_F) != 0);
}

static int
udp_connect(struct socket *so, const struct sockaddr_in_k *sin)
{
	struct netstack *ns = so->so_stack;
	struct inpcb *inp = so->so_pcb;
	if (sin->sin_family == AF_UNSPEC) {
		inp->inp_faddr = INADDR_ANY;
		inp->inp_fport = 0;
		so->so_state &= ~SS_ISCONNECTED;
		return 0;
	}
	if (sin->sin_port == 0)
		return EADDRNOTAVAIL;
	uint32_t src;
	int rv = ip_srcaddr(ns, sin->sin_addr, &src);
	if (rv != 0)
		return rv;
	if (inp->inp_lport == 0) {
		rv = in_pcbbind_port(&inet_stack(ns)->is_udb, inp, INADDR_ANY,
		    0, false);
		if (rv != 0)
			return rv;
	}
	inp->inp_faddr = sin->sin_addr;
	inp->inp_fport = sin->sin_port;
	so->so_state |= SS_ISCONNECTED;
	so->so_error = 0;
	return 0;
}

static int
udp_disconnect(struct socket *so)
{
	struct sockaddr_in_k un = { .sin_family = AF_UNSPEC };
	return udp_connect(so, &un);
}

static int
udp_send(struct socket *so, struct mbuf *m, const struct sockaddr_in_k *to)
{
	struct netstack *ns = so->so_stack;
	struct inet_stack *is = inet_stack(ns);
	struct inpcb *inp = so->so_pcb;
	uint32_t dst;
	uint16_t dport;
	int rv;

	if (to != NULL) {
		dst = to->sin_addr;
		dport = to->sin_port;
		if (dport == 0) {
			rv = EINVAL;
			goto out;
		}
	} else if (inp->inp_faddr != INADDR_ANY) {
		dst = inp->inp_faddr;
		dport = inp->inp_fport;
	} else {
		rv = EDESTADDRREQ;
		goto out;
	}
	int len = m->m_pkthdr.len;
	if (len > UDP_MAXDGRAM) {
		rv = EMSGSIZE;
		goto out;
	}
	if (inp->inp_lport == 0 && (rv = in_pcbbind_port(&is->is_udb, inp,
	    INADDR_ANY, 0, false)) != 0)
		goto out;
	uint32_t src = inp->inp_laddr;
	if (src == INADDR_ANY || src == INADDR_BROADCAST) {
		if ((rv = ip_srcaddr(ns, dst, &src)) != 0)
			goto out;
	}
	M_PREPEND(m, (int)sizeof(struct udphdr), M_DONTWAIT);
	if (m == NULL)
		return ENOBUFS;
	struct udphdr *uh = mtod(m, struct udphdr *);
	uh->uh_sport = inp->inp_lport;
	uh->uh_dport = dport;
	uh->uh_ulen = htons((uint16_t)(len + (int)sizeof(*uh)));
	uh->uh_sum = 0;
	uh->uh_sum = in4_cksum(m, IPPROTO_UDP, src, dst, 0, len + 8);
	if (uh->uh_sum == 0)
		uh->uh_sum = 0xffff;
	is->is_udp.udps_opackets++;
	return ip_output(ns, m, src, dst, IPPROTO_UDP, IPDEFTTL, 0,
	    (so->so_options & SO_BROADCAST_F) ? IP_ALLOWBROADCAST : 0);
out:
	m_freem(m);
	return rv;
}

static void
udp_sockaddr(struct socket *so, struct sockaddr_in_k *sin)
{
	struct inpcb *inp = so->so_pcb;
	sin->sin_family = AF_INET;
	sin->sin_port = inp->inp_lport;
	sin->sin_addr = inp->inp_laddr;
	/* As Linux: a connected socket reports the source it uses. */
	if (sin->sin_addr == INADDR_ANY && inp->inp_faddr != INADDR_ANY)
		(void)ip_srcaddr(so->so_stack, inp->inp_faddr, &sin->sin_addr);
}

static void
udp_peeraddr(struct socket *so, struct sockaddr_in_k *sin)
{
	struct inpcb *inp = so->so_pcb;
	sin->sin_family = AF_INET;
	sin->sin_port = inp->inp_fport;
	sin->sin_addr = inp->inp_faddr;
}

const struct protosw udp_protosw = {
	.pr_type = SOCK_DGRAM,
	.pr_protocol = IPPROTO_UDP,
	.pr_attach = udp_attach,
	.pr_detach = udp_detach,
	.pr_bind = udp_bind,
	.pr_connect = udp_connect,
	.pr_disconnect = udp_disconnect,
	.pr_send = udp_send,
	.pr_sockaddr = udp_sockaddr,
	.pr_peeraddr = udp_peeraddr,
};
