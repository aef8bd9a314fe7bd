/*
 * kbr_preload_poll.c - poll, ppoll, select, pselect and epoll over sets
 * that mix KRANK's descriptors and Linux's.  KRANK's readiness comes from
 * krank_poll, Linux's from Linux's own call; a set of KRANK descriptors
 * alone blocks in krank_poll for the whole timeout, a mixed set alternates
 * krank_poll slices of at most KBR_SLICE_MS with a look at Linux (so a
 * Linux descriptor in a mixed set waits up to KBR_SLICE_MS longer than
 * alone; docs/bridge.md).  Epoll instances are Linux's; the KRANK
 * descriptors registered in them live in a shadow list (kbr_fdtab.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kbr_preload_int.h"

/* glibc declares poll's array write-only (for _FORTIFY_SOURCE), so GCC
 * takes our reading of the events the caller set for uninitialised. */
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#define KBR_EXPORT __attribute__((visibility("default")))
#define KBR_SLICE_MS 1
#define KBR_KPOLL_MAX 1024	/* krank.proto's LIMIT_POLL_MAX */
#define KBR_STACK_FDS 64

static int64_t
kbr_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds left until deadline (< 0: none), or the timeout when the
 * deadline is none. */
static int
kbr_left(int64_t deadline)
{
	if (deadline < 0)
		return -1;
	int64_t d = deadline - kbr_now_ms();
	return d < 0 ? 0 : d > INT32_MAX ? INT32_MAX : (int)d;
}

/* How long KRANK's side of a wait may block: a mixed set looks at Linux
 * every KBR_SLICE_MS; with a signal handler installed, the wait looks at
 * kbr_intr_count every KBR_INTR_SLICE_MS. */
static int
kbr_slice(int left, bool mixed)
{
	int s = mixed ? KBR_SLICE_MS :
	    atomic_load_explicit(&kbr_intr_armed, memory_order_relaxed) ?
	    KBR_INTR_SLICE_MS : -1;
	if (s < 0)
		return left;
	return left < 0 || left > s ? s : left;
}

/* A handler ran on this thread since the wait began (count0): the wait
 * ends with EINTR. */
static bool
kbr_interrupted(uint64_t count0)
{
	if (kbr_intr_count == count0)
		return false;
	errno = EINTR;
	return true;
}

/*
 * Readiness with data (docs/bridge.md): a readable stream socket's bytes
 * come with the poll's answer, up to kbr_fetch_max per descriptor, and
 * are held for the reads that follow (kbr_held_*), which then need no
 * round trip.  A descriptor holding bytes (or an error) is readable
 * without asking KRANK, and is not fetched for again until they are
 * read.
 */
static _Atomic bool kbr_fetch_said;

/* One krank_poll_fetch of n <= KBR_KPOLL_MAX entries; pfd: their
 * placeholders (NULL: fetch nothing). */
static int
kbr_kpoll_fetch(struct kbr_ring *r, struct pollfd *kp, const int *pfd,
    size_t n, int timeout)
{
	uint8_t fetch[KBR_KPOLL_MAX];
	struct krank_fetched got[KBR_KPOLL_MAX];
	bool held[KBR_KPOLL_MAX], anyf = false;
	size_t nheld = 0;

	if (pfd == NULL || kbr_fetch_max == 0)
		return krank_poll(r->c, kp, n, timeout);
	for (size_t i = 0; i < n; i++) {
		uint32_t fl = 0;
		held[i] = false;
		fetch[i] = 0;
		if (!(kp[i].events & POLLIN) ||
		    !kbr_fdtab_get(pfd[i], NULL, &fl))
			continue;
		if (kbr_held_avail(pfd[i]) > 0) {
			held[i] = true;
			nheld++;
		} else if ((fl & (KBR_FD_STREAM | KBR_FD_LISTEN)) ==
		    KBR_FD_STREAM && kbr_held_reserve(pfd[i], kbr_fetch_max))
			fetch[i] = 1, anyf = true;
	}
	/* Held bytes are ready now: KRANK is only looked at. */
	int v = krank_poll_fetch(r->c, kp, n, nheld > 0 ? 0 : timeout,
	    anyf ? fetch : NULL, kbr_fetch_max, got);
	if (v < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (got[i].len != 0) {
			kbr_held_add(pfd[i], got[i].data,
			    got[i].len > 0 ? (size_t)got[i].len : 0,
			    got[i].len < 0 ? -got[i].len : 0);
			if (kbr_debug_on && !atomic_exchange(&kbr_fetch_said,
			    true))
				kbr_debug("poll: %d bytes of descriptor %d came "
				    "with its readiness, held for its reads "
				    "(said once)", (int)got[i].len, pfd[i]);
		}
		if (held[i]) {
			if (kp[i].revents == 0)
				v++;
			kp[i].revents |= POLLIN;
		}
	}
	return v;
}

