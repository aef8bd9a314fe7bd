/*
 * blk.h - the block device over kern's hostdisk_bio and its buffer cache,
 * shared between rumpdrv components (file systems).  One cache per open device:
 * fixed-size buffers, LRU replacement, write-back (delayed writes reach the
 * disk on blk_sync, on eviction and on blk_close), asynchronous read-ahead,
 * and a bound on the number of buffers.  Vocabulary follows NetBSD's
 * vfs_bio.c: bread, breadn, getblk, brelse, bdwrite, bwrite.
 *
 * All functions return 0 or a positive NetBSD errno value.  Locking: one
 * mutex per device protects the hash, the LRU list and every buffer's
 * flags; a buffer returned to the caller is B_BUSY (owned by that caller)
 * until brelse/bdwrite/bwrite, and its b_data may be used without locks.
 */
#ifndef RUMPDRV_DEV_BLK_H
#define RUMPDRV_DEV_BLK_H

#include <stddef.h>
#include <stdint.h>

struct blkdev;

struct buf {
	uint64_t b_blkno;		/* in units of the device block size */
	void *b_data;			/* bsize bytes, bsize-aligned */
	unsigned b_flags;		/* B_*, device mutex */
	int b_error;			/* last I/O error, device mutex */
	struct blkdev *b_dev;
	struct buf *b_hnext;		/* hash chain, device mutex */
	struct buf *b_lnext, *b_lprev;	/* LRU list (not busy), device mutex */
};

#define B_BUSY		0x01	/* owned by a caller or by an I/O */
#define B_VALID		0x02	/* b_data holds the disk block (or newer) */
#define B_DELWRI	0x04	/* dirty: must be written before reuse */
#define B_IO		0x08	/* I/O in flight */
#define B_ASYNC		0x10	/* in-flight read-ahead: released on completion */

struct blk_stats {
	uint64_t hits, misses, reads, writes, readaheads, evictions;
	uint64_t read_errors, write_errors;
	uint64_t rabios;		/* bios that carried the read-ahead */
	size_t nbufs, maxbufs, ndirty;
};

/*
 * blk_open - open the image or device at path through hostdisk_open(BIO).
 * rdonly opens it read-only.  The block size starts at 1024; set it with
 * blk_setbsize once the file system knows it.  Errors: those of
 * rumpuser_open/getfileinfo; ENOMEM.
 */
int blk_open(const char *path, int rdonly, struct blkdev **devp);
/* blk_close - write back dirty buffers (blk_sync), free the cache, close.
 * Returns the sync error, if any (the device is closed regardless). */
int blk_close(struct blkdev *dev);
/* blk_size - the device size in bytes. */
uint64_t blk_size(const struct blkdev *dev);
/*
 * blk_setbsize - drop every cached buffer (writing dirty ones back) and use
 * blocks of bsize bytes (512..65536, a power of two), caching at most
 * maxbytes of them (at least 16 buffers).  EINVAL for a bad bsize.
 */
int blk_setbsize(struct blkdev *dev, unsigned bsize, size_t maxbytes);
unsigned blk_bsize(const struct blkdev *dev);
/*
 * blk_direct - bypass the host's cache from now on (O_DIRECT through
 * hyp_bio_direct); what this cache holds dirty is written directly
 * later, and the host keeps its own cache coherent.  Every transfer is
 * then aligned: buffers are bsize-aligned, offsets whole blocks, and
 * blk_rawread bounces an unaligned request.  EINVAL when the host's file
 * system refuses direct I/O or the block size is not a multiple of its
 * alignment; the device stays cached then.  A later blk_setbsize to a
 * block size below the alignment turns it off again.
 * blk_direct_align - the alignment while direct, 0 while cached.
 */
int blk_direct(struct blkdev *dev);
unsigned blk_direct_align(const struct blkdev *dev);
/* blk_rawread - synchronous read of len bytes at byte offset off, bypassing
 * the cache (for superblocks before the block size is known). */
int blk_rawread(struct blkdev *dev, uint64_t off, void *buf, size_t len);

/*
 * bread - the buffer for blkno, read from disk if not cached.  On success
 * *bpp is busy and valid.  EIO (or the host's error) when the read fails,
 * ENXIO past the end of the device.
 */
int bread(struct blkdev *dev, uint64_t blkno, struct buf **bpp);
/*
 * breadn - bread, and start asynchronous reads of the nra blocks in rablks
 * that are not cached (read-ahead; at most 256 blocks, and a quarter of
 * the cache).  Runs of adjacent block numbers in ascending order go to
 * the disk as one bio of up to 256 KiB (blk_stats.rabios counts those
 * bios).  Read-ahead failures are not reported here: a block that a
 * failed or short read did not fill stays invalid (read_errors counts
 * it), and a later bread of it reads it again.
 */
int breadn(struct blkdev *dev, uint64_t blkno, const uint64_t *rablks,
    int nra, struct buf **bpp);
/*
 * getblk - the buffer for blkno without reading it: B_VALID tells whether
 * it holds data; the caller that overwrites the whole block need not read.
 * ENXIO past the end of the device.
 */
int getblk(struct blkdev *dev, uint64_t blkno, struct buf **bpp);
/*
 * blk_read_cached / blk_write_cached - the hot path for data already in
 * the cache: copy len bytes at byte offset off of block blkno out of (or
 * into) a valid, idle buffer under the device mutex, without taking the
 * buffer.  A write marks it dirty.  EAGAIN when the block is not cached,
 * not valid or busy: use bread/getblk then.
 */
int blk_read_cached(struct blkdev *dev, uint64_t blkno, unsigned off,
    void *buf, size_t len);
int blk_write_cached(struct blkdev *dev, uint64_t blkno, unsigned off,
    const void *buf, size_t len);
/*
 * blk_read_cached_run - the same over consecutive blocks under one hold of
 * the mutex: len bytes from byte off of block blkno on, into blkno + 1 ...
 * (off < the block size).  Returns the bytes copied: fewer than len (0
 * when blkno itself is not) when a block of the run is not cached.
 */
size_t blk_read_cached_run(struct blkdev *dev, uint64_t blkno, unsigned off,
    void *buf, size_t len);
/* brelse - release a busy buffer unchanged (LRU tail). */
void brelse(struct buf *bp);
/* bdwrite - mark the buffer valid and dirty and release it (write-back). */
void bdwrite(struct buf *bp);
/* bwrite - write the buffer now, wait, release it.  The I/O error. */
int bwrite(struct buf *bp);
/* binval - release a buffer and forget its contents (a freed block). */
void binval(struct buf *bp);
/*
 * blk_sync - write every dirty buffer, wait for them, then ask the host to
 * make the data durable.  The first error (buffers that failed stay dirty).
 */
int blk_sync(struct blkdev *dev);
void blk_getstats(struct blkdev *dev, struct blk_stats *st);

#endif /* RUMPDRV_DEV_BLK_H */
