/*
 * test_net_hostile.c - hostile frames against a KRANK stack: the test
 * holds the far end of an in-process wire and sends crafted frames (runts,
 * bad checksums, short and bad header lengths, bad total lengths, option
 * overruns, martians, bad UDP/ICMP, overlapping and endless fragments,
 * bogus ARP, and against a TCP connection: RSTs and SYNs with wrong
 * sequence numbers (RFC 5961 challenge ACKs), unacceptable ACKs, RST and
 * SYN storms (challenge ACKs rate-limited), bad checksums, short headers,
 * data offsets too small and too large, option overruns including
 * malformed SACK options, SACK blocks outside what was sent).  Each must
 * be dropped and counted under its own counter, the connection must
 * survive every attack (data still flows after each group), and the stack
 * must still answer ARP, ping and UDP afterwards.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include <krank/hyp.h>
#include <krank/krs.h>
#include "net/krs_net.h"
#include "rdtest.h"

static struct hyp_pkt *raw;
static const uint8_t mac_us[6] = { 2, 0, 0, 0, 0, 0x99 };
static const uint8_t mac_k[6] = { 2, 0, 0, 0, 0, 0x01 };
static const uint32_t ip_us = 0x0a090002, ip_k = 0x0a090001;	/* host order */

static uint16_t
cksum(const uint8_t *p, size_t len, uint32_t s)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void
put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void
put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)(v >> 16)); put16(p + 2, (uint16_t)v); }

static size_t
eth(uint8_t *f, const uint8_t *dst, uint16_t type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, mac_us, 6);
	put16(f + 12, type);
	return 14;
}

/* An IPv4 packet in f+14: header of hl bytes (options NOP-filled),
 * payload copied, checksum right.  Returns the frame length. */
static size_t
ipv4(uint8_t *f, int hl, uint8_t proto, uint16_t off, const uint8_t *pay,
    size_t plen, uint16_t id)
{
	uint8_t *ip = f + eth(f, mac_k, 0x0800);
	memset(ip, 0, (size_t)hl);
	ip[0] = (uint8_t)(0x40 | hl / 4);
	put16(ip + 2, (uint16_t)(hl + plen));
	put16(ip + 4, id);
	put16(ip + 6, off);
	ip[8] = 64;
	ip[9] = proto;
	put32(ip + 12, ip_us);
	put32(ip + 16, ip_k);
	for (int i = 20; i < hl; i++)
		ip[i] = 1;	/* NOP */
	memcpy(ip + hl, pay, plen);
	put16(ip + 10, cksum(ip, (size_t)hl, 0));
	return 14 + (size_t)hl + plen;
}

static void
fix_ipsum(uint8_t *f)
{
	uint8_t *ip = f + 14;
	int hl = (ip[0] & 15) * 4;
	put16(ip + 10, 0);
	put16(ip + 10, cksum(ip, (size_t)hl, 0));
}

static void
tx(const uint8_t *f, size_t len)
{
	struct rumpuser_iovec iov = { (void *)f, len };
	CHECK(hyp_pkt_send(raw, &iov, 1) == 0, "raw send of %zu bytes", len);
}

/* Wait for a frame matching want(); others are skipped.  0 on timeout. */
static size_t
rx(uint8_t *out, int (*want)(const uint8_t *, size_t), int ms)
{
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct hyp_pkt_frame fr[16];
		unsigned n = 0;
		hyp_pkt_recv(raw, fr, 16, &n);
		size_t got = 0;
		for (unsigned i = 0; i < n; i++) {
			if (got == 0 && want(fr[i].data, fr[i].len)) {
				memcpy(out, fr[i].data, fr[i].len);
				got = fr[i].len;
			}
			hyp_pkt_frame_free(raw, &fr[i]);
		}
		if (got)
			return got;
		clock_gettime(CLOCK_MONOTONIC, &t);
		long el = (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
		if (el > ms)
			return 0;
		hyp_pkt_wait(raw, 50);
	}
}

