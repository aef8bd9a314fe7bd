/*
 * if_loop.c - the loopback interface lo0 of each stack: output queues the
 * packet on its own input queue, and the sending thread delivers it once
 * it lets go of ns_lock (if_input_defer), so a protocol never re-enters
 * itself under ns_lock and no other thread is involved.
 */
#include "net/core/net.h"

static int
looutput(struct ifnet *ifp, struct mbuf *m, uint32_t nexthop)
{
	(void)nexthop;
	int len = m->m_pkthdr.len;
	m->m_flags |= M_LOOP;
	/* The checksum left to us needs neither doing nor verifying. */
	if (m->m_pkthdr.csum_flags & M_CSUM_TCPv4)
		m->m_pkthdr.csum_flags = (m->m_pkthdr.csum_flags &
		    ~M_CSUM_TCPv4) | M_CSUM_DATA_OK;
	NET_ATOMIC_INC(&ifp->if_data.ifi_opackets);
	NET_ATOMIC_ADD(&ifp->if_data.ifi_obytes, len);
	m->m_pkthdr.rcvif = ifp;
	if (ifq_enqueue(&ifp->if_rcv, m) != 0) {
		NET_ATOMIC_INC(&ifp->if_data.ifi_iqdrops);
		return ENOBUFS;
	}
	if_input_defer(ifp);
	return 0;
}

static void
loinput(struct ifnet *ifp, struct mbuf *m)
{
	NET_ATOMIC_INC(&ifp->if_data.ifi_ipackets);
	NET_ATOMIC_ADD(&ifp->if_data.ifi_ibytes, m->m_pkthdr.len);
	net_inet_input(ifp, m);
}

static void
lostart(struct ifnet *ifp)
{
	ifq_purge(&ifp->if_snd);	/* nothing is ever queued there */
}

int
loop_attach(struct netstack *ns, struct ifnet **ifpp)
{
	struct ifnet *ifp = kmem_zalloc(sizeof(*ifp), KM_SLEEP);
	ifp->if_type = IFT_LOOP;
	ifp->if_mtu = 16384;
	ifp->if_capenable = IFCAP_CSUM_TCPv4_Tx;
	ifp->if_output = looutput;
	ifp->if_input = loinput;
	ifp->if_start = lostart;
	int rv = if_attach(ns, ifp, "lo");
	if (rv != 0) {
		kmem_free(ifp, sizeof(*ifp));
		return rv;
	}
	ifp->if_flags = IFF_LOOPBACK;
	if_setup(ifp, true);
	rv = if_setaddr(ifp, htonl(0x7f000001), in_plen2mask(8));
	*ifpp = ifp;
	return rv;
}

void
loop_detach(struct ifnet *ifp)
{
	if_detach(ifp);
	kmem_free(ifp, sizeof(*ifp));
}
