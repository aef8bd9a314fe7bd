/*
 * sys_socket.c - the krs_ socket calls and the socket file type: a socket
 * is a file (DTYPE_SOCKET) in the calling context's descriptor table of
 * the vfs, whose fileops (read, write, poll, stat, close) are here; copies
 * between caller buffers and mbufs; blocking with timeouts.  so_refs is
 * atomic; sotab_lock protects the list of open sockets; a call holds a
 * reference on the socket (not the file) while it uses it, so a close by
 * another thread detaches the socket and wakes the call, and never frees
 * the socket under it.
 */
#include "net/socket/sys_socket.h"
#include "net/krs_net.h"
#include "vfs/vfs_file.h"

#define IP_MAXPACKET_K (65535 - 20 - 8)	/* largest UDP payload */

static kmutex_t sotab_lock;
static struct socket *so_open;		/* sotab_lock: sockets with a file */
static const struct fileops socketops;

void
sotab_init(void)
{
	mutex_init(&sotab_lock, MUTEX_DEFAULT, IPL_NONE);
}

static void
sofree(struct socket *so)
{
	sbflush(&so->so_rcv);
	sbflush(&so->so_snd);
	cv_destroy(&so->so_cv);
	kmem_free(so, sizeof(*so));
}

/* A reference is only ever taken by a holder of another (a file's, a
 * protocol's, a call's), so an atomic count is enough: no lock shared by
 * every socket (two per call, which threads on two CPUs passed back and
 * forth). */
void
soref(struct socket *so)
{
	__atomic_add_fetch(&so->so_refs, 1, __ATOMIC_RELAXED);
}

void
sorele(struct socket *so)
{
	if (__atomic_sub_fetch(&so->so_refs, 1, __ATOMIC_ACQ_REL) == 0)
		sofree(so);
}

/*
 * Another socket family (socketvar.h, struct sofamily): the registered one,
 * and the file at fd when it is one of that family's, referenced.  With no
 * family registered this is one load.
 */
static const struct sofamily *sofam;	/* atomic */

int
sofamily_register(const struct sofamily *sf)
{
	const struct sofamily *none = NULL;
	return __atomic_compare_exchange_n(&sofam, &none, sf, false,
	    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE) ? 0 : EBUSY;
}

