/*
 * pkt_afpacket_ring.h - the layout of the AF_PACKET backend's PACKET_MMAP
 * rings (TPACKET_V2) and the check of what the host kernel wrote into a
 * receive slot.  Pure: no host calls, so tests feed it hostile slots
 * (tests/hypercalls/test_afp_ring.c).
 */
#ifndef KRANK_PKT_AFPACKET_RING_H
#define KRANK_PKT_AFPACKET_RING_H

#include <stddef.h>
#include <stdint.h>
#include <linux/if_packet.h>

/*
 * Why TPACKET_V2 and not V3's blocks: a V3 block reaches user space only
 * when it is full or its retire timer (at least one jiffy, 1-4 ms) fires,
 * so a lone frame -- a ping, a request, an ACK -- waits milliseconds.  V2
 * hands over every frame as it lands (a status word per slot) and still
 * lets one wake-up take every frame that is ready.
 */
#define AFP_SLOT	2048u		/* slot bytes: header + a 1,500-byte frame */
#define AFP_BLOCK	(1u << 16)	/* bytes per ring block (page multiple) */
#define AFP_RX_SLOTS	1024u		/* 2 MiB of receive ring */
#define AFP_TX_SLOTS	512u		/* 1 MiB of send ring */
/* With offloads (PACKET_VNET_HDR) a send slot takes a 64 KB segment:
 * one slot per 128 KiB block (the kernel allocates blocks in powers of
 * two pages). */
#define AFP_TX_BIGSLOT	(1u << 17)
#define AFP_TX_BIGSLOTS	32u		/* 4 MiB of send ring */
/* Where a frame starts in a send slot (the kernel's tp_hdrlen less the
 * sockaddr_ll it reserves; no PACKET_TX_HAS_OFF). */
#define AFP_TX_DATA	TPACKET_ALIGN(sizeof(struct tpacket2_hdr))

/* A checked receive slot: the frame is [off, off + len) of the slot. */
struct afp_rx_slot {
	size_t off, len;
};

enum afp_rx_verdict {
	AFP_RX_EMPTY,			/* still the kernel's */
	AFP_RX_OK,			/* a frame in *out */
	AFP_RX_BAD,			/* ours, but no usable frame: drop, count */
	AFP_RX_COPY,			/* too big for the slot: the whole frame
					 * waits on the socket's queue
					 * (TP_STATUS_COPY, PACKET_COPY_THRESH) */
};

/*
 * afp_rx_slot_check - read the header of receive slot h (slot_size bytes,
 * written by the host kernel) whose status word the caller loaded as
 * status (with acquire order).  A frame is usable when the kernel handed
 * the slot over (TP_STATUS_USER), kept all of it in the slot (snaplen ==
 * len), it lies inside the slot after the header, and it is
 * HYP_PKT_MINFRAME..cap bytes.  A frame the slot could not hold whose
 * copy the kernel queued on the socket (TP_STATUS_COPY) is AFP_RX_COPY:
 * the caller takes (or drops) one frame from the queue for it.  Every field is read
 * once: the kernel could in principle rewrite the slot meanwhile.
 * hdr_min is where a frame may start at the earliest: the slot header,
 * plus the virtio-net header the kernel puts before the frame when the
 * socket has PACKET_VNET_HDR.
 */
static inline enum afp_rx_verdict
afp_rx_slot_check(const volatile struct tpacket2_hdr *h, uint32_t status,
    size_t slot_size, size_t hdr_min, size_t cap, struct afp_rx_slot *out)
{
	if (!(status & TP_STATUS_USER))
		return AFP_RX_EMPTY;
	if (status & TP_STATUS_COPY)
		return AFP_RX_COPY;	/* too big for a slot */
	size_t mac = h->tp_mac;
	size_t snap = h->tp_snaplen, len = h->tp_len;
	if (snap != len || mac < hdr_min || mac > slot_size ||
	    snap > slot_size - mac || snap < 14 || snap > cap)
		return AFP_RX_BAD;
	out->off = mac;
	out->len = snap;
	return AFP_RX_OK;
}

#endif
