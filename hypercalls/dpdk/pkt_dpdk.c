/*
 * pkt_dpdk.c - the "dpdk:PORT" packet backend: a NIC (or DPDK virtual
 * device) driven by a DPDK poll-mode driver, for hosts configured with
 * --with-dpdk.  PORT is a DPDK device name (a PCI address such as
 * 0000:03:00.0, or a vdev such as net_af_packet0).  In the POSIX host the
 * EAL starts on the first open with the arguments in KRANK_DPDK_EAL
 * (space-separated); the DPDK host (built with KRANK_HOST_DPDK) started
 * it in rumpuser_init, from its own parameters.
 * The POSIX host does not link it: built with KRANK_PKT_MODULE, it is
 * the module krank-pkt-dpdk.so that libkrank-hypercall loads on the first
 * dpdk: open (pkt_module.c), or the archive libkrank-pkt-dpdk.a of static
 * links, and reaches the core only through the table handed to
 * krank_pkt_dpdk_init (the core's functions are hidden).
 * Received frames are handed out in their DPDK mbufs (no copy) and freed
 * back to the port's mempool; hyp_pkt_send copies into one mbuf, and
 * hyp_pkt_send_ref (HYP_PKT_CAP_TXREF) attaches the caller's large
 * pieces to mbufs as external buffers (a software device reads them
 * where they are; a NIC only when they are DPDK memory, whose IO address
 * DPDK knows) and copies only the small ones.  The port may be
 * polled (HYP_PKT_CAP_POLL): a thread waiting for network input receives
 * in its own thread while the receive thread stands aside.  queues=N
 * gives the port N receive and transmit queues (RSS where the device
 * hashes, dpdk_queues): a sender uses its core's transmit queue under
 * that queue's lock, and each receive queue has its own stash here and
 * its own poller state in the core.
 *
 * What a PMD hands up is checked before the stack sees it: an mbuf whose
 * fields disagree (rte_mbuf_check: segment count, lengths), a frame
 * shorter than an Ethernet header, one longer than MTU + 18, or a chain
 * of more than DPDK_MAXSEGS segments is dropped and counted (rx_bad, and
 * per reason in the port, named on stderr the first time); a shorter
 * chain is made contiguous in its first mbuf (the stack takes one
 * contiguous frame), copied only then.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_pause.h>
#include "hyp_pkt_int.h"
#ifdef KRANK_HOST_DPDK
#include "dpdk_int.h"
#endif

#ifdef KRANK_PKT_MODULE
/* The core's functions, through its table (set once, before any open). */
static const struct pkt_core *core;
#define rumpuser__errtrans(e) core->errtrans(e)
#define rumpkern_unsched(nlocks, il) core->unsched(nlocks, il)
#define rumpkern_sched(nlocks, il) core->sched(nlocks, il)
#define rumpuser_dprintf core->dprintf
#endif

#define DPDK_NMBUF 4095
#define DPDK_RING 512
#define DPDK_STASH 32
#define DPDK_MAXSEGS 8			/* longest chain made contiguous, and
					 * longest one hyp_pkt_send_ref makes */
#define DPDK_LEND_MIN 256		/* shorter pieces are copied */

enum { BAD_MBUF, BAD_RUNT, BAD_BIG, BAD_CHAIN, BAD_NREASONS };
static const char *const bad_names[BAD_NREASONS] = {
	"malformed mbuf", "runt frame", "oversized frame", "chain too long",
};

/* A receive queue's frames taken by wait before recv asked: the queue's
 * receiver's only (the core's busy flag of the queue). */
struct dpdk_rxq {
	struct rte_mbuf *stash[DPDK_STASH];
	unsigned nstash, stashpos;
} __attribute__((aligned(64)));

/* A transmit queue: a PMD's tx burst is not thread-safe per queue. */
struct dpdk_txq {
	pthread_mutex_t mtx;
} __attribute__((aligned(64)));

struct dpdk_port {
	uint16_t port;
	unsigned nq;			/* rx and tx queues (queues=N) */
	struct rte_mempool *pool;
	struct dpdk_txq txq[PKT_MAXQ];	/* a sender takes its core's */
	struct dpdk_rxq rxq[PKT_MAXQ];
	_Atomic uint64_t bad[BAD_NREASONS];	/* dropped, per reason */
	_Atomic uint64_t linearized;		/* chains made contiguous */
	int lend;			/* hyp_pkt_send_ref may lend: */
	int lend_soft;			/* a software device (any memory) */
	unsigned lend_segs;		/* longest chain the device sends */
};

