# rumpdrv/fs/tmpfs: the memory file system component "tmpfs" (needs vfs).
noinst_LIBRARIES += rumpdrv/fs/tmpfs/librumpfs_tmpfs.a
rumpdrv_fs_tmpfs_librumpfs_tmpfs_a_CPPFLAGS = $(RUMPDRV_CPPFLAGS)
rumpdrv_fs_tmpfs_librumpfs_tmpfs_a_CFLAGS = $(RUMPDRV_CFLAGS)
rumpdrv_fs_tmpfs_librumpfs_tmpfs_a_SOURCES = rumpdrv/fs/tmpfs/tmpfs.c
RUMPDRV_LINK_TMPFS = -Wl,--whole-archive,rumpdrv/fs/tmpfs/librumpfs_tmpfs.a,--no-whole-archive
