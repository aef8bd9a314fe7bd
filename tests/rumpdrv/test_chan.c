/*
 * test_chan.c - the channel descriptor type of the vfs (vfs_chan.c),
 * rump style (kern + vfs, driven through krs_*): order, backpressure,
 * EPIPE, end of stream, poll readiness and its wakeup, the return ring,
 * blocking wake-ups between two threads over many iterations (spinning
 * and sleeping), ends moved to another context with krs_fd_transfer, a
 * context destroyed closing its end, the upper layer's close hook.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>

#include <krank/krs.h>
#include "rdtest.h"

/* Sanitizer builds run a tenth of the iterations. */
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define ITERS(n) ((n) / 10)
#else
#define ITERS(n) (n)
#endif

static void
test_order_backpressure(void)
{
	int fds[2];
	uint64_t tok;
	uint32_t len;

	CHECK_ERR(krs_chan_create(0, 0, fds), EINVAL);
	CHECK_ERR(krs_chan_create(KRS_CHAN_DEPTH_MAX + 1, 0, fds), EINVAL);
	CHECK_ERR(krs_chan_create(4, 0x1000, fds), EINVAL);
	CHECK(krs_chan_create(5, KRS_O_NONBLOCK, fds) == 0, "create");
	for (uint64_t i = 1; i <= 5; i++)
		CHECK(krs_chan_send(fds[1], i * 100, (uint32_t)i) == 0,
		    "send %llu", (unsigned long long)i);
	CHECK_ERR(krs_chan_send(fds[1], 600, 6), EAGAIN);
	struct krs_pollfd p[2] = { { fds[0], KRS_POLLIN, 0 },
	    { fds[1], KRS_POLLOUT, 0 } };
	CHECK(krs_poll(p, 2, 0) == 1 && p[0].revents == KRS_POLLIN &&
	    p[1].revents == 0, "full: receive end readable, send end not "
	    "writable (%x %x)", p[0].revents, p[1].revents);
	CHECK(krs_chan_recv(fds[0], &tok, &len) == 0 && tok == 100 && len == 1,
	    "first in, first out");
	CHECK(krs_poll(p, 2, 0) == 2 && (p[1].revents & KRS_POLLOUT),
	    "room again: POLLOUT");
	CHECK(krs_chan_send(fds[1], 600, 6) == 0, "send after room");
	for (uint64_t i = 2; i <= 6; i++)
		CHECK(krs_chan_recv(fds[0], &tok, &len) == 0 && tok == i * 100 &&
		    len == i, "order %llu", (unsigned long long)i);
	CHECK_ERR(krs_chan_recv(fds[0], &tok, &len), EAGAIN);
	p[0].revents = 0;
	CHECK(krs_poll(p, 1, 0) == 0, "empty: not readable");
	/* Wrong ends, wrong kinds of descriptor, the end mark. */
	CHECK_ERR(krs_chan_send(fds[0], 1, 1), EBADF);
	CHECK_ERR(krs_chan_recv(fds[1], &tok, &len), EBADF);
	CHECK_ERR(krs_chan_send(fds[1], 0, 0), EINVAL);
	CHECK_ERR(krs_chan_return(fds[0], 1), EINVAL);	/* no return ring */
	CHECK_ERR(krs_chan_send(999, 1, 1), EBADF);
	char b[4];
	CHECK_ERR(krs_read(fds[0], b, sizeof(b)), EINVAL);
	CHECK_ERR(krs_write(fds[1], b, sizeof(b)), EINVAL);
	CHECK_ERR(krs_read(fds[1], b, sizeof(b)), EBADF);	/* write-only end */
	struct krs_stat st;
	CHECK(krs_fstat(fds[0], &st) == 0 &&
	    (st.st_mode & KRS_S_IFMT) == KRS_S_IFIFO, "fstat: a FIFO");
	CHECK(krs_close(fds[0]) == 0 && krs_close(fds[1]) == 0, "close");
	PASS("order, backpressure, readiness, wrong ends");
}

