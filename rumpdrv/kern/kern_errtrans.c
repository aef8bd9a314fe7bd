/*
 * kern_errtrans.c - the one place rumpdrv sees the host's errno numbers:
 * krs_fail turns a NetBSD errno from the kernel into the host's value and
 * stores it with rumpuser_seterrno.  Includes only the host's <errno.h>
 * constants (kern_errno.h is deliberately not included here).
 */
#include <errno.h>
#include <stddef.h>

#include <krank/rumpuser.h>

int krs_fail(int nberr);

/* Indexed by NetBSD errno value. */
static const int nb2host[] = {
	0, EPERM, ENOENT, ESRCH, EINTR, EIO, ENXIO, E2BIG, ENOEXEC, EBADF,
	ECHILD, EDEADLK, ENOMEM, EACCES, EFAULT, ENOTBLK, EBUSY, EEXIST, EXDEV,
	ENODEV, ENOTDIR, EISDIR, EINVAL, ENFILE, EMFILE, ENOTTY, ETXTBSY,
	EFBIG, ENOSPC, ESPIPE, EROFS, EMLINK, EPIPE, EDOM, ERANGE, EAGAIN,
	EINPROGRESS, EALREADY, ENOTSOCK, EDESTADDRREQ, EMSGSIZE, EPROTOTYPE,
	ENOPROTOOPT, EPROTONOSUPPORT, ESOCKTNOSUPPORT, EOPNOTSUPP,
	EPFNOSUPPORT, EAFNOSUPPORT, EADDRINUSE, EADDRNOTAVAIL, ENETDOWN,
	ENETUNREACH, ENETRESET, ECONNABORTED, ECONNRESET, ENOBUFS, EISCONN,
	ENOTCONN, ESHUTDOWN, ETOOMANYREFS, ETIMEDOUT, ECONNREFUSED, ELOOP,
	ENAMETOOLONG, EHOSTDOWN, EHOSTUNREACH, ENOTEMPTY, EUSERS /*EPROCLIM*/,
	EUSERS, EDQUOT, ESTALE, EREMOTE, EINVAL /*EBADRPC*/,
	EINVAL /*ERPCMISMATCH*/, EINVAL /*EPROGUNAVAIL*/,
	EINVAL /*EPROGMISMATCH*/, EINVAL /*EPROCUNAVAIL*/, ENOLCK, ENOSYS,
	EINVAL /*EFTYPE*/, EACCES /*EAUTH*/, EACCES /*ENEEDAUTH*/, EIDRM,
	ENOMSG, EOVERFLOW, EILSEQ, ENOTSUP, ECANCELED, EBADMSG, ENODATA,
	ENOSR, ENOSTR, ETIME, ENODATA /*ENOATTR*/, EMULTIHOP, ENOLINK, EPROTO,
	EOWNERDEAD, ENOTRECOVERABLE,
};

_Static_assert(sizeof(nb2host) / sizeof(nb2host[0]) == 99,
    "one entry per NetBSD errno 0..98");

int
krs_fail(int nberr)
{
	int h = EINVAL;
	if (nberr > 0 && (size_t)nberr < sizeof(nb2host) / sizeof(nb2host[0]))
		h = nb2host[nberr];
	rumpuser_seterrno(h);
	return -1;
}
