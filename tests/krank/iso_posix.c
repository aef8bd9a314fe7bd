/*
 * iso_posix.c - an ordinary POSIX program, built twice: by krank-cc into
 * an isolate that runs over KRANK's syscall layer (tests/krank/krk_sys_run)
 * and by gcc for Linux.  test_krk_sys.sh requires both runs to print the
 * same lines, which shows the isolate headers are ordinary POSIX and the
 * shims behave as Linux does.  Prints only what is the same everywhere
 * (no descriptor numbers, addresses or times).
 *   iso_posix [-o FILE] DIR   (an empty directory to work in)
 * -o FILE: print into FILE instead (dup2 onto descriptor 1), so that an
 * isolate's output can be read back exactly rather than from KRANK's
 * console log.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

static int failures;

#define CHECK(cond, ...) do {						\
	int e_ = errno;							\
	if (cond) {							\
		printf("ok - ");					\
	} else {							\
		printf("FAIL (errno %d %s) - ", e_, strerror(e_));	\
		failures++;						\
	}								\
	printf(__VA_ARGS__);						\
	printf("\n");							\
} while (0)

/* expr fails with the given errno. */
#define FAILS(expr, err, what) do {					\
	errno = 0;							\
	long r_ = (long)(expr);						\
	int e_ = errno;							\
	if (r_ == -1 && e_ == (err))					\
		printf("ok - %s: %s\n", what, strerror(e_));		\
	else {								\
		printf("FAIL - %s: got %ld errno %d\n", what, r_, e_);	\
		failures++;						\
	}								\
} while (0)

static char base[256];

static const char *
path(const char *name)
{
	static char buf[2][512];
	static int i;

	i ^= 1;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", base, name);
	return buf[i];
}