void
sofamily_unregister(const struct sofamily *sf)
{
	const struct sofamily *cur = sf;
	(void)__atomic_compare_exchange_n(&sofam, &cur, NULL, false,
	    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

static struct file *
fd_getfam(int fd, const struct sofamily **sfp)
{
	const struct sofamily *sf = __atomic_load_n(&sofam, __ATOMIC_ACQUIRE);
	struct file *fp;

	if (__builtin_expect(sf == NULL, 1) || fd_getfile(fd, &fp) != 0)
		return NULL;
	if (fp->f_type != sf->sf_dtype) {
		file_release(fp);
		return NULL;
	}
	*sfp = sf;
	return fp;
}

/* Declares sf and fp: fp non-NULL when fd is a file of another family. */
#define SOFAM_FILE(fd, sf, fp)						\
	const struct sofamily *sf = NULL;				\
	struct file *fp = fd_getfam((fd), &sf)

/* The socket at fd, referenced; ENOTSOCK for other files. */
static struct socket *
fd_getsock(int fd, int *errp)
{
	struct file *fp;
	if ((*errp = fd_getfile(fd, &fp)) != 0)
		return NULL;
	struct socket *so = NULL;
	if (fp->f_type != DTYPE_SOCKET)
		*errp = ENOTSOCK;
	else {
		so = fp->f_data;
		soref(so);
	}
	file_release(fp);
	return so;
}

/* The deadline of a blocking call with timeout timeo_ns (SO_RCVTIMEO,
 * SO_SNDTIMEO) in kern_uptime_ns() time; 0: none. */
static uint64_t
so_deadline(uint64_t timeo_ns)
{
	return timeo_ns != 0 ? kern_uptime_ns() + timeo_ns : 0;
}

/*
 * Sleep on so_cv (ns_lock held; released while asleep) until woken or
 * deadline (0: none) passes.  0 when woken, EWOULDBLOCK when the deadline
 * has passed: the caller then checks its condition once more, as a wakeup
 * may come with the timeout, before it gives up; EBADF when the caller's
 * context was revoked meanwhile.
 */
static int
so_wait(struct socket *so, uint64_t deadline)
{
	kmutex_t *lock = &so->so_stack->ns_lock;
	struct lwp *l = curlwp;
	int rv = 0;
	/* The input we wait for may sit on a pollable port: receive it
	 * ourselves while we spin (run to completion, kern_poll_set). */
	l->l_poll++;
	if (deadline == 0)
		cv_wait(&so->so_cv, lock);
	else {
		uint64_t now = kern_uptime_ns();
		rv = now >= deadline ? EWOULDBLOCK :
		    cv_timedwait_ns(&so->so_cv, lock, deadline - now);
	}
	l->l_poll--;
	/* The caller's context was revoked while it slept (krs_ctx_revoke):
	 * its call ends with EBADF, even when what woke it was the end of a
	 * stream that the closing of its own other descriptors caused. */
	if (rv != EWOULDBLOCK && krs_ctx_revoked(NULL))
		rv = EBADF;
	return rv;
}

/* The last descriptor of so went away: unlink, detach the protocol, wake
 * waiters, drop the file's reference.  ns_lock is taken here. */
static void
soclose(struct socket *so)
{
	mutex_enter(&sotab_lock);
	if (so->so_fprev != NULL)
		so->so_fprev->so_fnext = so->so_fnext;
	else
		so_open = so->so_fnext;
	if (so->so_fnext != NULL)
		so->so_fnext->so_fprev = so->so_fprev;
	mutex_exit(&sotab_lock);
	struct netstack *ns = so->so_stack;
	mutex_enter(&ns->ns_lock);
	so->so_state |= SS_CLOSING | SS_CANTRCVMORE | SS_CANTSENDMORE;
	if (so->so_pr != NULL)
		so->so_pr->pr_detach(so);
	so->so_pr = NULL;
	sbflush(&so->so_rcv);
	sowakeup(so);
	mutex_exit(&ns->ns_lock);
	sorele(so);
}

/* Give so (with one reference, the file's) a descriptor; EMFILE, and so
 * is closed, when the table is full. */
static int
sofalloc(struct socket *so, int flags, int *fdout)
{
	struct file *fp = file_alloc_ops(&socketops, DTYPE_SOCKET, so,
	    KRS_O_RDWR | ((flags & SOCK_NONBLOCK) ? KRS_O_NONBLOCK : 0));
	mutex_enter(&sotab_lock);
	so->so_fnext = so_open;
	so->so_fprev = NULL;
	if (so_open != NULL)
		so_open->so_fprev = so;
	so_open = so;
	mutex_exit(&sotab_lock);
	int error = fd_allocfile(fp, (flags & SOCK_CLOEXEC) != 0, fdout);
	if (error != 0)
		file_release(fp);	/* soclose */
	else
		so->so_fd = *fdout;
	return error;
}

void
sotab_fini(void)
{
	fd_closeall_ops(&socketops);
	mutex_destroy(&sotab_lock);
}

int
sotab_count_stack(struct netstack *ns)
{
	int n = 0;
	mutex_enter(&sotab_lock);
	for (struct socket *so = so_open; so != NULL; so = so->so_fnext)
		if (so->so_stack == ns)
			n++;
	mutex_exit(&sotab_lock);
	return n;
}

KRS_EXPORT int
krs_socket(int domain, int type, int protocol)
{
	if (domain != AF_INET) {
		const struct sofamily *sf = __atomic_load_n(&sofam,
		    __ATOMIC_ACQUIRE);
		int fd, err;
		if (sf == NULL || domain != sf->sf_family)
			return krs_fail(EAFNOSUPPORT);
		if ((err = sf->sf_socket(type, protocol, &fd)) != 0)
			return krs_fail(err);
		return fd;
	}
	int flags = type & (SOCK_NONBLOCK | SOCK_CLOEXEC);
	type &= ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
	const struct protosw *pr = sock_proto_find(type, protocol);
	if (pr == NULL)
		return krs_fail(type == SOCK_STREAM || type == SOCK_DGRAM ?
		    EPROTONOSUPPORT : EPROTOTYPE);
	struct netstack *ns = netstack_cur();
	if (ns == NULL)
		return krs_fail(ENETDOWN);
	struct socket *so = kmem_zalloc(sizeof(*so), KM_SLEEP);
	so->so_stack = ns;
	so->so_pr = pr;
	so->so_type = type;
	so->so_refs = 1;
	so->so_linger = -1;
	if (flags & SOCK_NONBLOCK)
		so->so_state |= SS_NBIO;
	cv_init_adaptive(&so->so_cv, "socket");
	mutex_enter(&ns->ns_lock);
	int rv = pr->pr_attach(so);
	mutex_exit(&ns->ns_lock);
	if (rv != 0) {
		sofree(so);
		return krs_fail(rv);
	}
	int fd;
	if ((rv = sofalloc(so, flags, &fd)) != 0)
		return krs_fail(rv);
	return fd;
}

static int
sockaddr_in(const void *addr, uint32_t len, struct sockaddr_in_k *sin,
    bool unspec_ok)
{
	if (addr == NULL)
		return EFAULT;
	memset(sin, 0, sizeof(*sin));
	if (len >= 2)
		memcpy(&sin->sin_family, addr, 2);
	if (unspec_ok && len >= 2 && sin->sin_family == AF_UNSPEC)
		return 0;
	if (len < sizeof(*sin))
		return EINVAL;
	memcpy(sin, addr, sizeof(*sin));
	if (sin->sin_family != AF_INET)
		return EAFNOSUPPORT;
	return 0;
}

/* Run op under the socket's stack lock; 0 or errno. */
#define SOCK_OP(fd, so, body) do {					\
	int err_ = 0;							\
	struct socket *so = fd_getsock((fd), &err_);			\
	if (so == NULL)							\
		return krs_fail(err_);					\
	mutex_enter(&so->so_stack->ns_lock);				\
	if (so->so_pr == NULL)						\
		err_ = so->so_state & SS_CLOSING ? EBADF : ENETDOWN;	\
	else {								\
		body;							\
	}								\
	mutex_exit(&so->so_stack->ns_lock);				\
	sorele(so);							\
	if (err_ != 0)							\
		return krs_fail(err_);					\
} while (0)

KRS_EXPORT int
krs_bind(int fd, const void *addr, uint32_t addrlen)
{
	SOFAM_FILE(fd, sf, fp);
	if (fp != NULL) {
		int e = addr == NULL ? (file_release(fp), EFAULT) :
		    sf->sf_bind(fp, addr, addrlen);
		return e != 0 ? krs_fail(e) : 0;
	}
	struct sockaddr_in_k sin;
	int rv = sockaddr_in(addr, addrlen, &sin, false);
	if (rv != 0)
		return krs_fail(rv);
	SOCK_OP(fd, so, err_ = so->so_pr->pr_bind(so, &sin));
	return 0;
}

KRS_EXPORT int
krs_connect(int fd, const void *addr, uint32_t addrlen)
{
	SOFAM_FILE(fd, sf, fp);
	if (fp != NULL) {
		int e = addr == NULL ? (file_release(fp), EFAULT) :
		    sf->sf_connect(fp, addr, addrlen);
		return e != 0 ? krs_fail(e) : 0;
	}
	struct sockaddr_in_k sin;
	int rv = sockaddr_in(addr, addrlen, &sin, true);
	if (rv != 0)
		return krs_fail(rv);
	int err = 0;
	struct socket *so = fd_getsock(fd, &err);
	if (so == NULL)
		return krs_fail(err);
	struct netstack *ns = so->so_stack;
	mutex_enter(&ns->ns_lock);
	if (so->so_pr == NULL)
		err = EBADF;
	else if (so->so_type == SOCK_STREAM && (so->so_state &
	    (SS_ISCONNECTED | SS_ISCONNECTING)))
		err = so->so_state & SS_ISCONNECTED ? EISCONN : EALREADY;
	else if (so->so_type == SOCK_STREAM &&
	    (so->so_options & SO_ACCEPTCONN_F))
		err = EOPNOTSUPP;
	else
		err = so->so_pr->pr_connect(so, &sin);
	if (err == 0 && so->so_type == SOCK_STREAM) {
		if (so->so_state & SS_NBIO)
			err = EINPROGRESS;
		else {
			uint64_t deadline = so_deadline(so->so_snd.sb_timeo_ns);
			while ((so->so_state & SS_ISCONNECTING) &&
			    so->so_error == 0 && !(so->so_state & SS_CLOSING)) {
				int w = so_wait(so, deadline);
				if (w == EBADF) {
					err = EBADF;
					break;
				}
				if (w == EWOULDBLOCK &&
				    (so->so_state & SS_ISCONNECTING)) {
					err = ETIMEDOUT;
					break;
				}
			}
			if (err == 0 && !(so->so_state & SS_ISCONNECTED)) {
				err = so->so_error ? so->so_error : ECONNREFUSED;
				so->so_error = 0;
			}
		}
	}
	mutex_exit(&ns->ns_lock);
	sorele(so);
	return err != 0 ? krs_fail(err) : 0;
}

KRS_EXPORT int
krs_listen(int fd, int backlog)
{
	SOFAM_FILE(fd, sf, fp);
	if (fp != NULL) {
		int e = sf->sf_listen(fp, backlog);
		return e != 0 ? krs_fail(e) : 0;
	}
	if (backlog < 1)
		backlog = 1;
	if (backlog > 128)
		backlog = 128;
	SOCK_OP(fd, so, {
		if (so->so_pr->pr_listen == NULL)
			err_ = EOPNOTSUPP;
		else if (so->so_state & (SS_ISCONNECTED | SS_ISCONNECTING))
			err_ = EINVAL;
		else if ((err_ = so->so_pr->pr_listen(so, backlog)) == 0) {
			so->so_qlimit = backlog;
			so->so_options |= SO_ACCEPTCONN_F;
		}
	});
	return 0;
}

KRS_EXPORT int
krs_accept(int fd, void *addr, uint32_t *addrlen)
{
	SOFAM_FILE(fd, sf, fp);
	if (fp != NULL) {
		int nfd = -1;
		int e = sf->sf_accept(fp, addr, addrlen, &nfd);
		return e != 0 ? krs_fail(e) : nfd;
	}
	int err = 0;
	struct socket *so = fd_getsock(fd, &err), *child = NULL;
	if (so == NULL)
		return krs_fail(err);
	struct netstack *ns = so->so_stack;
	mutex_enter(&ns->ns_lock);
	uint64_t deadline = so_deadline(so->so_rcv.sb_timeo_ns);
	for (;;) {
		if (so->so_pr == NULL || (so->so_state & SS_CLOSING)) {
			err = EBADF;
			break;
		}
		if (!(so->so_options & SO_ACCEPTCONN_F)) {
			err = EINVAL;
			break;
		}
		if (so->so_q != NULL) {
			child = so->so_q;
			so->so_q = child->so_qnext;
			so->so_qlen--;
			child->so_qnext = NULL;
			child->so_head = NULL;
			/* The table's reference, taken before ns_lock is
			 * dropped so a reset cannot free the socket under us;
			 * the protocol keeps its own. */
			soref(child);
			break;
		}
		if (so->so_state & SS_NBIO) {
			err = EAGAIN;
			break;
		}
		int w = so_wait(so, deadline);
		if (w == EBADF || (w == EWOULDBLOCK && so->so_q == NULL)) {
			err = w == EBADF ? EBADF : EAGAIN;
			break;
		}
	}
	struct sockaddr_in_k sin;
	memset(&sin, 0, sizeof(sin));
	if (child != NULL && child->so_pr != NULL)
		child->so_pr->pr_peeraddr(child, &sin);
	mutex_exit(&ns->ns_lock);
	sorele(so);
	if (err != 0)
		return krs_fail(err);
	int nfd;
	if ((err = sofalloc(child, 0, &nfd)) != 0)
		return krs_fail(err);
	if (addr != NULL && addrlen != NULL) {
		uint32_t n = *addrlen < sizeof(sin) ? *addrlen : sizeof(sin);
		memcpy(addr, &sin, n);
		*addrlen = sizeof(sin);
	}
	return nfd;
}

KRS_EXPORT int
krs_sock_shutdown(int fd, int how)
{
	if (how < 0 || how > 2)
		return krs_fail(EINVAL);
	SOFAM_FILE(fd, sf, fp);
	if (fp != NULL) {
		int e = sf->sf_shutdown(fp, how);
		return e != 0 ? krs_fail(e) : 0;
	}
	SOCK_OP(fd, so, {
		if (so->so_type == SOCK_STREAM &&
		    !(so->so_state & SS_ISCONNECTED))
			err_ = ENOTCONN;
		else {
			if (how != 1) {
				sbflush(&so->so_rcv);
				socantrcvmore(so);
			}
			if (how != 0 && !(so->so_state & SS_CANTSENDMORE)) {
				so->so_state |= SS_CANTSENDMORE;
				if (so->so_pr->pr_shutdown != NULL)
					err_ = so->so_pr->pr_shutdown(so);
				sowakeup(so);
			}
		}
	});
	return 0;
}

static struct mbuf *
m_fromuser(const void *buf, size_t len)
{
	/* Leave room in front for the UDP, IP and link headers. */
	return m_copyin(buf, len, 64, M_WAIT);
}

/* Where a stream send's bytes come from: the caller's buffer, or a fill
 * function that writes them into the mbufs (krs_send_fill). */
struct so_src {
	const char *buf;
	krs_fill_fn fill;
	void *arg;
	bool eof;			/* fill gave less than asked */
};

/* A packet of the next len bytes of src; NULL with *errp (ENOBUFS, the
 * fill's error, or 0 at the fill's end). */
static struct mbuf *
so_src_get(struct so_src *src, size_t off, size_t len, int *errp)
{
	if (src->fill == NULL) {
		struct mbuf *m = m_fromuser(src->buf + off, len);
		*errp = m == NULL ? ENOBUFS : 0;
		return m;
	}
	struct mbuf *m = m_getroom(len, 64, M_WAIT);
	if (m == NULL) {
		*errp = ENOBUFS;
		return NULL;
	}
	/* A 64 KiB chunk is one large cluster and a small tail. */
	struct krs_iovec iov[8];
	int n = 0;
	size_t room = 0;
	for (struct mbuf *x = m; x != NULL && n < 8; x = x->m_next, n++) {
		iov[n].iov_base = mtod(x, void *);
		iov[n].iov_len = (size_t)x->m_len;
		room += (size_t)x->m_len;
	}
	size_t got = 0;
	*errp = src->fill(src->arg, iov, n, &got);
	if (*errp != 0 || got == 0 || got > room) {
		if (*errp == 0 && got > room)
			*errp = EIO;
		src->eof = true;
		m_freem(m);
		return NULL;
	}
	if (got < len) {
		src->eof = true;
		m_adj(m, -(int)(len - got));
	}
	return m;
}

/* Stream send: wait for buffer space, append, let the protocol send.
 * 0 with *sentp bytes queued, or an errno when none were. */
static int
sosend_stream(struct socket *so, struct so_src *src, size_t len, int flags,
    size_t *sentp)
{
	struct netstack *ns = so->so_stack;
	size_t sent = 0;
	int err = 0;
	mutex_enter(&ns->ns_lock);
	uint64_t deadline = so_deadline(so->so_snd.sb_timeo_ns);
	while (sent < len || len == 0) {
		if (so->so_pr == NULL || (so->so_state & SS_CLOSING)) {
			err = EBADF;
			break;
		}
		if (so->so_state & SS_CANTSENDMORE) {
			err = EPIPE;
			break;
		}
		if (so->so_error != 0) {
			err = so->so_error;
			so->so_error = 0;
			break;
		}
		if (!(so->so_state & SS_ISCONNECTED)) {
			err = ENOTCONN;
			break;
		}
		if (len == 0)
			break;
		int space = sbspace(&so->so_snd);
		if (space <= 0) {
			if ((so->so_state & SS_NBIO) || (flags & KRS_MSG_DONTWAIT)) {
				if (sent == 0)
					err = EAGAIN;
				break;
			}
			int w = so_wait(so, deadline);
			if (w == EBADF) {
				err = EBADF;
				break;
			}
			if (w == EWOULDBLOCK && sbspace(&so->so_snd) <= 0) {
				if (sent == 0)
					err = EAGAIN;
				break;
			}
			continue;
		}
		size_t chunk = len - sent < (size_t)space ? len - sent : (size_t)space;
		if (chunk > 65536)
			chunk = 65536;
		mutex_exit(&ns->ns_lock);
		struct mbuf *m = so_src_get(src, sent, chunk, &err);
		mutex_enter(&ns->ns_lock);
		if (m == NULL)
			break;
		chunk = (size_t)m->m_pkthdr.len;
		if (so->so_pr == NULL) {
			m_freem(m);
			err = EBADF;
			break;
		}
		err = so->so_pr->pr_send(so, m, NULL);
		if (err != 0)
			break;
		sent += chunk;
		if (src->eof)
			break;
	}
	mutex_exit(&ns->ns_lock);
	*sentp = sent;
	return err != 0 && sent == 0 ? err : 0;
}

/* Send on so; 0 with *sentp, or an errno.  to: NULL or the checked
 * destination. */
static int
sosend(struct socket *so, const void *buf, size_t len, int flags,
    const struct sockaddr_in_k *to, size_t *sentp)
{
	*sentp = 0;
	if (so->so_type == SOCK_STREAM) {
		struct so_src src = { .buf = buf };
		return sosend_stream(so, &src, len, flags, sentp);
	}
	if (len > IP_MAXPACKET_K)
		return EMSGSIZE;
	struct mbuf *m = m_fromuser(buf, len);
	if (m == NULL)
		return ENOBUFS;
	int err;
	mutex_enter(&so->so_stack->ns_lock);
	if (so->so_pr == NULL) {
		m_freem(m);
		err = so->so_state & SS_CLOSING ? EBADF : ENETDOWN;
	} else if (so->so_state & SS_CANTSENDMORE) {
		m_freem(m);
		err = EPIPE;
	} else if (so->so_error != 0) {
		m_freem(m);
		err = so->so_error;
		so->so_error = 0;
	} else
		err = so->so_pr->pr_send(so, m, to);
	mutex_exit(&so->so_stack->ns_lock);
	if (err == 0)
		*sentp = len;
	return err;
}

KRS_EXPORT ssize_t
krs_sendto(int fd, const void *buf, size_t len, int flags, const void *to,
    uint32_t tolen)
{
	SOFAM_FILE(fd, sf, fp);
	if (fp != NULL) {
		struct krs_iovec iov = { (void *)(uintptr_t)buf, len };
		size_t sent = 0;
		int e = buf == NULL && len > 0 ? (file_release(fp), EFAULT) :
		    sf->sf_send(fp, &iov, 1, flags, to, to != NULL ? tolen : 0,
		    &sent);
		return e != 0 ? krs_fail(e) : (ssize_t)sent;
	}
	struct sockaddr_in_k sin;
	if (to != NULL) {
		int rv = sockaddr_in(to, tolen, &sin, false);
		if (rv != 0)
			return krs_fail(rv);
	}
	if (buf == NULL && len > 0)
		return krs_fail(EFAULT);
	int err = 0;
	struct socket *so = fd_getsock(fd, &err);
	if (so == NULL)
		return krs_fail(err);
	size_t sent;
	err = sosend(so, buf, len, flags, to != NULL ? &sin : NULL, &sent);
	sorele(so);
	return err != 0 ? krs_fail(err) : (ssize_t)sent;
}

KRS_EXPORT ssize_t
krs_send(int fd, const void *buf, size_t len, int flags)
{
	return krs_sendto(fd, buf, len, flags, NULL, 0);
}

KRS_EXPORT ssize_t
krs_send_fill(int fd, size_t len, int flags, krs_fill_fn fill, void *arg)
{
	if (fill == NULL)
		return krs_fail(EFAULT);
	int err = 0;
	struct socket *so = fd_getsock(fd, &err);
	if (so == NULL)
		return krs_fail(err);
	size_t sent = 0;
	if (so->so_type != SOCK_STREAM)
		err = EOPNOTSUPP;
	else {
		struct so_src src = { .fill = fill, .arg = arg };
		err = sosend_stream(so, &src, len, flags, &sent);
	}
	sorele(so);
	return err != 0 ? krs_fail(err) : (ssize_t)sent;
}

/* Receive from so; 0 with *gotp bytes (the datagram's length with
 * MSG_TRUNC), or an errno. */
static int
soreceive(struct socket *so, void *buf, size_t len, int flags, void *from,
    uint32_t *fromlen, ssize_t *gotp)
{
	int err = 0;
	ssize_t got = -1;
	struct netstack *ns = so->so_stack;
	mutex_enter(&ns->ns_lock);
	uint64_t deadline = so_deadline(so->so_rcv.sb_timeo_ns);
	for (;;) {
		if (so->so_state & SS_CLOSING) {
			err = EBADF;
			break;
		}
		if (so->so_error != 0) {
			err = so->so_error;
			so->so_error = 0;
			break;
		}
		if (so->so_type == SOCK_STREAM && so->so_rcv.sb_cc > 0) {
			int n = so->so_rcv.sb_cc < (int)(len > 0x40000000 ?
			    0x40000000 : len) ? so->so_rcv.sb_cc : (int)len;
			m_copydata(so->so_rcv.sb_mb, 0, n, buf);
			if (!(flags & KRS_MSG_PEEK)) {
				sbdrop(&so->so_rcv, n);
				if (so->so_pr != NULL && so->so_pr->pr_rcvd != NULL)
					so->so_pr->pr_rcvd(so);
			}
			if (from != NULL && fromlen != NULL && so->so_pr != NULL) {
				struct sockaddr_in_k sin;
				so->so_pr->pr_peeraddr(so, &sin);
				uint32_t fl = *fromlen < sizeof(sin) ? *fromlen :
				    sizeof(sin);
				memcpy(from, &sin, fl);
				*fromlen = sizeof(sin);
			}
			got = n;
			break;
		}
		struct mbuf *rec = so->so_type == SOCK_STREAM ? NULL :
		    so->so_rcv.sb_mb;
		if (rec != NULL) {
			struct mbuf *data = rec->m_next;
			int reclen = m_length(data);
			int n = (size_t)reclen < len ? reclen : (int)len;
			if (n > 0)
				m_copydata(data, 0, n, buf);
			if (from != NULL && fromlen != NULL) {
				uint32_t fl = *fromlen < sizeof(struct sockaddr_in_k) ?
				    *fromlen : sizeof(struct sockaddr_in_k);
				memcpy(from, rec->m_data, fl);
				*fromlen = sizeof(struct sockaddr_in_k);
			}
			if (!(flags & KRS_MSG_PEEK)) {
				so->so_rcv.sb_mb = rec->m_nextpkt;
				if (so->so_rcv.sb_mb == NULL)
					so->so_rcv.sb_lastrec = NULL;
				so->so_rcv.sb_cc -= reclen;
				so->so_rcv.sb_mbcnt -= m_chain_storage(rec);
				rec->m_nextpkt = NULL;
				m_freem(rec);
			}
			got = (flags & KRS_MSG_TRUNC) ? reclen : n;
			break;
		}
		if (so->so_state & SS_CANTRCVMORE) {
			got = 0;
			break;
		}
		if (so->so_type == SOCK_STREAM && !(so->so_state &
		    (SS_ISCONNECTED | SS_ISCONNECTING))) {
			err = ENOTCONN;
			break;
		}
		if ((so->so_state & SS_NBIO) || (flags & KRS_MSG_DONTWAIT)) {
			err = EAGAIN;
			break;
		}
		int w = so_wait(so, deadline);
		if (w == EBADF) {
			err = EBADF;
			break;
		}
		if (w == EWOULDBLOCK && so->so_rcv.sb_mb == NULL &&
		    !(so->so_state & SS_CANTRCVMORE)) {
			err = EAGAIN;
			break;
		}
	}
	mutex_exit(&ns->ns_lock);
	*gotp = got;
	return err;
}

/*
 * Gather and scatter, for writev, readv, sendmsg and recvmsg alike: a
 * stream sends and receives iovec by iovec, straight from and into the
 * caller's memory; a datagram is one record, so it goes through one
 * bounce buffer, bounded by the largest datagram (IP_MAXPACKET_K), never
 * by what the caller passes.  0 with the bytes moved (sentp, gotp), or
 * an errno when nothing moved.
 */
static int
sosendv(struct socket *so, const struct krs_iovec *iov, int iovcnt,
    size_t total, int flags, const struct sockaddr_in_k *to, size_t *sentp)
{
	*sentp = 0;
	if (so->so_type == SOCK_STREAM) {
		size_t sent = 0, n = 0;
		int err = 0;
		if (total == 0)
			return sosend(so, "", 0, flags, to, sentp);
		for (int i = 0; i < iovcnt; i++) {
			if (iov[i].iov_len == 0)
				continue;
			err = sosend(so, iov[i].iov_base, iov[i].iov_len, flags,
			    to, &n);
			sent += n;
			if (err != 0 || n < iov[i].iov_len)
				break;
		}
		*sentp = sent;
		return sent > 0 ? 0 : err;
	}
	if (total > IP_MAXPACKET_K)
		return EMSGSIZE;
	if (iovcnt == 1 || total == 0)
		return sosend(so, total > 0 ? iov[0].iov_base : "", total, flags,
		    to, sentp);
	char *buf = kmem_alloc(total, KM_SLEEP);	/* <= 64 KiB */
	size_t off = 0;
	for (int i = 0; i < iovcnt; i++) {
		memcpy(buf + off, iov[i].iov_base, iov[i].iov_len);
		off += iov[i].iov_len;
	}
	int err = sosend(so, buf, total, flags, to, sentp);
	kmem_free(buf, total);
	return err;
}

/* *gotp: as soreceive's (a datagram's whole length with MSG_TRUNC). */
static int
soreceivev(struct socket *so, const struct krs_iovec *iov, int iovcnt,
    size_t total, int flags, void *from, uint32_t *fromlen, ssize_t *gotp)
{
	*gotp = 0;
	int first = 0;
	while (first < iovcnt && iov[first].iov_len == 0)
		first++;
	if (total == 0 || first == iovcnt)
		return soreceive(so, NULL, 0, flags, from, fromlen, gotp);
	if (so->so_type == SOCK_STREAM) {
		/* After the first bytes only what is there; a peek looks
		 * into the first iovec only (a short read, which POSIX
		 * allows), as it would see the same bytes again. */
		ssize_t got = 0, n;
		int err = 0;
		for (int i = first; i < iovcnt; i++) {
			if (iov[i].iov_len == 0)
				continue;
			err = soreceive(so, iov[i].iov_base, iov[i].iov_len,
			    got > 0 ? flags | KRS_MSG_DONTWAIT : flags,
			    got > 0 ? NULL : from, fromlen, &n);
			if (err != 0 || n <= 0)
				break;
			got += n;
			if ((size_t)n < iov[i].iov_len || (flags & KRS_MSG_PEEK))
				break;
		}
		*gotp = got;
		return got > 0 ? 0 : err;
	}
	if (iovcnt - first == 1 || iov[first].iov_len >= total)
		return soreceive(so, iov[first].iov_base, iov[first].iov_len,
		    flags, from, fromlen, gotp);
	size_t cap = total < IP_MAXPACKET_K ? total : IP_MAXPACKET_K;
	char *buf = kmem_alloc(cap, KM_SLEEP);	/* <= 64 KiB */
	int err = soreceive(so, buf, cap, flags, from, fromlen, gotp);
	if (err == 0) {
		size_t left = (size_t)*gotp < cap ? (size_t)*gotp : cap, off = 0;
		for (int i = first; i < iovcnt && off < left; i++) {
			size_t c = iov[i].iov_len < left - off ?
			    iov[i].iov_len : left - off;
			memcpy(iov[i].iov_base, buf + off, c);
			off += c;
		}
	}
	kmem_free(buf, cap);
	return err;
}

KRS_EXPORT ssize_t
krs_recvfrom(int fd, void *buf, size_t len, int flags, void *from,
    uint32_t *fromlen)
{
	SOFAM_FILE(fd, sf, fp);
	if (fp != NULL) {
		struct krs_iovec iov = { buf, len };
		size_t got = 0;
		int e = buf == NULL && len > 0 ? (file_release(fp), EFAULT) :
		    sf->sf_recv(fp, &iov, 1, flags, from,
		    from != NULL ? fromlen : NULL, &got);
		return e != 0 ? krs_fail(e) : (ssize_t)got;
	}
	int err = 0;
	ssize_t got;
	struct socket *so = fd_getsock(fd, &err);
	if (so == NULL)
		return krs_fail(err);
	err = soreceive(so, buf, len, flags, from, fromlen, &got);
	sorele(so);
	return err != 0 ? krs_fail(err) : got;
}

KRS_EXPORT ssize_t
krs_recv(int fd, void *buf, size_t len, int flags)
{
	return krs_recvfrom(fd, buf, len, flags, NULL, NULL);
}

static int
sockname(int fd, void *addr, uint32_t *addrlen, bool peer)
{
	struct sockaddr_in_k sin;
	if (addr == NULL || addrlen == NULL)
		return krs_fail(EFAULT);
	SOFAM_FILE(fd, sf, fp);
	if (fp != NULL) {
		int e = sf->sf_name(fp, peer, addr, addrlen);
		return e != 0 ? krs_fail(e) : 0;
	}
	memset(&sin, 0, sizeof(sin));
	SOCK_OP(fd, so, {
		if (peer && !(so->so_state & SS_ISCONNECTED))
			err_ = ENOTCONN;
		else if (peer)
			so->so_pr->pr_peeraddr(so, &sin);
		else
			so->so_pr->pr_sockaddr(so, &sin);
	});
	uint32_t n = *addrlen < sizeof(sin) ? *addrlen : sizeof(sin);
	memcpy(addr, &sin, n);
	*addrlen = sizeof(sin);
	return 0;
}

KRS_EXPORT int
krs_getsockname(int fd, void *addr, uint32_t *addrlen)
{
	return sockname(fd, addr, addrlen, false);
}

KRS_EXPORT int
krs_getpeername(int fd, void *addr, uint32_t *addrlen)
{
	return sockname(fd, addr, addrlen, true);
}

struct timeval_k {
	int64_t tv_sec;
	int64_t tv_usec;
};

KRS_EXPORT int
krs_setsockopt(int fd, int level, int name, const void *val, uint32_t len)
{
	int iv = 0;
	struct timeval_k tv = { 0, 0 };
	SOFAM_FILE(fd, sf, fp);
	if (fp != NULL) {
		int e = val == NULL && len > 0 ? (file_release(fp), EFAULT) :
		    sf->sf_setopt(fp, level, name, val, len);
		return e != 0 ? krs_fail(e) : 0;
	}
	if (level == KRS_IPPROTO_TCP) {
		if (val == NULL)
			return krs_fail(EFAULT);
		if (len < sizeof(int))
			return krs_fail(EINVAL);
		memcpy(&iv, val, sizeof(int));
		SOCK_OP(fd, so, err_ = so->so_pr->pr_setopt == NULL ?
		    ENOPROTOOPT : so->so_pr->pr_setopt(so, name, iv));
		return 0;
	}
	if (level != KRS_SOL_SOCKET)
		return krs_fail(ENOPROTOOPT);
	if (val == NULL)
		return krs_fail(EFAULT);
	if (name == KRS_SO_LINGER) {
		struct krs_linger lg;
		if (len < sizeof(lg))
			return krs_fail(EINVAL);
		memcpy(&lg, val, sizeof(lg));
		SOCK_OP(fd, so, {
			so->so_linger = lg.l_onoff ? (lg.l_linger < 0 ? 0 :
			    lg.l_linger) : -1;
		});
		return 0;
	}
	if (name == KRS_SO_RCVTIMEO || name == KRS_SO_SNDTIMEO) {
		if (len < sizeof(tv))
			return krs_fail(EINVAL);
		memcpy(&tv, val, sizeof(tv));
		if (tv.tv_sec < 0 || tv.tv_usec < 0 || tv.tv_usec >= 1000000)
			return krs_fail(EDOM);
	} else {
		if (len < sizeof(int))
			return krs_fail(EINVAL);
		memcpy(&iv, val, sizeof(int));
	}
	SOCK_OP(fd, so, {
		switch (name) {
		case KRS_SO_REUSEADDR:
			so->so_options = iv ? so->so_options | SO_REUSEADDR_F :
			    so->so_options & ~SO_REUSEADDR_F;
			break;
		case KRS_SO_BROADCAST:
			so->so_options = iv ? so->so_options | SO_BROADCAST_F :
			    so->so_options & ~SO_BROADCAST_F;
			break;
		case KRS_SO_KEEPALIVE:
			so->so_options = iv ? so->so_options | SO_KEEPALIVE_F :
			    so->so_options & ~SO_KEEPALIVE_F;
			break;
		case KRS_SO_RCVBUF:
		case KRS_SO_SNDBUF: {
			/* As Linux: the value is doubled, within limits. */
			int v = iv < 1024 ? 2048 : iv > 8 * 1024 * 1024 ?
			    16 * 1024 * 1024 : iv * 2;
			if (name == KRS_SO_RCVBUF)
				so->so_rcv.sb_hiwat = v;
			else
				so->so_snd.sb_hiwat = v;
			break;
		}
		case KRS_SO_RCVTIMEO:
		case KRS_SO_SNDTIMEO: {
			uint64_t ns = (uint64_t)tv.tv_sec * 1000000000u +
			    (uint64_t)tv.tv_usec * 1000u;
			if (name == KRS_SO_RCVTIMEO)
				so->so_rcv.sb_timeo_ns = ns;
			else
				so->so_snd.sb_timeo_ns = ns;
			break;
		}
		default:
			err_ = ENOPROTOOPT;
		}
	});
	return 0;
}

KRS_EXPORT int
krs_getsockopt(int fd, int level, int name, void *val, uint32_t *len)
{
	int iv = 0;
	if (val == NULL || len == NULL)
		return krs_fail(EFAULT);
	SOFAM_FILE(fd, sf, fp);
	if (fp != NULL) {
		int e = sf->sf_getopt(fp, level, name, val, len);
		return e != 0 ? krs_fail(e) : 0;
	}
	if (*len < sizeof(int))
		return krs_fail(EINVAL);
	if (level == KRS_IPPROTO_TCP) {
		SOCK_OP(fd, so, err_ = so->so_pr->pr_getopt == NULL ?
		    ENOPROTOOPT : so->so_pr->pr_getopt(so, name, &iv));
		memcpy(val, &iv, sizeof(int));
		*len = sizeof(int);
		return 0;
	}
	if (level != KRS_SOL_SOCKET)
		return krs_fail(ENOPROTOOPT);
	if (name == KRS_SO_LINGER) {
		struct krs_linger lg = { 0, 0 };
		if (*len < sizeof(lg))
			return krs_fail(EINVAL);
		SOCK_OP(fd, so, {
			lg.l_onoff = so->so_linger >= 0;
			lg.l_linger = so->so_linger >= 0 ? so->so_linger : 0;
		});
		memcpy(val, &lg, sizeof(lg));
		*len = sizeof(lg);
		return 0;
	}
	SOCK_OP(fd, so, {
		switch (name) {
		case KRS_SO_ERROR:
			iv = so->so_error;
			so->so_error = 0;
			break;
		case KRS_SO_REUSEADDR:
			iv = (so->so_options & SO_REUSEADDR_F) != 0;
			break;
		case KRS_SO_BROADCAST:
			iv = (so->so_options & SO_BROADCAST_F) != 0;
			break;
		case KRS_SO_RCVBUF:
			iv = so->so_rcv.sb_hiwat;
			break;
		case KRS_SO_SNDBUF:
			iv = so->so_snd.sb_hiwat;
			break;
		case KRS_SO_KEEPALIVE:
			iv = (so->so_options & SO_KEEPALIVE_F) != 0;
			break;
		case KRS_SO_ACCEPTCONN:
			iv = (so->so_options & SO_ACCEPTCONN_F) != 0;
			break;
		case 3:	/* SO_TYPE */
			iv = so->so_type;
			break;
		default:
			err_ = ENOPROTOOPT;
		}
	});
	if (name == KRS_SO_ERROR && iv != 0)
		iv = krs_errno_host(iv);
	memcpy(val, &iv, sizeof(int));
	*len = sizeof(int);
	return 0;
}

static short
sopoll(struct socket *so, short events)
{
	short rev = 0;
	if (so->so_pr == NULL)
		return KRS_POLLHUP;
	if (so->so_options & SO_ACCEPTCONN_F)
		return (short)(so->so_q != NULL ? (events & KRS_POLLIN) : 0);
	if (so->so_rcv.sb_mb != NULL || (so->so_state & SS_CANTRCVMORE) ||
	    so->so_error != 0)
		rev |= KRS_POLLIN;
	if (so->so_type == SOCK_STREAM) {
		if (((so->so_state & SS_ISCONNECTED) &&
		    sbspace(&so->so_snd) > 0) || so->so_error != 0)
			rev |= KRS_POLLOUT;
		if ((so->so_state & SS_CANTRCVMORE) &&
		    (so->so_state & SS_CANTSENDMORE))
			rev |= KRS_POLLHUP;
	} else if (!(so->so_state & SS_CANTSENDMORE))
		rev |= KRS_POLLOUT;
	if (so->so_error != 0)
		rev |= KRS_POLLERR;
	return (short)(rev & (events | KRS_POLLERR | KRS_POLLHUP));
}

/* ---- the socket file type ---- */

/* read/write/readv/writev: one send or receive (sosendv, soreceivev). */
static int
soo_rdwr(struct file *fp, struct uio *uio, int flags)
{
	struct socket *so = fp->f_data;
	size_t total = uio->uio_resid, done = 0;
	int err;
	(void)flags;

	soref(so);
	if (uio->uio_rw == UIO_WRITE)
		err = sosendv(so, uio->uio_iov, uio->uio_iovcnt, total, 0, NULL,
		    &done);
	else {
		ssize_t got = 0;
		err = soreceivev(so, uio->uio_iov, uio->uio_iovcnt, total, 0,
		    NULL, NULL, &got);
		done = err == 0 ? (size_t)got : 0;
	}
	sorele(so);
	uio->uio_resid -= done;
	return err;
}

static int
soo_setfl(struct file *fp)
{
	struct socket *so = fp->f_data;
	bool nb = (__atomic_load_n(&fp->f_flag, __ATOMIC_RELAXED) &
	    KRS_O_NONBLOCK) != 0;
	mutex_enter(&so->so_stack->ns_lock);
	so->so_state = nb ? so->so_state | SS_NBIO : so->so_state & ~SS_NBIO;
	mutex_exit(&so->so_stack->ns_lock);
	return 0;
}

static int
soo_poll(struct file *fp, int events)
{
	struct socket *so = fp->f_data;
	mutex_enter(&so->so_stack->ns_lock);
	int rev = sopoll(so, (short)events);
	mutex_exit(&so->so_stack->ns_lock);
	return rev;
}

static int
soo_stat(struct file *fp, struct krs_stat *st)
{
	struct socket *so = fp->f_data;
	memset(st, 0, sizeof(*st));
	st->st_mode = KRS_S_IFSOCK | 0777;
	st->st_blksize = 4096;
	mutex_enter(&so->so_stack->ns_lock);
	st->st_size = so->so_rcv.sb_cc;
	mutex_exit(&so->so_stack->ns_lock);
	return 0;
}

static void
soo_close(struct file *fp)
{
	soclose(fp->f_data);
}

/* Poll wakeups: selnotify (uipc_socket.c) bumps sel_gen (atomic). */
uint64_t
so_pollgen(void)
{
	return __atomic_load_n(&sel_gen, __ATOMIC_SEQ_CST);
}

static bool
sel_moved(void *gen)
{
	return __atomic_load_n(&sel_gen, __ATOMIC_ACQUIRE) != *(uint64_t *)gen;
}

/* See selnotify for the order of sel_sleepers and sel_gen. */
void
so_pollwait(uint64_t gen, uint64_t deadline)
{
	/* Run to completion: receive from pollable ports while we spin. */
	if (kern_poll_spin(sel_moved, &gen, deadline))
		return;
	mutex_enter(&sel_lock);
	__atomic_add_fetch(&sel_sleepers, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&sel_gen, __ATOMIC_SEQ_CST) == gen) {
		if (deadline == 0)
			cv_wait(&sel_cv, &sel_lock);
		else {
			uint64_t now = kern_uptime_ns();
			if (now < deadline)
				(void)cv_timedwait_ns(&sel_cv, &sel_lock,
				    deadline - now);
		}
	}
	__atomic_sub_fetch(&sel_sleepers, 1, __ATOMIC_SEQ_CST);
	mutex_exit(&sel_lock);
}

