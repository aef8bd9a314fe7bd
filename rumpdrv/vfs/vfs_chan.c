/*
 * vfs_chan.c - channels: a descriptor type (DTYPE_CHAN) whose two ends
 * carry (token, len) entries through a bounded single-producer,
 * single-consumer ring, and optionally hand tokens back through a second
 * ring (KRS_CHAN_RETURN).  Tokens are opaque here; KRANK's buffer pools
 * (krank/krk_chan.c) make them buffer offsets, so messages move by
 * reference.  Part of the vfs component (channels are open files of the
 * vfs's descriptor tables, as NetBSD's pipes are of its kern).
 *
 * Locking: each ring is lock-free between its producer and its consumer
 * (acquire/release on r_head and r_tail); threads sharing one end take
 * that side's kspin.  c_lock and c_cv serve only blocking waits: a waiter
 * counts itself in c_sleepers, clears c_woken and re-checks under c_lock;
 * a producer looks at both after its store, so one of the two sees the
 * other (the same for c_pollwant and the poll generation chan_sel_gen).
 * That handshake is an asymmetric fence (hyp_membarrier): the producer,
 * which runs on every message, orders its store and its look with a
 * compiler barrier only, and the waiter, which is rare, pays a
 * membarrier between announcing itself and looking again.  Without
 * membarrier (or under ThreadSanitizer, which does not model it) both
 * sides fence.
 * c_woken makes the first change after a waiter fell asleep the only one
 * that pays for a host wakeup: a receiver draining a full ring while its
 * sender is still waking up does not wake it a thousand times.
 *
 * Lifetime: an end is referenced (krs_chan_get) or, for a call that does
 * not wait, only looked at inside an RCU read-side section
 * (krs_chan_peek): the slot's file is used without touching its count,
 * so a message costs no locked instruction on it.  chan_close therefore
 * waits for a grace period before it tears anything down: the descriptor
 * slot was emptied before the last reference went, so no section that
 * begins later can find the end.
 */
#include <string.h>
#include <krank/hyp.h>
#include <krank/hyp_relax.h>

#include "vfs/vfs_int.h"

struct chan_ent {
	uint64_t e_token;
	uint32_t e_len;
	uint32_t e_pad;
};

struct chan_ring {
	struct chan_ent *r_ent;		/* r_mask + 1 slots */
	uint32_t r_mask;
	uint32_t r_depth;		/* at most this many queued */
	/* The producer's line: r_tail is written by it only. */
	uint32_t r_tail __attribute__((aligned(64)));
	uint32_t r_headc;		/* its last look at r_head */
	/* The consumer's line. */
	uint32_t r_head __attribute__((aligned(64)));
	uint32_t r_tailc;		/* its last look at r_tail */
	/* The locks of threads sharing an end, on lines the other side
	 * never reads: taking one then never waits for a line the other
	 * side is spinning on. */
	kspin_t r_plock __attribute__((aligned(64)));
	kspin_t r_clock __attribute__((aligned(64)));
};

#define CHAN_RCLOSED	0x1
#define CHAN_WCLOSED	0x2

struct chan {
	struct chan_ring c_fwd;		/* send end -> receive end */
	struct chan_ring c_ret;		/* receive end -> send end */
	/* Read by every producer, written by waiters: a line of its own. */
	uint32_t c_sleepers __attribute__((aligned(64)));	/* atomic */
	uint32_t c_woken;		/* atomic: sleepers woken, not yet back */
	uint32_t c_pollwant;		/* atomic: a poller found us not ready */
	uint32_t c_closed;		/* atomic: CHAN_*CLOSED */
	uint32_t c_refs;		/* atomic: ends open */
	bool c_hasret;			/* constant */
	uint32_t c_attached;		/* atomic: c_hooks, c_arg set */
	bool c_serial;			/* the layer above serialises each
					 * ring side: no r_plock, r_clock */
	const struct krs_chan_hooks *c_hooks;
	void *c_arg;
	kmutex_t c_lock;		/* blocking waits only */
	kcondvar_t c_cv;
};