/*
 * krank_poll on the calling thread's ring, in chunks of KBR_KPOLL_MAX:
 * with more, only the first chunk may wait (the others are looked at
 * with timeout 0 first).  Blocks the ring for the wait: threads sharing
 * the ring queue behind it.  pfd: the entries' placeholders, for
 * readiness with data (NULL: none).
 */
static int
kbr_kpoll(struct pollfd *kp, const int *pfd, size_t n, int timeout)
{
	struct kbr_ring *r = kbr_client();
	int total = 0;

	if (r == NULL)
		return -1;
	if (n <= KBR_KPOLL_MAX) {
		total = kbr_kpoll_fetch(r, kp, pfd, n, timeout);
	} else {
		for (size_t i = 0; i < n && total >= 0; i += KBR_KPOLL_MAX) {
			size_t k = n - i < KBR_KPOLL_MAX ? n - i :
			    KBR_KPOLL_MAX;
			int v = kbr_kpoll_fetch(r, kp + i,
			    pfd != NULL ? pfd + i : NULL, k, 0);
			total = v < 0 ? v : total + v;
		}
		if (total == 0 && timeout != 0)
			total = kbr_kpoll_fetch(r, kp, pfd, KBR_KPOLL_MAX,
			    timeout < 0 || timeout > KBR_SLICE_MS ?
			    KBR_SLICE_MS : timeout);
	}
	kbr_put(r);
	return total;
}

int
kbr_poll_mixed(struct pollfd *fds, nfds_t n, int timeout_ms,
    const sigset_t *mask)
{
	struct pollfd kst[KBR_STACK_FDS], lst[KBR_STACK_FDS];
	nfds_t kix_st[KBR_STACK_FDS], lix_st[KBR_STACK_FDS];
	int kfd_st[KBR_STACK_FDS];
	struct pollfd *kp = kst, *lp = lst;
	nfds_t *kix = kix_st, *lix = lix_st;
	int *kpf = kfd_st;
	size_t nk = 0, nl = 0, bad = 0;
	sigset_t old;
	int v = 0;

	if (n > KBR_STACK_FDS) {
		kp = malloc(n * sizeof(*kp));
		lp = malloc(n * sizeof(*lp));
		kix = malloc(n * sizeof(*kix));
		lix = malloc(n * sizeof(*lix));
		kpf = malloc(n * sizeof(*kpf));
		if (kp == NULL || lp == NULL || kix == NULL || lix == NULL ||
		    kpf == NULL) {
			v = -1;
			errno = ENOMEM;
			goto out;
		}
	}
	for (nfds_t i = 0; i < n; i++) {
		int kfd;
		uint32_t fl;
		fds[i].revents = 0;
		if (fds[i].fd >= 0 && kbr_fdtab_get(fds[i].fd, &kfd, &fl)) {
			if (fl & KBR_FD_DEAD) {
				fds[i].revents = POLLNVAL;
				bad++;
				continue;
			}
			kp[nk].fd = kfd;
			kp[nk].events = fds[i].events;
			kp[nk].revents = 0;
			kpf[nk] = fds[i].fd;
			kix[nk++] = i;
		} else {
			lp[nl] = fds[i];
			lix[nl++] = i;
		}
	}
	if (mask != NULL)
		pthread_sigmask(SIG_SETMASK, mask, &old);
	/* No look with timeout 0 first: krank_poll answers at once when a
	 * descriptor is ready, and every call is a round trip to KRANK. */
	int64_t deadline = timeout_ms < 0 ? -1 : kbr_now_ms() + timeout_ms;
	uint64_t intr0 = kbr_intr_count;
	for (;;) {
		int left = bad > 0 ? 0 : kbr_left(deadline);
		int kn = 0, ln = 0;
		if (nk > 0 && (kn = kbr_kpoll(kp, kpf, nk,
		    kbr_slice(left, nl > 0))) < 0) {
			v = -1;
			break;
		}
		if (nl > 0 && (ln = KBR_REAL(poll)(lp, nl, nk > 0 ? 0 :
		    left)) < 0) {
			v = -1;
			break;
		}
		if (kn + ln + (int)bad > 0 || left == 0) {
			for (size_t i = 0; i < nk; i++)
				fds[kix[i]].revents = kp[i].revents;
			for (size_t i = 0; i < nl; i++)
				fds[lix[i]].revents = lp[i].revents;
			v = kn + ln + (int)bad;
			break;
		}
		if (kbr_interrupted(intr0)) {
			v = -1;
			break;
		}
	}
	if (mask != NULL) {
		int e = errno;
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		errno = e;
	}
out:
	if (kp != kst) {
		int e = errno;
		free(kp);
		free(lp);
		free(kix);
		free(lix);
		free(kpf);
		errno = e;
	}
	return v;
}

