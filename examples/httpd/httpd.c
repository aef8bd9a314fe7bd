/*
 * httpd - a static-file HTTP/1.1 server on the KRANK TCP/IP stack.
 *   httpd --if SPEC --addr A.B.C.D/N [--gw A.B.C.D] --root DIR [--port P]
 * SPEC is a packet port: tap:NAME, afpacket:IF or wire:NAME.  The files
 * under DIR are loaded into memory at start (the stack's own file system
 * is not used yet; see docs/net.md).  GET and HEAD, keep-alive,
 * Content-Length, 404, 400, 501.  The stack answers ping.  Prints
 * "ready ADDR:PORT" on stdout once listening; stops on SIGTERM/SIGINT.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <krank/krs.h>
#include "net/krs_net.h"

struct file { char *path; char *data; size_t len; };
static struct file *files;
static size_t nfiles, cap;

static void
load_dir(const char *root, const char *rel)
{
	char dpath[4096];
	snprintf(dpath, sizeof(dpath), "%s/%s", root, rel);
	DIR *d = opendir(dpath);
	if (d == NULL) {
		fprintf(stderr, "httpd: %s: %s\n", dpath, strerror(errno));
		exit(1);
	}
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char r[4096], full[8192];
		snprintf(r, sizeof(r), "%s/%s", rel, e->d_name);
		snprintf(full, sizeof(full), "%s/%s", root, r);
		struct stat st;
		if (stat(full, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			load_dir(root, r);
			continue;
		}
		if (!S_ISREG(st.st_mode))
			continue;
		FILE *f = fopen(full, "rb");
		if (f == NULL)
			continue;
		char *data = malloc((size_t)st.st_size + 1);
		size_t n = fread(data, 1, (size_t)st.st_size, f);
		fclose(f);
		if (nfiles == cap) {
			cap = cap ? cap * 2 : 64;
			files = realloc(files, cap * sizeof(*files));
		}
		files[nfiles].path = strdup(r[0] == '/' ? r : r);
		files[nfiles].data = data;
		files[nfiles].len = n;
		nfiles++;
	}
	closedir(d);
}

static const struct file *
find(const char *path)
{
	for (size_t i = 0; i < nfiles; i++)
		if (strcmp(files[i].path, path) == 0)
			return &files[i];
	return NULL;
}

#define MAXCONN 64
#define REQMAX 8192
struct conn { int fd; size_t len; char req[REQMAX]; };
static struct conn conns[MAXCONN];
static int nconn;
static volatile sig_atomic_t stop;
static unsigned long served, notfound;

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

/* Answer one complete request in c->req[0..end); returns 0 to keep the
 * connection, -1 to close it. */
static int
respond(struct conn *c, size_t end)
{
	char method[16], target[2048], version[16], hdr[512];
	c->req[end - 1] = '\0';
	if (sscanf(c->req, "%15s %2047s %15s", method, target, version) != 3 ||
	    strncmp(version, "HTTP/1.", 7) != 0) {
		const char *r = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n"
		    "Connection: close\r\n\r\n";
		send_all(c->fd, r, strlen(r));
		return -1;
	}
	bool close_after = strcmp(version, "HTTP/1.0") == 0;
	for (char *h = strstr(c->req, "\r\n"); h != NULL; h = strstr(h + 2, "\r\n"))
		if (strncasecmp(h + 2, "Connection:", 11) == 0) {
			const char *v = h + 13;
			while (*v == ' ')
				v++;
			if (strncasecmp(v, "close", 5) == 0)
				close_after = true;
			else if (strncasecmp(v, "keep-alive", 10) == 0)
				close_after = false;
		}
	bool head = strcmp(method, "HEAD") == 0;
	if (!head && strcmp(method, "GET") != 0) {
		int n = snprintf(hdr, sizeof(hdr), "HTTP/1.1 501 Not Implemented\r\n"
		    "Content-Length: 0\r\nConnection: close\r\n\r\n");
		send_all(c->fd, hdr, (size_t)n);
		return -1;
	}
	char *q = strchr(target, '?');
	if (q != NULL)
		*q = '\0';
	if (strcmp(target, "/") == 0)
		strcpy(target, "/index.html");
	const struct file *f = strstr(target, "..") ? NULL : find(target);
	if (f == NULL) {
		static const char body[] = "404 not found\n";
		notfound++;
		int n = snprintf(hdr, sizeof(hdr), "HTTP/1.1 404 Not Found\r\n"
		    "Content-Type: text/plain\r\nContent-Length: %zu\r\n"
		    "Connection: %s\r\n\r\n", sizeof(body) - 1,
		    close_after ? "close" : "keep-alive");
		if (send_all(c->fd, hdr, (size_t)n) != 0 ||
		    (!head && send_all(c->fd, body, sizeof(body) - 1) != 0))
			return -1;
		return close_after ? -1 : 0;
	}
	served++;
	int n = snprintf(hdr, sizeof(hdr), "HTTP/1.1 200 OK\r\n"
	    "Content-Type: application/octet-stream\r\nContent-Length: %zu\r\n"
	    "Connection: %s\r\n\r\n", f->len, close_after ? "close" : "keep-alive");
	if (send_all(c->fd, hdr, (size_t)n) != 0 ||
	    (!head && send_all(c->fd, f->data, f->len) != 0))
		return -1;
	return close_after ? -1 : 0;
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
	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--if") == 0)
			spec = argv[i + 1];
		else if (strcmp(argv[i], "--addr") == 0)
			addr = argv[i + 1];
		else if (strcmp(argv[i], "--gw") == 0)
			gw = argv[i + 1];
		else if (strcmp(argv[i], "--root") == 0)
			root = argv[i + 1];
		else if (strcmp(argv[i], "--port") == 0)
			port = atoi(argv[i + 1]);
	}
	if (spec == NULL || addr == NULL || root == NULL) {
		fprintf(stderr, "usage: httpd --if SPEC --addr A.B.C.D/N "
		    "[--gw A.B.C.D] --root DIR [--port P]\n");
		return 2;
	}
	load_dir(root, "");
	char err[256], name[32];
	if (krs_boot("vfs,net,ether,virtif,socket,inet", err, sizeof(err)) != 0) {
		fprintf(stderr, "httpd: boot: %s\n", err);
		return 1;
	}
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
	char shown[64];
	snprintf(shown, sizeof(shown), "%s", addr);
	*strchrnul(shown, '/') = '\0';
	printf("ready %s:%d %zu files\n", shown, port, nfiles);
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
			c->len += (size_t)n;
			c->req[c->len] = '\0';
			/* Serve every complete request buffered (pipelining). */
			char *endp;
			int keep = 0;
			while ((endp = strstr(c->req, "\r\n\r\n")) != NULL) {
				size_t end = (size_t)(endp - c->req) + 4;
				keep = respond(c, end);
				memmove(c->req, c->req + end, c->len - end + 1);
				c->len -= end;
				if (keep != 0)
					break;
			}
			if (keep != 0 || c->len >= REQMAX - 1)
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
				nconn++;
			}
		}
	}
	while (nconn > 0)
		drop(nconn - 1);
	krs_close(l);
	fprintf(stderr, "httpd: served %lu, not found %lu\n", served, notfound);
	krs_shutdown();
	return 0;
}
