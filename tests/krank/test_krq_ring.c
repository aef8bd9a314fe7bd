/*
 * test_krq_ring - the shared-memory queues with real threads and a real
 * memfd (krank/krq_server.c and krank/krq_client.c, built with ASan and
 * UBSan): round trips in order, batches, full rings, a response ring the
 * client does not drain, sleeping and waking with no spin (no lost
 * wake-up), a forked client process, and hostile clients (indices,
 * lengths, slots rewritten under KRANK, bells toggled, responses never
 * taken) that get cut off or cost bounded CPU while a well-behaved client
 * on another region keeps working.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <krank/krq.h>
#include "krq_bell.h"
#include "krq_server.h"

static int failures;

#define CHECK(cond, ...) do { \
	if (!(cond)) { \
		printf("FAIL: %s:%d: ", __FILE__, __LINE__); \
		printf(__VA_ARGS__); \
		printf("\n"); \
		failures++; \
	} \
} while (0)

static void
ok(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("ok: ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	fflush(stdout);
}

static uint64_t
now_ns(void)
{
	return krq_now_ns();
}

/* Poll cond(arg) every ms until it holds or ms_max passes. */
static bool
wait_until(bool (*cond)(void *), void *arg, unsigned ms_max)
{
	uint64_t end = now_ns() + (uint64_t)ms_max * 1000000u;
	while (!cond(arg)) {
		if (now_ns() > end)
			return false;
		struct timespec ts = { 0, 1000000 };
		nanosleep(&ts, NULL);
	}
	return true;
}

/* ---- the serve functions ---- */

/* Echo; a request starting with "BAD" is malformed. */
static int
serve_echo(void *arg, const void *req, size_t len, void *resp, size_t cap,
    size_t *resplenp)
{
	(void)arg;
	if (len >= 3 && memcmp(req, "BAD", 3) == 0) {
		*resplenp = 0;
		return EINVAL;
	}
	size_t n = len < cap ? len : cap;
	memcpy(resp, req, n);
	*resplenp = n;
	return 0;
}

/* Captured log lines of the server. */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char last_log[512];

static void
log_capture(void *arg, const char *line)
{
	(void)arg;
	pthread_mutex_lock(&log_lock);
	snprintf(last_log, sizeof(last_log), "%s", line);
	pthread_mutex_unlock(&log_lock);
}

static int cores[2];
static unsigned ncores;

static struct krq_server_cfg
cfg_default(unsigned nrings, unsigned nslots)
{
	struct krq_server_cfg cfg = { .nrings = nrings, .nslots = nslots,
	    .slot_size = 256, .area_len = 64 << 10, .spin_ns = -1,
	    .client_spin_ns = -1, .cores = cores, .ncores = ncores,
	    .log = log_capture };
	return cfg;
}

struct pair {
	struct krq_sclient *s;
	struct krq *q;
	int memfd;
	void *raw;		/* a second, raw view of the region */
	size_t rawlen;
};

static void
pair_make(struct pair *p, const struct krq_server_cfg *cfg, bool start)
{
	memset(p, 0, sizeof(*p));
	int e = krq_sclient_create(cfg, &p->s, &p->memfd);
	if (e != 0) {
		printf("FAIL: krq_sclient_create: %s\n", strerror(e));
		exit(1);
	}
	e = krq_map(p->memfd, &p->q);
	if (e != 0) {
		printf("FAIL: krq_map: %s\n", strerror(e));
		exit(1);
	}
	void *b;
	krq_sclient_region(p->s, &b, &p->rawlen);
	p->raw = mmap(NULL, p->rawlen, PROT_READ | PROT_WRITE, MAP_SHARED,
	    p->memfd, 0);
	if (p->raw == MAP_FAILED) {
		printf("FAIL: mmap raw view\n");
		exit(1);
	}
	if (start && (e = krq_sclient_start(p->s, serve_echo, NULL)) != 0) {
		printf("FAIL: krq_sclient_start: %s\n", strerror(e));
		exit(1);
	}
}

static void
pair_free(struct pair *p)
{
	krq_sclient_destroy(p->s);
	krq_unmap(p->q);
	munmap(p->raw, p->rawlen);
	close(p->memfd);
}

static struct krq_ring_ctl *
raw_ring(struct pair *p, unsigned i)
{
	const struct krq_hdr *h = p->raw;
	return krq_ring_ctl_at(p->raw, h->ring_size, i);
}

static struct krq_slot *
raw_slot(struct pair *p, unsigned i, uint32_t idx)
{
	const struct krq_hdr *h = p->raw;
	return krq_slot_at(raw_ring(p, i), h->slot_size, idx, h->nslots - 1);
}

