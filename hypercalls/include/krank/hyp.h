/*
 * hyp.h - KRANK's extensions to the rumpuser(3) hypercall interface:
 * packet I/O for network interfaces, memory arenas, CPU pinning.
 * Like the rumpuser_* calls, every int-returning hyp_* call returns 0 or a
 * positive NetBSD errno value and never sets errno.
 */
#ifndef KRANK_HYP_H
#define KRANK_HYP_H

#include <stddef.h>
#include <stdint.h>
#include <krank/rumpuser.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------
 * Packet I/O
 *
 * A port is one Ethernet interface of the host, named "BACKEND:NAME" with
 * optional ",key=value" options:
 *   tap:NAME        a Linux tap device (created if absent, /dev/net/tun)
 *   afpacket:IF     an existing Linux interface through an AF_PACKET socket,
 *                   its frames crossing PACKET_MMAP rings (ring=no: one
 *                   system call and copy per frame, as before)
 *   wire:NAME       an in-process wire; the first two opens of one NAME are
 *                   its two ends, a third open fails with EBUSY
 *   dpdk:PORT       (built with DPDK) a NIC or DPDK virtual device
 * Options: mac=02:xx:xx:xx:xx:xx (the port's own link address; default a
 * random locally administered one), mtu=N (wire only; 68..65535, default
 * 1500), offload=no (tap, afpacket: no virtio-net header, no CSUM/TSO),
 * ring=no (afpacket: the copy path), lend=no (dpdk: no
 * HYP_PKT_CAP_TXREF, every send copies), queues=N (dpdk: N receive and
 * N transmit queues, 1..16, with RSS; docs/hypercalls.md).
 *
 * Received frames live in buffers owned by the port.  hyp_pkt_recv hands
 * them out by reference; each must be given back with hyp_pkt_frame_free
 * (a driver may keep one as external mbuf storage until then).  When all
 * buffers are out, further frames are dropped and counted (rx_nobuf).
 * ------------------------------------------------------------------- */
struct hyp_pkt;

#define HYP_PKT_NAMELEN 64
struct hyp_pkt_info {
	char name[HYP_PKT_NAMELEN];	/* the spec it was opened with */
	uint8_t lladdr[6];		/* this port's link address */
	unsigned mtu;			/* payload bytes, Ethernet header excluded */
	unsigned nbufs;			/* receive buffers of the port */
	unsigned caps;			/* HYP_PKT_CAP_* */
	unsigned gso_max;		/* HYP_PKT_CAP_TSO: the largest frame
					 * (Ethernet header included) it takes
					 * with HYP_PKT_TX_TSO; else 0 */
	unsigned rx_max;		/* the largest frame it may deliver:
					 * mtu + 18, or up to 64 KiB on a port
					 * whose host merges segments (GRO) */
};
/* The port can run its receive callback in the thread that sends on the
 * peer port (hyp_pkt_set_rx_flags with HYP_PKT_RX_DIRECT): the wire. */
#define HYP_PKT_CAP_DIRECT	0x1
/* The port takes frames whose transport checksum is left undone
 * (hyp_pkt_send_meta with HYP_PKT_TX_CSUM): the wire, a tap, AF_PACKET
 * on rings (the latter two unless offload=no). */
#define HYP_PKT_CAP_CSUM	0x2
/* The port takes TCP/IPv4 frames longer than the MTU and cuts them into
 * segments (hyp_pkt_send_meta with HYP_PKT_TX_TSO): a tap with
 * IFF_VNET_HDR or an AF_PACKET port on rings with PACKET_VNET_HDR, whose
 * host does the segmentation (GSO). */
#define HYP_PKT_CAP_TSO		0x4
/* Any thread may poll the port (hyp_pkt_rx_poll) and run the receive
 * callback itself, as a thread about to sleep for network input does
 * (run to completion): a DPDK port (receiving costs no host call) and a
 * tap (a non-blocking read of its descriptor, cheaper than waking the
 * receive thread and then the waiter). */
