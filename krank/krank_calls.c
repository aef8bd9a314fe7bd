/*
 * krank_calls.c - libkrank's synchronous calls (krank/include/krank/
 * krank.h): encode a krank.proto Request, post it over the client's
 * transport, take the Response, decode it (with a bounded allocator: the
 * response is checked as carefully as a request) and hand back the result
 * libc style.  Payloads go by reference when they lie in the buffer area,
 * inline when small, else bounced through the area.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <krank/krank.h>

#include "krq_call.h"
#include "krq_fixed.h"

#define KRANK_INLINE_DEFAULT	192
#define KRANK_MSG_DEFAULT	8192

/* A submission waiting for its response (krank_submit_*). */
struct krank_sub {
	uint64_t tag, user;
	void *buf;			/* a read's destination */
	uint32_t inline_max;		/* a read's bytes come inline (at most
					 * this many; 0: they land in buf,
					 * inside the area) */
	bool in;			/* a read: bytes come back */
};

struct krank_client {
	struct krank_transport t;
	uint64_t tag;
	int last_error;			/* wire Errno of the last call */
	uint8_t *req, *resp;		/* msg_max bytes each */
	uint8_t *arena;			/* decoded responses */
	Krank__Response r;		/* the last one */
	size_t arena_len, arena_used;
	/* Asynchronous calls: subs[head..head+nsub) in submission order
	 * (responses come in that order), and completions that arrived
	 * during a synchronous call, cqes[chead..chead+ncqe); both rings
	 * of cap entries, grown on demand. */
	struct krank_sub *subs;
	struct krank_cqe *cqes;
	unsigned cap, head, nsub, chead, ncqe;
	bool broken;			/* a response answered nothing */
	bool fixed;			/* KRANK takes fixed frames */
	struct krq_fx_resp fxr;		/* the last fixed response */
};

static int krank_sub_done(struct krank_client *c, Krank__Response *r);

int
krank_client_create(const struct krank_transport *t, struct krank_client **cp)
{
	struct krank_transport tt = *t;

	if (tt.inline_max == 0)
		tt.inline_max = KRANK_INLINE_DEFAULT;
	if (tt.msg_max == 0)
		tt.msg_max = KRANK_MSG_DEFAULT;
	if (tt.post == NULL || tt.take == NULL ||
	    tt.inline_max > KRANK__LIMIT__LIMIT_INLINE_MAX || tt.msg_max < 64 ||
	    tt.msg_max > KRANK__LIMIT__LIMIT_REQUEST_MAX ||
	    (tt.bounce_len > 0 && (tt.area == NULL ||
	    tt.bounce_off > tt.area_len ||
	    tt.bounce_len > tt.area_len - tt.bounce_off)))
		return EINVAL;
	struct krank_client *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return ENOMEM;
	c->t = tt;
	c->arena_len = 4 * tt.msg_max + 16384;
	c->req = malloc(tt.msg_max);
	c->resp = malloc(tt.msg_max);
	c->arena = aligned_alloc(16, c->arena_len);
	if (c->req == NULL || c->resp == NULL || c->arena == NULL) {
		c->t.release = NULL;	/* on failure the caller keeps arg */
		krank_client_destroy(c);
		return ENOMEM;
	}
	*cp = c;
	return 0;
}

void
krank_client_destroy(struct krank_client *c)
{
	if (c == NULL)
		return;
	if (c->t.release != NULL)
		c->t.release(c->t.arg);
	free(c->req);
	free(c->resp);
	free(c->arena);
	free(c->subs);
	free(c->cqes);
	free(c);
}

int
krank_client_error(const struct krank_client *c)
{
	return c->last_error;
}

static void *
krank_alloc(void *arg, size_t n)
{
	struct krank_client *c = arg;

	if (n > c->arena_len - c->arena_used)
		return NULL;
	void *p = c->arena + c->arena_used;
	c->arena_used += (n + 15) & ~(size_t)15;
	if (c->arena_used > c->arena_len)
		c->arena_used = c->arena_len;
	return p;
}

static void
krank_free(void *arg, void *p)
{
	(void)arg;
	(void)p;
}

/* Decode the len-byte response in c->resp into c->r (valid until the
 * next one); NULL and EPROTO when it does not decode. */
static Krank__Response *
krank_decode(struct krank_client *c, size_t len)
{
	if (len > c->t.msg_max) {
		errno = EPROTO;
		return NULL;
	}
	ProtobufCAllocator a = { .alloc = krank_alloc, .free = krank_free,
		.allocator_data = c };
	c->arena_used = 0;
	if (krq_response_decode(c->resp, len, &a, &c->r) != 0) {
		errno = EPROTO;
		return NULL;
	}
	return &c->r;
}

/* One round trip.  Returns the decoded response (valid until the next
 * call), or NULL with errno set: a transport error, EPROTO for a
 * response that does not decode or answers another request, or the
 * call's own error (translated from the wire).  Responses of earlier
 * submissions that come first are kept for krank_complete. */
static Krank__Response *
krank_rpc(struct krank_client *c, Krank__Request *q)
{
	size_t n, len;
	int err;

	q->tag = ++c->tag;
	c->last_error = KRANK__ERRNO__EIO;
	if (c->broken) {
		errno = EPROTO;
		return NULL;
	}
	if ((err = krq_request_encode(q, c->req, c->t.msg_max, &n)) != 0) {
		errno = err;
		return NULL;
	}
	if ((err = c->t.post(c->t.arg, c->req, n)) != 0) {
		errno = err;
		return NULL;
	}
	Krank__Response *r;
	for (;;) {
		if ((err = c->t.take(c->t.arg, c->resp, c->t.msg_max,
		    &len)) != 0) {
			errno = err;
			return NULL;
		}
		if ((r = krank_decode(c, len)) == NULL)
			return NULL;
		if (r->tag == q->tag)
			break;
		if (krank_sub_done(c, r) != 0)
			return NULL;
	}
	c->last_error = r->error;
	if (r->error != KRANK__ERRNO__OK) {
		errno = krq_errno_from_wire(r->error);
		return NULL;
	}
	return r;
}

/* The value of a call that returns only a number. */
static int64_t
krank_value(struct krank_client *c, Krank__Request *q)
{
	Krank__Response *r = krank_rpc(c, q);
	return r != NULL ? r->value : -1;
}

/* ---- fixed frames (krq_fixed.h) ---------------------------------------- */
void
krank_client_fixed(struct krank_client *c, bool on)
{
	c->fixed = on;
}

/*
 * One round trip of a fixed frame: h (its tag set here) and n payload
 * bytes after it.  Returns the response header (its inline bytes at
 * *datap, *lenp of them, valid until the next call), or NULL with errno
 * set as krank_rpc does.  Responses of earlier submissions (protobuf)
 * that come first are kept for krank_complete.
 */