/* One round trip of "tag seq" on ring; checks the echo. */
static int
roundtrip(struct krq *q, unsigned ring, unsigned seq, int64_t timeout)
{
	char msg[64], got[256];
	size_t len;
	int n = snprintf(msg, sizeof(msg), "ring %u seq %u", ring, seq);
	int e = krq_post(q, ring, msg, (size_t)n);
	if (e != 0)
		return e;
	krq_bell(q, ring);
	e = krq_take(q, ring, got, sizeof(got), &len, timeout);
	if (e != 0)
		return e;
	if (len != (size_t)n || memcmp(got, msg, len) != 0)
		return EBADMSG;
	return 0;
}

/* ---- the adaptive spin (krq_bell.h) ---- */

static void
test_spin_policy(void)
{
	struct krq_spin sp;
	const uint64_t max = 50000;
	memset(&sp, 0, sizeof(sp));
	CHECK(krq_spin_budget(&sp, max, 2, 2) == 0,
	    "a spin on the peer's own CPU");
	CHECK(krq_spin_budget(&sp, max, 0, 2) == max &&
	    krq_spin_budget(&sp, max, 3, 2) == max,
	    "no whole budget with the peer elsewhere or not known");
	CHECK(krq_spin_budget(&sp, 0, 3, 2) == 0, "a spin with budget 0");
	/* Unanswered spins halve the budget down to 0 ... */
	uint64_t b = max;
	unsigned halvings = 0;
	while ((b = krq_spin_budget(&sp, max, 3, 2)) != 0 && halvings < 64) {
		krq_spin_result(&sp, b, max, false);
		halvings++;
	}
	CHECK(halvings == 6, "50 us halved to below 1 us in %u spins, not 6",
	    halvings);
	/* ... and then only every KRQ_SPIN_PROBE-th wait spins, the whole
	 * budget; a probe that fails changes nothing. */
	unsigned probes = 0;
	for (unsigned i = 0; i < 4 * KRQ_SPIN_PROBE; i++) {
		b = krq_spin_budget(&sp, max, 3, 2);
		CHECK(b == 0 || b == max, "budget %llu at 0", (unsigned long
		    long)b);
		if (b != 0) {
			probes++;
			krq_spin_result(&sp, b, max, false);
		}
	}
	CHECK(probes == 4, "%u probes in %u waits, not 4", probes,
	    4 * KRQ_SPIN_PROBE);
	/* An answered probe restores the whole budget. */
	do
		b = krq_spin_budget(&sp, max, 3, 2);
	while (b == 0);
	krq_spin_result(&sp, b, max, true);
	CHECK(krq_spin_budget(&sp, max, 3, 2) == max,
	    "an answered spin did not restore the budget");
	ok("spin budget: 0 on the peer's CPU, halved by unanswered spins "
	    "(%u to 0), %u probes per %u waits at 0, restored by an answer",
	    halvings, probes / 4, KRQ_SPIN_PROBE);
}

/* Both sides publish their CPU beside their bell: the server thread on
 * the request ring (pinned: its core + 1), the client on the response
 * ring, once a call had to wait. */
static void
test_spin_cpus(void)
{
	struct krq_server_cfg cfg = cfg_default(1, 16);
	struct pair p;
	cfg.ncores = 1;
	pair_make(&p, &cfg, true);
	int e = 0;
	for (unsigned i = 0; i < 200 && e == 0; i++)
		e = roundtrip(p.q, 0, i, 5000000000LL);
	CHECK(e == 0, "round trips: %s", strerror(e));
	/* The server writes its CPU before it spins or sleeps: poll. */
	uint32_t scpu = 0;
	for (int i = 0; i < 500 && scpu == 0; i++) {
		scpu = __atomic_load_n(&raw_ring(&p, 0)->cpu, __ATOMIC_ACQUIRE);
		if (scpu == 0) {
			struct timespec ts = { 0, 1000000 };
			nanosleep(&ts, NULL);
		}
	}
	CHECK(scpu == (uint32_t)cores[0] + 1, "server's CPU word %u, pinned "
	    "to core %d", scpu, cores[0]);
	pair_free(&p);
	/* A client that waits (nobody serves: the wait times out) has
	 * published its CPU. */
	pair_make(&p, &cfg, false);
	char got[256];
	size_t len;
	e = krq_post(p.q, 0, "x", 1);
	if (e == 0)
		e = krq_take(p.q, 0, got, sizeof(got), &len, 2000000);
	CHECK(e == ETIMEDOUT, "a take from a stopped server: %s", strerror(e));
	uint32_t ccpu = __atomic_load_n(&raw_ring(&p, 1)->cpu,
	    __ATOMIC_ACQUIRE);
	CHECK(ccpu >= 1 && ccpu <= CPU_SETSIZE, "client's CPU word %u", ccpu);
	pair_free(&p);
	ok("CPUs beside the bells: server %u (core %d), client %u", scpu,
	    cores[0], ccpu);
}

