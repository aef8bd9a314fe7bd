/*
 * httpd - a static-file HTTP/1.1 server on KRANK: the TCP/IP stack of
 * rumpdrv/net in front, the vfs behind.  Files are served from the stack's
 * own file system: a host tree copied into tmpfs at start, or an ext2
 * image mounted read-only.  One thread, krs_poll over the listener and the
 * connections.  The program is an application: it may use the host (it
 * reads the host tree to copy it); everything it serves goes through krs_
 * calls.  See usage() for the options and behaviour.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <krank/krs.h>
#include "net/krs_net.h"

#define DOCROOT		"/www"		/* where the served tree is mounted */
#define MAXCONN		64
#define REQLINE_MAX	4096		/* longer request line: 414 */
#define HDRLINE_MAX	4096		/* longer header line: 431 */
#define REQMAX		16384		/* longer header block: 431 */
#define PATHMAX		1024		/* longer decoded path: 414 */

static void
usage(FILE *out)
{
	fprintf(out,
"NAME\n"
"    httpd - static-file HTTP/1.1 server on the KRANK TCP/IP stack\n"
"\n"
"SYNOPSIS\n"
"    httpd --if SPEC --addr A.B.C.D/N --root DIR|ext2:IMAGE\n"
"          [--gw A.B.C.D] [--port P]\n"
"    httpd --help\n"
"\n"
"DESCRIPTION\n"
"    Boots the KRANK components vfs, tmpfs, ext2, net, ether, virtif,\n"
"    socket and inet in this process, attaches one Ethernet interface,\n"
"    and serves the files of a tree in KRANK's own file system over\n"
"    HTTP/1.1 (and 1.0) on TCP port P.  The stack answers ARP and ping.\n"
"    Once listening it prints \"ready ADDR:PORT N files\" on standard\n"
"    output; it stops on SIGTERM or SIGINT and prints its counters on\n"
"    standard error.\n"
"\n"
"OPTIONS\n"
"    --if SPEC\n"
"        The packet port of the interface: tap:NAME (a tap device, which\n"
"        must exist), afpacket:IF (raw frames on a Linux interface, e.g.\n"
"        one end of a veth pair) or wire:NAME (an in-process wire).\n"
"    --addr A.B.C.D/N\n"
"        The interface's IPv4 address and prefix length.\n"
"    --root DIR\n"
"        Copy the host directory tree DIR (regular files and\n"
"        directories; other kinds are skipped and counted) into a tmpfs\n"
"        at start, through KRANK's system calls, and serve it.  Later\n"
"        changes to DIR are not seen.\n"
"    --root ext2:IMAGE\n"
"        Mount the ext2 file system image IMAGE (a host file, read\n"
"        through KRANK's block device) read-only and serve it.\n"
"    --gw A.B.C.D\n"
"        Default gateway (optional).\n"
"    --port P\n"
"        TCP port (default 80).\n"
"    --help\n"
"        This text.\n"
"\n"
"REQUESTS\n"
"    GET and HEAD of a path below the root.  The query string is\n"
"    ignored; %%XX escapes are decoded; \".\" and empty segments are\n"
"    dropped and \"..\" removes the segment before it.  Answers:\n"
"    200     a regular file, with Content-Length (HEAD: no body).  A\n"
"            directory serves its index.html.\n"
"    400     a malformed request line or header, a bad %%XX escape or\n"
"            an encoded NUL, a target not starting with \"/\", an\n"
"            HTTP/1.1 request without Host, an unknown HTTP version.\n"
"    403     a path that climbs above the root with \"..\".\n"
"    404     no such file, a directory without index.html, or a file\n"
"            that is not regular.\n"
"    405     any other method (with Allow: GET, HEAD).\n"
"    414     a request line over %d bytes or a path over %d bytes.\n"
"    431     a header line over %d bytes or a header block over %d.\n"
"    Connections are kept alive (HTTP/1.1, or HTTP/1.0 with\n"
"    Connection: keep-alive) and requests may be pipelined; 400, 405,\n"
"    414, 431 and requests announcing a body close the connection after\n"
"    the answer.  At most %d connections; more are closed at once.\n"
"\n"
"EXIT STATUS\n"
"    0 after a signal, 1 when the stack, the interface, the port or the\n"
"    root cannot be set up (with a message on standard error), 2 on a\n"
"    usage error.\n"
"\n"
"EXAMPLES\n"
"    ip tuntap add krank0 mode tap; ip addr add 10.11.0.1/24 dev krank0\n"
"    ip link set krank0 up\n"
"    httpd --if tap:krank0 --addr 10.11.0.2/24 --root /srv/www --port 8080\n"
"    mke2fs -q -t ext2 -d /srv/www www.img 16M\n"
"    httpd --if tap:krank0 --addr 10.11.0.2/24 --root ext2:www.img\n"
"\n"
"SEE ALSO\n"
"    docs/net.md, docs/rumpdrv.md, docs/ext2.md in the KRANK sources.\n",
	    REQLINE_MAX, PATHMAX, HDRLINE_MAX, REQMAX, MAXCONN);
}

