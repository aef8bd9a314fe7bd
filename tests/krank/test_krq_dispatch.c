/*
 * test_krq_dispatch.c - KRANK's system-call dispatcher: the handler table
 * matches krank.proto's Request oneof (names and numbers, nothing more or
 * less); the direct path (krq_call, pointers) and the queue path
 * (krq_dispatch, a buffer area) reach the same handlers on the caller's
 * own descriptor table; hostile requests (garbage, truncation, unknown
 * calls, missing arguments, long paths, huge and overflowing ranges,
 * negative descriptors, allocation bombs) get error responses and are
 * counted.  Built with ASan+UBSan; boots vfs, tmpfs and the net stack.
 */
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <krank/krs.h>

#include "krq_call.h"
#include "krq_fixed.h"
#include "rdtest.h"

static uint8_t area[1 << 16];
static struct krq_caller C;
static uint8_t reqbuf[1 << 17], respbuf[1 << 17];
static Krank__Response *last;

/* Dispatch len raw bytes; the decoded response (freed at the next call)
 * and krq_dispatch's own return in *badp. */
static Krank__Response *
raw(const void *msg, size_t len, size_t cap, int *badp)
{
	size_t rl = 0;

	if (last != NULL)
		krank__response__free_unpacked(last, NULL);
	last = NULL;
	*badp = krq_dispatch(&C, msg, len, respbuf, cap, &rl);
	/* A response of all defaults (tag 0, OK, value 0) is 0 bytes long;
	 * only EMSGSIZE means none was written. */
	if (*badp == EMSGSIZE && rl == 0)
		return NULL;
	last = krank__response__unpack(NULL, rl, respbuf);
	CHECK(last != NULL, "KRANK's response decodes (%zu bytes)", rl);
	return last;
}

static Krank__Response *
rpc(Krank__Request *q, int *badp)
{
	size_t n = krank__request__pack(q, reqbuf);
	return raw(reqbuf, n, sizeof(respbuf), badp);
}

