/*
 * ext2_inode.c - in-memory inodes (hash of referenced inodes, decode and
 * write-back), the block map (12 direct, single, double and triple
 * indirect blocks; holes read as zeroes), truncate, and file data read and
 * write through the buffer cache with read-ahead for sequential reads.
 */
#include <stdio.h>	/* snprintf only: pure formatting */
#include <string.h>

#include "fs/ext2/ext2_int.h"

/* Blocks of read-ahead: the window (counting the block being read)
 * starts at EXT2_RA_MIN and doubles each time a sequential reader reaches
 * the middle of what is in flight, up to EXT2_RA_MAX (1 MiB of 4 KiB
 * blocks; the block layer merges adjacent blocks into bios of up to
 * 256 KiB, so a large window means few large device reads, as Linux's
 * read-ahead does); a non-sequential read shrinks it back. */
#define EXT2_RA_MIN	16
#define EXT2_RA_MAX	256

static unsigned
ihash(uint32_t ino)
{
	return (ino * 2654435761u) >> 24 & (EXT2_IHASH - 1);
}

/* Where inode ino lives: block and byte offset. */
static void
ext2_iloc(struct ext2fs *fs, uint32_t ino, uint64_t *blkp, unsigned *offp)
{
	uint32_t g = (ino - 1) / fs->ipg, idx = (ino - 1) % fs->ipg;
	uint64_t byte = (uint64_t)idx * fs->isize;
	*blkp = ext2_get32(fs->gd + (size_t)g * EXT2_GD_SIZE, GD_INODE_TABLE) +
	    byte / fs->bsize;
	*offp = (unsigned)(byte % fs->bsize);
}

static void
ext2_idecode(struct ext2_inode *ip)
{
	const uint8_t *r = ip->i_raw;
	struct ext2fs *fs = ip->i_fs;
	unsigned i, extra = 0;

	ip->i_mode = ext2_get16(r, I_MODE);
	ip->i_uid = ext2_get16(r, I_UID) | (uint32_t)ext2_get16(r, I_UID_HIGH) << 16;
	ip->i_gid = ext2_get16(r, I_GID) | (uint32_t)ext2_get16(r, I_GID_HIGH) << 16;
	ip->i_size = ext2_get32(r, I_SIZE);
	if (EXT2_ISREG(ip->i_mode))
		ip->i_size |= (uint64_t)ext2_get32(r, I_SIZE_HIGH) << 32;
	ip->i_atime = ext2_get32(r, I_ATIME);
	ip->i_ctime = ext2_get32(r, I_CTIME);
	ip->i_mtime = ext2_get32(r, I_MTIME);
	ip->i_dtime = ext2_get32(r, I_DTIME);
	ip->i_nlink = ext2_get16(r, I_LINKS);
	ip->i_nblocks = ext2_get32(r, I_BLOCKS);
	ip->i_flags = ext2_get32(r, I_FLAGS);
	for (i = 0; i < EXT2_N_BLOCKS; i++)
		ip->i_block[i] = ext2_get32(r, I_BLOCK + 4 * i);
	ip->i_file_acl = ext2_get32(r, I_FILE_ACL);
	ip->i_atime_ns = ip->i_mtime_ns = ip->i_ctime_ns = 0;
	if (fs->isize > EXT2_GOOD_OLD_INODE_SIZE)
		extra = ext2_get16(r, I_EXTRA_ISIZE);
	if (extra >= 16 && EXT2_GOOD_OLD_INODE_SIZE + extra <= fs->isize) {
		ip->i_ctime_ns = ext2_get32(r, I_CTIME_EXTRA) >> 2;
		ip->i_mtime_ns = ext2_get32(r, I_MTIME_EXTRA) >> 2;
		ip->i_atime_ns = ext2_get32(r, I_ATIME_EXTRA) >> 2;
		if (ip->i_ctime_ns > 999999999)
			ip->i_ctime_ns = 0;
		if (ip->i_mtime_ns > 999999999)
			ip->i_mtime_ns = 0;
		if (ip->i_atime_ns > 999999999)
			ip->i_atime_ns = 0;
	}
}

static void
ext2_iencode(struct ext2_inode *ip)
{
	uint8_t *r = ip->i_raw;
	struct ext2fs *fs = ip->i_fs;
	unsigned i, extra = 0;

	ext2_put16(r, I_MODE, ip->i_mode);
	ext2_put16(r, I_UID, (uint16_t)ip->i_uid);
	ext2_put16(r, I_UID_HIGH, (uint16_t)(ip->i_uid >> 16));
	ext2_put16(r, I_GID, (uint16_t)ip->i_gid);
	ext2_put16(r, I_GID_HIGH, (uint16_t)(ip->i_gid >> 16));
	ext2_put32(r, I_SIZE, (uint32_t)ip->i_size);
	if (EXT2_ISREG(ip->i_mode))
		ext2_put32(r, I_SIZE_HIGH, (uint32_t)(ip->i_size >> 32));
	ext2_put32(r, I_ATIME, ip->i_atime);
	ext2_put32(r, I_CTIME, ip->i_ctime);
	ext2_put32(r, I_MTIME, ip->i_mtime);
	ext2_put32(r, I_DTIME, ip->i_dtime);
	ext2_put16(r, I_LINKS, ip->i_nlink);
	ext2_put32(r, I_BLOCKS, (uint32_t)ip->i_nblocks);
	ext2_put32(r, I_FLAGS, ip->i_flags);
	for (i = 0; i < EXT2_N_BLOCKS; i++)
		ext2_put32(r, I_BLOCK + 4 * i, ip->i_block[i]);
	ext2_put32(r, I_FILE_ACL, ip->i_file_acl);
	if (fs->isize > EXT2_GOOD_OLD_INODE_SIZE)
		extra = ext2_get16(r, I_EXTRA_ISIZE);
	if (extra >= 16 && EXT2_GOOD_OLD_INODE_SIZE + extra <= fs->isize) {
		ext2_put32(r, I_CTIME_EXTRA, ip->i_ctime_ns << 2);
		ext2_put32(r, I_MTIME_EXTRA, ip->i_mtime_ns << 2);
		ext2_put32(r, I_ATIME_EXTRA, ip->i_atime_ns << 2);
	}
}

