/*
 * ext2_vfsops.c - mounting (superblock and group descriptor checks, feature
 * policy), write-back of the superblock and descriptors, block and inode
 * allocation over the bitmaps, statistics.  Disk images are untrusted: every
 * geometry field is checked here once, at mount, so the rest of the driver
 * may compute with it; block numbers read later are checked where used.
 */
#include <stdio.h>	/* vsnprintf/snprintf only: pure formatting */
#include <string.h>

#include "fs/ext2/ext2_int.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

void
ext2_corrupt(struct ext2fs *fs, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(fs->lasterr, sizeof(fs->lasterr), fmt, ap);
	va_end(ap);
	fs->nerrors++;
}

void
ext2_now(uint32_t *sec, uint32_t *nsec)
{
	struct timespec ts;
	getnanotime(&ts);
	*sec = (uint32_t)ts.tv_sec;
	*nsec = (uint32_t)ts.tv_nsec;
}

static uint8_t *
gdp(struct ext2fs *fs, uint32_t g)
{
	return fs->gd + (size_t)g * EXT2_GD_SIZE;
}

int
ext2_in_fs(struct ext2fs *fs, uint32_t bno)
{
	return bno >= fs->first_data_block && bno < fs->blocks_count;
}

/*
 * Is bno metadata of its group (superblock copy, descriptor table and
 * reserved descriptor blocks, a bitmap, the inode table)?  Without
 * flex_bg (refused at mount) every group's metadata lies in the group,
 * which the mount checked, so one group's descriptor decides.
 */
int
ext2_sysblock(struct ext2fs *fs, uint32_t bno)
{
	uint32_t g, off, it;
	const uint8_t *p;

	if (!ext2_in_fs(fs, bno) || fs->has_super == NULL)
		return 0;
	g = (bno - fs->first_data_block) / fs->bpg;
	off = (bno - fs->first_data_block) % fs->bpg;
	if (fs->has_super[g] && off < fs->meta_base)
		return 1;
	p = gdp(fs, g);
	it = ext2_get32(p, GD_INODE_TABLE);
	return bno == ext2_get32(p, GD_BLOCK_BITMAP) ||
	    bno == ext2_get32(p, GD_INODE_BITMAP) ||
	    (bno >= it && bno - it < fs->itb_per_group);
}

/* A block a file or directory may own: inside, and not metadata. */
int
ext2_valid_block(struct ext2fs *fs, uint32_t bno)
{
	return ext2_in_fs(fs, bno) && !ext2_sysblock(fs, bno);
}

static void
sb_add32(struct ext2fs *fs, unsigned off, int32_t d)
{
	ext2_put32(fs->sb, off, ext2_get32(fs->sb, off) + (uint32_t)d);
	fs->sb_dirty = 1;
}

static void
gd_add16(struct ext2fs *fs, uint32_t g, unsigned off, int d)
{
	uint8_t *p = gdp(fs, g);
	ext2_put16(p, off, (uint16_t)(ext2_get16(p, off) + d));
	fs->gd_dirty = 1;
}

/* First clear bit in [from, to) of a bitmap, or -1. */
static long
bit_find_clear(const uint8_t *map, uint32_t from, uint32_t to)
{
	uint32_t i = from;
	while (i < to) {
		if ((i & 7) == 0 && i + 8 <= to && map[i >> 3] == 0xff) {
			i += 8;
			continue;
		}
		if (!(map[i >> 3] & (1u << (i & 7))))
			return (long)i;
		i++;
	}
	return -1;
}

