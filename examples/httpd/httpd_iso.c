/*
 * httpd_iso.c - examples/httpd as a KRANK isolate: the server of http.c
 * over plain POSIX calls (sockets, open/pread/fstat, poll), so the same
 * source builds with krank-cc into httpd.kx, which KRANK runs from a
 * deployment, and with the host's gcc into an ordinary Linux program that
 * the tests run against Linux's own stack.  No signals, no stdio streams.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1	/* accept4 */
#endif
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http.h"
#include "ex_util.h"

/* http_pollfd is struct pollfd, so poll takes the table as it is. */
_Static_assert(sizeof(struct http_pollfd) == sizeof(struct pollfd) &&
    offsetof(struct http_pollfd, events) == offsetof(struct pollfd, events) &&
    offsetof(struct http_pollfd, revents) == offsetof(struct pollfd, revents),
    "struct http_pollfd differs from struct pollfd");
_Static_assert(HTTP_POLLIN == POLLIN && HTTP_POLLOUT == POLLOUT &&
    HTTP_POLLERR == POLLERR && HTTP_POLLHUP == POLLHUP &&
    HTTP_POLLNVAL == POLLNVAL, "poll flags differ");

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0		/* isolates get no signals anyway */
#endif

static void
usage(int fd)
{
	dprintf(fd,
"NAME\n"
"    httpd - static-file HTTP/1.1 server, a KRANK isolate\n"
"\n"
"SYNOPSIS\n"
"    httpd [--root DIR] [--port P] [--max-conn N] [--header-timeout D]\n"
"          [--idle-timeout D] [--until-eof]\n"
"    httpd --help\n"
"\n"
"DESCRIPTION\n"
"    Serves the files below DIR over HTTP/1.1 (and 1.0) on TCP port P of\n"
"    every address, to many clients at once.  It is a plain POSIX\n"
"    program: built with krank-cc (httpd.kx) it runs as an isolate of a\n"
"    KRANK deployment, on KRANK's TCP/IP stack and file systems; built\n"
"    with gcc it runs on Linux.  Once listening it prints \"ready PORT\"\n"
"    on standard output.  It runs until it is ended (KRANK ends\n"
"    isolates; it installs no signal handlers) or, with --until-eof,\n"
"    until standard input reaches end of file; then it prints its\n"
"    counters on standard output.\n"
"\n"
"OPTIONS\n"
"    --root DIR\n"
"        The served tree (default /www).  Paths are resolved below it\n"
"        lexically; symbolic links inside it are followed.\n"
"    --port P\n"
"        TCP port (default 80; 0: any free port, printed in \"ready\").\n"
"    --max-conn N\n"
"        Connections served at once (default 256, 1..65536).\n"
"    --header-timeout D\n"
"        Time a client has to send a whole header block, counted from\n"
"        the connection or from the first byte of a kept-alive request\n"
"        (default 10s).  D is N, Ns, Nms or Nm.\n"
"    --idle-timeout D\n"
"        Time a kept-alive connection may wait for its next request,\n"
"        and a client may take no byte of an answer (default 5s).\n"
"    --until-eof\n"
"        Stop at end of file on standard input (for scripts).\n"
"    --help\n"
"        This text.\n"
"\n");
	http_help_requests(fd);
	dprintf(fd,
"\n"
"EXIT STATUS\n"
"    0 after --until-eof, 1 when the root is not a directory or the port\n"
"    or the connection table cannot be set up (with a message on standard\n"
"    error), 2 on a usage error.\n"
"\n"
"EXAMPLES\n"
"    httpd --root /srv/www --port 8080\n"
"    In a KRANK deployment (see krank-deployment(5)):\n"
"        isolates:\n"
"          - name: web\n"
"            path: examples/httpd/httpd.kx\n"
"            argv: [httpd, --root, /www, --port, \"80\"]\n"
"\n"
"SEE ALSO\n"
"    examples/httpd/httpd (the same server booting KRANK's stack in its\n"
"    own process), examples/echo, krank(8).\n");
}

static int
io_accept(int lfd)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK), one = 1;
	if (fd >= 0)	/* the header and the first chunk leave at once */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static ssize_t
io_recv(int fd, void *buf, size_t len)
{
	return recv(fd, buf, len, 0);
}

static ssize_t
io_send(int fd, const void *buf, size_t len)
{
	return send(fd, buf, len, MSG_NOSIGNAL);
}

static int
io_shutdown_wr(int fd)
{
	return shutdown(fd, SHUT_WR);
}

static int
io_open(const char *path)
{
	/* O_NONBLOCK: a FIFO in the tree must not hang the server. */
	return open(path, O_RDONLY | O_NONBLOCK);
}

static int
io_fstat(int fd, enum http_kind *kind, int64_t *size)
{
	struct stat st;
	if (fstat(fd, &st) != 0)
		return -1;
	*kind = S_ISREG(st.st_mode) ? HTTP_KIND_REG : S_ISDIR(st.st_mode) ?
	    HTTP_KIND_DIR : HTTP_KIND_OTHER;
	*size = st.st_size;
	return 0;
}

