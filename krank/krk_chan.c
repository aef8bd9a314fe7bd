/*
 * krk_chan.c - zero-copy channels between isolates (krk_chan.h): names,
 * buffer pools in memfd regions, the ownership of every buffer.  The
 * moving parts are rumpdrv's channel (krs_chan_*): its forward ring
 * carries (offset, len) of sent buffers, its return ring the offsets of
 * released ones, and it does all waiting and poll readiness, so a send
 * end polls writable exactly when a buffer can be allocated.
 *
 * Locking: krk_chan_lock protects the list of channels, their names
 * (kc_named) and every kc_parked.
 * A buffer has two state words, one per side: the send side's (free to
 * it, or allocated by an owner) and the receive side's (not here, or
 * received by an owner).  Each is written only by the threads of its
 * side, so a message moves no state line between the two cores; the
 * rings hand a buffer from one side to the other.  A state word changes
 * only by compare-and-swap on that side's own line, which is what makes
 * a double release or a release of someone else's buffer fail cleanly
 * even when two threads of one side race.  The rest of a channel is
 * constant from create to free; kc_ends (atomic) counts its open ends
 * and the last close frees it.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <krank/hyp.h>
#include <krank/hyp_relax.h>
#include <krank/krs.h>

#include "krk.h"
#include "krk_chan.h"

_Static_assert(KRK_CHAN_RECV == KRS_CHAN_RECV &&
    KRK_CHAN_SEND == KRS_CHAN_SEND, "channel end numbers differ");
_Static_assert((uint64_t)KRK_CHAN_NBUFS_MAX <= KRS_CHAN_DEPTH_MAX,
    "a pool outgrows its ring");

/* A buffer's state on one side: its kind in the low two bits, its
 * holder above.  ST_FREE on both sides: free in the pool, queued, or
 * on its way back. */
#define ST_FREE		0u
#define ST_SEND		1u		/* allocated, held by the sender */
#define ST_RECV		3u		/* received, held by the receiver */
#define ST_OWNER_MASK	0x3fffffffu
#define ST(kind, owner)	((kind) | (((owner) & ST_OWNER_MASK) << 2))

/* A wait on an isolate thread is cut into slices this long, with a kill
 * check between them (as krk_sys_poll's). */
#define KRK_CHAN_SLICE_MS 50

/*
 * A side's guard: the threads of one side (the send end's alloc and send;
 * the receive end's recv and release, and the rare give-back of an unsent
 * buffer through the send end, which pushes on the same return ring) go
 * through it one at a time, which is what krs_chan_hooks.ch_serial
 * promises the rings.  Biased to the first thread that uses it: while
 * no other thread has come, that thread marks itself busy with a plain
 * store and looks whether the side became shared, with a compiler barrier
 * between (the light half of hyp_membarrier's asymmetric fence), so a
 * message costs no locked instruction.  A second thread marks the side
 * revoking, issues the membarrier (either the owner sees the mark or the
 * thread sees it busy), waits until it is not busy and marks the side
 * shared; every thread of the side (the owner too) waits for that mark
 * and from then on takes ks_lock.  Without membarrier (or under
 * ThreadSanitizer) every call takes ks_lock.
 */
#define KS_BIASED	0		/* ks_owner alone, unlocked */
#define KS_REVOKING	1		/* a second thread waits for it */
#define KS_SHARED	2		/* it is out for good: ks_lock */

struct krk_side {
	_Atomic uintptr_t ks_owner __attribute__((aligned(64)));
	_Atomic int ks_busy;		/* the owner is inside */
	_Atomic int ks_shared;		/* KS_* */
	_Atomic int ks_lock;
	_Atomic uint64_t ks_count;	/* sent; received */
	_Atomic uint64_t ks_released;	/* RECV's: released */
};

struct krk_chan {
	char kc_name[KRK_CHAN_NAME_MAX];
	int kc_memfd;
	uint8_t *kc_base;		/* KRANK's mapping of the pool */
	size_t kc_size;			/* nbufs * stride */
	size_t kc_maplen;		/* kc_size in whole pages */
	uint32_t kc_nbufs, kc_bufsize, kc_stride;
	/* Per buffer and side (KRK_CHAN_RECV, KRK_CHAN_SEND), ST_*, in
	 * buffer order, each side's array on lines of its own: written by
	 * that side's threads only. */
	_Atomic uint32_t *kc_state[2];
	uint32_t kc_lines;		/* cache lines of states, per side */
	_Atomic uint64_t kc_bad;
	/* Per side: its guard and its counters, written by that side only
	 * (under the guard), on lines of their own. */
	struct krk_side kc_side[2];
	_Atomic int kc_ends;		/* ends not yet closed */
	_Atomic int kc_closed[2];	/* per end */
	/* krk_chan_lock: */
	struct krk_chan *kc_next;	/* every channel alive */
	bool kc_linked;
	bool kc_named;			/* the name is taken by it */
	struct krs_chan *kc_parked;	/* the send end before it is opened */
};

