/*
 * echo.c - a TCP and UDP echo server, a KRANK isolate: one poll loop over
 * non-blocking sockets, a bounded buffer per connection that stops reading
 * a client whose echo it has not yet taken back (backpressure), a bounded
 * number of connections and an idle timeout.  Plain POSIX: it builds with
 * krank-cc (echo.kx) and with the host's gcc.  No signals, no stdio
 * streams.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1	/* accept4 */
#endif
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ex_util.h"

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0		/* isolates get no signals anyway */
#endif

#define ECHO_BUF	16384	/* bytes held per connection */
#define ECHO_UDP_BATCH	64	/* datagrams per turn */

static void
usage(int fd)
{
	dprintf(fd,
"NAME\n"
"    echo - TCP and UDP echo server, a KRANK isolate\n"
"\n"
"SYNOPSIS\n"
"    echo [--port P] [--max-conn N] [--idle-timeout D] [--until-eof]\n"
"    echo --help\n"
"\n"
"DESCRIPTION\n"
"    Sends back every byte a TCP client sends and every UDP datagram,\n"
"    on port P of every address (RFC 862).  Many clients are served at\n"
"    once by one poll loop over non-blocking sockets.  Each connection\n"
"    holds at most %d bytes not yet sent back; while they are not\n"
"    drained, that client is not read (so a client that sends without\n"
"    reading slows only itself).  When a client shuts down its sending\n"
"    side, what is held is sent back and the connection is closed.\n"
"    Once listening it prints \"ready PORT\" on standard output.  It runs\n"
"    until it is ended (KRANK ends isolates; it installs no signal\n"
"    handlers) or, with --until-eof, until standard input reaches end\n"
"    of file; then it prints its counters on standard output.\n"
"\n"
"OPTIONS\n"
"    --port P\n"
"        TCP and UDP port (default 7; 0: any free port, printed in\n"
"        \"ready\").\n"
"    --max-conn N\n"
"        TCP connections served at once (default 256, 1..65536).  Beyond\n"
"        that a new connection is accepted and closed at once, and\n"
"        counted as refused.\n"
"    --idle-timeout D\n"
"        A connection on which nothing moves either way for D is closed\n"
"        (default 60s; D is N, Ns, Nms or Nm).\n"
"    --until-eof\n"
"        Stop at end of file on standard input (for scripts).\n"
"    --help\n"
"        This text.\n"
"\n"
"COUNTERS\n"
"    accepted, refused (over --max-conn), idle (closed by the timeout),\n"
"    resets (receive or send errors), bytes echoed over TCP; datagrams\n"
"    echoed and dropped (the socket could not take the answer).\n"
"\n"
"EXIT STATUS\n"
"    0 after --until-eof, 1 when a port cannot be set up (with a message\n"
"    on standard error), 2 on a usage error.\n"
"\n"
"EXAMPLES\n"
"    echo --port 7007 & socat - TCP:127.0.0.1:7007\n"
"\n"
"SEE ALSO\n"
"    examples/httpd, krank(8).\n", ECHO_BUF);
}

struct conn {
	int fd;
	bool eof;			/* the client sent all it will */
	int64_t deadline;		/* idle, ms */
	size_t off, len;		/* buf[off..len) to send back */
	char buf[ECHO_BUF];
};

static struct {
	unsigned long accepted, refused, idle, resets, udp_in, udp_dropped;
	unsigned long long bytes;
} cnt;

static bool
transient(int e)
{
	return e == EAGAIN || e == EWOULDBLOCK || e == EINTR;
}

/* Move what can move on c; 0, or -1 to close it. */
static int
conn_io(struct conn *c, short re, int64_t now, int idle_ms)
{
	bool moved = false;
	if ((re & (POLLIN | POLLHUP | POLLERR)) && !c->eof &&
	    c->len < sizeof(c->buf)) {
		if (c->off > 0) {	/* room at the end */
			memmove(c->buf, c->buf + c->off, c->len - c->off);
			c->len -= c->off;
			c->off = 0;
		}
		ssize_t n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len,
		    0);
		if (n > 0) {
			c->len += (size_t)n;
			moved = true;
		} else if (n == 0)
			c->eof = true;
		else if (!transient(errno)) {
			cnt.resets++;
			return -1;
		}
	}
	while (c->off < c->len) {	/* send at once: usually it fits */
		ssize_t w = send(c->fd, c->buf + c->off, c->len - c->off,
		    MSG_NOSIGNAL);
		if (w < 0) {
			if (transient(errno))
				break;
			cnt.resets++;
			return -1;
		}
		c->off += (size_t)w;
		cnt.bytes += (unsigned long long)w;
		moved = true;
	}
	if (c->off == c->len)
		c->off = c->len = 0;
	if (c->eof && c->len == 0) {
		shutdown(c->fd, SHUT_WR);
		return -1;
	}
	if (moved)
		c->deadline = now + idle_ms;
	return 0;
}

/* Echo a batch of the datagrams waiting on u. */
static void
udp_echo(int u)
{
	static char dg[65536];
	for (int k = 0; k < ECHO_UDP_BATCH; k++) {
		struct sockaddr_in from;
		socklen_t flen = sizeof(from);
		ssize_t n = recvfrom(u, dg, sizeof(dg), 0,
		    (struct sockaddr *)&from, &flen);
		if (n < 0)
			return;
		cnt.udp_in++;
		if (sendto(u, dg, (size_t)n, MSG_NOSIGNAL,
		    (struct sockaddr *)&from, flen) != n)
			cnt.udp_dropped++;
	}
}

