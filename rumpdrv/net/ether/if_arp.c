/*
 * if_arp.c - ARP (RFC 826) for IPv4 over Ethernet: a per-interface cache
 * with lifetimes, a bounded queue of packets waiting for a resolution,
 * retries, replies for our address, duplicate-address detection on
 * input, and a gratuitous announcement when the address changes.  The
 * cache (struct arptab, ifp->if_l2) is protected by the stack's ns_lock.
 */
#include "net/ether/if_ether.h"

#define LLE_INCOMPLETE	0
#define LLE_REACHABLE	1

struct llentry {
	struct llentry *la_next;
	uint32_t la_addr;		/* network order */
	uint8_t la_mac[ETHER_ADDR_LEN];
	uint8_t la_state;
	uint8_t la_asked;		/* requests sent while incomplete */
	uint64_t la_expire;		/* slow-timer tick */
	struct mbuf *la_hold;		/* pending packets (m_nextpkt) */
	int la_nhold;
};

struct arptab {
	struct llentry *at_head;
	int at_count;
	uint64_t at_duplog;		/* next tick a conflict may be logged */
};

int
arp_ifattach(struct ifnet *ifp)
{
	ifp->if_l2 = kmem_zalloc(sizeof(struct arptab), KM_SLEEP);
	return 0;
}

static void
lle_free(struct llentry *la)
{
	m_freem_list(la->la_hold);
	kmem_free(la, sizeof(*la));
}

void
arp_ifdetach(struct ifnet *ifp)
{
	struct arptab *at = ifp->if_l2;
	if (at == NULL)
		return;
	while (at->at_head != NULL) {
		struct llentry *la = at->at_head;
		at->at_head = la->la_next;
		lle_free(la);
	}
	kmem_free(at, sizeof(*at));
	ifp->if_l2 = NULL;
}

static struct llentry *
lle_lookup(struct arptab *at, uint32_t addr)
{
	for (struct llentry *la = at->at_head; la != NULL; la = la->la_next)
		if (la->la_addr == addr)
			return la;
	return NULL;
}

static void
lle_remove(struct arptab *at, struct llentry *victim)
{
	for (struct llentry **pp = &at->at_head; *pp != NULL;
	    pp = &(*pp)->la_next)
		if (*pp == victim) {
			*pp = victim->la_next;
			at->at_count--;
			lle_free(victim);
			return;
		}
}

static struct llentry *
lle_create(struct ifnet *ifp, uint32_t addr)
{
	struct arptab *at = ifp->if_l2;
	if (at->at_count >= ARP_MAXENTRIES) {
		/* Evict the entry closest to expiry (incomplete ones first). */
		struct llentry *victim = at->at_head;
		for (struct llentry *la = at->at_head; la; la = la->la_next)
			if (la->la_expire < victim->la_expire)
				victim = la;
		lle_remove(at, victim);
	}
	struct llentry *la = kmem_zalloc(sizeof(*la), KM_NOSLEEP);
	if (la == NULL)
		return NULL;
	la->la_addr = addr;
	la->la_state = LLE_INCOMPLETE;
	la->la_expire = ifp->if_stack->ns_ticks + ARP_RETRY_TICKS;
	la->la_next = at->at_head;
	at->at_head = la;
	at->at_count++;
	return la;
}

/*
 * Send an Ethernet/IPv4 ARP packet from ifp's link address and sip to tha
 * (NULL: zeros) and tip, in a frame to dst.  ns_lock held.
 */
static void
arp_output(struct ifnet *ifp, int op, uint32_t sip, const uint8_t *tha,
    const uint8_t *tip, const uint8_t *dst)
{
	struct mbuf *m = m_gethdr(M_DONTWAIT, MT_DATA);
	if (m == NULL)
		return;
	m_align(m, (int)sizeof(struct ether_arp) + ETHER_HDR_LEN);
	m->m_data += ETHER_HDR_LEN;
	m->m_len = m->m_pkthdr.len = sizeof(struct ether_arp);
	struct ether_arp *ea = mtod(m, struct ether_arp *);
	ea->ar_hrd = htons(1);
	ea->ar_pro = htons(ETHERTYPE_IP);
	ea->ar_hln = ETHER_ADDR_LEN;
	ea->ar_pln = 4;
	ea->ar_op = htons((uint16_t)op);
	memcpy(ea->arp_sha, ifp->if_lladdr, ETHER_ADDR_LEN);
	memcpy(ea->arp_spa, &sip, 4);
	if (tha != NULL)
		memcpy(ea->arp_tha, tha, ETHER_ADDR_LEN);
	else
		memset(ea->arp_tha, 0, ETHER_ADDR_LEN);
	memcpy(ea->arp_tpa, tip, 4);
	etherstat_get(ifp->if_stack)->arp_tx++;
	ether_output_frame(ifp, m, dst, ETHERTYPE_ARP);
}

