/*
 * test_krank_calls.c - libkrank's synchronous calls end to end over a
 * loopback transport whose post runs krq_dispatch in process (the same
 * encode -> KRANK -> decode as over the rings, without the rings): real
 * tmpfs files (write and read back by reference, inline and bounced,
 * stat, getdents, rename), real TCP and UDP sockets over the stack's
 * loopback, poll, time, randomness, and errors (ENOENT, EEXIST, EAGAIN
 * arrive as the Errno value and as the host's errno).  ASan+UBSan.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/random.h>

#include <krank/krank.h>
#include <krank/krs.h>
#include "net/krs_net.h"

#include "krk.h"
#include "krq_call.h"
#include "krq_fixed.h"
#include "rdtest.h"
#include "rdtest_net.h"

/* The loopback transport: one response in flight. */
struct loop {
	struct krq_caller *caller;
	uint8_t resp[8192];
	size_t len;
	bool full;
	unsigned posts;
};

static int
loop_post(void *arg, const void *msg, size_t len)
{
	struct loop *l = arg;

	if (l->full)
		return EAGAIN;
	int bad = krq_dispatch(l->caller, msg, len, l->resp, sizeof(l->resp),
	    &l->len);
	if (bad == EMSGSIZE && l->len == 0)
		return EMSGSIZE;
	l->full = true;
	l->posts++;
	return 0;
}

static int
loop_take(void *arg, void *buf, size_t cap, size_t *lenp)
{
	struct loop *l = arg;

	if (!l->full)
		return EAGAIN;
	if (l->len > cap)
		return EMSGSIZE;
	memcpy(buf, l->resp, l->len);
	*lenp = l->len;
	l->full = false;
	return 0;
}

#define AREA_LEN (256 * 1024)
static uint8_t *area;
static struct krank_client *K;		/* with an area and a bounce range */
static struct krank_client *S;		/* no area: everything inline */
static struct loop LK, LS;

