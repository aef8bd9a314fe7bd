/*
 * pkt_afpacket.c - packet I/O on an existing Linux interface through an
 * AF_PACKET socket: promiscuous, ignoring our own outgoing frames.
 *
 * Frames cross two PACKET_MMAP rings (TPACKET_V2, see pkt_afpacket_ring.h)
 * shared with the host kernel: receiving takes every ready slot without a
 * system call (poll only when the ring is empty), and sending fills send
 * slots and kicks the kernel with one sendto per batch (the frames a
 * receive batch's callback sends, or those that pile up while another
 * thread is kicking).  When the rings cannot be had (old kernel, memory
 * limits, an MTU larger than a slot) or the spec says ring=no, the copy
 * path serves: recvmmsg in batches and one sendmsg per frame.
 *
 * Offloads (ring path, unless offload=no): with PACKET_VNET_HDR every
 * frame in the rings sits behind a virtio-net header, as on the tap
 * (pkt_tap.c): KRANK may leave TCP checksums to Linux and hand it 64 KB
 * TCP segments to cut (HYP_PKT_CAP_CSUM, _TSO), and frames of Linux's
 * own stack arrive with partial or already checked checksums.  Linux
 * cuts such a segment only on its way through the qdisc layer, so the
 * qdisc is bypassed only on a device that cuts segments itself (TSO).
 * A peer's 64 KB segment may arrive whole (a veth passes them on): too
 * big for a slot, its copy waits on the socket's queue (PACKET_COPY_
 * THRESH) and is read from there into a buffer of rx_max bytes.  Every
 * frame dropped (truncated, merged for a receiver that cannot take it,
 * malformed) is counted in rx_bad and said once on stderr.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <linux/ethtool.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/sockios.h>
#include <linux/virtio_net.h>
#include "hostcalls.h"
#include "hyp_pkt_int.h"
#include "pkt_afpacket_ring.h"

#define AFP_BATCH 64
/* Kick the kernel once this many frames wait in the send ring, even
 * inside a receive batch. */
#define AFP_TX_KICK 32

/*
 * Ring state.  rx.head is the receiver's alone (one receiver per port).
 * tx.head and the filling of slots are under txlock; the kick runs
 * outside it, by one thread at a time (kicking), for every frame counted
 * in tx_pending before it started.
 */
struct afp_ring {
	unsigned char *base;
	unsigned nslots;
	size_t slot;			/* bytes per slot */
	unsigned head;
};

/* Every port has one; the rings are mapped when map != NULL (p->ring). */
struct afp_priv {
	void *map;
	size_t maplen;
	struct afp_ring rx, tx;
	pthread_mutex_t txlock;
	_Atomic unsigned tx_pending;	/* queued since the last kick began */
	_Atomic int kicking;
	int vnet;			/* frames behind a virtio-net header */
	int bypass;			/* PACKET_QDISC_BYPASS on (the kicker's) */
	_Atomic unsigned said;		/* AFP_SAID_*: told on stderr once */
	char ifname[IFNAMSIZ];
};

#define AFP_GSO_MAX	(65535 + HYP_PKT_HDRLEN)
/* Bytes of merged segments that may wait on the socket's queue. */
#define AFP_RX_QUEUE	(4 << 20)

/* Drops and fallbacks, each said once per port. */
#define AFP_SAID_TRUNC	0x1		/* longer than the slot or buffer */
#define AFP_SAID_MERGED	0x2		/* a merged segment refused */
#define AFP_SAID_BAD	0x4		/* malformed slot or header */
#define AFP_SAID_BYPASS	0x8		/* qdisc bypass given up */

static void
afp_say(struct hyp_pkt *p, unsigned what, const char *counter,
    const char *why)
{
	struct afp_priv *ap = p->priv;

	if (atomic_fetch_or(&ap->said, what) & what)
		return;
	rumpuser_dprintf("krank-hypercall: %s: %s (counted in %s; said "
	    "once)\n", p->info.name, why, counter);
}

