/*
 * krk_log.c - KRANK's log: each line goes to stderr (when its level is
 * within the verbosity) and into a fixed-size ring that `krankctl log`
 * reads.  The ring keeps the newest whole lines; a reader copies it out
 * under the lock and sends from its copy, so a slow client never holds
 * up a thread that logs.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "krk.h"

#define LOG_LINE_MAX	1024

/* log_lock protects the ring: buf[0..cap), head (next write offset),
 * used (valid bytes, ending at head), and wrapped (the oldest line may
 * have been cut). */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char *log_buf;
static size_t log_cap, log_head, log_used;
static int log_verbosity = KRK_LOG_INFO;

static const char *const level_names[] = { "error", "warn", "info", "debug" };

int
krk_log_init(size_t ringbytes, int verbosity)
{
	if (ringbytes < LOG_LINE_MAX)
		ringbytes = LOG_LINE_MAX;
	char *b = malloc(ringbytes);
	if (b == NULL)
		return ENOMEM;
	pthread_mutex_lock(&log_lock);
	free(log_buf);
	log_buf = b;
	log_cap = ringbytes;
	log_head = log_used = 0;
	log_verbosity = verbosity;
	pthread_mutex_unlock(&log_lock);
	return 0;
}

/* Append n bytes to the ring; the oldest bytes give way. log_lock held. */
static void
ring_put(const char *s, size_t n)
{
	if (n > log_cap) {
		s += n - log_cap;
		n = log_cap;
	}
	size_t first = log_cap - log_head < n ? log_cap - log_head : n;
	memcpy(log_buf + log_head, s, first);
	memcpy(log_buf, s + first, n - first);
	log_head = (log_head + n) % log_cap;
	log_used = log_used + n > log_cap ? log_cap : log_used + n;
}

void
krk_log(enum krk_loglevel lvl, const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	struct timespec ts;
	struct tm tm;
	va_list ap;

	if ((int)lvl < 0 || lvl > KRK_LOG_DEBUG)
		lvl = KRK_LOG_ERR;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	int h = snprintf(line, sizeof(line),
	    "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s ", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    ts.tv_nsec / 1000000, level_names[lvl]);
	va_start(ap, fmt);
	int n = vsnprintf(line + h, sizeof(line) - (size_t)h - 1, fmt, ap);
	va_end(ap);
	size_t len = (size_t)h + (n < 0 ? 0 :
	    (size_t)n >= sizeof(line) - (size_t)h - 1 ?
	    sizeof(line) - (size_t)h - 2 : (size_t)n);
	/* One line each: a message's own newlines would break the ring's
	 * line structure. */
	for (size_t i = (size_t)h; i < len; i++)
		if (line[i] == '\n' || line[i] == '\r')
			line[i] = ' ';
	line[len++] = '\n';

	pthread_mutex_lock(&log_lock);
	int verbosity = log_verbosity;
	if (log_buf != NULL)
		ring_put(line, len);
	pthread_mutex_unlock(&log_lock);

	if ((int)lvl <= verbosity) {
		/* "krank: message": the timestamp is for the ring. */
		char out[LOG_LINE_MAX + 8];
		int m = snprintf(out, sizeof(out), "krank: %.*s", (int)(len - (size_t)h),
		    line + h);
		if (m > 0 && write(STDERR_FILENO, out, (size_t)m) < 0) {
			/* nowhere left to report it */
		}
	}
}

char *
krk_log_read(size_t *lenp)
{
	pthread_mutex_lock(&log_lock);
	size_t used = log_used, start = (log_head + log_cap - log_used) %
	    (log_cap ? log_cap : 1);
	char *out = malloc(used + 1);
	if (out == NULL) {
		pthread_mutex_unlock(&log_lock);
		return NULL;
	}
	size_t first = log_cap - start < used ? log_cap - start : used;
	if (used > 0) {
		memcpy(out, log_buf + start, first);
		memcpy(out + first, log_buf, used - first);
	}
	bool cut = used == log_cap;
	pthread_mutex_unlock(&log_lock);

	size_t skip = 0;
	if (cut) {		/* the oldest line lost its beginning */
		char *nl = memchr(out, '\n', used);
		skip = nl ? (size_t)(nl - out) + 1 : used;
		memmove(out, out + skip, used - skip);
	}
	out[used - skip] = '\0';
	if (lenp != NULL)
		*lenp = used - skip;
	return out;
}
