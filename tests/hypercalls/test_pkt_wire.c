/*
 * test_pkt_wire - packet I/O over the in-process wire: both directions,
 * frame contents, batches, MTU limits, buffer exhaustion (counted drops),
 * blocking waits with timeouts, the callback receiver, seeded impairments
 * that reproduce, and bad specs refused.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <krank/hyp.h>
#include "hyptest.h"

static void
mkframe(unsigned char *f, size_t len, uint32_t seq)
{
	memset(f, 0xff, 6);
	memcpy(f + 6, "\x02\x00\x00\x00\x00\x01", 6);
	f[12] = 0x88;
	f[13] = 0xb5;			/* local experimental ethertype */
	for (size_t i = 14; i < len; i++)
		f[i] = (unsigned char)(seq + i);
	if (len >= 18)
		memcpy(f + 14, &seq, 4);
}

static int
send_seq(struct hyp_pkt *p, uint32_t seq, size_t len)
{
	unsigned char f[2048];
	mkframe(f, len, seq);
	struct rumpuser_iovec iov[2] = { { f, 10 }, { f + 10, len - 10 } };
	return hyp_pkt_send(p, iov, 2);
}

static int
frame_ok(const struct hyp_pkt_frame *fr, uint32_t *seqp)
{
	unsigned char f[2048];
	uint32_t seq;
	if (fr->len < 18)
		return 0;
	memcpy(&seq, (const unsigned char *)fr->data + 14, 4);
	mkframe(f, fr->len, seq);
	*seqp = seq;
	return memcmp(f, fr->data, fr->len) == 0;
}

/* Receive everything waiting; return count; record sequence numbers. */
static unsigned
drain(struct hyp_pkt *p, uint32_t *seqs, unsigned max, int *bad)
{
	struct hyp_pkt_frame fr[64];
	unsigned n, total = 0;
	while (hyp_pkt_recv(p, fr, 64, &n) == 0 && n > 0) {
		for (unsigned i = 0; i < n; i++) {
			uint32_t s = 0;
			if (!frame_ok(&fr[i], &s))
				(*bad)++;
			if (total < max && seqs)
				seqs[total] = s;
			total++;
			hyp_pkt_frame_free(p, &fr[i]);
		}
	}
	return total;
}

static atomic_uint cb_frames;
static pthread_mutex_t cbm = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cbc = PTHREAD_COND_INITIALIZER;
static struct hyp_pkt *cbport;
static void
rx_cb(void *arg, struct hyp_pkt_frame *f, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		hyp_pkt_frame_free(cbport, &f[i]);
	pthread_mutex_lock(&cbm);
	atomic_fetch_add(&cb_frames, n);
	pthread_cond_signal(&cbc);
	pthread_mutex_unlock(&cbm);
}

/* Send n frames through a wire with the given impairment spec. */
static void
impaired_run(const char *spec, unsigned n, uint32_t *seqs, unsigned *got)
{
	struct hyp_pkt *a, *b;
	int bad = 0;
	hyp_pkt_open(spec, &a);
	char other[64];
	snprintf(other, sizeof(other), "wire:%s", strchr(spec, ':') + 1);
	*strchr(other, ',') = '\0';
	hyp_pkt_open(other, &b);
	*got = 0;
	for (uint32_t i = 0; i < n; i++) {
		send_seq(a, i, 64);
		*got += drain(b, seqs + *got, 4 * n - *got, &bad);
	}
	hyp_pkt_close(a);
	hyp_pkt_close(b);
}

