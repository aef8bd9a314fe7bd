/*
 * krq_sockets.c - the socket calls and poll of krank.proto over
 * rumpdrv/net (krs_socket ...): addresses are checked and converted from
 * SockAddr to struct sockaddr_in, data moves between the caller's buffer
 * and the socket buffers directly.  Blocking calls block the calling
 * thread (its ring); a non-blocking descriptor answers EAGAIN.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <krank/krs.h>
#include "net/krs_net.h"

#include "krq_call.h"

/* A socket address of either family: AF_INET for KRANK's stack and
 * hostnet, AF_INET6 for hostnet sockets only (KRANK's stack answers it
 * with EAFNOSUPPORT). */
union krq_sa {
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
};

/* SockAddr -> sockaddr_in or sockaddr_in6 and its length; EAFNOSUPPORT
 * for another family. */
static int
krq_sin(struct krq_caller *c, const Krank__SockAddr *a, union krq_sa *s,
    uint32_t *lenp)
{
	if (a == NULL)
		return EDESTADDRREQ;
	if (a->family != AF_INET && a->family != AF_INET6)
		return EAFNOSUPPORT;
	size_t alen = a->family == AF_INET ? 4 : 16;
	if (a->port > 65535 || a->addr.len != alen || a->addr.data == NULL)
		return krq_malformed_arg(c, EINVAL);
	memset(s, 0, sizeof(*s));
	if (a->family == AF_INET) {
		s->in.sin_family = AF_INET;
		s->in.sin_port = htons((uint16_t)a->port);
		memcpy(&s->in.sin_addr, a->addr.data, 4);
		*lenp = sizeof(s->in);
	} else {
		s->in6.sin6_family = AF_INET6;
		s->in6.sin6_port = htons((uint16_t)a->port);
		memcpy(&s->in6.sin6_addr, a->addr.data, 16);
		*lenp = sizeof(s->in6);
	}
	return 0;
}

/* sockaddr_in(6) -> r->addr (scratch). */
static int
krq_addr_out(const union krq_sa *s, uint32_t len, Krank__Response *r)
{
	Krank__SockAddr *a = krq_scratch(sizeof(*a));
	uint8_t *b = krq_scratch(16);
	if (a == NULL || b == NULL)
		return ENOMEM;
	krank__sock_addr__init(a);
	if (len >= sizeof(s->in) && s->in.sin_family == AF_INET) {
		a->family = AF_INET;
		a->port = ntohs(s->in.sin_port);
		memcpy(b, &s->in.sin_addr, 4);
		a->addr.data = b;
		a->addr.len = 4;
	} else if (len >= sizeof(s->in6) && s->in6.sin6_family == AF_INET6) {
		a->family = AF_INET6;
		a->port = ntohs(s->in6.sin6_port);
		memcpy(b, &s->in6.sin6_addr, 16);
		a->addr.data = b;
		a->addr.len = 16;
	}
	r->addr = a;
	return 0;
}

/* Make a new descriptor non-blocking for a caller that must never wait. */
static void
krq_noblock(struct krq_caller *c, int fd)
{
	if ((c->flags & KRQ_CALLER_NOBLOCK) && fd >= 0) {
		int fl = krs_fcntl(fd, KRS_F_GETFL);
		if (fl >= 0)
			krs_fcntl(fd, KRS_F_SETFL, fl | KRS_O_NONBLOCK);
	}
}

int
krq_h_socket(struct krq_caller *c, const Krank__Socket *a, Krank__Response *r)
{
	int type = a->type;

	if (c->flags & KRQ_CALLER_NOBLOCK)
		type |= SOCK_NONBLOCK;
	KRQ_RET(r, krs_socket(a->domain, type, a->protocol));
}

int
krq_h_bind(struct krq_caller *c, const Krank__Bind *a, Krank__Response *r)
{
	union krq_sa s;
	uint32_t sl;
	int err = krq_sin(c, a->addr, &s, &sl);
	if (err != 0)
		return err == EDESTADDRREQ ? krq_malformed_arg(c, EINVAL) : err;
	KRQ_RET(r, krs_bind(a->fd, &s, sl));
}

