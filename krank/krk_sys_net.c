/*
 * krk_sys_net.c - the isolates' socket calls.  Domains, types, levels,
 * option names, flags and sockaddr/msghdr layouts are Linux's on both
 * sides (the isolate's headers and krs_net.h), so they pass unchanged;
 * MSG_NOSIGNAL is dropped (isolates get no SIGPIPE: EPIPE is the answer).
 */
#include <fcntl.h>
#include <sys/socket.h>

#include "krk_sys_int.h"

_Static_assert(SOL_SOCKET == KRS_SOL_SOCKET && SO_ERROR == KRS_SO_ERROR &&
    MSG_DONTWAIT == KRS_MSG_DONTWAIT && MSG_PEEK == KRS_MSG_PEEK,
    "socket constants differ from Linux's");
_Static_assert(sizeof(struct msghdr) == sizeof(struct krs_msghdr),
    "struct msghdr is not krs_msghdr");

static int
krk_msgflags(int flags)
{
	return flags & ~MSG_NOSIGNAL;
}

/* An optional address out-parameter: both NULL, or a length the kernel
 * may read and an address buffer of that length. */
static int
krk_addrout_bad(const void *addr, const socklen_t *lenp)
{
	if (addr == NULL)
		return 0;
	if (krk_sys_badbuf(lenp, sizeof(*lenp)))
		return 1;
	return krk_sys_badbuf(addr, *lenp);
}

int
krk_sys_socket(int domain, int type, int proto)
{
	return KRK_SYS_CALL(int, krs_socket(domain, type, proto));
}

int
krk_sys_bind(int fd, const void *addr, socklen_t len)
{
	if (krk_sys_badbuf(addr, len) || addr == NULL)
		return krk_sys_fail(EFAULT);
	return KRK_SYS_CALL(int, krs_bind(fd, addr, len));
}

int
krk_sys_listen(int fd, int backlog)
{
	return KRK_SYS_CALL(int, krs_listen(fd, backlog));
}

int
krk_sys_accept(int fd, void *addr, socklen_t *lenp)
{
	if (krk_addrout_bad(addr, lenp))
		return krk_sys_fail(EFAULT);
	return KRK_SYS_CALL(int, krs_accept(fd, addr, addr ? lenp : NULL));
}

/* accept4 is accept plus the descriptor flags, set before the isolate
 * can see the number. */
int
krk_sys_accept4(int fd, void *addr, socklen_t *lenp, int flags)
{
	if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC))
		return krk_sys_fail(EINVAL);
	int s = krk_sys_accept(fd, addr, lenp);
	if (s < 0)
		return s;
	krk_sys_enter();
	int rv = 0;
	if (flags & SOCK_NONBLOCK)
		rv = krs_fcntl(s, KRS_F_SETFL, KRS_O_NONBLOCK | KRS_O_RDWR);
	if (rv == 0 && (flags & SOCK_CLOEXEC))
		rv = krs_fcntl(s, KRS_F_SETFD, KRS_FD_CLOEXEC);
	int e = errno;
	if (rv != 0)
		krs_close(s);
	krk_sys_exit();
	return rv != 0 ? krk_sys_fail(e) : s;
}

int
krk_sys_connect(int fd, const void *addr, socklen_t len)
{
	if (krk_sys_badbuf(addr, len) || addr == NULL)
		return krk_sys_fail(EFAULT);
	return KRK_SYS_CALL(int, krs_connect(fd, addr, len));
}

ssize_t
krk_sys_send(int fd, const void *buf, size_t n, int flags)
{
	if (krk_sys_badbuf(buf, n))
		return krk_sys_fail(EFAULT);
	return KRK_SYS_CALL(ssize_t, krs_send(fd, buf, n, krk_msgflags(flags)));
}

ssize_t
krk_sys_recv(int fd, void *buf, size_t n, int flags)
{
	if (krk_sys_badbuf(buf, n))
		return krk_sys_fail(EFAULT);
	return KRK_SYS_CALL(ssize_t, krs_recv(fd, buf, n, flags));
}

ssize_t
krk_sys_sendto(int fd, const void *buf, size_t n, int flags,
    const void *to, socklen_t tolen)
{
	if (krk_sys_badbuf(buf, n) || (to != NULL && krk_sys_badbuf(to, tolen)))
		return krk_sys_fail(EFAULT);
	return KRK_SYS_CALL(ssize_t, krs_sendto(fd, buf, n, krk_msgflags(flags),
	    to, to ? tolen : 0));
}

ssize_t
krk_sys_recvfrom(int fd, void *buf, size_t n, int flags, void *from,
    socklen_t *fromlen)
{
	if (krk_sys_badbuf(buf, n) || krk_addrout_bad(from, fromlen))
		return krk_sys_fail(EFAULT);
	return KRK_SYS_CALL(ssize_t, krs_recvfrom(fd, buf, n, flags, from,
	    from ? fromlen : NULL));
}

static int
krk_msg_bad(const struct msghdr *m)
{
	if (krk_sys_badbuf(m, sizeof(*m)))
		return EFAULT;
	if (m->msg_iovlen > KRS_IOV_MAX)
		return EMSGSIZE;
	if (krk_sys_badbuf(m->msg_iov, m->msg_iovlen * sizeof(struct iovec)) ||
	    (m->msg_name != NULL && krk_sys_badbuf(m->msg_name,
	    m->msg_namelen)) || krk_sys_badbuf(m->msg_control,
	    m->msg_controllen))
		return EFAULT;
	for (size_t i = 0; i < m->msg_iovlen; i++)
		if (krk_sys_badbuf(m->msg_iov[i].iov_base,
		    m->msg_iov[i].iov_len))
			return EFAULT;
	return 0;
}

