/*
 * test_net_unit.c - unit tests of the stack's pieces: mbuf chains and
 * external storage, the Internet checksum over odd splits, prefix masks
 * and longest-prefix routing, IPv4 option parsing, reassembly (in
 * order, reversed, duplicates, overlaps, limits, timeouts), and TCP's
 * SACK pieces: option building and parsing (malformed lengths and
 * overruns refused), the receiver's block list, the sender's scoreboard;
 * socket buffers bounded by what they pin, not only by their data.
 */
#include "net/inet/tcp_var.h"
#include "rdtest.h"

static int ext_freed;
static void
ext_free(void *buf, size_t size, void *arg, void *arg2)
{
	(void)size; (void)arg2;
	CHECK(arg == (void *)0x1234, "ext arg passed");
	kmem_free(buf, size);
	ext_freed++;
}

/* Reference checksum: plain RFC 1071 over a flat buffer. */
static uint16_t
ref_cksum(const uint8_t *p, size_t len)
{
	uint32_t s = 0;
	for (size_t i = 0; i + 1 < len; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return htons((uint16_t)~s);
}

/* A chain of mbufs holding buf split at the given lengths. */
static struct mbuf *
chain(const uint8_t *buf, const int *lens, int n)
{
	struct mbuf *top = m_gethdr(M_WAIT, MT_DATA), *m = top;
	int off = 0;
	for (int i = 0; i < n; i++) {
		if (i > 0) {
			m->m_next = m_get(M_WAIT, MT_DATA);
			m = m->m_next;
		}
		memcpy(m->m_data, buf + off, (size_t)lens[i]);
		m->m_len = lens[i];
		off += lens[i];
	}
	top->m_pkthdr.len = off;
	return top;
}

static void
test_mbuf(void)
{
	uint8_t buf[600], out[600];
	for (int i = 0; i < 600; i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	int lens[] = { 3, 100, 1, 96 };
	struct mbuf *m = chain(buf, lens, 4);
	CHECK(m_length(m) == 200, "length %d", m_length(m));
	m_copydata(m, 2, 150, out);
	CHECK(memcmp(out, buf + 2, 150) == 0, "m_copydata across mbufs");
	m = m_pullup(m, 104);
	CHECK(m != NULL && m->m_len >= 104, "m_pullup made 104 contiguous");
	CHECK(memcmp(m->m_data, buf, 104) == 0 && m_length(m) == 200,
	    "m_pullup kept the bytes");
	m_adj(m, 10);
	m_adj(m, -20);
	CHECK(m_length(m) == 170 && m->m_pkthdr.len == 170, "m_adj both ends");
	m_copydata(m, 0, 170, out);
	CHECK(memcmp(out, buf + 10, 170) == 0, "m_adj kept the middle");
	CHECK(m_copyback(m, 160, 40, buf) == 0 && m_length(m) == 200,
	    "m_copyback extends the chain");
	m_copydata(m, 160, 40, out);
	CHECK(memcmp(out, buf, 40) == 0, "m_copyback wrote the bytes");
	M_PREPEND(m, 14, M_WAIT);
	CHECK(m != NULL && m->m_pkthdr.len == 214 && m->m_len >= 14, "M_PREPEND");
	m_freem(m);

	/* External storage: shared by m_copym, freed once, at the end. */
	uint8_t *ext = kmem_alloc(1000, KM_SLEEP);
	memcpy(ext, buf, 600);
	m = m_gethdr(M_WAIT, MT_DATA);
	CHECK(m_extadd(m, ext, 1000, ext_free, (void *)0x1234, NULL) == 0,
	    "m_extadd");
	m->m_len = m->m_pkthdr.len = 600;
	struct mbuf *c = m_copym(m, 100, 300, M_WAIT);
	CHECK(c != NULL && m_length(c) == 300 && c->m_data == (char *)ext + 100,
	    "m_copym shares external storage");
	CHECK(M_LEADINGSPACE(c) == 0 && M_TRAILINGSPACE(m) == 0,
	    "shared storage is read-only");
	m_freem(m);
	CHECK(ext_freed == 0, "storage stays while a copy refers to it");
	m_freem(c);
	CHECK(ext_freed == 1, "storage freed with the last reference");
	struct mbuf *d = m_devget(buf, 600, 0, NULL);
	CHECK(d != NULL && m_length(d) == 600 && d->m_pkthdr.len == 600,
	    "m_devget");
	struct mbuf *e = m_dup(d, 1, 598, M_WAIT);
	m_copydata(e, 0, 598, out);
	CHECK(memcmp(out, buf + 1, 598) == 0, "m_dup deep copy");
	m_freem(d);
	m_freem(e);
	PASS("mbufs: copydata, pullup, adj, copyback, prepend, ext storage");
}

static void
test_cksum(void)
{
	uint8_t buf[1501];
	uint32_t seed = 42;
	for (int i = 0; i < 1501; i++)
		buf[i] = (uint8_t)((seed = seed * 1103515245 + 12345) >> 16);
	for (int total = 1; total <= 1501; total += 37) {
		int lens[3] = { total / 3 | 1, 0, 0 };
		if (lens[0] > total)
			lens[0] = total;
		lens[1] = (total - lens[0]) / 2;
		lens[2] = total - lens[0] - lens[1];
		for (int k = 0; k < 3; k++)
			if (lens[k] > MLEN) {
				lens[0] = total;	/* one big cluster */
				lens[1] = lens[2] = 0;
			}
		struct mbuf *m;
		if (lens[0] == total && total > MLEN) {
			m = m_devget(buf, total, 0, NULL);
		} else
			m = chain(buf, lens, 3);
		uint16_t want = ref_cksum(buf, (size_t)total);
		CHECK(in_cksum(m, total) == want, "len %d: %04x vs %04x", total,
		    in_cksum(m, total), want);
		CHECK(in_cksum_buf(buf, (size_t)total) == want, "flat len %d", total);
		m_freem(m);
	}
	/* RFC 1071 example: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2. */
	const uint8_t ex[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	CHECK(in_cksum_buf(ex, 8) == htons((uint16_t)~0xddf2), "RFC 1071 example");
	/* A header carrying its checksum sums to zero. */
	uint8_t hdr[20] = { 0x45, 0, 0, 84, 0x12, 0x34, 0x40, 0, 64, 1, 0, 0,
	    10, 0, 0, 1, 10, 0, 0, 2 };
	uint16_t s = in_cksum_buf(hdr, 20);
	memcpy(hdr + 10, &s, 2);
	CHECK(in_cksum_buf(hdr, 20) == 0, "verified header sums to 0");
	PASS("checksums: odd splits, RFC 1071 example, verification");
}

static void
test_route(struct netstack *ns)
{
	CHECK(in_mask2plen(in_plen2mask(24)) == 24, "plen 24");
	CHECK(in_mask2plen(in_plen2mask(0)) == 0, "plen 0");
	CHECK(in_mask2plen(in_plen2mask(32)) == 32, "plen 32");
	CHECK(in_mask2plen(htonl(0xff00ff00)) == -1, "holes rejected");
	struct ifnet a = { .if_flags = IFF_UP }, b = { .if_flags = IFF_UP },
	    c = { .if_flags = IFF_UP };
	mutex_enter(&ns->ns_lock);
	int n0 = ns->ns_nrt;
	CHECK(rt_add(ns, 0, 0, htonl(0x0a000001), &a, 0) == 0, "default");
	CHECK(rt_add(ns, htonl(0x0a010000), 16, 0, &b, 0) == 0, "/16");
	CHECK(rt_add(ns, htonl(0x0a010200), 24, 0, &c, 0) == 0, "/24");
	CHECK(rt_add(ns, htonl(0x0a010200), 24, 0, &c, 0) == EEXIST, "dup");
	CHECK(rt_lookup(ns, htonl(0x0a010203))->rt_ifp == &c, "/24 wins");
	CHECK(rt_lookup(ns, htonl(0x0a010303))->rt_ifp == &b, "/16 next");
	struct rtentry *rt = rt_lookup(ns, htonl(0x08080808));
	CHECK(rt->rt_ifp == &a && (rt->rt_flags & RTF_GATEWAY), "default last");
	c.if_flags = 0;
	CHECK(rt_lookup(ns, htonl(0x0a010203))->rt_ifp == &b,
	    "a down interface's route is skipped");
	CHECK(rt_delete(ns, htonl(0x0a010000), 16) == 0, "delete");
	CHECK(rt_delete(ns, htonl(0x0a010000), 16) == ENOENT, "delete again");
	rt_purge_ifp(ns, &a);
	rt_purge_ifp(ns, &c);
	CHECK(ns->ns_nrt == n0, "purged");
	mutex_exit(&ns->ns_lock);
	PASS("routing: masks, longest-prefix match, delete, purge");
}

static void
test_options(void)
{
	const uint8_t ok1[] = { IPOPT_NOP, IPOPT_NOP, 7, 7, 4, 0, 0, 0, 0, 0 };
	const uint8_t ok2[] = { IPOPT_EOL, 99, 99, 99 };
	const uint8_t bad1[] = { 7, 1, 0, 0 };		/* length 1 */
	const uint8_t bad2[] = { IPOPT_NOP, 68, 12, 0 };	/* past the end */
	const uint8_t bad3[] = { IPOPT_NOP, 7 };		/* no length byte */
	CHECK(ip_checkoptions(ok1, sizeof(ok1)) == 0, "NOPs and record route");
	CHECK(ip_checkoptions(ok2, sizeof(ok2)) == 0, "EOL ends the list");
	CHECK(ip_checkoptions(bad1, sizeof(bad1)) != 0, "length below 2");
	CHECK(ip_checkoptions(bad2, sizeof(bad2)) != 0, "option overruns");
	CHECK(ip_checkoptions(bad3, sizeof(bad3)) != 0, "length byte missing");
	PASS("IPv4 option parsing: NOP, EOL, bad lengths, overruns");
}

/* A fragment of datagram id with payload bytes [off, off+len) of pay. */
static struct mbuf *
frag(uint16_t id, const uint8_t *pay, int off, int len, bool mf)
{
	struct mbuf *m = m_gethdr(M_WAIT, MT_DATA);
	m_clget(m, M_WAIT);
	struct ip *ip = mtod(m, struct ip *);
	memset(ip, 0, sizeof(*ip));
	ip->ip_vhl = 0x45;
	ip->ip_len = htons((uint16_t)(20 + len));
	ip->ip_id = htons(id);
	ip->ip_off = htons((uint16_t)((off / 8) | (mf ? IP_MF : 0)));
	ip->ip_ttl = 64;
	ip->ip_p = IPPROTO_UDP;
	ip->ip_src = htonl(0x0a000001);
	ip->ip_dst = htonl(0x0a000002);
	memcpy(m->m_data + 20, pay + off, (size_t)len);
	m->m_len = m->m_pkthdr.len = 20 + len;
	return m;
}

static void
test_reass(struct netstack *ns)
{
	static uint8_t pay[4000];
	uint8_t out[4000];
	struct inet_stack *is = inet_stack(ns);
	for (int i = 0; i < 4000; i++)
		pay[i] = (uint8_t)(i ^ (i >> 8));
	mutex_enter(&ns->ns_lock);
	/* In order. */
	CHECK(ip_reass(ns, frag(1, pay, 0, 1000, true)) == NULL, "first held");
	CHECK(ip_reass(ns, frag(1, pay, 1000, 1000, true)) == NULL, "second");
	struct mbuf *m = ip_reass(ns, frag(1, pay, 2000, 500, false));
	CHECK(m != NULL && m->m_pkthdr.len == 2520, "complete in order");
	m_copydata(m, 20, 2500, out);
	CHECK(memcmp(out, pay, 2500) == 0, "payload intact");
	CHECK(ntohs(mtod(m, struct ip *)->ip_len) == 2520 &&
	    in_cksum_buf(m->m_data, 20) == 0, "header fixed up");
	m_freem(m);
	/* Reversed, with a duplicate in the middle. */
	CHECK(ip_reass(ns, frag(2, pay, 1600, 800, false)) == NULL, "last first");
	CHECK(ip_reass(ns, frag(2, pay, 800, 800, true)) == NULL, "middle");
	uint64_t dropped = is->is_ip.ips_fragdropped;
	CHECK(ip_reass(ns, frag(2, pay, 800, 800, true)) == NULL, "duplicate");
	CHECK(is->is_ip.ips_fragdropped == dropped + 1 && is->is_nipq == 1,
	    "duplicate dropped alone");
	m = ip_reass(ns, frag(2, pay, 0, 800, true));
	CHECK(m != NULL && m->m_pkthdr.len == 2420, "complete reversed");
	m_copydata(m, 20, 2400, out);
	CHECK(memcmp(out, pay, 2400) == 0, "reversed payload intact");
	m_freem(m);
	/* Overlap drops the datagram. */
	uint64_t ov = is->is_ip.ips_fragoverlap;
	CHECK(ip_reass(ns, frag(3, pay, 0, 800, true)) == NULL, "first");
	CHECK(ip_reass(ns, frag(3, pay, 400, 800, true)) == NULL, "overlapping");
	CHECK(is->is_ip.ips_fragoverlap == ov + 1 && is->is_nipq == 0,
	    "overlap dropped the whole datagram");
	/* A fragment past a known end, and one beyond 64 KiB. */
	CHECK(ip_reass(ns, frag(4, pay, 800, 800, false)) == NULL, "end");
	CHECK(ip_reass(ns, frag(4, pay, 1600, 800, true)) == NULL, "past end");
	CHECK(is->is_nipq == 0, "past-the-end fragment dropped the datagram");
	struct mbuf *big = frag(5, pay, 0, 800, true);
	mtod(big, struct ip *)->ip_off = htons(8189 | IP_MF);
	CHECK(ip_reass(ns, big) == NULL && is->is_nipq == 0,
	    "a datagram past 65535 bytes is refused");
	/* Endless fragments: the per-datagram limit. */
	for (int i = 0; i < IPQ_MAXFRAGS + 5; i++)
		(void)ip_reass(ns, frag(6, pay, 16 * i, 8, true));
	CHECK(is->is_nipq <= 1, "fragment-count limit");
	ip_reass_drain(ns);
	/* Many datagrams: the queue limit. */
	for (int i = 0; i < IPQ_MAXQUEUES + 20; i++)
		(void)ip_reass(ns, frag((uint16_t)(100 + i), pay, 0, 8, true));
	CHECK(is->is_nipq == IPQ_MAXQUEUES, "queue limit: %d", is->is_nipq);
	/* Timeout. */
	uint64_t to = is->is_ip.ips_fragtimeout;
	ns->ns_ticks += IPQ_TTL_TICKS + 1;
	ip_reass_slowtimo(ns);
	CHECK(is->is_nipq == 0 && is->is_ipq_bytes == 0, "all timed out");
	CHECK(is->is_ip.ips_fragtimeout == to + IPQ_MAXQUEUES, "timeouts counted");
	mutex_exit(&ns->ns_lock);
	PASS("reassembly: order, reverse, duplicate, overlap, end, limits, timeout");
}

static void
test_tcp_options(void)
{
	struct tcpopt to;
	/* Four blocks alone; three beside a timestamp. */
	uint8_t o[40] = { TCPOPT_NOP, TCPOPT_NOP, TCPOPT_SACK, 34 };
	for (int i = 0; i < 8; i++) {
		uint32_t v = htonl(1000u * (uint32_t)(i + 1));
		memcpy(o + 4 + 4 * i, &v, 4);
	}
	CHECK(tcp_dooptions(o, 36, false, &to) == 0 && (to.to_flags & TOF_SACK) &&
	    to.to_nsacks == 4 && to.to_sacks[0].start == 1000 &&
	    to.to_sacks[0].end == 2000 && to.to_sacks[3].start == 7000 &&
	    to.to_sacks[3].end == 8000, "four SACK blocks parsed");
	CHECK(tcp_dooptions(o, 36, true, &to) == 0 && !(to.to_flags & TOF_SACK),
	    "SACK blocks on a SYN are ignored");
	uint8_t t[40] = { TCPOPT_NOP, TCPOPT_NOP, TCPOPT_TIMESTAMP, 10, 0, 0, 0,
	    7, 0, 0, 0, 9, TCPOPT_NOP, TCPOPT_NOP, TCPOPT_SACK, 26 };
	memcpy(t + 16, o + 4, 24);
	CHECK(tcp_dooptions(t, 40, false, &to) == 0 && (to.to_flags & TOF_TS) &&
	    to.to_tsval == 7 && to.to_tsecr == 9 && to.to_nsacks == 3 &&
	    to.to_sacks[2].end == 6000, "timestamps and three SACK blocks");
	/* Malformed: each is refused (the segment is dropped, counted). */
	static const struct { uint8_t b[12]; int n; const char *what; } bad[] = {
		{ { TCPOPT_SACK, 9, 0, 0, 0, 1, 0, 0, 0 }, 9, "length 9 (not 2+8n)" },
		{ { TCPOPT_SACK, 2 }, 2, "length 2 (no block)" },
		{ { TCPOPT_SACK, 18, 0, 0, 0, 1, 0, 0, 0, 2 }, 10,
		    "length 18 in 10 bytes (overrun)" },
		{ { TCPOPT_NOP, TCPOPT_SACK, 10, 0, 0, 0, 1, 0, 0, 0 }, 10,
		    "a block one byte short of its length" },
		{ { TCPOPT_NOP, TCPOPT_NOP, TCPOPT_SACK }, 3, "no length byte" },
		{ { TCPOPT_SACK, 1 }, 2, "length 1" },
		{ { TCPOPT_SACK, 0 }, 2, "length 0" },
		{ { TCPOPT_SACK_PERMITTED, 3, 0 }, 3, "SACK-permitted of length 3" },
		{ { TCPOPT_SACK_PERMITTED, 4 }, 2, "SACK-permitted overrun" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(tcp_dooptions(bad[i].b, bad[i].n, false, &to) == EINVAL,
		    "refused: %s", bad[i].what);
	uint8_t big[40] = { TCPOPT_SACK, 42 };
	CHECK(tcp_dooptions(big, 40, false, &to) == EINVAL,
	    "a 42-byte SACK option overruns the 40 option bytes");
	const uint8_t perm[] = { TCPOPT_NOP, TCPOPT_NOP, TCPOPT_SACK_PERMITTED, 2 };
	CHECK(tcp_dooptions(perm, 4, true, &to) == 0 &&
	    (to.to_flags & TOF_SACKPERM), "SACK-permitted on a SYN");
	CHECK(tcp_dooptions(perm, 4, false, &to) == 0 &&
	    !(to.to_flags & TOF_SACKPERM), "SACK-permitted elsewhere ignored");
	/* Random option bytes never read past the end nor yield more than
	 * four blocks (run under ASan by the sanitizer build). */
	uint64_t x = 88172645463325252ull;
	int odd = 0;
	for (int it = 0; it < 200000; it++) {
		uint8_t r[40];
		int n = (int)(x % 41);
		for (int i = 0; i < n; i++) {
			x ^= x << 13; x ^= x >> 7; x ^= x << 17;
			r[i] = (uint8_t)(x % 7 == 0 ? TCPOPT_SACK : x >> 24);
		}
		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		uint8_t *h = malloc((size_t)n + 1);	/* exact size for ASan */
		memcpy(h, r, (size_t)n);
		int rv = tcp_dooptions(h, n, (it & 1) != 0, &to);
		free(h);
		if ((rv != 0 && rv != EINVAL) || to.to_nsacks > 4)
			odd++;
	}
	CHECK(odd == 0, "random options: 0 or EINVAL, at most four blocks");
	PASS("TCP options: SACK blocks parsed, malformed lengths and overruns "
	    "refused, random bytes safe");
}

/* A fake connection on stack ns for the SACK functions. */
static struct socket t_so;
static struct inpcb t_inp;
static struct tcpcb t_tp;
static struct tcpcb *
fake_tcb(struct netstack *ns)
{
	memset(&t_so, 0, sizeof(t_so));
	memset(&t_inp, 0, sizeof(t_inp));
	memset(&t_tp, 0, sizeof(t_tp));
	t_so.so_stack = ns;
	t_inp.inp_faddr = htonl(0x0a000002);
	t_tp.t_socket = &t_so;
	t_tp.t_inpcb = &t_inp;
	t_tp.t_maxseg = 1000;
	t_tp.t_state = TCPS_ESTABLISHED;
	return &t_tp;
}

/* Out-of-order queue entry [seq, seq + len). */
static struct mbuf *
oo(struct mbuf *next, uint32_t seq, int len)
{
	struct mbuf *m = m_gethdr(M_WAIT, MT_DATA);
	m->m_pkthdr.csum_flags = (int)seq;
	m->m_pkthdr.len = len;
	m->m_nextpkt = next;
	return m;
}

static void
test_sack_receiver(struct netstack *ns)
{
	struct tcpcb *tp = fake_tcb(ns);
	tp->t_flags = TF_SACK_PERMIT | TF_RCVD_TSTMP;
	tp->rcv_nxt = 1000;
	/* Arrivals, each followed by the queue it leaves. */
	tp->t_segq = oo(NULL, 2000, 1000);
	tcp_sack_rcvd(tp, 2000);
	CHECK(tp->t_nrcvsack == 1 && tp->t_rcvsack[0].start == 2000 &&
	    tp->t_rcvsack[0].end == 3000, "one block");
	tp->t_segq->m_nextpkt = oo(NULL, 4000, 1000);
	tcp_sack_rcvd(tp, 4000);
	CHECK(tp->t_nrcvsack == 2 && tp->t_rcvsack[0].start == 4000 &&
	    tp->t_rcvsack[1].start == 2000, "the latest block first");
	tp->t_segq->m_nextpkt = oo(tp->t_segq->m_nextpkt, 3000, 1000);
	tcp_sack_rcvd(tp, 3000);
	CHECK(tp->t_nrcvsack == 1 && tp->t_rcvsack[0].start == 2000 &&
	    tp->t_rcvsack[0].end == 5000, "a filled gap merges the blocks");
	struct mbuf *last = tp->t_segq->m_nextpkt->m_nextpkt;
	for (uint32_t s = 6000; s <= 12000; s += 2000) {
		last->m_nextpkt = oo(NULL, s, 1000);
		last = last->m_nextpkt;
		tcp_sack_rcvd(tp, s);
	}
	CHECK(tp->t_nrcvsack == TCP_SACK_RCVBLKS &&
	    tp->t_rcvsack[0].start == 12000 && tp->t_rcvsack[1].start == 10000 &&
	    tp->t_rcvsack[2].start == 8000 && tp->t_rcvsack[3].start == 6000,
	    "most recent first, at most %d", TCP_SACK_RCVBLKS);
	/* A repeat of old data: its block moves to the front. */
	tcp_sack_rcvd(tp, 2500);
	CHECK(tp->t_rcvsack[0].start == 2000 && tp->t_rcvsack[0].end == 5000 &&
	    tp->t_rcvsack[1].start == 12000, "the block of the latest arrival "
	    "first");
	/* On the wire: 3 blocks beside timestamps, 4 without. */
	uint8_t opt[40];
	struct tcpopt to;
	int64_t sent0 = (int64_t)tcp_stack(ns)->ts_stat.tcps_sack_sndblocks;
	int n = tcp_addoptions(tp, opt, TH_ACK);
	CHECK(n == 40 && tcp_dooptions(opt, n, false, &to) == 0 &&
	    (to.to_flags & TOF_TS) && to.to_nsacks == 3 &&
	    to.to_sacks[0].start == 2000 && to.to_sacks[0].end == 5000 &&
	    to.to_sacks[1].start == 12000 && to.to_sacks[2].start == 10000,
	    "timestamps and 3 blocks in 40 bytes (%d)", n);
	tp->t_flags &= ~TF_RCVD_TSTMP;
	n = tcp_addoptions(tp, opt, TH_ACK);
	CHECK(n == 36 && tcp_dooptions(opt, n, false, &to) == 0 &&
	    !(to.to_flags & TOF_TS) && to.to_nsacks == 4 &&
	    to.to_sacks[3].start == 8000, "4 blocks alone (%d)", n);
	CHECK((int64_t)tcp_stack(ns)->ts_stat.tcps_sack_sndblocks == sent0 + 7,
	    "blocks sent counted");
	/* The SYN offers SACK; a connection without it sends no blocks. */
	tp->t_state = TCPS_SYN_SENT;
	n = tcp_addoptions(tp, opt, TH_SYN);
	CHECK(tcp_dooptions(opt, n, true, &to) == 0 &&
	    (to.to_flags & TOF_SACKPERM) && (to.to_flags & TOF_MSS) &&
	    (to.to_flags & TOF_SCALE), "SYN: MSS, window scale, SACK-permitted");
	tp->t_state = TCPS_ESTABLISHED;
	tp->t_flags &= ~TF_SACK_PERMIT;
	CHECK(tcp_addoptions(tp, opt, TH_ACK) == 0, "no SACK, no blocks");
	/* rcv_nxt passes blocks: they go. */
	tp->rcv_nxt = 5000;
	tcp_sack_trim(tp);
	CHECK(tp->t_nrcvsack == 3 && tp->t_rcvsack[0].start == 12000,
	    "blocks below rcv_nxt forgotten");
	m_freem_list(tp->t_segq);
	tp->t_segq = NULL;
	tcp_sack_trim(tp);
	CHECK(tp->t_nrcvsack == 0, "empty queue, no blocks");
	PASS("SACK receiver: latest block first, merging, 3 blocks with "
	    "timestamps, 4 without, trimming");
}

static void
test_sack_sender(struct netstack *ns)
{
	struct tcpcb *tp = fake_tcb(ns);
	tp->t_flags = TF_SACK_PERMIT;
	tp->snd_una = 10000;
	tp->snd_max = 30000;
	struct tcpopt to = { .to_flags = TOF_SACK, .to_nsacks = 4 };
	int64_t bad0 = (int64_t)tcp_stack(ns)->ts_stat.tcps_sack_badblocks;
	to.to_sacks[0] = (struct tcp_seqrange){ 12000, 13000 };
	to.to_sacks[1] = (struct tcp_seqrange){ 5000, 4000 };	/* reversed */
	to.to_sacks[2] = (struct tcp_seqrange){ 29000, 31000 };	/* past max */
	to.to_sacks[3] = (struct tcp_seqrange){ 9000, 9500 };	/* acked */
	CHECK(tcp_sack_update(tp, &to, 10000) == 1000 && tp->t_nsacked == 1,
	    "one good block of four");
	CHECK((int64_t)tcp_stack(ns)->ts_stat.tcps_sack_badblocks == bad0 + 2,
	    "reversed and unsent blocks counted as bad");
	CHECK(!tcp_sack_islost(tp, 10000), "one segment above: not lost");
	to.to_nsacks = 2;
	to.to_sacks[0] = (struct tcp_seqrange){ 14000, 15000 };
	to.to_sacks[1] = (struct tcp_seqrange){ 13000, 14000 };
	CHECK(tcp_sack_update(tp, &to, 10000) == 2000 && tp->t_nsacked == 1 &&
	    tp->t_sacked[0].start == 12000 && tp->t_sacked[0].end == 15000,
	    "adjacent blocks merge");
	CHECK(tcp_sack_islost(tp, 10000) && tcp_sack_islost(tp, 11999) &&
	    !tcp_sack_islost(tp, 15000), "3 segments above: lost (IsLost)");
	to.to_nsacks = 1;
	to.to_sacks[0] = (struct tcp_seqrange){ 20000, 21000 };
	tcp_sack_update(tp, &to, 10000);
	/* Holes: [10000,12000) lost, [15000,20000) not (1 segment above),
	 * [21000,30000) above everything. */
	tp->snd_highrxt = tp->snd_una;
	CHECK(tcp_sack_pipe(tp) == 5000 + 9000, "pipe %u",
	    tcp_sack_pipe(tp));
	uint32_t seq, len;
	CHECK(tcp_sack_nextseg(tp, false, &seq, &len) && seq == 10000 &&
	    len == 1000, "NextSeg rule 1: the lost hole");
	tp->snd_highrxt = 12000;
	CHECK(tcp_sack_pipe(tp) == 5000 + 9000 + 2000,
	    "retransmitted bytes count in pipe");
	CHECK(!tcp_sack_nextseg(tp, false, &seq, &len), "no other lost hole");
	CHECK(tcp_sack_nextseg(tp, true, &seq, &len) && seq == 15000,
	    "NextSeg rule 3: the next hole");
	/* The cumulative ACK passes ranges: they go. */
	CHECK(tcp_sack_update(tp, &to, 16000) == 0 && tp->t_nsacked == 1 &&
	    tp->t_sacked[0].start == 20000, "ranges below the ACK dropped");
	/* A full scoreboard keeps the lowest ranges. */
	tp->snd_una = 100000;
	tp->snd_max = 100000 + 2000 * (TCP_SACK_MAXRANGES + 10);
	tcp_sack_clear(tp);
	to.to_nsacks = 1;
	for (int i = TCP_SACK_MAXRANGES + 9; i >= 0; i--) {
		to.to_sacks[0].start = 100000 + 2000 * (uint32_t)i + 1000;
		to.to_sacks[0].end = to.to_sacks[0].start + 1000;
		tcp_sack_update(tp, &to, 100000);
	}
	CHECK(tp->t_nsacked == TCP_SACK_MAXRANGES &&
	    tp->t_sacked[0].start == 101000, "bounded scoreboard (%d)",
	    tp->t_nsacked);
	for (int i = 1; i < tp->t_nsacked; i++)
		CHECK(SEQ_GT(tp->t_sacked[i].start, tp->t_sacked[i - 1].end),
		    "sorted and disjoint");
	PASS("SACK sender: validation, merging, IsLost, pipe, NextSeg, bounds");
}

/* One byte in a frame-sized external buffer, as a driver lends it. */
static struct mbuf *
tiny_frame(char c)
{
	struct mbuf *m = m_gethdr(M_WAIT, MT_DATA);
	char *buf = kmem_alloc(1514, KM_SLEEP);
	buf[0] = c;
	CHECK(m_extadd(m, buf, 1514, ext_free, (void *)0x1234, NULL) == 0,
	    "m_extadd");
	m->m_len = m->m_pkthdr.len = 1;
	return m;
}

static void
test_sockbuf(void)
{
	/* A stream receive buffer: 3000 one-byte segments, each in its
	 * own frame, end up in a couple of clusters, in order. */
	struct sockbuf sb;
	memset(&sb, 0, sizeof(sb));
	sb.sb_hiwat = 1 << 20;
	int64_t m0 = mbstat.m_mbufs, e0 = mbstat.m_ext;
	for (int i = 0; i < 3000; i++)
		sbappendstream_rcv(&sb, tiny_frame((char)('a' + i % 26)));
	int nm = 0;
	for (struct mbuf *m = sb.sb_mb; m != NULL; m = m->m_next)
		nm++;
	CHECK(sb.sb_cc == 3000 && nm <= 3 && mbstat.m_mbufs - m0 <= 3 &&
	    mbstat.m_ext - e0 <= 3, "3000 one-byte segments: %d bytes in %d "
	    "mbufs (%lld mbufs, %lld buffers held)", sb.sb_cc, nm,
	    (long long)(mbstat.m_mbufs - m0), (long long)(mbstat.m_ext - e0));
	char got[3000];
	m_copydata(sb.sb_mb, 0, 3000, got);
	for (int i = 0; i < 3000; i++)
		CHECK(got[i] == (char)('a' + i % 26), "byte %d kept", i);
	sbdrop(&sb, 3000);
	CHECK(sb.sb_mb == NULL && sb.sb_cc == 0, "drained");

	/* A datagram buffer of 8 KiB: one-byte datagrams are refused once
	 * what they pin passes twice its size, not after 8192 of them. */
	sb.sb_hiwat = 8192;
	struct sockaddr_in_k from = { .sin_family = AF_INET };
	int n = 0;
	for (;;) {
		struct mbuf *m = tiny_frame('d');
		if (sbappendaddr(&sb, &from, m) != 0) {
			m_freem(m);
			break;
		}
		n++;
	}
	CHECK(n > 0 && n <= 2 * 8192 / 1514 && sb.sb_mbcnt <= 2 * 8192,
	    "one-byte datagrams queued: %d (pinning %d bytes)", n, sb.sb_mbcnt);
	sbflush(&sb);
	CHECK(sb.sb_mbcnt == 0 && mbstat.m_mbufs == m0 && mbstat.m_ext == e0,
	    "flushed, nothing left");
	printf("ok: socket buffers: one-byte segments compacted (3000 in <= 3 "
	    "mbufs), datagrams bounded by what they pin (%d of one byte in "
	    "8 KiB)\n", n);
}

int
main(void)
{
	char err[256];
	CHECK(krs_boot("vfs,net,ether,socket,inet", err, sizeof(err)) == 0,
	    "boot: %s", err);
	struct netstack *ns = netstack_cur();
	CHECK(ns != NULL, "stack 0");
	test_mbuf();
	test_cksum();
	test_route(ns);
	test_options();
	test_reass(ns);
	test_tcp_options();
	test_sockbuf();
	mutex_enter(&ns->ns_lock);
	test_sack_receiver(ns);
	test_sack_sender(ns);
	mutex_exit(&ns->ns_lock);
	krs_shutdown();
	CHECK(mbstat.m_mbufs == 0 && mbstat.m_clusters == 0 && mbstat.m_ext == 0,
	    "no mbufs leaked: %lld mbufs %lld clusters %lld ext",
	    (long long)mbstat.m_mbufs, (long long)mbstat.m_clusters,
	    (long long)mbstat.m_ext);
	DONE();
}
