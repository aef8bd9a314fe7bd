/*
 * ext2_dir.c - directories and the namespace: entry lookup, listing,
 * insertion and removal (linear, one block at a time; htree-indexed
 * directories read correctly because their index blocks look like empty
 * entries, and any change clears the index flag), then create, mkdir,
 * symlink, link, remove, rmdir, rename, and path lookup for callers
 * without a VFS.  Every entry is checked before use: a damaged one makes
 * the operation fail with EIO.
 */
#include <string.h>

#include "fs/ext2/ext2_int.h"

struct dent {
	uint32_t ino;
	unsigned reclen, namelen, type;
	const char *name;
};

/* Decode and check the entry at off of a directory block. */
static int
dent_get(struct ext2_inode *dp, const uint8_t *blk, unsigned off,
    uint64_t lbn, struct dent *d)
{
	struct ext2fs *fs = dp->i_fs;
	if (off + EXT2_DIRENT_HDR > fs->bsize)
		goto bad;
	d->ino = ext2_get32(blk, off);
	d->reclen = ext2_get16(blk, off + 4);
	if (fs->incompat & EXT2_FINCOMPAT_FILETYPE) {
		d->namelen = blk[off + 6];
		d->type = blk[off + 7];
	} else {
		d->namelen = ext2_get16(blk, off + 6);
		d->type = EXT2_FT_UNKNOWN;
	}
	d->name = (const char *)blk + off + EXT2_DIRENT_HDR;
	if (d->reclen < EXT2_DIRENT_HDR || (d->reclen & 3) != 0 ||
	    off + d->reclen > fs->bsize ||
	    EXT2_DIRENT_HDR + d->namelen > d->reclen ||
	    d->namelen > EXT2_NAME_LEN ||
	    (d->ino != 0 && d->namelen == 0) || d->ino > fs->inodes_count)
		goto bad;
	return 0;
bad:
	ext2_corrupt(fs, "directory inode %u: damaged entry at block %llu "
	    "offset %u", dp->i_number, (unsigned long long)lbn, off);
	return EIO;
}

static void
dent_put(struct ext2fs *fs, uint8_t *blk, unsigned off, uint32_t ino,
    unsigned reclen, const char *name, unsigned namelen, unsigned type)
{
	ext2_put32(blk, off, ino);
	ext2_put16(blk, off + 4, (uint16_t)reclen);
	if (fs->incompat & EXT2_FINCOMPAT_FILETYPE) {
		blk[off + 6] = (uint8_t)namelen;
		blk[off + 7] = (uint8_t)type;
	} else {
		ext2_put16(blk, off + 6, (uint16_t)namelen);
	}
	if (name != NULL)
		memcpy(blk + off + EXT2_DIRENT_HDR, name, namelen);
}

static unsigned
mode2ft(uint16_t mode)
{
	switch (mode & EXT2_S_IFMT) {
	case EXT2_S_IFREG: return EXT2_FT_REG_FILE;
	case EXT2_S_IFDIR: return EXT2_FT_DIR;
	case EXT2_S_IFCHR: return EXT2_FT_CHRDEV;
	case EXT2_S_IFBLK: return EXT2_FT_BLKDEV;
	case EXT2_S_IFIFO: return EXT2_FT_FIFO;
	case EXT2_S_IFSOCK: return EXT2_FT_SOCK;
	case EXT2_S_IFLNK: return EXT2_FT_SYMLINK;
	}
	return EXT2_FT_UNKNOWN;
}

static int
dir_nblocks(struct ext2_inode *dp, uint64_t *np)
{
	struct ext2fs *fs = dp->i_fs;
	if ((dp->i_size & (fs->bsize - 1)) != 0) {
		ext2_corrupt(fs, "directory inode %u: size %llu is not a "
		    "multiple of the block size", dp->i_number,
		    (unsigned long long)dp->i_size);
		return EIO;
	}
	*np = dp->i_size >> fs->bshift;
	return 0;
}

/*
 * Walk the entries of dp (free ones too) from logical block lbn0 on.
 * visit sees each entry with its block and returns DW_NEXT to go on,
 * DW_HOLD to stop with the block busy in *bpp (the caller writes or
 * releases it), DW_STOP to stop, or an errno to fail.  0: the end.
 */
