/*
 * test_krq_attach - attaching to KRANK's queues over a real control
 * socket (krk_ctl.c with krk_ctl_attach.c, over a booted stack):
 * `attach` fails with a reason while no dispatcher is registered; with
 * one, a client in this process and a forked client process get a region
 * (memfd over SCM_RIGHTS) with their own context and do round trips; the
 * attachment ends (server threads stopped, context destroyed) when the
 * client unmaps or dies, and when KRANK stops the client sees EPIPE.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <krank/krs.h>
#include <krank/krq.h>

#include "krk.h"
#include "krk_attach.h"

static int failures;

#define CHECK(cond, ...) do { \
	if (!(cond)) { \
		printf("FAIL: %s:%d: ", __FILE__, __LINE__); \
		printf(__VA_ARGS__); \
		printf("\n"); \
		failures++; \
	} \
} while (0)

struct caller {
	struct krs_ctx *ctx;
	void *area;
	size_t area_len;
};

static int opens, closes;		/* atomic */

static int
t_open(void *ops_arg, struct krs_ctx *ctx, void *area, size_t area_len,
    void **argp)
{
	(void)ops_arg;
	struct caller *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return ENOMEM;
	c->ctx = ctx;
	c->area = area;
	c->area_len = area_len;
	*argp = c;
	__atomic_add_fetch(&opens, 1, __ATOMIC_SEQ_CST);
	return 0;
}

static void
t_close(void *arg)
{
	free(arg);
	__atomic_add_fetch(&closes, 1, __ATOMIC_SEQ_CST);
}

/* Echo; "area" answers with the area's first bytes (written by the
 * client in its own mapping), proving both map the same memory. */
static int
t_serve(void *arg, const void *req, size_t len, void *resp, size_t cap,
    size_t *resplenp)
{
	struct caller *c = arg;
	if (c == NULL || c->ctx == NULL)
		return EINVAL;
	if (len == 4 && memcmp(req, "area", 4) == 0 && c->area_len >= 16) {
		memcpy(resp, c->area, 16);
		*resplenp = 16;
		return 0;
	}
	size_t n = len < cap ? len : cap;
	memcpy(resp, req, n);
	*resplenp = n;
	return 0;
}

static int
roundtrips(struct krq *q, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		unsigned r = i % krq_nrings(q), v;
		size_t len;
		int e = krq_post(q, r, &i, sizeof(i));
		if (e != 0)
			return e;
		krq_bell(q, r);
		e = krq_take(q, r, &v, sizeof(v), &len, 5000000000LL);
		if (e != 0)
			return e;
		if (len != sizeof(v) || v != i)
			return EBADMSG;
	}
	return 0;
}

/* `version` over the control socket answers "ok". */
static bool
ctl_version(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof(a.sun_path), "%.100s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0)
		return false;
	char buf[64];
	bool ok = send(fd, "version\0\0", 9, MSG_NOSIGNAL) == 9 &&
	    recv(fd, buf, 3, MSG_WAITALL) == 3 && memcmp(buf, "ok\n", 3) == 0;
	close(fd);
	return ok;
}

static bool
wait_count(unsigned want, unsigned ms)
{
	for (unsigned i = 0; i < ms; i++) {
		if (krk_ctl_attach_count() == want)
			return true;
		struct timespec ts = { 0, 1000000 };
		nanosleep(&ts, NULL);
	}
	return krk_ctl_attach_count() == want;
}

