/*
 * net_attack.c - the Linux side of test_net_guard.sh, run inside its
 * network namespace: crafted TCP segments written to a tap's Linux end
 * with AF_PACKET (so any source address goes out), the KRANK stack's
 * answers counted from the same socket, and a connection-per-request
 * client.  A plain Linux program: it links nothing of KRANK.
 *   net_attack syn IF KMAC KIP SRC DPORT COUNT
 *	COUNT SYNs from SRC:DPORT to KIP:DPORT (source = destination port,
 *	as a LAND attack has it).
 *   net_attack oow IF KMAC KIP PORT MS PPS
 *	connect to KIP:PORT, then for MS ms send PPS a second segments on
 *	that connection that lie outside KRANK's receive window (pure ACKs
 *	and data past the window, in turn) and count KRANK's segments on
 *	it; then the connection must still echo.
 *   net_attack closed IF KMAC KIP PORT MS PPS
 *	for MS ms send PPS a second SYNs to KIP:PORT (nobody listens) from
 *	changing ports of ours and count KRANK's RSTs.
 *   net_attack reconnect KIP PORT SPORT N
 *	N connections one after another, each from SPORT (0: any port),
 *	reading to EOF what KRANK's port sends and then closing.
 *   net_attack synflood IF KMAC KIP PORT N
 *	N SYNs to KIP:PORT from spoofed addresses of KIP's /24 (.100 to
 *	.199, which nobody holds, so nobody ever answers KRANK's SYN-ACKs)
 *	and random ports, as fast as the tap takes them.
 *   net_attack hold KIP PORT N SECONDS
 *	N connections to KIP:PORT at once (non-blocking connects), which
 *	never send; prints how many completed (within 20 s), then holds
 *	them open for SECONDS.
 *   net_attack tiny IF KMAC KIP PORT N PPS
 *	connect to KIP:PORT, then send N one-byte segments in order on that
 *	connection (crafted, PPS a second), as a peer that wants a receive
 *	buffer to pin one frame per byte would.
 *   net_attack bulk KIP PORT MIB SECONDS
 *	connect to KIP:PORT and write up to MIB MiB for at most SECONDS;
 *	prints the bytes the KRANK end took.
 * Prints one line of results; exits 0 unless something could not run.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int pkt = -1, ifindex;
static uint8_t kmac[6], mymac[6];
static uint32_t kip, myip;		/* network order */

static void
die(const char *what)
{
	fprintf(stderr, "net_attack: %s: %s\n", what, strerror(errno));
	exit(2);
}

static long long
now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

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
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* AF_PACKET on IF: to send frames and to see KRANK's. */
static void
open_if(const char *ifname, const char *mac, const char *kaddr)
{
	unsigned m[6];
	if (sscanf(mac, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4],
	    &m[5]) != 6) {
		fprintf(stderr, "net_attack: bad MAC %s\n", mac);
		exit(2);
	}
	for (int i = 0; i < 6; i++)
		kmac[i] = (uint8_t)m[i];
	if (inet_pton(AF_INET, kaddr, &kip) != 1) {
		fprintf(stderr, "net_attack: bad address %s\n", kaddr);
		exit(2);
	}
	pkt = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_IP));
	if (pkt < 0)
		die("AF_PACKET socket");
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(pkt, SIOCGIFINDEX, &ifr) != 0)
		die(ifname);
	ifindex = ifr.ifr_ifindex;
	if (ioctl(pkt, SIOCGIFHWADDR, &ifr) != 0)
		die("SIOCGIFHWADDR");
	memcpy(mymac, ifr.ifr_hwaddr.sa_data, 6);
	ifr.ifr_addr.sa_family = AF_INET;
	if (ioctl(pkt, SIOCGIFADDR, &ifr) != 0)
		die("SIOCGIFADDR");
	myip = ((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr.s_addr;
	int big = 8 << 20;
	setsockopt(pkt, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
	    .sll_protocol = htons(ETH_P_IP), .sll_ifindex = ifindex };
	if (bind(pkt, (struct sockaddr *)&sll, sizeof(sll)) != 0)
		die("bind AF_PACKET");
}

/* A TCP segment from src:sport to KRANK's dport, sent on the tap. */
static void
send_tcp(uint32_t src, uint16_t sport, uint16_t dport, uint32_t seq,
    uint32_t ack, uint8_t flags, size_t dlen)
{
	uint8_t f[14 + 20 + 20 + 64];
	memset(f, 0, sizeof(f));
	memcpy(f, kmac, 6);
	memcpy(f + 6, mymac, 6);
	put16(f + 12, 0x0800);
	uint8_t *ip = f + 14, *t = ip + 20;
	if (dlen > 64)
		dlen = 64;
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(40 + dlen));
	put16(ip + 4, (uint16_t)rand());
	ip[8] = 64;
	ip[9] = 6;
	memcpy(ip + 12, &src, 4);
	memcpy(ip + 16, &kip, 4);
	put16(ip + 10, cksum(ip, 20, 0));
	put16(t, sport);
	put16(t + 2, dport);
	put32(t + 4, seq);
	put32(t + 8, ack);
	t[12] = 5 << 4;
	t[13] = flags;
	put16(t + 14, 65535);
	memset(t + 20, 'x', dlen);
	uint8_t ph[12];
	memcpy(ph, ip + 12, 8);
	ph[8] = 0;
	ph[9] = 6;
	put16(ph + 10, (uint16_t)(20 + dlen));
	uint32_t s = 0;
	for (int i = 0; i < 12; i += 2)
		s += (uint32_t)(ph[i] << 8 | ph[i + 1]);
	put16(t + 16, cksum(t, 20 + dlen, s));
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
	    .sll_ifindex = ifindex, .sll_halen = 6 };
	memcpy(sll.sll_addr, kmac, 6);
	if (sendto(pkt, f, 14 + 40 + dlen, 0, (struct sockaddr *)&sll,
	    sizeof(sll)) < 0 && errno != ENOBUFS)
		die("send on the tap");
}

