/*
 * bench_net.c - TCP between two KRANK stacks in one process over the
 * in-process wire, against the same client and server as two Linux
 * processes over TCP loopback, in the same run: 64-byte echo round trips
 * (TCP_NODELAY) and bulk throughput, printed with ratios.  The wire's
 * MTU defaults to 65535, as large as Linux loopback's (65536).  Not part
 * of make check.  usage: bench_net [round_trips] [bulk_MiB] [wire_MTU]
 * [idle]: with idle > 0, that many connections are opened first (client
 * to server port 8) and held open, idle, through the measurements, so
 * the cost of finding the active connection among them shows (issue 16:
 * the round trip with 10,000 open moves by < 10%).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

#include <krank/hyp.h>

#include <krank/krs.h>
#include "net/krs_net.h"

#include "bench_point.h"

struct ops {
	int (*socket)(int, int, int);
	int (*bind)(int, const void *, uint32_t);
	int (*listen)(int, int);
	int (*accept)(int, void *, uint32_t *);
	int (*connect)(int, const void *, uint32_t);
	ssize_t (*send)(int, const void *, size_t, int);
	ssize_t (*recv)(int, void *, size_t, int);
	int (*close)(int);
	int (*setsockopt)(int, int, int, const void *, uint32_t);
};

static int l_bind(int s, const void *a, uint32_t l) { return bind(s, a, l); }
static int l_accept(int s, void *a, uint32_t *l) { return accept(s, a, l); }
static int l_connect(int s, const void *a, uint32_t l) { return connect(s, a, l); }
static int l_setsockopt(int s, int lv, int n, const void *v, uint32_t l)
{ return setsockopt(s, lv, n, v, l); }
static const struct ops linux_ops = { socket, l_bind, listen, l_accept,
	l_connect, send, recv, close, l_setsockopt };
static const struct ops krank_ops = { krs_socket, krs_bind, krs_listen,
	krs_accept, krs_connect, krs_send, krs_recv, krs_close,
	krs_setsockopt };

static long rtts = 20000, bulk_mib = 256, wire_mtu = 65535, idle;

static double
now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int
cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static size_t
recv_n(const struct ops *o, int s, char *b, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = o->recv(s, b + got, n - got, 0);
		if (r <= 0)
			return got;
		got += (size_t)r;
	}
	return got;
}

/* Server: port 8 accepts idle connections and holds them (their
 * descriptors are left open: the process ends soon after). */
static void
serve_idle(const struct ops *o, const char *addr)
{
	int one = 1;
	if (idle == 0)
		return;
	int l = o->socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(8) };
	inet_pton(AF_INET, addr, &a.sin_addr);
	o->setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (o->bind(l, &a, sizeof(a)) != 0 || o->listen(l, 128) != 0) {
		perror("bench_net: idle server");
		exit(1);
	}
	for (long i = 0; i < idle; i++)
		if (o->accept(l, NULL, NULL) < 0) {
			perror("bench_net: idle accept");
			exit(1);
		}
	o->close(l);
}

/* Client: open the idle connections and leave them open. */
static void
open_idle(const struct ops *o, const char *addr)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(8) };
	inet_pton(AF_INET, addr, &a.sin_addr);
	for (long i = 0; i < idle; i++) {
		int s = -1;
		for (int t = 0; t < 200 && s < 0; t++) {
			s = o->socket(AF_INET, SOCK_STREAM, 0);
			if (s < 0) {
				perror("bench_net: idle socket");
				exit(1);
			}
			if (o->connect(s, &a, sizeof(a)) != 0) {
				o->close(s);
				s = -1;
				usleep(10000);
			}
		}
		if (s < 0) {
			fprintf(stderr, "bench_net: idle connection %ld to %s:8 "
			    "failed\n", i, addr);
			exit(1);
		}
	}
}

/* Server: port 7 echoes 64-byte messages, port 9 discards. */
static void
serve(const struct ops *o, const char *addr, int port)
{
	int one = 1;
	int l = o->socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	inet_pton(AF_INET, addr, &a.sin_addr);
	o->setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (o->bind(l, &a, sizeof(a)) != 0 || o->listen(l, 4) != 0) {
		perror("bench_net: server");
		exit(1);
	}
	int c = o->accept(l, NULL, NULL);
	o->setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (port == 7)
		serve_idle(o, addr);	/* opened after the active one */
	static char buf[1 << 16];
	if (port == 7) {
		while (recv_n(o, c, buf, 64) == 64)
			if (o->send(c, buf, 64, 0) != 64)
				break;
	} else
		while (o->recv(c, buf, sizeof(buf), 0) > 0)
			;
	o->close(c);
	o->close(l);
}