int
krq_h_listen(struct krq_caller *c, const Krank__Listen *a, Krank__Response *r)
{
	KRQ_RET(r, krs_listen(a->fd, a->backlog));
}

int
krq_h_accept(struct krq_caller *c, const Krank__Accept *a, Krank__Response *r)
{
	union krq_sa s;
	uint32_t len = sizeof(s);

	if (a->flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC))
		return EINVAL;
	memset(&s, 0, sizeof(s));
	int fd = krs_accept(a->fd, &s, &len);
	if (fd < 0)
		return errno;
	if (a->flags & SOCK_NONBLOCK)
		krs_fcntl(fd, KRS_F_SETFL, krs_fcntl(fd, KRS_F_GETFL) |
		    KRS_O_NONBLOCK);
	if (a->flags & SOCK_CLOEXEC)
		krs_fcntl(fd, KRS_F_SETFD, KRS_FD_CLOEXEC);
	krq_noblock(c, fd);
	r->value = fd;
	return krq_addr_out(&s, len, r);
}

int
krq_h_connect(struct krq_caller *c, const Krank__Connect *a, Krank__Response *r)
{
	union krq_sa s;
	uint32_t sl;
	int err = krq_sin(c, a->addr, &s, &sl);
	if (err != 0)
		return err == EDESTADDRREQ ? krq_malformed_arg(c, EINVAL) : err;
	KRQ_RET(r, krs_connect(a->fd, &s, sl));
}

/* ---- the send queue of asynchronous sends (KRQ_SEND_ALL) ---------------- */

/* One send's bytes the socket had no room for: data[off..len), in order
 * behind the chunks before it of the same descriptor; after the last one
 * is sent, the descriptor is shut down for writing or closed when the
 * program asked for that meanwhile. */
struct krq_sendq {
	struct krq_sendq *next;
	int fd;
	bool shut_wr, close;
	size_t off, len;
	char data[];
};

static bool
krq_nbio(struct krq_caller *c, int fd)
{
	int fl = krs_fcntl(fd, KRS_F_GETFL);
	return (c->flags & KRQ_CALLER_NOBLOCK) ||
	    (fl >= 0 && (fl & KRS_O_NONBLOCK));
}

/* sendq_lock held: send fd's queued chunks, in order, waiting for room
 * unless the socket is non-blocking or !block.  0 (none left), EAGAIN
 * (some left), or the socket's error (fd's chunks dropped). */
static int
krq_sendq_push(struct krq_caller *c, int fd, bool block)
{
	struct krq_sendq **pp = &c->sendq, *q;
	int err = 0;

	while ((q = *pp) != NULL) {
		if (q->fd != fd) {
			pp = &q->next;
			continue;
		}
		while (err == 0 && q->off < q->len) {
			ssize_t n = krs_send(fd, q->data + q->off,
			    q->len - q->off, block ? 0 : KRS_MSG_DONTWAIT);
			if (n > 0) {
				q->off += (size_t)n;
				c->sendq_bytes -= (size_t)n;
			} else if (n < 0 && errno == EAGAIN)
				return EAGAIN;
			else
				err = n < 0 ? errno : EPIPE;
		}
		c->sendq_bytes -= q->len - q->off;
		if (err == 0 && q->shut_wr)
			krs_sock_shutdown(fd, SHUT_WR);
		if (q->close)
			krs_close(fd);
		*pp = q->next;
		free(q);
	}
	return err;
}

static size_t
krq_sendq_held(struct krq_caller *c, int fd)
{
	size_t b = 0;

	for (struct krq_sendq *q = c->sendq; q != NULL; q = q->next)
		if (q->fd == fd)
			b += q->len - q->off;
	return b;
}

