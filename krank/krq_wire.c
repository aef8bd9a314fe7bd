/*
 * krq_wire.c - the Request and Response envelopes of krank.proto coded by
 * hand.  protobuf-c packs and unpacks a message by walking every field of
 * its descriptor, and Request's oneof has a field per call: that walk
 * cost several times the call itself.  The envelopes are a few varints
 * and one length-delimited call or result; only that inner message goes
 * through protobuf-c.  The encoding is protobuf's (fuzz_krq_dispatch
 * checks it against protobuf-c's own decoder), so any protobuf library
 * on the other side reads and writes the same bytes.  Shared by KRANK
 * and libkrank.
 */
#include <errno.h>
#include <string.h>

#include "krq_call.h"

#define WT_VARINT	0
#define WT_I64		1
#define WT_LEN		2
#define WT_I32		5

/* A varint of at most max bytes at *pp (before end); advances *pp.
 * EBADMSG: truncated or longer.  Values take 10 bytes at most, keys and
 * lengths 5 (as protobuf-c reads them). */
static int
krq_varint_n(const uint8_t **pp, const uint8_t *end, uint64_t *vp,
    unsigned max)
{
	const uint8_t *p = *pp;
	uint64_t v = 0;

	for (unsigned shift = 0; shift < 7 * max; shift += 7) {
		if (p >= end)
			return EBADMSG;
		uint8_t b = *p++;
		v |= (uint64_t)(b & 0x7f) << (shift < 64 ? shift : 0);
		if (!(b & 0x80)) {
			*pp = p;
			*vp = v;
			return 0;
		}
	}
	return EBADMSG;
}

static int
krq_varint(const uint8_t **pp, const uint8_t *end, uint64_t *vp)
{
	return krq_varint_n(pp, end, vp, 10);
}

static int
krq_key(const uint8_t **pp, const uint8_t *end, unsigned *nump,
    unsigned *wtp)
{
	uint64_t k;

	if (krq_varint_n(pp, end, &k, 5) != 0 || (k >> 3) == 0 ||
	    (k >> 3) > 0x1fffffff)
		return EBADMSG;
	*nump = (unsigned)(k >> 3);
	*wtp = (unsigned)(k & 7);
	return 0;
}

/* A length prefix that fits what is left. */
static int
krq_len(const uint8_t **pp, const uint8_t *end, uint64_t *vp)
{
	if (krq_varint_n(pp, end, vp, 5) != 0 || *vp > 0x7fffffff ||
	    *vp > (uint64_t)(end - *pp))
		return EBADMSG;
	return 0;
}

/* Skip one field's value of wire type wt. */
static int
krq_skip(const uint8_t **pp, const uint8_t *end, unsigned wt)
{
	uint64_t v;

	switch (wt) {
	case WT_VARINT:
		return krq_varint(pp, end, &v);
	case WT_I64:
		if (end - *pp < 8)
			return EBADMSG;
		*pp += 8;
		return 0;
	case WT_I32:
		if (end - *pp < 4)
			return EBADMSG;
		*pp += 4;
		return 0;
	case WT_LEN:
		if (krq_len(pp, end, &v) != 0)
			return EBADMSG;
		*pp += v;
		return 0;
	default:			/* groups (3, 4) and 6, 7 */
		return EBADMSG;
	}
}

int
krq_request_decode(const void *buf, size_t len, ProtobufCAllocator *a,
    Krank__Request *q)
{
	const uint8_t *p = buf, *end = p + len;
	const ProtobufCMessageDescriptor *d = &krank__request__descriptor;

	krank__request__init(q);
	while (p < end) {
		uint64_t v;
		unsigned num, wt;
		if (krq_key(&p, end, &num, &wt) != 0)
			return EBADMSG;
		if (num == 1) {
			if (wt != WT_VARINT || krq_varint(&p, end, &v) != 0)
				return EBADMSG;
			q->tag = v;
			continue;
		}
		const ProtobufCFieldDescriptor *f =
		    protobuf_c_message_descriptor_get_field(d, num);
		if (f == NULL) {
			/* Unknown to this version: skipped, as protobuf does;
			 * a request naming no known call is ENOSYS later. */
			if (krq_skip(&p, end, wt) != 0)
				return EBADMSG;
			continue;
		}
		if (wt != WT_LEN || krq_len(&p, end, &v) != 0)
			return EBADMSG;
		/* One call per request.  (protobuf would merge a repeated
		 * message field and let the last of a oneof win; no client
		 * needs either, and refusing keeps decoding unambiguous.) */
		if (q->call_case != KRANK__REQUEST__CALL__NOT_SET)
			return EBADMSG;
		ProtobufCMessage *m = protobuf_c_message_unpack(f->descriptor, a,
		    (size_t)v, p);
		if (m == NULL)
			return EBADMSG;
		p += v;
		*(uint32_t *)((char *)q + f->quantifier_offset) = num;
		*(ProtobufCMessage **)((char *)q + f->offset) = m;
	}
	return 0;
}

/* ---- encoding ------------------------------------------------------------- */
struct krq_out {
	uint8_t *p, *end;
	int err;
};

static void
out_varint(struct krq_out *o, uint64_t v)
{
	do {
		if (o->p >= o->end) {
			o->err = EMSGSIZE;
			return;
		}
		*o->p++ = (uint8_t)(v & 0x7f) | (v > 0x7f ? 0x80 : 0);
		v >>= 7;
	} while (v != 0);
}

