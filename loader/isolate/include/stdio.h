/* KRANK isolate libc: formatting and console output (no FILE streams). */
#ifndef _KRANK_STDIO_H
#define _KRANK_STDIO_H
#include <stdarg.h>
#include <stddef.h>
#define EOF (-1)
/* The three standard streams only, unbuffered (each call is one write);
 * their values are not pointers to anything, and there is no fopen. */
typedef struct __krank_FILE FILE;
#define stdin ((FILE *)1)
#define stdout ((FILE *)2)
#define stderr ((FILE *)3)
int fprintf(FILE *, const char *, ...) __attribute__((format(printf, 2, 3)));
int vfprintf(FILE *, const char *, va_list);
size_t fwrite(const void *, size_t, size_t, FILE *);
int fputs(const char *, FILE *);
int fputc(int, FILE *);
int putc(int, FILE *);
int fflush(FILE *);
int fileno(FILE *);
void perror(const char *);
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