#define HYP_PKT_CAP_POLL	0x8
/* The port can send from the caller's buffers without copying them
 * (hyp_pkt_send_ref): a DPDK device whose driver reads the memory itself
 * (a software device, or a NIC when the buffers are DPDK memory). */
#define HYP_PKT_CAP_TXREF	0x10

struct hyp_pkt_stats {
	uint64_t tx_frames, tx_bytes, tx_errors;
	uint64_t rx_frames, rx_bytes;
	uint64_t rx_nobuf;		/* dropped: no free receive buffer */
	uint64_t rx_bad;		/* dropped: runt or oversized frame */
};

struct hyp_pkt_frame {
	void *data;			/* frame, starting at the Ethernet header */
	size_t len;
	void *buf;			/* opaque: the buffer to free */
	unsigned flags;			/* HYP_PKT_FRAME_* */
};
/*
 * The frame was made in this process by a sender that left its transport
 * checksum undone (HYP_PKT_TX_CSUM): the checksum field holds only the
 * pseudo-header sum and the data needs no verifying.  Only given to a
 * receiver that asked for it (HYP_PKT_RX_CSUM); for any other the port
 * completes the checksum, as a NIC with checksum offload would.
 */
#define HYP_PKT_FRAME_CSUM_OK	0x1

/* Frames are HYP_PKT_MINFRAME .. MTU + 18 bytes (header and one VLAN tag;
 * no FCS). */
#define HYP_PKT_MINFRAME 14
#define HYP_PKT_HDRLEN 14

/*
 * hyp_pkt_open - open a port.  Returns 0 and *pp, or EINVAL (bad spec or
 * option), ENOENT (no such interface), EBUSY (wire with two ends already),
 * EPERM/EACCES (host refuses), ENOMEM.
 */
int hyp_pkt_open(const char *spec, struct hyp_pkt **pp);
/*
 * hyp_pkt_tap_adopt - hand over fd, a /dev/net/tun descriptor attached
 * (TUNSETIFF, IFF_TAP | IFF_NO_PI) to tap `name`: the next open of
 * "tap:name" takes it instead of creating the device, so an embedder can
 * create the tap and configure Linux's side while it does other work.
 * Returns 0 (fd is the port's from now on), EINVAL (not such a tap),
 * EBUSY (too many waiting).
 */
int hyp_pkt_tap_adopt(const char *name, int fd);
/* Close a port.  Frames still held must be freed before. */
void hyp_pkt_close(struct hyp_pkt *p);
void hyp_pkt_info(struct hyp_pkt *p, struct hyp_pkt_info *info);
void hyp_pkt_stats(struct hyp_pkt *p, struct hyp_pkt_stats *st);

/*
 * hyp_pkt_host_stats - how a port reaches the host: ring is 1 when frames
 * cross memory shared with the host kernel (afpacket's PACKET_MMAP rings)
 * instead of a copy through a system call each; tx_calls and rx_calls
 * count the host calls made to send and to receive (tap and afpacket; a
 * ring port makes one per batch, not per frame).
 */
struct hyp_pkt_host_stats {
	unsigned ring;
	uint64_t tx_calls, rx_calls;
	uint64_t rx_polled;		/* frames received by hyp_pkt_rx_poll
					 * callers rather than the port's
					 * receive thread */
	uint64_t tx_lent;		/* frames hyp_pkt_send_ref sent from
					 * the caller's buffers */
	uint64_t tx_lent_bytes;		/* of those, bytes not copied */
	uint64_t rx_kicks;		/* times a poller woke the receive
					 * thread out of its wait on the
					 * port's descriptor (tap) */
};
void hyp_pkt_host_stats(struct hyp_pkt *p, struct hyp_pkt_host_stats *hs);

/*
 * hyp_pkt_queue_stats - per receive queue counters of a port: fills
 * qs[0 .. min(n, max) - 1] and returns n, the port's number of queues
 * (1 but for a dpdk: port opened with queues=N).  rx_frames counts the
 * frames handed up from the queue (hyp_pkt_recv, the callback), rx_polled
 * those of them that hyp_pkt_rx_poll callers received.
 */