int
ext2_iupdate(struct ext2_inode *ip)
{
	struct ext2fs *fs = ip->i_fs;
	struct buf *bp;
	uint64_t blk;
	unsigned off;
	int error;

	if (fs->rdonly) {
		ip->i_dirty = 0;
		return 0;
	}
	ext2_iloc(fs, ip->i_number, &blk, &off);
	error = bread(fs->dev, blk, &bp);
	if (error != 0)
		return error;
	ext2_iencode(ip);
	memcpy((uint8_t *)bp->b_data + off, ip->i_raw, fs->isize);
	bdwrite(bp);
	ip->i_dirty = 0;
	return 0;
}

static int
ext2_ialloc_mem(struct ext2fs *fs, uint32_t ino, struct ext2_inode **ipp)
{
	struct ext2_inode *ip;
	/* Small and fixed (isize is at most a block): kmem waits. */
	ip = kmem_zalloc(sizeof(*ip), KM_SLEEP);
	ip->i_raw = kmem_alloc(fs->isize, KM_SLEEP);
	ip->i_fs = fs;
	ip->i_number = ino;
	ip->i_refcnt = 1;
	*ipp = ip;
	return 0;
}

static void
ext2_ifree_mem(struct ext2_inode *ip)
{
	kmem_free(ip->i_raw, ip->i_fs->isize);
	kmem_free(ip, sizeof(*ip));
}

static void
ext2_ihash_insert(struct ext2_inode *ip)
{
	struct ext2fs *fs = ip->i_fs;
	unsigned h = ihash(ip->i_number);
	ip->i_hnext = fs->ihash[h];
	fs->ihash[h] = ip;
	fs->ninodes++;
}

static void
ext2_ihash_remove(struct ext2_inode *ip)
{
	struct ext2fs *fs = ip->i_fs;
	struct ext2_inode **pp = &fs->ihash[ihash(ip->i_number)];
	while (*pp != ip)
		pp = &(*pp)->i_hnext;
	*pp = ip->i_hnext;
	fs->ninodes--;
}

int
ext2_is_fastlink(const struct ext2_inode *ip)
{
	uint64_t eablocks = ip->i_file_acl ? ip->i_fs->bsize / 512 : 0;
	return EXT2_ISLNK(ip->i_mode) && ip->i_nblocks <= eablocks &&
	    ip->i_size < EXT2_FAST_SYMLINK_MAX;
}

int
ext2_iget_l(struct ext2fs *fs, uint32_t ino, struct ext2_inode **ipp)
{
	struct ext2_inode *ip;
	struct buf *bp;
	uint64_t blk;
	unsigned off;
	int error;

	if (ino < 1 || ino > fs->inodes_count) {
		ext2_corrupt(fs, "inode number %u out of range", ino);
		return EIO;
	}
	for (ip = fs->ihash[ihash(ino)]; ip != NULL; ip = ip->i_hnext)
		if (ip->i_number == ino) {
			ip->i_refcnt++;
			*ipp = ip;
			return 0;
		}
	ext2_iloc(fs, ino, &blk, &off);
	error = bread(fs->dev, blk, &bp);
	if (error != 0)
		return error;
	error = ext2_ialloc_mem(fs, ino, &ip);
	if (error != 0) {
		brelse(bp);
		return error;
	}
	memcpy(ip->i_raw, (uint8_t *)bp->b_data + off, fs->isize);
	brelse(bp);
	ext2_idecode(ip);
	switch (ip->i_mode & EXT2_S_IFMT) {
	case EXT2_S_IFREG: case EXT2_S_IFDIR: case EXT2_S_IFLNK:
	case EXT2_S_IFCHR: case EXT2_S_IFBLK: case EXT2_S_IFIFO:
	case EXT2_S_IFSOCK:
		break;
	default:
		ext2_corrupt(fs, "inode %u: bad mode 0%o", ino, ip->i_mode);
		ext2_ifree_mem(ip);
		return EIO;
	}
	if (ip->i_nlink == 0) {
		ext2_corrupt(fs, "inode %u: in use with a link count of 0", ino);
		ext2_ifree_mem(ip);
		return EIO;
	}
	if (ip->i_flags & (EXT2_EXTENTS_FL | EXT2_INLINE_DATA_FL)) {
		ext2_corrupt(fs, "inode %u: extent or inline-data flag on ext2",
		    ino);
		ext2_ifree_mem(ip);
		return EIO;
	}
	if (EXT2_ISLNK(ip->i_mode) && ip->i_size >= fs->bsize) {
		ext2_corrupt(fs, "inode %u: symlink of %llu bytes", ino,
		    (unsigned long long)ip->i_size);
		ext2_ifree_mem(ip);
		return EIO;
	}
	ip->i_lastalloc = ext2_get32(fs->gd + (size_t)((ino - 1) / fs->ipg) *
	    EXT2_GD_SIZE, GD_INODE_TABLE);
	ext2_ihash_insert(ip);
	*ipp = ip;
	return 0;
}

