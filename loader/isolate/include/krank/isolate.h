/* KRANK API for isolates (what krank-ld binds besides the libc). */
#ifndef _KRANK_ISOLATE_H
#define _KRANK_ISOLATE_H
#include <stddef.h>
/* Write len bytes to descriptor fd of the isolate; bytes written or -1. */
long krank_write(int fd, const void *buf, size_t len);
#endif
