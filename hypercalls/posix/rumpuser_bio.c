/*
 * rumpuser_bio.c - asynchronous block I/O for the rump kernel's block
 * devices.  Three engines: io_uring (default where the kernel allows it), a
 * pool of host threads (fallback, or KRANK_BIO=threads), and inline
 * synchronous I/O (RUMP_THREADS=0 or KRANK_BIO=inline).  Completions are
 * delivered from a host thread that owns a kernel lwp and holds a virtual
 * CPU while it calls the kernel's biodone function, in whatever order the
 * host finishes the requests.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <liburing.h>
#include <krank/hyp.h>
#include <krank/hyp_posix.h>
#include "rumpuser_int.h"

/*
 * A request crosses to the completion thread through the kernel's ring,
 * which ThreadSanitizer cannot see; tell it about that hand-off.
 */
#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
#define BIO_HANDOFF_RELEASE(r) __tsan_release(r)
#define BIO_HANDOFF_ACQUIRE(r) __tsan_acquire(r)
#else
#define BIO_HANDOFF_RELEASE(r) ((void)(r))
#define BIO_HANDOFF_ACQUIRE(r) ((void)(r))
#endif

#define BIO_MAXINFLIGHT 256		/* bounded queue; enqueue blocks beyond */
#define BIO_NWORKERS 4			/* threads engine */
#define BIO_CHUNK (1u << 30)		/* io_uring lengths are 32-bit */

struct bioreq {
	int fd, op;
	char *data;
	size_t len, done;
	int64_t off;
	rump_biodone_fn fn;
	void *arg;
	int error;			/* fast path result */
	struct bioreq *next;
};

enum bio_engine { BIO_NONE, BIO_URING, BIO_THREADS, BIO_INLINE };

/*
 * bio_mtx protects inflight, the thread engine's queue and (for io_uring)
 * the submission queue.  The completion thread takes it only to resubmit.
 */
static struct {
	pthread_once_t once;
	enum bio_engine engine;
	pthread_mutex_t mtx;
	pthread_cond_t space;		/* inflight dropped below the limit */
	pthread_cond_t work;		/* threads engine: queue non-empty */
	unsigned inflight;
	struct bioreq *head, **tailp;
	struct io_uring ring;
} bio = {
	.once = PTHREAD_ONCE_INIT,
	.mtx = PTHREAD_MUTEX_INITIALIZER,
	.space = PTHREAD_COND_INITIALIZER,
	.work = PTHREAD_COND_INITIALIZER,
};

static void
bio_complete(struct bioreq *r, int error)
{
	static __thread int haslwp;

	/* Completion threads need a kernel lwp once, then a CPU per call. */
	if (!haslwp) {
		rumpuser__thread_lwp_init();
		haslwp = 1;
	}
	pthread_mutex_lock(&bio.mtx);
	bio.inflight--;
	pthread_cond_signal(&bio.space);
	pthread_mutex_unlock(&bio.mtx);

	rump_biodone_fn fn = r->fn;
	void *arg = r->arg;
	size_t done = error ? 0 : r->done;
	free(r);
	int nlocks;
	rumpkern_sched(0, NULL);
	fn(arg, done, error);
	rumpkern_unsched(&nlocks, NULL);
}

/* Synchronous transfer of what remains of r; returns NetBSD errno. */
static int
bio_do_sync(struct bioreq *r)
{
	while (r->done < r->len) {
		ssize_t n;
		if (r->op & RUMPUSER_BIO_READ)
			n = hyp_host.pread(r->fd, r->data + r->done,
			    r->len - r->done, (off_t)(r->off + (int64_t)r->done));
		else
			n = hyp_host.pwrite(r->fd, r->data + r->done,
			    r->len - r->done, (off_t)(r->off + (int64_t)r->done));
		if (n == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return rumpuser__errtrans(errno);
		}
		if (n == 0) {
			if (r->op & RUMPUSER_BIO_READ)
				break;		/* end of file */
			return NB_EIO;		/* a write that makes no progress */
		}
		r->done += (size_t)n;
	}
	if ((r->op & RUMPUSER_BIO_WRITE) && (r->op & RUMPUSER_BIO_SYNC) &&
	    hyp_host.fdatasync(r->fd) == -1)
		return rumpuser__errtrans(errno);
	return 0;
}

/* ---- io_uring engine ---- */

static int nowait_write_unsupported;	/* racy hint, monotonic 0 -> 1 */

/* 1 when r finished without blocking (result in r->done / r->error).
 * async: the caller does not wait for r (hyp_bio_async). */
