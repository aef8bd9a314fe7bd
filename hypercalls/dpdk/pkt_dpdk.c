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
 * in its own thread while the receive thread stands aside.
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

struct dpdk_port {
	uint16_t port;
	struct rte_mempool *pool;
	pthread_mutex_t txmtx;		/* the tx queue is not thread-safe */
	/* Frames taken by wait before recv asked: the receiver's only. */
	struct rte_mbuf *stash[DPDK_STASH];
	unsigned nstash, stashpos;
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

static int
dpdk_open(struct hyp_pkt *p, const char *name, struct pkt_opts *o)
{
	struct rte_eth_conf conf;
	struct dpdk_port *d;
	char poolname[RTE_MEMPOOL_NAMESIZE];
	uint16_t port, mtu;
	int rv;

	if ((rv = eal_start()) != 0)
		return rv;
	if (rte_eth_dev_get_port_by_name(name, &port) != 0)
		return NB_ENOENT;
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return NB_ENOMEM;
	d->port = port;
	pthread_mutex_init(&d->txmtx, NULL);
	snprintf(poolname, sizeof(poolname), "krank%u", port);
	d->pool = rte_pktmbuf_pool_create(poolname, DPDK_NMBUF, 256, 0,
	    RTE_MBUF_DEFAULT_BUF_SIZE, rte_eth_dev_socket_id(port));
	if (d->pool == NULL) {
		rv = rumpuser__errtrans(rte_errno);
		goto fail;
	}
	memset(&conf, 0, sizeof(conf));
	struct rte_eth_dev_info di;
	if (!o->no_lend && rte_eth_dev_info_get(port, &di) == 0) {
		/* A device on the virtual bus is software that reads the
		 * mbufs' virtual addresses (memif, ring, af_packet, tap); a
		 * NIC must gather chains (MULTI_SEGS) by IO address. */
		const struct rte_bus *bus = rte_dev_bus(di.device);
		d->lend_soft = bus != NULL &&
		    strcmp(rte_bus_name(bus), "vdev") == 0;
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
	if ((rv = rte_eth_dev_configure(port, 1, 1, &conf)) != 0 ||
	    (rv = rte_eth_rx_queue_setup(port, 0, DPDK_RING,
	    rte_eth_dev_socket_id(port), NULL, d->pool)) != 0 ||
	    (rv = rte_eth_tx_queue_setup(port, 0, DPDK_RING,
	    rte_eth_dev_socket_id(port), NULL)) != 0 ||
	    (rv = rte_eth_dev_start(port)) != 0) {
		rv = rumpuser__errtrans(-rv);
		goto fail;
	}
	rte_eth_promiscuous_enable(port);
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
	pthread_mutex_destroy(&d->txmtx);
	free(d);
	return rv ? rv : NB_EIO;
}

static void
dpdk_close(struct hyp_pkt *p)
{
	struct dpdk_port *d = p->priv;

	while (d->stashpos < d->nstash)
		rte_pktmbuf_free(d->stash[d->stashpos++]);
	rte_eth_dev_stop(d->port);
	rte_mempool_free(d->pool);
	pthread_mutex_destroy(&d->txmtx);
	free(d);
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
	pthread_mutex_lock(&d->txmtx);
	uint16_t sent = rte_eth_tx_burst(d->port, 0, &m, 1);
	pthread_mutex_unlock(&d->txmtx);
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
	pthread_mutex_lock(&d->txmtx);
	uint16_t sent = rte_eth_tx_burst(d->port, 0, &head, 1);
	pthread_mutex_unlock(&d->txmtx);
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
dpdk_recv(struct hyp_pkt *p, struct hyp_pkt_frame *f, unsigned max,
    unsigned *np)
{
	struct dpdk_port *d = p->priv;
	struct rte_mbuf *ms[DPDK_STASH];
	unsigned n = 0;

	while (n < max && d->stashpos < d->nstash) {
		struct rte_mbuf *m = d->stash[d->stashpos++];
		if (dpdk_rx_check(p, d, m) == 0)
			dpdk_frame(p, &f[n++], m);
	}
	while (n < max) {
		uint16_t want = (uint16_t)(max - n < DPDK_STASH ? max - n : DPDK_STASH);
		uint16_t got = rte_eth_rx_burst(d->port, 0, ms, want);
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
static int
dpdk_wait(struct hyp_pkt *p, int timeout_ms, int wrap)
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
		 * queue: the receive thread steps aside until it is done. */
		if (pkt_rx_parked(p))
			break;
		if (pkt_rx_trylock(p)) {
			if (d->stashpos >= d->nstash) {
				d->stashpos = 0;
				d->nstash = rte_eth_rx_burst(d->port, 0,
				    d->stash, DPDK_STASH);
			}
			int got = d->stashpos < d->nstash;
			pkt_rx_unlock(p);
			if (got) {
				rv = 0;
				break;
			}
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
