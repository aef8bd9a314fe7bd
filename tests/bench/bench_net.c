/*
 * bench_net.c - KRANK's TCP/IP stack against Linux's, like with like, in
 * one run, every variant named:
 *
 *   spin   both sides pinned one thread per CPU (the first two CPUs this
 *          process may use) and spinning: every recv and send is a
 *          MSG_DONTWAIT loop, on KRANK's stack and on Linux's alike;
 *   block  both sides blocking, nothing pinned, KRANK's socket waits do
 *          not spin either (krs_spin_us 0);
 *   cpu0   both sides blocking and pinned to one CPU (the first this
 *          process may use), KRANK not spinning;
 *   cross  across processes and namespaces (needs root; run by
 *          tests/bench/bench_net_cross.sh): the client, this program,
 *          in one network namespace, against examples/echo as a KRANK
 *          isolate (`krank run`) behind a tap, and against the same
 *          echo.c built for Linux in another namespace behind a veth.
 *
 * In spin, block and cpu0 the KRANK side is two stacks in this process
 * joined by the in-process wire (MTU 65535 by default, as large as Linux
 * loopback's 65536), client and server on two threads; the Linux side,
 * measured first (before KRANK boots, so no KRANK thread is about), is
 * the same client code on a thread of this process against the same
 * server code in a child process, over TCP loopback.  Measured per
 * variant: 64-byte echo round trips (TCP_NODELAY), median and p99, and
 * bulk throughput (to a discard server; in cross, through the echo:
 * what comes back per second).  Not part of make check.
 *
 * usage: bench_net [round_trips] [bulk_MiB] [wire_MTU] [idle]
 *        bench_net --client ADDR [round_trips] [bulk_MiB]
 * With idle > 0, that many connections are opened first (client to server
 * port 8) and held open, idle, through each variant's measurements, so
 * the cost of finding the active connection among them shows (issue 16:
 * the round trip with 10,000 open moves by < 10%).  BENCH_NET_VARIANTS
 * (e.g. "spin,block") picks variants; default all.  --client runs only
 * the client against an echo server at ADDR:7 (round trips, then bulk
 * through the echo) and prints one "@result" line; the cross variant
 * uses it.
 *
 * @point ids: net.VARIANT[.idleN].{rtt_med,rtt_p99,bulk}; the ids of
 * earlier versions are printed too, as aliases: net[.idleN].* of spin
 * (KRANK was pinned and spinning) and net.nopin[.idleN].* of block.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
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
	int (*pin)(int);
	int (*getsockname)(int, void *, uint32_t *);
};

static int l_bind(int s, const void *a, uint32_t l) { return bind(s, a, l); }
static int l_accept(int s, void *a, uint32_t *l) { return accept(s, a, l); }
static int l_connect(int s, const void *a, uint32_t l) { return connect(s, a, l); }
static int l_setsockopt(int s, int lv, int n, const void *v, uint32_t l)
{ return setsockopt(s, lv, n, v, l); }
static int l_getsockname(int s, void *a, uint32_t *l)
{ return getsockname(s, a, l); }

/* Pin the calling thread (Linux side: the plain system call). */
static int
l_pin(int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) == 0 ? 0 : errno;
}

static const struct ops linux_ops = { socket, l_bind, listen, l_accept,
	l_connect, send, recv, close, l_setsockopt, l_pin, l_getsockname };
static const struct ops krank_ops = { krs_socket, krs_bind, krs_listen,
	krs_accept, krs_connect, krs_send, krs_recv, krs_close,
	krs_setsockopt, hyp_cpu_pin, krs_getsockname };

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

/*
 * One side of a variant: which stack, which CPU (-1: left to the
 * scheduler), and whether it spins (MSG_DONTWAIT loops) or blocks.
 */
struct side {
	const struct ops *o;
	const char *addr;
	int cpu;
	int spin;
	int lfd[3];	/* the server's listeners: echo, idle, discard */
	int port[3];	/* their ports, which the client connects to */
};