static int
is_arp_reply(const uint8_t *f, size_t len)
{
	return len >= 42 && f[12] == 8 && f[13] == 6 && f[21] == 2;
}
static int
is_echo_reply(const uint8_t *f, size_t len)
{
	return len >= 42 && f[12] == 8 && f[13] == 0 && f[23] == 1 &&
	    f[14 + 20] == 0;
}
static int
is_port_unreach(const uint8_t *f, size_t len)
{
	return len >= 42 && f[12] == 8 && f[13] == 0 && f[23] == 1 &&
	    f[34] == 3 && f[35] == 3;
}

static void
arp_for_k(void)
{
	uint8_t f[64], r[2048];
	size_t n = eth(f, (const uint8_t *)"\xff\xff\xff\xff\xff\xff", 0x0806);
	uint8_t *a = f + n;
	put16(a, 1); put16(a + 2, 0x0800); a[4] = 6; a[5] = 4; put16(a + 6, 1);
	memcpy(a + 8, mac_us, 6); put32(a + 14, ip_us);
	memset(a + 18, 0, 6); put32(a + 24, ip_k);
	tx(f, 42);
	CHECK(rx(r, is_arp_reply, 10000) > 0, "ARP reply from the stack");
	CHECK(memcmp(r + 22, mac_k, 6) == 0, "reply carries the stack's MAC");
}

static int ping_seq;
static void
ping_ok(const char *when)
{
	uint8_t pay[64], f[2048], r[2048];
	memset(pay, 0, sizeof(pay));
	pay[0] = 8;
	put16(pay + 4, 0x4242);
	put16(pay + 6, (uint16_t)++ping_seq);
	for (int i = 8; i < 64; i++)
		pay[i] = (uint8_t)i;
	put16(pay + 2, cksum(pay, 64, 0));
	size_t n = ipv4(f, 20, 1, 0, pay, 64, (uint16_t)(1000 + ping_seq));
	size_t got = 0;
	/* A flood just before may have filled the wire's queue, which drops
	 * like a NIC ring: try a few times. */
	for (int t = 0; t < 5 && got == 0; t++) {
		tx(f, n);
		got = rx(r, is_echo_reply, 1000);
	}
	if (got == 0) {
		static char d[16384];
		krs_net_dump(d, sizeof(d));
		struct hyp_pkt_stats ps;
		hyp_pkt_stats(raw, &ps);
		printf("no echo reply %s; raw port rx %llu nobuf %llu\n%s", when,
		    (unsigned long long)ps.rx_frames,
		    (unsigned long long)ps.rx_nobuf, d);
	}
	CHECK(got >= 14 + 20 + 64, "echo reply %s", when);
	CHECK(cksum(r + 14, 20, 0) == 0 && cksum(r + 34, 64, 0) == 0,
	    "reply checksums verify");
	CHECK(memcmp(r + 34 + 4, pay + 4, 60) == 0, "reply echoes id, seq, data");
}

/* A TCP segment from us (port 5555) to the stack's port 80; a nonzero
 * tcp_off_byte replaces the data-offset byte before the checksum. */
static uint8_t tcp_off_byte;
static size_t
tcp_seg(uint8_t *f, uint8_t flags, uint32_t seq, uint32_t ack,
    const uint8_t *opts, size_t optlen, const char *data, size_t dlen)
{
	uint8_t t[128];
	size_t hl = 20 + optlen;
	memset(t, 0, 20);
	put16(t, 5555);
	put16(t + 2, 80);
	put32(t + 4, seq);
	put32(t + 8, ack);
	t[12] = (uint8_t)((hl / 4) << 4);
	t[13] = flags;
	put16(t + 14, 65535);
	memcpy(t + 20, opts, optlen);
	memcpy(t + hl, data, dlen);
	if (tcp_off_byte != 0)
		t[12] = tcp_off_byte;
	uint8_t ph[12];
	put32(ph, ip_us);
	put32(ph + 4, ip_k);
	ph[8] = 0;
	ph[9] = 6;
	put16(ph + 10, (uint16_t)(hl + dlen));
	uint32_t s = 0;
	for (int i = 0; i < 12; i += 2)
		s += (uint32_t)(ph[i] << 8 | ph[i + 1]);
	put16(t + 16, cksum(t, hl + dlen, s));
	return ipv4(f, 20, 6, 0, t, hl + dlen, 0x7000);
}

