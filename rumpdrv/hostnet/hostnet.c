/*
 * hostnet.c - the kernel half of hostnet: sockets of the domain
 * KRS_AF_HOSTNET that forward to the host's (Linux's) TCP/IP, for
 * management traffic, limited to the destinations of an allow list
 * (default deny).  A host socket is a file of the vfs's descriptor tables
 * (DTYPE_HOSTSOCK) and a socket family of the socket component (struct
 * sofamily), so krs_read/write/close/poll and the krs_ socket calls work
 * on it.  The host half is bridge/hostnet/hostnet_user.c (hyp_hsock_*).
 *
 * Waiting: host sockets are non-blocking; one poller thread waits on the
 * host half's event set and, on any readiness change, bumps the sockets'
 * poll generation (selnotify).  A blocking call reads that generation,
 * tries the host call, and on EAGAIN waits for the generation to move,
 * so host and KRANK sockets wake one krs_poll alike.
 */
#include "kern/kern.h"
#include "vfs/vfs_file.h"
#include "net/socket/socketvar.h"
#include "net/krs_net.h"
#include <krank/krs_hostnet.h>
#include "hostnet_user.h"

/* Linux's numbers, which the isolates and the host half use. */
#define L_AF_INET	2
#define L_AF_INET6	10
#define L_SO_TYPE	3
#define L_TCP_KEEPIDLE	4
#define L_TCP_KEEPINTVL	5
#define L_TCP_KEEPCNT	6
#define L_POLLRDHUP	0x2000

#define HN_MAX_DEFAULT	256
#define HN_MAX_LIMIT	4096
#define HN_NOPTS	8	/* options remembered before the host socket */
#define HN_SALEN	28	/* sockaddr_in6, the longest we speak */

/*
 * A host socket.  hs_refs atomic: the file's reference and one per call
 * in progress; the host descriptor is closed with the last, so no call
 * ever uses a number the host may have given to something else.
 * hs_lock: hs_hfd's creation (lazy, at the first connect or sendto: the
 * family comes from the address), hs_opts, the timeouts.  hs_closing
 * atomic: the descriptor was closed; waiters give up with EBADF.
 */
struct hsock {
	unsigned hs_refs;
	int hs_type;			/* SOCK_STREAM, SOCK_DGRAM */
	int hs_hfd;			/* -1: not created yet */
	int hs_hfamily;			/* L_AF_INET(6) once created */
	int hs_closing;
	kmutex_t hs_lock;
	uint64_t hs_rcvtimeo, hs_sndtimeo;	/* ns; 0: none */
	int hs_nopts;
	struct { int level, name, val; } hs_opts[HN_NOPTS];
};

/* A checked destination: the address as matched and as given to Linux. */
struct hn_dest {
	int family;			/* 4 or 6 (IPv4-mapped: 4) */
	uint8_t addr[16];
	uint16_t port;			/* host order */
	uint8_t sa[HN_SALEN];		/* Linux's sockaddr, rebuilt */
	uint32_t salen;
	int hfamily;			/* L_AF_INET or L_AF_INET6 */
};

/*
 * hn_lock: the allow list, the log-once table.  The counters are atomic.
 */
static kmutex_t hn_lock;
static struct krs_hostnet_rule *hn_rules;
static size_t hn_nrules;
static struct { int family; uint8_t addr[16]; uint16_t port; }
    hn_logged[KRS_HOSTNET_LOGGED];
static unsigned hn_nlogged;
static bool hn_logfull;
static unsigned hn_max = HN_MAX_DEFAULT;	/* atomic */
static struct krs_hostnet_stats hn_st;		/* atomic fields */

static struct hyp_hsock_ev *hn_ev;
static struct lwp *hn_poller;
static int hn_stop;				/* atomic */
static const struct fileops hsockops;

_Static_assert(sizeof(struct krs_iovec) == sizeof(struct hyp_hsock_iov) &&
    offsetof(struct krs_iovec, iov_len) ==
    offsetof(struct hyp_hsock_iov, iov_len), "iovec layouts differ");

#define ST_ADD(f, n)	__atomic_fetch_add(&hn_st.f, (n), __ATOMIC_RELAXED)

/* ---- destinations and the allow list ------------------------------- */

static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0xff, 0xff };

/*
 * The caller's address (untrusted bytes, len of them) as a destination:
 * AF_INET with at least 16 bytes, AF_INET6 with at least 24 (RFC 2133's
 * size; scope id 0 then).  The sockaddr given to Linux is rebuilt from
 * the fields, never copied, so padding and flow labels do not pass.
 */