enum { P_ECHO, P_IDLE, P_DISCARD };

static ssize_t
x_recv(const struct side *sd, int s, void *b, size_t n)
{
	for (;;) {
		ssize_t r = sd->o->recv(s, b, n, sd->spin ? MSG_DONTWAIT : 0);
		if (r < 0 && sd->spin && (errno == EAGAIN || errno == EWOULDBLOCK))
			continue;
		return r;
	}
}

static size_t
recv_n(const struct side *sd, int s, char *b, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = x_recv(sd, s, b + got, n - got);
		if (r <= 0)
			return got;
		got += (size_t)r;
	}
	return got;
}

static size_t
send_n(const struct side *sd, int s, const char *b, size_t n)
{
	size_t put = 0;
	while (put < n) {
		ssize_t w = sd->o->send(s, b + put, n - put,
		    sd->spin ? MSG_DONTWAIT : 0);
		if (w < 0 && sd->spin && (errno == EAGAIN || errno == EWOULDBLOCK))
			continue;
		if (w <= 0)
			return put;
		put += (size_t)w;
	}
	return put;
}

static int
listen_on(const struct ops *o, const char *addr, int port, int backlog)
{
	int one = 1;
	int l = o->socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	inet_pton(AF_INET, addr, &a.sin_addr);
	o->setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (l < 0 || o->bind(l, &a, sizeof(a)) != 0 || o->listen(l, backlog) != 0) {
		fprintf(stderr, "bench_net: listen on %s:%d: %s\n", addr, port,
		    strerror(errno));
		exit(1);
	}
	return l;
}

/*
 * make_listeners: the server's three listeners, on ports the system
 * picks, made before the server and the client start: the client never
 * races the server's listen, and no other program's port is in the way.
 * The idle listener only when there are idle connections.
 */
static void
make_listeners(struct side *sd)
{
	for (int j = 0; j < 3; j++) {
		struct sockaddr_in a;
		uint32_t al = sizeof(a);
		sd->lfd[j] = sd->port[j] = -1;
		if (j == P_IDLE && idle == 0)
			continue;
		sd->lfd[j] = listen_on(sd->o, sd->addr, 0, j == P_IDLE ? 1024 : 4);
		if (sd->o->getsockname(sd->lfd[j], &a, &al) != 0) {
			fprintf(stderr, "bench_net: getsockname: %s\n", strerror(errno));
			exit(1);
		}
		sd->port[j] = ntohs(a.sin_port);
	}
}

static void
close_listeners(struct side *sd)
{
	for (int j = 0; j < 3; j++)
		if (sd->lfd[j] >= 0)
			sd->o->close(sd->lfd[j]);
}

/* connect_to: a connection to addr:port, retried while the server is not
 * listening yet (2 s), or -1. */
static int
connect_to(const struct ops *o, const char *addr, int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	inet_pton(AF_INET, addr, &a.sin_addr);
	for (int t = 0; t < 200; t++) {
		int s = o->socket(AF_INET, SOCK_STREAM, 0);
		if (s < 0) {
			fprintf(stderr, "bench_net: socket: %s\n", strerror(errno));
			exit(1);
		}
		if (o->connect(s, &a, sizeof(a)) == 0)
			return s;
		o->close(s);
		usleep(10000);
	}
	return -1;
}

/* Server: the idle listener accepts the idle connections and holds
 * them; the caller closes them (fds[0..idle)). */
static int *
serve_idle(const struct ops *o, int l)
{
	if (idle == 0)
		return NULL;
	int *fds = malloc(sizeof(int) * (size_t)idle);
	for (long i = 0; i < idle; i++)
		if ((fds[i] = o->accept(l, NULL, NULL)) < 0) {
			perror("bench_net: idle accept");
			exit(1);
		}
	return fds;
}