/* Drop a received frame: counted, and why said once. */
static void
afp_rx_drop(struct hyp_pkt *p, unsigned what, const char *why)
{
	atomic_fetch_add(&p->rx_bad, 1);
	afp_say(p, what, "rx_bad", why);
}

/*
 * Whether device name cuts TCP segments itself (ETHTOOL_GTSO: any of
 * its TSO features on).  Unknown (no ethtool support): no.
 */
static int
afp_dev_tso(int fd, const char *name)
{
	struct ethtool_value ev = { .cmd = ETHTOOL_GTSO };
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_data = (void *)&ev;
	return hyp_host.ioctl(fd, SIOCETHTOOL, &ifr) == 0 && ev.data != 0;
}

static void *
afp_slot(const struct afp_ring *r, unsigned i)
{
	return r->base + (size_t)i * r->slot;
}

/*
 * Map the rings on fd, to be bound to interface name of MTU mtu.  0, or
 * the host's errno (no map: the copy path serves).
 */
static int
afp_ring_setup(struct hyp_pkt *p, int fd, const char *name, unsigned mtu,
    int offload)
{
	struct afp_priv *ap = p->priv;
	int v = TPACKET_V2, one = 1, zero = 0;
	/* Before the rings (the kernel refuses it after).  Refused (old
	 * kernel): rings without offloads. */
	int vnet = offload && hyp_host.setsockopt(fd, SOL_PACKET,
	    PACKET_VNET_HDR, &one, sizeof(one)) == 0;
	size_t txslot = vnet ? AFP_TX_BIGSLOT : AFP_SLOT;
	unsigned ntx = vnet ? AFP_TX_BIGSLOTS : AFP_TX_SLOTS;
	struct tpacket_req rx = {
		.tp_block_size = AFP_BLOCK, .tp_frame_size = AFP_SLOT,
		.tp_block_nr = AFP_RX_SLOTS / (AFP_BLOCK / AFP_SLOT),
		.tp_frame_nr = AFP_RX_SLOTS,
	};
	struct tpacket_req tx = {
		.tp_block_size = vnet ? AFP_TX_BIGSLOT : AFP_BLOCK,
		.tp_frame_size = (unsigned)txslot,
		.tp_block_nr = vnet ? ntx : ntx / (AFP_BLOCK / AFP_SLOT),
		.tp_frame_nr = ntx,
	};
	/* The largest receive offset the kernel uses (TPACKET_ALIGN of
	 * header + 16) is under 128 bytes: a frame must fit after it. */
	if ((size_t)mtu + HYP_PKT_HDRLEN + 4 + 128 > AFP_SLOT) {
		if (vnet)
			(void)hyp_host.setsockopt(fd, SOL_PACKET,
			    PACKET_VNET_HDR, &zero, sizeof(zero));
		return EMSGSIZE;
	}
	if (hyp_host.setsockopt(fd, SOL_PACKET, PACKET_VERSION, &v,
	    sizeof(v)) == -1 ||
	    hyp_host.setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &rx,
	    sizeof(rx)) == -1 ||
	    hyp_host.setsockopt(fd, SOL_PACKET, PACKET_TX_RING, &tx,
	    sizeof(tx)) == -1) {
		int e = errno;
		/* The copy path takes frames without the header. */
		if (vnet)
			(void)hyp_host.setsockopt(fd, SOL_PACKET,
			    PACKET_VNET_HDR, &zero, sizeof(zero));
		return e;
	}
	/* A malformed send slot is skipped, not a stop of the ring. */
	(void)hyp_host.setsockopt(fd, SOL_PACKET, PACKET_LOSS, &one,
	    sizeof(one));
	/* Straight to the driver: no qdisc between KRANK and the wire
	 * (refused on kernels before 3.14: then through the qdisc).  Not
	 * for 64 KB segments on a device without TSO: the direct path
	 * (dev_direct_xmit) drops a segment Linux would have to cut, the
	 * qdisc path cuts it in software (GSO). */
	ap->bypass = (!vnet || afp_dev_tso(fd, name)) &&
	    hyp_host.setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one,
	    sizeof(one)) == 0;
	/* A peer's merged segment does not fit a slot: with a copy
	 * threshold the kernel queues the whole frame on the socket too
	 * (TP_STATUS_COPY), to be read into a buffer of rx_max bytes.
	 * Without the header it could not be told from a corrupt frame. */
	if (vnet) {
		(void)hyp_host.setsockopt(fd, SOL_PACKET, PACKET_COPY_THRESH,
		    &one, sizeof(one));
		/* Room on the queue for a window of them (the default,
		 * 208 KiB, holds three): forced past rmem_max when we may
		 * (CAP_NET_ADMIN), else up to it. */
		int rcv = AFP_RX_QUEUE;
		if (hyp_host.setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv,
		    sizeof(rcv)) == -1)
			(void)hyp_host.setsockopt(fd, SOL_SOCKET, SO_RCVBUF,
			    &rcv, sizeof(rcv));
	}
	ap->maplen = (size_t)AFP_RX_SLOTS * AFP_SLOT + ntx * txslot;
	ap->map = hyp_host.mmap(NULL, ap->maplen, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_LOCKED | MAP_POPULATE, fd, 0);
	if (ap->map == MAP_FAILED)	/* MAP_LOCKED may exceed the limit */
		ap->map = hyp_host.mmap(NULL, ap->maplen,
		    PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (ap->map == MAP_FAILED) {
		int e = errno;
		/* Back to a plain socket for the copy path: no rings (a
		 * request of no blocks frees them), no header. */
		struct tpacket_req none = { 0 };
		(void)hyp_host.setsockopt(fd, SOL_PACKET, PACKET_RX_RING,
		    &none, sizeof(none));
		(void)hyp_host.setsockopt(fd, SOL_PACKET, PACKET_TX_RING,
		    &none, sizeof(none));
		if (vnet)
			(void)hyp_host.setsockopt(fd, SOL_PACKET,
			    PACKET_VNET_HDR, &zero, sizeof(zero));
		ap->map = NULL;
		return e;
	}
	/* The kernel lays the receive ring first, the send ring after. */
	ap->rx.base = ap->map;
	ap->rx.nslots = AFP_RX_SLOTS;
	ap->rx.slot = AFP_SLOT;
	ap->tx.base = (unsigned char *)ap->map + (size_t)AFP_RX_SLOTS * AFP_SLOT;
	ap->tx.nslots = ntx;
	ap->tx.slot = txslot;
	ap->vnet = vnet;
	if (vnet) {
		p->info.caps |= HYP_PKT_CAP_CSUM | HYP_PKT_CAP_TSO;
		p->info.gso_max = AFP_GSO_MAX;
		/* Merged segments, one VLAN tag. */
		p->info.rx_max = AFP_GSO_MAX + 4;
	}
	p->ring = 1;
	return 0;
}