static void
test_files(void)
{
	struct stat st;
	char small[] = "hello, krank";
	char buf[256];

	CHECK(krank_null(K) == 1, "null call: API version 1");
	CHECK(krank_mkdir(K, "/d", 0755) == 0, "mkdir /d");
	int fd = krank_open(K, "/d/f", O_RDWR | O_CREAT | O_TRUNC, 0644);
	CHECK(fd >= 0, "open /d/f: %d", fd);
	/* Small and outside the area: inline. */
	CHECK(krank_write(K, fd, small, strlen(small)) == (ssize_t)strlen(small),
	    "write %zu bytes inline", strlen(small));
	/* Large and outside the area: bounced through it, in pieces. */
	size_t big = 300 * 1024;
	uint8_t *src = malloc(big), *dst = malloc(big);
	CHECK(src != NULL && dst != NULL, "buffers");
	for (size_t i = 0; i < big; i++)
		src[i] = (uint8_t)(i * 7 + i / 251);
	unsigned posts = LK.posts;
	CHECK(krank_pwrite(K, fd, src, big, 4096) == (ssize_t)big,
	    "pwrite 300 KiB from outside the area (bounced)");
	CHECK(LK.posts - posts == 5, "in 5 requests of the 64 KiB bounce "
	    "range: %u", LK.posts - posts);
	/* Inside the area: by reference. */
	memcpy(area + 1000, "AREA", 4);
	CHECK(krank_pwrite(K, fd, area + 1000, 4, 100) == 4,
	    "pwrite 4 bytes by reference");
	CHECK(krank_fstat(K, fd, &st) == 0 && st.st_size == (off_t)(4096 + big)
	    && S_ISREG(st.st_mode), "fstat: size %ld", (long)st.st_size);

	memset(buf, 0, sizeof(buf));
	CHECK(krank_pread(K, fd, buf, strlen(small), 0) == (ssize_t)strlen(small)
	    && memcmp(buf, small, strlen(small)) == 0, "pread inline");
	CHECK(krank_pread(K, fd, area + 5000, 4, 100) == 4 &&
	    memcmp(area + 5000, "AREA", 4) == 0, "pread into the area");
	size_t got = 0;
	while (got < big) {
		ssize_t n = krank_pread(K, fd, dst + got, big - got,
		    4096 + (off_t)got);
		CHECK(n > 0, "pread bounced at %zu: %zd", got, n);
		got += (size_t)n;
	}
	CHECK(memcmp(src, dst, big) == 0, "300 KiB read back (bounced) equal "
	    "what was written");
	CHECK(krank_lseek(K, fd, 0, SEEK_SET) == 0 &&
	    krank_read(K, fd, buf, 5) == 5 && memcmp(buf, "hello", 5) == 0,
	    "lseek + read");
	/* The inline-only client reads in inline_max pieces. */
	int fs = krank_open(S, "/d/f", O_RDONLY, 0);
	CHECK(fs >= 0, "the second client opens /d/f: %d", fs);
	CHECK(krank_read(S, fs, buf, sizeof(buf)) == 16 &&
	    memcmp(buf, small, 12) == 0, "no area: a read comes inline, "
	    "16 bytes at most");
	CHECK(krank_close(S, fs) == 0, "close");
	CHECK(krank_ftruncate(K, fd, 10) == 0 && krank_fsync(K, fd) == 0 &&
	    krank_fstat(K, fd, &st) == 0 && st.st_size == 10,
	    "ftruncate to 10, fsync");
	int d2 = krank_dup(K, fd);
	CHECK(d2 > fd && krank_dup2(K, d2, 20) == 20 && krank_close(K, d2) == 0,
	    "dup, dup2 to 20");
	CHECK(krank_fcntl(K, 20, F_SETFD, FD_CLOEXEC) == 0 &&
	    krank_fcntl(K, 20, F_GETFD, 0) == FD_CLOEXEC, "fcntl FD_CLOEXEC");
	CHECK(krank_close(K, 20) == 0 && krank_close(K, fd) == 0, "close");

	CHECK(krank_stat(K, "/d/f", &st) == 0 && st.st_size == 10, "stat");
	CHECK(krank_rename(K, "/d/f", "/d/g") == 0, "rename /d/f /d/g");
	int dfd = krank_open(K, "/d", O_RDONLY | O_DIRECTORY, 0);
	CHECK(dfd >= 0, "open /d");
	ssize_t dn = krank_getdents(K, dfd, buf, sizeof(buf));
	bool seen = false;
	for (ssize_t off = 0; off < dn;) {
		struct krs_dirent *e = (struct krs_dirent *)(buf + off);
		if (strcmp(e->d_name, "g") == 0 && e->d_type == KRS_DT_REG)
			seen = true;
		CHECK(e->d_reclen > 0, "record length");
		off += e->d_reclen;
	}
	CHECK(dn > 0 && seen, "getdents /d lists g (%zd bytes)", dn);
	CHECK(krank_close(K, dfd) == 0, "close /d");

	/* Errors: the wire's Errno and the host's errno. */
	errno = 0;
	CHECK(krank_open(K, "/nope", O_RDONLY, 0) == -1 && errno == ENOENT &&
	    krank_client_error(K) == KRANK__ERRNO__ENOENT,
	    "open /nope: -1, errno ENOENT, Errno %d", krank_client_error(K));
	CHECK(krank_mkdir(K, "/d", 0755) == -1 && errno == EEXIST &&
	    krank_client_error(K) == 17, "mkdir /d again: EEXIST (17)");
	CHECK(krank_rmdir(K, "/d") == -1 && errno == ENOTEMPTY &&
	    krank_client_error(K) == KRANK__ERRNO__ENOTEMPTY,
	    "rmdir of a full directory: ENOTEMPTY (%d on the wire, %d here)",
	    KRANK__ERRNO__ENOTEMPTY, ENOTEMPTY);
	CHECK(krank_close(K, 77) == -1 && errno == EBADF, "close(77): EBADF");
	CHECK(krank_unlink(K, "/d/g") == 0 && krank_rmdir(K, "/d") == 0,
	    "unlink, rmdir");
	CHECK(krank_stat(K, "/d", &st) == -1 && errno == ENOENT, "gone");
	free(src);
	free(dst);
	printf("ok: files through libkrank: inline, bounced, by reference, "
	    "stat, getdents, rename, errors\n");
}

