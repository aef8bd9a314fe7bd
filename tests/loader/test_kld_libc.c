/*
 * The isolate libc, reached through its export table exactly as isolates
 * bind it, compared with the host's glibc: the snprintf family over a
 * table of formats, strto* edge cases with errno, qsort/bsearch on random
 * data, string and memory functions, and every ctype class over all bytes.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "krank/kld.h"

static int failures, checks;
static struct kld_symtab *tab;

#define CHECK(cond, ...) do {						\
	checks++;							\
	if (!(cond)) {							\
		failures++;						\
		printf("FAIL %s:%d: ", __FILE__, __LINE__);		\
		printf(__VA_ARGS__);					\
		printf("\n");						\
	}								\
} while (0)

static void *
fn(const char *name)
{
	void *p = kld_symtab_lookup(tab, name);

	if (p == NULL) {
		printf("FAIL: %s is not exported\n", name);
		exit(1);
	}
	return p;
}

typedef int snprintf_fn(char *, size_t, const char *, ...);

/* Format with both, compare text and return value. */
#define FMT(...) do {							\
	char a[256], b[256];						\
	int ra = ((snprintf_fn *)fn("snprintf"))(a, sizeof(a), __VA_ARGS__); \
	int rb = snprintf(b, sizeof(b), __VA_ARGS__);			\
	CHECK(ra == rb && strcmp(a, b) == 0,				\
	    "snprintf(%s): isolate '%s' (%d), glibc '%s' (%d)", #__VA_ARGS__, \
	    a, ra, b, rb);						\
} while (0)

static int
cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return x < y ? -1 : x > y;
}

static uint64_t rng = 88172645463325252ULL;

static uint64_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

