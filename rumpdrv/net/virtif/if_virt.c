/*
 * if_virt.c - the "virtif" component: an Ethernet interface over a
 * hypercall packet port (tap, AF_PACKET, in-process wire).  Received frames
 * stay in the port's buffers and become external mbuf storage (no copy);
 * they go back to the port when the last mbuf referring to them is freed
 * (or, when over half the port's buffers are lent out, are copied).
 * The port's receive thread feeds if_rcv and runs the input path.  A port
 * that can deliver in the sender's thread (the in-process wire) has no
 * receive thread: its frames are queued and the input runs in the sending
 * thread once that holds no stack lock (if_input_defer), so a round trip
 * between two stacks involves no thread hand-off but the socket wakeups.
 * Output gathers an mbuf chain into one hyp_pkt_send, on host ports after
 * the sending thread let go of ns_lock (if_txdefer); on ports that take
 * it, the TCP checksum is left to the port (IFCAP_CSUM_TCPv4_Tx), so is
 * cutting 64 KB TCP segments into MTU-sized ones (IFCAP_TSOv4), and
 * frames whose checksum a sender in this process left undone arrive
 * marked M_CSUM_DATA_OK.  A port that reads the stack's memory itself
 * (HYP_PKT_CAP_TXREF: DPDK) is lent the chain instead of a copy.  The
 * softc's fields are constant after attach except sc_frames and sc_dying
 * (atomic) and the frame tap (see below).
 */
#include <krank/hyp.h>
#include <krank/hyp_relax.h>

#include "net/ether/if_ether.h"
#include "net/krs_net.h"

#define VIRT_MAXSEG 64			/* hyp_pkt_send's limit */

struct virtif_softc {
	struct ifnet sc_if;
	struct hyp_pkt *sc_pkt;
	struct hyp_pkt_info sc_info;
	bool sc_direct;			/* input arrives in senders' threads */
	unsigned sc_frames;		/* atomic: frames lent to mbufs */
	unsigned sc_dying;		/* atomic: close when sc_frames is 0 */
	/* The frame tap (krs_if_capture).  sc_tap_fn is read and set
	 * atomically; a caller announces itself in sc_tap_busy before it
	 * loads sc_tap_fn, and krs_if_capture_stop clears sc_tap_fn before
	 * it waits for sc_tap_busy to drain (both seq_cst, Dekker-style), so
	 * no call can start on a tap that stop has returned for. */
	krs_if_tap_fn *sc_tap_fn;
	void *sc_tap_arg;
	unsigned sc_tap_busy;
	kmutex_t sc_tap_lock;		/* serialises set and stop */
};

static void
virt_tap(struct virtif_softc *sc, int dir, const struct krs_iovec *iov,
    unsigned niov, size_t len)
{
	__atomic_add_fetch(&sc->sc_tap_busy, 1, __ATOMIC_SEQ_CST);
	krs_if_tap_fn *fn = __atomic_load_n(&sc->sc_tap_fn, __ATOMIC_SEQ_CST);
	if (fn != NULL)
		fn(__atomic_load_n(&sc->sc_tap_arg, __ATOMIC_ACQUIRE), dir, iov,
		    niov, len);
	__atomic_sub_fetch(&sc->sc_tap_busy, 1, __ATOMIC_RELEASE);
}

/*
 * Frames sent from the stack's own buffers (a port with
 * HYP_PKT_CAP_TXREF) come back here from whichever thread the port
 * frees them in (its own, or a peer's that received them), which may
 * not enter the kernel; the next send or receive of any port frees
 * them.  A lock-free stack: pushed one at a time, taken whole.
 */
static struct mbuf *virt_lent_back;

static void
virt_txdone(void *arg, void *cookie)
{
	struct mbuf *m = cookie;
	struct mbuf *top = __atomic_load_n(&virt_lent_back, __ATOMIC_RELAXED);

	(void)arg;
	do
		m->m_nextpkt = top;
	while (!__atomic_compare_exchange_n(&virt_lent_back, &top, m, true,
	    __ATOMIC_RELEASE, __ATOMIC_RELAXED));
}

