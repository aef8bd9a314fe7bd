/*
 * hyp_pkt.c - packet I/O ports: spec parsing, receive buffer pools,
 * counters, polling and callback reception.  Backends live in pkt_*.c.
 */
#include <errno.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include "hostcalls.h"
#include <linux/virtio_net.h>
#include "hyp_pkt_int.h"

#define PKT_NBUFS 1024
#define PKT_POOLMAX (16u << 20)		/* bytes of buffers for large MTUs */
#define PKT_NBUFS_MIN 128
#define PKT_PARK_NS 1000000ULL	/* a receive thread's look for pollers */

/* Backends linked in; the POSIX host's dpdk: is a module (pkt_module.c). */
static const struct pkt_backend *const pkt_backends[] = {
	&pkt_wire_backend, &pkt_tap_backend, &pkt_afpacket_backend,
#ifdef KRANK_HOST_DPDK
	&pkt_dpdk_backend,
#endif
};

static int
pkt_pool_init(struct hyp_pkt *p)
{
	/* Room for a VLAN tag, rounded to a cache line; or for the merged
	 * frames of a host that delivers them (rx_max). */
	size_t frame = p->info.mtu + HYP_PKT_HDRLEN + 4;
	if (p->info.rx_max > frame)
		frame = p->info.rx_max;
	p->bufsz = (sizeof(struct pktbuf) + frame + 63) & ~(size_t)63;
	/* Jumbo frames: fewer buffers, so a port stays within PKT_POOLMAX. */
	unsigned nbufs = PKT_NBUFS;
	if (p->bufsz * nbufs > PKT_POOLMAX)
		nbufs = (unsigned)(PKT_POOLMAX / p->bufsz);
	if (nbufs < PKT_NBUFS_MIN)
		nbufs = PKT_NBUFS_MIN;
	/* From the huge-page heap when the host was given one (so are the
	 * kernel's mbufs and clusters); else locked as the buffers are
	 * first used: faulting the whole pool in at open was most of an
	 * interface's bring-up, for buffers a port mostly never uses (the
	 * free list is LIFO). */
	size_t len = p->bufsz * nbufs;
	void *huge = hyp_heap_huge_alloc(len, 4096);
	if (huge != NULL) {
		memset(&p->arena, 0, sizeof(p->arena));
		p->arena.base = huge;
		p->arena.len = len;
		p->arena.kind = HYP_ARENA_KIND_HUGE;
	} else {
		int rv = hyp_arena_create(len, HYP_ARENA_LOCKED |
		    HYP_ARENA_ONFAULT, &p->arena);
		if (rv != 0)
			return rv;
	}
	pthread_mutex_init(&p->bufmtx, NULL);
	/* Buffers are carved from the arena when first needed, not threaded
	 * onto the free list here: that wrote into every buffer, touching
	 * all of the pool's pages at open (the free list is LIFO, so a port
	 * usually cycles through a few of them) -- most of an interface's
	 * bring-up time and resident memory. */
	p->freebufs = NULL;
	p->ncarved = 0;
	p->nfree = nbufs;
	p->info.nbufs = nbufs;
	return 0;
}

struct pktbuf *
pkt_buf_get(struct hyp_pkt *p)
{
	pthread_mutex_lock(&p->bufmtx);
	struct pktbuf *b = p->freebufs;
	if (b != NULL) {
		p->freebufs = b->next;
		p->nfree--;
	} else if (p->ncarved < p->info.nbufs) {
		b = (void *)((char *)p->arena.base +
		    (size_t)p->ncarved++ * p->bufsz);
		b->port = p;
		p->nfree--;
	}
	pthread_mutex_unlock(&p->bufmtx);
	if (b == NULL)
		atomic_fetch_add(&p->rx_nobuf, 1);
	return b;
}

void
pkt_buf_put(struct hyp_pkt *p, struct pktbuf *b)
{
	pthread_mutex_lock(&p->bufmtx);
	b->next = p->freebufs;
	p->freebufs = b;
	p->nfree++;
	pthread_mutex_unlock(&p->bufmtx);
}

