/*
 * krq_misc.c - the calls of krank.proto that are not files or sockets:
 * the null call (version check), clocks and sleep (the host's vDSO and
 * clock_nanosleep: a sleeping call blocks its ring only), getrandom,
 * isolate control (krk_isolate_*, for callers allowed to) and channels
 * (krk_chan_*: named, buffers in a pool named by their offset).
 */
#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <krank/krs.h>

#include "krk.h"
#include "krk_chan.h"
#include "krq_call.h"

int
krq_h_null(struct krq_caller *c, const Krank__Null *a, Krank__Response *r)
{
	if (a->version != KRANK__VERSION__VERSION_UNSPECIFIED &&
	    a->version != KRANK__VERSION__VERSION_CURRENT)
		return EPROTONOSUPPORT;
	r->value = KRANK__VERSION__VERSION_CURRENT;
	return 0;
}

int
krq_h_clock_gettime(struct krq_caller *c, const Krank__ClockGettime *a,
    Krank__Response *r)
{
	struct timespec ts;

	if (clock_gettime(a->clock, &ts) != 0)
		return EINVAL;
	r->value = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	return 0;
}

int
krq_h_nanosleep(struct krq_caller *c, const Krank__Nanosleep *a,
    Krank__Response *r)
{
	struct timespec end;

	if (a->ns < 0)
		return EINVAL;
	r->value = 0;
	if (a->ns == 0 || (c->flags & KRQ_CALLER_NOBLOCK))
		return 0;
	/* An absolute deadline: an interrupted sleep resumes, never drifts. */
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += a->ns / 1000000000;
	end.tv_nsec += a->ns % 1000000000;
	if (end.tv_nsec >= 1000000000) {
		end.tv_sec++;
		end.tv_nsec -= 1000000000;
	}
	/* In slices of 100 ms: a caller that died meanwhile (its context
	 * revoked, krk_ctl_attach.c) must not hold its ring's thread. */
	for (;;) {
		struct timespec now, slice;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > end.tv_sec || (now.tv_sec == end.tv_sec &&
		    now.tv_nsec >= end.tv_nsec))
			return 0;
		if (c->ctx != NULL && krs_ctx_revoked(c->ctx))
			return EINTR;
		slice = now;
		slice.tv_nsec += 100000000;
		if (slice.tv_nsec >= 1000000000) {
			slice.tv_sec++;
			slice.tv_nsec -= 1000000000;
		}
		if (slice.tv_sec > end.tv_sec || (slice.tv_sec == end.tv_sec &&
		    slice.tv_nsec > end.tv_nsec))
			slice = end;
		(void)clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &slice,
		    NULL);
	}
}

int
krq_h_getrandom(struct krq_caller *c, const Krank__Getrandom *a,
    Krank__Response *r)
{
	void *p;
	size_t n;

	if (a->flags & ~(unsigned)(GRND_NONBLOCK | GRND_RANDOM))
		return krq_malformed_arg(c, EINVAL);
	int err = krq_dest(c, a->dest, r, &p, &n);
	if (err != 0)
		return err;
	ssize_t got = getrandom(p, n, a->flags | GRND_NONBLOCK);
	if (got < 0)
		return errno;
	krq_dest_done(r, (size_t)got);
	r->value = got;
	return 0;
}

/* ---- isolates ---------------------------------------------------------- */
static int
krq_iso_allowed(const struct krq_caller *c)
{
	return (c->flags & KRQ_CALLER_ISOLATES) ? 0 : EPERM;
}

/* A string list of a request into a NULL-terminated array (scratch). */
static int
krq_strv(struct krq_caller *c, char **in, size_t n, char ***outp)
{
	if (n > KRANK__LIMIT__LIMIT_ARGS_MAX || (n > 0 && in == NULL))
		return krq_malformed_arg(c, E2BIG);
	char **v = krq_scratch((n + 1) * sizeof(*v));
	if (v == NULL)
		return ENOMEM;
	for (size_t i = 0; i < n; i++) {
		int err = krq_path(c, in[i]);
		if (err != 0 && err != ENOENT)
			return err;
		v[i] = in[i];
	}
	v[n] = NULL;
	*outp = v;
	return 0;
}