static ssize_t
io_pread(int fd, void *buf, size_t len, int64_t off)
{
	return pread(fd, buf, len, (off_t)off);
}

/* Linux's sendfile(2), declared here: krank-cc's headers have no
 * <sys/sendfile.h> (KRANK exports the call; krank/krk_sys_net.c). */
ssize_t sendfile(int out, int in, off_t *offp, size_t count);

/* KRANK's sendfile copies from ext2's cache straight into the socket's
 * buffers; Linux's hands its page cache over. */
static ssize_t
io_sendfile(int sock, int file, int64_t off, size_t len)
{
	off_t o = (off_t)off;
	return sendfile(sock, file, &o, len);
}

static int
io_poll(struct http_pollfd *fds, unsigned nfds, int timeout_ms)
{
	return poll((struct pollfd *)fds, nfds, timeout_ms);
}

static const struct http_io posix_io = {
	.accept = io_accept, .recv = io_recv, .send = io_send,
	.shutdown_wr = io_shutdown_wr, .close = close, .open = io_open,
	.fstat = io_fstat, .pread = io_pread, .poll = io_poll,
	.now_ms = ex_now_ms, .read = read, .sendfile = io_sendfile,
};

int
main(int argc, char **argv)
{
	struct http_config cfg = { .root = "/www", .max_conn = 256,
	    .header_timeout_ms = 10000, .idle_timeout_ms = 5000,
	    .quit_fd = -1 };
	long port = 80, n;
	int64_t ms;
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(o, "--help") == 0 || strcmp(o, "-h") == 0) {
			usage(1);
			return 0;
		}
		if (strcmp(o, "--until-eof") == 0) {
			cfg.quit_fd = 0;
			continue;
		}
		if (strcmp(o, "--root") != 0 && strcmp(o, "--port") != 0 &&
		    strcmp(o, "--max-conn") != 0 &&
		    strcmp(o, "--header-timeout") != 0 &&
		    strcmp(o, "--idle-timeout") != 0) {
			dprintf(2, "httpd: %s: unknown option (try --help)\n", o);
			return 2;
		}
		if (v == NULL) {
			dprintf(2, "httpd: %s: needs a value (try --help)\n", o);
			return 2;
		}
		i++;
		if (strcmp(o, "--root") == 0) {
			size_t l = strlen(v);
			while (l > 1 && v[l - 1] == '/')
				l--;	/* "/www/" is "/www"; "/" stays */
			if (l >= HTTP_ROOT_MAX) {
				dprintf(2, "httpd: --root: longer than %d "
				    "bytes\n", HTTP_ROOT_MAX - 1);
				return 2;
			}
			static char root[HTTP_ROOT_MAX];
			memcpy(root, v, l);
			root[l] = '\0';
			cfg.root = strcmp(root, "/") == 0 ? "" : root;
		} else if (strcmp(o, "--port") == 0) {
			if (ex_number(v, 0, 65535, &port) != 0) {
				dprintf(2, "httpd: --port %s: not a port "
				    "(0..65535)\n", v);
				return 2;
			}
		} else if (strcmp(o, "--max-conn") == 0) {
			if (ex_number(v, 1, 65536, &n) != 0) {
				dprintf(2, "httpd: --max-conn %s: not a number "
				    "in 1..65536\n", v);
				return 2;
			}
			cfg.max_conn = (int)n;
		} else {
			if (ex_duration_ms(v, &ms) != 0 || ms == 0) {
				dprintf(2, "httpd: %s %s: not a duration "
				    "(N, Ns, Nms or Nm, not 0)\n", o, v);
				return 2;
			}
			*(strcmp(o, "--idle-timeout") == 0 ?
			    &cfg.idle_timeout_ms : &cfg.header_timeout_ms) =
			    (int)ms;
		}
	}
	struct stat st;
	errno = 0;
	if (stat(cfg.root[0] != '\0' ? cfg.root : "/", &st) != 0 ||
	    !S_ISDIR(st.st_mode)) {
		dprintf(2, "httpd: --root %s: %s\n", cfg.root, errno != 0 ?
		    ex_errstr(errno) : "not a directory");
		return 1;
	}
	int bound, lfd = ex_listen(SOCK_STREAM, (int)port, &bound);
	if (lfd < 0) {
		dprintf(2, "httpd: TCP port %ld: %s\n", port, ex_errstr(errno));
		return 1;
	}
	dprintf(1, "ready %d\n", bound);
	struct http_counters cnt;
	memset(&cnt, 0, sizeof(cnt));
	int rv = http_serve(lfd, &cfg, &posix_io, &cnt);
	close(lfd);
	char line[512];
	http_counters_format(&cnt, line, sizeof(line));
	dprintf(1, "httpd: %s\n", line);
	return rv == 0 ? 0 : 1;
}
