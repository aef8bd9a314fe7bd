/*
 * http.c - the static-file HTTP/1.1 server of examples/httpd (see http.h):
 * request parsing, path mapping, and one poll loop over non-blocking
 * connections, each a small state machine:
 *
 *   READ   receiving a header block; closed at the header deadline
 *   IDLE   kept alive between requests; closed at the idle deadline, or
 *          earlier when a new connection needs its slot
 *   SEND   an answer in out[], then the file's bytes read with pread one
 *          chunk at a time as the socket takes them (or handed to the
 *          socket by sendfile, where the I/O table has it); closed when
 *          the client takes nothing for the idle timeout
 *   LINGER after an answer that closes: write side shut, input drained
 *          for a moment so the client reads the answer instead of a reset
 *
 * Memory is bounded: max_conn + HTTP_REFUSE_SLOTS connections of fixed
 * size, each allocated at accept.
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

const int http_codes[HTTP_NERR] = { 400, 403, 404, 405, 414, 431, 503 };

enum conn_state { C_READ, C_IDLE, C_SEND, C_LINGER };

struct conn {
	int fd;
	enum conn_state st;
	bool close_after;		/* after the answer in progress */
	bool refused;			/* a 503 slot, not counted in max_conn */
	int64_t deadline;		/* ms, io->now_ms's clock */
	size_t len;			/* request bytes in req */
	size_t ooff, olen;		/* out[ooff..olen) still to send */
	int file;			/* being sent, -1: none */
	int64_t foff, fleft;		/* next file offset, bytes left */
	char req[HTTP_REQ_MAX + 1];	/* NUL-terminated */
	char out[HTTP_CHUNK];
};

struct server {
	const struct http_config *cfg;
	const struct http_io *io;
	struct http_counters *cnt;
	struct conn **conns;
	int nconn, nrefused;
	int64_t now;
};

/* ---- pieces ---- */

const char *
http_reason(int code)
{
	switch (code) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 414: return "URI Too Long";
	case 431: return "Request Header Fields Too Large";
	case 503: return "Service Unavailable";
	default: return "Internal Server Error";
	}
}

/* strcasecmp(a, b) == 0, which the isolate libc lacks. */
static bool
caseeq(const char *a, const char *b)
{
	for (; *a != '\0' && *b != '\0'; a++, b++)
		if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
			return false;
	return *a == *b;
}

const char *
http_content_type(const char *path)
{
	static const struct { const char *ext, *type; } types[] = {
		{ ".html", "text/html" }, { ".htm", "text/html" },
		{ ".txt", "text/plain" }, { ".css", "text/css" },
		{ ".js", "text/javascript" }, { ".json", "application/json" },
		{ ".png", "image/png" }, { ".jpg", "image/jpeg" },
		{ ".jpeg", "image/jpeg" }, { ".gif", "image/gif" },
		{ ".svg", "image/svg+xml" }, { ".ico", "image/x-icon" },
		{ ".pdf", "application/pdf" }, { ".wasm", "application/wasm" },
	};
	const char *dot = strrchr(path, '.');
	if (dot != NULL && strchr(dot, '/') == NULL)
		for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			if (caseeq(dot, types[i].ext))
				return types[i].type;
	return "application/octet-stream";
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int
http_map_path(const char *root, const char *target, char *out, size_t outlen)
{
	char dec[HTTP_PATH_MAX + 1];
	size_t n = 0;
	for (const char *p = target; *p != '\0' && *p != '?' && *p != '#'; p++) {
		int c = (unsigned char)*p;
		if (c == '%') {
			int h = hexval(p[1]), l = h < 0 ? -1 : hexval(p[2]);
			if (l < 0)
				return 400;
			c = h * 16 + l;
			if (c == 0)
				return 400;
			p += 2;
		}
		if (n == HTTP_PATH_MAX)
			return 414;
		dec[n++] = (char)c;
	}
	dec[n] = '\0';
	/* Resolve "." and ".." lexically, after decoding (so %2e%2e is
	 * "..") and before anything touches the file system; segments are
	 * appended to out, which never climbs above root. */
	size_t base = strlen(root), len = base;
	if (base + 1 > outlen)
		return 414;
	memcpy(out, root, base + 1);
	for (char *s = dec, *next; s != NULL; s = next) {
		next = strchr(s, '/');
		if (next != NULL)
			*next++ = '\0';
		if (*s == '\0' || strcmp(s, ".") == 0)
			continue;
		if (strcmp(s, "..") == 0) {
			if (len == base)
				return 403;
			while (out[len - 1] != '/')
				len--;
			out[--len] = '\0';
			continue;
		}
		size_t sl = strlen(s);
		if (len + 1 + sl + 1 > outlen)
			return 414;
		out[len++] = '/';
		memcpy(out + len, s, sl + 1);
		len += sl;
	}
	if (len == 0) {		/* root "" and target "/" */
		if (outlen < 2)
			return 414;
		memcpy(out, "/", 2);
	}
	return 0;
}

static bool
is_token(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) &&
		    strchr("!#$%&'*+-.^_`|~", *s) == NULL)
			return false;
	return true;
}

