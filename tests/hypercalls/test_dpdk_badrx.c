/*
 * test_dpdk_badrx - what a poll-mode driver hands up is checked before the
 * stack sees it.  On the DPDK host, the test makes its own ring port
 * (rte_eth_from_rings over one ring it holds, opened by its DPDK name,
 * dpdk:net_ring_kbad)
 * and enqueues crafted mbufs on the port's receive ring, as a PMD would
 * hand them up: a frame shorter than an Ethernet header, one longer than
 * MTU + 18, a chain of more segments than the port takes, an mbuf whose
 * lengths disagree, and a short chain.  Each bad one is dropped and
 * counted in rx_bad, never a crash or a frame with wrong bytes; the short
 * chain arrives as one contiguous, intact frame; a good frame after them
 * all still arrives.
 */
#include <stdint.h>
#include <stdlib.h>
#include <krank/hyp.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include "hyptest.h"

static struct rte_mempool *pool;

/* One mbuf of len bytes, byte i = i * 3 + seed. */
static struct rte_mbuf *
seg(size_t len, unsigned seed, size_t off)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	if (m == NULL)
		return NULL;
	unsigned char *d = (unsigned char *)rte_pktmbuf_append(m, (uint16_t)len);
	if (d == NULL) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	for (size_t i = 0; i < len; i++)
		d[i] = (unsigned char)((off + i) * 3 + seed);
	return m;
}

/* A chain of nseg segments of seglen bytes each. */
static struct rte_mbuf *
chain(unsigned nseg, size_t seglen, unsigned seed)
{
	struct rte_mbuf *head = seg(seglen, seed, 0);
	for (unsigned i = 1; head != NULL && i < nseg; i++) {
		struct rte_mbuf *m = seg(seglen, seed, i * seglen);
		if (m == NULL || rte_pktmbuf_chain(head, m) != 0) {
			rte_pktmbuf_free(m);
			rte_pktmbuf_free(head);
			return NULL;
		}
	}
	return head;
}

/* Receive what the port hands up within 500 ms; check each frame's bytes
 * against the pattern of seed and its length want_len. */
static unsigned
drain(struct hyp_pkt *p, size_t want_len, unsigned seed, int *intact)
{
	struct hyp_pkt_frame fr[16];
	unsigned got = 0, n;

	*intact = 1;
	ht_schedule();
	while (hyp_pkt_wait(p, 500) == 0) {
		if (hyp_pkt_recv(p, fr, 16, &n) != 0)
			break;
		for (unsigned i = 0; i < n; i++, got++) {
			const unsigned char *d = fr[i].data;
			if (fr[i].len != want_len)
				*intact = 0;
			for (size_t k = 0; *intact && k < fr[i].len; k++)
				if (d[k] != (unsigned char)(k * 3 + seed))
					*intact = 0;
			hyp_pkt_frame_free(p, &fr[i]);
		}
		if (n == 0)
			break;
	}
	ht_unschedule();
	return got;
}

static void
push(struct rte_ring *r, struct rte_mbuf *m, const char *what)
{
	if (m == NULL || rte_ring_enqueue(r, m) != 0) {
		printf("FAIL: could not craft and enqueue %s\n", what);
		exit(1);
	}
}

