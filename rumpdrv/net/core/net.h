/*
 * net.h - the network core shared by every rumpdrv/net component: stack
 * instances (struct netstack, so two stacks can live in one process),
 * interfaces (struct ifnet) with input and output queues and counters,
 * and the IPv4 routing table.
 *
 * Locking: each stack has one lock, ns_lock (NetBSD's softnet_lock), held
 * by every protocol routine of that stack: input from the interface queues
 * up through the transport protocols, output from the sockets down to the
 * interface send queue, and the timers.  Interface queues have their own
 * spinlocks so drivers enqueue without ns_lock; counters are atomic.
 * A thread never holds two stacks' locks: input that arrives in a thread
 * holding one (the in-process wire delivers in the sender's thread) is
 * deferred until that thread lets go of it (if_input_defer).  No thread
 * makes a host call with ns_lock held: frames for an interface whose
 * driver writes to the host (if_txdefer: tap, AF_PACKET, DPDK) wait on
 * if_snd until the thread that queued them lets go of its last stack lock
 * (if_transmit), so other threads never wait on ns_lock for the host.
 */
#ifndef RUMPDRV_NET_NET_H
#define RUMPDRV_NET_NET_H

#include "kern/kern.h"
#include "net/core/mbuf.h"

#define NET_ATOMIC_INC(p)	__atomic_add_fetch((p), 1, __ATOMIC_RELAXED)
#define NET_ATOMIC_ADD(p, v)	__atomic_add_fetch((p), (v), __ATOMIC_RELAXED)

static inline uint16_t
net_htons(uint16_t x) { return __builtin_bswap16(x); }
static inline uint32_t
net_htonl(uint32_t x) { return __builtin_bswap32(x); }
#define htons(x) net_htons(x)
#define ntohs(x) net_htons(x)
#define htonl(x) net_htonl(x)
#define ntohl(x) net_htonl(x)

/* ---- interface queues ---- */

/* ifq_lock protects every field; ifq_drops is only written under it;
 * ifq_len is stored atomically too, for unlocked snapshots. */
struct ifqueue {
	kspin_t ifq_lock;
	struct mbuf *ifq_head;
	struct mbuf *ifq_tail;
	int ifq_len;
	int ifq_maxlen;
	uint64_t ifq_drops;
};
#define IFQ_MAXLEN 512
void ifq_init(struct ifqueue *q, int maxlen);
/* ifq_enqueue - 0, or ENOBUFS when full (m freed, drop counted). */
int ifq_enqueue(struct ifqueue *q, struct mbuf *m);
struct mbuf *ifq_dequeue(struct ifqueue *q);
/* ifq_dequeue_all - detach the whole queue (linked by m_nextpkt). */
struct mbuf *ifq_dequeue_all(struct ifqueue *q);
void ifq_purge(struct ifqueue *q);

/* ---- interfaces ---- */

#define IFNAMSIZ	16
#define IFF_UP		0x0001
#define IFF_BROADCAST	0x0002
#define IFF_LOOPBACK	0x0008
#define IFF_RUNNING	0x0040

#define IFT_ETHER	0x06
#define IFT_LOOP	0x18

/*
 * Capabilities (if_capenable).  IFCAP_CSUM_TCPv4_Tx: output may leave the
 * TCP checksum to the interface (M_CSUM_TCPv4), which completes it or
 * hands the frame to a receiver in this process that trusts it (the wire,
 * lo0).  Checksums of received frames are skipped only for frames the
 * driver marks M_CSUM_DATA_OK, never for a whole interface.
 */
#define IFCAP_CSUM_TCPv4_Tx	0x0001
/* IFCAP_TSOv4: output may hand the interface TCP/IPv4 segments of up to
 * if_tsomax bytes (IP header included), longer than the MTU, to cut into
 * MTU-sized ones (M_CSUM_TSOv4); always with IFCAP_CSUM_TCPv4_Tx. */
#define IFCAP_TSOv4		0x0002

/* Counters: atomic, readable without locks. */
struct if_data {
	uint64_t ifi_ipackets, ifi_ierrors, ifi_opackets, ifi_oerrors;
	uint64_t ifi_ibytes, ifi_obytes, ifi_iqdrops, ifi_oqdrops;
	uint64_t ifi_noproto;		/* unknown protocol */
};

struct netstack;

/*
 * struct ifnet - one interface.  Fields up to if_softc are set at attach
 * and constant after; the address fields and if_flags/if_mtu are protected
 * by the stack's ns_lock.
 */