#define kc_sent kc_side[KRK_CHAN_SEND].ks_count
#define kc_received kc_side[KRK_CHAN_RECV].ks_count
#define kc_released kc_side[KRK_CHAN_RECV].ks_released

#define KRK_CHAN_STATES_PER_LINE 16u
#define KRK_CHAN_STATE(kc, end, i) (&(kc)->kc_state[(end)][(i)])

static pthread_mutex_t krk_chan_lock = PTHREAD_MUTEX_INITIALIZER;
static struct krk_chan *krk_chans;	/* every channel alive */

static void krk_chan_closed(void *arg, int end);
static const struct krs_chan_hooks krk_chan_hooks = {
	.ch_close = krk_chan_closed,
	.ch_serial = 1,			/* krk_side_enter */
};

/* ---- side guards ------------------------------------------------------ */

static bool krk_chan_asym;		/* hyp_membarrier usable */
static pthread_once_t krk_chan_once = PTHREAD_ONCE_INIT;
static __thread char krk_chan_me;	/* its address names the thread */

static void
krk_chan_init(void)
{
#if !defined(__SANITIZE_THREAD__)
	krk_chan_asym = hyp_membarrier_init() != 0;
#endif
}

/* Into side s for a call that does not wait: true when alone by bias
 * (krk_side_exit needs it). */
static bool
krk_side_enter(struct krk_side *s)
{
	if (krk_chan_asym) {
		int sh = atomic_load_explicit(&s->ks_shared,
		    memory_order_acquire);
		uintptr_t me = (uintptr_t)&krk_chan_me, o = atomic_load_explicit(
		    &s->ks_owner, memory_order_relaxed);
		if (sh == KS_BIASED && o == 0 &&
		    atomic_compare_exchange_strong(&s->ks_owner, &o, me))
			o = me;		/* the first thread: once */
		if (sh == KS_BIASED && o != me) {
			/* A second thread: the first to come revokes. */
			int z = KS_BIASED;
			if (atomic_compare_exchange_strong(&s->ks_shared, &z,
			    KS_REVOKING)) {
				hyp_membarrier();
				while (atomic_load_explicit(&s->ks_busy,
				    memory_order_acquire))
					hyp_cpu_relax();
				atomic_store_explicit(&s->ks_shared, KS_SHARED,
				    memory_order_release);
			}
		} else if (sh == KS_BIASED) {
			atomic_store_explicit(&s->ks_busy, 1,
			    memory_order_relaxed);
			atomic_signal_fence(memory_order_seq_cst);
			if (atomic_load_explicit(&s->ks_shared,
			    memory_order_acquire) == KS_BIASED)
				return true;
			atomic_store_explicit(&s->ks_busy, 0,
			    memory_order_release);
		}
		/* Only once the owner is out for good does the lock alone
		 * keep the side. */
		while (atomic_load_explicit(&s->ks_shared,
		    memory_order_acquire) != KS_SHARED)
			hyp_cpu_relax();
	}
	while (atomic_exchange_explicit(&s->ks_lock, 1, memory_order_acquire))
		while (atomic_load_explicit(&s->ks_lock, memory_order_relaxed))
			hyp_cpu_relax();
	return false;
}

static void
krk_side_exit(struct krk_side *s, bool biased)
{
	atomic_store_explicit(biased ? &s->ks_busy : &s->ks_lock, 0,
	    memory_order_release);
}

/* One more on a side's counter: under its guard, so no locked add. */
static void
krk_side_count(_Atomic uint64_t *n, int64_t d)
{
	atomic_store_explicit(n, atomic_load_explicit(n, memory_order_relaxed) +
	    (uint64_t)d, memory_order_relaxed);
}

/* Under a side's guard: its state of a buffer from want to to, or false. */
static bool
krk_side_move(_Atomic uint32_t *sp, uint32_t want, uint32_t to)
{
	if (atomic_load_explicit(sp, memory_order_relaxed) != want)
		return false;
	atomic_store_explicit(sp, to, memory_order_relaxed);
	return true;
}

/* ---- pools ------------------------------------------------------------ */

static void
krk_chan_free(struct krk_chan *kc)
{
	if (kc->kc_base != NULL)
		munmap(kc->kc_base, kc->kc_maplen);
	if (kc->kc_memfd >= 0)
		close(kc->kc_memfd);
	free((void *)kc->kc_state[0]);
	free((void *)kc->kc_state[1]);
	free(kc);
}