/* ---- well-behaved tests ---- */

static void
test_layout(void)
{
	struct krq_server_cfg cfg = cfg_default(3, 16);
	struct pair p;
	pair_make(&p, &cfg, false);
	const struct krq_hdr *h = p.raw;
	CHECK(h->magic == KRQ_MAGIC && h->version == KRQ_VERSION,
	    "header magic/version");
	CHECK(h->nrings == 3 && h->nslots == 16 && h->slot_size == 256,
	    "header geometry %u %u %u", h->nrings, h->nslots, h->slot_size);
	CHECK(h->area_off % KRQ_PAGE == 0 && h->area_len == 64 << 10,
	    "area at a page");
	CHECK(krq_nrings(p.q) == 3 && krq_slot_cap(p.q) == 248, "client view");
	size_t alen;
	void *a = krq_area(p.q, &alen);
	CHECK(a != NULL && alen == 64 << 10, "client area");
	void *sa;
	size_t salen;
	krq_sclient_area(p.s, &sa, &salen);
	/* The same bytes in both mappings. */
	memcpy(a, "shared area", 12);
	CHECK(salen == alen && memcmp(sa, "shared area", 12) == 0,
	    "area shared between mappings");
	for (unsigned i = 0; i < 6; i++)
		CHECK((uintptr_t)raw_ring(&p, i) % KRQ_LINE == 0,
		    "ring %u aligned", i);
	/* Sealed: the client can neither shrink nor grow the region. */
	CHECK(ftruncate(p.memfd, 4096) != 0 && errno == EPERM,
	    "shrink refused (seal)");
	CHECK(ftruncate(p.memfd, (off_t)p.rawlen * 2) != 0 && errno == EPERM,
	    "grow refused (seal)");
	/* A region with another version or a broken geometry is refused. */
	struct krq *q2;
	struct krq_hdr *wh = p.raw;
	wh->version = 99;
	CHECK(krq_map(p.memfd, &q2) == EPROTO, "other version: EPROTO");
	wh->version = KRQ_VERSION;
	wh->nslots = 17;
	CHECK(krq_map(p.memfd, &q2) == EINVAL, "nslots not 2^n: EINVAL");
	wh->nslots = 16;
	wh->area_len += KRQ_PAGE;
	CHECK(krq_map(p.memfd, &q2) == EINVAL, "area beyond the file: EINVAL");
	wh->area_len -= KRQ_PAGE;
	CHECK(krq_map(p.memfd, &q2) == 0, "repaired header maps");
	krq_unmap(q2);
	struct krq_server_cfg bad = cfg;
	bad.nslots = 12;
	struct krq_sclient *s;
	int fd;
	CHECK(krq_sclient_create(&bad, &s, &fd) == EINVAL, "create: bad nslots");
	bad = cfg;
	bad.slot_size = 100;
	CHECK(krq_sclient_create(&bad, &s, &fd) == EINVAL, "create: bad slot");
	bad = cfg;
	bad.nrings = 0;
	CHECK(krq_sclient_create(&bad, &s, &fd) == EINVAL, "create: 0 rings");
	pair_free(&p);
	ok("layout: header, alignment, seals, version and geometry checks");
}

