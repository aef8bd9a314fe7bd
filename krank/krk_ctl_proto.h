/*
 * krk_ctl_proto.h - the control socket's wire protocol, shared by the
 * KRANK process (krk_ctl.c) and krankctl (krankctl.c).  Both ends run on
 * one host, so numbers travel in host byte order.
 *
 * A unix stream socket.  The client sends one request: its argv as
 * NUL-terminated strings, ended by an empty string ("ps\0--json\0\0"); at
 * most KRK_CTL_MAX_ARGS strings and KRK_CTL_MAX_REQ bytes in all.  The
 * server answers one line, "ok\n" or "error: MESSAGE\n", then the body
 * (text, or JSON with --json), and closes.  `capture` streams binary
 * records (struct krk_ctl_caprec and the frame) after "ok\n", ended by a
 * record with KRK_CTL_CAP_END.  `attach [NRINGS]` (krq_attach in libkrank,
 * krk_ctl_attach.c) sends "ok\n" with a queue region's memfd attached
 * (SCM_RIGHTS) and keeps the connection open: closing it ends the
 * attachment.
 */
#ifndef KRK_CTL_PROTO_H
#define KRK_CTL_PROTO_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Raised when a request or a record changes meaning; `krankctl version`
 * prints both ends' numbers. */
#define KRK_CTL_PROTO_VERSION	1

#define KRK_CTL_MAX_ARGS	64
#define KRK_CTL_MAX_REQ		4096
#define KRK_CTL_RUN_DIR		"/run/krank"

/* Timeouts of the server towards one client (ms): a client that sends no
 * whole request, or reads nothing of a reply, for this long is dropped. */
#define KRK_CTL_RECV_TIMEOUT_MS	2000
#define KRK_CTL_SEND_TIMEOUT_MS	5000

/* Capture records: the header, then caplen bytes of the frame, then
 * padding to a multiple of 8. */
#define KRK_CTL_CAP_MAGIC	0x4b43504bu	/* "KPCK" */
#define KRK_CTL_CAP_OUT		0x1		/* sent (else received) */
#define KRK_CTL_CAP_END		0x8000		/* last record: no frame */
#define KRK_CTL_CAP_SNAPLEN	65535

struct krk_ctl_caprec {
	uint32_t magic;			/* KRK_CTL_CAP_MAGIC */
	uint16_t version;		/* KRK_CTL_PROTO_VERSION */
	uint16_t flags;			/* KRK_CTL_CAP_* */
	uint64_t ts_ns;			/* CLOCK_REALTIME when the stack saw it */
	uint32_t caplen;		/* bytes that follow (<= SNAPLEN) */
	uint32_t origlen;		/* the frame's length on the wire */
	uint64_t drops;			/* END: frames the ring dropped */
	uint64_t count;			/* END: frames sent to this client */
};
_Static_assert(sizeof(struct krk_ctl_caprec) == 40, "caprec layout");
_Static_assert(offsetof(struct krk_ctl_caprec, ts_ns) == 8, "caprec ts");
_Static_assert(offsetof(struct krk_ctl_caprec, caplen) == 16, "caprec len");

#define KRK_CTL_CAP_ALIGN(n)	(((n) + 7u) & ~(size_t)7u)

/*
 * krk_ctl_req_parse - split the request in buf[0..len) into argv (at most
 * maxargs entries, pointing into buf).  Returns 0 with *argcp and *usedp
 * (bytes up to and including the terminating empty string) when the
 * request is whole; EAGAIN when more bytes are needed; E2BIG for more than
 * maxargs strings; EMSGSIZE when len exceeds KRK_CTL_MAX_REQ without a
 * terminator.  Never reads past buf + len.
 */
static inline int
krk_ctl_req_parse(const char *buf, size_t len, const char **argv,
    int maxargs, int *argcp, size_t *usedp)
{
	size_t off = 0;
	int argc = 0;

	while (off < len) {
		const char *s = buf + off;
		const char *nul = memchr(s, '\0', len - off);
		if (nul == NULL)
			break;
		if (nul == s) {		/* the empty string: the end */
			*argcp = argc;
			*usedp = off + 1;
			return 0;
		}
		if (argc >= maxargs)
			return E2BIG;
		argv[argc++] = s;
		off = (size_t)(nul - buf) + 1;
	}
	return len >= KRK_CTL_MAX_REQ ? EMSGSIZE : EAGAIN;
}

#endif