int
ext2_inode_inuse(struct ext2fs *fs, uint32_t ino, bool *inusep, char *why,
    size_t whylen)
{
	struct ext2_inode *ip;
	struct buf *bp;
	uint64_t blk;
	unsigned off;
	int error;

	*inusep = false;
	for (ip = fs->ihash[ihash(ino)]; ip != NULL; ip = ip->i_hnext)
		if (ip->i_number == ino) {
			snprintf(why, whylen, "inode is open (%u references)",
			    ip->i_refcnt);
			*inusep = true;
			return 0;
		}
	ext2_iloc(fs, ino, &blk, &off);
	if ((error = bread(fs->dev, blk, &bp)) != 0)
		return error;
	const uint8_t *r = (const uint8_t *)bp->b_data + off;
	uint16_t links = ext2_get16(r, I_LINKS), mode = ext2_get16(r, I_MODE);
	uint32_t dtime = ext2_get32(r, I_DTIME);
	brelse(bp);
	/* A deleted inode keeps its mode but has a dtime and no links (ours
	 * and Linux's ext2_free_inode); a never-used one is all zero. */
	if (links != 0) {
		snprintf(why, whylen, "links_count is %u", links);
		*inusep = true;
	} else if (mode != 0 && dtime == 0) {
		snprintf(why, whylen, "mode is 0%o with dtime 0", mode);
		*inusep = true;
	}
	return 0;
}

/* A fresh inode for an allocated number (link count set by the caller). */
int
ext2_inew_l(struct ext2fs *fs, uint32_t ino, uint16_t mode, uint32_t uid,
    uint32_t gid, struct ext2_inode **ipp)
{
	struct ext2_inode *ip;
	uint32_t s, ns;
	int error = ext2_ialloc_mem(fs, ino, &ip);
	if (error != 0)
		return error;
	memset(ip->i_raw, 0, fs->isize);
	if (fs->want_extra_isize != 0)
		ext2_put16(ip->i_raw, I_EXTRA_ISIZE, fs->want_extra_isize);
	ext2_now(&s, &ns);
	ip->i_mode = mode;
	ip->i_uid = uid;
	ip->i_gid = gid;
	ip->i_atime = ip->i_mtime = ip->i_ctime = s;
	ip->i_atime_ns = ip->i_mtime_ns = ip->i_ctime_ns = ns;
	if (fs->want_extra_isize >= 24) {
		ext2_put32(ip->i_raw, I_CRTIME, s);
		ext2_put32(ip->i_raw, I_CRTIME_EXTRA, ns << 2);
	}
	ext2_put32(ip->i_raw, I_GENERATION, fs->gen++);
	ip->i_lastalloc = ext2_get32(fs->gd + (size_t)((ino - 1) / fs->ipg) *
	    EXT2_GD_SIZE, GD_INODE_TABLE);
	ip->i_dirty = 1;
	ext2_ihash_insert(ip);
	*ipp = ip;
	return 0;
}

/* Drop the extended attribute block reference of a dying inode. */
static void
ext2_ea_release(struct ext2_inode *ip)
{
	struct ext2fs *fs = ip->i_fs;
	struct buf *bp;
	uint32_t ref;

	if (ip->i_file_acl == 0)
		return;
	if (!ext2_valid_block(fs, ip->i_file_acl)) {
		ext2_corrupt(fs, "inode %u: bad attribute block %u",
		    ip->i_number, ip->i_file_acl);
	} else if (bread(fs->dev, ip->i_file_acl, &bp) == 0) {
		if (ext2_get32(bp->b_data, 0) != EXT2_EA_MAGIC) {
			brelse(bp);
			ext2_corrupt(fs, "inode %u: attribute block %u has a "
			    "bad magic", ip->i_number, ip->i_file_acl);
		} else if ((ref = ext2_get32(bp->b_data, EA_REFCOUNT)) > 1) {
			ext2_put32(bp->b_data, EA_REFCOUNT, ref - 1);
			bdwrite(bp);
		} else {
			binval(bp);
			ext2_bfree(fs, ip->i_file_acl);
		}
		if (ip->i_nblocks >= fs->bsize / 512)
			ip->i_nblocks -= fs->bsize / 512;
	}
	ip->i_file_acl = 0;
}

void
ext2_iput_l(struct ext2_inode *ip)
{
	struct ext2fs *fs = ip->i_fs;
	uint32_t s, ns;

	if (--ip->i_refcnt > 0)
		return;
	if (ip->i_nlink == 0 && !fs->rdonly) {
		int isdir = EXT2_ISDIR(ip->i_mode);
		if (ext2_is_fastlink(ip)) {
			memset(ip->i_block, 0, sizeof(ip->i_block));
			ip->i_size = 0;
		} else {
			ext2_truncate_l(ip, 0);
		}
		ext2_ea_release(ip);
		ext2_now(&s, &ns);
		ip->i_dtime = s;
		ip->i_ctime = s;
		ip->i_size = 0;
		ip->i_nblocks = 0;
		ip->i_dirty = 1;
		ext2_iupdate(ip);
		ext2_ifree(fs, ip->i_number, isdir);
	} else if (ip->i_dirty) {
		ext2_iupdate(ip);
	}
	ext2_ihash_remove(ip);
	ext2_ifree_mem(ip);
}