static void
virt_lent_reap(void)
{
	if (__atomic_load_n(&virt_lent_back, __ATOMIC_RELAXED) == NULL)
		return;
	struct mbuf *m = __atomic_exchange_n(&virt_lent_back, NULL,
	    __ATOMIC_ACQUIRE);
	while (m != NULL) {
		struct mbuf *next = m->m_nextpkt;
		m->m_nextpkt = NULL;
		m_freem(m);
		m = next;
	}
}

/* The zero-cost test on the paths: one load, predicted not taken. */
#define VIRT_TAPPED(sc) \
	__builtin_expect(__atomic_load_n(&(sc)->sc_tap_fn, __ATOMIC_RELAXED) != NULL, 0)

static void
virt_release(struct virtif_softc *sc)
{
	hyp_pkt_close(sc->sc_pkt);
	mutex_destroy(&sc->sc_tap_lock);
	kmem_free(sc, sizeof(*sc));
}

static void
virt_frame_free(void *buf, size_t size, void *arg, void *arg2)
{
	struct virtif_softc *sc = arg;
	struct hyp_pkt_frame fr = { .data = buf, .len = size, .buf = arg2 };
	hyp_pkt_frame_free(sc->sc_pkt, &fr);
	if (__atomic_sub_fetch(&sc->sc_frames, 1, __ATOMIC_ACQ_REL) == 0 &&
	    __atomic_load_n(&sc->sc_dying, __ATOMIC_ACQUIRE))
		virt_release(sc);
}

static void
virt_rx(void *arg, struct hyp_pkt_frame *frames, unsigned n)
{
	struct virtif_softc *sc = arg;
	struct ifnet *ifp = &sc->sc_if;
	/* Only a port that carries undone checksums may vouch for frames. */
	unsigned trust = (sc->sc_info.caps & HYP_PKT_CAP_CSUM) ?
	    HYP_PKT_FRAME_CSUM_OK : 0;
	virt_lent_reap();
	for (unsigned i = 0; i < n; i++) {
		if (VIRT_TAPPED(sc)) {
			struct krs_iovec v = { frames[i].data, frames[i].len };
			virt_tap(sc, KRS_TAP_IN, &v, 1, frames[i].len);
		}
		/* Lend frames while the port has buffers to spare; under
		 * pressure (frames held in reassembly or socket buffers) copy
		 * and give the buffer straight back, so held data can never
		 * starve the port of receive buffers. */
		if (__atomic_load_n(&sc->sc_frames, __ATOMIC_RELAXED) >
		    sc->sc_info.nbufs / 2) {
			struct mbuf *c = m_devget(frames[i].data,
			    (int)frames[i].len, 0, ifp);
			unsigned fl = frames[i].flags & trust;
			hyp_pkt_frame_free(sc->sc_pkt, &frames[i]);
			if (c == NULL)
				NET_ATOMIC_INC(&ifp->if_data.ifi_iqdrops);
			else {
				if (fl & HYP_PKT_FRAME_CSUM_OK)
					c->m_pkthdr.csum_flags |= M_CSUM_DATA_OK;
				if_input_enqueue(ifp, c);
			}
			continue;
		}
		struct mbuf *m = m_gethdr(M_DONTWAIT, MT_DATA);
		if (m == NULL || m_extadd(m, frames[i].data, frames[i].len,
		    virt_frame_free, sc, frames[i].buf) != 0) {
			if (m != NULL)
				m_free(m);
			hyp_pkt_frame_free(sc->sc_pkt, &frames[i]);
			NET_ATOMIC_INC(&ifp->if_data.ifi_iqdrops);
			continue;
		}
		__atomic_add_fetch(&sc->sc_frames, 1, __ATOMIC_RELAXED);
		m->m_len = m->m_pkthdr.len = (int)frames[i].len;
		if (frames[i].flags & trust)
			m->m_pkthdr.csum_flags |= M_CSUM_DATA_OK;
		if_input_enqueue(ifp, m);
	}
	if (sc->sc_direct)
		if_input_defer(ifp);	/* we may be in a sender's thread */
	else
		if_input_process(ifp);
}

