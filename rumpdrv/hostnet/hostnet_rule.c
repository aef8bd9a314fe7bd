/*
 * hostnet_rule.c - hostnet's allow-list entries: "10.0.0.0/8:5432",
 * "127.0.0.1:6379", "[::1]:*", "[fd00::/8]:1000-2000".  Pure string work
 * (no host calls, no allocation), shared by the component and by the
 * deployment parser (krk_config.c), and fuzzed (tests/fuzz/fuzz_hostnet_rule.c).  Every
 * loop is bounded by the entry's length, itself capped.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* By relative path, so the deployment parser and its fuzz target, which
 * compile this file too, need no rumpdrv include paths. */
#include "../include/krank/krs_hostnet.h"

#define EINVAL_K	22	/* EINVAL: the same on NetBSD and Linux */

struct rp {
	const char *s;
	size_t i;
	size_t errpos;
	const char *why;
};

static int
rp_fail(struct rp *p, size_t at, const char *why)
{
	p->errpos = at;
	p->why = why;
	return EINVAL_K;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A decimal number of at most maxdig digits, no sign, no leading zeros
 * beyond a lone 0 (so "010" is not read as octal by one reader and
 * decimal by another). */
static int
rp_dec(struct rp *p, unsigned max, unsigned *out, const char *why)
{
	size_t start = p->i;
	unsigned v = 0;

	if (p->s[p->i] < '0' || p->s[p->i] > '9')
		return rp_fail(p, p->i, why);
	while (p->s[p->i] >= '0' && p->s[p->i] <= '9') {
		if (p->i - start >= 5)
			return rp_fail(p, start, why);
		v = v * 10 + (unsigned)(p->s[p->i] - '0');
		p->i++;
	}
	if (p->i - start > 1 && p->s[start] == '0')
		return rp_fail(p, start, why);
	if (v > max)
		return rp_fail(p, start, why);
	*out = v;
	return 0;
}

static int
rp_ipv4(struct rp *p, uint8_t out[4])
{
	for (int k = 0; k < 4; k++) {
		unsigned b;
		if (k > 0) {
			if (p->s[p->i] != '.')
				return rp_fail(p, p->i, "expected an IPv4 "
				    "address A.B.C.D");
			p->i++;
		}
		if (rp_dec(p, 255, &b, "expected an IPv4 address byte "
		    "0..255") != 0)
			return EINVAL_K;
		out[k] = (uint8_t)b;
	}
	return 0;
}

/* An IPv6 address (RFC 4291 2.2 text forms, with "::" and a trailing
 * dotted IPv4), ending at '/' or ']'. */
static int
rp_ipv6(struct rp *p, uint8_t out[16])
{
	uint16_t g[8];
	int n = 0, dc = -1;
	size_t start = p->i;

	if (p->s[p->i] == ':') {
		if (p->s[p->i + 1] != ':')
			return rp_fail(p, p->i, "expected an IPv6 address");
		p->i += 2;
		dc = 0;
	}
	while (p->s[p->i] != '/' && p->s[p->i] != ']') {
		size_t gs = p->i;
		unsigned v = 0;
		int d = 0;
		if (n == 8)
			return rp_fail(p, p->i, "expected at most 8 IPv6 "
			    "groups");
		while (hexval(p->s[p->i]) >= 0 && d < 5) {
			v = v << 4 | (unsigned)hexval(p->s[p->i]);
			p->i++;
			d++;
		}
		if (p->s[p->i] == '.') {
			/* a dotted IPv4 tail takes the last two groups */
			uint8_t b[4];
			p->i = gs;
			if (n > 6 || rp_ipv4(p, b) != 0)
				return rp_fail(p, gs, "expected an IPv4 tail "
				    "in the last 32 bits of an IPv6 address");
			g[n++] = (uint16_t)(b[0] << 8 | b[1]);
			g[n++] = (uint16_t)(b[2] << 8 | b[3]);
			break;
		}
		if (d == 0 || d > 4)
			return rp_fail(p, gs, "expected an IPv6 group of 1..4 "
			    "hex digits");
		g[n++] = (uint16_t)v;
		if (p->s[p->i] == '/' || p->s[p->i] == ']')
			break;
		if (p->s[p->i] != ':')
			return rp_fail(p, p->i, "expected ':' in an IPv6 "
			    "address");
		p->i++;
		if (p->s[p->i] == ':') {
			if (dc >= 0)
				return rp_fail(p, p->i, "expected one '::' at "
				    "most");
			dc = n;
			p->i++;
		} else if (p->s[p->i] == '/' || p->s[p->i] == ']')
			return rp_fail(p, p->i, "expected an IPv6 group after "
			    "':'");
	}
	if (p->s[p->i] != '/' && p->s[p->i] != ']')
		return rp_fail(p, p->i, "expected ']' after an IPv6 address");
	if (dc < 0 && n != 8)
		return rp_fail(p, start, "expected 8 IPv6 groups or '::'");
	if (dc >= 0 && n == 8)
		return rp_fail(p, start, "expected '::' to stand for at least "
		    "one group");
	memset(out, 0, 16);
	int tail = dc < 0 ? 0 : n - dc;
	int head = n - tail;
	for (int k = 0; k < head; k++) {
		out[2 * k] = (uint8_t)(g[k] >> 8);
		out[2 * k + 1] = (uint8_t)g[k];
	}
	for (int k = 0; k < tail; k++) {
		int at = 8 - tail + k;
		out[2 * at] = (uint8_t)(g[head + k] >> 8);
		out[2 * at + 1] = (uint8_t)g[head + k];
	}
	return 0;
}

static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0xff, 0xff };