void
arp_request(struct ifnet *ifp, uint32_t sip, uint32_t tip)
{
	arp_output(ifp, ARPOP_REQUEST, sip, NULL, (const uint8_t *)&tip,
	    etherbroadcastaddr);
}

int
arpresolve(struct ifnet *ifp, uint32_t nexthop, struct mbuf *m, uint8_t *dst)
{
	struct arptab *at = ifp->if_l2;
	struct etherstat *es = etherstat_get(ifp->if_stack);
	struct llentry *la = lle_lookup(at, nexthop);
	if (la != NULL && la->la_state == LLE_REACHABLE) {
		memcpy(dst, la->la_mac, ETHER_ADDR_LEN);
		return 0;
	}
	if (la == NULL && (la = lle_create(ifp, nexthop)) == NULL) {
		m_freem(m);
		return ENOBUFS;
	}
	/* Hold the packet; the oldest goes when the queue is full. */
	if (la->la_nhold >= ARP_MAXHOLD) {
		struct mbuf *old = la->la_hold;
		la->la_hold = old->m_nextpkt;
		la->la_nhold--;
		m_freem(old);
		es->arp_holddrops++;
	}
	m->m_nextpkt = NULL;
	struct mbuf **pp = &la->la_hold;
	while (*pp != NULL)
		pp = &(*pp)->m_nextpkt;
	*pp = m;
	la->la_nhold++;
	if (la->la_asked == 0) {
		la->la_asked = 1;
		la->la_expire = ifp->if_stack->ns_ticks + ARP_RETRY_TICKS;
		arp_request(ifp, ifp->if_addr, nexthop);
	}
	return EWOULDBLOCK;
}

/* Answer a request (checked by arp_input: Ethernet/IPv4) for our address. */
static void
arp_reply(struct ifnet *ifp, const struct ether_arp *req)
{
	arp_output(ifp, ARPOP_REPLY, ifp->if_addr, req->arp_sha, req->arp_spa,
	    req->arp_sha);
}

void
arp_input(struct ifnet *ifp, struct mbuf *m)
{
	struct etherstat *es = etherstat_get(ifp->if_stack);
	struct ether_arp ea;
	uint32_t spa, tpa;

	es->arp_rx++;
	if (m->m_pkthdr.len < (int)sizeof(ea)) {
		es->arp_bad++;
		goto out;
	}
	m_copydata(m, 0, sizeof(ea), &ea);
	if (ntohs(ea.ar_hrd) != 1 || ntohs(ea.ar_pro) != ETHERTYPE_IP ||
	    ea.ar_hln != ETHER_ADDR_LEN || ea.ar_pln != 4 ||
	    (ntohs(ea.ar_op) != ARPOP_REQUEST &&
	     ntohs(ea.ar_op) != ARPOP_REPLY) || (ea.arp_sha[0] & 1)) {
		es->arp_bad++;
		goto out;
	}
	memcpy(&spa, ea.arp_spa, 4);
	memcpy(&tpa, ea.arp_tpa, 4);
	if (memcmp(ea.arp_sha, ifp->if_lladdr, ETHER_ADDR_LEN) == 0)
		goto out;		/* our own frame echoed */
	if (ifp->if_addr == 0)
		goto out;
	if (spa == ifp->if_addr) {
		es->arp_dupaddr++;
		struct arptab *dat = ifp->if_l2;
		if (ifp->if_stack->ns_ticks < dat->at_duplog)
			goto out;	/* logged recently: count only */
		dat->at_duplog = ifp->if_stack->ns_ticks + 100;
		klog(LOG_WARNING, "net: %s: %02x:%02x:%02x:%02x:%02x:%02x "
		    "claims our address", ifp->if_xname, ea.arp_sha[0],
		    ea.arp_sha[1], ea.arp_sha[2], ea.arp_sha[3], ea.arp_sha[4],
		    ea.arp_sha[5]);
		goto out;
	}
	if (spa == 0 || spa == 0xffffffffu)
		goto out;		/* probes and junk: nothing to learn */
	struct arptab *at = ifp->if_l2;
	struct llentry *la = lle_lookup(at, spa);
	/* RFC 826: update an existing entry; create one only when the
	 * packet is for us. */
	if (la == NULL && tpa == ifp->if_addr)
		la = lle_create(ifp, spa);
	if (la != NULL) {
		memcpy(la->la_mac, ea.arp_sha, ETHER_ADDR_LEN);
		la->la_state = LLE_REACHABLE;
		la->la_asked = 0;
		la->la_expire = ifp->if_stack->ns_ticks + ARP_KEEP_TICKS;
		struct mbuf *hold = la->la_hold;
		la->la_hold = NULL;
		la->la_nhold = 0;
		while (hold != NULL) {
			struct mbuf *next = hold->m_nextpkt;
			hold->m_nextpkt = NULL;
			ether_output_frame(ifp, hold, la->la_mac, ETHERTYPE_IP);
			hold = next;
		}
	}
	if (ntohs(ea.ar_op) == ARPOP_REQUEST && tpa == ifp->if_addr)
		arp_reply(ifp, &ea);
out:
	m_freem(m);
}