static int
bio_try_nowait(struct bioreq *r, int async)
{
	struct iovec v = { r->data, r->len };
	ssize_t n;

	if (r->op & RUMPUSER_BIO_SYNC)
		return 0;
	/* O_DIRECT: a "nowait" read waits for the device on the caller.
	 * Right for a caller that waits anyway (no hop to the completion
	 * thread), wrong for read-ahead: its reads would run one after
	 * another on the reader (measured: every cold 4 KiB read of
	 * bench_ext2 took this path). */
	if (async && (r->op & RUMPUSER_BIO_READ) && rumpuser__fd_direct(r->fd))
		return 0;
	if (r->op & RUMPUSER_BIO_READ) {
		n = hyp_host.preadv2(r->fd, &v, 1, (off_t)r->off, RWF_NOWAIT);
	} else {
		if (nowait_write_unsupported)
			return 0;
		n = hyp_host.pwritev2(r->fd, &v, 1, (off_t)r->off,
		    RWF_NOWAIT);
		if (n == -1 && errno == EOPNOTSUPP)
			nowait_write_unsupported = 1;
	}
	if (n == -1) {
		if (errno == EAGAIN || errno == EOPNOTSUPP || errno == EINTR)
			return 0;
		r->error = rumpuser__errtrans(errno);
		return 1;
	}
	if ((size_t)n == r->len || (n == 0 && (r->op & RUMPUSER_BIO_READ))) {
		r->done = (size_t)n;	/* all of it, or end of file */
		return 1;
	}
	r->done = (size_t)n;		/* partly: the ring does the rest */
	return 0;
}

/* ---- threads engine ---- */
static void *
bio_worker(void *unused)
{
	for (;;) {
		pthread_mutex_lock(&bio.mtx);
		while (bio.head == NULL)
			pthread_cond_wait(&bio.work, &bio.mtx);
		struct bioreq *r = bio.head;
		bio.head = r->next;
		if (bio.head == NULL)
			bio.tailp = &bio.head;
		pthread_mutex_unlock(&bio.mtx);
		bio_complete(r, bio_do_sync(r));
	}
	return NULL;
}

/* Called with bio.mtx held. */
static void
uring_prep(struct bioreq *r)
{
	struct io_uring_sqe *sqe;
	size_t len = r->len - r->done;

	if (len > BIO_CHUNK)
		len = BIO_CHUNK;
	while ((sqe = io_uring_get_sqe(&bio.ring)) == NULL)
		hyp_host.io_uring_submit(&bio.ring);
	if (r->op & RUMPUSER_BIO_READ) {
		io_uring_prep_read(sqe, r->fd, r->data + r->done, (unsigned)len,
		    (uint64_t)(r->off + (int64_t)r->done));
	} else {
		io_uring_prep_write(sqe, r->fd, r->data + r->done, (unsigned)len,
		    (uint64_t)(r->off + (int64_t)r->done));
		if (r->op & RUMPUSER_BIO_SYNC)
			sqe->rw_flags = RWF_DSYNC;
	}
	io_uring_sqe_set_data(sqe, r);
	BIO_HANDOFF_RELEASE(r);
	hyp_host.io_uring_submit(&bio.ring);
}

static void *
bio_reaper(void *unused)
{
	for (;;) {
		struct io_uring_cqe *cqe;
		int rv = hyp_host.io_uring_wait_cqe(&bio.ring, &cqe);
		if (rv == -EINTR || rv == -EAGAIN)
			continue;
		if (rv < 0) {
			rumpuser_dprintf("krank-hypercall: io_uring wait: %s\n",
			    strerror(-rv));
			continue;
		}
		struct bioreq *r = io_uring_cqe_get_data(cqe);
		int res = cqe->res;
		io_uring_cqe_seen(&bio.ring, cqe);
		if (r == NULL)
			continue;
		BIO_HANDOFF_ACQUIRE(r);
		if (res == -EINTR || res == -EAGAIN) {
			pthread_mutex_lock(&bio.mtx);
			uring_prep(r);
			pthread_mutex_unlock(&bio.mtx);
			continue;
		}
		if (res < 0) {
			bio_complete(r, rumpuser__errtrans(-res));
			continue;
		}
		r->done += (size_t)res;
		if (r->done < r->len && res > 0) {
			/* Short transfer: continue with the rest. */
			pthread_mutex_lock(&bio.mtx);
			uring_prep(r);
			pthread_mutex_unlock(&bio.mtx);
			continue;
		}
		if (r->done < r->len && (r->op & RUMPUSER_BIO_WRITE)) {
			bio_complete(r, NB_EIO);
			continue;
		}
		bio_complete(r, 0);
	}
	return NULL;
}

