/*
 * http.h - the static-file HTTP/1.1 server shared by examples/httpd's two
 * programs: httpd (KRANK's stack in the same process, krs_ calls) and the
 * isolate httpd.kx / httpd-linux (POSIX calls).  The server is one
 * non-blocking state machine written against a small table of I/O calls
 * (struct http_io), so the request parsing, the path checks, the timeouts
 * and the chunked sending exist once.  It uses no stdio, no signals and no
 * libc beyond string/ctype/stdlib/snprintf/dprintf, so it builds with
 * krank-cc as well as with the host's gcc.
 */
#ifndef KRANK_EXAMPLES_HTTP_H
#define KRANK_EXAMPLES_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define HTTP_REQLINE_MAX	4096	/* longer request line: 414 */
#define HTTP_HDRLINE_MAX	4096	/* longer header line: 431 */
#define HTTP_REQ_MAX		16384	/* longer header block: 431 */
#define HTTP_PATH_MAX		1024	/* longer decoded path: 414 */
#define HTTP_ROOT_MAX		256	/* longest document root */
#define HTTP_CHUNK		16384	/* file bytes read (pread) at a time */
#define HTTP_SENDFILE_MAX	(1 << 20) /* file bytes per sendfile call */
#define HTTP_LINGER_MS		2000	/* drain after an answer that closes */
#define HTTP_REFUSE_SLOTS	16	/* connections answering 503 at once */

/* A poll entry: the layout and flag values of struct pollfd on Linux and
 * of struct krs_pollfd, so each program's poll takes it as it is. */
struct http_pollfd {
	int fd;
	short events;
	short revents;
};
#define HTTP_POLLIN	0x001
#define HTTP_POLLOUT	0x004
#define HTTP_POLLERR	0x008
#define HTTP_POLLHUP	0x010
#define HTTP_POLLNVAL	0x020

enum http_kind { HTTP_KIND_REG, HTTP_KIND_DIR, HTTP_KIND_OTHER };

/*
 * The calls the server makes.  Each returns what its POSIX namesake
 * returns, -1 with errno set on failure.  accept, recv and send never
 * block (EAGAIN instead) and send never raises SIGPIPE; accept returns a
 * socket that is already non-blocking.  open opens read-only; fstat
 * reports the kind and size.  now_ms is a monotonic clock.  stop, when
 * set, is asked once per loop turn whether to return (a signal seen).
 * read is needed only with a quit_fd; date, when set, writes the current
 * time in the HTTP date format (NUL-terminated, at most len bytes).
 */
struct http_io {
	int (*accept)(int lfd);
	ssize_t (*recv)(int fd, void *buf, size_t len);
	ssize_t (*send)(int fd, const void *buf, size_t len);
	int (*shutdown_wr)(int fd);
	int (*close)(int fd);
	int (*open)(const char *path);
	int (*fstat)(int fd, enum http_kind *kind, int64_t *size);
	ssize_t (*pread)(int fd, void *buf, size_t len, int64_t off);
	int (*poll)(struct http_pollfd *fds, unsigned nfds, int timeout_ms);
	int64_t (*now_ms)(void);
	int (*stop)(void);
	ssize_t (*read)(int fd, void *buf, size_t len);	/* for quit_fd */
	void (*date)(char *buf, size_t len);	/* NULL: no Date header */
	/* Optional (NULL: pread and send): up to len bytes of file from
	 * off to the socket, as Linux's sendfile with an offset; never
	 * blocks.  Bytes sent, 0 at the file's end, -1 with errno. */
	ssize_t (*sendfile)(int sock, int file, int64_t off, size_t len);
};

struct http_config {
	const char *root;		/* served tree; "" serves "/" */
	int max_conn;			/* connections served at once */
	int header_timeout_ms;		/* to receive a whole header block */
	int idle_timeout_ms;		/* keep-alive wait; send progress */
	int quit_fd;			/* return at end of file on it; -1: none */
};

/* Counters, for the programs to print. */
enum { HTTP_E400, HTTP_E403, HTTP_E404, HTTP_E405, HTTP_E414, HTTP_E431,
	HTTP_E503, HTTP_NERR };
struct http_counters {
	unsigned long accepted;		/* connections accepted */
	unsigned long served;		/* 200 answers */
	unsigned long errors[HTTP_NERR];/* answers by code, see http_codes */
	unsigned long dropped;		/* closed at accept: no slot, no memory */
	unsigned long evicted;		/* idle keep-alive closed for a new one */
	unsigned long header_timeouts;	/* request not complete in time */
	unsigned long idle_timeouts;	/* keep-alive or send without progress */
	unsigned long resets;		/* receive or send errors */
};
extern const int http_codes[HTTP_NERR];

/*
 * http_serve - serve connections accepted on the listening socket lfd (non-
 * blocking) until io->stop says so, cfg->quit_fd reaches end of file, or a
 * fatal error.  Returns 0, or -1 with a message on fd 2 (poll failed, no
 * memory for the connection table).
 */
int http_serve(int lfd, const struct http_config *cfg,
    const struct http_io *io, struct http_counters *cnt);

/* One line of counters ("served N; 400 N, ...") into buf. */
void http_counters_format(const struct http_counters *cnt, char *buf,
    size_t len);

/*
 * The parts the server is made of, public so tests and fuzzers can drive
 * them alone.
 *
 * http_map_path - map a request target (origin form) to root + the
 * normalised path in out.  0, or the status to answer: 400 (bad escape,
 * encoded NUL), 403 (".." above the root), 414 (too long).
 */
int http_map_path(const char *root, const char *target, char *out,
    size_t outlen);
const char *http_content_type(const char *path);
const char *http_reason(int code);

/* The REQUESTS section of both programs' --help, to fd. */
void http_help_requests(int fd);

#endif /* KRANK_EXAMPLES_HTTP_H */