#define DW_NEXT		0
#define DW_HOLD		(-1)
#define DW_STOP		(-2)
typedef int (*dir_visit_t)(void *arg, uint64_t lbn, unsigned off,
    const struct dent *d);

static int
dir_walk(struct ext2_inode *dp, uint64_t lbn0, dir_visit_t visit, void *arg,
    struct buf **bpp)
{
	struct ext2fs *fs = dp->i_fs;
	uint64_t nblk, lbn;
	struct buf *bp;
	uint32_t pbn;
	struct dent d;
	int error = dir_nblocks(dp, &nblk);

	for (lbn = lbn0; error == 0 && lbn < nblk; lbn++) {
		if ((error = ext2_bmap(dp, lbn, 0, &pbn, NULL)) != 0)
			break;
		if (pbn == 0)
			continue;
		if ((error = bread(fs->dev, pbn, &bp)) != 0)
			break;
		for (unsigned off = 0; off < fs->bsize; off += d.reclen) {
			error = dent_get(dp, bp->b_data, off, lbn, &d);
			if (error == 0)
				error = visit(arg, lbn, off, &d);
			if (error != DW_NEXT)
				break;
		}
		if (error == DW_HOLD) {
			*bpp = bp;
			return DW_HOLD;
		}
		brelse(bp);
	}
	return error;
}

struct find_arg {
	const char *name;
	size_t namelen;
	unsigned off;
	int prev;			/* previous entry in the block, or -1 */
	struct dent d;
};

static int
find_visit(void *arg, uint64_t lbn, unsigned off, const struct dent *d)
{
	struct find_arg *a = arg;
	(void)lbn;
	if (off == 0)
		a->prev = -1;
	if (d->ino != 0 && d->namelen == a->namelen &&
	    memcmp(d->name, a->name, a->namelen) == 0) {
		a->off = off;
		a->d = *d;
		return DW_HOLD;
	}
	a->prev = (int)off;
	return DW_NEXT;
}

/*
 * Find name in dp.  On success the block is returned busy in *bpp with
 * the entry's offset, the previous entry's offset (or -1) and its lbn.
 */
static int
dir_find(struct ext2_inode *dp, const char *name, size_t namelen,
    struct buf **bpp, unsigned *offp, int *prevp, struct dent *dout)
{
	struct find_arg a = { .name = name, .namelen = namelen, .prev = -1 };
	int error = dir_walk(dp, 0, find_visit, &a, bpp);
	if (error == DW_HOLD) {
		*offp = a.off;
		*prevp = a.prev;
		*dout = a.d;
		return 0;
	}
	return error != 0 ? error : ENOENT;
}

int
ext2_dirlookup(struct ext2_inode *dp, const char *name, size_t namelen,
    uint32_t *inop)
{
	struct buf *bp;
	unsigned off;
	int prev, error;
	struct dent d;

	if (!EXT2_ISDIR(dp->i_mode))
		return ENOTDIR;
	error = dir_find(dp, name, namelen, &bp, &off, &prev, &d);
	if (error != 0)
		return error;
	brelse(bp);
	if (d.ino < 1) {
		ext2_corrupt(dp->i_fs, "directory inode %u: bad inode number",
		    dp->i_number);
		return EIO;
	}
	/*
	 * Inodes below first_ino (bad blocks, resize, journal ...) belong
	 * to the file system, never to a name: an entry naming one is
	 * damage, and following it would let a write, link or unlink
	 * reach metadata.  The root (2) is the exception.
	 */
	if (d.ino < dp->i_fs->first_ino && d.ino != EXT2_ROOT_INO) {
		ext2_corrupt(dp->i_fs, "directory inode %u: entry \"%.*s\" "
		    "names reserved inode %u", dp->i_number,
		    (int)(namelen > 64 ? 64 : namelen), name, d.ino);
		return EIO;
	}
	*inop = d.ino;
	return 0;
}