static int
krq_info_out(const struct krk_isolate_info *in, Krank__Response *r)
{
	Krank__IsolateInfo *o = krq_scratch(sizeof(*o));
	char *name = krq_scratch(sizeof(in->name));
	char *sym = krq_scratch(sizeof(in->fault_sym));
	if (o == NULL || name == NULL || sym == NULL)
		return ENOMEM;
	krank__isolate_info__init(o);
	memcpy(name, in->name, sizeof(in->name));
	name[sizeof(in->name) - 1] = '\0';
	memcpy(sym, in->fault_sym, sizeof(in->fault_sym));
	sym[sizeof(in->fault_sym) - 1] = '\0';
	o->id = in->id;
	o->name = name;
	o->state = (int32_t)in->state;
	o->status = in->status;
	o->signo = in->signo;
	o->fault_addr = in->fault_addr;
	o->fault_sym = sym;
	o->restarts = in->restarts;
	o->cpu_ns = in->cpu_ns;
	o->syscalls = in->syscalls;
	o->heap_in_use = in->heap_in_use;
	r->result_case = KRANK__RESPONSE__RESULT_ISOLATE;
	r->isolate = o;
	r->value = in->id;
	return 0;
}

int
krq_h_isolate_spawn(struct krq_caller *c, const Krank__IsolateSpawn *a,
    Krank__Response *r)
{
	struct krk_isolate_cfg cfg;
	static char *noenv[] = { NULL };
	char why[256] = "";
	int err, id;

	if ((err = krq_iso_allowed(c)) != 0)
		return err;
	if ((err = krq_path(c, a->elf)) != 0)
		return err;
	memset(&cfg, 0, sizeof(cfg));
	if (a->name != NULL && a->name[0] != '\0') {
		size_t l = strnlen(a->name, sizeof(cfg.name));
		if (l >= sizeof(cfg.name) || strspn(a->name,
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		    "0123456789_.-") != l)
			return EINVAL;
		memcpy(cfg.name, a->name, l + 1);
	} else {
		const char *base = strrchr(a->elf, '/');
		base = base != NULL ? base + 1 : a->elf;
		snprintf(cfg.name, sizeof(cfg.name), "%s", base);
	}
	cfg.elf = a->elf;
	if ((err = krq_strv(c, a->argv, a->n_argv, &cfg.argv)) != 0 ||
	    (err = krq_strv(c, a->env, a->n_env, &cfg.env)) != 0)
		return err;
	cfg.argc = a->n_argv;
	cfg.envc = a->n_env;
	if (cfg.argc == 0) {
		char **v = krq_scratch(2 * sizeof(*v));
		if (v == NULL)
			return ENOMEM;
		v[0] = cfg.name;
		v[1] = NULL;
		cfg.argv = v;
		cfg.argc = 1;
	}
	if (cfg.envc == 0)
		cfg.env = noenv;
	if ((a->cwd != NULL && a->cwd[0] != '\0' && (err = krq_path(c, a->cwd))) ||
	    (a->root != NULL && a->root[0] != '\0' && (err = krq_path(c, a->root))))
		return err;
	cfg.cwd = a->cwd != NULL && a->cwd[0] != '\0' ? a->cwd : (char *)"/";
	cfg.root = a->root != NULL && a->root[0] != '\0' ? a->root : (char *)"/";
	if (a->core < -1 || a->core >= KRK_MAX_CORES)
		return EINVAL;
	cfg.core = a->core;
	cfg.heap = a->heap != 0 ? a->heap : 64u << 20;
	cfg.fds = a->fds != 0 ? a->fds : 1024;
	cfg.restart = KRK_RESTART_NEVER;
	cfg.backoff_ns = 100000000u;
	cfg.backoff_max_ns = 10000000000u;
	if ((err = krk_isolate_spawn(&cfg, &id, why, sizeof(why))) != 0) {
		krk_log(KRK_LOG_INFO, "krq: spawn %s for a client: %s", cfg.elf,
		    why[0] != '\0' ? why : strerror(err));
		return err;
	}
	r->value = id;
	return 0;
}

int
krq_h_isolate_kill(struct krq_caller *c, const Krank__IsolateKill *a,
    Krank__Response *r)
{
	int err = krq_iso_allowed(c);
	if (err != 0 || (err = krk_isolate_kill(a->id)) != 0)
		return err;
	r->value = 0;
	return 0;
}

int
krq_h_isolate_wait(struct krq_caller *c, const Krank__IsolateWait *a,
    Krank__Response *r)
{
	struct krk_isolate_info info;
	int err = krq_iso_allowed(c);
	if (err != 0)
		return err;
	uint64_t t = a->timeout_ns < 0 ? UINT64_MAX : (uint64_t)a->timeout_ns;
	if (c->flags & KRQ_CALLER_NOBLOCK)
		t = 0;
	if ((err = krk_isolate_wait(a->id, t, &info)) != 0)
		return err;
	return krq_info_out(&info, r);
}

int
krq_h_isolate_status(struct krq_caller *c, const Krank__IsolateStatus *a,
    Krank__Response *r)
{
	struct krk_isolate_info info;
	int id = a->id, err = krq_iso_allowed(c);
	if (err != 0)
		return err;
	if (id == 0 && a->name != NULL && a->name[0] != '\0') {
		if (strnlen(a->name, KRK_NAME_MAX) >= KRK_NAME_MAX)
			return ESRCH;
		if ((err = krk_isolate_find(a->name, &id)) != 0)
			return err;
	}
	if ((err = krk_isolate_get(id, &info)) != 0)
		return err;
	return krq_info_out(&info, r);
}

