/*
 * if_ethersubr.c - the "ether" component: Ethernet input (header checks,
 * destination filter, demultiplexing to IPv4 and ARP) and output (ARP
 * resolution, framing).  Runs under the stack's ns_lock.
 */
#include "net/ether/if_ether.h"

const uint8_t etherbroadcastaddr[ETHER_ADDR_LEN] =
    { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

struct etherstat *
etherstat_get(struct netstack *ns)
{
	return ns->ns_slot[NS_SLOT_ETHER];
}

int
ether_ifattach(struct ifnet *ifp, const uint8_t *lla)
{
	memcpy(ifp->if_lladdr, lla, ETHER_ADDR_LEN);
	ifp->if_type = IFT_ETHER;
	ifp->if_hdrlen = ETHER_HDR_LEN;
	if (ifp->if_mtu == 0)
		ifp->if_mtu = ETHERMTU;
	ifp->if_flags |= IFF_BROADCAST;
	ifp->if_output = ether_output;
	ifp->if_input = ether_input;
	ifp->if_addrchanged = arp_ifaddr_changed;
	ifp->if_detach_l2 = arp_ifdetach;
	return arp_ifattach(ifp);
}

void
ether_input(struct ifnet *ifp, struct mbuf *m)
{
	struct etherstat *es = etherstat_get(ifp->if_stack);
	NET_ATOMIC_INC(&ifp->if_data.ifi_ipackets);
	NET_ATOMIC_ADD(&ifp->if_data.ifi_ibytes, m->m_pkthdr.len);
	if (m->m_pkthdr.len < ETHER_HDR_LEN ||
	    (m = m_pullup(m, ETHER_HDR_LEN)) == NULL) {
		if (m != NULL)
			m_freem(m);
		NET_ATOMIC_INC(&ifp->if_data.ifi_ierrors);
		es->es_runt++;
		return;
	}
	const struct ether_header *eh = mtod(m, const struct ether_header *);
	if (eh->ether_dhost[0] & 1) {
		if (memcmp(eh->ether_dhost, etherbroadcastaddr,
		    ETHER_ADDR_LEN) == 0)
			m->m_flags |= M_BCAST;
		else {
			es->es_mcast++;	/* no multicast groups joined */
			m_freem(m);
			return;
		}
	} else if (memcmp(eh->ether_dhost, ifp->if_lladdr, ETHER_ADDR_LEN)) {
		es->es_notours++;	/* a promiscuous port sees everything */
		m_freem(m);
		return;
	}
	uint16_t type = ntohs(eh->ether_type);
	m_adj(m, ETHER_HDR_LEN);
	switch (type) {
	case ETHERTYPE_IP:
		net_inet_input(ifp, m);
		break;
	case ETHERTYPE_ARP:
		arp_input(ifp, m);
		break;
	default:
		es->es_noproto++;
		NET_ATOMIC_INC(&ifp->if_data.ifi_noproto);
		m_freem(m);
	}
}

int
ether_output_frame(struct ifnet *ifp, struct mbuf *m, const uint8_t *dst,
    uint16_t type)
{
	M_PREPEND(m, ETHER_HDR_LEN, M_DONTWAIT);
	if (m == NULL) {
		NET_ATOMIC_INC(&ifp->if_data.ifi_oerrors);
		return ENOBUFS;
	}
	struct ether_header *eh = mtod(m, struct ether_header *);
	memcpy(eh->ether_dhost, dst, ETHER_ADDR_LEN);
	memcpy(eh->ether_shost, ifp->if_lladdr, ETHER_ADDR_LEN);
	eh->ether_type = htons(type);
	return if_transmit(ifp, m);
}

int
ether_output(struct ifnet *ifp, struct mbuf *m, uint32_t nexthop)
{
	uint8_t dst[ETHER_ADDR_LEN];
	if (!(ifp->if_flags & IFF_UP)) {
		m_freem(m);
		return ENETDOWN;
	}
	if (nexthop == 0xffffffffu || (ifp->if_broadaddr != 0 &&
	    nexthop == ifp->if_broadaddr)) {
		memcpy(dst, etherbroadcastaddr, ETHER_ADDR_LEN);
		m->m_flags |= M_BCAST;
	} else {
		int rv = arpresolve(ifp, nexthop, m, dst);
		if (rv == EWOULDBLOCK)
			return 0;	/* held until the reply comes */
		if (rv != 0)
			return rv;
	}
	return ether_output_frame(ifp, m, dst, ETHERTYPE_IP);
}

static int
ether_attach_stack(struct netstack *ns)
{
	ns->ns_slot[NS_SLOT_ETHER] = kmem_zalloc(sizeof(struct etherstat),
	    KM_SLEEP);
	return 0;
}

static void
ether_detach_stack(struct netstack *ns)
{
	kmem_free(ns->ns_slot[NS_SLOT_ETHER], sizeof(struct etherstat));
}

static const struct netstack_hooks ether_hooks = {
	.nh_name = "ether",
	.nh_slot = NS_SLOT_ETHER,
	.nh_attach = ether_attach_stack,
	.nh_detach = ether_detach_stack,
	.nh_slowtimo = arp_slowtimo,
};

static int
ether_init(void)
{
	return netstack_register(&ether_hooks);
}

static void
ether_fini(void)
{
	netstack_unregister(&ether_hooks);
}

RUMPDRV_COMPONENT(ether, "ether", "net", ether_init, ether_fini);