/*
 * A lent frame's shared external-buffer info, in the data room of a
 * holder mbuf of the port's pool: the lent segments share it, and the
 * last one freed (by the device, or a peer that received the chain)
 * hands the buffers back.
 */
struct dpdk_lend {
	struct rte_mbuf_ext_shared_info sh;
	struct rte_mbuf *holder;
	hyp_pkt_txdone_fn done;
	void *arg, *cookie;
};

#ifdef KRANK_HOST_DPDK
static int
eal_start(void)
{
	if (rumpuser__dpdk_up())
		return 0;
	rumpuser_dprintf("krank-hypercall-dpdk: dpdk: port opened before "
	    "rumpuser_init started DPDK's EAL\n");
	return NB_ENXIO;
}
#else
static pthread_mutex_t eal_mtx = PTHREAD_MUTEX_INITIALIZER;
static int eal_state;			/* 0 not tried, 1 up, <0 -errno */

static int
eal_start(void)
{
	char *argv[64], *copy = NULL;
	int argc = 0;

	pthread_mutex_lock(&eal_mtx);
	if (eal_state == 0) {
		const char *env = getenv("KRANK_DPDK_EAL");
		argv[argc++] = (char *)"krank";
		if (env != NULL && (copy = strdup(env)) != NULL) {
			char *save = NULL;
			for (char *t = strtok_r(copy, " \t", &save); t != NULL && argc < 63;
			    t = strtok_r(NULL, " \t", &save))
				argv[argc++] = t;
		}
		argv[argc] = NULL;
		/* The EAL keeps pointers into argv: copy stays allocated. */
		int rv = rte_eal_init(argc, argv);
		eal_state = rv < 0 ? -(rte_errno ? rte_errno : EINVAL) : 1;
		if (rv < 0) {
			rumpuser_dprintf("krank-hypercall: DPDK EAL did not start "
			    "(KRANK_DPDK_EAL=\"%s\"): %s\n", env ? env : "",
			    rte_strerror(rte_errno));
			free(copy);
		}
	}
	int st = eal_state;
	pthread_mutex_unlock(&eal_mtx);
	return st == 1 ? 0 : rumpuser__errtrans(-st);
}
#endif

/* RSS hash functions a port asks for, of those the device has: TCP and
 * UDP over IPv4 and IPv6 (flows), and plain IP for the rest. */
#define DPDK_RSS_HF (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP)

/*
 * The number of queues of port (named name) for queues=want (0: not
 * given), and conf's receive mode for them; 0 or a NetBSD errno, said.
 * A device with RSS spreads flows over the queues by its hash.  A NIC
 * without would leave the extra queues idle: one queue, said once.  On a
 * software device (soft: the vdev bus) the other side picks the queue:
 * memif's and ring's peer by the queue it sends on, the tap's Linux by its
 * flow steering (a flow's frames to the queue it last came from);
 * DPDK's af_packet PMD has no RSS but opened all its queue
 * pairs (qpairs=) at probe as sockets of one PACKET_FANOUT_HASH group, so
 * the kernel spreads flows over them and each must be read: such a port
 * takes them all.
 */
