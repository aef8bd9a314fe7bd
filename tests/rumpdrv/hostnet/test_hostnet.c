/*
 * test_hostnet.c - hostnet against Linux's own TCP/IP, inside the network
 * namespace test_hostnet.sh makes: Linux listeners (TCP echo, UDP echo,
 * a stranger sending UDP from a port that is not allowed) run in threads
 * of this program on the namespace's loopback; the isolate side uses only
 * krs_ calls on KRS_AF_HOSTNET sockets.  Checks: default deny (EACCES,
 * counted), data both ways and EOF, non-blocking connect and poll mixed
 * with a KRANK socket, blocking recv woken by the host, SO_RCVTIMEO,
 * datagrams to allowed and denied destinations and from a denied sender,
 * IPv6, refused bind/listen/options/addresses, the socket limit, and the
 * host socket closed when its context is destroyed.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <krank/krs.h>
#include <krank/krs_hostnet.h>
#include "net/krs_net.h"
#include "rdtest.h"
#include "rdtest_net.h"
#include "../../testclock.h"

static int tcp_port, udp_port, denied_port;

/* ---- the Linux side ---------------------------------------------------- */

/* TCP: each connection is served in its own thread.  A connection's
 * first byte picks the service: 'E' echo until EOF then close; 'W' wait
 * for one byte, answer "late" (wakes a blocked reader); 'H' hold until
 * EOF and report it through held_eof. */
static volatile int held_eof;

static void *
tcp_conn(void *arg)
{
	int c = (int)(intptr_t)arg;
	char mode, buf[65536];
	ssize_t n;

	if (read(c, &mode, 1) != 1)
		goto out;
	if (mode == 'E') {
		while ((n = read(c, buf, sizeof(buf))) > 0)
			if (write(c, buf, (size_t)n) != n)
				break;
	} else if (mode == 'W') {
		if (read(c, buf, 1) == 1)
			(void)!write(c, "late", 4);
		while (read(c, buf, sizeof(buf)) > 0)
			;
	} else if (mode == 'H') {
		while (read(c, buf, sizeof(buf)) > 0)
			;
		__atomic_store_n(&held_eof, 1, __ATOMIC_RELEASE);
	}
out:
	close(c);
	return NULL;
}

static void *
tcp_server(void *arg)
{
	int l = (int)(intptr_t)arg;
	for (;;) {
		int c = accept(l, NULL, NULL);
		if (c < 0)
			return NULL;
		pthread_t t;
		pthread_create(&t, NULL, tcp_conn, (void *)(intptr_t)c);
		pthread_detach(t);
	}
}

/* UDP echo; a datagram "STRANGER P" makes it first send "intruder" from
 * a socket bound to the denied port to the sender's port P. */
static void *
udp_server(void *arg)
{
	int s = (int)(intptr_t)arg;
	int stranger = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in sa = rd_sin4("127.0.0.1", denied_port);
	bind(stranger, (void *)&sa, sizeof(sa));
	for (;;) {
		char buf[2048];
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(s, buf, sizeof(buf), 0, (void *)&from, &fl);
		if (n < 0)
			return NULL;
		if (n > 9 && memcmp(buf, "STRANGER ", 9) == 0)
			sendto(stranger, "intruder", 8, 0, (void *)&from, fl);
		sendto(s, buf, (size_t)n, 0, (void *)&from, fl);
	}
}

static int
linux_listen(int type, int *port)
{
	int s = socket(AF_INET, type, 0);
	struct sockaddr_in a = rd_sin4("127.0.0.1", 0);
	socklen_t l = sizeof(a);
	CHECK(s >= 0 && bind(s, (void *)&a, sizeof(a)) == 0 &&
	    (type != SOCK_STREAM || listen(s, 16) == 0) &&
	    getsockname(s, (void *)&a, &l) == 0, "Linux listener");
	*port = ntohs(a.sin_port);
	return s;
}

/* ---- the isolate side -------------------------------------------------- */

static struct krs_hostnet_stats
stats(void)
{
	struct krs_hostnet_stats st;
	CHECK(krs_hostnet_stats(&st) == 0, "stats");
	return st;
}

