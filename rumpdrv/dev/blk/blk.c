/*
 * blk.c - block device over the host's disk with a write-back buffer cache
 * (see blk.h).  Every disk transfer is an asynchronous hostdisk_bio (kern's
 * wrapper of rumpuser_bio); a caller that needs the data sleeps on the
 * device's condvar until the completion (run on a host thread that holds
 * an lwp and a CPU, or inline) marks the buffer done.  Locks and memory are
 * kern's (kmutex, kcondvar, kmem).  Buffers are
 * allocated lazily up to maxbufs and then recycled from the LRU head; a
 * dirty victim is written back before reuse.
 */
#include <stdlib.h>
#include <string.h>

#include <krank/hyp.h>
#include "kern/kern.h"
#include "kern/kern_errno.h"
#include "dev/blk/blk.h"

#define BLK_MINBUFS	16
#define BLK_MAXRA	256		/* read-ahead blocks per breadn */
/* Adjacent read-ahead blocks go to the disk in one transfer of at most
 * this many bytes (with O_DIRECT every 4 KiB bio was one device round
 * trip: 2,048 of them for a cold 8 MiB file against Linux's ~23). */
#define BLK_RUNMAX	(256u * 1024)
/* Bounce buffers of BLK_RUNMAX bytes kept for reuse: a fresh 256 KiB
 * allocation is a fresh mapping, 64 page faults per run. */
#define BLK_NBOUNCE	8

struct blkdev {
	int fd;
	int rdonly;
	uint64_t size;			/* bytes */
	unsigned bsize;
	unsigned dio;			/* direct-I/O alignment; 0: cached */
	size_t maxbufs;
	kmutex_t mtx;			/* protects everything below */
	kcondvar_t cv;			/* buffer released or I/O done */
	unsigned nwait;			/* threads sleeping on cv */
	unsigned ninflight;		/* bios started, not completed */
	size_t nbufs, ndirty;
	struct buf **hash;		/* in hash_arena */
	struct hyp_arena hash_arena;
	size_t hmask;
	struct buf *lru_head, *lru_tail;	/* not busy; head = oldest */
	void *bounce[BLK_NBOUNCE];	/* idle, bsize-aligned, BLK_RUNMAX */
	unsigned nbounce;
	struct blk_stats st;
};

/* One synchronous wait on a set of I/Os (device mutex). */
struct blk_iowait {
	int pending;
	int error;
};

struct blk_ioarg {
	struct buf *bp;
	struct blk_iowait *w;		/* NULL: asynchronous read-ahead */
	int op;
};

/* A run of adjacent read-ahead buffers read with one bio into a bounce
 * buffer and copied into the buffers on completion.  The bounce buffer
 * is bsize-aligned, its length and disk offset whole blocks: direct
 * I/O's alignment divides bsize (blk_direct), so the bio keeps it.  The
 * buffers stay B_BUSY (owned by the run) until blk_rundone, which also
 * keeps the device open: the run counts in ninflight. */
struct blk_run {
	struct blkdev *dev;
	void *data;			/* BLK_RUNMAX bytes */
	unsigned n;
	struct buf *bp[];
};

/* Sleep on the device condvar (device mutex held). */
static void
blk_sleep(struct blkdev *dev)
{
	dev->nwait++;
	cv_wait(&dev->cv, &dev->mtx);
	dev->nwait--;
}

/* Wake sleepers, if any: most releases find none, and skip the call. */
static void
blk_wakeup(struct blkdev *dev)
{
	if (dev->nwait > 0)
		cv_broadcast(&dev->cv);
}

static size_t
blk_hash(const struct blkdev *dev, uint64_t blkno)
{
	return (size_t)((blkno * 0x9E3779B97F4A7C15ull) >> 20) & dev->hmask;
}

static struct buf *
blk_lookup(struct blkdev *dev, uint64_t blkno)
{
	struct buf *bp;
	for (bp = dev->hash[blk_hash(dev, blkno)]; bp != NULL; bp = bp->b_hnext)
		if (bp->b_blkno == blkno)
			return bp;
	return NULL;
}