static const struct fileops socketops = {
	.fo_read = soo_rdwr,
	.fo_write = soo_rdwr,
	.fo_setfl = soo_setfl,
	.fo_poll = soo_poll,
	.fo_stat = soo_stat,
	.fo_close = soo_close,
	.fo_pollgen = so_pollgen,
	.fo_pollwait = so_pollwait,
};

/* Deprecated: sockets close with krs_close like every descriptor. */
KRS_EXPORT int
krs_sock_close(int fd)
{
	return krs_close(fd);
}

KRS_EXPORT int
krs_net_stack_destroy(int id)
{
	struct netstack *ns = netstack_byid(id);
	if (ns == NULL)
		return krs_fail(ENOENT);
	if (id == 0 || sotab_count_stack(ns) > 0)
		return krs_fail(EBUSY);	/* stack 0 lives until shutdown */
	netstack_destroy(ns);
	return 0;
}

/* sendmsg/recvmsg: gather into / scatter from one kernel-side buffer, then
 * the ordinary path (one datagram per call for UDP, as POSIX requires). */
static ssize_t
msg_total(const struct krs_msghdr *msg)
{
	if (msg == NULL || (msg->msg_iov == NULL && msg->msg_iovlen > 0))
		return -EFAULT;
	if (msg->msg_iovlen > KRS_IOV_MAX)
		return -EMSGSIZE;
	size_t total = 0;
	for (size_t i = 0; i < msg->msg_iovlen; i++) {
		total += msg->msg_iov[i].iov_len;
		if (total > 0x7fffffff)
			return -EINVAL;
	}
	return (ssize_t)total;
}