static void
test_roundtrips(void)
{
	struct krq_server_cfg cfg = cfg_default(2, 64);
	struct pair p;
	pair_make(&p, &cfg, true);
	int bad = 0;
	for (unsigned i = 0; i < 4000; i++) {
		int e = roundtrip(p.q, i % 2, i, 5000000000LL);
		if (e != 0 && bad++ < 3)
			CHECK(0, "round trip %u: %s", i, strerror(e));
	}
	/* In order, batched: 32 requests, one bell, 32 responses. */
	for (unsigned b = 0; b < 200 && bad == 0; b++) {
		unsigned r = b % 2;
		for (unsigned k = 0; k < 32; k++) {
			char m[32];
			int n = snprintf(m, sizeof(m), "b%u.%u", b, k);
			int e = krq_post(p.q, r, m, (size_t)n);
			if (e != 0) {
				CHECK(0, "batch %u post %u: %s", b, k, strerror(e));
				bad++;
			}
		}
		krq_bell(p.q, r);
		for (unsigned k = 0; k < 32; k++) {
			char m[32], got[64];
			size_t len;
			int n = snprintf(m, sizeof(m), "b%u.%u", b, k);
			int e = krq_take(p.q, r, got, sizeof(got), &len,
			    5000000000LL);
			if (e != 0 || len != (size_t)n || memcmp(m, got, len)) {
				CHECK(0, "batch %u response %u: %s", b, k,
				    e ? strerror(e) : "out of order");
				bad++;
				break;
			}
		}
	}
	CHECK(krq_outstanding(p.q, 0) == 0 && krq_outstanding(p.q, 1) == 0,
	    "nothing outstanding");
	size_t len;
	char buf[8];
	CHECK(krq_take(p.q, 0, buf, sizeof(buf), &len, 1000000) == ENOMSG,
	    "take with nothing outstanding: ENOMSG");
	char big[300] = { 0 };
	CHECK(krq_post(p.q, 0, big, 249) == EMSGSIZE, "post beyond slot: "
	    "EMSGSIZE");
	CHECK(krq_post(p.q, 0, big, 248) == 0, "post of a full slot");
	krq_bell(p.q, 0);
	CHECK(krq_take(p.q, 0, buf, sizeof(buf), &len, 5000000000LL) ==
	    EMSGSIZE && len == 248, "take into a small buffer: EMSGSIZE, len");
	CHECK(krq_take(p.q, 0, big, sizeof(big), &len, 5000000000LL) == 0 &&
	    len == 248, "the response stayed queued");
	/* A malformed request: EBADMSG, counted, the ring goes on. */
	CHECK(krq_post(p.q, 1, "BAD", 3) == 0, "post BAD");
	krq_bell(p.q, 1);
	CHECK(krq_take(p.q, 1, buf, sizeof(buf), &len, 5000000000LL) ==
	    EBADMSG, "malformed request: EBADMSG");
	CHECK(roundtrip(p.q, 1, 1, 5000000000LL) == 0, "ring goes on after it");
	struct krq_sclient_stats st;
	krq_sclient_stats(p.s, &st);
	CHECK(st.rejected == 1 && !st.cut, "one rejected, not cut");
	CHECK(st.requests == 4000 + 200 * 32 + 3, "requests %" PRIu64,
	    st.requests);
	pair_free(&p);
	ok("round trips: 4000 on 2 rings, 200 batches of 32 in order, "
	    "EMSGSIZE both ways, ENOMSG, a malformed request (EBADMSG)");
}

static bool
served_n(void *arg)
{
	void **a = arg;
	struct krq_sclient_stats st;
	krq_sclient_stats(a[0], &st);
	return st.requests >= (uint64_t)(uintptr_t)a[1];
}

static void
test_full(void)
{
	struct krq_server_cfg cfg = cfg_default(1, 16);
	struct pair p;
	pair_make(&p, &cfg, false);
	for (unsigned i = 0; i < 16; i++)
		CHECK(krq_post(p.q, 0, &i, sizeof(i)) == 0, "post %u", i);
	CHECK(krq_post(p.q, 0, "x", 1) == EAGAIN, "17th post: EAGAIN");
	CHECK(krq_reserve(p.q, 0, NULL) == NULL, "reserve on a full ring: NULL");
	size_t len;
	unsigned v;
	CHECK(krq_take(p.q, 0, &v, sizeof(v), &len, 0) == EAGAIN,
	    "take before the server runs: EAGAIN");
	CHECK(krq_take(p.q, 0, &v, sizeof(v), &len, 20000000) == ETIMEDOUT,
	    "take with 20 ms: ETIMEDOUT");
	krq_sclient_start(p.s, serve_echo, NULL);
	krq_bell(p.q, 0);
	for (unsigned i = 0; i < 16; i++)
		CHECK(krq_take(p.q, 0, &v, sizeof(v), &len, 5000000000LL) == 0 &&
		    v == i, "response %u in order", i);
	CHECK(krq_post(p.q, 0, "x", 1) == 0, "post after draining");
	krq_bell(p.q, 0);
	CHECK(krq_take(p.q, 0, &v, sizeof(v), &len, 5000000000LL) == 0,
	    "and its response");

	/* A response ring the client does not drain: the server serves
	 * what fits, then costs nothing and destroy is prompt. */
	for (unsigned i = 0; i < 16; i++)
		krq_post(p.q, 0, &i, sizeof(i));
	krq_bell(p.q, 0);
	void *a[2] = { p.s, (void *)(uintptr_t)(17 + 16) };
	CHECK(wait_until(served_n, a, 5000), "server served the batch");
	CHECK(krq_post(p.q, 0, "x", 1) == EAGAIN, "undrained: post EAGAIN");
	struct krq_sclient_stats s0, s1;
	krq_sclient_stats(p.s, &s0);
	struct timespec ts = { 0, 300000000 };
	nanosleep(&ts, NULL);
	krq_sclient_stats(p.s, &s1);
	uint64_t cpu = s1.cpu_ns - s0.cpu_ns;
	CHECK(cpu < 30000000, "idle server used %" PRIu64 " ns CPU in 300 ms",
	    cpu);
	uint64_t t0 = now_ns();
	krq_sclient_destroy(p.s);
	uint64_t dt = now_ns() - t0;
	CHECK(dt < 200000000, "destroy took %" PRIu64 " ns", dt);
	char why[200];
	CHECK(krq_status(p.q, why, sizeof(why)) == EPIPE &&
	    strstr(why, "closed") != NULL, "client sees closed: %s", why);
	CHECK(krq_take(p.q, 0, &v, sizeof(v), &len, 1000000000) == 0,
	    "responses already there can still be taken");
	CHECK(krq_post(p.q, 0, "x", 1) == EPIPE, "post after close: EPIPE");
	p.s = NULL;
	pair_free(&p);
	ok("full rings: EAGAIN at 16, ETIMEDOUT, undrained responses: "
	    "%" PRIu64 " us CPU in 300 ms, destroy in %" PRIu64 " us, EPIPE",
	    cpu / 1000, dt / 1000);
}

