/*
 * test_net_tcp.c - TCP between two KRANK stacks over in-process wires:
 * handshake, accept, addresses, data both ways, orderly close (FIN, recv
 * returns 0), refused connections (RST), non-blocking connect and poll,
 * TCP_NODELAY, close with unread data (RST, ECONNRESET), many connections
 * at once, and bulk transfers over a clean wire (full segments carrying
 * timestamps must not be fragmented), a 65535-MTU wire (64 KiB segments,
 * checksums left to the wire) and over a seeded lossy, duplicating,
 * reordering wire, where every byte must arrive in order and
 * retransmissions must have happened.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include <krank/krs.h>
#include "net/krs_net.h"
#include "rdtest.h"
#include "rdtest_net.h"

static int stack_b;

static void
use(int stack)
{
	CHECK(krs_net_stack_select(stack) == 0, "select stack %d", stack);
}

static int
listener(const char *addr, int port)
{
	int s = krs_socket(AF_INET, SOCK_STREAM, 0);
	CHECK(s >= 0, "tcp socket");
	int one = 1;
	krs_setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in a = rd_sin4(addr, port);
	CHECK(krs_bind(s, &a, sizeof(a)) == 0, "bind %s:%d", addr, port);
	CHECK(krs_listen(s, 64) == 0, "listen");
	struct timeval tv = { 10, 0 };
	krs_setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return s;
}

static int
connect_to(const char *addr, int port)
{
	int s = krs_socket(AF_INET, SOCK_STREAM, 0);
	CHECK(s >= 0, "tcp socket");
	struct sockaddr_in a = rd_sin4(addr, port);
	CHECK(krs_connect(s, &a, sizeof(a)) == 0, "connect %s:%d: %s", addr,
	    port, strerror(errno));
	struct timeval tv = { 20, 0 };
	krs_setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return s;
}

static size_t
recv_all(int s, void *buf, size_t len)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = krs_recv(s, (char *)buf + got, len - got, 0);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	return got;
}

static uint8_t
pattern(uint64_t i)
{
	return (uint8_t)((i * 2654435761u) >> 13);
}

struct bulk { int fd; size_t len; int stack; int err; };
static void *
bulk_writer(void *arg)
{
	struct bulk *b = arg;
	static uint8_t buf[65536];
	krs_net_stack_select(b->stack);
	size_t done = 0;
	while (done < b->len) {
		size_t n = b->len - done < sizeof(buf) ? b->len - done : sizeof(buf);
		for (size_t i = 0; i < n; i++)
			buf[i] = pattern(done + i);
		ssize_t w = krs_send(b->fd, buf, n, 0);
		if (w <= 0) {
			b->err = errno;
			return NULL;
		}
		done += (size_t)w;
	}
	krs_sock_shutdown(b->fd, SHUT_WR);
	return NULL;
}

static double
now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Send len bytes A->B over a fresh connection; check every byte. */
static void
bulk(const char *baddr, int port, size_t len, const char *what)
{
	use(stack_b);
	int l = listener(baddr, port);
	use(0);
	int c = connect_to(baddr, port);
	use(stack_b);
	int s = krs_accept(l, NULL, NULL);
	CHECK(s >= 0, "accept");
	struct timeval tv = { 30, 0 };
	krs_setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	struct bulk b = { .fd = c, .len = len, .stack = 0 };
	pthread_t t;
	double t0 = now_s();
	pthread_create(&t, NULL, bulk_writer, &b);
	static uint8_t buf[65536];
	size_t got = 0;
	bool ok = true;
	for (;;) {
		ssize_t n = krs_recv(s, buf, sizeof(buf), 0);
		if (n <= 0) {
			if (n < 0) {
				static char d[65536];
				printf("stalled after %zu bytes\n", got);
				for (int k = 0; k < 2; k++) {
					use(k == 0 ? 0 : stack_b);
					krs_net_dump(d, sizeof(d));
					for (char *p = strtok(d, "\n"); p; p = strtok(NULL, "\n"))
						if (strncmp(p, "tcp ", 4) == 0 ||
						    (strncmp(p, "counter tcp", 11) == 0 &&
						    p[strlen(p) - 1] != '0') || strncmp(p, "if ", 3) == 0)
							printf("%d: %s\n", k, p);
				}
			}
			CHECK(n == 0, "recv: %s", strerror(errno));
			break;
		}
		for (ssize_t i = 0; i < n && ok; i++)
			if (buf[i] != pattern(got + (size_t)i)) {
				ok = false;
				printf("byte %zu differs\n", got + (size_t)i);
			}
		got += (size_t)n;
	}
	pthread_join(t, NULL);
	double dt = now_s() - t0;
	CHECK(b.err == 0, "writer: %s", strerror(b.err));
	CHECK(ok && got == len, "%s: %zu of %zu bytes, in order", what, got, len);
	printf("%s: %zu MiB in %.2f s (%.0f Mbit/s)\n", what, len >> 20, dt,
	    (double)len * 8 / dt / 1e6);
	krs_close(s);
	krs_close(l);
	use(0);
	krs_close(c);
}

