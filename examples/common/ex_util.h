/*
 * ex_util.h - what the example isolate programs (examples/echo,
 * examples/httpd) share: option values, a monotonic clock, a listening
 * socket, error names.  Plain POSIX, so the programs build with the
 * host's gcc and with krank-cc alike.
 */
#ifndef KRANK_EXAMPLES_EX_UTIL_H
#define KRANK_EXAMPLES_EX_UTIL_H

#include <stdint.h>

/* A duration "N", "Ns", "Nms" or "Nm" (N decimal, no sign) in ms, at most
 * one day; 0 or -1 (not a duration). */
int ex_duration_ms(const char *s, int64_t *ms);

/* A decimal number in [min, max]; 0 or -1. */
int ex_number(const char *s, long min, long max, long *v);

/* Milliseconds on the monotonic clock. */
int64_t ex_now_ms(void);

/* Set O_NONBLOCK on fd; 0 or -1 with errno. */
int ex_nonblock(int fd);

/*
 * A non-blocking socket of type (SOCK_STREAM: listening, backlog 128;
 * SOCK_DGRAM: bound) on IPv4 port (0: any free one) of every address,
 * with SO_REUSEADDR.  The descriptor, with the bound port in *bound, or
 * -1 with errno.
 */
int ex_listen(int type, int port, int *bound);

/* A short name for an errno value, for messages (the isolate libc has no
 * strerror). */
const char *ex_errstr(int e);

#endif /* KRANK_EXAMPLES_EX_UTIL_H */
