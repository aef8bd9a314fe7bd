/*
 * bench_krq_io - system calls of a Linux process over KRANK's queues
 * (libkrank, krq_attach to a running `krank run`) against the same calls
 * to Linux, every row in the same run as its baseline (issue 12): the
 * null call unbatched and 32 to a bell, 64 B and 4 KiB pread/pwrite on
 * KRANK's tmpfs and ext2 (buffer in the area by reference, and 64 B
 * inline), and a bare cross-core cache-line round trip between this
 * process's core and KRANK's (the limit of an unbatched call).  Driven by
 * bench_krq_io.sh, which starts KRANK and pins this process.
 *
 * Each measurement runs a fixed number of calls per repeat (CALLS for
 * the null call, CALLS/2 for I/O; ~1 ms, shorter than a time slice, so
 * that on a shared machine most chunks run unpreempted); repeats
 * interleave every row with its baseline, and rows report the median (and
 * the minimum) over repeats of ns per call.  Each KRANK measurement
 * starts with a null call that is not in its row: after an idle longer
 * than the spin, KRANK's server (and the waiting client) sleep on
 * futexes, and those wake-ups are a row of their own.
 *
 * usage: bench_krq_io CTLSOCK KRANK_CORE KRANK_TMPFS_FILE KRANK_EXT2_FILE
 *            LINUX_SHM_FILE LINUX_EXT2_FILE [REPEATS [CALLS]]
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <krank/hyp_relax.h>
#include <unistd.h>

#include <krank/krank.h>
#include <krank/krq.h>

#include "bench_point.h"
#include "../testclock.h"

#define MAXREP	1001
#define BATCH	32
#define FILESZ	8192

static unsigned nrep = 51;
static long ncalls = 2000;
static int kcore, ccore;

static struct krq *q;
static struct krank_client *kc;
static const unsigned ring = 0;

static inline void
cpu_relax(void)
{
	hyp_cpu_relax();
}

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "bench_krq_io: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

/* ---- samples: one ns/call per repeat per measurement ---------------------- */

struct meas {
	double s[MAXREP];
	unsigned n;
};

static void
add(struct meas *m, uint64_t dt, long calls)
{
	if (m->n < MAXREP)
		m->s[m->n++] = (double)dt / (double)calls;
}

static int
dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Each KRANK measurement starts with one null call kept out of its row:
 * after Linux's rows or the bare round trip (longer than the spin)
 * KRANK's server sleeps on its futex, and so may the client while it
 * waits.  Those first calls after an idle of over IDLE_NS, doorbell and
 * wake-ups included, make a row of their own. */
#define IDLE_NS	1000000
static struct meas mwake;
static uint64_t last_call_ns;
static int counting;

static void
first_call(void)
{
	uint64_t t0 = now_ns();
	if (krank_null(kc) < 1)
		die("krank_null: %s", strerror(errno));
	uint64_t t1 = now_ns();
	if (counting && last_call_ns != 0 && t0 - last_call_ns > IDLE_NS)
		add(&mwake, t1 - t0, 1);
}

static double
med(struct meas *m)
{
	if (m->n == 0)
		return 0;
	qsort(m->s, m->n, sizeof(m->s[0]), dcmp);
	return m->n & 1 ? m->s[m->n / 2] :
	    (m->s[m->n / 2 - 1] + m->s[m->n / 2]) / 2;
}

static double
minv(struct meas *m)
{
	med(m);		/* sorts */
	return m->n ? m->s[0] : 0;
}

/* ---- the null call --------------------------------------------------------- */

static void
run_null_queue(struct meas *m)
{
	first_call();
	uint64_t t0 = now_ns();
	for (long i = 0; i < ncalls; i++)
		if (krank_null(kc) < 1)
			die("krank_null: %s", strerror(errno));
	last_call_ns = now_ns();
	add(m, last_call_ns - t0, ncalls);
}

static void
run_getppid(struct meas *m)
{
	uint64_t t0 = now_ns();
	for (long i = 0; i < ncalls; i++)
		(void)syscall(SYS_getppid);
	add(m, now_ns() - t0, ncalls);
}

/* The encoded null request, as libkrank makes it: a client whose
 * transport keeps what is posted and fails the take. */
static unsigned char nullreq[4096];
static size_t nullreq_len;
static unsigned char nullresp[4096];
static size_t nullresp_len;