int
main(void)
{
	int before;

	kld_symtab_create(&tab);
	kld_symtab_add(tab, kld_libc_exports, kld_libc_nexports);

	/* snprintf family */
	before = failures;
	FMT("plain text");
	FMT("%d %i %u", 42, -17, 3000000000u);
	FMT("%5d|%-5d|%05d|%+d|% d", 42, 42, 42, 42, 42);
	FMT("%ld %lld %lu %llu", LONG_MIN, LLONG_MAX, ULONG_MAX, 0ULL);
	FMT("%hd %hhd %hu %hhu", 70000, 300, 70000, 300);
	FMT("%zu %zd %td %jd", (size_t)123, (ssize_t)-5, (ptrdiff_t)7, (intmax_t)-9);
	FMT("%x %X %#x %#X %o %#o %#o", 255u, 255u, 255u, 255u, 8u, 8u, 0u);
	FMT("%08x|%-8x|%.4x|%#.4x|%.0x", 0xbeefu, 0xbeefu, 0xau, 0xau, 0u);
	FMT("%.3d|%.0d|%8.3d|%-8.3d", 7, 0, 7, -7);
	FMT("%s|%10s|%-10s|%.2s|%*s|%-*s|%.*s", "abc", "abc", "abc", "abc",
	    6, "x", 6, "y", 1, "zz");
	FMT("%c%c%5c%-3c|", 'a', 'b', 'c', 'd');
	FMT("%p %p", (void *)0x1234, (void *)&before);
	FMT("%% %%");
	FMT("%f %f %f %f", 0.0, 1.5, -2.25, 3.14159265358979);
	FMT("%.2f %.0f %.1f %10.3f %-10.3f| %+.2f %08.2f", 2.675, 2.5, 0.05,
	    3.14159, 2.71828, 1.0, -3.5);
	FMT("%e %.2e %E %.0e", 12345.678, 0.000123, 1e100, 5e-5);
	/* 1e18 and beyond: the digits by remainders of 10 (stdio.c's
	 * rem10l, the x87's FPREM, not libm's fmodl). */
	FMT("%.0f %.1f %.0f", 1e20, 123456789012345678.0, 4.5e21);
	FMT("%g %g %g %g %g %g", 100000.0, 1000000.0, 0.0001, 0.00001, 1.5,
	    123456789.0);
	FMT("%.3g %#g %G %g", 3.14159, 2.0, 1e-10, 0.0);
	FMT("%f %e %g", 1.0 / 0.0, -1.0 / 0.0, 0.0 / 0.0 * 0.0);
	{
		char small[8];
		int r = ((snprintf_fn *)fn("snprintf"))(small, sizeof(small),
		    "%s", "truncated output");

		CHECK(r == 16 && strcmp(small, "truncat") == 0,
		    "truncation: %d '%s'", r, small);
		r = ((snprintf_fn *)fn("snprintf"))(NULL, 0, "%d", 12345);
		CHECK(r == 5, "snprintf(NULL, 0) = %d", r);
	}
	if (failures == before)
		printf("ok   snprintf matches glibc on %d format lines\n", 21);

	/* strto* with errno */
	before = failures;
	{
		long (*sl)(const char *, char **, int) = fn("strtol");
		unsigned long long (*sull)(const char *, char **, int) =
		    fn("strtoull");
		int *(*el)(void) = fn("__errno_location");
		static const char *in[] = { "0", "-0", "  +42xyz", "-9223372036854775808",
		    "9223372036854775808", "-9223372036854775809", "0x1F", "0X",
		    "0777", "z", "", "  -", "123456789012345678901234567890",
		    "0xffffffffffffffff", "-1", "1e5", "\t\n 17" };
		static const int base[] = { 10, 0, 16, 8, 36, 2 };

		for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++)
			for (size_t k = 0; k < sizeof(base) / sizeof(base[0]); k++) {
				char *e1, *e2;
				long a, b;
				unsigned long long c, d;
				int er1, er2;

				*el() = 0;
				a = sl(in[i], &e1, base[k]);
				er1 = *el();
				errno = 0;
				b = strtol(in[i], &e2, base[k]);
				er2 = errno;
				CHECK(a == b && e1 - in[i] == e2 - in[i] && er1 == er2,
				    "strtol('%s', %d): %ld/%td/%d vs glibc %ld/%td/%d",
				    in[i], base[k], a, e1 - in[i], er1, b,
				    e2 - in[i], er2);
				*el() = 0;
				c = sull(in[i], &e1, base[k]);
				er1 = *el();
				errno = 0;
				d = strtoull(in[i], &e2, base[k]);
				er2 = errno;
				CHECK(c == d && e1 - in[i] == e2 - in[i] && er1 == er2,
				    "strtoull('%s', %d): %llu/%d vs glibc %llu/%d",
				    in[i], base[k], c, er1, d, er2);
			}
		CHECK(((int (*)(const char *))fn("atoi"))(" -123abc") == -123,
		    "atoi");
	}
	if (failures == before)
		printf("ok   strtol/strtoull match glibc (value, end, errno) on "
		    "102 cases each\n");

	/* qsort and bsearch */
	before = failures;
	{
		void (*qs)(void *, size_t, size_t, int (*)(const void *,
		    const void *)) = fn("qsort");
		void *(*bs)(const void *, const void *, size_t, size_t,
		    int (*)(const void *, const void *)) = fn("bsearch");
		static int v[5000], w[5000];

		for (int n = 0; n <= 5000; n = n ? n * 3 : 1) {
			for (int i = 0; i < n; i++)
				v[i] = w[i] = (int)(rnd() % 1000) - 500;
			qs(v, (size_t)n, sizeof(int), cmp_int);
			qsort(w, (size_t)n, sizeof(int), cmp_int);
			CHECK(memcmp(v, w, (size_t)n * sizeof(int)) == 0,
			    "qsort of %d ints differs from glibc", n);
			for (int i = 0; i < n; i += 7) {
				int key = v[i];
				int *hit = bs(&key, v, (size_t)n, sizeof(int),
				    cmp_int);

				CHECK(hit != NULL && *hit == key, "bsearch %d", key);
			}
			{
				int key = 100000;
				CHECK(bs(&key, v, (size_t)n, sizeof(int),
				    cmp_int) == NULL, "bsearch found a missing key");
			}
		}
	}
	if (failures == before)
		printf("ok   qsort/bsearch agree with glibc on random arrays "
		    "up to 2187 elements\n");

	/* string and memory functions on random strings */
	before = failures;
	for (int t = 0; t < 2000; t++) {
		char a[40], b[40], d1[100], d2[100];
		size_t la = rnd() % 39, lb = rnd() % 39, n = rnd() % 45;
		int sa, sb;

		for (size_t i = 0; i < la; i++)
			a[i] = "abcxyz "[rnd() % 7];
		for (size_t i = 0; i < lb; i++)
			b[i] = "abcxyz "[rnd() % 7];
		a[la] = b[lb] = '\0';
		if (rnd() % 3 == 0)
			memcpy(b, a, la + 1);
		sa = ((int (*)(const char *, const char *))fn("strcmp"))(a, b);
		sb = strcmp(a, b);
		CHECK((sa > 0) == (sb > 0) && (sa < 0) == (sb < 0),
		    "strcmp('%s','%s')", a, b);
		sa = ((int (*)(const char *, const char *, size_t))
		    fn("strncmp"))(a, b, n);
		sb = strncmp(a, b, n);
		CHECK((sa > 0) == (sb > 0) && (sa < 0) == (sb < 0),
		    "strncmp('%s','%s',%zu)", a, b, n);
		sa = ((int (*)(const void *, const void *, size_t))
		    fn("memcmp"))(a, b, n < 40 ? n : 40);
		sb = memcmp(a, b, n < 40 ? n : 40);
		CHECK((sa > 0) == (sb > 0) && (sa < 0) == (sb < 0), "memcmp");
		CHECK(((size_t (*)(const char *))fn("strlen"))(a) == la, "strlen");
		CHECK(((char *(*)(const char *, const char *))fn("strstr"))(a,
		    b + lb / 2) == strstr(a, b + lb / 2), "strstr('%s','%s')",
		    a, b + lb / 2);
		CHECK(((char *(*)(const char *, int))fn("strchr"))(a, 'x') ==
		    strchr(a, 'x'), "strchr");
		CHECK(((char *(*)(const char *, int))fn("strrchr"))(a, 'y') ==
		    strrchr(a, 'y'), "strrchr");
		CHECK(((char *(*)(const char *, int))fn("strchr"))(a, 0) ==
		    strchr(a, 0), "strchr NUL");
		CHECK(((size_t (*)(const char *, const char *))fn("strspn"))(a,
		    "abc") == strspn(a, "abc"), "strspn");
		CHECK(((size_t (*)(const char *, const char *))fn("strcspn"))(a,
		    "xyz") == strcspn(a, "xyz"), "strcspn");
		memset(d1, 'Q', sizeof(d1));
		memset(d2, 'Q', sizeof(d2));
		strcpy(d1, a);
		strcpy(d2, a);
		((char *(*)(char *, const char *, size_t))fn("strncat"))(d1, b, n);
		strncat(d2, b, n);
		CHECK(memcmp(d1, d2, sizeof(d1)) == 0, "strncat");
		memset(d1, 'Q', sizeof(d1));
		memset(d2, 'Q', sizeof(d2));
		((char *(*)(char *, const char *, size_t))fn("strncpy"))(d1, a, n);
		strncpy(d2, a, n);
		CHECK(memcmp(d1, d2, sizeof(d1)) == 0, "strncpy");
		memcpy(d1, "0123456789abcdefghijklmnopqrstuvwxyz", 37);
		memcpy(d2, d1, 37);
		((void *(*)(void *, const void *, size_t))fn("memmove"))(d1 +
		    n % 10, d1 + 5, 20);
		memmove(d2 + n % 10, d2 + 5, 20);
		CHECK(memcmp(d1, d2, 37) == 0, "memmove overlap %zu", n % 10);
	}
	if (failures == before)
		printf("ok   string and memory functions agree with glibc on "
		    "2000 random cases\n");

	/* ctype over every byte and EOF */
	before = failures;
	{
		static const char *names[] = { "isalnum", "isalpha", "isdigit",
		    "isxdigit", "islower", "isupper", "isspace", "isprint",
		    "ispunct", "iscntrl", "isgraph" };
		int (*const ref[])(int) = { isalnum, isalpha, isdigit, isxdigit,
		    islower, isupper, isspace, isprint, ispunct, iscntrl,
		    isgraph };

		for (size_t k = 0; k < sizeof(ref) / sizeof(ref[0]); k++) {
			int (*f)(int) = fn(names[k]);

			for (int c = -1; c < 256; c++)
				CHECK(!f(c) == !ref[k](c), "%s(%d)", names[k], c);
		}
		for (int c = -1; c < 256; c++) {
			CHECK(((int (*)(int))fn("toupper"))(c) == toupper(c),
			    "toupper(%d)", c);
			CHECK(((int (*)(int))fn("tolower"))(c) == tolower(c),
			    "tolower(%d)", c);
		}
	}
	if (failures == before)
		printf("ok   ctype classes and case mapping agree with glibc "
		    "on all bytes and EOF\n");

	/* malloc goes to the host hooks; without them, ENOMEM. */
	{
		void *(*m)(size_t) = fn("malloc");
		int *(*el)(void) = fn("__errno_location");
		struct kld_libc_host h = { .malloc = malloc, .free = free,
		    .realloc = realloc };

		*el() = 0;
		CHECK(m(16) == NULL && *el() == ENOMEM, "malloc without host");
		kld_libc_set_host(&h);
		void *p = m(16);
		CHECK(p != NULL, "malloc with host");
		((void (*)(void *))fn("free"))(p);
	}

	kld_symtab_destroy(tab);
	printf("%d checks, %d failures\n", checks, failures);
	return failures ? 1 : 0;
}