static void
blk_hash_insert(struct blkdev *dev, struct buf *bp)
{
	size_t h = blk_hash(dev, bp->b_blkno);
	bp->b_hnext = dev->hash[h];
	dev->hash[h] = bp;
}

static void
blk_hash_remove(struct blkdev *dev, struct buf *bp)
{
	struct buf **pp = &dev->hash[blk_hash(dev, bp->b_blkno)];
	while (*pp != NULL && *pp != bp)
		pp = &(*pp)->b_hnext;
	if (*pp == bp)
		*pp = bp->b_hnext;
	bp->b_hnext = NULL;
}

static void
lru_remove(struct blkdev *dev, struct buf *bp)
{
	if (bp->b_lprev != NULL)
		bp->b_lprev->b_lnext = bp->b_lnext;
	else
		dev->lru_head = bp->b_lnext;
	if (bp->b_lnext != NULL)
		bp->b_lnext->b_lprev = bp->b_lprev;
	else
		dev->lru_tail = bp->b_lprev;
	bp->b_lnext = bp->b_lprev = NULL;
}

static void
lru_append(struct blkdev *dev, struct buf *bp)
{
	bp->b_lnext = NULL;
	bp->b_lprev = dev->lru_tail;
	if (dev->lru_tail != NULL)
		dev->lru_tail->b_lnext = bp;
	else
		dev->lru_head = bp;
	dev->lru_tail = bp;
}

/* Release a busy buffer to the LRU tail and wake waiters (device mutex). */
static void
blk_release_locked(struct blkdev *dev, struct buf *bp)
{
	bp->b_flags &= ~(B_BUSY | B_IO | B_ASYNC);
	lru_append(dev, bp);
	blk_wakeup(dev);
}

static void
blk_iodone(void *arg, size_t bytes, int error)
{
	struct blk_ioarg *ia = arg;
	struct buf *bp = ia->bp;
	struct blkdev *dev = bp->b_dev;
	unsigned bsize = dev->bsize;

	if (error == 0 && bytes != bsize)
		error = EIO;		/* short transfer: the device shrank */
	mutex_enter(&dev->mtx);
	dev->ninflight--;
	bp->b_error = error;
	if (ia->op == RUMPUSER_BIO_READ) {
		if (error == 0)
			bp->b_flags |= B_VALID;
		else
			dev->st.read_errors++;
	} else if (error != 0) {
		dev->st.write_errors++;
	}
	if (ia->w != NULL) {
		if (error != 0 && ia->w->error == 0)
			ia->w->error = error;
		ia->w->pending--;
		bp->b_flags &= ~B_IO;
		blk_wakeup(dev);
	} else {
		/* Read-ahead: nobody waits; an unread buffer is just invalid. */
		blk_release_locked(dev, bp);
	}
	/* Last access to dev: blk_close may free it once ninflight is 0. */
	mutex_exit(&dev->mtx);
	kmem_free(ia, sizeof(*ia));
}

/*
 * Start I/O on a busy buffer.  Called without the device mutex: the
 * completion may run inline, before hostdisk_bio returns.
 */
static int
blk_start(struct blkdev *dev, struct buf *bp, int op, struct blk_iowait *w)
{
	struct blk_ioarg *ia = kmem_alloc(sizeof(*ia), KM_NOSLEEP);
	if (ia == NULL)
		return ENOMEM;
	ia->bp = bp;
	ia->w = w;
	ia->op = op;
	mutex_enter(&dev->mtx);
	dev->ninflight++;
	mutex_exit(&dev->mtx);
	/* Read-ahead (nobody waits) must not be done on the caller. */
	(w != NULL ? hostdisk_bio : hostdisk_bio_async)(dev->fd, op, bp->b_data,
	    dev->bsize, (int64_t)(bp->b_blkno * dev->bsize), blk_iodone, ia);
	return 0;
}

/* Wait for the I/Os counted in w (called and returns with the mutex). */
static int
blk_wait(struct blkdev *dev, struct blk_iowait *w)
{
	while (w->pending > 0)
		blk_sleep(dev);
	return w->error;
}

