/*
 * pkt_tap.c - packet I/O over a Linux tap device (/dev/net/tun, IFF_TAP,
 * no packet information header).  Opening a name that does not exist
 * creates the device (CAP_NET_ADMIN); it goes away when closed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <linux/if_tun.h>
#include "hyp_pkt_int.h"

static int
tap_open(struct hyp_pkt *p, const char *name, struct pkt_opts *o)
{
	struct ifreq ifr;
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);

	if (fd == -1)
		return rumpuser__errtrans(errno);
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) == -1) {
		int e = errno;
		close(fd);
		return rumpuser__errtrans(e);
	}
	p->fd = fd;
	if (pkt_ifmtu(ifr.ifr_name, &p->info.mtu) != 0)
		p->info.mtu = 1500;
	return 0;
}

static void
tap_close(struct hyp_pkt *p)
{
	close(p->fd);
	p->fd = -1;
}

static int
tap_send(struct hyp_pkt *p, const struct iovec *iov, int iovcnt, size_t len)
{
	ssize_t n;

	do {
		n = hyp_host.writev(p->fd, iov, iovcnt);
	} while (n == -1 && errno == EINTR);
	if (n == -1)
		return errno == EAGAIN ? NB_ENOBUFS : rumpuser__errtrans(errno);
	return (size_t)n == len ? 0 : NB_EIO;
}

static int
tap_recv(struct hyp_pkt *p, struct hyp_pkt_frame *f, unsigned max,
    unsigned *np)
{
	unsigned n = 0;
	size_t cap = p->bufsz - sizeof(struct pktbuf);

	while (n < max) {
		struct pktbuf *b = pkt_buf_get(p);
		if (b == NULL)
			break;
		ssize_t len = read(p->fd, b->data, cap);
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
		if ((size_t)len < HYP_PKT_MINFRAME) {
			atomic_fetch_add(&p->rx_bad, 1);
			pkt_buf_put(p, b);
			continue;
		}
		pkt_frame_set(p, &f[n++], b, (size_t)len);
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
};
