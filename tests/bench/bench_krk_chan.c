/*
 * bench_krk_chan - KRANK's zero-copy channels against a Linux pipe and a
 * unix stream socket, in the same run, for 64 B and 64 KiB messages:
 * messages per second one way, and the round trip (ping-pong) latency.
 *   KRANK: two threads of this process, pinned to CPUs 0 and 1, each in
 *     its own krs context (as two isolates are; bench_nbufs says how many
 *     buffers a channel has), using the channel API the
 *     isolates' krank_chan_* calls use (krk_chan_alloc/send_ptr/recv/
 *     release_ptr with an owner): the sender takes a pool buffer, writes
 *     the message's sequence number into it and hands it over; the
 *     receiver checks the number and releases it.  The payload is not
 *     touched beyond that: it is produced and consumed in place.
 *   Linux: two processes (fork), pinned to CPUs 0 and 1; every message is
 *     written in full from one buffer and read in full into another
 *     (read loops until the message's bytes are all there), so 64 KiB
 *     crosses as two copies, which is what a pipe or a socket costs.
 *   KRANK isolates (with -i DIR, DIR holding iso_chanbench.kx built by
 *     krank-cc): the same through two real isolates on cores 0 and 1,
 *     through the isolates' krank_chan_* calls; they time themselves.
 * Round trip: the message goes over and an equal one comes back (KRANK:
 * over one channel and back over another).  Printed: messages/s, the mean
 * and median round trip, and KRANK's ratio to each baseline.
 *   usage: bench_krk_chan [-i DIR] [SCALE]   (SCALE multiplies the
 *   counts; 1).  tests/bench/bench_krk_chan.sh builds the isolate.
 * Every row runs KRANK_BENCH_REPEAT times (5), interleaved with the
 * others, and its figures are the medians.
 * KRANK_BENCH_ONLY_KRANK=1 skips the Linux runs (for a profiler).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <krank/krs.h>

#include "krk.h"
#include "krk_chan.h"

#include "bench_point.h"
#include "../testclock.h"

static int
cmp64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static int ncpu_online;

static void
pin(int cpu)
{
	cpu_set_t s;
	CPU_ZERO(&s);
	CPU_SET(cpu % ncpu_online, &s);
	(void)sched_setaffinity(0, sizeof(s), &s);
}

struct result {
	double msgs_per_s;
	double rtt_mean_ns, rtt_median_ns;
};

/* ---- KRANK ---------------------------------------------------------- */

/* Buffers per channel: as many 64-byte messages as a Linux pipe's 64 KiB
 * holds (1024), and 64 of 64 KiB (4 MiB, where a pipe holds one and a
 * unix socket about three: zero copy needs the buffers to exist). */
static uint32_t
bench_nbufs(size_t size)
{
	const char *e = getenv("KRANK_BENCH_NBUFS");	/* to experiment */
	if (e != NULL && atoi(e) > 0)
		return (uint32_t)atoi(e);
	return size <= 64 ? 1024 : 64;
}

struct kside {
	const char *name;		/* channel the thread opens to send */
	const char *back;		/* channel it receives on (created) */
	size_t size;
	long count;
	bool pingpong;
	int cpu;
	uint64_t bad;
	pthread_barrier_t *bar;
};

/* The far side: receives on s->back... for the one-way test it only
 * receives (on the channel it created); for ping-pong it answers over
 * s->name. */
static void *
krank_peer(void *arg)
{
	struct kside *s = arg;
	struct krs_ctx *ctx;
	int rfd, wfd = -1;
	uint64_t off;
	uint32_t len;
	void *p, *q;
	const uint32_t me = 2;

	pin(s->cpu);
	if (krs_ctx_create(0, 0, &ctx) != 0 || krs_ctx_enter(ctx) != 0)
		abort();
	if (krk_chan_create(s->back, bench_nbufs(s->size), (uint32_t)s->size,
	    0, &rfd) != 0)
		abort();
	pthread_barrier_wait(s->bar);		/* created */
	if (s->pingpong) {
		pthread_barrier_wait(s->bar);	/* the other created too */
		if (krk_chan_open(s->name, KRK_CHAN_SEND, 0, &wfd) != 0)
			abort();
	}
	for (long i = 0;; i++) {
		if (krk_chan_recv(rfd, me, -1, &off, &p, &len) != 0)
			abort();
		if (len == 0)
			break;
		if (*(volatile uint64_t *)p != (uint64_t)i)
			s->bad++;
		krk_chan_release_ptr(rfd, me, p);
		if (s->pingpong) {
			if (krk_chan_alloc(wfd, me, -1, &off, &q) != 0)
				abort();
			*(volatile uint64_t *)q = (uint64_t)i;
			if (krk_chan_send_ptr(wfd, me, q, (uint32_t)s->size) != 0)
				abort();
		}
	}
	if (wfd >= 0)
		krs_close(wfd);
	krs_close(rfd);
	krs_ctx_leave();
	krs_ctx_destroy(ctx);
	return NULL;
}

