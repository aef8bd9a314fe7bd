/*
 * krk_ctl_attach.c - the control socket's `attach [NRINGS]` command
 * (krk_attach.h): a queue region for the connected Linux process, its
 * memfd sent with SCM_RIGHTS after "ok\n", and the connection held open as
 * the attachment's lifeline.  The dispatcher is whatever KRANK registered
 * with krk_ctl_set_attach; this file only does the plumbing.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <krank/krs.h>
#include "net/krs_net.h"

#include "krk.h"
#include "krk_attach.h"
#include "krk_chan.h"
#include "krk_ctl_int.h"
#include "krk_foreign.h"

#ifdef __SANITIZE_ADDRESS__
#define HOLD_STACK	(1u << 20)
#else
#define HOLD_STACK	(256u << 10)
#endif

/* reg_lock protects reg, has_reg and attached (idle: attached fell). */
static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t idle = PTHREAD_COND_INITIALIZER;
static struct krk_attach_ops reg;
static bool has_reg;
static unsigned attached;

/* One attachment, owned by its holder thread once "ok" went out. */
struct attachment {
	int fd;				/* a dup of the control connection */
	int pid;
	unsigned id;			/* krq-N */
	int fid;			/* its foreign isolate's id */
	struct krq_sclient *c;
	struct krs_ctx *ctx;
	void (*close)(void *);
	void *arg;
};

void
krk_ctl_set_attach(const struct krk_attach_ops *ops)
{
	pthread_mutex_lock(&reg_lock);
	has_reg = ops != NULL && ops->serve != NULL;
	if (has_reg)
		reg = *ops;
	pthread_mutex_unlock(&reg_lock);
}

bool
krk_ctl_attach_describe(char *buf, size_t len)
{
	pthread_mutex_lock(&reg_lock);
	bool r = has_reg;
	if (r)
		snprintf(buf, len, "%u ring pairs of %u slots, %zu KiB buffer "
		    "area, server spin %lld us", reg.cfg.nrings,
		    reg.cfg.nslots ? reg.cfg.nslots : KRQ_DEFAULT_SLOTS,
		    reg.cfg.area_len >> 10, (long long)(reg.cfg.spin_ns < 0 ?
		    KRQ_DEFAULT_SPIN_NS : reg.cfg.spin_ns) / 1000);
	pthread_mutex_unlock(&reg_lock);
	return r;
}

unsigned
krk_ctl_attach_count(void)
{
	pthread_mutex_lock(&reg_lock);
	unsigned n = attached;
	pthread_mutex_unlock(&reg_lock);
	return n;
}

void
krk_ctl_attach_drain(void)
{
	pthread_mutex_lock(&reg_lock);
	while (attached > 0)
		pthread_cond_wait(&idle, &reg_lock);
	pthread_mutex_unlock(&reg_lock);
}

static void
attach_log(void *arg, const char *line)
{
	(void)arg;
	krk_log(KRK_LOG_WARN, "%s", line);
}

/* "ok\n" with the memfd attached. */
static bool
send_ok_fd(int fd, int memfd)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	memset(cbuf, 0, sizeof(cbuf));
	struct iovec iov = { (void *)"ok\n", 3 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
	    .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &memfd, sizeof(int));
	ssize_t n;
	do
		n = sendmsg(fd, &m, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == 3;
}

/* Hold the connection until the peer closes it, KRANK stops, or the
 * client is cut off; returns why, for the log. */
static const char *
hold(int fd, struct krq_sclient *c)
{
	char sink[256];
	for (;;) {
		if (krk_ctl_stopping())
			return "KRANK is stopping";
		if (krq_sclient_cut(c))
			return "cut off";
		struct pollfd p = { .fd = fd, .events = POLLIN | POLLRDHUP };
		int n = poll(&p, 1, 200);
		if (n < 0 && errno != EINTR)
			return "poll failed";
		if (n <= 0)
			continue;
		if (p.revents & (POLLHUP | POLLERR | POLLRDHUP | POLLNVAL))
			return "client closed";
		ssize_t k = recv(fd, sink, sizeof(sink), MSG_DONTWAIT);
		if (k == 0)
			return "client closed";
		/* Bytes after the request mean nothing; they are dropped. */
	}
}

/*
 * The process is gone, so the sockets it left open close abortively
 * (SO_LINGER 0): their peers see a reset, as after a crash, and no
 * TIME_WAIT keeps the ports, which a restarted program must bind again
 * at once.  A program that wants its peers to see FIN closes its
 * sockets before it exits (libkrank-preload does at exit).
 */
