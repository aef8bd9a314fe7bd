# tools/krank-fs: the ext2 image tool.  It boots kern + vfs + ext2 (over
# blk) in-process and works through krs_* calls.
bin_PROGRAMS += tools/krank-fs/krank-fs
tools_krank_fs_krank_fs_SOURCES = tools/krank-fs/krank-fs.c
tools_krank_fs_krank_fs_CPPFLAGS = $(AM_CPPFLAGS) -I$(srcdir)/rumpdrv/include
tools_krank_fs_krank_fs_LDFLAGS = $(RUMPDRV_LINK_EXT2) $(RUMPDRV_LINK_VFS) \
	$(RUMPDRV_LINK_KERN)
tools_krank_fs_krank_fs_LDADD = rumpdrv/dev/blk/librumpdev_blk.a \
	$(RUMPDRV_HYP_LIBS)
tools_krank_fs_krank_fs_DEPENDENCIES = $(RUMPDRV_EXT2_LIBS) \
	rumpdrv/vfs/librumpvfs.a rumpdrv/kern/librumpkern.a libkrank-hypercall.la
