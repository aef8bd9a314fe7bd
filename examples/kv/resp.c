/*
 * resp.c - RESP2 request parsing for examples/kv (see resp.h).  The input
 * is untrusted: every length is checked against the limits before it is
 * used, and no request may make the parser read past len or allocate more
 * than its argument count allows (which max_request bounds: an argument
 * takes at least 6 bytes).
 */
#include <stdlib.h>
#include <string.h>

#include "resp.h"

/* "*N\r\n" and "$N\r\n" lines: a sign, 19 digits, CR LF and the type. */
#define RESP_HDR_MAX	32

void
resp_init(struct resp_parser *p)
{
	memset(p, 0, sizeof(*p));
	p->nargs = -1;
	p->bulk = -1;
}

void
resp_free(struct resp_parser *p)
{
	free(p->argv);
	resp_init(p);
}

void
resp_next(struct resp_parser *p)
{
	p->pos = 0;
	p->nargs = -1;
	p->bulk = -1;
	p->argc = 0;
	p->err = NULL;
}

int
resp_ll(const char *s, size_t len, int64_t *v)
{
	size_t i = 0;
	int neg = 0;
	uint64_t u = 0, lim;
	if (len == 0 || len > 20)
		return -1;
	if (s[0] == '-') {
		neg = 1;
		i = 1;
		if (len == 1)
			return -1;
	}
	if (s[i] == '0' && len > i + 1)
		return -1;	/* leading zeros: not the canonical form */
	if (neg && s[i] == '0')
		return -1;	/* "-0" */
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		unsigned d = (unsigned)(s[i] - '0');
		if (u > (lim - d) / 10)
			return -1;
		u = u * 10 + d;
	}
	*v = neg ? (int64_t)(0 - u) : (int64_t)u;
	return 0;
}

size_t
resp_lltoa(char *buf, int64_t v)
{
	char tmp[21];
	size_t n = 0, i;
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	i = 0;
	if (v < 0)
		buf[i++] = '-';
	while (n > 0)
		buf[i++] = tmp[--n];
	return i;
}

static int
resp_push(struct resp_parser *p, size_t off, size_t len, size_t hint)
{
	if (p->argc == p->argcap) {
		size_t cap = p->argcap < 8 ? 8 : p->argcap * 2;
		if (hint > p->argcap && cap > hint)
			cap = hint;	/* the announced count, no more */
		struct resp_arg *a = realloc(p->argv, cap * sizeof(*a));
		if (a == NULL)
			return -1;
		p->argv = a;
		p->argcap = cap;
	}
	p->argv[p->argc].off = off;
	p->argv[p->argc].len = len;
	p->argc++;
	return 0;
}

static enum resp_status
resp_fail(struct resp_parser *p, const char *err)
{
	p->err = err;
	return RESP_ERR;
}

/* An inline request: one line, arguments split on spaces and tabs. */
static enum resp_status
resp_inline(struct resp_parser *p, const char *buf, size_t len,
    const struct resp_limits *lim)
{
	size_t scan = len < lim->max_inline ? len : lim->max_inline;
	const char *nl = memchr(buf, '\n', scan);
	if (nl == NULL) {
		if (len >= lim->max_inline)
			return resp_fail(p, "ERR Protocol error: too big "
			    "inline request");
		return RESP_MORE;
	}
	size_t end = (size_t)(nl - buf), i = 0;
	p->pos = end + 1;
	if (end > 0 && buf[end - 1] == '\r')
		end--;
	while (i < end) {
		while (i < end && (buf[i] == ' ' || buf[i] == '\t'))
			i++;
		if (i == end)
			break;
		size_t s = i;
		while (i < end && buf[i] != ' ' && buf[i] != '\t')
			i++;
		if (p->argc >= lim->max_args)
			return resp_fail(p, "ERR Protocol error: too many "
			    "arguments");
		if (resp_push(p, s, i - s, 0) != 0)
			return RESP_NOMEM;
	}
	return RESP_DONE;
}

/*
 * A "<type>N\r\n" line at p->pos: its number in *v and the position after
 * it in *next.  RESP_MORE when the line is not complete yet.
 */
static enum resp_status
resp_header(struct resp_parser *p, const char *buf, size_t len, int64_t *v,
    size_t *next, const char *err)
{
	size_t avail = len - p->pos;
	size_t scan = avail < RESP_HDR_MAX ? avail : RESP_HDR_MAX;
	const char *nl = memchr(buf + p->pos, '\n', scan);
	if (nl == NULL)
		return avail >= RESP_HDR_MAX ? resp_fail(p, err) : RESP_MORE;
	size_t end = (size_t)(nl - buf);
	/* Type byte, at least one digit, CR before the LF. */
	if (end < p->pos + 3 || buf[end - 1] != '\r' ||
	    resp_ll(buf + p->pos + 1, end - 1 - (p->pos + 1), v) != 0)
		return resp_fail(p, err);
	*next = end + 1;
	return RESP_DONE;
}

enum resp_status
resp_parse(struct resp_parser *p, const char *buf, size_t len,
    const struct resp_limits *lim, size_t *want)
{
	enum resp_status st;
	int64_t v;
	size_t next;

	if (want != NULL)
		*want = 0;
	if (p->nargs < 0) {
		if (len == 0)
			return RESP_MORE;
		if (buf[0] != '*')
			return resp_inline(p, buf, len, lim);
		st = resp_header(p, buf, len, &v, &next,
		    "ERR Protocol error: invalid multibulk length");
		if (st != RESP_DONE)
			return st;
		if (v > (int64_t)lim->max_args)
			return resp_fail(p, "ERR Protocol error: invalid "
			    "multibulk length");
		p->pos = next;
		if (v <= 0)
			return RESP_DONE;	/* "*0" and "*-1": nothing */
		p->nargs = (long)v;
	}
	while (p->argc < (size_t)p->nargs) {
		if (p->bulk < 0) {
			if (p->pos >= len)
				return RESP_MORE;
			if (buf[p->pos] != '$')
				return resp_fail(p, "ERR Protocol error: "
				    "expected '$'");
			st = resp_header(p, buf, len, &v, &next,
			    "ERR Protocol error: invalid bulk length");
			if (st != RESP_DONE)
				return st;
			if (v < 0 || (uint64_t)v > lim->max_bulk)
				return resp_fail(p, "ERR Protocol error: "
				    "invalid bulk length");
			p->pos = next;
			p->bulk = (long)v;
		}
		size_t end = p->pos + (size_t)p->bulk + 2;
		if (end > lim->max_request)
			return resp_fail(p, "ERR Protocol error: request "
			    "too large");
		if (end > len) {
			if (want != NULL)
				*want = end;
			return RESP_MORE;
		}
		if (buf[end - 2] != '\r' || buf[end - 1] != '\n')
			return resp_fail(p, "ERR Protocol error: bulk "
			    "without CRLF");
		if (resp_push(p, p->pos, (size_t)p->bulk,
		    (size_t)p->nargs) != 0)
			return RESP_NOMEM;
		p->pos = end;
		p->bulk = -1;
	}
	return RESP_DONE;
}
