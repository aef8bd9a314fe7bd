# krank/: the KRANK process (krank) and its control client (krankctl).
# The parts are listed by the fragments beside them: krank/local_config.mk
# (KRK_CONFIG_SRCS, the deployment parser), krank/local_heap.mk
# (KRK_HEAP_SRCS), krank/local_sys.mk (KRK_SYS_SRCS, the isolates' system
# calls) and krank/local_ctl.mk (KRK_CTL_SRCS, the control socket, log).
KRK_CPPFLAGS = $(AM_CPPFLAGS) -I$(srcdir)/krank -I$(srcdir)/rumpdrv \
	-I$(srcdir)/rumpdrv/include -I$(srcdir)/loader/include \
	-I$(srcdir)/loader/libc
KRK_CORE_SRCS = krank/krk.h krank/krk_config.h krank/krk_boot.c \
	krank/krk_isolate.c
KRK_ALL_SRCS = $(KRK_CORE_SRCS) $(KRK_CONFIG_SRCS) $(KRK_HEAP_SRCS) \
	$(KRK_SYS_SRCS) $(KRK_CTL_SRCS)
KRK_LDFLAGS = $(RUMPDRV_LINK_NET) $(RUMPDRV_LINK_EXT2) \
	$(RUMPDRV_LINK_TMPFS) $(RUMPDRV_LINK_VFS)
KRK_LDADD = rumpdrv/dev/blk/librumpdev_blk.a libkrank-loader.la \
	$(RUMPDRV_HYP_LIBS) $(KRK_CONFIG_LIBS) $(KRK_CTL_LIBS)
KRK_DEPS = rumpdrv/net/librumpnet.a rumpdrv/fs/ext2/librumpfs_ext2.a \
	rumpdrv/fs/tmpfs/librumpfs_tmpfs.a rumpdrv/dev/blk/librumpdev_blk.a \
	rumpdrv/vfs/librumpvfs.a rumpdrv/kern/librumpkern.a \
	libkrank-hypercall.la libkrank-loader.la

bin_PROGRAMS += krank/krank
krank_krank_SOURCES = krank/krk_main.c $(KRK_ALL_SRCS)
krank_krank_CPPFLAGS = $(KRK_CPPFLAGS)
krank_krank_CFLAGS = $(AM_CFLAGS) $(YAML_CFLAGS)
krank_krank_LDFLAGS = $(KRK_LDFLAGS)
krank_krank_LDADD = $(KRK_LDADD)
krank_krank_DEPENDENCIES = $(KRK_DEPS)