static int
hconnect(const char *addr, int port, int flags)
{
	int s = krs_socket(KRS_AF_HOSTNET, SOCK_STREAM | flags, 0);
	CHECK(s >= 0, "hostnet socket");
	struct sockaddr_in a = rd_sin4(addr, port);
	int rv = krs_connect(s, &a, sizeof(a));
	CHECK(rv == 0 || (errno == EINPROGRESS && (flags & SOCK_NONBLOCK)),
	    "connect %s:%d", addr, port);
	return s;
}

static void
test_deny(void)
{
	struct krs_hostnet_stats st0 = stats();
	int s = krs_socket(KRS_AF_HOSTNET, SOCK_STREAM, 0);
	CHECK(s >= 0, "socket");
	struct sockaddr_in a = rd_sin4("127.0.0.1", denied_port);
	CHECK_ERR(krs_connect(s, &a, sizeof(a)), EACCES);
	CHECK_ERR(krs_connect(s, &a, sizeof(a)), EACCES);
	a = rd_sin4("127.0.0.2", tcp_port);	/* right port, wrong address */
	CHECK_ERR(krs_connect(s, &a, sizeof(a)), EACCES);
	int u = krs_socket(KRS_AF_HOSTNET, SOCK_DGRAM, 0);
	a = rd_sin4("127.0.0.1", denied_port);
	CHECK_ERR(krs_sendto(u, "x", 1, 0, &a, sizeof(a)), EACCES);
	struct krs_hostnet_stats st = stats();
	CHECK(st.hs_denied == st0.hs_denied + 4, "4 denials counted, %llu",
	    (unsigned long long)(st.hs_denied - st0.hs_denied));
	CHECK(st.hs_connects == st0.hs_connects, "nothing connected");
	krs_close(s);
	krs_close(u);
	PASS("connect and sendto outside the allow list fail with EACCES and "
	    "are counted (hostnet.denied); nothing reaches Linux");
}

static void
test_refusals(void)
{
	int s = krs_socket(KRS_AF_HOSTNET, SOCK_STREAM, 0);
	struct sockaddr_in a = rd_sin4("127.0.0.1", tcp_port);
	CHECK_ERR(krs_bind(s, &a, sizeof(a)), EOPNOTSUPP);
	CHECK_ERR(krs_listen(s, 4), EOPNOTSUPP);
	CHECK_ERR(krs_accept(s, NULL, NULL), EOPNOTSUPP);
	CHECK_ERR(krs_connect(s, &a, 8), EINVAL);
	CHECK_ERR(krs_connect(s, &a, 1), EINVAL);
	struct sockaddr_in bad = a;
	bad.sin_family = 1;
	CHECK_ERR(krs_connect(s, &bad, sizeof(bad)), EAFNOSUPPORT);
	CHECK_ERR(krs_connect(s, NULL, sizeof(a)), EFAULT);
	int one = 1;
	CHECK_ERR(krs_setsockopt(s, 0, 1, &one, sizeof(one)), ENOPROTOOPT);
	CHECK_ERR(krs_setsockopt(s, KRS_SOL_SOCKET, 25 /* BINDTODEVICE */,
	    "lo", 3), ENOPROTOOPT);
	CHECK_ERR(krs_setsockopt(s, KRS_SOL_SOCKET, KRS_SO_KEEPALIVE, &one, 2),
	    EINVAL);
	CHECK(krs_setsockopt(s, KRS_IPPROTO_TCP, KRS_TCP_NODELAY, &one,
	    sizeof(one)) == 0, "TCP_NODELAY before connect is remembered");
	char b[4];
	CHECK_ERR(krs_read(s, b, 4), ENOTCONN);
	CHECK_ERR(krs_write(s, b, 4), ENOTCONN);
	CHECK_ERR(krs_getpeername(s, &a, &(uint32_t){ sizeof(a) }), ENOTCONN);
	CHECK_ERR(krs_socket(KRS_AF_HOSTNET, 5 /* SOCK_SEQPACKET */, 0),
	    EPROTOTYPE);
	CHECK_ERR(krs_socket(KRS_AF_HOSTNET, SOCK_STREAM, 17), EPROTONOSUPPORT);
	krs_close(s);
	PASS("bind, listen, accept EOPNOTSUPP; short, unknown-family and NULL "
	    "addresses, unknown options and bad lengths refused");
}

