/*
 * krq_server.c - KRANK's side of a queue client (krq_server.h): the sealed
 * region, one server thread per ring pair, and the consumer step that
 * treats every byte the client can write as hostile.  KRANK keeps its own
 * copies of the geometry and of the indices it owns (request tail,
 * response head) and only ever reads the request head, the response tail,
 * the bells and the request slots from shared memory, each checked where
 * it is read.  A corrupt index or max_bad malformed requests cut the
 * client off: all its threads stop, the region says why, the log says why.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "krq_bell.h"
#include "krq_server.h"

/* Longest single sleep of a server thread: it re-checks stop and cut at
 * least this often even when nobody wakes it. */
#define SRV_SLEEP_MAX_NS	(100 * 1000000LL)
/* Waiting for the client to take responses: back off from ... to ... */
#define SRV_FULL_MIN_NS		(50 * 1000LL)
#define SRV_FULL_MAX_NS		(10 * 1000000LL)
/* Wake-ups in a row that bring no work (a client toggling our bell)
 * before each further one costs a 1 ms private sleep. */
#define SRV_SPURIOUS_MAX	8
#define SRV_SPURIOUS_NAP_NS	(1000000LL)
#define SRV_STACK		(1u << 20)

/* One ring pair and its thread.  Everything here is private to the
 * thread serving the pair, except the counters (atomic, read by stats). */
struct krq_spair {
	struct krq_sclient *c;
	unsigned idx;
	struct krq_ring_ctl *req, *resp;	/* in the shared mapping */
	uint32_t req_tail;		/* ours: next request to take */
	uint32_t resp_head;		/* ours: next response slot */
	uint32_t resp_tail_seen;	/* last valid client tail */
	uint32_t spurious_run;
	uint32_t unchecked;		/* served since the last head check */
	struct krq_spin spin;		/* adaptive budget (krq_bell.h) */
	unsigned char *buf;		/* private copy of one request */
	pthread_t th;
	bool running;
	uint64_t requests, rejected, sleeps, spurious, full_waits; /* PAIR_INC */
};

struct krq_sclient {
	unsigned id;
	/* Geometry: KRANK's own copy, never re-read from the region. */
	uint32_t nrings, nslots, mask, slot_size, cap;
	uint64_t ring_size, area_off, area_len, region_len;
	void *base;
	int64_t spin_ns;
	unsigned max_bad;
	krq_log_fn *log;
	void *log_arg;
	int *cores;
	unsigned ncores;
	krq_serve_fn *fn;
	void *arg;
	void (*thread_end)(void *arg);
	bool started;
	/* stop (destroy) and cut (abuse) end every pair's loop; stopword is
	 * a private futex word the threads nap on, woken by destroy. */
	int stop;			/* atomic */
	int cut;			/* atomic */
	uint32_t stopword;		/* atomic: 0 running, 1 stopping */
	uint64_t bad;			/* atomic: malformed requests, all rings */
	pthread_mutex_t cut_lock;	/* the first cut's reason wins */
	char reason[192];		/* under cut_lock */
	struct krq_spair pairs[];
};

static unsigned next_id;		/* atomic */
static unsigned next_core;		/* atomic: see krq_sclient_start */

/* A pair's counters have one writer, its thread: a plain add published
 * with a relaxed store (a locked add would be a full barrier on the hot
 * path, waiting for every load before it). */
#define PAIR_INC(x) __atomic_store_n(&(x), (x) + 1, __ATOMIC_RELAXED)

