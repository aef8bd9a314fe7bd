# tools/krank-fs: the ext2 image tool, built on kern + blk + ext2.
bin_PROGRAMS += tools/krank-fs/krank-fs
tools_krank_fs_krank_fs_SOURCES = tools/krank-fs/krank-fs.c
tools_krank_fs_krank_fs_CPPFLAGS = $(AM_CPPFLAGS) -I$(srcdir)/rumpdrv \
	-I$(srcdir)/rumpdrv/include
tools_krank_fs_krank_fs_LDFLAGS = $(RUMPDRV_LINK_KERN)
tools_krank_fs_krank_fs_LDADD = $(RUMPDRV_EXT2_LIBS) $(RUMPDRV_HYP_LIBS)
tools_krank_fs_krank_fs_DEPENDENCIES = $(RUMPDRV_EXT2_LIBS) \
	rumpdrv/kern/librumpkern.a libkrank-hypercall.la