/* Count frames KRANK sent: TCP from KIP, from port kport (0: any) to
 * port lport (0: any), with all of the flags in want. */
static uint32_t synack_ack;	/* the ack of the last SYN-ACK drained */
static uint32_t synack_seq;	/* and its seq */
static long
drain(uint16_t kport, uint16_t lport, uint8_t want)
{
	uint8_t f[2048];
	long n = 0;
	for (;;) {
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		ssize_t len = recvfrom(pkt, f, sizeof(f), MSG_DONTWAIT,
		    (struct sockaddr *)&from, &fl);
		if (len < 0)
			return n;
		if (from.sll_pkttype == PACKET_OUTGOING || len < 14 + 40 ||
		    f[12] != 8 || f[13] != 0 || f[23] != 6 ||
		    memcmp(f + 26, &kip, 4) != 0)
			continue;
		uint8_t *t = f + 14 + (f[14] & 15) * 4;
		if (t + 20 > f + len)
			continue;
		uint16_t sp = (uint16_t)(t[0] << 8 | t[1]);
		uint16_t dp = (uint16_t)(t[2] << 8 | t[3]);
		if ((kport == 0 || sp == kport) && (lport == 0 || dp == lport) &&
		    (t[13] & want) == want) {
			n++;
			if ((t[13] & 0x12) == 0x12)
			{
				synack_ack = (uint32_t)t[8] << 24 |
				    (uint32_t)t[9] << 16 |
				    (uint32_t)t[10] << 8 | t[11];
				synack_seq = (uint32_t)t[4] << 24 |
				    (uint32_t)t[5] << 16 |
				    (uint32_t)t[6] << 8 | t[7];
			}
		}
	}
}

static unsigned
pkt_drops(void)
{
	struct tpacket_stats st;
	socklen_t l = sizeof(st);
	if (getsockopt(pkt, SOL_PACKET, PACKET_STATISTICS, &st, &l) != 0)
		return 0;
	return st.tp_drops;
}

/* Send PPS a second for MS ms with gen(i); count with drain. */
static void
flood(long ms, long pps, void (*gen)(long), uint16_t kport, uint16_t lport,
    uint8_t want, long *sent, long *seen, long *took)
{
	long long t0 = now_ms();
	*sent = *seen = 0;
	(void)pkt_drops();		/* reset */
	while (now_ms() - t0 < ms) {
		long due = (long)((now_ms() - t0) * pps / 1000);
		while (*sent < due)
			gen((*sent)++);
		*seen += drain(kport, lport, want);
		struct timespec d = { 0, 1000000 };
		nanosleep(&d, NULL);
	}
	*took = (long)(now_ms() - t0);
	/* Answers to the last segments are on their way: 200 ms more. */
	long long t1 = now_ms();
	while (now_ms() - t1 < 200) {
		*seen += drain(kport, lport, want);
		struct timespec d = { 0, 5000000 };
		nanosleep(&d, NULL);
	}
	if (pkt_drops() != 0) {
		fprintf(stderr, "net_attack: the capture lost frames: the "
		    "count would be too low\n");
		exit(2);
	}
}