static void
test_stream(void)
{
	int one = 1, v = 0;
	uint32_t vl = sizeof(v);
	int s = krs_socket(KRS_AF_HOSTNET, SOCK_STREAM, 0);
	CHECK(s >= 0 && krs_setsockopt(s, KRS_IPPROTO_TCP, KRS_TCP_NODELAY,
	    &one, sizeof(one)) == 0, "TCP_NODELAY before connect");
	struct sockaddr_in ta = rd_sin4("127.0.0.1", tcp_port);
	CHECK(krs_connect(s, &ta, sizeof(ta)) == 0, "connect");
	CHECK(krs_getsockopt(s, KRS_IPPROTO_TCP, KRS_TCP_NODELAY, &v, &vl) == 0
	    && v != 0, "TCP_NODELAY applied at creation");
	CHECK(krs_setsockopt(s, KRS_SOL_SOCKET, KRS_SO_KEEPALIVE, &one,
	    sizeof(one)) == 0, "SO_KEEPALIVE");
	vl = sizeof(v);
	CHECK(krs_getsockopt(s, KRS_SOL_SOCKET, 3 /* SO_TYPE */, &v, &vl) == 0
	    && v == SOCK_STREAM, "SO_TYPE");
	struct sockaddr_in pa;
	uint32_t pl = sizeof(pa);
	CHECK(krs_getpeername(s, &pa, &pl) == 0 && pl == sizeof(pa) &&
	    pa.sin_family == AF_INET && ntohs(pa.sin_port) == tcp_port &&
	    pa.sin_addr.s_addr == htonl(0x7f000001), "getpeername");
	pl = sizeof(pa);
	CHECK(krs_getsockname(s, &pa, &pl) == 0 && pa.sin_port != 0,
	    "getsockname: a port Linux chose");
	CHECK(krs_write(s, "E", 1) == 1, "mode");
	size_t len = 1 << 20;
	char *out = malloc(len), *in = malloc(len);
	for (size_t i = 0; i < len; i++)
		out[i] = (char)(i * 7 + (i >> 9));
	/* 64 KiB at a time, each read back before the next: never more in
	 * flight than the socket buffers hold */
	size_t sent = 0, got = 0;
	while (sent < len || got < len) {
		if (sent < len) {
			ssize_t n = krs_send(s, out + sent, len - sent < 65536 ?
			    len - sent : 65536, 0);
			CHECK(n > 0, "send at %zu", sent);
			sent += (size_t)n;
		}
		while (got < sent) {
			ssize_t n = krs_recv(s, in + got, sent - got, 0);
			CHECK(n > 0, "recv at %zu", got);
			got += (size_t)n;
		}
	}
	CHECK(memcmp(in, out, len) == 0, "1 MiB echoed byte for byte");
	CHECK(krs_sock_shutdown(s, 1) == 0, "shutdown SHUT_WR");
	CHECK(krs_read(s, in, 16) == 0, "EOF after the server closed");
	CHECK(krs_read(s, in, 16) == 0, "EOF stays");
	struct krs_stat stt;
	CHECK(krs_fstat(s, &stt) == 0 && (stt.st_mode & 0170000) ==
	    KRS_S_IFSOCK, "fstat: a socket");
	krs_close(s);
	free(out);
	free(in);
	PASS("stream: options, names, 1 MiB both ways through Linux's TCP, "
	    "shutdown, EOF");
}