static const struct krq_fx_resp *
krank_fx_rpc(struct krank_client *c, struct krq_fx_req *h, const void *data,
    size_t n, const uint8_t **datap, size_t *lenp)
{
	struct krq_fx_resp *rh = &c->fxr;
	size_t len;
	int err;

	h->tag = ++c->tag;
	c->last_error = KRANK__ERRNO__EIO;
	if (c->broken) {
		errno = EPROTO;
		return NULL;
	}
	memcpy(c->req, h, KRQ_FX_REQ_SIZE);
	if (n > 0)
		memcpy(c->req + KRQ_FX_REQ_SIZE, data, n);
	if ((err = c->t.post(c->t.arg, c->req, KRQ_FX_REQ_SIZE + n)) != 0) {
		errno = err;
		return NULL;
	}
	for (;;) {
		if ((err = c->t.take(c->t.arg, c->resp, c->t.msg_max,
		    &len)) != 0) {
			errno = err;
			return NULL;
		}
		if (len > 0 && c->resp[0] == KRQ_FX_MARK)
			break;
		Krank__Response *r = krank_decode(c, len);
		if (r == NULL || krank_sub_done(c, r) != 0)
			return NULL;
	}
	memset(rh, 0xff, sizeof(*rh));
	memcpy(rh, c->resp, len < sizeof(*rh) ? len : sizeof(*rh));
	if (len < KRQ_FX_RESP_SIZE || rh->zero != 0 || rh->data > 1 ||
	    (rh->data == 0 && len != KRQ_FX_RESP_SIZE) || rh->tag != h->tag) {
		c->broken = true;
		errno = EPROTO;
		return NULL;
	}
	*datap = c->resp + KRQ_FX_RESP_SIZE;
	*lenp = len - KRQ_FX_RESP_SIZE;
	c->last_error = rh->error;
	if (rh->error != KRANK__ERRNO__OK) {
		errno = krq_errno_from_wire((Krank__Errno)rh->error);
		return NULL;
	}
	return rh;
}

/* Whether [buf, buf+len) goes as a fixed frame, and how (*wherep, and
 * *aoffp for the area): in the area, or inline up to inline_max (a read's
 * at most that many; a write sends that many).  Bounced payloads take the
 * protobuf path. */
static bool krank_in_area(const struct krank_client *c, const void *p,
    size_t len);

static bool
krank_fx_where(struct krank_client *c, const void *buf, size_t len,
    uint8_t *wherep, uint32_t *aoffp, uint32_t *lenp)
{
	if (!c->fixed)
		return false;
	if (krank_in_area(c, buf, len)) {
		uintptr_t off = (uintptr_t)buf - (uintptr_t)c->t.area;
		if (off > UINT32_MAX || len > UINT32_MAX)
			return false;
		*wherep = KRQ_FX_AREA;
		*aoffp = (uint32_t)off;
		*lenp = (uint32_t)len;
		return true;
	}
	if (len > c->t.inline_max && c->t.bounce_len != 0)
		return false;
	size_t n = len < c->t.inline_max ? len : c->t.inline_max;
	if (KRQ_FX_REQ_SIZE + n > c->t.msg_max ||
	    KRQ_FX_RESP_SIZE + n > c->t.msg_max)
		return false;
	*wherep = KRQ_FX_INLINE;
	*aoffp = 0;
	*lenp = (uint32_t)n;
	return true;
}

/* read/pread as a fixed frame; -2: not this way (use protobuf). */
static ssize_t
krank_fx_read(struct krank_client *c, uint8_t call, int fd, void *buf,
    size_t len, off_t off)
{
	struct krq_fx_req h = { .mark = KRQ_FX_MARK, .call = call, .fd = fd,
	    .offset = off };
	const uint8_t *d;
	size_t n;

	if (!krank_fx_where(c, buf, len, &h.where, &h.aoff, &h.len))
		return -2;
	const struct krq_fx_resp *r = krank_fx_rpc(c, &h, NULL, 0, &d, &n);
	if (r == NULL)
		return -1;
	if (r->value < 0 || (h.where == KRQ_FX_INLINE ? r->data != 1 ||
	    n > h.len || (uint64_t)r->value != n : r->data != 0 ||
	    (uint64_t)r->value > h.len)) {
		errno = EPROTO;
		return -1;
	}
	if (n > 0)
		memcpy(buf, d, n);
	return (ssize_t)r->value;
}

/* write/pwrite of one chunk as a fixed frame: the bytes written, -1, or
 * -2: not this way; *np: how many the request took. */
static int64_t
krank_fx_write(struct krank_client *c, uint8_t call, int fd,
    const void *buf, size_t len, off_t off, size_t *np)
{
	struct krq_fx_req h = { .mark = KRQ_FX_MARK, .call = call, .fd = fd,
	    .offset = off };
	const uint8_t *d;
	size_t n;

	if (!krank_fx_where(c, buf, len, &h.where, &h.aoff, &h.len))
		return -2;
	*np = h.len;
	const struct krq_fx_resp *r = krank_fx_rpc(c, &h, buf,
	    h.where == KRQ_FX_INLINE ? h.len : 0, &d, &n);
	if (r == NULL)
		return -1;
	if (r->data != 0) {
		errno = EPROTO;
		return -1;
	}
	return r->value;
}

#define KRANK_REQ(q, U, field, arg)					\
	Krank__Request q;						\
	krank__request__init(&(q));					\
	(q).call_case = KRANK__REQUEST__CALL_##U;			\
	(q).field = &(arg)

/* ---- payloads ------------------------------------------------------------ */
static bool
krank_in_area(const struct krank_client *c, const void *p, size_t len)
{
	uintptr_t a = (uintptr_t)c->t.area, b = (uintptr_t)p;
	return c->t.area != NULL && b >= a && b - a <= c->t.area_len &&
	    len <= c->t.area_len - (b - a);
}

/* Describe len bytes of buf going out; *np: how many this request takes. */
static void
krank_out(struct krank_client *c, const void *buf, size_t len,
    Krank__Data *d, Krank__Buf *b, size_t *np)
{
	krank__data__init(d);
	krank__buf__init(b);
	if (krank_in_area(c, buf, len)) {
		b->offset = (uintptr_t)buf - (uintptr_t)c->t.area;
		b->length = len;
		d->from_case = KRANK__DATA__FROM_AREA;
		d->area = b;
		*np = len;
	} else if (len <= c->t.inline_max || c->t.bounce_len == 0) {
		*np = len < c->t.inline_max ? len : c->t.inline_max;
		d->from_case = KRANK__DATA__FROM_DATA;
		d->data.data = (uint8_t *)buf;
		d->data.len = *np;
	} else {
		*np = len < c->t.bounce_len ? len : c->t.bounce_len;
		memcpy((uint8_t *)c->t.area + c->t.bounce_off, buf, *np);
		b->offset = c->t.bounce_off;
		b->length = *np;
		d->from_case = KRANK__DATA__FROM_AREA;
		d->area = b;
	}
}

