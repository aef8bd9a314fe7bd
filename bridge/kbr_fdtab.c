/*
 * kbr_fdtab.c - the preload library's descriptor table and epoll shadow
 * lists (kbr_fdtab.h).  No libkrank and no interposed calls here: the
 * interposers in kbr_preload*.c consult this, and test_kbr_fdtab checks
 * it alone under ASan and UBSan.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "kbr_fdtab.h"

/* One entry per descriptor number.  kfd holds KRANK's descriptor + 1 (0:
 * not a placeholder), so that zero-filled memory is an empty table. */
struct kbr_held;
struct kbr_fdent {
	_Atomic int32_t kfd1;
	_Atomic uint32_t flags;
	struct kbr_held *_Atomic held;	/* data a poll fetched, or NULL */
	_Atomic uint32_t aout;		/* async bytes not completed */
	_Atomic uint32_t await;		/* bytes waiting in KRANK */
	_Atomic int aerr;		/* a completion's error */
};

/* Bytes buf[off..len) and an error after them, under lock; avail mirrors
 * len - off (+1 with an error) for a look without the lock; refs counts
 * the descriptors sharing it (dup).  Recycled through kbr_held_free. */
struct kbr_held {
	pthread_mutex_t lock;
	_Atomic size_t avail;
	_Atomic unsigned refs;
	size_t off, len, cap;
	int err;
	char *buf;
	struct kbr_held *next;		/* kbr_held_free */
};
static struct kbr_held *kbr_held_free;
static pthread_mutex_t kbr_held_lock = PTHREAD_MUTEX_INITIALIZER;
static void kbr_held_unref(struct kbr_held *h);

static struct kbr_fdent *_Atomic kbr_tab;
static size_t kbr_tab_size;
static _Atomic bool kbr_tab_used;
static pthread_mutex_t kbr_tab_lock = PTHREAD_MUTEX_INITIALIZER;