struct hyp_pkt_queue_stats {
	uint64_t rx_frames, rx_polled;
};
unsigned hyp_pkt_queue_stats(struct hyp_pkt *p,
    struct hyp_pkt_queue_stats *qs, unsigned max);

/*
 * hyp_pkt_send - send one frame gathered from iov.  Never blocks.  Returns
 * 0, EMSGSIZE (longer than MTU + header, or shorter than a header),
 * ENOBUFS (the host's queue is full; frame dropped and counted), or an
 * I/O error.  Thread-safe.
 */
int hyp_pkt_send(struct hyp_pkt *p, const struct rumpuser_iovec *iov,
    size_t iovcnt);

/*
 * hyp_pkt_send_meta - hyp_pkt_send with per-frame metadata (meta NULL:
 * none).  HYP_PKT_TX_CSUM (ports with HYP_PKT_CAP_CSUM; EINVAL on others):
 * the one's-complement checksum over the bytes from csum_start to the end
 * of the frame is left to the port; the 16-bit field at csum_start +
 * csum_offset holds the pseudo-header sum, folded but not complemented
 * (Linux's CHECKSUM_PARTIAL, virtio-net's NEEDS_CSUM).  A result of 0 is
 * stored as 0xffff.  HYP_PKT_TX_TSO (with HYP_PKT_TX_CSUM, ports with
 * HYP_PKT_CAP_TSO): the frame is one TCP/IPv4 segment of up to gso_max
 * bytes whose payload the port cuts into segments of gso_size bytes, each
 * with a copy of the first hdr_len bytes (Ethernet, IP and TCP headers)
 * with lengths, IP ids, sequence numbers and checksums fixed up, as a NIC
 * with TCP segmentation offload would.
 */
#define HYP_PKT_TX_CSUM		0x1
#define HYP_PKT_TX_TSO		0x2
struct hyp_pkt_txmeta {
	unsigned flags;			/* HYP_PKT_TX_* */
	uint16_t csum_start;		/* from the start of the frame */
	uint16_t csum_offset;		/* of the checksum field, from csum_start */
	uint16_t gso_size;		/* TSO: payload bytes per segment */
	uint16_t hdr_len;		/* TSO: header bytes copied to each */
};
int hyp_pkt_send_meta(struct hyp_pkt *p, const struct rumpuser_iovec *iov,
    size_t iovcnt, const struct hyp_pkt_txmeta *meta);

/*
 * hyp_pkt_send_ref - hyp_pkt_send that lends the frame's buffers to the
 * port instead of copying them (ports with HYP_PKT_CAP_TXREF; EOPNOTSUPP
 * on others).  Returns 0 when the port took the frame: the bytes of iov
 * must then stay unchanged until the port calls done(arg, cookie), once,
 * from any thread (possibly before hyp_pkt_send_ref returns, and not
 * necessarily with a virtual CPU: done must not block or enter the
 * kernel; it hands the buffers back to be freed later).  Any other
 * return: the errors of hyp_pkt_send; done is never called and the
 * buffers stay the caller's.  The port may still copy small pieces (a
 * header) and lend only the large ones.
 */
typedef void (*hyp_pkt_txdone_fn)(void *arg, void *cookie);
int hyp_pkt_send_ref(struct hyp_pkt *p, const struct rumpuser_iovec *iov,
    size_t iovcnt, hyp_pkt_txdone_fn done, void *arg, void *cookie);

/*
 * hyp_pkt_recv - poll: move up to max received frames into frames[] and
 * store their number in *np (0 when none is waiting).  Never blocks.  One
 * receiver at a time per port.
 */
int hyp_pkt_recv(struct hyp_pkt *p, struct hyp_pkt_frame *frames,
    unsigned max, unsigned *np);
/* Give a received frame's buffer back to its port. Thread-safe. */
void hyp_pkt_frame_free(struct hyp_pkt *p, struct hyp_pkt_frame *f);