static int
krk_chan_alloc_pool(struct krk_chan *kc, uint32_t nbufs, uint32_t bufsize)
{
	kc->kc_nbufs = nbufs;
	kc->kc_bufsize = bufsize;
	kc->kc_stride = (bufsize + 63u) & ~63u;
	kc->kc_size = (size_t)nbufs * kc->kc_stride;
	if ((uint64_t)kc->kc_size > KRK_CHAN_POOL_MAX)
		return EINVAL;
	kc->kc_lines = (nbufs + KRK_CHAN_STATES_PER_LINE - 1) /
	    KRK_CHAN_STATES_PER_LINE;
	for (int end = 0; end < 2; end++) {
		kc->kc_state[end] = aligned_alloc(64,
		    (size_t)kc->kc_lines * 64);
		if (kc->kc_state[end] == NULL)
			return ENOMEM;
		memset((void *)kc->kc_state[end], 0,
		    (size_t)kc->kc_lines * 64);
	}
	char mname[KRK_CHAN_NAME_MAX + 16];
	snprintf(mname, sizeof(mname), "krank-chan:%s", kc->kc_name);
	kc->kc_memfd = memfd_create(mname, MFD_CLOEXEC);
	if (kc->kc_memfd < 0)
		return errno;
	size_t len = (kc->kc_size + 4095) & ~(size_t)4095;
	if (ftruncate(kc->kc_memfd, (off_t)len) != 0)
		return errno;
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED,
	    kc->kc_memfd, 0);
	if (p == MAP_FAILED)
		return errno;
	kc->kc_base = p;
	kc->kc_maplen = len;
	return 0;
}

/* The buffer index of offset off, or -1 when off is not a buffer's start. */
static int64_t
krk_chan_index(const struct krk_chan *kc, uint64_t off)
{
	if (off >= (uint64_t)kc->kc_nbufs * kc->kc_stride ||
	    off % kc->kc_stride != 0)
		return -1;
	return (int64_t)(off / kc->kc_stride);
}

/* A pointer's offset, or UINT64_MAX when it is not inside the pool. */
static uint64_t
krk_chan_ptroff(const struct krk_chan *kc, const void *ptr)
{
	uintptr_t p = (uintptr_t)ptr, b = (uintptr_t)kc->kc_base;
	if (p < b || p - b >= (uint64_t)kc->kc_nbufs * kc->kc_stride)
		return UINT64_MAX;
	return p - b;
}

static int
krk_chan_bad(struct krk_chan *kc)
{
	atomic_fetch_add_explicit(&kc->kc_bad, 1, memory_order_relaxed);
	return EINVAL;
}

/* Return every buffer held through one end to free: that end closed
 * (no call on it runs any more: each holds a reference to it). */
static void
krk_chan_reclaim_end(struct krk_chan *kc, int end)
{
	for (uint32_t i = 0; i < kc->kc_nbufs; i++)
		atomic_store_explicit(KRK_CHAN_STATE(kc, end, i), ST_FREE,
		    memory_order_release);
}

/* ---- ends closing ------------------------------------------------------- */

static void
krk_chan_drop(struct krk_chan *kc)
{
	if (atomic_fetch_sub(&kc->kc_ends, 1) != 1)
		return;
	pthread_mutex_lock(&krk_chan_lock);
	if (kc->kc_linked) {
		struct krk_chan **pp = &krk_chans;
		while (*pp != kc)
			pp = &(*pp)->kc_next;
		*pp = kc->kc_next;
	}
	pthread_mutex_unlock(&krk_chan_lock);
	krk_chan_free(kc);
}

/* rumpdrv's hook: the last reference to an end went away (close, a
 * context destroyed at an isolate's death).  No krs lock is held. */
static void
krk_chan_closed(void *arg, int end)
{
	struct krk_chan *kc = arg;
	struct krs_chan *parked = NULL;

	atomic_store(&kc->kc_closed[end], 1);
	if (end == KRK_CHAN_SEND) {
		/* What the sender allocated and never sent. */
		krk_chan_reclaim_end(kc, KRK_CHAN_SEND);
	} else {
		/* The channel is over: the name goes, a send end nobody
		 * opened is closed, and what was held by the receiver
		 * returns to the pool (what was queued stays in the ring
		 * nobody reads). */
		pthread_mutex_lock(&krk_chan_lock);
		kc->kc_named = false;
		parked = kc->kc_parked;
		kc->kc_parked = NULL;
		pthread_mutex_unlock(&krk_chan_lock);
		krk_chan_reclaim_end(kc, KRK_CHAN_RECV);
		if (parked != NULL)
			krs_chan_put(parked);	/* runs this hook for SEND */
	}
	krk_chan_drop(kc);
}

/* ---- names ---------------------------------------------------------- */

