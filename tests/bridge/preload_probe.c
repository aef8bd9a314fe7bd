/*
 * preload_probe - a plain Linux program (libc only, no libkrank) that
 * test_preload.sh runs under libkrank-preload.so: TCP over 127.0.0.1
 * with non-blocking accept and connect, epoll mixing a Linux pipe and
 * sockets, poll, select, readv/writev, sendmsg/recvmsg, FIONREAD,
 * FIONBIO, fcntl, dup/dup2/dup3, shutdown, and files under a prefix
 * and outside it.  One line per check; then it says "listening on PORT"
 * and keeps its listening socket until its standard input ends, so that
 * the test can look at who holds the port.
 *   preload_probe PORT PREFIX LINUXFILE
 *   preload_probe sendexit PORT BYTES   (connect to 127.0.0.1:PORT, send
 *     BYTES bytes and exit without closing the socket)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int failures;

#define CHECK(cond, ...) do {						\
	int ok_ = (cond);						\
	printf("%s: ", ok_ ? "ok" : "FAIL");				\
	printf(__VA_ARGS__);						\
	printf("\n");							\
	fflush(stdout);							\
	if (!ok_)							\
		failures++;						\
} while (0)

static int
wait_one(int ep, int timeout, uint64_t *datap, uint32_t *evp)
{
	struct epoll_event ev[8];
	int n = epoll_wait(ep, ev, 8, timeout);

	if (n > 0) {
		*datap = ev[0].data.u64;
		*evp = ev[0].events;
	}
	return n;
}

/* Threads (more than the deployment's rings, so that some share one):
 * each its own listener, connection and 500 64-byte round trips. */
#define NTHREADS 5
static int thread_port;

static void *
talker(void *arg)
{
	int i = (int)(long)arg, l, c, s, ok = 0;
	struct sockaddr_in a;
	char out[64], in[64];

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)(thread_port + i));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = socket(AF_INET, SOCK_STREAM, 0);
	c = socket(AF_INET, SOCK_STREAM, 0);
	if (l < 0 || c < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    listen(l, 4) != 0 || connect(c, (struct sockaddr *)&a,
	    sizeof(a)) != 0 || (s = accept(l, NULL, NULL)) < 0)
		return (void *)0;
	/* Round trips of small writes: no Nagle delay. */
	int one = 1;
	setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	for (int k = 0; k < 500; k++) {
		memset(out, 'a' + (k + i) % 26, sizeof(out));
		size_t got = 0;
		if (send(c, out, sizeof(out), 0) != (ssize_t)sizeof(out))
			break;
		while (got < sizeof(in)) {
			ssize_t n = recv(s, in + got, sizeof(in) - got, 0);
			if (n <= 0)
				break;
			got += (size_t)n;
		}
		if (got != sizeof(in) || memcmp(in, out, sizeof(in)) != 0)
			break;
		ok++;
	}
	close(s);
	close(c);
	close(l);
	return (void *)(long)ok;
}

/* Signals for the EINTR checks: a thread sends one to the main thread
 * every 10 ms until told to stop, so that one arrives while the main
 * thread waits, however late the wait begins. */
static volatile sig_atomic_t handled;
static _Atomic int pester_stop;
static _Atomic int pester_sig;
static pthread_t main_thread;

static void
on_signal(int sig)
{
	(void)sig;
	handled++;
}

static void *
pester(void *arg)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };

	(void)arg;
	while (!pester_stop) {
		pthread_kill(main_thread, pester_sig);
		nanosleep(&ts, NULL);
	}
	return NULL;
}

/* Runs wait (a poll, select or epoll_wait on a KRANK listener nobody
 * connects to, 5 s timeout) while signal sig is sent; 1 when it ended
 * with EINTR after a handler ran, long before its timeout. */