void
pkt_frame_set(struct hyp_pkt *p, struct hyp_pkt_frame *f, struct pktbuf *b,
    size_t len)
{
	f->data = b->data;
	f->len = len;
	f->buf = b;
	f->flags = 0;
	atomic_fetch_add(&p->rx_frames, 1);
	atomic_fetch_add(&p->rx_bytes, len);
}

int
pkt_fd_wait(struct hyp_pkt *p, unsigned q, int timeout_ms, int wrap)
{
	/* The kick (rx_kickfd) too, when the port has one: a kick ends the
	 * wait like input (0: look again). */
	struct pollfd pfd[2] = { { .fd = p->fd, .events = POLLIN },
	    { .fd = p->rx_kickfd, .events = POLLIN } };
	nfds_t nfd = p->rx_kickfd >= 0 ? 2 : 1;
	int rv = 0, e = 0, nlocks = 0;

	(void)q;			/* one descriptor, one queue */
	if (wrap)
		rumpkern_unsched(&nlocks, NULL);
	do {
		rv = hyp_host.poll(pfd, nfd, timeout_ms);
	} while (rv == -1 && errno == EINTR);
	e = errno;
	if (rv > 0 && nfd == 2 && pfd[1].revents != 0) {
		uint64_t v;
		(void)hyp_host.read(p->rx_kickfd, &v, sizeof(v));
	}
	if (wrap)
		rumpkern_sched(nlocks, NULL);
	if (rv == -1)
		return rumpuser__errtrans(e);
	return rv == 0 ? NB_ETIMEDOUT : 0;
}

int
pkt_ifmtu(const char *ifname, unsigned *mtu)
{
	struct ifreq ifr;
	int s = hyp_host.socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (s == -1)
		return rumpuser__errtrans(errno);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	int rv = hyp_host.ioctl(s, SIOCGIFMTU, &ifr);
	int e = errno;
	hyp_host.close(s);
	if (rv == -1)
		return rumpuser__errtrans(e);
	*mtu = (unsigned)ifr.ifr_mtu;
	return 0;
}

