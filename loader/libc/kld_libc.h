/*
 * The isolate libc as the host sees it: every function carries the
 * kld_libc_ prefix here, so it never interposes the host's own libc, and
 * kld_libc_exports.c binds the standard names to them.
 */
#ifndef KLD_LIBC_H
#define KLD_LIBC_H

#include <stdarg.h>
#include <stddef.h>

#include "krank/kld.h"

#define KLD_HIDDEN __attribute__((visibility("hidden")))

extern struct kld_libc_host kld_libc_host KLD_HIDDEN;

int *kld_libc_errno(void) KLD_HIDDEN;

void *kld_libc_memcpy(void *, const void *, size_t) KLD_HIDDEN;
void *kld_libc_memmove(void *, const void *, size_t) KLD_HIDDEN;
void *kld_libc_memset(void *, int, size_t) KLD_HIDDEN;
int kld_libc_memcmp(const void *, const void *, size_t) KLD_HIDDEN;
void *kld_libc_memchr(const void *, int, size_t) KLD_HIDDEN;
size_t kld_libc_strlen(const char *) KLD_HIDDEN;
size_t kld_libc_strnlen(const char *, size_t) KLD_HIDDEN;
int kld_libc_strcmp(const char *, const char *) KLD_HIDDEN;
int kld_libc_strncmp(const char *, const char *, size_t) KLD_HIDDEN;
char *kld_libc_strcpy(char *, const char *) KLD_HIDDEN;
char *kld_libc_strncpy(char *, const char *, size_t) KLD_HIDDEN;
char *kld_libc_strcat(char *, const char *) KLD_HIDDEN;
char *kld_libc_strncat(char *, const char *, size_t) KLD_HIDDEN;
char *kld_libc_strchr(const char *, int) KLD_HIDDEN;
char *kld_libc_strrchr(const char *, int) KLD_HIDDEN;
char *kld_libc_strstr(const char *, const char *) KLD_HIDDEN;
size_t kld_libc_strspn(const char *, const char *) KLD_HIDDEN;
size_t kld_libc_strcspn(const char *, const char *) KLD_HIDDEN;
char *kld_libc_strpbrk(const char *, const char *) KLD_HIDDEN;
char *kld_libc_strdup(const char *) KLD_HIDDEN;
char *kld_libc_strtok_r(char *, const char *, char **) KLD_HIDDEN;

int kld_libc_isalnum(int) KLD_HIDDEN;
int kld_libc_isalpha(int) KLD_HIDDEN;
int kld_libc_isdigit(int) KLD_HIDDEN;
int kld_libc_isxdigit(int) KLD_HIDDEN;
int kld_libc_islower(int) KLD_HIDDEN;
int kld_libc_isupper(int) KLD_HIDDEN;
int kld_libc_isspace(int) KLD_HIDDEN;
int kld_libc_isprint(int) KLD_HIDDEN;
int kld_libc_ispunct(int) KLD_HIDDEN;
int kld_libc_iscntrl(int) KLD_HIDDEN;
int kld_libc_isgraph(int) KLD_HIDDEN;
int kld_libc_tolower(int) KLD_HIDDEN;
int kld_libc_toupper(int) KLD_HIDDEN;

long kld_libc_strtol(const char *, char **, int) KLD_HIDDEN;
unsigned long kld_libc_strtoul(const char *, char **, int) KLD_HIDDEN;
long long kld_libc_strtoll(const char *, char **, int) KLD_HIDDEN;
unsigned long long kld_libc_strtoull(const char *, char **, int) KLD_HIDDEN;
int kld_libc_atoi(const char *) KLD_HIDDEN;
long kld_libc_atol(const char *) KLD_HIDDEN;
int kld_libc_abs(int) KLD_HIDDEN;
long kld_libc_labs(long) KLD_HIDDEN;
void kld_libc_qsort(void *, size_t, size_t,
    int (*)(const void *, const void *)) KLD_HIDDEN;
void *kld_libc_bsearch(const void *, const void *, size_t, size_t,
    int (*)(const void *, const void *)) KLD_HIDDEN;
void *kld_libc_malloc(size_t) KLD_HIDDEN;
void *kld_libc_calloc(size_t, size_t) KLD_HIDDEN;
void *kld_libc_realloc(void *, size_t) KLD_HIDDEN;
void kld_libc_free(void *) KLD_HIDDEN;
void kld_libc_exit(int) KLD_HIDDEN __attribute__((noreturn));
void kld_libc_abort(void) KLD_HIDDEN __attribute__((noreturn));

int kld_libc_vsnprintf(char *, size_t, const char *, va_list) KLD_HIDDEN;
int kld_libc_snprintf(char *, size_t, const char *, ...) KLD_HIDDEN;
int kld_libc_sprintf(char *, const char *, ...) KLD_HIDDEN;
int kld_libc_vsprintf(char *, const char *, va_list) KLD_HIDDEN;
int kld_libc_vprintf(const char *, va_list) KLD_HIDDEN;
int kld_libc_printf(const char *, ...) KLD_HIDDEN;
int kld_libc_vdprintf(int, const char *, va_list) KLD_HIDDEN;
int kld_libc_dprintf(int, const char *, ...) KLD_HIDDEN;
int kld_libc_puts(const char *) KLD_HIDDEN;
int kld_libc_putchar(int) KLD_HIDDEN;
long kld_libc_write(int, const void *, size_t) KLD_HIDDEN;

char *kld_libc_strndup(const char *, size_t) KLD_HIDDEN;
void *kld_libc_memrchr(const void *, int, size_t) KLD_HIDDEN;
int kld_libc_strcasecmp(const char *, const char *) KLD_HIDDEN;
int kld_libc_strncasecmp(const char *, const char *, size_t) KLD_HIDDEN;
char *kld_libc_strerror(int) KLD_HIDDEN;
int kld_libc_inet_pton(int, const char *, void *) KLD_HIDDEN;
const char *kld_libc_inet_ntop(int, const void *, char *, unsigned)
    KLD_HIDDEN;
int kld_libc_inet_aton(const char *, void *) KLD_HIDDEN;
unsigned kld_libc_inet_addr(const char *) KLD_HIDDEN;

#endif