static void
close_all(const struct ops *o, int *fds)
{
	if (fds == NULL)
		return;
	for (long i = 0; i < idle; i++)
		o->close(fds[i]);
	free(fds);
}

/* Client: open the idle connections; the caller closes them. */
static int *
open_idle(const struct ops *o, const char *addr, int port)
{
	if (idle == 0)
		return NULL;
	int *fds = malloc(sizeof(int) * (size_t)idle);
	for (long i = 0; i < idle; i++)
		if ((fds[i] = connect_to(o, addr, port)) < 0) {
			fprintf(stderr, "bench_net: idle connection %ld to %s:%d "
			    "failed\n", i, addr, port);
			exit(1);
		}
	return fds;
}

/* Server: the echo listener's connection echoes 64-byte messages, then
 * the discard listener's discards; the listeners are closed after. */
static void
serve(const struct side *sd)
{
	int one = 1;
	const struct ops *o = sd->o;
	static __thread char buf[1 << 16];
	if (sd->cpu >= 0)
		o->pin(sd->cpu);
	int c = o->accept(sd->lfd[P_ECHO], NULL, NULL);
	o->setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* opened after the active one */
	int *held = serve_idle(o, sd->lfd[P_IDLE]);
	while (recv_n(sd, c, buf, 64) == 64)
		if (send_n(sd, c, buf, 64) != 64)
			break;
	o->close(c);
	close_all(o, held);
	c = o->accept(sd->lfd[P_DISCARD], NULL, NULL);
	while (x_recv(sd, c, buf, sizeof(buf)) > 0)
		;
	o->close(c);
}

struct result { double rtt_med_us, rtt_p99_us, mbit; };

/* rtt_run: rtts 64-byte round trips on s, median and p99 into r. */
static void
rtt_run(const struct side *sd, int s, struct result *r)
{
	char msg[64];
	memset(msg, 'x', sizeof(msg));
	double *lat = malloc(sizeof(double) * (size_t)rtts);
	for (long i = 0; i < rtts; i++) {
		double t0 = now();
		if (send_n(sd, s, msg, 64) != 64 || recv_n(sd, s, msg, 64) != 64) {
			fprintf(stderr, "bench_net: echo failed at %ld: %s\n", i,
			    strerror(errno));
			exit(1);
		}
		lat[i] = (now() - t0) * 1e6;
	}
	qsort(lat, (size_t)rtts, sizeof(double), cmp_d);
	r->rtt_med_us = lat[rtts / 2];
	r->rtt_p99_us = lat[rtts * 99 / 100];
	free(lat);
}

static void
client(const struct side *sd, struct result *r)
{
	int one = 1;
	const struct ops *o = sd->o;
	static __thread char buf[1 << 16];
	if (sd->cpu >= 0)
		o->pin(sd->cpu);
	int s = connect_to(o, sd->addr, sd->port[P_ECHO]);
	if (s < 0) {
		fprintf(stderr, "bench_net: cannot connect to %s:%d\n", sd->addr,
		    sd->port[P_ECHO]);
		exit(1);
	}
	o->setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* The idle connections come after the active one, so no table
	 * finds it first by being the newest. */
	int *held = open_idle(o, sd->addr, sd->port[P_IDLE]);
	rtt_run(sd, s, r);
	o->close(s);

	if ((s = connect_to(o, sd->addr, sd->port[P_DISCARD])) < 0) {
		fprintf(stderr, "bench_net: cannot connect to %s:%d\n", sd->addr,
		    sd->port[P_DISCARD]);
		exit(1);
	}
	memset(buf, 'y', sizeof(buf));
	size_t total = (size_t)bulk_mib << 20, sent = 0;
	double t0 = now();
	while (sent < total) {
		if (send_n(sd, s, buf, sizeof(buf)) != sizeof(buf)) {
			fprintf(stderr, "bench_net: bulk send: %s\n", strerror(errno));
			exit(1);
		}
		sent += sizeof(buf);
	}
	o->close(s);
	r->mbit = (double)total * 8 / (now() - t0) / 1e6;
	close_all(o, held);
}