/* Where len bytes coming back for buf land. */
static void
krank_in(struct krank_client *c, void *buf, size_t len, Krank__Dest *d,
    Krank__Buf *b)
{
	krank__dest__init(d);
	krank__buf__init(b);
	if (krank_in_area(c, buf, len)) {
		b->offset = (uintptr_t)buf - (uintptr_t)c->t.area;
		b->length = len;
		d->to_case = KRANK__DEST__TO_AREA;
		d->area = b;
	} else if (len <= c->t.inline_max || c->t.bounce_len == 0) {
		d->to_case = KRANK__DEST__TO_INLINE_MAX;
		d->inline_max = (uint32_t)(len < c->t.inline_max ? len :
		    c->t.inline_max);
	} else {
		b->offset = c->t.bounce_off;
		b->length = len < c->t.bounce_len ? len : c->t.bounce_len;
		d->to_case = KRANK__DEST__TO_AREA;
		d->area = b;
	}
}

/* Copy what came back into buf (unless it landed there already). */
static ssize_t
krank_in_done(struct krank_client *c, Krank__Response *r, void *buf,
    const Krank__Dest *d)
{
	if (r == NULL)
		return -1;
	if (r->value < 0) {
		errno = EPROTO;
		return -1;
	}
	size_t n = (size_t)r->value;
	if (d->to_case == KRANK__DEST__TO_INLINE_MAX) {
		if (r->result_case != KRANK__RESPONSE__RESULT_DATA ||
		    r->data.len > d->inline_max) {
			errno = EPROTO;
			return -1;
		}
		if (r->data.len > 0)
			memcpy(buf, r->data.data, r->data.len);
	} else if ((uint8_t *)c->t.area + d->area->offset != (uint8_t *)buf) {
		/* It landed in the bounce range. */
		if (n > d->area->length)
			n = d->area->length;	/* MSG_TRUNC's larger count */
		memcpy(buf, (uint8_t *)c->t.area + c->t.bounce_off, n);
	}
	return r->value;
}

/* ---- calls ---------------------------------------------------------------- */
int
krank_null(struct krank_client *c)
{
	if (c->fixed) {
		struct krq_fx_req h = { .mark = KRQ_FX_MARK,
		    .call = KRQ_FX_NULL,
		    .fd = KRANK__VERSION__VERSION_CURRENT };
		const uint8_t *d;
		size_t n;
		const struct krq_fx_resp *r = krank_fx_rpc(c, &h, NULL, 0, &d,
		    &n);
		return r != NULL ? (int)r->value : -1;
	}
	Krank__Null a = KRANK__NULL__INIT;
	a.version = KRANK__VERSION__VERSION_CURRENT;
	KRANK_REQ(q, NULL, null, a);
	return (int)krank_value(c, &q);
}

int
krank_openat(struct krank_client *c, int dirfd, const char *path, int flags,
    unsigned mode)
{
	Krank__Openat a = KRANK__OPENAT__INIT;
	a.dirfd = dirfd;
	a.path = (char *)path;
	a.flags = flags;
	a.mode = mode;
	KRANK_REQ(q, OPENAT, openat, a);
	return (int)krank_value(c, &q);
}

int
krank_open(struct krank_client *c, const char *path, int flags, unsigned mode)
{
	Krank__Open a = KRANK__OPEN__INIT;
	a.path = (char *)path;
	a.flags = flags;
	a.mode = mode;
	KRANK_REQ(q, OPEN, open, a);
	return (int)krank_value(c, &q);
}

#define KRANK_FDCALL(fn, U, field, T, INIT)				\
int									\
krank_##fn(struct krank_client *c, int fd)				\
{									\
	T a = INIT;							\
	a.fd = fd;							\
	KRANK_REQ(q, U, field, a);					\
	return (int)krank_value(c, &q);					\
}
KRANK_FDCALL(close, CLOSE, close, Krank__Close, KRANK__CLOSE__INIT)
KRANK_FDCALL(fsync, FSYNC, fsync, Krank__Fsync, KRANK__FSYNC__INIT)
KRANK_FDCALL(dup, DUP, dup, Krank__Dup, KRANK__DUP__INIT)

ssize_t
krank_pread(struct krank_client *c, int fd, void *buf, size_t len, off_t off)
{
	ssize_t v = krank_fx_read(c, KRQ_FX_PREAD, fd, buf, len, off);
	if (v != -2)
		return v;
	Krank__Pread a = KRANK__PREAD__INIT;
	Krank__Dest d;
	Krank__Buf b;
	krank_in(c, buf, len, &d, &b);
	a.fd = fd;
	a.dest = &d;
	a.offset = off;
	KRANK_REQ(q, PREAD, pread, a);
	return krank_in_done(c, krank_rpc(c, &q), buf, &d);
}

ssize_t
krank_read(struct krank_client *c, int fd, void *buf, size_t len)
{
	ssize_t v = krank_fx_read(c, KRQ_FX_READ, fd, buf, len, 0);
	if (v != -2)
		return v;
	Krank__Read a = KRANK__READ__INIT;
	Krank__Dest d;
	Krank__Buf b;
	krank_in(c, buf, len, &d, &b);
	a.fd = fd;
	a.dest = &d;
	KRANK_REQ(q, READ, read, a);
	return krank_in_done(c, krank_rpc(c, &q), buf, &d);
}

/* Writes go out in as many requests as the bounce range needs; a short
 * write ends the loop, as it would end the caller's. */
static ssize_t
krank_writes(struct krank_client *c, int fd, const void *buf, size_t len,
    off_t off, bool at)
{
	size_t done = 0;

	do {
		Krank__Data d;
		Krank__Buf b;
		size_t n;
		int64_t v = krank_fx_write(c, at ? KRQ_FX_PWRITE :
		    KRQ_FX_WRITE, fd, (const uint8_t *)buf + done, len - done,
		    at ? off + (off_t)done : 0, &n);
		if (v == -2) {
			krank_out(c, (const uint8_t *)buf + done, len - done,
			    &d, &b, &n);
			if (at) {
				Krank__Pwrite a = KRANK__PWRITE__INIT;
				a.fd = fd;
				a.data = &d;
				a.offset = off + (off_t)done;
				KRANK_REQ(q, PWRITE, pwrite, a);
				v = krank_value(c, &q);
			} else {
				Krank__Write a = KRANK__WRITE__INIT;
				a.fd = fd;
				a.data = &d;
				KRANK_REQ(q, WRITE, write, a);
				v = krank_value(c, &q);
			}
		}
		if (v < 0)
			return done > 0 ? (ssize_t)done : -1;
		if ((uint64_t)v > n) {
			errno = EPROTO;
			return -1;
		}
		done += (size_t)v;
		if ((size_t)v < n)
			break;
	} while (done < len);
	return (ssize_t)done;
}

ssize_t
krank_write(struct krank_client *c, int fd, const void *buf, size_t len)
{
	return krank_writes(c, fd, buf, len, 0, false);
}

