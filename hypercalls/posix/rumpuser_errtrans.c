/*
 * rumpuser_errtrans.c - host (Linux) errno and signal numbers to NetBSD's,
 * as the rumpuser ABI carries NetBSD numbers.  Values from the NetBSD and
 * Linux errno/signal headers.
 */
#include <errno.h>
#include <signal.h>
#include <krank/rumpuser_component.h>
#include "rumpuser_int.h"

int
rumpuser__errtrans(int e)
{
	switch (e) {
	case 0: return 0;
	/* 1..34 are the same on both systems. */
	case EPERM: return 1;
	case ENOENT: return 2;
	case ESRCH: return 3;
	case EINTR: return 4;
	case EIO: return 5;
	case ENXIO: return 6;
	case E2BIG: return 7;
	case ENOEXEC: return 8;
	case EBADF: return 9;
	case ECHILD: return 10;
	case ENOMEM: return 12;
	case EACCES: return 13;
	case EFAULT: return 14;
	case ENOTBLK: return 15;
	case EBUSY: return 16;
	case EEXIST: return 17;
	case EXDEV: return 18;
	case ENODEV: return 19;
	case ENOTDIR: return 20;
	case EISDIR: return 21;
	case EINVAL: return 22;
	case ENFILE: return 23;
	case EMFILE: return 24;
	case ENOTTY: return 25;
	case ETXTBSY: return 26;
	case EFBIG: return 27;
	case ENOSPC: return 28;
	case ESPIPE: return 29;
	case EROFS: return 30;
	case EMLINK: return 31;
	case EPIPE: return 32;
	case EDOM: return 33;
	case ERANGE: return 34;
	/* From here the numbering differs. */
	case EAGAIN: return 35;		/* Linux 11; EWOULDBLOCK too */
	case EINPROGRESS: return 36;
	case EALREADY: return 37;
	case ENOTSOCK: return 38;
	case EDESTADDRREQ: return 39;
	case EMSGSIZE: return 40;
	case EPROTOTYPE: return 41;
	case ENOPROTOOPT: return 42;
	case EPROTONOSUPPORT: return 43;
	case ESOCKTNOSUPPORT: return 44;
	case EOPNOTSUPP: return 45;	/* ENOTSUP on Linux too */
	case EPFNOSUPPORT: return 46;
	case EAFNOSUPPORT: return 47;
	case EADDRINUSE: return 48;
	case EADDRNOTAVAIL: return 49;
	case ENETDOWN: return 50;
	case ENETUNREACH: return 51;
	case ENETRESET: return 52;
	case ECONNABORTED: return 53;
	case ECONNRESET: return 54;
	case ENOBUFS: return 55;
	case EISCONN: return 56;
	case ENOTCONN: return 57;
	case ESHUTDOWN: return 58;
	case ETOOMANYREFS: return 59;
	case ETIMEDOUT: return 60;
	case ECONNREFUSED: return 61;
	case ELOOP: return 62;
	case ENAMETOOLONG: return 63;
	case EHOSTDOWN: return 64;
	case EHOSTUNREACH: return 65;
	case ENOTEMPTY: return 66;
	case EUSERS: return 68;
	case EDQUOT: return 69;
	case ESTALE: return 70;
	case EREMOTE: return 71;
	case ENOLCK: return 77;
	case ENOSYS: return 78;
	case EOVERFLOW: return 84;
	case EILSEQ: return 85;
	case ECANCELED: return 87;
	case EBADMSG: return 88;
	case ENODATA: return 89;
	case ENOSR: return 90;
	case ENOSTR: return 91;
	case ETIME: return 92;
	case EMULTIHOP: return 94;
	case ENOLINK: return 95;
	case EPROTO: return 96;
	case EOWNERDEAD: return 97;
	case ENOTRECOVERABLE: return 98;
	default: return 22;		/* EINVAL */
	}
}

int
rumpuser_component_errtrans(int hosterr)
{
	return rumpuser__errtrans(hosterr);
}

/* NetBSD signal numbers 1..32 to the host's. */
int
rumpuser__sig_rump2host(int sig)
{
	static const int map[] = {
		[1] = SIGHUP, [2] = SIGINT, [3] = SIGQUIT, [4] = SIGILL,
		[5] = SIGTRAP, [6] = SIGABRT, [7] = -1 /* SIGEMT */,
		[8] = SIGFPE, [9] = SIGKILL, [10] = SIGBUS, [11] = SIGSEGV,
		[12] = SIGSYS, [13] = SIGPIPE, [14] = SIGALRM, [15] = SIGTERM,
		[16] = SIGURG, [17] = SIGSTOP, [18] = SIGTSTP, [19] = SIGCONT,
		[20] = SIGCHLD, [21] = SIGTTIN, [22] = SIGTTOU, [23] = SIGIO,
		[24] = SIGXCPU, [25] = SIGXFSZ, [26] = SIGVTALRM, [27] = SIGPROF,
		[28] = SIGWINCH, [29] = -1 /* SIGINFO */, [30] = SIGUSR1,
		[31] = SIGUSR2, [32] = SIGPWR,
	};
	if (sig <= 0 || sig >= (int)(sizeof(map) / sizeof(map[0])))
		return -1;
	return map[sig];
}
