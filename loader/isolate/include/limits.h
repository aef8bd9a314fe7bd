/* KRANK isolate libc: gcc's limits plus the POSIX ones. */
#ifndef _KRANK_LIMITS_H
#define _KRANK_LIMITS_H
#include_next <limits.h>
#define PATH_MAX 4096
#define NAME_MAX 255
#define IOV_MAX 1024
#define PIPE_BUF 4096
#define SSIZE_MAX LONG_MAX
#endif