void
http_counters_format(const struct http_counters *cnt, char *buf, size_t len)
{
	snprintf(buf, len, "accepted %lu, served %lu; 400 %lu, 403 %lu, "
	    "404 %lu, 405 %lu, 414 %lu, 431 %lu, 503 %lu; dropped %lu, "
	    "evicted %lu, header timeouts %lu, idle timeouts %lu, resets %lu",
	    cnt->accepted, cnt->served, cnt->errors[HTTP_E400],
	    cnt->errors[HTTP_E403], cnt->errors[HTTP_E404],
	    cnt->errors[HTTP_E405], cnt->errors[HTTP_E414],
	    cnt->errors[HTTP_E431], cnt->errors[HTTP_E503], cnt->dropped,
	    cnt->evicted, cnt->header_timeouts, cnt->idle_timeouts,
	    cnt->resets);
}

void
http_help_requests(int fd)
{
	dprintf(fd,
"REQUESTS\n"
"    GET and HEAD of a path below the root.  The query string is\n"
"    ignored; %%XX escapes are decoded; \".\" and empty segments are\n"
"    dropped and \"..\" removes the segment before it, after decoding\n"
"    (so %%2e%%2e is \"..\") and before the file system is asked.\n"
"    Answers:\n"
"    200     a regular file, with Content-Length and a Content-Type\n"
"            from its extension (HEAD: no body).  A directory serves\n"
"            its index.html.\n"
"    400     a malformed request line or header, a bad %%XX escape, a\n"
"            NUL (raw or encoded), a target not starting with \"/\", an\n"
"            HTTP/1.1 request without Host, an unknown HTTP version.\n"
"    403     a path that climbs above the root with \"..\", or a file\n"
"            the server may not read.\n"
"    404     no such file, a directory without index.html, or a file\n"
"            that is not regular.\n"
"    405     any other method (with Allow: GET, HEAD).\n"
"    414     a request line over %d bytes or a path over %d bytes.\n"
"    431     a header line over %d bytes or a header block over %d.\n"
"    503     all connection slots busy (with Retry-After and a body).\n"
"    Connections are kept alive (HTTP/1.1, or HTTP/1.0 with\n"
"    Connection: keep-alive) and requests may be pipelined; 400, 405,\n"
"    414, 431, 503 and requests announcing a body close the connection\n"
"    after the answer.\n"
"\n"
"CONNECTIONS\n"
"    Every socket is non-blocking and one poll loop serves them all.\n"
"    Files are sent %d bytes at a time as each client's socket takes\n"
"    them, so a client that stops reading holds only its own\n"
"    connection.  A connection whose header block is not complete\n"
"    within the header timeout is closed (a client sending a byte a\n"
"    second gets no longer); a kept-alive connection with no request\n"
"    for the idle timeout is closed, and so is one whose client takes\n"
"    no byte of its answer for that long.  When all slots are in use, a\n"
"    new connection takes the slot of the longest-idle kept-alive one;\n"
"    when none is idle it is answered 503 (up to %d at once; beyond,\n"
"    closed at once and counted).\n",
	    HTTP_REQLINE_MAX, HTTP_PATH_MAX, HTTP_HDRLINE_MAX, HTTP_REQ_MAX,
	    HTTP_CHUNK, HTTP_REFUSE_SLOTS);
}

/* ---- answers ---- */

static void
count_error(struct server *s, int code)
{
	for (int i = 0; i < HTTP_NERR; i++)
		if (http_codes[i] == code)
			s->cnt->errors[i]++;
}