/* ---- the root: a host tree copied into tmpfs, or an ext2 image ---- */

static unsigned long nfiles, nskipped;

static int
copy_file(const char *host, const char *kpath)
{
	static char buf[65536];
	int in = open(host, O_RDONLY);
	if (in < 0) {
		fprintf(stderr, "httpd: %s: %s\n", host, strerror(errno));
		return -1;
	}
	int out = krs_open(kpath, KRS_O_WRONLY | KRS_O_CREAT | KRS_O_EXCL, 0644);
	if (out < 0) {
		fprintf(stderr, "httpd: krank %s: %s\n", kpath, strerror(errno));
		close(in);
		return -1;
	}
	ssize_t n;
	int rv = 0;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (krs_write(out, buf, (size_t)n) != n) {
			fprintf(stderr, "httpd: krank %s: write: %s\n", kpath,
			    strerror(errno));
			rv = -1;
			break;
		}
	if (n < 0) {
		fprintf(stderr, "httpd: %s: read: %s\n", host, strerror(errno));
		rv = -1;
	}
	close(in);
	krs_close(out);
	return rv;
}

/* Copy host directory host into KRANK directory kpath (which exists). */
static int
copy_tree(const char *host, const char *kpath)
{
	DIR *d = opendir(host);
	if (d == NULL) {
		fprintf(stderr, "httpd: %s: %s\n", host, strerror(errno));
		return -1;
	}
	struct dirent *e;
	int rv = 0;
	while (rv == 0 && (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		char h[4096], k[4096];
		struct stat st;
		if ((size_t)snprintf(h, sizeof(h), "%s/%s", host, e->d_name) >=
		    sizeof(h) || (size_t)snprintf(k, sizeof(k), "%s/%s", kpath,
		    e->d_name) >= sizeof(k)) {
			nskipped++;
			continue;
		}
		if (lstat(h, &st) != 0) {
			fprintf(stderr, "httpd: %s: %s\n", h, strerror(errno));
			rv = -1;
		} else if (S_ISDIR(st.st_mode)) {
			if (krs_mkdir(k, 0755) != 0) {
				fprintf(stderr, "httpd: krank %s: mkdir: %s\n", k,
				    strerror(errno));
				rv = -1;
			} else
				rv = copy_tree(h, k);
		} else if (S_ISREG(st.st_mode)) {
			if ((rv = copy_file(h, k)) == 0)
				nfiles++;
		} else
			nskipped++;
	}
	closedir(d);
	return rv;
}

/* Count the regular files under KRANK directory kpath. */
static void
count_tree(const char *kpath)
{
	static char buf[8192];
	int fd = krs_open(kpath, KRS_O_RDONLY | KRS_O_DIRECTORY);
	if (fd < 0)
		return;
	ssize_t n;
	while ((n = krs_getdents(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t off = 0; off < n;) {
			struct krs_dirent *d = (struct krs_dirent *)(buf + off);
			off += d->d_reclen;
			if (strcmp(d->d_name, ".") == 0 ||
			    strcmp(d->d_name, "..") == 0)
				continue;
			if (d->d_type == KRS_DT_REG)
				nfiles++;
			else if (d->d_type == KRS_DT_DIR) {
				char sub[4096];
				if ((size_t)snprintf(sub, sizeof(sub), "%s/%s",
				    kpath, d->d_name) < sizeof(sub))
					count_tree(sub);
			} else
				nskipped++;
		}
	}
	krs_close(fd);
}

static int
setup_root(const char *root)
{
	if (krs_mount("tmpfs", "/", "tmpfs", 0, NULL, 0) != 0 ||
	    krs_mkdir(DOCROOT, 0755) != 0) {
		fprintf(stderr, "httpd: krank tmpfs root: %s\n", strerror(errno));
		return -1;
	}
	if (strncmp(root, "ext2:", 5) == 0) {
		if (krs_mount(root + 5, DOCROOT, "ext2", KRS_MNT_RDONLY, NULL,
		    0) != 0) {
			fprintf(stderr, "httpd: %s: mount ext2 read-only: %s\n",
			    root + 5, strerror(errno));
			return -1;
		}
		count_tree(DOCROOT);
		return 0;
	}
	struct stat st;
	if (stat(root, &st) != 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "httpd: %s: %s\n", root,
		    errno != 0 ? strerror(errno) : "not a directory");
		return -1;
	}
	return copy_tree(root, DOCROOT);
}

/* ---- HTTP ---- */

struct conn { int fd; size_t len; char req[REQMAX]; };
static struct conn conns[MAXCONN];
static int nconn;
static volatile sig_atomic_t stop;
static unsigned long served, errors[6];	/* 400 403 404 405 414 431 */

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int
send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = krs_send(fd, p, n, 0);
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static const char *
reason(int code)
{
	switch (code) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 414: return "URI Too Long";
	case 431: return "Request Header Fields Too Large";
	default: return "Internal Server Error";
	}
}

