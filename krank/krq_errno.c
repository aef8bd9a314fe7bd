/*
 * krq_errno.c - errors between the host's numbering and krank.proto's
 * Errno (NetBSD's), translated once at each edge: KRANK's handlers on
 * the way out, libkrank on the way in.  Shared by both sides.
 */
#include <errno.h>

#include "krq_call.h"

/* Names both Linux and the enum have.  Left out: ENOTSUP (Linux's equals
 * EOPNOTSUPP, which wins), EPROCLIM and EFTYPE (no Linux errno). */
#define KRQ_ERRNOS(X)							\
	X(EPERM) X(ENOENT) X(ESRCH) X(EINTR) X(EIO) X(ENXIO) X(E2BIG)	\
	X(ENOEXEC) X(EBADF) X(ECHILD) X(EDEADLK) X(ENOMEM) X(EACCES)	\
	X(EFAULT) X(ENOTBLK) X(EBUSY) X(EEXIST) X(EXDEV) X(ENODEV)	\
	X(ENOTDIR) X(EISDIR) X(EINVAL) X(ENFILE) X(EMFILE) X(ENOTTY)	\
	X(ETXTBSY) X(EFBIG) X(ENOSPC) X(ESPIPE) X(EROFS) X(EMLINK)	\
	X(EPIPE) X(EDOM) X(ERANGE) X(EAGAIN) X(EINPROGRESS) X(EALREADY)	\
	X(ENOTSOCK) X(EDESTADDRREQ) X(EMSGSIZE) X(EPROTOTYPE)		\
	X(ENOPROTOOPT) X(EPROTONOSUPPORT) X(ESOCKTNOSUPPORT)		\
	X(EOPNOTSUPP) X(EPFNOSUPPORT) X(EAFNOSUPPORT) X(EADDRINUSE)	\
	X(EADDRNOTAVAIL) X(ENETDOWN) X(ENETUNREACH) X(ENETRESET)	\
	X(ECONNABORTED) X(ECONNRESET) X(ENOBUFS) X(EISCONN) X(ENOTCONN)	\
	X(ESHUTDOWN) X(ETOOMANYREFS) X(ETIMEDOUT) X(ECONNREFUSED)	\
	X(ELOOP) X(ENAMETOOLONG) X(EHOSTDOWN) X(EHOSTUNREACH)		\
	X(ENOTEMPTY) X(EUSERS) X(EDQUOT) X(ESTALE) X(ENOLCK) X(ENOSYS)	\
	X(EIDRM) X(ENOMSG) X(EOVERFLOW) X(EILSEQ) X(ECANCELED)		\
	X(EBADMSG) X(ENODATA) X(ETIME) X(EPROTO) X(EOWNERDEAD)		\
	X(ENOTRECOVERABLE)

#define KRQ_HOST_EMAX 134		/* Linux's largest errno + 1 */

static const unsigned char krq_to_wire[KRQ_HOST_EMAX] = {
#define X(e) [e] = KRANK__ERRNO__##e,
	KRQ_ERRNOS(X)
#undef X
};

/* Host errno -> Errno; a number with no name there becomes EIO. */
Krank__Errno
krq_errno_to_wire(int host)
{
	if (host == 0)
		return KRANK__ERRNO__OK;
	if (host < 0 || host >= KRQ_HOST_EMAX || krq_to_wire[host] == 0)
		return KRANK__ERRNO__EIO;
	return (Krank__Errno)krq_to_wire[host];
}

/* Errno -> host errno; what the host lacks maps to its nearest kin, an
 * unknown value (a newer server's) to EIO. */
int
krq_errno_from_wire(Krank__Errno e)
{
	switch ((int)e) {
	case KRANK__ERRNO__OK:
		return 0;
#define X(n) case KRANK__ERRNO__##n: return n;
	KRQ_ERRNOS(X)
#undef X
	case KRANK__ERRNO__ENOTSUP:
		return ENOTSUP;
	case KRANK__ERRNO__EPROCLIM:
		return EAGAIN;
	case KRANK__ERRNO__EFTYPE:
		return EINVAL;
	default:
		return EIO;
	}
}