int
ext2_balloc(struct ext2fs *fs, uint32_t goal, uint32_t *bnop)
{
	uint32_t g0, i, g, start, nbits;
	struct buf *bp;
	long bit;
	int error;

	if (!ext2_valid_block(fs, goal))
		goal = fs->first_data_block;
	g0 = (goal - fs->first_data_block) / fs->bpg;
	for (i = 0; i <= fs->ngroups; i++) {
		g = (g0 + i) % fs->ngroups;
		if (ext2_get16(gdp(fs, g), GD_FREE_BLOCKS) == 0)
			continue;
		error = bread(fs->dev, ext2_get32(gdp(fs, g), GD_BLOCK_BITMAP),
		    &bp);
		if (error != 0)
			return error;
		nbits = fs->blocks_count - fs->first_data_block - g * fs->bpg;
		if (nbits > fs->bpg)
			nbits = fs->bpg;
		start = (i == 0) ? (goal - fs->first_data_block) % fs->bpg : 0;
		if (start >= nbits)
			start = 0;
		bit = bit_find_clear(bp->b_data, start, nbits);
		if (bit < 0 && start > 0)
			bit = bit_find_clear(bp->b_data, 0, start);
		if (bit < 0) {
			brelse(bp);
			ext2_corrupt(fs, "group %u: descriptor says %u blocks "
			    "free, bitmap has none", g,
			    ext2_get16(gdp(fs, g), GD_FREE_BLOCKS));
			continue;
		}
		if (ext2_sysblock(fs, fs->first_data_block + g * fs->bpg +
		    (uint32_t)bit)) {
			/*
			 * The bitmap lies: it calls metadata free.  Handing
			 * the block out would let file data overwrite it.
			 */
			brelse(bp);
			fs->nsysrefused++;
			ext2_corrupt(fs, "group %u: block bitmap says metadata "
			    "block %u is free; allocation refused (%llu "
			    "refused, run e2fsck)", g, fs->first_data_block +
			    g * fs->bpg + (uint32_t)bit,
			    (unsigned long long)fs->nsysrefused);
			return EIO;
		}
		((uint8_t *)bp->b_data)[bit >> 3] |= (uint8_t)(1u << (bit & 7));
		bdwrite(bp);
		gd_add16(fs, g, GD_FREE_BLOCKS, -1);
		if (ext2_get32(fs->sb, SB_FREE_BLOCKS) > 0)
			sb_add32(fs, SB_FREE_BLOCKS, -1);
		*bnop = fs->first_data_block + g * fs->bpg + (uint32_t)bit;
		return 0;
	}
	return ENOSPC;
}

int
ext2_bfree(struct ext2fs *fs, uint32_t bno)
{
	uint32_t g, bit;
	struct buf *bp;
	uint8_t *map;
	int error;

	if (!ext2_valid_block(fs, bno)) {
		ext2_corrupt(fs, "freeing block %u: outside the file system "
		    "or metadata", bno);
		return EIO;
	}
	g = (bno - fs->first_data_block) / fs->bpg;
	bit = (bno - fs->first_data_block) % fs->bpg;
	error = bread(fs->dev, ext2_get32(gdp(fs, g), GD_BLOCK_BITMAP), &bp);
	if (error != 0)
		return error;
	map = bp->b_data;
	if (!(map[bit >> 3] & (1u << (bit & 7)))) {
		brelse(bp);
		ext2_corrupt(fs, "block %u freed but already free", bno);
		return EIO;
	}
	map[bit >> 3] &= (uint8_t)~(1u << (bit & 7));
	bdwrite(bp);
	gd_add16(fs, g, GD_FREE_BLOCKS, 1);
	sb_add32(fs, SB_FREE_BLOCKS, 1);
	return 0;
}

/*
 * After ext2_ialloc marked a live inode that the bitmap called free, the
 * group's free-inode count follows the corrected bitmap (whether it had
 * believed the lie or not - debugfs freei, for one, leaves the counts),
 * and the superblock's by the same difference: what e2fsck would set.
 */
static void
ext2_recount_inodes(struct ext2fs *fs, uint32_t g, const uint8_t *map)
{
	uint32_t nfree = 0, old = ext2_get16(gdp(fs, g), GD_FREE_INODES);
	for (uint32_t i = 0; i < fs->ipg; i++)
		if (!(map[i >> 3] & (1u << (i & 7))))
			nfree++;
	if (nfree == old)
		return;
	gd_add16(fs, g, GD_FREE_INODES, (int)nfree - (int)old);
	uint32_t sbfree = ext2_get32(fs->sb, SB_FREE_INODES);
	if ((int64_t)sbfree + nfree - old >= 0)
		sb_add32(fs, SB_FREE_INODES, (int)nfree - (int)old);
}