static int
dpdk_queues(const char *name, const struct rte_eth_dev_info *di, int soft,
    unsigned want, struct rte_eth_conf *conf, unsigned *nqp)
{
	static atomic_flag said_norss = ATOMIC_FLAG_INIT;
	unsigned maxq = di->max_rx_queues < di->max_tx_queues ?
	    di->max_rx_queues : di->max_tx_queues;
	uint64_t hf = di->flow_type_rss_offloads & DPDK_RSS_HF;
	int fanout = di->driver_name != NULL &&
	    strcmp(di->driver_name, "net_af_packet") == 0;

	if (maxq == 0)
		maxq = 1;
	if (want > maxq) {
		rumpuser_dprintf("krank-hypercall: dpdk: %s: queues=%u, but "
		    "the device has at most %u receive and %u transmit queues "
		    "(driver %s)\n", name, want, di->max_rx_queues,
		    di->max_tx_queues, di->driver_name ? di->driver_name : "?");
		return NB_EINVAL;
	}
	if (fanout && want != 0 && want != maxq) {
		rumpuser_dprintf("krank-hypercall: dpdk: %s: queues=%u, but "
		    "the af_packet device has %u queue pairs (its qpairs=): "
		    "the kernel spreads flows over all of them (PACKET_FANOUT), "
		    "so a pair left unread would hold frames; open it with "
		    "queues=%u or make it with qpairs=%u\n", name, want, maxq,
		    maxq, want);
		return NB_EINVAL;
	}
	if (fanout)
		want = maxq;
	if (want > PKT_MAXQ) {
		rumpuser_dprintf("krank-hypercall: dpdk: %s: %u queue pairs, "
		    "but a port takes at most %u\n", name, want, PKT_MAXQ);
		return NB_EINVAL;
	}
	if (want == 0)
		want = 1;
	if (want > 1 && hf == 0 && !soft) {
		if (!atomic_flag_test_and_set(&said_norss))
			rumpuser_dprintf("krank-hypercall: dpdk: %s: queues=%u, "
			    "but driver %s has no RSS hash to spread flows over "
			    "queues: using one queue (said once)\n", name, want,
			    di->driver_name ? di->driver_name : "?");
		want = 1;
	}
	if (want > 1 && hf != 0) {
		conf->rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf->rx_adv_conf.rss_conf.rss_key = NULL; /* the device's */
		conf->rx_adv_conf.rss_conf.rss_hf = hf;
	}
	*nqp = want;
	return 0;
}

static int
dpdk_open(struct hyp_pkt *p, const char *name, struct pkt_opts *o)
{
	struct rte_eth_conf conf;
	struct rte_eth_dev_info di;
	struct dpdk_port *d;
	char poolname[RTE_MEMPOOL_NAMESIZE];
	uint16_t port, mtu;
	unsigned nq, q;
	int rv;

	if ((rv = eal_start()) != 0)
		return rv;
	if (rte_eth_dev_get_port_by_name(name, &port) != 0)
		return NB_ENOENT;
	if ((rv = rte_eth_dev_info_get(port, &di)) != 0)
		return rumpuser__errtrans(-rv);
	memset(&conf, 0, sizeof(conf));
	/* A device on the virtual bus is software: it reads the mbufs'
	 * virtual addresses (memif, ring, af_packet, tap), and its other
	 * side chooses the receive queue. */
	const struct rte_bus *bus = rte_dev_bus(di.device);
	int soft = bus != NULL && strcmp(rte_bus_name(bus), "vdev") == 0;
	if ((rv = dpdk_queues(name, &di, soft, o->queues, &conf, &nq)) != 0)
		return rv;
	if ((d = rte_zmalloc("krank-dpdk-port", sizeof(*d), 64)) == NULL)
		return NB_ENOMEM;
	d->port = port;
	d->nq = nq;
	for (q = 0; q < nq; q++)
		pthread_mutex_init(&d->txq[q].mtx, NULL);
	/* Each queue beyond the first may hold a ring's worth of mbufs in
	 * its receive ring and another in its transmit ring. */
	snprintf(poolname, sizeof(poolname), "krank%u", port);
	d->pool = rte_pktmbuf_pool_create(poolname,
	    DPDK_NMBUF + (nq - 1) * 2 * DPDK_RING, 256, 0,
	    RTE_MBUF_DEFAULT_BUF_SIZE, rte_eth_dev_socket_id(port));
	if (d->pool == NULL) {
		rv = rumpuser__errtrans(rte_errno);
		goto fail;
	}
	if (!o->no_lend) {
		/* Software reads lent buffers where they are; a NIC must
		 * gather chains (MULTI_SEGS) by IO address. */
		d->lend_soft = soft;
		if (di.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS)
			conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
		d->lend = d->lend_soft ||
		    (conf.txmode.offloads & RTE_ETH_TX_OFFLOAD_MULTI_SEGS);
		d->lend_segs = DPDK_MAXSEGS;
		if (di.tx_desc_lim.nb_seg_max != 0 &&
		    di.tx_desc_lim.nb_seg_max < d->lend_segs)
			d->lend_segs = di.tx_desc_lim.nb_seg_max;
		if (d->lend_segs < 2)
			d->lend = 0;
	}
	if ((rv = rte_eth_dev_configure(port, (uint16_t)nq, (uint16_t)nq,
	    &conf)) != 0) {
		rumpuser_dprintf("krank-hypercall: dpdk: %s: configuring %u "
		    "queues%s failed: %s\n", name, nq, conf.rxmode.mq_mode ==
		    RTE_ETH_MQ_RX_RSS ? " with RSS" : "", rte_strerror(-rv));
		rv = rumpuser__errtrans(-rv);
		goto fail;
	}
	for (q = 0; q < nq; q++)
		if ((rv = rte_eth_rx_queue_setup(port, (uint16_t)q, DPDK_RING,
		    rte_eth_dev_socket_id(port), NULL, d->pool)) != 0 ||
		    (rv = rte_eth_tx_queue_setup(port, (uint16_t)q, DPDK_RING,
		    rte_eth_dev_socket_id(port), NULL)) != 0)
			break;
	if (rv != 0 || (rv = rte_eth_dev_start(port)) != 0) {
		rv = rumpuser__errtrans(-rv);
		goto fail;
	}
	rte_eth_promiscuous_enable(port);
	p->nq = nq;
	p->info.mtu = rte_eth_dev_get_mtu(port, &mtu) == 0 ? mtu : 1500;
	p->info.nbufs = DPDK_NMBUF;
	/* An rx burst is a look at memory the PMD fills: any thread may
	 * poll (hyp_pkt_rx_poll) without a host call. */
	p->info.caps |= HYP_PKT_CAP_POLL;
	if (d->lend)
		p->info.caps |= HYP_PKT_CAP_TXREF;
	if (!o->has_mac) {
		/* The NIC is KRANK's: its address is the port's address. */
		struct rte_ether_addr ea;
		if (rte_eth_macaddr_get(port, &ea) == 0)
			memcpy(p->info.lladdr, ea.addr_bytes, 6);
	}
	p->priv = d;
	return 0;
fail:
	if (d->pool != NULL)
		rte_mempool_free(d->pool);
	for (q = 0; q < nq; q++)
		pthread_mutex_destroy(&d->txq[q].mtx);
	rte_free(d);
	return rv ? rv : NB_EIO;
}