/* Synchronous transfer of one busy buffer; returns with the mutex held. */
static int
blk_io_sync(struct blkdev *dev, struct buf *bp, int op)
{
	struct blk_iowait w = { 1, 0 };
	int error;

	bp->b_flags |= B_IO;
	mutex_exit(&dev->mtx);
	error = blk_start(dev, bp, op, &w);
	mutex_enter(&dev->mtx);
	if (error != 0) {
		bp->b_flags &= ~B_IO;
		return error;
	}
	if (op == RUMPUSER_BIO_WRITE)
		dev->st.writes++;
	else
		dev->st.reads++;
	return blk_wait(dev, &w);
}

static void
buf_free(struct blkdev *dev, struct buf *bp)
{
	kmem_free_aligned(bp->b_data, dev->bsize);
	kmem_free(bp, sizeof(*bp));
}

/*
 * Find or make the buffer for blkno and mark it busy (device mutex held,
 * may sleep and drop it).  nowait: give up (EAGAIN) instead of sleeping or
 * writing back a victim, for read-ahead.
 */
static int
blk_getbuf_locked(struct blkdev *dev, uint64_t blkno, int nowait,
    struct buf **bpp)
{
	struct buf *bp;
	int error;

	if (blkno >= dev->size / dev->bsize)
		return ENXIO;
	for (;;) {
		bp = blk_lookup(dev, blkno);
		if (bp != NULL) {
			if (bp->b_flags & B_BUSY) {
				if (nowait)
					return EAGAIN;
				blk_sleep(dev);
				continue;
			}
			lru_remove(dev, bp);
			bp->b_flags |= B_BUSY;
			if (!nowait)
				dev->st.hits++;
			*bpp = bp;
			return 0;
		}
		if (dev->nbufs < dev->maxbufs) {
			void *data;
			if ((bp = kmem_alloc(sizeof(*bp), KM_NOSLEEP)) == NULL)
				return ENOMEM;
			if ((data = kmem_alloc_aligned(dev->bsize,
			    dev->bsize)) == NULL) {
				kmem_free(bp, sizeof(*bp));
				return ENOMEM;
			}
			memset(bp, 0, sizeof(*bp));
			bp->b_data = data;
			bp->b_dev = dev;
			dev->nbufs++;
		} else {
			bp = dev->lru_head;
			if (bp == NULL) {
				if (nowait)
					return EAGAIN;
				blk_sleep(dev);
				continue;
			}
			if (bp->b_flags & B_DELWRI) {
				if (nowait)
					return EAGAIN;
				lru_remove(dev, bp);
				bp->b_flags |= B_BUSY;
				error = blk_io_sync(dev, bp, RUMPUSER_BIO_WRITE);
				if (error != 0) {
					blk_release_locked(dev, bp);
					return error;
				}
				bp->b_flags &= ~(B_DELWRI | B_IO);
				dev->ndirty--;
				/*
				 * The victim is clean and still ours: take it,
				 * unless blkno got a buffer while the mutex was
				 * dropped.  Releasing it and looking again
				 * would make the next dirty LRU head the
				 * victim, and so on: one call writing back
				 * every dirty buffer ahead of the first clean
				 * one, one synchronous write at a time.
				 */
				if (blk_lookup(dev, blkno) != NULL) {
					blk_release_locked(dev, bp);
					continue;
				}
			} else {
				lru_remove(dev, bp);
			}
			blk_hash_remove(dev, bp);
			dev->st.evictions++;
		}
		if (!nowait)
			dev->st.misses++;
		bp->b_blkno = blkno;
		bp->b_flags = B_BUSY;
		bp->b_error = 0;
		blk_hash_insert(dev, bp);
		*bpp = bp;
		return 0;
	}
}

int
getblk(struct blkdev *dev, uint64_t blkno, struct buf **bpp)
{
	int error;
	mutex_enter(&dev->mtx);
	error = blk_getbuf_locked(dev, blkno, 0, bpp);
	mutex_exit(&dev->mtx);
	return error;
}

/* Completion of a read-ahead run: fill the buffers it covers entirely,
 * release all of them (one that was not filled stays invalid, and a
 * later bread reads it again). */