static void
srv_log(struct krq_sclient *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
srv_log(struct krq_sclient *c, const char *fmt, ...)
{
	char line[320];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (c->log != NULL)
		c->log(c->log_arg, line);
	else
		fprintf(stderr, "krank: %s\n", line);
}

static bool
pair_stopped(const struct krq_spair *p)
{
	return __atomic_load_n(&p->c->stop, __ATOMIC_ACQUIRE) ||
	    __atomic_load_n(&p->c->cut, __ATOMIC_ACQUIRE);
}

/* Cut the client off (first reason wins): every pair stops, the region
 * tells the client why, and its sleeping threads are woken. */
static void __attribute__((format(printf, 2, 3)))
pair_cut(struct krq_spair *p, const char *fmt, ...)
{
	struct krq_sclient *c = p->c;
	char why[160];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);

	pthread_mutex_lock(&c->cut_lock);
	bool first = !__atomic_load_n(&c->cut, __ATOMIC_RELAXED);
	if (first) {
		snprintf(c->reason, sizeof(c->reason), "ring %u: %s", p->idx,
		    why);
		struct krq_hdr *h = c->base;
		/* Write-only for KRANK: the reason is copied, never re-read. */
		memcpy(h->reason, c->reason, sizeof(c->reason));
		h->reason[sizeof(h->reason) - 1] = '\0';
		__atomic_store_n(&h->state, KRQ_STATE_CUT, __ATOMIC_RELEASE);
		__atomic_store_n(&c->cut, 1, __ATOMIC_RELEASE);
		__atomic_store_n(&c->stopword, 1, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&c->cut_lock);
	if (!first)
		return;
	srv_log(c, "krq-%u: client cut off: %s", c->id, c->reason);
	krq_futex_wake(&c->stopword, false);
	for (unsigned r = 0; r < c->nrings; r++) {
		__atomic_store_n(&c->pairs[r].resp->bell, KRQ_BELL_AWAKE,
		    __ATOMIC_SEQ_CST);
		krq_futex_wake(&c->pairs[r].resp->bell, true);
		krq_futex_wake(&c->pairs[r].req->bell, true);
	}
}

/* A malformed request: counted; max_bad of them (all rings) cut. */
static void __attribute__((format(printf, 2, 3)))
pair_bad(struct krq_spair *p, const char *fmt, ...)
{
	char why[128];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	PAIR_INC(p->rejected);
	uint64_t n = __atomic_add_fetch(&p->c->bad, 1, __ATOMIC_RELAXED);
	if (n >= p->c->max_bad)
		pair_cut(p, "%llu malformed requests, the last: %s",
		    (unsigned long long)n, why);
}

/*
 * Room in the response ring: the client's tail, checked against what we
 * know (it may only move forward, and never past our head).  -1 and cut
 * on abuse.
 */
static int64_t
pair_resp_room(struct krq_spair *p)
{
	uint32_t t = __atomic_load_n(&p->resp->tail, __ATOMIC_ACQUIRE);
	uint32_t moved = t - p->resp_tail_seen;
	uint32_t out = p->resp_head - p->resp_tail_seen;
	if (moved > out) {
		pair_cut(p, "response tail %u moved %s (was %u, head %u)", t,
		    (int32_t)moved < 0 ? "backwards" : "past the head",
		    p->resp_tail_seen, p->resp_head);
		return -1;
	}
	p->resp_tail_seen = t;
	return (int64_t)p->c->nslots - (p->resp_head - t);
}

/* Serve the request at req_tail into the response slot at resp_head. */
static void
pair_serve_one(struct krq_spair *p, krq_serve_fn *fn, void *arg)
{
	struct krq_sclient *c = p->c;
	struct krq_slot *rq = krq_slot_at(p->req, c->slot_size, p->req_tail,
	    c->mask);
	struct krq_slot *rs = krq_slot_at(p->resp, c->slot_size, p->resp_head,
	    c->mask);
	/* Read the length once; the bytes are copied before anyone looks at
	 * them, so a client rewriting the slot changes nothing KRANK sees. */
	uint32_t len = __atomic_load_n(&rq->len, __ATOMIC_RELAXED);
	size_t rlen = 0;
	uint32_t flags = 0;
	if (len > c->cap) {
		flags = KRQ_SLOT_REJECTED;
		pair_bad(p, "request %u: length %u exceeds the slot's %u bytes",
		    p->req_tail, len, c->cap);
	} else {
		memcpy(p->buf, rq->data, len);
		PAIR_INC(p->requests);
		int e = fn(arg, p->buf, len, rs->data, c->cap, &rlen);
		if (rlen > c->cap) {	/* the serve function's bug */
			srv_log(c, "krq-%u: ring %u: serve function returned "
			    "%zu bytes for a %u-byte slot; response dropped",
			    c->id, p->idx, rlen, c->cap);
			rlen = 0;
			if (e == 0)
				e = EMSGSIZE;
		}
		if (e != 0) {
			flags = KRQ_SLOT_REJECTED;
			pair_bad(p, "request %u: %s", p->req_tail, strerror(e));
		}
	}
	/* Release: the response bytes and len before the tag that publishes
	 * them, the tag before the head; the copy out of the request slot
	 * before the tail that frees it. */
	__atomic_store_n(&rs->len, (uint32_t)rlen, __ATOMIC_RELAXED);
	__atomic_store_n(&rs->flags, KRQ_SLOT_TAG(p->resp_head) | flags,
	    __ATOMIC_RELEASE);
	p->resp_head++;
	p->req_tail++;
	__atomic_store_n(&p->resp->head, p->resp_head, __ATOMIC_RELEASE);
	__atomic_store_n(&p->req->tail, p->req_tail, __ATOMIC_RELEASE);
}

/*
 * The request head: nothing depends on it (slot tags publish messages),
 * so it is checked off the hot path, every nslots messages and before
 * each sleep.  A correct client's head never leads our tail by more than
 * nslots and lags it by at most one message (its tag is stored first).
 * 0, or -1 and the client cut off.
 */
static int
pair_head_check(struct krq_spair *p)
{
	struct krq_sclient *c = p->c;
	p->unchecked = 0;
	uint32_t head = __atomic_load_n(&p->req->head, __ATOMIC_RELAXED);
	uint32_t ahead = head - p->req_tail, behind = p->req_tail - head;
	if (ahead <= c->nslots || behind <= 1)
		return 0;
	if (behind <= c->nslots)
		pair_cut(p, "request head %u moved %u slots behind the tail %u",
		    head, behind, p->req_tail);
	else
		pair_cut(p, "request head %u is %u slots past the tail %u (the "
		    "ring has %u)", head, ahead, p->req_tail, c->nslots);
	return -1;
}

/*
 * One pass: serve the requests whose slot tags say they are published (at
 * most nslots) as far as the response ring has room, ring the response
 * bell once; check the request head every nslots messages.  Returns the
 * number served (*fullp when the response ring stopped us), or -1 when
 * the client was cut off.
 */
static int
pair_pass(struct krq_spair *p, krq_serve_fn *fn, void *arg, bool *fullp)
{
	struct krq_sclient *c = p->c;
	*fullp = false;
	uint32_t done = 0;
	while (done < c->nslots) {
		struct krq_slot *rq = krq_slot_at(p->req, c->slot_size,
		    p->req_tail, c->mask);
		if (!krq_slot_ready(rq, p->req_tail))
			break;
		/* Room by what we last saw of the client's tail; its line is
		 * fetched (and checked) only when that is not enough, so a
		 * client that keeps up costs no transfer of it. */
		if (p->resp_head - p->resp_tail_seen >= c->nslots) {
			int64_t room = pair_resp_room(p);
			if (room < 0)
				return -1;
			if (room == 0) {
				*fullp = true;
				break;
			}
		}
		pair_serve_one(p, fn, arg);
		done++;
		if (pair_stopped(p))
			break;
	}
	if (done > 0)
		krq_bell_ring(p->resp);
	p->unchecked += done;
	if (p->unchecked >= c->nslots && pair_head_check(p) != 0)
		return -1;
	return __atomic_load_n(&c->cut, __ATOMIC_ACQUIRE) ? -1 : (int)done;
}

/* Nap on the private stop word: destroy and cut wake it. */
static void
pair_nap(struct krq_spair *p, int64_t ns)
{
	krq_futex_wait(&p->c->stopword, 0, ns, false);
}

/* Wait for requests: spin up to spin_ns, then announce sleep and futex-wait
 * on the request bell.  Bounded however the client plays with the bell. */
static void
pair_wait(struct krq_spair *p)
{
	struct krq_sclient *c = p->c;
	uint32_t tail = p->req_tail;
	const struct krq_slot *next = krq_slot_at(p->req, c->slot_size, tail,
	    c->mask);

	/* Our CPU beside our bell, the client's from beside its bell (a
	 * hint), looked up after a few turns so that a request already on
	 * its way costs nothing more: no spin when the client last ran
	 * here (it could not post while we spin), and a budget that
	 * shrinks while spins go unanswered (krq_bell.h). */
	uint64_t budget = p->spurious_run != 0 ? 0 : (uint64_t)c->spin_ns;
	if (budget > 0) {
		/* The clock is read every 256 turns only, the first time to
		 * start the budget: a request that comes at once is met with
		 * no clock read (one costs up to 100 ns under a hypervisor). */
		uint64_t end = 0;
		for (unsigned i = 1; budget > 0; i++) {
			if (krq_slot_ready(next, tail)) {
				krq_spin_result(&p->spin, budget,
				    (uint64_t)c->spin_ns, true);
				return;
			}
			if (pair_stopped(p))
				return;
			krq_cpu_relax();
			if (i == KRQ_SPIN_LOOKUP) {
				uint32_t me = krq_my_cpu();
				krq_cpu_publish(p->req, me);
				budget = krq_spin_budget(&p->spin,
				    (uint64_t)c->spin_ns, __atomic_load_n(
				    &p->resp->cpu, __ATOMIC_RELAXED), me);
			}
			if ((i & 255) == 0) {
				uint64_t now = krq_now_ns();
				if (end == 0)
					end = now + budget;
				else if (now >= end) {
					krq_spin_result(&p->spin, budget,
					    (uint64_t)c->spin_ns, false);
					break;
				}
			}
		}
	}
	if (c->spin_ns == 0 || p->spurious_run != 0)
		krq_cpu_publish(p->req, krq_my_cpu());
	/* Before sleeping, check the client's indices (the hot path reads
	 * the response tail only when it needs room, the request head
	 * every nslots messages), so abuse is seen within an idle period. */
	if (pair_resp_room(p) < 0 || pair_head_check(p) != 0)
		return;
	if (p->spurious_run >= SRV_SPURIOUS_MAX) {
		pair_nap(p, SRV_SPURIOUS_NAP_NS);
		if (krq_slot_ready(next, tail))
			return;
	}
	if (!krq_bell_announce(p->req, next, tail))
		return;
	if (pair_stopped(p))
		return;
	PAIR_INC(p->sleeps);
	int e = krq_futex_wait(&p->req->bell, KRQ_BELL_SLEEPING,
	    SRV_SLEEP_MAX_NS, true);
	__atomic_store_n(&p->req->bell, KRQ_BELL_AWAKE, __ATOMIC_RELAXED);
	if (e != ETIMEDOUT && !pair_stopped(p) && !krq_slot_ready(next, tail)) {
		PAIR_INC(p->spurious);
		p->spurious_run++;
	}
}

static void *
pair_main(void *arg)
{
	struct krq_spair *p = arg;
	struct krq_sclient *c = p->c;
	int64_t full_ns = SRV_FULL_MIN_NS;

	while (!pair_stopped(p)) {
		bool full;
		int n = pair_pass(p, c->fn, c->arg, &full);
		if (n < 0)
			break;
		if (n > 0)
			p->spurious_run = 0;
		if (full) {
			/* The client does not take its responses: nap with
			 * back-off; it is its own latency it loses. */
			PAIR_INC(p->full_waits);
			pair_nap(p, full_ns);
			if (full_ns < SRV_FULL_MAX_NS)
				full_ns *= 2;
			continue;
		}
		full_ns = SRV_FULL_MIN_NS;
		if (n == 0)
			pair_wait(p);
	}
	if (c->thread_end != NULL)
		c->thread_end(c->arg);
	return NULL;
}

/* ---- creation and teardown ---- */

static int
cfg_check(const struct krq_server_cfg *cfg, uint32_t *nslotsp,
    uint32_t *slot_sizep, uint64_t *area_lenp)
{
	uint32_t nslots = cfg->nslots ? cfg->nslots : KRQ_DEFAULT_SLOTS;
	uint32_t ss = cfg->slot_size ? cfg->slot_size : KRQ_DEFAULT_SLOT_SIZE;
	if (cfg->nrings < 1 || cfg->nrings > KRQ_MAX_RINGS ||
	    nslots < KRQ_MIN_SLOTS || nslots > KRQ_MAX_SLOTS ||
	    (nslots & (nslots - 1)) != 0 || ss < KRQ_MIN_SLOT_SIZE ||
	    ss > KRQ_MAX_SLOT_SIZE || ss % KRQ_LINE != 0 ||
	    cfg->area_len > KRQ_MAX_AREA)
		return EINVAL;
	*nslotsp = nslots;
	*slot_sizep = ss;
	*area_lenp = ((uint64_t)cfg->area_len + KRQ_PAGE - 1) &
	    ~(uint64_t)(KRQ_PAGE - 1);
	return 0;
}

int
krq_sclient_create(const struct krq_server_cfg *cfg, struct krq_sclient **cp,
    int *memfdp)
{
	uint32_t nslots, ss;
	uint64_t area_len;
	int e = cfg_check(cfg, &nslots, &ss, &area_len);
	if (e != 0)
		return e;
	struct krq_sclient *c = calloc(1, sizeof(*c) +
	    cfg->nrings * sizeof(c->pairs[0]));
	if (c == NULL)
		return ENOMEM;
	c->id = __atomic_fetch_add(&next_id, 1, __ATOMIC_RELAXED);
	c->nrings = cfg->nrings;
	c->nslots = nslots;
	c->mask = nslots - 1;
	c->slot_size = ss;
	c->cap = ss - KRQ_SLOT_HDR;
	c->ring_size = krq_ring_size(nslots, ss);
	c->area_off = krq_area_off(c->nrings, nslots, ss);
	c->area_len = area_len;
	c->region_len = c->area_off + area_len;
	c->spin_ns = cfg->spin_ns < 0 ? KRQ_DEFAULT_SPIN_NS : cfg->spin_ns;
	c->max_bad = cfg->max_bad ? cfg->max_bad : KRQ_DEFAULT_MAX_BAD;
	c->log = cfg->log;
	c->log_arg = cfg->log_arg;
	c->thread_end = cfg->thread_end;
	pthread_mutex_init(&c->cut_lock, NULL);
	if (cfg->ncores > 0) {
		c->cores = malloc(cfg->ncores * sizeof(int));
		if (c->cores == NULL) {
			e = ENOMEM;
			goto fail;
		}
		memcpy(c->cores, cfg->cores, cfg->ncores * sizeof(int));
		c->ncores = cfg->ncores;
	}
	for (unsigned r = 0; r < c->nrings; r++) {
		if ((c->pairs[r].buf = malloc(c->cap)) == NULL) {
			e = ENOMEM;
			goto fail;
		}
	}

	int fd = memfd_create("krq", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0) {
		e = errno;
		goto fail;
	}
	/* Sealed before anyone else sees the descriptor: a client that
	 * could shrink the file would make KRANK fault (SIGBUS) on its
	 * own mapping. */
	if (ftruncate(fd, (off_t)c->region_len) != 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW |
	    F_SEAL_SEAL) != 0) {
		e = errno;
		close(fd);
		goto fail;
	}
	c->base = mmap(NULL, c->region_len, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_POPULATE, fd, 0);
	if (c->base == MAP_FAILED) {
		e = errno;
		c->base = NULL;
		close(fd);
		goto fail;
	}
	struct krq_hdr *h = c->base;
	h->magic = KRQ_MAGIC;
	h->version = KRQ_VERSION;
	h->hdr_size = sizeof(*h);
	h->nrings = c->nrings;
	h->nslots = nslots;
	h->slot_size = ss;
	h->rings_off = KRQ_PAGE;
	h->ring_size = c->ring_size;
	h->area_off = c->area_off;
	h->area_len = c->area_len;
	h->region_len = c->region_len;
	h->spin_ns = (uint64_t)(cfg->client_spin_ns < 0 ?
	    KRQ_DEFAULT_SPIN_NS : cfg->client_spin_ns);
	h->features = cfg->features;
	h->state = KRQ_STATE_LIVE;
	for (unsigned r = 0; r < c->nrings; r++) {
		struct krq_spair *p = &c->pairs[r];
		p->c = c;
		p->idx = r;
		p->req = krq_ring_ctl_at(c->base, c->ring_size, 2 * r);
		p->resp = krq_ring_ctl_at(c->base, c->ring_size, 2 * r + 1);
	}
	*cp = c;
	*memfdp = fd;
	return 0;
fail:
	for (unsigned r = 0; r < c->nrings; r++)
		free(c->pairs[r].buf);
	free(c->cores);
	pthread_mutex_destroy(&c->cut_lock);
	free(c);
	return e;
}