static int
interrupted(int sig, int (*wait)(int), int fd, long *msp)
{
	pthread_t th;
	struct timespec t0, t1;

	handled = 0;
	pester_stop = 0;
	pester_sig = sig;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (pthread_create(&th, NULL, pester, NULL) != 0)
		return 0;
	int v = wait(fd);
	int e = errno;
	pester_stop = 1;
	pthread_join(th, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	*msp = (t1.tv_sec - t0.tv_sec) * 1000 +
	    (t1.tv_nsec - t0.tv_nsec) / 1000000;
	/* EINTR at the handler, not at the end of the timeout (a wait that
	 * only looked at the handlers when its timeout ran out took 5 s). */
	return v == -1 && e == EINTR && handled > 0 && *msp < 4000;
}

static int
wait_poll(int fd)
{
	struct pollfd pf = { fd, POLLIN, 0 };
	return poll(&pf, 1, 5000);
}

static int
wait_select(int fd)
{
	fd_set rd;
	struct timeval tv = { 5, 0 };
	FD_ZERO(&rd);
	FD_SET(fd, &rd);
	return select(fd + 1, &rd, NULL, NULL, &tv);
}

static int
wait_epoll(int fd)
{
	struct epoll_event ev = { .events = EPOLLIN }, out;
	int ep = epoll_create1(0), v = -1;
	if (ep >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0)
		v = epoll_wait(ep, &out, 1, 5000);
	int e = errno;
	close(ep);
	errno = e;
	return v;
}

/*
 * Readiness with data (docs/bridge.md): bytes a poll, select or epoll
 * wait received with a socket's readiness are read first, in order with
 * what KRANK still has; the socket stays readable while it holds some;
 * EPOLLET reports it once; close and dup keep the bytes straight.
 */
static int
wr(int fd, const char *s)
{
	return write(fd, s, strlen(s)) == (ssize_t)strlen(s);
}

/* Wait until conn is readable by poll (5 s). */
static int
ready(int fd)
{
	struct pollfd pf = { .fd = fd, .events = POLLIN };
	return poll(&pf, 1, 5000) == 1 && (pf.revents & POLLIN);
}

/* Read exactly n bytes (short reads allowed), with a deadline of 5 s. */
static int
rd_is(int fd, size_t n, const char *want)
{
	char got[64] = { 0 };
	size_t have = 0;

	for (int tries = 0; have < n && tries < 500; tries++) {
		ssize_t r = read(fd, got + have, n - have);
		if (r > 0)
			have += (size_t)r;
		else if (r == 0)
			break;
		else if (errno == EAGAIN)
			ready(fd);
		else
			break;
	}
	return have == n && memcmp(got, want, n) == 0;
}

/* A TCP listener on 127.0.0.1:port, its address in *a. */
static int
listen_lo(int port, int backlog, struct sockaddr_in *a, const char *what)
{
	int v = 1;

	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_port = htons((uint16_t)port);
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int srv = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(srv, SOL_SOCKET, SO_REUSEADDR, &v, sizeof(v));
	CHECK(srv >= 0 && bind(srv, (struct sockaddr *)a, sizeof(*a)) == 0 &&
	    listen(srv, backlog) == 0, "%s: listener on %d", what, port);
	return srv;
}

static int
fetch_checks(int port)
{
	struct sockaddr_in a;
	char buf[64];
	int v;

	int srv = listen_lo(port, 4, &a, "fetch");
	int cli = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(connect(cli, (struct sockaddr *)&a, sizeof(a)) == 0,
	    "fetch: connect");
	int conn = accept4(srv, NULL, NULL, SOCK_NONBLOCK);
	CHECK(conn >= 0, "fetch: accept4");

	/* poll: the bytes come with the readiness; part of them is read,
	 * the rest keeps the socket readable (timeout 0 answers). */
	CHECK(wr(cli, "hello world") && ready(conn),
	    "fetch: poll reports the socket readable");
	CHECK(read(conn, buf, 5) == 5 && memcmp(buf, "hello", 5) == 0,
	    "fetch: read 5 gives the first 5 bytes");
	struct pollfd pf = { .fd = conn, .events = POLLIN };
	CHECK(poll(&pf, 1, 0) == 1 && pf.revents == POLLIN,
	    "fetch: poll(0) with 6 bytes held: readable (revents %#x)",
	    pf.revents);
	int nr = -1;
	CHECK(ioctl(conn, FIONREAD, &nr) == 0 && nr == 6,
	    "fetch: FIONREAD counts the held bytes (%d)", nr);
	CHECK(recv(conn, buf, 3, MSG_PEEK) == 3 && memcmp(buf, " wo", 3) == 0,
	    "fetch: recv MSG_PEEK sees held bytes without taking them");
	CHECK(rd_is(conn, 6, " world"), "fetch: the rest, in order");
	CHECK(poll(&pf, 1, 0) == 0, "fetch: nothing held, nothing sent: "
	    "not readable");
	errno = 0;
	CHECK(read(conn, buf, sizeof(buf)) < 0 && errno == EAGAIN,
	    "fetch: then read says EAGAIN (%s)", strerror(errno));

	/* Held bytes and KRANK's, in one MSG_WAITALL receive. */
	CHECK(wr(cli, "AB") && ready(conn) && wr(cli, "CD"),
	    "fetch: AB held by a poll, CD sent after");
	memset(buf, 0, sizeof(buf));
	v = fcntl(conn, F_GETFL);
	fcntl(conn, F_SETFL, v & ~O_NONBLOCK);
	ssize_t got = recv(conn, buf, 4, MSG_WAITALL);
	fcntl(conn, F_SETFL, v);
	CHECK(got == 4 && memcmp(buf, "ABCD", 4) == 0,
	    "fetch: recv(MSG_WAITALL) joins held AB and KRANK's CD: %.4s",
	    buf);

	/* select. */
	CHECK(wr(cli, "sel"), "fetch: sel sent");
	fd_set rs;
	FD_ZERO(&rs);
	FD_SET(conn, &rs);
	struct timeval tv = { 5, 0 };
	CHECK(select(conn + 1, &rs, NULL, NULL, &tv) == 1 &&
	    FD_ISSET(conn, &rs), "fetch: select reports it readable");
	CHECK(read(conn, buf, 1) == 1 && buf[0] == 's', "fetch: read 1: s");
	FD_ZERO(&rs);
	FD_SET(conn, &rs);
	tv.tv_sec = 0;
	CHECK(select(conn + 1, &rs, NULL, NULL, &tv) == 1,
	    "fetch: select(0) with bytes held: readable");
	CHECK(rd_is(conn, 2, "el"), "fetch: then el");

	/* epoll, level-triggered and edge-triggered. */
	int ep = epoll_create1(0);
	struct epoll_event e = { .events = EPOLLIN, .data.fd = conn }, o[4];
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, conn, &e) == 0 && wr(cli, "ep1") &&
	    epoll_wait(ep, o, 4, 5000) == 1, "fetch: epoll LT reports it");
	CHECK(read(conn, buf, 1) == 1 && buf[0] == 'e', "fetch: read 1: e");
	CHECK(epoll_wait(ep, o, 4, 0) == 1, "fetch: epoll LT(0) with bytes "
	    "held reports it again");
	CHECK(rd_is(conn, 2, "p1") && epoll_wait(ep, o, 4, 0) == 0,
	    "fetch: after the rest, epoll LT(0) reports nothing");
	e.events = EPOLLIN | EPOLLET;
	CHECK(epoll_ctl(ep, EPOLL_CTL_MOD, conn, &e) == 0 && wr(cli, "et") &&
	    epoll_wait(ep, o, 4, 5000) == 1, "fetch: epoll ET reports it");
	CHECK(epoll_wait(ep, o, 4, 0) == 0, "fetch: epoll ET(0), nothing "
	    "read: not reported again");
	CHECK(rd_is(conn, 2, "et"), "fetch: read et");
	errno = 0;
	CHECK(read(conn, buf, 8) < 0 && errno == EAGAIN,
	    "fetch: ET read to EAGAIN");
	CHECK(wr(cli, "x") && epoll_wait(ep, o, 4, 5000) == 1 &&
	    rd_is(conn, 1, "x"), "fetch: epoll ET reports new bytes");
	close(ep);

	/* dup shares the held bytes: whichever descriptor reads first
	 * gets the first ones. */
	CHECK(wr(cli, "dupdata") && ready(conn), "fetch: dupdata held");
	int d = dup(conn);
	CHECK(d >= 0 && rd_is(d, 3, "dup") && rd_is(conn, 4, "data"),
	    "fetch: read 3 on the dup, then 4 on the original: in order");
	close(d);

	/* EOF after held bytes. */
	CHECK(wr(cli, "end") && shutdown(cli, SHUT_WR) == 0 && ready(conn),
	    "fetch: end, then the peer's FIN");
	CHECK(rd_is(conn, 3, "end") && read(conn, buf, 8) == 0,
	    "fetch: held bytes, then end of stream");

	/* Close with bytes held: they go with it; a new connection on the
	 * same number sees only its own. */
	int cli2 = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(connect(cli2, (struct sockaddr *)&a, sizeof(a)) == 0,
	    "fetch: a second connection");
	int conn2 = accept4(srv, NULL, NULL, SOCK_NONBLOCK);
	CHECK(wr(cli2, "zz") && ready(conn2) && close(conn2) == 0,
	    "fetch: close with zz held");
	int cli3 = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(connect(cli3, (struct sockaddr *)&a, sizeof(a)) == 0,
	    "fetch: a third connection");
	int conn3 = accept4(srv, NULL, NULL, SOCK_NONBLOCK);
	pf.fd = conn3;
	errno = 0;
	CHECK(conn3 >= 0 && poll(&pf, 1, 0) == 0 &&
	    read(conn3, buf, 8) < 0 && errno == EAGAIN,
	    "fetch: the next connection (descriptor %d, the closed one was "
	    "%d) holds nothing", conn3, conn2);
	CHECK(wr(cli3, "new") && ready(conn3) && rd_is(conn3, 3, "new"),
	    "fetch: and reads its own bytes");
	close(conn3);
	close(cli3);
	close(cli2);
	close(conn);
	close(cli);
	close(srv);
	return failures ? 1 : 0;
}