static void
test_sleep_wake(void)
{
	struct krq_server_cfg cfg = cfg_default(2, 64);
	cfg.spin_ns = 0;
	cfg.client_spin_ns = 0;
	struct pair p;
	pair_make(&p, &cfg, true);
	unsigned iters = 6000, bad = 0;
	uint64_t t0 = now_ns();
	for (unsigned i = 0; i < iters && bad < 3; i++) {
		int e = roundtrip(p.q, i & 1, i, 5000000000LL);
		if (e != 0) {
			CHECK(0, "spin 0 round trip %u: %s", i, strerror(e));
			bad++;
		}
	}
	/* Batches of 1..32 with no spin on either side. */
	unsigned seed = 12345;
	for (unsigned b = 0; b < 1000 && bad < 3; b++) {
		seed = seed * 1103515245 + 12345;
		unsigned n = 1 + (seed >> 16) % 32;
		for (unsigned k = 0; k < n; k++)
			krq_post(p.q, 0, &k, sizeof(k));
		krq_bell(p.q, 0);
		for (unsigned k = 0; k < n; k++) {
			unsigned v;
			size_t len;
			int e = krq_take(p.q, 0, &v, sizeof(v), &len,
			    5000000000LL);
			if (e != 0 || v != k) {
				CHECK(0, "spin 0 batch %u item %u: %s", b, k,
				    e ? strerror(e) : "wrong order");
				bad++;
				break;
			}
		}
	}
	uint64_t dt = now_ns() - t0;
	struct krq_sclient_stats st;
	krq_sclient_stats(p.s, &st);
	CHECK(st.sleeps > iters / 2, "the server slept (%" PRIu64 " sleeps)",
	    st.sleeps);
	pair_free(&p);
	ok("spin 0: %u round trips and 1000 batches, no lost wake-up, "
	    "%" PRIu64 " server sleeps, %.1f us per round trip", iters,
	    st.sleeps, (double)dt / 1000 / (iters + 1000));
}

static void
test_fork(void)
{
	struct krq_server_cfg cfg = cfg_default(2, 32);
	struct pair p;
	pair_make(&p, &cfg, false);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		/* The child maps the inherited memfd: its own mapping. */
		struct krq *q;
		if (krq_map(p.memfd, &q) != 0)
			_exit(10);
		for (unsigned i = 0; i < 2000; i++)
			if (roundtrip(q, i % 2, i, 5000000000LL) != 0)
				_exit(11);
		for (unsigned k = 0; k < 32; k++)
			if (krq_post(q, 1, &k, sizeof(k)) != 0)
				_exit(12);
		krq_bell(q, 1);
		for (unsigned k = 0; k < 32; k++) {
			unsigned v;
			size_t len;
			if (krq_take(q, 1, &v, sizeof(v), &len, 5000000000LL)
			    != 0 || v != k)
				_exit(13);
		}
		krq_unmap(q);
		_exit(0);
	}
	krq_sclient_start(p.s, serve_echo, NULL);
	int status;
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "forked client: status %#x", status);
	struct krq_sclient_stats st;
	krq_sclient_stats(p.s, &st);
	CHECK(st.requests == 2032, "served %" PRIu64, st.requests);
	pair_free(&p);
	ok("a forked child process as the client: 2000 round trips and a "
	    "batch of 32 over its own mapping");
}

/* ---- hostile clients ---- */

