# rumpdrv/fs/ext2: the read-write ext2 driver (inode-level core).
noinst_LIBRARIES += rumpdrv/fs/ext2/librumpfs_ext2.a
rumpdrv_fs_ext2_librumpfs_ext2_a_CPPFLAGS = $(RUMPDRV_CPPFLAGS)
rumpdrv_fs_ext2_librumpfs_ext2_a_CFLAGS = $(RUMPDRV_CFLAGS)
EXT2_CORE_SOURCES = \
	rumpdrv/fs/ext2/ext2.h \
	rumpdrv/fs/ext2/ext2_fs.h \
	rumpdrv/fs/ext2/ext2_int.h \
	rumpdrv/fs/ext2/ext2_vfsops.c \
	rumpdrv/fs/ext2/ext2_inode.c \
	rumpdrv/fs/ext2/ext2_dir.c
rumpdrv_fs_ext2_librumpfs_ext2_a_SOURCES = $(EXT2_CORE_SOURCES)

# Link line for a program using ext2 without the VFS (tools, tests).
RUMPDRV_EXT2_LIBS = rumpdrv/fs/ext2/librumpfs_ext2.a \
	rumpdrv/dev/blk/librumpdev_blk.a
# The component (VFS glue): programs that mount ext2 through krs_mount link
# the archive with --whole-archive so its registration is kept.
rumpdrv_fs_ext2_librumpfs_ext2_a_SOURCES += rumpdrv/fs/ext2/ext2_vnops.c
RUMPDRV_LINK_EXT2 = -Wl,--whole-archive,rumpdrv/fs/ext2/librumpfs_ext2.a,--no-whole-archive