/* The message's iovecs are the file layer's (both Linux's struct iovec). */
_Static_assert(sizeof(struct krs_iovec_net) == sizeof(struct krs_iovec) &&
    offsetof(struct krs_iovec_net, iov_base) ==
    offsetof(struct krs_iovec, iov_base) &&
    offsetof(struct krs_iovec_net, iov_len) ==
    offsetof(struct krs_iovec, iov_len), "iovec layouts differ");

KRS_EXPORT ssize_t
krs_sendmsg(int fd, const struct krs_msghdr *msg, int flags)
{
	ssize_t total = msg_total(msg);
	if (total < 0)
		return krs_fail((int)-total);
	SOFAM_FILE(fd, sf, fp);
	if (fp != NULL) {
		size_t sent = 0;
		int e = sf->sf_send(fp, (const struct krs_iovec *)msg->msg_iov,
		    (int)msg->msg_iovlen, flags, msg->msg_name,
		    msg->msg_name != NULL ? msg->msg_namelen : 0, &sent);
		return e != 0 ? krs_fail(e) : (ssize_t)sent;
	}
	struct sockaddr_in_k sin;
	if (msg->msg_name != NULL) {
		int rv = sockaddr_in(msg->msg_name, msg->msg_namelen, &sin, false);
		if (rv != 0)
			return krs_fail(rv);
	}
	int err = 0;
	struct socket *so = fd_getsock(fd, &err);
	if (so == NULL)
		return krs_fail(err);
	size_t sent;
	err = sosendv(so, (const struct krs_iovec *)msg->msg_iov,
	    (int)msg->msg_iovlen, (size_t)total, flags,
	    msg->msg_name != NULL ? &sin : NULL, &sent);
	sorele(so);
	return err != 0 ? krs_fail(err) : (ssize_t)sent;
}