int
ext2_lookup(struct ext2_inode *dp, const char *name, size_t namelen,
    uint32_t *inop)
{
	int error;
	FS_LOCK(dp->i_fs);
	error = ext2_dirlookup(dp, name, namelen, inop);
	FS_UNLOCK(dp->i_fs);
	return error;
}

static int
ft2dtype(unsigned ft)
{
	static const int map[] = { 0, 8, 4, 2, 6, 1, 12, 10 };
	return ft < 8 ? map[ft] : 0;
}

struct readdir_arg {
	struct ext2fs *fs;
	uint64_t pos;			/* entries before it were returned */
	uint64_t stop;			/* where fill said stop */
	ext2_filldir_t fill;
	void *arg;
};

static int
readdir_visit(void *arg, uint64_t lbn, unsigned off, const struct dent *d)
{
	struct readdir_arg *a = arg;
	uint64_t at = (lbn << a->fs->bshift) + off;
	if (at < a->pos || d->ino == 0)
		return DW_NEXT;
	if (a->fill(a->arg, d->name, d->namelen, d->ino, ft2dtype(d->type),
	    at + d->reclen) != 0) {
		a->stop = at;
		return DW_STOP;
	}
	return DW_NEXT;
}

int
ext2_readdir(struct ext2_inode *dp, uint64_t *offp, ext2_filldir_t fill,
    void *arg, int *eofp)
{
	struct ext2fs *fs = dp->i_fs;
	struct readdir_arg a = { fs, *offp, 0, fill, arg };
	int error;

	FS_LOCK(fs);
	*eofp = 0;
	if (!EXT2_ISDIR(dp->i_mode)) {
		FS_UNLOCK(fs);
		return ENOTDIR;
	}
	error = dir_walk(dp, a.pos >> fs->bshift, readdir_visit, &a, NULL);
	if (error == DW_STOP) {
		*offp = a.stop;
		error = 0;
	} else if (error == 0) {
		*offp = dp->i_size;
		*eofp = 1;
	}
	FS_UNLOCK(fs);
	return error;
}

static void
dir_modified(struct ext2_inode *dp)
{
	dp->i_flags &= ~EXT2_INDEX_FL;	/* the htree no longer matches */
	ext2_touch(dp, 1, 1);
}

struct add_arg {
	unsigned need;			/* record length of the new entry */
	unsigned off, used, reclen;	/* the entry to split or reuse */
};

static int
add_visit(void *arg, uint64_t lbn, unsigned off, const struct dent *d)
{
	struct add_arg *a = arg;
	unsigned used = d->ino ? EXT2_DIRENT_SIZE(d->namelen) : 0;
	(void)lbn;
	if (d->reclen - used < a->need)
		return DW_NEXT;
	a->off = off;
	a->used = used;
	a->reclen = d->reclen;
	return DW_HOLD;
}

/* Add an entry (name -> ino of type ft) to dp; the name must be absent. */
static int
dir_add(struct ext2_inode *dp, const char *name, size_t namelen,
    uint32_t ino, unsigned ft)
{
	struct ext2fs *fs = dp->i_fs;
	struct add_arg a = { .need = EXT2_DIRENT_SIZE(namelen) };
	uint64_t nblk;
	struct buf *bp;
	uint32_t pbn;
	int error, isnew;

	error = dir_walk(dp, 0, add_visit, &a, &bp);
	if (error == DW_HOLD) {
		unsigned off = a.off, reclen = a.reclen;
		if (a.used != 0) {
			/* Split: the old entry keeps what it uses. */
			ext2_put16(bp->b_data, off + 4, (uint16_t)a.used);
			off += a.used;
			reclen -= a.used;
		}
		dent_put(fs, bp->b_data, off, ino, reclen, name,
		    (unsigned)namelen, ft);
		bdwrite(bp);
		dir_modified(dp);
		return 0;
	}
	if (error != 0)
		return error;
	nblk = dp->i_size >> fs->bshift;
	/* No room: append a block. */
	if (dp->i_size + fs->bsize > 0xffffffffull)
		return EFBIG;
	error = ext2_bmap(dp, nblk, 1, &pbn, &isnew);
	if (error != 0)
		return error;
	error = getblk(fs->dev, pbn, &bp);
	if (error != 0)
		return error;
	memset(bp->b_data, 0, fs->bsize);
	dent_put(fs, bp->b_data, 0, ino, fs->bsize, name, (unsigned)namelen, ft);
	bdwrite(bp);
	dp->i_size += fs->bsize;
	dir_modified(dp);
	return 0;
}

