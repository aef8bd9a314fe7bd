/*
 * ext2_fs.h - the ext2 on-disk format (revision 0 and 1): superblock,
 * group descriptor, inode and directory entry layouts as byte offsets, and
 * the feature flags.  Written from the format's documentation.  All fields
 * are little-endian; read and write them with the ext2_get/put helpers,
 * never by casting a disk buffer to a struct.
 */
#ifndef RUMPDRV_EXT2_FS_H
#define RUMPDRV_EXT2_FS_H

#include <stdint.h>
#include <string.h>

#define EXT2_SB_OFFSET		1024	/* byte offset of the superblock */
#define EXT2_SB_SIZE		1024
#define EXT2_MAGIC		0xEF53

/* Superblock field offsets. */
#define SB_INODES_COUNT		0
#define SB_BLOCKS_COUNT		4
#define SB_R_BLOCKS_COUNT	8
#define SB_FREE_BLOCKS		12
#define SB_FREE_INODES		16
#define SB_FIRST_DATA_BLOCK	20
#define SB_LOG_BLOCK_SIZE	24
#define SB_LOG_FRAG_SIZE	28
#define SB_BLOCKS_PER_GROUP	32
#define SB_FRAGS_PER_GROUP	36
#define SB_INODES_PER_GROUP	40
#define SB_MTIME		44
#define SB_WTIME		48
#define SB_MNT_COUNT		52	/* u16 */
#define SB_MAX_MNT_COUNT	54	/* u16 */
#define SB_MAGIC		56	/* u16 */
#define SB_STATE		58	/* u16 */
#define SB_ERRORS		60	/* u16 */
#define SB_REV_LEVEL		76
#define SB_FIRST_INO		84
#define SB_INODE_SIZE		88	/* u16 */
#define SB_FEATURE_COMPAT	92
#define SB_FEATURE_INCOMPAT	96
#define SB_FEATURE_RO_COMPAT	100
#define SB_VOLUME_NAME		120	/* 16 bytes */
#define SB_DESC_SIZE		254	/* u16, 64bit only */
#define SB_RESERVED_GDT_BLOCKS	206	/* u16, resize_inode */
#define SB_HASH_SEED		236
#define SB_BACKUP_BGS		588	/* 2 x u32, sparse_super2 */
#define SB_WANT_EXTRA_ISIZE	350	/* u16 */

#define EXT2_STATE_VALID	0x0001	/* cleanly unmounted */
#define EXT2_STATE_ERROR	0x0002

/* Features. */
#define EXT2_FCOMPAT_RESIZE_INODE	0x0010
#define EXT2_FCOMPAT_DIR_INDEX		0x0020
#define EXT2_FCOMPAT_SPARSE_SUPER2	0x0200
#define EXT2_FINCOMPAT_COMPRESSION	0x0001
#define EXT2_FINCOMPAT_FILETYPE		0x0002
#define EXT2_FINCOMPAT_RECOVER		0x0004
#define EXT2_FINCOMPAT_JOURNAL_DEV	0x0008
#define EXT2_FINCOMPAT_META_BG		0x0010
#define EXT2_FINCOMPAT_EXTENTS		0x0040
#define EXT2_FINCOMPAT_64BIT		0x0080
#define EXT2_FINCOMPAT_MMP		0x0100
#define EXT2_FINCOMPAT_FLEX_BG		0x0200
#define EXT2_FINCOMPAT_EA_INODE		0x0400
#define EXT2_FINCOMPAT_DIRDATA		0x1000
#define EXT2_FINCOMPAT_CSUM_SEED	0x2000
#define EXT2_FINCOMPAT_LARGEDIR		0x4000
#define EXT2_FINCOMPAT_INLINE_DATA	0x8000
#define EXT2_FINCOMPAT_ENCRYPT		0x10000
#define EXT2_FINCOMPAT_CASEFOLD		0x20000
#define EXT2_FROCOMPAT_SPARSE_SUPER	0x0001
#define EXT2_FROCOMPAT_LARGE_FILE	0x0002
#define EXT2_FROCOMPAT_BTREE_DIR	0x0004
#define EXT2_FROCOMPAT_HUGE_FILE	0x0008
#define EXT2_FROCOMPAT_GDT_CSUM		0x0010
#define EXT2_FROCOMPAT_DIR_NLINK	0x0020
#define EXT2_FROCOMPAT_EXTRA_ISIZE	0x0040
#define EXT2_FROCOMPAT_QUOTA		0x0100
#define EXT2_FROCOMPAT_BIGALLOC		0x0200
#define EXT2_FROCOMPAT_METADATA_CSUM	0x0400
#define EXT2_FROCOMPAT_READONLY		0x1000
#define EXT2_FROCOMPAT_PROJECT		0x2000