/*
 * hyp_pkt_wait - block until a frame may be waiting or timeout_ms passes
 * (-1: no timeout).  Releases the caller's virtual CPU while it blocks.
 * Returns 0 (frames may be waiting), ETIMEDOUT.
 */
int hyp_pkt_wait(struct hyp_pkt *p, int timeout_ms);

/*
 * hyp_pkt_set_rx - callback mode: a host thread of the port receives
 * frames and calls fn with batches of them; fn owns the frames and frees
 * them.  fn runs without a virtual CPU: a kernel-side driver schedules
 * itself (rumpuser_component_schedule).  fn NULL stops the thread.
 * Returns 0, EBUSY (already set), or an error from thread creation.
 */
typedef void (*hyp_pkt_rx_fn)(void *arg, struct hyp_pkt_frame *frames,
    unsigned n);
int hyp_pkt_set_rx(struct hyp_pkt *p, hyp_pkt_rx_fn fn, void *arg);

/*
 * hyp_pkt_set_rx_flags - hyp_pkt_set_rx with flags:
 *   HYP_PKT_RX_DIRECT  on a port with HYP_PKT_CAP_DIRECT, no receive
 *       thread: fn runs in the thread that sends on the peer port, inside
 *       its hyp_pkt_send, one frame at a time (frames queued before the
 *       call are handed to fn at once, in the caller's thread).  That
 *       sender may hold locks of its own, so fn must not block, send, or
 *       take a lock a sender may hold: it queues the frame and returns.
 *       Ignored on other ports (a receive thread as usual).
 *   HYP_PKT_RX_CSUM    fn accepts HYP_PKT_FRAME_CSUM_OK frames.
 * Stopping (fn NULL) waits until no sender is inside fn.
 */
#define HYP_PKT_RX_DIRECT	0x1
#define HYP_PKT_RX_CSUM		0x2
int hyp_pkt_set_rx_flags(struct hyp_pkt *p, hyp_pkt_rx_fn fn, void *arg,
    unsigned flags);

/*
 * Run to completion, on ports with HYP_PKT_CAP_POLL in callback mode:
 *
 * hyp_pkt_rx_poll - receive what is waiting (one batch of up to 32
 *     frames) and hand it to the receive callback in the calling thread.
 *     Returns the frames handed over: 0 when none were waiting, when
 *     another thread (the receive thread or another poller) is receiving
 *     from the port at this moment, or on a port without the capability
 *     or callback.  The caller must hold no lock that the callback may
 *     take.
 * hyp_pkt_rx_park - word is the pollers' beat: a thread that starts to
 *     poll adds HYP_PKT_POLL_BEGIN to it, one that stops to sleep adds
 *     HYP_PKT_POLL_SLEEP and wakes the word (hyp_word_wake).  While
 *     pollers keep starting the port's receive thread stands aside (it
 *     sleeps on the word a millisecond at a time: no host call per
 *     frame); it takes the port back at once when a poller goes to
 *     sleep, and when a whole millisecond passes with the word unchanged.
 *     word NULL: never stand aside.  The word is read, never written,
 *     and must outlive the port's callback mode.  Call it before
 *     callback mode starts.
 * hyp_pkt_rx_park_ns - the same, with the parked receive thread's look
 *     every look_ns nanoseconds instead of every millisecond.  look_ns 0:
 *     it sleeps on the word until the word is woken, with no timeout and
 *     so no host call while pollers serve the port (run to completion on
 *     dedicated cores); the word's owner must then add
 *     HYP_PKT_POLL_SLEEP and wake it when no poller came for a while, or
 *     input waits for the next poller.
 */
#define HYP_PKT_POLL_BEGIN	0x10000u
#define HYP_PKT_POLL_SLEEP	0x1u
/*
 * hyp_mutex_spin_forever - with on, a kernel mutex (RUMPUSER_MTX_KMUTEX)
 * whose holder last ran on another CPU is spun for until it is released
 * instead of a thousand relaxes and then a sleep in the host: run to
 * completion on dedicated cores, where the holder is running.  A holder
 * that last ran on the caller's CPU is still slept for (it waits for
 * that CPU).  Off by default.
 */
