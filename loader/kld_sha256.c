/*
 * SHA-256 (FIPS 180-4) for the verdict cache: the key of a verdict is the
 * hash of the code it was given for.  Written here rather than taken from
 * libcrypto or nettle so that every program built from the loader's
 * sources (the fuzzer, the sanitizer builds) links without another
 * library; uses the SHA extensions (SHA-NI) when the CPU has them, which
 * hash a megabyte in well under a millisecond, and the portable rounds
 * otherwise.  test_kld_vcache checks both against the standard vectors.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "kld_vcache.h"

static const uint32_t K256[64] __attribute__((aligned(16))) = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
	0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
	0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
	0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
	0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
	0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
	0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
	0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define ROR(x, n)	(((x) >> (n)) | ((x) << (32 - (n))))

static void
blocks_c(uint32_t h[8], const uint8_t *p, size_t n)
{
	for (; n > 0; n--, p += 64) {
		uint32_t w[64], a = h[0], b = h[1], c = h[2], d = h[3],
		    e = h[4], f = h[5], g = h[6], k = h[7];

		for (int i = 0; i < 16; i++)
			w[i] = (uint32_t)p[4 * i] << 24 |
			    (uint32_t)p[4 * i + 1] << 16 |
			    (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
		for (int i = 16; i < 64; i++) {
			uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^
			    (w[i - 15] >> 3);
			uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^
			    (w[i - 2] >> 10);

			w[i] = w[i - 16] + s0 + w[i - 7] + s1;
		}
		for (int i = 0; i < 64; i++) {
			uint32_t t1 = k + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) +
			    ((e & f) ^ (~e & g)) + K256[i] + w[i];
			uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) +
			    ((a & b) ^ (a & c) ^ (b & c));

			k = g;
			g = f;
			f = e;
			e = d + t1;
			d = c;
			c = b;
			b = a;
			a = t1 + t2;
		}
		h[0] += a;
		h[1] += b;
		h[2] += c;
		h[3] += d;
		h[4] += e;
		h[5] += f;
		h[6] += g;
		h[7] += k;
	}
}

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>

/* The state is kept as ABEF/CDGH, the order sha256rnds2 wants. */
__attribute__((target("sha,sse4.1")))
static void
blocks_ni(uint32_t h[8], const uint8_t *p, size_t n)
{
	const __m128i mask = _mm_set_epi64x(0x0c0d0e0f08090a0bULL,
	    0x0405060700010203ULL);
	__m128i t, s0, s1;

	t = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&h[0]), 0xb1);
	s1 = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&h[4]), 0x1b);
	s0 = _mm_alignr_epi8(t, s1, 8);		/* ABEF */
	s1 = _mm_blend_epi16(s1, t, 0xf0);	/* CDGH */
	for (; n > 0; n--, p += 64) {
		__m128i a0 = s0, c0 = s1, m[4];

		for (int i = 0; i < 16; i++) {
			__m128i w, x;

			if (i < 4)
				w = _mm_shuffle_epi8(_mm_loadu_si128(
				    (const __m128i *)(p + 16 * i)), mask);
			else
				w = _mm_sha256msg2_epu32(_mm_add_epi32(
				    _mm_sha256msg1_epu32(m[i & 3],
				    m[(i + 1) & 3]), _mm_alignr_epi8(
				    m[(i + 3) & 3], m[(i + 2) & 3], 4)),
				    m[(i + 3) & 3]);
			m[i & 3] = w;
			x = _mm_add_epi32(w, _mm_load_si128(
			    (const __m128i *)&K256[4 * i]));
			s1 = _mm_sha256rnds2_epu32(s1, s0, x);
			s0 = _mm_sha256rnds2_epu32(s0, s1,
			    _mm_shuffle_epi32(x, 0x0e));
		}
		s0 = _mm_add_epi32(s0, a0);
		s1 = _mm_add_epi32(s1, c0);
	}
	t = _mm_shuffle_epi32(s0, 0x1b);	/* FEBA */
	s1 = _mm_shuffle_epi32(s1, 0xb1);	/* DCHG */
	_mm_storeu_si128((__m128i *)&h[0], _mm_blend_epi16(t, s1, 0xf0));
	_mm_storeu_si128((__m128i *)&h[4], _mm_alignr_epi8(s1, t, 8));
}

static bool
have_ni(void)
{
	unsigned a, b, c, d;

	if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || !(b & (1u << 29)))
		return false;
	return __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 19)) &&
	    (c & (1u << 9));	/* SSE4.1, SSSE3 */
}
#endif

static void
blocks(struct kld_sha256 *c, const uint8_t *p, size_t n)
{
#if defined(__x86_64__)
	static int ni = -1;

	if (ni < 0)
		ni = have_ni();
	if (ni && !c->portable) {
		blocks_ni(c->h, p, n);
		return;
	}
#endif
	blocks_c(c->h, p, n);
}

void
kld_sha256_init(struct kld_sha256 *c)
{
	static const uint32_t iv[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372,
	    0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
	bool portable = c->portable;

	memset(c, 0, sizeof(*c));
	c->portable = portable;
	memcpy(c->h, iv, sizeof(iv));
}

void
kld_sha256_update(struct kld_sha256 *c, const void *data, size_t len)
{
	const uint8_t *p = data;

	c->total += len;
	if (c->fill > 0) {
		size_t k = 64 - c->fill < len ? 64 - c->fill : len;

		memcpy(c->buf + c->fill, p, k);
		c->fill += k;
		p += k;
		len -= k;
		if (c->fill < 64)
			return;
		blocks(c, c->buf, 1);
		c->fill = 0;
	}
	if (len >= 64) {
		blocks(c, p, len / 64);
		p += len & ~(size_t)63;
		len &= 63;
	}
	memcpy(c->buf, p, len);
	c->fill = len;
}

void
kld_sha256_final(struct kld_sha256 *c, uint8_t out[KLD_SHA256_LEN])
{
	uint64_t bits = c->total * 8;
	uint8_t pad[72] = { 0x80 };
	size_t padlen = (c->fill < 56 ? 56 : 120) - c->fill;

	for (int i = 0; i < 8; i++)
		pad[padlen + i] = (uint8_t)(bits >> (56 - 8 * i));
	kld_sha256_update(c, pad, padlen + 8);
	for (int i = 0; i < 8; i++) {
		out[4 * i] = (uint8_t)(c->h[i] >> 24);
		out[4 * i + 1] = (uint8_t)(c->h[i] >> 16);
		out[4 * i + 2] = (uint8_t)(c->h[i] >> 8);
		out[4 * i + 3] = (uint8_t)c->h[i];
	}
}

void
kld_sha256(const void *data, size_t len, uint8_t out[KLD_SHA256_LEN])
{
	struct kld_sha256 c = { .portable = false };

	kld_sha256_init(&c);
	kld_sha256_update(&c, data, len);
	kld_sha256_final(&c, out);
}