static const struct fileops chanops;

/*
 * Poll wakeups for every channel: a generation bumped when a channel a
 * poller looked at changes (vfs_file.h, fo_pollgen).  Set up on the first
 * krs_chan_create and kept.
 */
static kspin_t chan_init_lock;
static bool chan_inited;
static bool chan_asym;		/* set before chan_inited: see chan_fence */
static kmutex_t chan_sel_lock;
static kcondvar_t chan_sel_cv;
static uint64_t chan_sel_gen;		/* chan_sel_lock; atomic reads */

static void
chan_globals_init(void)
{
	if (__atomic_load_n(&chan_inited, __ATOMIC_ACQUIRE))
		return;
	kspin_enter(&chan_init_lock);
	if (!chan_inited) {
		mutex_init(&chan_sel_lock, MUTEX_DEFAULT, IPL_NONE);
		cv_init(&chan_sel_cv, "chansel");
#if !defined(__SANITIZE_THREAD__)
		chan_asym = hyp_membarrier_init() != 0;
#endif
		__atomic_store_n(&chan_inited, true, __ATOMIC_RELEASE);
	}
	kspin_exit(&chan_init_lock);
}

static void
chan_selnotify(void)
{
	mutex_enter(&chan_sel_lock);
	__atomic_store_n(&chan_sel_gen, chan_sel_gen + 1, __ATOMIC_RELEASE);
	cv_broadcast(&chan_sel_cv);
	mutex_exit(&chan_sel_lock);
}

/* ---- rings ------------------------------------------------------------ */

/* The depth is the caller's (up to KRS_CHAN_DEPTH_MAX), so the ring may
 * be larger than kmem waits for: ENOMEM then, not a wait. */
static int
ring_init(struct chan_ring *r, unsigned depth)
{
	uint32_t size = 1;
	while (size < depth)
		size <<= 1;
	r->r_ent = kmem_zalloc(sizeof(*r->r_ent) * size, KM_SLEEP);
	if (r->r_ent == NULL)
		return ENOMEM;
	r->r_mask = size - 1;
	r->r_depth = depth;
	return 0;
}

static void
ring_fini(struct chan_ring *r)
{
	if (r->r_ent != NULL)
		kmem_free(r->r_ent, sizeof(*r->r_ent) * (r->r_mask + 1));
}

static unsigned
ring_count(struct chan_ring *r)
{
	uint32_t h = __atomic_load_n(&r->r_head, __ATOMIC_ACQUIRE);
	uint32_t t = __atomic_load_n(&r->r_tail, __ATOMIC_ACQUIRE);
	return t - h;
}

/* A ring side's lock, unless the layer above serialises its callers
 * (krs_chan_hooks.ch_serial). */
static inline void
chan_side_enter(struct chan *c, kspin_t *s)
{
	if (!c->c_serial)
		kspin_enter(s);
}

static inline void
chan_side_exit(struct chan *c, kspin_t *s)
{
	if (!c->c_serial)
		kspin_exit(s);
}

/* Caller holds r_plock.  EAGAIN when full. */
static int
ring_push(struct chan_ring *r, uint64_t token, uint32_t len)
{
	uint32_t t = r->r_tail;
	if (t - r->r_headc >= r->r_depth) {
		r->r_headc = __atomic_load_n(&r->r_head, __ATOMIC_ACQUIRE);
		if (t - r->r_headc >= r->r_depth)
			return EAGAIN;
	}
	struct chan_ent *e = &r->r_ent[t & r->r_mask];
	e->e_token = token;
	e->e_len = len;
	__atomic_store_n(&r->r_tail, t + 1, __ATOMIC_RELEASE);
	return 0;
}