static int
send_header(int fd, int code, const char *type, int64_t len, bool close_after,
    const char *extra)
{
	char hdr[512], date[64];
	time_t now = time(NULL);
	struct tm tm;
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT",
	    gmtime_r(&now, &tm));
	int n = snprintf(hdr, sizeof(hdr), "HTTP/1.1 %d %s\r\n"
	    "Server: krank-httpd\r\nDate: %s\r\nContent-Type: %s\r\n"
	    "Content-Length: %lld\r\n%sConnection: %s\r\n\r\n", code,
	    reason(code), date, type, (long long)len, extra != NULL ? extra : "",
	    close_after ? "close" : "keep-alive");
	return send_all(fd, hdr, (size_t)n);
}

/* An error answer with a one-line body; -1 when the connection is to
 * be closed (always for close_after). */
static int
send_error(int fd, int code, bool head, bool close_after)
{
	static const int codes[] = { 400, 403, 404, 405, 414, 431 };
	char body[64];
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (codes[i] == code)
			errors[i]++;
	int n = snprintf(body, sizeof(body), "%d %s\n", code, reason(code));
	if (send_header(fd, code, "text/plain", n, close_after,
	    code == 405 ? "Allow: GET, HEAD\r\n" : NULL) != 0 ||
	    (!head && send_all(fd, body, (size_t)n) != 0))
		return -1;
	return close_after ? -1 : 0;
}