/* Remove name from dp; its inode number in *inop. */
static int
dir_remove(struct ext2_inode *dp, const char *name, size_t namelen)
{
	struct buf *bp;
	unsigned off;
	int prev, error;
	struct dent d;

	error = dir_find(dp, name, namelen, &bp, &off, &prev, &d);
	if (error != 0)
		return error;
	if (prev >= 0) {
		unsigned pl = ext2_get16(bp->b_data, (unsigned)prev + 4);
		ext2_put16(bp->b_data, (unsigned)prev + 4,
		    (uint16_t)(pl + d.reclen));
	} else {
		ext2_put32(bp->b_data, off, 0);
	}
	bdwrite(bp);
	dir_modified(dp);
	return 0;
}

/* Point the existing entry name in dp at ino (rename over a target). */
static int
dir_set(struct ext2_inode *dp, const char *name, size_t namelen,
    uint32_t ino, unsigned ft)
{
	struct buf *bp;
	unsigned off;
	int prev, error;
	struct dent d;

	error = dir_find(dp, name, namelen, &bp, &off, &prev, &d);
	if (error != 0)
		return error;
	ext2_put32(bp->b_data, off, ino);
	if (dp->i_fs->incompat & EXT2_FINCOMPAT_FILETYPE)
		((uint8_t *)bp->b_data)[off + 7] = (uint8_t)ft;
	bdwrite(bp);
	dir_modified(dp);
	return 0;
}

static int
isempty_visit(void *arg, uint64_t lbn, unsigned off, const struct dent *d)
{
	(void)arg, (void)lbn, (void)off;
	if (d->ino == 0 || (d->namelen == 1 && d->name[0] == '.') ||
	    (d->namelen == 2 && d->name[0] == '.' && d->name[1] == '.'))
		return DW_NEXT;
	return DW_STOP;
}

/* 1 if dp holds only "." and "..", 0 if not; <0 never: errors via *errp. */
static int
dir_isempty(struct ext2_inode *dp, int *errp)
{
	int rv = dir_walk(dp, 0, isempty_visit, NULL, NULL);
	*errp = rv > 0 ? rv : 0;
	return rv != DW_STOP;
}

static int
check_name(const char *name, size_t namelen)
{
	if (namelen == 0)
		return ENOENT;
	if (namelen > EXT2_NAME_LEN)
		return ENAMETOOLONG;
	if ((namelen == 1 && name[0] == '.') ||
	    (namelen == 2 && name[0] == '.' && name[1] == '.'))
		return EINVAL;
	if (memchr(name, '/', namelen) != NULL || memchr(name, 0, namelen))
		return EINVAL;
	return 0;
}

/* Common start of create/mkdir/symlink: checks, inode allocation. */
static int
ext2_mknode(struct ext2_inode *dp, const char *name, size_t namelen,
    uint16_t mode, uint32_t uid, uint32_t gid, struct ext2_inode **ipp)
{
	struct ext2fs *fs = dp->i_fs;
	uint32_t ino;
	int error;

	if (fs->rdonly)
		return EROFS;
	if (!EXT2_ISDIR(dp->i_mode))
		return ENOTDIR;
	if (dp->i_nlink == 0)
		return ENOENT;
	if ((error = check_name(name, namelen)) != 0)
		return error;
	error = ext2_dirlookup(dp, name, namelen, &ino);
	if (error == 0)
		return EEXIST;
	if (error != ENOENT)
		return error;
	if (EXT2_ISDIR(mode) && dp->i_nlink >= EXT2_LINK_MAX)
		return EMLINK;
	error = ext2_ialloc(fs, dp->i_number, EXT2_ISDIR(mode), &ino);
	if (error != 0)
		return error;
	error = ext2_inew_l(fs, ino, mode, uid, gid, ipp);
	if (error != 0)
		ext2_ifree(fs, ino, EXT2_ISDIR(mode));
	return error;
}