struct run_arg { struct side sd; struct result *r; int stack; };

static void *
krank_server(void *arg)
{
	struct run_arg *a = arg;
	krs_net_stack_select(a->stack);
	serve(&a->sd);
	return NULL;
}

static void *
any_client(void *arg)
{
	struct run_arg *a = arg;
	if (a->sd.o == &krank_ops)
		krs_net_stack_select(a->stack);
	client(&a->sd, a->r);
	return NULL;
}

static int stack_b;

/* The first two CPUs this process may use (-1 when there are not). */
static int cpus[2] = { -1, -1 };

static void
pick_cpus(void)
{
	cpu_set_t set;
	int n = 0;
	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return;
	for (int c = 0; c < CPU_SETSIZE && n < 2; c++)
		if (CPU_ISSET(c, &set))
			cpus[n++] = c;
}

struct variant {
	const char *name;	/* part of the @point id */
	const char *alias;	/* the id of earlier versions, or NULL */
	int spin;
	int ccpu, scpu;		/* index into cpus[], -1 unpinned */
	const char *what;
};

static const struct variant variants[] = {
	{ "spin", "net", 1, 0, 1, "both sides pinned one thread per CPU and "
	    "spinning (MSG_DONTWAIT loops)" },
	{ "block", "net.nopin", 0, -1, -1, "both sides blocking, nothing "
	    "pinned, KRANK not spinning" },
	{ "cpu0", NULL, 0, 0, 0, "both sides blocking on one CPU, KRANK "
	    "not spinning" },
};

static int
wanted(const char *name)
{
	const char *w = getenv("BENCH_NET_VARIANTS");
	if (w == NULL || *w == '\0')
		return 1;
	size_t n = strlen(name);
	for (const char *p = w; (p = strstr(p, name)) != NULL; p += n)
		if ((p == w || p[-1] == ',') && (p[n] == '\0' || p[n] == ','))
			return 1;
	return 0;
}

/*
 * The Linux side in a network namespace of its own when this process may
 * make one (root): nothing else on the machine shares its loopback.
 * Returns where the Linux side runs, for the header.
 */
static const char *
private_net(void)
{
	static char why[160];
	if (unshare(CLONE_NEWNET) != 0) {
		snprintf(why, sizeof(why), "the machine's loopback (no network "
		    "namespace of its own: %s)", strerror(errno));
		return why;
	}
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) != 0) {
		fprintf(stderr, "bench_net: lo: %s\n", strerror(errno));
		exit(1);
	}
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) != 0) {
		fprintf(stderr, "bench_net: lo up: %s\n", strerror(errno));
		exit(1);
	}
	close(s);
	return "loopback in a network namespace of its own";
}

