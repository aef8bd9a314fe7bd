/*
 * krk_ctl_int.h - between krk_ctl.c and its tests: the growing output
 * buffer with JSON and Prometheus escaping, the control counters, and the
 * request server for one connected descriptor.
 */
#ifndef KRK_CTL_INT_H
#define KRK_CTL_INT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "krk_ctl_proto.h"

/* Counters of the control socket (atomic). */
struct krk_ctl_counters {
	uint64_t requests;		/* whole requests read */
	uint64_t malformed;		/* refused: bad framing, size, timeout */
	uint64_t refused;		/* refused peers (SO_PEERCRED) */
	uint64_t busy;			/* turned away: all slots taken */
	uint64_t send_timeouts;		/* clients that stopped reading */
	uint64_t cap_drops;		/* capture frames the rings dropped */
};
extern struct krk_ctl_counters krk_ctl_stats;

/* krk_ctl_serve - read one request from fd and answer it (fd stays open). */
void krk_ctl_serve(int fd);
/* krk_ctl_serve_only - the same, serving only the commands named in only
 * (NULL-terminated): the attach socket's attach and chanpool. */
void krk_ctl_serve_only(int fd, const char *const *only);
/* krk_ctl_parse_duration - "250ms", "2s", "1.5", "1m", "10us", "5ns". */
int krk_ctl_parse_duration(const char *s, uint64_t *nsp);

#include <time.h>

/* A growing text buffer; oom is sticky and the text is then incomplete. */
struct sbuf {
	char *b;
	size_t len, cap;
	bool oom;
};
#define SBUF_INIT { NULL, 0, 0, false }

static inline bool
sb_reserve(struct sbuf *s, size_t more)
{
	if (s->oom)
		return false;
	if (s->len + more + 1 <= s->cap)
		return true;
	size_t cap = s->cap ? s->cap : 4096;
	while (cap < s->len + more + 1)
		cap *= 2;
	char *b = realloc(s->b, cap);
	if (b == NULL) {
		s->oom = true;
		return false;
	}
	s->b = b;
	s->cap = cap;
	return true;
}

static inline void
sb_append(struct sbuf *s, const char *p, size_t n)
{
	if (!sb_reserve(s, n))
		return;
	memcpy(s->b + s->len, p, n);
	s->len += n;
	s->b[s->len] = '\0';
}

static inline void
sb_putc(struct sbuf *s, char c)
{
	sb_append(s, &c, 1);
}

static inline void __attribute__((format(printf, 2, 3)))
sb_printf(struct sbuf *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !sb_reserve(s, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(s->b + s->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	s->len += (size_t)n;
}

/* A JSON string literal (RFC 8259 section 7): quotes, backslash and
 * control characters escaped; bytes >= 0x80 pass unchanged (UTF-8). */
static inline void
sb_json_str(struct sbuf *s, const char *p)
{
	sb_putc(s, '"');
	for (; *p; p++) {
		unsigned char c = (unsigned char)*p;
		switch (c) {
		case '"': sb_append(s, "\\\"", 2); break;
		case '\\': sb_append(s, "\\\\", 2); break;
		case '\n': sb_append(s, "\\n", 2); break;
		case '\r': sb_append(s, "\\r", 2); break;
		case '\t': sb_append(s, "\\t", 2); break;
		default:
			if (c < 0x20 || c == 0x7f)
				sb_printf(s, "\\u%04x", c);
			else
				sb_putc(s, (char)c);
		}
	}
	sb_putc(s, '"');
}

/* A Prometheus label value in quotes: backslash, quote and newline are
 * the text format's escapes. */
static inline void
sb_prom_label(struct sbuf *s, const char *p)
{
	sb_putc(s, '"');
	for (; *p; p++) {
		if (*p == '\\')
			sb_append(s, "\\\\", 2);
		else if (*p == '"')
			sb_append(s, "\\\"", 2);
		else if (*p == '\n')
			sb_append(s, "\\n", 2);
		else
			sb_putc(s, *p);
	}
	sb_putc(s, '"');
}

static inline void
sb_free(struct sbuf *s)
{
	free(s->b);
	s->b = NULL;
	s->len = s->cap = 0;
}

/* One request being served (krk_ctl.c) and its command's output. */
struct krk_ctl_req {
	int fd;
	int argc;			/* without the command and --json */
	const char *argv[KRK_CTL_MAX_ARGS];
	bool json;
	struct sbuf *out;
	char *err;
	size_t errlen;
	bool streamed;			/* the command wrote its own reply */
};

#define CTL_ERR(r, code, ...) (snprintf((r)->err, (r)->errlen, __VA_ARGS__), (code))

int krk_ctl_cmd_ps(struct krk_ctl_req *r);
int krk_ctl_cmd_top(struct krk_ctl_req *r);
int krk_ctl_cmd_spawn(struct krk_ctl_req *r);
int krk_ctl_cmd_kill(struct krk_ctl_req *r);
int krk_ctl_cmd_wait(struct krk_ctl_req *r);
int krk_ctl_cmd_restart(struct krk_ctl_req *r);
int krk_ctl_cmd_ifconfig(struct krk_ctl_req *r);
int krk_ctl_cmd_netstat(struct krk_ctl_req *r);
int krk_ctl_cmd_mounts(struct krk_ctl_req *r);
int krk_ctl_cmd_df(struct krk_ctl_req *r);
int krk_ctl_cmd_log(struct krk_ctl_req *r);
int krk_ctl_cmd_metrics(struct krk_ctl_req *r);
int krk_ctl_cmd_version(struct krk_ctl_req *r);
int krk_ctl_cmd_capture(struct krk_ctl_req *r);		/* krk_ctl_capture.c */
int krk_ctl_cmd_chanpool(struct krk_ctl_req *r);
int krk_ctl_cmd_attach(struct krk_ctl_req *r);		/* krk_ctl_attach.c */

/* Helpers of krk_ctl.c for the commands. */
bool krk_ctl_stopping(void);		/* krk_ctl_stop has begun */
bool krk_ctl_send_all(int fd, const void *buf, size_t len);

/*
 * krk_ctl_listen - a listening unix socket at path for what ("control
 * socket", "attach socket"): the parent directory made if missing, a
 * stale socket left by a dead KRANK replaced, a live one or a file that
 * is not a socket refused; bound with mode (and group gid, unless
 * (gid_t)-1) set before listen, so nobody connects before.  0 and *lfdp,
 * or an errno value with one line in err naming path and reason.
 */
int krk_ctl_listen(const char *what, const char *path, mode_t mode, gid_t gid,
    int *lfdp, char *err, size_t errlen);
/*
 * krk_ctl_accept_loop - accept on lfd until stopping() or wakefd becomes
 * readable, handing each connection (close-on-exec) to admit; backs off
 * 50 ms when out of descriptors rather than spin.  For the acceptor
 * threads of the control and attach sockets.
 */
void krk_ctl_accept_loop(int lfd, int wakefd, bool (*stopping)(void),
    void (*admit)(int fd), const char *what);
/*
 * krk_ctl_thread - a thread of the control and attach sockets' service:
 * fn(arg) on a stack of stack bytes (they serve one connection or accept,
 * so a small stack, not the 8 MiB default), detached or joinable (*thp
 * then names it).  0 or pthread_create's errno value.
 */
int krk_ctl_thread(pthread_t *thp, size_t stack, bool detached,
    void *(*fn)(void *), void *arg);
int krk_ctl_parse_uint(const char *s, unsigned long max, unsigned long *vp);

static inline uint64_t
krk_ctl_now_ns(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#endif
