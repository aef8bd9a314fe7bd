/*
 * net_peer.c - a KRANK stack on a real link, for the Linux interop test:
 *   net_peer SPEC CIDR LINUX_ADDR SECONDS
 * opens SPEC (tap:NAME or afpacket:IF) as virt0 with address CIDR, prints
 * "ready" (stdout is the test's fifo), then until "quit" arrives or
 * SECONDS pass: answers ping (the stack does), echoes UDP and TCP on port
 * 7, discards TCP on port 9 (counting bytes), and as a client sends UDP
 * probes to LINUX_ADDR:9999 and a TCP message to LINUX_ADDR:9998 until
 * Linux echoes them.  Prints a summary line; exits 0 when both client
 * exchanges worked.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <krank/krs.h>
#include "net/krs_net.h"

int
main(int argc, char **argv)
{
	char err[256], name[32];
	static char buf[70000];
	if (argc != 5) {
		fprintf(stderr, "usage: net_peer SPEC CIDR LINUX_ADDR SECONDS\n");
		return 2;
	}
	if (krs_boot("vfs,net,ether,virtif,socket,inet", err, sizeof(err)) != 0) {
		fprintf(stderr, "net_peer: boot: %s\n", err);
		return 1;
	}
	if (krs_if_virt_attach(argv[1], name, sizeof(name)) != 0 ||
	    krs_if_setaddr(name, argv[2]) != 0 || krs_if_up(name, 1) != 0) {
		fprintf(stderr, "net_peer: %s: %s (errno %d)\n", argv[1],
		    strerror(errno), errno);
		return 1;
	}
	int echo = krs_socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(7) };
	int big = 1 << 20;
	krs_setsockopt(echo, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	if (krs_bind(echo, &a, sizeof(a)) != 0) {
		perror("net_peer: bind 7");
		return 1;
	}
	int cl = krs_socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in lx = { .sin_family = AF_INET, .sin_port = htons(9999) };
	inet_pton(AF_INET, argv[3], &lx.sin_addr);
	int tl7 = krs_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	int tl9 = krs_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	int one = 1;
	krs_setsockopt(tl7, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	a.sin_port = htons(7);
	if (krs_bind(tl7, &a, sizeof(a)) != 0 || krs_listen(tl7, 16) != 0) {
		perror("net_peer: tcp 7");
		return 1;
	}
	a.sin_port = htons(9);
	if (krs_bind(tl9, &a, sizeof(a)) != 0 || krs_listen(tl9, 16) != 0) {
		perror("net_peer: tcp 9");
		return 1;
	}
	enum { MAXC = 16 };
	int conn[MAXC], ctype[MAXC], nconn = 0;
	size_t discarded = 0, tcp_echoed = 0;
	int tcl = -1, tcp_ok = 0, tcp_tries = 0;
	struct sockaddr_in lt = lx;
	lt.sin_port = htons(9998);
	printf("ready %s %s\n", name, argv[2]);
	fflush(stdout);

	time_t end = time(NULL) + atoi(argv[4]);
	int echoed = 0, linux_ok = 0, probes = 0;
	size_t echoed_bytes = 0;
	bool quit = false;
	/* After "quit", finish the TCP connections still open (a sender's
	 * data may still be in flight when its socat has exited). */
	while (!(quit && nconn == 0) && time(NULL) < end) {
		if (!linux_ok) {
			krs_sendto(cl, "krank-probe", 11, 0, &lx, sizeof(lx));
			probes++;
		}
		/* TCP client: (re)connect until Linux's server answers. */
		if (!tcp_ok && tcl < 0) {
			tcl = krs_socket(AF_INET, SOCK_STREAM, 0);
			struct timeval tv = { 2, 0 };
			krs_setsockopt(tcl, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
			tcp_tries++;
			if (krs_connect(tcl, &lt, sizeof(lt)) != 0 ||
			    krs_send(tcl, "krank-tcp-hello", 15, 0) != 15) {
				krs_close(tcl);
				tcl = -1;
			}
		}
		struct krs_pollfd pf[5 + MAXC] = { { echo, KRS_POLLIN, 0 },
		    { cl, KRS_POLLIN, 0 }, { tl7, KRS_POLLIN, 0 },
		    { tl9, KRS_POLLIN, 0 }, { tcl, KRS_POLLIN, 0 } };
		for (int i = 0; i < nconn; i++) {
			pf[5 + i].fd = conn[i];
			pf[5 + i].events = KRS_POLLIN;
		}
		if (krs_poll(pf, 5 + (unsigned)nconn, 200) <= 0)
			continue;
		for (int k = 2; k <= 3; k++)
			if ((pf[k].revents & KRS_POLLIN) && nconn < MAXC) {
				int c = krs_accept(pf[k].fd, NULL, NULL);
				if (c >= 0) {
					ctype[nconn] = k == 2 ? 7 : 9;
					conn[nconn++] = c;
				}
			}
		for (int i = 0; i < nconn; i++) {
			if (!(pf[5 + i].revents & (KRS_POLLIN | KRS_POLLHUP |
			    KRS_POLLERR)))
				continue;
			ssize_t n = krs_recv(conn[i], buf, sizeof(buf),
			    KRS_MSG_DONTWAIT);
			if (n > 0 && ctype[i] == 9)
				discarded += (size_t)n;
			else if (n > 0) {
				ssize_t w = 0;
				while (w < n) {
					ssize_t k2 = krs_send(conn[i], buf + w,
					    (size_t)(n - w), 0);
					if (k2 <= 0)
						break;
					w += k2;
				}
				tcp_echoed += (size_t)w;
			}
			if (n == 0 || (n < 0 && errno != EAGAIN)) {
				krs_close(conn[i]);
				conn[i] = conn[--nconn];
				ctype[i] = ctype[nconn];
				pf[5 + i] = pf[5 + nconn];
				i--;
			}
		}
		if (tcl >= 0 && (pf[4].revents & (KRS_POLLIN | KRS_POLLERR |
		    KRS_POLLHUP))) {
			ssize_t n = krs_recv(tcl, buf, sizeof(buf), KRS_MSG_DONTWAIT);
			if (n == 15 && memcmp(buf, "krank-tcp-hello", 15) == 0)
				tcp_ok = 1;
			if (n != -1 || errno != EAGAIN) {
				krs_close(tcl);
				tcl = -1;
			}
		}
		if (pf[0].revents & KRS_POLLIN) {
			struct sockaddr_in from;
			uint32_t fl = sizeof(from);
			ssize_t n = krs_recvfrom(echo, buf, sizeof(buf),
			    KRS_MSG_DONTWAIT, &from, &fl);
			if (n == 5 && memcmp(buf, "quit\n", 5) == 0)
				quit = true;
			else if (n >= 0 && krs_sendto(echo, buf, (size_t)n, 0,
			    &from, fl) == n) {
				echoed++;
				echoed_bytes += (size_t)n;
			}
		}
		if (pf[1].revents & KRS_POLLIN) {
			ssize_t n = krs_recv(cl, buf, sizeof(buf), KRS_MSG_DONTWAIT);
			if (n == 11 && memcmp(buf, "krank-probe", 11) == 0)
				linux_ok = 1;
		}
	}
	int64_t replies = krs_net_counter("icmp.reply");
	printf("summary: echo replies %lld, udp echoed %d (%zu bytes), "
	    "linux echoed our probe %s after %d probes, tcp echoed %zu bytes, "
	    "tcp discarded %zu bytes, linux echoed our tcp %s after %d tries, "
	    "reassembled %lld, ip.badsum %lld, udp.badsum %lld, "
	    "tcp.rcvbadsum %lld, tcp.sndrexmitpack %lld, "
	    "sack blocks sent %lld, sack blocks used %lld, "
	    "sack recoveries %lld, rto %lld, quit %s\n",
	    (long long)replies, echoed, echoed_bytes, linux_ok ? "yes" : "no",
	    probes, tcp_echoed, discarded, tcp_ok ? "yes" : "no", tcp_tries,
	    (long long)krs_net_counter("ip.reassembled"),
	    (long long)krs_net_counter("ip.badsum"),
	    (long long)krs_net_counter("udp.badsum"),
	    (long long)krs_net_counter("tcp.rcvbadsum"),
	    (long long)krs_net_counter("tcp.sndrexmitpack"),
	    (long long)krs_net_counter("tcp.sack_sndblocks"),
	    (long long)krs_net_counter("tcp.sack_rcvblocks"),
	    (long long)krs_net_counter("tcp.sack_recovery"),
	    (long long)krs_net_counter("tcp.rexmttimeo"), quit ? "yes" : "no");
	fflush(stdout);
	for (int i = 0; i < nconn; i++)
		krs_close(conn[i]);
	krs_close(echo);
	krs_close(cl);
	krs_close(tl7);
	krs_close(tl9);
	if (tcl >= 0)
		krs_close(tcl);
	krs_shutdown();
	return linux_ok && tcp_ok && quit ? 0 : 1;
}