/* Caller holds r_clock.  EAGAIN when empty. */
static int
ring_pop(struct chan_ring *r, uint64_t *tokenp, uint32_t *lenp)
{
	uint32_t h = r->r_head;
	if (h == r->r_tailc) {
		r->r_tailc = __atomic_load_n(&r->r_tail, __ATOMIC_ACQUIRE);
		if (h == r->r_tailc)
			return EAGAIN;
	}
	const struct chan_ent *e = &r->r_ent[h & r->r_mask];
	*tokenp = e->e_token;
	if (lenp != NULL)
		*lenp = e->e_len;
	__atomic_store_n(&r->r_head, h + 1, __ATOMIC_RELEASE);
	return 0;
}

/* ---- waiting and waking ---------------------------------------------- */

/*
 * A full fence between a store and a later load (the two sides of every
 * wakeup handshake).  ThreadSanitizer does not model fences: there, a
 * sequentially consistent read-modify-write of one shared word orders
 * both sides instead (slower, as it makes that word travel).
 * chan_fence_light is the producers' side, after every message;
 * chan_fence_heavy the waiters' and pollers', before they look again.
 * With chan_asym (membarrier registered when the first channel was made,
 * so before any producer could run) the light side is a compiler
 * barrier: a fence there waits until the entry's and the tail's lines
 * have come over from the consumer, which reads them, and on two cores
 * that made the two sides run in lockstep, a line's round trip per
 * message.
 */
#if defined(__SANITIZE_THREAD__)
static unsigned chan_fence_word;
#define chan_fence() \
	((void)__atomic_fetch_add(&chan_fence_word, 0, __ATOMIC_SEQ_CST))
#else
#define chan_fence() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#endif

static inline void
chan_fence_light(void)
{
	if (__atomic_load_n(&chan_asym, __ATOMIC_RELAXED))
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
	else
		chan_fence();
}

static void
chan_fence_heavy(void)
{
	if (__atomic_load_n(&chan_asym, __ATOMIC_RELAXED))
		hyp_membarrier();
	else
		chan_fence();
}

static uint32_t
chan_closed(struct chan *c)
{
	return __atomic_load_n(&c->c_closed, __ATOMIC_ACQUIRE);
}

/* After a change a waiter or a poller may wait for. */
static inline void
chan_wakeup(struct chan *c)
{
	chan_fence_light();
	if (__atomic_load_n(&c->c_sleepers, __ATOMIC_RELAXED) != 0 &&
	    __atomic_load_n(&c->c_woken, __ATOMIC_RELAXED) == 0 &&
	    __atomic_exchange_n(&c->c_woken, 1, __ATOMIC_ACQ_REL) == 0) {
		mutex_enter(&c->c_lock);
		cv_broadcast(&c->c_cv);
		mutex_exit(&c->c_lock);
	}
	if (__atomic_load_n(&c->c_pollwant, __ATOMIC_RELAXED) != 0 &&
	    __atomic_exchange_n(&c->c_pollwant, 0, __ATOMIC_ACQ_REL) != 0)
		chan_selnotify();
}

/* What a blocked call waits for (each also ends on a closed peer). */
enum chan_cond { WAIT_FWD_ROOM, WAIT_FWD_DATA, WAIT_RET_DATA };

static bool
chan_ready(struct chan *c, enum chan_cond w)
{
	uint32_t cl = chan_closed(c);
	switch (w) {
	case WAIT_FWD_ROOM:
		return (cl & CHAN_RCLOSED) || ring_count(&c->c_fwd) <
		    c->c_fwd.r_depth;
	case WAIT_FWD_DATA:
		return (cl & CHAN_WCLOSED) || ring_count(&c->c_fwd) > 0;
	case WAIT_RET_DATA:
		return (cl & CHAN_RCLOSED) || ring_count(&c->c_ret) > 0;
	}
	return true;
}

/*
 * Wait until w may hold or the deadline (uptime ns; 0: none) passes:
 * spin for up to cv_spin_ns first (KRANK owns its cores, and a wakeup
 * within the spin costs neither side a host call), then sleep on c_cv.
 * 0, or EAGAIN at the deadline.
 */