static const char *
content_type(const char *path)
{
	static const struct { const char *ext, *type; } types[] = {
		{ ".html", "text/html" }, { ".htm", "text/html" },
		{ ".txt", "text/plain" }, { ".css", "text/css" },
		{ ".js", "text/javascript" }, { ".json", "application/json" },
		{ ".png", "image/png" }, { ".jpg", "image/jpeg" },
		{ ".gif", "image/gif" }, { ".svg", "image/svg+xml" },
	};
	const char *dot = strrchr(path, '.');
	if (dot != NULL && strchr(dot, '/') == NULL)
		for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			if (strcasecmp(dot, types[i].ext) == 0)
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

/*
 * Map the target (origin form) to a KRANK path under DOCROOT in out.
 * Returns 0, or the status to answer: 400 (bad escape, NUL), 403 (".."
 * above the root), 414 (too long).
 */
static int
map_path(const char *target, char *out, size_t outlen)
{
	char dec[PATHMAX + 1];
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
		if (n == PATHMAX)
			return 414;
		dec[n++] = (char)c;
	}
	dec[n] = '\0';
	/* Resolve "." and ".." lexically; segments are appended to out. */
	size_t base = strlen(DOCROOT), len = base;
	memcpy(out, DOCROOT, base + 1);
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
	return 0;
}

/* Open the file for path (a directory's index.html); the descriptor, or
 * -status. */
static int
open_served(char *path, size_t pathlen, struct krs_stat *st)
{
	int fd = krs_open(path, KRS_O_RDONLY);
	if (fd < 0)
		return errno == EACCES ? -403 : -404;
	if (krs_fstat(fd, st) != 0) {
		krs_close(fd);
		return -404;
	}
	if ((st->st_mode & KRS_S_IFMT) == KRS_S_IFDIR) {
		krs_close(fd);
		size_t l = strlen(path);
		if (l + sizeof("/index.html") > pathlen)
			return -414;
		strcpy(path + l, "/index.html");
		if ((fd = krs_open(path, KRS_O_RDONLY)) < 0)
			return errno == EACCES ? -403 : -404;
		if (krs_fstat(fd, st) != 0) {
			krs_close(fd);
			return -404;
		}
	}
	if ((st->st_mode & KRS_S_IFMT) != KRS_S_IFREG) {
		krs_close(fd);
		return -404;
	}
	return fd;
}

static bool
is_token(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && strchr("!#$%&'*+-.^_`|~", *s) == NULL)
			return false;
	return true;
}

/* Answer one complete request in c->req[0..end) (end is after the empty
 * line); 0 to keep the connection, -1 to close it. */
