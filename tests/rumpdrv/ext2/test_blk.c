/*
 * test_blk - the block device and its buffer cache over real rumpuser_bio
 * on a scratch file: write-back (dirty buffers reach the file only on
 * sync, eviction or close), the bound on cached buffers, LRU eviction,
 * read-ahead (started asynchronously, adjacent blocks merged into few
 * bios, later reads are hits; a failed or short merged read leaves its
 * blocks to be read again), read errors
 * past the end, a read-only device refusing writes, the raw read used
 * for superblocks, direct I/O (O_DIRECT: aligned blocks, bounced raw
 * reads), and closing with read-ahead in flight.  The whole test
 * runs twice: on the default bio engine and on the threads engine, where
 * every completion arrives later on another thread.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include <krank/krs.h>
#include <krank/hyp_posix.h>
#include "kern/kern_errno.h"
#include "dev/blk/blk.h"
#include "rdtest.h"

#define BS 4096
#define NBLK 256

static void
fill(void *p, uint64_t blkno, unsigned gen)
{
	uint32_t *w = p;
	for (unsigned i = 0; i < BS / 4; i++)
		w[i] = (uint32_t)(blkno * 2654435761u) ^ (i * 40503u) ^ gen;
}

static int
disk_has(int fd, uint64_t blkno, unsigned gen)
{
	static char want[BS], got[BS];
	fill(want, blkno, gen);
	if (pread(fd, got, BS, (off_t)(blkno * BS)) != BS)
		return 0;
	return memcmp(want, got, BS) == 0;
}

/* 1 when data is what the file holds at block blkno (the disk's bytes,
 * read with the host's own pread). */
static int
same_as_disk(int fd, uint64_t blkno, const void *data)
{
	static char got[BS];
	return pread(fd, got, BS, (off_t)(blkno * BS)) == BS &&
	    memcmp(got, data, BS) == 0;
}

/* Injected host pwrite that fails with EIO (host errno 5, as NetBSD's). */
extern int *__errno_location(void);
static ssize_t
eio_pwrite(int fd, const void *buf, size_t len, off_t off)
{
	(void)fd; (void)buf; (void)len; (void)off;
	*__errno_location() = 5;
	return -1;
}

/* Injected host preads for merged read-ahead (reads longer than a block;
 * single blocks pass through): one that fails with EIO, and one that
 * stops after two blocks (the host's read of the rest then finds the end
 * of the file, as when the image shrank under the device). */
static int64_t eof_at = -1;

static ssize_t
eio_pread_run(int fd, void *buf, size_t len, off_t off)
{
	if (len > BS) {
		*__errno_location() = 5;
		return -1;
	}
	return pread(fd, buf, len, off);
}

static ssize_t
short_pread_run(int fd, void *buf, size_t len, off_t off)
{
	if ((int64_t)off == __atomic_load_n(&eof_at, __ATOMIC_ACQUIRE))
		return 0;
	if (len > 2 * BS) {
		__atomic_store_n(&eof_at, (int64_t)off + 2 * BS, __ATOMIC_RELEASE);
		len = 2 * BS;
	}
	return pread(fd, buf, len, off);
}

/* Run this program again for each bio engine; 0 when all passed. */
static int
run_engines(char **argv)
{
	static const char *engines[] = { NULL, "threads" };
	int failed = 0;
	for (unsigned i = 0; i < 2; i++) {
		pid_t pid = fork();
		int st;
		if (pid == 0) {
			setenv("KRANK_TEST_BLK_CHILD", "1", 1);
			if (engines[i] != NULL)
				setenv("KRANK_BIO", engines[i], 1);
			execv("/proc/self/exe", argv);
			_exit(127);
		}
		printf("== bio engine: %s\n", engines[i] ? engines[i] : "default");
		fflush(stdout);
		if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
		    WEXITSTATUS(st) != 0) {
			printf("FAIL: engine %s\n", engines[i] ? engines[i] :
			    "default");
			failed = 1;
		}
	}
	return failed;
}

