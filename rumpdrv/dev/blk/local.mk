# rumpdrv/dev/blk: block device over rumpuser_bio with a buffer cache.
noinst_LIBRARIES += rumpdrv/dev/blk/librumpdev_blk.a
rumpdrv_dev_blk_librumpdev_blk_a_CPPFLAGS = $(RUMPDRV_CPPFLAGS)
rumpdrv_dev_blk_librumpdev_blk_a_CFLAGS = $(RUMPDRV_CFLAGS)
rumpdrv_dev_blk_librumpdev_blk_a_SOURCES = \
	rumpdrv/dev/blk/blk.h \
	rumpdrv/dev/blk/blk.c
