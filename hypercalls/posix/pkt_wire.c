/*
 * pkt_wire.c - the in-process wire: two ports joined in memory.  A frame
 * sent on one end is copied into a receive buffer of the other end and
 * either queued there (for hyp_pkt_recv or the port's receive thread) or,
 * when the receiver asked for direct delivery, handed to its callback
 * right away in the sender's thread: no queue, no thread hand-off.
 * Frames whose transport checksum the sender left undone
 * (HYP_PKT_TX_CSUM) keep it undone for receivers that accept that, and
 * get it completed for the others.  Optional impairments (loss, dup,
 * reorder in percent, and a seed) make it a lossy link for protocol tests;
 * they are reproducible for a given seed and sequence of sends.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "hyp_pkt_int.h"

#define WIRE_QLEN 1024			/* frames queued per end */
#define WIRE_NAMELEN 64

struct wire;

struct wire_end {
	struct wire *wire;
	struct hyp_pkt *port;		/* NULL when this end is closed */
	/* Receive side of this end, all under mtx: a ring of queued frames,
	 * and the direct receiver (rxfn) with the senders inside it. */
	pthread_mutex_t mtx;
	pthread_cond_t cv;		/* queue waiters; a stop waiting for
					 * inflight to reach 0 */
	int waiters;
	struct pktbuf *q[WIRE_QLEN];
	size_t lens[WIRE_QLEN];
	unsigned char qflags[WIRE_QLEN];	/* HYP_PKT_FRAME_* */
	unsigned head, count;
	hyp_pkt_rx_fn rxfn;		/* direct delivery, or NULL */
	void *rxarg;
	unsigned rxflags;		/* HYP_PKT_RX_* of the receiver */
	int inflight;			/* senders inside rxfn */
	/* Impairments of frames this end sends; under txmtx. */
	pthread_mutex_t txmtx;
	double loss, dup, reorder;
	uint64_t rng;
	unsigned char *held;		/* a frame kept back to be reordered */
	size_t heldlen;
	struct hyp_pkt_txmeta heldmeta;
	int heldhasmeta;
};

struct wire {
	char name[WIRE_NAMELEN];
	struct wire_end end[2];
	int nopen;			/* under wires_mtx */
	struct wire *next;
};

/* The registry of wires by name. */
static pthread_mutex_t wires_mtx = PTHREAD_MUTEX_INITIALIZER;
static struct wire *wires;