static void
blk_rundone(void *arg, size_t bytes, int error)
{
	struct blk_run *run = arg;
	struct blkdev *dev = run->dev;
	unsigned bsize = dev->bsize, n = run->n, i;
	void *data = run->data;

	/* The buffers are busy and ours: copy without the mutex. */
	for (i = 0; i < n && error == 0; i++) {
		if (bytes < (size_t)(i + 1) * bsize)
			break;
		memcpy(run->bp[i]->b_data, (char *)run->data + (size_t)i * bsize,
		    bsize);
	}
	mutex_enter(&dev->mtx);
	dev->ninflight--;
	for (unsigned j = 0; j < n; j++) {
		struct buf *bp = run->bp[j];
		if (j < i) {
			bp->b_flags |= B_VALID;
			bp->b_error = 0;
		} else {
			bp->b_error = error != 0 ? error : EIO;
			dev->st.read_errors++;
		}
		blk_release_locked(dev, bp);
	}
	if (dev->nbounce < BLK_NBOUNCE) {
		dev->bounce[dev->nbounce++] = data;
		data = NULL;
	}
	/* Last access to dev: blk_close may free it once ninflight is 0. */
	mutex_exit(&dev->mtx);
	if (data != NULL)
		kmem_free_aligned(data, BLK_RUNMAX);
	kmem_free(run, sizeof(*run) + n * sizeof(run->bp[0]));
}

/*
 * Start one read of the n adjacent busy buffers in bps (device mutex
 * held, dropped around the bio).  One buffer reads into itself; more go
 * through a bounce buffer.  When the read cannot start (no memory) the
 * buffers are released invalid, as a failed read leaves them.
 */
static void
blk_start_run(struct blkdev *dev, struct buf **bps, unsigned n)
{
	struct blk_run *run = NULL;
	size_t len = (size_t)n * dev->bsize;
	size_t rlen = sizeof(*run) + n * sizeof(run->bp[0]);
	void *data = NULL;
	unsigned i;

	if (n == 1) {
		mutex_exit(&dev->mtx);
		i = blk_start(dev, bps[0], RUMPUSER_BIO_READ, NULL) == 0;
		mutex_enter(&dev->mtx);
		if (!i) {
			blk_release_locked(dev, bps[0]);
			return;
		}
	} else {
		if (dev->nbounce > 0)
			data = dev->bounce[--dev->nbounce];
		if ((run = kmem_alloc(rlen, KM_NOSLEEP)) == NULL ||
		    (data == NULL && (data = kmem_alloc_aligned(BLK_RUNMAX,
		    dev->bsize)) == NULL)) {
			if (run != NULL)
				kmem_free(run, rlen);
			if (data != NULL)
				dev->bounce[dev->nbounce++] = data;
			for (i = 0; i < n; i++)
				blk_release_locked(dev, bps[i]);
			return;
		}
	}
	dev->st.readaheads += n;
	dev->st.reads += n;
	dev->st.rabios++;
	if (n == 1)
		return;
	run->dev = dev;
	run->data = data;
	run->n = n;
	memcpy(run->bp, bps, n * sizeof(run->bp[0]));
	dev->ninflight++;
	mutex_exit(&dev->mtx);
	/* The completion may run inline, before hostdisk_bio_async returns. */
	hostdisk_bio_async(dev->fd, RUMPUSER_BIO_READ, data, len,
	    (int64_t)(bps[0]->b_blkno * dev->bsize), blk_rundone, run);
	mutex_enter(&dev->mtx);
}

/*
 * Start asynchronous reads of the blocks in rablks that are not cached,
 * adjacent ones (ascending block numbers) merged into one bio of up to
 * BLK_RUNMAX bytes.
 */
static void
blk_readahead_locked(struct blkdev *dev, const uint64_t *rablks, int nra)
{
	struct buf *run[BLK_MAXRA];
	unsigned n = 0, runmax = BLK_RUNMAX / dev->bsize;
	int i;

	if (runmax < 1)
		runmax = 1;
	if (nra > BLK_MAXRA)
		nra = BLK_MAXRA;
	if ((size_t)nra > dev->maxbufs / 4)
		nra = (int)(dev->maxbufs / 4);
	for (i = 0; i < nra; i++) {
		struct buf *bp;
		if (n > 0 && (n == runmax ||
		    rablks[i] != run[0]->b_blkno + n)) {
			blk_start_run(dev, run, n);
			n = 0;
		}
		if (blk_lookup(dev, rablks[i]) != NULL)
			continue;
		if (blk_getbuf_locked(dev, rablks[i], 1, &bp) != 0)
			continue;
		bp->b_flags |= B_IO | B_ASYNC;
		run[n++] = bp;
	}
	if (n > 0)
		blk_start_run(dev, run, n);
}