/* Queue a status line and header in c->out. */
static void
queue_header(struct server *s, struct conn *c, int code, const char *type,
    int64_t len, const char *extra)
{
	char date[64] = "";
	if (s->io->date != NULL) {
		memcpy(date, "Date: ", 6);
		s->io->date(date + 6, sizeof(date) - 8);
		strcat(date, "\r\n");
	}
	int n = snprintf(c->out, sizeof(c->out), "HTTP/1.1 %d %s\r\n"
	    "Server: krank-httpd\r\n%sContent-Type: %s\r\n"
	    "Content-Length: %lld\r\n%sConnection: %s\r\n\r\n", code,
	    http_reason(code), date, type, (long long)len,
	    extra != NULL ? extra : "", c->close_after ? "close" : "keep-alive");
	c->ooff = 0;
	c->olen = n > 0 && (size_t)n < sizeof(c->out) ? (size_t)n : 0;
	c->st = C_SEND;
	c->deadline = s->now + s->cfg->idle_timeout_ms;
}

/* Queue an error answer with a one-line body. */
static int
queue_error(struct server *s, struct conn *c, int code, bool head,
    bool close_after)
{
	char body[96];
	count_error(s, code);
	int n = snprintf(body, sizeof(body), code == 503 ?
	    "%d %s: too many connections, try again\n" : "%d %s\n", code,
	    http_reason(code));
	c->close_after = close_after;
	queue_header(s, c, code, "text/plain", n, code == 405 ?
	    "Allow: GET, HEAD\r\n" : code == 503 ? "Retry-After: 1\r\n" : NULL);
	if (!head && c->olen + (size_t)n <= sizeof(c->out)) {
		memcpy(c->out + c->olen, body, (size_t)n);
		c->olen += (size_t)n;
	}
	return 0;
}

/* Open the file for path (a directory's index.html): the descriptor and
 * its size, or -status. */
static int
open_served(struct server *s, char *path, size_t pathlen, int64_t *size)
{
	const struct http_io *io = s->io;
	enum http_kind kind;
	for (int pass = 0; pass < 2; pass++) {
		int fd = io->open(path);
		if (fd < 0)
			return errno == EACCES ? -403 : errno == EMFILE ||
			    errno == ENFILE ? -503 : -404;
		if (io->fstat(fd, &kind, size) != 0) {
			io->close(fd);
			return -404;
		}
		if (kind == HTTP_KIND_REG)
			return fd;
		io->close(fd);
		if (kind != HTTP_KIND_DIR || pass > 0)
			return -404;
		size_t l = strlen(path);
		if (l + sizeof("/index.html") > pathlen)
			return -414;
		memcpy(path + l, l > 0 && path[l - 1] == '/' ? "index.html" :
		    "/index.html", sizeof("/index.html"));
	}
	return -404;
}

/* Answer the complete request c->req[0..end) (end is after the empty
 * line): queue the answer and switch c to C_SEND. */
