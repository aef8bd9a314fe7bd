/*
 * krq_fixed.h - fixed-layout frames for the hottest calls of krank.proto
 * (null, read, write, pread, pwrite), shared by KRANK (krq_call.c) and
 * libkrank (krank_calls.c).  An unbatched call over the queues costs one
 * cache-line transfer each way plus what the two sides do per message,
 * and a protobuf encode and decode on each side was most of that.  A
 * fixed frame is a struct: no varints, no allocation, and a 64-byte
 * payload travels inline right behind it in the slot.
 *
 * A frame starts with a zero byte, which no protobuf message does (field
 * number 0 is invalid), so one queue carries both encodings and KRANK
 * tells them apart by the first byte; a fixed request gets a fixed
 * response.  A client sends fixed frames only when the region's header
 * offers KRQ_FEAT_FIXED (an older KRANK leaves the word 0).  The fields
 * are the .proto's own, one for one (krq_call.c asserts the call numbers
 * and C types against the generated code, test_krq_dispatch checks each
 * message's field list against its descriptor, so a field added to the
 * .proto fails the build's tests until the frame carries it), and KRANK
 * turns a frame into the same Krank__Request and runs the same handler
 * as for protobuf.  Host byte order: the region never leaves the host.
 *
 * Request (32 bytes, then for an inline write its bytes):
 *   mark    0
 *   call    Request's field number: 2 null, 5 read, 6 write, 7 pread,
 *           8 pwrite
 *   where   KRQ_FX_INLINE or KRQ_FX_AREA: Data.data / Dest.inline_max,
 *           or Data.area / Dest.area (0 for null)
 *   zero    0
 *   fd      the call's fd (null: Null.version)
 *   tag     Request.tag
 *   offset  Pread/Pwrite.offset (0 for the others)
 *   len     area: Buf.length; inline write: the payload's bytes (all of
 *           the frame after the header); inline read: Dest.inline_max;
 *           null: 0
 *   aoff    area: Buf.offset; otherwise 0
 * Anything else (a short frame, a nonzero reserved byte, an unknown call,
 * a length that disagrees with the frame) is a malformed request:
 * EBADMSG, counted, as an undecodable protobuf request is.
 *
 * Response (24 bytes, then Response.data's bytes when data is 1):
 *   mark 0, data (1: Response.data follows; 0: no result), zero (2 bytes
 *   0), error (Errno), tag, value.
 */
#ifndef KRQ_FIXED_H
#define KRQ_FIXED_H

#include <stddef.h>
#include <stdint.h>

#define KRQ_FX_MARK		0
#define KRQ_FX_INLINE		0
#define KRQ_FX_AREA		1

/* Call numbers: Request's oneof (asserted against the generated code). */
#define KRQ_FX_NULL		2
#define KRQ_FX_READ		5
#define KRQ_FX_WRITE		6
#define KRQ_FX_PREAD		7
#define KRQ_FX_PWRITE		8

struct krq_fx_req {
	uint8_t mark;
	uint8_t call;
	uint8_t where;
	uint8_t zero;
	int32_t fd;
	uint64_t tag;
	int64_t offset;
	uint32_t len;
	uint32_t aoff;
};
#define KRQ_FX_REQ_SIZE		32

struct krq_fx_resp {
	uint8_t mark;
	uint8_t data;
	uint16_t zero;
	int32_t error;
	uint64_t tag;
	int64_t value;
};
#define KRQ_FX_RESP_SIZE	24

_Static_assert(sizeof(struct krq_fx_req) == KRQ_FX_REQ_SIZE, "fx req");
_Static_assert(offsetof(struct krq_fx_req, tag) == 8, "fx req tag");
_Static_assert(offsetof(struct krq_fx_req, len) == 24, "fx req len");
_Static_assert(sizeof(struct krq_fx_resp) == KRQ_FX_RESP_SIZE, "fx resp");
_Static_assert(offsetof(struct krq_fx_resp, tag) == 8, "fx resp tag");

/* libkrank: make c send fixed frames for the calls above (krank_client_ring
 * does when the region offers KRQ_FEAT_FIXED). */
struct krank_client;
void krank_client_fixed(struct krank_client *c, _Bool on);

/* Areas are at most KRQ_MAX_AREA (1 GiB): offsets and lengths fit aoff
 * and len; a client falls back to protobuf when they would not. */

#endif