static int
cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
test_files(void)
{
	char buf[64];
	struct stat st;

	CHECK(mkdir(path("d"), 0755) == 0, "mkdir d");
	int fd = open(path("d/a"), O_RDWR | O_CREAT | O_TRUNC, 0644);
	CHECK(fd >= 0, "open d/a O_CREAT");
	CHECK(write(fd, "hello world", 11) == 11, "write 11 bytes");
	CHECK(lseek(fd, 0, SEEK_SET) == 0, "lseek to 0");
	memset(buf, 0, sizeof(buf));
	CHECK(read(fd, buf, sizeof(buf)) == 11 && strcmp(buf, "hello world") == 0,
	    "read back '%s'", buf);
	CHECK(read(fd, buf, sizeof(buf)) == 0, "read at end gives 0");
	CHECK(lseek(fd, 0, SEEK_END) == 11, "lseek SEEK_END is 11");
	CHECK(pwrite(fd, "KRANK", 5, 6) == 5, "pwrite at 6");
	memset(buf, 0, sizeof(buf));
	CHECK(pread(fd, buf, 11, 0) == 11 && strcmp(buf, "hello KRANK") == 0,
	    "pread '%s'", buf);
	struct iovec iov[2] = { { "ab", 2 }, { "cde", 3 } };
	CHECK(lseek(fd, 0, SEEK_END) == 11 && writev(fd, iov, 2) == 5,
	    "writev 2+3 bytes");
	char x[4] = { 0 }, y[8] = { 0 };
	struct iovec riov[2] = { { x, 3 }, { y, 7 } };
	CHECK(lseek(fd, 6, SEEK_SET) == 6 && readv(fd, riov, 2) == 10 &&
	    strcmp(x, "KRA") == 0 && strcmp(y, "NKabcde") == 0,
	    "readv '%s' '%s'", x, y);
	CHECK(fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 16 &&
	    (st.st_mode & 0777) == 0644, "fstat: regular, 16 bytes, mode %o",
	    (unsigned)(st.st_mode & 0777));
	CHECK(ftruncate(fd, 5) == 0 && fstat(fd, &st) == 0 && st.st_size == 5,
	    "ftruncate to 5");
	CHECK(fsync(fd) == 0, "fsync");
	int fl = fcntl(fd, F_GETFL);
	CHECK(fl >= 0 && (fl & O_ACCMODE) == O_RDWR, "F_GETFL says O_RDWR");
	CHECK(fcntl(fd, F_SETFD, FD_CLOEXEC) == 0 &&
	    fcntl(fd, F_GETFD) == FD_CLOEXEC, "F_SETFD/F_GETFD FD_CLOEXEC");
	int d2 = dup(fd);
	CHECK(d2 >= 0 && d2 != fd && lseek(d2, 0, SEEK_CUR) == lseek(fd, 0,
	    SEEK_CUR), "dup shares the offset");
	CHECK(dup2(fd, d2) == d2, "dup2 onto an open descriptor");
	CHECK(close(d2) == 0 && close(fd) == 0, "close both");
	CHECK(stat(path("d"), &st) == 0 && S_ISDIR(st.st_mode), "stat d: dir");
	CHECK(rename(path("d/a"), path("d/b")) == 0, "rename d/a d/b");
	FAILS(stat(path("d/a"), &st), ENOENT, "stat d/a after rename");
	CHECK(lstat(path("d/b"), &st) == 0 && st.st_size == 5, "lstat d/b");
	fd = open(path("d/c"), O_WRONLY | O_CREAT | O_EXCL, 0600);
	CHECK(fd >= 0 && close(fd) == 0, "create d/c");
	FAILS(open(path("d/c"), O_WRONLY | O_CREAT | O_EXCL, 0600), EEXIST,
	    "O_EXCL on an existing file");

	DIR *dir = opendir(path("d"));
	char *names[8];
	int n = 0;
	struct dirent *de;
	CHECK(dir != NULL, "opendir d");
	while (dir != NULL && (de = readdir(dir)) != NULL)
		if (n < 8 && strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			names[n++] = strdup(de->d_name);
	CHECK(dir != NULL && closedir(dir) == 0, "closedir");
	qsort(names, (size_t)n, sizeof(names[0]), cmpstr);
	CHECK(n == 2 && strcmp(names[0], "b") == 0 && strcmp(names[1], "c") == 0,
	    "readdir lists %d names: %s %s", n, n > 0 ? names[0] : "",
	    n > 1 ? names[1] : "");
	for (int i = 0; i < n; i++)
		free(names[i]);
	FAILS(rmdir(path("d")), ENOTEMPTY, "rmdir a non-empty directory");
	CHECK(unlink(path("d/b")) == 0 && unlink(path("d/c")) == 0,
	    "unlink d/b d/c");
	CHECK(rmdir(path("d")) == 0, "rmdir d");
	FAILS(stat(path("d"), &st), ENOENT, "stat d after rmdir");
	char cwd[512];
	CHECK(chdir(base) == 0 && getcwd(cwd, sizeof(cwd)) != NULL &&
	    strcmp(cwd, base) == 0, "chdir and getcwd");
}

static void
test_errors(void)
{
	char buf[16];
	int fd = open(path("e"), O_RDWR | O_CREAT, 0644);
	/* volatile: the compiler must not see the NULL and refuse it */
	char *volatile null = NULL;

	/* data to read: Linux reports EFAULT only when it has bytes to copy */
	CHECK(write(fd, "0123456789", 10) == 10 && lseek(fd, 0, SEEK_SET) == 0,
	    "a file with 10 bytes");

	FAILS(read(-1, buf, 1), EBADF, "read(-1)");
	FAILS(close(100000), EBADF, "close of a number never opened");
	FAILS(open(path("missing/x"), O_RDONLY), ENOENT, "open missing/x");
	FAILS(read(fd, null, 10), EFAULT, "read into NULL");
	FAILS(write(fd, null, 10), EFAULT, "write from NULL");
	FAILS(stat(null, (struct stat *)null), EFAULT, "stat(NULL)");
	FAILS(read(fd, (char *)0xffff800000001000ull, 10), EFAULT,
	    "read into a kernel address");
	int one = 1;
	FAILS(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)),
	    ENOTSOCK, "setsockopt on a file");
	FAILS(listen(fd, 1), ENOTSOCK, "listen on a file");
	FAILS(lseek(-5, 0, SEEK_SET), EBADF, "lseek(-5)");
	close(fd);
	unlink(path("e"));
}

static struct sockaddr_in
lo(int port)
{
	struct sockaddr_in a;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons(port);
	CHECK(inet_pton(AF_INET, "127.0.0.1", &a.sin_addr) == 1,
	    "inet_pton 127.0.0.1");
	return a;
}

