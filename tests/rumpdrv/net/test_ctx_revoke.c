/*
 * test_ctx_revoke.c - krs_ctx_revoke, what KRANK does when a foreign
 * isolate dies with calls in flight: threads of the context blocked in
 * accept, recv and an empty infinite poll all return (EBADF) once it is
 * revoked, new descriptors are EMFILE, the listening port is free again,
 * another context is untouched, and the context can then be destroyed.
 * Links kern, vfs, tmpfs and the net components; talks over loopback.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>

#include <krank/krs.h>
#include "net/krs_net.h"
#include "rdtest.h"
#include "rdtest_net.h"

static struct krs_ctx *ctx;
static int ready;			/* atomic: threads set up */

struct blocked {
	const char *what;
	int rv, err;
};

static void *
in_accept(void *arg)
{
	struct blocked *b = arg;
	krs_ctx_enter(ctx);
	struct sockaddr_in a = rd_sin4("127.0.0.1", 9100);
	int l = krs_socket(AF_INET, SOCK_STREAM, 0);
	if (l < 0 || krs_bind(l, &a, sizeof(a)) != 0 || krs_listen(l, 4) != 0)
		b->err = -1;
	__atomic_add_fetch(&ready, 1, __ATOMIC_SEQ_CST);
	errno = 0;
	b->rv = krs_accept(l, NULL, NULL);
	b->err = errno;
	krs_ctx_leave();
	return NULL;
}

static void *
in_recv(void *arg)
{
	struct blocked *b = arg;
	krs_ctx_enter(ctx);
	struct sockaddr_in a = rd_sin4("127.0.0.1", 9101);
	int l = krs_socket(AF_INET, SOCK_STREAM, 0);
	int c = krs_socket(AF_INET, SOCK_STREAM, 0);
	int s = -1;
	if (l >= 0 && krs_bind(l, &a, sizeof(a)) == 0 && krs_listen(l, 4) == 0 &&
	    c >= 0 && krs_connect(c, &a, sizeof(a)) == 0)
		s = krs_accept(l, NULL, NULL);
	__atomic_add_fetch(&ready, 1, __ATOMIC_SEQ_CST);
	char buf[16];
	errno = 0;
	b->rv = (int)krs_recv(s, buf, sizeof(buf), 0);
	b->err = errno;
	krs_ctx_leave();
	return NULL;
}

static void *
in_poll(void *arg)
{
	struct blocked *b = arg;
	krs_ctx_enter(ctx);
	__atomic_add_fetch(&ready, 1, __ATOMIC_SEQ_CST);
	errno = 0;
	b->rv = krs_poll(NULL, 0, -1);
	b->err = errno;
	krs_ctx_leave();
	return NULL;
}

int
main(void)
{
	char err[256];
	CHECK(krs_boot("vfs,tmpfs,net,ether,virtif,socket,inet", err,
	    sizeof(err)) == 0, "boot: %s", err);
	CHECK(krs_mount("t", "/", "tmpfs", 0, NULL, 0) == 0, "mount tmpfs");
	CHECK(krs_net_stack_select(0) == 0, "stack 0");
	CHECK(krs_ctx_create(1000, 1000, &ctx) == 0, "context");
	int mine = krs_open("/mine", KRS_O_CREAT | KRS_O_RDWR, 0644);
	CHECK(mine >= 0, "a file of the main context");

	struct blocked b[3] = { { "accept", 0, 0 }, { "recv", 0, 0 },
	    { "poll", 0, 0 } };
	void *(*fn[3])(void *) = { in_accept, in_recv, in_poll };
	pthread_t th[3];
	for (int i = 0; i < 3; i++)
		CHECK(pthread_create(&th[i], NULL, fn[i], &b[i]) == 0, "thread");
	for (int i = 0; i < 500 && __atomic_load_n(&ready, __ATOMIC_SEQ_CST) < 3;
	    i++) {
		struct timespec ts = { 0, 10000000 };
		nanosleep(&ts, NULL);
	}
	CHECK(ready == 3 && b[0].err == 0, "three threads of the context set "
	    "up");
	/* Give them a moment to block (they return the same way if not). */
	struct timespec ts = { 0, 100000000 };
	nanosleep(&ts, NULL);
	CHECK(krs_ctx_revoked(ctx) == 0, "not revoked yet");
	CHECK(krs_ctx_revoke(ctx) == 0, "revoke");
	CHECK(krs_ctx_revoked(ctx) == 1, "revoked");
	for (int i = 0; i < 3; i++) {
		struct timespec dl;
		clock_gettime(CLOCK_REALTIME, &dl);
		dl.tv_sec += 5;
		CHECK(pthread_timedjoin_np(th[i], NULL, &dl) == 0, "the thread "
		    "blocked in %s returned within 5 s", b[i].what);
		CHECK(b[i].rv == -1 && b[i].err == EBADF, "%s: -1/EBADF, got "
		    "%d/%d", b[i].what, b[i].rv, b[i].err);
	}
	PASS("accept, recv and an empty infinite poll of a revoked context "
	    "return EBADF");
	unsigned nopen = 99, limit = 99;
	CHECK(krs_ctx_fdinfo(ctx, &nopen, &limit) == 0 && nopen == 0 &&
	    limit == 0, "no descriptor left, limit 0: %u/%u", nopen, limit);
	CHECK(krs_ctx_enter(ctx) == 0, "enter the revoked context");
	CHECK_ERR(krs_open("/x", KRS_O_CREAT | KRS_O_RDWR, 0644), EMFILE);
	CHECK_ERR(krs_socket(AF_INET, SOCK_STREAM, 0), EMFILE);
	CHECK(krs_ctx_leave() == 0, "leave");
	PASS("a revoked context gets no new descriptors (EMFILE)");
	struct sockaddr_in a = rd_sin4("127.0.0.1", 9100);
	int l = krs_socket(AF_INET, SOCK_STREAM, 0);
	CHECK(l >= 0 && krs_bind(l, &a, sizeof(a)) == 0 && krs_listen(l, 4) == 0,
	    "port 9100 of the revoked listener is free again");
	krs_close(l);
	CHECK(krs_ctx_revoked(NULL) == 0 && krs_write(mine, "x", 1) == 1,
	    "the main context is untouched");
	CHECK(krs_ctx_destroy(ctx) == 0, "the revoked context is destroyed "
	    "once its threads left");
	CHECK_ERR(krs_ctx_revoke(NULL), EINVAL);
	PASS("revoke leaves other contexts alone; destroy follows");
	krs_close(mine);
	CHECK(krs_shutdown() == 0, "shutdown");
	DONE();
}