static int
respond(struct conn *c, size_t end)
{
	char *req = c->req;
	req[end - 2] = '\0';		/* the last CRLF of the block */
	char *eol = strstr(req, "\r\n");
	if (eol != NULL)
		*eol = '\0';
	if (strlen(req) > REQLINE_MAX)
		return send_error(c->fd, 414, false, true);

	/* Request line: METHOD SP TARGET SP HTTP/1.x */
	char *sp1 = strchr(req, ' '), *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
	if (sp1 == NULL || sp2 == NULL || strchr(sp2 + 1, ' ') != NULL)
		return send_error(c->fd, 400, false, true);
	*sp1 = *sp2 = '\0';
	const char *method = req, *target = sp1 + 1, *version = sp2 + 1;
	bool v10 = strcmp(version, "HTTP/1.0") == 0;
	if (!is_token(method) || (!v10 && strcmp(version, "HTTP/1.1") != 0) ||
	    target[0] != '/')
		return send_error(c->fd, 400, false, true);

	/* Headers: name ":" value, one per line. */
	bool close_after = v10, host = false, body = false;
	for (char *h = eol != NULL ? eol + 2 : NULL, *nl; h != NULL && *h != '\0';
	    h = nl) {
		nl = strstr(h, "\r\n");
		if (nl != NULL) {
			*nl = '\0';
			nl += 2;
		}
		if (strlen(h) > HDRLINE_MAX)
			return send_error(c->fd, 431, false, true);
		char *colon = strchr(h, ':');
		if (colon == NULL)
			return send_error(c->fd, 400, false, true);
		*colon = '\0';
		if (!is_token(h))
			return send_error(c->fd, 400, false, true);
		const char *v = colon + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		if (strcasecmp(h, "Host") == 0)
			host = true;
		else if (strcasecmp(h, "Connection") == 0) {
			if (strcasecmp(v, "close") == 0)
				close_after = true;
			else if (strcasecmp(v, "keep-alive") == 0)
				close_after = false;
		} else if ((strcasecmp(h, "Content-Length") == 0 &&
		    strcmp(v, "0") != 0) ||
		    strcasecmp(h, "Transfer-Encoding") == 0)
			body = true;	/* not read: answer, then close */
	}
	if (!v10 && !host)
		return send_error(c->fd, 400, false, true);
	if (body)
		close_after = true;
	bool head = strcmp(method, "HEAD") == 0;
	if (!head && strcmp(method, "GET") != 0)
		return send_error(c->fd, 405, false, true);

	char path[PATHMAX + sizeof(DOCROOT) + 16];
	int status = map_path(target, path, sizeof(path));
	if (status != 0)
		return send_error(c->fd, status, head, close_after || status != 403);
	struct krs_stat st;
	int fd = open_served(path, sizeof(path), &st);
	if (fd < 0)
		return send_error(c->fd, -fd, head, close_after || fd == -414);

	served++;
	int rv = send_header(c->fd, 200, content_type(path), st.st_size,
	    close_after, NULL);
	static char buf[65536];
	for (int64_t left = head ? 0 : st.st_size; rv == 0 && left > 0;) {
		ssize_t n = krs_read(fd, buf, left < (int64_t)sizeof(buf) ?
		    (size_t)left : sizeof(buf));
		if (n <= 0) {
			/* The length is promised; all we can do is close. */
			fprintf(stderr, "httpd: krank %s: read: %s\n", path,
			    n < 0 ? strerror(errno) : "file shrank");
			rv = -1;
			break;
		}
		rv = send_all(c->fd, buf, (size_t)n);
		left -= n;
	}
	krs_close(fd);
	return rv != 0 || close_after ? -1 : 0;
}

/* Serve what c has buffered; -1 to close the connection. */
static int
serve_buffered(struct conn *c)
{
	char *endp;
	while ((endp = strstr(c->req, "\r\n\r\n")) != NULL) {
		size_t end = (size_t)(endp - c->req) + 4;
		if (respond(c, end) != 0)
			return -1;
		memmove(c->req, c->req + end, c->len - end + 1);
		c->len -= end;
	}
	/* Incomplete: refuse lines and blocks that can no longer fit. */
	char *eol = strstr(c->req, "\r\n");
	if ((eol == NULL && c->len > REQLINE_MAX) ||
	    (eol != NULL && (size_t)(eol - c->req) > REQLINE_MAX))
		return send_error(c->fd, 414, false, true);
	if (c->len >= REQMAX - 1)
		return send_error(c->fd, 431, false, true);
	if (eol != NULL) {
		/* A header line still being received. */
		char *last = eol;
		for (char *p; (p = strstr(last + 2, "\r\n")) != NULL;)
			last = p;
		if (strlen(last + 2) > HDRLINE_MAX)
			return send_error(c->fd, 431, false, true);
	}
	return 0;
}

static void
drop(int i)
{
	krs_close(conns[i].fd);
	conns[i] = conns[--nconn];
}

