/*
 * krq_hostnet - a Linux process attached to a running KRANK (libkrank,
 * the queue path) uses hostnet: KRS_AF_HOSTNET sockets that KRANK
 * forwards to Linux's TCP/IP.  usage: krq_hostnet CTLSOCK ECHO_PORT
 * HOLD_PORT DENIED_PORT.  ECHO_PORT is a Linux echo service (socat) on
 * 127.0.0.1, HOLD_PORT a Linux service that waits for EOF; both are
 * allowed by the deployment, DENIED_PORT is not.  The connection to
 * HOLD_PORT is left open on purpose: KRANK must close it when this
 * process goes away (test_hostnet_krank.sh checks).
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <krank/krank.h>
#include <krank/krq.h>

#define KRS_AF_HOSTNET	KRANK_AF_HOSTNET	/* <krank/krank.h> */

static int failures;
#define CHECK(cond, ...) do {						\
	int ok_ = (cond);						\
	printf("%s: ", ok_ ? "ok" : "FAIL");				\
	printf(__VA_ARGS__);						\
	printf(" (errno %d)\n", ok_ ? 0 : errno);			\
	fflush(stdout);							\
	failures += !ok_;						\
} while (0)

static struct sockaddr_in
lo(int port)
{
	struct sockaddr_in s = { .sin_family = AF_INET,
	    .sin_port = htons((uint16_t)port),
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	return s;
}

int
main(int argc, char **argv)
{
	struct krq *q;
	struct krank_client *c;
	int e;

	if (argc != 5) {
		fprintf(stderr, "usage: krq_hostnet CTLSOCK ECHO HOLD DENIED\n");
		return 2;
	}
	int echo = atoi(argv[2]), hold = atoi(argv[3]), denied = atoi(argv[4]);
	if ((e = krq_attach(argv[1], 1, &q)) != 0 ||
	    (e = krank_client_ring(q, 0, &c)) != 0) {
		printf("FAIL: attach to %s: %s (%s)\n", argv[1], strerror(e),
		    krq_attach_error() ? krq_attach_error() : "");
		return 1;
	}

	int s = krank_socket(c, KRS_AF_HOSTNET, SOCK_STREAM, 0);
	CHECK(s >= 0, "a hostnet socket over the queue (domain 19272)");
	struct sockaddr_in a = lo(denied);
	errno = 0;
	CHECK(krank_connect(c, s, (struct sockaddr *)&a, sizeof(a)) == -1 &&
	    errno == EACCES, "connect to 127.0.0.1:%d (not allowed): EACCES",
	    denied);
	a = lo(echo);
	CHECK(krank_connect(c, s, (struct sockaddr *)&a, sizeof(a)) == 0,
	    "connect to Linux's echo at 127.0.0.1:%d", echo);
	struct sockaddr_in pa;
	socklen_t pl = sizeof(pa);
	CHECK(krank_getpeername(c, s, (struct sockaddr *)&pa, &pl) == 0 &&
	    pa.sin_port == htons((uint16_t)echo), "getpeername");

	struct pollfd p = { .fd = s, .events = POLLIN };
	CHECK(krank_poll(c, &p, 1, 50) == 0, "poll: nothing to read yet");
	static char out[200000], in[200000];
	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (char)('a' + i % 23);
	CHECK(krank_write(c, s, "hello", 5) == 5, "write");
	CHECK(krank_poll(c, &p, 1, 5000) == 1 && (p.revents & POLLIN),
	    "poll: the echo is readable");
	size_t got = 0;
	while (got < 5) {
		ssize_t n = krank_read(c, s, in + got, 5 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	CHECK(got == 5 && memcmp(in, "hello", 5) == 0, "the echo came back");
	size_t sent = 0;
	got = 0;
	while (got < sizeof(out)) {
		if (sent < sizeof(out)) {
			size_t chunk = sizeof(out) - sent < 16384 ?
			    sizeof(out) - sent : 16384;
			ssize_t n = krank_write(c, s, out + sent, chunk);
			if (n <= 0)
				break;
			sent += (size_t)n;
		}
		while (got < sent) {
			ssize_t n = krank_read(c, s, in + got, sent - got);
			if (n <= 0)
				goto done;
			got += (size_t)n;
		}
	}
done:
	CHECK(got == sizeof(out) && memcmp(in, out, sizeof(out)) == 0,
	    "%zu bytes through Linux's echo and back, byte for byte", got);
	CHECK(krank_shutdown(c, s, SHUT_WR) == 0, "shutdown(SHUT_WR)");
	CHECK(krank_read(c, s, in, sizeof(in)) == 0,
	    "EOF once Linux's echo closed");
	CHECK(krank_close(c, s) == 0, "close");

	/* left open on purpose */
	int h = krank_socket(c, KRS_AF_HOSTNET, SOCK_STREAM, 0);
	a = lo(hold);
	CHECK(h >= 0 && krank_connect(c, h, (struct sockaddr *)&a,
	    sizeof(a)) == 0 && krank_write(c, h, "held\n", 5) == 5,
	    "a second connection, to 127.0.0.1:%d, left open", hold);
	printf("%s\n", failures ? "FAIL" : "PASS");
	fflush(stdout);
	/* exit without closing h or detaching */
	_exit(failures ? 1 : 0);
}