static void
test_poll(void)
{
	int s = hconnect("127.0.0.1", tcp_port, SOCK_NONBLOCK);
	struct krs_pollfd p[2] = { { s, KRS_POLLOUT, 0 } };
	CHECK(krs_poll(p, 1, 5000) == 1 && (p[0].revents & KRS_POLLOUT),
	    "non-blocking connect completes: POLLOUT");
	int e = -1;
	uint32_t el = sizeof(e);
	CHECK(krs_getsockopt(s, KRS_SOL_SOCKET, KRS_SO_ERROR, &e, &el) == 0 &&
	    e == 0, "SO_ERROR 0");
	char b[8];
	CHECK_ERR(krs_read(s, b, sizeof(b)), EAGAIN);
	CHECK(krs_write(s, "W", 1) == 1, "mode");

	/* a KRANK UDP socket and the host socket in one poll */
	int k = krs_socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in ka = rd_sin4("127.0.0.1", 9);
	CHECK(k >= 0 && krs_bind(k, &ka, sizeof(ka)) == 0, "KRANK UDP socket");
	p[0] = (struct krs_pollfd){ s, KRS_POLLIN, 0 };
	p[1] = (struct krs_pollfd){ k, KRS_POLLIN, 0 };
	CHECK(krs_poll(p, 2, 50) == 0, "nothing ready yet (50 ms)");
	/* the host side answers once it gets a byte */
	CHECK(krs_write(s, "x", 1) == 1, "token");
	uint64_t t0 = now_ms();
	CHECK(krs_poll(p, 2, 5000) == 1 && (p[0].revents & KRS_POLLIN) &&
	    p[1].revents == 0, "host socket readable, KRANK one not");
	uint64_t dt = now_ms() - t0;
	CHECK(krs_read(s, b, sizeof(b)) == 4 && memcmp(b, "late", 4) == 0,
	    "the answer");
	/* and a KRANK datagram wakes the same poll */
	int k2 = krs_socket(AF_INET, SOCK_DGRAM, 0);
	CHECK(krs_sendto(k2, "k", 1, 0, &ka, sizeof(ka)) == 1, "KRANK send");
	CHECK(krs_poll(p, 2, 5000) == 1 && (p[1].revents & KRS_POLLIN) &&
	    p[0].revents == 0, "KRANK socket readable, host one not");
	krs_close(k);
	krs_close(k2);
	krs_close(s);
	printf("ok: non-blocking connect, POLLOUT, SO_ERROR, EAGAIN; host and "
	    "KRANK sockets in one krs_poll, each waking it (host wake after "
	    "%llu ms)\n", (unsigned long long)dt);
}

struct later {
	int s;
};

static void *
send_token_later(void *arg)
{
	struct later *l = arg;
	/* the reader is blocked or about to be: either way the answer
	 * reaches it (no timing assumption) */
	CHECK(krs_write(l->s, "x", 1) == 1, "token");
	krs_ctx_leave();	/* frees this thread's implicit lwp */
	return NULL;
}

static void
test_blocking(void)
{
	int s = hconnect("127.0.0.1", tcp_port, 0);
	CHECK(krs_write(s, "W", 1) == 1, "mode");
	struct later l = { s };
	pthread_t t;
	pthread_create(&t, NULL, send_token_later, &l);
	char b[8];
	CHECK(krs_recv(s, b, sizeof(b), 0) == 4 && memcmp(b, "late", 4) == 0,
	    "a blocking recv woken by the host's answer");
	pthread_join(t, NULL);
	struct { int64_t s, us; } tv = { 0, 100000 };
	CHECK(krs_setsockopt(s, KRS_SOL_SOCKET, KRS_SO_RCVTIMEO, &tv,
	    sizeof(tv)) == 0, "SO_RCVTIMEO 100 ms");
	uint64_t t0 = now_ms();
	CHECK_ERR(krs_recv(s, b, sizeof(b), 0), EAGAIN);
	uint64_t dt = now_ms() - t0;
	CHECK(dt >= 95 && dt < 5000, "timed out after %llu ms",
	    (unsigned long long)dt);
	CHECK_ERR(krs_recv(s, b, sizeof(b), KRS_MSG_DONTWAIT), EAGAIN);
	krs_close(s);
	PASS("blocking recv woken by Linux's data; SO_RCVTIMEO; MSG_DONTWAIT");
}