static int
chan_wait(struct chan *c, enum chan_cond w, uint64_t deadline)
{
	uint64_t spin = __atomic_load_n(&cv_spin_ns, __ATOMIC_RELAXED);
	if (spin > 0) {
		uint64_t t0 = kern_uptime_ns();
		for (unsigned i = 1;; i++) {
			if (chan_ready(c, w))
				return 0;
			hyp_cpu_relax();
			if ((i & 63) == 0) {
				uint64_t now = kern_uptime_ns();
				if (now - t0 >= spin ||
				    (deadline != 0 && now >= deadline))
					break;
			}
		}
	}
	int error = 0;
	mutex_enter(&c->c_lock);
	__atomic_fetch_add(&c->c_sleepers, 1, __ATOMIC_SEQ_CST);
	for (;;) {
		/* Ask for a wakeup, then look: a change we do not see has
		 * seen the request (c_woken 0). */
		__atomic_store_n(&c->c_woken, 0, __ATOMIC_RELAXED);
		chan_fence_heavy();
		if (chan_ready(c, w))
			break;
		if (deadline == 0) {
			cv_wait(&c->c_cv, &c->c_lock);
			continue;
		}
		uint64_t now = kern_uptime_ns();
		if (now >= deadline) {
			error = EAGAIN;
			break;
		}
		(void)cv_timedwait_ns(&c->c_cv, &c->c_lock, deadline - now);
	}
	__atomic_fetch_sub(&c->c_sleepers, 1, __ATOMIC_RELAXED);
	mutex_exit(&c->c_lock);
	return error;
}

/* The call must not wait at all (timeout 0, or an O_NONBLOCK end). */
static bool
chan_nowait(struct file *fp, int timeout_ms)
{
	return timeout_ms == 0 ||
	    (__atomic_load_n(&fp->f_flag, __ATOMIC_RELAXED) & KRS_O_NONBLOCK);
}

/* Wait for w until timeout_ms after the first wait of this call: the
 * deadline (*dl; UINT64_MAX until then, 0 for none) is set only when a
 * call first has to wait, so one that need not reads no clock. */
static int
chan_wait_ms(struct chan *c, enum chan_cond w, int timeout_ms, uint64_t *dl)
{
	if (*dl == UINT64_MAX)
		*dl = timeout_ms < 0 ? 0 :
		    kern_uptime_ns() + (uint64_t)timeout_ms * 1000000u;
	return chan_wait(c, w, *dl);
}

static int
chan_end(struct file *fp)
{
	return (fp->f_flag & KRS_O_ACCMODE) == KRS_O_RDONLY ? KRS_CHAN_RECV :
	    KRS_CHAN_SEND;
}

/* ---- the operations, on a referenced end ------------------------------ */

static int
chan_send(struct file *fp, uint64_t token, uint32_t len, int timeout_ms)
{
	struct chan *c = fp->f_data;
	bool nowait;

	if (chan_end(fp) != KRS_CHAN_SEND)
		return EBADF;
	if (token == 0 && len == 0)
		return EINVAL;
	uint64_t deadline = UINT64_MAX;
	nowait = chan_nowait(fp, timeout_ms);
	for (;;) {
		if (chan_closed(c) & CHAN_RCLOSED)
			return EPIPE;
		chan_side_enter(c, &c->c_fwd.r_plock);
		int error = ring_push(&c->c_fwd, token, len);
		chan_side_exit(c, &c->c_fwd.r_plock);
		if (error == 0) {
			chan_wakeup(c);
			return 0;
		}
		if (nowait || chan_wait_ms(c, WAIT_FWD_ROOM, timeout_ms,
		    &deadline) != 0)
			return EAGAIN;
	}
}