static struct result
krank_run(size_t size, long count, long rounds)
{
	struct result r = { 0, 0, 0 };
	pthread_barrier_t bar;
	pthread_t t;
	struct krs_ctx *ctx;
	int wfd, rfd;
	uint64_t off;
	uint32_t len;
	void *p;
	const uint32_t me = 1;

	pin(0);
	if (krs_ctx_create(0, 0, &ctx) != 0 || krs_ctx_enter(ctx) != 0)
		abort();
	/* One way. */
	pthread_barrier_init(&bar, NULL, 2);
	struct kside s = { "bench-ret", "bench-fwd", size, count, false, 1, 0,
	    &bar };
	pthread_create(&t, NULL, krank_peer, &s);
	pthread_barrier_wait(&bar);
	if (krk_chan_open("bench-fwd", KRK_CHAN_SEND, 0, &wfd) != 0)
		abort();
	uint64_t t0 = now_ns();
	for (long i = 0; i < count; i++) {
		if (krk_chan_alloc(wfd, me, -1, &off, &p) != 0)
			abort();
		*(volatile uint64_t *)p = (uint64_t)i;
		if (krk_chan_send_ptr(wfd, me, p, (uint32_t)size) != 0)
			abort();
	}
	krs_close(wfd);
	pthread_join(t, NULL);
	r.msgs_per_s = (double)count / ((double)(now_ns() - t0) / 1e9);
	if (s.bad)
		printf("  KRANK one way: %" PRIu64 " messages out of order\n",
		    s.bad);
	pthread_barrier_destroy(&bar);

	/* Round trips. */
	uint64_t *lat = malloc(sizeof(*lat) * (size_t)rounds);
	pthread_barrier_init(&bar, NULL, 2);
	struct kside s2 = { "bench-ret", "bench-fwd", size, rounds, true, 1, 0,
	    &bar };
	pthread_create(&t, NULL, krank_peer, &s2);
	pthread_barrier_wait(&bar);
	if (krk_chan_create("bench-ret", bench_nbufs(size), (uint32_t)size, 0,
	    &rfd) != 0)
		abort();
	pthread_barrier_wait(&bar);
	if (krk_chan_open("bench-fwd", KRK_CHAN_SEND, 0, &wfd) != 0)
		abort();
	uint64_t sum = 0;
	for (long i = 0; i < rounds; i++) {
		uint64_t a = now_ns();
		if (krk_chan_alloc(wfd, me, -1, &off, &p) != 0)
			abort();
		*(volatile uint64_t *)p = (uint64_t)i;
		if (krk_chan_send_ptr(wfd, me, p, (uint32_t)size) != 0 ||
		    krk_chan_recv(rfd, me, -1, &off, &p, &len) != 0 ||
		    len != size || *(volatile uint64_t *)p != (uint64_t)i)
			abort();
		krk_chan_release_ptr(rfd, me, p);
		lat[i] = now_ns() - a;
		sum += lat[i];
	}
	krs_close(wfd);
	pthread_join(t, NULL);
	krs_close(rfd);
	pthread_barrier_destroy(&bar);
	qsort(lat, (size_t)rounds, sizeof(*lat), cmp64);
	r.rtt_mean_ns = (double)sum / (double)rounds;
	r.rtt_median_ns = (double)lat[rounds / 2];
	free(lat);
	krs_ctx_leave();
	krs_ctx_destroy(ctx);
	return r;
}

/* ---- Linux ------------------------------------------------------------ */

