/*
 * fuzz_ext2 - libFuzzer target: a mutated ext2 image is mounted through the
 * real block device (rumpuser_bio on a memfd) and walked: every directory
 * listed, every inode stat'ed, every file and symlink read.  Then the
 * image is mounted read-write and changed (create, write, mkdir, rename,
 * unlink, truncate) so allocation runs over damaged bitmaps too.  Any
 * error is fine; a crash, a sanitizer report or a hang is a bug, and so
 * is a write over metadata (issue 14): after a read-write mount that was
 * not downgraded to read-only, the backup superblocks and descriptor
 * blocks are byte-for-byte unchanged, and no bitmap, descriptor block or
 * inode-table block holds the workload's file data or directory entries
 * that it did not hold before.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <krank/krs.h>
#include "fs/ext2/ext2.h"
#include "fs/ext2/ext2_fs.h"

static int memfd = -1;
static char path[64];
static size_t budget;		/* bytes left to read for this input */
static unsigned nodes;		/* inodes left to visit */

static void walk(struct ext2fs *fs, uint32_t ino, int depth);

struct ent {
	uint32_t ino;
	int isdot;
};
struct ents {
	struct ent v[64];
	int n;
};

static int
fill(void *arg, const char *name, size_t namelen, uint32_t ino, int dtype,
    uint64_t next)
{
	struct ents *e = arg;
	(void)dtype;
	(void)next;
	if (e->n == 64)
		return 1;
	e->v[e->n].ino = ino;
	e->v[e->n].isdot = (namelen == 1 && name[0] == '.') ||
	    (namelen == 2 && name[0] == '.' && name[1] == '.');
	e->n++;
	return 0;
}

static void
walk(struct ext2fs *fs, uint32_t ino, int depth)
{
	static char buf[8192];
	struct ext2_inode *ip;
	struct ext2_attr a;
	size_t n;

	if (depth > 8 || nodes == 0)
		return;
	nodes--;
	if (ext2_iget(fs, ino, &ip) != 0)
		return;
	ext2_getattr(ip, &a);
	if (EXT2_ISDIR(a.mode)) {
		uint64_t off = 0;
		int eof = 0, rounds = 0;
		while (!eof && rounds++ < 16) {
			struct ents e;
			e.n = 0;
			if (ext2_readdir(ip, &off, fill, &e, &eof) != 0)
				break;
			for (int i = 0; i < e.n; i++)
				if (!e.v[i].isdot)
					walk(fs, e.v[i].ino, depth + 1);
			if (e.n == 0)
				break;
		}
		uint32_t x;
		ext2_lookup(ip, "..", 2, &x);
		ext2_lookup(ip, "missing", 7, &x);
	} else if (EXT2_ISLNK(a.mode)) {
		ext2_readlink(ip, buf, sizeof(buf), &n);
	} else if (EXT2_ISREG(a.mode)) {
		uint64_t off = 0;
		while (budget > 0 && off < a.size) {
			if (ext2_read(ip, buf, sizeof(buf), off, &n) != 0 || n == 0)
				break;
			off += n;
			budget = budget > n ? budget - n : 0;
		}
		/* a far read: holes and indirect blocks */
		ext2_read(ip, buf, 100, a.size / 2, &n);
	}
	ext2_iput(ip);
}

/* The workload's file data: a pattern no metadata block holds by chance. */
static const char marker[16] = "KRANKFUZZ-DATA!\n";

static void
change(struct ext2fs *fs)
{
	static char data[5000];
	struct ext2_inode *root, *ip, *dp;
	size_t done;

	if (ext2_iget(fs, ext2_root_ino(), &root) != 0)
		return;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = marker[i % sizeof(marker)];
	if (ext2_create(root, "fz", 2, EXT2_S_IFREG | 0644, 0, 0, &ip) == 0) {
		ext2_write(ip, data, sizeof(data), 0, &done);
		ext2_write(ip, data, 100, 300000, &done);
		ext2_truncate(ip, 2000);
		ext2_iput(ip);
	}
	if (ext2_mkdir(root, "fzd", 3, 0755, 0, 0, &dp) == 0) {
		ext2_rename(root, "fz", 2, dp, "moved", 5);
		ext2_symlink(dp, "l", 1, "target", 0, 0, &ip) == 0 ?
		    ext2_iput(ip) : (void)0;
		ext2_remove(dp, "moved", 5);
		ext2_remove(dp, "l", 1);
		ext2_iput(dp);
		ext2_rmdir(root, "fzd", 3);
	}
	ext2_remove(root, "fz", 2);
	ext2_iput(root);
}

