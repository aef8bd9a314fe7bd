/*
 * pkt_afpacket.c - packet I/O on an existing Linux interface through an
 * AF_PACKET socket: promiscuous, ignoring our own outgoing frames,
 * receiving in batches with recvmmsg.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include "hyp_pkt_int.h"

#define AFP_BATCH 64

static int
afp_open(struct hyp_pkt *p, const char *name, struct pkt_opts *o)
{
	unsigned idx = if_nametoindex(name);
	if (idx == 0)
		return NB_ENOENT;
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    htons(ETH_P_ALL));
	if (fd == -1)
		return rumpuser__errtrans(errno);
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ALL),
		.sll_ifindex = (int)idx,
	};
	struct packet_mreq mr = {
		.mr_ifindex = (int)idx,
		.mr_type = PACKET_MR_PROMISC,
	};
	int one = 1;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) == -1 ||
	    setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)) == -1 ||
	    setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) == -1) {
		int e = errno;
		close(fd);
		return rumpuser__errtrans(e);
	}
	p->fd = fd;
	if (pkt_ifmtu(name, &p->info.mtu) != 0)
		p->info.mtu = 1500;
	return 0;
}

static void
afp_close(struct hyp_pkt *p)
{
	close(p->fd);
	p->fd = -1;
}

static int
afp_send(struct hyp_pkt *p, const struct iovec *iov, int iovcnt, size_t len)
{
	struct msghdr mh = { .msg_iov = (struct iovec *)iov,
	    .msg_iovlen = (size_t)iovcnt };
	ssize_t n;

	do {
		n = sendmsg(p->fd, &mh, MSG_DONTWAIT);
	} while (n == -1 && errno == EINTR);
	if (n == -1)
		return errno == EAGAIN ? NB_ENOBUFS : rumpuser__errtrans(errno);
	return (size_t)n == len ? 0 : NB_EIO;
}

static int
afp_recv(struct hyp_pkt *p, struct hyp_pkt_frame *f, unsigned max,
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
	int got = have ? recvmmsg(p->fd, mm, have, MSG_DONTWAIT, NULL) : 0;
	int e = errno;
	for (int i = 0; i < got; i++) {
		if ((mm[i].msg_hdr.msg_flags & MSG_TRUNC) ||
		    mm[i].msg_len < HYP_PKT_MINFRAME) {
			atomic_fetch_add(&p->rx_bad, 1);
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

const struct pkt_backend pkt_afpacket_backend = {
	.prefix = "afpacket",
	.open = afp_open,
	.close = afp_close,
	.send = afp_send,
	.recv = afp_recv,
	.wait = pkt_fd_wait,
};