/* A well-behaved client on its own region, running throughout. */
struct good {
	struct pair p;
	pthread_t th;
	int stop;
	unsigned done, errors;
	char err[128];
};

static void *
good_main(void *arg)
{
	struct good *g = arg;
	for (unsigned i = 0; !__atomic_load_n(&g->stop, __ATOMIC_ACQUIRE); i++) {
		int e = roundtrip(g->p.q, i % 2, i, 5000000000LL);
		if (e != 0) {
			snprintf(g->err, sizeof(g->err), "round trip %u: %s", i,
			    strerror(e));
			g->errors++;
			break;
		}
		__atomic_store_n(&g->done, i + 1, __ATOMIC_RELEASE);
		if (i % 64 == 0)
			sched_yield();
	}
	return NULL;
}

static bool
is_cut(void *arg)
{
	return krq_sclient_cut(arg);
}

static bool
last_log_has(const char *s)
{
	pthread_mutex_lock(&log_lock);
	bool r = strstr(last_log, s) != NULL;
	pthread_mutex_unlock(&log_lock);
	return r;
}

/* Expect p cut off with a reason containing want. */
static void
expect_cut(struct pair *p, const char *what, const char *want)
{
	CHECK(wait_until(is_cut, p->s, 5000), "%s: not cut off", what);
	struct krq_sclient_stats st;
	krq_sclient_stats(p->s, &st);
	CHECK(strstr(st.reason, want) != NULL, "%s: reason \"%s\" lacks \"%s\"",
	    what, st.reason, want);
	CHECK(last_log_has(want), "%s: not logged (last: %s)", what, last_log);
	char why[256];
	CHECK(krq_status(p->q, why, sizeof(why)) == EPIPE &&
	    strstr(why, want) != NULL, "%s: client sees %s", what, why);
	ok("hostile: %s: cut off: %s", what, st.reason);
}

/* Tag slot idx of ring pair r's request ring as published. */
static void
raw_tag(struct pair *p, unsigned ring, uint32_t idx)
{
	__atomic_store_n(&raw_slot(p, 2 * ring, idx)->flags, KRQ_SLOT_TAG(idx),
	    __ATOMIC_RELEASE);
}

static void
raw_publish(struct pair *p, unsigned ring, uint32_t head)
{
	struct krq_ring_ctl *c = raw_ring(p, 2 * ring);
	__atomic_store_n(&c->head, head, __ATOMIC_RELEASE);
	krq_bell_ring(c);
}

static void
test_hostile_indices(void)
{
	struct krq_server_cfg cfg = cfg_default(2, 16);
	struct pair p;

	/* A request head far ahead of the tail. */
	pair_make(&p, &cfg, true);
	CHECK(roundtrip(p.q, 0, 0, 5000000000LL) == 0, "legit first");
	raw_publish(&p, 0, 0x80000000u);
	expect_cut(&p, "request head huge", "request head");
	CHECK(krq_post(p.q, 1, "x", 1) == EPIPE, "post after the cut: EPIPE");
	pair_free(&p);

	/* A request head moved backwards. */
	pair_make(&p, &cfg, true);
	for (unsigned i = 0; i < 5; i++)
		roundtrip(p.q, 1, i, 5000000000LL);
	raw_publish(&p, 1, 3);
	expect_cut(&p, "request head backwards", "request head");
	pair_free(&p);

	/* A response tail moved backwards, then one past the head. */
	for (int past = 0; past < 2; past++) {
		pair_make(&p, &cfg, true);
		for (unsigned i = 0; i < 4; i++)
			roundtrip(p.q, 0, i, 5000000000LL);
		/* Seen when KRANK next needs room or goes idle. */
		struct krq_ring_ctl *rc = raw_ring(&p, 1);
		__atomic_store_n(&rc->tail, past ? 9u : (uint32_t)-8,
		    __ATOMIC_RELEASE);
		expect_cut(&p, past ? "response tail past the head" :
		    "response tail backwards", "response tail");
		pair_free(&p);
	}
}