ssize_t
krank_pwrite(struct krank_client *c, int fd, const void *buf, size_t len,
    off_t off)
{
	return krank_writes(c, fd, buf, len, off, true);
}

off_t
krank_lseek(struct krank_client *c, int fd, off_t off, int whence)
{
	Krank__Lseek a = KRANK__LSEEK__INIT;
	a.fd = fd;
	a.offset = off;
	a.whence = whence;
	KRANK_REQ(q, LSEEK, lseek, a);
	return (off_t)krank_value(c, &q);
}

static int
krank_stat_out(Krank__Response *r, struct stat *st)
{
	if (r == NULL)
		return -1;
	if (r->result_case != KRANK__RESPONSE__RESULT_STAT) {
		errno = EPROTO;
		return -1;
	}
	const Krank__StatResult *s = r->stat;
	memset(st, 0, sizeof(*st));
	st->st_dev = s->dev;
	st->st_ino = s->ino;
	st->st_mode = s->mode;
	st->st_nlink = s->nlink;
	st->st_uid = s->uid;
	st->st_gid = s->gid;
	st->st_rdev = s->rdev;
	st->st_size = s->size;
	st->st_blocks = s->blocks;
	st->st_blksize = s->blksize;
	if (s->atime != NULL) {
		st->st_atim.tv_sec = s->atime->sec;
		st->st_atim.tv_nsec = s->atime->nsec;
	}
	if (s->mtime != NULL) {
		st->st_mtim.tv_sec = s->mtime->sec;
		st->st_mtim.tv_nsec = s->mtime->nsec;
	}
	if (s->ctime != NULL) {
		st->st_ctim.tv_sec = s->ctime->sec;
		st->st_ctim.tv_nsec = s->ctime->nsec;
	}
	return 0;
}

int
krank_fstat(struct krank_client *c, int fd, struct stat *st)
{
	Krank__Fstat a = KRANK__FSTAT__INIT;
	a.fd = fd;
	KRANK_REQ(q, FSTAT, fstat, a);
	return krank_stat_out(krank_rpc(c, &q), st);
}

static int
krank_stat_path(struct krank_client *c, const char *path, struct stat *st,
    bool nofollow)
{
	Krank__Stat a = KRANK__STAT__INIT;
	a.path = (char *)path;
	a.nofollow = nofollow;
	KRANK_REQ(q, STAT, stat, a);
	return krank_stat_out(krank_rpc(c, &q), st);
}

int
krank_stat(struct krank_client *c, const char *path, struct stat *st)
{
	return krank_stat_path(c, path, st, false);
}

int
krank_lstat(struct krank_client *c, const char *path, struct stat *st)
{
	return krank_stat_path(c, path, st, true);
}

int
krank_mkdir(struct krank_client *c, const char *path, unsigned mode)
{
	Krank__Mkdir a = KRANK__MKDIR__INIT;
	a.path = (char *)path;
	a.mode = mode;
	KRANK_REQ(q, MKDIR, mkdir, a);
	return (int)krank_value(c, &q);
}

int
krank_rmdir(struct krank_client *c, const char *path)
{
	Krank__Rmdir a = KRANK__RMDIR__INIT;
	a.path = (char *)path;
	KRANK_REQ(q, RMDIR, rmdir, a);
	return (int)krank_value(c, &q);
}

int
krank_unlink(struct krank_client *c, const char *path)
{
	Krank__Unlink a = KRANK__UNLINK__INIT;
	a.path = (char *)path;
	KRANK_REQ(q, UNLINK, unlink, a);
	return (int)krank_value(c, &q);
}

int
krank_rename(struct krank_client *c, const char *from, const char *to)
{
	Krank__Rename a = KRANK__RENAME__INIT;
	a.from = (char *)from;
	a.to = (char *)to;
	KRANK_REQ(q, RENAME, rename, a);
	return (int)krank_value(c, &q);
}

ssize_t
krank_getdents(struct krank_client *c, int fd, void *buf, size_t len)
{
	Krank__Getdents a = KRANK__GETDENTS__INIT;
	Krank__Dest d;
	Krank__Buf b;
	krank_in(c, buf, len, &d, &b);
	a.fd = fd;
	a.dest = &d;
	KRANK_REQ(q, GETDENTS, getdents, a);
	return krank_in_done(c, krank_rpc(c, &q), buf, &d);
}

int
krank_ftruncate(struct krank_client *c, int fd, off_t len)
{
	Krank__Ftruncate a = KRANK__FTRUNCATE__INIT;
	a.fd = fd;
	a.length = len;
	KRANK_REQ(q, FTRUNCATE, ftruncate, a);
	return (int)krank_value(c, &q);
}

int
krank_dup2(struct krank_client *c, int fd, int newfd)
{
	Krank__Dup2 a = KRANK__DUP2__INIT;
	a.fd = fd;
	a.newfd = newfd;
	KRANK_REQ(q, DUP2, dup2, a);
	return (int)krank_value(c, &q);
}

int
krank_fcntl(struct krank_client *c, int fd, int cmd, int arg)
{
	Krank__Fcntl a = KRANK__FCNTL__INIT;
	a.fd = fd;
	a.cmd = cmd;
	a.arg = arg;
	KRANK_REQ(q, FCNTL, fcntl, a);
	return (int)krank_value(c, &q);
}

/* ---- sockets ---------------------------------------------------------------- */
static int
krank_sa(const struct sockaddr *addr, socklen_t len, Krank__SockAddr *s,
    uint8_t ip[4])
{
	const struct sockaddr_in *in = (const struct sockaddr_in *)addr;

	krank__sock_addr__init(s);
	if (addr == NULL || len < sizeof(*in)) {
		errno = EINVAL;
		return -1;
	}
	s->family = in->sin_family;
	s->port = ntohs(in->sin_port);
	memcpy(ip, &in->sin_addr, 4);
	s->addr.data = ip;
	s->addr.len = 4;
	return 0;
}

/* r->addr back into a caller's sockaddr (truncated to *lenp, as POSIX). */
static void
krank_sa_out(const Krank__Response *r, struct sockaddr *addr, socklen_t *lenp)
{
	struct sockaddr_in in;

	if (addr == NULL || lenp == NULL)
		return;
	memset(&in, 0, sizeof(in));
	if (r->addr != NULL && r->addr->addr.len == 4) {
		in.sin_family = (sa_family_t)r->addr->family;
		in.sin_port = htons((uint16_t)r->addr->port);
		memcpy(&in.sin_addr, r->addr->addr.data, 4);
	}
	memcpy(addr, &in, *lenp < sizeof(in) ? *lenp : sizeof(in));
	*lenp = sizeof(in);
}

int
krank_socket(struct krank_client *c, int domain, int type, int protocol)
{
	Krank__Socket a = KRANK__SOCKET__INIT;
	a.domain = domain;
	a.type = type;
	a.protocol = protocol;
	KRANK_REQ(q, SOCKET, socket, a);
	return (int)krank_value(c, &q);
}