int
breadn(struct blkdev *dev, uint64_t blkno, const uint64_t *rablks, int nra,
    struct buf **bpp)
{
	struct blk_iowait w = { 0, 0 };
	struct buf *bp;
	int error;

	mutex_enter(&dev->mtx);
	error = blk_getbuf_locked(dev, blkno, 0, &bp);
	if (error != 0) {
		mutex_exit(&dev->mtx);
		return error;
	}
	if (!(bp->b_flags & B_VALID)) {
		/* Start our read first, then the read-ahead, then wait. */
		bp->b_flags |= B_IO;
		w.pending = 1;
		dev->st.reads++;
		mutex_exit(&dev->mtx);
		error = blk_start(dev, bp, RUMPUSER_BIO_READ, &w);
		mutex_enter(&dev->mtx);
		if (error != 0) {
			w.pending = 0;
			bp->b_flags &= ~B_IO;
		}
	}
	if (nra > 0)
		blk_readahead_locked(dev, rablks, nra);
	if (error == 0)
		error = blk_wait(dev, &w);
	if (error != 0) {
		bp->b_flags &= ~B_VALID;
		blk_release_locked(dev, bp);
		mutex_exit(&dev->mtx);
		return error;
	}
	mutex_exit(&dev->mtx);
	*bpp = bp;
	return 0;
}

int
bread(struct blkdev *dev, uint64_t blkno, struct buf **bpp)
{
	return breadn(dev, blkno, NULL, 0, bpp);
}

/* An idle, valid cached buffer for blkno, moved to the LRU tail, or NULL. */
static struct buf *
blk_hot_locked(struct blkdev *dev, uint64_t blkno)
{
	struct buf *bp = blk_lookup(dev, blkno);
	if (bp == NULL || (bp->b_flags & (B_BUSY | B_VALID)) != B_VALID)
		return NULL;
	if (bp != dev->lru_tail) {
		lru_remove(dev, bp);
		lru_append(dev, bp);
	}
	dev->st.hits++;
	return bp;
}

int
blk_read_cached(struct blkdev *dev, uint64_t blkno, unsigned off, void *buf,
    size_t len)
{
	struct buf *bp;
	int error = EAGAIN;
	mutex_enter(&dev->mtx);
	if (off + len <= dev->bsize && (bp = blk_hot_locked(dev, blkno)) != NULL) {
		memcpy(buf, (char *)bp->b_data + off, len);
		error = 0;
	}
	mutex_exit(&dev->mtx);
	return error;
}

size_t
blk_read_cached_run(struct blkdev *dev, uint64_t blkno, unsigned off,
    void *buf, size_t len)
{
	struct buf *bp;
	size_t done = 0;
	mutex_enter(&dev->mtx);
	while (done < len && off < dev->bsize &&
	    (bp = blk_hot_locked(dev, blkno)) != NULL) {
		size_t n = dev->bsize - off;
		if (n > len - done)
			n = len - done;
		memcpy((char *)buf + done, (char *)bp->b_data + off, n);
		done += n;
		off = 0;
		blkno++;
	}
	mutex_exit(&dev->mtx);
	return done;
}

int
blk_write_cached(struct blkdev *dev, uint64_t blkno, unsigned off,
    const void *buf, size_t len)
{
	struct buf *bp;
	int error = EAGAIN;
	mutex_enter(&dev->mtx);
	if (!dev->rdonly && off + len <= dev->bsize &&
	    (bp = blk_hot_locked(dev, blkno)) != NULL) {
		memcpy((char *)bp->b_data + off, buf, len);
		if (!(bp->b_flags & B_DELWRI)) {
			bp->b_flags |= B_DELWRI;
			dev->ndirty++;
		}
		error = 0;
	}
	mutex_exit(&dev->mtx);
	return error;
}

