/*
 * ext2_int.h - ext2 driver internals shared by its .c files.
 * fs->lock (a kernel mutex) protects the whole file system: superblock
 * copy, descriptor table, bitmaps, the inode hash and every inode's fields.
 * Public functions (ext2.h) take it; the *_l functions expect it held.
 */
#ifndef RUMPDRV_EXT2_INT_H
#define RUMPDRV_EXT2_INT_H

#include <stdarg.h>
#include <stdbool.h>
#include "kern/kern.h"
#include "dev/blk/blk.h"
#include "fs/ext2/ext2_fs.h"
#include "fs/ext2/ext2.h"

#define EXT2_IHASH 256

struct ext2fs {
	struct blkdev *dev;
	kmutex_t lock;
	int rdonly;
	int direct_err;			/* ext2_direct */
	uint8_t sb[EXT2_SB_SIZE];	/* superblock copy; written on sync */
	int sb_dirty;
	uint8_t *gd;			/* descriptor table copy */
	size_t gdsize;			/* bytes, whole blocks */
	int gd_dirty;
	unsigned bsize, bshift;
	unsigned nindir;		/* block numbers per indirect block */
	uint32_t ngroups;
	uint32_t blocks_count, inodes_count;
	uint32_t first_data_block;
	uint32_t bpg, ipg;		/* blocks, inodes per group */
	unsigned isize;			/* on-disk inode size */
	uint32_t first_ino;
	uint32_t incompat, rocompat, compat;
	uint32_t itb_per_group;		/* inode table blocks per group */
	uint16_t want_extra_isize;
	struct ext2_inode *ihash[EXT2_IHASH];
	unsigned ninodes;		/* referenced inodes */
	uint64_t nerrors;
	char lasterr[256];
	uint32_t gen;			/* next i_generation */
	uint16_t state_at_mount;	/* s_state restored at unmount */
	/*
	 * System zone (superblock copies, descriptors, bitmaps, inode
	 * tables), from the descriptors checked at mount: blocks in it are
	 * never allocated, freed, or followed from a block map.
	 */
	uint8_t *has_super;		/* per group: 1 if it holds a copy */
	uint32_t meta_base;		/* sb + descriptors + reserved gdt */
	uint64_t nsysrefused;		/* allocations refused: bitmap lied */
	uint64_t ninodelies;		/* live inodes the bitmap called free */
};

#define EXT2_BMRUN	16	/* entries in an inode's block-map run */

struct ext2_inode {
	struct ext2fs *i_fs;
	uint32_t i_number;
	unsigned i_refcnt;
	int i_dirty;
	struct ext2_inode *i_hnext;
	uint8_t *i_raw;			/* fs->isize bytes as on disk */
	/* decoded; i_raw is refreshed from these on write-back */
	uint16_t i_mode;
	uint16_t i_nlink;
	uint32_t i_uid, i_gid;
	uint64_t i_size;
	uint32_t i_atime, i_mtime, i_ctime, i_dtime;
	uint32_t i_atime_ns, i_mtime_ns, i_ctime_ns;
	uint64_t i_nblocks;		/* 512-byte units */
	uint32_t i_flags;
	uint32_t i_block[EXT2_N_BLOCKS];
	uint32_t i_file_acl;
	/* sequential read detection */
	uint64_t i_nextlbn, i_ranext;
	unsigned i_rawin;		/* read-ahead window, blocks; 0: least */
	uint32_t i_lastalloc;		/* allocation goal */
	/* last block-map result (0: none); truncate clears it */
	uint64_t i_bmlbn;
	uint32_t i_bmpbn;
	/*
	 * A run of leaf entries of an indirect block, copied by a lookup so
	 * that sequential I/O through indirect blocks skips the buffer
	 * cache for the mapping (0 entries: holes).  i_bmrn valid entries
	 * from logical block i_bmrlbn; any allocation or truncate clears it.
	 */
	uint64_t i_bmrlbn;
	unsigned i_bmrn;
	uint32_t i_bmrun[EXT2_BMRUN];
};

#define FS_LOCK(fs)	mutex_enter(&(fs)->lock)
#define FS_UNLOCK(fs)	mutex_exit(&(fs)->lock)

/* ext2_vfsops.c */
void ext2_corrupt(struct ext2fs *fs, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int ext2_valid_block(struct ext2fs *fs, uint32_t bno);
int ext2_in_fs(struct ext2fs *fs, uint32_t bno);
int ext2_sysblock(struct ext2fs *fs, uint32_t bno);
int ext2_balloc(struct ext2fs *fs, uint32_t goal, uint32_t *bnop);
int ext2_bfree(struct ext2fs *fs, uint32_t bno);
int ext2_ialloc(struct ext2fs *fs, uint32_t dirino, int isdir, uint32_t *inop);
int ext2_ifree(struct ext2fs *fs, uint32_t ino, int isdir);
int ext2_sync_l(struct ext2fs *fs);
void ext2_now(uint32_t *sec, uint32_t *nsec);

/* ext2_inode.c */
int ext2_iget_l(struct ext2fs *fs, uint32_t ino, struct ext2_inode **ipp);
/* ext2_inode_inuse - whether inode ino is live whatever the bitmap says:
 * referenced in memory, or on disk a link count, or a mode without a
 * deletion time.  why names the field.  0 or bread's error. */
int ext2_inode_inuse(struct ext2fs *fs, uint32_t ino, bool *inusep,
    char *why, size_t whylen);
void ext2_iput_l(struct ext2_inode *ip);
int ext2_inew_l(struct ext2fs *fs, uint32_t ino, uint16_t mode,
    uint32_t uid, uint32_t gid, struct ext2_inode **ipp);
int ext2_iupdate(struct ext2_inode *ip);
int ext2_bmap(struct ext2_inode *ip, uint64_t lbn, int alloc, uint32_t *pbnp,
    int *newp);
int ext2_truncate_l(struct ext2_inode *ip, uint64_t size);
int ext2_read_l(struct ext2_inode *ip, void *buf, size_t len, uint64_t off,
    size_t *donep);
int ext2_write_l(struct ext2_inode *ip, const void *buf, size_t len,
    uint64_t off, size_t *donep);
int ext2_readlink_l(struct ext2_inode *ip, char *buf, size_t len,
    size_t *donep);
int ext2_is_fastlink(const struct ext2_inode *ip);
void ext2_touch(struct ext2_inode *ip, int m, int c);

/* ext2_dir.c */
int ext2_dirlookup(struct ext2_inode *dp, const char *name, size_t namelen,
    uint32_t *inop);

#endif /* RUMPDRV_EXT2_INT_H */