static void
dpdk_close(struct hyp_pkt *p)
{
	struct dpdk_port *d = p->priv;

	for (unsigned q = 0; q < d->nq; q++) {
		struct dpdk_rxq *rq = &d->rxq[q];
		while (rq->stashpos < rq->nstash)
			rte_pktmbuf_free(rq->stash[rq->stashpos++]);
	}
	rte_eth_dev_stop(d->port);
	rte_mempool_free(d->pool);
	for (unsigned q = 0; q < d->nq; q++)
		pthread_mutex_destroy(&d->txq[q].mtx);
	rte_free(d);
}

/* Send m on the caller's core's transmit queue: 1, or 0 when full. */
static inline uint16_t
dpdk_tx1(struct dpdk_port *d, struct rte_mbuf *m)
{
	unsigned q = pkt_cpu_queue(d->nq);

	pthread_mutex_lock(&d->txq[q].mtx);
	uint16_t sent = rte_eth_tx_burst(d->port, (uint16_t)q, &m, 1);
	pthread_mutex_unlock(&d->txq[q].mtx);
	return sent;
}

static int
dpdk_send(struct hyp_pkt *p, const struct iovec *iov, int iovcnt, size_t len)
{
	struct dpdk_port *d = p->priv;
	struct rte_mbuf *m = rte_pktmbuf_alloc(d->pool);
	char *dst;

	if (m == NULL)
		return NB_ENOBUFS;
	if ((dst = rte_pktmbuf_append(m, (uint16_t)len)) == NULL) {
		rte_pktmbuf_free(m);
		return NB_EMSGSIZE;
	}
	for (int i = 0; i < iovcnt; i++) {
		memcpy(dst, iov[i].iov_base, iov[i].iov_len);
		dst += iov[i].iov_len;
	}
	uint16_t sent = dpdk_tx1(d, m);
	if (sent == 0) {
		rte_pktmbuf_free(m);
		return NB_ENOBUFS;
	}
	return 0;
}