static int
respond(struct server *s, struct conn *c, size_t end)
{
	char *req = c->req;
	req[end - 2] = '\0';		/* the last CRLF of the block */
	char *eol = strstr(req, "\r\n");
	if (eol != NULL)
		*eol = '\0';
	if (strlen(req) > HTTP_REQLINE_MAX)
		return queue_error(s, c, 414, false, true);

	/* Request line: METHOD SP TARGET SP HTTP/1.x */
	char *sp1 = strchr(req, ' '), *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
	if (sp1 == NULL || sp2 == NULL || strchr(sp2 + 1, ' ') != NULL)
		return queue_error(s, c, 400, false, true);
	*sp1 = *sp2 = '\0';
	const char *method = req, *target = sp1 + 1, *version = sp2 + 1;
	bool v10 = strcmp(version, "HTTP/1.0") == 0;
	if (!is_token(method) || (!v10 && strcmp(version, "HTTP/1.1") != 0) ||
	    target[0] != '/')
		return queue_error(s, c, 400, false, true);

	/* Headers: name ":" value, one per line. */
	bool close_after = v10, host = false, body = false;
	for (char *h = eol != NULL ? eol + 2 : NULL, *nl; h != NULL &&
	    *h != '\0'; h = nl) {
		nl = strstr(h, "\r\n");
		if (nl != NULL) {
			*nl = '\0';
			nl += 2;
		}
		if (strlen(h) > HTTP_HDRLINE_MAX)
			return queue_error(s, c, 431, false, true);
		char *colon = strchr(h, ':');
		if (colon == NULL)
			return queue_error(s, c, 400, false, true);
		*colon = '\0';
		if (!is_token(h))
			return queue_error(s, c, 400, false, true);
		const char *v = colon + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		if (caseeq(h, "Host"))
			host = true;
		else if (caseeq(h, "Connection")) {
			if (caseeq(v, "close"))
				close_after = true;
			else if (caseeq(v, "keep-alive"))
				close_after = false;
		} else if ((caseeq(h, "Content-Length") && strcmp(v, "0") != 0) ||
		    caseeq(h, "Transfer-Encoding"))
			body = true;	/* not read: answer, then close */
	}
	if (!v10 && !host)
		return queue_error(s, c, 400, false, true);
	if (body)
		close_after = true;
	bool head = strcmp(method, "HEAD") == 0;
	if (!head && strcmp(method, "GET") != 0)
		return queue_error(s, c, 405, false, true);

	char path[HTTP_ROOT_MAX + HTTP_PATH_MAX + 16];
	int status = http_map_path(s->cfg->root, target, path, sizeof(path));
	if (status != 0)
		return queue_error(s, c, status, head, close_after ||
		    status != 403);
	int64_t size;
	int fd = open_served(s, path, sizeof(path), &size);
	if (fd < 0)
		return queue_error(s, c, -fd, head, close_after || fd == -414 ||
		    fd == -503);
	s->cnt->served++;
	c->close_after = close_after;
	queue_header(s, c, 200, http_content_type(path), size, NULL);
	if (head || size == 0)
		s->io->close(fd);
	else {
		c->file = fd;
		c->foff = 0;
		c->fleft = size;
		/* The first bytes ride with the header (one segment for a
		 * small file); a failed read is seen again in conn_send. */
		size_t room = sizeof(c->out) - c->olen;
		ssize_t r = s->io->pread(fd, c->out + c->olen, size <
		    (int64_t)room ? (size_t)size : room, 0);
		if (r > 0) {
			c->olen += (size_t)r;
			c->foff = r;
			c->fleft -= r;
		}
	}
	return 0;
}

/* ---- connections ---- */

static void
conn_close(struct server *s, int i)
{
	struct conn *c = s->conns[i];
	if (c->file >= 0)
		s->io->close(c->file);
	s->io->close(c->fd);
	if (c->refused)
		s->nrefused--;
	free(c);
	s->conns[i] = s->conns[--s->nconn];
}

/* Refuse lines and blocks of an incomplete request that can no longer
 * fit; 0 when it may still grow. */
static int
check_partial(const struct conn *c)
{
	const char *eol = strstr(c->req, "\r\n");
	if ((eol == NULL && c->len > HTTP_REQLINE_MAX) ||
	    (eol != NULL && (size_t)(eol - c->req) > HTTP_REQLINE_MAX))
		return 414;
	if (c->len >= HTTP_REQ_MAX)
		return 431;
	if (eol != NULL) {
		/* The header line still being received. */
		const char *last = eol;
		for (const char *p; (p = strstr(last + 2, "\r\n")) != NULL;)
			last = p;
		if (strlen(last + 2) > HTTP_HDRLINE_MAX)
			return 431;
	}
	return 0;
}

/* After an answer: the next buffered request, or wait for one. */
static int
next_request(struct server *s, struct conn *c)
{
	char *endp = strstr(c->req, "\r\n\r\n");
	if (endp != NULL) {
		size_t end = (size_t)(endp - c->req) + 4;
		respond(s, c, end);
		memmove(c->req, c->req + end, c->len - end + 1);
		c->len -= end;
		return 0;
	}
	int status = check_partial(c);
	if (status != 0)
		return queue_error(s, c, status, false, true);
	if (c->len > 0) {
		/* The deadline runs from the request's first byte (or the
		 * connection); more bytes do not extend it. */
		if (c->st != C_READ) {
			c->st = C_READ;
			c->deadline = s->now + s->cfg->header_timeout_ms;
		}
	} else {
		c->st = C_IDLE;
		c->deadline = s->now + s->cfg->idle_timeout_ms;
	}
	return 0;
}

/* Send what the socket takes of c's answer; 0, or -1 to close c.  At
 * most 16 chunks a turn, so one fast client cannot starve the others. */