int
ext2_ialloc(struct ext2fs *fs, uint32_t dirino, int isdir, uint32_t *inop)
{
	uint32_t g0, i, g, start;
	struct buf *bp;
	long bit;
	int error;

	g0 = (dirino >= 1 && dirino <= fs->inodes_count) ?
	    (dirino - 1) / fs->ipg : 0;
	for (i = 0; i < fs->ngroups; i++) {
		g = (g0 + i) % fs->ngroups;
		if (ext2_get16(gdp(fs, g), GD_FREE_INODES) == 0)
			continue;
		error = bread(fs->dev, ext2_get32(gdp(fs, g), GD_INODE_BITMAP),
		    &bp);
		if (error != 0)
			return error;
		/* Inodes below first_ino are reserved. */
		start = 0;
		if (g * fs->ipg + 1 < fs->first_ino)
			start = fs->first_ino - 1 - g * fs->ipg;
		bool marked = false;
		for (;;) {
			char why[96];
			bool inuse;
			bit = start < fs->ipg ? bit_find_clear(bp->b_data,
			    start, fs->ipg) : -1;
			if (bit < 0)
				break;
			error = ext2_inode_inuse(fs, g * fs->ipg +
			    (uint32_t)bit + 1, &inuse, why, sizeof(why));
			if (error != 0) {
				if (marked)
					bdwrite(bp);
				else
					brelse(bp);
				return error;
			}
			if (!inuse)
				break;
			/*
			 * The bitmap lies: it calls a live inode free.
			 * Handing it out would overwrite a file (its new
			 * owner's mode, size and blocks over the old).  Mark
			 * it in use, as e2fsck would, and look further; the
			 * counts that believed the bitmap follow it.
			 */
			((uint8_t *)bp->b_data)[bit >> 3] |=
			    (uint8_t)(1u << (bit & 7));
			marked = true;
			__atomic_fetch_add(&fs->ninodelies, 1,
			    __ATOMIC_RELAXED);
			ext2_recount_inodes(fs, g, bp->b_data);
			ext2_corrupt(fs, "group %u: inode bitmap says inode %u "
			    "is free but its %s; marked in use, not reused "
			    "(run e2fsck)", g, g * fs->ipg + (uint32_t)bit + 1,
			    why);
			start = (uint32_t)bit + 1;
		}
		if (bit < 0) {
			if (marked)
				bdwrite(bp);
			else
				brelse(bp);
			if (!marked)
				ext2_corrupt(fs, "group %u: descriptor says "
				    "inodes free, bitmap has none", g);
			continue;
		}
		((uint8_t *)bp->b_data)[bit >> 3] |= (uint8_t)(1u << (bit & 7));
		bdwrite(bp);
		gd_add16(fs, g, GD_FREE_INODES, -1);
		if (isdir)
			gd_add16(fs, g, GD_USED_DIRS, 1);
		if (ext2_get32(fs->sb, SB_FREE_INODES) > 0)
			sb_add32(fs, SB_FREE_INODES, -1);
		*inop = g * fs->ipg + (uint32_t)bit + 1;
		return 0;
	}
	return ENOSPC;
}

int
ext2_ifree(struct ext2fs *fs, uint32_t ino, int isdir)
{
	uint32_t g, bit;
	struct buf *bp;
	uint8_t *map;
	int error;

	g = (ino - 1) / fs->ipg;
	bit = (ino - 1) % fs->ipg;
	error = bread(fs->dev, ext2_get32(gdp(fs, g), GD_INODE_BITMAP), &bp);
	if (error != 0)
		return error;
	map = bp->b_data;
	if (!(map[bit >> 3] & (1u << (bit & 7)))) {
		brelse(bp);
		ext2_corrupt(fs, "inode %u freed but already free", ino);
		return EIO;
	}
	map[bit >> 3] &= (uint8_t)~(1u << (bit & 7));
	bdwrite(bp);
	gd_add16(fs, g, GD_FREE_INODES, 1);
	if (isdir && ext2_get16(gdp(fs, g), GD_USED_DIRS) > 0)
		gd_add16(fs, g, GD_USED_DIRS, -1);
	sb_add32(fs, SB_FREE_INODES, 1);
	return 0;
}

static int
ext2_write_sb(struct ext2fs *fs)
{
	uint64_t blk = EXT2_SB_OFFSET / fs->bsize;
	unsigned off = EXT2_SB_OFFSET % fs->bsize;
	struct buf *bp;
	int error = bread(fs->dev, blk, &bp);
	if (error != 0)
		return error;
	memcpy((uint8_t *)bp->b_data + off, fs->sb, EXT2_SB_SIZE);
	bdwrite(bp);
	fs->sb_dirty = 0;
	return 0;
}

static int
ext2_write_gd(struct ext2fs *fs)
{
	size_t nblk = fs->gdsize / fs->bsize, i;
	struct buf *bp;
	int error;
	for (i = 0; i < nblk; i++) {
		error = getblk(fs->dev, fs->first_data_block + 1 + i, &bp);
		if (error != 0)
			return error;
		memcpy(bp->b_data, fs->gd + i * fs->bsize, fs->bsize);
		bdwrite(bp);
	}
	fs->gd_dirty = 0;
	return 0;
}

int
ext2_sync_l(struct ext2fs *fs)
{
	struct ext2_inode *ip;
	int error = 0, e, h;

	if (fs->rdonly)
		return 0;
	for (h = 0; h < EXT2_IHASH; h++)
		for (ip = fs->ihash[h]; ip != NULL; ip = ip->i_hnext)
			if (ip->i_dirty && (e = ext2_iupdate(ip)) != 0 &&
			    error == 0)
				error = e;
	if (fs->gd_dirty && (e = ext2_write_gd(fs)) != 0 && error == 0)
		error = e;
	if (fs->sb_dirty) {
		uint32_t s, ns;
		ext2_now(&s, &ns);
		ext2_put32(fs->sb, SB_WTIME, s);
		if ((e = ext2_write_sb(fs)) != 0 && error == 0)
			error = e;
	}
	if ((e = blk_sync(fs->dev)) != 0 && error == 0)
		error = e;
	return error;
}