int
ext2_iget(struct ext2fs *fs, uint32_t ino, struct ext2_inode **ipp)
{
	int error;
	FS_LOCK(fs);
	error = ext2_iget_l(fs, ino, ipp);
	FS_UNLOCK(fs);
	return error;
}

void
ext2_iput(struct ext2_inode *ip)
{
	struct ext2fs *fs = ip->i_fs;
	FS_LOCK(fs);
	ext2_iput_l(ip);
	FS_UNLOCK(fs);
}

void
ext2_iref(struct ext2_inode *ip)
{
	FS_LOCK(ip->i_fs);
	ip->i_refcnt++;
	FS_UNLOCK(ip->i_fs);
}

uint32_t
ext2_root_ino(void)
{
	return EXT2_ROOT_INO;
}

/* ---- block map ---- */

/* Split a logical block number into a path: level 0 (direct) .. 3. */
static int
ext2_bpath(struct ext2fs *fs, uint64_t lbn, int *levelp, unsigned offs[4])
{
	uint64_t n = fs->nindir;
	if (lbn < EXT2_NDADDR) {
		*levelp = 0;
		offs[0] = (unsigned)lbn;
		return 0;
	}
	lbn -= EXT2_NDADDR;
	if (lbn < n) {
		*levelp = 1;
		offs[0] = (unsigned)lbn;
		return 0;
	}
	lbn -= n;
	if (lbn < n * n) {
		*levelp = 2;
		offs[0] = (unsigned)(lbn / n);
		offs[1] = (unsigned)(lbn % n);
		return 0;
	}
	lbn -= n * n;
	if (lbn < n * n * n) {
		*levelp = 3;
		offs[0] = (unsigned)(lbn / (n * n));
		offs[1] = (unsigned)(lbn / n % n);
		offs[2] = (unsigned)(lbn % n);
		return 0;
	}
	return EFBIG;
}

static int
ext2_alloc_block(struct ext2_inode *ip, int zero, uint32_t *bnop)
{
	struct ext2fs *fs = ip->i_fs;
	struct buf *bp;
	int error = ext2_balloc(fs, ip->i_lastalloc + 1, bnop);
	if (error != 0)
		return error;
	ip->i_bmrn = 0;			/* a mapping changes */
	ip->i_lastalloc = *bnop;
	ip->i_nblocks += fs->bsize / 512;
	ip->i_dirty = 1;
	if (zero) {
		error = getblk(fs->dev, *bnop, &bp);
		if (error != 0)
			return error;
		memset(bp->b_data, 0, fs->bsize);
		bdwrite(bp);
	}
	return 0;
}

static int ext2_bmap_walk(struct ext2_inode *ip, uint64_t lbn, int alloc,
    uint32_t *pbnp, int *newp);

/*
 * Logical to physical block, allocating (alloc) a hole's block and the
 * indirect blocks leading to it.  The last mapping found is remembered:
 * repeated small I/O in one block skips the indirect lookups.  Only
 * truncate changes an existing mapping, and it forgets the remembered one.
 */
int
ext2_bmap(struct ext2_inode *ip, uint64_t lbn, int alloc, uint32_t *pbnp,
    int *newp)
{
	int error;
	if (ip->i_bmpbn != 0 && ip->i_bmlbn == lbn) {
		*pbnp = ip->i_bmpbn;
		if (newp != NULL)
			*newp = 0;
		return 0;
	}
	if (lbn - ip->i_bmrlbn < ip->i_bmrn &&
	    (ip->i_bmrun[lbn - ip->i_bmrlbn] != 0 || !alloc)) {
		*pbnp = ip->i_bmrun[lbn - ip->i_bmrlbn];
		if (newp != NULL)
			*newp = 0;
		return 0;
	}
	error = ext2_bmap_walk(ip, lbn, alloc, pbnp, newp);
	if (error == 0 && *pbnp != 0) {
		ip->i_bmlbn = lbn;
		ip->i_bmpbn = *pbnp;
	}
	return error;
}

/*
 * Copy EXT2_BMRUN leaf entries starting at logical block lbn0 into the
 * inode's run, stopping before the first entry that points outside the
 * file system (a lookup of it walks and reports the corruption).
 */
static void
ext2_bmrun_fill(struct ext2_inode *ip, uint64_t lbn0, const uint8_t *le)
{
	unsigned n;
	for (n = 0; n < EXT2_BMRUN; n++) {
		uint32_t b = ext2_get32(le, n * 4);
		if (b != 0 && !ext2_valid_block(ip->i_fs, b))
			break;
		ip->i_bmrun[n] = b;
	}
	ip->i_bmrlbn = lbn0;
	ip->i_bmrn = n;
}