int
main(void)
{
	struct hyp_pkt *a, *b, *c;
	struct hyp_pkt_info ia, ib;
	struct hyp_pkt_stats st;
	int bad = 0;

	ht_init(2);
	ht_schedule();
	CHECK(hyp_pkt_open("wire:t1", &a) == 0 && hyp_pkt_open("wire:t1", &b) == 0,
	    "two ends of wire:t1 open");
	CHECK(hyp_pkt_open("wire:t1", &c) == 16, "a third open gives EBUSY");
	hyp_pkt_info(a, &ia);
	hyp_pkt_info(b, &ib);
	CHECK(ia.mtu == 1500 && (ia.lladdr[0] & 3) == 2 && memcmp(ia.lladdr, ib.lladdr, 6),
	    "default MTU 1500, distinct locally administered addresses "
	    "%02x:%02x:%02x:%02x:%02x:%02x", ia.lladdr[0], ia.lladdr[1], ia.lladdr[2],
	    ia.lladdr[3], ia.lladdr[4], ia.lladdr[5]);

	int rv = 0;
	for (uint32_t i = 0; i < 500; i++)
		rv |= send_seq(a, i, 60 + i % 1400);
	uint32_t seqs[4096];
	unsigned n = drain(b, seqs, 4096, &bad);
	int inorder = 1;
	for (unsigned i = 0; i < n; i++)
		inorder &= seqs[i] == i;
	CHECK(rv == 0 && n == 500 && bad == 0 && inorder,
	    "500 frames of 60..1459 bytes, sent as 2-part iovecs, arrive intact and in order");
	CHECK(send_seq(b, 7, 100) == 0 && drain(a, seqs, 1, &bad) == 1 && seqs[0] == 7,
	    "the other direction works too");
	CHECK(send_seq(a, 1, 1519) == 40, "a frame over MTU + header + VLAN tag (1518) gives EMSGSIZE");
	unsigned char tiny[10] = { 0 };
	struct rumpuser_iovec tv = { tiny, 10 };
	CHECK(hyp_pkt_send(a, &tv, 1) == 40, "a frame shorter than a header gives EMSGSIZE");

	/* Exhaust b's buffers: hold every frame. */
	static struct hyp_pkt_frame held[1100];
	unsigned nheld = 0, got;
	for (uint32_t i = 0; i < 1100; i++) {
		send_seq(a, i, 64);
		if (hyp_pkt_recv(b, &held[nheld], 1, &got) == 0)
			nheld += got;
	}
	hyp_pkt_stats(b, &st);
	CHECK(nheld == ib.nbufs && st.rx_nobuf == 1100 - ib.nbufs,
	    "with all %u buffers held, %llu further frames are dropped and counted",
	    ib.nbufs, (unsigned long long)st.rx_nobuf);
	for (unsigned i = 0; i < nheld; i++)
		hyp_pkt_frame_free(b, &held[i]);
	CHECK(send_seq(a, 5, 64) == 0 && drain(b, NULL, 0, &bad) == 1,
	    "freed buffers are used again");

	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	unsigned long u0 = ht_thread_unscheds();
	rv = hyp_pkt_wait(b, 30);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
	CHECK(rv == 60 && ms >= 29, "wait on an idle port times out (ETIMEDOUT) after %.1f ms", ms);
	CHECK(ht_thread_unscheds() == u0 + 1, "the wait released the CPU");
	send_seq(a, 9, 64);
	CHECK(hyp_pkt_wait(b, 1000) == 0, "wait returns at once when a frame is queued");
	drain(b, NULL, 0, &bad);

	cbport = b;
	CHECK(hyp_pkt_set_rx(b, rx_cb, NULL) == 0, "callback receiver started");
	CHECK(hyp_pkt_set_rx(b, rx_cb, NULL) == 16, "a second callback gives EBUSY");
	for (uint32_t i = 0; i < 300; i++)
		send_seq(a, i, 64);
	pthread_mutex_lock(&cbm);
	while (atomic_load(&cb_frames) < 300) {
		struct timespec dl;
		clock_gettime(CLOCK_REALTIME, &dl);
		dl.tv_sec += 10;
		if (pthread_cond_timedwait(&cbc, &cbm, &dl) != 0)
			break;
	}
	pthread_mutex_unlock(&cbm);
	CHECK(atomic_load(&cb_frames) == 300, "callback received all 300 frames in batches");
	hyp_pkt_set_rx(b, NULL, NULL);
	hyp_pkt_stats(a, &st);
	CHECK(st.tx_frames == 500 + 1100 + 1 + 1 + 300 && st.tx_errors == 2,
	    "tx counters: %llu frames, %llu errors", (unsigned long long)st.tx_frames,
	    (unsigned long long)st.tx_errors);
	hyp_pkt_close(a);
	hyp_pkt_close(b);
	CHECK(hyp_pkt_open("wire:t1", &a) == 0, "a closed wire can be opened again");
	hyp_pkt_close(a);

	static uint32_t s1[8000], s2[8000];
	unsigned g1, g2;
	impaired_run("wire:imp,loss=10,dup=5,reorder=5,seed=7", 2000, s1, &g1);
	impaired_run("wire:imp,loss=10,dup=5,reorder=5,seed=7", 2000, s2, &g2);
	unsigned dups = 0, reordered = 0;
	for (unsigned i = 1; i < g1; i++) {
		dups += s1[i] == s1[i - 1];
		reordered += s1[i] < s1[i - 1];
	}
	CHECK(g1 == g2 && memcmp(s1, s2, g1 * sizeof(s1[0])) == 0,
	    "the same seed gives the same %u deliveries", g1);
	CHECK(g1 > 1600 && g1 < 2000 && dups > 30 && reordered > 30,
	    "10%% loss, 5%% dup, 5%% reorder: %u of 2000 delivered, %u dups, %u reordered",
	    g1, dups, reordered);

	static const char *badspecs[] = { "wire", "wire:", "nosuch:x", ":x",
	    "wire:a,mtu=10", "wire:a,mtu=99999", "wire:a,loss=101", "wire:a,bogus=1",
	    "wire:a,mac=01:00:00:00:00:01", "wire:a,mac=zz", "tap:x,loss=5",
	    "wire:name-that-is-far-too-long-for-an-interface", "wire:a/b" };
	int allbad = 1;
	for (size_t i = 0; i < sizeof(badspecs) / sizeof(badspecs[0]); i++) {
		int r = hyp_pkt_open(badspecs[i], &a);
		if (r != 22) {
			printf("  spec '%s' gave %d\n", badspecs[i], r);
			allbad = 0;
		}
	}
	CHECK(allbad, "13 malformed specs are refused with EINVAL");
	CHECK(hyp_pkt_open("wire:m,mac=02:aa:bb:cc:dd:ee,mtu=9000", &a) == 0, "mac and mtu options");
	hyp_pkt_info(a, &ia);
	CHECK(ia.mtu == 9000 && ia.lladdr[1] == 0xaa && ia.lladdr[5] == 0xee,
	    "are applied");
	hyp_pkt_close(a);
	ht_unschedule();
	return ht_done("test_pkt_wire");
}
