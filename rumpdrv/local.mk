# rumpdrv/: driver components on the hypercall layer.  Each component is a
# static archive; its registration sits in a linker set, so programs link
# the archives with --whole-archive (see RUMPDRV_LINK_* below).
RUMPDRV_CPPFLAGS = $(AM_CPPFLAGS) -I$(srcdir)/rumpdrv -I$(srcdir)/rumpdrv/include
RUMPDRV_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden -fPIC

kranksubinclude_HEADERS += rumpdrv/include/krank/krs.h \
	rumpdrv/include/krank/krs_net.h

include rumpdrv/kern/local.mk
include rumpdrv/vfs/local.mk
include rumpdrv/fs/tmpfs/local.mk
