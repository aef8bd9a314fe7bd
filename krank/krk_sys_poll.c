/*
 * krk_sys_poll.c - poll and epoll for isolates, both on krs_poll.
 *
 * An epoll instance is a descriptor number from KRK_EPOLL_FD_BASE (2^30)
 * up, above anything krs's descriptor tables hand out, so close() can tell
 * it apart without asking the kernel; it lives in KRANK's table below,
 * owned by the isolate that made it (another isolate using the number gets
 * EBADF).  It is not a krs descriptor: poll() on it gives POLLNVAL, dup()
 * EBADF, and it is not inherited by anything.  epoll_wait is
 * level-triggered: it polls the interest set with krs_poll (EPOLLET is
 * accepted and delivered level-triggered; EPOLLONESHOT disarms an entry
 * once reported).  close(fd) drops fd from its isolate's instances, and an
 * entry krs_poll finds closed (POLLNVAL) is dropped too, as Linux drops a
 * closed file.  Long waits are cut into KRK_SYS_SLICE_MS slices with a
 * kill check between them, so a killed isolate never waits in the kernel
 * for long.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>

#include "krk_sys_int.h"

_Static_assert(sizeof(struct pollfd) == sizeof(struct krs_pollfd) &&
    POLLIN == KRS_POLLIN && POLLOUT == KRS_POLLOUT &&
    POLLHUP == KRS_POLLHUP && POLLNVAL == KRS_POLLNVAL,
    "struct pollfd differs from krs_pollfd");

struct krk_epitem {
	int fd;
	uint32_t events;		/* EPOLL*, 0 when a ONESHOT fired */
	uint64_t data;
};

/* One epoll instance; lock protects items/n/cap. */
struct krk_epoll {
	const struct krk_iso *owner;
	pthread_mutex_t lock;
	struct krk_epitem *items;
	size_t n, cap;
	size_t next;			/* where the next scan starts (fairness) */
};

/* krk_eptab_lock protects the table (slots, not the instances' items). */
static pthread_mutex_t krk_eptab_lock = PTHREAD_MUTEX_INITIALIZER;
static struct krk_epoll *krk_eptab[KRK_EPOLL_MAX];
/* Instances alive; lets close() skip the table scan when there are none. */
static _Atomic int krk_ep_live;

static const struct krk_iso *
krk_owner(void)
{
	return krk_self != NULL ? krk_self->iso : NULL;
}

static uint64_t
krk_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* krs_poll for up to timeout_ms (< 0: forever), in slices with a kill
 * check between them.  Called inside the bracket; returns krs_poll's
 * result with errno. */
static int
krk_poll_sliced(struct krs_pollfd *p, unsigned n, int timeout_ms)
{
	uint64_t end = timeout_ms < 0 ? UINT64_MAX :
	    krk_now_ms() + (uint64_t)timeout_ms;

	for (;;) {
		uint64_t now = krk_now_ms();
		int t = KRK_SYS_SLICE_MS;

		if (timeout_ms >= 0)
			t = end <= now ? 0 : end - now < (uint64_t)t ?
			    (int)(end - now) : t;
		int rv = krs_poll(p, n, t);
		if (rv != 0 || (timeout_ms >= 0 && krk_now_ms() >= end))
			return rv;
		if (timeout_ms == 0)
			return 0;
		krk_sys_exit();		/* unwinds here when killed */
		krk_sys_enter();
	}
}

int
krk_sys_poll(struct pollfd *fds, unsigned long nfds, int timeout_ms)
{
	if (nfds > 65536)
		return krk_sys_fail(EINVAL);
	if (krk_sys_badbuf(fds, nfds * sizeof(*fds)))
		return krk_sys_fail(EFAULT);
	return KRK_SYS_CALL(int, krk_poll_sliced((struct krs_pollfd *)fds,
	    (unsigned)nfds, timeout_ms));
}

/* Find epfd for the caller with the instance lock held; NULL, EBADF. */
static struct krk_epoll *
krk_ep_get(int epfd)
{
	struct krk_epoll *ep = NULL;
	unsigned i = (unsigned)epfd - KRK_EPOLL_FD_BASE;

	if (epfd < KRK_EPOLL_FD_BASE || i >= KRK_EPOLL_MAX)
		return NULL;
	pthread_mutex_lock(&krk_eptab_lock);
	if (krk_eptab[i] != NULL && krk_eptab[i]->owner == krk_owner()) {
		ep = krk_eptab[i];
		pthread_mutex_lock(&ep->lock);
	}
	pthread_mutex_unlock(&krk_eptab_lock);
	return ep;
}