static void
virt_start(struct ifnet *ifp)
{
	struct virtif_softc *sc = ifp->if_softc;
	struct rumpuser_iovec iov[VIRT_MAXSEG];
	struct mbuf *m;

	virt_lent_reap();
	while ((m = ifq_dequeue(&ifp->if_snd)) != NULL) {
		size_t niov = 0;
		struct mbuf *n;
		for (n = m; n != NULL && niov < VIRT_MAXSEG; n = n->m_next)
			if (n->m_len > 0) {
				iov[niov].iov_base = n->m_data;
				iov[niov].iov_len = (size_t)n->m_len;
				niov++;
			}
		if (n != NULL) {
			/* Too many pieces: send a contiguous copy. */
			struct mbuf *c = m_dup(m, 0, M_COPYALL, M_DONTWAIT);
			if (c != NULL) {
				c->m_pkthdr.csum_flags = m->m_pkthdr.csum_flags;
				c->m_pkthdr.csum_data = m->m_pkthdr.csum_data;
			}
			m_freem(m);
			if ((m = c) == NULL) {
				NET_ATOMIC_INC(&ifp->if_data.ifi_oerrors);
				continue;
			}
			niov = 0;
			for (n = m; n != NULL && niov < VIRT_MAXSEG; n = n->m_next) {
				iov[niov].iov_base = n->m_data;
				iov[niov].iov_len = (size_t)n->m_len;
				niov++;
			}
		}
		int len = m->m_pkthdr.len;
		if (VIRT_TAPPED(sc)) {
			struct krs_iovec tv[VIRT_MAXSEG];
			for (size_t j = 0; j < niov; j++) {
				tv[j].iov_base = iov[j].iov_base;
				tv[j].iov_len = iov[j].iov_len;
			}
			virt_tap(sc, KRS_TAP_OUT, tv, (unsigned)niov, (size_t)len);
		}
		struct hyp_pkt_txmeta meta = { 0, 0, 0, 0, 0 };
		if (m->m_pkthdr.csum_flags & M_CSUM_TCPv4) {
			/* IPv4 after the Ethernet header; the checksum is at
			 * csum_data in the transport header. */
			uint8_t vhl;
			m_copydata(m, ETHER_HDR_LEN, 1, &vhl);
			meta.flags = HYP_PKT_TX_CSUM;
			meta.csum_start = (uint16_t)(ETHER_HDR_LEN + (vhl & 0x0f) * 4);
			meta.csum_offset = (uint16_t)m->m_pkthdr.csum_data;
		}
		if (m->m_pkthdr.csum_flags & M_CSUM_TSOv4) {
			/* The TCP header's length is in its data offset. */
			uint8_t off;
			m_copydata(m, meta.csum_start + 12, 1, &off);
			meta.flags |= HYP_PKT_TX_TSO;
			meta.gso_size = (uint16_t)m->m_pkthdr.segsz;
			meta.hdr_len = (uint16_t)(meta.csum_start + (off >> 4) * 4);
		}
		int rv;
		if ((sc->sc_info.caps & HYP_PKT_CAP_TXREF) && meta.flags == 0) {
			/* The port reads the chain where it is and hands it
			 * back (virt_txdone) when done with it. */
			if ((rv = hyp_pkt_send_ref(sc->sc_pkt, iov, niov,
			    virt_txdone, NULL, m)) == 0)
				m = NULL;
		} else
			rv = hyp_pkt_send_meta(sc->sc_pkt, iov, niov, &meta);
		if (rv == 0) {
			NET_ATOMIC_INC(&ifp->if_data.ifi_opackets);
			NET_ATOMIC_ADD(&ifp->if_data.ifi_obytes, len);
		} else
			NET_ATOMIC_INC(&ifp->if_data.ifi_oerrors);
		if (m != NULL)
			m_freem(m);
	}
}

/* Run to completion: receive in the calling thread (a socket waiter). */
static int
virt_poll(struct ifnet *ifp)
{
	struct virtif_softc *sc = ifp->if_softc;
	return hyp_pkt_rx_poll(sc->sc_pkt);
}

static unsigned
virt_rxqueues(struct ifnet *ifp, uint64_t *rx, unsigned max)
{
	struct virtif_softc *sc = ifp->if_softc;
	struct hyp_pkt_queue_stats qs[16];
	unsigned n = hyp_pkt_queue_stats(sc->sc_pkt, qs, 16);
	for (unsigned q = 0; q < n && q < max && q < 16; q++)
		rx[q] = qs[q].rx_frames;
	return n;
}

