/*
 * The three standard streams for the isolate libc, without buffering:
 * stdin, stdout and stderr are the values 1, 2, 3 (not pointers to
 * anything) and every call is one write through the host hook, so
 * fprintf(stderr, ...) works and lines from threads do not interleave.
 * No other FILE exists (fopen is not provided).
 */
#include <errno.h>
#include <stdint.h>

#include "kld_libc.h"

/* The descriptor of a standard stream, or -1 (EBADF). */
static int
stream_fd(const void *f)
{
	uintptr_t v = (uintptr_t)f;

	if (v >= 1 && v <= 3)
		return (int)v - 1;
	*kld_libc_errno() = EBADF;
	return -1;
}

int
kld_libc_vfprintf(void *f, const char *fmt, va_list ap)
{
	int fd = stream_fd(f);

	return fd < 0 ? -1 : kld_libc_vdprintf(fd, fmt, ap);
}

int
kld_libc_fprintf(void *f, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = kld_libc_vfprintf(f, fmt, ap);
	va_end(ap);
	return n;
}

size_t
kld_libc_fwrite(const void *p, size_t size, size_t n, void *f)
{
	int fd = stream_fd(f);
	size_t len = size * n;

	if (fd < 0 || (size != 0 && len / size != n))
		return 0;
	if (len == 0)
		return n;
	long w = kld_libc_write(fd, p, len);
	return w <= 0 ? 0 : (size_t)w / size;
}

int
kld_libc_fputs(const char *s, void *f)
{
	size_t n = kld_libc_strlen(s);

	return kld_libc_fwrite(s, 1, n, f) == n ? (int)n : -1;
}

int
kld_libc_fputc(int c, void *f)
{
	unsigned char ch = (unsigned char)c;

	return kld_libc_fwrite(&ch, 1, 1, f) == 1 ? ch : -1;
}

int
kld_libc_fflush(void *f)
{
	return f == NULL || stream_fd(f) >= 0 ? 0 : -1;
}

int
kld_libc_fileno(void *f)
{
	return stream_fd(f);
}

void
kld_libc_perror(const char *s)
{
	const char *m = kld_libc_strerror(*kld_libc_errno());

	if (s != NULL && *s != '\0')
		kld_libc_dprintf(2, "%s: %s\n", s, m);
	else
		kld_libc_dprintf(2, "%s\n", m);
}