static int
krk_chan_name_ok(const char *name)
{
	if (name == NULL)
		return EFAULT;
	size_t n = strnlen(name, KRK_CHAN_NAME_MAX);
	if (n == 0 || n >= KRK_CHAN_NAME_MAX || strchr(name, '/') != NULL)
		return EINVAL;
	return 0;
}

static struct krk_chan *
krk_chan_lookup(const char *name)
{
	for (struct krk_chan *kc = krk_chans; kc != NULL; kc = kc->kc_next)
		if (kc->kc_named && strcmp(kc->kc_name, name) == 0)
			return kc;
	return NULL;
}

int
krk_chan_create(const char *name, uint32_t nbufs, uint32_t bufsize,
    int flags, int *fdp)
{
	int error, fds[2];
	struct krs_chan *rch, *wch;

	pthread_once(&krk_chan_once, krk_chan_init);
	if ((error = krk_chan_name_ok(name)) != 0)
		return error;
	if (fdp == NULL)
		return EFAULT;
	if (nbufs == 0 || nbufs > KRK_CHAN_NBUFS_MAX || bufsize == 0 ||
	    bufsize > KRK_CHAN_BUFSIZE_MAX ||
	    (flags & ~(KRS_O_NONBLOCK | KRS_O_CLOEXEC)))
		return EINVAL;
	pthread_mutex_lock(&krk_chan_lock);
	bool taken = krk_chan_lookup(name) != NULL;
	pthread_mutex_unlock(&krk_chan_lock);
	if (taken)
		return EEXIST;		/* checked again when published */
	struct krk_chan *kc = aligned_alloc(64, (sizeof(*kc) + 63) & ~63ul);
	if (kc == NULL)
		return ENOMEM;
	memset(kc, 0, sizeof(*kc));
	kc->kc_memfd = -1;
	snprintf(kc->kc_name, sizeof(kc->kc_name), "%s", name);
	if ((error = krk_chan_alloc_pool(kc, nbufs, bufsize)) != 0) {
		krk_chan_free(kc);
		return error;
	}
	if (krs_chan_create(nbufs, (flags & KRS_O_CLOEXEC) | KRS_CHAN_RETURN,
	    fds) != 0) {
		error = errno;
		krk_chan_free(kc);
		return error;
	}
	/* Both ends are ours alone until the name is published: fill the
	 * return ring with every buffer, park the send end. */
	if (krs_chan_get(fds[0], &rch, NULL, NULL) != 0 ||
	    krs_chan_get(fds[1], &wch, NULL, NULL) != 0) {
		error = errno;		/* not reached: we just made them */
		krs_close(fds[0]);
		krs_close(fds[1]);
		krk_chan_free(kc);
		return error;
	}
	for (uint32_t i = 0; i < nbufs; i++)
		(void)krs_chan_xreturn(rch, (uint64_t)i * kc->kc_stride);
	atomic_store(&kc->kc_ends, 2);
	krs_chan_attach(rch, &krk_chan_hooks, kc);
	krs_chan_put(rch);
	krs_close(fds[1]);		/* wch keeps the send end */

	pthread_mutex_lock(&krk_chan_lock);
	if (krk_chan_lookup(name) != NULL) {
		pthread_mutex_unlock(&krk_chan_lock);
		/* Closing both ends runs the hooks, which free kc. */
		krs_chan_put(wch);
		krs_close(fds[0]);
		return EEXIST;
	}
	kc->kc_parked = wch;
	kc->kc_named = true;
	kc->kc_linked = true;
	kc->kc_next = krk_chans;
	krk_chans = kc;
	pthread_mutex_unlock(&krk_chan_lock);
	if (flags & KRS_O_NONBLOCK)
		(void)krs_fcntl(fds[0], KRS_F_SETFL, KRS_O_NONBLOCK);
	*fdp = fds[0];
	return 0;
}

int
krk_chan_open(const char *name, int end, int flags, int *fdp)
{
	int error;
	if ((error = krk_chan_name_ok(name)) != 0)
		return error;
	if (fdp == NULL)
		return EFAULT;
	if ((end != KRK_CHAN_SEND && end != KRK_CHAN_RECV) ||
	    (flags & ~(KRS_O_NONBLOCK | KRS_O_CLOEXEC)))
		return EINVAL;
	pthread_mutex_lock(&krk_chan_lock);
	struct krk_chan *kc = krk_chan_lookup(name);
	struct krs_chan *ch = NULL;
	if (kc == NULL)
		error = ENOENT;
	else if (end == KRK_CHAN_RECV)
		error = EBUSY;
	else if (atomic_load(&kc->kc_closed[KRK_CHAN_SEND]))
		error = EPIPE;
	else if ((ch = kc->kc_parked) == NULL)
		error = EBUSY;
	else
		kc->kc_parked = NULL;
	pthread_mutex_unlock(&krk_chan_lock);
	if (error != 0)
		return error;
	int fd = krs_chan_install(ch, flags & KRS_O_CLOEXEC);
	if (fd < 0) {
		error = errno;
		pthread_mutex_lock(&krk_chan_lock);
		if (kc->kc_named && kc->kc_parked == NULL) {
			kc->kc_parked = ch;
			ch = NULL;
		}
		pthread_mutex_unlock(&krk_chan_lock);
		if (ch != NULL)
			krs_chan_put(ch);
		return error;
	}
	(void)krs_fcntl(fd, KRS_F_SETFL, flags & KRS_O_NONBLOCK);
	*fdp = fd;
	return 0;
}

