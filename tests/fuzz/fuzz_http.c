/*
 * fuzz_http.c - libFuzzer target for examples/httpd's server (http.c),
 * driven whole through a fake I/O table: one connection whose received
 * bytes are the input (each piece a length byte and that many bytes, 0 for
 * "nothing yet"), a socket that takes answers in odd-sized pieces, a clock
 * that jumps once the input is spent (so the timeouts run), and a tiny
 * file tree.  Asserts that every path the server opens lies below the
 * root with no "." or ".." segment, that answers start with a status line,
 * and that no file descriptor is left open.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

#define LFD	3
#define CFD	4
#define FFD	10		/* file descriptors: FFD + file index */

static const uint8_t *in;
static size_t inlen, inpos;
static int64_t clock_ms;
static int accepted, conn_open, files_open, sends, turns;
static size_t answer_pos;	/* bytes of the current answer seen */

static const struct { const char *path; enum http_kind kind; int64_t size;
	int err; } tree[] = {
	{ "/www", HTTP_KIND_DIR, 0, 0 },
	{ "/www/index.html", HTTP_KIND_REG, 300, 0 },
	{ "/www/sub", HTTP_KIND_DIR, 0, 0 },
	{ "/www/big.bin", HTTP_KIND_REG, 100000, 0 },
	{ "/www/fifo", HTTP_KIND_OTHER, 0, 0 },
	{ "/www/secret", HTTP_KIND_REG, 10, EACCES },
};
#define NTREE ((int)(sizeof(tree) / sizeof(tree[0])))

static int
f_accept(int lfd)
{
	if (lfd != LFD)
		abort();
	if (accepted) {
		errno = EAGAIN;
		return -1;
	}
	accepted = conn_open = 1;
	return CFD;
}

static ssize_t
f_recv(int fd, void *buf, size_t len)
{
	if (fd != CFD || !conn_open)
		abort();
	if (inpos >= inlen)
		return 0;
	size_t n = in[inpos++];
	if (n == 0) {
		errno = EAGAIN;
		return -1;
	}
	if (n > inlen - inpos)
		n = inlen - inpos;
	if (n > len)
		n = len;
	memcpy(buf, in + inpos, n);
	inpos += n;
	return (ssize_t)n;
}

static ssize_t
f_send(int fd, const void *buf, size_t len)
{
	if (fd != CFD || !conn_open || len == 0)
		abort();
	if (++sends % 3 == 0) {
		errno = EAGAIN;
		return -1;
	}
	size_t n = 1 + (size_t)(sends * 37) % 5000;
	if (n > len)
		n = len;
	/* An answer starts with a status line; bodies may hold anything,
	 * so only the very first bytes on the connection are checked. */
	if (answer_pos == 0 && memcmp(buf, "HTTP/1.1 ", n < 9 ? n : 9) != 0)
		abort();
	answer_pos += n;
	return (ssize_t)n;
}

static int
f_shutdown_wr(int fd)
{
	return fd == CFD ? 0 : (abort(), -1);
}

static int
f_close(int fd)
{
	if (fd == CFD && conn_open)
		conn_open = 0;
	else if (fd >= FFD && fd < FFD + NTREE && files_open > 0)
		files_open--;
	else
		abort();
	return 0;
}

/* Below the root, no empty, "." or ".." segment. */
static void
check_path(const char *p)
{
	if (strncmp(p, "/www", 4) != 0 || (p[4] != '\0' && p[4] != '/'))
		abort();
	for (const char *s = p + 4; *s == '/'; ) {
		const char *e = strchr(s + 1, '/');
		size_t l = e != NULL ? (size_t)(e - s - 1) : strlen(s + 1);
		if (l == 0 || (l == 1 && s[1] == '.') ||
		    (l == 2 && s[1] == '.' && s[2] == '.'))
			abort();
		if (e == NULL)
			break;
		s = e;
	}
}

static int
f_open(const char *path)
{
	check_path(path);
	for (int i = 0; i < NTREE; i++)
		if (strcmp(path, tree[i].path) == 0) {
			if (tree[i].err != 0) {
				errno = tree[i].err;
				return -1;
			}
			files_open++;
			return FFD + i;
		}
	errno = ENOENT;
	return -1;
}

static int
f_fstat(int fd, enum http_kind *kind, int64_t *size)
{
	if (fd < FFD || fd >= FFD + NTREE)
		abort();
	*kind = tree[fd - FFD].kind;
	*size = tree[fd - FFD].size;
	return 0;
}

static ssize_t
f_pread(int fd, void *buf, size_t len, int64_t off)
{
	if (fd < FFD || fd >= FFD + NTREE || tree[fd - FFD].kind !=
	    HTTP_KIND_REG || off < 0 || off >= tree[fd - FFD].size)
		abort();
	if ((int64_t)len > tree[fd - FFD].size - off)
		len = (size_t)(tree[fd - FFD].size - off);
	memset(buf, 'x', len);
	return (ssize_t)len;
}

static int
f_poll(struct http_pollfd *fds, unsigned n, int timeout_ms)
{
	if (timeout_ms < 0)
		abort();
	for (unsigned i = 0; i < n; i++)
		fds[i].revents = fds[i].events;
	return (int)n;
}

static int64_t
f_now_ms(void)
{
	/* Time crawls while input lasts and leaps after, so every
	 * deadline is reached and the connection ends. */
	clock_ms += inpos < inlen ? 1 : 997;
	return clock_ms;
}

static int
f_stop(void)
{
	return (accepted && !conn_open) || ++turns > 200000;
}

static const struct http_io fake_io = {
	.accept = f_accept, .recv = f_recv, .send = f_send,
	.shutdown_wr = f_shutdown_wr, .close = f_close, .open = f_open,
	.fstat = f_fstat, .pread = f_pread, .poll = f_poll,
	.now_ms = f_now_ms, .stop = f_stop,
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_config cfg = { .root = "/www", .max_conn = 2,
	    .header_timeout_ms = 10000, .idle_timeout_ms = 5000,
	    .quit_fd = -1 };
	struct http_counters cnt;
	memset(&cnt, 0, sizeof(cnt));
	in = data;
	inlen = size;
	inpos = 0;
	clock_ms = 0;
	accepted = conn_open = files_open = sends = turns = 0;
	answer_pos = 0;
	if (http_serve(LFD, &cfg, &fake_io, &cnt) != 0 || conn_open ||
	    files_open != 0)
		abort();
	return 0;
}