static int
hn_dest_parse(const void *addr, uint32_t len, struct hn_dest *d)
{
	const uint8_t *a = addr;
	uint16_t fam;

	memset(d, 0, sizeof(*d));
	if (len < 2)
		return EINVAL;
	memcpy(&fam, a, 2);
	if (fam == L_AF_INET) {
		if (len < 16)
			return EINVAL;
		d->family = 4;
		memcpy(d->addr, a + 4, 4);
		d->port = (uint16_t)(a[2] << 8 | a[3]);
		d->hfamily = L_AF_INET;
		memcpy(d->sa, &fam, 2);
		memcpy(d->sa + 2, a + 2, 6);
		d->salen = 16;
		return 0;
	}
	if (fam == L_AF_INET6) {
		if (len < 24)
			return EINVAL;
		d->port = (uint16_t)(a[2] << 8 | a[3]);
		d->hfamily = L_AF_INET6;
		memcpy(d->sa, &fam, 2);
		memcpy(d->sa + 2, a + 2, 2);		/* port */
		memcpy(d->sa + 8, a + 8, 16);		/* address */
		if (len >= 28)
			memcpy(d->sa + 24, a + 24, 4);	/* scope id */
		d->salen = 28;
		if (memcmp(a + 8, v4mapped, 12) == 0) {
			d->family = 4;
			memcpy(d->addr, a + 20, 4);
		} else {
			d->family = 6;
			memcpy(d->addr, a + 8, 16);
		}
		return 0;
	}
	return EAFNOSUPPORT;
}

static void
hn_dest_text(const struct hn_dest *d, char *buf, size_t len)
{
	struct krs_hostnet_rule r;

	memset(&r, 0, sizeof(r));
	r.hr_family = (uint8_t)d->family;
	r.hr_plen = d->family == 4 ? 32 : 128;
	r.hr_port_lo = r.hr_port_hi = d->port;
	memcpy(r.hr_addr, d->addr, 16);
	krs_hostnet_rule_format(&r, buf, len);
}

/* Is d allowed?  A refusal is counted and, the first time for this
 * destination, logged (then only counted: the isolate chooses how often
 * it tries, so the log must not follow it). */
static bool
hn_allowed(const struct hn_dest *d, const char *what)
{
	bool ok = false, log = false, logfull = false;

	mutex_enter(&hn_lock);
	for (size_t i = 0; i < hn_nrules && !ok; i++)
		ok = krs_hostnet_rule_match(&hn_rules[i], d->family, d->addr,
		    d->port) != 0;
	if (!ok) {
		unsigned i;
		for (i = 0; i < hn_nlogged; i++)
			if (hn_logged[i].family == d->family &&
			    hn_logged[i].port == d->port &&
			    memcmp(hn_logged[i].addr, d->addr, 16) == 0)
				break;
		if (i == hn_nlogged && hn_nlogged < KRS_HOSTNET_LOGGED) {
			hn_logged[i].family = d->family;
			hn_logged[i].port = d->port;
			memcpy(hn_logged[i].addr, d->addr, 16);
			hn_nlogged++;
			log = true;
		} else if (i == hn_nlogged && !hn_logfull)
			hn_logfull = logfull = true;
	}
	mutex_exit(&hn_lock);
	if (ok)
		return true;
	ST_ADD(hs_denied, 1);
	if (log) {
		char t[80];
		hn_dest_text(d, t, sizeof(t));
		klog(LOG_WARNING, "hostnet: %s %s denied (not in the "
		    "deployment's hostnet allow list)", what, t);
	} else if (logfull)
		klog(LOG_WARNING, "hostnet: %u denied destinations logged; "
		    "further ones are only counted (hostnet.denied)",
		    KRS_HOSTNET_LOGGED);
	return false;
}

/* ---- host sockets ---------------------------------------------------- */

static void
hs_ref(struct hsock *hs)
{
	__atomic_fetch_add(&hs->hs_refs, 1, __ATOMIC_RELAXED);
}

