/*
 * Number parsing, sorting, searching, errno, memory and exit for
 * isolates.  What needs the system (memory, exit) goes to the host hooks
 * set with kld_libc_set_host.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>

#include "kld_libc.h"

struct kld_libc_host kld_libc_host;
static __thread int kld_libc_errno_v;

void
kld_libc_set_host(const struct kld_libc_host *h)
{
	kld_libc_host = *h;
}

int *
kld_libc_errno(void)
{
	return &kld_libc_errno_v;
}

int *
kld_libc_errno_location(void)
{
	return &kld_libc_errno_v;
}

static int
digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 10;
	return 99;
}

/* Shared by the strto* family: parse magnitude into *mag (saturating);
 * returns the end pointer or NULL when no digits were found. */
static const char *
parse_uns(const char *s, int base, int *neg, unsigned long long *mag,
    int *over)
{
	unsigned long long v = 0;
	const char *digits;

	*neg = 0;
	*over = 0;
	while (kld_libc_isspace(*s))
		s++;
	if (*s == '+' || *s == '-')
		*neg = *s++ == '-';
	if ((base == 0 || base == 16) && s[0] == '0' &&
	    (s[1] == 'x' || s[1] == 'X') && digit(s[2]) < 16) {
		s += 2;
		base = 16;
	} else if (base == 0)
		base = s[0] == '0' ? 8 : 10;
	if (base < 2 || base > 36)
		return NULL;
	digits = s;
	for (; digit(*s) < base; s++) {
		unsigned d = (unsigned)digit(*s);

		if (v > (ULLONG_MAX - d) / (unsigned)base)
			*over = 1;
		else
			v = v * (unsigned)base + d;
	}
	*mag = v;
	return s == digits ? NULL : s;
}

unsigned long long
kld_libc_strtoull(const char *s, char **end, int base)
{
	unsigned long long m;
	int neg, over;
	const char *e = parse_uns(s, base, &neg, &m, &over);

	if (end != NULL)
		*end = (char *)(e ? e : s);
	if (e == NULL) {
		if (base < 0 || base == 1 || base > 36)
			*kld_libc_errno() = EINVAL;
		return 0;
	}
	if (over) {
		*kld_libc_errno() = ERANGE;
		return ULLONG_MAX;
	}
	return neg ? -m : m;
}

unsigned long
kld_libc_strtoul(const char *s, char **end, int base)
{
	return kld_libc_strtoull(s, end, base);
}

long long
kld_libc_strtoll(const char *s, char **end, int base)
{
	unsigned long long m;
	int neg, over;
	const char *e = parse_uns(s, base, &neg, &m, &over);

	if (end != NULL)
		*end = (char *)(e ? e : s);
	if (e == NULL)
		return 0;
	if (over || (!neg && m > (unsigned long long)LLONG_MAX) ||
	    (neg && m > (unsigned long long)LLONG_MAX + 1)) {
		*kld_libc_errno() = ERANGE;
		return neg ? LLONG_MIN : LLONG_MAX;
	}
	return neg ? (long long)(0 - m) : (long long)m;
}

long
kld_libc_strtol(const char *s, char **end, int base)
{
	return kld_libc_strtoll(s, end, base);
}

int
kld_libc_atoi(const char *s)
{
	return (int)kld_libc_strtol(s, NULL, 10);
}

long
kld_libc_atol(const char *s)
{
	return kld_libc_strtol(s, NULL, 10);
}

int
kld_libc_abs(int x)
{
	return x < 0 ? -x : x;
}

long
kld_libc_labs(long x)
{
	return x < 0 ? -x : x;
}

static void
swap(unsigned char *a, unsigned char *b, size_t n)
{
	while (n--) {
		unsigned char t = *a;
		*a++ = *b;
		*b++ = t;
	}
}

/* Heapsort: O(n log n) worst case, no recursion, no allocation. */
void
kld_libc_qsort(void *base, size_t n, size_t sz,
    int (*cmp)(const void *, const void *))
{
	unsigned char *b = base;
	size_t start, end, root, child;

	if (n < 2 || sz == 0)
		return;
	for (start = n / 2; start-- > 0;) {
		for (root = start; (child = 2 * root + 1) < n; root = child) {
			if (child + 1 < n && cmp(b + child * sz,
			    b + (child + 1) * sz) < 0)
				child++;
			if (cmp(b + root * sz, b + child * sz) >= 0)
				break;
			swap(b + root * sz, b + child * sz, sz);
		}
	}
	for (end = n - 1; end > 0; end--) {
		swap(b, b + end * sz, sz);
		for (root = 0; (child = 2 * root + 1) < end; root = child) {
			if (child + 1 < end && cmp(b + child * sz,
			    b + (child + 1) * sz) < 0)
				child++;
			if (cmp(b + root * sz, b + child * sz) >= 0)
				break;
			swap(b + root * sz, b + child * sz, sz);
		}
	}
}

void *
kld_libc_bsearch(const void *key, const void *base, size_t n, size_t sz,
    int (*cmp)(const void *, const void *))
{
	const unsigned char *b = base;

	while (n > 0) {
		const unsigned char *mid = b + (n / 2) * sz;
		int c = cmp(key, mid);

		if (c == 0)
			return (void *)(uintptr_t)mid;
		if (c > 0) {
			b = mid + sz;
			n -= n / 2 + 1;
		} else
			n /= 2;
	}
	return NULL;
}

void *
kld_libc_malloc(size_t n)
{
	void *p = kld_libc_host.malloc ? kld_libc_host.malloc(n) : NULL;

	if (p == NULL)
		*kld_libc_errno() = ENOMEM;
	return p;
}

void *
kld_libc_calloc(size_t n, size_t sz)
{
	void *p;

	if (sz != 0 && n > SIZE_MAX / sz) {
		*kld_libc_errno() = ENOMEM;
		return NULL;
	}
	if ((p = kld_libc_malloc(n * sz)) != NULL)
		kld_libc_memset(p, 0, n * sz);
	return p;
}

void *
kld_libc_realloc(void *p, size_t n)
{
	void *q = kld_libc_host.realloc ? kld_libc_host.realloc(p, n) : NULL;

	if (q == NULL && n != 0)
		*kld_libc_errno() = ENOMEM;
	return q;
}

void
kld_libc_free(void *p)
{
	if (p != NULL && kld_libc_host.free != NULL)
		kld_libc_host.free(p);
}

void
kld_libc_exit(int status)
{
	if (kld_libc_host.exit != NULL)
		kld_libc_host.exit(status);
	abort();
}

void
kld_libc_abort(void)
{
	kld_libc_exit(134);
}