/* Do the bits of a below plen all lie in the prefix (host bits zero)? */
static bool
host_bits_zero(const uint8_t *a, unsigned bytes, unsigned plen)
{
	for (unsigned b = plen; b < bytes * 8; b++)
		if (a[b / 8] & (0x80 >> (b % 8)))
			return false;
	return true;
}

KRS_EXPORT int
krs_hostnet_rule_parse(const char *s, struct krs_hostnet_rule *r,
    size_t *errpos, const char **why)
{
	struct rp p = { .s = s, .i = 0, .errpos = 0, .why = NULL };
	unsigned v;
	int err = 0;

	if (s == NULL || r == NULL) {
		p.why = "no entry";
		err = EINVAL_K;
		goto out;
	}
	memset(r, 0, sizeof(*r));
	if (strnlen(s, KRS_HOSTNET_RULE_MAX + 1) > KRS_HOSTNET_RULE_MAX) {
		err = rp_fail(&p, KRS_HOSTNET_RULE_MAX, "expected an entry of "
		    "at most 128 bytes");
		goto out;
	}
	if (s[0] == '[') {
		p.i = 1;
		r->hr_family = 6;
		r->hr_plen = 128;
		if ((err = rp_ipv6(&p, r->hr_addr)) != 0)
			goto out;
		if (s[p.i] == '/') {
			p.i++;
			if ((err = rp_dec(&p, 128, &v, "expected a prefix "
			    "length 0..128")) != 0)
				goto out;
			r->hr_plen = (uint8_t)v;
		}
		if (s[p.i] != ']') {
			err = rp_fail(&p, p.i, "expected ']' after an IPv6 "
			    "address");
			goto out;
		}
		p.i++;
	} else {
		r->hr_family = 4;
		r->hr_plen = 32;
		if ((err = rp_ipv4(&p, r->hr_addr)) != 0)
			goto out;
		if (s[p.i] == '/') {
			p.i++;
			if ((err = rp_dec(&p, 32, &v, "expected a prefix "
			    "length 0..32")) != 0)
				goto out;
			r->hr_plen = (uint8_t)v;
		}
	}
	if (!host_bits_zero(r->hr_addr, r->hr_family == 4 ? 4 : 16,
	    r->hr_plen)) {
		err = rp_fail(&p, 0, "expected no address bits below the "
		    "prefix length");
		goto out;
	}
	if (s[p.i] != ':') {
		err = rp_fail(&p, p.i, r->hr_family == 4 ? "expected ':PORT' "
		    "after the address" : "expected ':PORT' after ']'");
		goto out;
	}
	p.i++;
	if (s[p.i] == '*') {
		p.i++;
		r->hr_port_lo = 1;
		r->hr_port_hi = 65535;
	} else {
		if ((err = rp_dec(&p, 65535, &v, "expected a port 1..65535, "
		    "LO-HI or *")) != 0)
			goto out;
		if (v == 0) {
			err = rp_fail(&p, p.i - 1, "expected a port 1..65535, "
			    "LO-HI or *");
			goto out;
		}
		r->hr_port_lo = r->hr_port_hi = (uint16_t)v;
		if (s[p.i] == '-') {
			size_t at = ++p.i;
			if ((err = rp_dec(&p, 65535, &v, "expected a port "
			    "1..65535 after '-'")) != 0)
				goto out;
			if (v < r->hr_port_lo) {
				err = rp_fail(&p, at, "expected LO-HI with LO "
				    "<= HI");
				goto out;
			}
			r->hr_port_hi = (uint16_t)v;
		}
	}
	if (s[p.i] != '\0') {
		err = rp_fail(&p, p.i, "expected the end of the entry");
		goto out;
	}
	/* ::ffff:a.b.c.d/96+n is the IPv4 rule a.b.c.d/n. */
	if (r->hr_family == 6 && r->hr_plen >= 96 &&
	    memcmp(r->hr_addr, v4mapped, 12) == 0) {
		memmove(r->hr_addr, r->hr_addr + 12, 4);
		memset(r->hr_addr + 4, 0, 12);
		r->hr_family = 4;
		r->hr_plen = (uint8_t)(r->hr_plen - 96);
	}
out:
	if (errpos != NULL)
		*errpos = p.errpos;
	if (why != NULL)
		*why = err != 0 ? p.why : NULL;
	return err;
}

