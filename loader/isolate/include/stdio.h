/* KRANK isolate libc: formatting and console output (no FILE streams). */
#ifndef _KRANK_STDIO_H
#define _KRANK_STDIO_H
#include <stdarg.h>
#include <stddef.h>
#define EOF (-1)
int vsnprintf(char *, size_t, const char *, va_list);
int snprintf(char *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));
int vsprintf(char *, const char *, va_list);
int sprintf(char *, const char *, ...) __attribute__((format(printf, 2, 3)));
int vprintf(const char *, va_list);
int printf(const char *, ...) __attribute__((format(printf, 1, 2)));
int vdprintf(int, const char *, va_list);
int dprintf(int, const char *, ...) __attribute__((format(printf, 2, 3)));
int puts(const char *);
int putchar(int);
int rename(const char *, const char *);
#endif