static void
test_hostile_lengths(void)
{
	struct krq_server_cfg cfg = cfg_default(1, 16);
	struct pair p;
	pair_make(&p, &cfg, true);
	uint32_t head = 0;
	size_t len;
	char b[16];
	unsigned rejected = 0;
	/* Lengths beyond the slot: rejected one by one (EBADMSG for the
	 * library, which counts its own head), until the 16th cuts. */
	for (unsigned i = 0; i < 16; i++) {
		struct krq_slot *s = raw_slot(&p, 0, head);
		s->len = i % 2 ? 0xffffffffu : 249;
		raw_tag(&p, 0, head);
		raw_publish(&p, 0, ++head);
		struct krq_ring_ctl *rs = raw_ring(&p, 1);
		uint64_t end = now_ns() + 5000000000ULL;
		while (__atomic_load_n(&rs->head, __ATOMIC_ACQUIRE) != head &&
		    now_ns() < end)
			krq_cpu_relax();
		struct krq_slot *r = raw_slot(&p, 1, head - 1);
		if (r->len == 0 && (r->flags & KRQ_SLOT_REJECTED))
			rejected++;
		__atomic_store_n(&rs->tail, head, __ATOMIC_RELEASE);
	}
	(void)len;
	(void)b;
	CHECK(rejected == 16, "%u of 16 rejected with an empty response",
	    rejected);
	expect_cut(&p, "16 lengths beyond the slot", "malformed requests");
	pair_free(&p);
}

/* The serve function of the rewrite test: its request must be KRANK's
 * private copy, and it must not change while it is served. */
struct rewrite {
	struct pair *p;
	int stop;
	unsigned served, unstable, shared;
};
static struct rewrite rw;

static int
serve_check_stable(void *arg, const void *req, size_t len, void *resp,
    size_t cap, size_t *resplenp)
{
	(void)arg;
	const char *r = req;
	void *base;
	size_t blen;
	krq_sclient_region(rw.p->s, &base, &blen);
	if (r >= (const char *)base && r < (const char *)base + blen)
		rw.shared++;
	unsigned char first[256];
	size_t n = len < sizeof(first) ? len : sizeof(first);
	memcpy(first, req, n);
	for (int i = 0; i < 2000; i++)
		krq_cpu_relax();
	if (memcmp(first, req, n) != 0)
		rw.unstable++;
	rw.served++;
	*resplenp = 0;
	(void)resp;
	(void)cap;
	return 0;
}

static void *
rewriter_main(void *arg)
{
	struct pair *p = arg;
	const struct krq_hdr *h = p->raw;
	uint32_t lens[] = { 8, 248, 100, 0 };
	for (unsigned k = 0; !__atomic_load_n(&rw.stop, __ATOMIC_ACQUIRE); k++) {
		for (uint32_t i = 0; i < h->nslots; i++) {
			struct krq_slot *s = raw_slot(p, 0, i);
			__atomic_store_n(&s->len, lens[k % 4], __ATOMIC_RELAXED);
			memset(s->data, (int)k, 248);
		}
	}
	return NULL;
}

static void
test_hostile_rewrite(void)
{
	struct krq_server_cfg cfg = cfg_default(1, 16);
	struct pair p;
	pair_make(&p, &cfg, false);
	memset(&rw, 0, sizeof(rw));
	rw.p = &p;
	krq_sclient_start(p.s, serve_check_stable, NULL);
	pthread_t th;
	pthread_create(&th, NULL, rewriter_main, &p);
	/* The slots change under KRANK all the time; post 2000 requests
	 * (lengths within the slot, so none is malformed). */
	struct krq_ring_ctl *rs = raw_ring(&p, 1);
	uint32_t head = 0;
	for (unsigned i = 0; i < 2000; i++) {
		raw_tag(&p, 0, head);
		raw_publish(&p, 0, ++head);
		uint64_t end = now_ns() + 5000000000ULL;
		while (__atomic_load_n(&rs->head, __ATOMIC_ACQUIRE) != head &&
		    now_ns() < end)
			krq_cpu_relax();
		__atomic_store_n(&rs->tail, head, __ATOMIC_RELEASE);
	}
	__atomic_store_n(&rw.stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	CHECK(rw.served == 2000, "served %u of 2000", rw.served);
	CHECK(rw.shared == 0, "%u requests were served from shared memory",
	    rw.shared);
	CHECK(rw.unstable == 0, "%u requests changed while served",
	    rw.unstable);
	CHECK(!krq_sclient_cut(p.s), "not cut (all lengths were valid)");
	pair_free(&p);
	ok("hostile: slots rewritten during 2000 requests: each served from "
	    "a private copy that never changed");
}

static uint64_t
cpu_window(struct krq_sclient *s, unsigned ms)
{
	struct krq_sclient_stats a, b;
	krq_sclient_stats(s, &a);
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };
	nanosleep(&ts, NULL);
	krq_sclient_stats(s, &b);
	return b.cpu_ns - a.cpu_ns;
}