KRS_EXPORT int
krs_hostnet_rule_match(const struct krs_hostnet_rule *r, int family,
    const uint8_t *addr, uint16_t port)
{
	if (r->hr_family != family || port < r->hr_port_lo ||
	    port > r->hr_port_hi)
		return 0;
	unsigned full = r->hr_plen / 8, rest = r->hr_plen % 8;
	if (memcmp(r->hr_addr, addr, full) != 0)
		return 0;
	if (rest != 0) {
		uint8_t m = (uint8_t)(0xff00 >> rest);
		if ((r->hr_addr[full] & m) != (addr[full] & m))
			return 0;
	}
	return 1;
}

KRS_EXPORT void
krs_hostnet_rule_format(const struct krs_hostnet_rule *r, char *buf,
    size_t len)
{
	char a[64], pt[16];
	const uint8_t *x = r->hr_addr;

	if (r->hr_family == 4)
		snprintf(a, sizeof(a), "%u.%u.%u.%u", x[0], x[1], x[2], x[3]);
	else {
		/* Plain full form (no "::" compression): unambiguous and
		 * accepted back by the parser. */
		size_t o = 0;
		a[o++] = '[';
		for (int k = 0; k < 8; k++)
			o += (size_t)snprintf(a + o, sizeof(a) - o, "%s%x",
			    k ? ":" : "", (unsigned)(x[2 * k] << 8 | x[2 * k + 1]));
		a[o] = '\0';
	}
	if (r->hr_port_lo == 1 && r->hr_port_hi == 65535)
		snprintf(pt, sizeof(pt), "*");
	else if (r->hr_port_lo == r->hr_port_hi)
		snprintf(pt, sizeof(pt), "%u", r->hr_port_lo);
	else
		snprintf(pt, sizeof(pt), "%u-%u", r->hr_port_lo, r->hr_port_hi);
	bool fullp = r->hr_plen == (r->hr_family == 4 ? 32 : 128);
	char pl[8] = "";
	if (!fullp)
		snprintf(pl, sizeof(pl), "/%u", r->hr_plen);
	snprintf(buf, len, "%s%s%s:%s", a, pl, r->hr_family == 6 ? "]" : "", pt);
}