static int
write_full(int fd, const char *b, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, b, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
read_full(int fd, char *b, size_t n)
{
	while (n > 0) {
		ssize_t r = read(fd, b, n);
		if (r <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			return -1;
		}
		b += r;
		n -= (size_t)r;
	}
	return 0;
}

/* a[0]/a[1]: parent -> child; b[0]/b[1]: child -> parent. */
static struct result
linux_run(bool sock, size_t size, long count, long rounds)
{
	struct result r = { 0, 0, 0 };
	int a[2], b[2];
	char *buf = malloc(size), *rbuf = malloc(size);

	memset(buf, 'x', size);
	if (sock) {
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, a) != 0)
			abort();
		b[0] = a[0];
		b[1] = a[1];
	} else if (pipe(a) != 0 || pipe(b) != 0)
		abort();
	/* For sockets both directions share the pair: parent uses a[0],
	 * child a[1]. */
	int pw = sock ? a[0] : a[1], pr = sock ? a[0] : b[0];
	int cr = sock ? a[1] : a[0], cw = sock ? a[1] : b[1];
	pid_t pid = fork();
	if (pid == 0) {
		pin(1);
		for (long i = 0; i < count; i++) {
			if (read_full(cr, rbuf, size) != 0)
				_exit(1);
			if (*(uint64_t *)rbuf != (uint64_t)i)
				_exit(2);
		}
		char ok = 'k';
		write_full(cw, &ok, 1);
		for (long i = 0; i < rounds; i++) {
			if (read_full(cr, rbuf, size) != 0 ||
			    write_full(cw, rbuf, size) != 0)
				_exit(3);
		}
		_exit(0);
	}
	pin(0);
	uint64_t t0 = now_ns();
	for (long i = 0; i < count; i++) {
		*(uint64_t *)buf = (uint64_t)i;
		if (write_full(pw, buf, size) != 0)
			abort();
	}
	char ok;
	if (read_full(pr, &ok, 1) != 0)
		abort();
	r.msgs_per_s = (double)count / ((double)(now_ns() - t0) / 1e9);
	uint64_t *lat = malloc(sizeof(*lat) * (size_t)rounds), sum = 0;
	for (long i = 0; i < rounds; i++) {
		uint64_t t = now_ns();
		*(uint64_t *)buf = (uint64_t)i;
		if (write_full(pw, buf, size) != 0 ||
		    read_full(pr, rbuf, size) != 0 ||
		    *(uint64_t *)rbuf != (uint64_t)i)
			abort();
		lat[i] = now_ns() - t;
		sum += lat[i];
	}
	int st;
	waitpid(pid, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		printf("  %s: the child failed (status %#x)\n",
		    sock ? "unix socket" : "pipe", st);
	qsort(lat, (size_t)rounds, sizeof(*lat), cmp64);
	r.rtt_mean_ns = (double)sum / (double)rounds;
	r.rtt_median_ns = (double)lat[rounds / 2];
	free(lat);
	close(a[0]);
	close(a[1]);
	if (!sock) {
		close(b[0]);
		close(b[1]);
	}
	free(buf);
	free(rbuf);
	return r;
}

/* The cost of one message's four calls with no peer (one thread): what
 * the channel itself costs, apart from the two cores' cache traffic and
 * waiting. */
static double
krank_single(size_t size, long n, double *cpu_ns)
{
	int r, w;
	uint64_t off;
	uint32_t len;
	void *p;

	if (krk_chan_create("bench-one", 64, (uint32_t)size, 0, &r) != 0 ||
	    krk_chan_open("bench-one", KRK_CHAN_SEND, 0, &w) != 0)
		abort();
	struct timespec c0, c1;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
	uint64_t t0 = now_ns();
	for (long i = 0; i < n; i++) {
		if (krk_chan_alloc(w, 1, -1, &off, &p) != 0 ||
		    krk_chan_send_ptr(w, 1, p, (uint32_t)size) != 0 ||
		    krk_chan_recv(r, 2, -1, &off, &p, &len) != 0 ||
		    krk_chan_release_ptr(r, 2, p) != 0)
			abort();
	}
	double ns = (double)(now_ns() - t0) / (double)n;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
	*cpu_ns = ((double)(c1.tv_sec - c0.tv_sec) * 1e9 +
	    (double)(c1.tv_nsec - c0.tv_nsec)) / (double)n;
	krs_close(w);
	krs_close(r);
	return ns;
}

/* ---- KRANK isolates ---------------------------------------------------- */

static const char *isodir;

static int
iso_spawn(const char *name, int core, char **argv, size_t argc)
{
	struct krk_isolate_cfg c;
	char path[512], err[512];
	int id = -1;

	memset(&c, 0, sizeof(c));
	snprintf(c.name, sizeof(c.name), "%s", name);
	snprintf(path, sizeof(path), "%s/iso_chanbench.kx", isodir);
	c.elf = path;
	c.argv = argv;
	c.argc = argc;
	c.core = core % ncpu_online;
	c.heap = 64 << 20;
	c.fds = 64;
	c.restart = KRK_RESTART_NEVER;
	if (krk_isolate_spawn(&c, &id, err, sizeof(err)) != 0) {
		fprintf(stderr, "bench_krk_chan: %s\n", err);
		exit(1);
	}
	return id;
}

