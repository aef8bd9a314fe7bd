/*
 * hyp_pkt_int.h - between the packet I/O core (hyp_pkt.c) and its
 * backends (pkt_wire.c, pkt_tap.c, pkt_afpacket.c).
 */
#ifndef KRANK_HYP_PKT_INT_H
#define KRANK_HYP_PKT_INT_H

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/uio.h>
#include <krank/hyp.h>
#include "rumpuser_int.h"

struct pkt_opts {
	int has_mac;
	uint8_t mac[6];
	unsigned mtu;			/* 0: backend default */
	double loss, dup, reorder;	/* wire impairments, fractions 0..1 */
	uint64_t seed;
	int no_offload;			/* tap: offload=no (no IFF_VNET_HDR) */
	int no_ring;			/* afpacket: ring=no (copy path) */
	int no_lend;			/* dpdk: lend=no (sends copy) */
	unsigned queues;		/* dpdk: queues=N (0: the default) */
};

/* The most receive and transmit queues of a port (queues=N). */
#define PKT_MAXQ 16

#define PKT_MAXMTU 65535		/* the largest IPv4 datagram */

/* A parsed port spec "BACKEND:NAME[,key=value...]". */
struct pkt_spec {
	char backend[16];
	char name[HYP_PKT_NAMELEN];
	struct pkt_opts opts;
	const char *why;		/* after -1: what was wrong, or NULL */
};

/*
 * pkt_spec_parse - parse an untrusted spec string.  0, or -1 when it is
 * malformed (no ':', empty or too long name, unknown option, bad value);
 * then out->why says what, for an option's bad value (a static string).
 * Pure: no host calls (hyp_pkt_spec.c; fuzzed by tests/fuzz).
 */
int pkt_spec_parse(const char *spec, struct pkt_spec *out) HIDDEN;

/* A receive buffer; data follows the header. */
struct pktbuf {
	struct hyp_pkt *port;
	struct pktbuf *next;		/* on the free list */
	unsigned char data[];
};

struct hyp_pkt;

#define PKT_QANY (~0u)

/*
 * A receive queue's poller state: the queue is received from by its own
 * receive thread or by one hyp_pkt_rx_poll caller at a time (busy), so
 * pollers on different cores take different queues without meeting.
 * Own cache line each: pollers of different queues share no line.
 */
struct pkt_rxq {
	/* One receiver at a time on ports that may be polled
	 * (HYP_PKT_CAP_POLL): the queue's receive thread or a
	 * hyp_pkt_rx_poll caller, for the queue and anything a backend
	 * keeps for its receiver; try-locked, never waited for. */
	atomic_flag busy;
	/* The pollers' beat (hyp_pkt_rx_park) when this queue's receive
	 * thread last went back to receiving: that thread's only. */
	uint32_t beat;
	unsigned idx;
	struct hyp_pkt *port;
	pthread_t thread;
	_Atomic uint64_t frames;	/* handed up from this queue */
	_Atomic uint64_t polled;	/* of those, by hyp_pkt_rx_poll */
	_Atomic int pollfull;		/* a poller's last look found frames */
} __attribute__((aligned(64)));

struct pkt_backend {
	const char *prefix;
	int (*open)(struct hyp_pkt *p, const char *name, struct pkt_opts *o);
	void (*close)(struct hyp_pkt *p);
	/* len is the total of iov; already checked against the MTU. */
	int (*send)(struct hyp_pkt *p, const struct iovec *iov, int iovcnt,
	    size_t len);
	/* Receive from queue q (< nq; backends of one queue ignore q). */
	int (*recv)(struct hyp_pkt *p, unsigned q, struct hyp_pkt_frame *f,
	    unsigned max, unsigned *np);
	/*
	 * Block up to timeout_ms for input on queue q, or on any queue
	 * (PKT_QANY); 0 or ETIMEDOUT (NetBSD).  With wrap, the caller's
	 * virtual CPU is released while blocked.
	 */
	int (*wait)(struct hyp_pkt *p, unsigned q, int timeout_ms, int wrap);
	/* Backends with buffers of their own (DPDK mbufs) free frames here
	 * and get no pool from the core. */
	int own_buffers;
	void (*frame_free)(struct hyp_pkt *p, struct hyp_pkt_frame *f);
	/* Optional, for HYP_PKT_CAP_CSUM (and _TSO): send with metadata
	 * (meta->flags nonzero; checked against the caps and the frame). */
	int (*send_meta)(struct hyp_pkt *p, const struct iovec *iov,
	    int iovcnt, size_t len, const struct hyp_pkt_txmeta *meta);
	/*
	 * Optional: told of every hyp_pkt_set_rx_flags (fn NULL: stop).
	 * Returns 1 when it delivers directly itself (HYP_PKT_RX_DIRECT
	 * taken: the core starts no receive thread), 0 when the core's
	 * receive thread should run, or an errno (negated).  Stopping waits
	 * for senders inside fn.
	 */
	int (*set_rx)(struct hyp_pkt *p, hyp_pkt_rx_fn fn, void *arg,
	    unsigned flags);
	/*
	 * Optional, for HYP_PKT_CAP_TXREF: send lending iov's buffers;
	 * 0 (done(arg, cookie) follows once) or an error (it never does).
	 * lent/lentbytes: what was sent without a copy, for the counters.
	 */
	int (*send_ref)(struct hyp_pkt *p, const struct iovec *iov,
	    int iovcnt, size_t len, hyp_pkt_txdone_fn done, void *arg,
	    void *cookie, size_t *lentbytes);
	/*
	 * Optional: hand the host what send queued without a host call.
	 * The core calls it after each batch its receive thread delivered:
	 * sends made inside the callback (pkt_in_rx) may wait for it, so
	 * the replies and ACKs of one batch leave in one host call.
	 */
	void (*flush)(struct hyp_pkt *p);
	/*
	 * Frames a poller (hyp_pkt_rx_poll) takes in a look that follows
	 * an empty one; 0: a whole batch.  A backend that pays a host call
	 * per frame (tap) sets 1: reading on to the empty queue would put
	 * one more host call between a request's arrival and its answer.
	 * Looks that follow a look that found frames take a whole batch.
	 */
	unsigned poll_max;
};