static void
out_bytes(struct krq_out *o, unsigned num, const void *b, size_t n)
{
	out_varint(o, (uint64_t)num << 3 | WT_LEN);
	out_varint(o, n);
	if (o->err != 0 || n > (size_t)(o->end - o->p)) {
		o->err = EMSGSIZE;
		return;
	}
	if (n > 0)
		memcpy(o->p, b, n);
	o->p += n;
}

static void
out_msg(struct krq_out *o, unsigned num, const ProtobufCMessage *m)
{
	size_t n = protobuf_c_message_get_packed_size(m);

	out_varint(o, (uint64_t)num << 3 | WT_LEN);
	out_varint(o, n);
	if (o->err != 0 || n > (size_t)(o->end - o->p)) {
		o->err = EMSGSIZE;
		return;
	}
	o->p += protobuf_c_message_pack(m, o->p);
}

int
krq_request_encode(const Krank__Request *q, void *buf, size_t cap,
    size_t *lenp)
{
	struct krq_out o = { buf, (uint8_t *)buf + cap, 0 };
	const ProtobufCFieldDescriptor *f = q->call_case == 0 ? NULL :
	    protobuf_c_message_descriptor_get_field(&krank__request__descriptor,
	    (unsigned)q->call_case);

	if (q->tag != 0) {
		out_varint(&o, 1 << 3 | WT_VARINT);
		out_varint(&o, q->tag);
	}
	if (f != NULL) {
		const ProtobufCMessage *m =
		    *(ProtobufCMessage *const *)((const char *)q + f->offset);
		if (m == NULL)
			return EINVAL;
		out_msg(&o, (unsigned)q->call_case, m);
	}
	*lenp = (size_t)(o.p - (uint8_t *)buf);
	return o.err;
}

int
krq_response_encode(const Krank__Response *r, void *buf, size_t cap,
    size_t *lenp)
{
	struct krq_out o = { buf, (uint8_t *)buf + cap, 0 };

	if (r->tag != 0) {
		out_varint(&o, 1 << 3 | WT_VARINT);
		out_varint(&o, r->tag);
	}
	if (r->error != 0) {
		out_varint(&o, 2 << 3 | WT_VARINT);
		out_varint(&o, (uint64_t)(int64_t)r->error);
	}
	if (r->value != 0) {
		out_varint(&o, 3 << 3 | WT_VARINT);
		out_varint(&o, (uint64_t)r->value);
	}
	switch (r->result_case) {
	case KRANK__RESPONSE__RESULT__NOT_SET:
		break;
	case KRANK__RESPONSE__RESULT_DATA:
		out_bytes(&o, r->result_case, r->data.data, r->data.len);
		break;
	case KRANK__RESPONSE__RESULT_SOCKOPT:
		out_bytes(&o, r->result_case, r->sockopt.data, r->sockopt.len);
		break;
	default: {
		const ProtobufCFieldDescriptor *f =
		    protobuf_c_message_descriptor_get_field(
		    &krank__response__descriptor, (unsigned)r->result_case);
		const ProtobufCMessage *m = f == NULL ? NULL :
		    *(ProtobufCMessage *const *)((const char *)r + f->offset);
		if (m == NULL)
			return EINVAL;
		out_msg(&o, (unsigned)r->result_case, m);
	}
	}
	if (r->addr != NULL)
		out_msg(&o, 13, &r->addr->base);
	*lenp = (size_t)(o.p - (uint8_t *)buf);
	return o.err;
}

int
krq_response_decode(const void *buf, size_t len, ProtobufCAllocator *a,
    Krank__Response *r)
{
	const uint8_t *p = buf, *end = p + len;
	const ProtobufCMessageDescriptor *d = &krank__response__descriptor;

	krank__response__init(r);
	while (p < end) {
		uint64_t v;
		unsigned num, wt;
		if (krq_key(&p, end, &num, &wt) != 0)
			return EBADMSG;
		const ProtobufCFieldDescriptor *f =
		    protobuf_c_message_descriptor_get_field(d, num);
		if (f == NULL) {
			if (krq_skip(&p, end, wt) != 0)
				return EBADMSG;
			continue;
		}
		if (num <= 3) {
			if (wt != WT_VARINT || krq_varint(&p, end, &v) != 0)
				return EBADMSG;
			if (num == 1)
				r->tag = v;
			else if (num == 2)
				r->error = (Krank__Errno)(int32_t)v;
			else
				r->value = (int64_t)v;
			continue;
		}
		if (wt != WT_LEN || krq_len(&p, end, &v) != 0)
			return EBADMSG;
		if (f->type == PROTOBUF_C_TYPE_BYTES) {
			ProtobufCBinaryData *b =
			    (ProtobufCBinaryData *)((char *)r + f->offset);
			b->data = (uint8_t *)p;	/* points into buf */
			b->len = (size_t)v;
		} else {
			ProtobufCMessage *m = protobuf_c_message_unpack(
			    f->descriptor, a, (size_t)v, p);
			if (m == NULL)
				return EBADMSG;
			*(ProtobufCMessage **)((char *)r + f->offset) = m;
		}
		if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
			*(uint32_t *)((char *)r + f->quantifier_offset) = num;
		p += v;
	}
	return 0;
}