void
brelse(struct buf *bp)
{
	struct blkdev *dev = bp->b_dev;
	mutex_enter(&dev->mtx);
	blk_release_locked(dev, bp);
	mutex_exit(&dev->mtx);
}

void
binval(struct buf *bp)
{
	struct blkdev *dev = bp->b_dev;
	mutex_enter(&dev->mtx);
	if (bp->b_flags & B_DELWRI)
		dev->ndirty--;
	bp->b_flags &= ~(B_VALID | B_DELWRI);
	blk_release_locked(dev, bp);
	mutex_exit(&dev->mtx);
}

void
bdwrite(struct buf *bp)
{
	struct blkdev *dev = bp->b_dev;
	mutex_enter(&dev->mtx);
	if (!(bp->b_flags & B_DELWRI))
		dev->ndirty++;
	bp->b_flags |= B_VALID | B_DELWRI;
	blk_release_locked(dev, bp);
	mutex_exit(&dev->mtx);
}

int
bwrite(struct buf *bp)
{
	struct blkdev *dev = bp->b_dev;
	int error;
	mutex_enter(&dev->mtx);
	if (dev->rdonly) {
		blk_release_locked(dev, bp);
		mutex_exit(&dev->mtx);
		return EROFS;
	}
	bp->b_flags |= B_VALID;
	error = blk_io_sync(dev, bp, RUMPUSER_BIO_WRITE);
	if (error == 0) {
		if (bp->b_flags & B_DELWRI)
			dev->ndirty--;
		bp->b_flags &= ~B_DELWRI;
	} else if (!(bp->b_flags & B_DELWRI)) {
		/* Keep the data: a later sync retries it. */
		bp->b_flags |= B_DELWRI;
		dev->ndirty++;
	}
	blk_release_locked(dev, bp);
	mutex_exit(&dev->mtx);
	return error;
}

static int
blk_cmp(const void *a, const void *b)
{
	const struct buf *x = *(struct buf *const *)a;
	const struct buf *y = *(struct buf *const *)b;
	return x->b_blkno < y->b_blkno ? -1 : x->b_blkno > y->b_blkno;
}

#define BLK_SYNCBATCH 64

int
blk_sync(struct blkdev *dev)
{
	struct buf *batch[BLK_SYNCBATCH];
	struct blk_iowait w;
	int error = 0, n, i, err2;
	struct buf *bp, *next;
	uint64_t skip = 0;

	mutex_enter(&dev->mtx);
	if (dev->rdonly) {
		mutex_exit(&dev->mtx);
		return 0;
	}
	for (;;) {
		/* Collect a batch of dirty, idle buffers in block order. */
		n = 0;
		for (bp = dev->lru_head; bp != NULL && n < BLK_SYNCBATCH;
		    bp = next) {
			next = bp->b_lnext;
			if (!(bp->b_flags & B_DELWRI) || bp->b_error == -1)
				continue;
			lru_remove(dev, bp);
			bp->b_flags |= B_BUSY | B_IO;
			batch[n++] = bp;
		}
		if (n == 0)
			break;
		qsort(batch, (size_t)n, sizeof(batch[0]), blk_cmp);
		w.pending = n;
		w.error = 0;
		mutex_exit(&dev->mtx);
		for (i = 0; i < n; i++) {
			err2 = blk_start(dev, batch[i], RUMPUSER_BIO_WRITE, &w);
			if (err2 != 0) {
				mutex_enter(&dev->mtx);
				batch[i]->b_error = err2;
				w.pending--;
				if (w.error == 0)
					w.error = err2;
				mutex_exit(&dev->mtx);
			}
		}
		mutex_enter(&dev->mtx);
		dev->st.writes += (uint64_t)n;
		blk_wait(dev, &w);
		for (i = 0; i < n; i++) {
			bp = batch[i];
			if (bp->b_error == 0) {
				bp->b_flags &= ~B_DELWRI;
				dev->ndirty--;
			} else {
				if (error == 0)
					error = bp->b_error;
				bp->b_error = -1;	/* not again this pass */
				skip++;
			}
			blk_release_locked(dev, bp);
		}
	}
	if (skip != 0)
		for (bp = dev->lru_head; bp != NULL; bp = bp->b_lnext)
			if (bp->b_error == -1)
				bp->b_error = EIO;
	mutex_exit(&dev->mtx);
	err2 = hostdisk_sync(dev->fd, RUMPUSER_SYNCFD_WRITE);
	if (error == 0 && err2 != 0 && err2 != EOPNOTSUPP)
		error = err2;
	return error;
}