static void
test_sockets(void)
{
	struct sockaddr_in a = rd_sin4("127.0.0.1", 7100), peer;
	socklen_t plen = sizeof(peer);
	char buf[128];
	int one = 1, v;
	socklen_t vl = sizeof(v);

	int l = krank_socket(K, AF_INET, SOCK_STREAM, 0);
	CHECK(l >= 0, "socket");
	CHECK(krank_setsockopt(K, l, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof(one)) == 0, "SO_REUSEADDR");
	CHECK(krank_getsockopt(K, l, SOL_SOCKET, SO_REUSEADDR, &v, &vl) == 0 &&
	    vl == sizeof(v) && v != 0, "getsockopt reads it back");
	CHECK(krank_bind(K, l, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    krank_listen(K, l, 4) == 0, "listen on 127.0.0.1:7100");
	int c = krank_socket(K, AF_INET, SOCK_STREAM, 0);
	CHECK(c >= 0 && krank_connect(K, c, (struct sockaddr *)&a,
	    sizeof(a)) == 0, "connect over the stack's loopback");
	int s = krank_accept(K, l, (struct sockaddr *)&peer, &plen);
	CHECK(s >= 0 && plen == sizeof(peer) && peer.sin_family == AF_INET &&
	    peer.sin_addr.s_addr == htonl(0x7f000001), "accept: peer "
	    "127.0.0.1:%d", ntohs(peer.sin_port));
	struct sockaddr_in nm;
	socklen_t nl = sizeof(nm);
	CHECK(krank_getsockname(K, c, (struct sockaddr *)&nm, &nl) == 0 &&
	    nm.sin_port == peer.sin_port, "getsockname of the client is the "
	    "accepted peer");
	nl = sizeof(nm);
	CHECK(krank_getpeername(K, c, (struct sockaddr *)&nm, &nl) == 0 &&
	    nm.sin_port == htons(7100), "getpeername: port 7100");

	CHECK(krank_send(K, c, "ping", 4, 0) == 4, "send 4 bytes");
	struct pollfd p = { .fd = s, .events = POLLIN };
	CHECK(krank_poll(K, &p, 1, 1000) == 1 && (p.revents & POLLIN),
	    "poll: the accepted socket is readable");
	CHECK(krank_recv(K, s, buf, sizeof(buf), 0) == 4 &&
	    memcmp(buf, "ping", 4) == 0, "recv ping");
	/* 100 KiB through the bounce range, back through it. */
	size_t big = 100 * 1024;
	uint8_t *src = malloc(big), *dst = malloc(big);
	for (size_t i = 0; i < big; i++)
		src[i] = (uint8_t)(i ^ (i >> 9));
	CHECK(krank_write(K, c, src, 60000) == 60000, "write 60000 bytes");
	size_t got = 0;
	while (got < 60000) {
		ssize_t n = krank_recv(K, s, dst + got, big - got, 0);
		CHECK(n > 0, "recv at %zu: %zd", got, n);
		got += (size_t)n;
	}
	CHECK(memcmp(src, dst, 60000) == 0, "60000 bytes arrive intact");
	/* Non-blocking: EAGAIN, the wire's 35. */
	int fl = krank_fcntl(K, s, F_GETFL, 0);
	CHECK(fl >= 0 && krank_fcntl(K, s, F_SETFL, fl | O_NONBLOCK) == 0,
	    "O_NONBLOCK");
	errno = 0;
	CHECK(krank_recv(K, s, buf, sizeof(buf), 0) == -1 && errno == EAGAIN &&
	    krank_client_error(K) == KRANK__ERRNO__EAGAIN, "empty non-blocking "
	    "recv: EAGAIN (%d here, %d on the wire)", EAGAIN,
	    KRANK__ERRNO__EAGAIN);
	/* Readiness with data: the readable socket's bytes come with the
	 * poll's answer (into the bounce range), the unmarked one's not. */
	struct pollfd pp[2] = { { .fd = s, .events = POLLIN },
	    { .fd = c, .events = POLLIN | POLLOUT } };
	uint8_t mark[2] = { 1, 0 };
	struct krank_fetched fg[2];
	CHECK(krank_send(K, s, "back", 4, 0) == 4 &&
	    krank_send(K, c, "fetchme", 7, 0) == 7, "send both ways");
	int pn = krank_poll_fetch(K, pp, 2, 1000, mark, 5, fg);
	CHECK(pn == 2 && (pp[0].revents & POLLIN) && fg[0].len == 5 &&
	    memcmp(fg[0].data, "fetch", 5) == 0 && fg[1].len == 0 &&
	    (pp[1].revents & POLLIN), "poll_fetch: 5 bytes (fetch_max) of "
	    "the marked socket with its readiness, none of the other "
	    "(n %d, got %d, %d)", pn, fg[0].len, fg[1].len);
	CHECK(krank_recv(K, s, buf, sizeof(buf), 0) == 2 &&
	    memcmp(buf, "me", 2) == 0, "the socket keeps the rest: me");
	CHECK(krank_recv(K, c, buf, sizeof(buf), 0) == 4, "the other "
	    "socket's bytes are still its own");
	pp[0].revents = 0;
	pn = krank_poll_fetch(K, pp, 1, 0, mark, 64, fg);
	CHECK(pn == 0 && fg[0].len == 0, "poll_fetch with nothing to read: "
	    "0, nothing fetched");
	CHECK(krank_send(K, c, "inl", 3, 0) == 3, "send 3 more");
	pp[0].revents = 0;
	pn = krank_poll_fetch(K, pp, 1, 1000, mark, 0, fg);
	CHECK(pn == 1 && fg[0].len == 0 && krank_recv(K, s, buf, sizeof(buf),
	    0) == 3, "fetch_max 0 fetches nothing");
	CHECK(krank_shutdown(K, c, SHUT_WR) == 0, "shutdown(SHUT_WR)");
	for (int i = 0; i < 100; i++) {
		ssize_t n = krank_recv(K, s, buf, sizeof(buf), 0);
		if (n == 0)
			break;
		CHECK(n == -1 && errno == EAGAIN, "until the FIN arrives");
		p.revents = 0;
		krank_poll(K, &p, 1, 100);
	}
	CHECK(krank_recv(K, s, buf, sizeof(buf), 0) == 0, "end of stream");
	CHECK(krank_close(K, c) == 0 && krank_close(K, s) == 0 &&
	    krank_close(K, l) == 0, "close all three");

	/* UDP with addresses. */
	struct sockaddr_in ua = rd_sin4("127.0.0.1", 7101), from;
	socklen_t fl2 = sizeof(from);
	int u1 = krank_socket(K, AF_INET, SOCK_DGRAM, 0);
	int u2 = krank_socket(K, AF_INET, SOCK_DGRAM, 0);
	CHECK(u1 >= 0 && u2 >= 0 && krank_bind(K, u1, (struct sockaddr *)&ua,
	    sizeof(ua)) == 0, "two UDP sockets, one bound to 7101");
	CHECK(krank_sendto(K, u2, "datagram", 8, 0, (struct sockaddr *)&ua,
	    sizeof(ua)) == 8, "sendto 127.0.0.1:7101");
	CHECK(krank_recvfrom(K, u1, buf, sizeof(buf), 0,
	    (struct sockaddr *)&from, &fl2) == 8 && memcmp(buf, "datagram", 8)
	    == 0 && from.sin_addr.s_addr == htonl(0x7f000001) &&
	    from.sin_port != 0, "recvfrom: the datagram and its sender (port %d)",
	    ntohs(from.sin_port));
	int u3 = krank_socket(K, AF_INET, SOCK_DGRAM, 0);
	CHECK(krank_bind(K, u3, (struct sockaddr *)&ua, sizeof(ua)) == -1 &&
	    errno == EADDRINUSE && krank_client_error(K) ==
	    KRANK__ERRNO__EADDRINUSE, "bind twice: EADDRINUSE (%d on the wire)",
	    KRANK__ERRNO__EADDRINUSE);
	CHECK(krank_close(K, u1) == 0 && krank_close(K, u2) == 0 &&
	    krank_close(K, u3) == 0, "close");
	free(src);
	free(dst);
	printf("ok: sockets through libkrank: TCP over loopback (accept, "
	    "names, poll, 60000 bytes, EAGAIN, shutdown), UDP with addresses\n");
}

static void
test_misc(void)
{
	struct timespec k, h, sl = { 0, 2000000 };
	uint8_t rnd[64] = { 0 }, zero[64] = { 0 };

	clock_gettime(CLOCK_MONOTONIC, &h);
	CHECK(krank_clock_gettime(K, CLOCK_MONOTONIC, &k) == 0, "clock_gettime");
	int64_t d = (k.tv_sec - h.tv_sec) * 1000000000 + (k.tv_nsec - h.tv_nsec);
	CHECK(d >= 0 && d < 1000000000, "monotonic within 1 s of the host's "
	    "(%ld ns)", (long)d);
	CHECK(krank_nanosleep(K, &sl) == 0, "nanosleep 2 ms");
	clock_gettime(CLOCK_MONOTONIC, &h);
	d = (h.tv_sec - k.tv_sec) * 1000000000 + (h.tv_nsec - k.tv_nsec);
	CHECK(d >= 2000000, "slept at least 2 ms (%ld ns)", (long)d);
	CHECK(krank_getrandom(K, rnd, sizeof(rnd), 0) == 64 &&
	    memcmp(rnd, zero, 64) != 0, "getrandom 64 bytes");
	CHECK(krank_isolate_kill(K, 1) == -1 && errno == EPERM,
	    "isolate control without permission: EPERM");
	printf("ok: time, sleep, randomness, isolate permission\n");
}

/* A channel between the two clients: K creates and receives, S sends. */
static void
test_chan(void)
{
	uint64_t size, off, got;
	uint32_t nb, bs, st, len;

	int rx = krank_chan_create(K, "calls", 2, 128, O_NONBLOCK);
	CHECK(rx >= 0, "krank_chan_create: %d", rx);
	int tx = krank_chan_open(S, "calls", O_NONBLOCK);
	CHECK(tx >= 0, "the other client opens the send end: %d", tx);
	CHECK(krank_chan_open(S, "calls", 0) == -1 && errno == EBUSY,
	    "a second send end: EBUSY");
	CHECK(krank_chan_pool(S, tx, &size, &nb, &bs, &st) == 0 && nb == 2 &&
	    bs == 128 && size == (uint64_t)nb * st, "pool: 2 x 128, stride %u",
	    st);
	CHECK(krank_chan_alloc(S, tx, 0, &off) == 0 && off < size, "alloc");
	CHECK(krank_chan_send(S, tx, off, 100) == 0, "send 100 bytes");
	CHECK(krank_chan_recv(K, rx, 0, &got, &len) == 0 && got == off &&
	    len == 100, "the receiver gets the same buffer");
	CHECK(krank_chan_release(K, rx, got) == 0, "release");
	CHECK(krank_chan_recv(K, rx, 0, &got, &len) == -1 && errno == EAGAIN,
	    "empty: EAGAIN");
	CHECK(krank_close(S, tx) == 0, "the sender closes");
	CHECK(krank_chan_recv(K, rx, 0, &got, &len) == 0 && len == 0,
	    "end of stream");
	CHECK(krank_close(K, rx) == 0, "close");
	printf("ok: a channel between two clients: create, open, pool, alloc, "
	    "send, recv, release, end of stream\n");
}

/* Isolate control for a client allowed to: spawn, wait, status, kill. */
static void
test_isolates(const char *dir, struct krs_ctx *ctx)
{
	static struct krq_caller ci;
	static struct loop li;
	struct krank_client *I;
	char elf[512];
	int state, status;

	ci.ctx = ctx;
	ci.flags = KRQ_CALLER_ISOLATES;
	li.caller = &ci;
	struct krank_transport t = { .post = loop_post, .take = loop_take,
		.arg = &li };
	CHECK(krank_client_create(&t, &I) == 0, "a client allowed to control "
	    "isolates");
	snprintf(elf, sizeof(elf), "%s/exitcode.kx", dir);
	char *argv[] = { "exitcode", "7", NULL };
	int id = krank_isolate_spawn(I, elf, "ex7", argv, -1);
	CHECK(id > 0, "spawn exitcode 7: id %d (errno %d)", id, errno);
	CHECK(krank_isolate_wait(I, id, 10000000000, &state, &status) == 0 &&
	    state == KRK_ISO_EXITED && status == 7,
	    "wait: exited with status 7 (state %d, status %d)", state, status);
	snprintf(elf, sizeof(elf), "%s/spin.kx", dir);
	int sp = krank_isolate_spawn(I, elf, NULL, NULL, -1);
	CHECK(sp > 0 && sp != id, "spawn spin: id %d", sp);
	CHECK(krank_isolate_wait(I, sp, 1000000, &state, &status) == -1 &&
	    errno == ETIMEDOUT, "a spinning isolate does not end: ETIMEDOUT");
	CHECK(krank_isolate_kill(I, sp) == 0, "kill it");
	CHECK(krank_isolate_wait(I, sp, 10000000000, &state, &status) == 0 &&
	    state == KRK_ISO_KILLED, "wait: killed (state %d)", state);
	CHECK(krank_isolate_kill(I, 9999) == -1 && errno == ESRCH,
	    "kill of no isolate: ESRCH");
	snprintf(elf, sizeof(elf), "%s/missing.kx", dir);
	CHECK(krank_isolate_spawn(I, elf, NULL, NULL, -1) == -1 &&
	    errno == ENOENT, "spawn of a missing ELF: ENOENT");
	krank_client_destroy(I);
	printf("ok: isolates through libkrank: spawn, wait (status 7), "
	    "timeout, kill, ESRCH, ENOENT\n");
}

/*
 * The asynchronous calls, over a transport that holds up to FIFO_N
 * responses: each post runs krq_dispatch at once and queues the response;
 * take_wait hands them out in order (EAGAIN when none); bells are
 * counted.
 */
#define FIFO_N 8
struct fifo {
	struct krq_caller *caller;
	uint8_t resp[FIFO_N][1024];
	size_t len[FIFO_N];
	unsigned head, n, bells, posts;
};

static int
fifo_post(void *arg, const void *msg, size_t len)
{
	struct fifo *f = arg;

	if (f->n == FIFO_N)
		return EAGAIN;
	unsigned i = (f->head + f->n) % FIFO_N;
	if (krq_dispatch(f->caller, msg, len, f->resp[i], sizeof(f->resp[i]),
	    &f->len[i]) == EMSGSIZE && f->len[i] == 0)
		return EMSGSIZE;
	f->n++;
	f->posts++;
	return 0;
}

static int
fifo_take_wait(void *arg, void *buf, size_t cap, size_t *lenp, int64_t t)
{
	struct fifo *f = arg;

	(void)t;
	if (f->n == 0)
		return EAGAIN;
	if (f->len[f->head] > cap)
		return EMSGSIZE;
	memcpy(buf, f->resp[f->head], f->len[f->head]);
	*lenp = f->len[f->head];
	f->head = (f->head + 1) % FIFO_N;
	f->n--;
	return 0;
}

static int
fifo_take(void *arg, void *buf, size_t cap, size_t *lenp)
{
	return fifo_take_wait(arg, buf, cap, lenp, -1);
}

static void
fifo_bell(void *arg)
{
	((struct fifo *)arg)->bells++;
}

static void
test_async(struct krq_caller *caller)
{
	static struct fifo F;
	struct krank_client *A;
	struct krank_cqe cq[16];
	char small[8][16], got[8][16];

	F.caller = caller;
	struct krank_transport t = {
		.post = fifo_post, .take = fifo_take, .arg = &F,
		.post_quiet = fifo_post, .bell = fifo_bell,
		.take_wait = fifo_take_wait,
		.area = area, .area_len = AREA_LEN,
		.bounce_off = AREA_LEN - 65536, .bounce_len = 65536,
	};
	CHECK(krank_client_create(&t, &A) == 0, "async: a client");
	int fd = krank_open(A, "/async", O_RDWR | O_CREAT | O_TRUNC, 0644);
	CHECK(fd >= 0, "async: open /async");
	CHECK(krank_complete(A, cq, 16, 0) == 0 && krank_pending(A) == 0,
	    "async: nothing outstanding: 0 completions");

	/* Eight writes, inline and by reference, then one bell. */
	unsigned bells = F.bells;
	for (int i = 0; i < 7; i++) {
		snprintf(small[i], sizeof(small[i]), "record %d......", i);
		CHECK(krank_submit_pwrite(A, fd, small[i], 16, i * 16,
		    100 + (uint64_t)i) == 0, "async: submit pwrite %d inline", i);
	}
	memcpy(area + 8192, "record 7 by ref.", 16);
	CHECK(krank_submit_pwrite(A, fd, area + 8192, 16, 7 * 16, 107) == 0,
	    "async: submit pwrite 7 by reference");
	CHECK(krank_submit_null(A, 999) == -1 && errno == EAGAIN,
	    "async: a ninth submission while the transport holds 8: EAGAIN");
	krank_flush(A);
	CHECK(F.bells == bells + 1, "async: one bell for the batch of 8");
	CHECK(krank_pending(A) == 8, "async: 8 pending");
	int n = krank_complete(A, cq, 16, -1);
	CHECK(n == 8, "async: 8 completions: %d", n);
	bool order = true;
	for (int i = 0; i < n; i++)
		order &= cq[i].user == 100 + (uint64_t)i && cq[i].res == 16;
	CHECK(order, "async: completions in submission order, 16 bytes each");

	/* Reads: inline into buffers outside the area, and into the area. */
	memset(got, 0, sizeof(got));
	for (int i = 0; i < 4; i++)
		CHECK(krank_submit_pread(A, fd, got[i], 16, i * 16,
		    200 + (uint64_t)i) == 0, "async: submit pread %d inline", i);
	CHECK(krank_submit_pread(A, fd, area + 12288, 16, 7 * 16, 207) == 0,
	    "async: submit pread into the area");
	CHECK(krank_submit_pread(A, 9999, got[5], 16, 0, 299) == 0,
	    "async: submit pread of a descriptor that does not exist");
	krank_flush(A);
	n = krank_complete(A, cq, 16, -1);
	CHECK(n == 6, "async: 6 completions: %d", n);
	bool data = n == 6;
	for (int i = 0; i < 4 && data; i++)
		data &= cq[i].res == 16 && memcmp(got[i], small[i], 16) == 0;
	CHECK(data, "async: inline reads carry what was written");
	CHECK(n == 6 && cq[4].user == 207 && cq[4].res == 16 &&
	    memcmp(area + 12288, "record 7 by ref.", 16) == 0,
	    "async: the read into the area landed there");
	CHECK(n == 6 && cq[5].user == 299 && cq[5].res == -EBADF,
	    "async: an error completes as -EBADF: %lld",
	    n == 6 ? (long long)cq[5].res : 0LL);

	/* Mixed with synchronous calls: the sync answer is found behind the
	 * earlier submissions, which are kept for krank_complete. */
	for (int i = 0; i < 3; i++)
		CHECK(krank_submit_null(A, 300 + (uint64_t)i) == 0,
		    "async: submit null %d", i);
	struct stat st;
	CHECK(krank_fstat(A, fd, &st) == 0 && st.st_size == 128,
	    "async: a synchronous fstat behind 3 submissions: size %ld",
	    (long)st.st_size);
	CHECK(krank_pending(A) == 3, "async: the 3 completions are kept");
	n = krank_complete(A, cq, 2, 0);
	CHECK(n == 2 && cq[0].user == 300 && cq[1].user == 301 &&
	    cq[0].res == 1, "async: 2 of them (max 2), null answers version 1");
	n = krank_complete(A, cq, 16, 0);
	CHECK(n == 1 && cq[0].user == 302, "async: then the third");

	/* Payloads that would need the bounce range are refused. */
	static uint8_t big[100000];
	CHECK(krank_submit_write(A, fd, big, sizeof(big), 1) == -1 &&
	    errno == EINVAL, "async: 100 KB from outside the area: EINVAL");
	CHECK(krank_submit_read(A, fd, big, sizeof(big), 1) == -1 &&
	    errno == EINVAL, "async: a 100 KB read outside the area: EINVAL");
	CHECK(krank_pending(A) == 0, "async: nothing left pending");
	CHECK(krank_close(A, fd) == 0, "async: close");
	krank_client_destroy(A);
}

/* krank_submit_send_all: every byte taken; what the socket cannot take
 * waits in the caller's send queue, in order; a synchronous send behind
 * it is EAGAIN, a poll does not call the socket writable and sends the
 * queue as room appears; the queue's bound is ENOBUFS and a count; a
 * close after queued bytes closes once they are sent. */
static void
sa_pattern(uint8_t *b, size_t n, size_t at)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)((at + i) * 7 % 251);
}