int
ext2_sync(struct ext2fs *fs)
{
	int error;
	FS_LOCK(fs);
	error = ext2_sync_l(fs);
	FS_UNLOCK(fs);
	return error;
}

static const struct {
	uint32_t bit;
	const char *name;
} incompat_names[] = {
	{ EXT2_FINCOMPAT_COMPRESSION, "compression" },
	{ EXT2_FINCOMPAT_RECOVER, "needs_recovery" },
	{ EXT2_FINCOMPAT_JOURNAL_DEV, "journal_dev" },
	{ EXT2_FINCOMPAT_META_BG, "meta_bg" },
	{ EXT2_FINCOMPAT_EXTENTS, "extent" },
	{ EXT2_FINCOMPAT_64BIT, "64bit" },
	{ EXT2_FINCOMPAT_MMP, "mmp" },
	{ EXT2_FINCOMPAT_FLEX_BG, "flex_bg" },
	{ EXT2_FINCOMPAT_EA_INODE, "ea_inode" },
	{ EXT2_FINCOMPAT_DIRDATA, "dirdata" },
	{ EXT2_FINCOMPAT_CSUM_SEED, "metadata_csum_seed" },
	{ EXT2_FINCOMPAT_LARGEDIR, "large_dir" },
	{ EXT2_FINCOMPAT_INLINE_DATA, "inline_data" },
	{ EXT2_FINCOMPAT_ENCRYPT, "encrypt" },
	{ EXT2_FINCOMPAT_CASEFOLD, "casefold" },
}, rocompat_names[] = {
	{ EXT2_FROCOMPAT_BTREE_DIR, "btree_dir" },
	{ EXT2_FROCOMPAT_HUGE_FILE, "huge_file" },
	{ EXT2_FROCOMPAT_GDT_CSUM, "uninit_bg" },
	{ EXT2_FROCOMPAT_DIR_NLINK, "dir_nlink" },
	{ EXT2_FROCOMPAT_EXTRA_ISIZE, "extra_isize" },
	{ EXT2_FROCOMPAT_QUOTA, "quota" },
	{ EXT2_FROCOMPAT_BIGALLOC, "bigalloc" },
	{ EXT2_FROCOMPAT_METADATA_CSUM, "metadata_csum" },
	{ EXT2_FROCOMPAT_READONLY, "read-only" },
	{ EXT2_FROCOMPAT_PROJECT, "project" },
};

static void
feature_names(char *buf, size_t len, uint32_t bits, int ro)
{
	size_t i, n = ro ? NELEM(rocompat_names) : NELEM(incompat_names);
	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		uint32_t b = ro ? rocompat_names[i].bit : incompat_names[i].bit;
		const char *nm = ro ? rocompat_names[i].name :
		    incompat_names[i].name;
		if (bits & b) {
			size_t l = strlen(buf);
			snprintf(buf + l, len - l, "%s%s", l ? " " : "", nm);
			bits &= ~b;
		}
	}
	if (bits != 0) {
		size_t l = strlen(buf);
		snprintf(buf + l, len - l, "%s0x%x", l ? " " : "", bits);
	}
}