struct ifnet {
	char if_xname[IFNAMSIZ];
	unsigned if_index;		/* 1.. within its stack */
	struct netstack *if_stack;
	int if_type;			/* IFT_* */
	int if_hdrlen;			/* link header bytes */
	uint8_t if_lladdr[6];
	/* Layer-3 output: consumes m.  nexthop is the IPv4 next hop
	 * (network order).  Called with ns_lock held. */
	int (*if_output)(struct ifnet *, struct mbuf *, uint32_t nexthop);
	/* Drain if_snd into the device.  No locks held but by the caller's
	 * choice; calls are serialised (under ns_lock when !if_txdefer, by
	 * if_sndbusy otherwise), so frames leave in queue order. */
	void (*if_start)(struct ifnet *);
	/* Link-layer input of one packet; ns_lock held; consumes m. */
	void (*if_input)(struct ifnet *, struct mbuf *);
	/* Called (ns_lock held) after the IPv4 address changed. */
	void (*if_addrchanged)(struct ifnet *);
	void (*if_detach_l2)(struct ifnet *);	/* free if_l2; ns_lock held */
	void (*if_stop)(struct ifnet *);	/* driver: stop I/O; no locks */
	void (*if_destroy)(struct ifnet *);	/* driver detach + free */
	/* Optional: frames received per receive queue of the port, into
	 * rx[0 .. min(n, max) - 1]; returns n, its number of queues. */
	unsigned (*if_rxqueues)(struct ifnet *, uint64_t *rx, unsigned max);
	void *if_softc;
	void *if_l2;			/* link-layer state (ARP table); ns_lock */

	unsigned if_flags;		/* ns_lock */
	unsigned if_mtu;		/* ns_lock */
	uint32_t if_addr;		/* IPv4, network order; 0: none; ns_lock */
	uint32_t if_netmask;		/* ns_lock */
	uint32_t if_broadaddr;		/* ns_lock */

	unsigned if_capenable;		/* IFCAP_*; set at attach */
	unsigned if_tsomax;		/* IFCAP_TSOv4: the longest datagram */
	/* Set by the driver before if_attach when if_start makes host calls:
	 * if_transmit then defers if_start until the thread holds no stack
	 * lock.  Constant after attach. */
	bool if_txdefer;
	unsigned if_sndbusy;		/* atomic: a thread runs if_start */
	/* Receive what waits, in the calling thread (which holds no lock);
	 * the frames handed up.  Set by drivers of pollable ports, which
	 * call if_poll_register once input flows. */
	int (*if_poll)(struct ifnet *);
	bool if_polled;			/* registered; set and cleared here */
	unsigned if_pollbusy;		/* atomic: pollers inside if_poll */

	struct ifqueue if_snd;
	struct ifqueue if_rcv;
	struct work if_rcvwork;		/* loopback-style deferred input */
	unsigned if_rcvwork_busy;	/* atomic: work queued */
	struct if_data if_data;
};

/*
 * if_attach - give ifp a name (prefix + unit), link it into stack ns and
 * initialise its queues.  Takes ns_lock.  0, ENOSPC (too many interfaces).
 */
int if_attach(struct netstack *ns, struct ifnet *ifp, const char *prefix);
/* if_detach - remove routes, purge queues, unlink; takes ns_lock. */
void if_detach(struct ifnet *ifp);
/*
 * if_poll_register - run to completion on ifp (if_poll set): a thread
 * that waits on a socket polls every registered interface while it spins
 * (kern_poll_set) instead of waiting for a receive thread's wakeup.
 * 0, or ENOSPC (IF_POLLMAX registered already: ifp keeps its receive
 * thread).  if_detach unregisters, waiting for pollers inside if_poll.
 */
#define IF_POLLMAX 16
int if_poll_register(struct ifnet *ifp);
/*
 * if_input_enqueue - a driver hands a received packet to the stack: queued
 * on if_rcv (dropped and counted when full).  No locks needed.
 */
void if_input_enqueue(struct ifnet *ifp, struct mbuf *m);
/* if_input_process - drain if_rcv under ns_lock (taken here). */
void if_input_process(struct ifnet *ifp);
/* if_input_schedule - have the netisr workqueue call if_input_process. */
void if_input_schedule(struct ifnet *ifp);
/*
 * if_input_defer - a driver queued input on if_rcv in a thread that may
 * hold a stack lock (a direct receive callback runs in the sending
 * thread): if_input_process runs in this thread as soon as it holds no
 * stack lock, or at once on the netisr workqueue when it holds none now
 * (a sender outside the stack).  No locks needed; never blocks.
 */
void if_input_defer(struct ifnet *ifp);
/* The hooks of every ns_lock: count the stack locks a thread holds, and
 * run deferred input when it lets go of the last (net_if.c). */
extern const struct kmutex_hooks netisr_lock_hooks;
/*
 * if_transmit - queue a finished frame on if_snd and start the driver:
 * at once, or (if_txdefer, the caller holding a stack lock) as the calling
 * thread lets go of its last stack lock.  0, ENETDOWN, or ENOBUFS when
 * if_snd is full (m freed, counted in ifi_oqdrops).  ns_lock held.
 */
int if_transmit(struct ifnet *ifp, struct mbuf *m);
struct ifnet *if_byname(struct netstack *ns, const char *name);	/* ns_lock */

/* Configuration; each takes ns_lock.  0 or an errno. */
int if_setaddr(struct ifnet *ifp, uint32_t addr, uint32_t mask);
int if_setmtu(struct ifnet *ifp, unsigned mtu);
int if_setup(struct ifnet *ifp, bool up);