int
krq_sendq_flush_fd(struct krq_caller *c, int fd, bool block)
{
	if (__atomic_load_n(&c->sendq, __ATOMIC_ACQUIRE) == NULL)
		return 0;
	pthread_mutex_lock(&c->sendq_lock);
	int err = krq_sendq_push(c, fd, block && !krq_nbio(c, fd));
	pthread_mutex_unlock(&c->sendq_lock);
	return err;
}

/* The last queued chunk of fd, or NULL. */
static struct krq_sendq *
krq_sendq_last(struct krq_caller *c, int fd)
{
	struct krq_sendq *last = NULL;

	for (struct krq_sendq *q = c->sendq; q != NULL; q = q->next)
		if (q->fd == fd)
			last = q;
	return last;
}

bool
krq_sendq_close(struct krq_caller *c, int fd)
{
	bool later = false;

	pthread_mutex_lock(&c->sendq_lock);
	if (krq_sendq_push(c, fd, false) == EAGAIN) {
		krq_sendq_last(c, fd)->close = true;
		later = true;
	}
	pthread_mutex_unlock(&c->sendq_lock);
	return later;
}

/* At a poll: every descriptor's queue as far as its socket takes it.
 * True when bytes remain. */
static bool
krq_sendq_flush_all(struct krq_caller *c)
{
	int tried[64];
	size_t nt = 0;
	bool left = false;

	pthread_mutex_lock(&c->sendq_lock);
	for (;;) {
		struct krq_sendq *q;
		for (q = c->sendq; q != NULL; q = q->next) {
			size_t i;
			for (i = 0; i < nt && tried[i] != q->fd; i++)
				;
			if (i == nt)
				break;
		}
		if (q == NULL)
			break;
		if (nt == sizeof(tried) / sizeof(tried[0])) {
			left = true;	/* more next time */
			break;
		}
		tried[nt++] = q->fd;
		if (krq_sendq_push(c, q->fd, false) == EAGAIN)
			left = true;
	}
	pthread_mutex_unlock(&c->sendq_lock);
	return left;
}

static bool
krq_sendq_has(struct krq_caller *c, int fd)
{
	pthread_mutex_lock(&c->sendq_lock);
	bool has = krq_sendq_last(c, fd) != NULL;
	pthread_mutex_unlock(&c->sendq_lock);
	return has;
}

void
krq_sendq_free(struct krq_caller *c)
{
	struct krq_sendq *q;

	while ((q = c->sendq) != NULL) {
		c->sendq = q->next;
		free(q);
	}
	c->sendq_bytes = 0;
}

/*
 * An asynchronous send: the client did not wait and told its program
 * every byte was sent, so KRANK takes them all.  What the socket has no
 * room for is queued behind fd's earlier bytes (bounded per descriptor
 * and per caller: beyond, ENOBUFS and a count); the answer's value is
 * how many bytes of fd wait in the queue after this send.
 */
static int
krq_send_all(struct krq_caller *c, int fd, const void *p, size_t n,
    int flags, Krank__Response *r)
{
	bool nb = krq_nbio(c, fd);
	size_t sent = 0;
	int err;

	flags &= ~KRQ_SEND_ALL;
	if (nb)
		flags |= KRS_MSG_DONTWAIT;
	pthread_mutex_lock(&c->sendq_lock);
	err = krq_sendq_push(c, fd, !nb);
	if (err == 0 && n > 0) {
		ssize_t v = krs_send(fd, p, n, flags);
		if (v >= 0)
			sent = (size_t)v;
		else if (errno != EAGAIN)
			err = errno;
	}
	if (err != 0 && err != EAGAIN)
		goto out;
	err = 0;
	if (sent < n) {
		size_t more = n - sent;
		struct krq_sendq *q = NULL;
		if (krq_sendq_held(c, fd) + more > KRQ_SENDQ_FD_MAX ||
		    c->sendq_bytes + more > KRQ_SENDQ_MAX ||
		    (q = malloc(sizeof(*q) + more)) == NULL) {
			atomic_fetch_add_explicit(&c->sendq_refused, 1,
			    memory_order_relaxed);
			err = ENOBUFS;
			goto out;
		}
		*q = (struct krq_sendq){ .fd = fd, .len = more };
		memcpy(q->data, (const char *)p + sent, more);
		struct krq_sendq **pp = &c->sendq;
		while (*pp != NULL)
			pp = &(*pp)->next;
		__atomic_store_n(pp, q, __ATOMIC_RELEASE);
		c->sendq_bytes += more;
	}
	r->value = (int64_t)krq_sendq_held(c, fd);
out:
	pthread_mutex_unlock(&c->sendq_lock);
	return err;
}