void
krq_sclient_area(struct krq_sclient *c, void **basep, size_t *lenp)
{
	*basep = c->area_len ? (char *)c->base + c->area_off : NULL;
	*lenp = c->area_len;
}

void
krq_sclient_region(struct krq_sclient *c, void **basep, size_t *lenp)
{
	*basep = c->base;
	*lenp = c->region_len;
}

static void
stop_threads(struct krq_sclient *c)
{
	__atomic_store_n(&c->stop, 1, __ATOMIC_RELEASE);
	__atomic_store_n(&c->stopword, 1, __ATOMIC_RELEASE);
	krq_futex_wake(&c->stopword, false);
	for (unsigned r = 0; r < c->nrings; r++) {
		struct krq_spair *p = &c->pairs[r];
		/* Make a wait that has not begun return at once, and wake
		 * one that has (the client cannot stop either). */
		__atomic_store_n(&p->req->bell, KRQ_BELL_AWAKE,
		    __ATOMIC_SEQ_CST);
		krq_futex_wake(&p->req->bell, true);
	}
	for (unsigned r = 0; r < c->nrings; r++) {
		if (c->pairs[r].running) {
			pthread_join(c->pairs[r].th, NULL);
			c->pairs[r].running = false;
		}
	}
}

int
krq_sclient_start(struct krq_sclient *c, krq_serve_fn *fn, void *arg)
{
	if (c->started || fn == NULL)
		return EINVAL;
	c->fn = fn;
	c->arg = arg;
	c->started = true;
	/* Ring r's thread goes to core r (mod the cores): a client with a
	 * ring per CPU keeps ring and core together.  Clients with fewer
	 * rings than there are cores start where the previous one ended,
	 * or every single-ring client's thread would share the first core
	 * while the others serve nobody. */
	unsigned first = 0;
	if (c->ncores > 0 && c->nrings < c->ncores)
		first = __atomic_fetch_add(&next_core, c->nrings,
		    __ATOMIC_RELAXED) % c->ncores;
	for (unsigned r = 0; r < c->nrings; r++) {
		struct krq_spair *p = &c->pairs[r];
		pthread_attr_t at;
		pthread_attr_init(&at);
		pthread_attr_setstacksize(&at, SRV_STACK);
		int core = -1;
		if (c->ncores > 0) {
			cpu_set_t set;
			core = c->cores[(first + r) % c->ncores];
			if (core < 0 || core >= CPU_SETSIZE) {
				pthread_attr_destroy(&at);
				srv_log(c, "krq-%u: ring %u: core %d out of "
				    "range", c->id, r, core);
				stop_threads(c);
				return EINVAL;
			}
			CPU_ZERO(&set);
			CPU_SET(core, &set);
			pthread_attr_setaffinity_np(&at, sizeof(set), &set);
		}
		int e = pthread_create(&p->th, &at, pair_main, p);
		pthread_attr_destroy(&at);
		if (e != 0) {
			srv_log(c, "krq-%u: ring %u: cannot start a server "
			    "thread (core %d): %s", c->id, r, core,
			    strerror(e));
			stop_threads(c);
			return e;
		}
		p->running = true;
		char name[16];
		snprintf(name, sizeof(name), "krq-%u.%u", c->id % 10000u, r % 100u);
		pthread_setname_np(p->th, name);
	}
	return 0;
}

