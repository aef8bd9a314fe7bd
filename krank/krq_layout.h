/*
 * krq_layout.h - the shared-memory region of one queue client, as both
 * sides see it: KRANK (krq_server.c) and the client library
 * (krq_client.c).  Raise KRQ_VERSION when anything here changes meaning.
 *
 * Region (a sealed memfd, mapped by both):
 *   [0, KRQ_PAGE)            struct krq_hdr: geometry, then the status line
 *   rings_off                ring pair r: request ring, then response ring,
 *                            at rings_off + (2r + {0,1}) * ring_size
 *   area_off .. +area_len    the buffer area payloads point into
 * A ring is a control block (head, tail, bell: one cache line each) and
 * nslots fixed-size slots (struct krq_slot + data).  Single producer,
 * single consumer; head and tail are free-running u32 indices (slot =
 * index & (nslots - 1)).  Request ring: the client produces, KRANK
 * consumes; response ring the reverse.  KRANK never reads back the fields
 * it writes (its own copies are authoritative) and checks every field the
 * client writes.
 *
 * Publishing message i: the producer writes data and len, then stores
 * flags with the slot's tag KRQ_SLOT_TAG(i) (release), then head = i + 1
 * (release).  The consumer takes slot i when its tag says i (acquire):
 * it spins on the slot's own line, so a small message costs one
 * cache-line transfer, as a bare ping-pong does, not two (head, then the
 * slot).  head is published too, for the abuse checks (KRANK checks the
 * request head every nslots messages and before it sleeps) and to show
 * the fill: it never leads the consumer's tail by more than nslots, and
 * lags it by at most one message (the tag is stored before head).
 *
 * Doorbell (one per ring, the consumer's): the consumer spins, then stores
 * KRQ_BELL_SLEEPING into bell, re-checks the tag of its next slot and
 * futex-waits on bell (a shared futex: both processes map the word).  The
 * producer, after publishing, fences and reads bell; only when it sees
 * SLEEPING does it exchange it to AWAKE and FUTEX_WAKE (the exchange makes
 * a wait that has not started yet return at once: no lost wake-up).  A
 * spinning consumer costs the producer no system call.
 *
 * Beside the bell, on the same line, the consumer keeps the CPU it last
 * ran on (cpu, + 1; 0: not known): KRANK's server thread on the request
 * ring, the client on the response ring.  Each side reads the other's
 * before it spins: a spin on the CPU the peer needs only keeps the peer
 * from answering, so then it sleeps at once.  A hint only: any value is
 * harmless (KRANK never trusts it for more than that).  Added in place of
 * padding: a side that does not write it leaves 0, "not known".
 */
#ifndef KRQ_LAYOUT_H
#define KRQ_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#define KRQ_MAGIC		0x3151524bu	/* "KRQ1" */
#define KRQ_VERSION		1
#define KRQ_LINE		64
#define KRQ_PAGE		4096u

/* Limits both sides check (krq_sclient_create, krq_map). */
#define KRQ_MAX_RINGS		64
#define KRQ_MIN_SLOTS		2
#define KRQ_MAX_SLOTS		4096		/* power of two */
#define KRQ_MIN_SLOT_SIZE	64		/* multiple of KRQ_LINE */
#define KRQ_MAX_SLOT_SIZE	65536
#define KRQ_MAX_AREA		(1ull << 30)	/* multiple of KRQ_PAGE */

/* hdr.state, written by KRANK only. */
#define KRQ_STATE_LIVE		0
#define KRQ_STATE_CUT		1	/* cut off for abuse: reason says why */
#define KRQ_STATE_CLOSED	2	/* KRANK ended the attachment */

#define KRQ_BELL_AWAKE		0u
#define KRQ_BELL_SLEEPING	1u

/* Slot flags: the low 8 bits are flags, the high 24 the tag of the
 * message that last filled the slot ((index + 1) mod 2^24: never equal to
 * a stale tag of the same slot, as nslots <= 4096). */
#define KRQ_SLOT_REJECTED	0x1u	/* response: KRANK refused the request
					   as malformed (and counted it) */
#define KRQ_SLOT_FLAG_MASK	0xffu
#define KRQ_SLOT_TAG_MASK	0xffffff00u
#define KRQ_SLOT_TAG(idx)	((((uint32_t)(idx) + 1u) & 0xffffffu) << 8)

#define KRQ_REASON_MAX		192

/* hdr.features */
/* fixed-layout frames (krq_fixed.h) */
#define KRQ_FEAT_FIXED		0x1u

