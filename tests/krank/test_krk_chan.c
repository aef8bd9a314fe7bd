/*
 * test_krk_chan - KRANK's zero-copy channels (krank/krk_chan.c) between
 * real isolates built by krank-cc (tests/krank/iso/chan_*.c) and run by
 * krk_isolate.c in this process: messages checked byte by byte with a
 * blocking receiver, one driven by poll() and one by epoll; hostile use
 * (bad pointers, double and foreign releases, sends of buffers not held)
 * refused and counted; a receiver killed while it holds buffers gives
 * them back and its sender sees EPIPE; a sender killed mid-stream ends
 * the stream.  Also the channel API from KRANK's side: offsets, the pool's
 * memfd mapped a second time as a queue client would, owners; several
 * threads on each end of a small channel (test_threads).
 * argv[1] is the folder holding the isolates.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include <krank/krs.h>

#include "krk.h"
#include "krk_chan.h"
#include "../testclock.h"

static const char *isodir;
static int failures;

#define CHECK(cond, ...) do { \
	if (cond) { printf("ok: "); printf(__VA_ARGS__); printf("\n"); } \
	else { printf("FAIL: "); printf(__VA_ARGS__); printf(" (%s:%d)\n", \
	    __FILE__, __LINE__); failures++; } } while (0)

static void
pause_ms(int ms)
{
	struct timespec ts = { 0, ms * 1000000L };
	nanosleep(&ts, NULL);
}

static int
spawn(const char *name, const char *prog, char **argv, size_t argc)
{
	struct krk_isolate_cfg c;
	char path[512], err[512];
	int id = -1;

	memset(&c, 0, sizeof(c));
	snprintf(c.name, sizeof(c.name), "%s", name);
	snprintf(path, sizeof(path), "%s/%s.kx", isodir, prog);
	c.elf = path;
	c.argv = argv;
	c.argc = argc;
	c.core = -1;
	c.heap = 8 << 20;
	c.fds = 64;
	c.restart = KRK_RESTART_NEVER;
	if (krk_isolate_spawn(&c, &id, err, sizeof(err)) != 0) {
		printf("FAIL: spawn %s: %s\n", name, err);
		failures++;
		return -1;
	}
	return id;
}

/* Poll for a condition on the channel's counters, up to 10 s. */
static bool
stats_until(const char *name, bool (*cond)(const struct krk_chan_stats *),
    struct krk_chan_stats *st)
{
	uint64_t end = now_ns() + 10000000000ull;
	do {
		if (krk_chan_find_stats(name, st) == 0 && cond(st))
			return true;
		pause_ms(2);
	} while (now_ns() < end);
	return false;
}

static bool
st_exists(const struct krk_chan_stats *st)
{
	(void)st;
	return true;
}

static bool
wait_exit(int id, int *statusp, const char *what)
{
	struct krk_isolate_info in;
	int rv = krk_isolate_wait(id, 60000000000ull, &in);
	*statusp = in.status;
	if (rv != 0 || in.state != KRK_ISO_EXITED) {
		printf("FAIL: %s did not exit (state %s)\n", what,
		    krk_iso_state_name(in.state));
		failures++;
		krk_isolate_kill(id);
		krk_isolate_wait(id, 5000000000ull, &in);
		krk_isolate_remove(id);
		return false;
	}
	krk_isolate_remove(id);
	return true;
}