static int
krq_sendto(struct krq_caller *c, int fd, const Krank__Data *d, int flags,
    const Krank__SockAddr *to, Krank__Response *r)
{
	const void *p;
	size_t n;
	union krq_sa s;
	uint32_t sl;
	int err = krq_data(c, d, &p, &n);
	if (err != 0)
		return err;
	if (flags & KRQ_SEND_ALL) {
		if (to != NULL)
			return krq_malformed_arg(c, EINVAL);
		return krq_send_all(c, fd, p, n, flags, r);
	}
	if (c->flags & KRQ_CALLER_NOBLOCK)
		flags |= KRS_MSG_DONTWAIT;
	/* Bytes of earlier asynchronous sends go first (EAGAIN for a
	 * non-blocking socket they still fill, as a full buffer would). */
	if ((err = krq_sendq_flush_fd(c, fd, !(flags & KRS_MSG_DONTWAIT))) != 0)
		return err;
	if (to == NULL)
		KRQ_RET(r, krs_send(fd, p, n, flags));
	if ((err = krq_sin(c, to, &s, &sl)) != 0)
		return err;
	KRQ_RET(r, krs_sendto(fd, p, n, flags, &s, sl));
}

static int
krq_recvfrom(struct krq_caller *c, int fd, const Krank__Dest *d, int flags,
    bool from, Krank__Response *r)
{
	void *p;
	size_t n;
	union krq_sa s;
	uint32_t len = sizeof(s);
	int err = krq_dest(c, d, r, &p, &n);
	if (err != 0)
		return err;
	if (c->flags & KRQ_CALLER_NOBLOCK)
		flags |= KRS_MSG_DONTWAIT;
	memset(&s, 0, sizeof(s));
	ssize_t got = from ? krs_recvfrom(fd, p, n, flags, &s, &len) :
	    krs_recv(fd, p, n, flags);
	if (got < 0)
		return errno;
	/* MSG_TRUNC may report more than fitted; only n bytes landed. */
	krq_dest_done(r, (size_t)got < n ? (size_t)got : n);
	r->value = got;
	return from ? krq_addr_out(&s, len, r) : 0;
}

int
krq_h_send(struct krq_caller *c, const Krank__Send *a, Krank__Response *r)
{
	return krq_sendto(c, a->fd, a->data, a->flags, NULL, r);
}

int
krq_h_sendto(struct krq_caller *c, const Krank__Sendto *a, Krank__Response *r)
{
	return krq_sendto(c, a->fd, a->data, a->flags, a->to, r);
}

int
krq_h_recv(struct krq_caller *c, const Krank__Recv *a, Krank__Response *r)
{
	return krq_recvfrom(c, a->fd, a->dest, a->flags, false, r);
}

int
krq_h_recvfrom(struct krq_caller *c, const Krank__Recvfrom *a,
    Krank__Response *r)
{
	return krq_recvfrom(c, a->fd, a->dest, a->flags, true, r);
}

int
krq_h_shutdown(struct krq_caller *c, const Krank__Shutdown *a,
    Krank__Response *r)
{
	if ((a->how == SHUT_WR || a->how == SHUT_RDWR) &&
	    __atomic_load_n(&c->sendq, __ATOMIC_ACQUIRE) != NULL) {
		/* After the queued bytes, as Linux sends its FIN after the
		 * send buffer. */
		pthread_mutex_lock(&c->sendq_lock);
		bool later = krq_sendq_push(c, a->fd, false) == EAGAIN;
		if (later)
			krq_sendq_last(c, a->fd)->shut_wr = true;
		pthread_mutex_unlock(&c->sendq_lock);
		if (later && a->how == SHUT_WR) {
			r->value = 0;
			return 0;
		}
		if (later)
			KRQ_RET(r, krs_sock_shutdown(a->fd, SHUT_RD));
	}
	KRQ_RET(r, krs_sock_shutdown(a->fd, a->how));
}

