/*
 * test_pkt_wire - packet I/O over the in-process wire: both directions,
 * frame contents, batches, MTU limits, buffer exhaustion (counted drops),
 * blocking waits with timeouts, the callback receiver, seeded impairments
 * that reproduce, bad specs refused; direct delivery in the sender's
 * thread, checksums left to the wire (completed for receivers that do not
 * take them so), and 64 KiB frames.
 */
#include <pthread.h>
#include <sched.h>
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

/* ---- direct delivery ---- */

static pthread_t direct_sender;
static atomic_uint direct_frames, direct_elsewhere, direct_bad;
static struct hyp_pkt *dport;
static unsigned char dlast[65600];
static size_t dlastlen;
static unsigned dlastflags;
static atomic_int dslow, dinside, ddone;

static void
direct_cb(void *arg, struct hyp_pkt_frame *f, unsigned n)
{
	(void)arg;
	for (unsigned i = 0; i < n; i++) {
		uint32_t seq;
		if (!pthread_equal(pthread_self(), direct_sender))
			atomic_fetch_add(&direct_elsewhere, 1);
		if (f[i].len <= 2048 && f[i].len >= 18 && !frame_ok(&f[i], &seq))
			atomic_fetch_add(&direct_bad, 1);
		dlastlen = f[i].len < sizeof(dlast) ? f[i].len : sizeof(dlast);
		memcpy(dlast, f[i].data, dlastlen);
		dlastflags = f[i].flags;
		hyp_pkt_frame_free(dport, &f[i]);
		atomic_fetch_add(&direct_frames, 1);
	}
	if (atomic_load(&dslow)) {
		atomic_store(&dinside, 1);
		struct timespec d = { 0, 100 * 1000 * 1000 };
		nanosleep(&d, NULL);
		atomic_store(&ddone, 1);
	}
}

static void *
direct_send_thread(void *arg)
{
	struct hyp_pkt *p = arg;
	direct_sender = pthread_self();
	for (uint32_t i = 0; i < 100; i++)
		send_seq(p, i, 64 + i);
	return NULL;
}

static void *
direct_slow_sender(void *arg)
{
	direct_sender = pthread_self();
	send_seq(arg, 1, 64);
	return NULL;
}

/* The Internet checksum of len bytes, written the plain way. */
static uint16_t
ref_cksum(const unsigned char *p, size_t len, uint32_t sum)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* An Ethernet + IPv4 + TCP-like frame of len bytes whose checksum field
 * (34 + 16) holds the pseudo-header sum, as a sender leaving it does. */
static void
mkcsumframe(unsigned char *f, size_t len, uint32_t *phsum)
{
	mkframe(f, len, 77);
	f[12] = 0x08;
	f[13] = 0x00;
	f[14] = 0x45;
	uint32_t ph = 0x0a000001 + 0x0a000002;	/* addresses, 16-bit halves */
	ph = (ph >> 16) + (ph & 0xffff) + 6 + (uint32_t)(len - 34);
	while (ph >> 16)
		ph = (ph & 0xffff) + (ph >> 16);
	*phsum = ph;
	f[50] = (unsigned char)(ph >> 8);
	f[51] = (unsigned char)ph;
}