/* A receiver isolate and a sender isolate exchange count messages. */
static void
test_pair(const char *name, const char *mode, unsigned nbufs,
    unsigned bufsize, long count)
{
	char nb[16], bs[16], cnt[24], rname[48], sname[48];
	struct krk_chan_stats st;
	int rs = -1, ss = -1;

	snprintf(nb, sizeof(nb), "%u", nbufs);
	snprintf(bs, sizeof(bs), "%u", bufsize);
	snprintf(cnt, sizeof(cnt), "%ld", count);
	snprintf(rname, sizeof(rname), "%s-recv", name);
	snprintf(sname, sizeof(sname), "%s-send", name);
	char *rargv[] = { "chan_recv", (char *)name, nb, bs, (char *)mode, cnt,
	    NULL };
	char *sargv[] = { "chan_send", (char *)name, cnt, NULL };
	uint64_t t0 = now_ns();
	int r = spawn(rname, "chan_recv", rargv, 6);
	bool up = r >= 0 && stats_until(name, st_exists, &st);
	CHECK(up, "%s: the receiver created channel %s", mode, name);
	if (!up)
		return;
	int s = spawn(sname, "chan_send", sargv, 3);
	bool ok = s >= 0 && wait_exit(s, &ss, sname) && wait_exit(r, &rs, rname);
	double dt = (double)(now_ns() - t0) / 1e9;
	CHECK(ok && ss == 0 && rs == 0, "%s: %ld messages of up to %u bytes "
	    "through %u buffers, every byte checked (sender %d, receiver %d; "
	    "%.0f messages/s)", mode, count, bufsize, nbufs, ss, rs,
	    (double)count / dt);
	CHECK(krk_chan_find_stats(name, &st) == ENOENT,
	    "%s: the channel is gone with both ends", mode);
}

static void
test_abuse(void)
{
	char *rargv[] = { "chan_hostile", "rabuse", "abuse", NULL };
	char *sargv[] = { "chan_hostile", "abuse", "abuse", NULL };
	struct krk_chan_stats st;
	int rs = -1, ss = -1;

	int r = spawn("rabuse", "chan_hostile", rargv, 3);
	bool up = r >= 0 && stats_until("abuse", st_exists, &st);
	CHECK(up, "abuse: the receiver is up");
	if (!up)
		return;
	int s = spawn("sabuse", "chan_hostile", sargv, 3);
	bool ok = s >= 0 && wait_exit(s, &ss, "sabuse");
	ok = wait_exit(r, &rs, "rabuse") && ok;
	CHECK(ok && ss == 0, "a sender's bad pointers, sends of buffers it "
	    "does not hold, double and foreign releases: refused with the "
	    "right errno (surprises %d)", ss);
	CHECK(ok && rs == 0, "a receiver's releases inside a buffer, of a "
	    "buffer it does not hold, twice: refused (surprises %d)", rs);
}

static bool
st_holding(const struct krk_chan_stats *st)
{
	return st->held_recv == 5 && st->queued == 3 && st->free == 0;
}

static bool
st_returned(const struct krk_chan_stats *st)
{
	return st->recv_closed && st->free == st->nbufs;
}

static void
test_kill_holder(void)
{
	char *rargv[] = { "chan_hostile", "hold", "held", "5", NULL };
	char *sargv[] = { "chan_hostile", "fill", "held", NULL };
	struct krk_chan_stats st;
	struct krk_isolate_info in;

	int r = spawn("holder", "chan_hostile", rargv, 4);
	bool up = r >= 0 && stats_until("held", st_exists, &st);
	CHECK(up, "hold: the receiver is up");
	if (!up)
		return;
	int s = spawn("filler", "chan_hostile", sargv, 3);
	bool held = stats_until("held", st_holding, &st);
	CHECK(held, "the receiver holds 5 buffers, 3 wait queued, none is "
	    "free: the sender waits for one (held %u, queued %u, free %u)",
	    st.held_recv, st.queued, st.free);
	krk_isolate_get(s, &in);
	CHECK(in.state == KRK_ISO_RUNNING, "the sender is blocked, not "
	    "failed (state %s)", krk_iso_state_name(in.state));
	CHECK(krk_isolate_kill(r) == 0 &&
	    krk_isolate_wait(r, 5000000000ull, &in) == 0 &&
	    in.state == KRK_ISO_KILLED, "kill the receiver");
	krk_isolate_remove(r);
	bool back = stats_until("held", st_returned, &st);
	CHECK(back, "its 5 held and 3 queued buffers are back in the pool "
	    "(free %u of %u, held %u, queued %u)", st.free, st.nbufs,
	    st.held_recv, st.queued);
	bool epipe = false;
	uint64_t until = now_ns() + 10000000000ull;
	while (!epipe && now_ns() < until) {
		char *log = krk_log_read(NULL);
		epipe = log != NULL && strstr(log, "EPIPE after the receiver "
		    "died") != NULL;
		free(log);
		if (!epipe)
			pause_ms(5);
	}
	krk_isolate_get(s, &in);
	CHECK(epipe && in.state == KRK_ISO_RUNNING, "the blocked sender woke "
	    "with EPIPE and lives on (state %s)", krk_iso_state_name(in.state));
	krk_isolate_kill(s);
	krk_isolate_wait(s, 5000000000ull, &in);
	krk_isolate_remove(s);
	uint64_t end = now_ns() + 5000000000ull;
	while (krk_chan_find_stats("held", &st) == 0 && now_ns() < end)
		pause_ms(2);
	CHECK(krk_chan_find_stats("held", &st) == ENOENT,
	    "the channel is gone once the sender is killed too");
}