static void
test_hostile_stall(void)
{
	struct krq_server_cfg cfg = cfg_default(1, 16);
	struct pair p;
	pair_make(&p, &cfg, true);
	/* 32 requests while never taking a response: 16 fill the response
	 * ring, the other 16 wait (the request index stays valid). */
	uint32_t head = 0;
	for (; head < 16; head++) {
		raw_slot(&p, 0, head)->len = 4;
		raw_tag(&p, 0, head);
	}
	raw_publish(&p, 0, head);
	void *a[2] = { p.s, (void *)(uintptr_t)16 };
	CHECK(wait_until(served_n, a, 5000), "first 16 served");
	for (; head < 32; head++) {
		raw_slot(&p, 0, head)->len = 4;
		raw_tag(&p, 0, head);
	}
	raw_publish(&p, 0, head);
	struct timespec ts = { 0, 50000000 };
	nanosleep(&ts, NULL);
	uint64_t cpu = cpu_window(p.s, 300);
	struct krq_sclient_stats st;
	krq_sclient_stats(p.s, &st);
	CHECK(cpu < 30000000, "stalled server used %" PRIu64 " ns CPU in "
	    "300 ms", cpu);
	CHECK(st.full_waits > 0 && st.requests == 16, "waits for room "
	    "(%" PRIu64 " waits, %" PRIu64 " served)", st.full_waits,
	    st.requests);
	uint64_t t0 = now_ns();
	krq_sclient_destroy(p.s);
	uint64_t dt = now_ns() - t0;
	CHECK(dt < 200000000, "destroy took %" PRIu64 " ns", dt);
	p.s = NULL;
	pair_free(&p);
	ok("hostile: never takes responses: server blocked, %" PRIu64 " us "
	    "CPU in 300 ms, destroy in %" PRIu64 " us", cpu / 1000, dt / 1000);
}

static void *
bell_toggler(void *arg)
{
	struct pair *p = arg;
	struct krq_ring_ctl *c = raw_ring(p, 0);
	while (!__atomic_load_n(&rw.stop, __ATOMIC_ACQUIRE)) {
		__atomic_store_n(&c->bell, KRQ_BELL_AWAKE, __ATOMIC_RELAXED);
		syscall(SYS_futex, &c->bell, FUTEX_WAKE, INT32_MAX, NULL,
		    NULL, 0);
	}
	return NULL;
}

static void
test_hostile_bell(void)
{
	struct krq_server_cfg cfg = cfg_default(1, 16);
	struct pair p;
	pair_make(&p, &cfg, true);
	memset(&rw, 0, sizeof(rw));
	pthread_t th;
	pthread_create(&th, NULL, bell_toggler, &p);
	struct timespec ts = { 0, 50000000 };
	nanosleep(&ts, NULL);
	uint64_t cpu = cpu_window(p.s, 300);
	__atomic_store_n(&rw.stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	struct krq_sclient_stats st;
	krq_sclient_stats(p.s, &st);
	CHECK(cpu < 60000000, "bell toggling cost the server %" PRIu64
	    " ns CPU in 300 ms", cpu);
	CHECK(roundtrip(p.q, 0, 1, 5000000000LL) == 0, "still serves after");
	pair_free(&p);
	ok("hostile: bell toggled and woken nonstop: %" PRIu64 " us server "
	    "CPU in 300 ms (%" PRIu64 " spurious wake-ups)", cpu / 1000,
	    st.spurious);
}

int
main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		for (int k = 0; k < CPU_SETSIZE && ncores < 2; k++)
			if (CPU_ISSET(k, &set))
				cores[ncores++] = k;

	test_layout();
	test_spin_policy();
	test_spin_cpus();
	test_fork();
	test_roundtrips();
	test_full();
	test_sleep_wake();

	/* The hostile clients, with a well-behaved one beside them. */
	struct good g;
	memset(&g, 0, sizeof(g));
	struct krq_server_cfg cfg = cfg_default(2, 32);
	pair_make(&g.p, &cfg, true);
	pthread_create(&g.th, NULL, good_main, &g);
	test_hostile_indices();
	test_hostile_lengths();
	test_hostile_rewrite();
	test_hostile_stall();
	test_hostile_bell();
	unsigned before = __atomic_load_n(&g.done, __ATOMIC_ACQUIRE);
	struct timespec ts = { 0, 100000000 };
	nanosleep(&ts, NULL);
	__atomic_store_n(&g.stop, 1, __ATOMIC_RELEASE);
	pthread_join(g.th, NULL);
	CHECK(g.errors == 0, "the good client failed: %s", g.err);
	CHECK(g.done > before && g.done > 1000, "the good client stalled "
	    "(%u round trips)", g.done);
	CHECK(!krq_sclient_cut(g.p.s), "the good client was cut off");
	pair_free(&g.p);
	ok("a well-behaved client beside the hostile ones: %u round trips, "
	    "never cut", g.done);

	if (failures) {
		printf("%d failure(s)\n", failures);
		return 1;
	}
	printf("all krq ring checks passed\n");
	return 0;
}
