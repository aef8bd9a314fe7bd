/*
 * krank_ring.c - libkrank's calls over the per-CPU rings: the transport
 * of krank_client (post = krq_post + krq_bell, take = krq_take, and
 * for the asynchronous calls the post without the bell, the bell, and a
 * take with a timeout) for one ring pair of a region from krq_attach or
 * krq_map.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include <krank/krank.h>
#include <krank/krq.h>

#include "krq_fixed.h"
#include "krq_layout.h"

struct krank_ring {
	struct krq *q;
	unsigned ring;
};

static int
ring_post(void *arg, const void *msg, size_t len)
{
	struct krank_ring *r = arg;
	int e = krq_post(r->q, r->ring, msg, len);

	if (e == 0)
		krq_bell(r->q, r->ring);
	return e;
}

static int
ring_take(void *arg, void *buf, size_t cap, size_t *lenp)
{
	struct krank_ring *r = arg;

	return krq_take(r->q, r->ring, buf, cap, lenp, -1);
}

/* The asynchronous calls' three: post without a bell, the bell, and a
 * take with a timeout. */
static int
ring_post_quiet(void *arg, const void *msg, size_t len)
{
	struct krank_ring *r = arg;

	return krq_post(r->q, r->ring, msg, len);
}

static void
ring_bell(void *arg)
{
	struct krank_ring *r = arg;

	krq_bell(r->q, r->ring);
}

static int
ring_take_wait(void *arg, void *buf, size_t cap, size_t *lenp,
    int64_t timeout_ns)
{
	struct krank_ring *r = arg;

	return krq_take(r->q, r->ring, buf, cap, lenp, timeout_ns);
}

int
krank_client_ring(struct krq *q, unsigned ring, struct krank_client **cp)
{
	struct krank_transport t = { .post = ring_post, .take = ring_take,
	    .release = free, .post_quiet = ring_post_quiet, .bell = ring_bell,
	    .take_wait = ring_take_wait };
	struct krank_ring *r;
	unsigned n = krq_nrings(q);
	size_t alen;
	int e;

	if (n == 0 || ring >= n)
		return EINVAL;
	if ((r = malloc(sizeof(*r))) == NULL)
		return ENOMEM;
	r->q = q;
	r->ring = ring;
	t.arg = r;
	t.area = krq_area(q, &alen);
	t.area_len = alen;
	/* Each ring bounces through its own slice of the area, so clients
	 * on different rings never overwrite each other's payloads. */
	t.bounce_len = alen / n & ~(size_t)63;
	t.bounce_off = t.bounce_len * ring;
	t.msg_max = krq_slot_cap(q);
	if ((e = krank_client_create(&t, cp)) != 0)
		free(r);
	else if (krq_features(q) & KRQ_FEAT_FIXED)
		krank_client_fixed(*cp, true);
	return e;
}