int
hyp_pkt_open(const char *spec, struct hyp_pkt **pp)
{
	struct pkt_spec ps;
	struct pkt_opts o;
	const struct pkt_backend *be = NULL;
	struct hyp_pkt *p;
	int rv;

	if (pp == NULL)
		return NB_EINVAL;
	if (pkt_spec_parse(spec, &ps) != 0) {
		/* Said when the spec is one a person could have meant (an
		 * option's bad value); junk gets EINVAL alone. */
		if (ps.why != NULL)
			rumpuser_dprintf("krank-hypercall: port spec \"%.80s\": "
			    "%s\n", spec, ps.why);
		return NB_EINVAL;
	}
	o = ps.opts;
	for (size_t i = 0; i < sizeof(pkt_backends) / sizeof(pkt_backends[0]); i++)
		if (strcmp(ps.backend, pkt_backends[i]->prefix) == 0)
			be = pkt_backends[i];
#ifndef KRANK_HOST_DPDK
	if (be == NULL && (rv = pkt_module_backend(ps.backend, &be)) != 0)
		return rv;
#endif
	if (be == NULL)
		return NB_EINVAL;
	if (o.mtu && be != &pkt_wire_backend)
		return NB_EINVAL;	/* host interfaces have their own MTU */
	if ((o.loss || o.dup || o.reorder) && be != &pkt_wire_backend)
		return NB_EINVAL;
	if (o.no_offload && be != &pkt_tap_backend &&
	    be != &pkt_afpacket_backend)
		return NB_EINVAL;	/* only taps and AF_PACKET offload */
	if (o.no_ring && be != &pkt_afpacket_backend)
		return NB_EINVAL;	/* only AF_PACKET has rings */
	if (o.queues && strcmp(be->prefix, "dpdk") != 0) {
		rumpuser_dprintf("krank-hypercall: %s: queues=%u: only dpdk: "
		    "ports have several queues\n", spec, o.queues);
		return NB_EINVAL;
	}
	const char *name = ps.name;

	/* Aligned for the queues' and the counters' cache lines. */
	if (posix_memalign((void **)&p, _Alignof(struct hyp_pkt),
	    sizeof(*p)) != 0)
		return NB_ENOMEM;
	memset(p, 0, sizeof(*p));
	p->be = be;
	p->fd = -1;
	p->rx_kickfd = -1;
	p->rxpark_ns = PKT_PARK_NS;
	snprintf(p->info.name, sizeof(p->info.name), "%s", spec);
	if (o.has_mac) {
		memcpy(p->info.lladdr, o.mac, 6);
	} else {
		/* Locally administered unicast: 02:xx:xx:xx:xx:xx. */
		size_t got = 0;
		if (rumpuser_getrandom(p->info.lladdr, 6, 0, &got) != 0 || got != 6)
			memset(p->info.lladdr, 0x5a, 6);
		p->info.lladdr[0] = 0x02;
	}
	if ((rv = be->open(p, name, &o)) != 0) {
		free(p);
		return rv;
	}
	if (p->nq == 0 || p->nq > PKT_MAXQ)
		p->nq = 1;
	for (unsigned q = 0; q < PKT_MAXQ; q++) {
		p->rxq[q].idx = q;
		p->rxq[q].port = p;
	}
	if (p->info.mtu < 68 || p->info.mtu > PKT_MAXMTU)
		p->info.mtu = p->info.mtu < 68 ? 68 : PKT_MAXMTU;
	if (p->info.rx_max < p->info.mtu + HYP_PKT_HDRLEN + 4)
		p->info.rx_max = p->info.mtu + HYP_PKT_HDRLEN + 4;
	if (!be->own_buffers && (rv = pkt_pool_init(p)) != 0) {
		be->close(p);
		free(p);
		return rv;
	}
	*pp = p;
	return 0;
}

void
hyp_pkt_close(struct hyp_pkt *p)
{
	if (p == NULL)
		return;
	hyp_pkt_set_rx(p, NULL, NULL);
	p->be->close(p);
	if (!p->be->own_buffers && p->nfree != p->info.nbufs)
		rumpuser_dprintf("krank-hypercall: %s closed with %u receive "
		    "buffers still held\n", p->info.name, p->info.nbufs - p->nfree);
	if (!p->be->own_buffers) {
		if (hyp_heap_huge_owns(p->arena.base))
			hyp_heap_huge_free(p->arena.base);
		else
			hyp_arena_destroy(&p->arena);
		pthread_mutex_destroy(&p->bufmtx);
	}
	free(p);
}

void
hyp_pkt_info(struct hyp_pkt *p, struct hyp_pkt_info *info)
{
	*info = p->info;
}

void
hyp_pkt_stats(struct hyp_pkt *p, struct hyp_pkt_stats *st)
{
	st->tx_frames = atomic_load(&p->tx_frames);
	st->tx_bytes = atomic_load(&p->tx_bytes);
	st->tx_errors = atomic_load(&p->tx_errors);
	st->rx_frames = atomic_load(&p->rx_frames);
	st->rx_bytes = atomic_load(&p->rx_bytes);
	st->rx_nobuf = atomic_load(&p->rx_nobuf);
	st->rx_bad = atomic_load(&p->rx_bad);
}

void
hyp_pkt_host_stats(struct hyp_pkt *p, struct hyp_pkt_host_stats *hs)
{
	hs->ring = (unsigned)p->ring;
	hs->tx_calls = atomic_load(&p->host_tx_calls);
	hs->rx_calls = atomic_load(&p->host_rx_calls);
	hs->rx_polled = atomic_load(&p->rx_polled);
	hs->tx_lent = atomic_load(&p->tx_lent);
	hs->tx_lent_bytes = atomic_load(&p->tx_lent_bytes);
	hs->rx_kicks = atomic_load(&p->rx_kicks);
}