static void
sockets_abort(struct krs_ctx *ctx)
{
	unsigned nopen = 0, limit = 0;
	if (krs_ctx_fdinfo(ctx, &nopen, &limit) != 0 || nopen == 0 ||
	    krs_ctx_enter(ctx) != 0)
		return;
	struct krs_linger lg = { 1, 0 };
	for (unsigned fd = 0, seen = 0; fd < limit && seen < nopen; fd++) {
		int rv = krs_setsockopt((int)fd, KRS_SOL_SOCKET, KRS_SO_LINGER,
		    &lg, sizeof(lg));
		if (rv == 0 || errno != EBADF)
			seen++;
	}
	krs_ctx_leave();
}

static void
attachment_end(struct attachment *a, const char *why, bool close_fd)
{
	struct krq_sclient_stats st;
	krq_sclient_stats(a->c, &st);
	char reason[256];
	if (st.cut) {
		snprintf(reason, sizeof(reason), "cut off: %s", st.reason);
		why = reason;
	}
	krk_foreign_detached(a->fid, why, st.cut);
	/* Close its descriptors while the server threads still run: one
	 * blocked in a call for the client (accept, recv, a poll) returns
	 * EBADF, so the join below cannot wait on a client that is gone. */
	sockets_abort(a->ctx);
	krs_ctx_revoke(a->ctx);
	krq_sclient_destroy(a->c);
	if (a->close != NULL)
		a->close(a->arg);
	int e = krs_ctx_destroy(a->ctx);
	if (e != 0)
		krk_log(KRK_LOG_ERR, "ctl: attach: pid %d: krq-%u: its context "
		    "is still in use and stays allocated: %s", a->pid, a->id,
		    strerror(errno));
	if (close_fd)
		close(a->fd);
	krk_log(st.cut ? KRK_LOG_WARN : KRK_LOG_INFO, "ctl: attach: pid %d: "
	    "krq-%u ended (%s)", a->pid, a->id, why);
	free(a);
	pthread_mutex_lock(&reg_lock);
	attached--;
	pthread_cond_broadcast(&idle);
	pthread_mutex_unlock(&reg_lock);
}

static void *
holder_main(void *arg)
{
	struct attachment *a = arg;
	char name[16];
	snprintf(name, sizeof(name), "krank-att-%u", a->id % 10000u);
	pthread_setname_np(pthread_self(), name);
	attachment_end(a, hold(a->fd, a->c), true);
	return NULL;
}

static void
unreserve(void)
{
	pthread_mutex_lock(&reg_lock);
	attached--;
	pthread_cond_broadcast(&idle);
	pthread_mutex_unlock(&reg_lock);
}