int
main(int argc, char **argv)
{
	long port = 7, maxconn = 256;
	int64_t idle_ms = 60000;
	bool until_eof = false;
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(o, "--help") == 0 || strcmp(o, "-h") == 0) {
			usage(1);
			return 0;
		}
		if (strcmp(o, "--until-eof") == 0) {
			until_eof = true;
			continue;
		}
		if (strcmp(o, "--port") != 0 && strcmp(o, "--max-conn") != 0 &&
		    strcmp(o, "--idle-timeout") != 0) {
			dprintf(2, "echo: %s: unknown option (try --help)\n", o);
			return 2;
		}
		if (v == NULL) {
			dprintf(2, "echo: %s: needs a value (try --help)\n", o);
			return 2;
		}
		i++;
		if ((strcmp(o, "--port") == 0 &&
		    ex_number(v, 0, 65535, &port) != 0) ||
		    (strcmp(o, "--max-conn") == 0 &&
		    ex_number(v, 1, 65536, &maxconn) != 0) ||
		    (strcmp(o, "--idle-timeout") == 0 &&
		    (ex_duration_ms(v, &idle_ms) != 0 || idle_ms == 0))) {
			dprintf(2, "echo: %s %s: not a %s\n", o, v,
			    strcmp(o, "--port") == 0 ? "port (0..65535)" :
			    strcmp(o, "--max-conn") == 0 ?
			    "number in 1..65536" :
			    "duration (N, Ns, Nms or Nm, not 0)");
			return 2;
		}
	}
	int tport, uport;
	int l = ex_listen(SOCK_STREAM, (int)port, &tport);
	if (l < 0) {
		dprintf(2, "echo: TCP port %ld: %s\n", port, ex_errstr(errno));
		return 1;
	}
	int u = ex_listen(SOCK_DGRAM, tport, &uport);
	if (u < 0) {
		dprintf(2, "echo: UDP port %d: %s\n", tport, ex_errstr(errno));
		return 1;
	}
	struct conn **conns = calloc((size_t)maxconn, sizeof(*conns));
	struct pollfd *pf = calloc((size_t)maxconn + 3, sizeof(*pf));
	if (conns == NULL || pf == NULL) {
		dprintf(2, "echo: table of %ld connections: out of memory\n",
		    maxconn);
		return 1;
	}
	int nconn = 0;
	int64_t accept_pause = 0;	/* out of descriptors: until then */
	dprintf(1, "ready %d\n", tport);

	for (;;) {
		int64_t now = ex_now_ms(), wait = 1000;
		for (int i = nconn - 1; i >= 0; i--) {
			if (conns[i]->deadline > now) {
				if (conns[i]->deadline - now < wait)
					wait = conns[i]->deadline - now;
				continue;
			}
			cnt.idle++;
			close(conns[i]->fd);
			free(conns[i]);
			conns[i] = conns[--nconn];
		}
		unsigned n = 0;
		pf[n++] = (struct pollfd){ .fd = now >= accept_pause ? l : -1,
		    .events = POLLIN };
		if (now < accept_pause && accept_pause - now < wait)
			wait = accept_pause - now;
		pf[n++] = (struct pollfd){ .fd = u, .events = POLLIN };
		pf[n++] = (struct pollfd){ .fd = until_eof ? 0 : -1,
		    .events = POLLIN };
		for (int i = 0; i < nconn; i++) {
			struct conn *c = conns[i];
			/* Read only into room; write only what is held. */
			short ev = (!c->eof && c->len < sizeof(c->buf) ?
			    POLLIN : 0) | (c->off < c->len ? POLLOUT : 0);
			pf[n++] = (struct pollfd){ .fd = c->fd, .events = ev };
		}
		int ready = poll(pf, n, (int)wait);
		if (ready < 0 && errno != EINTR) {
			dprintf(2, "echo: poll: %s\n", ex_errstr(errno));
			break;
		}
		if (ready <= 0)
			continue;
		now = ex_now_ms();
		for (int i = nconn - 1; i >= 0; i--) {
			if (pf[3 + i].revents == 0)
				continue;
			if (conn_io(conns[i], pf[3 + i].revents, now,
			    (int)idle_ms) != 0) {
				close(conns[i]->fd);
				free(conns[i]);
				conns[i] = conns[--nconn];
			}
		}
		if (pf[1].revents != 0)
			udp_echo(u);
		if (pf[2].revents != 0) {
			char b[64];
			ssize_t r = read(0, b, sizeof(b));
			if (r == 0 || (r < 0 && !transient(errno)))
				break;
		}
		if (pf[0].revents == 0)
			continue;
		for (int k = 0; k < 64; k++) {	/* a bounded batch */
			int fd = accept4(l, NULL, NULL, SOCK_NONBLOCK), one = 1;
			if (fd < 0) {
				/* Out of descriptors: the connection stays
				 * queued; retry in a moment, not at once. */
				if (errno == EMFILE || errno == ENFILE)
					accept_pause = now + 100;
				break;
			}
			cnt.accepted++;
			struct conn *c = nconn < maxconn ?
			    malloc(sizeof(*c)) : NULL;
			if (c == NULL) {
				cnt.refused++;
				close(fd);
				continue;
			}
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
			    sizeof(one));
			c->fd = fd;
			c->eof = false;
			c->off = c->len = 0;
			c->deadline = now + idle_ms;
			conns[nconn++] = c;
		}
	}
	dprintf(1, "echo: accepted %lu, refused %lu, idle %lu, resets %lu, "
	    "bytes %llu; udp echoed %lu, dropped %lu\n", cnt.accepted,
	    cnt.refused, cnt.idle, cnt.resets, cnt.bytes,
	    cnt.udp_in - cnt.udp_dropped, cnt.udp_dropped);
	while (nconn > 0) {
		close(conns[--nconn]->fd);
		free(conns[nconn]);
	}
	free(conns);
	free(pf);
	close(l);
	close(u);
	return 0;
}