/* Undo ext2_mknode: the inode dies at iput with link count 0. */
static void
ext2_mknode_undo(struct ext2_inode *ip)
{
	ip->i_nlink = 0;
	ext2_iput_l(ip);
}

int
ext2_create(struct ext2_inode *dp, const char *name, size_t namelen,
    uint32_t mode, uint32_t uid, uint32_t gid, struct ext2_inode **ipp)
{
	struct ext2fs *fs = dp->i_fs;
	struct ext2_inode *ip;
	int error;

	if ((mode & EXT2_S_IFMT) == 0)
		mode |= EXT2_S_IFREG;
	if (EXT2_ISDIR(mode) || EXT2_ISLNK(mode))
		return EINVAL;
	FS_LOCK(fs);
	error = ext2_mknode(dp, name, namelen, (uint16_t)mode, uid, gid, &ip);
	if (error == 0) {
		ip->i_nlink = 1;
		error = dir_add(dp, name, namelen, ip->i_number,
		    mode2ft(ip->i_mode));
		if (error != 0)
			ext2_mknode_undo(ip);
	}
	if (error == 0) {
		ext2_iupdate(ip);
		error = ext2_iupdate(dp);
		*ipp = ip;
	}
	FS_UNLOCK(fs);
	return error;
}

int
ext2_mkdir(struct ext2_inode *dp, const char *name, size_t namelen,
    uint32_t mode, uint32_t uid, uint32_t gid, struct ext2_inode **ipp)
{
	struct ext2fs *fs = dp->i_fs;
	struct ext2_inode *ip;
	struct buf *bp;
	uint32_t pbn;
	int error;

	FS_LOCK(fs);
	error = ext2_mknode(dp, name, namelen,
	    (uint16_t)(EXT2_S_IFDIR | (mode & 07777)), uid, gid, &ip);
	if (error != 0)
		goto out;
	ip->i_nlink = 2;
	error = ext2_bmap(ip, 0, 1, &pbn, NULL);
	if (error == 0)
		error = getblk(fs->dev, pbn, &bp);
	if (error != 0) {
		ip->i_nlink = 0;
		ext2_iput_l(ip);
		goto out;
	}
	memset(bp->b_data, 0, fs->bsize);
	dent_put(fs, bp->b_data, 0, ip->i_number, 12, ".", 1, EXT2_FT_DIR);
	dent_put(fs, bp->b_data, 12, dp->i_number, fs->bsize - 12, "..", 2,
	    EXT2_FT_DIR);
	bdwrite(bp);
	ip->i_size = fs->bsize;
	error = dir_add(dp, name, namelen, ip->i_number, EXT2_FT_DIR);
	if (error != 0) {
		ip->i_nlink = 0;
		ext2_iput_l(ip);
		goto out;
	}
	dp->i_nlink++;
	ext2_iupdate(ip);
	error = ext2_iupdate(dp);
	*ipp = ip;
out:
	FS_UNLOCK(fs);
	return error;
}

int
ext2_symlink(struct ext2_inode *dp, const char *name, size_t namelen,
    const char *target, uint32_t uid, uint32_t gid, struct ext2_inode **ipp)
{
	struct ext2fs *fs = dp->i_fs;
	size_t tlen = strlen(target), done;
	struct ext2_inode *ip;
	int error;

	if (tlen == 0)
		return ENOENT;
	if (tlen >= fs->bsize)
		return ENAMETOOLONG;
	FS_LOCK(fs);
	error = ext2_mknode(dp, name, namelen, EXT2_S_IFLNK | 0777, uid, gid,
	    &ip);
	if (error != 0)
		goto out;
	ip->i_nlink = 1;
	if (tlen < EXT2_FAST_SYMLINK_MAX) {
		uint8_t tmp[EXT2_FAST_SYMLINK_MAX];
		unsigned i;
		memset(tmp, 0, sizeof(tmp));
		memcpy(tmp, target, tlen);
		for (i = 0; i < EXT2_N_BLOCKS; i++)
			ip->i_block[i] = ext2_get32(tmp, 4 * i);
		ip->i_size = tlen;
	} else {
		error = ext2_write_l(ip, target, tlen, 0, &done);
		if (error == 0 && done != tlen)
			error = ENOSPC;
	}
	if (error == 0)
		error = dir_add(dp, name, namelen, ip->i_number,
		    EXT2_FT_SYMLINK);
	if (error != 0) {
		ext2_mknode_undo(ip);
		goto out;
	}
	ext2_iupdate(ip);
	error = ext2_iupdate(dp);
	*ipp = ip;
out:
	FS_UNLOCK(fs);
	return error;
}