static void
test_table(void)
{
	const ProtobufCMessageDescriptor *d = &krank__request__descriptor;
	size_t in_oneof = 0;

	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		if (!(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
			continue;
		in_oneof++;
		CHECK(f->quantifier_offset == offsetof(Krank__Request, call_case),
		    "%s belongs to Request's oneof call", f->name);
		size_t j;
		for (j = 0; j < krq_ncalls; j++)
			if (krq_calls[j].number == f->id)
				break;
		CHECK(j < krq_ncalls, "call %s (%u) of krank.proto has a handler",
		    f->name, f->id);
		CHECK(strcmp(krq_calls[j].name, f->name) == 0,
		    "field %u: the table says %s, the .proto %s", f->id,
		    krq_calls[j].name, f->name);
		CHECK(f->type == PROTOBUF_C_TYPE_MESSAGE,
		    "call %s takes a message", f->name);
	}
	CHECK(in_oneof == krq_ncalls, "the table has no call the .proto lacks "
	    "(%zu calls, %zu handlers)", in_oneof, krq_ncalls);
	for (size_t j = 0; j < krq_ncalls; j++)
		for (size_t k = j + 1; k < krq_ncalls; k++)
			CHECK(krq_calls[j].number != krq_calls[k].number,
			    "numbers unique");
	printf("ok: the handler table and krank.proto's Request oneof agree "
	    "(%zu calls, names and numbers)\n", krq_ncalls);
}

static char back[32];

/* The direct path's pointer check: only back[] is the caller's. */
static bool
only_back(const void *p, size_t n)
{
	return (const char *)p >= back && n <= sizeof(back) &&
	    (const char *)p + n <= back + sizeof(back);
}

/* The direct path: structures in, structures out, pointers for data. */
static void
test_direct(void)
{
	Krank__Request q;
	Krank__Response r;
	Krank__Null nu = KRANK__NULL__INIT;
	char data[] = "direct path";

	krank__request__init(&q);
	q.call_case = KRANK__REQUEST__CALL_NULL;
	q.null = &nu;
	q.tag = 7;
	krank__response__init(&r);
	CHECK(krq_call(&C, &q, &r) == 0 && r.error == 0 && r.value == 1 &&
	    r.tag == 7, "null call: version 1, tag echoed");

	Krank__Open o = KRANK__OPEN__INIT;
	o.path = "/direct";
	o.flags = KRS_O_RDWR | KRS_O_CREAT;
	o.mode = 0644;
	krank__request__init(&q);
	q.call_case = KRANK__REQUEST__CALL_OPEN;
	q.open = &o;
	krank__response__init(&r);
	CHECK(krq_call(&C, &q, &r) == 0 && r.error == 0 && r.value >= 0,
	    "open /direct: fd %ld", (long)r.value);
	int fd = (int)r.value;
	struct krs_stat st;
	errno = 0;
	CHECK(krs_fstat(fd, &st) != 0 && errno == EBADF,
	    "fd %d is the caller's own: the default context has none", fd);

	Krank__Buf b = KRANK__BUF__INIT;
	Krank__Data dd;
	krank__data__init(&dd);
	b.offset = (uintptr_t)data;
	b.length = strlen(data);
	dd.from_case = KRANK__DATA__FROM_AREA;
	dd.area = &b;
	Krank__Pwrite pw = KRANK__PWRITE__INIT;
	pw.fd = fd;
	pw.data = &dd;
	krank__request__init(&q);
	q.call_case = KRANK__REQUEST__CALL_PWRITE;
	q.pwrite = &pw;
	krank__response__init(&r);
	CHECK(krq_call(&C, &q, &r) == 0 && r.value == (int64_t)strlen(data),
	    "pwrite by pointer");
	Krank__Dest de;
	krank__dest__init(&de);
	b.offset = (uintptr_t)back;
	b.length = sizeof(back);
	de.to_case = KRANK__DEST__TO_AREA;
	de.area = &b;
	Krank__Pread pr = KRANK__PREAD__INIT;
	pr.fd = fd;
	pr.dest = &de;
	krank__request__init(&q);
	q.call_case = KRANK__REQUEST__CALL_PREAD;
	q.pread = &pr;
	krank__response__init(&r);
	CHECK(krq_call(&C, &q, &r) == 0 && r.value == (int64_t)strlen(data) &&
	    memcmp(back, data, strlen(data)) == 0, "pread lands in the buffer");

	/* With a range_ok hook (an isolate's krk_self_range_ok), a pointer
	 * outside the caller's memory is EFAULT, not a fault in KRANK. */
	C.range_ok = only_back;
	b.offset = (uintptr_t)back + 1;
	krank__response__init(&r);
	uint64_t ranges = C.bad_range;
	CHECK(krq_call(&C, &q, &r) == EFAULT && r.error == KRANK__ERRNO__EFAULT
	    && C.bad_range == ranges + 1, "a buffer the hook refuses: EFAULT");
	b.offset = (uintptr_t)back;
	krank__response__init(&r);
	CHECK(krq_call(&C, &q, &r) == 0 && r.error == 0, "one it accepts: ok");
	C.range_ok = NULL;

	/* A call without its argument is malformed, not a crash. */
	krank__request__init(&q);
	q.call_case = KRANK__REQUEST__CALL_READ;
	q.read = NULL;
	uint64_t bad = C.bad_arg;
	krank__response__init(&r);
	CHECK(krq_call(&C, &q, &r) == EBADMSG &&
	    r.error == KRANK__ERRNO__EBADMSG && C.bad_arg == bad + 1,
	    "a call without its message: EBADMSG, counted");
	krank__request__init(&q);
	q.call_case = (Krank__Request__CallCase)99;
	krank__response__init(&r);
	CHECK(krq_call(&C, &q, &r) == ENOSYS && r.error == KRANK__ERRNO__ENOSYS,
	    "an unknown call: ENOSYS");
	printf("ok: direct path: null, open, pwrite/pread by pointer, "
	    "missing argument, unknown call\n");
}

/* The queue path with a buffer area, and what a hostile client sends. */
static void
test_queue(void)
{
	Krank__Request q;
	Krank__Response *r;
	int bad;

	Krank__Open o = KRANK__OPEN__INIT;
	o.path = "/queue";
	o.flags = KRS_O_RDWR | KRS_O_CREAT | KRS_O_TRUNC;
	o.mode = 0600;
	krank__request__init(&q);
	q.call_case = KRANK__REQUEST__CALL_OPEN;
	q.open = &o;
	q.tag = 42;
	r = rpc(&q, &bad);
	CHECK(r && bad == 0 && r->error == 0 && r->tag == 42, "open /queue");
	int fd = (int)r->value;

	memcpy(area + 100, "zero copy", 9);
	Krank__Buf b = KRANK__BUF__INIT;
	Krank__Data dd;
	krank__data__init(&dd);
	b.offset = 100;
	b.length = 9;
	dd.from_case = KRANK__DATA__FROM_AREA;
	dd.area = &b;
	Krank__Write w = KRANK__WRITE__INIT;
	w.fd = fd;
	w.data = &dd;
	krank__request__init(&q);
	q.call_case = KRANK__REQUEST__CALL_WRITE;
	q.write = &w;
	r = rpc(&q, &bad);
	CHECK(r && r->error == 0 && r->value == 9, "write 9 bytes from the area");

	Krank__Dest de;
	Krank__Pread pr = KRANK__PREAD__INIT;
	krank__dest__init(&de);
	b.offset = 5000;
	b.length = 64;
	de.to_case = KRANK__DEST__TO_AREA;
	de.area = &b;
	pr.fd = fd;
	pr.dest = &de;
	krank__request__init(&q);
	q.call_case = KRANK__REQUEST__CALL_PREAD;
	q.pread = &pr;
	r = rpc(&q, &bad);
	CHECK(r && r->value == 9 && memcmp(area + 5000, "zero copy", 9) == 0,
	    "pread lands at offset 5000 of the area");
	de.to_case = KRANK__DEST__TO_INLINE_MAX;
	de.inline_max = 4;
	r = rpc(&q, &bad);
	CHECK(r && r->value == 4 && r->result_case ==
	    KRANK__RESPONSE__RESULT_DATA && r->data.len == 4 &&
	    memcmp(r->data.data, "zero", 4) == 0, "pread inline (4 bytes)");

	/* Ranges outside the area, including ones that wrap around. */
	static const struct { uint64_t off, len; } out[] = {
		{ sizeof(area), 1 }, { sizeof(area) + 1, 0 },
		{ sizeof(area) - 1, 2 }, { 1, UINT64_MAX },
		{ UINT64_MAX, 1 }, { UINT64_MAX - 7, 16 },
	};
	de.to_case = KRANK__DEST__TO_AREA;
	de.area = &b;			/* a union with inline_max */
	for (size_t i = 0; i < sizeof(out) / sizeof(out[0]); i++) {
		uint64_t before = C.bad_range;
		b.offset = out[i].off;
		b.length = out[i].len;
		r = rpc(&q, &bad);
		CHECK(r && bad == EFAULT && r->error == KRANK__ERRNO__EFAULT &&
		    C.bad_range == before + 1, "range %#lx+%#lx: EFAULT, counted",
		    (unsigned long)out[i].off, (unsigned long)out[i].len);
	}
	b.offset = sizeof(area);
	b.length = 0;
	r = rpc(&q, &bad);
	CHECK(r && bad == 0 && r->value == 0, "an empty range at the area's "
	    "end is inside it (error %d value %ld bad %d)", r ? (int)r->error : -1,
	    r ? (long)r->value : 0L, bad);

	/* Inline payloads above the limit. */
	static uint8_t big[KRANK__LIMIT__LIMIT_INLINE_MAX + 1];
	dd.from_case = KRANK__DATA__FROM_DATA;
	dd.data.data = big;
	dd.data.len = sizeof(big);
	krank__request__init(&q);
	q.call_case = KRANK__REQUEST__CALL_WRITE;
	q.write = &w;
	r = rpc(&q, &bad);
	CHECK(r && bad == EINVAL && r->error == KRANK__ERRNO__EINVAL,
	    "inline write of %zu bytes: EINVAL", sizeof(big));
	de.to_case = KRANK__DEST__TO_INLINE_MAX;
	de.inline_max = KRANK__LIMIT__LIMIT_INLINE_MAX + 1;
	krank__request__init(&q);
	q.call_case = KRANK__REQUEST__CALL_PREAD;
	q.pread = &pr;
	r = rpc(&q, &bad);
	CHECK(r && bad == EINVAL, "inline read above the limit: EINVAL");
	/* A Data or Dest naming neither way. */
	krank__dest__init(&de);
	r = rpc(&q, &bad);
	CHECK(r && bad == EINVAL && r->error == KRANK__ERRNO__EINVAL,
	    "a Dest with neither area nor inline: EINVAL");

	/* Negative and foreign descriptors. */
	Krank__Fstat fs = KRANK__FSTAT__INIT;
	fs.fd = -5;
	krank__request__init(&q);
	q.call_case = KRANK__REQUEST__CALL_FSTAT;
	q.fstat = &fs;
	r = rpc(&q, &bad);
	CHECK(r && bad == 0 && r->error == KRANK__ERRNO__EBADF,
	    "fstat(-5): EBADF");
	fs.fd = fd;
	r = rpc(&q, &bad);
	CHECK(r && r->error == 0 && r->result_case ==
	    KRANK__RESPONSE__RESULT_STAT && r->stat->size == 9 &&
	    (r->stat->mode & KRS_S_IFMT) == KRS_S_IFREG, "fstat: 9-byte file");

	/* Paths: too long, missing file (a normal error, not counted). */
	static char longp[KRANK__LIMIT__LIMIT_PATH_MAX + 10];
	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	Krank__Stat sa = KRANK__STAT__INIT;
	sa.path = longp;
	krank__request__init(&q);
	q.call_case = KRANK__REQUEST__CALL_STAT;
	q.stat = &sa;
	r = rpc(&q, &bad);
	CHECK(r && bad == ENAMETOOLONG && r->error ==
	    KRANK__ERRNO__ENAMETOOLONG, "a %zu-byte path: ENAMETOOLONG",
	    strlen(longp));
	uint64_t args = C.bad_arg;
	sa.path = "/no/such/file";
	r = rpc(&q, &bad);
	CHECK(r && bad == 0 && r->error == KRANK__ERRNO__ENOENT &&
	    C.bad_arg == args, "stat of a missing file: ENOENT (value %d), "
	    "not counted as malformed", KRANK__ERRNO__ENOENT);

	/* Isolate control needs the caller's permission. */
	Krank__IsolateKill ik = KRANK__ISOLATE_KILL__INIT;
	ik.id = 1;
	krank__request__init(&q);
	q.call_case = KRANK__REQUEST__CALL_ISOLATE_KILL;
	q.isolate_kill = &ik;
	r = rpc(&q, &bad);
	CHECK(r && r->error == KRANK__ERRNO__EPERM, "isolate_kill without "
	    "KRQ_CALLER_ISOLATES: EPERM");

	/* Poll: mismatched arrays, too many. */
	static int32_t pf[KRANK__LIMIT__LIMIT_POLL_MAX + 1];
	static uint32_t pe[KRANK__LIMIT__LIMIT_POLL_MAX + 1];
	Krank__Poll po = KRANK__POLL__INIT;
	po.fd = pf;
	po.events = pe;
	po.n_fd = 2;
	po.n_events = 1;
	krank__request__init(&q);
	q.call_case = KRANK__REQUEST__CALL_POLL;
	q.poll = &po;
	r = rpc(&q, &bad);
	CHECK(r && bad == EINVAL, "poll with 2 fds and 1 events: EINVAL");
	po.n_fd = po.n_events = KRANK__LIMIT__LIMIT_POLL_MAX + 1;
	r = rpc(&q, &bad);
	CHECK(r && bad == EINVAL, "poll of %u fds: EINVAL",
	    KRANK__LIMIT__LIMIT_POLL_MAX + 1);
	pf[0] = fd;
	pe[0] = 1;
	po.n_fd = po.n_events = 1;
	r = rpc(&q, &bad);
	CHECK(r && bad == 0 && r->value == 1 && r->poll->n_revents == 1 &&
	    (r->poll->revents[0] & 1), "poll of a file: readable");
	printf("ok: queue path: area writes and reads, inline, %zu bad ranges, "
	    "limits, EBADF, paths, isolate permission, poll\n",
	    sizeof(out) / sizeof(out[0]));
}


/* ---- fixed frames (krq_fixed.h) ------------------------------------------ */

/* Each message a fixed frame stands for has exactly these fields (name,
 * number, type): a field added to krank.proto fails here until the frame
 * and krq_dispatch_fixed carry it. */
struct fx_field {
	const char *name;
	unsigned id;
	ProtobufCType type;
};
static const struct fx_field fx_null[] = {
	{ "version", 1, PROTOBUF_C_TYPE_UINT32 }, { NULL, 0, 0 } };
static const struct fx_field fx_read[] = {
	{ "fd", 1, PROTOBUF_C_TYPE_INT32 }, { "dest", 2, PROTOBUF_C_TYPE_MESSAGE },
	{ NULL, 0, 0 } };
static const struct fx_field fx_write[] = {
	{ "fd", 1, PROTOBUF_C_TYPE_INT32 }, { "data", 2, PROTOBUF_C_TYPE_MESSAGE },
	{ NULL, 0, 0 } };
static const struct fx_field fx_pread[] = {
	{ "fd", 1, PROTOBUF_C_TYPE_INT32 }, { "dest", 2, PROTOBUF_C_TYPE_MESSAGE },
	{ "offset", 3, PROTOBUF_C_TYPE_INT64 }, { NULL, 0, 0 } };
static const struct fx_field fx_pwrite[] = {
	{ "fd", 1, PROTOBUF_C_TYPE_INT32 }, { "data", 2, PROTOBUF_C_TYPE_MESSAGE },
	{ "offset", 3, PROTOBUF_C_TYPE_INT64 }, { NULL, 0, 0 } };
static const struct fx_field fx_buf[] = {
	{ "offset", 1, PROTOBUF_C_TYPE_UINT64 },
	{ "length", 2, PROTOBUF_C_TYPE_UINT64 }, { NULL, 0, 0 } };
static const struct fx_field fx_data[] = {
	{ "area", 1, PROTOBUF_C_TYPE_MESSAGE }, { "data", 2, PROTOBUF_C_TYPE_BYTES },
	{ NULL, 0, 0 } };
static const struct fx_field fx_dest[] = {
	{ "area", 1, PROTOBUF_C_TYPE_MESSAGE },
	{ "inline_max", 2, PROTOBUF_C_TYPE_UINT32 }, { NULL, 0, 0 } };

static void
fx_fields(const ProtobufCMessageDescriptor *d, const struct fx_field *want,
    bool exact)
{
	unsigned n = 0;
	for (; want[n].name != NULL; n++) {
		const ProtobufCFieldDescriptor *f =
		    protobuf_c_message_descriptor_get_field_by_name(d,
		    want[n].name);
		CHECK(f != NULL && f->id == want[n].id && f->type ==
		    want[n].type && f->label != PROTOBUF_C_LABEL_REPEATED,
		    "%s.%s is field %u of the type the fixed frame carries",
		    d->short_name, want[n].name, want[n].id);
	}
	if (exact)
		CHECK(d->n_fields == n, "%s has the %u fields the fixed frame "
		    "carries, not %u", d->short_name, n, d->n_fields);
}

static const struct fx_field fx_resp[] = {
	{ "tag", 1, PROTOBUF_C_TYPE_UINT64 }, { "error", 2, PROTOBUF_C_TYPE_ENUM },
	{ "value", 3, PROTOBUF_C_TYPE_INT64 }, { "data", 4, PROTOBUF_C_TYPE_BYTES },
	{ NULL, 0, 0 } };

static struct krq_fx_resp fxr;
static const uint8_t *fxd;
static size_t fxn;

/* Dispatch a fixed frame h with n payload bytes (and extra bytes beyond
 * the ones h.len names, for hostile frames); the response in fxr, its
 * data at fxd (fxn bytes); krq_dispatch's return. */
static int
fx_raw(const struct krq_fx_req *h, size_t hlen, const void *p, size_t n,
    size_t cap)
{
	size_t rl = 0;
	memcpy(reqbuf, h, hlen);
	if (n > 0)
		memcpy(reqbuf + hlen, p, n);
	memset(respbuf, 0xee, 64);
	int bad = krq_dispatch(&C, reqbuf, hlen + n, respbuf, cap, &rl);
	memset(&fxr, 0, sizeof(fxr));
	if (rl >= KRQ_FX_RESP_SIZE)
		memcpy(&fxr, respbuf, sizeof(fxr));
	fxd = respbuf + KRQ_FX_RESP_SIZE;
	fxn = rl >= KRQ_FX_RESP_SIZE ? rl - KRQ_FX_RESP_SIZE : 0;
	CHECK(bad == EMSGSIZE || (rl >= KRQ_FX_RESP_SIZE &&
	    fxr.mark == KRQ_FX_MARK && fxr.zero == 0 &&
	    (fxr.data == 1 || (fxr.data == 0 && fxn == 0))),
	    "a fixed frame gets a fixed response (%zu bytes)", rl);
	return bad;
}

static int
fx(uint8_t call, uint8_t where, int32_t fd, int64_t off, uint32_t len,
    uint32_t aoff, const void *p, size_t n)
{
	struct krq_fx_req h = { .mark = KRQ_FX_MARK, .call = call,
	    .where = where, .fd = fd, .tag = 777, .offset = off, .len = len,
	    .aoff = aoff };
	return fx_raw(&h, sizeof(h), p, n, sizeof(respbuf));
}

static void
test_fixed(void)
{
	Krank__Request q;
	Krank__Response *r;
	int bad;

	fx_fields(&krank__null__descriptor, fx_null, true);
	fx_fields(&krank__read__descriptor, fx_read, true);
	fx_fields(&krank__write__descriptor, fx_write, true);
	fx_fields(&krank__pread__descriptor, fx_pread, true);
	fx_fields(&krank__pwrite__descriptor, fx_pwrite, true);
	fx_fields(&krank__buf__descriptor, fx_buf, true);
	fx_fields(&krank__data__descriptor, fx_data, true);
	fx_fields(&krank__dest__descriptor, fx_dest, true);
	fx_fields(&krank__response__descriptor, fx_resp, false);
	static const struct { const char *name; unsigned num; } calls[] = {
		{ "null", KRQ_FX_NULL }, { "read", KRQ_FX_READ },
		{ "write", KRQ_FX_WRITE }, { "pread", KRQ_FX_PREAD },
		{ "pwrite", KRQ_FX_PWRITE } };
	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		const ProtobufCFieldDescriptor *f =
		    protobuf_c_message_descriptor_get_field_by_name(
		    &krank__request__descriptor, calls[i].name);
		CHECK(f != NULL && f->id == calls[i].num, "Request.%s is call %u "
		    "of the fixed frames", calls[i].name, calls[i].num);
	}
	printf("ok: fixed frames carry exactly the .proto's fields of null, "
	    "read, write, pread, pwrite, Buf, Data, Dest\n");

	/* The same calls both ways give the same answers. */
	bad = fx(KRQ_FX_NULL, 0, KRANK__VERSION__VERSION_CURRENT, 0, 0, 0,
	    NULL, 0);
	CHECK(bad == 0 && fxr.error == 0 && fxr.tag == 777 && fxr.value ==
	    KRANK__VERSION__VERSION_CURRENT && fxr.data == 0, "fixed null");
	bad = fx(KRQ_FX_NULL, 0, 99, 0, 0, 0, NULL, 0);
	CHECK(bad == 0 && fxr.error == KRANK__ERRNO__EPROTONOSUPPORT &&
	    fxr.value == -1, "fixed null of version 99: EPROTONOSUPPORT");

	Krank__Open o = KRANK__OPEN__INIT;
	o.path = "/fixed";
	o.flags = KRS_O_RDWR | KRS_O_CREAT | KRS_O_TRUNC;
	o.mode = 0600;
	krank__request__init(&q);
	q.call_case = KRANK__REQUEST__CALL_OPEN;
	q.open = &o;
	r = rpc(&q, &bad);
	CHECK(r && r->error == 0 && r->value >= 0, "open /fixed");
	int fd = (int)r->value;

	uint8_t pay[64];
	for (int i = 0; i < 64; i++)
		pay[i] = (uint8_t)(i * 7 + 1);
	bad = fx(KRQ_FX_PWRITE, KRQ_FX_INLINE, fd, 10, 64, 0, pay, 64);
	CHECK(bad == 0 && fxr.error == 0 && fxr.value == 64 && fxr.data == 0,
	    "fixed pwrite of 64 bytes inline at 10");
	/* Read back by protobuf, inline. */
	Krank__Dest de;
	Krank__Pread pr = KRANK__PREAD__INIT;
	krank__dest__init(&de);
	de.to_case = KRANK__DEST__TO_INLINE_MAX;
	de.inline_max = 64;
	pr.fd = fd;
	pr.dest = &de;
	pr.offset = 10;
	krank__request__init(&q);
	q.call_case = KRANK__REQUEST__CALL_PREAD;
	q.pread = &pr;
	r = rpc(&q, &bad);
	CHECK(r && r->value == 64 && r->data.len == 64 &&
	    memcmp(r->data.data, pay, 64) == 0, "protobuf pread reads what "
	    "the fixed pwrite wrote");
	bad = fx(KRQ_FX_PREAD, KRQ_FX_INLINE, fd, 10, 64, 0, NULL, 0);
	CHECK(bad == 0 && fxr.value == 64 && fxr.data == 1 && fxn == 64 &&
	    memcmp(fxd, pay, 64) == 0, "fixed pread inline: the same 64 bytes");
	bad = fx(KRQ_FX_PREAD, KRQ_FX_INLINE, fd, 70, 64, 0, NULL, 0);
	CHECK(bad == 0 && fxr.value == 4 && fxn == 4 &&
	    memcmp(fxd, pay + 60, 4) == 0, "fixed pread at the end: 4 bytes");
	/* By reference, both ways. */
	memcpy(area + 300, "by reference", 12);
	bad = fx(KRQ_FX_PWRITE, KRQ_FX_AREA, fd, 0, 12, 300, NULL, 0);
	CHECK(bad == 0 && fxr.value == 12, "fixed pwrite from the area");
	memset(area + 4000, 0, 16);
	bad = fx(KRQ_FX_PREAD, KRQ_FX_AREA, fd, 0, 12, 4000, NULL, 0);
	CHECK(bad == 0 && fxr.value == 12 && fxr.data == 0 &&
	    memcmp(area + 4000, "by reference", 12) == 0,
	    "fixed pread into the area");
	/* read and write move the descriptor's offset (pwrite left it 0). */
	bad = fx(KRQ_FX_WRITE, KRQ_FX_INLINE, fd, 0, 3, 0, "abc", 3);
	CHECK(bad == 0 && fxr.value == 3, "fixed write of 3 bytes");
	bad = fx(KRQ_FX_READ, KRQ_FX_INLINE, fd, 0, 5, 0, NULL, 0);
	CHECK(bad == 0 && fxr.value == 5 && memcmp(fxd, "refer", 5) == 0,
	    "fixed read continues at offset 3 ('%.5s')", (const char *)fxd);
	bad = fx(KRQ_FX_READ, KRQ_FX_AREA, fd, 0, 4, 8000, NULL, 0);
	CHECK(bad == 0 && fxr.value == 4 && memcmp(area + 8000, "ence", 4) == 0,
	    "fixed read into the area");
	bad = fx(KRQ_FX_PREAD, KRQ_FX_INLINE, 4000, 0, 8, 0, NULL, 0);
	CHECK(bad == 0 && fxr.error == KRANK__ERRNO__EBADF && fxr.value == -1,
	    "fixed pread of a descriptor not open: EBADF, not malformed");
	printf("ok: fixed null, read, write, pread, pwrite, inline and by "
	    "reference, agree with the protobuf calls\n");

	/* Hostile frames: each answered (fixed), counted as malformed. */
	uint64_t msgs = C.bad_msg, args = C.bad_arg, ranges = C.bad_range;
	struct krq_fx_req h = { .mark = KRQ_FX_MARK, .call = KRQ_FX_PREAD,
	    .fd = fd, .tag = 5, .len = 8 };
	CHECK(fx_raw(&h, 1, NULL, 0, sizeof(respbuf)) == EBADMSG &&
	    fxr.error == KRANK__ERRNO__EBADMSG, "a 1-byte frame: EBADMSG");
	CHECK(fx_raw(&h, KRQ_FX_REQ_SIZE - 1, NULL, 0, sizeof(respbuf)) ==
	    EBADMSG, "a 31-byte frame: EBADMSG");
	struct krq_fx_req m = h;
	m.zero = 1;
	CHECK(fx_raw(&m, sizeof(m), NULL, 0, sizeof(respbuf)) == EBADMSG &&
	    fxr.tag == 5, "reserved byte set: EBADMSG, with the tag");
	m = h;
	m.where = 2;
	CHECK(fx_raw(&m, sizeof(m), NULL, 0, sizeof(respbuf)) == EBADMSG,
	    "where 2: EBADMSG");
	m = h;
	m.aoff = 64;
	CHECK(fx_raw(&m, sizeof(m), NULL, 0, sizeof(respbuf)) == EBADMSG,
	    "inline with an area offset: EBADMSG");
	static const uint8_t odd[] = { 0, 1, 3, 4, 9, 12, 60, 255 };
	for (size_t i = 0; i < sizeof(odd); i++) {
		m = h;
		m.call = odd[i];
		CHECK(fx_raw(&m, sizeof(m), NULL, 0, sizeof(respbuf)) ==
		    EBADMSG, "call %u as a fixed frame: EBADMSG", odd[i]);
	}
	m = h;
	CHECK(fx_raw(&m, sizeof(m), "x", 1, sizeof(respbuf)) == EBADMSG,
	    "a read with payload bytes: EBADMSG");
	m.call = KRQ_FX_READ;
	m.offset = 8;
	CHECK(fx_raw(&m, sizeof(m), NULL, 0, sizeof(respbuf)) == EBADMSG,
	    "a read with an offset: EBADMSG");
	m = h;
	m.call = KRQ_FX_NULL;
	m.len = 0;
	CHECK(fx_raw(&m, sizeof(m), "x", 1, sizeof(respbuf)) == EBADMSG,
	    "a null with payload bytes: EBADMSG");
	m = h;
	m.call = KRQ_FX_PWRITE;
	m.len = 5;
	CHECK(fx_raw(&m, sizeof(m), "abcd", 4, sizeof(respbuf)) == EBADMSG,
	    "an inline write naming 5 bytes with 4: EBADMSG");
	CHECK(fx_raw(&m, sizeof(m), "abcdef", 6, sizeof(respbuf)) == EBADMSG,
	    "an inline write naming 5 bytes with 6: EBADMSG");
	m.where = KRQ_FX_AREA;
	CHECK(fx_raw(&m, sizeof(m), "abcde", 5, sizeof(respbuf)) == EBADMSG,
	    "an area write with payload bytes: EBADMSG");
	CHECK(C.bad_msg == msgs + 11 + sizeof(odd),
	    "every malformed frame counted (%lu)",
	    (unsigned long)(C.bad_msg - msgs));
	/* Arguments the handlers refuse, as they do protobuf's. */
	static const struct { uint64_t off, len; } out[] = {
		{ sizeof(area), 1 }, { sizeof(area) - 1, 2 },
		{ 0xffffffffu, 2 }, { 1, 0xffffffffu },
	};
	for (size_t i = 0; i < sizeof(out) / sizeof(out[0]); i++) {
		CHECK(fx(KRQ_FX_PREAD, KRQ_FX_AREA, fd, 0, (uint32_t)out[i].len,
		    (uint32_t)out[i].off, NULL, 0) == EFAULT &&
		    fxr.error == KRANK__ERRNO__EFAULT, "fixed pread into "
		    "%#lx+%#lx: EFAULT", (unsigned long)out[i].off,
		    (unsigned long)out[i].len);
		CHECK(fx(KRQ_FX_PWRITE, KRQ_FX_AREA, fd, 0, (uint32_t)out[i].len,
		    (uint32_t)out[i].off, NULL, 0) == EFAULT, "fixed pwrite "
		    "from %#lx+%#lx: EFAULT", (unsigned long)out[i].off,
		    (unsigned long)out[i].len);
	}
	CHECK(C.bad_range == ranges + 8, "bad ranges counted");
	CHECK(fx(KRQ_FX_PREAD, KRQ_FX_INLINE, fd, 0,
	    KRANK__LIMIT__LIMIT_INLINE_MAX + 1, 0, NULL, 0) == EINVAL &&
	    C.bad_arg == args + 1, "inline_max above the limit: EINVAL, "
	    "counted");
	static uint8_t big[KRANK__LIMIT__LIMIT_INLINE_MAX + 1];
	CHECK(fx(KRQ_FX_PWRITE, KRQ_FX_INLINE, fd, 0, sizeof(big), 0, big,
	    sizeof(big)) == EINVAL && C.bad_arg == args + 2,
	    "an inline write above the limit: EINVAL, counted");
	/* An inline read larger than the response slot: refused before
	 * the read (not malformed: the client chose a size). */
	struct krq_fx_req rd = { .mark = KRQ_FX_MARK, .call = KRQ_FX_READ,
	    .fd = fd, .tag = 6, .len = 100 };
	CHECK(fx_raw(&rd, sizeof(rd), NULL, 0, KRQ_FX_RESP_SIZE + 99) == 0 &&
	    fxr.error == KRANK__ERRNO__EMSGSIZE && fxr.tag == 6,
	    "an inline read of 100 bytes into a 99-byte slot: EMSGSIZE");
	CHECK(fx_raw(&rd, sizeof(rd), NULL, 0, KRQ_FX_RESP_SIZE - 1) ==
	    EMSGSIZE, "a response slot smaller than a fixed response: "
	    "EMSGSIZE, nothing written");
	/* Every single-byte change of a valid frame is answered. */
	struct krq_fx_req ok = { .mark = KRQ_FX_MARK, .call = KRQ_FX_PWRITE,
	    .fd = fd, .tag = 8, .offset = 100, .len = 8 };
	uint8_t frame[KRQ_FX_REQ_SIZE + 8];
	int answered = 0;
	for (size_t i = 1; i < sizeof(frame); i++)
		for (int v = 0; v < 256; v += 5) {
			memcpy(frame, &ok, sizeof(ok));
			memcpy(frame + sizeof(ok), "12345678", 8);
			frame[i] = (uint8_t)v;
			struct krq_fx_req mh;
			memcpy(&mh, frame, sizeof(mh));
			fx_raw(&mh, sizeof(mh), frame + sizeof(mh), 8,
			    sizeof(respbuf));
			answered++;
		}
	printf("ok: hostile fixed frames: short, reserved bytes, %zu unknown "
	    "calls, lengths that disagree, bad ranges, limits, a small slot; "
	    "%d mutations answered\n", sizeof(odd), answered);
}

