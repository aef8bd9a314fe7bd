/*
 * krq_e2e - a Linux process uses a running KRANK through libkrank, as a
 * user's program would (installed headers, libkrank only): attach over
 * the control socket, then on two rings from two threads at once files
 * on KRANK's tmpfs (payloads inline, bounced and by reference in the
 * buffer area, read back and compared), directories, errors as errno,
 * TCP over KRANK's own stack (127.0.0.1 inside KRANK), and a zero-copy
 * channel to a second attached process.  Prints one
 * line per check; exit 0 when all pass.
 *   krq_e2e CTLSOCK DIR
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <krank/krank.h>
#include <krank/krq.h>

static int failures;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

/* cond is evaluated once (it makes calls) before the message. */
#define CHECK(cond, ...) do {						\
	int ok_ = (cond);						\
	pthread_mutex_lock(&out_lock);					\
	printf("%s: ", ok_ ? "ok" : "FAIL");				\
	printf(__VA_ARGS__);						\
	printf("\n");							\
	fflush(stdout);							\
	if (!ok_)							\
		failures++;						\
	pthread_mutex_unlock(&out_lock);				\
} while (0)

static struct krq *q;
static const char *dir, *ctlsock;

struct job {
	unsigned ring;
	char name[64];
};

/* A file written three ways and read back the same three ways. */
static void *
files(void *arg)
{
	struct job *j = arg;
	struct krank_client *c;
	char path[256];
	static char big[2][200000];
	char small[64], back[64];
	size_t alen;
	unsigned char *area = krq_area(q, &alen);
	int e, fd;

	if ((e = krank_client_ring(q, j->ring, &c)) != 0) {
		CHECK(0, "%s: client on ring %u: %s", j->name, j->ring,
		    strerror(e));
		return NULL;
	}
	CHECK(krank_null(c) >= 1, "%s: null call answers the API version",
	    j->name);
	snprintf(path, sizeof(path), "%s/%s", dir, j->name);
	fd = krank_open(c, path, O_CREAT | O_RDWR | O_TRUNC, 0644);
	CHECK(fd >= 0, "%s: open(O_CREAT) of %s: fd %d (%s)", j->name, path,
	    fd, fd < 0 ? strerror(errno) : "ok");
	if (fd < 0)
		goto out;
	/* Inline: a small buffer of our own. */
	snprintf(small, sizeof(small), "hello from ring %u", j->ring);
	ssize_t n = krank_write(c, fd, small, strlen(small));
	CHECK(n == (ssize_t)strlen(small), "%s: write of %zu bytes inline: %zd",
	    j->name, strlen(small), n);
	/* Bounced: larger than any inline payload, not in the area. */
	char *b = big[j->ring & 1];
	for (size_t i = 0; i < sizeof(big[0]); i++)
		b[i] = (char)(i * 7 + j->ring);
	n = krank_write(c, fd, b, sizeof(big[0]));
	CHECK(n == (ssize_t)sizeof(big[0]), "%s: write of %zu bytes through the "
	    "bounce range: %zd", j->name, sizeof(big[0]), n);
	/* By reference: a buffer in the area, past the bounce ranges
	 * (those take the whole area split by rings: use the last 4 KiB of
	 * this ring's range, which a bounce of <= 200000 bytes leaves). */
	size_t slice = alen / krq_nrings(q) & ~(size_t)63;
	unsigned char *ref = area + slice * j->ring + slice - 4096;
	memset(ref, 'A' + (int)j->ring, 4096);
	n = krank_write(c, fd, ref, 4096);
	CHECK(n == 4096, "%s: write of 4096 bytes by reference: %zd", j->name,
	    n);
	struct stat st;
	CHECK(krank_fstat(c, fd, &st) == 0 && st.st_size ==
	    (off_t)(strlen(small) + sizeof(big[0]) + 4096) && S_ISREG(st.st_mode),
	    "%s: fstat: size %lld", j->name, (long long)st.st_size);
	n = krank_pread(c, fd, back, strlen(small), 0);
	CHECK(n == (ssize_t)strlen(small) && memcmp(back, small, (size_t)n) == 0,
	    "%s: pread of the inline part matches", j->name);
	static char rb[2][200000];
	char *r = rb[j->ring & 1];
	n = krank_pread(c, fd, r, sizeof(big[0]), (off_t)strlen(small));
	CHECK(n == (ssize_t)sizeof(big[0]) && memcmp(r, b, sizeof(big[0])) == 0,
	    "%s: pread of the bounced part matches", j->name);
	memset(ref, 0, 4096);
	n = krank_pread(c, fd, ref, 4096, (off_t)(strlen(small) +
	    sizeof(big[0])));
	CHECK(n == 4096 && ref[0] == 'A' + j->ring && ref[4095] == 'A' + j->ring,
	    "%s: pread into the area by reference matches", j->name);
	/* The rings share one descriptor table, and another ring's open may
	 * take fd's number the moment it is closed: check a number nobody
	 * else uses (descriptors are allocated lowest first). */
	int hi = 100 + (int)j->ring;
	CHECK(krank_dup2(c, fd, hi) == hi && krank_close(c, hi) == 0,
	    "%s: dup2 to %d, close it", j->name, hi);
	CHECK(krank_read(c, hi, back, 1) == -1 && errno == EBADF,
	    "%s: read of the closed fd: EBADF", j->name);
	CHECK(krank_close(c, fd) == 0, "%s: close", j->name);
	CHECK(krank_unlink(c, path) == 0 && krank_stat(c, path, &st) == -1 &&
	    errno == ENOENT, "%s: unlink, then stat gives ENOENT", j->name);
out:
	krank_client_destroy(c);
	return NULL;
}