int
krank_bind(struct krank_client *c, int fd, const struct sockaddr *addr,
    socklen_t len)
{
	Krank__Bind a = KRANK__BIND__INIT;
	Krank__SockAddr s;
	uint8_t ip[4];
	if (krank_sa(addr, len, &s, ip) != 0)
		return -1;
	a.fd = fd;
	a.addr = &s;
	KRANK_REQ(q, BIND, bind, a);
	return (int)krank_value(c, &q);
}

int
krank_connect(struct krank_client *c, int fd, const struct sockaddr *addr,
    socklen_t len)
{
	Krank__Connect a = KRANK__CONNECT__INIT;
	Krank__SockAddr s;
	uint8_t ip[4];
	if (krank_sa(addr, len, &s, ip) != 0)
		return -1;
	a.fd = fd;
	a.addr = &s;
	KRANK_REQ(q, CONNECT, connect, a);
	return (int)krank_value(c, &q);
}

int
krank_listen(struct krank_client *c, int fd, int backlog)
{
	Krank__Listen a = KRANK__LISTEN__INIT;
	a.fd = fd;
	a.backlog = backlog;
	KRANK_REQ(q, LISTEN, listen, a);
	return (int)krank_value(c, &q);
}

int
krank_accept4(struct krank_client *c, int fd, struct sockaddr *addr,
    socklen_t *lenp, int flags)
{
	Krank__Accept a = KRANK__ACCEPT__INIT;
	a.fd = fd;
	a.flags = flags;
	KRANK_REQ(q, ACCEPT, accept, a);
	Krank__Response *r = krank_rpc(c, &q);
	if (r == NULL)
		return -1;
	krank_sa_out(r, addr, lenp);
	return (int)r->value;
}

int
krank_accept(struct krank_client *c, int fd, struct sockaddr *addr,
    socklen_t *lenp)
{
	return krank_accept4(c, fd, addr, lenp, 0);
}

ssize_t
krank_sendto(struct krank_client *c, int fd, const void *buf, size_t len,
    int flags, const struct sockaddr *to, socklen_t tolen)
{
	Krank__Data d;
	Krank__Buf b;
	Krank__SockAddr s;
	uint8_t ip[4];
	size_t n;

	/* A datagram is one request: it may not be cut at the bounce size. */
	krank_out(c, buf, len, &d, &b, &n);
	if (n < len) {
		errno = EMSGSIZE;
		return -1;
	}
	if (to == NULL) {
		Krank__Send a = KRANK__SEND__INIT;
		a.fd = fd;
		a.data = &d;
		a.flags = flags;
		KRANK_REQ(q, SEND, send, a);
		return (ssize_t)krank_value(c, &q);
	}
	if (krank_sa(to, tolen, &s, ip) != 0)
		return -1;
	Krank__Sendto a = KRANK__SENDTO__INIT;
	a.fd = fd;
	a.data = &d;
	a.flags = flags;
	a.to = &s;
	KRANK_REQ(q, SENDTO, sendto, a);
	return (ssize_t)krank_value(c, &q);
}

ssize_t
krank_send(struct krank_client *c, int fd, const void *buf, size_t len,
    int flags)
{
	return krank_sendto(c, fd, buf, len, flags, NULL, 0);
}

ssize_t
krank_recvfrom(struct krank_client *c, int fd, void *buf, size_t len,
    int flags, struct sockaddr *from, socklen_t *fromlenp)
{
	Krank__Dest d;
	Krank__Buf b;
	Krank__Response *r;

	krank_in(c, buf, len, &d, &b);
	if (from == NULL) {
		Krank__Recv a = KRANK__RECV__INIT;
		a.fd = fd;
		a.dest = &d;
		a.flags = flags;
		KRANK_REQ(q, RECV, recv, a);
		r = krank_rpc(c, &q);
	} else {
		Krank__Recvfrom a = KRANK__RECVFROM__INIT;
		a.fd = fd;
		a.dest = &d;
		a.flags = flags;
		KRANK_REQ(q, RECVFROM, recvfrom, a);
		r = krank_rpc(c, &q);
	}
	ssize_t v = krank_in_done(c, r, buf, &d);
	if (v >= 0 && from != NULL)
		krank_sa_out(r, from, fromlenp);
	return v;
}

ssize_t
krank_recv(struct krank_client *c, int fd, void *buf, size_t len, int flags)
{
	return krank_recvfrom(c, fd, buf, len, flags, NULL, NULL);
}

int
krank_shutdown(struct krank_client *c, int fd, int how)
{
	Krank__Shutdown a = KRANK__SHUTDOWN__INIT;
	a.fd = fd;
	a.how = how;
	KRANK_REQ(q, SHUTDOWN, shutdown, a);
	return (int)krank_value(c, &q);
}

int
krank_getsockopt(struct krank_client *c, int fd, int level, int name,
    void *val, socklen_t *lenp)
{
	Krank__Getsockopt a = KRANK__GETSOCKOPT__INIT;
	a.fd = fd;
	a.level = level;
	a.name = name;
	a.length = *lenp < KRANK__LIMIT__LIMIT_SOCKOPT_MAX ? *lenp :
	    KRANK__LIMIT__LIMIT_SOCKOPT_MAX;
	KRANK_REQ(q, GETSOCKOPT, getsockopt, a);
	Krank__Response *r = krank_rpc(c, &q);
	if (r == NULL)
		return -1;
	if (r->result_case != KRANK__RESPONSE__RESULT_SOCKOPT ||
	    r->sockopt.len > a.length) {
		errno = EPROTO;
		return -1;
	}
	if (r->sockopt.len > 0)
		memcpy(val, r->sockopt.data, r->sockopt.len);
	*lenp = (socklen_t)r->sockopt.len;
	return 0;
}

int
krank_setsockopt(struct krank_client *c, int fd, int level, int name,
    const void *val, socklen_t len)
{
	Krank__Setsockopt a = KRANK__SETSOCKOPT__INIT;
	a.fd = fd;
	a.level = level;
	a.name = name;
	a.value.data = (uint8_t *)val;
	a.value.len = len;
	KRANK_REQ(q, SETSOCKOPT, setsockopt, a);
	return (int)krank_value(c, &q);
}

int
krank_getsockname(struct krank_client *c, int fd, struct sockaddr *addr,
    socklen_t *lenp)
{
	Krank__Getsockname a = KRANK__GETSOCKNAME__INIT;
	a.fd = fd;
	KRANK_REQ(q, GETSOCKNAME, getsockname, a);
	Krank__Response *r = krank_rpc(c, &q);
	if (r == NULL)
		return -1;
	krank_sa_out(r, addr, lenp);
	return 0;
}

int
krank_getpeername(struct krank_client *c, int fd, struct sockaddr *addr,
    socklen_t *lenp)
{
	Krank__Getpeername a = KRANK__GETPEERNAME__INIT;
	a.fd = fd;
	KRANK_REQ(q, GETPEERNAME, getpeername, a);
	Krank__Response *r = krank_rpc(c, &q);
	if (r == NULL)
		return -1;
	krank_sa_out(r, addr, lenp);
	return 0;
}

