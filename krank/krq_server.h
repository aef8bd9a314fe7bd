/*
 * krq_server.h - KRANK's side of the per-CPU shared-memory queues
 * (krq_server.c; layout in krq_layout.h, client in include/krank/krq.h).
 * One krq_sclient is one attached client: a sealed memfd region with
 * nrings request/response ring pairs and a buffer area, served by one
 * thread per ring pair pinned to KRANK's cores.  Functions return 0 or a
 * positive errno value.
 */
#ifndef KRQ_SERVER_H
#define KRQ_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * krq_serve_fn - serve one request.  req[0..len) is KRANK's private copy
 * (the client cannot change it under the call).  resp[0..cap) is the
 * response slot in the client's shared memory: write the response there
 * and set *resplenp (<= cap), but never base a decision on bytes read
 * back from it (the client may rewrite them at any time).  Returns 0, or
 * a positive errno value when the request was malformed: it is counted
 * (repeated abuse cuts the client off) and the response still goes out
 * when *resplenp > 0, else an empty one flagged KRQ_SLOT_REJECTED.
 * Exactly one response follows every request, in order per ring.
 */
typedef int krq_serve_fn(void *arg, const void *req, size_t len,
    void *resp, size_t cap, size_t *resplenp);

/* krq_log_fn - one line (no newline) about a client: cut off, pinning. */
typedef void krq_log_fn(void *arg, const char *line);

struct krq_server_cfg {
	unsigned nrings;	/* ring pairs (one per client CPU), 1..64 */
	unsigned nslots;	/* per ring: power of two, 2..4096; 0: 64 */
	unsigned slot_size;	/* bytes per slot with its 8-byte header:
				   multiple of 64, 64..65536; 0: 512 */
	size_t area_len;	/* buffer area, rounded up to pages, <= 1 GiB */
	int64_t spin_ns;	/* server's largest spin before it sleeps (it
				   adapts: krq_bell.h); 0: sleep at
				   once; < 0: the default (50 us) */
	int64_t client_spin_ns;	/* suggested to the client (hdr.spin_ns);
				   < 0: the default (50 us) */
	const int *cores;	/* server threads pinned round robin (a
				   client with fewer rings than cores
				   starts where the last one ended) ... */
	unsigned ncores;	/* ... to these; 0: not pinned */
	unsigned max_bad;	/* malformed requests before the cut; 0: 16 */
	krq_log_fn *log;	/* NULL: stderr */
	void *log_arg;
	uint32_t features;	/* KRQ_FEAT_* the serve function offers
				   (hdr.features) */
	/* Called by each server thread as it ends, with start's arg (the
	 * serve function's per-thread state: krq_dispatch holds the
	 * client's context between calls); NULL: nothing. */
	void (*thread_end)(void *arg);
};

#define KRQ_DEFAULT_SLOTS	64
#define KRQ_DEFAULT_SLOT_SIZE	512
#define KRQ_DEFAULT_SPIN_NS	50000
#define KRQ_DEFAULT_MAX_BAD	16

/*
 * krq_area_check - [off, off + len) lies inside a buffer area of area_len
 * bytes (no overflow).  Offsets and lengths in requests come from the
 * client: check each once, where it is decoded.  The area's bytes stay
 * writable by the client while KRANK uses them: copy what steers KRANK
 * (lengths, offsets, names) before checking it; bulk data (a write's
 * payload, a read's destination) may be used in place.
 */
static inline bool
krq_area_check(size_t area_len, uint64_t off, uint64_t len)
{
	return off <= area_len && len <= area_len - off;
}

struct krq_sclient;

/*
 * krq_sclient_create - a region for one client: memfd (MFD_CLOEXEC,
 * sealed against shrinking and growing), mapped by KRANK, header written.
 * *memfdp is the caller's to hand to the client (SCM_RIGHTS, fork) and to
 * close; the region lives on in KRANK's mapping until destroy.  EINVAL
 * (geometry out of range), ENOMEM, or the host's error for memfd/mmap.
 * Not served until krq_sclient_start.
 */
int krq_sclient_create(const struct krq_server_cfg *cfg,
    struct krq_sclient **cp, int *memfdp);
/* krq_sclient_area - the buffer area in KRANK's mapping (NULL/0 if none). */
void krq_sclient_area(struct krq_sclient *c, void **basep, size_t *lenp);
/*
 * krq_sclient_start - one server thread per ring pair ("krq-N.R", N the
 * client's id, R the ring), pinned to cfg->cores[R % ncores], calling
 * fn(arg, ...) for each request.  EINVAL (started twice, or a core this
 * process may not use), or the error of pthread_create; no thread is left
 * running on failure.
 */
int krq_sclient_start(struct krq_sclient *c, krq_serve_fn *fn, void *arg);
/*
 * krq_sclient_destroy - stop the threads (each returns within its current
 * serve call plus a wake-up: never waits on the client), mark the region
 * KRQ_STATE_CLOSED (unless cut off) and wake the client, unmap.  The
 * client's own mapping stays valid for it.
 */
void krq_sclient_destroy(struct krq_sclient *c);

struct krq_sclient_stats {
	unsigned id;			/* N of the thread names */
	uint64_t requests;		/* served (serve_fn called) */
	uint64_t rejected;		/* malformed: length or serve_fn error */
	uint64_t sleeps;		/* futex sleeps waiting for requests */
	uint64_t spurious;		/* wake-ups that brought no work */
	uint64_t full_waits;		/* waits for the client to take responses */
	uint64_t cpu_ns;		/* CPU time of the server threads */
	bool cut;			/* cut off: reason says why */
	char reason[192];
};
void krq_sclient_stats(struct krq_sclient *c, struct krq_sclient_stats *st);
/* krq_sclient_cut - true once the client was cut off (cheap; atomic). */
bool krq_sclient_cut(const struct krq_sclient *c);

/*
 * For tests and the fuzzer: the whole region in KRANK's mapping, and one
 * pass of ring pair r's consumer in the calling thread (the same step the
 * server thread runs): serves what the request ring holds, as far as the
 * response ring has room.  Returns the number served, or -1 when the pair
 * was cut off (corrupt index or too many bad messages).  Use it only on a
 * client that was not started.
 */
void krq_sclient_region(struct krq_sclient *c, void **basep, size_t *lenp);
int krq_sclient_poll(struct krq_sclient *c, unsigned r, krq_serve_fn *fn,
    void *arg);

#endif