static int
is_synack(const uint8_t *f, size_t len)
{
	return len >= 54 && f[12] == 8 && f[13] == 0 && f[23] == 6 &&
	    (f[47] & 0x12) == 0x12;
}

/* The connection from the raw end still delivers data: send a segment
 * with the next bytes, read them from the socket. */
static uint32_t alive_seq = 1001;
static void
alive_ok(int tc, uint8_t *f, uint32_t iss, const char *when)
{
	char msg[8];
	snprintf(msg, sizeof(msg), "alive%02u", (unsigned)(alive_seq % 100));
	struct timeval ttv = { 5, 0 };
	krs_fcntl(tc, KRS_F_SETFL, 0);
	krs_setsockopt(tc, SOL_SOCKET, SO_RCVTIMEO, &ttv, sizeof(ttv));
	char tb[16];
	ssize_t tn = -1;
	/* The wire may have dropped it after a flood: send until read. */
	for (int t = 0; t < 5 && tn != 7; t++) {
		tx(f, tcp_seg(f, 0x18, alive_seq, iss + 1, NULL, 0, msg, 7));
		tn = krs_recv(tc, tb, sizeof(tb), 0);
	}
	CHECK(tn == 7 && memcmp(tb, msg, 7) == 0,
	    "the connection still delivers data %s", when);
	alive_seq += 7;
}

/* Wait (up to 5 s) until counter name exceeds base. */
static bool
counter_above(const char *name, int64_t base)
{
	for (int w = 0; w < 500; w++) {
		if (krs_net_counter(name) > base)
			return true;
		struct timespec ts = { 0, 10000000 };
		nanosleep(&ts, NULL);
	}
	return krs_net_counter(name) > base;
}

#define COUNTED(name, expr) do {					\
	int64_t before_ = krs_net_counter(name);			\
	expr;								\
	int64_t after_ = before_;					\
	for (int w_ = 0; w_ < 500 && after_ == before_; w_++) {		\
		struct timespec ts_ = { 0, 10000000 };			\
		nanosleep(&ts_, NULL);					\
		after_ = krs_net_counter(name);				\
	}								\
	CHECK(after_ > before_, "%s counted (%lld)", name, (long long)after_); \
} while (0)