static int
ext2_bmap_walk(struct ext2_inode *ip, uint64_t lbn, int alloc, uint32_t *pbnp,
    int *newp)
{
	struct ext2fs *fs = ip->i_fs;
	unsigned offs[4];
	int level, i, error;
	uint32_t bno, nb;
	struct buf *bp;

	if (newp != NULL)
		*newp = 0;
	error = ext2_bpath(fs, lbn, &level, offs);
	if (error != 0)
		return error;
	if (level == 0) {
		bno = ip->i_block[offs[0]];
		if (bno == 0 && alloc) {
			error = ext2_alloc_block(ip, 0, &bno);
			if (error != 0)
				return error;
			ip->i_block[offs[0]] = bno;
			if (newp != NULL)
				*newp = 1;
		} else if (bno != 0 && !ext2_valid_block(fs, bno)) {
			ext2_corrupt(fs, "inode %u: block %u out of range "
			    "or metadata", ip->i_number, bno);
			return EIO;
		}
		*pbnp = bno;
		return 0;
	}
	bno = ip->i_block[EXT2_NDADDR - 1 + level];
	if (bno == 0) {
		if (!alloc) {
			*pbnp = 0;
			return 0;
		}
		error = ext2_alloc_block(ip, 1, &bno);
		if (error != 0)
			return error;
		ip->i_block[EXT2_NDADDR - 1 + level] = bno;
	}
	for (i = 0; i < level; i++) {
		if (!ext2_valid_block(fs, bno)) {
			ext2_corrupt(fs, "inode %u: indirect block %u out of "
			    "range or metadata", ip->i_number, bno);
			return EIO;
		}
		if (!alloc && i + 1 == level) {
			/* Leaf lookup: remember a run of entries. */
			uint8_t le[EXT2_BMRUN * 4];
			unsigned first = offs[i] & ~(EXT2_BMRUN - 1u);
			if (blk_read_cached(fs->dev, bno, first * 4, le,
			    sizeof(le)) == 0) {
				ext2_bmrun_fill(ip, lbn - (offs[i] - first), le);
				nb = ext2_get32(le, (offs[i] - first) * 4);
				if (nb == 0) {
					*pbnp = 0;
					return 0;
				}
				bno = nb;
				continue;
			}
		} else if (!alloc) {
			/* Lookup only: read the entry from the cache if we can. */
			uint8_t le[4];
			if (blk_read_cached(fs->dev, bno, offs[i] * 4, le, 4) == 0) {
				nb = ext2_get32(le, 0);
				if (nb == 0) {
					*pbnp = 0;
					return 0;
				}
				bno = nb;
				continue;
			}
		}
		error = bread(fs->dev, bno, &bp);
		if (error != 0)
			return error;
		nb = ext2_get32(bp->b_data, offs[i] * 4);
		if (nb == 0) {
			if (!alloc) {
				brelse(bp);
				*pbnp = 0;
				return 0;
			}
			error = ext2_alloc_block(ip, i + 1 < level, &nb);
			if (error != 0) {
				brelse(bp);
				return error;
			}
			ext2_put32(bp->b_data, offs[i] * 4, nb);
			bdwrite(bp);
			if (i + 1 == level && newp != NULL)
				*newp = 1;
		} else {
			brelse(bp);
		}
		bno = nb;
	}
	if (!ext2_valid_block(fs, bno)) {
		ext2_corrupt(fs, "inode %u: block %u out of range or "
		    "metadata", ip->i_number, bno);
		return EIO;
	}
	*pbnp = bno;
	return 0;
}

/* ---- truncate ---- */

static void
ext2_free_data(struct ext2_inode *ip, uint32_t bno)
{
	struct ext2fs *fs = ip->i_fs;
	struct buf *bp;
	if (ext2_bfree(fs, bno) == 0) {
		if (ip->i_nblocks >= fs->bsize / 512)
			ip->i_nblocks -= fs->bsize / 512;
		/* Forget a cached copy so a stale write-back cannot land. */
		if (getblk(fs->dev, bno, &bp) == 0)
			binval(bp);
	}
	ip->i_dirty = 1;
}

/*
 * Free the blocks at or past logical block keep below the indirect block
 * *bnop of the given level, which maps logical blocks from base on.  The
 * indirect block itself goes when everything it maps is past keep.
 */
static int
ext2_trunc_ind(struct ext2_inode *ip, uint32_t *bnop, int level,
    uint64_t base, uint64_t keep)
{
	struct ext2fs *fs = ip->i_fs;
	uint64_t span = 1, cspan;
	struct buf *bp;
	unsigned j;
	int i, error, dirty = 0;
	uint32_t c;

	if (*bnop == 0)
		return 0;
	for (i = 0; i < level; i++)
		span *= fs->nindir;
	if (base + span <= keep)
		return 0;
	if (!ext2_valid_block(fs, *bnop)) {
		ext2_corrupt(fs, "inode %u: indirect block %u out of range "
		    "or metadata", ip->i_number, *bnop);
		*bnop = 0;
		ip->i_dirty = 1;
		return EIO;
	}
	cspan = span / fs->nindir;
	error = bread(fs->dev, *bnop, &bp);
	if (error != 0)
		return error;
	/*
	 * An indirect block with any entry outside the file system is
	 * garbage: following it could free other files' blocks or walk
	 * millions of bogus ones.  Leave what it maps (e2fsck reclaims it).
	 */
	for (j = 0; j < fs->nindir; j++) {
		c = ext2_get32(bp->b_data, j * 4);
		if (c != 0 && !ext2_valid_block(fs, c)) {
			brelse(bp);
			ext2_corrupt(fs, "inode %u: indirect block %u holds "
			    "block number %u, out of range or metadata",
			    ip->i_number, *bnop, c);
			if (base >= keep) {
				*bnop = 0;
				ip->i_dirty = 1;
			}
			return EIO;
		}
	}
	for (j = 0; j < fs->nindir; j++) {
		uint64_t cbase = base + j * cspan;
		c = ext2_get32(bp->b_data, j * 4);
		if (c == 0 || cbase + cspan <= keep)
			continue;
		if (level == 1) {
			ext2_free_data(ip, c);
			c = 0;
		} else {
			ext2_trunc_ind(ip, &c, level - 1, cbase, keep);
		}
		ext2_put32(bp->b_data, j * 4, c);
		dirty = 1;
	}
	if (base >= keep) {
		binval(bp);
		ext2_free_data(ip, *bnop);
		*bnop = 0;
		return 0;
	}
	if (dirty)
		bdwrite(bp);
	else
		brelse(bp);
	return 0;
}

