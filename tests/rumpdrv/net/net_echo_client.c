/*
 * net_echo_client.c - a KRANK stack (or Linux's) as the client of a TCP and
 * UDP echo server on port 7, for the DPDK virtual-device tests and
 * tests/bench/bench_dpdk.sh:
 *   net_echo_client SPEC CIDR SERVER ROUND_TRIPS UDP_PACKETS [SECONDS
 *                   [BULK_KIB]]
 * SPEC is a packet port ("dpdk:net_memif0", "afpacket:veth1", "tap:t0",
 * "wire:..."), opened as the interface of a KRANK stack with address
 * CIDR; SPEC "linux" uses Linux's own sockets instead (CIDR ignored), the
 * same client code.  It connects to SERVER:7 (retrying until SECONDS,
 * default 20, pass), does ROUND_TRIPS 64-byte round trips (TCP_NODELAY),
 * each checked byte for byte, then BULK_KIB KiB (default 0) in 16 KiB
 * round trips on the same connection (full-sized segments, which a DPDK
 * port sends from the stack's buffers), each checked, then sends
 * UDP_PACKETS 64-byte datagrams to SERVER:7 with up to 32 in flight and
 * counts the echoes.  Prints
 *   @result tcp_rtt_med_us=.. tcp_rtt_p99_us=.. tcp_rt_ok=N bulk_kib_ok=..
 *           bulk_mib_s=.. udp_sent=.. udp_echoed=.. udp_pps=..
 * (one line) and exits 0 when every round trip and bulk byte came back
 * intact and at least one datagram (when any were sent) was echoed.  The KRANK build is
 * linked against the POSIX host (net_echo_client) or the DPDK host
 * (net_echo_client_dpdkhost); the DPDK host takes its EAL arguments from
 * KRANK_DPDK_EAL_ARGS, the POSIX host's dpdk: backend from KRANK_DPDK_EAL.
 *
 * SPEC "ring[,OPTIONS]" (DPDK host only): two KRANK stacks in this
 * process (OPTIONS, e.g. lend=no, added to both ports' specs), joined
 * by two DPDK ring ports over a crossed pair of rings (rte_eth_from_rings;
 * what one sends the other receives); the server, an echo on port 7 in
 * stack 1 (address SERVER) on a thread of its own, the client in stack 0.
 *
 * NET_ECHO_WINDOW=W in the environment marks a window of W round trips
 * in steady state, for tests that count what happens in it
 * (tests/rumpdrv/net/test_dpdk_rtc.sh): after WINDOW_WARM round trips
 * the client prints "@window begin" and reads a line from its standard
 * input, W round trips later "@window end" and reads another line; the
 * round trips then go on to ROUND_TRIPS.  With NET_ECHO_WINDOW_FLAG=FILE
 * too (a file of at least one byte) it reads no line: it goes on with
 * round trips, not counted, until FILE's first byte is '1' (at "begin")
 * or '2' (at "end"), looking at it through a shared mapping, so that the
 * traffic, and the pollers waiting for it, never pause while the test
 * starts or stops counting, and the look makes no system call.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

#include <krank/krs.h>
#include "net/krs_net.h"
#ifdef NET_ECHO_DPDK
#include <pthread.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ring.h>
#endif
#include "../../testclock.h"

#define MSG 64
#define WINDOW 32
#define WINDOW_WARM 2000	/* round trips before NET_ECHO_WINDOW's window */

static bool use_linux;

/* The socket calls, on KRANK's stack or Linux's (same constants). */
static int
s_socket(int type)
{
	return use_linux ? socket(AF_INET, type, 0) : krs_socket(AF_INET, type, 0);
}
static int
s_connect(int fd, const struct sockaddr_in *a)
{
	return use_linux ? connect(fd, (const struct sockaddr *)a, sizeof(*a)) :
	    krs_connect(fd, a, sizeof(*a));
}
static ssize_t
s_send(int fd, const void *b, size_t n)
{
	return use_linux ? send(fd, b, n, MSG_NOSIGNAL) : krs_send(fd, b, n, 0);
}
static ssize_t
s_recv(int fd, void *b, size_t n, int flags)
{
	return use_linux ? recv(fd, b, n, flags) : krs_recv(fd, b, n, flags);
}
static ssize_t
s_sendto(int fd, const void *b, size_t n, const struct sockaddr_in *a)
{
	return use_linux ? sendto(fd, b, n, 0, (const struct sockaddr *)a,
	    sizeof(*a)) : krs_sendto(fd, b, n, 0, a, sizeof(*a));
}
static int
s_setsockopt(int fd, int level, int name, const void *v, uint32_t len)
{
	return use_linux ? setsockopt(fd, level, name, v, len) :
	    krs_setsockopt(fd, level, name, v, len);
}
static int
s_close(int fd)
{
	return use_linux ? close(fd) : krs_close(fd);
}
/* 1 when fd is readable within ms. */
static int
s_readable(int fd, int ms)
{
	if (use_linux) {
		struct pollfd pf = { fd, POLLIN, 0 };
		return poll(&pf, 1, ms) > 0;
	}
	struct krs_pollfd pf = { fd, KRS_POLLIN, 0 };
	return krs_poll(&pf, 1, ms) > 0;
}