static void
test_send_all(struct krq_caller *caller)
{
	static struct fifo G;
	static uint8_t chunk[4000], rb[65536], want[65536];
	struct krank_client *B;
	struct krank_cqe cq[8];
	struct sockaddr_in a = rd_sin4("127.0.0.1", 7102);
	int one = 1, small = 4096;

	G.caller = caller;
	struct krank_transport t = {
		.post = fifo_post, .take = fifo_take, .arg = &G,
		.post_quiet = fifo_post, .bell = fifo_bell,
		.take_wait = fifo_take_wait,
	};
	CHECK(krank_client_create(&t, &B) == 0, "send_all: a client");
	int l = krank_socket(B, AF_INET, SOCK_STREAM, 0);
	krank_setsockopt(B, l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	CHECK(krank_bind(B, l, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    krank_listen(B, l, 4) == 0, "send_all: listen on 7102");
	int c = krank_socket(B, AF_INET, SOCK_STREAM, 0);
	krank_setsockopt(B, c, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	CHECK(krank_connect(B, c, (struct sockaddr *)&a, sizeof(a)) == 0,
	    "send_all: connect");
	int sk = krank_accept(B, l, NULL, NULL);
	krank_setsockopt(B, sk, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	int fl = krank_fcntl(B, c, F_GETFL, 0);
	CHECK(sk >= 0 && krank_fcntl(B, c, F_SETFL, fl | O_NONBLOCK) == 0,
	    "send_all: accepted; the sender non-blocking");

	size_t total = 0;
	int64_t queued = 0;
	for (int i = 0; i < 200 && queued == 0; i++) {
		sa_pattern(chunk, sizeof(chunk), total);
		CHECK(krank_submit_send_all(B, c, chunk, sizeof(chunk), 1) == 0,
		    "send_all: submit %d", i);
		krank_flush(B);
		CHECK(krank_complete(B, cq, 8, -1) == 1 && cq[0].res >= 0,
		    "send_all: completion %d: %lld", i, (long long)cq[0].res);
		queued = cq[0].res;
		total += sizeof(chunk);
	}
	CHECK(queued > 0 && caller->sendq != NULL, "send_all: after %zu bytes "
	    "the socket is full and %lld wait in KRANK's queue", total,
	    (long long)queued);
	errno = 0;
	CHECK(krank_send(B, c, "z", 1, 0) == -1 && errno == EAGAIN,
	    "send_all: a synchronous send behind them: EAGAIN");
	struct pollfd pw = { .fd = c, .events = POLLOUT };
	CHECK(krank_poll(B, &pw, 1, 0) == 0, "send_all: poll does not call "
	    "the sender writable while bytes wait");

	size_t got = 0;
	bool same = true;
	for (int idle = 0; got < total && idle < 200; ) {
		ssize_t n = krank_recv(B, sk, rb, sizeof(rb), MSG_DONTWAIT);
		if (n > 0) {
			sa_pattern(want, (size_t)n, got);
			same &= memcmp(rb, want, (size_t)n) == 0;
			got += (size_t)n;
			idle = 0;
		} else {
			struct pollfd pr = { .fd = sk, .events = POLLIN };
			krank_poll(B, &pr, 1, 10);	/* sends the queue */
			idle++;
		}
	}
	CHECK(got == total && same, "send_all: the peer reads all %zu bytes "
	    "in order (got %zu)", total, got);
	CHECK(caller->sendq == NULL && caller->sendq_bytes == 0,
	    "send_all: the queue is empty");
	CHECK(krank_poll(B, &pw, 1, 1000) == 1 && (pw.revents & POLLOUT),
	    "send_all: the sender is writable again");

	/* The bound: a peer that never reads. */
	uint64_t refused = caller->sendq_refused;
	int64_t last = 0;
	for (int i = 0; i < 400 && last >= 0; i++) {
		CHECK(krank_submit_send_all(B, c, chunk, sizeof(chunk), 2) == 0,
		    "send_all: submit %d more", i);
		krank_flush(B);
		krank_complete(B, cq, 8, -1);
		last = cq[0].res;
	}
	CHECK(last == -ENOBUFS && caller->sendq_refused == refused + 1 &&
	    caller->sendq_bytes <= KRQ_SENDQ_FD_MAX, "send_all: past %d KiB "
	    "per descriptor: -ENOBUFS, counted (%zu bytes wait)",
	    KRQ_SENDQ_FD_MAX / 1024, caller->sendq_bytes);
	CHECK(krank_close(B, c) == 0 && caller->sendq != NULL,
	    "send_all: close with bytes waiting: done, the bytes still wait");
	got = 0;
	ssize_t n = 1;
	for (int idle = 0; idle < 300 && n != 0; ) {
		n = krank_recv(B, sk, rb, sizeof(rb), MSG_DONTWAIT);
		if (n > 0) {
			got += (size_t)n;
			idle = 0;
		} else if (n < 0) {
			struct pollfd pr = { .fd = sk, .events = POLLIN };
			krank_poll(B, &pr, 1, 10);
			idle++;
		}
	}
	CHECK(n == 0 && caller->sendq == NULL, "send_all: the peer reads "
	    "%zu bytes, then the end: the close happened after them", got);
	krank_close(B, sk);
	krank_close(B, l);
	krank_client_destroy(B);
}

int
main(int argc, char **argv)
{
	char err[256];
	struct krs_ctx *ctx, *ctx2;
	static struct krq_caller ck, cs;

	krk_log_init(1 << 20, 0);
	CHECK(krs_boot("vfs,tmpfs,net,ether,socket,inet", err, sizeof(err)) == 0,
	    "boot: %s", err);
	CHECK(krs_mount("t", "/", "tmpfs", 0, NULL, 0) == 0, "mount tmpfs");
	CHECK(krs_net_stack_select(0) == 0, "stack 0");
	CHECK(krs_ctx_create(0, 0, &ctx) == 0 && krs_ctx_create(0, 0, &ctx2) == 0,
	    "two contexts");
	area = aligned_alloc(4096, AREA_LEN);
	CHECK(area != NULL, "the buffer area");

	ck.ctx = ctx;
	ck.area = area;
	ck.area_len = AREA_LEN;
	LK.caller = &ck;
	struct krank_transport t = {
		.post = loop_post, .take = loop_take, .arg = &LK,
		.area = area, .area_len = AREA_LEN,
		.bounce_off = AREA_LEN - 65536, .bounce_len = 65536,
	};
	CHECK(krank_client_create(&t, &K) == 0, "client with an area");
	cs.ctx = ctx2;
	LS.caller = &cs;
	struct krank_transport ts = {
		.post = loop_post, .take = loop_take, .arg = &LS,
		.inline_max = 16, .msg_max = 512,
	};
	CHECK(krank_client_create(&ts, &S) == 0, "client without an area");
	struct krank_transport bad = t;
	bad.bounce_off = AREA_LEN - 10;
	CHECK(krank_client_create(&bad, &S) == EINVAL, "a bounce range outside "
	    "the area: EINVAL");

	test_files();
	/* Again, and everything after, with the fixed-layout frames of the
	 * hot calls (null, read, write, pread, pwrite; krq_fixed.h), as a
	 * client on KRANK's rings sends them. */
	krank_client_fixed(K, true);
	krank_client_fixed(S, true);
	test_files();
	printf("ok: the same file calls with fixed-layout frames\n");
	test_sockets();
	test_misc();
	test_chan();
	test_async(&ck);
	test_send_all(&ck);
	if (argc > 1) {
		CHECK(krk_isolates_init() == 0, "krk_isolates_init");
		test_isolates(argv[1], ctx2);
		krk_isolates_fini();
	} else
		printf("skipped: isolates (no isolate directory given; "
		    "test_krank_calls.sh builds them)\n");

	krank_client_destroy(K);
	krank_client_destroy(S);
	krq_leave();
	CHECK(krs_ctx_destroy(ctx) == 0 && krs_ctx_destroy(ctx2) == 0,
	    "contexts go");
	free(area);
	krs_shutdown();
	DONE();
}
