/*
 * krk_config_value.c - the syntax of single values in a deployment file:
 * sizes, durations and core lists (shared with krankctl through
 * krk_config.h), IPv4 addresses, MACs, names and KRANK paths (for
 * krk_config.c, through krk_config_int.h).  Pure functions of strings.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "krk_config.h"
#include "krk_config_int.h"

bool
krk_cfg_name_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '.' &&
		    *s != '-')
			return false;
	return true;
}

/* "A.B.C.D" strictly: four decimal octets, no leading zeros. */
bool
krk_cfg_parse_ipv4(const char *s, const char **end, uint32_t *out)
{
	uint32_t a = 0;
	int i;

	for (i = 0; i < 4; i++) {
		unsigned v = 0, nd = 0;

		if (i > 0 && *s++ != '.')
			return false;
		while (*s >= '0' && *s <= '9' && nd < 4) {
			v = v * 10 + (unsigned)(*s++ - '0');
			nd++;
		}
		if (nd == 0 || nd > 3 || v > 255 ||
		    (nd > 1 && s[-(int)nd] == '0'))
			return false;
		a = a << 8 | v;
	}
	*end = s;
	*out = a;
	return true;
}

bool
krk_cfg_parse_cidr(const char *s, uint32_t *addr, unsigned *plen)
{
	const char *e;
	uint64_t n;

	if (!krk_cfg_parse_ipv4(s, &e, addr) || *e != '/' || strlen(e + 1) > 2 ||
	    (e[1] == '0' && e[2] != '\0') || krk_cfg_parse_u64(e + 1, &n) != 0 ||
	    n < 1 || n > 32)
		return false;
	*plen = (unsigned)n;
	return true;
}

bool
krk_cfg_parse_mac(const char *s, uint8_t mac[6])
{
	int i;

	for (i = 0; i < 6; i++) {
		if (!isxdigit((unsigned char)s[0]) ||
		    !isxdigit((unsigned char)s[1]) ||
		    s[2] != (i == 5 ? '\0' : ':'))
			return false;
		mac[i] = (uint8_t)strtoul((char[3]){ s[0], s[1], 0 }, NULL, 16);
		s += 3;
	}
	return true;
}

/* An absolute path without ".", ".." or empty components. */
bool
krk_cfg_abspath_ok(const char *s)
{
	const char *c;

	if (s[0] != '/')
		return false;
	if (s[1] == '\0')
		return true;
	for (c = s + 1;; ) {
		const char *sl = strchr(c, '/');
		size_t n = sl ? (size_t)(sl - c) : strlen(c);

		if (n == 0 || (n == 1 && c[0] == '.') ||
		    (n == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		if (sl == NULL)
			return true;
		c = sl + 1;
	}
}

/* Decimal only: "010" is 10, not 8, and no signs, spaces or hex. */
int
krk_cfg_parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (*s == '\0')
		return EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return EINVAL;
		if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return ERANGE;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return 0;
}

void
krk_cfg_fmt_size(uint64_t v, char *buf, size_t len)
{
	static const char units[] = "KMGTPE";
	int u = -1;

	while (v != 0 && (v & 1023) == 0 && u < 5) {
		v >>= 10;
		u++;
	}
	if (u < 0)
		snprintf(buf, len, "%" PRIu64, v);
	else
		snprintf(buf, len, "%" PRIu64 "%c", v, units[u]);
}

/* ---- size and duration (shared with krankctl) ------------------------ */

int
krk_parse_size(const char *s, uint64_t *out)
{
	char num[24];
	size_t n = 0;
	unsigned shift = 0;
	uint64_t v;
	int e;

	while (s[n] >= '0' && s[n] <= '9')
		n++;
	if (n == 0 || n >= sizeof(num))
		return n == 0 ? EINVAL : ERANGE;
	memcpy(num, s, n);
	num[n] = '\0';
	switch (s[n]) {
	case '\0': shift = 0; break;
	case 'K': case 'k': shift = 10; break;
	case 'M': shift = 20; break;
	case 'G': shift = 30; break;
	case 'T': shift = 40; break;
	default: return EINVAL;
	}
	if (s[n] != '\0') {
		/* "64M", "64MB", "64MiB" alike. */
		const char *t = s + n + 1;

		if (!(t[0] == '\0' || strcmp(t, "B") == 0 ||
		    strcmp(t, "iB") == 0))
			return EINVAL;
	}
	if ((e = krk_cfg_parse_u64(num, &v)) != 0)
		return e;
	if (shift && v > (UINT64_MAX >> shift))
		return ERANGE;
	*out = v << shift;
	return 0;
}

int
krk_parse_duration(const char *s, uint64_t *ns)
{
	static const struct { const char *sfx; uint64_t mul; } units[] = {
		{ "ns", 1 }, { "us", 1000 }, { "ms", 1000000 },
		{ "s", 1000000000ull }, { "m", 60000000000ull },
		{ "h", 3600000000000ull },
	};
	char num[24];
	size_t n = 0, i;
	uint64_t v;
	int e;

	while (s[n] >= '0' && s[n] <= '9')
		n++;
	if (n == 0 || n >= sizeof(num))
		return n == 0 ? EINVAL : ERANGE;
	memcpy(num, s, n);
	num[n] = '\0';
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(s + n, units[i].sfx) == 0)
			break;
	if (i == sizeof(units) / sizeof(units[0]))
		return EINVAL;	/* a unit is required: "10" is ambiguous */
	if ((e = krk_cfg_parse_u64(num, &v)) != 0)
		return e;
	if (v > UINT64_MAX / units[i].mul)
		return ERANGE;
	*ns = v * units[i].mul;
	return 0;
}

int
krk_parse_cores(const char *s, int *cores, unsigned *ncores)
{
	bool seen[KRK_MAX_CORES] = { false };
	unsigned n = 0;
	int i;

	for (;;) {
		unsigned long lo, hi;
		char *e;

		if (*s < '0' || *s > '9')
			return EINVAL;
		lo = strtoul(s, &e, 10);
		hi = lo;
		if (*e == '-') {
			if (e[1] < '0' || e[1] > '9')
				return EINVAL;
			hi = strtoul(e + 1, &e, 10);
		}
		if (lo >= KRK_MAX_CORES || hi >= KRK_MAX_CORES)
			return ERANGE;
		if (hi < lo)
			return EINVAL;
		for (; lo <= hi; lo++) {
			if (seen[lo])
				return EEXIST;
			seen[lo] = true;
		}
		if (*e == '\0')
			break;
		if (*e != ',')
			return EINVAL;
		s = e + 1;
	}
	for (i = 0; i < KRK_MAX_CORES; i++)
		if (seen[i])
			cores[n++] = i;
	*ncores = n;
	return 0;
}