static void
krk_ep_free(struct krk_epoll *ep)
{
	pthread_mutex_destroy(&ep->lock);
	free(ep->items);
	free(ep);
}

int
krk_sys_epoll_create1(int flags)
{
	if (flags & ~EPOLL_CLOEXEC)
		return krk_sys_fail(EINVAL);
	krk_sys_enter();
	struct krk_epoll *ep = calloc(1, sizeof(*ep));
	int fd = -1, e = ENOMEM;

	if (ep != NULL) {
		ep->owner = krk_owner();
		pthread_mutex_init(&ep->lock, NULL);
		pthread_mutex_lock(&krk_eptab_lock);
		for (int i = 0; i < KRK_EPOLL_MAX; i++)
			if (krk_eptab[i] == NULL) {
				krk_eptab[i] = ep;
				krk_ep_live++;
				fd = KRK_EPOLL_FD_BASE + i;
				break;
			}
		pthread_mutex_unlock(&krk_eptab_lock);
		if (fd < 0) {
			e = EMFILE;
			krk_ep_free(ep);
		}
	}
	krk_sys_exit();
	return fd < 0 ? krk_sys_fail(e) : fd;
}

int
krk_sys_epoll_create(int size)
{
	if (size <= 0)
		return krk_sys_fail(EINVAL);
	return krk_sys_epoll_create1(0);
}

int
krk_sys_epoll_close(int epfd)
{
	unsigned i = (unsigned)epfd - KRK_EPOLL_FD_BASE;
	struct krk_epoll *ep = NULL;

	if (i >= KRK_EPOLL_MAX)
		return krk_sys_fail(EBADF);
	krk_sys_enter();
	pthread_mutex_lock(&krk_eptab_lock);
	if (krk_eptab[i] != NULL && krk_eptab[i]->owner == krk_owner()) {
		ep = krk_eptab[i];
		krk_eptab[i] = NULL;
		krk_ep_live--;
	}
	pthread_mutex_unlock(&krk_eptab_lock);
	/* A thread still inside epoll_wait on it works on its own snapshot;
	 * one in epoll_ctl holds ep->lock, so take it before freeing. */
	if (ep != NULL) {
		pthread_mutex_lock(&ep->lock);
		pthread_mutex_unlock(&ep->lock);
		krk_ep_free(ep);
	}
	krk_sys_exit();
	return ep != NULL ? 0 : krk_sys_fail(EBADF);
}

static struct krk_epitem *
krk_ep_find(struct krk_epoll *ep, int fd)
{
	for (size_t i = 0; i < ep->n; i++)
		if (ep->items[i].fd == fd)
			return &ep->items[i];
	return NULL;
}

static void
krk_ep_remove(struct krk_epoll *ep, struct krk_epitem *it)
{
	*it = ep->items[--ep->n];
}

int
krk_sys_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	if (op != EPOLL_CTL_DEL && krk_sys_badbuf(ev, sizeof(*ev)))
		return krk_sys_fail(EFAULT);
	if (fd == epfd || fd >= KRK_EPOLL_FD_BASE)
		return krk_sys_fail(EINVAL);	/* no nested instances */
	krk_sys_enter();
	int e = 0;
	struct krs_stat st;
	if (op != EPOLL_CTL_DEL && krs_fstat(fd, &st) != 0)
		e = EBADF;			/* must be an open descriptor */
	struct krk_epoll *ep = e == 0 ? krk_ep_get(epfd) : NULL;
	if (e == 0 && ep == NULL)
		e = EBADF;
	if (ep != NULL) {
		struct krk_epitem *it = krk_ep_find(ep, fd);

		switch (op) {
		case EPOLL_CTL_ADD:
			if (it != NULL) {
				e = EEXIST;
				break;
			}
			if (ep->n == ep->cap) {
				size_t nc = ep->cap ? ep->cap * 2 : 16;
				void *ni = realloc(ep->items,
				    nc * sizeof(*ep->items));
				if (ni == NULL) {
					e = ENOMEM;
					break;
				}
				ep->items = ni;
				ep->cap = nc;
			}
			it = &ep->items[ep->n++];
			it->fd = fd;
			/* fall through */
		case EPOLL_CTL_MOD:
			if (it == NULL) {
				e = ENOENT;
				break;
			}
			it->events = ev->events | EPOLLERR | EPOLLHUP;
			it->data = ev->data.u64;
			break;
		case EPOLL_CTL_DEL:
			if (it == NULL)
				e = ENOENT;
			else
				krk_ep_remove(ep, it);
			break;
		default:
			e = EINVAL;
		}
		pthread_mutex_unlock(&ep->lock);
	}
	krk_sys_exit();
	return e != 0 ? krk_sys_fail(e) : 0;
}