static void
test_tcp(void)
{
	char buf[64], txt[INET_ADDRSTRLEN];
	struct sockaddr_in a = lo(7101), got;
	socklen_t gl = sizeof(got);
	int one = 1;

	int l = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(l >= 0 && setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof(one)) == 0, "TCP socket, SO_REUSEADDR");
	CHECK(bind(l, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    listen(l, 8) == 0, "bind and listen on 127.0.0.1:7101");
	int c = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(c >= 0 && connect(c, (struct sockaddr *)&a, sizeof(a)) == 0,
	    "connect");
	int s = accept(l, (struct sockaddr *)&got, &gl);
	CHECK(s >= 0 && gl == sizeof(got) && got.sin_family == AF_INET &&
	    inet_ntop(AF_INET, &got.sin_addr, txt, sizeof(txt)) != NULL,
	    "accept from %s", txt);
	CHECK(setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == 0,
	    "TCP_NODELAY");
	CHECK(send(c, "ping", 4, 0) == 4, "send ping");
	memset(buf, 0, sizeof(buf));
	CHECK(recv(s, buf, sizeof(buf), 0) == 4 && strcmp(buf, "ping") == 0,
	    "recv '%s'", buf);
	CHECK(write(s, "pong", 4) == 4, "write pong on the socket");
	memset(buf, 0, sizeof(buf));
	CHECK(read(c, buf, sizeof(buf)) == 4 && strcmp(buf, "pong") == 0,
	    "read '%s'", buf);
	gl = sizeof(got);
	CHECK(getsockname(l, (struct sockaddr *)&got, &gl) == 0 &&
	    ntohs(got.sin_port) == 7101, "getsockname port %d",
	    ntohs(got.sin_port));
	gl = sizeof(got);
	CHECK(getpeername(s, (struct sockaddr *)&got, &gl) == 0 &&
	    got.sin_addr.s_addr == htonl(INADDR_LOOPBACK), "getpeername");
	int err = -1;
	socklen_t el = sizeof(err);
	CHECK(getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &el) == 0 && err == 0,
	    "SO_ERROR is 0");
	struct iovec iov[2] = { { "ab", 2 }, { "cd", 2 } };
	struct msghdr m;
	memset(&m, 0, sizeof(m));
	m.msg_iov = iov;
	m.msg_iovlen = 2;
	CHECK(sendmsg(c, &m, MSG_NOSIGNAL) == 4, "sendmsg 2 pieces");
	char r1[3] = { 0 }, r2[3] = { 0 };
	struct iovec riov[2] = { { r1, 2 }, { r2, 2 } };
	m.msg_iov = riov;
	CHECK(recvmsg(s, &m, MSG_WAITALL) == 4 && strcmp(r1, "ab") == 0 &&
	    strcmp(r2, "cd") == 0, "recvmsg '%s' '%s'", r1, r2);
	CHECK(shutdown(c, SHUT_WR) == 0, "shutdown SHUT_WR");
	CHECK(recv(s, buf, sizeof(buf), 0) == 0, "peer reads end of stream");
	close(c);
	close(s);
	close(l);
}

/* Linux's sendfile(2), declared here: krank-cc's headers have no
 * <sys/sendfile.h>, KRANK exports the call (krank/krk_sys_net.c). */
ssize_t sendfile(int out, int in, off_t *offp, size_t count);

/* recv exactly n bytes; 1 when they equal want. */
static int
recv_same(int s, const char *want, size_t n)
{
	static char got[65536];
	size_t have = 0;
	while (have < n) {
		ssize_t r = recv(s, got + have, n - have, 0);
		if (r <= 0)
			return 0;
		have += (size_t)r;
	}
	return memcmp(got, want, n) == 0;
}

