/*
 * IPv4 text conversion and strerror for the isolate libc: pure functions,
 * no system calls.  Only AF_INET (KRANK's stack is IPv4); AF_INET6 gives
 * EAFNOSUPPORT as glibc does for unknown families.
 */
#include <errno.h>
#include <stdint.h>
#include <sys/socket.h>

#include "kld_libc.h"

/* Dotted quad, exactly four decimal parts of 0..255 (inet_pton's rule). */
int
kld_libc_inet_pton(int af, const char *s, void *dst)
{
	unsigned char a[4];

	if (af != AF_INET) {
		*kld_libc_errno() = EAFNOSUPPORT;
		return -1;
	}
	for (int i = 0; i < 4; i++) {
		unsigned v = 0;
		int nd = 0;

		if (i > 0 && *s++ != '.')
			return 0;
		while (*s >= '0' && *s <= '9') {
			if (nd > 0 && v == 0)
				return 0;	/* no leading zeros */
			v = v * 10 + (unsigned)(*s++ - '0');
			if (++nd > 3 || v > 255)
				return 0;
		}
		if (nd == 0)
			return 0;
		a[i] = (unsigned char)v;
	}
	if (*s != '\0')
		return 0;
	kld_libc_memcpy(dst, a, 4);
	return 1;
}

const char *
kld_libc_inet_ntop(int af, const void *src, char *dst, unsigned len)
{
	const unsigned char *a = src;

	if (af != AF_INET) {
		*kld_libc_errno() = EAFNOSUPPORT;
		return NULL;
	}
	if (kld_libc_snprintf(dst, len, "%u.%u.%u.%u", a[0], a[1], a[2],
	    a[3]) >= (int)len) {
		*kld_libc_errno() = ENOSPC;
		return NULL;
	}
	return dst;
}

int
kld_libc_inet_aton(const char *s, void *dst)
{
	return kld_libc_inet_pton(AF_INET, s, dst) == 1;
}

uint32_t
kld_libc_inet_addr(const char *s)
{
	uint32_t a;

	return kld_libc_inet_pton(AF_INET, s, &a) == 1 ? a : 0xffffffffu;
}

/* glibc's texts, so programs print the same messages on both. */
static const char *const kld_errmsg[] = {
	[0] = "Success",
	[EPERM] = "Operation not permitted",
	[ENOENT] = "No such file or directory",
	[ESRCH] = "No such process",
	[EINTR] = "Interrupted system call",
	[EIO] = "Input/output error",
	[ENXIO] = "No such device or address",
	[E2BIG] = "Argument list too long",
	[EBADF] = "Bad file descriptor",
	[EAGAIN] = "Resource temporarily unavailable",
	[ENOMEM] = "Cannot allocate memory",
	[EACCES] = "Permission denied",
	[EFAULT] = "Bad address",
	[EBUSY] = "Device or resource busy",
	[EEXIST] = "File exists",
	[EXDEV] = "Invalid cross-device link",
	[ENODEV] = "No such device",
	[ENOTDIR] = "Not a directory",
	[EISDIR] = "Is a directory",
	[EINVAL] = "Invalid argument",
	[ENFILE] = "Too many open files in system",
	[EMFILE] = "Too many open files",
	[ENOTTY] = "Inappropriate ioctl for device",
	[EFBIG] = "File too large",
	[ENOSPC] = "No space left on device",
	[ESPIPE] = "Illegal seek",
	[EROFS] = "Read-only file system",
	[EMLINK] = "Too many links",
	[EPIPE] = "Broken pipe",
	[EDOM] = "Numerical argument out of domain",
	[ERANGE] = "Numerical result out of range",
	[ENAMETOOLONG] = "File name too long",
	[ENOSYS] = "Function not implemented",
	[ENOTEMPTY] = "Directory not empty",
	[ELOOP] = "Too many levels of symbolic links",
	[ENOTSOCK] = "Socket operation on non-socket",
	[EDESTADDRREQ] = "Destination address required",
	[EMSGSIZE] = "Message too long",
	[EPROTOTYPE] = "Protocol wrong type for socket",
	[ENOPROTOOPT] = "Protocol not available",
	[EPROTONOSUPPORT] = "Protocol not supported",
	[EOPNOTSUPP] = "Operation not supported",
	[EAFNOSUPPORT] = "Address family not supported by protocol",
	[EADDRINUSE] = "Address already in use",
	[EADDRNOTAVAIL] = "Cannot assign requested address",
	[ENETDOWN] = "Network is down",
	[ENETUNREACH] = "Network is unreachable",
	[ECONNABORTED] = "Software caused connection abort",
	[ECONNRESET] = "Connection reset by peer",
	[ENOBUFS] = "No buffer space available",
	[EISCONN] = "Transport endpoint is already connected",
	[ENOTCONN] = "Transport endpoint is not connected",
	[ETIMEDOUT] = "Connection timed out",
	[ECONNREFUSED] = "Connection refused",
	[EHOSTUNREACH] = "No route to host",
	[EALREADY] = "Operation already in progress",
	[EINPROGRESS] = "Operation now in progress",
};

char *
kld_libc_strerror(int e)
{
	static __thread char unknown[32];

	if (e >= 0 && (size_t)e < sizeof(kld_errmsg) / sizeof(kld_errmsg[0]) &&
	    kld_errmsg[e] != NULL)
		return (char *)(uintptr_t)kld_errmsg[e];
	kld_libc_snprintf(unknown, sizeof(unknown), "Unknown error %d", e);
	return unknown;
}