/*
 * Asynchronous sends (docs/bridge.md; a deployment of one ring): bytes
 * keep their order across asynchronous and synchronous sends; a peer
 * that does not read ends in EAGAIN after a bounded amount, and every
 * byte arrives once it reads; close and shutdown after queued bytes
 * deliver them first; an error comes with a later call.
 */
static void
pattern(char *b, size_t n, size_t at)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (char)('a' + (at + i) % 23);
}

/* Read from fd until EOF or want bytes (deadline 10 s), checking the
 * pattern; the count. */
static size_t
drain(int fd, size_t want, int *okp)
{
	static char b[65536], w[65536];
	size_t got = 0;

	*okp = 1;
	for (int idle = 0; got < want && idle < 1000; ) {
		ssize_t r = recv(fd, b, sizeof(b), MSG_DONTWAIT);
		if (r > 0) {
			pattern(w, (size_t)r, got);
			if (memcmp(b, w, (size_t)r) != 0)
				*okp = 0;
			got += (size_t)r;
			idle = 0;
		} else if (r == 0)
			break;
		else {
			struct pollfd pf = { .fd = fd, .events = POLLIN };
			poll(&pf, 1, 10);
			idle++;
		}
	}
	return got;
}

/* Write the pattern in chunks until EAGAIN (bounded): the count. */
static size_t
fill(int fd, size_t chunk, size_t max)
{
	static char b[8192];
	size_t put = 0;

	while (put < max) {
		pattern(b, chunk, put);
		ssize_t w = send(fd, b, chunk, MSG_NOSIGNAL);
		if (w <= 0)
			break;
		put += (size_t)w;
	}
	return put;
}

