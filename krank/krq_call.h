/*
 * krq_call.h - KRANK's system-call dispatcher: one handler table
 * (krq_calls.def) behind two entries, krq_call (the in-process direct
 * path: the generated krank.proto structures, no encoding) and
 * krq_dispatch (the queue path: decode a Request, call the same handler,
 * encode the Response; matches hB's krq_serve_fn).  Internal to krank/.
 */
#ifndef KRQ_CALL_H
#define KRQ_CALL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pthread.h>

#include "krank.pb-c.h"

struct krs_ctx;

/* What a caller may do beyond its own descriptors. */
#define KRQ_CALLER_ISOLATES	0x1	/* spawn, kill, wait other isolates */
/* Every call behaves as on non-blocking descriptors: sockets and channels
 * are made non-blocking and stay so, poll and nanosleep do not wait,
 * SO_LINGER is refused.  For the fuzzer, and for callers served by a
 * thread that must never wait. */
#define KRQ_CALLER_NOBLOCK	0x2

/* Poll.events bit: receive this descriptor's data with the answer
 * (Poll.fetch_max; krq_sockets.c). */
#define KRQ_POLL_FETCH		0x10000u
/* Send.flags bit: take every byte (krank_submit_send_all; krq_sockets.c):
 * what the socket cannot take yet waits in the caller's send queue. */
#define KRQ_SEND_ALL		0x40000000
/* Bounds of a caller's send queue: per descriptor and in all. */
#define KRQ_SENDQ_FD_MAX	(256 * 1024)
#define KRQ_SENDQ_MAX		(64 * 1024 * 1024)

struct krq_sendq;

/*
 * Who is calling.  Set ctx, area, area_len, flags (and range_ok) before
 * the first call; the counters are updated atomically, as several rings
 * (threads) may serve one caller at once.
 */
struct krq_caller {
	struct krs_ctx *ctx;		/* descriptor table, cwd, root: entered
					 * around each call; NULL: the calling
					 * thread's own (an isolate thread) */
	uint8_t *area;			/* the client's buffer area in KRANK's
					 * mapping; NULL for the direct path,
					 * where Buf.offset is an address */
	size_t area_len;
	unsigned flags;			/* KRQ_CALLER_* */
	uint32_t owner;			/* who holds channel buffers it takes:
					 * its isolate id (0: KRANK's own) */
	/* Direct path only: is [p, p+n) the caller's memory?  NULL: trusted
	 * (krk_self_range_ok for an isolate). */
	bool (*range_ok)(const void *p, size_t n);

	_Atomic uint64_t calls;		/* requests served (approximate when
					 * several rings serve the caller) */
	_Atomic uint64_t failed;	/* answered with an error */
	_Atomic uint64_t bad_msg;	/* undecodable or oversized (EBADMSG) */
	_Atomic uint64_t bad_call;	/* no call / an unknown one (ENOSYS) */
	_Atomic uint64_t bad_arg;	/* missing or malformed argument
					 * (EINVAL, ENAMETOOLONG, EBADMSG) */
	_Atomic uint64_t bad_range;	/* Buf outside the area (EFAULT) */

	/* Bytes of asynchronous sends (KRQ_SEND_ALL) the sockets could not
	 * take yet, in order per descriptor, under sendq_lock (several rings
	 * may serve the caller); flushed before the descriptor's next send,
	 * shutdown or close and at every poll (krq_sockets.c).  Zero-filled
	 * is empty. */
	pthread_mutex_t sendq_lock;
	struct krq_sendq *sendq;
	size_t sendq_bytes;
	_Atomic uint64_t sendq_refused;	/* over KRQ_SENDQ_*: ENOBUFS */
};

/* krq_sendq_flush_fd - before a send, shutdown or close of fd: what its
 * send queue holds goes first (waiting when block).  0 when it is empty
 * now, EAGAIN when bytes remain, or the socket's error (the queue is
 * dropped then).  krq_sendq_free - the caller ends. */
int krq_sendq_flush_fd(struct krq_caller *c, int fd, bool block);
/* krq_sendq_close - close of fd: true when bytes remain queued (fd is
 * closed once they are sent, by a later flush); false: close it now. */
bool krq_sendq_close(struct krq_caller *c, int fd);
void krq_sendq_free(struct krq_caller *c);

/*
 * krq_caller_open/krq_caller_close - a caller for one client attached
 * over the queues (the open/close of hB's struct krk_attach_ops): its
 * context and buffer area in KRANK's mapping, flags from *(unsigned
 * *)ops_arg (NULL: none), and an owner id of its own for channel
 * buffers (from 0x80000000 up, apart from isolate ids).  ENOMEM.
 */
int krq_caller_open(void *ops_arg, struct krs_ctx *ctx, void *area,
    size_t area_len, void **argp);
void krq_caller_close(void *arg);

/*
 * krq_call - the direct path: run req's call for c and fill resp (which
 * the caller has initialised with krank__response__init).  Submessages and
 * inline data of resp live in the calling thread's scratch memory until
 * its next call.  An isolate thread calls it inside krk_sys_enter/exit,
 * as the syscall shims do, so a kill never unwinds it inside a handler.  Returns 0 (the call's own failure is resp->error) or
 * EBADMSG/ENOSYS for a request that names no known call or lacks its
 * argument (resp->error says the same).
 */
