/*
 * net_guard_peer.c - a KRANK stack on a tap for test_net_guard.sh:
 *   net_guard_peer SPEC CIDR SECONDS
 * opens SPEC as virt0 with address CIDR, prints "ready" and its process
 * id (stdout is the test's fifo; its CPU time is measured), then until "quit" or SECONDS: echoes TCP on port 7;
 * on port 80 writes "hello\n" to each connection and closes it at once,
 * so the closing end (and its TIME_WAIT) is KRANK's, as an HTTP/1.0
 * server's; on port 9 accepts every connection and holds it, never
 * reading (a server that waits for requests, or a reader that stalls:
 * "held" answers "held=N maxrcvq=BYTES", the largest receive queue of
 * any connection); and answers "counter NAME..." datagrams on UDP port 7 with
 * "NAME=VALUE ..." (the stack's counters, for the test to read) and
 * "states [PORT]" with "STATE=COUNT ..." for the TCP connections that
 * exist (of local port PORT).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <krank/krs.h>
#include "net/krs_net.h"

enum { MAXC = 64, MAXHOLD = 4096 };

static int
listener(int port)
{
	int s = krs_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	int one = 1;
	struct sockaddr_in a = { .sin_family = AF_INET,
	    .sin_port = htons((uint16_t)port) };
	krs_setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (s < 0 || krs_bind(s, &a, sizeof(a)) != 0 || krs_listen(s, 64) != 0) {
		fprintf(stderr, "net_guard_peer: tcp port %d: %s\n", port,
		    strerror(errno));
		exit(1);
	}
	return s;
}

/* "counter A B ..." -> "A=1 B=2 ..." in out. */
static void
counters(char *req, char *out, size_t len)
{
	size_t off = 0;
	char *save = NULL;
	out[0] = '\0';
	for (char *w = strtok_r(req + 8, " \n", &save); w != NULL && off < len;
	    w = strtok_r(NULL, " \n", &save)) {
		int n = snprintf(out + off, len - off, "%s%s=%lld",
		    off ? " " : "", w, (long long)krs_net_counter(w));
		if (n > 0)
			off += (size_t)n;
	}
}

static char dump[4 << 20];

/* The largest receive queue of a TCP connection, from the dump. */
static long
maxrcvq(void)
{
	long max = 0;
	if (krs_net_dump(dump, sizeof(dump)) < 0)
		return -1;
	for (char *l = strstr(dump, "\ntcp "); l != NULL;
	    l = strstr(l + 1, "\ntcp ")) {
		char *q = strstr(l, " rcvq "), *e = strchr(l + 1, '\n');
		if (q != NULL && (e == NULL || q < e) && atol(q + 6) > max)
			max = atol(q + 6);
	}
	return max;
}

/* "TIME_WAIT=3 ESTABLISHED=1 ..." from the stack's dump; port > 0:
 * only the connections of that local port. */
static void
states(char *out, size_t len, int port)
{
	static const char *const names[] = { "LISTEN", "SYN_RECEIVED",
	    "ESTABLISHED", "CLOSE_WAIT", "FIN_WAIT_1", "FIN_WAIT_2",
	    "CLOSING", "LAST_ACK", "TIME_WAIT" };
	long n[sizeof(names) / sizeof(names[0])] = { 0 };
	if (krs_net_dump(dump, sizeof(dump)) < 0)
		dump[0] = '\0';
	for (char *l = strstr(dump, "\ntcp "); l != NULL;
	    l = strstr(l + 1, "\ntcp ")) {
		char *e = strchr(l + 1, '\n');
		char *colon = strchr(l + 5, ':');
		if (port > 0 && (colon == NULL || (e != NULL && colon > e) ||
		    atoi(colon + 1) != port))
			continue;
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			char *w = strstr(l, names[i]);
			if (w != NULL && (e == NULL || w < e) && w[-1] == ' ' &&
			    w[strlen(names[i])] == ' ') {
				n[i]++;
				break;
			}
		}
	}
	size_t off = 0;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]) && off < len;
	    i++) {
		int k = snprintf(out + off, len - off, "%s%s=%ld",
		    off ? " " : "", names[i], n[i]);
		if (k > 0)
			off += (size_t)k;
	}
}