static void
test_sendfile(void)
{
	static char data[200000], got[20000];
	struct sockaddr_in a = lo(7103);
	int one = 1;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (char)(i * 7 + i / 251);
	int f = open(path("sf"), O_RDWR | O_CREAT | O_TRUNC, 0644);
	CHECK(f >= 0 && write(f, data, sizeof(data)) == sizeof(data),
	    "a 200000-byte file to send");
	int l = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(l >= 0 && setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof(one)) == 0 && bind(l, (struct sockaddr *)&a,
	    sizeof(a)) == 0 && listen(l, 8) == 0, "listen on 127.0.0.1:7103");
	int c = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(c >= 0 && connect(c, (struct sockaddr *)&a, sizeof(a)) == 0,
	    "connect");
	int s = accept(l, NULL, NULL);
	off_t off = 1000;
	ssize_t n = sendfile(s, f, &off, 40000);
	CHECK(n == 40000 && off == 41000 && recv_same(c, data + 1000, 40000),
	    "sendfile of 40000 bytes from offset 1000 to a TCP socket: "
	    "received intact, the offset moved to %ld", (long)off);
	CHECK(lseek(f, 5000, SEEK_SET) == 5000 &&
	    sendfile(s, f, NULL, 3000) == 3000 &&
	    lseek(f, 0, SEEK_CUR) == 8000 && recv_same(c, data + 5000, 3000),
	    "sendfile without an offset reads at the file's and moves it");
	off = 199990;
	n = sendfile(s, f, &off, 100);
	CHECK(n == 10 && off == 200000 && recv_same(c, data + 199990, 10),
	    "sendfile across the end of the file sends the %zd bytes left", n);
	CHECK(sendfile(s, f, &off, 100) == 0 && off == 200000,
	    "sendfile at the end of the file sends nothing");
	int g = open(path("sf2"), O_RDWR | O_CREAT | O_TRUNC, 0644);
	off = 0;
	CHECK(g >= 0 && sendfile(g, f, &off, 20000) == 20000 && off == 20000 &&
	    pread(g, got, sizeof(got), 0) == 20000 &&
	    memcmp(got, data, 20000) == 0, "sendfile to a file copies");
	off = 0;
	FAILS(sendfile(s, -1, &off, 10), EBADF, "sendfile from a bad descriptor");
	off = -1;
	FAILS(sendfile(s, f, &off, 10), EINVAL, "sendfile from offset -1");
	close(g);
	close(c);
	close(s);
	close(l);
	close(f);
	unlink(path("sf"));
	unlink(path("sf2"));
}

static void
test_addrinfo(void)
{
	struct addrinfo hints, *res = NULL;
	char txt[INET_ADDRSTRLEN];

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_INET;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST;
	int e = getaddrinfo("127.0.0.1", "8080", &hints, &res);
	struct sockaddr_in *sin = res ? (struct sockaddr_in *)res->ai_addr : NULL;
	CHECK(e == 0 && res->ai_next == NULL && res->ai_family == AF_INET &&
	    res->ai_socktype == SOCK_STREAM && res->ai_protocol == IPPROTO_TCP &&
	    res->ai_addrlen == sizeof(*sin) && ntohs(sin->sin_port) == 8080 &&
	    inet_ntop(AF_INET, &sin->sin_addr, txt, sizeof(txt)) != NULL,
	    "getaddrinfo 127.0.0.1:8080: %s port %d", txt,
	    sin ? ntohs(sin->sin_port) : -1);
	if (res != NULL)
		freeaddrinfo(res);
	hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
	res = NULL;
	e = getaddrinfo(NULL, "80", &hints, &res);
	sin = res ? (struct sockaddr_in *)res->ai_addr : NULL;
	CHECK(e == 0 && sin->sin_addr.s_addr == htonl(INADDR_ANY) &&
	    ntohs(sin->sin_port) == 80, "getaddrinfo passive: any address");
	if (res != NULL)
		freeaddrinfo(res);
	hints.ai_flags = AI_NUMERICHOST;
	e = getaddrinfo("not.a.number", "80", &hints, &res);
	CHECK(e == EAI_NONAME, "getaddrinfo of a name with AI_NUMERICHOST: %s",
	    gai_strerror(e));
}