int
main(void)
{
	char err[256];
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (krk_log_init(64 << 10, KRK_LOG_ERR) != 0) {
		printf("FAIL: log init\n");
		return 1;
	}
	if (krs_boot("vfs,tmpfs", err, sizeof(err)) != 0) {
		printf("FAIL: boot: %s\n", err);
		return 1;
	}
	char dir[] = "/tmp/krq_attach.XXXXXX";
	if (mkdtemp(dir) == NULL) {
		printf("FAIL: mkdtemp\n");
		return 1;
	}
	char path[128];
	snprintf(path, sizeof(path), "%s/k.sock", dir);
	if (krk_ctl_start(path, NULL, err, sizeof(err)) != 0) {
		printf("FAIL: krk_ctl_start: %s\n", err);
		return 1;
	}

	struct krq *q;
	int e = krq_attach(path, 1, &q);
	CHECK(e == EIO && strstr(krq_attach_error(), "no dispatcher"),
	    "attach without a dispatcher: %s (%s)", strerror(e),
	    krq_attach_error());
	printf("ok: attach without a dispatcher refused: %s\n",
	    krq_attach_error());

	int cores[1] = { 0 };
	struct krk_attach_ops ops = { .serve = t_serve, .open = t_open,
	    .close = t_close, .cfg = { .nrings = 4, .nslots = 32,
	    .slot_size = 256, .area_len = 1 << 16, .spin_ns = -1,
	    .client_spin_ns = -1, .cores = cores, .ncores = 1 } };
	krk_ctl_set_attach(&ops);

	e = krq_attach(path, 9, &q);
	CHECK(e == EIO && strstr(krq_attach_error(), "usage"),
	    "attach 9 of 4 rings: %s (%s)", strerror(e), krq_attach_error());

	/* A client in this process. */
	e = krq_attach(path, 2, &q);
	CHECK(e == 0, "attach: %s (%s)", strerror(e), krq_attach_error());
	if (e == 0) {
		CHECK(krq_nrings(q) == 2, "2 rings, got %u", krq_nrings(q));
		CHECK(roundtrips(q, 2000) == 0, "round trips");
		size_t alen;
		char *area = krq_area(q, &alen), got[16];
		size_t len;
		CHECK(area != NULL && alen == 1 << 16, "area %zu", alen);
		memcpy(area, "written by user", 16);
		krq_post(q, 0, "area", 4);
		krq_bell(q, 0);
		CHECK(krq_take(q, 0, got, sizeof(got), &len, 5000000000LL) == 0 &&
		    memcmp(got, "written by user", 16) == 0,
		    "KRANK sees the client's area");
		CHECK(krk_ctl_attach_count() == 1, "one attachment");
		krq_unmap(q);
		CHECK(wait_count(0, 5000), "unmap ends the attachment");
		CHECK(__atomic_load_n(&closes, __ATOMIC_SEQ_CST) == 1,
		    "dispatcher closed once");
		printf("ok: attached in-process: 2000 round trips on 2 rings, "
		    "shared area, unmap ends it\n");
	}

	/* More attachments than the control socket has service slots (16):
	 * each is held by a thread of its own, and krankctl still gets in. */
	enum { MANY = 20 };
	struct krq *qs[MANY];
	int nq = 0;
	for (; nq < MANY; nq++) {
		if ((e = krq_attach(path, 1, &qs[nq])) != 0) {
			CHECK(0, "attachment %d: %s (%s)", nq, strerror(e),
			    krq_attach_error());
			break;
		}
	}
	for (int i = 0; i < nq; i++)
		CHECK(roundtrips(qs[i], 50) == 0, "attachment %d round trips", i);
	CHECK(krk_ctl_attach_count() == (unsigned)nq, "%u attachments",
	    krk_ctl_attach_count());
	CHECK(ctl_version(path), "a control request beside %d attachments", nq);
	for (int i = 0; i < nq; i++)
		krq_unmap(qs[i]);
	CHECK(wait_count(0, 5000), "all %d ended", nq);
	printf("ok: %d attachments at once (more than the 16 control slots), "
	    "a control request still answered\n", nq);

	/* A forked client process that dies without unmapping. */
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		struct krq *cq;
		if (krq_attach(path, 0, &cq) != 0)
			_exit(10);
		if (krq_nrings(cq) != 4)
			_exit(11);
		if (roundtrips(cq, 2000) != 0)
			_exit(12);
		_exit(0);		/* no unmap: death ends it */
	}
	int status;
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "forked client: status %#x", status);
	CHECK(wait_count(0, 5000), "the client's death ends the attachment");
	CHECK(__atomic_load_n(&opens, __ATOMIC_SEQ_CST) == 2 + MANY &&
	    __atomic_load_n(&closes, __ATOMIC_SEQ_CST) == 2 + MANY,
	    "opens %d closes %d", opens, closes);
	printf("ok: a forked client attached (4 rings by default), 2000 round "
	    "trips, its death ended the attachment\n");

	/* KRANK stopping ends an attachment; the client sees EPIPE. */
	e = krq_attach(path, 1, &q);
	CHECK(e == 0, "attach: %s", strerror(e));
	if (e == 0) {
		CHECK(roundtrips(q, 10) == 0, "round trips");
		krk_ctl_stop();
		char why[200];
		CHECK(krq_status(q, why, sizeof(why)) == EPIPE,
		    "closed after stop");
		CHECK(krq_post(q, 0, "x", 1) == EPIPE, "post after stop: EPIPE");
		printf("ok: KRANK stopping ends the attachment: %s\n", why);
		krq_unmap(q);
	} else {
		krk_ctl_stop();
	}
	rmdir(dir);
	if (failures) {
		printf("%d failure(s)\n", failures);
		return 1;
	}
	printf("all attach checks passed\n");
	return 0;
}