int
kbr_fdtab_init(size_t size)
{
	int e = 0;

	pthread_mutex_lock(&kbr_tab_lock);
	if (atomic_load(&kbr_tab) == NULL) {
		void *p = mmap(NULL, size * sizeof(struct kbr_fdent),
		    PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (p == MAP_FAILED)
			e = ENOMEM;
		else {
			kbr_tab_size = size;
			atomic_store(&kbr_tab, p);
		}
	}
	pthread_mutex_unlock(&kbr_tab_lock);
	return e;
}

size_t
kbr_fdtab_size(void)
{
	return atomic_load(&kbr_tab) != NULL ? kbr_tab_size : 0;
}

static struct kbr_fdent *
kbr_ent(int fd)
{
	struct kbr_fdent *t = atomic_load_explicit(&kbr_tab,
	    memory_order_acquire);

	if (t == NULL || fd < 0 || (size_t)fd >= kbr_tab_size)
		return NULL;
	return &t[fd];
}

int
kbr_fdtab_set(int fd, int kfd, uint32_t flags)
{
	struct kbr_fdent *e = kbr_ent(fd);

	if (e == NULL || kfd < 0)
		return EBADF;
	atomic_store_explicit(&e->flags, flags, memory_order_relaxed);
	atomic_store(&e->aout, 0);
	atomic_store(&e->await, 0);
	atomic_store(&e->aerr, 0);
	atomic_store_explicit(&e->kfd1, kfd + 1, memory_order_release);
	atomic_store_explicit(&kbr_tab_used, true, memory_order_relaxed);
	return 0;
}

bool
kbr_fdtab_get(int fd, int *kfdp, uint32_t *flagsp)
{
	struct kbr_fdent *e;
	int32_t k;

	if (!atomic_load_explicit(&kbr_tab_used, memory_order_relaxed) ||
	    (e = kbr_ent(fd)) == NULL)
		return false;
	k = atomic_load_explicit(&e->kfd1, memory_order_acquire);
	if (k == 0)
		return false;
	if (kfdp != NULL)
		*kfdp = k - 1;
	if (flagsp != NULL)
		*flagsp = atomic_load_explicit(&e->flags,
		    memory_order_relaxed);
	return true;
}

void
kbr_fdtab_clear(int fd)
{
	struct kbr_fdent *e = kbr_ent(fd);

	if (e != NULL) {
		atomic_store_explicit(&e->kfd1, 0, memory_order_release);
		atomic_store_explicit(&e->flags, 0, memory_order_relaxed);
		atomic_store(&e->aout, 0);
		atomic_store(&e->await, 0);
		atomic_store(&e->aerr, 0);
		struct kbr_held *h = atomic_exchange(&e->held, NULL);
		if (h != NULL)
			kbr_held_unref(h);
	}
}

void
kbr_fdtab_flags_set(int fd, uint32_t bits)
{
	struct kbr_fdent *e = kbr_ent(fd);

	if (e != NULL)
		atomic_fetch_or(&e->flags, bits);
}

void
kbr_fdtab_flags_clear(int fd, uint32_t bits)
{
	struct kbr_fdent *e = kbr_ent(fd);

	if (e != NULL)
		atomic_fetch_and(&e->flags, ~bits);
}

size_t
kbr_fdtab_mark_dead(void)
{
	struct kbr_fdent *t = atomic_load(&kbr_tab);
	size_t n = 0;

	if (t == NULL || !atomic_load(&kbr_tab_used))
		return 0;
	for (size_t i = 0; i < kbr_tab_size; i++)
		if (atomic_load_explicit(&t[i].kfd1, memory_order_relaxed)) {
			atomic_fetch_or(&t[i].flags, KBR_FD_DEAD);
			n++;
		}
	return n;
}

/* ---- asynchronous sends ------------------------------------------------------ */

bool
kbr_async_take(int fd, size_t len, size_t credit)
{
	struct kbr_fdent *e = kbr_ent(fd);

	if (e == NULL || atomic_load(&e->aerr) != 0 ||
	    atomic_load(&e->await) != 0 || len > credit ||
	    atomic_load(&e->aout) > credit - len)
		return false;
	atomic_fetch_add(&e->aout, (uint32_t)len);
	return true;
}

void
kbr_async_done(int fd, size_t len, int64_t res)
{
	struct kbr_fdent *e = kbr_ent(fd);

	if (e == NULL)
		return;
	uint32_t o = atomic_load(&e->aout);
	atomic_store(&e->aout, o > len ? o - (uint32_t)len : 0);
	if (res < 0)
		atomic_store(&e->aerr, (int)-res);
	else
		atomic_store(&e->await, res > UINT32_MAX ? UINT32_MAX :
		    (uint32_t)res);
}

int
kbr_async_error(int fd)
{
	struct kbr_fdent *e = kbr_ent(fd);

	return e != NULL && atomic_load_explicit(&e->aerr,
	    memory_order_relaxed) != 0 ? atomic_exchange(&e->aerr, 0) : 0;
}

void
kbr_async_sent(int fd)
{
	struct kbr_fdent *e = kbr_ent(fd);

	if (e != NULL)
		atomic_store(&e->await, 0);
}

size_t
kbr_async_out(int fd)
{
	struct kbr_fdent *e = kbr_ent(fd);

	return e == NULL ? 0 : (size_t)atomic_load(&e->aout) +
	    atomic_load(&e->await);
}

/* ---- held data ------------------------------------------------------------ */

void
kbr_held_fork_child(void)
{
	struct kbr_fdent *t = atomic_load(&kbr_tab);

	/* The only thread now: locks other threads held at the fork are
	 * nobody's; made anew. */
	pthread_mutex_init(&kbr_held_lock, NULL);
	if (t == NULL)
		return;
	for (size_t i = 0; i < kbr_tab_size; i++) {
		struct kbr_held *h = atomic_exchange(&t[i].held, NULL);
		if (h != NULL && atomic_fetch_sub(&h->refs, 1) == 1) {
			pthread_mutex_init(&h->lock, NULL);
			free(h->buf);
			h->buf = NULL;
			h->off = h->len = h->cap = 0;
			h->err = 0;
			atomic_store(&h->avail, 0);
			h->next = kbr_held_free;
			kbr_held_free = h;
		}
	}
}

static void
kbr_held_unref(struct kbr_held *h)
{
	if (atomic_fetch_sub(&h->refs, 1) != 1)
		return;
	pthread_mutex_lock(&h->lock);
	free(h->buf);
	h->buf = NULL;
	h->off = h->len = h->cap = 0;
	h->err = 0;
	atomic_store(&h->avail, 0);
	pthread_mutex_unlock(&h->lock);
	pthread_mutex_lock(&kbr_held_lock);
	h->next = kbr_held_free;
	kbr_held_free = h;
	pthread_mutex_unlock(&kbr_held_lock);
}

static struct kbr_held *
kbr_held_of(int fd)
{
	struct kbr_fdent *e = kbr_ent(fd);

	return e != NULL ? atomic_load_explicit(&e->held,
	    memory_order_acquire) : NULL;
}

bool
kbr_held_reserve(int fd, size_t cap)
{
	struct kbr_fdent *e = kbr_ent(fd);
	struct kbr_held *h;

	if (e == NULL || atomic_load(&e->kfd1) == 0)
		return false;
	if ((h = atomic_load(&e->held)) == NULL) {
		pthread_mutex_lock(&kbr_held_lock);
		if ((h = kbr_held_free) != NULL)
			kbr_held_free = h->next;
		pthread_mutex_unlock(&kbr_held_lock);
		if (h == NULL) {
			if ((h = calloc(1, sizeof(*h))) == NULL)
				return false;
			pthread_mutex_init(&h->lock, NULL);
		}
		atomic_store(&h->refs, 1);
		struct kbr_held *none = NULL;
		if (!atomic_compare_exchange_strong(&e->held, &none, h)) {
			kbr_held_unref(h);	/* another poll made one */
			h = none;
		}
	}
	pthread_mutex_lock(&h->lock);
	if (h->cap - h->len < cap && h->off == h->len) {
		h->off = h->len = 0;
	}
	if (h->cap - h->len < cap) {
		char *b = realloc(h->buf, h->len + cap);
		if (b == NULL) {
			pthread_mutex_unlock(&h->lock);
			return false;
		}
		h->buf = b;
		h->cap = h->len + cap;
	}
	pthread_mutex_unlock(&h->lock);
	return true;
}

int
kbr_held_add(int fd, const void *data, size_t n, int err)
{
	struct kbr_held *h = kbr_held_of(fd);

	if (h == NULL)
		return EBADF;
	pthread_mutex_lock(&h->lock);
	if (h->err != 0) {
		/* Nothing comes after an error (a second poll raced). */
		pthread_mutex_unlock(&h->lock);
		return 0;
	}
	if (n > h->cap - h->len) {
		char *b = realloc(h->buf, h->len + n);
		if (b == NULL) {
			h->err = ENOMEM;
			atomic_store(&h->avail, h->len - h->off + 1);
			pthread_mutex_unlock(&h->lock);
			return ENOMEM;
		}
		h->buf = b;
		h->cap = h->len + n;
	}
	if (n > 0)
		memcpy(h->buf + h->len, data, n);
	h->len += n;
	h->err = err;
	atomic_store(&h->avail, h->len - h->off + (h->err != 0));
	pthread_mutex_unlock(&h->lock);
	return 0;
}

long
kbr_held_take(int fd, void *buf, size_t len, bool peek, int *errp)
{
	struct kbr_held *h = kbr_held_of(fd);
	long v = 0;

	if (h == NULL || atomic_load_explicit(&h->avail,
	    memory_order_acquire) == 0 || len == 0)
		return 0;
	pthread_mutex_lock(&h->lock);
	size_t k = h->len - h->off;
	if (k > 0) {
		if (k > len)
			k = len;
		memcpy(buf, h->buf + h->off, k);
		if (!peek)
			h->off += k;
		v = (long)k;
	} else if (h->err != 0) {
		*errp = h->err;
		if (!peek)
			h->err = 0;
		v = -1;
	}
	if (h->off == h->len)
		h->off = h->len = 0;
	atomic_store(&h->avail, h->len - h->off + (h->err != 0));
	pthread_mutex_unlock(&h->lock);
	return v;
}

size_t
kbr_held_avail(int fd)
{
	struct kbr_held *h = kbr_held_of(fd);

	return h != NULL ? atomic_load_explicit(&h->avail,
	    memory_order_acquire) : 0;
}

void
kbr_held_share(int from, int to)
{
	struct kbr_fdent *e = kbr_ent(to);
	struct kbr_held *h;

	if (e == NULL || !kbr_held_reserve(from, 0) ||
	    (h = kbr_held_of(from)) == NULL)
		return;
	atomic_fetch_add(&h->refs, 1);
	struct kbr_held *old = atomic_exchange(&e->held, h);
	if (old != NULL)
		kbr_held_unref(old);
}

bool
kbr_fdtab_any(void)
{
	return atomic_load_explicit(&kbr_tab_used, memory_order_relaxed);
}

/* ---- epoll shadows ------------------------------------------------------- */

struct kbr_eitem {
	int fd, kfd;
	struct epoll_event ev;
	uint32_t last;		/* EPOLLET: ready at the previous wait */
	bool off;		/* EPOLLONESHOT fired: until MOD */
};

/* A shadow's items are guarded by its lock; the registry list by
 * kbr_esh_lock, taken before a shadow's lock. */
struct kbr_esh {
	int epfd;
	pthread_mutex_t lock;
	struct kbr_eitem *it;
	size_t n, cap;
	size_t rot;		/* next snapshot starts here */
	size_t nlinux;		/* Linux descriptors in the kernel's list */
	struct kbr_esh *next;
};

static struct kbr_esh *kbr_esh_list;
static pthread_mutex_t kbr_esh_lock = PTHREAD_MUTEX_INITIALIZER;

/* The epoll events a table entry's re-arm flags stand for. */
static uint32_t
kbr_rearm_bits(uint32_t flags)
{
	uint32_t r = 0;

	if (flags & KBR_FD_REARM_IN)
		r |= EPOLLIN | EPOLLRDHUP;
	if (flags & KBR_FD_REARM_OUT)
		r |= EPOLLOUT;
	return r;
}

struct kbr_esh *
kbr_esh_find(int epfd, bool create)
{
	struct kbr_esh *sh;

	pthread_mutex_lock(&kbr_esh_lock);
	for (sh = kbr_esh_list; sh != NULL; sh = sh->next)
		if (sh->epfd == epfd)
			break;
	if (sh == NULL && create && (sh = calloc(1, sizeof(*sh))) != NULL) {
		sh->epfd = epfd;
		pthread_mutex_init(&sh->lock, NULL);
		sh->next = kbr_esh_list;
		kbr_esh_list = sh;
	}
	pthread_mutex_unlock(&kbr_esh_lock);
	if (sh == NULL && create)
		errno = ENOMEM;
	return sh;
}

/*
 * A shadow is freed only when its epoll descriptor is closed; a thread
 * still waiting on it then is the program's race, as it would be with
 * the kernel's epoll (we keep it from touching freed memory by never
 * freeing while the registry lists it, and waiters hold the pointer
 * only between find and collect).
 */
void
kbr_esh_destroy(int epfd)
{
	struct kbr_esh **pp, *sh = NULL;

	pthread_mutex_lock(&kbr_esh_lock);
	for (pp = &kbr_esh_list; *pp != NULL; pp = &(*pp)->next)
		if ((*pp)->epfd == epfd) {
			sh = *pp;
			*pp = sh->next;
			break;
		}
	pthread_mutex_unlock(&kbr_esh_lock);
	if (sh != NULL) {
		pthread_mutex_destroy(&sh->lock);
		free(sh->it);
		free(sh);
	}
}

static struct kbr_eitem *
kbr_esh_item(struct kbr_esh *sh, int fd)
{
	for (size_t i = 0; i < sh->n; i++)
		if (sh->it[i].fd == fd)
			return &sh->it[i];
	return NULL;
}

int
kbr_esh_ctl(struct kbr_esh *sh, int op, int fd, int kfd,
    const struct epoll_event *ev)
{
	struct kbr_eitem *it;
	int e = 0;

	if (op != EPOLL_CTL_DEL && (ev == NULL ||
	    (ev->events & EPOLLEXCLUSIVE) != 0))
		return EINVAL;
	pthread_mutex_lock(&sh->lock);
	it = kbr_esh_item(sh, fd);
	switch (op) {
	case EPOLL_CTL_ADD:
		if (it != NULL) {
			e = EEXIST;
			break;
		}
		if (sh->n == sh->cap) {
			size_t cap = sh->cap ? sh->cap * 2 : 8;
			void *p = realloc(sh->it, cap * sizeof(*sh->it));
			if (p == NULL) {
				e = ENOMEM;
				break;
			}
			sh->it = p;
			sh->cap = cap;
		}
		it = &sh->it[sh->n++];
		memset(it, 0, sizeof(*it));
		it->fd = fd;
		it->kfd = kfd;
		it->ev = *ev;
		break;
	case EPOLL_CTL_MOD:
		if (it == NULL) {
			e = ENOENT;
			break;
		}
		it->ev = *ev;
		it->kfd = kfd;
		it->last = 0;
		it->off = false;
		break;
	case EPOLL_CTL_DEL:
		if (it == NULL) {
			e = ENOENT;
			break;
		}
		*it = sh->it[--sh->n];
		break;
	default:
		e = EINVAL;
	}
	pthread_mutex_unlock(&sh->lock);
	return e;
}

size_t
kbr_esh_count(struct kbr_esh *sh)
{
	size_t n;

	pthread_mutex_lock(&sh->lock);
	n = sh->n;
	pthread_mutex_unlock(&sh->lock);
	return n;
}

void
kbr_esh_linux(struct kbr_esh *sh, int delta)
{
	pthread_mutex_lock(&sh->lock);
	if (delta > 0)
		sh->nlinux++;
	else if (sh->nlinux > 0)
		sh->nlinux--;
	pthread_mutex_unlock(&sh->lock);
}

size_t
kbr_esh_linux_count(struct kbr_esh *sh)
{
	size_t n;

	pthread_mutex_lock(&sh->lock);
	n = sh->nlinux;
	pthread_mutex_unlock(&sh->lock);
	return n;
}

size_t
kbr_esh_snapshot(struct kbr_esh *sh, struct pollfd *kfds, int *fds,
    size_t max)
{
	size_t k = 0;

	pthread_mutex_lock(&sh->lock);
	if (sh->n > 0) {
		size_t start = sh->rot % sh->n;
		for (size_t j = 0; j < sh->n && k < max; j++) {
			struct kbr_eitem *it = &sh->it[(start + j) % sh->n];
			uint32_t want = it->ev.events, fl;
			if (it->off)
				continue;
			/* EPOLLET: an event reported and not re-armed since
			 * is not asked for again, so that a wait does not
			 * return at once, and again, for a level that stays
			 * high. */
			if ((want & EPOLLET) &&
			    kbr_fdtab_get(it->fd, NULL, &fl))
				want &= ~(it->last & ~kbr_rearm_bits(fl));
			kfds[k].fd = it->kfd;
			kfds[k].events = kbr_ev_to_poll(want);
			kfds[k].revents = 0;
			fds[k] = it->fd;
			k++;
		}
		sh->rot = start + 1;
	}
	pthread_mutex_unlock(&sh->lock);
	return k;
}

int
kbr_esh_collect(struct kbr_esh *sh, const struct pollfd *kfds,
    const int *fds, size_t n, struct epoll_event *out, int max)
{
	int k = 0;

	pthread_mutex_lock(&sh->lock);
	for (size_t i = 0; i < n && k < max; i++) {
		struct kbr_eitem *it;
		uint32_t ev, rep, flags;
		if ((it = kbr_esh_item(sh, fds[i])) == NULL || it->off ||
		    it->kfd != kfds[i].fd)
			continue;	/* deleted or changed meanwhile */
		ev = kbr_poll_to_ev(kfds[i].revents, it->ev.events);
		rep = ev;
		if (it->ev.events & EPOLLET) {
			uint32_t rearm = 0, polled;
			if (kbr_fdtab_get(fds[i], NULL, &flags)) {
				rearm = kbr_rearm_bits(flags);
				if (rearm != 0)
					kbr_fdtab_flags_clear(fds[i],
					    KBR_FD_REARM_IN |
					    KBR_FD_REARM_OUT);
			}
			rep = ev & (~it->last | rearm);
			/* What was not asked for keeps its last level. */
			polled = (uint16_t)kfds[i].events;
			if (polled & EPOLLIN)
				polled |= EPOLLRDHUP;
			it->last = (ev & (polled | EPOLLERR | EPOLLHUP)) |
			    (it->last & ~polled & ~(uint32_t)(EPOLLERR |
			    EPOLLHUP));
		}
		if (rep == 0)
			continue;
		out[k].events = rep;
		out[k].data = it->ev.data;
		k++;
		if (it->ev.events & EPOLLONESHOT)
			it->off = true;
	}
	pthread_mutex_unlock(&sh->lock);
	return k;
}

void
kbr_esh_forget_fd(int fd)
{
	pthread_mutex_lock(&kbr_esh_lock);
	for (struct kbr_esh *sh = kbr_esh_list; sh != NULL; sh = sh->next)
		(void)kbr_esh_ctl(sh, EPOLL_CTL_DEL, fd, -1, NULL);
	pthread_mutex_unlock(&kbr_esh_lock);
}

void
kbr_esh_reset(void)
{
	/* A fork child: other threads of the parent are gone, and a lock
	 * one of them held would never be released. */
	pthread_mutex_init(&kbr_esh_lock, NULL);
	while (kbr_esh_list != NULL) {
		struct kbr_esh *sh = kbr_esh_list;
		kbr_esh_list = sh->next;
		free(sh->it);
		free(sh);
	}
}

short
kbr_ev_to_poll(uint32_t ev)
{
	return (short)(ev & (EPOLLIN | EPOLLPRI | EPOLLOUT));
}

uint32_t
kbr_poll_to_ev(short revents, uint32_t want)
{
	uint32_t r = (uint16_t)revents;
	uint32_t ev = r & (EPOLLIN | EPOLLPRI | EPOLLOUT) & want;

	/* Errors and hang-ups are reported whether asked for or not. */
	ev |= r & (EPOLLERR | EPOLLHUP);
	if ((r & POLLNVAL) != 0)
		ev |= EPOLLERR;
	if ((r & POLLHUP) != 0 && (want & EPOLLRDHUP) != 0)
		ev |= EPOLLRDHUP;
	return ev;
}