int
krank_poll(struct krank_client *c, struct pollfd *fds, nfds_t nfds,
    int timeout_ms)
{
	return krank_poll_fetch(c, fds, nfds, timeout_ms, NULL, 0, NULL);
}

int
krank_poll_fetch(struct krank_client *c, struct pollfd *fds, nfds_t nfds,
    int timeout_ms, const uint8_t *fetch, size_t fetch_max,
    struct krank_fetched *got)
{
	int32_t fd[KRANK__LIMIT__LIMIT_POLL_MAX];
	uint32_t ev[KRANK__LIMIT__LIMIT_POLL_MAX];
	Krank__Buf b = KRANK__BUF__INIT;
	bool any = false;

	if (nfds > KRANK__LIMIT__LIMIT_POLL_MAX) {
		errno = EINVAL;
		return -1;
	}
	if (c->t.bounce_len == 0 || fetch_max == 0)
		fetch = NULL;
	for (nfds_t i = 0; i < nfds; i++) {
		fd[i] = fds[i].fd;
		ev[i] = (uint16_t)fds[i].events;
		if (fetch != NULL && fetch[i] && (fds[i].events & POLLIN)) {
			ev[i] |= KRQ_POLL_FETCH;
			any = true;
		}
		if (got != NULL)
			got[i] = (struct krank_fetched){ NULL, 0 };
	}
	Krank__Poll a = KRANK__POLL__INIT;
	a.n_fd = a.n_events = nfds;
	a.fd = fd;
	a.events = ev;
	a.timeout_ms = timeout_ms;
	if (any && got != NULL) {
		b.offset = c->t.bounce_off;
		b.length = c->t.bounce_len;
		a.fetch_area = &b;
		a.fetch_max = fetch_max > UINT32_MAX ? UINT32_MAX :
		    (uint32_t)fetch_max;
	}
	KRANK_REQ(q, POLL, poll, a);
	Krank__Response *r = krank_rpc(c, &q);
	if (r == NULL)
		return -1;
	if (r->result_case != KRANK__RESPONSE__RESULT_POLL ||
	    r->poll->n_revents != nfds) {
		errno = EPROTO;
		return -1;
	}
	for (nfds_t i = 0; i < nfds; i++)
		fds[i].revents = (short)r->poll->revents[i];
	if (a.fetch_area == NULL || r->poll->n_fetched == 0)
		return (int)r->value;
	/* What KRANK says it put in the bounce range is checked against it:
	 * the range, the marked descriptors, one after another. */
	if (r->poll->n_fetched != nfds) {
		errno = EPROTO;
		return -1;
	}
	size_t off = 0;
	for (nfds_t i = 0; i < nfds; i++) {
		int32_t n = r->poll->fetched[i];
		if (n != 0 && !(ev[i] & KRQ_POLL_FETCH)) {
			errno = EPROTO;
			return -1;
		}
		if (n > 0) {
			if ((size_t)n > c->t.bounce_len - off ||
			    (size_t)n > fetch_max) {
				errno = EPROTO;
				return -1;
			}
			got[i].data = (uint8_t *)c->t.area + c->t.bounce_off +
			    off;
			got[i].len = n;
			off += (size_t)n;
		} else if (n < 0 && n > -4096)
			got[i].len = -krq_errno_from_wire((Krank__Errno)-n);
		else if (n < 0) {
			errno = EPROTO;
			return -1;
		}
	}
	return (int)r->value;
}

/* ---- time, randomness, isolates --------------------------------------------- */
int
krank_clock_gettime(struct krank_client *c, clockid_t clk,
    struct timespec *ts)
{
	Krank__ClockGettime a = KRANK__CLOCK_GETTIME__INIT;
	a.clock = clk;
	KRANK_REQ(q, CLOCK_GETTIME, clock_gettime, a);
	int64_t v = krank_value(c, &q);
	if (v < 0)
		return -1;
	ts->tv_sec = v / 1000000000;
	ts->tv_nsec = v % 1000000000;
	return 0;
}

int
krank_nanosleep(struct krank_client *c, const struct timespec *req)
{
	Krank__Nanosleep a = KRANK__NANOSLEEP__INIT;
	if (req->tv_sec < 0 || req->tv_nsec < 0 || req->tv_nsec >= 1000000000 ||
	    req->tv_sec > INT64_MAX / 1000000000 - 1) {
		errno = EINVAL;
		return -1;
	}
	a.ns = (int64_t)req->tv_sec * 1000000000 + req->tv_nsec;
	KRANK_REQ(q, NANOSLEEP, nanosleep, a);
	return (int)krank_value(c, &q);
}

ssize_t
krank_getrandom(struct krank_client *c, void *buf, size_t len, unsigned flags)
{
	Krank__Getrandom a = KRANK__GETRANDOM__INIT;
	Krank__Dest d;
	Krank__Buf b;
	krank_in(c, buf, len, &d, &b);
	a.dest = &d;
	a.flags = flags;
	KRANK_REQ(q, GETRANDOM, getrandom, a);
	return krank_in_done(c, krank_rpc(c, &q), buf, &d);
}

int
krank_isolate_spawn(struct krank_client *c, const char *elf, const char *name,
    char *const argv[], int core)
{
	Krank__IsolateSpawn a = KRANK__ISOLATE_SPAWN__INIT;
	size_t n = 0;

	while (argv != NULL && argv[n] != NULL)
		n++;
	a.elf = (char *)elf;
	a.name = (char *)(name != NULL ? name : "");
	a.argv = (char **)argv;
	a.n_argv = n;
	a.core = core;
	KRANK_REQ(q, ISOLATE_SPAWN, isolate_spawn, a);
	return (int)krank_value(c, &q);
}

int
krank_isolate_kill(struct krank_client *c, int id)
{
	Krank__IsolateKill a = KRANK__ISOLATE_KILL__INIT;
	a.id = id;
	KRANK_REQ(q, ISOLATE_KILL, isolate_kill, a);
	return (int)krank_value(c, &q);
}

int
krank_isolate_wait(struct krank_client *c, int id, int64_t timeout_ns,
    int *statep, int *statusp)
{
	Krank__IsolateWait a = KRANK__ISOLATE_WAIT__INIT;
	a.id = id;
	a.timeout_ns = timeout_ns;
	KRANK_REQ(q, ISOLATE_WAIT, isolate_wait, a);
	Krank__Response *r = krank_rpc(c, &q);
	if (r == NULL)
		return -1;
	if (r->result_case != KRANK__RESPONSE__RESULT_ISOLATE) {
		errno = EPROTO;
		return -1;
	}
	if (statep != NULL)
		*statep = r->isolate->state;
	if (statusp != NULL)
		*statusp = r->isolate->status;
	return 0;
}