/* The last lent segment is free: the holder goes, the buffers go back. */
static void
dpdk_lend_free(void *addr, void *opaque)
{
	struct dpdk_lend *l = opaque;
	hyp_pkt_txdone_fn done = l->done;
	void *arg = l->arg, *cookie = l->cookie;

	(void)addr;
	rte_pktmbuf_free(l->holder);
	done(arg, cookie);
}

/*
 * The IO address at which the device may read [base, base + len), or
 * RTE_BAD_IOVA: a software device reads virtual addresses; a NIC only
 * DPDK memory that is contiguous in IO space.
 */
static rte_iova_t
dpdk_lend_iova(const struct dpdk_port *d, const char *base, size_t len)
{
	if (len < DPDK_LEND_MIN || len > UINT16_MAX)
		return RTE_BAD_IOVA;
	if (d->lend_soft)
		return (rte_iova_t)(uintptr_t)base;
	rte_iova_t io = rte_mem_virt2iova(base);
	if (io == RTE_BAD_IOVA ||
	    rte_mem_virt2iova(base + len - 1) != io + len - 1)
		return RTE_BAD_IOVA;
	return io;
}

/* Append n copied bytes to the chain at *tailp (new mbufs as needed). */
static int
dpdk_chain_copy(struct dpdk_port *d, struct rte_mbuf *head,
    struct rte_mbuf **tailp, const char *src, size_t n)
{
	while (n > 0) {
		struct rte_mbuf *t = *tailp;
		size_t room = RTE_MBUF_HAS_EXTBUF(t) ? 0 :
		    rte_pktmbuf_tailroom(t);
		if (room == 0) {
			if (head->nb_segs >= d->lend_segs ||
			    (t = rte_pktmbuf_alloc(d->pool)) == NULL)
				return -1;
			(*tailp)->next = t;
			*tailp = t;
			head->nb_segs++;
			room = rte_pktmbuf_tailroom(t);
		}
		size_t k = n < room ? n : room;
		memcpy(rte_pktmbuf_mtod_offset(t, char *, t->data_len), src, k);
		t->data_len = (uint16_t)(t->data_len + k);
		src += k;
		n -= k;
	}
	return 0;
}

static int
dpdk_send_ref(struct hyp_pkt *p, const struct iovec *iov, int iovcnt,
    size_t len, hyp_pkt_txdone_fn done, void *arg, void *cookie,
    size_t *lentp)
{
	struct dpdk_port *d = p->priv;
	rte_iova_t io[64];
	unsigned nlend = 0;
	int rv;

	if (iovcnt > 64)
		goto copy;		/* the core allows no more: not reached */
	for (int i = 0; i < iovcnt; i++) {
		io[i] = dpdk_lend_iova(d, iov[i].iov_base, iov[i].iov_len);
		nlend += io[i] != RTE_BAD_IOVA;
	}
	if (nlend == 0)
		goto copy;
	struct rte_mbuf *holder = rte_pktmbuf_alloc(d->pool);
	struct rte_mbuf *head = holder ? rte_pktmbuf_alloc(d->pool) : NULL;
	if (head == NULL) {
		rte_pktmbuf_free(holder);
		return NB_ENOBUFS;
	}
	struct dpdk_lend *l = rte_pktmbuf_mtod(holder, struct dpdk_lend *);
	l->holder = holder;
	l->done = done;
	l->arg = arg;
	l->cookie = cookie;
	l->sh.free_cb = dpdk_lend_free;
	l->sh.fcb_opaque = l;
	/* One reference more than segments until the burst took the frame:
	 * a frame that was not sent is freed without handing back. */
	rte_mbuf_ext_refcnt_set(&l->sh, (uint16_t)(nlend + 1));
	struct rte_mbuf *tail = head;
	size_t lent = 0;
	for (int i = 0; i < iovcnt; i++) {
		if (io[i] == RTE_BAD_IOVA) {
			if (dpdk_chain_copy(d, head, &tail, iov[i].iov_base,
			    iov[i].iov_len) != 0)
				goto unbuilt;
			continue;
		}
		struct rte_mbuf *m = head->nb_segs < d->lend_segs ?
		    rte_pktmbuf_alloc(d->pool) : NULL;
		if (m == NULL)
			goto unbuilt;
		rte_pktmbuf_attach_extbuf(m, iov[i].iov_base, io[i],
		    (uint16_t)iov[i].iov_len, &l->sh);
		m->data_len = (uint16_t)iov[i].iov_len;
		tail->next = m;
		tail = m;
		head->nb_segs++;
		lent += iov[i].iov_len;
	}
	head->pkt_len = (uint32_t)len;
	uint16_t sent = dpdk_tx1(d, head);
	if (sent == 0) {
		rte_pktmbuf_free(head);
		rte_pktmbuf_free(holder);
		return NB_ENOBUFS;
	}
	if (rte_mbuf_ext_refcnt_update(&l->sh, -1) == 0)
		dpdk_lend_free(NULL, l);
	*lentp = lent;
	return 0;
unbuilt:
	/* Too many segments or no mbuf: the chain goes (the bias keeps
	 * the callback from running), and the frame is copied instead. */
	rte_pktmbuf_free(head);
	rte_pktmbuf_free(holder);
copy:
	if ((rv = dpdk_send(p, iov, iovcnt, len)) == 0)
		done(arg, cookie);
	return rv;
}