struct result { double rtt_med_us, rtt_p99_us, mbit; };

static void
client(const struct ops *o, const char *addr, struct result *r)
{
	int one = 1;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(7) };
	inet_pton(AF_INET, addr, &a.sin_addr);
	int s = -1;
	for (int t = 0; t < 200; t++) {	/* until the server listens */
		s = o->socket(AF_INET, SOCK_STREAM, 0);
		if (o->connect(s, &a, sizeof(a)) == 0)
			break;
		o->close(s);
		s = -1;
		usleep(10000);
	}
	if (s < 0) {
		fprintf(stderr, "bench_net: cannot connect to %s:7\n", addr);
		exit(1);
	}
	o->setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* The idle connections come after the active one, so no table
	 * finds it first by being the newest. */
	open_idle(o, addr);
	char msg[64];
	memset(msg, 'x', sizeof(msg));
	double *lat = malloc(sizeof(double) * (size_t)rtts);
	for (long i = 0; i < rtts; i++) {
		double t0 = now();
		if (o->send(s, msg, 64, 0) != 64 || recv_n(o, s, msg, 64) != 64) {
			fprintf(stderr, "bench_net: echo failed at %ld\n", i);
			exit(1);
		}
		lat[i] = (now() - t0) * 1e6;
	}
	qsort(lat, (size_t)rtts, sizeof(double), cmp_d);
	r->rtt_med_us = lat[rtts / 2];
	r->rtt_p99_us = lat[rtts * 99 / 100];
	free(lat);
	o->close(s);

	a.sin_port = htons(9);
	for (int t = 0; t < 200; t++) {
		s = o->socket(AF_INET, SOCK_STREAM, 0);
		if (o->connect(s, &a, sizeof(a)) == 0)
			break;
		o->close(s);
		s = -1;
		usleep(10000);
	}
	static char buf[1 << 16];
	memset(buf, 'y', sizeof(buf));
	size_t total = (size_t)bulk_mib << 20, sent = 0;
	double t0 = now();
	while (sent < total) {
		ssize_t w = o->send(s, buf, sizeof(buf), 0);
		if (w <= 0) {
			fprintf(stderr, "bench_net: bulk send: %s\n", strerror(errno));
			exit(1);
		}
		sent += (size_t)w;
	}
	o->close(s);
	r->mbit = (double)total * 8 / (now() - t0) / 1e6;
}

/*
 * The first and second CPUs this process may use, or -1: KRANK runs a
 * latency-critical program on cores of its own, so its client and server
 * threads are pinned one per core.  The Linux processes are left to the
 * Linux scheduler, as Linux runs them.
 */
static int pin_cpu[2] = { -1, -1 };

static void
pick_cpus(void)
{
	cpu_set_t set;
	int n = 0;
	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return;
	for (int c = 0; c < CPU_SETSIZE && n < 2; c++)
		if (CPU_ISSET(c, &set))
			pin_cpu[n++] = c;
	if (n < 2)
		pin_cpu[0] = pin_cpu[1] = -1;
}

static int stack_b;
static void *
krank_server(void *arg)
{
	(void)arg;
	if (pin_cpu[1] >= 0)
		hyp_cpu_pin(pin_cpu[1]);
	krs_net_stack_select(stack_b);
	serve(&krank_ops, "10.0.0.2", 7);
	serve(&krank_ops, "10.0.0.2", 9);
	return NULL;
}