static bool
st_flowing(const struct krk_chan_stats *st)
{
	return st->received >= 2000;
}

static void
test_kill_sender(void)
{
	char *rargv[] = { "chan_recv", "mid", "8", "512", "block", NULL };
	char *sargv[] = { "chan_send", "mid", "1000000000", NULL };
	struct krk_chan_stats st;
	struct krk_isolate_info in;
	int rs = -1;

	int r = spawn("mid-recv", "chan_recv", rargv, 5);
	bool up = r >= 0 && stats_until("mid", st_exists, &st);
	CHECK(up, "mid: the receiver is up");
	if (!up)
		return;
	int s = spawn("mid-send", "chan_send", sargv, 3);
	CHECK(stats_until("mid", st_flowing, &st), "messages flow (%" PRIu64
	    " received)", st.received);
	CHECK(krk_isolate_kill(s) == 0 &&
	    krk_isolate_wait(s, 5000000000ull, &in) == 0, "kill the sender "
	    "mid-stream");
	krk_isolate_remove(s);
	CHECK(wait_exit(r, &rs, "mid-recv") && rs == 0, "the receiver sees "
	    "end of stream and every message it got was whole (status %d)",
	    rs);
}

/* The API from KRANK's side, as a queue server would use it: offsets,
 * owners, the pool's memfd. */