/* splitmix64: small, seedable, good enough to pick frames to impair. */
static double
wire_rand(struct wire_end *e)
{
	uint64_t z = (e->rng += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	return (double)(z >> 11) / (double)(1ULL << 53);
}

static int
wire_open(struct hyp_pkt *p, const char *name, struct pkt_opts *o)
{
	struct wire *w;
	int side;

	if (strlen(name) >= WIRE_NAMELEN)
		return NB_EINVAL;
	pthread_mutex_lock(&wires_mtx);
	for (w = wires; w != NULL; w = w->next)
		if (strcmp(w->name, name) == 0)
			break;
	if (w == NULL) {
		if ((w = calloc(1, sizeof(*w))) == NULL) {
			pthread_mutex_unlock(&wires_mtx);
			return NB_ENOMEM;
		}
		strcpy(w->name, name);
		for (int i = 0; i < 2; i++) {
			w->end[i].wire = w;
			pthread_mutex_init(&w->end[i].mtx, NULL);
			pthread_cond_init(&w->end[i].cv, NULL);
			pthread_mutex_init(&w->end[i].txmtx, NULL);
		}
		w->next = wires;
		wires = w;
	}
	if (w->end[0].port == NULL)
		side = 0;
	else if (w->end[1].port == NULL)
		side = 1;
	else {
		pthread_mutex_unlock(&wires_mtx);
		return NB_EBUSY;
	}
	struct wire_end *e = &w->end[side];
	pthread_mutex_lock(&e->txmtx);
	e->loss = o->loss;
	e->dup = o->dup;
	e->reorder = o->reorder;
	e->rng = o->seed ? o->seed : 0x6b72616e6bULL + (uint64_t)side;
	pthread_mutex_unlock(&e->txmtx);
	pthread_mutex_lock(&e->mtx);
	e->port = p;
	e->head = e->count = 0;
	e->rxfn = NULL;
	e->rxarg = NULL;
	e->rxflags = 0;
	pthread_mutex_unlock(&e->mtx);
	w->nopen++;
	pthread_mutex_unlock(&wires_mtx);
	p->priv = e;
	p->info.mtu = o->mtu ? o->mtu : 1500;
	p->info.caps = HYP_PKT_CAP_DIRECT | HYP_PKT_CAP_CSUM;
	return 0;
}

static void
wire_close(struct hyp_pkt *p)
{
	struct wire_end *e = p->priv;
	struct wire *w = e->wire;

	pthread_mutex_lock(&wires_mtx);
	/* Drop what is queued for us and stop the peer delivering to us. */
	pthread_mutex_lock(&e->mtx);
	while (e->count > 0) {
		pkt_buf_put(p, e->q[e->head]);
		e->head = (e->head + 1) % WIRE_QLEN;
		e->count--;
	}
	e->port = NULL;
	pthread_mutex_unlock(&e->mtx);
	pthread_mutex_lock(&e->txmtx);
	free(e->held);
	e->held = NULL;
	pthread_mutex_unlock(&e->txmtx);
	if (--w->nopen == 0) {
		struct wire **wp;
		for (wp = &wires; *wp != w; wp = &(*wp)->next)
			;
		*wp = w->next;
		for (int i = 0; i < 2; i++) {
			pthread_mutex_destroy(&w->end[i].mtx);
			pthread_cond_destroy(&w->end[i].cv);
			pthread_mutex_destroy(&w->end[i].txmtx);
		}
		free(w);
	}
	pthread_mutex_unlock(&wires_mtx);
}

/* Gather a frame into b; complete a left-over checksum unless the
 * receiver takes the frame as it is (csum_ok). */
static void
wire_copy(struct pktbuf *b, const struct iovec *iov, int iovcnt, size_t len,
    const struct hyp_pkt_txmeta *meta, int csum_ok)
{
	size_t off = 0;
	for (int i = 0; i < iovcnt; i++) {
		memcpy(b->data + off, iov[i].iov_base, iov[i].iov_len);
		off += iov[i].iov_len;
	}
	if (meta != NULL && !csum_ok)
		pkt_csum_complete(b->data, len, meta);
}

/*
 * Copy one frame into a buffer of the receiving end and queue it, or hand
 * it to the receiver's direct callback (outside to->mtx: the callback may
 * be running in other senders too, and inflight keeps a stop from
 * returning under it).
 */
static void
wire_deliver(struct wire_end *to, const struct iovec *iov, int iovcnt,
    size_t len, const struct hyp_pkt_txmeta *meta)
{
	pthread_mutex_lock(&to->mtx);
	struct hyp_pkt *rp = to->port;
	if (rp == NULL) {
		pthread_mutex_unlock(&to->mtx);
		return;			/* nobody on the other end: lost */
	}
	if (len > rp->info.mtu + HYP_PKT_HDRLEN + 4) {
		/* The ends may have different MTUs: too big for this one. */
		atomic_fetch_add(&rp->rx_bad, 1);
		pthread_mutex_unlock(&to->mtx);
		return;
	}
	int csum_ok = meta != NULL && (to->rxflags & HYP_PKT_RX_CSUM);
	if (to->rxfn != NULL) {
		hyp_pkt_rx_fn fn = to->rxfn;
		void *arg = to->rxarg;
		to->inflight++;
		pthread_mutex_unlock(&to->mtx);
		struct pktbuf *b = pkt_buf_get(rp);
		if (b != NULL) {
			struct hyp_pkt_frame f;
			wire_copy(b, iov, iovcnt, len, meta, csum_ok);
			pkt_frame_set(rp, &f, b, len);
			f.flags = csum_ok ? HYP_PKT_FRAME_CSUM_OK : 0;
			fn(arg, &f, 1);
		}
		pthread_mutex_lock(&to->mtx);
		if (--to->inflight == 0 && to->waiters > 0)
			pthread_cond_broadcast(&to->cv);
		pthread_mutex_unlock(&to->mtx);
		return;
	}
	if (to->count == WIRE_QLEN) {
		atomic_fetch_add(&rp->rx_nobuf, 1);
		pthread_mutex_unlock(&to->mtx);
		return;
	}
	struct pktbuf *b = pkt_buf_get(rp);
	if (b == NULL) {
		pthread_mutex_unlock(&to->mtx);
		return;
	}
	wire_copy(b, iov, iovcnt, len, meta, csum_ok);
	unsigned tail = (to->head + to->count) % WIRE_QLEN;
	to->q[tail] = b;
	to->lens[tail] = len;
	to->qflags[tail] = csum_ok ? HYP_PKT_FRAME_CSUM_OK : 0;
	to->count++;
	if (to->waiters)
		pthread_cond_signal(&to->cv);
	pthread_mutex_unlock(&to->mtx);
}

static int
wire_send_meta(struct hyp_pkt *p, const struct iovec *iov, int iovcnt,
    size_t len, const struct hyp_pkt_txmeta *meta)
{
	struct wire_end *e = p->priv;
	struct wire_end *to = &e->wire->end[e == &e->wire->end[0] ? 1 : 0];
	int copies = 1;
	unsigned char *held = NULL;
	size_t heldlen = 0;
	struct hyp_pkt_txmeta heldmeta;
	int heldhasmeta = 0;

	if (e->loss == 0 && e->dup == 0 && e->reorder == 0) {
		wire_deliver(to, iov, iovcnt, len, meta);
		return 0;
	}
	pthread_mutex_lock(&e->txmtx);
	if (e->loss > 0 && wire_rand(e) < e->loss)
		copies = 0;
	else if (e->dup > 0 && wire_rand(e) < e->dup)
		copies = 2;
	if (copies > 0 && e->held == NULL && e->reorder > 0 &&
	    wire_rand(e) < e->reorder) {
		/* Keep this one back; it goes out after the next frame. */
		if ((e->held = malloc(len)) != NULL) {
			size_t off = 0;
			for (int i = 0; i < iovcnt; i++) {
				memcpy(e->held + off, iov[i].iov_base, iov[i].iov_len);
				off += iov[i].iov_len;
			}
			e->heldlen = len;
			e->heldhasmeta = meta != NULL;
			if (meta != NULL)
				e->heldmeta = *meta;
			copies--;
		}
	} else if (e->held != NULL) {
		held = e->held;
		heldlen = e->heldlen;
		heldhasmeta = e->heldhasmeta;
		heldmeta = e->heldmeta;
		e->held = NULL;
	}
	/* Deliver under txmtx so the impaired order is the delivered one
	 * (a direct receiver only queues, see hyp_pkt_set_rx_flags). */
	for (int i = 0; i < copies; i++)
		wire_deliver(to, iov, iovcnt, len, meta);
	if (held != NULL) {
		struct iovec hv = { held, heldlen };
		wire_deliver(to, &hv, 1, heldlen, heldhasmeta ? &heldmeta : NULL);
		free(held);
	}
	pthread_mutex_unlock(&e->txmtx);
	return 0;
}

static int
wire_send(struct hyp_pkt *p, const struct iovec *iov, int iovcnt, size_t len)
{
	return wire_send_meta(p, iov, iovcnt, len, NULL);
}

/*
 * The receiver of this end changes.  Direct: later frames go to fn in the
 * senders' threads, and frames queued before are handed over now.
 * Stopping waits until no sender is inside the old callback.
 */
static int
wire_set_rx(struct hyp_pkt *p, hyp_pkt_rx_fn fn, void *arg, unsigned flags)
{
	struct wire_end *e = p->priv;
	struct hyp_pkt_frame f[64];
	unsigned n;

	pthread_mutex_lock(&e->mtx);
	if (fn == NULL) {
		e->rxfn = NULL;
		e->rxarg = NULL;
		e->rxflags = 0;
		while (e->inflight > 0) {
			e->waiters++;
			pthread_cond_wait(&e->cv, &e->mtx);
			e->waiters--;
		}
		pthread_mutex_unlock(&e->mtx);
		return 0;
	}
	e->rxflags = flags;
	if (!(flags & HYP_PKT_RX_DIRECT)) {
		pthread_mutex_unlock(&e->mtx);
		return 0;
	}
	e->rxfn = fn;
	e->rxarg = arg;
	e->inflight++;
	do {
		for (n = 0; n < 64 && e->count > 0; n++) {
			pkt_frame_set(p, &f[n], e->q[e->head], e->lens[e->head]);
			f[n].flags = e->qflags[e->head];
			e->head = (e->head + 1) % WIRE_QLEN;
			e->count--;
		}
		pthread_mutex_unlock(&e->mtx);
		if (n > 0)
			fn(arg, f, n);
		pthread_mutex_lock(&e->mtx);
	} while (n > 0);
	if (--e->inflight == 0 && e->waiters > 0)
		pthread_cond_broadcast(&e->cv);
	pthread_mutex_unlock(&e->mtx);
	return 1;
}

static int
wire_recv(struct hyp_pkt *p, unsigned q, struct hyp_pkt_frame *f,
    unsigned max, unsigned *np)
{
	struct wire_end *e = p->priv;
	unsigned n = 0;

	(void)q;			/* one queue */

	pthread_mutex_lock(&e->mtx);
	while (n < max && e->count > 0) {
		pkt_frame_set(p, &f[n], e->q[e->head], e->lens[e->head]);
		f[n++].flags = e->qflags[e->head];
		e->head = (e->head + 1) % WIRE_QLEN;
		e->count--;
	}
	pthread_mutex_unlock(&e->mtx);
	*np = n;
	return 0;
}

static int
wire_wait(struct hyp_pkt *p, unsigned q, int timeout_ms, int wrap)
{
	(void)q;			/* one queue */
	struct wire_end *e = p->priv;
	struct timespec ts;
	int rv = 0, nlocks = 0;

	pthread_mutex_lock(&e->mtx);
	if (e->count > 0) {
		pthread_mutex_unlock(&e->mtx);
		return 0;
	}
	pthread_mutex_unlock(&e->mtx);
	if (wrap)
		rumpkern_unsched(&nlocks, NULL);
	if (timeout_ms >= 0) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += timeout_ms / 1000;
		ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
	}
	pthread_mutex_lock(&e->mtx);
	e->waiters++;
	while (e->count == 0 && rv == 0) {
		if (timeout_ms < 0)
			pthread_cond_wait(&e->cv, &e->mtx);
		else
			rv = pthread_cond_timedwait(&e->cv, &e->mtx, &ts);
	}
	e->waiters--;
	int ready = e->count > 0;
	pthread_mutex_unlock(&e->mtx);
	if (wrap)
		rumpkern_sched(nlocks, NULL);
	return ready ? 0 : NB_ETIMEDOUT;
}

const struct pkt_backend pkt_wire_backend = {
	.prefix = "wire",
	.open = wire_open,
	.close = wire_close,
	.send = wire_send,
	.recv = wire_recv,
	.wait = wire_wait,
	.send_meta = wire_send_meta,
	.set_rx = wire_set_rx,
};