unsigned
hyp_pkt_queue_stats(struct hyp_pkt *p, struct hyp_pkt_queue_stats *qs,
    unsigned max)
{
	for (unsigned q = 0; q < p->nq && q < max; q++) {
		qs[q].rx_frames = atomic_load_explicit(&p->rxq[q].frames,
		    memory_order_relaxed);
		qs[q].rx_polled = atomic_load_explicit(&p->rxq[q].polled,
		    memory_order_relaxed);
	}
	return p->nq;
}

/* The frame's length, or an error (counted) if it cannot be a frame
 * (max: the longest it may be). */
static int
pkt_txlen(struct hyp_pkt *p, const struct rumpuser_iovec *iov,
    size_t iovcnt, size_t max, size_t *lenp)
{
	size_t len = 0;

	if (iov == NULL || iovcnt == 0 || iovcnt > 64)
		return NB_EINVAL;
	for (size_t i = 0; i < iovcnt; i++)
		len += iov[i].iov_len;
	if (len < HYP_PKT_HDRLEN || len > max) {
		atomic_fetch_add(&p->tx_errors, 1);
		return NB_EMSGSIZE;
	}
	*lenp = len;
	return 0;
}

/* Count a backend's send of len bytes that returned rv. */
static int
pkt_txdone(struct hyp_pkt *p, int rv, size_t len)
{
	if (rv == 0) {
		atomic_fetch_add(&p->tx_frames, 1);
		atomic_fetch_add(&p->tx_bytes, len);
	} else {
		atomic_fetch_add(&p->tx_errors, 1);
	}
	return rv;
}

int
hyp_pkt_send(struct hyp_pkt *p, const struct rumpuser_iovec *iov,
    size_t iovcnt)
{
	size_t len;
	int rv = pkt_txlen(p, iov, iovcnt, p->info.mtu + HYP_PKT_HDRLEN + 4,
	    &len);
	if (rv != 0)
		return rv;
	return pkt_txdone(p, p->be->send(p,
	    (const struct iovec *)(const void *)iov, (int)iovcnt, len), len);
}

int
hyp_pkt_send_ref(struct hyp_pkt *p, const struct rumpuser_iovec *iov,
    size_t iovcnt, hyp_pkt_txdone_fn done, void *arg, void *cookie)
{
	size_t len, lent = 0;
	int rv;

	if (p->be->send_ref == NULL || !(p->info.caps & HYP_PKT_CAP_TXREF))
		return NB_EOPNOTSUPP;
	if (done == NULL)
		return NB_EINVAL;
	if ((rv = pkt_txlen(p, iov, iovcnt, p->info.mtu + HYP_PKT_HDRLEN + 4,
	    &len)) != 0)
		return rv;
	rv = p->be->send_ref(p, (const struct iovec *)(const void *)iov,
	    (int)iovcnt, len, done, arg, cookie, &lent);
	if (rv == 0 && lent > 0) {
		atomic_fetch_add_explicit(&p->tx_lent, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&p->tx_lent_bytes, lent,
		    memory_order_relaxed);
	}
	return pkt_txdone(p, rv, len);
}