static void
test_garbage(void)
{
	int bad;
	Krank__Response *r;
	uint64_t msgs = C.bad_msg, calls = C.bad_call;

	static const uint8_t junk[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	r = raw(junk, sizeof(junk), sizeof(respbuf), &bad);
	CHECK(r && bad == EBADMSG && r->error == KRANK__ERRNO__EBADMSG &&
	    C.bad_msg == msgs + 1, "garbage: EBADMSG response, counted");
	/* A length-delimited field claiming more bytes than there are. */
	static const uint8_t trunc[] = { 0x1a, 0x7f, 0x0a, 0x02, '/', 'x' };
	r = raw(trunc, sizeof(trunc), sizeof(respbuf), &bad);
	CHECK(r && bad == EBADMSG, "truncated message: EBADMSG");
	/* Field 99 (length-delimited, empty): not a call of this version. */
	static const uint8_t unk[] = { 0x08, 0x05, 0x9a, 0x06, 0x00 };
	r = raw(unk, sizeof(unk), sizeof(respbuf), &bad);
	CHECK(r && bad == ENOSYS && r->error == KRANK__ERRNO__ENOSYS &&
	    r->tag == 5 && C.bad_call == calls + 1,
	    "unknown field 99: ENOSYS with the tag, counted");
	r = raw("", 0, sizeof(respbuf), &bad);
	CHECK(r && bad == ENOSYS, "an empty request names no call: ENOSYS");
	/* Larger than a request may be. */
	r = raw(reqbuf, KRANK__LIMIT__LIMIT_REQUEST_MAX + 1, sizeof(respbuf),
	    &bad);
	CHECK(r && bad == EBADMSG, "a %d-byte request: EBADMSG",
	    KRANK__LIMIT__LIMIT_REQUEST_MAX + 1);
	/* An allocation bomb: 30000 empty argv strings decode into more
	 * than the bounded arena holds. */
	size_t n = 0;
	reqbuf[n++] = 0x08;		/* tag 1 */
	reqbuf[n++] = 0x01;
	reqbuf[n++] = 0xb2;		/* field 70, length-delimited */
	reqbuf[n++] = 0x04;
	reqbuf[n++] = 0xe0;		/* length 60000 (varint) */
	reqbuf[n++] = 0xd4;
	reqbuf[n++] = 0x03;
	for (int i = 0; i < 30000; i++) {
		reqbuf[n++] = 0x1a;	/* argv (3), empty */
		reqbuf[n++] = 0x00;
	}
	r = raw(reqbuf, n, sizeof(respbuf), &bad);
	CHECK(r && bad == EBADMSG && r->error == KRANK__ERRNO__EBADMSG,
	    "30000 strings (%zu bytes) exceed the bounded decoder: EBADMSG", n);
	/* A response slot too small for even an error. */
	r = raw(junk, sizeof(junk), 2, &bad);
	CHECK(r == NULL && bad == EMSGSIZE, "a 2-byte response slot: EMSGSIZE");
	/* Every single-byte change of a valid request is answered. */
	Krank__Request q;
	Krank__Stat sa = KRANK__STAT__INIT;
	sa.path = "/queue";
	krank__request__init(&q);
	q.call_case = KRANK__REQUEST__CALL_STAT;
	q.stat = &sa;
	q.tag = 300;
	size_t len = krank__request__pack(&q, reqbuf);
	uint8_t mut[64];
	int answered = 0;
	for (size_t i = 0; i < len; i++)
		for (int v = 0; v < 256; v += 3) {
			if (i == 0 && v == 0)
				continue;	/* a fixed frame: test_fixed */
			memcpy(mut, reqbuf, len);
			mut[i] = (uint8_t)v;
			for (size_t cut = len; cut + 2 > len && cut > 0; cut--) {
				r = raw(mut, cut, sizeof(respbuf), &bad);
				answered += r != NULL;
			}
		}
	CHECK(answered == (int)((len * 86 - 1) * 2), "%d mutated or cut requests, "
	    "each answered", answered);
	printf("ok: garbage, truncation, unknown call, oversize, allocation "
	    "bomb, tiny slot, %d mutations\n", answered);
}

/* Channels by the queue path: create, open the send end, the pool,
 * alloc, send, recv, release; backpressure; a bad buffer. */
static void
test_chan(void)
{
	Krank__Request q;
	Krank__Response *r;
	int bad;

	Krank__ChanCreate cc = KRANK__CHAN_CREATE__INIT;
	cc.name = "qchan";
	cc.nbufs = 4;
	cc.bufsize = 256;
	cc.flags = KRS_O_NONBLOCK;
	krank__request__init(&q);
	q.call_case = KRANK__REQUEST__CALL_CHAN_CREATE;
	q.chan_create = &cc;
	r = rpc(&q, &bad);
	CHECK(r && r->error == 0 && r->value >= 0, "chan_create qchan: %d",
	    r ? (int)r->error : -1);
	int rx = (int)r->value;
	Krank__ChanOpen co = KRANK__CHAN_OPEN__INIT;
	co.name = "qchan";
	co.flags = KRS_O_NONBLOCK;
	krank__request__init(&q);
	q.call_case = KRANK__REQUEST__CALL_CHAN_OPEN;
	q.chan_open = &co;
	r = rpc(&q, &bad);
	CHECK(r && r->error == 0 && r->value >= 0 && r->value != rx,
	    "chan_open: the send end");
	int tx = (int)r->value;
	Krank__ChanPool cp = KRANK__CHAN_POOL__INIT;
	cp.fd = tx;
	krank__request__init(&q);
	q.call_case = KRANK__REQUEST__CALL_CHAN_POOL;
	q.chan_pool = &cp;
	r = rpc(&q, &bad);
	CHECK(r && r->error == 0 && r->result_case ==
	    KRANK__RESPONSE__RESULT_CHAN_POOL && r->chan_pool->nbufs == 4 &&
	    r->chan_pool->bufsize == 256 && r->chan_pool->size >= 1024,
	    "chan_pool: 4 buffers of 256 bytes");

	Krank__ChanAlloc ca = KRANK__CHAN_ALLOC__INIT;
	ca.fd = tx;
	krank__request__init(&q);
	q.call_case = KRANK__REQUEST__CALL_CHAN_ALLOC;
	q.chan_alloc = &ca;
	uint64_t offs[4];
	for (int i = 0; i < 4; i++) {
		r = rpc(&q, &bad);
		CHECK(r && r->error == 0 && r->value >= 0, "chan_alloc %d", i);
		offs[i] = (uint64_t)r->value;
	}
	r = rpc(&q, &bad);
	CHECK(r && bad == 0 && r->error == KRANK__ERRNO__EAGAIN,
	    "a fifth alloc: EAGAIN (backpressure)");
	Krank__ChanSend cs = KRANK__CHAN_SEND__INIT;
	cs.fd = tx;
	cs.offset = offs[2];
	cs.length = 10;
	krank__request__init(&q);
	q.call_case = KRANK__REQUEST__CALL_CHAN_SEND;
	q.chan_send = &cs;
	r = rpc(&q, &bad);
	CHECK(r && r->error == 0, "chan_send buffer %lu",
	    (unsigned long)offs[2]);
	cs.offset = offs[2] + 1;
	r = rpc(&q, &bad);
	CHECK(r && r->error == KRANK__ERRNO__EINVAL, "sending an offset that "
	    "is no buffer: EINVAL");
	Krank__ChanRecv cr = KRANK__CHAN_RECV__INIT;
	cr.fd = rx;
	krank__request__init(&q);
	q.call_case = KRANK__REQUEST__CALL_CHAN_RECV;
	q.chan_recv = &cr;
	r = rpc(&q, &bad);
	CHECK(r && r->error == 0 && r->result_case ==
	    KRANK__RESPONSE__RESULT_CHAN_MSG && r->chan_msg->offset == offs[2]
	    && r->chan_msg->length == 10 && r->value == 10,
	    "chan_recv: the same buffer, 10 bytes");
	r = rpc(&q, &bad);
	CHECK(r && r->error == KRANK__ERRNO__EAGAIN, "nothing more: EAGAIN");
	Krank__ChanRelease rl = KRANK__CHAN_RELEASE__INIT;
	rl.fd = rx;
	rl.offset = offs[2];
	krank__request__init(&q);
	q.call_case = KRANK__REQUEST__CALL_CHAN_RELEASE;
	q.chan_release = &rl;
	r = rpc(&q, &bad);
	CHECK(r && r->error == 0, "chan_release");
	r = rpc(&q, &bad);
	CHECK(r && r->error == KRANK__ERRNO__EINVAL, "a second release: EINVAL");
	Krank__ChanClose cl = KRANK__CHAN_CLOSE__INIT;
	krank__request__init(&q);
	q.call_case = KRANK__REQUEST__CALL_CHAN_CLOSE;
	q.chan_close = &cl;
	cl.fd = tx;
	r = rpc(&q, &bad);
	CHECK(r && r->error == 0, "close the send end");
	cl.fd = rx;
	r = rpc(&q, &bad);
	CHECK(r && r->error == 0, "close the receive end");
	printf("ok: channels by the queue path: create, open, pool, alloc, "
	    "send, recv, release, backpressure, bad buffers\n");
}

static uint8_t wire_arena[16384];
static size_t wire_used;

static void *
wire_alloc(void *arg, size_t n)
{
	(void)arg;
	if (n > sizeof(wire_arena) - wire_used)
		return NULL;
	void *p = wire_arena + wire_used;
	wire_used += (n + 15) & ~(size_t)15;
	return p;
}

static void
wire_free(void *arg, void *p)
{
	(void)arg;
	(void)p;
}

/* krq_wire's envelopes write protobuf-c's bytes and read them back. */
static void
test_wire(void)
{
	static uint8_t a[4096], b[4096];
	size_t na, nb;
	ProtobufCAllocator al = { .alloc = wire_alloc, .free = wire_free };
	Krank__Response r, dec;
	Krank__StatResult st = KRANK__STAT_RESULT__INIT;
	Krank__Timespec ts = KRANK__TIMESPEC__INIT;
	Krank__PollResult pr = KRANK__POLL_RESULT__INIT;
	Krank__SockAddr sa = KRANK__SOCK_ADDR__INIT;
	uint32_t rev[3] = { 1, 0, 4 };
	uint8_t ip[4] = { 127, 0, 0, 1 };
	int cases = 0;

	st.size = 12345;
	st.mode = 0100644;
	ts.sec = -5;
	ts.nsec = 7;
	st.mtime = &ts;
	pr.n_revents = 3;
	pr.revents = rev;
	sa.family = 2;
	sa.port = 80;
	sa.addr.data = ip;
	sa.addr.len = 4;
	for (int k = 0; k < 6; k++) {
		krank__response__init(&r);
		r.tag = (uint64_t)k * 1000003;
		r.error = k == 1 ? KRANK__ERRNO__ENOENT : KRANK__ERRNO__OK;
		r.value = k == 2 ? -1 : (int64_t)k << 40;
		switch (k) {
		case 1:
			r.result_case = KRANK__RESPONSE__RESULT_DATA;
			r.data.data = (uint8_t *)"inline";
			r.data.len = 6;
			break;
		case 2:
			r.result_case = KRANK__RESPONSE__RESULT_STAT;
			r.stat = &st;
			break;
		case 3:
			r.result_case = KRANK__RESPONSE__RESULT_POLL;
			r.poll = &pr;
			r.addr = &sa;
			break;
		case 4:
			r.result_case = KRANK__RESPONSE__RESULT_SOCKOPT;
			r.sockopt.len = 0;
			break;
		default:
			break;
		}
		CHECK(krq_response_encode(&r, a, sizeof(a), &na) == 0,
		    "encode response %d", k);
		nb = krank__response__pack(&r, b);
		CHECK(na == nb && memcmp(a, b, na) == 0, "response %d: the same "
		    "%zu bytes as protobuf-c", k, na);
		Krank__Response *ref = krank__response__unpack(NULL, na, a);
		CHECK(ref != NULL, "protobuf-c reads it");
		wire_used = 0;
		CHECK(krq_response_decode(a, na, &al, &dec) == 0 &&
		    dec.tag == ref->tag && dec.error == ref->error &&
		    dec.value == ref->value && dec.result_case ==
		    ref->result_case && (dec.addr == NULL) == (ref->addr == NULL),
		    "krq_response_decode reads what protobuf-c reads");
		nb = krank__response__pack(&dec, b);
		CHECK(nb == na && memcmp(a, b, na) == 0, "and it packs back the "
		    "same");
		krank__response__free_unpacked(ref, NULL);
		cases++;
	}
	CHECK(krq_response_encode(&r, a, 1, &na) == EMSGSIZE || r.tag == 0,
	    "a 1-byte buffer: EMSGSIZE");

	/* A request naming two calls is refused; one naming one is read. */
	Krank__Request q;
	Krank__Fsync fs = KRANK__FSYNC__INIT;
	fs.fd = 3;
	krank__request__init(&q);
	q.call_case = KRANK__REQUEST__CALL_FSYNC;
	q.fsync = &fs;
	q.tag = 9;
	CHECK(krq_request_encode(&q, a, sizeof(a), &na) == 0 &&
	    na == krank__request__pack(&q, b) && memcmp(a, b, na) == 0,
	    "request: the same bytes as protobuf-c");
	memcpy(a + na, a + 2, na - 2);	/* the fsync field again */
	Krank__Request dq;
	wire_used = 0;
	CHECK(krq_request_decode(a, na, &al, &dq) == 0 && dq.tag == 9 &&
	    dq.call_case == KRANK__REQUEST__CALL_FSYNC && dq.fsync->fd == 3,
	    "decoded");
	CHECK(krq_request_decode(a, 2 * na - 2, &al, &dq) == EBADMSG,
	    "a second call field: EBADMSG");
	printf("ok: hand-coded envelopes equal protobuf-c's bytes (%d "
	    "responses, a request), two calls refused\n", cases);
}

int
main(void)
{
	char err[256];
	struct krs_ctx *ctx;

	CHECK(krs_boot("vfs,tmpfs,net,ether,socket,inet", err, sizeof(err)) == 0,
	    "boot: %s", err);
	CHECK(krs_mount("t", "/", "tmpfs", 0, NULL, 0) == 0, "mount tmpfs");
	CHECK(krs_ctx_create(0, 0, &ctx) == 0, "a context for the caller");
	test_table();
	test_wire();

	void *arg;
	unsigned fl = KRQ_CALLER_NOBLOCK;
	CHECK(krq_caller_open(&fl, ctx, area, sizeof(area), &arg) == 0,
	    "krq_caller_open");
	struct krq_caller *oc = arg;
	CHECK(oc->ctx == ctx && oc->area == area && oc->flags == fl &&
	    oc->owner >= 0x80000000u, "an attached client's caller: owner %#x",
	    oc->owner);
	krq_caller_close(arg);

	C.ctx = ctx;
	test_direct();
	C.area = area;
	C.area_len = sizeof(area);
	test_queue();
	test_chan();
	test_garbage();
	test_fixed();
	printf("counters: calls %lu failed %lu bad_msg %lu bad_call %lu "
	    "bad_arg %lu bad_range %lu\n", (unsigned long)C.calls,
	    (unsigned long)C.failed, (unsigned long)C.bad_msg,
	    (unsigned long)C.bad_call, (unsigned long)C.bad_arg,
	    (unsigned long)C.bad_range);
	if (last != NULL)
		krank__response__free_unpacked(last, NULL);
	krq_leave();
	CHECK(krs_ctx_destroy(ctx) == 0, "the caller's context goes");
	krs_shutdown();
	DONE();
}