struct hyp_pkt {
	const struct pkt_backend *be;
	struct hyp_pkt_info info;
	void *priv;			/* backend state */
	int fd;				/* tap and afpacket */

	/* Receive buffers: one arena, a free list under bufmtx. */
	struct hyp_arena arena;
	size_t bufsz;
	pthread_mutex_t bufmtx;
	struct pktbuf *freebufs;
	unsigned nfree;
	unsigned ncarved;	/* buffers [0, ncarved) of the arena handed out */

	/* Counters: atomics, written from any thread.  The receive side's
	 * on a line of their own: on the wire they are the peer's sender's
	 * (pkt_frame_set), written at every frame while this port's sender
	 * writes the others. */
	_Atomic uint64_t tx_frames, tx_bytes, tx_errors;
	_Alignas(64) _Atomic uint64_t rx_frames, rx_bytes, rx_nobuf, rx_bad;
	/* Host calls made to move frames (hyp_pkt_host_stats). */
	_Alignas(64) _Atomic uint64_t host_tx_calls, host_rx_calls;
	_Atomic uint64_t rx_polled;	/* frames hyp_pkt_rx_poll handed up */
	_Atomic uint64_t rx_kicks;	/* receive thread kicked (rx_kickfd) */
	_Atomic uint64_t tx_lent, tx_lent_bytes;	/* hyp_pkt_send_ref */
	int ring;			/* frames cross PACKET_MMAP rings */

	/* Callback mode: one receive thread per queue. */
	int rxrunning;
	int rxdirect;			/* the backend calls rxfn itself */
	_Atomic int rxstop;
	hyp_pkt_rx_fn rxfn;
	void *rxarg;
	unsigned rxflags;		/* HYP_PKT_RX_* of the receiver */
	/* hyp_pkt_rx_park: the pollers' beat. */
	const uint32_t *_Atomic rxpark;
	/*
	 * Pollable ports that wait on their descriptor (pkt_fd_wait; one
	 * queue): while the receive thread sleeps in the host's poll
	 * (rx_fdwait), every frame that arrives wakes it, even one a
	 * poller has taken already, and it preempts the poller on its
	 * core just as the poller answers.  A poller that finds it there
	 * when the beat says it would stand aside kicks it out (a write
	 * to rx_kickfd, an eventfd it polls too), once per such sleep.
	 */
	int rx_kickfd;			/* -1: none */
	_Atomic int rx_fdwait;
	/* How long a parked receive thread sleeps before it looks again;
	 * 0: until the word is woken (hyp_pkt_rx_park_ns). */
	_Atomic uint64_t rxpark_ns;

	/* Queues: nq receive queues (set by the backend's open; 1 unless
	 * it has more), each with its poller state. */
	unsigned nq;
	unsigned recvq;			/* hyp_pkt_recv's next first queue */
	struct pkt_rxq rxq[PKT_MAXQ];
};

static inline int
pkt_rx_trylock(struct hyp_pkt *p, unsigned q)
{
	return !atomic_flag_test_and_set_explicit(&p->rxq[q].busy,
	    memory_order_acquire);
}

static inline void
pkt_rx_unlock(struct hyp_pkt *p, unsigned q)
{
	atomic_flag_clear_explicit(&p->rxq[q].busy, memory_order_release);
}

/*
 * The queue of the caller's core among n: its host CPU modulo n (KRANK
 * pins its threads, so a thread keeps its queue).  One queue: 0, with no
 * look at the CPU (sched_getcpu is a vDSO call, no system call).
 */
static inline unsigned
pkt_cpu_queue(unsigned n)
{
	if (n <= 1)
		return 0;
	int cpu = sched_getcpu();
	return cpu < 0 ? 0 : (unsigned)cpu % n;
}