static void
hs_rele(struct hsock *hs)
{
	if (__atomic_sub_fetch(&hs->hs_refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	/* Closing the host descriptor also takes it out of the event set
	 * (it is never duplicated), so this needs no hn_ev: a call that
	 * outlives the component's fini still ends cleanly. */
	if (hs->hs_hfd >= 0)
		(void)hyp_hsock_close(hs->hs_hfd);
	mutex_destroy(&hs->hs_lock);
	kmem_free(hs, sizeof(*hs));
	__atomic_fetch_sub(&hn_st.hs_open, 1, __ATOMIC_RELAXED);
}

/* The call's own reference on fp's socket; fp's (the caller's) is let go,
 * so a close of the descriptor reaches hs_close while the call waits. */
static struct hsock *
hs_take(struct file *fp, bool *nbio)
{
	struct hsock *hs = fp->f_data;

	hs_ref(hs);
	if (nbio != NULL)
		*nbio = (__atomic_load_n(&fp->f_flag, __ATOMIC_RELAXED) &
		    KRS_O_NONBLOCK) != 0;
	file_release(fp);
	return hs;
}

/* The host descriptor, created for hfamily on first use; hs_lock held. */
static int
hs_create_locked(struct hsock *hs, int hfamily)
{
	int err, hfd;

	if (hs->hs_hfd >= 0)
		return 0;
	if ((err = hyp_hsock_open(hfamily, hs->hs_type, &hfd)) != 0)
		return err;
	for (int i = 0; i < hs->hs_nopts; i++)
		(void)hyp_hsock_setopt(hfd, hs->hs_opts[i].level,
		    hs->hs_opts[i].name, &hs->hs_opts[i].val, sizeof(int));
	if ((err = hyp_hsock_evadd(hn_ev, hfd, 0)) != 0) {
		(void)hyp_hsock_close(hfd);
		return err;
	}
	hs->hs_hfamily = hfamily;
	__atomic_store_n(&hs->hs_hfd, hfd, __ATOMIC_RELEASE);
	return 0;
}

static int
hs_create(struct hsock *hs, int hfamily)
{
	mutex_enter(&hs->hs_lock);
	int err = hs_create_locked(hs, hfamily);
	mutex_exit(&hs->hs_lock);
	return err;
}

static int
hs_hfd(struct hsock *hs)
{
	return __atomic_load_n(&hs->hs_hfd, __ATOMIC_ACQUIRE);
}

/*
 * Wait for the poll generation to leave gen: 0 to try again, EBADF when
 * the descriptor was closed, EAGAIN when the deadline (uptime ns; 0:
 * none) has passed.
 */
static int
hs_wait(struct hsock *hs, uint64_t gen, uint64_t deadline)
{
	if (__atomic_load_n(&hs->hs_closing, __ATOMIC_ACQUIRE))
		return EBADF;
	if (deadline != 0 && kern_uptime_ns() >= deadline)
		return EAGAIN;
	so_pollwait(gen, deadline);
	return __atomic_load_n(&hs->hs_closing, __ATOMIC_ACQUIRE) ? EBADF : 0;
}

static uint64_t
deadline_of(uint64_t timeo)
{
	return timeo == 0 ? 0 : kern_uptime_ns() + timeo;
}

/* ---- the socket family ---------------------------------------------- */

static int
hn_socket(int type, int protocol, int *fdp)
{
	int flags = type & (SOCK_NONBLOCK | SOCK_CLOEXEC);
	type &= ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (type != SOCK_STREAM && type != SOCK_DGRAM)
		return EPROTOTYPE;
	if (protocol != 0 && protocol != (type == SOCK_STREAM ? IPPROTO_TCP :
	    IPPROTO_UDP))
		return EPROTONOSUPPORT;
	uint64_t n = __atomic_add_fetch(&hn_st.hs_open, 1, __ATOMIC_RELAXED);
	if (n > __atomic_load_n(&hn_max, __ATOMIC_RELAXED)) {
		__atomic_fetch_sub(&hn_st.hs_open, 1, __ATOMIC_RELAXED);
		return ENFILE;
	}
	struct hsock *hs = kmem_zalloc(sizeof(*hs), KM_SLEEP);
	hs->hs_refs = 1;
	hs->hs_type = type;
	hs->hs_hfd = -1;
	mutex_init(&hs->hs_lock, MUTEX_DEFAULT, IPL_NONE);
	struct file *fp = file_alloc_ops(&hsockops, DTYPE_HOSTSOCK, hs,
	    KRS_O_RDWR | ((flags & SOCK_NONBLOCK) ? KRS_O_NONBLOCK : 0));
	int err = fd_allocfile(fp, (flags & SOCK_CLOEXEC) != 0, fdp);
	if (err != 0) {
		file_release(fp);		/* hs_close */
		return err;
	}
	ST_ADD(hs_opened, 1);
	return 0;
}

/* No host ports are opened for isolates: hostnet is for reaching Linux
 * services, not for serving Linux (docs/hostnet.md). */
static int
hn_bind(struct file *fp, const void *addr, uint32_t len)
{
	(void)addr;
	(void)len;
	file_release(fp);
	return EOPNOTSUPP;
}

static int
hn_listen(struct file *fp, int backlog)
{
	(void)backlog;
	file_release(fp);
	return EOPNOTSUPP;
}

static int
hn_accept(struct file *fp, void *addr, uint32_t *len, int *fdp)
{
	(void)addr;
	(void)len;
	(void)fdp;
	file_release(fp);
	return EOPNOTSUPP;
}

static int
hn_connect(struct file *fp, const void *addr, uint32_t len)
{
	bool nbio;
	struct hsock *hs = hs_take(fp, &nbio);
	struct hn_dest d;
	int err;
	uint16_t fam = 0;

	if (len >= 2)
		memcpy(&fam, addr, 2);
	if (fam == 0 && len >= 2 && hs->hs_type == SOCK_DGRAM) {
		/* AF_UNSPEC: dissolve a datagram association */
		uint8_t un[16] = { 0 };
		err = hs_hfd(hs) < 0 ? 0 : hyp_hsock_connect(hs_hfd(hs), un,
		    sizeof(un));
		goto out;
	}
	if ((err = hn_dest_parse(addr, len, &d)) != 0)
		goto out;
	if (!hn_allowed(&d, "connect to")) {
		err = EACCES;
		goto out;
	}
	if ((err = hs_create(hs, d.hfamily)) != 0)
		goto out;
	ST_ADD(hs_connects, 1);
	err = hyp_hsock_connect(hs_hfd(hs), d.sa, d.salen);
	if (err != EINPROGRESS || nbio)
		goto out;
	uint64_t deadline = deadline_of(hs->hs_sndtimeo);
	for (;;) {
		uint64_t gen = so_pollgen();
		int rev = 0;
		if ((err = hyp_hsock_poll(hs_hfd(hs), KRS_POLLOUT, &rev)) != 0)
			break;
		if (rev != 0) {
			int e = 0;
			err = hyp_hsock_error(hs_hfd(hs), &e);
			if (err == 0)
				err = e;
			break;
		}
		if ((err = hs_wait(hs, gen, deadline)) != 0) {
			if (err == EAGAIN)
				err = ETIMEDOUT;
			break;
		}
	}
out:
	hs_rele(hs);
	return err;
}

/* Advance iov (a private copy) past n bytes. */
static int
iov_advance(struct hyp_hsock_iov *iov, int cnt, size_t n, int *first)
{
	int i = *first;
	while (i < cnt && n >= iov[i].iov_len) {
		n -= iov[i].iov_len;
		i++;
	}
	if (i < cnt) {
		iov[i].iov_base = (char *)iov[i].iov_base + n;
		iov[i].iov_len -= n;
	}
	*first = i;
	return i < cnt;
}

static int
hs_send(struct hsock *hs, bool nbio, const struct krs_iovec *uiov,
    int iovcnt, int flags, const void *to, uint32_t tolen, size_t *sent)
{
	struct hn_dest d = { 0 };
	int err;
	size_t total = 0;

	*sent = 0;
	if (iovcnt < 0 || iovcnt > KRS_IOV_MAX)
		return EMSGSIZE;
	for (int i = 0; i < iovcnt; i++) {
		if (uiov[i].iov_base == NULL && uiov[i].iov_len > 0)
			return EFAULT;
		total += uiov[i].iov_len;
		if (total > 0x7fffffff)
			return EINVAL;
	}
	if (flags & KRS_MSG_DONTWAIT)
		nbio = true;
	if (hs->hs_type == SOCK_STREAM)
		to = NULL;		/* as Linux: TCP ignores it */
	if (to != NULL) {
		if ((err = hn_dest_parse(to, tolen, &d)) != 0)
			return err;
		if (!hn_allowed(&d, "datagram to"))
			return EACCES;
		if ((err = hs_create(hs, d.hfamily)) != 0)
			return err;
		ST_ADD(hs_sends, 1);
	} else if (hs_hfd(hs) < 0)
		return hs->hs_type == SOCK_STREAM ? ENOTCONN : EDESTADDRREQ;

	size_t isz = (size_t)(iovcnt > 0 ? iovcnt : 1) * sizeof(struct hyp_hsock_iov);
	struct hyp_hsock_iov *iov = kmem_alloc(isz, KM_SLEEP);
	for (int i = 0; i < iovcnt; i++) {
		iov[i].iov_base = uiov[i].iov_base;
		iov[i].iov_len = uiov[i].iov_len;
	}
	int first = 0;
	uint64_t deadline = deadline_of(hs->hs_sndtimeo);
	for (;;) {
		uint64_t gen = so_pollgen();
		size_t n = 0;
		err = hyp_hsock_send(hs_hfd(hs), iov + first, iovcnt - first,
		    to != NULL ? d.sa : NULL, to != NULL ? d.salen : 0, &n);
		if (err == 0) {
			*sent += n;
			/* A datagram goes whole or not at all; a stream
			 * blocks until everything is queued (or returns
			 * what went when non-blocking). */
			if (hs->hs_type == SOCK_DGRAM || nbio ||
			    !iov_advance(iov, iovcnt, n, &first))
				break;
			continue;
		}
		if (err != EAGAIN || nbio)
			break;
		if ((err = hs_wait(hs, gen, deadline)) != 0)
			break;
	}
	kmem_free(iov, isz);
	if (*sent > 0 && hs->hs_type == SOCK_STREAM)
		err = 0;		/* a partial send reports what went */
	ST_ADD(hs_bytes_out, *sent);
	return err;
}

static int
hn_send(struct file *fp, const struct krs_iovec *iov, int iovcnt, int flags,
    const void *to, uint32_t tolen, size_t *sent)
{
	bool nbio;
	struct hsock *hs = hs_take(fp, &nbio);
	int err = hs_send(hs, nbio, iov, iovcnt, flags, to, tolen, sent);
	hs_rele(hs);
	return err;
}

/* Did a datagram come from an allowed sender?  Replies from elsewhere
 * (any host can send to the port Linux gave the socket) are dropped. */
static bool
hn_sender_allowed(const uint8_t *sa, uint32_t salen)
{
	struct hn_dest d;
	if (hn_dest_parse(sa, salen, &d) != 0)
		return false;
	bool ok = false;
	mutex_enter(&hn_lock);
	for (size_t i = 0; i < hn_nrules && !ok; i++)
		ok = krs_hostnet_rule_match(&hn_rules[i], d.family, d.addr,
		    d.port) != 0;
	mutex_exit(&hn_lock);
	return ok;
}

static int
hs_recv(struct hsock *hs, bool nbio, const struct krs_iovec *uiov,
    int iovcnt, int flags, void *from, uint32_t *fromlen, size_t *got)
{
	int err, hf = 0;

	*got = 0;
	if (iovcnt < 0 || iovcnt > KRS_IOV_MAX)
		return EMSGSIZE;
	for (int i = 0; i < iovcnt; i++)
		if (uiov[i].iov_base == NULL && uiov[i].iov_len > 0)
			return EFAULT;
	if (flags & KRS_MSG_DONTWAIT)
		nbio = true;
	if (flags & KRS_MSG_PEEK)
		hf |= HYP_HSOCK_PEEK;
	if ((flags & KRS_MSG_TRUNC) && hs->hs_type == SOCK_DGRAM)
		hf |= HYP_HSOCK_TRUNC;
	if (hs_hfd(hs) < 0)
		return hs->hs_type == SOCK_STREAM ? ENOTCONN : EAGAIN;
	const struct hyp_hsock_iov *iov = (const void *)uiov;
	uint64_t deadline = deadline_of(hs->hs_rcvtimeo);
	for (;;) {
		uint64_t gen = so_pollgen();
		uint8_t sa[HN_SALEN + 4];
		uint32_t salen = sizeof(sa);
		size_t n = 0;
		err = hyp_hsock_recv(hs_hfd(hs), iov, iovcnt, hf,
		    hs->hs_type == SOCK_DGRAM || from != NULL ? sa : NULL,
		    &salen, &n);
		if (err == 0 && hs->hs_type == SOCK_DGRAM &&
		    !hn_sender_allowed(sa, salen)) {
			if (hf & HYP_HSOCK_PEEK) {
				/* take the datagram out */
				(void)hyp_hsock_recv(hs_hfd(hs), NULL, 0, 0,
				    NULL, NULL, &n);
			}
			ST_ADD(hs_rxdenied, 1);
			continue;
		}
		if (err == 0) {
			*got = n;
			if (from != NULL && fromlen != NULL) {
				uint32_t c = *fromlen < salen ? *fromlen :
				    salen;
				memcpy(from, sa, c);
				*fromlen = salen;
			}
			ST_ADD(hs_bytes_in, n);
			break;
		}
		if (err != EAGAIN || nbio)
			break;
		if ((err = hs_wait(hs, gen, deadline)) != 0)
			break;
	}
	return err;
}

static int
hn_recv(struct file *fp, const struct krs_iovec *iov, int iovcnt, int flags,
    void *from, uint32_t *fromlen, size_t *got)
{
	bool nbio;
	struct hsock *hs = hs_take(fp, &nbio);
	int err = hs_recv(hs, nbio, iov, iovcnt, flags, from, fromlen, got);
	hs_rele(hs);
	return err;
}

static int
hn_shutdown(struct file *fp, int how)
{
	struct hsock *hs = hs_take(fp, NULL);
	int err = hs_hfd(hs) < 0 ? ENOTCONN : hyp_hsock_shutdown(hs_hfd(hs),
	    how);
	hs_rele(hs);
	selnotify();		/* our own pollers see the new state */
	return err;
}

static int
hn_name(struct file *fp, bool peer, void *addr, uint32_t *len)
{
	struct hsock *hs = hs_take(fp, NULL);
	uint8_t sa[HN_SALEN + 4];
	uint32_t salen = sizeof(sa);
	int err = 0;

	memset(sa, 0, sizeof(sa));
	if (hs_hfd(hs) >= 0)
		err = hyp_hsock_name(hs_hfd(hs), peer, sa, &salen);
	else if (peer)
		err = ENOTCONN;
	else {
		/* Not created yet: Linux says 0.0.0.0:0 for an unbound one. */
		uint16_t fam = L_AF_INET;
		memcpy(sa, &fam, 2);
		salen = 16;
	}
	hs_rele(hs);
	if (err != 0)
		return err;
	uint32_t c = *len < salen ? *len : salen;
	memcpy(addr, sa, c);
	*len = salen;
	return 0;
}

/* Options an isolate may set: ints a host socket takes without harm to
 * anyone else.  Returns true for (level, name) in the list. */
static bool
hn_intopt(int level, int name)
{
	if (level == KRS_SOL_SOCKET)
		return name == KRS_SO_KEEPALIVE || name == KRS_SO_RCVBUF ||
		    name == KRS_SO_SNDBUF || name == KRS_SO_REUSEADDR ||
		    name == KRS_SO_BROADCAST;
	if (level == KRS_IPPROTO_TCP)
		return name == KRS_TCP_NODELAY || name == L_TCP_KEEPIDLE ||
		    name == L_TCP_KEEPINTVL || name == L_TCP_KEEPCNT;
	return false;
}

struct timeval_hn {
	int64_t tv_sec;
	int64_t tv_usec;
};

static int
hn_setopt(struct file *fp, int level, int name, const void *val,
    uint32_t len)
{
	struct hsock *hs = hs_take(fp, NULL);
	int err = 0;

	if (level == KRS_SOL_SOCKET && (name == KRS_SO_RCVTIMEO ||
	    name == KRS_SO_SNDTIMEO)) {
		struct timeval_hn tv;
		if (len < sizeof(tv)) {
			err = EINVAL;
			goto out;
		}
		memcpy(&tv, val, sizeof(tv));
		if (tv.tv_sec < 0 || tv.tv_usec < 0 || tv.tv_usec >= 1000000 ||
		    tv.tv_sec > 100000000) {
			err = EDOM;
			goto out;
		}
		uint64_t ns = (uint64_t)tv.tv_sec * 1000000000u +
		    (uint64_t)tv.tv_usec * 1000u;
		mutex_enter(&hs->hs_lock);
		if (name == KRS_SO_RCVTIMEO)
			hs->hs_rcvtimeo = ns;
		else
			hs->hs_sndtimeo = ns;
		mutex_exit(&hs->hs_lock);
		goto out;
	}
	if (!hn_intopt(level, name)) {
		err = ENOPROTOOPT;
		goto out;
	}
	if (len < sizeof(int)) {
		err = EINVAL;
		goto out;
	}
	int iv;
	memcpy(&iv, val, sizeof(iv));
	mutex_enter(&hs->hs_lock);
	if (hs->hs_hfd >= 0)
		err = hyp_hsock_setopt(hs->hs_hfd, level, name, &iv,
		    sizeof(iv));
	else {
		int i;
		for (i = 0; i < hs->hs_nopts; i++)
			if (hs->hs_opts[i].level == level &&
			    hs->hs_opts[i].name == name)
				break;
		if (i == HN_NOPTS)
			err = ENOBUFS;
		else {
			hs->hs_opts[i].level = level;
			hs->hs_opts[i].name = name;
			hs->hs_opts[i].val = iv;
			if (i == hs->hs_nopts)
				hs->hs_nopts++;
		}
	}
	mutex_exit(&hs->hs_lock);
out:
	hs_rele(hs);
	return err;
}

static int
hn_getopt(struct file *fp, int level, int name, void *val, uint32_t *len)
{
	struct hsock *hs = hs_take(fp, NULL);
	int err = 0, iv = 0;

	if (level == KRS_SOL_SOCKET && (name == KRS_SO_RCVTIMEO ||
	    name == KRS_SO_SNDTIMEO)) {
		struct timeval_hn tv;
		uint64_t ns = name == KRS_SO_RCVTIMEO ? hs->hs_rcvtimeo :
		    hs->hs_sndtimeo;
		if (*len < sizeof(tv)) {
			err = EINVAL;
			goto out;
		}
		tv.tv_sec = (int64_t)(ns / 1000000000u);
		tv.tv_usec = (int64_t)(ns % 1000000000u / 1000u);
		memcpy(val, &tv, sizeof(tv));
		*len = sizeof(tv);
		goto out;
	}
	if (*len < sizeof(int)) {
		err = EINVAL;
		goto out;
	}
	if (level == KRS_SOL_SOCKET && name == L_SO_TYPE)
		iv = hs->hs_type;
	else if (level == KRS_SOL_SOCKET && name == KRS_SO_ACCEPTCONN)
		iv = 0;
	else if ((level == KRS_SOL_SOCKET && name == KRS_SO_ERROR) ||
	    hn_intopt(level, name) || (level == KRS_IPPROTO_TCP &&
	    name == KRS_TCP_MAXSEG)) {
		mutex_enter(&hs->hs_lock);
		if (hs->hs_hfd >= 0) {
			/* SO_ERROR comes back in Linux's numbering, which
			 * is what the caller reads (krs_net.h). */
			uint32_t l = sizeof(iv);
			err = hyp_hsock_getopt(hs->hs_hfd, level, name, &iv,
			    &l);
		} else
			for (int i = 0; i < hs->hs_nopts; i++)
				if (hs->hs_opts[i].level == level &&
				    hs->hs_opts[i].name == name)
					iv = hs->hs_opts[i].val;
		mutex_exit(&hs->hs_lock);
	} else
		err = ENOPROTOOPT;
	if (err == 0) {
		memcpy(val, &iv, sizeof(iv));
		*len = sizeof(iv);
	}
out:
	hs_rele(hs);
	return err;
}

static const struct sofamily hn_family = {
	.sf_family = KRS_AF_HOSTNET,
	.sf_dtype = DTYPE_HOSTSOCK,
	.sf_socket = hn_socket,
	.sf_bind = hn_bind,
	.sf_listen = hn_listen,
	.sf_accept = hn_accept,
	.sf_connect = hn_connect,
	.sf_send = hn_send,
	.sf_recv = hn_recv,
	.sf_shutdown = hn_shutdown,
	.sf_name = hn_name,
	.sf_setopt = hn_setopt,
	.sf_getopt = hn_getopt,
};

/* ---- the file type --------------------------------------------------- */

static int
hso_rdwr(struct file *fp, struct uio *uio, int flags)
{
	struct hsock *hs = fp->f_data;
	bool nbio = (__atomic_load_n(&fp->f_flag, __ATOMIC_RELAXED) &
	    KRS_O_NONBLOCK) != 0;
	size_t done = 0;
	int err;
	(void)flags;

	hs_ref(hs);
	if (uio->uio_rw == UIO_WRITE)
		err = hs_send(hs, nbio, uio->uio_iov, uio->uio_iovcnt, 0, NULL,
		    0, &done);
	else
		err = hs_recv(hs, nbio, uio->uio_iov, uio->uio_iovcnt, 0, NULL,
		    NULL, &done);
	hs_rele(hs);
	if (done > uio->uio_resid)
		done = uio->uio_resid;
	uio->uio_resid -= done;
	return err;
}

static int
hso_poll(struct file *fp, int events)
{
	struct hsock *hs = fp->f_data;
	int hfd = hs_hfd(hs), rev = 0;

	if (hfd < 0)	/* as Linux: a fresh datagram socket may send; a
			 * fresh stream socket is hung up */
		return hs->hs_type == SOCK_DGRAM ? KRS_POLLOUT | KRS_POLLWRNORM :
		    KRS_POLLOUT | KRS_POLLHUP;
	if (hyp_hsock_poll(hfd, events | L_POLLRDHUP, &rev) != 0)
		return KRS_POLLERR;
	/* Linux's bits are KRS_POLL*'s; RDHUP is folded into IN, which
	 * a reader then sees as EOF. */
	if (rev & L_POLLRDHUP)
		rev |= KRS_POLLIN;
	return rev & (KRS_POLLIN | KRS_POLLPRI | KRS_POLLOUT | KRS_POLLERR |
	    KRS_POLLHUP | KRS_POLLRDNORM | KRS_POLLWRNORM);
}

static int
hso_stat(struct file *fp, struct krs_stat *st)
{
	struct hsock *hs = fp->f_data;
	int n = 0;

	memset(st, 0, sizeof(*st));
	st->st_mode = KRS_S_IFSOCK | 0777;
	st->st_blksize = 4096;
	if (hs_hfd(hs) >= 0 && hyp_hsock_nread(hs_hfd(hs), &n) == 0)
		st->st_size = n;
	return 0;
}

/* The last descriptor went away: waiters stop, the host socket closes
 * with the last reference. */
static void
hso_close(struct file *fp)
{
	struct hsock *hs = fp->f_data;

	__atomic_store_n(&hs->hs_closing, 1, __ATOMIC_RELEASE);
	selnotify();
	hs_rele(hs);
}

static const struct fileops hsockops = {
	.fo_read = hso_rdwr,
	.fo_write = hso_rdwr,
	.fo_poll = hso_poll,
	.fo_stat = hso_stat,
	.fo_close = hso_close,
	/* The sockets' generation: hostnet and KRANK sockets in one
	 * krs_poll wait on one condition (vfs_descrip.c). */
	.fo_pollgen = so_pollgen,
	.fo_pollwait = so_pollwait,
};

/* ---- configuration, counters ----------------------------------------- */

KRS_EXPORT int
krs_hostnet_allow(const char *const *entries, size_t n)
{
	if (!component_is_up("hostnet"))
		return krs_fail(ENOSYS);
	if (n > 4096 || (entries == NULL && n > 0))
		return krs_fail(EINVAL);
	struct krs_hostnet_rule *r = NULL;
	if (n > 0)
		r = kmem_zalloc(n * sizeof(*r), KM_SLEEP);
	for (size_t i = 0; i < n; i++) {
		size_t pos;
		const char *why;
		if (krs_hostnet_rule_parse(entries[i], &r[i], &pos, &why) != 0) {
			klog(LOG_ERR, "hostnet: allow entry %zu: %s at "
			    "byte %zu", i, why, pos + 1);
			kmem_free(r, n * sizeof(*r));
			return krs_fail(EINVAL);
		}
	}
	mutex_enter(&hn_lock);
	struct krs_hostnet_rule *old = hn_rules;
	size_t oldn = hn_nrules;
	hn_rules = r;
	hn_nrules = n;
	mutex_exit(&hn_lock);
	if (old != NULL)
		kmem_free(old, oldn * sizeof(*old));
	return 0;
}

KRS_EXPORT int
krs_hostnet_set_max(unsigned max)
{
	if (max == 0 || max > HN_MAX_LIMIT)
		return krs_fail(EINVAL);
	__atomic_store_n(&hn_max, max, __ATOMIC_RELAXED);
	return 0;
}

KRS_EXPORT int
krs_hostnet_stats(struct krs_hostnet_stats *st)
{
	if (st == NULL)
		return krs_fail(EFAULT);
	if (!component_is_up("hostnet"))
		return krs_fail(ENOSYS);
	st->hs_open = __atomic_load_n(&hn_st.hs_open, __ATOMIC_RELAXED);
	st->hs_opened = __atomic_load_n(&hn_st.hs_opened, __ATOMIC_RELAXED);
	st->hs_connects = __atomic_load_n(&hn_st.hs_connects, __ATOMIC_RELAXED);
	st->hs_sends = __atomic_load_n(&hn_st.hs_sends, __ATOMIC_RELAXED);
	st->hs_denied = __atomic_load_n(&hn_st.hs_denied, __ATOMIC_RELAXED);
	st->hs_rxdenied = __atomic_load_n(&hn_st.hs_rxdenied, __ATOMIC_RELAXED);
	st->hs_bytes_out = __atomic_load_n(&hn_st.hs_bytes_out,
	    __ATOMIC_RELAXED);
	st->hs_bytes_in = __atomic_load_n(&hn_st.hs_bytes_in, __ATOMIC_RELAXED);
	return 0;
}

/* ---- the component --------------------------------------------------- */

/* The poller: any readiness change of any host socket wakes every
 * waiter, which retries its non-blocking call (management traffic: few
 * sockets, so one generation for all is cheaper than a table). */
static void
hn_poll_thread(void *arg)
{
	(void)arg;
	for (;;) {
		uint64_t c[64];
		int n = 0;
		int err = hyp_hsock_evwait(hn_ev, c, 64, &n);
		if (__atomic_load_n(&hn_stop, __ATOMIC_ACQUIRE))
			break;
		if (err != 0) {
			klog(LOG_ERR, "hostnet: event wait failed: error %d; "
			    "host sockets now wake only by timeout", err);
			break;
		}
		if (n > 0)
			selnotify();
	}
	kthread_exit(0);
}

static int
hostnet_init(void)
{
	int err;

	if (hyp_hsock_revision() != HYP_HSOCK_REVISION) {
		klog(LOG_ERR, "hostnet: host half revision %d, kernel half %d",
		    hyp_hsock_revision(), HYP_HSOCK_REVISION);
		return ENXIO;
	}
	mutex_init(&hn_lock, MUTEX_DEFAULT, IPL_NONE);
	memset(&hn_st, 0, sizeof(hn_st));
	hn_nlogged = 0;
	hn_logfull = false;
	hn_stop = 0;
	if ((err = hyp_hsock_evcreate(&hn_ev)) != 0)
		goto fail;
	if ((err = kthread_create(hn_poll_thread, NULL, KTHREAD_MUSTJOIN,
	    &hn_poller, "hostnet")) != 0)
		goto fail_ev;
	if ((err = sofamily_register(&hn_family)) != 0)
		goto fail_thread;
	return 0;
fail_thread:
	__atomic_store_n(&hn_stop, 1, __ATOMIC_RELEASE);
	hyp_hsock_evwake(hn_ev);
	kthread_join(hn_poller);
fail_ev:
	hyp_hsock_evdestroy(hn_ev);
fail:
	mutex_destroy(&hn_lock);
	return err;
}

static void
hostnet_fini(void)
{
	fd_closeall_ops(&hsockops);
	sofamily_unregister(&hn_family);
	__atomic_store_n(&hn_stop, 1, __ATOMIC_RELEASE);
	hyp_hsock_evwake(hn_ev);
	kthread_join(hn_poller);
	hyp_hsock_evdestroy(hn_ev);
	hn_ev = NULL;
	if (hn_rules != NULL)
		kmem_free(hn_rules, hn_nrules * sizeof(*hn_rules));
	hn_rules = NULL;
	hn_nrules = 0;
	mutex_destroy(&hn_lock);
}

RUMPDRV_COMPONENT(hostnet, "hostnet", "socket", hostnet_init, hostnet_fini);