static void
virt_stop(struct ifnet *ifp)
{
	struct virtif_softc *sc = ifp->if_softc;
	hyp_pkt_set_rx(sc->sc_pkt, NULL, NULL);
}

static void
virt_destroy(struct ifnet *ifp)
{
	struct virtif_softc *sc = ifp->if_softc;
	if_detach(ifp);		/* stops the receive thread first */
	/* Frames may still sit in socket buffers: the last one to be freed
	 * closes the port. */
	__atomic_store_n(&sc->sc_dying, 1, __ATOMIC_RELEASE);
	__atomic_add_fetch(&sc->sc_frames, 1, __ATOMIC_ACQ_REL);
	if (__atomic_sub_fetch(&sc->sc_frames, 1, __ATOMIC_ACQ_REL) == 0)
		virt_release(sc);
}

static int
virt_attach(struct netstack *ns, const char *spec, struct ifnet **ifpp)
{
	struct virtif_softc *sc = kmem_zalloc(sizeof(*sc), KM_SLEEP);
	int rv = hyp_pkt_open(spec, &sc->sc_pkt);
	if (rv != 0) {
		kmem_free(sc, sizeof(*sc));
		klog(LOG_WARNING, "virtif: %s: cannot open the port (error %d)",
		    spec, rv);
		return rv;
	}
	hyp_pkt_info(sc->sc_pkt, &sc->sc_info);
	mutex_init(&sc->sc_tap_lock, MUTEX_DEFAULT, IPL_NONE);
	struct ifnet *ifp = &sc->sc_if;
	ifp->if_softc = sc;
	ifp->if_mtu = sc->sc_info.mtu;
	if (sc->sc_info.caps & HYP_PKT_CAP_CSUM)
		ifp->if_capenable |= IFCAP_CSUM_TCPv4_Tx;
	if ((sc->sc_info.caps & (HYP_PKT_CAP_CSUM | HYP_PKT_CAP_TSO)) ==
	    (HYP_PKT_CAP_CSUM | HYP_PKT_CAP_TSO) &&
	    sc->sc_info.gso_max > ETHER_HDR_LEN + ifp->if_mtu) {
		ifp->if_capenable |= IFCAP_TSOv4;
		ifp->if_tsomax = sc->sc_info.gso_max - ETHER_HDR_LEN;
		if (ifp->if_tsomax > 65535)
			ifp->if_tsomax = 65535;
	}
	ether_ifattach(ifp, sc->sc_info.lladdr);
	ifp->if_start = virt_start;
	/* A send to the host waits for no stack lock; the wire's send is a
	 * copy into the peer's queue, cheaper done at once. */
	ifp->if_txdefer = !(sc->sc_info.caps & HYP_PKT_CAP_DIRECT);
	ifp->if_stop = virt_stop;
	ifp->if_rxqueues = virt_rxqueues;
	ifp->if_destroy = virt_destroy;
	if ((rv = if_attach(ns, ifp, "virt")) != 0) {
		arp_ifdetach(ifp);
		virt_release(sc);
		return rv;
	}
	sc->sc_direct = (sc->sc_info.caps & HYP_PKT_CAP_DIRECT) != 0;
	/* A port any thread may poll (DPDK) is received from by the threads
	 * that wait on sockets while they spin; its receive thread stands
	 * aside while they do: without a timeout when running to completion,
	 * where the clock thread watches the pollers (kern_poll_watch). */
	int poll = (sc->sc_info.caps & HYP_PKT_CAP_POLL) != 0;
	if (poll && kern_poll_forever)
		hyp_pkt_rx_park_ns(sc->sc_pkt, kern_poll_beat(), 0);
	else if (poll)
		hyp_pkt_rx_park(sc->sc_pkt, kern_poll_beat());
	if ((rv = hyp_pkt_set_rx_flags(sc->sc_pkt, virt_rx, sc,
	    HYP_PKT_RX_DIRECT | HYP_PKT_RX_CSUM)) != 0) {
		virt_destroy(ifp);
		return rv;
	}
	if (poll) {
		ifp->if_poll = virt_poll;
		if (if_poll_register(ifp) != 0) {
			hyp_pkt_rx_park(sc->sc_pkt, NULL);
			klog(LOG_NOTICE, "virtif: %s: %d interfaces are polled "
			    "already; its receive thread serves it alone",
			    ifp->if_xname, IF_POLLMAX);
		}
	}
	*ifpp = ifp;
	return 0;
}