/* kib KiB through the echo in 16 KiB round trips, every byte checked;
 * the KiB that came back intact. */
static long
bulk_round_trips(int fd, long kib)
{
	static unsigned char out[16384], in[16384];
	long done = 0;

	for (long off = 0; off < kib; off += 16) {
		size_t len = (size_t)(kib - off < 16 ? kib - off : 16) * 1024;
		for (size_t k = 0; k < len; k++)
			out[k] = (unsigned char)((size_t)off * 1024 + k * 31 +
			    (k >> 8));
		size_t put = 0, got = 0;
		while (put < len) {
			ssize_t n = s_send(fd, out + put, len - put);
			if (n <= 0)
				return done;
			put += (size_t)n;
		}
		while (got < len) {
			ssize_t n = s_recv(fd, in + got, len - got, 0);
			if (n <= 0)
				return done;
			got += (size_t)n;
		}
		if (memcmp(in, out, len) != 0)
			return done;
		done += (long)(len / 1024);
	}
	return done;
}

#ifdef NET_ECHO_DPDK
/* The ring ports' DPDK names, and the server stack's address. */
static char ring_name[2][RTE_ETH_NAME_MAX_LEN];
static const char *ring_srv_cidr;
static const char *ring_opts = "";	/* ",lend=no" of "ring,lend=no" */
static volatile int ring_srv_state;	/* 0 starting, 1 up, -1 failed */

/* Two ring ports over a crossed pair of rings. */
static int
ring_pair(void)
{
	struct rte_ring *r[2];
	for (int i = 0; i < 2; i++) {
		char n[16];
		snprintf(n, sizeof(n), "kec%d", i);
		if ((r[i] = rte_ring_create(n, 1024, SOCKET_ID_ANY, 0)) == NULL)
			return -1;
	}
	for (int i = 0; i < 2; i++) {
		char n[16];
		snprintf(n, sizeof(n), "ke%d", i);
		int port = rte_eth_from_rings(n, &r[i], 1, &r[1 - i], 1,
		    SOCKET_ID_ANY);
		if (port < 0 || rte_eth_dev_get_name_by_port((uint16_t)port,
		    ring_name[i]) != 0)
			return -1;
	}
	return 0;
}

/* Stack 1's echo on port 7, TCP and UDP, for the life of the process. */
static void *
ring_server(void *arg)
{
	char spec[RTE_ETH_NAME_MAX_LEN + 40], name[32];
	static char buf[65536];
	int sid = krs_net_stack_create("ringsrv");

	snprintf(spec, sizeof(spec), "dpdk:%s,mac=02:00:00:95:00:02%s",
	    ring_name[1], ring_opts);
	if (sid < 0 || krs_net_stack_select(sid) != 0 ||
	    krs_if_virt_attach(spec, name, sizeof(name)) != 0 ||
	    krs_if_setaddr(name, ring_srv_cidr) != 0 || krs_if_up(name, 1) != 0) {
		fprintf(stderr, "net_echo_client: ring server: %s: %s\n", spec,
		    strerror(errno));
		ring_srv_state = -1;
		return NULL;
	}
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(7) };
	int u = krs_socket(AF_INET, SOCK_DGRAM, 0);
	int l = krs_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	int one = 1, big = 1 << 20, c = -1;
	krs_setsockopt(u, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	if (krs_bind(u, &a, sizeof(a)) != 0 || krs_bind(l, &a, sizeof(a)) != 0 ||
	    krs_listen(l, 4) != 0) {
		ring_srv_state = -1;
		return NULL;
	}
	ring_srv_state = 1;
	for (;;) {
		struct krs_pollfd pf[3] = { { u, KRS_POLLIN, 0 },
		    { l, KRS_POLLIN, 0 }, { c, KRS_POLLIN, 0 } };
		if (krs_poll(pf, c >= 0 ? 3 : 2, 1000) <= 0)
			continue;
		if (pf[0].revents & KRS_POLLIN) {
			struct sockaddr_in from;
			uint32_t fl = sizeof(from);
			ssize_t n;
			while ((n = krs_recvfrom(u, buf, sizeof(buf),
			    KRS_MSG_DONTWAIT, &from, &fl)) >= 0)
				krs_sendto(u, buf, (size_t)n, 0, &from, fl);
		}
		if ((pf[1].revents & KRS_POLLIN) && c < 0) {
			c = krs_accept(l, NULL, NULL);
			if (c >= 0)
				krs_setsockopt(c, IPPROTO_TCP, TCP_NODELAY,
				    &one, sizeof(one));
		}
		if (c >= 0 && (pf[2].revents & (KRS_POLLIN | KRS_POLLHUP |
		    KRS_POLLERR))) {
			ssize_t n = krs_recv(c, buf, sizeof(buf), KRS_MSG_DONTWAIT);
			for (ssize_t w = 0, k; n > 0 && w < n; w += k)
				if ((k = krs_send(c, buf + w, (size_t)(n - w), 0)) <= 0)
					break;
			if (n == 0 || (n < 0 && errno != EAGAIN)) {
				krs_close(c);
				c = -1;
			}
		}
	}
	return NULL;
}
#endif