static void
test_basic(void)
{
	char buf[256];
	use(stack_b);
	int l = listener("0.0.0.0", 80);
	use(0);
	int c = connect_to("10.0.0.2", 80);
	use(stack_b);
	struct sockaddr_in peer;
	uint32_t pl = sizeof(peer);
	int s = krs_accept(l, &peer, &pl);
	CHECK(s >= 0, "accept: %s", strerror(errno));
	CHECK(peer.sin_addr.s_addr == htonl(0x0a000001) &&
	    ntohs(peer.sin_port) >= 49152, "peer is the client");
	struct sockaddr_in me;
	uint32_t ml = sizeof(me);
	CHECK(krs_getsockname(s, &me, &ml) == 0 && ntohs(me.sin_port) == 80 &&
	    me.sin_addr.s_addr == htonl(0x0a000002), "accepted socket's name");
	struct timeval tv = { 10, 0 };
	krs_setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	CHECK(krs_send(c, "GET /", 5, 0) == 5, "client sends");
	CHECK(recv_all(s, buf, 5) == 5 && memcmp(buf, "GET /", 5) == 0,
	    "server receives");
	CHECK(krs_send(s, "200 OK", 6, 0) == 6, "server replies");
	CHECK(recv_all(c, buf, 6) == 6 && memcmp(buf, "200 OK", 6) == 0,
	    "client receives");
	PASS("TCP handshake, accept, addresses, data both ways");

	int one = 1, v = 0;
	uint32_t vl = sizeof(v);
	CHECK(krs_setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == 0 &&
	    krs_getsockopt(c, IPPROTO_TCP, TCP_NODELAY, &v, &vl) == 0 && v == 1,
	    "TCP_NODELAY");
	CHECK(krs_getsockopt(c, IPPROTO_TCP, TCP_MAXSEG, &v, &vl) == 0 &&
	    v == 1460, "MSS 1460 (%d)", v);
	/* Small writes with NODELAY arrive promptly. */
	for (int i = 0; i < 50; i++) {
		CHECK(krs_send(c, "p", 1, 0) == 1, "ping %d", i);
		CHECK(recv_all(s, buf, 1) == 1, "pong %d", i);
	}
	static char d[65536];
	krs_net_dump(d, sizeof(d));
	char *est = strstr(d, " ESTABLISHED ");
	char *eol = est != NULL ? strchr(est, '\n') : NULL;
	CHECK(est != NULL && eol != NULL && eol - est > 14 &&
	    strncmp(eol - 15, " sack ts wscale", 15) == 0,
	    "SACK, timestamps and window scaling negotiated");
	PASS("TCP_NODELAY, MSS option, 50 one-byte round trips; SACK agreed");

	/* Orderly close: half-close, EOF, then the other side. */
	CHECK(krs_sock_shutdown(c, SHUT_WR) == 0, "client shutdown(WR)");
	CHECK(krs_recv(s, buf, sizeof(buf), 0) == 0, "server sees EOF");
	CHECK(krs_send(s, "bye", 3, 0) == 3, "server still sends");
	CHECK(recv_all(c, buf, 3) == 3, "client receives after its FIN");
	CHECK(krs_close(s) == 0, "server close");
	CHECK(krs_recv(c, buf, sizeof(buf), 0) == 0, "client sees EOF");
	CHECK_ERR(krs_send(c, "x", 1, 0), EPIPE);
	krs_close(c);
	PASS("orderly close: FIN both ways, half-close, EOF, EPIPE");

	/* Refused: RST from a closed port. */
	use(0);
	int r = krs_socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in closed = rd_sin4("10.0.0.2", 81);
	CHECK_ERR(krs_connect(r, &closed, sizeof(closed)), ECONNREFUSED);
	krs_close(r);
	/* The same refusal read back as SO_ERROR: a value in memory, so it
	 * must be translated to the host's number like a return value is. */
	r = krs_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	CHECK_ERR(krs_connect(r, &closed, sizeof(closed)), EINPROGRESS);
	struct krs_pollfd rp = { .fd = r, .events = KRS_POLLOUT };
	CHECK(krs_poll(&rp, 1, 5000) == 1, "poll: refused connect ends");
	int re = -1;
	uint32_t rel = sizeof(re);
	CHECK(krs_getsockopt(r, SOL_SOCKET, SO_ERROR, &re, &rel) == 0 &&
	    re == ECONNREFUSED, "SO_ERROR is the host's ECONNREFUSED");
	krs_close(r);
	PASS("connect to a closed port: ECONNREFUSED, also as SO_ERROR");

	/* Non-blocking connect and poll. */
	int nb = krs_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in srv = rd_sin4("10.0.0.2", 80);
	CHECK_ERR(krs_connect(nb, &srv, sizeof(srv)), EINPROGRESS);
	struct krs_pollfd pf = { .fd = nb, .events = KRS_POLLOUT };
	CHECK(krs_poll(&pf, 1, 5000) == 1 && (pf.revents & KRS_POLLOUT),
	    "poll: connected");
	int e = -1;
	uint32_t el = sizeof(e);
	CHECK(krs_getsockopt(nb, SOL_SOCKET, SO_ERROR, &e, &el) == 0 && e == 0,
	    "SO_ERROR 0");
	CHECK_ERR(krs_recv(nb, buf, sizeof(buf), 0), EAGAIN);
	use(stack_b);
	struct krs_pollfd lp = { .fd = l, .events = KRS_POLLIN };
	CHECK(krs_poll(&lp, 1, 5000) == 1, "listener readable");
	s = krs_accept(l, NULL, NULL);
	CHECK(s >= 0, "accept");
	/* Close with unread data: the peer gets a reset. */
	CHECK(krs_send(nb, "unread", 6, 0) == 6, "send");
	pf.fd = s;
	pf.events = KRS_POLLIN;
	CHECK(krs_poll(&pf, 1, 5000) == 1, "data arrived");
	krs_close(s);
	pf.fd = nb;
	pf.events = KRS_POLLIN;
	CHECK(krs_poll(&pf, 1, 5000) == 1, "reset arrives");
	CHECK_ERR(krs_recv(nb, buf, sizeof(buf), 0), ECONNRESET);
	krs_close(nb);
	PASS("non-blocking connect, poll, SO_ERROR; close with unread data resets");

	/* sendmsg/recvmsg with iovecs, and SO_LINGER 0 (abortive close). */
	use(0);
	int g = connect_to("10.0.0.2", 80);
	use(stack_b);
	s = krs_accept(l, NULL, NULL);
	CHECK(s >= 0, "accept");
	krs_setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	struct krs_iovec_net iov[3] = { { "scat", 4 }, { "ter-", 4 },
	    { "gather", 6 } };
	struct krs_msghdr mh = { .msg_iov = iov, .msg_iovlen = 3 };
	CHECK(krs_sendmsg(g, &mh, 0) == 14, "sendmsg of 3 iovecs");
	char p1[5], p2[16];
	struct krs_iovec_net riov[2] = { { p1, 5 }, { p2, 9 } };
	struct sockaddr_in from;
	struct krs_msghdr rh = { .msg_name = &from, .msg_namelen = sizeof(from),
	    .msg_iov = riov, .msg_iovlen = 2 };
	size_t got = 0;
	while (got < 14) {
		ssize_t n = krs_recvmsg(s, &rh, 0);
		CHECK(n > 0, "recvmsg");
		got += (size_t)n;
		if (got < 14) {	/* the rest lands at the right place */
			riov[0].iov_base = got < 5 ? p1 + got : p2 + (got - 5);
			riov[0].iov_len = got < 5 ? 5 - got : 14 - got;
			rh.msg_iovlen = 1;
		}
	}
	CHECK(memcmp(p1, "scatt", 5) == 0 && memcmp(p2, "er-gather", 9) == 0 &&
	    from.sin_addr.s_addr == htonl(0x0a000001), "recvmsg scattered it");
	/* The caller's sizes are not allocations: a 1 GiB iovec over a
	 * small buffer takes what is there (4 bytes), straight into it. */
	CHECK(krs_send(g, "huge", 4, 0) == 4, "send 4 bytes");
	char small[16];
	struct krs_iovec_net hiov[2] = { { small, (size_t)1 << 29 },
	    { small, (size_t)1 << 29 } };
	struct krs_msghdr hh = { .msg_iov = hiov, .msg_iovlen = 2 };
	CHECK(krs_recvmsg(s, &hh, 0) == 4 && memcmp(small, "huge", 4) == 0,
	    "recvmsg with 1 GiB of iovecs over 16 bytes");
	struct krs_linger lg = { 1, 0 };
	CHECK(krs_setsockopt(s, SOL_SOCKET, KRS_SO_LINGER, &lg, sizeof(lg)) == 0,
	    "SO_LINGER 0");
	uint32_t lgl = sizeof(lg);
	lg.l_onoff = 5;
	CHECK(krs_getsockopt(s, SOL_SOCKET, KRS_SO_LINGER, &lg, &lgl) == 0 &&
	    lg.l_onoff == 1 && lg.l_linger == 0, "SO_LINGER read back");
	krs_close(s);
	pf.fd = g;
	pf.events = KRS_POLLIN;
	CHECK(krs_poll(&pf, 1, 5000) == 1, "reset arrives");
	CHECK_ERR(krs_recv(g, buf, sizeof(buf), 0), ECONNRESET);
	krs_close(g);
	PASS("sendmsg/recvmsg with iovecs; SO_LINGER 0 closes with RST");
	krs_close(l);
}