static int
chan_recv(struct file *fp, uint64_t *tokenp, uint32_t *lenp, int timeout_ms)
{
	struct chan *c = fp->f_data;
	bool nowait;

	if (chan_end(fp) != KRS_CHAN_RECV)
		return EBADF;
	uint64_t deadline = UINT64_MAX;
	nowait = chan_nowait(fp, timeout_ms);
	for (;;) {
		chan_side_enter(c, &c->c_fwd.r_clock);
		int error = ring_pop(&c->c_fwd, tokenp, lenp);
		if (error != 0 && (chan_closed(c) & CHAN_WCLOSED)) {
			/* Entries sent before the close are visible now. */
			error = ring_pop(&c->c_fwd, tokenp, lenp);
			if (error != 0) {
				chan_side_exit(c, &c->c_fwd.r_clock);
				*tokenp = 0;
				*lenp = 0;
				return 0;		/* end of stream */
			}
		}
		chan_side_exit(c, &c->c_fwd.r_clock);
		if (error == 0) {
			chan_wakeup(c);
			return 0;
		}
		if (nowait || chan_wait_ms(c, WAIT_FWD_DATA, timeout_ms,
		    &deadline) != 0)
			return EAGAIN;
	}
}

static int
chan_return(struct file *fp, uint64_t token)
{
	struct chan *c = fp->f_data;

	if (!c->c_hasret)
		return EINVAL;
	if (chan_closed(c) & CHAN_WCLOSED)
		return EPIPE;
	chan_side_enter(c, &c->c_ret.r_plock);
	int error = ring_push(&c->c_ret, token, 0);
	chan_side_exit(c, &c->c_ret.r_plock);
	if (error == 0)
		chan_wakeup(c);
	return error;
}

static int
chan_reclaim(struct file *fp, uint64_t *tokenp, int timeout_ms)
{
	struct chan *c = fp->f_data;
	bool nowait;

	if (chan_end(fp) != KRS_CHAN_SEND)
		return EBADF;
	if (!c->c_hasret)
		return EINVAL;
	uint64_t deadline = UINT64_MAX;
	nowait = chan_nowait(fp, timeout_ms);
	for (;;) {
		if (chan_closed(c) & CHAN_RCLOSED)
			return EPIPE;
		chan_side_enter(c, &c->c_ret.r_clock);
		int error = ring_pop(&c->c_ret, tokenp, NULL);
		chan_side_exit(c, &c->c_ret.r_clock);
		if (error == 0)
			return 0;	/* room in the return ring: nobody waits
					 * for that (krs_chan_return never does) */
		if (nowait || chan_wait_ms(c, WAIT_RET_DATA, timeout_ms,
		    &deadline) != 0)
			return EAGAIN;
	}
}

/* ---- the file type ---------------------------------------------------- */

static int
chan_rdwr(struct file *fp, struct uio *uio, int flags)
{
	(void)fp; (void)uio; (void)flags;
	return EINVAL;
}

static int
chan_readiness(struct chan *c, int end)
{
	uint32_t cl = chan_closed(c);
	int rev = 0;
	if (end == KRS_CHAN_RECV) {
		if (ring_count(&c->c_fwd) > 0)
			rev |= KRS_POLLIN | KRS_POLLRDNORM;
		if (cl & CHAN_WCLOSED)
			rev |= KRS_POLLIN | KRS_POLLRDNORM | KRS_POLLHUP;
	} else {
		if (cl & CHAN_RCLOSED)
			rev |= KRS_POLLERR;
		else if (ring_count(&c->c_fwd) < c->c_fwd.r_depth &&
		    (!c->c_hasret || ring_count(&c->c_ret) > 0))
			rev |= KRS_POLLOUT | KRS_POLLWRNORM;
	}
	return rev;
}

static int
chan_poll(struct file *fp, int events)
{
	struct chan *c = fp->f_data;
	int end = chan_end(fp);
	int rev = chan_readiness(c, end);
	if ((rev & (events | KRS_POLLERR | KRS_POLLHUP)) == 0) {
		/* Ask producers for a poll wakeup, then look again: either
		 * we see their change or they see the request. */
		__atomic_store_n(&c->c_pollwant, 1, __ATOMIC_SEQ_CST);
		chan_fence_heavy();
		rev = chan_readiness(c, end);
	}
	return rev;
}