/* One 64-byte round trip over fd, message I; its time into *ns.  Whether
 * the echo came back whole and unchanged. */
static bool
echo_once(int fd, long i, unsigned char *out, unsigned char *in,
    uint64_t *ns)
{
	for (int k = 0; k < MSG; k++)
		out[k] = (unsigned char)(i * 13 + k);
	uint64_t t0 = now_ns();
	if (s_send(fd, out, MSG) != MSG)
		return false;
	size_t got = 0;
	while (got < MSG) {
		ssize_t n = s_recv(fd, in + got, MSG - got, 0);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	*ns = now_ns() - t0;
	return got == MSG && memcmp(in, out, MSG) == 0;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	char err[256], name[32];
	unsigned char out[MSG], in[MSG];

	if (argc < 6 || argc > 8) {
		fprintf(stderr, "usage: net_echo_client SPEC CIDR SERVER "
		    "ROUND_TRIPS UDP_PACKETS [SECONDS [BULK_KIB]]\n");
		return 2;
	}
	long nrt = atol(argv[4]), nudp = atol(argv[5]);
	int secs = argc > 6 ? atoi(argv[6]) : 20;
	long bulk_kib = argc > 7 ? atol(argv[7]) : 0;
	use_linux = strcmp(argv[1], "linux") == 0;
	struct sockaddr_in srv = { .sin_family = AF_INET, .sin_port = htons(7) };
	if (nrt < 1 || nudp < 0 || secs < 1 ||
	    inet_pton(AF_INET, argv[3], &srv.sin_addr) != 1) {
		fprintf(stderr, "net_echo_client: bad arguments\n");
		return 2;
	}
	if (!use_linux) {
		if (krs_boot("vfs,net,ether,virtif,socket,inet", err,
		    sizeof(err)) != 0) {
			fprintf(stderr, "net_echo_client: boot: %s\n", err);
			return 1;
		}
		const char *spec = argv[1];
		if (strncmp(spec, "ring", 4) == 0 &&
		    (spec[4] == '\0' || spec[4] == ',')) {
#ifdef NET_ECHO_DPDK
			ring_opts = spec + 4;
			static char cspec[RTE_ETH_NAME_MAX_LEN + 40];
			static char scidr[40];
			pthread_t t;
			/* The server's CIDR: SERVER with the client's length. */
			const char *len = strchr(argv[2], '/');
			snprintf(scidr, sizeof(scidr), "%s%s", argv[3], len ? len : "/24");
			ring_srv_cidr = scidr;
			if (ring_pair() != 0) {
				fprintf(stderr, "net_echo_client: ring ports: %s\n",
				    rte_strerror(rte_errno));
				return 1;
			}
			pthread_create(&t, NULL, ring_server, NULL);
			pthread_detach(t);
			while (ring_srv_state == 0)
				sched_yield();
			if (ring_srv_state < 0)
				return 1;
			snprintf(cspec, sizeof(cspec), "dpdk:%s,mac=02:00:00:95:00:01%s",
			    ring_name[0], ring_opts);
			spec = cspec;
#else
			fprintf(stderr, "net_echo_client: SPEC ring needs the DPDK "
			    "host build (net_echo_client_dpdkhost)\n");
			return 2;
#endif
		}
		if (krs_if_virt_attach(spec, name, sizeof(name)) != 0 ||
		    krs_if_setaddr(name, argv[2]) != 0 || krs_if_up(name, 1) != 0) {
			fprintf(stderr, "net_echo_client: %s: %s (errno %d)\n",
			    argv[1], strerror(errno), errno);
			return 1;
		}
	}

	/* Connect, retrying until the deadline (the server, or ARP on a
	 * fresh link, may not be there yet). */
	uint64_t deadline = now_ns() + (uint64_t)secs * 1000000000u;
	int fd = -1;
	while (now_ns() < deadline) {
		fd = s_socket(SOCK_STREAM);
		struct timeval tv = { 2, 0 };
		s_setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		s_setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (s_connect(fd, &srv) == 0)
			break;
		s_close(fd);
		fd = -1;
		struct timespec pause = { 0, 100000000 };	/* retry pace */
		nanosleep(&pause, NULL);
	}
	if (fd < 0) {
		fprintf(stderr, "net_echo_client: no TCP connection to %s:7 in "
		    "%d s\n", argv[3], secs);
		return 1;
	}
	int one = 1;
	s_setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

	uint64_t *rtt = calloc((size_t)nrt, sizeof(*rtt));
	long ok = 0;
	const char *wenv = getenv("NET_ECHO_WINDOW");
	long wlen = wenv != NULL ? atol(wenv) : 0, wbegin = -1, wend = -1;
	if (wlen > 0 && WINDOW_WARM + wlen < nrt) {
		wbegin = WINDOW_WARM;
		wend = WINDOW_WARM + wlen;
	}
	const volatile char *wflag = NULL;
	const char *fenv = getenv("NET_ECHO_WINDOW_FLAG");
	if (wbegin >= 0 && fenv != NULL) {
		int ffd = open(fenv, O_RDONLY | O_CLOEXEC);
		void *m = ffd >= 0 ? mmap(NULL, 1, PROT_READ, MAP_SHARED, ffd,
		    0) : MAP_FAILED;
		if (ffd >= 0)
			close(ffd);
		if (m == MAP_FAILED) {
			fprintf(stderr, "net_echo_client: NET_ECHO_WINDOW_FLAG="
			    "%s: %s\n", fenv, strerror(errno));
			return 1;
		}
		wflag = m;
	}
	for (long i = 0; rtt != NULL && i < nrt; i++) {
		if (i == wbegin || i == wend) {
			char line[64], want = i == wbegin ? '1' : '2';
			uint64_t ns;
			printf("@window %s\n", i == wbegin ? "begin" : "end");
			fflush(stdout);
			if (wflag == NULL) {
				if (fgets(line, sizeof(line), stdin) == NULL)
					break;
			} else {
				bool fine = true;
				while (fine && wflag[0] != want)
					fine = echo_once(fd, i, out, in, &ns);
				if (!fine)
					break;
			}
		}
		if (!echo_once(fd, i, out, in, &rtt[i]))
			break;
		ok++;
	}
	uint64_t b0 = now_ns();
	long bulk_ok = ok == nrt ? bulk_round_trips(fd, bulk_kib) : 0;
	double bulk_mib_s = bulk_ok > 0 ? (double)bulk_ok / 1024.0 * 1e9 /
	    (double)(now_ns() - b0) : 0;
	s_close(fd);
	double med = 0, p99 = 0;
	if (ok > 0) {
		qsort(rtt, (size_t)ok, sizeof(*rtt), cmp_u64);
		med = (double)rtt[ok / 2] / 1000.0;
		p99 = (double)rtt[(ok * 99) / 100] / 1000.0;
	}

	/* UDP: up to WINDOW datagrams in flight; a window with no echo for
	 * 100 ms is taken as lost. */
	long sent = 0, echoed = 0, inflight = 0;
	double pps = 0;
	if (nudp > 0) {
		int u = s_socket(SOCK_DGRAM);
		int big = 1 << 20;
		s_setsockopt(u, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
		memset(out, 0x5a, sizeof(out));
		uint64_t t0 = now_ns();
		while (echoed < nudp && now_ns() < deadline + 10000000000u) {
			while (inflight < WINDOW && sent < nudp) {
				if (s_sendto(u, out, MSG, &srv) != MSG)
					break;
				sent++;
				inflight++;
			}
			if (!s_readable(u, 100)) {
				if (sent >= nudp)
					break;
				inflight = 0;
				continue;
			}
			while (s_recv(u, in, sizeof(in), MSG_DONTWAIT) == MSG) {
				echoed++;
				if (inflight > 0)
					inflight--;
			}
		}
		uint64_t dt = now_ns() - t0;
		pps = dt ? (double)echoed * 1e9 / (double)dt : 0;
		s_close(u);
	}
	printf("@result tcp_rtt_med_us=%.1f tcp_rtt_p99_us=%.1f tcp_rt_ok=%ld "
	    "bulk_kib_ok=%ld bulk_mib_s=%.1f udp_sent=%ld udp_echoed=%ld "
	    "udp_pps=%.0f\n", med, p99, ok, bulk_ok, bulk_mib_s, sent, echoed,
	    pps);
	fflush(stdout);
	free(rtt);
	int rc = ok == nrt && bulk_ok == bulk_kib &&
	    (nudp == 0 || echoed > 0) ? 0 : 1;
	/* The ring server's thread still polls stack 1: no orderly
	 * shutdown under it. */
	if (strncmp(argv[1], "ring", 4) == 0)
		_exit(rc);
	if (!use_linux)
		krs_shutdown();
	return rc;
}
