/*
 * resp.h - the request side of RESP2 (the Redis protocol) for examples/kv:
 * an incremental parser of multibulk requests ("*2\r\n$3\r\nGET\r\n...")
 * and inline ones ("GET k\r\n") over a connection's input buffer, and the
 * reply encoders.  No I/O and no allocation beyond the argument table, so
 * the fuzzer and the unit test drive it alone.
 */
#ifndef KRANK_EXAMPLES_KV_RESP_H
#define KRANK_EXAMPLES_KV_RESP_H

#include <stddef.h>
#include <stdint.h>

/* Limits a request must keep; beyond them it is a protocol error. */
struct resp_limits {
	size_t max_request;	/* bytes of one request, headers included */
	size_t max_bulk;	/* bytes of one argument */
	size_t max_args;	/* arguments of one request */
	size_t max_inline;	/* bytes of one inline line */
};

/* One argument: where it lies in the buffer given to resp_parse. */
struct resp_arg {
	size_t off, len;
};

/*
 * The parser's state between calls: a request is parsed as far as the
 * buffer goes and resumed when more bytes come, so a request arriving in
 * many pieces is read once.  Offsets, not pointers: the buffer may move.
 */
struct resp_parser {
	size_t pos;		/* next byte to read, from the request's start */
	long nargs;		/* multibulk: arguments announced; -1 none yet */
	long bulk;		/* length of the argument being read; -1 none */
	size_t argc;
	size_t argcap;
	struct resp_arg *argv;	/* malloc'd, grown as arguments arrive */
	const char *err;	/* after RESP_ERR: the reply text, no "-" */
};

enum resp_status {
	RESP_DONE,	/* a whole request: argc/argv; resp_next drops it */
	RESP_MORE,	/* incomplete: call again with more bytes */
	RESP_ERR,	/* malformed or over a limit: p->err; close after */
	RESP_NOMEM,	/* the argument table could not grow */
};

void resp_init(struct resp_parser *p);
void resp_free(struct resp_parser *p);

/*
 * Parse the request starting at buf[0] (len bytes buffered, the request's
 * start never moves between calls until resp_next).  On RESP_DONE the
 * request ends at p->pos and p->argc == 0 means an empty inline line
 * (nothing to do).  When a known-length argument is pending, *want (if
 * not NULL) is the byte count the buffer must hold to finish it, so the
 * caller can grow its buffer once.
 */
enum resp_status resp_parse(struct resp_parser *p, const char *buf,
    size_t len, const struct resp_limits *lim, size_t *want);

/* After RESP_DONE: forget the request (its p->pos bytes are consumed). */
void resp_next(struct resp_parser *p);

/*
 * A decimal int64 with nothing else (no spaces, no "+", no leading zeros
 * but "0", "-0" refused), as Redis's string2ll; 0 or -1.
 */
int resp_ll(const char *s, size_t len, int64_t *v);

/* Format v into buf (at least 21 bytes); its length. */
size_t resp_lltoa(char *buf, int64_t v);

#endif /* KRANK_EXAMPLES_KV_RESP_H */