static void
test_epipe_end(void)
{
	int fds[2];
	uint64_t tok;
	uint32_t len;

	CHECK(krs_chan_create(4, 0, fds) == 0, "create");
	CHECK(krs_chan_send(fds[1], 7, 70) == 0 &&
	    krs_chan_send(fds[1], 8, 80) == 0, "two queued");
	CHECK(krs_close(fds[1]) == 0, "close the send end");
	struct krs_pollfd p = { fds[0], KRS_POLLIN, 0 };
	CHECK(krs_poll(&p, 1, 0) == 1 &&
	    p.revents == (KRS_POLLIN | KRS_POLLHUP), "POLLIN|POLLHUP after "
	    "the sender closed (%x)", p.revents);
	CHECK(krs_chan_recv(fds[0], &tok, &len) == 0 && tok == 7 &&
	    krs_chan_recv(fds[0], &tok, &len) == 0 && tok == 8,
	    "queued entries survive the sender's close");
	CHECK(krs_chan_recv(fds[0], &tok, &len) == 0 && tok == 0 && len == 0,
	    "then end of stream (0, 0), without blocking");
	CHECK(krs_chan_recv(fds[0], &tok, &len) == 0 && len == 0,
	    "and again");
	krs_close(fds[0]);

	CHECK(krs_chan_create(4, 0, fds) == 0, "create");
	CHECK(krs_close(fds[0]) == 0, "close the receive end");
	CHECK_ERR(krs_chan_send(fds[1], 1, 1), EPIPE);
	p.fd = fds[1];
	p.events = KRS_POLLOUT;
	CHECK(krs_poll(&p, 1, 0) == 1 && p.revents == KRS_POLLERR,
	    "POLLERR on the send end without receiver (%x)", p.revents);
	krs_close(fds[1]);
	PASS("EPIPE, end of stream, POLLHUP, POLLERR");
}

static void
test_return_ring(void)
{
	int fds[2];
	uint64_t tok;
	uint32_t len;

	CHECK(krs_chan_create(3, KRS_CHAN_RETURN | KRS_O_NONBLOCK, fds) == 0,
	    "create with a return ring");
	struct krs_pollfd p = { fds[1], KRS_POLLOUT, 0 };
	CHECK(krs_poll(&p, 1, 0) == 0, "no token to reclaim: not writable");
	CHECK_ERR(krs_chan_reclaim(fds[1], &tok), EAGAIN);
	CHECK(krs_chan_return(fds[0], 11) == 0 &&
	    krs_chan_return(fds[0], 12) == 0 && krs_chan_return(fds[0], 13) == 0,
	    "hand three tokens back");
	CHECK_ERR(krs_chan_return(fds[0], 14), EAGAIN);
	CHECK(krs_poll(&p, 1, 0) == 1 && p.revents == KRS_POLLOUT,
	    "a token waits: writable");
	CHECK(krs_chan_reclaim(fds[1], &tok) == 0 && tok == 11, "reclaim");
	CHECK(krs_chan_send(fds[1], tok, 5) == 0 &&
	    krs_chan_recv(fds[0], &tok, &len) == 0 && tok == 11 && len == 5,
	    "send it, receive it");
	CHECK(krs_chan_return(fds[1], 99) == 0, "the send end may hand back");
	struct krs_chan *ch;
	struct krs_chan_info in;
	int end;
	CHECK(krs_chan_get(fds[1], &ch, &end, NULL) == 0 &&
	    end == KRS_CHAN_SEND && krs_chan_info(ch, &in) == 0 &&
	    in.returned == 3 && in.queued == 0 && in.has_return,
	    "info: 3 returned");
	CHECK(krs_chan_xreclaim(ch, &tok, 0) == 0 && tok == 12,
	    "reclaim in order");
	krs_chan_put(ch);
	krs_close(fds[0]);
	CHECK_ERR(krs_chan_reclaim(fds[1], &tok), EPIPE);
	krs_close(fds[1]);
	PASS("return ring: hand back, reclaim, readiness");
}

/* Two threads, a small ring, blocking calls both ways: every message
 * arrives, in order; both sides must block and be woken many times. */
struct pump {
	int fd;
	uint64_t n;
	uint64_t bad;
	int err;
};

static void *
pump_send(void *arg)
{
	struct pump *pm = arg;
	for (uint64_t i = 1; i <= pm->n; i++)
		if (krs_chan_send(pm->fd, i, (uint32_t)(i & 0xffff) | 1) != 0) {
			pm->err = errno;
			break;
		}
	krs_close(pm->fd);
	krs_ctx_leave();		/* frees this thread's implicit lwp */
	return NULL;
}

