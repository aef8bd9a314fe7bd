/*
 * pkt_tap.c - packet I/O over a Linux tap device (/dev/net/tun, IFF_TAP,
 * no packet information header).  Opening a name that does not exist
 * creates the device (CAP_NET_ADMIN); it goes away when closed.
 *
 * Offloads (unless the spec says offload=no): the tap is opened with
 * IFF_VNET_HDR, so every frame crossing it carries a virtio-net header.
 * Frames KRANK sends may leave the TCP checksum to Linux (NEEDS_CSUM)
 * and may be 64 KB TCP segments that Linux cuts into MTU-sized ones
 * (GSO, HYP_PKT_CAP_TSO): one write per 64 KB instead of per 1,500
 * bytes, and no software checksum.  With TUNSETOFFLOAD Linux may send
 * KRANK frames whose checksum is partial or already checked, and merged
 * segments of up to 64 KB (its GRO); they are delivered marked
 * HYP_PKT_FRAME_CSUM_OK to a receiver that accepts that, and completed
 * (or, if merged, dropped and counted) for one that does not.
 *
 * Run to completion (HYP_PKT_CAP_POLL): the descriptor is non-blocking,
 * so a thread about to sleep for network input may read the tap itself
 * (hyp_pkt_rx_poll: one read that finds nothing costs a host call, not a
 * wakeup of the receive thread and then of the waiter).  A poller's look
 * after an empty one takes one frame (poll_max): it goes up as soon as it
 * is read, without a second read to find the queue empty.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include "hostcalls.h"
#include "hyp_pkt_int.h"

/* The largest frame with offloads: an IPv4 datagram and its header. */
#define TAP_GSO_MAX	(65535 + HYP_PKT_HDRLEN)

/* Taps handed over by hyp_pkt_tap_adopt, until their port is opened. */
#define TAP_ADOPT_MAX 16
static struct {
	char name[IFNAMSIZ];
	int fd;				/* 0: free slot, else fd + 1 */
} adopted[TAP_ADOPT_MAX];
static pthread_mutex_t adopt_lock = PTHREAD_MUTEX_INITIALIZER;

int
hyp_pkt_tap_adopt(const char *name, int fd)
{
	struct ifreq ifr;
	int rv = NB_EBUSY;

	if (name == NULL || fd < 0 || strlen(name) >= IFNAMSIZ)
		return NB_EINVAL;
	memset(&ifr, 0, sizeof(ifr));
	/* IFF_VNET_HDR may be on or off: tap_open asks again. */
	if (hyp_host.ioctl(fd, TUNGETIFF, &ifr) == -1 ||
	    strcmp(ifr.ifr_name, name) != 0 ||
	    (ifr.ifr_flags & (IFF_TAP | IFF_NO_PI)) != (IFF_TAP | IFF_NO_PI))
		return NB_EINVAL;
	pthread_mutex_lock(&adopt_lock);
	for (int i = 0; i < TAP_ADOPT_MAX; i++) {
		if (adopted[i].fd == 0) {
			snprintf(adopted[i].name, sizeof(adopted[i].name), "%s",
			    name);
			adopted[i].fd = fd + 1;
			rv = 0;
			break;
		}
	}
	pthread_mutex_unlock(&adopt_lock);
	return rv;
}

/* The adopted descriptor of tap name (now the caller's), or -1. */
static int
adopt_take(const char *name)
{
	int fd = -1;

	pthread_mutex_lock(&adopt_lock);
	for (int i = 0; i < TAP_ADOPT_MAX; i++) {
		if (adopted[i].fd != 0 && strcmp(adopted[i].name, name) == 0) {
			fd = adopted[i].fd - 1;
			adopted[i].fd = 0;
			break;
		}
	}
	pthread_mutex_unlock(&adopt_lock);
	return fd;
}

/* Per-port state: whether frames carry a virtio-net header. */
struct tap_priv {
	int vnet;
};

/*
 * Turn the offloads on for fd, a tap with IFF_VNET_HDR: the header's size
 * (the plain 10-byte one), and what Linux may hand KRANK (partial
 * checksums, merged TCP/IPv4 segments).  0, or the host's errno.
 */
static int
tap_offload(int fd)
{
	int sz = (int)sizeof(struct virtio_net_hdr);

	if (hyp_host.ioctl(fd, TUNSETVNETHDRSZ, &sz) == -1 ||
	    hyp_host.ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4) == -1)
		return errno;
	return 0;
}