static bool
kbr_any_ours(const struct pollfd *fds, nfds_t n)
{
	if (!kbr_fdtab_any())
		return false;
	for (nfds_t i = 0; i < n; i++)
		if (fds[i].fd >= 0 && kbr_fdtab_get(fds[i].fd, NULL, NULL))
			return true;
	return false;
}

KBR_EXPORT int
poll(struct pollfd *fds, nfds_t n, int timeout)
{
	if (!kbr_any_ours(fds, n))
		return KBR_REAL(poll)(fds, n, timeout);
	return kbr_poll_mixed(fds, n, timeout, NULL);
}

KBR_EXPORT int
__poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fdslen)
{
	if (fdslen / sizeof(*fds) < n)
		abort();
	return poll(fds, n, timeout);
}

static int
kbr_ts_ms(const struct timespec *ts)
{
	if (ts == NULL)
		return -1;
	int64_t ms = (int64_t)ts->tv_sec * 1000 + (ts->tv_nsec + 999999) /
	    1000000;
	return ms > INT32_MAX ? INT32_MAX : (int)ms;
}

KBR_EXPORT int
ppoll(struct pollfd *fds, nfds_t n, const struct timespec *ts,
    const sigset_t *mask)
{
	if (!kbr_any_ours(fds, n))
		return KBR_REAL(ppoll)(fds, n, ts, mask);
	return kbr_poll_mixed(fds, n, kbr_ts_ms(ts), mask);
}

/* select and pselect: as poll over the descriptors in the sets, when one
 * of them is KRANK's. */
static int
kbr_select(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, int timeout,
    const sigset_t *mask, bool *ours)
{
	struct pollfd pf[FD_SETSIZE];
	nfds_t n = 0;

	*ours = false;
	if (nfds < 0 || nfds > FD_SETSIZE) {
		errno = EINVAL;
		return -1;
	}
	for (int fd = 0; fd < nfds; fd++) {
		short ev = 0;
		if (rd != NULL && FD_ISSET(fd, rd))
			ev |= POLLIN;
		if (wr != NULL && FD_ISSET(fd, wr))
			ev |= POLLOUT;
		if (ex != NULL && FD_ISSET(fd, ex))
			ev |= POLLPRI;
		if (ev == 0)
			continue;
		if (kbr_fdtab_get(fd, NULL, NULL))
			*ours = true;
		pf[n].fd = fd;
		pf[n].events = ev;
		pf[n++].revents = 0;
	}
	if (!*ours)
		return 0;
	int v = kbr_poll_mixed(pf, n, timeout, mask);
	if (v < 0)
		return -1;
	for (nfds_t i = 0; i < n; i++)
		if (pf[i].revents & POLLNVAL) {
			errno = EBADF;
			return -1;
		}
	if (rd != NULL)
		FD_ZERO(rd);
	if (wr != NULL)
		FD_ZERO(wr);
	if (ex != NULL)
		FD_ZERO(ex);
	v = 0;
	for (nfds_t i = 0; i < n; i++) {
		short re = pf[i].revents;
		if (rd != NULL && (pf[i].events & POLLIN) &&
		    (re & (POLLIN | POLLHUP | POLLERR))) {
			FD_SET(pf[i].fd, rd);
			v++;
		}
		if (wr != NULL && (pf[i].events & POLLOUT) &&
		    (re & (POLLOUT | POLLERR))) {
			FD_SET(pf[i].fd, wr);
			v++;
		}
		if (ex != NULL && (pf[i].events & POLLPRI) && (re & POLLPRI)) {
			FD_SET(pf[i].fd, ex);
			v++;
		}
	}
	return v;
}