int
main(int argc, char **argv)
{
	char err[256], name[32];
	struct result k, l;
	bench_machine_costs();
	if (argc > 1)
		rtts = atol(argv[1]);
	if (argc > 2)
		bulk_mib = atol(argv[2]);
	if (argc > 3)
		wire_mtu = atol(argv[3]);
	char spec[64];
	snprintf(spec, sizeof(spec), "wire:bench,mtu=%ld", wire_mtu);

	/* Linux: a child process serves, the parent is the client. */
	if (argc > 4)
		idle = atol(argv[4]);
	/* Two descriptors an idle connection on Linux; KRANK's tables are
	 * its own. */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	pid_t pid = fork();
	if (pid == 0) {
		serve(&linux_ops, "127.0.0.1", 7);
		serve(&linux_ops, "127.0.0.1", 9);
		_exit(0);
	}
	client(&linux_ops, "127.0.0.1", &l);
	waitpid(pid, NULL, 0);

	/* KRANK: two stacks joined by a wire, server on a thread. */
	if (krs_boot("vfs,net,ether,virtif,socket,inet", err, sizeof(err)) != 0) {
		fprintf(stderr, "bench_net: boot: %s\n", err);
		return 1;
	}
	krs_net_stack_select(0);
	if (krs_if_virt_attach(spec, name, sizeof(name)) != 0) {
		fprintf(stderr, "bench_net: %s: %s\n", spec, strerror(errno));
		return 1;
	}
	krs_if_setaddr(name, "10.0.0.1/24");
	krs_if_up(name, 1);
	stack_b = krs_net_stack_create("b");
	krs_net_stack_select(stack_b);
	if (krs_if_virt_attach(spec, name, sizeof(name)) != 0) {
		fprintf(stderr, "bench_net: %s: %s\n", spec, strerror(errno));
		return 1;
	}
	krs_if_setaddr(name, "10.0.0.2/24");
	krs_if_up(name, 1);
	krs_net_stack_select(0);
	pick_cpus();
	if (pin_cpu[0] >= 0 && getenv("BENCH_NET_NOPIN") == NULL)
		hyp_cpu_pin(pin_cpu[0]);
	else
		pin_cpu[1] = -1;
	pthread_t t;
	pthread_create(&t, NULL, krank_server, NULL);
	client(&krank_ops, "10.0.0.2", &k);
	pthread_join(t, NULL);
	krs_shutdown();

	printf("TCP, %ld round trips of 64 bytes (TCP_NODELAY), %ld MiB bulk, "
	    "wire MTU %ld, %ld idle connections open\n", rtts, bulk_mib,
	    wire_mtu, idle);
	if (pin_cpu[1] >= 0)
		printf("KRANK client and server threads pinned to CPUs %d and %d; "
		    "Linux processes unpinned\n", pin_cpu[0], pin_cpu[1]);
	else
		printf("nothing pinned\n");
	printf("%-28s %12s %12s %8s\n", "measure", "krank", "linux", "ratio");
	printf("%-28s %12.1f %12.1f %7.2fx\n", "echo RTT median (us)",
	    k.rtt_med_us, l.rtt_med_us, l.rtt_med_us / k.rtt_med_us);
	printf("%-28s %12.1f %12.1f %7.2fx\n", "echo RTT p99 (us)",
	    k.rtt_p99_us, l.rtt_p99_us, l.rtt_p99_us / k.rtt_p99_us);
	printf("%-28s %12.0f %12.0f %7.2fx\n", "bulk throughput (Mbit/s)",
	    k.mbit, l.mbit, k.mbit / l.mbit);
	printf("ratio > 1: KRANK better (RTT: linux/krank; throughput: "
	    "krank/linux)\n");
	/* The variant is part of the id: pinned or not, idle connections. */
	char id[64], what[128];
	const char *v = pin_cpu[1] >= 0 ? "net" : "net.nopin";
	char vi[32] = "";
	if (idle > 0)
		snprintf(vi, sizeof(vi), ".idle%ld", idle);
	snprintf(id, sizeof(id), "%s%s.rtt_med", v, vi);
	snprintf(what, sizeof(what), "TCP echo 64 B round trip median, %s, "
	    "%ld idle connections, in-memory wire vs Linux loopback",
	    pin_cpu[1] >= 0 ? "KRANK pinned" : "nothing pinned", idle);
	bench_point(id, k.rtt_med_us, l.rtt_med_us, "us", 1, 0, what);
	snprintf(id, sizeof(id), "%s%s.rtt_p99", v, vi);
	bench_point(id, k.rtt_p99_us, l.rtt_p99_us, "us", 1, 0,
	    "TCP echo 64 B round trip p99, same run");
	snprintf(id, sizeof(id), "%s%s.bulk", v, vi);
	bench_point(id, k.mbit, l.mbit, "Mbit/s", 0, 0,
	    "TCP bulk throughput, same run");
	return 0;
}