static int
afp_open(struct hyp_pkt *p, const char *name, struct pkt_opts *o)
{
	struct ifreq ifr;
	int fd = hyp_host.socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (fd == -1)
		return rumpuser__errtrans(errno);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (hyp_host.ioctl(fd, SIOCGIFINDEX, &ifr) == -1) {
		int e = errno;
		hyp_host.close(fd);
		return e == ENODEV ? NB_ENOENT : rumpuser__errtrans(e);
	}
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ALL),
		.sll_ifindex = ifr.ifr_ifindex,
	};
	struct packet_mreq mr = {
		.mr_ifindex = ifr.ifr_ifindex,
		.mr_type = PACKET_MR_PROMISC,
	};
	int one = 1;
	struct afp_priv *ap = calloc(1, sizeof(*ap));
	if (ap == NULL) {
		hyp_host.close(fd);
		return NB_ENOMEM;
	}
	pthread_mutex_init(&ap->txlock, NULL);
	snprintf(ap->ifname, sizeof(ap->ifname), "%s", name);
	p->priv = ap;
	if (pkt_ifmtu(name, &p->info.mtu) != 0)
		p->info.mtu = 1500;
	/* Rings before bind: frames that arrive in between would otherwise
	 * sit in the socket's queue, which the ring path never reads. */
	int rv = o->no_ring ? 0 : afp_ring_setup(p, fd, name, p->info.mtu,
	    !o->no_offload);
	if (rv != 0)
		rumpuser_dprintf("krank-hypercall: afpacket:%s: no PACKET_MMAP "
		    "ring (%s); one system call and copy per frame\n", name,
		    strerror(rv));
	if (hyp_host.bind(fd, (struct sockaddr *)&sll, sizeof(sll)) == -1 ||
	    hyp_host.setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr,
	    sizeof(mr)) == -1 ||
	    hyp_host.setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one,
	    sizeof(one)) == -1) {
		int e = errno;
		p->fd = fd;
		p->be->close(p);
		return rumpuser__errtrans(e);
	}
	p->fd = fd;
	return 0;
}