int
hyp_pkt_send_meta(struct hyp_pkt *p, const struct rumpuser_iovec *iov,
    size_t iovcnt, const struct hyp_pkt_txmeta *meta)
{
	size_t len;
	int rv;

	if (meta == NULL || meta->flags == 0)
		return hyp_pkt_send(p, iov, iovcnt);
	int tso = meta->flags == (HYP_PKT_TX_CSUM | HYP_PKT_TX_TSO);
	if ((meta->flags != HYP_PKT_TX_CSUM && !tso) ||
	    p->be->send_meta == NULL || !(p->info.caps & HYP_PKT_CAP_CSUM) ||
	    (tso && !(p->info.caps & HYP_PKT_CAP_TSO)))
		return NB_EINVAL;
	if ((rv = pkt_txlen(p, iov, iovcnt, tso ? p->info.gso_max :
	    p->info.mtu + HYP_PKT_HDRLEN + 4, &len)) != 0)
		return rv;
	if ((meta->csum_start & 1) ||
	    (size_t)meta->csum_start + meta->csum_offset + 2 > len)
		return NB_EINVAL;
	/* A segment that needs cutting has headers inside it, a segment
	 * size, and headers + one segment within the MTU. */
	if (tso && (meta->gso_size == 0 || meta->hdr_len <
	    (size_t)meta->csum_start + meta->csum_offset + 2 ||
	    meta->hdr_len >= len || (size_t)meta->hdr_len + meta->gso_size >
	    p->info.mtu + HYP_PKT_HDRLEN))
		return NB_EINVAL;
	return pkt_txdone(p, p->be->send_meta(p,
	    (const struct iovec *)(const void *)iov, (int)iovcnt, len, meta),
	    len);
}

/* One's-complement sum (RFC 1071) of f[start, len), folded to 16 bits. */
static uint32_t
pkt_sum(const unsigned char *f, size_t start, size_t len)
{
	uint64_t acc = 0;
	size_t i = start;
	for (; i + 8 <= len; i += 8) {
		uint64_t w;
		memcpy(&w, f + i, 8);
		/* Sum 32-bit halves so no carry is lost. */
		acc += (w & 0xffffffffu) + (w >> 32);
	}
	for (; i + 2 <= len; i += 2) {
		uint16_t h;
		memcpy(&h, f + i, 2);
		acc += h;
	}
	if (i < len) {
		uint16_t h = 0;
		memcpy(&h, f + i, 1);	/* the odd byte is the high half */
		acc += h;
	}
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint32_t)acc;		/* in memory (network) byte order */
}

void
pkt_csum_complete(unsigned char *f, size_t len,
    const struct hyp_pkt_txmeta *meta)
{
	/* The field holds the pseudo-header sum; summing it in with the
	 * rest gives the checksum of pseudo header and data. */
	uint16_t c = (uint16_t)~pkt_sum(f, meta->csum_start, len);
	if (c == 0)
		c = 0xffff;
	memcpy(f + meta->csum_start + meta->csum_offset, &c, 2);
}

int
pkt_vnet_rx(struct hyp_pkt *p, const struct virtio_net_hdr *vh,
    unsigned char *frame, size_t len, unsigned *flp, const char **why)
{
	int trust = (p->rxflags & HYP_PKT_RX_CSUM) != 0;

	if (vh->gso_type != VIRTIO_NET_HDR_GSO_NONE) {
		if (!trust) {
			*why = "dropped a merged segment (GSO) for a receiver "
			    "that takes no unchecked frames";
			return PKT_VNET_MERGED;
		}
		*flp = HYP_PKT_FRAME_CSUM_OK;
		return PKT_VNET_OK;
	}
	if (len > p->info.mtu + HYP_PKT_HDRLEN + 4) {
		*why = "dropped a received frame longer than the MTU, yet not "
		    "a merged segment";
		return PKT_VNET_BAD;
	}
	if (vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		struct hyp_pkt_txmeta m = { .csum_start = vh->csum_start,
		    .csum_offset = vh->csum_offset };
		if ((size_t)m.csum_start + m.csum_offset + 2 > len) {
			*why = "dropped a received frame whose checksum "
			    "offset lies outside it";
			return PKT_VNET_BAD;
		}
		if (trust)
			*flp = HYP_PKT_FRAME_CSUM_OK;
		else
			pkt_csum_complete(frame, len, &m);
		return PKT_VNET_OK;
	}
	if ((vh->flags & VIRTIO_NET_HDR_F_DATA_VALID) && trust)
		*flp = HYP_PKT_FRAME_CSUM_OK;
	return PKT_VNET_OK;
}