static void
test_udp(void)
{
	struct sockaddr_in a = lo(7102), from;
	socklen_t fl = sizeof(from);
	char buf[32], txt[INET_ADDRSTRLEN];

	int r = socket(AF_INET, SOCK_DGRAM, 0);
	CHECK(r >= 0 && bind(r, (struct sockaddr *)&a, sizeof(a)) == 0,
	    "UDP bind 127.0.0.1:7102");
	int t = socket(AF_INET, SOCK_DGRAM, 0);
	CHECK(sendto(t, "datagram", 8, 0, (struct sockaddr *)&a,
	    sizeof(a)) == 8, "sendto");
	memset(buf, 0, sizeof(buf));
	CHECK(recvfrom(r, buf, sizeof(buf), 0, (struct sockaddr *)&from,
	    &fl) == 8 && strcmp(buf, "datagram") == 0 &&
	    inet_ntop(AF_INET, &from.sin_addr, txt, sizeof(txt)) != NULL,
	    "recvfrom '%s' from %s", buf, txt);
	FAILS(recv(r, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN,
	    "recv MSG_DONTWAIT on an empty socket");
	close(r);
	close(t);
}

static void
test_poll_epoll(void)
{
	struct sockaddr_in a = lo(7103);
	struct epoll_event ev, out[4];
	char buf[16];

	int l = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	CHECK(l >= 0 && bind(l, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    listen(l, 8) == 0, "non-blocking listener on 7103");
	FAILS(accept(l, NULL, NULL), EAGAIN, "accept with nothing pending");
	struct pollfd p = { l, POLLIN, 0 };
	CHECK(poll(&p, 1, 0) == 0, "poll: listener not ready");
	int c = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(connect(c, (struct sockaddr *)&a, sizeof(a)) == 0, "connect");
	CHECK(poll(&p, 1, 2000) == 1 && (p.revents & POLLIN), "poll: listener "
	    "readable");
	int s = accept4(l, NULL, NULL, SOCK_NONBLOCK);
	CHECK(s >= 0 && (fcntl(s, F_GETFL) & O_NONBLOCK), "accept4 "
	    "SOCK_NONBLOCK");
	FAILS(recv(s, buf, sizeof(buf), 0), EAGAIN, "recv on an empty "
	    "non-blocking socket");
	int fl = fcntl(c, F_GETFL);
	CHECK(fcntl(c, F_SETFL, fl | O_NONBLOCK) == 0 &&
	    (fcntl(c, F_GETFL) & O_NONBLOCK), "F_SETFL O_NONBLOCK");

	int ep = epoll_create1(0);
	CHECK(ep >= 0, "epoll_create1");
	ev.events = EPOLLIN;
	ev.data.u64 = 0x1234567890ull;
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev) == 0, "EPOLL_CTL_ADD");
	FAILS(epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev), EEXIST, "adding twice");
	FAILS(epoll_ctl(ep, EPOLL_CTL_DEL, c, NULL), ENOENT, "deleting what "
	    "is not there");
	FAILS(epoll_ctl(ep, EPOLL_CTL_ADD, 100000, &ev), EBADF, "adding a "
	    "closed descriptor");
	CHECK(epoll_wait(ep, out, 4, 0) == 0, "epoll_wait: nothing yet");
	CHECK(write(c, "x", 1) == 1, "client writes one byte");
	int n = epoll_wait(ep, out, 4, 2000);
	CHECK(n == 1 && out[0].events == EPOLLIN &&
	    out[0].data.u64 == 0x1234567890ull, "epoll_wait: EPOLLIN with "
	    "its data");
	n = epoll_wait(ep, out, 4, 0);
	CHECK(n == 1, "level-triggered: still readable");
	CHECK(read(s, buf, sizeof(buf)) == 1, "read the byte");
	CHECK(epoll_wait(ep, out, 4, 0) == 0, "drained: not readable");
	ev.events = EPOLLOUT;
	ev.data.fd = s;
	CHECK(epoll_ctl(ep, EPOLL_CTL_MOD, s, &ev) == 0 &&
	    epoll_wait(ep, out, 4, 1000) == 1 && out[0].events == EPOLLOUT &&
	    out[0].data.fd == s, "EPOLL_CTL_MOD to EPOLLOUT");
	ev.events = EPOLLIN | EPOLLONESHOT;
	CHECK(epoll_ctl(ep, EPOLL_CTL_MOD, s, &ev) == 0 &&
	    write(c, "yz", 2) == 2 && epoll_wait(ep, out, 4, 1000) == 1 &&
	    epoll_wait(ep, out, 4, 0) == 0, "EPOLLONESHOT reports once");
	CHECK(epoll_ctl(ep, EPOLL_CTL_DEL, s, NULL) == 0, "EPOLL_CTL_DEL");
	/* Two ready descriptors, room for one event per call: the calls
	 * take turns (Linux requeues a reported level-triggered entry). */
	int u1 = socket(AF_INET, SOCK_DGRAM, 0), u2 = socket(AF_INET,
	    SOCK_DGRAM, 0);
	ev.events = EPOLLOUT;
	ev.data.u32 = 1;
	epoll_ctl(ep, EPOLL_CTL_ADD, u1, &ev);
	ev.data.u32 = 2;
	epoll_ctl(ep, EPOLL_CTL_ADD, u2, &ev);
	unsigned seen = 0;
	for (int i = 0; i < 4; i++)
		if (epoll_wait(ep, out, 1, 0) == 1)
			seen |= 1u << out[0].data.u32;
	CHECK(seen == 6, "maxevents 1 over two ready entries reports both");
	CHECK(close(u1) == 0 && epoll_wait(ep, out, 4, 0) == 1 &&
	    out[0].data.u32 == 2, "a closed descriptor leaves the set");
	close(u2);
	/* More entries than fit the shim's stack array (64). */
	int many[100], nm = 0;
	for (int i = 0; i < 100; i++) {
		many[i] = socket(AF_INET, SOCK_DGRAM, 0);
		ev.events = EPOLLOUT;
		ev.data.u32 = (unsigned)i;
		if (many[i] >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, many[i], &ev) == 0)
			nm++;
	}
	struct epoll_event big[128];
	CHECK(nm == 100 && epoll_wait(ep, big, 128, 0) == 100,
	    "100 writable sockets in one epoll_wait");
	for (int i = 0; i < 100; i++)
		close(many[i]);
	CHECK(epoll_wait(ep, big, 128, 0) == 0, "all gone after close");
	CHECK(close(ep) == 0, "close the epoll descriptor");
	FAILS(epoll_wait(ep, out, 4, 0), EBADF, "epoll_wait on a closed one");
	close(c);
	close(s);
	close(l);
}

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static long counter;
static int ready;