static void
tcp(void)
{
	struct krank_client *c;
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sin);
	char buf[32];

	if (krank_client_ring(q, 0, &c) != 0) {
		CHECK(0, "tcp: client");
		return;
	}
	int ls = krank_socket(c, AF_INET, SOCK_STREAM, 0);
	CHECK(ls >= 0 && krank_bind(c, ls, (struct sockaddr *)&sin,
	    sizeof(sin)) == 0 && krank_listen(c, ls, 4) == 0 &&
	    krank_getsockname(c, ls, (struct sockaddr *)&sin, &sl) == 0 &&
	    sin.sin_port != 0, "tcp: a listener on KRANK's 127.0.0.1:%u",
	    ntohs(sin.sin_port));
	int cs = krank_socket(c, AF_INET, SOCK_STREAM, 0);
	/* Connect on loopback completes without the accept. */
	CHECK(cs >= 0 && krank_connect(c, cs, (struct sockaddr *)&sin,
	    sizeof(sin)) == 0, "tcp: connect");
	int as = krank_accept(c, ls, NULL, NULL);
	CHECK(as >= 0, "tcp: accept");
	CHECK(krank_send(c, cs, "ping", 4, 0) == 4, "tcp: send");
	ssize_t n = krank_recv(c, as, buf, sizeof(buf), 0);
	CHECK(n == 4 && memcmp(buf, "ping", 4) == 0,
	    "tcp: the accepted socket receives what was sent");
	krank_close(c, as);
	krank_close(c, cs);
	krank_close(c, ls);
	krank_client_destroy(c);
}

/*
 * A channel between two processes, both queue clients: this one creates
 * it and receives; a forked child attaches on its own, takes the send
 * end, maps the pool (krq_chan_map) and writes each message straight
 * into a pool buffer; the receiver reads it in its own mapping of the
 * same buffer.  Nothing is copied between them.
 */
#define CHAN_MSGS 200

