/*
 * net_peer.c - a KRANK stack on a real link, for the Linux interop test:
 *   net_peer SPEC CIDR LINUX_ADDR SECONDS
 * opens SPEC (tap:NAME or afpacket:IF) as virt0 with address CIDR, prints
 * "ready" (stdout is the test's fifo), then until "quit" arrives or
 * SECONDS pass: answers ping (the stack does), echoes UDP on port 7, and
 * as a client sends probes to LINUX_ADDR:9999 until Linux's echo of one
 * comes back.  Prints a summary line and exits 0 when both worked.
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
	if (krs_boot("net,ether,virtif,socket,inet", err, sizeof(err)) != 0) {
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
	printf("ready %s %s\n", name, argv[2]);
	fflush(stdout);

	time_t end = time(NULL) + atoi(argv[4]);
	int echoed = 0, linux_ok = 0, probes = 0;
	size_t echoed_bytes = 0;
	bool quit = false;
	while (!quit && time(NULL) < end) {
		if (!linux_ok) {
			krs_sendto(cl, "krank-probe", 11, 0, &lx, sizeof(lx));
			probes++;
		}
		struct krs_pollfd pf[2] = { { echo, KRS_POLLIN, 0 },
		    { cl, KRS_POLLIN, 0 } };
		if (krs_poll(pf, 2, 200) <= 0)
			continue;
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
	    "linux echoed our probe %s after %d probes, reassembled %lld, "
	    "ip.badsum %lld, udp.badsum %lld, quit %s\n", (long long)replies,
	    echoed, echoed_bytes, linux_ok ? "yes" : "no", probes,
	    (long long)krs_net_counter("ip.reassembled"),
	    (long long)krs_net_counter("ip.badsum"),
	    (long long)krs_net_counter("udp.badsum"), quit ? "yes" : "no");
	fflush(stdout);
	krs_close(echo);
	krs_close(cl);
	krs_shutdown();
	return linux_ok && quit ? 0 : 1;
}