int
hyp_pkt_recv(struct hyp_pkt *p, struct hyp_pkt_frame *frames, unsigned max,
    unsigned *np)
{
	if (frames == NULL || np == NULL)
		return NB_EINVAL;
	*np = 0;
	if (max == 0)
		return 0;
	if (p->nq == 1) {
		int rv = p->be->recv(p, 0, frames, max, np);
		atomic_fetch_add_explicit(&p->rxq[0].frames, *np,
		    memory_order_relaxed);
		return rv;
	}
	/* Several queues: each in turn, from the one after where the last
	 * call stopped, so none is starved by a busy one. */
	unsigned n = 0, q0 = p->recvq;
	for (unsigned i = 0; i < p->nq && n < max; i++) {
		unsigned q = (q0 + i) % p->nq, got = 0;
		int rv = p->be->recv(p, q, frames + n, max - n, &got);
		atomic_fetch_add_explicit(&p->rxq[q].frames, got,
		    memory_order_relaxed);
		n += got;
		if (rv != 0 && n == 0)
			return rv;
	}
	p->recvq = (q0 + 1) % p->nq;
	*np = n;
	return 0;
}

void
hyp_pkt_frame_free(struct hyp_pkt *p, struct hyp_pkt_frame *f)
{
	if (f == NULL || f->buf == NULL)
		return;
	if (p->be->frame_free != NULL)
		p->be->frame_free(p, f);
	else
		pkt_buf_put(p, f->buf);
	f->buf = NULL;
	f->data = NULL;
}

int
hyp_pkt_wait(struct hyp_pkt *p, int timeout_ms)
{
	return p->be->wait(p, p->nq == 1 ? 0 : PKT_QANY, timeout_ms, 1);
}

#define RX_BATCH 32

__thread struct hyp_pkt *pkt_rx_cur;

/*
 * Receive one batch from queue q and hand it to the callback in this
 * thread: 1 when frames went up, 0 when none were waiting, -1 when
 * another receiver had the queue (pollable ports only; the others have
 * only their thread).
 */
static int
pkt_rx_batch(struct hyp_pkt *p, unsigned q, unsigned max, unsigned *np)
{
	struct hyp_pkt_frame frames[RX_BATCH];
	int poll = (p->info.caps & HYP_PKT_CAP_POLL) != 0;
	unsigned n = 0;

	if (poll && !pkt_rx_trylock(p, q))
		return -1;
	if (p->be->recv(p, q, frames, max, &n) == 0 && n > 0) {
		atomic_fetch_add_explicit(&p->rxq[q].frames, n,
		    memory_order_relaxed);
		struct hyp_pkt *outer = pkt_rx_cur;
		pkt_rx_cur = p;
		p->rxfn(p->rxarg, frames, n);
		pkt_rx_cur = outer;
		if (p->be->flush != NULL)
			p->be->flush(p);
	}
	if (poll)
		pkt_rx_unlock(p, q);
	*np = n;
	return n > 0;
}

/*
 * Of a port of n queues, queue q belongs to the cores whose index is q
 * modulo n (pkt_cpu_queue): its receive thread runs on those of them
 * this thread may use, so the frames it hands up, and what the stack
 * sends in answer from its thread, stay on the queue's cores.  Left
 * alone when there are none (a process of fewer cores than queues).
 */
static void
pkt_rxq_affine(unsigned q, unsigned n)
{
	cpu_set_t set, mine;

	if (pthread_getaffinity_np(pthread_self(), sizeof(set), &set) != 0)
		return;
	CPU_ZERO(&mine);
	for (unsigned c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &set) && c % n == q)
			CPU_SET(c, &mine);
	if (CPU_COUNT(&mine) > 0)
		(void)pthread_setaffinity_np(pthread_self(), sizeof(mine),
		    &mine);
}