/*
 * The pollers' beat w says stand aside (hyp_pkt_rx_park): a poller
 * started since the receive thread took the port (rxbeat) and none went
 * to sleep since.
 */
static inline int
pkt_beat_parks(uint32_t w, uint32_t seen)
{
	return (w & 0xffffu) == (seen & 0xffffu) && (w >> 16) != (seen >> 16);
}

static inline int
pkt_rx_parked(const struct hyp_pkt *p, unsigned q)
{
	const uint32_t *w = atomic_load_explicit(&p->rxpark,
	    memory_order_relaxed);
	return w != NULL && pkt_beat_parks(__atomic_load_n(w,
	    __ATOMIC_ACQUIRE), p->rxq[q].beat);
}

/* The port whose receive callback this thread is running, or NULL. */
extern __thread struct hyp_pkt *pkt_rx_cur HIDDEN;
static inline int
pkt_in_rx(const struct hyp_pkt *p)
{
	return pkt_rx_cur == p;
}

/* Take a free receive buffer, or NULL (counted in rx_nobuf). */
struct pktbuf *pkt_buf_get(struct hyp_pkt *p) HIDDEN;
void pkt_buf_put(struct hyp_pkt *p, struct pktbuf *b) HIDDEN;
/* Poll-based wait shared by fd backends. */
int pkt_fd_wait(struct hyp_pkt *p, unsigned q, int timeout_ms, int wrap)
    HIDDEN;
/* Fill f from b holding len bytes, and count it. */
void pkt_frame_set(struct hyp_pkt *p, struct hyp_pkt_frame *f,
    struct pktbuf *b, size_t len) HIDDEN;
int pkt_ifmtu(const char *ifname, unsigned *mtu) HIDDEN;
/* Complete a HYP_PKT_TX_CSUM checksum in the len-byte frame f. */
void pkt_csum_complete(unsigned char *f, size_t len,
    const struct hyp_pkt_txmeta *meta) HIDDEN;
/*
 * A frame received behind a virtio-net header (a tap with IFF_VNET_HDR,
 * AF_PACKET with PACKET_VNET_HDR): PKT_VNET_OK with *flp set
 * (HYP_PKT_FRAME_CSUM_OK for a receiver that takes unchecked frames; for
 * any other a partial checksum is completed here), or the reason to drop
 * it, said in *why: PKT_VNET_MERGED, a merged segment (GSO) for a
 * receiver that takes no unchecked frames; PKT_VNET_BAD, longer than the
 * MTU yet not merged, or a checksum offset outside the frame.
 */
enum { PKT_VNET_OK, PKT_VNET_MERGED, PKT_VNET_BAD };
struct virtio_net_hdr;
int pkt_vnet_rx(struct hyp_pkt *p, const struct virtio_net_hdr *vh,
    unsigned char *frame, size_t len, unsigned *flp,
    const char **why) HIDDEN;

extern const struct pkt_backend pkt_wire_backend HIDDEN;
extern const struct pkt_backend pkt_tap_backend HIDDEN;
extern const struct pkt_backend pkt_afpacket_backend HIDDEN;
#ifdef KRANK_HOST_DPDK
/* The DPDK host links the dpdk: backend in. */
extern const struct pkt_backend pkt_dpdk_backend HIDDEN;
#endif

/*
 * Backends built apart from the library: the POSIX host's dpdk: backend,
 * whose ~18 DPDK libraries and their constructors would otherwise load
 * with every process.  libkrank-hypercall loads it on the first dpdk:
 * open (pkt_module.c) and calls its init with this table of the core's
 * functions, which the module cannot link against (they are hidden).
 * PKT_MODULE_ABI changes with this table, struct pkt_backend or struct
 * hyp_pkt; a module of another ABI is refused.
 */
#define PKT_MODULE_ABI 4
struct pkt_core {
	unsigned abi;			/* PKT_MODULE_ABI */
	size_t hyp_pkt_size;		/* sizeof(struct hyp_pkt) */
	int (*errtrans)(int hosterr);
	void (*unsched)(int *nlocks, void *interlock);
	void (*sched)(int nlocks, void *interlock);
	void (*dprintf)(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
};

/* The module's one exported name, krank_pkt_dpdk_init: its backend, or
 * NULL when core is of another ABI. */
#define PKT_DPDK_MODULE "krank-pkt-dpdk.so"
#define PKT_DPDK_INIT "krank_pkt_dpdk_init"
#ifdef KRANK_PKT_MODULE
const struct pkt_backend *krank_pkt_dpdk_init(const struct pkt_core *core);
#endif

/*
 * The loadable backend named prefix ("dpdk"): linked in (a static link
 * with libkrank-pkt-dpdk.a), else its module loaded on first use.  0, or
 * NB_EINVAL when prefix names no loadable backend (or this build has
 * none), NB_ENOENT when the module cannot be loaded (said on stderr, with
 * its path and why).
 */
int pkt_module_backend(const char *prefix, const struct pkt_backend **bep)
    HIDDEN;

#endif