KBR_EXPORT int
select(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, struct timeval *tv)
{
	bool ours = false;
	int v;

	if (kbr_fdtab_any()) {
		int ms = tv == NULL ? -1 : (int)(tv->tv_sec * 1000 +
		    (tv->tv_usec + 999) / 1000);
		v = kbr_select(nfds, rd, wr, ex, ms, NULL, &ours);
		if (ours) {
			if (v >= 0 && tv != NULL && v == 0)
				tv->tv_sec = tv->tv_usec = 0;
			return v;
		}
	}
	return KBR_REAL(select)(nfds, rd, wr, ex, tv);
}

KBR_EXPORT int
pselect(int nfds, fd_set *rd, fd_set *wr, fd_set *ex,
    const struct timespec *ts, const sigset_t *mask)
{
	bool ours = false;
	int v;

	if (kbr_fdtab_any()) {
		v = kbr_select(nfds, rd, wr, ex, kbr_ts_ms(ts), mask, &ours);
		if (ours)
			return v;
	}
	return KBR_REAL(pselect)(nfds, rd, wr, ex, ts, mask);
}

/* ---- epoll ------------------------------------------------------------- */

KBR_EXPORT int
epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	struct kbr_esh *sh;
	int kfd, e;
	uint32_t fl;

	if (!kbr_fdtab_get(fd, &kfd, &fl)) {
		int v = KBR_REAL(epoll_ctl)(epfd, op, fd, ev);
		/* Count Linux's members once KRANK is in use, so that a
		 * wait knows whether it must look at Linux at all. */
		if (v == 0 && kbr_enabled() && op != EPOLL_CTL_MOD &&
		    (sh = kbr_esh_find(epfd, op == EPOLL_CTL_ADD)) != NULL)
			kbr_esh_linux(sh, op == EPOLL_CTL_ADD ? 1 : -1);
		return v;
	}
	if (fl & KBR_FD_DEAD) {
		errno = EBADF;
		return -1;
	}
	if ((sh = kbr_esh_find(epfd, op == EPOLL_CTL_ADD)) == NULL) {
		if (op != EPOLL_CTL_ADD)
			errno = ENOENT;
		return -1;
	}
	if ((e = kbr_esh_ctl(sh, op, fd, kfd, ev)) != 0) {
		errno = e;
		return -1;
	}
	kbr_debug("epoll_ctl(%d, %s, %d): KRANK descriptor %d in the shadow "
	    "list", epfd, op == EPOLL_CTL_ADD ? "ADD" : op == EPOLL_CTL_MOD ?
	    "MOD" : "DEL", fd, kfd);
	return 0;
}

/* When this thread last asked Linux in an epoll wait (ms). */
static __thread int64_t kbr_linux_seen;