int
main(int argc, char **argv)
{
	char path[] = "/tmp/krank-test-blk.XXXXXX", err[128];
	struct blkdev *dev;
	struct blk_stats st;
	struct buf *bp;
	uint64_t ra[8];
	int fd, i, ok;

	(void)argc;
	if (getenv("KRANK_TEST_BLK_CHILD") == NULL && getenv("KRANK_BIO") == NULL)
		return run_engines(argv);
	CHECK(krs_boot("", err, sizeof(err)) == 0, "boot: %s", err);
	fd = mkstemp(path);
	CHECK(fd >= 0, "mkstemp");
	CHECK(ftruncate(fd, NBLK * BS) == 0, "ftruncate");

	CHECK(blk_open(path, 0, &dev) == 0, "open");
	CHECK(blk_size(dev) == NBLK * BS, "size %llu",
	    (unsigned long long)blk_size(dev));
	CHECK(blk_setbsize(dev, 1000, 0) == EINVAL, "odd block size refused");
	CHECK(blk_setbsize(dev, BS, 16 * BS) == 0, "setbsize");

	/* Delayed writes stay in the cache until sync. */
	for (i = 0; i < 8; i++) {
		CHECK(getblk(dev, (uint64_t)i, &bp) == 0, "getblk %d", i);
		fill(bp->b_data, (uint64_t)i, 1);
		bdwrite(bp);
	}
	blk_getstats(dev, &st);
	CHECK(st.ndirty == 8 && st.writes == 0, "8 dirty, none written (%zu, %llu)",
	    st.ndirty, (unsigned long long)st.writes);
	CHECK(!disk_has(fd, 0, 1), "block 0 not on disk before sync");
	CHECK(blk_sync(dev) == 0, "sync");
	for (ok = 1, i = 0; i < 8; i++)
		ok &= disk_has(fd, (uint64_t)i, 1);
	CHECK(ok, "all 8 blocks on disk after sync");
	blk_getstats(dev, &st);
	CHECK(st.ndirty == 0 && st.writes == 8, "8 writes, 0 dirty");
	PASS("write-back: dirty buffers reach the disk at sync");

	/* Far more blocks than the cache holds: bounded, evictions write. */
	for (i = 0; i < NBLK; i++) {
		CHECK(getblk(dev, (uint64_t)i, &bp) == 0, "getblk %d", i);
		fill(bp->b_data, (uint64_t)i, 2);
		bdwrite(bp);
		blk_getstats(dev, &st);
		CHECK(st.nbufs <= 16, "cache bounded: %zu buffers", st.nbufs);
	}
	blk_getstats(dev, &st);
	CHECK(st.evictions >= NBLK - 16, "evictions %llu",
	    (unsigned long long)st.evictions);
	CHECK(disk_has(fd, 0, 2) && disk_has(fd, 100, 2),
	    "evicted dirty blocks were written back");
	PASS("bounded cache: 256 blocks through 16 buffers, none lost");

	/* LRU: a recently used block survives; the oldest goes first. */
	CHECK(blk_sync(dev) == 0, "sync");
	for (i = 0; i < 16; i++) {
		CHECK(bread(dev, (uint64_t)i, &bp) == 0, "bread %d", i);
		brelse(bp);
	}
	CHECK(bread(dev, 0, &bp) == 0, "touch 0");
	brelse(bp);
	CHECK(bread(dev, 200, &bp) == 0, "bread 200 evicts the LRU block");
	brelse(bp);
	blk_getstats(dev, &st);
	{
		uint64_t m0 = st.misses;
		CHECK(bread(dev, 0, &bp) == 0, "bread 0");
		brelse(bp);
		blk_getstats(dev, &st);
		CHECK(st.misses == m0, "block 0 (recently used) was a hit");
		CHECK(bread(dev, 1, &bp) == 0, "bread 1");
		brelse(bp);
		blk_getstats(dev, &st);
		CHECK(st.misses == m0 + 1, "block 1 (least recent) was evicted");
	}
	PASS("LRU replacement");

	/* Read-ahead: one breadn starts 8 more reads; they become hits. */
	CHECK(blk_setbsize(dev, BS, 64 * BS) == 0, "resize cache (drops it)");
	for (i = 0; i < 8; i++)
		ra[i] = (uint64_t)(32 + 1 + i);
	CHECK(breadn(dev, 32, ra, 8, &bp) == 0, "breadn");
	{
		static char want[BS];
		fill(want, 32, 2);
		CHECK(memcmp(bp->b_data, want, BS) == 0, "breadn data");
	}
	brelse(bp);
	blk_getstats(dev, &st);
	CHECK(st.readaheads == 8, "8 read-aheads started (%llu)",
	    (unsigned long long)st.readaheads);
	CHECK(st.rabios == 1, "8 adjacent blocks in one bio (%llu)",
	    (unsigned long long)st.rabios);
	{
		uint64_t reads = st.reads;
		static char want[BS];
		for (i = 0; i < 8; i++) {
			CHECK(bread(dev, ra[i], &bp) == 0, "bread %d", i);
			fill(want, ra[i], 2);
			CHECK(memcmp(bp->b_data, want, BS) == 0,
			    "read-ahead data of block %llu",
			    (unsigned long long)ra[i]);
			CHECK(same_as_disk(fd, ra[i], bp->b_data),
			    "block %llu equals the file's bytes",
			    (unsigned long long)ra[i]);
			brelse(bp);
		}
		blk_getstats(dev, &st);
		CHECK(st.reads == reads, "no new reads after read-ahead");
	}
	/* Adjacent read-ahead blocks share one bio; a gap starts another. */
	{
		static const uint64_t gap[] = { 60, 61, 62, 70, 71 };
		static char want2[BS];
		uint64_t bios = st.rabios;
		CHECK(breadn(dev, 59, gap, 5, &bp) == 0, "breadn with a gap");
		brelse(bp);
		blk_getstats(dev, &st);
		CHECK(st.rabios == bios + 2, "5 blocks in 2 runs: 2 bios (%llu)",
		    (unsigned long long)(st.rabios - bios));
		for (i = 0; i < 5; i++) {
			CHECK(bread(dev, gap[i], &bp) == 0, "bread %llu",
			    (unsigned long long)gap[i]);
			fill(want2, gap[i], 2);
			CHECK(memcmp(bp->b_data, want2, BS) == 0 &&
			    same_as_disk(fd, gap[i], bp->b_data),
			    "merged read-ahead data of block %llu",
			    (unsigned long long)gap[i]);
			brelse(bp);
		}
	}
	/* A long sequential read-ahead: far fewer bios than blocks (runs of
	 * at most 256 KiB), every block the file's bytes. */
	{
		static uint64_t seq[128];
		uint64_t bios, ras, errs, reads;
		for (i = 0; i < 128; i++)
			seq[i] = (uint64_t)(101 + i);
		CHECK(blk_setbsize(dev, BS, 1024 * BS) == 0, "a 4 MiB cache");
		blk_getstats(dev, &st);
		bios = st.rabios;
		ras = st.readaheads;
		errs = st.read_errors;
		CHECK(breadn(dev, 100, seq, 128, &bp) == 0, "breadn of 128");
		brelse(bp);
		blk_getstats(dev, &st);
		CHECK(st.readaheads - ras == 128 && st.rabios - bios == 2,
		    "128 adjacent blocks read ahead in 2 bios of 256 KiB "
		    "(%llu blocks, %llu bios)",
		    (unsigned long long)(st.readaheads - ras),
		    (unsigned long long)(st.rabios - bios));
		reads = st.reads;
		for (i = 0; i < 128; i++) {
			CHECK(bread(dev, seq[i], &bp) == 0, "bread %d", i);
			CHECK(same_as_disk(fd, seq[i], bp->b_data),
			    "block %llu equals the file's bytes",
			    (unsigned long long)seq[i]);
			brelse(bp);
		}
		blk_getstats(dev, &st);
		CHECK(st.reads == reads && st.read_errors == errs,
		    "all 128 were hits (%llu new reads, %llu errors)",
		    (unsigned long long)(st.reads - reads),
		    (unsigned long long)(st.read_errors - errs));
		CHECK(blk_setbsize(dev, BS, 64 * BS) == 0, "back to 64 buffers");
	}
	PASS("read-ahead: asynchronous reads, later hits");

	CHECK(bread(dev, NBLK, &bp) == ENXIO, "read past the end: ENXIO");
	CHECK(getblk(dev, NBLK + 5, &bp) == ENXIO, "getblk past the end");
	{
		char sb[1024];
		CHECK(blk_rawread(dev, 4096 * 3 + 512, sb, sizeof(sb)) == 0,
		    "raw read");
		CHECK(blk_rawread(dev, NBLK * BS - 100, sb, sizeof(sb)) == ENXIO,
		    "raw read past the end");
	}
	PASS("errors past the end of the device");

	/* Hot path: copies in and out of cached buffers only. */
	{
		char w[100], r[100];
		memset(w, 0x5a, sizeof(w));
		CHECK(blk_read_cached(dev, 200, 0, r, 10) == EAGAIN,
		    "uncached block: EAGAIN");
		CHECK(bread(dev, 33, &bp) == 0, "bread 33");
		CHECK(blk_write_cached(dev, 33, 0, w, 10) == EAGAIN,
		    "busy buffer: EAGAIN");
		brelse(bp);
		CHECK(blk_write_cached(dev, 33, 4000, w, 100) == EAGAIN,
		    "copy past the block end refused");
		CHECK(blk_write_cached(dev, 33, 100, w, 100) == 0, "write cached");
		CHECK(blk_read_cached(dev, 33, 100, r, 100) == 0 &&
		    memcmp(r, w, 100) == 0, "read cached");
		blk_getstats(dev, &st);
		CHECK(st.ndirty == 1, "the written buffer is dirty");
		CHECK(blk_sync(dev) == 0, "sync");
		CHECK(pread(fd, r, 100, 33 * BS + 100) == 100 &&
		    memcmp(r, w, 100) == 0, "cached write reached the disk");
	}
	PASS("cached read/write hot path");

	/* The hot path over a run of blocks, under one hold of the lock. */
	{
		static char w[3 * BS], r[3 * BS];
		char one[10];
		for (size_t k = 0; k < sizeof(w); k++)
			w[k] = (char)(k * 13 + k / 4093);
		int good = 1;
		for (int b = 0; b < 3; b++) {
			good &= bread(dev, 70 + b, &bp) == 0;
			if (good)
				brelse(bp);
			good &= blk_write_cached(dev, 70 + b, 0, w + b * BS,
			    BS) == 0;
		}
		CHECK(good && blk_read_cached(dev, 73, 0, one, 10) == EAGAIN,
		    "blocks 70-72 cached, 73 not");
		CHECK(blk_read_cached_run(dev, 70, 100, r, 2 * BS) == 2 * BS &&
		    memcmp(r, w + 100, 2 * BS) == 0,
		    "a run from byte 100 of block 70 across 71 into 72");
		CHECK(blk_read_cached_run(dev, 71, 0, r, 3 * BS) == 2 * BS &&
		    memcmp(r, w + BS, 2 * BS) == 0,
		    "a run into an uncached block stops before it");
		CHECK(blk_read_cached_run(dev, 73, 0, r, BS) == 0,
		    "a run from an uncached block copies nothing");
		CHECK(blk_read_cached_run(dev, 70, BS, r, 10) == 0,
		    "a run from an offset past the block copies nothing");
		CHECK(blk_sync(dev) == 0, "sync");
	}
	PASS("cached runs of blocks");

	/* Direct I/O (O_DIRECT on the scratch file, where /tmp allows it):
	 * whole aligned blocks through the cache, raw reads bounced. */
	{
		int e = blk_direct(dev);
		unsigned a = blk_direct_align(dev);
		if (e == EINVAL) {
			printf("note: /tmp refuses O_DIRECT: direct I/O not "
			    "tested here\n");
		} else {
			static char want[BS];
			char raw[1001];
			uint64_t reads;
			CHECK(e == 0 && a >= 512 && BS % a == 0,
			    "direct I/O on (error %d, alignment %u)", e, a);
			CHECK(getblk(dev, 9, &bp) == 0, "getblk 9");
			fill(bp->b_data, 9, 4);
			CHECK(bwrite(bp) == 0, "direct bwrite");
			CHECK(disk_has(fd, 9, 4), "direct write reached the disk");
			CHECK(blk_setbsize(dev, BS, 16 * BS) == 0, "drop the cache");
			CHECK(blk_direct_align(dev) == a, "still direct");
			blk_getstats(dev, &st);
			reads = st.reads;
			CHECK(bread(dev, 9, &bp) == 0, "direct bread 9");
			fill(want, 9, 4);
			CHECK(memcmp(bp->b_data, want, BS) == 0, "direct read data");
			brelse(bp);
			blk_getstats(dev, &st);
			CHECK(st.reads == reads + 1, "read from the disk");
			/* Unaligned offset, length and buffer. */
			CHECK(blk_rawread(dev, 9 * BS + 100, raw + 1, 1000) == 0,
			    "direct raw read, unaligned");
			CHECK(memcmp(raw + 1, want + 100, 1000) == 0,
			    "unaligned raw read data");
			CHECK(blk_rawread(dev, NBLK * BS - 1000, raw + 1, 1000) == 0,
			    "unaligned raw read at the end of the device");
		}
	}
	PASS("direct I/O: aligned blocks, bounced raw reads");

	/* Close writes back what is still dirty. */
	CHECK(getblk(dev, 7, &bp) == 0, "getblk");
	fill(bp->b_data, 7, 3);
	bdwrite(bp);
	CHECK(blk_close(dev) == 0, "close");
	CHECK(disk_has(fd, 7, 3), "close wrote the dirty block back");
	PASS("close writes back");

	/* A read-only device refuses writes and keeps the disk unchanged. */
	CHECK(blk_open(path, 1, &dev) == 0, "open read-only");
	CHECK(blk_setbsize(dev, BS, 0) == 0, "setbsize");
	CHECK(bread(dev, 7, &bp) == 0, "bread");
	memset(bp->b_data, 0xee, BS);
	CHECK(bwrite(bp) == EROFS, "bwrite on read-only: EROFS");
	CHECK(blk_close(dev) == 0, "close");
	CHECK(disk_has(fd, 7, 3), "disk unchanged");
	PASS("read-only device");

	/* Closing with read-ahead still in flight waits for it (the
	 * completions touch the device). */
	for (i = 0; i < 300; i++) {
		uint64_t many[31];
		for (int j = 0; j < 31; j++)
			many[j] = (uint64_t)(1 + j);
		CHECK(blk_open(path, 1, &dev) == 0, "open");
		CHECK(blk_setbsize(dev, BS, 256 * BS) == 0, "setbsize");
		CHECK(breadn(dev, 0, many, 31, &bp) == 0, "breadn");
		brelse(bp);
		CHECK(blk_close(dev) == 0, "close with read-ahead in flight");
	}
	PASS("close drains in-flight read-ahead");

	/* Failed writes keep the data dirty; a later sync writes it.
	 * (Host-call injection reaches the threads and inline engines.) */
	if (strcmp(hyp_posix_bio_engine(), "io_uring") != 0) {
		CHECK(blk_open(path, 0, &dev) == 0, "open");
		CHECK(blk_setbsize(dev, BS, 16 * BS) == 0, "setbsize");
		CHECK(getblk(dev, 5, &bp) == 0, "getblk");
		fill(bp->b_data, 5, 9);
		bdwrite(bp);
		hyp_posix_hostcall("pwrite", (void *)eio_pwrite);
		CHECK(blk_sync(dev) == EIO, "sync with the disk failing: EIO");
		blk_getstats(dev, &st);
		CHECK(st.ndirty == 1 && st.write_errors >= 1,
		    "the block stays dirty (%zu), error counted", st.ndirty);
		/* Eviction cannot write the victim: getblk fails, data kept. */
		int evict_err = 0;
		for (i = 100; i < 140 && evict_err == 0; i++) {
			evict_err = getblk(dev, (uint64_t)i, &bp);
			if (evict_err == 0)
				brelse(bp);
		}
		CHECK(evict_err == EIO, "eviction of the unwritable block: EIO");
		CHECK(!disk_has(fd, 5, 9), "not on disk yet");
		hyp_posix_hostcall("pwrite", NULL);
		CHECK(blk_sync(dev) == 0, "sync after the disk recovered");
		CHECK(disk_has(fd, 5, 9), "the acknowledged write reached the disk");
		CHECK(blk_close(dev) == 0, "close");
		PASS("write errors: data kept dirty, written once the disk works");
	}

	/* A merged read-ahead that fails, or comes back short: the blocks it
	 * did not fill stay invalid and are counted; a later bread reads
	 * them again and gets the file's bytes; nothing leaks (ASan build).
	 * (Host-call injection reaches the threads and inline engines.) */
	if (strcmp(hyp_posix_bio_engine(), "io_uring") != 0) {
		static const struct {
			void *fn;
			unsigned filled;
			const char *what;
		} inj[] = {
			{ (void *)eio_pread_run, 0, "failing" },
			{ (void *)short_pread_run, 2, "short" },
		};
		CHECK(blk_open(path, 1, &dev) == 0, "open");
		CHECK(blk_setbsize(dev, BS, 64 * BS) == 0, "setbsize");
		for (unsigned k = 0; k < 2; k++) {
			uint64_t base = 100 + 20 * k, run[8], reads, errs, bios;
			for (i = 0; i < 8; i++)
				run[i] = base + 1 + (uint64_t)i;
			blk_getstats(dev, &st);
			errs = st.read_errors;
			bios = st.rabios;
			hyp_posix_hostcall("pread", inj[k].fn);
			CHECK(breadn(dev, base, run, 8, &bp) == 0 &&
			    same_as_disk(fd, base, bp->b_data),
			    "breadn of %llu (a single block reads)",
			    (unsigned long long)base);
			brelse(bp);
			/* The run releases its buffers together: a getblk of
			 * the first waits for the whole run. */
			CHECK(getblk(dev, run[0], &bp) == 0, "getblk");
			brelse(bp);
			hyp_posix_hostcall("pread", NULL);
			blk_getstats(dev, &st);
			CHECK(st.rabios == bios + 1, "one bio for the run");
			CHECK(st.read_errors - errs == 8 - inj[k].filled,
			    "%s run: %u blocks unfilled, counted (%llu)",
			    inj[k].what, 8 - inj[k].filled,
			    (unsigned long long)(st.read_errors - errs));
			reads = st.reads;
			for (i = 0; i < 8; i++) {
				CHECK(bread(dev, run[i], &bp) == 0,
				    "bread %llu after a %s run",
				    (unsigned long long)run[i], inj[k].what);
				CHECK(same_as_disk(fd, run[i], bp->b_data),
				    "block %llu equals the file's bytes",
				    (unsigned long long)run[i]);
				brelse(bp);
			}
			blk_getstats(dev, &st);
			CHECK(st.reads - reads == 8 - inj[k].filled,
			    "%s run: the %u unfilled blocks read again (%llu)",
			    inj[k].what, 8 - inj[k].filled,
			    (unsigned long long)(st.reads - reads));
		}
		CHECK(blk_close(dev) == 0, "close");
		PASS("read-ahead errors: failed or short runs leave blocks "
		    "re-readable");
	}

	/* Missing file: the hypercall's error. */
	CHECK(blk_open("/nonexistent/krank/image", 0, &dev) == ENOENT,
	    "missing image: ENOENT");

	close(fd);
	unlink(path);
	krs_shutdown();
	DONE();
}
