/*
 * test_ext2_readahead - the cold sequential read path issues few, large
 * device reads: ext2's read-ahead window grows on sequential access and
 * the block cache merges adjacent read-ahead blocks into one bio.  Counts
 * (blk_stats.rabios, .readaheads), never times.  A file of NBLK blocks is
 * written, the file system remounted (empty cache), then read 4 KiB at a
 * time: every byte must match, and the read-ahead must have gone to the
 * disk in at most NBLK / 8 bios.  Random reads then must not start a large
 * read-ahead (the window shrinks back).  Usage: test_ext2_readahead IMAGE
 * (a fresh 4 KiB-block mke2fs image; tried with O_DIRECT first).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <krank/krs.h>
#include "kern/kern_errno.h"
#include "fs/ext2/ext2.h"
#include "fs/ext2/ext2_fs.h"
#include "dev/blk/blk.h"
#include "rdtest.h"

#define BS	4096
#define NBLK	1024			/* a 4 MiB file */
#define NRAND	64

static uint8_t want[BS], got[BS];

static void
fill(uint8_t *p, unsigned blk)
{
	for (unsigned i = 0; i < BS; i += 4) {
		uint32_t v = blk * 0x9E3779B1u ^ i;
		memcpy(p + i, &v, 4);
	}
}

static struct ext2fs *
mount_fs(const char *image, int *directp)
{
	struct ext2fs *fs;
	char err[256];
	int e = ext2_mount(image, EXT2_MNT_DIRECT, 16u << 20, &fs, err,
	    sizeof(err));
	CHECK(e == 0, "mount %s: %s", image, err);
	*directp = ext2_direct(fs) == 0;
	return fs;
}

int
main(int argc, char **argv)
{
	char err[256];
	struct ext2fs *fs;
	struct ext2_inode *root, *ip;
	struct blk_stats s0, s1;
	size_t done;
	int direct;
	unsigned i;

	if (argc != 2) {
		fprintf(stderr, "usage: test_ext2_readahead IMAGE\n");
		return 2;
	}
	CHECK(krs_boot("", err, sizeof(err)) == 0, "boot: %s", err);
	fs = mount_fs(argv[1], &direct);
	printf("direct I/O: %s\n", direct ? "yes" : "no (host refuses)");
	CHECK(ext2_iget(fs, ext2_root_ino(), &root) == 0, "root");
	CHECK(ext2_create(root, "seq", 3, EXT2_S_IFREG | 0644, 0, 0, &ip) == 0,
	    "create");
	for (i = 0; i < NBLK; i++) {
		fill(want, i);
		CHECK(ext2_write(ip, want, BS, (uint64_t)i * BS, &done) == 0 &&
		    done == BS, "write block %u", i);
	}
	ext2_iput(ip);
	ext2_iput(root);
	CHECK(ext2_unmount(fs) == 0, "unmount");

	/* Cold: a fresh mount has an empty buffer cache. */
	fs = mount_fs(argv[1], &direct);
	CHECK(ext2_namei(fs, "/seq", 1, &ip) == 0, "lookup /seq");
	ext2_cachestats(fs, &s0);
	for (i = 0; i < NBLK; i++) {
		fill(want, i);
		CHECK(ext2_read(ip, got, BS, (uint64_t)i * BS, &done) == 0 &&
		    done == BS, "read block %u", i);
		if (memcmp(got, want, BS) != 0)
			CHECK(0, "block %u: data differs", i);
	}
	ext2_cachestats(fs, &s1);
	printf("cold sequential read of %u blocks: %llu blocks read ahead in "
	    "%llu bios, %llu reads in all\n", NBLK,
	    (unsigned long long)(s1.readaheads - s0.readaheads),
	    (unsigned long long)(s1.rabios - s0.rabios),
	    (unsigned long long)(s1.reads - s0.reads));
	CHECK(s1.readaheads - s0.readaheads >= NBLK * 3 / 4,
	    "read-ahead brought most blocks (%llu of %u)",
	    (unsigned long long)(s1.readaheads - s0.readaheads), NBLK);
	CHECK(s1.rabios - s0.rabios <= NBLK / 8,
	    "read-ahead merged: %llu bios for %u blocks (at most %u)",
	    (unsigned long long)(s1.rabios - s0.rabios), NBLK, NBLK / 8);
	CHECK(s1.reads - s0.reads <= NBLK + 16,
	    "no block read twice (%llu reads)",
	    (unsigned long long)(s1.reads - s0.reads));
	PASS("cold sequential read: correct data, read-ahead in few large bios");
	ext2_iput(ip);
	CHECK(ext2_unmount(fs) == 0, "unmount");

	/* Random: reads far apart must not grow (or start) a window. */
	fs = mount_fs(argv[1], &direct);
	CHECK(ext2_namei(fs, "/seq", 1, &ip) == 0, "lookup /seq");
	ext2_cachestats(fs, &s0);
	for (i = 0; i < NRAND; i++) {
		unsigned b = (i * 389 + 7) % NBLK;	/* 389 is prime */
		fill(want, b);
		CHECK(ext2_read(ip, got, BS, (uint64_t)b * BS, &done) == 0 &&
		    done == BS && memcmp(got, want, BS) == 0,
		    "random read of block %u", b);
	}
	ext2_cachestats(fs, &s1);
	printf("%u random reads: %llu blocks read ahead\n", NRAND,
	    (unsigned long long)(s1.readaheads - s0.readaheads));
	CHECK(s1.readaheads - s0.readaheads <= 16,
	    "random reads start no large read-ahead (%llu blocks)",
	    (unsigned long long)(s1.readaheads - s0.readaheads));
	PASS("random reads: the window does not grow");
	ext2_iput(ip);
	CHECK(ext2_unmount(fs) == 0, "unmount");
	krs_shutdown();
	DONE();
}