static uint32_t syn_src;
static uint16_t syn_port;
static void
gen_syn(long i)
{
	send_tcp(syn_src, syn_port, syn_port, 0x10000000u + (uint32_t)i * 7919,
	    0, 0x02, 0);
}

static uint16_t oow_lport, oow_kport;
static uint32_t oow_rcvnxt;		/* KRANK's RCV.NXT */
static void
gen_oow(long i)
{
	/* A quarter of the sequence space away from RCV.NXT, ahead or
	 * behind: out of the window and of any retransmission's reach.
	 * In turn: a pure ACK ahead, data ahead, data behind. */
	uint32_t r = (uint32_t)rand() % 0x100000u;
	switch (i % 3) {
	case 0:
		send_tcp(myip, oow_lport, oow_kport, oow_rcvnxt + 0x40000000u +
		    r, 0, 0x10, 0);
		break;
	case 1:
		send_tcp(myip, oow_lport, oow_kport, oow_rcvnxt + 0x40000000u +
		    r, 0, 0x18, 32);
		break;
	default:
		send_tcp(myip, oow_lport, oow_kport, oow_rcvnxt - 0x40000000u -
		    r, 0, 0x18, 32);
	}
}

static uint16_t sf_port;
static void
gen_synflood(long i)
{
	uint32_t src = htonl((ntohl(kip) & 0xffffff00u) | (uint32_t)(100 + i % 100));
	send_tcp(src, (uint16_t)(1024 + (uint32_t)rand() % 60000), sf_port,
	    (uint32_t)rand(), 0, 0x02, 0);
}

static uint32_t tiny_seq, tiny_ack;
static uint16_t tiny_lport, tiny_kport;
static void
gen_tiny(long i)
{
	send_tcp(myip, tiny_lport, tiny_kport, tiny_seq + (uint32_t)i, tiny_ack,
	    0x18, 1);
}

static uint16_t closed_port;
static void
gen_closed(long i)
{
	send_tcp(myip, (uint16_t)(20000 + i % 20000), closed_port,
	    (uint32_t)rand(), 0, 0x02, 0);
}

static int
tcp_connect(uint32_t addr, uint16_t port, uint16_t sport)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0)
		die("socket");
	int one = 1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct timeval tv = { 5, 0 };
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (sport != 0) {
		struct sockaddr_in b = { .sin_family = AF_INET,
		    .sin_port = htons(sport) };
		if (bind(s, (struct sockaddr *)&b, sizeof(b)) != 0) {
			int e = errno;
			close(s);
			errno = e;
			return -1;
		}
	}
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
	    .sin_addr.s_addr = addr };
	if (connect(s, (struct sockaddr *)&a, sizeof(a)) != 0) {
		int e = errno;
		close(s);
		errno = e;
		return -1;
	}
	return s;
}

/* N non-blocking connects at once; holds them SECONDS. */
static int
hold(uint32_t addr, uint16_t port, long n, long seconds)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	struct pollfd *pf = calloc((size_t)n, sizeof(*pf));
	if (pf == NULL)
		die("calloc");
	long long t0 = now_ms();
	for (long i = 0; i < n; i++) {
		int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		if (s < 0)
			die("socket");
		struct sockaddr_in a = { .sin_family = AF_INET,
		    .sin_port = htons(port), .sin_addr.s_addr = addr };
		if (connect(s, (struct sockaddr *)&a, sizeof(a)) != 0 &&
		    errno != EINPROGRESS)
			die("connect");
		pf[i].fd = s;
		pf[i].events = POLLOUT;
	}
	long done = 0;
	while (done < n && now_ms() - t0 < 20000) {
		if (poll(pf, (nfds_t)n, 100) <= 0)
			continue;
		for (long i = 0; i < n; i++)
			if (pf[i].events && pf[i].revents) {
				int e = 0;
				socklen_t el = sizeof(e);
				getsockopt(pf[i].fd, SOL_SOCKET, SO_ERROR, &e, &el);
				if (e == 0)
					done++;
				pf[i].events = 0;
				pf[i].fd = -pf[i].fd - 1;	/* poll skips it */
			}
	}
	printf("connected %ld of %ld ms %lld\n", done, n, now_ms() - t0);
	fflush(stdout);
	struct timespec d = { seconds, 0 };
	nanosleep(&d, NULL);
	return 0;
}