int
main(void)
{
	struct hyp_pkt *p = NULL;
	struct hyp_pkt_stats st;
	int intact;
	unsigned got;

	setenv("KRANK_DPDK_MEM", "64", 1);
	ht_init(1);
	pool = rte_pktmbuf_pool_create("badrx", 1023, 0, 0,
	    RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	struct rte_ring *r = rte_ring_create("badrx", 256, SOCKET_ID_ANY, 0);
	CHECK(pool != NULL && r != NULL, "a mempool and a ring for crafted mbufs");
	int port = rte_eth_from_rings("kbad", &r, 1, &r, 1, SOCKET_ID_ANY);
	CHECK(port >= 0, "a ring port kbad over the test's ring (%d)", port);
	char pname[RTE_ETH_NAME_MAX_LEN] = "", spec[RTE_ETH_NAME_MAX_LEN + 8];
	if (port >= 0)
		rte_eth_dev_get_name_by_port((uint16_t)port, pname);
	snprintf(spec, sizeof(spec), "dpdk:%s", pname);
	int rv = hyp_pkt_open(spec, &p);
	CHECK(rv == 0, "%s opens (%d)", spec, rv);
	if (pool == NULL || r == NULL || port < 0 || rv != 0)
		return ht_done("test_dpdk_badrx");
	struct hyp_pkt_info info;
	hyp_pkt_info(p, &info);

	/* Runt: 10 bytes, less than an Ethernet header. */
	push(r, seg(10, 1, 0), "a runt");
	got = drain(p, 0, 1, &intact);
	hyp_pkt_stats(p, &st);
	CHECK(got == 0 && st.rx_bad == 1, "a 10-byte frame is dropped and "
	    "counted (%u handed up, rx_bad %llu)", got,
	    (unsigned long long)st.rx_bad);

	/* Oversized: one segment of MTU + 19 bytes. */
	push(r, seg(info.mtu + 19, 2, 0), "an oversized frame");
	got = drain(p, 0, 2, &intact);
	hyp_pkt_stats(p, &st);
	CHECK(got == 0 && st.rx_bad == 2, "a frame of MTU + 19 = %u bytes is "
	    "dropped and counted (%u handed up, rx_bad %llu)", info.mtu + 19,
	    got, (unsigned long long)st.rx_bad);

	/* A chain longer than the port takes: 40 segments of 30 bytes. */
	push(r, chain(40, 30, 3), "a 40-segment chain");
	got = drain(p, 0, 3, &intact);
	hyp_pkt_stats(p, &st);
	CHECK(got == 0 && st.rx_bad == 3, "a chain of 40 segments (1200 "
	    "bytes) is dropped and counted (%u handed up, rx_bad %llu)", got,
	    (unsigned long long)st.rx_bad);

	/* Lengths that disagree: pkt_len 900, the data 100 bytes. */
	struct rte_mbuf *m = seg(100, 4, 0);
	if (m != NULL)
		m->pkt_len = 900;
	push(r, m, "a malformed mbuf");
	/* nb_segs 3 with one segment: a chain the PMD broke. */
	m = seg(100, 4, 0);
	if (m != NULL)
		m->nb_segs = 3;
	push(r, m, "an mbuf with a wrong segment count");
	got = drain(p, 0, 4, &intact);
	hyp_pkt_stats(p, &st);
	CHECK(got == 0 && st.rx_bad == 5, "mbufs whose lengths or segment "
	    "count disagree are dropped and counted (%u handed up, rx_bad "
	    "%llu)", got, (unsigned long long)st.rx_bad);

	/* A short chain: 3 segments of 100 bytes, handed up contiguous. */
	push(r, chain(3, 100, 5), "a 3-segment chain");
	got = drain(p, 300, 5, &intact);
	hyp_pkt_stats(p, &st);
	CHECK(got == 1 && intact && st.rx_bad == 5, "a chain of 3 segments "
	    "arrives as one contiguous 300-byte frame, intact (%u, intact %d)",
	    got, intact);

	/* Everything bad at once, then a good frame: only the good one. */
	for (int i = 0; i < 10; i++) {
		push(r, seg(5, 6, 0), "a runt");
		push(r, chain(40, 30, 6), "a long chain");
	}
	push(r, seg(60, 6, 0), "a good frame");
	got = drain(p, 60, 6, &intact);
	hyp_pkt_stats(p, &st);
	CHECK(got == 1 && intact && st.rx_bad == 25, "after 20 bad mbufs a "
	    "good 60-byte frame still arrives intact (%u handed up, rx_bad "
	    "%llu)", got, (unsigned long long)st.rx_bad);
	CHECK(st.rx_frames == 2, "rx_frames counts only what was handed up "
	    "(%llu)", (unsigned long long)st.rx_frames);
	CHECK(rte_mempool_avail_count(pool) == 1023, "every crafted mbuf went "
	    "back to its pool (%u of 1023)", rte_mempool_avail_count(pool));

	hyp_pkt_close(p);
	unsetenv("KRANK_DPDK_MEM");
	return ht_done("test_dpdk_badrx");
}