static int
conn_send(struct server *s, struct conn *c)
{
	const struct http_io *io = s->io;
	for (int turns = 0; turns < 16; turns++) {
		if (c->ooff < c->olen) {
			ssize_t w = io->send(c->fd, c->out + c->ooff,
			    c->olen - c->ooff);
			if (w < 0) {
				if (errno == EAGAIN || errno == EWOULDBLOCK ||
				    errno == EINTR)
					return 0;
				s->cnt->resets++;
				return -1;
			}
			c->ooff += (size_t)w;
			c->deadline = s->now + s->cfg->idle_timeout_ms;
			continue;
		}
		if (c->fleft > 0 && io->sendfile != NULL) {
			/* As much as the socket takes, from the file's cache
			 * into the socket's buffers. */
			size_t want = c->fleft < (int64_t)HTTP_SENDFILE_MAX ?
			    (size_t)c->fleft : HTTP_SENDFILE_MAX;
			ssize_t w = io->sendfile(c->fd, c->file, c->foff, want);
			if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR))
				return 0;
			if (w <= 0) {
				dprintf(2, "httpd: file at offset %lld: "
				    "sendfile: %s\n", (long long)c->foff,
				    w < 0 ? "error" : "file shrank");
				s->cnt->resets += w < 0;
				return -1;
			}
			c->foff += w;
			c->fleft -= w;
			c->deadline = s->now + s->cfg->idle_timeout_ms;
			continue;
		}
		if (c->fleft > 0) {
			size_t want = c->fleft < (int64_t)sizeof(c->out) ?
			    (size_t)c->fleft : sizeof(c->out);
			ssize_t r = io->pread(c->file, c->out, want, c->foff);
			if (r <= 0) {
				/* The length is promised; all we can do is
				 * close. */
				dprintf(2, "httpd: file at offset %lld: read: "
				    "%s\n", (long long)c->foff, r < 0 ?
				    "error" : "file shrank");
				return -1;
			}
			c->ooff = 0;
			c->olen = (size_t)r;
			c->foff += r;
			c->fleft -= r;
			continue;
		}
		/* The answer is out. */
		if (c->file >= 0) {
			io->close(c->file);
			c->file = -1;
		}
		if (c->close_after) {
			io->shutdown_wr(c->fd);
			c->st = C_LINGER;
			c->deadline = s->now + HTTP_LINGER_MS;
			return 0;
		}
		next_request(s, c);
		if (c->st != C_SEND)
			return 0;
	}
	return 0;
}

/* Input on c; 0, or -1 to close c. */
static int
conn_recv(struct server *s, struct conn *c)
{
	char *buf = c->req + c->len;
	size_t room = HTTP_REQ_MAX - c->len;
	if (c->st == C_LINGER) {	/* drained and dropped */
		buf = c->out;
		room = sizeof(c->out);
	}
	ssize_t n = s->io->recv(c->fd, buf, room);
	if (n == 0)
		return -1;
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return 0;
		if (c->st != C_LINGER)
			s->cnt->resets++;
		return -1;
	}
	if (c->st == C_LINGER)
		return 0;
	/* A NUL in the request would hide the rest: 400. */
	if (memchr(buf, '\0', (size_t)n) != NULL) {
		queue_error(s, c, 400, false, true);
		return conn_send(s, c);
	}
	if (c->st == C_IDLE) {	/* a new request: its header deadline */
		c->st = C_READ;
		c->deadline = s->now + s->cfg->header_timeout_ms;
	}
	c->len += (size_t)n;
	c->req[c->len] = '\0';
	next_request(s, c);
	return c->st == C_SEND ? conn_send(s, c) : 0;
}

static struct conn *
conn_new(struct server *s, int fd)
{
	struct conn *c = malloc(sizeof(*c));
	if (c == NULL)
		return NULL;
	c->fd = fd;
	c->st = C_READ;
	c->close_after = c->refused = false;
	c->deadline = s->now + s->cfg->header_timeout_ms;
	c->len = c->ooff = c->olen = 0;
	c->req[0] = '\0';
	c->file = -1;
	c->foff = c->fleft = 0;
	s->conns[s->nconn++] = c;
	return c;
}

/* A new connection: a slot of its own, the slot of the longest-idle
 * kept-alive connection, a 503, or closed at once. */
static void
admit(struct server *s, int fd)
{
	s->cnt->accepted++;
	if (s->nconn - s->nrefused >= s->cfg->max_conn) {
		int victim = -1;
		for (int i = 0; i < s->nconn; i++)
			if (s->conns[i]->st == C_IDLE && (victim < 0 ||
			    s->conns[i]->deadline < s->conns[victim]->deadline))
				victim = i;
		if (victim >= 0) {
			conn_close(s, victim);
			s->cnt->evicted++;
		} else if (s->nrefused < HTTP_REFUSE_SLOTS) {
			struct conn *c = conn_new(s, fd);
			if (c == NULL)
				goto drop;
			c->refused = true;
			s->nrefused++;
			queue_error(s, c, 503, false, true);
			if (conn_send(s, c) != 0)
				conn_close(s, s->nconn - 1);
			return;
		} else
			goto drop;
	}
	if (conn_new(s, fd) != NULL)
		return;
drop:
	s->cnt->dropped++;
	s->io->close(fd);
}