int
krk_ctl_cmd_attach(struct krk_ctl_req *r)
{
	pthread_mutex_lock(&reg_lock);
	bool ok = has_reg;
	struct krk_attach_ops ops = reg;
	pthread_mutex_unlock(&reg_lock);
	if (!ok)
		return CTL_ERR(r, ENOTSUP, "attach: this KRANK serves no "
		    "queues (no dispatcher registered)");
	unsigned long nrings = 0;
	if (r->argc > 1 || (r->argc == 1 && krk_ctl_parse_uint(r->argv[0],
	    ops.cfg.nrings, &nrings) != 0))
		return CTL_ERR(r, EINVAL, "usage: attach [NRINGS] (NRINGS at "
		    "most %u)", ops.cfg.nrings);
	struct krq_server_cfg cfg = ops.cfg;
	if (nrings > 0)
		cfg.nrings = (unsigned)nrings;
	/* The attachment counts from here, before the client can see "ok"
	 * and ask again, so attach.max holds against a client that attaches
	 * in a loop (and against several at once).  Every failure below
	 * gives the place back (unreserve). */
	pthread_mutex_lock(&reg_lock);
	if (ops.max > 0 && attached >= ops.max) {
		pthread_mutex_unlock(&reg_lock);
		__atomic_add_fetch(&krk_foreign_stats.limited, 1,
		    __ATOMIC_RELAXED);
		return CTL_ERR(r, EAGAIN, "attach: %u attachments already, the "
		    "most attach.max allows", ops.max);
	}
	attached++;
	pthread_mutex_unlock(&reg_lock);
	cfg.log = attach_log;
	cfg.log_arg = NULL;

	struct ucred cr;
	socklen_t cl = sizeof(cr);
	if (getsockopt(r->fd, SOL_SOCKET, SO_PEERCRED, &cr, &cl) != 0) {
		int ge = errno;
		unreserve();
		return CTL_ERR(r, ge, "attach: cannot read the peer's "
		    "credentials: %s", strerror(ge));
	}
	struct krs_ctx *ctx;
	int e = krs_ctx_create(cr.uid, cr.gid, &ctx);
	if (e != 0) {
		unreserve();
		return CTL_ERR(r, e, "attach: pid %d: cannot create a context: "
		    "%s", (int)cr.pid, strerror(e));
	}
	if (ops.fds > 0 && krs_ctx_set_fdlimit(ctx, ops.fds) != 0) {
		e = errno;
		krs_ctx_destroy(ctx);
		unreserve();
		return CTL_ERR(r, e, "attach: pid %d: cannot limit its "
		    "descriptors to %u: %s", (int)cr.pid, ops.fds, strerror(e));
	}
	struct krq_sclient *c;
	int memfd;
	e = krq_sclient_create(&cfg, &c, &memfd);
	if (e != 0) {
		krs_ctx_destroy(ctx);
		unreserve();
		return CTL_ERR(r, e, "attach: pid %d: cannot create a queue "
		    "region (%u rings of %u slots): %s", (int)cr.pid,
		    cfg.nrings, cfg.nslots, strerror(e));
	}
	void *area, *arg = NULL;
	size_t area_len;
	krq_sclient_area(c, &area, &area_len);
	if (ops.open != NULL &&
	    (e = ops.open(ops.ops_arg, ctx, area, area_len, &arg)) != 0) {
		close(memfd);
		krq_sclient_destroy(c);
		krs_ctx_destroy(ctx);
		unreserve();
		return CTL_ERR(r, e, "attach: pid %d: dispatcher refused: %s",
		    (int)cr.pid, strerror(e));
	}
	if ((e = krq_sclient_start(c, ops.serve, arg)) != 0) {
		close(memfd);
		krq_sclient_destroy(c);
		if (ops.close != NULL)
			ops.close(arg);
		krs_ctx_destroy(ctx);
		unreserve();
		return CTL_ERR(r, e, "attach: pid %d: cannot start the server "
		    "threads: %s", (int)cr.pid, strerror(e));
	}
	r->streamed = true;
	bool sent = send_ok_fd(r->fd, memfd);
	close(memfd);
	struct krq_sclient_stats st;
	krq_sclient_stats(c, &st);
	struct attachment *a = malloc(sizeof(*a));
	if (a != NULL) {
		*a = (struct attachment){ .fd = -1, .pid = (int)cr.pid,
		    .id = st.id, .c = c, .ctx = ctx, .close = ops.close,
		    .arg = arg };
	}
	krk_log(KRK_LOG_INFO, "ctl: attach: pid %d uid %u: krq-%u, %u rings",
	    (int)cr.pid, (unsigned)cr.uid, st.id, cfg.nrings);
	/* The connection lives on in a holder thread of its own, so the
	 * attachment does not keep one of the control socket's service
	 * slots (krankctl would be turned away after a few attachments).
	 * The service thread's close of its descriptor ends only its
	 * sending side; the holder's dup still sees the peer close. */
	if (a != NULL && sent &&
	    (a->fd = fcntl(r->fd, F_DUPFD_CLOEXEC, 0)) >= 0) {
		krk_foreign_attached(cr.pid, cr.uid, cfg.nrings, c, ctx, a->fd,
		    &a->fid);
		if (krk_ctl_thread(NULL, HOLD_STACK, true, holder_main, a) == 0)
			return 0;
		krk_foreign_detached(a->fid, "no holder thread", false);
	}
	/* No holder: hold here (or end at once when the fd went nowhere). */
	if (a == NULL) {
		unreserve();
		krq_sclient_destroy(c);
		if (ops.close != NULL)
			ops.close(arg);
		krs_ctx_destroy(ctx);
		return 0;
	}
	if (a->fd >= 0)
		close(a->fd);
	a->fd = r->fd;
	attachment_end(a, sent ? hold(r->fd, c) : "the memfd could not be sent",
	    false);
	return 0;
}

/*
 * `chanpool NAME`: the memfd of channel NAME's buffer pool, with "ok\n",
 * so that a queue client maps the same buffers KRANK and the isolates
 * use and moves messages by offset, without a copy (krq_chan_map).  The
 * same peers as attach may ask (those the control socket admits).
 */
int
krk_ctl_cmd_chanpool(struct krk_ctl_req *r)
{
	struct krk_chan_pool p;
	int memfd, e;

	if (r->argc != 1)
		return CTL_ERR(r, EINVAL, "usage: chanpool NAME");
	if ((e = krk_chan_find_pool(r->argv[0], &p, &memfd)) != 0)
		return CTL_ERR(r, e, "chanpool %s: %s", r->argv[0],
		    e == ENOENT ? "no such channel" : strerror(e));
	r->streamed = true;
	if (!send_ok_fd(r->fd, memfd))
		krk_log(KRK_LOG_WARN, "ctl: chanpool %s: the peer went away "
		    "before its memfd was sent", r->argv[0]);
	close(memfd);
	return 0;
}
