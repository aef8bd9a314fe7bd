/*
 * test_net_fd.c - sockets are descriptors of the vfs's per-context tables:
 * files and sockets share the numbers (lowest free first); read, write,
 * readv, writev, fstat, dup, dup2, fcntl and poll work on both; socket
 * calls on a file give ENOTSOCK, lseek and pread on a socket ESPIPE; poll
 * over many sockets mixed with files; a socket made in one context is
 * invisible in another and closed when that context is destroyed; a stack
 * with open sockets cannot be destroyed; shutdown closes what is left.
 * Links kern, vfs, tmpfs and the net components; talks over loopback.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>

#include <krank/krs.h>
#include "net/krs_net.h"
#include "rdtest.h"
#include "rdtest_net.h"

static int
udp_bound(int port)
{
	int s = krs_socket(AF_INET, SOCK_DGRAM, 0);
	CHECK(s >= 0, "udp socket");
	struct sockaddr_in a = rd_sin4("127.0.0.1", port);
	CHECK(krs_bind(s, &a, sizeof(a)) == 0, "bind 127.0.0.1:%d", port);
	return s;
}

/* A connected TCP pair over loopback: *c the client, *s the accepted. */
static void
tcp_pair(int port, int *c, int *s)
{
	int l = krs_socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = rd_sin4("127.0.0.1", port);
	CHECK(l >= 0 && krs_bind(l, &a, sizeof(a)) == 0 && krs_listen(l, 4) == 0,
	    "listen on %d", port);
	*c = krs_socket(AF_INET, SOCK_STREAM, 0);
	CHECK(*c >= 0 && krs_connect(*c, &a, sizeof(a)) == 0, "connect");
	*s = krs_accept(l, NULL, NULL);
	CHECK(*s >= 0, "accept");
	krs_close(l);
}

struct writer {
	int fd;
	const char *msg;
};

static void *
write_later(void *arg)
{
	struct writer *w = arg;
	CHECK(krs_write(w->fd, w->msg, strlen(w->msg)) == (ssize_t)strlen(w->msg),
	    "writer thread");
	return NULL;
}