/* Wait until no I/O is in flight, read-ahead included (device mutex). */
static void
blk_drain_locked(struct blkdev *dev)
{
	while (dev->ninflight > 0)
		blk_sleep(dev);
}

/* Free every buffer and bounce buffer; all must be idle (device mutex). */
static void
blk_freeall_locked(struct blkdev *dev)
{
	struct buf *bp;
	while ((bp = dev->lru_head) != NULL) {
		lru_remove(dev, bp);
		blk_hash_remove(dev, bp);
		buf_free(dev, bp);
		dev->nbufs--;
	}
	dev->ndirty = 0;
	while (dev->nbounce > 0)
		kmem_free_aligned(dev->bounce[--dev->nbounce], BLK_RUNMAX);
}

int
blk_setbsize(struct blkdev *dev, unsigned bsize, size_t maxbytes)
{
	struct buf **hash;
	struct hyp_arena ha;
	size_t maxbufs, hsize;
	int error;

	if (bsize < 512 || bsize > 65536 || (bsize & (bsize - 1)) != 0)
		return EINVAL;
	/* Blocks smaller than the direct-I/O alignment cannot go direct. */
	if (dev->dio != 0 && bsize % dev->dio != 0) {
		if ((error = hostdisk_direct(dev->fd, 0, NULL)) != 0)
			return error;
		dev->dio = 0;
	}
	maxbufs = maxbytes / bsize;
	if (maxbufs < BLK_MINBUFS)
		maxbufs = BLK_MINBUFS;
	for (hsize = 64; hsize < maxbufs * 2; hsize <<= 1)
		continue;
	/* Fresh zeroed pages, not malloc and memset: the default 8 MiB
	 * cache of an ext2 mount has a 128 KiB table, and clearing it
	 * faulted in all of it at mount (a third of the mount's time);
	 * untouched buckets now cost nothing. */
	if (hyp_arena_create(hsize * sizeof(*hash), 0, &ha) != 0)
		return ENOMEM;
	hash = ha.base;
	error = blk_sync(dev);
	mutex_enter(&dev->mtx);
	blk_drain_locked(dev);
	if (dev->nbufs != 0 && error == 0) {
		blk_freeall_locked(dev);
		if (dev->nbufs != 0)
			error = EBUSY;
	}
	if (error != 0) {
		mutex_exit(&dev->mtx);
		hyp_arena_destroy(&ha);
		return error;
	}
	while (dev->nbounce > 0)	/* aligned for the old bsize */
		kmem_free_aligned(dev->bounce[--dev->nbounce], BLK_RUNMAX);
	hyp_arena_destroy(&dev->hash_arena);
	dev->hash_arena = ha;
	dev->hash = hash;
	dev->hmask = hsize - 1;
	dev->bsize = bsize;
	dev->maxbufs = maxbufs;
	mutex_exit(&dev->mtx);
	return 0;
}

int
blk_open(const char *path, int rdonly, struct blkdev **devp)
{
	struct blkdev *dev;
	uint64_t size;
	int type, error, fd;

	error = hostdisk_info(path, &size, &type);
	if (error != 0)
		return error;
	if (type != RUMPUSER_FT_REG && type != RUMPUSER_FT_BLK)
		return ENOTBLK;
	error = hostdisk_open(path, (rdonly ? RUMPUSER_OPEN_RDONLY :
	    RUMPUSER_OPEN_RDWR) | RUMPUSER_OPEN_BIO, &fd);
	if (error != 0)
		return error;
	if ((dev = kmem_zalloc(sizeof(*dev), KM_NOSLEEP)) == NULL) {
		hostdisk_close(fd);
		return ENOMEM;
	}
	dev->fd = fd;
	dev->rdonly = rdonly;
	dev->size = size;
	mutex_init(&dev->mtx, MUTEX_DEFAULT, IPL_NONE);
	cv_init(&dev->cv, "blk");
	error = blk_setbsize(dev, 1024, 64 * 1024);
	if (error != 0) {
		blk_close(dev);
		return error;
	}
	*devp = dev;
	return 0;
}