/* ---- the calls on an end ------------------------------------------------ */

/*
 * Every call first tries without waiting and without a reference to the
 * end (krs_chan_peek: an RCU read-side section, so nothing on the end's
 * lines is written to look it up); only a call that has to wait takes a
 * reference and waits in slices.  That makes the common message four
 * calls that each write only the caller's side of the channel.
 */

/* The end at fd and its channel, referenced (krk_chan_put) or, with
 * peek, only looked at (krk_chan_put too); any end when want_end < 0,
 * its number in *endp (may be NULL).  EBADF, EINVAL. */
static int
krk_chan_get(int fd, int want_end, bool peek, struct krs_chan **chp,
    struct krk_chan **kcp, int *endp)
{
	int end;
	void *arg;
	*kcp = NULL;
	if ((peek ? krs_chan_peek(fd, chp, &end, &arg) :
	    krs_chan_get(fd, chp, &end, &arg)) != 0)
		return errno != 0 ? errno : EBADF;
	int error = arg == NULL ? EINVAL :	/* a bare krs channel */
	    want_end >= 0 && end != want_end ? EBADF : 0;
	if (error != 0) {
		if (peek)
			krs_chan_unpeek(*chp);
		else
			krs_chan_put(*chp);
		return error;
	}
	*kcp = arg;
	if (endp != NULL)
		*endp = end;
	return 0;
}

static void
krk_chan_put(struct krs_chan *ch, bool peek)
{
	if (peek)
		krs_chan_unpeek(ch);
	else
		krs_chan_put(ch);
}

/* The slice of a wait of timeout_ms still left at deadline (ms clock),
 * for one krs call. */
static int
krk_chan_slice(int timeout_ms)
{
	if (timeout_ms == 0)
		return 0;
	if (krk_self == NULL)
		return timeout_ms;
	return timeout_ms < 0 || timeout_ms > KRK_CHAN_SLICE_MS ?
	    KRK_CHAN_SLICE_MS : timeout_ms;
}

/* After a slice ended with EAGAIN: true when the call is over (its
 * time is up, or fd is O_NONBLOCK and never waits). */
static bool
krk_chan_done(int fd, int timeout_ms, int slice)
{
	return slice == timeout_ms ||
	    (krs_fcntl(fd, KRS_F_GETFL) & KRS_O_NONBLOCK) != 0;
}

/* Between two slices: the place a killed isolate thread unwinds. */
static int
krk_chan_next_slice(int timeout_ms, int slice)
{
	krk_sys_exit();
	krk_sys_enter();
	return timeout_ms < 0 ? timeout_ms : timeout_ms - slice;
}

/* Under the send side's guard: one buffer handed back to the send end,
 * now owner's.  0 or an errno (EAGAIN: none now). */
static int
krk_chan_take(struct krs_chan *ch, struct krk_chan *kc, uint32_t owner,
    uint64_t *offp)
{
	for (;;) {
		uint64_t off;
		if (krs_chan_xreclaim(ch, &off, 0) != 0)
			return errno;
		int64_t i = krk_chan_index(kc, off);
		if (i >= 0 && krk_side_move(KRK_CHAN_STATE(kc, KRK_CHAN_SEND,
		    i), ST_FREE, ST(ST_SEND, owner))) {
			*offp = off;
			return 0;
		}
		/* Not a free buffer: only a bug could put it in the return
		 * ring.  Skip it. */
		krk_log(KRK_LOG_ERR, "channel %s: offset %#llx handed back but "
		    "not free", kc->kc_name, (unsigned long long)off);
	}
}

/* Under the receive side's guard: the oldest message, now owner's (off
 * 0, len 0: end of stream).  0 or an errno (EAGAIN: none now). */