static void
dpdk_frame(struct hyp_pkt *p, struct hyp_pkt_frame *f, struct rte_mbuf *m)
{
	f->data = rte_pktmbuf_mtod(m, void *);
	f->len = rte_pktmbuf_data_len(m);
	f->buf = m;
	f->flags = 0;
	atomic_fetch_add(&p->rx_frames, 1);
	atomic_fetch_add(&p->rx_bytes, f->len);
}

/*
 * A received mbuf the stack can take: sane, one contiguous frame of
 * HYP_PKT_MINFRAME .. MTU + 18 bytes (a short chain made contiguous).
 * Returns 0, or frees it and counts why not.
 */
static int
dpdk_rx_check(struct hyp_pkt *p, struct dpdk_port *d, struct rte_mbuf *m)
{
	const char *why = NULL;
	int r = -1;

	if (rte_mbuf_check(m, 1, &why) != 0)
		r = BAD_MBUF;
	else if (rte_pktmbuf_pkt_len(m) < HYP_PKT_MINFRAME)
		r = BAD_RUNT;
	else if (rte_pktmbuf_pkt_len(m) > p->info.mtu + 18u)
		r = BAD_BIG;
	else if (m->nb_segs > DPDK_MAXSEGS)
		r = BAD_CHAIN;
	else if (m->nb_segs > 1) {
		if (rte_pktmbuf_linearize(m) != 0)
			r = BAD_CHAIN;	/* no room in the first segment */
		else
			atomic_fetch_add(&d->linearized, 1);
	}
	if (r < 0)
		return 0;
	atomic_fetch_add(&p->rx_bad, 1);
	if (atomic_fetch_add(&d->bad[r], 1) == 0)
		rumpuser_dprintf("krank-hypercall: dpdk: port %u: dropped a "
		    "received %s (%u bytes, %u segments%s%s); counted in rx_bad, "
		    "said once\n", d->port, bad_names[r], rte_pktmbuf_pkt_len(m),
		    m->nb_segs, why ? ": " : "", why ? why : "");
	rte_pktmbuf_free(m);
	return -1;
}

static int
dpdk_recv(struct hyp_pkt *p, unsigned q, struct hyp_pkt_frame *f,
    unsigned max, unsigned *np)
{
	struct dpdk_port *d = p->priv;
	struct dpdk_rxq *rq = &d->rxq[q];
	struct rte_mbuf *ms[DPDK_STASH];
	unsigned n = 0;

	while (n < max && rq->stashpos < rq->nstash) {
		struct rte_mbuf *m = rq->stash[rq->stashpos++];
		if (dpdk_rx_check(p, d, m) == 0)
			dpdk_frame(p, &f[n++], m);
	}
	while (n < max) {
		uint16_t want = (uint16_t)(max - n < DPDK_STASH ? max - n : DPDK_STASH);
		uint16_t got = rte_eth_rx_burst(d->port, (uint16_t)q, ms,
		    want);
		for (uint16_t i = 0; i < got; i++)
			if (dpdk_rx_check(p, d, ms[i]) == 0)
				dpdk_frame(p, &f[n++], ms[i]);
		if (got < want)
			break;
	}
	*np = n;
	return 0;
}