int
ext2_link(struct ext2_inode *dp, const char *name, size_t namelen,
    struct ext2_inode *ip)
{
	struct ext2fs *fs = dp->i_fs;
	uint32_t ino;
	int error;

	FS_LOCK(fs);
	if (fs->rdonly)
		error = EROFS;
	else if (!EXT2_ISDIR(dp->i_mode))
		error = ENOTDIR;
	else if (EXT2_ISDIR(ip->i_mode))
		error = EPERM;
	else if (ip->i_nlink >= EXT2_LINK_MAX)
		error = EMLINK;
	else if (dp->i_nlink == 0 || ip->i_nlink == 0)
		error = ENOENT;
	else if ((error = check_name(name, namelen)) == 0) {
		error = ext2_dirlookup(dp, name, namelen, &ino);
		if (error == 0)
			error = EEXIST;
		else if (error == ENOENT)
			error = dir_add(dp, name, namelen, ip->i_number,
			    mode2ft(ip->i_mode));
	}
	if (error == 0) {
		ip->i_nlink++;
		ext2_touch(ip, 0, 1);
		ext2_iupdate(ip);
		error = ext2_iupdate(dp);
	}
	FS_UNLOCK(fs);
	return error;
}

static int
ext2_unlink_common(struct ext2_inode *dp, const char *name, size_t namelen,
    int wantdir)
{
	struct ext2fs *fs = dp->i_fs;
	struct ext2_inode *ip;
	uint32_t ino;
	int error, e2;

	if (fs->rdonly)
		return EROFS;
	if (!EXT2_ISDIR(dp->i_mode))
		return ENOTDIR;
	if ((error = check_name(name, namelen)) != 0)
		return error;
	if ((error = ext2_dirlookup(dp, name, namelen, &ino)) != 0)
		return error;
	if ((error = ext2_iget_l(fs, ino, &ip)) != 0)
		return error;
	if (wantdir && !EXT2_ISDIR(ip->i_mode))
		error = ENOTDIR;
	else if (!wantdir && EXT2_ISDIR(ip->i_mode))
		error = EISDIR;
	else if (wantdir && !dir_isempty(ip, &e2))
		error = ENOTEMPTY;
	else if (wantdir && e2 != 0)
		error = e2;
	if (error == 0)
		error = dir_remove(dp, name, namelen);
	if (error == 0) {
		if (wantdir) {
			ip->i_nlink = 0;
			if (dp->i_nlink > 1)
				dp->i_nlink--;
		} else if (ip->i_nlink > 0) {
			ip->i_nlink--;
		}
		ext2_touch(ip, 0, 1);
		ext2_iupdate(ip);
		error = ext2_iupdate(dp);
	}
	ext2_iput_l(ip);
	return error;
}

int
ext2_remove(struct ext2_inode *dp, const char *name, size_t namelen)
{
	int error;
	FS_LOCK(dp->i_fs);
	error = ext2_unlink_common(dp, name, namelen, 0);
	FS_UNLOCK(dp->i_fs);
	return error;
}

int
ext2_rmdir(struct ext2_inode *dp, const char *name, size_t namelen)
{
	int error;
	FS_LOCK(dp->i_fs);
	error = ext2_unlink_common(dp, name, namelen, 1);
	FS_UNLOCK(dp->i_fs);
	return error;
}