static uint32_t
le32(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static int
has_super(uint32_t g, uint32_t compat, uint32_t rocompat, const uint8_t *sb)
{
	static const uint32_t base[] = { 3, 5, 7 };
	if (g == 0)
		return 1;
	if (compat & EXT2_FCOMPAT_SPARSE_SUPER2)
		return g == le32(sb + SB_BACKUP_BGS) ||
		    g == le32(sb + SB_BACKUP_BGS + 4);
	if (!(rocompat & EXT2_FROCOMPAT_SPARSE_SUPER) || g == 1)
		return 1;
	for (unsigned i = 0; i < 3; i++) {
		uint64_t p = base[i];
		while (p < g)
			p *= base[i];
		if (p == g)
			return 1;
	}
	return 0;
}

/* A new occurrence of pat in block b (it was not there before). */
static int
gained(const uint8_t *old, const uint8_t *new, uint64_t off, size_t bsize,
    const void *pat, size_t plen)
{
	return memmem(new + off, bsize, pat, plen) != NULL &&
	    memmem(old + off, bsize, pat, plen) == NULL;
}

/*
 * old: the image before the read-write mount, new: after the unmount.
 * The geometry passed the driver's mount checks, so it is sane here.
 */
static void
check_metadata(const uint8_t *old, const uint8_t *new, size_t size)
{
	const uint8_t *sb = old + EXT2_SB_OFFSET;
	uint32_t bsize = 1024u << le32(sb + SB_LOG_BLOCK_SIZE);
	uint32_t bc = le32(sb + SB_BLOCKS_COUNT);
	uint32_t fdb = le32(sb + SB_FIRST_DATA_BLOCK);
	uint32_t bpg = le32(sb + SB_BLOCKS_PER_GROUP);
	uint32_t ipg = le32(sb + SB_INODES_PER_GROUP);
	uint32_t rev = le32(sb + SB_REV_LEVEL);
	uint32_t isize = rev ? (uint32_t)(sb[SB_INODE_SIZE] |
	    sb[SB_INODE_SIZE + 1] << 8) : 128;
	uint32_t compat = rev ? le32(sb + SB_FEATURE_COMPAT) : 0;
	uint32_t rocompat = rev ? le32(sb + SB_FEATURE_RO_COMPAT) : 0;
	uint32_t ng = (bc - fdb + bpg - 1) / bpg;
	uint32_t gdb = (ng * EXT2_GD_SIZE + bsize - 1) / bsize;
	uint32_t rsv = (compat & EXT2_FCOMPAT_RESIZE_INODE) ?
	    (uint32_t)(sb[SB_RESERVED_GDT_BLOCKS] |
	    sb[SB_RESERVED_GDT_BLOCKS + 1] << 8) : 0;
	uint32_t itb = (uint32_t)(((uint64_t)ipg * isize + bsize - 1) / bsize);
	const uint8_t *gd = old + (uint64_t)(fdb + 1) * bsize;
	uint32_t g, b, i, n;

	if ((uint64_t)bc * bsize > size)
		abort();	/* the mount checks this */
	for (g = 0; g < ng; g++) {
		uint32_t gs = fdb + g * bpg;
		uint32_t meta[3];
		if (has_super(g, compat, rocompat, sb)) {
			/* Backups (and group 0's reserved descriptor
			 * blocks) are never written by the driver. */
			b = g == 0 ? fdb + 1 + gdb : gs;
			n = g == 0 ? rsv : 1 + gdb + rsv;
			if (memcmp(old + (uint64_t)b * bsize,
			    new + (uint64_t)b * bsize, (size_t)n * bsize) != 0) {
				fprintf(stderr, "fuzz_ext2: group %u: superblock "
				    "copy or descriptor blocks %u-%u changed\n",
				    g, b, b + n - 1);
				abort();
			}
		}
		meta[0] = le32(gd + (size_t)g * EXT2_GD_SIZE + GD_BLOCK_BITMAP);
		meta[1] = le32(gd + (size_t)g * EXT2_GD_SIZE + GD_INODE_BITMAP);
		meta[2] = le32(gd + (size_t)g * EXT2_GD_SIZE + GD_INODE_TABLE);
		for (i = 0; i < 2 + itb; i++) {
			b = i < 2 ? meta[i] : meta[2] + i - 2;
			if ((uint64_t)b >= bc)
				abort();	/* the mount checks this */
			if (gained(old, new, (uint64_t)b * bsize, bsize,
			    marker, sizeof(marker)) ||
			    gained(old, new, (uint64_t)b * bsize, bsize,
			    "moved", 5)) {
				fprintf(stderr, "fuzz_ext2: group %u: file data "
				    "or a directory entry written over "
				    "metadata block %u\n", g, b);
				abort();
			}
		}
	}
	for (b = fdb + 1; b < fdb + 1 + gdb; b++)
		if (gained(old, new, (uint64_t)b * bsize, bsize, marker,
		    sizeof(marker))) {
			fprintf(stderr, "fuzz_ext2: file data written over "
			    "descriptor block %u\n", b);
			abort();
		}
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[128];
	(void)argc;
	(void)argv;
	if (krs_boot("", err, sizeof(err)) != 0) {
		fprintf(stderr, "krs_boot: %s\n", err);
		abort();
	}
	memfd = memfd_create("fuzz_ext2", 0);
	if (memfd < 0)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ext2fs *fs;
	char err[256];

	if (size > (4u << 20))
		return 0;
	if (ftruncate(memfd, 0) != 0 || ftruncate(memfd, (off_t)size) != 0 ||
	    pwrite(memfd, data, size, 0) != (ssize_t)size)
		abort();
	if (ext2_mount(path, EXT2_MNT_RDONLY, 64 * 1024, &fs, err,
	    sizeof(err)) == 0) {
		budget = 1u << 20;
		nodes = 200;
		walk(fs, ext2_root_ino(), 0);
		ext2_unmount(fs);
	}
	/* The read-only walk wrote nothing: the memfd still holds data. */
	if (ext2_mount(path, 0, 64 * 1024, &fs, err, sizeof(err)) == 0) {
		int rw = !ext2_rdonly(fs);
		change(fs);
		if (ext2_unmount(fs) == 0 && rw) {
			static uint8_t after[4u << 20];
			if (pread(memfd, after, size, 0) != (ssize_t)size)
				abort();
			check_metadata(data, after, size);
		}
	}
	return 0;
}
