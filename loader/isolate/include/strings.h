/* KRANK isolate libc: case-insensitive comparisons (C locale). */
#ifndef _KRANK_STRINGS_H
#define _KRANK_STRINGS_H
#include <stddef.h>
int strcasecmp(const char *, const char *);
int strncasecmp(const char *, const char *, size_t);
#endif