/* The receive thread of one queue. */
static void *
pkt_rx_thread(void *arg)
{
	struct pkt_rxq *rq = arg;
	struct hyp_pkt *p = rq->port;
	unsigned n;

	if (p->nq > 1)
		pkt_rxq_affine(rq->idx, p->nq);

	while (!atomic_load(&p->rxstop)) {
		const uint32_t *w = atomic_load(&p->rxpark);
		uint32_t v = w != NULL ? __atomic_load_n(w, __ATOMIC_ACQUIRE) : 0;
		if (w != NULL && pkt_beat_parks(v, rq->beat)) {
			/* Pollers serve the port: stand aside while they keep
			 * coming, a millisecond at a time (no host call per
			 * frame), or until woken (rxpark_ns 0: the word's
			 * owner watches the pollers).  Any change of the word
			 * ends the sleep; take the port back when it did not
			 * change (no poller for a millisecond) or a poller
			 * went to sleep. */
			hyp_word_wait(w, v, atomic_load_explicit(&p->rxpark_ns,
			    memory_order_relaxed));
			uint32_t x = __atomic_load_n(w, __ATOMIC_ACQUIRE);
			if (x == v || (x & 0xffffu) != (v & 0xffffu))
				rq->beat = x;
			continue;
		}
		if (w != NULL)
			rq->beat = v;
		if (pkt_rx_batch(p, rq->idx, RX_BATCH, &n) > 0)
			continue;
		/* Wake at least every 50 ms to notice a stop request; a
		 * poller that comes meanwhile kicks us (rx_kickfd). */
		if (p->rx_kickfd >= 0)
			atomic_store(&p->rx_fdwait, 1);
		p->be->wait(p, rq->idx, 50, 0);
		if (p->rx_kickfd >= 0)
			atomic_store(&p->rx_fdwait, 0);
	}
	return NULL;
}

/* The receive thread's kick (rx_kickfd, when the port has one): out of
 * its wait on the descriptor. */
static void
pkt_rx_kick(struct hyp_pkt *p)
{
	uint64_t one = 1;

	if (p->rx_kickfd >= 0)
		(void)hyp_host.write(p->rx_kickfd, &one, sizeof(one));
}

/*
 * A poller takes the queue of its core first; when that one has nothing
 * (or another receiver), the others in turn: the input a socket waiter
 * waits for comes on whichever queue the device's hash chose for its
 * flow, not necessarily its core's.
 */
int
hyp_pkt_rx_poll(struct hyp_pkt *p)
{
	unsigned n = 0, q0 = pkt_cpu_queue(p->nq);
	unsigned first = p->be->poll_max != 0 && p->be->poll_max < RX_BATCH ?
	    p->be->poll_max : RX_BATCH;

	if (!(p->info.caps & HYP_PKT_CAP_POLL) || !p->rxrunning)
		return 0;
	/* The receive thread asleep on the descriptor while the beat says it
	 * would stand aside: out of there, or each frame wakes it too. */
	if (p->rx_kickfd >= 0 &&
	    atomic_load_explicit(&p->rx_fdwait, memory_order_relaxed) &&
	    pkt_rx_parked(p, 0) && atomic_exchange(&p->rx_fdwait, 0)) {
		pkt_rx_kick(p);
		atomic_fetch_add_explicit(&p->rx_kicks, 1,
		    memory_order_relaxed);
	}
	for (unsigned i = 0; i < p->nq; i++) {
		unsigned q = q0 + i < p->nq ? q0 + i : q0 + i - p->nq;
		/* A whole batch while the looks keep finding frames (many
		 * flows): one answer per look would cost the caller a pass
		 * over all its sockets per frame. */
		unsigned max = atomic_load_explicit(&p->rxq[q].pollfull,
		    memory_order_relaxed) ? RX_BATCH : first;
		int got = pkt_rx_batch(p, q, max, &n);
		if (got >= 0)
			atomic_store_explicit(&p->rxq[q].pollfull, got > 0,
			    memory_order_relaxed);
		if (got > 0) {
			atomic_fetch_add_explicit(&p->rx_polled, n,
			    memory_order_relaxed);
			atomic_fetch_add_explicit(&p->rxq[q].polled, n,
			    memory_order_relaxed);
			return (int)n;
		}
	}
	return 0;
}