/* Check the superblock copy; fills geometry.  EFTYPE/EINVAL/ENOTSUP. */
static int
ext2_check_sb(struct ext2fs *fs, uint64_t devsize, char *err, size_t errlen)
{
	const uint8_t *sb = fs->sb;
	uint32_t logbs, rev, ngroups;
	uint64_t need;
	char names[128];

	if (ext2_get16(sb, SB_MAGIC) != EXT2_MAGIC) {
		snprintf(err, errlen, "not an ext2 file system (magic 0x%04x, "
		    "want 0xef53)", ext2_get16(sb, SB_MAGIC));
		return EFTYPE;
	}
	rev = ext2_get32(sb, SB_REV_LEVEL);
	if (rev > 1) {
		snprintf(err, errlen, "unsupported revision %u", rev);
		return EINVAL;
	}
	logbs = ext2_get32(sb, SB_LOG_BLOCK_SIZE);
	if (logbs > 6) {
		snprintf(err, errlen, "bad block size (log %u)", logbs);
		return EINVAL;
	}
	fs->bshift = 10 + logbs;
	fs->bsize = 1u << fs->bshift;
	fs->nindir = fs->bsize / 4;
	fs->blocks_count = ext2_get32(sb, SB_BLOCKS_COUNT);
	fs->inodes_count = ext2_get32(sb, SB_INODES_COUNT);
	fs->first_data_block = ext2_get32(sb, SB_FIRST_DATA_BLOCK);
	fs->bpg = ext2_get32(sb, SB_BLOCKS_PER_GROUP);
	fs->ipg = ext2_get32(sb, SB_INODES_PER_GROUP);
	if (rev == 0) {
		fs->isize = EXT2_GOOD_OLD_INODE_SIZE;
		fs->first_ino = EXT2_GOOD_OLD_FIRST_INO;
		fs->compat = fs->incompat = fs->rocompat = 0;
	} else {
		fs->isize = ext2_get16(sb, SB_INODE_SIZE);
		fs->first_ino = ext2_get32(sb, SB_FIRST_INO);
		fs->compat = ext2_get32(sb, SB_FEATURE_COMPAT);
		fs->incompat = ext2_get32(sb, SB_FEATURE_INCOMPAT);
		fs->rocompat = ext2_get32(sb, SB_FEATURE_RO_COMPAT);
	}
	if (fs->incompat & ~EXT2_INCOMPAT_SUPP) {
		feature_names(names, sizeof(names),
		    fs->incompat & ~EXT2_INCOMPAT_SUPP, 0);
		snprintf(err, errlen, "unsupported incompatible features: %s%s",
		    names, (fs->incompat & EXT2_FINCOMPAT_RECOVER) ?
		    " (the journal needs recovery: run e2fsck)" :
		    " (ext3/ext4 image? only ext2 is supported)");
		return ENOTSUP;
	}
	if (fs->first_data_block != (fs->bsize == 1024 ? 1u : 0u)) {
		snprintf(err, errlen, "bad first data block %u for %u-byte "
		    "blocks", fs->first_data_block, fs->bsize);
		return EINVAL;
	}
	if (fs->bpg == 0 || fs->bpg > 8 * fs->bsize || fs->ipg == 0 ||
	    fs->ipg > 8 * fs->bsize) {
		snprintf(err, errlen, "bad group geometry (%u blocks, %u "
		    "inodes per group)", fs->bpg, fs->ipg);
		return EINVAL;
	}
	if (fs->isize < EXT2_GOOD_OLD_INODE_SIZE || fs->isize > fs->bsize ||
	    (fs->isize & (fs->isize - 1)) != 0) {
		snprintf(err, errlen, "bad inode size %u", fs->isize);
		return EINVAL;
	}
	if (fs->blocks_count <= fs->first_data_block) {
		snprintf(err, errlen, "bad block count %u", fs->blocks_count);
		return EINVAL;
	}
	ngroups = (fs->blocks_count - fs->first_data_block + fs->bpg - 1) /
	    fs->bpg;
	if ((uint64_t)ngroups * fs->ipg != fs->inodes_count) {
		snprintf(err, errlen, "inode count %u does not match %u groups "
		    "of %u", fs->inodes_count, ngroups, fs->ipg);
		return EINVAL;
	}
	if (fs->first_ino < EXT2_GOOD_OLD_FIRST_INO ||
	    fs->first_ino > fs->inodes_count) {
		snprintf(err, errlen, "bad first inode %u", fs->first_ino);
		return EINVAL;
	}
	need = (uint64_t)fs->blocks_count * fs->bsize;
	if (need > devsize) {
		snprintf(err, errlen, "image is truncated: the file system "
		    "needs %llu bytes, the image has %llu",
		    (unsigned long long)need, (unsigned long long)devsize);
		return EINVAL;
	}
	fs->ngroups = ngroups;
	fs->itb_per_group = (uint32_t)(((uint64_t)fs->ipg * fs->isize +
	    fs->bsize - 1) / fs->bsize);
	fs->gdsize = ((size_t)ngroups * EXT2_GD_SIZE + fs->bsize - 1) /
	    fs->bsize * fs->bsize;
	if (fs->first_data_block + 1 + fs->gdsize / fs->bsize >
	    fs->blocks_count) {
		snprintf(err, errlen, "descriptor table does not fit");
		return EINVAL;
	}
	fs->want_extra_isize = 0;
	if (fs->isize > EXT2_GOOD_OLD_INODE_SIZE) {
		fs->want_extra_isize = ext2_get16(sb, SB_WANT_EXTRA_ISIZE);
		if (fs->want_extra_isize < 32 ||
		    fs->want_extra_isize > fs->isize - EXT2_GOOD_OLD_INODE_SIZE ||
		    (fs->want_extra_isize & 3))
			fs->want_extra_isize = fs->isize -
			    EXT2_GOOD_OLD_INODE_SIZE >= 32 ? 32 : 0;
	}
	return 0;
}