static int
chan_stat(struct file *fp, struct krs_stat *st)
{
	struct chan *c = fp->f_data;
	memset(st, 0, sizeof(*st));
	st->st_mode = KRS_S_IFIFO | 0600;
	st->st_nlink = 1;
	st->st_blksize = sizeof(struct chan_ent);
	st->st_size = chan_end(fp) == KRS_CHAN_RECV ? ring_count(&c->c_fwd) :
	    c->c_hasret ? ring_count(&c->c_ret) : 0;
	return 0;
}

static void
chan_free(struct chan *c)
{
	ring_fini(&c->c_fwd);
	ring_fini(&c->c_ret);
	cv_destroy(&c->c_cv);
	mutex_destroy(&c->c_lock);
	kmem_free(c, sizeof(*c));
}

/* The last reference to one end went away. */
static void
chan_close(struct file *fp)
{
	struct chan *c = fp->f_data;
	int end = chan_end(fp);

	/* No krs_chan_peek caller is still inside this end (see the top). */
	hyp_rcu_synchronize();

	__atomic_fetch_or(&c->c_closed, end == KRS_CHAN_RECV ? CHAN_RCLOSED :
	    CHAN_WCLOSED, __ATOMIC_SEQ_CST);
	mutex_enter(&c->c_lock);
	cv_broadcast(&c->c_cv);
	mutex_exit(&c->c_lock);
	chan_selnotify();
	if (__atomic_load_n(&c->c_attached, __ATOMIC_ACQUIRE) &&
	    c->c_hooks != NULL && c->c_hooks->ch_close != NULL)
		c->c_hooks->ch_close(c->c_arg, end);
	if (__atomic_sub_fetch(&c->c_refs, 1, __ATOMIC_ACQ_REL) == 0)
		chan_free(c);
}

static uint64_t
chan_pollgen(void)
{
	return __atomic_load_n(&chan_sel_gen, __ATOMIC_ACQUIRE);
}

static void
chan_pollwait(uint64_t gen, uint64_t deadline)
{
	mutex_enter(&chan_sel_lock);
	while (chan_sel_gen == gen) {
		if (deadline == 0) {
			cv_wait(&chan_sel_cv, &chan_sel_lock);
			continue;
		}
		uint64_t now = kern_uptime_ns();
		if (now >= deadline)
			break;
		(void)cv_timedwait_ns(&chan_sel_cv, &chan_sel_lock,
		    deadline - now);
	}
	mutex_exit(&chan_sel_lock);
}

static const struct fileops chanops = {
	.fo_read = chan_rdwr,
	.fo_write = chan_rdwr,
	.fo_poll = chan_poll,
	.fo_stat = chan_stat,
	.fo_close = chan_close,
	.fo_pollgen = chan_pollgen,
	.fo_pollwait = chan_pollwait,
};

/* ---- krs_ calls --------------------------------------------------------- */

KRS_EXPORT int
krs_chan_create(unsigned depth, int flags, int fds[2])
{
	VFS_ENTER();
	const int known = KRS_O_NONBLOCK | KRS_O_CLOEXEC | KRS_CHAN_RETURN;
	int error;

	if (fds == NULL)
		return krs_fail(EFAULT);
	if (depth == 0 || depth > KRS_CHAN_DEPTH_MAX || (flags & ~known))
		return krs_fail(EINVAL);
	chan_globals_init();
	struct chan *c = kmem_zalloc(sizeof(*c), KM_SLEEP);
	if ((error = ring_init(&c->c_fwd, depth)) == 0 &&
	    (flags & KRS_CHAN_RETURN)) {
		error = ring_init(&c->c_ret, depth);
		c->c_hasret = true;
	}
	if (error != 0) {
		ring_fini(&c->c_fwd);
		ring_fini(&c->c_ret);
		kmem_free(c, sizeof(*c));
		return krs_fail(error);
	}
	mutex_init(&c->c_lock, MUTEX_DEFAULT, IPL_NONE);
	cv_init(&c->c_cv, "chan");
	c->c_refs = 2;
	int nb = flags & KRS_O_NONBLOCK;
	bool cloexec = (flags & KRS_O_CLOEXEC) != 0;
	struct file *fr = file_alloc_ops(&chanops, DTYPE_CHAN, c,
	    KRS_O_RDONLY | nb);
	struct file *fw = file_alloc_ops(&chanops, DTYPE_CHAN, c,
	    KRS_O_WRONLY | nb);
	int rfd, wfd;
	if ((error = fd_allocfile(fr, cloexec, &rfd)) != 0) {
		file_release(fr);
		file_release(fw);
		return krs_fail(error);
	}
	if ((error = fd_allocfile(fw, cloexec, &wfd)) != 0) {
		(void)krs_close(rfd);
		file_release(fw);
		return krs_fail(error);
	}
	fds[0] = rfd;
	fds[1] = wfd;
	return 0;
}