KRS_EXPORT ssize_t
krs_recvmsg(int fd, struct krs_msghdr *msg, int flags)
{
	ssize_t total = msg_total(msg);
	if (total < 0)
		return krs_fail((int)-total);
	SOFAM_FILE(fd, sf, fp);
	if (fp != NULL) {
		uint32_t fnl = msg->msg_namelen;
		size_t got = 0;
		int e = sf->sf_recv(fp, (const struct krs_iovec *)msg->msg_iov,
		    (int)msg->msg_iovlen, flags | KRS_MSG_TRUNC, msg->msg_name,
		    msg->msg_name != NULL ? &fnl : NULL, &got);
		if (e != 0)
			return krs_fail(e);
		msg->msg_flags = got > (size_t)total ? KRS_MSG_TRUNC : 0;
		if (msg->msg_name != NULL)
			msg->msg_namelen = fnl;
		msg->msg_controllen = 0;
		if (!(flags & KRS_MSG_TRUNC) && got > (size_t)total)
			got = (size_t)total;
		return (ssize_t)got;
	}
	int err = 0;
	struct socket *so = fd_getsock(fd, &err);
	if (so == NULL)
		return krs_fail(err);
	uint32_t nl = msg->msg_namelen;
	ssize_t n;
	err = soreceivev(so, (const struct krs_iovec *)msg->msg_iov,
	    (int)msg->msg_iovlen, (size_t)total, flags | KRS_MSG_TRUNC,
	    msg->msg_name, msg->msg_name != NULL ? &nl : NULL, &n);
	sorele(so);
	if (err != 0)
		return krs_fail(err);
	msg->msg_flags = n > total ? KRS_MSG_TRUNC : 0;
	if (msg->msg_name != NULL)
		msg->msg_namelen = nl;
	msg->msg_controllen = 0;
	if (!(flags & KRS_MSG_TRUNC) && n > total)
		n = total;
	return n;
}