/* Reads a connection to its end after a delay; checks the pattern. */
struct slowread { int fd, stack, delay_ms; size_t got; ssize_t last; int err;
    bool intact; };
static void *
slow_reader(void *arg)
{
	struct slowread *r = arg;
	static uint8_t buf[65536];
	krs_net_stack_select(r->stack);
	struct timespec d = { r->delay_ms / 1000, (r->delay_ms % 1000) * 1000000L };
	nanosleep(&d, NULL);
	r->intact = true;
	for (;;) {
		ssize_t n = krs_recv(r->fd, buf, sizeof(buf), 0);
		r->last = n;
		if (n <= 0) {
			r->err = n < 0 ? errno : 0;
			break;
		}
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] != pattern(r->got + (size_t)i))
				r->intact = false;
		r->got += (size_t)n;
	}
	return NULL;
}

/* A connection with len bytes sent from A and not yet read by B. */
static void
linger_conn(int l, int *c, int *s, size_t len)
{
	use(0);
	*c = connect_to("10.0.0.2", 95);
	use(stack_b);
	*s = krs_accept(l, NULL, NULL);
	CHECK(*s >= 0, "accept");
	struct timeval tv = { 20, 0 };
	krs_setsockopt(*s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	use(0);
	static uint8_t buf[3 << 19];
	for (size_t i = 0; i < len; i++)
		buf[i] = pattern(i);
	CHECK(krs_send(*c, buf, len, 0) == (ssize_t)len,
	    "%zu bytes into the buffers", len);
}

static void
test_linger(void)
{
	const size_t len = 3 << 19;	/* more than the peer's buffer holds */
	use(stack_b);
	int l = listener("10.0.0.2", 95);
	int c, s;

	/* The peer reads only after 300 ms: close waits for its ACKs. */
	linger_conn(l, &c, &s, len);
	int64_t drops0 = krs_net_counter("tcp.lingerdrops");
	struct krs_linger lg = { 1, 10 };
	CHECK(krs_setsockopt(c, SOL_SOCKET, KRS_SO_LINGER, &lg, sizeof(lg)) == 0,
	    "SO_LINGER 10 s");
	struct slowread r = { .fd = s, .stack = stack_b, .delay_ms = 300 };
	pthread_t t;
	pthread_create(&t, NULL, slow_reader, &r);
	double t0 = now_s();
	CHECK(krs_close(c) == 0, "close");
	double dt = now_s() - t0;
	pthread_join(t, NULL);
	CHECK(dt >= 0.25 && dt < 9, "close blocked until the data was "
	    "acknowledged (%.3f s)", dt);
	CHECK(r.got == len && r.intact && r.last == 0, "peer got all %zu bytes "
	    "intact, then EOF (got %zu, last %zd, %s)", len, r.got, r.last,
	    strerror(r.err));
	use(0);
	CHECK(krs_net_counter("tcp.lingerdrops") == drops0, "no linger reset");
	use(stack_b);
	krs_close(s);
	PASS("SO_LINGER 10 s: close returns once all data is acknowledged");

	/* The peer never reads: after 1 s the connection is reset. */
	linger_conn(l, &c, &s, len);
	lg.l_linger = 1;
	CHECK(krs_setsockopt(c, SOL_SOCKET, KRS_SO_LINGER, &lg, sizeof(lg)) == 0,
	    "SO_LINGER 1 s");
	t0 = now_s();
	CHECK(krs_close(c) == 0, "close");
	dt = now_s() - t0;
	CHECK(dt >= 0.9 && dt < 5, "close waited the linger time (%.3f s)", dt);
	CHECK(krs_net_counter("tcp.lingerdrops") == drops0 + 1,
	    "linger time out counted");
	use(stack_b);
	r = (struct slowread){ .fd = s, .stack = stack_b, .delay_ms = 0 };
	slow_reader(&r);
	CHECK(r.last < 0 && r.err == ECONNRESET && r.got < len,
	    "peer was reset (got %zu of %zu, last %zd, %s)", r.got, len, r.last,
	    strerror(r.err));
	krs_close(s);
	krs_close(l);
	PASS("SO_LINGER 1 s with an unread peer: close resets after 1 s");
}

#define NCONN 32
static void
test_many(void)
{
	use(stack_b);
	int l = listener("10.0.0.2", 90);
	int c[NCONN], s[NCONN];
	use(0);
	for (int i = 0; i < NCONN; i++)
		c[i] = connect_to("10.0.0.2", 90);
	use(stack_b);
	for (int i = 0; i < NCONN; i++) {
		s[i] = krs_accept(l, NULL, NULL);
		CHECK(s[i] >= 0, "accept %d", i);
		struct timeval tv = { 10, 0 };
		krs_setsockopt(s[i], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	}
	for (int i = 0; i < NCONN; i++) {
		char m[16];
		int n = snprintf(m, sizeof(m), "conn %d", i);
		CHECK(krs_send(c[i], m, (size_t)n, 0) == n, "send %d", i);
	}
	/* Each server socket got its own client's bytes. */
	int seen = 0;
	for (int i = 0; i < NCONN; i++) {
		char r[16];
		ssize_t n = krs_recv(s[i], r, sizeof(r) - 1, 0);
		CHECK(n > 5 && memcmp(r, "conn ", 5) == 0, "recv %d", i);
		r[n] = 0;
		seen |= 0;
		CHECK(krs_send(s[i], r, (size_t)n, 0) == n, "echo %d", i);
	}
	for (int i = 0; i < NCONN; i++) {
		char m[16], r[16];
		int n = snprintf(m, sizeof(m), "conn %d", i);
		CHECK(recv_all(c[i], r, (size_t)n) == (size_t)n &&
		    memcmp(r, m, (size_t)n) == 0, "client %d got its echo", i);
	}
	for (int i = 0; i < NCONN; i++) {
		krs_close(s[i]);
		krs_close(c[i]);
	}
	krs_close(l);
	(void)seen;
	PASS("32 connections at once, each with its own data");
}

int
main(void)
{
	char err[256], name[32];
	CHECK(krs_boot("vfs,net,ether,virtif,socket,inet", err, sizeof(err)) == 0,
	    "boot: %s", err);
	use(0);
	CHECK(krs_if_virt_attach("wire:tw1", name, sizeof(name)) == 0, "attach A");
	CHECK(krs_if_setaddr(name, "10.0.0.1/24") == 0 && krs_if_up(name, 1) == 0,
	    "A up");
	/* NET_TCP_WIRE replaces the impairments (e.g. to try other seeds). */
	const char *imp = getenv("NET_TCP_WIRE");
	if (imp == NULL)
		imp = "loss=2,dup=2,reorder=5";
	char wa[128], wb[128];
	snprintf(wa, sizeof(wa), "wire:tw2,%s,seed=11", imp);
	snprintf(wb, sizeof(wb), "wire:tw2,%s,seed=12", imp);
	CHECK(krs_if_virt_attach(wa, name, sizeof(name)) == 0, "lossy A");
	CHECK(krs_if_setaddr(name, "10.0.2.1/24") == 0 && krs_if_up(name, 1) == 0,
	    "lossy A up");
	CHECK(krs_if_virt_attach("wire:tw3,mtu=65535", name, sizeof(name)) == 0,
	    "jumbo A");
	CHECK(krs_if_setaddr(name, "10.0.3.1/24") == 0 && krs_if_up(name, 1) == 0,
	    "jumbo A up");
	stack_b = krs_net_stack_create("b");
	use(stack_b);
	CHECK(krs_if_virt_attach("wire:tw1", name, sizeof(name)) == 0, "attach B");
	CHECK(krs_if_setaddr(name, "10.0.0.2/24") == 0 && krs_if_up(name, 1) == 0,
	    "B up");
	CHECK(krs_if_virt_attach(wb, name, sizeof(name)) == 0, "lossy B");
	CHECK(krs_if_setaddr(name, "10.0.2.2/24") == 0 && krs_if_up(name, 1) == 0,
	    "lossy B up");
	CHECK(krs_if_virt_attach("wire:tw3,mtu=65535", name, sizeof(name)) == 0,
	    "jumbo B");
	CHECK(krs_if_setaddr(name, "10.0.3.2/24") == 0 && krs_if_up(name, 1) == 0,
	    "jumbo B up");

	test_basic();
	test_linger();
	test_many();
	use(0);
	int64_t frag0 = krs_net_counter("ip.fragmented");
	bulk("10.0.0.2", 5001, 32 << 20, "clean wire");
	use(stack_b);
	int64_t sb0 = krs_net_counter("tcp.sack_sndblocks");
	use(0);
	CHECK(krs_net_counter("ip.fragmented") == frag0,
	    "full segments with timestamps fit the MTU: nothing fragmented");
	int64_t seg0 = krs_net_counter("tcp.sndpack");
	bulk("10.0.3.2", 5003, 64 << 20, "65535-MTU wire");
	use(0);
	int64_t segs = krs_net_counter("tcp.sndpack") - seg0;
	CHECK(segs > 0 && segs < (64 << 20) / 16384 &&
	    krs_net_counter("ip.fragmented") == frag0,
	    "64 KiB segments: %lld data segments for 64 MiB, none fragmented",
	    (long long)segs);
	use(stack_b);
	CHECK(krs_net_counter("tcp.rcvbadsum") == 0 &&
	    krs_net_counter("ip.badsum") == 0, "no checksum failures");
	use(0);
	int64_t sr0 = krs_net_counter("tcp.sack_rcvblocks");
	int64_t rx0 = krs_net_counter("tcp.sndrexmitpack");
	const char *mb = getenv("NET_TCP_LOSSY_MIB");
	size_t lossy = (size_t)(mb != NULL ? atoi(mb) : 64) << 20;
	char what[160];
	snprintf(what, sizeof(what), "lossy wire (%s)", imp);
	bulk("10.0.2.2", 5002, lossy, what);
	use(0);
	int64_t rx1 = krs_net_counter("tcp.sndrexmitpack");
	CHECK(rx1 > rx0, "retransmissions happened: %lld", (long long)(rx1 - rx0));
	int64_t sr1 = krs_net_counter("tcp.sack_rcvblocks");
	use(stack_b);
	int64_t sb1 = krs_net_counter("tcp.sack_sndblocks");
	use(0);
	CHECK(sb1 > sb0 && sr1 > sr0, "the receiver sent SACK blocks (%lld) and "
	    "the sender used them (%lld)", (long long)(sb1 - sb0),
	    (long long)(sr1 - sr0));
	CHECK(krs_net_counter("ip.ofragments") == 0,
	    "no segment was fragmented (data + options within the MTU)");
	printf("sender: %lld retransmitted segments, %lld fast retransmits, "
	    "%lld timeouts\n", (long long)(rx1 - rx0),
	    (long long)krs_net_counter("tcp.fastrexmit"),
	    (long long)krs_net_counter("tcp.rexmttimeo"));
	printf("sender: %lld SACK recoveries, %lld segments retransmitted from "
	    "holes, %lld lost retransmissions resent, %lld loss probes, %lld "
	    "limited transmits, %lld IP fragments\n",
	    (long long)krs_net_counter("tcp.sack_recovery"),
	    (long long)krs_net_counter("tcp.sack_rexmits"),
	    (long long)krs_net_counter("tcp.sack_lostrexmit"),
	    (long long)krs_net_counter("tcp.tlp"),
	    (long long)krs_net_counter("tcp.limitedxmit"),
	    (long long)krs_net_counter("ip.ofragments"));
	PASS("bulk transfers intact over clean and impaired wires");
	static char dump[65536];
	krs_net_dump(dump, sizeof(dump));
	use(0);
	CHECK(krs_shutdown() == 0, "shutdown");
	DONE();
}