/* krs_chan_get's and krs_chan_peek's answer: the end, its side, the
 * attached argument. */
static int
chan_describe(struct file *fp, struct krs_chan **chp, int *endp, void **argp)
{
	struct chan *c = fp->f_data;
	if (endp != NULL)
		*endp = chan_end(fp);
	if (argp != NULL)
		*argp = __atomic_load_n(&c->c_attached, __ATOMIC_ACQUIRE) ?
		    c->c_arg : NULL;
	*chp = (struct krs_chan *)fp;
	return 0;
}

KRS_EXPORT int
krs_chan_get(int fd, struct krs_chan **chp, int *endp, void **argp)
{
	VFS_ENTER();
	struct file *fp;
	int error;

	if (chp == NULL)
		return krs_fail(EFAULT);
	if ((error = fd_getfile(fd, &fp)) != 0)
		return krs_fail(error);
	if (fp->f_ops != &chanops) {
		file_release(fp);
		return krs_fail(EINVAL);
	}
	return chan_describe(fp, chp, endp, argp);
}

KRS_EXPORT int
krs_chan_peek(int fd, struct krs_chan **chp, int *endp, void **argp)
{
	VFS_ENTER();
	if (chp == NULL)
		return krs_fail(EFAULT);
	hyp_rcu_read_lock();
	struct file *fp = fd_peekfile(fd);
	int error = fp == NULL ? EBADF : fp->f_ops != &chanops ? EINVAL : 0;
	if (error != 0) {
		hyp_rcu_read_unlock();
		return krs_fail(error);
	}
	return chan_describe(fp, chp, endp, argp);
}

KRS_EXPORT void
krs_chan_unpeek(struct krs_chan *ch)
{
	(void)ch;
	hyp_rcu_read_unlock();
}

KRS_EXPORT void
krs_chan_put(struct krs_chan *ch)
{
	if (ch != NULL)
		file_release((struct file *)ch);
}

KRS_EXPORT int
krs_chan_xsend(struct krs_chan *ch, uint64_t token, uint32_t len,
    int timeout_ms)
{
	int error = chan_send((struct file *)ch, token, len, timeout_ms);
	return error ? krs_fail(error) : 0;
}

KRS_EXPORT int
krs_chan_xrecv(struct krs_chan *ch, uint64_t *tokenp, uint32_t *lenp,
    int timeout_ms)
{
	if (tokenp == NULL || lenp == NULL)
		return krs_fail(EFAULT);
	int error = chan_recv((struct file *)ch, tokenp, lenp, timeout_ms);
	return error ? krs_fail(error) : 0;
}

KRS_EXPORT int
krs_chan_xreturn(struct krs_chan *ch, uint64_t token)
{
	int error = chan_return((struct file *)ch, token);
	return error ? krs_fail(error) : 0;
}

KRS_EXPORT int
krs_chan_xreclaim(struct krs_chan *ch, uint64_t *tokenp, int timeout_ms)
{
	if (tokenp == NULL)
		return krs_fail(EFAULT);
	int error = chan_reclaim((struct file *)ch, tokenp, timeout_ms);
	return error ? krs_fail(error) : 0;
}