KRS_EXPORT int
krs_if_virt_attach(const char *spec, char *name, size_t namelen)
{
	struct netstack *ns = netstack_cur();
	struct ifnet *ifp;
	if (spec == NULL)
		return krs_fail(EFAULT);
	if (ns == NULL || !component_is_up("virtif"))
		return krs_fail(ENXIO);
	int rv = virt_attach(ns, spec, &ifp);
	if (rv != 0)
		return krs_fail(rv);
	if (name != NULL && namelen > 0)
		strlcpy_k(name, ifp->if_xname, namelen);
	return 0;
}

KRS_EXPORT int
krs_if_virt_detach(const char *ifname)
{
	struct netstack *ns = netstack_cur();
	if (ns == NULL)
		return krs_fail(ENXIO);
	mutex_enter(&ns->ns_lock);
	struct ifnet *ifp = if_byname(ns, ifname);
	mutex_exit(&ns->ns_lock);
	if (ifp == NULL || ifp->if_destroy != virt_destroy)
		return krs_fail(ENXIO);
	virt_destroy(ifp);
	return 0;
}

KRS_EXPORT int
krs_if_virt_adopt_tap(const char *device, int fd)
{
	if (device == NULL)
		return krs_fail(EFAULT);
	int rv = hyp_pkt_tap_adopt(device, fd);
	return rv != 0 ? krs_fail(rv) : 0;
}

/* The virtif softc of ifname in the current stack, or NULL. */
static struct virtif_softc *
virt_byname(const char *ifname)
{
	struct netstack *ns = netstack_cur();
	if (ns == NULL || ifname == NULL)
		return NULL;
	mutex_enter(&ns->ns_lock);
	struct ifnet *ifp = if_byname(ns, ifname);
	mutex_exit(&ns->ns_lock);
	if (ifp == NULL || ifp->if_destroy != virt_destroy)
		return NULL;
	return ifp->if_softc;
}

KRS_EXPORT int
krs_if_capture(const char *ifname, krs_if_tap_fn *fn, void *arg)
{
	if (fn == NULL)
		return krs_fail(EINVAL);
	struct virtif_softc *sc = virt_byname(ifname);
	if (sc == NULL)
		return krs_fail(ENXIO);
	mutex_enter(&sc->sc_tap_lock);
	if (__atomic_load_n(&sc->sc_tap_fn, __ATOMIC_ACQUIRE) != NULL) {
		mutex_exit(&sc->sc_tap_lock);
		return krs_fail(EBUSY);
	}
	__atomic_store_n(&sc->sc_tap_arg, arg, __ATOMIC_RELEASE);
	__atomic_store_n(&sc->sc_tap_fn, fn, __ATOMIC_SEQ_CST);
	mutex_exit(&sc->sc_tap_lock);
	return 0;
}

KRS_EXPORT int
krs_if_capture_stop(const char *ifname)
{
	struct virtif_softc *sc = virt_byname(ifname);
	if (sc == NULL)
		return krs_fail(ENXIO);
	mutex_enter(&sc->sc_tap_lock);
	__atomic_store_n(&sc->sc_tap_fn, NULL, __ATOMIC_SEQ_CST);
	/* Calls that loaded the old fn finish quickly (they only copy). */
	while (__atomic_load_n(&sc->sc_tap_busy, __ATOMIC_SEQ_CST) != 0)
		hyp_cpu_relax();
	mutex_exit(&sc->sc_tap_lock);
	return 0;
}

static int
virtif_init(void)
{
	return 0;
}

static void
virtif_fini(void)
{
	/* Interfaces go with their stacks (netstack_destroy). */
}

RUMPDRV_COMPONENT(virtif, "virtif", "net,ether", virtif_init, virtif_fini);