static int
krk_chan_take_msg(struct krs_chan *ch, struct krk_chan *kc, uint32_t owner,
    uint64_t *offp, uint32_t *lenp)
{
	for (;;) {
		uint64_t off;
		uint32_t len;
		if (krs_chan_xrecv(ch, &off, &len, 0) != 0)
			return errno;
		if (off == 0 && len == 0) {	/* end of stream */
			*offp = 0;
			*lenp = 0;
			return 0;
		}
		int64_t i = krk_chan_index(kc, off);
		if (i >= 0 && krk_side_move(KRK_CHAN_STATE(kc, KRK_CHAN_RECV,
		    i), ST_FREE, ST(ST_RECV, owner))) {
			krk_side_count(&kc->kc_received, 1);
			*offp = off;
			*lenp = len;
			return 0;
		}
		krk_log(KRK_LOG_ERR, "channel %s: offset %#llx received but "
		    "not queued", kc->kc_name, (unsigned long long)off);
	}
}

/*
 * A call that may wait, on end (KRK_CHAN_SEND: a free buffer; RECV: a
 * message) for owner: tried on a peeked end under the side's guard,
 * without waiting; when there is nothing, a wait on a referenced end
 * (krs_chan_xwait, in slices with a kill check between them, outside the
 * guard), and again.  *offp, *lenp (RECV) and *kcp set on 0.
 */
static int
krk_chan_waiting(int fd, int end, uint32_t owner, int timeout_ms,
    struct krk_chan **kcp, uint64_t *offp, uint32_t *lenp)
{
	struct krs_chan *ch;
	int error;

	for (;;) {
		if ((error = krk_chan_get(fd, end, true, &ch, kcp, NULL)) != 0)
			return error;
		struct krk_side *s = &(*kcp)->kc_side[end];
		bool biased = krk_side_enter(s);
		error = end == KRK_CHAN_SEND ?
		    krk_chan_take(ch, *kcp, owner, offp) :
		    krk_chan_take_msg(ch, *kcp, owner, offp, lenp);
		krk_side_exit(s, biased);
		krk_chan_put(ch, true);
		if (error != EAGAIN || timeout_ms == 0)
			return error;
		if ((error = krk_chan_get(fd, end, false, &ch, kcp, NULL)) != 0)
			return error;
		int slice = krk_chan_slice(timeout_ms);
		error = krs_chan_xwait(ch, slice) != 0 ? errno : 0;
		krk_chan_put(ch, false);
		if (error != 0) {
			if (error != EAGAIN || krk_chan_done(fd, timeout_ms,
			    slice))
				return error;
			timeout_ms = krk_chan_next_slice(timeout_ms, slice);
		}
	}
}

int
krk_chan_alloc(int fd, uint32_t owner, int timeout_ms, uint64_t *offp,
    void **ptrp)
{
	return krk_chan_alloc_buf(fd, owner, timeout_ms, offp, ptrp, NULL);
}

int
krk_chan_alloc_buf(int fd, uint32_t owner, int timeout_ms, uint64_t *offp,
    void **ptrp, uint32_t *sizep)
{
	struct krk_chan *kc;

	if (offp == NULL)
		return EFAULT;
	int error = krk_chan_waiting(fd, KRK_CHAN_SEND, owner, timeout_ms,
	    &kc, offp, NULL);
	if (error != 0)
		return error;
	if (ptrp != NULL)
		*ptrp = kc->kc_base + *offp;
	if (sizep != NULL)
		*sizep = kc->kc_bufsize;
	return 0;
}

static int
krk_chan_send_off(struct krs_chan *ch, struct krk_chan *kc, uint32_t owner,
    uint64_t off, uint32_t len)
{
	int64_t i = krk_chan_index(kc, off);
	if (i < 0 || len == 0 || len > kc->kc_bufsize)
		return krk_chan_bad(kc);
	struct krk_side *s = &kc->kc_side[KRK_CHAN_SEND];
	_Atomic uint32_t *sp = KRK_CHAN_STATE(kc, KRK_CHAN_SEND, i);
	int error = 0;
	bool biased = krk_side_enter(s);
	if (!krk_side_move(sp, ST(ST_SEND, owner), ST_FREE))
		error = krk_chan_bad(kc);
	else if (krs_chan_xsend(ch, off, len, 0) != 0) {
		error = errno;
		(void)krk_side_move(sp, ST_FREE, ST(ST_SEND, owner));
	} else
		krk_side_count(&kc->kc_sent, 1);
	krk_side_exit(s, biased);
	return error;
}

int
krk_chan_send(int fd, uint32_t owner, uint64_t off, uint32_t len)
{
	struct krs_chan *ch;
	struct krk_chan *kc;
	int error = krk_chan_get(fd, KRK_CHAN_SEND, true, &ch, &kc, NULL);
	if (error != 0)
		return error;
	error = krk_chan_send_off(ch, kc, owner, off, len);
	krk_chan_put(ch, true);
	return error;
}

