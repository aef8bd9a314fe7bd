/*
 * bench_net_txlock.c - what a stack's host sends cost its other users: a
 * UDP round trip over loopback (one thread, two sockets) measured idle
 * and while two threads blast 1400-byte datagrams out of an interface
 * whose every frame is a host write.  KRANK: a tap (offload=no, so each
 * frame is one writev) in a private network namespace; Linux: the same
 * program on Linux sockets, the senders' datagrams going out one end of
 * a veth pair.  Prints medians and 99th percentiles and the loaded/idle
 * slowdown of each; same run, Linux first.  Root (namespace, tap).
 *   tests/bench/bench_net_txlock [ROUND_TRIPS]
 */
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <krank/krs.h>
#include "net/krs_net.h"
#include "bench_point.h"

#include <errno.h>
#include <string.h>
#include "rdtest_net.h"

#define NSEND	2

static long rtts = 20000;
static volatile int stop;
static int use_krank;
static uint64_t nsent;		/* atomic: datagrams the senders sent */

static uint64_t
now_ns(void)
{
	return (uint64_t)bench_machine_now();
}

static int
x_socket(void)
{
	return use_krank ? krs_socket(AF_INET, SOCK_DGRAM, 0) :
	    socket(AF_INET, SOCK_DGRAM, 0);
}
static int
x_bind(int s, struct sockaddr_in *a)
{
	return use_krank ? krs_bind(s, a, sizeof(*a)) :
	    bind(s, (struct sockaddr *)a, sizeof(*a));
}
static ssize_t
x_sendto(int s, const void *b, size_t n, struct sockaddr_in *to)
{
	return use_krank ? krs_sendto(s, b, n, 0, to, sizeof(*to)) :
	    sendto(s, b, n, 0, (struct sockaddr *)to, sizeof(*to));
}
static ssize_t
x_recv(int s, void *b, size_t n)
{
	return use_krank ? krs_recv(s, b, n, 0) : recv(s, b, n, 0);
}
static int
x_bcast(int s)
{
	int on = 1;
	return use_krank ? krs_setsockopt(s, SOL_SOCKET, SO_BROADCAST, &on,
	    sizeof(on)) : setsockopt(s, SOL_SOCKET, SO_BROADCAST, &on,
	    sizeof(on));
}

static const char *bcast_addr;