static int
kbr_epoll_wait(int epfd, struct epoll_event *out, int max, int timeout,
    const sigset_t *mask, const struct timespec *ts2)
{
	struct kbr_esh *sh = kbr_esh_find(epfd, false);
	struct pollfd kst[KBR_STACK_FDS], *kp = kst;
	int fst[KBR_STACK_FDS], *fds = fst;
	size_t cap = KBR_STACK_FDS;
	sigset_t old;
	int v = 0;

	if (sh == NULL || kbr_esh_count(sh) == 0) {
		if (ts2 != NULL)
			return KBR_REAL(epoll_pwait2)(epfd, out, max, ts2,
			    mask);
		return mask != NULL ?
		    KBR_REAL(epoll_pwait)(epfd, out, max, timeout, mask) :
		    KBR_REAL(epoll_wait)(epfd, out, max, timeout);
	}
	if (max <= 0) {
		errno = EINVAL;
		return -1;
	}
	if (mask != NULL)
		pthread_sigmask(SIG_SETMASK, mask, &old);
	int64_t deadline = timeout < 0 ? -1 : kbr_now_ms() + timeout;
	uint64_t intr0 = kbr_intr_count;
	for (;;) {
		size_t want = kbr_esh_count(sh);
		if (want > cap) {
			if (kp != kst) {
				free(kp);
				free(fds);
			}
			kp = malloc(want * sizeof(*kp));
			fds = malloc(want * sizeof(*fds));
			if (kp == NULL || fds == NULL) {
				free(kp);
				free(fds);
				kp = kst;
				fds = fst;
				cap = KBR_STACK_FDS;
				errno = ENOMEM;
				v = -1;
				break;
			}
			cap = want;
		}
		size_t nk = kbr_esh_snapshot(sh, kp, fds, cap);
		bool mixed = kbr_esh_linux_count(sh) > 0;
		int left = kbr_left(deadline);
		int k = 0, ln = 0;
		if (nk > 0) {
			if (kbr_kpoll(kp, fds, nk, kbr_slice(left, mixed)) < 0) {
				v = -1;
				break;
			}
			k = kbr_esh_collect(sh, kp, fds, nk, out, max);
		}
		/* With KRANK's events in hand, Linux (a system call) is
		 * looked at only once per KBR_SLICE_MS, which bounds its
		 * delay as the slices do. */
		int64_t now = kbr_now_ms();
		if ((mixed || nk == 0) && k < max &&
		    (k == 0 || now - kbr_linux_seen >= KBR_SLICE_MS)) {
			kbr_linux_seen = now;
			/* Only Linux's (every KRANK one a spent ONESHOT):
			 * Linux waits; else Linux is looked at. */
			int lt = nk == 0 ? (left < 0 ||
			    left > KBR_SLICE_MS * 10 ? KBR_SLICE_MS * 10 :
			    left) : 0;
			ln = KBR_REAL(epoll_wait)(epfd, out + k, max - k, lt);
			if (ln < 0) {
				if (k == 0) {
					v = -1;
					break;
				}
				ln = 0;
			}
		}
		if (k + ln > 0 || left == 0) {
			v = k + ln;
			break;
		}
		if (kbr_interrupted(intr0)) {
			v = -1;
			break;
		}
	}
	if (kp != kst) {
		int e = errno;
		free(kp);
		free(fds);
		errno = e;
	}
	if (mask != NULL) {
		int e = errno;
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		errno = e;
	}
	return v;
}

KBR_EXPORT int
epoll_wait(int epfd, struct epoll_event *out, int max, int timeout)
{
	return kbr_epoll_wait(epfd, out, max, timeout, NULL, NULL);
}

KBR_EXPORT int
epoll_pwait(int epfd, struct epoll_event *out, int max, int timeout,
    const sigset_t *mask)
{
	return kbr_epoll_wait(epfd, out, max, timeout, mask, NULL);
}

KBR_EXPORT int
epoll_pwait2(int epfd, struct epoll_event *out, int max,
    const struct timespec *ts, const sigset_t *mask)
{
	struct kbr_esh *sh = kbr_esh_find(epfd, false);

	if ((sh == NULL || kbr_esh_count(sh) == 0) &&
	    KBR_REAL(epoll_pwait2) != NULL)
		return KBR_REAL(epoll_pwait2)(epfd, out, max, ts, mask);
	return kbr_epoll_wait(epfd, out, max, kbr_ts_ms(ts), mask, NULL);
}