static void
iso_end(int id, const char *what)
{
	struct krk_isolate_info in;
	if (krk_isolate_wait(id, 300000000000ull, &in) != 0 ||
	    in.state != KRK_ISO_EXITED || in.status != 0)
		printf("  isolate %s: %s, status %d\n", what,
		    krk_iso_state_name(in.state), in.status);
	krk_isolate_remove(id);
}

/* The last "chanbench-result: NAME KIND ..." line of the log, after KIND. */
static bool
iso_result(const char *name, const char *kind, uint64_t v[4])
{
	char *log = krk_log_read(NULL), key[96];
	bool ok = false;
	snprintf(key, sizeof(key), "chanbench-result: %s %s ", name, kind);
	for (char *at = log ? strstr(log, key) : NULL; at != NULL;
	    at = strstr(at + 1, key)) {
		unsigned long long a, b, c, d;
		if (sscanf(at + strlen(key), "%llu %llu %llu %llu", &a, &b, &c,
		    &d) == 4) {
			v[0] = a; v[1] = b; v[2] = c; v[3] = d;
			ok = true;
		}
	}
	free(log);
	return ok;
}

static struct result
iso_run(size_t size, long count, long rounds)
{
	struct result r = { 0, 0, 0 };
	char sz[24], cnt[24], rnd[24], nb[16], name[32];
	uint64_t v[4];
	static int seq;

	snprintf(sz, sizeof(sz), "%zu", size);
	snprintf(cnt, sizeof(cnt), "%ld", count);
	snprintf(rnd, sizeof(rnd), "%ld", rounds);
	snprintf(nb, sizeof(nb), "%u", bench_nbufs(size));
	snprintf(name, sizeof(name), "cb%d", seq++);
	char *rargv[] = { "iso_chanbench", "recv", name, sz, cnt, nb, NULL };
	char *sargv[] = { "iso_chanbench", "send", name, sz, cnt, nb, NULL };
	int a = iso_spawn("cb-recv", 1, rargv, 6);
	int b = iso_spawn("cb-send", 0, sargv, 6);
	iso_end(b, "sender");
	iso_end(a, "receiver");
	if (iso_result(name, "oneway", v) && v[2] > 0)
		r.msgs_per_s = (double)v[1] / ((double)v[2] / 1e9);
	snprintf(name, sizeof(name), "cb%d", seq++);
	char *eargv[] = { "iso_chanbench", "echo", name, sz, rnd, nb, NULL };
	char *pargv[] = { "iso_chanbench", "ping", name, sz, rnd, nb, NULL };
	a = iso_spawn("cb-echo", 1, eargv, 6);
	b = iso_spawn("cb-ping", 0, pargv, 6);
	iso_end(b, "ping");
	iso_end(a, "echo");
	if (iso_result(name, "rtt", v)) {
		r.rtt_mean_ns = (double)v[2];
		r.rtt_median_ns = (double)v[3];
	}
	return r;
}

#define MAXREP 15

static int
cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Each figure's median over n runs. */
static struct result
median_result(const struct result *r, int n)
{
	double m[MAXREP], a[MAXREP], d[MAXREP];
	for (int i = 0; i < n; i++) {
		m[i] = r[i].msgs_per_s;
		a[i] = r[i].rtt_mean_ns;
		d[i] = r[i].rtt_median_ns;
	}
	qsort(m, (size_t)n, sizeof(double), cmpd);
	qsort(a, (size_t)n, sizeof(double), cmpd);
	qsort(d, (size_t)n, sizeof(double), cmpd);
	return (struct result){ m[n / 2], a[n / 2], d[n / 2] };
}

static void
row(const char *what, const struct result *x)
{
	printf("  %-13s %12.0f msgs/s %9.2f us rtt mean %9.2f us median\n",
	    what, x->msgs_per_s, x->rtt_mean_ns / 1e3, x->rtt_median_ns / 1e3);
}