int
krk_chan_send_ptr(int fd, uint32_t owner, const void *ptr, uint32_t len)
{
	struct krs_chan *ch;
	struct krk_chan *kc;
	int error = krk_chan_get(fd, KRK_CHAN_SEND, true, &ch, &kc, NULL);
	if (error != 0)
		return error;
	uint64_t off = krk_chan_ptroff(kc, ptr);
	error = off == UINT64_MAX ? krk_chan_bad(kc) :
	    krk_chan_send_off(ch, kc, owner, off, len);
	krk_chan_put(ch, true);
	return error;
}

int
krk_chan_recv(int fd, uint32_t owner, int timeout_ms, uint64_t *offp,
    void **ptrp, uint32_t *lenp)
{
	struct krk_chan *kc;

	if (offp == NULL || lenp == NULL)
		return EFAULT;
	int error = krk_chan_waiting(fd, KRK_CHAN_RECV, owner, timeout_ms,
	    &kc, offp, lenp);
	if (error == 0 && ptrp != NULL)
		*ptrp = *lenp == 0 ? NULL : kc->kc_base + *offp;
	return error;
}

static int
krk_chan_release_off(struct krs_chan *ch, struct krk_chan *kc, int end,
    uint32_t owner, uint64_t off)
{
	int64_t i = krk_chan_index(kc, off);
	if (i < 0)
		return krk_chan_bad(kc);
	uint32_t want = ST(end == KRK_CHAN_RECV ? ST_RECV : ST_SEND, owner);
	struct krk_side *s = &kc->kc_side[end];
	bool biased = krk_side_enter(s);
	bool ok = krk_side_move(KRK_CHAN_STATE(kc, end, i), want, ST_FREE);
	if (end != KRK_CHAN_RECV && ok) {
		/* A sender's give-back: the return ring's producer is the
		 * receive side (ch_serial), so over to its guard. */
		krk_side_exit(s, biased);
		s = &kc->kc_side[KRK_CHAN_RECV];
		biased = krk_side_enter(s);
	}
	if (ok) {
		krk_side_count(&kc->kc_released, 1);
		/* Back to the sender's side; EPIPE (the sender is gone)
		 * leaves it free in the pool, which is all that is left. */
		(void)krs_chan_xreturn(ch, off);
	}
	krk_side_exit(s, biased);
	return ok ? 0 : krk_chan_bad(kc);
}

int
krk_chan_release(int fd, uint32_t owner, uint64_t off)
{
	struct krs_chan *ch;
	struct krk_chan *kc;
	int end;
	int error = krk_chan_get(fd, -1, true, &ch, &kc, &end);
	if (error != 0)
		return error;
	error = krk_chan_release_off(ch, kc, end, owner, off);
	krk_chan_put(ch, true);
	return error;
}

int
krk_chan_release_ptr(int fd, uint32_t owner, const void *ptr)
{
	struct krs_chan *ch;
	struct krk_chan *kc;
	int end;
	int error = krk_chan_get(fd, -1, true, &ch, &kc, &end);
	if (error != 0)
		return error;
	uint64_t off = krk_chan_ptroff(kc, ptr);
	error = off == UINT64_MAX ? krk_chan_bad(kc) :
	    krk_chan_release_off(ch, kc, end, owner, off);
	krk_chan_put(ch, true);
	return error;
}

/* ---- looking at channels ------------------------------------------------- */

static void
krk_chan_fill_pool(const struct krk_chan *kc, struct krk_chan_pool *pool)
{
	pool->memfd = kc->kc_memfd;
	pool->base = kc->kc_base;
	pool->size = (size_t)kc->kc_nbufs * kc->kc_stride;
	pool->nbufs = kc->kc_nbufs;
	pool->bufsize = kc->kc_bufsize;
	pool->stride = kc->kc_stride;
}

int
krk_chan_pool(int fd, struct krk_chan_pool *pool)
{
	struct krs_chan *ch;
	struct krk_chan *kc;
	if (pool == NULL)
		return EFAULT;
	int error = krk_chan_get(fd, -1, false, &ch, &kc, NULL);
	if (error != 0)
		return error;
	krk_chan_fill_pool(kc, pool);
	krk_chan_put(ch, false);
	return 0;
}

int
krk_chan_find_pool(const char *name, struct krk_chan_pool *pool, int *memfdp)
{
	int error;
	if ((error = krk_chan_name_ok(name)) != 0)
		return error;
	pthread_mutex_lock(&krk_chan_lock);
	struct krk_chan *kc = krk_chan_lookup(name);
	if (kc == NULL)
		error = ENOENT;
	else if ((*memfdp = fcntl(kc->kc_memfd, F_DUPFD_CLOEXEC, 0)) < 0)
		error = errno;
	else
		krk_chan_fill_pool(kc, pool);
	pthread_mutex_unlock(&krk_chan_lock);
	return error;
}