/* ---- channels ------------------------------------------------------------- */
int
krank_chan_create(struct krank_client *c, const char *name, uint32_t nbufs,
    uint32_t bufsize, int flags)
{
	Krank__ChanCreate a = KRANK__CHAN_CREATE__INIT;
	a.name = (char *)name;
	a.nbufs = nbufs;
	a.bufsize = bufsize;
	a.flags = flags;
	KRANK_REQ(q, CHAN_CREATE, chan_create, a);
	return (int)krank_value(c, &q);
}

int
krank_chan_open(struct krank_client *c, const char *name, int flags)
{
	Krank__ChanOpen a = KRANK__CHAN_OPEN__INIT;
	a.name = (char *)name;
	a.flags = flags;
	KRANK_REQ(q, CHAN_OPEN, chan_open, a);
	return (int)krank_value(c, &q);
}

int
krank_chan_alloc(struct krank_client *c, int fd, int timeout_ms,
    uint64_t *offp)
{
	Krank__ChanAlloc a = KRANK__CHAN_ALLOC__INIT;
	a.fd = fd;
	a.timeout_ms = timeout_ms;
	KRANK_REQ(q, CHAN_ALLOC, chan_alloc, a);
	int64_t v = krank_value(c, &q);
	if (v < 0)
		return -1;
	*offp = (uint64_t)v;
	return 0;
}

int
krank_chan_send(struct krank_client *c, int fd, uint64_t off, uint32_t len)
{
	Krank__ChanSend a = KRANK__CHAN_SEND__INIT;
	a.fd = fd;
	a.offset = off;
	a.length = len;
	KRANK_REQ(q, CHAN_SEND, chan_send, a);
	return (int)krank_value(c, &q);
}

int
krank_chan_recv(struct krank_client *c, int fd, int timeout_ms,
    uint64_t *offp, uint32_t *lenp)
{
	Krank__ChanRecv a = KRANK__CHAN_RECV__INIT;
	a.fd = fd;
	a.timeout_ms = timeout_ms;
	KRANK_REQ(q, CHAN_RECV, chan_recv, a);
	Krank__Response *r = krank_rpc(c, &q);
	if (r == NULL)
		return -1;
	if (r->result_case != KRANK__RESPONSE__RESULT_CHAN_MSG) {
		errno = EPROTO;
		return -1;
	}
	*offp = r->chan_msg->offset;
	*lenp = r->chan_msg->length;
	return 0;
}

int
krank_chan_release(struct krank_client *c, int fd, uint64_t off)
{
	Krank__ChanRelease a = KRANK__CHAN_RELEASE__INIT;
	a.fd = fd;
	a.offset = off;
	KRANK_REQ(q, CHAN_RELEASE, chan_release, a);
	return (int)krank_value(c, &q);
}

int
krank_chan_pool(struct krank_client *c, int fd, uint64_t *sizep,
    uint32_t *nbufsp, uint32_t *bufsizep, uint32_t *stridep)
{
	Krank__ChanPool a = KRANK__CHAN_POOL__INIT;
	a.fd = fd;
	KRANK_REQ(q, CHAN_POOL, chan_pool, a);
	Krank__Response *r = krank_rpc(c, &q);
	if (r == NULL)
		return -1;
	if (r->result_case != KRANK__RESPONSE__RESULT_CHAN_POOL) {
		errno = EPROTO;
		return -1;
	}
	*sizep = r->chan_pool->size;
	*nbufsp = r->chan_pool->nbufs;
	*bufsizep = r->chan_pool->bufsize;
	*stridep = r->chan_pool->stride;
	return 0;
}

/* ---- asynchronous calls ------------------------------------------------ */

/* Make room for one more submission and one more kept completion. */
static int
krank_sub_room(struct krank_client *c)
{
	if (c->nsub + c->ncqe < c->cap)
		return 0;
	unsigned ncap = c->cap ? c->cap * 2 : 64;
	struct krank_sub *s = malloc(sizeof(*s) * ncap);
	struct krank_cqe *q = malloc(sizeof(*q) * ncap);
	if (s == NULL || q == NULL) {
		free(s);
		free(q);
		return ENOMEM;
	}
	for (unsigned i = 0; i < c->nsub; i++)
		s[i] = c->subs[(c->head + i) % c->cap];
	for (unsigned i = 0; i < c->ncqe; i++)
		q[i] = c->cqes[(c->chead + i) % c->cap];
	free(c->subs);
	free(c->cqes);
	c->subs = s;
	c->cqes = q;
	c->cap = ncap;
	c->head = c->chead = 0;
	return 0;
}

/*
 * r answers the oldest submission: turn it into a completion and keep
 * it.  A response that answers nothing outstanding breaks the client
 * (EPROTO from now on): its responses can no longer be matched.
 */
static int
krank_sub_done(struct krank_client *c, Krank__Response *r)
{
	if (c->nsub == 0 || c->subs[c->head].tag != r->tag) {
		c->broken = true;
		errno = EPROTO;
		return -1;
	}
	struct krank_sub *s = &c->subs[c->head];
	struct krank_cqe e = { .user = s->user };
	if (r->error != KRANK__ERRNO__OK)
		e.res = -krq_errno_from_wire(r->error);
	else if (r->value < 0)
		e.res = -EPROTO;
	else if (!s->in || s->inline_max == 0)
		e.res = r->value;
	else if (r->result_case != KRANK__RESPONSE__RESULT_DATA ||
	    r->data.len > s->inline_max)
		e.res = -EPROTO;
	else {
		if (r->data.len > 0)
			memcpy(s->buf, r->data.data, r->data.len);
		e.res = r->value;
	}
	c->head = (c->head + 1) % c->cap;
	c->nsub--;
	c->cqes[(c->chead + c->ncqe) % c->cap] = e;
	c->ncqe++;
	return 0;
}

/* Encode and post q as a submission; d: a read's destination buf. */
static int
krank_submit(struct krank_client *c, Krank__Request *q, uint64_t user,
    void *buf, const Krank__Dest *d)
{
	size_t n;
	int err;

	if (c->broken) {
		errno = EPROTO;
		return -1;
	}
	q->tag = ++c->tag;
	if ((err = krank_sub_room(c)) != 0 ||
	    (err = krq_request_encode(q, c->req, c->t.msg_max, &n)) != 0 ||
	    (err = (c->t.post_quiet != NULL ? c->t.post_quiet :
	    c->t.post)(c->t.arg, c->req, n)) != 0) {
		errno = err;
		return -1;
	}
	struct krank_sub *s = &c->subs[(c->head + c->nsub) % c->cap];
	*s = (struct krank_sub){ .tag = q->tag, .user = user, .buf = buf,
	    .in = d != NULL, .inline_max = d != NULL && d->to_case ==
	    KRANK__DEST__TO_INLINE_MAX ? d->inline_max : 0 };
	c->nsub++;
	return 0;
}

