/*
 * krk_ctl_capture.c - `capture IFACE`: a frame tap (krs_if_capture) that
 * copies frames into a bounded ring, drained by the client's service
 * thread into capture records (krk_ctl_proto.h).  The stack never waits
 * for the client: frames that find the ring full are dropped and counted.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <krank/krs.h>
#include <krank/hyp_relax.h>
#include "net/krs_net.h"

#include "krk.h"
#include "krk_ctl_proto.h"
#include "krk_ctl_int.h"

#define CTL_CAP_RING	(4u << 20)	/* bytes of frames per capture */

/* ---- capture ---- */

/*
 * One capture's ring: variable-length records (struct krk_ctl_caprec, the
 * frame, padding) in buf.  Producers are the stack's threads inside the
 * tap; they serialise on the spin lock for the copy only and never wait
 * for the consumer: a record that does not fit is dropped and counted.
 * The consumer (the client's service thread) owns tail.
 */
struct cap_ring {
	char *buf;
	size_t size;			/* power of two */
	uint64_t head;			/* atomic; producers, under spin */
	uint64_t tail;			/* atomic; the consumer */
	unsigned char spin;
	uint64_t drops;			/* atomic */
};

static void
ring_in(struct cap_ring *c, uint64_t pos, const void *src, size_t n)
{
	size_t at = (size_t)(pos & (c->size - 1));
	size_t first = c->size - at < n ? c->size - at : n;
	memcpy(c->buf + at, src, first);
	memcpy(c->buf, (const char *)src + first, n - first);
}

static void
ring_out(const struct cap_ring *c, uint64_t pos, void *dst, size_t n)
{
	size_t at = (size_t)(pos & (c->size - 1));
	size_t first = c->size - at < n ? c->size - at : n;
	memcpy(dst, c->buf + at, first);
	memcpy((char *)dst + first, c->buf, n - first);
}

static void
cap_tap(void *arg, int dir, const struct krs_iovec *iov, unsigned niov,
    size_t len)
{
	struct cap_ring *c = arg;
	size_t caplen = len < KRK_CTL_CAP_SNAPLEN ? len : KRK_CTL_CAP_SNAPLEN;
	size_t need = sizeof(struct krk_ctl_caprec) + KRK_CTL_CAP_ALIGN(caplen);
	struct krk_ctl_caprec h = { .magic = KRK_CTL_CAP_MAGIC,
	    .version = KRK_CTL_PROTO_VERSION,
	    .flags = dir == KRS_TAP_OUT ? KRK_CTL_CAP_OUT : 0,
	    .ts_ns = krk_ctl_now_ns(CLOCK_REALTIME), .caplen = (uint32_t)caplen,
	    .origlen = (uint32_t)(len > UINT32_MAX ? UINT32_MAX : len) };

	while (__atomic_exchange_n(&c->spin, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&c->spin, __ATOMIC_RELAXED))
			hyp_cpu_relax();
	uint64_t head = __atomic_load_n(&c->head, __ATOMIC_RELAXED);
	uint64_t tail = __atomic_load_n(&c->tail, __ATOMIC_ACQUIRE);
	if (c->size - (size_t)(head - tail) < need) {
		__atomic_store_n(&c->spin, 0, __ATOMIC_RELEASE);
		__atomic_add_fetch(&c->drops, 1, __ATOMIC_RELAXED);
		return;
	}
	ring_in(c, head, &h, sizeof(h));
	uint64_t pos = head + sizeof(h);
	size_t left = caplen;
	for (unsigned i = 0; i < niov && left > 0; i++) {
		size_t n = iov[i].iov_len < left ? iov[i].iov_len : left;
		ring_in(c, pos, iov[i].iov_base, n);
		pos += n;
		left -= n;
	}
	__atomic_store_n(&c->head, head + need, __ATOMIC_RELEASE);
	__atomic_store_n(&c->spin, 0, __ATOMIC_RELEASE);
}