static void
test_local(void)
{
	int rfd, wfd, fd2;
	uint64_t off, off2;
	uint32_t len;
	void *p, *q;
	struct krk_chan_pool pool;
	struct krk_chan_stats st;

	CHECK(krk_chan_create("local", 4, 100, 0, &rfd) == 0, "create");
	CHECK(krk_chan_create("local", 4, 100, 0, &fd2) == EEXIST, "EEXIST");
	CHECK(krk_chan_create("a/b", 4, 100, 0, &fd2) == EINVAL &&
	    krk_chan_create("", 4, 100, 0, &fd2) == EINVAL &&
	    krk_chan_create("x", 0, 100, 0, &fd2) == EINVAL &&
	    krk_chan_create("x", 4, 0, 0, &fd2) == EINVAL,
	    "bad names and sizes: EINVAL");
	CHECK(krk_chan_open("nope", KRK_CHAN_SEND, 0, &fd2) == ENOENT,
	    "ENOENT");
	CHECK(krk_chan_open("local", KRK_CHAN_SEND, KRS_O_NONBLOCK, &wfd) == 0,
	    "open the send end");
	CHECK(krk_chan_open("local", KRK_CHAN_SEND, 0, &fd2) == EBUSY,
	    "a second open: EBUSY");
	CHECK(krk_chan_pool(wfd, &pool) == 0 && pool.nbufs == 4 &&
	    pool.bufsize == 100 && pool.stride == 128 && pool.size == 512,
	    "pool geometry: stride %u", pool.stride);
	uint8_t *map = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED,
	    pool.memfd, 0);
	CHECK(map != MAP_FAILED, "the pool's memfd maps");
	CHECK(krk_chan_alloc(wfd, 7, 0, &off, &p) == 0 &&
	    p == (uint8_t *)pool.base + off, "alloc: offset %" PRIu64, off);
	memcpy(p, "zero-copy", 10);
	CHECK(map != MAP_FAILED && memcmp(map + off, "zero-copy", 10) == 0,
	    "a second mapping sees the bytes at the same offset");
	CHECK(krk_chan_send(wfd, 8, off, 10) == EINVAL, "send by another owner");
	CHECK(krk_chan_send(wfd, 7, off + 1, 10) == EINVAL &&
	    krk_chan_send(wfd, 7, 512, 10) == EINVAL &&
	    krk_chan_send(wfd, 7, off, 101) == EINVAL,
	    "offsets and lengths out of place");
	CHECK(krk_chan_send(wfd, 7, off, 10) == 0, "send");
	CHECK(krk_chan_recv(rfd, 9, 0, &off2, &q, &len) == 0 && off2 == off &&
	    q == p && len == 10 && memcmp(q, "zero-copy", 10) == 0,
	    "the receiver gets the same buffer, not a copy");
	CHECK(krk_chan_release(rfd, 7, off2) == EINVAL,
	    "release by the sender's owner id on the receive end");
	CHECK(krk_chan_release(wfd, 9, off2) == EINVAL,
	    "release through the send end of what the receiver holds");
	CHECK(krk_chan_release(rfd, 9, off2) == 0, "release");
	CHECK(krk_chan_release(rfd, 9, off2) == EINVAL, "double release");
	int n = 0;
	while (krk_chan_alloc(wfd, 7, 0, &off, NULL) == 0)
		n++;
	CHECK(n == 4, "4 buffers to allocate, then EAGAIN (backpressure)");
	struct krs_pollfd pf = { wfd, KRS_POLLOUT, 0 };
	CHECK(krs_poll(&pf, 1, 0) == 0, "no free buffer: not writable");
	CHECK(krk_chan_release(wfd, 7, off) == 0 && krs_poll(&pf, 1, 0) == 1,
	    "the sender gives one back unsent: writable again");
	CHECK(krk_chan_stats(rfd, &st) == 0 && st.held_send == 3 &&
	    st.free == 1 && st.sent == 1 && st.received == 1 &&
	    st.bad_calls == 7, "stats: held 3, free 1, sent 1, 7 bad calls "
	    "(%" PRIu64 ")", st.bad_calls);
	CHECK(krk_chan_recv(rfd, 9, 0, &off2, NULL, &len) == EAGAIN, "empty");
	krs_close(wfd);
	CHECK(krk_chan_recv(rfd, 9, 0, &off2, &q, &len) == 0 && len == 0 &&
	    q == NULL, "end of stream after the send end closed");
	CHECK(krk_chan_stats(rfd, &st) == 0 && st.free == 4 && st.send_closed,
	    "the closed sender's buffers went back");
	CHECK(krk_chan_open("local", KRK_CHAN_SEND, 0, &fd2) == EPIPE,
	    "no second sender after the first ended");
	krs_close(rfd);
	CHECK(krk_chan_find_stats("local", &st) == ENOENT, "gone");
	if (map != MAP_FAILED)
		munmap(map, 4096);
	CHECK(krk_chan_create("local", 4, 100, 0, &rfd) == 0,
	    "the name can be used again");
	krs_close(rfd);
}

/* ---- several threads on each end ------------------------------------- */

#define MT_SENDERS	3
#define MT_RECEIVERS	3
#define MT_MSGS		20000

struct mt {
	struct krs_ctx *ctx;
	int wfd, rfd;
	_Atomic int go;			/* sender 0 ran alone: the rest go */
	_Atomic uint8_t seen[MT_SENDERS][MT_MSGS];
	_Atomic int errors;
	_Atomic int first_error;	/* line * 1000 + errno */
	_Atomic long givebacks;
};