static int
async_checks(int port)
{
	struct sockaddr_in a;
	int v, ok;
	char b[8192];

	int srv = listen_lo(port, 8, &a, "async");

	/* Order across asynchronous sends (small), synchronous ones (over
	 * 4096 bytes, and sendto with an address), vectors and other calls
	 * between them. */
	int cli = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	connect(cli, (struct sockaddr *)&a, sizeof(a));
	int conn = accept4(srv, NULL, NULL, 0);
	struct pollfd pf = { .fd = cli, .events = POLLOUT };
	CHECK(conn >= 0 && poll(&pf, 1, 5000) == 1, "async: connected");
	size_t at = 0;
	int order_ok = 1;
	for (int i = 0; i < 200 && order_ok; i++) {
		size_t n = i % 10 == 9 ? 5000 : (size_t)(1 + i * 7 % 300);
		pattern(b, n, at);
		ssize_t w;
		if (i % 3 == 0) {
			struct iovec iov[2] = { { b, n / 2 },
			    { b + n / 2, n - n / 2 } };
			w = writev(cli, iov, 2);
		} else
			w = write(cli, b, n);
		if (w != (ssize_t)n)
			order_ok = 0;
		at += n;
		socklen_t l = sizeof(v);
		getsockopt(cli, SOL_SOCKET, SO_ERROR, &v, &l);
		if (i % 50 == 0)
			drain(conn, 0, &ok);	/* nothing wanted: a look */
	}
	CHECK(order_ok, "async: 200 writes and writevs of 1..5000 bytes, "
	    "getsockopt between them: all taken (%zu bytes)", at);
	size_t got = drain(conn, at, &ok);
	CHECK(got == at && ok, "async: the peer reads all %zu bytes in order "
	    "(got %zu, pattern %s)", at, got, ok ? "intact" : "BROKEN");

	/* A peer that does not read: EAGAIN after a bounded amount; then
	 * it reads every byte; writable again after it did. */
	size_t put = fill(cli, 1000, 64 << 20);
	CHECK(put > 0 && put < (8 << 20) && errno == EAGAIN,
	    "async: a peer that does not read: EAGAIN after %zu bytes", put);
	pf.revents = 0;
	CHECK(poll(&pf, 1, 0) == 0, "async: the full socket is not writable");
	got = drain(conn, put, &ok);
	CHECK(got == put && ok, "async: then the peer reads all %zu (got %zu, "
	    "%s)", put, got, ok ? "in order" : "BROKEN");
	CHECK(poll(&pf, 1, 5000) == 1 && (pf.revents & POLLOUT),
	    "async: writable again once read");

	/* close after a full socket: the peer still gets every byte, then
	 * the end of the stream. */
	put = fill(cli, 1000, 64 << 20);
	CHECK(close(cli) == 0, "async: close with %zu bytes unread", put);
	got = drain(conn, put + 1, &ok);
	CHECK(got == put && ok, "async: after the close the peer reads all "
	    "%zu bytes and the end (got %zu)", put, got);
	close(conn);

	/* shutdown(SHUT_WR) after a full socket: bytes first, then FIN. */
	cli = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	connect(cli, (struct sockaddr *)&a, sizeof(a));
	conn = accept4(srv, NULL, NULL, 0);
	pf.fd = cli;
	poll(&pf, 1, 5000);
	put = fill(cli, 3000, 64 << 20);
	CHECK(shutdown(cli, SHUT_WR) == 0, "async: shutdown(SHUT_WR) with %zu "
	    "bytes unread", put);
	got = drain(conn, put + 1, &ok);
	CHECK(got == put && ok, "async: the peer reads all %zu, then the end "
	    "(got %zu)", put, got);
	close(cli);
	close(conn);

	/* Errors Linux gives at once come at once: a send after
	 * shutdown(SHUT_WR), a send on a socket still connecting. */
	cli = socket(AF_INET, SOCK_STREAM, 0);
	connect(cli, (struct sockaddr *)&a, sizeof(a));
	conn = accept4(srv, NULL, NULL, 0);
	CHECK(write(cli, "pre", 3) == 3 && shutdown(cli, SHUT_WR) == 0,
	    "async: a write, then shutdown(SHUT_WR)");
	errno = 0;
	CHECK(send(cli, "post", 4, MSG_NOSIGNAL) < 0 && errno == EPIPE,
	    "async: the send after it fails at once: %s", strerror(errno));
	close(cli);
	close(conn);
	int blk = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(blk >= 0 && connect(blk, (struct sockaddr *)&a, sizeof(a)) == 0,
	    "async: a connection the listener does not accept yet");
	cli = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	v = connect(cli, (struct sockaddr *)&a, sizeof(a));
	errno = 0;
	ssize_t early = send(cli, "early", 5, MSG_NOSIGNAL);
	int e0 = errno;
	pf.fd = cli;
	pf.events = POLLOUT;
	CHECK(early == 5 || (early < 0 && (e0 == EAGAIN || e0 == ENOTCONN)),
	    "async: a send while a non-blocking connect is under way: %s",
	    early == 5 ? "taken (connected already)" : strerror(e0));
	poll(&pf, 1, 5000);
	/* The listener's queue: blk's connection first, then cli's. */
	conn = accept4(srv, NULL, NULL, 0);
	int rcv = accept4(srv, NULL, NULL, 0);
	CHECK(write(cli, "late", 4) == 4, "async: a send once connected");
	char got4[16] = { 0 };
	size_t want4 = early == 5 ? 9 : 4;
	size_t g = 0;
	for (int t = 0; t < 500 && g < want4; t++) {
		ssize_t r2 = recv(rcv, got4 + g, want4 - g, MSG_DONTWAIT);
		if (r2 > 0)
			g += (size_t)r2;
		else {
			struct pollfd p3 = { .fd = rcv, .events = POLLIN };
			poll(&p3, 1, 10);
		}
	}
	CHECK(g == want4 && memcmp(got4, early == 5 ? "earlylate" : "late",
	    want4) == 0, "async: the peer gets exactly what was taken: %.*s",
	    (int)g, got4);
	close(cli);
	close(blk);
	close(conn);
	close(rcv);

	/* An error after asynchronous sends comes with a later call: the
	 * peer resets the connection. */
	cli = socket(AF_INET, SOCK_STREAM, 0);
	connect(cli, (struct sockaddr *)&a, sizeof(a));
	conn = accept4(srv, NULL, NULL, 0);
	struct linger lg = { 1, 0 };
	CHECK(setsockopt(conn, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) == 0 &&
	    close(conn) == 0, "async: the peer closes with a reset");
	int e = 0, tries;
	for (tries = 0; tries < 500; tries++) {
		if (send(cli, "x", 1, MSG_NOSIGNAL) < 0) {
			e = errno;
			break;
		}
		struct pollfd p2 = { .fd = cli, .events = POLLIN };
		poll(&p2, 1, 2);
	}
	CHECK(e == ECONNRESET || e == EPIPE, "async: a later send reports "
	    "the connection's end: %s after %d sends", strerror(e), tries);
	close(cli);
	close(srv);
	return failures ? 1 : 0;
}