int krq_call(struct krq_caller *c, const Krank__Request *req,
    Krank__Response *resp);

/*
 * krq_dispatch - the queue path (krq_serve_fn): decode len bytes of req
 * (untrusted) with a bounded allocator, run the call for caller (a
 * struct krq_caller *), encode the response into resp (cap bytes).
 * Returns 0 with *resplenp bytes written; a positive errno when the
 * request was malformed (EBADMSG undecodable, ENOSYS unknown call, EINVAL
 * bad argument, EFAULT outside the area) - the error response is still
 * written (*resplenp > 0) when cap allows.  EMSGSIZE: resp too small even
 * for an error response (*resplenp 0).  A response whose fields are all
 * defaults (tag 0, OK, value 0) encodes to 0 bytes: a 0-byte message is
 * a valid response (libkrank never uses tag 0).
 */
int krq_dispatch(void *caller, const void *req, size_t len, void *resp,
    size_t cap, size_t *resplenp);
/*
 * krq_dispatch also takes fixed-layout frames (krq_fixed.h: a request
 * whose first byte is 0) and answers them in kind.  A thread that calls
 * krq_dispatch keeps the caller's context entered between calls (one
 * enter per client, not per call); krq_dispatch_end leaves it - the
 * server threads' thread_end (krq_server_cfg), and what a test calls
 * before it destroys the context (krq_leave does as well).
 */
void krq_dispatch_end(void *caller);

/*
 * krq_enter/krq_leave - bind the calling thread to c's context around a
 * batch of calls (a ring's worth).  Without them each call enters and
 * leaves c->ctx itself, which on a thread without its own lwp costs an
 * allocation per call.  Call krq_leave before c->ctx is destroyed.
 */
int krq_enter(struct krq_caller *c);
void krq_leave(void);

/* The table, for tests and docs: one entry per call of krq_calls.def. */
struct krq_call_info {
	unsigned number;		/* field number in Request's oneof */
	const char *name;		/* field name */
};
extern const struct krq_call_info krq_calls[];
extern const size_t krq_ncalls;

/*
 * The envelopes, coded by hand (krq_wire.c; the inner call or result
 * message through protobuf-c with allocator a).  decode: 0 or EBADMSG;
 * the decoded messages live in a's memory (a response's bytes in buf).
 * encode: 0, EMSGSIZE (cap too small; *lenp undefined), EINVAL (a case
 * set without its message).  Same bytes as protobuf-c's pack/unpack.
 */
int krq_request_decode(const void *buf, size_t len, ProtobufCAllocator *a,
    Krank__Request *q);
int krq_request_encode(const Krank__Request *q, void *buf, size_t cap,
    size_t *lenp);
int krq_response_encode(const Krank__Response *r, void *buf, size_t cap,
    size_t *lenp);
int krq_response_decode(const void *buf, size_t len, ProtobufCAllocator *a,
    Krank__Response *r);

/* Errors: host errno <-> the wire's Errno (krq_errno.c, also in libkrank). */
Krank__Errno krq_errno_to_wire(int host);
int krq_errno_from_wire(Krank__Errno e);

/* ---- for the handler files (krq_*.c) --------------------------------- */
/* Scratch memory of the calling thread for results, valid until its
 * next call; NULL (ENOMEM) when the call's share is used up. */
void *krq_scratch(size_t n);
/* Buf -> pointer inside the caller's area (or checked address). */
int krq_buf(struct krq_caller *c, const Krank__Buf *b, void **pp, size_t *lenp);
/* Outgoing payload (Data) and landing place (Dest) of a call. */
int krq_data(struct krq_caller *c, const Krank__Data *d, const void **pp,
    size_t *lenp);
int krq_dest(struct krq_caller *c, const Krank__Dest *d, Krank__Response *r,
    void **pp, size_t *lenp);
/* After a call that filled n bytes of a Dest: inline data gets its length. */
void krq_dest_done(Krank__Response *r, size_t n);
/* A path or name from a request: EINVAL (missing), ENAMETOOLONG (both
 * counted as malformed), ENOENT (empty). */
int krq_path(struct krq_caller *c, const char *s);
/* Count a malformed argument (c->bad_arg) and return err. */
int krq_malformed_arg(struct krq_caller *c, int err);

/* Return a krs_* result from a handler: -1 and errno, or the value. */
#define KRQ_RET(r, expr) do {						\
	int64_t v_ = (int64_t)(expr);					\
	if (v_ < 0)							\
		return errno != 0 ? errno : EIO;			\
	(r)->value = v_;						\
	return 0;							\
} while (0)

/* The handlers: krq_h_NAME(c, args, resp) for every call of the table;
 * each returns 0 or a positive errno and sets resp->value / result. */
#define KRQ_CALL(num, name, U, T, fl)					\
	int krq_h_##name(struct krq_caller *c, const Krank__##T *a,	\
	    Krank__Response *r);
#include "krq_calls.def"
#undef KRQ_CALL

#endif