static void
mt_error(struct mt *mt, int line, int e)
{
	int z = 0;
	atomic_compare_exchange_strong(&mt->first_error, &z, line * 1000 + e);
	atomic_fetch_add(&mt->errors, 1);
}

struct mt_arg {
	struct mt *mt;
	int id;
};

static void *
mt_sender(void *arg)
{
	struct mt_arg *a = arg;
	struct mt *mt = a->mt;
	uint64_t off;
	void *p;

	krs_ctx_enter(mt->ctx);
	if (a->id != 0)
		while (!atomic_load(&mt->go))
			;		/* spin: sender 0 owns the side by now */
	for (int i = 0; i < MT_MSGS; i++) {
		if (a->id == 0 && i == MT_MSGS / 4)
			atomic_store(&mt->go, 1);
		int e = krk_chan_alloc(mt->wfd, 10 + (uint32_t)a->id, -1, &off,
		    &p);
		if (e != 0) {
			mt_error(mt, __LINE__, e);
			break;
		}
		if (i % 97 == 0) {	/* give one back unsent, take another */
			if (krk_chan_release_ptr(mt->wfd, 10 + (uint32_t)a->id,
			    p) != 0 || krk_chan_release_ptr(mt->wfd,
			    10 + (uint32_t)a->id, p) != EINVAL ||
			    krk_chan_alloc(mt->wfd, 10 + (uint32_t)a->id, -1,
			    &off, &p) != 0) {
				mt_error(mt, __LINE__, 0);
				break;
			}
			atomic_fetch_add(&mt->givebacks, 1);
		}
		((uint32_t *)p)[0] = (uint32_t)a->id;
		((uint32_t *)p)[1] = (uint32_t)i;
		if ((e = krk_chan_send_ptr(mt->wfd, 10 + (uint32_t)a->id, p,
		    8)) != 0) {
			mt_error(mt, __LINE__, e);
			break;
		}
	}
	krs_ctx_leave();
	return NULL;
}

static void *
mt_receiver(void *arg)
{
	struct mt_arg *a = arg;
	struct mt *mt = a->mt;
	const uint32_t me = 20 + (uint32_t)a->id;
	uint64_t off;
	uint32_t len;
	void *p;

	krs_ctx_enter(mt->ctx);
	for (;;) {
		int e = krk_chan_recv(mt->rfd, me, -1, &off, &p, &len);
		if (e != 0) {
			mt_error(mt, __LINE__, e);
			break;
		}
		if (len == 0)
			break;		/* end of stream */
		uint32_t s = ((uint32_t *)p)[0], i = ((uint32_t *)p)[1];
		if (len != 8 || s >= MT_SENDERS || i >= MT_MSGS)
			mt_error(mt, __LINE__, 0);
		else
			atomic_fetch_add(&mt->seen[s][i], 1);
		/* Another receiver's owner id may not release it. */
		if (krk_chan_release_ptr(mt->rfd, me + 100, p) != EINVAL ||
		    krk_chan_release_ptr(mt->rfd, me, p) != 0)
			mt_error(mt, __LINE__, 0);
	}
	krs_ctx_leave();
	return NULL;
}

/*
 * Three senders share the send end and three receivers the receive end
 * of an 8-buffer channel (the rings wrap around thousands of times, the
 * senders wait for buffers: backpressure): sender 0 first alone (the
 * side's guard biased to it), then the others join mid-stream and take
 * the side from it; senders give buffers back unsent now and then (the
 * return ring's producer is the receive side's).  Every message arrives
 * exactly once, every buffer is back in the pool, nothing is counted as
 * abuse but the refused double and foreign releases.  With spin 0 every
 * wait sleeps at once: the wake-ups' handshake races on every message.
 */