/* 1 if directory ino is dp or one of dp's ancestors. */
static int
ext2_is_ancestor(struct ext2fs *fs, uint32_t ino, struct ext2_inode *dp,
    int *errp)
{
	uint32_t cur = dp->i_number, up;
	struct ext2_inode *ip;
	int depth = 0;

	*errp = 0;
	while (cur != EXT2_ROOT_INO) {
		if (cur == ino)
			return 1;
		if (++depth > 4096) {
			ext2_corrupt(fs, "directory loop above inode %u",
			    dp->i_number);
			*errp = EIO;
			return 0;
		}
		if ((*errp = ext2_iget_l(fs, cur, &ip)) != 0)
			return 0;
		*errp = ext2_dirlookup(ip, "..", 2, &up);
		ext2_iput_l(ip);
		if (*errp != 0)
			return 0;
		cur = up;
	}
	return cur == ino;
}

int
ext2_rename(struct ext2_inode *fdp, const char *fname, size_t fnamelen,
    struct ext2_inode *tdp, const char *tname, size_t tnamelen)
{
	struct ext2fs *fs = fdp->i_fs;
	struct ext2_inode *fip = NULL, *tip = NULL;
	uint32_t fino, tino;
	int error, e2, isdir;

	FS_LOCK(fs);
	if (fs->rdonly) {
		error = EROFS;
		goto out;
	}
	if (!EXT2_ISDIR(fdp->i_mode) || !EXT2_ISDIR(tdp->i_mode)) {
		error = ENOTDIR;
		goto out;
	}
	if ((error = check_name(fname, fnamelen)) != 0 ||
	    (error = check_name(tname, tnamelen)) != 0)
		goto out;
	if ((error = ext2_dirlookup(fdp, fname, fnamelen, &fino)) != 0)
		goto out;
	if ((error = ext2_iget_l(fs, fino, &fip)) != 0)
		goto out;
	isdir = EXT2_ISDIR(fip->i_mode);
	/* A directory cannot move below itself (checked first, as POSIX
	 * systems do, before anything about the target). */
	if (isdir && fdp != tdp) {
		if (ext2_is_ancestor(fs, fino, tdp, &e2)) {
			error = EINVAL;
			goto out;
		}
		if ((error = e2) != 0)
			goto out;
	}
	error = ext2_dirlookup(tdp, tname, tnamelen, &tino);
	if (error == 0) {
		if (tino == fino) {	/* same file: nothing to do */
			error = 0;
			goto out;
		}
		if ((error = ext2_iget_l(fs, tino, &tip)) != 0)
			goto out;
		if (isdir && !EXT2_ISDIR(tip->i_mode)) {
			error = ENOTDIR;
			goto out;
		}
		if (!isdir && EXT2_ISDIR(tip->i_mode)) {
			error = EISDIR;
			goto out;
		}
		if (EXT2_ISDIR(tip->i_mode)) {
			if (!dir_isempty(tip, &e2)) {
				error = ENOTEMPTY;
				goto out;
			}
			if ((error = e2) != 0)
				goto out;
		}
	} else if (error != ENOENT) {
		goto out;
	}
	if (isdir && tip == NULL && fdp != tdp &&
	    tdp->i_nlink >= EXT2_LINK_MAX) {
		error = EMLINK;
		goto out;
	}
	/* New name first, so a failure leaves the old one in place. */
	if (tip != NULL)
		error = dir_set(tdp, tname, tnamelen, fino, mode2ft(fip->i_mode));
	else
		error = dir_add(tdp, tname, tnamelen, fino, mode2ft(fip->i_mode));
	if (error != 0)
		goto out;
	error = dir_remove(fdp, fname, fnamelen);
	if (error != 0)
		goto out;
	if (tip != NULL) {
		if (EXT2_ISDIR(tip->i_mode)) {
			tip->i_nlink = 0;
			if (tdp->i_nlink > 1)
				tdp->i_nlink--;	/* its ".." is gone */
		} else if (tip->i_nlink > 0) {
			tip->i_nlink--;
		}
		ext2_touch(tip, 0, 1);
		ext2_iupdate(tip);
	}
	if (isdir && fdp != tdp) {
		error = dir_set(fip, "..", 2, tdp->i_number, EXT2_FT_DIR);
		if (fdp->i_nlink > 1)
			fdp->i_nlink--;
		tdp->i_nlink++;
	}
	ext2_touch(fip, 0, 1);
	ext2_iupdate(fip);
	ext2_iupdate(fdp);
	if (tdp != fdp)
		ext2_iupdate(tdp);
out:
	if (tip != NULL)
		ext2_iput_l(tip);
	if (fip != NULL)
		ext2_iput_l(fip);
	FS_UNLOCK(fs);
	return error;
}

