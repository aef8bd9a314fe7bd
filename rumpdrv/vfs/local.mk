# rumpdrv/vfs: vnodes, lookup, mounts, descriptor tables, krs_ file calls.
noinst_LIBRARIES += rumpdrv/vfs/librumpvfs.a
rumpdrv_vfs_librumpvfs_a_CPPFLAGS = $(RUMPDRV_CPPFLAGS)
rumpdrv_vfs_librumpvfs_a_CFLAGS = $(RUMPDRV_CFLAGS)
rumpdrv_vfs_librumpvfs_a_SOURCES = \
	rumpdrv/vfs/vfs_driver.h \
	rumpdrv/vfs/vfs_int.h \
	rumpdrv/vfs/vfs_file.h \
	rumpdrv/vfs/vfs_vnode.c \
	rumpdrv/vfs/vfs_lookup.c \
	rumpdrv/vfs/vfs_mount.c \
	rumpdrv/vfs/vfs_descrip.c \
	rumpdrv/vfs/vfs_vnops.c \
	rumpdrv/vfs/vfs_syscalls.c \
	rumpdrv/vfs/vfs_chan.c
RUMPDRV_LINK_VFS = -Wl,--whole-archive,rumpdrv/vfs/librumpvfs.a,--no-whole-archive