int
blk_close(struct blkdev *dev)
{
	int error = blk_sync(dev);
	mutex_enter(&dev->mtx);
	blk_drain_locked(dev);	/* read-ahead completions touch dev */
	blk_freeall_locked(dev);
	mutex_exit(&dev->mtx);
	hyp_arena_destroy(&dev->hash_arena);
	cv_destroy(&dev->cv);
	mutex_destroy(&dev->mtx);
	hostdisk_close(dev->fd);
	kmem_free(dev, sizeof(*dev));
	return error;
}

uint64_t
blk_size(const struct blkdev *dev)
{
	return dev->size;
}

unsigned
blk_bsize(const struct blkdev *dev)
{
	return dev->bsize;
}

struct blk_rawwait {
	kmutex_t *mtx;
	kcondvar_t *cv;
	int done, error;
	size_t bytes;
};

static void
blk_rawdone(void *arg, size_t bytes, int error)
{
	struct blk_rawwait *rw = arg;
	mutex_enter(rw->mtx);
	rw->bytes = bytes;
	rw->error = error;
	rw->done = 1;
	cv_broadcast(rw->cv);
	mutex_exit(rw->mtx);
}

int
blk_direct(struct blkdev *dev)
{
	unsigned align = 0;
	int error;

	if (dev->dio != 0)
		return 0;
	/* No sync first: the host keeps its cache coherent with direct
	 * transfers (it writes back and drops the pages they cover), and
	 * an fsync here cost a mount up to a journal commit of the host. */
	if ((error = hostdisk_direct(dev->fd, 1, &align)) != 0)
		return error;
	if (align == 0 || dev->bsize % align != 0 || align > 65536) {
		hostdisk_direct(dev->fd, 0, NULL);
		return EINVAL;
	}
	mutex_enter(&dev->mtx);
	dev->dio = align;
	mutex_exit(&dev->mtx);
	return 0;
}

unsigned
blk_direct_align(const struct blkdev *dev)
{
	return dev->dio;
}

int
blk_rawread(struct blkdev *dev, uint64_t off, void *buf, size_t len)
{
	struct blk_rawwait rw = { &dev->mtx, &dev->cv, 0, 0, 0 };
	uint64_t a = dev->dio, aoff = off, alen = len;
	uint8_t *b = buf;
	int error;

	if (off + len > dev->size || off + len < off)
		return ENXIO;
	/* Direct I/O: an unaligned request goes through an aligned bounce
	 * buffer that covers it in whole aligned units (the last may reach
	 * past the end of the device: the host then returns less). */
	if (a != 0 && (off % a != 0 || len % a != 0 || (uintptr_t)buf % a != 0)) {
		aoff = off - off % a;
		alen = (off + len + a - 1) / a * a - aoff;
		if ((b = kmem_alloc_aligned(alen, a)) == NULL)
			return ENOMEM;
	}
	hostdisk_bio(dev->fd, RUMPUSER_BIO_READ, b, alen, (int64_t)aoff,
	    blk_rawdone, &rw);
	mutex_enter(&dev->mtx);
	while (!rw.done)
		blk_sleep(dev);
	mutex_exit(&dev->mtx);
	error = rw.error;
	if (error == 0 && rw.bytes < off + len - aoff)
		error = EIO;
	if (b != buf) {
		if (error == 0)
			memcpy(buf, b + (off - aoff), len);
		kmem_free_aligned(b, alen);
	}
	return error;
}

void
blk_getstats(struct blkdev *dev, struct blk_stats *st)
{
	mutex_enter(&dev->mtx);
	*st = dev->st;
	st->nbufs = dev->nbufs;
	st->maxbufs = dev->maxbufs;
	st->ndirty = dev->ndirty;
	mutex_exit(&dev->mtx);
}