int
main(int argc, char **argv)
{
	const char *spec = NULL, *addr = NULL, *gw = NULL, *root = NULL;
	int port = 80;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		}
		const char **opt = strcmp(argv[i], "--if") == 0 ? &spec :
		    strcmp(argv[i], "--addr") == 0 ? &addr :
		    strcmp(argv[i], "--gw") == 0 ? &gw :
		    strcmp(argv[i], "--root") == 0 ? &root : NULL;
		if (i + 1 >= argc || (opt == NULL && strcmp(argv[i], "--port") != 0)) {
			fprintf(stderr, "httpd: %s: %s (try --help)\n", argv[i],
			    i + 1 >= argc && opt != NULL ? "needs a value" :
			    "unknown option");
			return 2;
		}
		if (opt != NULL)
			*opt = argv[++i];
		else {
			char *e;
			long p = strtol(argv[++i], &e, 10);
			if (*e != '\0' || p < 1 || p > 65535) {
				fprintf(stderr, "httpd: --port %s: not a port\n",
				    argv[i]);
				return 2;
			}
			port = (int)p;
		}
	}
	if (spec == NULL || addr == NULL || root == NULL) {
		fprintf(stderr, "httpd: --if, --addr and --root are required "
		    "(try --help)\n");
		return 2;
	}
	char err[256], name[32];
	if (krs_boot("vfs,tmpfs,ext2,net,ether,virtif,socket,inet", err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "httpd: boot: %s\n", err);
		return 1;
	}
	if (setup_root(root) != 0)
		return 1;
	if (krs_if_virt_attach(spec, name, sizeof(name)) != 0 ||
	    krs_if_setaddr(name, addr) != 0 || krs_if_up(name, 1) != 0 ||
	    (gw != NULL && krs_route_add("0.0.0.0/0", gw, NULL) != 0)) {
		fprintf(stderr, "httpd: %s %s: %s\n", spec, addr, strerror(errno));
		return 1;
	}
	int l = krs_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	int one = 1;
	krs_setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	if (krs_bind(l, &a, sizeof(a)) != 0 || krs_listen(l, 64) != 0) {
		fprintf(stderr, "httpd: port %d: %s\n", port, strerror(errno));
		return 1;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	char shown[64];
	snprintf(shown, sizeof(shown), "%s", addr);
	*strchrnul(shown, '/') = '\0';
	printf("ready %s:%d %lu files\n", shown, port, nfiles);
	fflush(stdout);

	while (!stop) {
		struct krs_pollfd pf[1 + MAXCONN];
		pf[0].fd = l;
		pf[0].events = KRS_POLLIN;
		for (int i = 0; i < nconn; i++) {
			pf[1 + i].fd = conns[i].fd;
			pf[1 + i].events = KRS_POLLIN;
		}
		if (krs_poll(pf, 1 + (unsigned)nconn, 200) <= 0)
			continue;
		for (int i = nconn - 1; i >= 0; i--) {
			if (!pf[1 + i].revents)
				continue;
			struct conn *c = &conns[i];
			ssize_t n = krs_recv(c->fd, c->req + c->len,
			    REQMAX - 1 - c->len, KRS_MSG_DONTWAIT);
			if (n == 0 || (n < 0 && errno != EAGAIN)) {
				drop(i);
				continue;
			}
			if (n < 0)
				continue;
			/* A NUL in the request would hide the rest: 400. */
			if (memchr(c->req + c->len, '\0', (size_t)n) != NULL) {
				send_error(c->fd, 400, false, true);
				drop(i);
				continue;
			}
			c->len += (size_t)n;
			c->req[c->len] = '\0';
			if (serve_buffered(c) != 0)
				drop(i);
		}
		if (pf[0].revents & KRS_POLLIN) {
			int fd;
			while ((fd = krs_accept(l, NULL, NULL)) >= 0) {
				if (nconn == MAXCONN) {
					krs_close(fd);
					continue;
				}
				conns[nconn].fd = fd;
				conns[nconn].len = 0;
				conns[nconn].req[0] = '\0';
				nconn++;
			}
		}
	}
	while (nconn > 0)
		drop(nconn - 1);
	krs_close(l);
	fprintf(stderr, "httpd: served %lu; 400 %lu, 403 %lu, 404 %lu, "
	    "405 %lu, 414 %lu, 431 %lu; %lu files, %lu entries skipped\n",
	    served, errors[0], errors[1], errors[2], errors[3], errors[4],
	    errors[5], nfiles, nskipped);
	krs_shutdown();
	return 0;
}