static void
dpdk_frame_free(struct hyp_pkt *p, struct hyp_pkt_frame *f)
{
	rte_pktmbuf_free(f->buf);
}

/*
 * Poll-mode: poll the queue back to back (rte_pause between polls) for
 * DPDK_SPIN_NS, then poll every 20 us (nanosleep), until a frame or the
 * timeout.  The spin keeps a frame that follows soon after the last (a
 * reply, the next of a burst) from waiting out a sleep (~70 us with
 * Linux's default timer slack); a quiet port costs no CPU after it.
 */
#define DPDK_SPIN_NS 50000
/* Look at queue q for input, into its stash: 1 when some is there. */
static int
dpdk_peek(struct hyp_pkt *p, struct dpdk_port *d, unsigned q)
{
	struct dpdk_rxq *rq = &d->rxq[q];

	if (!pkt_rx_trylock(p, q))
		return 0;
	if (rq->stashpos >= rq->nstash) {
		rq->stashpos = 0;
		rq->nstash = rte_eth_rx_burst(d->port, (uint16_t)q, rq->stash,
		    DPDK_STASH);
	}
	int got = rq->stashpos < rq->nstash;
	pkt_rx_unlock(p, q);
	return got;
}

static int
dpdk_wait(struct hyp_pkt *p, unsigned q, int timeout_ms, int wrap)
{
	struct dpdk_port *d = p->priv;
	struct timespec now, end;
	int nlocks = 0, rv = NB_ETIMEDOUT;

	clock_gettime(CLOCK_MONOTONIC, &end);
	struct timespec spin_end = end;
	spin_end.tv_nsec += DPDK_SPIN_NS;
	if (spin_end.tv_nsec >= 1000000000L) {
		spin_end.tv_sec++;
		spin_end.tv_nsec -= 1000000000L;
	}
	end.tv_sec += timeout_ms / 1000;
	end.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (end.tv_nsec >= 1000000000L) {
		end.tv_sec++;
		end.tv_nsec -= 1000000000L;
	}
	if (wrap)
		rumpkern_unsched(&nlocks, NULL);
	for (int spinning = 1;;) {
		/* A thread polling the port (run to completion) has the
		 * queue: its receive thread steps aside until it is done. */
		if (q != PKT_QANY && pkt_rx_parked(p, q))
			break;
		int got = 0;
		if (q != PKT_QANY)
			got = dpdk_peek(p, d, q);
		else
			for (unsigned i = 0; i < d->nq && !got; i++)
				got = dpdk_peek(p, d, i);
		if (got) {
			rv = 0;
			break;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (timeout_ms >= 0 && (now.tv_sec > end.tv_sec ||
		    (now.tv_sec == end.tv_sec && now.tv_nsec >= end.tv_nsec)))
			break;
		if (spinning && (now.tv_sec > spin_end.tv_sec ||
		    (now.tv_sec == spin_end.tv_sec && now.tv_nsec >= spin_end.tv_nsec)))
			spinning = 0;
		if (spinning) {
			rte_pause();
			continue;
		}
		struct timespec pause = { 0, 20000 };
		nanosleep(&pause, NULL);
	}
	if (wrap)
		rumpkern_sched(nlocks, NULL);
	return rv;
}

#ifdef KRANK_PKT_MODULE
static
#endif
const struct pkt_backend pkt_dpdk_backend = {
	.prefix = "dpdk",
	.open = dpdk_open,
	.close = dpdk_close,
	.send = dpdk_send,
	.recv = dpdk_recv,
	.wait = dpdk_wait,
	.own_buffers = 1,
	.frame_free = dpdk_frame_free,
	.send_ref = dpdk_send_ref,
};

#ifdef KRANK_PKT_MODULE
const struct pkt_backend *
krank_pkt_dpdk_init(const struct pkt_core *c)
{
	if (c == NULL || c->abi != PKT_MODULE_ABI ||
	    c->hyp_pkt_size != sizeof(struct hyp_pkt))
		return NULL;
	core = c;
	return &pkt_dpdk_backend;
}
#endif
