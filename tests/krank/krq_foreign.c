/*
 * krq_foreign - clients of a running KRANK for test_krank_foreign.sh, a
 * plain Linux program on libkrank: a good client that times its calls
 * while others misbehave, the hostile ones (garbage, out-of-range
 * buffers, descriptors of others, a flood, death mid-call), the process
 * spawn --foreign starts and SIGKILL ends holding a listener, a
 * connection and a channel, and its peer that checks what is left.
 * Prints one line per check; exit 0 when all pass.
 *   krq_foreign MODE SOCKET ARGS...   (SOCKET "-": $KRANK_ATTACH)
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <krank/krank.h>
#include <krank/krq.h>
#include "../testclock.h"

static int failures;

#define CHECK(cond, ...) do {						\
	int ok_ = (cond);						\
	printf("%s: ", ok_ ? "ok" : "FAIL");				\
	printf(__VA_ARGS__);						\
	printf("\n");							\
	fflush(stdout);							\
	if (!ok_)							\
		failures++;						\
} while (0)

static void
nap_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };
	nanosleep(&ts, NULL);
}

/* Poll for a file another process creates (deadline in seconds). */
static bool
wait_file(const char *path, unsigned secs)
{
	uint64_t end = now_ns() + (uint64_t)secs * 1000000000u;
	while (access(path, F_OK) != 0) {
		if (now_ns() > end)
			return false;
		nap_ms(10);
	}
	return true;
}

static void
touch(const char *path)
{
	int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	if (fd >= 0)
		close(fd);
}

static struct krq *
attach(const char *sock, unsigned nrings)
{
	struct krq *q;
	int e = krq_attach(sock, nrings, &q);
	if (e != 0) {
		printf("FAIL: attach to %s: %s (%s)\n", sock, strerror(e),
		    krq_attach_error());
		exit(1);
	}
	return q;
}

static struct krank_client *
client(struct krq *q, unsigned ring)
{
	struct krank_client *c;
	if (krank_client_ring(q, ring, &c) != 0) {
		printf("FAIL: client on ring %u\n", ring);
		exit(1);
	}
	return c;
}