void hyp_mutex_spin_forever(int on);
int hyp_pkt_rx_poll(struct hyp_pkt *p);
void hyp_pkt_rx_park(struct hyp_pkt *p, const uint32_t *word);
void hyp_pkt_rx_park_ns(struct hyp_pkt *p, const uint32_t *word,
    uint64_t look_ns);

/* ---------------------------------------------------------------------
 * Memory arenas: large regions for buffer pools and kernel memory.
 * ------------------------------------------------------------------- */
#define HYP_ARENA_HUGE 0x01	/* try 2 MiB huge pages */
#define HYP_ARENA_LOCKED 0x02	/* try to lock in RAM (mlock) */
#define HYP_ARENA_STRICT 0x04	/* fail instead of falling back */
#define HYP_ARENA_ONFAULT 0x08	/* with LOCKED: lock each page when first
				 * touched instead of faulting all in now */

enum hyp_arena_kind { HYP_ARENA_KIND_PLAIN, HYP_ARENA_KIND_LOCKED,
	HYP_ARENA_KIND_HUGE };

struct hyp_arena {
	void *base;
	size_t len;			/* rounded up to the page size used */
	enum hyp_arena_kind kind;	/* what was obtained */
};

/*
 * hyp_arena_create - map len bytes (zeroed, read-write).  Tries huge pages
 * (locked), then locked small pages, then plain pages, as flags allow.
 * Returns 0, EINVAL (len 0, unknown flags), ENOMEM, or with STRICT the
 * error of the first refused step.
 */
int hyp_arena_create(size_t len, int flags, struct hyp_arena *a);
void hyp_arena_destroy(struct hyp_arena *a);
const char *hyp_arena_kind_name(enum hyp_arena_kind kind);

/* ---------------------------------------------------------------------
 * The huge-page heap: kernel memory and packet buffers from 2 MiB pages.
 * ------------------------------------------------------------------- */
/*
 * hyp_heap_huge_init - map len bytes (a multiple of 2 MiB) of huge pages
 * (MAP_HUGETLB: reserved now, faulted when first touched) as the heap
 * that rumpuser_malloc serves from first and packet receive pools are
 * carved from.  Once per process, before the kernel boots.  Returns 0,
 * EINVAL (len), EBUSY (already set up), or the host's error (ENOMEM:
 * fewer free huge pages than len).  Without it every allocation comes
 * from the host's allocator as before.
 */
int hyp_heap_huge_init(size_t len);
/*
 * hyp_heap_huge_alloc - a block of at least len bytes aligned to align (a
 * power of two, at most 2 MiB), from the huge-page heap; NULL when there
 * is none, the request is larger than 16 MiB or more aligned, or the heap
 * is full (counted in nfallback): the caller then uses other memory.
 * Thread-safe.
 * hyp_heap_huge_free returns a block; a pointer outside the heap is
 * ignored, one that is not a block in use is counted (nbadfree).
 */
void *hyp_heap_huge_alloc(size_t len, size_t align);
void hyp_heap_huge_free(void *p);
int hyp_heap_huge_owns(const void *p);

struct hyp_heap_huge_stats {
	void *base;
	uint64_t size;		/* 0: no huge-page heap */
	uint64_t used;		/* bytes in blocks handed out now */
	uint64_t peak;
	uint64_t touched;	/* high-water mark of the region */
	uint64_t nalloc;	/* blocks handed out, ever */
	uint64_t nfallback;	/* requests sent to other memory */
	uint64_t nbadfree;	/* frees of what was not a block in use */
};
void hyp_heap_huge_stats(struct hyp_heap_huge_stats *st);

/* ---------------------------------------------------------------------
 * Read-copy-update, for read-mostly tables of the kernel layers.
 *
 * Readers bracket their accesses with hyp_rcu_read_lock/unlock (cheap, no
 * host call, may nest, must not block) and load shared pointers with
 * acquire semantics.  An updater publishes a new version with a release
 * store, then hyp_rcu_synchronize waits until no reader can still hold
 * the old one, which may then be freed.  synchronize releases the
 * caller's virtual CPU while it waits and must not be called inside a
 * read-side section.
 * ------------------------------------------------------------------- */