static void
afp_close(struct hyp_pkt *p)
{
	struct afp_priv *ap = p->priv;

	if (ap != NULL) {
		if (ap->map != NULL)
			hyp_host.munmap(ap->map, ap->maplen);
		pthread_mutex_destroy(&ap->txlock);
		free(ap);
		p->priv = NULL;
	}
	hyp_host.close(p->fd);
	p->fd = -1;
}

/* ---- The copy path: one system call per frame sent. ---- */

static int
afp_copy_send(struct hyp_pkt *p, const struct iovec *iov, int iovcnt,
    size_t len)
{
	struct msghdr mh = { .msg_iov = (struct iovec *)iov,
	    .msg_iovlen = (size_t)iovcnt };
	ssize_t n;

	do {
		n = hyp_host.sendmsg(p->fd, &mh, MSG_DONTWAIT);
		atomic_fetch_add(&p->host_tx_calls, 1);
	} while (n == -1 && errno == EINTR);
	if (n == -1)
		return errno == EAGAIN ? NB_ENOBUFS : rumpuser__errtrans(errno);
	return (size_t)n == len ? 0 : NB_EIO;
}

static int
afp_copy_recv(struct hyp_pkt *p, struct hyp_pkt_frame *f, unsigned max,
    unsigned *np)
{
	struct mmsghdr mm[AFP_BATCH];
	struct iovec iov[AFP_BATCH];
	struct pktbuf *bufs[AFP_BATCH];
	size_t cap = p->bufsz - sizeof(struct pktbuf);
	unsigned want = max < AFP_BATCH ? max : AFP_BATCH, have = 0, n = 0;

	for (; have < want; have++) {
		if ((bufs[have] = pkt_buf_get(p)) == NULL)
			break;
		iov[have] = (struct iovec){ bufs[have]->data, cap };
		memset(&mm[have], 0, sizeof(mm[have]));
		mm[have].msg_hdr.msg_iov = &iov[have];
		mm[have].msg_hdr.msg_iovlen = 1;
	}
	int got = have ? hyp_host.recvmmsg(p->fd, mm, have, MSG_DONTWAIT,
	    NULL) : 0;
	int e = errno;
	if (have)
		atomic_fetch_add(&p->host_rx_calls, 1);
	for (int i = 0; i < got; i++) {
		if ((mm[i].msg_hdr.msg_flags & MSG_TRUNC) ||
		    mm[i].msg_len < HYP_PKT_MINFRAME) {
			afp_rx_drop(p, AFP_SAID_TRUNC, "dropped a received "
			    "frame longer than the MTU (a peer's merged "
			    "segment?  give it offloads or turn its TSO "
			    "off) or a runt");
			pkt_buf_put(p, bufs[i]);
			continue;
		}
		pkt_frame_set(p, &f[n++], bufs[i], mm[i].msg_len);
	}
	for (unsigned i = got > 0 ? (unsigned)got : 0; i < have; i++)
		pkt_buf_put(p, bufs[i]);
	*np = n;
	if (got == -1 && e != EAGAIN && e != EINTR)
		return rumpuser__errtrans(e);
	return 0;
}

/* ---- The ring path. ---- */

/*
 * Hand the kernel every send slot filled so far.  One thread kicks at a
 * time; a sender that finds another kicking leaves its frame to it, and
 * the kicker goes round again while frames were added during its sendto
 * (tx_pending), so no frame is left behind.
 */