#define KRK_EP_POLLBITS (EPOLLIN | EPOLLPRI | EPOLLOUT | EPOLLRDNORM | \
	EPOLLWRNORM)

int
krk_sys_epoll_wait(int epfd, struct epoll_event *evs, int max, int timeout_ms)
{
	struct krs_pollfd small[64], *p = small;

	if (max <= 0)
		return krk_sys_fail(EINVAL);
	if (krk_sys_badbuf(evs, (size_t)max * sizeof(*evs)))
		return krk_sys_fail(EFAULT);
	krk_sys_enter();
	int e = 0, got = 0;
	struct krk_epoll *ep = krk_ep_get(epfd);
	if (ep == NULL) {
		krk_sys_exit();
		return krk_sys_fail(EBADF);
	}
	/* Snapshot the armed entries, starting where the last call stopped
	 * so that max < ready does not starve the later ones. */
	size_t n = ep->n, start = ep->n ? ep->next % ep->n : 0;
	if (n > 64 && (p = malloc(n * sizeof(*p))) == NULL)
		e = ENOMEM;
	unsigned np = 0;
	for (size_t k = 0; e == 0 && k < n; k++) {
		const struct krk_epitem *it = &ep->items[(start + k) % n];

		if (it->events == 0)
			continue;	/* a ONESHOT that fired */
		p[np].fd = it->fd;
		p[np].events = (short)(it->events & KRK_EP_POLLBITS);
		p[np].revents = 0;
		np++;
	}
	if (n > 0)
		ep->next = start + 1;
	pthread_mutex_unlock(&ep->lock);

	if (e == 0) {
		int rv = krk_poll_sliced(p, np, timeout_ms);
		if (rv < 0)
			e = errno;
	}
	/* Report, dropping closed descriptors and disarming ONESHOTs.  The
	 * instance may have been closed meanwhile: look it up again. */
	if (e == 0 && (ep = krk_ep_get(epfd)) != NULL) {
		for (unsigned k = 0; k < np && got < max; k++) {
			struct krk_epitem *it = krk_ep_find(ep, p[k].fd);

			if (p[k].revents == 0 || it == NULL || it->events == 0)
				continue;
			if (p[k].revents & KRS_POLLNVAL) {
				krk_ep_remove(ep, it);
				continue;
			}
			uint32_t r = (uint32_t)p[k].revents &
			    (it->events | EPOLLERR | EPOLLHUP);
			if ((p[k].revents & KRS_POLLHUP) &&
			    (it->events & EPOLLRDHUP))
				r |= EPOLLRDHUP;
			if (r == 0)
				continue;
			evs[got].events = r;
			evs[got].data.u64 = it->data;
			got++;
			if (it->events & EPOLLONESHOT)
				it->events = 0;
		}
		pthread_mutex_unlock(&ep->lock);
	} else if (e == 0)
		e = EBADF;
	if (p != small)
		free(p);
	krk_sys_exit();
	return e != 0 ? krk_sys_fail(e) : got;
}

void
krk_sys_epoll_forget(int fd)
{
	const struct krk_iso *me = krk_owner();

	if (krk_ep_live == 0)
		return;
	pthread_mutex_lock(&krk_eptab_lock);
	for (int i = 0; i < KRK_EPOLL_MAX; i++) {
		struct krk_epoll *ep = krk_eptab[i];
		struct krk_epitem *it;

		if (ep == NULL || ep->owner != me)
			continue;
		pthread_mutex_lock(&ep->lock);
		if ((it = krk_ep_find(ep, fd)) != NULL)
			krk_ep_remove(ep, it);
		pthread_mutex_unlock(&ep->lock);
	}
	pthread_mutex_unlock(&krk_eptab_lock);
}

void
krk_sys_release(const struct krk_iso *iso)
{
	pthread_mutex_lock(&krk_eptab_lock);
	for (int i = 0; i < KRK_EPOLL_MAX; i++)
		if (krk_eptab[i] != NULL && krk_eptab[i]->owner == iso) {
			krk_ep_free(krk_eptab[i]);
			krk_eptab[i] = NULL;
			krk_ep_live--;
		}
	pthread_mutex_unlock(&krk_eptab_lock);
}
