/*
 * httpd - a static-file HTTP/1.1 server on KRANK: the TCP/IP stack of
 * rumpdrv/net in front, the vfs behind.  Files are served from the stack's
 * own file system: a host tree copied into tmpfs at start, or an ext2
 * image mounted read-only.  The server itself is http.c (shared with the
 * isolate httpd_iso.c), driven here through krs_ calls.  The program is an
 * application: it may use the host (it reads the host tree to copy it);
 * everything it serves goes through krs_ calls.  See usage().
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <krank/krs.h>
#include <krank/krs_net.h>
#include "http.h"
#include "ex_util.h"

#define DOCROOT		"/www"		/* where the served tree is mounted */
#define MAXCONN		64
#define HEADER_TIMEOUT_MS 10000
#define IDLE_TIMEOUT_MS	5000

static void
usage(FILE *out)
{
	fprintf(out,
"NAME\n"
"    httpd - static-file HTTP/1.1 server on the KRANK TCP/IP stack\n"
"\n"
"SYNOPSIS\n"
"    httpd --if SPEC --addr A.B.C.D/N --root DIR|ext2:IMAGE\n"
"          [--gw A.B.C.D] [--port P] [--max-conn N]\n"
"          [--header-timeout D] [--idle-timeout D]\n"
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
"    --max-conn N\n"
"        Connections served at once (default %d).\n"
"    --header-timeout D\n"
"        Time a client has to send a whole header block (default %d s;\n"
"        D is N, Ns, Nms or Nm).\n"
"    --idle-timeout D\n"
"        Time a kept-alive connection may wait for its next request, and\n"
"        a client may take no byte of an answer (default %d s).\n"
"    --help\n"
"        This text.\n"
"\n", MAXCONN, HEADER_TIMEOUT_MS / 1000, IDLE_TIMEOUT_MS / 1000);
	fflush(out);
	http_help_requests(fileno(out));
	fprintf(out,
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
"    docs/net.md, docs/rumpdrv.md, docs/ext2.md in the KRANK sources;\n"
"    examples/httpd/httpd_iso.c, the same server as a KRANK isolate.\n");
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

/* ---- HTTP: the server of http.c over krs_ calls ---- */

_Static_assert(sizeof(struct http_pollfd) == sizeof(struct krs_pollfd) &&
    offsetof(struct http_pollfd, events) ==
    offsetof(struct krs_pollfd, events) &&
    offsetof(struct http_pollfd, revents) ==
    offsetof(struct krs_pollfd, revents),
    "struct http_pollfd differs from struct krs_pollfd");
_Static_assert(HTTP_POLLIN == KRS_POLLIN && HTTP_POLLOUT == KRS_POLLOUT &&
    HTTP_POLLERR == KRS_POLLERR && HTTP_POLLHUP == KRS_POLLHUP &&
    HTTP_POLLNVAL == KRS_POLLNVAL, "poll flags differ");

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int
io_accept(int lfd)
{
	int fd = krs_accept(lfd, NULL, NULL);
	if (fd >= 0 && krs_fcntl(fd, KRS_F_SETFL, KRS_O_NONBLOCK) != 0) {
		int e = errno;
		krs_close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static ssize_t
io_recv(int fd, void *buf, size_t len)
{
	return krs_recv(fd, buf, len, KRS_MSG_DONTWAIT);
}

static ssize_t
io_send(int fd, const void *buf, size_t len)
{
	return krs_send(fd, buf, len, KRS_MSG_DONTWAIT);
}

static int
io_shutdown_wr(int fd)
{
	return krs_sock_shutdown(fd, SHUT_WR);
}

static int
io_open(const char *path)
{
	return krs_open(path, KRS_O_RDONLY);
}

static int
io_fstat(int fd, enum http_kind *kind, int64_t *size)
{
	struct krs_stat st;
	if (krs_fstat(fd, &st) != 0)
		return -1;
	*kind = (st.st_mode & KRS_S_IFMT) == KRS_S_IFREG ? HTTP_KIND_REG :
	    (st.st_mode & KRS_S_IFMT) == KRS_S_IFDIR ? HTTP_KIND_DIR :
	    HTTP_KIND_OTHER;
	*size = st.st_size;
	return 0;
}

static int
io_poll(struct http_pollfd *fds, unsigned nfds, int timeout_ms)
{
	return krs_poll((struct krs_pollfd *)fds, nfds, timeout_ms);
}

static int64_t
io_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
io_stop(void)
{
	return stop;
}

static void
io_date(char *buf, size_t len)
{
	time_t now = time(NULL);
	struct tm tm;
	if (strftime(buf, len, "%a, %d %b %Y %H:%M:%S GMT",
	    gmtime_r(&now, &tm)) == 0 && len > 0)
		buf[0] = '\0';
}

static const struct http_io krs_io = {
	.accept = io_accept, .recv = io_recv, .send = io_send,
	.shutdown_wr = io_shutdown_wr, .close = krs_close, .open = io_open,
	.fstat = io_fstat, .pread = krs_pread, .poll = io_poll,
	.now_ms = io_now_ms, .stop = io_stop, .date = io_date,
};

int
main(int argc, char **argv)
{
	const char *spec = NULL, *addr = NULL, *gw = NULL, *root = NULL;
	int port = 80;
	struct http_config cfg = { .root = DOCROOT, .max_conn = MAXCONN,
	    .header_timeout_ms = HEADER_TIMEOUT_MS,
	    .idle_timeout_ms = IDLE_TIMEOUT_MS, .quit_fd = -1 };
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(o, "--help") == 0 || strcmp(o, "-h") == 0) {
			usage(stdout);
			return 0;
		}
		const char **opt = strcmp(o, "--if") == 0 ? &spec :
		    strcmp(o, "--addr") == 0 ? &addr :
		    strcmp(o, "--gw") == 0 ? &gw :
		    strcmp(o, "--root") == 0 ? &root : NULL;
		int *iopt = strcmp(o, "--header-timeout") == 0 ?
		    &cfg.header_timeout_ms : strcmp(o, "--idle-timeout") == 0 ?
		    &cfg.idle_timeout_ms : NULL;
		bool num = strcmp(o, "--port") == 0 ||
		    strcmp(o, "--max-conn") == 0;
		if (opt == NULL && iopt == NULL && !num) {
			fprintf(stderr, "httpd: %s: unknown option (try --help)\n",
			    o);
			return 2;
		}
		if (v == NULL) {
			fprintf(stderr, "httpd: %s: needs a value (try --help)\n",
			    o);
			return 2;
		}
		i++;
		long n;
		int64_t ms;
		if (opt != NULL)
			*opt = v;
		else if (iopt != NULL) {
			if (ex_duration_ms(v, &ms) != 0 || ms == 0) {
				fprintf(stderr, "httpd: %s %s: not a duration "
				    "(N, Ns, Nms or Nm, not 0)\n", o, v);
				return 2;
			}
			*iopt = (int)ms;
		} else if (strcmp(o, "--port") == 0) {
			if (ex_number(v, 1, 65535, &n) != 0) {
				fprintf(stderr, "httpd: --port %s: not a port\n",
				    v);
				return 2;
			}
			port = (int)n;
		} else {
			if (ex_number(v, 1, 65536, &n) != 0) {
				fprintf(stderr, "httpd: --max-conn %s: not a "
				    "number in 1..65536\n", v);
				return 2;
			}
			cfg.max_conn = (int)n;
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

	struct http_counters cnt;
	memset(&cnt, 0, sizeof(cnt));
	int rv = http_serve(l, &cfg, &krs_io, &cnt);
	krs_close(l);
	char line[512];
	http_counters_format(&cnt, line, sizeof(line));
	fprintf(stderr, "httpd: %s; %lu files, %lu entries skipped\n", line,
	    nfiles, nskipped);
	krs_shutdown();
	return rv == 0 ? 0 : 1;
}