/* ---- channels (krk_chan.h) ---------------------------------------------- */
static int
krq_chan_timeout(const struct krq_caller *c, int32_t t)
{
	return (c->flags & KRQ_CALLER_NOBLOCK) ? 0 : t;
}

static int
krq_chan_flags(const struct krq_caller *c, int32_t flags)
{
	if (flags & ~(KRS_O_NONBLOCK | KRS_O_CLOEXEC))
		return -1;
	return (c->flags & KRQ_CALLER_NOBLOCK) ? flags | KRS_O_NONBLOCK : flags;
}

int
krq_h_chan_create(struct krq_caller *c, const Krank__ChanCreate *a,
    Krank__Response *r)
{
	int fd, fl = krq_chan_flags(c, a->flags);
	int err = krq_path(c, a->name);
	if (err != 0)
		return err;
	if (fl < 0 || strnlen(a->name, KRK_CHAN_NAME_MAX) >= KRK_CHAN_NAME_MAX)
		return krq_malformed_arg(c, EINVAL);
	if ((err = krk_chan_create(a->name, a->nbufs, a->bufsize, fl, &fd)) != 0)
		return err;
	r->value = fd;
	return 0;
}

int
krq_h_chan_open(struct krq_caller *c, const Krank__ChanOpen *a,
    Krank__Response *r)
{
	int fd, fl = krq_chan_flags(c, a->flags);
	int err = krq_path(c, a->name);
	if (err != 0)
		return err;
	if (fl < 0 || strnlen(a->name, KRK_CHAN_NAME_MAX) >= KRK_CHAN_NAME_MAX)
		return krq_malformed_arg(c, EINVAL);
	if ((err = krk_chan_open(a->name, KRK_CHAN_SEND, fl, &fd)) != 0)
		return err;
	r->value = fd;
	return 0;
}

int
krq_h_chan_alloc(struct krq_caller *c, const Krank__ChanAlloc *a,
    Krank__Response *r)
{
	uint64_t off;
	int err = krk_chan_alloc(a->fd, c->owner, krq_chan_timeout(c,
	    a->timeout_ms), &off, NULL);
	if (err != 0)
		return err;
	if (off > INT64_MAX) {
		krk_chan_release(a->fd, c->owner, off);
		return EOVERFLOW;
	}
	r->value = (int64_t)off;
	return 0;
}

int
krq_h_chan_send(struct krq_caller *c, const Krank__ChanSend *a,
    Krank__Response *r)
{
	int err = krk_chan_send(a->fd, c->owner, a->offset, a->length);
	if (err != 0)
		return err;
	r->value = 0;
	return 0;
}

int
krq_h_chan_recv(struct krq_caller *c, const Krank__ChanRecv *a,
    Krank__Response *r)
{
	uint64_t off;
	uint32_t len;
	Krank__ChanMsg *m = krq_scratch(sizeof(*m));
	if (m == NULL)
		return ENOMEM;
	int err = krk_chan_recv(a->fd, c->owner, krq_chan_timeout(c,
	    a->timeout_ms), &off, NULL, &len);
	if (err != 0)
		return err;
	krank__chan_msg__init(m);
	m->offset = off;
	m->length = len;
	r->result_case = KRANK__RESPONSE__RESULT_CHAN_MSG;
	r->chan_msg = m;
	r->value = len;
	return 0;
}

int
krq_h_chan_release(struct krq_caller *c, const Krank__ChanRelease *a,
    Krank__Response *r)
{
	int err = krk_chan_release(a->fd, c->owner, a->offset);
	if (err != 0)
		return err;
	r->value = 0;
	return 0;
}

int
krq_h_chan_pool(struct krq_caller *c, const Krank__ChanPool *a,
    Krank__Response *r)
{
	struct krk_chan_pool p;
	Krank__ChanPoolInfo *o = krq_scratch(sizeof(*o));
	if (o == NULL)
		return ENOMEM;
	int err = krk_chan_pool(a->fd, &p);
	if (err != 0)
		return err;
	krank__chan_pool_info__init(o);
	o->size = p.size;
	o->nbufs = p.nbufs;
	o->bufsize = p.bufsize;
	o->stride = p.stride;
	r->result_case = KRANK__RESPONSE__RESULT_CHAN_POOL;
	r->chan_pool = o;
	r->value = 0;
	return 0;
}

int
krq_h_chan_close(struct krq_caller *c, const Krank__ChanClose *a,
    Krank__Response *r)
{
	if (krs_close(a->fd) != 0)
		return errno;
	r->value = 0;
	return 0;
}