int
main(int argc, char **argv)
{
	struct sockaddr_in a, b;
	socklen_t len;
	int srv, cli, conn, ep, p[2], v, n;
	uint64_t data = 0;
	uint32_t evs = 0;
	char buf[256];

	if (argc == 4 && strcmp(argv[1], "sendexit") == 0) {
		/* A program that leaves its socket to exit, as many do. */
		static char blk[65536];
		long left = atol(argv[3]);
		memset(&a, 0, sizeof(a));
		a.sin_family = AF_INET;
		a.sin_port = htons((uint16_t)atoi(argv[2]));
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		cli = socket(AF_INET, SOCK_STREAM, 0);
		if (cli < 0 || connect(cli, (struct sockaddr *)&a,
		    sizeof(a)) != 0) {
			perror("preload_probe sendexit: connect");
			return 1;
		}
		memset(blk, 'x', sizeof(blk));
		while (left > 0) {
			ssize_t w = write(cli, blk, left < (long)sizeof(blk) ?
			    (size_t)left : sizeof(blk));
			if (w <= 0) {
				perror("preload_probe sendexit: write");
				return 1;
			}
			left -= w;
		}
		exit(0);
	}
	if (argc == 3 && strcmp(argv[1], "async") == 0) {
		setvbuf(stdout, NULL, _IOLBF, 0);
		return async_checks(atoi(argv[2]));
	}
	if (argc == 3 && strcmp(argv[1], "fetch") == 0) {
		setvbuf(stdout, NULL, _IOLBF, 0);
		return fetch_checks(atoi(argv[2]));
	}
	if (argc != 4) {
		fprintf(stderr, "usage: preload_probe PORT PREFIX LINUXFILE\n"
		    "       preload_probe sendexit PORT BYTES\n"
		    "       preload_probe fetch PORT\n"
		    "       preload_probe async PORT\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	int port = atoi(argv[1]);
	const char *pfx = argv[2], *lfile = argv[3];

	/* A listening socket, non-blocking. */
	srv = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(srv >= 0, "socket(AF_INET, SOCK_STREAM): %d", srv);
	v = 1;
	CHECK(setsockopt(srv, SOL_SOCKET, SO_REUSEADDR, &v, sizeof(v)) == 0,
	    "setsockopt(SO_REUSEADDR)");
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(bind(srv, (struct sockaddr *)&a, sizeof(a)) == 0,
	    "bind 127.0.0.1:%d: %s", port, strerror(errno));
	CHECK(listen(srv, 16) == 0, "listen");
	v = fcntl(srv, F_GETFL);
	CHECK(v >= 0 && fcntl(srv, F_SETFL, v | O_NONBLOCK) == 0 &&
	    (fcntl(srv, F_GETFL) & O_NONBLOCK), "fcntl F_SETFL O_NONBLOCK");
	errno = 0;
	CHECK(accept4(srv, NULL, NULL, 0) < 0 && errno == EAGAIN,
	    "non-blocking accept with nobody waiting: EAGAIN (%s)",
	    strerror(errno));

	/* A non-blocking connect. */
	cli = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	CHECK(cli >= 0 && (fcntl(cli, F_GETFD) & FD_CLOEXEC) &&
	    (fcntl(cli, F_GETFL) & O_NONBLOCK),
	    "socket(SOCK_NONBLOCK|SOCK_CLOEXEC): both flags read back");
	v = connect(cli, (struct sockaddr *)&a, sizeof(a));
	CHECK(v == 0 || errno == EINPROGRESS,
	    "non-blocking connect: %s", v == 0 ? "at once" : strerror(errno));
	struct pollfd pf = { .fd = cli, .events = POLLOUT };
	CHECK(poll(&pf, 1, 5000) == 1 && (pf.revents & POLLOUT),
	    "poll: the connecting socket becomes writable");
	int err = -1;
	len = sizeof(err);
	CHECK(getsockopt(cli, SOL_SOCKET, SO_ERROR, &err, &len) == 0 &&
	    err == 0, "getsockopt(SO_ERROR): 0");

	/* Epoll mixing a Linux pipe and KRANK's sockets. */
	ep = epoll_create1(EPOLL_CLOEXEC);
	CHECK(ep >= 0 && pipe(p) == 0, "epoll_create1 and a Linux pipe");
	struct epoll_event e = { .events = EPOLLIN, .data.u64 = 1 };
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &e) == 0,
	    "epoll_ctl ADD the pipe");
	e.data.u64 = 2;
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, srv, &e) == 0,
	    "epoll_ctl ADD the listening socket");
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, srv, &e) < 0 && errno == EEXIST,
	    "epoll_ctl ADD again: EEXIST");
	n = wait_one(ep, 5000, &data, &evs);
	CHECK(n == 1 && data == 2 && (evs & EPOLLIN),
	    "epoll_wait: the listening socket is readable (n %d, data %lu)",
	    n, (unsigned long)data);
	len = sizeof(b);
	conn = accept4(srv, (struct sockaddr *)&b, &len, SOCK_NONBLOCK);
	CHECK(conn >= 0 && b.sin_addr.s_addr == htonl(INADDR_LOOPBACK),
	    "accept4: a connection from 127.0.0.1");
	CHECK(wait_one(ep, 0, &data, &evs) == 0,
	    "epoll_wait(0) after the accept: nothing");
	CHECK(write(p[1], "x", 1) == 1, "write to the pipe");
	n = wait_one(ep, 5000, &data, &evs);
	CHECK(n == 1 && data == 1, "epoll_wait: the Linux pipe in the mixed "
	    "set is reported (n %d, data %lu)", n, (unsigned long)data);
	CHECK(read(p[0], buf, 1) == 1, "read from the pipe");
	len = sizeof(b);
	struct sockaddr_in c;
	socklen_t clen = sizeof(c);
	CHECK(getsockname(cli, (struct sockaddr *)&b, &len) == 0 &&
	    getpeername(conn, (struct sockaddr *)&c, &clen) == 0 &&
	    b.sin_port == c.sin_port,
	    "getsockname of the client = getpeername of the server side "
	    "(port %d)", ntohs(b.sin_port));

	/* writev -> epoll -> FIONREAD -> readv. */
	e.events = EPOLLIN;
	e.data.u64 = 3;
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, conn, &e) == 0,
	    "epoll_ctl ADD the connection");
	struct iovec wv[3] = {
		{ "alpha-", 6 }, { "beta-", 5 }, { "gamma", 5 } };
	CHECK(writev(cli, wv, 3) == 16, "writev of three pieces, 16 bytes");
	n = wait_one(ep, 5000, &data, &evs);
	CHECK(n == 1 && data == 3, "epoll_wait: the connection is readable");
	/* All 16 bytes may come in more than one segment: poll until
	 * FIONREAD counts them (5 s). */
	v = -1;
	int rc = 0;
	for (int i = 0; i < 1000 && rc == 0 && v < 16; i++)
		if ((rc = ioctl(conn, FIONREAD, &v)) == 0 && v < 16)
			poll(NULL, 0, 5);
	CHECK(rc == 0 && v == 16, "ioctl(FIONREAD) says 16 bytes (%d)", v);
	char r1[10], r2[10];
	struct iovec rv[2] = { { r1, 10 }, { r2, 10 } };
	CHECK(readv(conn, rv, 2) == 16 && memcmp(r1, "alpha-beta", 10) == 0 &&
	    memcmp(r2, "-gamma", 6) == 0, "readv scatters them back in order");
	CHECK(read(conn, buf, sizeof(buf)) < 0 && errno == EAGAIN,
	    "read of the drained non-blocking connection: EAGAIN");

	/* sendmsg -> select -> recvmsg. */
	struct msghdr m;
	memset(&m, 0, sizeof(m));
	struct iovec sv[2] = { { "hello ", 6 }, { "world", 5 } };
	m.msg_iov = sv;
	m.msg_iovlen = 2;
	CHECK(sendmsg(cli, &m, MSG_NOSIGNAL) == 11, "sendmsg of two pieces");
	fd_set rd;
	FD_ZERO(&rd);
	FD_SET(conn, &rd);
	FD_SET(p[0], &rd);
	struct timeval tv = { 5, 0 };
	n = select((conn > p[0] ? conn : p[0]) + 1, &rd, NULL, NULL, &tv);
	CHECK(n == 1 && FD_ISSET(conn, &rd) && !FD_ISSET(p[0], &rd),
	    "select over the connection and the pipe: the connection (%d)",
	    n);
	char m1[4], m2[4], m3[8];
	struct iovec mv[3] = { { m1, 4 }, { m2, 4 }, { m3, 8 } };
	memset(&m, 0, sizeof(m));
	m.msg_iov = mv;
	m.msg_iovlen = 3;
	v = (int)recvmsg(conn, &m, 0);
	CHECK(v == 11 && memcmp(m1, "hell", 4) == 0 &&
	    memcmp(m2, "o wo", 4) == 0 && memcmp(m3, "rld", 3) == 0,
	    "recvmsg into three pieces: %d bytes", v);
	char cbuf[CMSG_SPACE(sizeof(int))];
	memset(&m, 0, sizeof(m));
	m.msg_iov = sv;
	m.msg_iovlen = 1;
	m.msg_control = cbuf;
	m.msg_controllen = sizeof(cbuf);
	CHECK(sendmsg(cli, &m, 0) < 0 && errno == EOPNOTSUPP,
	    "sendmsg with ancillary data: EOPNOTSUPP");

	/* dup, dup2 onto KRANK's and onto Linux's descriptors, dup3. */
	int d = dup(conn);
	CHECK(d >= 0 && d != conn, "dup of the connection: %d", d);
	CHECK(dup2(cli, d) == d, "dup2 of the client onto that KRANK "
	    "descriptor");
	CHECK(send(d, "via-dup2", 8, 0) == 8, "send through it");
	pf.fd = conn;
	pf.events = POLLIN;
	CHECK(poll(&pf, 1, 5000) == 1 && recv(conn, buf, sizeof(buf), 0) == 8 &&
	    memcmp(buf, "via-dup2", 8) == 0,
	    "the server side receives what went through the dup2'd "
	    "descriptor");
	int nul = open("/dev/null", O_WRONLY);
	CHECK(nul >= 0 && dup3(cli, nul, O_CLOEXEC) == nul &&
	    (fcntl(nul, F_GETFD) & FD_CLOEXEC),
	    "dup3(O_CLOEXEC) of the client onto a Linux descriptor");
	CHECK(write(nul, "z", 1) == 1 && poll(&pf, 1, 5000) == 1 &&
	    read(conn, buf, 1) == 1 && buf[0] == 'z',
	    "a write to it reaches the server side (not /dev/null)");
	CHECK(close(nul) == 0 && close(d) == 0, "close both copies");
	int hi = fcntl(cli, F_DUPFD_CLOEXEC, 100);
	CHECK(hi >= 100 && (fcntl(hi, F_GETFD) & FD_CLOEXEC) &&
	    close(hi) == 0, "fcntl(F_DUPFD_CLOEXEC, 100): %d", hi);
	CHECK(fcntl(cli, F_SETFD, 0) == 0 && fcntl(cli, F_GETFD) == 0,
	    "F_SETFD 0 clears FD_CLOEXEC");

	/* FIONBIO: blocking, then non-blocking again. */
	v = 0;
	CHECK(ioctl(conn, FIONBIO, &v) == 0 &&
	    !(fcntl(conn, F_GETFL) & O_NONBLOCK), "ioctl(FIONBIO, 0)");
	v = 1;
	CHECK(ioctl(conn, FIONBIO, &v) == 0 &&
	    (fcntl(conn, F_GETFL) & O_NONBLOCK), "ioctl(FIONBIO, 1)");

	/* shutdown: the other side sees the end of the stream. */
	CHECK(shutdown(cli, SHUT_WR) == 0, "shutdown(SHUT_WR)");
	CHECK(poll(&pf, 1, 5000) == 1 && recv(conn, buf, sizeof(buf), 0) == 0,
	    "the server side reads the end of the stream");
	CHECK(epoll_ctl(ep, EPOLL_CTL_DEL, conn, NULL) == 0 &&
	    close(conn) == 0 && close(cli) == 0,
	    "EPOLL_CTL_DEL and close of both sides");
	CHECK(write(conn, "x", 1) < 0 && errno == EBADF,
	    "the closed number answers EBADF");

	/* Files under the prefix are KRANK's; others are Linux's. */
	char path[512], dir[512];
	snprintf(dir, sizeof(dir), "%s", pfx);
	CHECK(mkdir(dir, 0755) == 0 || errno == EEXIST, "mkdir %s", dir);
	snprintf(path, sizeof(path), "%s/file", pfx);
	int f = open(path, O_CREAT | O_RDWR | O_TRUNC, 0644);
	CHECK(f >= 0, "open(O_CREAT) %s: %s", path, f < 0 ?
	    strerror(errno) : "ok");
	CHECK(write(f, "0123456789", 10) == 10, "write 10 bytes");
	CHECK(lseek(f, 2, SEEK_SET) == 2 && read(f, buf, 3) == 3 &&
	    memcmp(buf, "234", 3) == 0, "lseek and read");
	CHECK(pwrite(f, "AB", 2, 8) == 2 && pread(f, buf, 4, 6) == 4 &&
	    memcmp(buf, "67AB", 4) == 0, "pwrite and pread");
	struct stat st;
	CHECK(fstat(f, &st) == 0 && st.st_size == 10 && S_ISREG(st.st_mode),
	    "fstat: a regular file of 10 bytes");
	CHECK(close(f) == 0 && stat(path, &st) == 0 && st.st_size == 10,
	    "stat by path after close");
	CHECK(unlink(path) == 0 && stat(path, &st) < 0 && errno == ENOENT,
	    "unlink, then stat: ENOENT");
	f = open(lfile, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	CHECK(f >= 0 && write(f, "linux\n", 6) == 6 && close(f) == 0,
	    "a file outside the prefix (%s) written", lfile);

	/* Threads sharing rings. */
	pthread_t th[NTHREADS];
	thread_port = port + 10;
	for (long i = 0; i < NTHREADS; i++)
		pthread_create(&th[i], NULL, talker, (void *)i);
	long total = 0;
	for (int i = 0; i < NTHREADS; i++) {
		void *r;
		pthread_join(th[i], &r);
		total += (long)r;
	}
	CHECK(total == NTHREADS * 500, "%d threads at once, each with its own "
	    "connection: %ld of %d round trips intact", NTHREADS, total,
	    NTHREADS * 500);

	/* fork: the child keeps Linux's descriptors only, and attaches
	 * anew for sockets of its own. */
	pid_t pid = fork();
	if (pid == 0) {
		int bad = 0;
		errno = 0;
		if (!(listen(srv, 1) < 0 && errno == EBADF))
			bad |= 1;	/* the parent's KRANK socket */
		if (write(p[1], "c", 1) != 1)
			bad |= 2;	/* the Linux pipe */
		int s2 = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in a2 = a;
		a2.sin_port = htons((uint16_t)(port + 1));
		if (s2 < 0 || bind(s2, (struct sockaddr *)&a2,
		    sizeof(a2)) != 0 || close(s2) != 0)
			bad |= 4;	/* a socket of its own */
		if (close(srv) != 0)
			bad |= 8;	/* the placeholder closes */
		_exit(bad);
	}
	int status = -1;
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid &&
	    WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "fork: in the child the parent's KRANK socket is EBADF, the "
	    "Linux pipe works, a new socket attaches anew and binds (status "
	    "%#x)", status);
	CHECK(read(p[0], buf, 1) == 1 && buf[0] == 'c' &&
	    listen(srv, 16) == 0,
	    "after the fork the parent's pipe and KRANK socket still work");

	/* Signals: a handler that runs during a wait ends it with EINTR,
	 * with or without SA_RESTART (poll, select and epoll_wait are never
	 * restarted); a query answers the program's own handler. */
	struct sigaction sa, q;
	long ms = 0;
	main_thread = pthread_self();
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	CHECK(sigaction(SIGUSR1, &sa, NULL) == 0 &&
	    sigaction(SIGUSR1, NULL, &q) == 0 && q.sa_handler == on_signal &&
	    !(q.sa_flags & SA_SIGINFO),
	    "sigaction: a query answers the program's handler and flags");
	CHECK(interrupted(SIGUSR1, wait_poll, srv, &ms),
	    "poll on a KRANK listener: EINTR after the handler ran (%ld ms)",
	    ms);
	CHECK(interrupted(SIGUSR1, wait_select, srv, &ms),
	    "select on a KRANK listener: EINTR (%ld ms)", ms);
	CHECK(interrupted(SIGUSR1, wait_epoll, srv, &ms),
	    "epoll_wait on a KRANK listener: EINTR (%ld ms)", ms);
	CHECK(signal(SIGUSR2, on_signal) != SIG_ERR &&
	    interrupted(SIGUSR2, wait_poll, srv, &ms),
	    "signal() (SA_RESTART): poll still ends with EINTR (%ld ms)", ms);
	CHECK(signal(SIGUSR2, SIG_IGN) == on_signal,
	    "signal() answers the previous handler");
	pf.fd = srv;
	pf.events = POLLIN;
	CHECK(poll(&pf, 1, 50) == 0, "with no signal, poll times out (0)");
	signal(SIGUSR1, SIG_IGN);

	/* Hold the port until told to end. */
	printf("listening on %d\n", port);
	fflush(stdout);
	while (read(0, buf, sizeof(buf)) > 0)
		;
	close(srv);
	close(ep);
	printf("%s\n", failures ? "FAIL" : "PASS");
	return failures ? 1 : 0;
}