static void
chan(void)
{
	struct krank_client *c;
	void *base;
	size_t size;
	char name[40];

	snprintf(name, sizeof(name), "e2e-%d", (int)getpid());
	if (krank_client_ring(q, 0, &c) != 0) {
		CHECK(0, "chan: client");
		return;
	}
	int rfd = krank_chan_create(c, name, 8, 4096, 0);
	CHECK(rfd >= 0, "chan: created %s (8 buffers of 4096 bytes): fd %d",
	    name, rfd);
	int e = krq_chan_map(ctlsock, name, &base, &size);
	CHECK(e == 0 && size >= 8 * 4096, "chan: its pool mapped here "
	    "(%zu bytes): %s", size, e ? strerror(e) : "ok");
	if (e == 0)
		munmap(base, size);
	e = krq_chan_map(ctlsock, "no-such-chan", &base, &size);
	CHECK(e == EIO && strstr(krq_attach_error(), "no such channel") != NULL,
	    "chan: mapping an unknown channel: %s", krq_attach_error());
	e = krq_chan_map(ctlsock, name, &base, &size);
	if (rfd < 0 || e != 0)
		return;
	pid_t pid = fork();
	if (pid == 0) {
		struct krq *q2;
		struct krank_client *c2;
		void *b2;
		size_t s2;
		if (krq_attach(ctlsock, 1, &q2) != 0 ||
		    krank_client_ring(q2, 0, &c2) != 0 ||
		    krq_chan_map(ctlsock, name, &b2, &s2) != 0)
			_exit(3);
		int sfd = krank_chan_open(c2, name, 0);
		if (sfd < 0)
			_exit(4);
		for (int i = 0; i < CHAN_MSGS; i++) {
			uint64_t off;
			if (krank_chan_alloc(c2, sfd, -1, &off) != 0 ||
			    off + 4096 > s2)
				_exit(5);
			int n = snprintf((char *)b2 + off, 4096,
			    "message %d from pid %d", i, (int)getpid());
			if (krank_chan_send(c2, sfd, off, (uint32_t)n + 1) != 0)
				_exit(6);
		}
		krank_close(c2, sfd);	/* end of stream */
		_exit(0);
	}
	int got = 0, badmsg = 0;
	for (;;) {
		uint64_t off;
		uint32_t len;
		char want[64];
		if (krank_chan_recv(c, rfd, 10000, &off, &len) != 0) {
			badmsg++;
			break;
		}
		if (len == 0)
			break;		/* the sender closed: the end */
		snprintf(want, sizeof(want), "message %d from pid %d", got,
		    (int)pid);
		if (off + len > size || strcmp((char *)base + off, want) != 0)
			badmsg++;
		got++;
		krank_chan_release(c, rfd, off);
	}
	int st = 0;
	waitpid(pid, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "chan: the sending "
	    "process (another attachment) exited %d", WIFEXITED(st) ?
	    WEXITSTATUS(st) : -1);
	CHECK(got == CHAN_MSGS && badmsg == 0, "chan: %d of %d messages "
	    "read in place from the shared pool, in order, then end of stream "
	    "(%d bad)", got, CHAN_MSGS, badmsg);
	krank_close(c, rfd);
	munmap(base, size);
	krank_client_destroy(c);
}

/*
 * The asynchronous calls over a real ring: 64 pwrites by reference from
 * the buffer area behind one doorbell, completed in order, then 64
 * preads into the area, checked byte for byte.
 */
