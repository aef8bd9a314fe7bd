# examples/httpd: a static-file HTTP/1.1 server on the KRANK stack, serving
# from tmpfs (a copied host tree) or a read-only ext2 image.
noinst_PROGRAMS += examples/httpd/httpd
examples_httpd_httpd_SOURCES = examples/httpd/httpd.c
examples_httpd_httpd_CPPFLAGS = $(AM_CPPFLAGS) -I$(srcdir)/rumpdrv \
	-I$(srcdir)/rumpdrv/include
examples_httpd_httpd_LDFLAGS = $(RUMPDRV_LINK_NET) $(RUMPDRV_LINK_EXT2) \
	$(RUMPDRV_LINK_TMPFS) $(RUMPDRV_LINK_VFS)
examples_httpd_httpd_LDADD = rumpdrv/dev/blk/librumpdev_blk.a \
	$(RUMPDRV_HYP_LIBS)
examples_httpd_httpd_DEPENDENCIES = rumpdrv/net/librumpnet.a \
	rumpdrv/fs/ext2/librumpfs_ext2.a rumpdrv/fs/tmpfs/librumpfs_tmpfs.a \
	rumpdrv/dev/blk/librumpdev_blk.a rumpdrv/vfs/librumpvfs.a \
	rumpdrv/kern/librumpkern.a libkrank-hypercall.la