/* What this driver implements. */
#define EXT2_INCOMPAT_SUPP	EXT2_FINCOMPAT_FILETYPE
#define EXT2_ROCOMPAT_SUPP	(EXT2_FROCOMPAT_SPARSE_SUPER | \
				 EXT2_FROCOMPAT_LARGE_FILE)

/* Group descriptor (32 bytes). */
#define EXT2_GD_SIZE		32
#define GD_BLOCK_BITMAP		0
#define GD_INODE_BITMAP		4
#define GD_INODE_TABLE		8
#define GD_FREE_BLOCKS		12	/* u16 */
#define GD_FREE_INODES		14	/* u16 */
#define GD_USED_DIRS		16	/* u16 */

/* Inode. */
#define EXT2_GOOD_OLD_INODE_SIZE 128
#define EXT2_GOOD_OLD_FIRST_INO	11
#define EXT2_ROOT_INO		2
#define I_MODE			0	/* u16 */
#define I_UID			2	/* u16 */
#define I_SIZE			4
#define I_ATIME			8
#define I_CTIME			12
#define I_MTIME			16
#define I_DTIME			20
#define I_GID			24	/* u16 */
#define I_LINKS			26	/* u16 */
#define I_BLOCKS		28	/* 512-byte units */
#define I_FLAGS			32
#define I_BLOCK			40	/* 15 x u32 */
#define I_GENERATION		100
#define I_FILE_ACL		104
#define I_SIZE_HIGH		108
#define I_UID_HIGH		120	/* u16 */
#define I_GID_HIGH		122	/* u16 */
#define I_EXTRA_ISIZE		128	/* u16, large inodes */
#define I_CTIME_EXTRA		132
#define I_MTIME_EXTRA		136
#define I_ATIME_EXTRA		140
#define I_CRTIME		144
#define I_CRTIME_EXTRA		148

#define EXT2_NDADDR		12
#define EXT2_IND		12
#define EXT2_DIND		13
#define EXT2_TIND		14
#define EXT2_N_BLOCKS		15
#define EXT2_FAST_SYMLINK_MAX	60	/* bytes of target kept in i_block */
#define EXT2_LINK_MAX		32000

#define EXT2_INDEX_FL		0x00001000	/* htree-indexed directory */
#define EXT2_EXTENTS_FL		0x00080000
#define EXT2_INLINE_DATA_FL	0x10000000

/* Mode bits. */
#define EXT2_S_IFMT	0170000
#define EXT2_S_IFSOCK	0140000
#define EXT2_S_IFLNK	0120000
#define EXT2_S_IFREG	0100000
#define EXT2_S_IFBLK	0060000
#define EXT2_S_IFDIR	0040000
#define EXT2_S_IFCHR	0020000
#define EXT2_S_IFIFO	0010000
#define EXT2_ISDIR(m)	(((m) & EXT2_S_IFMT) == EXT2_S_IFDIR)
#define EXT2_ISREG(m)	(((m) & EXT2_S_IFMT) == EXT2_S_IFREG)
#define EXT2_ISLNK(m)	(((m) & EXT2_S_IFMT) == EXT2_S_IFLNK)

/* Directory entry: inode u32, rec_len u16, name_len u8, file_type u8. */
#define EXT2_DIRENT_HDR		8
#define EXT2_NAME_LEN		255
#define EXT2_DIRENT_SIZE(n)	((EXT2_DIRENT_HDR + (n) + 3) & ~3u)
#define EXT2_FT_UNKNOWN		0
#define EXT2_FT_REG_FILE	1
#define EXT2_FT_DIR		2
#define EXT2_FT_CHRDEV		3
#define EXT2_FT_BLKDEV		4
#define EXT2_FT_FIFO		5
#define EXT2_FT_SOCK		6
#define EXT2_FT_SYMLINK		7

/* Extended attribute block header. */
#define EXT2_EA_MAGIC		0xEA020000
#define EA_REFCOUNT		4

static inline uint16_t
ext2_get16(const void *p, unsigned off)
{
	const uint8_t *b = (const uint8_t *)p + off;
	return (uint16_t)(b[0] | b[1] << 8);
}

static inline uint32_t
ext2_get32(const void *p, unsigned off)
{
	const uint8_t *b = (const uint8_t *)p + off;
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
	    (uint32_t)b[3] << 24;
}

static inline void
ext2_put16(void *p, unsigned off, uint16_t v)
{
	uint8_t *b = (uint8_t *)p + off;
	b[0] = (uint8_t)v;
	b[1] = (uint8_t)(v >> 8);
}

static inline void
ext2_put32(void *p, unsigned off, uint32_t v)
{
	uint8_t *b = (uint8_t *)p + off;
	b[0] = (uint8_t)v;
	b[1] = (uint8_t)(v >> 8);
	b[2] = (uint8_t)(v >> 16);
	b[3] = (uint8_t)(v >> 24);
}

#endif /* RUMPDRV_EXT2_FS_H */