static void
afp_kick(struct hyp_pkt *p)
{
	struct afp_priv *ap = p->priv;

	while (atomic_load(&ap->tx_pending) != 0) {
		if (atomic_exchange(&ap->kicking, 1) != 0)
			return;		/* the kicker will see our frames */
		while (atomic_exchange(&ap->tx_pending, 0) != 0) {
			ssize_t n;
			do {
				n = hyp_host.sendto(p->fd, NULL, 0,
				    MSG_DONTWAIT, NULL, 0);
				atomic_fetch_add(&p->host_tx_calls, 1);
			} while (n == -1 && errno == EINTR);
			if (n == -1 && errno != EAGAIN) {
				int e = errno;
				atomic_fetch_add(&p->tx_errors, 1);
				/* Dropped on the direct path: a segment for a
				 * device whose TSO went off since the open?
				 * The qdisc path cuts segments; take it. */
				if (e == ENOBUFS && ap->bypass && ap->vnet &&
				    !afp_dev_tso(p->fd, ap->ifname)) {
					int zero = 0;
					(void)hyp_host.setsockopt(p->fd,
					    SOL_PACKET, PACKET_QDISC_BYPASS,
					    &zero, sizeof(zero));
					ap->bypass = 0;
					afp_say(p, AFP_SAID_BYPASS,
					    "tx_errors", "the kernel dropped "
					    "a send (the device has no TSO "
					    "now): no more qdisc bypass");
				}
			}
		}
		atomic_store(&ap->kicking, 0);
	}
}

static void
afp_flush(struct hyp_pkt *p)
{
	if (p->ring)
		afp_kick(p);
}

static int
afp_ring_send(struct hyp_pkt *p, const struct iovec *iov, int iovcnt,
    size_t len, const struct virtio_net_hdr *vh)
{
	struct afp_priv *ap = p->priv;
	struct tpacket2_hdr *h;
	size_t vhl = ap->vnet ? sizeof(*vh) : 0;

	if (len + vhl > ap->tx.slot - AFP_TX_DATA)
		return NB_EMSGSIZE;
	pthread_mutex_lock(&ap->txlock);
	h = afp_slot(&ap->tx, ap->tx.head);
	if (__atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE) !=
	    TP_STATUS_AVAILABLE) {
		/* Full: frames may be filled but not yet kicked. */
		pthread_mutex_unlock(&ap->txlock);
		afp_kick(p);
		pthread_mutex_lock(&ap->txlock);
		h = afp_slot(&ap->tx, ap->tx.head);
		if (__atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE) !=
		    TP_STATUS_AVAILABLE) {
			pthread_mutex_unlock(&ap->txlock);
			return NB_ENOBUFS;
		}
	}
	unsigned char *d = (unsigned char *)h + AFP_TX_DATA;
	if (vhl) {
		memcpy(d, vh, vhl);
		d += vhl;
	}
	for (int i = 0; i < iovcnt; i++) {
		memcpy(d, iov[i].iov_base, iov[i].iov_len);
		d += iov[i].iov_len;
	}
	h->tp_len = (uint32_t)(vhl + len);
	__atomic_store_n(&h->tp_status, TP_STATUS_SEND_REQUEST,
	    __ATOMIC_RELEASE);
	ap->tx.head = ap->tx.head + 1 == ap->tx.nslots ? 0 : ap->tx.head + 1;
	pthread_mutex_unlock(&ap->txlock);
	/* Inside a receive batch the core flushes after the callback. */
	if (atomic_fetch_add(&ap->tx_pending, 1) + 1 >= AFP_TX_KICK ||
	    !pkt_in_rx(p))
		afp_kick(p);
	return 0;
}

/* Frames the kernel could not fit in a slot also wait in the socket's
 * queue (TP_STATUS_COPY): drop one there so the queue does not fill. */
static void
afp_drop_queued(struct hyp_pkt *p)
{
	char c;
	(void)hyp_host.recv(p->fd, &c, 1, MSG_DONTWAIT | MSG_TRUNC);
	atomic_fetch_add(&p->host_rx_calls, 1);
}