/* Write up to mib MiB to addr:port for at most seconds. */
static int
bulk(uint32_t addr, uint16_t port, long mib, long seconds)
{
	int s = tcp_connect(addr, port, 0);
	if (s < 0)
		die("connect");
	static char buf[65536];
	memset(buf, 'b', sizeof(buf));
	long long t0 = now_ms(), sent = 0;
	fcntl(s, F_SETFL, O_NONBLOCK);
	while (sent < (long long)mib << 20 && now_ms() - t0 < seconds * 1000) {
		ssize_t w = send(s, buf, sizeof(buf), MSG_NOSIGNAL);
		if (w > 0) {
			sent += w;
			continue;
		}
		if (w < 0 && errno != EAGAIN)
			break;
		struct pollfd p = { s, POLLOUT, 0 };
		poll(&p, 1, 100);
	}
	/* What KRANK took is what left our send buffer. */
	int queued = 0;
	ioctl(s, TIOCOUTQ, &queued);
	printf("written %lld taken %lld ms %lld\n", sent, sent - queued,
	    now_ms() - t0);
	fflush(stdout);
	struct timespec d = { 1, 0 };
	nanosleep(&d, NULL);
	close(s);
	return 0;
}

static int
reconnect(uint32_t addr, uint16_t port, uint16_t sport, long n)
{
	long ok = 0, waits = 0, bad = 0, maxms = 0;
	long long t0 = now_ms();
	for (long i = 0; i < n; i++) {
		long long c0 = now_ms();
		int s = tcp_connect(addr, port, sport);
		/* The last connection's socket may still be in LAST_ACK (our
		 * FIN not yet acknowledged): the port is ours to wait for,
		 * not KRANK's doing.  Poll for it, with a deadline. */
		while (s < 0 && (errno == EADDRINUSE || errno == EADDRNOTAVAIL) &&
		    now_ms() - c0 < 2000) {
			waits++;
			struct timespec d = { 0, 1000000 };
			nanosleep(&d, NULL);
			c0 = now_ms();
			s = tcp_connect(addr, port, sport);
		}
		if (s < 0) {
			fprintf(stderr, "net_attack: connection %ld: %s\n", i,
			    strerror(errno));
			if (++bad >= 5 && ok == 0)
				break;		/* nobody there: stop */
			continue;
		}
		char buf[64];
		size_t got = 0;
		ssize_t r;
		while ((r = read(s, buf + got, sizeof(buf) - got)) > 0)
			got += (size_t)r;
		close(s);
		long ms = (long)(now_ms() - c0);
		if (ms > maxms)
			maxms = ms;
		if (r == 0 && got == 6 && memcmp(buf, "hello\n", 6) == 0)
			ok++;
		else
			bad++;
	}
	long total = (long)(now_ms() - t0);
	printf("connections %ld ok %ld bad %ld max_ms %ld total_ms %ld "
	    "per_s %ld local_waits %ld\n", n, ok, bad, maxms, total,
	    total > 0 ? n * 1000 / total : n, waits);
	return 0;
}