static void
test_threads(int spin)
{
	static struct mt mt;
	struct mt_arg sa[MT_SENDERS], ra[MT_RECEIVERS];
	pthread_t st[MT_SENDERS], rt[MT_RECEIVERS];
	struct krk_chan_stats cs;

	memset(&mt, 0, sizeof(mt));
	int old = krs_spin_us(spin);
	if (krs_ctx_create(0, 0, &mt.ctx) != 0 || krs_ctx_enter(mt.ctx) != 0) {
		CHECK(false, "threads: a context");
		return;
	}
	CHECK(krk_chan_create("mt", 8, 64, 0, &mt.rfd) == 0 &&
	    krk_chan_open("mt", KRK_CHAN_SEND, 0, &mt.wfd) == 0,
	    "threads (spin %d us): channel of 8 buffers", spin);
	for (int i = 0; i < MT_RECEIVERS; i++) {
		ra[i] = (struct mt_arg){ &mt, i };
		pthread_create(&rt[i], NULL, mt_receiver, &ra[i]);
	}
	for (int i = 0; i < MT_SENDERS; i++) {
		sa[i] = (struct mt_arg){ &mt, i };
		pthread_create(&st[i], NULL, mt_sender, &sa[i]);
	}
	for (int i = 0; i < MT_SENDERS; i++)
		pthread_join(st[i], NULL);
	krs_close(mt.wfd);
	for (int i = 0; i < MT_RECEIVERS; i++)
		pthread_join(rt[i], NULL);
	int missing = 0, twice = 0;
	for (int s = 0; s < MT_SENDERS; s++)
		for (int i = 0; i < MT_MSGS; i++) {
			unsigned n = atomic_load(&mt.seen[s][i]);
			missing += n == 0;
			twice += n > 1;
		}
	long gb = atomic_load(&mt.givebacks);
	CHECK(atomic_load(&mt.errors) == 0 && missing == 0 && twice == 0,
	    "threads: %d messages each arrived once (errors %d, the first at "
	    "line %d errno %d; missing %d, twice %d)", MT_SENDERS * MT_MSGS,
	    atomic_load(&mt.errors), atomic_load(&mt.first_error) / 1000,
	    atomic_load(&mt.first_error) % 1000, missing, twice);
	uint64_t n = (uint64_t)MT_SENDERS * MT_MSGS;
	CHECK(krk_chan_stats(mt.rfd, &cs) == 0 && cs.sent == n &&
	    cs.received == n && cs.released == n + (uint64_t)gb &&
	    cs.free == 8 && cs.held_send == 0 && cs.held_recv == 0 &&
	    cs.bad_calls == (uint64_t)(n + (uint64_t)gb),
	    "threads: counters (sent %" PRIu64 ", received %" PRIu64
	    ", released %" PRIu64 " = %" PRIu64 " + %ld given back, free %u, "
	    "bad %" PRIu64 ": one refused release per message and give-back)",
	    cs.sent, cs.received, cs.released, n, gb, cs.free, cs.bad_calls);
	krs_close(mt.rfd);
	krs_ctx_leave();
	krs_ctx_destroy(mt.ctx);
	krs_spin_us(old);
}

int
main(int argc, char **argv)
{
	char err[256];

	if (argc != 2) {
		fprintf(stderr, "usage: test_krk_chan ISOLATE_DIR\n");
		return 2;
	}
	isodir = argv[1];
	krk_log_init(1 << 20, 0);
	if (krs_boot("vfs,tmpfs", err, sizeof(err)) != 0 ||
	    krs_mount("tmpfs", "/", "tmpfs", 0, NULL, 0) != 0) {
		printf("FAIL: boot: %s\n", err);
		return 1;
	}
	if (krk_isolates_init() != 0) {
		printf("FAIL: krk_isolates_init\n");
		return 1;
	}
	test_local();
	test_threads(krs_spin_us(-1));
	test_threads(0);
	test_pair("blk", "block", 8, 4096, 20000);
	test_pair("pol", "poll", 4, 64, 20000);
	test_pair("epl", "epoll", 16, 65536, 2000);
	test_abuse();
	test_kill_holder();
	test_kill_sender();
	krk_isolates_fini();
	krs_shutdown();
	printf("%s: %d failures\n", failures ? "FAIL" : "PASS", failures);
	return failures ? 1 : 0;
}