static void
bio_init(void)
{
	const char *want = getenv("KRANK_BIO");
	const char *threads = getenv("RUMP_THREADS");
	pthread_t t;

	bio.tailp = &bio.head;
	if ((threads != NULL && strcmp(threads, "0") == 0) ||
	    (want != NULL && strcmp(want, "inline") == 0)) {
		bio.engine = BIO_INLINE;
		return;
	}
	if (want == NULL || strcmp(want, "io_uring") == 0) {
		if (hyp_host.io_uring_queue_init(BIO_MAXINFLIGHT, &bio.ring,
		    0) == 0) {
			if (pthread_create(&t, NULL, bio_reaper, NULL) == 0) {
				pthread_setname_np(t, "krank-bio");
				pthread_detach(t);
				bio.engine = BIO_URING;
				return;
			}
			hyp_host.io_uring_queue_exit(&bio.ring);
		}
	}
	int started = 0;
	for (int i = 0; i < BIO_NWORKERS; i++) {
		if (pthread_create(&t, NULL, bio_worker, NULL) == 0) {
			pthread_setname_np(t, "krank-bio");
			pthread_detach(t);
			started++;
		}
	}
	bio.engine = started ? BIO_THREADS : BIO_INLINE;
}

const char *
hyp_posix_bio_engine(void)
{
	pthread_once(&bio.once, bio_init);
	switch (bio.engine) {
	case BIO_URING: return "io_uring";
	case BIO_THREADS: return "threads";
	default: return "inline";
	}
}

static void
bio_submit(int fd, int op, void *data, size_t dlen, int64_t off,
    rump_biodone_fn biodone, void *bioarg, int async)
{
	struct bioreq *r;
	int rw = op & (RUMPUSER_BIO_READ | RUMPUSER_BIO_WRITE);

	if (biodone == NULL)
		return;
	if ((op & ~(RUMPUSER_BIO_READ | RUMPUSER_BIO_WRITE | RUMPUSER_BIO_SYNC)) ||
	    (rw != RUMPUSER_BIO_READ && rw != RUMPUSER_BIO_WRITE) ||
	    off < 0 || (data == NULL && dlen != 0)) {
		biodone(bioarg, 0, NB_EINVAL);
		return;
	}
	if (fd < 0) {
		biodone(bioarg, 0, NB_EBADF);
		return;
	}
	pthread_once(&bio.once, bio_init);
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		biodone(bioarg, 0, NB_ENOMEM);
		return;
	}
	*r = (struct bioreq){ .fd = fd, .op = op, .data = data, .len = dlen,
	    .off = off, .fn = biodone, .arg = bioarg };

	if (bio.engine == BIO_INLINE) {
		int error;
		KLOCK_WRAP(error = bio_do_sync(r));
		size_t done = error ? 0 : r->done;
		free(r);
		biodone(bioarg, done, error);
		return;
	}
	if (dlen == 0) {
		/* Nothing to move; still complete asynchronously-safe. */
		free(r);
		biodone(bioarg, 0, 0);
		return;
	}

	/*
	 * Fast path: data already in the page cache (or a buffered write the
	 * kernel takes without waiting) moves with one RWF_NOWAIT call and
	 * completes here, on the caller, who holds a CPU and an lwp; the
	 * kernel copes with inline completion as with RUMP_THREADS=0.  What
	 * would block goes to the ring.
	 */
	if (bio.engine == BIO_URING && bio_try_nowait(r, async)) {
		size_t done = r->done;
		int error = r->error;
		free(r);
		biodone(bioarg, error ? 0 : done, error);
		return;
	}

	/* The enqueue may wait for room: release the CPU while it does. */
	KLOCK_WRAP(
		pthread_mutex_lock(&bio.mtx);
		while (bio.inflight >= BIO_MAXINFLIGHT)
			pthread_cond_wait(&bio.space, &bio.mtx);
		bio.inflight++;
		if (bio.engine == BIO_URING) {
			uring_prep(r);
		} else {
			*bio.tailp = r;
			bio.tailp = &r->next;
			pthread_cond_signal(&bio.work);
		}
		pthread_mutex_unlock(&bio.mtx)
	);
}

void
rumpuser_bio(int fd, int op, void *data, size_t dlen, int64_t off,
    rump_biodone_fn biodone, void *bioarg)
{
	bio_submit(fd, op, data, dlen, off, biodone, bioarg, 0);
}

void
hyp_bio_async(int fd, int op, void *data, size_t dlen, int64_t off,
    rump_biodone_fn biodone, void *bioarg)
{
	bio_submit(fd, op, data, dlen, off, biodone, bioarg, 1);
}