int
main(int argc, char **argv)
{
	char err[256];
	int ai = 1;
	bench_machine_costs();
	if (argc > 2 && strcmp(argv[1], "-i") == 0) {
		isodir = argv[2];
		ai = 3;
	}
	long scale = argc > ai ? atol(argv[ai]) : 1;
	if (scale < 1)
		scale = 1;
	const char *re = getenv("KRANK_BENCH_REPEAT");
	int repeat = re != NULL ? atoi(re) : 5;
	if (repeat < 1 || repeat > MAXREP)
		repeat = 5;

	ncpu_online = (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (ncpu_online < 2)
		printf("note: one CPU online: both sides share it\n");
	krk_log_init(1 << 20, 0);
	if (krs_boot("vfs,tmpfs", err, sizeof(err)) != 0 ||
	    krs_mount("tmpfs", "/", "tmpfs", 0, NULL, 0) != 0) {
		fprintf(stderr, "bench_krk_chan: boot: %s\n", err);
		return 1;
	}
	if (isodir != NULL && krk_isolates_init() != 0) {
		fprintf(stderr, "bench_krk_chan: krk_isolates_init failed\n");
		return 1;
	}
	printf("bench_krk_chan: KRANK channel (two threads, two krs contexts, "
	    "CPUs 0 and 1, spin %d us) vs Linux pipe and unix stream socket "
	    "(two processes, CPUs 0 and 1); medians of %d interleaved runs\n",
	    krs_spin_us(-1), repeat);
	static const size_t sizes[] = { 64, 65536 };
	for (size_t k = 0; k < 2; k++) {
		size_t size = sizes[k];
		long kc = (size == 64 ? 2000000 : 200000) * scale;
		long lc = (size == 64 ? 400000 : 40000) * scale;
		long rounds = (size == 64 ? 50000 : 10000) * scale;
		/* Each row is run `repeat` times, interleaved, and the median
		 * of each figure printed: a shared machine's noise then hits
		 * KRANK and Linux alike. */
		struct result krs[MAXREP], prs[MAXREP], srs[MAXREP], irs[MAXREP];
		for (int rep = 0; rep < repeat; rep++) {
			krs[rep] = krank_run(size, kc, rounds);
			prs[rep] = srs[rep] = (struct result){ 1, 1, 1 };
			if (getenv("KRANK_BENCH_ONLY_KRANK") == NULL) {
				prs[rep] = linux_run(false, size, lc, rounds);
				srs[rep] = linux_run(true, size, lc, rounds);
			}
			irs[rep] = (struct result){ 0, 0, 0 };
			if (isodir != NULL)
				irs[rep] = iso_run(size, kc, rounds);
		}
		struct result kr = median_result(krs, repeat);
		struct result pr = median_result(prs, repeat);
		struct result sr = median_result(srs, repeat);
		struct result ir = median_result(irs, repeat);
		printf("%zu-byte messages:\n", size);
		double cpu, wall = krank_single(size, 200000 * scale, &cpu);
		printf("  KRANK chan, one thread, no peer: %.0f ns per message "
		    "(alloc, send, recv, release; %.0f ns of CPU time)\n", wall,
		    cpu);
		row("KRANK threads", &kr);
		row("Linux pipe", &pr);
		row("unix socket", &sr);
		if (isodir != NULL) {
			row("KRANK isolates", &ir);
			printf("  isolates' ratio msgs/s: %.1fx pipe, %.1fx unix "
			    "socket; rtt: %.1fx, %.1fx faster\n",
			    ir.msgs_per_s / pr.msgs_per_s,
			    ir.msgs_per_s / sr.msgs_per_s,
			    pr.rtt_median_ns / ir.rtt_median_ns,
			    sr.rtt_median_ns / ir.rtt_median_ns);
		}
		printf("  ratio msgs/s: %.1fx pipe, %.1fx unix socket (goal >= "
		    "5x); rtt: %.1fx, %.1fx faster\n",
		    kr.msgs_per_s / pr.msgs_per_s, kr.msgs_per_s / sr.msgs_per_s,
		    pr.rtt_median_ns / kr.rtt_median_ns,
		    sr.rtt_median_ns / kr.rtt_median_ns);
		char id[64], w[160];
		snprintf(id, sizeof(id), "chan.msgs%zu", size);
		snprintf(w, sizeof(w), "%zu B messages/s: KRANK channel between "
		    "two threads vs a Linux pipe between two processes", size);
		bench_point(id, kr.msgs_per_s, pr.msgs_per_s, "msg/s", 0, 5, w);
		snprintf(id, sizeof(id), "chan.rtt%zu", size);
		snprintf(w, sizeof(w), "%zu B round trip: KRANK channel vs a "
		    "Linux pipe, medians", size);
		bench_point(id, kr.rtt_median_ns, pr.rtt_median_ns, "ns", 1, 0,
		    w);
	}
	if (isodir != NULL)
		krk_isolates_fini();
	krs_shutdown();
	return 0;
}
