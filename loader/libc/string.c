/*
 * Memory and string functions of the isolate libc.  Plain byte loops:
 * correctness first; the compiler vectorises the simple ones.
 */
#include <stdint.h>

#include "kld_libc.h"

void *
kld_libc_memcpy(void *d, const void *s, size_t n)
{
	unsigned char *dp = d;
	const unsigned char *sp = s;

	while (n--)
		*dp++ = *sp++;
	return d;
}

void *
kld_libc_memmove(void *d, const void *s, size_t n)
{
	unsigned char *dp = d;
	const unsigned char *sp = s;

	if (dp == sp || n == 0)
		return d;
	if ((uintptr_t)dp < (uintptr_t)sp)
		while (n--)
			*dp++ = *sp++;
	else
		while (n--)
			dp[n] = sp[n];
	return d;
}

void *
kld_libc_memset(void *d, int c, size_t n)
{
	unsigned char *dp = d;

	while (n--)
		*dp++ = (unsigned char)c;
	return d;
}

int
kld_libc_memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}

void *
kld_libc_memchr(const void *s, int c, size_t n)
{
	const unsigned char *p = s;

	for (; n; n--, p++)
		if (*p == (unsigned char)c)
			return (void *)(uintptr_t)p;
	return NULL;
}

size_t
kld_libc_strlen(const char *s)
{
	const char *p = s;

	while (*p)
		p++;
	return (size_t)(p - s);
}

size_t
kld_libc_strnlen(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n])
		n++;
	return n;
}

int
kld_libc_strcmp(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return (unsigned char)*a - (unsigned char)*b;
}

int
kld_libc_strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return (unsigned char)*a - (unsigned char)*b;
		if (*a == '\0')
			break;
	}
	return 0;
}

char *
kld_libc_strcpy(char *d, const char *s)
{
	char *r = d;

	while ((*d++ = *s++) != '\0')
		;
	return r;
}

char *
kld_libc_strncpy(char *d, const char *s, size_t n)
{
	size_t i = 0;

	for (; i < n && s[i]; i++)
		d[i] = s[i];
	for (; i < n; i++)
		d[i] = '\0';
	return d;
}

char *
kld_libc_strcat(char *d, const char *s)
{
	kld_libc_strcpy(d + kld_libc_strlen(d), s);
	return d;
}

char *
kld_libc_strncat(char *d, const char *s, size_t n)
{
	char *p = d + kld_libc_strlen(d);

	while (n-- && *s)
		*p++ = *s++;
	*p = '\0';
	return d;
}

char *
kld_libc_strchr(const char *s, int c)
{
	for (;; s++) {
		if (*s == (char)c)
			return (char *)(uintptr_t)s;
		if (*s == '\0')
			return NULL;
	}
}

char *
kld_libc_strrchr(const char *s, int c)
{
	const char *r = NULL;

	for (;; s++) {
		if (*s == (char)c)
			r = s;
		if (*s == '\0')
			return (char *)(uintptr_t)r;
	}
}

char *
kld_libc_strstr(const char *h, const char *n)
{
	size_t nl = kld_libc_strlen(n);

	for (; *h; h++)
		if (kld_libc_strncmp(h, n, nl) == 0)
			return (char *)(uintptr_t)h;
	return nl == 0 ? (char *)(uintptr_t)h : NULL;
}

size_t
kld_libc_strspn(const char *s, const char *acc)
{
	size_t n = 0;

	while (s[n] && kld_libc_strchr(acc, s[n]))
		n++;
	return n;
}

size_t
kld_libc_strcspn(const char *s, const char *rej)
{
	size_t n = 0;

	while (s[n] && !kld_libc_strchr(rej, s[n]))
		n++;
	return n;
}

char *
kld_libc_strpbrk(const char *s, const char *acc)
{
	s += kld_libc_strcspn(s, acc);
	return *s ? (char *)(uintptr_t)s : NULL;
}

char *
kld_libc_strdup(const char *s)
{
	size_t n = kld_libc_strlen(s) + 1;
	char *d = kld_libc_malloc(n);

	return d ? kld_libc_memcpy(d, s, n) : NULL;
}

char *
kld_libc_strtok_r(char *s, const char *sep, char **save)
{
	char *end;

	if (s == NULL)
		s = *save;
	s += kld_libc_strspn(s, sep);
	if (*s == '\0') {
		*save = s;
		return NULL;
	}
	end = s + kld_libc_strcspn(s, sep);
	if (*end != '\0')
		*end++ = '\0';
	*save = end;
	return s;
}

char *
kld_libc_strndup(const char *s, size_t max)
{
	size_t n = kld_libc_strnlen(s, max);
	char *d = kld_libc_malloc(n + 1);

	if (d == NULL)
		return NULL;
	kld_libc_memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

void *
kld_libc_memrchr(const void *s, int c, size_t n)
{
	const unsigned char *p = (const unsigned char *)s + n;

	while (n--)
		if (*--p == (unsigned char)c)
			return (void *)(uintptr_t)p;
	return NULL;
}

int
kld_libc_strncasecmp(const char *a, const char *b, size_t n)
{
	for (; n > 0; n--, a++, b++) {
		int ca = kld_libc_tolower((unsigned char)*a);
		int cb = kld_libc_tolower((unsigned char)*b);

		if (ca != cb || ca == 0)
			return ca - cb;
	}
	return 0;
}

int
kld_libc_strcasecmp(const char *a, const char *b)
{
	return kld_libc_strncasecmp(a, b, (size_t)-1);
}