static void *
worker(void *arg)
{
	for (int i = 0; i < 20000; i++) {
		pthread_mutex_lock(&mu);
		counter++;
		pthread_mutex_unlock(&mu);
	}
	pthread_mutex_lock(&mu);
	ready++;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	return (char *)arg + 1;
}

static void
test_threads(void)
{
	pthread_t t[2];
	void *ret[2];
	static char tag[2];

	for (int i = 0; i < 2; i++)
		CHECK(pthread_create(&t[i], NULL, worker, &tag[i]) == 0,
		    "pthread_create %d", i);
	pthread_mutex_lock(&mu);
	while (ready < 2)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	CHECK(ready == 2, "condvar: both workers signalled");
	for (int i = 0; i < 2; i++)
		CHECK(pthread_join(t[i], &ret[i]) == 0 &&
		    ret[i] == &tag[i] + 1, "pthread_join %d with its value", i);
	CHECK(counter == 40000, "mutex: counter is %ld", counter);
	pthread_t d;
	ready = 0;
	CHECK(pthread_create(&d, NULL, worker, &tag[0]) == 0 &&
	    pthread_detach(d) == 0, "a detached thread");
	pthread_mutex_lock(&mu);
	while (ready < 1)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	CHECK(counter == 60000, "the detached thread ran: counter %ld", counter);
	CHECK(pthread_equal(pthread_self(), pthread_self()) &&
	    !pthread_equal(t[0], t[1]), "pthread_self/pthread_equal");
}

static void
test_time_random(void)
{
	struct timespec t0, t1, d = { 0, 20000000 };
	struct timeval tv;
	unsigned char r[32], zero[32] = { 0 };

	CHECK(clock_gettime(CLOCK_MONOTONIC, &t0) == 0, "clock_gettime");
	CHECK(nanosleep(&d, NULL) == 0, "nanosleep 20 ms");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long ns = (t1.tv_sec - t0.tv_sec) * 1000000000L + t1.tv_nsec - t0.tv_nsec;
	CHECK(ns >= 20000000L && ns < 2000000000L, "slept at least 20 ms");
	CHECK(gettimeofday(&tv, NULL) == 0 && tv.tv_sec > 1600000000 &&
	    time(NULL) >= tv.tv_sec, "gettimeofday and time after 2020");
	CHECK(getrandom(r, sizeof(r), 0) == 32 && memcmp(r, zero, 32) != 0,
	    "getrandom 32 bytes");
	CHECK(getpid() > 0, "getpid is positive");
	const char *v = getenv("KRK_TEST");
	CHECK(v != NULL && strcmp(v, "isolate") == 0 && getenv("NOPE") == NULL,
	    "getenv");
}