static void
krk_chan_fill_stats(struct krk_chan *kc, struct krk_chan_stats *st)
{
	memset(st, 0, sizeof(*st));
	snprintf(st->name, sizeof(st->name), "%s", kc->kc_name);
	st->nbufs = kc->kc_nbufs;
	st->bufsize = kc->kc_bufsize;
	for (uint32_t i = 0; i < kc->kc_nbufs; i++) {
		if (atomic_load_explicit(KRK_CHAN_STATE(kc, KRK_CHAN_SEND, i),
		    memory_order_relaxed) != ST_FREE)
			st->held_send++;
		if (atomic_load_explicit(KRK_CHAN_STATE(kc, KRK_CHAN_RECV, i),
		    memory_order_relaxed) != ST_FREE)
			st->held_recv++;
	}
	st->received = atomic_load(&kc->kc_received);
	st->sent = atomic_load(&kc->kc_sent);
	st->released = atomic_load(&kc->kc_released);
	st->bad_calls = atomic_load(&kc->kc_bad);
	st->recv_closed = atomic_load(&kc->kc_closed[KRK_CHAN_RECV]);
	st->send_closed = atomic_load(&kc->kc_closed[KRK_CHAN_SEND]);
	/* Sent and not received: in the forward ring, unless nobody will
	 * read it any more; the rest is free (in the pool or on its way
	 * back).  A snapshot of counters that move: clamped. */
	if (!st->recv_closed && st->sent > st->received)
		st->queued = (uint32_t)(st->sent - st->received);
	uint64_t out = (uint64_t)st->held_send + st->held_recv + st->queued;
	st->free = out < st->nbufs ? st->nbufs - (uint32_t)out : 0;
}

int
krk_chan_stats(int fd, struct krk_chan_stats *st)
{
	struct krs_chan *ch;
	struct krk_chan *kc;
	if (st == NULL)
		return EFAULT;
	int error = krk_chan_get(fd, -1, false, &ch, &kc, NULL);
	if (error != 0)
		return error;
	krk_chan_fill_stats(kc, st);
	krk_chan_put(ch, false);
	return 0;
}

int
krk_chan_find_stats(const char *name, struct krk_chan_stats *st)
{
	int error;
	if ((error = krk_chan_name_ok(name)) != 0)
		return error;
	if (st == NULL)
		return EFAULT;
	pthread_mutex_lock(&krk_chan_lock);
	struct krk_chan *kc = krk_chan_lookup(name);
	for (struct krk_chan *k = krk_chans; kc == NULL && k != NULL;
	    k = k->kc_next)
		if (strcmp(k->kc_name, name) == 0)
			kc = k;
	if (kc != NULL)
		krk_chan_fill_stats(kc, st);	/* alive while listed */
	pthread_mutex_unlock(&krk_chan_lock);
	return kc != NULL ? 0 : ENOENT;
}

bool
krk_chan_range_held(uint32_t owner, const void *ptr, size_t n)
{
	uintptr_t p = (uintptr_t)ptr;
	bool ok = false;

	pthread_mutex_lock(&krk_chan_lock);
	for (struct krk_chan *kc = krk_chans; kc != NULL; kc = kc->kc_next) {
		uint64_t off = krk_chan_ptroff(kc, ptr);
		if (off == UINT64_MAX)
			continue;
		uint64_t i = off / kc->kc_stride;
		uintptr_t start = (uintptr_t)kc->kc_base + i * kc->kc_stride;
		uint32_t ss = atomic_load_explicit(KRK_CHAN_STATE(kc,
		    KRK_CHAN_SEND, i), memory_order_acquire);
		uint32_t rs = atomic_load_explicit(KRK_CHAN_STATE(kc,
		    KRK_CHAN_RECV, i), memory_order_acquire);
		ok = n <= kc->kc_bufsize - (p - start) &&
		    p - start <= kc->kc_bufsize &&
		    (ss == ST(ST_SEND, owner) || rs == ST(ST_RECV, owner));
		break;
	}
	pthread_mutex_unlock(&krk_chan_lock);
	return ok;
}

int
krk_chan_list(struct krk_chan_stats **stp, size_t *np)
{
	if (stp == NULL || np == NULL)
		return EFAULT;
	pthread_mutex_lock(&krk_chan_lock);
	size_t n = 0;
	for (struct krk_chan *k = krk_chans; k != NULL; k = k->kc_next)
		n++;
	struct krk_chan_stats *st = calloc(n ? n : 1, sizeof(*st));
	if (st == NULL) {
		pthread_mutex_unlock(&krk_chan_lock);
		return ENOMEM;
	}
	size_t i = 0;
	for (struct krk_chan *k = krk_chans; k != NULL; k = k->kc_next)
		krk_chan_fill_stats(k, &st[i++]);
	pthread_mutex_unlock(&krk_chan_lock);
	*stp = st;
	*np = n;
	return 0;
}