/* Where a submitted read's bytes go: into buf inside the area, or
 * inline; EINVAL when only the bounce range would do. */
static int
krank_sub_in(struct krank_client *c, void *buf, size_t len, Krank__Dest *d,
    Krank__Buf *b)
{
	if (!krank_in_area(c, buf, len) && len > c->t.inline_max) {
		errno = EINVAL;
		return -1;
	}
	krank_in(c, buf, len, d, b);
	return 0;
}

/* A submitted write's payload: from the area or inline, never bounced. */
static int
krank_sub_out(struct krank_client *c, const void *buf, size_t len,
    Krank__Data *d, Krank__Buf *b)
{
	size_t n;

	if (!krank_in_area(c, buf, len) && len > c->t.inline_max) {
		errno = EINVAL;
		return -1;
	}
	krank_out(c, buf, len, d, b, &n);
	return 0;
}

int
krank_submit_null(struct krank_client *c, uint64_t user)
{
	Krank__Null a = KRANK__NULL__INIT;
	a.version = KRANK__VERSION__VERSION_CURRENT;
	KRANK_REQ(q, NULL, null, a);
	return krank_submit(c, &q, user, NULL, NULL);
}

#define KRANK_SUB_IN(fn, U, field, T, INIT, ARGS, SET)			\
int									\
krank_submit_##fn ARGS							\
{									\
	T a = INIT;							\
	Krank__Dest d;							\
	Krank__Buf b;							\
	if (krank_sub_in(c, buf, len, &d, &b) != 0)			\
		return -1;						\
	a.fd = fd;							\
	a.dest = &d;							\
	SET;								\
	KRANK_REQ(q, U, field, a);					\
	return krank_submit(c, &q, user, buf, &d);			\
}
KRANK_SUB_IN(read, READ, read, Krank__Read, KRANK__READ__INIT,
    (struct krank_client *c, int fd, void *buf, size_t len, uint64_t user),
    (void)0)
KRANK_SUB_IN(pread, PREAD, pread, Krank__Pread, KRANK__PREAD__INIT,
    (struct krank_client *c, int fd, void *buf, size_t len, off_t off,
    uint64_t user), a.offset = off)
KRANK_SUB_IN(recv, RECV, recv, Krank__Recv, KRANK__RECV__INIT,
    (struct krank_client *c, int fd, void *buf, size_t len, int flags,
    uint64_t user), a.flags = flags)

#define KRANK_SUB_OUT(fn, U, field, T, INIT, ARGS, SET)			\
int									\
krank_submit_##fn ARGS							\
{									\
	T a = INIT;							\
	Krank__Data d;							\
	Krank__Buf b;							\
	if (krank_sub_out(c, buf, len, &d, &b) != 0)			\
		return -1;						\
	a.fd = fd;							\
	a.data = &d;							\
	SET;								\
	KRANK_REQ(q, U, field, a);					\
	return krank_submit(c, &q, user, NULL, NULL);			\
}
KRANK_SUB_OUT(write, WRITE, write, Krank__Write, KRANK__WRITE__INIT,
    (struct krank_client *c, int fd, const void *buf, size_t len,
    uint64_t user), (void)0)
KRANK_SUB_OUT(pwrite, PWRITE, pwrite, Krank__Pwrite, KRANK__PWRITE__INIT,
    (struct krank_client *c, int fd, const void *buf, size_t len, off_t off,
    uint64_t user), a.offset = off)
KRANK_SUB_OUT(send, SEND, send, Krank__Send, KRANK__SEND__INIT,
    (struct krank_client *c, int fd, const void *buf, size_t len, int flags,
    uint64_t user), a.flags = flags)

int
krank_submit_send_all(struct krank_client *c, int fd, const void *buf,
    size_t len, uint64_t user)
{
	Krank__Send a = KRANK__SEND__INIT;
	Krank__Data d;
	Krank__Buf b;
	/* Inline up to the wire's limit, as far as the slot has room. */
	size_t cap = c->t.msg_max > 256 ? c->t.msg_max - 256 : 0;

	if (cap > KRANK__LIMIT__LIMIT_INLINE_MAX)
		cap = KRANK__LIMIT__LIMIT_INLINE_MAX;
	if (krank_in_area(c, buf, len)) {
		size_t n;
		krank_out(c, buf, len, &d, &b, &n);
	} else if (len <= cap) {
		krank__data__init(&d);
		d.from_case = KRANK__DATA__FROM_DATA;
		d.data.data = (uint8_t *)buf;
		d.data.len = len;
	} else {
		errno = EINVAL;
		return -1;
	}
	a.fd = fd;
	a.data = &d;
	a.flags = KRQ_SEND_ALL;
	KRANK_REQ(q, SEND, send, a);
	return krank_submit(c, &q, user, NULL, NULL);
}

#define KRANK_SUB_FD(fn, U, field, T, INIT)				\
int									\
krank_submit_##fn(struct krank_client *c, int fd, uint64_t user)	\
{									\
	T a = INIT;							\
	a.fd = fd;							\
	KRANK_REQ(q, U, field, a);					\
	return krank_submit(c, &q, user, NULL, NULL);			\
}
KRANK_SUB_FD(fsync, FSYNC, fsync, Krank__Fsync, KRANK__FSYNC__INIT)
KRANK_SUB_FD(close, CLOSE, close, Krank__Close, KRANK__CLOSE__INIT)

void
krank_flush(struct krank_client *c)
{
	if (c->t.bell != NULL)
		c->t.bell(c->t.arg);
}

int
krank_complete(struct krank_client *c, struct krank_cqe *cqe, unsigned max,
    int64_t timeout_ns)
{
	unsigned got = 0;

	while (got < max) {
		if (c->ncqe > 0) {
			cqe[got++] = c->cqes[c->chead];
			c->chead = (c->chead + 1) % c->cap;
			c->ncqe--;
			continue;
		}
		if (c->nsub == 0 || c->broken)
			break;
		/* Wait only for the first; then take what is there. */
		int64_t t = got > 0 ? 0 : timeout_ns;
		size_t len;
		int err;
		if (c->t.take_wait != NULL)
			err = c->t.take_wait(c->t.arg, c->resp, c->t.msg_max,
			    &len, t);
		else if (t < 0)
			err = c->t.take(c->t.arg, c->resp, c->t.msg_max, &len);
		else if (got > 0)
			break;
		else {
			errno = ENOTSUP;
			return -1;
		}
		if (err == EAGAIN || err == ETIMEDOUT)
			break;
		if (err != 0) {
			errno = err;
			return got > 0 ? (int)got : -1;
		}
		Krank__Response *r = krank_decode(c, len);
		if (r == NULL) {
			c->broken = true;
			return got > 0 ? (int)got : -1;
		}
		if (krank_sub_done(c, r) != 0)
			return got > 0 ? (int)got : -1;
	}
	return (int)got;
}

unsigned
krank_pending(const struct krank_client *c)
{
	return c->nsub + c->ncqe;
}