/*
 * What Linux's virtio-net header says of a received frame (pkt_vnet_rx,
 * shared with the tap): 0 with *flp, or -1 when it is dropped (counted in
 * rx_bad, why said once).
 */
static int
afp_rx_offload(struct hyp_pkt *p, const struct virtio_net_hdr *vh,
    unsigned char *frame, size_t len, unsigned *flp)
{
	const char *why = NULL;
	int r = pkt_vnet_rx(p, vh, frame, len, flp, &why);

	if (r == PKT_VNET_OK)
		return 0;
	afp_rx_drop(p, r == PKT_VNET_MERGED ? AFP_SAID_MERGED : AFP_SAID_BAD,
	    why);
	return -1;
}

/*
 * The frame of a TP_STATUS_COPY slot, from the socket's queue behind its
 * virtio-net header, into f: 0, or -1 when it was dropped (no buffer,
 * longer than rx_max, refused by afp_rx_offload; counted).
 */
static int
afp_recv_queued(struct hyp_pkt *p, struct hyp_pkt_frame *f)
{
	struct afp_priv *ap = p->priv;
	size_t cap = p->bufsz - sizeof(struct pktbuf);
	struct virtio_net_hdr vh;
	struct pktbuf *b;

	if (!ap->vnet) {
		/* No threshold is set without the header: not ours. */
		afp_drop_queued(p);
		afp_rx_drop(p, AFP_SAID_TRUNC, "dropped a received frame "
		    "too big for a ring slot");
		return -1;
	}
	if ((b = pkt_buf_get(p)) == NULL) {
		afp_drop_queued(p);
		return -1;
	}
	struct iovec v[2] = { { &vh, sizeof(vh) }, { b->data, cap } };
	struct mmsghdr mm = { .msg_hdr = { .msg_iov = v, .msg_iovlen = 2 } };
	int got;
	do {
		got = hyp_host.recvmmsg(p->fd, &mm, 1, MSG_DONTWAIT | MSG_TRUNC,
		    NULL);
		atomic_fetch_add(&p->host_rx_calls, 1);
	} while (got == -1 && errno == EINTR);
	/* With MSG_TRUNC, msg_len is the whole frame's (and the header's). */
	size_t len = got == 1 && mm.msg_len >= sizeof(vh) ?
	    mm.msg_len - sizeof(vh) : 0;
	unsigned fl = 0;
	if (got != 1) {
		/* The kernel queued it, so it is there: only a rlimit or a
		 * fault loses it. */
		afp_rx_drop(p, AFP_SAID_BAD, "lost a frame too big for a "
		    "ring slot: the socket's queue could not be read");
	} else if ((mm.msg_hdr.msg_flags & MSG_TRUNC) || len > cap) {
		afp_rx_drop(p, AFP_SAID_TRUNC, "dropped a received frame "
		    "longer than rx_max");
	} else if (len < HYP_PKT_MINFRAME) {
		afp_rx_drop(p, AFP_SAID_BAD, "dropped a runt from the "
		    "socket's queue");
	} else if (afp_rx_offload(p, &vh, b->data, len, &fl) == 0) {
		pkt_frame_set(p, f, b, len);
		f->flags = fl;
		return 0;
	}
	pkt_buf_put(p, b);
	return -1;
}