/* Linux: server in a child process, client on a thread of this one. */
static void
run_linux(const struct variant *v, struct result *r)
{
	struct side s = { &linux_ops, "127.0.0.1",
	    v->scpu >= 0 ? cpus[v->scpu] : -1, v->spin, { 0 }, { 0 } };
	make_listeners(&s);
	struct run_arg c = { s, r, 0 };
	c.sd.cpu = v->ccpu >= 0 ? cpus[v->ccpu] : -1;
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0) {
		perror("bench_net: fork");
		exit(1);
	}
	if (pid == 0) {
		/* A server whose client is gone does not wait forever. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() == 1)
			_exit(1);
		serve(&s);
		_exit(0);
	}
	close_listeners(&s);
	pthread_t t;
	pthread_create(&t, NULL, any_client, &c);
	pthread_join(t, NULL);
	waitpid(pid, NULL, 0);
}

/* KRANK: server on a thread in stack b, client on a thread in stack 0. */
static void
run_krank(const struct variant *v, struct result *r)
{
	struct run_arg s = { { &krank_ops, "10.0.0.2",
	    v->scpu >= 0 ? cpus[v->scpu] : -1, v->spin, { 0 }, { 0 } }, NULL,
	    stack_b };
	krs_net_stack_select(stack_b);
	make_listeners(&s.sd);
	krs_net_stack_select(0);
	struct run_arg c = { s.sd, r, 0 };
	c.sd.cpu = v->ccpu >= 0 ? cpus[v->ccpu] : -1;
	int old = krs_spin_us(-1);
	if (!v->spin)
		krs_spin_us(0);
	pthread_t ts, tc;
	pthread_create(&ts, NULL, krank_server, &s);
	pthread_create(&tc, NULL, any_client, &c);
	pthread_join(tc, NULL);
	pthread_join(ts, NULL);
	krs_net_stack_select(stack_b);
	close_listeners(&s.sd);
	krs_net_stack_select(0);
	krs_spin_us(old);
}

static void
row(const char *name, const struct result *k, const struct result *l)
{
	printf("%-6s %-18s %10.1f %10.1f %7.2fx\n", name, "RTT median (us)",
	    k->rtt_med_us, l->rtt_med_us, l->rtt_med_us / k->rtt_med_us);
	printf("%-6s %-18s %10.1f %10.1f %7.2fx\n", "", "RTT p99 (us)",
	    k->rtt_p99_us, l->rtt_p99_us, l->rtt_p99_us / k->rtt_p99_us);
	printf("%-6s %-18s %10.0f %10.0f %7.2fx\n", "", "bulk (Mbit/s)",
	    k->mbit, l->mbit, k->mbit / l->mbit);
	fflush(stdout);
}

static void
points(const char *name, const char *alias, const struct result *k,
    const struct result *l, const char *what)
{
	char id[80], w[320], vi[32] = "";
	if (idle > 0)
		snprintf(vi, sizeof(vi), ".idle%ld", idle);
	for (int i = 0; i < 2; i++) {
		const char *v = i == 0 ? name : alias;
		char pre[64] = "";
		if (v == NULL)
			continue;
		if (i == 1)
			snprintf(pre, sizeof(pre), "alias of net.%s%s: ", name, vi);
		snprintf(id, sizeof(id), "%s%s%s.rtt_med", i == 0 ? "net." : "",
		    v, vi);
		snprintf(w, sizeof(w), "%sTCP echo 64 B round trip median, %s, "
		    "%ld idle connections", pre, what, idle);
		bench_point(id, k->rtt_med_us, l->rtt_med_us, "us", 1, 0, w);
		snprintf(id, sizeof(id), "%s%s%s.rtt_p99", i == 0 ? "net." : "",
		    v, vi);
		snprintf(w, sizeof(w), "%sTCP echo 64 B round trip p99, same "
		    "variant", pre);
		bench_point(id, k->rtt_p99_us, l->rtt_p99_us, "us", 1, 0, w);
		snprintf(id, sizeof(id), "%s%s%s.bulk", i == 0 ? "net." : "",
		    v, vi);
		snprintf(w, sizeof(w), "%sTCP bulk throughput, same variant", pre);
		bench_point(id, k->mbit, l->mbit, "Mbit/s", 0, 0, w);
	}
}

/* Bulk through an echo: a thread sends, the caller reads it all back. */
struct bulk_arg { const struct side *sd; int s; size_t total; };

static void *
bulk_sender(void *arg)
{
	struct bulk_arg *a = arg;
	static char buf[1 << 16];
	memset(buf, 'z', sizeof(buf));
	for (size_t sent = 0; sent < a->total; sent += sizeof(buf))
		if (send_n(a->sd, a->s, buf, sizeof(buf)) != sizeof(buf)) {
			fprintf(stderr, "bench_net: bulk send: %s\n", strerror(errno));
			exit(1);
		}
	return NULL;
}

/* --client ADDR: round trips and bulk against an echo server on ADDR:7
 * (Linux's stack, blocking, unpinned: the caller places the process). */
static int
cross_client(const char *addr)
{
	int one = 1;
	struct side sd = { &linux_ops, addr, -1, 0, { -1, -1, -1 },
	    { 7, -1, -1 } };
	struct result r;
	static char buf[1 << 16];
	int s = connect_to(&linux_ops, addr, 7);
	if (s < 0) {
		fprintf(stderr, "bench_net: cannot connect to %s:7\n", addr);
		return 1;
	}
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	rtt_run(&sd, s, &r);
	struct bulk_arg a = { &sd, s, (size_t)bulk_mib << 20 };
	pthread_t t;
	double t0 = now();
	pthread_create(&t, NULL, bulk_sender, &a);
	for (size_t got = 0; got < a.total; ) {
		ssize_t n = recv(s, buf, sizeof(buf), 0);
		if (n <= 0) {
			fprintf(stderr, "bench_net: bulk echo from %s:7 ended after "
			    "%zu of %zu bytes\n", addr, got, a.total);
			return 1;
		}
		got += (size_t)n;
	}
	r.mbit = (double)a.total * 8 / (now() - t0) / 1e6;
	pthread_join(t, NULL);
	close(s);
	printf("@result rtt_med=%.3f rtt_p99=%.3f mbit=%.1f\n", r.rtt_med_us,
	    r.rtt_p99_us, r.mbit);
	return 0;
}

/*
 * The cross variant: tests/bench/bench_net_cross.sh (beside this
 * program's source) builds the namespaces and runs this program's
 * --client in them; it prints "krank @result ..." and "linux @result
 * ..." lines and comment lines starting with '#'.
 */
static void
run_cross(const char *self)
{
	char cmd[4096], line[512];
	const char *src = getenv("top_srcdir");
	if (geteuid() != 0) {
		printf("cross  skipped: needs root (network namespaces, a tap)\n");
		return;
	}
	if (src == NULL || *src == '\0')
		src = ".";
	snprintf(cmd, sizeof(cmd), "sh '%s/tests/bench/bench_net_cross.sh' "
	    "'%s' %ld %ld 2>&1", src, self, rtts, bulk_mib);
	fflush(stdout);
	FILE *p = popen(cmd, "r");
	if (p == NULL) {
		printf("cross  skipped: %s: %s\n", cmd, strerror(errno));
		return;
	}
	struct result k = { 0, 0, 0 }, l = { 0, 0, 0 };
	int have = 0;
	while (fgets(line, sizeof(line), p) != NULL) {
		struct result *r = strncmp(line, "krank @result ", 14) == 0 ? &k :
		    strncmp(line, "linux @result ", 14) == 0 ? &l : NULL;
		if (r != NULL && sscanf(line + 14, "rtt_med=%lf rtt_p99=%lf "
		    "mbit=%lf", &r->rtt_med_us, &r->rtt_p99_us, &r->mbit) == 3)
			have |= r == &k ? 1 : 2;
		else
			printf("cross  %s", line);
	}
	int rc = pclose(p);
	if (have != 3) {
		printf("cross  failed or skipped (exit %d): no result from both "
		    "sides\n", WIFEXITED(rc) ? WEXITSTATUS(rc) : -1);
		return;
	}
	row("cross", &k, &l);
	bench_point("net.cross.rtt_med", k.rtt_med_us, l.rtt_med_us, "us", 1, 0,
	    "TCP echo 64 B round trip median across processes: Linux client "
	    "in a namespace, examples/echo as a KRANK isolate behind a tap vs "
	    "the same echo.c on Linux in a namespace behind a veth");
	bench_point("net.cross.rtt_p99", k.rtt_p99_us, l.rtt_p99_us, "us", 1, 0,
	    "TCP echo 64 B round trip p99, same variant");
	bench_point("net.cross.bulk", k.mbit, l.mbit, "Mbit/s", 0, 0,
	    "TCP bulk through the echo (what comes back per second), same "
	    "variant");
}

int
main(int argc, char **argv)
{
	char err[256], name[32];
	if (argc > 2 && strcmp(argv[1], "--client") == 0) {
		if (argc > 3)
			rtts = atol(argv[3]);
		if (argc > 4)
			bulk_mib = atol(argv[4]);
		return cross_client(argv[2]);
	}
	/* After --client: the cross variant's client prints only its
	 * result. */
	bench_machine_costs();
	if (argc > 1)
		rtts = atol(argv[1]);
	if (argc > 2)
		bulk_mib = atol(argv[2]);
	if (argc > 3)
		wire_mtu = atol(argv[3]);
	if (argc > 4)
		idle = atol(argv[4]);
	if (rtts < 1 || bulk_mib < 1 || wire_mtu < 576 || idle < 0) {
		fprintf(stderr, "usage: bench_net [round_trips] [bulk_MiB] "
		    "[wire_MTU >= 576] [idle]\n"
		    "       bench_net --client ADDR [round_trips] [bulk_MiB]\n");
		return 2;
	}
	char spec[64];
	snprintf(spec, sizeof(spec), "wire:bench,mtu=%ld", wire_mtu);
	/* Two descriptors an idle connection on Linux; KRANK's tables are
	 * its own. */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}

	pick_cpus();
	const char *where = private_net();
	enum { NV = sizeof(variants) / sizeof(variants[0]) };
	struct result k[NV], l[NV];
	int run[NV];
	for (size_t i = 0; i < NV; i++) {
		const struct variant *v = &variants[i];
		run[i] = wanted(v->name) && !((v->ccpu > 0 || v->scpu > 0) &&
		    cpus[1] < 0);
	}
	/* Linux first, before KRANK boots: no KRANK thread is about while
	 * Linux is measured. */
	for (size_t i = 0; i < NV; i++)
		if (run[i])
			run_linux(&variants[i], &l[i]);

	/* KRANK: two stacks joined by a wire. */
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
	for (size_t i = 0; i < NV; i++)
		if (run[i])
			run_krank(&variants[i], &k[i]);

	printf("TCP, %ld round trips of 64 bytes (TCP_NODELAY), %ld MiB bulk, "
	    "%ld idle connections open; KRANK: two stacks in this process over "
	    "the in-process wire (MTU %ld); Linux: the same code, a thread of "
	    "this process against a child process over %s\n", rtts,
	    bulk_mib, idle, wire_mtu, where);
	printf("spin:  %s, CPUs %d and %d\n", variants[0].what, cpus[0], cpus[1]);
	printf("block: %s\n", variants[1].what);
	printf("cpu0:  %s (CPU %d)\n", variants[2].what, cpus[0]);
	if (idle == 0)
		printf("cross: Linux client in a namespace against examples/echo, "
		    "a KRANK isolate behind a tap, vs the same echo.c on Linux "
		    "behind a veth (tests/bench/bench_net_cross.sh)\n");
	printf("%-6s %-18s %10s %10s %8s\n", "var", "measure", "krank",
	    "linux", "ratio");
	for (size_t i = 0; i < NV; i++) {
		const struct variant *v = &variants[i];
		if (!run[i]) {
			if (wanted(v->name))
				printf("%-6s skipped: needs two CPUs\n", v->name);
			continue;
		}
		row(v->name, &k[i], &l[i]);
		points(v->name, v->alias, &k[i], &l[i], v->what);
	}
	krs_shutdown();
	/* The idle connections are an in-process measure: cross runs
	 * without them, once, in the run without idle. */
	if (wanted("cross") && idle == 0)
		run_cross(argv[0]);
	printf("ratio > 1: KRANK better (RTT: linux/krank; throughput: "
	    "krank/linux)\n");
	return 0;
}