static void
pump(unsigned depth, uint64_t n, int spin_us)
{
	int fds[2];
	pthread_t t;
	uint64_t tok, want = 1, bad = 0;
	uint32_t len;
	int old = krs_spin_us(spin_us);

	CHECK(krs_chan_create(depth, 0, fds) == 0, "create");
	struct pump pm = { fds[1], n, 0, 0 };
	pthread_create(&t, NULL, pump_send, &pm);
	for (;;) {
		if (krs_chan_recv(fds[0], &tok, &len) != 0) {
			bad++;
			break;
		}
		if (len == 0 && tok == 0)
			break;
		if (tok != want || len != ((uint32_t)(want & 0xffff) | 1))
			bad++;
		want++;
	}
	pthread_join(t, NULL);
	krs_close(fds[0]);
	krs_spin_us(old);
	CHECK(pm.err == 0 && bad == 0 && want == n + 1, "depth %u, spin %d us: "
	    "%llu messages in order, then end of stream (errors %llu, send "
	    "errno %d)", depth, spin_us, (unsigned long long)(want - 1),
	    (unsigned long long)bad, pm.err);
	printf("ok: two threads, blocking both ways, depth %u, spin %d us: "
	    "%llu messages in order, then end of stream\n", depth, spin_us,
	    (unsigned long long)n);
}

/* A poller woken by a send from another thread, many times. */
struct poke {
	int fd;
	int rounds;
	int ackfd;
};

static void *
poke_main(void *arg)
{
	struct poke *pk = arg;
	uint64_t tok;
	uint32_t len;
	for (int i = 0; i < pk->rounds; i++) {
		if (krs_chan_send(pk->fd, (uint64_t)i + 1, 1) != 0)
			break;
		/* Wait for the poller's acknowledgement: one at a time, so
		 * the poller sleeps in krs_poll each round. */
		if (krs_chan_recv(pk->ackfd, &tok, &len) != 0)
			break;
	}
	krs_ctx_leave();
	return NULL;
}

static void
test_poll_wakeup(int spin_us)
{
	int data[2], ack[2];
	pthread_t t;
	int old = krs_spin_us(spin_us), got = 0;
	const int rounds = ITERS(2000);

	CHECK(krs_chan_create(2, KRS_O_NONBLOCK, data) == 0 &&
	    krs_chan_create(2, 0, ack) == 0, "create");
	struct poke pk = { data[1], rounds, ack[0] };
	pthread_create(&t, NULL, poke_main, &pk);
	for (int i = 0; i < rounds; i++) {
		struct krs_pollfd p = { data[0], KRS_POLLIN, 0 };
		uint64_t tok;
		uint32_t len;
		if (krs_poll(&p, 1, 10000) != 1 || !(p.revents & KRS_POLLIN))
			break;
		if (krs_chan_recv(data[0], &tok, &len) != 0 ||
		    tok != (uint64_t)i + 1)
			break;
		got++;
		krs_chan_send(ack[1], 1, 1);
	}
	pthread_join(t, NULL);
	krs_close(data[0]);
	krs_close(data[1]);
	krs_close(ack[0]);
	krs_close(ack[1]);
	krs_spin_us(old);
	CHECK(got == rounds, "krs_poll woken by another thread's send %d of "
	    "%d times (spin %d us)", got, rounds, spin_us);
	printf("ok: krs_poll woken by another thread's send, %d rounds, "
	    "spin %d us\n", rounds, spin_us);
}

/* A blocked receiver woken by the sender's close. */
static void *
close_later(void *arg)
{
	int fd = *(int *)arg;
	krs_close(fd);
	krs_ctx_leave();
	return NULL;
}