void hyp_rcu_read_lock(void);
void hyp_rcu_read_unlock(void);
void hyp_rcu_synchronize(void);

/*
 * An asymmetric fence, for a store-then-load handshake whose one side
 * runs all the time (a producer publishing an entry, then looking
 * whether its consumer announced it sleeps) and whose other side is rare
 * (the consumer announcing it, then looking at the ring once more).  The
 * frequent side puts only a compiler barrier between its store and its
 * load; the rare side calls hyp_membarrier between its own, which makes
 * every other running thread of the process execute a full fence: then
 * either side sees the other's store, as with two fences.
 * hyp_membarrier_init registers the process (idempotent) and says
 * whether the host can (1, else 0: both sides need a real fence).
 * hyp_membarrier costs a host call and an interrupt per CPU running a
 * thread of the process (about a microsecond).
 */
int hyp_membarrier_init(void);
void hyp_membarrier(void);

/* ---------------------------------------------------------------------
 * Direct block I/O
 * ------------------------------------------------------------------- */
/*
 * hyp_bio_direct - turn the host's cache off (on != 0: O_DIRECT) or on
 * again for fd, a descriptor from rumpuser_open(RUMPUSER_OPEN_BIO).  With
 * it on, every rumpuser_bio on fd must have its offset and length a
 * multiple of *alignp and its buffer aligned to it (*alignp: the file
 * system's or the device's direct-I/O alignment, at least 512).
 * Returns 0, EINVAL when the host's file system refuses direct I/O
 * (ramfs, some FUSE file systems), or the host's error.
 */
int hyp_bio_direct(int fd, int on, unsigned *alignp);
/*
 * hyp_bio_async - rumpuser_bio for a transfer nobody waits for yet
 * (read-ahead): on a direct fd it always goes to the host's queue and
 * completes later on a host thread.  rumpuser_bio may instead do a read
 * on the caller when that is quickest for a waiting caller; on a direct
 * fd such a read waits for the device, which would serialise read-ahead.
 */
void hyp_bio_async(int fd, int op, void *data, size_t dlen, int64_t off,
    rump_biodone_fn biodone, void *bioarg);

/* ---------------------------------------------------------------------
 * CPUs
 * ------------------------------------------------------------------- */
/* Number of CPUs this process may run on. */
int hyp_cpu_count(void);
/* Pin the calling thread to host CPU cpu.  0, EINVAL (no such CPU or not
 * allowed for this process). */
int hyp_cpu_pin(int cpu);
/* The CPU the caller runs on now. */
int hyp_cpu_current(void);
/*
 * The host CPU that rumpuser_thread_create's cpuidx pins a thread to, or
 * -1 when it pins none.  POSIX host: cpuidx itself when this process may
 * run there.  DPDK host: the CPU of the EAL's (cpuidx mod lcores)-th
 * lcore (KRANK_DPDK_CORES), and the thread is registered with the EAL
 * (it gets an lcore id) for its life.
 */
int hyp_cpu_host(int cpuidx);

/* ---------------------------------------------------------------------
 * Waiting on a word
 * ------------------------------------------------------------------- */
/*
 * hyp_word_wait - sleep while *word equals val (checked atomically with
 * going to sleep), at most ns nanoseconds (0: no limit).  Returns after a
 * hyp_word_wake on word, when *word was not val, at the limit, or
 * spuriously: the caller looks at its condition again.
 * hyp_word_wake - wake up to n threads sleeping on word.  A wake of a
 * word whose memory was freed is harmless: at most a spurious return for
 * whoever sleeps on that address now.  For memory of this process (the
 * POSIX host: a private futex).
 */
void hyp_word_wait(const uint32_t *word, uint32_t val, uint64_t ns);
void hyp_word_wake(const uint32_t *word, int n);

#ifdef __cplusplus
}
#endif
#endif
