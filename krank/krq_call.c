/*
 * krq_call.c - the system-call dispatcher: the direct path (krq_call),
 * the queue path (krq_dispatch: bounded decode, the same handlers,
 * encode), the caller's context around each call, and the checks every
 * handler shares (buffer ranges inside the caller's area, paths, inline
 * payloads).  The handlers are in krq_files.c, krq_sockets.c, krq_misc.c.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <krank/krs.h>

#include "krq_call.h"
#include "krq_fixed.h"

#define KRQ_F_CTX	0x1		/* runs in the caller's context */
#define KRQ_F_KNOWN	0x80		/* a call of the table */

/* The generated case numbers are the table's: the .def and the .proto
 * agree on every number (the names are checked by test_krq_dispatch). */
#define KRQ_CALL(num, name, U, T, fl)					\
	_Static_assert(KRANK__REQUEST__CALL_##U == (num),		\
	    "krq_calls.def: " #name " is not field " #num " of Request");
#include "krq_calls.def"
#undef KRQ_CALL

/* The fixed frames (krq_fixed.h) carry these calls' fields as the
 * generated structures have them: same numbers, same C types. */
#define KRQ_FX_TYPE(T, field, type)					\
	_Static_assert(_Generic(((Krank__##T *)0)->field, type: 1,	\
	    default: 0), "krq_fixed.h: " #T "." #field " is not " #type)
_Static_assert(KRANK__REQUEST__CALL_NULL == KRQ_FX_NULL, "fx null");
_Static_assert(KRANK__REQUEST__CALL_READ == KRQ_FX_READ, "fx read");
_Static_assert(KRANK__REQUEST__CALL_WRITE == KRQ_FX_WRITE, "fx write");
_Static_assert(KRANK__REQUEST__CALL_PREAD == KRQ_FX_PREAD, "fx pread");
_Static_assert(KRANK__REQUEST__CALL_PWRITE == KRQ_FX_PWRITE, "fx pwrite");
KRQ_FX_TYPE(Request, tag, uint64_t);
KRQ_FX_TYPE(Null, version, uint32_t);
KRQ_FX_TYPE(Read, fd, int32_t);
KRQ_FX_TYPE(Write, fd, int32_t);
KRQ_FX_TYPE(Pread, fd, int32_t);
KRQ_FX_TYPE(Pread, offset, int64_t);
KRQ_FX_TYPE(Pwrite, fd, int32_t);
KRQ_FX_TYPE(Pwrite, offset, int64_t);
KRQ_FX_TYPE(Buf, offset, uint64_t);
KRQ_FX_TYPE(Buf, length, uint64_t);
KRQ_FX_TYPE(Dest, inline_max, uint32_t);
KRQ_FX_TYPE(Response, tag, uint64_t);
KRQ_FX_TYPE(Response, value, int64_t);
_Static_assert(sizeof(Krank__Errno) == sizeof(int32_t), "fx error");

const struct krq_call_info krq_calls[] = {
#define KRQ_CALL(num, name, U, T, fl) { (num), #name },
#include "krq_calls.def"
#undef KRQ_CALL
};
const size_t krq_ncalls = sizeof(krq_calls) / sizeof(krq_calls[0]);

#define KRQ_MAXCALL 128
static const unsigned char krq_flags[KRQ_MAXCALL] = {
#define KRQ_CALL(num, name, U, T, fl) [(num)] = (fl) | KRQ_F_KNOWN,
#include "krq_calls.def"
#undef KRQ_CALL
};

/*
 * Per-thread memory.  Results (submessages, inline data, addresses) come
 * from a scratch block reset at each call; a decoded request from an
 * arena reset at each krq_dispatch.  Both are allocated on first use and
 * freed when the thread ends; both are bounded, so nothing a request says
 * can make KRANK allocate more.
 */
#define KRQ_RESULT_MAX	(32 * 1024)
#define KRQ_DECODE_MAX	(256 * 1024)

struct krq_mem {
	uint8_t *res;
	size_t res_used;
	uint8_t *dec;
	size_t dec_used;
};
static __thread struct krq_mem krq_mem;
static __thread int krq_malformed;	/* the current request was bad */
static __thread struct krs_ctx *krq_cur_ctx;	/* krq_enter's */
static __thread bool krq_hold;		/* krq_dispatch's thread: keep the
					 * caller's context entered */
/* A fixed-frame read's inline destination: the response slot's payload
 * (cap bytes), so that the bytes are not copied once more. */
static __thread uint8_t *krq_fx_dst;
static __thread size_t krq_fx_dst_cap;
static pthread_key_t krq_key;
static pthread_once_t krq_key_once = PTHREAD_ONCE_INIT;

static void
krq_mem_free(void *arg)
{
	struct krq_mem *m = arg;

	free(m->res);
	free(m->dec);
	m->res = m->dec = NULL;
}

static void
krq_key_init(void)
{
	(void)pthread_key_create(&krq_key, krq_mem_free);
}

static int
krq_mem_get(uint8_t **pp, size_t size)
{
	if (*pp != NULL)
		return 0;
	pthread_once(&krq_key_once, krq_key_init);
	*pp = aligned_alloc(64, size);
	if (*pp == NULL)
		return ENOMEM;
	(void)pthread_setspecific(krq_key, &krq_mem);
	return 0;
}

void *
krq_scratch(size_t n)
{
	struct krq_mem *m = &krq_mem;

	if (krq_mem_get(&m->res, KRQ_RESULT_MAX) != 0 ||
	    n > KRQ_RESULT_MAX - m->res_used)
		return NULL;
	void *p = m->res + m->res_used;
	m->res_used += (n + 15) & ~(size_t)15;
	if (m->res_used > KRQ_RESULT_MAX)
		m->res_used = KRQ_RESULT_MAX;
	return p;
}

/* Count a malformed argument; the request is then reported as bad. */
static int
krq_bad(_Atomic uint64_t *counter, int err)
{
	atomic_fetch_add_explicit(counter, 1, memory_order_relaxed);
	krq_malformed = err;
	return err;
}

int
krq_buf(struct krq_caller *c, const Krank__Buf *b, void **pp, size_t *lenp)
{
	if (b == NULL)
		return krq_bad(&c->bad_arg, EINVAL);
	if (c->area == NULL) {
		/* Direct path: the offset is the caller's own address. */
		void *p = (void *)(uintptr_t)b->offset;
		if (b->length > (uint64_t)SIZE_MAX / 2 ||
		    (c->range_ok != NULL && b->length > 0 &&
		    !c->range_ok(p, (size_t)b->length)))
			return krq_bad(&c->bad_range, EFAULT);
		*pp = p;
		*lenp = (size_t)b->length;
		return 0;
	}
	/* Overflow-safe: offset <= len, then length <= len - offset. */
	if (b->offset > c->area_len || b->length > c->area_len - b->offset)
		return krq_bad(&c->bad_range, EFAULT);
	*pp = c->area + b->offset;
	*lenp = (size_t)b->length;
	return 0;
}

int
krq_data(struct krq_caller *c, const Krank__Data *d, const void **pp,
    size_t *lenp)
{
	void *p;

	if (d == NULL)
		return krq_bad(&c->bad_arg, EINVAL);
	switch (d->from_case) {
	case KRANK__DATA__FROM_AREA: {
		int err = krq_buf(c, d->area, &p, lenp);
		*pp = p;
		return err;
	}
	case KRANK__DATA__FROM_DATA:
		if (d->data.len > KRANK__LIMIT__LIMIT_INLINE_MAX ||
		    (d->data.len > 0 && d->data.data == NULL))
			return krq_bad(&c->bad_arg, EINVAL);
		if (c->area == NULL && c->range_ok != NULL && d->data.len > 0 &&
		    !c->range_ok(d->data.data, d->data.len))
			return krq_bad(&c->bad_range, EFAULT);
		*pp = d->data.data;
		*lenp = d->data.len;
		return 0;
	default:
		return krq_bad(&c->bad_arg, EINVAL);
	}
}

int
krq_dest(struct krq_caller *c, const Krank__Dest *d, Krank__Response *r,
    void **pp, size_t *lenp)
{
	if (d == NULL)
		return krq_bad(&c->bad_arg, EINVAL);
	switch (d->to_case) {
	case KRANK__DEST__TO_AREA:
		return krq_buf(c, d->area, pp, lenp);
	case KRANK__DEST__TO_INLINE_MAX:
		if (d->inline_max > KRANK__LIMIT__LIMIT_INLINE_MAX)
			return krq_bad(&c->bad_arg, EINVAL);
		if (krq_fx_dst != NULL && d->inline_max <= krq_fx_dst_cap)
			*pp = krq_fx_dst;
		else if ((*pp = krq_scratch(d->inline_max)) == NULL)
			return ENOMEM;
		*lenp = d->inline_max;
		r->result_case = KRANK__RESPONSE__RESULT_DATA;
		r->data.data = *pp;
		r->data.len = 0;
		return 0;
	default:
		return krq_bad(&c->bad_arg, EINVAL);
	}
}

void
krq_dest_done(Krank__Response *r, size_t n)
{
	if (r->result_case == KRANK__RESPONSE__RESULT_DATA)
		r->data.len = n;
}

int
krq_path(struct krq_caller *c, const char *s)
{
	/* A decoded string always ends in a NUL (protobuf-c adds one); its
	 * length is what is bounded here.  An empty path is the caller's
	 * mistake, not a malformed request. */
	if (s == NULL)
		return krq_bad(&c->bad_arg, EINVAL);
	if (strnlen(s, KRANK__LIMIT__LIMIT_PATH_MAX) >= KRANK__LIMIT__LIMIT_PATH_MAX)
		return krq_bad(&c->bad_arg, ENAMETOOLONG);
	return s[0] == '\0' ? ENOENT : 0;
}

int
krq_malformed_arg(struct krq_caller *c, int err)
{
	return krq_bad(&c->bad_arg, err);
}

int
krq_caller_open(void *ops_arg, struct krs_ctx *ctx, void *area,
    size_t area_len, void **argp)
{
	static _Atomic uint32_t next_owner = 0x80000000u;
	struct krq_caller *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return ENOMEM;
	c->ctx = ctx;
	c->area = area;
	c->area_len = area_len;
	c->flags = ops_arg != NULL ? *(const unsigned *)ops_arg : 0;
	c->owner = atomic_fetch_add(&next_owner, 1);
	*argp = c;
	return 0;
}

void
krq_caller_close(void *arg)
{
	krq_sendq_free(arg);
	free(arg);
}

int
krq_enter(struct krq_caller *c)
{
	if (c->ctx == NULL || c->ctx == krq_cur_ctx)
		return 0;
	if (krs_ctx_enter(c->ctx) != 0)
		return errno;
	krq_cur_ctx = c->ctx;
	return 0;
}

void
krq_leave(void)
{
	if (krq_cur_ctx != NULL) {
		krq_cur_ctx = NULL;
		krs_ctx_leave();
	}
}

int
krq_call(struct krq_caller *c, const Krank__Request *req,
    Krank__Response *r)
{
	int err;
	unsigned n = (unsigned)req->call_case;
	unsigned fl = n < KRQ_MAXCALL ? krq_flags[n] : 0;

	krq_mem.res_used = 0;
	krq_malformed = 0;
	r->tag = req->tag;
	/* Not a locked add: calls is a statistic, and rings serving one
	 * caller at once may lose an increment; the bad_* counters, which
	 * decide about abuse, are exact. */
	atomic_store_explicit(&c->calls, atomic_load_explicit(&c->calls,
	    memory_order_relaxed) + 1, memory_order_relaxed);
	if (!(fl & KRQ_F_KNOWN)) {
		err = krq_bad(&c->bad_call, ENOSYS);
		goto out;
	}
	bool enter = (fl & KRQ_F_CTX) && c->ctx != NULL && c->ctx != krq_cur_ctx;
	if (enter && krq_hold) {
		/* A queue server thread: enter once and stay (krq_dispatch);
		 * entering and leaving per call cost an lwp each time. */
		if (krq_enter(c) != 0) {
			err = errno;
			goto out;
		}
		enter = false;
	} else if (krq_hold && !(fl & KRQ_F_CTX) && krq_cur_ctx != NULL) {
		/* As these calls always ran: outside the context. */
		krq_leave();
	}
	if (enter && krs_ctx_enter(c->ctx) != 0) {
		err = errno;
		goto out;
	}
	switch (req->call_case) {
#define KRQ_CALL(num, name, U, T, fl)					\
	case KRANK__REQUEST__CALL_##U:					\
		err = req->name == NULL ? krq_bad(&c->bad_arg, EBADMSG) :\
		    krq_h_##name(c, req->name, r);			\
		break;
#include "krq_calls.def"
#undef KRQ_CALL
	default:
		err = ENOSYS;			/* not reached: KRQ_F_KNOWN */
		break;
	}
	if (enter)
		krs_ctx_leave();
out:
	if (err != 0) {
		atomic_fetch_add_explicit(&c->failed, 1, memory_order_relaxed);
		r->error = krq_errno_to_wire(err);
		r->value = -1;
	}
	return krq_malformed;
}

/* The bounded allocator of a decode: a bump arena, freed all at once. */
static void *
krq_dec_alloc(void *arg, size_t n)
{
	struct krq_mem *m = arg;

	if (n > KRQ_DECODE_MAX - m->dec_used)
		return NULL;
	void *p = m->dec + m->dec_used;
	m->dec_used += (n + 15) & ~(size_t)15;
	if (m->dec_used > KRQ_DECODE_MAX)
		m->dec_used = KRQ_DECODE_MAX;
	return p;
}

static void
krq_dec_free(void *arg, void *p)
{
	(void)arg;
	(void)p;
}

/* Count a malformed request (undecodable, or a bad fixed frame). */
static void
krq_bad_msg(struct krq_caller *c, Krank__Response *r)
{
	atomic_fetch_add_explicit(&c->calls, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&c->failed, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&c->bad_msg, 1, memory_order_relaxed);
	r->error = KRANK__ERRNO__EBADMSG;
	r->value = -1;
}

/*
 * A fixed frame (krq_fixed.h): checked field by field, turned into the
 * Krank__Request protobuf would have decoded, served by the same handler
 * (krq_call), answered with a fixed response.  An inline read lands in
 * the response slot itself.  req is KRANK's private copy, so an inline
 * write's payload is used where it is.
 */
static int
krq_dispatch_fixed(struct krq_caller *c, const uint8_t *req, size_t len,
    uint8_t *resp, size_t cap, size_t *resplenp)
{
	struct krq_fx_req h;
	struct krq_fx_resp rh;
	Krank__Request q;
	Krank__Response r;
	union {
		Krank__Null null;
		Krank__Read read;
		Krank__Write write;
		Krank__Pread pread;
		Krank__Pwrite pwrite;
	} a;
	Krank__Buf b = KRANK__BUF__INIT;
	Krank__Data data = KRANK__DATA__INIT;
	Krank__Dest dest = KRANK__DEST__INIT;
	uint8_t *dst = NULL;
	size_t extra = 0;
	int bad = 0;

	*resplenp = 0;
	if (cap < KRQ_FX_RESP_SIZE)
		return EMSGSIZE;
	krank__response__init(&r);
	krank__request__init(&q);
	memset(&h, 0, sizeof(h));
	if (len < KRQ_FX_REQ_SIZE) {
		bad = EBADMSG;
		goto answer;
	}
	memcpy(&h, req, sizeof(h));
	extra = len - KRQ_FX_REQ_SIZE;
	q.tag = h.tag;
	b.offset = h.aoff;
	b.length = h.len;
	bool area = h.where == KRQ_FX_AREA;
	if (h.zero != 0 || h.where > KRQ_FX_AREA ||
	    (!area && h.aoff != 0)) {
		bad = EBADMSG;
		goto answer;
	}
	if (area) {
		dest.to_case = KRANK__DEST__TO_AREA;
		dest.area = &b;
		data.from_case = KRANK__DATA__FROM_AREA;
		data.area = &b;
	} else {
		dest.to_case = KRANK__DEST__TO_INLINE_MAX;
		dest.inline_max = h.len;
		data.from_case = KRANK__DATA__FROM_DATA;
		data.data.data = (uint8_t *)req + KRQ_FX_REQ_SIZE;
		data.data.len = extra;
	}
	switch (h.call) {
	case KRQ_FX_NULL:
		if (h.where != 0 || h.len != 0 || h.offset != 0 || extra != 0)
			bad = EBADMSG;
		krank__null__init(&a.null);
		a.null.version = (uint32_t)h.fd;
		q.call_case = KRANK__REQUEST__CALL_NULL;
		q.null = &a.null;
		break;
	case KRQ_FX_READ:
	case KRQ_FX_PREAD:
		if (extra != 0 || (h.call == KRQ_FX_READ && h.offset != 0))
			bad = EBADMSG;
		if (h.call == KRQ_FX_READ) {
			krank__read__init(&a.read);
			a.read.fd = h.fd;
			a.read.dest = &dest;
			q.call_case = KRANK__REQUEST__CALL_READ;
			q.read = &a.read;
		} else {
			krank__pread__init(&a.pread);
			a.pread.fd = h.fd;
			a.pread.dest = &dest;
			a.pread.offset = h.offset;
			q.call_case = KRANK__REQUEST__CALL_PREAD;
			q.pread = &a.pread;
		}
		/* Inline: straight into the response slot, when it fits
		 * (what does not is refused before the call, not after). */
		if (!area && h.len <= KRANK__LIMIT__LIMIT_INLINE_MAX) {
			if (h.len > cap - KRQ_FX_RESP_SIZE) {
				r.tag = h.tag;
				r.error = KRANK__ERRNO__EMSGSIZE;
				r.value = -1;
				goto encode;
			}
			dst = resp + KRQ_FX_RESP_SIZE;
		}
		break;
	case KRQ_FX_WRITE:
	case KRQ_FX_PWRITE:
		if ((h.call == KRQ_FX_WRITE && h.offset != 0) ||
		    (area ? extra != 0 : h.len != extra))
			bad = EBADMSG;
		if (h.call == KRQ_FX_WRITE) {
			krank__write__init(&a.write);
			a.write.fd = h.fd;
			a.write.data = &data;
			q.call_case = KRANK__REQUEST__CALL_WRITE;
			q.write = &a.write;
		} else {
			krank__pwrite__init(&a.pwrite);
			a.pwrite.fd = h.fd;
			a.pwrite.data = &data;
			a.pwrite.offset = h.offset;
			q.call_case = KRANK__REQUEST__CALL_PWRITE;
			q.pwrite = &a.pwrite;
		}
		break;
	default:
		bad = EBADMSG;
		break;
	}
answer:
	if (bad != 0) {
		r.tag = h.tag;
		krq_bad_msg(c, &r);
	} else {
		krq_fx_dst = dst;
		krq_fx_dst_cap = cap - KRQ_FX_RESP_SIZE;
		bad = krq_call(c, &q, &r);
		krq_fx_dst = NULL;
	}
encode:;
	size_t n = 0;
	if (r.result_case == KRANK__RESPONSE__RESULT_DATA) {
		n = r.data.len;
		if (n > cap - KRQ_FX_RESP_SIZE) {
			/* Cannot happen: dst was checked against cap. */
			n = 0;
			r.result_case = KRANK__RESPONSE__RESULT__NOT_SET;
			r.error = KRANK__ERRNO__EMSGSIZE;
			r.value = -1;
		} else if (n > 0 && r.data.data != resp + KRQ_FX_RESP_SIZE) {
			memcpy(resp + KRQ_FX_RESP_SIZE, r.data.data, n);
		}
	}
	memset(&rh, 0, sizeof(rh));
	rh.mark = KRQ_FX_MARK;
	rh.data = r.result_case == KRANK__RESPONSE__RESULT_DATA;
	rh.error = (int32_t)r.error;
	rh.tag = r.tag;
	rh.value = r.value;
	memcpy(resp, &rh, sizeof(rh));
	*resplenp = KRQ_FX_RESP_SIZE + n;
	return bad;
}

int
krq_dispatch(void *caller, const void *req, size_t len, void *resp,
    size_t cap, size_t *resplenp)
{
	struct krq_caller *c = caller;
	struct krq_mem *m = &krq_mem;
	Krank__Response r;
	Krank__Request q;
	int bad = 0, err = 0;

	krq_hold = true;
	if (len > 0 && *(const uint8_t *)req == KRQ_FX_MARK)
		return krq_dispatch_fixed(c, req, len, resp, cap, resplenp);
	krank__response__init(&r);
	*resplenp = 0;
	if (len > KRANK__LIMIT__LIMIT_REQUEST_MAX) {
		bad = EBADMSG;
	} else if (krq_mem_get(&m->dec, KRQ_DECODE_MAX) != 0) {
		err = ENOMEM;
		r.error = KRANK__ERRNO__ENOMEM;
		r.value = -1;
	} else {
		ProtobufCAllocator a = {
			.alloc = krq_dec_alloc, .free = krq_dec_free,
			.allocator_data = m,
		};
		m->dec_used = 0;
		bad = krq_request_decode(req, len, &a, &q);
	}
	if (bad == 0 && err == 0) {
		bad = krq_call(c, &q, &r);
	} else if (bad != 0) {
		krq_bad_msg(c, &r);
	}
	if (krq_response_encode(&r, resp, cap, resplenp) != 0) {
		/* The result does not fit the caller's response slot (its
		 * inline_max is too large for it): say so, without it. */
		r.error = KRANK__ERRNO__EMSGSIZE;
		r.value = -1;
		r.result_case = KRANK__RESPONSE__RESULT__NOT_SET;
		r.addr = NULL;
		if (krq_response_encode(&r, resp, cap, resplenp) != 0) {
			*resplenp = 0;
			return EMSGSIZE;
		}
	}
	return bad;
}

void
krq_dispatch_end(void *caller)
{
	(void)caller;
	krq_leave();
	krq_hold = false;
}