int
krq_h_getsockopt(struct krq_caller *c, const Krank__Getsockopt *a,
    Krank__Response *r)
{
	if (a->length > KRANK__LIMIT__LIMIT_SOCKOPT_MAX)
		return krq_malformed_arg(c, EINVAL);
	uint8_t *v = krq_scratch(KRANK__LIMIT__LIMIT_SOCKOPT_MAX);
	uint32_t len = a->length;
	if (v == NULL)
		return ENOMEM;
	memset(v, 0, KRANK__LIMIT__LIMIT_SOCKOPT_MAX);
	if (krs_getsockopt(a->fd, a->level, a->name, v, &len) != 0)
		return errno;
	if (len > a->length)
		len = a->length;
	r->result_case = KRANK__RESPONSE__RESULT_SOCKOPT;
	r->sockopt.data = v;
	r->sockopt.len = len;
	r->value = len;
	return 0;
}

int
krq_h_setsockopt(struct krq_caller *c, const Krank__Setsockopt *a,
    Krank__Response *r)
{
	uint8_t v[KRANK__LIMIT__LIMIT_SOCKOPT_MAX];

	if (a->value.len > sizeof(v) || (a->value.len > 0 && a->value.data == NULL))
		return krq_malformed_arg(c, EINVAL);
	/* A lingering close would make a never-waiting caller wait. */
	if ((c->flags & KRQ_CALLER_NOBLOCK) && a->level == KRS_SOL_SOCKET &&
	    a->name == KRS_SO_LINGER)
		return EPERM;
	if (a->value.len > 0)
		memcpy(v, a->value.data, a->value.len);
	KRQ_RET(r, krs_setsockopt(a->fd, a->level, a->name, v,
	    (uint32_t)a->value.len));
}

int
krq_h_getsockname(struct krq_caller *c, const Krank__Getsockname *a,
    Krank__Response *r)
{
	union krq_sa s;
	uint32_t len = sizeof(s);

	memset(&s, 0, sizeof(s));
	if (krs_getsockname(a->fd, &s, &len) != 0)
		return errno;
	r->value = 0;
	return krq_addr_out(&s, len, r);
}

int
krq_h_getpeername(struct krq_caller *c, const Krank__Getpeername *a,
    Krank__Response *r)
{
	union krq_sa s;
	uint32_t len = sizeof(s);

	memset(&s, 0, sizeof(s));
	if (krs_getpeername(a->fd, &s, &len) != 0)
		return errno;
	r->value = 0;
	return krq_addr_out(&s, len, r);
}

/*
 * Readiness with data: each descriptor the caller marked with
 * KRQ_POLL_FETCH that poll found readable (and not in error or hung up,
 * whose state a receive would consume or hide) gives up to fetch_max
 * bytes of a non-blocking receive, one after another in fetch_area.  A
 * receive that fails reports -Errno in fetched (an error it took from
 * the socket is the caller's to report now); EAGAIN is no error (the
 * data went between poll and receive).  Saves the caller the round trip
 * of the read that follows a poll (docs/bridge.md).
 */
