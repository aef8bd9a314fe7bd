/*
 * ex_util.c - the helpers of the example isolate programs (ex_util.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ex_util.h"

int
ex_number(const char *s, long min, long max, long *v)
{
	long n = 0;
	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9' || n > (max - (*s - '0')) / 10)
			return -1;
		n = n * 10 + (*s - '0');
	}
	if (n < min)
		return -1;
	*v = n;
	return 0;
}

int
ex_duration_ms(const char *s, int64_t *ms)
{
	char num[24];
	size_t n = strspn(s, "0123456789");
	const char *unit = s + n;
	long v, scale;
	if (n == 0 || n >= sizeof(num))
		return -1;
	if (strcmp(unit, "") == 0 || strcmp(unit, "s") == 0)
		scale = 1000;
	else if (strcmp(unit, "ms") == 0)
		scale = 1;
	else if (strcmp(unit, "m") == 0)
		scale = 60000;
	else
		return -1;
	memcpy(num, s, n);
	num[n] = '\0';
	if (ex_number(num, 0, 86400000L / scale, &v) != 0)
		return -1;
	*ms = (int64_t)v * scale;
	return 0;
}

int64_t
ex_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
ex_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

int
ex_listen(int type, int port, int *bound)
{
	int fd = socket(AF_INET, type, 0), one = 1;
	if (fd < 0)
		return -1;
	struct sockaddr_in a;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;		/* INADDR_ANY: all zero */
	unsigned char *p = (unsigned char *)&a.sin_port;	/* big endian */
	p[0] = (unsigned char)(port >> 8);
	p[1] = (unsigned char)port;
	socklen_t alen = sizeof(a);
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    (type == SOCK_STREAM && listen(fd, 128) != 0) ||
	    ex_nonblock(fd) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &alen) != 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	*bound = p[0] << 8 | p[1];
	return fd;
}

const char *
ex_errstr(int e)
{
	static const struct { int e; const char *s; } names[] = {
		{ ENOENT, "no such file or directory" },
		{ EACCES, "permission denied" },
		{ EAGAIN, "resource temporarily unavailable" },
		{ EINTR, "interrupted" },
		{ EMFILE, "too many open files" },
		{ ENFILE, "too many open files in system" },
		{ ENOMEM, "out of memory" },
		{ EINVAL, "invalid argument" },
#ifdef EADDRINUSE
		{ EADDRINUSE, "address already in use" },
#endif
#ifdef ECONNRESET
		{ ECONNRESET, "connection reset by peer" },
#endif
#ifdef EPIPE
		{ EPIPE, "broken pipe" },
#endif
	};
	static char other[32];
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].e == e)
			return names[i].s;
	/* Not thread-safe; the examples are single-threaded. */
	snprintf(other, sizeof(other), "errno %d", e);
	return other;
}
