/*
 * krank/krq.h - the client side of KRANK's per-CPU shared-memory queues
 * (part of libkrank).  A client maps one region (a memfd KRANK made and
 * handed over: krq_attach, or any other way), posts requests into ring
 * r's request ring and takes responses from its response ring.  Messages
 * are opaque bytes here (krank.proto encodings in libkrank's calls).
 *
 * Rings: one pair per client CPU (use the ring of the CPU you run on, or
 * one per thread).  One thread at a time per ring: the caller serialises
 * post/reserve/commit/bell/take on a ring; different rings are
 * independent.  Responses come back in request order per ring, exactly
 * one per request.  At most nslots requests may be outstanding (posted
 * and not yet taken) per ring: more is EAGAIN, so the response ring can
 * never overflow.
 *
 * Return values: 0 or a positive errno value (the caller's errno is left
 * alone), unless said otherwise.  EPIPE everywhere once KRANK cut the
 * client off or closed the queue (krq_status says why).
 */
#ifndef KRANK_KRQ_H
#define KRANK_KRQ_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct krq;

/*
 * krq_map - map the region of memfd (the descriptor stays the caller's)
 * and check its header against this library: EPROTO (another version or
 * not a queue region), EINVAL (geometry that does not add up), or the
 * host's error of fstat/mmap; ENOMEM.
 */
int krq_map(int memfd, struct krq **qp);
/* krq_unmap - unmap; with krq_attach, also ends the attachment. */
void krq_unmap(struct krq *q);

unsigned krq_nrings(const struct krq *q);
/* krq_slot_cap - the largest message a slot holds (slot size - 8). */
size_t krq_slot_cap(const struct krq *q);
/* krq_area - the buffer area in this process's mapping; offsets in
 * messages are relative to its start.  NULL and 0 when it has none. */
void *krq_area(const struct krq *q, size_t *lenp);
/* krq_features - what KRANK's side of the region understands
 * (KRQ_FEAT_* of krank's krq_layout.h; 0 from an older KRANK). */
unsigned krq_features(const struct krq *q);
/* krq_set_spin - the longest krq_take spins before it sleeps (ns; 0:
 * sleep at once).  Defaults to what KRANK suggests in the region.  Each
 * ring's budget adapts below it: halved after a spin that ran out,
 * restored by one that was answered, 0 while KRANK's server thread runs
 * on the caller's CPU. */
void krq_set_spin(struct krq *q, uint64_t spin_ns);

/*
 * krq_post - copy msg[0..len) into ring's next request slot and publish
 * it.  The server is not woken: call krq_bell after a batch.  EAGAIN (the
 * ring has nslots requests outstanding: take responses first), EMSGSIZE
 * (len > krq_slot_cap), EINVAL (no such ring), EPIPE.
 */
int krq_post(struct krq *q, unsigned ring, const void *msg, size_t len);
/*
 * krq_reserve / krq_commit - the same in two steps, to encode in place:
 * reserve returns the next request slot's data (capacity in *capp) or
 * NULL (full, as EAGAIN above; no such ring; cut off); commit publishes
 * len bytes of it (EMSGSIZE beyond the capacity, EINVAL without a
 * reservation).  Reserving again without a commit returns the same slot.
 */
void *krq_reserve(struct krq *q, unsigned ring, size_t *capp);
int krq_commit(struct krq *q, unsigned ring, size_t len);
/* krq_bell - wake ring's server for what was posted, if it sleeps (a
 * spinning server costs no system call). */
void krq_bell(struct krq *q, unsigned ring);
/*
 * krq_take - the next response of ring into buf[0..cap); its length in
 * *lenp.  Spins (krq_set_spin), then sleeps on a futex, up to timeout_ns
 * in all (< 0: no limit; 0: do not wait).  EAGAIN (timeout 0 and none
 * ready), ETIMEDOUT, EMSGSIZE (the response is *lenp bytes, more than
 * cap: it stays queued), ENOMSG (no request outstanding), EBADMSG (KRANK
 * rejected the request as malformed and sent no body; the response is
 * consumed), EPROTO (the region is inconsistent), EPIPE, EINVAL.
 */
int krq_take(struct krq *q, unsigned ring, void *buf, size_t cap,
    size_t *lenp, int64_t timeout_ns);
/* krq_outstanding - requests of ring posted and not yet taken. */
unsigned krq_outstanding(const struct krq *q, unsigned ring);
/* krq_status - 0 while KRANK serves the region, else EPIPE with KRANK's
 * reason (cut off for abuse, or closed) copied into reason[0..len). */
int krq_status(const struct krq *q, char *reason, size_t len);

/*
 * krq_attach - connect to a running KRANK's control socket (ctlsock; NULL:
 * $KRANK_SOCKET, else /run/krank/ctl.sock), ask for a region with nrings
 * ring pairs (0: KRANK's default), and map the memfd it sends.  The
 * connection stays open, owned by *qp: KRANK ends the attachment (and
 * frees the client's descriptors) when it closes, at krq_unmap or at the
 * process's death.  EPROTO/EINVAL as krq_map, ECONNREFUSED/ENOENT (no
 * KRANK), EIO (KRANK answered with an error line: krq_attach_error), or
 * the host's socket error.
 */
int krq_attach(const char *ctlsock, unsigned nrings, struct krq **qp);
/*
 * krq_chan_map - map the buffer pool of channel `name` (made by an
 * isolate or by krank_chan_create) into this process, shared with KRANK:
 * the offsets krank_chan_alloc and krank_chan_recv give are offsets into
 * [*basep, *basep + *sizep), so messages move between this process and
 * isolates without a copy.  Unmap with munmap.  Errors as krq_attach
 * (EIO with krq_attach_error "chanpool NAME: no such channel").
 */
int krq_chan_map(const char *ctlsock, const char *name, void **basep,
    size_t *sizep);
/* krq_attach_error - KRANK's error line of the last failed krq_attach in
 * this thread ("" when the failure was local). */
const char *krq_attach_error(void);

#ifdef __cplusplus
}
#endif

#endif