static void
test_numbers_and_io(void)
{
	char buf[256];
	struct krs_stat st;

	int f = krs_open("/file", KRS_O_RDWR | KRS_O_CREAT, 0644);
	CHECK(f == 0, "first file is descriptor 0: %d", f);
	int u = krs_socket(AF_INET, SOCK_DGRAM, 0);
	CHECK(u == 1, "a socket takes the next number, 1: %d", u);
	CHECK(krs_close(f) == 0, "close the file");
	int u2 = krs_socket(AF_INET, SOCK_DGRAM, 0);
	CHECK(u2 == 0, "a new socket reuses the lowest free number, 0: %d", u2);
	f = krs_open("/file", KRS_O_RDWR);
	CHECK(f == 2, "and a file the next: %d", f);
	krs_close(u);
	krs_close(u2);
	PASS("files and sockets share one table, lowest free number first");

	CHECK(krs_fstat(f, &st) == 0 && (st.st_mode & KRS_S_IFMT) == KRS_S_IFREG,
	    "fstat file: regular");
	int c, s;
	tcp_pair(6001, &c, &s);
	CHECK(krs_fstat(s, &st) == 0 && (st.st_mode & KRS_S_IFMT) == KRS_S_IFSOCK,
	    "fstat socket: S_IFSOCK");
	CHECK(krs_write(c, "hello", 5) == 5, "write on a socket");
	CHECK(krs_read(s, buf, sizeof(buf)) == 5 && memcmp(buf, "hello", 5) == 0,
	    "read on a socket");
	struct krs_iovec wv[3] = { { "ab", 2 }, { "", 0 }, { "cdefg", 5 } };
	CHECK(krs_writev(c, wv, 3) == 7, "writev on a socket");
	char p1[3], p2[10];
	struct krs_iovec rv[2] = { { p1, 3 }, { p2, sizeof(p2) } };
	CHECK(krs_readv(s, rv, 2) == 7, "readv on a socket: one 7-byte segment");
	CHECK(memcmp(p1, "abc", 3) == 0 && memcmp(p2, "defg", 4) == 0,
	    "readv scatters: %.3s|%.4s", p1, p2);
	PASS("read/write/readv/writev/fstat on TCP sockets and files alike");

	/* A datagram written with writev stays one datagram. */
	int a = udp_bound(6002), b = udp_bound(6003);
	struct sockaddr_in to = rd_sin4("127.0.0.1", 6003);
	CHECK(krs_connect(a, &to, sizeof(to)) == 0, "connect udp");
	struct krs_iovec dv[2] = { { "one", 3 }, { "two", 3 } };
	CHECK(krs_writev(a, dv, 2) == 6, "writev datagram");
	CHECK(krs_recv(b, buf, sizeof(buf), 0) == 6 &&
	    memcmp(buf, "onetwo", 6) == 0, "one 6-byte datagram");
	CHECK(krs_write(a, "x", 1) == 1 && krs_read(b, buf, 10) == 1, "write/read UDP");

	/* Socket calls on a file, file calls on a socket. */
	struct sockaddr_in any = rd_sin4("127.0.0.1", 6004);
	CHECK_ERR(krs_send(f, "x", 1, 0), ENOTSOCK);
	CHECK_ERR(krs_recv(f, buf, 1, KRS_MSG_DONTWAIT), ENOTSOCK);
	CHECK_ERR(krs_bind(f, &any, sizeof(any)), ENOTSOCK);
	CHECK_ERR(krs_connect(f, &any, sizeof(any)), ENOTSOCK);
	CHECK_ERR(krs_listen(f, 1), ENOTSOCK);
	CHECK_ERR(krs_accept(f, NULL, NULL), ENOTSOCK);
	int one = 1;
	CHECK_ERR(krs_setsockopt(f, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)),
	    ENOTSOCK);
	CHECK_ERR(krs_sock_shutdown(f, 1), ENOTSOCK);
	CHECK_ERR(krs_send(99, "x", 1, 0), EBADF);
	CHECK_ERR(krs_lseek(s, 0, KRS_SEEK_SET), ESPIPE);
	CHECK_ERR(krs_pread(s, buf, 1, 0), ESPIPE);
	CHECK_ERR(krs_pwrite(s, "x", 1, 0), ESPIPE);
	CHECK_ERR(krs_fsync(s), EINVAL);
	CHECK_ERR(krs_ftruncate(s, 0), EINVAL);
	CHECK_ERR(krs_getdents(s, buf, sizeof(buf)), ENOTDIR);
	CHECK_ERR(krs_openat(s, "x", KRS_O_RDONLY), ENOTDIR);
	PASS("ENOTSOCK for socket calls on a file; ESPIPE, EINVAL, ENOTDIR for file calls on a socket");

	/* dup, dup2, fcntl. */
	int d = krs_dup(s);
	CHECK(d >= 0 && krs_close(s) == 0, "dup, close the original");
	CHECK(krs_write(c, "dup", 3) == 3 && krs_read(d, buf, 3) == 3 &&
	    memcmp(buf, "dup", 3) == 0, "the duplicate still reads");
	CHECK(krs_dup2(d, f) == f, "dup2 socket over the file");
	CHECK(krs_fstat(f, &st) == 0 && (st.st_mode & KRS_S_IFMT) == KRS_S_IFSOCK,
	    "the file's number is now the socket");
	CHECK(krs_close(d) == 0, "close one of two");
	CHECK(krs_fcntl(f, KRS_F_GETFL) == KRS_O_RDWR, "F_GETFL socket: O_RDWR");
	CHECK(krs_fcntl(f, KRS_F_SETFL, KRS_O_NONBLOCK) == 0 &&
	    krs_fcntl(f, KRS_F_GETFL) == (KRS_O_RDWR | KRS_O_NONBLOCK),
	    "F_SETFL O_NONBLOCK");
	CHECK_ERR(krs_read(f, buf, 1), EAGAIN);
	CHECK_ERR(krs_recv(f, buf, 1, 0), EAGAIN);
	CHECK(krs_fcntl(f, KRS_F_SETFL, 0) == 0, "back to blocking");
	struct writer w = { c, "late" };
	pthread_t t;
	pthread_create(&t, NULL, write_later, &w);
	CHECK(krs_read(f, buf, 4) == 4 && memcmp(buf, "late", 4) == 0,
	    "a blocking read waits for the writer");
	pthread_join(t, NULL);
	int nb = krs_socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	CHECK((krs_fcntl(nb, KRS_F_GETFL) & KRS_O_NONBLOCK) &&
	    krs_read(nb, buf, 1) == -1 && errno == EAGAIN,
	    "SOCK_NONBLOCK shows as O_NONBLOCK");
	PASS("dup/dup2 between sockets and files, fcntl O_NONBLOCK on sockets");

	/* The peer sees EOF once every descriptor of s is closed. */
	CHECK(krs_close(f) == 0, "close the last descriptor of s");
	CHECK(krs_read(c, buf, sizeof(buf)) == 0, "the peer reads EOF");
	krs_close(c);
	krs_close(a);
	krs_close(b);
	krs_close(nb);
	PASS("closing the last duplicate closes the connection");
}