static void
test_dgram(void)
{
	struct krs_hostnet_stats st0 = stats();
	int u = krs_socket(KRS_AF_HOSTNET, SOCK_DGRAM, 0);
	struct sockaddr_in a = rd_sin4("127.0.0.1", udp_port), from;
	CHECK(krs_sendto(u, "ping", 4, 0, &a, sizeof(a)) == 4, "sendto");
	char b[64];
	uint32_t fl = sizeof(from);
	CHECK(krs_recvfrom(u, b, sizeof(b), 0, &from, &fl) == 4 &&
	    memcmp(b, "ping", 4) == 0 && fl == sizeof(from) &&
	    ntohs(from.sin_port) == udp_port, "echo with its sender");
	/* a datagram from a port not allowed is dropped and counted */
	struct sockaddr_in me;
	uint32_t ml = sizeof(me);
	CHECK(krs_getsockname(u, &me, &ml) == 0, "getsockname");
	char msg[32];
	int ml2 = snprintf(msg, sizeof(msg), "STRANGER %d", ntohs(me.sin_port));
	CHECK(krs_sendto(u, msg, (size_t)ml2, 0, &a, sizeof(a)) == ml2, "send");
	fl = sizeof(from);
	ssize_t n = krs_recvfrom(u, b, sizeof(b), 0, &from, &fl);
	CHECK(n == ml2 && memcmp(b, msg, (size_t)n) == 0 &&
	    ntohs(from.sin_port) == udp_port, "only the allowed echo arrives");
	struct krs_hostnet_stats st = stats();
	CHECK(st.hs_rxdenied == st0.hs_rxdenied + 1, "the intruder counted");
	/* connected datagram socket, MSG_TRUNC, sendmsg/recvmsg */
	CHECK(krs_connect(u, &a, sizeof(a)) == 0, "connect UDP");
	CHECK(krs_send(u, "0123456789", 10, 0) == 10, "send");
	CHECK(krs_recv(u, b, 4, KRS_MSG_TRUNC) == 10 && memcmp(b, "0123", 4)
	    == 0, "MSG_TRUNC gives the datagram's length");
	struct iovec iov[2] = { { "ab", 2 }, { "cd", 2 } };
	struct krs_msghdr m = { .msg_iov = (void *)iov, .msg_iovlen = 2 };
	CHECK(krs_sendmsg(u, &m, 0) == 4, "sendmsg of two iovecs");
	char r1[3], r2[8];
	struct iovec ri[2] = { { r1, 3 }, { r2, 8 } };
	struct krs_msghdr rm = { .msg_iov = (void *)ri, .msg_iovlen = 2 };
	CHECK(krs_recvmsg(u, &rm, 0) == 4 && memcmp(r1, "abc", 3) == 0 &&
	    r2[0] == 'd', "recvmsg scatters");
	krs_close(u);
	PASS("datagrams: sendto/recvfrom with senders, a sender outside the "
	    "allow list dropped and counted, connected send, MSG_TRUNC, "
	    "sendmsg/recvmsg");
}