void
arp_ifaddr_changed(struct ifnet *ifp)
{
	if (ifp->if_addr == 0 || ifp->if_l2 == NULL)
		return;
	etherstat_get(ifp->if_stack)->arp_gratuitous++;
	arp_request(ifp, ifp->if_addr, ifp->if_addr);
}

void
arp_slowtimo(struct netstack *ns)
{
	struct etherstat *es = etherstat_get(ns);
	for (int i = 0; i < NS_MAXIF; i++) {
		struct ifnet *ifp = ns->ns_ifnet[i];
		if (ifp == NULL || ifp->if_type != IFT_ETHER || ifp->if_l2 == NULL)
			continue;
		struct arptab *at = ifp->if_l2;
		struct llentry *la = at->at_head, *next;
		for (; la != NULL; la = next) {
			next = la->la_next;
			if (la->la_expire > ns->ns_ticks)
				continue;
			if (la->la_state == LLE_REACHABLE) {
				es->arp_expired++;
				lle_remove(at, la);
			} else if (la->la_asked >= ARP_MAXTRIES ||
			    la->la_asked == 0) {
				es->arp_timeouts++;
				es->arp_holddrops += (uint64_t)la->la_nhold;
				lle_remove(at, la);
			} else {
				la->la_asked++;
				la->la_expire = ns->ns_ticks + ARP_RETRY_TICKS;
				arp_request(ifp, ifp->if_addr, la->la_addr);
			}
		}
	}
}

int
arp_lookup(struct ifnet *ifp, uint32_t addr, uint8_t *mac)
{
	struct llentry *la = lle_lookup(ifp->if_l2, addr);
	if (la == NULL || la->la_state != LLE_REACHABLE)
		return 0;
	memcpy(mac, la->la_mac, ETHER_ADDR_LEN);
	return 1;
}

size_t
arp_dump(struct ifnet *ifp, char *buf, size_t len)
{
	size_t off = 0;
	struct arptab *at = ifp->if_l2;
	for (struct llentry *la = at->at_head; la != NULL && off < len;
	    la = la->la_next) {
		const uint8_t *a = (const uint8_t *)&la->la_addr;
		int n = snprintf(buf + off, len - off,
		    "arp %u.%u.%u.%u %02x:%02x:%02x:%02x:%02x:%02x %s %s "
		    "expires %llds held %d\n", a[0], a[1], a[2], a[3],
		    la->la_mac[0], la->la_mac[1], la->la_mac[2], la->la_mac[3],
		    la->la_mac[4], la->la_mac[5], ifp->if_xname,
		    la->la_state == LLE_REACHABLE ? "reachable" : "incomplete",
		    (long long)(la->la_expire - ifp->if_stack->ns_ticks) / 10,
		    la->la_nhold);
		if (n < 0)
			break;
		off += (size_t)n;
	}
	return off < len ? off : len;
}