static void
test_direct(void)
{
	struct hyp_pkt *a, *b;
	struct hyp_pkt_info ib;
	struct hyp_pkt_stats st;

	CHECK(hyp_pkt_open("wire:d1", &a) == 0 && hyp_pkt_open("wire:d1", &b) == 0,
	    "two ends of wire:d1 open");
	dport = b;
	hyp_pkt_info(b, &ib);
	CHECK((ib.caps & (HYP_PKT_CAP_DIRECT | HYP_PKT_CAP_CSUM)) ==
	    (HYP_PKT_CAP_DIRECT | HYP_PKT_CAP_CSUM),
	    "a wire port can deliver directly and carry undone checksums");
	direct_sender = pthread_self();
	for (uint32_t i = 0; i < 3; i++)
		send_seq(a, i, 100);
	CHECK(hyp_pkt_set_rx_flags(b, direct_cb, NULL,
	    HYP_PKT_RX_DIRECT | HYP_PKT_RX_CSUM) == 0 &&
	    atomic_load(&direct_frames) == 3,
	    "direct receiver set; the 3 frames queued before reach it at once");
	CHECK(hyp_pkt_set_rx(b, direct_cb, NULL) == 16, "a second receiver gives EBUSY");
	unsigned sync = 0;
	for (uint32_t i = 0; i < 100; i++) {
		send_seq(a, i, 60 + i * 10);
		sync += atomic_load(&direct_frames) == 4 + i;
	}
	CHECK(sync == 100 && atomic_load(&direct_bad) == 0,
	    "100 frames each reach the callback before hyp_pkt_send returns, intact");
	pthread_t t;
	pthread_create(&t, NULL, direct_send_thread, a);
	pthread_join(t, NULL);
	direct_sender = pthread_self();
	CHECK(atomic_load(&direct_frames) == 203 &&
	    atomic_load(&direct_elsewhere) == 0,
	    "frames sent from another thread are delivered in that thread");

	/* Checksums left to the wire. */
	static unsigned char f[1500];
	uint32_t ph;
	mkcsumframe(f, sizeof(f), &ph);
	struct rumpuser_iovec iov[2] = { { f, 40 }, { f + 40, sizeof(f) - 40 } };
	struct hyp_pkt_txmeta meta = { .flags = HYP_PKT_TX_CSUM,
	    .csum_start = 34, .csum_offset = 16 };
	CHECK(hyp_pkt_send_meta(a, iov, 2, &meta) == 0 &&
	    (dlastflags & HYP_PKT_FRAME_CSUM_OK) && dlastlen == sizeof(f) &&
	    memcmp(dlast, f, sizeof(f)) == 0,
	    "a receiver that takes undone checksums gets the frame as sent, "
	    "marked CSUM_OK");
	CHECK(hyp_pkt_send(a, iov, 2) == 0 && !(dlastflags & HYP_PKT_FRAME_CSUM_OK),
	    "a frame sent without metadata is not marked");
	struct hyp_pkt_txmeta odd = { .flags = HYP_PKT_TX_CSUM,
	    .csum_start = 33, .csum_offset = 16 };
	struct hyp_pkt_txmeta past = { .flags = HYP_PKT_TX_CSUM,
	    .csum_start = 34, .csum_offset = 1470 };
	struct hyp_pkt_txmeta bogus = { .flags = 0x80, .csum_start = 34,
	    .csum_offset = 16 };
	/* The wire cuts no segments (no HYP_PKT_CAP_TSO). */
	struct hyp_pkt_txmeta tso = { .flags = HYP_PKT_TX_CSUM | HYP_PKT_TX_TSO,
	    .csum_start = 34, .csum_offset = 16, .gso_size = 1000,
	    .hdr_len = 54 };
	CHECK(hyp_pkt_send_meta(a, iov, 2, &odd) == 22 &&
	    hyp_pkt_send_meta(a, iov, 2, &past) == 22 &&
	    hyp_pkt_send_meta(a, iov, 2, &bogus) == 22 &&
	    hyp_pkt_send_meta(a, iov, 2, &tso) == 22,
	    "an odd checksum start, a field past the end, an unknown flag, "
	    "segmentation on a port without it: EINVAL");

	/* Stopping waits for a sender inside the callback. */
	atomic_store(&dslow, 1);
	pthread_create(&t, NULL, direct_slow_sender, a);
	while (!atomic_load(&dinside))
		sched_yield();
	hyp_pkt_set_rx(b, NULL, NULL);
	CHECK(atomic_load(&ddone) == 1, "stopping the receiver waited for the "
	    "sender inside the callback");
	pthread_join(t, NULL);
	direct_sender = pthread_self();
	atomic_store(&dslow, 0);

	/* Without a direct receiver, frames queue and the checksum is done. */
	CHECK(hyp_pkt_send_meta(a, iov, 2, &meta) == 0, "sent to a polling receiver");
	struct hyp_pkt_frame fr;
	unsigned n = 0;
	hyp_pkt_recv(b, &fr, 1, &n);
	const unsigned char *d = fr.data;
	CHECK(n == 1 && fr.flags == 0 && memcmp(d, f, 50) == 0 &&
	    memcmp(d + 52, f + 52, sizeof(f) - 52) == 0 &&
	    ref_cksum(d + 34, sizeof(f) - 34, ph) == 0xffff &&
	    (d[50] != f[50] || d[51] != f[51]),
	    "the wire completed the checksum for it (pseudo header + segment "
	    "sums to 0xffff)");
	if (n == 1)
		hyp_pkt_frame_free(b, &fr);
	hyp_pkt_close(a);
	hyp_pkt_close(b);

	/* 64 KiB frames, and ends with different MTUs. */
	static unsigned char big[65549];
	mkframe(big, sizeof(big), 5);
	struct rumpuser_iovec bv = { big, sizeof(big) };
	CHECK(hyp_pkt_open("wire:j,mtu=65535", &a) == 0 &&
	    hyp_pkt_open("wire:j", &b) == 0, "a wire with a 65535-byte MTU end");
	struct hyp_pkt *c;
	CHECK(hyp_pkt_open("wire:j2,mtu=65535", &c) == 0, "and a second one");
	struct hyp_pkt *e;
	hyp_pkt_open("wire:j2,mtu=65535", &e);
	CHECK(hyp_pkt_send(c, &bv, 1) == 0 && hyp_pkt_recv(e, &fr, 1, &n) == 0 &&
	    n == 1 && fr.len == sizeof(big) && memcmp(fr.data, big, sizeof(big)) == 0,
	    "a 65549-byte frame crosses a 65535-MTU wire intact");
	if (n == 1)
		hyp_pkt_frame_free(e, &fr);
	hyp_pkt_close(c);
	hyp_pkt_close(e);
	struct rumpuser_iovec mv = { big, 9014 };
	CHECK(hyp_pkt_send(a, &mv, 1) == 0 && hyp_pkt_recv(b, &fr, 1, &n) == 0 &&
	    n == 0, "a 9014-byte frame to an end with MTU 1500 is not delivered");
	hyp_pkt_stats(b, &st);
	CHECK(st.rx_bad == 1, "and is counted as bad there (%llu)",
	    (unsigned long long)st.rx_bad);
	CHECK(send_seq(b, 9, 1500) == 0 && hyp_pkt_recv(a, &fr, 1, &n) == 0 &&
	    n == 1 && fr.len == 1500, "the small end's frames reach the big end");
	if (n == 1)
		hyp_pkt_frame_free(a, &fr);
	hyp_pkt_close(a);
	hyp_pkt_close(b);
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
	test_direct();
	ht_unschedule();
	return ht_done("test_pkt_wire");
}