static void
async_io(void)
{
	struct krank_client *c;
	struct krank_cqe cq[64];
	char path[256];
	size_t alen;
	uint8_t *area = krq_area(q, &alen);

	if (krank_client_ring(q, 0, &c) != 0 || area == NULL ||
	    alen < 2 * 64 * 512) {
		CHECK(0, "async: a client on ring 0 with a 64 KiB area");
		return;
	}
	snprintf(path, sizeof(path), "%s/async", strcmp(dir, "/") ? dir : "");
	int fd = krank_open(c, path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	CHECK(fd >= 0, "async: open %s", path);
	uint8_t *out = area, *in = area + 64 * 512;
	for (int i = 0; i < 64 * 512; i++)
		out[i] = (uint8_t)(i * 13 + i / 509);
	int sub = 0;
	for (int i = 0; i < 64; i++)
		sub += krank_submit_pwrite(c, fd, out + i * 512, 512,
		    (off_t)i * 512, (uint64_t)i) == 0;
	krank_flush(c);
	CHECK(sub == 64, "async: 64 pwrites of 512 B by reference submitted");
	int got = 0, good = 0;
	while (got < 64) {
		int n = krank_complete(c, cq, 64, 5000000000LL);
		if (n <= 0)
			break;
		for (int i = 0; i < n; i++)
			good += cq[i].user == (uint64_t)(got + i) &&
			    cq[i].res == 512;
		got += n;
	}
	CHECK(got == 64 && good == 64, "async: 64 completions in order, 512 "
	    "bytes each (%d, %d good)", got, good);
	memset(in, 0, 64 * 512);
	sub = 0;
	for (int i = 0; i < 64; i++)
		sub += krank_submit_pread(c, fd, in + i * 512, 512,
		    (off_t)i * 512, 1000 + (uint64_t)i) == 0;
	krank_flush(c);
	got = good = 0;
	while (got < 64) {
		int n = krank_complete(c, cq, 64, 5000000000LL);
		if (n <= 0)
			break;
		for (int i = 0; i < n; i++)
			good += cq[i].res == 512;
		got += n;
	}
	CHECK(sub == 64 && got == 64 && good == 64 &&
	    memcmp(in, out, 64 * 512) == 0, "async: 64 preads into the area "
	    "read back every byte");
	CHECK(krank_complete(c, cq, 64, 0) == 0 && krank_pending(c) == 0,
	    "async: nothing left outstanding");
	krank_close(c, fd);
	krank_client_destroy(c);
}

/*
 * One end of a channel whose other end is an in-process isolate
 * (tests/bench/iso_chanbench.c, run by test_krank_chan_foreign.sh):
 *   send: open NAME's send end (waiting up to 10 s for the isolate to
 *         create it), write n messages, each starting with its sequence
 *         number, straight into the mapped pool, then close (end of
 *         stream);
 *   recv: create NAME (8 buffers of 512 bytes), print "created", and take
 *         messages until end of stream, checking their sequence numbers;
 *         n must arrive.
 * Exit status 0 when all went as said.
 */
static int
chan_peer(int send, const char *name, long n)
{
	struct krank_client *c;
	void *base;
	size_t size;
	int fd = -1;

	if (krank_client_ring(q, 0, &c) != 0)
		return 10;
	if (send) {
		for (int i = 0; i < 1000 && fd < 0; i++) {
			fd = krank_chan_open(c, name, 0);
			if (fd < 0 && errno == ENOENT) {
				struct timespec ts = { 0, 10000000 };
				nanosleep(&ts, NULL);	/* setup only */
			}
		}
	} else
		fd = krank_chan_create(c, name, 8, 512, 0);
	if (fd < 0 || krq_chan_map(ctlsock, name, &base, &size) != 0) {
		printf("FAIL: channel %s: %s\n", name, strerror(errno));
		return 11;
	}
	if (!send) {
		printf("created %s\n", name);
		fflush(stdout);
	}
	long i = 0, bad = 0;
	for (;; i++) {
		uint64_t off, seq;
		uint32_t len;
		if (send) {
			if (i == n)
				break;
			if (krank_chan_alloc(c, fd, 10000, &off) != 0 ||
			    off + 512 > size)
				return 12;
			seq = (uint64_t)i;
			memcpy((char *)base + off, &seq, sizeof(seq));
			if (krank_chan_send(c, fd, off, 512) != 0)
				return 13;
			continue;
		}
		if (krank_chan_recv(c, fd, 10000, &off, &len) != 0)
			return 14;
		if (len == 0)
			break;
		memcpy(&seq, (char *)base + off, sizeof(seq));
		bad += off + len > size || seq != (uint64_t)i;
		krank_chan_release(c, fd, off);
	}
	krank_close(c, fd);
	printf("%s %ld messages on %s, %ld out of order\n", send ? "sent" :
	    "received", i, name, bad);
	munmap(base, size);
	krank_client_destroy(c);
	return i == n && bad == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	int e;

	if (argc == 5 && (strcmp(argv[2], "--chan-send") == 0 ||
	    strcmp(argv[2], "--chan-recv") == 0)) {
		ctlsock = argv[1];
		if ((e = krq_attach(argv[1], 1, &q)) != 0) {
			printf("FAIL: attach to %s: %s\n", argv[1], strerror(e));
			return 1;
		}
		int rc = chan_peer(argv[2][7] == 's', argv[3], atol(argv[4]));
		krq_unmap(q);
		return rc;
	}

	if (argc != 3) {
		fprintf(stderr, "usage: krq_e2e CTLSOCK DIR\n"
		    "       krq_e2e CTLSOCK --chan-send|--chan-recv NAME N\n");
		return 2;
	}
	dir = argv[2];
	ctlsock = argv[1];
	if ((e = krq_attach(argv[1], 0, &q)) != 0) {
		printf("FAIL: attach to %s: %s (%s)\n", argv[1], strerror(e),
		    krq_attach_error() ? krq_attach_error() : "");
		return 1;
	}
	unsigned nr = krq_nrings(q);
	CHECK(nr >= 1, "attached: %u ring pairs", nr);
	struct job jobs[2] = { { .ring = 0 }, { .ring = nr > 1 ? 1 : 0 } };
	pthread_t t[2];
	unsigned nj = nr > 1 ? 2 : 1;
	for (unsigned i = 0; i < nj; i++) {
		snprintf(jobs[i].name, sizeof(jobs[i].name), "file-ring%u",
		    jobs[i].ring);
		pthread_create(&t[i], NULL, files, &jobs[i]);
	}
	for (unsigned i = 0; i < nj; i++)
		pthread_join(t[i], NULL);
	tcp();
	chan();
	async_io();
	krq_unmap(q);
	printf("%s\n", failures ? "FAIL" : "PASS");
	return failures ? 1 : 0;
}