KRS_EXPORT int
krs_chan_xwait(struct krs_chan *ch, int timeout_ms)
{
	struct file *fp = (struct file *)ch;
	struct chan *c = fp->f_data;
	enum chan_cond w = chan_end(fp) == KRS_CHAN_RECV ? WAIT_FWD_DATA :
	    c->c_hasret ? WAIT_RET_DATA : WAIT_FWD_ROOM;
	uint64_t deadline = UINT64_MAX;
	int error = chan_ready(c, w) ? 0 : chan_nowait(fp, timeout_ms) ?
	    EAGAIN : chan_wait_ms(c, w, timeout_ms, &deadline);
	return error ? krs_fail(error) : 0;
}

KRS_EXPORT int
krs_chan_attach(struct krs_chan *ch, const struct krs_chan_hooks *hooks,
    void *arg)
{
	struct chan *c = ((struct file *)ch)->f_data;
	int error = 0;

	mutex_enter(&c->c_lock);
	if (c->c_attached)
		error = EBUSY;
	else {
		c->c_hooks = hooks;
		c->c_arg = arg;
		c->c_serial = hooks != NULL && hooks->ch_serial;
		__atomic_store_n(&c->c_attached, 1, __ATOMIC_RELEASE);
	}
	mutex_exit(&c->c_lock);
	return error ? krs_fail(error) : 0;
}

KRS_EXPORT int
krs_chan_info(struct krs_chan *ch, struct krs_chan_info *info)
{
	if (info == NULL)
		return krs_fail(EFAULT);
	struct chan *c = ((struct file *)ch)->f_data;
	uint32_t cl = chan_closed(c);
	memset(info, 0, sizeof(*info));
	info->depth = c->c_fwd.r_depth;
	info->queued = ring_count(&c->c_fwd);
	info->returned = c->c_hasret ? ring_count(&c->c_ret) : 0;
	info->recv_closed = (cl & CHAN_RCLOSED) != 0;
	info->send_closed = (cl & CHAN_WCLOSED) != 0;
	info->has_return = c->c_hasret;
	return 0;
}

/* The descriptor calls: get, the operation (waiting unless O_NONBLOCK),
 * put. */
KRS_EXPORT int
krs_chan_send(int fd, uint64_t token, uint32_t len)
{
	struct krs_chan *ch;
	if (krs_chan_get(fd, &ch, NULL, NULL) != 0)
		return -1;
	int error = chan_send((struct file *)ch, token, len, -1);
	krs_chan_put(ch);
	return error ? krs_fail(error) : 0;
}

KRS_EXPORT int
krs_chan_recv(int fd, uint64_t *tokenp, uint32_t *lenp)
{
	struct krs_chan *ch;
	if (tokenp == NULL || lenp == NULL)
		return krs_fail(EFAULT);
	if (krs_chan_get(fd, &ch, NULL, NULL) != 0)
		return -1;
	int error = chan_recv((struct file *)ch, tokenp, lenp, -1);
	krs_chan_put(ch);
	return error ? krs_fail(error) : 0;
}

KRS_EXPORT int
krs_chan_return(int fd, uint64_t token)
{
	struct krs_chan *ch;
	if (krs_chan_get(fd, &ch, NULL, NULL) != 0)
		return -1;
	int error = chan_return((struct file *)ch, token);
	krs_chan_put(ch);
	return error ? krs_fail(error) : 0;
}

KRS_EXPORT int
krs_chan_reclaim(int fd, uint64_t *tokenp)
{
	struct krs_chan *ch;
	if (tokenp == NULL)
		return krs_fail(EFAULT);
	if (krs_chan_get(fd, &ch, NULL, NULL) != 0)
		return -1;
	int error = chan_reclaim((struct file *)ch, tokenp, -1);
	krs_chan_put(ch);
	return error ? krs_fail(error) : 0;
}

KRS_EXPORT int
krs_chan_install(struct krs_chan *ch, int flags)
{
	VFS_ENTER();
	int fd, error;
	if (ch == NULL)
		return krs_fail(EFAULT);
	error = fd_allocfile((struct file *)ch, (flags & KRS_O_CLOEXEC) != 0,
	    &fd);
	return error ? krs_fail(error) : fd;
}
