/*
 * hostnet_user.c - the host half of hostnet: Linux sockets, always
 * non-blocking, and an epoll set whose events the kernel half's poller
 * thread turns into wakeups.  Part of the hypercall library (the only
 * code that talks to the host); errors leave as NetBSD numbers.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <krank/rumpuser_component.h>
#include "hostnet_user.h"

_Static_assert(sizeof(struct hyp_hsock_iov) == sizeof(struct iovec) &&
    offsetof(struct hyp_hsock_iov, iov_len) == offsetof(struct iovec, iov_len),
    "hyp_hsock_iov is not struct iovec");

#define ET(e)	rumpuser_component_errtrans(e)

int
hyp_hsock_revision(void)
{
	return HYP_HSOCK_REVISION;
}

int
hyp_hsock_open(int family, int type, int *hfd)
{
	if ((family != AF_INET && family != AF_INET6) ||
	    (type != SOCK_STREAM && type != SOCK_DGRAM))
		return ET(EAFNOSUPPORT);
	int s = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s < 0)
		return ET(errno);
	*hfd = s;
	return 0;
}

int
hyp_hsock_close(int hfd)
{
	/* Linux closes the descriptor even when close reports EINTR. */
	return close(hfd) == 0 || errno == EINTR ? 0 : ET(errno);
}

int
hyp_hsock_connect(int hfd, const void *sa, uint32_t salen)
{
	int rv;
	do
		rv = connect(hfd, sa, salen);
	while (rv < 0 && errno == EINTR);
	return rv == 0 ? 0 : ET(errno);
}

int
hyp_hsock_send(int hfd, const struct hyp_hsock_iov *iov, int iovcnt,
    const void *to, uint32_t tolen, size_t *done)
{
	struct msghdr m = {
		.msg_name = (void *)to, .msg_namelen = to ? tolen : 0,
		.msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)iovcnt,
	};
	ssize_t n;
	do
		n = sendmsg(hfd, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return ET(errno);
	*done = (size_t)n;
	return 0;
}

int
hyp_hsock_recv(int hfd, const struct hyp_hsock_iov *iov, int iovcnt,
    int flags, void *from, uint32_t *fromlen, size_t *done)
{
	struct msghdr m = {
		.msg_name = from, .msg_namelen = from ? *fromlen : 0,
		.msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)iovcnt,
	};
	int hf = MSG_DONTWAIT | ((flags & HYP_HSOCK_PEEK) ? MSG_PEEK : 0) |
	    ((flags & HYP_HSOCK_TRUNC) ? MSG_TRUNC : 0);
	ssize_t n;
	do
		n = recvmsg(hfd, &m, hf);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return ET(errno);
	if (from != NULL)
		*fromlen = m.msg_namelen;
	*done = (size_t)n;
	return 0;
}

int
hyp_hsock_shutdown(int hfd, int how)
{
	return shutdown(hfd, how) == 0 ? 0 : ET(errno);
}

int
hyp_hsock_name(int hfd, int peer, void *sa, uint32_t *salen)
{
	socklen_t l = *salen;
	int rv = peer ? getpeername(hfd, sa, &l) : getsockname(hfd, sa, &l);
	if (rv != 0)
		return ET(errno);
	*salen = l;
	return 0;
}

int
hyp_hsock_setopt(int hfd, int level, int name, const void *val, uint32_t len)
{
	return setsockopt(hfd, level, name, val, len) == 0 ? 0 : ET(errno);
}

int
hyp_hsock_getopt(int hfd, int level, int name, void *val, uint32_t *len)
{
	socklen_t l = *len;
	if (getsockopt(hfd, level, name, val, &l) != 0)
		return ET(errno);
	*len = l;
	return 0;
}

int
hyp_hsock_poll(int hfd, int events, int *revents)
{
	struct pollfd p = { .fd = hfd, .events = (short)events };
	int rv;
	do
		rv = poll(&p, 1, 0);
	while (rv < 0 && errno == EINTR);
	if (rv < 0)
		return ET(errno);
	*revents = rv > 0 ? p.revents : 0;
	return 0;
}

int
hyp_hsock_error(int hfd, int *err)
{
	int e = 0;
	socklen_t l = sizeof(e);
	if (getsockopt(hfd, SOL_SOCKET, SO_ERROR, &e, &l) != 0)
		return ET(errno);
	*err = ET(e);
	return 0;
}

int
hyp_hsock_nread(int hfd, int *n)
{
	return ioctl(hfd, FIONREAD, n) == 0 ? 0 : ET(errno);
}

struct hyp_hsock_ev {
	int ep;
	int wake;			/* eventfd; its cookie is ~0 */
};

#define EV_WAKE	(~(uint64_t)0)

int
hyp_hsock_evcreate(struct hyp_hsock_ev **evp)
{
	struct hyp_hsock_ev *ev = calloc(1, sizeof(*ev));
	if (ev == NULL)
		return ET(ENOMEM);
	ev->ep = epoll_create1(EPOLL_CLOEXEC);
	ev->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	struct epoll_event e = { .events = EPOLLIN, .data.u64 = EV_WAKE };
	if (ev->ep < 0 || ev->wake < 0 ||
	    epoll_ctl(ev->ep, EPOLL_CTL_ADD, ev->wake, &e) != 0) {
		int err = errno;
		if (ev->ep >= 0)
			close(ev->ep);
		if (ev->wake >= 0)
			close(ev->wake);
		free(ev);
		return ET(err);
	}
	*evp = ev;
	return 0;
}

void
hyp_hsock_evdestroy(struct hyp_hsock_ev *ev)
{
	close(ev->ep);
	close(ev->wake);
	free(ev);
}

int
hyp_hsock_evadd(struct hyp_hsock_ev *ev, int hfd, uint64_t cookie)
{
	struct epoll_event e = {
		.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
		.data.u64 = cookie,
	};
	if (cookie == EV_WAKE)
		return ET(EINVAL);
	return epoll_ctl(ev->ep, EPOLL_CTL_ADD, hfd, &e) == 0 ? 0 : ET(errno);
}

int
hyp_hsock_evdel(struct hyp_hsock_ev *ev, int hfd)
{
	return epoll_ctl(ev->ep, EPOLL_CTL_DEL, hfd, NULL) == 0 ? 0 : ET(errno);
}

int
hyp_hsock_evwait(struct hyp_hsock_ev *ev, uint64_t *cookies, int max,
    int *n)
{
	struct epoll_event e[64];
	int got, k = 0;

	if (max > 64)
		max = 64;
	do
		got = epoll_wait(ev->ep, e, max, -1);
	while (got < 0 && errno == EINTR);
	if (got < 0)
		return ET(errno);
	for (int i = 0; i < got; i++) {
		if (e[i].data.u64 == EV_WAKE) {
			uint64_t v;
			(void)!read(ev->wake, &v, sizeof(v));
			continue;
		}
		cookies[k++] = e[i].data.u64;
	}
	*n = k;
	return 0;
}

void
hyp_hsock_evwake(struct hyp_hsock_ev *ev)
{
	uint64_t one = 1;
	(void)!write(ev->wake, &one, sizeof(one));
}
