/*
 * kern_errtrans.c - the one place rumpdrv sees the host's errno numbers:
 * krs_fail turns a NetBSD errno from the kernel into the host's value and
 * stores it with rumpuser_seterrno.  Includes only the host's <errno.h>
 * constants (kern_errno.h is deliberately not included here).
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <sys/stat.h>

#include <krank/rumpuser.h>
#include <krank/krs.h>

/* krs.h promises callers may pass the host's flag values. */
_Static_assert(KRS_O_RDONLY == O_RDONLY && KRS_O_WRONLY == O_WRONLY &&
    KRS_O_RDWR == O_RDWR && KRS_O_CREAT == O_CREAT && KRS_O_EXCL == O_EXCL &&
    KRS_O_TRUNC == O_TRUNC && KRS_O_APPEND == O_APPEND &&
    KRS_O_NONBLOCK == O_NONBLOCK && KRS_O_DIRECTORY == O_DIRECTORY &&
    KRS_O_NOFOLLOW == O_NOFOLLOW && KRS_O_CLOEXEC == O_CLOEXEC &&
    KRS_O_SYNC == O_SYNC && KRS_O_DSYNC == O_DSYNC &&
    KRS_AT_FDCWD == AT_FDCWD && KRS_AT_SYMLINK_NOFOLLOW == AT_SYMLINK_NOFOLLOW &&
    KRS_AT_REMOVEDIR == AT_REMOVEDIR, "KRS_O_* and AT_* equal the host's");
_Static_assert(KRS_S_IFMT == S_IFMT && KRS_S_IFDIR == S_IFDIR &&
    KRS_S_IFREG == S_IFREG && KRS_S_IFLNK == S_IFLNK, "KRS_S_* equal S_*");
_Static_assert(KRS_UTIME_NOW == UTIME_NOW && KRS_UTIME_OMIT == UTIME_OMIT,
    "KRS_UTIME_* equal UTIME_*");

int krs_fail(int nberr);
int krs_errno_host(int nberr);

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
krs_errno_host(int nberr)
{
	if (nberr > 0 && (size_t)nberr < sizeof(nb2host) / sizeof(nb2host[0]))
		return nb2host[nberr];
	return EINVAL;
}

int
krs_fail(int nberr)
{
	rumpuser_seterrno(krs_errno_host(nberr));
	return -1;
}
