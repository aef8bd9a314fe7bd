/*
 * kern_log.c - the kernel log (a ring of formatted lines) and panic.
 * Formatting is vsnprintf into a stack buffer; output reaches the host only
 * through rumpuser_putchar/dprintf.
 */
#include <stdio.h>
#include <string.h>

#include "kern/kern_int.h"

#define KLOG_RING 16384

static kspin_t klog_lock;		/* protects klog_buf, klog_head, klog_len */
static char klog_buf[KLOG_RING];
static size_t klog_head;		/* next write position */
static size_t klog_len;			/* valid bytes, <= KLOG_RING */
static int klog_console_level = LOG_NOTICE;	/* atomic */

void
kern_log_init(void)
{
}

void
klog_console(int lvl)
{
	__atomic_store_n(&klog_console_level, lvl, __ATOMIC_RELAXED);
}

static void
klog_append(const char *s, size_t n)
{
	kspin_enter(&klog_lock);
	for (size_t i = 0; i < n; i++) {
		klog_buf[klog_head] = s[i];
		klog_head = (klog_head + 1) % KLOG_RING;
	}
	klog_len = klog_len + n > KLOG_RING ? KLOG_RING : klog_len + n;
	kspin_exit(&klog_lock);
}

void
vklog(int level, const char *fmt, va_list ap)
{
	char line[512];
	int n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	if (n == 0 || line[n - 1] != '\n')
		line[n++] = '\n';
	line[n] = '\0';
	klog_append(line, (size_t)n);
	if (level <= __atomic_load_n(&klog_console_level, __ATOMIC_RELAXED))
		rumpuser_dprintf("krank: %s", line);
}

void
klog(int level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vklog(level, fmt, ap);
	va_end(ap);
}

size_t
klog_read(char *buf, size_t len)
{
	size_t n, start;

	if (len == 0)
		return 0;
	kspin_enter(&klog_lock);
	n = klog_len < len - 1 ? klog_len : len - 1;
	start = (klog_head + KLOG_RING - n) % KLOG_RING;
	for (size_t i = 0; i < n; i++)
		buf[i] = klog_buf[(start + i) % KLOG_RING];
	kspin_exit(&klog_lock);
	buf[n] = '\0';
	return n;
}

void
panic(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	rumpuser_dprintf("krank: panic: %s\n", line);
	rumpuser_exit(RUMPUSER_PANIC);
}

size_t
strlcpy_k(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);
	if (size > 0) {
		size_t c = n < size - 1 ? n : size - 1;
		memcpy(dst, src, c);
		dst[c] = '\0';
	}
	return n;
}