static void
test_close_wakes(void)
{
	int fds[2];
	pthread_t t;
	uint64_t tok = 1;
	uint32_t len = 1;

	CHECK(krs_chan_create(1, 0, fds) == 0, "create");
	pthread_create(&t, NULL, close_later, &fds[1]);
	int rv = krs_chan_recv(fds[0], &tok, &len);
	pthread_join(t, NULL);
	CHECK(rv == 0 && tok == 0 && len == 0, "a blocked receive ends with "
	    "end of stream when the sender closes");
	krs_close(fds[0]);
	/* A timed wait on a referenced end gives up with EAGAIN. */
	CHECK(krs_chan_create(1, 0, fds) == 0, "create");
	struct krs_chan *ch;
	CHECK(krs_chan_get(fds[0], &ch, NULL, NULL) == 0, "get");
	CHECK_ERR(krs_chan_xrecv(ch, &tok, &len, 20), EAGAIN);
	krs_chan_put(ch);
	krs_close(fds[0]);
	krs_close(fds[1]);
	PASS("close wakes a blocked receiver; timed waits end");
}

/* Ends in two contexts. */
static int hook_calls[2];
static void *hook_arg;

static void
hook_close(void *arg, int end)
{
	hook_arg = arg;
	hook_calls[end]++;
}

static const struct krs_chan_hooks hooks = { .ch_close = hook_close };

struct other {
	struct krs_ctx *ctx;
	int fd;
	int n;
	int err;
};

static void *
other_send(void *arg)
{
	struct other *o = arg;
	krs_ctx_enter(o->ctx);
	for (int i = 1; i <= o->n; i++)
		if (krs_chan_send(o->fd, (uint64_t)i, 4) != 0) {
			o->err = errno;
			break;
		}
	krs_ctx_leave();
	return NULL;
}

static void
test_transfer(void)
{
	int fds[2], dummy;
	struct krs_ctx *ctx;
	pthread_t t;
	uint64_t tok;
	uint32_t len;

	CHECK(krs_ctx_create(0, 0, &ctx) == 0, "a second context");
	CHECK(krs_chan_create(8, 0, fds) == 0, "create");
	struct krs_chan *ch;
	CHECK(krs_chan_get(fds[0], &ch, NULL, NULL) == 0 &&
	    krs_chan_attach(ch, &hooks, &dummy) == 0, "attach a hook");
	CHECK_ERR(krs_chan_attach(ch, &hooks, &dummy), EBUSY);
	krs_chan_put(ch);
	int ofd = krs_fd_transfer(NULL, fds[1], ctx, 0);
	CHECK(ofd >= 0, "send end moved to the other context (fd %d)", ofd);
	CHECK_ERR(krs_chan_send(fds[1], 1, 1), EBADF);	/* gone from ours */
	CHECK_ERR(krs_fd_transfer(NULL, fds[1], ctx, 0), EBADF);
	struct other o = { ctx, ofd, 1000, 0 };
	pthread_create(&t, NULL, other_send, &o);
	int n = 0, bad = 0;
	while (n < 1000) {
		if (krs_chan_recv(fds[0], &tok, &len) != 0 || len != 4 ||
		    tok != (uint64_t)n + 1) {
			bad++;
			break;
		}
		n++;
	}
	pthread_join(t, NULL);
	CHECK(bad == 0 && n == 1000 && o.err == 0, "1000 messages from a "
	    "thread of the other context");
	CHECK(hook_calls[KRS_CHAN_SEND] == 0, "no close yet");
	CHECK(krs_ctx_destroy(ctx) == 0, "destroy the other context");
	CHECK(hook_calls[KRS_CHAN_SEND] == 1 && hook_arg == &dummy,
	    "its end closed with it: the hook ran once for the send end");
	CHECK(krs_chan_recv(fds[0], &tok, &len) == 0 && len == 0 && tok == 0,
	    "end of stream for the receiver");
	krs_close(fds[0]);
	CHECK(hook_calls[KRS_CHAN_RECV] == 1, "and once for the receive end");
	PASS("krs_fd_transfer between contexts; context destroy closes ends");
}

int
main(void)
{
	char err[256];
	if (krs_boot("vfs", err, sizeof(err)) != 0) {
		printf("FAIL: boot: %s\n", err);
		return 1;
	}
	test_order_backpressure();
	test_epipe_end();
	test_return_ring();
	test_close_wakes();
	pump(1, ITERS(200000), 50);
	pump(4, ITERS(100000), 0);
	pump(256, ITERS(1000000), 50);
	test_poll_wakeup(50);
	test_poll_wakeup(0);
	test_transfer();
	krs_shutdown();
	DONE();
}