/* Zero the bytes of the block holding off from off to the block's end. */
static int
ext2_zero_tail(struct ext2_inode *ip, uint64_t off)
{
	struct ext2fs *fs = ip->i_fs;
	unsigned boff = (unsigned)(off & (fs->bsize - 1));
	struct buf *bp;
	uint32_t pbn;
	int error;

	if (boff == 0)
		return 0;
	error = ext2_bmap(ip, off >> fs->bshift, 0, &pbn, NULL);
	if (error != 0 || pbn == 0)
		return error;
	error = bread(fs->dev, pbn, &bp);
	if (error != 0)
		return error;
	memset((uint8_t *)bp->b_data + boff, 0, fs->bsize - boff);
	bdwrite(bp);
	return 0;
}

static uint64_t
ext2_maxfilesize(struct ext2fs *fs)
{
	uint64_t n = fs->nindir;
	uint64_t blocks = EXT2_NDADDR + n + n * n + n * n * n;
	uint64_t max = blocks << fs->bshift;
	/* i_blocks is 32 bits of 512-byte units without huge_file. */
	uint64_t lim = ((uint64_t)0xffffffff >> (fs->bshift - 9)) << fs->bshift;
	lim -= (uint64_t)(n + 2) << fs->bshift;	/* room for indirects */
	return max < lim ? max : lim;
}

int
ext2_truncate_l(struct ext2_inode *ip, uint64_t size)
{
	struct ext2fs *fs = ip->i_fs;
	uint64_t keep, n = fs->nindir;
	unsigned i;
	int error = 0, e;

	if (fs->rdonly)
		return EROFS;
	if (size > ext2_maxfilesize(fs))
		return EFBIG;
	ip->i_bmpbn = 0;
	ip->i_bmrn = 0;
	if (size >= ip->i_size) {
		error = ext2_zero_tail(ip, ip->i_size);
		ip->i_size = size;
		ip->i_dirty = 1;
		return error;
	}
	keep = (size + fs->bsize - 1) >> fs->bshift;
	for (i = 0; i < EXT2_NDADDR; i++)
		if (i >= keep && ip->i_block[i] != 0) {
			if (ext2_valid_block(fs, ip->i_block[i]))
				ext2_free_data(ip, ip->i_block[i]);
			ip->i_block[i] = 0;
		}
	e = ext2_trunc_ind(ip, &ip->i_block[EXT2_IND], 1, EXT2_NDADDR, keep);
	if (e != 0 && error == 0)
		error = e;
	e = ext2_trunc_ind(ip, &ip->i_block[EXT2_DIND], 2, EXT2_NDADDR + n, keep);
	if (e != 0 && error == 0)
		error = e;
	e = ext2_trunc_ind(ip, &ip->i_block[EXT2_TIND], 3,
	    EXT2_NDADDR + n + n * n, keep);
	if (e != 0 && error == 0)
		error = e;
	ip->i_size = size;
	ip->i_dirty = 1;
	e = ext2_zero_tail(ip, size);
	if (e != 0 && error == 0)
		error = e;
	return error;
}

void
ext2_touch(struct ext2_inode *ip, int m, int c)
{
	uint32_t s, ns;
	ext2_now(&s, &ns);
	if (m) {
		ip->i_mtime = s;
		ip->i_mtime_ns = ns;
	}
	if (c) {
		ip->i_ctime = s;
		ip->i_ctime_ns = ns;
	}
	ip->i_dirty = 1;
}

int
ext2_truncate(struct ext2_inode *ip, uint64_t size)
{
	struct ext2fs *fs = ip->i_fs;
	int error;
	FS_LOCK(fs);
	if (!EXT2_ISREG(ip->i_mode))
		error = EINVAL;
	else {
		error = ext2_truncate_l(ip, size);
		ext2_touch(ip, 1, 1);
		if (error == 0)
			error = ext2_iupdate(ip);
	}
	FS_UNLOCK(fs);
	return error;
}

/* ---- data ---- */

/*
 * The cached path over a run: lbn (at pbn) and the blocks after it that
 * follow it on disk too, for up to want bytes from boff, as long as no
 * read-ahead falls due among them (lbn + k + win / 2 < i_ranext, what
 * ext2_read_l asks of each block); copied under one hold of the cache's
 * lock (a 1 KiB-block file is 1,024 lookups a MiB).  Bytes copied; 0:
 * lbn is not cached.
 */