static int
tap_open(struct hyp_pkt *p, const char *name, struct pkt_opts *o)
{
	struct ifreq ifr;
	struct tap_priv *tp = calloc(1, sizeof(*tp));
	int fd = adopt_take(name), e;

	if (tp == NULL) {
		if (fd >= 0)
			hyp_host.close(fd);
		return NB_ENOMEM;
	}
	if (fd >= 0) {
		int fl = hyp_host.fcntl(fd, F_GETFL);
		if (fl == -1 || hyp_host.fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1)
			goto fail;
		memset(&ifr, 0, sizeof(ifr));
		if (hyp_host.ioctl(fd, TUNGETIFF, &ifr) == -1)
			goto fail;
		/* The embedder chose: a tap made without the header cannot
		 * get one now. */
		tp->vnet = (ifr.ifr_flags & IFF_VNET_HDR) != 0;
		if (tp->vnet && o->no_offload) {
			/* Ours to turn off: no offloads, a zero header. */
			if (hyp_host.ioctl(fd, TUNSETOFFLOAD, 0) == -1)
				goto fail;
		} else if (tp->vnet && tap_offload(fd) != 0)
			goto fail;
	} else {
		fd = hyp_host.open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
		if (fd == -1) {
			free(tp);
			return rumpuser__errtrans(errno);
		}
		memset(&ifr, 0, sizeof(ifr));
		ifr.ifr_flags = IFF_TAP | IFF_NO_PI |
		    (o->no_offload ? 0 : IFF_VNET_HDR);
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
		if (hyp_host.ioctl(fd, TUNSETIFF, &ifr) == -1)
			goto fail;
		tp->vnet = !o->no_offload;
		if (tp->vnet && tap_offload(fd) != 0)
			goto fail;
	}
	p->fd = fd;
	p->priv = tp;
	if (pkt_ifmtu(name, &p->info.mtu) != 0)
		p->info.mtu = 1500;
	p->info.caps |= HYP_PKT_CAP_POLL;
	if (tp->vnet && !o->no_offload) {
		p->info.caps |= HYP_PKT_CAP_CSUM | HYP_PKT_CAP_TSO;
		p->info.gso_max = TAP_GSO_MAX;
		p->info.rx_max = TAP_GSO_MAX;
	}
	return 0;
fail:
	e = errno;
	hyp_host.close(fd);
	free(tp);
	return rumpuser__errtrans(e);
}

static void
tap_close(struct hyp_pkt *p)
{
	hyp_host.close(p->fd);
	p->fd = -1;
	free(p->priv);
	p->priv = NULL;
}

/* Write one frame, behind its virtio-net header when the tap has one. */
static int
tap_write(struct hyp_pkt *p, const struct iovec *iov, int iovcnt, size_t len,
    const struct virtio_net_hdr *vh)
{
	const struct tap_priv *tp = p->priv;
	struct iovec v[65];
	ssize_t n;

	if (tp->vnet) {
		v[0].iov_base = (void *)vh;
		v[0].iov_len = sizeof(*vh);
		memcpy(v + 1, iov, sizeof(*iov) * (size_t)iovcnt);
		iov = v;
		iovcnt++;
		len += sizeof(*vh);
	}
	do {
		n = hyp_host.writev(p->fd, iov, iovcnt);
		atomic_fetch_add(&p->host_tx_calls, 1);
	} while (n == -1 && errno == EINTR);
	if (n == -1)
		return errno == EAGAIN ? NB_ENOBUFS : rumpuser__errtrans(errno);
	return (size_t)n == len ? 0 : NB_EIO;
}

static int
tap_send(struct hyp_pkt *p, const struct iovec *iov, int iovcnt, size_t len)
{
	struct virtio_net_hdr vh = { .gso_type = VIRTIO_NET_HDR_GSO_NONE };

	return tap_write(p, iov, iovcnt, len, &vh);
}

static int
tap_send_meta(struct hyp_pkt *p, const struct iovec *iov, int iovcnt,
    size_t len, const struct hyp_pkt_txmeta *meta)
{
	/* The fields are little-endian (virtio 1.0; a tap's default on
	 * x86 and arm64 alike, which are little-endian). */
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
	return tap_write(p, iov, iovcnt, len, &vh);
}


static int
tap_recv(struct hyp_pkt *p, unsigned q, struct hyp_pkt_frame *f, unsigned max,
    unsigned *np)
{
	const struct tap_priv *tp = p->priv;
	unsigned n = 0;
	size_t cap = p->bufsz - sizeof(struct pktbuf);

	(void)q;			/* one queue */

	while (n < max) {
		struct pktbuf *b = pkt_buf_get(p);
		if (b == NULL)
			break;
		struct virtio_net_hdr vh;
		struct iovec v[2] = { { &vh, sizeof(vh) }, { b->data, cap } };
		ssize_t len = tp->vnet ? hyp_host.readv(p->fd, v, 2) :
		    hyp_host.read(p->fd, b->data, cap);
		atomic_fetch_add(&p->host_rx_calls, 1);
		if (len == -1) {
			int e = errno;
			pkt_buf_put(p, b);
			if (e == EINTR)
				continue;
			if (e == EAGAIN || n > 0)
				break;
			*np = n;
			return rumpuser__errtrans(e);
		}
		if (tp->vnet)
			len -= (ssize_t)sizeof(vh);
		if (len < HYP_PKT_MINFRAME) {
			atomic_fetch_add(&p->rx_bad, 1);
			pkt_buf_put(p, b);
			continue;
		}
		unsigned fl = 0;
		const char *why;
		if (tp->vnet && pkt_vnet_rx(p, &vh, b->data, (size_t)len, &fl,
		    &why) != PKT_VNET_OK) {
			atomic_fetch_add(&p->rx_bad, 1);
			pkt_buf_put(p, b);
			continue;
		}
		pkt_frame_set(p, &f[n], b, (size_t)len);
		f[n++].flags = fl;
	}
	*np = n;
	return 0;
}

const struct pkt_backend pkt_tap_backend = {
	.prefix = "tap",
	.open = tap_open,
	.close = tap_close,
	.send = tap_send,
	.recv = tap_recv,
	.wait = pkt_fd_wait,
	.send_meta = tap_send_meta,
	.poll_max = 1,
};