static void *
sender(void *arg)
{
	(void)arg;
	char buf[1400];
	memset(buf, 'x', sizeof(buf));
	int s = x_socket();
	x_bcast(s);
	struct sockaddr_in to = rd_sin4(bcast_addr, 9);
	uint64_t n = 0;
	while (!stop)
		if (x_sendto(s, buf, sizeof(buf), &to) == (ssize_t)sizeof(buf))
			n++;
	__atomic_add_fetch(&nsent, n, __ATOMIC_RELAXED);
	return NULL;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Loopback round trips; median and p99 in microseconds. */
static void
loop_rtt(double *med, double *p99)
{
	int a = x_socket(), b = x_socket();
	struct sockaddr_in aa = rd_sin4("127.0.0.1", 7300), ba = rd_sin4("127.0.0.1", 7301);
	if (a < 0 || b < 0 || x_bind(a, &aa) != 0 || x_bind(b, &ba) != 0) {
		fprintf(stderr, "bench_net_txlock: loopback sockets: %s\n",
		    strerror(errno));
		exit(1);
	}
	uint64_t *t = malloc(sizeof(*t) * (size_t)rtts);
	char buf[64];
	for (long i = 0; i < rtts; i++) {
		uint64_t t0 = now_ns();
		if (x_sendto(a, "ping", 4, &ba) != 4 || x_recv(b, buf, sizeof(buf)) != 4 ||
		    x_sendto(b, "pong", 4, &aa) != 4 || x_recv(a, buf, sizeof(buf)) != 4) {
			fprintf(stderr, "bench_net_txlock: round trip: %s\n",
			    strerror(errno));
			exit(1);
		}
		t[i] = now_ns() - t0;
	}
	qsort(t, (size_t)rtts, sizeof(*t), cmp_u64);
	*med = (double)t[rtts / 2] / 1000.0;
	*p99 = (double)t[rtts * 99 / 100] / 1000.0;
	free(t);
	if (use_krank) {
		krs_close(a);
		krs_close(b);
	} else {
		close(a);
		close(b);
	}
}

/* idle[0..1], loaded[0..1]: median, p99; *rate: the senders'
 * datagrams per second over the loaded part. */
static void
measure(double idle[2], double loaded[2], double *rate)
{
	loop_rtt(&idle[0], &idle[1]);
	pthread_t th[NSEND];
	stop = 0;
	nsent = 0;
	uint64_t t0 = now_ns();
	for (int i = 0; i < NSEND; i++)
		pthread_create(&th[i], NULL, sender, NULL);
	usleep(100000);		/* let the senders reach a steady state */
	loop_rtt(&loaded[0], &loaded[1]);
	stop = 1;
	for (int i = 0; i < NSEND; i++)
		pthread_join(th[i], NULL);
	*rate = (double)nsent * 1e9 / (double)(now_ns() - t0);
}

int
main(int argc, char **argv)
{
	if (argc > 1)
		rtts = atol(argv[1]);
	if (rtts < 100) {
		fprintf(stderr, "usage: bench_net_txlock [round_trips >= 100]\n");
		return 2;
	}
	if (geteuid() != 0 || unshare(CLONE_NEWNET) != 0) {
		printf("bench_net_txlock: skipped: needs root (a network "
		    "namespace and a tap)\n");
		return 77;
	}
	bench_machine_costs();
	if (system("PATH=$PATH:/sbin:/usr/sbin; ip link set lo up && "
	    "ip link add kbtxl1 type veth peer name kbtxl2 && "
	    "ip addr add 10.75.0.1/24 dev kbtxl1 && "
	    "ip link set kbtxl1 up && ip link set kbtxl2 up") != 0) {
		printf("bench_net_txlock: skipped: cannot make a veth pair "
		    "(ip)\n");
		return 77;
	}
	double li[2], ll[2], ki[2], kl[2], lrate, krate;
	use_krank = 0;
	bcast_addr = "10.75.0.255";
	measure(li, ll, &lrate);

	char err[256], name[32];
	use_krank = 1;
	if (krs_boot("vfs,net,ether,virtif,socket,inet", err, sizeof(err)) != 0 ||
	    krs_if_virt_attach("tap:kbtxl0,offload=no", name, sizeof(name)) != 0 ||
	    krs_if_setaddr(name, "10.76.0.1/24") != 0 || krs_if_up(name, 1) != 0) {
		fprintf(stderr, "bench_net_txlock: KRANK setup: %s %s\n", err,
		    strerror(errno));
		return 1;
	}
	/* The tap's Linux side up, so written frames are taken and dropped. */
	if (system("PATH=$PATH:/sbin:/usr/sbin; ip link set kbtxl0 up") != 0)
		fprintf(stderr, "bench_net_txlock: kbtxl0 up failed\n");
	bcast_addr = "10.76.0.255";
	measure(ki, kl, &krate);
	struct krs_if_stats st;
	krs_if_stats(name, &st);

	printf("bench_net_txlock: UDP loopback round trip (one thread), "
	    "%ld trips, idle and while %d threads send 1400 B datagrams out "
	    "of a %s\n", rtts, NSEND, "tap (KRANK) / veth (Linux)");
	printf("%-8s %12s %12s %12s %12s %10s %12s\n", "", "idle med us",
	    "idle p99 us", "load med us", "load p99 us", "slowdown",
	    "sends/s");
	printf("%-8s %12.2f %12.2f %12.2f %12.2f %9.2fx %12.0f\n", "KRANK",
	    ki[0], ki[1], kl[0], kl[1], kl[0] / ki[0], krate);
	printf("%-8s %12.2f %12.2f %12.2f %12.2f %9.2fx %12.0f\n", "Linux",
	    li[0], li[1], ll[0], ll[1], ll[0] / li[0], lrate);
	printf("# KRANK tap: %llu frames out, %llu queue drops\n",
	    (unsigned long long)st.opackets, (unsigned long long)st.oqdrops);
	bench_point("net.txlock.rtt_med", kl[0], ll[0], "us", 1, 0,
	    "UDP loopback round trip median while 2 threads send out a tap "
	    "(KRANK) / a veth (Linux)");
	bench_point("net.txlock.rtt_p99", kl[1], ll[1], "us", 1, 0,
	    "the same, 99th percentile");
	bench_point("net.txlock.sends", krate, lrate, "datagrams/s", 0, 0,
	    "1400 B UDP datagrams/s of 2 sending threads, tap (KRANK) / veth "
	    "(Linux), meanwhile");
	return 0;
}