#define EXT2_RUN_MAX	64
static size_t
ext2_read_run(struct ext2_inode *ip, uint64_t lbn, uint32_t pbn,
    unsigned boff, uint8_t *dst, size_t want, unsigned win)
{
	struct ext2fs *fs = ip->i_fs;
	size_t span = fs->bsize - boff;
	uint32_t k = 1;

	while (span < want && k < EXT2_RUN_MAX &&
	    lbn + k + win / 2 < ip->i_ranext) {
		uint32_t pb;
		if (ext2_bmap(ip, lbn + k, 0, &pb, NULL) != 0 || pb != pbn + k)
			break;
		span += fs->bsize;
		k++;
	}
	if (span > want)
		span = want;
	return blk_read_cached_run(fs->dev, pbn, boff, dst, span);
}

int
ext2_read_l(struct ext2_inode *ip, void *buf, size_t len, uint64_t off,
    size_t *donep)
{
	struct ext2fs *fs = ip->i_fs;
	uint64_t rablks[EXT2_RA_MAX];
	uint8_t *dst = buf;
	size_t done = 0;
	int error = 0;

	if (off >= ip->i_size)
		len = 0;
	else if (len > ip->i_size - off)
		len = (size_t)(ip->i_size - off);
	while (done < len) {
		uint64_t lbn = (off + done) >> fs->bshift;
		unsigned boff = (unsigned)((off + done) & (fs->bsize - 1));
		size_t n = fs->bsize - boff;
		uint32_t pbn;
		struct buf *bp;
		int nra = 0, radue;
		unsigned win;

		if (n > len - done)
			n = len - done;
		if (lbn != ip->i_nextlbn)
			ip->i_rawin = 0;
		win = ip->i_rawin != 0 ? ip->i_rawin : EXT2_RA_MIN;
		/* Due when less than half a window is left in flight. */
		radue = lbn == ip->i_nextlbn && lbn + win / 2 >= ip->i_ranext;
		error = ext2_bmap(ip, lbn, 0, &pbn, NULL);
		if (error != 0)
			break;
		size_t run;
		if (pbn == 0) {
			memset(dst + done, 0, n);
		} else if (!radue && (run = ext2_read_run(ip, lbn, pbn, boff,
		    dst + done, len - done, win)) > 0) {
			/* cached, and no read-ahead due: copied, maybe
			 * several blocks */
			n = run;
		} else {
			/* Sequential: keep a window of blocks in flight. */
			if (radue) {
				/* Grow first: the next one is due only after
				 * half the new window (growing after it made
				 * every read of the ramp due, 1 MiB in five
				 * reads). */
				if (ip->i_rawin != 0)
					win = win * 2 <= EXT2_RA_MAX ?
					    win * 2 : EXT2_RA_MAX;
				uint64_t l = ip->i_ranext > lbn + 1 ?
				    ip->i_ranext : lbn + 1;
				uint64_t end = lbn + win;
				uint64_t last = (ip->i_size - 1) >> fs->bshift;
				for (; l < end && l <= last; l++) {
					uint32_t rb;
					if (ext2_bmap(ip, l, 0, &rb, NULL) != 0)
						break;
					if (rb != 0)
						rablks[nra++] = rb;
				}
				ip->i_ranext = l;
				ip->i_rawin = win;
			}
			error = breadn(fs->dev, pbn, rablks, nra, &bp);
			if (error != 0)
				break;
			memcpy(dst + done, (uint8_t *)bp->b_data + boff, n);
			brelse(bp);
		}
		/* The block holding the next byte (n may span blocks). */
		ip->i_nextlbn = (off + done + n) >> fs->bshift;
		done += n;
	}
	*donep = done;
	return done > 0 ? 0 : error;
}

int
ext2_write_l(struct ext2_inode *ip, const void *buf, size_t len,
    uint64_t off, size_t *donep)
{
	struct ext2fs *fs = ip->i_fs;
	const uint8_t *src = buf;
	size_t done = 0;
	uint64_t max = ext2_maxfilesize(fs);
	int error = 0;

	*donep = 0;
	if (fs->rdonly)
		return EROFS;
	if (off >= max)
		return len ? EFBIG : 0;
	if (len > max - off)
		len = (size_t)(max - off);
	if (off > ip->i_size) {
		/* The gap reads as zeroes: clear the old last block's tail. */
		error = ext2_zero_tail(ip, ip->i_size);
		if (error != 0)
			return error;
	}
	while (done < len) {
		uint64_t lbn = (off + done) >> fs->bshift;
		unsigned boff = (unsigned)((off + done) & (fs->bsize - 1));
		size_t n = fs->bsize - boff;
		uint32_t pbn;
		struct buf *bp;
		int isnew;

		if (n > len - done)
			n = len - done;
		error = ext2_bmap(ip, lbn, 1, &pbn, &isnew);
		if (error != 0)
			break;
		if (!isnew && blk_write_cached(fs->dev, pbn, boff, src + done,
		    n) == 0) {
			done += n;
			if (off + done > ip->i_size) {
				ip->i_size = off + done;
				ip->i_dirty = 1;
			}
			continue;
		}
		if (isnew || n == fs->bsize) {
			error = getblk(fs->dev, pbn, &bp);
			if (error == 0 && n != fs->bsize)
				memset(bp->b_data, 0, fs->bsize);
		} else {
			error = bread(fs->dev, pbn, &bp);
		}
		if (error != 0)
			break;
		memcpy((uint8_t *)bp->b_data + boff, src + done, n);
		bdwrite(bp);
		done += n;
		if (off + done > ip->i_size) {
			ip->i_size = off + done;
			ip->i_dirty = 1;
		}
	}
	if (done > 0) {
		if (ip->i_size > 0x7fffffffull &&
		    !(fs->rocompat & EXT2_FROCOMPAT_LARGE_FILE)) {
			fs->rocompat |= EXT2_FROCOMPAT_LARGE_FILE;
			ext2_put32(fs->sb, SB_FEATURE_RO_COMPAT, fs->rocompat);
			fs->sb_dirty = 1;
		}
		ext2_touch(ip, 1, 1);
	}
	*donep = done;
	return done > 0 && (error == ENOSPC || error == EFBIG) ? 0 :
	    (done == len ? 0 : error);
}