void
krq_sclient_destroy(struct krq_sclient *c)
{
	if (c == NULL)
		return;
	stop_threads(c);
	struct krq_hdr *h = c->base;
	if (!__atomic_load_n(&c->cut, __ATOMIC_ACQUIRE)) {
		snprintf(h->reason, sizeof(h->reason), "KRANK closed the queue");
		__atomic_store_n(&h->state, KRQ_STATE_CLOSED, __ATOMIC_RELEASE);
	}
	for (unsigned r = 0; r < c->nrings; r++) {
		struct krq_spair *p = &c->pairs[r];
		__atomic_store_n(&p->resp->bell, KRQ_BELL_AWAKE,
		    __ATOMIC_SEQ_CST);
		krq_futex_wake(&p->resp->bell, true);
		free(p->buf);
	}
	munmap(c->base, c->region_len);
	free(c->cores);
	pthread_mutex_destroy(&c->cut_lock);
	free(c);
}

bool
krq_sclient_cut(const struct krq_sclient *c)
{
	return __atomic_load_n(&c->cut, __ATOMIC_ACQUIRE) != 0;
}

void
krq_sclient_stats(struct krq_sclient *c, struct krq_sclient_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->id = c->id;
	for (unsigned r = 0; r < c->nrings; r++) {
		struct krq_spair *p = &c->pairs[r];
		st->requests += __atomic_load_n(&p->requests, __ATOMIC_RELAXED);
		st->rejected += __atomic_load_n(&p->rejected, __ATOMIC_RELAXED);
		st->sleeps += __atomic_load_n(&p->sleeps, __ATOMIC_RELAXED);
		st->spurious += __atomic_load_n(&p->spurious, __ATOMIC_RELAXED);
		st->full_waits += __atomic_load_n(&p->full_waits,
		    __ATOMIC_RELAXED);
		clockid_t cid;
		struct timespec ts;
		if (p->running && pthread_getcpuclockid(p->th, &cid) == 0 &&
		    clock_gettime(cid, &ts) == 0)
			st->cpu_ns += (uint64_t)ts.tv_sec * 1000000000u +
			    (uint64_t)ts.tv_nsec;
	}
	pthread_mutex_lock(&c->cut_lock);
	st->cut = __atomic_load_n(&c->cut, __ATOMIC_ACQUIRE) != 0;
	snprintf(st->reason, sizeof(st->reason), "%s", c->reason);
	pthread_mutex_unlock(&c->cut_lock);
}

int
krq_sclient_poll(struct krq_sclient *c, unsigned r, krq_serve_fn *fn,
    void *arg)
{
	if (r >= c->nrings || c->started)
		return -1;
	if (__atomic_load_n(&c->cut, __ATOMIC_ACQUIRE))
		return -1;
	bool full;
	return pair_pass(&c->pairs[r], fn, arg, &full);
}
