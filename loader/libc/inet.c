/*
 * IPv4 text conversion, numeric getaddrinfo and strerror for the isolate
 * libc: pure functions, no system calls.  Only AF_INET (KRANK's stack is IPv4); AF_INET6 gives
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

/*
 * getaddrinfo for numeric IPv4 addresses and ports only (and the name
 * "localhost"): there is no resolver and no services file.  One entry
 * per socket type (stream then datagram when hints leave it open); each
 * entry and its address share one allocation.
 */
struct kld_addrinfo {
	int ai_flags, ai_family, ai_socktype, ai_protocol;
	unsigned ai_addrlen;
	void *ai_addr;
	char *ai_canonname;
	struct kld_addrinfo *ai_next;
};
struct kld_sin {
	uint16_t sin_family;
	uint16_t sin_port;
	uint32_t sin_addr;
	unsigned char sin_zero[8];
};
#define KLD_AI_PASSIVE 0x01
#define KLD_EAI_NONAME (-2)
#define KLD_EAI_FAMILY (-6)
#define KLD_EAI_SOCKTYPE (-7)
#define KLD_EAI_SERVICE (-8)
#define KLD_EAI_MEMORY (-10)

void
kld_libc_freeaddrinfo(void *res)
{
	struct kld_addrinfo *ai = res;

	while (ai != NULL) {
		struct kld_addrinfo *next = ai->ai_next;

		kld_libc_free(ai);
		ai = next;
	}
}

int
kld_libc_getaddrinfo(const char *node, const char *service,
    const void *hintsp, void **res)
{
	const struct kld_addrinfo *hints = hintsp;
	int family = hints ? hints->ai_family : 0;
	int socktype = hints ? hints->ai_socktype : 0;
	int flags = hints ? hints->ai_flags : 0;
	uint32_t addr;
	unsigned long port = 0;

	if (family != AF_UNSPEC && family != AF_INET)
		return KLD_EAI_FAMILY;
	if (socktype != 0 && socktype != SOCK_STREAM && socktype != SOCK_DGRAM)
		return KLD_EAI_SOCKTYPE;
	if (node == NULL && service == NULL)
		return KLD_EAI_NONAME;
	if (node == NULL) {
		/* INADDR_ANY or INADDR_LOOPBACK, network order */
		addr = (flags & KLD_AI_PASSIVE) ? 0 : 0x0100007fu;
	} else if (kld_libc_strcmp(node, "localhost") == 0)
		addr = 0x0100007fu;
	else if (kld_libc_inet_pton(AF_INET, node, &addr) != 1)
		return KLD_EAI_NONAME;
	if (service != NULL) {
		char *end;

		port = kld_libc_strtoul(service, &end, 10);
		if (*service == '\0' || *end != '\0' || port > 65535)
			return KLD_EAI_SERVICE;
	}
	struct kld_addrinfo *head = NULL, **tail = &head;
	for (int t = SOCK_STREAM; t <= SOCK_DGRAM; t++) {
		if (socktype != 0 && t != socktype)
			continue;
		struct kld_addrinfo *ai = kld_libc_calloc(1, sizeof(*ai) +
		    sizeof(struct kld_sin));
		if (ai == NULL) {
			kld_libc_freeaddrinfo(head);
			return KLD_EAI_MEMORY;
		}
		struct kld_sin *sin = (struct kld_sin *)(ai + 1);
		sin->sin_family = AF_INET;
		sin->sin_port = (uint16_t)(((port & 0xff) << 8) | (port >> 8));
		sin->sin_addr = addr;
		ai->ai_flags = flags;
		ai->ai_family = AF_INET;
		ai->ai_socktype = t;
		ai->ai_protocol = t == SOCK_STREAM ? 6 : 17;
		ai->ai_addrlen = sizeof(*sin);
		ai->ai_addr = sin;
		*tail = ai;
		tail = &ai->ai_next;
	}
	*res = head;
	return 0;
}

const char *
kld_libc_gai_strerror(int e)
{
	switch (e) {
	case -1: return "Bad value for ai_flags";
	case -2: return "Name or service not known";
	case -3: return "Temporary failure in name resolution";
	case -4: return "Non-recoverable failure in name resolution";
	case -6: return "ai_family not supported";
	case -7: return "ai_socktype not supported";
	case -8: return "Servname not supported for ai_socktype";
	case -10: return "Memory allocation failure";
	case -11: return "System error";
	case 0: return "Success";
	default: return "Unknown error";
	}
}