int
krk_ctl_cmd_capture(struct krk_ctl_req *r)
{
	unsigned long count = 0;
	uint64_t duration = 0;
	const char *ifname = NULL;
	for (int i = 0; i < r->argc; i++) {
		if (strcmp(r->argv[i], "--count") == 0 && i + 1 < r->argc) {
			if (krk_ctl_parse_uint(r->argv[++i], 1ul << 32, &count) != 0 ||
			    count == 0)
				return CTL_ERR(r, EINVAL, "capture: --count %s: want a "
				    "number of frames >= 1", r->argv[i]);
		} else if (strcmp(r->argv[i], "--duration") == 0 &&
		    i + 1 < r->argc) {
			if (krk_ctl_parse_duration(r->argv[++i], &duration) != 0 ||
			    duration == 0)
				return CTL_ERR(r, EINVAL, "capture: --duration %s: want "
				    "a duration (500ms, 10s, 1m)", r->argv[i]);
		} else if (r->argv[i][0] != '-' && ifname == NULL)
			ifname = r->argv[i];
		else
			return CTL_ERR(r, EINVAL, "capture: unknown argument %s",
			    r->argv[i]);
	}
	if (ifname == NULL)
		return CTL_ERR(r, EINVAL, "capture: no interface given");
	if (r->json)
		return CTL_ERR(r, EINVAL, "capture: streams pcap records; --json "
		    "does not apply");

	struct cap_ring *c = calloc(1, sizeof(*c));
	char *frame = malloc(sizeof(struct krk_ctl_caprec) +
	    KRK_CTL_CAP_ALIGN(KRK_CTL_CAP_SNAPLEN));
	if (c == NULL || frame == NULL || (c->buf = malloc(CTL_CAP_RING)) == NULL) {
		if (c)
			free(c->buf);
		free(c);
		free(frame);
		return CTL_ERR(r, ENOMEM, "capture %s: out of memory", ifname);
	}
	c->size = CTL_CAP_RING;
	if (krs_if_capture(ifname, cap_tap, c) != 0) {
		int e = errno;
		free(c->buf);
		free(c);
		free(frame);
		return CTL_ERR(r, e, "capture %s: %s", ifname, e == ENXIO ?
		    "no such interface (capture works on virtif interfaces)" :
		    e == EBUSY ? "another capture runs on it" : strerror(e));
	}
	krk_log(KRK_LOG_INFO, "ctl: capture on %s started", ifname);
	r->streamed = true;
	bool ok = krk_ctl_send_all(r->fd, "ok\n", 3);
	uint64_t sent = 0, t0 = krk_ctl_now_ns(CLOCK_MONOTONIC);
	while (ok && !krk_ctl_stopping()) {
		uint64_t head = __atomic_load_n(&c->head, __ATOMIC_ACQUIRE);
		uint64_t tail = __atomic_load_n(&c->tail, __ATOMIC_RELAXED);
		while (ok && tail != head && (count == 0 || sent < count)) {
			struct krk_ctl_caprec h;
			ring_out(c, tail, &h, sizeof(h));
			size_t rec = sizeof(h) + KRK_CTL_CAP_ALIGN(h.caplen);
			ring_out(c, tail, frame, rec);
			tail += rec;
			__atomic_store_n(&c->tail, tail, __ATOMIC_RELEASE);
			ok = krk_ctl_send_all(r->fd, frame, rec);
			sent++;
		}
		if ((count != 0 && sent >= count) ||
		    (duration != 0 && krk_ctl_now_ns(CLOCK_MONOTONIC) - t0 >= duration))
			break;
		/* The tap never wakes us (a syscall in the stack's path):
		 * look again every 10 ms, and notice a client that left. */
		struct pollfd p = { .fd = r->fd, .events = POLLIN };
		if (poll(&p, 1, 10) > 0)
			break;
	}
	krs_if_capture_stop(ifname);
	struct krk_ctl_caprec end = { .magic = KRK_CTL_CAP_MAGIC,
	    .version = KRK_CTL_PROTO_VERSION, .flags = KRK_CTL_CAP_END,
	    .ts_ns = krk_ctl_now_ns(CLOCK_REALTIME), .drops = c->drops, .count = sent };
	if (ok)
		krk_ctl_send_all(r->fd, &end, sizeof(end));
	__atomic_add_fetch(&krk_ctl_stats.cap_drops, c->drops, __ATOMIC_RELAXED);
	krk_log(KRK_LOG_INFO, "ctl: capture on %s ended: %" PRIu64 " frames "
	    "sent, %" PRIu64 " dropped", ifname, sent, c->drops);
	free(c->buf);
	free(c);
	free(frame);
	return 0;
}