static int
krq_poll_fetch(struct krq_caller *c, const Krank__Poll *a,
    const struct krs_pollfd *p, size_t n, Krank__PollResult *pr)
{
	void *area;
	size_t alen, off = 0;
	int err = krq_buf(c, a->fetch_area, &area, &alen);
	int32_t *fetched = krq_scratch(n * sizeof(*fetched) + 1);

	if (err != 0)
		return err;
	if (fetched == NULL)
		return ENOMEM;
	for (size_t i = 0; i < n; i++) {
		fetched[i] = 0;
		if (!(a->events[i] & KRQ_POLL_FETCH) || p[i].fd < 0 ||
		    (p[i].revents & (KRS_POLLIN | KRS_POLLERR | KRS_POLLHUP |
		    KRS_POLLNVAL)) != KRS_POLLIN || off >= alen)
			continue;
		size_t want = alen - off < a->fetch_max ? alen - off :
		    a->fetch_max;
		ssize_t got = krs_recv(p[i].fd, (char *)area + off, want,
		    KRS_MSG_DONTWAIT);
		if (got > 0) {
			fetched[i] = (int32_t)got;
			off += (size_t)got;
		} else if (got < 0 && errno != EAGAIN)
			fetched[i] = -(int32_t)krq_errno_to_wire(errno);
	}
	pr->n_fetched = n;
	pr->fetched = fetched;
	return 0;
}

static int64_t
krq_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * A poll while asynchronous sends wait in the queue: they are sent as
 * their sockets take them, at the start and then every millisecond of
 * the wait (a socket's room does not wake a poll that is not asking
 * about it).  A descriptor with queued bytes is not writable yet.
 */
static int
krq_poll_sendq(struct krq_caller *c, struct krs_pollfd *p, size_t n,
    int timeout)
{
	int64_t deadline = timeout < 0 ? -1 : krq_now_ms() + timeout;

	for (;;) {
		bool left = krq_sendq_flush_all(c);
		int64_t rest = deadline < 0 ? -1 : deadline - krq_now_ms();
		if (rest < -1 || (deadline >= 0 && rest < 0))
			rest = 0;
		int slice = left && (rest < 0 || rest > 1) ? 1 : (int)rest;
		int got = krs_poll(p, (unsigned)n, slice);
		if (got < 0)
			return got;
		if (left)
			for (size_t i = 0; i < n; i++)
				if ((p[i].revents & KRS_POLLOUT) &&
				    krq_sendq_has(c, p[i].fd)) {
					p[i].revents &= ~KRS_POLLOUT;
					if (p[i].revents == 0)
						got--;
				}
		if (got > 0 || rest == 0 || !left)
			return got;
	}
}

int
krq_h_poll(struct krq_caller *c, const Krank__Poll *a, Krank__Response *r)
{
	size_t n = a->n_fd;

	if (n > KRANK__LIMIT__LIMIT_POLL_MAX || a->n_events != n ||
	    (n > 0 && (a->fd == NULL || a->events == NULL)))
		return krq_malformed_arg(c, EINVAL);
	struct krs_pollfd *p = krq_scratch(n * sizeof(*p) + 1);
	Krank__PollResult *pr = krq_scratch(sizeof(*pr));
	uint32_t *rev = krq_scratch(n * sizeof(*rev) + 1);
	if (p == NULL || pr == NULL || rev == NULL)
		return ENOMEM;
	for (size_t i = 0; i < n; i++) {
		p[i].fd = a->fd[i];
		p[i].events = (short)a->events[i];
		p[i].revents = 0;
	}
	int timeout = (c->flags & KRQ_CALLER_NOBLOCK) ? 0 : a->timeout_ms;
	int got = __atomic_load_n(&c->sendq, __ATOMIC_ACQUIRE) != NULL ?
	    krq_poll_sendq(c, p, n, timeout < 0 ? -1 : timeout) :
	    krs_poll(p, (unsigned)n, timeout < 0 ? -1 : timeout);
	if (got < 0)
		return errno;
	krank__poll_result__init(pr);
	for (size_t i = 0; i < n; i++)
		rev[i] = (uint16_t)p[i].revents;
	pr->n_revents = n;
	pr->revents = rev;
	if (got > 0 && a->fetch_max > 0 && a->fetch_area != NULL) {
		int err = krq_poll_fetch(c, a, p, n, pr);
		if (err != 0)
			return err;
	}
	r->result_case = KRANK__RESPONSE__RESULT_POLL;
	r->poll = pr;
	r->value = got;
	return 0;
}