static void
test_memory(void)
{
	char *p[256];
	int ok = 1;

	for (int i = 0; i < 256; i++) {
		p[i] = malloc((size_t)i * 37 + 1);
		if (p[i] == NULL)
			ok = 0;
		else
			memset(p[i], i, (size_t)i * 37 + 1);
	}
	for (int i = 0; i < 256 && ok; i++)
		if ((unsigned char)p[i][i * 37] != (unsigned char)i)
			ok = 0;
	for (int i = 0; i < 256; i++)
		free(p[i]);
	CHECK(ok, "256 mallocs keep their contents");
	int *z = calloc(1000, sizeof(int));
	int allzero = z != NULL;
	for (int i = 0; z != NULL && i < 1000; i++)
		allzero &= z[i] == 0;
	CHECK(allzero, "calloc is zeroed");
	z = realloc(z, 100000 * sizeof(int));
	CHECK(z != NULL && z[999] == 0, "realloc keeps the contents");
	free(z);
	void *al = NULL;
	CHECK(posix_memalign(&al, 4096, 100) == 0 &&
	    ((uintptr_t)al & 4095) == 0, "posix_memalign 4096");
	free(al);
	al = aligned_alloc(64, 128);
	CHECK(al != NULL && ((uintptr_t)al & 63) == 0, "aligned_alloc 64");
	free(al);
	CHECK(strcasecmp("Content-Length", "content-length") == 0 &&
	    strncasecmp("HOST: x", "host: y", 5) == 0, "strcasecmp");
	CHECK(memrchr("a/b/c", '/', 5) != NULL, "memrchr");
}

/* Calendar and stream functions: fixed dates printed, then a hash over
 * many dates (the same hash on both runs means the same text). */
static void
test_calendar_streams(void)
{
	char buf[128];
	struct tm tm;
	time_t t = 1700000000;

	CHECK(gmtime_r(&t, &tm) != NULL && strftime(buf, sizeof(buf),
	    "%a, %d %b %Y %H:%M:%S GMT", &tm) > 0, "HTTP date of 1700000000: "
	    "%s", buf);
	t = 951782400;		/* 2000-02-29 */
	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%A %B %e %j %y %F %T %I %p %% %Z", &tm);
	CHECK(tm.tm_yday == 59 && tm.tm_wday == 2, "leap day: %s", buf);
	CHECK(strftime(buf, 5, "%Y-%m-%d", &tm) == 0, "strftime too small "
	    "gives 0");
	unsigned long long h = 1469598103934665603ull;
	uint64_t x = 88172645463325252ull;
	int agree = 1;
	for (int i = 0; i < 2000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		t = (time_t)(x % 20000000000ull) - 10000000000;
		if (gmtime_r(&t, &tm) == NULL)
			continue;
		struct tm back = tm;
		agree &= timegm(&back) == t;
		size_t n = strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S %a %b "
		    "%j %w", &tm);
		for (size_t k = 0; k < n; k++)
			h = (h ^ (unsigned char)buf[k]) * 1099511628211ull;
		h = (h ^ (unsigned)tm.tm_yday) * 1099511628211ull;
	}
	CHECK(agree, "timegm inverts gmtime_r for 2000 dates");
	printf("2000 dates from -10^10 to 10^10 s: hash %016llx\n", h);
	CHECK(fprintf(stdout, "%s %d|", "fprintf", 42) == 11, "fprintf to "
	    "stdout");
	CHECK(fputs("fputs|", stdout) >= 0 && fwrite("fwrite|", 1, 7, stdout) ==
	    7 && fputc('\n', stdout) == '\n' && fflush(stdout) == 0,
	    "fputs, fwrite, fputc, fflush");
	CHECK(fileno(stderr) == 2, "fileno(stderr)");
	CHECK(*strchrnul("abc", 'z') == '\0' && *strchrnul("abc", 'b') == 'b',
	    "strchrnul");
}

int
main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "-o") == 0) {
		int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || dup2(fd, 1) != 1 || close(fd) != 0) {
			printf("iso_posix: -o %s: %s\n", argv[2], strerror(errno));
			return 2;
		}
		argc -= 2;
		argv += 2;
	}
	if (argc != 2) {
		printf("usage: iso_posix [-o FILE] DIR\n");
		return 2;
	}
	snprintf(base, sizeof(base), "%s", argv[1]);
	if (strlen(base) > 1 && base[strlen(base) - 1] == '/')
		base[strlen(base) - 1] = '\0';
	test_files();
	test_errors();
	test_tcp();
	test_sendfile();
	test_udp();
	test_addrinfo();
	test_poll_epoll();
	test_threads();
	test_time_random();
	test_memory();
	test_calendar_streams();
	printf("%d failures\n", failures);
	exit(failures ? 1 : 0);
}