int
http_serve(int lfd, const struct http_config *cfg, const struct http_io *io,
    struct http_counters *cnt)
{
	struct server s = { .cfg = cfg, .io = io, .cnt = cnt };
	int slots = cfg->max_conn + HTTP_REFUSE_SLOTS;
	s.conns = calloc((size_t)slots, sizeof(*s.conns));
	struct http_pollfd *pf = calloc((size_t)slots + 2, sizeof(*pf));
	if (s.conns == NULL || pf == NULL) {
		dprintf(2, "httpd: connection table of %d: out of memory\n",
		    slots);
		free(s.conns);
		free(pf);
		return -1;
	}
	int rv = 0;
	int64_t accept_pause = 0;
	while (io->stop == NULL || !io->stop()) {
		/* Deadlines: close the late, and sleep until the next. */
		s.now = io->now_ms();
		int64_t wait = 1000;
		for (int i = s.nconn - 1; i >= 0; i--) {
			struct conn *c = s.conns[i];
			if (c->deadline > s.now) {
				if (c->deadline - s.now < wait)
					wait = c->deadline - s.now;
				continue;
			}
			if (c->st == C_READ)
				cnt->header_timeouts++;
			else if (c->st != C_LINGER)
				cnt->idle_timeouts++;
			conn_close(&s, i);
		}
		unsigned n = 0;
		int lslot = -1, qslot = -1;
		if (s.now >= accept_pause) {
			lslot = (int)n;
			pf[n++] = (struct http_pollfd){ lfd, HTTP_POLLIN, 0 };
		} else if (accept_pause - s.now < wait)
			wait = accept_pause - s.now;
		if (cfg->quit_fd >= 0) {
			qslot = (int)n;
			pf[n++] = (struct http_pollfd){ cfg->quit_fd,
			    HTTP_POLLIN, 0 };
		}
		unsigned base = n;
		for (int i = 0; i < s.nconn; i++)
			pf[n++] = (struct http_pollfd){ s.conns[i]->fd,
			    s.conns[i]->st == C_SEND ? HTTP_POLLOUT :
			    HTTP_POLLIN, 0 };
		int ready = io->poll(pf, n, (int)wait);
		if (ready < 0) {
			if (errno == EINTR)
				continue;
			dprintf(2, "httpd: poll over %u descriptors failed "
			    "(errno %d)\n", n, errno);
			rv = -1;
			break;
		}
		if (ready == 0)
			continue;
		s.now = io->now_ms();
		/* Backwards: conn_close moves the last connection into the
		 * freed place, and that one has been handled already. */
		for (int i = s.nconn - 1; i >= 0; i--) {
			short re = pf[base + (unsigned)i].revents;
			if (re == 0)
				continue;
			struct conn *c = s.conns[i];
			int r = c->st == C_SEND ? conn_send(&s, c) :
			    conn_recv(&s, c);
			if (r != 0)
				conn_close(&s, i);
		}
		if (qslot >= 0 && pf[qslot].revents != 0) {
			/* End of file (or an error) on quit_fd ends the loop;
			 * what is read is ignored. */
			char b[64];
			ssize_t r = (pf[qslot].revents & HTTP_POLLNVAL) ? -1 :
			    io->read(cfg->quit_fd, b, sizeof(b));
			if (r == 0 || (r < 0 && errno != EAGAIN &&
			    errno != EINTR))
				break;
		}
		if (lslot >= 0 && pf[lslot].revents != 0) {
			/* Accept what is queued, a bounded batch a turn. */
			for (int k = 0; k < 64; k++) {
				int fd = io->accept(lfd);
				if (fd >= 0) {
					admit(&s, fd);
					continue;
				}
				if (errno == EMFILE || errno == ENFILE) {
					/* Out of descriptors: the pending
					 * connection stays queued; try again
					 * in a moment instead of spinning. */
					cnt->dropped++;
					accept_pause = s.now + 100;
				}
				break;
			}
		}
	}
	while (s.nconn > 0)
		conn_close(&s, s.nconn - 1);
	free(s.conns);
	free(pf);
	return rv;
}
