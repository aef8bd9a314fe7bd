/*
 * pkt_responder - a tiny IPv4 host on a packet port, for testing the tap
 * and AF_PACKET backends against Linux's own stack: it answers ARP
 * requests and ICMP echo requests for one address, using nothing but
 * hyp_pkt_* calls.  Prints "ready" once the port is open, and at the end
 * how many ARP and echo replies it sent.
 * usage: pkt_responder SPEC IPV4 NECHO [TIMEOUT_S]
 * Exits 0 after NECHO echo replies, 1 on timeout or error.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <krank/hyp.h>

static uint16_t
csum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint32_t s = 0;
	for (size_t i = 0; i + 1 < len; i += 2)
		s += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (len & 1)
		s += (uint32_t)(b[len - 1] << 8);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

int
main(int argc, char **argv)
{
	struct hyp_pkt *p;
	struct hyp_pkt_info info;
	struct in_addr me;
	int rv;

	if (argc < 4 || inet_pton(AF_INET, argv[2], &me) != 1) {
		fprintf(stderr, "usage: pkt_responder SPEC IPV4 NECHO [TIMEOUT_S]\n");
		return 2;
	}
	int want = atoi(argv[3]);
	int timeout = argc > 4 ? atoi(argv[4]) : 20;
	static const struct rumpuser_hyperup noupcalls;
	rumpuser_init(RUMPUSER_VERSION, &noupcalls);
	if ((rv = hyp_pkt_open(argv[1], &p)) != 0) {
		fprintf(stderr, "pkt_responder: cannot open %s: NetBSD errno %d\n",
		    argv[1], rv);
		return 1;
	}
	hyp_pkt_info(p, &info);
	printf("ready %s mtu %u\n", info.name, info.mtu);
	fflush(stdout);

	int arps = 0, echoes = 0;
	time_t end = time(NULL) + timeout;
	while (echoes < want && time(NULL) < end) {
		struct hyp_pkt_frame fr[32];
		unsigned n;
		if (hyp_pkt_recv(p, fr, 32, &n) != 0 || n == 0) {
			hyp_pkt_wait(p, 100);
			continue;
		}
		for (unsigned i = 0; i < n; i++) {
			uint8_t out[2048], *f = fr[i].data;
			size_t len = fr[i].len;
			uint16_t type = (uint16_t)(f[12] << 8 | f[13]);
			if (type == 0x0806 && len >= 42 && f[20] == 0 && f[21] == 1 &&
			    memcmp(f + 38, &me, 4) == 0) {
				/* ARP request for us: reply. */
				memcpy(out, f + 6, 6);
				memcpy(out + 6, info.lladdr, 6);
				memcpy(out + 12, f + 12, 8);
				out[20] = 0;
				out[21] = 2;	/* ARP reply */
				memcpy(out + 22, info.lladdr, 6);
				memcpy(out + 28, &me, 4);
				memcpy(out + 32, f + 22, 10);
				struct rumpuser_iovec iov = { out, 42 };
				if (hyp_pkt_send(p, &iov, 1) == 0)
					arps++;
			} else if (type == 0x0800 && len >= 34 && memcmp(f, info.lladdr, 6) == 0 &&
			    memcmp(f + 30, &me, 4) == 0 && f[23] == 1) {
				size_t ihl = (size_t)(f[14] & 0xf) * 4;
				size_t iplen = (size_t)(f[16] << 8 | f[17]);
				if (ihl < 20 || iplen < ihl + 8 || 14 + iplen > len ||
				    f[14 + ihl] != 8)
					continue;
				memcpy(out, f, 14 + iplen);
				memcpy(out, f + 6, 6);
				memcpy(out + 6, info.lladdr, 6);
				memcpy(out + 26, f + 30, 4);
				memcpy(out + 30, f + 26, 4);
				out[22] = 64;
				out[24] = out[25] = 0;
				uint16_t c = csum(out + 14, ihl);
				out[24] = (uint8_t)(c >> 8);
				out[25] = (uint8_t)c;
				uint8_t *icmp = out + 14 + ihl;
				icmp[0] = 0;
				icmp[2] = icmp[3] = 0;
				c = csum(icmp, iplen - ihl);
				icmp[2] = (uint8_t)(c >> 8);
				icmp[3] = (uint8_t)c;
				struct rumpuser_iovec iov = { out, 14 + iplen };
				if (hyp_pkt_send(p, &iov, 1) == 0)
					echoes++;
			}
		}
		for (unsigned i = 0; i < n; i++)
			hyp_pkt_frame_free(p, &fr[i]);
	}
	struct hyp_pkt_stats st;
	hyp_pkt_stats(p, &st);
	struct hyp_pkt_host_stats hs;
	hyp_pkt_host_stats(p, &hs);
	printf("arp replies %d echo replies %d rx %llu tx %llu ring %u "
	    "host tx calls %llu host rx calls %llu rx bad %llu\n", arps, echoes,
	    (unsigned long long)st.rx_frames, (unsigned long long)st.tx_frames,
	    hs.ring, (unsigned long long)hs.tx_calls,
	    (unsigned long long)hs.rx_calls, (unsigned long long)st.rx_bad);
	hyp_pkt_close(p);
	return echoes >= want ? 0 : 1;
}