int
main(void)
{
	char err[256], name[32];
	uint8_t f[4096], pay[3000];
	size_t n;

	CHECK(krs_boot("vfs,net,ether,virtif,socket,inet", err, sizeof(err)) == 0,
	    "boot: %s", err);
	CHECK(krs_if_virt_attach("wire:hz,mac=02:00:00:00:00:01", name,
	    sizeof(name)) == 0, "attach");
	CHECK(krs_if_setaddr(name, "10.9.0.1/24") == 0 && krs_if_up(name, 1) == 0,
	    "up");
	CHECK(hyp_pkt_open("wire:hz", &raw) == 0, "raw end of the wire");
	int us = krs_socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(9) };
	CHECK(krs_bind(us, &a, sizeof(a)) == 0, "UDP socket on port 9");
	arp_for_k();
	ping_ok("before the attack");

	memset(pay, 0x5a, sizeof(pay));
	/* Ethernet */
	n = eth(f, mac_k, 0x0800);
	COUNTED("ip.toosmall", tx(f, n));
	n = eth(f, mac_k, 0x88b5);
	memset(f + 14, 0, 46);
	COUNTED("ether.noproto", tx(f, 60));
	n = eth(f, (const uint8_t *)"\x02\x00\x00\x00\x00\x55", 0x0800);
	COUNTED("ether.notours", tx(f, 60));
	/* IPv4 header */
	n = ipv4(f, 20, 17, 0, pay, 20, 1);
	f[14 + 10] ^= 0xff;
	COUNTED("ip.badsum", tx(f, n));
	n = ipv4(f, 20, 17, 0, pay, 20, 2);
	f[14] = 0x44;			/* header length 16 */
	fix_ipsum(f);
	COUNTED("ip.badhlen", tx(f, n));
	n = ipv4(f, 20, 17, 0, pay, 4, 3);
	f[14] = 0x4f;			/* 60-byte header in a 24-byte packet */
	COUNTED("ip.badhlen", tx(f, 14 + 24 < 60 ? 60 : 38));
	n = ipv4(f, 20, 17, 0, pay, 20, 4);
	put16(f + 16, 1400);		/* total length past the frame */
	fix_ipsum(f);
	COUNTED("ip.tooshort", tx(f, n));
	n = ipv4(f, 20, 17, 0, pay, 20, 5);
	put16(f + 16, 10);		/* total length below the header */
	fix_ipsum(f);
	COUNTED("ip.badlen", tx(f, n));
	n = ipv4(f, 20, 17, 0, pay, 20, 6);
	f[14] = 0x65;
	fix_ipsum(f);
	COUNTED("ip.badvers", tx(f, n));
	n = ipv4(f, 28, 17, 0, pay, 20, 7);
	f[14 + 20] = 7;			/* record route, length 40: overrun */
	f[14 + 21] = 40;
	fix_ipsum(f);
	COUNTED("ip.badoptions", tx(f, n));
	n = ipv4(f, 20, 17, 0, pay, 20, 8);
	put32(f + 14 + 12, 0x7f000001);	/* 127.0.0.1 from the wire */
	fix_ipsum(f);
	COUNTED("ip.badaddr", tx(f, n));
	/* Sources no host sends from: 0.0.0.0 to a unicast address, 0/8,
	 * the subnet's broadcast, a multicast group; and the stack's own
	 * address (a LAND spoof) counted apart. */
	static const uint32_t martians[] = { 0, 0x00010203, 0x0a0900ff,
	    0xe0000001, 0xffffffff };
	for (size_t i = 0; i < sizeof(martians) / sizeof(martians[0]); i++) {
		n = ipv4(f, 20, 17, 0, pay, 20, (uint16_t)(80 + i));
		put32(f + 14 + 12, martians[i]);
		fix_ipsum(f);
		COUNTED("ip.badaddr", tx(f, n));
	}
	n = ipv4(f, 20, 17, 0, pay, 20, 90);
	put32(f + 14 + 12, ip_k);
	fix_ipsum(f);
	COUNTED("ip.ownsrc", tx(f, n));
	n = ipv4(f, 20, 17, 0, pay, 20, 9);
	put32(f + 14 + 16, 0x0a090077);	/* not ours: no forwarding */
	fix_ipsum(f);
	COUNTED("ip.cantforward", tx(f, n));
	n = ipv4(f, 20, 99, 0, pay, 20, 10);
	COUNTED("ip.noproto", tx(f, n));
	/* Options that are well formed are skipped, not fatal. */
	uint8_t u[32];
	put16(u, 4444); put16(u + 2, 9); put16(u + 4, 8 + 5); put16(u + 6, 0);
	memcpy(u + 8, "opts!", 5);
	n = ipv4(f, 32, 17, 0, u, 13, 11);
	tx(f, n);
	char buf[64];
	struct timeval tv = { 3, 0 };
	krs_setsockopt(us, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	CHECK(krs_recv(us, buf, sizeof(buf), 0) == 5 && memcmp(buf, "opts!", 5) == 0,
	    "a datagram with NOP options is delivered");
	/* UDP */
	put16(u + 6, 0x1234);		/* wrong checksum */
	n = ipv4(f, 20, 17, 0, u, 13, 12);
	COUNTED("udp.badsum", tx(f, n));
	put16(u + 6, 0);
	put16(u + 4, 200);		/* length past the packet */
	n = ipv4(f, 20, 17, 0, u, 13, 13);
	COUNTED("udp.badlen", tx(f, n));
	n = ipv4(f, 20, 17, 0, u, 4, 14);
	COUNTED("udp.hdrops", tx(f, n));
	put16(u + 2, 7777);		/* closed port */
	put16(u + 4, 13);
	n = ipv4(f, 20, 17, 0, u, 13, 15);
	COUNTED("udp.noport", tx(f, n));
	uint8_t r[2048];
	CHECK(rx(r, is_port_unreach, 10000) > 0, "ICMP port unreachable came back");
	/* ICMP */
	uint8_t ic[16] = { 8, 0, 0x12, 0x34 };
	n = ipv4(f, 20, 1, 0, ic, 16, 16);
	COUNTED("icmp.badsum", tx(f, n));
	n = ipv4(f, 20, 1, 0, ic, 4, 17);
	COUNTED("icmp.tooshort", tx(f, n));
	/* Fragments: overlapping, and endless ones that never complete. */
	n = ipv4(f, 20, 17, 0x2000 | 0, pay, 800, 20);
	tx(f, n);
	n = ipv4(f, 20, 17, 0x2000 | 50, pay, 800, 20);	/* at 400: overlaps */
	COUNTED("ip.fragoverlap", tx(f, n));
	int64_t drops0 = krs_net_counter("ip.fragdropped");
	for (int i = 0; i < 2000; i++) {
		n = ipv4(f, 20, 17, (uint16_t)(0x2000 | (i % 512)), pay, 64,
		    (uint16_t)(30000 + i % 300));
		tx(f, n);
	}
	ping_ok("after 2000 endless fragments");
	CHECK(krs_net_counter("ip.fragdropped") > drops0,
	    "endless fragments hit the limits and were dropped");
	/* A fragment whose end passes 65535 bytes. */
	n = ipv4(f, 20, 17, 0x2000 | 8190, pay, 64, 31000);
	COUNTED("ip.fragdropped", tx(f, n));
	/* ARP */
	n = eth(f, (const uint8_t *)"\xff\xff\xff\xff\xff\xff", 0x0806);
	memset(f + 14, 0, 28);
	put16(f + 14, 1); put16(f + 16, 0x0800); f[18] = 5; f[19] = 4;
	COUNTED("arp.bad", tx(f, 60));
	f[18] = 6; put16(f + 20, 2);
	memcpy(f + 22, "\x02\x00\x00\x00\x00\x66", 6);
	put32(f + 28, ip_k);		/* someone claims our address */
	COUNTED("arp.dupaddr", tx(f, 60));
	n = eth(f, mac_k, 0x0806);
	COUNTED("arp.bad", tx(f, 20));	/* truncated ARP */
	PASS("hostile frames: every kind dropped and counted");

	/* TCP: a connection from the raw end, then attacks on it. */
	int tl = krs_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in ta = { .sin_family = AF_INET, .sin_port = htons(80) };
	CHECK(krs_bind(tl, &ta, sizeof(ta)) == 0 && krs_listen(tl, 4) == 0,
	    "TCP listener on 80");
	/* MSS and SACK-permitted: the connection uses SACK. */
	const uint8_t mss[8] = { 2, 4, 0x05, 0xb4, 1, 1, 4, 2 };
	n = tcp_seg(f, 0x02, 1000, 0, mss, 8, NULL, 0);
	tx(f, n);
	size_t rl = rx(r, is_synack, 10000);
	CHECK(rl > 0, "SYN-ACK from the stack");
	if (rl > 0) {
		/* The stack leaves TCP checksums to the wire; this raw end
		 * does not take frames so, so the wire completed it. */
		size_t ihl = (size_t)(r[14] & 0x0f) * 4;
		size_t tcplen = ((size_t)r[16] << 8 | r[17]) - ihl;
		uint8_t ph[12];
		memcpy(ph, r + 26, 8);
		ph[8] = 0;
		ph[9] = 6;
		put16(ph + 10, (uint16_t)tcplen);
		uint32_t ps = 0;
		for (int i = 0; i < 12; i += 2)
			ps += (uint32_t)(ph[i] << 8 | ph[i + 1]);
		CHECK(cksum(r + 14 + ihl, tcplen, ps) == 0,
		    "its TCP checksum is right (completed by the wire)");
	}
	bool sackok = false;
	for (int i = 54; i < 14 + 20 + (r[46] >> 4) * 4 && r[i] != 0; )
		if (r[i] == 1)
			i++;
		else {
			sackok |= r[i] == 4 && r[i + 1] == 2;
			i += r[i + 1] < 2 ? 2 : r[i + 1];
		}
	CHECK(sackok, "the SYN-ACK answers SACK-permitted");
	uint32_t iss = (uint32_t)r[38] << 24 | (uint32_t)r[39] << 16 |
	    (uint32_t)r[40] << 8 | r[41];
	n = tcp_seg(f, 0x10, 1001, iss + 1, NULL, 0, NULL, 0);
	tx(f, n);
	int tc = -1;
	for (int t = 0; t < 300 && tc < 0; t++) {
		tc = krs_accept(tl, NULL, NULL);
		if (tc < 0) {
			struct timespec ts = { 0, 10000000 };
			nanosleep(&ts, NULL);
		}
	}
	CHECK(tc >= 0, "connection accepted");
	/* One answer to an invalid segment per connection per 500 ms
	 * (TCP_INVALID_RATELIMIT_MS): wait that long between these. */
	struct timespec rlwait = { 0, 550000000 };
	COUNTED("tcp.challengeack",
	    tx(f, tcp_seg(f, 0x04, 1001 + 100, 0, NULL, 0, NULL, 0)));
	nanosleep(&rlwait, NULL);
	COUNTED("tcp.challengeack",
	    tx(f, tcp_seg(f, 0x02, 5000, 0, NULL, 0, NULL, 0)));
	COUNTED("tcp.rcvacktoomuch",
	    tx(f, tcp_seg(f, 0x10, 1001, iss + 100000, NULL, 0, NULL, 0)));
	/* A frame from an end that does not vouch for it (no checksum
	 * offload metadata, as from a tap) is verified: dropped. */
	n = tcp_seg(f, 0x18, 1001, iss + 1, NULL, 0, "xx", 2);
	f[14 + 20 + 16] ^= 0x55;
	COUNTED("tcp.rcvbadsum", tx(f, n));
	const uint8_t badopt[4] = { 8, 40, 0, 0 };	/* timestamp overrun */
	COUNTED("tcp.badopt", tx(f, tcp_seg(f, 0x18, 1001, iss + 1, badopt, 4,
	    "xx", 2)));
	tcp_off_byte = 0xf0;		/* data offset past the segment */
	n = tcp_seg(f, 0x18, 1001, iss + 1, NULL, 0, "xx", 2);
	tcp_off_byte = 0;
	COUNTED("tcp.rcvbadoff", tx(f, n));
	tcp_off_byte = 0x40;		/* data offset 16: below the header */
	n = tcp_seg(f, 0x18, 1001, iss + 1, NULL, 0, "xx", 2);
	tcp_off_byte = 0;
	COUNTED("tcp.rcvbadoff", tx(f, n));
	/* A TCP header cut short: 12 bytes of it in the IP packet. */
	n = tcp_seg(f, 0x10, 1001, iss + 1, NULL, 0, NULL, 0);
	n = ipv4(f, 20, 6, 0, f + 34, 12, 0x7001);
	COUNTED("tcp.rcvshort", tx(f, n));
	/* Malformed SACK options, each in an otherwise good segment. */
	static const struct { uint8_t o[16]; size_t n; } sbad[] = {
		{ { 1, 1, 5, 9, 0, 0, 0, 1, 0, 0, 0, 2 }, 12 },	/* 2+7 */
		{ { 1, 1, 5, 2 }, 4 },				/* no block */
		{ { 1, 1, 5, 18, 0, 0, 0, 1, 0, 0, 0, 2 }, 12 },	/* overrun */
		{ { 5, 10, 0, 0, 0, 1, 0, 0, 0, 2, 5, 255 }, 12 },	/* 2nd overruns */
		{ { 1, 1, 1, 5 }, 4 },				/* no length */
	};
	for (size_t i = 0; i < sizeof(sbad) / sizeof(sbad[0]); i++)
		COUNTED("tcp.badopt", tx(f, tcp_seg(f, 0x18, 1001, iss + 1,
		    sbad[i].o, sbad[i].n, "xx", 2)));
	/* Well-formed SACK blocks for data never sent: ignored, counted. */
	uint8_t sk[20] = { 1, 1, 5, 18 };
	put32(sk + 4, iss + 1000); put32(sk + 8, iss + 2000);
	put32(sk + 12, iss - 5000); put32(sk + 16, iss - 6000);
	COUNTED("tcp.sack_badblocks", tx(f, tcp_seg(f, 0x10, 1001, iss + 1, sk,
	    20, NULL, 0)));
	alive_ok(tc, f, iss, "after bad checksums, offsets and options");
	/* RST storm: in the window, never at RCV.NXT. */
	/*
	 * The storm goes on until the limiter has engaged (at most 20,000
	 * segments): a slow or loaded machine may need more than one
	 * second's worth of 100 to show it.  Then wait, with a deadline, for
	 * the stack to have counted it.
	 */
	int64_t lim0 = krs_net_counter("tcp.challengeack_limited");
	for (int i = 0; i < 20000 &&
	    krs_net_counter("tcp.challengeack_limited") == lim0; i++)
		tx(f, tcp_seg(f, 0x04, 1002 + (uint32_t)(i % 300) * 100, 0,
		    NULL, 0, NULL, 0));
	CHECK(counter_above("tcp.challengeack_limited", lim0),
	    "RST storm: challenge ACKs beyond the limit counted as limited");
	alive_ok(tc, f, iss, "after an RST storm");
	/* SYN storm: sequence numbers in and out of the window; in a new
	 * second, as the RST storm used this one's challenge ACKs. */
	struct timespec sec = { 1, 100000000 };
	nanosleep(&sec, NULL);
	int64_t ch0 = krs_net_counter("tcp.challengeack");
	lim0 = krs_net_counter("tcp.challengeack_limited");
	struct timespec s0, s1;
	clock_gettime(CLOCK_MONOTONIC, &s0);
	uint32_t x = 12345;
	for (int i = 0; i < 20000 &&
	    krs_net_counter("tcp.challengeack_limited") == lim0; i++) {
		x = x * 1103515245u + 12345u;
		tx(f, tcp_seg(f, 0x02, i & 1 ? x :
		    1001 + (uint32_t)(i % 300) * 10, 0, NULL, 0, NULL, 0));
	}
	CHECK(counter_above("tcp.challengeack_limited", lim0),
	    "SYN storm: challenge ACKs beyond the limit counted as limited");
	clock_gettime(CLOCK_MONOTONIC, &s1);
	/* At most one per 500 ms on this connection (and one at the
	 * start, as the last answer was over 500 ms ago). */
	int64_t ms = (int64_t)(s1.tv_sec - s0.tv_sec) * 1000 +
	    (s1.tv_nsec - s0.tv_nsec) / 1000000;
	int64_t sent = krs_net_counter("tcp.challengeack") - ch0;
	CHECK(sent > 0 && sent <= ms / 500 + 1,
	    "SYN storm: challenge ACKs sent, at most one per 500 ms (%lld in "
	    "%lld ms)", (long long)sent, (long long)ms);
	alive_ok(tc, f, iss, "after a SYN storm");
	/* RSTs outside the window are dropped silently (RFC 5961 3.2). */
	for (int i = 0; i < 50; i++)
		tx(f, tcp_seg(f, 0x04, 1001 + 0x40000000u + (uint32_t)i, 0, NULL,
		    0, NULL, 0));
	alive_ok(tc, f, iss, "after out-of-window RSTs");
	krs_close(tc);
	krs_close(tl);
	PASS("TCP: challenge ACKs for bad RST/SYN/ACK and storms, bad checksum, "
	    "short header, offsets, option and SACK overruns; the connection "
	    "survived each");

	/* Still alive and correct. */
	arp_for_k();
	ping_ok("after the attack");
	put16(u, 4444); put16(u + 2, 9); put16(u + 4, 8 + 5); put16(u + 6, 0);
	memcpy(u + 8, "alive", 5);
	n = ipv4(f, 20, 17, 0, u, 13, 40);
	tx(f, n);
	CHECK(krs_recv(us, buf, sizeof(buf), 0) == 5 && memcmp(buf, "alive", 5) == 0,
	    "UDP still delivered");
	PASS("the stack still answers ARP, ping and UDP");
	static char dump[16384];
	krs_net_dump(dump, sizeof(dump));
	printf("%s", strstr(dump, "counter ip.total"));
	krs_close(us);
	hyp_pkt_close(raw);
	krs_shutdown();
	DONE();
}
