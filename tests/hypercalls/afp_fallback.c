/*
 * afp_fallback - the AF_PACKET backend when the host refuses its rings,
 * through the host-call table: with PACKET_RX_RING refused (setsockopt
 * fails) and with the ring mapping refused (mmap fails), a port still
 * opens, on the copy path (hyp_pkt_host_stats: ring 0), and exchanges
 * frames with a ring port across a veth pair.
 *   afp_fallback IF_A IF_B   (the two ends of a veth, up; run in a
 *                             network namespace of the test's own)
 * Prints what it checked; exits 0 when all held.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <linux/if_packet.h>
#include <krank/hyp.h>
#include <krank/hyp_posix.h>

static int failures;
static int (*real_setsockopt)(int, int, int, const void *, socklen_t);
static void *(*real_mmap)(void *, size_t, int, int, int, off_t);

#define CHECK(cond, ...) do {                                          \
	printf("%s: ", (cond) ? "ok" : "FAIL");                         \
	if (!(cond))                                                    \
		failures++;                                             \
	printf(__VA_ARGS__);                                            \
	printf("\n");                                                   \
} while (0)

static int
no_rx_ring(int fd, int level, int name, const void *v, socklen_t len)
{
	if (level == SOL_PACKET && name == PACKET_RX_RING) {
		errno = ENOMEM;
		return -1;
	}
	return real_setsockopt(fd, level, name, v, len);
}

static void *
no_shared_map(void *a, size_t len, int prot, int flags, int fd, off_t off)
{
	if (fd >= 0 && (flags & MAP_SHARED)) {
		errno = EPERM;
		return MAP_FAILED;
	}
	return real_mmap(a, len, prot, flags, fd, off);
}

/* Send one frame from a to b's address; 1 when b receives it in 2 s. */
static int
exchange(struct hyp_pkt *a, struct hyp_pkt *b, unsigned char tag)
{
	struct hyp_pkt_info ia, ib;
	unsigned char f[60] = { 0 };
	hyp_pkt_info(a, &ia);
	hyp_pkt_info(b, &ib);
	memcpy(f, ib.lladdr, 6);
	memcpy(f + 6, ia.lladdr, 6);
	f[12] = 0x88;			/* local experimental ethertype */
	f[13] = 0xb5;
	f[14] = tag;
	struct rumpuser_iovec iov = { f, sizeof(f) };
	if (hyp_pkt_send(a, &iov, 1) != 0)
		return 0;
	for (int tries = 0; tries < 20; tries++) {
		struct hyp_pkt_frame fr[8];
		unsigned n = 0;
		if (hyp_pkt_recv(b, fr, 8, &n) == 0) {
			int seen = 0;
			for (unsigned i = 0; i < n; i++) {
				const unsigned char *d = fr[i].data;
				if (fr[i].len >= 15 && d[12] == 0x88 &&
				    d[13] == 0xb5 && d[14] == tag)
					seen = 1;
				hyp_pkt_frame_free(b, &fr[i]);
			}
			if (seen)
				return 1;
		}
		hyp_pkt_wait(b, 100);
	}
	return 0;
}

static void
one_case(const char *what, const char *spec_a, const char *spec_b)
{
	struct hyp_pkt *a, *b;
	struct hyp_pkt_host_stats ha, hb;
	int ra = hyp_pkt_open(spec_a, &a);
	hyp_posix_hostcall("setsockopt", NULL);
	hyp_posix_hostcall("mmap", NULL);
	int rb = hyp_pkt_open(spec_b, &b);
	CHECK(ra == 0 && rb == 0, "%s: both ports open (%d, %d)", what, ra, rb);
	if (ra != 0 || rb != 0)
		return;
	hyp_pkt_host_stats(a, &ha);
	hyp_pkt_host_stats(b, &hb);
	CHECK(ha.ring == 0 && hb.ring == 1,
	    "%s: the refused port is on the copy path, the other on rings", what);
	CHECK(exchange(a, b, 1), "%s: copy port -> ring port", what);
	CHECK(exchange(b, a, 2), "%s: ring port -> copy port", what);
	hyp_pkt_host_stats(a, &ha);
	CHECK(ha.tx_calls >= 1 && ha.rx_calls >= 1,
	    "%s: the copy port made host calls (tx %llu, rx %llu)", what,
	    (unsigned long long)ha.tx_calls, (unsigned long long)ha.rx_calls);
	hyp_pkt_close(a);
	hyp_pkt_close(b);
}

int
main(int argc, char **argv)
{
	char sa[64], sb[64];
	static const struct rumpuser_hyperup noupcalls;

	if (argc != 3) {
		fprintf(stderr, "usage: afp_fallback IF_A IF_B\n");
		return 2;
	}
	rumpuser_init(RUMPUSER_VERSION, &noupcalls);
	snprintf(sa, sizeof(sa), "afpacket:%s", argv[1]);
	snprintf(sb, sizeof(sb), "afpacket:%s", argv[2]);

	real_setsockopt = hyp_posix_hostcall("setsockopt", (void *)no_rx_ring);
	one_case("PACKET_RX_RING refused", sa, sb);
	real_mmap = hyp_posix_hostcall("mmap", (void *)no_shared_map);
	one_case("ring mapping refused", sa, sb);
	printf("%s\n", failures ? "FAIL: afp_fallback" : "PASS: afp_fallback");
	return failures != 0;
}
