/*
 * in_cksum.c - the Internet checksum (RFC 1071) over buffers and mbuf
 * chains, with the IPv4 pseudo header (RFC 768, RFC 9293 3.1).  Odd-length
 * mbufs are handled by swapping the byte lanes of what follows.  Output
 * checksums may be delayed to ip_output or left to the interface
 * (M_CSUM_TCPv4, see mbuf.h).
 */
#include "net/inet/in_var.h"

uint32_t
in_cksum_partial(uint32_t sum, const void *buf, size_t len, int odd)
{
	const uint8_t *p = buf;
	uint64_t acc = 0;
	/* odd: this piece starts at an odd offset of the whole stream, so
	 * its first byte is the low half of a word begun by the previous
	 * piece (whose last byte was added as a high half). */
	if (odd && len > 0) {
		acc += *p++;
		len--;
	}
	while (len >= 2) {
		acc += (uint32_t)(p[0] << 8 | p[1]);
		p += 2;
		len -= 2;
	}
	if (len)
		acc += (uint32_t)(p[0] << 8);
	while (acc >> 32)
		acc = (acc & 0xffffffffu) + (acc >> 32);
	acc = (acc & 0xffff) + (acc >> 16);
	acc = (acc & 0xffff) + (acc >> 16);
	acc = (acc & 0xffff) + (acc >> 16);
	return sum + (uint32_t)acc;
}

uint16_t
in_cksum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

static uint32_t
cksum_mbuf(uint32_t sum, const struct mbuf *m, int off, int len)
{
	int pos = 0;		/* bytes summed so far */
	while (m != NULL && off >= m->m_len) {
		off -= m->m_len;
		m = m->m_next;
	}
	while (m != NULL && len > 0) {
		int n = m->m_len - off < len ? m->m_len - off : len;
		const uint8_t *p = (const uint8_t *)m->m_data + off;
		sum = in_cksum_partial(sum, p, (size_t)n, pos & 1);
		pos += n;
		len -= n;
		off = 0;
		m = m->m_next;
	}
	return sum;
}

uint16_t
in_cksum(const struct mbuf *m, int len)
{
	return in_cksum_fold(cksum_mbuf(0, m, 0, len));
}

uint16_t
in_cksum_buf(const void *buf, size_t len)
{
	return in_cksum_fold(in_cksum_partial(0, buf, len, 0));
}

/* The unfolded sum of the IPv4 pseudo-header (RFC 793, 768). */
static uint32_t
in4_phdr_sum(uint8_t proto, uint32_t src, uint32_t dst, int len)
{
	uint8_t ph[12];
	memcpy(ph, &src, 4);
	memcpy(ph + 4, &dst, 4);
	ph[8] = 0;
	ph[9] = proto;
	ph[10] = (uint8_t)(len >> 8);
	ph[11] = (uint8_t)len;
	return in_cksum_partial(0, ph, sizeof(ph), 0);
}

uint16_t
in4_cksum(const struct mbuf *m, uint8_t proto, uint32_t src, uint32_t dst,
    int off, int len)
{
	uint32_t sum = in4_phdr_sum(proto, src, dst, len);
	return in_cksum_fold(cksum_mbuf(sum, m, off, len));
}

uint16_t
in_cksum_off(const struct mbuf *m, int off, int len)
{
	return in_cksum_fold(cksum_mbuf(0, m, off, len));
}

void
in4_cksum_delay(struct mbuf *m, uint8_t proto, uint32_t src, uint32_t dst,
    int off, int len, int sumoff)
{
	uint32_t sum = in4_phdr_sum(proto, src, dst, len);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	uint16_t v = htons((uint16_t)sum);	/* folded, not complemented */
	m_copyback(m, off + sumoff, 2, &v);
	m->m_pkthdr.csum_flags |= M_CSUM_TCPv4;
	m->m_pkthdr.csum_data = sumoff;
}

void
in_delayed_cksum(struct mbuf *m)
{
	int hlen = IP_HL(mtod(m, struct ip *));
	/* The field holds the pseudo-header sum, so the sum over the
	 * segment with it in place is the full checksum. */
	uint16_t v = in_cksum_off(m, hlen, m->m_pkthdr.len - hlen);
	if (v == 0)
		v = 0xffff;		/* as UDP needs; the same value for TCP */
	m_copyback(m, hlen + m->m_pkthdr.csum_data, 2, &v);
	m->m_pkthdr.csum_flags &= ~M_CSUM_TCPv4;
}