static struct sockaddr_in
loopback(unsigned port)
{
	struct sockaddr_in s = { .sin_family = AF_INET,
	    .sin_port = htons((uint16_t)port),
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	return s;
}

/* good SOCK SECONDS MAXLAT_MS READYFILE: calls for SECONDS, each within
 * MAXLAT_MS, on a file and descriptors of its own that stay intact. */
static int
m_good(const char *sock, char **a)
{
	unsigned secs = (unsigned)atoi(a[0]), maxlat = (unsigned)atoi(a[1]);
	struct krq *q = attach(sock, 1);
	struct krank_client *c = client(q, 0);
	char path[64], buf[64], back[64];
	snprintf(path, sizeof(path), "/good-%d", (int)getpid());
	int fd = krank_open(c, path, O_CREAT | O_RDWR | O_TRUNC, 0644);
	CHECK(fd >= 0, "good: open %s: fd %d", path, fd);
	snprintf(buf, sizeof(buf), "the good client's data %d", (int)getpid());
	CHECK(krank_pwrite(c, fd, buf, strlen(buf), 0) == (ssize_t)strlen(buf),
	    "good: pwrite");
	touch(a[2]);
	uint64_t t0 = now_ns(), end = t0 + (uint64_t)secs * 1000000000u;
	uint64_t worst = 0, worst_at = 0;
	unsigned long slow = 0;
	unsigned long calls = 0, bad = 0;
	while (now_ns() < end) {
		uint64_t t = now_ns();
		ssize_t n = krank_pread(c, fd, back, strlen(buf), 0);
		int v = krank_null(c);
		t = now_ns() - t;
		if (t > worst) {
			worst = t;
			worst_at = now_ns() - t0;
		}
		slow += t > 100000000u;
		if (n != (ssize_t)strlen(buf) || memcmp(back, buf, (size_t)n) ||
		    v < 1)
			bad++;
		calls += 2;
		nap_ms(1);
	}
	CHECK(bad == 0, "good: %lu calls answered correctly while the others "
	    "ran (%lu wrong)", calls, bad);
	CHECK(worst <= (uint64_t)maxlat * 1000000u, "good: slowest pair of "
	    "calls %.1f ms, %.1f s in (deadline %u ms); %lu over 100 ms",
	    (double)worst / 1e6, (double)worst_at / 1e9, maxlat, slow);
	char reason[128];
	CHECK(krq_status(q, reason, sizeof(reason)) == 0, "good: still "
	    "served, never cut off");
	CHECK(krank_close(c, fd) == 0 && krank_unlink(c, path) == 0,
	    "good: its descriptor was its own to the end");
	krank_client_destroy(c);
	krq_unmap(q);
	return failures ? 1 : 0;
}

/* garbage SOCK: bytes that are no request; KRANK must cut it off. */
static int
m_garbage(const char *sock, char **a)
{
	(void)a;
	struct krq *q = attach(sock, 1);
	unsigned seed = 12345;
	unsigned char msg[256], resp[4096];
	int rejected = 0, sent = 0, e = 0;
	for (int i = 0; i < 200; i++, sent++) {
		size_t len = 1 + (size_t)(rand_r(&seed) % sizeof(msg));
		for (size_t k = 0; k < len; k++)
			msg[k] = (unsigned char)rand_r(&seed);
		msg[0] = 0xff;		/* never a valid field tag 1..: */
		if ((e = krq_post(q, 0, msg, len)) != 0)
			break;
		krq_bell(q, 0);
		size_t rl;
		e = krq_take(q, 0, resp, sizeof(resp), &rl, 5000000000LL);
		if (e == EBADMSG || e == 0)
			rejected += e == EBADMSG;
		else
			break;
	}
	char reason[192] = "";
	int st = krq_status(q, reason, sizeof(reason));
	CHECK(st == EPIPE && reason[0] != '\0', "garbage: cut off after %d "
	    "messages (%d answered with no body): %s", sent, rejected, reason);
	krq_unmap(q);
	return failures ? 1 : 0;
}

/* fixed SOCK: fixed-layout frames (docs/api.md; built here byte by byte
 * from the documented layout) that are malformed, or name a range past
 * the buffer area: each is answered with a fixed error response (EBADMSG,
 * EFAULT) until KRANK cuts the client off. */
static void
fx_frame(unsigned char *m, unsigned call, unsigned where, int32_t fd,
    uint64_t tag, int64_t off, uint32_t len, uint32_t aoff)
{
	memset(m, 0, 32);
	m[1] = (unsigned char)call;
	m[2] = (unsigned char)where;
	memcpy(m + 4, &fd, 4);
	memcpy(m + 8, &tag, 8);
	memcpy(m + 16, &off, 8);
	memcpy(m + 24, &len, 4);
	memcpy(m + 28, &aoff, 4);
}

static int
m_fixed(const char *sock, char **a)
{
	(void)a;
	struct krq *q = attach(sock, 1);
	size_t alen;
	(void)krq_area(q, &alen);
	CHECK(krq_features(q) & 1, "fixed: KRANK offers fixed frames");
	unsigned seed = 4242;
	unsigned char msg[128], resp[4096];
	int answered = 0, efault = 0, ebadmsg = 0, sent = 0, e = 0;
	for (int i = 0; i < 200; i++, sent++) {
		size_t len = 32;
		if (i % 2 == 0) {
			/* pread of 64 bytes into the area, past its end. */
			fx_frame(msg, 7, 1, 0, 1000 + (uint64_t)i, 0, 64,
			    (uint32_t)alen - 32);
		} else {
			len = 1 + (size_t)(rand_r(&seed) % sizeof(msg));
			for (size_t k = 0; k < len; k++)
				msg[k] = (unsigned char)rand_r(&seed);
			msg[0] = 0;		/* a fixed frame ... */
			if (len > 3)
				msg[3] = 0x80;	/* ... reserved byte set */
		}
		if ((e = krq_post(q, 0, msg, len)) != 0)
			break;
		krq_bell(q, 0);
		size_t rl;
		e = krq_take(q, 0, resp, sizeof(resp), &rl, 5000000000LL);
		if (e != 0)
			break;
		int32_t err;
		memcpy(&err, resp + 4, 4);
		if (rl < 24 || resp[0] != 0 || err == 0)
			break;		/* not a fixed error response */
		answered++;
		efault += err == 14;		/* NetBSD EFAULT */
		ebadmsg += err == 88;		/* NetBSD EBADMSG */
	}
	char reason[192] = "";
	int st = krq_status(q, reason, sizeof(reason));
	CHECK(st == EPIPE && reason[0] != '\0' && efault > 0 && ebadmsg > 0 &&
	    answered >= sent - 1, "fixed: %d frames answered (%d EFAULT, %d "
	    "EBADMSG), then cut off: %s", answered, efault, ebadmsg, reason);
	krq_unmap(q);
	return failures ? 1 : 0;
}

/* range SOCK: buffers outside the area (the library is told the area is
 * larger than it is, so it sends the offsets as they are). */
struct lie {
	struct krq *q;
};

static int
lie_post(void *arg, const void *msg, size_t len)
{
	struct lie *l = arg;
	int e = krq_post(l->q, 0, msg, len);
	if (e == 0)
		krq_bell(l->q, 0);
	return e;
}

static int
lie_take(void *arg, void *buf, size_t cap, size_t *lenp)
{
	struct lie *l = arg;
	return krq_take(l->q, 0, buf, cap, lenp, -1);
}

static int
m_range(const char *sock, char **a)
{
	(void)a;
	struct krq *q = attach(sock, 1);
	size_t alen;
	unsigned char *area = krq_area(q, &alen);
	struct lie l = { q };
	struct krank_transport t = { .post = lie_post, .take = lie_take,
	    .arg = &l, .area = area, .area_len = (size_t)1 << 46,
	    .msg_max = krq_slot_cap(q) };
	struct krank_client *c;
	if (area == NULL || krank_client_create(&t, &c) != 0) {
		CHECK(0, "range: a client over a lying transport");
		return 1;
	}
	int fd = krank_open(c, "/range-file", O_CREAT | O_RDWR | O_TRUNC, 0644);
	CHECK(fd >= 0, "range: open: fd %d", fd);
	/* Never dereferenced here: the library sends only the offset. */
	unsigned char *past = area + alen + 4096;
	unsigned char *far = area + ((size_t)1 << 45);
	errno = 0;
	CHECK(krank_write(c, fd, past, 100) == -1 && errno == EFAULT,
	    "range: write from offset area+%zu: EFAULT (%s)",
	    (size_t)(past - area), strerror(errno));
	errno = 0;
	CHECK(krank_read(c, fd, far, 100) == -1 && errno == EFAULT,
	    "range: read into offset 2^45: EFAULT (%s)", strerror(errno));
	errno = 0;
	CHECK(krank_write(c, fd, area + alen - 10, 100) == -1 &&
	    errno == EFAULT, "range: write straddling the area's end: EFAULT");
	CHECK(krank_write(c, fd, area, 16) == 16, "range: a buffer inside the "
	    "area still works after");
	krank_close(c, fd);
	krank_unlink(c, "/range-file");
	krank_client_destroy(c);
	krq_unmap(q);
	return failures ? 1 : 0;
}

/* fds SOCK N: descriptors 0..N-1 are not ours (another client holds
 * some of those numbers): each call on them is EBADF. */
static int
m_fds(const char *sock, char **a)
{
	int n = atoi(a[0]);
	struct krq *q = attach(sock, 1);
	struct krank_client *c = client(q, 0);
	char b[16];
	struct stat st;
	int ebadf = 0;
	for (int fd = 0; fd < n; fd++) {
		errno = 0;
		ebadf += krank_read(c, fd, b, sizeof(b)) == -1 && errno == EBADF;
		errno = 0;
		ebadf += krank_fstat(c, fd, &st) == -1 && errno == EBADF;
		errno = 0;
		ebadf += krank_close(c, fd) == -1 && errno == EBADF;
	}
	CHECK(ebadf == 3 * n, "fds: read, fstat and close of descriptors "
	    "0..%d it never opened: %d of %d EBADF", n - 1, ebadf, 3 * n);
	krank_client_destroy(c);
	krq_unmap(q);
	return failures ? 1 : 0;
}

/* fdlimit SOCK N: attach.fds is N: N descriptors open, one more is
 * EMFILE, and closing one makes room again. */
static int
m_fdlimit(const char *sock, char **a)
{
	int n = atoi(a[0]), got = 0, e = 0;
	struct krq *q = attach(sock, 1);
	struct krank_client *c = client(q, 0);
	for (int i = 0; i < n + 8; i++) {
		int fd = krank_open(c, "/", O_RDONLY, 0);
		if (fd < 0) {
			e = errno;
			break;
		}
		got++;
	}
	CHECK(got == n && e == EMFILE, "fdlimit: %d descriptors opened, then "
	    "%s (attach.fds %d)", got, e ? strerror(e) : "no error", n);
	CHECK(krank_close(c, 0) == 0 && krank_open(c, "/", O_RDONLY, 0) == 0,
	    "fdlimit: after a close, one more opens");
	krank_client_destroy(c);
	krq_unmap(q);
	return failures ? 1 : 0;
}

/* many SOCK N: N more attachments are allowed (attach.max), the next
 * is refused with the reason. */
static int
m_many(const char *sock, char **a)
{
	int n = atoi(a[0]), got = 0, e = 0;
	struct krq *qs[64];
	while (got < 64) {
		if ((e = krq_attach(sock, 1, &qs[got])) != 0)
			break;
		got++;
	}
	CHECK(got == n && e == EIO && strstr(krq_attach_error(), "attach.max"),
	    "many: %d attachments, then: %s", got, krq_attach_error());
	while (got > 0)
		krq_unmap(qs[--got]);
	return failures ? 1 : 0;
}

/* flood SOCK SECONDS: every ring as fast as it goes. */
struct flood {
	struct krq *q;
	unsigned ring;
	uint64_t end;
	unsigned long calls;
};

static void *
flood_main(void *arg)
{
	struct flood *f = arg;
	struct krank_client *c = client(f->q, f->ring);
	while (now_ns() < f->end)
		for (int i = 0; i < 64; i++)
			f->calls += krank_null(c) >= 1;
	krank_client_destroy(c);
	return NULL;
}

static int
m_flood(const char *sock, char **a)
{
	struct krq *q = attach(sock, 0);
	unsigned nr = krq_nrings(q);
	struct flood f[64];
	pthread_t th[64];
	uint64_t end = now_ns() + (uint64_t)atoi(a[0]) * 1000000000u;
	for (unsigned r = 0; r < nr && r < 64; r++) {
		f[r] = (struct flood){ q, r, end, 0 };
		pthread_create(&th[r], NULL, flood_main, &f[r]);
	}
	unsigned long total = 0;
	for (unsigned r = 0; r < nr && r < 64; r++) {
		pthread_join(th[r], NULL);
		total += f[r].calls;
	}
	CHECK(total > 0, "flood: %lu calls on %u rings", total, nr);
	krq_unmap(q);
	return failures ? 1 : 0;
}

/* midcall SOCK READYFILE: blocked in accept on one ring and in a long
 * sleep on another when the test kills it. */
static struct krq *mq;

static void *
sleeper(void *arg)
{
	(void)arg;
	struct krank_client *c = client(mq, 1);
	struct timespec ts = { 3600, 0 };
	krank_nanosleep(c, &ts);
	return NULL;
}

static int
m_midcall(const char *sock, char **a)
{
	mq = attach(sock, 2);
	struct krank_client *c = client(mq, 0);
	struct sockaddr_in s = loopback(0);
	int ls = krank_socket(c, AF_INET, SOCK_STREAM, 0);
	if (ls < 0 || krank_bind(c, ls, (struct sockaddr *)&s,
	    sizeof(s)) != 0 || krank_listen(c, ls, 4) != 0) {
		printf("FAIL: midcall: listener\n");
		return 1;
	}
	pthread_t th;
	if (krq_nrings(mq) > 1)
		pthread_create(&th, NULL, sleeper, NULL);
	touch(a[0]);
	krank_accept(c, ls, NULL, NULL);	/* blocks until killed */
	printf("FAIL: midcall: accept returned\n");
	return 1;
}

/* victim - PORT CHAN READYFILE: started by spawn --foreign (attaches
 * through $KRANK_ATTACH), holds a listener, a connection and a channel,
 * and is killed inside recv. */
static int
m_victim(const char *sock, char **a)
{
	struct krq *q = attach(sock, 1);
	struct krank_client *c = client(q, 0);
	struct sockaddr_in s = loopback((unsigned)atoi(a[0]));
	int ls = krank_socket(c, AF_INET, SOCK_STREAM, 0);
	int ch = krank_chan_create(c, a[1], 4, 4096, 0);
	if (ls < 0 || krank_bind(c, ls, (struct sockaddr *)&s,
	    sizeof(s)) != 0 || krank_listen(c, ls, 4) != 0 || ch < 0) {
		printf("FAIL: victim: listener on %s or channel %s: %s\n", a[0],
		    a[1], strerror(errno));
		return 1;
	}
	touch(a[2]);
	int as = krank_accept(c, ls, NULL, NULL);
	char b[16];
	if (as >= 0)
		krank_recv(c, as, b, sizeof(b), 0);	/* killed in here */
	printf("FAIL: victim: still alive\n");
	return 1;
}

/* peer SOCK PORT CHAN READYFILE CONNFILE KILLEDFILE */
static int
m_peer(const char *sock, char **a)
{
	unsigned port = (unsigned)atoi(a[0]);
	const char *chan = a[1];
	if (!wait_file(a[2], 20)) {
		printf("FAIL: peer: the victim never got ready\n");
		return 1;
	}
	struct krq *q = attach(sock, 1);
	struct krank_client *c = client(q, 0);
	struct sockaddr_in s = loopback(port);
	int cs = krank_socket(c, AF_INET, SOCK_STREAM, 0);
	CHECK(cs >= 0 && krank_connect(c, cs, (struct sockaddr *)&s,
	    sizeof(s)) == 0, "peer: connected to the victim's port %u", port);
	int sfd = krank_chan_open(c, chan, 0);
	CHECK(sfd >= 0, "peer: holds the send end of the victim's channel %s",
	    chan);
	touch(a[3]);
	if (!wait_file(a[4], 30)) {
		printf("FAIL: peer: the victim was never killed\n");
		return 1;
	}
	/* The connection: reset or closed, at once. */
	struct pollfd p = { .fd = cs, .events = POLLIN };
	uint64_t t0 = now_ns();
	int pr = krank_poll(c, &p, 1, 5000);
	char b[16];
	errno = 0;
	ssize_t n = krank_recv(c, cs, b, sizeof(b), 0);
	int rerr = errno;
	CHECK(pr == 1 && (n == 0 || (n < 0 && rerr == ECONNRESET)),
	    "peer: the connection was %s after %.1f ms (poll %d, recv %zd, %s)",
	    n == 0 ? "closed" : "reset", (double)(now_ns() - t0) / 1e6, pr, n,
	    n < 0 ? strerror(rerr) : "end of stream");
	krank_close(c, cs);
	/* The channel: the receiver is gone. */
	uint64_t off;
	int ae = krank_chan_alloc(c, sfd, 0, &off);
	int se = ae == 0 ? krank_chan_send(c, sfd, off, 1) : -1;
	int serr = errno;
	CHECK(ae != 0 || se != 0, "peer: sending on the channel fails "
	    "(alloc %d, send %d: %s)", ae, se, strerror(serr));
	errno = 0;
	CHECK(krank_chan_open(c, chan, 0) == -1 && errno == ENOENT,
	    "peer: the channel's name is gone (%s)", strerror(errno));
	krank_close(c, sfd);
	/* The port: bound again at once, without SO_REUSEADDR. */
	int ls = krank_socket(c, AF_INET, SOCK_STREAM, 0);
	errno = 0;
	int br = krank_bind(c, ls, (struct sockaddr *)&s, sizeof(s));
	CHECK(br == 0 && krank_listen(c, ls, 4) == 0, "peer: port %u bound "
	    "and listened on again at once (%s)", port,
	    br ? strerror(errno) : "ok");
	krank_close(c, ls);
	krank_client_destroy(c);
	krq_unmap(q);
	return failures ? 1 : 0;
}

/* refused SOCK: this user may not attach; the reason is one line. */
static int
m_refused(const char *sock, char **a)
{
	(void)a;
	struct krq *q;
	int e = krq_attach(sock, 1, &q);
	CHECK(e == EIO && strstr(krq_attach_error(), "may not attach") != NULL,
	    "refused: uid %u: %s (%s)", (unsigned)getuid(), strerror(e),
	    krq_attach_error());
	if (e == 0)
		krq_unmap(q);
	return failures ? 1 : 0;
}

static const struct {
	const char *name;
	int nargs;
	int (*fn)(const char *, char **);
} modes[] = {
	{ "good", 3, m_good }, { "garbage", 0, m_garbage },
	{ "fixed", 0, m_fixed },
	{ "range", 0, m_range }, { "fds", 1, m_fds },
	{ "fdlimit", 1, m_fdlimit }, { "many", 1, m_many },
	{ "flood", 1, m_flood }, { "midcall", 1, m_midcall },
	{ "victim", 3, m_victim }, { "peer", 5, m_peer },
	{ "refused", 0, m_refused },
};

int
main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	for (size_t i = 0; argc >= 3 && i < sizeof(modes) / sizeof(modes[0]);
	    i++)
		if (strcmp(argv[1], modes[i].name) == 0 &&
		    argc == 3 + modes[i].nargs) {
			const char *sock = argv[2];
			if (strcmp(sock, "-") == 0)
				sock = getenv("KRANK_ATTACH");
			if (sock == NULL) {
				printf("FAIL: no socket (KRANK_ATTACH unset)\n");
				return 1;
			}
			return modes[i].fn(sock, argv + 3);
		}
	fprintf(stderr, "usage: krq_foreign MODE SOCKET ARGS... (good S SECS "
	    "MAXMS READY, garbage S, fixed S, range S, fds S N, fdlimit S N, many S N, flood S SECS, midcall "
	    "S READY, victim S PORT CHAN READY, peer S PORT CHAN READY CONN "
	    "KILLED, refused S)\n");
	return 2;
}
