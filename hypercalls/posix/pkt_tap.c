/*
 * pkt_tap.c - packet I/O over a Linux tap device (/dev/net/tun, IFF_TAP,
 * no packet information header).  Opening a name that does not exist
 * creates the device (CAP_NET_ADMIN); it goes away when closed.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <linux/if_tun.h>
#include "hyp_pkt_int.h"

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
	if (ioctl(fd, TUNGETIFF, &ifr) == -1 ||
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

static int
tap_open(struct hyp_pkt *p, const char *name, struct pkt_opts *o)
{
	struct ifreq ifr;
	int fd = adopt_take(name);

	if (fd >= 0) {
		int fl = fcntl(fd, F_GETFL);
		if (fl == -1 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1) {
			int e = errno;
			close(fd);
			return rumpuser__errtrans(e);
		}
		p->fd = fd;
		if (pkt_ifmtu(name, &p->info.mtu) != 0)
			p->info.mtu = 1500;
		return 0;
	}
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
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