/* ---- routing ---- */

#define RTF_UP		0x1
#define RTF_GATEWAY	0x2
#define RTF_HOST	0x4
#define RTF_CONNECTED	0x8	/* made from an interface address */

/* One route; the table is an array ordered by prefix length, longest
 * first, so the first match is the longest-prefix match.  ns_lock. */
struct rtentry {
	uint32_t rt_dst;		/* network order, masked */
	uint32_t rt_mask;
	int rt_plen;
	uint32_t rt_gateway;		/* RTF_GATEWAY */
	struct ifnet *rt_ifp;
	unsigned rt_flags;
	uint64_t rt_use;
};
#define RT_MAX 256

/* rt_add - 0, EEXIST (same dst/plen), ENOSPC, EINVAL (bad prefix). */
int rt_add(struct netstack *ns, uint32_t dst, int plen, uint32_t gw,
    struct ifnet *ifp, unsigned flags);
int rt_delete(struct netstack *ns, uint32_t dst, int plen);	/* ENOENT */
/* rt_lookup - the longest-prefix match for dst, or NULL.  ns_lock held. */
struct rtentry *rt_lookup(struct netstack *ns, uint32_t dst);
void rt_purge_ifp(struct netstack *ns, struct ifnet *ifp);
uint32_t in_plen2mask(int plen);	/* network order */
int in_mask2plen(uint32_t mask);	/* -1 when not contiguous */

/* ---- stacks ---- */

#define NS_MAXIF	16
#define NS_SLOTS	8	/* per-stack state slots of the components */
enum { NS_SLOT_ETHER, NS_SLOT_INET, NS_SLOT_UDP, NS_SLOT_TCP, NS_SLOT_SOCK };

/*
 * struct netstack - one independent TCP/IP stack (interfaces, routes,
 * protocol state).  ns_lock protects everything in it and in the
 * component state hung off ns_slot[].
 */
struct netstack {
	kmutex_t ns_lock;
	int ns_id;
	char ns_name[16];
	struct ifnet *ns_ifnet[NS_MAXIF];	/* index if_index - 1 */
	struct ifnet *ns_loif;			/* lo0 */
	struct rtentry ns_rt[RT_MAX];
	int ns_nrt;
	void *ns_slot[NS_SLOTS];
	callout_t ns_timer;			/* 100 ms slow timer */
	uint64_t ns_ticks;			/* slow timer runs; ns_lock */
	bool ns_dying;
	/* Deferred input (net_if.c): atomic, no lock. */
	unsigned ns_inpending;			/* if_rcv has input to run */
	unsigned ns_pendrefs;			/* threads that noted it */
	/* Deferred output (net_if.c): atomic, no lock. */
	unsigned ns_outpend;			/* bit if_index - 1: if_snd
						 * waits for its thread */
	unsigned ns_outbusy;			/* threads draining output;
						 * if_detach waits for 0 */
	unsigned ns_ntxdefer;			/* attached if_txdefer
						 * interfaces; none: no output
						 * to drain (the wire, lo0) */
};
_Static_assert(NS_MAXIF <= 32, "ns_outpend has a bit per interface");

/*
 * Components with per-stack state register hooks; attach runs for each
 * stack created afterwards (and for stacks that already exist), under
 * ns_lock.  slowtimo runs every 100 ms under ns_lock.
 */
struct netstack_hooks {
	const char *nh_name;
	int nh_slot;
	int (*nh_attach)(struct netstack *ns);
	void (*nh_detach)(struct netstack *ns);
	void (*nh_slowtimo)(struct netstack *ns);
	/* Optional, without ns_lock, before detach: stop timers that take
	 * ns_lock themselves. */
	void (*nh_stop)(struct netstack *ns);
};
int netstack_register(const struct netstack_hooks *h);
void netstack_unregister(const struct netstack_hooks *h);
/* netstack_create - a new stack with lo0 (127.0.0.1/8) up. */
int netstack_create(const char *name, struct netstack **nsp);
void netstack_destroy(struct netstack *ns);
struct netstack *netstack_byid(int id);
/* netstack_cur - the stack the calling thread selected (default: 0,
 * created on first use); NULL only when out of memory. */
struct netstack *netstack_cur(void);
int netstack_select(int id);
/* in_localaddr - dst is an address of one of ns's interfaces. */
struct ifnet *in_ifaddr_lookup(struct netstack *ns, uint32_t addr);

/* loopback (if_loop.c) */
int loop_attach(struct netstack *ns, struct ifnet **ifpp);
void loop_detach(struct ifnet *ifp);

/* netisr: the workqueue that runs deferred input (net_if.c). */
int netisr_init(void);
void netisr_fini(void);

/*
 * net_inet_input - IPv4 input, installed by the inet component (a stub
 * that drops and counts until then) so lower layers need not link inet.
 * ns_lock held; consumes m.
 */
extern void (*net_inet_input)(struct ifnet *ifp, struct mbuf *m);

int net_dump(struct netstack *ns, char *buf, size_t len);

#endif /* RUMPDRV_NET_NET_H */
