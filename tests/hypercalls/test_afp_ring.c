/*
 * test_afp_ring - the AF_PACKET backend's check of receive-ring slots
 * (pkt_afpacket_ring.h) against hostile headers: what the host kernel
 * wrote is read once and a frame is taken only when it lies whole inside
 * its slot.  Synthetic slots: hand-made edge cases, then a ring of slots
 * with random headers whose accepted frames are copied out of slots
 * allocated one by one (ASan's build catches a copy past a slot).  Also:
 * ring=yes|no is an afpacket option only.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <krank/hyp.h>
#include "pkt_afpacket_ring.h"

static int failures;

#define CHECK(cond, ...) do {                                          \
	printf("%s: ", (cond) ? "ok" : "FAIL");                         \
	if (!(cond))                                                    \
		failures++;                                             \
	printf(__VA_ARGS__);                                            \
	printf("\n");                                                   \
} while (0)

#define CAP 1518u

static enum afp_rx_verdict
check(uint32_t status, unsigned mac, uint32_t snap, uint32_t len)
{
	struct tpacket2_hdr *h = calloc(1, AFP_SLOT);
	struct afp_rx_slot s;
	h->tp_status = status;
	h->tp_mac = (uint16_t)mac;
	h->tp_snaplen = snap;
	h->tp_len = len;
	enum afp_rx_verdict v = afp_rx_slot_check(h, status, AFP_SLOT,
	    AFP_TX_DATA, CAP, &s);
	if (v == AFP_RX_OK && (s.off + s.len > AFP_SLOT || s.len > CAP))
		v = (enum afp_rx_verdict)-1;	/* accepted outside the slot */
	free(h);
	return v;
}

int
main(void)
{
	const unsigned mac = 66;		/* where Linux puts a frame */

	CHECK(check(TP_STATUS_KERNEL, mac, 60, 60) == AFP_RX_EMPTY,
	    "a slot still the kernel's is not read");
	CHECK(check(TP_STATUS_USER, mac, 60, 60) == AFP_RX_OK,
	    "a 60-byte frame at offset 66 is taken");
	CHECK(check(TP_STATUS_USER | TP_STATUS_LOSING, mac, 1514, 1514) ==
	    AFP_RX_OK, "a full-size frame is taken");
	CHECK(check(TP_STATUS_USER | TP_STATUS_COPY, mac, 1514, 9000) ==
	    AFP_RX_COPY, "a frame too big for a slot (COPY) is taken from "
	    "the socket's queue");
	CHECK(check(TP_STATUS_USER, mac, 100, 200) == AFP_RX_BAD,
	    "a truncated frame (snaplen < len) is dropped");
	CHECK(check(TP_STATUS_USER, mac, 13, 13) == AFP_RX_BAD,
	    "a runt (13 bytes) is dropped");
	CHECK(check(TP_STATUS_USER, mac, CAP + 1, CAP + 1) == AFP_RX_BAD,
	    "a frame longer than the receive buffer is dropped");
	CHECK(check(TP_STATUS_USER, 8, 60, 60) == AFP_RX_BAD,
	    "a frame overlapping the slot header is dropped");
	CHECK(check(TP_STATUS_USER, AFP_SLOT - 50, 60, 60) == AFP_RX_BAD,
	    "a frame running past the slot's end is dropped");
	CHECK(check(TP_STATUS_USER, 0xffff, 60, 60) == AFP_RX_BAD,
	    "an offset beyond the slot is dropped");
	CHECK(check(TP_STATUS_USER, mac, 0xffffffffu, 0xffffffffu) ==
	    AFP_RX_BAD, "a 4 GiB length does not wrap the bounds check");
	CHECK(check(TP_STATUS_USER, AFP_SLOT - 60, 60, 60) == AFP_RX_OK,
	    "a frame ending exactly at the slot's end is taken");

	/* Random headers over a ring of separately allocated slots. */
	enum { NSLOT = 64, ROUNDS = 200000 };
	unsigned char *slot[NSLOT], out[CAP];
	unsigned ok = 0, bad = 0, outside = 0;
	srand(16);
	for (int i = 0; i < NSLOT; i++)
		slot[i] = malloc(AFP_SLOT);
	for (int r = 0; r < ROUNDS; r++) {
		struct tpacket2_hdr *h = (struct tpacket2_hdr *)slot[r % NSLOT];
		uint32_t st = (uint32_t)rand();
		h->tp_status = st;
		/* Mostly plausible values, sometimes anything. */
		h->tp_mac = (uint16_t)(rand() % 4 ? (unsigned)rand() % (AFP_SLOT + 64) :
		    (unsigned)rand());
		h->tp_snaplen = (uint32_t)(rand() % 4 ? rand() % 2100 : rand());
		h->tp_len = rand() % 3 ? h->tp_snaplen : (uint32_t)rand();
		struct afp_rx_slot s;
		enum afp_rx_verdict v = afp_rx_slot_check(h, st, AFP_SLOT,
		    AFP_TX_DATA + 10, CAP, &s);
		if (v == AFP_RX_OK) {
			if (s.off < AFP_TX_DATA + 10 || s.off + s.len > AFP_SLOT ||
			    s.len > CAP || s.len < 14)
				outside++;
			else
				memcpy(out, (unsigned char *)h + s.off, s.len);
			ok++;
		} else if (v == AFP_RX_BAD || v == AFP_RX_COPY)
			bad++;
	}
	for (int i = 0; i < NSLOT; i++)
		free(slot[i]);
	CHECK(outside == 0 && ok > 1000 && bad > 1000,
	    "%d random slot headers: %u frames taken (all inside their slot), "
	    "%u dropped", ROUNDS, ok, bad);

	struct hyp_pkt *p;
	CHECK(hyp_pkt_open("wire:afpring,ring=no", &p) == 22,
	    "ring=no on a wire port is refused (EINVAL)");
	CHECK(hyp_pkt_open("afpacket:lo,ring=maybe", &p) == 22,
	    "ring=maybe is refused (EINVAL)");
	printf("%s\n", failures ? "FAIL: test_afp_ring" : "PASS: test_afp_ring");
	return failures != 0;
}