/* No more kicks: the receive thread has ended. */
static void
pkt_rx_kick_close(struct hyp_pkt *p)
{
	if (p->rx_kickfd < 0)
		return;
	hyp_host.close(p->rx_kickfd);
	p->rx_kickfd = -1;
	atomic_store(&p->rx_fdwait, 0);
}

void
hyp_pkt_rx_park(struct hyp_pkt *p, const uint32_t *word)
{
	hyp_pkt_rx_park_ns(p, word, PKT_PARK_NS);
}

void
hyp_pkt_rx_park_ns(struct hyp_pkt *p, const uint32_t *word, uint64_t look_ns)
{
	atomic_store_explicit(&p->rxpark_ns, look_ns, memory_order_relaxed);
	if (word != NULL) {
		uint32_t v = __atomic_load_n(word, __ATOMIC_ACQUIRE);
		for (unsigned q = 0; q < p->nq; q++)
			p->rxq[q].beat = v;
	}
	atomic_store(&p->rxpark, word);
}

int
hyp_pkt_set_rx(struct hyp_pkt *p, hyp_pkt_rx_fn fn, void *arg)
{
	return hyp_pkt_set_rx_flags(p, fn, arg, 0);
}

int
hyp_pkt_set_rx_flags(struct hyp_pkt *p, hyp_pkt_rx_fn fn, void *arg,
    unsigned flags)
{
	if (fn == NULL) {
		if (p->rxdirect || p->rxrunning) {
			if (p->be->set_rx != NULL)
				(void)p->be->set_rx(p, NULL, NULL, 0);
			p->rxdirect = 0;
		}
		if (p->rxrunning) {
			atomic_store(&p->rxstop, 1);
			pkt_rx_kick(p);
			for (unsigned q = 0; q < p->nq; q++)
				pthread_join(p->rxq[q].thread, NULL);
			p->rxrunning = 0;
			pkt_rx_kick_close(p);
		}
		return 0;
	}
	if (p->rxrunning || p->rxdirect)
		return NB_EBUSY;
	if (flags & ~(unsigned)(HYP_PKT_RX_DIRECT | HYP_PKT_RX_CSUM))
		return NB_EINVAL;
	if (!(p->info.caps & HYP_PKT_CAP_DIRECT))
		flags &= ~(unsigned)HYP_PKT_RX_DIRECT;
	p->rxfn = fn;
	p->rxarg = arg;
	p->rxflags = flags;
	if (p->be->set_rx != NULL) {
		int rv = p->be->set_rx(p, fn, arg, flags);
		if (rv < 0)
			return -rv;
		if (rv == 1) {
			p->rxdirect = 1;
			return 0;
		}
	}
	atomic_store(&p->rxstop, 0);
	/* Without the kick (no eventfd) the thread is only woken by input. */
	if ((p->info.caps & HYP_PKT_CAP_POLL) && p->nq == 1 &&
	    p->be->wait == pkt_fd_wait)
		p->rx_kickfd = hyp_host.eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	for (unsigned q = 0; q < p->nq; q++) {
		int rv = pthread_create(&p->rxq[q].thread, NULL,
		    pkt_rx_thread, &p->rxq[q]);
		if (rv != 0) {
			atomic_store(&p->rxstop, 1);
			while (q-- > 0)
				pthread_join(p->rxq[q].thread, NULL);
			pkt_rx_kick_close(p);
			if (p->be->set_rx != NULL)
				(void)p->be->set_rx(p, NULL, NULL, 0);
			return rumpuser__errtrans(rv);
		}
		char tname[16];
		if (p->nq == 1)
			snprintf(tname, sizeof(tname), "krank-pktrx");
		else
			snprintf(tname, sizeof(tname), "krank-pktrx%u",
			    q % PKT_MAXQ);
		pthread_setname_np(p->rxq[q].thread, tname);
	}
	p->rxrunning = 1;
	return 0;
}