static int
cap_post(void *arg, const void *msg, size_t len)
{
	(void)arg;
	if (len > sizeof(nullreq))
		return EMSGSIZE;
	memcpy(nullreq, msg, len);
	nullreq_len = len;
	return 0;
}

static int
cap_take(void *arg, void *buf, size_t cap, size_t *lenp)
{
	(void)arg;
	(void)buf;
	(void)cap;
	(void)lenp;
	return ENOTSUP;
}

static void
capture_null(void)
{
	struct krank_transport t = { .post = cap_post, .take = cap_take,
	    .msg_max = krq_slot_cap(q) };
	struct krank_client *c;
	int e;

	if ((e = krank_client_create(&t, &c)) != 0)
		die("capturing client: %s", strerror(e));
	(void)krank_null(c);		/* -1: the take fails, as meant */
	krank_client_destroy(c);
	if (nullreq_len == 0)
		die("the capturing transport saw no null request");
	/* The response KRANK gives to exactly these bytes, to check the
	 * batched ones against. */
	if ((e = krq_post(q, ring, nullreq, nullreq_len)) != 0)
		die("krq_post: %s", strerror(e));
	krq_bell(q, ring);
	if ((e = krq_take(q, ring, nullresp, sizeof(nullresp), &nullresp_len,
	    5000000000)) != 0)
		die("krq_take of the null response: %s", strerror(e));
}

static void
run_batched(struct meas *m)
{
	static unsigned char resp[4096];
	long nb = ncalls / BATCH > 0 ? ncalls / BATCH : 1;
	size_t len;
	int e;

	first_call();
	uint64_t t0 = now_ns();
	for (long b = 0; b < nb; b++) {
		for (int i = 0; i < BATCH; i++)
			if ((e = krq_post(q, ring, nullreq, nullreq_len)) != 0)
				die("krq_post: %s", strerror(e));
		krq_bell(q, ring);
		for (int i = 0; i < BATCH; i++) {
			if ((e = krq_take(q, ring, resp, sizeof(resp), &len,
			    -1)) != 0)
				die("krq_take: %s", strerror(e));
			if (b == 0 && (len != nullresp_len ||
			    memcmp(resp, nullresp, len) != 0))
				die("batched null response %d differs from "
				    "the unbatched one", i);
		}
	}
	last_call_ns = now_ns();
	add(m, last_call_ns - t0, nb * BATCH);
}

/* ---- bare cross-core round trip ----------------------------------------- */

static struct {
	_Alignas(64) _Atomic uint64_t v;
	char pad[56];
} line;
static _Atomic int pong_stop;

static void
pin(int core)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(core, &set);
	if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set) != 0)
		die("cannot pin a thread to core %d", core);
}

static void *
pong_main(void *arg)
{
	(void)arg;
	pin(kcore);
	uint64_t want = 1;
	while (!atomic_load_explicit(&pong_stop, memory_order_relaxed)) {
		if (atomic_load_explicit(&line.v, memory_order_acquire) ==
		    want) {
			atomic_store_explicit(&line.v, want + 1,
			    memory_order_release);
			want += 2;
		} else {
			cpu_relax();
		}
	}
	return NULL;
}

static void
bounce(uint64_t *vp, long n)
{
	uint64_t v = *vp;
	for (long i = 0; i < n; i++) {
		atomic_store_explicit(&line.v, v + 1, memory_order_release);
		while (atomic_load_explicit(&line.v, memory_order_acquire) !=
		    v + 2)
			cpu_relax();
		v += 2;
	}
	*vp = v;
}

static void
run_bare(struct meas *m)
{
	pthread_t th;
	uint64_t v = 0;

	atomic_store(&line.v, 0);
	atomic_store(&pong_stop, 0);
	if (pthread_create(&th, NULL, pong_main, NULL) != 0)
		die("pthread_create: %s", strerror(errno));
	/* Warm up: the partner is scheduled and KRANK's server, spinning
	 * after the last call, has gone to sleep on its futex. */
	uint64_t w = now_ns();
	while (now_ns() - w < 2000000)
		bounce(&v, 64);
	uint64_t t0 = now_ns();
	bounce(&v, ncalls);
	add(m, now_ns() - t0, ncalls);
	atomic_store(&pong_stop, 1);
	pthread_join(th, NULL);
}

/* ---- pread / pwrite ---------------------------------------------------- */