/* ---- path lookup for callers without a VFS ---- */

#define EXT2_MAXSYMLINKS 8

static int
namei_l(struct ext2fs *fs, const char *path, int follow, int depth,
    struct ext2_inode *start, struct ext2_inode **ipp)
{
	struct ext2_inode *dp, *ip;
	const char *p = path, *q;
	uint32_t ino;
	int error;

	if (*p == '/' || start == NULL) {
		error = ext2_iget_l(fs, EXT2_ROOT_INO, &dp);
		if (error != 0)
			return error;
	} else {
		dp = start;
		dp->i_refcnt++;
	}
	for (;;) {
		while (*p == '/')
			p++;
		if (*p == '\0') {
			*ipp = dp;
			return 0;
		}
		for (q = p; *q != '\0' && *q != '/'; q++)
			continue;
		if (!EXT2_ISDIR(dp->i_mode)) {
			ext2_iput_l(dp);
			return ENOTDIR;
		}
		if ((size_t)(q - p) > EXT2_NAME_LEN) {
			ext2_iput_l(dp);
			return ENAMETOOLONG;
		}
		if (q - p == 1 && p[0] == '.') {
			p = q;
			continue;
		}
		error = ext2_dirlookup(dp, p, (size_t)(q - p), &ino);
		if (error == 0)
			error = ext2_iget_l(fs, ino, &ip);
		if (error != 0) {
			ext2_iput_l(dp);
			return error;
		}
		if (EXT2_ISLNK(ip->i_mode) && (follow || *q != '\0')) {
			char target[4096];
			struct ext2_inode *res;
			size_t n;
			const char *rest = q;
			if (depth >= EXT2_MAXSYMLINKS) {
				ext2_iput_l(ip);
				ext2_iput_l(dp);
				return ELOOP;
			}
			error = ext2_readlink_l(ip, target, sizeof(target) - 1,
			    &n);
			ext2_iput_l(ip);
			if (error != 0) {
				ext2_iput_l(dp);
				return error;
			}
			target[n] = '\0';
			error = namei_l(fs, target, 1, depth + 1, dp, &res);
			ext2_iput_l(dp);
			if (error != 0)
				return error;
			dp = res;
			p = rest;
			continue;
		}
		ext2_iput_l(dp);
		dp = ip;
		p = q;
	}
}

int
ext2_namei(struct ext2fs *fs, const char *path, int follow,
    struct ext2_inode **ipp)
{
	int error;
	FS_LOCK(fs);
	error = namei_l(fs, path, follow, 0, NULL, ipp);
	FS_UNLOCK(fs);
	return error;
}

int
ext2_namei_parent(struct ext2fs *fs, const char *path,
    struct ext2_inode **dpp, const char **lastp, size_t *lastlenp)
{
	char dir[4096];
	size_t len = strlen(path), i, dlen;
	int error;

	while (len > 1 && path[len - 1] == '/')
		len--;
	if (len >= sizeof(dir))
		return ENAMETOOLONG;
	i = len;
	while (i > 0 && path[i - 1] != '/')
		i--;
	if (i == len)
		return EINVAL;		/* "/" or empty: no last component */
	*lastp = path + i;
	*lastlenp = len - i;
	dlen = i;
	memcpy(dir, path, dlen);
	dir[dlen] = '\0';
	FS_LOCK(fs);
	error = namei_l(fs, dlen ? dir : ".", 1, 0, NULL, dpp);
	if (error == 0 && !EXT2_ISDIR((*dpp)->i_mode)) {
		ext2_iput_l(*dpp);
		error = ENOTDIR;
	}
	FS_UNLOCK(fs);
	return error;
}