int
ext2_read(struct ext2_inode *ip, void *buf, size_t len, uint64_t off,
    size_t *donep)
{
	int error;
	FS_LOCK(ip->i_fs);
	if (EXT2_ISDIR(ip->i_mode))
		error = EISDIR;
	else
		error = ext2_read_l(ip, buf, len, off, donep);
	FS_UNLOCK(ip->i_fs);
	return error;
}

int
ext2_write(struct ext2_inode *ip, const void *buf, size_t len, uint64_t off,
    size_t *donep)
{
	int error;
	FS_LOCK(ip->i_fs);
	if (!EXT2_ISREG(ip->i_mode))
		error = EISDIR;
	else
		/* The inode stays dirty in memory: ext2_sync, fsync, the
		 * last ext2_iput and unmount write it back. */
		error = ext2_write_l(ip, buf, len, off, donep);
	FS_UNLOCK(ip->i_fs);
	return error;
}

int
ext2_fsync(struct ext2_inode *ip)
{
	int error;
	FS_LOCK(ip->i_fs);
	error = ext2_sync_l(ip->i_fs);
	FS_UNLOCK(ip->i_fs);
	return error;
}

int
ext2_readlink_l(struct ext2_inode *ip, char *buf, size_t len, size_t *donep)
{
	*donep = 0;
	if (!EXT2_ISLNK(ip->i_mode))
		return EINVAL;
	if (ext2_is_fastlink(ip)) {
		uint8_t tmp[EXT2_FAST_SYMLINK_MAX];
		size_t n = (size_t)ip->i_size;
		unsigned i;
		for (i = 0; i < EXT2_N_BLOCKS; i++)
			ext2_put32(tmp, 4 * i, ip->i_block[i]);
		if (n > len)
			n = len;
		memcpy(buf, tmp, n);
		*donep = n;
		return 0;
	}
	return ext2_read_l(ip, buf, len, 0, donep);
}

int
ext2_readlink(struct ext2_inode *ip, char *buf, size_t len, size_t *donep)
{
	int error;
	FS_LOCK(ip->i_fs);
	error = ext2_readlink_l(ip, buf, len, donep);
	FS_UNLOCK(ip->i_fs);
	return error;
}

void
ext2_getattr(struct ext2_inode *ip, struct ext2_attr *a)
{
	FS_LOCK(ip->i_fs);
	memset(a, 0, sizeof(*a));
	a->ino = ip->i_number;
	a->mode = ip->i_mode;
	a->nlink = ip->i_nlink;
	a->uid = ip->i_uid;
	a->gid = ip->i_gid;
	a->size = ip->i_size;
	a->blocks512 = ip->i_nblocks;
	a->atime = ip->i_atime;
	a->mtime = ip->i_mtime;
	a->ctime = ip->i_ctime;
	a->atime_ns = ip->i_atime_ns;
	a->mtime_ns = ip->i_mtime_ns;
	a->ctime_ns = ip->i_ctime_ns;
	a->generation = ext2_get32(ip->i_raw, I_GENERATION);
	a->flags = ip->i_flags;
	if ((ip->i_mode & EXT2_S_IFMT) == EXT2_S_IFCHR ||
	    (ip->i_mode & EXT2_S_IFMT) == EXT2_S_IFBLK)
		a->rdev = ip->i_block[0] ? ip->i_block[0] : ip->i_block[1];
	FS_UNLOCK(ip->i_fs);
}

int
ext2_setattr(struct ext2_inode *ip, unsigned mask, const struct ext2_attr *a)
{
	struct ext2fs *fs = ip->i_fs;
	int error = 0;

	FS_LOCK(fs);
	if (fs->rdonly) {
		FS_UNLOCK(fs);
		return EROFS;
	}
	if (mask & EXT2_SA_SIZE) {
		if (!EXT2_ISREG(ip->i_mode))
			error = EISDIR;
		else if ((error = ext2_truncate_l(ip, a->size)) == 0)
			ext2_touch(ip, 1, 0);
	}
	if (error == 0) {
		if (mask & EXT2_SA_MODE)
			ip->i_mode = (uint16_t)((ip->i_mode & EXT2_S_IFMT) |
			    (a->mode & 07777));
		if (mask & EXT2_SA_UID)
			ip->i_uid = a->uid;
		if (mask & EXT2_SA_GID)
			ip->i_gid = a->gid;
		if (mask & EXT2_SA_ATIME) {
			ip->i_atime = (uint32_t)a->atime;
			ip->i_atime_ns = a->atime_ns;
		}
		if (mask & EXT2_SA_MTIME) {
			ip->i_mtime = (uint32_t)a->mtime;
			ip->i_mtime_ns = a->mtime_ns;
		}
		ext2_touch(ip, 0, 1);
		error = ext2_iupdate(ip);
	}
	FS_UNLOCK(fs);
	return error;
}