struct krq_hdr {
	/* Geometry: written once by KRANK before the memfd is handed out. */
	uint32_t magic;			/* KRQ_MAGIC */
	uint32_t version;		/* KRQ_VERSION */
	uint32_t hdr_size;		/* sizeof(struct krq_hdr) */
	uint32_t nrings;		/* ring pairs, 1..KRQ_MAX_RINGS */
	uint32_t nslots;		/* slots per ring, power of two */
	uint32_t slot_size;		/* bytes per slot, struct krq_slot included */
	uint64_t rings_off;		/* KRQ_PAGE */
	uint64_t ring_size;		/* KRQ_RING_CTL_SIZE + nslots * slot_size */
	uint64_t area_off;		/* page after the last ring */
	uint64_t area_len;		/* multiple of KRQ_PAGE, may be 0 */
	uint64_t region_len;		/* area_off + area_len */
	uint64_t spin_ns;		/* suggested spin of the client's waits */
	uint32_t features;		/* KRQ_FEAT_*: what KRANK's serve
					   function understands (0 in an
					   older KRANK: was padding) */
	uint8_t pad0[KRQ_LINE - 12];
	/* Status: KRANK writes, the client reads. */
	_Alignas(KRQ_LINE) uint32_t state;	/* KRQ_STATE_* */
	uint32_t pad1;
	char reason[KRQ_REASON_MAX];	/* NUL-terminated, when not LIVE */
};

struct krq_ring_ctl {
	_Alignas(KRQ_LINE) uint32_t head;	/* producer: next index to fill */
	_Alignas(KRQ_LINE) uint32_t tail;	/* consumer: next index to take */
	_Alignas(KRQ_LINE) uint32_t bell;	/* consumer's sleep announcement */
	uint32_t cpu;			/* consumer's CPU + 1, 0: not known */
};
#define KRQ_RING_CTL_SIZE	(3 * KRQ_LINE)

struct krq_slot {
	uint32_t len;			/* bytes of data */
	uint32_t flags;			/* KRQ_SLOT_TAG | KRQ_SLOT_* flags */
	unsigned char data[];		/* slot_size - KRQ_SLOT_HDR bytes */
};
#define KRQ_SLOT_HDR		8

_Static_assert(sizeof(struct krq_hdr) <= KRQ_PAGE, "krq_hdr fits its page");
_Static_assert(offsetof(struct krq_hdr, nrings) == 12, "krq_hdr nrings");
_Static_assert(offsetof(struct krq_hdr, rings_off) == 24, "krq_hdr rings_off");
_Static_assert(offsetof(struct krq_hdr, spin_ns) == 64, "krq_hdr spin_ns");
_Static_assert(offsetof(struct krq_hdr, features) == 72, "krq_hdr features");
_Static_assert(offsetof(struct krq_hdr, state) == 2 * KRQ_LINE, "krq_hdr state");
_Static_assert(offsetof(struct krq_hdr, reason) == 2 * KRQ_LINE + 8,
    "krq_hdr reason");
_Static_assert(sizeof(struct krq_ring_ctl) == KRQ_RING_CTL_SIZE,
    "krq_ring_ctl: head, tail, bell on lines of their own");
_Static_assert(offsetof(struct krq_ring_ctl, tail) == KRQ_LINE, "ctl tail");
_Static_assert(offsetof(struct krq_ring_ctl, bell) == 2 * KRQ_LINE, "ctl bell");
_Static_assert(offsetof(struct krq_ring_ctl, cpu) == 2 * KRQ_LINE + 4, "ctl cpu");
_Static_assert(sizeof(struct krq_slot) == KRQ_SLOT_HDR, "krq_slot header");
_Static_assert((KRQ_MAX_SLOTS & (KRQ_MAX_SLOTS - 1)) == 0, "max slots pow2");
_Static_assert(KRQ_MAX_SLOTS < (1u << 24), "tags tell laps apart");

/* The geometry for nrings/nslots/slot_size/area_len (unchecked inputs
 * within the limits above): both sides compute it, the client compares. */
static inline uint64_t
krq_ring_size(uint32_t nslots, uint32_t slot_size)
{
	return KRQ_RING_CTL_SIZE + (uint64_t)nslots * slot_size;
}

static inline uint64_t
krq_area_off(uint32_t nrings, uint32_t nslots, uint32_t slot_size)
{
	uint64_t end = KRQ_PAGE + 2ull * nrings * krq_ring_size(nslots,
	    slot_size);
	return (end + KRQ_PAGE - 1) & ~(uint64_t)(KRQ_PAGE - 1);
}

/* Ring i (0 .. 2*nrings-1: pair r has request ring 2r, response 2r+1). */
static inline struct krq_ring_ctl *
krq_ring_ctl_at(void *base, uint64_t ring_size, unsigned i)
{
	return (struct krq_ring_ctl *)((char *)base + KRQ_PAGE +
	    (uint64_t)i * ring_size);
}

static inline struct krq_slot *
krq_slot_at(struct krq_ring_ctl *ctl, uint32_t slot_size, uint32_t idx,
    uint32_t mask)
{
	return (struct krq_slot *)((char *)ctl + KRQ_RING_CTL_SIZE +
	    (uint64_t)(idx & mask) * slot_size);
}

/* krq_slot_ready - slot holds message idx (its tag, read with acquire:
 * the data and len written before it are visible). */
static inline int
krq_slot_ready(const struct krq_slot *s, uint32_t idx)
{
	uint32_t f = __atomic_load_n(&s->flags, __ATOMIC_ACQUIRE);
	return (f & KRQ_SLOT_TAG_MASK) == KRQ_SLOT_TAG(idx);
}

#endif