int
main(int argc, char **argv)
{
	char err[256], name[32];
	static char buf[65536], out[4096];
	if (argc != 4) {
		fprintf(stderr, "usage: net_guard_peer SPEC CIDR SECONDS\n");
		return 2;
	}
	if (krs_boot("vfs,net,ether,virtif,socket,inet", err, sizeof(err)) != 0) {
		fprintf(stderr, "net_guard_peer: boot: %s\n", err);
		return 1;
	}
	if (krs_if_virt_attach(argv[1], name, sizeof(name)) != 0 ||
	    krs_if_setaddr(name, argv[2]) != 0 || krs_if_up(name, 1) != 0) {
		fprintf(stderr, "net_guard_peer: %s: %s\n", argv[1],
		    strerror(errno));
		return 1;
	}
	int ctl = krs_socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(7) };
	if (krs_bind(ctl, &a, sizeof(a)) != 0) {
		perror("net_guard_peer: udp 7");
		return 1;
	}
	int echo = listener(7), hello = listener(80), hold = listener(9);
	int conn[MAXC], nconn = 0;
	static int held[MAXHOLD];
	int nheld = 0;
	long served = 0;
	printf("ready %s %s pid %ld\n", name, argv[2], (long)getpid());
	fflush(stdout);
	time_t end = time(NULL) + atoi(argv[3]);
	bool quit = false;
	while (!quit && time(NULL) < end) {
		struct krs_pollfd pf[4 + MAXC] = { { ctl, KRS_POLLIN, 0 },
		    { echo, KRS_POLLIN, 0 }, { hello, KRS_POLLIN, 0 },
		    { hold, KRS_POLLIN, 0 } };
		for (int i = 0; i < nconn; i++) {
			pf[4 + i].fd = conn[i];
			pf[4 + i].events = KRS_POLLIN;
		}
		if (krs_poll(pf, 4 + (unsigned)nconn, 200) <= 0)
			continue;
		if (pf[3].revents & KRS_POLLIN) {
			int c;
			while ((c = krs_accept(hold, NULL, NULL)) >= 0) {
				if (nheld < MAXHOLD)
					held[nheld++] = c;
				else
					krs_close(c);
			}
		}
		if (pf[2].revents & KRS_POLLIN) {
			int c;
			while ((c = krs_accept(hello, NULL, NULL)) >= 0) {
				if (krs_send(c, "hello\n", 6, 0) == 6)
					served++;
				krs_close(c);
			}
		}
		if ((pf[1].revents & KRS_POLLIN) && nconn < MAXC) {
			int c = krs_accept(echo, NULL, NULL);
			if (c >= 0)
				conn[nconn++] = c;
		}
		for (int i = 0; i < nconn; i++) {
			if (!(pf[4 + i].revents & (KRS_POLLIN | KRS_POLLHUP |
			    KRS_POLLERR)))
				continue;
			ssize_t n = krs_recv(conn[i], buf, sizeof(buf),
			    KRS_MSG_DONTWAIT);
			for (ssize_t w = 0; n > 0 && w < n; ) {
				ssize_t k = krs_send(conn[i], buf + w,
				    (size_t)(n - w), 0);
				if (k <= 0)
					break;
				w += k;
			}
			if (n == 0 || (n < 0 && errno != EAGAIN)) {
				krs_close(conn[i]);
				conn[i] = conn[--nconn];
				pf[4 + i] = pf[4 + nconn];
				i--;
			}
		}
		if (pf[0].revents & KRS_POLLIN) {
			struct sockaddr_in from;
			uint32_t fl = sizeof(from);
			ssize_t n = krs_recvfrom(ctl, buf, sizeof(buf) - 1,
			    KRS_MSG_DONTWAIT, &from, &fl);
			if (n < 0)
				continue;
			buf[n] = '\0';
			if (strncmp(buf, "quit", 4) == 0)
				quit = true;
			else if (strncmp(buf, "counter ", 8) == 0) {
				counters(buf, out, sizeof(out));
				krs_sendto(ctl, out, strlen(out), 0, &from, fl);
			} else if (strncmp(buf, "held", 4) == 0) {
				snprintf(out, sizeof(out), "held=%d maxrcvq=%ld",
				    nheld, maxrcvq());
				krs_sendto(ctl, out, strlen(out), 0, &from, fl);
			} else if (strncmp(buf, "states", 6) == 0) {
				states(out, sizeof(out), atoi(buf + 6));
				krs_sendto(ctl, out, strlen(out), 0, &from, fl);
			}
		}
	}
	printf("summary: hello served %ld, quit %s\n", served,
	    quit ? "yes" : "no");
	fflush(stdout);
	for (int i = 0; i < nconn; i++)
		krs_close(conn[i]);
	for (int i = 0; i < nheld; i++)
		krs_close(held[i]);
	krs_close(hold);
	krs_close(ctl);
	krs_close(echo);
	krs_close(hello);
	krs_shutdown();
	return quit ? 0 : 1;
}