int
main(int argc, char **argv)
{
	srand((unsigned)getpid());
	if (argc == 8 && strcmp(argv[1], "syn") == 0) {
		open_if(argv[2], argv[3], argv[4]);
		if (inet_pton(AF_INET, argv[5], &syn_src) != 1) {
			fprintf(stderr, "net_attack: bad address %s\n", argv[5]);
			return 2;
		}
		syn_port = (uint16_t)atoi(argv[6]);
		long n = atol(argv[7]);
		for (long i = 0; i < n; i++)
			gen_syn(i);
		printf("sent %ld SYNs from %s:%u\n", n, argv[5], syn_port);
		return 0;
	}
	if (argc == 8 && strcmp(argv[1], "oow") == 0) {
		open_if(argv[2], argv[3], argv[4]);
		oow_kport = (uint16_t)atoi(argv[5]);
		drain(0, 0, 0);
		int s = tcp_connect(kip, oow_kport, 0);
		if (s < 0)
			die("connect");
		struct sockaddr_in me;
		socklen_t ml = sizeof(me);
		getsockname(s, (struct sockaddr *)&me, &ml);
		oow_lport = ntohs(me.sin_port);
		/* The handshake's own segments are not the flood's. */
		struct timespec d = { 0, 100000000 };
		nanosleep(&d, NULL);
		synack_ack = 0;
		drain(oow_kport, oow_lport, 0x12);
		if (synack_ack == 0) {
			fprintf(stderr, "net_attack: no SYN-ACK seen\n");
			return 2;
		}
		oow_rcvnxt = synack_ack;
		long sent, seen, took;
		flood(atol(argv[6]), atol(argv[7]), gen_oow, oow_kport,
		    oow_lport, 0x10, &sent, &seen, &took);
		char buf[16];
		int echo_ok = write(s, "still-here", 10) == 10 &&
		    recv(s, buf, sizeof(buf), MSG_WAITALL) == 10 &&
		    memcmp(buf, "still-here", 10) == 0;
		close(s);
		printf("sent %ld replies %ld ms %ld echo %s\n", sent, seen, took,
		    echo_ok ? "yes" : "no");
		return 0;
	}
	if (argc == 8 && strcmp(argv[1], "closed") == 0) {
		open_if(argv[2], argv[3], argv[4]);
		closed_port = (uint16_t)atoi(argv[5]);
		drain(0, 0, 0);
		long sent, seen, took;
		flood(atol(argv[6]), atol(argv[7]), gen_closed, closed_port, 0,
		    0x04, &sent, &seen, &took);
		printf("sent %ld rsts %ld ms %ld\n", sent, seen, took);
		return 0;
	}
	if (argc == 7 && strcmp(argv[1], "synflood") == 0) {
		open_if(argv[2], argv[3], argv[4]);
		sf_port = (uint16_t)atoi(argv[5]);
		long n = atol(argv[6]);
		long long t0 = now_ms();
		for (long i = 0; i < n; i++)
			gen_synflood(i);
		printf("sent %ld ms %lld\n", n, now_ms() - t0);
		return 0;
	}
	if (argc == 8 && strcmp(argv[1], "tiny") == 0) {
		open_if(argv[2], argv[3], argv[4]);
		tiny_kport = (uint16_t)atoi(argv[5]);
		drain(0, 0, 0);
		int s = tcp_connect(kip, tiny_kport, 0);
		if (s < 0)
			die("connect");
		struct sockaddr_in me;
		socklen_t ml = sizeof(me);
		getsockname(s, (struct sockaddr *)&me, &ml);
		tiny_lport = ntohs(me.sin_port);
		struct timespec d = { 0, 100000000 };
		nanosleep(&d, NULL);
		synack_ack = 0;
		drain(tiny_kport, tiny_lport, 0x12);
		if (synack_ack == 0) {
			fprintf(stderr, "net_attack: no SYN-ACK seen\n");
			return 2;
		}
		tiny_seq = synack_ack;
		tiny_ack = synack_seq + 1;
		long sent, seen, took;
		flood(atol(argv[7]) > 0 ? atol(argv[6]) * 1000 / atol(argv[7]) : 0,
		    atol(argv[7]), gen_tiny, tiny_kport, tiny_lport, 0x10, &sent,
		    &seen, &took);
		printf("sent %ld acks %ld ms %ld\n", sent, seen, took);
		/* The kernel socket is left open: closing would send a FIN
		 * at a sequence number KRANK is past. */
		return 0;
	}
	if (argc == 6 && (strcmp(argv[1], "hold") == 0 ||
	    strcmp(argv[1], "bulk") == 0)) {
		uint32_t a;
		if (inet_pton(AF_INET, argv[2], &a) != 1) {
			fprintf(stderr, "net_attack: bad address %s\n", argv[2]);
			return 2;
		}
		if (argv[1][0] == 'h')
			return hold(a, (uint16_t)atoi(argv[3]), atol(argv[4]),
			    atol(argv[5]));
		return bulk(a, (uint16_t)atoi(argv[3]), atol(argv[4]),
		    atol(argv[5]));
	}
	if (argc == 6 && strcmp(argv[1], "reconnect") == 0) {
		uint32_t a;
		if (inet_pton(AF_INET, argv[2], &a) != 1) {
			fprintf(stderr, "net_attack: bad address %s\n", argv[2]);
			return 2;
		}
		return reconnect(a, (uint16_t)atoi(argv[3]),
		    (uint16_t)atoi(argv[4]), atol(argv[5]));
	}
	fprintf(stderr, "usage: see the head of net_attack.c\n");
	return 2;
}