static void
test_ipv6(void)
{
	int l = socket(AF_INET6, SOCK_STREAM, 0);
	struct sockaddr_in6 a = { .sin6_family = AF_INET6,
	    .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	socklen_t al = sizeof(a);
	if (l < 0 || bind(l, (void *)&a, sizeof(a)) != 0 || listen(l, 4) != 0 ||
	    getsockname(l, (void *)&a, &al) != 0) {
		printf("ok: (IPv6 skipped: no ::1 in this namespace)\n");
		if (l >= 0)
			close(l);
		return;
	}
	const char *allow[] = { "127.0.0.1:1-65535", "[::1]:*" };
	CHECK(krs_hostnet_allow(allow, 2) == 0, "allow ::1");
	int s = krs_socket(KRS_AF_HOSTNET, SOCK_STREAM, 0);
	CHECK(krs_connect(s, &a, sizeof(a)) == 0, "connect [::1]");
	int c = accept(l, NULL, NULL);
	CHECK(c >= 0 && krs_write(s, "six", 3) == 3, "write");
	char b[4];
	CHECK(read(c, b, 3) == 3 && memcmp(b, "six", 3) == 0, "Linux reads");
	struct sockaddr_in6 pa;
	uint32_t pl = sizeof(pa);
	CHECK(krs_getpeername(s, &pa, &pl) == 0 && pl == sizeof(pa) &&
	    pa.sin6_family == AF_INET6, "IPv6 peer name");
	krs_close(s);
	close(c);
	close(l);
	/* an IPv4-mapped destination is matched as IPv4: [::1]:* must not
	 * admit ::ffff:127.0.0.2 */
	struct sockaddr_in6 m = { .sin6_family = AF_INET6,
	    .sin6_port = htons((uint16_t)tcp_port) };
	inet_pton(AF_INET6, "::ffff:127.0.0.2", &m.sin6_addr);
	s = krs_socket(KRS_AF_HOSTNET, SOCK_STREAM, 0);
	CHECK_ERR(krs_connect(s, &m, sizeof(m)), EACCES);
	krs_close(s);
	PASS("IPv6: [::1] allowed and connected; an IPv4-mapped destination "
	    "is judged as IPv4");
}

static void
test_limit_and_close(void)
{
	struct krs_hostnet_stats st0 = stats();
	CHECK(krs_hostnet_set_max((unsigned)st0.hs_open + 2) == 0, "max");
	int a = krs_socket(KRS_AF_HOSTNET, SOCK_STREAM, 0);
	int b = krs_socket(KRS_AF_HOSTNET, SOCK_STREAM, 0);
	CHECK(a >= 0 && b >= 0, "two sockets");
	CHECK_ERR(krs_socket(KRS_AF_HOSTNET, SOCK_STREAM, 0), ENFILE);
	krs_close(a);
	krs_close(b);
	CHECK(krs_hostnet_set_max(256) == 0, "max back");

	/* a context with a connected host socket goes away: Linux sees EOF */
	struct krs_ctx *ctx;
	CHECK(krs_ctx_create(0, 0, &ctx) == 0 && krs_ctx_enter(ctx) == 0,
	    "context");
	int s = hconnect("127.0.0.1", tcp_port, 0);
	CHECK(krs_write(s, "H", 1) == 1, "mode");
	CHECK(stats().hs_open == st0.hs_open + 1, "one open");
	krs_ctx_leave();
	CHECK(krs_ctx_destroy(ctx) == 0, "destroy context");
	uint64_t t0 = now_ms();
	while (!__atomic_load_n(&held_eof, __ATOMIC_ACQUIRE) &&
	    now_ms() - t0 < 5000)
		usleep(1000);
	CHECK(held_eof, "Linux saw EOF when the context went away");
	CHECK(stats().hs_open == st0.hs_open, "none left open");
	PASS("the socket limit (ENFILE); a context's host sockets close with it");
}

int
main(void)
{
	char err[256];
	if (krs_boot("vfs,net,ether,socket,inet,hostnet", err, sizeof(err))
	    != 0) {
		printf("FAIL: boot: %s\n", err);
		return 1;
	}
	int tl = linux_listen(SOCK_STREAM, &tcp_port);
	int ul = linux_listen(SOCK_DGRAM, &udp_port);
	int dl = linux_listen(SOCK_STREAM, &denied_port);	/* reserve */
	pthread_t t1, t2;
	pthread_create(&t1, NULL, tcp_server, (void *)(intptr_t)tl);
	pthread_create(&t2, NULL, udp_server, (void *)(intptr_t)ul);

	/* nothing allowed yet: default deny */
	int s = krs_socket(KRS_AF_HOSTNET, SOCK_STREAM, 0);
	struct sockaddr_in a = rd_sin4("127.0.0.1", tcp_port);
	CHECK_ERR(krs_connect(s, &a, sizeof(a)), EACCES);
	krs_close(s);
	PASS("default deny: an empty allow list refuses everything");

	char e1[32], e2[32];
	snprintf(e1, sizeof(e1), "127.0.0.1:%d", tcp_port);
	snprintf(e2, sizeof(e2), "127.0.0.0/8:%d", udp_port);
	const char *allow[] = { e1, e2 };
	CHECK(krs_hostnet_allow(allow, 2) == 0, "allow list");
	const char *bogus[] = { "127.0.0.1:1", "10.0.0.1/8:1" };
	CHECK_ERR(krs_hostnet_allow(bogus, 2), EINVAL);

	test_deny();
	test_refusals();
	test_stream();
	test_poll();
	test_blocking();
	test_dgram();
	test_limit_and_close();
	test_ipv6();
	(void)dl;
	printf("stats: ");
	struct krs_hostnet_stats st = stats();
	printf("open %llu opened %llu connects %llu sends %llu denied %llu "
	    "rxdenied %llu out %llu in %llu\n", (unsigned long long)st.hs_open,
	    (unsigned long long)st.hs_opened,
	    (unsigned long long)st.hs_connects, (unsigned long long)st.hs_sends,
	    (unsigned long long)st.hs_denied,
	    (unsigned long long)st.hs_rxdenied,
	    (unsigned long long)st.hs_bytes_out,
	    (unsigned long long)st.hs_bytes_in);
	CHECK(krs_shutdown() == 0, "shutdown");
	DONE();
}