static int
afp_ring_recv(struct hyp_pkt *p, struct hyp_pkt_frame *f, unsigned max,
    unsigned *np)
{
	struct afp_priv *ap = p->priv;
	size_t cap = p->bufsz - sizeof(struct pktbuf);
	unsigned n = 0;

	while (n < max) {
		struct tpacket2_hdr *h = afp_slot(&ap->rx, ap->rx.head);
		uint32_t st = __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);
		struct afp_rx_slot s;
		size_t vhl = ap->vnet ? sizeof(struct virtio_net_hdr) : 0;
		enum afp_rx_verdict v = afp_rx_slot_check(h, st, AFP_SLOT,
		    AFP_TX_DATA + vhl, cap, &s);
		if (v == AFP_RX_EMPTY)
			break;
		struct pktbuf *b = NULL;
		if (v == AFP_RX_OK && (b = pkt_buf_get(p)) != NULL) {
			unsigned fl = 0;
			memcpy(b->data, (unsigned char *)h + s.off, s.len);
			if (vhl) {
				struct virtio_net_hdr vh;
				memcpy(&vh, (unsigned char *)h + s.off - vhl,
				    vhl);
				if (afp_rx_offload(p, &vh, b->data, s.len,
				    &fl) != 0) {
					pkt_buf_put(p, b);
					goto next;
				}
			}
			pkt_frame_set(p, &f[n], b, s.len);
			f[n++].flags = fl;
		} else if (v == AFP_RX_COPY) {
			if (afp_recv_queued(p, &f[n]) == 0)
				n++;
		} else if (v == AFP_RX_BAD) {
			/* Truncated (snaplen < len: no room on the queue for
			 * its copy) or malformed. */
			afp_rx_drop(p, AFP_SAID_TRUNC, "dropped a received "
			    "frame the kernel truncated to a ring slot, or a "
			    "malformed slot");
		}
		/* No buffer: dropped, counted in rx_nobuf by pkt_buf_get. */
	next:
		__atomic_store_n(&h->tp_status, TP_STATUS_KERNEL,
		    __ATOMIC_RELEASE);
		ap->rx.head = ap->rx.head + 1 == ap->rx.nslots ? 0 :
		    ap->rx.head + 1;
	}
	*np = n;
	return 0;
}

static int
afp_ring_ready(struct hyp_pkt *p)
{
	struct afp_priv *ap = p->priv;
	struct tpacket2_hdr *h = afp_slot(&ap->rx, ap->rx.head);
	return (__atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE) &
	    TP_STATUS_USER) != 0;
}

/* ---- The backend: ring when mapped, else copy. ---- */

static int
afp_send(struct hyp_pkt *p, const struct iovec *iov, int iovcnt, size_t len)
{
	struct virtio_net_hdr vh = { .gso_type = VIRTIO_NET_HDR_GSO_NONE };

	if (p->ring)
		return afp_ring_send(p, iov, iovcnt, len, &vh);
	return afp_copy_send(p, iov, iovcnt, len);
}

/* Only offered (HYP_PKT_CAP_CSUM) with rings and PACKET_VNET_HDR; the
 * header's fields are little-endian (virtio 1.0, as on the tap). */
static int
afp_send_meta(struct hyp_pkt *p, const struct iovec *iov, int iovcnt,
    size_t len, const struct hyp_pkt_txmeta *meta)
{
	struct virtio_net_hdr vh = {
		.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
		.gso_type = VIRTIO_NET_HDR_GSO_NONE,
		.csum_start = meta->csum_start,
		.csum_offset = meta->csum_offset,
	};
	if (meta->flags & HYP_PKT_TX_TSO) {
		vh.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
		vh.gso_size = meta->gso_size;
		vh.hdr_len = meta->hdr_len;
	}
	return afp_ring_send(p, iov, iovcnt, len, &vh);
}

static int
afp_recv(struct hyp_pkt *p, unsigned q, struct hyp_pkt_frame *f, unsigned max,
    unsigned *np)
{
	(void)q;			/* one queue */
	if (p->ring)
		return afp_ring_recv(p, f, max, np);
	return afp_copy_recv(p, f, max, np);
}

static int
afp_wait(struct hyp_pkt *p, unsigned q, int timeout_ms, int wrap)
{
	/* A ready slot needs no poll (the kernel may have filled it after
	 * the receiver looked). */
	if (p->ring && afp_ring_ready(p))
		return 0;
	atomic_fetch_add(&p->host_rx_calls, 1);
	return pkt_fd_wait(p, q, timeout_ms, wrap);
}

const struct pkt_backend pkt_afpacket_backend = {
	.prefix = "afpacket",
	.open = afp_open,
	.close = afp_close,
	.send = afp_send,
	.recv = afp_recv,
	.wait = afp_wait,
	.flush = afp_flush,
	.send_meta = afp_send_meta,
};