static void
test_poll_mixed(void)
{
	enum { NS = 64 };
	struct krs_pollfd pf[NS + 2];
	int so[NS];
	char buf[16];

	int f = krs_open("/file", KRS_O_RDWR);
	for (int i = 0; i < NS; i++) {
		so[i] = udp_bound(7000 + i);
		pf[i] = (struct krs_pollfd){ .fd = so[i], .events = KRS_POLLIN };
	}
	pf[NS] = (struct krs_pollfd){ .fd = f, .events = 0 };
	pf[NS + 1] = (struct krs_pollfd){ .fd = -1, .events = KRS_POLLIN };
	CHECK(krs_poll(pf, NS + 2, 0) == 0, "nothing ready yet");
	CHECK(krs_poll(pf, NS + 2, 50) == 0, "timeout with nothing ready");

	/* Wake a blocked poll from another thread: datagram to socket 37. */
	int tx = krs_socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in to = rd_sin4("127.0.0.1", 7037);
	CHECK(krs_connect(tx, &to, sizeof(to)) == 0, "connect to 37");
	struct writer w = { tx, "ping" };
	pthread_t t;
	pthread_create(&t, NULL, write_later, &w);
	int r = krs_poll(pf, NS + 2, -1);
	pthread_join(t, NULL);
	CHECK(r == 1 && pf[37].revents == KRS_POLLIN, "poll wakes for socket 37 "
	    "only: %d", r);
	for (int i = 0; i < NS + 2; i++)
		CHECK(i == 37 || pf[i].revents == 0, "no other revents (%d)", i);

	/* A file asking for input is ready at once, next to sockets. */
	pf[NS].events = KRS_POLLIN | KRS_POLLOUT;
	CHECK(krs_poll(pf, NS + 2, -1) == 2 && pf[NS].revents ==
	    (KRS_POLLIN | KRS_POLLOUT) && pf[37].revents == KRS_POLLIN,
	    "file and socket ready together");
	CHECK(krs_recv(so[37], buf, sizeof(buf), 0) == 4, "drain 37");
	CHECK(krs_poll(pf, NS, 0) == 0, "sockets quiet again");
	for (int i = 0; i < NS; i++)
		krs_close(so[i]);
	krs_close(tx);
	krs_close(f);
	PASS("poll over 64 UDP sockets, a file and a negative fd: wakeup, timeout, mixed readiness");
}

static void
test_contexts(void)
{
	struct krs_ctx *a, *b;
	uint32_t alen;
	struct sockaddr_in sa;

	CHECK(krs_ctx_create(0, 0, &a) == 0 && krs_ctx_create(0, 0, &b) == 0,
	    "two contexts");
	CHECK(krs_ctx_enter(a) == 0, "enter a");
	int sa_fd = udp_bound(8000);
	CHECK(sa_fd == 0, "a's table starts empty: socket is 0 (%d)", sa_fd);
	krs_ctx_leave();

	CHECK(krs_ctx_enter(b) == 0, "enter b");
	alen = sizeof(sa);
	CHECK_ERR(krs_getsockname(sa_fd, &sa, &alen), EBADF);
	CHECK_ERR(krs_write(sa_fd, "x", 1), EBADF);
	int sb_fd = krs_socket(AF_INET, SOCK_DGRAM, 0);
	CHECK(sb_fd == 0, "b's own socket is also 0 (%d)", sb_fd);
	struct sockaddr_in p = rd_sin4("127.0.0.1", 8000);
	CHECK_ERR(krs_bind(sb_fd, &p, sizeof(p)), EADDRINUSE);
	alen = sizeof(sa);
	CHECK(krs_getsockname(sb_fd, &sa, &alen) == 0 && sa.sin_port == 0,
	    "b's 0 is b's socket, not a's (unbound)");
	krs_ctx_leave();
	PASS("a socket of context a is invisible in context b, which numbers its own from 0");

	CHECK(krs_ctx_destroy(a) == 0, "destroy a");
	int again = krs_socket(AF_INET, SOCK_DGRAM, 0);
	CHECK(krs_bind(again, &p, sizeof(p)) == 0,
	    "port 8000 is free once a (and its socket) is gone");
	krs_close(again);
	/* b keeps its socket open: krs_shutdown must close it. */
	PASS("destroying a context closes its sockets");
	(void)b;
}

static void
test_stack_busy(void)
{
	int id = krs_net_stack_create("busy");
	CHECK(id > 0 && krs_net_stack_select(id) == 0, "stack busy");
	int s = krs_socket(AF_INET, SOCK_STREAM, 0);
	CHECK(s >= 0, "socket in it");
	int d = krs_dup(s);
	CHECK(krs_close(s) == 0, "close one descriptor");
	CHECK_ERR(krs_net_stack_destroy(id), EBUSY);
	CHECK(krs_close(d) == 0, "close the other");
	CHECK(krs_net_stack_select(0) == 0 && krs_net_stack_destroy(id) == 0,
	    "destroyable once no descriptor names its sockets");
	PASS("a stack with open sockets (even via a dup) cannot be destroyed");
}

int
main(void)
{
	char err[256];
	CHECK(krs_boot("vfs,tmpfs,net,ether,virtif,socket,inet", err,
	    sizeof(err)) == 0, "boot: %s", err);
	CHECK(krs_mount("t", "/", "tmpfs", 0, NULL, 0) == 0, "mount tmpfs");
	CHECK(krs_net_stack_select(0) == 0, "stack 0");
	test_numbers_and_io();
	test_poll_mixed();
	test_contexts();
	test_stack_busy();
	int left = krs_socket(AF_INET, SOCK_STREAM, 0);
	CHECK(left >= 0, "a socket left open for shutdown");
	CHECK(krs_shutdown() == 0, "shutdown closes the sockets left open");
	DONE();
}