ssize_t
krk_sys_sendmsg(int fd, const struct msghdr *m, int flags)
{
	int e = krk_msg_bad(m);

	if (e != 0)
		return krk_sys_fail(e);
	return KRK_SYS_CALL(ssize_t, krs_sendmsg(fd, (const void *)m,
	    krk_msgflags(flags)));
}

ssize_t
krk_sys_recvmsg(int fd, struct msghdr *m, int flags)
{
	int e = krk_msg_bad(m);

	if (e != 0)
		return krk_sys_fail(e);
	return KRK_SYS_CALL(ssize_t, krs_recvmsg(fd, (void *)m, flags));
}

int
krk_sys_shutdown(int fd, int how)
{
	return KRK_SYS_CALL(int, krs_sock_shutdown(fd, how));
}

int
krk_sys_getsockopt(int fd, int level, int name, void *val, socklen_t *lenp)
{
	if (krk_sys_badbuf(lenp, sizeof(*lenp)) || lenp == NULL ||
	    krk_sys_badbuf(val, *lenp))
		return krk_sys_fail(EFAULT);
	return KRK_SYS_CALL(int, krs_getsockopt(fd, level, name, val, lenp));
}

int
krk_sys_setsockopt(int fd, int level, int name, const void *val,
    socklen_t len)
{
	if (krk_sys_badbuf(val, len))
		return krk_sys_fail(EFAULT);
	return KRK_SYS_CALL(int, krs_setsockopt(fd, level, name, val, len));
}

int
krk_sys_getsockname(int fd, void *addr, socklen_t *lenp)
{
	if (addr == NULL || krk_addrout_bad(addr, lenp))
		return krk_sys_fail(EFAULT);
	return KRK_SYS_CALL(int, krs_getsockname(fd, addr, lenp));
}

int
krk_sys_getpeername(int fd, void *addr, socklen_t *lenp)
{
	if (addr == NULL || krk_addrout_bad(addr, lenp))
		return krk_sys_fail(EFAULT);
	return KRK_SYS_CALL(int, krs_getpeername(fd, addr, lenp));
}

/* sendfile's source: the file in, read at off (krs_send_fill's fill). */
struct krk_sendfile_src {
	int in;
	int64_t off;
};

static int
krk_sendfile_fill(void *arg, const struct krs_iovec *iov, int iovcnt,
    size_t *done)
{
	struct krk_sendfile_src *s = arg;
	ssize_t r = krs_preadv(s->in, iov, iovcnt, s->off);
	if (r < 0)
		return errno;
	s->off += r;
	*done = (size_t)r;
	return 0;
}

/* The same through a buffer, for a descriptor that is not a TCP socket
 * (a file, a pipe, a UDP socket): what it wrote, or -1 with errno. */
static ssize_t
krk_sendfile_copy(int out, struct krk_sendfile_src *s, size_t count)
{
	char buf[16384];
	size_t sent = 0;

	while (sent < count) {
		size_t want = count - sent < sizeof(buf) ? count - sent :
		    sizeof(buf);
		ssize_t r = krs_pread(s->in, buf, want, s->off);
		if (r <= 0) {
			if (r < 0 && sent == 0)
				return -1;
			break;
		}
		ssize_t w = krs_write(out, buf, (size_t)r);
		if (w <= 0) {
			if (sent == 0)
				return -1;
			break;
		}
		s->off += w;
		sent += (size_t)w;
		if (w < r)
			break;
	}
	return (ssize_t)sent;
}

/*
 * sendfile(2): count bytes of in from *offp (then *offp moves) or from
 * in's offset (then that moves) to out.  To a TCP socket the bytes go
 * from the file system's cache straight into the socket's buffers
 * (krs_send_fill): one copy, where pread and send make two.
 */
static ssize_t
krk_sendfile(int out, int in, int64_t *offp, size_t count)
{
	struct krk_sendfile_src s = { .in = in };

	if (count > 0x7ffff000)
		count = 0x7ffff000;	/* Linux's limit */
	if (offp != NULL)
		s.off = *offp;
	else if ((s.off = krs_lseek(in, 0, KRS_SEEK_CUR)) < 0)
		return -1;
	int64_t start = s.off;
	ssize_t n = krs_send_fill(out, count, 0, krk_sendfile_fill, &s);
	if (n < 0 && (errno == EOPNOTSUPP || errno == ENOTSOCK)) {
		s.off = start;
		n = krk_sendfile_copy(out, &s, count);
	}
	if (n > 0) {
		/* Not s.off: a chunk read but not queued (the socket closed
		 * meanwhile) was not sent. */
		if (offp != NULL)
			*offp = start + n;
		else if (krs_lseek(in, start + n, KRS_SEEK_SET) < 0)
			return -1;
	}
	return n;
}

ssize_t
krk_sys_sendfile(int out, int in, off_t *offp, size_t count)
{
	if (offp != NULL && krk_sys_badbuf(offp, sizeof(*offp)))
		return krk_sys_fail(EFAULT);
	int64_t off = offp != NULL ? (int64_t)*offp : 0;
	if (offp != NULL && off < 0)
		return krk_sys_fail(EINVAL);
	ssize_t n = KRK_SYS_CALL(ssize_t, krk_sendfile(out, in,
	    offp != NULL ? &off : NULL, count));
	if (n > 0 && offp != NULL)
		*offp = (off_t)off;
	return n;
}