static void
run_kio(struct meas *m, int fd, int wr, void *buf, size_t len)
{
	long n = ncalls / 2;
	first_call();
	uint64_t t0 = now_ns();
	for (long i = 0; i < n; i++) {
		ssize_t r = wr ? krank_pwrite(kc, fd, buf, len, 0) :
		    krank_pread(kc, fd, buf, len, 0);
		if (r != (ssize_t)len)
			die("krank_%s of %zu bytes: %zd (%s)", wr ? "pwrite" :
			    "pread", len, r, r < 0 ? strerror(errno) : "short");
	}
	last_call_ns = now_ns();
	add(m, last_call_ns - t0, n);
}

static void
run_lio(struct meas *m, int fd, int wr, void *buf, size_t len)
{
	long n = ncalls / 2;
	uint64_t t0 = now_ns();
	for (long i = 0; i < n; i++) {
		ssize_t r = wr ? pwrite(fd, buf, len, 0) :
		    pread(fd, buf, len, 0);
		if (r != (ssize_t)len)
			die("%s of %zu bytes: %zd (%s)", wr ? "pwrite" :
			    "pread", len, r, r < 0 ? strerror(errno) : "short");
	}
	add(m, now_ns() - t0, n);
}

/* One file system: KRANK's file and the Linux file it is compared with. */
enum { K64REF, K64INL, K4KREF, L64, L4K, NIO };
static const char *const ioname[NIO] = { "64 B, by reference",
	"64 B, inline", "4 KiB, by reference" };
struct fsbench {
	const char *name, *kpath, *lpath;
	int kfd, lfd;
	struct meas m[2][NIO];		/* [read, write][...] */
};

static void
fs_open(struct fsbench *f)
{
	static unsigned char init[FILESZ];

	memset(init, 'k', sizeof(init));
	f->kfd = krank_open(kc, f->kpath, O_CREAT | O_RDWR | O_TRUNC, 0644);
	if (f->kfd < 0)
		die("KRANK %s: open %s: %s", f->name, f->kpath,
		    strerror(errno));
	if (krank_pwrite(kc, f->kfd, init, 4096, 0) != 4096 ||
	    krank_pwrite(kc, f->kfd, init + 4096, 4096, 4096) != 4096)
		die("KRANK %s: %s: first write: %s", f->name, f->kpath,
		    strerror(errno));
	f->lfd = open(f->lpath, O_CREAT | O_RDWR | O_TRUNC, 0644);
	if (f->lfd < 0)
		die("Linux %s: open %s: %s", f->name, f->lpath,
		    strerror(errno));
	if (pwrite(f->lfd, init, sizeof(init), 0) != (ssize_t)sizeof(init))
		die("Linux %s: %s: first write: %s", f->name, f->lpath,
		    strerror(errno));
}

static void
fs_round(struct fsbench *f, unsigned char *ref, unsigned rep)
{
	static unsigned char own[4096];

	for (int wr = 0; wr < 2; wr++) {
		struct meas *m = f->m[wr];
		/* Alternate who goes first, so neither always follows the
		 * other's cache traffic. */
		if (rep & 1) {
			run_lio(&m[L64], f->lfd, wr, own, 64);
			run_lio(&m[L4K], f->lfd, wr, own, 4096);
		}
		run_kio(&m[K64REF], f->kfd, wr, ref, 64);
		run_kio(&m[K64INL], f->kfd, wr, own, 64);
		run_kio(&m[K4KREF], f->kfd, wr, ref, 4096);
		if (!(rep & 1)) {
			run_lio(&m[L64], f->lfd, wr, own, 64);
			run_lio(&m[L4K], f->lfd, wr, own, 4096);
		}
	}
}

/* ---- report --------------------------------------------------------------- */

static void
row(const char *name, struct meas *k, struct meas *l, const char *lname)
{
	double km = med(k), lm = l ? med(l) : 0;
	if (l == NULL) {
		printf("%-40s %10.1f %10s %8s   min %.1f\n", name, km, "-", "-",
		    minv(k));
		return;
	}
	printf("%-40s %10.1f %10.1f %7.2fx   min %.1f / %.1f  (%s)\n", name, km,
	    lm, lm / km, minv(k), minv(l), lname);
}

static const char *
verdict(int met)
{
	return met ? "MET" : "MISSED";
}