static int
has_super(struct ext2fs *fs, uint32_t g)
{
	uint32_t p, b;
	static const uint32_t base[] = { 3, 5, 7 };
	unsigned i;

	if (g == 0)
		return 1;
	if (fs->compat & EXT2_FCOMPAT_SPARSE_SUPER2)
		return g == ext2_get32(fs->sb, SB_BACKUP_BGS) ||
		    g == ext2_get32(fs->sb, SB_BACKUP_BGS + 4);
	if (!(fs->rocompat & EXT2_FROCOMPAT_SPARSE_SUPER) || g == 1)
		return 1;
	for (i = 0; i < NELEM(base); i++) {
		b = base[i];
		for (p = b; p < g && p <= 0xffffffffu / b; p *= b)
			;
		if (p == g)
			return 1;
	}
	return 0;
}

/*
 * The descriptors, as Linux's ext2_check_descriptors: each group's block
 * bitmap, inode bitmap and inode table lie in the file system (else
 * EINVAL: refused), and in their own group, clear of the superblock copy
 * and descriptor blocks and of each other (else EROFS: a read-only mount
 * can still read, but allocation would write over metadata).  Messages
 * name the group and the field.
 */
static int
ext2_check_gd(struct ext2fs *fs, char *err, size_t errlen)
{
	uint32_t g, bb, ib, it, gstart, gend, rsv = 0;
	int error = 0;
	const char *what;

	if (fs->compat & EXT2_FCOMPAT_RESIZE_INODE)
		rsv = ext2_get16(fs->sb, SB_RESERVED_GDT_BLOCKS);
	fs->meta_base = 1 + (uint32_t)(fs->gdsize / fs->bsize) + rsv;
	if (fs->meta_base >= fs->bpg) {
		snprintf(err, errlen, "ext2_check_descriptors: %u descriptor "
		    "blocks (%u reserved) do not fit in a group of %u blocks",
		    (unsigned)(fs->gdsize / fs->bsize), rsv, fs->bpg);
		return EINVAL;
	}
	/* ngroups comes from the superblock: above kmem's bound this is
	 * NULL, not a wait. */
	if ((fs->has_super = kmem_alloc(fs->ngroups, KM_SLEEP)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return ENOMEM;
	}
	for (g = 0; g < fs->ngroups; g++)
		fs->has_super[g] = (uint8_t)has_super(fs, g);
	for (g = 0; g < fs->ngroups; g++) {
		bb = ext2_get32(gdp(fs, g), GD_BLOCK_BITMAP);
		ib = ext2_get32(gdp(fs, g), GD_INODE_BITMAP);
		it = ext2_get32(gdp(fs, g), GD_INODE_TABLE);
		what = !ext2_in_fs(fs, bb) ? "Block bitmap" :
		    !ext2_in_fs(fs, ib) ? "Inode bitmap" :
		    (!ext2_in_fs(fs, it) || (uint64_t)it + fs->itb_per_group >
		    fs->blocks_count) ? "Inode table" : NULL;
		if (what != NULL) {
			snprintf(err, errlen, "ext2_check_descriptors: %s for "
			    "group %u not in the file system (block %u)!",
			    what, g, what[0] == 'B' ? bb : what[6] == 'b' ? ib :
			    it);
			return EINVAL;
		}
		if (ext2_get16(gdp(fs, g), GD_FREE_BLOCKS) > fs->bpg ||
		    ext2_get16(gdp(fs, g), GD_FREE_INODES) > fs->ipg) {
			snprintf(err, errlen, "ext2_check_descriptors: free "
			    "counts of group %u out of range (%u blocks, %u "
			    "inodes)", g, ext2_get16(gdp(fs, g),
			    GD_FREE_BLOCKS), ext2_get16(gdp(fs, g),
			    GD_FREE_INODES));
			return EINVAL;
		}
		if (error != 0)
			continue;	/* the first placement error is kept */
		gstart = fs->first_data_block + g * fs->bpg;
		gend = fs->blocks_count - gstart < fs->bpg ?
		    fs->blocks_count : gstart + fs->bpg;
		if (fs->has_super[g])
			gstart += fs->meta_base;	/* past sb + gdt */
		if (bb < gstart || bb >= gend)
			snprintf(err, errlen, "ext2_check_descriptors: Block "
			    "bitmap for group %u not in group (block %u)!", g,
			    bb);
		else if (ib < gstart || ib >= gend)
			snprintf(err, errlen, "ext2_check_descriptors: Inode "
			    "bitmap for group %u not in group (block %u)!", g,
			    ib);
		else if (it < gstart || (uint64_t)it + fs->itb_per_group >
		    gend)
			snprintf(err, errlen, "ext2_check_descriptors: Inode "
			    "table for group %u not in group (block %u)!", g,
			    it);
		else if (bb == ib)
			snprintf(err, errlen, "ext2_check_descriptors: Block "
			    "and inode bitmap for group %u are the same block "
			    "(%u)!", g, bb);
		else if (bb - it < fs->itb_per_group)
			snprintf(err, errlen, "ext2_check_descriptors: Block "
			    "bitmap for group %u inside its inode table (block "
			    "%u)!", g, bb);
		else if (ib - it < fs->itb_per_group)
			snprintf(err, errlen, "ext2_check_descriptors: Inode "
			    "bitmap for group %u inside its inode table (block "
			    "%u)!", g, ib);
		else
			continue;
		error = EROFS;
	}
	return error;
}

int
ext2_mount(const char *path, int flags, size_t cachebytes,
    struct ext2fs **fsp, char *err, size_t errlen)
{
	struct ext2fs *fs;
	struct buf *bp;
	char dummy[4];
	char names[128];
	size_t i;
	int error, rdonly = (flags & EXT2_MNT_RDONLY) != 0;

	if (err == NULL || errlen == 0) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	err[0] = '\0';
	fs = kmem_zalloc(sizeof(*fs), KM_SLEEP);
	error = blk_open(path, rdonly, &fs->dev);
	if (error != 0) {
		/* The caller names the image and the errno. */
		kmem_free(fs, sizeof(*fs));
		return error;
	}
	error = blk_rawread(fs->dev, EXT2_SB_OFFSET, fs->sb, EXT2_SB_SIZE);
	if (error == ENXIO) {
		snprintf(err, errlen, "image too small for an ext2 superblock "
		    "(%llu bytes)", (unsigned long long)blk_size(fs->dev));
		error = EINVAL;
	} else if (error != 0) {
		snprintf(err, errlen, "cannot read the superblock (error %d)",
		    error);
	}
	if (error == 0)
		error = ext2_check_sb(fs, blk_size(fs->dev), err, errlen);
	if (error == 0 && (fs->rocompat & ~EXT2_ROCOMPAT_SUPP) && !rdonly) {
		feature_names(names, sizeof(names),
		    fs->rocompat & ~EXT2_ROCOMPAT_SUPP, 1);
		snprintf(fs->lasterr, sizeof(fs->lasterr), "mounted read-only: "
		    "unsupported read-only-compatible features: %s", names);
		/* Reopen read-only so nothing can reach the disk. */
		blk_close(fs->dev);
		fs->dev = NULL;
		rdonly = 1;
		error = blk_open(path, 1, &fs->dev);
		if (error != 0)
			snprintf(err, errlen, "cannot reopen the image read-only "
			    "(error %d)", error);
	}
	fs->rdonly = rdonly;
	if (error == 0)
		error = blk_setbsize(fs->dev, fs->bsize,
		    cachebytes ? cachebytes : 8u << 20);
	fs->direct_err = ENOTSUP;
	/* The descriptors' size comes from the superblock (groups): NULL
	 * above kmem's bound, ENOMEM to the mount. */
	if (error == 0 && (fs->gd = kmem_alloc(fs->gdsize, KM_SLEEP)) == NULL) {
		snprintf(err, errlen, "no memory for %zu bytes of group "
		    "descriptors", fs->gdsize);
		error = ENOMEM;
	}
	for (i = 0; error == 0 && i < fs->gdsize / fs->bsize; i++) {
		error = bread(fs->dev, fs->first_data_block + 1 + i, &bp);
		if (error != 0) {
			snprintf(err, errlen, "cannot read the group descriptors "
			    "(error %d)", error);
			break;
		}
		memcpy(fs->gd + i * fs->bsize, bp->b_data, fs->bsize);
		brelse(bp);
	}
	if (error == 0)
		error = ext2_check_gd(fs, err, errlen);
	if (error == EROFS) {
		/*
		 * Metadata misplaced: reads stay inside the file system, but
		 * no write may trust these descriptors.
		 */
		snprintf(fs->lasterr, sizeof(fs->lasterr), "%s%s",
		    rdonly ? "" : "mounted read-only: ", err);
		fs->nerrors++;
		err[0] = '\0';
		error = 0;
		if (!rdonly) {
			blk_close(fs->dev);
			fs->dev = NULL;
			rdonly = fs->rdonly = 1;
			error = blk_open(path, 1, &fs->dev);
			if (error != 0)
				snprintf(err, errlen, "cannot reopen the image "
				    "read-only (error %d)", error);
			else
				error = blk_setbsize(fs->dev, fs->bsize,
				    cachebytes ? cachebytes : 8u << 20);
		}
	}
	if (error != 0) {
		if (fs->dev != NULL)
			blk_close(fs->dev);
		if (fs->has_super != NULL)
			kmem_free(fs->has_super, fs->ngroups);
		if (fs->gd != NULL)
			kmem_free(fs->gd, fs->gdsize);
		kmem_free(fs, sizeof(*fs));
		return error;
	}
	mutex_init(&fs->lock, MUTEX_DEFAULT, IPL_NONE);
	/* Inode generations need only differ between mounts. */
	fs->gen = cprng_fast32();
	if (!fs->rdonly) {
		/*
		 * Mark the file system "not clean" on disk while it is mounted
		 * read-write, as Linux does: after a crash, e2fsck -p checks
		 * it.  Unmount puts back the state found here.
		 */
		uint32_t s, ns;
		ext2_now(&s, &ns);
		fs->state_at_mount = ext2_get16(fs->sb, SB_STATE);
		ext2_put16(fs->sb, SB_STATE,
		    fs->state_at_mount & (uint16_t)~EXT2_STATE_VALID);
		ext2_put32(fs->sb, SB_MTIME, s);
		ext2_put16(fs->sb, SB_MNT_COUNT,
		    (uint16_t)(ext2_get16(fs->sb, SB_MNT_COUNT) + 1));
		fs->sb_dirty = 1;
		FS_LOCK(fs);
		error = ext2_sync_l(fs);
		FS_UNLOCK(fs);
		if (error != 0) {
			snprintf(err, errlen, "cannot write the superblock "
			    "(error %d)", error);
			mutex_destroy(&fs->lock);
			blk_close(fs->dev);
			kmem_free(fs->has_super, fs->ngroups);
			kmem_free(fs->gd, fs->gdsize);
			kmem_free(fs, sizeof(*fs));
			return error;
		}
	}
	/*
	 * Direct from here on: every transfer is a whole, aligned block.
	 * Not before: the blocks the mount reads (superblock, descriptors)
	 * are often in Linux's page cache still (mke2fs, the last boot),
	 * and reading them directly from the disk made a boot ~4 ms slower
	 * on a VM.  A refusal is not fatal.
	 */
	if (flags & EXT2_MNT_DIRECT) {
		/* The root inode's block too, which the mount's caller
		 * reads next (the root vnode). */
		struct ext2_inode *root;
		if (ext2_iget(fs, EXT2_ROOT_INO, &root) == 0)
			ext2_iput(root);
		fs->direct_err = blk_direct(fs->dev);
	}
	*fsp = fs;
	return 0;
}

int
ext2_unmount(struct ext2fs *fs)
{
	int error;
	FS_LOCK(fs);
	if (fs->ninodes != 0) {
		/* Referenced inodes would outlive the file system. */
		FS_UNLOCK(fs);
		return EBUSY;
	}
	if (!fs->rdonly) {
		ext2_put16(fs->sb, SB_STATE, fs->state_at_mount);
		fs->sb_dirty = 1;
	}
	error = ext2_sync_l(fs);
	FS_UNLOCK(fs);
	if (blk_close(fs->dev) != 0 && error == 0)
		error = EIO;
	mutex_destroy(&fs->lock);
	kmem_free(fs->has_super, fs->ngroups);
	kmem_free(fs->gd, fs->gdsize);
	kmem_free(fs, sizeof(*fs));
	return error;
}

int
ext2_rdonly(const struct ext2fs *fs)
{
	return fs->rdonly;
}

int
ext2_direct(const struct ext2fs *fs)
{
	return fs->direct_err;
}

const char *
ext2_lasterror(const struct ext2fs *fs, uint64_t *countp)
{
	if (countp != NULL)
		*countp = fs->nerrors;
	return fs->lasterr;
}

void
ext2_statfs(struct ext2fs *fs, struct ext2_statfs *st)
{
	uint32_t r;
	FS_LOCK(fs);
	st->bsize = fs->bsize;
	st->blocks = fs->blocks_count - fs->first_data_block;
	st->bfree = ext2_get32(fs->sb, SB_FREE_BLOCKS);
	r = ext2_get32(fs->sb, SB_R_BLOCKS_COUNT);
	st->bavail = st->bfree > r ? st->bfree - r : 0;
	st->files = fs->inodes_count;
	st->ffree = ext2_get32(fs->sb, SB_FREE_INODES);
	st->namemax = EXT2_NAME_LEN;
	memcpy(st->volname, fs->sb + SB_VOLUME_NAME, 16);
	st->volname[16] = '\0';
	FS_UNLOCK(fs);
}

void
ext2_cachestats(struct ext2fs *fs, struct blk_stats *st)
{
	blk_getstats(fs->dev, st);
}