int
main(int argc, char **argv)
{
	struct meas mnull = { .n = 0 }, mppid = { .n = 0 }, mbare = { .n = 0 },
	    mbatch = { .n = 0 };
	struct fsbench fs[2];
	cpu_set_t set;
	int e;

	if (argc < 7 || argc > 9) {
		fprintf(stderr, "usage: bench_krq_io CTLSOCK KRANK_CORE "
		    "KRANK_TMPFS_FILE KRANK_EXT2_FILE LINUX_SHM_FILE "
		    "LINUX_EXT2_FILE [REPEATS [CALLS]]\n");
		return 2;
	}
	bench_machine_costs();
	kcore = atoi(argv[2]);
	if (argc > 7)
		nrep = (unsigned)atoi(argv[7]);
	if (argc > 8)
		ncalls = atol(argv[8]);
	if (nrep < 1 || nrep > MAXREP - 1 || ncalls < BATCH)
		die("REPEATS 1..%d, CALLS >= %d", MAXREP - 1, BATCH);
	if (sched_getaffinity(0, sizeof(set), &set) != 0 ||
	    CPU_COUNT(&set) != 1)
		die("run me pinned to one core (taskset -c N), not KRANK's");
	ccore = sched_getcpu();
	if (ccore == kcore)
		die("client and KRANK on the same core %d", kcore);

	if ((e = krq_attach(argv[1], 1, &q)) != 0)
		die("attach to %s: %s %s", argv[1], strerror(e),
		    krq_attach_error());
	if ((e = krank_client_ring(q, ring, &kc)) != 0)
		die("client on ring %u: %s", ring, strerror(e));
	size_t alen;
	unsigned char *area = krq_area(q, &alen);
	if (area == NULL || alen < 8192)
		die("the region has no buffer area of 8 KiB");
	/* The by-reference buffer: the area's last 4 KiB (a bounce only
	 * uses the area's start for buffers outside it; these are not). */
	unsigned char *ref = area + (alen & ~(size_t)4095) - 4096;
	memset(ref, 'r', 4096);
	capture_null();

	fs[0] = (struct fsbench){ .name = "tmpfs", .kpath = argv[3],
	    .lpath = argv[5] };
	fs[1] = (struct fsbench){ .name = "ext2", .kpath = argv[4],
	    .lpath = argv[6] };
	for (int i = 0; i < 2; i++)
		fs_open(&fs[i]);

	printf("client core %d, KRANK core %d; %u repeats, %ld null calls, "
	    "%ld I/O calls each; request %zu B, null response %zu B\n",
	    ccore, kcore, nrep, ncalls, ncalls / 2, nullreq_len, nullresp_len);
	fflush(stdout);
	/* Repeat 0 warms caches (page cache, KRANK's buffer cache, the
	 * rings) and is not counted. */
	for (unsigned rep = 0; rep <= nrep; rep++) {
		struct meas junk[4] = { { .n = 0 } };
		int w = rep == 0;
		counting = !w;
		if (rep & 1) {
			run_getppid(w ? &junk[0] : &mppid);
			run_null_queue(w ? &junk[1] : &mnull);
		} else {
			run_null_queue(w ? &junk[1] : &mnull);
			run_getppid(w ? &junk[0] : &mppid);
		}
		run_batched(w ? &junk[2] : &mbatch);
		run_bare(w ? &junk[3] : &mbare);
		for (int i = 0; i < 2; i++) {
			if (w) {
				struct fsbench tmp = fs[i];
				fs_round(&tmp, ref, rep);
			} else {
				fs_round(&fs[i], ref, rep);
			}
		}
	}
	/* The data went where it should, both ways: by reference out and
	 * inline back, inline out and by reference back. */
	for (int i = 0; i < 2; i++) {
		unsigned char back[64], mark[64];
		memset(ref, 'R' + i, 4096);
		memset(mark, 'i' + i, sizeof(mark));
		memset(back, 0, sizeof(back));
		int ok = krank_pwrite(kc, fs[i].kfd, ref, 4096, 0) == 4096 &&
		    krank_pread(kc, fs[i].kfd, back, 64, 0) == 64 &&
		    back[0] == 'R' + i && back[63] == 'R' + i &&
		    krank_pwrite(kc, fs[i].kfd, mark, 64, 64) == 64;
		memset(ref, 0, 4096);
		ok = ok && krank_pread(kc, fs[i].kfd, ref, 4096, 0) == 4096 &&
		    ref[63] == 'R' + i && memcmp(ref + 64, mark, 64) == 0 &&
		    ref[128] == 'R' + i;
		if (!ok)
			die("KRANK %s: %s: what was written is not what is read "
			    "back", fs[i].name, fs[i].kpath);
	}
	printf("checked: KRANK's %s and %s files read back what was written "
	    "by reference and inline\n", fs[0].name, fs[1].name);

	double nullq = med(&mnull), ppid = med(&mppid), bare = med(&mbare),
	    batch = med(&mbatch);
	printf("\n%-40s %10s %10s %8s   (ratio: Linux ns / KRANK ns; "
	    "medians)\n", "row", "KRANK ns", "Linux ns", "ratio");
	row("null call, unbatched (krank_null)", &mnull, &mppid, "getppid");
	row("null call, batched 32 per bell", &mbatch, &mppid, "getppid");
	row("bare cross-core cache-line round trip", &mbare, NULL, NULL);
	row("first call after > 1 ms idle (wake-ups)", &mwake, NULL, NULL);
	for (int i = 0; i < 2; i++)
		for (int wr = 0; wr < 2; wr++)
			for (int k = K64REF; k <= K4KREF; k++) {
				char name[80];
				snprintf(name, sizeof(name), "%s %s %s",
				    fs[i].name, wr ? "pwrite" : "pread",
				    ioname[k]);
				char lname[80];
				snprintf(lname, sizeof(lname), "%s %s",
				    wr ? "pwrite" : "pread", i == 0 ?
				    "/dev/shm" : "ext2 loop mount");
				row(name, &fs[i].m[wr][k], &fs[i].m[wr][k ==
				    K4KREF ? L4K : L64], lname);
			}

	/* Verdicts go by the medians; the minima's ratios are beside them: on
	 * a shared machine a median may be a preempted chunk on either side. */
	printf("\ngoals (issue 12), by the medians (by the minima in brackets):\n");
	printf("  queue unbatched <= 1.5x bare round trip: %.1f / %.1f ns = "
	    "%.2fx (%.2fx)  %s\n", nullq, bare, nullq / bare,
	    minv(&mnull) / minv(&mbare), verdict(nullq <= 1.5 * bare));
	printf("  batched calls/s >= 3x getppid calls/s: %.2f M/s vs %.2f M/s "
	    "= %.2fx (%.2fx)  %s\n", 1e3 / batch, 1e3 / ppid, ppid / batch,
	    minv(&mppid) / minv(&mbatch), verdict(ppid / batch >= 3));
	printf("  64 B read/write >= 2x Linux:\n");
	for (int i = 0; i < 2; i++)
		for (int wr = 0; wr < 2; wr++)
			for (int k = K64REF; k <= K64INL; k++) {
				struct meas *km = &fs[i].m[wr][k],
				    *lm = &fs[i].m[wr][L64];
				double r = med(lm) / med(km);
				printf("    %-5s %-6s %-20s %6.2fx (%.2fx)  %s\n",
				    fs[i].name, wr ? "pwrite" : "pread",
				    ioname[k], r, minv(lm) / minv(km),
				    verdict(r >= 2));
				char id[64], w[160];
				snprintf(id, sizeof(id), "krq.%s.%s64%s",
				    fs[i].name, wr ? "pwrite" : "pread",
				    k == K64REF ? "ref" : "inl");
				snprintf(w, sizeof(w), "queue client %s 64 B "
				    "(%s) on KRANK's %s vs Linux, other "
				    "process", wr ? "pwrite" : "pread",
				    ioname[k], fs[i].name);
				bench_point(id, med(km), med(lm), "ns", 1, 2,
				    w);
			}
	bench_point("krq.batched_null", batch, ppid, "ns", 1, 3, "queue null "
	    "call batched 32 per bell (ns per call) vs Linux getppid");
	bench_point("krq.unbatched_null", nullq, bare, "ns", 1, 0, "queue null "
	    "call unbatched vs a bare cross-core cache-line round trip "
	    "(goal: at most 1.5x the bare trip, i.e. ratio >= 0.67)");
	for (int i = 0; i < 2; i++)
		krank_close(kc, fs[i].kfd), close(fs[i].lfd);
	krank_client_destroy(kc);
	krq_unmap(q);
	return 0;
}
